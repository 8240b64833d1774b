/*
 * Linear algebra tools. Numeric matrices (entries are numbers or constant
 * expressions like "sqrt(2)" or "1/3") are Calcium matrices: determinant,
 * inverse, rank, nullspace, eigenvalues with multiplicities and
 * eigenvectors are exact. Matrices with symbols (a parameter k) go through
 * the rational-function layer for the determinant, the inverse, the rank
 * (generic, as SymPy's), products and inner products; nullspace and the
 * spectral tools need numeric entries.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <calcium/ca_mat.h>
#include <calcium/ca_vec.h>

#define MAT_DIM_MAX 60 /* rows or columns */
#define EIG_DIM_MAX 12 /* eigenvalues need roots of the characteristic polynomial */

typedef struct mat {
    size_t r, c;
    tkd_expr **x; /* r*c parsed entries, row-major */
    int symbolic;
} mat;

static void mat_free(mat *m) {
    for (size_t i = 0; m->x && i < m->r * m->c; i++)
        tkd_expr_free(m->x[i]);
    free(m->x);
    m->x = NULL;
}

/* A list of rows (vector: one row) from JSON. */
static int mat_load(const tkd_json *v, const char *what, int vector, mat *m, tkd_err *e) {
    memset(m, 0, sizeof *m);
    if (!tkd_json_is(v, TKD_JSON_ARR) || tkd_json_size(v) == 0)
        return tkd_err_set(e, TKD_EINVAL, "'%s' must be a non-empty list%s, e.g. %s", what, vector ? "" : " of rows",
                           vector ? "[1, 2, 3]" : "[[1, 2], [3, 4]]");
    m->r = vector ? 1 : tkd_json_size(v);
    m->c =
        vector ? tkd_json_size(v) : (tkd_json_is(tkd_json_at(v, 0), TKD_JSON_ARR) ? tkd_json_size(tkd_json_at(v, 0)) : 0);
    if (m->c == 0)
        return tkd_err_set(
            e, TKD_EINVAL,
            "'%s' must be a list of rows (lists of numbers or expression strings), e.g. [[1, 2], [3, 4]]", what);
    if (m->r > MAT_DIM_MAX || m->c > MAT_DIM_MAX)
        return tkd_err_set(e, TKD_ELIMIT, "'%s' is %zux%zu; at most %dx%d is accepted", what, m->r, m->c, MAT_DIM_MAX,
                           MAT_DIM_MAX);
    if (!(m->x = calloc(m->r * m->c, sizeof *m->x)))
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->r; i++) {
        const tkd_json *row = vector ? v : tkd_json_at(v, i);
        if (!tkd_json_is(row, TKD_JSON_ARR) || tkd_json_size(row) != m->c) {
            mat_free(m);
            return tkd_err_set(e, TKD_EINVAL, "'%s': row %zu %s; every row needs %zu entries", what, i + 1,
                               tkd_json_is(row, TKD_JSON_ARR) ? "has a different length" : "is not a list", m->c);
        }
        for (size_t j = 0; j < m->c; j++) {
            if (tparse_json(tkd_json_at(row, j), &m->x[i * m->c + j], e, "'%s' entry (%zu, %zu)", what, i + 1, j + 1)) {
                mat_free(m);
                return e->code;
            }
            m->symbolic |= tkd_expr_has_sym(m->x[i * m->c + j], NULL);
        }
    }
    return 0;
}

static int mat_ca(ca_mat_t A, const mat *m, ca_ctx_t ctx, tkd_err *e) {
    ca_mat_init(A, (slong)m->r, (slong)m->c, ctx);
    for (size_t i = 0; i < m->r; i++)
        for (size_t j = 0; j < m->c; j++)
            if (tkd_expr_to_ca(ca_mat_entry(A, i, j), m->x[i * m->c + j], ctx, e)) {
                ca_mat_clear(A, ctx);
                return e->code;
            }
    return 0;
}

static tkd_json *ca_json(tkd_arena *ta, const ca_t v, ca_ctx_t ctx, tkd_err *e) {
    tkd_expr *x = tkd_expr_from_ca(v, ctx, e);
    return x ? tjson_ast(ta, x) : NULL;
}

