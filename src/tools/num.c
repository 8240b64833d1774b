/*
 * Exact numbers for the tools: an expression without free symbols becomes a
 * Calcium number (ca_t: sqrt, pi, e, i, logs, trig at rational multiples of
 * pi, all exact), and a Calcium or qqbar number becomes an expression again
 * through Calcium's formula output (fexpr), printed in SymPy syntax by expr's
 * printer. A number Calcium can only name as "the root of P near z" is not
 * written out: the tool says so instead of printing a decimal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <acb.h>

#include <calcium/fexpr_builtin.h>

#define POW_EXP_MAX 100000 /* |integer exponent| evaluated exactly */

static int unknown(const ca_t x, ca_ctx_t ctx) {
    return ca_is_unknown(x, ctx) || ca_check_is_undefined(x, ctx) == T_TRUE;
}

static int fn_arg(const tkd_expr *x, size_t want, tkd_err *e) {
    if (x->n != want)
        return tkd_err_set(e, TKD_EINVAL, "%s takes %zu argument%s, got %zu", x->name ? x->name : "function", want,
                           want == 1 ? "" : "s", x->n);
    return 0;
}

static int int_arg(const ca_t v, fmpz_t z, const char *what, ca_ctx_t ctx, tkd_err *e) {
    fmpq_t q;
    fmpq_init(q);
    int ok = ca_get_fmpq(q, v, ctx) && fmpz_is_one(fmpq_denref(q));
    if (ok)
        fmpz_set(z, fmpq_numref(q));
    fmpq_clear(q);
    return ok ? 0 : tkd_err_set(e, TKD_EMATH, "%s needs an integer argument here", what);
}

/* sin, cos, tan at a rational multiple of pi with a small denominator, as
 * an algebraic number (qqbar): much cheaper than Calcium's cyclotomic
 * fields, and rational values come out rational. 1 when done. */
static int trig_pi(ca_t out, tkd_fn_id id, const ca_t a, ca_ctx_t ctx) {
    ca_t pi, r;
    ca_init(pi, ctx);
    ca_init(r, ctx);
    ca_pi(pi, ctx);
    ca_div(r, a, pi, ctx);
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
            done = qqbar_tan_pi(v, p, d); /* 0 at a pole */
        if (done)
            ca_set_qqbar(out, v, ctx);
        qqbar_clear(v);
    }
    fmpq_clear(q);
    ca_clear(pi, ctx);
    ca_clear(r, ctx);
    return done;
}

