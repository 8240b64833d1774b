/* libFuzzer target: the lean arena JSON (core/json.c), differentially
 * against Jansson. Both must accept and refuse the same texts (save the
 * documented differences: integers beyond 64 bits, which Jansson refuses,
 * tkd's depth and key limits, and a NUL byte after the value, which Jansson
 * reads as the end of the text); what tkd accepts must write out as JSON
 * that reads back, in tkd and in Jansson, as the same value. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tkd/json.h"

/* Jansson refused only because of an integer too big for it (or the depth). */
static int jansson_limit(const json_error_t *je) {
    return strstr(je->text, "too big") || strstr(je->text, "maximum") || strstr(je->text, "nesting");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    tkd_arena a;
    tkd_arena_init(&a);
    tkd_json *v;
    tkd_err e;
    int rc = tkd_json_parse(&a, s, size, &v, &e);
    json_error_t je;
    json_t *j = json_loadb(s, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    int has_nul = memchr(s, 0, size) != NULL; /* Jansson takes a NUL after the value as the end; tkd refuses it */
    if ((rc == 0) != (j != NULL) && !(j == NULL && jansson_limit(&je)) && rc != TKD_ELIMIT && !has_nul)
        abort(); /* the parsers disagree */
    if (rc == 0) {
        tkd_buf b;
        tkd_buf_init(&b);
        tkd_json *back;
        tkd_arena a2;
        tkd_arena_init(&a2);
        if (tkd_json_write(&b, v) || tkd_json_parse(&a2, b.data, b.len, &back, &e) || !tkd_json_equal(v, back))
            abort(); /* what tkd writes must read back as the same value */
        json_t *jb = json_loadb(b.data, b.len, JSON_DECODE_ANY, &je);
        if (!jb && !jansson_limit(&je))
            abort();
        json_decref(jb);
        tkd_arena_free(&a2);
        tkd_buf_free(&b);
    }
    json_decref(j);
    tkd_arena_free(&a);
    return 0;
}
