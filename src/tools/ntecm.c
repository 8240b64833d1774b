/*
 * Splitting the hard cofactors of tnt_factor (ntalg.c): integers of two to
 * four machine words, odd, composite, not perfect powers, free of primes
 * below 1000. Pollard-Brent rho with a small budget, then Lenstra's
 * elliptic-curve method: Montgomery curves from Suyama's parametrization
 * (torsion 12), a Montgomery-ladder stage 1 and a baby-step giant-step
 * stage 2, all in Montgomery arithmetic on fixed-size limb arrays (two words
 * written out, three and four from one template). The effort is bounded by
 * what FLINT's quadratic sieve would take, which gets the number after.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/ulong_extras.h>

typedef mp_limb_t limb;
__extension__ typedef unsigned __int128 u128;
#define AI static inline __attribute__((always_inline))

#define RHO_BATCH 128 /* differences multiplied together between gcds */

/* -n^-1 mod 2^64 for odd n (Newton: each step doubles the correct bits) */
ulong tnt_neg_inv(ulong n) {
    ulong x = n; /* right to 3 bits */
    for (int i = 0; i < 5; i++)
        x *= 2 - n * x;
    return (ulong)0 - x;
}

/* ---- two to four words: Montgomery arithmetic modulo an odd n ----
 * Residues are S-limb arrays below n; the helpers take S as a constant so
 * that each instance (S = 2, 3, 4) is unrolled by the compiler. */

#define MAXL TNT_FACTOR_WORDS_MAX

typedef struct mctx {
    int s;
    limb n[MAXL], ninv;
    mpz_t nz, t, g; /* n; scratch */
} mctx;

static void mctx_init(mctx *c, const mpz_t n) {
    memset(c->n, 0, sizeof c->n);
    c->s = (int)mpz_size(n);
    mpz_export(c->n, NULL, -1, sizeof(limb), 0, 0, n);
    c->ninv = tnt_neg_inv(c->n[0]);
    mpz_init_set(c->nz, n);
    mpz_init(c->t);
    mpz_init(c->g);
}

static void mctx_clear(mctx *c) {
    mpz_clear(c->nz);
    mpz_clear(c->t);
    mpz_clear(c->g);
}

/* r = x * 2^(64 s) mod n: x into Montgomery form */
static void to_mont(limb *r, const mpz_t x, mctx *c) {
    mpz_mul_2exp(c->t, x, (mp_bitcnt_t)(64 * c->s));
    mpz_mod(c->t, c->t, c->nz);
    memset(r, 0, sizeof(limb) * MAXL);
    mpz_export(r, NULL, -1, sizeof(limb), 0, 0, c->t);
}

/* gcd(x, n) into c->g; returns 1 when it is a proper factor */
static int gcd_n(const limb *x, mctx *c) {
    mpz_t v;
    mpz_roinit_n(v, x, c->s);
    mpz_gcd(c->g, v, c->nz);
    return mpz_cmp_ui(c->g, 1) > 0 && mpz_cmp(c->g, c->nz) < 0;
}

AI int geq_n(const limb *a, const limb *n, const int S) {
    for (int i = S - 1; i >= 0; i--)
        if (a[i] != n[i])
            return a[i] > n[i];
    return 1;
}

AI void sub_n(limb *r, const limb *a, const limb *b, const int S) {
    limb br = 0;
    for (int i = 0; i < S; i++) {
        u128 d = (u128)a[i] - b[i] - br;
        r[i] = (limb)d;
        br = (limb)(d >> 64) & 1;
    }
}

AI void addm_t(limb *r, const limb *a, const limb *b, const mctx *c, const int S) {
    limb t[MAXL], cy = 0;
    for (int i = 0; i < S; i++) {
        u128 s = (u128)a[i] + b[i] + cy;
        t[i] = (limb)s;
        cy = (limb)(s >> 64);
    }
    if (cy || geq_n(t, c->n, S))
        sub_n(t, t, c->n, S);
    memcpy(r, t, sizeof(limb) * (size_t)S);
}

AI void subm_t(limb *r, const limb *a, const limb *b, const mctx *c, const int S) {
    limb t[MAXL], br = 0;
    for (int i = 0; i < S; i++) {
        u128 d = (u128)a[i] - b[i] - br;
        t[i] = (limb)d;
        br = (limb)(d >> 64) & 1;
    }
    if (br) {
        limb cy = 0;
        for (int i = 0; i < S; i++) {
            u128 s = (u128)t[i] + c->n[i] + cy;
            t[i] = (limb)s;
            cy = (limb)(s >> 64);
        }
    }
    memcpy(r, t, sizeof(limb) * (size_t)S);
}

