/*
 * The emulator's scheduler (kern_emu.h), the host versions of the CUDA
 * runtime calls that tests/gpu/test_kern.c makes, and the kernels' launchers
 * (src/model/cuda/kern.cu and attn.cu, compiled here by g++ under the
 * emulation): linked before libtkd, these definitions are the ones the test
 * uses, so tests/gpu/test_kern.c runs every kernel on the CPU.
 */
#include "kern_emu.h"

#include <stdio.h>
#include <stdlib.h>

emu_state emu;

#define EMU_STACK (64 * 1024)
static char *stacks;

static void release(int g) {
    emu.arrived[g] = 0;
    for (int i = 0; i < emu.n; i++)
        if (emu.th[i].state == EMU_WAIT && emu.th[i].group == g && (g == EMU_BLOCK_GROUP || i / 32 == g))
            emu.th[i].state = EMU_RUN;
}

void emu_barrier(int g) {
    emu_thread *t = emu.cur;
    if (++emu.arrived[g] == emu.alive[g]) {
        release(g);
        return;
    }
    t->state = EMU_WAIT;
    t->group = g;
    emu.switches++;
    swapcontext(&t->ctx, &emu.sched);
}

static void entry(void) {
    emu.fn();
    emu_thread *t = emu.cur;
    int w = (int)(t - emu.th) / 32;
    t->state = EMU_DONE;
    emu.pred[t - emu.th] = 0;
    emu.alive[w]--;
    emu.alive[EMU_BLOCK_GROUP]--;
    // those waiting for this thread at a barrier go on (an exited thread has arrived, as on the device)
    if (emu.arrived[w] && emu.arrived[w] == emu.alive[w])
        release(w);
    if (emu.arrived[EMU_BLOCK_GROUP] && emu.arrived[EMU_BLOCK_GROUP] == emu.alive[EMU_BLOCK_GROUP])
        release(EMU_BLOCK_GROUP);
}

void emu_launch(dim3 grid, dim3 block, size_t smem_bytes, std::function<void()> fn) {
    int n = (int)(block.x * block.y * block.z);
    if (block.y != 1 || block.z != 1 || n > EMU_MAX_THREADS || n % 32 || smem_bytes > sizeof emu.smem) {
        fprintf(stderr, "emu: unsupported launch (block %ux%ux%u, %zu bytes of shared memory)\n", block.x, block.y,
                block.z, smem_bytes);
        abort();
    }
    if (!stacks && !(stacks = (char *)malloc((size_t)EMU_MAX_THREADS * EMU_STACK)))
        abort();
    emu.grid = grid;
    emu.block = block;
    emu.n = n;
    emu.fn = fn;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                emu.bid = uint3{bx, by, bz};
                memset(emu.smem, 0xff, smem_bytes); // NaNs: a read before a write shows
                for (int g = 0; g < 33; g++)
                    emu.arrived[g] = 0, emu.alive[g] = g == EMU_BLOCK_GROUP ? n : (g < n / 32 ? 32 : 0);
                for (int i = 0; i < n; i++) {
                    emu_thread *t = &emu.th[i];
                    getcontext(&t->ctx);
                    t->ctx.uc_stack.ss_sp = stacks + (size_t)i * EMU_STACK;
                    t->ctx.uc_stack.ss_size = EMU_STACK;
                    t->ctx.uc_link = &emu.sched;
                    makecontext(&t->ctx, entry, 0);
                    t->tid = uint3{(unsigned)i, 0, 0};
                    t->state = EMU_RUN;
                    emu.pred[i] = 0;
                }
                for (;;) {
                    int ran = 0, done = 0;
                    for (int i = 0; i < n; i++) {
                        if (emu.th[i].state == EMU_RUN) {
                            emu.cur = &emu.th[i];
                            swapcontext(&emu.sched, &emu.th[i].ctx);
                            ran = 1;
                        }
                        done += emu.th[i].state == EMU_DONE;
                    }
                    if (done == n)
                        break;
                    if (!ran) {
                        fprintf(stderr,
                                "emu: deadlock in block (%u,%u,%u): threads wait at barriers others never reach\n", bx,
                                by, bz);
                        abort();
                    }
                }
                emu.blocks++;
            }
}

/* ---- the runtime calls of tests/gpu/test_kern.c and the launchers, on the host ---- */
extern "C" {
cudaError_t cudaGetDeviceCount(int *n) {
    *n = 1;
    return cudaSuccess;
}
cudaError_t cudaMalloc(void **p, size_t bytes) {
    *p = malloc(bytes);
    if (*p)
        memset(*p, 0xff, bytes); // NaNs in what a kernel forgets to write
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void *p) {
    free(p);
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind) {
    memmove(dst, src, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemset(void *p, int v, size_t bytes) {
    memset(p, v, bytes);
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) {
    return cudaSuccess;
}
cudaError_t cudaGetLastError(void) {
    return cudaSuccess;
}
const char *cudaGetErrorString(cudaError_t e) {
    return e ? "emulated error" : "no error";
}
cudaError_t cudaFuncSetAttribute(const void *, enum cudaFuncAttribute, int value) {
    return value <= (int)sizeof emu.smem ? cudaSuccess : cudaErrorInvalidValue;
}
}

#include "../../src/model/cuda/attn.cu"
#include "../../src/model/cuda/kern.cu"
