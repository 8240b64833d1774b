/*
 * Roots of one equation in one variable, the engine under solve_equation,
 * find_roots, find_critical_points and the system solvers. The equation is
 * made a rational function (rat.c); its numerator is factored over the
 * integers (FLINT); each factor is solved exactly: rational roots directly,
 * factors with only numeric coefficients through qqbar (all complex roots,
 * written with radicals), others of degree 1 or 2 by formula with symbolic
 * coefficients. A variable inside exp, log, sqrt, Abs or b**x is freed by
 * inverting that function when it is the only such term. Roots that make a
 * denominator vanish are dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/fmpz_mpoly_factor.h>
#include <flint/fmpz_poly.h>
#include <flint/fmpz_poly_factor.h>

#define ROOT_DEG_MAX 12   /* irreducible factors above this have no radical form worth computing */

void tlist_free(tlist *l) {
    for (size_t i = 0; i < l->n; i++)
        tkd_expr_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Append x (owned) unless an equal element is there; NULL x is ENOMEM. */
int tlist_add(tlist *l, tkd_expr *x, tkd_err *e) {
    if (!x)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (size_t i = 0; i < l->n; i++)
        if (tkd_expr_equal(l->v[i], x)) {
            tkd_expr_free(x);
            return 0;
        }
    if (l->n == TKD_EXPR_MAX_TERMS) {
        tkd_expr_free(x);
        return tkd_err_set(e, TKD_ELIMIT, "too many solutions");
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        tkd_expr **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            tkd_expr_free(x);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

tkd_expr *tsubst(const tkd_expr *x, const char *name, const tkd_expr *val) {
    tkd_expr *out = NULL;
    tkd_err e = {0};
    return tkd_expr_subs(x, name, val, &out, &e) ? NULL : out;
}

tkd_expr *treplace(const tkd_expr *x, const tkd_expr *from, const tkd_expr *to) {
    if (tkd_expr_equal(x, from))
        return tkd_expr_copy(to);
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t i = 0; c && i < c->n; i++) {
        tkd_expr *r = treplace(x->args[i], from, to);
        if (!r) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = r;
    }
    return c;
}

/* Is the numeric expression x zero / nonnegative real? T_TRUE, T_FALSE or T_UNKNOWN. */
truth_t tnum_check(const tkd_expr *x, int what) {
    ca_ctx_t ctx;
    ca_t v;
    tca_ctx_init(ctx);
    ca_init(v, ctx);
    tkd_err e = {0};
    truth_t r = T_UNKNOWN;
    if (!tkd_expr_to_ca(v, x, ctx, &e)) {
        if (what == 0)
            r = ca_check_is_zero(v, ctx);
        else if (ca_check_is_real(v, ctx) == T_TRUE)
            r = ca_check_is_negative_real(v, ctx) == T_FALSE  ? T_TRUE
                : ca_check_is_negative_real(v, ctx) == T_TRUE ? T_FALSE
                                                              : T_UNKNOWN;
        else if (ca_check_is_real(v, ctx) == T_FALSE)
            r = T_FALSE;
    }
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
    return r;
}

/* f of degree d in v whose coefficients are algebraic numbers (sqrt(3), I):
 * its roots by talg_roots; TRAD_NOT_MINE when a coefficient has a symbol or
 * is no algebraic number. */
static int numeric_factor_roots(tkd_rf *t, const fmpz_mpoly_t f, int v, slong d, tlist *out, tkd_err *e) {
    int *used = calloc(t->n ? t->n : 1, sizeof *used);
    if (!used)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    fmpz_mpoly_used_vars(used, f, t->ctx);
    int numeric = 1;
    for (size_t g = 0; g < t->n && numeric; g++)
        if (used[g] && (int)g != v)
            numeric = g >= t->nsyms && !tkd_expr_has_sym(t->gens[g], NULL);
    free(used);
    if (!numeric)
        return TRAD_NOT_MINE;
    qqbar_ptr c = _qqbar_vec_init(d + 1);
    fmpz_mpoly_t C;
    fmpz_mpoly_init(C, t->ctx);
    ca_ctx_t ctx;
    ca_t z;
    tca_ctx_init(ctx);
    ca_init(z, ctx);
    slong vv = v;
    int rc = 0;
    for (slong k = 0; k <= d && !rc; k++) {
        ulong kk = (ulong)k;
        fmpz_mpoly_get_coeff_vars_ui(C, f, &vv, &kk, 1, t->ctx);
        tkd_expr *cx = tkd_rf_poly_to_expr(t, C, NULL);
        tkd_err e2 = {0};
        if (!cx || tkd_expr_to_ca(z, cx, ctx, &e2) || !ca_get_qqbar(c + k, z, ctx))
            rc = TRAD_NOT_MINE;
        tkd_expr_free(cx);
    }
    ca_clear(z, ctx);
    ca_ctx_clear(ctx);
    fmpz_mpoly_clear(C, t->ctx);
    if (!rc)
        rc = talg_roots(c, d, out, e);
    _qqbar_vec_clear(c, d + 1);
    return rc;
}

#define UNITY_PRIME_MAX 97 /* x**p = 1 answered for primes up to here */

/* The roots of x**(p-1) + ... + 1 (p an odd prime >= 7) as SymPy writes
 * them: (-1)**k*cos(k*pi/p) +- I*sin(k*pi/p), k = 1 .. (p-1)/2 (its radicals
 * are no use to anyone), and of the factor Phi_2p (x**p = -1) their
 * negatives. 1 when f is such a factor and its roots were added. */
static int unity_roots(tkd_rf *t, const fmpz_mpoly_t f, int v, tlist *out, tkd_err *e, int *rc) {
    if (!fmpz_mpoly_is_fmpz_poly(f, v, t->ctx))
        return 0;
    fmpz_poly_t p;
    fmpz_poly_init(p);
    fmpz_mpoly_get_fmpz_poly(p, f, v, t->ctx);
    ulong n = fmpz_poly_is_cyclotomic(p), twice = n % 2 == 0; /* Phi_2p: the negatives */
    fmpz_poly_clear(p);
    if (twice)
        n /= 2;
    if (n < 7 || n > UNITY_PRIME_MAX || !n_is_prime(n))
        return 0;
    *rc = 0;
    for (ulong k = 1; 2 * k < n && !*rc; k++) {
        for (int sg = -1; sg <= 1 && !*rc; sg += 2) {
            tkd_expr *ang = tkd_expr_div(k == 1 ? tkd_expr_const(TKD_C_PI)
                                                : tkd_expr_mul2(tkd_expr_int((long)k), tkd_expr_const(TKD_C_PI)),
                                         tkd_expr_int((long)n));
            tkd_expr *c = tkd_expr_fn1(TKD_FN_COS, tkd_expr_copy(ang));
            tkd_expr *s = tkd_expr_mul2(tkd_expr_const(TKD_C_I), tkd_expr_fn1(TKD_FN_SIN, ang));
            if ((k + twice) % 2)
                c = tkd_expr_neg(c);
            *rc = tlist_add(out, tkd_expr_add2(c, sg < 0 ? tkd_expr_neg(s) : s), e);
        }
    }
    return 1;
}

/* Roots of the irreducible factor f (in variable v of t). */
int tfactor_roots(tkd_rf *t, const fmpz_mpoly_t f, int v, tlist *out, tkd_err *e) {
    slong d = fmpz_mpoly_degree_si(f, v, t->ctx);
    if (d <= 0)
        return 0;
    int urc;
    if (unity_roots(t, f, v, out, e, &urc))
        return urc;
    if (d > ROOT_DEG_MAX)
        return tkd_err_set(
            e, TKD_EMATH,
            "unsupported: the equation has an irreducible factor of degree %ld; its roots have no closed form that "
            "can be written here",
            (long)d);
    if (fmpz_mpoly_is_fmpz_poly(f, v, t->ctx)) {
        fmpz_poly_t p;
        fmpz_poly_init(p);
        fmpz_mpoly_get_fmpz_poly(p, f, v, t->ctx);
        int rc = 0;
        if (d == 1) {
            fmpq_t q;
            fmpq_init(q);
            fmpz_neg(fmpq_numref(q), p->coeffs + 0);
            fmpz_set(fmpq_denref(q), p->coeffs + 1);
            fmpq_canonicalise(q);
            rc = tlist_add(out, tkd_expr_fmpq(q), e);
            fmpq_clear(q);
        } else {
            qqbar_ptr r = _qqbar_vec_init(d);
            qqbar_roots_fmpz_poly(r, p, QQBAR_ROOTS_IRREDUCIBLE);
            tlist got = {0};
            for (slong i = 0; i < d && !rc; i++) {
                tkd_expr *x = tkd_expr_from_qqbar(r + i, e);
                rc = x ? tlist_add(&got, x, e)
                     : e->code == TKD_EMATH
                         ? tkd_err_set(e, TKD_EMATH,
                                       "unsupported: the roots of an irreducible factor of degree %ld have no radical "
                                       "formula that can be written here",
                                       (long)d)
                         : e->code;
            }
            if (rc == TKD_EMATH) { /* Calcium has no formula: a binomial after a shift, a quartic */
                qqbar_ptr c = _qqbar_vec_init(d + 1);
                for (slong i = 0; i <= d; i++)
                    qqbar_set_fmpz(c + i, p->coeffs + i);
                tlist alt = {0};
                if (talg_roots(c, d, &alt, e) == 0) {
                    tlist_free(&got);
                    got = alt;
                    rc = 0;
                } else {
                    tlist_free(&alt);
                }
                _qqbar_vec_clear(c, d + 1);
            }
            for (size_t i = 0; i < got.n && !rc; i++) {
                rc = tlist_add(out, got.v[i], e);
                got.v[i] = NULL;
            }
            tlist_free(&got);
            _qqbar_vec_clear(r, d);
        }
        fmpz_poly_clear(p);
        return rc;
    }
    if (d > 2) {
        int rc = numeric_factor_roots(t, f, v, d, out, e);
        if (rc != TRAD_NOT_MINE)
            return rc;
        return tkd_err_set(e, TKD_EMATH,
                           "unsupported: a factor of degree %ld with symbolic coefficients has no general formula here",
                           (long)d);
    }
    /* c2 v^2 + c1 v + c0 with coefficients in the other generators */
    fmpz_mpoly_t c[3], D, s;
    slong vv = v;
    for (int k = 0; k < 3; k++) {
        ulong kk = (ulong)k;
        fmpz_mpoly_init(c[k], t->ctx);
        fmpz_mpoly_get_coeff_vars_ui(c[k], f, &vv, &kk, 1, t->ctx);
    }
    fmpz_mpoly_init(D, t->ctx);
    fmpz_mpoly_init(s, t->ctx);
    fmpz_mpoly_q_t q, a;
    fmpz_mpoly_q_init(q, t->ctx);
    fmpz_mpoly_q_init(a, t->ctx);
    int rc = 0;
    if (d == 1) { /* -c0 / c1 */
        fmpz_mpoly_neg(fmpz_mpoly_q_numref(q), c[0], t->ctx);
        fmpz_mpoly_set(fmpz_mpoly_q_denref(q), c[1], t->ctx);
        fmpz_mpoly_q_canonicalise(q, t->ctx);
        tkd_rf_reduce(t, q);
        rc = tlist_add(out, tkd_rf_to_expr(t, q), e);
    } else {
        fmpz_mpoly_mul(D, c[1], c[1], t->ctx); /* c1^2 - 4 c2 c0 */
        fmpz_mpoly_mul(s, c[2], c[0], t->ctx);
        fmpz_mpoly_scalar_mul_si(s, s, 4, t->ctx);
        fmpz_mpoly_sub(D, D, s, t->ctx);
        if (fmpz_mpoly_sqrt(s, D, t->ctx)) { /* a perfect square: rational roots */
            for (int sg = -1; sg <= 1 && !rc; sg += 2) {
                fmpz_mpoly_neg(fmpz_mpoly_q_numref(q), c[1], t->ctx);
                if (sg < 0)
                    fmpz_mpoly_sub(fmpz_mpoly_q_numref(q), fmpz_mpoly_q_numref(q), s, t->ctx);
                else
                    fmpz_mpoly_add(fmpz_mpoly_q_numref(q), fmpz_mpoly_q_numref(q), s, t->ctx);
                fmpz_mpoly_scalar_mul_si(fmpz_mpoly_q_denref(q), c[2], 2, t->ctx);
                fmpz_mpoly_q_canonicalise(q, t->ctx);
                tkd_rf_reduce(t, q);
                rc = tlist_add(out, tkd_rf_to_expr(t, q), e);
            }
        } else {
            fmpz_t one;
            fmpz_init_set_ui(one, 1);
            for (int sg = -1; sg <= 1 && !rc; sg += 2) {
                tkd_expr *sq = tkd_expr_sqrt(tkd_rf_poly_to_expr(t, D, one));
                tkd_expr *num =
                    tkd_expr_add2(tkd_expr_neg(tkd_rf_poly_to_expr(t, c[1], one)), sg < 0 ? tkd_expr_neg(sq) : sq);
                tkd_expr *x = tkd_expr_div(num, tkd_expr_mul2(tkd_expr_int(2), tkd_rf_poly_to_expr(t, c[2], one)));
                tkd_expr *n = x ? trat_normalize(x, e) : NULL;
                tkd_expr_free(x);
                rc = n ? tlist_add(out, n, e) : (e->code ? e->code : TKD_ENOMEM);
            }
            fmpz_clear(one);
        }
    }
    for (int k = 0; k < 3; k++)
        fmpz_mpoly_clear(c[k], t->ctx);
    fmpz_mpoly_clear(D, t->ctx);
    fmpz_mpoly_clear(s, t->ctx);
    fmpz_mpoly_q_clear(q, t->ctx);
    fmpz_mpoly_q_clear(a, t->ctx);
    return rc;
}

static int invert_atom(const tkd_expr *x, const char *var, int natoms, tlist *out, int depth, tkd_err *e);

/* Coefficients of N in var made of constants only (sqrt(3)*sqrt(13) - sqrt(39),
 * distinct generators to tkd_rf) that are zero as numbers are removed, so a
 * leading coefficient that vanishes cannot give wrong roots. */
static int drop_zero_coeffs(tkd_rf *t, fmpz_mpoly_struct *N, int v, tkd_err *e) {
    int *used = calloc(t->n ? t->n : 1, sizeof *used), consts = 0;
    if (!used)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    fmpz_mpoly_used_vars(used, N, t->ctx);
    for (size_t g = 0; g < t->n; g++) {
        if (!used[g] || (int)g == v)
            continue;
        if (g < t->nsyms || tkd_expr_has_sym(t->gens[g], NULL)) { /* a parameter: leave it */
            free(used);
            return 0;
        }
        consts = 1;
    }
    free(used);
    if (!consts)
        return 0;
    int rc = 0;
    fmpz_mpoly_t C, M;
    fmpz_mpoly_init(C, t->ctx);
    fmpz_mpoly_init(M, t->ctx);
    slong vv = v;
    for (slong k = fmpz_mpoly_degree_si(N, v, t->ctx); k >= 0 && !rc; k--) {
        ulong kk = (ulong)k;
        fmpz_mpoly_get_coeff_vars_ui(C, N, &vv, &kk, 1, t->ctx);
        if (fmpz_mpoly_is_zero(C, t->ctx) || fmpz_mpoly_is_fmpz(C, t->ctx))
            continue;
        tkd_expr *c = tkd_rf_poly_to_expr(t, C, NULL);
        truth_t z = c ? tnum_check(c, 0) : T_UNKNOWN;
        tkd_expr_free(c);
        if (z == T_UNKNOWN)
            rc = tkd_err_set(e, TKD_EMATH,
                             "unsupported: whether a coefficient of the equation is 0 could not be decided");
        else if (z == T_TRUE) {
            fmpz_mpoly_gen(M, vv, t->ctx);
            fmpz_mpoly_pow_ui(M, M, kk, t->ctx);
            fmpz_mpoly_mul(M, M, C, t->ctx);
            fmpz_mpoly_sub(N, N, M, t->ctx);
        }
    }
    fmpz_mpoly_clear(C, t->ctx);
    fmpz_mpoly_clear(M, t->ctx);
    return rc;
}

int troots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e) {
    if (depth > 4)
        return tkd_err_set(e, TKD_EMATH, "unsupported: the equation is nested too deeply to solve here");
    tkd_expr *ub = tlog_unbase(x);
    if (ub) {
        int rc = troots(ub, var, out, depth, e);
        tkd_expr_free(ub);
        return rc;
    }
    int rr = trad_roots(x, var, out, depth, e);
    if (rr == TRAD_NOT_MINE)
        rr = tlog_roots(x, var, out, depth, e);
    if (rr == TRAD_NOT_MINE)
        rr = texp_roots(x, var, out, depth, e);
    if (rr == TRAD_NOT_MINE)
        rr = ttrig_roots(x, var, out, depth, e);
    if (rr != TRAD_NOT_MINE)
        return rr;
    tkd_rf t;
    fmpz_mpoly_q_t r;
    if (trat_from_ast(&t, x, &var, 1, &r, e))
        return e->code;
    int v = tkd_rf_var(&t, var), rc = drop_zero_coeffs(&t, fmpz_mpoly_q_numref(r), v, e);
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r);
    if (rc) {
        /* e set */
    } else if (fmpz_mpoly_is_zero(N, t.ctx)) {
        rc = tkd_err_set(e, TKD_EMATH, "unsupported: the equation holds for every value of %s (it simplifies to 0 = 0)",
                         var);
    } else if (fmpz_mpoly_degree_si(N, v, t.ctx) > SOLVE_DEG_MAX) {
        rc = tkd_err_set(e, TKD_ELIMIT, "unsupported: the equation has degree %ld in %s; at most %d is solved here",
                         (long)fmpz_mpoly_degree_si(N, v, t.ctx), var, SOLVE_DEG_MAX);
    } else if (fmpz_mpoly_degree_si(N, v, t.ctx) > 0 || tkd_rf_var_in_atoms(&t, var)) {
        fmpz_mpoly_factor_t f;
        fmpz_mpoly_factor_init(f, t.ctx);
        tlist found = {0};
        if (fmpz_mpoly_is_fmpz_poly(N, v, t.ctx)) { /* univariate: FLINT's fast univariate factoring */
            fmpz_poly_t p;
            fmpz_poly_factor_t pf;
            fmpz_poly_init(p);
            fmpz_poly_factor_init(pf);
            fmpz_mpoly_get_fmpz_poly(p, N, v, t.ctx);
            fmpz_poly_factor(pf, p);
            for (slong i = 0; !rc && i < pf->num; i++) {
                fmpz_mpoly_t g;
                fmpz_mpoly_init(g, t.ctx);
                fmpz_mpoly_set_fmpz_poly(g, pf->p + i, v, t.ctx);
                rc = tfactor_roots(&t, g, v, &found, e);
                fmpz_mpoly_clear(g, t.ctx);
            }
            fmpz_poly_factor_clear(pf);
            fmpz_poly_clear(p);
        } else if (!fmpz_mpoly_factor(f, N, t.ctx))
            rc = tkd_err_set(e, TKD_EMATH, "unsupported: the equation could not be factored");
        int *used = calloc(t.n ? t.n : 1, sizeof *used), natoms = 0;
        for (size_t g = t.nsyms; g < t.n; g++)
            natoms += tkd_expr_has_sym(t.gens[g], var);
        for (slong i = 0; !rc && i < f->num; i++) {
            /* a factor with var inside a function is inverted on its own */
            int atom = 0;
            memset(used, 0, sizeof *used * (t.n ? t.n : 1));
            fmpz_mpoly_used_vars(used, f->poly + i, t.ctx);
            for (size_t g = t.nsyms; g < t.n; g++)
                atom |= used[g] && tkd_expr_has_sym(t.gens[g], var);
            if (atom) {
                tkd_expr *fx = tkd_rf_poly_to_expr(&t, f->poly + i, NULL);
                rc = fx ? invert_atom(fx, var, natoms, &found, depth, e) : TKD_ENOMEM;
                tkd_expr_free(fx);
            } else {
                rc = tfactor_roots(&t, f->poly + i, v, &found, e);
            }
        }
        free(used);
        fmpz_mpoly_factor_clear(f, t.ctx);
        /* drop roots where a denominator vanishes (possible with radicals) */
        tkd_expr *den = fmpz_mpoly_is_fmpz(fmpz_mpoly_q_denref(r), t.ctx)
                            ? NULL
                            : tkd_rf_poly_to_expr(&t, fmpz_mpoly_q_denref(r), NULL);
        for (size_t i = 0; !rc && i < found.n; i++) {
            int keep = 1;
            if (den && !tkd_expr_has_sym(found.v[i], NULL)) {
                tkd_expr *dv = tsubst(den, var, found.v[i]);
                keep = dv && tnum_check(dv, 0) != T_TRUE;
                tkd_expr_free(dv);
            }
            if (keep) {
                rc = tlist_add(out, found.v[i], e);
                found.v[i] = NULL;
            }
        }
        tkd_expr_free(den);
        tlist_free(&found);
    }
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return rc;
}

