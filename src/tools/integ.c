/*
 * Integration tools. integrate: polynomials (any coefficients), rational
 * functions with rational coefficients (partial fractions over the factors
 * of the denominator: logs for linear factors, log + atan for quadratics),
 * and sums of terms x**k * g(a*x + b) with g among exp, sin, cos, b**u,
 * log and rational powers (integration by parts in tabular form); products
 * sin**m cos**n, tan, cot and rational functions of b**x (integ_more.c). Every
 * antiderivative is checked by differentiating it (expr) before it is
 * answered; anything else is reported as unsupported, never guessed.
 * definite_integral: F(upper) - F(lower), refusing a pole of a rational
 * integrand inside the interval.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/fmpq_poly.h>
#include <flint/fmpz_poly.h>
#include <flint/fmpz_poly_factor.h>

static tkd_expr *X(const char *v) {
    return tkd_expr_sym(v);
}

/* ∫ c / P**j for P = p1 x + p0 linear, j >= 1 */
static tkd_expr *int_linear(const fmpq_t c, const fmpq_poly_t P, slong j, const char *v) {
    fmpq_t p1, k;
    fmpq_init(p1);
    fmpq_init(k);
    fmpq_poly_get_coeff_fmpq(p1, P, 1);
    tkd_expr *Pe = tkd_expr_from_fmpq_poly(P, v);
    tkd_expr *r;
    if (j == 1) { /* c/p1 log(P) */
        fmpq_div(k, c, p1);
        r = tkd_expr_mul2(tkd_expr_fmpq(k), tkd_expr_fn1(TKD_FN_LOG, Pe));
    } else { /* -c / (p1 (j-1) P^(j-1)) */
        fmpq_div(k, c, p1);
        fmpq_div_fmpz(k, k, (fmpz_t){j - 1});
        fmpq_neg(k, k);
        r = tkd_expr_mul2(tkd_expr_fmpq(k), tkd_expr_pow(Pe, tkd_expr_int(-(j - 1))));
    }
    fmpq_clear(p1);
    fmpq_clear(k);
    return r;
}

/* ∫ (B x + C) / P for P = p2 x^2 + p1 x + p0 irreducible over Q */
static tkd_expr *int_quadratic(const fmpq_poly_t A, const fmpq_poly_t P, const char *v) {
    fmpq_t B, C, p2, p1, p0, D, k, m;
    fmpq_init(B);
    fmpq_init(C);
    fmpq_init(p2);
    fmpq_init(p1);
    fmpq_init(p0);
    fmpq_init(D);
    fmpq_init(k);
    fmpq_init(m);
    fmpq_poly_get_coeff_fmpq(B, A, 1);
    fmpq_poly_get_coeff_fmpq(C, A, 0);
    fmpq_poly_get_coeff_fmpq(p2, P, 2);
    fmpq_poly_get_coeff_fmpq(p1, P, 1);
    fmpq_poly_get_coeff_fmpq(p0, P, 0);
    /* B/(2 p2) log(P) + (C - B p1/(2 p2)) ∫ 1/P */
    fmpq_div(k, B, p2);
    fmpq_div_fmpz(k, k, (fmpz_t){2});
    fmpq_mul(m, k, p1);
    fmpq_sub(m, C, m);
    tkd_expr *r = tkd_expr_mul2(tkd_expr_fmpq(k), tkd_expr_fn1(TKD_FN_LOG, tkd_expr_from_fmpq_poly(P, v)));
    if (!fmpq_is_zero(m)) {
        fmpq_mul(D, p1, p1); /* D = p1^2 - 4 p0 p2 */
        fmpq_mul(k, p0, p2);
        fmpq_mul_fmpz(k, k, (fmpz_t){4});
        fmpq_sub(D, D, k);
        /* u = 2 p2 x + p1 */
        fmpq_poly_t U;
        fmpq_poly_init(U);
        fmpq_poly_set_fmpq(U, p1);
        fmpq_mul_fmpz(k, p2, (fmpz_t){2});
        fmpq_poly_set_coeff_fmpq(U, 1, k);
        tkd_expr *g;
        if (fmpq_sgn(D) < 0) { /* 2/sqrt(-D) atan(u/sqrt(-D)) */
            fmpq_neg(D, D);
            g = tkd_expr_mul2(tkd_expr_div(tkd_expr_int(2), tkd_expr_sqrt(tkd_expr_fmpq(D))),
                              tkd_expr_fn1(TKD_FN_ATAN, tkd_expr_div(tkd_expr_from_fmpq_poly(U, v),
                                                                     tkd_expr_sqrt(tkd_expr_fmpq(D)))));
        } else { /* 1/sqrt(D) log((u - sqrt D)/(u + sqrt D)) */
            g = tkd_expr_mul2(tkd_expr_div(tkd_expr_int(1), tkd_expr_sqrt(tkd_expr_fmpq(D))),
                              tkd_expr_fn1(TKD_FN_LOG, tkd_expr_div(tkd_expr_sub(tkd_expr_from_fmpq_poly(U, v),
                                                                                 tkd_expr_sqrt(tkd_expr_fmpq(D))),
                                                                    tkd_expr_add2(tkd_expr_from_fmpq_poly(U, v),
                                                                                  tkd_expr_sqrt(tkd_expr_fmpq(D))))));
        }
        fmpq_poly_clear(U);
        r = tkd_expr_add2(r, tkd_expr_mul2(tkd_expr_fmpq(m), g));
    }
    fmpq_clear(B);
    fmpq_clear(C);
    fmpq_clear(p2);
    fmpq_clear(p1);
    fmpq_clear(p0);
    fmpq_clear(D);
    fmpq_clear(k);
    fmpq_clear(m);
    return r;
}

