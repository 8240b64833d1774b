/*
 * test_json: the lean arena JSON (tkd/json.h). Jansson, which nobody here
 * wrote, is the oracle: on 20,000 random documents and mutations of them both
 * parsers must accept and refuse the same texts and read the same values, and
 * everything tkd writes must read back in Jansson as the value written.
 */
#include <jansson.h>
#include <limits.h>

#include "tkd/json.h"
#include "tkd_test.h"

/* Same value in both worlds (reals compared as doubles, integers as text). */
static int same(const tkd_json *t, const json_t *j) {
    switch (t->kind) {
    case TKD_JSON_NULL: return json_is_null(j);
    case TKD_JSON_TRUE: return json_is_true(j);
    case TKD_JSON_FALSE: return json_is_false(j);
    case TKD_JSON_INT: {
        long long v;
        return json_is_integer(j) && !tkd_json_int(t, &v) && v == json_integer_value(j);
    }
    case TKD_JSON_REAL: return json_is_real(j) && tkd_json_real(t) == json_real_value(j);
    case TKD_JSON_STR:
        return json_is_string(j) && t->n == json_string_length(j) && !memcmp(t->s, json_string_value(j), t->n);
    case TKD_JSON_ARR:
        if (!json_is_array(j) || json_array_size(j) != t->n)
            return 0;
        for (size_t i = 0; i < t->n; i++)
            if (!same(t->v[i], json_array_get(j, i)))
                return 0;
        return 1;
    case TKD_JSON_OBJ:
        if (!json_is_object(j) || json_object_size(j) != t->n)
            return 0;
        for (size_t i = 0; i < t->n; i++) {
            json_t *x = json_object_get(j, t->k[i]);
            if (!x || !same(t->v[i], x))
                return 0;
        }
        return 1;
    }
    return 0;
}

/* Parse with tkd and write it back compactly; NULL when refused. */
static char *round_trip(const char *s, size_t n, int *code) {
    tkd_arena a;
    tkd_arena_init(&a);
    tkd_json *v;
    tkd_err e = {0};
    char *out = NULL;
    *code = tkd_json_parse(&a, s, n, &v, &e);
    if (!*code) {
        tkd_buf b;
        tkd_buf_init(&b);
        if (!tkd_json_write(&b, v))
            out = tkd_buf_steal(&b);
        tkd_buf_free(&b);
    }
    tkd_arena_free(&a);
    return out;
}

