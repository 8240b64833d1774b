/*
 * expr plain printer: SymPy-like text that sympify reads back and a model
 * reads easily: x**2 + 2*x + 1, -x/2, sqrt(2)/2, 1/(x + 1), Eq(x, 1),
 * Matrix([[1, 2], [3, 4]]). Sums print a - b for negative terms; products
 * gather negative powers into a denominator, as SymPy's str printer does.
 */
#include "expr_internal.h"

#include <stdlib.h>
#include <string.h>

static int print(tkd_buf *b, const tkd_expr *x, int parent);

int tkd_expr_num_is_neg(const tkd_expr *x) {
    return tkd_expr_is_num(x) && fmpq_sgn(x->q) < 0;
}

/* A term that prints with a leading minus: -3, -x, -2*x/3 */
int tkd_expr_term_is_neg(const tkd_expr *x) {
    if (tkd_expr_num_is_neg(x))
        return 1;
    if (x->kind != TKD_EX_MUL)
        return 0;
    int neg = 0;
    for (size_t i = 0; i < x->n; i++) {
        const tkd_expr *a = x->args[i];
        if (a->kind == TKD_EX_NUM && fmpq_sgn(a->q) < 0)
            neg ^= 1;
        else if (a->kind == TKD_EX_MUL)
            neg ^= tkd_expr_term_is_neg(a);
    }
    return neg;
}

int tkd_expr_prec(const tkd_expr *x) {
    switch (x->kind) {
    case TKD_EX_NUM:
        if (fmpq_sgn(x->q) < 0)
            return PREC_ADD;
        return fmpz_is_one(fmpq_denref(x->q)) ? PREC_ATOM : PREC_MUL;
    case TKD_EX_DEC: return fmpq_sgn(x->q) < 0 ? PREC_ADD : PREC_ATOM;
    case TKD_EX_ADD:
    case TKD_EX_PM: return PREC_ADD;
    case TKD_EX_MUL: return tkd_expr_term_is_neg(x) ? PREC_ADD : PREC_MUL;
    case TKD_EX_POW:
        if (x->args[1]->kind == TKD_EX_NUM) {
            if (fmpq_equal_si(x->args[1]->q, 1) == 0 && fmpz_cmp_ui(fmpq_denref(x->args[1]->q), 2) == 0 &&
                fmpz_is_one(fmpq_numref(x->args[1]->q)))
                return PREC_ATOM; /* sqrt(...) */
            if (fmpq_sgn(x->args[1]->q) < 0)
                return PREC_MUL; /* 1/... */
        }
        return PREC_POW;
    case TKD_EX_REL: return x->op == TKD_R_EQ || x->op == TKD_R_NE ? PREC_ATOM : PREC_REL;
    default: return PREC_ATOM;
    }
}

static int print_fmpz(tkd_buf *b, const fmpz_t z) {
    char *s = fmpz_get_str(NULL, 10, z);
    if (!s)
        return TKD_ENOMEM;
    int rc = tkd_buf_puts(b, s);
    flint_free(s);
    return rc;
}

static int print_frac(tkd_buf *b, const fmpz *num, const fmpz *den) {
    int rc = print_fmpz(b, num);
    if (!rc && !fmpz_is_one(den))
        rc = tkd_buf_putc(b, '/') || print_fmpz(b, den) ? TKD_ENOMEM : 0;
    return rc;
}
#define print_q(b, q) print_frac((b), fmpq_numref(q), fmpq_denref(q))

/* The exact decimal expansion of a DEC with its places (q * 10^places is an
 * integer for parsed decimals; otherwise fall back to the fraction). */
