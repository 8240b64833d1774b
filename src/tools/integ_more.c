/*
 * More antiderivatives for integrate (integ.c calls these; every answer is
 * still checked there by differentiating it):
 *   - sin(u)**m * cos(u)**n (u = a*x + b): with an odd power, the other
 *     function as the variable ((1 - s**2) for the even part); even powers
 *     by the reduction formula (sin**2 = 1 - cos**2 first); tan(u) and
 *     cot(u) as logarithms;
 *   - rational functions of b**x or exp(x) (one constant base b > 0): t = b**(g*x)
 *     makes dx = dt/(g*log(b)*t), a rational integral in t;
 *   - the rewriting of tan, cot, sec, csc as quotients of sin and cos used
 *     by the check (tkd's canonical form keeps them as separate atoms).
 */
#include <string.h>

#include <flint/fmpq_poly.h>

#include "tools_int.h"

#define SC_POW_MAX 24 /* exponents of sin and cos integrated */
#define SC_T "tkd_s"

/* a of u = a*x + b (a free of x and nonzero), or NULL */
static tkd_expr *slope(const tkd_expr *u, const char *v) {
    tkd_expr *d = NULL;
    tkd_err e = {0};
    if (tkd_expr_diff(u, v, &d, &e) || !d || tkd_expr_has_sym(d, v) || tkd_expr_is_int(d, 0)) {
        tkd_expr_free(d);
        return NULL;
    }
    return d;
}

/* Q(f(u)) for Q in Q[s] */
static tkd_expr *poly_of(const fmpq_poly_t Q, tkd_fn_id fn, const tkd_expr *u) {
    tkd_expr *p = tkd_expr_from_fmpq_poly(Q, SC_T), *f = tkd_expr_fn1(fn, tkd_expr_copy(u)), *r = NULL;
    tkd_err e = {0};
    if (p && f && tkd_expr_subs(p, SC_T, f, &r, &e))
        r = NULL;
    tkd_expr_free(p);
    tkd_expr_free(f);
    return r;
}

/* ∫ w**p (1 - w**2)**q dw as a polynomial in w */
static void odd_part(fmpq_poly_t out, slong p, slong q) {
    fmpq_poly_t a, b;
    fmpq_poly_init(a);
    fmpq_poly_init(b);
    fmpq_poly_set_si(a, 1);
    fmpq_poly_set_coeff_si(a, 2, -1);
    fmpq_poly_pow(a, a, (ulong)q);
    fmpq_poly_zero(b);
    fmpq_poly_set_coeff_si(b, p, 1);
    fmpq_poly_mul(a, a, b);
    fmpq_poly_integral(out, a);
    fmpq_poly_clear(a);
    fmpq_poly_clear(b);
}

/* ∫ f(u)**p dx for f sin or cos, p even >= 0: reduction formula */
static tkd_expr *even_power(tkd_fn_id fn, slong p, const tkd_expr *u, const tkd_expr *a, const char *v) {
    if (p == 0)
        return tkd_expr_sym(v);
    /* sin: -sin**(p-1) cos/(p a); cos: cos**(p-1) sin/(p a); + (p-1)/p I(p-2) */
    tkd_fn_id other = fn == TKD_FN_SIN ? TKD_FN_COS : TKD_FN_SIN;
    tkd_expr *t = tkd_expr_mul2(tkd_expr_pow(tkd_expr_fn1(fn, tkd_expr_copy(u)), tkd_expr_int(p - 1)),
                                tkd_expr_fn1(other, tkd_expr_copy(u)));
    t = tkd_expr_div(t, tkd_expr_mul2(tkd_expr_int(p), tkd_expr_copy(a)));
    if (fn == TKD_FN_SIN)
        t = tkd_expr_neg(t);
    tkd_expr *rest = even_power(fn, p - 2, u, a, v);
    return tkd_expr_add2(t, tkd_expr_mul2(tkd_expr_rat(p - 1, p), rest));
}

