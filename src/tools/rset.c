/*
 * Exact subsets of the real line (the contract is in include/tkd/tools.h):
 * the line cut at n sorted, distinct real algebraic numbers (qqbar), with a
 * flag for each of the 2n+1 regions: the open piece before cut 0, cut 0, the
 * open piece after it, ..., the open piece after cut n-1. A set is kept
 * minimal (no cut whose flag equals both neighbours'), so two sets are equal
 * exactly when their cuts and flags are: the grader's proof that two
 * inequalities have the same solution set. A relation rset_between rational
 * functions is solved by cutting the line at every real root of its
 * numerator and denominator and testing each piece at a rational point and
 * each cut exactly; union and intersection merge two cut lists.
 */
#include <stdlib.h>
#include <string.h>

#include "rset_int.h"

static tkd_rset *rset_new(int n) {
    tkd_rset *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cut = n ? malloc(sizeof(qqbar_struct) * (size_t)n) : NULL;
    s->in = calloc((size_t)(2 * n + 1), 1);
    if ((n && !s->cut) || !s->in) {
        free(s->cut);
        free(s->in);
        free(s);
        return NULL;
    }
    for (int k = 0; k < n; k++)
        qqbar_init(s->cut + k);
    s->n = n;
    return s;
}

void tkd_rset_free(tkd_rset *s) {
    if (!s)
        return;
    for (int k = 0; k < s->n; k++)
        qqbar_clear(s->cut + k);
    free(s->cut);
    free(s->in);
    free(s);
}

/* Drop cuts whose flag equals both neighbours' (in place; a kept cut's
 * struct is moved down, so a dropped one is cleared and a moved-from slot is
 * past the new n and never cleared twice). */
void rset_minimise(tkd_rset *s) {
    int m = 0;
    unsigned char *in = s->in;
    for (int k = 0; k < s->n; k++) {
        unsigned char before = in[2 * m], at = in[2 * k + 1], after = in[2 * k + 2];
        if (before == at && at == after) {
            qqbar_clear(s->cut + k);
            continue;
        }
        if (m != k)
            s->cut[m] = s->cut[k];
        in[2 * m + 1] = at;
        in[2 * m + 2] = after;
        m++;
    }
    s->n = m;
}

int tkd_rset_all(int member, tkd_rset **out) {
    *out = rset_new(0);
    if (!*out)
        return TKD_ENOMEM;
    (*out)->in[0] = (unsigned char)(member != 0);
    return 0;
}

/* An algebraic constant as a qqbar: 0 ok, else e set. */
static int to_qqbar(qqbar_t out, const tkd_expr *x, tkd_err *e) {
    ca_ctx_t ctx;
    ca_t v;
    tca_ctx_init(ctx);
    ca_init(v, ctx);
    int rc = tkd_expr_to_ca(v, x, ctx, e);
    if (!rc && !ca_get_qqbar(out, v, ctx))
        rc = tkd_err_set(e, TKD_EMATH, "an end that is not an algebraic number (pi, e, logs) is not supported");
    if (!rc && !qqbar_is_real(out))
        rc = tkd_err_set(e, TKD_EMATH, "an end that is not a real number");
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
    return rc;
}

static int is_inf(const tkd_expr *x, int sign) {
    if (x->kind == TKD_EX_CONST && x->op == TKD_C_OO)
        return sign > 0;
    if (x->kind == TKD_EX_MUL && x->n == 2 && tkd_expr_is_int(x->args[0], -1))
        return is_inf(x->args[1], -sign);
    return 0;
}

int tkd_rset_interval(const tkd_expr *lo, const tkd_expr *hi, int lo_closed, int hi_closed, tkd_rset **out,
                      tkd_err *e) {
    *out = NULL;
    int linf = !lo || is_inf(lo, -1), rinf = !hi || is_inf(hi, 1);
    qqbar_t a, b;
    qqbar_init(a);
    qqbar_init(b);
    int rc = 0;
    if (!linf)
        rc = to_qqbar(a, lo, e);
    if (!rc && !rinf)
        rc = to_qqbar(b, hi, e);
    if (!rc && !linf && !rinf && qqbar_cmp_re(a, b) >= 0)
        rc = tkd_err_set(e, TKD_EMATH, "an interval whose left end is not below its right end");
    if (!rc) {
        tkd_rset *s = rset_new(!linf + !rinf);
        if (!s) {
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        } else {
            int k = 0;
            if (!linf) {
                qqbar_set(s->cut + k, a);
                s->in[2 * k + 1] = (unsigned char)(lo_closed != 0);
                k++;
            }
            s->in[2 * k] = 1; /* the open piece inside */
            if (!rinf) {
                qqbar_set(s->cut + k, b);
                s->in[2 * k + 1] = (unsigned char)(hi_closed != 0);
            }
            *out = s;
        }
    }
    qqbar_clear(a);
    qqbar_clear(b);
    return rc;
}

