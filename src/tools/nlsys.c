/*
 * solve_nonlinear_system's engine (solve.c reads the arguments). A branch
 * holds equations, the values found so far (in the unknowns still open) and
 * conditions that must stay nonzero (the denominators of those values and of
 * the original equations). Every step keeps the branch's solution set:
 * - an equation's numerator is factored and the branch splits over its
 *   irreducible factors (an equation that shares the factor is then met);
 *   equal equations merge;
 * - an equation in one unknown is solved (troots) and each root substituted;
 * - an unknown that appears linearly, c1*x + c0 = 0, becomes -c0/c1 with
 *   c1 != 0 kept as a condition, next to a branch c1 = c0 = 0;
 * - equations whose leading monomials cancel are row-reduced with integer
 *   pivots (two circles give their common chord);
 * - else the resultant of two equations joins the system, or an unknown of
 *   degree 2 that no other equation holds is solved by formula.
 * An unknown left without an equation is free: the solution is a family.
 * At the end each solution is checked in the original equations (numbers
 * exactly with Calcium, families identically as rational functions); a
 * point or family inside a larger family is dropped, and a mix of
 * dimensions that remains is refused (SymPy lists families of one size).
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/fmpz_mpoly_factor.h>

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

/* One branch; owns its trees. cond[0] is the newest condition: a later one
 * may have an earlier one's value in a denominator, so they are checked from
 * the front. */
typedef struct br {
    tkd_expr *eq[NL_EQ_MAX];
    size_t ne;
    tkd_expr *val[NL_NV_MAX];
    tkd_expr *cond[NL_COND_MAX];
    size_t nc;
} br;

static void br_free(br *b) {
    for (size_t i = 0; i < b->ne; i++)
        tkd_expr_free(b->eq[i]);
    for (size_t j = 0; j < NL_NV_MAX; j++)
        tkd_expr_free(b->val[j]);
    for (size_t i = 0; i < b->nc; i++)
        tkd_expr_free(b->cond[i]);
    memset(b, 0, sizeof *b);
}

static int grew(tkd_err *e) {
    return tkd_err_set(e, TKD_ELIMIT, "unsupported: the system's expressions grow too large to solve here");
}

static int br_add_eq(br *b, tkd_expr *x, tkd_err *e) {
    if (!x)
        return grew(e);
    if (b->ne == NL_EQ_MAX) {
        tkd_expr_free(x);
        return tkd_err_set(e, TKD_ELIMIT, "unsupported: the system needs too many equations to solve here");
    }
    b->eq[b->ne++] = x;
    return 0;
}

/* Prepend a condition (the newest first). */
static int br_add_cond(br *b, tkd_expr *x, tkd_err *e) {
    if (!x)
        return grew(e);
    if (b->nc == NL_COND_MAX) {
        tkd_expr_free(x);
        return tkd_err_set(e, TKD_ELIMIT, "unsupported: the system needs too many conditions to solve here");
    }
    memmove(b->cond + 1, b->cond, b->nc * sizeof *b->cond);
    b->cond[0] = x;
    b->nc++;
    return 0;
}

static tkd_expr *sub_or_copy(const tkd_expr *x, const char *var, const tkd_expr *v) {
    return var ? tsubst(x, var, v) : tkd_expr_copy(x);
}

/* out = b with var := v (var NULL: a copy), without equation skip (-1: none). */
static int br_derive(const nl *s, const br *b, long skip, const char *var, const tkd_expr *v, br *out, tkd_err *e) {
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (size_t i = 0; i < b->ne && !rc; i++)
        if ((long)i != skip)
            rc = br_add_eq(out, sub_or_copy(b->eq[i], var, v), e);
    for (size_t j = 0; j < s->nv && !rc; j++) {
        if (var && !strcmp(s->vars[j], var))
            out->val[j] = tkd_expr_copy(v);
        else if (b->val[j])
            out->val[j] = sub_or_copy(b->val[j], var, v);
        else
            continue;
        if (!out->val[j])
            rc = grew(e);
    }
    for (size_t i = 0; i < b->nc && !rc; i++) {
        if (!(out->cond[i] = sub_or_copy(b->cond[i], var, v)))
            rc = grew(e);
        out->nc = i + 1;
    }
    if (rc)
        br_free(out);
    return rc;
}

/* ---- generators and polynomials ---- */

enum { G_OPEN = 1, G_PARAM = 2, G_CONST = 4, G_ATOM_PARAM = 8, G_ATOM_OPEN = 16 };

typedef struct pctx {
    tkd_rf t;
    int *gk;             /* kind of each generator */
    int *used;           /* scratch */
    slong ov[NL_NV_MAX]; /* generator index of each open unknown */
    const char *open[NL_NV_MAX];
    size_t no;
} pctx;

static int poly_kinds(pctx *c, const fmpz_mpoly_t p) {
    size_t n = c->t.n ? c->t.n : 1;
    memset(c->used, 0, n * sizeof *c->used);
    fmpz_mpoly_used_vars(c->used, p, c->t.ctx);
    int k = 0;
    for (size_t g = 0; g < c->t.n; g++)
        if (c->used[g])
            k |= c->gk[g];
    return k;
}

/* Total degree in the open unknowns. */
static slong open_degree(pctx *c, const fmpz_mpoly_t p) {
    ulong *ex = flint_malloc(sizeof(ulong) * (c->t.n ? c->t.n : 1));
    slong best = -1;
    for (slong k = 0; k < fmpz_mpoly_length(p, c->t.ctx); k++) {
        fmpz_mpoly_get_term_exp_ui(ex, p, k, c->t.ctx);
        slong d = 0;
        for (size_t j = 0; j < c->no; j++)
            d += (slong)ex[c->ov[j]];
        if (d > best)
            best = d;
    }
    flint_free(ex);
    return best;
}

static size_t open_count(pctx *c, const fmpz_mpoly_t p) {
    size_t n = c->t.n ? c->t.n : 1, k = 0;
    memset(c->used, 0, n * sizeof *c->used);
    fmpz_mpoly_used_vars(c->used, p, c->t.ctx);
    for (size_t j = 0; j < c->no; j++)
        k += c->used[c->ov[j]] != 0;
    return k;
}

/* g**q -> b for the radical generators, after products. */
static void reduce_poly(pctx *c, fmpz_mpoly_t p) {
    if (!c->t.has_rad)
        return;
    fmpz_mpoly_q_t q;
    fmpz_mpoly_q_init(q, c->t.ctx);
    fmpz_mpoly_swap(fmpz_mpoly_q_numref(q), p, c->t.ctx);
    tkd_rf_reduce(&c->t, q);
    fmpz_mpoly_swap(fmpz_mpoly_q_numref(q), p, c->t.ctx);
    fmpz_mpoly_q_clear(q, c->t.ctx);
}