/* ∫ N/D dx for N, D in Q[x]. */
int tinteg_rational(const fmpq_poly_t N, const fmpq_poly_t Dq, const char *v, tkd_expr **out, tkd_err *e) {
    fmpq_poly_t Q, R, F, Rest, A, inv, g, t, P;
    fmpq_poly_init(Q);
    fmpq_poly_init(R);
    fmpq_poly_init(F);
    fmpq_poly_init(Rest);
    fmpq_poly_init(A);
    fmpq_poly_init(inv);
    fmpq_poly_init(g);
    fmpq_poly_init(t);
    fmpq_poly_init(P);
    fmpq_poly_divrem(Q, R, N, Dq);
    fmpq_poly_integral(Q, Q);
    tkd_expr *terms[512];
    size_t n = 0;
    terms[n++] = tkd_expr_from_fmpq_poly(Q, v);
    int rc = 0;
    if (!fmpq_poly_is_zero(R)) {
        fmpz_poly_t Dz;
        fmpz_poly_init(Dz);
        fmpq_poly_get_numerator(Dz, Dq);
        fmpz_poly_factor_t fac;
        fmpz_poly_factor_init(fac);
        fmpz_poly_factor(fac, Dz);
        for (slong i = 0; i < fac->num && !rc; i++) {
            slong m = fac->exp[i], d = fmpz_poly_degree(fac->p + i);
            fmpq_poly_set_fmpz_poly(P, fac->p + i);
            fmpq_poly_pow(F, P, (ulong)m); /* F = P^m, Rest = D / F */
            fmpq_poly_div(Rest, Dq, F);
            /* A = R * Rest^-1 mod F */
            fmpq_poly_xgcd(g, inv, t, Rest, F); /* g = 1 (monic gcd of coprime polynomials) */
            fmpq_poly_mul(A, R, inv);
            fmpq_poly_rem(A, A, F);
            if (d > 2 || (d == 2 && m > 1)) {
                rc = tkd_err_set(
                    e, TKD_EMATH,
                    "integrating a rational function whose denominator has a %s factor is not supported here",
                    d > 2 ? "cubic or higher irreducible" : "repeated quadratic");
                break;
            }
            /* P-adic expansion A = sum a_j P^j, then a_j / P^(m - j) */
            for (slong j = 0; j < m && !fmpq_poly_is_zero(A) && n < 500; j++) {
                fmpq_poly_divrem(A, t, A, P);
                if (fmpq_poly_is_zero(t))
                    continue;
                if (d == 1) {
                    fmpq_t c;
                    fmpq_init(c);
                    fmpq_poly_get_coeff_fmpq(c, t, 0);
                    terms[n++] = int_linear(c, P, m - j, v);
                    fmpq_clear(c);
                } else {
                    terms[n++] = int_quadratic(t, P, v);
                }
            }
        }
        fmpz_poly_factor_clear(fac);
        fmpz_poly_clear(Dz);
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            tkd_expr_free(terms[i]);
    } else {
        *out = n == 1 ? terms[0] : tkd_expr_add(n, terms);
    }
    fmpq_poly_clear(Q);
    fmpq_poly_clear(R);
    fmpq_poly_clear(F);
    fmpq_poly_clear(Rest);
    fmpq_poly_clear(A);
    fmpq_poly_clear(inv);
    fmpq_poly_clear(g);
    fmpq_poly_clear(t);
    fmpq_poly_clear(P);
    return rc;
}

