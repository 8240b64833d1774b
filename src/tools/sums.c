/*
 * Closed forms of sums (the summation tool's engine beyond term-by-term
 * addition): sum_{k=lo}^{N} f(k) for an integer lo and an upper bound N that
 * is an integer, a symbolic expression (n) or oo.
 *
 *   - a factor free of k is taken out: sum c*g(k) = c * sum g(k);
 *   - a polynomial in k with any coefficients (a*k**2 + b): the polynomial
 *     antidifference of each power, P(N + 1) - P(lo);
 *   - a rational function of k over Q: partial fractions over Q; the
 *     irreducible factors that are shifts of each other (k, k + 2; n**2 - 2*n
 *     + 2, n**2 + 2*n + 2) telescope; what is left to infinity is
 *     c/(k + r)**j, j >= 2, with the values zeta(j) (pi**2/6, pi**4/90, ...
 *     and zeta(3) as SymPy writes them);
 *   - a polynomial times a hypergeometric kernel: geometric factors
 *     b**(a*k + d) with a rational ratio and factorials (k + c)! up or down
 *     (k/4**k, (n**2 + n - 1)/(n + 2)!): an antidifference Y(k)*h(k) with a
 *     polynomial Y, found by solving a linear system over Q (Gosper's ansatz
 *     without the normalisation);
 *   - telescoping differences u(k) - u(k + s) of any terms whose k sits in
 *     linear arguments (sqrt(n + 1) - sqrt(n - 1), cos(k - 1/2) - cos(k + 1/2));
 *   - (k + c)**(-s) to infinity with a symbolic c: zeta(s, lo + c); with a
 *     symbolic s: Piecewise((zeta(s, lo + c), s > 1), (the Sum, True));
 *   - c*q**k with a symbolic ratio q: SymPy's Piecewise (the closed form
 *     where it holds, Eq(q, 1) or Abs(q) < 1, else the Sum itself);
 *   - a sum of such terms, term by term (to infinity only when each
 *     converges), also after distributing (u + v)*w.
 * Anything else is TSUM_NOT_MINE (the caller answers "unsupported"): never a
 * guess. Divergent sums answer oo or -oo only for a polynomial with
 * coefficients of one sign (times a factor free of k), as SymPy does.
 */
#include <stdlib.h>
#include <string.h>

#include "sums_int.h"

int sum_oom(tkd_err *e) {
    return tkd_err_set(e, TKD_ENOMEM, "out of memory");
}

/* p(x) as an expression */
tkd_expr *sum_qp_at(const fmpq_poly_t p, const tkd_expr *x) {
    tkd_expr *b = tkd_expr_from_fmpq_poly(p, "tkd_s_");
    tkd_expr *r = b ? tsubst(b, "tkd_s_", x) : NULL;
    tkd_expr_free(b);
    return r;
}

/* N + t */
tkd_expr *sum_n_plus(const srange *s, slong t) {
    if (t == 0)
        return tkd_expr_copy(s->N);
    return tkd_expr_add2(tkd_expr_copy(s->N), tkd_expr_int(t));
}

/* The polynomial antidifference P of p: P(k + 1) - P(k) = p(k), P(0) = 0. */
static void poly_antidiff(fmpq_poly_t P, const fmpq_poly_t p) {
    slong d = fmpq_poly_degree(p);
    if (d < 0) {
        fmpq_poly_zero(P);
        return;
    }
    slong m = d + 2;
    fmpz *xs = _fmpz_vec_init(m);
    fmpq *ys = _fmpq_vec_init(m);
    fmpq_t v, q;
    fmpq_init(v);
    fmpq_init(q);
    for (slong i = 1; i < m; i++) {
        fmpz_set_si(xs + i, i);
        fmpq_set_si(q, i - 1, 1);
        fmpq_poly_evaluate_fmpq(v, p, q);
        fmpq_add(ys + i, ys + i - 1, v);
    }
    fmpz_t L;
    fmpz_init_set_ui(L, 1);
    for (slong i = 0; i < m; i++)
        fmpz_lcm(L, L, fmpq_denref(ys + i));
    fmpz *yi = _fmpz_vec_init(m);
    for (slong i = 0; i < m; i++) {
        fmpz_divexact(yi + i, L, fmpq_denref(ys + i));
        fmpz_mul(yi + i, yi + i, fmpq_numref(ys + i));
    }
    fmpq_poly_interpolate_fmpz_vec(P, xs, yi, m);
    fmpq_poly_scalar_div_fmpz(P, P, L);
    fmpz_clear(L);
    _fmpz_vec_clear(yi, m);
    _fmpz_vec_clear(xs, m);
    _fmpq_vec_clear(ys, m);
    fmpq_clear(v);
    fmpq_clear(q);
}

