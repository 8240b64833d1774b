/*
 * Limits the rational series alone cannot give (compute_limit's second
 * stage): the limit is taken part by part where that is sound, with exact
 * values (E, exp(-1/2), log(2), pi/2) that have no rational series.
 *
 *   - sums and products of parts with limits (finite, +oo, -oo), refusing
 *     the indeterminate oo - oo and 0 * oo;
 *   - continuous functions of a part with a finite limit, exp and log at
 *     the infinities, atan and tanh at oo;
 *   - the indeterminate powers f**g (1**oo, 0**0, oo**0) through
 *     exp(lim g*log(f)): f -> 1 gives g*log(f) a rational series; f ~ c*t**v
 *     with v != 0 (f -> 0 or oo) makes log(f) ~ v*log(t), and products of
 *     such logarithms with a series t**w are decided by comparing scales
 *     (t**w * log(t)**k -> 0 when w > 0), which also gives x*log(x) -> 0.
 *
 * t is the local variable of the series engine (x - a, or 1/x at oo); side
 * is the sign of t (+1 from the right and at +-oo, -1 from the left).
 * Whatever is not decided exactly is refused with "unsupported: ...".
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#define LIM_DEPTH_MAX 40 /* nesting of parts taken apart */

static int refuse(tkd_err *e, const char *why) {
    return tkd_err_set(e, TKD_EMATH, "unsupported: %s", why);
}

static void lv_clear(tlim *l) {
    tkd_expr_free(l->v);
    l->v = NULL;
}

static int lv_finite(tlim *l, tkd_expr *v, tkd_err *e) {
    l->kind = TLIM_FINITE;
    l->v = v;
    return v ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
}

static int lv_inf(tlim *l, int sign) {
    l->kind = sign > 0 ? TLIM_POS_INF : TLIM_NEG_INF;
    l->v = NULL;
    return 0;
}

/* Sign of a numeric value: +1, -1, 0 (zero), or 2 (not a decided real). */
static int num_sign(const tkd_expr *v) {
    ca_ctx_t ctx;
    ca_t c;
    tca_ctx_init(ctx);
    ca_init(c, ctx);
    tkd_err e = {0};
    int s = 2;
    if (!tkd_expr_to_ca(c, v, ctx, &e)) {
        if (ca_check_is_zero(c, ctx) == T_TRUE)
            s = 0;
        else if (ca_check_is_real(c, ctx) == T_TRUE) {
            truth_t neg = ca_check_is_negative_real(c, ctx);
            s = neg == T_TRUE ? -1 : neg == T_FALSE ? 1 : 2;
        }
    }
    ca_clear(c, ctx);
    ca_ctx_clear(ctx);
    return s;
}

/* The leading term c*t**v of x's rational series; 0 ok, 1 when the series
 * is zero to the working precision, EMATH when there is no such series. */
static int lead(const tkd_expr *x, const tser_point *pt, fmpq_t c, slong *v, tkd_err *e) {
    ser s;
    int rc = tser_compute(&s, x, pt, 1, e);
    if (rc)
        return rc;
    if (fmpq_poly_is_zero(s.p)) {
        tser_clear(&s);
        return 1;
    }
    fmpq_poly_get_coeff_fmpq(c, s.p, 0);
    *v = s.v;
    tser_clear(&s);
    return 0;
}

/* sign of c*t**v on the side */
static int lead_sign(const fmpq_t c, slong v, int side) {
    int s = fmpq_sgn(c);
    return side < 0 && (v % 2) ? -s : s;
}

static int rec(const tkd_expr *x, const tser_point *pt, int side, int depth, tlim *out, tkd_err *e);

/* ---- products: the log rule ---- */

/* x = log(u)**n (n a nonzero integer, n = 1 for log(u) itself)? */
static const tkd_expr *log_factor(const tkd_expr *x, long *n) {
    *n = 1;
    if (x->kind == TKD_EX_POW && x->args[1]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(x->args[1]->q)) &&
        fmpz_fits_si(fmpq_numref(x->args[1]->q))) {
        *n = fmpz_get_si(fmpq_numref(x->args[1]->q));
        x = x->args[0];
    }
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_LOG && x->n == 1 && *n != 0)
        return x->args[0];
    return NULL;
}

