/*
 * Combinatorics tools on FLINT integers: factorial, binomial (negative n by
 * the generalized definition, like SymPy), permutations, multinomial,
 * Catalan and Stirling numbers, integer partitions (all of them, or into
 * exactly k parts) and the number of integer solutions of
 * x1 + ... + xk = total with bounds (stars and bars with inclusion-exclusion).
 */
#include <stdio.h>

#include "tools_int.h"

#include <flint/arith.h>

/* C(n, k) for any integer n and k >= 0 (generalized: n may be negative). */
static int binom(fmpz_t r, const fmpz_t n_in, const fmpz_t k_in, const char *tool, tkd_err *e) {
    if (fmpz_sgn(k_in) < 0) {
        fmpz_zero(r);
        return 0;
    }
    fmpz_t n, k, t;
    fmpz_init_set(n, n_in);
    fmpz_init_set(k, k_in);
    fmpz_init(t);
    int neg = 0;
    if (fmpz_sgn(n) < 0) { /* C(n, k) = (-1)^k C(k - n - 1, k) */
        fmpz_sub(n, k, n);
        fmpz_sub_ui(n, n, 1);
        neg = fmpz_is_odd(k);
    }
    int rc = 0;
    if (fmpz_cmp(k, n) > 0) {
        fmpz_zero(r);
    } else {
        fmpz_sub(t, n, k);
        if (fmpz_cmp(t, k) < 0)
            fmpz_swap(t, k); /* k = min(k, n - k), t = n - k */
        if (fmpz_cmp_ui(k, TOOL_COMB_N_MAX) > 0) {
            rc = tkd_err_set(e, TKD_ELIMIT, "%s: min(k, n-k) is above %d; the answer would be too large to write", tool,
                             TOOL_COMB_N_MAX);
        } else {
            ulong kk = fmpz_get_ui(k);
            fmpz_add_ui(t, t, 1);
            fmpz_rfac_ui(r, t, kk); /* (n-k+1) ... n */
            fmpz_fac_ui(t, kk);
            fmpz_divexact(r, r, t);
            if (neg)
                fmpz_neg(r, r);
        }
    }
    fmpz_clear(n);
    fmpz_clear(k);
    fmpz_clear(t);
    return rc;
}

static int small_n(const tkd_json *args, const char *key, long max, long *n, const char *tool, tkd_err *e) {
    if (targ_slong(args, key, 0, max, 0, n, e))
        return tkd_err_wrap(e, "%s", tool);
    return 0;
}

static int t_factorial(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long n;
    if (small_n(args, "n", TOOL_COMB_N_MAX, &n, "factorial", e))
        return e->code;
    fmpz_t r;
    fmpz_init(r);
    fmpz_fac_ui(r, (ulong)n);
    *result = tjson_fmpz(ta, r);
    fmpz_clear(r);
    return 0;
}

static int t_binomial(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    fmpz_t n, k, r;
    fmpz_init(n);
    fmpz_init(k);
    fmpz_init(r);
    int rc = targ_fmpz(args, "n", n, e) || targ_fmpz(args, "k", k, e) ? tkd_err_wrap(e, "binomial") : 0;
    if (!rc)
        rc = binom(r, n, k, "binomial", e);
    if (!rc)
        *result = tjson_fmpz(ta, r);
    fmpz_clear(n);
    fmpz_clear(k);
    fmpz_clear(r);
    return rc;
}

static int t_permutations(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long n, k;
    if (small_n(args, "n", TOOL_COMB_N_MAX, &n, "permutations", e))
        return e->code;
    if (targ_slong(args, "k", 0, TOOL_COMB_N_MAX, n, &k, e))
        return tkd_err_wrap(e, "permutations");
    fmpz_t r, x;
    fmpz_init(r);
    fmpz_init_set_si(x, n - k + 1);
    if (k > n)
        fmpz_zero(r);
    else
        fmpz_rfac_ui(r, x, (ulong)k); /* n! / (n-k)! */
    *result = tjson_fmpz(ta, r);
    fmpz_clear(r);
    fmpz_clear(x);
    return 0;
}

static int t_multinomial(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const tkd_json *arr;
    if (targ_list(args, "counts", 1, TOOL_LIST_MAX, &arr, e))
        return tkd_err_wrap(e, "multinomial");
    long total = 0;
    long ks[TOOL_LIST_MAX];
    size_t n = tkd_json_size(arr);
    fmpz_t z, r, t;
    fmpz_init(z);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (tval_fmpz(tkd_json_at(arr, i), z, e, "an element of 'counts'"))
            rc = tkd_err_wrap(e, "multinomial");
        else if (fmpz_sgn(z) < 0 || fmpz_cmp_si(z, TOOL_COMB_N_MAX - total) > 0)
            rc = tkd_err_set(e, fmpz_sgn(z) < 0 ? TKD_EMATH : TKD_ELIMIT,
                             "multinomial: counts must be nonnegative integers adding up to at most %d",
                             TOOL_COMB_N_MAX);
        else
            total += ks[i] = fmpz_get_si(z);
    }
    fmpz_clear(z);
    if (rc)
        return rc;
    fmpz_init(r);
    fmpz_init(t);
    fmpz_fac_ui(r, (ulong)total);
    for (size_t i = 0; i < n; i++) {
        fmpz_fac_ui(t, (ulong)ks[i]);
        fmpz_divexact(r, r, t);
    }
    *result = tjson_fmpz(ta, r);
    fmpz_clear(r);
    fmpz_clear(t);
    return 0;
}

