/*
 * Qwen2 weights: one allocation for all parameters, the Hugging Face tensor
 * names, random initialisation (for tests and benchmarks), loading from
 * safetensors (f32/f16/bf16, sharded) and saving.
 */
#include "tkd/model.h"
#include "tkd/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_fmt[TKD_P_COUNT] = {
    "model.embed_tokens.weight",
    "model.layers.%d.input_layernorm.weight",
    "model.layers.%d.self_attn.q_proj.weight",
    "model.layers.%d.self_attn.q_proj.bias",
    "model.layers.%d.self_attn.k_proj.weight",
    "model.layers.%d.self_attn.k_proj.bias",
    "model.layers.%d.self_attn.v_proj.weight",
    "model.layers.%d.self_attn.v_proj.bias",
    "model.layers.%d.self_attn.o_proj.weight",
    "model.layers.%d.post_attention_layernorm.weight",
    "model.layers.%d.mlp.gate_proj.weight",
    "model.layers.%d.mlp.up_proj.weight",
    "model.layers.%d.mlp.down_proj.weight",
    "model.norm.weight",
    "lm_head.weight",
};

static int per_layer(int k) {
    return k != TKD_P_EMBED && k != TKD_P_NORM && k != TKD_P_HEAD;
}

void tkd_model_tensor_name(int k, int l, char *out, size_t n) {
    snprintf(out, n, kind_fmt[k], l);
}

int tkd_model_tensor_shape(const tkd_model_config *c, int k, int64_t s[2]) {
    int64_t C = c->hidden, Q = (int64_t)c->n_heads * c->head_dim, KVD = (int64_t)c->n_kv_heads * c->head_dim,
            I = c->intermediate, V = c->vocab;
    switch (k) {
    case TKD_P_EMBED:
    case TKD_P_HEAD:
        s[0] = V;
        s[1] = C;
        return 2;
    case TKD_P_LN1:
    case TKD_P_LN2:
    case TKD_P_NORM: s[0] = C; return 1;
    case TKD_P_WQ:
        s[0] = Q;
        s[1] = C;
        return 2;
    case TKD_P_BQ: s[0] = Q; return 1;
    case TKD_P_WK:
    case TKD_P_WV:
        s[0] = KVD;
        s[1] = C;
        return 2;
    case TKD_P_BK:
    case TKD_P_BV: s[0] = KVD; return 1;
    case TKD_P_WO:
        s[0] = C;
        s[1] = Q;
        return 2;
    case TKD_P_WG:
    case TKD_P_WU:
        s[0] = I;
        s[1] = C;
        return 2;
    case TKD_P_WD:
        s[0] = C;
        s[1] = I;
        return 2;
    }
    return 0;
}

static size_t slice_size(const tkd_model_config *c, int k) {
    int64_t s[2] = {1, 1};
    int nd = tkd_model_tensor_shape(c, k, s);
    return nd == 2 ? (size_t)(s[0] * s[1]) : (size_t)s[0];
}

int tkd_model_alloc(tkd_model *m, const tkd_model_config *cfg, tkd_err *e) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    for (int k = 0; k < TKD_P_COUNT; k++) {
        m->size[k] = slice_size(cfg, k) * (per_layer(k) ? (size_t)cfg->n_layers : 1);
        if (k == TKD_P_HEAD && cfg->tie)
            m->size[k] = 0;
        m->n_params += m->size[k];
    }
    m->mem = tkd_calloc(m->n_params, sizeof(float), e);
    if (!m->mem)
        return tkd_err_wrap(e, "model with %zu parameters", m->n_params);
    float *p = m->mem;
    for (int k = 0; k < TKD_P_COUNT; k++) {
        m->p[k] = p;
        p += m->size[k];
    }
    return 0;
}

void tkd_model_free(tkd_model *m) {
    free(m->mem);
    memset(m, 0, sizeof *m);
}

