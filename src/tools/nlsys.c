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

#include "nlsys_int.h"

#include <flint/fmpz_mpoly_factor.h>

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

int tnl_grew(tkd_err *e) {
    return tkd_err_set(e, TKD_ELIMIT, "unsupported: the system's expressions grow too large to solve here");
}

static int br_add_eq(br *b, tkd_expr *x, tkd_err *e) {
    if (!x)
        return tnl_grew(e);
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
        return tnl_grew(e);
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
            rc = tnl_grew(e);
    }
    for (size_t i = 0; i < b->nc && !rc; i++) {
        if (!(out->cond[i] = sub_or_copy(b->cond[i], var, v)))
            rc = tnl_grew(e);
        out->nc = i + 1;
    }
    if (rc)
        br_free(out);
    return rc;
}

/* ---- branches ---- */

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
            rc = tnl_grew(e);
    }
    for (size_t i = 0; i < b->nc && !rc; i++)
        if (!(o->cond[o->nc++] = tkd_expr_copy(b->cond[i])))
            rc = tnl_grew(e);
    s->nsol++; /* freed with the others even on error */
    return rc;
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
    int rc = value ? br_derive(s, cb, i, var, value, &child, e) : tnl_grew(e);
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

/* Is the number x (raw) or its normal form xn zero? Calcium decides the raw
 * tree best: a normal form may write a product of radicals with cosines. */
static truth_t num_zero(const tkd_expr *x, const tkd_expr *xn) {
    truth_t z = tnum_check(x, 0);
    return z == T_UNKNOWN && xn ? tnum_check(xn, 0) : z;
}

/* A polynomial (or rational function) in symbols and numbers: no function
 * or radical of a symbol, so nonzero as a normal form means generically nonzero. */
static int param_poly(const tkd_expr *x) {
    if (x->kind == TKD_EX_FUNC)
        return 0;
    if (x->kind == TKD_EX_POW && tkd_expr_has_sym(x->args[0], NULL) &&
        !(x->args[1]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(x->args[1]->q))))
        return 0;
    for (size_t i = 0; i < x->n; i++)
        if (!param_poly(x->args[i]))
            return 0;
    return 1;
}

static int has_open(const tkd_expr *x, const char *const *open, size_t no) {
    for (size_t j = 0; j < no; j++)
        if (tkd_expr_has_sym(x, open[j]))
            return 1;
    return 0;
}

/* The step on a branch whose equations are normalized (cb owned by the
 * caller; every equation has an open unknown). */
