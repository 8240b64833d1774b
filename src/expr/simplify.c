/*
 * expr simplify: a light, predictable simplifier. Bottom-up: constant
 * subtrees are evaluated exactly with Calcium and written back in closed
 * form (sqrt(8) -> 2*sqrt(2), cos(pi/3) -> 1/2); a few function rules
 * (exp(log(u)) -> u, E**u -> exp(u), cos(u)**2 -> 1 - sin(u)**2 when
 * sin(u) also appears); then the canonical rational form over the
 * generators (ratfun.c); last, exp(u)**k -> exp(k*u).
 */
#include "expr_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REC (4 * TKD_EXPR_MAX_DEPTH)

static int has_i(const tkd_expr *x) {
    if (x->kind == TKD_EX_CONST && x->op == TKD_C_I)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (has_i(x->args[i]))
            return 1;
    return 0;
}

/* A constant subtree, exactly: NULL result (rc 0) when Calcium cannot write
 * it back; TKD_EMATH (1/0) and TKD_ELIMIT pass through. */
static int exact_const(const tkd_expr *x, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    ca_ctx_t ctx;
    ca_t v;
    ca_ctx_init(ctx);
    ca_init(v, ctx);
    tkd_err e2 = {0};
    int rc = tkd_expr_to_ca(v, x, ctx, &e2);
    if (!rc) {
        *out = tkd_expr_from_ca(v, ctx, NULL);
        /* keep the input when the closed form is much bigger (cos(pi/7)) or
         * brings in I where there was none (cos(pi/1000003) as exponentials) */
        if (*out && (tkd_expr_count_nodes(*out) > 4 * tkd_expr_count_nodes(x) + 8 || (has_i(*out) && !has_i(x)))) {
            tkd_expr_free(*out);
            *out = NULL;
        }
    } else if (rc == TKD_EMATH || rc == TKD_ELIMIT) {
        *e = e2;
    } else {
        rc = 0; /* not evaluable exactly (Sum, undefined function): leave it */
    }
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
    return rc;
}

static int is_fn(const tkd_expr *x, int op) {
    return x->kind == TKD_EX_FUNC && x->op == op && x->n == 1;
}

static tkd_expr *simp(const tkd_expr *x, tkd_err *e, int *rc, int depth);

/* rules on a node whose children are already simplified; takes ownership */
static tkd_expr *rules(tkd_expr *x) {
    if (!x)
        return NULL;
    if (x->kind == TKD_EX_POW) {
        tkd_expr *b = x->args[0], *p = x->args[1];
        if (b->kind == TKD_EX_CONST && b->op == TKD_C_E) { /* E**u -> exp(u) */
            tkd_expr *u = p;
            x->args[1] = NULL;
            tkd_expr_free(x);
            return rules(tkd_expr_fn1(TKD_FN_EXP, u));
        }
        if (tkd_expr_is_int(b, 1)) { /* 1**u -> 1 */
            tkd_expr_free(x);
            return tkd_expr_int(1);
        }
        if (tkd_expr_is_int(p, 1)) {
            x->args[0] = NULL;
            tkd_expr_free(x);
            return b;
        }
    }
    if (is_fn(x, TKD_FN_EXP) && is_fn(x->args[0], TKD_FN_LOG)) { /* exp(log(u)) -> u */
        tkd_expr *u = x->args[0]->args[0];
        x->args[0]->args[0] = NULL;
        tkd_expr_free(x);
        return u;
    }
    return x;
}

/* exp(u)**k -> exp(k*u), everywhere, as the last step */
static tkd_expr *post(tkd_expr *x) {
    if (!x)
        return NULL;
    for (size_t i = 0; i < x->n; i++) {
        if (!(x->args[i] = post(x->args[i]))) {
            tkd_expr_free(x);
            return NULL;
        }
    }
    if (x->kind == TKD_EX_POW && is_fn(x->args[0], TKD_FN_EXP) && x->args[1]->kind == TKD_EX_NUM &&
        fmpz_is_one(fmpq_denref(x->args[1]->q))) {
        tkd_expr *u = x->args[0]->args[0], *k = x->args[1];
        x->args[0]->args[0] = NULL;
        x->args[1] = NULL;
        tkd_expr_free(x);
        tkd_expr *arg = tkd_expr_mul2(k, u), *c = NULL;
        tkd_err e2 = {0};
        if (arg && !tkd_rf_canonical(arg, &c, &e2)) {
            tkd_expr_free(arg);
            arg = c;
        }
        return tkd_expr_fn1(TKD_FN_EXP, arg);
    }
    return x;
}

/* k when x is cos(u)**(2k), 1 <= k <= 32; else 0 */
static long cos_even_power(const tkd_expr *x) {
    if (x->kind != TKD_EX_POW || !is_fn(x->args[0], TKD_FN_COS) || x->args[1]->kind != TKD_EX_NUM)
        return 0;
    const fmpq *q = x->args[1]->q;
    if (!fmpz_is_one(fmpq_denref(q)) || !fmpz_is_even(fmpq_numref(q)) || fmpz_sgn(fmpq_numref(q)) <= 0 ||
        fmpz_cmp_ui(fmpq_numref(q), 64) > 0)
        return 0;
    return fmpz_get_si(fmpq_numref(q)) / 2;
}

/* One walk of x: whether it holds a cos(u)**(2k), and the distinct u of its
 * sin(u) (the first SIN_ARGS_MAX), so the rewrite below is not quadratic. */
