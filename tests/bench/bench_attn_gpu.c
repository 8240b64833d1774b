/*
 * The fused attention kernels on one GPU (tkd_k_attn_fwd/bwd): causal GQA over
 * 4096-token rows at the Qwen2.5 shapes, the tensor-core kernels against the
 * CUDA-core ones (TKD_ATTN_SCALAR=1) in the same run. FLOPs as FlashAttention
 * counts them: forward 4*B*H*D*(attended pairs), backward 2.5 times that
 * (without its recomputation). cuDNN's fused attention, the other peer the
 * issue names, is not wired yet: its comparison belongs in this table.
 * Skips without CUDA or a device. Takes a few seconds on an H100.
 */
#include <stdio.h>

#ifndef TKD_HAVE_CUDA
int main(void) {
    printf("skipped: no CUDA device (built without CUDA)\n");
    return 0;
}
#else

#include "tkd_cuda.h"

#include <cuda_runtime_api.h>
#include <stdlib.h>
#include <string.h>

#define CU(x)                                                                                                          \
    do {                                                                                                               \
        int rc_ = (int)(x);                                                                                            \
        if (rc_) {                                                                                                     \
            printf("error %s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString((cudaError_t)rc_));             \
            exit(1);                                                                                                   \
        }                                                                                                              \
    } while (0)

static void *fill(size_t n) { // n bf16 in [-1, 1), from the host
    uint16_t *h = malloc(n * 2);
    uint64_t z = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n; i++) {
        z ^= z << 13, z ^= z >> 7, z ^= z << 17;
        float f = (float)((z >> 11) * 0x1.0p-53) * 2.0f - 1.0f;
        uint32_t u;
        memcpy(&u, &f, 4);
        h[i] = (uint16_t)(u >> 16);
    }
    void *d;
    CU(cudaMalloc(&d, n * 2));
    CU(cudaMemcpy(d, h, n * 2, cudaMemcpyHostToDevice));
    free(h);
    return d;
}

/* median-free and simple: the mean of reps after one warm-up */
static float time_ms(int bwd, void **b, int B, int T, int H, int KV, int D, int reps) {
    cudaEvent_t e0, e1;
    CU(cudaEventCreate(&e0));
    CU(cudaEventCreate(&e1));
    for (int r = -1; r < reps; r++) {
        if (r == 0)
            CU(cudaEventRecord(e0, 0));
        if (!bwd)
            CU(tkd_k_attn_fwd(b[0], b[1], b[2], b[3], b[4], b[5], B, T, H, KV, D, NULL));
        else
            CU(tkd_k_attn_bwd(b[6], b[7], b[8], b[9], b[10], b[0], b[1], b[2], b[3], b[4], b[5], B, T, H, KV, D, NULL));
    }
    CU(cudaEventRecord(e1, 0));
    CU(cudaEventSynchronize(e1));
    float ms;
    CU(cudaEventElapsedTime(&ms, e0, e1));
    cudaEventDestroy(e0), cudaEventDestroy(e1);
    return ms / reps;
}

int main(void) {
    int ndev = 0;
    cudaError_t ce = cudaGetDeviceCount(&ndev);
    if (ce != cudaSuccess || !ndev) {
        printf("skipped: no CUDA device (%s)\n", ce != cudaSuccess ? cudaGetErrorString(ce) : "none visible");
        return 0;
    }
    struct cudaDeviceProp prop;
    CU(cudaGetDeviceProperties(&prop, 0));
    struct {
        const char *name;
        int H, KV, D, docs; // docs: documents packed per 4096-token row (1: one causal row)
    } shapes[] = {
        {"7B", 28, 4, 128, 1}, {"7B packed x8", 28, 4, 128, 8}, {"1.5B", 12, 2, 128, 1}, {"0.5B", 14, 2, 64, 1}};
    int B = 1, T = 4096;
    printf("attention kernels on %s, B=%d T=%d (bf16 in/out, fp32 accumulation)\n", prop.name, B, T);
    printf("%-14s %-12s %10s %10s %10s %10s\n", "shape", "kernels", "fwd ms", "fwd TF/s", "bwd ms", "bwd TF/s");
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        int H = shapes[si].H, KV = shapes[si].KV, D = shapes[si].D, L = T / shapes[si].docs;
        size_t nq = (size_t)B * T * H * D, nk = (size_t)B * T * KV * D;
        int *ds = malloc((size_t)B * T * sizeof(int));
        double pairs = 0;
        for (int t = 0; t < B * T; t++) {
            ds[t] = (t % T) / L * L;
            pairs += (t % T) - ds[t] + 1;
        }
        void *b[11];
        b[0] = fill(nq);                                   // out
        CU(cudaMalloc(&b[1], (size_t)B * H * T * 4));      // lse
        b[2] = fill(nq), b[3] = fill(nk), b[4] = fill(nk); // q k v
        CU(cudaMalloc(&b[5], (size_t)B * T * sizeof(int)));
        CU(cudaMemcpy(b[5], ds, (size_t)B * T * sizeof(int), cudaMemcpyHostToDevice));
        CU(cudaMalloc(&b[6], nq * 2)); // dq dk dv
        CU(cudaMalloc(&b[7], nk * 2));
        CU(cudaMalloc(&b[8], nk * 2));
        CU(cudaMalloc(&b[9], tkd_k_attn_bwd_scratch(B, T, H, KV, D)));
        b[10] = fill(nq); // dout
        double fwd_flop = 4.0 * H * D * pairs;
        for (int scalar = 0; scalar < 2; scalar++) {
            setenv("TKD_ATTN_SCALAR", scalar ? "1" : "0", 1);
            int reps = scalar ? 2 : 10;
            float f = time_ms(0, b, B, T, H, KV, D, reps), g = time_ms(1, b, B, T, H, KV, D, reps);
            printf("%-14s %-12s %10.3f %10.1f %10.3f %10.1f\n", shapes[si].name, scalar ? "CUDA cores" : "tensor cores",
                   f, fwd_flop / f / 1e9, g, 2.5 * fwd_flop / g / 1e9);
        }
        for (int i = 0; i < 11; i++)
            cudaFree(b[i]);
        free(ds);
    }
    printf("TF/s: FlashAttention's count (fwd 4*H*D per attended pair, bwd 2.5x fwd); cuDNN's fused attention not "
           "measured yet\n");
    return 0;
}
#endif
