/* expr: the parser and the plain/LaTeX printers on hand-checked cases, the
 * error messages (with column and hint), constructors, equality and hashing. */
#include "tkd/expr.h"
#include "tkd_test.h"

static char out[4096];

/* parse and print back; "ERR <code>" on failure */
static const char *rt(const char *src) {
    tkd_err e = {0};
    tkd_expr *x;
    int rc = tkd_expr_parse_str(src, &x, &e);
    if (rc) {
        snprintf(out, sizeof out, "ERR %d: %s", rc, e.msg);
        return out;
    }
    char *s = tkd_expr_to_str(x);
    snprintf(out, sizeof out, "%s", s ? s : "(nomem)");
    free(s);
    tkd_expr_free(x);
    return out;
}

static const char *tx(const char *src) {
    tkd_err e = {0};
    tkd_expr *x;
    if (tkd_expr_parse_str(src, &x, &e))
        return "ERR";
    char *s = tkd_expr_to_latex(x);
    snprintf(out, sizeof out, "%s", s ? s : "(nomem)");
    free(s);
    tkd_expr_free(x);
    return out;
}

TEST(roundtrip) {
    CHECK_STR(rt("x**2+2*x+1"), "x**2 + 2*x + 1");
    CHECK_STR(rt("x - y - 3"), "x - y - 3");
    CHECK_STR(rt("-x/2"), "-x/2");
    CHECK_STR(rt("sqrt(2)/2"), "sqrt(2)/2");
    CHECK_STR(rt("1/(x+1)"), "1/(x + 1)");
    CHECK_STR(rt("x^-2"), "1/x**2");
    CHECK_STR(rt("(-2)**x"), "(-2)**x");
    CHECK_STR(rt("x**y**z"), "x**(y**z)");
    CHECK_STR(rt("Rational(3, -6)"), "-1/2");
    CHECK_STR(rt("a-(-b)"), "a + b");
    CHECK_STR(rt("-(x+1)"), "-(x + 1)");
    CHECK_STR(rt("x = 2"), "x - 2");
    CHECK_STR(rt("2*x = y + 1"), "2*x - (y + 1)");
    CHECK_STR(rt("Eq(x, 1)"), "Eq(x, 1)");
    CHECK_STR(rt("x <= 3"), "x <= 3");
    CHECK_STR(rt("[1, 2.50, (1,)]"), "[1, 2.50, (1,)]");
    CHECK_STR(rt("{1,2}"), "{1, 2}");
    CHECK_STR(rt("Matrix([[1,2],[3,4]])"), "Matrix([[1, 2], [3, 4]])");
    CHECK_STR(rt("Matrix([1,2])"), "Matrix([[1], [2]])");
    CHECK_STR(rt("Interval.open(0, 1)"), "Interval.open(0, 1)");
    CHECK_STR(rt("Interval(0, 1, True, False)"), "Interval.Lopen(0, 1)");
    CHECK_STR(rt("5!"), "factorial(5)");
    CHECK_STR(rt("1e-3"), "0.001");
    CHECK_STR(rt("2.5E3"), "2500.0");
    CHECK_STR(rt("Sum(1/k**2, (k, 1, oo))"), "Sum(1/k**2, (k, 1, oo))");
    CHECK_STR(rt("ln(x) + arcsin(y)"), "log(x) + asin(y)");
    CHECK_STR(rt("root(x, 3)"), "x**(1/3)");
    CHECK_STR(rt("2 \xc3\x97 3 \xe2\x88\x92 \xcf\x80"), "6 - pi");
    CHECK_STR(rt("1 \xc2\xb1 sqrt(2)"), "1 \xc2\xb1 sqrt(2)");
    CHECK_STR(rt("-oo"), "-oo");
    CHECK_STR(rt("123456789012345678901234567890"), "123456789012345678901234567890");
}

TEST(decimal_places) {
    tkd_err e = {0};
    tkd_expr *x;
    CHECK_INT(tkd_expr_parse_str("0.330", &x, &e), 0);
    CHECK_INT(x->kind, TKD_EX_DEC);
    CHECK_INT(x->places, 3);
    CHECK(fmpz_cmp_ui(fmpq_numref(x->q), 33) == 0 && fmpz_cmp_ui(fmpq_denref(x->q), 100) == 0);
    tkd_expr_free(x);
    CHECK_INT(tkd_expr_parse_str("1.5e-2", &x, &e), 0);
    CHECK_INT(x->places, 3);
    tkd_expr_free(x);
}

