/*
 * tkd run JOB.json [--from PHASE] [--to PHASE] [-n RANKS] [--set KEY=VALUE ...]
 *
 * The whole chain on one machine: each phase in order, as its own process
 * (`mpirun -n RANKS tkd PHASE JOB.json` for the MPI phases when RANKS > 1,
 * else `tkd PHASE JOB.json`), skipping the phases whose completion marker is
 * current, so a re-run of a finished run sends no request and rewrites no
 * store, and a run stopped anywhere resumes where it stopped. A phase's exit
 * code ends the chain unless it is 0; 3 (stopped, resumable) is passed
 * through. SIGTERM, SIGUSR1 and SIGINT are forwarded to the running phase
 * (to mpirun as SIGUSR1: see forward()); after one, no later phase starts.
 * The launcher is $TKD_MPIRUN (default "mpirun"), split at spaces.
 */
#include "cli.h"

#include "tkd/phases.h"

#include <jansson.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct run_phase {
    const char *name;
    const char *const *cmd; /* the tkd subcommand words */
    int mpi;                /* launched with mpirun when RANKS > 1 */
} run_phase;

static const char *const cmd_import[] = {"data", "import", NULL};
static const char *const cmd_solve[] = {"solve", NULL};
static const char *const cmd_bt[] = {"backtranslate", NULL};
static const char *const cmd_export[] = {"export", NULL};
static const char *const cmd_train[] = {"train", NULL};
static const char *const cmd_eval[] = {"eval", NULL};
static const char *const cmd_report[] = {"report", NULL};

static const run_phase chain[] = {
    {"import", cmd_import, 0}, {"solve", cmd_solve, 1}, {"backtranslate", cmd_bt, 1}, {"export", cmd_export, 0},
    {"train", cmd_train, 1},   {"eval", cmd_eval, 1},   {"report", cmd_report, 0},
};
#define N_CHAIN ((int)(sizeof chain / sizeof chain[0]))
#define RUN_MAX_ARGS 160

static volatile sig_atomic_t child_pid, child_mpi, stops;

/* A stop signal for the running phase. mpirun ends its job at a TERM or INT
 * and exits 1, not the ranks' 3; it passes USR1 on, which every phase takes
 * as the same clean stop. So the first stop goes to mpirun as USR1, and a
 * second one as it came (a second ^C ends the phase at once). */
static void forward(int sig) {
    stops++;
    if (child_pid > 0)
        kill((pid_t)child_pid, child_mpi && stops == 1 ? SIGUSR1 : sig);
}

static int phase_index(const char *name) {
    for (int i = 0; i < N_CHAIN; i++)
        if (!strcmp(chain[i].name, name))
            return i;
    return -1;
}

/* Run argv as a child (mpi: argv is the MPI launcher), forwarding the stop
 * signals; its exit code. */
static int run_child(char **argv, int mpi) {
    if (stops) /* a stop before the child started: it does not start */
        return TKD_EXIT_STOPPED;
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "tkd: error: run: cannot start %s: %s\n", argv[0], strerror(errno));
        return TKD_EXIT_FAIL;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "tkd: error: run: cannot run %s: %s (set TKD_MPIRUN for another launcher)\n", argv[0],
                strerror(errno));
        _exit(TKD_EXIT_FAIL);
    }
    child_mpi = mpi;
    child_pid = pid;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    child_pid = 0;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    fprintf(stderr, "tkd: error: run: %s ended by signal %d\n", argv[0], WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return TKD_EXIT_FAIL;
}