/* ---- terms c * x^k * g(u), u = a x + b ---- */

/* a and b of u = a x + b (a free of x and nonzero), or 0. */
static int linear_in(const tkd_expr *u, const char *v, tkd_expr **a, tkd_expr **b) {
    tkd_expr *d = NULL, *u0 = NULL, *z = tkd_expr_int(0);
    tkd_err e = {0};
    int ok = !tkd_expr_diff(u, v, &d, &e) && d && !tkd_expr_has_sym(d, v) &&
             !(d->kind == TKD_EX_NUM && fmpq_is_zero(d->q)) && !tkd_expr_subs(u, v, z, &u0, &e);
    tkd_expr_free(z);
    if (ok) {
        *a = d;
        *b = u0;
        return 1;
    }
    tkd_expr_free(d);
    tkd_expr_free(u0);
    return 0;
}

/* The j-th repeated antiderivative of g(u) (j >= 1), u = a x + b. */
static tkd_expr *anti(const tkd_expr *g, const tkd_expr *a, int j) {
    tkd_expr *u = tkd_expr_copy(g->args[g->kind == TKD_EX_POW ? 1 : 0]);
    tkd_expr *scale = tkd_expr_pow(tkd_expr_copy(a), tkd_expr_int(-j));
    if (g->kind == TKD_EX_POW) { /* c^u: c^u / (a log c)^j */
        tkd_expr *lc = tkd_expr_pow(tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(g->args[0])), tkd_expr_int(-j));
        return tkd_expr_mul(3, (tkd_expr *[]){tkd_expr_pow(tkd_expr_copy(g->args[0]), u), scale, lc});
    }
    tkd_expr *f;
    switch (g->op) {
    case TKD_FN_EXP: f = tkd_expr_fn1(TKD_FN_EXP, u); break;
    case TKD_FN_SIN: /* sin -> -cos -> -sin -> cos -> sin */
        f = (j % 2) ? tkd_expr_fn1(TKD_FN_COS, u) : tkd_expr_fn1(TKD_FN_SIN, u);
        if (j % 4 == 1 || j % 4 == 2)
            f = tkd_expr_neg(f);
        break;
    default: /* cos -> sin -> -cos -> -sin -> cos */
        f = (j % 2) ? tkd_expr_fn1(TKD_FN_SIN, u) : tkd_expr_fn1(TKD_FN_COS, u);
        if (j % 4 == 2 || j % 4 == 3)
            f = tkd_expr_neg(f);
        break;
    }
    return tkd_expr_mul2(scale, f);
}

/* ∫ x^k g dx by the tabular method: sum_i (-1)^i (x^k)^(i) G_{i+1} */
static tkd_expr *tabular(long k, const tkd_expr *g, const tkd_expr *a, const char *v) {
    tkd_expr *terms[64];
    size_t n = 0;
    fmpz_t c;
    fmpz_init_set_ui(c, 1);
    for (long i = 0; i <= k; i++) { /* d^i x^k = k!/(k-i)! x^(k-i) */
        tkd_expr *xp = tkd_expr_pow(X(v), tkd_expr_int(k - i));
        tkd_expr *cf = tkd_expr_fmpz(c);
        if (i % 2)
            cf = tkd_expr_neg(cf);
        terms[n++] = tkd_expr_mul(3, (tkd_expr *[]){cf, xp, anti(g, a, (int)i + 1)});
        fmpz_mul_ui(c, c, (ulong)(k - i));
    }
    fmpz_clear(c);
    return n == 1 ? terms[0] : tkd_expr_add(n, terms);
}