static int t_catalan(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long n;
    if (small_n(args, "n", TOOL_COMB_N_MAX / 2, &n, "catalan", e))
        return e->code;
    fmpz_t r;
    fmpz_init(r);
    fmpz_bin_uiui(r, (ulong)(2 * n), (ulong)n);
    fmpz_divexact_ui(r, r, (ulong)(n + 1));
    *result = tjson_fmpz(ta, r);
    fmpz_clear(r);
    return 0;
}

static int t_stirling(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long n, k, kind;
    if (small_n(args, "n", TOOL_STIRLING_N_MAX, &n, "stirling", e) ||
        small_n(args, "k", TOOL_STIRLING_N_MAX, &k, "stirling", e))
        return e->code;
    if (targ_slong(args, "kind", 1, 2, 2, &kind, e))
        return tkd_err_wrap(e, "stirling");
    fmpz_t r;
    fmpz_init(r);
    if (kind == 1)
        arith_stirling_number_1u(r, n, k);
    else
        arith_stirling_number_2(r, n, k);
    *result = tjson_fmpz(ta, r);
    fmpz_clear(r);
    return 0;
}

static int t_integer_partitions(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long n, k;
    if (small_n(args, "n", TOOL_PARTITION_N_MAX, &n, "integer_partitions", e))
        return e->code;
    if (targ_slong(args, "parts", 0, TOOL_PARTITION_K_N_MAX, -1, &k, e))
        return tkd_err_wrap(e, "integer_partitions");
    fmpz_t r;
    fmpz_init(r);
    if (k < 0) {
        arith_number_of_partitions(r, (ulong)n);
    } else if (n > TOOL_PARTITION_K_N_MAX) {
        fmpz_clear(r);
        return tkd_err_set(e, TKD_ELIMIT, "integer_partitions: with 'parts' given, n must be at most %d",
                           TOOL_PARTITION_K_N_MAX);
    } else if (k == 0 || k > n) {
        fmpz_set_ui(r, n == 0 && k == 0);
    } else {
        /* exactly k parts = partitions of n - k into parts of size <= k */
        long m = n - k;
        fmpz *dp = _fmpz_vec_init(m + 1);
        fmpz_one(dp + 0);
        for (long s = 1; s <= k && s <= m; s++)
            for (long j = s; j <= m; j++)
                fmpz_add(dp + j, dp + j, dp + j - s);
        fmpz_set(r, dp + m);
        _fmpz_vec_clear(dp, m + 1);
    }
    *result = tjson_fmpz(ta, r);
    fmpz_clear(r);
    return 0;
}

static int t_count_integer_solutions(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long k;
    fmpz_t total, lo, hi, N, c, t, term, acc, kk, top;
    if (targ_slong(args, "num_variables", 1, 10000, 0, &k, e))
        return tkd_err_wrap(e, "count_integer_solutions");
    fmpz_init(total);
    fmpz_init(lo);
    fmpz_init(hi);
    fmpz_init(N);
    fmpz_init(c);
    fmpz_init(t);
    fmpz_init(term);
    fmpz_init(acc);
    fmpz_init_set_si(kk, k - 1);
    fmpz_init(top);
    int has_hi = tkd_json_get(args, "max_value") != NULL;
    int rc = targ_fmpz(args, "total", total, e) ? tkd_err_wrap(e, "count_integer_solutions") : 0;
    if (!rc && tkd_json_get(args, "min_value") && targ_fmpz(args, "min_value", lo, e))
        rc = tkd_err_wrap(e, "count_integer_solutions");
    if (!rc && has_hi && targ_fmpz(args, "max_value", hi, e))
        rc = tkd_err_wrap(e, "count_integer_solutions");
    if (!rc) {
        /* y_i = x_i - lo >= 0, sum y = N = total - k*lo, y_i <= c - 1 with c = hi - lo + 1 */
        fmpz_set(N, total);
        fmpz_submul_ui(N, lo, (ulong)k);
        fmpz_sub(c, hi, lo);
        fmpz_add_ui(c, c, 1);
        if (has_hi && fmpz_sgn(c) <= 0) {
            fmpz_zero(acc);
        } else {
            for (long j = 0; j <= k && !rc; j++) {
                fmpz_set(top, N); /* C(N - j c + k - 1, k - 1) when N - j c >= 0 */
                if (has_hi)
                    fmpz_submul_ui(top, c, (ulong)j);
                if (fmpz_sgn(top) < 0)
                    break;
                fmpz_add_ui(top, top, (ulong)(k - 1));
                if ((rc = binom(term, top, kk, "count_integer_solutions", e)))
                    break;
                if (has_hi) {
                    fmpz_bin_uiui(t, (ulong)k, (ulong)j);
                    fmpz_mul(term, term, t);
                }
                if (j & 1)
                    fmpz_sub(acc, acc, term);
                else
                    fmpz_add(acc, acc, term);
                if (!has_hi)
                    break;
            }
        }
    }
    if (!rc)
        *result = tjson_fmpz(ta, acc);
    fmpz_clear(total);
    fmpz_clear(lo);
    fmpz_clear(hi);
    fmpz_clear(N);
    fmpz_clear(c);
    fmpz_clear(t);
    fmpz_clear(term);
    fmpz_clear(acc);
    fmpz_clear(kk);
    fmpz_clear(top);
    return rc;
}