TEST(valid_documents) {
    static const char *const cases[][2] = {
        {" {\"a\" : [1, -2.5e3, \"x\\n\\u00e9\\ud83d\\ude00\"], \"b\": null} ",
         "{\"a\":[1,-2.5e3,\"x\\n\xc3\xa9\xf0\x9f\x98\x80\"],\"b\":null}"},
        {"[true,false,null,[],{}]", "[true,false,null,[],{}]"},
        {"\"\\/\\b\\f\\r\\t\\\"\\\\\"", "\"/\\b\\f\\r\\t\\\"\\\\\""},
        {"123456789012345678901234567890", "123456789012345678901234567890"},
        {"\"\\u001f\x7f\"", "\"\\u001f\x7f\""},
        {"0", "0"},
        {"-0.0e-0", "-0.0e-0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int code;
        char *out = round_trip(cases[i][0], strlen(cases[i][0]), &code);
        CHECK_INT(code, 0);
        CHECK_STR(out, cases[i][1]);
        free(out);
    }
}

TEST(invalid_documents) {
    static const char *const bad[] = {
        "",          "[1,]",          "{\"a\":1,}",       "01",          "1.",          "1e",        "-",
        "+1",        ".5",            "NaN",              "Infinity",    "1e999",       "[1 2]",     "{1:2}",
        "{\"a\" 1}", "\"abc",         "\"\\x\"",          "\"\\u12\"",   "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"",
        "\"\x01\"",  "\"\xff\"",      "\"\xc0\xaf\"",     "\"\xed\xa0\x80\"", "[1]]",   "tru",       "nul",
        "{\"a\":1,\"a\":2}", "[\"\\ud800\\u0041\"]", "\"\xf4\x90\x80\x80\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tkd_arena a;
        tkd_arena_init(&a);
        tkd_json *v;
        tkd_err e = {0};
        int rc = tkd_json_parse(&a, bad[i], strlen(bad[i]), &v, &e);
        CHECK(rc == TKD_EINVAL);
        CHECK(strstr(e.msg, "invalid JSON") != NULL);
        if (rc != TKD_EINVAL)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
        tkd_arena_free(&a);
    }
}

TEST(limits) {
    char deep[2 * TKD_JSON_DEPTH_MAX + 10];
    for (int d = TKD_JSON_DEPTH_MAX; d <= TKD_JSON_DEPTH_MAX + 1; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        tkd_arena a;
        tkd_arena_init(&a);
        tkd_json *v;
        tkd_err e = {0};
        CHECK_INT(tkd_json_parse(&a, deep, (size_t)(2 * d), &v, &e), d > TKD_JSON_DEPTH_MAX ? TKD_ELIMIT : 0);
        tkd_arena_free(&a);
    }
    tkd_buf b;
    tkd_buf_init(&b);
    tkd_buf_putc(&b, '{');
    for (int i = 0; i <= TKD_JSON_KEYS_MAX; i++)
        tkd_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    tkd_buf_putc(&b, '}');
    tkd_arena a;
    tkd_arena_init(&a);
    tkd_json *v;
    tkd_err e = {0};
    CHECK_INT(tkd_json_parse(&a, b.data, b.len, &v, &e), TKD_ELIMIT);
    tkd_arena_free(&a);
    tkd_buf_free(&b);
}

TEST(numbers) {
    tkd_arena a;
    tkd_arena_init(&a);
    tkd_json *v;
    long long x;
    CHECK(!tkd_json_parse(&a, "-9223372036854775808", 20, &v, NULL) && !tkd_json_int(v, &x) && x == LLONG_MIN);
    CHECK(!tkd_json_parse(&a, "9223372036854775807", 19, &v, NULL) && !tkd_json_int(v, &x) && x == LLONG_MAX);
    CHECK(!tkd_json_parse(&a, "9223372036854775808", 19, &v, NULL) && tkd_json_int(v, &x) == -1);
    CHECK(!tkd_json_parse(&a, "2.5", 3, &v, NULL) && tkd_json_int(v, &x) == -1 && tkd_json_real(v) == 2.5);
    v = tkd_json_integer(&a, LLONG_MIN);
    CHECK_STR(v->s, "-9223372036854775808");
    CHECK_STR(tkd_json_integer(&a, 0)->s, "0");
    tkd_arena_free(&a);
}

TEST(builders_and_writer) {
    tkd_arena a;
    tkd_arena_init(&a);
    tkd_json *o = tkd_json_new(&a, TKD_JSON_OBJ), *arr = tkd_json_new(&a, TKD_JSON_ARR);
    for (int i = 0; i < 1000; i++) /* grows the array and spills out of the inline block */
        CHECK_INT(tkd_json_push(&a, arr, tkd_json_integer(&a, i)), 0);
    CHECK_INT(tkd_json_set(&a, o, "list", arr), 0);
    CHECK_INT(tkd_json_set(&a, o, "bad \"utf8\"", tkd_json_string(&a, "a\xff\xc3" "b\x01")), 0);
    CHECK_INT(tkd_json_set(&a, o, "list", tkd_json_string(&a, "replaced")), 0);
    CHECK_INT(tkd_json_size(o), 2);
    CHECK_INT(tkd_json_push(&a, o, tkd_json_integer(&a, 1)), TKD_EINVAL);
    CHECK_INT(tkd_json_push(&a, arr, NULL), TKD_ENOMEM);
    char *big = tkd_arena_alloc(&a, 1 << 20); /* bigger than a chunk */
    CHECK(big != NULL);
    memset(big, 1, 1 << 20);
    tkd_buf b;
    tkd_buf_init(&b);
    CHECK_INT(tkd_json_write(&b, o), 0);
    CHECK_STR(b.data, "{\"list\":\"replaced\",\"bad \\\"utf8\\\"\":\"a\xef\xbf\xbd\xef\xbf\xbd" "b\\u0001\"}");
    json_t *j = json_loads(b.data, 0, NULL); /* what was written is valid JSON */
    tkd_json *y;
    CHECK(j && !tkd_json_parse(&a, b.data, b.len, &y, NULL) && same(y, j));
    json_decref(j);
    tkd_buf w;
    tkd_buf_init(&w);
    CHECK(!tkd_json_write(&w, y) && !strcmp(w.data, b.data));
    CHECK(tkd_json_equal(y, y) && !tkd_json_equal(o, y) && !tkd_json_equal(o, arr));
    tkd_buf_free(&w);
    tkd_buf_free(&b);
    tkd_arena_free(&a);
    CHECK(a.heap == NULL);
}

/* ---- random documents against Jansson ---- */

static void gen(tkd_rng *r, tkd_buf *b, int depth) {
    static const char *const atoms[] = {"true", "false", "null", "0", "-7", "123456789012345", "3.25", "-1e-5",
                                        "6.02E+23", "\"\"", "\"plain text\"", "\"\\u00e9\\n\\\"q\\\"\"",
                                        "\"\xce\xbb\\ud834\\udd1e\"", "\"x**2 - 4\""};
    unsigned k = (unsigned)tkd_rng_below(r, depth > 4 ? 1 : 4);
    if (k == 0) {
        tkd_buf_puts(b, atoms[tkd_rng_below(r, sizeof atoms / sizeof atoms[0])]);
        return;
    }
    int obj = k == 1;
    tkd_buf_putc(b, obj ? '{' : '[');
    int n = (int)tkd_rng_below(r, 5);
    for (int i = 0; i < n; i++) {
        if (i)
            tkd_buf_puts(b, tkd_rng_below(r, 2) ? "," : " , ");
        if (obj)
            tkd_buf_printf(b, "\"k%d\":", (int)tkd_rng_below(r, 6)); /* duplicates happen */
        gen(r, b, depth + 1);
    }
    tkd_buf_putc(b, obj ? '}' : ']');
}

TEST(agrees_with_jansson) {
    static const char noise[] = "[]{},:\"\\ 0-.eE+u\xff\xc3\x80ntf";
    tkd_rng r;
    tkd_rng_seed(&r, 2506);
    int both_ok = 0, both_refuse = 0;
    for (int it = 0; it < 20000; it++) {
        tkd_buf b;
        tkd_buf_init(&b);
        gen(&r, &b, 0);
        for (int m = (int)tkd_rng_below(&r, 3); m > 0 && b.len > 0; m--) { /* mutate a byte */
            size_t at = tkd_rng_below(&r, b.len);
            b.data[at] = noise[tkd_rng_below(&r, sizeof noise - 1)];
        }
        json_error_t jerr;
        json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        tkd_arena a;
        tkd_arena_init(&a);
        tkd_json *v;
        tkd_err e = {0};
        int rc = tkd_json_parse(&a, b.data, b.len, &v, &e);
        CHECK((rc == 0) == (j != NULL));
        if (rc == 0 && j) {
            both_ok++;
            CHECK(same(v, j));
            tkd_buf w;
            tkd_buf_init(&w);
            CHECK_INT(tkd_json_write(&w, v), 0);
            json_t *back = json_loadb(w.data, w.len, JSON_DECODE_ANY, NULL);
            CHECK(back && same(v, back));
            json_decref(back);
            tkd_buf_free(&w);
        } else if (rc && !j) {
            both_refuse++;
        } else {
            fprintf(stderr, "  disagree on: %s (tkd: %s; jansson: %s)\n", b.data, rc ? e.msg : "ok",
                    j ? "ok" : jerr.text);
        }
        json_decref(j);
        tkd_arena_free(&a);
        tkd_buf_free(&b);
    }
    printf("random documents: %d read by both, %d refused by both\n", both_ok, both_refuse);
    CHECK(both_ok > 3000 && both_refuse > 3000);
}

/* Strings are scanned 8 bytes a step: long strings with escapes, UTF-8 and
 * bad bytes at every offset against Jansson, and the byte a message names. */
TEST(strings_at_every_offset) {
    static const char *const pieces[] = {"a", "bcdefgh", "\\n", "\\\"", "\\\\", "\\u00e9", "\\ud83d\\ude00",
                                         "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x7f", "\x01", "\xff",
                                         "\\x", "\\u12", "\\ud800", "\xc3"};
    tkd_rng r;
    tkd_rng_seed(&r, 8);
    int both_ok = 0;
    for (int it = 0; it < 4000; it++) {
        tkd_buf b;
        tkd_buf_init(&b);
        tkd_buf_putc(&b, '"');
        for (int k = (int)tkd_rng_below(&r, 24); k > 0; k--) /* mostly good pieces, now and then a bad one */
            tkd_buf_printf(&b, "%s", pieces[tkd_rng_below(&r, tkd_rng_below(&r, 8) ? 10 : 17)]);
        if (tkd_rng_below(&r, 16))
            tkd_buf_putc(&b, '"');
        json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
        tkd_arena a;
        tkd_arena_init(&a);
        tkd_json *v;
        int rc = tkd_json_parse(&a, b.data, b.len, &v, NULL);
        CHECK((rc == 0) == (j != NULL));
        if (!rc && j) {
            both_ok++;
            CHECK(same(v, j));
        }
        json_decref(j);
        tkd_arena_free(&a);
        tkd_buf_free(&b);
    }
    CHECK(both_ok > 1000);
    tkd_arena a;
    tkd_arena_init(&a);
    tkd_json *v;
    tkd_err e = {0};
    const char *bad = "[\"abcdefghijklmnop\\n\xc3\xa9qrstuvwxyz0123456789\x01\"]"; /* the control byte is at 42 */
    CHECK_INT(tkd_json_parse(&a, bad, strlen(bad), &v, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "at byte 42 (byte 0x01)") != NULL);
    tkd_arena_free(&a);
}

int main(void) {
    RUN(valid_documents);
    RUN(invalid_documents);
    RUN(limits);
    RUN(numbers);
    RUN(builders_and_writer);
    RUN(agrees_with_jansson);
    RUN(strings_at_every_offset);
    return TEST_END();
}
