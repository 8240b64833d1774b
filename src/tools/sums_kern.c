/*
 * Closed forms of sums, the methods beyond polynomials and rational functions
 * (see sums.c for the whole list): a polynomial times a hypergeometric kernel,
 * telescoping differences, Hurwitz zeta values and Piecewise answers for a
 * symbolic exponent or ratio.
 */
#include <stdlib.h>
#include <string.h>

#include "sums_int.h"

/* ---- a polynomial times a hypergeometric kernel (geometric factors, factorials) ---- */

/* x = k + c with an integer c? */
static int shift_of(const tkd_expr *x, const char *var, slong *c) {
    fmpq_t a;
    fmpq_init(a);
    tkd_expr *c0 = NULL;
    int ok = tlinear(x, var, a, &c0) && fmpq_is_one(a) && c0 && c0->kind == TKD_EX_NUM &&
             fmpz_is_one(fmpq_denref(c0->q)) && !tfmpz_abs_gt(fmpq_numref(c0->q), 1000);
    if (ok)
        *c = fmpz_get_si(fmpq_numref(c0->q));
    else if (x->kind == TKD_EX_SYM && !strcmp(x->name, var)) {
        *c = 0;
        ok = 1;
    }
    tkd_expr_free(c0);
    fmpq_clear(a);
    return ok;
}

