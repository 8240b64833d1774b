/*
 * The LaTeX parser's lexing layer: whitespace, commands ("\\frac"), one TeX
 * argument (a brace group, a command or one character), node constructors
 * that report out-of-memory once, and sub-parsers over an argument's span.
 */
#include "latex_p.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gnode *gl_fail(P *p, const char *what) {
    if (!p->failed) {
        p->failed = 1;
        size_t at = p->i < p->end ? p->i : p->end;
        tkd_err_set(p->e, TKD_EINVAL, "cannot parse answer at offset %zu ('%.12s'): %s", at, p->s + at, what);
    }
    return NULL;
}

gnode *gl_oom(P *p) {
    if (!p->failed) {
        p->failed = 1;
        tkd_err_set(p->e, TKD_ENOMEM, "out of memory (or over the answer size limit) while parsing");
    }
    return NULL;
}

gnode *gl_mk(P *p, gkind k, int n) {
    gnode *g = gn_new(p->a, k, n);
    return g ? g : gl_oom(p);
}

gnode *gl_mk2(P *p, gkind k, gnode *x, gnode *y) {
    gnode *g = gl_mk(p, k, 2);
    if (g) {
        g->kid[0] = x;
        g->kid[1] = y;
    }
    return g;
}

gnode *gl_mk1(P *p, gkind k, gnode *x) {
    gnode *g = gl_mk(p, k, 1);
    if (g)
        g->kid[0] = x;
    return g;
}

gnode *gl_mk_str(P *p, gkind k, const char *s, size_t n) {
    gnode *g = gl_mk(p, k, 0);
    if (g && !(g->str = ga_strndup(p->a, s, n)))
        return gl_oom(p);
    return g;
}

void gl_ws(P *p) {
    while (p->i < p->end && isspace((unsigned char)p->s[p->i]))
        p->i++;
}

char gl_peek(P *p) {
    gl_ws(p);
    return p->i < p->end ? p->s[p->i] : '\0';
}

/* At "\name" (not followed by a letter)? */
int gl_at_cmd(P *p, const char *name) {
    gl_ws(p);
    size_t n = strlen(name);
    return p->i + 1 + n <= p->end && p->s[p->i] == '\\' && !strncmp(p->s + p->i + 1, name, n) &&
           (p->i + 1 + n == p->end || !is_letter(p->s[p->i + 1 + n]));
}

int gl_eat_cmd(P *p, const char *name) {
    if (!gl_at_cmd(p, name))
        return 0;
    p->i += 1 + strlen(name);
    return 1;
}

/* The command name at p->i ("frac" for "\frac"); *len its length. */
const char *gl_cmd_name(P *p, size_t *len) {
    gl_ws(p);
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

int gl_name_is(const char *nm, size_t len, const char *w) {
    return nm && strlen(w) == len && !strncmp(nm, w, len);
}

/* Index just past the brace group at p->i, bounded by p->end; 0 if unbalanced. */
size_t gl_group_end(P *p, size_t at) {
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
int gl_read_arg(P *p, size_t *b, size_t *e) {
    gl_ws(p);
    if (p->i >= p->end)
        return 0;
    char c = p->s[p->i];
    if (c == '{') {
        size_t g = gl_group_end(p, p->i);
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
        gl_cmd_name(p, &len);
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
gnode *gl_sub_parse(P *p, size_t b, size_t e, int list) {
    if (p->depth >= TKD_GRADE_MAX_DEPTH)
        return gl_fail(p, "nested too deeply");
    P q = *p;
    q.i = b;
    q.end = e;
    q.depth = p->depth + 1;
    q.abs_depth = 0;
    q.func_arg = 0;
    gnode *g = list ? gl_list_until(&q, "", NULL) : gl_sum(&q);
    if (g && gl_peek(&q) != '\0')
        g = gl_fail(&q, "unexpected text after the expression");
    p->failed = q.failed;
    return g;
}

gnode *gl_arg_expr(P *p, const char *what) {
    size_t b, e;
    if (!gl_read_arg(p, &b, &e))
        return gl_fail(p, what);
    if (b == e)
        return gl_fail(p, "empty argument");
    return gl_sub_parse(p, b, e, 0);
}
