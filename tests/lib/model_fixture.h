/*
 * What the model's C tests and benchmarks share (header only, like
 * tkd_test.h): a tiny Qwen2 config that tests adjust field by field, the
 * Qwen2.5 shapes by name (as Hugging Face's config.json gives them), and
 * the greedy token of a row of logits.
 */
#ifndef TKD_MODEL_FIXTURE_H
#define TKD_MODEL_FIXTURE_H

#include "tkd/model.h"

#include <string.h>

/* hidden 32, 2 layers, 4 heads of 8 and 2 KV heads, intermediate 48, vocab 40,
 * 128 positions, RoPE theta 1e4, RMSNorm eps 1e-6, tied, no BOS or EOS */
static inline tkd_model_config tkd_fixture_tiny(void) {
    tkd_model_config c = {.hidden = 32,
                          .n_layers = 2,
                          .n_heads = 4,
                          .n_kv_heads = 2,
                          .head_dim = 8,
                          .intermediate = 48,
                          .vocab = 40,
                          .max_pos = 128,
                          .rope_theta = 1e4,
                          .rms_eps = 1e-6,
                          .tie = 1,
                          .bos_id = -1,
                          .eos_id = -1};
    return c;
}

/* a Qwen2.5 shape: "0.5b", "1.5b" or "7b" (32768 positions, theta 1e6, no BOS
 * or EOS); 0, or -1 (c untouched) for another name */
static inline int tkd_fixture_qwen25(const char *name, tkd_model_config *c) {
    static const struct {
        const char *name;
        int hidden, n_layers, n_heads, n_kv_heads, head_dim, intermediate, vocab, tie;
    } s[] = {
        {"0.5b", 896, 24, 14, 2, 64, 4864, 151936, 1},
        {"1.5b", 1536, 28, 12, 2, 128, 8960, 151936, 1},
        {"7b", 3584, 28, 28, 4, 128, 18944, 152064, 0},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (!strcmp(name, s[i].name)) {
            *c = (tkd_model_config){.hidden = s[i].hidden,
                                    .n_layers = s[i].n_layers,
                                    .n_heads = s[i].n_heads,
                                    .n_kv_heads = s[i].n_kv_heads,
                                    .head_dim = s[i].head_dim,
                                    .intermediate = s[i].intermediate,
                                    .vocab = s[i].vocab,
                                    .max_pos = 32768,
                                    .rope_theta = 1e6,
                                    .rms_eps = 1e-6,
                                    .tie = s[i].tie,
                                    .bos_id = -1,
                                    .eos_id = -1};
            return 0;
        }
    return -1;
}

/* the index of the largest of x[0..n-1], the first on a tie (greedy decoding's choice) */
static inline int tkd_fixture_argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b])
            b = i;
    return b;
}

#endif
