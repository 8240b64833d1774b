/*
 * Evaluation of answer trees: exact rationals on FLINT (fmpq) where the value
 * is rational, and certified complex balls on Arb (acb) otherwise, with free
 * symbols bound to the points the comparer picks. Both stop when the
 * comparison's deadline passes; sizes that could make one FLINT or Arb call
 * slow (huge powers, factorials) are refused up front and left to Arb's
 * floating exponents.
 */
#include "gnode.h"

#include <acb_hypgeom.h>
#include <arb_hypgeom.h>
#include <string.h>

#define EXACT_MAX_BITS (1L << 17) /* largest exact power/factorial result, bits */
#define EXACT_MAX_FACT 20000      /* largest n! computed exactly */
#define EXACT_MAX_ROOT 64         /* largest q in an exact x^(p/q) */
#define NUM_MAX_DIGITS 4000       /* longest number literal evaluated */

int gctx_expired(gctx *c) {
    if (c->timed_out)
        return 1;
    if ((++c->ticks & 15) == 0 && tkd_now() > c->deadline)
        c->timed_out = 1;
    return c->timed_out;
}

static int num_q(const gnode *n, fmpq_t out) {
    if (strlen(n->str) > NUM_MAX_DIGITS)
        return 0;
    fmpz_t t;
    fmpz_init(t);
    int base = n->k == GN_BASENUM ? n->places : 10;
    int ok = fmpz_set_str(t, n->str, base) == 0;
    if (ok) {
        fmpq_set_fmpz_frac(out, t, (fmpz_t){1});
        int frac = n->k == GN_NUM ? n->places : n->rows;
        if (frac > 0) {
            fmpz_t d;
            fmpz_init(d);
            fmpz_ui_pow_ui(d, (ulong)base, (ulong)frac);
            fmpq_div_fmpz(out, out, d);
            fmpz_clear(d);
        }
    }
    fmpz_clear(t);
    return ok;
}

/* Exact r^(1/q) for rational r when it is rational. */
static int q_root(fmpq_t out, const fmpq_t r, ulong q) {
    if (fmpq_sgn(r) < 0 && q % 2 == 0)
        return 0;
    fmpz_t a, b;
    fmpz_init(a);
    fmpz_init(b);
    int ok = 0;
    int neg = fmpq_sgn(r) < 0;
    fmpz_abs(a, fmpq_numref(r));
    fmpz_root(a, a, (slong)q);
    fmpz_pow_ui(b, a, q);
    ok = fmpz_cmpabs(b, fmpq_numref(r)) == 0;
    if (ok) {
        fmpz_t d;
        fmpz_init(d);
        fmpz_root(d, fmpq_denref(r), (slong)q);
        fmpz_pow_ui(b, d, q);
        ok = fmpz_equal(b, fmpq_denref(r));
        if (ok) {
            if (neg)
                fmpz_neg(a, a);
            fmpq_set_fmpz_frac(out, a, d);
        }
        fmpz_clear(d);
    }
    fmpz_clear(a);
    fmpz_clear(b);
    return ok;
}

static int q_pow(fmpq_t out, const fmpq_t b, const fmpq_t e) {
    if (!fmpz_is_one(fmpq_denref(e))) {
        /* b^(p/q): exact only if the q-th root of b is rational */
        if (!fmpz_fits_si(fmpq_denref(e)) || fmpz_get_si(fmpq_denref(e)) > EXACT_MAX_ROOT)
            return 0;
        fmpq_t r, e2;
        fmpq_init(r);
        fmpq_init(e2);
        int ok = q_root(r, b, (ulong)fmpz_get_si(fmpq_denref(e)));
        if (ok) {
            fmpq_set_fmpz_frac(e2, fmpq_numref(e), (fmpz_t){1});
            ok = q_pow(out, r, e2);
        }
        fmpq_clear(r);
        fmpq_clear(e2);
        return ok;
    }
    if (!fmpz_fits_si(fmpq_numref(e)))
        return 0;
    slong k = fmpz_get_si(fmpq_numref(e));
    if (fmpq_is_zero(b))
        return k < 0 ? 0 : (fmpq_set_si(out, k == 0, 1), 1);
    if (fmpq_is_one(b) || (k == 0)) {
        fmpq_one(out);
        return 1;
    }
    slong bits = (slong)(fmpz_bits(fmpq_numref(b)) + fmpz_bits(fmpq_denref(b)));
    slong ak = k < 0 ? -k : k;
    if (ak > EXACT_MAX_BITS || bits * ak > EXACT_MAX_BITS)
        return 0;
    fmpq_pow_si(out, b, k);
    return 1;
}

