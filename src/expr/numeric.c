/*
 * expr numerics: evaluate a tree to a certified complex ball (Arb's acb_t)
 * with symbols bound to values. Principal branches as in SymPy (x**(1/3) of
 * a negative x is complex). Finite Sum/Product with integer bounds are
 * summed term by term, up to TKD_EXPR_MAX_TERMS terms.
 */
#include "expr_internal.h"

#include <string.h>

#define MAX_REC (4 * TKD_EXPR_MAX_DEPTH)
#define MAX_BOUND 64

typedef struct {
    size_t n;
    const char *const *names;
    acb_srcptr vals;
    /* Sum/Product indices, innermost last */
    const char *bname[MAX_BOUND];
    acb_t bval[MAX_BOUND];
    size_t nb;
    slong prec;
    tkd_err *e;
} env;

static int ev(acb_t out, const tkd_expr *x, env *v, int depth);

/* an exact integer from a ball, or an error */
static int ball_int(fmpz_t z, const acb_t a, const char *what, tkd_err *e) {
    if (!arb_is_zero(acb_imagref(a)) || !arb_get_unique_fmpz(z, acb_realref(a)) || !arb_is_exact(acb_realref(a)))
        return tkd_err_set(e, TKD_EINVAL, "%s needs integer arguments for numeric evaluation", what);
    if (fmpz_bits(z) > TKD_EXPR_MAX_INT_BITS)
        return tkd_err_set(e, TKD_ELIMIT, "%s: an argument exceeds TKD_EXPR_MAX_INT_BITS", what);
    return 0;
}

static int real_arg(const acb_t a, const char *what, tkd_err *e) {
    if (!arb_is_zero(acb_imagref(a)))
        return tkd_err_set(e, TKD_EINVAL, "%s needs a real argument", what);
    return 0;
}

static int sum_prod(acb_t out, const tkd_expr *x, env *v, int depth) {
    const tkd_expr *t = x->args[1];
    acb_t lo, hi;
    fmpz_t a, b;
    acb_init(lo);
    acb_init(hi);
    fmpz_init(a);
    fmpz_init(b);
    int rc = 0;
    if ((rc = ev(lo, t->args[1], v, depth + 1)) || (rc = ev(hi, t->args[2], v, depth + 1)))
        goto done;
    if (ball_int(a, lo, x->name, v->e) || ball_int(b, hi, x->name, v->e)) {
        rc = tkd_err_set(v->e, TKD_EINVAL, "%s() is evaluated numerically only with finite integer bounds", x->name);
        goto done;
    }
    fmpz_t cnt;
    fmpz_init(cnt);
    fmpz_sub(cnt, b, a);
    int too_many = fmpz_cmp_si(cnt, TKD_EXPR_MAX_TERMS) >= 0;
    fmpz_clear(cnt);
    if (too_many || v->nb == MAX_BOUND) {
        rc = tkd_err_set(v->e, TKD_ELIMIT, "%s() has more than TKD_EXPR_MAX_TERMS (%d) terms", x->name,
                         TKD_EXPR_MAX_TERMS);
        goto done;
    }
    size_t k = v->nb++;
    v->bname[k] = t->args[0]->name;
    acb_init(v->bval[k]);
    acb_t term;
    acb_init(term);
    if (x->op == TKD_FN_SUM)
        acb_zero(out);
    else
        acb_one(out);
    for (slong i = fmpz_get_si(a); !rc && fmpz_cmp_si(b, i) >= 0; i++) {
        acb_set_si(v->bval[k], i);
        if ((rc = ev(term, x->args[0], v, depth + 1)))
            break;
        if (x->op == TKD_FN_SUM)
            acb_add(out, out, term, v->prec);
        else
            acb_mul(out, out, term, v->prec);
    }
    acb_clear(term);
    acb_clear(v->bval[k]);
    v->nb--;
done:
    acb_clear(lo);
    acb_clear(hi);
    fmpz_clear(a);
    fmpz_clear(b);
    return rc;
}

