/*
 * expr rational functions in generators (src/expr/ratfun.c): an expression
 * read as an element of Q(g1, ..., gn), a quotient of FLINT multivariate
 * polynomials (Calcium's fmpz_mpoly_q: numerator and denominator coprime,
 * denominator with positive leading coefficient). The generators are the
 * symbols (first, sorted by name: gens[0 .. nsyms-1]) and opaque subtrees
 * (sin(x), pi, 2**x), then radicals b**(1/q) (b**(p/q) is b**a * g**s),
 * reduced by g**q = b during arithmetic; I is the radical (-1)**(1/2).
 * Used by expr's canonical forms and by the tools' algebra (solve, linalg).
 */
#ifndef TKD_EXPR_RF_H
#define TKD_EXPR_RF_H

#include <calcium/fmpz_mpoly_q.h>

#include "tkd/expr.h"

typedef struct tkd_rf {
    tkd_expr **gens; /* owned; symbols by name, then functions, powers, constants */
    uint64_t *hash;
    size_t n, cap, nsyms;
    fmpz_mpoly_ctx_t ctx;     /* n variables (1 when n == 0), ORD_DEGLEX */
    ulong *radq;              /* per generator: q of a radical g = b**(1/q) (g**q = rad[i]), else 0 */
    fmpz_mpoly_q_struct *rad; /* per generator: the value of g**q, when radq[i] */
    int has_rad;              /* some radq[i] is set: reduce after products */
    int ready;
    int overflow; /* a radical was written back with exponent >= its index */
    int too_big;  /* a tree written back would exceed TKD_EXPR_MAX_NODES */
} tkd_rf;

/* The generators of the nx trees xs, and the symbols vars (present or not),
 * and the context over them. */
int tkd_rf_init(tkd_rf *r, const tkd_expr *const *xs, size_t nx, const char *const *vars, size_t nv, tkd_err *e);
void tkd_rf_clear(tkd_rf *r);
/* x (built from r's generators) as a canonical fraction, radicals reduced. */
int tkd_rf_conv(tkd_rf *r, fmpz_mpoly_q_t out, const tkd_expr *x, tkd_err *e);
/* Reduce powers of radical generators in q (g**q -> b) after arithmetic. */
void tkd_rf_reduce(const tkd_rf *r, fmpz_mpoly_q_t q);
/* The generator index of the symbol name, or -1. */
slong tkd_rf_var(const tkd_rf *r, const char *name);
/* Does a generator other than the symbols contain name (sqrt(x), sin(x))? */
int tkd_rf_var_in_atoms(const tkd_rf *r, const char *name);
/* p / den (den NULL: 1) as an expanded sum of terms; NULL on ENOMEM or when
 * the tree would be too big (r->too_big). */
tkd_expr *tkd_rf_poly_to_expr(tkd_rf *r, const fmpz_mpoly_t p, const fmpz_t den);
tkd_expr *tkd_rf_to_expr(tkd_rf *r, const fmpz_mpoly_q_t q);
/* x -> canonical tree (expanded numerator / expanded denominator) */
int tkd_rf_canonical(const tkd_expr *x, tkd_expr **out, tkd_err *e);

#endif
