/* expr: the evaluation API called directly (what the toolkit and grader
 * use): Calcium round trips, Arb numerics with bound symbols, polynomial
 * conversion, coefficients, substitution with bound indices, derivatives,
 * simplify on containers, is_zero, closed forms of algebraic numbers,
 * rational functions with radical generators. Values are checked against facts
 * independent of tkd (known closed forms, identities, double math). */
#include "tkd/expr.h"
#include "tkd/expr_rf.h"
#include "tkd_test.h"

static tkd_expr *P(const char *s) {
    tkd_err e = {0};
    tkd_expr *x = NULL;
    if (tkd_expr_parse_str(s, &x, &e))
        fprintf(stderr, "parse %s: %s\n", s, e.msg);
    return x;
}

static char buf[4096];

static const char *S(tkd_expr *x) { /* prints and frees */
    char *s = tkd_expr_to_str(x);
    snprintf(buf, sizeof buf, "%s", s ? s : "(null)");
    free(s);
    tkd_expr_free(x);
    return buf;
}

TEST(calcium_roundtrip) {
    ca_ctx_t ctx;
    ca_ctx_init(ctx);
    ca_t v, w;
    ca_init(v, ctx);
    ca_init(w, ctx);
    tkd_err e = {0};
    tkd_expr *x = P("cos(pi/5)");
    CHECK_INT(tkd_expr_to_ca(v, x, ctx, &e), 0);
    tkd_expr_free(x);
    /* cos(pi/5) = (1 + sqrt(5))/4: compare inside Calcium */
    x = P("(1 + sqrt(5))/4");
    CHECK_INT(tkd_expr_to_ca(w, x, ctx, &e), 0);
    tkd_expr_free(x);
    CHECK(ca_check_equal(v, w, ctx) == T_TRUE);
    /* and back: the closed form evaluates to the same number */
    x = tkd_expr_from_ca(v, ctx, &e);
    CHECK(x != NULL);
    CHECK_INT(tkd_expr_to_ca(w, x, ctx, &e), 0);
    CHECK(ca_check_equal(v, w, ctx) == T_TRUE);
    tkd_expr_free(x);
    x = P("x + 1");
    CHECK_INT(tkd_expr_to_ca(v, x, ctx, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "'x'") != NULL);
    tkd_expr_free(x);
    ca_clear(v, ctx);
    ca_clear(w, ctx);
    ca_ctx_clear(ctx);
}

TEST(numerics) {
    tkd_err e = {0};
    tkd_expr *x = P("sin(x)**2 + exp(y)/3 + log(x*y, 2)");
    const char *names[] = {"x", "y"};
    double vals[] = {0.7, -1.25}, re, im;
    CHECK_INT(tkd_expr_eval_double(x, 2, names, vals, &re, &im, &e), 0);
    double want = sin(0.7) * sin(0.7) + exp(-1.25) / 3; /* log of a negative: complex */
    double lg = log(fabs(0.7 * -1.25)) / log(2.0);
    CHECK_NEAR(re, want + lg, 1e-12);
    CHECK_NEAR(im, M_PI / log(2.0), 1e-12);
    CHECK_INT(tkd_expr_eval_double(x, 1, names, vals, &re, &im, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "'y'") != NULL);
    tkd_expr_free(x);
    x = P("Sum(1/k**2, (k, 1, n))");
    const char *nn[] = {"n"};
    double n10[] = {10};
    CHECK_INT(tkd_expr_eval_double(x, 1, nn, n10, &re, &im, &e), 0);
    double s = 0;
    for (int k = 1; k <= 10; k++)
        s += 1.0 / (k * k);
    CHECK_NEAR(re, s, 1e-14);
    tkd_expr_free(x);
    /* certified: a 300-digit ball for pi has tiny radius */
    x = P("4*atan(1) - pi");
    acb_t v;
    acb_init(v);
    CHECK_INT(tkd_expr_eval_acb(v, x, 0, NULL, NULL, 1000, &e), 0);
    CHECK(acb_contains_zero(v) && mag_cmp_2exp_si(arb_radref(acb_realref(v)), -990) < 0);
    acb_clear(v);
    tkd_expr_free(x);
}

