/*
 * Internal to the CUDA model (model.cu, model_pass.cu, matmul.cu): the
 * model's state on one GPU, the cuBLASLt wrapper, and the check macros that
 * turn a failed CUDA or cuBLASLt call into a tkd_err naming the call.
 */
#ifndef TKD_CUDA_MODEL_PRIV_H
#define TKD_CUDA_MODEL_PRIV_H

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "../ops.h"
#include "tkd/core.h"
#include "tkd/model.h"
}
#include "../gpu_layout.h"
#include "tkd_cuda.h"

/* a CUDA runtime call: on failure, return a tkd_err naming the call (needs tkd_err *e in scope) */
#define CUDA_CHECK(call)                                                                                               \
    do {                                                                                                               \
        cudaError_t cuda_rc_ = (call);                                                                                 \
        if (cuda_rc_ != cudaSuccess)                                                                                   \
            return tkd_err_set(e, cuda_rc_ == cudaErrorMemoryAllocation ? TKD_ENOMEM : TKD_EIO,                        \
                               "CUDA: %s failed: %s (%s:%d)", #call, cudaGetErrorString(cuda_rc_), __FILE__,           \
                               __LINE__);                                                                              \
    } while (0)

/* a kernel launcher of part 1 (returns 0 or a cudaError_t) */
#define KERNEL_CHECK(call)                                                                                             \
    do {                                                                                                               \
        int k_rc_ = (call);                                                                                            \
        if (k_rc_)                                                                                                     \
            return tkd_err_set(e, TKD_EIO, "CUDA kernel: %s failed: %s (%s:%d)", #call,                                \
                               cudaGetErrorString((cudaError_t)k_rc_), __FILE__, __LINE__);                            \
    } while (0)

#define LT_CHECK(call)                                                                                                 \
    do {                                                                                                               \
        cublasStatus_t lt_rc_ = (call);                                                                                \
        if (lt_rc_ != CUBLAS_STATUS_SUCCESS)                                                                           \
            return tkd_err_set(e, TKD_EIO, "cuBLASLt: %s failed: %s (%s:%d)", #call, cublasLtGetStatusString(lt_rc_),  \
                               __FILE__, __LINE__);                                                                    \
    } while (0)

/* a sub-call that already filled e */
#define TRY(call)                                                                                                      \
    do {                                                                                                               \
        int try_rc_ = (call);                                                                                          \
        if (try_rc_)                                                                                                   \
            return try_rc_;                                                                                            \
    } while (0)

/* ---- cuBLASLt: row-major bf16 products with fp32 accumulation ---- */
#define TKD_LT_CACHE 512 /* distinct product shapes remembered with their algorithm */

typedef struct lt_entry {
    int ta, tb, m, n, k, lda, ldb, ldc, c_f32, bias;
    unsigned align[5]; /* A, B, C, D, bias pointer alignment in bytes (<= 256) */
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
} lt_entry;

typedef struct tkd_lt {
    cublasLtHandle_t h;
    void *ws; /* the plan's cuBLASLt workspace */
    size_t ws_bytes;
    lt_entry *cache;
    int n_cache;
} tkd_lt;

int tkd_lt_init(tkd_lt *lt, void *ws, size_t ws_bytes, tkd_err *e);
void tkd_lt_free(tkd_lt *lt);
/*
 * Row-major C (m,n) = alpha op(A) op(B) + beta C, fp32 accumulation:
 * op(A) (m,k) is A (m,k) with lda, or A^T of A (k,m) when ta; op(B) (k,n)
 * is B (k,n) with ldb, or B^T of B (n,k) when tb. A, B bf16; C bf16, or
 * fp32 when c_f32. bias (n) bf16 or NULL is added to every row (beta must
 * be 0 then). On stream s.
 */
int tkd_lt_mm(tkd_lt *lt, cudaStream_t s, int ta, int tb, int m, int n, int k, float alpha, const void *A, int lda,
              const void *B, int ldb, float beta, void *C, int ldc, int c_f32, const void *bias, tkd_err *e);

/* ---- the model ---- */

/* one layer set's buffers (the plan's tkd_gpu_layer_offs turned into pointers) */
typedef struct cm_acts {
    tkd_bf16 *ln1, *q, *k, *v, *atty, *mid, *ln2, *g, *u, *h;
    float *rstd1, *rstd2, *lse;
    tkd_bf16 *ax[TKD_LORA_NT];
} cm_acts;

struct tkd_cuda_qwen2 {
    int dev;
    cudaStream_t s;
    tkd_lt lt;
    tkd_gpu_layout lay;
    tkd_gpu_plan plan;
    tkd_qwen2_opts o;
    char *wmem, *amem, *smem; /* the three allocations */
    size_t mem_total, peak;   /* device memory (bytes): size, most in use seen */
    /* weights */
    tkd_bf16 *w;         /* base (n_model) in tkd_model's order */
    float *master;       /* trainable fp32 (n_train) */
    tkd_bf16 *lora_bf16; /* adapter copy for compute, NULL with full */
    /* activations */
    int *tokens, *docstart, *pos, *targets;
    uint8_t *mask;
    tkd_bf16 *resid, *lnf, *tmp_out, *dlogits;
    float *rstdf, *loss, *logits;
    tkd_bf16 *dresid, *dln, *dq, *datty, *dk, *dv, *dg, *du, *dh, *dax, *xdrop, *xtmp;
    void *attn_scratch;
    /* state */
    float *grads, *adam_m, *adam_v, *norm_cell;
    void *sumsq_scratch;
    /* the last forward */
    int B, T, has_doc;
    uint64_t drop_seed;
    int *h_pos, *h_tgt;  /* host staging (N) */
    cudaError_t pending; /* an error from a call that returns void (zero_grad), reported by the next call */
};

/* the set of layer l's activations (set 0 with recompute) */
void cm_acts_of(tkd_cuda_qwen2 *q, int set, cm_acts *a);
/* report an error left by a void call (zero_grad), and select the model's device */
int cm_pending(tkd_cuda_qwen2 *q, tkd_err *e);
/* random fills on stream s (model_random.cu), launchers returning a cudaError_t:
 * mode 0 the constant a, 1 normal with std a, 2 uniform in (-a, a) */
int cm_fill_f32(float *p, size_t n, uint64_t seed, int mode, float a, cudaStream_t s);
int cm_fill_bf16(tkd_bf16 *p, size_t n, uint64_t seed, int mode, float a, cudaStream_t s);
/* record the device memory in use into q->peak */
void cm_sample_peak(tkd_cuda_qwen2 *q);

static inline tkd_bf16 *cm_w(tkd_cuda_qwen2 *q, int k) {
    return q->w + q->lay.moff[k];
}
static inline float *cm_g(tkd_cuda_qwen2 *q, int k) { /* full fine-tuning's gradient of weight kind k */
    return q->lay.full ? q->grads + q->lay.moff[k] : NULL;
}
static inline int cm_has_lora(const tkd_cuda_qwen2 *q, int t) {
    return q->lay.lora && (q->lay.lcfg.targets >> t & 1);
}
static inline size_t cm_lora_a(const tkd_cuda_qwen2 *q, int l, int t) { /* element offset of A (r,in) */
    return q->lay.lora_off_a[t] + (size_t)l * q->lay.lcfg.r * q->lay.lora_in[t];
}
static inline size_t cm_lora_b(const tkd_cuda_qwen2 *q, int l, int t) { /* element offset of B (out,r) */
    return q->lay.lora_off_b[t] + (size_t)l * q->lay.lora_out[t] * q->lay.lcfg.r;
}

#endif
