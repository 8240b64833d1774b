/*
 * bench_decode: the builtin eval engine's generation (tkd_decoder:
 * continuous batching with a KV cache, greedy) on a model folder, for
 * bench_decode.sh. B prompts of P random tokens (seeded), N new tokens each
 * (no stop token), all added at once; prints one JSON line: prefill seconds
 * (the first step: every prompt and the first token), decode seconds (the
 * rest), decode tokens/s, and the generated ids (for the agreement check).
 *   bench_decode MODEL_DIR B P N
 *   bench_decode --init CONFIG.json MODEL_DIR     a random model of that shape (seed 1)
 */
#include "tkd/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--init")) {
        tkd_model_config c;
        tkd_model m;
        tkd_err e = {0};
        if (tkd_model_config_load(argv[2], &c, &e) || tkd_model_init_random(&m, &c, 1, &e) ||
            tkd_model_save(&m, argv[3], 0, &e)) {
            fprintf(stderr, "bench_decode: %s\n", e.msg);
            return 1;
        }
        tkd_model_free(&m);
        return 0;
    }
    if (argc != 5) {
        fprintf(stderr, "usage: bench_decode MODEL_DIR B P N\n");
        return 2;
    }
    int B = atoi(argv[2]), P = atoi(argv[3]), N = atoi(argv[4]);
    tkd_model m;
    tkd_err e = {0};
    if (tkd_model_load(&m, argv[1], &e)) {
        fprintf(stderr, "bench_decode: %s\n", e.msg);
        return 1;
    }
    tkd_decoder *d;
    if (tkd_decoder_new(&m, B, &d, &e))
        return 1;
    int *prompt = malloc(sizeof(int) * (size_t)P), *slot = malloc(sizeof(int) * (size_t)B);
    tkd_rng r;
    tkd_rng_seed(&r, 1);
    tkd_gen_opts o = {.max_new = N, .temperature = 0, .top_p = 1};
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < P; t++)
            prompt[t] = (int)tkd_rng_below(&r, (uint64_t)m.cfg.vocab);
        if (tkd_decoder_add(d, prompt, P, &o, &slot[b], &e)) {
            fprintf(stderr, "bench_decode: %s\n", e.msg);
            return 1;
        }
    }
    double t0 = tkd_now();
    if (tkd_decoder_step(d, &e))
        return 1;
    double t1 = tkd_now();
    while (tkd_decoder_active(d))
        if (tkd_decoder_step(d, &e))
            return 1;
    double t2 = tkd_now();
    printf("{\"prefill_s\": %.6f, \"decode_s\": %.6f, \"decode_tok_s\": %.3f, \"ids\": [", t1 - t0, t2 - t1,
           (double)B * (N - 1) / (t2 - t1));
    for (int b = 0; b < B; b++) {
        const int *toks;
        int n = tkd_decoder_tokens(d, slot[b], &toks);
        printf("%s[", b ? "," : "");
        for (int i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", toks[i]);
        printf("]");
    }
    printf("]}\n");
    free(prompt);
    free(slot);
    tkd_decoder_free(d);
    tkd_model_free(&m);
    return 0;
}