int sum_hyper(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e) {
    const char *var = s->var;
    facs F = {0};
    if (sum_flatten(&F, g, 1)) {
        free(F.v);
        return sum_oom(e);
    }
    fmpq_poly_t R, A, B, l, y;
    fmpq_poly_init(R);
    fmpq_poly_init(A);
    fmpq_poly_init(B);
    fmpq_poly_init(l);
    fmpq_poly_init(y);
    fmpq_poly_one(R);
    fmpq_poly_one(A);
    fmpq_poly_one(B);
    fmpq_t q, w;
    fmpq_init(q);
    fmpq_init(w);
    fmpq_one(q);
    slong nfu = 0, nfd = 0, nkern = 0;
    int rc = 0;
    tkd_expr **kern = calloc(F.n + 1, sizeof *kern);
    if (!kern)
        rc = sum_oom(e);
    for (size_t i = 0; i < F.n && !rc; i++) {
        const tkd_expr *x = F.v[i].x;
        slong m = F.v[i].m, c;
        tkd_err e2 = {0};
        if (!tkd_expr_has_sym(x, var))
            continue; /* split_const took these out */
        if (x->kind == TKD_EX_POW && !tkd_expr_has_sym(x->args[0], var)) {
            tkd_expr **cf = NULL;
            slong d = -1;
            if (tkd_expr_poly_coeffs(x->args[1], var, &cf, &d, &e2) || d != 1) {
                tkd_err_clear(&e2);
                rc = NM;
            } else {
                /* ratio (b**a)**m, a rational number */
                tkd_expr *r = tkd_expr_pow(tkd_expr_pow(tkd_expr_copy(x->args[0]), cf[1]), tkd_expr_int(m)), *rs = NULL;
                cf[1] = NULL;
                if (!r || tkd_expr_simplify(r, &rs, &e2) || rs->kind != TKD_EX_NUM || fmpq_is_zero(rs->q))
                    rc = NM;
                else
                    fmpq_mul(q, q, rs->q);
                tkd_err_clear(&e2);
                tkd_expr_free(r);
                tkd_expr_free(rs);
                kern[nkern++] = sum_fac_expr(&F.v[i]);
            }
            tkd_expr_vec_free(cf, d >= 0 ? (size_t)d + 1 : 0);
        } else if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_FACTORIAL && x->n == 1 && shift_of(x->args[0], var, &c)) {
            /* (k + c)! -> ratio (k + c + 1) per power */
            fmpq_set_si(w, c + 1, 1);
            sum_lin(l, w);
            for (slong t = 0; t < (m > 0 ? m : -m); t++)
                fmpq_poly_mul(m > 0 ? A : B, m > 0 ? A : B, l);
            if (m > 0)
                nfu += m;
            else
                nfd -= m;
            kern[nkern++] = sum_fac_expr(&F.v[i]);
        } else if (m > 0 && !tkd_expr_to_fmpq_poly(y, x, var, &e2)) {
            fmpq_poly_pow(y, y, (ulong)m);
            fmpq_poly_mul(R, R, y);
        } else {
            tkd_err_clear(&e2);
            rc = NM;
        }
        if (!rc && (fmpq_poly_degree(R) > SUM_DEG_MAX || fmpq_poly_degree(A) > SUM_DEG_MAX ||
                    fmpq_poly_degree(B) > SUM_DEG_MAX))
            rc = NM;
    }
    if (!rc && (nkern == 0 || (nfu == 0 && nfd == 0 && fmpq_is_one(q))))
        rc = NM;
    if (!rc && !s->N) { /* convergence: h(k) -> 0 faster than any polynomial grows */
        fmpq_abs(w, q);
        if (nfu > nfd || (nfu == nfd && fmpq_cmp_si(w, 1) >= 0))
            rc = NM;
    }
    /* Y(k + 1) A(k) - Y(k) B(k) = R(k) B(k), Y a polynomial of degree D */
    fmpq_poly_scalar_mul_fmpq(A, A, q);
    fmpq_poly_t rhs, L, kp, k1p;
    fmpq_poly_init(rhs);
    fmpq_poly_init(L);
    fmpq_poly_init(kp);
    fmpq_poly_init(k1p);
    fmpq_poly_mul(rhs, R, B);
    int found = 0;
    slong Dmax = fmpq_poly_degree(R) + FLINT_MAX(fmpq_poly_degree(A), fmpq_poly_degree(B)) + 1;
    for (slong D = 0; D <= Dmax && !rc && !found; D++) {
        slong rows = FLINT_MAX(fmpq_poly_degree(rhs), D + FLINT_MAX(fmpq_poly_degree(A), fmpq_poly_degree(B))) + 1;
        fmpq_mat_t M, X, bv;
        fmpq_mat_init(M, rows, D + 1);
        fmpq_mat_init(X, D + 1, 1);
        fmpq_mat_init(bv, rows, 1);
        fmpq_poly_one(kp);
        fmpq_poly_one(k1p);
        fmpq_set_si(w, 1, 1);
        sum_lin(l, w); /* k + 1 */
        for (slong i = 0; i <= D; i++) {
            fmpq_poly_mul(L, k1p, A);
            fmpq_poly_mul(y, kp, B);
            fmpq_poly_sub(L, L, y);
            for (slong r = 0; r < rows; r++)
                fmpq_poly_get_coeff_fmpq(fmpq_mat_entry(M, r, i), L, r);
            fmpq_poly_mul(k1p, k1p, l);
            fmpq_poly_shift_left(kp, kp, 1);
        }
        for (slong r = 0; r < rows; r++)
            fmpq_poly_get_coeff_fmpq(fmpq_mat_entry(bv, r, 0), rhs, r);
        if (fmpq_mat_can_solve(X, M, bv)) {
            found = 1;
            fmpq_poly_zero(y);
            for (slong i = 0; i <= D; i++)
                fmpq_poly_set_coeff_fmpq(y, i, fmpq_mat_entry(X, i, 0));
        }
        fmpq_mat_clear(M);
        fmpq_mat_clear(X);
        fmpq_mat_clear(bv);
    }
    if (!rc && !found)
        rc = NM;
    /* G(x) = Y(x) h(x); the sum is G(N + 1) - G(lo), or -G(lo) to infinity */
    for (int end = 0; end < 2 && !rc; end++) {
        tkd_expr *x = end == 0 ? tkd_expr_fmpz(s->lo) : s->N ? sum_n_plus(s, 1) : NULL;
        if (end == 1 && !s->N)
            break;
        tkd_expr **v = x ? calloc((size_t)nkern + 1, sizeof *v) : NULL;
        tkd_expr *G = NULL;
        if (v) {
            v[0] = sum_qp_at(y, x);
            for (slong i = 0; i < nkern; i++)
                v[i + 1] = tsubst(kern[i], var, x);
            G = tkd_expr_mul((size_t)nkern + 1, v);
            free(v);
        }
        tkd_expr_free(x);
        if (!G) {
            rc = sum_oom(e);
            break;
        }
        if (end == 0) {
            *out = tkd_expr_neg(G);
        } else {
            *out = tkd_expr_add2(G, *out);
        }
        if (!*out)
            rc = sum_oom(e);
    }
    if (!rc) {
        tkd_expr *r = *out;
        *out = NULL;
        rc = tkd_expr_simplify(r, out, e);
        tkd_expr_free(r);
    } else {
        tkd_expr_free(*out);
        *out = NULL;
    }
    for (slong i = 0; kern && i < nkern; i++)
        tkd_expr_free(kern[i]);
    free(kern);
    free(F.v);
    fmpq_poly_clear(rhs);
    fmpq_poly_clear(L);
    fmpq_poly_clear(kp);
    fmpq_poly_clear(k1p);
    fmpq_poly_clear(R);
    fmpq_poly_clear(A);
    fmpq_poly_clear(B);
    fmpq_poly_clear(l);
    fmpq_poly_clear(y);
    fmpq_clear(q);
    fmpq_clear(w);
    return rc;
}