static int int_fn(acb_t out, const tkd_expr *x, acb_t *a, env *v) {
    fmpz_t p, q, r;
    fmpz_init(p);
    fmpz_init(q);
    fmpz_init(r);
    int rc = ball_int(p, a[0], x->name, v->e);
    for (size_t i = 1; !rc && i < x->n; i++) {
        if ((rc = ball_int(q, a[i], x->name, v->e)))
            break;
        if (x->op == TKD_FN_GCD)
            fmpz_gcd(p, p, q);
        else if (x->op == TKD_FN_LCM)
            fmpz_lcm(p, p, q);
    }
    if (!rc) {
        if (x->op == TKD_FN_GCD || x->op == TKD_FN_LCM)
            fmpz_abs(r, p);
        acb_set_fmpz(out, r);
    }
    fmpz_clear(p);
    fmpz_clear(q);
    fmpz_clear(r);
    return rc;
}

static int func(acb_t out, const tkd_expr *x, env *v, int depth) {
    slong prec = v->prec;
    if (x->op == TKD_FN_SUM || x->op == TKD_FN_PRODUCT)
        return sum_prod(out, x, v, depth);
    if (x->op == TKD_FN_UNDEF)
        return tkd_err_set(v->e, TKD_EINVAL, "undefined function %s() has no numeric value", x->name);
    if (x->n == 0 || x->n > 64)
        return tkd_err_set(v->e, TKD_EINVAL, "%s() with %zu arguments", x->name, x->n);
    acb_t a[64];
    size_t n = x->n;
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        acb_init(a[i]);
    for (size_t i = 0; i < n && !rc; i++)
        rc = ev(a[i], x->args[i], v, depth + 1);
    if (rc)
        goto done;
    switch (x->op) {
    case TKD_FN_EXP: acb_exp(out, a[0], prec); break;
    case TKD_FN_LOG:
        acb_log(out, a[0], prec);
        if (n == 2) {
            acb_log(a[1], a[1], prec);
            acb_div(out, out, a[1], prec);
        }
        break;
    case TKD_FN_SIN: acb_sin(out, a[0], prec); break;
    case TKD_FN_COS: acb_cos(out, a[0], prec); break;
    case TKD_FN_TAN: acb_tan(out, a[0], prec); break;
    case TKD_FN_SEC: acb_sec(out, a[0], prec); break;
    case TKD_FN_CSC: acb_csc(out, a[0], prec); break;
    case TKD_FN_COT: acb_cot(out, a[0], prec); break;
    case TKD_FN_ASIN: acb_asin(out, a[0], prec); break;
    case TKD_FN_ACOS: acb_acos(out, a[0], prec); break;
    case TKD_FN_ATAN: acb_atan(out, a[0], prec); break;
    case TKD_FN_ACOT:
        acb_inv(out, a[0], prec);
        acb_atan(out, out, prec);
        break;
    case TKD_FN_ATAN2:
        if ((rc = real_arg(a[0], "atan2", v->e)) || (rc = real_arg(a[1], "atan2", v->e)))
            break;
        acb_zero(out);
        arb_atan2(acb_realref(out), acb_realref(a[0]), acb_realref(a[1]), prec);
        break;
    case TKD_FN_SINH: acb_sinh(out, a[0], prec); break;
    case TKD_FN_COSH: acb_cosh(out, a[0], prec); break;
    case TKD_FN_TANH: acb_tanh(out, a[0], prec); break;
    case TKD_FN_ASINH: acb_asinh(out, a[0], prec); break;
    case TKD_FN_ACOSH: acb_acosh(out, a[0], prec); break;
    case TKD_FN_ATANH: acb_atanh(out, a[0], prec); break;
    case TKD_FN_ABS:
        acb_abs(acb_realref(out), a[0], prec);
        arb_zero(acb_imagref(out));
        break;
    case TKD_FN_SIGN: acb_sgn(out, a[0], prec); break;
    case TKD_FN_FLOOR:
    case TKD_FN_CEILING:
    case TKD_FN_FRAC:
        if ((rc = real_arg(a[0], x->name, v->e)))
            break;
        acb_zero(out);
        if (x->op == TKD_FN_CEILING)
            arb_ceil(acb_realref(out), acb_realref(a[0]), prec);
        else
            arb_floor(acb_realref(out), acb_realref(a[0]), prec);
        if (x->op == TKD_FN_FRAC)
            arb_sub(acb_realref(out), acb_realref(a[0]), acb_realref(out), prec);
        break;
    case TKD_FN_RE: acb_set_arb(out, acb_realref(a[0])); break;
    case TKD_FN_IM: acb_set_arb(out, acb_imagref(a[0])); break;
    case TKD_FN_CONJUGATE: acb_conj(out, a[0]); break;
    case TKD_FN_ARG:
        acb_zero(out);
        acb_arg(acb_realref(out), a[0], prec);
        break;
    case TKD_FN_GAMMA: acb_gamma(out, a[0], prec); break;
    case TKD_FN_FACTORIAL:
        acb_add_ui(out, a[0], 1, prec);
        acb_gamma(out, out, prec);
        break;
    case TKD_FN_BINOMIAL: {
        /* Gamma(n+1) / (Gamma(k+1) Gamma(n-k+1)), via rising factorials for stability */
        acb_t t;
        acb_init(t);
        acb_add_ui(out, a[0], 1, prec);
        acb_rgamma(out, out, prec);
        acb_add_ui(t, a[1], 1, prec);
        acb_gamma(t, t, prec);
        acb_mul(out, out, t, prec);
        acb_sub(t, a[0], a[1], prec);
        acb_add_ui(t, t, 1, prec);
        acb_gamma(t, t, prec);
        acb_mul(out, out, t, prec);
        acb_inv(out, out, prec);
        acb_clear(t);
        break;
    }
    case TKD_FN_MOD:
        if ((rc = real_arg(a[0], "Mod", v->e)) || (rc = real_arg(a[1], "Mod", v->e)))
            break;
        acb_zero(out);
        arb_div(acb_realref(out), acb_realref(a[0]), acb_realref(a[1]), prec);
        arb_floor(acb_realref(out), acb_realref(out), prec);
        arb_mul(acb_realref(out), acb_realref(out), acb_realref(a[1]), prec);
        arb_sub(acb_realref(out), acb_realref(a[0]), acb_realref(out), prec);
        break;
    case TKD_FN_GCD:
    case TKD_FN_LCM: rc = int_fn(out, x, a, v); break;
    case TKD_FN_MIN:
    case TKD_FN_MAX:
        acb_set(out, a[0]);
        for (size_t i = 0; i < n && !rc; i++) {
            if ((rc = real_arg(a[i], x->name, v->e)))
                break;
            if (x->op == TKD_FN_MIN)
                arb_min(acb_realref(out), acb_realref(out), acb_realref(a[i]), prec);
            else
                arb_max(acb_realref(out), acb_realref(out), acb_realref(a[i]), prec);
        }
        break;
    default: rc = tkd_err_set(v->e, TKD_EINVAL, "%s() has no numeric evaluation", x->name); break;
    }
done:
    for (size_t i = 0; i < n; i++)
        acb_clear(a[i]);
    return rc;
}

