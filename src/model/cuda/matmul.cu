/*
 * The CUDA model's matrix products on cuBLASLt: bf16 operands, fp32
 * accumulation (CUBLAS_COMPUTE_32F), bf16 or fp32 outputs (fp32 for the
 * parameter gradients, accumulated with beta = 1), and the bias epilogue
 * for q/k/v. The caller thinks row-major as the CPU reference does
 * (cblas_sgemm with CblasRowMajor); cuBLASLt is column-major, so a
 * row-major C = op(A) op(B) is computed as the column-major
 * C^T = op(B)^T op(A)^T: the operands swap and each keeps its transpose flag.
 * Descriptors and the heuristic's algorithm are made once per shape and
 * kept (a training step repeats a few dozen shapes thousands of times).
 */
#include "lt_map.h"
#include "model_priv.h"

int tkd_lt_init(tkd_lt *lt, void *ws, size_t ws_bytes, tkd_err *e) {
    memset(lt, 0, sizeof *lt);
    lt->ws = ws;
    lt->ws_bytes = ws_bytes;
    lt->cache = (lt_entry *)calloc(TKD_LT_CACHE, sizeof(lt_entry));
    if (!lt->cache)
        return tkd_err_set(e, TKD_ENOMEM, "out of host memory for the cuBLASLt plan cache");
    LT_CHECK(cublasLtCreate(&lt->h));
    return 0;
}

static void entry_free(lt_entry *c) {
    if (c->op)
        cublasLtMatmulDescDestroy(c->op);
    if (c->la)
        cublasLtMatrixLayoutDestroy(c->la);
    if (c->lb)
        cublasLtMatrixLayoutDestroy(c->lb);
    if (c->lc)
        cublasLtMatrixLayoutDestroy(c->lc);
    memset(c, 0, sizeof *c);
}

void tkd_lt_free(tkd_lt *lt) {
    if (lt->cache) {
        for (int i = 0; i < lt->n_cache; i++)
            entry_free(&lt->cache[i]);
        free(lt->cache);
    }
    if (lt->h)
        cublasLtDestroy(lt->h);
    memset(lt, 0, sizeof *lt);
}

/* the largest power of two (<= 256) that divides the address */
static unsigned align_of(const void *p) {
    uintptr_t a = (uintptr_t)p;
    unsigned al = 256;
    while (al > 1 && a % al)
        al /= 2;
    return al;
}

