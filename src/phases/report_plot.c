/*
 * The report's plots: the numbers of report.json written as whitespace-
 * separated data files beside the report, and the gnuplot scripts of
 * analysis/ (one per plot, run in the report folder) turning them into PNGs.
 * The scripts are found in $TKD_ANALYSIS_DIR, else the source tree's
 * analysis/ folder. Without gnuplot the report is written without plots and
 * a line says so.
 */
#include "report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TKD_ANALYSIS_DIR
#define TKD_ANALYSIS_DIR "analysis"
#endif

/* A label gnuplot reads as one token: spaces become underscores, quotes go. */
static void put_label(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++)
        fputc(*s == '"' ? '\'' : *s, f);
    fputc('"', f);
}

static FILE *open_dat(const char *dir, const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return fopen(p, "w");
}

/* Run `gnuplot SCRIPT` in dir; 0 when it made its PNG. */
static int run_gnuplot(const char *dir, const char *script) {
    const char *adir = getenv("TKD_ANALYSIS_DIR");
    char path[4096], def[4200];
    adir = adir && *adir ? adir : TKD_ANALYSIS_DIR;
    snprintf(path, sizeof path, "%s/%s", adir, script);
    snprintf(def, sizeof def, "adir='%s'", adir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(127);
        execlp("gnuplot", "gnuplot", "-e", def, path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_funnel(FILE *f, json_t *fun) {
    static const char *const stages[][2] = {{"problems", "problems"},
                                            {"solve_traces", "traces"},
                                            {"solve_correct", "correct"},
                                            {"backtranslate_traces", "back-translated"},
                                            {"backtranslate_kept", "accepted"}};
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        json_t *v = json_object_get(fun, stages[i][0]);
        if (v) {
            put_label(f, stages[i][1]);
            fprintf(f, " %lld\n", (long long)json_integer_value(v));
        }
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(fun, "export"), k, v) {
        char lab[160];
        snprintf(lab, sizeof lab, "exported %s", k);
        put_label(f, lab);
        fprintf(f, " %lld\n", (long long)(json_integer_value(json_object_get(v, "train")) +
                                          json_integer_value(json_object_get(v, "valid"))));
    }
}

int report_plots(json_t *r, const char *dir, tkd_buf *md, tkd_err *e) {
    (void)e;
    struct {
        const char *dat, *script;
        int have;
    } plots[] = {{"funnel.dat", "funnel.gp", 1},
                 {"solve_subject.dat", "solve_subject.gp", json_object_get(r, "solve") != NULL},
                 {"bt_acceptance.dat", "bt_acceptance.gp", json_object_get(r, "backtranslate") != NULL},
                 {"eval.dat", "eval_accuracy.gp", json_object_get(r, "eval") != NULL},
                 {"eval.dat", "eval_tokens.gp", json_object_get(r, "eval") != NULL},
                 {"train.dat", "train_loss.gp", json_object_get(r, "train") != NULL}};
    const char *k, *k2;
    json_t *v, *v2;
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++) {
        if (!plots[i].have || (i > 0 && !strcmp(plots[i].dat, plots[i - 1].dat)))
            continue;
        FILE *f = open_dat(dir, plots[i].dat);
        if (!f)
            return tkd_err_set(e, TKD_EIO, "report: cannot write %s/%s", dir, plots[i].dat);
        switch (i) {
        case 0: write_funnel(f, json_object_get(r, "funnel")); break;
        case 1:
            json_object_foreach(json_object_get(json_object_get(r, "solve"), "by_subject"), k, v) {
                json_int_t n = json_integer_value(json_object_get(v, "samples"));
                put_label(f, k);
                fprintf(f, " %.6f\n", n ? 100.0 * (double)json_integer_value(json_object_get(v, "correct")) / (double)n : 0.0);
            }
            break;
        case 2:
            json_object_foreach(json_object_get(json_object_get(r, "backtranslate"), "tools"), k, v) {
                put_label(f, k);
                fprintf(f, " %lld %lld %lld %lld\n", (long long)json_integer_value(json_object_get(v, "first_attempt")),
                        (long long)json_integer_value(json_object_get(v, "after_retries")),
                        (long long)json_integer_value(json_object_get(v, "kept_as_fact")),
                        (long long)json_integer_value(json_object_get(v, "rejected")));
            }
            break;
        case 3:
            json_object_foreach(json_object_get(json_object_get(r, "eval"), "arms"), k, v)
                json_object_foreach(json_object_get(v, "benchmarks"), k2, v2) {
                char lab[256];
                snprintf(lab, sizeof lab, "%s/%s", k, k2);
                json_t *ci = json_object_get(v2, "ci95");
                put_label(f, lab);
                fprintf(f, " %.6f %.6f %.6f %.3f\n", 100 * json_number_value(json_object_get(v2, "accuracy")),
                        100 * json_number_value(json_array_get(ci, 0)), 100 * json_number_value(json_array_get(ci, 1)),
                        json_number_value(json_object_get(v2, "mean_response_tokens")));
            }
            break;
        case 5: {
            size_t j;
            json_array_foreach(json_object_get(json_object_get(r, "train"), "curve"), j, v)
                fprintf(f, "%lld %.9g %.9g\n", (long long)json_integer_value(json_array_get(v, 0)),
                        json_number_value(json_array_get(v, 1)), json_number_value(json_array_get(v, 2)));
            break;
        }
        }
        fclose(f);
    }
    int missing = 0;
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++)
        if (plots[i].have && run_gnuplot(dir, plots[i].script) != 0)
            missing++;
    if (missing)
        tkd_buf_printf(md, "\n_%d plot(s) could not be drawn: is gnuplot installed (Debian: gnuplot-nox)? The data "
                           "files are beside this report._\n",
                       missing);
    return 0;
}
