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
/* lhs - rhs = d op 0 with even roots of rational functions of var: 0, TKD_EMATH (unsupported) or TKD_ENOMEM;
 * max_degree (<= 0: 48) bounds the degree in var once the radicals are eliminated */
int rset_alg_set(const tkd_expr *d, const char *var, int op, int max_degree, tkd_rset **out, tkd_err *e);

/* Periodic relations (ineq_trig.c): functions of sin, cos, tan, cot, sec, csc of
 * a*var, solved as SymPy answers them (Reals, EmptySet, or the set within one
 * period). TKD_EMATH: not such a relation, or not answered here. */
typedef struct ineq_tset ineq_tset;
int ineq_trig_solve(const tkd_expr *rel, const char *var, ineq_tset **out);
int ineq_trig_and(ineq_tset *a, const ineq_tset *b);                  /* a &= b; TKD_EMATH for different periods */
int ineq_trig_print(const ineq_tset *s, const char *var, tkd_buf *b); /* var NULL: a set, else relations */
void ineq_trig_free(ineq_tset *s);
/* Pieces with expression ends (NULL: -oo, oo) printed as SymPy does: a set, or with var relations. */
typedef struct ineq_seg {
    tkd_expr *lo, *hi;
    int lc, hc; /* closed ends */
} ineq_seg;
int ineq_print_segs(const ineq_seg *v, int n, const char *var, tkd_buf *b);
/* p*F(u) + q op 0, F atan, asin or acos (ineq_inv.c): 0, or TKD_EMATH when not such a relation */
int ineq_inv_set(const tkd_expr *rel, const char *var, tkd_rset **out);

#endif
