/*
 * Integer algorithms behind the number-theory tools, on FLINT/GMP integers
 * and free of JSON: a complete, proven factorization tuned for the sizes the
 * tools accept (TOOL_FACTOR_DIGITS_MAX), the primality test of is_prime, and
 * the ascending divisor list.
 *
 * Factoring |n|: trial division by the primes below 1000, then every cofactor
 * is proved prime, recognised as a perfect power, or split. One machine word:
 * Pollard-Brent rho in Montgomery arithmetic. Two to four words: rho and the
 * elliptic-curve method (ntecm.c) for an effort bounded by what FLINT's
 * quadratic sieve would cost, and the sieve last (it starts slowly and writes
 * a temporary file, so it only gets the hard cases).
 * Every reported factor is proved prime: n_is_prime is exact below 2^64,
 * fmpz_is_prime or APRCL prove above. No randomness: the same n takes the
 * same path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/aprcl.h>
#include <flint/qsieve.h>
#include <flint/ulong_extras.h>

typedef mp_limb_t limb;
__extension__ typedef unsigned __int128 u128;
#define AI static inline __attribute__((always_inline))

/* ---- trial division by the odd primes below TRIAL_BOUND ---- */

#define TRIAL_BOUND 1000

/* p, p^-1 mod 2^64 and floor((2^64 - 1) / p): p | x iff x * inv <= lim */
typedef struct sprime {
    uint32_t p;
    uint64_t inv, lim;
} sprime;

