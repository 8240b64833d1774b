/*
 * Argument helpers shared by the tool handlers: read a string, an integer
 * (JSON integer or a string of digits, big ones included) or a list from the
 * argument object, with messages that tell the model what to send instead.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

const char *targ_str(const tkd_json *args, const char *key) {
    return tkd_json_str(tkd_json_get(args, key));
}

/* Decimal digits p[0..nd) (no sign) into z, negated when neg. */
static int digits_to_fmpz(const char *p, size_t nd, int neg, fmpz_t z) {
    if (nd <= 18) { /* fits a slong: no string conversion */
        slong v = 0;
        for (size_t i = 0; i < nd; i++)
            v = v * 10 + (p[i] - '0');
        fmpz_set_si(z, neg ? -v : v);
        return 0;
    }
    char *buf = malloc(nd + 1);
    if (!buf)
        return TKD_ENOMEM;
    memcpy(buf, p, nd);
    buf[nd] = 0;
    int rc = fmpz_set_str(z, buf, 10);
    free(buf);
    if (neg)
        fmpz_neg(z, z);
    return rc ? TKD_EINVAL : 0;
}

/* A plain integer literal: optional spaces, optional sign, digits, optional
 * spaces (no separators). 0, TKD_EINVAL, TKD_ELIMIT or TKD_ENOMEM. */
static int int_text(const char *s, fmpz_t z) {
    while (isspace((unsigned char)*s))
        s++;
    int neg = *s == '-';
    if (*s == '+' || *s == '-')
        s++;
    const char *d = s;
    while (isdigit((unsigned char)*s))
        s++;
    size_t nd = (size_t)(s - d);
    while (isspace((unsigned char)*s))
        s++;
    if (nd == 0 || *s)
        return TKD_EINVAL;
    if (nd > TOOL_INT_DIGITS_MAX)
        return TKD_ELIMIT;
    return digits_to_fmpz(d, nd, neg, z);
}

/* Readers name the value in their messages with a printf format (what, ...),
 * formatted only when there is an error to report, so that reading list or
 * matrix elements costs no formatting. */
#define NAME(w, what)                                                                                                  \
    char w[96];                                                                                                        \
    do {                                                                                                               \
        va_list ap_;                                                                                                   \
        va_start(ap_, what);                                                                                           \
        vsnprintf(w, sizeof w, what, ap_);                                                                             \
        va_end(ap_);                                                                                                   \
    } while (0)

int tval_fmpz(const tkd_json *v, fmpz_t z, tkd_err *e, const char *what, ...) {
    int rc = TKD_EINVAL;
    if (tkd_json_is(v, TKD_JSON_INT) || tkd_json_is(v, TKD_JSON_STR)) {
        rc = int_text(v->s, z);
        if (!rc)
            return 0;
    } else if (tkd_json_is(v, TKD_JSON_REAL)) {
        double d = tkd_json_real(v);
        if (d > -9e15 && d < 9e15 && d == (double)(long long)d) { /* range first: the cast of a huge d is UB */
            fmpz_set_si(z, (slong)(long long)d);
            return 0;
        }
    }
    if (rc == TKD_ENOMEM)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    NAME(w, what);
    if (rc == TKD_ELIMIT)
        return tkd_err_set(e, TKD_ELIMIT, "%s has more than %d digits; use a smaller integer", w, TOOL_INT_DIGITS_MAX);
    if (tkd_json_is(v, TKD_JSON_REAL))
        return tkd_err_set(e, TKD_EINVAL, "%s must be an integer, got %s", w, v->s);
    if (tkd_json_is(v, TKD_JSON_STR))
        return tkd_err_set(
            e, TKD_EINVAL,
            "%s must be an integer written in decimal digits (e.g. 360 or \"123456789012345678901\"), got \"%.40s\"",
            w, v->s);
    return tkd_err_set(e, TKD_EINVAL, "%s must be an integer (a JSON integer or a string of digits)", w);
}

