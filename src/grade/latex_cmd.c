/*
 * The LaTeX parser's leaves: numbers (decimals with their places, bases,
 * repeating decimals), symbols with subscripts, functions (\\sin^2 x,
 * \\log_2 8), \\text-like groups (units, words, math in disguise) and
 * matrix environments.
 */
#include "latex_p.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers ---- */
static gnode *num_from_fmpz(P *p, const fmpz_t v) {
    char *t = fmpz_get_str(NULL, 10, v);
    if (!t)
        return gl_oom(p);
    gnode *g = gl_mk_str(p, GN_NUM, t, strlen(t));
    flint_free(t);
    return g;
}

/* I.F\overline{R} = (IFR - IF) / (10^|F| (10^|R| - 1)), exactly */
static gnode *repeating(P *p, size_t ib, size_t ie, size_t fb, size_t fe, size_t rb, size_t re) {
    char *ifr = ga_alloc(p->a, (ie - ib) + (fe - fb) + (re - rb) + 2);
    if (!ifr)
        return gl_oom(p);
    size_t k = 0;
    ifr[k++] = '0';
    for (size_t j = ib; j < ie; j++)
        ifr[k++] = p->s[j];
    for (size_t j = fb; j < fe; j++)
        ifr[k++] = p->s[j];
    size_t if_len = k;
    for (size_t j = rb; j < re; j++)
        ifr[k++] = p->s[j];
    ifr[k] = '\0';
    fmpz_t a, c, den, t;
    fmpz_init(a);
    fmpz_init(c);
    fmpz_init(den);
    fmpz_init(t);
    fmpz_set_str(a, ifr, 10);
    ifr[if_len] = '\0';
    fmpz_set_str(c, ifr, 10);
    fmpz_sub(a, a, c);
    fmpz_ui_pow_ui(den, 10, (ulong)(re - rb));
    fmpz_sub_ui(den, den, 1);
    fmpz_ui_pow_ui(t, 10, (ulong)(fe - fb));
    fmpz_mul(den, den, t);
    gnode *g = gl_mk2(p, GN_DIV, num_from_fmpz(p, a), num_from_fmpz(p, den));
    fmpz_clear(a);
    fmpz_clear(c);
    fmpz_clear(den);
    fmpz_clear(t);
    return g && g->kid[0] && g->kid[1] ? g : NULL;
}

gnode *gl_number(P *p) {
    size_t b = p->i;
    while (p->i < p->end && is_digit(p->s[p->i]))
        p->i++;
    size_t int_end = p->i;
    int places = -1;
    size_t frac_b = 0, frac_e = 0;
    if (p->i < p->end && p->s[p->i] == '.' && p->i + 1 < p->end && is_digit(p->s[p->i + 1])) {
        p->i++;
        frac_b = p->i;
        while (p->i < p->end && is_digit(p->s[p->i]))
            p->i++;
        frac_e = p->i;
        places = (int)(frac_e - frac_b);
    } else if (p->i < p->end && p->s[p->i] == '.' && !(p->i + 1 < p->end && p->s[p->i + 1] == '.')) {
        p->i++; /* "5." */
    }
    if (frac_e - frac_b > 4000 || int_end - b > 4000)
        return gl_fail(p, "number too long");
    if (places < 0 && p->i > b && p->s[p->i - 1] == '.')
        frac_b = frac_e = p->i; /* "0." before \overline */
    size_t rb, re;
    if ((places >= 0 || frac_b) && p->i + 9 < p->end && !strncmp(p->s + p->i, "\\overline", 9)) {
        size_t save = p->i;
        p->i += 9;
        if (gl_read_arg(p, &rb, &re) && re > rb && re - rb <= 200) {
            int ok = 1;
            for (size_t j = rb; j < re; j++)
                ok &= is_digit(p->s[j]);
            if (ok)
                return repeating(p, b, int_end, frac_b, frac_e, rb, re);
        }
        p->i = save;
    }
    gnode *g = gl_mk(p, GN_NUM, 0);
    if (!g)
        return NULL;
    char *d = ga_alloc(p->a, (int_end - b) + (frac_e - frac_b) + 2);
    if (!d)
        return gl_oom(p);
    size_t k = 0;
    for (size_t j = b; j < int_end; j++)
        d[k++] = p->s[j];
    for (size_t j = frac_b; j < frac_e; j++)
        d[k++] = p->s[j];
    if (k == 0)
        d[k++] = '0';
    d[k] = '\0';
    g->str = d;
    g->places = places;
    /* 1011_2, 123_{8}: a number in a base */
    if (p->i < p->end && p->s[p->i] == '_') {
        size_t save = p->i, ab, ae;
        p->i++;
        if (gl_read_arg(p, &ab, &ae) && ae > ab && ae - ab <= 2) {
            int base = 0, ok = 1;
            for (size_t j = ab; j < ae; j++)
                ok &= is_digit(p->s[j]), base = base * 10 + (p->s[j] - '0');
            if (ok && base >= 2 && base <= 36) {
                g->k = GN_BASENUM;
                g->rows = places > 0 ? places : 0; /* digits after the point */
                g->places = base;
                return g;
            }
        }
        p->i = save;
    }
    return g;
}

