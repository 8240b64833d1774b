/*
 * expr parser: SymPy syntax (what the teacher writes in tool arguments) into
 * the AST, by recursive descent with a depth counter so that deep nesting is
 * a clear TKD_ELIMIT, never a stack overflow. Grammar, loosest first:
 *   top    := rel ('=' rel)?                a = b -> a - (b), or Eq with a flag
 *   rel    := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum)?
 *   sum    := term (('+'|'-'|'±') term)*
 *   term   := unary (('*'|'/') unary)*
 *   unary  := ('-'|'+'|'±') unary | power
 *   power  := postfix (('**'|'^') unary)?    right-associative; -2**2 = -(2**2)
 *   postfix:= atom '!'*
 *   atom   := number | name | name '(' args ')' | '(' expr ')' | '(' a, b ')'
 *           | '[' args ']' | '{' args '}'
 * A few Unicode signs are read as their ASCII meaning (× ÷ − π ≤ ≥ ≠ ±).
 */
#include "parse_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unicode signs we accept, with the ASCII text they stand for. */
static const struct {
    const char *utf8, *ascii;
} uni[] = {{"\xc3\x97", "*"},        {"\xc3\xb7", "/"},
           {"\xe2\x88\x92", "-"},    {"\xcf\x80", "pi"},
           {"\xe2\x89\xa4", "<="},   {"\xe2\x89\xa5", ">="},
           {"\xe2\x89\xa0", "!="},   {"\xe2\x88\x9e", "oo"},
           {"\xc2\xb1", "\xc2\xb1"}, {NULL, NULL}};