/* ---- solving one relation ---- */
typedef struct rel {
    int op; /* tkd_expr_rel_op */
    fmpz_poly_t num, den;
} rel;

int rset_sign_holds(int op, int s) {
    switch (op) {
    case TKD_R_LT: return s < 0;
    case TKD_R_LE: return s <= 0;
    case TKD_R_GT: return s > 0;
    case TKD_R_GE: return s >= 0;
    case TKD_R_EQ: return s == 0;
    default: return s != 0;
    }
}

/* Does r hold at the rational point q? (den(q) != 0 is known) */
static int holds_q(const rel *r, const fmpq_t q) {
    fmpq_t a, b;
    fmpq_init(a);
    fmpq_init(b);
    fmpz_poly_evaluate_fmpq(a, r->num, q);
    fmpz_poly_evaluate_fmpq(b, r->den, q);
    int s = fmpq_sgn(a) * fmpq_sgn(b);
    fmpq_clear(a);
    fmpq_clear(b);
    return rset_sign_holds(r->op, s);
}

static int holds_cut(const rel *r, const qqbar_t x) {
    qqbar_t a, b;
    qqbar_init(a);
    qqbar_init(b);
    qqbar_evaluate_fmpz_poly(b, r->den, x);
    int ok = 0;
    if (!qqbar_is_zero(b)) {
        qqbar_evaluate_fmpz_poly(a, r->num, x);
        ok = rset_sign_holds(r->op, qqbar_sgn_re(a) * qqbar_sgn_re(b));
    }
    qqbar_clear(a);
    qqbar_clear(b);
    return ok;
}

int rset_cmp_q(const void *a, const void *b) {
    return qqbar_cmp_re((const qqbar_struct *)a, (const qqbar_struct *)b);
}

/* A rational strictly rset_between a < b. */
void rset_between(fmpq_t out, const qqbar_t a, const qqbar_t b) {
    arb_t ra, rb;
    arf_t u, l;
    arb_init(ra);
    arb_init(rb);
    arf_init(u);
    arf_init(l);
    for (slong prec = 64;; prec *= 2) {
        qqbar_get_arb(ra, a, prec);
        qqbar_get_arb(rb, b, prec);
        arb_get_ubound_arf(u, ra, prec);
        arb_get_lbound_arf(l, rb, prec);
        if (arf_cmp(u, l) < 0 || prec > 100000) {
            arf_add(u, u, l, ARF_PREC_EXACT, ARF_RND_DOWN);
            arf_mul_2exp_si(u, u, -1);
            arf_get_fmpq(out, u);
            break;
        }
    }
    arb_clear(ra);
    arb_clear(rb);
    arf_clear(u);
    arf_clear(l);
}

/* The distinct real roots of num and den, sorted. */
static int rel_cuts(const rel *r, qqbar_struct **cuts, int *n, tkd_err *e) {
    slong dn = fmpz_poly_degree(r->num), dd = fmpz_poly_degree(r->den);
    slong cap = (dn > 0 ? dn : 0) + (dd > 0 ? dd : 0);
    *n = 0;
    *cuts = cap ? malloc(sizeof(qqbar_struct) * (size_t)cap) : NULL;
    if (cap && !*cuts)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    const fmpz_poly_struct *ps[2] = {r->num, r->den};
    for (int j = 0; j < 2; j++) {
        slong d = fmpz_poly_degree(ps[j]);
        if (d <= 0)
            continue;
        qqbar_ptr rt = _qqbar_vec_init(d);
        qqbar_roots_fmpz_poly(rt, ps[j], 0);
        for (slong i = 0; i < d; i++) {
            if (!qqbar_is_real(rt + i))
                continue;
            int dup = 0;
            for (int k = 0; k < *n && !dup; k++)
                dup = qqbar_equal(*cuts + k, rt + i);
            if (dup)
                continue;
            qqbar_init(*cuts + *n);
            qqbar_set(*cuts + (*n)++, rt + i);
        }
        _qqbar_vec_clear(rt, d);
    }
    if (*n > 1)
        qsort(*cuts, (size_t)*n, sizeof **cuts, rset_cmp_q);
    return 0;
}

