/*
 * expr canonical forms, the public face of ratfun.c: expand / cancel /
 * factor, conversion to and from FLINT univariate polynomials, and the
 * coefficients of a polynomial in one variable. Containers (lists, tuples,
 * sets, matrices, intervals, relations, ±) are mapped element by element.
 */
#include "expr_internal.h"

#include <flint/fmpz_mpoly_factor.h>
#include <stdlib.h>
#include <string.h>

int tkd_expr_is_container(const tkd_expr *x) {
    switch (x->kind) {
    case TKD_EX_LIST:
    case TKD_EX_TUPLE:
    case TKD_EX_SET:
    case TKD_EX_MATRIX:
    case TKD_EX_INTERVAL:
    case TKD_EX_REL:
    case TKD_EX_PM: return 1;
    default: return 0;
    }
}

int tkd_expr_map(const tkd_expr *x, tkd_expr_map_fn fn, const void *arg, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    if (!tkd_expr_is_container(x))
        return fn(x, arg, out, e);
    tkd_expr *y = tkd_expr_copy(x);
    if (!y)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (size_t i = 0; i < y->n; i++) {
        tkd_expr *r;
        int rc = tkd_expr_map(y->args[i], fn, arg, &r, e);
        if (rc) {
            tkd_expr_free(y);
            return rc;
        }
        tkd_expr_free(y->args[i]);
        y->args[i] = r;
    }
    *out = y;
    return 0;
}

static int do_canon(const tkd_expr *x, const void *arg, tkd_expr **out, tkd_err *e) {
    (void)arg;
    return tkd_rf_canonical(x, out, e);
}

int tkd_expr_expand(const tkd_expr *x, tkd_expr **out, tkd_err *e) {
    return tkd_expr_map(x, do_canon, NULL, out, e);
}

int tkd_expr_cancel(const tkd_expr *x, tkd_expr **out, tkd_err *e) {
    return tkd_expr_map(x, do_canon, NULL, out, e);
}

/* content * prod f_i**e_i as a tree; sign goes into the content */
static tkd_expr *factored(tkd_rf *r, const fmpz_mpoly_factor_t f, int invert) {
    size_t n = (size_t)f->num + 1, k = 0;
    tkd_expr **v = calloc(n, sizeof *v);
    if (!v)
        return NULL;
    fmpq_t c;
    fmpq_init(c);
    fmpz_set(fmpq_numref(c), f->constant);
    fmpz_set(fmpq_denref(c), f->constant_den);
    fmpq_canonicalise(c);
    if (invert)
        fmpq_inv(c, c);
    if (!fmpq_is_one(c))
        v[k++] = tkd_expr_fmpq(c);
    fmpq_clear(c);
    fmpz_t one;
    fmpz_init_set_ui(one, 1);
    for (slong i = 0; i < f->num; i++) {
        tkd_expr *p = tkd_rf_poly_to_expr(r, f->poly + i, one);
        slong ex = fmpz_get_si(f->exp + i) * (invert ? -1 : 1);
        v[k++] = ex == 1 ? p : tkd_expr_pow(p, tkd_expr_int(ex));
    }
    fmpz_clear(one);
    tkd_expr *res = k ? tkd_expr_mul(k, v) : tkd_expr_int(1);
    free(v);
    return res;
}