TEST(polynomials) {
    tkd_err e = {0};
    fmpq_poly_t p;
    fmpq_poly_init(p);
    tkd_expr *x = P("(x/2 + 1)**3 - x**3/8");
    CHECK_INT(tkd_expr_to_fmpq_poly(p, x, "x", &e), 0);
    CHECK_INT(fmpq_poly_degree(p), 2);
    fmpq_t c;
    fmpq_init(c);
    fmpq_poly_get_coeff_fmpq(c, p, 2);
    CHECK(fmpz_equal_si(fmpq_numref(c), 3) && fmpz_equal_si(fmpq_denref(c), 4));
    tkd_expr_free(x);
    CHECK_STR(S(tkd_expr_from_fmpq_poly(p, "t")), "3*t**2/4 + 3*t/2 + 1");
    x = P("x**2 + y");
    CHECK_INT(tkd_expr_to_fmpq_poly(p, x, "x", &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "y") != NULL);
    tkd_expr_free(x);
    x = P("1/x + 1");
    CHECK_INT(tkd_expr_to_fmpq_poly(p, x, "x", &e), TKD_EINVAL);
    tkd_expr_free(x);
    x = P("sin(x) + 1");
    CHECK_INT(tkd_expr_to_fmpq_poly(p, x, "x", &e), TKD_EINVAL);
    tkd_expr_free(x);
    fmpq_clear(c);
    fmpq_poly_clear(p);
    tkd_expr **co;
    slong deg;
    x = P("(a*x + b)**2 + sqrt(2)*x");
    CHECK_INT(tkd_expr_poly_coeffs(x, "x", &co, &deg, &e), 0);
    CHECK_INT(deg, 2);
    if (deg == 2) {
        CHECK_STR(S(co[2]), "a**2");
        co[2] = NULL;
        CHECK_STR(S(co[1]), "2*a*b + sqrt(2)");
        co[1] = NULL;
        CHECK_STR(S(co[0]), "b**2");
        co[0] = NULL;
    }
    tkd_expr_vec_free(co, (size_t)deg + 1);
    tkd_expr_free(x);
}

TEST(rewrite) {
    tkd_err e = {0};
    tkd_expr *x = P("Sum(k*x, (k, 1, k)) + k"), *v = P("y + 1"), *r;
    CHECK_INT(tkd_expr_subs(x, "k", v, &r, &e), 0);
    CHECK_STR(S(r), "Sum(k*x, (k, 1, y + 1)) + y + 1");
    tkd_expr_free(x);
    tkd_expr_free(v);
    x = P("x**3*sin(x)");
    CHECK_INT(tkd_expr_diff(x, "x", &r, &e), 0);
    CHECK_STR(S(r), "x**3*cos(x) + 3*x**2*sin(x)");
    tkd_expr_free(x);
    x = P("[x + x, Eq(2*y, y + y), Matrix([[x/x, 0], [0, 1]])]");
    CHECK_INT(tkd_expr_simplify(x, &r, &e), 0);
    CHECK_STR(S(r), "[2*x, Eq(2*y, 2*y), Matrix([[1, 0], [0, 1]])]");
    tkd_expr_free(x);
    x = P("x**4 - y**4");
    CHECK_INT(tkd_expr_factor(x, &r, &e), 0);
    CHECK_STR(S(r), "(x + y)*(x - y)*(x**2 + y**2)");
    tkd_expr_free(x);
}

