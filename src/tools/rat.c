/*
 * Rational functions for the tools: an expression is read by expr's
 * rational functions in generators (tkd_rf, include/tkd/expr_rf.h) after a
 * preparation of the tools' own: numeric subexpressions are first made
 * canonical by Calcium (sqrt(8) -> 2*sqrt(2), cos(pi/3) -> 1/2) and the
 * arguments of functions are normalized, so equal atoms are one generator.
 */
#include "tools_int.h"

static tkd_expr *prep(const tkd_expr *x, tkd_err *e);

/* Normalize one expression through a round trip of its own (atom arguments). */
tkd_expr *trat_normalize(const tkd_expr *x, tkd_err *e) {
    tkd_expr *p = prep(x, e), *out = NULL;
    if (p && tkd_rf_canonical(p, &out, e))
        out = NULL;
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

/* Prepare and convert one expression in a fresh context that also has the
 * given variables. */
int trat_from_ast(tkd_rf *t, const tkd_expr *x, const char *const *vars, size_t nv, fmpz_mpoly_q_t *out, tkd_err *e) {
    tkd_expr *p = prep(x, e);
    if (!p)
        return e->code;
    int rc = tkd_rf_init(t, (const tkd_expr *const *)&p, 1, vars, nv, e);
    if (!rc) {
        fmpz_mpoly_q_init(*out, t->ctx);
        rc = tkd_rf_conv(t, *out, p, e);
        if (rc) {
            fmpz_mpoly_q_clear(*out, t->ctx);
            tkd_rf_clear(t);
        }
    }
    tkd_expr_free(p);
    return rc;
}

int trat_qrat(const tkd_expr *g, const char *var, fmpq_poly_t num, fmpq_poly_t den) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    tkd_err e = {0};
    int ok = 0;
    if (!trat_from_ast(&t, g, &var, 1, &r, &e)) {
        slong v = tkd_rf_var(&t, var);
        if (t.n == 1 && v == 0 && fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_numref(r), v, t.ctx) &&
            fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_denref(r), v, t.ctx)) {
            fmpz_poly_t a;
            fmpz_poly_init(a);
            fmpz_mpoly_get_fmpz_poly(a, fmpz_mpoly_q_numref(r), v, t.ctx);
            fmpq_poly_set_fmpz_poly(num, a);
            fmpz_mpoly_get_fmpz_poly(a, fmpz_mpoly_q_denref(r), v, t.ctx);
            fmpq_poly_set_fmpz_poly(den, a);
            fmpz_poly_clear(a);
            ok = 1;
        }
        fmpz_mpoly_q_clear(r, t.ctx);
        tkd_rf_clear(&t);
    }
    tkd_err_clear(&e);
    return ok;
}

/* A value for each free symbol of x at point k: distinct small rationals of
 * both signs, so a function of the symbols is rarely zero there by chance. */
static tkd_expr *at_point(const tkd_expr *x, int k, tkd_err *e) {
    static const long pt[][2] = {{3, 7}, {-5, 11}, {13, 4}, {-2, 9}, {17, 19}, {7, 3}, {-11, 6}};
    const size_t npt = sizeof pt / sizeof pt[0];
    const char **names;
    size_t n;
    if (tkd_expr_free_syms(x, &names, &n, e))
        return NULL;
    tkd_expr *y = tkd_expr_copy(x);
    for (size_t i = 0; y && i < n; i++) {
        tkd_expr *v = tkd_expr_rat(pt[((size_t)k + 2 * i) % npt][0], pt[((size_t)k + 2 * i) % npt][1]);
        tkd_expr *z = v ? tsubst(y, names[i], v) : NULL;
        tkd_expr_free(v);
        tkd_expr_free(y);
        y = z;
    }
    free(names);
    if (!y)
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
    return y;
}

int trat_is_zero(tkd_rf *t, const fmpz_mpoly_q_t q, tkd_err *e) {
    if (fmpz_mpoly_q_is_zero(q, t->ctx))
        return 1;
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(q);
    if (fmpz_mpoly_is_fmpz(N, t->ctx))
        return 0;
    int *used = calloc(t->n ? t->n : 1, sizeof *used);
    if (!used)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    fmpz_mpoly_used_vars(used, N, t->ctx);
    int atoms = 0, symbolic = 0;
    for (size_t g = 0; g < t->n; g++) {
        atoms |= used[g] && g >= t->nsyms;
        symbolic |= used[g] && (g < t->nsyms || tkd_expr_has_sym(t->gens[g], NULL));
    }
    free(used);
    if (!atoms) /* a nonzero polynomial in the symbols */
        return 0;
    tkd_expr *x = tkd_rf_poly_to_expr(t, N, NULL);
    if (!x)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    int rc = 2; /* 2: not known yet */
    for (int k = 0; k < (symbolic ? 5 : 1) && rc == 2; k++) {
        tkd_expr *y = symbolic ? at_point(x, k, e) : tkd_expr_copy(x);
        if (!y) {
            rc = e->code ? e->code : TKD_ENOMEM;
            break;
        }
        truth_t z = tnum_check(y, 0);
        tkd_expr_free(y);
        if (z == T_FALSE) /* nonzero somewhere: not the zero function */
            rc = 0;
        else if (z == T_TRUE && !symbolic)
            rc = 1;
    }
    tkd_expr_free(x);
    if (rc == 2)
        rc = tkd_err_set(e, TKD_EMATH, "unsupported: whether an expression in these functions is 0 could not be decided");
    return rc;
}
