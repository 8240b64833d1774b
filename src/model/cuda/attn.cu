/*
 * Fused causal grouped-query attention with packing, flash style: no (T,T)
 * matrix, an online softmax over tiles of 32 keys, the row's logsumexp saved
 * for the backward, which recomputes the probabilities tile by tile (FA2's
 * split: one kernel for dQ over key tiles, one for dK and dV over query
 * tiles, no atomics, so the result is deterministic). Token t of a row
 * attends keys [docstart[t], t]; the CPU reference is op_attention_fwd/bwd
 * (ops.c), and the tile algorithm (masks, online softmax, lse, dS) is the
 * __host__ __device__ code of kern_math.cuh that tests/cuda/test_kern_host.cu
 * runs on the CPU against it.
 *
 * This first version computes on the CUDA cores in fp32 (bf16 tiles are
 * widened into shared memory): a warp owns 4 query rows (or 4 keys in the
 * dK/dV kernel), a lane owns one key of the tile for the scores and 1/32 of
 * the head dimension for the outputs. It is the correct baseline; tensor
 * cores (mma.sync m16n8k16 bf16) and the comparison with cuDNN's fused
 * attention (cudnn_frontend / backend API, which this toolkit ships) are
 * left to a session with a GPU, where they can be measured and checked.
 * The head dimension is a template bound DM (64, 128, 256); D <= DM is
 * zero-padded, so every D up to 256 runs (Qwen2.5: 64 and 128).
 */
#include "attn_dev.cuh"
#include "attn_mma_dev.cuh"

#include <stdlib.h>

/* ---- launchers: the head dimension picks the template bound ---- */

static int attn_check(int B, int T, int H, int KV, int D) {
    if (B <= 0 || T <= 0 || H <= 0 || KV <= 0 || H % KV || D <= 0 || D > 256)
        return (int)cudaErrorInvalidValue;
    return 0;
}