/* p divided by the gcd of its integer coefficients, leading coefficient > 0. */
static void normal_poly(pctx *c, fmpz_mpoly_t p) {
    slong len = fmpz_mpoly_length(p, c->t.ctx);
    if (!len)
        return;
    fmpz_t g;
    fmpz_init(g);
    _fmpz_vec_content(g, p->coeffs, len);
    if (fmpz_sgn(p->coeffs + 0) < 0)
        fmpz_neg(g, g);
    fmpz_mpoly_scalar_divexact_fmpz(p, p, g, c->t.ctx);
    fmpz_clear(g);
}

/* The coefficient of p at the open monomial of ex (exponents per open unknown). */
static void open_coeff(pctx *c, fmpz_mpoly_t out, const fmpz_mpoly_t p, const ulong *ex) {
    fmpz_mpoly_get_coeff_vars_ui(out, p, c->ov, ex, (slong)c->no, c->t.ctx);
}

/* Drop the terms of p whose coefficient (at an open monomial) is made of
 * constants only and is 0 as a number (sqrt(3)*sqrt(13) - sqrt(39): distinct
 * generators), so degrees and leading coefficients are true. */
static int clean_poly(pctx *c, fmpz_mpoly_t p, tkd_err *e) {
    if (!(poly_kinds(c, p) & G_CONST))
        return 0;
    int rc = 0;
    fmpz_mpoly_t rest, C, M, g;
    fmpz_mpoly_init(rest, c->t.ctx);
    fmpz_mpoly_init(C, c->t.ctx);
    fmpz_mpoly_init(M, c->t.ctx);
    fmpz_mpoly_init(g, c->t.ctx);
    fmpz_mpoly_set(rest, p, c->t.ctx);
    ulong *ex = flint_malloc(sizeof(ulong) * (c->t.n ? c->t.n : 1)), oe[NL_NV_MAX];
    while (!rc && !fmpz_mpoly_is_zero(rest, c->t.ctx)) {
        fmpz_mpoly_get_term_exp_ui(ex, rest, 0, c->t.ctx);
        for (size_t j = 0; j < c->no; j++)
            oe[j] = ex[c->ov[j]];
        open_coeff(c, C, rest, oe);
        fmpz_mpoly_set(M, C, c->t.ctx);
        for (size_t j = 0; j < c->no; j++) {
            fmpz_mpoly_gen(g, c->ov[j], c->t.ctx);
            fmpz_mpoly_pow_ui(g, g, oe[j], c->t.ctx);
            fmpz_mpoly_mul(M, M, g, c->t.ctx);
        }
        fmpz_mpoly_sub(rest, rest, M, c->t.ctx);
        if (fmpz_mpoly_is_fmpz(C, c->t.ctx) || (poly_kinds(c, C) & ~G_CONST))
            continue;
        tkd_expr *x = tkd_rf_poly_to_expr(&c->t, C, NULL);
        truth_t z = x ? tnum_check(x, 0) : T_UNKNOWN;
        tkd_expr_free(x);
        if (z == T_UNKNOWN)
            rc =
                tkd_err_set(e, TKD_EMATH, "unsupported: whether a coefficient of the system is 0 could not be decided");
        else if (z == T_TRUE)
            fmpz_mpoly_sub(p, p, M, c->t.ctx);
    }
    flint_free(ex);
    fmpz_mpoly_clear(rest, c->t.ctx);
    fmpz_mpoly_clear(C, c->t.ctx);
    fmpz_mpoly_clear(M, c->t.ctx);
    fmpz_mpoly_clear(g, c->t.ctx);
    return rc;
}

/* ---- solutions ---- */

static int record(nl *s, const br *b, tkd_err *e) {
    if (s->nsol == NL_SOL_MAX)
        return tkd_err_set(e, TKD_ELIMIT, "unsupported: the system has too many solutions to list here");
    nl_sol *o = &s->sol[s->nsol];
    memset(o, 0, sizeof *o);
    int rc = 0;
    for (size_t j = 0; j < s->nv && !rc; j++) {
        o->nfree += !b->val[j];
        o->val[j] = b->val[j] ? tkd_expr_copy(b->val[j]) : tkd_expr_sym(s->vars[j]);
        if (!o->val[j])
            rc = grew(e);
    }
    for (size_t i = 0; i < b->nc && !rc; i++)
        if (!(o->cond[o->nc++] = tkd_expr_copy(b->cond[i])))
            rc = grew(e);
    s->nsol++; /* freed with the others even on error */
    return rc;
}

static void sol_free(nl_sol *o) {
    for (size_t j = 0; j < NL_NV_MAX; j++)
        tkd_expr_free(o->val[j]);
    for (size_t i = 0; i < o->nc; i++)
        tkd_expr_free(o->cond[i]);
    memset(o, 0, sizeof *o);
}

static int nl_go(nl *s, const br *b, int depth, tkd_err *e);

/* Solve child and free it. */
static int go_child(nl *s, br *child, int depth, tkd_err *e) {
    int rc = nl_go(s, child, depth + 1, e);
    br_free(child);
    return rc;
}

/* Branch on the roots of eq (one open unknown var): each root substituted. */
static int branch_roots(nl *s, const br *cb, long i, const tkd_expr *eq, const char *var, int depth, tkd_err *e) {
    tlist roots = {0};
    int rc = troots(eq, var, &roots, 0, e);
    for (size_t r = 0; r < roots.n && !rc; r++) {
        br child;
        if (!(rc = br_derive(s, cb, i, var, roots.v[r], &child, e)))
            rc = go_child(s, &child, depth, e);
    }
    tlist_free(&roots);
    return rc;
}

/* x := value (from equation i), with the condition cond != 0 (NULL: none). */
static int branch_subst(nl *s, const br *cb, long i, const char *var, tkd_expr *value, tkd_expr *cond, int depth,
                        tkd_err *e) {
    br child;
    int rc = value ? br_derive(s, cb, i, var, value, &child, e) : grew(e);
    tkd_expr_free(value);
    if (!rc && cond) {
        rc = br_add_cond(&child, cond, e);
        cond = NULL;
        if (rc)
            br_free(&child);
    }
    tkd_expr_free(cond);
    return rc ? rc : go_child(s, &child, depth, e);
}

/* Equation i replaced by the equations xs (owned). */
static int branch_replace(nl *s, const br *cb, long i, tkd_expr **xs, size_t nx, int depth, tkd_err *e) {
    br child;
    int rc = br_derive(s, cb, i, NULL, NULL, &child, e);
    for (size_t k = 0; k < nx; k++) {
        if (!rc)
            rc = br_add_eq(&child, xs[k], e);
        else
            tkd_expr_free(xs[k]);
    }
    if (rc) {
        if (child.ne || child.nc)
            br_free(&child);
        return rc;
    }
    return go_child(s, &child, depth, e);
}

static int has_fn(const tkd_expr *x) {
    if (x->kind == TKD_EX_FUNC)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (has_fn(x->args[i]))
            return 1;
    return 0;
}

/* Is the number x (raw) or its normal form xn zero? Calcium decides the raw
 * tree best: a normal form may write a product of radicals with cosines. */
