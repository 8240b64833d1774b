/*
 * expr algebraic numbers: a qqbar (an exact algebraic number) written in
 * closed form. Calcium's formulas first (radicals, then roots of unity);
 * for a cubic it has none for, Cardano's formula, in its trigonometric form
 * when all three roots are real, with the branch that equals the number
 * chosen by certified numerics. Used by tkd_expr_from_ca, the exact roots of
 * polynomials and the tools.
 */
#include "expr_internal.h"

#include <calcium/fexpr.h>

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

/* y + shift is the root whose enclosure is xv: then *best takes it (1);
 * otherwise it is freed (0). y is owned. */
static int pick(tkd_expr **best, tkd_expr *y, const fmpq_t shift, const acb_t xv) {
    tkd_expr *cand = fmpq_is_zero(shift) ? y : tkd_expr_add2(y, tkd_expr_fmpq(shift));
    acb_t yv;
    acb_init(yv);
    tkd_err e = {0};
    if (cand && !tkd_expr_eval_acb(yv, cand, 0, NULL, NULL, 256, &e) && acb_is_finite(yv) && acb_overlaps(xv, yv) &&
        acb_rel_accuracy_bits(yv) > 64)
        *best = cand;
    else
        tkd_expr_free(cand);
    acb_clear(yv);
    return *best != NULL;
}

/* C - p/(3 C), the depressed cubic's root for the cube root C (owned) */
static tkd_expr *cardano_y(tkd_expr *C, const fmpq_t p) {
    if (fmpq_is_zero(p))
        return C;
    return tkd_expr_sub(tkd_expr_copy(C), tkd_expr_div(tkd_expr_fmpq(p), tkd_expr_mul2(tkd_expr_int(3), C)));
}

/* Cardano's formula for a root of an irreducible cubic: the three choices
 * of cube root give the three roots; the one equal to x is found by
 * certified numerics (the roots are distinct, so exactly one matches). */
