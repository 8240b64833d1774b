/*
 * Inverse trigonometric bounds for the inequality tools: p*F(u) + q op 0
 * with F one of atan, asin, acos, u a function of var that rset.c solves,
 * p and q constants. F is monotone on its domain, so F(u) op K (K = -q/p)
 * is u op F^-1(K) where K lies inside F's range (within u's domain, and
 * -1 <= u <= 1 for asin and acos, the order turned for acos), and all or
 * nothing of u's domain where K lies outside (-pi/4 < atan(x) < pi/2 is
 * x > -1).
 *
 * Only atan is enabled: for asin and acos SymPy's solve_univariate_inequality
 * ignores the domain -1 <= u <= 1 (acos(x) > pi/3 gives (-oo, 1/2)), so the
 * exact answer would differ from it; those stay refused.
 */
#include <string.h>

#include "rset_int.h"

#define INV_SYM "tkd_F"

static void find_inv(const tkd_expr *x, const char *var, const tkd_expr **atom, int *bad) {
    if (*bad || !tkd_expr_has_sym(x, var))
        return;
    if (x->kind == TKD_EX_FUNC && x->n == 1 && x->op == TKD_FN_ATAN) {
        if (*atom && !tkd_expr_equal(*atom, x))
            *bad = 1;
        *atom = x;
        return;
    }
    for (size_t i = 0; i < x->n; i++)
        find_inv(x->args[i], var, atom, bad);
}

/* sign of a - b: -1, 0, 1, or 2 when Calcium cannot decide */
static int ca_sign_diff(const ca_t a, const ca_t b, ca_ctx_t ctx) {
    if (ca_check_lt(a, b, ctx) == T_TRUE)
        return -1;
    if (ca_check_gt(a, b, ctx) == T_TRUE)
        return 1;
    return ca_check_equal(a, b, ctx) == T_TRUE ? 0 : 2;
}

static int flip(int op) {
    return op == TKD_R_LT   ? TKD_R_GT
           : op == TKD_R_LE ? TKD_R_GE
           : op == TKD_R_GT ? TKD_R_LT
           : op == TKD_R_GE ? TKD_R_LE
                            : op;
}

/* u op c (c an expression, owned) solved by rset. */
static int solve_u(const tkd_expr *u, int op, tkd_expr *c, const char *var, tkd_rset **out) {
    tkd_expr *r = c ? tkd_expr_rel((tkd_expr_rel_op)op, tkd_expr_copy(u), c) : NULL;
    tkd_err e = {0};
    int rc = !r || tkd_rset_solve(r, var, 0, out, &e) ? TKD_EMATH : 0;
    tkd_expr_free(r);
    return rc;
}