static truth_t num_zero(const tkd_expr *x, const tkd_expr *xn) {
    truth_t z = tnum_check(x, 0);
    return z == T_UNKNOWN && xn ? tnum_check(xn, 0) : z;
}

static int has_open(const tkd_expr *x, const char *const *open, size_t no) {
    for (size_t j = 0; j < no; j++)
        if (tkd_expr_has_sym(x, open[j]))
            return 1;
    return 0;
}

/* The step on a branch whose equations are normalized (cb owned by the
 * caller; every equation has an open unknown). */
static int nl_step(nl *s, br *cb, pctx *c, int depth, tkd_err *e);

static int nl_go(nl *s, const br *b, int depth, tkd_err *e) {
    if (++s->steps > NL_STEPS_MAX || depth > NL_DEPTH_MAX)
        return tkd_err_set(e, TKD_ELIMIT, "unsupported: the system needs too many steps to solve here");
    const char *open[NL_NV_MAX];
    size_t no = 0;
    for (size_t j = 0; j < s->nv; j++)
        if (!b->val[j])
            open[no++] = s->vars[j];
    br cb;
    memset(&cb, 0, sizeof cb);
    int rc = 0, dead = 0;
    /* the conditions, newest first: one that is 0 ends the branch */
    for (size_t i = 0; i < b->nc && !rc && !dead; i++) {
        tkd_expr *x = trat_normalize(b->cond[i], e);
        if (!x) {
            rc = e->code;
            break;
        }
        if (!tkd_expr_has_sym(x, NULL)) {
            truth_t z = num_zero(b->cond[i], x);
            tkd_expr_free(x);
            if (z == T_TRUE)
                dead = 1;
            else if (z == T_UNKNOWN)
                rc = tkd_err_set(e, TKD_EMATH, "unsupported: whether a denominator is 0 could not be decided");
            continue;
        }
        if (x->kind == TKD_EX_NUM) { /* 0 */
            tkd_expr_free(x);
            dead = 1;
            continue;
        }
        cb.cond[cb.nc++] = x;
    }
    /* the equations: drop 0 = 0; a nonzero constant means no solution */
    for (size_t i = 0; i < b->ne && !rc && !dead; i++) {
        tkd_expr *x = trat_normalize(b->eq[i], e);
        if (!x) {
            rc = e->code;
            break;
        }
        if (x->kind == TKD_EX_NUM && fmpq_is_zero(x->q)) {
            tkd_expr_free(x);
            continue;
        }
        if (!has_open(x, open, no)) {
            if (tkd_expr_has_sym(x, NULL)) {
                tkd_expr_free(x);
                rc = tkd_err_set(e, TKD_EMATH,
                                 "unsupported: the system has solutions only for special values of its parameters");
                break;
            }
            truth_t z = num_zero(b->eq[i], x);
            tkd_expr_free(x);
            if (z == T_FALSE)
                dead = 1;
            else if (z == T_UNKNOWN)
                rc = tkd_err_set(e, TKD_EMATH, "unsupported: could not decide whether a value is zero");
            continue;
        }
        cb.eq[cb.ne++] = x;
    }
    for (size_t j = 0; j < s->nv && !rc && !dead; j++)
        if (b->val[j] && !(cb.val[j] = tkd_expr_copy(b->val[j])))
            rc = grew(e);
    if (rc || dead) {
        br_free(&cb);
        return rc;
    }
    if (cb.ne == 0) { /* every open unknown is free */
        rc = record(s, &cb, e);
        br_free(&cb);
        return rc;
    }
    /* one polynomial context over the equations */
    pctx c;
    memset(&c, 0, sizeof c);
    tkd_expr *pp[NL_EQ_MAX] = {0};
    for (size_t i = 0; i < cb.ne && !rc; i++)
        if (!(pp[i] = trat_prep(cb.eq[i], e)))
            rc = e->code;
    if (!rc)
        rc = tkd_rf_init(&c.t, (const tkd_expr *const *)pp, cb.ne, open, no, e);
    for (size_t i = 0; i < cb.ne; i++)
        tkd_expr_free(pp[i]);
    if (rc) {
        br_free(&cb);
        return rc;
    }
    size_t ng = c.t.n ? c.t.n : 1;
    c.gk = calloc(ng, sizeof *c.gk);
    c.used = calloc(ng, sizeof *c.used);
    c.no = no;
    for (size_t j = 0; j < no; j++) {
        c.open[j] = open[j];
        c.ov[j] = tkd_rf_var(&c.t, open[j]);
    }
    if (!c.gk || !c.used)
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (size_t g = 0; g < c.t.n && !rc; g++) {
        const tkd_expr *x = c.t.gens[g];
        if (g < c.t.nsyms)
            c.gk[g] = has_open(x, open, no) ? G_OPEN : G_PARAM;
        else
            c.gk[g] = has_open(x, open, no) ? G_ATOM_OPEN : tkd_expr_has_sym(x, NULL) ? G_ATOM_PARAM : G_CONST;
    }
    if (!rc)
        rc = nl_step(s, &cb, &c, depth, e);
    free(c.gk);
    free(c.used);
    tkd_rf_clear(&c.t);
    br_free(&cb);
    return rc;
}

/* ---- the step ---- */

typedef struct eqinfo {
    int opaque;                          /* an open unknown inside a function or radical */
    fmpz_mpoly_struct f[NL_FACTORS_MAX]; /* distinct open factors, normalized */
    size_t nf;
    int drop;
} eqinfo;

static int factor_index(pctx *c, const eqinfo *q, const fmpz_mpoly_t f) {
    for (size_t k = 0; k < q->nf; k++)
        if (fmpz_mpoly_equal(q->f + k, f, c->t.ctx))
            return (int)k;
    return -1;
}

/* The product of an equation's open factors (its squarefree part) as a tree. */
static tkd_expr *sqfree_expr(pctx *c, const eqinfo *q) {
    fmpz_mpoly_t p;
    fmpz_mpoly_init(p, c->t.ctx);
    fmpz_mpoly_one(p, c->t.ctx);
    for (size_t k = 0; k < q->nf; k++)
        fmpz_mpoly_mul(p, p, q->f + k, c->t.ctx);
    reduce_poly(c, p);
    tkd_expr *x = tkd_rf_poly_to_expr(&c->t, p, NULL);
    fmpz_mpoly_clear(p, c->t.ctx);
    return x;
}

/* Row reduction over the open monomials with integer pivots (the same
 * ideal); *useful when degrees drop. g[0..m) are replaced on success. */
