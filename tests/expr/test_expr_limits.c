/* expr: adversarial inputs. Each must end in a clean error (TKD_EINVAL or
 * TKD_ELIMIT naming the limit) at once: a 1 MB argument, invalid UTF-8,
 * empty and NaN-like input, 10,000-deep nesting (no stack overflow, also
 * under ASan), huge powers, factorials, expansions, lists and sums. */
#include "tkd/expr.h"
#include "tkd_test.h"

static int parse_rc(const char *s, size_t n, tkd_err *e) {
    tkd_expr *x = (tkd_expr *)1;
    int rc = tkd_expr_parse(s, n, 0, &x, e);
    if (rc)
        CHECK(x == NULL);
    tkd_expr_free(rc ? NULL : x);
    return rc;
}

static char *repeat(const char *unit, size_t times, const char *mid, const char *tail_unit) {
    size_t ul = strlen(unit), ml = strlen(mid), tl = strlen(tail_unit);
    char *s = malloc(times * (ul + tl) + ml + 1), *p = s;
    for (size_t i = 0; i < times; i++, p += ul)
        memcpy(p, unit, ul);
    memcpy(p, mid, ml);
    p += ml;
    for (size_t i = 0; i < times; i++, p += tl)
        memcpy(p, tail_unit, tl);
    *p = 0;
    return s;
}

TEST(input_size_and_encoding) {
    tkd_err e = {0};
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = 0;
    CHECK_INT(parse_rc(big, n, &e), TKD_ELIMIT);
    CHECK(strstr(e.msg, "TKD_EXPR_MAX_INPUT") != NULL);
    free(big);
    CHECK_INT(parse_rc("\xff\xfe", 2, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "UTF-8") != NULL);
    CHECK_INT(parse_rc("x + \xc3", 5, &e), TKD_EINVAL);
    CHECK_INT(parse_rc("x\0y", 3, &e), TKD_EINVAL);
    CHECK_INT(parse_rc("", 0, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "empty") != NULL);
    CHECK_INT(parse_rc(" \t\n", 3, &e), TKD_EINVAL);
    const char *nanlike[] = {"nan", "NaN", "inf", "-inf", "zoo", "Infinity", "x + nan"};
    for (size_t i = 0; i < sizeof nanlike / sizeof *nanlike; i++)
        CHECK_INT(parse_rc(nanlike[i], strlen(nanlike[i]), &e), TKD_EINVAL);
    CHECK_INT(tkd_expr_parse(NULL, 0, 0, &(tkd_expr *){NULL}, &e), TKD_EINVAL);
}