/* ---- telescoping differences u(k) - u(k + s) ---- */

/* var only inside linear arguments: each function argument, power base and
 * exponent holding var is a polynomial of degree 1 in var */
static int lin_args(const tkd_expr *x, const char *var) {
    if (!tkd_expr_has_sym(x, var))
        return 1;
    switch (x->kind) {
    case TKD_EX_SYM: return 1;
    case TKD_EX_ADD:
    case TKD_EX_MUL:
        for (size_t i = 0; i < x->n; i++)
            if (!lin_args(x->args[i], var))
                return 0;
        return 1;
    case TKD_EX_POW:
    case TKD_EX_FUNC:
        if (x->kind == TKD_EX_POW && !tkd_expr_has_sym(x->args[1], var))
            return lin_args(x->args[0], var);
        /* var in function arguments and exponents: linear there */
        for (size_t i = 0; i < x->n; i++) {
            if (!tkd_expr_has_sym(x->args[i], var))
                continue;
            if (x->args[i]->kind == TKD_EX_SYM)
                continue;
            tkd_expr **c = NULL;
            slong d = -1;
            tkd_err e = {0};
            int ok = !tkd_expr_poly_coeffs(x->args[i], var, &c, &d, &e) && d == 1;
            tkd_err_clear(&e);
            tkd_expr_vec_free(c, d >= 0 ? (size_t)d + 1 : 0);
            if (!ok)
                return 0;
        }
        return 1;
    default: return 0;
    }
}

/* u(var + t) simplified */
static tkd_expr *shifted(const tkd_expr *u, const char *var, slong t) {
    tkd_expr *x = tkd_expr_add2(tkd_expr_sym(var), tkd_expr_int(t));
    tkd_expr *r = x ? tsubst(u, var, x) : NULL, *s = NULL;
    tkd_expr_free(x);
    tkd_err e = {0};
    if (r && tkd_expr_simplify(r, &s, &e))
        s = NULL;
    tkd_err_clear(&e);
    tkd_expr_free(r);
    return s;
}

