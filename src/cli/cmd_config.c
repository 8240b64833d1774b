/*
 * tkd config check|show|keys: validate a job file, print it resolved with
 * every default, or list the keys a job file may hold.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_word(tkd_job_type t) {
    static const char *w[] = {"object", "string", "int", "number", "bool", "array", "strings", "any"};
    return w[t];
}

int tkd_cmd_config(int argc, char **argv) {
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, NULL, &o);
    if (rc)
        return rc;
    const char *sub = o.n_pos ? o.pos[0] : "";
    if (!strcmp(sub, "keys")) {
        for (const tkd_job_key *k = tkd_job_schema; k->path; k++)
            printf("%-34s %-7s %-10s %s%s%s\n", k->path, type_word(k->type), k->def ? k->def : "(required)",
                   k->help, k->choices ? "; one of " : "", k->choices ? k->choices : "");
        return 0;
    }
    if (strcmp(sub, "check") && strcmp(sub, "show")) {
        tkd_cli_usage("config", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    o.n_pos--;
    memmove(o.pos, o.pos + 1, sizeof o.pos[0] * (size_t)o.n_pos);
    tkd_job job;
    if ((rc = tkd_cli_load_job(&o, &job)))
        return rc;
    if (!strcmp(sub, "check")) {
        printf("%s: ok (sha256 %.16s)\n", job.path, job.sha256);
    } else {
        char *s = tkd_job_dump(&job);
        printf("%s\n", s ? s : "");
        free(s);
    }
    tkd_job_free(&job);
    return 0;
}