#define SIN_ARGS_MAX 32
typedef struct {
    const tkd_expr *u[SIN_ARGS_MAX];
    size_t n;
    int cos_even;
} trig_scan;

static int has_sin_of(const trig_scan *s, const tkd_expr *u) {
    for (size_t i = 0; i < s->n; i++)
        if (tkd_expr_equal(s->u[i], u))
            return 1;
    return 0;
}

static void scan_trig(const tkd_expr *x, trig_scan *s, int depth) {
    if (depth > MAX_REC)
        return;
    if (is_fn(x, TKD_FN_SIN) && s->n < SIN_ARGS_MAX && !has_sin_of(s, x->args[0]))
        s->u[s->n++] = x->args[0];
    else if (!s->cos_even && cos_even_power(x))
        s->cos_even = 1;
    for (size_t i = 0; i < x->n; i++)
        scan_trig(x->args[i], s, depth + 1);
}

/* cos(u)**(2k) -> (1 - sin(u)**2)**k where sin(u) appears too */
static tkd_expr *pythagoras(tkd_expr *x, const trig_scan *sins, int depth) {
    if (!x || depth > MAX_REC)
        return x;
    for (size_t i = 0; i < x->n; i++) {
        x->args[i] = pythagoras(x->args[i], sins, depth + 1);
        if (!x->args[i]) {
            tkd_expr_free(x);
            return NULL;
        }
    }
    long k = cos_even_power(x);
    if (k && has_sin_of(sins, x->args[0]->args[0])) {
        tkd_expr *u = tkd_expr_copy(x->args[0]->args[0]);
        tkd_expr_free(x);
        tkd_expr *s = tkd_expr_sub(tkd_expr_int(1), tkd_expr_pow(tkd_expr_fn1(TKD_FN_SIN, u), tkd_expr_int(2)));
        return k == 1 ? s : tkd_expr_pow(s, tkd_expr_int(k));
    }
    return x;
}

static tkd_expr *simp(const tkd_expr *x, tkd_err *e, int *rc, int depth) {
    if (*rc)
        return NULL;
    if (depth > MAX_REC) {
        *rc = tkd_err_set(e, TKD_ELIMIT, "expression nested deeper than TKD_EXPR_MAX_DEPTH");
        return NULL;
    }
    if (tkd_expr_is_container(x)) {
        tkd_expr *y = tkd_expr_copy(x);
        for (size_t i = 0; y && i < y->n; i++) {
            tkd_expr *a = simp(y->args[i], e, rc, depth + 1);
            if (!a) {
                tkd_expr_free(y);
                return NULL;
            }
            tkd_expr_free(y->args[i]);
            y->args[i] = a;
        }
        return y;
    }
    if (x->kind == TKD_EX_STR || (x->kind == TKD_EX_CONST && x->op >= TKD_C_OO))
        return tkd_expr_copy(x);
    if (x->kind != TKD_EX_MATRIX && tkd_expr_has_matrix(x)) { /* Matrix(...)/2, A*B: fold, then entries */
        tkd_expr *m, *r;
        if ((*rc = tkd_expr_matrix_fold(x, &m, e)))
            return NULL;
        r = simp(m, e, rc, depth + 1);
        tkd_expr_free(m);
        return r;
    }
    /* constants: exactly */
    if (!tkd_expr_has_sym(x, NULL) && x->kind != TKD_EX_NUM) {
        tkd_expr *c;
        if ((*rc = exact_const(x, &c, e)))
            return NULL;
        if (c)
            return c;
    }
    if (x->kind == TKD_EX_NUM || x->kind == TKD_EX_DEC || x->kind == TKD_EX_SYM || x->kind == TKD_EX_CONST)
        return tkd_expr_copy(x);
    /* children first; Sum/Product stay as they are apart from their parts */
    tkd_expr *y = tkd_expr_copy(x);
    for (size_t i = 0; y && i < y->n; i++) {
        tkd_expr *a = simp(y->args[i], e, rc, depth + 1);
        if (!a) {
            tkd_expr_free(y);
            return NULL;
        }
        tkd_expr_free(y->args[i]);
        y->args[i] = a;
    }
    y = rules(y);
    if (!y)
        return NULL;
    if (y->kind == TKD_EX_FUNC)
        return y;
    /* the rational-function canonical form over the (simplified) generators;
     * with cos(u)**2 -> 1 - sin(u)**2 too, keeping the smaller result */
    trig_scan sins = {.n = 0};
    scan_trig(y, &sins, 0);
    tkd_expr *z, *p = sins.cos_even && sins.n ? pythagoras(tkd_expr_copy(y), &sins, 0) : NULL, *zp = NULL;
    int r2 = tkd_rf_canonical(y, &z, e);
    if (!r2 && p && !tkd_expr_equal(p, y)) {
        tkd_err e2 = {0};
        if (!tkd_rf_canonical(p, &zp, &e2) && tkd_expr_count_nodes(zp) < tkd_expr_count_nodes(z)) {
            tkd_expr_free(z);
            z = zp;
            zp = NULL;
        }
    }
    tkd_expr_free(zp);
    tkd_expr_free(p);
    tkd_expr_free(y);
    if (r2) {
        *rc = r2;
        return NULL;
    }
    return z;
}

int tkd_expr_simplify(const tkd_expr *x, tkd_expr **out, tkd_err *e) {
    int rc = 0;
    *out = simp(x, e, &rc, 0);
    if (*out)
        *out = post(*out); /* cosmetic, once at the end */
    if (*out)
        return 0;
    return rc ? rc : tkd_err_set(e, TKD_ENOMEM, "out of memory while simplifying");
}
