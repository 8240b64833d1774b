/*
 * expr exact numbers: a constant expression to a Calcium number (ca_t) and
 * back to an expression in closed form. Calcium decides equalities of
 * algebraic and many transcendental constants (sqrt, pi, exp, log, trig at
 * rational multiples of pi), so simplify and is_zero lean on this file;
 * sin, cos and tan at such multiples go through qqbar, which is cheaper.
 * Integer functions (factorial, binomial, gcd, ...) are computed on FLINT
 * integers after a size estimate against TKD_EXPR_MAX_INT_BITS.
 */
#include "expr_internal.h"

#include <calcium/fexpr_builtin.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REC (4 * TKD_EXPR_MAX_DEPTH)

static int lim_bits(tkd_err *e, const char *what) {
    return tkd_err_set(e, TKD_ELIMIT, "%s would exceed TKD_EXPR_MAX_INT_BITS (%d bits); use a smaller argument", what,
                       TKD_EXPR_MAX_INT_BITS);
}

/* out must hold an integer; fills z. */
static int get_int(fmpz_t z, const ca_t v, ca_ctx_t ctx, const char *fn, tkd_err *e) {
    fmpq_t q;
    fmpq_init(q);
    int ok = !CA_IS_SPECIAL(v) && ca_get_fmpq(q, v, ctx) && fmpz_is_one(fmpq_denref(q));
    if (ok)
        fmpz_set(z, fmpq_numref(q));
    fmpq_clear(q);
    return ok ? 0 : tkd_err_set(e, TKD_EINVAL, "%s() needs integer arguments here", fn);
}

static int check_special(const ca_t v, const char *what, tkd_err *e) {
    if (CA_IS_UNDEFINED(v) || CA_IS_UNSIGNED_INF(v))
        return tkd_err_set(e, TKD_EMATH, "%s is undefined (division by zero or a pole)", what);
    if (CA_IS_UNKNOWN(v))
        return tkd_err_set(e, TKD_EMATH, "%s could not be decided exactly", what);
    return 0;
}

static int to_ca(ca_t out, const tkd_expr *x, ca_ctx_t ctx, tkd_err *e, int depth);

/* integer-valued functions */
static int int_fn(ca_t out, const tkd_expr *x, ca_t *a, ca_ctx_t ctx, tkd_err *e) {
    fmpz_t u, v, r;
    fmpz_init(u);
    fmpz_init(v);
    fmpz_init(r);
    int rc = 0;
    const char *fn = x->name;
    if ((rc = get_int(u, a[0], ctx, fn, e)))
        goto done;
    if (x->op == TKD_FN_BINOMIAL && x->n != 2)
        rc = tkd_err_set(e, TKD_EINVAL, "binomial(n, k) takes two arguments");
    if (rc || (x->op == TKD_FN_BINOMIAL && (rc = get_int(v, a[1], ctx, fn, e))))
        goto done;
    switch (x->op) {
    case TKD_FN_FACTORIAL: {
        if (fmpz_sgn(u) < 0) {
            rc = tkd_err_set(e, TKD_EMATH, "factorial of a negative integer is undefined");
            goto done;
        }
        /* log2(n!) ~ n log2(n) */
        if (!fmpz_fits_si(u) ||
            (fmpz_get_si(u) > 16 && (double)fmpz_get_si(u) * log2((double)fmpz_get_si(u)) > TKD_EXPR_MAX_INT_BITS)) {
            rc = lim_bits(e, "factorial");
            goto done;
        }
        fmpz_fac_ui(r, (ulong)fmpz_get_si(u));
        break;
    }
    case TKD_FN_BINOMIAL: {
        if (fmpz_sgn(v) < 0 || fmpz_sgn(u) < 0 || fmpz_cmp(v, u) > 0) {
            fmpz_zero(r); /* SymPy: binomial(n, k) = 0 for k > n >= 0 or k < 0 */
            if (fmpz_sgn(u) < 0) {
                rc = tkd_err_set(e, TKD_EINVAL, "binomial(n, k) with negative n is not supported exactly");
                goto done;
            }
            break;
        }
        if (!fmpz_fits_si(u) || fmpz_get_si(u) > TKD_EXPR_MAX_INT_BITS) {
            rc = lim_bits(e, "binomial");
            goto done;
        }
        fmpz_bin_uiui(r, (ulong)fmpz_get_si(u), (ulong)fmpz_get_si(v));
        break;
    }
    case TKD_FN_GCD:
    case TKD_FN_LCM:
        fmpz_set(r, u);
        for (size_t i = 1; i < x->n; i++) {
            if ((rc = get_int(v, a[i], ctx, fn, e)))
                goto done;
            if (x->op == TKD_FN_GCD)
                fmpz_gcd(r, r, v);
            else
                fmpz_lcm(r, r, v);
        }
        fmpz_abs(r, r);
        break;
    default: rc = tkd_err_set(e, TKD_EINTERNAL, "int_fn: unexpected function %s", fn); goto done;
    }
    ca_set_fmpz(out, r, ctx);
done:
    fmpz_clear(u);
    fmpz_clear(v);
    fmpz_clear(r);
    return rc;
}

