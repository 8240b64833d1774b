/*
 * expr parser, part two: number literals (read exactly: 0.1 is 1/10, with
 * its decimal places kept) and the calls with special meaning (sqrt, root,
 * Rational, Eq and friends, Matrix, Interval, FiniteSet, arity checks).
 */
#include "parse_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tkd_px_fail(parser *p, int code, size_t at, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return tkd_err_set(p->e, code, "%s at column %zu", what, at + 1);
}

int tkd_px_nomem(parser *p) {
    return tkd_err_set(p->e, TKD_ENOMEM, "out of memory while parsing an expression");
}

/* ---- numbers ---- */

int tkd_px_number(parser *p, tkd_expr **out) {
    size_t start = p->pos, i = p->pos;
    const char *s = p->s;
    size_t int_digits = 0, frac_digits = 0;
    while (i < p->len && isdigit((unsigned char)s[i]))
        i++, int_digits++;
    int is_dec = 0;
    size_t frac_start = i;
    if (i < p->len && s[i] == '.') {
        is_dec = 1;
        i++;
        frac_start = i;
        while (i < p->len && isdigit((unsigned char)s[i]))
            i++, frac_digits++;
    }
    if (int_digits + frac_digits == 0)
        return tkd_px_fail(p, TKD_EINVAL, start, "a lone '.' is not a number");
    long exp10 = 0;
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        int neg = 0;
        if (j < p->len && (s[j] == '+' || s[j] == '-'))
            neg = s[j++] == '-';
        if (j < p->len && isdigit((unsigned char)s[j])) {
            is_dec = 1;
            while (j < p->len && isdigit((unsigned char)s[j])) {
                if (exp10 > 100000000L)
                    return tkd_err_set(p->e, TKD_ELIMIT,
                                       "exponent of the number at column %zu exceeds "
                                       "TKD_EXPR_MAX_INT_BITS (%d bits)",
                                       start + 1, TKD_EXPR_MAX_INT_BITS);
                exp10 = exp10 * 10 + (s[j++] - '0');
            }
            if (neg)
                exp10 = -exp10;
            i = j;
        }
    }
    if (i < p->len && (isalpha((unsigned char)s[i]) || s[i] == '_' || s[i] == '(')) {
        char num[40], nm[40];
        size_t nl = i - start < 30 ? i - start : 30, k = i, ml = 0;
        memcpy(num, s + start, nl);
        num[nl] = 0;
        while (k < p->len && ml < 30 && (isalnum((unsigned char)s[k]) || s[k] == '_'))
            nm[ml++] = s[k++];
        nm[ml] = 0;
        if (s[i] == '(')
            strcpy(nm, "(...)");
        return tkd_px_fail(p, TKD_EINVAL, i, "implicit multiplication is not supported; did you mean %s*%s?", num, nm);
    }
    /* digits as written, times 10^exp10, over 10^frac_digits */
    double bits = (double)(int_digits + frac_digits + (size_t)(exp10 > 0 ? exp10 : -exp10)) * 3.33;
    if (bits > TKD_EXPR_MAX_INT_BITS)
        return tkd_err_set(p->e, TKD_ELIMIT, "the number at column %zu has more than TKD_EXPR_MAX_INT_BITS (%d bits)",
                           start + 1, TKD_EXPR_MAX_INT_BITS);
    char *digits = malloc(int_digits + frac_digits + 2);
    if (!digits)
        return tkd_px_nomem(p);
    memcpy(digits, s + start, int_digits);
    memcpy(digits + int_digits, s + frac_start, frac_digits);
    digits[int_digits + frac_digits] = 0;
    fmpq_t v;
    fmpq_init(v);
    fmpz_set_str(fmpq_numref(v), digits, 10);
    free(digits);
    long scale = (long)frac_digits - exp10; /* value = digits / 10^scale */
    fmpz_t t;
    fmpz_init(t);
    fmpz_set_ui(t, 10);
    fmpz_pow_ui(t, t, (ulong)(scale > 0 ? scale : -scale));
    if (scale > 0)
        fmpz_set(fmpq_denref(v), t);
    else
        fmpz_mul(fmpq_numref(v), fmpq_numref(v), t);
    fmpz_clear(t);
    fmpq_canonicalise(v);
    *out = is_dec ? tkd_expr_dec(v, scale > 0 ? scale : 0) : tkd_expr_fmpq(v);
    fmpq_clear(v);
    p->pos = i;
    return *out ? 0 : tkd_px_nomem(p);
}

