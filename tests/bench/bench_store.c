/*
 * bench_store: the trace store against the way Python pipelines journal.
 *   bench_store [ROWS] [DIR]     (default 100000 rows, DIR $TMPDIR or /tmp)
 * 1. Append ROWS records, each with 1 KiB of JSON text, to one shard
 *    (flush every 1000 rows, SWMR, crash-safe), against writing the same rows
 *    as JSON lines (same metadata fields, text embedded) with fflush every
 *    1000 lines. Also tkd with the job default flush_every 64.
 * 2. Merge 4 shards of 25,000 such rows: seconds and bytes/s.
 * 3. What the row checks of every reader cost (a row is used only when its
 *    text is in range and valid JSON, so a shard cut short is caught): the
 *    done-set over the 4 shards as it was (records only) against the
 *    verified one (tkd_store_scan_dir: records, text, checks), and the text
 *    read of merge and export without and with the checks; the JSON check
 *    alone against Jansson's parse (the peer) on the same texts.
 * Prints a table; the targets (>= JSONL, >= 100,000 rows/s) are read there.
 */
#include "../../src/store/store_int.h" /* the reader's parts, to time them apart */
#include "tkd/store.h"

#include <jansson.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEXT_BYTES 1024
#define NTEXTS 256

static char texts[NTEXTS][TEXT_BYTES + 1];

static void make_texts(void) {
    tkd_rng rng;
    tkd_rng_seed(&rng, 3);
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789 +-*/=()";
    for (int i = 0; i < NTEXTS; i++) {
        int n = snprintf(texts[i], sizeof texts[i], "{\"role\":\"assistant\",\"i\":%d,\"content\":\"", i);
        while (n < TEXT_BYTES - 2)
            texts[i][n++] = alpha[tkd_rng_below(&rng, sizeof alpha - 1)];
        texts[i][n++] = '"';
        texts[i][n++] = '}';
        texts[i][n] = '\0';
    }
}

static tkd_record rec(size_t i) {
    tkd_record r;
    memset(&r, 0, sizeof r);
    r.pid = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
    r.sample = (uint32_t)(i & 3);
    r.phase = TKD_PHASE_SOLVE;
    r.status = (uint8_t)(i % 3);
    r.turns = 4;
    r.tool_calls = 3;
    r.prompt_tokens = 812 + i % 100;
    r.completion_tokens = 1300 + i % 77;
    r.latency_s = 12.5;
    r.finished_at = 1.7e9 + (double)i;
    return r;
}

static int write_shard(const char *path, size_t from, size_t n, size_t flush_every, tkd_err *e) {
    tkd_store_meta m = {TKD_PHASE_SOLVE, 0, 0, "{}", NULL, NULL};
    tkd_store *s;
    int rc = tkd_store_create(path, &m, &s, e);
    if (rc)
        return rc;
    tkd_store_set_flush_every(s, flush_every);
    for (size_t i = from; i < from + n && !rc; i++) {
        tkd_record r = rec(i);
        rc = tkd_store_append(s, &r, texts[i % NTEXTS], TEXT_BYTES, e);
    }
    int rc2 = tkd_store_close(s, e);
    return rc ? rc : rc2;
}

static int write_jsonl(const char *path, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    for (size_t i = 0; i < n; i++) {
        tkd_record r = rec(i);
        fprintf(f,
                "{\"pid\":\"%016" PRIx64 "\",\"sample\":%u,\"phase\":\"solve\",\"status\":\"%s\",\"flags\":%u,"
                "\"turns\":%u,\"tool_calls\":%u,\"prompt_tokens\":%" PRIu64 ",\"completion_tokens\":%" PRIu64
                ",\"latency_s\":%.17g,\"finished_at\":%.17g,\"text\":%s}\n",
                r.pid, r.sample, tkd_status_name((tkd_status)r.status), r.flags, r.turns, r.tool_calls, r.prompt_tokens,
                r.completion_tokens, r.latency_s, r.finished_at, texts[i % NTEXTS]);
        if ((i + 1) % 1000 == 0 && fflush(f) != 0)
            return -1;
    }
    return fclose(f);
}

static double file_mb(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0;
}

/* ---- 3. the readers' row checks ---- */

static int count_row(void *ctx, const char *shard, const tkd_record *rec) {
    (void)shard;
    (void)rec;
    (*(size_t *)ctx)++;
    return 0;
}

