/*
 * solve_nonlinear_system's engine, shared by its files: nlsys.c (the
 * branches and their steps), nlpoly.c (polynomials over one branch's
 * generators: kinds, clean coefficients, row reduction) and nlsol.c (the
 * final check of the solutions and the answer).
 */
#ifndef TKD_NLSYS_INT_H
#define TKD_NLSYS_INT_H

#include "tools_int.h"

#define NL_STEPS_MAX 1500 /* steps over all branches */
#define NL_DEPTH_MAX 60
#define NL_EQ_MAX 24      /* equations in a branch (16 given, resultants and conditions added) */
#define NL_COND_MAX 24    /* nonzero conditions in a branch */
#define NL_NV_MAX 16      /* unknowns (read_vars' limit) */
#define NL_SOL_MAX 256    /* solutions (points and families) before the final check */
#define NL_FACTORS_MAX 32 /* distinct factors of one equation */
#define NL_RES_TRIES 16   /* resultants tried in one step */
#define NL_RES_IN_LEN 400 /* terms of an equation a resultant is taken of */
#define NL_RES_DEG 16     /* sum of the degrees in the eliminated unknown */
#define NL_RES_LEN 3000   /* terms of a resultant kept */

typedef struct nl_sol {
    tkd_expr *val[NL_NV_MAX];
    tkd_expr *cond[NL_COND_MAX];
    size_t nc, nfree;
} nl_sol;

typedef struct nl {
    const char *const *vars;
    size_t nv;
    tkd_expr *const *orig;
    size_t ne;
    nl_sol sol[NL_SOL_MAX];
    size_t nsol;
    int steps;
} nl;

/* The polynomials of one branch: its equations' generators, classified. */
enum { G_OPEN = 1, G_PARAM = 2, G_CONST = 4, G_ATOM_PARAM = 8, G_ATOM_OPEN = 16 };

typedef struct nl_pctx {
    tkd_rf t;
    int *gk;             /* kind of each generator */
    int *used;           /* scratch */
    slong ov[NL_NV_MAX]; /* generator index of each open unknown */
    const char *open[NL_NV_MAX];
    size_t no;
} nl_pctx;

/* "the expressions grow too large" (a tree over TKD_EXPR_MAX_NODES) */
int tnl_grew(tkd_err *e);

/* ---- nlpoly.c ---- */
/* The G_* kinds of the generators p uses. */
int tnl_poly_kinds(nl_pctx *c, const fmpz_mpoly_t p);
/* Total degree in the open unknowns (-1 for 0). */
slong tnl_open_degree(nl_pctx *c, const fmpz_mpoly_t p);
/* How many open unknowns p holds. */
size_t tnl_open_count(nl_pctx *c, const fmpz_mpoly_t p);
/* g**q -> b for the radical generators, after products. */
void tnl_reduce_poly(nl_pctx *c, fmpz_mpoly_t p);
/* p divided by the gcd of its integer coefficients, leading coefficient > 0. */
void tnl_normal_poly(nl_pctx *c, fmpz_mpoly_t p);
/* The coefficient of p at the open monomial ex (an exponent per open unknown). */
void tnl_open_coeff(nl_pctx *c, fmpz_mpoly_t out, const fmpz_mpoly_t p, const ulong *ex);
/* Drop the terms whose coefficient is made of constants and is 0 as a number. */
int tnl_clean_poly(nl_pctx *c, fmpz_mpoly_t p, tkd_err *e);
/* Integer row reduction of g[0..m) over the open monomials (the same ideal);
 * *useful when it lowers degrees or unknowns, and then g holds the rows. */
int tnl_row_reduce(nl_pctx *c, fmpz_mpoly_struct *g, size_t m, int *useful, tkd_err *e);
/* -c0/c1 as a tree (NULL when too big). */
tkd_expr *tnl_quotient_expr(nl_pctx *c, const fmpz_mpoly_t c0, const fmpz_mpoly_t c1);
/* 0: a nonzero number; 1: parameters only; 2: has open unknowns */
int tnl_coeff_class(nl_pctx *c, const fmpz_mpoly_t p);

/* ---- nlsol.c ---- */
/* Check s's solutions in the original equations, drop repeats and solutions
 * inside larger families, and answer the tuples (refusing mixed dimensions). */
int tnl_finish(tkd_arena *ta, nl *s, tkd_json **out, tkd_err *e);
void tnl_sol_free(nl_sol *o);

#endif
