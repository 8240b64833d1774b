/*
 * tkd config check|show|keys: validate a job file (and, with --phase, what
 * those phases check when they start), print it resolved with every
 * default, or list the keys a job file may hold.
 */
#include "cli.h"
#include "tkd/phases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_word(tkd_job_type t) {
    static const char *w[] = {"object", "string", "int", "number", "bool", "array", "strings", "any"};
    return w[t];
}

#define MAX_PHASES 16

int tkd_cmd_config(int argc, char **argv) {
    static const char *const keep[] = {"--phase", NULL};
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, keep, &o);
    if (rc)
        return rc;
    /* --phase NAME[,NAME...], repeatable: taken out of the positional arguments */
    char phase_buf[1024] = "";
    const char *phase[MAX_PHASES];
    int n_phase = 0, n = 0;
    for (int i = 0; i < o.n_pos; i++) {
        if (strcmp(o.pos[i], "--phase")) {
            o.pos[n++] = o.pos[i];
            continue;
        }
        if (i + 1 == o.n_pos) {
            fprintf(stderr, "tkd: --phase needs a phase name (e.g. --phase data,solve)\n");
            return TKD_EXIT_USAGE;
        }
        size_t at = strlen(phase_buf);
        snprintf(phase_buf + at, sizeof phase_buf - at, "%s%s", at ? "," : "", o.pos[++i]);
    }
    o.n_pos = n;
    char *save = NULL;
    for (char *t = strtok_r(phase_buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (n_phase == MAX_PHASES) {
            fprintf(stderr, "tkd: at most %d phases\n", MAX_PHASES);
            return TKD_EXIT_USAGE;
        }
        phase[n_phase++] = t;
    }
    const char *sub = o.n_pos ? o.pos[0] : "";
    if (!strcmp(sub, "keys")) {
        for (const tkd_job_key *k = tkd_job_schema; k->path; k++)
            printf("%-34s %-7s %-10s %s%s%s\n", k->path, type_word(k->type), k->def ? k->def : "(required)",
                   k->help, k->choices ? "; one of " : "", k->choices ? k->choices : "");
        return 0;
    }
    if (!strcmp(sub, "sbatch")) { /* tkd config sbatch JOB.json PHASE: the phase's sbatch options */
        if (o.n_pos != 3) {
            tkd_cli_usage("config", NULL, stderr);
            return TKD_EXIT_USAGE;
        }
        const char *ph = o.pos[2];
        o.n_pos = 1;
        o.pos[0] = o.pos[1];
        tkd_job job;
        if ((rc = tkd_cli_load_job(&o, &job)))
            return rc;
        tkd_buf b;
        tkd_buf_init(&b);
        tkd_err e = {0};
        rc = tkd_slurm_options(&job, ph, &b, &e);
        if (!rc)
            printf("%s\n", b.len ? b.data : "");
        tkd_buf_free(&b);
        tkd_job_free(&job);
        return rc ? tkd_cli_fail(&e) : 0;
    }
    if ((strcmp(sub, "check") && strcmp(sub, "show")) || (n_phase && strcmp(sub, "check"))) {
        tkd_cli_usage("config", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    o.n_pos--;
    memmove(o.pos, o.pos + 1, sizeof o.pos[0] * (size_t)o.n_pos);
    tkd_job job;
    if ((rc = tkd_cli_load_job(&o, &job)))
        return rc;
    if (!strcmp(sub, "check")) {
        tkd_err e = {0};
        if (n_phase && tkd_phase_check(&job, phase, n_phase, &e)) {
            tkd_job_free(&job);
            return tkd_cli_fail(&e);
        }
        printf("%s: ok (sha256 %.16s)", job.path, job.sha256);
        for (int i = 0; i < n_phase; i++)
            printf("%s%s", i ? ", " : "; ready for ", phase[i]);
        printf("\n");
    } else {
        char *s = tkd_job_dump(&job);
        printf("%s\n", s ? s : "");
        free(s);
    }
    tkd_job_free(&job);
    return 0;
}