TEST(is_zero) {
    tkd_err e = {0};
    const char *yes[] = {"sqrt(12) - 2*sqrt(3)",
                         "sin(x)**2 + cos(x)**2 - 1",
                         "(x+1)**2 - x**2 - 2*x - 1",
                         "cos(pi/5) - (1 + sqrt(5))/4",
                         "exp(I*pi) + 1",
                         "sin(2*x) - 2*sin(x)*cos(x)",
                         "sin(3*x) - 3*sin(x) + 4*sin(x)**3",
                         "exp(x + y) - exp(x)*exp(y)",
                         "tan(x) - sin(x)/cos(x)",
                         "1/(1 + sqrt(2)) - sqrt(2) + 1"};
    const char *no[] = {"sqrt(2) - 1.414", "x - y", "sin(x) - x", "pi - 355/113"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        tkd_expr *x = P(yes[i]);
        CHECK_INT(tkd_expr_is_zero(x, &e), TKD_EXPR_YES);
        tkd_expr_free(x);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        tkd_expr *x = P(no[i]);
        CHECK_INT(tkd_expr_is_zero(x, &e), TKD_EXPR_NO);
        tkd_expr_free(x);
    }
    /* zero at the positive sample points but not identically: numerics cannot certify YES */
    tkd_expr *x = P("sqrt(x**2) - x");
    CHECK_INT(tkd_expr_is_zero(x, &e), TKD_EXPR_UNKNOWN);
    tkd_expr_free(x);
}

TEST(roots) {
    tkd_err e = {0};
    tkd_expr *x = P("(x - 1)**2*(x**2 + 1)*(x**2 - 2)"), **r;
    slong *m;
    size_t n;
    CHECK_INT(tkd_expr_poly_roots(x, "x", 0, &r, &m, &n, &e), 0);
    CHECK_INT(n, 5);
    if (n == 5) {
        CHECK_STR(S(r[0]), "-sqrt(2)");
        CHECK_STR(S(r[1]), "1");
        CHECK_INT(m[1], 2);
        CHECK_STR(S(r[2]), "sqrt(2)");
        CHECK_STR(S(r[3]), "-I");
        CHECK_STR(S(r[4]), "I");
        for (int i = 0; i < 5; i++)
            r[i] = NULL;
    }
    tkd_expr_vec_free(r, n);
    free(m);
    CHECK_INT(tkd_expr_poly_roots(x, "x", 1, &r, NULL, &n, &e), 0);
    CHECK_INT(n, 3);
    tkd_expr_vec_free(r, n);
    tkd_expr_free(x);
    x = P("x**100 - 1");
    CHECK_INT(tkd_expr_poly_roots(x, "x", 0, &r, NULL, &n, &e), TKD_ELIMIT);
    CHECK(strstr(e.msg, "TKD_EXPR_MAX_ROOT_DEGREE") != NULL);
    tkd_expr_free(x);
    x = P("x - x");
    CHECK_INT(tkd_expr_poly_roots(x, "x", 0, &r, NULL, &n, &e), TKD_EINVAL);
    tkd_expr_free(x);
}

/* value of s exactly, compared with the rational p/q */
static int exact_is(const char *s, long p, long q) {
    ca_ctx_t ctx;
    ca_ctx_init(ctx);
    ca_t v;
    ca_init(v, ctx);
    tkd_err e = {0};
    tkd_expr *x = P(s);
    int ok = 0;
    if (x && !tkd_expr_to_ca(v, x, ctx, &e)) {
        fmpq_t a;
        fmpq_init(a);
        ok = ca_get_fmpq(a, v, ctx) && fmpz_equal_si(fmpq_numref(a), p) && fmpz_equal_si(fmpq_denref(a), q);
        fmpq_clear(a);
    }
    if (!ok)
        fprintf(stderr, "  %s: %s\n", s, e.msg);
    tkd_expr_free(x);
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
    return ok;
}

TEST(exact_functions) {
    CHECK(exact_is("frac(7/2)", 1, 2));
    CHECK(exact_is("Mod(11/2, 2)", 3, 2)); /* Python: 5.5 % 2 */
    CHECK(exact_is("Mod(-7, 3)", 2, 1));   /* the sign of the divisor */
    CHECK(exact_is("cos(pi/3) + sin(7*pi/6)", 0, 1));
    CHECK(exact_is("tan(pi/4)**2 + gamma(4)", 7, 1));
    ca_ctx_t ctx;
    ca_ctx_init(ctx);
    ca_t v;
    ca_init(v, ctx);
    tkd_err e = {0};
    tkd_expr *x = P("tan(pi/2)");
    CHECK_INT(tkd_expr_to_ca(v, x, ctx, &e), TKD_EMATH);
    tkd_expr_free(x);
    x = P("Mod(1, 0)");
    CHECK_INT(tkd_expr_to_ca(v, x, ctx, &e), TKD_EMATH);
    tkd_expr_free(x);
    ca_one(v, ctx);
    ca_div_ui(v, v, 0, ctx); /* 1/0: complex infinity */
    CHECK(tkd_expr_from_ca(v, ctx, &e) == NULL);
    CHECK_INT(e.code, TKD_EMATH);
    CHECK(strstr(e.msg, "zoo") != NULL);
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
}

