/*
 * tkd data import JOB.json [PATH ...]: problems from the job's data.sources
 * (and any extra JSONL files or folders given) into OUT/problems.h5.
 */
#include "cli.h"
#include "tkd/phases.h"
#include "tkd/store.h"

#include <stdio.h>
#include <string.h>

int tkd_cmd_data(int argc, char **argv) {
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, NULL, &o);
    if (rc)
        return rc;
    if (o.n_pos < 2 || strcmp(o.pos[0], "import")) {
        tkd_cli_usage("data", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    tkd_cli_opts jo = o;
    jo.n_pos = o.n_pos - 1;
    memmove(jo.pos, o.pos + 1, sizeof jo.pos[0] * (size_t)jo.n_pos);
    tkd_job job;
    if ((rc = tkd_cli_load_job(&jo, &job)))
        return rc;
    tkd_err e = {0};
    tkd_store_lock *lock = NULL; /* one run per output folder */
    rc = tkd_store_lock_take(tkd_job_str(&job, "output_dir"), "data import", tkd_job_num(&job, "store.lock_stale_s"),
                             &lock, &e);
    if (!rc)
        rc = tkd_phase_import(&job, jo.pos + 1, jo.n_pos - 1, &e);
    tkd_err le = {0};
    if (tkd_store_lock_release(lock, &le))
        tkd_log_warn("%s", le.msg);
    tkd_job_free(&job);
    return rc ? tkd_cli_fail(&e) : 0;
}
