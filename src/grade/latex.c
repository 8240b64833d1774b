/*
 * The LaTeX-subset parser: normalised answer text into the answer tree.
 * Recursive descent over characters; a LaTeX argument ("\frac12", "^{-1}",
 * "\sqrt3") is read as a span and parsed by a sub-parser over that span, the
 * way TeX reads one token or one brace group.
 *
 *   answer  := item ((',' | ';' | and | or) item)*
 *   item    := set (relop set)*              a < x \le b  becomes an AND of two
 *   set     := sum ((\cup | \cap) sum)*
 *   sum     := [sign] term ((+ | - | \pm | \mp) term)*
 *   term    := factor ((* | \cdot | \times | / | \div | implicit) factor)*
 *   factor  := postfix [^ arg]
 *   postfix := primary (! | %)*
 */
#include "gnode.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct P {
    const char *s;
    size_t i, end;
    garena *a;
    int depth;
    int abs_depth;
    int func_arg; /* parsing "\sin 2x": stop at operators and other functions */
    tkd_err *e;
    int failed;
} P;

static gnode *p_item(P *p);
static gnode *p_sum(P *p);
static gnode *p_term(P *p);
static gnode *p_factor(P *p);
static gnode *p_list_until(P *p, const char *closers, char *closed);

static int is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static gnode *fail(P *p, const char *what) {
    if (!p->failed) {
        p->failed = 1;
        size_t at = p->i < p->end ? p->i : p->end;
        tkd_err_set(p->e, TKD_EINVAL, "cannot parse answer at offset %zu ('%.12s'): %s", at, p->s + at, what);
    }
    return NULL;
}

static gnode *oom(P *p) {
    if (!p->failed) {
        p->failed = 1;
        tkd_err_set(p->e, TKD_ENOMEM, "out of memory (or over the answer size limit) while parsing");
    }
    return NULL;
}

static gnode *mk(P *p, gkind k, int n) {
    gnode *g = gn_new(p->a, k, n);
    return g ? g : oom(p);
}

static gnode *mk2(P *p, gkind k, gnode *x, gnode *y) {
    gnode *g = mk(p, k, 2);
    if (g) {
        g->kid[0] = x;
        g->kid[1] = y;
    }
    return g;
}

static gnode *mk1(P *p, gkind k, gnode *x) {
    gnode *g = mk(p, k, 1);
    if (g)
        g->kid[0] = x;
    return g;
}

static gnode *mk_str(P *p, gkind k, const char *s, size_t n) {
    gnode *g = mk(p, k, 0);
    if (g && !(g->str = ga_strndup(p->a, s, n)))
        return oom(p);
    return g;
}

static void ws(P *p) {
    while (p->i < p->end && isspace((unsigned char)p->s[p->i]))
        p->i++;
}

static char peek(P *p) {
    ws(p);
    return p->i < p->end ? p->s[p->i] : '\0';
}

/* At "\name" (not followed by a letter)? */
static int at_cmd(P *p, const char *name) {
    ws(p);
    size_t n = strlen(name);
    return p->i + 1 + n <= p->end && p->s[p->i] == '\\' && !strncmp(p->s + p->i + 1, name, n) &&
           (p->i + 1 + n == p->end || !is_letter(p->s[p->i + 1 + n]));
}

static int eat_cmd(P *p, const char *name) {
    if (!at_cmd(p, name))
        return 0;
    p->i += 1 + strlen(name);
    return 1;
}

/* The command name at p->i ("frac" for "\frac"); *len its length. */
static const char *cmd_name(P *p, size_t *len) {
    ws(p);
    if (p->i + 1 >= p->end || p->s[p->i] != '\\') {
        *len = 0;
        return NULL;
    }
    size_t j = p->i + 1;
    while (j < p->end && is_letter(p->s[j]))
        j++;
    if (j == p->i + 1 && j < p->end)
        j++; /* \{ \} \| ... */
    *len = j - p->i - 1;
    return p->s + p->i + 1;
}

static int name_is(const char *nm, size_t len, const char *w) { return nm && strlen(w) == len && !strncmp(nm, w, len); }

/* Index just past the brace group at p->i, bounded by p->end; 0 if unbalanced. */
static size_t group_end(P *p, size_t at) {
    int depth = 0;
    for (size_t k = at; k < p->end; k++) {
        if (p->s[k] == '\\' && k + 1 < p->end) {
            k++;
            continue;
        }
        if (p->s[k] == '{')
            depth++;
        else if (p->s[k] == '}' && --depth == 0)
            return k + 1;
    }
    return 0;
}

