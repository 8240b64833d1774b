/*
 * rset's private contract, shared by rset.c (the sets, rational relations,
 * printing) and rset_alg.c (relations with even roots): the representation
 * and the helpers both use. Internal to src/tools.
 */
#ifndef TKD_TOOLS_RSET_INT_H
#define TKD_TOOLS_RSET_INT_H

#include "tools_int.h"

#include <arb.h>
#include <flint/fmpz_poly.h>

#define RSET_DEGREE_MAX 200 /* degree of a numerator or denominator solved */

struct tkd_rset {
    int n;             /* cuts */
    qqbar_struct *cut; /* n sorted distinct reals */
    unsigned char *in; /* 2n+1 region flags */
};

int rset_sign_holds(int op, int s);                              /* does (sign s) op 0 hold? */
int rset_cmp_q(const void *a, const void *b);                    /* qsort order of real qqbar */
void rset_between(fmpq_t out, const qqbar_t a, const qqbar_t b); /* a rational in (a, b) */
void rset_minimise(tkd_rset *s);                                 /* drop cuts equal to both neighbours */
/* lhs - rhs = d op 0 with even roots of rational functions of var: 0, TKD_EMATH (unsupported) or TKD_ENOMEM */
int rset_alg_set(const tkd_expr *d, const char *var, int op, tkd_rset **out, tkd_err *e);

#endif
