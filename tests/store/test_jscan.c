/* store: the readers' JSON check (store_json_valid) says valid exactly when
 * tkd's strict parser (tkd_json_parse, RFC 8259 as Jansson reads it) does:
 * a table of edge cases, then 200,000 random documents and byte mutations of
 * them (flips, cuts, zeroed tails as a lost chunk reads, inserted bytes),
 * compared with the parser on every one (duplicate keys and the parser's
 * size limits aside: the check does not look for those). */
#include "../../src/store/store_int.h"
#include "tkd/json.h"
#include "tkd_test.h"

static int parser_says(const char *s, size_t n, int *skip) {
    tkd_arena a;
    tkd_arena_init(&a);
    tkd_json *j;
    tkd_err e = {0};
    int rc = tkd_json_parse(&a, s, n, &j, &e);
    tkd_arena_free(&a);
    *skip = rc == TKD_ELIMIT || (rc && strstr(e.msg, "duplicate"));
    return rc == 0;
}

TEST(table) {
    static const char *good[] = {"{}",
                                 "[]",
                                 "0",
                                 "-0",
                                 "1.5e-3",
                                 "\"\"",
                                 "true",
                                 "false",
                                 "null",
                                 " {\"a\": [1, 2, {}]} ",
                                 "{\"a\":\"\\u00e9\\ud83d\\ude42\\n\"}",
                                 "\"\xc3\xa9\xe2\x88\x91\xf0\x9f\x99\x82\"",
                                 "[[[[[]]]]]",
                                 "123456789012345678901234567890",
                                 "{\"a\":{\"b\":{\"c\":[null]}}}"};
    static const char *bad[] = {"",
                                " ",
                                "{",
                                "}",
                                "[1,]",
                                "{\"a\":}",
                                "{\"a\" 1}",
                                "{a:1}",
                                "01",
                                "1.",
                                ".5",
                                "1e",
                                "-",
                                "tru",
                                "nul",
                                "\"abc",
                                "\"\\x\"",
                                "\"\\u12\"",
                                "\"\\u0000\"",
                                "\"\\udc00\"",
                                "\"\\ud800\"",
                                "\"\xc0\xaf\"",
                                "\"\xed\xa0\x80\"",
                                "\"\xf5\x80\x80\x80\"",
                                "[1] 2",
                                "{}{}",
                                "[\"a\"\"b\"]",
                                "\"tab\there\"",
                                "{\"a\":1,}",
                                "[,1]",
                                "+1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!store_json_valid(good[i], strlen(good[i]))) {
            fprintf(stderr, "  valid JSON refused: %s\n", good[i]);
            CHECK(0);
        }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (store_json_valid(bad[i], strlen(bad[i]))) {
            fprintf(stderr, "  not JSON accepted: %s\n", bad[i]);
            CHECK(0);
        }
    /* NUL bytes: inside, and after a complete value (how a lost chunk reads) */
    CHECK(!store_json_valid("{}\0\0\0", 5));
    CHECK(!store_json_valid("\"a\0b\"", 5));
    CHECK(!store_json_valid("\0\0\0\0\0\0\0\0\0\0\0\0", 12));
    /* deep nesting: within the limit, and beyond it */
    char deep[5000];
    for (int i = 0; i < 2000; i++)
        deep[i] = '[', deep[2000 + i] = ']';
    CHECK(store_json_valid(deep, 4000));
    for (int i = 0; i < 2500; i++)
        deep[i] = '[';
    CHECK(!store_json_valid(deep, 2500));
}

/* A random document of depth at most d into b. */
static void gen(tkd_buf *b, tkd_rng *r, int d) {
    static const char *atoms[] = {"0",
                                  "-12",
                                  "3.25e+7",
                                  "true",
                                  "false",
                                  "null",
                                  "\"\"",
                                  "\"x\\\"y\\\\z\"",
                                  "\"\xc3\xa9\xe2\x88\x91 \xf0\x9f\x99\x82\"",
                                  "\"\\u00e9\\ud83d\\ude42\\n\\t\"",
                                  "\"a long plain ascii string of some length, enough for the word loop\""};
    int k = (int)tkd_rng_below(r, d > 0 ? 4 : 1);
    if (k == 0) {
        tkd_buf_printf(b, "%s", atoms[tkd_rng_below(r, sizeof atoms / sizeof atoms[0])]);
    } else if (k == 1) {
        tkd_buf_printf(b, "[");
        int n = (int)tkd_rng_below(r, 4);
        for (int i = 0; i < n; i++) {
            if (i)
                tkd_buf_printf(b, ", ");
            gen(b, r, d - 1);
        }
        tkd_buf_printf(b, "]");
    } else {
        tkd_buf_printf(b, "{");
        int n = (int)tkd_rng_below(r, 4);
        for (int i = 0; i < n; i++) {
            tkd_buf_printf(b, "%s\"k%d\":", i ? "," : "", i);
            gen(b, r, d - 1);
        }
        tkd_buf_printf(b, "}");
    }
}

TEST(against_parser) {
    tkd_rng r;
    tkd_rng_seed(&r, 42);
    tkd_buf b;
    tkd_buf_init(&b);
    int disagree = 0, valid = 0, compared = 0;
    for (int it = 0; it < 200000; it++) {
        tkd_buf_reset(&b);
        gen(&b, &r, 5);
        size_t n = b.len;
        int m = (int)tkd_rng_below(&r, 6);
        if (m == 1 && n) /* flip a bit */
            b.data[tkd_rng_below(&r, n)] ^= (char)(1u << tkd_rng_below(&r, 8));
        else if (m == 2 && n) /* cut */
            n = (size_t)tkd_rng_below(&r, n);
        else if (m == 3 && n) { /* zero the tail */
            size_t at = (size_t)tkd_rng_below(&r, n);
            memset(b.data + at, 0, n - at);
        } else if (m == 4 && n) { /* a random byte */
            b.data[tkd_rng_below(&r, n)] = (char)tkd_rng_below(&r, 256);
        }
        int skip, want = parser_says(b.data, n, &skip);
        if (skip)
            continue;
        compared++;
        int got = store_json_valid(b.data, n);
        valid += want;
        if (got != want && disagree++ < 5)
            fprintf(stderr, "  check %d, parser %d: %.*s\n", got, want, (int)(n < 200 ? n : 200), b.data);
    }
    tkd_buf_free(&b);
    printf("  %d documents compared, %d valid, %d disagreements\n", compared, valid, disagree);
    CHECK_INT(disagree, 0);
    CHECK(valid > 50000 && compared - valid > 50000);
}

int main(void) {
    RUN(table);
    RUN(against_parser);
    return TEST_END();
}
