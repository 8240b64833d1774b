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
#include "latex_p.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ( ... )  [ ... ]  with any mix of closers: grouping, tuple or interval. */
static gnode *p_bracket(P *p, char open) {
    p->i++;
    char closed = 0;
    int save_abs = p->abs_depth, save_fa = p->func_arg;
    p->abs_depth = 0;
    p->func_arg = 0;
    gnode *g = gl_list_until(p, ")]", &closed);
    p->abs_depth = save_abs;
    p->func_arg = save_fa;
    if (!g)
        return NULL;
    if (!closed)
        return gl_fail(p, "a closing bracket");
    int nitems = g->k == GN_LIST ? g->n : 1;
    if (nitems == 1 && ((open == '(' && closed == ')') || (open == '[' && closed == ']')))
        return g; /* (x) or [x]: grouping */
    if (g->k == GN_LIST && g->op && open == '(' && closed == ')')
        return g; /* (x > 1 \wedge x < 2) \vee x > 3: grouping of items joined by words */
    if (nitems == 2 && !(open == '(' && closed == ')')) {
        g->k = GN_INTERVAL;
        g->lo_closed = open == '[';
        g->hi_closed = closed == ']';
        return g;
    }
    if (nitems == 1)
        return gl_fail(p, "mismatched brackets");
    g->k = GN_TUPLE;
    return g;
}

/* Set-builder notation \{x \mid P\}, \{x : P\}, \{x \in D \mid P\} (after "\{";
 * \mid is "|" by now): the set is its predicate P, or "x \in D and P".
 * *is_sb says whether it was one (else nothing is consumed). */
static gnode *set_builder(P *p, int *is_sb) {
    size_t save = p->i;
    gl_ws(p);
    size_t v = p->i, j = v + 1;
    *is_sb = 0;
    if (v >= p->end || !is_letter(p->s[v]) || (j < p->end && is_letter(p->s[j]))) {
        p->i = save;
        return NULL;
    }
    while (j < p->end && p->s[j] == ' ')
        j++;
    size_t dom = 0, sep = 0;
    if (j < p->end && (p->s[j] == '|' || p->s[j] == ':')) {
        sep = j;
    } else if (j + 3 <= p->end && !strncmp(p->s + j, "\\in", 3) && !(j + 3 < p->end && is_letter(p->s[j + 3]))) {
        dom = j + 3;
        int depth = 0;
        for (size_t k = dom; k < p->end && !sep; k++) {
            char c = p->s[k];
            if (c == '\\' && k + 1 < p->end && p->s[k + 1] == '}' && depth == 0)
                break;
            if (c == '\\') {
                k++;
                continue;
            }
            depth += (c == '{' || c == '(' || c == '[') - (c == '}' || c == ')' || c == ']');
            if (depth == 0 && (c == '|' || c == ':'))
                sep = k;
        }
    }
    if (!sep) {
        p->i = save;
        return NULL;
    }
    *is_sb = 1;
    gnode *var = gl_mk_str(p, GN_SYM, p->s + v, 1);
    gnode *domain = dom ? gl_sub_parse(p, dom, sep, 0) : NULL;
    if (!var || (dom && !domain))
        return NULL;
    p->i = sep + 1;
    int save_abs = p->abs_depth, save_fa = p->func_arg;
    p->abs_depth = p->func_arg = 0;
    char closed = 0;
    gnode *pred = gl_list_until(p, "}", &closed);
    p->abs_depth = save_abs;
    p->func_arg = save_fa;
    if (!pred)
        return NULL;
    if (closed != '}')
        return gl_fail(p, "a closing \\}");
    if (!domain || (domain->k == GN_SYM && !strcmp(domain->str, "R")))
        return pred;
    gnode *in = gl_mk2(p, GN_REL, var, domain);
    gnode *both = in ? gl_mk2(p, GN_LIST, in, pred) : NULL;
    if (!both)
        return NULL;
    in->op = REL_IN;
    both->op = LIST_AND;
    return both;
}