static int nl_step(nl *s, br *cb, nl_pctx *c, int depth, tkd_err *e);

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
            if (tkd_expr_has_sym(x, NULL)) { /* a nonzero polynomial in the parameters: none, as SymPy takes them */
                int poly = param_poly(x);
                tkd_expr_free(x);
                if (poly) {
                    dead = 1;
                    continue;
                }
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
            rc = tnl_grew(e);
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
    nl_pctx c;
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

static int factor_index(nl_pctx *c, const eqinfo *q, const fmpz_mpoly_t f) {
    for (size_t k = 0; k < q->nf; k++)
        if (fmpz_mpoly_equal(q->f + k, f, c->t.ctx))
            return (int)k;
    return -1;
}

/* The product of an equation's open factors (its squarefree part) as a tree. */
static tkd_expr *sqfree_expr(nl_pctx *c, const eqinfo *q) {
    fmpz_mpoly_t p;
    fmpz_mpoly_init(p, c->t.ctx);
    fmpz_mpoly_one(p, c->t.ctx);
    for (size_t k = 0; k < q->nf; k++)
        fmpz_mpoly_mul(p, p, q->f + k, c->t.ctx);
    tnl_reduce_poly(c, p);
    tkd_expr *x = tkd_rf_poly_to_expr(&c->t, p, NULL);
    fmpz_mpoly_clear(p, c->t.ctx);
    return x;
}

/* One step's view of a branch: its equations as polynomials. The st_*
 * functions answer 1 when they took the step (the branch is done), 0 when
 * they do not apply, negative on error. */
typedef struct step {
    nl *s;
    br *cb;
    nl_pctx *c;
    int depth;
    eqinfo *q;
    size_t n, n0; /* equations now, and as read (q's size) */
} step;

/* The numerators factored (1: a nonzero constant, no solution), equal
 * equations merged, and cb's equations made their squarefree parts. */
static int st_read(step *t, tkd_err *e) {
    nl_pctx *c = t->c;
    eqinfo *q = t->q;
    int rc = 0;
    fmpz_mpoly_t P;
    fmpz_mpoly_q_t r;
    fmpz_mpoly_factor_t fac;
    fmpz_mpoly_init(P, c->t.ctx);
    fmpz_mpoly_q_init(r, c->t.ctx);
    fmpz_mpoly_factor_init(fac, c->t.ctx);
    for (size_t i = 0; i < t->n && !rc; i++) {
        tkd_expr *p = trat_prep(t->cb->eq[i], e);
        rc = p ? tkd_rf_conv(&c->t, r, p, e) : e->code;
        tkd_expr_free(p);
        if (rc)
            break;
        fmpz_mpoly_set(P, fmpz_mpoly_q_numref(r), c->t.ctx);
        if ((q[i].opaque = (tnl_poly_kinds(c, P) & G_ATOM_OPEN) != 0))
            continue;
        if ((rc = tnl_clean_poly(c, P, e)))
            break;
        if (fmpz_mpoly_is_zero(P, c->t.ctx)) {
            q[i].drop = 1;
            continue;
        }
        if (!(tnl_poly_kinds(c, P) & G_OPEN)) { /* a nonzero number or polynomial in the parameters: none */
            rc = (tnl_poly_kinds(c, P) & G_ATOM_PARAM)
                     ? tkd_err_set(e, TKD_EMATH,
                                   "unsupported: the system has solutions only for special values of its parameters")
                     : 1;
            break;
        }
        if (!fmpz_mpoly_factor(fac, P, c->t.ctx)) {
            rc = tkd_err_set(e, TKD_EMATH, "unsupported: an equation of the system could not be factored");
            break;
        }
        for (slong k = 0; k < fac->num && !rc; k++) {
            int kk = tnl_poly_kinds(c, fac->poly + k);
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
            tnl_normal_poly(c, f);
            if (factor_index(c, q + i, f) >= 0)
                fmpz_mpoly_clear(f, c->t.ctx);
            else
                q[i].nf++;
        }
    }
    fmpz_mpoly_clear(P, c->t.ctx);
    fmpz_mpoly_q_clear(r, c->t.ctx);
    fmpz_mpoly_factor_clear(fac, c->t.ctx);
    if (rc)
        return rc;
    /* equal equations merge */
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < i && !q[i].drop; j++) {
            if (q[j].drop || q[i].opaque != q[j].opaque)
                continue;
            if (q[i].opaque) {
                q[i].drop = tkd_expr_equal(t->cb->eq[i], t->cb->eq[j]);
                continue;
            }
            int same = q[i].nf == q[j].nf;
            for (size_t k = 0; same && k < q[i].nf; k++)
                same = factor_index(c, q + j, q[i].f + k) >= 0;
            q[i].drop = same;
        }
    /* the branch's equations from here on: the squarefree parts, kept first in q */
    br nb;
    memset(&nb, 0, sizeof nb);
    size_t map = 0;
    for (size_t i = 0; i < t->n && !rc; i++) {
        if (q[i].drop)
            continue;
        rc = br_add_eq(&nb, q[i].opaque ? tkd_expr_copy(t->cb->eq[i]) : sqfree_expr(c, q + i), e);
        if (!rc && map != i) {
            eqinfo x = q[map];
            q[map] = q[i];
            q[i] = x;
        }
        map++;
    }
    for (size_t i = 0; i < t->cb->ne; i++)
        tkd_expr_free(t->cb->eq[i]);
    memcpy(t->cb->eq, nb.eq, sizeof nb.eq);
    t->cb->ne = nb.ne;
    t->n = nb.ne;
    return rc;
}

/* Split over the factors of the equation with the fewest (>= 2); an equation
 * that shares the factor is met in that branch. */
static int st_split(step *t, tkd_err *e) {
    eqinfo *q = t->q;
    long best = -1;
    for (size_t i = 0; i < t->n; i++)
        if (!q[i].opaque && q[i].nf >= 2 && (best < 0 || q[i].nf < q[best].nf))
            best = (long)i;
    if (best < 0)
        return 0;
    int rc = 0;
    for (size_t k = 0; k < q[best].nf && !rc; k++) {
        br child;
        memset(&child, 0, sizeof child);
        if ((rc = br_derive(t->s, t->cb, -1, NULL, NULL, &child, e)))
            break;
        for (size_t i = 0; i < child.ne; i++)
            tkd_expr_free(child.eq[i]);
        child.ne = 0;
        rc = br_add_eq(&child, tkd_rf_poly_to_expr(&t->c->t, q[best].f + k, NULL), e);
        for (size_t i = 0; i < t->n && !rc; i++)
            if ((long)i != best && (q[i].opaque || factor_index(t->c, q + i, q[best].f + k) < 0))
                rc = br_add_eq(&child, tkd_expr_copy(t->cb->eq[i]), e);
        if (rc)
            br_free(&child);
        else
            rc = go_child(t->s, &child, t->depth, e);
    }
    return rc ? rc : 1;
}

