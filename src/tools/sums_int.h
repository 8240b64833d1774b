/* The closed forms of sums (sums.c, sums_kern.c): what the two files share. */
#ifndef TKD_SUMS_INT_H
#define TKD_SUMS_INT_H

#include "tools_int.h"

#include <flint/arith.h>
#include <flint/fmpq_mat.h>
#include <flint/fmpq_poly.h>
#include <flint/fmpz_poly.h>
#include <flint/fmpz_poly_factor.h>

#define NM TSUM_NOT_MINE
#define SUM_DEG_MAX 60   /* degrees handled by the closed forms */
#define SUM_SHIFT_MAX 64 /* telescoping shifts */

typedef struct srange {
    const char *var;
    const fmpz *lo;
    const tkd_expr *N; /* upper bound; NULL: infinity */
    int num;           /* N is an integer (hi) */
    fmpz_t hi;
} srange;

/* factors: f = prod x_i**m_i with integer m_i (products and integer powers flattened) */
typedef struct fac {
    const tkd_expr *x;
    slong m;
} fac;
typedef struct facs {
    fac *v;
    size_t n, cap;
} facs;

int sum_oom(tkd_err *e);
tkd_expr *sum_qp_at(const fmpq_poly_t p, const tkd_expr *x); /* p(x) as an expression */
tkd_expr *sum_n_plus(const srange *s, slong t);              /* N + t */
void sum_lin(fmpq_poly_t l, const fmpq_t c);                 /* k + c */
int sum_flatten(facs *F, const tkd_expr *x, slong m);
tkd_expr *sum_fac_expr(const fac *f);

/* the methods of sums_kern.c: 0 (out set), TSUM_NOT_MINE or an error */
int sum_hyper(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e);   /* polynomial x hypergeometric */
int sum_tele(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e);    /* u(k) - u(k + s) */
int sum_hurwitz(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e); /* (k + c)**(-s) to oo */
int sum_geo_sym(const tkd_expr *g, const srange *s, tkd_expr **out, tkd_err *e); /* c*q**k, symbolic q */

#endif