/* ---- calls with special meaning ---- */

static int is_bool(const tkd_expr *x, int *v) {
    if (x->kind == TKD_EX_CONST && (x->op == TKD_C_TRUE || x->op == TKD_C_FALSE)) {
        *v = x->op == TKD_C_TRUE;
        return 1;
    }
    if (tkd_expr_is_int(x, 0) || tkd_expr_is_int(x, 1)) {
        *v = tkd_expr_is_int(x, 1);
        return 1;
    }
    return 0;
}

void tkd_px_free_args(size_t n, tkd_expr **v) {
    for (size_t i = 0; i < n; i++)
        tkd_expr_free(v[i]);
    free(v);
}

static int arity(parser *p, size_t at, const char *name, size_t n, size_t lo, size_t hi) {
    if (n >= lo && n <= hi)
        return 0;
    char want[64];
    if (lo == hi)
        snprintf(want, sizeof want, "%zu argument%s", lo, lo == 1 ? "" : "s");
    else if (hi == (size_t)-1)
        snprintf(want, sizeof want, "at least %zu arguments", lo);
    else
        snprintf(want, sizeof want, "%zu to %zu arguments", lo, hi);
    return tkd_px_fail(p, TKD_EINVAL, at, "%s() takes %s", name, want);
}

static int make_matrix(parser *p, size_t at, tkd_expr *m, tkd_expr **out) {
    if (m->kind != TKD_EX_LIST || m->n == 0)
        return tkd_px_fail(p, TKD_EINVAL, at, "Matrix() takes a list of rows, e.g. Matrix([[1, 2], [3, 4]])");
    int nested = m->args[0]->kind == TKD_EX_LIST;
    size_t rows = m->n, cols = nested ? m->args[0]->n : 1;
    if (cols == 0)
        return tkd_px_fail(p, TKD_EINVAL, at, "Matrix() rows must not be empty");
    for (size_t r = 0; r < rows; r++) {
        if (nested && (m->args[r]->kind != TKD_EX_LIST || m->args[r]->n != cols))
            return tkd_px_fail(p, TKD_EINVAL, at, "Matrix() rows must be lists of the same length");
        if (!nested && m->args[r]->kind == TKD_EX_LIST)
            return tkd_px_fail(p, TKD_EINVAL, at, "Matrix() rows must be lists of the same length");
    }
    tkd_expr **v = calloc(rows * cols, sizeof *v);
    if (!v)
        return tkd_px_nomem(p);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            tkd_expr **slot = nested ? &m->args[r]->args[c] : &m->args[r];
            v[r * cols + c] = *slot;
            *slot = NULL;
        }
    *out = tkd_expr_matrix(rows, cols, v);
    free(v);
    return *out ? 0 : tkd_px_nomem(p);
}

