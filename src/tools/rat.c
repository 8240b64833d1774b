/*
 * Rational functions for the tools: an expression becomes an element of
 * Q(g1, ..., gn), a quotient of FLINT multivariate polynomials (Calcium's
 * fmpz_mpoly_q, kept canonical: cancelled, positive leading denominator),
 * whose generators are the free symbols and the "atoms": subexpressions that
 * are not rational in them (sin(x), exp(x), sqrt(x + 1), pi, sqrt(2), x**y).
 * Atoms are opaque, so every identity this layer uses holds for any value of
 * them: the canonical form is always right, if not always the shortest.
 * Numeric subexpressions are first made canonical by Calcium (sqrt(8) ->
 * 2*sqrt(2)), and powers of numeric radicals are reduced (sqrt(2)**2 -> 2).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

static tkd_expr *prep(const tkd_expr *x, tkd_err *e);

static int is_num(const tkd_expr *x) {
    return x->kind == TKD_EX_NUM || x->kind == TKD_EX_DEC;
}
static int is_int_num(const tkd_expr *x) {
    return is_num(x) && fmpz_is_one(fmpq_denref(x->q));
}

/* Normalize one expression through a round trip of its own (atom arguments). */
tkd_expr *trat_normalize(const tkd_expr *x, tkd_err *e) {
    trat t;
    fmpz_mpoly_q_t r;
    tkd_expr *p = prep(x, e);
    if (!p)
        return NULL;
    if (trat_init(&t, (const tkd_expr *const *)&p, 1, NULL, 0, e)) {
        tkd_expr_free(p);
        return NULL;
    }
    fmpz_mpoly_q_init(r, t.m);
    tkd_expr *out = NULL;
    if (!trat_conv(&t, p, r, e))
        out = trat_to_ast(&t, r);
    fmpz_mpoly_q_clear(r, t.m);
    trat_clear(&t);
    tkd_expr_free(p);
    return out;
}

/* A prepared copy: numeric subtrees made canonical by Calcium, atom
 * arguments normalized. NULL and e set on error. */
static tkd_expr *prep(const tkd_expr *x, tkd_err *e) {
    if (x->kind == TKD_EX_NUM || x->kind == TKD_EX_DEC || x->kind == TKD_EX_SYM)
        return tkd_expr_copy(x);
    if (x->kind != TKD_EX_ADD && x->kind != TKD_EX_MUL && x->kind != TKD_EX_POW && x->kind != TKD_EX_FUNC &&
        x->kind != TKD_EX_CONST) {
        tkd_err_set(e, TKD_EINVAL, "expected an algebraic expression here, not a list, set, relation or matrix");
        return NULL;
    }
    if (x->kind == TKD_EX_CONST && x->op == TKD_C_OO) {
        tkd_err_set(e, TKD_EMATH, "oo (infinity) cannot be used in this expression");
        return NULL;
    }
    if (!tkd_expr_has_sym(x, NULL) && x->kind != TKD_EX_CONST) {
        ca_ctx_t ctx;
        ca_t v;
        tca_ctx_init(ctx);
        ca_init(v, ctx);
        tkd_err e2 = {0};
        tkd_expr *r = NULL;
        int rc = tkd_expr_to_ca(v, x, ctx, &e2);
        if (!rc && ca_check_is_number(v, ctx) == T_TRUE)
            r = tkd_expr_from_ca(v, ctx, &e2);
        ca_clear(v, ctx);
        ca_ctx_clear(ctx);
        if (r)
            return r;
        if (rc == TKD_EMATH || rc == TKD_ELIMIT) { /* 1/0, log(0), 2**(10**10): say so */
            *e = e2;
            return NULL;
        }
        /* otherwise keep the tree as written (an atom) */
    }
    tkd_expr *c = tkd_expr_copy(x);
    if (!c) {
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++) {
        tkd_expr *a = c->kind == TKD_EX_FUNC ? trat_normalize(c->args[i], e) : prep(c->args[i], e);
        if (!a) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = a;
    }
    return c;
}

tkd_expr *trat_prep(const tkd_expr *x, tkd_err *e) {
    return prep(x, e);
}

