/*
 * solve_nonlinear_system: the polynomials of one branch (nlsys_int.h). A
 * branch's equations are read in one tkd_rf context; its generators are the
 * open unknowns, the parameters (other symbols), numeric constants (sqrt(3),
 * pi) and atoms; the helpers here look at a numerator through that lens.
 */
#include <stdlib.h>
#include <string.h>

#include "nlsys_int.h"

int tnl_poly_kinds(nl_pctx *c, const fmpz_mpoly_t p) {
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
slong tnl_open_degree(nl_pctx *c, const fmpz_mpoly_t p) {
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

size_t tnl_open_count(nl_pctx *c, const fmpz_mpoly_t p) {
    size_t n = c->t.n ? c->t.n : 1, k = 0;
    memset(c->used, 0, n * sizeof *c->used);
    fmpz_mpoly_used_vars(c->used, p, c->t.ctx);
    for (size_t j = 0; j < c->no; j++)
        k += c->used[c->ov[j]] != 0;
    return k;
}

/* g**q -> b for the radical generators, after products. */
void tnl_reduce_poly(nl_pctx *c, fmpz_mpoly_t p) {
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
void tnl_normal_poly(nl_pctx *c, fmpz_mpoly_t p) {
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
void tnl_open_coeff(nl_pctx *c, fmpz_mpoly_t out, const fmpz_mpoly_t p, const ulong *ex) {
    fmpz_mpoly_get_coeff_vars_ui(out, p, c->ov, ex, (slong)c->no, c->t.ctx);
}

/* Drop the terms of p whose coefficient (at an open monomial) is made of
 * constants only and is 0 as a number (sqrt(3)*sqrt(13) - sqrt(39): distinct
 * generators), so degrees and leading coefficients are true. */
int tnl_clean_poly(nl_pctx *c, fmpz_mpoly_t p, tkd_err *e) {
    if (!(tnl_poly_kinds(c, p) & G_CONST))
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
        tnl_open_coeff(c, C, rest, oe);
        fmpz_mpoly_set(M, C, c->t.ctx);
        for (size_t j = 0; j < c->no; j++) {
            fmpz_mpoly_gen(g, c->ov[j], c->t.ctx);
            fmpz_mpoly_pow_ui(g, g, oe[j], c->t.ctx);
            fmpz_mpoly_mul(M, M, g, c->t.ctx);
        }
        fmpz_mpoly_sub(rest, rest, M, c->t.ctx);
        if (fmpz_mpoly_is_fmpz(C, c->t.ctx) || (tnl_poly_kinds(c, C) & ~G_CONST))
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

/* Row reduction over the open monomials with integer pivots (the same
 * ideal); *useful when degrees drop, or the unknowns of equations at
 * the same degrees. g[0..m) are replaced on success. */
int tnl_row_reduce(nl_pctx *c, fmpz_mpoly_struct *g, size_t m, int *useful, tkd_err *e) {
    *useful = 0;
    size_t cap = 0, nm = 0;
    ulong *mons = NULL; /* nm monomials, c->no exponents each */
    ulong *ex = flint_malloc(sizeof(ulong) * (c->t.n ? c->t.n : 1));
    slong before = 0, len0 = 0;
    for (size_t i = 0; i < m; i++) {
        before += (tnl_open_degree(c, g + i) + 1) * 64 + (slong)tnl_open_count(c, g + i);
        if (fmpz_mpoly_length(g + i, c->t.ctx) > len0)
            len0 = fmpz_mpoly_length(g + i, c->t.ctx);
        for (slong k = 0; k < fmpz_mpoly_length(g + i, c->t.ctx); k++) {
            fmpz_mpoly_get_term_exp_ui(ex, g + i, k, c->t.ctx);
            ulong oe[NL_NV_MAX] = {0};
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
            tnl_open_coeff(c, C, h + r, mons + u * c->no);
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
            tnl_open_coeff(c, Ck, h + k, mons + u * c->no);
            if (fmpz_mpoly_is_zero(Ck, c->t.ctx))
                continue;
            fmpz_mpoly_scalar_mul_fmpz(h + k, h + k, p, c->t.ctx);
            fmpz_mpoly_mul(T, Ck, h + r, c->t.ctx);
            fmpz_mpoly_sub(h + k, h + k, T, c->t.ctx);
            tnl_reduce_poly(c, h + k);
            tnl_normal_poly(c, h + k);
            if (fmpz_mpoly_length(h + k, c->t.ctx) > 4 * len0 + 20)
                big = 1;
        }
    }
    slong after = 0;
    for (size_t i = 0; i < m && !big && !rc; i++) {
        rc = tnl_clean_poly(c, h + i, e);
        if (!fmpz_mpoly_is_zero(h + i, c->t.ctx))
            after += (tnl_open_degree(c, h + i) + 1) * 64 + (slong)tnl_open_count(c, h + i);
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
tkd_expr *tnl_quotient_expr(nl_pctx *c, const fmpz_mpoly_t c0, const fmpz_mpoly_t c1) {
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
int tnl_coeff_class(nl_pctx *c, const fmpz_mpoly_t p) {
    int k = tnl_poly_kinds(c, p);
    return (k & (G_OPEN | G_ATOM_OPEN)) ? 2 : (k & (G_PARAM | G_ATOM_PARAM)) ? 1 : 0;
}
