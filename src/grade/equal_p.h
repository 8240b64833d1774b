/*
 * The comparer's shared state, split over equal.c (the policy's structure:
 * text, collections, intervals, relations, the entry point),
 * equal_num.c (scalars: exact rationals, Arb balls, random points, the
 * decimal rule, equations) and equal_set.c (inequalities as solution sets). Internal to src/grade.
 */
#ifndef TKD_GRADE_EQUAL_P_H
#define TKD_GRADE_EQUAL_P_H

#include "gnode.h"

#define NPOINTS 5    /* random points for expressions with free variables */
#define MAX_TRIES 12 /* points tried to find NPOINTS where both sides are defined */
#define PREC_LO 256
#define PREC_HI 1024
#define PREC_MAX 16384     /* most bits used for values far from 1 (adaptive last step) */
#define MAX_PM 4           /* \pm signs expanded (2^4 alternatives) */
#define EXACT_MAX_NODES 48 /* largest pair of trees handed to Calcium / canonical forms */

typedef struct G {
    gctx c;
    garena *a;
    tkd_rng rng;
    const char *why; /* the rule that decided the last comparison */
    int undecided;   /* a sub-comparison could not be decided */
    int oom;
} G;

enum { NE = 0, EQ = 1, UND = -1 }; /* a comparison's outcome */

static inline int set_why(G *g, const char *why, int r) {
    g->why = why;
    if (r == UND)
        g->undecided = 1;
    return r;
}

int gq_eq(G *g, const gnode *x, const gnode *y);            /* any two answers */
int gq_scalar(G *g, const gnode *x, const gnode *y);        /* two scalar expressions */
int gq_equations(G *g, const gnode *x, const gnode *y);     /* two equations */
int gq_sets(G *g, const gnode *x, const gnode *y);          /* 1: provably the same set of reals */
int gq_balls_cmp(const acb_t x, const acb_t y, slong prec); /* 1 apart, 0 equal, -1 unclear */
void gq_random_point(G *g, int nvars);

#endif