int tkd_expr_print_dec(tkd_buf *b, const tkd_expr *x) {
    fmpz_t t, r;
    fmpz_init(t);
    fmpz_init(r);
    fmpz_set_ui(t, 10);
    fmpz_pow_ui(t, t, (ulong)x->places);
    fmpz_mul(t, t, fmpq_numref(x->q));
    fmpz_fdiv_qr(t, r, t, fmpq_denref(x->q));
    int rc = 0;
    if (!fmpz_is_zero(r) || x->places > 100000) {
        rc = print_q(b, x->q);
    } else {
        if (fmpz_sgn(t) < 0) {
            rc |= tkd_buf_putc(b, '-');
            fmpz_neg(t, t);
        }
        char *s = fmpz_get_str(NULL, 10, t);
        if (!s) {
            rc = TKD_ENOMEM;
        } else {
            size_t n = strlen(s), pl = (size_t)x->places;
            if (n <= pl) {
                rc |= tkd_buf_puts(b, "0.");
                for (size_t i = n; i < pl; i++)
                    rc |= tkd_buf_putc(b, '0');
                rc |= tkd_buf_puts(b, s);
            } else if (pl == 0) {
                rc |= tkd_buf_puts(b, s);
                rc |= tkd_buf_puts(b, ".0");
            } else {
                rc |= tkd_buf_append(b, s, n - pl);
                rc |= tkd_buf_putc(b, '.');
                rc |= tkd_buf_puts(b, s + n - pl);
            }
            flint_free(s);
        }
    }
    fmpz_clear(t);
    fmpz_clear(r);
    return rc ? TKD_ENOMEM : 0;
}

static int print_list(tkd_buf *b, tkd_expr *const *v, size_t n, const char *open, const char *close) {
    int rc = tkd_buf_puts(b, open);
    for (size_t i = 0; i < n && !rc; i++) {
        if (i)
            rc = tkd_buf_puts(b, ", ");
        if (!rc)
            rc = print(b, v[i], PREC_LOW);
    }
    return rc ? rc : tkd_buf_puts(b, close);
}

/* Gather the factors of a (nested) product: numbers into c, negative powers
 * into den, the rest into num. Returns 0, or 1 when there are too many. */
typedef struct {
    const tkd_expr *num[64], *den[64];
    size_t nn, nd;
} factors;

static int gather(const tkd_expr *a, factors *f, fmpq_t c, int depth) {
    if (a->kind == TKD_EX_MUL && depth < 8) {
        for (size_t i = 0; i < a->n; i++)
            if (gather(a->args[i], f, c, depth + 1))
                return 1;
    } else if (a->kind == TKD_EX_NUM) {
        fmpq_mul(c, c, a->q);
    } else if (a->kind == TKD_EX_POW && a->args[1]->kind == TKD_EX_NUM && fmpq_sgn(a->args[1]->q) < 0) {
        if (f->nd == 64)
            return 1;
        f->den[f->nd++] = a;
    } else {
        if (f->nn == 64)
            return 1;
        f->num[f->nn++] = a;
    }
    return 0;
}

