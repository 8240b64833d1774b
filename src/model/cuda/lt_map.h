/*
 * Internal: how a row-major product (the CPU reference's cblas_sgemm with
 * CblasRowMajor) is handed to column-major cuBLASLt. Plain C, header only,
 * so that a CPU test (tests/model/test_lt_map.c) checks the mapping against
 * a naive row-major product with an emulation of cuBLASLt's column-major
 * semantics, without a GPU.
 *
 * Row-major C (m,n) = op(A) (m,k) op(B) (k,n) is, read column-major, C^T
 * (n,m) = op(B)^T op(A)^T: cuBLASLt's first operand A' is B, its second B'
 * is A, each keeping its own transpose flag. A matrix stored row-major
 * (r,c) with leading dimension ld is the column-major (c,r) with the same ld.
 */
#ifndef TKD_LT_MAP_H
#define TKD_LT_MAP_H

typedef struct tkd_lt_map {
    int opa, opb;             /* 1: transpose cuBLASLt's A' / B' */
    int a_rows, a_cols, a_ld; /* A' as stored, column-major */
    int b_rows, b_cols, b_ld; /* B' as stored, column-major */
    int c_rows, c_cols, c_ld; /* C and D, column-major */
    int a_is_B;               /* always 1: A' is the caller's B (pass B's pointer first) */
} tkd_lt_map;

/* ta: op(A) = A^T with A stored (k,m); tb: op(B) = B^T with B stored (n,k) */
static inline tkd_lt_map tkd_lt_map_make(int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc) {
    tkd_lt_map p;
    p.opa = tb;            /* A' = B: stored (k,n) row-major = (n,k) column-major, op N gives op(B)^T (n,k); */
    p.a_rows = tb ? k : n; /* stored (n,k) row-major = (k,n) column-major, op T gives (n,k) */
    p.a_cols = tb ? n : k;
    p.a_ld = ldb;
    p.opb = ta;            /* B' = A: stored (m,k) row-major = (k,m) column-major, op N gives op(A)^T (k,m); */
    p.b_rows = ta ? m : k; /* stored (k,m) row-major = (m,k) column-major, op T gives (k,m) */
    p.b_cols = ta ? k : m;
    p.b_ld = lda;
    p.c_rows = n; /* C^T (n,m) column-major = C (m,n) row-major */
    p.c_cols = m;
    p.c_ld = ldc;
    p.a_is_B = 1;
    return p;
}

#endif
