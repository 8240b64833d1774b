/* store: merge keeps every distinct (pid, sample, phase) once, the first seen,
 * byte for byte, and replaces OUT atomically; verify finds out-of-range text,
 * overlapping text, non-JSON text, duplicate keys and unknown statuses in a
 * file damaged with the HDF5 C API; export writes one JSON line per record. */
#include "store_fixture.h"
#include "tkd_test.h"

#include <hdf5.h>
#include <jansson.h>
#include <sys/stat.h>

static char *dir;

/* Shard with fixture rows [from, to), each text tagged with the shard's tag. */
static int make_shard(const char *path, size_t from, size_t to, tkd_phase phase, int tag) {
    tkd_store_meta m = {phase, tag, 0, "{\"job\":1}", NULL, "{\"m\":1}"};
    tkd_store *s;
    tkd_err e = {0};
    if (tkd_store_create(path, &m, &s, &e))
        return -1;
    for (size_t i = from; i < to; i++) {
        char t[128];
        int n = snprintf(t, sizeof t, "{\"i\":%zu,\"tag\":%d,\"u\":\"\xe2\x88\x91\"}", i, tag);
        tkd_record r = fx_record(i, phase);
        if (tkd_store_append(s, &r, t, (size_t)n, &e))
            return -1;
    }
    return tkd_store_close(s, &e);
}

static json_t *row_text(tkd_store *s, size_t row, tkd_record *r) {
    char *t = NULL;
    tkd_err e = {0};
    if (tkd_store_read(s, row, r, &e) || tkd_store_read_text(s, r, &t, &e))
        return NULL;
    json_t *j = json_loads(t, 0, NULL);
    free(t);
    return j;
}

TEST(merge) {
    char *sh = fx_path(dir, "shards");
    char *out = fx_path(dir, "merged.h5");
    char p[600];
    snprintf(p, sizeof p, "%s/r00000.a0.h5", sh);
    CHECK_INT(make_shard(p, 0, 300, TKD_PHASE_SOLVE, 0), 0);
    snprintf(p, sizeof p, "%s/r00001.a0.h5", sh);
    CHECK_INT(make_shard(p, 200, 500, TKD_PHASE_SOLVE, 1), 0);
    snprintf(p, sizeof p, "%s/r00000.a1.h5", sh); /* same keys as a0, later attempt */
    CHECK_INT(make_shard(p, 0, 100, TKD_PHASE_SOLVE, 2), 0);
    snprintf(p, sizeof p, "%s/r00002.a0.h5", sh); /* same pids, other phase: kept */
    CHECK_INT(make_shard(p, 0, 50, TKD_PHASE_EVAL, 3), 0);
    tkd_store_merge_stats st;
    tkd_err e = {0};
    for (int round = 0; round < 2; round++) { /* the second merge replaces the first */
        CHECK_INT(tkd_store_merge(sh, out, &st, &e), 0);
        CHECK_INT(st.shards, 4);
        CHECK_INT(st.rows_in, 300 + 300 + 100 + 50);
        CHECK_INT(st.rows_out, 550);
        CHECK_INT(st.duplicates, 200);
        struct stat sb;
        CHECK(stat(out, &sb) == 0 && (uint64_t)sb.st_size == st.bytes_out);
    }
    tkd_store *s;
    CHECK_INT(tkd_store_open(out, &s, &e), 0);
    CHECK_INT(tkd_store_count(s), 550);
    int seen[500] = {0}, eval = 0, ok = 1;
    for (size_t row = 0; row < 550; row++) {
        tkd_record r;
        json_t *j = row_text(s, row, &r);
        size_t i = (size_t)json_integer_value(json_object_get(j, "i"));
        int tag = (int)json_integer_value(json_object_get(j, "tag"));
        tkd_record want = fx_record(i, (tkd_phase)r.phase);
        ok &= j && i < 500 && r.pid == want.pid && r.sample == want.sample && r.status == want.status &&
              r.prompt_tokens == want.prompt_tokens;
        ok &= !strcmp(json_string_value(json_object_get(j, "u")), "\xe2\x88\x91");
        if (r.phase == TKD_PHASE_EVAL) {
            ok &= tag == 3;
            eval++;
        } else if (i < 500) {
            ok &= tag == (i < 300 ? 0 : 1); /* the first shard in name order wins */
            seen[i]++;
        }
        json_decref(j);
    }
    CHECK(ok);
    CHECK_INT(eval, 50);
    int once = 1;
    for (int i = 0; i < 500; i++)
        once &= seen[i] == 1;
    CHECK(once);
    char *a;
    CHECK_INT(tkd_store_attr(s, "phase", &a, &e), 0);
    CHECK_STR(a, "mixed");
    free(a);
    CHECK_INT(tkd_store_attr(s, "job", &a, &e), 0);
    CHECK_STR(a, "{\"job\":1}");
    free(a);
    CHECK_INT(tkd_store_attr(s, "merged_from", &a, &e), 0);
    CHECK(a && strstr(a, "r00000.a1.h5") && !strstr(a, "merged.h5") && !strstr(a, "damaged"));
    free(a);
    CHECK_INT(tkd_store_close(s, &e), 0);
    size_t problems = 9;
    CHECK_INT(tkd_store_verify(out, &problems, &e), 0);
    CHECK_INT(problems, 0);
    /* no temporary file is left beside OUT */
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
    CHECK(system(cmd) != 0);

    /* export */
    char *jl = fx_path(dir, "traces.jsonl");
    size_t rows = 0;
    CHECK_INT(tkd_store_export(out, "traces", jl, &rows, &e), 0);
    CHECK_INT(rows, 550);
    FILE *f = fopen(jl, "r");
    char line[4096];
    size_t lines = 0;
    int good = 1;
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        json_t *t = json_object_get(j, "text");
        const char *phase = json_string_value(json_object_get(j, "phase"));
        good &= j && json_is_object(t) && phase && (!strcmp(phase, "solve") || !strcmp(phase, "eval"));
        good &= strlen(json_string_value(json_object_get(j, "pid"))) == 16;
        good &= json_is_string(json_object_get(j, "status")) && json_is_integer(json_object_get(j, "prompt_tokens"));
        json_decref(j);
        lines++;
    }
    if (f)
        fclose(f);
    CHECK(good);
    CHECK_INT(lines, 550);
    CHECK_INT(tkd_store_export(out, "problems", jl, &rows, &e), 0);
    CHECK_INT(rows, 0);
    CHECK_INT(tkd_store_export(out, "bogus", jl, &rows, &e), TKD_EINVAL);
    free(jl);

    /* bad inputs: nothing is written */
    char *empty = fx_path(dir, "empty");
    mkdir(empty, 0755);
    char *o2 = fx_path(dir, "o2.h5");
    CHECK_INT(tkd_store_merge(empty, o2, &st, &e), TKD_ENOTFOUND);
    char *missing = fx_path(dir, "missing");
    CHECK_INT(tkd_store_merge(missing, o2, &st, &e), TKD_ENOTFOUND);
    snprintf(p, sizeof p, "%s/r00005.a0.h5", empty);
    f = fopen(p, "wb");
    fputs("garbage garbage garbage", f);
    fclose(f);
    CHECK_INT(tkd_store_merge(empty, o2, &st, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "r00005.a0.h5") != NULL && strstr(e.msg, "--skip-damaged") != NULL);
    tkd_store_merge_opts skip = {0, 1}; /* the only shard left out: nothing to merge */
    CHECK_INT(tkd_store_merge_with(empty, o2, &skip, &st, &e), TKD_ENOTFOUND);
    CHECK_INT(st.skipped_shards, 1);
    struct stat sb;
    CHECK(stat(o2, &sb) != 0);
    free(empty);
    free(o2);
    free(missing);
    free(sh);
    free(out);
}