/* f = FUNC(u) or FUNC(u)**k (k a positive integer): fills fn, u, k */
static int trig_factor(const tkd_expr *f, int *fn, const tkd_expr **u, slong *k) {
    const tkd_expr *b = f;
    *k = 1;
    if (f->kind == TKD_EX_POW) {
        if (!(f->args[1]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(f->args[1]->q)) &&
              fmpz_sgn(fmpq_numref(f->args[1]->q)) > 0 && fmpz_cmp_si(fmpq_numref(f->args[1]->q), SC_POW_MAX) <= 0))
            return 0;
        *k = fmpz_get_si(fmpq_numref(f->args[1]->q));
        b = f->args[0];
    }
    if (b->kind != TKD_EX_FUNC || b->n != 1)
        return 0;
    *fn = b->op;
    *u = b->args[0];
    return 1;
}

int tinteg_trig(const tkd_expr *const *fs, size_t nf, const char *v, int poles, tkd_expr **out) {
    *out = NULL;
    const tkd_expr *u = NULL;
    slong m = 0, n = 0;
    int single = -1;
    for (size_t i = 0; i < nf; i++) {
        int fn;
        const tkd_expr *ui;
        slong k;
        if (!trig_factor(fs[i], &fn, &ui, &k) || (u && !tkd_expr_equal(u, ui)))
            return TKD_EMATH;
        u = ui;
        if (fn == TKD_FN_SIN)
            m += k;
        else if (fn == TKD_FN_COS)
            n += k;
        else if ((fn == TKD_FN_TAN || fn == TKD_FN_COT) && k == 1 && nf == 1 && poles)
            single = fn;
        else
            return TKD_EMATH;
    }
    if (!u || m > SC_POW_MAX || n > SC_POW_MAX)
        return TKD_EMATH;
    tkd_expr *a = slope(u, v);
    if (!a)
        return TKD_EMATH;
    tkd_expr *r = NULL;
    if (single >= 0) {
        /* tan: -log(cos(u))/a; cot: log(sin(u))/a */
        r = tkd_expr_div(
            tkd_expr_fn1(TKD_FN_LOG, tkd_expr_fn1(single == TKD_FN_TAN ? TKD_FN_COS : TKD_FN_SIN, tkd_expr_copy(u))),
            tkd_expr_copy(a));
        if (single == TKD_FN_TAN)
            r = tkd_expr_neg(r);
    } else if (n % 2 || m % 2) {
        fmpq_poly_t Q;
        fmpq_poly_init(Q);
        if (n % 2) { /* w = sin(u): ∫ w**m (1 - w**2)**((n-1)/2) dw / a */
            odd_part(Q, m, (n - 1) / 2);
            r = poly_of(Q, TKD_FN_SIN, u);
        } else { /* w = cos(u): -∫ w**n (1 - w**2)**((m-1)/2) dw / a */
            odd_part(Q, n, (m - 1) / 2);
            fmpq_poly_neg(Q, Q);
            r = poly_of(Q, TKD_FN_COS, u);
        }
        fmpq_poly_clear(Q);
        r = r ? tkd_expr_div(r, tkd_expr_copy(a)) : NULL;
    } else if (m == 0 || n == 0) {
        r = even_power(m ? TKD_FN_SIN : TKD_FN_COS, m ? m : n, u, a, v);
    } else if (m + n <= SC_POW_MAX) {
        /* both even: sin**m = (1 - cos**2)**(m/2), a sum of even powers of cos */
        tkd_expr *terms[SC_POW_MAX + 1];
        size_t nt = 0;
        fmpz_t b;
        fmpz_init(b);
        for (slong j = 0; j <= m / 2; j++) {
            fmpz_bin_uiui(b, (ulong)(m / 2), (ulong)j);
            if (j % 2)
                fmpz_neg(b, b);
            terms[nt++] = tkd_expr_mul2(tkd_expr_fmpz(b), even_power(TKD_FN_COS, n + 2 * j, u, a, v));
        }
        fmpz_clear(b);
        r = tkd_expr_add(nt, terms);
    }
    tkd_expr_free(a);
    if (!r)
        return TKD_EMATH;
    *out = r;
    return 0;
}