static int row_reduce(pctx *c, fmpz_mpoly_struct *g, size_t m, int *useful, tkd_err *e) {
    *useful = 0;
    size_t nmax = 0, cap = 0, nm = 0;
    ulong *mons = NULL; /* nm monomials, c->no exponents each */
    ulong *ex = flint_malloc(sizeof(ulong) * (c->t.n ? c->t.n : 1));
    slong before = 0, len0 = 0;
    for (size_t i = 0; i < m; i++) {
        before += open_degree(c, g + i) + 1;
        if (fmpz_mpoly_length(g + i, c->t.ctx) > len0)
            len0 = fmpz_mpoly_length(g + i, c->t.ctx);
        for (slong k = 0; k < fmpz_mpoly_length(g + i, c->t.ctx); k++) {
            fmpz_mpoly_get_term_exp_ui(ex, g + i, k, c->t.ctx);
            ulong oe[NL_NV_MAX];
            for (size_t j = 0; j < c->no; j++)
                oe[j] = ex[c->ov[j]];
            size_t u;
            for (u = 0; u < nm; u++)
                if (!memcmp(mons + u * c->no, oe, c->no * sizeof(ulong)))
                    break;
            if (u < nm)
                continue;
            if (nm == cap) {
                cap = cap ? 2 * cap : 32;
                ulong *nmons = realloc(mons, cap * c->no * sizeof(ulong));
                if (!nmons) {
                    free(mons);
                    flint_free(ex);
                    return tkd_err_set(e, TKD_ENOMEM, "out of memory");
                }
                mons = nmons;
            }
            memcpy(mons + nm * c->no, oe, c->no * sizeof(ulong));
            nm++;
        }
    }
    (void)nmax;
    flint_free(ex);
    /* descending: total degree, then exponents */
    for (size_t a = 1; a < nm; a++)
        for (size_t b = a; b > 0; b--) {
            ulong *p = mons + (b - 1) * c->no, *q = mons + b * c->no, dp = 0, dq = 0;
            for (size_t j = 0; j < c->no; j++)
                dp += p[j], dq += q[j];
            int less = dp < dq || (dp == dq && memcmp(p, q, c->no * sizeof(ulong)) < 0);
            if (!less)
                break;
            for (size_t j = 0; j < c->no; j++) {
                ulong t = p[j];
                p[j] = q[j];
                q[j] = t;
            }
        }
    fmpz_mpoly_struct *h = flint_malloc(sizeof *h * m);
    for (size_t i = 0; i < m; i++) {
        fmpz_mpoly_init(h + i, c->t.ctx);
        fmpz_mpoly_set(h + i, g + i, c->t.ctx);
    }
    int *piv = calloc(m, sizeof *piv), rc = 0, big = 0;
    fmpz_mpoly_t C, Ck, T;
    fmpz_mpoly_init(C, c->t.ctx);
    fmpz_mpoly_init(Ck, c->t.ctx);
    fmpz_mpoly_init(T, c->t.ctx);
    fmpz_t p;
    fmpz_init(p);
    for (size_t u = 0; u < nm && !big; u++) {
        size_t r;
        for (r = 0; r < m; r++) {
            if (piv[r])
                continue;
            open_coeff(c, C, h + r, mons + u * c->no);
            if (!fmpz_mpoly_is_zero(C, c->t.ctx) && fmpz_mpoly_is_fmpz(C, c->t.ctx))
                break;
        }
        if (r == m)
            continue;
        piv[r] = 1;
        fmpz_mpoly_get_fmpz(p, C, c->t.ctx);
        for (size_t k = 0; k < m; k++) {
            if (k == r)
                continue;
            open_coeff(c, Ck, h + k, mons + u * c->no);
            if (fmpz_mpoly_is_zero(Ck, c->t.ctx))
                continue;
            fmpz_mpoly_scalar_mul_fmpz(h + k, h + k, p, c->t.ctx);
            fmpz_mpoly_mul(T, Ck, h + r, c->t.ctx);
            fmpz_mpoly_sub(h + k, h + k, T, c->t.ctx);
            reduce_poly(c, h + k);
            normal_poly(c, h + k);
            if (fmpz_mpoly_length(h + k, c->t.ctx) > 4 * len0 + 20)
                big = 1;
        }
    }
    slong after = 0;
    for (size_t i = 0; i < m && !big && !rc; i++) {
        rc = clean_poly(c, h + i, e);
        if (!fmpz_mpoly_is_zero(h + i, c->t.ctx))
            after += open_degree(c, h + i) + 1;
    }
    if (!rc && !big && after < before) {
        *useful = 1;
        for (size_t i = 0; i < m; i++)
            fmpz_mpoly_swap(g + i, h + i, c->t.ctx);
    }
    for (size_t i = 0; i < m; i++)
        fmpz_mpoly_clear(h + i, c->t.ctx);
    flint_free(h);
    free(piv);
    free(mons);
    fmpz_mpoly_clear(C, c->t.ctx);
    fmpz_mpoly_clear(Ck, c->t.ctx);
    fmpz_mpoly_clear(T, c->t.ctx);
    fmpz_clear(p);
    return rc;
}

/* -c0/c1 as a tree */
static tkd_expr *quotient_expr(pctx *c, const fmpz_mpoly_t c0, const fmpz_mpoly_t c1) {
    fmpz_mpoly_q_t q;
    fmpz_mpoly_q_init(q, c->t.ctx);
    fmpz_mpoly_neg(fmpz_mpoly_q_numref(q), c0, c->t.ctx);
    fmpz_mpoly_set(fmpz_mpoly_q_denref(q), c1, c->t.ctx);
    fmpz_mpoly_q_canonicalise(q, c->t.ctx);
    tkd_rf_reduce(&c->t, q);
    tkd_expr *x = tkd_rf_to_expr(&c->t, q);
    fmpz_mpoly_q_clear(q, c->t.ctx);
    return x;
}

/* 0: a nonzero number; 1: parameters only; 2: has open unknowns */
static int coeff_class(pctx *c, const fmpz_mpoly_t p) {
    int k = poly_kinds(c, p);
    return (k & (G_OPEN | G_ATOM_OPEN)) ? 2 : (k & (G_PARAM | G_ATOM_PARAM)) ? 1 : 0;
}