static int is_int(const fmpq_t x) {
    return fmpz_is_one(fmpq_denref(x));
}

int geval_q(const gnode *n, fmpq_t out, gctx *c) {
    if (gctx_expired(c))
        return -1;
    fmpq_t x, y;
    int r = 0;
    switch (n->k) {
    case GN_NUM:
    case GN_BASENUM: return num_q(n, out);
    case GN_ADD:
    case GN_MUL:
        fmpq_init(x);
        fmpq_set_si(out, n->k == GN_MUL, 1);
        r = 1;
        for (int i = 0; i < n->n && r == 1; i++) {
            r = geval_q(n->kid[i], x, c);
            if (r == 1) {
                if (n->k == GN_ADD)
                    fmpq_add(out, out, x);
                else
                    fmpq_mul(out, out, x);
            }
        }
        fmpq_clear(x);
        return r;
    case GN_NEG:
        r = geval_q(n->kid[0], out, c);
        if (r == 1)
            fmpq_neg(out, out);
        return r;
    case GN_PERCENT:
        r = geval_q(n->kid[0], out, c);
        if (r == 1)
            fmpq_div_fmpz(out, out, (fmpz_t){100});
        return r;
    case GN_DIV:
    case GN_POW:
        fmpq_init(x);
        fmpq_init(y);
        r = geval_q(n->kid[0], x, c);
        if (r == 1)
            r = geval_q(n->kid[1], y, c);
        if (r == 1) {
            if (n->k == GN_DIV)
                r = fmpq_is_zero(y) ? 0 : (fmpq_div(out, x, y), 1);
            else
                r = q_pow(out, x, y);
        }
        fmpq_clear(x);
        fmpq_clear(y);
        return r;
    case GN_FACT:
        fmpq_init(x);
        r = geval_q(n->kid[0], x, c);
        if (r == 1) {
            r = is_int(x) && fmpz_sgn(fmpq_numref(x)) >= 0 && fmpz_cmp_si(fmpq_numref(x), EXACT_MAX_FACT) <= 0;
            if (r) {
                fmpz_fac_ui(fmpq_numref(out), fmpz_get_ui(fmpq_numref(x)));
                fmpz_one(fmpq_denref(out));
            }
        }
        fmpq_clear(x);
        return r;
    case GN_FUNC: {
        const char *f = n->str;
        if (n->n < 1)
            return 0;
        fmpq_init(x);
        fmpq_init(y);
        r = geval_q(n->kid[0], x, c);
        if (r == 1 && n->n == 2)
            r = geval_q(n->kid[1], y, c);
        if (r != 1) {
            fmpq_clear(x);
            fmpq_clear(y);
            return r;
        }
        r = 0;
        if (!strcmp(f, "sqrt") && n->n == 1) {
            r = q_root(out, x, 2);
        } else if (!strcmp(f, "root") && n->n == 2) {
            r = is_int(y) && fmpz_cmp_si(fmpq_numref(y), 1) >= 0 && fmpz_cmp_si(fmpq_numref(y), EXACT_MAX_ROOT) <= 0 &&
                q_root(out, x, fmpz_get_ui(fmpq_numref(y)));
        } else if (!strcmp(f, "abs") && n->n == 1) {
            fmpq_abs(out, x);
            r = 1;
        } else if ((!strcmp(f, "floor") || !strcmp(f, "ceil")) && n->n == 1) {
            if (f[0] == 'f')
                fmpz_fdiv_q(fmpq_numref(out), fmpq_numref(x), fmpq_denref(x));
            else
                fmpz_cdiv_q(fmpq_numref(out), fmpq_numref(x), fmpq_denref(x));
            fmpz_one(fmpq_denref(out));
            r = 1;
        } else if (!strcmp(f, "binom") && n->n == 2) {
            r = is_int(x) && is_int(y) && fmpz_sgn(fmpq_numref(y)) >= 0 && fmpz_sgn(fmpq_numref(x)) >= 0 &&
                fmpz_cmp_si(fmpq_numref(x), 1000000) <= 0 && fmpz_cmp_si(fmpq_numref(y), EXACT_MAX_FACT) <= 0;
            if (r) {
                fmpz_bin_uiui(fmpq_numref(out), fmpz_get_ui(fmpq_numref(x)), fmpz_get_ui(fmpq_numref(y)));
                fmpz_one(fmpq_denref(out));
            }
        } else if ((!strcmp(f, "gcd") || !strcmp(f, "lcm")) && n->n == 2 && is_int(x) && is_int(y)) {
            if (f[0] == 'g')
                fmpz_gcd(fmpq_numref(out), fmpq_numref(x), fmpq_numref(y));
            else
                fmpz_lcm(fmpq_numref(out), fmpq_numref(x), fmpq_numref(y));
            fmpz_one(fmpq_denref(out));
            r = 1;
        } else if ((!strcmp(f, "max") || !strcmp(f, "min")) && n->n == 2) {
            int ge = fmpq_cmp(x, y) >= 0;
            fmpq_set(out, (ge == (f[1] == 'a')) ? x : y);
            r = 1;
        } else if (!strcmp(f, "log") && n->n == 2) {
            /* log_b x rational when x = b^k for an integer k: try small k */
            if (fmpq_sgn(y) > 0 && !fmpq_is_one(y) && fmpq_sgn(x) > 0)
                for (slong k = -64; k <= 64 && !r; k++) {
                    fmpq_t t;
                    fmpq_init(t);
                    fmpq_t ek;
                    fmpq_init(ek);
                    fmpq_set_si(ek, k, 1);
                    if (q_pow(t, y, ek) && fmpq_equal(t, x)) {
                        fmpq_set_si(out, k, 1);
                        r = 1;
                    }
                    fmpq_clear(t);
                    fmpq_clear(ek);
                }
        }
        fmpq_clear(x);
        fmpq_clear(y);
        return r;
    }
    default: return 0;
    }
}

