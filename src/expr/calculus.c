/*
 * expr calculus: substitution of a symbol by an expression, and symbolic
 * differentiation (sum, product and chain rules, all elementary functions).
 * The raw derivative is passed through tkd_expr_simplify.
 */
#include "expr_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REC (4 * TKD_EXPR_MAX_DEPTH)

static int is_bound_sum(const tkd_expr *x) {
    return x->kind == TKD_EX_FUNC && (x->op == TKD_FN_SUM || x->op == TKD_FN_PRODUCT) && x->n == 2 &&
           x->args[1]->kind == TKD_EX_TUPLE && x->args[1]->n == 3 && x->args[1]->args[0]->kind == TKD_EX_SYM;
}

static tkd_expr *subs(const tkd_expr *x, const char *var, const tkd_expr *val, int depth, size_t *nodes) {
    if (depth > MAX_REC || *nodes > TKD_EXPR_MAX_NODES)
        return NULL;
    if (x->kind == TKD_EX_SYM && !strcmp(x->name, var)) {
        *nodes += tkd_expr_count_nodes(val);
        return tkd_expr_copy(val);
    }
    (*nodes)++;
    tkd_expr *y = tkd_expr_copy(x);
    if (!y || x->n == 0)
        return y;
    int bound = is_bound_sum(x) && !strcmp(x->args[1]->args[0]->name, var);
    for (size_t i = 0; i < y->n; i++) {
        if (bound && i == 0)
            continue; /* the index shadows var inside the summand */
        tkd_expr *a = y->args[i];
        if (bound && i == 1) {
            /* substitute in the bounds only */
            for (size_t j = 1; j < 3; j++) {
                tkd_expr *b = subs(a->args[j], var, val, depth + 1, nodes);
                if (!b) {
                    tkd_expr_free(y);
                    return NULL;
                }
                tkd_expr_free(a->args[j]);
                a->args[j] = b;
            }
            continue;
        }
        tkd_expr *b = subs(a, var, val, depth + 1, nodes);
        if (!b) {
            tkd_expr_free(y);
            return NULL;
        }
        tkd_expr_free(a);
        y->args[i] = b;
    }
    return y;
}

int tkd_expr_subs(const tkd_expr *x, const char *var, const tkd_expr *val, tkd_expr **out, tkd_err *e) {
    size_t nodes = 0;
    *out = subs(x, var, val, 0, &nodes);
    if (*out)
        return 0;
    if (nodes > TKD_EXPR_MAX_NODES)
        return tkd_err_set(e, TKD_ELIMIT, "substitution result exceeds TKD_EXPR_MAX_NODES (%d)", TKD_EXPR_MAX_NODES);
    return tkd_err_set(e, TKD_ENOMEM, "out of memory (or nesting beyond TKD_EXPR_MAX_DEPTH) in substitution");
}

/* ---- differentiation ---- */

typedef struct {
    const char *var;
    tkd_err *e;
    int rc;
    size_t nodes;
} dctx;

static tkd_expr *d(const tkd_expr *x, dctx *c, int depth);

static tkd_expr *C(const tkd_expr *x) {
    return tkd_expr_copy(x);
}

static tkd_expr *fail(dctx *c, int code, const char *msg, const char *name) {
    if (!c->rc)
        c->rc = tkd_err_set(c->e, code, "cannot differentiate %s%s", name ? name : "", msg);
    return NULL;
}

