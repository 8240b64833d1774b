/*
 * Inequalities compared as solution sets (the policy line in
 * include/tkd/grade.h): an answer made of relations in one variable,
 * intervals, unions, "and"/"or", \{x \mid ...\} and x \in S is turned into an
 * exact subset of the real line by the toolkit's real sets (tkd_rset,
 * src/tools/rset.c: algebraic ends, exact arithmetic), and two answers are
 * equal when their sets are. So x<1 = -x>-1 = 1>x = (-\infty,1), and
 * x^2<4 = -2<x<2, while x<1 != x\le 1. Only a proof of equality decides
 * here; anything else (pi as an end, sin x < 1/2, two variables, a set
 * that differs) goes back to the structural rules, which keep their say on
 * decimals and the like.
 */
#include "equal_p.h"
#include "tkd/tools.h"

#include <string.h>

#define SET_MAX_DEGREE 16 /* degree of a numerator or denominator solved while grading */
#define SET_MAX_NODES 400 /* nodes of one relation's expr tree */

/* Does the answer state an inequality (not only equations or points)? */
static int has_ineq(const gnode *n) {
    switch (n->k) {
    case GN_REL:
        if (n->op == REL_IN)
            return has_ineq(n->kid[1]) || n->kid[1]->k == GN_TUPLE;
        return n->op != REL_EQ;
    case GN_INTERVAL:
    case GN_UNION: return 1;
    case GN_AND:
    case GN_LIST:
    case GN_INTER:
        for (int i = 0; i < n->n; i++)
            if (has_ineq(n->kid[i]))
                return 1;
        return 0;
    default: return 0;
    }
}

static int is_scalar(const gnode *n) {
    switch (n->k) {
    case GN_NUM:
    case GN_CONST:
    case GN_ADD:
    case GN_MUL:
    case GN_NEG:
    case GN_DIV:
    case GN_POW:
    case GN_FUNC:
    case GN_FACT: return 1;
    default: return 0;
    }
}

/* Sets that an inequality may equal: relations in one variable, intervals
 * (a pair is an open interval here), unions and intersections, "and"/"or"
 * lists, a set of numbers (the points x^2 \le 0 has). */
static int set_like(const gnode *n) {
    switch (n->k) {
    case GN_REL: return n->op != REL_IN || n->kid[0]->k == GN_SYM;
    case GN_INTERVAL: return 1;
    case GN_TUPLE: return n->n == 2;
    case GN_SET:
        for (int i = 0; i < n->n; i++)
            if (!is_scalar(n->kid[i]) || ghas_kind(n->kid[i], GN_SYM))
                return 0;
        return 1;
    case GN_LIST:
        if (n->op == LIST_MIXED)
            return 0;
        /* fall through */
    case GN_AND:
    case GN_UNION:
    case GN_INTER:
        for (int i = 0; i < n->n; i++)
            if (!set_like(n->kid[i]))
                return 0;
        return 1;
    default: return 0;
    }
}

static tkd_expr *to_expr(const gnode *n) {
    tkd_expr *x = NULL;
    tkd_err e = {0};
    if (tkd_grade_to_expr(n, &x, &e))
        return NULL;
    return x;
}

static int is_inf_node(const gnode *n) {
    if (n->k == GN_CONST && !strcmp(n->str, "inf"))
        return 1;
    return n->k == GN_NEG && is_inf_node(n->kid[0]);
}