static tkd_expr *cubic(const qqbar_t x) {
    const fmpz *c = QQBAR_COEFFS(x); /* c0 + c1 t + c2 t^2 + c3 t^3 */
    fmpq_t p, q, D, sh, t, h;
    fmpq_init(p);
    fmpq_init(q);
    fmpq_init(D);
    fmpq_init(sh);
    fmpq_init(t);
    fmpq_init(h);
    fmpz_t u, w;
    fmpz_init(u);
    fmpz_init(w);
    /* p = (3 c3 c1 - c2^2) / (3 c3^2), q = (2 c2^3 - 9 c3 c2 c1 + 27 c3^2 c0) / (27 c3^3) */
    fmpz_mul(u, c + 3, c + 1);
    fmpz_mul_ui(u, u, 3);
    fmpz_submul(u, c + 2, c + 2);
    fmpq_set_fmpz_frac(p, u, c + 3);
    fmpq_div_fmpz(p, p, c + 3);
    fmpq_div_fmpz(p, p, (fmpz_t){3});
    fmpz_pow_ui(u, c + 2, 3);
    fmpz_mul_ui(u, u, 2);
    fmpz_mul(w, c + 3, c + 2);
    fmpz_mul(w, w, c + 1);
    fmpz_submul_ui(u, w, 9);
    fmpz_mul(w, c + 3, c + 3);
    fmpz_mul(w, w, c + 0);
    fmpz_addmul_ui(u, w, 27);
    fmpz_pow_ui(w, c + 3, 3);
    fmpz_mul_ui(w, w, 27);
    fmpq_set_fmpz_frac(q, u, w);
    fmpq_set_fmpz_frac(sh, c + 2, c + 3); /* x = y + sh, sh = -c2/(3 c3) */
    fmpq_div_fmpz(sh, sh, (fmpz_t){-3});
    fmpq_mul(D, q, q); /* D = q^2/4 + p^3/27 */
    fmpq_div_fmpz(D, D, (fmpz_t){4});
    fmpq_pow_si(t, p, 3);
    fmpq_div_fmpz(t, t, (fmpz_t){27});
    fmpq_add(D, D, t);
    fmpq_div_fmpz(t, q, (fmpz_t){-2}); /* -q/2 */
    fmpq_neg(h, t);                    /* q/2 */
    tkd_expr *best = NULL;
    acb_t xv;
    acb_init(xv);
    qqbar_get_acb(xv, x, 256);
    /* one real root (D > 0): Cardano with the real cube root of a positive
     * radicand, so the answer is visibly real */
    if (fmpq_sgn(D) > 0 && qqbar_is_real(x)) {
        tkd_expr *C;
        if (fmpq_sgn(q) <= 0) /* (-q/2 + sqrt(D))^(1/3), radicand > 0 */
            C = tkd_expr_pow(tkd_expr_add2(tkd_expr_fmpq(t), sqrt_q(D)), tkd_expr_rat(1, 3));
        else if (fmpq_sgn(p) < 0) /* -(q/2 - sqrt(D))^(1/3), radicand > 0 */
            C = tkd_expr_neg(tkd_expr_pow(tkd_expr_sub(tkd_expr_fmpq(h), sqrt_q(D)), tkd_expr_rat(1, 3)));
        else /* -(q/2 + sqrt(D))^(1/3) */
            C = tkd_expr_neg(tkd_expr_pow(tkd_expr_add2(tkd_expr_fmpq(h), sqrt_q(D)), tkd_expr_rat(1, 3)));
        pick(&best, cardano_y(C, p), sh, xv);
    }
    /* three real roots (D < 0): the trigonometric form keeps them visibly real,
     * y_k = 2 sqrt(-p/3) cos(acos(3q/(2p) sqrt(-3/p))/3 - 2 pi k/3) */
    for (int k = 0; k < 3 && !best && fmpq_sgn(D) < 0 && qqbar_is_real(x); k++) {
        fmpq_t mp3, m3p, cq;
        fmpq_init(mp3);
        fmpq_init(m3p);
        fmpq_init(cq);
        fmpq_div_fmpz(mp3, p, (fmpz_t){-3}); /* -p/3 > 0 */
        fmpq_inv(m3p, mp3);                  /* -3/p */
        fmpq_mul_fmpz(cq, q, (fmpz_t){3});   /* 3q/(2p) */
        fmpq_div(cq, cq, p);
        fmpq_div_fmpz(cq, cq, (fmpz_t){2});
        tkd_expr *arg = tkd_expr_mul2(tkd_expr_fmpq(cq), sqrt_q(m3p));
        tkd_expr *ang = tkd_expr_div(tkd_expr_fn1(TKD_FN_ACOS, arg), tkd_expr_int(3));
        if (k)
            ang = tkd_expr_sub(ang, tkd_expr_mul2(tkd_expr_rat(2 * k, 3), tkd_expr_const(TKD_C_PI)));
        pick(&best, tkd_expr_mul(3, (tkd_expr *[]){tkd_expr_int(2), sqrt_q(mp3), tkd_expr_fn1(TKD_FN_COS, ang)}), sh,
             xv);
        fmpq_clear(mp3);
        fmpq_clear(m3p);
        fmpq_clear(cq);
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
            pick(&best, cardano_y(C, p), sh, xv);
        }
    }
    acb_clear(xv);
    fmpq_clear(p);
    fmpq_clear(q);
    fmpq_clear(D);
    fmpq_clear(sh);
    fmpq_clear(t);
    fmpq_clear(h);
    fmpz_clear(u);
    fmpz_clear(w);
    return best;
}

tkd_expr *tkd_expr_from_qqbar(const qqbar_t x, tkd_err *e) {
    if (qqbar_is_rational(x)) {
        fmpq_t q;
        fmpq_init(q);
        qqbar_get_fmpq(q, x);
        tkd_expr *r = tkd_expr_fmpq(q);
        fmpq_clear(q);
        if (!r)
            tkd_err_set(e, TKD_ENOMEM, "out of memory");
        return r;
    }
    fexpr_t f;
    fexpr_init(f);
    tkd_expr *r = NULL;
    /* radicals first (short, fast); roots of unity only when that fails */
    const ulong radicals = QQBAR_FORMULA_GAUSSIANS | QQBAR_FORMULA_QUADRATICS | QQBAR_FORMULA_CUBICS |
                           QQBAR_FORMULA_QUARTICS | QQBAR_FORMULA_DEPRESSION | QQBAR_FORMULA_DEFLATION |
                           QQBAR_FORMULA_SEPARATION;
    if (qqbar_get_fexpr_formula(f, x, radicals) || qqbar_get_fexpr_formula(f, x, QQBAR_FORMULA_ALL))
        r = tkd_expr_from_fexpr(f);
    else if (qqbar_degree(x) == 3)
        r = cubic(x);
    fexpr_clear(f);
    if (!r)
        tkd_err_set(e, TKD_EMATH, "an algebraic number (degree %ld) has no radical formula that can be written here",
                    (long)qqbar_degree(x));
    return r;
}