static int rel_set(const rel *r, tkd_rset **out, tkd_err *e) {
    qqbar_struct *cuts;
    int n;
    int rc = rel_cuts(r, &cuts, &n, e);
    if (rc)
        return rc;
    tkd_rset *s = calloc(1, sizeof *s);
    unsigned char *in = calloc((size_t)(2 * n + 1), 1);
    if (!s || !in) {
        free(s);
        free(in);
        for (int k = 0; k < n; k++)
            qqbar_clear(cuts + k);
        free(cuts);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    s->n = n;
    s->cut = cuts;
    s->in = in;
    fmpq_t q;
    fmpz_t z;
    fmpq_init(q);
    fmpz_init(z);
    for (int k = 0; k <= n; k++) { /* the open piece before cut k, then cut k */
        if (n == 0) {
            fmpq_zero(q);
        } else if (k == 0) {
            qqbar_floor(z, cuts + 0);
            fmpz_sub_ui(z, z, 1);
            fmpq_set_fmpz_frac(q, z, (fmpz_t){1});
        } else if (k == n) {
            qqbar_ceil(z, cuts + n - 1);
            fmpz_add_ui(z, z, 1);
            fmpq_set_fmpz_frac(q, z, (fmpz_t){1});
        } else {
            rset_between(q, cuts + k - 1, cuts + k);
        }
        in[2 * k] = (unsigned char)holds_q(r, q);
        if (k < n)
            in[2 * k + 1] = (unsigned char)holds_cut(r, cuts + k);
    }
    fmpq_clear(q);
    fmpz_clear(z);
    rset_minimise(s);
    *out = s;
    return 0;
}

/* lhs - rhs as num/den in var with integer coefficients: 0, or e set. */
static int load_rat(const tkd_expr *d, const char *var, int max_degree, rel *r, tkd_err *e) {
    tkd_rf t;
    fmpz_mpoly_q_t q;
    int rc = trat_from_ast(&t, d, &var, 1, &q, e);
    if (rc)
        return rc;
    slong v = tkd_rf_var(&t, var);
    if (!fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_numref(q), v, t.ctx) ||
        !fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_denref(q), v, t.ctx))
        rc = tkd_err_set(
            e, TKD_EMATH,
            "unsupported inequality in %s: supported are rational functions of %s, Abs, square roots "
            "and even roots, exponentials, one logarithm of a linear argument, and linear or polynomial ones "
            "with constant coefficients (pi), and trigonometric ones in sin, cos, tan, cot, sec, csc of a*%s; "
            "not other functions or other symbols",
            var, var, var);
    if (!rc) {
        fmpz_poly_init(r->num);
        fmpz_poly_init(r->den);
        fmpz_mpoly_get_fmpz_poly(r->num, fmpz_mpoly_q_numref(q), v, t.ctx);
        fmpz_mpoly_get_fmpz_poly(r->den, fmpz_mpoly_q_denref(q), v, t.ctx);
        if (fmpz_poly_degree(r->num) > max_degree || fmpz_poly_degree(r->den) > max_degree) {
            fmpz_poly_clear(r->num);
            fmpz_poly_clear(r->den);
            rc = tkd_err_set(e, TKD_ELIMIT, "the inequality has degree above %d", max_degree);
        }
    }
    fmpz_mpoly_q_clear(q, t.ctx);
    tkd_rf_clear(&t);
    return rc;
}