template <int DM>
static int attn_fwd_launch(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                           const int *docstart, int B, int T, int H, int KV, int D, cudaStream_t st) {
    size_t bytes = (2 * AT_BC * (DM + 1) + AT_BR * DM) * sizeof(float);
    cudaError_t e =
        cudaFuncSetAttribute((const void *)k_attn_fwd<DM>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (e)
        return (int)e;
    dim3 g((T + AT_BR - 1) / AT_BR, H, B);
    KP_LAUNCH(k_attn_fwd<DM>, g, AT_THREADS, bytes, st, out, lse, q, k, v, docstart, T, H, KV, D,
              1.0f / sqrtf((float)D));
    return kp_launched();
}

template <int DM>
static int attn_fwd_mma_launch(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                               const int *docstart, int B, int T, int H, int KV, int D, cudaStream_t st) {
    size_t bytes = (size_t)(MM_BR + 2 * MM_BC) * (DM + 8) * sizeof(uint16_t);
    cudaError_t e =
        cudaFuncSetAttribute((const void *)k_attn_fwd_mma<DM>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (e)
        return (int)e;
    dim3 g((T + MM_BR - 1) / MM_BR, H, B);
    KP_LAUNCH(k_attn_fwd_mma<DM>, g, MM_THREADS, bytes, st, out, lse, q, k, v, docstart, T, H, KV, D,
              1.0f / sqrtf((float)D));
    return kp_launched();
}

/* the tensor-core kernels for D <= 128, the CUDA-core ones above that or when
 * TKD_ATTN_SCALAR is set (tests run both; a GPU session compares them) */
static int attn_use_mma(int D) {
    const char *env = getenv("TKD_ATTN_SCALAR");
    return D <= 128 && !(env && *env && *env != '0');
}

extern "C" int tkd_k_attn_fwd(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                              const int *docstart, int B, int T, int H, int KV, int D, tkd_stream_t s) {
    int e = attn_check(B, T, H, KV, D);
    if (e)
        return e;
    if (attn_use_mma(D))
        return D <= 64 ? attn_fwd_mma_launch<64>(out, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s))
                       : attn_fwd_mma_launch<128>(out, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    if (D <= 64)
        return attn_fwd_launch<64>(out, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    if (D <= 128)
        return attn_fwd_launch<128>(out, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    return attn_fwd_launch<256>(out, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
}

extern "C" size_t tkd_k_attn_bwd_scratch(int B, int T, int H, int KV, int D) {
    (void)KV;
    (void)D;
    return (size_t)B * H * T * sizeof(float); // Dt (B,H,T)
}

template <int DM>
static int attn_bwd_launch(tkd_bf16 *dq, tkd_bf16 *dk, tkd_bf16 *dv, float *Dt, const tkd_bf16 *dout, const float *lse,
                           const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v, const int *docstart, int B, int T,
                           int H, int KV, int D, cudaStream_t st) {
    float scale = 1.0f / sqrtf((float)D);
    size_t bytes = (2 * AT_BC * (DM + 1) + 2 * AT_BR * DM) * sizeof(float); // both kernels
    cudaError_t e =
        cudaFuncSetAttribute((const void *)k_attn_bwd_dq<DM>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (!e)
        e = cudaFuncSetAttribute((const void *)k_attn_bwd_dkv<DM>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 (int)bytes);
    if (e)
        return (int)e;
    dim3 gq((T + AT_BR - 1) / AT_BR, H, B), gk((T + AT_BR - 1) / AT_BR, KV, B);
    KP_LAUNCH(k_attn_bwd_dq<DM>, gq, AT_THREADS, bytes, st, dq, dout, lse, Dt, q, k, v, docstart, T, H, KV, D, scale);
    int r = kp_launched();
    if (r)
        return r;
    KP_LAUNCH(k_attn_bwd_dkv<DM>, gk, AT_THREADS, bytes, st, dk, dv, dout, lse, Dt, q, k, v, docstart, T, H, KV, D,
              scale);
    return kp_launched();
}

template <int DM>
static int attn_bwd_mma_launch(tkd_bf16 *dq, tkd_bf16 *dk, tkd_bf16 *dv, float *Dt, const tkd_bf16 *dout,
                               const float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                               const int *docstart, int B, int T, int H, int KV, int D, cudaStream_t st) {
    float scale = 1.0f / sqrtf((float)D);
    size_t bytes = (size_t)(2 * MM_BR + 2 * MM_BC) * (DM + 8) * sizeof(uint16_t); // both kernels
    cudaError_t e = cudaFuncSetAttribute((const void *)k_attn_bwd_dq_mma<DM>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (!e)
        e = cudaFuncSetAttribute((const void *)k_attn_bwd_dkv_mma<DM>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 (int)bytes);
    if (e)
        return (int)e;
    dim3 gq((T + MM_BR - 1) / MM_BR, H, B), gk((T + MM_BR - 1) / MM_BR, KV, B);
    KP_LAUNCH(k_attn_bwd_dq_mma<DM>, gq, MM_THREADS, bytes, st, dq, dout, lse, Dt, q, k, v, docstart, T, H, KV, D,
              scale);
    int r = kp_launched();
    if (r)
        return r;
    KP_LAUNCH(k_attn_bwd_dkv_mma<DM>, gk, MM_THREADS, bytes, st, dk, dv, dout, lse, Dt, q, k, v, docstart, T, H, KV, D,
              scale);
    return kp_launched();
}

extern "C" int tkd_k_attn_bwd(tkd_bf16 *dq, tkd_bf16 *dk, tkd_bf16 *dv, void *scratch, const tkd_bf16 *dout,
                              const tkd_bf16 *out, const float *lse, const tkd_bf16 *q, const tkd_bf16 *k,
                              const tkd_bf16 *v, const int *docstart, int B, int T, int H, int KV, int D,
                              tkd_stream_t s) {
    int e = attn_check(B, T, H, KV, D);
    if (e)
        return e;
    float *Dt = (float *)scratch;
    size_t warps = (size_t)B * T * H;
    KP_LAUNCH(k_attn_dt, (unsigned)((warps * 32 + KP_THREADS - 1) / KP_THREADS), KP_THREADS, 0, KP_STREAM(s), Dt, dout,
              out, B, T, H, D);
    if ((e = kp_launched()))
        return e;
    if (attn_use_mma(D))
        return D <= 64
                   ? attn_bwd_mma_launch<64>(dq, dk, dv, Dt, dout, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s))
                   : attn_bwd_mma_launch<128>(dq, dk, dv, Dt, dout, lse, q, k, v, docstart, B, T, H, KV, D,
                                              KP_STREAM(s));
    if (D <= 64)
        return attn_bwd_launch<64>(dq, dk, dv, Dt, dout, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    if (D <= 128)
        return attn_bwd_launch<128>(dq, dk, dv, Dt, dout, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    return attn_bwd_launch<256>(dq, dk, dv, Dt, dout, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
}