static int nl_step(nl *s, br *cb, pctx *c, int depth, tkd_err *e) {
    size_t n = cb->ne, n0 = cb->ne;
    int rc = 0;
    eqinfo *q = calloc(n, sizeof *q);
    fmpz_mpoly_t P, C0, C1;
    fmpz_mpoly_q_t r;
    fmpz_mpoly_init(P, c->t.ctx);
    fmpz_mpoly_init(C0, c->t.ctx);
    fmpz_mpoly_init(C1, c->t.ctx);
    fmpz_mpoly_q_init(r, c->t.ctx);
    fmpz_mpoly_factor_t fac;
    fmpz_mpoly_factor_init(fac, c->t.ctx);
    if (!q) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto out;
    }
    /* 1. factor the numerators */
    for (size_t i = 0; i < n && !rc; i++) {
        tkd_expr *p = trat_prep(cb->eq[i], e);
        rc = p ? tkd_rf_conv(&c->t, r, p, e) : e->code;
        tkd_expr_free(p);
        if (rc)
            break;
        fmpz_mpoly_set(P, fmpz_mpoly_q_numref(r), c->t.ctx);
        if ((q[i].opaque = (poly_kinds(c, P) & G_ATOM_OPEN) != 0))
            continue;
        if ((rc = clean_poly(c, P, e)))
            break;
        if (fmpz_mpoly_is_zero(P, c->t.ctx)) {
            q[i].drop = 1;
            continue;
        }
        if (!(poly_kinds(c, P) & G_OPEN)) { /* a nonzero number: no solution */
            if (poly_kinds(c, P) & (G_PARAM | G_ATOM_PARAM))
                rc = tkd_err_set(e, TKD_EMATH,
                                 "unsupported: the system has solutions only for special values of its parameters");
            goto out;
        }
        if (!fmpz_mpoly_factor(fac, P, c->t.ctx)) {
            rc = tkd_err_set(e, TKD_EMATH, "unsupported: an equation of the system could not be factored");
            break;
        }
        for (slong k = 0; k < fac->num && !rc; k++) {
            int kk = poly_kinds(c, fac->poly + k);
            if (!(kk & G_OPEN)) {
                if (kk & G_ATOM_PARAM)
                    rc = tkd_err_set(e, TKD_EMATH,
                                     "unsupported: an equation has a factor in functions of the parameters");
                continue; /* a nonzero number, or a polynomial in the parameters (nonzero as SymPy takes them) */
            }
            if (q[i].nf == NL_FACTORS_MAX) {
                rc = tkd_err_set(e, TKD_ELIMIT, "unsupported: an equation of the system has too many factors");
                break;
            }
            fmpz_mpoly_struct *f = q[i].f + q[i].nf;
            fmpz_mpoly_init(f, c->t.ctx);
            fmpz_mpoly_set(f, fac->poly + k, c->t.ctx);
            normal_poly(c, f);
            if (factor_index(c, q + i, f) >= 0)
                fmpz_mpoly_clear(f, c->t.ctx);
            else
                q[i].nf++;
        }
    }
    if (rc)
        goto out;
    /* 2. equal equations merge */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i && !q[i].drop; j++) {
            if (q[j].drop || q[i].opaque != q[j].opaque)
                continue;
            if (q[i].opaque) {
                q[i].drop = tkd_expr_equal(cb->eq[i], cb->eq[j]);
                continue;
            }
            int same = q[i].nf == q[j].nf;
            for (size_t k = 0; same && k < q[i].nf; k++)
                same = factor_index(c, q + j, q[i].f + k) >= 0;
            q[i].drop = same;
        }
    /* the branch's equations from here on: the squarefree parts */
    {
        br nb;
        memset(&nb, 0, sizeof nb);
        size_t map = 0;
        for (size_t i = 0; i < n && !rc; i++) {
            if (q[i].drop)
                continue;
            rc = br_add_eq(&nb, q[i].opaque ? tkd_expr_copy(cb->eq[i]) : sqfree_expr(c, q + i), e);
            if (!rc && map != i) {
                eqinfo t = q[map];
                q[map] = q[i];
                q[i] = t;
            }
            map++;
        }
        for (size_t i = map; i < n; i++) { /* dropped: clear their factors */
            for (size_t k = 0; k < q[i].nf; k++)
                fmpz_mpoly_clear(q[i].f + k, c->t.ctx);
            q[i].nf = 0;
        }
        for (size_t i = 0; i < cb->ne; i++)
            tkd_expr_free(cb->eq[i]);
        memcpy(cb->eq, nb.eq, sizeof nb.eq);
        cb->ne = nb.ne;
        n = map;
        if (rc)
            goto out;
    }
    if (n == 0) {
        rc = nl_go(s, cb, depth + 1, e);
        goto out;
    }
    /* 3. split over the factors of the equation with the fewest (>= 2) */
    {
        long best = -1;
        for (size_t i = 0; i < n; i++)
            if (!q[i].opaque && q[i].nf >= 2 && (best < 0 || q[i].nf < q[best].nf))
                best = (long)i;
        if (best >= 0) {
            for (size_t k = 0; k < q[best].nf && !rc; k++) {
                br child;
                memset(&child, 0, sizeof child);
                rc = br_derive(s, cb, -1, NULL, NULL, &child, e);
                if (rc)
                    break;
                /* equations that share the factor are met: keep the others */
                for (size_t i = 0; i < child.ne; i++)
                    tkd_expr_free(child.eq[i]);
                child.ne = 0;
                rc = br_add_eq(&child, tkd_rf_poly_to_expr(&c->t, q[best].f + k, NULL), e);
                for (size_t i = 0; i < n && !rc; i++)
                    if ((long)i != best && (q[i].opaque || factor_index(c, q + i, q[best].f + k) < 0))
                        rc = br_add_eq(&child, tkd_expr_copy(cb->eq[i]), e);
                if (rc)
                    br_free(&child);
                else
                    rc = go_child(s, &child, depth, e);
            }
            goto out;
        }
    }
    /* now every polynomial equation is one irreducible factor q[i].f[0] */
    /* 4. an equation in one open unknown: its roots */
    {
        long best = -1;
        slong bdeg = 0;
        size_t bv = 0;
        for (size_t i = 0; i < n; i++) {
            size_t cnt = 0, jv = 0;
            for (size_t j = 0; j < c->no; j++)
                if (tkd_expr_has_sym(cb->eq[i], c->open[j]))
                    cnt++, jv = j;
            if (cnt != 1)
                continue;
            slong d = q[i].opaque ? 1000 : fmpz_mpoly_degree_si(q[i].f, c->ov[jv], c->t.ctx);
            if (best < 0 || d < bdeg)
                best = (long)i, bdeg = d, bv = jv;
        }
        if (best >= 0) {
            rc = branch_roots(s, cb, best, cb->eq[best], c->open[bv], depth, e);
            goto out;
        }
    }
    /* 5. an unknown that appears linearly: numeric coefficients first, then
     * (after the row reduction) polynomial ones, with the branch c1 = c0 = 0 */
    long li = -1;
    size_t lv = 0;
    {
        slong bscore = 0;
        for (size_t i = 0; i < n; i++) {
            if (q[i].opaque)
                continue;
            for (size_t j = 0; j < c->no; j++) {
                if (fmpz_mpoly_degree_si(q[i].f, c->ov[j], c->t.ctx) != 1)
                    continue;
                ulong one = 1, zero = 0;
                fmpz_mpoly_get_coeff_vars_ui(C1, q[i].f, c->ov + j, &one, 1, c->t.ctx);
                fmpz_mpoly_get_coeff_vars_ui(C0, q[i].f, c->ov + j, &zero, 1, c->t.ctx);
                slong sc = coeff_class(c, C1) * 1000000 + fmpz_mpoly_length(C1, c->t.ctx) * 1000 +
                           fmpz_mpoly_length(C0, c->t.ctx);
                if (li < 0 || sc < bscore)
                    li = (long)i, lv = j, bscore = sc;
            }
        }
    }
    if (li >= 0) {
        ulong one = 1, zero = 0;
        fmpz_mpoly_get_coeff_vars_ui(C1, q[li].f, c->ov + lv, &one, 1, c->t.ctx);
        fmpz_mpoly_get_coeff_vars_ui(C0, q[li].f, c->ov + lv, &zero, 1, c->t.ctx);
        if (coeff_class(c, C1) < 2) {
            tkd_expr *cond = coeff_class(c, C1) ? tkd_rf_poly_to_expr(&c->t, C1, NULL) : NULL;
            if (coeff_class(c, C1) && !cond)
                rc = grew(e);
            else
                rc = branch_subst(s, cb, li, c->open[lv], quotient_expr(c, C0, C1), cond, depth, e);
            goto out;
        }
    }
    /* 6. row reduction over the monomials */
    {
        size_t m = 0;
        long idx[NL_EQ_MAX];
        fmpz_mpoly_struct g[NL_EQ_MAX];
        for (size_t i = 0; i < n; i++)
            if (!q[i].opaque) {
                idx[m] = (long)i;
                fmpz_mpoly_init(g + m, c->t.ctx);
                fmpz_mpoly_set(g + m, q[i].f, c->t.ctx);
                m++;
            }
        int useful = 0;
        if (m >= 2)
            rc = row_reduce(c, g, m, &useful, e);
        if (!rc && useful) {
            br child;
            rc = br_derive(s, cb, -1, NULL, NULL, &child, e);
            if (!rc) {
                for (size_t i = 0; i < child.ne; i++)
                    tkd_expr_free(child.eq[i]);
                child.ne = 0;
                for (size_t i = 0; i < n && !rc; i++)
                    if (q[i].opaque)
                        rc = br_add_eq(&child, tkd_expr_copy(cb->eq[i]), e);
                for (size_t k = 0; k < m && !rc; k++)
                    if (!fmpz_mpoly_is_zero(g + k, c->t.ctx))
                        rc = br_add_eq(&child, tkd_rf_poly_to_expr(&c->t, g + k, NULL), e);
                if (rc)
                    br_free(&child);
                else
                    rc = go_child(s, &child, depth, e);
            }
        }
        for (size_t k = 0; k < m; k++)
            fmpz_mpoly_clear(g + k, c->t.ctx);
        (void)idx;
        if (rc || useful)
            goto out;
    }
    if (li >= 0) { /* c1 with open unknowns: x = -c0/c1 (c1 != 0), and c1 = c0 = 0 */
        ulong one = 1, zero = 0;
        fmpz_mpoly_get_coeff_vars_ui(C1, q[li].f, c->ov + lv, &one, 1, c->t.ctx);
        fmpz_mpoly_get_coeff_vars_ui(C0, q[li].f, c->ov + lv, &zero, 1, c->t.ctx);
        rc = branch_subst(s, cb, li, c->open[lv], quotient_expr(c, C0, C1), tkd_rf_poly_to_expr(&c->t, C1, NULL), depth,
                          e);
        if (!rc) {
            tkd_expr *xs[2] = {tkd_rf_poly_to_expr(&c->t, C1, NULL), tkd_rf_poly_to_expr(&c->t, C0, NULL)};
            if (!xs[0] || !xs[1]) {
                tkd_expr_free(xs[0]);
                tkd_expr_free(xs[1]);
                rc = grew(e);
            } else {
                rc = branch_replace(s, cb, li, xs, 2, depth, e);
            }
        }
        goto out;
    }
    /* 7. the resultant of two equations that share an unknown joins the system */
    {
        fmpz_mpoly_t R, best;
        fmpz_mpoly_init(R, c->t.ctx);
        fmpz_mpoly_init(best, c->t.ctx);
        int have = 0, tries = 0;
        size_t bcnt = 0;
        slong bdeg = 0;
        for (size_t i = 0; i < n && !rc; i++)
            for (size_t j = i + 1; j < n && !rc; j++) {
                if (q[i].opaque || q[j].opaque || fmpz_mpoly_length(q[i].f, c->t.ctx) > NL_RES_IN_LEN ||
                    fmpz_mpoly_length(q[j].f, c->t.ctx) > NL_RES_IN_LEN)
                    continue;
                for (size_t v = 0; v < c->no && !rc && tries < NL_RES_TRIES; v++) {
                    slong di = fmpz_mpoly_degree_si(q[i].f, c->ov[v], c->t.ctx);
                    slong dj = fmpz_mpoly_degree_si(q[j].f, c->ov[v], c->t.ctx);
                    if (di <= 0 || dj <= 0 || di + dj > NL_RES_DEG)
                        continue;
                    tries++;
                    if (!fmpz_mpoly_resultant(R, q[i].f, q[j].f, c->ov[v], c->t.ctx))
                        continue;
                    reduce_poly(c, R);
                    if ((rc = clean_poly(c, R, e)))
                        break;
                    if (fmpz_mpoly_is_zero(R, c->t.ctx) || fmpz_mpoly_length(R, c->t.ctx) > NL_RES_LEN)
                        continue;
                    normal_poly(c, R);
                    if (!(poly_kinds(c, R) & G_OPEN)) { /* no common root: no solution */
                        if (poly_kinds(c, R) & (G_PARAM | G_ATOM_PARAM))
                            continue;
                        fmpz_mpoly_swap(best, R, c->t.ctx);
                        have = 2;
                        goto picked;
                    }
                    int known = 0;
                    for (size_t k = 0; k < n && !known; k++)
                        known = !q[k].opaque && fmpz_mpoly_equal(q[k].f, R, c->t.ctx);
                    if (known)
                        continue;
                    size_t cnt = open_count(c, R);
                    slong d = fmpz_mpoly_total_degree_si(R, c->t.ctx);
                    if (!have || cnt < bcnt || (cnt == bcnt && d < bdeg)) {
                        fmpz_mpoly_swap(best, R, c->t.ctx);
                        have = 1, bcnt = cnt, bdeg = d;
                    }
                }
            }
    picked:
        if (!rc && have == 1) {
            br child;
            rc = br_derive(s, cb, -1, NULL, NULL, &child, e);
            if (!rc)
                rc = br_add_eq(&child, tkd_rf_poly_to_expr(&c->t, best, NULL), e);
            if (!rc)
                rc = go_child(s, &child, depth, e);
            else if (child.ne)
                br_free(&child);
        }
        fmpz_mpoly_clear(R, c->t.ctx);
        fmpz_mpoly_clear(best, c->t.ctx);
        if (rc || have)
            goto out;
    }
    /* 8. an unknown of degree 2 in one equation and in no other: the formula */
    for (size_t i = 0; i < n; i++) {
        if (q[i].opaque)
            continue;
        for (size_t j = 0; j < c->no; j++) {
            if (fmpz_mpoly_degree_si(q[i].f, c->ov[j], c->t.ctx) != 2)
                continue;
            int alone = 1;
            for (size_t k = 0; k < n && alone; k++)
                alone = k == i || !tkd_expr_has_sym(cb->eq[k], c->open[j]);
            if (!alone)
                continue;
            ulong two = 2, one = 1, zero = 0;
            fmpz_mpoly_t C2;
            fmpz_mpoly_init(C2, c->t.ctx);
            fmpz_mpoly_get_coeff_vars_ui(C2, q[i].f, c->ov + j, &two, 1, c->t.ctx);
            int cls = coeff_class(c, C2);
            tkd_expr *cond = cls ? tkd_rf_poly_to_expr(&c->t, C2, NULL) : NULL;
            tlist roots = {0};
            if (cls && !cond)
                rc = grew(e);
            else
                rc = troots(cb->eq[i], c->open[j], &roots, 0, e);
            for (size_t k = 0; k < roots.n && !rc; k++) {
                br child;
                rc = br_derive(s, cb, (long)i, c->open[j], roots.v[k], &child, e);
                if (!rc && cond)
                    rc = br_add_cond(&child, tkd_expr_copy(cond), e);
                if (!rc)
                    rc = go_child(s, &child, depth, e);
                else if (child.ne || child.nc)
                    br_free(&child);
            }
            tlist_free(&roots);
            tkd_expr_free(cond);
            if (!rc && cls == 2) { /* c2 = 0: the equation is c1*x + c0 = 0 */
                fmpz_mpoly_get_coeff_vars_ui(C1, q[i].f, c->ov + j, &one, 1, c->t.ctx);
                fmpz_mpoly_get_coeff_vars_ui(C0, q[i].f, c->ov + j, &zero, 1, c->t.ctx);
                fmpz_mpoly_t L;
                fmpz_mpoly_init(L, c->t.ctx);
                fmpz_mpoly_gen(L, c->ov[j], c->t.ctx);
                fmpz_mpoly_mul(L, L, C1, c->t.ctx);
                fmpz_mpoly_add(L, L, C0, c->t.ctx);
                tkd_expr *xs[2] = {tkd_rf_poly_to_expr(&c->t, C2, NULL), tkd_rf_poly_to_expr(&c->t, L, NULL)};
                fmpz_mpoly_clear(L, c->t.ctx);
                if (!xs[0] || !xs[1]) {
                    tkd_expr_free(xs[0]);
                    tkd_expr_free(xs[1]);
                    rc = grew(e);
                } else {
                    rc = branch_replace(s, cb, (long)i, xs, 2, depth, e);
                }
            }
            fmpz_mpoly_clear(C2, c->t.ctx);
            goto out;
        }
    }
    rc = tkd_err_set(e, TKD_EMATH, "unsupported: this system (no equation could be solved for one variable)");