/* 1: converted into *out; 0: not a set this module can prove things about. */
static int to_rset(G *g, const gnode *n, const char *var, tkd_rset **out) {
    *out = NULL;
    if (gctx_expired(&g->c))
        return 0;
    tkd_err e = {0};
    switch (n->k) {
    case GN_SET: { /* points: the union of x = c */
        tkd_rset *acc = NULL;
        if (tkd_rset_all(0, &acc)) {
            g->oom = 1;
            return 0;
        }
        for (int i = 0; i < n->n; i++) {
            tkd_expr *c = to_expr(n->kid[i]);
            tkd_expr *rel = c ? tkd_expr_rel(TKD_R_EQ, tkd_expr_sym(var), c) : NULL;
            tkd_rset *k = NULL, *t = NULL;
            int ok = rel && !tkd_rset_solve(rel, var, SET_MAX_DEGREE, &k, &e) && !tkd_rset_combine(acc, k, 0, &t);
            tkd_expr_free(rel);
            tkd_rset_free(k);
            tkd_rset_free(acc);
            acc = t;
            if (!ok) {
                tkd_rset_free(acc);
                return 0;
            }
        }
        *out = acc;
        return 1;
    }
    case GN_INTERVAL:
    case GN_TUPLE: {
        if (n->n != 2 || ghas_kind(n->kid[0], GN_SYM) || ghas_kind(n->kid[1], GN_SYM))
            return 0;
        tkd_expr *lo = is_inf_node(n->kid[0]) ? NULL : to_expr(n->kid[0]);
        tkd_expr *hi = is_inf_node(n->kid[1]) ? NULL : to_expr(n->kid[1]);
        int ok = (lo || is_inf_node(n->kid[0])) && (hi || is_inf_node(n->kid[1])) &&
                 !tkd_rset_interval(lo, hi, n->k == GN_INTERVAL && n->lo_closed, n->k == GN_INTERVAL && n->hi_closed,
                                    out, &e);
        tkd_expr_free(lo);
        tkd_expr_free(hi);
        return ok;
    }
    case GN_REL: {
        if (n->op == REL_IN)
            return n->kid[0]->k == GN_SYM && !strcmp(n->kid[0]->str, var) && to_rset(g, n->kid[1], var, out);
        tkd_expr *l = to_expr(n->kid[0]), *r = to_expr(n->kid[1]);
        /* REL_EQ .. REL_GE are in the order of TKD_R_EQ .. TKD_R_GE */
        tkd_expr *rel =
            l && r ? tkd_expr_rel((tkd_expr_rel_op)n->op, l, r) : (tkd_expr_free(l), tkd_expr_free(r), NULL);
        int ok =
            rel && tkd_expr_count_nodes(rel) <= SET_MAX_NODES && !tkd_rset_solve(rel, var, SET_MAX_DEGREE, out, &e);
        tkd_expr_free(rel);
        return ok;
    }
    case GN_LIST:
    case GN_AND:
    case GN_UNION:
    case GN_INTER: {
        /* a comma list reads as "or", as the structural rules read it */
        int inter = n->k == GN_AND || n->k == GN_INTER || (n->k == GN_LIST && n->op == LIST_AND);
        if (n->k == GN_LIST && n->op == LIST_MIXED)
            return 0;
        tkd_rset *acc = NULL;
        for (int i = 0; i < n->n; i++) {
            tkd_rset *k = NULL, *t = NULL;
            if (!to_rset(g, n->kid[i], var, &k)) {
                tkd_rset_free(acc);
                return 0;
            }
            if (acc && tkd_rset_combine(acc, k, inter, &t)) {
                g->oom = 1;
                tkd_rset_free(acc);
                tkd_rset_free(k);
                return 0;
            }
            if (acc) {
                tkd_rset_free(acc);
                tkd_rset_free(k);
                acc = t;
            } else {
                acc = k;
            }
        }
        *out = acc;
        return acc != NULL;
    }
    default: return 0;
    }
}

/* The answer's one variable ("x" when it has none); 0 when it has more. */
static int one_var(const gnode *n, const char **var) {
    const char *names[2];
    int k = gfree_syms(n, names, 2, 0);
    if (k < 0 || k > 1)
        return 0;
    *var = k ? names[0] : "x";
    return 1;
}

int gq_sets(G *g, const gnode *x, const gnode *y) {
    if (!(has_ineq(x) || has_ineq(y)) || !set_like(x) || !set_like(y))
        return 0;
    /* a pair is an open interval only against an inequality or interval */
    const char *vx, *vy;
    if (!one_var(x, &vx) || !one_var(y, &vy))
        return 0;
    tkd_rset *sx = NULL, *sy = NULL;
    int same = to_rset(g, x, vx, &sx) && to_rset(g, y, vy, &sy) && tkd_rset_equal(sx, sy);
    tkd_rset_free(sx);
    tkd_rset_free(sy);
    if (same)
        set_why(g, "same solution set", EQ);
    return same;
}