static tkd_json *ca_mat_json(tkd_arena *ta, const ca_mat_t A, ca_ctx_t ctx, tkd_err *e) {
    tkd_json *rows = tkd_json_new(ta, TKD_JSON_ARR);
    for (slong i = 0; rows && i < ca_mat_nrows(A); i++) {
        tkd_json *row = tkd_json_new(ta, TKD_JSON_ARR);
        for (slong j = 0; j < ca_mat_ncols(A); j++) {
            tkd_json *v = ca_json(ta, ca_mat_entry(A, i, j), ctx, e);
            if (!v)
                return NULL;
            tkd_json_push(ta, row, v);
        }
        tkd_json_push(ta, rows, row);
    }
    return rows;
}

/* ---- the symbolic path: rational functions ---- */

typedef struct smat {
    tkd_rf t;
    fmpz_mpoly_q_struct *a; /* r*c */
    size_t r, c;
} smat;

static int smat_load(smat *s, const mat *const *ms, size_t nm, tkd_err *e) {
    size_t total = 0;
    for (size_t k = 0; k < nm; k++)
        total += ms[k]->r * ms[k]->c;
    tkd_expr **p = calloc(total, sizeof *p);
    if (!p)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    size_t n = 0;
    int rc = 0;
    for (size_t k = 0; k < nm && !rc; k++)
        for (size_t i = 0; i < ms[k]->r * ms[k]->c && !rc; i++)
            if (!(p[n++] = trat_prep(ms[k]->x[i], e)))
                rc = e->code;
    if (!rc)
        rc = tkd_rf_init(&s->t, (const tkd_expr *const *)p, n, NULL, 0, e);
    if (!rc) {
        s->a = flint_malloc(sizeof *s->a * (total ? total : 1));
        for (size_t i = 0; i < total; i++)
            fmpz_mpoly_q_init(s->a + i, s->t.ctx);
        for (size_t i = 0; i < total && !rc; i++)
            rc = tkd_rf_conv(&s->t, s->a + i, p[i], e);
        s->r = total;
        if (rc) {
            for (size_t i = 0; i < total; i++)
                fmpz_mpoly_q_clear(s->a + i, s->t.ctx);
            flint_free(s->a);
            tkd_rf_clear(&s->t);
        }
    }
    for (size_t i = 0; i < n; i++)
        tkd_expr_free(p[i]);
    free(p);
    return rc;
}

static void smat_clear(smat *s) {
    for (size_t i = 0; i < s->r; i++)
        fmpz_mpoly_q_clear(s->a + i, s->t.ctx);
    flint_free(s->a);
    tkd_rf_clear(&s->t);
}

/* Gauss-Jordan on an n x (n + k) block a (row stride w); returns the
 * determinant of the left n x n part in det (0 when singular). */
static void sgauss(smat *s, fmpz_mpoly_q_struct *a, size_t n, size_t w, fmpz_mpoly_q_t det) {
    fmpz_mpoly_q_t f, t;
    fmpz_mpoly_q_init(f, s->t.ctx);
    fmpz_mpoly_q_init(t, s->t.ctx);
    fmpz_mpoly_q_one(det, s->t.ctx);
    for (size_t j = 0; j < n; j++) {
        size_t p = j;
        while (p < n && fmpz_mpoly_q_is_zero(a + p * w + j, s->t.ctx))
            p++;
        if (p == n) {
            fmpz_mpoly_q_zero(det, s->t.ctx);
            break;
        }
        if (p != j) {
            for (size_t k = 0; k < w; k++)
                fmpz_mpoly_q_swap(a + p * w + k, a + j * w + k, s->t.ctx);
            fmpz_mpoly_q_neg(det, det, s->t.ctx);
        }
        fmpz_mpoly_q_mul(det, det, a + j * w + j, s->t.ctx);
        tkd_rf_reduce(&s->t, det);
        fmpz_mpoly_q_inv(f, a + j * w + j, s->t.ctx);
        for (size_t k = 0; k < w; k++) {
            fmpz_mpoly_q_mul(a + j * w + k, a + j * w + k, f, s->t.ctx);
            tkd_rf_reduce(&s->t, a + j * w + k);
        }
        for (size_t i = 0; i < n; i++) {
            if (i == j || fmpz_mpoly_q_is_zero(a + i * w + j, s->t.ctx))
                continue;
            fmpz_mpoly_q_set(f, a + i * w + j, s->t.ctx);
            for (size_t k = 0; k < w; k++) {
                fmpz_mpoly_q_mul(t, f, a + j * w + k, s->t.ctx);
                fmpz_mpoly_q_sub(a + i * w + k, a + i * w + k, t, s->t.ctx);
                tkd_rf_reduce(&s->t, a + i * w + k);
            }
        }
    }
    fmpz_mpoly_q_clear(f, s->t.ctx);
    fmpz_mpoly_q_clear(t, s->t.ctx);
}