/* An equation in one open unknown (the lowest degree): its roots. */
static int st_roots(step *t, tkd_err *e) {
    nl_pctx *c = t->c;
    long best = -1;
    slong bdeg = 0;
    size_t bv = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t cnt = 0, jv = 0;
        for (size_t j = 0; j < c->no; j++)
            if (tkd_expr_has_sym(t->cb->eq[i], c->open[j]))
                cnt++, jv = j;
        if (cnt != 1)
            continue;
        slong d = t->q[i].opaque ? 1000 : fmpz_mpoly_degree_si(t->q[i].f, c->ov[jv], c->t.ctx);
        if (best < 0 || d < bdeg)
            best = (long)i, bdeg = d, bv = jv;
    }
    if (best < 0)
        return 0;
    int rc = branch_roots(t->s, t->cb, best, t->cb->eq[best], c->open[bv], t->depth, e);
    return rc ? rc : 1;
}

/* An unknown x that appears linearly, c1*x + c0 = 0, becomes -c0/c1: with
 * poly 0 only where c1 is a number or holds parameters only (c1 != 0 as SymPy
 * takes them); with poly 1 also where c1 holds open unknowns, then with the
 * condition c1 != 0 and the branch c1 = c0 = 0. The simplest c1 first. */
static int st_linear(step *t, int poly, tkd_err *e) {
    nl_pctx *c = t->c;
    long li = -1;
    size_t lv = 0;
    slong bscore = 0;
    ulong one = 1, zero = 0;
    fmpz_mpoly_t C0, C1;
    fmpz_mpoly_init(C0, c->t.ctx);
    fmpz_mpoly_init(C1, c->t.ctx);
    for (size_t i = 0; i < t->n; i++) {
        if (t->q[i].opaque)
            continue;
        for (size_t j = 0; j < c->no; j++) {
            if (fmpz_mpoly_degree_si(t->q[i].f, c->ov[j], c->t.ctx) != 1)
                continue;
            fmpz_mpoly_get_coeff_vars_ui(C1, t->q[i].f, c->ov + j, &one, 1, c->t.ctx);
            fmpz_mpoly_get_coeff_vars_ui(C0, t->q[i].f, c->ov + j, &zero, 1, c->t.ctx);
            slong sc = tnl_coeff_class(c, C1) * 1000000 + fmpz_mpoly_length(C1, c->t.ctx) * 1000 +
                       fmpz_mpoly_length(C0, c->t.ctx);
            if (li < 0 || sc < bscore)
                li = (long)i, lv = j, bscore = sc;
        }
    }
    int rc = 0, cls = 0;
    if (li >= 0) {
        fmpz_mpoly_get_coeff_vars_ui(C1, t->q[li].f, c->ov + lv, &one, 1, c->t.ctx);
        fmpz_mpoly_get_coeff_vars_ui(C0, t->q[li].f, c->ov + lv, &zero, 1, c->t.ctx);
        cls = tnl_coeff_class(c, C1);
    }
    if (li >= 0 && (cls < 2 || poly)) {
        tkd_expr *cond = cls ? tkd_rf_poly_to_expr(&c->t, C1, NULL) : NULL;
        rc = cls && !cond ? tnl_grew(e)
                          : branch_subst(t->s, t->cb, li, c->open[lv], tnl_quotient_expr(c, C0, C1), cond, t->depth, e);
        if (!rc && cls == 2) {
            tkd_expr *xs[2] = {tkd_rf_poly_to_expr(&c->t, C1, NULL), tkd_rf_poly_to_expr(&c->t, C0, NULL)};
            rc = branch_replace(t->s, t->cb, li, xs, 2, t->depth, e);
        }
        rc = rc ? rc : 1;
    }
    fmpz_mpoly_clear(C0, c->t.ctx);
    fmpz_mpoly_clear(C1, c->t.ctx);
    return rc;
}