static int pow_ca(ca_t out, const tkd_expr *x, ca_t b, ca_t p, ca_ctx_t ctx, tkd_err *e) {
    fmpq_t eq, bq;
    fmpq_init(eq);
    fmpq_init(bq);
    int rc = 0;
    if (ca_get_fmpq(eq, p, ctx)) {
        /* size estimate before the power */
        int brat = ca_get_fmpq(bq, b, ctx);
        if (brat && fmpz_is_one(fmpq_denref(eq))) {
            slong bits = (slong)(fmpz_bits(fmpq_numref(bq)) > fmpz_bits(fmpq_denref(bq)) ? fmpz_bits(fmpq_numref(bq))
                                                                                         : fmpz_bits(fmpq_denref(bq)));
            int trivial = fmpz_is_pm1(fmpq_numref(bq)) && fmpz_is_one(fmpq_denref(bq));
            if (!trivial && !fmpq_is_zero(bq) &&
                (!fmpz_fits_si(fmpq_numref(eq)) ||
                 (double)bits * fabs((double)fmpz_get_si(fmpq_numref(eq))) > TKD_EXPR_MAX_INT_BITS)) {
                rc = lim_bits(e, "the power");
                goto done;
            }
            if (fmpq_is_zero(bq) && fmpz_sgn(fmpq_numref(eq)) < 0) {
                rc = tkd_err_set(e, TKD_EMATH, "0 raised to a negative power is undefined (division by zero)");
                goto done;
            }
        } else if (fmpz_bits(fmpq_numref(eq)) > 20 || fmpz_bits(fmpq_denref(eq)) > 20 ||
                   fabs(fmpq_get_d(eq)) > TKD_EXPR_MAX_DEGREE) {
            rc = tkd_err_set(e, TKD_ELIMIT, "exponent exceeds TKD_EXPR_MAX_DEGREE (%d) for an exact power",
                             TKD_EXPR_MAX_DEGREE);
            goto done;
        }
        ca_pow_fmpq(out, b, eq, ctx);
    } else {
        ca_pow(out, b, p, ctx);
    }
    rc = check_special(out, "the power", e);
done:
    (void)x;
    fmpq_clear(eq);
    fmpq_clear(bq);
    return rc;
}

/* sin, cos, tan at a rational multiple of pi with a small denominator, as
 * an algebraic number (qqbar): much cheaper than Calcium's cyclotomic
 * fields, and rational values come out rational. 1 when done (0 at a pole
 * of tan, or when a is not such a multiple). */
static int trig_pi(ca_t out, int id, const ca_t a, ca_ctx_t ctx) {
    ca_t r;
    ca_init(r, ctx);
    ca_pi(r, ctx);
    ca_div(r, a, r, ctx);
    fmpq_t q;
    fmpq_init(q);
    int done = 0;
    if (ca_get_fmpq(q, r, ctx) && fmpz_cmp_ui(fmpq_denref(q), 60) <= 0 && fmpz_bits(fmpq_numref(q)) < 40) {
        slong p = fmpz_get_si(fmpq_numref(q));
        ulong d = fmpz_get_ui(fmpq_denref(q));
        qqbar_t v;
        qqbar_init(v);
        done = 1;
        if (id == TKD_FN_SIN)
            qqbar_sin_pi(v, p, d);
        else if (id == TKD_FN_COS)
            qqbar_cos_pi(v, p, d);
        else
            done = qqbar_tan_pi(v, p, d);
        if (done)
            ca_set_qqbar(out, v, ctx);
        qqbar_clear(v);
    }
    fmpq_clear(q);
    ca_clear(r, ctx);
    return done;
}