out:
    for (size_t i = 0; q && i < n0; i++)
        for (size_t k = 0; k < q[i].nf; k++)
            fmpz_mpoly_clear(q[i].f + k, c->t.ctx);
    free(q);
    fmpz_mpoly_factor_clear(fac, c->t.ctx);
    fmpz_mpoly_clear(P, c->t.ctx);
    fmpz_mpoly_clear(C0, c->t.ctx);
    fmpz_mpoly_clear(C1, c->t.ctx);
    fmpz_mpoly_q_clear(r, c->t.ctx);
    return rc;
}

/* ---- the final check ---- */

/* x with every unknown replaced by its value: 1 when it is 0 (identically, for
 * a family), 0 when not, negative (e set) when that cannot be decided. */
static int vanishes(const nl *s, const tkd_expr *x, tkd_expr *const *val, tkd_err *e) {
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t j = 0; c && j < s->nv; j++) {
        tkd_expr *d = tsubst(c, s->vars[j], val[j]);
        tkd_expr_free(c);
        c = d;
    }
    if (!c)
        return grew(e);
    if (!tkd_expr_has_sym(c, NULL)) {
        truth_t z = tnum_check(c, 0);
        tkd_expr_free(c);
        if (z == T_UNKNOWN)
            return tkd_err_set(e, TKD_EMATH, "unsupported: a candidate solution could not be checked exactly");
        return z == T_TRUE;
    }
    tkd_err e2 = {0};
    tkd_expr *n = trat_normalize(c, &e2);
    tkd_expr_free(c);
    if (!n)
        return tkd_err_set(e, TKD_EMATH, "unsupported: a family of solutions could not be checked (%s)", e2.msg);
    int r = n->kind == TKD_EX_NUM ? fmpq_is_zero(n->q) : -1;
    if (r < 0 && !tkd_expr_has_sym(n, NULL)) {
        truth_t z = tnum_check(n, 0);
        r = z == T_TRUE ? 1 : z == T_FALSE ? 0 : -1;
    }
    tkd_expr_free(n);
    if (r < 0)
        return tkd_err_set(e, TKD_EMATH, "unsupported: a family of solutions could not be checked identically");
    return r;
}