int tnum_from_ast(ca_t out, const tkd_expr *x, ca_ctx_t ctx, tkd_err *e) {
    ca_t a, b;
    int rc = 0;
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: ca_set_fmpq(out, x->q, ctx); return 0;
    case TKD_EX_SYM:
        return tkd_err_set(e, TKD_EINVAL,
                           "the expression contains the symbol '%s'; this needs a number (substitute a value for it)",
                           x->name);
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
    case TKD_EX_ADD:
    case TKD_EX_MUL:
        ca_init(a, ctx);
        if (x->kind == TKD_EX_ADD)
            ca_zero(out, ctx);
        else
            ca_one(out, ctx);
        for (size_t i = 0; i < x->n && !rc; i++) {
            if (!(rc = tnum_from_ast(a, x->args[i], ctx, e))) {
                if (x->kind == TKD_EX_ADD)
                    ca_add(out, out, a, ctx);
                else
                    ca_mul(out, out, a, ctx);
            }
        }
        ca_clear(a, ctx);
        break;
    case TKD_EX_POW: {
        const tkd_expr *ex = x->args[1];
        ca_init(a, ctx);
        rc = tnum_from_ast(a, x->args[0], ctx, e);
        if (!rc && (ex->kind == TKD_EX_NUM || ex->kind == TKD_EX_DEC)) {
            if (tfmpz_abs_gt(fmpq_numref(ex->q), POW_EXP_MAX) && ca_check_is_zero(a, ctx) != T_TRUE &&
                ca_check_is_one(a, ctx) != T_TRUE && ca_check_is_neg_one(a, ctx) != T_TRUE)
                rc = tkd_err_set(e, TKD_ELIMIT, "an exponent above %d is too large to evaluate exactly", POW_EXP_MAX);
            else if (ca_check_is_zero(a, ctx) == T_TRUE && fmpq_sgn(ex->q) < 0)
                rc = tkd_err_set(e, TKD_EMATH, "division by zero (0 raised to a negative power)");
            else {
                fmpq_t q;
                fmpq_init(q);
                fmpq_set(q, ex->q);
                ca_pow_fmpq(out, a, q, ctx);
                fmpq_clear(q);
            }
        } else if (!rc) {
            ca_init(b, ctx);
            rc = tnum_from_ast(b, ex, ctx, e);
            if (!rc)
                ca_pow(out, a, b, ctx);
            ca_clear(b, ctx);
        }
        ca_clear(a, ctx);
        break;
    }
    case TKD_EX_FUNC: {
        tkd_fn_id id = (tkd_fn_id)x->op;
        if (id == TKD_FN_LOG && x->n == 2) {
            ca_init(a, ctx);
            ca_init(b, ctx);
            rc = tnum_from_ast(a, x->args[0], ctx, e);
            if (!rc)
                rc = tnum_from_ast(b, x->args[1], ctx, e);
            if (!rc) {
                ca_log(a, a, ctx);
                ca_log(b, b, ctx);
                ca_div(out, a, b, ctx);
            }
            ca_clear(a, ctx);
            ca_clear(b, ctx);
            break;
        }
        if (id == TKD_FN_BINOMIAL || id == TKD_FN_GCD || id == TKD_FN_LCM || id == TKD_FN_MOD) {
            if ((rc = fn_arg(x, 2, e)))
                return rc;
            fmpz_t p, q;
            fmpz_init(p);
            fmpz_init(q);
            ca_init(a, ctx);
            ca_init(b, ctx);
            rc = tnum_from_ast(a, x->args[0], ctx, e);
            if (!rc)
                rc = tnum_from_ast(b, x->args[1], ctx, e);
            if (!rc && id == TKD_FN_MOD && ca_check_is_zero(b, ctx) == T_TRUE)
                rc = tkd_err_set(e, TKD_EMATH, "Mod(a, 0) is undefined");
            if (!rc && id == TKD_FN_MOD) { /* a - b*floor(a/b) */
                ca_t t;
                ca_init(t, ctx);
                ca_div(t, a, b, ctx);
                ca_floor(t, t, ctx);
                ca_mul(t, t, b, ctx);
                ca_sub(out, a, t, ctx);
                ca_clear(t, ctx);
            } else if (!rc && !(rc = int_arg(a, p, tkd_expr_fn_name(id), ctx, e)) &&
                       !(rc = int_arg(b, q, tkd_expr_fn_name(id), ctx, e))) {
                if (id == TKD_FN_BINOMIAL) {
                    if (fmpz_sgn(p) < 0 || fmpz_sgn(q) < 0 || fmpz_cmp_ui(q, 100000) > 0 ||
                        fmpz_cmp_ui(p, 10000000) > 0)
                        rc = tkd_err_set(e, TKD_ELIMIT,
                                         "binomial(n, k) is evaluated for 0 <= n <= 10**7, 0 <= k <= 10**5 (use the "
                                         "binomial tool otherwise)");
                    else
                        fmpz_bin_uiui(p, fmpz_get_ui(p), fmpz_get_ui(q));
                } else if (id == TKD_FN_GCD) {
                    fmpz_gcd(p, p, q);
                } else {
                    fmpz_lcm(p, p, q);
                }
                if (!rc)
                    ca_set_fmpz(out, p, ctx);
            }
            fmpz_clear(p);
            fmpz_clear(q);
            ca_clear(a, ctx);
            ca_clear(b, ctx);
            break;
        }
        if (id == TKD_FN_UNDEF || id == TKD_FN_SUM || id == TKD_FN_PRODUCT || id == TKD_FN_MIN || id == TKD_FN_MAX ||
            id == TKD_FN_ATAN2 || id == TKD_FN_GAMMA)
            return tkd_err_set(e, TKD_EMATH, "the function '%s' cannot be evaluated exactly here",
                               x->name ? x->name : "?");
        if ((rc = fn_arg(x, 1, e)))
            return rc;
        ca_init(a, ctx);
        rc = tnum_from_ast(a, x->args[0], ctx, e);
        if (!rc && (id == TKD_FN_SIN || id == TKD_FN_COS || id == TKD_FN_TAN) && trig_pi(out, id, a, ctx) == 1) {
            ca_clear(a, ctx);
            return 0;
        }
        if (!rc) {
            switch (id) {
            case TKD_FN_EXP: ca_exp(out, a, ctx); break;
            case TKD_FN_LOG:
                if (ca_check_is_zero(a, ctx) == T_TRUE)
                    rc = tkd_err_set(e, TKD_EMATH, "log(0) is undefined");
                else
                    ca_log(out, a, ctx);
                break;
            case TKD_FN_SIN: ca_sin(out, a, ctx); break;
            case TKD_FN_COS: ca_cos(out, a, ctx); break;
            case TKD_FN_TAN: ca_tan(out, a, ctx); break;
            case TKD_FN_SEC:
                ca_cos(out, a, ctx);
                ca_inv(out, out, ctx);
                break;
            case TKD_FN_CSC:
                ca_sin(out, a, ctx);
                ca_inv(out, out, ctx);
                break;
            case TKD_FN_COT:
                ca_tan(out, a, ctx);
                ca_inv(out, out, ctx);
                break;
            case TKD_FN_ASIN: ca_asin(out, a, ctx); break;
            case TKD_FN_ACOS: ca_acos(out, a, ctx); break;
            case TKD_FN_ATAN: ca_atan(out, a, ctx); break;
            case TKD_FN_ACOT:
                ca_inv(out, a, ctx);
                ca_atan(out, out, ctx);
                break;
            case TKD_FN_SINH:
            case TKD_FN_COSH:
            case TKD_FN_TANH: {
                ca_t p, m;
                ca_init(p, ctx);
                ca_init(m, ctx);
                ca_exp(p, a, ctx);
                ca_inv(m, p, ctx);
                if (id == TKD_FN_SINH || id == TKD_FN_TANH)
                    ca_sub(out, p, m, ctx);
                else
                    ca_add(out, p, m, ctx);
                if (id == TKD_FN_TANH) {
                    ca_add(p, p, m, ctx);
                    ca_div(out, out, p, ctx);
                } else {
                    ca_div_ui(out, out, 2, ctx);
                }
                ca_clear(p, ctx);
                ca_clear(m, ctx);
                break;
            }
            case TKD_FN_ABS: ca_abs(out, a, ctx); break;
            case TKD_FN_SIGN: ca_sgn(out, a, ctx); break;
            case TKD_FN_FLOOR: ca_floor(out, a, ctx); break;
            case TKD_FN_CEILING: ca_ceil(out, a, ctx); break;
            case TKD_FN_RE: ca_re(out, a, ctx); break;
            case TKD_FN_IM: ca_im(out, a, ctx); break;
            case TKD_FN_CONJUGATE: ca_conj(out, a, ctx); break;
            case TKD_FN_ARG: ca_arg(out, a, ctx); break;
            case TKD_FN_FRAC:
                ca_floor(out, a, ctx);
                ca_sub(out, a, out, ctx);
                break;
            case TKD_FN_FACTORIAL: {
                fmpz_t n;
                fmpz_init(n);
                rc = int_arg(a, n, "factorial", ctx, e);
                if (!rc && (fmpz_sgn(n) < 0 || fmpz_cmp_ui(n, 100000) > 0))
                    rc = tkd_err_set(e, fmpz_sgn(n) < 0 ? TKD_EMATH : TKD_ELIMIT,
                                     "factorial(n) is evaluated for integers 0 <= n <= 100000");
                if (!rc) {
                    fmpz_fac_ui(n, fmpz_get_ui(n));
                    ca_set_fmpz(out, n, ctx);
                }
                fmpz_clear(n);
                break;
            }
            default:
                rc = tkd_err_set(e, TKD_EMATH, "the function '%s' cannot be evaluated exactly here",
                                 x->name ? x->name : "?");
            }
        }
        ca_clear(a, ctx);
        break;
    }
    default:
        return tkd_err_set(e, TKD_EINVAL, "expected a number or an arithmetic expression, got a list, relation or set");
    }
    if (!rc && unknown(out, ctx))
        rc = tkd_err_set(e, TKD_EMATH, "the value is undefined (e.g. a division by zero or a pole)");
    return rc;
}

