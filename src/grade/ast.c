/*
 * The answer tree's memory and printing. Every node of one parse lives in an
 * arena of chunks, so a tree is freed at once and a grading costs a handful
 * of mallocs (the 20,000 gradings/s target).
 */
#include "gnode.h"

#include <stdlib.h>
#include <string.h>

#define GA_CHUNK 4096
#define GA_MAX_TOTAL (64u << 20) /* one answer may not take more than 64 MiB */

struct gchunk {
    struct gchunk *next;
    size_t cap, used;
    max_align_t data[];
};

void *ga_alloc(garena *a, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct gchunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > GA_CHUNK ? n : GA_CHUNK;
        if (a->used_total + cap > GA_MAX_TOTAL)
            return NULL;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
        a->used_total += cap;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *ga_strndup(garena *a, const char *s, size_t n) {
    char *p = ga_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void ga_free(garena *a) {
    struct gchunk *c = a->head;
    while (c) {
        struct gchunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

gnode *gn_new(garena *a, gkind k, int n) {
    gnode *g = ga_alloc(a, sizeof *g);
    if (!g)
        return NULL;
    g->k = k;
    g->n = n;
    g->places = -1;
    if (n > 0 && !(g->kid = ga_alloc(a, sizeof(gnode *) * (size_t)n)))
        return NULL;
    return g;
}

gnode *gn_clone(garena *a, const gnode *src) {
    if (!src)
        return NULL;
    gnode *g = gn_new(a, src->k, src->n);
    if (!g)
        return NULL;
    gnode **kids = g->kid;
    *g = *src;
    g->arena = NULL;
    g->kid = kids;
    for (int i = 0; i < src->n; i++)
        if (src->kid[i] && !(g->kid[i] = gn_clone(a, src->kid[i])))
            return NULL;
    return g;
}

void tkd_grade_node_free(tkd_gnode *n) {
    if (!n || !n->arena)
        return;
    garena *a = n->arena;
    ga_free(a);
    free(a);
}

int tkd_grade_parse_latex(const char *text, tkd_gnode **out, tkd_err *e) {
    *out = NULL;
    garena *a = calloc(1, sizeof *a);
    if (!a)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory parsing an answer");
    gnode *g = NULL;
    int rc = grade_parse(a, text, &g, e);
    if (rc) {
        ga_free(a);
        free(a);
        return rc;
    }
    g->arena = a;
    *out = g;
    return 0;
}

static const char *rel_name(int op) {
    static const char *w[] = {"=", "!=", "<", "<=", ">", ">=", " in "};
    return (op >= 0 && op <= REL_IN) ? w[op] : "?";
}

static int print_kids(const gnode *n, tkd_buf *b, const char *sep) {
    int rc = 0;
    for (int i = 0; i < n->n && !rc; i++) {
        if (i)
            rc |= tkd_buf_puts(b, sep);
        rc |= tkd_grade_node_print(n->kid[i], b);
    }
    return rc;
}

int tkd_grade_node_print(const tkd_gnode *n, tkd_buf *b) {
    if (!n)
        return tkd_buf_puts(b, "_");
    int rc = 0;
    switch (n->k) {
    case GN_NUM: {
        /* leading zeros are not part of the value: 05 prints as 5, 007.50 as 7.50 */
        const char *d = n->str;
        size_t keep = n->places > 0 ? (size_t)n->places + 1 : 1;
        while (d[0] == '0' && strlen(d) > keep)
            d++;
        if (n->places > 0) {
            size_t len = strlen(d), p = (size_t)n->places;
            if (len <= p) {
                rc |= tkd_buf_puts(b, "0.");
                for (size_t i = len; i < p; i++)
                    rc |= tkd_buf_putc(b, '0');
                rc |= tkd_buf_puts(b, d);
            } else {
                rc |= tkd_buf_append(b, d, len - p);
                rc |= tkd_buf_putc(b, '.');
                rc |= tkd_buf_puts(b, d + len - p);
            }
        } else {
            rc |= tkd_buf_puts(b, d);
        }
        return rc;
    }
    case GN_BASENUM: return tkd_buf_printf(b, "%s_%d", n->str, n->places);
    case GN_SYM: return tkd_buf_puts(b, n->str);
    case GN_CONST: return tkd_buf_puts(b, n->str);
    case GN_TEXT: return tkd_buf_printf(b, "\"%s\"", n->str);
    case GN_ADD:
    case GN_MUL:
    case GN_UNION:
    case GN_INTER:
        rc |= tkd_buf_putc(b, '(');
        rc |= print_kids(n, b, n->k == GN_ADD ? "+" : n->k == GN_MUL ? "*" : n->k == GN_UNION ? " U " : " & ");
        return rc | tkd_buf_putc(b, ')');
    case GN_NEG:
        rc |= tkd_buf_puts(b, "(-");
        rc |= tkd_grade_node_print(n->kid[0], b);
        return rc | tkd_buf_putc(b, ')');
    case GN_DIV:
    case GN_POW:
        rc |= tkd_buf_putc(b, '(');
        rc |= tkd_grade_node_print(n->kid[0], b);
        rc |= tkd_buf_puts(b, n->k == GN_DIV ? "/" : "^");
        rc |= tkd_grade_node_print(n->kid[1], b);
        return rc | tkd_buf_putc(b, ')');
    case GN_FUNC:
        rc |= tkd_buf_printf(b, "%s(", n->str);
        rc |= print_kids(n, b, ",");
        return rc | tkd_buf_putc(b, ')');
    case GN_FACT: rc |= tkd_grade_node_print(n->kid[0], b); return rc | tkd_buf_putc(b, '!');
    case GN_PM:
        rc |= tkd_buf_putc(b, '(');
        if (n->kid[0])
            rc |= tkd_grade_node_print(n->kid[0], b);
        rc |= tkd_buf_puts(b, n->op > 0 ? "+-" : "-+");
        rc |= tkd_grade_node_print(n->kid[1], b);
        return rc | tkd_buf_putc(b, ')');
    case GN_REL:
        rc |= tkd_grade_node_print(n->kid[0], b);
        rc |= tkd_buf_puts(b, rel_name(n->op));
        return rc | tkd_grade_node_print(n->kid[1], b);
    case GN_AND: return print_kids(n, b, " and ");
    case GN_LIST: return print_kids(n, b, ", ");
    case GN_SET:
        rc |= tkd_buf_putc(b, '{');
        rc |= print_kids(n, b, ", ");
        return rc | tkd_buf_putc(b, '}');
    case GN_TUPLE:
        rc |= tkd_buf_putc(b, '(');
        rc |= print_kids(n, b, ", ");
        return rc | tkd_buf_puts(b, ",)");
    case GN_INTERVAL:
        rc |= tkd_buf_putc(b, n->lo_closed ? '[' : '(');
        rc |= print_kids(n, b, ", ");
        return rc | tkd_buf_putc(b, n->hi_closed ? ']' : ')');
    case GN_MATRIX:
        rc |= tkd_buf_printf(b, "Matrix%dx%d[", n->rows, n->cols);
        rc |= print_kids(n, b, ", ");
        return rc | tkd_buf_putc(b, ']');
    case GN_PERCENT: rc |= tkd_grade_node_print(n->kid[0], b); return rc | tkd_buf_putc(b, '%');
    }
    return rc;
}