/* ---- generators ---- */

static int find_gen(const trat *t, const tkd_expr *x) {
    for (size_t i = 0; i < t->n; i++)
        if (tkd_expr_equal(t->gen[i], x))
            return (int)i;
    return -1;
}

static int add_gen(trat *t, const tkd_expr *x, tkd_err *e) {
    if (find_gen(t, x) >= 0)
        return 0;
    if (t->n == TRAT_GENS_MAX)
        return tkd_err_set(e, TKD_ELIMIT, "the expression has more than %d distinct symbols and function terms",
                           TRAT_GENS_MAX);
    if (!(t->gen[t->n] = tkd_expr_copy(x)))
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    t->n++;
    return 0;
}

static int collect(trat *t, const tkd_expr *x, int syms, tkd_err *e) {
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: return 0;
    case TKD_EX_SYM: return syms ? add_gen(t, x, e) : 0;
    case TKD_EX_ADD:
    case TKD_EX_MUL:
        for (size_t i = 0; i < x->n; i++)
            if (collect(t, x->args[i], syms, e))
                return e->code;
        return 0;
    case TKD_EX_POW:
        if (is_int_num(x->args[1]))
            return collect(t, x->args[0], syms, e);
        return syms ? 0 : add_gen(t, x, e);
    case TKD_EX_FUNC:
    case TKD_EX_CONST: return syms ? 0 : add_gen(t, x, e);
    default: return tkd_err_set(e, TKD_EINVAL, "expected an algebraic expression, not a list, set or relation");
    }
}

static int cmp_sym(const void *a, const void *b) {
    const tkd_expr *x = *(tkd_expr *const *)a, *y = *(tkd_expr *const *)b;
    return strcmp(x->name, y->name);
}

int trat_init(trat *t, const tkd_expr *const *xs, size_t nx, const char *const *vars, size_t nv, tkd_err *e) {
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < nv; i++) {
        tkd_expr *s = tkd_expr_sym(vars[i]);
        int rc = s ? add_gen(t, s, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        tkd_expr_free(s);
        if (rc)
            goto fail;
    }
    for (size_t i = 0; i < nx; i++)
        if (collect(t, xs[i], 1, e))
            goto fail;
    qsort(t->gen, t->n, sizeof t->gen[0], cmp_sym);
    t->nsyms = t->n;
    for (size_t i = 0; i < nx; i++)
        if (collect(t, xs[i], 0, e))
            goto fail;
    for (size_t i = t->nsyms; i < t->n; i++) { /* numeric radicals b**(p/q) */
        const tkd_expr *g = t->gen[i];
        t->rad_q[i] = 0;
        if (g->kind == TKD_EX_POW && is_num(g->args[0]) && is_num(g->args[1]) &&
            fmpz_cmp_ui(fmpq_denref(g->args[1]->q), 1) > 0 && fmpz_cmp_ui(fmpq_denref(g->args[1]->q), 64) <= 0 &&
            !tfmpz_abs_gt(fmpq_numref(g->args[1]->q), 64))
            t->rad_q[i] = (int)fmpz_get_si(fmpq_denref(g->args[1]->q)), t->has_rad = 1;
    }
    fmpz_mpoly_ctx_init(t->m, t->n ? (slong)t->n : 1, ORD_LEX);
    t->live = 1;
    return 0;
fail:
    trat_clear(t);
    return e->code;
}

void trat_clear(trat *t) {
    for (size_t i = 0; i < t->n; i++)
        tkd_expr_free(t->gen[i]);
    if (t->live)
        fmpz_mpoly_ctx_clear(t->m);
    memset(t, 0, sizeof *t);
}

int trat_var(const trat *t, const char *name) {
    for (size_t i = 0; i < t->nsyms; i++)
        if (!strcmp(t->gen[i]->name, name))
            return (int)i;
    return -1;
}

int trat_var_in_atoms(const trat *t, const char *name) {
    for (size_t i = t->nsyms; i < t->n; i++)
        if (tkd_expr_has_sym(t->gen[i], name))
            return 1;
    return 0;
}

/* ---- radical reduction: g = b**(p/q) with g**q = b**p ---- */