/* the argument acos(X) (X a number) inside x, or NULL */
static const tkd_expr *find_acos(const tkd_expr *x) {
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_ACOS && x->n == 1 && !tkd_expr_has_sym(x, NULL))
        return x;
    for (size_t i = 0; i < x->n; i++) {
        const tkd_expr *r = find_acos(x->args[i]);
        if (r)
            return r;
    }
    return NULL;
}

#define COS_THIRD_DEG_MAX 36

/* cos(u) with u = (acos(X) + 2 pi k)/3, X algebraic (Cardano's trigonometric
 * form of a cubic's real roots, as tkd writes them): cos(3u) = X, so cos(u)
 * is the root of m_X(4y^3 - 3y) (m_X the minimal polynomial of X) that
 * certified numerics single out. An exact algebraic number, where Calcium
 * alone sees a transcendental one. 1 when out is set. */
static int cos_third(ca_t out, const tkd_expr *x, const ca_t u, ca_ctx_t ctx) {
    const tkd_expr *ac = find_acos(x->args[0]);
    if (!ac)
        return 0;
    ca_t X, d;
    ca_init(X, ctx);
    ca_init(d, ctx);
    qqbar_t qX;
    qqbar_init(qX);
    fmpq_t k;
    fmpq_init(k);
    tkd_err e = {0};
    int done = 0;
    if (!to_ca(X, ac->args[0], ctx, &e, 0) && ca_get_qqbar(qX, X, ctx) && 3 * qqbar_degree(qX) <= COS_THIRD_DEG_MAX) {
        ca_acos(d, X, ctx); /* k = (3u - acos(X)) / (2 pi) must be an integer */
        ca_mul_ui(X, u, 3, ctx);
        ca_sub(d, X, d, ctx);
        ca_pi(X, ctx);
        ca_mul_ui(X, X, 2, ctx);
        ca_div(d, d, X, ctx);
        if (ca_get_fmpq(k, d, ctx) && fmpz_is_one(fmpq_denref(k))) {
            fmpz_poly_t t3, P;
            fmpz_poly_init(t3);
            fmpz_poly_init(P);
            fmpz_poly_set_coeff_si(t3, 3, 4);
            fmpz_poly_set_coeff_si(t3, 1, -3);
            fmpz_poly_compose(P, QQBAR_POLY(qX), t3);
            slong n = fmpz_poly_degree(P);
            qqbar_ptr r = _qqbar_vec_init(n);
            qqbar_roots_fmpz_poly(r, P, 0);
            acb_t v, w;
            acb_init(v);
            acb_init(w);
            slong hit = -1;
            int many = 0;
            if (!tkd_expr_eval_acb(v, x, 0, NULL, NULL, 256, &e) && acb_rel_accuracy_bits(v) > 64)
                for (slong i = 0; i < n && !many; i++) {
                    qqbar_get_acb(w, r + i, 256);
                    if (!acb_overlaps(v, w))
                        continue;
                    if (hit >= 0 && !qqbar_equal(r + hit, r + i))
                        many = 1;
                    hit = i;
                }
            if (hit >= 0 && !many) {
                ca_set_qqbar(out, r + hit, ctx);
                done = 1;
            }
            acb_clear(v);
            acb_clear(w);
            _qqbar_vec_clear(r, n);
            fmpz_poly_clear(t3);
            fmpz_poly_clear(P);
        }
    }
    fmpq_clear(k);
    qqbar_clear(qX);
    ca_clear(X, ctx);
    ca_clear(d, ctx);
    return done;
}

