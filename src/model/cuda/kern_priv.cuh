/*
 * Internal to the kernel files (kern.cu, attn.cu): warp and block
 * reductions, the bf16 casts and the launch check. Every launcher returns
 * the launch's cudaError_t (0 when it went well).
 */
#ifndef TKD_KERN_PRIV_CUH
#define TKD_KERN_PRIV_CUH

#include "kern_math.cuh"
#include "tkd_cuda.h"

#define KP_FULL 0xffffffffu

/* elementwise launches: 256 threads, grid-stride loops over at most this many blocks */
#define KP_THREADS 256
#define KP_MAX_BLOCKS 65536

#ifndef TKD_KERN_EMU /* the real thing (TKD_KERN_EMU: tests/cuda/kern_emu.h provides these) */
#include <cuda_runtime.h>

#define KP_STREAM(s) ((cudaStream_t)(s))
/* the kernel's dynamic shared memory, as floats */
#define KP_DYN_SMEM(name) extern __shared__ float name[]
/* kern<<<grid, block, smem, stream>>>(args), spelled so the emulator can run it */
#define KP_LAUNCH(kern, grid, block, smem, st, ...) kern<<<grid, block, smem, st>>>(__VA_ARGS__)

static inline int kp_launched(void) {
    return (int)cudaGetLastError();
}

/* c (16x8, fp32) += a (16x16 bf16, row) * b (16x8 bf16, col) on the tensor cores, one warp.
 * Fragments (PTX ISA, mma.m16n8k16, g = lane/4, t = lane%4; a register holds two
 * bf16, the lower column/row in the low half): a[0] A[g][2t..2t+1], a[1] A[g+8][2t..],
 * a[2] A[g][2t+8..], a[3] A[g+8][2t+8..]; b[0] B[2t..2t+1][g], b[1] B[2t+8..][g];
 * c[0..1] C[g][2t..2t+1], c[2..3] C[g+8][2t..2t+1]. tests/cuda/kern_emu.h implements
 * the same contract on the CPU. */
__device__ __forceinline__ void kp_mma(float *c, const uint32_t *a, const uint32_t *b) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#endif

/* 16-byte vector accesses of bf16 arrays: n a multiple of 8, every pointer (NULL: unused) 16-byte aligned */
static inline int kp_vec8(size_t n, const void *a, const void *b, const void *c, const void *d) {
    return !(n & 7) && !(((uintptr_t)a | (uintptr_t)b | (uintptr_t)c | (uintptr_t)d) & 15);
}

static inline unsigned kp_blocks(size_t n) {
    size_t b = (n + KP_THREADS - 1) / KP_THREADS;
    return (unsigned)(b < KP_MAX_BLOCKS ? (b ? b : 1) : KP_MAX_BLOCKS);
}

/* an elementwise kernel template over n bf16 on stream s: kern<8> (16-byte vectors) where vec8, else kern<1> */
#define KP_LAUNCH_VEC(kern, vec8, n, s, ...)                                                                           \
    do {                                                                                                               \
        if (vec8)                                                                                                      \
            KP_LAUNCH(kern<8>, kp_blocks((n) / 8), KP_THREADS, 0, KP_STREAM(s), __VA_ARGS__);                          \
        else                                                                                                           \
            KP_LAUNCH(kern<1>, kp_blocks(n), KP_THREADS, 0, KP_STREAM(s), __VA_ARGS__);                                \
    } while (0)

__device__ __forceinline__ float kp_ld(const tkd_bf16 *p) {
    return km_bf16_to_f32(*p);
}
__device__ __forceinline__ void kp_st(tkd_bf16 *p, float v) {
    *p = km_f32_to_bf16(v);
}

/* fp32 sums, and fp64 ones (the deterministic sums of squares), in the same fixed order */
template <class T> __device__ __forceinline__ T kp_warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(KP_FULL, v, o);
    return v;
}
__device__ __forceinline__ float kp_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(KP_FULL, v, o));
    return v;
}
/* block-wide sum / max (blockDim.x a multiple of 32, at most 1024); every thread gets the result */
template <class T> __device__ __forceinline__ T kp_block_sum(T v, T *sh /* 33 of them */) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = kp_warp_sum(v);
    __syncthreads(); // sh may be in use by a previous reduction
    if (lane == 0)
        sh[w] = v;
    __syncthreads();
    if (w == 0) {
        T x = lane < nw ? sh[lane] : (T)0;
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