int tkd_px_call(parser *p, size_t at, const char *name, size_t n, tkd_expr **v, tkd_expr **out) {
    int rc = 0;
    *out = NULL;
    static const struct {
        const char *name;
        int op;
    } rels[] = {{"Eq", TKD_R_EQ}, {"Ne", TKD_R_NE}, {"Lt", TKD_R_LT}, {"Le", TKD_R_LE},
                {"Gt", TKD_R_GT}, {"Ge", TKD_R_GE}, {NULL, 0}};
    for (int i = 0; rels[i].name; i++)
        if (!strcmp(name, rels[i].name)) {
            if ((rc = arity(p, at, name, n, 2, 2)))
                goto done;
            *out = tkd_expr_rel((tkd_expr_rel_op)rels[i].op, v[0], v[1]);
            n = 0;
            goto built;
        }
    if (!strcmp(name, "sqrt")) {
        if ((rc = arity(p, at, name, n, 1, 1)))
            goto done;
        *out = tkd_expr_sqrt(v[0]);
        n = 0;
    } else if (!strcmp(name, "root") || !strcmp(name, "real_root")) {
        if ((rc = arity(p, at, name, n, 2, 2)))
            goto done;
        tkd_expr *k = v[1];
        if (k->kind == TKD_EX_NUM && !fmpq_is_zero(k->q)) {
            fmpq_inv(k->q, k->q);
            *out = tkd_expr_pow(v[0], k);
        } else {
            *out = tkd_expr_pow(v[0], tkd_expr_pow(k, tkd_expr_int(-1)));
        }
        n = 0;
    } else if (!strcmp(name, "Rational")) {
        if ((rc = arity(p, at, name, n, 1, 2)))
            goto done;
        if (n == 2 && v[0]->kind == TKD_EX_NUM && v[1]->kind == TKD_EX_NUM) {
            if (fmpq_is_zero(v[1]->q)) {
                rc = tkd_px_fail(p, TKD_EINVAL, at, "Rational(a, 0): division by zero");
                goto done;
            }
            fmpq_div(v[0]->q, v[0]->q, v[1]->q);
            *out = v[0];
            tkd_expr_free(v[1]);
        } else {
            *out = n == 2 ? tkd_expr_div(v[0], v[1]) : v[0];
        }
        n = 0;
    } else if (!strcmp(name, "Integer") || !strcmp(name, "S") || !strcmp(name, "nsimplify")) {
        if ((rc = arity(p, at, name, n, 1, 1)))
            goto done;
        *out = v[0];
        n = 0;
    } else if (!strcmp(name, "Matrix")) {
        if ((rc = arity(p, at, name, n, 1, 1)))
            goto done;
        rc = make_matrix(p, at, v[0], out);
        goto done;
    } else if (!strcmp(name, "Interval") || !strcmp(name, "Interval.open") || !strcmp(name, "Interval.Lopen") ||
               !strcmp(name, "Interval.Ropen")) {
        int plain = !strcmp(name, "Interval");
        if ((rc = arity(p, at, name, n, 2, plain ? 4 : 2)))
            goto done;
        int lo = !strcmp(name, "Interval.open") || !strcmp(name, "Interval.Lopen");
        int ro = !strcmp(name, "Interval.open") || !strcmp(name, "Interval.Ropen");
        if ((n > 2 && !is_bool(v[2], &lo)) || (n > 3 && !is_bool(v[3], &ro))) {
            rc = tkd_px_fail(p, TKD_EINVAL, at, "Interval(a, b, left_open, right_open) takes True or False flags");
            goto done;
        }
        *out = tkd_expr_interval(v[0], v[1], lo, ro);
        for (size_t i = 2; i < n; i++)
            tkd_expr_free(v[i]);
        n = 0;
    } else if (!strcmp(name, "FiniteSet") || !strcmp(name, "Tuple")) {
        *out = tkd_expr_seq(name[0] == 'F' ? TKD_EX_SET : TKD_EX_TUPLE, n, v);
        n = 0;
    } else {
        tkd_fn_id id = tkd_expr_fn_lookup(name);
        size_t lo = 1, hi = 1;
        switch (id) {
        case TKD_FN_UNDEF: lo = 0, hi = (size_t)-1; break;
        case TKD_FN_LOG: hi = 2; break;
        case TKD_FN_ATAN2:
        case TKD_FN_BINOMIAL:
        case TKD_FN_MOD: lo = hi = 2; break;
        case TKD_FN_GCD:
        case TKD_FN_LCM:
        case TKD_FN_MIN:
        case TKD_FN_MAX: hi = (size_t)-1; break;
        case TKD_FN_SUM:
        case TKD_FN_PRODUCT: lo = hi = 2; break;
        default: break;
        }
        if ((rc = arity(p, at, name, n, lo, hi)))
            goto done;
        if ((id == TKD_FN_SUM || id == TKD_FN_PRODUCT) &&
            (v[1]->kind != TKD_EX_TUPLE || v[1]->n != 3 || v[1]->args[0]->kind != TKD_EX_SYM)) {
            rc = tkd_px_fail(p, TKD_EINVAL, at, "%s() takes (f, (i, a, b)), e.g. %s(1/k**2, (k, 1, n))", name, name);
            goto done;
        }
        *out = tkd_expr_call(name, n, v);
        n = 0;
    }
built:
    if (!*out)
        rc = tkd_px_nomem(p);
done:
    tkd_px_free_args(n, v);
    return rc;
}
