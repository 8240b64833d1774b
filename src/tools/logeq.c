/*
 * Logarithmic equations for troots: log(u, b) is read as log(u)/log(b)
 * (SymPy's meaning), and an equation in which the variable appears only
 * inside two or more logarithms, linearly and with rationally related
 * coefficients,
 *     c*(r_1*log(u_1) + ... + r_n*log(u_n)) + c_0 = 0   (r_i rational),
 * is exponentiated into prod u_i**(D*r_i) = exp(-D*c_0/c), D clearing the
 * denominators. That equation has every solution and more (the branches of
 * log), so each candidate is checked exactly in the original equation with
 * principal logarithms, as SymPy's solve does: log(x) + log(x - 3) = log(10)
 * keeps 5 and drops -2. A candidate that cannot be decided is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#define LOGS_MAX 8          /* distinct logarithms of the variable */
#define LOG_EXPONENT_MAX 24 /* |D*r_i| in the exponentiated equation */

static int has_log_base(const tkd_expr *x) {
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_LOG && x->n == 2)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (has_log_base(x->args[i]))
            return 1;
    return 0;
}

/* x with every log(u, b) written log(u)/log(b); NULL when there is none. */
static tkd_expr *unbase(const tkd_expr *x) {
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_LOG && x->n == 2) {
        tkd_expr *u = unbase(x->args[0]), *b = unbase(x->args[1]);
        if (!u)
            u = tkd_expr_copy(x->args[0]);
        if (!b)
            b = tkd_expr_copy(x->args[1]);
        return tkd_expr_div(tkd_expr_fn1(TKD_FN_LOG, u), tkd_expr_fn1(TKD_FN_LOG, b));
    }
    if (!has_log_base(x))
        return NULL;
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t i = 0; c && i < c->n; i++) {
        tkd_expr *a = unbase(c->args[i]);
        if (a) {
            tkd_expr_free(c->args[i]);
            c->args[i] = a;
        }
    }
    return c;
}

tkd_expr *tlog_unbase(const tkd_expr *x) {
    return has_log_base(x) ? unbase(x) : NULL;
}

/* Does var appear outside log(...) in x? */
static int outside_logs(const tkd_expr *x, const char *var) {
    if (!tkd_expr_has_sym(x, var))
        return 0;
    if (x->kind == TKD_EX_SYM)
        return 1;
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_LOG && x->n == 1)
        return 0;
    if (x->kind == TKD_EX_FUNC)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (outside_logs(x->args[i], var))
            return 1;
    return 0;
}

static int is_var_log(const tkd_expr *g, const char *var) {
    return g->kind == TKD_EX_FUNC && g->op == TKD_FN_LOG && g->n == 1 && tkd_expr_has_sym(g, var);
}