/* One product term (a MUL of factors or a single factor), free of sums. */
static int int_term(const tkd_expr *t, const char *v, int poles, tkd_expr **out, tkd_err *e) {
    const tkd_expr *fs[64];
    size_t nf = 0;
    if (t->kind == TKD_EX_MUL) {
        for (size_t i = 0; i < t->n && nf < 64; i++)
            fs[nf++] = t->args[i];
    } else {
        fs[nf++] = t;
    }
    tkd_expr *consts[64];
    size_t nc = 0;
    fmpq_t xe; /* total exponent of the bare x */
    fmpq_init(xe);
    const tkd_expr *g = NULL, *fns[64];
    size_t nfn = 0;
    int rc = 0;
    for (size_t i = 0; i < nf && !rc; i++) {
        const tkd_expr *f = fs[i];
        if (!tkd_expr_has_sym(f, v)) {
            consts[nc++] = tkd_expr_copy(f);
        } else if (f->kind == TKD_EX_SYM) {
            fmpq_add_si(xe, xe, 1);
        } else if (f->kind == TKD_EX_POW && f->args[0]->kind == TKD_EX_SYM && !strcmp(f->args[0]->name, v) &&
                   f->args[1]->kind == TKD_EX_NUM) {
            fmpq_add(xe, xe, f->args[1]->q);
        } else {
            fns[nfn++] = f;
            g = f;
        }
    }
    tkd_expr *r = NULL, *a = NULL, *b = NULL;
    if (!rc && nfn > 1) { /* sin(u)**m * cos(u)**n */
        if (!fmpq_is_zero(xe) || tinteg_trig(fns, nfn, v, poles, &r))
            rc = tkd_err_set(e, TKD_EMATH, "integrating a product of two functions of %s is not supported here", v);
    } else if (!rc && !g) { /* c x^r */
        if (fmpq_equal_si(xe, -1)) {
            r = tkd_expr_fn1(TKD_FN_LOG, X(v));
        } else {
            fmpq_add_si(xe, xe, 1);
            r = tkd_expr_div(tkd_expr_pow(X(v), tkd_expr_fmpq(xe)), tkd_expr_fmpq(xe));
        }
    } else if (!rc) {
        int is_k =
            fmpz_is_one(fmpq_denref(xe)) && fmpz_sgn(fmpq_numref(xe)) >= 0 && fmpz_cmp_ui(fmpq_numref(xe), 12) <= 0;
        long k = is_k ? fmpz_get_si(fmpq_numref(xe)) : -1;
        if (g->kind == TKD_EX_FUNC && g->n == 1 &&
            (g->op == TKD_FN_EXP || g->op == TKD_FN_SIN || g->op == TKD_FN_COS) && is_k &&
            linear_in(g->args[0], v, &a, &b)) {
            r = tabular(k, g, a, v);
        } else if (g->kind == TKD_EX_POW && !tkd_expr_has_sym(g->args[0], v) && is_k &&
                   linear_in(g->args[1], v, &a, &b)) {
            r = tabular(k, g, a, v);
        } else if (g->kind == TKD_EX_FUNC && g->n == 1 && g->op == TKD_FN_LOG && k == 0 &&
                   linear_in(g->args[0], v, &a, &b)) {
            /* (u log u - u)/a */
            tkd_expr *u = tkd_expr_copy(g->args[0]);
            r = tkd_expr_div(
                tkd_expr_sub(tkd_expr_mul2(tkd_expr_copy(u), tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(u))), u),
                tkd_expr_copy(a));
        } else if (g->kind == TKD_EX_FUNC && g->n == 1 && g->op == TKD_FN_LOG && g->args[0]->kind == TKD_EX_SYM &&
                   !fmpq_equal_si(xe, -1)) {
            /* x^r log x: x^(r+1) log(x)/(r+1) - x^(r+1)/(r+1)^2 */
            fmpq_t r1, r2;
            fmpq_init(r1);
            fmpq_init(r2);
            fmpq_add_si(r1, xe, 1);
            fmpq_mul(r2, r1, r1);
            r = tkd_expr_sub(
                tkd_expr_div(tkd_expr_mul2(tkd_expr_pow(X(v), tkd_expr_fmpq(r1)), tkd_expr_fn1(TKD_FN_LOG, X(v))),
                             tkd_expr_fmpq(r1)),
                tkd_expr_div(tkd_expr_pow(X(v), tkd_expr_fmpq(r1)), tkd_expr_fmpq(r2)));
            fmpq_clear(r1);
            fmpq_clear(r2);
        } else if (g->kind == TKD_EX_POW && tkd_expr_is_int(g->args[1], 2) && k == 0 &&
                   g->args[0]->kind == TKD_EX_FUNC && g->args[0]->n == 1 &&
                   (g->args[0]->op == TKD_FN_SIN || g->args[0]->op == TKD_FN_COS) &&
                   linear_in(g->args[0]->args[0], v, &a, &b)) {
            /* sin(u)**2: x/2 - sin(u) cos(u)/(2a); cos(u)**2: x/2 + sin(u) cos(u)/(2a) */
            const tkd_expr *u = g->args[0]->args[0];
            tkd_expr *sc =
                tkd_expr_mul2(tkd_expr_fn1(TKD_FN_SIN, tkd_expr_copy(u)), tkd_expr_fn1(TKD_FN_COS, tkd_expr_copy(u)));
            tkd_expr *q = tkd_expr_div(sc, tkd_expr_mul2(tkd_expr_int(2), tkd_expr_copy(a)));
            tkd_expr *h = tkd_expr_div(X(v), tkd_expr_int(2));
            r = g->args[0]->op == TKD_FN_SIN ? tkd_expr_sub(h, q) : tkd_expr_add2(h, q);
        } else if (g->kind == TKD_EX_POW && g->args[1]->kind == TKD_EX_NUM && k == 0 &&
                   linear_in(g->args[0], v, &a, &b)) {
            /* u^r: u^(r+1)/(a (r+1)), or log(u)/a */
            fmpq_t r1;
            fmpq_init(r1);
            fmpq_add_si(r1, g->args[1]->q, 1);
            if (fmpq_is_zero(r1))
                r = tkd_expr_div(tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(g->args[0])), tkd_expr_copy(a));
            else
                r = tkd_expr_div(tkd_expr_pow(tkd_expr_copy(g->args[0]), tkd_expr_fmpq(r1)),
                                 tkd_expr_mul2(tkd_expr_copy(a), tkd_expr_fmpq(r1)));
            fmpq_clear(r1);
        } else if (k == 0 && !tinteg_trig(&g, 1, v, poles, &r)) {
            /* tan, cot, sin**n, cos**n */
        } else {
            char *s = tkd_expr_to_str(g);
            rc = tkd_err_set(e, TKD_EMATH,
                             "cannot integrate the term containing %.200s; this kind of integral is not supported here",
                             s ? s : "?");
            free(s);
        }
    }
    tkd_expr_free(a);
    tkd_expr_free(b);
    fmpq_clear(xe);
    if (rc) {
        for (size_t i = 0; i < nc; i++)
            tkd_expr_free(consts[i]);
        return rc;
    }
    consts[nc++] = r;
    *out = nc == 1 ? consts[0] : tkd_expr_mul(nc, consts);
    return *out ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
}

