/*
 * Roots in closed form of a polynomial of degree >= 3 whose coefficients are
 * algebraic numbers (sqrt(3), I, 1 + I), and of rational quartics Calcium
 * writes no formula for. The polynomial is made monic and depressed by the
 * shift x = y + s (s = -a_{d-1}/d), then solved as
 *   - a binomial y^d = c when c/|c| is a root of unity: |c|^(1/d) times the
 *     d roots of unity of the right angle (z^3 = I, x^6 = 6768 + 1144*sqrt(35));
 *   - a rational polynomial when the shift made it one ((x + sqrt(2))^3 + x +
 *     sqrt(2)): factored over Z, each root by Calcium's formulas;
 *   - a biquadratic y^4 + p y^2 + r: y = +-sqrt(z), z a root of z^2 + p z + r;
 *   - a rational quartic by Ferrari's method with a root m != 0 of the
 *     resolvent cubic 8m^3 + 8p m^2 + (2p^2 - 8r) m - q^2: it splits over
 *     Q(sqrt(2m)) into two quadratics. A rational m is taken first (SymPy's
 *     nested square roots), else the positive one (there is one: the cubic
 *     is -q^2 < 0 at 0).
 * Every formula is exact for any branch of its radicals; each root written is
 * still checked by certified numerics (the polynomial's value encloses zero,
 * the d roots are distinct), so a slip refuses instead of answering wrongly.
 */
#include <stdlib.h>

#include "tools_int.h"

#include <acb_poly.h>
#include <flint/fmpq_poly.h>
#include <flint/fmpz_poly_factor.h>

#define ALG_DEG_MAX 12    /* degrees this file takes */
#define ALG_NODES_MAX 300 /* a closed form larger than this is no answer */
#define ALG_PREC 256      /* bits of the numeric check */

/* a in closed form (radicals, else roots of unity); NULL when none is short */
static tkd_expr *qx(const qqbar_t a) {
    tkd_expr *r = tkd_expr_from_qqbar(a, NULL);
    if (r && tkd_expr_count_nodes(r) > ALG_NODES_MAX) {
        tkd_expr_free(r);
        r = NULL;
    }
    return r;
}

/* x (owned) in canonical form (expanded over its radicals), or x itself */
static tkd_expr *canon(tkd_expr *x) {
    tkd_expr *n = NULL;
    tkd_err e = {0};
    if (!x || tkd_rf_canonical(x, &n, &e) || !n)
        return x;
    tkd_expr_free(x);
    return n;
}

static tkd_expr *fq(const fmpq_t q) {
    return tkd_expr_fmpq(q);
}

#define ALG_UNIT_NODES_MAX 40

/* exp(pi I m/n) as cos + I sin, each part in radicals when short (sqrt(3)/2 +
 * I/2), else cos(m*pi/n) + I*sin(m*pi/n) as SymPy writes them */
static tkd_expr *unit(slong m, ulong n) {
    fmpq_t t;
    fmpq_init(t);
    fmpq_set_si(t, m, n);
    fmpz_t tw; /* the angle into (-1, 1] */
    fmpz_init(tw);
    fmpz_mul_ui(tw, fmpq_denref(t), 2);
    fmpz_mod(fmpq_numref(t), fmpq_numref(t), tw);
    if (fmpz_cmp(fmpq_numref(t), fmpq_denref(t)) > 0)
        fmpz_sub(fmpq_numref(t), fmpq_numref(t), tw);
    fmpz_clear(tw);
    int neg = fmpz_sgn(fmpq_numref(t)) < 0; /* cos(-a) = cos(a), sin(-a) = -sin(a) */
    fmpz_abs(fmpq_numref(t), fmpq_numref(t));
    tkd_expr *part[2] = {NULL, NULL};
    qqbar_t v;
    qqbar_init(v);
    for (int k = 0; k < 2; k++) {
        if (k == 0)
            qqbar_cos_pi(v, fmpz_get_si(fmpq_numref(t)), fmpz_get_ui(fmpq_denref(t)));
        else
            qqbar_sin_pi(v, fmpz_get_si(fmpq_numref(t)), fmpz_get_ui(fmpq_denref(t)));
        part[k] = qqbar_degree(v) <= 4 ? tkd_expr_from_qqbar(v, NULL) : NULL;
        if (part[k] && tkd_expr_count_nodes(part[k]) > ALG_UNIT_NODES_MAX) {
            tkd_expr_free(part[k]);
            part[k] = NULL;
        }
        if (!part[k])
            part[k] =
                tkd_expr_fn1(k ? TKD_FN_SIN : TKD_FN_COS, tkd_expr_mul2(tkd_expr_fmpq(t), tkd_expr_const(TKD_C_PI)));
    }
    qqbar_clear(v);
    fmpq_clear(t);
    if (neg)
        part[1] = tkd_expr_neg(part[1]);
    return tkd_expr_add2(part[0], tkd_expr_mul2(part[1], tkd_expr_const(TKD_C_I)));
}

