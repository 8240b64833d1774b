/*
 * Scalars and equations for the comparer: exact rationals first (FLINT), then
 * Arb balls at 256 and 1024 bits, at random points when free variables
 * remain; the decimal-rounding rule; equations as proportional differences.
 */
#include "equal_p.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers on trees ---- */

/* A decimal literal, maybe negated: its NUM node, else NULL. */
static const gnode *decimal_lit(const gnode *n, int *neg) {
    *neg = 0;
    if (n->k == GN_NEG) {
        *neg = 1;
        n = n->kid[0];
    }
    return (n->k == GN_NUM && n->places > 0) ? n : NULL;
}

static int sig_digits(const char *digits) {
    while (*digits == '0')
        digits++;
    return (int)strlen(digits);
}

/* +inf: 1, -inf: -1, not an infinity: 0 */
static int inf_sign(const gnode *n) {
    int s = 1;
    while (n->k == GN_NEG || (n->k == GN_MUL && n->n == 1)) {
        if (n->k == GN_NEG)
            s = -s;
        n = n->kid[0];
    }
    return (n->k == GN_CONST && !strcmp(n->str, "inf")) ? s : 0;
}

/* Decimal rule: does pred (d places, >= 3 significant digits) equal gold rounded to d places? */
static int decimal_rule_q(const gnode *pred, const fmpq_t gold) {
    int neg;
    const gnode *d = decimal_lit(pred, &neg);
    if (!d || sig_digits(d->str) < 3 || strlen(d->str) > 4000)
        return 0;
    fmpz_t m, t, p10;
    fmpz_init(m);
    fmpz_init(t);
    fmpz_init(p10);
    fmpz_set_str(m, d->str, 10);
    if (neg)
        fmpz_neg(m, m);
    fmpz_ui_pow_ui(p10, 10, (ulong)d->places);
    /* gold*10^d*2 = 2m +- 1 at most, i.e. |2*gold*10^d - 2m| <= 1 */
    fmpq_t x;
    fmpq_init(x);
    fmpq_mul_fmpz(x, gold, p10);
    fmpq_mul_2exp(x, x, 1);
    fmpz_mul_2exp(t, m, 1);
    fmpq_sub_fmpz(x, x, t);
    fmpq_abs(x, x);
    int ok = fmpq_cmp_ui(x, 1) <= 0;
    fmpq_clear(x);
    fmpz_clear(m);
    fmpz_clear(t);
    fmpz_clear(p10);
    return ok;
}

static int decimal_rule_acb(const gnode *pred, const acb_t gold, slong prec) {
    int neg;
    const gnode *d = decimal_lit(pred, &neg);
    if (!d || sig_digits(d->str) < 3 || strlen(d->str) > 4000 || !acb_is_real(gold))
        return 0;
    fmpz_t m;
    fmpz_init(m);
    fmpz_set_str(m, d->str, 10);
    if (neg)
        fmpz_neg(m, m);
    arb_t x, t;
    arb_init(x);
    arb_init(t);
    arb_ui_pow_ui(t, 10, (ulong)d->places, prec);
    arb_mul(x, acb_realref(gold), t, prec);
    arb_sub_fmpz(x, x, m, prec);
    arb_abs(x, x);
    arb_set_d(t, 0.5);
    int ok = arb_le(x, t); /* certainly within half a unit in the last place */
    arb_clear(x);
    arb_clear(t);
    fmpz_clear(m);
    return ok;
}

/* Are two balls certainly apart (1), certainly equal to working accuracy (0), or unclear (-1)? */
/* The precision after prec: PREC_HI, then once enough bits for an absolute
 * accuracy of 2^-128 at the values' magnitude (large values at random points:
 * (x+1)^{1000}), up to PREC_MAX; 0 when there is nothing left to try. */
static slong next_prec(slong prec, const acb_t x, const acb_t y) {
    if (prec < PREC_HI)
        return PREC_HI;
    if (prec > PREC_HI || !acb_is_finite(x) || !acb_is_finite(y))
        return 0;
    slong e = 0;
    const arf_struct *m[4] = {arb_midref(acb_realref(x)), arb_midref(acb_imagref(x)), arb_midref(acb_realref(y)),
                              arb_midref(acb_imagref(y))};
    for (int i = 0; i < 4; i++) {
        slong b = arf_is_zero(m[i]) ? 0 : arf_abs_bound_lt_2exp_si(m[i]);
        e = b > e ? b : e;
    }
    slong want = e + 256;
    return (want > PREC_HI && want <= PREC_MAX) ? want : 0;
}