/* ---- back to expressions ---- */

typedef struct defs {
    char *name[16];
    tkd_expr *val[16];
    int n;
} defs;

static tkd_expr *from_fexpr(const fexpr_t f, defs *d, int *ok);

static tkd_expr *args_of(const fexpr_t f, defs *d, int *ok, size_t *n, tkd_expr ***out) {
    slong na = fexpr_nargs(f);
    *n = (size_t)na;
    *out = calloc((size_t)(na > 0 ? na : 1), sizeof **out);
    if (!*out) {
        *ok = 0;
        return NULL;
    }
    fexpr_t a;
    for (slong i = 0; i < na && *ok; i++) {
        fexpr_view_arg(a, f, i);
        (*out)[i] = from_fexpr(a, d, ok);
    }
    return (tkd_expr *)*out;
}

static void free_args(tkd_expr **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        tkd_expr_free(v[i]);
    free(v);
}

static tkd_expr *from_fexpr(const fexpr_t f, defs *d, int *ok) {
    if (!*ok)
        return NULL;
    if (fexpr_is_integer(f)) {
        fmpz_t z;
        fmpz_init(z);
        fexpr_get_fmpz(z, f);
        tkd_expr *r = tkd_expr_fmpz(z);
        fmpz_clear(z);
        return r;
    }
    if (fexpr_is_builtin_symbol(f, FEXPR_Pi))
        return tkd_expr_const(TKD_C_PI);
    if (fexpr_is_builtin_symbol(f, FEXPR_NumberI))
        return tkd_expr_const(TKD_C_I);
    if (fexpr_is_builtin_symbol(f, FEXPR_NumberE))
        return tkd_expr_const(TKD_C_E);
    if (fexpr_is_builtin_symbol(f, FEXPR_Infinity))
        return tkd_expr_const(TKD_C_OO);
    if (fexpr_is_symbol(f)) {
        char *s = fexpr_get_symbol_str(f);
        tkd_expr *r = NULL;
        for (int i = 0; s && i < d->n; i++)
            if (!strcmp(s, d->name[i]))
                r = tkd_expr_copy(d->val[i]);
        flint_free(s);
        if (!r)
            *ok = 0;
        return r;
    }
    if (fexpr_is_builtin_call(f, FEXPR_Where)) {
        slong na = fexpr_nargs(f);
        fexpr_t a, name, val;
        for (slong i = 1; i < na && *ok; i++) {
            fexpr_view_arg(a, f, i);
            if (!fexpr_is_builtin_call(a, FEXPR_Def) || fexpr_nargs(a) != 2 || d->n == 16) {
                *ok = 0;
                break;
            }
            fexpr_view_arg(name, a, 0);
            fexpr_view_arg(val, a, 1);
            tkd_expr *v = from_fexpr(val, d, ok);
            if (!*ok) {
                tkd_expr_free(v);
                break;
            }
            d->name[d->n] = fexpr_get_symbol_str(name);
            d->val[d->n++] = v;
        }
        fexpr_view_arg(a, f, 0);
        return *ok ? from_fexpr(a, d, ok) : NULL;
    }
    size_t n;
    tkd_expr **v;
    args_of(f, d, ok, &n, &v);
    if (!*ok) {
        if (v)
            free_args(v, n);
        return NULL;
    }
    tkd_expr *r = NULL;
    static const struct {
        slong b;
        tkd_fn_id id;
    } fns[] = {{FEXPR_Exp, TKD_FN_EXP},   {FEXPR_Log, TKD_FN_LOG},     {FEXPR_Sin, TKD_FN_SIN},
               {FEXPR_Cos, TKD_FN_COS},   {FEXPR_Tan, TKD_FN_TAN},     {FEXPR_Atan, TKD_FN_ATAN},
               {FEXPR_Asin, TKD_FN_ASIN}, {FEXPR_Acos, TKD_FN_ACOS},   {FEXPR_Abs, TKD_FN_ABS},
               {FEXPR_Sign, TKD_FN_SIGN}, {FEXPR_Floor, TKD_FN_FLOOR}, {FEXPR_Ceil, TKD_FN_CEILING}};
    if (fexpr_is_builtin_call(f, FEXPR_Add) && n >= 1) {
        r = tkd_expr_add(n, v);
    } else if (fexpr_is_builtin_call(f, FEXPR_Mul) && n >= 1) {
        r = tkd_expr_mul(n, v);
    } else if (fexpr_is_builtin_call(f, FEXPR_Sub) && n == 2) {
        r = tkd_expr_sub(v[0], v[1]);
    } else if (fexpr_is_builtin_call(f, FEXPR_Div) && n == 2) {
        r = tkd_expr_div(v[0], v[1]);
    } else if (fexpr_is_builtin_call(f, FEXPR_Neg) && n == 1) {
        r = tkd_expr_neg(v[0]);
    } else if (fexpr_is_builtin_call(f, FEXPR_Pow) && n == 2) {
        r = tkd_expr_pow(v[0], v[1]);
    } else if (fexpr_is_builtin_call(f, FEXPR_Sqrt) && n == 1) {
        r = tkd_expr_sqrt(v[0]);
    } else {
        for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
            if (fexpr_is_builtin_call(f, fns[i].b) && n == 1)
                r = tkd_expr_fn1(fns[i].id, v[0]);
        if (!r) {
            *ok = 0;
            free_args(v, n);
            return NULL;
        }
    }
    free(v); /* the constructors own the elements now */
    if (!r)
        *ok = 0;
    return r;
}