int tkd_cmd_run(int argc, char **argv) {
    const char *from = chain[0].name, *to = chain[N_CHAIN - 1].name;
    int ranks = 1;
    char *rest[RUN_MAX_ARGS];
    int n_rest = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--from") || !strcmp(a, "--to") || !strcmp(a, "-n")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "-n")) {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 1000000) {
                    fprintf(stderr, "tkd: error: run: -n wants a number of ranks >= 1, not '%s'\n", v);
                    return TKD_EXIT_USAGE;
                }
                ranks = (int)n;
            } else if (phase_index(v) < 0) {
                fprintf(stderr, "tkd: error: run: %s: unknown phase '%s' (phases: import solve backtranslate "
                                "export train eval report)\n", a, v);
                return TKD_EXIT_USAGE;
            } else if (!strcmp(a, "--from")) {
                from = v;
            } else {
                to = v;
            }
        } else if (n_rest < RUN_MAX_ARGS - 16) {
            rest[n_rest++] = argv[i];
        }
    }
    tkd_cli_opts o;
    int rc = tkd_cli_parse(n_rest, rest, NULL, &o);
    if (rc)
        return rc;
    if (o.n_pos != 1) {
        fprintf(stderr, "usage: tkd run JOB.json [--from PHASE] [--to PHASE] [-n RANKS] [--set KEY=VALUE ...]\n");
        return TKD_EXIT_USAGE;
    }
    int first = phase_index(from), last = phase_index(to);
    if (first > last) {
        fprintf(stderr, "tkd: error: run: --from %s comes after --to %s\n", from, to);
        return TKD_EXIT_USAGE;
    }
    tkd_job job;
    if ((rc = tkd_cli_load_job(&o, &job)))
        return rc;
    tkd_cli_job_env(&job);

    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        fprintf(stderr, "tkd: error: run: cannot find the tkd executable: %s\n", strerror(errno));
        tkd_job_free(&job);
        return TKD_EXIT_FAIL;
    }
    self[sl] = '\0';
    const char *launcher = getenv("TKD_MPIRUN");
    char *lwords = strdup(launcher && *launcher ? launcher : "mpirun");
    char nbuf[16];
    snprintf(nbuf, sizeof nbuf, "%d", ranks);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    double t0 = tkd_now();
    int code = 0;
    for (int i = first; i <= last && code == 0 && lwords; i++) {
        const run_phase *p = &chain[i];
        tkd_err e = {0};
        if (stops) { /* stopped between two phases: the next one does not start */
            tkd_log_info("run: stopped by a signal before %s: run `tkd run %s` again to resume", p->name, o.pos[0]);
            code = TKD_EXIT_STOPPED;
            break;
        }
        if (tkd_phase_is_complete(&job, p->name, &e)) {
            tkd_log_info("run: %s: complete, skipped", p->name);
            continue;
        }
        char *args[RUN_MAX_ARGS];
        int n = 0;
        char *words = NULL;
        if (p->mpi && ranks > 1) {
            words = strdup(lwords);
            for (char *w = strtok(words, " "); w && n < 8; w = strtok(NULL, " "))
                args[n++] = w;
            args[n++] = "-n";
            args[n++] = nbuf;
        }
        args[n++] = self;
        for (int k = 0; p->cmd[k]; k++)
            args[n++] = (char *)p->cmd[k];
        args[n++] = (char *)o.pos[0];
        for (int k = 0; k < o.n_sets && n < RUN_MAX_ARGS - 3; k++) {
            args[n++] = "--set";
            args[n++] = (char *)o.sets[k];
        }
        args[n] = NULL;
        tkd_log_info("run: %s: starting (%s%s)", p->name, p->mpi && ranks > 1 ? "mpirun -n " : "one process",
                     p->mpi && ranks > 1 ? nbuf : "");
        double t = tkd_now();
        code = run_child(args, p->mpi && ranks > 1);
        free(words);
        if (code == 0)
            tkd_log_info("run: %s: done in %.1f s", p->name, tkd_now() - t);
        else if (code == TKD_EXIT_STOPPED)
            tkd_log_info("run: %s: stopped early (exit 3): run `tkd run %s` again to resume", p->name, o.pos[0]);
        else
            tkd_log_error("run: %s: failed with exit %d; fix it and run `tkd run %s --from %s`", p->name, code,
                          o.pos[0], p->name);
    }
    if (!lwords) {
        fprintf(stderr, "tkd: error: run: out of memory\n");
        code = TKD_EXIT_FAIL;
    }
    if (code == 0)
        tkd_log_info("run: %s to %s finished in %.1f s; outputs under %s", from, to, tkd_now() - t0,
                     tkd_job_str(&job, "output_dir"));
    free(lwords);
    tkd_job_free(&job);
    return code;
}