static int integ_core(const tkd_expr *f, const char *v, tkd_expr **out, int *rational, fmpq_poly_t den_out, int depth,
                      int poles, tkd_err *e);

/* The terms of a sum one by one: 0, or nonzero when one of them is not integrated. */
static int integ_terms(const tkd_expr *f, const char *v, int poles, tkd_expr **out) {
    tkd_expr **parts = calloc(f->n, sizeof *parts);
    int r2, rc = parts ? 0 : TKD_ENOMEM;
    tkd_err e2 = {0};
    for (size_t i = 0; !rc && i < f->n; i++)
        rc = integ_core(f->args[i], v, &parts[i], &r2, NULL, 1, poles, &e2);
    if (!rc)
        *out = tkd_expr_add(f->n, parts);
    else if (parts)
        for (size_t i = 0; i < f->n; i++)
            tkd_expr_free(parts[i]);
    free(parts);
    return rc ? rc : *out ? 0 : TKD_ENOMEM;
}

/* The antiderivative, unchecked (tintegrate checks it). poles 0 keeps to the
 * methods whose antiderivatives have no poles the definite integral would miss
 * (its pole check reads only a rational integrand's denominator). */
static int integ_core(const tkd_expr *f, const char *v, tkd_expr **out, int *rational, fmpq_poly_t den_out, int depth,
                      int poles, tkd_err *e) {
    *out = NULL;
    *rational = 0;
    tkd_expr *F = NULL;
    int rc = 0;
    fmpq_poly_t N, D;
    fmpq_poly_init(N);
    fmpq_poly_init(D);
    /* a rational function of x with rational coefficients? */
    tkd_rf t;
    fmpz_mpoly_q_t r;
    tkd_err e2 = {0};
    if (!trat_from_ast(&t, f, &v, 1, &r, &e2)) {
        slong x = tkd_rf_var(&t, v);
        if (t.n == 1 && fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_numref(r), x, t.ctx) &&
            fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_denref(r), x, t.ctx)) {
            fmpz_poly_t z;
            fmpz_poly_init(z);
            fmpz_mpoly_get_fmpz_poly(z, fmpz_mpoly_q_numref(r), x, t.ctx);
            fmpq_poly_set_fmpz_poly(N, z);
            fmpz_mpoly_get_fmpz_poly(z, fmpz_mpoly_q_denref(r), x, t.ctx);
            fmpq_poly_set_fmpz_poly(D, z);
            fmpz_poly_clear(z);
            *rational = 1;
        }
        fmpz_mpoly_q_clear(r, t.ctx);
        tkd_rf_clear(&t);
    }
    if (*rational) {
        if (fmpq_poly_degree(D) > 60 || fmpq_poly_degree(N) > 2000)
            rc = tkd_err_set(e, TKD_ELIMIT, "the rational function has too high a degree");
        else
            rc = tinteg_rational(N, D, v, &F, e);
        if (den_out)
            fmpq_poly_set(den_out, D);
    } else if (poles && !tinteg_exp(f, v, &F, e)) {
        /* a rational function of b**x */
    } else if (poles && f->kind == TKD_EX_ADD && depth == 0 && !integ_terms(f, v, poles, &F)) {
        /* term by term as written (sqrt(19) + 91/x), before expand joins them */
    } else {
        /* expand, then integrate term by term */
        tkd_expr *x = NULL;
        if ((rc = tkd_expr_expand(f, &x, e)) == 0) {
            if (x->kind == TKD_EX_MUL && x->n == 2 && x->args[1]->kind == TKD_EX_POW &&
                tkd_expr_has_sym(x->args[1], v) && x->args[1]->args[0]->kind == TKD_EX_ADD)
                rc = tkd_err_set(e, TKD_EMATH, "this integrand (a quotient with functions of %s) is not supported here",
                                 v);
            size_t nt = x->kind == TKD_EX_ADD ? x->n : 1;
            tkd_expr **parts = rc ? NULL : calloc(nt, sizeof *parts);
            for (size_t i = 0; !rc && i < nt; i++)
                rc = int_term(x->kind == TKD_EX_ADD ? x->args[i] : x, v, poles, &parts[i], e);
            if (!rc)
                F = nt == 1 ? parts[0] : tkd_expr_add(nt, parts);
            else if (parts)
                for (size_t i = 0; i < nt; i++)
                    tkd_expr_free(parts[i]);
            free(parts);
        }
        tkd_expr_free(x);
    }
    fmpq_poly_clear(N);
    fmpq_poly_clear(D);
    if (rc) {
        tkd_expr_free(F);
        return rc;
    }
    *out = F;
    return 0;
}