/* c1*var + c0 op 0 with algebraic constants c1, c0 (x > sqrt(2), sqrt(3)*x <= 1). */
static int linear_set(const tkd_expr *d, const char *var, int op, tkd_rset **out, tkd_err *e) {
    tkd_expr **c = NULL;
    slong deg = -1;
    tkd_err e2 = {0};
    if (tkd_expr_poly_coeffs(d, var, &c, &deg, &e2) || deg > 1) {
        if (c)
            tkd_expr_vec_free(c, (size_t)deg + 1);
        return TKD_EMATH;
    }
    qqbar_t a, b;
    qqbar_init(a);
    qqbar_init(b);
    int rc = to_qqbar(b, c[0], &e2);
    if (!rc && deg == 1)
        rc = to_qqbar(a, c[1], &e2);
    tkd_expr_vec_free(c, (size_t)deg + 1);
    if (!rc && deg == 1 && qqbar_is_zero(a))
        deg = 0;
    if (!rc && deg <= 0) {
        rc = tkd_rset_all(rset_sign_holds(op, qqbar_sgn_re(b)), out);
    } else if (!rc) {
        /* a*(var - r) op 0 with r = -b/a */
        tkd_rset *s = rset_new(1);
        if (!s) {
            rc = TKD_ENOMEM;
        } else {
            qqbar_div(s->cut, b, a);
            qqbar_neg(s->cut, s->cut);
            int sa = qqbar_sgn_re(a);
            s->in[0] = (unsigned char)rset_sign_holds(op, -sa);
            s->in[1] = (unsigned char)rset_sign_holds(op, 0);
            s->in[2] = (unsigned char)rset_sign_holds(op, sa);
            rset_minimise(s);
            *out = s;
        }
    }
    qqbar_clear(a);
    qqbar_clear(b);
    (void)e;
    return rc ? TKD_EMATH : 0;
}

/* A polynomial whose constant coefficients are rational multiples of one
 * real constant (pi*r**2 < 60*pi): divided by its leading coefficient (whose
 * sign Calcium decides) it has rational coefficients. */
static int scaled_set(const tkd_expr *d, const char *var, int op, int max_degree, tkd_rset **out, tkd_err *e) {
    tkd_expr **c = NULL;
    slong deg = -1;
    tkd_err e2 = {0};
    if (tkd_expr_poly_coeffs(d, var, &c, &deg, &e2))
        return TKD_EMATH;
    int rc = deg < 1 || deg > max_degree ? TKD_EMATH : 0;
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    ca_t lead, v, zero;
    ca_init(lead, ctx);
    ca_init(v, ctx);
    ca_init(zero, ctx);
    rel r;
    fmpq_poly_t q;
    fmpq_poly_init(q);
    if (!rc && (tkd_expr_has_sym(c[deg], NULL) || tkd_expr_to_ca(lead, c[deg], ctx, &e2)))
        rc = TKD_EMATH;
    int sl = 0;
    if (!rc)
        sl = ca_check_gt(lead, zero, ctx) == T_TRUE ? 1 : ca_check_lt(lead, zero, ctx) == T_TRUE ? -1 : 0;
    if (!sl)
        rc = TKD_EMATH;
    fmpq_t k;
    fmpq_init(k);
    for (slong i = 0; i <= deg && !rc; i++) {
        if (tkd_expr_has_sym(c[i], NULL) || tkd_expr_to_ca(v, c[i], ctx, &e2)) {
            rc = TKD_EMATH;
            break;
        }
        ca_div(v, v, lead, ctx);
        if (!ca_get_fmpq(k, v, ctx))
            rc = TKD_EMATH;
        else
            fmpq_poly_set_coeff_fmpq(q, i, k);
    }
    fmpq_clear(k);
    tkd_expr_vec_free(c, (size_t)deg + 1);
    if (!rc) {
        fmpz_poly_init(r.num);
        fmpz_poly_init(r.den);
        fmpq_poly_get_numerator(r.num, q);
        fmpz_poly_one(r.den);
        r.op = sl > 0           ? op
               : op == TKD_R_LT ? TKD_R_GT
               : op == TKD_R_LE ? TKD_R_GE
               : op == TKD_R_GT ? TKD_R_LT
               : op == TKD_R_GE ? TKD_R_LE
                                : op;
        rc = rel_set(&r, out, e);
        fmpz_poly_clear(r.num);
        fmpz_poly_clear(r.den);
    }
    fmpq_poly_clear(q);
    ca_clear(lead, ctx);
    ca_clear(v, ctx);
    ca_clear(zero, ctx);
    ca_ctx_clear(ctx);
    return rc;
}