static int square(const mat *m, const char *tool, tkd_err *e) {
    if (m->r != m->c)
        return tkd_err_set(e, TKD_EMATH, "%s needs a square matrix; this one is %zux%zu", tool, m->r, m->c);
    return 0;
}

static int load_matrix(const tkd_json *args, const char *key, const char *tool, int need_square, mat *m, tkd_err *e) {
    if (mat_load(tkd_json_get(args, key), key, 0, m, e))
        return tkd_err_wrap(e, "%s", tool);
    if (need_square && square(m, tool, e)) {
        mat_free(m);
        return e->code;
    }
    return 0;
}

static int t_det(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    mat m;
    if (load_matrix(args, "matrix", "compute_determinant", 1, &m, e))
        return e->code;
    int rc = 0;
    if (m.symbolic) {
        smat s;
        const mat *ms[1] = {&m};
        if (!(rc = smat_load(&s, ms, 1, e))) {
            fmpz_mpoly_q_t d;
            fmpz_mpoly_q_init(d, s.t.ctx);
            sgauss(&s, s.a, m.r, m.c, d);
            *result = tjson_ast(ta, tkd_rf_to_expr(&s.t, d));
            fmpz_mpoly_q_clear(d, s.t.ctx);
            smat_clear(&s);
        }
    } else {
        ca_ctx_t ctx;
        tca_ctx_init(ctx);
        ca_mat_t A;
        if (!(rc = mat_ca(A, &m, ctx, e))) {
            ca_t d;
            ca_init(d, ctx);
            ca_mat_det(d, A, ctx);
            if (!(*result = ca_json(ta, d, ctx, e)))
                rc = e->code ? e->code : TKD_ENOMEM;
            ca_clear(d, ctx);
            ca_mat_clear(A, ctx);
        }
        ca_ctx_clear(ctx);
    }
    mat_free(&m);
    return rc ? tkd_err_wrap(e, "compute_determinant") : 0;
}

static int t_inverse(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    mat m;
    if (load_matrix(args, "matrix", "compute_inverse", 1, &m, e))
        return e->code;
    int rc = 0;
    size_t n = m.r;
    if (m.symbolic) {
        smat s;
        const mat *ms[1] = {&m};
        if (!(rc = smat_load(&s, ms, 1, e))) {
            fmpz_mpoly_q_struct *a = flint_malloc(sizeof *a * n * 2 * n);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < 2 * n; j++) {
                    fmpz_mpoly_q_init(a + i * 2 * n + j, s.t.ctx);
                    if (j < n)
                        fmpz_mpoly_q_set(a + i * 2 * n + j, s.a + i * n + j, s.t.ctx);
                    else if (j - n == i)
                        fmpz_mpoly_q_one(a + i * 2 * n + j, s.t.ctx);
                }
            fmpz_mpoly_q_t d;
            fmpz_mpoly_q_init(d, s.t.ctx);
            sgauss(&s, a, n, 2 * n, d);
            if (fmpz_mpoly_q_is_zero(d, s.t.ctx)) {
                rc = tkd_err_set(e, TKD_EMATH, "the matrix is singular (its determinant is 0), so it has no inverse");
            } else {
                tkd_json *rows = tkd_json_new(ta, TKD_JSON_ARR);
                for (size_t i = 0; i < n; i++) {
                    tkd_json *row = tkd_json_new(ta, TKD_JSON_ARR);
                    for (size_t j = 0; j < n; j++)
                        tkd_json_push(ta, row, tjson_ast(ta, tkd_rf_to_expr(&s.t, a + i * 2 * n + n + j)));
                    tkd_json_push(ta, rows, row);
                }
                *result = rows;
            }
            fmpz_mpoly_q_clear(d, s.t.ctx);
            for (size_t i = 0; i < n * 2 * n; i++)
                fmpz_mpoly_q_clear(a + i, s.t.ctx);
            flint_free(a);
            smat_clear(&s);
        }
    } else {
        ca_ctx_t ctx;
        tca_ctx_init(ctx);
        ca_mat_t A, X;
        if (!(rc = mat_ca(A, &m, ctx, e))) {
            ca_mat_init(X, (slong)n, (slong)n, ctx);
            truth_t ok = ca_mat_inv(X, A, ctx);
            if (ok == T_FALSE)
                rc = tkd_err_set(e, TKD_EMATH, "the matrix is singular (its determinant is 0), so it has no inverse");
            else if (ok == T_UNKNOWN)
                rc = tkd_err_set(e, TKD_EMATH, "could not decide whether the matrix is invertible");
            else if (!(*result = ca_mat_json(ta, X, ctx, e)))
                rc = e->code ? e->code : TKD_ENOMEM;
            ca_mat_clear(X, ctx);
            ca_mat_clear(A, ctx);
        }
        ca_ctx_clear(ctx);
    }
    mat_free(&m);
    return rc ? tkd_err_wrap(e, "compute_inverse") : 0;
}