/* The antiderivative, checked by differentiation. */
static int integ_checked(const tkd_expr *f, const char *v, tkd_expr **out, int *rational, fmpq_poly_t den_out,
                         int poles, tkd_err *e) {
    tkd_expr *F = NULL;
    *out = NULL;
    int rc = integ_core(f, v, &F, rational, den_out, 0, poles, e);
    if (rc)
        return rc;
    /* simplify, then check: F' - f == 0 */
    tkd_expr *S = NULL, *dF = NULL;
    if (!F || tkd_expr_simplify(F, &S, e)) {
        tkd_expr_free(F);
        return e->code ? e->code : TKD_ENOMEM;
    }
    tkd_expr_free(F);
    rc = tkd_expr_diff(S, v, &dF, e);
    if (!rc) {
        tkd_expr *diff = tkd_expr_sub(dF, tkd_expr_copy(f));
        dF = NULL;
        tkd_expr *dsc = diff ? tinteg_sc(diff) : NULL; /* tan, cot, sec, csc through sin and cos */
        int z = dsc ? tkd_expr_is_zero(dsc, e) : TKD_ENOMEM;
        tkd_expr *wz = z != TKD_EXPR_YES && dsc ? tinteg_weier(dsc) : NULL; /* sin**2 + cos**2 = 1 */
        if (wz) {
            tkd_err e2 = {0};
            if (tkd_expr_is_zero(wz, &e2) == TKD_EXPR_YES)
                z = TKD_EXPR_YES;
            tkd_expr_free(wz);
        }
        tkd_expr_free(diff);
        tkd_expr_free(dsc);
        if (z != TKD_EXPR_YES)
            rc = z < 0 ? z
                       : tkd_err_set(e, TKD_EMATH,
                                     "the antiderivative could not be verified; this integral is not supported here");
    }
    tkd_expr_free(dF);
    if (rc) {
        tkd_expr_free(S);
        return rc;
    }
    *out = S;
    return 0;
}