/* ---- symbols, functions ---- */
const char *const gl_func_names[] = {"sin",    "cos",    "tan",    "sec",  "csc", "cot", "arcsin", "arccos",
                                     "arctan", "sinh",   "cosh",   "tanh", "ln",  "log", "exp",    "det",
                                     "arcsec", "arccsc", "arccot", "max",  "min", "gcd", "lcm",    NULL};
const char *const gl_greek[] = {"alpha", "beta",     "gamma", "delta",   "epsilon", "varepsilon", "zeta",  "eta",
                                "theta", "vartheta", "iota",  "kappa",   "lambda",  "mu",         "nu",    "xi",
                                "rho",   "sigma",    "tau",   "upsilon", "phi",     "varphi",     "chi",   "psi",
                                "omega", "Gamma",    "Delta", "Theta",   "Lambda",  "Xi",         "Sigma", "Phi",
                                "Psi",   "Omega",    "ell",   NULL};

int gl_word_in(const char *nm, size_t len, const char *const *list) {
    for (const char *const *w = list; *w; w++)
        if (gl_name_is(nm, len, *w))
            return 1;
    return 0;
}

/* Subscript on a symbol: x_1, a_{n+1}: folded into the name. */
gnode *gl_symbol_with_sub(P *p, const char *nm, size_t len) {
    if (gl_peek(p) == '_') {
        p->i++;
        size_t b, e;
        if (!gl_read_arg(p, &b, &e))
            return gl_fail(p, "a subscript");
        char *buf = ga_alloc(p->a, len + (e - b) + 4);
        if (!buf)
            return gl_oom(p);
        snprintf(buf, len + (e - b) + 4, "%.*s_{%.*s}", (int)len, nm, (int)(e - b), p->s + b);
        gnode *g = gl_mk(p, GN_SYM, 0);
        if (g)
            g->str = buf;
        return g;
    }
    if (len == 1 && (nm[0] == 'e' || nm[0] == 'i'))
        return gl_mk_str(p, GN_CONST, nm, 1);
    return gl_mk_str(p, GN_SYM, nm, len);
}

/* After the function name: optional ^power and _base, then the argument. */
gnode *gl_func(P *p, const char *nm, size_t len) {
    gnode *power = NULL, *base = NULL;
    for (int k = 0; k < 2; k++) {
        char c = gl_peek(p);
        if (c == '^' && !power) {
            p->i++;
            if (gl_peek(p) == '-' || gl_peek(p) == '+') {
                int neg = p->s[p->i] == '-';
                p->i++;
                gnode *x = gl_arg_expr(p, "an exponent");
                power = x && neg ? gl_mk1(p, GN_NEG, x) : x;
            } else {
                power = gl_arg_expr(p, "an exponent");
            }
            if (!power)
                return NULL;
        } else if (c == '_' && !base) {
            p->i++;
            if (!(base = gl_arg_expr(p, "a subscript")))
                return NULL;
        }
    }
    gnode *arg;
    char c = gl_peek(p);
    if (c == '(' || c == '{' || c == '[') {
        /* \sin(x), \log{x}: the group is the argument; a power after it
         * applies to the function: \log{(x)}^{2} is (log x)^2 */
        arg = gl_postfix(p);
    } else {
        int save = p->func_arg;
        p->func_arg = 1;
        arg = gl_term(p);
        p->func_arg = save;
    }
    if (!arg)
        return p->failed ? NULL : gl_fail(p, "a function argument");
    /* \sin^{-1} x is arcsin x */
    int inverse = power && power->k == GN_NEG && power->kid[0]->k == GN_NUM && !strcmp(power->kid[0]->str, "1") &&
                  power->kid[0]->places < 0;
    char name[16];
    snprintf(name, sizeof name, "%s%.*s", inverse && len <= 4 ? "arc" : "", (int)len, nm);
    int nargs = arg->k == GN_TUPLE ? arg->n : 1;
    gnode *f = gl_mk(p, GN_FUNC, nargs + (base != NULL));
    if (!f || !(f->str = ga_strndup(p->a, name, strlen(name))))
        return gl_oom(p);
    if (arg->k == GN_TUPLE)
        for (int k = 0; k < arg->n; k++)
            f->kid[k] = arg->kid[k];
    else
        f->kid[0] = arg;
    if (base)
        f->kid[nargs] = base;
    if (power && !inverse)
        return gl_mk2(p, GN_POW, f, power);
    return f;
}