int sum_tele(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e) {
    const char *var = s->var;
    if (g->kind != TKD_EX_ADD || g->n > 16 || !lin_args(g, var))
        return NM;
    size_t n = g->n;
    int used[16] = {0};
    slong shv[16] = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (used[i])
            continue;
        for (slong t = 1; t <= 8 && !used[i]; t++) {
            tkd_expr *ui = shifted(g->args[i], var, t);
            if (!ui)
                continue;
            for (size_t j = 0; j < n && !used[i]; j++) {
                if (j == i || used[j])
                    continue;
                tkd_expr *z = tkd_expr_add2(tkd_expr_copy(ui), tkd_expr_copy(g->args[j]));
                tkd_err e2 = {0};
                int r = z ? tkd_expr_is_zero(z, &e2) : -1;
                tkd_err_clear(&e2);
                tkd_expr_free(z);
                if (r == TKD_EXPR_YES) { /* g_j(k) = -g_i(k + t) */
                    used[i] = 1;
                    used[j] = 2;
                    shv[i] = t;
                }
            }
            tkd_expr_free(ui);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!used[i])
            rc = NM;
    tkd_expr **parts = NULL;
    size_t np = 0;
    if (!rc) {
        parts = calloc(16 * 18, sizeof *parts);
        if (!parts)
            rc = sum_oom(e);
    }
    /* sum_{k=lo}^{N} u(k) - u(k + t) = sum_{k=lo}^{lo+t-1} u(k) - sum_{k=N+1}^{N+t} u(k) */
    for (size_t i = 0; i < n && !rc; i++) {
        if (used[i] != 1)
            continue;
        const tkd_expr *u = g->args[i];
        for (slong t = 0; t < shv[i] && !rc; t++) {
            fmpz_t kk;
            fmpz_init(kk);
            fmpz_add_si(kk, s->lo, t);
            tkd_expr *kv = tkd_expr_fmpz(kk);
            fmpz_clear(kk);
            parts[np] = kv ? tsubst(u, var, kv) : NULL;
            tkd_expr_free(kv);
            rc = parts[np] ? 0 : sum_oom(e);
            np += !rc;
        }
        if (rc)
            break;
        if (s->N) {
            for (slong t = 1; t <= shv[i] && !rc; t++) {
                tkd_expr *x = sum_n_plus(s, t);
                tkd_expr *ut = x ? tsubst(u, var, x) : NULL;
                tkd_expr_free(x);
                parts[np] = ut ? tkd_expr_neg(ut) : NULL;
                rc = parts[np] ? 0 : sum_oom(e);
                np += !rc;
            }
        } else { /* - t * lim u(k), k -> oo */
            tser_point pt;
            memset(&pt, 0, sizeof pt);
            pt.var = var;
            fmpq_init(pt.a);
            pt.inf = 1;
            tlim L = {0};
            tkd_err e2 = {0};
            if (tlim_side(u, &pt, 1, &L, &e2) || L.kind != TLIM_FINITE || !L.v)
                rc = NM;
            else {
                parts[np] = tkd_expr_mul2(tkd_expr_int(-shv[i]), L.v);
                L.v = NULL;
                rc = parts[np] ? 0 : sum_oom(e);
                np += !rc;
            }
            tkd_err_clear(&e2);
            tlim_clear(&L);
            fmpq_clear(pt.a);
        }
    }
    if (!rc) {
        tkd_expr *acc = np ? tkd_expr_add(np, parts) : tkd_expr_int(0);
        np = 0;
        rc = acc ? tkd_expr_simplify(acc, out, e) : sum_oom(e);
        tkd_expr_free(acc);
    }
    for (size_t i = 0; i < np; i++)
        tkd_expr_free(parts[i]);
    free(parts);
    return rc;
}

/* sum_{k=lo}^{oo} (k + c)**(-s), s >= 2, c free of k (symbolic: a numeric c is m_rat's):
 * the Hurwitz zeta value zeta(s, lo + c) */
static int m_zeta_sym(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e);

int sum_hurwitz(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e) {
    if (!s->N && g->kind == TKD_EX_POW && !tkd_expr_has_sym(g->args[1], s->var) && tkd_expr_has_sym(g->args[1], NULL))
        return m_zeta_sym(g, s, out, e);
    if (s->N || g->kind != TKD_EX_POW || g->args[1]->kind != TKD_EX_NUM || !fmpz_is_one(fmpq_denref(g->args[1]->q)) ||
        fmpz_cmp_si(fmpq_numref(g->args[1]->q), -2) > 0 || fmpz_cmp_si(fmpq_numref(g->args[1]->q), -1000) < 0)
        return NM;
    tkd_expr **c = NULL;
    slong d = -1;
    tkd_err e2 = {0};
    if (tkd_expr_poly_coeffs(g->args[0], s->var, &c, &d, &e2) || d != 1 || !tkd_expr_is_int(c[1], 1) ||
        !tkd_expr_has_sym(c[0], NULL)) {
        tkd_err_clear(&e2);
        tkd_expr_vec_free(c, d >= 0 ? (size_t)d + 1 : 0);
        return NM;
    }
    long sv = -fmpz_get_si(fmpq_numref(g->args[1]->q));
    tkd_expr *a = tkd_expr_add2(c[0], tkd_expr_fmpz(s->lo)), *as = NULL;
    c[0] = NULL;
    tkd_expr_vec_free(c, 2);
    int rc = a ? tkd_expr_simplify(a, &as, e) : sum_oom(e);
    tkd_expr_free(a);
    if (!rc) {
        *out = tkd_expr_call("zeta", 2, (tkd_expr *[]){tkd_expr_int(sv), as});
        rc = *out ? 0 : sum_oom(e);
    }
    return rc;
}

/* c * q**k with a ratio q that has symbols (x**k, cos(t)**(2*k)): SymPy's
 * Piecewise, the closed form where it holds and the sum itself elsewhere:
 *   to oo:  Piecewise((a/(1 - q), Abs(q) < 1), (Sum(g, (k, lo, oo)), True))
 *   to N:   Piecewise((a*(N - lo + 1), Eq(q, 1)), (a*(1 - q**(N - lo + 1))/(1 - q), True))
 * with a = g(lo). */
