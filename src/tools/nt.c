/*
 * Number-theory tools on FLINT integers (fmpz): gcd, lcm, factorization,
 * primality (proved, not probable), divisors and their count and sum,
 * Euler's totient, modular inverse and power, the Chinese remainder theorem
 * for moduli that need not be coprime, base conversion and digit sums.
 * Everything is exact; the size guards in tools_int.h keep a direct call
 * bounded, and the pool's CPU limit backs them up.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/fmpz_factor.h>

/* ---- gcd / lcm ---- */

static int read_int_list(const tkd_json *args, const char *key, size_t min, fmpz **out, size_t *n, tkd_err *e) {
    const tkd_json *arr;
    if (targ_list(args, key, min, TOOL_LIST_MAX, &arr, e))
        return e->code;
    *n = tkd_json_size(arr);
    *out = _fmpz_vec_init((slong)*n);
    for (size_t i = 0; i < *n; i++) {
        if (tval_fmpz(tkd_json_at(arr, i), *out + i, e, "element %zu of '%s'", i + 1, key)) {
            _fmpz_vec_clear(*out, (slong)*n);
            return e->code;
        }
    }
    return 0;
}

static int gcd_lcm(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e, int lcm) {
    fmpz *v;
    size_t n;
    if (read_int_list(args, "numbers", 1, &v, &n, e))
        return e->code;
    fmpz_t acc;
    fmpz_init_set(acc, v + 0);
    fmpz_abs(acc, acc);
    for (size_t i = 1; i < n; i++)
        lcm ? fmpz_lcm(acc, acc, v + i) : fmpz_gcd(acc, acc, v + i);
    *result = tjson_fmpz(ta, acc);
    fmpz_clear(acc);
    _fmpz_vec_clear(v, (slong)n);
    return 0;
}

static int t_gcd(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return gcd_lcm(ta, a, r, e, 0);
}
static int t_lcm(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return gcd_lcm(ta, a, r, e, 1);
}

/* ---- factorization and what follows from it ---- */

/* Factor |n| (n != 0) with a digit guard. */
static int factor_checked(const fmpz_t n, const char *tool, fmpz_factor_t f, tkd_err *e) {
    if (fmpz_is_zero(n))
        return tkd_err_set(e, TKD_EMATH, "%s: 0 has no prime factorization; give a nonzero integer", tool);
    if (fmpz_sizeinbase(n, 10) > TOOL_FACTOR_DIGITS_MAX)
        return tkd_err_set(e, TKD_ELIMIT, "%s: the integer has more than %d digits, too large to factor here", tool,
                           TOOL_FACTOR_DIGITS_MAX);
    fmpz_t a;
    fmpz_init(a);
    fmpz_abs(a, n);
    tnt_factor(f, a);
    fmpz_clear(a);
    return 0;
}

static int read_n(const tkd_json *args, fmpz_t n, const char *tool, int positive, tkd_err *e) {
    if (targ_fmpz(args, "n", n, e))
        return tkd_err_wrap(e, "%s", tool);
    if (positive && fmpz_sgn(n) <= 0)
        return tkd_err_set(e, TKD_EMATH, "%s: n must be a positive integer", tool);
    return 0;
}

static int t_factor_integer(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    fmpz_t n;
    fmpz_init(n);
    fmpz_factor_t f;
    fmpz_factor_init(f);
    int rc = read_n(args, n, "factor_integer", 0, e);
    if (!rc)
        rc = factor_checked(n, "factor_integer", f, e);
    if (!rc) {
        tkd_json *o = tkd_json_new(ta, TKD_JSON_OBJ);
        if (fmpz_sgn(n) < 0)
            tkd_json_set(ta, o, "-1", tkd_json_integer(ta, 1));
        for (slong i = 0; i < f->num; i++) {
            char *p = fmpz_get_str(NULL, 10, f->p + i);
            tkd_json_set(ta, o, p, tkd_json_integer(ta, (long long)f->exp[i]));
            flint_free(p);
        }
        *result = o;
    }
    fmpz_factor_clear(f);
    fmpz_clear(n);
    return rc;
}

