/*
 * model_oracle SPEC.json OUT.safetensors: the C side of the PyTorch oracle
 * tests. SPEC names a model folder, a batch (tokens, targets, mask), an
 * adapter (PEFT folder, or "lora" settings to initialise one) or full
 * fine-tuning, and optimizer settings. It writes the first forward's logits
 * and loss, the first backward's gradients (named "grad." + tensor name) and
 * the loss of each of `steps` AdamW steps.
 */
#include "tkd/model.h"
#include "tkd/safetensors.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const tkd_err *e) {
    fprintf(stderr, "model_oracle: %s\n", e->msg);
    return 1;
}

static int *ints2d(json_t *a, int *B, int *T) {
    *B = (int)json_array_size(a);
    *T = *B ? (int)json_array_size(json_array_get(a, 0)) : 0;
    int *v = calloc((size_t)(*B) * (size_t)(*T) + 1, sizeof(int));
    for (int b = 0; b < *B; b++)
        for (int t = 0; t < *T; t++)
            v[b * *T + t] = (int)json_integer_value(json_array_get(json_array_get(a, (size_t)b), (size_t)t));
    return v;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: model_oracle SPEC.json OUT.safetensors\n");
        return 2;
    }
    tkd_err e = {0};
    json_error_t je;
    json_t *spec = json_load_file(argv[1], 0, &je);
    if (!spec) {
        fprintf(stderr, "%s: %s\n", argv[1], je.text);
        return 2;
    }
    tkd_model m;
    if (tkd_model_load(&m, json_string_value(json_object_get(spec, "model_dir")), &e))
        return die(&e);
    int B, T, B2, T2;
    int *tokens = ints2d(json_object_get(spec, "tokens"), &B, &T);
    int *targets = ints2d(json_object_get(spec, "targets"), &B2, &T2);
    int *mask_i = ints2d(json_object_get(spec, "mask"), &B2, &T2);
    json_t *ds = json_object_get(spec, "docstart");
    int *docstart = ds ? ints2d(ds, &B2, &T2) : NULL;
    uint8_t *mask = calloc((size_t)(B * T), 1);
    for (int i = 0; i < B * T; i++)
        mask[i] = (uint8_t)mask_i[i];
    int full = json_is_true(json_object_get(spec, "full"));
    tkd_lora lora, *lp = NULL;
    json_t *ad = json_object_get(spec, "adapter");
    if (json_is_string(ad)) {
        if (tkd_lora_load(&lora, json_string_value(ad), &m.cfg, &e))
            return die(&e);
        lp = &lora;
    }
    tkd_qwen2_opts o = {.B = B, .T = T, .full = full, .recompute = json_is_true(json_object_get(spec, "recompute"))};
    tkd_qwen2 *q;
    if (tkd_qwen2_new(&q, &m, lp, &o, &e))
        return die(&e);
    int steps = (int)json_integer_value(json_object_get(spec, "steps"));
    double lr = json_number_value(json_object_get(spec, "lr")), wd = json_number_value(json_object_get(spec, "wd")),
           clip = json_number_value(json_object_get(spec, "clip"));
    long warmup = (long)json_integer_value(json_object_get(spec, "warmup"));
    const char *sched = json_string_value(json_object_get(spec, "schedule"));
    size_t V = (size_t)m.cfg.vocab, NV = (size_t)B * T * V, np = 0;
    float *logits = malloc(NV * sizeof(float)), *losses = calloc((size_t)steps + 1, sizeof(float)), loss0 = 0;
    float *params = tkd_qwen2_params(q, &np), *grads0 = calloc(np + 1, sizeof(float));
    tkd_adamw opt;
    if (tkd_adamw_init(&opt, np, lr, wd, &e))
        return die(&e);
    for (int s = 0; s < (steps ? steps : 1); s++) {
        if (tkd_qwen2_forward(q, tokens, docstart, B, T, 0, &e))
            return die(&e);
        if (s == 0)
            memcpy(logits, tkd_qwen2_logits(q), NV * sizeof(float));
        long cnt;
        double loss = tkd_qwen2_loss(q, targets, mask, &cnt) / (double)cnt;
        if (s == 0)
            loss0 = (float)loss;
        losses[s] = (float)loss;
        if (!np)
            break;
        tkd_qwen2_zero_grad(q);
        if (tkd_qwen2_backward(q, targets, mask, 1.0f / (float)cnt, &e))
            return die(&e);
        float *g = tkd_qwen2_grads(q, &np);
        if (s == 0)
            memcpy(grads0, g, np * sizeof(float));
        if (!steps)
            break;
        tkd_clip_grad_norm(g, np, clip);
        tkd_adamw_step(&opt, params, g, tkd_lr_at(sched, lr, s, warmup, steps));
    }
    /* output */
    int cap = 8 + 2 * TKD_LORA_NT * m.cfg.n_layers + TKD_P_COUNT * m.cfg.n_layers, n = 0;
    tkd_st_entry *t = calloc((size_t)cap, sizeof *t);
    char(*names)[160] = calloc((size_t)cap, 160);
    t[n] = (tkd_st_entry){.name = "logits", .data = logits, .ndim = 3, .shape = {B, T, (int64_t)V}};
    n++;
    t[n] = (tkd_st_entry){.name = "loss", .data = &loss0, .ndim = 1, .shape = {1}};
    n++;
    t[n] = (tkd_st_entry){.name = "losses", .data = losses, .ndim = 1, .shape = {steps ? steps : 1}};
    n++;
    if (lp)
        for (int l = 0; l < m.cfg.n_layers; l++)
            for (int k = 0; k < TKD_LORA_NT; k++)
                for (int isb = 0; isb < 2 && tkd_lora_A(lp, l, k); isb++) {
                    char nm[128];
                    tkd_lora_tensor_name(l, k, isb, nm, sizeof nm);
                    snprintf(names[n], 160, "grad.%s", nm);
                    float *pp = isb ? tkd_lora_B(lp, l, k) : tkd_lora_A(lp, l, k);
                    t[n] = (tkd_st_entry){.name = names[n],
                                          .data = grads0 + (pp - lp->mem),
                                          .ndim = 2,
                                          .shape = {isb ? lp->out[k] : lp->cfg.r, isb ? lp->cfg.r : lp->in[k]}};
                    n++;
                }
    if (full)
        for (int k = 0; k < TKD_P_COUNT; k++) {
            if (!m.size[k])
                continue;
            int per = k != TKD_P_EMBED && k != TKD_P_NORM && k != TKD_P_HEAD;
            for (int l = 0; l < (per ? m.cfg.n_layers : 1); l++) {
                char nm[128];
                tkd_model_tensor_name(k, l, nm, sizeof nm);
                snprintf(names[n], 160, "grad.%s", nm);
                t[n].name = names[n];
                t[n].ndim = tkd_model_tensor_shape(&m.cfg, k, t[n].shape);
                size_t sz = (size_t)t[n].shape[0] * (t[n].ndim == 2 ? (size_t)t[n].shape[1] : 1);
                t[n].data = grads0 + (m.p[k] - m.mem) + (size_t)l * sz;
                n++;
            }
        }
    if (tkd_st_write(argv[2], t, n, 0, NULL, &e))
        return die(&e);
    tkd_adamw_free(&opt);
    tkd_qwen2_free(q);
    if (lp)
        tkd_lora_free(lp);
    tkd_model_free(&m);
    free(t);
    free(names);
    free(tokens);
    free(targets);
    free(mask_i);
    free(docstart);
    free(mask);
    free(logits);
    free(losses);
    free(grads0);
    json_decref(spec);
    return 0;
}