int sum_geo_sym(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e) {
    const char *var = s->var;
    facs F = {0};
    if (sum_flatten(&F, g, 1)) {
        free(F.v);
        return sum_oom(e);
    }
    tkd_expr **qs = calloc(F.n + 1, sizeof *qs);
    size_t nq = 0;
    int rc = qs ? 0 : sum_oom(e);
    for (size_t i = 0; i < F.n && !rc; i++) {
        const tkd_expr *x = F.v[i].x;
        if (!tkd_expr_has_sym(x, var))
            continue;
        tkd_expr **cf = NULL;
        slong d = -1;
        tkd_err e2 = {0};
        if (x->kind != TKD_EX_POW || tkd_expr_has_sym(x->args[0], var) ||
            tkd_expr_poly_coeffs(x->args[1], var, &cf, &d, &e2) || d != 1)
            rc = NM;
        else {
            qs[nq] = tkd_expr_pow(tkd_expr_pow(tkd_expr_copy(x->args[0]), cf[1]), tkd_expr_int(F.v[i].m));
            cf[1] = NULL;
            rc = qs[nq] ? 0 : sum_oom(e);
            nq += !rc;
        }
        tkd_err_clear(&e2);
        tkd_expr_vec_free(cf, d >= 0 ? (size_t)d + 1 : 0);
    }
    free(F.v);
    tkd_expr *q = NULL, *a = NULL;
    if (!rc && nq == 0)
        rc = NM;
    if (!rc) {
        tkd_expr *qm = tkd_expr_mul(nq, qs);
        nq = 0;
        rc = qm ? tkd_expr_simplify(qm, &q, e) : sum_oom(e);
        tkd_expr_free(qm);
    }
    for (size_t i = 0; i < nq; i++)
        tkd_expr_free(qs[i]);
    free(qs);
    if (!rc && (!tkd_expr_has_sym(q, NULL) || tkd_expr_has_sym(q, var)))
        rc = NM; /* a numeric ratio is m_hyper's */
    if (!rc) {
        tkd_expr *lv = tkd_expr_fmpz(s->lo);
        tkd_expr *a0 = lv ? tsubst(g, var, lv) : NULL;
        tkd_expr_free(lv);
        rc = a0 ? tkd_expr_simplify(a0, &a, e) : sum_oom(e);
        tkd_expr_free(a0);
    }
    tkd_expr *pw = NULL;
    if (!rc && !s->N) {
        tkd_expr *val = tkd_expr_div(tkd_expr_copy(a), tkd_expr_sub(tkd_expr_int(1), tkd_expr_copy(q)));
        tkd_expr *cond = tkd_expr_rel(TKD_R_LT, tkd_expr_fn1(TKD_FN_ABS, tkd_expr_copy(q)), tkd_expr_int(1));
        tkd_expr *lim = tkd_expr_seq(TKD_EX_TUPLE, 3,
                                     (tkd_expr *[]){tkd_expr_sym(var), tkd_expr_fmpz(s->lo), tkd_expr_const(TKD_C_OO)});
        tkd_expr *sum = tkd_expr_fn2(TKD_FN_SUM, tkd_expr_copy(g), lim);
        tkd_expr *vs = NULL;
        if (val && !tkd_expr_simplify(val, &vs, e)) {
            pw = tkd_expr_call(
                "Piecewise", 2,
                (tkd_expr *[]){tkd_expr_seq(TKD_EX_TUPLE, 2, (tkd_expr *[]){vs, cond}),
                               tkd_expr_seq(TKD_EX_TUPLE, 2, (tkd_expr *[]){sum, tkd_expr_const(TKD_C_TRUE)})});
            cond = sum = NULL;
        }
        tkd_expr_free(val);
        tkd_expr_free(cond);
        tkd_expr_free(sum);
        rc = pw ? 0 : e->code ? e->code : sum_oom(e);
    } else if (!rc) {
        tkd_expr *n1 = sum_n_plus(s, 1);
        tkd_expr *cnt = n1 ? tkd_expr_sub(n1, tkd_expr_fmpz(s->lo)) : NULL, *cs = NULL;
        rc = cnt ? tkd_expr_simplify(cnt, &cs, e) : sum_oom(e);
        tkd_expr_free(cnt);
        tkd_expr *one = NULL, *gen = NULL;
        if (!rc) {
            tkd_expr *o = tkd_expr_mul2(tkd_expr_copy(a), tkd_expr_copy(cs));
            tkd_expr *gn = tkd_expr_div(
                tkd_expr_mul2(tkd_expr_copy(a),
                              tkd_expr_sub(tkd_expr_int(1), tkd_expr_pow(tkd_expr_copy(q), tkd_expr_copy(cs)))),
                tkd_expr_sub(tkd_expr_int(1), tkd_expr_copy(q)));
            /* the general branch as built: simplifying would expand q**(N - lo + 1) */
            if (!o || !gn || tkd_expr_simplify(o, &one, e))
                rc = e->code ? e->code : sum_oom(e);
            tkd_expr_free(o);
            if (!rc)
                gen = gn;
            else
                tkd_expr_free(gn);
        }
        if (!rc) {
            tkd_expr *cond = tkd_expr_rel(TKD_R_EQ, tkd_expr_copy(q), tkd_expr_int(1));
            pw = tkd_expr_call(
                "Piecewise", 2,
                (tkd_expr *[]){tkd_expr_seq(TKD_EX_TUPLE, 2, (tkd_expr *[]){one, cond}),
                               tkd_expr_seq(TKD_EX_TUPLE, 2, (tkd_expr *[]){gen, tkd_expr_const(TKD_C_TRUE)})});
            one = gen = NULL;
            rc = pw ? 0 : sum_oom(e);
        }
        tkd_expr_free(one);
        tkd_expr_free(gen);
        tkd_expr_free(cs);
    }
    tkd_expr_free(q);
    tkd_expr_free(a);
    if (!rc)
        *out = pw;
    return rc;
}