/* y^d = c (c != 0): |c|^(1/d) exp(2 pi I (p/q + k)/d), k = 0..d-1, when
 * c/|c| = exp(2 pi I p/q). 0, or -1 when c/|c| is no root of unity. */
static int binomial(const qqbar_t c, slong d, tkd_expr **ys) {
    qqbar_t ab, z, R, w;
    qqbar_init(ab);
    qqbar_init(z);
    qqbar_init(R);
    qqbar_init(w);
    qqbar_abs(ab, c);
    qqbar_div(z, c, ab);
    slong p;
    ulong q;
    int rc = -1;
    if (qqbar_is_root_of_unity(&p, &q, z)) {
        qqbar_root_ui(R, ab, (ulong)d);
        tkd_expr *Rx = qx(R);
        if (!Rx) {
            tkd_expr *ax = qx(ab);
            Rx = ax ? tkd_expr_pow(ax, tkd_expr_rat(1, d)) : NULL;
        }
        rc = Rx ? 0 : -1;
        for (slong k = 0; k < d && !rc; k++) {
            slong m = p + k * (slong)q, n = (slong)q * d;
            tkd_expr *wx = unit(2 * m, (ulong)n);
            ys[k] = tkd_expr_mul2(tkd_expr_copy(Rx), wx);
            if (!ys[k])
                rc = -1;
        }
        tkd_expr_free(Rx);
    }
    qqbar_clear(ab);
    qqbar_clear(z);
    qqbar_clear(R);
    qqbar_clear(w);
    return rc;
}

/* y^4 + p y^2 + q y + r (algebraic p, q, r; q = 0 or all rational): 0 with
 * the four roots in ys, or -1 */