static const sprime SMALL[] = {
    {3u, 0xaaaaaaaaaaaaaaabu, 0x5555555555555555u},   {5u, 0xcccccccccccccccdu, 0x3333333333333333u},
    {7u, 0x6db6db6db6db6db7u, 0x2492492492492492u},   {11u, 0x2e8ba2e8ba2e8ba3u, 0x1745d1745d1745d1u},
    {13u, 0x4ec4ec4ec4ec4ec5u, 0x13b13b13b13b13b1u},  {17u, 0xf0f0f0f0f0f0f0f1u, 0x0f0f0f0f0f0f0f0fu},
    {19u, 0x86bca1af286bca1bu, 0x0d79435e50d79435u},  {23u, 0xd37a6f4de9bd37a7u, 0x0b21642c8590b216u},
    {29u, 0x34f72c234f72c235u, 0x08d3dcb08d3dcb08u},  {31u, 0xef7bdef7bdef7bdfu, 0x0842108421084210u},
    {37u, 0x14c1bacf914c1badu, 0x06eb3e45306eb3e4u},  {41u, 0x8f9c18f9c18f9c19u, 0x063e7063e7063e70u},
    {43u, 0x82fa0be82fa0be83u, 0x05f417d05f417d05u},  {47u, 0x51b3bea3677d46cfu, 0x0572620ae4c415c9u},
    {53u, 0x21cfb2b78c13521du, 0x04d4873ecade304du},  {59u, 0xcbeea4e1a08ad8f3u, 0x0456c797dd49c341u},
    {61u, 0x4fbcda3ac10c9715u, 0x04325c53ef368eb0u},  {67u, 0xf0b7672a07a44c6bu, 0x03d226357e16ece5u},
    {71u, 0x193d4bb7e327a977u, 0x039b0ad12073615au},  {73u, 0x7e3f1f8fc7e3f1f9u, 0x0381c0e070381c0eu},
    {79u, 0x9b8b577e613716afu, 0x033d91d2a2067b23u},  {83u, 0xa3784a062b2e43dbu, 0x03159721ed7e7534u},
    {89u, 0xf47e8fd1fa3f47e9u, 0x02e05c0b81702e05u},  {97u, 0xa3a0fd5c5f02a3a1u, 0x02a3a0fd5c5f02a3u},
    {101u, 0x3a4c0a237c32b16du, 0x0288df0cac5b3f5du}, {103u, 0xdab7ec1dd3431b57u, 0x027c45979c95204fu},
    {107u, 0x77a04c8f8d28ac43u, 0x02647c69456217ecu}, {109u, 0xa6c0964fda6c0965u, 0x02593f69b02593f6u},
    {113u, 0x90fdbc090fdbc091u, 0x0243f6f0243f6f02u}, {127u, 0x7efdfbf7efdfbf7fu, 0x0204081020408102u},
    {131u, 0x03e88cb3c9484e2bu, 0x01f44659e4a42715u}, {137u, 0xe21a291c077975b9u, 0x01de5d6e3f8868a4u},
    {139u, 0x3aef6ca970586723u, 0x01d77b654b82c339u}, {149u, 0xdf5b0f768ce2cabdu, 0x01b7d6c3dda338b2u},
    {151u, 0x6fe4dfc9bf937f27u, 0x01b2036406c80d90u}, {157u, 0x5b4fe5e92c0685b5u, 0x01a16d3f97a4b01au},
    {163u, 0x1f693a1c451ab30bu, 0x01920fb49d0e228du}, {167u, 0x8d07aa27db35a717u, 0x01886e5f0abb0499u},
    {173u, 0x882383b30d516325u, 0x017ad2208e0ecc35u}, {179u, 0xed6866f8d962ae7bu, 0x016e1f76b4337c6cu},
    {181u, 0x3454dca410f8ed9du, 0x016a13cd15372904u}, {191u, 0x1d7ca632ee936f3fu, 0x01571ed3c506b39au},
    {193u, 0x70bf015390948f41u, 0x015390948f40feacu}, {197u, 0xc96bdb9d3d137e0du, 0x014cab88725af6e7u},
    {199u, 0x2697cc8aef46c0f7u, 0x0149539e3b2d066eu}, {211u, 0xc0e8f2a76e68575bu, 0x013698df3de07479u},
    {223u, 0x687763dfdb43bb1fu, 0x0125e22708092f11u}, {227u, 0x1b10ea929ba144cbu, 0x0120b470c67c0d88u},
    {229u, 0x1d10c4c0478bbcedu, 0x011e2ef3b3fb8744u}, {233u, 0x63fb9aeb1fdcd759u, 0x0119453808ca29c0u},
    {239u, 0x64afaa4f437b2e0fu, 0x0112358e75d30336u}, {241u, 0xf010fef010fef011u, 0x010fef010fef010fu},
    {251u, 0x28cbfbeb9a020a33u, 0x0105197f7d734041u}, {257u, 0xff00ff00ff00ff01u, 0x00ff00ff00ff00ffu},
    {263u, 0xd624fd1470e99cb7u, 0x00f92fb2211855a8u}, {269u, 0x8fb3ddbd6205b5c5u, 0x00f3a0d52cba8723u},
    {271u, 0xd57da36ca27acdefu, 0x00f1d48bcee0d399u}, {277u, 0xee70c03b25e4463du, 0x00ec979118f3fc4du},
    {281u, 0xc5b1a6b80749cb29u, 0x00e939651fe2d8d3u}, {283u, 0x47768073c9b97113u, 0x00e79372e225fe30u},
    {293u, 0x2591e94884ce32adu, 0x00dfac1f74346c57u}, {307u, 0xf02806abc74be1fbu, 0x00d578e97c3f5fe5u},
    {311u, 0x7ec3e8f3a7198487u, 0x00d2ba083b445250u}, {313u, 0x58550f8a39409d09u, 0x00d161543e28e502u},
    {317u, 0xec9e48ae6f71de15u, 0x00cebcf8bb5b4169u}, {331u, 0x2ff3a018bfce8063u, 0x00c5fe740317f9d0u},
    {337u, 0x7f9ec3fcf61fe7b1u, 0x00c2780613c0309eu}, {347u, 0x89f5abe570e046d3u, 0x00bcdd535db1cc5bu},
    {349u, 0xda971b23f1545af5u, 0x00bbc8408cd63069u}, {353u, 0x79d5f00b9a7862a1u, 0x00b9a7862a0ff465u},
    {359u, 0x4dba1df32a128a57u, 0x00b68d31340e4307u}, {367u, 0x87530217b7747d8fu, 0x00b2927c29da5519u},
    {373u, 0x30baae53bb5e06ddu, 0x00afb321a1496fdfu}, {379u, 0xee70206c12e9b5b3u, 0x00aceb0f891e6551u},
    {383u, 0xcdde9462ec9dbe7fu, 0x00ab1cbdd3e2970fu}, {389u, 0xafb64b05ec41cf4du, 0x00a87917088e262bu},
    {397u, 0x02944ff5aec02945u, 0x00a513fd6bb00a51u}, {401u, 0x2cb033128382df71u, 0x00a36e71a2cb0331u},
    {409u, 0x1ccacc0c84b1c2a9u, 0x00a03c1688732b30u}, {419u, 0x19a93db575eb3a0bu, 0x009c69169b30446du},
    {421u, 0xcebeef94fa86fe2du, 0x009baade8e4a2f6eu}, {431u, 0x6faa77fb3f8df54fu, 0x00980e4156201301u},
    {433u, 0x68a58af00975a751u, 0x00975a750ff68a58u}, {439u, 0xd56e36d0c3efac07u, 0x009548e4979e0829u},
    {443u, 0xd8b44c47a8299b73u, 0x0093efd1c50e726bu}, {449u, 0x02d9ccaf9ba70e41u, 0x0091f5bcb8bb02d9u},
    {457u, 0x0985e1c023d9e879u, 0x008f67a1e3fdc261u}, {461u, 0x2a343316c494d305u, 0x008e2917e0e702c6u},
    {463u, 0x70cb7916ab67652fu, 0x008d8be33f95d715u}, {467u, 0xd398f132fb10fe5bu, 0x008c55841c815ed5u},
    {479u, 0x6f2a38a6bf54fa1fu, 0x0088d180cd3a4133u}, {487u, 0x211df689b98f81d7u, 0x00869222b1acf1ceu},
    {491u, 0x0e994983e90f1ec3u, 0x0085797b917765abu}, {499u, 0xad671e44bed87f3bu, 0x008355ace3c897dbu},
    {503u, 0xf9623a0516e70fc7u, 0x00824a4e60b3262bu}, {509u, 0x4b7129be9dece355u, 0x0080c121b28bd1bau},
    {521u, 0x190f3b7473f62c39u, 0x007dc9f3397d4c29u}, {523u, 0x63dacc9aad46f9a3u, 0x007d4ece8fe88139u},
    {541u, 0xc1108fda24e8d035u, 0x0079237d65bcce50u}, {547u, 0xb77578472319bd8bu, 0x0077cf53c5f7936cu},
    {557u, 0x473d20a1c7ed9da5u, 0x0075a8accfbdd11eu}, {563u, 0xfbe85af0fea2c8fbu, 0x007467ac557c228eu},
    {569u, 0x58a1f7e6ce0f4c09u, 0x00732d70ed8db8e9u}, {571u, 0x1a00e58c544986f3u, 0x0072c62a24c3797fu},
    {577u, 0x7194a17f55a10dc1u, 0x007194a17f55a10du}, {587u, 0x7084944785e33763u, 0x006fa549b41da7e7u},
    {593u, 0xba10679bd84886b1u, 0x006e8419e6f61221u}, {599u, 0xebe9c6bb31260967u, 0x006d68b5356c207bu},
    {601u, 0x97a3fe4bd1ff25e9u, 0x006d0b803685c01bu}, {607u, 0x6c6388395b84d99fu, 0x006bf790a8b2d207u},
    {613u, 0x8c51da6a1335df6du, 0x006ae907ef4b96c2u}, {617u, 0x46f3234475d5add9u, 0x006a37991a23aeadu},
    {619u, 0x905605ca3c619a43u, 0x0069dfbdd4295b66u}, {631u, 0xcee8dff304767747u, 0x0067dc4c45c8033eu},
    {641u, 0xff99c27f00663d81u, 0x00663d80ff99c27fu}, {643u, 0xacca407f671ddc2bu, 0x0065ec17e3559948u},
    {647u, 0xe71298bac1e12337u, 0x00654ac835cfba5cu}, {653u, 0xfa1e94309cd09045u, 0x00645c854ae10772u},
    {659u, 0xbebccb8e91496b9bu, 0x006372990e5f901fu}, {661u, 0x312fa30cc7d7b8bdu, 0x006325913c07beefu},
    {673u, 0x6160ff9e9f006161u, 0x006160ff9e9f0061u}, {677u, 0x6b03673b5e28152du, 0x0060cdb520e5e88eu},
    {683u, 0xfe802ffa00bfe803u, 0x005ff4017fd005ffu}, {691u, 0xe66fe25c9e907c7bu, 0x005ed79e31a4dccdu},
    {701u, 0x3f8b236c76528895u, 0x005d7d42d48ac5efu}, {709u, 0xf6f923bf01ce2c0du, 0x005c6f35ccba5028u},
    {719u, 0x6c3d3d98bed7c42fu, 0x005b2618ec6ad0a5u}, {727u, 0x30981efcd4b010e7u, 0x005a2553748e42e7u},
    {733u, 0x6f691fc81ebbe575u, 0x0059686cf744cd5bu}, {739u, 0xb10480ddb47b52cbu, 0x0058ae97bab79976u},
    {743u, 0x74cd59ed64f3f0d7u, 0x0058345f1876865fu}, {751u, 0x0105cb81316d6c0fu, 0x005743d5bb24795au},
    {757u, 0x9be64c6d91c1195du, 0x005692c4d1ab74abu}, {761u, 0x71b3f945a27b1f49u, 0x00561e46a4d5f337u},
    {769u, 0x77d80d50e508fd01u, 0x005538ed06533997u}, {773u, 0xa5eb778e133551cdu, 0x0054c807f2c0bec2u},
    {787u, 0x18657d3c2d8a3f1bu, 0x005345efbc572d36u}, {797u, 0x2e40e220c34ad735u, 0x00523a758f941345u},
    {809u, 0xa76593c70a714919u, 0x005102370f816c89u}, {811u, 0x1eef452124eea383u, 0x0050cf129fb94acfu},
    {821u, 0x38206dc242ba771du, 0x004fd31941cafdd1u}, {823u, 0x4cd4c35807772287u, 0x004fa1704aa75945u},
    {827u, 0x83de917d5e69ddf3u, 0x004f3ed6d45a63adu}, {829u, 0x882ef0403b4a6c15u, 0x004f0de57154ebedu},
    {839u, 0xf8fb6c51c606b677u, 0x004e1cae8815f811u}, {853u, 0xb4abaac446d3e1fdu, 0x004cd47ba5f6ff19u},
    {857u, 0xa9f83bbe484a14e9u, 0x004c78ae734df709u}, {859u, 0x0bebbc0d1ce874d3u, 0x004c4b19ed85cfb8u},
    {863u, 0xbd418eaf0473189fu, 0x004bf093221d1218u}, {877u, 0x44e3af6f372b7e65u, 0x004aba3c21dc633fu},
    {881u, 0xc87fdace4f9e5d91u, 0x004a6360c344de00u}, {883u, 0xec93479c446bd9bbu, 0x004a383e9f74d68au},
    {887u, 0xdac4d592e777c647u, 0x0049e28fbabb9940u}, {907u, 0xa63ea8c8f61f0c23u, 0x0048417b57c78cd7u},
    {911u, 0xe476062ea5cbbb6fu, 0x0047f043713f3a2bu}, {919u, 0xdf68761c69daac27u, 0x00474ff2a10281cfu},
    {929u, 0xb813d737637aa061u, 0x00468b6f9a978f91u}, {937u, 0xa3a77aac1fb15099u, 0x0045f13f1caff2e2u},
    {941u, 0x17f0c3e0712c5825u, 0x0045a5228cec23e9u}, {947u, 0xfd912a70ff30637bu, 0x0045342c556c66b9u},
    {953u, 0xfbb3b5dc01131289u, 0x0044c4a23feeced7u}, {967u, 0x856d560a0f5acdf7u, 0x0043c5c20d3c9fe6u},
    {971u, 0x96472f314d3f89e3u, 0x00437e494b239798u}, {977u, 0xa76f5c7ed2253531u, 0x0043142d118e47cbu},
    {983u, 0x816eae7c7bf69fe7u, 0x0042ab5c73a13458u}, {991u, 0xb6a2bea4cfb1781fu, 0x004221950db0f3dbu},
    {997u, 0xa3900c53318e81edu, 0x0041bbb2f80a4553u},
};
#define N_SMALL (sizeof SMALL / sizeof SMALL[0])

