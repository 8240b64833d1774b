/*
 * expr zero test: decide x == 0. Constants go to Calcium (which decides
 * most algebraic and many transcendental identities); otherwise the light
 * simplify, then the same after expanding trig and exp of sums and integer
 * multiples (sin(2x) - 2 sin(x) cos(x)), and last a certified numeric
 * check at random points, which can only prove NO.
 */
#include "expr_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REC (4 * TKD_EXPR_MAX_DEPTH)
#define MAX_MULTIPLE 12

/* sin/cos of a sum or of k*u (|k| <= MAX_MULTIPLE) by the addition formulas;
 * a, b are the parts: u = a + b */
static int split(const tkd_expr *u, tkd_expr **a, tkd_expr **b) {
    if (u->kind == TKD_EX_ADD && u->n >= 2) {
        *a = tkd_expr_copy(u->args[0]);
        if (u->n == 2)
            *b = tkd_expr_copy(u->args[1]);
        else {
            tkd_expr **v = calloc(u->n - 1, sizeof *v);
            for (size_t i = 1; v && i < u->n; i++)
                v[i - 1] = tkd_expr_copy(u->args[i]);
            *b = v ? tkd_expr_add(u->n - 1, v) : NULL;
            free(v);
        }
        return 1;
    }
    /* k*w with integer k >= 2: (k-1)*w + w */
    if (u->kind == TKD_EX_MUL && u->n >= 2 && u->args[0]->kind == TKD_EX_NUM &&
        fmpz_is_one(fmpq_denref(u->args[0]->q)) && fmpz_cmp_si(fmpq_numref(u->args[0]->q), 2) >= 0 &&
        fmpz_cmp_si(fmpq_numref(u->args[0]->q), MAX_MULTIPLE) <= 0) {
        tkd_expr *w = tkd_expr_copy(u);
        if (!w)
            return 0;
        long k = fmpz_get_si(fmpq_numref(u->args[0]->q));
        tkd_expr *rest = tkd_expr_copy(u);
        if (!rest) {
            tkd_expr_free(w);
            return 0;
        }
        fmpq_set_si(rest->args[0]->q, k - 1, 1);
        fmpq_one(w->args[0]->q);
        *a = rest;
        *b = w;
        return 1;
    }
    return 0;
}

static tkd_expr *trig(int op, tkd_expr *u) {
    return tkd_expr_fn1(op, u);
}

static tkd_expr *fexp(const tkd_expr *x, int depth) {
    if (depth > MAX_REC)
        return NULL;
    tkd_expr *y = tkd_expr_copy(x);
    for (size_t i = 0; y && i < y->n; i++) {
        tkd_expr *a = fexp(y->args[i], depth + 1);
        if (!a) {
            tkd_expr_free(y);
            return NULL;
        }
        tkd_expr_free(y->args[i]);
        y->args[i] = a;
    }
    if (!y || y->kind != TKD_EX_FUNC || y->n != 1)
        return y;
    const tkd_expr *u = y->args[0];
    tkd_expr *a, *b, *r;
    switch (y->op) {
    case TKD_FN_TAN: r = tkd_expr_div(trig(TKD_FN_SIN, tkd_expr_copy(u)), trig(TKD_FN_COS, tkd_expr_copy(u))); break;
    case TKD_FN_COT: r = tkd_expr_div(trig(TKD_FN_COS, tkd_expr_copy(u)), trig(TKD_FN_SIN, tkd_expr_copy(u))); break;
    case TKD_FN_SEC: r = tkd_expr_pow(trig(TKD_FN_COS, tkd_expr_copy(u)), tkd_expr_int(-1)); break;
    case TKD_FN_CSC: r = tkd_expr_pow(trig(TKD_FN_SIN, tkd_expr_copy(u)), tkd_expr_int(-1)); break;
    case TKD_FN_SIN:
    case TKD_FN_COS:
        if (!split(u, &a, &b))
            return y;
        if (y->op == TKD_FN_SIN) /* sin(a+b) = sin a cos b + cos a sin b */
            r = tkd_expr_add2(tkd_expr_mul2(trig(TKD_FN_SIN, tkd_expr_copy(a)), trig(TKD_FN_COS, tkd_expr_copy(b))),
                              tkd_expr_mul2(trig(TKD_FN_COS, a), trig(TKD_FN_SIN, b)));
        else /* cos(a+b) = cos a cos b - sin a sin b */
            r = tkd_expr_sub(tkd_expr_mul2(trig(TKD_FN_COS, tkd_expr_copy(a)), trig(TKD_FN_COS, tkd_expr_copy(b))),
                             tkd_expr_mul2(trig(TKD_FN_SIN, a), trig(TKD_FN_SIN, b)));
        break;
    case TKD_FN_EXP:
        if (!split(u, &a, &b))
            return y;
        r = tkd_expr_mul2(tkd_expr_fn1(TKD_FN_EXP, a), tkd_expr_fn1(TKD_FN_EXP, b));
        break;
    default: return y;
    }
    tkd_expr_free(y);
    if (!r)
        return NULL;
    /* the parts may split again (sin(3x) -> sin(2x)cos(x) + ...) */
    tkd_expr *again = fexp(r, depth + 1);
    tkd_expr_free(r);
    return again;
}

