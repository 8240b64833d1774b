/*
 * bench_model: a LoRA training step of a Qwen2 shape (hidden 512, 8 layers,
 * 8 heads, 2 kv heads, intermediate 1408, vocab 151,936 tied, sequence 512)
 * on the CPU, as model FLOPs per second against OpenBLAS sgemm's peak
 * measured in the same run (target >= 50%), and generation tokens/s at batch
 * 1 and 16. Environment: BENCH_STEPS (3), BENCH_VOCAB, BENCH_T, BENCH_LAYERS.
 *
 * Model FLOPs of a LoRA step (base frozen, so no weight gradients):
 *   forward 2*P*T + backward (input gradients) 2*P*T over the projections and
 *   the head (P their parameters), causal attention 2*T^2*H*D per layer
 *   forward and twice that backward, and the adapters' six matmuls.
 */
#include "tkd/model.h"

#include <cblas.h>
#undef I
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int env_int(const char *k, int d) {
    const char *v = getenv(k);
    return v && *v ? atoi(v) : d;
}

static double sgemm_peak(int n, int reps) {
    float *a = malloc(sizeof(float) * (size_t)n * n), *b = malloc(sizeof(float) * (size_t)n * n),
          *c = malloc(sizeof(float) * (size_t)n * n);
    for (size_t i = 0; i < (size_t)n * n; i++)
        a[i] = b[i] = (float)(i % 13) * 0.01f;
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = tkd_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = tkd_now() - t0, f = 2.0 * n * n * n / dt;
        best = f > best ? f : best;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

int main(void) {
    tkd_model_config c = {.hidden = 512,
                          .n_layers = env_int("BENCH_LAYERS", 8),
                          .n_heads = 8,
                          .n_kv_heads = 2,
                          .head_dim = 64,
                          .intermediate = 1408,
                          .vocab = env_int("BENCH_VOCAB", 151936),
                          .max_pos = 4096,
                          .rope_theta = 1e6,
                          .rms_eps = 1e-6,
                          .tie = 1,
                          .bos_id = -1,
                          .eos_id = -1};
    int T = env_int("BENCH_T", 512), steps = env_int("BENCH_STEPS", 3), r = 16;
    tkd_err e = {0};
    tkd_model m;
    if (tkd_model_init_random(&m, &c, 1, &e)) {
        fprintf(stderr, "bench_model: %s\n", e.msg);
        return 1;
    }
    tkd_lora lo;
    tkd_lora_config lc = {r, 32, 0.0, (1u << TKD_LORA_NT) - 1};
    tkd_qwen2 *q;
    tkd_qwen2_opts o = {.B = 1, .T = T};
    if (tkd_lora_alloc(&lo, &c, &lc, &e) || tkd_qwen2_new(&q, &m, &lo, &o, &e)) {
        fprintf(stderr, "bench_model: %s\n", e.msg);
        return 1;
    }
    tkd_lora_init(&lo, 2);
    tkd_adamw opt;
    size_t n;
    float *params = tkd_qwen2_params(q, &n);
    tkd_adamw_init(&opt, n, 1e-4, 0.0, &e);
    int *tok = malloc(sizeof(int) * (size_t)T * 2);
    uint8_t *mask = malloc((size_t)T);
    tkd_rng rng;
    tkd_rng_seed(&rng, 3);
    for (int i = 0; i < 2 * T; i++)
        tok[i] = (int)tkd_rng_below(&rng, (uint64_t)c.vocab);
    memset(mask, 1, (size_t)T);

    double peak = sgemm_peak(2048, 4);
    /* model FLOPs of one step */
    double C = c.hidden, QC = c.n_heads * c.head_dim, KC = c.n_kv_heads * c.head_dim, I = c.intermediate;
    double P = c.n_layers * (C * QC * 2 + C * KC * 2 + 3 * C * I) + (double)c.vocab * C;
    double attn = (double)c.n_layers * 2.0 * T * T * QC; // causal, forward
    double ad = 0;
    for (int t = 0; t < TKD_LORA_NT; t++)
        ad += 2.0 * r * (lo.in[t] + lo.out[t]) * c.n_layers * T; // forward of one adapter pass
    double flops = 4.0 * P * T + 3.0 * attn + 3.0 * ad;
    double best = 1e30, total = 0, loss = 0, part[4] = {0, 0, 0, 0}; /* forward, loss, backward, optimizer */
    for (int s = 0; s <= steps; s++) {                               // step 0 warms up
        double t0 = tkd_now();
        long cnt;
        tkd_qwen2_forward(q, tok, NULL, 1, T, 0, &e);
        double t1 = tkd_now();
        loss = tkd_qwen2_loss(q, tok + 1, mask, &cnt) / (double)cnt;
        double t2 = tkd_now();
        tkd_qwen2_zero_grad(q);
        tkd_qwen2_backward(q, tok + 1, mask, 1.0f / (float)cnt, &e);
        double t3 = tkd_now();
        float *g = tkd_qwen2_grads(q, &n);
        tkd_clip_grad_norm(g, n, 1.0);
        tkd_adamw_step(&opt, params, g, 1e-4);
        double dt = tkd_now() - t0;
        if (s) {
            part[0] += t1 - t0;
            part[1] += t2 - t1;
            part[2] += t3 - t2;
            part[3] += t0 + dt - t3;
            best = dt < best ? dt : best;
            total += dt;
        }
    }
    double mean = total / steps, peak2 = sgemm_peak(2048, 4);
    peak = peak2 > peak ? peak2 : peak; // the higher of before and after: a conservative fraction
    printf("LoRA training step, Qwen2 hidden %d, %d layers, %d/%d heads, intermediate %d, vocab %d tied, seq %d, "
           "r %d on q,k,v,o,gate,up,down (%zu adapter params)\n",
           c.hidden, c.n_layers, c.n_heads, c.n_kv_heads, c.intermediate, c.vocab, T, r, n);
    printf("| %-34s | %12s |\n", "measure", "value");
    printf("|%s|%s|\n", "------------------------------------", "--------------");
    printf("| %-34s | %12.1f |\n", "sgemm peak GFLOP/s (2048^3, best)", peak / 1e9);
    printf("| %-34s | %12.2f |\n", "model GFLOP per step", flops / 1e9);
    printf("| %-34s | %12.3f |\n", "step seconds (mean)", mean);
    printf("| %-34s | %12.3f |\n", "step seconds (best)", best);
    printf("| %-34s | %12.1f |\n", "model GFLOP/s (mean)", flops / mean / 1e9);
    printf("| %-34s | %11.1f%% |\n", "fraction of sgemm peak (mean)", 100.0 * flops / mean / peak);
    printf("| %-34s | %11.1f%% |\n", "fraction of sgemm peak (best)", 100.0 * flops / best / peak);
    printf("| %-34s | %12.0f |\n", "training tokens/s (mean)", T / mean);
    printf("| %-34s | %12.3f |\n", "  forward seconds", part[0] / steps);
    printf("| %-34s | %12.3f |\n", "  cross-entropy seconds", part[1] / steps);
    printf("| %-34s | %12.3f |\n", "  backward seconds", part[2] / steps);
    printf("| %-34s | %12.3f |\n", "  clip + AdamW seconds", part[3] / steps);
    printf("| %-34s | %12.4f |\n", "loss (sanity)", loss);
    tkd_qwen2_free(q);
    tkd_adamw_free(&opt);
    tkd_lora_free(&lo);

    /* generation: prompts of 16 tokens, 64 new tokens each, greedy, no stop */
    int newt = env_int("BENCH_GEN_NEW", 64), plen = 16;
    printf("\ngeneration, KV cache, greedy, prompt %d tokens, %d new tokens per sequence\n", plen, newt);
    printf("| %-10s | %12s | %12s |\n", "batch", "seconds", "tokens/s");
    printf("|------------|--------------|--------------|\n");
    int bs[2] = {1, 16};
    for (int k = 0; k < 2; k++) {
        int nb = bs[k], *pr[16], lens[16], *out[16], olen[16];
        for (int i = 0; i < nb; i++) {
            pr[i] = tok + i * 7;
            lens[i] = plen;
        }
        tkd_gen_opts g = {.max_new = newt, .temperature = 0, .top_p = 1};
        double t0 = tkd_now();
        if (tkd_generate(&m, (const int *const *)pr, lens, nb, &g, NULL, NULL, out, olen, &e)) {
            fprintf(stderr, "bench_model: %s\n", e.msg);
            return 1;
        }
        double dt = tkd_now() - t0;
        long toks = 0;
        for (int i = 0; i < nb; i++) {
            toks += olen[i];
            free(out[i]);
        }
        printf("| %-10d | %12.3f | %12.1f |\n", nb, dt, toks / dt);
    }
    free(tok);
    free(mask);
    tkd_model_free(&m);
    return 0;
}
