/*
 * A test helper (not a test): writes a store from a file of texts so the
 * Python oracle test can check what tkd wrote with h5py.
 *   store_writer OUT.h5 TEXTS JOBFILE [DIE_AFTER]
 * TEXTS: repeated [u32 little-endian length][bytes]. With DIE_AFTER the
 * writer kills itself (SIGKILL, no close) after appending that many rows.
 * Row i gets pid i*7919+1, sample i%3, phase solve, status i%9, flags i%8,
 * turns i, tool_calls 2i, prompt_tokens 1000+i, completion_tokens 10^12+i,
 * latency_s i/4, finished_at 1.7e9+i; flush every 5 rows.
 * Environment: TKD_SW_PHASE (a phase name, default solve) for the rows and the
 * file; TKD_SW_MANIFEST (default {"inputs":[]}).
 */
#include "tkd/store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: store_writer OUT.h5 TEXTS JOBFILE [DIE_AFTER]\n");
        return 2;
    }
    tkd_err e = {0};
    char *data, *job;
    size_t n, jn;
    if (tkd_file_read(argv[2], &data, &n, &e) || tkd_file_read(argv[3], &job, &jn, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    char sha[65];
    tkd_sha256_hex(job, jn, sha);
    const char *pname = getenv("TKD_SW_PHASE"), *manifest = getenv("TKD_SW_MANIFEST");
    int phase = pname ? tkd_phase_parse(pname) : TKD_PHASE_SOLVE;
    if (phase < 0) {
        fprintf(stderr, "unknown phase '%s'\n", pname);
        return 2;
    }
    tkd_store_meta m = {(tkd_phase)phase, 5, 1, job, sha, manifest ? manifest : "{\"inputs\":[]}"};
    tkd_store *s;
    if (tkd_store_create(argv[1], &m, &s, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    tkd_store_set_flush_every(s, 5);
    size_t pos = 0, i = 0;
    int rc = 0;
    while (pos + 4 <= n && !rc) {
        uint32_t len = (uint32_t)(unsigned char)data[pos] | (uint32_t)(unsigned char)data[pos + 1] << 8 |
                       (uint32_t)(unsigned char)data[pos + 2] << 16 | (uint32_t)(unsigned char)data[pos + 3] << 24;
        pos += 4;
        if (len > n - pos) {
            fprintf(stderr, "truncated texts file\n");
            rc = 1;
            break;
        }
        tkd_record r;
        memset(&r, 0, sizeof r);
        r.pid = (uint64_t)i * 7919 + 1;
        r.sample = (uint32_t)(i % 3);
        r.phase = (uint8_t)phase;
        r.status = (uint8_t)(i % 9);
        r.flags = (uint16_t)(i % 8);
        r.turns = (uint32_t)i;
        r.tool_calls = (uint32_t)(2 * i);
        r.prompt_tokens = 1000 + i;
        r.completion_tokens = 1000000000000ULL + i;
        r.latency_s = (double)i / 4;
        r.finished_at = 1.7e9 + (double)i;
        rc = tkd_store_append(s, &r, data + pos, len, &e);
        pos += len;
        i++;
        if (argc == 5 && i == (size_t)atol(argv[4]))
            raise(SIGKILL);
    }
    if (tkd_store_close(s, &e) || rc) {
        fprintf(stderr, "%s\n", e.msg);
        rc = 1;
    }
    free(data);
    free(job);
    return rc;
}