/* d/du f(u) for one-argument functions, as a tree in u */
static tkd_expr *dfunc(const tkd_expr *x, dctx *c) {
    const tkd_expr *u = x->args[0];
    switch (x->op) {
    case TKD_FN_EXP: return C(x);
    case TKD_FN_LOG:
        if (x->n == 2) /* log(u, b) = log(u)/log(b), b constant here */
            return tkd_expr_pow(tkd_expr_mul2(C(u), tkd_expr_fn1(TKD_FN_LOG, C(x->args[1]))), tkd_expr_int(-1));
        return tkd_expr_pow(C(u), tkd_expr_int(-1));
    case TKD_FN_SIN: return tkd_expr_fn1(TKD_FN_COS, C(u));
    case TKD_FN_COS: return tkd_expr_neg(tkd_expr_fn1(TKD_FN_SIN, C(u)));
    case TKD_FN_TAN: return tkd_expr_add2(tkd_expr_int(1), tkd_expr_pow(C(x), tkd_expr_int(2)));
    case TKD_FN_COT: return tkd_expr_neg(tkd_expr_add2(tkd_expr_int(1), tkd_expr_pow(C(x), tkd_expr_int(2))));
    case TKD_FN_SEC: return tkd_expr_mul2(C(x), tkd_expr_fn1(TKD_FN_TAN, C(u)));
    case TKD_FN_CSC: return tkd_expr_neg(tkd_expr_mul2(C(x), tkd_expr_fn1(TKD_FN_COT, C(u))));
    case TKD_FN_ASIN:
    case TKD_FN_ACOS: {
        tkd_expr *r =
            tkd_expr_pow(tkd_expr_sub(tkd_expr_int(1), tkd_expr_pow(C(u), tkd_expr_int(2))), tkd_expr_rat(-1, 2));
        return x->op == TKD_FN_ASIN ? r : tkd_expr_neg(r);
    }
    case TKD_FN_ATAN:
    case TKD_FN_ACOT: {
        tkd_expr *r =
            tkd_expr_pow(tkd_expr_add2(tkd_expr_int(1), tkd_expr_pow(C(u), tkd_expr_int(2))), tkd_expr_int(-1));
        return x->op == TKD_FN_ATAN ? r : tkd_expr_neg(r);
    }
    case TKD_FN_SINH: return tkd_expr_fn1(TKD_FN_COSH, C(u));
    case TKD_FN_COSH: return tkd_expr_fn1(TKD_FN_SINH, C(u));
    case TKD_FN_TANH: return tkd_expr_sub(tkd_expr_int(1), tkd_expr_pow(C(x), tkd_expr_int(2)));
    case TKD_FN_ASINH:
        return tkd_expr_pow(tkd_expr_add2(tkd_expr_pow(C(u), tkd_expr_int(2)), tkd_expr_int(1)), tkd_expr_rat(-1, 2));
    case TKD_FN_ACOSH:
        return tkd_expr_pow(tkd_expr_sub(tkd_expr_pow(C(u), tkd_expr_int(2)), tkd_expr_int(1)), tkd_expr_rat(-1, 2));
    case TKD_FN_ATANH:
        return tkd_expr_pow(tkd_expr_sub(tkd_expr_int(1), tkd_expr_pow(C(u), tkd_expr_int(2))), tkd_expr_int(-1));
    case TKD_FN_ABS: return tkd_expr_div(C(u), C(x)); /* sign(u), for real u */
    default: return fail(c, TKD_EINVAL, "(): no derivative rule; differentiate its definition instead", x->name);
    }
}