/* The first Abs(u) in x whose u holds var (innermost first), or NULL. */
static const tkd_expr *find_abs(const tkd_expr *x, const char *var) {
    for (size_t i = 0; i < x->n; i++) {
        const tkd_expr *a = find_abs(x->args[i], var);
        if (a)
            return a;
    }
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_ABS && x->n == 1 && tkd_expr_has_sym(x->args[0], var))
        return x;
    return NULL;
}

static int solve_rel(const tkd_expr *lhs, const tkd_expr *rhs, int op, const char *var, int max_degree, int depth,
                     tkd_rset **out, tkd_err *e);

/* |u| split into u >= 0 (where |u| = u) and u < 0 (where |u| = -u). */
static int solve_abs(const tkd_expr *d, const tkd_expr *a, int op, const char *var, int max_degree, int depth,
                     tkd_rset **out, tkd_err *e) {
    tkd_expr *zero = tkd_expr_int(0), *neg = tkd_expr_neg(tkd_expr_copy(a->args[0]));
    tkd_expr *dp = treplace(d, a, a->args[0]), *dm = neg ? treplace(d, a, neg) : NULL;
    tkd_rset *sp = NULL, *sm = NULL, *rp = NULL, *rm = NULL, *ip = NULL, *im = NULL;
    int rc = !zero || !neg || !dp || !dm ? tkd_err_set(e, TKD_ENOMEM, "out of memory") : 0;
    if (!rc)
        rc = solve_rel(a->args[0], zero, TKD_R_GE, var, max_degree, depth + 1, &sp, e);
    if (!rc)
        rc = solve_rel(a->args[0], zero, TKD_R_LT, var, max_degree, depth + 1, &sm, e);
    if (!rc)
        rc = solve_rel(dp, zero, op, var, max_degree, depth + 1, &rp, e);
    if (!rc)
        rc = solve_rel(dm, zero, op, var, max_degree, depth + 1, &rm, e);
    if (!rc &&
        (tkd_rset_combine(sp, rp, 1, &ip) || tkd_rset_combine(sm, rm, 1, &im) || tkd_rset_combine(ip, im, 0, out)))
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    tkd_rset_free(sp);
    tkd_rset_free(sm);
    tkd_rset_free(rp);
    tkd_rset_free(rm);
    tkd_rset_free(ip);
    tkd_rset_free(im);
    tkd_expr_free(zero);
    tkd_expr_free(neg);
    tkd_expr_free(dp);
    tkd_expr_free(dm);
    return rc;
}

/* Denominators as SymPy keeps them: in a product, equal bases are combined
 * first (x*x**-1 is 1, as sympify makes it), and a base whose exponent stays
 * negative makes the expression undefined at its zeros (a hole that
 * canceling would hide: (x**2 - 1)/(x - 1) at 1). */
static int den_bases(const tkd_expr *x, const tkd_expr **out, int n, int max) {
    if (x->kind == TKD_EX_POW && x->args[1]->kind == TKD_EX_NUM && fmpq_sgn(x->args[1]->q) < 0) {
        if (n < max)
            out[n++] = x->args[0];
    } else if (x->kind == TKD_EX_MUL) {
        for (size_t i = 0; i < x->n; i++) {
            const tkd_expr *f = x->args[i], *b = f;
            if (f->kind == TKD_EX_POW && f->args[1]->kind == TKD_EX_NUM)
                b = f->args[0];
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++) {
                const tkd_expr *g = x->args[j];
                seen = tkd_expr_equal(g->kind == TKD_EX_POW && g->args[1]->kind == TKD_EX_NUM ? g->args[0] : g, b);
            }
            if (seen)
                continue;
            fmpq_t k;
            fmpq_init(k);
            for (size_t j = i; j < x->n; j++) {
                const tkd_expr *g = x->args[j];
                int pw = g->kind == TKD_EX_POW && g->args[1]->kind == TKD_EX_NUM;
                if (tkd_expr_equal(pw ? g->args[0] : g, b)) {
                    if (pw)
                        fmpq_add(k, k, g->args[1]->q);
                    else
                        fmpq_add_si(k, k, 1);
                }
            }
            if (fmpq_sgn(k) < 0 && n < max)
                out[n++] = b;
            fmpq_clear(k);
            n = den_bases(b, out, n, max);
        }
        return n;
    }
    for (size_t i = 0; i < x->n; i++)
        n = den_bases(x->args[i], out, n, max);
    return n;
}

