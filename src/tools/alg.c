/*
 * Algebra and polynomial tools: simplify, expand and factor an expression;
 * a polynomial's representation, degree and coefficients in one variable.
 * All go through the rational-function layer (rat.c): the canonical form is
 * cancelled and expanded, factoring is FLINT's multivariate factorization
 * over the integers, and atoms (sin(x), sqrt(2), ...) stay opaque.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/fmpz_mpoly_factor.h>

#define FACTOR_DEG_MAX 200 /* total degree factored */
#define FACTORS_MAX 256    /* factors written of a numerator or a denominator */

/* Parse args[key] and convert it; t and r are live on success. */
static int load(const tkd_json *args, const char *key, const char *var, tkd_rf *t, fmpz_mpoly_q_t *r, tkd_err *e) {
    tkd_expr *x;
    if (targ_expr(args, key, &x, e))
        return e->code;
    int rc = trat_from_ast(t, x, var ? &var : NULL, var ? 1 : 0, r, e);
    tkd_expr_free(x);
    return rc;
}

static void drop(tkd_rf *t, fmpz_mpoly_q_t r) {
    fmpz_mpoly_q_clear(r, t->ctx);
    tkd_rf_clear(t);
}

static int answer(tkd_arena *ta, tkd_json **result, tkd_expr *x, tkd_err *e) {
    if (!(*result = tjson_ast(ta, x)))
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    return 0;
}