/* A product with logarithms log(u_i)**n_i of power-like u_i ~ c_i*t**v_i
 * (v_i != 0): the rest R ~ d*t**w, and the product ~ d*prod(v_i**n_i) *
 * t**w * log(t)**k, k = sum n_i. 1: not this form. */
static int log_rule(const tkd_expr *x, const tser_point *pt, int side, tlim *out, tkd_err *e) {
    const char *var = pt->var;
    tkd_expr *rest[64], *consts[64];
    size_t nr = 0, nc = 0;
    long k = 0;
    int logsign = 1, haslog = 0, negative_arg = 0, rc = 0;
    fmpq_t c, d, coef;
    fmpq_init(c);
    fmpq_init(d);
    fmpq_init(coef);
    fmpq_one(coef);
    if (x->n > 64) {
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i < x->n && !rc; i++) {
        const tkd_expr *f = x->args[i];
        long n;
        const tkd_expr *u = log_factor(f, &n);
        slong v;
        if (!tkd_expr_has_sym(f, var)) {
            consts[nc++] = tkd_expr_copy(f);
            continue;
        }
        if (u && lead(u, pt, c, &v, e) == 0 && v != 0) {
            haslog = 1;
            k += n;
            /* log(u) = v*log(t) + log(c) + o(1): as t -> 0, log|t| -> -oo */
            fmpq_t vq;
            fmpq_init(vq);
            fmpq_set_si(vq, v, 1);
            fmpq_pow_si(vq, vq, n);
            fmpq_mul(coef, coef, vq);
            fmpq_clear(vq);
            if (lead_sign(c, v, side) < 0)
                negative_arg = 1; /* log of a negative: log|u| + i*pi */
            continue;
        }
        rest[nr++] = tkd_expr_copy(f);
    }
    tkd_expr *R = nr == 0 ? tkd_expr_int(1) : nr == 1 ? rest[0] : tkd_expr_mul(nr, rest);
    tkd_expr *C = nc == 0 ? tkd_expr_int(1) : nc == 1 ? consts[0] : tkd_expr_mul(nc, consts);
    if (!haslog) {
        rc = 1;
    } else if (!R || !C) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    } else {
        slong w = 0;
        int lr = lead(R, pt, d, &w, e);
        if (lr == 1) {
            rc = lv_finite(out, tkd_expr_int(0), e); /* R vanishes to high order */
        } else if (lr) {
            rc = lr == TKD_EMATH ? refuse(e, "a product of a logarithm with a factor that has no power series at "
                                             "the point")
                                 : lr;
        } else if (w > 0 || (w == 0 && k < 0)) {
            rc = lv_finite(out, tkd_expr_int(0), e); /* t**w * log(t)**k -> 0 */
        } else if (negative_arg) {
            rc = refuse(e, "the logarithm of a quantity that is negative near the point, in a product that does not "
                           "tend to 0");
        } else {
            int cs = nc ? num_sign(C) : 1;
            if (cs == 2 || cs == 0) {
                rc = refuse(e, "the sign of a constant factor could not be decided");
            } else {
                fmpq_mul(d, d, coef);
                if (w == 0 && k == 0) {
                    rc = lv_finite(out, tkd_expr_mul2(tkd_expr_copy(C), tkd_expr_fmpq(d)), e);
                } else {
                    logsign = k % 2 ? -1 : 1; /* log|t| < 0 */
                    rc = lv_inf(out, cs * lead_sign(d, w, side) * logsign);
                }
            }
        }
    }
    tkd_expr_free(R);
    tkd_expr_free(C);
done:
    fmpq_clear(c);
    fmpq_clear(d);
    fmpq_clear(coef);
    return rc;
}