/* Print a product as [-]num/den; flip negates the sign. */
static int print_mul(tkd_buf *b, const tkd_expr *x, int flip) {
    factors *f = malloc(sizeof *f);
    if (!f)
        return TKD_ENOMEM;
    f->nn = f->nd = 0;
    const tkd_expr *const *args = x->kind == TKD_EX_MUL ? (const tkd_expr *const *)x->args : &x;
    size_t n = x->kind == TKD_EX_MUL ? x->n : 1;
    fmpq_t c;
    fmpq_init(c);
    fmpq_one(c);
    int rc = 0, big = gather(x, f, c, 0);
    const tkd_expr **num = f->num, **den = f->den;
    size_t nn = f->nn, nd = f->nd;
    if (flip)
        fmpq_neg(c, c);
    if (big) { /* too many factors to sort out: print them plainly */
        if (!flip) {
            for (size_t i = 0; i < n && !rc; i++)
                rc = (i ? tkd_buf_putc(b, '*') : 0) || print(b, args[i], PREC_MUL + 1) ? TKD_ENOMEM : 0;
        } else {
            rc = tkd_buf_puts(b, "-(");
            for (size_t i = 0; i < n && !rc; i++)
                rc = (i ? tkd_buf_putc(b, '*') : 0) || print(b, args[i], PREC_MUL + 1) ? TKD_ENOMEM : 0;
            rc = rc ? rc : tkd_buf_putc(b, ')');
        }
        fmpq_clear(c);
        free(f);
        return rc;
    }
    if (fmpq_sgn(c) < 0) {
        rc |= tkd_buf_putc(b, '-');
        fmpq_neg(c, c);
    }
    /* numerator */
    int wrote = 0;
    if (!fmpz_is_one(fmpq_numref(c)) || nn == 0) {
        rc |= print_fmpz(b, fmpq_numref(c));
        wrote = 1;
    }
    for (size_t i = 0; i < nn; i++) {
        if (wrote)
            rc |= tkd_buf_putc(b, '*');
        /* a sum needs parentheses; a lone factor after '-' also when it is a negative number */
        rc |= print(b, num[i], PREC_MUL);
        wrote = 1;
    }
    /* denominator */
    size_t dcount = nd + !fmpz_is_one(fmpq_denref(c));
    if (dcount) {
        rc |= tkd_buf_putc(b, '/');
        if (dcount > 1)
            rc |= tkd_buf_putc(b, '(');
        int dw = 0;
        if (!fmpz_is_one(fmpq_denref(c))) {
            rc |= print_fmpz(b, fmpq_denref(c));
            dw = 1;
        }
        for (size_t i = 0; i < nd; i++) {
            const tkd_expr *p = den[i];
            if (dw)
                rc |= tkd_buf_putc(b, '*');
            dw = 1;
            fmpq_t e;
            fmpq_init(e);
            fmpq_neg(e, p->args[1]->q);
            if (fmpq_is_one(e)) {
                rc |= print(b, p->args[0], dcount > 1 ? PREC_MUL : PREC_POW);
            } else if (fmpz_is_one(fmpq_numref(e)) && fmpz_cmp_ui(fmpq_denref(e), 2) == 0) {
                rc |= tkd_buf_puts(b, "sqrt(");
                rc |= print(b, p->args[0], PREC_LOW);
                rc |= tkd_buf_putc(b, ')');
            } else {
                rc |= print(b, p->args[0], PREC_POW + 1);
                rc |= tkd_buf_puts(b, "**");
                if (fmpz_is_one(fmpq_denref(e))) {
                    rc |= print_q(b, e);
                } else {
                    rc |= tkd_buf_putc(b, '(');
                    rc |= print_q(b, e);
                    rc |= tkd_buf_putc(b, ')');
                }
            }
            fmpq_clear(e);
        }
        if (dcount > 1)
            rc |= tkd_buf_putc(b, ')');
    }
    fmpq_clear(c);
    free(f);
    return rc ? TKD_ENOMEM : 0;
}

static int print_pow(tkd_buf *b, const tkd_expr *x) {
    const tkd_expr *base = x->args[0], *ex = x->args[1];
    int rc = 0;
    if (ex->kind == TKD_EX_NUM && fmpz_cmp_ui(fmpq_denref(ex->q), 2) == 0 && fmpz_is_one(fmpq_numref(ex->q))) {
        rc |= tkd_buf_puts(b, "sqrt(");
        rc |= print(b, base, PREC_LOW);
        rc |= tkd_buf_putc(b, ')');
        return rc ? TKD_ENOMEM : 0;
    }
    if (ex->kind == TKD_EX_NUM && fmpq_sgn(ex->q) < 0)
        return print_mul(b, x, 0); /* 1/base**k */
    rc |= print(b, base, PREC_POW + 1);
    rc |= tkd_buf_puts(b, "**");
    rc |= print(b, ex, PREC_ATOM);
    return rc ? TKD_ENOMEM : 0;
}

static const char *const const_names[] = {"pi", "E", "I", "oo", "True", "False"};