/* Row reduction over the monomials, when it lowers degrees or unknowns. */
static int st_rows(step *t, tkd_err *e) {
    nl_pctx *c = t->c;
    size_t m = 0;
    fmpz_mpoly_struct g[NL_EQ_MAX];
    for (size_t i = 0; i < t->n; i++)
        if (!t->q[i].opaque) {
            fmpz_mpoly_init(g + m, c->t.ctx);
            fmpz_mpoly_set(g + m, t->q[i].f, c->t.ctx);
            m++;
        }
    int useful = 0, rc = m >= 2 ? tnl_row_reduce(c, g, m, &useful, e) : 0;
    if (!rc && useful) {
        br child;
        rc = br_derive(t->s, t->cb, -1, NULL, NULL, &child, e);
        if (!rc) {
            for (size_t i = 0; i < child.ne; i++)
                tkd_expr_free(child.eq[i]);
            child.ne = 0;
            for (size_t i = 0; i < t->n && !rc; i++)
                if (t->q[i].opaque)
                    rc = br_add_eq(&child, tkd_expr_copy(t->cb->eq[i]), e);
            for (size_t k = 0; k < m && !rc; k++)
                if (!fmpz_mpoly_is_zero(g + k, c->t.ctx))
                    rc = br_add_eq(&child, tkd_rf_poly_to_expr(&c->t, g + k, NULL), e);
            if (rc)
                br_free(&child);
            else
                rc = go_child(t->s, &child, t->depth, e);
        }
    }
    for (size_t k = 0; k < m; k++)
        fmpz_mpoly_clear(g + k, c->t.ctx);
    return rc ? rc : useful;
}

/* The resultant of two equations that share an unknown joins the system
 * (the one with the fewest unknowns, then the lowest degree); a nonzero
 * constant one means no common root. */
static int st_resultant(step *t, tkd_err *e) {
    nl_pctx *c = t->c;
    eqinfo *q = t->q;
    fmpz_mpoly_t R, best;
    fmpz_mpoly_init(R, c->t.ctx);
    fmpz_mpoly_init(best, c->t.ctx);
    int have = 0, tries = 0, rc = 0;
    size_t bcnt = 0;
    slong bdeg = 0;
    for (size_t i = 0; i < t->n && !rc && have < 2; i++)
        for (size_t j = i + 1; j < t->n && !rc && have < 2; j++) {
            if (q[i].opaque || q[j].opaque || fmpz_mpoly_length(q[i].f, c->t.ctx) > NL_RES_IN_LEN ||
                fmpz_mpoly_length(q[j].f, c->t.ctx) > NL_RES_IN_LEN)
                continue;
            for (size_t v = 0; v < c->no && !rc && have < 2 && tries < NL_RES_TRIES; v++) {
                slong di = fmpz_mpoly_degree_si(q[i].f, c->ov[v], c->t.ctx);
                slong dj = fmpz_mpoly_degree_si(q[j].f, c->ov[v], c->t.ctx);
                if (di <= 0 || dj <= 0 || di + dj > NL_RES_DEG)
                    continue;
                tries++;
                if (!fmpz_mpoly_resultant(R, q[i].f, q[j].f, c->ov[v], c->t.ctx))
                    continue;
                tnl_reduce_poly(c, R);
                if ((rc = tnl_clean_poly(c, R, e)))
                    break;
                if (fmpz_mpoly_is_zero(R, c->t.ctx) || fmpz_mpoly_length(R, c->t.ctx) > NL_RES_LEN)
                    continue;
                tnl_normal_poly(c, R);
                if (!(tnl_poly_kinds(c, R) & G_OPEN)) {
                    if (!(tnl_poly_kinds(c, R) & (G_PARAM | G_ATOM_PARAM)))
                        have = 2; /* a nonzero number */
                    continue;
                }
                int known = 0;
                for (size_t k = 0; k < t->n && !known; k++)
                    known = !q[k].opaque && fmpz_mpoly_equal(q[k].f, R, c->t.ctx);
                size_t cnt = tnl_open_count(c, R);
                slong d = fmpz_mpoly_total_degree_si(R, c->t.ctx);
                if (!known && (!have || cnt < bcnt || (cnt == bcnt && d < bdeg))) {
                    fmpz_mpoly_swap(best, R, c->t.ctx);
                    have = 1, bcnt = cnt, bdeg = d;
                }
            }
        }
    if (!rc && have == 1) {
        br child;
        rc = br_derive(t->s, t->cb, -1, NULL, NULL, &child, e);
        if (!rc) {
            if ((rc = br_add_eq(&child, tkd_rf_poly_to_expr(&c->t, best, NULL), e)))
                br_free(&child);
            else
                rc = go_child(t->s, &child, t->depth, e);
        }
    }
    fmpz_mpoly_clear(R, c->t.ctx);
    fmpz_mpoly_clear(best, c->t.ctx);
    return rc ? rc : have != 0;
}