int targ_fmpz(const tkd_json *args, const char *key, fmpz_t z, tkd_err *e) {
    tkd_json *v = tkd_json_get(args, key);
    if (!v)
        return tkd_err_set(e, TKD_EINVAL, "missing integer argument '%s'", key);
    return tval_fmpz(v, z, e, "argument '%s'", key);
}

int targ_slong(const tkd_json *args, const char *key, long lo, long hi, long def, long *out, tkd_err *e) {
    tkd_json *v = tkd_json_get(args, key);
    if (!v) {
        *out = def;
        return 0;
    }
    fmpz_t z;
    fmpz_init(z);
    int rc = tval_fmpz(v, z, e, "argument '%s'", key);
    if (!rc && (fmpz_cmp_si(z, lo) < 0 || fmpz_cmp_si(z, hi) > 0))
        rc = tkd_err_set(e, fmpz_cmp_si(z, hi) > 0 ? TKD_ELIMIT : TKD_EINVAL,
                         "argument '%s' must be between %ld and %ld", key, lo, hi);
    if (!rc)
        *out = fmpz_get_si(z);
    fmpz_clear(z);
    return rc;
}

int targ_list(const tkd_json *args, const char *key, size_t min, size_t max, const tkd_json **out, tkd_err *e) {
    tkd_json *v = tkd_json_get(args, key);
    if (!tkd_json_is(v, TKD_JSON_ARR))
        return tkd_err_set(e, TKD_EINVAL, "argument '%s' must be a JSON list, e.g. [12, 18]", key);
    size_t n = tkd_json_size(v);
    if (n < min)
        return tkd_err_set(e, TKD_EINVAL, "argument '%s' needs at least %zu elements, got %zu", key, min, n);
    if (n > max)
        return tkd_err_set(e, TKD_ELIMIT, "argument '%s' has %zu elements; at most %zu are accepted", key, n, max);
    *out = v;
    return 0;
}

tkd_json *tjson_fmpz(tkd_arena *ta, const fmpz_t z) {
    if (!COEFF_IS_MPZ(*z)) { /* a small integer: its digits without GMP, still as a string */
        tkd_json *j = tkd_json_integer(ta, (long long)*z);
        if (j)
            j->kind = TKD_JSON_STR;
        return j;
    }
    tkd_json *j = tkd_json_new(ta, TKD_JSON_STR);
    char *s = j ? tkd_arena_alloc(ta, fmpz_sizeinbase(z, 10) + 2) : NULL; /* sign and NUL */
    if (!s)
        return NULL;
    fmpz_get_str(s, 10, z);
    j->s = s;
    j->n = strlen(s);
    return j;
}

/* ---- expressions ---- */

