/*
 * Argument handling shared by every subcommand: --set overrides, verbosity,
 * job-file loading with errors printed once, in one format.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tkd_cli_parse(int argc, char **argv, const char *const *keep, tkd_cli_opts *o) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--set") || !strncmp(a, "--set=", 6)) {
            const char *v = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                fprintf(stderr, "tkd: --set needs KEY=VALUE\n");
                return TKD_EXIT_USAGE;
            }
            if (o->n_sets == TKD_CLI_MAX_SETS) {
                fprintf(stderr, "tkd: too many --set options (at most %d)\n", TKD_CLI_MAX_SETS);
                return TKD_EXIT_USAGE;
            }
            o->sets[o->n_sets++] = v;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            tkd_log_set_level(TKD_LOG_DEBUG);
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            tkd_log_set_level(TKD_LOG_WARN);
        } else {
            if (o->n_pos == (int)(sizeof o->pos / sizeof o->pos[0])) {
                fprintf(stderr, "tkd: too many arguments\n");
                return TKD_EXIT_USAGE;
            }
            o->pos[o->n_pos++] = a;
            int is_kept = 0;
            for (const char *const *k = keep; k && *k; k++)
                is_kept |= !strcmp(a, *k);
            if (is_kept && i + 1 < argc && o->n_pos < (int)(sizeof o->pos / sizeof o->pos[0]))
                o->pos[o->n_pos++] = argv[++i];
        }
    }
    return 0;
}

int tkd_cli_fail(const tkd_err *e) {
    fprintf(stderr, "tkd: error: %s\n", e->msg[0] ? e->msg : tkd_strerror(e->code));
    return tkd_exit_code(e->code);
}

int tkd_cli_load_job(const tkd_cli_opts *o, tkd_job *job) {
    tkd_err e = {0};
    if (o->n_pos < 1) {
        fprintf(stderr, "tkd: missing the job file (JOB.json)\n");
        return TKD_EXIT_USAGE;
    }
    if (tkd_job_load(o->pos[0], o->sets, o->n_sets, job, &e)) {
        fprintf(stderr, "tkd: error: %s\n", e.msg);
        return TKD_EXIT_USAGE;
    }
    tkd_cli_job_env(job);
    return 0;
}

void tkd_cli_job_env(const tkd_job *job) {
    static const char *levels[] = {"debug", "info", "warn", "error"};
    const char *lvl = tkd_job_str(job, "log_level");
    if (tkd_log_get_level() == TKD_LOG_INFO) /* -v/-q on the command line win */
        for (int i = 0; i < 4; i++)
            if (!strcmp(lvl, levels[i]))
                tkd_log_set_level((tkd_log_level)i);
    if (!tkd_job_bool(job, "store.file_locking"))
        setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
}