/* make the descriptors and pick the algorithm for one shape */
static int entry_make(tkd_lt *lt, lt_entry *c, const void *bias, tkd_err *e) {
    cudaDataType_t ct = c->c_f32 ? CUDA_R_32F : CUDA_R_16BF;
    tkd_lt_map mp = tkd_lt_map_make(c->ta, c->tb, c->m, c->n, c->k, c->lda, c->ldb, c->ldc);
    LT_CHECK(cublasLtMatmulDescCreate(&c->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t opa = mp.opa ? CUBLAS_OP_T : CUBLAS_OP_N, opb = mp.opb ? CUBLAS_OP_T : CUBLAS_OP_N;
    LT_CHECK(cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa));
    LT_CHECK(cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb));
    if (c->bias) {
        cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
        LT_CHECK(cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
        LT_CHECK(cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    }
    LT_CHECK(cublasLtMatrixLayoutCreate(&c->la, CUDA_R_16BF, mp.a_rows, mp.a_cols, mp.a_ld));
    LT_CHECK(cublasLtMatrixLayoutCreate(&c->lb, CUDA_R_16BF, mp.b_rows, mp.b_cols, mp.b_ld));
    LT_CHECK(cublasLtMatrixLayoutCreate(&c->lc, ct, mp.c_rows, mp.c_cols, mp.c_ld));
    cublasLtMatmulPreference_t pref;
    LT_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    uint64_t ws = lt->ws_bytes;
    cublasStatus_t st =
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    /* the operands swap in the column-major view: A' = B, B' = A */
    uint32_t al[4] = {c->align[1], c->align[0], c->align[2], c->align[3]};
    static const cublasLtMatmulPreferenceAttributes_t which[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4 && st == CUBLAS_STATUS_SUCCESS; i++)
        st = cublasLtMatmulPreferenceSetAttribute(pref, which[i], &al[i], sizeof al[i]);
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasLtMatmulAlgoGetHeuristic(lt->h, c->op, c->la, c->lb, c->lc, c->lc, pref, 1, &res, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    LT_CHECK(st);
    if (found < 1)
        return tkd_err_set(e, TKD_EIO, "cuBLASLt has no algorithm for the product (%d,%d)x(%d,%d)%s%s -> %s (%d,%d)%s",
                           c->m, c->k, c->k, c->n, c->ta ? " A^T" : "", c->tb ? " B^T" : "", c->c_f32 ? "fp32" : "bf16",
                           c->m, c->n, c->bias ? " with bias" : "");
    c->algo = res.algo;
    return 0;
}

static int lt_find(tkd_lt *lt, const lt_entry *key, const void *bias, lt_entry **out, tkd_err *e) {
    for (int i = 0; i < lt->n_cache; i++) {
        lt_entry *c = &lt->cache[i];
        if (c->ta == key->ta && c->tb == key->tb && c->m == key->m && c->n == key->n && c->k == key->k &&
            c->lda == key->lda && c->ldb == key->ldb && c->ldc == key->ldc && c->c_f32 == key->c_f32 &&
            c->bias == key->bias && !memcmp(c->align, key->align, sizeof c->align)) {
            *out = c;
            return 0;
        }
    }
    lt_entry *c;
    if (lt->n_cache < TKD_LT_CACHE) {
        c = &lt->cache[lt->n_cache++];
    } else { /* full: forget the oldest half (shapes of a run repeat; this only happens with many batch sizes) */
        for (int i = 0; i < TKD_LT_CACHE / 2; i++)
            entry_free(&lt->cache[i]);
        memmove(lt->cache, lt->cache + TKD_LT_CACHE / 2, sizeof(lt_entry) * (TKD_LT_CACHE / 2));
        memset(lt->cache + TKD_LT_CACHE / 2, 0, sizeof(lt_entry) * (TKD_LT_CACHE / 2));
        lt->n_cache = TKD_LT_CACHE / 2 + 1;
        c = &lt->cache[TKD_LT_CACHE / 2];
    }
    *c = *key;
    c->op = NULL;
    c->la = c->lb = c->lc = NULL;
    int rc = entry_make(lt, c, bias, e);
    if (rc) {
        entry_free(c);
        lt->n_cache--;
        return rc;
    }
    *out = c;
    return 0;
}

int tkd_lt_mm(tkd_lt *lt, cudaStream_t s, int ta, int tb, int m, int n, int k, float alpha, const void *A, int lda,
              const void *B, int ldb, float beta, void *C, int ldc, int c_f32, const void *bias, tkd_err *e) {
    if (m < 1 || n < 1 || k < 1)
        return tkd_err_set(e, TKD_EINTERNAL, "matmul of an empty shape (%d,%d,%d)", m, n, k);
    if (bias && beta != 0.0f)
        return tkd_err_set(e, TKD_EINTERNAL, "matmul bias epilogue with beta %g", (double)beta);
    lt_entry key;
    memset(&key, 0, sizeof key);
    key.ta = ta;
    key.tb = tb;
    key.m = m;
    key.n = n;
    key.k = k;
    key.lda = lda;
    key.ldb = ldb;
    key.ldc = ldc;
    key.c_f32 = c_f32;
    key.bias = bias != NULL;
    key.align[0] = align_of(A);
    key.align[1] = align_of(B);
    key.align[2] = align_of(C);
    key.align[3] = align_of(C);
    key.align[4] = bias ? align_of(bias) : 0;
    lt_entry *c;
    TRY(lt_find(lt, &key, bias, &c, e));
    if (bias) /* the pointer changes per layer; its alignment is part of the key */
        LT_CHECK(cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    /* column-major: A' = B, B' = A; C and D the same buffer */
    LT_CHECK(cublasLtMatmul(lt->h, c->op, &alpha, B, c->la, A, c->lb, &beta, C, c->lc, C, c->lc, &c->algo, lt->ws,
                            lt->ws_bytes, s));
    return 0;
}