int gq_balls_cmp(const acb_t x, const acb_t y, slong prec) {
    acb_t d;
    acb_init(d);
    acb_sub(d, x, y, prec);
    int r;
    /* equal needs the difference pinned below 2^-64 in absolute terms too:
     * 10^{10^{10}} and 10^{10^{10}}+1 agree to every relative bit Arb has */
    int abs_ok =
        mag_cmp_2exp_si(arb_radref(acb_realref(d)), -64) <= 0 && mag_cmp_2exp_si(arb_radref(acb_imagref(d)), -64) <= 0;
    if (!acb_contains_zero(d))
        r = 1;
    else if (!abs_ok)
        r = -1;
    else if (acb_rel_accuracy_bits(x) >= prec / 2 && acb_rel_accuracy_bits(y) >= prec / 2)
        r = 0;
    else if (acb_is_zero(x) && acb_rel_accuracy_bits(y) >= prec / 2)
        r = 0;
    else
        r = -1;
    acb_clear(d);
    return r;
}

void gq_random_point(G *g, int nvars) {
    for (int i = 0; i < nvars; i++) {
        /* reals in (0.3, 2.8) with a small irrational-looking offset: far from 0, 1 and poles of
         * typical answers; identical streams for gold and pred */
        double v = 0.3 + 2.5 * tkd_rng_uniform(&g->rng);
        acb_set_d(g->c.val[i], v);
    }
}

/* ---- scalars ---- */
int gq_scalar(G *g, const gnode *x, const gnode *y) {
    int ix = inf_sign(x), iy = inf_sign(y);
    if (ix || iy)
        return set_why(g, "infinity", ix == iy ? EQ : NE);
    if (x->k == GN_BASENUM || y->k == GN_BASENUM) {
        /* 1011_2: the digits must agree; a prediction may leave the base out */
        const gnode *b = x->k == GN_BASENUM ? x : y, *o = x->k == GN_BASENUM ? y : x;
        if ((o->k == GN_BASENUM && o->places != b->places) || o->rows != b->rows)
            return set_why(g, "number base", NE);
        if (o->k != GN_BASENUM && !(o->k == GN_NUM && o->places < 0))
            return set_why(g, "number base", NE);
        const char *s1 = b->str, *s2 = o->str;
        while (*s1 == '0' && s1[1])
            s1++;
        while (*s2 == '0' && s2[1])
            s2++;
        return set_why(g, "number base digits", strcasecmp(s1, s2) == 0 ? EQ : NE);
    }
    fmpq_t qx, qy;
    fmpq_init(qx);
    fmpq_init(qy);
    int rx = geval_q(x, qx, &g->c);
    int ry = rx < 0 ? -1 : geval_q(y, qy, &g->c);
    int r;
    if (rx == 1 && ry == 1) {
        if (fmpq_equal(qx, qy))
            r = set_why(g, "exact rational", EQ);
        else if (decimal_rule_q(y, qx))
            r = set_why(g, "decimal rounding of the exact gold", EQ);
        else
            r = set_why(g, "exact rational", NE);
        fmpq_clear(qx);
        fmpq_clear(qy);
        return r;
    }
    fmpq_clear(qx);
    fmpq_clear(qy);
    if (rx < 0 || ry < 0 || g->c.timed_out)
        return set_why(g, "timeout", UND);

    const char *names[16];
    int nv = gfree_syms(x, names, 16, 0);
    nv = gfree_syms(y, names, 16, nv);
    if (nv < 0)
        return set_why(g, "more than 16 free variables", UND);
    g->c.nvars = nv;
    for (int i = 0; i < nv; i++)
        g->c.var[i] = names[i];
    acb_t vx, vy;
    acb_init(vx);
    acb_init(vy);
    int agreed = 0, tries = 0;
    r = UND;
    const char *why = "not evaluable";
    while (agreed < (nv ? NPOINTS : 1) && tries < MAX_TRIES) {
        tries++;
        if (nv)
            gq_random_point(g, nv);
        int decided = 0;
        for (slong prec = PREC_LO; prec && !decided; prec = next_prec(prec, vx, vy)) {
            int ex = geval_acb(x, vx, prec, &g->c);
            int ey = ex == -2 ? -2 : geval_acb(y, vy, prec, &g->c);
            if (ex == -2 || ey == -2) {
                why = "timeout";
                decided = 2;
                break;
            }
            if (ex == -1 && ey == -1) {
                decided = 3; /* neither defined here: another point */
                break;
            }
            if (ex == -1 || ey == -1) {
                if (prec < PREC_HI && next_prec(prec, vx, vy))
                    continue; /* maybe a pole only at low precision */
                why = nv ? "defined at different points" : "one side is not a number";
                decided = 4;
                break;
            }
            int c = gq_balls_cmp(vx, vy, prec);
            if (c == 1) {
                decided = 4;
                if (!nv && decimal_rule_acb(y, vx, prec)) {
                    why = "decimal rounding of the exact gold";
                    decided = 5;
                } else {
                    why = nv ? "differ at a random point (Arb)" : "numeric value (Arb ball)";
                }
            } else if (c == 0) {
                decided = 1;
            }
        }
        if (decided == 1)
            agreed++;
        else if (decided == 2) {
            r = UND;
            break;
        } else if (decided == 4) {
            r = NE;
            break;
        } else if (decided == 5) {
            r = EQ;
            break;
        } else if (decided == 0) {
            why = "precision exhausted";
            r = UND;
            break;
        }
        if (!nv && decided == 3)
            break;
        if (gctx_expired(&g->c)) {
            why = "timeout";
            r = UND;
            break;
        }
    }
    if (agreed >= (nv ? NPOINTS : 1) && r == UND) {
        r = EQ;
        why = nv ? "agree at random points (Arb)" : "numeric value (Arb balls agree)";
    }
    acb_clear(vx);
    acb_clear(vy);
    g->c.nvars = 0;
    return set_why(g, why, r);
}