int tintegrate(const tkd_expr *f, const char *v, tkd_expr **out, int *rational, fmpq_poly_t den_out, tkd_err *e) {
    return integ_checked(f, v, out, rational, den_out, 0, e);
}

static int t_integrate(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    tkd_expr *f, *F = NULL;
    if (targ_var(args, "variable", "x", &var, e) || targ_expr(args, "expression", &f, e))
        return tkd_err_wrap(e, "integrate");
    int rat;
    int rc = integ_checked(f, var, &F, &rat, NULL, 1, e);
    tkd_expr_free(f);
    if (rc)
        return tkd_err_wrap(e, "integrate");
    *result = tjson_ast(ta, F);
    return 0;
}

static int t_definite(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    tkd_expr *f, *F = NULL, *lo = NULL, *hi = NULL;
    if (targ_var(args, "variable", "x", &var, e) || targ_expr(args, "expression", &f, e))
        return tkd_err_wrap(e, "definite_integral");
    int rc = targ_expr(args, "lower", &lo, e);
    if (!rc)
        rc = targ_expr(args, "upper", &hi, e);
    for (int i = 0; !rc && i < 2; i++) {
        tkd_expr *b = i ? hi : lo;
        if (tkd_expr_has_sym(b, var))
            rc = tkd_err_set(e, TKD_EINVAL, "the bounds must not contain the integration variable %s", var);
        else if ((b->kind == TKD_EX_CONST && b->op == TKD_C_OO) ||
                 (b->kind == TKD_EX_MUL && b->n == 2 && b->args[1]->kind == TKD_EX_CONST && b->args[1]->op == TKD_C_OO))
            rc = tkd_err_set(e, TKD_EMATH,
                             "improper integrals with infinite bounds are not supported here; integrate to a symbol b "
                             "and use compute_limit");
    }
    int rat = 0;
    fmpq_poly_t den;
    fmpq_poly_init(den);
    if (!rc)
        rc = tintegrate(f, var, &F, &rat, den, e);
    if (!rc && rat && fmpq_poly_degree(den) > 0 && !tkd_expr_has_sym(lo, NULL) && !tkd_expr_has_sym(hi, NULL)) {
        /* a pole in [lo, hi] makes the integral improper */
        fmpz_poly_t z;
        fmpz_poly_init(z);
        fmpq_poly_get_numerator(z, den);
        slong d = fmpz_poly_degree(z);
        qqbar_ptr roots = _qqbar_vec_init(d);
        qqbar_roots_fmpz_poly(roots, z, 0);
        ca_ctx_t ctx;
        tca_ctx_init(ctx);
        ca_t a, b, c;
        ca_init(a, ctx);
        ca_init(b, ctx);
        ca_init(c, ctx);
        if (!tkd_expr_to_ca(a, lo, ctx, e) && !tkd_expr_to_ca(b, hi, ctx, e)) {
            for (slong i = 0; i < d && !rc; i++) {
                if (!qqbar_is_real(roots + i))
                    continue;
                ca_set_qqbar(c, roots + i, ctx);
                ca_t u, w;
                ca_init(u, ctx);
                ca_init(w, ctx);
                ca_sub(u, c, a, ctx);
                ca_sub(w, c, b, ctx);
                ca_mul(u, u, w, ctx); /* (c - a)(c - b) <= 0: c in [a, b] */
                if (ca_check_is_real(u, ctx) == T_TRUE && ca_check_is_negative_real(u, ctx) != T_FALSE)
                    rc = tkd_err_set(e, TKD_EMATH,
                                     "the integrand has a pole inside the interval: the integral is improper "
                                     "(divergent or a principal value); not supported");
                else if (ca_check_is_zero(u, ctx) != T_FALSE)
                    rc = tkd_err_set(
                        e, TKD_EMATH,
                        "the integrand has a pole at an end of the interval: the integral is improper; not supported");
                ca_clear(u, ctx);
                ca_clear(w, ctx);
            }
        }
        ca_clear(a, ctx);
        ca_clear(b, ctx);
        ca_clear(c, ctx);
        ca_ctx_clear(ctx);
        _qqbar_vec_clear(roots, d);
        fmpz_poly_clear(z);
    }
    if (!rc) {
        tkd_expr *Fb = tsubst(F, var, hi), *Fa = tsubst(F, var, lo);
        tkd_expr *v = tkd_expr_sub(Fb, Fa), *s = NULL;
        if (!v || tkd_expr_simplify(v, &s, e))
            rc = e->code ? e->code : TKD_ENOMEM;
        else
            *result = tjson_ast(ta, s);
        tkd_expr_free(v);
    }
    fmpq_poly_clear(den);
    tkd_expr_free(F);
    tkd_expr_free(f);
    tkd_expr_free(lo);
    tkd_expr_free(hi);
    return rc ? tkd_err_wrap(e, "definite_integral") : 0;
}

