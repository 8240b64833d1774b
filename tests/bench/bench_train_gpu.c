/*
 * bench_train_gpu: one LoRA training step on one GPU (forward, chunked loss
 * and backward, clipping and AdamW) of the Qwen2.5 shapes with random bf16
 * weights made on the GPU: rank 64 on every linear layer, one packed row of
 * 4096 tokens (four documents of 1024), with and without recompute.
 * Prints tokens/s, model TFLOP/s, MFU and the peak device memory; the
 * issue's target is MFU >= 50% on the 7B shape, and its peer NeMo
 * AutoModel's 42.8% (Qwen2.5-7B, LoRA r16, 4096 tokens, one H100).
 *
 *   MFU = flops_per_token x tokens/s / (dense bf16 peak of the GPU)
 *   flops_per_token = (6 x matmul parameters + 6 x L x H x D x T)
 *                     x (2 + trainable/frozen) / 3      (NeMo AutoModel's count)
 *
 * Environment: BENCH_STEPS (3 timed steps after one warm-up), BENCH_T
 * (4096), BENCH_SHAPES ("0.5b,1.5b,7b"). Skips without a CUDA build or device.
 */
#include "tkd/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TKD_HAVE_CUDA
int main(void) {
    printf("skipped: no CUDA device (tkd was built without CUDA)\n");
    return 0;
}
#else
#include "model_fixture.h"
#include "tkd_cuda.h"

static int env_int(const char *k, int d) {
    const char *v = getenv(k);
    return v && *v ? atoi(v) : d;
}

static const char *const shapes[] = {"0.5b", "1.5b", "7b"}; /* tkd_fixture_qwen25 */

/* one training step; returns seconds (synchronised), or -1; ph gets forward, loss+backward, optimizer seconds */
static double step(tkd_cuda_qwen2 *g, const int *tok, const int *ds, const int *tgt, const uint8_t *mask, int T, long t,
                   double *loss, double ph[3], tkd_err *e) {
    double t0 = tkd_now(), norm = 0;
    long cnt = 0;
    if (tkd_cuda_qwen2_forward(g, tok, ds, 1, T, 0, e) || tkd_cuda_sync(tkd_cuda_qwen2_stream(g), e))
        return -1;
    double t1 = tkd_now();
    tkd_cuda_qwen2_zero_grad(g);
    if (tkd_cuda_qwen2_loss_backward(g, tgt, mask, 1.0f / (float)T, loss, &cnt, e))
        return -1;
    double t2 = tkd_now();
    if (tkd_cuda_qwen2_step(g, 1e-4, 0.9, 0.999, 1e-8, 0.0, t, 1.0, &norm, e))
        return -1;
    if (tkd_cuda_sync(tkd_cuda_qwen2_stream(g), e))
        return -1;
    double t3 = tkd_now();
    ph[0] = t1 - t0;
    ph[1] = t2 - t1;
    ph[2] = t3 - t2;
    *loss /= cnt;
    return t3 - t0;
}