#define RSET_ABS_MAX 4 /* absolute values split (2^4 cases) */

static int solve_rel(const tkd_expr *lhs, const tkd_expr *rhs, int op, const char *var, int max_degree, int depth,
                     tkd_rset **out, tkd_err *e) {
    *out = NULL;
    tkd_expr *d = tkd_expr_sub(tkd_expr_copy(lhs), tkd_expr_copy(rhs));
    if (!d)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    const tkd_expr *a = find_abs(d, var);
    int rc;
    if (a && depth < 2 * RSET_ABS_MAX) {
        rc = solve_abs(d, a, op, var, max_degree, depth, out, e);
    } else {
        rel r;
        r.op = op;
        rc = load_rat(d, var, max_degree, &r, e);
        if (!rc) {
            rc = rel_set(&r, out, e);
            fmpz_poly_clear(r.num);
            fmpz_poly_clear(r.den);
            /* holes the canonical form cancelled */
            const tkd_expr *bases[16];
            int nb = rc ? 0 : den_bases(d, bases, 0, 16);
            tkd_expr *zero = nb ? tkd_expr_int(0) : NULL;
            for (int i = 0; i < nb && !rc; i++) {
                tkd_rset *nz = NULL, *t = NULL;
                if (solve_rel(bases[i], zero, TKD_R_NE, var, max_degree, depth + 1, &nz, e))
                    continue; /* a base the rational path cannot read keeps the answer as it is */
                rc = tkd_rset_combine(*out, nz, 1, &t);
                tkd_rset_free(nz);
                if (!rc) {
                    tkd_rset_free(*out);
                    *out = t;
                }
            }
            tkd_expr_free(zero);
        } else if (rc == TKD_EMATH && (!linear_set(d, var, op, out, e) || !scaled_set(d, var, op, max_degree, out, e) ||
                                       !rset_alg_set(d, var, op, max_degree, out, e))) {
            rc = 0;
            if (e) {
                e->code = 0;
                e->msg[0] = '\0';
            }
        }
    }
    tkd_expr_free(d);
    return rc;
}

int tkd_rset_solve(const tkd_expr *x, const char *var, int max_degree, tkd_rset **out, tkd_err *e) {
    *out = NULL;
    if (x->kind != TKD_EX_REL)
        return tkd_err_set(e, TKD_EINVAL,
                           "expected an inequality such as \"x**2 - 4 > 0\", got an expression without <, <=, >, >=");
    if (max_degree <= 0 || max_degree > RSET_DEGREE_MAX)
        max_degree = RSET_DEGREE_MAX;
    return solve_rel(x->args[0], x->args[1], x->op, var, max_degree, 0, out, e);
}

/* ---- set algebra ---- */
int tkd_rset_combine(const tkd_rset *a, const tkd_rset *b, int inter, tkd_rset **out) {
    *out = NULL;
    tkd_rset *s = rset_new(a->n + b->n);
    if (!s)
        return TKD_ENOMEM;
    int ia = 0, ib = 0, m = 0;
    while (ia < a->n || ib < b->n) {
        int c = ia == a->n ? 1 : ib == b->n ? -1 : qqbar_cmp_re(a->cut + ia, b->cut + ib);
        int ra = 2 * ia, rb = 2 * ib; /* the open pieces holding the piece before this cut */
        int fa = a->in[ra], fb = b->in[rb];
        s->in[2 * m] = (unsigned char)(inter ? fa && fb : fa || fb);
        int ca = c <= 0 ? a->in[2 * ia + 1] : fa, cb = c >= 0 ? b->in[2 * ib + 1] : fb;
        s->in[2 * m + 1] = (unsigned char)(inter ? ca && cb : ca || cb);
        qqbar_set(s->cut + m, c <= 0 ? a->cut + ia : b->cut + ib);
        m++;
        if (c <= 0)
            ia++;
        if (c >= 0)
            ib++;
    }
    int fa = a->in[2 * ia], fb = b->in[2 * ib];
    s->in[2 * m] = (unsigned char)(inter ? fa && fb : fa || fb);
    for (int k = m; k < s->n; k++)
        qqbar_clear(s->cut + k);
    s->n = m;
    rset_minimise(s);
    *out = s;
    return 0;
}