static void reduce_poly(const trat *t, fmpz_mpoly_q_t out, const fmpz_mpoly_t p) {
    slong len = fmpz_mpoly_length(p, t->m);
    ulong *ex = flint_malloc(sizeof(ulong) * (t->n ? t->n : 1));
    fmpz_mpoly_q_t term;
    fmpz_mpoly_q_init(term, t->m);
    fmpz_mpoly_q_zero(out, t->m);
    fmpq_t c, f;
    fmpq_init(c);
    fmpq_init(f);
    for (slong i = 0; i < len; i++) {
        fmpz_mpoly_get_term_exp_ui(ex, p, i, t->m);
        fmpz_mpoly_get_term_coeff_fmpz(fmpq_numref(c), p, i, t->m);
        fmpz_one(fmpq_denref(c));
        for (size_t g = t->nsyms; g < t->n; g++) {
            if (!t->rad_q[g] || ex[g] < (ulong)t->rad_q[g])
                continue;
            ulong k = ex[g] / (ulong)t->rad_q[g];
            ex[g] %= (ulong)t->rad_q[g];
            const tkd_expr *b = t->gen[g]->args[0];
            slong pw = fmpz_get_si(fmpq_numref(t->gen[g]->args[1]->q)) * (slong)k;
            fmpq_pow_si(f, b->q, pw);
            fmpq_mul(c, c, f);
        }
        fmpz_mpoly_zero(fmpz_mpoly_q_numref(term), t->m);
        fmpz_mpoly_set_coeff_fmpz_ui(fmpz_mpoly_q_numref(term), fmpq_numref(c), ex, t->m);
        fmpz_mpoly_set_fmpz(fmpz_mpoly_q_denref(term), fmpq_denref(c), t->m);
        fmpz_mpoly_q_canonicalise(term, t->m);
        fmpz_mpoly_q_add(out, out, term, t->m);
    }
    fmpq_clear(c);
    fmpq_clear(f);
    fmpz_mpoly_q_clear(term, t->m);
    flint_free(ex);
}

void trat_reduce(const trat *t, fmpz_mpoly_q_t r) {
    if (!t->has_rad)
        return;
    fmpz_mpoly_q_t a, b;
    fmpz_mpoly_q_init(a, t->m);
    fmpz_mpoly_q_init(b, t->m);
    reduce_poly(t, a, fmpz_mpoly_q_numref(r));
    reduce_poly(t, b, fmpz_mpoly_q_denref(r));
    if (!fmpz_mpoly_q_is_zero(b, t->m))
        fmpz_mpoly_q_div(r, a, b, t->m);
    fmpz_mpoly_q_clear(a, t->m);
    fmpz_mpoly_q_clear(b, t->m);
}

/* ---- conversion ---- */

static double est_terms(slong len, ulong k) { /* C(len - 1 + k, len - 1) */
    if (len <= 1)
        return 1;
    return exp(lgamma((double)(len - 1 + k) + 1) - lgamma((double)k + 1) - lgamma((double)len));
}