/* ---- rational functions of b**x ---- */
#define EXPI_ATOMS_MAX 8

typedef struct expi {
    tkd_expr *base; /* owned: an integer base as its smallest root (4**x is 2**(2*x)) */
    const tkd_expr *atom[EXPI_ATOMS_MAX];
    fmpq a[EXPI_ATOMS_MAX]; /* exponent a*x */
    int n, bad;
} expi;

static void find_pow(const tkd_expr *x, const char *v, expi *A, const tkd_expr *E) {
    if (A->bad || !tkd_expr_has_sym(x, v))
        return;
    int is_exp = x->kind == TKD_EX_FUNC && x->op == TKD_FN_EXP && x->n == 1;
    if (is_exp || (x->kind == TKD_EX_POW && x->args[0]->kind == TKD_EX_NUM && tkd_expr_has_sym(x->args[1], v))) {
        const tkd_expr *b = is_exp ? E : x->args[0], *ex = is_exp ? x->args[0] : x->args[1];
        tkd_expr **k = NULL;
        slong deg = -1;
        tkd_err e = {0};
        if ((!is_exp && (fmpq_sgn(b->q) <= 0 || fmpq_is_one(b->q))) || A->n == EXPI_ATOMS_MAX ||
            tkd_expr_poly_coeffs(ex, v, &k, &deg, &e)) {
            A->bad = 1;
            return;
        }
        slong m = 1;
        tkd_expr *nb = NULL;
        if (!is_exp && fmpz_is_one(fmpq_denref(b->q))) {
            fmpz_t r;
            fmpz_init(r);
            m = fmpz_is_perfect_power(r, fmpq_numref(b->q));
            if (m > 1) {
                nb = tkd_expr_fmpz(r);
            } else {
                m = 1;
                nb = tkd_expr_copy(b);
            }
            fmpz_clear(r);
        } else {
            nb = tkd_expr_copy(b);
        }
        if (!nb || deg != 1 || !tkd_expr_is_int(k[0], 0) || k[1]->kind != TKD_EX_NUM ||
            (A->base && !tkd_expr_equal(A->base, nb))) {
            A->bad = 1;
            tkd_expr_free(nb);
        } else {
            fmpq_init(A->a + A->n);
            fmpq_mul_si(A->a + A->n, k[1]->q, m);
            A->atom[A->n++] = x;
            if (A->base)
                tkd_expr_free(nb);
            else
                A->base = nb;
        }
        tkd_expr_vec_free(k, (size_t)deg + 1);
        return;
    }
    if (x->kind == TKD_EX_SYM) {
        A->bad = 1; /* x outside the exponentials */
        return;
    }
    if (x->kind == TKD_EX_FUNC) {
        A->bad = 1;
        return;
    }
    for (size_t i = 0; i < x->n; i++)
        find_pow(x->args[i], v, A, E);
}