static int print(tkd_buf *b, const tkd_expr *x, int parent) {
    int rc = 0;
    int paren = tkd_expr_prec(x) < parent;
    if (paren)
        rc |= tkd_buf_putc(b, '(');
    switch (x->kind) {
    case TKD_EX_NUM: rc |= print_q(b, x->q); break;
    case TKD_EX_DEC: rc |= tkd_expr_print_dec(b, x); break;
    case TKD_EX_SYM: rc |= tkd_buf_puts(b, x->name); break;
    case TKD_EX_STR:
        rc |= tkd_buf_putc(b, '"');
        for (const char *s = x->name; *s; s++) {
            if (*s == '"' || *s == '\\')
                rc |= tkd_buf_putc(b, '\\');
            rc |= tkd_buf_putc(b, *s);
        }
        rc |= tkd_buf_putc(b, '"');
        break;
    case TKD_EX_CONST: rc |= tkd_buf_puts(b, const_names[x->op]); break;
    case TKD_EX_ADD:
        for (size_t i = 0; i < x->n; i++) {
            const tkd_expr *t = x->args[i];
            if (i == 0) {
                rc |= print(b, t, PREC_ADD);
            } else if (tkd_expr_term_is_neg(t)) {
                rc |= tkd_buf_puts(b, " - ");
                if (t->kind == TKD_EX_NUM) {
                    fmpq_t q;
                    fmpq_init(q);
                    fmpq_neg(q, t->q);
                    rc |= print_q(b, q);
                    fmpq_clear(q);
                } else if (t->kind == TKD_EX_DEC) {
                    tkd_expr *d = tkd_expr_copy(t);
                    if (!d)
                        return TKD_ENOMEM;
                    fmpq_neg(d->q, d->q);
                    rc |= tkd_expr_print_dec(b, d);
                    tkd_expr_free(d);
                } else {
                    rc |= print_mul(b, t, 1);
                }
            } else {
                rc |= tkd_buf_puts(b, " + ");
                rc |= print(b, t, t->kind == TKD_EX_ADD ? PREC_ADD : PREC_ADD + 1); /* a + (b + c) = a + b + c */
            }
        }
        break;
    case TKD_EX_MUL: rc |= print_mul(b, x, 0); break;
    case TKD_EX_POW: rc |= print_pow(b, x); break;
    case TKD_EX_FUNC:
        rc |= tkd_buf_puts(b, x->name);
        rc |= print_list(b, x->args, x->n, "(", ")");
        break;
    case TKD_EX_REL: {
        static const char *fn[] = {"Eq", "Ne"}, *op[] = {"", "", " < ", " <= ", " > ", " >= "};
        if (x->op == TKD_R_EQ || x->op == TKD_R_NE) {
            rc |= tkd_buf_puts(b, fn[x->op]);
            rc |= print_list(b, x->args, 2, "(", ")");
        } else {
            rc |= print(b, x->args[0], PREC_REL + 1);
            rc |= tkd_buf_puts(b, op[x->op]);
            rc |= print(b, x->args[1], PREC_REL + 1);
        }
        break;
    }
    case TKD_EX_LIST: rc |= print_list(b, x->args, x->n, "[", "]"); break;
    case TKD_EX_TUPLE: rc |= print_list(b, x->args, x->n, "(", x->n == 1 ? ",)" : ")"); break;
    case TKD_EX_SET:
        if (x->n == 0)
            rc |= tkd_buf_puts(b, "EmptySet");
        else
            rc |= print_list(b, x->args, x->n, "{", "}");
        break;
    case TKD_EX_INTERVAL: {
        static const char *iv[] = {"Interval(", "Interval.Lopen(", "Interval.Ropen(", "Interval.open("};
        rc |= print_list(b, x->args, 2, iv[x->op & 3], ")");
        break;
    }
    case TKD_EX_MATRIX:
        rc |= tkd_buf_puts(b, "Matrix([");
        for (size_t r = 0; r < x->rows; r++) {
            if (r)
                rc |= tkd_buf_puts(b, ", ");
            rc |= print_list(b, x->args + r * x->cols, x->cols, "[", "]");
        }
        rc |= tkd_buf_puts(b, "])");
        break;
    case TKD_EX_PM:
        if (!tkd_expr_is_int(x->args[0], 0)) {
            rc |= print(b, x->args[0], PREC_ADD);
            rc |= tkd_buf_putc(b, ' ');
        }
        rc |= tkd_buf_puts(b, "\xc2\xb1");
        if (!tkd_expr_is_int(x->args[0], 0))
            rc |= tkd_buf_putc(b, ' ');
        rc |= print(b, x->args[1], PREC_ADD + 1);
        break;
    default: rc |= tkd_buf_puts(b, "?"); break;
    }
    if (paren)
        rc |= tkd_buf_putc(b, ')');
    return rc ? TKD_ENOMEM : 0;
}

int tkd_expr_print(tkd_buf *b, const tkd_expr *x) {
    if (!x)
        return tkd_buf_puts(b, "(null)");
    return print(b, x, PREC_LOW);
}

char *tkd_expr_render(const tkd_expr *x, int (*fn)(tkd_buf *, const tkd_expr *)) {
    tkd_buf b;
    tkd_buf_init(&b);
    if (fn(&b, x)) {
        tkd_buf_free(&b);
        return NULL;
    }
    return tkd_buf_steal(&b);
}

char *tkd_expr_to_str(const tkd_expr *x) { return tkd_expr_render(x, tkd_expr_print); }