/* r = a b / 2^(64 S) mod n (CIOS) */
AI void mulm_t(limb *r, const limb *a, const limb *b, const mctx *c, const int S) {
    limb t[MAXL + 2] = {0};
    for (int i = 0; i < S; i++) {
        u128 p;
        limb C = 0;
        for (int j = 0; j < S; j++) {
            p = (u128)a[j] * b[i] + t[j] + C;
            t[j] = (limb)p;
            C = (limb)(p >> 64);
        }
        p = (u128)t[S] + C;
        t[S] = (limb)p;
        t[S + 1] = (limb)(p >> 64);
        limb m = t[0] * c->ninv;
        p = (u128)m * c->n[0] + t[0];
        C = (limb)(p >> 64);
        for (int j = 1; j < S; j++) {
            p = (u128)m * c->n[j] + t[j] + C;
            t[j - 1] = (limb)p;
            C = (limb)(p >> 64);
        }
        p = (u128)t[S] + C;
        t[S - 1] = (limb)p;
        t[S] = t[S + 1] + (limb)(p >> 64);
    }
    if (t[S] || geq_n(t, c->n, S))
        sub_n(t, t, c->n, S);
    memcpy(r, t, sizeof(limb) * (size_t)S);
}

/* r = (carry:t1:t0) mod n, for a value below 2n: subtract n at most once */
static inline void reduce2(limb *r, limb t0, limb t1, limb carry, const mctx *c) {
    limb n0 = c->n[0], n1 = c->n[1];
    if (carry || t1 > n1 || (t1 == n1 && t0 >= n0)) {
        u128 d = (u128)t0 - n0;
        t0 = (limb)d;
        t1 = t1 - n1 - (limb)((d >> 64) & 1);
    }
    r[0] = t0;
    r[1] = t1;
}

/* two words, written out: the sizes of the common case */
static void mulm2(limb *r, const limb *a, const limb *b, const mctx *c) {
    limb a0 = a[0], a1 = a[1], b0 = b[0], b1 = b[1], n0 = c->n[0], n1 = c->n[1];
    u128 p = (u128)a0 * b0;
    limb t0 = (limb)p;
    u128 mid = (p >> 64) + (u128)a0 * b1; /* < 2^128 */
    u128 mid2 = (u128)a1 * b0 + (limb)mid;
    limb t1 = (limb)mid2;
    u128 hi = (u128)a1 * b1 + (mid >> 64) + (mid2 >> 64);
    limb t2 = (limb)hi, t3 = (limb)(hi >> 64), t4 = 0;
    limb m = t0 * c->ninv; /* add m n: clears t0 */
    p = (u128)m * n0 + t0;
    p = (u128)m * n1 + t1 + (limb)(p >> 64);
    t1 = (limb)p;
    p = (u128)t2 + (limb)(p >> 64);
    t2 = (limb)p;
    p = (u128)t3 + (limb)(p >> 64);
    t3 = (limb)p;
    t4 = (limb)(p >> 64);
    m = t1 * c->ninv; /* add m n 2^64: clears t1 */
    p = (u128)m * n0 + t1;
    p = (u128)m * n1 + t2 + (limb)(p >> 64);
    t2 = (limb)p;
    p = (u128)t3 + (limb)(p >> 64);
    t3 = (limb)p;
    t4 += (limb)(p >> 64);
    reduce2(r, t2, t3, t4, c);
}

static void addm2(limb *r, const limb *a, const limb *b, const mctx *c) {
    u128 s0 = (u128)a[0] + b[0];
    u128 s1 = (u128)a[1] + b[1] + (limb)(s0 >> 64);
    reduce2(r, (limb)s0, (limb)s1, (limb)(s1 >> 64), c);
}

static void subm2(limb *r, const limb *a, const limb *b, const mctx *c) {
    u128 d0 = (u128)a[0] - b[0];
    u128 d1 = (u128)a[1] - b[1] - (limb)((d0 >> 64) & 1);
    limb t0 = (limb)d0, t1 = (limb)d1;
    if ((d1 >> 64) & 1) {
        u128 s0 = (u128)t0 + c->n[0];
        t0 = (limb)s0;
        t1 = t1 + c->n[1] + (limb)(s0 >> 64);
    }
    r[0] = t0;
    r[1] = t1;
}