static int t_simplify(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    tkd_expr *x, *y = NULL;
    if (targ_expr(args, "expression", &x, e))
        return tkd_err_wrap(e, "simplify_expression");
    tkd_err e2 = {0};
    int rc = tkd_expr_simplify(x, &y, &e2);
    tkd_expr_free(x);
    if (!rc && y) { /* expr's simplify (constants, canonical form, trig identities) */
        *result = tjson_ast(ta, y);
        return *result ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    if (e2.code == TKD_ELIMIT || e2.code == TKD_EMATH) {
        *e = e2;
        return tkd_err_wrap(e, "simplify_expression");
    }
    tkd_rf t;
    fmpz_mpoly_q_t r;
    if (load(args, "expression", NULL, &t, &r, e))
        return tkd_err_wrap(e, "simplify_expression");
    rc = answer(ta, result, tkd_rf_to_expr(&t, r), e);
    drop(&t, r);
    return rc;
}

static int t_expand(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    if (load(args, "expression", NULL, &t, &r, e))
        return tkd_err_wrap(e, "expand_expression");
    int rc = answer(ta, result, tkd_rf_to_expr(&t, r), e);
    drop(&t, r);
    return rc;
}

/* The factored form of p: content * prod f_i**e_i (sign > 0: numerator). */
static int factor_poly(tkd_rf *t, const fmpz_mpoly_t p, int sign, tkd_expr **fs, size_t *n, fmpq_t c, tkd_err *e) {
    if (fmpz_mpoly_total_degree_si(p, t->ctx) > FACTOR_DEG_MAX)
        return tkd_err_set(e, TKD_ELIMIT, "the polynomial has degree above %d, too high to factor here",
                           FACTOR_DEG_MAX);
    fmpz_mpoly_factor_t f;
    fmpz_mpoly_factor_init(f, t->ctx);
    if (!fmpz_mpoly_factor(f, p, t->ctx)) {
        fmpz_mpoly_factor_clear(f, t->ctx);
        return tkd_err_set(e, TKD_EMATH, "the polynomial could not be factored");
    }
    if (sign > 0)
        fmpq_mul_fmpz(c, c, f->constant);
    else
        fmpq_div_fmpz(c, c, f->constant);
    for (slong i = 0; i < f->num && *n < FACTORS_MAX; i++) {
        tkd_expr *b = tkd_rf_poly_to_expr(t, f->poly + i, NULL);
        long k = fmpz_get_si(f->exp + i) * sign;
        fs[(*n)++] = k == 1 ? b : tkd_expr_pow(b, tkd_expr_int(k));
    }
    fmpz_mpoly_factor_clear(f, t->ctx);
    return 0;
}

static int t_factor(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    if (load(args, "expression", NULL, &t, &r, e))
        return tkd_err_wrap(e, "factor_expression");
    tkd_expr *fs[2 * FACTORS_MAX + 1];
    size_t n = 1;
    fmpq_t c;
    fmpq_init(c);
    fmpq_one(c);
    int rc = 0;
    if (fmpz_mpoly_q_is_zero(r, t.ctx)) {
        fmpq_zero(c);
    } else {
        rc = factor_poly(&t, fmpz_mpoly_q_numref(r), 1, fs, &n, c, e);
        if (!rc)
            rc = factor_poly(&t, fmpz_mpoly_q_denref(r), -1, fs, &n, c, e);
    }
    if (!rc) {
        fs[0] = tkd_expr_fmpq(c);
        tkd_expr *x;
        if (n == 1 || fmpq_is_zero(c)) {
            x = fs[0];
            for (size_t i = 1; i < n; i++)
                tkd_expr_free(fs[i]);
        } else if (fmpq_is_one(c)) {
            tkd_expr_free(fs[0]);
            x = n == 2 ? fs[1] : tkd_expr_mul(n - 1, fs + 1);
        } else {
            x = tkd_expr_mul(n, fs);
        }
        rc = answer(ta, result, x, e);
    } else {
        for (size_t i = 1; i < n; i++)
            tkd_expr_free(fs[i]);
    }
    fmpq_clear(c);
    drop(&t, r);
    return rc ? tkd_err_wrap(e, "factor_expression") : 0;
}

/* ---- polynomials in one variable ---- */

typedef struct upoly {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    int v;     /* index of the variable */
    slong deg; /* degree in it */
} upoly;

static int upoly_load(const tkd_json *args, const char *tool, upoly *u, tkd_err *e) {
    const char *var;
    if (targ_var(args, "variable", NULL, &var, e))
        return tkd_err_wrap(e, "%s", tool);
    if (load(args, "expression", var, &u->t, &u->r, e))
        return tkd_err_wrap(e, "%s", tool);
    u->v = tkd_rf_var(&u->t, var);
    int rc = 0;
    if (tkd_rf_var_in_atoms(&u->t, var))
        rc = tkd_err_set(
            e, TKD_EMATH,
            "%s: the expression is not a polynomial in %s (%s appears inside a function, a root or an exponent)", tool,
            var, var);
    else if (fmpz_mpoly_degree_si(fmpz_mpoly_q_denref(u->r), u->v, u->t.ctx) > 0)
        rc = tkd_err_set(e, TKD_EMATH, "%s: the expression is not a polynomial in %s (%s appears in a denominator)",
                         tool, var, var);
    if (rc) {
        drop(&u->t, u->r);
        return rc;
    }
    u->deg = fmpz_mpoly_degree_si(fmpz_mpoly_q_numref(u->r), u->v, u->t.ctx);
    return 0;
}

/* Coefficient of var**k as an expression. */
static tkd_expr *upoly_coeff(upoly *u, slong k) {
    fmpz_mpoly_q_t c;
    fmpz_mpoly_q_init(c, u->t.ctx);
    slong v = u->v;
    ulong kk = (ulong)k;
    fmpz_mpoly_get_coeff_vars_ui(fmpz_mpoly_q_numref(c), fmpz_mpoly_q_numref(u->r), &v, &kk, 1, u->t.ctx);
    fmpz_mpoly_set(fmpz_mpoly_q_denref(c), fmpz_mpoly_q_denref(u->r), u->t.ctx);
    fmpz_mpoly_q_canonicalise(c, u->t.ctx);
    tkd_expr *x = tkd_rf_to_expr(&u->t, c);
    fmpz_mpoly_q_clear(c, u->t.ctx);
    return x;
}

static int t_poly_degree(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    upoly u;
    if (upoly_load(args, "polynomial_degree", &u, e))
        return e->code;
    int rc = 0;
    if (fmpz_mpoly_q_is_zero(u.r, u.t.ctx))
        rc = tkd_err_set(e, TKD_EMATH, "polynomial_degree: the zero polynomial has degree -oo");
    else
        *result = tkd_json_integer(ta, u.deg);
    drop(&u.t, u.r);
    return rc;
}

static int t_poly_coeffs(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    upoly u;
    if (upoly_load(args, "polynomial_coefficients", &u, e))
        return e->code;
    tkd_json *arr = tkd_json_new(ta, TKD_JSON_ARR);
    if (u.deg < 0)
        tkd_json_push(ta, arr, tkd_json_string(ta, "0"));
    for (slong k = u.deg; k >= 0; k--)
        tkd_json_push(ta, arr, tjson_ast(ta, upoly_coeff(&u, k)));
    *result = arr;
    drop(&u.t, u.r);
    return 0;
}

static int t_poly_repr(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    upoly u;
    if (upoly_load(args, "polynomial_representation", &u, e))
        return e->code;
    /* the domain: ZZ, QQ, ZZ[a,b], QQ[a,b] or EX (with function terms) */
    int integral = fmpz_mpoly_is_one(fmpz_mpoly_q_denref(u.r), u.t.ctx), atoms = 0;
    int *used = calloc(u.t.n ? u.t.n : 1, sizeof *used);
    if (used)
        fmpz_mpoly_q_used_vars(used, u.r, u.t.ctx);
    tkd_buf dom;
    tkd_buf_init(&dom);
    for (size_t g = u.t.nsyms; g < u.t.n; g++)
        atoms |= used && used[g];
    int first = 1;
    tkd_buf_puts(&dom, integral ? "ZZ" : "QQ");
    for (size_t g = 0; g < u.t.nsyms; g++)
        if (used && used[g] && (int)g != u.v) {
            tkd_buf_printf(&dom, "%s%s", first ? "[" : ",", u.t.gens[g]->name);
            first = 0;
        }
    if (!first)
        tkd_buf_putc(&dom, ']');
    /* sum of coeff_k * var**k, highest degree first */
    tkd_expr *terms[TKD_EXPR_MAX_DEGREE + 2];
    size_t n = 0;
    for (slong k = u.deg; k >= 0 && n < TKD_EXPR_MAX_DEGREE + 1; k--) {
        tkd_expr *c = upoly_coeff(&u, k);
        if (c && c->kind == TKD_EX_NUM && fmpq_is_zero(c->q)) {
            tkd_expr_free(c);
            continue;
        }
        tkd_expr *p = k == 0   ? NULL
                      : k == 1 ? tkd_expr_sym(u.t.gens[u.v]->name)
                               : tkd_expr_pow(tkd_expr_sym(u.t.gens[u.v]->name), tkd_expr_int(k));
        terms[n++] = !p                                                  ? c
                     : (c && c->kind == TKD_EX_NUM && fmpq_is_one(c->q)) ? (tkd_expr_free(c), p)
                                                                         : tkd_expr_mul2(c, p);
    }
    tkd_expr *body = n == 0 ? tkd_expr_int(0) : n == 1 ? terms[0] : tkd_expr_add(n, terms);
    char *bs = tkd_expr_to_str(body);
    tkd_expr_free(body);
    tkd_buf out;
    tkd_buf_init(&out);
    tkd_buf_printf(&out, "Poly(%s, %s, domain='%s')", bs ? bs : "?", u.t.gens[u.v]->name, atoms ? "EX" : dom.data);
    free(bs);
    *result = tkd_json_string(ta, out.data);
    tkd_buf_free(&out);
    tkd_buf_free(&dom);
    free(used);
    drop(&u.t, u.r);
    return 0;
}

#define P_EXPR(d)                                                                                                      \
    { "expression", TP_EXPR, 1, d }
#define P_VAR                                                                                                          \
    { "variable", TP_VAR, 1, "the variable, e.g. \"x\"" }

const struct tkd_tool tkd_tools_alg_table[] = {
    {"simplify_expression",
     "algebra",
     "simplify an expression (cancel, combine, evaluate exact numbers)",
     "Simplify a mathematical expression written in SymPy syntax: ** for powers, * for every product (2*x, not 2x), "
     "sqrt(), pi, E, I, exp(), log(), sin() etc. Rational expressions are cancelled and combined; exact numbers are "
     "evaluated (sqrt(8) -> 2*sqrt(2)). Example: {\"expression\": \"(x**2 - 1)/(x - 1)\"} -> \"x + 1\".",
     {P_EXPR("the expression in SymPy syntax, e.g. \"(x**2 - 1)/(x - 1)\"")},
     t_simplify},
    {"expand_expression",
     "algebra",
     "expand products and powers",
     "Expand products and integer powers of an expression in SymPy syntax (use ** for powers and * for products). "
     "Example: {\"expression\": \"(x + 1)**3\"} -> \"x**3 + 3*x**2 + 3*x + 1\".",
     {P_EXPR("the expression in SymPy syntax, e.g. \"(x + 2)*(x - 3)\"")},
     t_expand},
    {"factor_expression",
     "algebra",
     "factor over the rationals",
     "Factor a polynomial or rational expression over the rationals (SymPy syntax). Example: {\"expression\": \"x**2 - "
     "5*x + 6\"} -> \"(x - 3)*(x - 2)\".",
     {P_EXPR("the expression in SymPy syntax, e.g. \"x**3 - x\"")},
     t_factor},
    {"polynomial_representation",
     "polynomials",
     "the expression as a Poly in a variable",
     "Write an expression as a polynomial in the given variable, like SymPy's Poly. Example: {\"expression\": \"(x + "
     "1)**2\", \"variable\": \"x\"} -> \"Poly(x**2 + 2*x + 1, x, domain='ZZ')\".",
     {P_EXPR("a polynomial in SymPy syntax"), P_VAR},
     t_poly_repr},
    {"polynomial_degree",
     "polynomials",
     "degree in a variable",
     "Degree of a polynomial in the given variable (an integer). Example: {\"expression\": \"x**3 + 2*x*y**4\", "
     "\"variable\": \"y\"} -> 4.",
     {P_EXPR("a polynomial in SymPy syntax"), P_VAR},
     t_poly_degree},
    {"polynomial_coefficients",
     "polynomials",
     "coefficients, highest degree first",
     "All coefficients of a polynomial in the given variable, from the highest degree down to the constant term (zeros "
     "included). Example: {\"expression\": \"2*x**3 - x + 5\", \"variable\": \"x\"} -> [\"2\", \"0\", \"-1\", \"5\"].",
     {P_EXPR("a polynomial in SymPy syntax"), P_VAR},
     t_poly_coeffs},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