static int t_is_prime(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    fmpz_t n;
    fmpz_init(n);
    int rc = read_n(args, n, "is_prime", 0, e);
    if (!rc && fmpz_sizeinbase(n, 10) > TOOL_PRIME_DIGITS_MAX)
        rc = tkd_err_set(e, TKD_ELIMIT, "is_prime: n has more than %d digits; use a smaller integer",
                         TOOL_PRIME_DIGITS_MAX);
    if (!rc) { /* BPSW first; a proof up to TOOL_PRIME_PROVE_DIGITS digits */
        int p = tnt_is_prime(n);
        *result = tkd_json_string(ta, p ? "True" : "False");
    }
    fmpz_clear(n);
    return rc;
}

static int t_divisors(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    fmpz_t n, cnt;
    fmpz_init(n);
    fmpz_init_set_ui(cnt, 1);
    fmpz_factor_t f;
    fmpz_factor_init(f);
    int rc = read_n(args, n, "divisors", 1, e);
    if (!rc)
        rc = factor_checked(n, "divisors", f, e);
    for (slong i = 0; !rc && i < f->num; i++)
        fmpz_mul_ui(cnt, cnt, f->exp[i] + 1);
    if (!rc && fmpz_cmp_ui(cnt, TOOL_DIVISORS_MAX) > 0)
        rc = tkd_err_set(e, TKD_ELIMIT, "divisors: n has more than %d divisors; use divisor_count instead",
                         TOOL_DIVISORS_MAX);
    if (!rc) {
        slong m = fmpz_get_si(cnt);
        fmpz *d = _fmpz_vec_init(m);
        tnt_divisors(d, f); /* ascending */
        tkd_json *arr = tkd_json_new(ta, TKD_JSON_ARR);
        for (slong i = 0; i < m; i++)
            tkd_json_push(ta, arr, tjson_fmpz(ta, d + i));
        _fmpz_vec_clear(d, m);
        *result = arr;
    }
    fmpz_factor_clear(f);
    fmpz_clear(cnt);
    fmpz_clear(n);
    return rc;
}

/* what: 0 count, 1 sum, 2 totient */
static int multiplicative(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e, int what, const char *tool) {
    fmpz_t n, acc, t, pk;
    fmpz_init(n);
    fmpz_init_set_ui(acc, 1);
    fmpz_init(t);
    fmpz_init(pk);
    fmpz_factor_t f;
    fmpz_factor_init(f);
    int rc = read_n(args, n, tool, 1, e);
    if (!rc)
        rc = factor_checked(n, tool, f, e);
    for (slong i = 0; !rc && i < f->num; i++) {
        if (what == 0) {
            fmpz_mul_ui(acc, acc, f->exp[i] + 1);
        } else if (what == 1) { /* (p^(e+1) - 1) / (p - 1) */
            fmpz_pow_ui(pk, f->p + i, f->exp[i] + 1);
            fmpz_sub_ui(pk, pk, 1);
            fmpz_sub_ui(t, f->p + i, 1);
            fmpz_divexact(pk, pk, t);
            fmpz_mul(acc, acc, pk);
        } else { /* p^(e-1) (p - 1) */
            fmpz_pow_ui(pk, f->p + i, f->exp[i] - 1);
            fmpz_sub_ui(t, f->p + i, 1);
            fmpz_mul(acc, acc, pk);
            fmpz_mul(acc, acc, t);
        }
    }
    if (!rc)
        *result = tjson_fmpz(ta, acc);
    fmpz_factor_clear(f);
    fmpz_clear(n);
    fmpz_clear(acc);
    fmpz_clear(t);
    fmpz_clear(pk);
    return rc;
}

static int t_divisor_count(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return multiplicative(ta, a, r, e, 0, "divisor_count");
}
static int t_divisor_sum(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return multiplicative(ta, a, r, e, 1, "divisor_sum");
}
static int t_totient(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return multiplicative(ta, a, r, e, 2, "totient");
}

/* ---- modular arithmetic ---- */