/* A JSON value as an expression, without naming it: 0, or the parser's error. */
static int read_expr(const tkd_json *v, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    char buf[64];
    const char *s = tkd_json_str(v);
    long long iv;
    if (!tkd_json_int(v, &iv)) { /* a JSON integer: the number itself, no parse */
        *out = tkd_expr_int((long)iv);
        return *out ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    if (tkd_json_is(v, TKD_JSON_INT)) {
        s = v->s; /* exact, of any size */
    } else if (tkd_json_is(v, TKD_JSON_REAL)) {
        double d = tkd_json_real(v);
        snprintf(buf, sizeof buf, "%.15g", d);
        if (strtod(buf, NULL) != d)
            snprintf(buf, sizeof buf, "%.17g", d);
        s = buf;
    }
    if (!s)
        return TKD_EINVAL; /* named_error says what to send */
    return tkd_expr_parse(s, strlen(s), 0, out, e);
}

/* read_expr's error, with the value's name w. */
static int named_error(const tkd_json *v, const char *w, tkd_err *e) {
    if (!tkd_json_str(v) && !tkd_json_is_number(v))
        return tkd_err_set(e, TKD_EINVAL, "%s must be a string of SymPy syntax, e.g. \"x**2 - 4\"", w);
    return tkd_err_wrap(e, "%s", w);
}

int tparse_json(const tkd_json *v, tkd_expr **out, tkd_err *e, const char *what, ...) {
    if (!read_expr(v, out, e))
        return 0;
    NAME(w, what);
    return named_error(v, w, e);
}

int targ_expr(const tkd_json *args, const char *key, tkd_expr **out, tkd_err *e) {
    tkd_json *v = tkd_json_get(args, key);
    if (!v) {
        *out = NULL;
        return tkd_err_set(e, TKD_EINVAL, "missing argument '%s'", key);
    }
    return tparse_json(v, out, e, "argument '%s'", key);
}

int tnum_from_json(ca_t out, const tkd_json *v, ca_ctx_t ctx, tkd_err *e, const char *what, ...) {
    tkd_expr *x = NULL;
    int rc = read_expr(v, &x, e);
    int parsed = !rc;
    if (parsed)
        rc = tkd_expr_to_ca(out, x, ctx, e);
    tkd_expr_free(x);
    if (!rc)
        return 0;
    NAME(w, what);
    return parsed ? tkd_err_wrap(e, "%s", w) : named_error(v, w, e);
}

int tval_var(const tkd_json *v, const char *what, const char **out, tkd_err *e) {
    const char *s = tkd_json_str(v);
    if (!s)
        return tkd_err_set(e, TKD_EINVAL, "%s must be a variable name such as \"x\"", what);
    size_t n = strlen(s);
    int ok = n > 0 && n <= 32 && (isalpha((unsigned char)s[0]) || s[0] == '_');
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)s[i]) || s[i] == '_';
    if (!ok)
        return tkd_err_set(e, TKD_EINVAL, "%s must be one variable name such as \"x\" or \"t\", got \"%.40s\"", what,
                           s);
    *out = s;
    return 0;
}

int targ_var(const tkd_json *args, const char *key, const char *def, const char **out, tkd_err *e) {
    const tkd_json *v = tkd_json_get(args, key);
    if (!v && def) {
        *out = def;
        return 0;
    }
    const char *s = tkd_json_str(v);
    if (s && isalpha((unsigned char)s[0]) && !s[1]) { /* the usual "x" */
        *out = s;
        return 0;
    }
    char what[80];
    snprintf(what, sizeof what, "argument '%s'", key);
    return tval_var(v, what, out, e);
}

tkd_json *tjson_ast(tkd_arena *ta, tkd_expr *x) {
    if (!x)
        return NULL;
    char *s = tkd_expr_to_str(x);
    tkd_expr_free(x);
    tkd_json *j = s ? tkd_json_string(ta, s) : NULL;
    free(s);
    return j;
}

int teq_parse(const tkd_json *v, tkd_expr **out, tkd_err *e, const char *what, ...) {
    int rc = read_expr(v, out, e);
    tkd_expr *x = *out;
    if (!rc && x->kind != TKD_EX_REL && x->kind != TKD_EX_LIST && x->kind != TKD_EX_TUPLE && x->kind != TKD_EX_SET &&
        x->kind != TKD_EX_MATRIX)
        return 0; /* the usual case: an expression (= 0) */
    NAME(w, what);
    if (rc)
        return named_error(v, w, e);
    if (x->kind == TKD_EX_REL) {
        if (x->op != TKD_R_EQ) {
            tkd_expr_free(x);
            *out = NULL;
            return tkd_err_set(e, TKD_EINVAL,
                               "%s is an inequality or '!='; give an equation like \"x**2 = 4\" or Eq(x**2, 4) "
                               "(inequalities have their own tools)",
                               w);
        }
        *out = tkd_expr_sub(tkd_expr_copy(x->args[0]), tkd_expr_copy(x->args[1]));
        tkd_expr_free(x);
        if (!*out)
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    } else if (x->kind == TKD_EX_LIST || x->kind == TKD_EX_TUPLE || x->kind == TKD_EX_SET || x->kind == TKD_EX_MATRIX) {
        tkd_expr_free(x);
        *out = NULL;
        return tkd_err_set(e, TKD_EINVAL, "%s must be one equation, not a list", w);
    }
    return 0;
}
