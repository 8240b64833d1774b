/*
 * expr matrix arithmetic inside expressions: Matrix(...)/2, A + B, A*B,
 * A**n (n a small non-negative integer) are folded into one MATRIX node
 * whose entries are plain expressions; simplify then works entry by entry.
 * Shape mismatches are TKD_EINVAL with both shapes named.
 */
#include "expr_internal.h"

#include <stdlib.h>

#define MAX_MATRIX_POW 64

static int has_matrix(const tkd_expr *x) {
    if (x->kind == TKD_EX_MATRIX)
        return 1;
    if (x->kind != TKD_EX_ADD && x->kind != TKD_EX_MUL && x->kind != TKD_EX_POW)
        return 0;
    for (size_t i = 0; i < x->n; i++)
        if (has_matrix(x->args[i]))
            return 1;
    return 0;
}

static tkd_expr *new_matrix(size_t rows, size_t cols) {
    size_t n = rows * cols;
    tkd_expr **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < rows * cols; i++)
        v[i] = tkd_expr_int(0);
    tkd_expr *m = tkd_expr_matrix(rows, cols, v);
    free(v);
    return m;
}

/* a*b where either may be a matrix; takes ownership of both */
static tkd_expr *mul(tkd_expr *a, tkd_expr *b, tkd_err *e, int *rc) {
    if (!a || !b) {
        tkd_expr_free(a);
        tkd_expr_free(b);
        return NULL;
    }
    if (a->kind != TKD_EX_MATRIX && b->kind != TKD_EX_MATRIX)
        return tkd_expr_mul2(a, b);
    if (a->kind != TKD_EX_MATRIX || b->kind != TKD_EX_MATRIX) { /* scalar times matrix */
        tkd_expr *m = a->kind == TKD_EX_MATRIX ? a : b, *s = m == a ? b : a;
        for (size_t i = 0; i < m->n; i++)
            m->args[i] =
                m == a ? tkd_expr_mul2(m->args[i], tkd_expr_copy(s)) : tkd_expr_mul2(tkd_expr_copy(s), m->args[i]);
        tkd_expr_free(s);
        for (size_t i = 0; i < m->n; i++)
            if (!m->args[i]) {
                tkd_expr_free(m);
                return NULL;
            }
        return m;
    }
    if ((double)a->rows * (double)a->cols * (double)b->cols > TKD_EXPR_MAX_TERMS) {
        *rc = tkd_err_set(e, TKD_ELIMIT, "a %zux%zu by %zux%zu matrix product exceeds TKD_EXPR_MAX_TERMS (%d) products",
                          a->rows, a->cols, b->rows, b->cols, TKD_EXPR_MAX_TERMS);
        tkd_expr_free(a);
        tkd_expr_free(b);
        return NULL;
    }
    if (a->cols != b->rows) {
        *rc = tkd_err_set(e, TKD_EINVAL, "cannot multiply a %zux%zu matrix by a %zux%zu matrix", a->rows, a->cols,
                          b->rows, b->cols);
        tkd_expr_free(a);
        tkd_expr_free(b);
        return NULL;
    }
    tkd_expr *m = new_matrix(a->rows, b->cols);
    for (size_t i = 0; m && i < a->rows; i++)
        for (size_t j = 0; m && j < b->cols; j++) {
            tkd_expr **t = calloc(a->cols, sizeof *t);
            if (!t) {
                tkd_expr_free(m);
                m = NULL;
                break;
            }
            for (size_t k = 0; k < a->cols; k++)
                t[k] = tkd_expr_mul2(tkd_expr_copy(a->args[i * a->cols + k]), tkd_expr_copy(b->args[k * b->cols + j]));
            tkd_expr *s = tkd_expr_add(a->cols, t);
            free(t);
            if (!s) {
                tkd_expr_free(m);
                m = NULL;
                break;
            }
            tkd_expr_free(m->args[i * b->cols + j]);
            m->args[i * b->cols + j] = s;
        }
    tkd_expr_free(a);
    tkd_expr_free(b);
    /* entries in canonical form after each product, so powers do not grow trees */
    tkd_expr *c = NULL;
    if (m && (*rc = tkd_expr_simplify(m, &c, e)) == 0) {
        tkd_expr_free(m);
        return c;
    }
    tkd_expr_free(m);
    return NULL;
}

