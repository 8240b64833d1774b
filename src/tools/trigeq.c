/*
 * Equations in sin(u) and cos(u) together (u = a*x + c, a rational), for
 * troots, answered as SymPy's solve answers them:
 *
 *   - two terms c1*sin(u)**p + c2*cos(u)**p: SymPy divides them into
 *     c1*tan(u)**p + c2 = 0 and takes u = atan(w) for each root w
 *     (4*sin(x)**2 = cos(x)**2 gives -atan(1/2), atan(1/2));
 *   - otherwise the half-angle substitution t = tan(u/2), sin(u) =
 *     2*t/(1 + t**2), cos(u) = (1 - t**2)/(1 + t**2): u = 2*atan(t) for each
 *     root t (so, as in SymPy, u = pi, where t is infinite, is never among
 *     them: sin(x) + cos(x) = -1 gives [-pi/2]).
 *
 * Every answer is checked exactly in the original equation where Calcium
 * decides it (a false one is dropped); an undecided check keeps it, since
 * the substitution is exact away from the poles of tan.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

typedef struct tstate {
    const char *var;
    const tkd_expr *u; /* the common argument */
    int has_sin, has_cos, bad;
} tstate;

static void scan(tstate *s, const tkd_expr *x) {
    if (s->bad || !tkd_expr_has_sym(x, s->var))
        return;
    if (x->kind == TKD_EX_FUNC && x->n == 1 && (x->op == TKD_FN_SIN || x->op == TKD_FN_COS)) {
        if (s->u && !tkd_expr_equal(s->u, x->args[0])) {
            s->bad = 1;
            return;
        }
        s->u = x->args[0];
        if (x->op == TKD_FN_SIN)
            s->has_sin = 1;
        else
            s->has_cos = 1;
        return;
    }
    if (x->kind == TKD_EX_SYM || x->kind == TKD_EX_FUNC ||
        (x->kind == TKD_EX_POW && !(x->args[1]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(x->args[1]->q))))) {
        s->bad = 1; /* the variable outside sin/cos, or under a radical */
        return;
    }
    for (size_t i = 0; i < x->n; i++)
        scan(s, x->args[i]);
}

/* x with sin(u) -> s, cos(u) -> c (owned copies) */
static tkd_expr *subst_sc(const tkd_expr *x, const tstate *st, const tkd_expr *s, const tkd_expr *c) {
    if (x->kind == TKD_EX_FUNC && x->n == 1 && (x->op == TKD_FN_SIN || x->op == TKD_FN_COS) &&
        tkd_expr_equal(x->args[0], st->u))
        return tkd_expr_copy(x->op == TKD_FN_SIN ? s : c);
    tkd_expr *r = tkd_expr_copy(x);
    for (size_t i = 0; r && i < r->n; i++) {
        if (!tkd_expr_has_sym(r->args[i], st->var))
            continue;
        tkd_expr *a = subst_sc(r->args[i], st, s, c);
        if (!a) {
            tkd_expr_free(r);
            return NULL;
        }
        tkd_expr_free(r->args[i]);
        r->args[i] = a;
    }
    return r;
}

/* The two-term form c1*S**p + c2*C**p of the numerator in S, C: tan(u)**p = -c2/c1. */
static tkd_expr *tan_form(const tkd_expr *y, const char *S, const char *C, const char *T) {
    const char *vars[2] = {S, C};
    tkd_rf t;
    fmpz_mpoly_q_t r;
    tkd_err e = {0};
    if (trat_from_ast(&t, y, vars, 2, &r, &e))
        return NULL;
    tkd_expr *out = NULL;
    slong si = tkd_rf_var(&t, S), ci = tkd_rf_var(&t, C);
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r);
    if (fmpz_mpoly_length(N, t.ctx) == 2 && t.n == 2) {
        ulong ex0[2], ex1[2];
        fmpz_t c0, c1;
        fmpz_init(c0);
        fmpz_init(c1);
        fmpz_mpoly_get_term_exp_ui(ex0, N, 0, t.ctx);
        fmpz_mpoly_get_term_exp_ui(ex1, N, 1, t.ctx);
        fmpz_mpoly_get_term_coeff_fmpz(c0, N, 0, t.ctx);
        fmpz_mpoly_get_term_coeff_fmpz(c1, N, 1, t.ctx);
        /* one term a pure power of S, the other the same power of C */
        ulong p0s = ex0[si], p0c = ex0[ci], p1s = ex1[si], p1c = ex1[ci];
        if (p0s && !p0c && p1c && !p1s && p0s == p1c) { /* c0 S^p + c1 C^p */
            out =
                tkd_expr_add2(tkd_expr_mul2(tkd_expr_fmpz(c0), tkd_expr_pow(tkd_expr_sym(T), tkd_expr_int((long)p0s))),
                              tkd_expr_fmpz(c1));
        } else if (p0c && !p0s && p1s && !p1c && p0c == p1s) {
            out =
                tkd_expr_add2(tkd_expr_mul2(tkd_expr_fmpz(c1), tkd_expr_pow(tkd_expr_sym(T), tkd_expr_int((long)p1s))),
                              tkd_expr_fmpz(c0));
        }
        fmpz_clear(c0);
        fmpz_clear(c1);
    }
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return out;
}