/* Numeric only: nullspace, eigen*. */
static int numeric(const tkd_json *args, const char *tool, int need_square, size_t maxdim, mat *m, ca_mat_t A,
                   ca_ctx_t ctx, tkd_err *e) {
    if (load_matrix(args, "matrix", tool, need_square, m, e))
        return e->code;
    int rc = 0;
    if (m->symbolic)
        rc = tkd_err_set(e, TKD_EMATH, "%s needs numeric entries (no symbols); substitute values first", tool);
    else if (m->r > maxdim || m->c > maxdim)
        rc = tkd_err_set(e, TKD_ELIMIT, "%s accepts matrices up to %zux%zu", tool, maxdim, maxdim);
    else if ((rc = mat_ca(A, m, ctx, e)))
        tkd_err_wrap(e, "%s", tool);
    if (rc)
        mat_free(m);
    return rc;
}

/* The rank over the rational functions in the symbols (SymPy's generic rank:
 * a pivot that is a nonzero function counts), by row echelon form. */
static int srank(smat *s, size_t r, size_t c, slong *rank, tkd_err *e) {
    fmpz_mpoly_q_struct *a = s->a;
    fmpz_mpoly_q_t f, t;
    fmpz_mpoly_q_init(f, s->t.ctx);
    fmpz_mpoly_q_init(t, s->t.ctx);
    size_t prow = 0;
    int rc = 0;
    for (size_t j = 0; j < c && prow < r && !rc; j++) {
        size_t p = prow;
        while (p < r && (rc = trat_is_zero(&s->t, a + p * c + j, e)) == 1)
            rc = 0, p++;
        if (rc < 0 || p == r) {
            rc = rc < 0 ? rc : 0;
            continue;
        }
        for (size_t k = 0; k < c && p != prow; k++)
            fmpz_mpoly_q_swap(a + p * c + k, a + prow * c + k, s->t.ctx);
        for (size_t i = prow + 1; i < r; i++) {
            if (fmpz_mpoly_q_is_zero(a + i * c + j, s->t.ctx))
                continue;
            fmpz_mpoly_q_div(f, a + i * c + j, a + prow * c + j, s->t.ctx);
            tkd_rf_reduce(&s->t, f);
            for (size_t k = j; k < c; k++) {
                fmpz_mpoly_q_mul(t, f, a + prow * c + k, s->t.ctx);
                fmpz_mpoly_q_sub(a + i * c + k, a + i * c + k, t, s->t.ctx);
                tkd_rf_reduce(&s->t, a + i * c + k);
            }
        }
        prow++;
    }
    fmpz_mpoly_q_clear(f, s->t.ctx);
    fmpz_mpoly_q_clear(t, s->t.ctx);
    *rank = (slong)prow;
    return rc;
}

