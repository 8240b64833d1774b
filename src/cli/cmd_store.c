/*
 * tkd store info|merge|export|verify: look into a trace store, merge the
 * shards of a folder into one file, export records as JSON lines, check a
 * file's soundness. Exit codes: 0 ok, 1 failure (verify: problems found),
 * 2 bad usage or an unreadable, missing or garbage input, or a merge refused
 * (OUT is a folder, one of its inputs, no store, a store of another run or
 * phase; a shard cut short without --skip-damaged).
 */
#include "cli.h"
#include "tkd/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    tkd_cli_usage("store", NULL, stderr);
    return TKD_EXIT_USAGE;
}

/* counts[phase][status]; phases 0..9, status TKD_ST_COUNT is "unknown" */
#define INFO_PHASES 10

static int info(const char *path) {
    tkd_err e = {0};
    tkd_store *s;
    if (tkd_store_open(path, &s, &e))
        return tkd_cli_fail(&e);
    static const char *keys[] = {"schema_version", "tkd_version", "git_commit", "created",     "phase",
                                 "rank",           "attempt",     "job_sha256", "merged_from", "manifest"};
    printf("%-15s %s\n", "path", path);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *v = NULL;
        if (tkd_store_attr(s, keys[i], &v, NULL) == 0)
            printf("%-15s %s\n", keys[i], v[0] ? v : "-");
        free(v);
    }
    size_t n = tkd_store_count(s);
    printf("%-15s %zu\n", "records", n);
    printf("%-15s %llu\n", "text_bytes", (unsigned long long)tkd_store_text_size(s));
    size_t counts[INFO_PHASES + 1][TKD_ST_COUNT + 1];
    memset(counts, 0, sizeof counts);
    tkd_record recs[256];
    int rc = 0;
    for (size_t row = 0; row < n; row += 256) {
        size_t k = n - row < 256 ? n - row : 256;
        if ((rc = tkd_store_read_many(s, row, k, recs, &e)))
            break;
        for (size_t j = 0; j < k; j++) {
            unsigned p = recs[j].phase < INFO_PHASES ? recs[j].phase : INFO_PHASES;
            unsigned st = recs[j].status < TKD_ST_COUNT ? recs[j].status : TKD_ST_COUNT;
            counts[p][st]++;
        }
    }
    tkd_store_close(s, NULL);
    if (rc)
        return tkd_cli_fail(&e);
    printf("counts:\n  %-14s %-12s %10s\n", "phase", "status", "rows");
    for (unsigned p = 0; p <= INFO_PHASES; p++)
        for (unsigned st = 0; st <= TKD_ST_COUNT; st++)
            if (counts[p][st])
                printf("  %-14s %-12s %10zu\n", p < INFO_PHASES ? tkd_phase_name((tkd_phase)p) : "unknown",
                       st < TKD_ST_COUNT ? tkd_status_name((tkd_status)st) : "unknown", counts[p][st]);
    return 0;
}

/* tkd store merge DIR OUT [--force] [--skip-damaged] (flags anywhere) */
static int merge(const tkd_cli_opts *o) {
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    tkd_store_merge_opts mo = {0, 0};
    for (int i = 1; i < o->n_pos; i++) {
        if (!strcmp(o->pos[i], "--force"))
            mo.force = 1;
        else if (!strcmp(o->pos[i], "--skip-damaged"))
            mo.skip_damaged = 1;
        else if (o->pos[i][0] == '-' || npos == 2)
            return usage();
        else
            pos[npos++] = o->pos[i];
    }
    if (npos != 2)
        return usage();
    const char *dir = pos[0], *out = pos[1];
    tkd_err e = {0};
    tkd_store_merge_stats st;
    double t0 = tkd_now();
    if (tkd_store_merge_with(dir, out, &mo, &st, &e))
        return tkd_cli_fail(&e);
    double dt = tkd_now() - t0;
    printf("merged %zu shards: %zu rows in, %zu out, %zu duplicates dropped; %s: %llu bytes in %.2f s\n", st.shards,
           st.rows_in, st.rows_out, st.duplicates, out, (unsigned long long)st.bytes_out, dt);
    if (st.damaged_rows || st.skipped_shards)
        printf("skipped (--skip-damaged): %zu damaged rows of shards cut short, %zu unreadable shards; a re-run of the "
               "phase redoes them\n",
               st.damaged_rows, st.skipped_shards);
    return 0;
}

static void print_problem(void *ctx, const char *msg) {
    fprintf(stderr, "%s: %s\n", (const char *)ctx, msg);
}

static int verify(const char *path) {
    tkd_err e = {0};
    size_t problems = 0;
    int rc = tkd_store_verify_report(path, print_problem, (void *)path, &problems, &e);
    if (problems) {
        fprintf(stderr, "tkd: %s: %zu problem%s found\n", path, problems, problems == 1 ? "" : "s");
        return TKD_EXIT_FAIL;
    }
    if (rc)
        return tkd_cli_fail(&e);
    printf("%s: ok\n", path);
    return 0;
}

static int export(const tkd_cli_opts *o) {
    const char *what = NULL, *out = NULL, *path = NULL;
    for (int i = 1; i < o->n_pos; i++) {
        if (!strcmp(o->pos[i], "--what") && i + 1 < o->n_pos)
            what = o->pos[++i];
        else if (!strcmp(o->pos[i], "--jsonl") && i + 1 < o->n_pos)
            out = o->pos[++i];
        else if (!path && o->pos[i][0] != '-')
            path = o->pos[i];
        else
            return usage();
    }
    if (!path || !out)
        return usage();
    tkd_err e = {0};
    size_t rows = 0;
    if (tkd_store_export(path, what ? what : "traces", out, &rows, &e))
        return tkd_cli_fail(&e);
    if (strcmp(out, "-"))
        fprintf(stderr, "tkd: exported %zu records to %s\n", rows, out);
    return 0;
}

int tkd_cmd_store(int argc, char **argv) {
    static const char *const keep[] = {"--what", "--jsonl", NULL};
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, keep, &o);
    if (rc)
        return rc;
    const char *sub = o.n_pos ? o.pos[0] : "";
    if (!strcmp(sub, "info") && o.n_pos == 2)
        return info(o.pos[1]);
    if (!strcmp(sub, "merge"))
        return merge(&o);
    if (!strcmp(sub, "verify") && o.n_pos == 2)
        return verify(o.pos[1]);
    if (!strcmp(sub, "export"))
        return export(&o);
    return usage();
}
