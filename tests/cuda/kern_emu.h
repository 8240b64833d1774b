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
#include <string.h>
#include <stdint.h>
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
inline float atomicAdd(float *p, float v) { // one OS thread: atomic by construction
    float o = *p;
    *p = o + v;
    return o;
}

#endif