static int t_rank(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    mat m;
    slong r = 0;
    int rc = 0;
    if (load_matrix(args, "matrix", "compute_rank", 0, &m, e))
        return e->code;
    if (m.symbolic) {
        smat s;
        const mat *ms[1] = {&m};
        if (!(rc = smat_load(&s, ms, 1, e))) {
            rc = srank(&s, m.r, m.c, &r, e);
            smat_clear(&s);
        }
    } else {
        ca_ctx_t ctx;
        ca_mat_t A;
        tca_ctx_init(ctx);
        if (!(rc = mat_ca(A, &m, ctx, e))) {
            if (!ca_mat_rank(&r, A, ctx))
                rc = tkd_err_set(e, TKD_EMATH, "could not decide which entries are zero");
            ca_mat_clear(A, ctx);
        }
        ca_ctx_clear(ctx);
    }
    mat_free(&m);
    if (rc)
        return tkd_err_wrap(e, "compute_rank");
    *result = tkd_json_integer(ta, r);
    return 0;
}

static tkd_json *kernel_json(tkd_arena *ta, const ca_mat_t A, ca_ctx_t ctx, int *ok, tkd_err *e) {
    ca_mat_t X;
    ca_mat_init(X, 0, 0, ctx);
    *ok = ca_mat_right_kernel(X, A, ctx);
    tkd_json *out = tkd_json_new(ta, TKD_JSON_ARR);
    for (slong j = 0; *ok && j < ca_mat_ncols(X); j++) {
        tkd_json *v = tkd_json_new(ta, TKD_JSON_ARR);
        for (slong i = 0; i < ca_mat_nrows(X); i++) {
            tkd_json *x = ca_json(ta, ca_mat_entry(X, i, j), ctx, e);
            if (!x)
                *ok = 0;
            else
                tkd_json_push(ta, v, x);
        }
        tkd_json_push(ta, out, v);
    }
    ca_mat_clear(X, ctx);
    return *ok ? out : NULL;
}

static int t_nullspace(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    mat m;
    ca_ctx_t ctx;
    ca_mat_t A;
    tca_ctx_init(ctx);
    int rc = numeric(args, "compute_nullspace", 0, MAT_DIM_MAX, &m, A, ctx, e);
    if (!rc) {
        int ok;
        if (!(*result = kernel_json(ta, A, ctx, &ok, e)))
            rc = tkd_err_set(e, TKD_EMATH, "compute_nullspace: could not compute the nullspace exactly");
        ca_mat_clear(A, ctx);
        mat_free(&m);
    }
    ca_ctx_clear(ctx);
    return rc;
}

static int eigen(tkd_arena *ta, const tkd_json *args, tkd_json **result, int vectors, tkd_err *e) {
    const char *tool = vectors ? "compute_eigenvectors" : "compute_eigenvalues";
    mat m;
    ca_ctx_t ctx;
    ca_mat_t A;
    tca_ctx_init(ctx);
    int rc = numeric(args, tool, 1, EIG_DIM_MAX, &m, A, ctx, e);
    if (rc) {
        ca_ctx_clear(ctx);
        return rc;
    }
    slong n = (slong)m.r;
    ca_vec_t lam;
    ca_vec_init(lam, 0, ctx);
    ulong *mult = flint_calloc((size_t)n, sizeof(ulong));
    if (!ca_mat_eigenvalues(lam, mult, A, ctx))
        rc = tkd_err_set(e, TKD_EMATH, "%s: the eigenvalues could not be computed exactly", tool);
    tkd_json *out = vectors ? tkd_json_new(ta, TKD_JSON_ARR) : tkd_json_new(ta, TKD_JSON_OBJ);
    for (slong k = 0; !rc && k < ca_vec_length(lam, ctx); k++) {
        tkd_expr *x = tkd_expr_from_ca(ca_vec_entry(lam, k), ctx, e);
        char *s = x ? tkd_expr_to_str(x) : NULL;
        tkd_expr_free(x);
        if (!s) {
            rc = e->code ? e->code : TKD_ENOMEM;
            break;
        }
        if (!vectors) {
            tkd_json_set(ta, out, s, tkd_json_integer(ta, (long long)mult[k]));
        } else {
            ca_mat_t B;
            ca_mat_init(B, n, n, ctx);
            ca_mat_set(B, A, ctx);
            for (slong i = 0; i < n; i++)
                ca_sub(ca_mat_entry(B, i, i), ca_mat_entry(B, i, i), ca_vec_entry(lam, k), ctx);
            int ok;
            tkd_json *vs = kernel_json(ta, B, ctx, &ok, e);
            ca_mat_clear(B, ctx);
            if (!vs)
                rc = tkd_err_set(e, TKD_EMATH, "%s: an eigenspace could not be computed exactly", tool);
            else {
                tkd_json *o = tkd_json_new(ta, TKD_JSON_OBJ);
                tkd_json_set(ta, o, "eigenvalue", tkd_json_string(ta, s));
                tkd_json_set(ta, o, "multiplicity", tkd_json_integer(ta, (long long)mult[k]));
                tkd_json_set(ta, o, "eigenvectors", vs);
                tkd_json_push(ta, out, o);
            }
        }
        free(s);
    }
    if (!rc)
        *result = out;
    flint_free(mult);
    ca_vec_clear(lam, ctx);
    ca_mat_clear(A, ctx);
    ca_ctx_clear(ctx);
    mat_free(&m);
    return rc;
}

