/*
 * tkd data import JOB.json [PATH ...]: problems from the job's data.sources
 * (and any extra JSONL files or folders given) into OUT/problems.h5.
 */
#include "cli.h"
#include "tkd/phases.h"

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
    rc = tkd_phase_import(&job, jo.pos + 1, jo.n_pos - 1, &e);
    tkd_job_free(&job);
    return rc ? tkd_cli_fail(&e) : 0;
}