AI int divides(uint64_t x, const sprime *q) {
    return x * q->inv <= q->lim;
}

/* Take the primes below TRIAL_BOUND out of the word n (n > 0) into f, each
 * exponent times mult; returns what is left: 1, a prime, or a product of
 * primes above TRIAL_BOUND. */
static uint64_t trial_u64(fmpz_factor_t f, uint64_t n, ulong mult) {
    int z = __builtin_ctzll(n);
    if (z) {
        _fmpz_factor_append_ui(f, 2, (ulong)z * mult);
        n >>= z;
    }
    for (size_t i = 0; i < N_SMALL && n > 1; i++) {
        const sprime *q = &SMALL[i];
        if ((uint64_t)q->p * q->p > n)
            break; /* n is 1 or prime */
        if (divides(n, q)) {
            ulong e = 0;
            do {
                n *= q->inv; /* exact division */
                e++;
            } while (divides(n, q));
            _fmpz_factor_append_ui(f, q->p, e * mult);
        }
    }
    return n;
}

/* The same for a multi-word m, which is divided in place. */
static void trial_mpz(fmpz_factor_t f, mpz_t m, ulong mult) {
    mp_bitcnt_t z = mpz_scan1(m, 0);
    if (z) {
        _fmpz_factor_append_ui(f, 2, (ulong)z * mult);
        mpz_tdiv_q_2exp(m, m, z);
    }
    size_t i = 0;
    while (i < N_SMALL && mpz_size(m) > 1) {
        /* one remainder by a product of several primes, then a word test each */
        uint64_t prod = SMALL[i].p;
        size_t j = i + 1;
        while (j < N_SMALL && prod <= UINT64_MAX / SMALL[j].p)
            prod *= SMALL[j++].p;
        uint64_t r = mpz_fdiv_ui(m, prod);
        for (size_t k = i; k < j; k++)
            if (divides(r, &SMALL[k])) {
                ulong e = 0;
                while (mpz_divisible_ui_p(m, SMALL[k].p)) {
                    mpz_divexact_ui(m, m, SMALL[k].p);
                    e++;
                }
                _fmpz_factor_append_ui(f, SMALL[k].p, e * mult);
            }
        i = j;
    }
}