static int ev(acb_t out, const tkd_expr *x, env *v, int depth) {
    if (depth > MAX_REC)
        return tkd_err_set(v->e, TKD_ELIMIT, "expression nested deeper than TKD_EXPR_MAX_DEPTH");
    slong prec = v->prec;
    int rc = 0;
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: acb_set_fmpq(out, x->q, prec); return 0;
    case TKD_EX_CONST:
        switch (x->op) {
        case TKD_C_PI: acb_const_pi(out, prec); return 0;
        case TKD_C_E:
            acb_one(out);
            acb_exp(out, out, prec);
            return 0;
        case TKD_C_I: acb_onei(out); return 0;
        case TKD_C_OO: return tkd_err_set(v->e, TKD_EMATH, "oo (infinity) has no numeric value");
        default: return tkd_err_set(v->e, TKD_EINVAL, "True/False is not a number");
        }
    case TKD_EX_SYM:
        for (size_t i = v->nb; i-- > 0;)
            if (!strcmp(v->bname[i], x->name)) {
                acb_set(out, v->bval[i]);
                return 0;
            }
        for (size_t i = 0; i < v->n; i++)
            if (!strcmp(v->names[i], x->name)) {
                acb_set(out, v->vals + i);
                return 0;
            }
        return tkd_err_set(v->e, TKD_EINVAL, "symbol '%s' has no value for numeric evaluation", x->name);
    case TKD_EX_ADD:
    case TKD_EX_MUL: {
        acb_t t;
        acb_init(t);
        if (x->kind == TKD_EX_ADD)
            acb_zero(out);
        else
            acb_one(out);
        for (size_t i = 0; i < x->n; i++) {
            if ((rc = ev(t, x->args[i], v, depth + 1)))
                break;
            if (x->kind == TKD_EX_ADD)
                acb_add(out, out, t, prec);
            else
                acb_mul(out, out, t, prec);
        }
        acb_clear(t);
        return rc;
    }
    case TKD_EX_POW: {
        acb_t b, p;
        acb_init(b);
        acb_init(p);
        if (!(rc = ev(b, x->args[0], v, depth + 1)) && !(rc = ev(p, x->args[1], v, depth + 1))) {
            const tkd_expr *ex = x->args[1];
            if (ex->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(ex->q)) && fmpz_fits_si(fmpq_numref(ex->q)))
                acb_pow_si(out, b, fmpz_get_si(fmpq_numref(ex->q)), prec);
            else if (ex->kind == TKD_EX_NUM && fmpz_is_one(fmpq_numref(ex->q)) &&
                     fmpz_cmp_ui(fmpq_denref(ex->q), 2) == 0)
                acb_sqrt(out, b, prec);
            else
                acb_pow(out, b, p, prec);
        }
        acb_clear(b);
        acb_clear(p);
        return rc;
    }
    case TKD_EX_FUNC: return func(out, x, v, depth);
    default: return tkd_err_set(v->e, TKD_EINVAL, "not a number: a relation, list, set, matrix or text");
    }
}