static tkd_expr *d(const tkd_expr *x, dctx *c, int depth) {
    if (c->rc)
        return NULL;
    if (depth > MAX_REC || ++c->nodes > TKD_EXPR_MAX_NODES)
        return fail(c, TKD_ELIMIT, ": the expression is too large (TKD_EXPR_MAX_NODES / TKD_EXPR_MAX_DEPTH)", "");
    if (!tkd_expr_has_sym(x, c->var))
        return tkd_expr_int(0);
    switch (x->kind) {
    case TKD_EX_SYM: return tkd_expr_int(1);
    case TKD_EX_ADD: {
        tkd_expr **v = calloc(x->n, sizeof *v);
        if (!v)
            return fail(c, TKD_ENOMEM, ": out of memory", "");
        for (size_t i = 0; i < x->n; i++)
            v[i] = d(x->args[i], c, depth + 1);
        tkd_expr *r = tkd_expr_add(x->n, v);
        free(v);
        return r;
    }
    case TKD_EX_MUL: {
        tkd_expr **terms = calloc(x->n, sizeof *terms);
        if (!terms)
            return fail(c, TKD_ENOMEM, ": out of memory", "");
        size_t nt = 0;
        for (size_t i = 0; i < x->n; i++) {
            if (!tkd_expr_has_sym(x->args[i], c->var))
                continue;
            tkd_expr **f = calloc(x->n, sizeof *f);
            if (!f)
                break;
            for (size_t j = 0; j < x->n; j++)
                f[j] = j == i ? d(x->args[j], c, depth + 1) : C(x->args[j]);
            terms[nt++] = tkd_expr_mul(x->n, f);
            free(f);
        }
        tkd_expr *r = tkd_expr_add(nt, terms);
        free(terms);
        return r;
    }
    case TKD_EX_POW: {
        const tkd_expr *b = x->args[0], *ex = x->args[1];
        if (!tkd_expr_has_sym(ex, c->var)) {
            /* ex * b**(ex - 1) * b' */
            return tkd_expr_mul(
                3, (tkd_expr *[]){C(ex), tkd_expr_pow(C(b), tkd_expr_sub(C(ex), tkd_expr_int(1))), d(b, c, depth + 1)});
        }
        /* b**ex * (ex' * log(b) + ex * b' / b) */
        tkd_expr *lb = b->kind == TKD_EX_CONST && b->op == TKD_C_E ? tkd_expr_int(1) : tkd_expr_fn1(TKD_FN_LOG, C(b));
        tkd_expr *t1 = tkd_expr_mul2(d(ex, c, depth + 1), lb);
        tkd_expr *t2 =
            tkd_expr_has_sym(b, c->var)
                ? tkd_expr_mul(3, (tkd_expr *[]){C(ex), d(b, c, depth + 1), tkd_expr_pow(C(b), tkd_expr_int(-1))})
                : tkd_expr_int(0);
        return tkd_expr_mul2(C(x), tkd_expr_add2(t1, t2));
    }
    case TKD_EX_FUNC: {
        if (x->n == 2 && x->op == TKD_FN_LOG && tkd_expr_has_sym(x->args[1], c->var)) {
            tkd_expr *q =
                tkd_expr_div(tkd_expr_fn1(TKD_FN_LOG, C(x->args[0])), tkd_expr_fn1(TKD_FN_LOG, C(x->args[1])));
            tkd_expr *r = q ? d(q, c, depth + 1) : NULL;
            tkd_expr_free(q);
            return r;
        }
        if (x->n != 1 && !(x->op == TKD_FN_LOG && x->n == 2))
            return fail(c, TKD_EINVAL, "(): no derivative rule for it", x->name);
        return tkd_expr_mul2(dfunc(x, c), d(x->args[0], c, depth + 1));
    }
    case TKD_EX_NUM:
    case TKD_EX_DEC:
    case TKD_EX_CONST: return tkd_expr_int(0);
    default: return fail(c, TKD_EINVAL, "a relation, list or text here", "");
    }
}

static int do_diff(const tkd_expr *x, const void *arg, tkd_expr **out, tkd_err *e) {
    dctx c = {(const char *)arg, e, 0, 0};
    tkd_expr *raw = d(x, &c, 0);
    if (!raw)
        return c.rc ? c.rc : tkd_err_set(e, TKD_ENOMEM, "out of memory while differentiating");
    int rc = tkd_expr_simplify(raw, out, e);
    tkd_expr_free(raw);
    return rc;
}

int tkd_expr_diff(const tkd_expr *x, const char *var, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    if (!var || !*var)
        return tkd_err_set(e, TKD_EINVAL, "differentiation needs a variable name");
    if (x->kind == TKD_EX_REL && x->op != TKD_R_EQ)
        return tkd_err_set(e, TKD_EINVAL, "cannot differentiate an inequality");
    return tkd_expr_map(x, do_diff, var, out, e);
}