const float *tkd_model_head(const tkd_model *m) {
    return m->cfg.tie ? m->p[TKD_P_EMBED] : m->p[TKD_P_HEAD];
}

static double normal(tkd_rng *r) {
    double u1 = tkd_rng_uniform(r), u2 = tkd_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

int tkd_model_init_random(tkd_model *m, const tkd_model_config *cfg, uint64_t seed, tkd_err *e) {
    int rc = tkd_model_alloc(m, cfg, e);
    if (rc)
        return rc;
    tkd_rng r;
    tkd_rng_seed(&r, seed);
    for (int k = 0; k < TKD_P_COUNT; k++) {
        int is_norm = k == TKD_P_LN1 || k == TKD_P_LN2 || k == TKD_P_NORM;
        int is_bias = k == TKD_P_BQ || k == TKD_P_BK || k == TKD_P_BV;
        for (size_t i = 0; i < m->size[k]; i++)
            m->p[k][i] = is_norm ? 1.0f : is_bias ? 0.0f : (float)(0.02 * normal(&r));
    }
    return 0;
}

int tkd_model_load(tkd_model *m, const char *dir, tkd_err *e) {
    char path[4096];
    tkd_model_config cfg;
    snprintf(path, sizeof path, "%s/config.json", dir);
    int rc = tkd_model_config_load(path, &cfg, e);
    if (rc)
        return rc;
    tkd_st st;
    if ((rc = tkd_st_open(dir, &st, e)))
        return rc;
    if ((rc = tkd_model_alloc(m, &cfg, e))) {
        tkd_st_close(&st);
        return rc;
    }
    char name[256];
    for (int k = 0; k < TKD_P_COUNT && !rc; k++) {
        if (!m->size[k])
            continue;
        int64_t s[2];
        int nd = tkd_model_tensor_shape(&cfg, k, s);
        size_t n = slice_size(&cfg, k);
        int nl = per_layer(k) ? cfg.n_layers : 1;
        for (int l = 0; l < nl && !rc; l++) {
            tkd_model_tensor_name(k, l, name, sizeof name);
            rc = tkd_st_read_f32(&st, name, m->p[k] + (size_t)l * n, s, nd, e);
        }
    }
    if (!rc && cfg.tie && tkd_st_find(&st, "lm_head.weight"))
        tkd_log_debug("%s: tie_word_embeddings is set; ignoring lm_head.weight", dir);
    tkd_st_close(&st);
    if (rc) {
        tkd_model_free(m);
        return tkd_err_wrap(e, "loading model %s", dir);
    }
    return 0;
}

int tkd_model_save(const tkd_model *m, const char *dir, int bf16, tkd_err *e) {
    int rc = tkd_mkdirs(dir, e);
    if (rc)
        return rc;
    const tkd_model_config *c = &m->cfg;
    int cap = TKD_P_COUNT * c->n_layers;
    tkd_st_entry *t = tkd_calloc((size_t)cap, sizeof *t, e);
    char *names = tkd_calloc((size_t)cap, 128, e);
    if (!t || !names) {
        free(t);
        free(names);
        return TKD_ENOMEM;
    }
    int n = 0;
    for (int k = 0; k < TKD_P_COUNT; k++) {
        if (!m->size[k])
            continue;
        int nl = per_layer(k) ? c->n_layers : 1;
        size_t sz = slice_size(c, k);
        for (int l = 0; l < nl; l++, n++) {
            tkd_model_tensor_name(k, l, names + 128 * n, 128);
            t[n].name = names + 128 * n;
            t[n].data = m->p[k] + (size_t)l * sz;
            t[n].ndim = tkd_model_tensor_shape(c, k, t[n].shape);
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    rc = tkd_st_write(path, t, n, bf16, "{\"format\":\"pt\"}", e);
    free(t);
    free(names);
    if (rc)
        return rc;
    char *js = tkd_model_config_json(c);
    if (!js)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/config.json", dir);
    rc = tkd_file_write_atomic(path, js, strlen(js), e);
    free(js);
    return rc;
}