static int func_ca(ca_t out, const tkd_expr *x, ca_ctx_t ctx, tkd_err *e, int depth) {
    if (x->n == 0 || x->n > 64)
        return tkd_err_set(e, TKD_EINVAL, "%s() is not a number tkd can evaluate exactly", x->name);
    switch (x->op) {
    case TKD_FN_SUM:
    case TKD_FN_PRODUCT:
    case TKD_FN_UNDEF:
    case TKD_FN_MIN:
    case TKD_FN_MAX:
    case TKD_FN_ATAN2:
        return tkd_err_set(e, TKD_EINVAL, "%s() is not evaluated exactly by the expression core", x->name);
    default: break;
    }
    ca_t a[64];
    size_t n = x->n;
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        ca_init(a[i], ctx);
    for (size_t i = 0; i < n && !rc; i++)
        rc = to_ca(a[i], x->args[i], ctx, e, depth + 1);
    if (rc)
        goto done;
    if ((x->op == TKD_FN_SIN || x->op == TKD_FN_COS || x->op == TKD_FN_TAN) && trig_pi(out, x->op, a[0], ctx))
        goto done;
    if (x->op == TKD_FN_COS && cos_third(out, x, a[0], ctx))
        goto done;
    switch (x->op) {
    case TKD_FN_EXP: ca_exp(out, a[0], ctx); break;
    case TKD_FN_LOG:
        if (ca_check_is_zero(a[0], ctx) == T_TRUE) {
            rc = tkd_err_set(e, TKD_EMATH, "log(0) is undefined");
            goto done;
        }
        ca_log(out, a[0], ctx);
        if (n == 2) {
            ca_t lb;
            ca_init(lb, ctx);
            ca_log(lb, a[1], ctx);
            if (ca_check_is_zero(lb, ctx) == T_TRUE)
                rc = tkd_err_set(e, TKD_EMATH, "log(x, 1) is undefined (base 1)");
            else
                ca_div(out, out, lb, ctx);
            ca_clear(lb, ctx);
        }
        break;
    case TKD_FN_SIN: ca_sin(out, a[0], ctx); break;
    case TKD_FN_COS: ca_cos(out, a[0], ctx); break;
    case TKD_FN_TAN: ca_tan(out, a[0], ctx); break;
    case TKD_FN_COT: ca_cot(out, a[0], ctx); break;
    case TKD_FN_SEC:
        ca_cos(out, a[0], ctx);
        ca_inv(out, out, ctx);
        break;
    case TKD_FN_CSC:
        ca_sin(out, a[0], ctx);
        ca_inv(out, out, ctx);
        break;
    case TKD_FN_ASIN: ca_asin(out, a[0], ctx); break;
    case TKD_FN_ACOS: ca_acos(out, a[0], ctx); break;
    case TKD_FN_ATAN: ca_atan(out, a[0], ctx); break;
    case TKD_FN_ACOT:
        ca_inv(out, a[0], ctx);
        ca_atan(out, out, ctx);
        break;
    case TKD_FN_SINH:
    case TKD_FN_COSH:
    case TKD_FN_TANH: {
        ca_t m;
        ca_init(m, ctx);
        ca_exp(out, a[0], ctx);
        ca_inv(m, out, ctx);
        if (x->op == TKD_FN_SINH) {
            ca_sub(out, out, m, ctx);
            ca_div_ui(out, out, 2, ctx);
        } else if (x->op == TKD_FN_COSH) {
            ca_add(out, out, m, ctx);
            ca_div_ui(out, out, 2, ctx);
        } else {
            ca_t d;
            ca_init(d, ctx);
            ca_add(d, out, m, ctx);
            ca_sub(out, out, m, ctx);
            ca_div(out, out, d, ctx);
            ca_clear(d, ctx);
        }
        ca_clear(m, ctx);
        break;
    }
    case TKD_FN_ABS: ca_abs(out, a[0], ctx); break;
    case TKD_FN_SIGN: ca_sgn(out, a[0], ctx); break;
    case TKD_FN_FLOOR: ca_floor(out, a[0], ctx); break;
    case TKD_FN_CEILING: ca_ceil(out, a[0], ctx); break;
    case TKD_FN_RE: ca_re(out, a[0], ctx); break;
    case TKD_FN_IM: ca_im(out, a[0], ctx); break;
    case TKD_FN_CONJUGATE: ca_conj(out, a[0], ctx); break;
    case TKD_FN_ARG: ca_arg(out, a[0], ctx); break;
    case TKD_FN_GAMMA: ca_gamma(out, a[0], ctx); break;
    case TKD_FN_FRAC:
        ca_floor(out, a[0], ctx);
        ca_sub(out, a[0], out, ctx);
        break;
    case TKD_FN_MOD: /* a - b*floor(a/b): the sign of the divisor, as Python's */
        if (n != 2)
            rc = tkd_err_set(e, TKD_EINVAL, "Mod(a, b) takes two arguments");
        else if (ca_check_is_zero(a[1], ctx) == T_TRUE)
            rc = tkd_err_set(e, TKD_EMATH, "Mod(a, 0) is undefined");
        if (rc)
            break;
        ca_div(out, a[0], a[1], ctx);
        ca_floor(out, out, ctx);
        ca_mul(out, out, a[1], ctx);
        ca_sub(out, a[0], out, ctx);
        break;
    case TKD_FN_FACTORIAL:
    case TKD_FN_BINOMIAL:
    case TKD_FN_GCD:
    case TKD_FN_LCM: rc = int_fn(out, x, a, ctx, e); break;
    default: rc = tkd_err_set(e, TKD_EINVAL, "%s() is not evaluated exactly", x->name); break;
    }
    if (!rc)
        rc = check_special(out, x->name, e);
done:
    for (size_t i = 0; i < n; i++)
        ca_clear(a[i], ctx);
    return rc;
}