/* sum_{k=lo}^{N} p(k) (N finite) as an expression */
static tkd_expr *poly_sum(const fmpq_poly_t p, const srange *s) {
    fmpq_poly_t P;
    fmpq_poly_init(P);
    poly_antidiff(P, p);
    fmpq_t a, lo;
    fmpq_init(a);
    fmpq_init(lo);
    fmpq_set_fmpz_frac(lo, s->lo, (fmpz_t){1});
    fmpq_poly_evaluate_fmpq(a, P, lo);
    tkd_expr *n1 = sum_n_plus(s, 1);
    tkd_expr *top = n1 ? sum_qp_at(P, n1) : NULL;
    tkd_expr_free(n1);
    tkd_expr *r = top ? tkd_expr_sub(top, tkd_expr_fmpq(a)) : NULL;
    fmpq_poly_clear(P);
    fmpq_clear(a);
    fmpq_clear(lo);
    return r;
}

/* ---- factors (sums_int.h) ---- */

static int facs_add(facs *F, const tkd_expr *x, slong m) {
    if (F->n == F->cap) {
        size_t c = F->cap ? 2 * F->cap : 8;
        fac *v = realloc(F->v, c * sizeof *v);
        if (!v)
            return -1;
        F->v = v;
        F->cap = c;
    }
    F->v[F->n++] = (fac){x, m};
    return 0;
}

int sum_flatten(facs *F, const tkd_expr *x, slong m) {
    if (x->kind == TKD_EX_MUL) {
        for (size_t i = 0; i < x->n; i++)
            if (sum_flatten(F, x->args[i], m))
                return -1;
        return 0;
    }
    if (x->kind == TKD_EX_POW && x->args[1]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(x->args[1]->q)) &&
        fmpz_fits_si(fmpq_numref(x->args[1]->q))) {
        slong k = fmpz_get_si(fmpq_numref(x->args[1]->q));
        if (k > -1000 && k < 1000 && k != 0)
            return sum_flatten(F, x->args[0], m * k);
    }
    return facs_add(F, x, m);
}

tkd_expr *sum_fac_expr(const fac *f) {
    tkd_expr *c = tkd_expr_copy(f->x);
    return f->m == 1 ? c : tkd_expr_pow(c, tkd_expr_int(f->m));
}

/* The product of the factors with (want_var = 1) or without (0) var; NULL
 * for an empty product (*none = 1) or ENOMEM (*none = 0). */
static tkd_expr *facs_prod(const facs *F, const char *var, int want_var, int *none) {
    tkd_expr **v = calloc(F->n + 1, sizeof *v);
    size_t n = 0;
    *none = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < F->n; i++)
        if ((tkd_expr_has_sym(F->v[i].x, var) != 0) == want_var)
            v[n++] = sum_fac_expr(&F->v[i]);
    tkd_expr *r = NULL;
    if (n == 0)
        *none = 1;
    else
        r = tkd_expr_mul(n, v); /* n == 1: v[0] */
    free(v);
    return r;
}

/* f = C * g with C free of var: *C NULL when there is no such factor; *g
 * the rest (1 when f has no var). */
static int split_const(const tkd_expr *f, const char *var, tkd_expr **C, tkd_expr **g, tkd_err *e) {
    facs F = {0};
    *C = *g = NULL;
    if (sum_flatten(&F, f, 1)) {
        free(F.v);
        return sum_oom(e);
    }
    int nc, ng;
    *C = facs_prod(&F, var, 0, &nc);
    *g = facs_prod(&F, var, 1, &ng);
    if (ng && !*g)
        *g = tkd_expr_int(1);
    free(F.v);
    if ((!*C && !nc) || !*g) {
        tkd_expr_free(*C);
        tkd_expr_free(*g);
        *C = *g = NULL;
        return sum_oom(e);
    }
    return 0;
}

