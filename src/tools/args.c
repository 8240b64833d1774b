/*
 * Argument helpers shared by the tool handlers: read a string, an integer
 * (JSON integer or a string of digits, big ones included) or a list from the
 * argument object, with messages that tell the model what to send instead.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

const char *targ_str(const json_t *args, const char *key) {
    json_t *v = json_object_get(args, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A plain integer literal: optional sign, digits, optional surrounding
 * spaces, underscores or commas between digit groups not allowed. */
static int parse_int_text(const char *s, fmpz_t z) {
    while (isspace((unsigned char)*s))
        s++;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    const char *d = p;
    while (isdigit((unsigned char)*p))
        p++;
    size_t nd = (size_t)(p - d);
    const char *end = p;
    while (isspace((unsigned char)*end))
        end++;
    if (nd == 0 || *end)
        return -1;
    if (nd > TOOL_INT_DIGITS_MAX)
        return -2;
    char *buf = strndup(s, (size_t)(p - s));
    if (!buf)
        return -3;
    int rc = fmpz_set_str(z, buf[0] == '+' ? buf + 1 : buf, 10);
    free(buf);
    return rc ? -1 : 0;
}

int tval_fmpz(const json_t *v, const char *what, fmpz_t z, tkd_err *e) {
    if (json_is_integer(v)) {
        fmpz_set_si(z, (slong)json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == (double)(long long)d && d > -9e15 && d < 9e15) {
            fmpz_set_si(z, (slong)(long long)d);
            return 0;
        }
        return tkd_err_set(e, TKD_EINVAL, "%s must be an integer, got %g", what, d);
    }
    if (json_is_string(v)) {
        int rc = parse_int_text(json_string_value(v), z);
        if (rc == 0)
            return 0;
        if (rc == -2)
            return tkd_err_set(e, TKD_ELIMIT, "%s has more than %d digits; use a smaller integer", what,
                               TOOL_INT_DIGITS_MAX);
        if (rc == -3)
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        return tkd_err_set(
            e, TKD_EINVAL,
            "%s must be an integer written in decimal digits (e.g. 360 or \"123456789012345678901\"), got \"%.40s\"",
            what, json_string_value(v));
    }
    return tkd_err_set(e, TKD_EINVAL, "%s must be an integer (a JSON integer or a string of digits)", what);
}

int targ_fmpz(const json_t *args, const char *key, fmpz_t z, tkd_err *e) {
    json_t *v = json_object_get(args, key);
    if (!v)
        return tkd_err_set(e, TKD_EINVAL, "missing integer argument '%s'", key);
    char what[80];
    snprintf(what, sizeof what, "argument '%s'", key);
    return tval_fmpz(v, what, z, e);
}

int targ_slong(const json_t *args, const char *key, long lo, long hi, long def, long *out, tkd_err *e) {
    json_t *v = json_object_get(args, key);
    if (!v) {
        *out = def;
        return 0;
    }
    fmpz_t z;
    fmpz_init(z);
    char what[80];
    snprintf(what, sizeof what, "argument '%s'", key);
    int rc = tval_fmpz(v, what, z, e);
    if (!rc && (fmpz_cmp_si(z, lo) < 0 || fmpz_cmp_si(z, hi) > 0))
        rc = tkd_err_set(e, fmpz_cmp_si(z, hi) > 0 ? TKD_ELIMIT : TKD_EINVAL,
                         "argument '%s' must be between %ld and %ld", key, lo, hi);
    if (!rc)
        *out = fmpz_get_si(z);
    fmpz_clear(z);
    return rc;
}

int targ_list(const json_t *args, const char *key, size_t min, size_t max, const json_t **out, tkd_err *e) {
    json_t *v = json_object_get(args, key);
    if (!json_is_array(v))
        return tkd_err_set(e, TKD_EINVAL, "argument '%s' must be a JSON list, e.g. [12, 18]", key);
    size_t n = json_array_size(v);
    if (n < min)
        return tkd_err_set(e, TKD_EINVAL, "argument '%s' needs at least %zu elements, got %zu", key, min, n);
    if (n > max)
        return tkd_err_set(e, TKD_ELIMIT, "argument '%s' has %zu elements; at most %zu are accepted", key, n, max);
    *out = v;
    return 0;
}

json_t *tjson_fmpz(const fmpz_t z) {
    char *s = fmpz_get_str(NULL, 10, z);
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    flint_free(s);
    return j;
}

/* ---- expressions ---- */

int tparse_json(const json_t *v, const char *what, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    char buf[64];
    const char *s = json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        s = buf;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        snprintf(buf, sizeof buf, "%.15g", d);
        if (strtod(buf, NULL) != d)
            snprintf(buf, sizeof buf, "%.17g", d);
        s = buf;
    }
    if (!s)
        return tkd_err_set(e, TKD_EINVAL, "%s must be a string of SymPy syntax, e.g. \"x**2 - 4\"", what);
    int rc = tkd_expr_parse(s, strlen(s), 0, out, e);
    if (rc)
        tkd_err_wrap(e, "%s", what);
    return rc;
}

int targ_expr(const json_t *args, const char *key, tkd_expr **out, tkd_err *e) {
    char what[80];
    snprintf(what, sizeof what, "argument '%s'", key);
    json_t *v = json_object_get(args, key);
    if (!v) {
        *out = NULL;
        return tkd_err_set(e, TKD_EINVAL, "missing argument '%s'", key);
    }
    return tparse_json(v, what, out, e);
}

int targ_var(const json_t *args, const char *key, const char *def, const char **out, tkd_err *e) {
    const char *s = targ_str(args, key);
    if (!json_object_get(args, key) && def) {
        *out = def;
        return 0;
    }
    if (!s)
        return tkd_err_set(e, TKD_EINVAL, "argument '%s' must be a variable name such as \"x\"", key);
    size_t n = strlen(s);
    int ok = n > 0 && n <= 32 && (isalpha((unsigned char)s[0]) || s[0] == '_');
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)s[i]) || s[i] == '_';
    if (!ok)
        return tkd_err_set(e, TKD_EINVAL,
                           "argument '%s' must be one variable name such as \"x\" or \"t\", got \"%.40s\"", key, s);
    *out = s;
    return 0;
}

json_t *tjson_ast(tkd_expr *x) {
    if (!x)
        return NULL;
    char *s = tkd_expr_to_str(x);
    tkd_expr_free(x);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

int teq_parse(const json_t *v, const char *what, tkd_expr **out, tkd_err *e) {
    if (tparse_json(v, what, out, e))
        return e->code;
    tkd_expr *x = *out;
    if (x->kind == TKD_EX_REL) {
        if (x->op != TKD_R_EQ) {
            tkd_expr_free(x);
            *out = NULL;
            return tkd_err_set(e, TKD_EINVAL,
                               "%s is an inequality or '!='; give an equation like \"x**2 = 4\" or Eq(x**2, 4) "
                               "(inequalities have their own tools)",
                               what);
        }
        *out = tkd_expr_sub(tkd_expr_copy(x->args[0]), tkd_expr_copy(x->args[1]));
        tkd_expr_free(x);
        if (!*out)
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    } else if (x->kind == TKD_EX_LIST || x->kind == TKD_EX_TUPLE || x->kind == TKD_EX_SET || x->kind == TKD_EX_MATRIX) {
        tkd_expr_free(x);
        *out = NULL;
        return tkd_err_set(e, TKD_EINVAL, "%s must be one equation, not a list", what);
    }
    return 0;
}
