/*
 * expr parser internals shared by parse.c (the grammar) and parse_call.c
 * (numbers and the calls with special meaning). Not a public contract.
 */
#ifndef TKD_EXPR_PARSE_INTERNAL_H
#define TKD_EXPR_PARSE_INTERNAL_H

#include "tkd/expr.h"

typedef struct {
    const char *s;
    size_t len, pos;
    int depth;
    unsigned flags;
    tkd_err *e;
} parser;

/* fill p->e: "<message> at column N"; returns code */
__attribute__((format(printf, 4, 5))) int tkd_px_fail(parser *p, int code, size_t at, const char *fmt, ...);
int tkd_px_nomem(parser *p);
void tkd_px_free_args(size_t n, tkd_expr **v);
/* a number literal at p->pos (integer, decimal, scientific) */
int tkd_px_number(parser *p, tkd_expr **out);
/* the node for name(args); consumes args (array and nodes) */
int tkd_px_call(parser *p, size_t at, const char *name, size_t n, tkd_expr **v, tkd_expr **out);

#endif