/* ---- a polynomial in var with any coefficients ---- */
static int m_poly(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e) {
    if (!s->N)
        return NM;
    tkd_expr **c = NULL;
    slong d = -1;
    tkd_err e2 = {0};
    if (tkd_expr_poly_coeffs(g, s->var, &c, &d, &e2)) {
        tkd_err_clear(&e2);
        return NM;
    }
    int rc = 0;
    if (d > SUM_DEG_MAX)
        rc = NM;
    tkd_expr **parts = rc ? NULL : calloc((size_t)d + 2, sizeof *parts);
    size_t np = 0;
    if (!rc && !parts)
        rc = sum_oom(e);
    fmpq_poly_t p;
    fmpq_poly_init(p);
    for (slong j = 0; j <= d && !rc; j++) {
        if (tkd_expr_is_int(c[j], 0))
            continue;
        fmpq_poly_zero(p);
        fmpq_poly_set_coeff_si(p, j, 1);
        tkd_expr *S = poly_sum(p, s);
        parts[np] = S ? tkd_expr_mul2(c[j], S) : NULL;
        c[j] = NULL;
        if (!S || !parts[np])
            rc = sum_oom(e);
        else
            np++;
    }
    fmpq_poly_clear(p);
    if (!rc) {
        tkd_expr *acc = np ? tkd_expr_add(np, parts) : tkd_expr_int(0);
        np = 0;
        rc = acc ? tkd_expr_simplify(acc, out, e) : sum_oom(e);
        tkd_expr_free(acc);
    }
    for (size_t i = 0; i < np; i++)
        tkd_expr_free(parts[i]);
    free(parts);
    tkd_expr_vec_free(c, (size_t)d + 1);
    return rc;
}

/* zeta(j), j >= 2: rational * pi**j for even j, zeta(j) for odd j (SymPy's forms) */
static tkd_expr *zeta_expr(ulong j) {
    if (j % 2)
        return tkd_expr_call("zeta", 1, (tkd_expr *[]){tkd_expr_int((long)j)});
    /* zeta(2n) = (-1)**(n+1) B_2n (2 pi)**2n / (2 (2n)!) */
    fmpq_t b;
    fmpz_t f;
    fmpq_init(b);
    fmpz_init(f);
    arith_bernoulli_number(b, j);
    fmpz_fac_ui(f, j);
    fmpq_div_fmpz(b, b, f);
    fmpz_one(f);
    fmpz_mul_2exp(f, f, j - 1);
    fmpq_mul_fmpz(b, b, f);
    if (j % 4 == 0)
        fmpq_neg(b, b);
    tkd_expr *r = tkd_expr_mul2(tkd_expr_fmpq(b), tkd_expr_pow(tkd_expr_const(TKD_C_PI), tkd_expr_int((long)j)));
    fmpq_clear(b);
    fmpz_clear(f);
    return r;
}

/* ---- a rational function of var over Q ---- */
typedef struct pfrac {
    fmpq_poly_t p; /* irreducible, monic */
    slong ex;
    fmpq_poly_struct *a; /* a[j - 1]: numerator of 1/p**j, j = 1..ex */
    slong cls, sh;       /* shift class; p(k) = rep(k + sh) */
} pfrac;

/* Is k = r an integer pole at or above lo? */
static int pole_in_range(const fmpq_poly_t p, const fmpz *lo) {
    if (fmpq_poly_degree(p) != 1)
        return 0;
    fmpq_t r, c1;
    fmpq_init(r);
    fmpq_init(c1);
    fmpq_poly_get_coeff_fmpq(r, p, 0);
    fmpq_poly_get_coeff_fmpq(c1, p, 1);
    fmpq_div(r, r, c1);
    fmpq_neg(r, r);
    int bad = fmpz_is_one(fmpq_denref(r)) && fmpz_cmp(fmpq_numref(r), lo) >= 0;
    fmpq_clear(r);
    fmpq_clear(c1);
    return bad;
}

