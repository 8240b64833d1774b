/*
 * Exact subsets of the real line (the contract is in include/tkd/tools.h):
 * the line cut at n sorted, distinct real algebraic numbers (qqbar), with a
 * flag for each of the 2n+1 regions: the open piece before cut 0, cut 0, the
 * open piece after it, ..., the open piece after cut n-1. A set is kept
 * minimal (no cut whose flag equals both neighbours'), so two sets are equal
 * exactly when their cuts and flags are: the grader's proof that two
 * inequalities have the same solution set. A relation between rational
 * functions is solved by cutting the line at every real root of its
 * numerator and denominator and testing each piece at a rational point and
 * each cut exactly; union and intersection merge two cut lists.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <arb.h>
#include <flint/fmpz_poly.h>

#define RSET_DEGREE_MAX 200 /* degree of a numerator or denominator solved */

struct tkd_rset {
    int n;              /* cuts */
    qqbar_struct *cut;  /* n sorted distinct reals */
    unsigned char *in;  /* 2n+1 region flags */
};

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
static void rset_minimise(tkd_rset *s) {
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

static int sign_holds(int op, int s) {
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
    return sign_holds(r->op, s);
}

static int holds_cut(const rel *r, const qqbar_t x) {
    qqbar_t a, b;
    qqbar_init(a);
    qqbar_init(b);
    qqbar_evaluate_fmpz_poly(b, r->den, x);
    int ok = 0;
    if (!qqbar_is_zero(b)) {
        qqbar_evaluate_fmpz_poly(a, r->num, x);
        ok = sign_holds(r->op, qqbar_sgn_re(a) * qqbar_sgn_re(b));
    }
    qqbar_clear(a);
    qqbar_clear(b);
    return ok;
}

static int cmp_q(const void *a, const void *b) {
    return qqbar_cmp_re((const qqbar_struct *)a, (const qqbar_struct *)b);
}

/* A rational strictly between a < b. */
static void between(fmpq_t out, const qqbar_t a, const qqbar_t b) {
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
        qsort(*cuts, (size_t)*n, sizeof **cuts, cmp_q);
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
            between(q, cuts + k - 1, cuts + k);
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
        rc = tkd_err_set(e, TKD_EMATH,
                         "unsupported inequality in %s: supported are rational functions of %s, Abs, square roots "
                         "and even roots, exponentials, one logarithm of a linear argument, and linear or polynomial ones "
                         "with constant coefficients (pi); not trigonometric (periodic) ones or other symbols",
                         var, var);
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
        rc = tkd_rset_all(sign_holds(op, qqbar_sgn_re(b)), out);
    } else if (!rc) {
        /* a*(var - r) op 0 with r = -b/a */
        tkd_rset *s = rset_new(1);
        if (!s) {
            rc = TKD_ENOMEM;
        } else {
            qqbar_div(s->cut, b, a);
            qqbar_neg(s->cut, s->cut);
            int sa = qqbar_sgn_re(a);
            s->in[0] = (unsigned char)sign_holds(op, -sa);
            s->in[1] = (unsigned char)sign_holds(op, 0);
            s->in[2] = (unsigned char)sign_holds(op, sa);
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
        r.op = sl > 0 ? op : op == TKD_R_LT ? TKD_R_GT : op == TKD_R_LE ? TKD_R_GE : op == TKD_R_GT ? TKD_R_LT : op == TKD_R_GE ? TKD_R_LE : op;
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

/* ---- relations with square roots (and other even roots) ----
 * The line is cut at a superset of the points where the relation's sides
 * can change sign: the real roots of polynomials in var obtained from the
 * numerator, the denominator and every radicand by eliminating the radicals
 * with resultants (g = u^(1/q) satisfies den(u) g^q - num(u) = 0). Between
 * two cuts the difference is continuous, defined or not throughout, and
 * nonzero, so one exact evaluation (qqbar) at a rational point decides the
 * piece; each cut is evaluated exactly too, so extraneous roots of the
 * squaring never enter the answer. */
#define RSET_ALG_DEGREE_MAX 48 /* degree in var after eliminating the radicals */
#define RSET_ALG_STEPS 12      /* resultants taken for one polynomial */
#define RSET_ALG_GENS_MAX 6    /* distinct radicals in one relation */

/* x at var = pt over the real algebraic numbers: 1 defined (value in out), 0
 * undefined there (1/0, an even root of a negative), -1 unsupported. */
static int eval_alg(qqbar_t out, const tkd_expr *x, const char *var, const qqbar_t pt) {
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: qqbar_set_fmpq(out, x->q); return 1;
    case TKD_EX_SYM:
        if (strcmp(x->name, var))
            return -1;
        qqbar_set(out, pt);
        return 1;
    case TKD_EX_ADD:
    case TKD_EX_MUL: {
        qqbar_t t;
        qqbar_init(t);
        int r = eval_alg(out, x->args[0], var, pt);
        for (size_t i = 1; i < x->n && r == 1; i++) {
            r = eval_alg(t, x->args[i], var, pt);
            if (r == 1 && x->kind == TKD_EX_ADD)
                qqbar_add(out, out, t);
            else if (r == 1)
                qqbar_mul(out, out, t);
        }
        qqbar_clear(t);
        return r;
    }
    case TKD_EX_POW: {
        const tkd_expr *ex = x->args[1];
        if (ex->kind != TKD_EX_NUM || fmpz_bits(fmpq_numref(ex->q)) > 16 || fmpz_bits(fmpq_denref(ex->q)) > 8)
            return -1;
        slong p = fmpz_get_si(fmpq_numref(ex->q));
        ulong q = fmpz_get_ui(fmpq_denref(ex->q));
        if (q > 1 && q % 2)
            return -1; /* odd roots of negatives: SymPy's principal root is not real */
        int r = eval_alg(out, x->args[0], var, pt);
        if (r != 1)
            return r;
        if (p < 0 && qqbar_is_zero(out))
            return 0;
        if (q > 1) {
            if (qqbar_sgn_re(out) < 0)
                return 0;
            qqbar_root_ui(out, out, q);
        }
        qqbar_pow_si(out, out, p);
        return 1;
    }
    case TKD_EX_FUNC:
        if (x->op != TKD_FN_ABS || x->n != 1)
            return -1;
        {
            int r = eval_alg(out, x->args[0], var, pt);
            if (r == 1)
                qqbar_abs(out, out);
            return r;
        }
    default: return -1;
    }
}

/* The same at prec bits with Arb: 1 defined (value in out), 0 undefined,
 * -1 unsupported, 2 not decided at this precision (a ball touching 0 where
 * the domain or a division needs its sign). */
static int eval_arb(arb_t out, const tkd_expr *x, const char *var, const arb_t pt, slong prec) {
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: arb_set_fmpq(out, x->q, prec); return 1;
    case TKD_EX_SYM:
        if (strcmp(x->name, var))
            return -1;
        arb_set(out, pt);
        return 1;
    case TKD_EX_ADD:
    case TKD_EX_MUL: {
        arb_t t;
        arb_init(t);
        int r = eval_arb(out, x->args[0], var, pt, prec);
        for (size_t i = 1; i < x->n && (r == 1 || r == 2); i++) {
            int r2 = eval_arb(t, x->args[i], var, pt, prec);
            if (r2 == 0 || r2 == -1) {
                r = r2;
                break;
            }
            r = r == 2 || r2 == 2 ? 2 : 1;
            if (x->kind == TKD_EX_ADD)
                arb_add(out, out, t, prec);
            else
                arb_mul(out, out, t, prec);
        }
        arb_clear(t);
        return r;
    }
    case TKD_EX_POW: {
        const tkd_expr *ex = x->args[1];
        if (ex->kind != TKD_EX_NUM || fmpz_bits(fmpq_numref(ex->q)) > 16 || fmpz_bits(fmpq_denref(ex->q)) > 8)
            return -1;
        slong p = fmpz_get_si(fmpq_numref(ex->q));
        ulong q = fmpz_get_ui(fmpq_denref(ex->q));
        if (q > 1 && q % 2)
            return -1;
        int r = eval_arb(out, x->args[0], var, pt, prec);
        if (r != 1)
            return r;
        if (p < 0 && arb_contains_zero(out))
            return 2;
        if (q > 1) {
            if (arb_is_negative(out))
                return 0;
            if (!arb_is_nonnegative(out))
                return 2;
            arb_root_ui(out, out, q, prec);
        }
        if (p < 0) {
            arb_inv(out, out, prec);
            p = -p;
        }
        arb_pow_ui(out, out, (ulong)p, prec);
        return 1;
    }
    case TKD_EX_FUNC:
        if (x->op != TKD_FN_ABS || x->n != 1)
            return -1;
        {
            int r = eval_arb(out, x->args[0], var, pt, prec);
            if (r == 1)
                arb_abs(out, out);
            return r;
        }
    default: return -1;
    }
}

/* Does the relation hold at pt? Arb first (a ball away from 0 is a proof),
 * exact qqbar only when the numerics cannot tell: 1 yes, 0 no, -1 unsupported. */
static int holds_alg(const tkd_expr *p, const char *var, int op, const qqbar_t pt) {
    arb_t a, v;
    arb_init(a);
    arb_init(v);
    int res = 2;
    for (slong prec = 128; prec <= 512 && res == 2; prec *= 2) {
        qqbar_get_arb(a, pt, prec);
        int r = eval_arb(v, p, var, a, prec);
        if (r == -1 || r == 0)
            res = r == 0 ? 0 : -1;
        else if (r == 1 && !arb_contains_zero(v))
            res = sign_holds(op, arb_is_positive(v) ? 1 : -1);
    }
    arb_clear(a);
    arb_clear(v);
    if (res != 2)
        return res;
    qqbar_t val;
    qqbar_init(val);
    int r = eval_alg(val, p, var, pt);
    res = r < 0 ? -1 : r == 1 && sign_holds(op, qqbar_sgn_re(val));
    qqbar_clear(val);
    return res;
}

/* Bases of negative powers in x (their zeros are where x is undefined). */
static int neg_bases(const tkd_expr *x, const tkd_expr **out, int n, int max) {
    if (x->kind == TKD_EX_POW && x->args[1]->kind == TKD_EX_NUM && fmpq_sgn(x->args[1]->q) < 0 && n < max)
        out[n++] = x->args[0];
    for (size_t i = 0; i < x->n; i++)
        n = neg_bases(x->args[i], out, n, max);
    return n;
}

/* Eliminate every radical generator from P (in place): 0, or TKD_EMATH. */
static int eliminate(tkd_rf *t, slong v, fmpz_mpoly_t P) {
    fmpz_mpoly_t D, R;
    fmpz_mpoly_init(D, t->ctx);
    fmpz_mpoly_init(R, t->ctx);
    int rc = 0;
    for (int step = 0; !rc; step++) {
        slong j = -1;
        for (slong i = 0; i < (slong)t->n && j < 0; i++)
            if (i != v && fmpz_mpoly_degree_si(P, i, t->ctx) > 0)
                j = i;
        if (j < 0)
            break;
        /* the resultant's degree is at most deg(P) * q: refuse before computing a huge one */
        if (step == RSET_ALG_STEPS || !t->radq[j] ||
            fmpz_mpoly_total_degree_si(P, t->ctx) * (slong)t->radq[j] >
                RSET_ALG_DEGREE_MAX * (fmpz_mpoly_total_degree_si(fmpz_mpoly_q_numref(t->rad + j), t->ctx) + 1)) {
            rc = TKD_EMATH;
            break;
        }
        fmpz_mpoly_gen(D, j, t->ctx);
        fmpz_mpoly_pow_ui(D, D, t->radq[j], t->ctx);
        fmpz_mpoly_mul(D, D, fmpz_mpoly_q_denref(t->rad + j), t->ctx);
        fmpz_mpoly_sub(D, D, fmpz_mpoly_q_numref(t->rad + j), t->ctx);
        if (!fmpz_mpoly_resultant(R, P, D, j, t->ctx) || fmpz_mpoly_is_zero(R, t->ctx) ||
            fmpz_mpoly_total_degree_si(R, t->ctx) > RSET_ALG_DEGREE_MAX) {
            rc = TKD_EMATH;
            break;
        }
        fmpz_mpoly_swap(P, R, t->ctx);
    }
    fmpz_mpoly_clear(D, t->ctx);
    fmpz_mpoly_clear(R, t->ctx);
    return rc;
}

/* Add the distinct real roots of p to cuts[0..*n) (capacity cap). */
static int add_roots(qqbar_struct **cuts, int *n, int *cap, const fmpz_poly_t p) {
    slong d = fmpz_poly_degree(p);
    if (d <= 0)
        return 0;
    qqbar_ptr rt = _qqbar_vec_init(d);
    qqbar_roots_fmpz_poly(rt, p, 0);
    int rc = 0;
    for (slong i = 0; i < d && !rc; i++) {
        if (!qqbar_is_real(rt + i))
            continue;
        int dup = 0;
        for (int k = 0; k < *n && !dup; k++)
            dup = qqbar_equal(*cuts + k, rt + i);
        if (dup)
            continue;
        if (*n == *cap) {
            int nc = *cap ? 2 * *cap : 16;
            qqbar_struct *c = realloc(*cuts, sizeof(qqbar_struct) * (size_t)nc);
            if (!c) {
                rc = TKD_ENOMEM;
                break;
            }
            *cuts = c;
            *cap = nc;
        }
        qqbar_init(*cuts + *n);
        qqbar_set(*cuts + (*n)++, rt + i);
    }
    _qqbar_vec_clear(rt, d);
    return rc;
}

static int alg_set(const tkd_expr *d, const char *var, int op, tkd_rset **out, tkd_err *e) {
    tkd_err e2 = {0};
    tkd_expr *p = trat_prep(d, &e2);
    if (!p)
        return TKD_EMATH;
    tkd_rf t;
    if (tkd_rf_init(&t, (const tkd_expr *const *)&p, 1, &var, 1, &e2)) {
        tkd_expr_free(p);
        return TKD_EMATH;
    }
    slong v = tkd_rf_var(&t, var);
    int rc = t.n > RSET_ALG_GENS_MAX + 1 ? TKD_EMATH : 0;
    /* only var and even radicals, none of a negative constant (I) */
    for (slong i = 0; i < (slong)t.n && !rc; i++) {
        if (i == v)
            continue;
        if (!t.radq[i] || t.radq[i] % 2)
            rc = TKD_EMATH;
        else if (fmpz_mpoly_q_is_fmpq(t.rad + i, t.ctx) && fmpz_sgn(fmpz_mpoly_q_numref(t.rad + i)->coeffs) < 0)
            rc = TKD_EMATH;
    }
    fmpz_mpoly_q_t q;
    fmpz_mpoly_q_init(q, t.ctx);
    if (!rc && tkd_rf_conv(&t, q, p, &e2))
        rc = TKD_EMATH;
    /* the polynomials whose zeros may be sign changes or domain ends */
    enum { NB = 16 };
    const tkd_expr *bases[NB];
    int nb = rc ? 0 : neg_bases(p, bases, 0, NB);
    qqbar_struct *cuts = NULL;
    int n = 0, cap = 0;
    fmpz_mpoly_t P;
    fmpz_mpoly_init(P, t.ctx);
    fmpz_poly_t up;
    fmpz_poly_init(up);
    fmpz_mpoly_q_t b;
    fmpz_mpoly_q_init(b, t.ctx);
    int np = 2 + 2 * (int)t.n + nb;
    for (int k = 0; k < np && !rc; k++) {
        if (k == 0)
            fmpz_mpoly_set(P, fmpz_mpoly_q_numref(q), t.ctx);
        else if (k == 1)
            fmpz_mpoly_set(P, fmpz_mpoly_q_denref(q), t.ctx);
        else if (k < 2 + 2 * (int)t.n) {
            int i = (k - 2) / 2;
            if (i == v || !t.radq[i])
                continue;
            fmpz_mpoly_set(P, k % 2 ? fmpz_mpoly_q_denref(t.rad + i) : fmpz_mpoly_q_numref(t.rad + i), t.ctx);
        } else {
            if (tkd_rf_conv(&t, b, bases[k - 2 - 2 * (int)t.n], &e2)) {
                rc = TKD_EMATH;
                break;
            }
            fmpz_mpoly_set(P, fmpz_mpoly_q_numref(b), t.ctx);
        }
        if ((rc = eliminate(&t, v, P)))
            break;
        if (fmpz_mpoly_is_zero(P, t.ctx))
            continue;
        if (!fmpz_mpoly_is_fmpz_poly(P, v, t.ctx)) {
            rc = TKD_EMATH;
            break;
        }
        fmpz_mpoly_get_fmpz_poly(up, P, v, t.ctx);
        if (fmpz_poly_degree(up) > RSET_ALG_DEGREE_MAX)
            rc = TKD_EMATH;
        else
            rc = add_roots(&cuts, &n, &cap, up);
    }
    fmpz_mpoly_q_clear(b, t.ctx);
    fmpz_poly_clear(up);
    fmpz_mpoly_clear(P, t.ctx);
    fmpz_mpoly_q_clear(q, t.ctx);
    tkd_rf_clear(&t);
    tkd_rset *s = NULL;
    if (!rc) {
        if (n > 1)
            qsort(cuts, (size_t)n, sizeof *cuts, cmp_q);
        s = calloc(1, sizeof *s);
        unsigned char *in = calloc((size_t)(2 * n + 1), 1);
        if (!s || !in) {
            free(s);
            free(in);
            s = NULL;
            rc = TKD_ENOMEM;
        } else {
            s->n = n;
            s->cut = cuts;
            s->in = in;
            cuts = NULL;
        }
    }
    qqbar_t pt, val;
    qqbar_init(pt);
    qqbar_init(val);
    fmpq_t fq;
    fmpq_init(fq);
    fmpz_t z;
    fmpz_init(z);
    for (int k = 0; s && !rc && k <= s->n; k++) {
        if (s->n == 0) {
            fmpq_zero(fq);
        } else if (k == 0) {
            qqbar_floor(z, s->cut + 0);
            fmpz_sub_ui(z, z, 1);
            fmpq_set_fmpz_frac(fq, z, (fmpz_t){1});
        } else if (k == s->n) {
            qqbar_ceil(z, s->cut + s->n - 1);
            fmpz_add_ui(z, z, 1);
            fmpq_set_fmpz_frac(fq, z, (fmpz_t){1});
        } else {
            between(fq, s->cut + k - 1, s->cut + k);
        }
        for (int at_cut = 0; at_cut < 2 && !rc; at_cut++) {
            if (at_cut && k == s->n)
                break;
            if (at_cut)
                qqbar_set(pt, s->cut + k);
            else
                qqbar_set_fmpq(pt, fq);
            int r = holds_alg(p, var, op, pt);
            if (r < 0)
                rc = TKD_EMATH;
            else
                s->in[2 * k + at_cut] = (unsigned char)r;
        }
    }
    fmpz_clear(z);
    fmpq_clear(fq);
    qqbar_clear(pt);
    qqbar_clear(val);
    for (int k = 0; k < n && cuts; k++)
        qqbar_clear(cuts + k);
    free(cuts);
    tkd_expr_free(p);
    if (rc) {
        tkd_rset_free(s);
        return rc == TKD_ENOMEM ? tkd_err_set(e, TKD_ENOMEM, "out of memory") : TKD_EMATH;
    }
    rset_minimise(s);
    *out = s;
    return 0;
}

/* A copy of x with every subtree equal to from replaced by a copy of to. */
static tkd_expr *replace(const tkd_expr *x, const tkd_expr *from, const tkd_expr *to) {
    if (tkd_expr_equal(x, from))
        return tkd_expr_copy(to);
    tkd_expr *c = tkd_expr_copy(x);
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        tkd_expr *r = replace(x->args[i], from, to);
        if (!r) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = r;
    }
    return c;
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
    tkd_expr *dp = replace(d, a, a->args[0]), *dm = neg ? replace(d, a, neg) : NULL;
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
    if (!rc && (tkd_rset_combine(sp, rp, 1, &ip) || tkd_rset_combine(sm, rm, 1, &im) ||
                tkd_rset_combine(ip, im, 0, out)))
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
                                       !alg_set(d, var, op, out, e))) {
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