static int t_eigenvalues(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return eigen(ta, a, r, 0, e);
}
static int t_eigenvectors(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return eigen(ta, a, r, 1, e);
}

/* Products: entries as expressions, each result entry simplified (rational
 * numbers only: summed exactly, without building an expression). */
static tkd_expr *dot(tkd_expr *const *a, size_t sa, tkd_expr *const *b, size_t sb, size_t n, tkd_err *e) {
    int rational = 1;
    for (size_t k = 0; rational && k < n; k++)
        rational = a[k * sa]->kind == TKD_EX_NUM && b[k * sb]->kind == TKD_EX_NUM;
    if (rational) {
        fmpq_t acc;
        fmpq_init(acc);
        for (size_t k = 0; k < n; k++)
            fmpq_addmul(acc, a[k * sa]->q, b[k * sb]->q);
        tkd_expr *r = tkd_expr_fmpq(acc);
        fmpq_clear(acc);
        return r;
    }
    tkd_expr **t = calloc(n, sizeof *t);
    if (!t)
        return NULL;
    for (size_t k = 0; k < n; k++)
        t[k] = tkd_expr_mul2(tkd_expr_copy(a[k * sa]), tkd_expr_copy(b[k * sb]));
    tkd_expr *s = n == 1 ? t[0] : tkd_expr_add(n, t);
    free(t);
    tkd_expr *r = NULL;
    if (s && tkd_expr_simplify(s, &r, e))
        r = NULL;
    tkd_expr_free(s);
    return r;
}

static int t_matmul(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    mat a, b;
    if (load_matrix(args, "matrix1", "matrix_multiplication", 0, &a, e))
        return e->code;
    if (load_matrix(args, "matrix2", "matrix_multiplication", 0, &b, e)) {
        mat_free(&a);
        return e->code;
    }
    int rc = 0;
    if (a.c != b.r)
        rc = tkd_err_set(e, TKD_EMATH,
                         "matrix_multiplication: the shapes %zux%zu and %zux%zu do not match (columns of matrix1 must "
                         "equal rows of matrix2)",
                         a.r, a.c, b.r, b.c);
    tkd_json *rows = rc ? NULL : tkd_json_new(ta, TKD_JSON_ARR);
    for (size_t i = 0; !rc && i < a.r; i++) {
        tkd_json *row = tkd_json_new(ta, TKD_JSON_ARR);
        for (size_t j = 0; !rc && j < b.c; j++) {
            tkd_expr *x = dot(a.x + i * a.c, 1, b.x + j, b.c, a.c, e);
            if (!x)
                rc = e->code ? e->code : TKD_ENOMEM;
            else
                tkd_json_push(ta, row, tjson_ast(ta, x));
        }
        tkd_json_push(ta, rows, row);
    }
    if (!rc)
        *result = rows;
    mat_free(&a);
    mat_free(&b);
    return rc ? tkd_err_wrap(e, "matrix_multiplication") : 0;
}

static int t_inner(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    mat a, b;
    if (mat_load(tkd_json_get(args, "vector1"), "vector1", 1, &a, e))
        return tkd_err_wrap(e, "compute_inner_product");
    if (mat_load(tkd_json_get(args, "vector2"), "vector2", 1, &b, e)) {
        mat_free(&a);
        return tkd_err_wrap(e, "compute_inner_product");
    }
    int rc = 0;
    if (a.c != b.c)
        rc = tkd_err_set(e, TKD_EMATH,
                         "compute_inner_product: the vectors have lengths %zu and %zu; they must be equal", a.c, b.c);
    else {
        tkd_expr *x = dot(a.x, 1, b.x, 1, a.c, e);
        if (!x)
            rc = e->code ? e->code : TKD_ENOMEM;
        else
            *result = tjson_ast(ta, x);
    }
    mat_free(&a);
    mat_free(&b);
    return rc ? tkd_err_wrap(e, "compute_inner_product") : 0;
}