static tkd_expr *fexpr_to_ast(const fexpr_t f, tkd_err *e) {
    defs d = {{0}, {0}, 0};
    int ok = 1;
    tkd_expr *r = from_fexpr(f, &d, &ok);
    for (int i = 0; i < d.n; i++) {
        flint_free(d.name[i]);
        tkd_expr_free(d.val[i]);
    }
    if (!ok || !r) {
        tkd_expr_free(r);
        tkd_err_set(e, TKD_EMATH,
                    "the exact value has no closed form that can be written here (it is a root of a polynomial without "
                    "a radical formula)");
        return NULL;
    }
    return r;
}

/* sqrt(q) as an expression: rational when q is a square. */
static tkd_expr *sqrt_q(const fmpq_t q) {
    if (fmpq_sgn(q) >= 0 && fmpz_is_square(fmpq_numref(q)) && fmpz_is_square(fmpq_denref(q))) {
        fmpq_t r;
        fmpq_init(r);
        fmpz_sqrt(fmpq_numref(r), fmpq_numref(q));
        fmpz_sqrt(fmpq_denref(r), fmpq_denref(q));
        tkd_expr *x = tkd_expr_fmpq(r);
        fmpq_clear(r);
        return x;
    }
    return tkd_expr_sqrt(tkd_expr_fmpq(q));
}