/* Is the solution a inside the family b (more free unknowns)? 1 yes, 0 no,
 * negative undecided. b's free unknowns take a's values (through temporary
 * names, as a's values may hold the same names). */
static int inside(const nl *s, const nl_sol *a, const nl_sol *b, tkd_err *e) {
    tkd_expr *tmp[NL_NV_MAX] = {0}, *bv[NL_NV_MAX] = {0}, *bc[NL_COND_MAX] = {0};
    int rc = 1;
    char names[NL_NV_MAX][24];
    for (size_t j = 0; j < s->nv; j++) {
        snprintf(names[j], sizeof names[j], "tkd_nl_%zu", j);
        if (!(tmp[j] = tkd_expr_sym(names[j])))
            rc = grew(e);
    }
    for (size_t j = 0; j < s->nv && rc == 1; j++)
        if (!(bv[j] = tkd_expr_copy(b->val[j])))
            rc = grew(e);
    for (size_t i = 0; i < b->nc && rc == 1; i++)
        if (!(bc[i] = tkd_expr_copy(b->cond[i])))
            rc = grew(e);
    /* b's unknowns -> temporaries -> a's values */
    for (int pass = 0; pass < 2 && rc == 1; pass++)
        for (size_t j = 0; j < s->nv && rc == 1; j++) {
            const char *from = pass ? names[j] : s->vars[j];
            const tkd_expr *to = pass ? a->val[j] : tmp[j];
            for (size_t k = 0; k < s->nv && rc == 1; k++) {
                tkd_expr *d = tsubst(bv[k], from, to);
                tkd_expr_free(bv[k]);
                if (!(bv[k] = d))
                    rc = grew(e);
            }
            for (size_t i = 0; i < b->nc && rc == 1; i++) {
                tkd_expr *d = tsubst(bc[i], from, to);
                tkd_expr_free(bc[i]);
                if (!(bc[i] = d))
                    rc = grew(e);
            }
        }
    /* b's conditions hold at a (newest first), and the values agree */
    for (size_t i = 0; i < b->nc && rc == 1; i++) {
        tkd_expr *none[NL_NV_MAX];
        for (size_t j = 0; j < s->nv; j++)
            none[j] = tmp[j]; /* no unknown is left in bc: a harmless substitution */
        int z = vanishes(s, bc[i], none, e);
        if (z < 0)
            rc = z;
        else if (z)
            rc = 0;
    }
    for (size_t j = 0; j < s->nv && rc == 1; j++) {
        tkd_expr *d = tkd_expr_sub(tkd_expr_copy(bv[j]), tkd_expr_copy(a->val[j]));
        tkd_expr *ids[NL_NV_MAX];
        for (size_t k = 0; k < s->nv; k++)
            ids[k] = a->val[k]; /* d holds a's free unknowns only, whose values are themselves */
        int z = d ? vanishes(s, d, ids, e) : grew(e);
        tkd_expr_free(d);
        if (z < 0)
            rc = z;
        else if (!z)
            rc = 0;
    }
    for (size_t j = 0; j < s->nv; j++) {
        tkd_expr_free(tmp[j]);
        tkd_expr_free(bv[j]);
    }
    for (size_t i = 0; i < b->nc; i++)
        tkd_expr_free(bc[i]);
    return rc;
}