static int t_mod_inverse(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    fmpz_t a, m, r;
    fmpz_init(a);
    fmpz_init(m);
    fmpz_init(r);
    int rc = targ_fmpz(args, "a", a, e) || targ_fmpz(args, "m", m, e) ? tkd_err_wrap(e, "mod_inverse") : 0;
    if (!rc && fmpz_cmp_ui(m, 1) < 0)
        rc = tkd_err_set(e, TKD_EMATH, "mod_inverse: the modulus m must be a positive integer");
    if (!rc && fmpz_is_one(m))
        fmpz_zero(r);
    else if (!rc && !fmpz_invmod(r, a, m))
        rc = tkd_err_set(e, TKD_EMATH, "mod_inverse: the inverse does not exist because gcd(a, m) != 1");
    if (!rc)
        *result = tjson_fmpz(ta, r);
    fmpz_clear(a);
    fmpz_clear(m);
    fmpz_clear(r);
    return rc;
}

static int t_mod_pow(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    fmpz_t b, x, m, r;
    fmpz_init(b);
    fmpz_init(x);
    fmpz_init(m);
    fmpz_init(r);
    int rc = targ_fmpz(args, "base", b, e) || targ_fmpz(args, "exponent", x, e) || targ_fmpz(args, "modulus", m, e)
                 ? tkd_err_wrap(e, "mod_pow")
                 : 0;
    if (!rc && fmpz_cmp_ui(m, 1) < 0)
        rc = tkd_err_set(e, TKD_EMATH, "mod_pow: the modulus must be a positive integer");
    if (!rc && fmpz_sgn(x) < 0) {
        fmpz_t inv;
        fmpz_init(inv);
        if (!fmpz_is_one(m) && !fmpz_invmod(inv, b, m))
            rc = tkd_err_set(e, TKD_EMATH,
                             "mod_pow: a negative exponent needs base invertible modulo modulus, and it is not");
        else {
            fmpz_neg(x, x);
            fmpz_powm(r, inv, x, m);
        }
        fmpz_clear(inv);
    } else if (!rc) {
        fmpz_powm(r, b, x, m);
    }
    if (!rc) {
        fmpz_mod(r, r, m);
        *result = tjson_fmpz(ta, r);
    }
    fmpz_clear(b);
    fmpz_clear(x);
    fmpz_clear(m);
    fmpz_clear(r);
    return rc;
}

static int t_solve_congruences(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    fmpz *r, *m;
    size_t nr, nm;
    if (read_int_list(args, "remainders", 1, &r, &nr, e))
        return tkd_err_wrap(e, "solve_congruences");
    if (read_int_list(args, "moduli", 1, &m, &nm, e)) {
        _fmpz_vec_clear(r, (slong)nr);
        return tkd_err_wrap(e, "solve_congruences");
    }
    int rc = 0;
    if (nr != nm)
        rc = tkd_err_set(
            e, TKD_EINVAL,
            "solve_congruences: 'remainders' has %zu elements and 'moduli' %zu; give one remainder per modulus", nr,
            nm);
    fmpz_t x, M, g, d, t, u;
    fmpz_init(x);
    fmpz_init_set_ui(M, 1);
    fmpz_init(g);
    fmpz_init(d);
    fmpz_init(t);
    fmpz_init(u);
    for (size_t i = 0; !rc && i < nr; i++) {
        if (fmpz_sgn(m + i) <= 0) {
            rc = tkd_err_set(e, TKD_EMATH, "solve_congruences: every modulus must be a positive integer");
            break;
        }
        /* x' = x + M*k with M*k = r_i - x (mod m_i): g = gcd(M, m_i) must divide r_i - x */
        fmpz_gcd(g, M, m + i);
        fmpz_sub(d, r + i, x);
        if (!fmpz_divisible(d, g)) {
            rc = tkd_err_set(e, TKD_EMATH,
                             "solve_congruences: the congruences are inconsistent, no integer satisfies them all");
            break;
        }
        fmpz_divexact(d, d, g);
        fmpz_divexact(t, m + i, g); /* m_i / g */
        fmpz_divexact(u, M, g);     /* M / g, invertible mod t */
        if (!fmpz_is_one(t)) {
            fmpz_invmod(u, u, t);
            fmpz_mul(d, d, u);
            fmpz_mod(d, d, t);
        } else {
            fmpz_zero(d);
        }
        fmpz_addmul(x, M, d);
        fmpz_mul(M, M, t);
        fmpz_mod(x, x, M);
    }
    if (!rc) {
        *result = tkd_json_new(ta, TKD_JSON_OBJ);
        tkd_json_set(ta, *result, "solution", tjson_fmpz(ta, x));
        tkd_json_set(ta, *result, "modulus", tjson_fmpz(ta, M));
    }
    fmpz_clear(x);
    fmpz_clear(M);
    fmpz_clear(g);
    fmpz_clear(d);
    fmpz_clear(t);
    fmpz_clear(u);
    _fmpz_vec_clear(r, (slong)nr);
    _fmpz_vec_clear(m, (slong)nm);
    return rc;
}