static int to_ca(ca_t out, const tkd_expr *x, ca_ctx_t ctx, tkd_err *e, int depth) {
    if (depth > MAX_REC)
        return tkd_err_set(e, TKD_ELIMIT, "expression nested deeper than TKD_EXPR_MAX_DEPTH");
    int rc = 0;
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: ca_set_fmpq(out, x->q, ctx); return 0;
    case TKD_EX_CONST:
        switch (x->op) {
        case TKD_C_PI: ca_pi(out, ctx); return 0;
        case TKD_C_E:
            ca_one(out, ctx);
            ca_exp(out, out, ctx);
            return 0;
        case TKD_C_I: ca_i(out, ctx); return 0;
        case TKD_C_OO: ca_pos_inf(out, ctx); return 0;
        default: return tkd_err_set(e, TKD_EINVAL, "True/False is not a number");
        }
    case TKD_EX_SYM:
        return tkd_err_set(e, TKD_EINVAL,
                           "the expression contains the symbol '%s'; this needs a number (substitute a value for it)",
                           x->name);
    case TKD_EX_ADD:
    case TKD_EX_MUL: {
        ca_t t;
        ca_init(t, ctx);
        if (x->kind == TKD_EX_ADD)
            ca_zero(out, ctx);
        else
            ca_one(out, ctx);
        for (size_t i = 0; i < x->n && !rc; i++) {
            if ((rc = to_ca(t, x->args[i], ctx, e, depth + 1)))
                break;
            if (x->kind == TKD_EX_ADD)
                ca_add(out, out, t, ctx);
            else
                ca_mul(out, out, t, ctx);
        }
        ca_clear(t, ctx);
        return rc ? rc : check_special(out, x->kind == TKD_EX_ADD ? "the sum" : "the product", e);
    }
    case TKD_EX_POW: {
        ca_t b, p;
        ca_init(b, ctx);
        ca_init(p, ctx);
        if (!(rc = to_ca(b, x->args[0], ctx, e, depth + 1)) && !(rc = to_ca(p, x->args[1], ctx, e, depth + 1)))
            rc = pow_ca(out, x, b, p, ctx, e);
        ca_clear(b, ctx);
        ca_clear(p, ctx);
        return rc;
    }
    case TKD_EX_FUNC: return func_ca(out, x, ctx, e, depth);
    default: return tkd_err_set(e, TKD_EINVAL, "not a number: a relation, list, set, matrix or text");
    }
}

int tkd_expr_to_ca(ca_t out, const tkd_expr *x, ca_ctx_t ctx, tkd_err *e) {
    return to_ca(out, x, ctx, e, 0);
}

/* ---- back: Calcium's fexpr to our tree ---- */

typedef struct {
    fexpr_t where; /* the Where(...) call, a view */
    int have;
    int depth;
} fxenv;

static tkd_expr *from_fx(const fexpr_t f, fxenv *env);

static tkd_expr *fx_args(const fexpr_t f, fxenv *env, tkd_expr_kind kind) {
    slong n = fexpr_nargs(f);
    if (n < 1 || n > 256)
        return NULL;
    tkd_expr *v[256];
    fexpr_t a;
    for (slong i = 0; i < n; i++) {
        fexpr_view_arg(a, f, i);
        v[i] = from_fx(a, env);
    }
    if (kind == TKD_EX_ADD)
        return tkd_expr_add((size_t)n, v);
    return tkd_expr_mul((size_t)n, v);
}