static tkd_json *tuple_json(tkd_arena *ta, tkd_expr *const *vals, size_t n) {
    tkd_expr *c[NL_NV_MAX];
    for (size_t i = 0; i < n; i++)
        c[i] = tkd_expr_copy(vals[i]);
    tkd_expr *t = tkd_expr_seq(TKD_EX_TUPLE, n, c);
    char *str = t ? tkd_expr_to_str(t) : NULL;
    tkd_expr_free(t);
    tkd_json *j = str ? tkd_json_string(ta, str) : NULL;
    free(str);
    return j;
}

static int finish(tkd_arena *ta, nl *s, tkd_json **out, tkd_err *e) {
    int rc = 0;
    int *keep = calloc(s->nsol ? s->nsol : 1, sizeof *keep);
    if (!keep)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    /* each solution checked in the original equations, then written in normal form */
    for (size_t k = 0; k < s->nsol && !rc; k++) {
        nl_sol *o = &s->sol[k];
        keep[k] = 1;
        for (size_t i = 0; i < s->ne && !rc && keep[k]; i++) {
            int z = vanishes(s, s->orig[i], o->val, e);
            if (z < 0)
                rc = z;
            else
                keep[k] = z;
        }
        for (size_t j = 0; j < s->nv && !rc && keep[k]; j++) {
            tkd_expr *x = trat_normalize(o->val[j], e);
            if (x && has_fn(x) && !has_fn(o->val[j])) { /* cos(pi/20) for a product of radicals: keep these */
                tkd_expr *y = NULL;
                if (!tkd_rf_canonical(o->val[j], &y, e) && y) {
                    tkd_expr_free(x);
                    x = y;
                }
            }
            if (!x) {
                rc = e->code;
                break;
            }
            tkd_expr_free(o->val[j]);
            o->val[j] = x;
        }
    }
    /* duplicates, then solutions inside a larger family */
    char **txt = calloc(s->nsol ? s->nsol : 1, sizeof *txt);
    for (size_t k = 0; k < s->nsol && !rc && txt; k++) {
        if (!keep[k])
            continue;
        tkd_expr *c[NL_NV_MAX];
        for (size_t j = 0; j < s->nv; j++)
            c[j] = tkd_expr_copy(s->sol[k].val[j]);
        tkd_expr *t = tkd_expr_seq(TKD_EX_TUPLE, s->nv, c);
        txt[k] = t ? tkd_expr_to_str(t) : NULL;
        tkd_expr_free(t);
        if (!txt[k])
            rc = grew(e);
        for (size_t m = 0; m < k && !rc; m++)
            if (keep[m] && !strcmp(txt[m], txt[k]))
                keep[k] = 0;
    }
    if (!txt)
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    size_t maxfree = 0;
    for (size_t k = 0; k < s->nsol && !rc; k++)
        if (keep[k] && s->sol[k].nfree > maxfree)
            maxfree = s->sol[k].nfree;
    for (size_t k = 0; k < s->nsol && !rc; k++) {
        if (!keep[k] || s->sol[k].nfree == maxfree)
            continue;
        int in = 0;
        for (size_t m = 0; m < s->nsol && !rc && !in; m++) {
            if (!keep[m] || s->sol[m].nfree <= s->sol[k].nfree)
                continue;
            int z = inside(s, &s->sol[k], &s->sol[m], e);
            if (z < 0)
                rc = z;
            else
                in = z;
        }
        if (rc)
            break;
        if (!in)
            rc = tkd_err_set(e, TKD_EMATH,
                             "unsupported: the solutions are families of different dimensions (or points off a "
                             "family), which are not listed here");
        keep[k] = 0;
    }
    tkd_json *arr = rc ? NULL : tkd_json_new(ta, TKD_JSON_ARR);
    for (size_t k = 0; k < s->nsol && arr && !rc; k++) {
        if (!keep[k])
            continue;
        tkd_json *j = tuple_json(ta, s->sol[k].val, s->nv);
        if (!j || tkd_json_push(ta, arr, j))
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    for (size_t k = 0; txt && k < s->nsol; k++)
        free(txt[k]);
    free(txt);
    free(keep);
    if (!rc)
        *out = arr;
    return rc;
}

int tnl_solve(tkd_arena *ta, const char *const *vars, size_t nv, tkd_expr *const *eqs, size_t ne, tkd_json **out,
              tkd_err *e) {
    if (nv > NL_NV_MAX || ne > NL_EQ_MAX)
        return tkd_err_set(e, TKD_ELIMIT, "too many equations or unknowns");
    nl *s = calloc(1, sizeof *s);
    if (!s)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    s->vars = vars;
    s->nv = nv;
    s->orig = eqs;
    s->ne = ne;
    br b;
    memset(&b, 0, sizeof b);
    int rc = 0;
    for (size_t i = 0; i < ne && !rc; i++) {
        rc = br_add_eq(&b, tkd_expr_copy(eqs[i]), e);
        /* the denominators of the equations stay nonzero */
        tkd_rf t;
        fmpz_mpoly_q_t r;
        if (!rc && !trat_from_ast(&t, eqs[i], vars, nv, &r, e)) {
            const fmpz_mpoly_struct *D = fmpz_mpoly_q_denref(r);
            if (!fmpz_mpoly_is_fmpz(D, t.ctx))
                rc = br_add_cond(&b, tkd_rf_poly_to_expr(&t, D, NULL), e);
            fmpz_mpoly_q_clear(r, t.ctx);
            tkd_rf_clear(&t);
        } else if (!rc) {
            rc = e->code;
        }
    }
    if (!rc)
        rc = nl_go(s, &b, 0, e);
    br_free(&b);
    if (!rc)
        rc = finish(ta, s, out, e);
    for (size_t k = 0; k < s->nsol; k++)
        sol_free(&s->sol[k]);
    free(s);
    return rc;
}
