/*
 * Two answers of solve_equation and find_roots built on troots: a product = 0
 * solved factor by factor, and SymPy's CRootOf for polynomial factors
 * without a closed form.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/fmpz_poly.h>
#include <flint/fmpz_poly_factor.h>

/* ---- a product = 0 solved factor by factor, as SymPy does ---- */

/* only sums, products, rational powers of var-free bases... everything
 * defined for every x: no division by something with var, no tan/log/sqrt */
static int everywhere_defined(const tkd_expr *x, const char *var) {
    if (!tkd_expr_has_sym(x, var))
        return 1;
    switch (x->kind) {
    case TKD_EX_SYM: return 1;
    case TKD_EX_ADD:
    case TKD_EX_MUL: break;
    case TKD_EX_POW:
        if (x->args[1]->kind != TKD_EX_NUM || !fmpz_is_one(fmpq_denref(x->args[1]->q)) || fmpq_sgn(x->args[1]->q) < 0)
            return 0;
        break;
    case TKD_EX_FUNC:
        if (x->op != TKD_FN_SIN && x->op != TKD_FN_COS)
            return 0;
        break;
    default: return 0;
    }
    for (size_t i = 0; i < x->n; i++)
        if (!everywhere_defined(x->args[i], var))
            return 0;
    return 1;
}

int troots_factors(const tkd_expr *x, const char *var, tlist *out, tkd_err *e) {
    const tkd_expr *p = x;
    /* lhs - 0 */
    if (p->kind == TKD_EX_ADD && p->n == 2 && !tkd_expr_has_sym(p->args[1], NULL)) {
        if (tnum_check(p->args[1], 0) != T_TRUE)
            return TRAD_NOT_MINE;
        p = p->args[0];
    }
    if (p->kind != TKD_EX_MUL || !everywhere_defined(p, var))
        return TRAD_NOT_MINE;
    int rc = 0;
    tlist all = {0};
    for (size_t i = 0; i < p->n && !rc; i++)
        if (tkd_expr_has_sym(p->args[i], var))
            rc = troots(p->args[i], var, &all, 0, e);
    for (size_t i = 0; !rc && i < all.n; i++) {
        rc = tlist_add(out, all.v[i], e);
        all.v[i] = NULL;
    }
    tlist_free(&all);
    return rc;
}

/* ---- SymPy's CRootOf answer for polynomials without a closed form ---- */

int troots_crootof(const tkd_expr *x, const char *var, tlist *out, tkd_err *e) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    tkd_err e2 = {0};
    if (trat_from_ast(&t, x, &var, 1, &r, &e2))
        return TRAD_NOT_MINE;
    int v = tkd_rf_var(&t, var), rc = TRAD_NOT_MINE;
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r);
    if (t.n == 1 && v == 0 && fmpz_mpoly_is_fmpz_poly(N, v, t.ctx) && fmpz_mpoly_degree_si(N, v, t.ctx) > 0 &&
        fmpz_mpoly_degree_si(N, v, t.ctx) <= SOLVE_DEG_MAX) {
        fmpz_poly_t p;
        fmpz_poly_factor_t pf;
        fmpz_poly_init(p);
        fmpz_poly_factor_init(pf);
        fmpz_mpoly_get_fmpz_poly(p, N, v, t.ctx);
        fmpz_poly_factor(pf, p);
        rc = 0;
        for (slong i = 0; !rc && i < pf->num; i++) /* SymPy writes roots of unity out */
            if (fmpz_poly_degree(pf->p + i) > 2 && fmpz_poly_is_cyclotomic(pf->p + i))
                rc = TRAD_NOT_MINE;
        for (slong i = 0; !rc && i < pf->num; i++) {
            slong d = fmpz_poly_degree(pf->p + i);
            if (d <= 2) {
                fmpz_mpoly_t g;
                fmpz_mpoly_init(g, t.ctx);
                fmpz_mpoly_set_fmpz_poly(g, pf->p + i, v, t.ctx);
                rc = tfactor_roots(&t, g, v, out, e);
                fmpz_mpoly_clear(g, t.ctx);
                continue;
            }
            fmpq_poly_t q; /* SymPy prints CRootOf over x, whatever the variable */
            fmpq_poly_init(q);
            fmpq_poly_set_fmpz_poly(q, pf->p + i);
            for (slong k = 0; k < d && !rc; k++)
                rc = tlist_add(
                    out, tkd_expr_call("CRootOf", 2, (tkd_expr *[]){tkd_expr_from_fmpq_poly(q, "x"), tkd_expr_int(k)}),
                    e);
            fmpq_poly_clear(q);
        }
        fmpz_poly_factor_clear(pf);
        fmpz_poly_clear(p);
    }
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return rc;
}