static int lookup(gctx *c, const char *name) {
    for (int i = 0; i < c->nvars; i++)
        if (!strcmp(c->var[i], name))
            return i;
    return -1;
}

static int fin(acb_t v) {
    return acb_is_finite(v) ? 0 : -1;
}

/* Evaluate both kids of a binary node; returns like geval_acb. */
static int two(const gnode *n, acb_t x, acb_t y, slong prec, gctx *c) {
    int r = geval_acb(n->kid[0], x, prec, c);
    return r ? r : geval_acb(n->kid[1], y, prec, c);
}

static int func_acb(const gnode *n, acb_t out, slong prec, gctx *c) {
    const char *f = n->str;
    acb_t x, y;
    acb_init(x);
    acb_init(y);
    int r = n->n >= 1 ? geval_acb(n->kid[0], x, prec, c) : -1;
    if (!r && n->n == 2)
        r = geval_acb(n->kid[1], y, prec, c);
    if (r)
        goto done;
    r = 0;
    if (n->n == 1) {
        if (!strcmp(f, "sqrt"))
            acb_sqrt(out, x, prec);
        else if (!strcmp(f, "sin"))
            acb_sin(out, x, prec);
        else if (!strcmp(f, "cos"))
            acb_cos(out, x, prec);
        else if (!strcmp(f, "tan"))
            acb_tan(out, x, prec);
        else if (!strcmp(f, "sec"))
            acb_sec(out, x, prec);
        else if (!strcmp(f, "csc"))
            acb_csc(out, x, prec);
        else if (!strcmp(f, "cot"))
            acb_cot(out, x, prec);
        else if (!strcmp(f, "arcsin"))
            acb_asin(out, x, prec);
        else if (!strcmp(f, "arccos"))
            acb_acos(out, x, prec);
        else if (!strcmp(f, "arctan"))
            acb_atan(out, x, prec);
        else if (!strcmp(f, "arcsec") || !strcmp(f, "arccsc") || !strcmp(f, "arccot")) {
            acb_inv(y, x, prec);
            if (f[4] == 'e')
                acb_acos(out, y, prec);
            else if (f[4] == 's')
                acb_asin(out, y, prec);
            else
                acb_atan(out, y, prec);
        } else if (!strcmp(f, "sinh"))
            acb_sinh(out, x, prec);
        else if (!strcmp(f, "cosh"))
            acb_cosh(out, x, prec);
        else if (!strcmp(f, "tanh"))
            acb_tanh(out, x, prec);
        else if (!strcmp(f, "exp"))
            acb_exp(out, x, prec);
        else if (!strcmp(f, "ln") || !strcmp(f, "log"))
            acb_log(out, x, prec);
        else if (!strcmp(f, "abs")) {
            acb_abs(acb_realref(out), x, prec);
            arb_zero(acb_imagref(out));
        } else if ((!strcmp(f, "floor") || !strcmp(f, "ceil")) && acb_is_real(x)) {
            if (f[0] == 'f')
                arb_floor(acb_realref(out), acb_realref(x), prec);
            else
                arb_ceil(acb_realref(out), acb_realref(x), prec);
            arb_zero(acb_imagref(out));
        } else
            r = -1;
    } else if (n->n == 2) {
        if (!strcmp(f, "log")) {
            acb_log(x, x, prec);
            acb_log(y, y, prec);
            acb_div(out, x, y, prec);
        } else if (!strcmp(f, "root")) {
            fmpq_t q;
            fmpq_init(q);
            int k = geval_q(n->kid[1], q, c);
            if (k == 1 && is_int(q) && fmpz_cmp_si(fmpq_numref(q), 1) >= 0 && fmpz_cmp_si(fmpq_numref(q), 1000) <= 0) {
                ulong m = fmpz_get_ui(fmpq_numref(q));
                if (acb_is_real(x) && arb_is_negative(acb_realref(x)) && (m & 1)) {
                    acb_neg(x, x); /* the real odd root: \sqrt[3]{-8} = -2 */
                    acb_root_ui(out, x, m, prec);
                    acb_neg(out, out);
                } else {
                    acb_root_ui(out, x, m, prec);
                }
            } else {
                acb_inv(y, y, prec);
                acb_pow(out, x, y, prec);
            }
            fmpq_clear(q);
            r = k < 0 ? -2 : 0;
        } else if (!strcmp(f, "binom")) {
            /* Gamma(x+1) / (Gamma(y+1) Gamma(x-y+1)) */
            acb_t g1, g2, g3;
            acb_init(g1);
            acb_init(g2);
            acb_init(g3);
            acb_add_ui(g1, x, 1, prec);
            acb_rgamma(g1, g1, prec);
            acb_add_ui(g2, y, 1, prec);
            acb_gamma(g2, g2, prec);
            acb_sub(g3, x, y, prec);
            acb_add_ui(g3, g3, 1, prec);
            acb_gamma(g3, g3, prec);
            acb_mul(g1, g1, g2, prec);
            acb_mul(g1, g1, g3, prec);
            acb_inv(out, g1, prec);
            acb_clear(g1);
            acb_clear(g2);
            acb_clear(g3);
        } else if ((!strcmp(f, "max") || !strcmp(f, "min")) && acb_is_real(x) && acb_is_real(y)) {
            if (f[1] == 'a')
                arb_max(acb_realref(out), acb_realref(x), acb_realref(y), prec);
            else
                arb_min(acb_realref(out), acb_realref(x), acb_realref(y), prec);
            arb_zero(acb_imagref(out));
        } else
            r = -1;
    } else
        r = -1;
done:
    acb_clear(x);
    acb_clear(y);
    return r ? r : fin(out);
}