int ttrig_roots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e) {
    tkd_expr *p = trat_prep(x, e);
    if (!p)
        return e->code;
    int rc = TRAD_NOT_MINE;
    tstate st = {var, NULL, 0, 0, 0};
    scan(&st, p);
    const tkd_expr *f = p; /* SymPy solves a product = 0 factor by factor */
    if (f->kind == TKD_EX_ADD) {
        const tkd_expr *only = NULL;
        size_t nz = 0;
        for (size_t i = 0; i < f->n; i++)
            if (!(f->args[i]->kind == TKD_EX_NUM && fmpq_is_zero(f->args[i]->q)))
                nz++, only = f->args[i];
        if (nz == 1)
            f = only;
    }
    if (!st.bad && st.has_sin && st.has_cos && f->kind == TKD_EX_MUL) {
        rc = 0;
        for (size_t i = 0; !rc && i < f->n; i++)
            if (tkd_expr_has_sym(f->args[i], var))
                rc = troots(f->args[i], var, out, depth + 1, e);
        tkd_expr_free(p);
        return rc;
    }
    fmpq_t a;
    fmpq_init(a);
    tkd_expr *c = NULL;
    if (st.bad || !st.has_sin || !st.has_cos || !tlinear(st.u, var, a, &c) || tkd_expr_has_sym(c, NULL))
        goto done;
    static const char *S = "tkd_s_", *C = "tkd_c_", *T = "tkd_t_";
    tkd_expr *sS = tkd_expr_sym(S), *sC = tkd_expr_sym(C);
    tkd_expr *y = sS && sC ? subst_sc(p, &st, sS, sC) : NULL;
    tkd_expr_free(sS);
    tkd_expr_free(sC);
    if (!y) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto done;
    }
    tkd_expr *tf = tan_form(y, S, C, T);
    int half = tf == NULL;
    if (half) { /* sin = 2t/(1+t^2), cos = (1-t^2)/(1+t^2) */
        tkd_expr *den = tkd_expr_add2(tkd_expr_int(1), tkd_expr_pow(tkd_expr_sym(T), tkd_expr_int(2)));
        tkd_expr *hs = tkd_expr_div(tkd_expr_mul2(tkd_expr_int(2), tkd_expr_sym(T)), tkd_expr_copy(den));
        tkd_expr *hc = tkd_expr_div(tkd_expr_sub(tkd_expr_int(1), tkd_expr_pow(tkd_expr_sym(T), tkd_expr_int(2))), den);
        tf = hs && hc ? subst_sc(p, &st, hs, hc) : NULL;
        tkd_expr_free(hs);
        tkd_expr_free(hc);
    }
    tkd_expr_free(y);
    tlist ts = {0};
    rc = tf ? troots(tf, T, &ts, depth + 1, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    tkd_expr_free(tf);
    fmpq_inv(a, a);
    for (size_t i = 0; !rc && i < ts.n; i++) {
        if (tkd_expr_has_sym(ts.v[i], NULL)) {
            rc = tkd_err_set(e, TKD_EMATH, "unsupported: a trigonometric equation with parameters");
            break;
        }
        /* t = +-I: atan is undefined there */
        tkd_expr *t2 = tkd_expr_add2(tkd_expr_pow(tkd_expr_copy(ts.v[i]), tkd_expr_int(2)), tkd_expr_int(1));
        truth_t pole = t2 ? tnum_check(t2, 0) : T_UNKNOWN;
        tkd_expr_free(t2);
        if (pole != T_FALSE)
            continue;
        tkd_expr *uv = tkd_expr_fn1(TKD_FN_ATAN, tkd_expr_copy(ts.v[i]));
        if (half)
            uv = tkd_expr_mul2(tkd_expr_int(2), uv);
        tkd_expr *xv = tkd_expr_mul2(tkd_expr_fmpq(a), tkd_expr_sub(uv, tkd_expr_copy(c))), *sv = NULL;
        tkd_err e2 = {0};
        if (xv && !tkd_expr_simplify(xv, &sv, &e2) && sv) {
            tkd_expr_free(xv);
            xv = sv;
        }
        if (!xv) {
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
            break;
        }
        tkd_err e3 = {0};
        int ok = tcheck_root(p, var, xv, 0, &e3);
        if (ok == 0) {
            tkd_expr_free(xv);
            continue;
        }
        rc = tlist_add(out, xv, e);
    }
    tlist_free(&ts);
done:
    tkd_expr_free(c);
    fmpq_clear(a);
    tkd_expr_free(p);
    return rc;
}