/* ---- a variable inside one function: invert it ---- */

static int find_atom(const tkd_expr *x, const char *var, const tkd_expr **atom) {
    if (!tkd_expr_has_sym(x, var))
        return 0;
    int is_atom =
        x->kind == TKD_EX_FUNC ||
        (x->kind == TKD_EX_POW && !(x->args[1]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(x->args[1]->q))));
    if (is_atom) {
        if (*atom && !tkd_expr_equal(*atom, x))
            return -1;
        *atom = x;
        return 0;
    }
    for (size_t i = 0; i < x->n; i++)
        if (find_atom(x->args[i], var, atom))
            return -1;
    return 0;
}

static int has_imaginary(const tkd_expr *x) {
    if (x->kind == TKD_EX_CONST && x->op == TKD_C_I)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (has_imaginary(x->args[i]))
            return 1;
    return 0;
}

/* natoms: the functions and powers of var in the whole equation (SymPy's
 * choice of trig solutions is followed only for a single one). */
static int invert_atom(const tkd_expr *x, const char *var, int natoms, tlist *out, int depth, tkd_err *e) {
    const tkd_expr *atom = NULL;
    tkd_expr *p = trat_prep(x, e);
    if (!p)
        return e->code;
    int rc = 0;
    if (find_atom(p, var, &atom) || !atom) {
        tkd_expr_free(p);
        return tkd_err_set(e, TKD_EMATH,
                           "unsupported: solving this equation for %s (%s appears inside more than one function or "
                           "power); try rewriting it as a polynomial equation",
                           var, var);
    }
    static const char *W = "tkd_w_";
    tkd_expr *w = tkd_expr_sym(W);
    tkd_expr *y = treplace(p, atom, w);
    tlist vals = {0};
    if (!y || !w)
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    else
        rc = troots(y, W, &vals, depth + 1, e);
    tkd_expr *u = NULL;
    int kind = 0; /* 1 sqrt-like power, 2 exp, 3 log, 4 b**u, 5 Abs, 6 sin, 7 cos, 8 tan, 9 cot */
    tkd_expr *pw = NULL;
    if (atom->kind == TKD_EX_FUNC && atom->n == 1 &&
        (atom->op == TKD_FN_EXP || atom->op == TKD_FN_LOG || atom->op == TKD_FN_ABS)) {
        u = atom->args[0];
        kind = atom->op == TKD_FN_EXP ? 2 : atom->op == TKD_FN_LOG ? 3 : 5;
    } else if (atom->kind == TKD_EX_FUNC && atom->n == 1 &&
               (atom->op == TKD_FN_SIN || atom->op == TKD_FN_COS || atom->op == TKD_FN_TAN || atom->op == TKD_FN_COT)) {
        u = atom->args[0];
        kind = atom->op == TKD_FN_SIN ? 6 : atom->op == TKD_FN_COS ? 7 : atom->op == TKD_FN_TAN ? 8 : 9;
    } else if (atom->kind == TKD_EX_POW && atom->args[1]->kind == TKD_EX_NUM &&
               !tkd_expr_has_sym(atom->args[1], NULL) && fmpz_is_one(fmpq_numref(atom->args[1]->q)) &&
               fmpz_cmp_ui(fmpq_denref(atom->args[1]->q), 2) == 0) {
        u = atom->args[0];
        kind = 1;
    } else if (atom->kind == TKD_EX_POW && !tkd_expr_has_sym(atom->args[0], NULL)) {
        u = atom->args[1];
        kind = 4;
        if (tnum_check(atom->args[0], 1) != T_TRUE) {
            kind = 0;
        } else if (atom->args[0]->kind == TKD_EX_NUM && !fmpq_is_one(atom->args[0]->q)) {
            /* SymPy solves 4**f(x) = w as (2**f(x))**2 = w, with a root more: not ours to guess */
            fmpq_t r;
            slong k;
            fmpq_init(r);
            tperfect_root(atom->args[0]->q, r, &k);
            fmpq_clear(r);
            if (k != 1 && k != -1)
                rc = rc ? rc
                        : tkd_err_set(e, TKD_EMATH,
                                      "unsupported: a power of %s with a base that is itself a power (write it with "
                                      "the smallest base, e.g. 2**(2*f) for 4**f)",
                                      var);
        }
    }
    if (!rc && kind >= 6) { /* SymPy's principal trig solutions: one sin/cos/tan of a polynomial */
        tkd_rf tu;
        fmpz_mpoly_q_t ru;
        tkd_err e2 = {0};
        int poly = !trat_from_ast(&tu, u, &var, 1, &ru, &e2);
        if (poly) {
            poly = !tkd_rf_var_in_atoms(&tu, var) && !has_imaginary(u);
            fmpz_mpoly_q_clear(ru, tu.ctx);
            tkd_rf_clear(&tu);
        }
        if (!poly || natoms != 1)
            rc = tkd_err_set(e, TKD_EMATH,
                             "unsupported: a trigonometric equation with more than one function of %s or a "
                             "non-polynomial argument",
                             var);
    }
    if (!rc && kind >= 2 && kind <= 4 && has_imaginary(u) &&
        !(u->kind == TKD_EX_MUL && !(u->args[0]->kind == TKD_EX_NUM && tfmpz_abs_gt(fmpq_numref(u->args[0]->q), 1))))
        /* exp(9*I*t) = w: SymPy answers with exp(I*t) as the unknown (nine roots); exp(I*t) = w and
         * exp(pi*I*t/6) = w it answers with one logarithm, as here */
        rc = tkd_err_set(e, TKD_EMATH, "unsupported: an exponential or logarithm of a complex multiple of %s", var);
    if (!rc && !kind)
        rc = tkd_err_set(e, TKD_EMATH,
                         "unsupported: solving equations with %s inside this kind of function (only exp, log, "
                         "sqrt, Abs, sin, cos, tan, cot and b**x are inverted)",
                         var);
    for (size_t i = 0; !rc && i < vals.n; i++) {
        const tkd_expr *wv = vals.v[i];
        if (tkd_expr_has_sym(wv, NULL) && kind != 2 && kind != 3 && kind < 6) {
            rc = tkd_err_set(e, TKD_EMATH, "unsupported: solving for %s needs a sign condition on a symbolic value",
                             var);
            break;
        }
        tkd_expr *targets[2] = {NULL, NULL};
        if (kind == 1) { /* sqrt(u) = w, w >= 0 */
            if (tnum_check(wv, 1) == T_TRUE)
                targets[0] = tkd_expr_pow(tkd_expr_copy(wv), tkd_expr_int(2));
        } else if (kind == 2) { /* exp(u) = w, w != 0: the real logarithm when w > 0 */
            if (tkd_expr_has_sym(wv, NULL) || tnum_check(wv, 0) == T_FALSE)
                targets[0] = tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(wv));
        } else if (kind == 3) {
            targets[0] = tkd_expr_fn1(TKD_FN_EXP, tkd_expr_copy(wv));
        } else if (kind == 4) { /* b**u = w > 0 */
            if (tnum_check(wv, 1) == T_TRUE && tnum_check(wv, 0) == T_FALSE)
                targets[0] = tkd_expr_div(tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(wv)),
                                          tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(atom->args[0])));
        } else if (kind == 5) { /* |u| = w >= 0 */
            if (tnum_check(wv, 1) == T_TRUE) {
                targets[0] = tkd_expr_copy(wv);
                targets[1] = tkd_expr_neg(tkd_expr_copy(wv));
            }
        } else if (kind == 6) { /* SymPy's choice: asin(w) and pi - asin(w) */
            targets[0] = tkd_expr_fn1(TKD_FN_ASIN, tkd_expr_copy(wv));
            targets[1] = tkd_expr_sub(tkd_expr_const(TKD_C_PI), tkd_expr_fn1(TKD_FN_ASIN, tkd_expr_copy(wv)));
        } else if (kind == 7) { /* acos(w) and 2*pi - acos(w) */
            targets[0] = tkd_expr_fn1(TKD_FN_ACOS, tkd_expr_copy(wv));
            targets[1] = tkd_expr_sub(tkd_expr_mul2(tkd_expr_int(2), tkd_expr_const(TKD_C_PI)),
                                      tkd_expr_fn1(TKD_FN_ACOS, tkd_expr_copy(wv)));
        } else if (kind == 8) {
            targets[0] = tkd_expr_fn1(TKD_FN_ATAN, tkd_expr_copy(wv));
        } else if (kind == 9) { /* SymPy's acot(w), in (-pi/2, pi/2]; cot(u) = 0 at pi/2 */
            targets[0] = tnum_check(wv, 0) == T_TRUE ? tkd_expr_div(tkd_expr_const(TKD_C_PI), tkd_expr_int(2))
                                                     : tkd_expr_fn1(TKD_FN_ACOT, tkd_expr_copy(wv));
        }
        for (int k = 0; k < 2 && kind >= 6; k++) { /* asin(1/2) -> pi/6, so equal targets are one */
            tkd_expr *sv = NULL;
            tkd_err e2 = {0};
            if (targets[k] && !tkd_expr_simplify(targets[k], &sv, &e2) && sv) {
                tkd_expr_free(targets[k]);
                targets[k] = sv;
            }
        }
        for (int k = 0; k < 2 && !rc; k++) {
            if (!targets[k])
                continue;
            tlist sol = {0};
            fmpq_t a;
            tkd_expr *c = NULL;
            fmpq_init(a);
            if (kind >= 6 && tlinear(u, var, a, &c)) { /* x = (target - c)/a, kept as asin(1/3) */
                fmpq_inv(a, a);
                tkd_expr *xv = tkd_expr_mul2(tkd_expr_fmpq(a), tkd_expr_sub(tkd_expr_copy(targets[k]), c)), *sv = NULL;
                tkd_err e2 = {0};
                if (xv && !tkd_expr_simplify(xv, &sv, &e2) && sv) {
                    tkd_expr_free(xv);
                    xv = sv;
                }
                rc = tlist_add(&sol, xv, e);
            }
            fmpq_clear(a);
            tkd_expr *eq = tkd_expr_sub(tkd_expr_copy(u), targets[k]);
            targets[k] = NULL;
            if (!rc && !sol.n)
                rc = eq ? troots(eq, var, &sol, depth + 1, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
            /* keep the solutions of the original equation (squaring may add some) */
            for (size_t j = 0; !rc && j < sol.n; j++) {
                tkd_expr *chk = tsubst(p, var, sol.v[j]);
                truth_t z = chk && !tkd_expr_has_sym(chk, NULL) ? tnum_check(chk, 0) : T_UNKNOWN;
                tkd_expr_free(chk);
                /* exp, log, b**u and the trig functions are inverted exactly: an undecided check keeps
                 * the root (2**x = 3, sin(x) = 1/3) */
                int ok = z == T_TRUE || (z == T_UNKNOWN && kind >= 2 && kind != 5);
                if (z == T_UNKNOWN && !ok) {
                    rc = tkd_err_set(e, TKD_EMATH, "unsupported: a candidate root could not be checked exactly");
                    break;
                }
                if (ok) {
                    rc = tlist_add(out, sol.v[j], e);
                    sol.v[j] = NULL;
                }
            }
            tlist_free(&sol);
            tkd_expr_free(eq);
        }
        tkd_expr_free(targets[1]);
    }
    (void)pw;
    tlist_free(&vals);
    tkd_expr_free(w);
    tkd_expr_free(y);
    tkd_expr_free(p);
    return rc;
}

/* ---- presentation: real roots ascending, then complex ones by real part ---- */

typedef struct keyed {
    tkd_expr *x;
    double re, im;
    int numeric;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *p = a, *q = b;
    if (p->numeric != q->numeric)
        return q->numeric - p->numeric;
    int pr = p->im == 0, qr = q->im == 0;
    if (pr != qr)
        return qr - pr;
    if (p->re != q->re)
        return p->re < q->re ? -1 : 1;
    return p->im < q->im ? -1 : p->im > q->im;
}

void tlist_sort(tlist *l) {
    keyed *k = calloc(l->n ? l->n : 1, sizeof *k);
    if (!k)
        return;
    for (size_t i = 0; i < l->n; i++) {
        tkd_err e = {0};
        k[i].x = l->v[i];
        k[i].numeric =
            !tkd_expr_has_sym(l->v[i], NULL) && !tkd_expr_eval_double(l->v[i], 0, NULL, NULL, &k[i].re, &k[i].im, &e);
        if (k[i].numeric && k[i].im > -1e-12 && k[i].im < 1e-12)
            k[i].im = 0;
    }
    qsort(k, l->n, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < l->n; i++)
        l->v[i] = k[i].x;
    free(k);
}