static int quartic(const qqbar_struct *b, tkd_expr **ys) {
    const qqbar_struct *r = b + 0, *q = b + 1, *p = b + 2;
    int rc = -1;
    if (qqbar_is_zero(q)) { /* z^2 + p z + r = 0, y = +-sqrt(z) */
        qqbar_t D, z;
        qqbar_init(D);
        qqbar_init(z);
        qqbar_mul(D, p, p);
        qqbar_mul_ui(z, r, 4);
        qqbar_sub(D, D, z);
        qqbar_sqrt(D, D);
        rc = 0;
        for (int sg = -1; sg <= 1 && !rc; sg += 2) {
            if (sg < 0)
                qqbar_sub(z, D, p);
            else {
                qqbar_neg(z, D);
                qqbar_sub(z, z, p);
            }
            qqbar_div_ui(z, z, 2);
            tkd_expr *zx = qx(z);
            if (!zx) {
                rc = -1;
                break;
            }
            tkd_expr *s = tkd_expr_sqrt(zx);
            ys[sg < 0 ? 0 : 2] = tkd_expr_copy(s);
            ys[sg < 0 ? 1 : 3] = tkd_expr_neg(s);
            if (!ys[sg < 0 ? 0 : 2] || !ys[sg < 0 ? 1 : 3])
                rc = -1;
        }
        qqbar_clear(D);
        qqbar_clear(z);
        return rc;
    }
    if (!qqbar_is_rational(p) || !qqbar_is_rational(q) || !qqbar_is_rational(r))
        return -1;
    fmpq_t P, Q, R, t;
    fmpq_init(P);
    fmpq_init(Q);
    fmpq_init(R);
    fmpq_init(t);
    qqbar_get_fmpq(P, p);
    qqbar_get_fmpq(Q, q);
    qqbar_get_fmpq(R, r);
    /* resolvent 8m^3 + 8P m^2 + (2P^2 - 8R) m - Q^2 */
    fmpq_poly_t res;
    fmpq_poly_init(res);
    fmpq_poly_set_coeff_si(res, 3, 8);
    fmpq_mul_si(t, P, 8);
    fmpq_poly_set_coeff_fmpq(res, 2, t);
    fmpq_mul(t, P, P);
    fmpq_mul_si(t, t, 2);
    fmpq_t r8;
    fmpq_init(r8);
    fmpq_mul_si(r8, R, 8);
    fmpq_sub(t, t, r8);
    fmpq_clear(r8);
    fmpq_poly_set_coeff_fmpq(res, 1, t);
    fmpq_mul(t, Q, Q);
    fmpq_neg(t, t);
    fmpq_poly_set_coeff_fmpq(res, 0, t);
    qqbar_ptr ms = _qqbar_vec_init(3);
    qqbar_roots_fmpq_poly(ms, res, 0);
    slong best = -1;
    for (slong i = 0; i < 3; i++) { /* rational (positive first), else real positive */
        int ri = qqbar_is_rational(ms + i), pi = qqbar_is_real(ms + i) && qqbar_sgn_re(ms + i) > 0;
        if (!ri && !pi)
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        int rb = qqbar_is_rational(ms + best), pb = qqbar_is_real(ms + best) && qqbar_sgn_re(ms + best) > 0;
        if ((ri && !rb) || (ri == rb && pi && !pb))
            best = i;
    }
    tkd_expr *mx = best >= 0 ? qx(ms + best) : NULL;
    if (mx) {
        /* s = sqrt(2m); roots sg*s/2 +- sqrt(-P/2 - m/2 - sg*s*Q/(4m)) */
        qqbar_t m2;
        qqbar_init(m2);
        qqbar_mul_ui(m2, ms + best, 2);
        qqbar_sqrt(m2, m2);
        tkd_expr *s = qqbar_degree(m2) <= 4 ? qx(m2) : NULL;
        if (!s)
            s = tkd_expr_sqrt(canon(tkd_expr_mul2(tkd_expr_int(2), tkd_expr_copy(mx))));
        qqbar_clear(m2);
        fmpq_t hp, q4;
        fmpq_init(hp);
        fmpq_init(q4);
        fmpq_div_fmpz(hp, P, (fmpz_t){-2});
        fmpq_div_fmpz(q4, Q, (fmpz_t){4});
        rc = s ? 0 : -1;
        for (int sg = -1; sg <= 1 && !rc; sg += 2) {
            tkd_expr *A = tkd_expr_mul2(tkd_expr_rat(sg, 2), tkd_expr_copy(s));
            tkd_expr *T = tkd_expr_add(
                3, (tkd_expr *[]){
                       fq(hp), tkd_expr_mul2(tkd_expr_rat(-1, 2), tkd_expr_copy(mx)),
                       tkd_expr_div(tkd_expr_mul(3, (tkd_expr *[]){tkd_expr_int(-sg), fq(q4), tkd_expr_copy(s)}),
                                    tkd_expr_copy(mx))});
            tkd_expr *sq = tkd_expr_sqrt(canon(T));
            ys[sg < 0 ? 0 : 2] = tkd_expr_add2(tkd_expr_copy(A), tkd_expr_copy(sq));
            ys[sg < 0 ? 1 : 3] = tkd_expr_sub(A, sq);
            if (!ys[sg < 0 ? 0 : 2] || !ys[sg < 0 ? 1 : 3])
                rc = -1;
        }
        tkd_expr_free(s);
        fmpq_clear(hp);
        fmpq_clear(q4);
    }
    tkd_expr_free(mx);
    _qqbar_vec_clear(ms, 3);
    fmpq_poly_clear(res);
    fmpq_clear(P);
    fmpq_clear(Q);
    fmpq_clear(R);
    fmpq_clear(t);
    return rc;
}