/* ---- digits ---- */

static int t_convert_base(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long fb, tb;
    if (targ_slong(args, "from_base", 2, 36, 10, &fb, e) || targ_slong(args, "to_base", 2, 36, 10, &tb, e))
        return tkd_err_wrap(e, "convert_base");
    tkd_json *v = tkd_json_get(args, "number");
    const char *s = tkd_json_is(v, TKD_JSON_INT) ? v->s : tkd_json_str(v);
    if (!s)
        return tkd_err_set(
            e, TKD_EINVAL,
            "convert_base: 'number' must be a string of digits in from_base, e.g. \"ff\" with from_base 16");
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len > TOOL_INT_DIGITS_MAX)
        return tkd_err_set(e, TKD_ELIMIT, "convert_base: the number has more than %d digits", TOOL_INT_DIGITS_MAX);
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i == len)
        return tkd_err_set(e, TKD_EINVAL, "convert_base: 'number' has no digits");
    for (size_t k = i; k < len; k++) {
        int c = tolower((unsigned char)s[k]);
        int dv = isdigit(c) ? c - '0' : (c >= 'a' && c <= 'z') ? c - 'a' + 10 : 99;
        if (dv >= fb)
            return tkd_err_set(e, TKD_EINVAL, "convert_base: '%c' is not a digit in base %ld (digits are 0-9 then a-z)",
                               isprint(c) ? c : '?', fb);
    }
    char *t = strndup(s + i, len - i);
    if (!t)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (char *q = t; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    fmpz_t z;
    fmpz_init(z);
    fmpz_set_str(z, t, (int)fb);
    free(t);
    if (s[0] == '-')
        fmpz_neg(z, z);
    char *out = fmpz_get_str(NULL, (int)tb, z);
    *result = tkd_json_string(ta, out);
    flint_free(out);
    fmpz_clear(z);
    return 0;
}

static int t_digit_sum(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long b;
    if (targ_slong(args, "base", 2, 36, 10, &b, e))
        return tkd_err_wrap(e, "digit_sum");
    fmpz_t n;
    fmpz_init(n);
    if (read_n(args, n, "digit_sum", 0, e)) {
        fmpz_clear(n);
        return e->code;
    }
    fmpz_abs(n, n);
    char *s = fmpz_get_str(NULL, (int)b, n);
    unsigned long sum = 0;
    for (char *q = s; *q; q++)
        sum += (unsigned long)(isdigit((unsigned char)*q) ? *q - '0' : tolower((unsigned char)*q) - 'a' + 10);
    flint_free(s);
    fmpz_clear(n);
    char out[32];
    snprintf(out, sizeof out, "%lu", sum);
    *result = tkd_json_string(ta, out);
    return 0;
}

#define INT_N                                                                                                          \
    { "n", TP_INT, 1, "an integer, e.g. 360 (big ones as a string of digits)" }

