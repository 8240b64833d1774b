/*
 * expr LaTeX printer: \frac{1}{3}, \sqrt{2}, x^{2}, \pi, \sin\left(x\right),
 * \begin{pmatrix}...\end{pmatrix}. Follows SymPy's latex() where cheap; the
 * grader's LaTeX parser reads this subset back.
 */
#include "expr_internal.h"

#include <stdlib.h>
#include <string.h>

static int tex(tkd_buf *b, const tkd_expr *x, int parent);

static int put_fmpz(tkd_buf *b, const fmpz *z) {
    char *s = fmpz_get_str(NULL, 10, z);
    if (!s)
        return TKD_ENOMEM;
    int rc = tkd_buf_puts(b, s);
    flint_free(s);
    return rc;
}

static const char *const greek[] = {
    "alpha", "beta",  "gamma", "delta",  "epsilon", "zeta", "eta",     "theta", "iota", "kappa", "lambda",
    "mu",    "nu",    "xi",    "rho",    "sigma",   "tau",  "upsilon", "phi",   "chi",  "psi",   "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi",      "Pi",   "Sigma",   "Phi",   "Psi",  "Omega", NULL};

static int put_name(tkd_buf *b, const char *name) {
    const char *us = strchr(name, '_');
    size_t head = us ? (size_t)(us - name) : strlen(name);
    int rc = 0;
    int is_greek = 0;
    for (int i = 0; greek[i]; i++)
        if (strlen(greek[i]) == head && !strncmp(greek[i], name, head))
            is_greek = 1;
    if (is_greek) {
        rc |= tkd_buf_putc(b, '\\');
        rc |= tkd_buf_append(b, name, head);
    } else if (head > 1) {
        rc |= tkd_buf_puts(b, "\\mathrm{");
        rc |= tkd_buf_append(b, name, head);
        rc |= tkd_buf_putc(b, '}');
    } else {
        rc |= tkd_buf_append(b, name, head);
    }
    if (us) {
        rc |= tkd_buf_puts(b, "_{");
        rc |= put_name(b, us + 1);
        rc |= tkd_buf_putc(b, '}');
    }
    return rc;
}

static int tex_list(tkd_buf *b, tkd_expr *const *v, size_t n, const char *sep) {
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            rc |= tkd_buf_puts(b, sep);
        rc |= tex(b, v[i], PREC_LOW);
    }
    return rc;
}

static int tex_frac(tkd_buf *b, const fmpz *num, const fmpz *den) {
    int rc = 0;
    if (fmpz_is_one(den))
        return put_fmpz(b, num);
    if (fmpz_sgn(num) < 0) {
        fmpz_t t;
        fmpz_init(t);
        fmpz_neg(t, num);
        rc |= tkd_buf_puts(b, "-\\frac{") || put_fmpz(b, t) || tkd_buf_puts(b, "}{") || put_fmpz(b, den) ||
              tkd_buf_putc(b, '}');
        fmpz_clear(t);
        return rc;
    }
    return tkd_buf_puts(b, "\\frac{") || put_fmpz(b, num) || tkd_buf_puts(b, "}{") || put_fmpz(b, den) ||
           tkd_buf_putc(b, '}');
}

/* The product as a fraction: sign, numerator factors, denominator factors. */
static void flatten(const tkd_expr *x, const tkd_expr **v, size_t *n, size_t cap, int depth) {
    if (x->kind == TKD_EX_MUL && depth < 8 && *n + x->n <= cap) {
        for (size_t i = 0; i < x->n; i++)
            flatten(x->args[i], v, n, cap, depth + 1);
    } else if (*n < cap) {
        v[(*n)++] = x;
    }
}