static int roots_monic(const qqbar_struct *a, slong d, tkd_expr **xs, int inner);

/* b: a depressed monic polynomial of degree d; 0 with d roots in ys, or -1 */
static int depressed(const qqbar_struct *b, slong d, tkd_expr **ys, int inner) {
    int binom = 1, rational = 1;
    for (slong k = 1; k < d; k++)
        binom &= qqbar_is_zero(b + k);
    for (slong k = 0; k <= d; k++)
        rational &= qqbar_is_rational(b + k);
    if (binom && !qqbar_is_zero(b + 0)) {
        qqbar_t c;
        qqbar_init(c);
        qqbar_neg(c, b + 0);
        int rc = binomial(c, d, ys);
        qqbar_clear(c);
        if (!rc)
            return 0;
    }
    if (rational && !inner) { /* factored over Z, each factor by Calcium or again here */
        fmpq_poly_t P;
        fmpq_poly_init(P);
        fmpq_t t;
        fmpq_init(t);
        for (slong k = 0; k <= d; k++) {
            qqbar_get_fmpq(t, b + k);
            fmpq_poly_set_coeff_fmpq(P, k, t);
        }
        fmpz_poly_t Z;
        fmpz_poly_init(Z);
        fmpq_poly_get_numerator(Z, P);
        fmpz_poly_factor_t f;
        fmpz_poly_factor_init(f);
        fmpz_poly_factor(f, Z);
        slong n = 0;
        int rc = 0;
        for (slong i = 0; i < f->num && !rc; i++) {
            slong fd = fmpz_poly_degree(f->p + i);
            if (f->exp[i] != 1) { /* a repeated factor: the caller's polynomial was not squarefree */
                rc = -1;
                break;
            }
            qqbar_ptr r = _qqbar_vec_init(fd);
            qqbar_roots_fmpz_poly(r, f->p + i, QQBAR_ROOTS_IRREDUCIBLE);
            slong j = 0;
            for (; j < fd; j++) {
                ys[n + j] = qx(r + j);
                if (!ys[n + j])
                    break;
            }
            if (j < fd) { /* no formula from Calcium: its monic coefficients, solved here */
                for (slong k = 0; k < j; k++) {
                    tkd_expr_free(ys[n + k]);
                    ys[n + k] = NULL;
                }
                qqbar_ptr a = _qqbar_vec_init(fd + 1);
                for (slong k = 0; k <= fd; k++) {
                    qqbar_set_fmpz(a + k, f->p[i].coeffs + k);
                    qqbar_div_fmpz(a + k, a + k, f->p[i].coeffs + fd);
                }
                rc = roots_monic(a, fd, ys + n, 1);
                _qqbar_vec_clear(a, fd + 1);
            }
            _qqbar_vec_clear(r, fd);
            n += fd;
        }
        fmpz_poly_factor_clear(f);
        fmpz_poly_clear(Z);
        fmpq_poly_clear(P);
        fmpq_clear(t);
        return rc || n != d ? -1 : 0;
    }
    if (d == 4)
        return quartic(b, ys);
    return -1;
}

