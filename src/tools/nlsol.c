/*
 * solve_nonlinear_system: the final check (nlsys_int.h). Every solution the
 * branches found is checked in the original equations (numbers exactly with
 * Calcium, families identically as rational functions), written in normal
 * form, and merged: a repeat or a point or family inside a larger family is
 * dropped. SymPy lists families of one dimension, so a mix that remains is
 * refused rather than answered.
 */
#include <stdlib.h>
#include <string.h>

#include "nlsys_int.h"

void tnl_sol_free(nl_sol *o) {
    for (size_t j = 0; j < NL_NV_MAX; j++)
        tkd_expr_free(o->val[j]);
    for (size_t i = 0; i < o->nc; i++)
        tkd_expr_free(o->cond[i]);
    memset(o, 0, sizeof *o);
}

static int has_fn(const tkd_expr *x) {
    if (x->kind == TKD_EX_FUNC)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (has_fn(x->args[i]))
            return 1;
    return 0;
}

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
        return tnl_grew(e);
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
    char names[NL_NV_MAX][32];
    for (size_t j = 0; j < s->nv; j++) {
        snprintf(names[j], sizeof names[j], "tkd_nl_%zu", j);
        if (!(tmp[j] = tkd_expr_sym(names[j])))
            rc = tnl_grew(e);
    }
    for (size_t j = 0; j < s->nv && rc == 1; j++)
        if (!(bv[j] = tkd_expr_copy(b->val[j])))
            rc = tnl_grew(e);
    for (size_t i = 0; i < b->nc && rc == 1; i++)
        if (!(bc[i] = tkd_expr_copy(b->cond[i])))
            rc = tnl_grew(e);
    /* b's unknowns -> temporaries -> a's values */
    for (int pass = 0; pass < 2 && rc == 1; pass++)
        for (size_t j = 0; j < s->nv && rc == 1; j++) {
            const char *from = pass ? names[j] : s->vars[j];
            const tkd_expr *to = pass ? a->val[j] : tmp[j];
            for (size_t k = 0; k < s->nv && rc == 1; k++) {
                tkd_expr *d = tsubst(bv[k], from, to);
                tkd_expr_free(bv[k]);
                if (!(bv[k] = d))
                    rc = tnl_grew(e);
            }
            for (size_t i = 0; i < b->nc && rc == 1; i++) {
                tkd_expr *d = tsubst(bc[i], from, to);
                tkd_expr_free(bc[i]);
                if (!(bc[i] = d))
                    rc = tnl_grew(e);
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
        int z = d ? vanishes(s, d, ids, e) : tnl_grew(e);
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

/* Are a and b one solution written twice (a point found in two branches, in
 * two forms)? 1 yes, 0 no, negative undecided (e set). */
static int same_sol(const nl *s, const nl_sol *a, const nl_sol *b, tkd_err *e) {
    if (a->nfree != b->nfree)
        return 0;
    for (size_t j = 0; j < s->nv; j++) {
        int fa = a->val[j]->kind == TKD_EX_SYM && !strcmp(a->val[j]->name, s->vars[j]);
        int fb = b->val[j]->kind == TKD_EX_SYM && !strcmp(b->val[j]->name, s->vars[j]);
        if (fa != fb)
            return 0;
    }
    if (a->nfree) { /* one family in two forms: harmless when undecided */
        tkd_err e2 = {0};
        return inside(s, a, b, &e2) == 1;
    }
    for (size_t j = 0; j < s->nv; j++) {
        if (tkd_expr_equal(a->val[j], b->val[j]))
            continue;
        tkd_expr *d = tkd_expr_sub(tkd_expr_copy(a->val[j]), tkd_expr_copy(b->val[j]));
        if (!d)
            return tnl_grew(e);
        if (tkd_expr_has_sym(d, NULL)) { /* values in the parameters: their normal forms */
            tkd_err e2 = {0};
            tkd_expr *n = trat_normalize(d, &e2);
            int zero = n && n->kind == TKD_EX_NUM && fmpq_is_zero(n->q);
            tkd_expr_free(n);
            tkd_expr_free(d);
            if (!zero)
                return 0;
            continue;
        }
        truth_t z = tnum_check(d, 0);
        double re = 0, im = 0;
        tkd_err e2 = {0};
        int far = z == T_UNKNOWN && !tkd_expr_eval_double(d, 0, NULL, NULL, &re, &im, &e2) && re * re + im * im > 1e-12;
        tkd_expr_free(d);
        if (z == T_FALSE || far)
            return 0;
        if (z == T_UNKNOWN)
            return tkd_err_set(e, TKD_EMATH, "unsupported: whether two solutions are one could not be decided");
    }
    return 1;
}

/* The integer coefficient of a term of a sum (1 for x*y; 0 when rational). */
static int term_coeff(const tkd_expr *t, fmpz_t c) {
    const tkd_expr *n = t->kind == TKD_EX_NUM                                     ? t
                        : t->kind == TKD_EX_MUL && t->args[0]->kind == TKD_EX_NUM ? t->args[0]
                                                                                  : NULL;
    if (!n) {
        fmpz_one(c);
        return 1;
    }
    if (!fmpz_is_one(fmpq_denref(n->q)))
        return 0;
    fmpz_set(c, fmpq_numref(n->q));
    return 1;
}

/* x with each sqrt(P) of a polynomial with integer coefficients whose content
 * has a square factor s**2 written s*sqrt(P/s**2) (exact: s**2 > 0). NULL on
 * ENOMEM. */
static tkd_expr *tidy_sqrt(const tkd_expr *x) {
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t i = 0; c && i < c->n; i++) {
        tkd_expr *a = tidy_sqrt(c->args[i]);
        if (!a) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = a;
    }
    if (!c || c->kind != TKD_EX_POW || c->args[0]->kind != TKD_EX_ADD || c->args[1]->kind != TKD_EX_NUM ||
        fmpz_cmp_ui(fmpq_numref(c->args[1]->q), 1) || fmpz_cmp_ui(fmpq_denref(c->args[1]->q), 2))
        return c;
    fmpz_t g, t, sq;
    fmpz_init(g);
    fmpz_init(t);
    fmpz_init(sq);
    int ok = 1;
    for (size_t i = 0; ok && i < c->args[0]->n; i++) {
        ok = term_coeff(c->args[0]->args[i], t);
        fmpz_gcd(g, g, t);
    }
    /* the largest square dividing g (small contents only) */
    fmpz_one(sq);
    if (ok && fmpz_cmp_ui(g, 1) > 0 && fmpz_cmp_ui(g, 1000000) < 0) {
        ulong v = fmpz_get_ui(g);
        for (ulong p = 2; p * p <= v; p++)
            while (v % (p * p) == 0) {
                v /= p * p;
                fmpz_mul_ui(sq, sq, p);
            }
    }
    tkd_expr *out = c;
    if (fmpz_cmp_ui(sq, 1) > 0) {
        fmpq_t inv;
        fmpq_init(inv);
        fmpz_mul(fmpq_denref(inv), sq, sq);
        fmpz_one(fmpq_numref(inv));
        tkd_expr *base = tkd_expr_mul2(tkd_expr_fmpq(inv), tkd_expr_copy(c->args[0])), *nb = NULL;
        tkd_err e2 = {0};
        if (base && !tkd_rf_canonical(base, &nb, &e2) && nb) {
            tkd_expr_free(base);
            base = nb;
        }
        out = tkd_expr_mul2(tkd_expr_fmpz(sq), tkd_expr_sqrt(base));
        fmpq_clear(inv);
        tkd_expr_free(c);
    }
    fmpz_clear(g);
    fmpz_clear(t);
    fmpz_clear(sq);
    return out;
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

int tnl_finish(tkd_arena *ta, nl *s, tkd_json **out, tkd_err *e) {
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
            tkd_expr *y = tidy_sqrt(x); /* sqrt(200 - 4*z**2) -> 2*sqrt(50 - z**2) */
            tkd_expr *yn = y ? trat_normalize(y, e) : NULL;
            tkd_expr_free(y);
            if (yn) {
                tkd_expr_free(x);
                x = yn;
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
            rc = tnl_grew(e);
        for (size_t m = 0; m < k && !rc && keep[k]; m++) {
            if (!keep[m])
                continue;
            int z = strcmp(txt[m], txt[k]) ? same_sol(s, &s->sol[k], &s->sol[m], e) : 1;
            if (z < 0)
                rc = z;
            else if (z)
                keep[k] = 0;
        }
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
