/*
 * From grade's answer tree to the expr AST (include/tkd/expr.h), so the
 * LaTeX answers the grader reads feed the same tree the toolkit uses (SymPy
 * printing, Calcium, canonical forms). Grading itself stays on the answer
 * tree: its arena makes a comparison a handful of mallocs.
 * Forms without an expr node use SymPy's names: x \in S -> Contains(x, S),
 * a < x < b -> And(...), \cup -> Union, \cap -> Intersection; a percent is
 * x/100; a number in a base is its value.
 */
#include "gnode.h"
#include "tkd/expr.h"

#include <stdlib.h>
#include <string.h>

#define MAX_KIDS 4096

static tkd_expr *conv(const gnode *n, int depth);

/* "\alpha" -> "alpha", "x_{1}" -> "x_1": names SymPy reads */
static tkd_expr *sym(const char *s) {
    size_t n = strlen(s);
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\\' && s[i] != '{' && s[i] != '}' && s[i] != ' ')
            t[k++] = s[i];
    t[k] = '\0';
    tkd_expr *x = k ? tkd_expr_sym(t) : tkd_expr_text(s);
    free(t);
    return x;
}

static tkd_expr *number(const gnode *n) {
    fmpq_t q;
    fmpq_init(q);
    gctx c = {.deadline = tkd_now() + 1.0};
    tkd_expr *x = NULL;
    if (geval_q(n, q, &c) == 1)
        x = n->k == GN_NUM && n->places > 0 ? tkd_expr_dec(q, n->places) : tkd_expr_fmpq(q);
    fmpq_clear(q);
    return x;
}

/* Convert all kids; on a failure the constructor that receives the array frees the rest. */
static tkd_expr **kids(const gnode *n, int depth) {
    if (n->n > MAX_KIDS)
        return NULL;
    tkd_expr **a = calloc((size_t)(n->n ? n->n : 1), sizeof *a);
    if (!a)
        return NULL;
    for (int i = 0; i < n->n; i++)
        a[i] = n->kid[i] ? conv(n->kid[i], depth + 1) : NULL;
    return a;
}

static tkd_expr *call(const char *name, const gnode *n, int depth) {
    tkd_expr **a = kids(n, depth);
    if (!a)
        return NULL;
    tkd_expr *x = tkd_expr_call(name, (size_t)n->n, a);
    free(a);
    return x;
}

static tkd_expr *conv(const gnode *n, int depth) {
    if (!n || depth > TKD_GRADE_MAX_DEPTH * 4)
        return NULL;
    tkd_expr *a0 = NULL, *a1 = NULL, **a = NULL, *x = NULL;
    switch (n->k) {
    case GN_NUM:
    case GN_BASENUM: return number(n);
    case GN_SYM: return sym(n->str);
    case GN_CONST:
        return tkd_expr_const(!strcmp(n->str, "pi")  ? TKD_C_PI
                              : !strcmp(n->str, "e") ? TKD_C_E
                              : !strcmp(n->str, "i") ? TKD_C_I
                                                     : TKD_C_OO);
    case GN_TEXT: return tkd_expr_text(n->str);
    case GN_NEG: return tkd_expr_neg(conv(n->kid[0], depth + 1));
    case GN_DIV: return tkd_expr_div(conv(n->kid[0], depth + 1), conv(n->kid[1], depth + 1));
    case GN_POW: return tkd_expr_pow(conv(n->kid[0], depth + 1), conv(n->kid[1], depth + 1));
    case GN_FACT: return tkd_expr_fn1(TKD_FN_FACTORIAL, conv(n->kid[0], depth + 1));
    case GN_PERCENT: return tkd_expr_mul2(conv(n->kid[0], depth + 1), tkd_expr_rat(1, 100));
    case GN_PM:
        a0 = n->kid[0] ? conv(n->kid[0], depth + 1) : NULL;
        if (n->kid[0] && !a0)
            return NULL;
        a1 = conv(n->kid[1], depth + 1);
        if (n->op < 0)
            a1 = tkd_expr_neg(a1);
        if (!a1) {
            tkd_expr_free(a0);
            return NULL;
        }
        return tkd_expr_pm(a0, a1);
    case GN_REL: {
        static const tkd_expr_rel_op ops[] = {TKD_R_EQ, TKD_R_NE, TKD_R_LT, TKD_R_LE, TKD_R_GT, TKD_R_GE};
        if (n->op == REL_IN)
            return call("Contains", n, depth);
        return tkd_expr_rel(ops[n->op], conv(n->kid[0], depth + 1), conv(n->kid[1], depth + 1));
    }
    case GN_AND: return call("And", n, depth);
    case GN_UNION:
        /* in a union, a pair (a, b) is the open interval */
        if (!(a = kids(n, depth)))
            return NULL;
        for (int i = 0; i < n->n; i++)
            if (a[i] && a[i]->kind == TKD_EX_TUPLE && a[i]->n == 2) {
                tkd_expr *t = a[i];
                a[i] = tkd_expr_interval(tkd_expr_copy(t->args[0]), tkd_expr_copy(t->args[1]), 1, 1);
                tkd_expr_free(t);
            }
        x = tkd_expr_call("Union", (size_t)n->n, a);
        free(a);
        return x;
    case GN_INTER: return call("Intersection", n, depth);
    case GN_INTERVAL:
        return tkd_expr_interval(conv(n->kid[0], depth + 1), conv(n->kid[1], depth + 1), !n->lo_closed, !n->hi_closed);
    case GN_FUNC: {
        const char *f = n->str;
        if (!strcmp(f, "sqrt") && n->n == 1)
            return tkd_expr_sqrt(conv(n->kid[0], depth + 1));
        if (!strcmp(f, "root") && n->n == 2)
            return tkd_expr_pow(conv(n->kid[0], depth + 1), tkd_expr_div(tkd_expr_int(1), conv(n->kid[1], depth + 1)));
        if (!strcmp(f, "abs"))
            return call("Abs", n, depth);
        if (!strcmp(f, "binom"))
            return call("binomial", n, depth);
        if (!strcmp(f, "ln"))
            return call("log", n, depth);
        return call(f, n, depth);
    }
    case GN_ADD:
    case GN_MUL:
    case GN_LIST:
    case GN_SET:
    case GN_TUPLE:
    case GN_MATRIX:
        if (!(a = kids(n, depth)))
            return NULL;
        if (n->k == GN_ADD)
            x = tkd_expr_add((size_t)n->n, a);
        else if (n->k == GN_MUL)
            x = tkd_expr_mul((size_t)n->n, a);
        else if (n->k == GN_MATRIX)
            x = tkd_expr_matrix((size_t)n->rows, (size_t)n->cols, a);
        else
            x = tkd_expr_seq(n->k == GN_LIST  ? TKD_EX_LIST
                             : n->k == GN_SET ? TKD_EX_SET
                                              : TKD_EX_TUPLE,
                             (size_t)n->n, a);
        free(a);
        return x;
    }
    return NULL;
}

int tkd_grade_to_expr(const tkd_gnode *n, tkd_expr **out, tkd_err *e) {
    *out = n ? conv(n, 0) : NULL;
    if (!*out)
        return tkd_err_set(e, TKD_ENOMEM, "cannot build the expression tree (out of memory or over a limit)");
    return 0;
}

int tkd_grade_parse_latex_expr(const char *text, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    tkd_gnode *g = NULL;
    int rc = tkd_grade_parse_latex(text, &g, e);
    if (rc)
        return rc;
    rc = tkd_grade_to_expr(g, out, e);
    tkd_grade_node_free(g);
    return rc;
}