void tkd_rset_complement(tkd_rset *s) {
    for (int k = 0; k < 2 * s->n + 1; k++)
        s->in[k] = !s->in[k];
}

int tkd_rset_equal(const tkd_rset *a, const tkd_rset *b) {
    if (a->n != b->n || memcmp(a->in, b->in, (size_t)(2 * a->n + 1)))
        return 0;
    for (int k = 0; k < a->n; k++)
        if (!qqbar_equal(a->cut + k, b->cut + k))
            return 0;
    return 1;
}

/* ---- printing, as SymPy does ---- */
typedef struct piece {
    int lo, hi; /* region indices */
} piece;

static int pieces(const tkd_rset *s, piece *p) {
    int n = 0, R = 2 * s->n + 1;
    for (int i = 0; i < R;) {
        if (!s->in[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < R && s->in[j + 1])
            j++;
        p[n++] = (piece){i, j};
        i = j + 1;
    }
    return n;
}

/* An end in radicals when a short formula exists, else CRootOf(minimal
 * polynomial, k) in SymPy's numbering (real roots first, ascending). */
static tkd_expr *end_expr(const qqbar_t a) {
    tkd_expr *r = qqbar_degree(a) <= 8 ? tkd_expr_from_qqbar(a, NULL) : NULL;
    if (r && tkd_expr_count_nodes(r) > 400) {
        tkd_expr_free(r);
        r = NULL;
    }
    if (r)
        return r;
    const fmpz_poly_struct *p = QQBAR_POLY(a);
    slong d = fmpz_poly_degree(p), k = 0;
    qqbar_ptr all = _qqbar_vec_init(d);
    qqbar_roots_fmpz_poly(all, p, QQBAR_ROOTS_IRREDUCIBLE);
    for (slong i = 0; i < d; i++)
        k += qqbar_is_real(all + i) && qqbar_cmp_re(all + i, a) < 0;
    _qqbar_vec_clear(all, d);
    fmpq_poly_t q;
    fmpq_poly_init(q);
    fmpq_poly_set_fmpz_poly(q, p);
    r = tkd_expr_call("CRootOf", 2, (tkd_expr *[]){tkd_expr_from_fmpq_poly(q, "x"), tkd_expr_int(k)});
    fmpq_poly_clear(q);
    return r;
}

static int endpoint(tkd_buf *b, const tkd_rset *s, int region, int left, tkd_err *e) {
    /* left end of region: cut (region-1)/2 for an open piece, the cut itself for a point */
    int k = region % 2 ? region / 2 : (left ? region / 2 - 1 : region / 2);
    if (k < 0)
        return tkd_buf_puts(b, "-oo");
    if (k >= s->n)
        return tkd_buf_puts(b, "oo");
    tkd_expr *x = end_expr(s->cut + k);
    char *t = x ? tkd_expr_to_str(x) : NULL;
    tkd_expr_free(x);
    if (!t)
        return e->code ? e->code : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    int rc = tkd_buf_puts(b, t);
    free(t);
    return rc;
}

static int print_set(const tkd_rset *s, const piece *p, int n, tkd_buf *b, tkd_err *e) {
    int rc = 0;
    if (n == 0)
        return tkd_buf_puts(b, "EmptySet");
    if (n > 1)
        tkd_buf_puts(b, "Union(");
    for (int i = 0; i < n && !rc; i++) {
        if (i)
            tkd_buf_puts(b, ", ");
        if (p[i].lo == p[i].hi && p[i].lo % 2) {
            tkd_buf_putc(b, '{');
            rc = endpoint(b, s, p[i].lo, 1, e);
            tkd_buf_putc(b, '}');
            continue;
        }
        int lopen = p[i].lo % 2 == 0, ropen = p[i].hi % 2 == 0;
        if (p[i].lo == 0 && p[i].hi == 2 * s->n) {
            tkd_buf_puts(b, "Reals");
            continue;
        }
        tkd_buf_puts(b, lopen && ropen ? "Interval.open("
                        : lopen        ? "Interval.Lopen("
                        : ropen        ? "Interval.Ropen("
                                       : "Interval(");
        rc = endpoint(b, s, p[i].lo, 1, e);
        tkd_buf_puts(b, ", ");
        if (!rc)
            rc = endpoint(b, s, p[i].hi, 0, e);
        tkd_buf_putc(b, ')');
    }
    if (n > 1)
        tkd_buf_putc(b, ')');
    return rc;
}

static int print_rel(const tkd_rset *s, const piece *p, int n, const char *var, tkd_buf *b, tkd_err *e) {
    int rc = 0;
    if (n == 0)
        return tkd_buf_puts(b, "False");
    for (int i = 0; i < n && !rc; i++) {
        if (i)
            tkd_buf_puts(b, " | ");
        if (p[i].lo == p[i].hi && p[i].lo % 2) {
            tkd_buf_printf(b, "Eq(%s, ", var);
            rc = endpoint(b, s, p[i].lo, 1, e);
            tkd_buf_putc(b, ')');
            continue;
        }
        int lopen = p[i].lo % 2 == 0, ropen = p[i].hi % 2 == 0;
        int linf = p[i].lo == 0, rinf = p[i].hi == 2 * s->n;
        if (linf && rinf) {
            tkd_buf_puts(b, "True");
            continue;
        }
        int both = !linf && !rinf;
        if (both)
            tkd_buf_puts(b, n > 1 ? "((" : "(");
        else if (n > 1)
            tkd_buf_putc(b, '(');
        if (!linf) {
            rc = endpoint(b, s, p[i].lo, 1, e);
            tkd_buf_printf(b, " %s %s", lopen ? "<" : "<=", var);
        }
        if (both)
            tkd_buf_puts(b, ") & (");
        if (!rinf && !rc) {
            tkd_buf_printf(b, "%s %s ", var, ropen ? "<" : "<=");
            rc = endpoint(b, s, p[i].hi, 0, e);
        }
        if (both)
            tkd_buf_puts(b, n > 1 ? "))" : ")");
        else if (n > 1)
            tkd_buf_putc(b, ')');
    }
    return rc;
}

int tkd_rset_print(const tkd_rset *s, const char *var, tkd_buf *b, tkd_err *e) {
    piece *p = malloc(sizeof(piece) * (size_t)(2 * s->n + 1));
    if (!p)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    int n = pieces(s, p);
    int rc = var ? print_rel(s, p, n, var, b, e) : print_set(s, p, n, b, e);
    free(p);
    return rc;
}

int tkd_rset_pieces(const tkd_rset *s, tkd_rset_piece **out, int *n, tkd_err *e) {
    *out = NULL;
    *n = 0;
    piece *p = malloc(sizeof(piece) * (size_t)(2 * s->n + 1));
    if (!p)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    int np = pieces(s, p), rc = 0;
    tkd_rset_piece *v = np ? calloc((size_t)np, sizeof *v) : NULL;
    if (np && !v)
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (int i = 0; i < np && !rc; i++) {
        int lo = p[i].lo, hi = p[i].hi;
        /* the cut at each end: lo's left end, hi's right end (-1 / s->n: infinite) */
        int kl = lo % 2 ? lo / 2 : lo / 2 - 1, kh = hi % 2 ? hi / 2 : hi / 2;
        v[i].lo_closed = lo % 2;
        v[i].hi_closed = hi % 2;
        if (kl >= 0 && !(v[i].lo = end_expr(s->cut + kl)))
            rc = tkd_err_set(e, TKD_EMATH, "an end of the solution set cannot be written");
        if (!rc && kh < s->n && !(v[i].hi = end_expr(s->cut + kh)))
            rc = tkd_err_set(e, TKD_EMATH, "an end of the solution set cannot be written");
    }
    free(p);
    if (rc) {
        tkd_rset_pieces_free(v, np);
        return rc;
    }
    *out = v;
    *n = np;
    return 0;
}

void tkd_rset_pieces_free(tkd_rset_piece *v, int n) {
    for (int i = 0; i < n && v; i++) {
        tkd_expr_free(v[i].lo);
        tkd_expr_free(v[i].hi);
    }
    free(v);
}
