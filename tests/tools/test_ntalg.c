/* tools: the integer algorithms behind the number-theory tools (ntalg.c,
 * ntecm.c) against FLINT's own. For random integers of every size up to 150
 * bits and for shaped ones (semiprimes with factors of 6 to 20 digits, prime
 * powers, smooth numbers, products of factors just above the trial bound),
 * tnt_factor's primes ascend, each passes fmpz_is_prime and they multiply
 * back to n; tnt_is_prime agrees with fmpz_is_prime; tnt_divisors ascend,
 * divide n and add up to FLINT's divisor sum. */
#include <stdio.h>

#include "../../src/tools/tools_int.h"
#include "tkd_test.h"

#include <flint/fmpz_vec.h>

static int factored_right(const fmpz_t n, const fmpz_factor_t f) {
    fmpz_t prod, t;
    fmpz_init_set_ui(prod, 1);
    fmpz_init(t);
    int ok = f->sign == fmpz_sgn(n);
    for (slong i = 0; ok && i < f->num; i++) {
        ok = fmpz_is_prime(f->p + i) && f->exp[i] > 0 && (i == 0 || fmpz_cmp(f->p + i - 1, f->p + i) < 0);
        fmpz_pow_ui(t, f->p + i, f->exp[i]);
        fmpz_mul(prod, prod, t);
    }
    fmpz_abs(t, n);
    ok = ok && fmpz_equal(prod, t);
    fmpz_clear(prod);
    fmpz_clear(t);
    return ok;
}

static int check_n(const fmpz_t n) {
    fmpz_factor_t f;
    fmpz_factor_init(f);
    tnt_factor(f, n);
    int ok = factored_right(n, f);
    if (!ok) {
        printf("wrong factorization of ");
        fmpz_print(n);
        printf("\n");
    }
    fmpz_factor_clear(f);
    return ok;
}

static void random_prime(fmpz_t p, flint_rand_t st, int digits) {
    fmpz_t lo;
    fmpz_init(lo);
    fmpz_ui_pow_ui(lo, 10, (ulong)digits - 1);
    fmpz_randm(p, st, lo);
    fmpz_add(p, p, lo);
    fmpz_nextprime(p, p, 1);
    fmpz_clear(lo);
}

TEST(factor_random) {
    flint_rand_t st;
    flint_randinit(st);
    fmpz_t n;
    fmpz_init(n);
    int bad = 0;
    for (int i = 0; i < 1500; i++) {
        fmpz_randtest_not_zero(n, st, 1 + (flint_bitcnt_t)(i % 150));
        bad += !check_n(n);
    }
    CHECK_INT(bad, 0);
    fmpz_clear(n);
    flint_randclear(st);
}

TEST(factor_shapes) {
    flint_rand_t st;
    flint_randinit(st);
    fmpz_t n, p, q;
    fmpz_init(n);
    fmpz_init(p);
    fmpz_init(q);
    static const int sizes[][2] = {{6, 14}, {8, 12}, {10, 10}, {9, 20}, {12, 13}, {7, 30}, {10, 25}, {20, 6}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        random_prime(p, st, sizes[k][0]);
        random_prime(q, st, sizes[k][1]);
        fmpz_mul(n, p, q);
        CHECK(check_n(n));
        fmpz_mul(n, n, p); /* p^2 q */
        CHECK(check_n(n));
    }
    for (int e = 2; e <= 7; e++) { /* prime powers over one and several words */
        random_prime(p, st, 4 + 3 * e);
        fmpz_pow_ui(n, p, (ulong)e);
        CHECK(check_n(n));
        fmpz_neg(n, n);
        CHECK(check_n(n));
    }
    fmpz_fac_ui(n, 60); /* smooth */
    CHECK(check_n(n));
    fmpz_set_ui(n, 1009); /* just above the trial bound */
    for (int i = 0; i < 12; i++)
        fmpz_mul_ui(n, n, 1013 + 6 * (ulong)i);
    CHECK(check_n(n));
    fmpz_one(n);
    CHECK(check_n(n));
    fmpz_clear(n);
    fmpz_clear(p);
    fmpz_clear(q);
    flint_randclear(st);
}

TEST(is_prime_agrees) {
    flint_rand_t st;
    flint_randinit(st);
    fmpz_t n;
    fmpz_init(n);
    int bad = 0;
    for (int i = 0; i < 600; i++) {
        fmpz_randtest(n, st, 1 + (flint_bitcnt_t)(i % 190));
        if (i % 3 == 0)
            fmpz_nextprime(n, n, 0);
        bad += tnt_is_prime(n) != (fmpz_sgn(n) > 0 && fmpz_is_prime(n));
    }
    static const char *pseudo[] = {"561",
                                   "41041",
                                   "9746347772161",
                                   "3825123056546413051",
                                   "318665857834031151167461",
                                   "3317044064679887385961981"};
    for (size_t i = 0; i < sizeof pseudo / sizeof pseudo[0]; i++) {
        fmpz_set_str(n, pseudo[i], 10); /* Carmichael numbers, strong pseudoprimes */
        bad += tnt_is_prime(n) != 0;
    }
    CHECK_INT(bad, 0);
    fmpz_clear(n);
    flint_randclear(st);
}

TEST(divisors_ascend) {
    flint_rand_t st;
    flint_randinit(st);
    fmpz_t n, s, want;
    fmpz_init(n);
    fmpz_init(s);
    fmpz_init(want);
    for (int i = 0; i < 300; i++) {
        fmpz_randtest_unsigned(n, st, 1 + (flint_bitcnt_t)(i % 90));
        if (fmpz_is_zero(n))
            continue;
        fmpz_factor_t f;
        fmpz_factor_init(f);
        tnt_factor(f, n);
        slong cnt = 1;
        for (slong k = 0; k < f->num; k++)
            cnt *= (slong)f->exp[k] + 1;
        fmpz *d = _fmpz_vec_init(cnt);
        tnt_divisors(d, f);
        int ok = fmpz_is_one(d) && fmpz_equal(d + cnt - 1, n);
        fmpz_zero(s);
        for (slong k = 0; k < cnt; k++) {
            ok = ok && fmpz_divisible(n, d + k) && (k == 0 || fmpz_cmp(d + k - 1, d + k) < 0);
            fmpz_add(s, s, d + k);
        }
        fmpz_factor_divisor_sigma(want, 1, f);
        CHECK(ok && fmpz_equal(s, want));
        _fmpz_vec_clear(d, cnt);
        fmpz_factor_clear(f);
    }
    fmpz_clear(n);
    fmpz_clear(s);
    fmpz_clear(want);
    flint_randclear(st);
}

int main(void) {
    RUN(factor_random);
    RUN(factor_shapes);
    RUN(is_prime_agrees);
    RUN(divisors_ascend);
    flint_cleanup();
    return TEST_END();
}
