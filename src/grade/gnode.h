/*
 * grade's internal answer tree: node kinds, an arena that owns every node of
 * one parse (one free for the whole tree, which keeps grading fast), and the
 * evaluators shared by the parser, the comparer and the tests.
 */
#ifndef TKD_GRADE_GNODE_H
#define TKD_GRADE_GNODE_H

#include "tkd/core.h"
#include "tkd/grade.h"

#include <acb.h>
#include <fmpq.h>

typedef enum {
    GN_NUM,      /* str = digits without the point, places = digits after it */
    GN_BASENUM,  /* str = digits, places = base, rows = digits after the point (1011_2, 0.01_2) */
    GN_SYM,      /* str = name ("x", "x_1", "\alpha") */
    GN_CONST,    /* str = "pi" | "e" | "i" | "inf" */
    GN_ADD,      /* n-ary sum */
    GN_MUL,      /* n-ary product */
    GN_NEG,      /* -k[0] */
    GN_DIV,      /* k[0] / k[1] */
    GN_POW,      /* k[0] ^ k[1] */
    GN_FUNC,     /* str = name, kids = args; log has (arg, base); root has (arg, index) */
    GN_FACT,     /* k[0]! */
    GN_PM,       /* k[0] ± k[1] (k[0] may be NULL); op = +1 for \pm, -1 for \mp */
    GN_REL,      /* k[0] op k[1] */
    GN_AND,      /* chain of relations a < x < b */
    GN_LIST,     /* bare comma list (unordered); op: LIST_* words seen */
    GN_SET,      /* \{ ... \} */
    GN_TUPLE,    /* ( a, b, ... ) */
    GN_INTERVAL, /* lo, hi; lo_closed, hi_closed */
    GN_MATRIX,   /* rows x cols, row-major kids */
    GN_TEXT,     /* str = text content */
    GN_PERCENT,  /* k[0] % */
    GN_UNION,    /* k[0] \cup k[1] ... */
    GN_INTER     /* k[0] \cap k[1] ... */
} gkind;

enum { REL_EQ, REL_NE, REL_LT, REL_LE, REL_GT, REL_GE, REL_IN };
/* GN_LIST's op: the words that joined its items (commas alone: 0) */
enum { LIST_AND = 1, LIST_OR = 2, LIST_MIXED = 3 };

struct tkd_gnode {
    gkind k;
    int op; /* REL_* or PM sign */
    int n;  /* number of kids */
    tkd_gnode **kid;
    const char *str;
    int places; /* NUM: decimal places (-1: an integer literal); BASENUM: base */
    int rows, cols;
    int lo_closed, hi_closed;
    struct garena *arena; /* set on the root only: what tkd_grade_node_free releases */
};
typedef struct tkd_gnode gnode;

/* ---- arena ---- */
typedef struct garena {
    struct gchunk *head;
    size_t used_total;
} garena;

void *ga_alloc(garena *a, size_t n); /* zeroed; NULL on failure */
char *ga_strndup(garena *a, const char *s, size_t n);
void ga_free(garena *a);
gnode *gn_new(garena *a, gkind k, int n);
gnode *gn_clone(garena *a, const gnode *src); /* deep copy */

/* Parse into an existing arena (the comparer rewrites trees in it). */
int grade_parse(garena *a, const char *text, gnode **out, tkd_err *e);
/* Normalise answer text before parsing (exposed for tests). */
int grade_normalise(const char *text, tkd_buf *out);

/* ---- evaluation ---- */
typedef struct gctx {
    double deadline; /* tkd_now() value past which work stops */
    unsigned ticks;
    int timed_out;
    /* variable assignment for numeric evaluation */
    int nvars;
    const char *var[16];
    acb_t val[16];
} gctx;

int gctx_expired(gctx *c); /* checks the clock every few calls */

/* Exact rational value: 1 ok, 0 not a rational (or unsupported), -1 timeout. */
int geval_q(const gnode *n, fmpq_t out, gctx *c);
/* Numeric value at c's assignment: 0 ok, -1 not evaluable/not finite, -2 timeout. */
int geval_acb(const gnode *n, acb_t out, slong prec, gctx *c);
/* Collect free symbol names (up to max); returns count or -1 if too many. */
int gfree_syms(const gnode *n, const char **names, int max, int count);
/* True if the tree holds an infinity constant or a node the evaluators reject. */
int ghas_kind(const gnode *n, gkind k);

#endif