static void skip_ws(parser *p) {
    while (p->pos < p->len &&
           (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

/* The next token's text as an ASCII operator ("**", "<=", "(", "±" ...), or
 * "" at the end. Unicode signs map to their ASCII text. *n gets its length. */
static const char *peek_op(parser *p, size_t *n) {
    skip_ws(p);
    *n = 0;
    if (p->pos >= p->len)
        return "";
    const char *c = p->s + p->pos;
    size_t left = p->len - p->pos;
    static const char *two[] = {"**", "<=", ">=", "==", "!=", NULL};
    for (int i = 0; two[i]; i++)
        if (left >= 2 && c[0] == two[i][0] && c[1] == two[i][1]) {
            *n = 2;
            return two[i];
        }
    for (int i = 0; uni[i].utf8; i++) {
        size_t k = strlen(uni[i].utf8);
        if (left >= k && !memcmp(c, uni[i].utf8, k)) {
            *n = k;
            return uni[i].ascii;
        }
    }
    static const char one[] = "+-*/^()[]{},<>=!.";
    const char *f = memchr(one, c[0], sizeof one - 1);
    if (f) {
        static const char *single[] = {"+", "-", "*", "/", "^", "(", ")", "[", "]",
                                       "{", "}", ",", "<", ">", "=", "!", "."};
        *n = 1;
        return single[f - one];
    }
    return NULL; /* a number, a name, or a bad character */
}

static int accept(parser *p, const char *op) {
    size_t n;
    const char *t = peek_op(p, &n);
    if (t && !strcmp(t, op)) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static int bad_here(parser *p) {
    skip_ws(p);
    if (p->pos >= p->len)
        return tkd_px_fail(p, TKD_EINVAL, p->pos, "unexpected end of input; is an operand or a ')' missing?");
    unsigned char c = (unsigned char)p->s[p->pos];
    char tok[8] = {0};
    if (c >= 0x80) {
        size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (k > p->len - p->pos)
            k = p->len - p->pos;
        memcpy(tok, p->s + p->pos, k);
        return tkd_px_fail(p, TKD_EINVAL, p->pos, "unexpected character '%s'; write math in ASCII SymPy syntax", tok);
    }
    if (c == ')' || c == ']' || c == '}')
        return tkd_px_fail(p, TKD_EINVAL, p->pos, "unexpected '%c'; the brackets are unbalanced", c);
    if (c < 0x20 || c == 0x7f)
        return tkd_px_fail(p, TKD_EINVAL, p->pos, "unexpected control character");
    tok[0] = (char)c;
    return tkd_px_fail(p, TKD_EINVAL, p->pos, "unexpected '%s'", tok);
}

static int enter(parser *p) {
    if (++p->depth > TKD_EXPR_MAX_DEPTH)
        return tkd_err_set(p->e, TKD_ELIMIT,
                           "expression nested deeper than TKD_EXPR_MAX_DEPTH (%d) at column %zu; simplify the input",
                           TKD_EXPR_MAX_DEPTH, p->pos + 1);
    return 0;
}

static int parse_top(parser *p, tkd_expr **out);
static int parse_sum(parser *p, tkd_expr **out);
static int parse_unary(parser *p, tkd_expr **out);

/* ---- atoms ---- */

/* Parse "a, b, ...)" up to the closing bracket; *trailing set if "a," */
static int parse_args(parser *p, const char *close, tkd_expr ***out, size_t *nout, int *trailing) {
    size_t n = 0, cap = 0;
    tkd_expr **v = NULL;
    int rc = 0;
    *trailing = 0;
    if (accept(p, close))
        goto ok;
    for (;;) {
        if (n == TKD_EXPR_MAX_TERMS) {
            rc = tkd_err_set(p->e, TKD_ELIMIT, "more than TKD_EXPR_MAX_TERMS (%d) elements at column %zu",
                             TKD_EXPR_MAX_TERMS, p->pos + 1);
            goto err;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 4;
            tkd_expr **nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                rc = tkd_px_nomem(p);
                goto err;
            }
            v = nv;
        }
        /* keyword arguments (evaluate=False) are Python, not math */
        skip_ws(p);
        size_t k = p->pos;
        while (k < p->len && (isalnum((unsigned char)p->s[k]) || p->s[k] == '_'))
            k++;
        if (k > p->pos && !isdigit((unsigned char)p->s[p->pos])) {
            size_t j = k;
            while (j < p->len && p->s[j] == ' ')
                j++;
            if (j < p->len && p->s[j] == '=' && (j + 1 >= p->len || p->s[j + 1] != '=')) {
                rc = tkd_px_fail(p, TKD_EINVAL, p->pos, "keyword arguments are not supported; pass values only");
                goto err;
            }
        }
        if ((rc = parse_top(p, &v[n])))
            goto err;
        n++;
        if (accept(p, close))
            break;
        if (!accept(p, ",")) {
            size_t m;
            const char *t = peek_op(p, &m);
            if (t && *t && strchr(")]}", *t))
                rc = tkd_px_fail(p, TKD_EINVAL, p->pos, "unexpected '%s'; expected '%s' (brackets do not match)", t,
                                 close);
            else if (!t || !*t)
                rc = bad_here(p);
            else
                rc = tkd_px_fail(p, TKD_EINVAL, p->pos, "unexpected '%s'; expected ',' or '%s'", t, close);
            goto err;
        }
        if (accept(p, close)) {
            *trailing = 1;
            break;
        }
    }
ok:
    *out = v;
    *nout = n;
    return 0;
err:
    tkd_px_free_args(n, v);
    return rc;
}

static int parse_name(parser *p, tkd_expr **out) {
    size_t start = p->pos, i = p->pos;
    while (i < p->len && (isalnum((unsigned char)p->s[i]) || p->s[i] == '_'))
        i++;
    char name[72];
    size_t nl = i - start;
    if (nl >= 64)
        return tkd_err_set(p->e, TKD_ELIMIT, "name at column %zu is longer than 63 characters", start + 1);
    memcpy(name, p->s + start, nl);
    name[nl] = 0;
    p->pos = i;
    /* Interval.open and friends: the only dotted names we read */
    if (!strcmp(name, "Interval") && p->pos < p->len && p->s[p->pos] == '.') {
        size_t j = p->pos + 1, k = j;
        while (k < p->len && isalpha((unsigned char)p->s[k]))
            k++;
        if (k - j < 8) {
            char sub[8] = {0};
            memcpy(sub, p->s + j, k - j);
            if (!strcmp(sub, "open") || !strcmp(sub, "Lopen") || !strcmp(sub, "Ropen")) {
                snprintf(name, sizeof name, "Interval.%s", sub);
                p->pos = k;
            }
        }
    }
    if (p->pos < p->len && p->s[p->pos] == '.')
        return tkd_px_fail(p, TKD_EINVAL, p->pos, "unexpected '.' after '%s'; method calls are not supported", name);
    static const char *bad[] = {"nan", "NaN", "zoo", "inf", "Inf", "infinity", "Infinity", NULL};
    for (int k = 0; bad[k]; k++)
        if (!strcmp(name, bad[k]))
            return tkd_px_fail(p, TKD_EINVAL, start, "'%s' is not a number tkd accepts (write oo for infinity)", name);
    static const char *kw[] = {"lambda", "and",    "or",  "not",    "if",    "else", "for",  "in",   "is",
                               "None",   "import", "def", "return", "while", "del",  "from", "with", NULL};
    for (int k = 0; kw[k]; k++)
        if (!strcmp(name, kw[k]))
            return tkd_px_fail(p, TKD_EINVAL, start, "'%s' is Python, not math", name);
    if (accept(p, "(")) {
        tkd_expr **v;
        size_t n;
        int trailing;
        int rc = parse_args(p, ")", &v, &n, &trailing);
        if (rc)
            return rc;
        return tkd_px_call(p, start, name, n, v, out);
    }
    static const struct {
        const char *name;
        tkd_expr_const_id id;
    } consts[] = {{"pi", TKD_C_PI},     {"E", TKD_C_E},         {"I", TKD_C_I},  {"oo", TKD_C_OO},
                  {"True", TKD_C_TRUE}, {"False", TKD_C_FALSE}, {NULL, TKD_C_PI}};
    for (int k = 0; consts[k].name; k++)
        if (!strcmp(name, consts[k].name)) {
            *out = tkd_expr_const(consts[k].id);
            return *out ? 0 : tkd_px_nomem(p);
        }
    *out = tkd_expr_sym(name);
    return *out ? 0 : tkd_px_nomem(p);
}

static int parse_atom(parser *p, tkd_expr **out) {
    skip_ws(p);
    if (p->pos >= p->len)
        return bad_here(p);
    unsigned char c = (unsigned char)p->s[p->pos];
    if (isdigit(c) || (c == '.' && p->pos + 1 < p->len && isdigit((unsigned char)p->s[p->pos + 1])))
        return tkd_px_number(p, out);
    if (isalpha(c) || c == '_')
        return parse_name(p, out);
    size_t n;
    const char *t = peek_op(p, &n);
    if (t && !strcmp(t, "pi")) {
        p->pos += n;
        return (*out = tkd_expr_const(TKD_C_PI)) ? 0 : tkd_px_nomem(p);
    }
    if (t && !strcmp(t, "oo")) {
        p->pos += n;
        return (*out = tkd_expr_const(TKD_C_OO)) ? 0 : tkd_px_nomem(p);
    }
    const char *close = NULL;
    tkd_expr_kind kind = TKD_EX_TUPLE;
    if (t && !strcmp(t, "("))
        close = ")";
    else if (t && !strcmp(t, "["))
        close = "]", kind = TKD_EX_LIST;
    else if (t && !strcmp(t, "{"))
        close = "}", kind = TKD_EX_SET;
    if (!close)
        return bad_here(p);
    p->pos += n;
    tkd_expr **v;
    size_t cnt;
    int trailing;
    int rc = parse_args(p, close, &v, &cnt, &trailing);
    if (rc)
        return rc;
    if (kind == TKD_EX_TUPLE && cnt == 1 && !trailing) {
        *out = v[0];
        free(v);
        return 0;
    }
    *out = tkd_expr_seq(kind, cnt, v);
    free(v);
    return *out ? 0 : tkd_px_nomem(p);
}

static int parse_postfix(parser *p, tkd_expr **out) {
    int rc = parse_atom(p, out);
    if (rc)
        return rc;
    for (;;) {
        size_t n;
        const char *t = peek_op(p, &n);
        /* '!' but not '!=' */
        if (!t || strcmp(t, "!"))
            break;
        p->pos += n;
        if (!(*out = tkd_expr_fn1(TKD_FN_FACTORIAL, *out)))
            return tkd_px_nomem(p);
    }
    return 0;
}

static int parse_power(parser *p, tkd_expr **out) {
    int rc = parse_postfix(p, out);
    if (rc)
        return rc;
    if (accept(p, "**") || accept(p, "^")) {
        if ((rc = enter(p))) {
            tkd_expr_free(*out);
            *out = NULL;
            return rc;
        }
        tkd_expr *ex;
        if ((rc = parse_unary(p, &ex))) {
            tkd_expr_free(*out);
            *out = NULL;
            return rc;
        }
        p->depth--;
        if (!(*out = tkd_expr_pow(*out, ex)))
            return tkd_px_nomem(p);
    }
    return 0;
}

static int parse_unary(parser *p, tkd_expr **out) {
    size_t n;
    const char *t = peek_op(p, &n);
    *out = NULL;
    if (t && (!strcmp(t, "-") || !strcmp(t, "+") || !strcmp(t, "\xc2\xb1"))) {
        p->pos += n;
        int rc;
        if ((rc = enter(p)))
            return rc;
        tkd_expr *a;
        if ((rc = parse_unary(p, &a)))
            return rc;
        p->depth--;
        if (t[0] == '-')
            *out = tkd_expr_neg(a);
        else if (t[0] == '+')
            *out = a;
        else
            *out = tkd_expr_pm(NULL, a);
        return *out ? 0 : tkd_px_nomem(p);
    }
    return parse_power(p, out);
}

/* A growable array of owned nodes, for the n-ary chains. */
typedef struct {
    tkd_expr **v;
    size_t n, cap;
} chain;

static int chain_push(parser *p, chain *c, tkd_expr *x) {
    if (!x)
        return tkd_px_nomem(p);
    if (c->n == TKD_EXPR_MAX_TERMS) {
        tkd_expr_free(x);
        return tkd_err_set(p->e, TKD_ELIMIT, "more than TKD_EXPR_MAX_TERMS (%d) terms at column %zu",
                           TKD_EXPR_MAX_TERMS, p->pos + 1);
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 4;
        tkd_expr **v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            tkd_expr_free(x);
            return tkd_px_nomem(p);
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = x;
    return 0;
}

static void chain_free(chain *c) {
    tkd_px_free_args(c->n, c->v);
}

static int parse_term(parser *p, tkd_expr **out) {
    chain c = {0};
    tkd_expr *x;
    int rc = parse_unary(p, &x);
    if (rc || (rc = chain_push(p, &c, x)))
        goto err;
    for (;;) {
        int div;
        if (accept(p, "*"))
            div = 0;
        else if (accept(p, "/"))
            div = 1;
        else
            break;
        if ((rc = parse_unary(p, &x)))
            goto err;
        if ((rc = chain_push(p, &c, div ? tkd_expr_pow(x, tkd_expr_int(-1)) : x)))
            goto err;
    }
    *out = tkd_expr_mul(c.n, c.v);
    free(c.v);
    return *out ? 0 : tkd_px_nomem(p);
err:
    chain_free(&c);
    return rc;
}

static int parse_sum(parser *p, tkd_expr **out) {
    chain c = {0};
    tkd_expr *x, *pm_left = NULL;
    int rc = parse_term(p, &x);
    if (rc || (rc = chain_push(p, &c, x)))
        goto err;
    for (;;) {
        size_t n;
        const char *t = peek_op(p, &n);
        if (!t || (strcmp(t, "+") && strcmp(t, "-") && strcmp(t, "\xc2\xb1")))
            break;
        p->pos += n;
        if ((rc = parse_term(p, &x)))
            goto err;
        if (t[0] == '+') {
            rc = chain_push(p, &c, x);
        } else if (t[0] == '-') {
            rc = chain_push(p, &c, tkd_expr_neg(x));
        } else {
            /* a ± b: everything so far is the left side */
            tkd_expr *left = tkd_expr_add(c.n, c.v);
            c.n = 0;
            if (!left) {
                tkd_expr_free(x);
                rc = tkd_px_nomem(p);
                goto err;
            }
            rc = chain_push(p, &c, tkd_expr_pm(left, x));
        }
        if (rc)
            goto err;
    }
    (void)pm_left;
    *out = tkd_expr_add(c.n, c.v);
    free(c.v);
    return *out ? 0 : tkd_px_nomem(p);
err:
    chain_free(&c);
    return rc;
}

static int parse_rel(parser *p, tkd_expr **out) {
    tkd_expr *a = NULL, *b = NULL;
    int rc = parse_sum(p, &a);
    if (rc)
        return rc;
    static const struct {
        const char *op;
        tkd_expr_rel_op r;
    } ops[] = {{"<=", TKD_R_LE}, {">=", TKD_R_GE}, {"==", TKD_R_EQ}, {"!=", TKD_R_NE},
               {"<", TKD_R_LT},  {">", TKD_R_GT},  {NULL, TKD_R_EQ}};
    size_t n;
    const char *t = peek_op(p, &n);
    for (int i = 0; t && ops[i].op; i++)
        if (!strcmp(t, ops[i].op)) {
            p->pos += n;
            if ((rc = parse_sum(p, &b))) {
                tkd_expr_free(a);
                return rc;
            }
            *out = tkd_expr_rel(ops[i].r, a, b);
            if (!*out)
                return tkd_px_nomem(p);
            t = peek_op(p, &n);
            if (t && (t[0] == '<' || t[0] == '>' || !strcmp(t, "==") || !strcmp(t, "!="))) {
                tkd_expr_free(*out);
                *out = NULL;
                return tkd_px_fail(p, TKD_EINVAL, p->pos,
                                   "chained relation '%s'; write two relations, e.g. [a < b, b < c]", t);
            }
            return 0;
        }
    *out = a;
    return 0;
}

static int parse_top(parser *p, tkd_expr **out) {
    tkd_expr *a = NULL, *b = NULL;
    int rc;
    *out = NULL;
    if ((rc = enter(p)))
        return rc;
    if ((rc = parse_rel(p, &a)))
        return rc;
    size_t n;
    const char *t = peek_op(p, &n);
    if (t && !strcmp(t, "=")) {
        p->pos += n;
        if ((rc = parse_rel(p, &b))) {
            tkd_expr_free(a);
            return rc;
        }
        if (p->flags & TKD_EXPR_PARSE_EQ_REL)
            *out = tkd_expr_rel(TKD_R_EQ, a, b);
        else
            *out = tkd_expr_sub(a, b);
        if (!*out)
            return tkd_px_nomem(p);
        t = peek_op(p, &n);
        if (t && !strcmp(t, "=")) {
            tkd_expr_free(*out);
            *out = NULL;
            return tkd_px_fail(p, TKD_EINVAL, p->pos, "a second '='; write one equation per expression");
        }
    } else {
        *out = a;
    }
    p->depth--;
    return 0;
}

int tkd_expr_parse(const char *src, size_t len, unsigned flags, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    if (!src)
        return tkd_err_set(e, TKD_EINVAL, "no expression given");
    if (len > TKD_EXPR_MAX_INPUT)
        return tkd_err_set(e, TKD_ELIMIT, "expression of %zu bytes is longer than TKD_EXPR_MAX_INPUT (%d bytes)", len,
                           TKD_EXPR_MAX_INPUT);
    if (memchr(src, 0, len))
        return tkd_err_set(e, TKD_EINVAL, "expression contains a NUL byte at byte %zu",
                           (size_t)((const char *)memchr(src, 0, len) - src));
    if (!tkd_text_utf8_valid(src, len))
        return tkd_err_set(e, TKD_EINVAL, "expression is not valid UTF-8");
    parser p = {src, len, 0, 0, flags, e};
    skip_ws(&p);
    if (p.pos == len)
        return tkd_err_set(e, TKD_EINVAL, "empty expression; write one, e.g. x**2 + 1");
    tkd_expr *x;
    int rc = parse_top(&p, &x);
    if (rc)
        return rc;
    skip_ws(&p);
    if (p.pos < len) {
        tkd_expr_free(x);
        char c = p.s[p.pos];
        if (c == '(')
            return tkd_px_fail(&p, TKD_EINVAL, p.pos,
                               "unexpected '('; did you mean '*(' (implicit multiplication "
                               "is not supported)?");
        if (isalnum((unsigned char)c) || c == '_' || c == '.')
            return tkd_px_fail(&p, TKD_EINVAL, p.pos, "unexpected '%c'; is an operator such as '*' missing?", c);
        return bad_here(&p);
    }
    *out = x;
    return 0;
}

int tkd_expr_parse_str(const char *src, tkd_expr **out, tkd_err *e) {
    return tkd_expr_parse(src, src ? strlen(src) : 0, 0, out, e);
}