/* sum_{k=lo}^{oo} (k + c)**(-s) with a symbolic exponent s and a rational c,
 * lo + c > 0: SymPy's Piecewise((zeta(s, lo + c), s > 1), (Sum(...), True))
 * (zeta(s) when lo + c = 1) */
static int m_zeta_sym(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e) {
    tkd_expr **c = NULL;
    slong d = -1;
    tkd_err e2 = {0};
    if (tkd_expr_poly_coeffs(g->args[0], s->var, &c, &d, &e2) || d != 1 || !tkd_expr_is_int(c[1], 1) ||
        c[0]->kind != TKD_EX_NUM) {
        tkd_err_clear(&e2);
        tkd_expr_vec_free(c, d >= 0 ? (size_t)d + 1 : 0);
        return NM;
    }
    fmpq_t q;
    fmpq_init(q);
    fmpq_set_fmpz_frac(q, s->lo, (fmpz_t){1});
    fmpq_add(q, q, c[0]->q);
    tkd_expr_vec_free(c, 2);
    int rc = fmpq_sgn(q) > 0 ? 0 : NM;
    tkd_expr *sx = NULL;
    if (!rc) {
        tkd_expr *ng = tkd_expr_neg(tkd_expr_copy(g->args[1]));
        rc = ng ? tkd_expr_simplify(ng, &sx, e) : sum_oom(e);
        tkd_expr_free(ng);
    }
    if (!rc) {
        tkd_expr *z = fmpq_is_one(q) ? tkd_expr_call("zeta", 1, (tkd_expr *[]){tkd_expr_copy(sx)})
                                     : tkd_expr_call("zeta", 2, (tkd_expr *[]){tkd_expr_copy(sx), tkd_expr_fmpq(q)});
        tkd_expr *cond = tkd_expr_rel(TKD_R_GT, sx, tkd_expr_int(1));
        sx = NULL;
        tkd_expr *lim = tkd_expr_seq(
            TKD_EX_TUPLE, 3, (tkd_expr *[]){tkd_expr_sym(s->var), tkd_expr_fmpz(s->lo), tkd_expr_const(TKD_C_OO)});
        tkd_expr *sum = tkd_expr_fn2(TKD_FN_SUM, tkd_expr_copy(g), lim);
        *out = tkd_expr_call(
            "Piecewise", 2,
            (tkd_expr *[]){tkd_expr_seq(TKD_EX_TUPLE, 2, (tkd_expr *[]){z, cond}),
                           tkd_expr_seq(TKD_EX_TUPLE, 2, (tkd_expr *[]){sum, tkd_expr_const(TKD_C_TRUE)})});
        rc = *out ? 0 : sum_oom(e);
    }
    tkd_expr_free(sx);
    fmpq_clear(q);
    return rc;
}

/* one term g (free of constant factors): rational, polynomial, hypergeometric */