int tinteg_exp(const tkd_expr *f, const char *v, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    expi A = {0};
    tkd_expr *E = tkd_expr_const(TKD_C_E);
    if (!E)
        return TKD_ENOMEM;
    find_pow(f, v, &A, E);
    int rc = A.bad || A.n == 0 ? TKD_EMATH : 0;
    fmpq_t g, k;
    fmpq_init(g);
    fmpq_init(k);
    for (int i = 0; i < A.n && !rc; i++)
        fmpq_gcd(g, g, A.a + i); /* gcd(0, a) = |a| */
    /* f(t)/t with t = b**(g x), each atom t**(a/g) */
    tkd_expr *t = tkd_expr_sym(SC_T), *d = rc ? NULL : tkd_expr_copy(f);
    for (int i = 0; i < A.n && d; i++) {
        fmpq_div(k, A.a + i, g);
        tkd_expr *by = tkd_expr_pow(tkd_expr_copy(t), tkd_expr_fmpq(k));
        tkd_expr *nd = by ? treplace(d, A.atom[i], by) : NULL;
        tkd_expr_free(by);
        tkd_expr_free(d);
        d = nd;
    }
    if (!rc && (!d || tkd_expr_has_sym(d, v)))
        rc = TKD_EMATH;
    tkd_expr *q = rc ? NULL : tkd_expr_div(d, tkd_expr_copy(t));
    d = NULL;
    /* as N/D in Q[t] */
    fmpq_poly_t N, D;
    fmpq_poly_init(N);
    fmpq_poly_init(D);
    if (!rc) {
        tkd_rf tr;
        fmpz_mpoly_q_t r;
        const char *tv = SC_T;
        tkd_err e2 = {0};
        rc = TKD_EMATH;
        if (q && !trat_from_ast(&tr, q, &tv, 1, &r, &e2)) {
            slong x = tkd_rf_var(&tr, SC_T);
            if (tr.n == 1 && fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_numref(r), x, tr.ctx) &&
                fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_denref(r), x, tr.ctx)) {
                fmpz_poly_t z;
                fmpz_poly_init(z);
                fmpz_mpoly_get_fmpz_poly(z, fmpz_mpoly_q_numref(r), x, tr.ctx);
                fmpq_poly_set_fmpz_poly(N, z);
                fmpz_mpoly_get_fmpz_poly(z, fmpz_mpoly_q_denref(r), x, tr.ctx);
                fmpq_poly_set_fmpz_poly(D, z);
                fmpz_poly_clear(z);
                rc = fmpq_poly_degree(D) > 40 || fmpq_poly_degree(N) > 200 ? TKD_EMATH : 0;
            }
            fmpz_mpoly_q_clear(r, tr.ctx);
            tkd_rf_clear(&tr);
        }
    }
    tkd_expr *Ft = NULL;
    if (!rc)
        rc = tinteg_rational(N, D, SC_T, &Ft, e);
    if (!rc) {
        /* F(b**(g x)) / (g log b) */
        tkd_expr *bx = tkd_expr_pow(tkd_expr_copy(A.base), tkd_expr_mul2(tkd_expr_fmpq(g), tkd_expr_sym(v)));
        tkd_expr *F = NULL;
        tkd_err e2 = {0};
        if (!bx || tkd_expr_subs(Ft, SC_T, bx, &F, &e2))
            rc = TKD_EMATH;
        tkd_expr_free(bx);
        if (!rc)
            *out = tkd_expr_div(F, tkd_expr_mul2(tkd_expr_fmpq(g), tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(A.base))));
        if (!rc && !*out)
            rc = TKD_ENOMEM;
    }
    tkd_expr_free(Ft);
    tkd_expr_free(q);
    tkd_expr_free(t);
    fmpq_poly_clear(N);
    fmpq_poly_clear(D);
    for (int i = 0; i < A.n; i++)
        fmpq_clear(A.a + i);
    fmpq_clear(g);
    fmpq_clear(k);
    tkd_expr_free(E);
    tkd_expr_free(A.base);
    return rc;
}

/* ---- for the check: tan, cot, sec, csc as quotients of sin and cos; powers
 * of integer bases over one atom (4**x and 2**(2*x) as (2**x)**2) ---- */
