/*
 * expr roots: the exact roots of a univariate polynomial with rational
 * coefficients, as algebraic numbers (Calcium's qqbar) written in radicals
 * when Calcium finds a formula (degree <= 4 and special higher cases), else
 * as CRootOf(p, k) in SymPy's numbering. The polynomial is factored over Z
 * first, so each irreducible factor is solved once.
 */
#include "expr_internal.h"

#include <flint/fmpz_poly_factor.h>
#include <stdlib.h>

typedef struct {
    qqbar_struct *v;
    slong *mult;
    slong *factor; /* which irreducible factor it came from */
    slong n;
} rootset;

/* SymPy's root order: real roots ascending, then complex by real part and
 * imaginary part ascending. */
static int sympy_cmp(const qqbar_t a, const qqbar_t b) {
    int ra = qqbar_is_real(a), rb = qqbar_is_real(b);
    if (ra != rb)
        return ra ? -1 : 1;
    int c = qqbar_cmp_re(a, b);
    return c ? c : qqbar_cmp_im(a, b);
}

/* CRootOf(p, k): k counts the roots of the irreducible p before a */
static tkd_expr *crootof(const fmpz_poly_t p, const qqbar_t a, const char *var) {
    slong d = fmpz_poly_degree(p), k = 0;
    qqbar_ptr all = _qqbar_vec_init(d);
    qqbar_roots_fmpz_poly(all, p, QQBAR_ROOTS_IRREDUCIBLE);
    for (slong i = 0; i < d; i++)
        if (sympy_cmp(all + i, a) < 0)
            k++;
    _qqbar_vec_clear(all, d);
    fmpq_poly_t q;
    fmpq_poly_init(q);
    fmpq_poly_set_fmpz_poly(q, p);
    tkd_expr *r = tkd_expr_call("CRootOf", 2, (tkd_expr *[]){tkd_expr_from_fmpq_poly(q, var), tkd_expr_int(k)});
    fmpq_poly_clear(q);
    return r;
}

static tkd_expr *root_expr(const fmpz_poly_t p, const qqbar_t a, const char *var) {
    tkd_expr *r = qqbar_degree(a) <= 8 ? tkd_expr_from_qqbar(a, NULL) : NULL;
    if (r && tkd_expr_count_nodes(r) > 400) { /* a formula nobody wants to read */
        tkd_expr_free(r);
        r = NULL;
    }
    return r ? r : crootof(p, a, var);
}

int tkd_expr_poly_roots(const tkd_expr *x, const char *var, int real_only, tkd_expr ***roots, slong **mult, size_t *n,
                        tkd_err *e) {
    *roots = NULL;
    if (mult)
        *mult = NULL;
    *n = 0;
    fmpq_poly_t q;
    fmpq_poly_init(q);
    int rc = tkd_expr_to_fmpq_poly(q, x, var, e);
    if (!rc && fmpq_poly_is_zero(q))
        rc = tkd_err_set(e, TKD_EINVAL, "the zero polynomial: every value of %s is a root", var);
    if (!rc && fmpq_poly_degree(q) > TKD_EXPR_MAX_ROOT_DEGREE)
        rc = tkd_err_set(e, TKD_ELIMIT, "degree %ld exceeds TKD_EXPR_MAX_ROOT_DEGREE (%d) for exact roots",
                         (long)fmpq_poly_degree(q), TKD_EXPR_MAX_ROOT_DEGREE);
    if (rc) {
        fmpq_poly_clear(q);
        return rc;
    }
    fmpz_poly_t p;
    fmpz_poly_init(p);
    fmpq_poly_get_numerator(p, q);
    fmpq_poly_clear(q);
    fmpz_poly_factor_t fac;
    fmpz_poly_factor_init(fac);
    fmpz_poly_factor(fac, p);
    slong total = fmpz_poly_degree(p) > 0 ? fmpz_poly_degree(p) : 0;
    rootset rs = {_qqbar_vec_init(total ? total : 1), calloc((size_t)total + 1, sizeof(slong)),
                  calloc((size_t)total + 1, sizeof(slong)), 0};
    tkd_expr **out = calloc((size_t)total + 1, sizeof *out);
    slong *om = calloc((size_t)total + 1, sizeof *om);
    if (!rs.mult || !rs.factor || !out || !om) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto done;
    }
    for (slong i = 0; i < fac->num; i++) {
        slong d = fmpz_poly_degree(fac->p + i);
        qqbar_roots_fmpz_poly(rs.v + rs.n, fac->p + i, QQBAR_ROOTS_IRREDUCIBLE);
        for (slong j = 0; j < d; j++) {
            rs.mult[rs.n + j] = fac->exp[i];
            rs.factor[rs.n + j] = i;
        }
        rs.n += d;
    }
    /* sort (insertion sort: degree is small) */
    for (slong i = 1; i < rs.n; i++)
        for (slong j = i; j > 0 && sympy_cmp(rs.v + j - 1, rs.v + j) > 0; j--) {
            qqbar_swap(rs.v + j - 1, rs.v + j);
            slong t = rs.mult[j - 1];
            rs.mult[j - 1] = rs.mult[j];
            rs.mult[j] = t;
            t = rs.factor[j - 1];
            rs.factor[j - 1] = rs.factor[j];
            rs.factor[j] = t;
        }
    for (slong i = 0; i < rs.n; i++) {
        if (real_only && !qqbar_is_real(rs.v + i))
            continue;
        if (!(out[*n] = root_expr(fac->p + rs.factor[i], rs.v + i, var))) {
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
            break;
        }
        om[*n] = rs.mult[i];
        (*n)++;
    }
done:
    if (rc) {
        tkd_expr_vec_free(out, *n);
        free(om);
        *n = 0;
    } else {
        *roots = out;
        if (mult)
            *mult = om;
        else
            free(om);
    }
    _qqbar_vec_clear(rs.v, total ? total : 1);
    free(rs.mult);
    free(rs.factor);
    fmpz_poly_factor_clear(fac);
    fmpz_poly_clear(p);
    return rc;
}
