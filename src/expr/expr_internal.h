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

#endif