/* \text{...}-like: a unit, a word answer, or math in disguise (\text{5}). */
gnode *gl_textlike(P *p, int math_font) {
    size_t b, e;
    if (!gl_read_arg(p, &b, &e))
        return gl_fail(p, "a text argument");
    while (b < e && isspace((unsigned char)p->s[b]))
        b++;
    while (e > b && isspace((unsigned char)p->s[e - 1]))
        e--;
    if (b == e)
        return gl_mk_str(p, GN_TEXT, "", 0);
    int letters = 0, other = 0;
    for (size_t j = b; j < e; j++)
        letters += is_letter(p->s[j]), other += !is_letter(p->s[j]) && p->s[j] != ' ';
    if (math_font || letters == 0 || (letters == 1 && e - b == 1)) {
        /* \mathbf{v}, \text{5}, \mathrm{e}: parse as math; a failure keeps it as text */
        tkd_err save_e = *p->e;
        int save_failed = p->failed;
        gnode *g = gl_sub_parse(p, b, e, 1);
        if (g)
            return g;
        if (p->e)
            *p->e = save_e;
        p->failed = save_failed;
    }
    return gl_mk_str(p, GN_TEXT, p->s + b, e - b);
}

gnode *gl_matrix(P *p) {
    size_t b, e;
    if (!gl_read_arg(p, &b, &e))
        return gl_fail(p, "an environment name");
    char env[24];
    snprintf(env, sizeof env, "%.*s", (int)(e - b < 20 ? e - b : 20), p->s + b);
    if (!strcmp(env, "array") || !strcmp(env, "tabular")) {
        size_t cb, ce;
        if (!gl_read_arg(p, &cb, &ce)) /* column spec {cc} */
            return gl_fail(p, "an array column spec");
    }
    /* find \end{env} */
    size_t body = p->i, stop = 0;
    int nest = 0;
    for (size_t k = body; k + 4 < p->end; k++) {
        if (!strncmp(p->s + k, "\\begin", 6))
            nest++;
        else if (!strncmp(p->s + k, "\\end", 4)) {
            if (nest == 0) {
                stop = k;
                break;
            }
            nest--;
        }
    }
    if (!stop)
        return gl_fail(p, "\\end of a matrix");
    p->i = stop + 4;
    size_t xb, xe;
    if (!gl_read_arg(p, &xb, &xe))
        return gl_fail(p, "\\end{...}");
    /* split cells at top-level & and \\ */
    gnode *cells[TKD_GRADE_MAX_ITEMS];
    int n = 0, rows = 0, cols = -1, col = 0, depth = 0;
    size_t cell = body;
    for (size_t k = body; k <= stop; k++) {
        int row_end = (k + 1 < stop && p->s[k] == '\\' && p->s[k + 1] == '\\');
        int at_end = (k == stop);
        if (!at_end && p->s[k] == '\\' && !row_end) {
            k++;
            continue;
        }
        if (!at_end && p->s[k] == '{')
            depth++;
        else if (!at_end && p->s[k] == '}')
            depth--;
        if (depth || !(at_end || row_end || p->s[k] == '&'))
            continue;
        size_t ce = k;
        int blank = 1;
        for (size_t j = cell; j < ce; j++)
            blank &= isspace((unsigned char)p->s[j]) != 0;
        if (!(at_end && blank && col == 0)) {
            if (n == TKD_GRADE_MAX_ITEMS)
                return gl_fail(p, "matrix too large");
            if (blank)
                return gl_fail(p, "an empty matrix cell");
            if (!(cells[n++] = gl_sub_parse(p, cell, ce, 0)))
                return NULL;
            col++;
        }
        if (row_end || at_end) {
            if (col) {
                if (cols >= 0 && col != cols)
                    return gl_fail(p, "matrix rows of different lengths");
                cols = col;
                rows++;
            }
            col = 0;
            if (row_end)
                k++;
        }
        cell = k + 1;
    }
    if (rows == 0)
        return gl_fail(p, "an empty matrix");
    gnode *m = gl_mk(p, GN_MATRIX, n);
    if (!m)
        return NULL;
    memcpy(m->kid, cells, sizeof(gnode *) * (size_t)n);
    m->rows = rows;
    m->cols = cols;
    return m;
}
