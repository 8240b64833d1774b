/*
 * store: merge the shards of a folder into one file. The output is written
 * under a temporary name beside OUT, fsynced, then renamed over OUT (and the
 * folder fsynced), so OUT is either the old file or the complete new one.
 * Rows are keyed by (pid, sample, phase); a row with a final status
 * (tkd_status_is_final) wins over a transient one (an api_error redone by a
 * later run), else the first one seen wins, in the order of the shard names
 * (r00000.a0 < r00000.a1 < r00001.a0 ...) and of the rows within a shard. Shards are read in blocks: the rows of a
 * block point at one contiguous span of text, read with one HDF5 call.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rows per flush of the merged file (not SWMR: a flush only writes). */
#define MERGE_FLUSH_ROWS 8192
/* Largest text span read in one call; a block over it is read row by row. */
#define MERGE_SPAN_MAX ((uint64_t)64 << 20)

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int fsync_path(const char *path, int dir, tkd_err *e) {
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0)
        return tkd_err_set(e, TKD_EIO, "cannot open '%s' to sync it: %s", path, strerror(errno));
    int r = fsync(fd);
    close(fd);
    if (r != 0 && !dir)
        return tkd_err_set(e, TKD_EIO, "cannot sync '%s': %s", path, strerror(errno));
    return 0;
}

/* Copy the rows of one open shard into out, dropping known keys: on pass 0
 * the rows with a final status (counting the others in *transient), on pass
 * 1 the others. */
static int merge_one(tkd_store *in, tkd_store *out, store_keyset *seen, tkd_record *recs, tkd_buf *span,
                     tkd_store_merge_stats *st, int pass, size_t *transient, tkd_err *e) {
    size_t cnt = tkd_store_count(in);
    uint64_t tsize = tkd_store_text_size(in);
    int rc = 0;
    for (size_t row = 0; row < cnt; row += STORE_READ_BLOCK) {
        size_t k = cnt - row < STORE_READ_BLOCK ? cnt - row : STORE_READ_BLOCK;
        if ((rc = store_read_rows(in, row, k, recs, e)))
            return rc;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (size_t j = 0; j < k; j++) {
            const tkd_record *r = &recs[j];
            if (r->text_off > tsize || r->text_len > tsize - r->text_off)
                return tkd_err_set(e, TKD_EFORMAT,
                                   "row %zu of '%s' points at text [%llu, +%llu) beyond its %llu bytes (run `tkd "
                                   "store verify` on it)",
                                   row + j, tkd_store_path(in), (unsigned long long)r->text_off,
                                   (unsigned long long)r->text_len, (unsigned long long)tsize);
            if (r->text_off < lo)
                lo = r->text_off;
            if (r->text_off + r->text_len > hi)
                hi = r->text_off + r->text_len;
        }
        int whole = hi > lo && hi - lo <= MERGE_SPAN_MAX;
        if (whole) {
            tkd_buf_reset(span);
            if (tkd_buf_reserve(span, (size_t)(hi - lo)))
                return tkd_err_set(e, TKD_ENOMEM, "out of memory merging '%s'", tkd_store_path(in));
            if ((rc = store_read_bytes(in, lo, hi - lo, span->data, e)))
                return rc;
        }
        for (size_t j = 0; j < k; j++) {
            tkd_record r = recs[j];
            if (tkd_status_is_final(r.status) != !pass) {
                *transient += !pass;
                continue;
            }
            st->rows_in++;
            int added = store_keyset_add(seen, r.pid, ((uint64_t)r.sample << 8) | r.phase);
            if (added < 0)
                return tkd_err_set(e, TKD_ENOMEM, "out of memory merging '%s'", tkd_store_path(in));
            if (!added) {
                st->duplicates++;
                continue;
            }
            if (whole) {
                rc = tkd_store_append(out, &r, span->data + (r.text_off - lo), (size_t)r.text_len, e);
            } else {
                char *t;
                if ((rc = tkd_store_read_text(in, &r, &t, e)))
                    return rc;
                rc = tkd_store_append(out, &r, t, (size_t)r.text_len, e);
                free(t);
            }
            if (rc)
                return rc;
            st->rows_out++;
        }
    }
    return 0;
}

/* Phase (returns 1 when the shards hold several) and the job, job_sha256 and
 * manifest of the first shard, for the merged file's attributes. */