/* One TeX argument: a brace group's inside, a command name, or one character. */
static int read_arg(P *p, size_t *b, size_t *e) {
    ws(p);
    if (p->i >= p->end)
        return 0;
    char c = p->s[p->i];
    if (c == '{') {
        size_t g = group_end(p, p->i);
        if (!g)
            return 0;
        *b = p->i + 1;
        *e = g - 1;
        p->i = g;
        return 1;
    }
    if (c == '}' || c == '&')
        return 0;
    if (c == '\\') {
        size_t len;
        cmd_name(p, &len);
        *b = p->i;
        *e = p->i + 1 + len;
        p->i = *e;
        return 1;
    }
    *b = p->i;
    *e = p->i + 1;
    p->i++;
    return 1;
}

/* Parse s[b,e) completely with a sub-parser; what: "sum" or "list". */
static gnode *sub_parse(P *p, size_t b, size_t e, int list) {
    if (p->depth >= TKD_GRADE_MAX_DEPTH)
        return fail(p, "nested too deeply");
    P q = *p;
    q.i = b;
    q.end = e;
    q.depth = p->depth + 1;
    q.abs_depth = 0;
    q.func_arg = 0;
    gnode *g = list ? p_list_until(&q, "", NULL) : p_sum(&q);
    if (g && peek(&q) != '\0')
        g = fail(&q, "unexpected text after the expression");
    p->failed = q.failed;
    return g;
}

static gnode *arg_expr(P *p, const char *what) {
    size_t b, e;
    if (!read_arg(p, &b, &e))
        return fail(p, what);
    if (b == e)
        return fail(p, "empty argument");
    return sub_parse(p, b, e, 0);
}