const struct tkd_tool tkd_tools_integ_table[] = {
    {"integrate",
     "calculus",
     "antiderivative (checked by differentiation)",
     "Indefinite integral (no + C) with respect to a variable: polynomials, rational functions, and terms like "
     "x**k*exp(a*x), x**k*sin(a*x + b), log(x), sqrt(x), 2**x, sin(x)**m*cos(x)**n, tan(x), cot(x), and rational "
     "functions of 2**x or exp(x) such as 1/(1 + 2**x). The answer is verified by differentiating it; "
     "unsupported integrals answer an error. Example: {\"expression\": \"x*exp(x)\", \"variable\": \"x\"} -> "
     "\"x*exp(x) - exp(x)\".",
     {{"expression", TP_EXPR, 1, "the integrand in SymPy syntax"},
      {"variable", TP_VAR, 0, "the variable (default \"x\")"}},
     t_integrate},
    {"definite_integral",
     "calculus",
     "exact definite integral",
     "Definite integral from lower to upper, exactly (F(upper) - F(lower) with a verified antiderivative F); bounds "
     "are numbers or expressions like \"pi/2\". Example: {\"expression\": \"x**2\", \"variable\": \"x\", \"lower\": 0, "
     "\"upper\": 3} -> \"9\".",
     {{"expression", TP_EXPR, 1, "the integrand in SymPy syntax"},
      {"variable", TP_VAR, 1, "the integration variable"},
      {"lower", TP_NUMBER, 1, "lower bound"},
      {"upper", TP_NUMBER, 1, "upper bound"}},
     t_definite},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