/* three and four words from the templates; callers dispatch on c->s */
#define INSTANCES(op)                                                                                                  \
    static void op##3(limb * r, const limb *a, const limb *b, const mctx *c) {                                         \
        op##_t(r, a, b, c, 3);                                                                                         \
    }                                                                                                                  \
    static void op##4(limb * r, const limb *a, const limb *b, const mctx *c) {                                         \
        op##_t(r, a, b, c, 4);                                                                                         \
    }                                                                                                                  \
    static inline void op(limb *r, const limb *a, const limb *b, const mctx *c) {                                      \
        c->s == 2 ? op##2(r, a, b, c) : c->s == 3 ? op##3(r, a, b, c) : op##4(r, a, b, c);                             \
    }
INSTANCES(mulm)
INSTANCES(addm)
INSTANCES(subm)

/* ---- rho on two to four words ---- */

static inline void rho_step(limb *y, const mctx *c) {
    static const limb one[MAXL] = {1};
    mulm(y, y, y, c);
    addm(y, y, one, c);
}

/* A proper factor of n into c->g, or 0 after max_iter iterations. */
static int rho_find(mctx *c, long max_iter) {
    limb y[MAXL] = {2}, x[MAXL], ys[MAXL], q[MAXL] = {1}, d[MAXL];
    int found = 0, whole = 0;
    for (long r = 1; !found && !whole && r <= max_iter; r *= 2) {
        memcpy(x, y, sizeof x);
        for (long i = 0; i < r; i++)
            rho_step(y, c);
        for (long k = 0; k < r && !found && !whole; k += RHO_BATCH) {
            memcpy(ys, y, sizeof ys);
            long lim = r - k < RHO_BATCH ? r - k : RHO_BATCH;
            for (long i = 0; i < lim; i++) {
                rho_step(y, c);
                subm(d, x, y, c);
                mulm(q, q, d, c);
            }
            found = gcd_n(q, c);
            whole = !found && mpz_cmp(c->g, c->nz) == 0;
        }
    }
    if (whole) /* past the factor within the batch: one by one from ys */
        for (long i = 0; i < RHO_BATCH && !found; i++) {
            rho_step(ys, c);
            subm(d, x, ys, c);
            found = gcd_n(d, c);
        }
    return found;
}

/* ---- two to four words: the elliptic-curve method ---- */

typedef struct pt {
    limb x[MAXL], z[MAXL];
} pt;

/* r = 2p on By^2 = x^3 + Ax^2 + x, a24 = (A + 2) / 4 */
static void xdbl(pt *r, const pt *p, const limb *a24, const mctx *c) {
    limb u[MAXL], v[MAXL], w[MAXL];
    addm(u, p->x, p->z, c);
    mulm(u, u, u, c); /* (X + Z)^2 */
    subm(v, p->x, p->z, c);
    mulm(v, v, v, c); /* (X - Z)^2 */
    subm(w, u, v, c); /* 4XZ */
    mulm(r->x, u, v, c);
    mulm(u, w, a24, c);
    addm(u, u, v, c);
    mulm(r->z, w, u, c);
}

/* r = p + q, given d = p - q (d must not alias r) */
static void xadd(pt *r, const pt *p, const pt *q, const pt *d, const mctx *c) {
    limb a[MAXL], b[MAXL], u[MAXL], v[MAXL];
    subm(a, p->x, p->z, c);
    addm(b, q->x, q->z, c);
    mulm(u, a, b, c);
    addm(a, p->x, p->z, c);
    subm(b, q->x, q->z, c);
    mulm(v, a, b, c);
    addm(a, u, v, c);
    subm(b, u, v, c);
    mulm(a, a, a, c);
    mulm(b, b, b, c);
    mulm(r->x, d->z, a, c);
    mulm(r->z, d->x, b, c);
}

/* r = k p (Montgomery's ladder; r must not alias p; k >= 1) */
static void ladder(pt *r, const pt *p, uint64_t k, const limb *a24, const mctx *c) {
    pt r1;
    *r = *p;
    if (k == 1)
        return;
    xdbl(&r1, p, a24, c);
    for (int b = 62 - __builtin_clzll(k); b >= 0; b--)
        if ((k >> b) & 1) {
            xadd(r, r, &r1, p, c);
            xdbl(&r1, &r1, a24, c);
        } else {
            xadd(&r1, &r1, r, p, c);
            xdbl(r, r, a24, c);
        }
}