int trat_conv(const trat *t, const tkd_expr *x, fmpz_mpoly_q_t out, tkd_err *e) {
    int g;
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: fmpz_mpoly_q_set_fmpq(out, x->q, t->m); return 0;
    case TKD_EX_ADD:
    case TKD_EX_MUL: {
        fmpz_mpoly_q_t a;
        fmpz_mpoly_q_init(a, t->m);
        if (x->kind == TKD_EX_ADD)
            fmpz_mpoly_q_zero(out, t->m);
        else
            fmpz_mpoly_q_one(out, t->m);
        int rc = 0;
        for (size_t i = 0; i < x->n && !rc; i++) {
            if ((rc = trat_conv(t, x->args[i], a, e)))
                break;
            if (x->kind == TKD_EX_ADD) {
                fmpz_mpoly_q_add(out, out, a, t->m);
            } else {
                fmpz_mpoly_q_mul(out, out, a, t->m);
                trat_reduce(t, out);
            }
            if (fmpz_mpoly_length(fmpz_mpoly_q_numref(out), t->m) > TKD_EXPR_MAX_TERMS)
                rc = tkd_err_set(e, TKD_ELIMIT, "the expanded expression has more than %d terms", TKD_EXPR_MAX_TERMS);
        }
        fmpz_mpoly_q_clear(a, t->m);
        return rc;
    }
    case TKD_EX_POW:
        if (is_int_num(x->args[1])) {
            const fmpz *k = fmpq_numref(x->args[1]->q);
            int rc = trat_conv(t, x->args[0], out, e);
            if (rc)
                return rc;
            if (fmpz_mpoly_q_is_zero(out, t->m)) {
                if (fmpz_sgn(k) < 0)
                    return tkd_err_set(e, TKD_EMATH, "division by zero (0 raised to a negative power)");
                if (fmpz_is_zero(k))
                    fmpz_mpoly_q_one(out, t->m);
                return 0;
            }
            int is_const = fmpz_mpoly_is_fmpz(fmpz_mpoly_q_numref(out), t->m) &&
                           fmpz_mpoly_is_fmpz(fmpz_mpoly_q_denref(out), t->m);
            if (tfmpz_abs_gt(k, is_const ? 100000 : TKD_EXPR_MAX_DEGREE))
                return tkd_err_set(e, TKD_ELIMIT, "the exponent %s is too large to expand (at most %d)",
                                   tfmpz_abs_gt(k, 1000000000) ? "given" : "here",
                                   is_const ? 100000 : TKD_EXPR_MAX_DEGREE);
            ulong ku = fmpz_get_ui(k) + 0 * 0;
            fmpz_t ka;
            fmpz_init(ka);
            fmpz_abs(ka, k);
            ku = fmpz_get_ui(ka);
            fmpz_clear(ka);
            slong ln = fmpz_mpoly_length(fmpz_mpoly_q_numref(out), t->m);
            slong ld = fmpz_mpoly_length(fmpz_mpoly_q_denref(out), t->m);
            if (est_terms(ln, ku) > TKD_EXPR_MAX_TERMS || est_terms(ld, ku) > TKD_EXPR_MAX_TERMS)
                return tkd_err_set(e, TKD_ELIMIT, "expanding this power gives more than %d terms", TKD_EXPR_MAX_TERMS);
            if (is_const) {
                fmpz_t a;
                fmpz_init(a);
                fmpz_mpoly_get_fmpz(a, fmpz_mpoly_q_numref(out), t->m);
                int big = fmpz_bits(a) * ku > TKD_EXPR_MAX_INT_BITS;
                fmpz_mpoly_get_fmpz(a, fmpz_mpoly_q_denref(out), t->m);
                big |= fmpz_bits(a) * ku > TKD_EXPR_MAX_INT_BITS;
                fmpz_clear(a);
                if (big)
                    return tkd_err_set(e, TKD_ELIMIT, "the number would have more than %d bits", TKD_EXPR_MAX_INT_BITS);
            }
            fmpz_mpoly_pow_ui(fmpz_mpoly_q_numref(out), fmpz_mpoly_q_numref(out), ku, t->m);
            fmpz_mpoly_pow_ui(fmpz_mpoly_q_denref(out), fmpz_mpoly_q_denref(out), ku, t->m);
            if (fmpz_sgn(k) < 0)
                fmpz_mpoly_q_inv(out, out, t->m);
            fmpz_mpoly_q_canonicalise(out, t->m);
            trat_reduce(t, out);
            return 0;
        }
        goto atom;
    case TKD_EX_SYM:
    case TKD_EX_FUNC:
    case TKD_EX_CONST:
    atom:
        g = find_gen(t, x);
        if (g < 0)
            return tkd_err_set(e, TKD_EINTERNAL, "internal: unknown generator");
        fmpz_mpoly_q_zero(out, t->m);
        fmpz_mpoly_gen(fmpz_mpoly_q_numref(out), (slong)g, t->m);
        fmpz_mpoly_one(fmpz_mpoly_q_denref(out), t->m);
        return 0;
    default: return tkd_err_set(e, TKD_EINVAL, "expected an algebraic expression, not a list, set or relation");
    }
}

