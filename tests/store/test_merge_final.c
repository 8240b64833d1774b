/* store: merge keeps a final row over a transient one. A sample that ended
 * api_error in one run and was redone by the next (the done-set counts only
 * final statuses) has two rows; the merged file holds the redone one, even
 * when the api_error row comes first in name order, and keeps an api_error
 * row only for a sample that has nothing better. */
#include "store_fixture.h"
#include "tkd_test.h"

#include <hdf5.h>
#include <jansson.h>
#include <sys/stat.h>

static char *dir;

/* Rows [from, to) with status st, texts tagged with tag. */
static int shard(const char *path, size_t from, size_t to, tkd_status st, int tag) {
    tkd_store_meta m = {TKD_PHASE_SOLVE, 0, tag, "{\"job\":1}", NULL, "{\"m\":1}"};
    tkd_store *s;
    tkd_err e = {0};
    if (tkd_store_create(path, &m, &s, &e))
        return -1;
    for (size_t i = from; i < to; i++) {
        char t[64];
        int n = snprintf(t, sizeof t, "{\"i\":%zu,\"tag\":%d}", i, tag);
        tkd_record r = {0};
        r.pid = tkd_hash64(&i, sizeof i);
        r.phase = TKD_PHASE_SOLVE;
        r.status = (uint8_t)st;
        if (tkd_store_append(s, &r, t, (size_t)n, &e))
            return -1;
    }
    return tkd_store_close(s, &e);
}

TEST(final_wins) {
    char *sh = fx_path(dir, "shards"), *out = fx_path(dir, "merged.h5");
    char p[600];
    mkdir(sh, 0755);
    snprintf(p, sizeof p, "%s/r00000.a0.h5", sh); /* the first run: samples 0..19 api_error */
    CHECK_INT(shard(p, 0, 20, TKD_ST_API_ERROR, 0), 0);
    snprintf(p, sizeof p, "%s/r00000.a1.h5", sh); /* the re-run redid 0..9 */
    CHECK_INT(shard(p, 0, 10, TKD_ST_CORRECT, 1), 0);
    snprintf(p, sizeof p, "%s/r00001.a1.h5", sh); /* and 10..13 on another rank */
    CHECK_INT(shard(p, 10, 14, TKD_ST_WRONG, 2), 0);
    tkd_store_merge_stats st;
    tkd_err e = {0};
    CHECK_INT(tkd_store_merge(sh, out, &st, &e), 0);
    CHECK_INT(st.shards, 3);
    CHECK_INT(st.rows_in, 20 + 10 + 4);
    CHECK_INT(st.rows_out, 20);
    CHECK_INT(st.duplicates, 14);
    tkd_store *s;
    CHECK_INT(tkd_store_open(out, &s, &e), 0);
    if (!s)
        return;
    int ok = 1, rows = (int)tkd_store_count(s);
    for (int row = 0; row < rows; row++) {
        tkd_record r;
        char *t = NULL;
        CHECK_INT(tkd_store_read(s, (size_t)row, &r, &e), 0);
        CHECK_INT(tkd_store_read_text(s, &r, &t, &e), 0);
        json_t *j = json_loads(t ? t : "", 0, NULL);
        int i = (int)json_integer_value(json_object_get(j, "i")),
            tag = (int)json_integer_value(json_object_get(j, "tag"));
        int want_tag = i < 10 ? 1 : i < 14 ? 2 : 0;
        int want_st = i < 10 ? TKD_ST_CORRECT : i < 14 ? TKD_ST_WRONG : TKD_ST_API_ERROR;
        ok &= tag == want_tag && r.status == want_st;
        json_decref(j);
        free(t);
    }
    CHECK(ok);
    CHECK_INT(rows, 20);
    tkd_store_close(s, &e);
    free(sh);
    free(out);
}

int main(void) {
    dir = fx_tmpdir();
    if (!dir)
        return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(final_wins);
    fx_rmrf(dir);
    free(dir);
    return TEST_END();
}