static int numeric_zero(const tkd_expr *x, tkd_err *e) {
    const char **names;
    size_t n;
    int rc = tkd_expr_free_syms(x, &names, &n, e);
    if (rc)
        return rc;
    acb_ptr v = _acb_vec_init((slong)(n ? n : 1));
    acb_t r;
    acb_init(r);
    tkd_rng rng;
    tkd_rng_seed(&rng, tkd_expr_hash(x));
    int verdict = TKD_EXPR_UNKNOWN, tried = 0;
    for (int trial = 0; trial < 6 && verdict == TKD_EXPR_UNKNOWN; trial++) {
        for (size_t i = 0; i < n; i++) /* points in (0.1, 1.1) + small irrational-ish offsets */
            acb_set_d(v + i, 0.1 + tkd_rng_uniform(&rng) + 0.01 * (double)i);
        tkd_err e2 = {0};
        if (tkd_expr_eval_acb(r, x, n, names, v, 128, &e2))
            continue; /* a pole or a domain error at this point: try another */
        tried++;
        if (!acb_contains_zero(r))
            verdict = TKD_EXPR_NO; /* certified nonzero at this point */
    }
    (void)tried;
    acb_clear(r);
    _acb_vec_clear(v, (slong)(n ? n : 1));
    free(names);
    return verdict;
}

int tkd_expr_is_zero(const tkd_expr *x, tkd_err *e) {
    if (tkd_expr_is_container(x))
        return tkd_err_set(e, TKD_EINVAL, "is_zero needs a number or an expression, not a list or relation");
    if (!tkd_expr_has_sym(x, NULL)) {
        ca_ctx_t ctx;
        ca_t v;
        ca_ctx_init(ctx);
        ca_init(v, ctx);
        tkd_err e2 = {0};
        int rc = tkd_expr_to_ca(v, x, ctx, &e2), verdict = -1;
        if (!rc) {
            truth_t t = ca_check_is_zero(v, ctx);
            verdict = t == T_TRUE ? TKD_EXPR_YES : t == T_FALSE ? TKD_EXPR_NO : TKD_EXPR_UNKNOWN;
        }
        ca_clear(v, ctx);
        ca_ctx_clear(ctx);
        if (rc == TKD_EMATH || rc == TKD_ELIMIT) {
            *e = e2;
            return rc;
        }
        if (verdict == TKD_EXPR_YES || verdict == TKD_EXPR_NO)
            return verdict;
    }
    tkd_expr *s;
    tkd_err e2 = {0};
    int rc = tkd_expr_simplify(x, &s, &e2);
    if (rc == TKD_EMATH) {
        *e = e2;
        return rc;
    }
    if (!rc) {
        int z = tkd_expr_is_int(s, 0);
        tkd_expr_free(s);
        if (z)
            return TKD_EXPR_YES;
    }
    /* trig and exp of sums and multiples expanded, then simplify again */
    tkd_expr *f = fexp(x, 0);
    if (f && tkd_expr_count_nodes(f) < TKD_EXPR_MAX_NODES / 10 && !tkd_expr_simplify(f, &s, &e2)) {
        int z = tkd_expr_is_int(s, 0);
        tkd_expr_free(s);
        if (z) {
            tkd_expr_free(f);
            return TKD_EXPR_YES;
        }
    }
    tkd_expr_free(f);
    return numeric_zero(x, e);
}
