/*
 * A small emulation of CUDA on the CPU, so the kernels of src/model/cuda
 * (kern_dev.cuh, attn_dev.cuh) and their launchers (kern.cu, attn.cu) run
 * unchanged, compiled by g++, on a machine without a GPU. Blocks run one after
 * another; the threads of a block are ucontext coroutines switched at each
 * __syncthreads and shuffle, so barriers, shared memory (__shared__ becomes a
 * static: one block at a time) and warp shuffles behave as on the device for
 * code that keeps its warps converged (ours does: it is a bug otherwise, and
 * the emulator reports a deadlock). The CUDA runtime calls the tests make
 * (cudaMalloc, cudaMemcpy, ...) are plain host functions (kern_emu.cpp).
 * Not emulated: memory spaces, races between blocks, timing.
 */
#ifndef TKD_KERN_EMU_H
#define TKD_KERN_EMU_H

#define TKD_KERN_EMU 1

#define __host__
#define __device__
#define __global__
#define __shared__ static
#define __launch_bounds__(n)

#include <cuda_runtime_api.h>

#include <algorithm>
#include <functional>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

using std::max;
using std::min;

enum { EMU_RUN, EMU_WAIT, EMU_DONE };
#define EMU_MAX_THREADS 1024
#define EMU_BLOCK_GROUP 32 /* barrier group of the whole block; 0..31 are warps */

struct emu_thread {
    ucontext_t ctx;
    uint3 tid;
    int state, group;
};

struct emu_state {
    dim3 grid, block;
    uint3 bid;
    int n; /* threads in the block */
    emu_thread *cur, th[EMU_MAX_THREADS];
    ucontext_t sched;
    int arrived[33], alive[33];     /* per barrier group */
    uint64_t slot[EMU_MAX_THREADS]; /* shuffle values */
    int pred[EMU_MAX_THREADS];
    uint32_t mma[EMU_MAX_THREADS][6]; /* mma fragments */
    std::function<void()> fn;
    alignas(16) unsigned char smem[256 * 1024]; /* dynamic shared memory */
    long blocks, switches;
};
extern emu_state emu;

#define threadIdx (emu.cur->tid)
#define blockIdx (emu.bid)
#define blockDim (emu.block)
#define gridDim (emu.grid)

void emu_barrier(int group);
void emu_launch(dim3 grid, dim3 block, size_t smem_bytes, std::function<void()> fn);

#define KP_STREAM(s) ((cudaStream_t)(s))
#define KP_DYN_SMEM(name) float *name = (float *)emu.smem
#define KP_LAUNCH(kern, grid, block, smem, st, ...)                                                                    \
    ((void)(st), emu_launch(dim3(grid), dim3(block), smem, [&] { kern(__VA_ARGS__); }))
static inline int kp_launched(void) {
    return 0;
}

inline void __syncthreads(void) {
    emu_barrier(EMU_BLOCK_GROUP);
}
inline int __syncthreads_or(int p) {
    emu.pred[threadIdx.x] = p != 0;
    emu_barrier(EMU_BLOCK_GROUP);
    int any = 0;
    for (int i = 0; i < emu.n; i++)
        any |= emu.pred[i];
    emu_barrier(EMU_BLOCK_GROUP);
    return any;
}
template <class T> inline T emu_shfl(T v, int src) {
    int w = threadIdx.x >> 5;
    memcpy(&emu.slot[threadIdx.x], &v, sizeof v);
    emu_barrier(w);
    T r;
    memcpy(&r, &emu.slot[w * 32 + (src & 31)], sizeof r);
    emu_barrier(w);
    return r;
}
template <class T> inline T __shfl_sync(unsigned, T v, int src) {
    return emu_shfl(v, src);
}
template <class T> inline T __shfl_xor_sync(unsigned, T v, int o) {
    return emu_shfl(v, (int)(threadIdx.x & 31) ^ o);
}
/* mma.m16n8k16 bf16 -> fp32 of one warp, from the fragment layout of the PTX ISA
 * (kp_mma in kern_priv.cuh): every lane posts its registers, each lane then
 * computes its four outputs from the gathered A (16x16) and B (16x8) */
inline float emu_bf16_lo(uint32_t r) {
    uint32_t u = r << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
inline float emu_bf16_hi(uint32_t r) {
    uint32_t u = r & 0xffff0000u;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
inline void kp_mma(float *c, const uint32_t *a, const uint32_t *b) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    for (int i = 0; i < 4; i++)
        emu.mma[threadIdx.x][i] = a[i];
    emu.mma[threadIdx.x][4] = b[0];
    emu.mma[threadIdx.x][5] = b[1];
    emu_barrier(w);
    float A[16][16], B[16][8];
    for (int L = 0; L < 32; L++) {
        const uint32_t *r = emu.mma[w * 32 + L];
        int gl = L >> 2, tl = L & 3;
        A[gl][2 * tl] = emu_bf16_lo(r[0]), A[gl][2 * tl + 1] = emu_bf16_hi(r[0]);
        A[gl + 8][2 * tl] = emu_bf16_lo(r[1]), A[gl + 8][2 * tl + 1] = emu_bf16_hi(r[1]);
        A[gl][2 * tl + 8] = emu_bf16_lo(r[2]), A[gl][2 * tl + 9] = emu_bf16_hi(r[2]);
        A[gl + 8][2 * tl + 8] = emu_bf16_lo(r[3]), A[gl + 8][2 * tl + 9] = emu_bf16_hi(r[3]);
        B[2 * tl][gl] = emu_bf16_lo(r[4]), B[2 * tl + 1][gl] = emu_bf16_hi(r[4]);
        B[2 * tl + 8][gl] = emu_bf16_lo(r[5]), B[2 * tl + 9][gl] = emu_bf16_hi(r[5]);
    }
    for (int e = 0; e < 4; e++) {
        int row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
        float acc = 0;
        for (int k = 0; k < 16; k++)
            acc += A[row][k] * B[k][col];
        c[e] += acc;
    }
    emu_barrier(w);
}
inline float atomicAdd(float *p, float v) { // one OS thread: atomic by construction
    float o = *p;
    *p = o + v;
    return o;
}

#endif