const struct tkd_tool tkd_tools_nt_table[] = {
    {"gcd",
     "number theory",
     "greatest common divisor of integers",
     "Greatest common divisor of a list of integers. Example: {\"numbers\": [84, 126, 210]} -> \"42\".",
     {{"numbers", TP_INTS, 1, "list of integers, e.g. [84, 126]"}},
     t_gcd},
    {"lcm",
     "number theory",
     "least common multiple of integers",
     "Least common multiple of a list of integers. Example: {\"numbers\": [4, 6, 10]} -> \"60\".",
     {{"numbers", TP_INTS, 1, "list of integers, e.g. [4, 6]"}},
     t_lcm},
    {"factor_integer",
     "number theory",
     "prime factorization {prime: exponent}",
     "Prime factorization of an integer as {prime: exponent}; a negative n adds {\"-1\": 1}. Up to 60 digits. Example: "
     "{\"n\": 360} -> {\"2\": 3, \"3\": 2, \"5\": 1}.",
     {INT_N},
     t_factor_integer},
    {"is_prime",
     "number theory",
     "primality test",
     "Whether an integer is prime: \"True\" or \"False\". Proved up to 60 digits; above, the BPSW test (like SymPy's "
     "isprime; no counterexample is known). Up to 400 digits. Example: {\"n\": 97} -> \"True\".",
     {INT_N},
     t_is_prime},
    {"divisors",
     "number theory",
     "sorted list of positive divisors",
     "All positive divisors of a positive integer, ascending. Example: {\"n\": 12} -> [\"1\", \"2\", \"3\", \"4\", "
     "\"6\", \"12\"].",
     {INT_N},
     t_divisors},
    {"divisor_count",
     "number theory",
     "number of positive divisors",
     "Number of positive divisors of a positive integer (tau). Example: {\"n\": 360} -> \"24\".",
     {INT_N},
     t_divisor_count},
    {"divisor_sum",
     "number theory",
     "sum of positive divisors",
     "Sum of the positive divisors of a positive integer (sigma, n included). Example: {\"n\": 12} -> \"28\".",
     {INT_N},
     t_divisor_sum},
    {"totient",
     "number theory",
     "Euler's totient phi(n)",
     "Euler's totient: how many of 1..n are coprime to n. Example: {\"n\": 36} -> \"12\".",
     {INT_N},
     t_totient},
    {"mod_inverse",
     "number theory",
     "inverse of a modulo m",
     "The x in [0, m) with a*x = 1 (mod m); an error when gcd(a, m) != 1. Example: {\"a\": 3, \"m\": 11} -> \"4\".",
     {{"a", TP_INT, 1, "the integer to invert"}, {"m", TP_INT, 1, "the modulus, a positive integer"}},
     t_mod_inverse},
    {"mod_pow",
     "number theory",
     "base**exponent mod modulus",
     "base**exponent modulo modulus, in [0, modulus); a negative exponent uses the modular inverse. Example: "
     "{\"base\": 2, \"exponent\": 100, \"modulus\": 7} -> \"2\".",
     {{"base", TP_INT, 1, "integer base"},
      {"exponent", TP_INT, 1, "integer exponent"},
      {"modulus", TP_INT, 1, "positive integer modulus"}},
     t_mod_pow},
    {"solve_congruences",
     "number theory",
     "Chinese remainder theorem",
     "Solve x = remainders[i] (mod moduli[i]) for all i (moduli need not be coprime). Answers {\"solution\": x, "
     "\"modulus\": M}: all solutions are x + k*M; an error if inconsistent. Example: {\"remainders\": [2, 3, 2], "
     "\"moduli\": [3, 5, 7]} -> {\"solution\": \"23\", \"modulus\": \"105\"}.",
     {{"remainders", TP_INTS, 1, "list of remainders, e.g. [2, 3, 2]"},
      {"moduli", TP_INTS, 1, "list of positive moduli, same length, e.g. [3, 5, 7]"}},
     t_solve_congruences},
    {"convert_base",
     "number theory",
     "write an integer in another base",
     "Convert an integer written in from_base (2..36, digits 0-9 then a-z) into to_base. Example: {\"number\": "
     "\"255\", \"from_base\": 10, \"to_base\": 2} -> \"11111111\".",
     {{"number", TP_TEXT, 1, "the integer as a string of digits in from_base, e.g. \"ff\""},
      {"from_base", TP_INT, 0, "base of 'number' (default 10)"},
      {"to_base", TP_INT, 0, "base of the answer (default 10)"}},
     t_convert_base},
    {"digit_sum",
     "number theory",
     "sum of the digits of an integer",
     "Sum of the digits of |n| written in the given base (default 10). Example: {\"n\": 2024} -> \"8\".",
     {INT_N, {"base", TP_INT, 0, "base 2..36 (default 10)"}},
     t_digit_sum},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