int ineq_inv_set(const tkd_expr *rel, const char *var, tkd_rset **out) {
    *out = NULL;
    if (rel->kind != TKD_EX_REL || rel->op == TKD_R_NE || rel->op == TKD_R_EQ)
        return TKD_EMATH;
    const tkd_expr *atom = NULL;
    int bad = 0;
    find_inv(rel, var, &atom, &bad);
    if (bad || !atom)
        return TKD_EMATH;
    const tkd_expr *u = atom->args[0];
    tkd_expr *L = tkd_expr_sym(INV_SYM);
    tkd_expr *d0 = L ? tkd_expr_sub(tkd_expr_copy(rel->args[0]), tkd_expr_copy(rel->args[1])) : NULL;
    tkd_expr *d = d0 ? treplace(d0, atom, L) : NULL;
    tkd_expr_free(d0);
    tkd_expr **c = NULL;
    slong deg = -1;
    tkd_err e2 = {0};
    int rc = !d || tkd_expr_has_sym(d, var) || tkd_expr_poly_coeffs(d, INV_SYM, &c, &deg, &e2) || deg != 1 ||
                     tkd_expr_has_sym(c[0], NULL) || tkd_expr_has_sym(c[1], NULL)
                 ? TKD_EMATH
                 : 0;
    int fn = atom->op, op = rel->op;
    /* K = -q/p and where it lies against the range's ends */
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    ca_t p, K, lo, hi, zero;
    ca_init(p, ctx);
    ca_init(K, ctx);
    ca_init(lo, ctx);
    ca_init(hi, ctx);
    ca_init(zero, ctx);
    tkd_expr *Ke = NULL;
    if (!rc) {
        Ke = tkd_expr_neg(tkd_expr_div(tkd_expr_copy(c[0]), tkd_expr_copy(c[1])));
        tkd_expr *s = NULL;
        if (!Ke || tkd_expr_simplify(Ke, &s, &e2) || tkd_expr_to_ca(K, s, ctx, &e2) ||
            tkd_expr_to_ca(p, c[1], ctx, &e2))
            rc = TKD_EMATH;
        tkd_expr_free(Ke);
        Ke = s;
    }
    int sp = rc ? 2 : ca_sign_diff(p, zero, ctx);
    if (!rc && (sp == 2 || sp == 0))
        rc = TKD_EMATH;
    if (!rc && sp < 0)
        op = flip(op);
    /* the range [lo, hi] (open for atan) */
    if (!rc) {
        ca_pi(hi, ctx);
        if (fn == TKD_FN_ACOS) {
            ca_zero(lo, ctx);
        } else {
            ca_div_si(hi, hi, 2, ctx);
            ca_neg(lo, hi, ctx);
        }
    }
    int below = rc ? 2 : ca_sign_diff(K, lo, ctx), above = rc ? 2 : ca_sign_diff(K, hi, ctx);
    if (!rc && (below == 2 || above == 2))
        rc = TKD_EMATH;
    /* u's domain: where u is defined, within [-1, 1] for asin and acos */
    tkd_rset *dom = NULL, *a = NULL, *b = NULL, *t = NULL;
    if (!rc) {
        if (solve_u(u, TKD_R_GE, tkd_expr_int(fn == TKD_FN_ATAN ? 0 : -1), var, &a) ||
            solve_u(u, fn == TKD_FN_ATAN ? TKD_R_LT : TKD_R_LE, tkd_expr_int(fn == TKD_FN_ATAN ? 0 : 1), var, &b) ||
            tkd_rset_combine(a, b, fn != TKD_FN_ATAN, &dom))
            rc = TKD_EMATH;
        tkd_rset_free(a);
        tkd_rset_free(b);
        a = b = NULL;
    }
    if (!rc) {
        /* F(u) op K: K below the range (or at an open end): > holds everywhere; above: < does */
        int gt = op == TKD_R_GT || op == TKD_R_GE;
        int at_open_lo = fn == TKD_FN_ATAN && below == 0, at_open_hi = fn == TKD_FN_ATAN && above == 0;
        if (below < 0 || at_open_lo || above > 0 || at_open_hi) {
            int all = (below < 0 || at_open_lo) ? gt : !gt;
            if (all) {
                *out = dom;
                dom = NULL;
            } else {
                rc = tkd_rset_all(0, out) ? TKD_ENOMEM : 0;
            }
        } else {
            /* u op F^-1(K), the order turned for acos (decreasing) */
            int fi = fn == TKD_FN_ATAN ? TKD_FN_TAN : fn == TKD_FN_ASIN ? TKD_FN_SIN : TKD_FN_COS;
            tkd_expr *v = tkd_expr_fn1((tkd_fn_id)fi, tkd_expr_copy(Ke)), *vs = NULL;
            if (!v || tkd_expr_simplify(v, &vs, &e2))
                rc = TKD_EMATH;
            tkd_expr_free(v);
            if (!rc && (rc = solve_u(u, fn == TKD_FN_ACOS ? flip(op) : op, vs, var, &t)) == 0 &&
                tkd_rset_combine(t, dom, 1, out))
                rc = TKD_ENOMEM;
        }
    }
    tkd_rset_free(dom);
    tkd_rset_free(t);
    ca_clear(p, ctx);
    ca_clear(K, ctx);
    ca_clear(lo, ctx);
    ca_clear(hi, ctx);
    ca_clear(zero, ctx);
    ca_ctx_clear(ctx);
    tkd_expr_free(Ke);
    if (c)
        tkd_expr_vec_free(c, (size_t)deg + 1);
    tkd_expr_free(d);
    tkd_expr_free(L);
    return rc;
}