static int tex_mul(tkd_buf *b, const tkd_expr *x, int flip) {
    const tkd_expr *flat[128];
    size_t n = 0;
    if (x->kind == TKD_EX_MUL && x->n > 128)
        return tkd_buf_puts(b, "\\cdots");
    flatten(x, flat, &n, 128, 0);
    const tkd_expr *const *args = flat;
    fmpq_t c;
    fmpq_init(c);
    fmpq_one(c);
    tkd_buf num, den;
    tkd_buf_init(&num);
    tkd_buf_init(&den);
    int rc = 0, nn = 0, nd = 0;
    for (size_t i = 0; i < n; i++)
        if (args[i]->kind == TKD_EX_NUM)
            fmpq_mul(c, c, args[i]->q);
    if (flip)
        fmpq_neg(c, c);
    if (fmpq_sgn(c) < 0) {
        rc |= tkd_buf_putc(b, '-');
        fmpq_neg(c, c);
    }
    if (!fmpz_is_one(fmpq_numref(c))) {
        rc |= put_fmpz(&num, fmpq_numref(c));
        nn++;
    }
    if (!fmpz_is_one(fmpq_denref(c))) {
        rc |= put_fmpz(&den, fmpq_denref(c));
        nd++;
    }
    for (size_t i = 0; i < n; i++) {
        const tkd_expr *a = args[i];
        if (a->kind == TKD_EX_NUM)
            continue;
        if (a->kind == TKD_EX_POW && a->args[1]->kind == TKD_EX_NUM && fmpq_sgn(a->args[1]->q) < 0) {
            tkd_expr *e = tkd_expr_copy(a->args[1]);
            if (!e) {
                rc = TKD_ENOMEM;
                break;
            }
            fmpq_neg(e->q, e->q);
            if (nd++)
                rc |= tkd_buf_puts(&den, " ");
            if (fmpq_is_one(e->q)) {
                rc |= tex(&den, a->args[0], nd > 1 || n > 1 ? PREC_MUL : PREC_LOW);
            } else {
                tkd_expr tmp = *a;
                tkd_expr *v[2] = {a->args[0], e};
                tmp.args = v;
                rc |= tex(&den, &tmp, PREC_MUL);
            }
            tkd_expr_free(e);
        } else {
            if (nn++)
                rc |= tkd_buf_puts(&num, tkd_expr_is_num(a) ? " \\cdot " : " ");
            rc |= tex(&num, a, PREC_MUL);
        }
    }
    if (nd) {
        rc |= tkd_buf_puts(b, "\\frac{");
        rc |= tkd_buf_puts(b, nn ? num.data : "1");
        rc |= tkd_buf_puts(b, "}{");
        rc |= tkd_buf_puts(b, den.data);
        rc |= tkd_buf_putc(b, '}');
    } else {
        rc |= tkd_buf_puts(b, nn ? num.data : "1");
    }
    tkd_buf_free(&num);
    tkd_buf_free(&den);
    fmpq_clear(c);
    return rc ? TKD_ENOMEM : 0;
}

static int tex_pow(tkd_buf *b, const tkd_expr *x) {
    const tkd_expr *base = x->args[0], *ex = x->args[1];
    int rc = 0;
    if (ex->kind == TKD_EX_NUM && fmpq_sgn(ex->q) < 0)
        return tex_mul(b, x, 0);
    if (ex->kind == TKD_EX_NUM && fmpz_is_one(fmpq_numref(ex->q)) && !fmpz_is_one(fmpq_denref(ex->q))) {
        rc |= tkd_buf_puts(b, "\\sqrt");
        if (fmpz_cmp_ui(fmpq_denref(ex->q), 2)) {
            rc |= tkd_buf_putc(b, '[');
            rc |= put_fmpz(b, fmpq_denref(ex->q));
            rc |= tkd_buf_putc(b, ']');
        }
        rc |= tkd_buf_putc(b, '{');
        rc |= tex(b, base, PREC_LOW);
        rc |= tkd_buf_putc(b, '}');
        return rc ? TKD_ENOMEM : 0;
    }
    int paren = tkd_expr_prec(base) <= PREC_POW || base->kind == TKD_EX_FUNC ||
                (base->kind == TKD_EX_NUM && !fmpz_is_one(fmpq_denref(base->q)));
    rc |= tkd_buf_puts(b, paren ? "\\left(" : "");
    rc |= tex(b, base, PREC_LOW);
    rc |= tkd_buf_puts(b, paren ? "\\right)^{" : "^{");
    rc |= tex(b, ex, PREC_LOW);
    rc |= tkd_buf_putc(b, '}');
    return rc ? TKD_ENOMEM : 0;
}