int main(void) {
    char why[256] = "";
    if (tkd_cuda_device_count(why, sizeof why) < 1) {
        printf("skipped: no CUDA device (%s)\n", why);
        return 0;
    }
    tkd_err e = {0};
    char name[128] = "";
    size_t mem = 0;
    double peak_tf = 0;
    if (tkd_cuda_device_info(0, name, sizeof name, &mem, &peak_tf, &e)) {
        fprintf(stderr, "bench_train_gpu: %s\n", e.msg);
        return 1;
    }
    int T = env_int("BENCH_T", 4096), steps = env_int("BENCH_STEPS", 3);
    const char *want = getenv("BENCH_SHAPES") ? getenv("BENCH_SHAPES") : "0.5b,1.5b,7b";
    printf("GPU 0: %s, %.0f GiB, dense bf16 peak %.0f TFLOP/s\n", name, mem / 1073741824.0, peak_tf);
    printf("LoRA r64 alpha 128 on q,k,v,o,gate,up,down; one packed row of %d tokens (4 documents); "
           "%d timed steps after a warm-up\n",
           T, steps);
    printf("MFU = flops_per_token x tokens/s / peak; flops_per_token = (6 x matmul params + 6 L H D T) x "
           "(2 + trainable/frozen) / 3 (NeMo AutoModel)\n\n");
    printf("%-5s %-9s %8s %20s %9s %10s %9s %7s %9s %9s %8s\n", "shape", "recompute", "step s", "fwd/bwd/opt ms",
           "tokens/s", "GFLOP/tok", "TFLOP/s", "MFU", "peak GiB", "plan GiB", "loss");
    int *tok = malloc(sizeof(int) * (size_t)T), *ds = malloc(sizeof(int) * (size_t)T),
        *tgt = malloc(sizeof(int) * (size_t)T);
    uint8_t *mask = malloc((size_t)T);
    int rc = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        tkd_model_config cfg = {0}, *c = &cfg;
        if (!strstr(want, shapes[si]) || tkd_fixture_qwen25(shapes[si], c))
            continue;
        tkd_rng r;
        tkd_rng_seed(&r, 42);
        int doc = T / 4 > 0 ? T / 4 : 1;
        for (int t = 0; t < T; t++) {
            tok[t] = (int)tkd_rng_below(&r, (uint64_t)c->vocab);
            tgt[t] = (int)tkd_rng_below(&r, (uint64_t)c->vocab);
            ds[t] = t / doc * doc;
            mask[t] = 1;
        }
        for (int rec = 0; rec <= 1; rec++) {
            tkd_lora_config lc = {.r = 64, .alpha = 128, .dropout = 0, .targets = (1u << TKD_LORA_NT) - 1};
            tkd_qwen2_opts o = {.B = 1, .T = T, .full = 0, .recompute = rec};
            tkd_cuda_qwen2 *g;
            if (tkd_cuda_qwen2_new_random(&g, c, &lc, &o, 1234, 0, &e)) {
                printf("%-5s %-9s %s\n", shapes[si], rec ? "yes" : "no", e.msg);
                rc = 1;
                continue;
            }
            const tkd_gpu_plan *p = tkd_cuda_qwen2_plan(g);
            double loss = 0, ph[3], bph[3] = {0, 0, 0}, best = 1e30;
            double warm = step(g, tok, ds, tgt, mask, T, 1, &loss, ph, &e);
            int n = warm > 20 ? 1 : steps; /* keep the whole run within minutes */
            for (int s = 0; s < n && warm >= 0; s++) {
                double dt = step(g, tok, ds, tgt, mask, T, 2 + s, &loss, ph, &e);
                if (dt < 0) {
                    warm = -1;
                    break;
                }
                if (dt < best) {
                    best = dt;
                    memcpy(bph, ph, sizeof bph);
                }
            }
            if (warm < 0) {
                printf("%-5s %-9s %s\n", shapes[si], rec ? "yes" : "no", e.msg);
                rc = 1;
            } else {
                double tps = T / best, tf = p->flops_per_token * tps / 1e12;
                char phs[64];
                snprintf(phs, sizeof phs, "%.1f/%.1f/%.1f", 1e3 * bph[0], 1e3 * bph[1], 1e3 * bph[2]);
                printf("%-5s %-9s %8.3f %20s %9.0f %10.2f %9.1f %6.1f%% %9.2f %9.2f %8.3f\n", shapes[si],
                       rec ? "yes" : "no", best, phs, tps, p->flops_per_token / 1e9, tf,
                       peak_tf > 0 ? 100 * tf / peak_tf : 0, tkd_cuda_qwen2_peak_bytes(g) / 1073741824.0,
                       p->total / 1073741824.0, loss);
            }
            fflush(stdout);
            tkd_cuda_qwen2_free(g);
        }
    }
    printf("\npeer: NeMo AutoModel, Qwen2.5-7B LoRA r16, 4096 tokens, one H100: 14,110 tokens/s, 42.8%% MFU "
           "(reported; not run here). Target: >= 50%% MFU on the 7B shape.\n");
    free(tok);
    free(ds);
    free(tgt);
    free(mask);
    return rc;
}
#endif