/* a: monic of degree d; 0 with the d roots in xs (owned), or -1 (xs freed) */
static int roots_monic(const qqbar_struct *a, slong d, tkd_expr **xs, int inner) {
    qqbar_t s, t, u;
    qqbar_init(s);
    qqbar_init(t);
    qqbar_init(u);
    qqbar_div_si(s, a + d - 1, -d);
    /* b = coefficients of a(y + s): b_j = sum_k a_k binom(k, j) s^(k - j) */
    qqbar_ptr b = _qqbar_vec_init(d + 1);
    fmpz_t bin;
    fmpz_init(bin);
    for (slong j = 0; j <= d; j++)
        for (slong k = j; k <= d; k++) {
            fmpz_bin_uiui(bin, (ulong)k, (ulong)j);
            qqbar_pow_ui(t, s, (ulong)(k - j));
            qqbar_mul_fmpz(t, t, bin);
            qqbar_mul(t, t, a + k);
            qqbar_add(b + j, b + j, t);
        }
    fmpz_clear(bin);
    tkd_expr **ys = calloc((size_t)d, sizeof *ys);
    int rc = ys ? depressed(b, d, ys, inner) : -1;
    tkd_expr *sx = rc ? NULL : qx(s);
    if (!sx)
        rc = -1;
    for (slong k = 0; k < d; k++) {
        xs[k] = rc || !ys[k] ? NULL : qqbar_is_zero(s) ? ys[k] : tkd_expr_add2(ys[k], tkd_expr_copy(sx));
        if (rc || !xs[k]) {
            if (rc)
                tkd_expr_free(ys[k]);
            rc = -1;
        }
    }
    if (rc)
        for (slong k = 0; k < d; k++) {
            tkd_expr_free(xs[k]);
            xs[k] = NULL;
        }
    tkd_expr_free(sx);
    free(ys);
    _qqbar_vec_clear(b, d + 1);
    qqbar_clear(s);
    qqbar_clear(t);
    qqbar_clear(u);
    return rc;
}

/* the d values are distinct roots of c: certified balls, the polynomial's
 * value at each encloses zero, no two balls overlap */
static int certify(const qqbar_struct *c, slong d, tkd_expr **xs) {
    acb_ptr v = _acb_vec_init(d), cc = _acb_vec_init(d + 1);
    acb_t y;
    acb_init(y);
    int ok = 1;
    for (slong k = 0; k <= d; k++)
        qqbar_get_acb(cc + k, c + k, ALG_PREC);
    for (slong i = 0; i < d && ok; i++) {
        tkd_err e = {0};
        ok = !tkd_expr_eval_acb(v + i, xs[i], 0, NULL, NULL, ALG_PREC, &e) && acb_is_finite(v + i) &&
             acb_rel_accuracy_bits(v + i) > 64;
        if (ok) {
            _acb_poly_evaluate(y, cc, d + 1, v + i, ALG_PREC);
            ok = acb_contains_zero(y);
        }
        for (slong j = 0; j < i && ok; j++)
            ok = !acb_overlaps(v + i, v + j);
    }
    acb_clear(y);
    _acb_vec_clear(v, d);
    _acb_vec_clear(cc, d + 1);
    return ok;
}

int talg_roots(const qqbar_struct *c, slong d, tlist *out, tkd_err *e) {
    if (d < 3 || d > ALG_DEG_MAX || qqbar_is_zero(c + d))
        return TRAD_NOT_MINE;
    qqbar_ptr a = _qqbar_vec_init(d + 1);
    for (slong k = 0; k <= d; k++)
        qqbar_div(a + k, c + k, c + d);
    tkd_expr **xs = calloc((size_t)d, sizeof *xs);
    int rc = xs && !roots_monic(a, d, xs, 0) ? 0 : TRAD_NOT_MINE;
    for (slong k = 0; k < d && !rc; k++) { /* canonical form */
        xs[k] = canon(xs[k]);
    }
    if (!rc && !certify(c, d, xs))
        rc = TRAD_NOT_MINE;
    for (slong k = 0; k < d; k++) {
        if (!rc) {
            rc = tlist_add(out, xs[k], e);
            xs[k] = NULL;
        }
        tkd_expr_free(xs[k]);
    }
    free(xs);
    _qqbar_vec_clear(a, d + 1);
    return rc;
}