int geval_acb(const gnode *n, acb_t out, slong prec, gctx *c) {
    if (gctx_expired(c))
        return -2;
    int r = 0;
    acb_t x, y;
    switch (n->k) {
    case GN_NUM:
    case GN_BASENUM: {
        fmpq_t q;
        fmpq_init(q);
        r = num_q(n, q) ? 0 : -1;
        if (!r)
            acb_set_fmpq(out, q, prec);
        fmpq_clear(q);
        return r;
    }
    case GN_SYM: {
        int i = lookup(c, n->str);
        if (i < 0)
            return -1;
        acb_set(out, c->val[i]);
        return 0;
    }
    case GN_CONST:
        if (!strcmp(n->str, "pi"))
            acb_const_pi(out, prec);
        else if (!strcmp(n->str, "e")) {
            acb_one(out);
            acb_exp(out, out, prec);
        } else if (!strcmp(n->str, "i"))
            acb_onei(out);
        else
            return -1;
        return 0;
    case GN_ADD:
    case GN_MUL:
        acb_init(x);
        acb_set_si(out, n->k == GN_MUL);
        for (int i = 0; i < n->n && !r; i++) {
            r = geval_acb(n->kid[i], x, prec, c);
            if (!r) {
                if (n->k == GN_ADD)
                    acb_add(out, out, x, prec);
                else
                    acb_mul(out, out, x, prec);
            }
        }
        acb_clear(x);
        return r ? r : fin(out);
    case GN_NEG:
        r = geval_acb(n->kid[0], out, prec, c);
        if (!r)
            acb_neg(out, out);
        return r;
    case GN_PERCENT:
        r = geval_acb(n->kid[0], out, prec, c);
        if (!r)
            acb_div_ui(out, out, 100, prec);
        return r;
    case GN_DIV:
        acb_init(x);
        acb_init(y);
        r = two(n, x, y, prec, c);
        if (!r) {
            if (acb_contains_zero(y))
                r = -1;
            else
                acb_div(out, x, y, prec);
        }
        acb_clear(x);
        acb_clear(y);
        return r ? r : fin(out);
    case GN_POW: {
        acb_init(x);
        acb_init(y);
        fmpq_t q;
        fmpq_init(q);
        r = geval_acb(n->kid[0], x, prec, c);
        int k = r ? 0 : geval_q(n->kid[1], q, c);
        if (k < 0)
            r = -2;
        if (!r && k == 1 && is_int(q) && fmpz_bits(fmpq_numref(q)) <= 62) {
            if (acb_contains_zero(x) && fmpz_sgn(fmpq_numref(q)) < 0)
                r = -1;
            else
                acb_pow_fmpz(out, x, fmpq_numref(q), prec);
        } else if (!r && k == 1 && fmpz_cmp_si(fmpq_denref(q), 1000) <= 0 && fmpz_is_odd(fmpq_denref(q)) &&
                   acb_is_real(x) && arb_is_negative(acb_realref(x)) && fmpz_bits(fmpq_numref(q)) <= 62) {
            /* (-8)^(2/3): the real root, as a student means it */
            acb_neg(x, x);
            acb_root_ui(x, x, fmpz_get_ui(fmpq_denref(q)), prec);
            acb_pow_fmpz(out, x, fmpq_numref(q), prec);
            if (fmpz_is_odd(fmpq_numref(q)))
                acb_neg(out, out);
        } else if (!r) {
            r = geval_acb(n->kid[1], y, prec, c);
            if (!r) {
                if (acb_contains_zero(x))
                    r = acb_is_zero(x) && arb_is_positive(acb_realref(y)) ? (acb_zero(out), 0) : -1;
                else
                    acb_pow(out, x, y, prec);
            }
        }
        fmpq_clear(q);
        acb_clear(x);
        acb_clear(y);
        return r ? r : fin(out);
    }
    case GN_FACT:
        r = geval_acb(n->kid[0], out, prec, c);
        if (!r) {
            acb_add_ui(out, out, 1, prec);
            acb_gamma(out, out, prec);
        }
        return r ? r : fin(out);
    case GN_FUNC: return func_acb(n, out, prec, c);
    default: return -1;
    }
}

int gfree_syms(const gnode *n, const char **names, int max, int count) {
    if (!n || count < 0)
        return count;
    if (n->k == GN_SYM) {
        for (int i = 0; i < count; i++)
            if (!strcmp(names[i], n->str))
                return count;
        if (count == max)
            return -1;
        names[count++] = n->str;
        return count;
    }
    for (int i = 0; i < n->n && count >= 0; i++)
        count = gfree_syms(n->kid[i], names, max, count);
    return count;
}

int ghas_kind(const gnode *n, gkind k) {
    if (!n)
        return 0;
    if (n->k == k)
        return 1;
    for (int i = 0; i < n->n; i++)
        if (ghas_kind(n->kid[i], k))
            return 1;
    return 0;
}
