/*
 * tkd export JOB.json [--set KEY=VALUE ...]: the SFT export phase, one
 * process. Prints the funnel of each variant (records in, dropped by stage,
 * train and valid lines) on stdout.
 */
#include "cli.h"

#include "tkd/phases.h"
#include "tkd/store.h"

#include <stdio.h>

int tkd_cmd_export(int argc, char **argv) {
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, NULL, &o);
    if (rc)
        return rc;
    if (o.n_pos != 1) {
        fprintf(stderr, "usage: tkd export JOB.json [--set KEY=VALUE ...] [-v|-q]\n");
        return TKD_EXIT_USAGE;
    }
    tkd_job job;
    if ((rc = tkd_cli_load_job(&o, &job)))
        return rc;
    tkd_cli_job_env(&job);
    tkd_export_summary s;
    tkd_err e = {0}, le = {0};
    tkd_store_lock *lock = NULL; /* one run per output folder */
    rc = tkd_store_lock_take(tkd_job_str(&job, "output_dir"), "export", tkd_job_num(&job, "store.lock_stale_s"),
                             &lock, &e);
    if (!rc)
        rc = tkd_export_run(&job, &s, &e);
    if (tkd_store_lock_release(lock, &le))
        tkd_log_warn("%s", le.msg);
    if (rc) {
        tkd_job_free(&job);
        return tkd_cli_fail(&e);
    }
    printf("%-16s", "stage");
    for (int v = 0; v < s.n; v++)
        printf(" %10s", s.v[v].name);
    printf("\n%-16s", "records in");
    for (int v = 0; v < s.n; v++)
        printf(" %10zu", s.v[v].records_in);
    for (int k = 0; k < TKD_EXPORT_STAGES; k++) {
        printf("\n- %-14s", tkd_export_stage_name(k));
        for (int v = 0; v < s.n; v++)
            printf(" %10zu", s.v[v].dropped[k]);
    }
    printf("\n%-16s", "= train");
    for (int v = 0; v < s.n; v++)
        printf(" %10zu", s.v[v].train);
    printf("\n%-16s", "= valid");
    for (int v = 0; v < s.n; v++)
        printf(" %10zu", s.v[v].valid);
    printf("\n");
    size_t recs = 0;
    for (int v = 0; v < s.n; v++)
        recs += s.v[v].records_in;
    const char *od = tkd_job_str(&job, "export.out_dir");
    tkd_log_info("export: %zu records in %.2f s (%.0f records/s); %zu benchmark problems indexed; wrote %s%s", recs,
                 s.seconds, s.seconds > 0 ? (double)recs / s.seconds : 0.0, s.bench_problems,
                 *od ? od : tkd_job_str(&job, "output_dir"), *od ? "" : "/sft");
    tkd_job_free(&job);
    return 0;
}