/* ---- one word: Pollard-Brent rho in Montgomery arithmetic ---- */

AI uint64_t mulredc1(uint64_t a, uint64_t b, uint64_t n, uint64_t ninv) {
    u128 t = (u128)a * b;
    uint64_t m = (uint64_t)t * ninv;
    u128 r = (u128)(uint64_t)(t >> 64) + (uint64_t)(((u128)m * n) >> 64) + ((uint64_t)t != 0);
    return r >= n ? (uint64_t)(r - n) : (uint64_t)r;
}

#define RHO_BATCH 128 /* differences multiplied together between gcds */

/* A nontrivial factor of the odd composite n, or 0 when this c fails within
 * max_iter iterations of y -> y^2 + c. */
static uint64_t rho_u64(uint64_t n, uint64_t c, long max_iter) {
    uint64_t ninv = tnt_neg_inv(n), y = 2 % n, x = y, ys = y, q = 1, g = 1;
    for (long r = 1; g == 1 && r <= max_iter; r *= 2) {
        x = y;
        for (long i = 0; i < r; i++) {
            y = mulredc1(y, y, n, ninv) + c;
            y = y >= n || y < c ? y - n : y;
        }
        for (long k = 0; k < r && g == 1; k += RHO_BATCH) {
            ys = y;
            long lim = r - k < RHO_BATCH ? r - k : RHO_BATCH;
            for (long i = 0; i < lim; i++) {
                y = mulredc1(y, y, n, ninv) + c;
                y = y >= n || y < c ? y - n : y;
                q = mulredc1(q, x > y ? x - y : y - x, n, ninv);
            }
            g = n_gcd(q, n);
        }
    }
    if (g == n) /* the batch went past the factor: step again one by one */
        do {
            ys = mulredc1(ys, ys, n, ninv) + c;
            ys = ys >= n || ys < c ? ys - n : ys;
            g = n_gcd(x > ys ? x - ys : ys - x, n);
        } while (g == 1);
    return g == 1 || g == n ? 0 : g;
}