static int do_factor(const tkd_expr *x, const void *arg, tkd_expr **out, tkd_err *e) {
    (void)arg;
    tkd_expr *c;
    int rc = tkd_rf_canonical(x, &c, e);
    if (rc)
        return rc;
    tkd_rf r;
    if ((rc = tkd_rf_init(&r, (const tkd_expr *const *)&c, 1, NULL, 0, e))) {
        tkd_expr_free(c);
        return rc;
    }
    fmpz_mpoly_q_t q;
    fmpz_mpoly_q_init(q, r.ctx);
    fmpz_mpoly_factor_t fn, fd;
    fmpz_mpoly_factor_init(fn, r.ctx);
    fmpz_mpoly_factor_init(fd, r.ctx);
    if (!(rc = tkd_rf_conv(&r, q, c, e))) {
        if (fmpz_mpoly_total_degree_si(fmpz_mpoly_q_numref(q), r.ctx) > 200 ||
            fmpz_mpoly_total_degree_si(fmpz_mpoly_q_denref(q), r.ctx) > 200)
            rc = tkd_err_set(e, TKD_ELIMIT, "factoring a polynomial of degree above 200 is not attempted");
        else if (!fmpz_mpoly_factor(fn, fmpz_mpoly_q_numref(q), r.ctx) ||
                 !fmpz_mpoly_factor(fd, fmpz_mpoly_q_denref(q), r.ctx))
            rc = tkd_err_set(e, TKD_ELIMIT, "factoring failed (exponents too large)");
    }
    if (!rc) {
        tkd_expr *n = factored(&r, fn, 0), *d = factored(&r, fd, 1);
        if (d && tkd_expr_is_int(d, 1)) {
            tkd_expr_free(d);
            *out = n;
        } else {
            *out = tkd_expr_mul2(n, d);
        }
        if (!*out)
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    fmpz_mpoly_factor_clear(fn, r.ctx);
    fmpz_mpoly_factor_clear(fd, r.ctx);
    fmpz_mpoly_q_clear(q, r.ctx);
    tkd_rf_clear(&r);
    tkd_expr_free(c);
    return rc;
}

int tkd_expr_factor(const tkd_expr *x, tkd_expr **out, tkd_err *e) {
    return tkd_expr_map(x, do_factor, NULL, out, e);
}

/* canonical form, then the generator index of var (-1 if absent) */
static int setup(const tkd_expr *x, const char *var, tkd_expr **c, tkd_rf *r, fmpz_mpoly_q_t **q, slong *vi,
                 tkd_err *e) {
    if (tkd_expr_is_container(x))
        return tkd_err_set(e, TKD_EINVAL, "a polynomial is expected, not a list, relation or matrix");
    int rc = tkd_rf_canonical(x, c, e);
    if (rc)
        return rc;
    if ((rc = tkd_rf_init(r, (const tkd_expr *const *)c, 1, NULL, 0, e))) {
        tkd_expr_free(*c);
        return rc;
    }
    *q = malloc(sizeof **q);
    if (!*q) {
        tkd_rf_clear(r);
        tkd_expr_free(*c);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    fmpz_mpoly_q_init(**q, r->ctx);
    if ((rc = tkd_rf_conv(r, **q, *c, e)))
        goto fail;
    *vi = -1;
    for (size_t i = 0; i < r->n; i++) {
        const tkd_expr *g = r->gens[i];
        if (g->kind == TKD_EX_SYM && !strcmp(g->name, var))
            *vi = (slong)i;
        else if (tkd_expr_has_sym(g, var)) {
            char *s = tkd_expr_to_str(g);
            rc = tkd_err_set(e, TKD_EINVAL, "not a polynomial in %s: it appears inside %s", var, s ? s : "?");
            free(s);
            goto fail;
        }
    }
    if (*vi >= 0 && fmpz_mpoly_degree_si(fmpz_mpoly_q_denref(**q), *vi, r->ctx) > 0) {
        rc = tkd_err_set(e, TKD_EINVAL, "not a polynomial in %s: it appears in a denominator", var);
        goto fail;
    }
    return 0;
fail:
    fmpz_mpoly_q_clear(**q, r->ctx);
    free(*q);
    *q = NULL;
    tkd_rf_clear(r);
    tkd_expr_free(*c);
    *c = NULL;
    return rc ? rc : TKD_EINTERNAL;
}

static void teardown(tkd_expr *c, tkd_rf *r, fmpz_mpoly_q_t *q) {
    fmpz_mpoly_q_clear(*q, r->ctx);
    free(q);
    tkd_rf_clear(r);
    tkd_expr_free(c);
}

int tkd_expr_to_fmpq_poly(fmpq_poly_t out, const tkd_expr *x, const char *var, tkd_err *e) {
    tkd_expr *c = NULL;
    tkd_rf r;
    fmpz_mpoly_q_t *q = NULL;
    slong vi = -1;
    int rc = setup(x, var, &c, &r, &q, &vi, e);
    if (rc || !q)
        return rc ? rc : TKD_EINTERNAL;
    if (r.n > (vi >= 0 ? 1u : 0u)) {
        size_t other = r.gens[0]->kind == TKD_EX_SYM && vi == 0 && r.n > 1 ? 1 : 0;
        char *s = tkd_expr_to_str(r.gens[other]);
        rc = tkd_err_set(e, TKD_EINVAL, "not a polynomial in %s with rational coefficients: it contains %s", var,
                         s ? s : "?");
        free(s);
    } else {
        fmpz_poly_t p;
        fmpz_poly_init(p);
        fmpz_t d;
        fmpz_init(d);
        if (vi >= 0)
            fmpz_mpoly_get_fmpz_poly(p, fmpz_mpoly_q_numref(*q), vi, r.ctx);
        else {
            fmpz_mpoly_get_fmpz(d, fmpz_mpoly_q_numref(*q), r.ctx);
            fmpz_poly_set_fmpz(p, d);
        }
        fmpz_mpoly_get_fmpz(d, fmpz_mpoly_q_denref(*q), r.ctx);
        fmpq_poly_set_fmpz_poly(out, p);
        fmpq_poly_scalar_div_fmpz(out, out, d);
        fmpz_clear(d);
        fmpz_poly_clear(p);
    }
    teardown(c, &r, q);
    return rc;
}

tkd_expr *tkd_expr_from_fmpq_poly(const fmpq_poly_t p, const char *var) {
    slong len = fmpq_poly_length(p);
    if (len == 0)
        return tkd_expr_int(0);
    tkd_expr **terms = calloc((size_t)len, sizeof *terms);
    if (!terms)
        return NULL;
    size_t n = 0;
    fmpq_t c;
    fmpq_init(c);
    for (slong k = len - 1; k >= 0; k--) {
        fmpq_poly_get_coeff_fmpq(c, p, k);
        if (fmpq_is_zero(c))
            continue;
        tkd_expr *m = k == 0 ? NULL : k == 1 ? tkd_expr_sym(var) : tkd_expr_pow(tkd_expr_sym(var), tkd_expr_int(k));
        if (k == 0)
            terms[n++] = tkd_expr_fmpq(c);
        else if (fmpq_is_one(c))
            terms[n++] = m;
        else
            terms[n++] = tkd_expr_mul2(tkd_expr_fmpq(c), m);
    }
    fmpq_clear(c);
    tkd_expr *r = tkd_expr_add(n, terms);
    free(terms);
    return r;
}

void tkd_expr_vec_free(tkd_expr **v, size_t n) {
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        tkd_expr_free(v[i]);
    free(v);
}

int tkd_expr_poly_coeffs(const tkd_expr *x, const char *var, tkd_expr ***coeffs, slong *deg, tkd_err *e) {
    *coeffs = NULL;
    *deg = -1;
    tkd_expr *c = NULL;
    tkd_rf r;
    fmpz_mpoly_q_t *q = NULL;
    slong vi = -1;
    int rc = setup(x, var, &c, &r, &q, &vi, e);
    if (rc || !q)
        return rc ? rc : TKD_EINTERNAL;
    const fmpz_mpoly_struct *num = fmpz_mpoly_q_numref(*q), *den = fmpz_mpoly_q_denref(*q);
    slong d = vi >= 0 ? fmpz_mpoly_degree_si(num, vi, r.ctx) : (fmpz_mpoly_is_zero(num, r.ctx) ? -1 : 0);
    if (d < 0)
        d = 0; /* the zero polynomial: one coefficient, 0 */
    tkd_expr **v = calloc((size_t)d + 1, sizeof *v);
    fmpz_mpoly_t ck;
    fmpz_mpoly_q_t t;
    fmpz_mpoly_init(ck, r.ctx);
    fmpz_mpoly_q_init(t, r.ctx);
    if (!v)
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (slong k = 0; v && !rc && k <= d; k++) {
        if (vi >= 0) {
            ulong ek = (ulong)k;
            fmpz_mpoly_get_coeff_vars_ui(ck, num, &vi, &ek, 1, r.ctx);
        } else {
            fmpz_mpoly_set(ck, num, r.ctx);
        }
        fmpz_mpoly_set(fmpz_mpoly_q_numref(t), ck, r.ctx);
        fmpz_mpoly_set(fmpz_mpoly_q_denref(t), den, r.ctx);
        fmpz_mpoly_q_canonicalise(t, r.ctx);
        if (!(v[k] = tkd_rf_to_expr(&r, t)))
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    fmpz_mpoly_clear(ck, r.ctx);
    fmpz_mpoly_q_clear(t, r.ctx);
    teardown(c, &r, q);
    if (rc) {
        tkd_expr_vec_free(v, v ? (size_t)d + 1 : 0);
        return rc;
    }
    *coeffs = v;
    *deg = d;
    return 0;
}