/* Cardano's formula for a root of an irreducible cubic: the three choices
 * of cube root give the three roots; the one equal to x is found by
 * certified numerics (the roots are distinct, so exactly one matches). */
static tkd_expr *cubic(const qqbar_t x) {
    const fmpz *c = QQBAR_COEFFS(x); /* c0 + c1 t + c2 t^2 + c3 t^3 */
    fmpq_t p, q, D, sh, t;
    fmpq_init(p);
    fmpq_init(q);
    fmpq_init(D);
    fmpq_init(sh);
    fmpq_init(t);
    fmpz_t u;
    fmpz_init(u);
    /* p = (3 c3 c1 - c2^2) / (3 c3^2), q = (2 c2^3 - 9 c3 c2 c1 + 27 c3^2 c0) / (27 c3^3) */
    fmpz_mul(u, c + 3, c + 1);
    fmpz_mul_ui(u, u, 3);
    fmpz_submul(u, c + 2, c + 2);
    fmpq_set_fmpz_frac(p, u, c + 3);
    fmpq_div_fmpz(p, p, c + 3);
    fmpq_div_fmpz(p, p, (fmpz_t){3});
    fmpz_pow_ui(u, c + 2, 3);
    fmpz_mul_ui(u, u, 2);
    fmpz_t w;
    fmpz_init(w);
    fmpz_mul(w, c + 3, c + 2);
    fmpz_mul(w, w, c + 1);
    fmpz_submul_ui(u, w, 9);
    fmpz_mul(w, c + 3, c + 3);
    fmpz_mul(w, w, c + 0);
    fmpz_addmul_ui(u, w, 27);
    fmpz_pow_ui(w, c + 3, 3);
    fmpz_mul_ui(w, w, 27);
    fmpq_set_fmpz_frac(q, u, w);
    fmpq_set_fmpz_frac(sh, c + 2, c + 3); /* x = y - c2/(3 c3) */
    fmpq_div_fmpz(sh, sh, (fmpz_t){3});
    fmpq_mul(D, q, q); /* D = q^2/4 + p^3/27 */
    fmpq_div_fmpz(D, D, (fmpz_t){4});
    fmpq_pow_si(t, p, 3);
    fmpq_div_fmpz(t, t, (fmpz_t){27});
    fmpq_add(D, D, t);
    fmpq_div_fmpz(t, q, (fmpz_t){-2}); /* -q/2 */
    tkd_expr *best = NULL;
    acb_t xv, yv;
    acb_init(xv);
    acb_init(yv);
    qqbar_get_acb(xv, x, 256);
    /* one real root (D > 0): Cardano with the real cube root of a positive
     * radicand, so the answer is visibly real */
    if (fmpq_sgn(D) > 0 && qqbar_is_real(x)) {
        fmpq_t h;
        fmpq_init(h);
        fmpq_div_fmpz(h, q, (fmpz_t){2}); /* q/2; t = -q/2 */
        tkd_expr *C;
        if (fmpq_sgn(q) <= 0) /* (-q/2 + sqrt(D))^(1/3), radicand > 0 */
            C = tkd_expr_pow(tkd_expr_add2(tkd_expr_fmpq(t), sqrt_q(D)), tkd_expr_rat(1, 3));
        else if (fmpq_sgn(p) < 0) /* -(q/2 - sqrt(D))^(1/3), radicand > 0 */
            C = tkd_expr_neg(tkd_expr_pow(tkd_expr_sub(tkd_expr_fmpq(h), sqrt_q(D)), tkd_expr_rat(1, 3)));
        else /* -(q/2 + sqrt(D))^(1/3) */
            C = tkd_expr_neg(tkd_expr_pow(tkd_expr_add2(tkd_expr_fmpq(h), sqrt_q(D)), tkd_expr_rat(1, 3)));
        tkd_expr *y = fmpq_is_zero(p) ? C
                                      : tkd_expr_sub(tkd_expr_copy(C),
                                                     tkd_expr_div(tkd_expr_fmpq(p), tkd_expr_mul2(tkd_expr_int(3), C)));
        fmpq_t nsh;
        fmpq_init(nsh);
        fmpq_neg(nsh, sh);
        tkd_expr *cand = fmpq_is_zero(nsh) ? y : tkd_expr_add2(y, tkd_expr_fmpq(nsh));
        tkd_err e = {0};
        if (cand && !tkd_expr_eval_acb(yv, cand, 0, NULL, NULL, 256, &e) && acb_is_finite(yv) && acb_overlaps(xv, yv) &&
            acb_rel_accuracy_bits(yv) > 64)
            best = cand;
        else
            tkd_expr_free(cand);
        fmpq_clear(nsh);
        fmpq_clear(h);
    }
    /* three real roots (D < 0): the trigonometric form keeps them visibly real,
     * y_k = 2 sqrt(-p/3) cos(acos(3q/(2p) sqrt(-3/p))/3 - 2 pi k/3) */
    for (int k = 0; k < 3 && !best && fmpq_sgn(D) < 0 && qqbar_is_real(x); k++) {
        fmpq_t mp3, c;
        fmpq_init(mp3);
        fmpq_init(c);
        fmpq_div_fmpz(mp3, p, (fmpz_t){-3}); /* -p/3 > 0 */
        fmpq_mul_fmpz(c, q, (fmpz_t){3});    /* 3q/(2p) */
        fmpq_div(c, c, p);
        fmpq_div_fmpz(c, c, (fmpz_t){2});
        fmpq_t m3p;
        fmpq_init(m3p);
        fmpq_inv(m3p, mp3); /* -3/p = 1/(-p/3) */
        tkd_expr *arg = tkd_expr_mul2(tkd_expr_fmpq(c), sqrt_q(m3p));
        tkd_expr *ang = tkd_expr_div(tkd_expr_fn1(TKD_FN_ACOS, arg), tkd_expr_int(3));
        if (k)
            ang = tkd_expr_sub(ang, tkd_expr_mul2(tkd_expr_rat(2 * k, 3), tkd_expr_const(TKD_C_PI)));
        tkd_expr *y = tkd_expr_mul(3, (tkd_expr *[]){tkd_expr_int(2), sqrt_q(mp3), tkd_expr_fn1(TKD_FN_COS, ang)});
        fmpq_t nsh;
        fmpq_init(nsh);
        fmpq_neg(nsh, sh);
        tkd_expr *cand = fmpq_is_zero(nsh) ? y : tkd_expr_add2(y, tkd_expr_fmpq(nsh));
        tkd_err e = {0};
        if (cand && !tkd_expr_eval_acb(yv, cand, 0, NULL, NULL, 256, &e) && acb_is_finite(yv) && acb_overlaps(xv, yv) &&
            acb_rel_accuracy_bits(yv) > 64)
            best = cand;
        else
            tkd_expr_free(cand);
        fmpq_clear(nsh);
        fmpq_clear(mp3);
        fmpq_clear(c);
        fmpq_clear(m3p);
    }
    for (int sg = 1; sg >= -1 && !best; sg -= 2) {
        for (int k = 0; k < 3 && !best; k++) {
            /* C = omega^k * (-q/2 + sg*sqrt(D))^(1/3); y = C - p/(3 C) */
            tkd_expr *sd = sqrt_q(D), *A;
            if (sd && sd->kind == TKD_EX_NUM) { /* a rational radicand */
                fmpq_t a;
                fmpq_init(a);
                if (sg > 0)
                    fmpq_add(a, t, sd->q);
                else
                    fmpq_sub(a, t, sd->q);
                A = tkd_expr_fmpq(a);
                fmpq_clear(a);
                tkd_expr_free(sd);
            } else {
                A = tkd_expr_add2(tkd_expr_fmpq(t), tkd_expr_mul2(tkd_expr_int(sg), sd));
            }
            tkd_expr *C = tkd_expr_pow(A, tkd_expr_rat(1, 3));
            if (k) {
                tkd_expr *om = tkd_expr_div(
                    tkd_expr_add2(tkd_expr_int(-1), tkd_expr_mul2(tkd_expr_int(k == 1 ? 1 : -1),
                                                                  tkd_expr_mul2(tkd_expr_sqrt(tkd_expr_int(3)),
                                                                                tkd_expr_const(TKD_C_I)))),
                    tkd_expr_int(2));
                C = tkd_expr_mul2(om, C);
            }
            tkd_expr *y =
                fmpq_is_zero(p)
                    ? C
                    : tkd_expr_sub(tkd_expr_copy(C), tkd_expr_div(tkd_expr_fmpq(p), tkd_expr_mul2(tkd_expr_int(3), C)));
            fmpq_t nsh;
            fmpq_init(nsh);
            fmpq_neg(nsh, sh);
            tkd_expr *cand = fmpq_is_zero(nsh) ? y : tkd_expr_add2(y, tkd_expr_fmpq(nsh));
            fmpq_clear(nsh);
            tkd_err e = {0};
            if (cand && !tkd_expr_eval_acb(yv, cand, 0, NULL, NULL, 256, &e) && acb_is_finite(yv) &&
                acb_overlaps(xv, yv) && acb_rel_accuracy_bits(yv) > 64)
                best = cand;
            else
                tkd_expr_free(cand);
        }
    }
    acb_clear(xv);
    acb_clear(yv);
    fmpq_clear(p);
    fmpq_clear(q);
    fmpq_clear(D);
    fmpq_clear(sh);
    fmpq_clear(t);
    fmpz_clear(u);
    fmpz_clear(w);
    return best;
}