static tkd_expr *fx_arg(const fexpr_t f, slong i, fxenv *env) {
    fexpr_t a;
    if (i >= fexpr_nargs(f))
        return NULL;
    fexpr_view_arg(a, f, i);
    return from_fx(a, env);
}

/* Calcium's one-argument functions that have a tkd function */
static const struct {
    slong b;
    tkd_fn_id id;
} fx_fns[] = {{FEXPR_Log, TKD_FN_LOG},     {FEXPR_Sin, TKD_FN_SIN},     {FEXPR_Cos, TKD_FN_COS},
              {FEXPR_Tan, TKD_FN_TAN},     {FEXPR_Atan, TKD_FN_ATAN},   {FEXPR_Asin, TKD_FN_ASIN},
              {FEXPR_Acos, TKD_FN_ACOS},   {FEXPR_Abs, TKD_FN_ABS},     {FEXPR_Sign, TKD_FN_SIGN},
              {FEXPR_Floor, TKD_FN_FLOOR}, {FEXPR_Ceil, TKD_FN_CEILING}};

static tkd_expr *from_fx(const fexpr_t f, fxenv *env) {
    if (++env->depth > 200) {
        env->depth--;
        return NULL;
    }
    tkd_expr *r = NULL;
    if (fexpr_is_integer(f)) {
        fmpz_t z;
        fmpz_init(z);
        fexpr_get_fmpz(z, f);
        r = fmpz_bits(z) <= TKD_EXPR_MAX_INT_BITS ? tkd_expr_fmpz(z) : NULL;
        fmpz_clear(z);
    } else if (fexpr_is_builtin_symbol(f, FEXPR_Pi)) {
        r = tkd_expr_const(TKD_C_PI);
    } else if (fexpr_is_builtin_symbol(f, FEXPR_NumberI)) {
        r = tkd_expr_const(TKD_C_I);
    } else if (fexpr_is_builtin_symbol(f, FEXPR_NumberE)) {
        r = tkd_expr_const(TKD_C_E);
    } else if (fexpr_is_builtin_symbol(f, FEXPR_Infinity)) {
        r = tkd_expr_const(TKD_C_OO);
    } else if (fexpr_is_symbol(f)) {
        /* a_k: look it up among the Where(...) definitions */
        if (env->have) {
            slong n = fexpr_nargs(env->where);
            fexpr_t d, name;
            for (slong i = 1; i < n && !r; i++) {
                fexpr_view_arg(d, env->where, i);
                if (fexpr_nargs(d) != 2)
                    continue;
                fexpr_view_arg(name, d, 0);
                if (fexpr_equal(name, f)) {
                    fexpr_view_arg(name, d, 1);
                    r = from_fx(name, env);
                    break;
                }
            }
        }
    } else if (fexpr_is_builtin_call(f, FEXPR_Add)) {
        r = fx_args(f, env, TKD_EX_ADD);
    } else if (fexpr_is_builtin_call(f, FEXPR_Mul)) {
        r = fx_args(f, env, TKD_EX_MUL);
    } else if (fexpr_is_builtin_call(f, FEXPR_Sub) && fexpr_nargs(f) == 2) {
        r = tkd_expr_sub(fx_arg(f, 0, env), fx_arg(f, 1, env));
    } else if (fexpr_is_builtin_call(f, FEXPR_Div) && fexpr_nargs(f) == 2) {
        tkd_expr *a = fx_arg(f, 0, env), *b = fx_arg(f, 1, env);
        if (a && b && a->kind == TKD_EX_NUM && b->kind == TKD_EX_NUM && !fmpq_is_zero(b->q)) {
            fmpq_div(a->q, a->q, b->q);
            tkd_expr_free(b);
            r = a;
        } else {
            r = tkd_expr_div(a, b);
        }
    } else if (fexpr_is_builtin_call(f, FEXPR_Neg) && fexpr_nargs(f) == 1) {
        r = tkd_expr_neg(fx_arg(f, 0, env));
    } else if (fexpr_is_builtin_call(f, FEXPR_Pow) && fexpr_nargs(f) == 2) {
        r = tkd_expr_pow(fx_arg(f, 0, env), fx_arg(f, 1, env));
    } else if (fexpr_is_builtin_call(f, FEXPR_Sqrt) && fexpr_nargs(f) == 1) {
        r = fx_arg(f, 0, env);
        if (r && r->kind == TKD_EX_NUM && fmpq_sgn(r->q) < 0) { /* sqrt(-3) -> sqrt(3)*I */
            fmpq_neg(r->q, r->q);
            r = tkd_expr_mul2(tkd_expr_sqrt(r), tkd_expr_const(TKD_C_I));
        } else {
            r = tkd_expr_sqrt(r);
        }
    } else if (fexpr_is_builtin_call(f, FEXPR_Exp) && fexpr_nargs(f) == 1) {
        r = fx_arg(f, 0, env);
        if (tkd_expr_is_int(r, 1)) {
            tkd_expr_free(r);
            r = tkd_expr_const(TKD_C_E);
        } else {
            r = tkd_expr_fn1(TKD_FN_EXP, r);
        }
    } else if (fexpr_is_builtin_call(f, FEXPR_Where) && fexpr_nargs(f) >= 1 && !env->have) {
        fexpr_set(env->where, f); /* a copy: the views below point into it */
        env->have = 1;
        fexpr_t body;
        fexpr_view_arg(body, env->where, 0);
        r = from_fx(body, env);
    } else if (fexpr_nargs(f) == 1) {
        for (size_t i = 0; i < sizeof fx_fns / sizeof fx_fns[0]; i++)
            if (fexpr_is_builtin_call(f, fx_fns[i].b)) {
                r = tkd_expr_fn1(fx_fns[i].id, fx_arg(f, 0, env));
                break;
            }
    }
    env->depth--;
    return r;
}

