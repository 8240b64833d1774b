/*
 * Shared by the store tests: temporary folders and a deterministic text for
 * row i (JSON with multi-byte UTF-8, lengths from 0 bytes of payload to
 * 200 KiB), so a reader can check every byte it gets back.
 */
#ifndef TKD_STORE_FIXTURE_H
#define TKD_STORE_FIXTURE_H

#include "tkd/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh folder under $TMPDIR (or /tmp); caller frees the string. */
static char *fx_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/tkd_store_XXXXXX", base && base[0] ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static void fx_rmrf(const char *dir) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

static char *fx_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The text of row i (malloc'd). */
__attribute__((unused)) static char *fx_text(size_t i, size_t *len) {
    static const char *pieces[] = {
        "x", "\xc3\xa9", "\xe2\x88\x91", "\xe6\xbc\xa2\xe5\xad\x97", "\xf0\x9f\x99\x82", "\\\"q\\\"", " "};
    size_t want = (i % 97 == 13) ? 200000 : (i * 37) % 1500;
    size_t cap = want + 64;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t n = (size_t)snprintf(s, cap, "{\"i\":%zu,\"s\":\"", i);
    for (size_t k = 0; n + 8 < cap - 4 && k < want;) {
        const char *p = pieces[(i + k) % 7];
        size_t pl = strlen(p);
        memcpy(s + n, p, pl);
        n += pl;
        k += pl;
    }
    s[n++] = '"';
    s[n++] = '}';
    s[n] = '\0';
    *len = n;
    return s;
}

static tkd_record fx_record(size_t i, tkd_phase phase) {
    tkd_record r;
    memset(&r, 0, sizeof r);
    r.pid = tkd_hash64(&i, sizeof i);
    r.sample = (uint32_t)(i % 4);
    r.phase = (uint8_t)phase;
    r.status = (uint8_t)(i % TKD_ST_COUNT);
    r.flags = (uint16_t)(i & 7);
    r.turns = (uint32_t)(i % 11);
    r.tool_calls = (uint32_t)(i % 5);
    r.prompt_tokens = 1000 + i;
    r.completion_tokens = 2000 + 3 * i;
    r.latency_s = 0.5 * (double)i;
    r.finished_at = 1.7e9 + (double)i;
    return r;
}

/* Append rows [from, to) of the fixture; returns 0 or the error code. */
__attribute__((unused)) static int fx_append(tkd_store *s, size_t from, size_t to, tkd_phase phase, tkd_err *e) {
    for (size_t i = from; i < to; i++) {
        size_t len;
        char *t = fx_text(i, &len);
        if (!t)
            return TKD_ENOMEM;
        tkd_record r = fx_record(i, phase);
        int rc = tkd_store_append(s, &r, t, len, e);
        free(t);
        if (rc)
            return rc;
    }
    return 0;
}

/* Check row row of s holds fixture row i: fields and text byte for byte. */
__attribute__((unused)) static int fx_row_ok(tkd_store *s, size_t row, size_t i, tkd_phase phase) {
    tkd_record r, want = fx_record(i, phase);
    tkd_err e = {0};
    if (tkd_store_read(s, row, &r, &e))
        return 0;
    if (r.pid != want.pid || r.sample != want.sample || r.phase != want.phase || r.status != want.status ||
        r.flags != want.flags || r.turns != want.turns || r.tool_calls != want.tool_calls ||
        r.prompt_tokens != want.prompt_tokens || r.completion_tokens != want.completion_tokens ||
        r.latency_s != want.latency_s || r.finished_at != want.finished_at)
        return 0;
    char *t;
    if (tkd_store_read_text(s, &r, &t, &e))
        return 0;
    size_t len;
    char *w = fx_text(i, &len);
    int ok = w && r.text_len == len && memcmp(t, w, len) == 0 && t[len] == '\0';
    free(w);
    free(t);
    return ok;
}

#endif