static int tex_func(tkd_buf *b, const tkd_expr *x) {
    int rc = 0;
    const char *cmd = NULL;
    switch (x->op) {
    case TKD_FN_SIN: cmd = "\\sin"; break;
    case TKD_FN_COS: cmd = "\\cos"; break;
    case TKD_FN_TAN: cmd = "\\tan"; break;
    case TKD_FN_SEC: cmd = "\\sec"; break;
    case TKD_FN_CSC: cmd = "\\csc"; break;
    case TKD_FN_COT: cmd = "\\cot"; break;
    case TKD_FN_ASIN: cmd = "\\arcsin"; break;
    case TKD_FN_ACOS: cmd = "\\arccos"; break;
    case TKD_FN_ATAN: cmd = "\\arctan"; break;
    case TKD_FN_SINH: cmd = "\\sinh"; break;
    case TKD_FN_COSH: cmd = "\\cosh"; break;
    case TKD_FN_TANH: cmd = "\\tanh"; break;
    case TKD_FN_GCD: cmd = "\\gcd"; break;
    case TKD_FN_MIN: cmd = "\\min"; break;
    case TKD_FN_MAX: cmd = "\\max"; break;
    case TKD_FN_ARG: cmd = "\\arg"; break;
    case TKD_FN_RE: cmd = "\\operatorname{re}"; break;
    case TKD_FN_IM: cmd = "\\operatorname{im}"; break;
    case TKD_FN_EXP:
        rc |= tkd_buf_puts(b, "e^{");
        rc |= tex(b, x->args[0], PREC_LOW);
        return rc || tkd_buf_putc(b, '}') ? TKD_ENOMEM : 0;
    case TKD_FN_LOG:
        rc |= tkd_buf_puts(b, x->n == 2 ? "\\log_{" : "\\log\\left(");
        if (x->n == 2) {
            rc |= tex(b, x->args[1], PREC_LOW);
            rc |= tkd_buf_puts(b, "}\\left(");
        }
        rc |= tex(b, x->args[0], PREC_LOW);
        return rc || tkd_buf_puts(b, "\\right)") ? TKD_ENOMEM : 0;
    case TKD_FN_ABS:
        rc |= tkd_buf_puts(b, "\\left|");
        rc |= tex(b, x->args[0], PREC_LOW);
        return rc || tkd_buf_puts(b, "\\right|") ? TKD_ENOMEM : 0;
    case TKD_FN_FLOOR:
    case TKD_FN_CEILING:
        rc |= tkd_buf_puts(b, x->op == TKD_FN_FLOOR ? "\\left\\lfloor " : "\\left\\lceil ");
        rc |= tex(b, x->args[0], PREC_LOW);
        return rc || tkd_buf_puts(b, x->op == TKD_FN_FLOOR ? "\\right\\rfloor" : "\\right\\rceil") ? TKD_ENOMEM : 0;
    case TKD_FN_FACTORIAL: rc |= tex(b, x->args[0], PREC_ATOM); return rc || tkd_buf_putc(b, '!') ? TKD_ENOMEM : 0;
    case TKD_FN_BINOMIAL:
        rc |= tkd_buf_puts(b, "\\binom{");
        rc |= tex(b, x->args[0], PREC_LOW);
        rc |= tkd_buf_puts(b, "}{");
        rc |= tex(b, x->args[1], PREC_LOW);
        return rc || tkd_buf_putc(b, '}') ? TKD_ENOMEM : 0;
    case TKD_FN_MOD:
        rc |= tex(b, x->args[0], PREC_MUL);
        rc |= tkd_buf_puts(b, " \\bmod ");
        rc |= tex(b, x->args[1], PREC_MUL);
        return rc ? TKD_ENOMEM : 0;
    case TKD_FN_SUM:
    case TKD_FN_PRODUCT:
        if (x->n == 2 && x->args[1]->kind == TKD_EX_TUPLE && x->args[1]->n == 3) {
            const tkd_expr *t = x->args[1];
            rc |= tkd_buf_puts(b, x->op == TKD_FN_SUM ? "\\sum_{" : "\\prod_{");
            rc |= tex(b, t->args[0], PREC_LOW);
            rc |= tkd_buf_putc(b, '=');
            rc |= tex(b, t->args[1], PREC_LOW);
            rc |= tkd_buf_puts(b, "}^{");
            rc |= tex(b, t->args[2], PREC_LOW);
            rc |= tkd_buf_puts(b, "} ");
            rc |= tex(b, x->args[0], PREC_MUL);
            return rc ? TKD_ENOMEM : 0;
        }
        break;
    default: break;
    }
    if (cmd)
        rc |= tkd_buf_puts(b, cmd);
    else if (strlen(x->name) == 1)
        rc |= tkd_buf_puts(b, x->name);
    else {
        rc |= tkd_buf_puts(b, "\\operatorname{");
        rc |= tkd_buf_puts(b, x->name);
        rc |= tkd_buf_putc(b, '}');
    }
    rc |= tkd_buf_puts(b, "\\left(");
    rc |= tex_list(b, x->args, x->n, ", ");
    rc |= tkd_buf_puts(b, "\\right)");
    return rc ? TKD_ENOMEM : 0;
}

