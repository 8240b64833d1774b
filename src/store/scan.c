/*
 * store: the verified reader behind the done-set, merge and export. Rows are
 * read in blocks; the text of a block is one contiguous span read with one
 * HDF5 call. Each row is checked (known phase and status, text range inside
 * /text and after the previous verified row's text, non-empty valid JSON)
 * before a caller sees it. A shard cut short reads as zeros where its chunks
 * were lost, or fails to read at all: a block that cannot be read is read
 * again row by row, so one lost chunk costs only its own rows.
 */
#include "store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int known_phase(unsigned p) {
    return p <= TKD_PHASE_EVAL || p == TKD_PHASE_TEST;
}

__attribute__((format(printf, 3, 4))) static void damage(tkd_store_damage *d, size_t row, const char *fmt, ...) {
    if (!d->damaged++) {
        d->first_bad = row;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->first_why, sizeof d->first_why, fmt, ap);
        va_end(ap);
    }
}

void tkd_store_damage_describe(const char *path, const tkd_store_damage *d, char *buf, size_t n) {
    const char *base = path;
    char cut[96] = "";
    if (d->file_bytes_expected)
        snprintf(cut, sizeof cut, "; the file is cut short at %llu of %llu bytes", (unsigned long long)d->file_bytes,
                 (unsigned long long)d->file_bytes_expected);
    if (!d->damaged)
        snprintf(buf, n, "%s: %zu rows, none damaged%s", base, d->rows, cut);
    else
        snprintf(buf, n, "%s: %zu of %zu rows %s damaged (first: row %zu: %s)%s", base, d->damaged, d->rows,
                 d->damaged == 1 ? "is" : "are", d->first_bad, d->first_why, cut);
}

/* Rows [row, row+k): into recs, with ok[j] 0 for a row HDF5 could not read. */
static void read_block(tkd_store *s, size_t row, size_t k, tkd_record *recs, uint8_t *ok) {
    if (store_read_rows(s, row, k, recs, NULL) == 0) {
        memset(ok, 1, k);
        return;
    }
    H5Eclear2(H5E_DEFAULT);
    for (size_t j = 0; j < k; j++) {
        ok[j] = store_read_rows(s, row + j, 1, &recs[j], NULL) == 0;
        if (!ok[j])
            H5Eclear2(H5E_DEFAULT);
    }
}

int tkd_store_scan(tkd_store *s, tkd_store_text_fn fn, void *ctx, tkd_store_damage *dmg, tkd_err *e) {
    tkd_store_damage dummy;
    if (!dmg)
        dmg = &dummy;
    memset(dmg, 0, sizeof *dmg);
    size_t cnt = tkd_store_count(s);
    uint64_t tsize = tkd_store_text_size(s);
    dmg->rows = cnt;
    dmg->file_bytes = s->file_bytes;
    dmg->file_bytes_expected = s->file_bytes_expected;
    tkd_record *recs = tkd_malloc(STORE_READ_BLOCK * sizeof *recs, e);
    uint8_t *ok = tkd_malloc(STORE_READ_BLOCK, e);
    tkd_buf span, one;
    tkd_buf_init(&span);
    tkd_buf_init(&one);
    int rc = 0;
    if (!recs || !ok) {
        rc = TKD_ENOMEM;
        goto done;
    }
    uint64_t prev_end = 0; /* end of the last verified row's text */
    for (size_t row = 0; row < cnt && !rc; row += STORE_READ_BLOCK) {
        size_t k = cnt - row < STORE_READ_BLOCK ? cnt - row : STORE_READ_BLOCK;
        read_block(s, row, k, recs, ok);
        /* the cheap checks, and the span of text the candidates point at */
        uint64_t lo = UINT64_MAX, hi = 0, end = prev_end;
        for (size_t j = 0; j < k; j++) {
            const tkd_record *r = &recs[j];
            if (!ok[j])
                continue;
            if (r->text_len == 0 || r->text_off > tsize || r->text_len > tsize - r->text_off || r->text_off < end ||
                !known_phase(r->phase) || r->status >= TKD_ST_COUNT)
                continue;
            end = r->text_off + r->text_len;
            if (r->text_off < lo)
                lo = r->text_off;
            if (end > hi)
                hi = end;
        }
        int whole = hi > lo && hi - lo <= STORE_SPAN_MAX;
        if (whole) {
            tkd_buf_reset(&span);
            if (tkd_buf_reserve(&span, (size_t)(hi - lo))) {
                rc = tkd_err_set(e, TKD_ENOMEM, "out of memory reading '%s'", tkd_store_path(s));
                break;
            }
            if (store_read_bytes(s, lo, hi - lo, span.data, NULL)) {
                H5Eclear2(H5E_DEFAULT);
                whole = 0; /* a lost chunk: row by row */
            }
        }
        for (size_t j = 0; j < k && !rc; j++) {
            const tkd_record *r = &recs[j];
            size_t i = row + j;
            if (!ok[j]) {
                damage(dmg, i, "its record cannot be read");
                continue;
            }
            if (!known_phase(r->phase) || r->status >= TKD_ST_COUNT) {
                damage(dmg, i, "unknown phase %u or status %u", r->phase, r->status);
                continue;
            }
            if (r->text_len == 0) {
                damage(dmg, i, "its text is empty");
                continue;
            }
            if (r->text_off > tsize || r->text_len > tsize - r->text_off) {
                damage(dmg, i, "its text [%llu, +%llu) is outside the %llu bytes of /text",
                       (unsigned long long)r->text_off, (unsigned long long)r->text_len, (unsigned long long)tsize);
                continue;
            }
            if (r->text_off < prev_end) {
                damage(dmg, i, "its text at %llu overlaps the previous row's (ends at %llu)",
                       (unsigned long long)r->text_off, (unsigned long long)prev_end);
                continue;
            }
            const char *t;
            if (whole && r->text_off >= lo && r->text_off + r->text_len <= hi) {
                t = span.data + (r->text_off - lo);
            } else {
                tkd_buf_reset(&one);
                if (tkd_buf_reserve(&one, (size_t)r->text_len)) {
                    rc = tkd_err_set(e, TKD_ENOMEM, "out of memory reading '%s'", tkd_store_path(s));
                    break;
                }
                if (store_read_bytes(s, r->text_off, r->text_len, one.data, NULL)) {
                    H5Eclear2(H5E_DEFAULT);
                    damage(dmg, i, "its text [%llu, +%llu) cannot be read", (unsigned long long)r->text_off,
                           (unsigned long long)r->text_len);
                    continue;
                }
                t = one.data;
            }
            if (!store_json_valid(t, (size_t)r->text_len)) {
                damage(dmg, i, "its text is not JSON");
                continue;
            }
            prev_end = r->text_off + r->text_len;
            dmg->verified++;
            if (fn)
                rc = fn(ctx, r, t, (size_t)r->text_len);
        }
    }
done:
    free(recs);
    free(ok);
    tkd_buf_free(&span);
    tkd_buf_free(&one);
    return rc;
}