const struct tkd_tool tkd_tools_comb_table[] = {
    {"factorial",
     "combinatorics",
     "n!",
     "n! for an integer 0 <= n <= 100000. Example: {\"n\": 10} -> \"3628800\".",
     {{"n", TP_INT, 1, "a nonnegative integer"}},
     t_factorial},
    {"binomial",
     "combinatorics",
     "binomial coefficient C(n, k)",
     "Binomial coefficient C(n, k) = n!/(k!(n-k)!); 0 when k < 0 or k > n >= 0; negative n uses the generalized "
     "definition. Example: {\"n\": 10, \"k\": 3} -> \"120\".",
     {{"n", TP_INT, 1, "integer n"}, {"k", TP_INT, 1, "integer k"}},
     t_binomial},
    {"permutations",
     "combinatorics",
     "ordered arrangements n!/(n-k)!",
     "Number of ordered arrangements of k items chosen from n: n!/(n-k)! (k defaults to n, giving n!). Example: "
     "{\"n\": 5, \"k\": 2} -> \"20\".",
     {{"n", TP_INT, 1, "nonnegative integer n"}, {"k", TP_INT, 0, "how many are arranged (default n)"}},
     t_permutations},
    {"multinomial",
     "combinatorics",
     "multinomial coefficient (k1+...+km)!/(k1!...km!)",
     "Multinomial coefficient (k1+...+km)!/(k1!*...*km!), e.g. arrangements of MISSISSIPPI: {\"counts\": [1, 4, 4, 2]} "
     "-> \"34650\".",
     {{"counts", TP_INTS, 1, "list of nonnegative integers"}},
     t_multinomial},
    {"catalan",
     "combinatorics",
     "Catalan number C_n",
     "The n-th Catalan number binomial(2n, n)/(n+1). Example: {\"n\": 5} -> \"42\".",
     {{"n", TP_INT, 1, "nonnegative integer"}},
     t_catalan},
    {"stirling",
     "combinatorics",
     "Stirling numbers of the first (unsigned) or second kind",
     "Stirling number S(n, k): kind 2 (default) counts partitions of n items into k nonempty blocks; kind 1 is the "
     "unsigned first kind (permutations of n with k cycles). Example: {\"n\": 5, \"k\": 2} -> \"15\".",
     {{"n", TP_INT, 1, "nonnegative integer n <= 5000"},
      {"k", TP_INT, 1, "nonnegative integer k"},
      {"kind", TP_INT, 0, "1 or 2 (default 2)"}},
     t_stirling},
    {"integer_partitions",
     "combinatorics",
     "number of partitions of n (optionally into exactly k parts)",
     "Number of ways to write n as a sum of positive integers regardless of order, p(n); with 'parts' = k, only those "
     "with exactly k parts. Example: {\"n\": 10} -> \"42\"; {\"n\": 10, \"parts\": 3} -> \"8\".",
     {{"n", TP_INT, 1, "nonnegative integer"}, {"parts", TP_INT, 0, "exact number of parts k (optional)"}},
     t_integer_partitions},
    {"count_integer_solutions",
     "combinatorics",
     "number of integer solutions of x1+...+xk = total with bounds",
     "Number of integer solutions of x1 + x2 + ... + xk = total with min_value <= xi <= max_value for every i "
     "(min_value defaults to 0; no upper bound unless max_value is given). Example: {\"num_variables\": 3, \"total\": "
     "10} -> \"66\"; {\"num_variables\": 3, \"total\": 10, \"min_value\": 1, \"max_value\": 5} -> \"18\".",
     {{"num_variables", TP_INT, 1, "k, the number of variables (1..10000)"},
      {"total", TP_INT, 1, "the required sum"},
      {"min_value", TP_INT, 0, "lower bound for every variable (default 0)"},
      {"max_value", TP_INT, 0, "upper bound for every variable (default none)"}},
     t_count_integer_solutions},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