tkd_expr *tnum_qqbar_to_ast(const qqbar_t x, tkd_err *e) {
    fexpr_t f;
    fexpr_init(f);
    tkd_expr *r = NULL;
    /* radicals first (short, fast); roots of unity only when that fails */
    const ulong radicals = QQBAR_FORMULA_GAUSSIANS | QQBAR_FORMULA_QUADRATICS | QQBAR_FORMULA_CUBICS |
                           QQBAR_FORMULA_QUARTICS | QQBAR_FORMULA_DEPRESSION | QQBAR_FORMULA_DEFLATION |
                           QQBAR_FORMULA_SEPARATION;
    if (qqbar_get_fexpr_formula(f, x, radicals) || qqbar_get_fexpr_formula(f, x, QQBAR_FORMULA_ALL))
        r = fexpr_to_ast(f, e);
    else if (qqbar_degree(x) == 3 && (r = cubic(x)) != NULL)
        ;
    else
        tkd_err_set(e, TKD_EMATH, "an algebraic number (degree %ld) has no radical formula that can be written here",
                    (long)qqbar_degree(x));
    fexpr_clear(f);
    return r;
}

tkd_expr *tnum_to_ast(const ca_t x, ca_ctx_t ctx, tkd_err *e) {
    if (unknown(x, ctx)) {
        tkd_err_set(e, TKD_EMATH, "the value is undefined");
        return NULL;
    }
    if (ca_check_is_infinity(x, ctx) == T_TRUE) {
        if (ca_check_is_uinf(x, ctx) == T_TRUE) {
            tkd_err_set(e, TKD_EMATH, "the value is complex infinity (zoo): the expression has a pole there");
            return NULL;
        }
    }
    fmpq_t q;
    fmpq_init(q);
    if (ca_get_fmpq(q, x, ctx)) {
        tkd_expr *r = tkd_expr_fmpq(q);
        fmpq_clear(q);
        return r;
    }
    fmpq_clear(q);
    qqbar_t a;
    qqbar_init(a);
    tkd_expr *r = NULL;
    if (ca_get_qqbar(a, x, ctx) && qqbar_degree(a) <= 8) {
        tkd_err e2 = {0};
        r = tnum_qqbar_to_ast(a, &e2);
    }
    qqbar_clear(a);
    if (r)
        return r;
    fexpr_t f;
    fexpr_init(f);
    ca_get_fexpr(f, x, 0, ctx);
    r = fexpr_to_ast(f, e);
    fexpr_clear(f);
    return r;
}

char *tnum_decimal(const ca_t x, long digits, ca_ctx_t ctx) {
    return ca_get_decimal_str(x, digits, 0, ctx);
}

/* Parse an expression string (or a JSON number) to a ca number. */
int tnum_from_json(ca_t out, const tkd_json *v, const char *what, ca_ctx_t ctx, tkd_err *e) {
    tkd_expr *x = NULL;
    int rc = tparse_json(v, what, &x, e);
    if (!rc)
        rc = tnum_from_ast(out, x, ctx, e);
    if (rc)
        tkd_err_wrap(e, "%s", what);
    tkd_expr_free(x);
    return rc;
}