/* k + c */
void sum_lin(fmpq_poly_t l, const fmpq_t c) {
    fmpq_poly_zero(l);
    fmpq_poly_set_coeff_si(l, 1, 1);
    fmpq_poly_set_coeff_fmpq(l, 0, c);
}

static int m_rat(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e) {
    fmpq_poly_t P, Q;
    fmpq_poly_init(P);
    fmpq_poly_init(Q);
    int rc = NM;
    if (!trat_qrat(g, s->var, P, Q) || fmpq_poly_degree(Q) > SUM_DEG_MAX || fmpq_poly_degree(P) > SUM_DEG_MAX) {
        fmpq_poly_clear(P);
        fmpq_poly_clear(Q);
        return NM;
    }
    if (s->num) { /* integer bounds: exactly, term by term */
        fmpz_t k, cnt;
        fmpz_init(k);
        fmpz_init(cnt);
        fmpz_sub(cnt, s->hi, s->lo);
        fmpq_t acc, a, b, x;
        fmpq_init(acc);
        fmpq_init(a);
        fmpq_init(b);
        fmpq_init(x);
        rc = fmpz_cmp_si(cnt, TOOL_SUM_TERMS_MAX) >= 0 ? NM : 0;
        for (fmpz_set(k, s->lo); !rc && fmpz_cmp(k, s->hi) <= 0; fmpz_add_ui(k, k, 1)) {
            fmpq_set_fmpz_frac(x, k, (fmpz_t){1});
            fmpq_poly_evaluate_fmpq(b, Q, x);
            if (fmpq_is_zero(b) || fmpz_bits(fmpq_numref(acc)) > TKD_EXPR_MAX_INT_BITS * 4) {
                rc = NM;
                break;
            }
            fmpq_poly_evaluate_fmpq(a, P, x);
            fmpq_div(a, a, b);
            fmpq_add(acc, acc, a);
        }
        if (!rc)
            *out = tkd_expr_fmpq(acc);
        if (!rc && !*out)
            rc = sum_oom(e);
        fmpz_clear(k);
        fmpz_clear(cnt);
        fmpq_clear(acc);
        fmpq_clear(a);
        fmpq_clear(b);
        fmpq_clear(x);
        fmpq_poly_clear(P);
        fmpq_poly_clear(Q);
        return rc;
    }
    if (fmpq_poly_degree(Q) == 0) { /* a polynomial */
        if (s->N) {
            fmpq_poly_div(P, P, Q);
            tkd_expr *r = poly_sum(P, s);
            rc = r ? tkd_expr_simplify(r, out, e) : sum_oom(e);
            tkd_expr_free(r);
        }
        fmpq_poly_clear(P);
        fmpq_poly_clear(Q);
        return rc;
    }
    fmpq_poly_t W, P1, t, R, pe, G, S, T, lk;
    fmpq_poly_init(W);
    fmpq_poly_init(P1);
    fmpq_poly_init(t);
    fmpq_poly_init(R);
    fmpq_poly_init(pe);
    fmpq_poly_init(G);
    fmpq_poly_init(S);
    fmpq_poly_init(T);
    fmpq_poly_init(lk);
    fmpq_poly_divrem(W, P1, P, Q);
    fmpz_poly_t Qz;
    fmpz_poly_init(Qz);
    fmpq_poly_get_numerator(Qz, Q);
    fmpz_poly_factor_t fz;
    fmpz_poly_factor_init(fz);
    fmpz_poly_factor(fz, Qz);
    slong nf = fz->num;
    pfrac *pf = calloc((size_t)nf + 1, sizeof *pf);
    tkd_expr **parts = NULL;
    size_t np = 0, capp = 0;
    fmpq_t cst, v, q;
    fmpq_init(cst);
    fmpq_init(v);
    fmpq_init(q);
    rc = pf ? 0 : sum_oom(e);
    for (slong i = 0; i < nf && !rc; i++) {
        fmpq_poly_init(pf[i].p);
        fmpq_poly_set_fmpz_poly(pf[i].p, fz->p + i);
        fmpq_poly_make_monic(pf[i].p, pf[i].p);
        pf[i].ex = fz->exp[i];
        pf[i].a = calloc((size_t)pf[i].ex, sizeof *pf[i].a);
        if (!pf[i].a) {
            rc = sum_oom(e);
            break;
        }
        for (slong j = 0; j < pf[i].ex; j++)
            fmpq_poly_init(pf[i].a + j);
        if (pole_in_range(pf[i].p, s->lo))
            rc = NM;
    }
    /* partial fractions: P1/Q = sum_i sum_j a_ij / p_i**j */
    for (slong i = 0; i < nf && !rc; i++) {
        fmpq_poly_pow(pe, pf[i].p, (ulong)pf[i].ex);
        fmpq_poly_div(R, Q, pe);
        fmpq_poly_xgcd(G, S, T, R, pe);
        fmpq_poly_mul(t, P1, S);
        fmpq_poly_rem(t, t, pe);
        for (slong j = pf[i].ex; j >= 1; j--) {
            fmpq_poly_divrem(T, pf[i].a + j - 1, t, pf[i].p);
            fmpq_poly_swap(t, T);
        }
    }
    /* shift classes */
    slong ncls = 0;
    for (slong i = 0; i < nf && !rc; i++) {
        pf[i].cls = -1;
        slong d = fmpq_poly_degree(pf[i].p);
        for (slong r = 0; r < i && pf[i].cls < 0; r++) {
            if (pf[r].sh != 0 || fmpq_poly_degree(pf[r].p) != d)
                continue; /* compare with class representatives only (shift 0) */
            fmpq_poly_get_coeff_fmpq(v, pf[i].p, d - 1);
            fmpq_poly_get_coeff_fmpq(q, pf[r].p, d - 1);
            fmpq_sub(v, v, q);
            fmpq_div_fmpz(v, v, (fmpz_t){d});
            if (!fmpz_is_one(fmpq_denref(v)) || tfmpz_abs_gt(fmpq_numref(v), SUM_SHIFT_MAX))
                continue;
            sum_lin(lk, v);
            fmpq_poly_compose(t, pf[r].p, lk);
            if (fmpq_poly_equal(t, pf[i].p)) {
                pf[i].cls = pf[r].cls;
                pf[i].sh = fmpz_get_si(fmpq_numref(v));
            }
        }
        if (pf[i].cls < 0) {
            pf[i].cls = ncls++;
            pf[i].sh = 0;
        }
    }
    fmpq_poly_t rep, B, b, den;
    fmpq_poly_init(rep);
    fmpq_poly_init(B);
    fmpq_poly_init(b);
    fmpq_poly_init(den);
    for (slong c = 0; c < ncls && !rc; c++) {
        slong smin = 0, r0 = -1, J = 0;
        for (slong i = 0; i < nf; i++)
            if (pf[i].cls == c) {
                if (r0 < 0 || pf[i].sh < smin)
                    smin = pf[i].sh;
                if (r0 < 0)
                    r0 = i;
                if (pf[i].ex > J)
                    J = pf[i].ex;
            }
        fmpq_set_si(v, smin, 1);
        sum_lin(lk, v);
        fmpq_poly_compose(rep, pf[r0].p, lk); /* member i: p_i(k) = rep(k + sh_i - smin) */
        for (slong j = 1; j <= J && !rc; j++) {
            fmpq_poly_zero(B);
            fmpq_poly_pow(den, rep, (ulong)j);
            for (slong i = 0; i < nf && !rc; i++) {
                if (pf[i].cls != c || pf[i].ex < j || fmpq_poly_is_zero(pf[i].a + j - 1))
                    continue;
                slong ti = pf[i].sh - smin;
                fmpq_set_si(v, -ti, 1);
                sum_lin(lk, v);
                fmpq_poly_compose(b, pf[i].a + j - 1, lk); /* b(m) = a(m - t_i) */
                fmpq_poly_add(B, B, b);
                /* - sum_{m=lo}^{lo+t_i-1} b(m)/rep(m)**j */
                for (slong u = 0; u < ti; u++) {
                    fmpq_set_fmpz_frac(q, s->lo, (fmpz_t){1});
                    fmpq_add_si(q, q, u);
                    fmpq_t w;
                    fmpq_init(w);
                    fmpq_poly_evaluate_fmpq(w, den, q);
                    if (fmpq_is_zero(w))
                        rc = NM;
                    else {
                        fmpq_poly_evaluate_fmpq(v, b, q);
                        fmpq_div(v, v, w);
                        fmpq_sub(cst, cst, v);
                    }
                    fmpq_clear(w);
                }
                /* + sum_{u=1}^{t_i} b(N+u)/rep(N+u)**j */
                for (slong u = 1; u <= ti && s->N && !rc; u++) {
                    if (np + 1 >= capp) {
                        size_t nc = capp ? 2 * capp : 16;
                        tkd_expr **pp = realloc(parts, nc * sizeof *pp);
                        if (!pp) {
                            rc = sum_oom(e);
                            break;
                        }
                        parts = pp;
                        capp = nc;
                    }
                    tkd_expr *x = sum_n_plus(s, u);
                    tkd_expr *nu = x ? sum_qp_at(b, x) : NULL, *de = x ? sum_qp_at(den, x) : NULL;
                    tkd_expr_free(x);
                    parts[np] = nu && de ? tkd_expr_div(nu, de) : NULL;
                    if (!parts[np]) {
                        if (!nu || !de) {
                            tkd_expr_free(nu);
                            tkd_expr_free(de);
                        }
                        rc = sum_oom(e);
                    } else
                        np++;
                }
            }
            if (rc || fmpq_poly_is_zero(B))
                continue;
            /* what does not telescope: sum_{m=lo}^{oo} c/(m + r)**j, j >= 2, r an integer */
            if (s->N || fmpq_poly_degree(rep) != 1 || j < 2) {
                rc = NM;
                break;
            }
            fmpq_poly_get_coeff_fmpq(q, rep, 0);
            if (!fmpz_is_one(fmpq_denref(q))) {
                rc = NM;
                break;
            }
            fmpz_t top;
            fmpz_init(top);
            fmpz_add(top, s->lo, fmpq_numref(q)); /* >= 1: no pole in range */
            fmpz_sub_ui(top, top, 1);
            if (fmpz_cmp_si(top, 100000) > 0 || fmpz_sgn(top) < 0)
                rc = NM;
            fmpq_t c0, hs;
            fmpq_init(c0);
            fmpq_init(hs);
            fmpq_poly_get_coeff_fmpq(c0, B, 0);
            for (slong u = 1; !rc && fmpz_cmp_si(top, u) >= 0; u++) {
                fmpq_set_si(v, 1, 1);
                fmpq_div_fmpz(v, v, (fmpz_t){u});
                fmpq_pow_si(v, v, j);
                fmpq_add(hs, hs, v);
            }
            fmpz_clear(top);
            if (!rc) {
                fmpq_mul(hs, hs, c0);
                fmpq_sub(cst, cst, hs);
                if (np + 1 >= capp) {
                    size_t nc = capp ? 2 * capp : 16;
                    tkd_expr **pp = realloc(parts, nc * sizeof *pp);
                    if (!pp)
                        rc = sum_oom(e);
                    else {
                        parts = pp;
                        capp = nc;
                    }
                }
                if (!rc) {
                    parts[np] = tkd_expr_mul2(tkd_expr_fmpq(c0), zeta_expr((ulong)j));
                    rc = parts[np] ? 0 : sum_oom(e);
                    np += !rc;
                }
            }
            fmpq_clear(c0);
            fmpq_clear(hs);
        }
    }
    if (!rc && !fmpq_poly_is_zero(W)) {
        if (!s->N)
            rc = NM;
        else {
            tkd_expr *x = poly_sum(W, s);
            tkd_expr **pp = np + 1 >= capp ? realloc(parts, (capp + 4) * sizeof *pp) : parts;
            if (!x || !pp) {
                tkd_expr_free(x);
                rc = sum_oom(e);
            } else {
                if (pp != parts)
                    capp += 4;
                parts = pp;
                parts[np++] = x;
            }
        }
    }
    if (!rc) {
        tkd_expr **pp = realloc(parts, (np + 1) * sizeof *pp);
        if (!pp)
            rc = sum_oom(e);
        else {
            parts = pp;
            parts[np++] = tkd_expr_fmpq(cst);
            tkd_expr *acc = tkd_expr_add(np, parts);
            np = 0;
            rc = acc ? tkd_expr_simplify(acc, out, e) : sum_oom(e);
            tkd_expr_free(acc);
        }
    }
    for (size_t i = 0; i < np; i++)
        tkd_expr_free(parts[i]);
    free(parts);
    for (slong i = 0; pf && i < nf; i++) {
        for (slong j = 0; pf[i].a && j < pf[i].ex; j++)
            fmpq_poly_clear(pf[i].a + j);
        free(pf[i].a);
        fmpq_poly_clear(pf[i].p);
    }
    free(pf);
    fmpq_clear(cst);
    fmpq_clear(v);
    fmpq_clear(q);
    fmpq_poly_clear(rep);
    fmpq_poly_clear(B);
    fmpq_poly_clear(b);
    fmpq_poly_clear(den);
    fmpz_poly_factor_clear(fz);
    fmpz_poly_clear(Qz);
    fmpq_poly_clear(W);
    fmpq_poly_clear(P1);
    fmpq_poly_clear(t);
    fmpq_poly_clear(R);
    fmpq_poly_clear(pe);
    fmpq_poly_clear(G);
    fmpq_poly_clear(S);
    fmpq_poly_clear(T);
    fmpq_poly_clear(lk);
    fmpq_poly_clear(P);
    fmpq_poly_clear(Q);
    return rc;
}