#define S2_D 210   /* stage 2 giant step */
#define S2_BABY 24 /* odd j < S2_D / 2 coprime to S2_D */

/* Stage 2 covers the primes q in (B1, B2] as q = m S2_D +- j; hit marks
 * the (m, j) pairs needed. Shared by the curves of one level. */
typedef struct s2plan {
    ulong B1, B2;
    slong mmin, mmax;
    unsigned char *hit; /* (mmax - mmin + 1) x S2_BABY */
    signed char jidx[S2_D / 2 + 1];
    const ulong *primes; /* FLINT's cached table, up to past B2 */
} s2plan;

static int plan_init(s2plan *pl, ulong B1, ulong B2) {
    memset(pl, 0, sizeof *pl);
    pl->B1 = B1;
    pl->B2 = B2;
    int k = 0;
    for (int j = 0; j <= S2_D / 2; j++)
        pl->jidx[j] = (signed char)((j & 1) && j % 3 && j % 5 && j % 7 ? k++ : -1);
    slong np = (slong)n_prime_pi(B2) + 2;
    pl->primes = n_primes_arr_readonly((ulong)np);
    slong i = (slong)n_prime_pi(B1);
    pl->mmin = (slong)((pl->primes[i] + S2_D / 2) / S2_D);
    pl->mmax = (slong)((B2 + S2_D / 2) / S2_D);
    pl->hit = calloc((size_t)(pl->mmax - pl->mmin + 1) * S2_BABY, 1);
    if (!pl->hit)
        return -1;
    for (; pl->primes[i] <= B2; i++) {
        ulong q = pl->primes[i], m = (q + S2_D / 2) / S2_D;
        ulong j = q > m * S2_D ? q - m * S2_D : m * S2_D - q;
        pl->hit[((slong)m - pl->mmin) * S2_BABY + pl->jidx[j]] = 1;
    }
    return 0;
}

/* Suyama's curve for sigma: start point p and a24 in Montgomery form.
 * Returns 1 when the set-up itself exposed a factor (in c->g), -1 for a
 * degenerate curve, 0 otherwise. */
static int suyama(pt *p, limb *a24, ulong sigma, mctx *c) {
    mpz_t u, v, x, z, a, t;
    mpz_inits(u, v, x, z, a, t, NULL);
    mpz_set_ui(u, sigma);
    mpz_mul(u, u, u);
    mpz_sub_ui(u, u, 5); /* u = sigma^2 - 5 */
    mpz_set_ui(v, sigma);
    mpz_mul_ui(v, v, 4); /* v = 4 sigma */
    mpz_powm_ui(x, u, 3, c->nz);
    mpz_powm_ui(z, v, 3, c->nz);
    mpz_sub(a, v, u);
    mpz_powm_ui(a, a, 3, c->nz);
    mpz_mul_ui(t, u, 3);
    mpz_add(t, t, v);
    mpz_mul(a, a, t); /* (v - u)^3 (3u + v) */
    mpz_mul(t, x, v);
    mpz_mul_ui(t, t, 16); /* 16 u^3 v */
    int rc = 0;
    if (!mpz_invert(t, t, c->nz)) {
        mpz_gcd(c->g, t, c->nz);
        rc = mpz_cmp_ui(c->g, 1) > 0 && mpz_cmp(c->g, c->nz) < 0 ? 1 : -1;
    } else {
        mpz_mul(a, a, t);
        mpz_mod(a, a, c->nz);
        to_mont(p->x, x, c);
        to_mont(p->z, z, c);
        to_mont(a24, a, c);
    }
    mpz_clears(u, v, x, z, a, t, NULL);
    return rc;
}

