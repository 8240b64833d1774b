/*
 * LoRA adapters on q, k, v, o, gate, up, down: one allocation holding A (r,in)
 * and B (out,r) of every layer and target, PEFT's initialisation, and merging
 * into the base weights (W += alpha/r * B A).
 */
#include "tkd/model.h"

#include <cblas.h>
#undef I /* cblas.h pulls in complex.h; I is the intermediate size here */
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const tkd_lora_target_names[TKD_LORA_NT] = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                        "gate_proj", "up_proj", "down_proj"};

int tkd_lora_parse_targets(const char *s, unsigned *mask, tkd_err *e) {
    static const char *const short_names[TKD_LORA_NT] = {"q", "k", "v", "o", "gate", "up", "down"};
    *mask = 0;
    if (!strcmp(s, "all") || !strcmp(s, "all-linear")) {
        *mask = (1u << TKD_LORA_NT) - 1;
        return 0;
    }
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, ", ");
        int found = -1;
        for (int t = 0; t < TKD_LORA_NT && n; t++)
            if ((strlen(short_names[t]) == n && !strncmp(p, short_names[t], n)) ||
                (strlen(tkd_lora_target_names[t]) == n && !strncmp(p, tkd_lora_target_names[t], n)))
                found = t;
        if (n && found < 0)
            return tkd_err_set(e, TKD_EINVAL, "LoRA target '%.*s' is unknown; use q,k,v,o,gate,up,down (or all)",
                               (int)n, p);
        if (n)
            *mask |= 1u << found;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (!*mask)
        return tkd_err_set(e, TKD_EINVAL, "no LoRA targets in '%s'", s);
    return 0;
}

int tkd_lora_alloc(tkd_lora *a, const tkd_model_config *c, const tkd_lora_config *lc, tkd_err *e) {
    memset(a, 0, sizeof *a);
    if (lc->r < 1 || lc->r > 4096 || lc->alpha <= 0 || lc->dropout < 0 || lc->dropout >= 1 || !lc->targets)
        return tkd_err_set(e, TKD_EINVAL, "LoRA needs r in [1,4096], alpha > 0, dropout in [0,1) and a target");
    a->cfg = *lc;
    a->n_layers = c->n_layers;
    int C = c->hidden, Q = c->n_heads * c->head_dim, K = c->n_kv_heads * c->head_dim, I = c->intermediate;
    int in[TKD_LORA_NT] = {C, C, C, Q, C, C, I}, out[TKD_LORA_NT] = {Q, K, K, C, I, I, C};
    size_t off = 0, L = (size_t)c->n_layers, r = (size_t)lc->r;
    for (int t = 0; t < TKD_LORA_NT; t++) {
        a->in[t] = in[t];
        a->out[t] = out[t];
        if (!(lc->targets >> t & 1))
            continue;
        a->off_a[t] = off;
        off += L * r * (size_t)in[t];
        a->off_b[t] = off;
        off += L * (size_t)out[t] * r;
    }
    a->n_params = off;
    a->mem = tkd_calloc(off, sizeof(float), e);
    return a->mem ? 0 : tkd_err_wrap(e, "LoRA adapter of %zu parameters", off);
}

void tkd_lora_free(tkd_lora *a) {
    free(a->mem);
    memset(a, 0, sizeof *a);
}

float *tkd_lora_A(const tkd_lora *a, int l, int t) {
    if (!(a->cfg.targets >> t & 1))
        return NULL;
    return a->mem + a->off_a[t] + (size_t)l * a->cfg.r * a->in[t];
}

float *tkd_lora_B(const tkd_lora *a, int l, int t) {
    if (!(a->cfg.targets >> t & 1))
        return NULL;
    return a->mem + a->off_b[t] + (size_t)l * a->out[t] * a->cfg.r;
}

void tkd_lora_init(tkd_lora *a, uint64_t seed) {
    tkd_rng rng;
    tkd_rng_seed(&rng, seed);
    for (int l = 0; l < a->n_layers; l++)
        for (int t = 0; t < TKD_LORA_NT; t++) {
            float *A = tkd_lora_A(a, l, t);
            if (!A)
                continue;
            double bound = 1.0 / sqrt((double)a->in[t]);
            size_t n = (size_t)a->cfg.r * a->in[t];
            for (size_t i = 0; i < n; i++)
                A[i] = (float)((2.0 * tkd_rng_uniform(&rng) - 1.0) * bound);
            memset(tkd_lora_B(a, l, t), 0, sizeof(float) * (size_t)a->out[t] * a->cfg.r);
        }
}

int tkd_lora_merge(tkd_model *m, const tkd_lora *a, tkd_err *e) {
    static const int kind[TKD_LORA_NT] = {TKD_P_WQ, TKD_P_WK, TKD_P_WV, TKD_P_WO, TKD_P_WG, TKD_P_WU, TKD_P_WD};
    if (a->n_layers != m->cfg.n_layers)
        return tkd_err_set(e, TKD_EINVAL, "adapter has %d layers, model %d", a->n_layers, m->cfg.n_layers);
    for (int t = 0; t < TKD_LORA_NT; t++)
        for (int l = 0; l < a->n_layers; l++) {
            const float *A = tkd_lora_A(a, l, t), *B = tkd_lora_B(a, l, t);
            if (!A)
                continue;
            int in = a->in[t], out = a->out[t];
            float *W = m->p[kind[t]] + (size_t)l * in * out;
            // W (out,in) += s * B (out,r) @ A (r,in)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, in, a->cfg.r, tkd_lora_scale(a), B, a->cfg.r, A,
                        in, 1.0f, W, in);
        }
    return 0;
}
