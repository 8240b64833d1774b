/*
 * gpu: an adapter on the GPU and on the CPU engine predict the same tokens.
 * The CPU engine (LoRA merged into the fp32 weights, tkd_generate) continues
 * a prompt greedily; the CUDA twin (bf16 base, the adapter unmerged) runs
 * one forward over prompt + continuation, and at every generated position
 * its argmax must be the token the CPU chose. A position where they differ
 * passes only when the CPU's own margin between the two tokens is within
 * bf16 tolerance (a near tie), and is counted.
 *
 * By default a random tiny Qwen2 and a random adapter (B non-zero, so it
 * matters); tests/gpu/run.sh sets TKD_GPU_MODEL and TKD_GPU_ADAPTER to a
 * model and the adapter `tkd train` wrote on the GPU (and TKD_GPU_PROMPT,
 * token ids "2,5,9").
 */
#include "gpu_test.h"
#include "model_fixture.h"
#include "tkd/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEW 16
#define MAX_PROMPT 64
#define TIE_TOL 0.02 /* logits of a near tie: what bf16 weights can swap */

static int fail(const char *what, const tkd_err *e) {
    printf("FAIL %s: %s\n", what, e->msg);
    return 1;
}

int main(void) {
    tkd_gpu_test_require("gpu.test_adapter_greedy");
    tkd_err e = {0};
    tkd_model m, merged;
    tkd_lora lora;
    const char *md = getenv("TKD_GPU_MODEL"), *ad = getenv("TKD_GPU_ADAPTER"), *ps = getenv("TKD_GPU_PROMPT");
    if (md && *md) {
        if (tkd_model_load(&m, md, &e) || tkd_model_load(&merged, md, &e))
            return fail("model", &e);
    } else {
        tkd_model_config c = tkd_fixture_tiny();
        c.hidden = 64;
        c.head_dim = 16;
        c.intermediate = 128;
        c.vocab = 96;
        if (tkd_model_init_random(&m, &c, 7, &e) || tkd_model_init_random(&merged, &c, 7, &e))
            return fail("random model", &e);
    }
    if (ad && *ad) {
        if (tkd_lora_load(&lora, ad, &m.cfg, &e))
            return fail("adapter", &e);
    } else {
        tkd_lora_config lc = {8, 16, 0.0, (1u << TKD_LORA_NT) - 1};
        if (tkd_lora_alloc(&lora, &m.cfg, &lc, &e))
            return fail("adapter", &e);
        tkd_lora_init(&lora, 11);
        tkd_rng r;
        tkd_rng_seed(&r, 12);
        for (int l = 0; l < lora.n_layers; l++)
            for (int t = 0; t < TKD_LORA_NT; t++) {
                float *b = tkd_lora_B(&lora, l, t);
                for (int i = 0; i < lora.out[t] * lora.cfg.r; i++)
                    b[i] = (float)(0.1 * (tkd_rng_uniform(&r) - 0.5));
            }
    }
    int prompt[MAX_PROMPT], np = 0;
    for (const char *s = ps && *ps ? ps : "2,5,9,13,7"; *s && np < MAX_PROMPT;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        prompt[np++] = (int)(v % m.cfg.vocab);
        s = *end ? end + 1 : end;
    }
    /* the CPU engine: merged weights, greedy */
    if (tkd_lora_merge(&merged, &lora, &e))
        return fail("merge", &e);
    tkd_gen_opts g = {.max_new = MAX_NEW, .temperature = 0, .top_p = 1};
    const int *pp[1] = {prompt};
    int *gen = NULL, ng = 0;
    if (tkd_generate(&merged, pp, &np, 1, &g, NULL, NULL, &gen, &ng, &e))
        return fail("CPU generate", &e);
    int T = np + ng, V = m.cfg.vocab, seq[MAX_PROMPT + MAX_NEW];
    memcpy(seq, prompt, sizeof(int) * (size_t)np);
    memcpy(seq + np, gen, sizeof(int) * (size_t)ng);
    /* the CPU reference's logits over the whole sequence, for the margins */
    tkd_qwen2_opts qo = {.B = 1, .T = T, .full = 0, .recompute = 0};
    tkd_qwen2 *cq = NULL;
    tkd_cuda_qwen2 *gq = NULL;
    float *gl = malloc(sizeof(float) * (size_t)T * V);
    if (!gl || tkd_qwen2_new(&cq, &m, &lora, &qo, &e) || tkd_qwen2_forward(cq, seq, NULL, 1, T, 0, &e))
        return fail("CPU forward", &e);
    const float *cl = tkd_qwen2_logits(cq);
    /* the GPU: one forward, logits to the host */
    if (tkd_cuda_qwen2_new(&gq, &m, &lora, &qo, 0, &e) || tkd_cuda_qwen2_forward(gq, seq, NULL, 1, T, 0, &e) ||
        tkd_cuda_qwen2_logits(gq, 0, T, gl, &e))
        return fail("GPU forward", &e);
    int same = 0, ties = 0, bad = 0;
    double num = 0, den = 0;
    for (int t = np - 1; t < T - 1; t++) {
        const float *c = cl + (size_t)t * V, *x = gl + (size_t)t * V;
        for (int v = 0; v < V; v++) {
            num += (double)(x[v] - c[v]) * (x[v] - c[v]);
            den += (double)c[v] * c[v];
        }
        int want = seq[t + 1], got = tkd_fixture_argmax(x, V);
        if (got == want)
            same++;
        else if (c[want] - c[got] <= TIE_TOL)
            ties++;
        else {
            bad++;
            printf("  position %d: CPU chose %d (logit %.4f), GPU %d (CPU logit %.4f)\n", t, want, c[want], got,
                   c[got]);
        }
    }
    printf("%s %d generated tokens: GPU argmax = CPU greedy at %d, near ties %d, different %d; logits relative L2 "
           "%.2e (%s)\n",
           bad ? "FAIL" : "ok  ", ng, same, ties, bad, den > 0 ? sqrt(num / den) : 0.0,
           ad && *ad ? ad : "random adapter");
    tkd_cuda_qwen2_free(gq);
    tkd_qwen2_free(cq);
    free(gl);
    free(gen);
    tkd_lora_free(&lora);
    tkd_model_free(&m);
    tkd_model_free(&merged);
    return bad || ng == 0;
}