/* Equations: L1-R1 = c (L2-R2) for one constant c != 0 at random points. */
int gq_equations(G *g, const gnode *x, const gnode *y) {
    /* same label on both sides (y = ..., y = ...): compare the right sides */
    if (x->kid[0]->k == GN_SYM && y->kid[0]->k == GN_SYM && !strcmp(x->kid[0]->str, y->kid[0]->str)) {
        int r = gq_eq(g, x->kid[1], y->kid[1]);
        if (r != NE)
            return r;
    }
    gnode *f[2];
    const gnode *e[2] = {x, y};
    for (int i = 0; i < 2; i++) {
        gnode *s = gn_new(g->a, GN_ADD, 2), *m = gn_new(g->a, GN_NEG, 1);
        if (!s || !m) {
            g->oom = 1;
            return UND;
        }
        m->kid[0] = e[i]->kid[1];
        s->kid[0] = e[i]->kid[0];
        s->kid[1] = m;
        f[i] = s;
    }
    const char *names[16];
    int nv = gfree_syms(f[0], names, 16, 0);
    nv = gfree_syms(f[1], names, 16, nv);
    if (nv < 0)
        return set_why(g, "more than 16 free variables", UND);
    if (nv == 0) { /* "\frac23 \approx 0.67" against the same: side by side */
        int r = gq_eq(g, x->kid[0], y->kid[0]);
        return r == EQ ? gq_eq(g, x->kid[1], y->kid[1]) : r;
    }
    g->c.nvars = nv;
    for (int i = 0; i < nv; i++)
        g->c.var[i] = names[i];
    acb_t a, b, q, q0;
    acb_init(a);
    acb_init(b);
    acb_init(q);
    acb_init(q0);
    int agreed = 0, r = UND, have_q0 = 0;
    const char *why = "equations not evaluable";
    for (int t = 0; t < MAX_TRIES && agreed < NPOINTS; t++) {
        gq_random_point(g, nv);
        int ea = geval_acb(f[0], a, PREC_LO, &g->c), eb = geval_acb(f[1], b, PREC_LO, &g->c);
        if (ea == -2 || eb == -2) {
            why = "timeout";
            break;
        }
        if (ea || eb || acb_contains_zero(b) || acb_contains_zero(a))
            continue;
        acb_div(q, a, b, PREC_LO);
        if (!have_q0) {
            acb_set(q0, q);
            have_q0 = 1;
            agreed++;
            continue;
        }
        int c = gq_balls_cmp(q, q0, PREC_LO);
        if (c == 1) {
            r = NE;
            why = "different solution sets (not proportional)";
            break;
        }
        if (c == 0)
            agreed++;
    }
    if (agreed >= NPOINTS) {
        r = EQ;
        why = "same equation up to a constant factor";
    }
    acb_clear(a);
    acb_clear(b);
    acb_clear(q);
    acb_clear(q0);
    g->c.nvars = 0;
    return set_why(g, why, r);
}