tkd_expr *tinteg_sc(const tkd_expr *x) {
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t i = 0; c && i < c->n; i++) {
        tkd_expr *r = tinteg_sc(x->args[i]);
        if (!r) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = r;
    }
    if (c && c->kind == TKD_EX_POW && c->args[0]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(c->args[0]->q)) &&
        fmpz_cmp_si(fmpq_numref(c->args[0]->q), 1) > 0 && tkd_expr_has_sym(c->args[1], NULL)) {
        /* n**e = (r**e)**m for n = r**m, and r**(k*e) = (r**e)**k for an integer k: one atom r**e */
        fmpz_t r;
        fmpz_init(r);
        slong m = fmpz_is_perfect_power(r, fmpq_numref(c->args[0]->q));
        if (m < 2) {
            m = 1;
            fmpz_set(r, fmpq_numref(c->args[0]->q));
        }
        const tkd_expr *ex = c->args[1];
        fmpz_t k;
        fmpz_init_set_si(k, m);
        if (ex->kind == TKD_EX_MUL && ex->n == 2 && ex->args[0]->kind == TKD_EX_NUM &&
            fmpz_is_one(fmpq_denref(ex->args[0]->q)) && fmpz_bits(fmpq_numref(ex->args[0]->q)) < 20) {
            fmpz_mul(k, k, fmpq_numref(ex->args[0]->q));
            ex = ex->args[1];
        }
        tkd_expr *nr = tkd_expr_pow(tkd_expr_pow(tkd_expr_fmpz(r), tkd_expr_copy(ex)), tkd_expr_fmpz(k));
        fmpz_clear(r);
        fmpz_clear(k);
        tkd_expr_free(c);
        return nr;
    }
    if (!c || c->kind != TKD_EX_FUNC || c->n != 1)
        return c;
    tkd_expr *u = c->args[0], *r = NULL;
    switch (c->op) {
    case TKD_FN_TAN:
        r = tkd_expr_div(tkd_expr_fn1(TKD_FN_SIN, tkd_expr_copy(u)), tkd_expr_fn1(TKD_FN_COS, tkd_expr_copy(u)));
        break;
    case TKD_FN_COT:
        r = tkd_expr_div(tkd_expr_fn1(TKD_FN_COS, tkd_expr_copy(u)), tkd_expr_fn1(TKD_FN_SIN, tkd_expr_copy(u)));
        break;
    case TKD_FN_SEC: r = tkd_expr_pow(tkd_expr_fn1(TKD_FN_COS, tkd_expr_copy(u)), tkd_expr_int(-1)); break;
    case TKD_FN_CSC: r = tkd_expr_pow(tkd_expr_fn1(TKD_FN_SIN, tkd_expr_copy(u)), tkd_expr_int(-1)); break;
    default: return c;
    }
    tkd_expr_free(c);
    return r;
}

/* sin(u) and cos(u) (one argument u throughout) as 2w/(1 + w**2) and
 * (1 - w**2)/(1 + w**2), w a new symbol: an identity in x, sin(u), cos(u)
 * becomes one of rational functions, which the canonical form decides (x and
 * e**(i*u) are algebraically independent, and a zero after the substitution
 * is a zero before it). NULL when the arguments differ. */
static int weier_arg(const tkd_expr *x, const tkd_expr **u) {
    if (x->kind == TKD_EX_FUNC && x->n == 1 && (x->op == TKD_FN_SIN || x->op == TKD_FN_COS)) {
        if (*u && !tkd_expr_equal(*u, x->args[0]))
            return 0;
        *u = x->args[0];
    }
    for (size_t i = 0; i < x->n; i++)
        if (!weier_arg(x->args[i], u))
            return 0;
    return 1;
}

static tkd_expr *weier_sub(const tkd_expr *x, const tkd_expr *u) {
    if (x->kind == TKD_EX_FUNC && x->n == 1 && (x->op == TKD_FN_SIN || x->op == TKD_FN_COS) &&
        tkd_expr_equal(x->args[0], u)) {
        tkd_expr *w2 = tkd_expr_pow(tkd_expr_sym("tkd_w"), tkd_expr_int(2));
        tkd_expr *den = tkd_expr_add2(tkd_expr_int(1), tkd_expr_copy(w2));
        tkd_expr *num = x->op == TKD_FN_SIN ? tkd_expr_mul2(tkd_expr_int(2), tkd_expr_sym("tkd_w"))
                                            : tkd_expr_sub(tkd_expr_int(1), tkd_expr_copy(w2));
        tkd_expr_free(w2);
        return tkd_expr_div(num, den);
    }
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t i = 0; c && i < c->n; i++) {
        tkd_expr *r = weier_sub(x->args[i], u);
        if (!r) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = r;
    }
    return c;
}

tkd_expr *tinteg_weier(const tkd_expr *x) {
    const tkd_expr *u = NULL;
    if (!weier_arg(x, &u) || !u)
        return NULL;
    return weier_sub(x, u);
}