static gnode *p_primary(P *p) {
    if (p->depth >= TKD_GRADE_MAX_DEPTH)
        return gl_fail(p, "nested too deeply");
    char c = gl_peek(p);
    if (c == '\0')
        return gl_fail(p, "a value");
    if (is_digit(c) || (c == '.' && p->i + 1 < p->end && is_digit(p->s[p->i + 1]))) {
        gnode *num = gl_number(p);
        /* 918\frac12: a mixed number when both parts are integer literals */
        if (num && num->k == GN_NUM && num->places < 0 && gl_at_cmd(p, "frac")) {
            size_t save = p->i;
            p->i += 5;
            size_t b1, e1, b2, e2;
            int ok = gl_read_arg(p, &b1, &e1) && gl_read_arg(p, &b2, &e2) && e1 > b1 && e2 > b2;
            for (size_t j = b1; ok && j < e1; j++)
                ok = is_digit(p->s[j]);
            for (size_t j = b2; ok && j < e2; j++)
                ok = is_digit(p->s[j]);
            if (ok && (e1 - b1 < e2 - b2 || (e1 - b1 == e2 - b2 && strncmp(p->s + b1, p->s + b2, e1 - b1) < 0))) {
                gnode *fr = gl_mk2(p, GN_DIV, gl_mk_str(p, GN_NUM, p->s + b1, e1 - b1),
                                   gl_mk_str(p, GN_NUM, p->s + b2, e2 - b2));
                return fr ? gl_mk2(p, GN_ADD, num, fr) : NULL;
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
        if (gl_name_is(w, wl, "sqrt")) {
            p->i = j;
            gnode *x = gl_factor(p);
            gnode *f = x ? gl_mk1(p, GN_FUNC, x) : NULL;
            if (f)
                f->str = "sqrt";
            return f;
        }
        if (gl_word_in(w, wl, gl_func_names) && wl >= 2) {
            p->i = j;
            return gl_func(p, w, wl);
        }
        if (gl_name_is(w, wl, "pi")) {
            p->i = j;
            return gl_mk_str(p, GN_CONST, "pi", 2);
        }
        if (gl_name_is(w, wl, "infinity") || gl_name_is(w, wl, "inf") || gl_name_is(w, wl, "oo")) {
            p->i = j;
            return gl_mk_str(p, GN_CONST, "inf", 3);
        }
        p->i++;
        return gl_symbol_with_sub(p, w, 1);
    }
    if (c == '(' || c == '[')
        return p_bracket(p, c);
    if (c == '{') {
        size_t b, e;
        if (!gl_read_arg(p, &b, &e))
            return gl_fail(p, "a closing brace");
        if (b == e)
            return gl_fail(p, "empty braces");
        /* {n \choose k} */
        for (size_t k = b; k + 7 <= e; k++)
            if (!strncmp(p->s + k, "\\choose", 7)) {
                gnode *f = gl_mk2(p, GN_FUNC, gl_sub_parse(p, b, k, 0), gl_sub_parse(p, k + 7, e, 0));
                if (f)
                    f->str = "binom";
                return f && f->kid[0] && f->kid[1] ? f : NULL;
            }
        return gl_sub_parse(p, b, e, 1);
    }
    if (c == '|') {
        p->i++;
        p->abs_depth++;
        gnode *x = gl_sum(p);
        p->abs_depth--;
        if (!x)
            return NULL;
        if (gl_peek(p) != '|')
            return gl_fail(p, "a closing |");
        p->i++;
        gnode *f = gl_mk1(p, GN_FUNC, x);
        if (f)
            f->str = "abs";
        return f;
    }
    if (c == '-' || c == '+') {
        p->i++;
        gnode *x = gl_factor(p);
        return x && c == '-' ? gl_mk1(p, GN_NEG, x) : x;
    }
    if (c != '\\')
        return gl_fail(p, "a number, a variable or a command");
    size_t len;
    const char *nm = gl_cmd_name(p, &len);
    p->i += 1 + len;
    if (gl_name_is(nm, len, "frac")) {
        gnode *num = gl_arg_expr(p, "a numerator");
        gnode *den = num ? gl_arg_expr(p, "a denominator") : NULL;
        return den ? gl_mk2(p, GN_DIV, num, den) : NULL;
    }
    if (gl_name_is(nm, len, "sqrt")) {
        gnode *idx = NULL;
        if (gl_peek(p) == '[') {
            size_t b = p->i + 1, k = b;
            while (k < p->end && p->s[k] != ']')
                k++;
            if (k >= p->end)
                return gl_fail(p, "the ] of \\sqrt[n]");
            if (!(idx = gl_sub_parse(p, b, k, 0)))
                return NULL;
            p->i = k + 1;
        }
        gnode *x = gl_arg_expr(p, "a radicand");
        if (!x)
            return NULL;
        gnode *f = idx ? gl_mk2(p, GN_FUNC, x, idx) : gl_mk1(p, GN_FUNC, x);
        if (f)
            f->str = idx ? "root" : "sqrt";
        return f;
    }
    if (gl_name_is(nm, len, "binom")) {
        gnode *n = gl_arg_expr(p, "binomial n");
        gnode *k = n ? gl_arg_expr(p, "binomial k") : NULL;
        gnode *f = k ? gl_mk2(p, GN_FUNC, n, k) : NULL;
        if (f)
            f->str = "binom";
        return f;
    }
    if (gl_name_is(nm, len, "pi"))
        return gl_mk_str(p, GN_CONST, "pi", 2);
    if (gl_name_is(nm, len, "infty"))
        return gl_mk_str(p, GN_CONST, "inf", 3);
    if (gl_name_is(nm, len, "emptyset") || gl_name_is(nm, len, "varnothing"))
        return gl_mk(p, GN_SET, 0);
    if (gl_name_is(nm, len, "{")) {
        char closed = 0;
        int is_sb = 0;
        gnode *sb = set_builder(p, &is_sb);
        if (is_sb)
            return sb;
        if (gl_at_cmd(p, "}")) {
            p->i += 2;
            return gl_mk(p, GN_SET, 0);
        }
        int save_abs = p->abs_depth, save_fa = p->func_arg;
        p->abs_depth = p->func_arg = 0;
        gnode *g = gl_list_until(p, "}", &closed);
        p->abs_depth = save_abs;
        p->func_arg = save_fa;
        if (!g)
            return NULL;
        if (!closed)
            return gl_fail(p, "a closing \\}");
        if (g->k == GN_LIST) {
            g->k = GN_SET;
            return g;
        }
        gnode *s = gl_mk1(p, GN_SET, g);
        return s;
    }
    if (gl_name_is(nm, len, "text") || gl_name_is(nm, len, "textbf") || gl_name_is(nm, len, "textit") ||
        gl_name_is(nm, len, "mbox") || gl_name_is(nm, len, "textnormal") || gl_name_is(nm, len, "textrm") ||
        gl_name_is(nm, len, "mathrm"))
        return gl_textlike(p, 0);
    if (gl_name_is(nm, len, "mathbf") || gl_name_is(nm, len, "boldsymbol") || gl_name_is(nm, len, "mathit") ||
        gl_name_is(nm, len, "mathsf") || gl_name_is(nm, len, "bm") || gl_name_is(nm, len, "mathbb") ||
        gl_name_is(nm, len, "mathcal") || gl_name_is(nm, len, "underline") || gl_name_is(nm, len, "boxed") ||
        gl_name_is(nm, len, "framebox") || gl_name_is(nm, len, "fbox"))
        return gl_textlike(p, 1);
    if (gl_name_is(nm, len, "operatorname")) {
        size_t b, e;
        if (!gl_read_arg(p, &b, &e) || e == b)
            return gl_fail(p, "an operator name");
        return gl_func(p, p->s + b, e - b);
    }
    if (gl_name_is(nm, len, "lfloor") || gl_name_is(nm, len, "lceil")) {
        int fl = nm[1] == 'f';
        gnode *x = gl_sum(p);
        if (!x)
            return NULL;
        if (!gl_eat_cmd(p, fl ? "rfloor" : "rceil"))
            return gl_fail(p, fl ? "\\rfloor" : "\\rceil");
        gnode *f = gl_mk1(p, GN_FUNC, x);
        if (f)
            f->str = fl ? "floor" : "ceil";
        return f;
    }
    if (gl_name_is(nm, len, "begin"))
        return gl_matrix(p);
    if (gl_name_is(nm, len, "overline") || gl_name_is(nm, len, "overrightarrow") || gl_name_is(nm, len, "vec") ||
        gl_name_is(nm, len, "angle") || gl_name_is(nm, len, "triangle")) {
        /* \overline{CD}, \angle ABC: a named object, compared by its name */
        size_t b0 = p->i - 1 - len, b, e;
        if (!gl_read_arg(p, &b, &e))
            return gl_fail(p, "an argument");
        return gl_mk_str(p, GN_SYM, p->s + b0, p->i - b0);
    }
    if (gl_word_in(nm, len, gl_func_names))
        return gl_func(p, nm, len);
    if (gl_word_in(nm, len, gl_greek))
        return gl_symbol_with_sub(p, nm - 1, len + 1);
    if (gl_name_is(nm, len, "pm") || gl_name_is(nm, len, "mp")) {
        gnode *x = gl_factor(p);
        gnode *g = x ? gl_mk2(p, GN_PM, NULL, x) : NULL;
        if (g)
            g->op = nm[0] == 'p' ? 1 : -1;
        return g;
    }
    p->i -= 1 + len;
    return gl_fail(p, "a known command");
}

gnode *gl_postfix(P *p) {
    gnode *x = p_primary(p);
    while (x) {
        char c = gl_peek(p);
        if (c == '!') {
            p->i++;
            x = gl_mk1(p, GN_FACT, x);
        } else if (c == '%') {
            p->i++;
            x = gl_mk1(p, GN_PERCENT, x);
        } else if (c == '_' && x->k == GN_TEXT && x->str[0]) {
            /* \text{A5}_{11}: digits beyond 9 written as letters, in a base */
            size_t save = p->i, b, e;
            p->i++;
            int base = 0, ok = gl_read_arg(p, &b, &e) && e > b && e - b <= 2;
            for (size_t j = b; ok && j < e; j++)
                ok = is_digit(p->s[j]), base = base * 10 + (p->s[j] - '0');
            for (const char *t = x->str; ok && *t; t++)
                ok = is_digit(*t) || is_letter(*t);
            if (!ok || base < 2 || base > 36) {
                p->i = save;
                break;
            }
            x->k = GN_BASENUM;
            x->places = base;
        } else {
            break;
        }
    }
    return x;
}

gnode *gl_factor(P *p) {
    p->depth++;
    gnode *b = p->depth > TKD_GRADE_MAX_DEPTH ? gl_fail(p, "nested too deeply") : gl_postfix(p);
    /* ^, or ** as SymPy and Python print a power (models answer in code's syntax too) */
    while (b && (gl_peek(p) == '^' || (gl_peek(p) == '*' && p->i + 1 < p->end && p->s[p->i + 1] == '*'))) {
        p->i += p->s[p->i] == '^' ? 1 : 2;
        gnode *ex;
        char c = gl_peek(p);
        if (c == '(') {
            ex = gl_postfix(p); /* x^(7/2), x**(-3): the group is the exponent */
        } else if (c == '-' || c == '+') {
            p->i++;
            ex = gl_arg_expr(p, "an exponent");
            if (ex && c == '-')
                ex = gl_mk1(p, GN_NEG, ex);
        } else if (is_digit(c)) {
            /* 2^10: TeX would set 2^1 0, but a writer means 1024; a digit run is the exponent */
            size_t d0 = p->i;
            while (p->i < p->end && is_digit(p->s[p->i]))
                p->i++;
            ex = gl_sub_parse(p, d0, p->i, 0);
        } else {
            ex = gl_arg_expr(p, "an exponent");
        }
        if (!ex) {
            b = NULL;
            break;
        }
        /* a unit squared is still a unit */
        b = b->k == GN_TEXT ? b : gl_mk2(p, GN_POW, b, ex);
        while (b && (gl_peek(p) == '!' || gl_peek(p) == '%')) {
            int pct = p->s[p->i] == '%';
            p->i++;
            b = gl_mk1(p, pct ? GN_PERCENT : GN_FACT, b);
        }
    }
    p->depth--;
    return b;
}

/* Words that separate list items: "and", "or" (also \text{ and }, \land,
 * \lor); *kind (may be NULL) gets LIST_AND or LIST_OR. */
static size_t sep_word_kind(P *p, int *kind) {
    gl_ws(p);
    const char *s = p->s + p->i;
    size_t left = p->end - p->i;
    int k_ = 0;
    if (!kind)
        kind = &k_;
    if (left >= 3 && !strncmp(s, "and", 3) && (left == 3 || !is_letter(s[3])))
        return *kind = LIST_AND, 3;
    if (left >= 2 && !strncmp(s, "or", 2) && (left == 2 || !is_letter(s[2])))
        return *kind = LIST_OR, 2;
    static const char *const logic[] = {"\\land", "\\wedge", "\\lor", "\\vee", NULL};
    for (int j = 0; logic[j]; j++) {
        size_t ll = strlen(logic[j]);
        if (left >= ll && !strncmp(s, logic[j], ll) && (left == ll || !is_letter(s[ll])))
            return *kind = j < 2 ? LIST_AND : LIST_OR, ll;
    }
    /* \text{ and }, \text{or}, \mbox{ and } */
    static const char *const tx[] = {"\\text{", "\\mbox{", "\\textrm{", "\\textnormal{", NULL};
    for (const char *const *t = tx; *t; t++) {
        size_t tl = strlen(*t);
        if (left > tl && !strncmp(s, *t, tl)) {
            size_t k = tl;
            while (k < left && s[k] == ' ')
                k++;
            size_t w = (left - k >= 3 && !strncmp(s + k, "and", 3))  ? 3
                       : (left - k >= 2 && !strncmp(s + k, "or", 2)) ? 2
                                                                     : 0;
            if (!w)
                continue;
            *kind = w == 3 ? LIST_AND : LIST_OR;
            k += w;
            while (k < left && (s[k] == ' ' || s[k] == ','))
                k++;
            if (k < left && s[k] == '}')
                return k + 1;
        }
    }
    return 0;
}

static size_t sep_word(P *p) {
    return sep_word_kind(p, NULL);
}

/* Can a factor start here (implicit multiplication)? */
static int starts_factor(P *p) {
    char c = gl_peek(p);
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
    const char *nm = gl_cmd_name(p, &len);
    if (sep_word(p))
        return 0;
    static const char *const no[] = {"cdot",    "times",      "div",    "le",    "ge",   "ne",       "in",
                                     "cup",     "cap",        "pm",     "mp",    "end",  "}",        "\\",
                                     "approx",  "equiv",      "rfloor", "rceil", "to",   "setminus", "right",
                                     "implies", "Rightarrow", "iff",    "sim",   "cong", NULL};
    if (gl_word_in(nm, len, no))
        return 0;
    if (p->func_arg && gl_word_in(nm, len, gl_func_names))
        return 0;
    return 1;
}

gnode *gl_term(P *p) {
    gnode *f = gl_factor(p);
    if (!f)
        return NULL;
    gnode *items[64];
    int n = 0;
    items[n++] = f;
    for (;;) {
        char c = gl_peek(p);
        int div = 0, explicit_op = 0;
        if (c == '*' || gl_at_cmd(p, "cdot") || gl_at_cmd(p, "times")) {
            if (p->func_arg)
                break;
            p->i += c == '*' ? 1 : (gl_at_cmd(p, "cdot") ? 5 : 6);
            explicit_op = 1;
        } else if (c == '/' || c == ':' || gl_at_cmd(p, "div")) {
            /* a ratio 3:1 reads as the quotient 3/1 */
            if (p->func_arg)
                break;
            p->i += (c == '/' || c == ':') ? 1 : 4;
            div = explicit_op = 1;
        } else if (!starts_factor(p)) {
            break;
        }
        gnode *g = gl_factor(p);
        if (!g)
            return NULL;
        if (div) {
            /* a/b binds to the product so far: 1/2x is (1/2)x as typed */
            gnode *acc = n == 1 ? items[0] : NULL;
            if (!acc) {
                acc = gl_mk(p, GN_MUL, n);
                if (!acc)
                    return NULL;
                memcpy(acc->kid, items, sizeof(gnode *) * (size_t)n);
            }
            items[0] = gl_mk2(p, GN_DIV, acc, g);
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
            return gl_fail(p, "a product of more than 64 factors");
        items[n++] = g;
    }
    if (n == 1)
        return items[0];
    gnode *m = gl_mk(p, GN_MUL, n);
    if (m)
        memcpy(m->kid, items, sizeof(gnode *) * (size_t)n);
    return m;
}

gnode *gl_sum(P *p) {
    gnode *acc = NULL;
    char c = gl_peek(p);
    if (c == '-' || c == '+') {
        p->i++;
        gnode *t = gl_term(p);
        if (!t)
            return NULL;
        acc = c == '-' ? gl_mk1(p, GN_NEG, t) : t;
    } else if (gl_at_cmd(p, "pm") || gl_at_cmd(p, "mp")) {
        int sign = gl_at_cmd(p, "pm") ? 1 : -1;
        p->i += 3;
        gnode *t = gl_term(p);
        if (!t)
            return NULL;
        acc = gl_mk2(p, GN_PM, NULL, t);
        if (acc)
            acc->op = sign;
    } else {
        acc = gl_term(p);
    }
    while (acc) {
        c = gl_peek(p);
        int sign;
        if (c == '+' || c == '-') {
            sign = c == '-' ? -1 : 1;
            p->i++;
        } else if (gl_at_cmd(p, "pm") || gl_at_cmd(p, "mp")) {
            sign = gl_at_cmd(p, "pm") ? 2 : -2;
            p->i += 3;
        } else {
            break;
        }
        gnode *t = gl_term(p);
        if (!t)
            return NULL;
        if (sign == 2 || sign == -2) {
            acc = gl_mk2(p, GN_PM, acc, t);
            if (acc)
                acc->op = sign / 2;
            continue;
        }
        if (sign < 0 && !(t = gl_mk1(p, GN_NEG, t)))
            return NULL;
        if (acc->k == GN_ADD) {
            gnode *g = gl_mk(p, GN_ADD, acc->n + 1);
            if (!g)
                return NULL;
            memcpy(g->kid, acc->kid, sizeof(gnode *) * (size_t)acc->n);
            g->kid[acc->n] = t;
            acc = g;
        } else {
            acc = gl_mk2(p, GN_ADD, acc, t);
        }
    }
    return acc;
}

static gnode *p_set(P *p) {
    gnode *a = gl_sum(p);
    while (a) {
        gkind k;
        if (gl_eat_cmd(p, "cup")) {
            k = GN_UNION;
        } else if (gl_peek(p) == 'U' && p->i + 1 < p->end && p->s[p->i + 1] == ' ') {
            k = GN_UNION;
            p->i++;
        } else if (gl_eat_cmd(p, "cap")) {
            k = GN_INTER;
        } else {
            break;
        }
        gnode *b = gl_sum(p);
        if (!b)
            return NULL;
        if (a->k == k) {
            gnode *g = gl_mk(p, k, a->n + 1);
            if (!g)
                return NULL;
            memcpy(g->kid, a->kid, sizeof(gnode *) * (size_t)a->n);
            g->kid[a->n] = b;
            a = g;
        } else {
            a = gl_mk2(p, k, a, b);
        }
    }
    return a;
}

static int rel_op(P *p) {
    char c = gl_peek(p);
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
    if (gl_eat_cmd(p, "le"))
        return REL_LE;
    if (gl_eat_cmd(p, "ge"))
        return REL_GE;
    if (gl_eat_cmd(p, "ne"))
        return REL_NE;
    if (gl_eat_cmd(p, "in"))
        return REL_IN;
    if (gl_eat_cmd(p, "approx") || gl_eat_cmd(p, "equiv") || gl_eat_cmd(p, "cong"))
        return REL_EQ;
    return -1;
}

gnode *gl_item(P *p) {
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
            return gl_fail(p, "a chain of more than 16 relations");
        gnode *r = gl_mk2(p, GN_REL, a, b);
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
    gnode *g = gl_mk(p, GN_AND, n);
    if (g)
        memcpy(g->kid, rels, sizeof(gnode *) * (size_t)n);
    return g;
}

/* Items separated by , ; and or, until one of closers (or the end).
 * *closed receives the closer met (0 at the end); a one-item list is the item. */
gnode *gl_list_until(P *p, const char *closers, char *closed) {
    gnode *items[TKD_GRADE_MAX_ITEMS];
    int n = 0, seps = 0, kind = 0;
    if (closed)
        *closed = 0;
    for (;;) {
        char c = gl_peek(p);
        if (c == '\0')
            break;
        if (*closers && strchr(closers, c) && c != '}')
            break;
        if (strchr(closers, '}') && gl_at_cmd(p, "}"))
            break;
        if (c == ',' || c == ';') { /* an empty item: "1,,2" or a trailing comma */
            p->i++;
            continue;
        }
        if (c == '.' && p->i + 3 <= p->end && !strncmp(p->s + p->i, "...", 3)) {
            p->i += 3; /* 1, 2, \ldots: the ellipsis is kept out */
            continue;
        }
        if (c == '.' && (p->i + 1 == p->end || strchr(" }", p->s[p->i + 1]))) {
            p->i++; /* a full stop ending a sentence: {5.} */
            continue;
        }
        if (n == 0 && (c == '=' || gl_at_cmd(p, "approx"))) {
            p->i += c == '=' ? 1 : 7; /* "= 5", "\approx 8.24": the value */
            continue;
        }
        size_t sw = sep_word_kind(p, &kind);
        if (sw) {
            p->i += sw;
            seps |= kind;
            continue;
        }
        if (n == TKD_GRADE_MAX_ITEMS)
            return gl_fail(p, "more than 256 items in a list");
        gnode *it = gl_item(p);
        if (!it)
            return NULL;
        items[n++] = it;
        c = gl_peek(p);
        if (c == ',' || c == ';') {
            p->i++;
        } else if ((sw = sep_word_kind(p, &kind))) {
            p->i += sw;
            seps |= kind;
        } else if (c == '\0' || (*closers && strchr(closers, c) && c != '}') ||
                   (strchr(closers, '}') && gl_at_cmd(p, "}")) ||
                   (c == '.' && (p->i + 1 == p->end || strchr(" }", p->s[p->i + 1])))) {
            continue;
        } else {
            return gl_fail(p, "an operator or the end of the answer");
        }
    }
    if (*closers) {
        char c = gl_peek(p);
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
        return gl_fail(p, "a value");
    if (n == 1)
        return items[0];
    gnode *g = gl_mk(p, GN_LIST, n);
    if (g) {
        memcpy(g->kid, items, sizeof(gnode *) * (size_t)n);
        g->op = seps; /* LIST_AND, LIST_OR, both (LIST_MIXED) or 0 (commas only) */
    }
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
            if (k - w >= 3 && !gl_word_in(s + w, k - w, gl_func_names) && !gl_word_in(s + w, k - w, mathwords))
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
    gnode *g = gl_list_until(&p, "", NULL);
    if (g && gl_peek(&p) != '\0')
        g = gl_fail(&p, "unexpected text");
    if (!g)
        return p.e->code ? p.e->code : TKD_EINVAL;
    *out = g;
    return 0;
}