static int read_meta(char **shards, size_t n, const char *out, tkd_store_meta *meta, char **strs, tkd_err *e) {
    int rc = 0, mixed = 0, have = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!shards[i])
            continue;
        tkd_store *s;
        if ((rc = tkd_store_open(shards[i], &s, e)))
            return tkd_err_wrap(e, "merge into '%s'", out);
        char *phase = NULL;
        if (tkd_store_attr(s, "phase", &phase, NULL) == 0) {
            int p = tkd_phase_parse(phase);
            if (!have && p >= 0)
                meta->phase = (tkd_phase)p;
            else if (p < 0 || (tkd_phase)p != meta->phase)
                mixed = 1;
            have = 1;
        }
        free(phase);
        if (!strs[0]) { /* job, job_sha256, manifest of the first shard */
            static const char *names[3] = {"job", "job_sha256", "manifest"};
            for (int k = 0; k < 3 && !rc; k++)
                if (tkd_store_attr(s, names[k], &strs[k], e) == TKD_ENOMEM)
                    rc = TKD_ENOMEM;
        }
        tkd_store_close(s, NULL);
    }
    meta->job_text = strs[0];
    meta->job_sha256 = strs[1];
    meta->manifest_json = strs[2];
    return rc ? rc : mixed;
}

int tkd_store_merge(const char *dir, const char *out, tkd_store_merge_stats *st, tkd_err *e) {
    tkd_store_merge_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    char **shards;
    size_t n;
    int rc = store_list_h5(dir, 0, &shards, &n, e);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) /* never read the file being replaced */
        if (same_file(shards[i], out)) {
            free(shards[i]);
            shards[i] = NULL;
        }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    tkd_store_meta meta = {TKD_PHASE_PROBLEM, -1, -1, NULL, NULL, NULL};
    char *strs[3] = {NULL, NULL, NULL};
    tkd_store *o = NULL;
    store_keyset seen;
    store_keyset_init(&seen);
    tkd_record *recs = NULL;
    tkd_buf span;
    tkd_buf_init(&span);
    json_t *from = json_array();
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        live += shards[i] != NULL;
    if (!live) {
        rc = tkd_err_set(e, TKD_ENOTFOUND, "nothing to merge: no *.h5 shards in '%s'", dir);
        goto done;
    }
    int mixed = read_meta(shards, n, out, &meta, strs, e);
    if (mixed < 0) {
        rc = mixed;
        goto done;
    }
    remove(tmp);
    if ((rc = store_create_plain(tmp, &meta, &o, e)))
        goto done;
    tkd_store_set_flush_every(o, MERGE_FLUSH_ROWS);
    if (!from || !(recs = tkd_malloc(STORE_READ_BLOCK * sizeof *recs, e))) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory merging '%s'", dir);
        goto done;
    }
    size_t transient = 0, *rows_of = tkd_calloc(n, sizeof *rows_of, e);
    if (!rows_of) {
        rc = TKD_ENOMEM;
        goto done;
    }
    for (int pass = 0; pass < 2 && !rc && (pass == 0 || transient); pass++)
        for (size_t i = 0; i < n && !rc; i++) {
            if (!shards[i])
                continue;
            tkd_store *in;
            if ((rc = tkd_store_open(shards[i], &in, e)))
                break;
            size_t before = st->rows_in;
            rc = merge_one(in, o, &seen, recs, &span, st, pass, &transient, e);
            rows_of[i] += st->rows_in - before;
            tkd_store_close(in, NULL);
            st->shards += !pass;
        }
    for (size_t i = 0; i < n && !rc; i++) {
        const char *base = shards[i] ? strrchr(shards[i], '/') : NULL;
        if (shards[i])
            json_array_append_new(
                from, json_pack("{s:s, s:I}", "file", base ? base + 1 : shards[i], "rows", (json_int_t)rows_of[i]));
    }
    free(rows_of);
    if (rc)
        goto done;
    char *fj = json_dumps(from, JSON_COMPACT);
    if (!fj) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory merging '%s'", dir);
        goto done;
    }
    rc = store_put_attr_str(o->file, "merged_from", fj, tmp, e);
    free(fj);
    if (!rc && mixed && H5Adelete(o->file, "phase") >= 0)
        rc = store_put_attr_str(o->file, "phase", "mixed", tmp, e);
    if (rc)
        goto done;
    rc = tkd_store_close(o, e);
    o = NULL;
    if (rc || (rc = fsync_path(tmp, 0, e)))
        goto done;
    if (rename(tmp, out) != 0) {
        rc = tkd_err_set(e, TKD_EIO, "cannot rename '%s' to '%s': %s", tmp, out, strerror(errno));
        goto done;
    }
    char *slash = strrchr(out, '/');
    if (slash) {
        char d[PATH_MAX];
        snprintf(d, sizeof d, "%.*s", (int)(slash - out), out);
        fsync_path(slash == out ? "/" : d, 1, NULL);
    } else {
        fsync_path(".", 1, NULL);
    }
    struct stat sb;
    if (stat(out, &sb) == 0)
        st->bytes_out = (uint64_t)sb.st_size;
done:
    if (o) {
        tkd_store_close(o, NULL);
    }
    if (rc)
        remove(tmp);
    json_decref(from);
    free(recs);
    tkd_buf_free(&span);
    store_keyset_free(&seen);
    for (int k = 0; k < 3; k++)
        free(strs[k]);
    store_free_list(shards, n);
    return rc;
}