static int one_term(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e) {
    int rc = m_rat(g, s, out, e);
    if (rc == NM)
        rc = m_poly(g, s, out, e);
    if (rc == NM)
        rc = sum_hyper(g, s, out, e);
    if (rc == NM)
        rc = sum_hurwitz(g, s, out, e);
    if (rc == NM)
        rc = sum_geo_sym(g, s, out, e);
    return rc;
}

/* x simplified, or x as built when simplifying would pass a size limit
 * (q**2011 inside a Piecewise); takes x */
static int simp_keep(tkd_expr *x, tkd_expr **out, tkd_err *e) {
    if (!x)
        return sum_oom(e);
    tkd_err e2 = {0};
    int rc = tkd_expr_simplify(x, out, &e2);
    if (rc == TKD_ELIMIT) {
        *out = x;
        return 0;
    }
    tkd_expr_free(x);
    if (rc)
        *e = e2;
    return rc;
}

/* C * S simplified (C may be NULL); takes S */
static int times_const(tkd_expr *C, tkd_expr *S, tkd_expr **out, tkd_err *e) {
    if (!C) {
        *out = S;
        return 0;
    }
    return simp_keep(tkd_expr_mul2(C, S), out, e);
}

int tsum_closed(const tkd_expr *f, const char *var, const fmpz_t lo, const tkd_expr *upper, tkd_expr **out,
                tkd_err *e) {
    *out = NULL;
    srange s = {var, lo, upper, 0, {0}};
    fmpz_init(s.hi);
    if (upper && upper->kind == TKD_EX_CONST && upper->op == TKD_C_OO)
        s.N = NULL;
    else if (upper && upper->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(upper->q))) {
        s.num = 1;
        fmpz_set(s.hi, fmpq_numref(upper->q));
        if (fmpz_cmp(s.hi, lo) < 0) { /* an empty range: SymPy's reversed-bounds convention is not ours */
            fmpz_clear(s.hi);
            return NM;
        }
    }
    tkd_expr *C = NULL, *g = NULL, *S = NULL;
    tkd_err e0 = {0};
    if (!tkd_expr_has_sym(f, var) && tkd_expr_is_zero(f, &e0) == TKD_EXPR_YES) { /* 0 + 0 + ... */
        fmpz_clear(s.hi);
        *out = tkd_expr_int(0);
        return *out ? 0 : sum_oom(e);
    }
    tkd_err_clear(&e0);
    int rc = split_const(f, var, &C, &g, e);
    if (!rc) {
        rc = one_term(g, &s, &S, e);
        if (rc == NM)
            rc = sum_tele(g, &s, &S, e);
    }
    tkd_expr *dist = NULL;
    if (rc == NM && g->kind == TKD_EX_MUL) { /* (u + v)*w -> u*w + v*w, for the term by term sum */
        size_t nadd = 0, ia = 0;
        for (size_t i = 0; i < g->n; i++)
            if (g->args[i]->kind == TKD_EX_ADD) {
                nadd++;
                ia = i;
            }
        const tkd_expr *A = g->args[ia];
        tkd_expr **ts = nadd == 1 && A->n <= 16 ? calloc(A->n, sizeof *ts) : NULL;
        for (size_t j = 0; ts && j < A->n; j++) {
            tkd_expr **fs = calloc(g->n, sizeof *fs);
            for (size_t i = 0; fs && i < g->n; i++)
                fs[i] = tkd_expr_copy(i == ia ? A->args[j] : g->args[i]);
            tkd_expr *t = fs ? tkd_expr_mul(g->n, fs) : NULL;
            tkd_err e3 = {0};
            if (t && tkd_expr_simplify(t, &ts[j], &e3))
                ts[j] = NULL;
            tkd_err_clear(&e3);
            tkd_expr_free(t);
            free(fs);
        }
        dist = ts ? tkd_expr_add(A->n, ts) : NULL;
        free(ts);
    }
    const tkd_expr *G = dist ? dist : g;
    if (rc == NM && G->kind == TKD_EX_ADD) { /* term by term: each must have a closed form */
        const tkd_expr *g = G;
        tkd_expr **parts = calloc(g->n, sizeof *parts);
        size_t np = 0;
        rc = parts ? 0 : sum_oom(e);
        for (size_t i = 0; i < g->n && !rc; i++) {
            tkd_expr *Ci = NULL, *gi = NULL, *Si = NULL;
            rc = split_const(g->args[i], var, &Ci, &gi, e);
            if (!rc)
                rc = one_term(gi, &s, &Si, e);
            if (!rc)
                rc = times_const(Ci, Si, &parts[np], e);
            else
                tkd_expr_free(Ci);
            np += !rc;
            tkd_expr_free(gi);
        }
        if (!rc) {
            tkd_expr *acc = tkd_expr_add(np, parts);
            np = 0;
            rc = simp_keep(acc, &S, e);
        }
        for (size_t i = 0; i < np; i++)
            tkd_expr_free(parts[i]);
        free(parts);
    }
    if (rc == NM && !s.N) { /* a polynomial with coefficients of one sign diverges to oo or -oo */
        fmpq_poly_t P, Q;
        fmpq_poly_init(P);
        fmpq_poly_init(Q);
        if (trat_qrat(g, var, P, Q) && fmpq_poly_degree(Q) == 0 && !fmpq_poly_is_zero(P)) {
            int pos = 0, neg = 0;
            fmpq_t c, q0;
            fmpq_init(c);
            fmpq_init(q0);
            fmpq_poly_get_coeff_fmpq(q0, Q, 0);
            for (slong j = 0; j <= fmpq_poly_degree(P); j++) {
                fmpq_poly_get_coeff_fmpq(c, P, j);
                fmpq_div(c, c, q0);
                pos |= fmpq_sgn(c) > 0;
                neg |= fmpq_sgn(c) < 0;
            }
            fmpq_clear(c);
            fmpq_clear(q0);
            if (pos != neg) {
                S = tkd_expr_const(TKD_C_OO);
                if (neg)
                    S = tkd_expr_neg(S);
                rc = S ? 0 : sum_oom(e);
            }
        }
        fmpq_poly_clear(P);
        fmpq_poly_clear(Q);
    }
    if (!rc) {
        rc = times_const(C, S, out, e);
        C = NULL;
    } else
        tkd_expr_free(S);
    tkd_expr_free(C);
    tkd_expr_free(g);
    tkd_expr_free(dist);
    fmpz_clear(s.hi);
    return rc;
}