/* every root of p written in closed form equals the root (Arb balls overlap) */
static void check_closed_forms(const char *poly) {
    fmpz_poly_t p;
    fmpz_poly_init(p);
    fmpz_poly_set_str(p, poly);
    slong d = fmpz_poly_degree(p);
    qqbar_ptr r = _qqbar_vec_init(d);
    qqbar_roots_fmpz_poly(r, p, 0);
    for (slong i = 0; i < d; i++) {
        tkd_err e = {0};
        tkd_expr *x = tkd_expr_from_qqbar(r + i, &e);
        CHECK(x != NULL);
        acb_t a, b;
        acb_init(a);
        acb_init(b);
        qqbar_get_acb(a, r + i, 128);
        CHECK(x && !tkd_expr_eval_acb(b, x, 0, NULL, NULL, 128, &e) && acb_overlaps(a, b));
        acb_clear(a);
        acb_clear(b);
        tkd_expr_free(x);
    }
    _qqbar_vec_clear(r, d);
    fmpz_poly_clear(p);
}

TEST(algebraic_closed_forms) {
    check_closed_forms("4  1 -3 0 1");  /* x^3 - 3x + 1: three real roots */
    check_closed_forms("4  -2 0 0 1");  /* x^3 - 2 */
    check_closed_forms("3  -1 1 1");    /* x^2 + x - 1 */
    check_closed_forms("5  1 0 0 0 1"); /* x^4 + 1 */
}

TEST(ratfun_radicals) {
    tkd_err e = {0};
    tkd_expr *x = P("(sqrt(2) + x**(1/2))**2 * y + x**(3/2)*sqrt(x) - I**2");
    const char *vars[] = {"z"};
    tkd_rf r;
    CHECK_INT(tkd_rf_init(&r, (const tkd_expr *const *)&x, 1, vars, 1, &e), 0);
    CHECK_INT((long)r.nsyms, 3); /* x, y, z */
    CHECK_INT((long)tkd_rf_var(&r, "z"), 2);
    CHECK_INT((long)tkd_rf_var(&r, "w"), -1);
    CHECK_INT(tkd_rf_var_in_atoms(&r, "x"), 1);
    CHECK_INT(tkd_rf_var_in_atoms(&r, "y"), 0);
    fmpz_mpoly_q_t q;
    fmpz_mpoly_q_init(q, r.ctx);
    CHECK_INT(tkd_rf_conv(&r, q, x, &e), 0);
    for (size_t g = r.nsyms; g < r.n; g++) /* every radical reduced */
        CHECK(fmpz_mpoly_degree_si(fmpz_mpoly_q_numref(q), (slong)g, r.ctx) < 2);
    tkd_expr *y = tkd_rf_to_expr(&r, q);
    tkd_expr *want = P("(x + 2 + 2*sqrt(2)*sqrt(x))*y + x**2 + 1");
    tkd_expr *diff = tkd_expr_sub(y, want);
    CHECK_INT(tkd_expr_is_zero(diff, &e), TKD_EXPR_YES);
    tkd_expr_free(diff);
    fmpz_mpoly_q_clear(q, r.ctx);
    tkd_rf_clear(&r);
    tkd_expr_free(x);
}

int main(void) {
    RUN(calcium_roundtrip);
    RUN(numerics);
    RUN(polynomials);
    RUN(rewrite);
    RUN(is_zero);
    RUN(roots);
    RUN(exact_functions);
    RUN(algebraic_closed_forms);
    RUN(ratfun_radicals);
    return TEST_END();
}