tkd_expr *tkd_expr_from_fexpr(const fexpr_t f) {
    fxenv env;
    fexpr_init(env.where);
    env.have = 0;
    env.depth = 0;
    tkd_expr *r = from_fx(f, &env);
    fexpr_clear(env.where);
    return r;
}

tkd_expr *tkd_expr_from_ca(const ca_t v, ca_ctx_t ctx, tkd_err *e) {
    tkd_expr *r = NULL;
    if (CA_IS_SPECIAL(v)) {
        if (ca_check_is_pos_inf(v, ctx) == T_TRUE)
            r = tkd_expr_const(TKD_C_OO);
        else if (ca_check_is_neg_inf(v, ctx) == T_TRUE)
            r = tkd_expr_neg(tkd_expr_const(TKD_C_OO));
        else if (ca_check_is_uinf(v, ctx) == T_TRUE)
            tkd_err_set(e, TKD_EMATH, "the value is complex infinity (zoo): the expression has a pole there");
        else
            tkd_err_set(e, TKD_EMATH, "the value is undefined");
        return r;
    }
    fmpq_t q;
    fmpq_init(q);
    if (ca_get_fmpq(q, v, ctx)) {
        if (fmpz_bits(fmpq_numref(q)) + fmpz_bits(fmpq_denref(q)) <= 2 * TKD_EXPR_MAX_INT_BITS)
            r = tkd_expr_fmpq(q);
        else
            tkd_err_set(e, TKD_ELIMIT, "the value would exceed TKD_EXPR_MAX_INT_BITS (%d bits)", TKD_EXPR_MAX_INT_BITS);
        fmpq_clear(q);
        return r;
    }
    fmpq_clear(q);
    /* an algebraic number of small degree: radicals when they exist */
    if (ca_can_evaluate_qqbar(v, ctx)) {
        qqbar_t a;
        qqbar_init(a);
        if (ca_get_qqbar(a, v, ctx) && qqbar_degree(a) <= 8)
            r = tkd_expr_from_qqbar(a, NULL);
        qqbar_clear(a);
    }
    if (!r) {
        fexpr_t f;
        fexpr_init(f);
        ca_get_fexpr(f, v, 0, ctx);
        r = tkd_expr_from_fexpr(f);
        fexpr_clear(f);
    }
    if (!r)
        tkd_err_set(e, TKD_EMATH,
                    "the exact value has no closed form that can be written here (it is a root of a polynomial without "
                    "a radical formula)");
    return r;
}
