/*
 * expr internals shared by the files of src/expr: printer precedences and
 * small helpers on nodes. Not part of the public contract.
 */
#ifndef TKD_EXPR_INTERNAL_H
#define TKD_EXPR_INTERNAL_H

#include "tkd/expr.h"

/* printing precedence, loosest first */
enum { PREC_LOW = 0, PREC_REL = 10, PREC_ADD = 40, PREC_MUL = 50, PREC_POW = 60, PREC_ATOM = 100 };

int tkd_expr_prec(const tkd_expr *x);
int tkd_expr_num_is_neg(const tkd_expr *x);
int tkd_expr_term_is_neg(const tkd_expr *x);
int tkd_expr_print_dec(tkd_buf *b, const tkd_expr *x);
/* Calcium's symbolic expression (Where/Def, Sqrt, Pi, ...) to a tree; NULL
 * when it holds something tkd cannot write (PolynomialRootNearest) */
tkd_expr *tkd_expr_from_fexpr(const fexpr_t f);

/* containers (lists, sets, matrices, relations, intervals, ±) are mapped
 * element by element by the operations */
typedef int (*tkd_expr_map_fn)(const tkd_expr *x, const void *arg, tkd_expr **out, tkd_err *e);
int tkd_expr_is_container(const tkd_expr *x);
int tkd_expr_map(const tkd_expr *x, tkd_expr_map_fn fn, const void *arg, tkd_expr **out, tkd_err *e);

/* matrix arithmetic inside + * ** folded into one MATRIX (matrix.c) */
int tkd_expr_has_matrix(const tkd_expr *x);
int tkd_expr_matrix_fold(const tkd_expr *x, tkd_expr **out, tkd_err *e);

/* rational functions in generators (ratfun.c) */
#include "tkd/expr_rf.h"

/* fn's rendering of x as a malloc'd string (NULL when out of memory):
 * the printers' to_str/to_latex share it. */
char *tkd_expr_render(const tkd_expr *x, int (*fn)(tkd_buf *, const tkd_expr *));

#endif