int tkd_expr_eval_acb(acb_t out, const tkd_expr *x, size_t nvars, const char *const *names, acb_srcptr vals, slong prec,
                      tkd_err *e) {
    if (prec < 2 || prec > 100000)
        return tkd_err_set(e, TKD_EINVAL, "precision of %ld bits is out of range (2..100000)", (long)prec);
    env v;
    memset(&v, 0, sizeof v);
    v.n = nvars;
    v.names = names;
    v.vals = vals;
    v.prec = prec;
    v.e = e;
    int rc = ev(out, x, &v, 0);
    if (!rc && !acb_is_finite(out))
        rc = tkd_err_set(e, TKD_EMATH, "the value is not finite (division by zero, a pole, or overflow)");
    return rc;
}

int tkd_expr_eval_double(const tkd_expr *x, size_t nvars, const char *const *names, const double *vals, double *re,
                         double *im, tkd_err *e) {
    acb_ptr v = nvars ? _acb_vec_init((slong)nvars) : NULL;
    for (size_t i = 0; i < nvars; i++)
        acb_set_d(v + i, vals[i]);
    acb_t r;
    acb_init(r);
    int rc = tkd_expr_eval_acb(r, x, nvars, names, v, 128, e);
    if (!rc) {
        *re = arf_get_d(arb_midref(acb_realref(r)), ARF_RND_NEAR);
        *im = arf_get_d(arb_midref(acb_imagref(r)), ARF_RND_NEAR);
    }
    acb_clear(r);
    if (v)
        _acb_vec_clear(v, (slong)nvars);
    return rc;
}