/* Parse, prepare and convert one expression in a fresh context that also
 * has the given variables. */
int trat_from_ast(trat *t, const tkd_expr *x, const char *const *vars, size_t nv, fmpz_mpoly_q_t *out, tkd_err *e) {
    tkd_expr *p = prep(x, e);
    if (!p)
        return e->code;
    int rc = trat_init(t, (const tkd_expr *const *)&p, 1, vars, nv, e);
    if (!rc) {
        fmpz_mpoly_q_init(*out, t->m);
        rc = trat_conv(t, p, *out, e);
        if (rc) {
            fmpz_mpoly_q_clear(*out, t->m);
            trat_clear(t);
        }
    }
    tkd_expr_free(p);
    return rc;
}

/* ---- back to expressions ---- */

tkd_expr *trat_term_ast(const trat *t, const fmpq_t c, const ulong *ex) {
    tkd_expr *f[TRAT_GENS_MAX + 1];
    size_t n = 0;
    if (!fmpq_is_one(c))
        f[n++] = tkd_expr_fmpq(c);
    for (size_t g = 0; g < t->n; g++)
        if (ex[g] == 1)
            f[n++] = tkd_expr_copy(t->gen[g]);
        else if (ex[g] > 1)
            f[n++] = tkd_expr_pow(tkd_expr_copy(t->gen[g]), tkd_expr_int((long)ex[g]));
    if (n == 0)
        return tkd_expr_int(1);
    return n == 1 ? f[0] : tkd_expr_mul(n, f);
}

/* p / d with d a positive integer spread over the terms. */
tkd_expr *trat_poly_ast(const trat *t, const fmpz_mpoly_t p, const fmpz_t d) {
    slong len = fmpz_mpoly_length(p, t->m);
    if (len == 0)
        return tkd_expr_int(0);
    tkd_expr **terms = calloc((size_t)len, sizeof *terms);
    ulong *ex = flint_malloc(sizeof(ulong) * (t->n ? t->n : 1));
    if (!terms || !ex) {
        free(terms);
        flint_free(ex);
        return NULL;
    }
    fmpq_t c;
    fmpq_init(c);
    for (slong i = 0; i < len; i++) {
        fmpz_mpoly_get_term_exp_ui(ex, p, i, t->m);
        fmpz_mpoly_get_term_coeff_fmpz(fmpq_numref(c), p, i, t->m);
        fmpz_set(fmpq_denref(c), d ? d : fmpq_denref(c));
        if (!d)
            fmpz_one(fmpq_denref(c));
        fmpq_canonicalise(c);
        terms[i] = trat_term_ast(t, c, ex);
    }
    fmpq_clear(c);
    flint_free(ex);
    tkd_expr *r = len == 1 ? terms[0] : tkd_expr_add((size_t)len, terms);
    free(terms);
    return r;
}

tkd_expr *trat_to_ast(const trat *t, const fmpz_mpoly_q_t r) {
    const fmpz_mpoly_struct *den = fmpz_mpoly_q_denref(r);
    if (fmpz_mpoly_is_fmpz(den, t->m)) {
        fmpz_t d;
        fmpz_init(d);
        fmpz_mpoly_get_fmpz(d, den, t->m);
        tkd_expr *x = trat_poly_ast(t, fmpz_mpoly_q_numref(r), d);
        fmpz_clear(d);
        return x;
    }
    /* move the content of the denominator to the numerator's coefficients */
    fmpz_t c;
    fmpz_init(c);
    _fmpz_vec_content(c, den->coeffs, den->length);
    if (fmpz_sgn(den->coeffs + 0) < 0)
        fmpz_neg(c, c);
    fmpz_mpoly_t d;
    fmpz_mpoly_init(d, t->m);
    fmpz_mpoly_scalar_divexact_fmpz(d, den, c, t->m);
    tkd_expr *num = trat_poly_ast(t, fmpz_mpoly_q_numref(r), c);
    tkd_expr *dx = trat_poly_ast(t, d, NULL);
    fmpz_mpoly_clear(d, t->m);
    fmpz_clear(c);
    return tkd_expr_div(num, dx);
}