/* The exponentiated equation, or NULL with *mine = 0 when x is not of the form. */
static tkd_expr *exponentiate(const tkd_expr *p, const char *var, int *mine, tkd_err *e) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    *mine = 0;
    if (trat_from_ast(&t, p, &var, 1, &r, e))
        return NULL;
    slong L[LOGS_MAX];
    size_t nl = 0;
    int ok = 1;
    for (size_t g = 0; g < t.n && ok; g++) {
        if (!tkd_expr_has_sym(t.gens[g], var))
            continue;
        if (is_var_log(t.gens[g], var) && nl < LOGS_MAX)
            L[nl++] = (slong)g;
        else if (fmpz_mpoly_degree_si(fmpz_mpoly_q_numref(r), (slong)g, t.ctx) > 0 ||
                 fmpz_mpoly_degree_si(fmpz_mpoly_q_denref(r), (slong)g, t.ctx) > 0)
            ok = 0;
    }
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r);
    for (size_t i = 0; i < nl && ok; i++)
        ok =
            fmpz_mpoly_degree_si(fmpz_mpoly_q_denref(r), L[i], t.ctx) <= 0 && fmpz_mpoly_degree_si(N, L[i], t.ctx) <= 1;
    ulong *te = flint_malloc(sizeof(ulong) * t.n);
    for (slong k = 0; ok && k < fmpz_mpoly_length(N, t.ctx); k++) { /* linear in the logarithms together */
        fmpz_mpoly_get_term_exp_ui(te, N, k, t.ctx);
        ulong s = 0;
        for (size_t i = 0; i < nl; i++)
            s += te[L[i]];
        ok = s <= 1;
    }
    flint_free(te);
    tkd_expr *out = NULL;
    if (ok && nl >= 2) {
        *mine = 1;
        ulong ex[LOGS_MAX] = {0};
        fmpz_mpoly_q_struct c[LOGS_MAX + 1];
        for (size_t i = 0; i <= nl; i++) {
            fmpz_mpoly_q_init(c + i, t.ctx);
            for (size_t j = 0; j < nl; j++)
                ex[j] = j == i;
            fmpz_mpoly_get_coeff_vars_ui(fmpz_mpoly_q_numref(c + i), N, L, ex, (slong)nl, t.ctx);
        }
        size_t lead = 0;
        while (lead < nl && fmpz_mpoly_q_is_zero(c + lead, t.ctx))
            lead++;
        fmpq_t q[LOGS_MAX];
        fmpz_t D;
        fmpz_init_set_ui(D, 1);
        for (size_t i = 0; i < nl; i++)
            fmpq_init(q[i]);
        int rational = lead < nl;
        fmpz_mpoly_q_t a;
        fmpz_mpoly_q_init(a, t.ctx);
        for (size_t i = 0; i < nl && rational; i++) {
            fmpz_mpoly_q_div(a, c + i, c + lead, t.ctx);
            rational =
                fmpz_mpoly_is_fmpz(fmpz_mpoly_q_numref(a), t.ctx) && fmpz_mpoly_is_fmpz(fmpz_mpoly_q_denref(a), t.ctx);
            if (rational) {
                fmpz_mpoly_get_fmpz(fmpq_numref(q[i]), fmpz_mpoly_q_numref(a), t.ctx);
                fmpz_mpoly_get_fmpz(fmpq_denref(q[i]), fmpz_mpoly_q_denref(a), t.ctx);
                fmpq_canonicalise(q[i]);
                fmpz_lcm(D, D, fmpq_denref(q[i]));
            }
        }
        if (!rational) {
            tkd_err_set(e, TKD_EMATH,
                        "unsupported: the logarithms of %s have coefficients that are not rational multiples of one "
                        "another",
                        var);
        } else {
            /* rho = c_0 / c_lead: sum q_i log(u_i) = -rho */
            fmpz_mpoly_q_div(a, c + nl, c + lead, t.ctx);
            tkd_expr *rho = tkd_rf_to_expr(&t, a);
            tkd_expr *lhs[LOGS_MAX + 1], *rhs[LOGS_MAX + 1];
            size_t nlhs = 0, nrhs = 0;
            rhs[nrhs++] = tkd_expr_fn1(TKD_FN_EXP, tkd_expr_neg(tkd_expr_mul2(tkd_expr_fmpz(D), rho)));
            for (size_t i = 0; i < nl && rational; i++) {
                fmpz_t n;
                fmpz_init(n);
                fmpz_divexact(n, D, fmpq_denref(q[i]));
                fmpz_mul(n, n, fmpq_numref(q[i]));
                if (fmpz_is_zero(n)) {
                    fmpz_clear(n);
                    continue;
                }
                if (tfmpz_abs_gt(n, LOG_EXPONENT_MAX))
                    rational = 0;
                tkd_expr *u = tkd_expr_copy(t.gens[L[i]]->args[0]);
                if (fmpz_sgn(n) > 0)
                    lhs[nlhs++] = tkd_expr_pow(u, tkd_expr_fmpz(n));
                else {
                    fmpz_neg(n, n);
                    rhs[nrhs++] = tkd_expr_pow(u, tkd_expr_fmpz(n));
                }
                fmpz_clear(n);
            }
            tkd_expr *A = tkd_expr_mul(nlhs, lhs), *B = tkd_expr_mul(nrhs, rhs);
            if (!rational) {
                tkd_expr_free(A);
                tkd_expr_free(B);
                tkd_err_set(e, TKD_ELIMIT, "unsupported: exponentiating the logarithms gives too high a power");
            } else {
                out = tkd_expr_sub(A, B);
                if (!out)
                    tkd_err_set(e, TKD_ENOMEM, "out of memory");
            }
        }
        fmpz_mpoly_q_clear(a, t.ctx);
        for (size_t i = 0; i <= nl; i++)
            fmpz_mpoly_q_clear(c + i, t.ctx);
        for (size_t i = 0; i < nl; i++)
            fmpq_clear(q[i]);
        fmpz_clear(D);
    }
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return out;
}

int tlog_roots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e) {
    if (outside_logs(x, var))
        return TRAD_NOT_MINE;
    tkd_expr *p = trat_prep(x, e);
    if (!p)
        return e->code;
    int mine = 0, rc = 0;
    tkd_expr *y = outside_logs(p, var) ? NULL : exponentiate(p, var, &mine, e);
    if (!mine) {
        rc = TRAD_NOT_MINE;
    } else if (!y) {
        rc = e->code ? e->code : TKD_ENOMEM;
    } else {
        tlist cand = {0};
        rc = troots(y, var, &cand, depth + 1, e);
        for (size_t i = 0; !rc && i < cand.n; i++) {
            int ok = tcheck_root(p, var, cand.v[i], 0, e);
            if (ok < 0)
                rc = ok;
            else if (ok) {
                rc = tlist_add(out, cand.v[i], e);
                cand.v[i] = NULL;
            }
        }
        tlist_free(&cand);
    }
    tkd_expr_free(y);
    tkd_expr_free(p);
    return rc;
}
