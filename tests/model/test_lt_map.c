/* model: the CUDA model's row-major -> column-major hand-over to cuBLASLt
 * (src/model/cuda/lt_map.h), checked on the CPU: an emulation of
 * cuBLASLt's column-major D = op(A') op(B') (with its shape checks: stored
 * dimensions, leading dimensions) fed by the mapping must give the naive
 * row-major product, for every transpose pattern the model uses (forward
 * x W^T, input gradient dout W, weight gradient dout^T x, LoRA's four) with
 * odd sizes and padded leading dimensions. */
#include "../../src/model/cuda/lt_map.h"
#include "tkd_test.h"

#include <stdint.h>

/* cuBLASLt's column-major semantics, as its documentation states them */
static int colmajor_gemm(const tkd_lt_map *p, int k, const float *A1, const float *B1, float beta, float *C) {
    int m1 = p->c_rows, n1 = p->c_cols;
    /* stored shapes must be those of op^-1 of (m1,k) and (k,n1) */
    if (p->opa ? (p->a_rows != k || p->a_cols != m1) : (p->a_rows != m1 || p->a_cols != k))
        return -1;
    if (p->opb ? (p->b_rows != n1 || p->b_cols != k) : (p->b_rows != k || p->b_cols != n1))
        return -1;
    if (p->a_ld < p->a_rows || p->b_ld < p->b_rows || p->c_ld < p->c_rows)
        return -1;
    for (int i = 0; i < m1; i++)
        for (int j = 0; j < n1; j++) {
            double s = 0;
            for (int q = 0; q < k; q++) {
                double a = p->opa ? A1[q + (size_t)i * p->a_ld] : A1[i + (size_t)q * p->a_ld];
                double b = p->opb ? B1[j + (size_t)q * p->b_ld] : B1[q + (size_t)j * p->b_ld];
                s += a * b;
            }
            C[i + (size_t)j * p->c_ld] = (float)(s + beta * C[i + (size_t)j * p->c_ld]);
        }
    return 0;
}

static uint64_t st = 88172645463325252ull;
static float rnd(void) {
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    return (float)((st >> 11) * 0x1.0p-53 * 2 - 1);
}

/* row-major C (m,n) = op(A) op(B) + beta C, naive */
static void rowmajor_ref(int ta, int tb, int m, int n, int k, const float *A, int lda, const float *B, int ldb,
                         float beta, float *C, int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int q = 0; q < k; q++)
                s += (double)(ta ? A[q * lda + i] : A[i * lda + q]) * (tb ? B[j * ldb + q] : B[q * ldb + j]);
            C[i * ldc + j] = (float)(s + beta * C[i * ldc + j]);
        }
}

static void one(int ta, int tb, int m, int n, int k, int pad, float beta) {
    int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    int arows = ta ? k : m, brows = tb ? n : k;
    float *A = malloc(sizeof(float) * (size_t)arows * lda), *B = malloc(sizeof(float) * (size_t)brows * ldb);
    float *C1 = malloc(sizeof(float) * (size_t)m * ldc), *C2 = malloc(sizeof(float) * (size_t)m * ldc);
    for (int i = 0; i < arows * lda; i++)
        A[i] = rnd();
    for (int i = 0; i < brows * ldb; i++)
        B[i] = rnd();
    for (int i = 0; i < m * ldc; i++)
        C1[i] = C2[i] = rnd();
    rowmajor_ref(ta, tb, m, n, k, A, lda, B, ldb, beta, C1, ldc);
    tkd_lt_map p = tkd_lt_map_make(ta, tb, m, n, k, lda, ldb, ldc);
    CHECK_INT(p.a_is_B, 1);
    CHECK_INT(colmajor_gemm(&p, k, B, A, beta, C2), 0); /* A' is B, B' is A */
    double md = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++) /* the padding too: it must be left alone */
            md = fmax(md, fabs((double)C1[i * ldc + j] - C2[i * ldc + j]));
    if (md > 1e-4)
        fprintf(stderr, "ta %d tb %d m %d n %d k %d pad %d: max diff %g\n", ta, tb, m, n, k, pad, md);
    CHECK(md <= 1e-4);
    free(A);
    free(B);
    free(C1);
    free(C2);
}

TEST(all_transposes_odd_sizes_padded) {
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++)
            for (int pad = 0; pad <= 3; pad += 3) {
                one(ta, tb, 7, 5, 3, pad, 0.0f);
                one(ta, tb, 1, 9, 13, pad, 1.0f);
                one(ta, tb, 11, 1, 4, pad, 0.5f);
            }
}

/* the model's products with its own arguments (N 6, IC 10, OC 7, r 3) */
TEST(model_call_patterns) {
    int N = 6, IC = 10, OC = 7, r = 3;
    one(0, 1, N, OC, IC, 0, 0.0f); /* out (N,OC) = x (N,IC) W (OC,IC)^T */
    one(0, 0, N, IC, OC, 0, 1.0f); /* dx (N,IC) += dout (N,OC) W (OC,IC) */
    one(1, 0, OC, IC, N, 0, 1.0f); /* dW (OC,IC) += dout^T x */
    one(0, 1, N, r, IC, 0, 0.0f);  /* ax (N,r) = xd A (r,IC)^T */
    one(0, 1, N, OC, r, 0, 1.0f);  /* out += ax B (OC,r)^T */
    one(1, 0, OC, r, N, 0, 1.0f);  /* dB (OC,r) += dout^T ax */
    one(0, 0, N, r, OC, 0, 0.0f);  /* dax (N,r) = dout B */
    one(1, 0, r, IC, N, 0, 1.0f);  /* dA (r,IC) += dax^T xd */
    one(0, 0, N, IC, r, 0, 1.0f);  /* dx += dax A */
}

int main(void) {
    RUN(all_transposes_odd_sizes_padded);
    RUN(model_call_patterns);
    return TEST_END();
}