/* ---- numbers ---- */
static gnode *p_number(P *p) {
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
        return fail(p, "number too long");
    gnode *g = mk(p, GN_NUM, 0);
    if (!g)
        return NULL;
    char *d = ga_alloc(p->a, (int_end - b) + (frac_e - frac_b) + 2);
    if (!d)
        return oom(p);
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
        if (read_arg(p, &ab, &ae) && ae > ab && ae - ab <= 2) {
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
static const char *const func_names[] = {"sin",    "cos",    "tan",  "sec",  "csc",  "cot",   "arcsin", "arccos",
                                          "arctan", "sinh",   "cosh", "tanh", "ln",   "log",   "exp",    "det",
                                          "arcsec", "arccsc", "arccot", "max", "min", "gcd",  "lcm",    NULL};
static const char *const greek[] = {"alpha", "beta",  "gamma", "delta", "epsilon", "varepsilon", "zeta",   "eta",
                                    "theta", "vartheta", "iota", "kappa", "lambda", "mu",        "nu",     "xi",
                                    "rho",   "sigma", "tau",   "upsilon", "phi",    "varphi",    "chi",    "psi",
                                    "omega", "Gamma", "Delta", "Theta", "Lambda",  "Xi",        "Sigma",  "Phi",
                                    "Psi",   "Omega", "ell",   NULL};

static int word_in(const char *nm, size_t len, const char *const *list) {
    for (const char *const *w = list; *w; w++)
        if (name_is(nm, len, *w))
            return 1;
    return 0;
}

/* Subscript on a symbol: x_1, a_{n+1}: folded into the name. */
static gnode *symbol_with_sub(P *p, const char *nm, size_t len) {
    if (peek(p) == '_') {
        p->i++;
        size_t b, e;
        if (!read_arg(p, &b, &e))
            return fail(p, "a subscript");
        char *buf = ga_alloc(p->a, len + (e - b) + 4);
        if (!buf)
            return oom(p);
        snprintf(buf, len + (e - b) + 4, "%.*s_{%.*s}", (int)len, nm, (int)(e - b), p->s + b);
        gnode *g = mk(p, GN_SYM, 0);
        if (g)
            g->str = buf;
        return g;
    }
    if (len == 1 && (nm[0] == 'e' || nm[0] == 'i'))
        return mk_str(p, GN_CONST, nm, 1);
    return mk_str(p, GN_SYM, nm, len);
}

/* After the function name: optional ^power and _base, then the argument. */
static gnode *p_func(P *p, const char *nm, size_t len) {
    gnode *power = NULL, *base = NULL;
    for (int k = 0; k < 2; k++) {
        char c = peek(p);
        if (c == '^' && !power) {
            p->i++;
            if (peek(p) == '-' || peek(p) == '+') {
                int neg = p->s[p->i] == '-';
                p->i++;
                gnode *x = arg_expr(p, "an exponent");
                power = x && neg ? mk1(p, GN_NEG, x) : x;
            } else {
                power = arg_expr(p, "an exponent");
            }
            if (!power)
                return NULL;
        } else if (c == '_' && !base) {
            p->i++;
            if (!(base = arg_expr(p, "a subscript")))
                return NULL;
        }
    }
    gnode *arg;
    char c = peek(p);
    if (c == '(' || c == '{' || c == '[') {
        /* \sin(x), \log{x}: the group is the argument */
        arg = p_factor(p);
    } else {
        int save = p->func_arg;
        p->func_arg = 1;
        arg = p_term(p);
        p->func_arg = save;
    }
    if (!arg)
        return p->failed ? NULL : fail(p, "a function argument");
    /* \sin^{-1} x is arcsin x */
    int inverse = power && power->k == GN_NEG && power->kid[0]->k == GN_NUM && !strcmp(power->kid[0]->str, "1") &&
                  power->kid[0]->places < 0;
    char name[16];
    snprintf(name, sizeof name, "%s%.*s", inverse && len <= 4 ? "arc" : "", (int)len, nm);
    int nargs = arg->k == GN_TUPLE ? arg->n : 1;
    gnode *f = mk(p, GN_FUNC, nargs + (base != NULL));
    if (!f || !(f->str = ga_strndup(p->a, name, strlen(name))))
        return oom(p);
    if (arg->k == GN_TUPLE)
        for (int k = 0; k < arg->n; k++)
            f->kid[k] = arg->kid[k];
    else
        f->kid[0] = arg;
    if (base)
        f->kid[nargs] = base;
    if (power && !inverse)
        return mk2(p, GN_POW, f, power);
    return f;
}

/* \text{...}-like: a unit, a word answer, or math in disguise (\text{5}). */
static gnode *p_textlike(P *p, int math_font) {
    size_t b, e;
    if (!read_arg(p, &b, &e))
        return fail(p, "a text argument");
    while (b < e && isspace((unsigned char)p->s[b]))
        b++;
    while (e > b && isspace((unsigned char)p->s[e - 1]))
        e--;
    if (b == e)
        return mk_str(p, GN_TEXT, "", 0);
    int letters = 0, other = 0;
    for (size_t j = b; j < e; j++)
        letters += is_letter(p->s[j]), other += !is_letter(p->s[j]) && p->s[j] != ' ';
    if (math_font || letters == 0 || (letters == 1 && e - b == 1)) {
        /* \mathbf{v}, \text{5}, \mathrm{e}: parse as math; a failure keeps it as text */
        tkd_err save_e = *p->e;
        int save_failed = p->failed;
        gnode *g = sub_parse(p, b, e, 1);
        if (g)
            return g;
        if (p->e)
            *p->e = save_e;
        p->failed = save_failed;
    }
    return mk_str(p, GN_TEXT, p->s + b, e - b);
}

static gnode *p_matrix(P *p) {
    size_t b, e;
    if (!read_arg(p, &b, &e))
        return fail(p, "an environment name");
    char env[24];
    snprintf(env, sizeof env, "%.*s", (int)(e - b < 20 ? e - b : 20), p->s + b);
    if (!strcmp(env, "array") || !strcmp(env, "tabular")) {
        size_t cb, ce;
        if (!read_arg(p, &cb, &ce)) /* column spec {cc} */
            return fail(p, "an array column spec");
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
        return fail(p, "\\end of a matrix");
    p->i = stop + 4;
    size_t xb, xe;
    if (!read_arg(p, &xb, &xe))
        return fail(p, "\\end{...}");
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
                return fail(p, "matrix too large");
            if (blank)
                return fail(p, "an empty matrix cell");
            if (!(cells[n++] = sub_parse(p, cell, ce, 0)))
                return NULL;
            col++;
        }
        if (row_end || at_end) {
            if (col) {
                if (cols >= 0 && col != cols)
                    return fail(p, "matrix rows of different lengths");
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
        return fail(p, "an empty matrix");
    gnode *m = mk(p, GN_MATRIX, n);
    if (!m)
        return NULL;
    memcpy(m->kid, cells, sizeof(gnode *) * (size_t)n);
    m->rows = rows;
    m->cols = cols;
    return m;
}

/* ( ... )  [ ... ]  with any mix of closers: grouping, tuple or interval. */
static gnode *p_bracket(P *p, char open) {
    p->i++;
    char closed = 0;
    int save_abs = p->abs_depth, save_fa = p->func_arg;
    p->abs_depth = 0;
    p->func_arg = 0;
    gnode *g = p_list_until(p, ")]", &closed);
    p->abs_depth = save_abs;
    p->func_arg = save_fa;
    if (!g)
        return NULL;
    if (!closed)
        return fail(p, "a closing bracket");
    int nitems = g->k == GN_LIST ? g->n : 1;
    if (nitems == 1 && ((open == '(' && closed == ')') || (open == '[' && closed == ']')))
        return g; /* (x) or [x]: grouping */
    if (nitems == 2 && !(open == '(' && closed == ')')) {
        g->k = GN_INTERVAL;
        g->lo_closed = open == '[';
        g->hi_closed = closed == ']';
        return g;
    }
    if (nitems == 1)
        return fail(p, "mismatched brackets");
    g->k = GN_TUPLE;
    return g;
}

static gnode *p_primary(P *p) {
    if (p->depth >= TKD_GRADE_MAX_DEPTH)
        return fail(p, "nested too deeply");
    char c = peek(p);
    if (c == '\0')
        return fail(p, "a value");
    if (is_digit(c) || (c == '.' && p->i + 1 < p->end && is_digit(p->s[p->i + 1]))) {
        gnode *num = p_number(p);
        /* 918\frac12: a mixed number when both parts are integer literals */
        if (num && num->k == GN_NUM && num->places < 0 && at_cmd(p, "frac")) {
            size_t save = p->i;
            p->i += 5;
            size_t b1, e1, b2, e2;
            int ok = read_arg(p, &b1, &e1) && read_arg(p, &b2, &e2) && e1 > b1 && e2 > b2;
            for (size_t j = b1; ok && j < e1; j++)
                ok = is_digit(p->s[j]);
            for (size_t j = b2; ok && j < e2; j++)
                ok = is_digit(p->s[j]);
            if (ok && (e1 - b1 < e2 - b2 || (e1 - b1 == e2 - b2 && strncmp(p->s + b1, p->s + b2, e1 - b1) < 0))) {
                gnode *fr = mk2(p, GN_DIV, mk_str(p, GN_NUM, p->s + b1, e1 - b1), mk_str(p, GN_NUM, p->s + b2, e2 - b2));
                return fr ? mk2(p, GN_ADD, num, fr) : NULL;
            }
            p->i = save;
        }
        return num;
    }
    if (is_letter(c)) {
        size_t j = p->i;
        while (j < p->end && is_letter(p->s[j]))
            j++;
        const char *w = p->s + p->i;
        size_t wl = j - p->i;
        /* plain-text spellings: sqrt(2), sin x, pi, infinity */
        if (name_is(w, wl, "sqrt")) {
            p->i = j;
            gnode *x = p_factor(p);
            gnode *f = x ? mk1(p, GN_FUNC, x) : NULL;
            if (f)
                f->str = "sqrt";
            return f;
        }
        if (word_in(w, wl, func_names) && wl >= 2) {
            p->i = j;
            return p_func(p, w, wl);
        }
        if (name_is(w, wl, "pi")) {
            p->i = j;
            return mk_str(p, GN_CONST, "pi", 2);
        }
        if (name_is(w, wl, "infinity") || name_is(w, wl, "inf") || name_is(w, wl, "oo")) {
            p->i = j;
            return mk_str(p, GN_CONST, "inf", 3);
        }
        p->i++;
        return symbol_with_sub(p, w, 1);
    }
    if (c == '(' || c == '[')
        return p_bracket(p, c);
    if (c == '{') {
        size_t b, e;
        if (!read_arg(p, &b, &e))
            return fail(p, "a closing brace");
        if (b == e)
            return fail(p, "empty braces");
        /* {n \choose k} */
        for (size_t k = b; k + 7 <= e; k++)
            if (!strncmp(p->s + k, "\\choose", 7)) {
                gnode *f = mk2(p, GN_FUNC, sub_parse(p, b, k, 0), sub_parse(p, k + 7, e, 0));
                if (f)
                    f->str = "binom";
                return f && f->kid[0] && f->kid[1] ? f : NULL;
            }
        return sub_parse(p, b, e, 1);
    }
    if (c == '|') {
        p->i++;
        p->abs_depth++;
        gnode *x = p_sum(p);
        p->abs_depth--;
        if (!x)
            return NULL;
        if (peek(p) != '|')
            return fail(p, "a closing |");
        p->i++;
        gnode *f = mk1(p, GN_FUNC, x);
        if (f)
            f->str = "abs";
        return f;
    }
    if (c == '-' || c == '+') {
        p->i++;
        gnode *x = p_factor(p);
        return x && c == '-' ? mk1(p, GN_NEG, x) : x;
    }
    if (c != '\\')
        return fail(p, "a number, a variable or a command");
    size_t len;
    const char *nm = cmd_name(p, &len);
    p->i += 1 + len;
    if (name_is(nm, len, "frac")) {
        gnode *num = arg_expr(p, "a numerator");
        gnode *den = num ? arg_expr(p, "a denominator") : NULL;
        return den ? mk2(p, GN_DIV, num, den) : NULL;
    }
    if (name_is(nm, len, "sqrt")) {
        gnode *idx = NULL;
        if (peek(p) == '[') {
            size_t b = p->i + 1, k = b;
            while (k < p->end && p->s[k] != ']')
                k++;
            if (k >= p->end)
                return fail(p, "the ] of \\sqrt[n]");
            if (!(idx = sub_parse(p, b, k, 0)))
                return NULL;
            p->i = k + 1;
        }
        gnode *x = arg_expr(p, "a radicand");
        if (!x)
            return NULL;
        gnode *f = idx ? mk2(p, GN_FUNC, x, idx) : mk1(p, GN_FUNC, x);
        if (f)
            f->str = idx ? "root" : "sqrt";
        return f;
    }
    if (name_is(nm, len, "binom")) {
        gnode *n = arg_expr(p, "binomial n");
        gnode *k = n ? arg_expr(p, "binomial k") : NULL;
        gnode *f = k ? mk2(p, GN_FUNC, n, k) : NULL;
        if (f)
            f->str = "binom";
        return f;
    }
    if (name_is(nm, len, "pi"))
        return mk_str(p, GN_CONST, "pi", 2);
    if (name_is(nm, len, "infty"))
        return mk_str(p, GN_CONST, "inf", 3);
    if (name_is(nm, len, "emptyset") || name_is(nm, len, "varnothing"))
        return mk(p, GN_SET, 0);
    if (name_is(nm, len, "{")) {
        char closed = 0;
        if (at_cmd(p, "}")) {
            p->i += 2;
            return mk(p, GN_SET, 0);
        }
        int save_abs = p->abs_depth, save_fa = p->func_arg;
        p->abs_depth = p->func_arg = 0;
        gnode *g = p_list_until(p, "}", &closed);
        p->abs_depth = save_abs;
        p->func_arg = save_fa;
        if (!g)
            return NULL;
        if (!closed)
            return fail(p, "a closing \\}");
        if (g->k == GN_LIST) {
            g->k = GN_SET;
            return g;
        }
        gnode *s = mk1(p, GN_SET, g);
        return s;
    }
    if (name_is(nm, len, "text") || name_is(nm, len, "textbf") || name_is(nm, len, "textit") ||
        name_is(nm, len, "mbox") || name_is(nm, len, "textnormal") || name_is(nm, len, "textrm") ||
        name_is(nm, len, "mathrm"))
        return p_textlike(p, 0);
    if (name_is(nm, len, "mathbf") || name_is(nm, len, "boldsymbol") || name_is(nm, len, "mathit") ||
        name_is(nm, len, "mathsf") || name_is(nm, len, "bm") || name_is(nm, len, "mathbb") ||
        name_is(nm, len, "mathcal") || name_is(nm, len, "underline") || name_is(nm, len, "boxed") ||
        name_is(nm, len, "fbox"))
        return p_textlike(p, 1);
    if (name_is(nm, len, "operatorname")) {
        size_t b, e;
        if (!read_arg(p, &b, &e) || e == b)
            return fail(p, "an operator name");
        return p_func(p, p->s + b, e - b);
    }
    if (name_is(nm, len, "lfloor") || name_is(nm, len, "lceil")) {
        int fl = nm[1] == 'f';
        gnode *x = p_sum(p);
        if (!x)
            return NULL;
        if (!eat_cmd(p, fl ? "rfloor" : "rceil"))
            return fail(p, fl ? "\\rfloor" : "\\rceil");
        gnode *f = mk1(p, GN_FUNC, x);
        if (f)
            f->str = fl ? "floor" : "ceil";
        return f;
    }
    if (name_is(nm, len, "begin"))
        return p_matrix(p);
    if (name_is(nm, len, "overline") || name_is(nm, len, "overrightarrow") || name_is(nm, len, "vec") ||
        name_is(nm, len, "angle") || name_is(nm, len, "triangle")) {
        /* \overline{CD}, \angle ABC: a named object, compared by its name */
        size_t b0 = p->i - 1 - len, b, e;
        if (!read_arg(p, &b, &e))
            return fail(p, "an argument");
        return mk_str(p, GN_SYM, p->s + b0, p->i - b0);
    }
    if (word_in(nm, len, func_names))
        return p_func(p, nm, len);
    if (word_in(nm, len, greek))
        return symbol_with_sub(p, nm - 1, len + 1);
    if (name_is(nm, len, "pm") || name_is(nm, len, "mp")) {
        gnode *x = p_factor(p);
        gnode *g = x ? mk2(p, GN_PM, NULL, x) : NULL;
        if (g)
            g->op = nm[0] == 'p' ? 1 : -1;
        return g;
    }
    p->i -= 1 + len;
    return fail(p, "a known command");
}

static gnode *p_postfix(P *p) {
    gnode *x = p_primary(p);
    while (x) {
        char c = peek(p);
        if (c == '!') {
            p->i++;
            x = mk1(p, GN_FACT, x);
        } else if (c == '%') {
            p->i++;
            x = mk1(p, GN_PERCENT, x);
        } else {
            break;
        }
    }
    return x;
}

static gnode *p_factor(P *p) {
    p->depth++;
    gnode *b = p->depth > TKD_GRADE_MAX_DEPTH ? fail(p, "nested too deeply") : p_postfix(p);
    while (b && peek(p) == '^') {
        p->i++;
        gnode *ex;
        char c = peek(p);
        if (c == '-' || c == '+') {
            p->i++;
            ex = arg_expr(p, "an exponent");
            if (ex && c == '-')
                ex = mk1(p, GN_NEG, ex);
        } else {
            ex = arg_expr(p, "an exponent");
        }
        if (!ex) {
            b = NULL;
            break;
        }
        /* a unit squared is still a unit */
        b = b->k == GN_TEXT ? b : mk2(p, GN_POW, b, ex);
        while (b && (peek(p) == '!' || peek(p) == '%')) {
            int pct = p->s[p->i] == '%';
            p->i++;
            b = mk1(p, pct ? GN_PERCENT : GN_FACT, b);
        }
    }
    p->depth--;
    return b;
}

/* Words that separate list items: "and", "or". */
static size_t sep_word(P *p) {
    ws(p);
    const char *s = p->s + p->i;
    size_t left = p->end - p->i;
    if (left >= 3 && !strncmp(s, "and", 3) && (left == 3 || !is_letter(s[3])))
        return 3;
    if (left >= 2 && !strncmp(s, "or", 2) && (left == 2 || !is_letter(s[2])))
        return 2;
    /* \text{ and }, \text{or}, \mbox{ and } */
    static const char *const tx[] = {"\\text{", "\\mbox{", "\\textrm{", "\\textnormal{", NULL};
    for (const char *const *t = tx; *t; t++) {
        size_t tl = strlen(*t);
        if (left > tl && !strncmp(s, *t, tl)) {
            size_t k = tl;
            while (k < left && s[k] == ' ')
                k++;
            size_t w = (left - k >= 3 && !strncmp(s + k, "and", 3)) ? 3 : (left - k >= 2 && !strncmp(s + k, "or", 2)) ? 2 : 0;
            if (!w)
                continue;
            k += w;
            while (k < left && (s[k] == ' ' || s[k] == ','))
                k++;
            if (k < left && s[k] == '}')
                return k + 1;
        }
    }
    return 0;
}

/* Can a factor start here (implicit multiplication)? */
static int starts_factor(P *p) {
    char c = peek(p);
    if (c == '\0')
        return 0;
    if (is_digit(c) || c == '(' || c == '{')
        return 1;
    if (is_letter(c))
        return !sep_word(p);
    if (c == '.' && p->i + 1 < p->end && is_digit(p->s[p->i + 1]))
        return 1;
    if (c == '|')
        return p->abs_depth == 0;
    if (c != '\\')
        return 0;
    size_t len;
    const char *nm = cmd_name(p, &len);
    if (sep_word(p))
        return 0;
    static const char *const no[] = {"cdot", "times", "div", "le",  "ge",  "ne",    "in",      "cup",  "cap",
                                     "pm",   "mp",    "end", "}",   "\\",  "approx", "equiv", "rfloor", "rceil",
                                     "to",   "setminus", "right", "implies", "Rightarrow", "iff", "sim", "cong", NULL};
    if (word_in(nm, len, no))
        return 0;
    if (p->func_arg && word_in(nm, len, func_names))
        return 0;
    return 1;
}

static gnode *p_term(P *p) {
    gnode *f = p_factor(p);
    if (!f)
        return NULL;
    gnode *items[64];
    int n = 0;
    items[n++] = f;
    for (;;) {
        char c = peek(p);
        int div = 0, explicit_op = 0;
        if (c == '*' || at_cmd(p, "cdot") || at_cmd(p, "times")) {
            if (p->func_arg)
                break;
            p->i += c == '*' ? 1 : (at_cmd(p, "cdot") ? 5 : 6);
            explicit_op = 1;
        } else if (c == '/' || c == ':' || at_cmd(p, "div")) {
            /* a ratio 3:1 reads as the quotient 3/1 */
            if (p->func_arg)
                break;
            p->i += (c == '/' || c == ':') ? 1 : 4;
            div = explicit_op = 1;
        } else if (!starts_factor(p)) {
            break;
        }
        gnode *g = p_factor(p);
        if (!g)
            return NULL;
        if (div) {
            /* a/b binds to the product so far: 1/2x is (1/2)x as typed */
            gnode *acc = n == 1 ? items[0] : NULL;
            if (!acc) {
                acc = mk(p, GN_MUL, n);
                if (!acc)
                    return NULL;
                memcpy(acc->kid, items, sizeof(gnode *) * (size_t)n);
            }
            items[0] = mk2(p, GN_DIV, acc, g);
            if (!items[0])
                return NULL;
            n = 1;
            continue;
        }
        (void)explicit_op;
        if (g->k == GN_TEXT && n >= 1)
            continue; /* 5\text{ cm}: the unit goes */
        if (n == 1 && items[0]->k == GN_TEXT) {
            items[0] = g; /* \text{Area } 5 */
            continue;
        }
        if (n == 64)
            return fail(p, "a product of more than 64 factors");
        items[n++] = g;
    }
    if (n == 1)
        return items[0];
    gnode *m = mk(p, GN_MUL, n);
    if (m)
        memcpy(m->kid, items, sizeof(gnode *) * (size_t)n);
    return m;
}

static gnode *p_sum(P *p) {
    gnode *acc = NULL;
    char c = peek(p);
    if (c == '-' || c == '+') {
        p->i++;
        gnode *t = p_term(p);
        if (!t)
            return NULL;
        acc = c == '-' ? mk1(p, GN_NEG, t) : t;
    } else if (at_cmd(p, "pm") || at_cmd(p, "mp")) {
        int sign = at_cmd(p, "pm") ? 1 : -1;
        p->i += 3;
        gnode *t = p_term(p);
        if (!t)
            return NULL;
        acc = mk2(p, GN_PM, NULL, t);
        if (acc)
            acc->op = sign;
    } else {
        acc = p_term(p);
    }
    while (acc) {
        c = peek(p);
        int sign;
        if (c == '+' || c == '-') {
            sign = c == '-' ? -1 : 1;
            p->i++;
        } else if (at_cmd(p, "pm") || at_cmd(p, "mp")) {
            sign = at_cmd(p, "pm") ? 2 : -2;
            p->i += 3;
        } else {
            break;
        }
        gnode *t = p_term(p);
        if (!t)
            return NULL;
        if (sign == 2 || sign == -2) {
            acc = mk2(p, GN_PM, acc, t);
            if (acc)
                acc->op = sign / 2;
            continue;
        }
        if (sign < 0 && !(t = mk1(p, GN_NEG, t)))
            return NULL;
        if (acc->k == GN_ADD) {
            gnode *g = mk(p, GN_ADD, acc->n + 1);
            if (!g)
                return NULL;
            memcpy(g->kid, acc->kid, sizeof(gnode *) * (size_t)acc->n);
            g->kid[acc->n] = t;
            acc = g;
        } else {
            acc = mk2(p, GN_ADD, acc, t);
        }
    }
    return acc;
}

static gnode *p_set(P *p) {
    gnode *a = p_sum(p);
    while (a) {
        gkind k;
        if (eat_cmd(p, "cup")) {
            k = GN_UNION;
        } else if (peek(p) == 'U' && p->i + 1 < p->end && p->s[p->i + 1] == ' ') {
            k = GN_UNION;
            p->i++;
        } else if (eat_cmd(p, "cap")) {
            k = GN_INTER;
        } else {
            break;
        }
        gnode *b = p_sum(p);
        if (!b)
            return NULL;
        if (a->k == k) {
            gnode *g = mk(p, k, a->n + 1);
            if (!g)
                return NULL;
            memcpy(g->kid, a->kid, sizeof(gnode *) * (size_t)a->n);
            g->kid[a->n] = b;
            a = g;
        } else {
            a = mk2(p, k, a, b);
        }
    }
    return a;
}

static int rel_op(P *p) {
    char c = peek(p);
    const char *s = p->s + p->i;
    size_t left = p->end - p->i;
    if (c == '=') {
        p->i += (left > 1 && s[1] == '=') ? 2 : 1;
        return REL_EQ;
    }
    if (c == '<' || c == '>') {
        int eq = left > 1 && s[1] == '=';
        p->i += 1 + eq;
        return c == '<' ? (eq ? REL_LE : REL_LT) : (eq ? REL_GE : REL_GT);
    }
    if (eat_cmd(p, "le"))
        return REL_LE;
    if (eat_cmd(p, "ge"))
        return REL_GE;
    if (eat_cmd(p, "ne"))
        return REL_NE;
    if (eat_cmd(p, "in"))
        return REL_IN;
    if (eat_cmd(p, "approx") || eat_cmd(p, "equiv") || eat_cmd(p, "cong"))
        return REL_EQ;
    return -1;
}

static gnode *p_item(P *p) {
    gnode *a = p_set(p);
    if (!a)
        return NULL;
    gnode *rels[16];
    int n = 0;
    int op;
    while ((op = rel_op(p)) >= 0) {
        gnode *b = p_set(p);
        if (!b)
            return NULL;
        if (n == 16)
            return fail(p, "a chain of more than 16 relations");
        gnode *r = mk2(p, GN_REL, a, b);
        if (!r)
            return NULL;
        r->op = op;
        rels[n++] = r;
        a = b;
    }
    if (n == 0)
        return a;
    if (n == 1)
        return rels[0];
    gnode *g = mk(p, GN_AND, n);
    if (g)
        memcpy(g->kid, rels, sizeof(gnode *) * (size_t)n);
    return g;
}

/* Items separated by , ; and or, until one of closers (or the end).
 * *closed receives the closer met (0 at the end); a one-item list is the item. */
static gnode *p_list_until(P *p, const char *closers, char *closed) {
    gnode *items[TKD_GRADE_MAX_ITEMS];
    int n = 0;
    if (closed)
        *closed = 0;
    for (;;) {
        char c = peek(p);
        if (c == '\0')
            break;
        if (*closers && strchr(closers, c) && c != '}')
            break;
        if (strchr(closers, '}') && at_cmd(p, "}"))
            break;
        if (c == ',' || c == ';') { /* an empty item: "1,,2" or a trailing comma */
            p->i++;
            continue;
        }
        if (c == '.' && p->i + 3 <= p->end && !strncmp(p->s + p->i, "...", 3)) {
            p->i += 3; /* 1, 2, \ldots: the ellipsis is kept out */
            continue;
        }
        size_t sw = sep_word(p);
        if (sw) {
            p->i += sw;
            continue;
        }
        if (n == TKD_GRADE_MAX_ITEMS)
            return fail(p, "more than 256 items in a list");
        gnode *it = p_item(p);
        if (!it)
            return NULL;
        items[n++] = it;
        c = peek(p);
        if (c == ',' || c == ';') {
            p->i++;
        } else if ((sw = sep_word(p))) {
            p->i += sw;
        } else if (c == '\0' || (*closers && strchr(closers, c) && c != '}') ||
                   (strchr(closers, '}') && at_cmd(p, "}"))) {
            continue;
        } else {
            return fail(p, "an operator or the end of the answer");
        }
    }
    if (*closers) {
        char c = peek(p);
        if (c == '\\') {
            if (closed)
                *closed = '}';
            p->i += 2;
        } else if (c && strchr(closers, c)) {
            if (closed)
                *closed = c;
            p->i++;
        }
    }
    if (n == 0)
        return fail(p, "a value");
    if (n == 1)
        return items[0];
    gnode *g = mk(p, GN_LIST, n);
    if (g)
        memcpy(g->kid, items, sizeof(gnode *) * (size_t)n);
    return g;
}

int grade_parse(garena *a, const char *text, gnode **out, tkd_err *e) {
    *out = NULL;
    size_t len = strlen(text);
    if (len > TKD_GRADE_MAX_INPUT)
        return tkd_err_set(e, TKD_ELIMIT, "answer longer than %d bytes", TKD_GRADE_MAX_INPUT);
    tkd_buf b;
    tkd_buf_init(&b);
    if (grade_normalise(text, &b) || !b.data) {
        tkd_buf_free(&b);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory normalising an answer");
    }
    char *s = ga_strndup(a, b.data, b.len);
    size_t n = b.len;
    tkd_buf_free(&b);
    if (!s)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory parsing an answer");
    if (n == 0)
        return tkd_err_set(e, TKD_EINVAL, "empty answer");
    /* a plain word or phrase ("none", "no solution", "(C)") is a text answer */
    int letters = 0, other = 0, wordy = 0;
    for (size_t k = 0; k < n;) {
        if (is_letter(s[k])) {
            size_t w = k;
            while (k < n && is_letter(s[k]))
                k++;
            letters += (int)(k - w);
            static const char *const mathwords[] = {"sqrt", "infinity", "infty", "inf", "pi", "and", "or", NULL};
            if (k - w >= 3 && !word_in(s + w, k - w, func_names) && !word_in(s + w, k - w, mathwords))
                wordy = 1;
            continue;
        }
        other += !(s[k] == ' ' || s[k] == '\'' || s[k] == '-' || s[k] == '(' || s[k] == ')' || s[k] == '.');
        k++;
    }
    if (!other && letters && (wordy || (s[0] == '(' && letters == 1))) {
        {
            gnode *t = gn_new(a, GN_TEXT, 0);
            if (!t)
                return tkd_err_set(e, TKD_ENOMEM, "out of memory parsing an answer");
            t->str = s;
            *out = t;
            return 0;
        }
    }
    P p = {.s = s, .i = 0, .end = n, .a = a, .e = e};
    tkd_err scratch;
    if (!p.e)
        p.e = &scratch;
    gnode *g = p_list_until(&p, "", NULL);
    if (g && peek(&p) != '\0')
        g = fail(&p, "unexpected text");
    if (!g)
        return p.e->code ? p.e->code : TKD_EINVAL;
    *out = g;
    return 0;
}