/* Factor the word n, whose prime factors are all above TRIAL_BOUND (or n is
 * 1 or prime), into f with exponents times mult. */
static void split_u64(fmpz_factor_t f, uint64_t n, ulong mult) {
    if (n == 1)
        return;
    if (n_is_prime(n)) {
        _fmpz_factor_append_ui(f, n, mult);
        return;
    }
    ulong e;
    uint64_t root = n_factor_power235(&e, n);
    if (root) {
        split_u64(f, root, mult * e);
        return;
    }
    uint64_t d = 0;
    for (uint64_t c = 1; !d && c < 40; c++)
        d = rho_u64(n, c, 1L << 22);
    if (!d) { /* not seen; FLINT's own method */
        n_factor_t nf;
        n_factor_init(&nf);
        n_factor(&nf, n, 1);
        for (int i = 0; i < nf.num; i++)
            _fmpz_factor_append_ui(f, nf.p[i], nf.exp[i] * mult);
        return;
    }
    split_u64(f, d, mult);
    split_u64(f, n / d, mult);
}

/* Proof that n, a probable prime above 2^64, is prime. fmpz_is_prime first
 * tries to factor n - 1 and n + 1 far enough (cheap below about 45 digits);
 * above, going straight to APRCL is 2 to 3 times faster. */