static int tex(tkd_buf *b, const tkd_expr *x, int parent) {
    int rc = 0;
    int paren = tkd_expr_prec(x) < parent;
    if (x->kind == TKD_EX_NUM && !fmpz_is_one(fmpq_denref(x->q)) && parent <= PREC_MUL)
        paren = fmpq_sgn(x->q) < 0 && parent > PREC_ADD; /* \frac needs no parentheses */
    if (paren)
        rc |= tkd_buf_puts(b, "\\left(");
    switch (x->kind) {
    case TKD_EX_NUM: rc |= tex_frac(b, fmpq_numref(x->q), fmpq_denref(x->q)); break;
    case TKD_EX_DEC: rc |= tkd_expr_print_dec(b, x); break;
    case TKD_EX_SYM: rc |= put_name(b, x->name); break;
    case TKD_EX_STR:
        rc |= tkd_buf_puts(b, "\\text{");
        for (const char *s = x->name; *s; s++) {
            if (strchr("{}\\$%#&_^~", *s))
                rc |= tkd_buf_putc(b, ' ');
            else
                rc |= tkd_buf_putc(b, *s);
        }
        rc |= tkd_buf_putc(b, '}');
        break;
    case TKD_EX_CONST: {
        static const char *names[] = {"\\pi", "e", "i", "\\infty", "\\text{True}", "\\text{False}"};
        rc |= tkd_buf_puts(b, names[x->op]);
        break;
    }
    case TKD_EX_ADD:
        for (size_t i = 0; i < x->n; i++) {
            const tkd_expr *t = x->args[i];
            if (i == 0) {
                rc |= tex(b, t, PREC_ADD);
            } else if (tkd_expr_term_is_neg(t) && t->kind != TKD_EX_DEC) {
                rc |= tkd_buf_puts(b, " - ");
                if (t->kind == TKD_EX_NUM) {
                    fmpz_t nn;
                    fmpz_init(nn);
                    fmpz_neg(nn, fmpq_numref(t->q));
                    rc |= tex_frac(b, nn, fmpq_denref(t->q));
                    fmpz_clear(nn);
                } else {
                    rc |= tex_mul(b, t, 1);
                }
            } else {
                rc |= tkd_buf_puts(b, " + ");
                rc |= tex(b, t, PREC_ADD + 1);
            }
        }
        break;
    case TKD_EX_MUL: rc |= tex_mul(b, x, 0); break;
    case TKD_EX_POW: rc |= tex_pow(b, x); break;
    case TKD_EX_FUNC: rc |= tex_func(b, x); break;
    case TKD_EX_REL: {
        static const char *ops[] = {" = ", " \\neq ", " < ", " \\leq ", " > ", " \\geq "};
        rc |= tex(b, x->args[0], PREC_REL + 1);
        rc |= tkd_buf_puts(b, ops[x->op]);
        rc |= tex(b, x->args[1], PREC_REL + 1);
        break;
    }
    case TKD_EX_LIST:
        rc |= tkd_buf_puts(b, "\\left[ ") || tex_list(b, x->args, x->n, ", ") || tkd_buf_puts(b, "\\right]");
        break;
    case TKD_EX_TUPLE:
        rc |= tkd_buf_puts(b, "\\left( ") || tex_list(b, x->args, x->n, ", ") || tkd_buf_puts(b, "\\right)");
        break;
    case TKD_EX_SET:
        if (x->n == 0)
            rc |= tkd_buf_puts(b, "\\emptyset");
        else
            rc |= tkd_buf_puts(b, "\\left\\{") || tex_list(b, x->args, x->n, ", ") || tkd_buf_puts(b, "\\right\\}");
        break;
    case TKD_EX_INTERVAL:
        rc |= tkd_buf_puts(b, x->op & TKD_IV_LOPEN ? "\\left(" : "\\left[");
        rc |= tex_list(b, x->args, 2, ", ");
        rc |= tkd_buf_puts(b, x->op & TKD_IV_ROPEN ? "\\right)" : "\\right]");
        break;
    case TKD_EX_MATRIX:
        rc |= tkd_buf_puts(b, "\\begin{pmatrix}");
        for (size_t r = 0; r < x->rows; r++) {
            if (r)
                rc |= tkd_buf_puts(b, " \\\\ ");
            rc |= tex_list(b, x->args + r * x->cols, x->cols, " & ");
        }
        rc |= tkd_buf_puts(b, "\\end{pmatrix}");
        break;
    case TKD_EX_PM:
        if (!tkd_expr_is_int(x->args[0], 0))
            rc |= tex(b, x->args[0], PREC_ADD);
        rc |= tkd_buf_puts(b, tkd_expr_is_int(x->args[0], 0) ? "\\pm " : " \\pm ");
        rc |= tex(b, x->args[1], PREC_ADD + 1);
        break;
    default: rc |= tkd_buf_puts(b, "?"); break;
    }
    if (paren)
        rc |= tkd_buf_puts(b, "\\right)");
    return rc ? TKD_ENOMEM : 0;
}

int tkd_expr_latex(tkd_buf *b, const tkd_expr *x) {
    if (!x)
        return tkd_buf_puts(b, "?");
    return tex(b, x, PREC_LOW);
}

char *tkd_expr_to_latex(const tkd_expr *x) { return tkd_expr_render(x, tkd_expr_latex); }