static int count_text(void *ctx, const tkd_record *rec, const char *text, size_t len) {
    (void)rec;
    (void)text;
    (*(size_t *)ctx) += len;
    return 0;
}

/* Read every shard of sh: records only (check 0, texts 0), records and text
 * spans (texts 1), plus the row checks (check 1, through tkd_store_scan).
 * Returns rows read; *bytes the text bytes. */
static size_t read_all(const char *sh, int nshards, int texts, int check, uint64_t *bytes) {
    static tkd_record recs[STORE_READ_BLOCK];
    tkd_buf span;
    tkd_buf_init(&span);
    size_t rows = 0;
    *bytes = 0;
    for (int k = 0; k < nshards; k++) {
        char p[700];
        snprintf(p, sizeof p, "%s/r%05d.a0.h5", sh, k);
        tkd_store *s;
        tkd_err e = {0};
        if (tkd_store_open(p, &s, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 0;
        }
        size_t cnt = tkd_store_count(s);
        if (check) {
            size_t b = 0;
            tkd_store_damage d;
            tkd_store_scan(s, count_text, &b, &d, &e);
            rows += d.verified;
            *bytes += b;
        } else {
            for (size_t row = 0; row < cnt; row += STORE_READ_BLOCK) {
                size_t n = cnt - row < STORE_READ_BLOCK ? cnt - row : STORE_READ_BLOCK;
                store_read_rows(s, row, n, recs, &e);
                rows += n;
                if (!texts)
                    continue;
                uint64_t lo = recs[0].text_off, hi = recs[n - 1].text_off + recs[n - 1].text_len;
                tkd_buf_reset(&span);
                tkd_buf_reserve(&span, (size_t)(hi - lo));
                store_read_bytes(s, lo, hi - lo, span.data, &e);
                *bytes += hi - lo;
            }
        }
        tkd_store_close(s, NULL);
    }
    tkd_buf_free(&span);
    return rows;
}

static int bench_readers(const char *sh, int nshards) {
    uint64_t bytes;
    size_t rows = 0;
    double t0 = tkd_now();
    size_t rec_rows = read_all(sh, nshards, 0, 0, &bytes);
    double t_rec = tkd_now() - t0;
    t0 = tkd_now();
    tkd_err e = {0};
    if (tkd_store_scan_dir(sh, count_row, &rows, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double t_scan = tkd_now() - t0;
    t0 = tkd_now();
    uint64_t b_raw, b_chk;
    size_t raw_rows = read_all(sh, nshards, 1, 0, &b_raw);
    double t_raw = tkd_now() - t0;
    t0 = tkd_now();
    size_t chk_rows = read_all(sh, nshards, 1, 1, &b_chk);
    double t_chk = tkd_now() - t0;
    /* the check alone, against Jansson, on the bench's texts */
    size_t reps = rows;
    volatile int valid = 0;
    t0 = tkd_now();
    for (size_t i = 0; i < reps; i++)
        valid += store_json_valid(texts[i % NTEXTS], TEXT_BYTES);
    double t_jv = tkd_now() - t0;
    t0 = tkd_now();
    for (size_t i = 0; i < reps; i++) {
        json_t *j = json_loadb(texts[i % NTEXTS], TEXT_BYTES, JSON_DECODE_ANY, NULL);
        valid += j != NULL;
        json_decref(j);
    }
    double t_jansson = tkd_now() - t0;
    if (rows != rec_rows || raw_rows != rec_rows || chk_rows != rec_rows || valid != (int)(2 * reps)) {
        fprintf(stderr, "bench_store: readers disagree (%zu %zu %zu %zu rows, %d valid)\n", rec_rows, rows, raw_rows,
                chk_rows, valid);
        return 1;
    }
    double mb = (double)b_raw / 1e6;
    printf("\nreaders over %d shards, %zu rows: what the row checks cost\n", nshards, rows);
    printf("%-44s %10s %12s %10s %10s\n", "reader", "seconds", "rows/s", "text MB/s", "vs before");
    printf("%-44s %10.3f %12.0f %10s %10.2f\n", "done-set before: records only", t_rec, (double)rows / t_rec, "-", 1.0);
    printf("%-44s %10.3f %12.0f %10.1f %10.2f\n", "done-set now: scan_dir, text + row checks", t_scan,
           (double)rows / t_scan, mb / t_scan, t_scan / t_rec);
    printf("%-44s %10.3f %12.0f %10.1f %10.2f\n", "merge/export read before: records + text", t_raw,
           (double)rows / t_raw, mb / t_raw, 1.0);
    printf("%-44s %10.3f %12.0f %10.1f %10.2f\n", "merge/export read now: + row checks", t_chk, (double)rows / t_chk,
           mb / t_chk, t_chk / t_raw);
    double jmb = (double)reps * TEXT_BYTES / 1e6;
    printf("%-44s %10.3f %12.0f %10.1f %10s\n", "JSON check alone (store_json_valid)", t_jv, (double)reps / t_jv,
           jmb / t_jv, "-");
    printf("%-44s %10.3f %12.0f %10.1f %10.2f\n", "peer: Jansson json_loadb (parse + free)", t_jansson,
           (double)reps / t_jansson, jmb / t_jansson, t_jansson / t_jv);
    printf("(vs before: time ratio, 1.00 = no cost; peer: Jansson's time / the check's)\n");
    return 0;
}

int main(int argc, char **argv) {
    size_t rows = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    const char *base = argc > 2 ? argv[2] : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tkd_bench_store_XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    make_texts();
    tkd_err e = {0};
    char p1[600], p2[600], pj[600], sh[600], out[600];
    snprintf(p1, sizeof p1, "%s/a1000.h5", dir);
    snprintf(p2, sizeof p2, "%s/a64.h5", dir);
    snprintf(pj, sizeof pj, "%s/a.jsonl", dir);
    snprintf(sh, sizeof sh, "%s/shards", dir);
    snprintf(out, sizeof out, "%s/merged.h5", dir);
    double mb_text = (double)rows * TEXT_BYTES / 1e6;

    double t0 = tkd_now();
    if (write_jsonl(pj, rows)) {
        perror("jsonl");
        return 1;
    }
    double t_json = tkd_now() - t0;
    t0 = tkd_now();
    if (write_shard(p1, 0, rows, 1000, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double t_1000 = tkd_now() - t0;
    t0 = tkd_now();
    if (write_shard(p2, 0, rows, 64, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double t_64 = tkd_now() - t0;

    printf("append %zu rows x %d B of text, one writer\n", rows, TEXT_BYTES);
    printf("%-34s %12s %10s %10s %8s\n", "writer", "rows/s", "text MB/s", "file MB", "vs JSONL");
    printf("%-34s %12.0f %10.1f %10.1f %8.2f\n", "JSONL, fflush every 1000", (double)rows / t_json, mb_text / t_json,
           file_mb(pj), 1.0);
    printf("%-34s %12.0f %10.1f %10.1f %8.2f\n", "tkd store, flush every 1000 (SWMR)", (double)rows / t_1000,
           mb_text / t_1000, file_mb(p1), t_json / t_1000);
    printf("%-34s %12.0f %10.1f %10.1f %8.2f\n", "tkd store, flush every 64 (SWMR)", (double)rows / t_64,
           mb_text / t_64, file_mb(p2), t_json / t_64);
    printf("target: tkd (flush 1000) >= JSONL and >= 100000 rows/s: %s\n",
           t_1000 <= t_json && (double)rows / t_1000 >= 100000 ? "met" : "NOT met");

    /* merge 4 shards x 25,000 rows */
    size_t per = 25000;
    for (int k = 0; k < 4; k++) {
        char p[700];
        snprintf(p, sizeof p, "%s/r%05d.a0.h5", sh, k);
        if (write_shard(p, (size_t)k * per, per, 1000, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
    }
    tkd_store_merge_stats st;
    t0 = tkd_now();
    if (tkd_store_merge(sh, out, &st, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double t_merge = tkd_now() - t0;
    printf("\nmerge %zu shards x %zu rows -> %zu rows\n", st.shards, per, st.rows_out);
    printf("%-34s %12s %12s %12s\n", "", "seconds", "MB out", "MB/s out");
    printf("%-34s %12.3f %12.1f %12.1f\n", "tkd store merge (temp, fsync, rename)", t_merge, (double)st.bytes_out / 1e6,
           (double)st.bytes_out / 1e6 / t_merge);
    if (bench_readers(sh, 4))
        return 1;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