/* Overwrite row `row` of /records in a closed file. */
static int poke(const char *path, size_t row, const tkd_record *r) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "records", H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    hid_t fs = H5Dget_space(d);
    hsize_t start = row, n = 1;
    hid_t ms = H5Screate_simple(1, &n, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &n, NULL);
    herr_t rc = H5Dwrite(d, t, ms, fs, H5P_DEFAULT, r); /* the file type is the struct layout */
    H5Sclose(ms);
    H5Sclose(fs);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(f);
    return rc < 0 ? -1 : 0;
}

static void collect(void *ctx, const char *msg) {
    tkd_buf *b = ctx;
    tkd_buf_puts(b, msg);
    tkd_buf_putc(b, '\n');
}

TEST(verify) {
    char *path = fx_path(dir, "damaged.h5");
    CHECK_INT(make_shard(path, 0, 40, TKD_PHASE_SOLVE, 0), 0);
    tkd_store *s;
    tkd_err e = {0};
    tkd_record r[40];
    CHECK_INT(tkd_store_open(path, &s, &e), 0);
    CHECK_INT(tkd_store_read_many(s, 0, 40, r, &e), 0);
    uint64_t tsize = tkd_store_text_size(s);
    CHECK_INT(tkd_store_close(s, &e), 0);
    tkd_record bad = r[5];
    bad.text_off = tsize - 3; /* past the end */
    CHECK_INT(poke(path, 5, &bad), 0);
    bad = r[9];
    bad.pid = r[8].pid; /* duplicate key of row 8 */
    bad.sample = r[8].sample;
    CHECK_INT(poke(path, 9, &bad), 0);
    bad = r[20];
    bad.text_off = r[19].text_off + 1; /* inside row 19's text: overlaps, not JSON */
    bad.status = 200;
    CHECK_INT(poke(path, 20, &bad), 0);
    size_t problems = 0;
    tkd_buf report;
    tkd_buf_init(&report);
    CHECK_INT(tkd_store_verify_report(path, collect, &report, &problems, &e), TKD_EFORMAT);
    CHECK_INT(problems, 5);
    CHECK(strstr(e.msg, "row 5: text range") != NULL); /* the first problem */
    CHECK(report.data && strstr(report.data, "row 9: duplicate key"));
    CHECK(report.data && strstr(report.data, "row 20: unknown status 200"));
    CHECK(report.data && strstr(report.data, "row 20: text range") && strstr(report.data, "overlaps"));
    CHECK(report.data && strstr(report.data, "row 20: text is not JSON"));
    tkd_buf_free(&report);
    /* readers refuse the bad range, merge stops on it */
    CHECK_INT(tkd_store_open(path, &s, &e), 0);
    char *t = NULL;
    CHECK_INT(tkd_store_read(s, 5, &bad, &e), 0);
    CHECK_INT(tkd_store_read_text(s, &bad, &t, &e), TKD_EFORMAT);
    CHECK(t == NULL);
    CHECK_INT(tkd_store_close(s, &e), 0);
    /* unreadable input: an error, no problem count */
    char *missing = fx_path(dir, "missing.h5");
    CHECK_INT(tkd_store_verify(missing, &problems, &e), TKD_ENOTFOUND);
    CHECK_INT(problems, 0);
    free(missing);
    free(path);
}

int main(void) {
    dir = fx_tmpdir();
    if (!dir)
        return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(merge);
    RUN(verify);
    fx_rmrf(dir);
    free(dir);
    return TEST_END();
}