/* An unknown of degree 2 in one equation and in no other: the formula, with
 * c2 != 0 (a condition when c2 holds unknowns, next to the branch c2 = 0). */
static int st_quadratic(step *t, tkd_err *e) {
    nl_pctx *c = t->c;
    for (size_t i = 0; i < t->n; i++) {
        if (t->q[i].opaque)
            continue;
        for (size_t j = 0; j < c->no; j++) {
            if (fmpz_mpoly_degree_si(t->q[i].f, c->ov[j], c->t.ctx) != 2)
                continue;
            int alone = 1;
            for (size_t k = 0; k < t->n && alone; k++)
                alone = k == i || !tkd_expr_has_sym(t->cb->eq[k], c->open[j]);
            if (!alone)
                continue;
            ulong ex[3] = {0, 1, 2};
            fmpz_mpoly_t C[3];
            for (int k = 0; k < 3; k++) {
                fmpz_mpoly_init(C[k], c->t.ctx);
                fmpz_mpoly_get_coeff_vars_ui(C[k], t->q[i].f, c->ov + j, ex + k, 1, c->t.ctx);
            }
            int cls = tnl_coeff_class(c, C[2]), rc = 0;
            tkd_expr *cond = cls ? tkd_rf_poly_to_expr(&c->t, C[2], NULL) : NULL;
            tlist roots = {0};
            rc = cls && !cond ? tnl_grew(e) : troots(t->cb->eq[i], c->open[j], &roots, 0, e);
            for (size_t k = 0; k < roots.n && !rc; k++)
                rc = branch_subst(t->s, t->cb, (long)i, c->open[j], tkd_expr_copy(roots.v[k]),
                                  cond ? tkd_expr_copy(cond) : NULL, t->depth, e);
            tlist_free(&roots);
            tkd_expr_free(cond);
            if (!rc && cls == 2) { /* c2 = 0: the equation is c1*x + c0 = 0 */
                fmpz_mpoly_t L;
                fmpz_mpoly_init(L, c->t.ctx);
                fmpz_mpoly_gen(L, c->ov[j], c->t.ctx);
                fmpz_mpoly_mul(L, L, C[1], c->t.ctx);
                fmpz_mpoly_add(L, L, C[0], c->t.ctx);
                tkd_expr *xs[2] = {tkd_rf_poly_to_expr(&c->t, C[2], NULL), tkd_rf_poly_to_expr(&c->t, L, NULL)};
                fmpz_mpoly_clear(L, c->t.ctx);
                rc = branch_replace(t->s, t->cb, (long)i, xs, 2, t->depth, e);
            }
            for (int k = 0; k < 3; k++)
                fmpz_mpoly_clear(C[k], c->t.ctx);
            return rc ? rc : 1;
        }
    }
    return 0;
}

static int st_linear_num(step *t, tkd_err *e) {
    return st_linear(t, 0, e);
}

static int st_linear_poly(step *t, tkd_err *e) {
    return st_linear(t, 1, e);
}

static int nl_step(nl *s, br *cb, nl_pctx *c, int depth, tkd_err *e) {
    step t = {s, cb, c, depth, calloc(cb->ne ? cb->ne : 1, sizeof(eqinfo)), cb->ne, cb->ne};
    if (!t.q)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    int rc = st_read(&t, e);
    if (!rc && t.n == 0 && !(rc = nl_go(s, cb, depth + 1, e)))
        rc = 1;
    /* in order: the cheapest step that keeps the equations simplest */
    static int (*const steps[])(step *, tkd_err *) = {st_split,       st_roots,     st_linear_num, st_rows,
                                                      st_linear_poly, st_resultant, st_quadratic};
    for (size_t k = 0; !rc && k < sizeof steps / sizeof *steps; k++)
        rc = steps[k](&t, e);
    if (!rc)
        rc = tkd_err_set(e, TKD_EMATH, "unsupported: this system (no equation could be solved for one variable)");
    for (size_t i = 0; i < t.n0; i++)
        for (size_t k = 0; k < t.q[i].nf; k++)
            fmpz_mpoly_clear(t.q[i].f + k, c->t.ctx);
    free(t.q);
    return rc < 0 ? rc : 0;
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
        rc = tnl_finish(ta, s, out, e);
    for (size_t k = 0; k < s->nsol; k++)
        tnl_sol_free(&s->sol[k]);
    free(s);
    return rc;
}