TEST(errors) {
    CHECK(strstr(rt("2x"), "did you mean 2*x?"));
    CHECK(strstr(rt("x + )"), "unexpected ')'"));
    CHECK(strstr(rt("x + )"), "column 5"));
    CHECK(strstr(rt("((x)"), "missing"));
    CHECK(strstr(rt(""), "empty"));
    CHECK(strstr(rt("   "), "empty"));
    CHECK(strstr(rt("nan"), "ERR -1"));
    CHECK(strstr(rt("inf"), "oo"));
    CHECK(strstr(rt("zoo"), "ERR -1"));
    CHECK(strstr(rt("x.subs(x, 1)"), "method"));
    CHECK(strstr(rt("f(evaluate=False)"), "keyword"));
    CHECK(strstr(rt("a < b < c"), "chained"));
    CHECK(strstr(rt("x = 1 = 2"), "second '='"));
    CHECK(strstr(rt("sin(x, y)"), "takes 1 argument"));
    CHECK(strstr(rt("Matrix([[1, 2], [3]])"), "same length"));
    CHECK(strstr(rt("x $ y"), "unexpected '$'"));
    CHECK(strstr(rt("x(y)"), "ERR") == NULL); /* an undefined function call */
    CHECK(strstr(rt("(x)(y)"), "'*('"));
    CHECK(strstr(rt("Rational(1, 0)"), "zero"));
    CHECK(strstr(rt("\xff\xfe"), "UTF-8"));
    CHECK(strstr(rt("x \xe2\x82\xac"), "unexpected character"));
}

TEST(latex) {
    CHECK_STR(tx("x**2+2*x+1"), "x^{2} + 2 x + 1");
    CHECK_STR(tx("1/3"), "\\frac{1}{3}");
    CHECK_STR(tx("sqrt(2)/2"), "\\frac{\\sqrt{2}}{2}");
    CHECK_STR(tx("-x/2"), "-\\frac{x}{2}");
    CHECK_STR(tx("pi"), "\\pi");
    CHECK_STR(tx("x**(1/3)"), "x^{\\frac{1}{3}}");
    CHECK_STR(tx("Abs(x-1)"), "\\left|x - 1\\right|");
    CHECK_STR(tx("binomial(n, k)"), "\\binom{n}{k}");
    CHECK_STR(tx("x <= 3"), "x \\leq 3");
    CHECK_STR(tx("Matrix([[1,2],[3,4]])"), "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}");
    CHECK_STR(tx("Sum(1/k**2, (k, 1, oo))"), "\\sum_{k=1}^{\\infty} \\frac{1}{k^{2}}");
    CHECK_STR(tx("alpha_1 + theta"), "\\alpha_{1} + \\theta");
}

TEST(constructors) {
    tkd_expr *a = tkd_expr_add2(tkd_expr_pow(tkd_expr_sym("x"), tkd_expr_int(2)), tkd_expr_int(1));
    tkd_expr *b = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_expr_parse_str("x**2 + 1", &b, &e), 0);
    CHECK(a && b && tkd_expr_equal(a, b));
    CHECK(tkd_expr_hash(a) == tkd_expr_hash(b));
    tkd_expr *c = tkd_expr_copy(a);
    CHECK(tkd_expr_equal(a, c));
    fmpq_set_si(c->args[1]->q, 2, 1);
    CHECK(!tkd_expr_equal(a, c));
    CHECK(tkd_expr_hash(a) != tkd_expr_hash(c));
    tkd_expr_free(a);
    tkd_expr_free(b);
    tkd_expr_free(c);
    /* NULL propagation: a failed inner constructor frees the siblings */
    CHECK(tkd_expr_add2(tkd_expr_sym("x"), NULL) == NULL);
    CHECK(tkd_expr_rat(1, 0) == NULL);
    tkd_expr *v[3] = {tkd_expr_int(1), tkd_expr_sym("y"), tkd_expr_const(TKD_C_PI)};
    tkd_expr *s = tkd_expr_seq(TKD_EX_SET, 3, v);
    char *str = tkd_expr_to_str(s);
    CHECK_STR(str, "{1, y, pi}");
    free(str);
    tkd_expr_free(s);
    tkd_expr *pm = tkd_expr_pm(NULL, tkd_expr_sqrt(tkd_expr_int(2)));
    str = tkd_expr_to_str(pm);
    CHECK_STR(str, "\xc2\xb1sqrt(2)");
    free(str);
    tkd_expr_free(pm);
    const char **names;
    size_t n;
    CHECK_INT(tkd_expr_parse_str("Sum(k*x, (k, 1, n)) + y + x", &b, &e), 0);
    CHECK_INT(tkd_expr_free_syms(b, &names, &n, &e), 0);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(names[0], "n");
        CHECK_STR(names[1], "x");
        CHECK_STR(names[2], "y");
    }
    free(names);
    tkd_expr_free(b);
}

int main(void) {
    RUN(roundtrip);
    RUN(decimal_places);
    RUN(errors);
    RUN(latex);
    RUN(constructors);
    return TEST_END();
}