static int lim_mul(const tkd_expr *x, const tser_point *pt, int side, int depth, tlim *out, tkd_err *e) {
    int rc = log_rule(x, pt, side, out, e);
    if (rc != 1)
        return rc;
    rc = 0;
    size_t nconst = 0;
    for (size_t i = 0; i < x->n; i++)
        nconst += !tkd_expr_has_sym(x->args[i], pt->var);
    if (nconst && x->n - nconst >= 2) { /* a*(x/(x+1)): the variable's part as one product */
        tkd_expr *cs[64], *vs[64];
        size_t nc = 0, nv = 0;
        for (size_t i = 0; i < x->n && i < 64; i++) {
            if (tkd_expr_has_sym(x->args[i], pt->var))
                vs[nv++] = tkd_expr_copy(x->args[i]);
            else
                cs[nc++] = tkd_expr_copy(x->args[i]);
        }
        tkd_expr *C = nc == 1 ? cs[0] : tkd_expr_mul(nc, cs), *V = tkd_expr_mul(nv, vs);
        tkd_expr *two[2] = {C, V};
        tkd_expr *y = C && V ? tkd_expr_mul(2, two) : NULL;
        if (!y) {
            tkd_expr_free(C);
            tkd_expr_free(V);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
        rc = y->kind == TKD_EX_MUL && y->n == 2 ? lim_mul(y, pt, side, depth + 1, out, e) : refuse(e, "a product");
        tkd_expr_free(y);
        return rc;
    }
    tkd_expr *vals[64];
    size_t nv = 0;
    int ninf = 0, nzero = 0, unknown = 0, sign = 1;
    if (x->n > 64)
        return refuse(e, "a product of too many factors");
    for (size_t i = 0; i < x->n && !rc; i++) {
        tlim l = {0, NULL};
        if ((rc = rec(x->args[i], pt, side, depth + 1, &l, e)))
            break;
        if (l.kind != TLIM_FINITE) {
            ninf++;
            sign *= l.kind == TLIM_POS_INF ? 1 : -1;
            continue;
        }
        int s = num_sign(l.v);
        if (s == 0)
            nzero++;
        else if (s == 2)
            unknown++;
        else
            sign *= s;
        vals[nv++] = l.v;
    }
    if (!rc && ninf && nzero)
        rc = refuse(e, "the indeterminate form 0*oo (write it as a quotient or a power)");
    else if (!rc && ninf && unknown)
        rc = refuse(e, "a factor tending to infinity times a factor whose sign could not be decided");
    else if (!rc && ninf)
        rc = lv_inf(out, sign);
    else if (!rc) {
        rc = lv_finite(out, nv == 1 ? vals[0] : tkd_expr_mul(nv, vals), e);
        nv = 0;
    }
    for (size_t i = 0; i < nv; i++)
        tkd_expr_free(vals[i]);
    return rc;
}

static int lim_add(const tkd_expr *x, const tser_point *pt, int side, int depth, tlim *out, tkd_err *e) {
    tkd_expr *vals[64];
    size_t nv = 0;
    int pos = 0, neg = 0, rc = 0;
    if (x->n > 64)
        return refuse(e, "a sum of too many terms");
    for (size_t i = 0; i < x->n && !rc; i++) {
        tlim l = {0, NULL};
        if ((rc = rec(x->args[i], pt, side, depth + 1, &l, e)))
            break;
        if (l.kind == TLIM_POS_INF)
            pos++;
        else if (l.kind == TLIM_NEG_INF)
            neg++;
        else
            vals[nv++] = l.v;
    }
    if (!rc && pos && neg)
        rc = refuse(e, "the indeterminate form oo - oo (combine the terms into one fraction first)");
    else if (!rc && (pos || neg))
        rc = lv_inf(out, pos ? 1 : -1);
    else if (!rc) {
        rc = lv_finite(out, nv == 1 ? vals[0] : tkd_expr_add(nv, vals), e);
        nv = 0;
    }
    for (size_t i = 0; i < nv; i++)
        tkd_expr_free(vals[i]);
    return rc;
}

/* ---- powers ---- */

/* exp of a limit */
static int lim_exp(tlim *l, tlim *out, tkd_err *e) {
    if (l->kind == TLIM_POS_INF)
        return lv_inf(out, 1);
    if (l->kind == TLIM_NEG_INF)
        return lv_finite(out, tkd_expr_int(0), e);
    tkd_expr *v = l->v;
    l->v = NULL;
    return lv_finite(out, tkd_expr_fn1(TKD_FN_EXP, v), e);
}

/* f**g with the variable in g */
static int lim_exppow(const tkd_expr *f, const tkd_expr *g, const tser_point *pt, int side, int depth, tlim *out,
                      tkd_err *e) {
    fmpq_t c;
    fmpq_init(c);
    slong v = 0;
    int rc = lead(f, pt, c, &v, e), fs = 2; /* fs: sign of f near the point */
    tkd_expr *base = NULL;                  /* the finite positive limit of f, when not 1 */
    int to_one = 0;
    if (rc == 1) {
        rc = refuse(e, "a power whose base vanishes to high order at the point");
    } else if (rc == 0) {
        fs = lead_sign(c, v, side);
        if (v == 0 && fmpq_is_one(c))
            to_one = 1;
        else if (v == 0)
            base = tkd_expr_fmpq(c);
    } else if (rc == TKD_EMATH) { /* no series: the limit of f by parts */
        tlim F = {0, NULL};
        if (!(rc = rec(f, pt, side, depth + 1, &F, e))) {
            if (F.kind == TLIM_POS_INF) {
                fs = 1;
                v = -1;
            } else if (F.kind == TLIM_NEG_INF) {
                rc = refuse(e, "a power whose base tends to -oo");
            } else {
                tkd_expr *d = tkd_expr_sub(tkd_expr_copy(F.v), tkd_expr_int(1));
                int s1 = d ? num_sign(d) : 2;
                tkd_expr_free(d);
                fs = num_sign(F.v);
                if (s1 == 0)
                    to_one = 1;
                else if (fs == 1)
                    base = tkd_expr_copy(F.v);
                else
                    rc = refuse(e, "a power whose base tends to 0, a negative number or an undecided value");
            }
        }
        lv_clear(&F);
    }
    if (!rc && (to_one || (!base && v != 0))) {
        /* 1**oo, 0**0, oo**0 and the like: exp(lim g*log(f)) */
        if (fs != 1 && !to_one) {
            tlim G = {0, NULL};
            rc = rec(g, pt, side, depth + 1, &G, e);
            if (!rc && !(G.kind == TLIM_FINITE && num_sign(G.v) == 0))
                rc = refuse(e, "a power of a base that is negative near the point");
            lv_clear(&G);
            if (!rc)
                rc = lv_finite(out, tkd_expr_int(1), e);
        } else if (!rc) {
            tkd_expr *m = tkd_expr_mul2(tkd_expr_copy(g), tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(f)));
            tlim L = {0, NULL};
            rc = m ? rec(m, pt, side, depth + 1, &L, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
            if (!rc)
                rc = lim_exp(&L, out, e);
            lv_clear(&L);
            tkd_expr_free(m);
        }
    } else if (!rc && base) { /* f -> B != 0, B != 1 */
        tlim G = {0, NULL};
        if (!(rc = rec(g, pt, side, depth + 1, &G, e))) {
            if (G.kind != TLIM_FINITE && num_sign(base) != 1) {
                rc = refuse(e, "a power of a negative base with an exponent tending to infinity (it oscillates)");
            } else if (G.kind == TLIM_FINITE) {
                rc = lv_finite(out, tkd_expr_pow(base, G.v), e);
                base = G.v = NULL;
            } else {
                tkd_expr *d = tkd_expr_sub(tkd_expr_copy(base), tkd_expr_int(1));
                int s1 = d ? num_sign(d) : 2;
                tkd_expr_free(d);
                if (s1 == 2)
                    rc = refuse(e, "whether the base of a power is above 1 could not be decided");
                else if ((s1 > 0) == (G.kind == TLIM_POS_INF))
                    rc = lv_inf(out, 1);
                else
                    rc = lv_finite(out, tkd_expr_int(0), e);
            }
        }
        lv_clear(&G);
    }
    tkd_expr_free(base);
    fmpq_clear(c);
    return rc;
}

static int lim_pow(const tkd_expr *x, const tser_point *pt, int side, int depth, tlim *out, tkd_err *e) {
    const tkd_expr *b = x->args[0], *ex = x->args[1];
    if (tkd_expr_has_sym(ex, pt->var))
        return lim_exppow(b, ex, pt, side, depth, out, e);
    tlim B = {0, NULL};
    int rc = rec(b, pt, side, depth + 1, &B, e);
    if (rc)
        return rc;
    int rational = ex->kind == TKD_EX_NUM;
    int es = rational ? fmpq_sgn(ex->q) : num_sign(ex);
    int integer = rational && fmpz_is_one(fmpq_denref(ex->q));
    if (B.kind == TLIM_FINITE) {
        int bs = num_sign(B.v);
        if (bs == 0 && es > 0 && es != 2)
            rc = lv_finite(out, tkd_expr_int(0), e);
        else if (bs == 0)
            rc = refuse(e, "a negative or undecided power of a base that tends to 0");
        else if (bs == 2 && !integer)
            rc = refuse(e, "a power of a base whose limit is not a decided real number");
        else {
            rc = lv_finite(out, tkd_expr_pow(B.v, tkd_expr_copy(ex)), e);
            B.v = NULL;
        }
    } else if (es == 2 || es == 0) {
        rc = refuse(e, "a power of an infinite base with an undecided exponent");
    } else if (es < 0) {
        rc = lv_finite(out, tkd_expr_int(0), e);
    } else if (B.kind == TLIM_POS_INF) {
        rc = lv_inf(out, 1);
    } else if (integer) {
        rc = lv_inf(out, fmpz_is_odd(fmpq_numref(ex->q)) ? -1 : 1);
    } else {
        rc = refuse(e, "a fractional power of a base that tends to -oo");
    }
    lv_clear(&B);
    return rc;
}

/* ---- functions ---- */

static int lim_func(const tkd_expr *x, const tser_point *pt, int side, int depth, tlim *out, tkd_err *e) {
    int fn = x->op;
    if (x->n != 1)
        return refuse(e, "the limit of a function of several arguments");
    static const int continuous[] = {TKD_FN_EXP,  TKD_FN_SIN, TKD_FN_COS,  TKD_FN_TAN,   TKD_FN_SEC,
                                     TKD_FN_CSC,  TKD_FN_COT, TKD_FN_ATAN, TKD_FN_SINH,  TKD_FN_COSH,
                                     TKD_FN_TANH, TKD_FN_ABS, TKD_FN_LOG,  TKD_FN_ASINH, -1};
    int known = 0;
    for (int i = 0; continuous[i] >= 0; i++)
        known |= continuous[i] == fn;
    if (!known)
        return refuse(e, "the limit of this function by parts");
    const tkd_expr *u = x->args[0];
    if (fn == TKD_FN_LOG) { /* log(u) with u ~ c*t**v, v != 0 */
        fmpq_t c;
        fmpq_init(c);
        slong v;
        int lr = lead(u, pt, c, &v, e), rc = 1;
        if (lr == 0 && v != 0)
            rc = lead_sign(c, v, side) < 0 ? refuse(e, "the logarithm of a quantity that is negative near the point")
                                           : lv_inf(out, v > 0 ? -1 : 1);
        else if (lr < 0 && lr != TKD_EMATH)
            rc = lr;
        fmpq_clear(c);
        if (rc != 1)
            return rc;
    }
    tlim U = {0, NULL};
    int rc = rec(u, pt, side, depth + 1, &U, e);
    if (rc)
        return rc;
    if (U.kind == TLIM_FINITE) {
        if (fn == TKD_FN_LOG && num_sign(U.v) == 0) {
            rc = refuse(e, "the logarithm of a quantity that tends to 0 without a power series");
        } else {
            tkd_expr *f = tkd_expr_fn1((tkd_fn_id)fn, U.v);
            U.v = NULL;
            ca_ctx_t ctx;
            ca_t cv;
            tca_ctx_init(ctx);
            ca_init(cv, ctx);
            tkd_err e2 = {0};
            int ok = f && !tkd_expr_to_ca(cv, f, ctx, &e2) && ca_check_is_number(cv, ctx) == T_TRUE;
            ca_clear(cv, ctx);
            ca_ctx_clear(ctx);
            if (ok || (f && tkd_expr_has_sym(f, NULL) && (fn == TKD_FN_EXP || fn == TKD_FN_SIN || fn == TKD_FN_COS)))
                rc = lv_finite(out, f, e);
            else {
                tkd_expr_free(f);
                rc = refuse(e, "a function at the limit of its argument, where it is not finite");
            }
        }
    } else {
        int up = U.kind == TLIM_POS_INF;
        switch (fn) {
        case TKD_FN_EXP: rc = up ? lv_inf(out, 1) : lv_finite(out, tkd_expr_int(0), e); break;
        case TKD_FN_LOG: rc = up ? lv_inf(out, 1) : refuse(e, "log of a quantity tending to -oo"); break;
        case TKD_FN_ABS: rc = lv_inf(out, 1); break;
        case TKD_FN_SINH:
        case TKD_FN_ASINH: rc = lv_inf(out, up ? 1 : -1); break;
        case TKD_FN_COSH: rc = lv_inf(out, 1); break;
        case TKD_FN_TANH: rc = lv_finite(out, tkd_expr_int(up ? 1 : -1), e); break;
        case TKD_FN_ATAN:
            rc = lv_finite(out, tkd_expr_mul2(tkd_expr_rat(up ? 1 : -1, 2), tkd_expr_const(TKD_C_PI)), e);
            break;
        default: rc = refuse(e, "a trigonometric function of a quantity tending to infinity (it oscillates)");
        }
    }
    lv_clear(&U);
    return rc;
}

static int rec(const tkd_expr *x, const tser_point *pt, int side, int depth, tlim *out, tkd_err *e) {
    out->kind = TLIM_FINITE;
    out->v = NULL;
    if (depth > LIM_DEPTH_MAX)
        return refuse(e, "the expression is nested too deeply for a limit by parts");
    if (!tkd_expr_has_sym(x, pt->var))
        return lv_finite(out, tkd_expr_copy(x), e);
    fmpq_t c;
    fmpq_init(c);
    slong v = 0;
    tkd_err e2 = {0};
    int rc = lead(x, pt, c, &v, &e2);
    if (rc == 1 || (rc == 0 && v > 0))
        rc = lv_finite(out, tkd_expr_int(0), e);
    else if (rc == 0 && v == 0)
        rc = lv_finite(out, tkd_expr_fmpq(c), e);
    else if (rc == 0)
        rc = lv_inf(out, lead_sign(c, v, side));
    else if (rc != TKD_EMATH)
        *e = e2;
    fmpq_clear(c);
    if (rc != TKD_EMATH)
        return rc;
    switch (x->kind) {
    case TKD_EX_ADD: return lim_add(x, pt, side, depth, out, e);
    case TKD_EX_MUL: return lim_mul(x, pt, side, depth, out, e);
    case TKD_EX_POW: return lim_pow(x, pt, side, depth, out, e);
    case TKD_EX_FUNC: return lim_func(x, pt, side, depth, out, e);
    default: *e = e2; return e->code;
    }
}

int tlim_side(const tkd_expr *x, const tser_point *pt, int side, tlim *out, tkd_err *e) {
    tkd_expr *p = trat_prep(x, e); /* numeric parts folded, so exponents like 1/3 are numbers */
    if (!p)
        return e->code;
    int rc = rec(p, pt, side, 0, out, e);
    tkd_expr_free(p);
    if (rc) {
        lv_clear(out);
        return rc;
    }
    if (out->kind == TLIM_FINITE && !tkd_expr_has_sym(out->v, NULL)) { /* a canonical exact value */
        ca_ctx_t ctx;
        ca_t cv;
        tca_ctx_init(ctx);
        ca_init(cv, ctx);
        tkd_err e2 = {0};
        int r2 = tkd_expr_to_ca(cv, out->v, ctx, &e2);
        if (!r2 && ca_check_is_number(cv, ctx) == T_TRUE) {
            tkd_expr *s = tkd_expr_from_ca(cv, ctx, &e2);
            if (s) {
                tkd_expr_free(out->v);
                out->v = s;
            }
        } else {
            rc = r2 ? refuse(e, "the value of the limit could not be computed exactly")
                    : refuse(e, "the limit's value is not a finite number");
        }
        ca_clear(cv, ctx);
        ca_ctx_clear(ctx);
    }
    if (rc)
        lv_clear(out);
    return rc;
}

void tlim_clear(tlim *l) {
    lv_clear(l);
}