/* One curve; 1 when it found a proper factor (in c->g). */
static int ecm_curve(mctx *c, ulong sigma, const s2plan *pl) {
    pt P, Q;
    limb a24[MAXL];
    int rc = suyama(&P, a24, sigma, c);
    if (rc)
        return rc > 0;
    /* stage 1: P = (product of the prime powers up to B1) P */
    uint64_t k = 1;
    for (const ulong *pp = pl->primes; *pp <= pl->B1; pp++) {
        uint64_t q = *pp;
        while (q <= pl->B1 / *pp)
            q *= *pp;
        if (k > UINT64_MAX / q) {
            ladder(&Q, &P, k, a24, c);
            P = Q;
            k = 1;
        }
        k *= q;
    }
    ladder(&Q, &P, k, a24, c);
    if (gcd_n(Q.z, c))
        return 1;
    if (mpz_cmp(c->g, c->nz) == 0)
        return 0;
    /* stage 2: baby steps j Q, giant steps m S2_D Q */
    pt baby[S2_BABY], q2, prev, cur, nx, G, A, B;
    limb bxz[S2_BABY][MAXL], axz[MAXL], t[MAXL], u[MAXL], acc[MAXL] = {1};
    xdbl(&q2, &Q, a24, c);
    prev = Q;
    xadd(&cur, &q2, &Q, &Q, c); /* 3Q */
    baby[0] = Q;
    for (int j = 3; j < S2_D / 2; j += 2) {
        if (pl->jidx[j] >= 0)
            baby[pl->jidx[j]] = cur;
        xadd(&nx, &cur, &q2, &prev, c);
        prev = cur;
        cur = nx;
    }
    for (int i = 0; i < S2_BABY; i++)
        mulm(bxz[i], baby[i].x, baby[i].z, c);
    ladder(&G, &Q, S2_D, a24, c);
    ladder(&A, &Q, (uint64_t)pl->mmin * S2_D, a24, c);
    ladder(&B, &Q, (uint64_t)(pl->mmin + 1) * S2_D, a24, c);
    for (slong m = pl->mmin; m <= pl->mmax; m++) {
        const unsigned char *h = pl->hit + (m - pl->mmin) * S2_BABY;
        mulm(axz, A.x, A.z, c);
        for (int i = 0; i < S2_BABY; i++)
            if (h[i]) { /* acc *= X_m Z_j - X_j Z_m */
                subm(t, A.x, baby[i].x, c);
                addm(u, A.z, baby[i].z, c);
                mulm(t, t, u, c);
                subm(t, t, axz, c);
                addm(t, t, bxz[i], c);
                mulm(acc, acc, t, c);
            }
        xadd(&nx, &B, &G, &A, c);
        A = B;
        B = nx;
    }
    return gcd_n(acc, c);
}

/* ---- the driver ---- */

#define RHO_ITERS (1L << 12) /* rho first (about 2^13 steps): factors up to about 2^24 */

/* ECM levels: B1 (B2 = S2_MUL B1) and the number of curves. Rho has
 * already looked for factors below about 2^24, so the first level aims at
 * 30 to 40 bits (B1 of 400 to 1000 is cheapest there). */
#define S2_MUL 50
static const struct {
    ulong B1;
    int curves;
} LEVELS[] = {{300, 4}, {600, 10}, {1000, 20}, {2000, 40}, {4000, 80}, {8000, 150}, {16000, 300}, {32000, 600}};

/* Effort allowed before the quadratic sieve, in units of B1 x words^2 of one
 * curve (about 0.1 us each on a 2.6 GHz core), as a share of what the sieve
 * would take on a number of this size. Up to 90 bits every factor to find
 * has at most 45 bits and ECM nearly always wins (a few ms against 30), so
 * it may spend almost the sieve's time; above, a balanced product is the
 * sieve's and ECM gets a tenth of its time (a balanced product costs up to
 * that much more), which finds factors up to 45 to 50 bits (6% already
 * misses a 40-bit factor of a 140-bit number: 100 ms instead of 24). */
static double ecm_budget(slong bits) {
    double sieve_us = 30000; /* FLINT's sieve up to 110 bits: 20 to 40 ms */
    if (bits > 110)
        sieve_us *= exp2((double)(bits - 110) / 12); /* then it doubles every 12 bits */
    return (bits <= 90 ? 0.8 : 0.1) * sieve_us / 0.1;
}

int tnt_find_factor(mpz_t d, const mpz_t m) {
    mctx c;
    mctx_init(&c, m);
    int S = c.s, found = rho_find(&c, RHO_ITERS);
    double budget = ecm_budget((slong)mpz_sizeinbase(m, 2)), spent = 0;
    ulong sigma = 7;
    for (size_t l = 0; !found && l < sizeof LEVELS / sizeof LEVELS[0] && spent < budget; l++) {
        s2plan pl;
        if (plan_init(&pl, LEVELS[l].B1, LEVELS[l].B1 * S2_MUL))
            break; /* out of memory: leave it to the sieve */
        for (int k = 0; !found && k < LEVELS[l].curves && spent < budget; k++, sigma++) {
            found = ecm_curve(&c, sigma, &pl);
            spent += (double)LEVELS[l].B1 * S * S;
        }
        free(pl.hit);
    }
    if (found)
        mpz_set(d, c.g);
    mctx_clear(&c);
    return found;
}