TEST(deep_nesting) {
    tkd_err e = {0};
    const char *units[][3] = {{"(", "x", ")"},  {"-", "x", ""},  {"[", "1", "]"}, {"sin(", "x", ")"},
                              {"x**", "2", ""}, {"f(", "", ")"}, {"{", "1", "}"}, {"(1,", "2", ")"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        char *s = repeat(units[i][0], 10000, units[i][1], units[i][2]);
        size_t n = strlen(s);
        if (n > TKD_EXPR_MAX_INPUT) { /* keep under the input limit: test the depth limit */
            free(s);
            s = repeat(units[i][0], TKD_EXPR_MAX_INPUT / 8, units[i][1], units[i][2]);
            n = strlen(s);
        }
        int rc = parse_rc(s, n, &e);
        CHECK_INT(rc, TKD_ELIMIT);
        CHECK(strstr(e.msg, "TKD_EXPR_MAX_DEPTH") != NULL);
        free(s);
    }
    /* just under the limit parses and prints */
    char *s = repeat("(", TKD_EXPR_MAX_DEPTH / 2, "x", ")");
    tkd_expr *x;
    CHECK_INT(tkd_expr_parse_str(s, &x, &e), 0);
    tkd_expr_free(x);
    free(s);
}

static int simplify_rc(const char *src, tkd_err *e) {
    tkd_expr *x, *y = NULL;
    int rc = tkd_expr_parse_str(src, &x, e);
    if (rc)
        return rc;
    rc = tkd_expr_simplify(x, &y, e);
    tkd_expr_free(x);
    tkd_expr_free(y);
    return rc;
}

TEST(huge_numbers) {
    tkd_err e = {0};
    CHECK_INT(simplify_rc("2**(10**10)", &e), TKD_ELIMIT);
    CHECK(strstr(e.msg, "TKD_EXPR_MAX_INT_BITS") != NULL);
    CHECK_INT(simplify_rc("factorial(10**9)", &e), TKD_ELIMIT);
    CHECK_INT(simplify_rc("factorial(factorial(100))", &e), TKD_ELIMIT);
    CHECK_INT(simplify_rc("binomial(10**12, 5*10**11)", &e), TKD_ELIMIT);
    CHECK_INT(simplify_rc("10**(10**6) + x", &e), TKD_ELIMIT);
    CHECK_INT(simplify_rc("x**(10**30)*x", &e), TKD_ELIMIT);
    CHECK_INT(simplify_rc("sqrt(2)**(10**9)", &e), TKD_ELIMIT);
    CHECK_INT(simplify_rc("1e999999999", &e), TKD_ELIMIT);
    char *digits = repeat("9", 30000, "", "");
    CHECK_INT(simplify_rc(digits, &e), TKD_ELIMIT);
    free(digits);
    /* numerics are fine with huge magnitudes, but not with 10**9-term sums */
    tkd_expr *x;
    acb_t v;
    acb_init(v);
    CHECK_INT(tkd_expr_parse_str("2**(10**10)", &x, &e), 0);
    CHECK_INT(tkd_expr_eval_acb(v, x, 0, NULL, NULL, 64, &e), 0);
    tkd_expr_free(x);
    CHECK_INT(tkd_expr_parse_str("Sum(1/k, (k, 1, 10**9))", &x, &e), 0);
    CHECK_INT(tkd_expr_eval_acb(v, x, 0, NULL, NULL, 64, &e), TKD_ELIMIT);
    tkd_expr_free(x);
    acb_clear(v);
}

TEST(huge_polynomials) {
    tkd_err e = {0};
    const char *cases[] = {"(x+1)**100000", "(x+y+z)**1000",           "(x+y+z+w)**80",
                           "(2*x+3)**3000", "(x+1)**1500*(x+2)**1500", "(x+y)**1000*(x+z)**1000",
                           "1/(x+1)**5000", "(x**1000+1)**3",          "(x+1)**(10**6)"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tkd_expr *x, *y = NULL;
        CHECK_INT(tkd_expr_parse_str(cases[i], &x, &e), 0);
        int rc = tkd_expr_expand(x, &y, &e);
        CHECK_INT(rc, TKD_ELIMIT);
        CHECK(strstr(e.msg, "TKD_EXPR_MAX_") != NULL);
        tkd_expr_free(x);
        tkd_expr_free(y);
    }
    /* an exponent too big to read stays an opaque power: quick, not expanded */
    tkd_expr *p, *q = NULL;
    CHECK_INT(tkd_expr_parse_str("(x+1)**(2**70)", &p, &e), 0);
    int rc = tkd_expr_expand(p, &q, &e);
    CHECK(rc == 0 || rc == TKD_ELIMIT);
    tkd_expr_free(p);
    tkd_expr_free(q);
    /* a long list and a long sum hit the term limit while parsing */
    char *list = repeat("1,", 30000, "1", "");
    tkd_expr *x;
    CHECK_INT(tkd_expr_parse_str(list, &x, &e), TKD_EINVAL); /* bare commas: not a list */
    free(list);
    list = repeat("x+", 30000, "1", "");
    CHECK_INT(tkd_expr_parse_str(list, &x, &e), TKD_ELIMIT);
    CHECK(strstr(e.msg, "TKD_EXPR_MAX_TERMS") != NULL);
    free(list);
}

TEST(math_errors) {
    tkd_err e = {0};
    CHECK_INT(simplify_rc("1/0", &e), TKD_EMATH);
    CHECK_INT(simplify_rc("log(0)", &e), TKD_EMATH);
    CHECK_INT(simplify_rc("tan(pi/2)", &e), TKD_EMATH);
    CHECK_INT(simplify_rc("x/(y - y)", &e), TKD_EMATH);
    CHECK_INT(simplify_rc("Mod(5, 0)", &e), TKD_EMATH);
}

int main(void) {
    RUN(input_size_and_encoding);
    RUN(deep_nesting);
    RUN(huge_numbers);
    RUN(huge_polynomials);
    RUN(math_errors);
    return TEST_END();
}