static tkd_expr *fold(const tkd_expr *x, tkd_err *e, int *rc, int depth) {
    if (*rc)
        return NULL;
    if (depth > 4 * TKD_EXPR_MAX_DEPTH || !has_matrix(x))
        return tkd_expr_copy(x);
    if (x->kind == TKD_EX_MATRIX)
        return tkd_expr_copy(x);
    if (x->kind == TKD_EX_MUL) {
        tkd_expr *acc = fold(x->args[0], e, rc, depth + 1);
        for (size_t i = 1; acc && i < x->n; i++)
            acc = mul(acc, fold(x->args[i], e, rc, depth + 1), e, rc);
        return acc;
    }
    if (x->kind == TKD_EX_POW) {
        tkd_expr *b = fold(x->args[0], e, rc, depth + 1);
        if (!b || b->kind != TKD_EX_MATRIX)
            return b ? tkd_expr_pow(b, tkd_expr_copy(x->args[1])) : NULL;
        const tkd_expr *p = x->args[1];
        if (p->kind != TKD_EX_NUM || !fmpz_is_one(fmpq_denref(p->q)) || fmpz_sgn(fmpq_numref(p->q)) < 0 ||
            fmpz_cmp_ui(fmpq_numref(p->q), MAX_MATRIX_POW) > 0 || b->rows != b->cols) {
            *rc =
                tkd_err_set(e, TKD_EINVAL, "a matrix power needs a square matrix and an integer 0..%d", MAX_MATRIX_POW);
            tkd_expr_free(b);
            return NULL;
        }
        ulong n = fmpz_get_ui(fmpq_numref(p->q));
        tkd_expr *acc = new_matrix(b->rows, b->cols);
        for (size_t i = 0; acc && i < b->rows; i++) {
            tkd_expr_free(acc->args[i * b->cols + i]);
            acc->args[i * b->cols + i] = tkd_expr_int(1);
        }
        for (ulong k = 0; acc && k < n; k++)
            acc = mul(acc, tkd_expr_copy(b), e, rc);
        tkd_expr_free(b);
        return acc;
    }
    /* ADD: all terms matrices of one shape */
    tkd_expr *acc = NULL;
    for (size_t i = 0; i < x->n; i++) {
        tkd_expr *t = fold(x->args[i], e, rc, depth + 1);
        if (!t || t->kind != TKD_EX_MATRIX || (acc && (acc->rows != t->rows || acc->cols != t->cols))) {
            if (t && !*rc)
                *rc = tkd_err_set(e, TKD_EINVAL, "cannot add a matrix and %s",
                                  t->kind == TKD_EX_MATRIX ? "a matrix of another shape" : "a scalar");
            tkd_expr_free(t);
            tkd_expr_free(acc);
            return NULL;
        }
        if (!acc) {
            acc = t;
            continue;
        }
        for (size_t k = 0; k < acc->n; k++) {
            acc->args[k] = tkd_expr_add2(acc->args[k], t->args[k]);
            t->args[k] = NULL;
        }
        tkd_expr_free(t);
        for (size_t k = 0; k < acc->n; k++)
            if (!acc->args[k]) {
                tkd_expr_free(acc);
                return NULL;
            }
    }
    return acc;
}

int tkd_expr_matrix_fold(const tkd_expr *x, tkd_expr **out, tkd_err *e) {
    int rc = 0;
    *out = fold(x, e, &rc, 0);
    if (*out)
        return 0;
    return rc ? rc : tkd_err_set(e, TKD_ENOMEM, "out of memory in matrix arithmetic");
}

int tkd_expr_has_matrix(const tkd_expr *x) {
    return has_matrix(x);
}