static int prove_prime(const fmpz_t n) {
    return fmpz_bits(n) > 150 ? aprcl_is_prime(n) : fmpz_is_prime(n);
}

/* Factor m (all of whose prime factors are above TRIAL_BOUND) into f with
 * exponents times mult; m is used up. */
static void split(fmpz_factor_t f, mpz_t m, ulong mult) {
    if (mpz_cmp_ui(m, 1) == 0)
        return;
    if (mpz_size(m) == 1) {
        split_u64(f, mpz_get_ui(m), mult);
        return;
    }
    fmpz_t z, root;
    fmpz_init(z);
    fmpz_init(root);
    fmpz_set_mpz(z, m);
    int e;
    if (mpz_probab_prime_p(m, 1) && prove_prime(z)) { /* BPSW, then the proof */
        _fmpz_factor_append(f, z, mult);
    } else if ((e = fmpz_is_perfect_power(root, z)) > 1) {
        fmpz_get_mpz(m, root);
        split(f, m, mult * (ulong)e);
    } else {
        mpz_t d;
        mpz_init(d);
        if (mpz_size(m) <= TNT_FACTOR_WORDS_MAX && tnt_find_factor(d, m)) {
            mpz_divexact(m, m, d);
            split(f, d, mult);
            split(f, m, mult);
        } else { /* the quadratic sieve; its factors need not be prime */
            fmpz_factor_t q;
            fmpz_factor_init(q);
            qsieve_factor(q, z);
            fmpz_factor_expand(root, q);
            if ((q->num < 2 && (q->num == 0 || q->exp[0] == 1)) || !fmpz_equal(root, z)) {
                fmpz_factor(q, z); /* not split (never seen): FLINT's whole method */
                for (slong i = 0; i < q->num; i++)
                    _fmpz_factor_append(f, q->p + i, q->exp[i] * mult);
            } else {
                for (slong i = 0; i < q->num; i++) {
                    fmpz_get_mpz(d, q->p + i);
                    split(f, d, mult * q->exp[i]);
                }
            }
            fmpz_factor_clear(q);
        }
        mpz_clear(d);
    }
    fmpz_clear(z);
    fmpz_clear(root);
}

/* Sort f by prime and merge repeated primes. */
static void sort_merge(fmpz_factor_t f) {
    for (slong i = 1; i < f->num; i++)
        for (slong j = i; j > 0 && fmpz_cmp(f->p + j - 1, f->p + j) > 0; j--) {
            fmpz_swap(f->p + j - 1, f->p + j);
            ulong t = f->exp[j - 1];
            f->exp[j - 1] = f->exp[j];
            f->exp[j] = t;
        }
    slong k = 0;
    for (slong i = 0; i < f->num; i++)
        if (k > 0 && fmpz_equal(f->p + k - 1, f->p + i)) {
            f->exp[k - 1] += f->exp[i];
        } else {
            if (k != i) {
                fmpz_swap(f->p + k, f->p + i);
                f->exp[k] = f->exp[i];
            }
            k++;
        }
    _fmpz_factor_set_length(f, k);
}

void tnt_factor(fmpz_factor_t f, const fmpz_t n) {
    _fmpz_factor_set_length(f, 0);
    f->sign = fmpz_sgn(n) < 0 ? -1 : 1;
    if (fmpz_is_zero(n))
        return;
    if (fmpz_abs_fits_ui(n)) {
        fmpz_t a;
        fmpz_init(a);
        fmpz_abs(a, n);
        split_u64(f, trial_u64(f, fmpz_get_ui(a), 1), 1);
        fmpz_clear(a);
    } else {
        mpz_t m;
        mpz_init(m);
        fmpz_get_mpz(m, n);
        mpz_abs(m, m);
        trial_mpz(f, m, 1);
        split(f, m, 1);
        mpz_clear(m);
    }
    sort_merge(f);
}

/* ---- primality ---- */

