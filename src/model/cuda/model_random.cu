/*
 * Random weights made on the GPU for tkd_cuda_qwen2_new_random (benchmarks:
 * a 7B model needs no 30 GB of host fp32 and no copy): a counter-based hash
 * per element, so the values depend on (seed, index) only.
 */
#include "model_priv.h"

#include <cuda_bf16.h>

__device__ static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* T float or __nv_bfloat16. mode 0: the constant a; 1: normal with std a; 2: uniform in (-a, a) */
template <typename T> __global__ static void fill_kernel(T *p, size_t n, uint64_t seed, int mode, float a) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float x = a;
        if (mode) {
            uint64_t h = mix64(seed + (i + 1) * 0x9e3779b97f4a7c15ULL);
            float u1 = ((h >> 40) + 0.5f) * 0x1.0p-24f, u2 = ((h & 0xffffff) + 0.5f) * 0x1.0p-24f;
            x = mode == 1 ? a * sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2) : a * (2.0f * u1 - 1.0f);
        }
        if constexpr (sizeof(T) == 2)
            p[i] = __float2bfloat16_rn(x);
        else
            p[i] = x;
    }
}

template <typename T> static int fill(T *p, size_t n, uint64_t seed, int mode, float a, cudaStream_t s) {
    if (!n)
        return 0;
    size_t blocks = (n + 255) / 256;
    fill_kernel<T><<<(unsigned)(blocks < 65536 ? blocks : 65536), 256, 0, s>>>(p, n, seed, mode, a);
    return (int)cudaGetLastError();
}

int cm_fill_f32(float *p, size_t n, uint64_t seed, int mode, float a, cudaStream_t s) {
    return fill(p, n, seed, mode, a, s);
}

int cm_fill_bf16(tkd_bf16 *p, size_t n, uint64_t seed, int mode, float a, cudaStream_t s) {
    return fill((__nv_bfloat16 *)p, n, seed, mode, a, s);
}