#define P_MAT                                                                                                          \
    {                                                                                                                  \
        "matrix", TP_MATRIX, 1,                                                                                        \
            "the matrix as a list of rows, entries numbers or expression strings, e.g. [[1, 2], [3, 4]]"               \
    }

const struct tkd_tool tkd_tools_linalg_table[] = {
    {"compute_determinant",
     "linear algebra",
     "determinant",
     "Determinant of a square matrix, exactly. Entries may be numbers or strings of SymPy syntax (\"sqrt(2)\", "
     "\"1/3\", \"k\"). Example: {\"matrix\": [[1, 2], [3, 4]]} -> \"-2\".",
     {P_MAT},
     t_det},
    {"compute_inverse",
     "linear algebra",
     "inverse matrix",
     "Inverse of a square matrix, exactly, as a list of rows; an error if it is singular. Example: {\"matrix\": [[1, "
     "2], [3, 4]]} -> [[\"-2\", \"1\"], [\"3/2\", \"-1/2\"]].",
     {P_MAT},
     t_inverse},
    {"compute_eigenvalues",
     "linear algebra",
     "eigenvalues {value: multiplicity}",
     "Eigenvalues of a square numeric matrix (up to 12x12) with their algebraic multiplicities, as {eigenvalue: "
     "multiplicity}. Example: {\"matrix\": [[2, 0], [0, 3]]} -> {\"2\": 1, \"3\": 1}.",
     {P_MAT},
     t_eigenvalues},
    {"compute_eigenvectors",
     "linear algebra",
     "eigenvalues with bases of their eigenspaces",
     "Eigenvectors of a square numeric matrix: a list of {\"eigenvalue\", \"multiplicity\", \"eigenvectors\": [basis "
     "vectors as lists]}. Example: {\"matrix\": [[2, 1], [1, 2]]} -> [{\"eigenvalue\": \"1\", \"multiplicity\": 1, "
     "\"eigenvectors\": [[\"-1\", \"1\"]]}, ...].",
     {P_MAT},
     t_eigenvectors},
    {"compute_nullspace",
     "linear algebra",
     "basis of the null space",
     "A basis of the null space (kernel) of a numeric matrix: a list of vectors, each a list; [] when only the zero "
     "vector. Example: {\"matrix\": [[1, 2], [2, 4]]} -> [[\"-2\", \"1\"]].",
     {P_MAT},
     t_nullspace},
    {"compute_rank",
     "linear algebra",
     "rank",
     "Rank of a matrix (an integer). With symbols, the generic rank as SymPy's: symbols are independent unknowns, "
     "so [[1, a], [a, 1]] has rank 2. Example: {\"matrix\": [[1, 2], [2, 4]]} -> 1.",
     {P_MAT},
     t_rank},
    {"compute_inner_product",
     "linear algebra",
     "dot product of two vectors",
     "Inner (dot) product of two vectors of equal length; entries numbers or expression strings. Example: "
     "{\"vector1\": [1, 2, 3], \"vector2\": [4, 5, 6]} -> \"32\".",
     {{"vector1", TP_VECTOR, 1, "first vector, e.g. [1, 2, 3]"},
      {"vector2", TP_VECTOR, 1, "second vector, same length"}},
     t_inner},
    {"matrix_multiplication",
     "linear algebra",
     "product of two matrices",
     "Product matrix1 * matrix2 as a list of rows (columns of matrix1 must equal rows of matrix2). Example: "
     "{\"matrix1\": [[1, 2], [3, 4]], \"matrix2\": [[0, 1], [1, 0]]} -> [[\"2\", \"1\"], [\"4\", \"3\"]].",
     {{"matrix1", TP_MATRIX, 1, "left matrix, list of rows"}, {"matrix2", TP_MATRIX, 1, "right matrix, list of rows"}},
     t_matmul},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
