/*
 * Internal to the kernel files (kern.cu, attn.cu): warp and block
 * reductions, the bf16 casts and the launch check. Every launcher returns
 * the launch's cudaError_t (0 when it went well).
 */
#ifndef TKD_KERN_PRIV_CUH
#define TKD_KERN_PRIV_CUH

#include "kern_math.cuh"
#include "tkd_cuda.h"

#include <cuda_runtime.h>

#define KP_STREAM(s) ((cudaStream_t)(s))
#define KP_FULL 0xffffffffu

/* elementwise launches: 256 threads, grid-stride loops over at most this many blocks */
#define KP_THREADS 256
#define KP_MAX_BLOCKS 65536

static inline int kp_launched(void) { return (int)cudaGetLastError(); }

static inline unsigned kp_blocks(size_t n) {
    size_t b = (n + KP_THREADS - 1) / KP_THREADS;
    return (unsigned)(b < KP_MAX_BLOCKS ? (b ? b : 1) : KP_MAX_BLOCKS);
}

__device__ __forceinline__ float kp_ld(const tkd_bf16 *p) { return km_bf16_to_f32(*p); }
__device__ __forceinline__ void kp_st(tkd_bf16 *p, float v) { *p = km_f32_to_bf16(v); }

__device__ __forceinline__ float kp_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(KP_FULL, v, o);
    return v;
}
__device__ __forceinline__ float kp_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(KP_FULL, v, o));
    return v;
}
__device__ __forceinline__ double kp_warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(KP_FULL, v, o);
    return v;
}
/* block-wide sum / max (blockDim.x a multiple of 32, at most 1024); every thread gets the result */
__device__ __forceinline__ float kp_block_sum(float v, float *sh /* 33 floats */) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = kp_warp_sum(v);
    __syncthreads(); // sh may be in use by a previous reduction
    if (lane == 0)
        sh[w] = v;
    __syncthreads();
    if (w == 0) {
        float x = lane < nw ? sh[lane] : 0.0f;
        x = kp_warp_sum(x);
        if (lane == 0)
            sh[32] = x;
    }
    __syncthreads();
    return sh[32];
}
__device__ __forceinline__ float kp_block_max(float v, float *sh /* 33 floats */) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = kp_warp_max(v);
    __syncthreads();
    if (lane == 0)
        sh[w] = v;
    __syncthreads();
    if (w == 0) {
        float x = lane < nw ? sh[lane] : -INFINITY;
        x = kp_warp_max(x);
        if (lane == 0)
            sh[32] = x;
    }
    __syncthreads();
    return sh[32];
}

#endif