int tkd_cmd_report(int argc, char **argv) {
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, NULL, &o);
    if (rc)
        return rc;
    if (o.n_pos != 1) {
        fprintf(stderr, "usage: tkd report JOB.json|SWEEP_DIR/sweep.json|SWEEP_DIR [--set KEY=VALUE ...]\n");
        return TKD_EXIT_USAGE;
    }
    /* a sweep: its plan, or the folder holding it */
    char plan[4096];
    struct stat st;
    snprintf(plan, sizeof plan, "%s/sweep.json", o.pos[0]);
    size_t pl = strlen(o.pos[0]);
    if (stat(plan, &st) == 0 || (pl >= 10 && !strcmp(o.pos[0] + pl - 10, "sweep.json") &&
                                 snprintf(plan, sizeof plan, "%s", o.pos[0]) > 0)) {
        tkd_err e = {0};
        return tkd_phase_report_sweep(plan, &e) ? tkd_cli_fail(&e) : 0;
    }
    tkd_job job;
    if ((rc = tkd_cli_load_job(&o, &job)))
        return rc;
    tkd_cli_job_env(&job);
    tkd_err e = {0};
    rc = tkd_phase_report(&job, &e);
    tkd_job_free(&job);
    return rc ? tkd_cli_fail(&e) : 0;
}

/* tkd sweep BASE.json SWEEP.json [--out DIR] [--run [-n RANKS] [--to PHASE]] */
int tkd_cmd_sweep(int argc, char **argv) {
    const char *pos[2] = {NULL, NULL}, *out = NULL, *ranks = NULL, *to = NULL;
    int np = 0, run = 0, stages = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--stages"))
            stages = 1;
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            ranks = argv[++i];
        else if (!strcmp(argv[i], "--to") && i + 1 < argc)
            to = argv[++i];
        else if (!strcmp(argv[i], "--run"))
            run = 1;
        else if (argv[i][0] != '-' && np < 2)
            pos[np++] = argv[i];
        else
            np = 3;
    }
    if (np == 1 && stages) { /* the plan as lines for slurm/submit.sh --sweep */
        json_t *doc = json_load_file(pos[0], 0, NULL);
        if (!json_is_object(doc)) {
            fprintf(stderr, "tkd: error: %s is not a sweep plan (tkd sweep writes DIR/sweep.json)\n", pos[0]);
            json_decref(doc);
            return TKD_EXIT_USAGE;
        }
        static const char *const order[] = {"data", "solve", "backtranslate", "export", "train", "eval"};
        static const char *const stage_of[] = {"import", "solve", "backtranslate", "export", "train", "eval"};
        size_t i;
        json_t *arm;
        for (int p = 0; p < 6; p++)
            json_array_foreach(json_object_get(doc, "arms"), i, arm)
                printf("%s %s %s %s\n", order[p],
                       json_string_value(json_object_get(json_object_get(arm, "stages"), stage_of[p])),
                       json_string_value(json_object_get(arm, "name")), json_string_value(json_object_get(arm, "job")));
        json_decref(doc);
        return 0;
    }
    if (np != 2) {
        fprintf(stderr, "usage: tkd sweep BASE.json SWEEP.json [--out DIR] [--run [-n RANKS] [--to PHASE]]\n"
                        "       tkd sweep --stages DIR/sweep.json   (PHASE STAGE ARM JOB per line, for submit.sh)\n");
        return TKD_EXIT_USAGE;
    }
    tkd_err e = {0};
    char *plan = NULL;
    if (tkd_sweep_plan(pos[0], pos[1], out, &plan, &e))
        return tkd_cli_fail(&e);
    json_t *doc = json_load_file(plan, 0, NULL);
    size_t i;
    json_t *arm;
    printf("sweep: %s: %zu arms\n", plan, json_array_size(json_object_get(doc, "arms")));
    json_array_foreach(json_object_get(doc, "arms"), i, arm) {
        printf("  %-28s %s\n", json_string_value(json_object_get(arm, "name")),
               json_string_value(json_object_get(arm, "job")));
    }
    int code = 0;
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = '\0';
    json_array_foreach(json_object_get(doc, "arms"), i, arm) {
        if (!run || code)
            break;
        char *args[10] = {self, "run", (char *)json_string_value(json_object_get(arm, "job"))};
        int n = 3;
        if (ranks) {
            args[n++] = "-n";
            args[n++] = (char *)ranks;
        }
        if (to) {
            args[n++] = "--to";
            args[n++] = (char *)to;
        }
        tkd_log_info("sweep: arm %s", json_string_value(json_object_get(arm, "name")));
        code = run_child(args, 0);
    }
    if (!run)
        printf("run every arm here: tkd sweep %s %s --run [-n RANKS]; each arm alone: tkd run ARM.json\n", pos[0],
               pos[1]);
    json_decref(doc);
    free(plan);
    return code;
}