int tnt_is_prime(const fmpz_t n) {
    if (fmpz_cmp_ui(n, 1) <= 0)
        return 0;
    if (fmpz_abs_fits_ui(n))
        return n_is_prime(fmpz_get_ui(n));
    /* GMP's test (small trial division, then Baillie-PSW: reps <= 24 adds no
     * Miller-Rabin rounds) is the cheap reject; the proof only for primes */
    if (!mpz_probab_prime_p(COEFF_TO_PTR(*n), 1))
        return 0;
    size_t digits = fmpz_sizeinbase(n, 10); /* exact, or one too many */
    if (digits == TOOL_PRIME_PROVE_DIGITS + 1) {
        fmpz_t ten;
        fmpz_init(ten);
        fmpz_ui_pow_ui(ten, 10, TOOL_PRIME_PROVE_DIGITS);
        digits -= fmpz_cmp(n, ten) < 0;
        fmpz_clear(ten);
    }
    return digits > TOOL_PRIME_PROVE_DIGITS || prove_prime(n);
}

/* ---- divisors ----
 * The divisors made of the primes so far are kept ascending; they times p,
 * p^2, ... of the next prime are ascending runs merged in: no sort. In
 * words when n fits in one (no FLINT calls per element), else in fmpz. */

static void merge_ui(ulong *out, const ulong *a, slong na, const ulong *b, slong nb) {
    slong i = 0, j = 0, k = 0;
    while (i < na && j < nb)
        out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
    while (i < na)
        out[k++] = a[i++];
    while (j < nb)
        out[k++] = b[j++];
}

/* 0 when n (the product of f) does not fit in a word or memory ran out */
static int divisors_ui(fmpz *d, const fmpz_factor_t f, slong count) {
    ulong n = 1;
    for (slong i = 0; i < f->num; i++) {
        if (!fmpz_abs_fits_ui(f->p + i))
            return 0;
        for (ulong k = 0; k < f->exp[i]; k++)
            if (__builtin_mul_overflow(n, fmpz_get_ui(f->p + i), &n))
                return 0;
    }
    ulong *cur = malloc(sizeof(ulong) * 3 * (size_t)count);
    if (!cur)
        return 0;
    ulong *other = cur + count, *run = other + count, *mem = cur;
    slong len = 1;
    cur[0] = 1;
    for (slong i = 0; i < f->num; i++) {
        ulong p = fmpz_get_ui(f->p + i);
        slong have = len;
        memcpy(run, cur, sizeof(ulong) * (size_t)have);
        for (ulong k = 1; k <= f->exp[i]; k++) {
            for (slong j = 0; j < have; j++)
                run[j] *= p;
            merge_ui(other, cur, len, run, have);
            ulong *t = cur;
            cur = other;
            other = t;
            len += have;
        }
    }
    for (slong i = 0; i < count; i++)
        fmpz_set_ui(d + i, cur[i]);
    free(mem);
    return 1;
}

static void merge(fmpz *out, const fmpz *a, slong na, const fmpz *b, slong nb) {
    slong i = 0, j = 0, k = 0;
    while (i < na && j < nb)
        fmpz_set(out + k++, fmpz_cmp(a + i, b + j) <= 0 ? a + i++ : b + j++);
    while (i < na)
        fmpz_set(out + k++, a + i++);
    while (j < nb)
        fmpz_set(out + k++, b + j++);
}

void tnt_divisors(fmpz *d, const fmpz_factor_t f) {
    slong count = 1;
    for (slong i = 0; i < f->num; i++)
        count *= (slong)f->exp[i] + 1;
    if (divisors_ui(d, f, count))
        return;
    fmpz *run = _fmpz_vec_init(count), *buf = _fmpz_vec_init(count), *cur = d, *other = buf;
    slong len = 1;
    fmpz_one(cur);
    for (slong i = 0; i < f->num; i++) {
        slong have = len;
        _fmpz_vec_set(run, cur, have);
        for (ulong k = 1; k <= f->exp[i]; k++) {
            _fmpz_vec_scalar_mul_fmpz(run, run, have, f->p + i);
            merge(other, cur, len, run, have);
            fmpz *t = cur;
            cur = other;
            other = t;
            len += have;
        }
    }
    if (cur != d)
        _fmpz_vec_swap(d, cur, count);
    _fmpz_vec_clear(run, count);
    _fmpz_vec_clear(buf, count);
}
