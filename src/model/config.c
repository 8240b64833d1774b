/*
 * Qwen2 config.json: read the keys the transformer needs (with HF's defaults
 * where a key is optional) and write a config that transformers can load.
 */
#include "tkd/model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_int(const char *name, json_t *r, const char *key, int def, int lo, int hi, int *out, tkd_err *e) {
    json_t *v = json_object_get(r, key);
    if (!v || json_is_null(v)) {
        if (def < lo)
            return tkd_err_set(e, TKD_EFORMAT, "%s: key '%s' is missing (an integer is required)", name, key);
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return tkd_err_set(e, TKD_EFORMAT, "%s: key '%s' must be an integer in [%d, %d]", name, key, lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_num(const char *name, json_t *r, const char *key, double def, double *out, tkd_err *e) {
    json_t *v = json_object_get(r, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_number(v) || json_number_value(v) <= 0)
        return tkd_err_set(e, TKD_EFORMAT, "%s: key '%s' must be a positive number", name, key);
    *out = json_number_value(v);
    return 0;
}

int tkd_model_config_parse(const char *name, const char *text, tkd_model_config *c, tkd_err *e) {
    json_error_t je;
    json_t *r = json_loads(text, 0, &je);
    if (!json_is_object(r)) {
        json_decref(r);
        return tkd_err_set(e, TKD_EFORMAT, "%s: not a JSON object (line %d: %s)", name, je.line, je.text);
    }
    memset(c, 0, sizeof *c);
    int rc = 0;
    json_t *mt = json_object_get(r, "model_type");
    if (json_is_string(mt) && strcmp(json_string_value(mt), "qwen2"))
        tkd_log_warn("%s: model_type is '%s'; reading it as qwen2", name, json_string_value(mt));
    if ((rc = get_int(name, r, "hidden_size", -1, 1, 1 << 16, &c->hidden, e)) ||
        (rc = get_int(name, r, "num_hidden_layers", -1, 1, TKD_MODEL_MAX_LAYERS, &c->n_layers, e)) ||
        (rc = get_int(name, r, "num_attention_heads", -1, 1, 1 << 12, &c->n_heads, e)) ||
        (rc = get_int(name, r, "num_key_value_heads", c->n_heads, 1, 1 << 12, &c->n_kv_heads, e)) ||
        (rc = get_int(name, r, "intermediate_size", -1, 1, 1 << 20, &c->intermediate, e)) ||
        (rc = get_int(name, r, "vocab_size", -1, 1, 1 << 24, &c->vocab, e)) ||
        (rc = get_int(name, r, "max_position_embeddings", 32768, 1, 1 << 24, &c->max_pos, e)) ||
        (rc = get_int(name, r, "bos_token_id", -1, -1, 1 << 24, &c->bos_id, e)) ||
        (rc = get_int(name, r, "eos_token_id", -1, -1, 1 << 24, &c->eos_id, e)) ||
        (rc = get_num(name, r, "rope_theta", 10000.0, &c->rope_theta, e)) ||
        (rc = get_num(name, r, "rms_norm_eps", 1e-6, &c->rms_eps, e)))
        goto out;
    json_t *tie = json_object_get(r, "tie_word_embeddings");
    if (tie && !json_is_boolean(tie)) {
        rc = tkd_err_set(e, TKD_EFORMAT, "%s: key 'tie_word_embeddings' must be true or false", name);
        goto out;
    }
    c->tie = tie ? json_is_true(tie) : 0;
    json_t *rs = json_object_get(r, "rope_scaling");
    if (rs && !json_is_null(rs))
        tkd_log_warn("%s: rope_scaling is set; tkd uses plain RoPE (exact up to the original context length)", name);
    if (json_is_true(json_object_get(r, "use_sliding_window")))
        tkd_log_warn("%s: use_sliding_window is set; tkd attends to the whole context", name);
    if (c->hidden % c->n_heads || c->n_heads % c->n_kv_heads) {
        rc = tkd_err_set(e, TKD_EFORMAT,
                         "%s: hidden_size %d must divide by num_attention_heads %d, and heads by "
                         "num_key_value_heads %d",
                         name, c->hidden, c->n_heads, c->n_kv_heads);
        goto out;
    }
    c->head_dim = c->hidden / c->n_heads;
    if (c->head_dim % 2) {
        rc = tkd_err_set(e, TKD_EFORMAT, "%s: head dimension %d must be even for RoPE", name, c->head_dim);
        goto out;
    }
    json_t *hd = json_object_get(r, "head_dim");
    if (json_is_integer(hd) && json_integer_value(hd) != c->head_dim) {
        rc = tkd_err_set(e, TKD_EFORMAT, "%s: head_dim %lld differs from hidden_size/num_attention_heads = %d", name,
                         (long long)json_integer_value(hd), c->head_dim);
        goto out;
    }
out:
    json_decref(r);
    return rc;
}

int tkd_model_config_load(const char *path, tkd_model_config *c, tkd_err *e) {
    char *text;
    size_t len;
    int rc = tkd_file_read(path, &text, &len, e);
    if (rc)
        return rc;
    rc = tkd_model_config_parse(path, text, c, e);
    free(text);
    return rc;
}

char *tkd_model_config_json(const tkd_model_config *c) {
    json_t *r = json_pack(
        "{s:[s], s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:b, s:s, s:f, s:f, s:b, s:b, s:i, s:i}",
        "architectures", "Qwen2ForCausalLM", "model_type", "qwen2", "hidden_act", "silu", "hidden_size", c->hidden,
        "num_hidden_layers", c->n_layers, "num_attention_heads", c->n_heads, "num_key_value_heads", c->n_kv_heads,
        "intermediate_size", c->intermediate, "vocab_size", c->vocab, "max_position_embeddings", c->max_pos,
        "rope_theta", c->rope_theta, "rms_norm_eps", c->rms_eps, "tie_word_embeddings", c->tie, "torch_dtype",
        "float32", "initializer_range", 0.02, "attention_dropout", 0.0, "use_cache", 1, "use_sliding_window", 0,
        "sliding_window", c->max_pos, "max_window_layers", c->n_layers);
    if (!r)
        return NULL;
    if (c->bos_id >= 0)
        json_object_set_new(r, "bos_token_id", json_integer(c->bos_id));
    if (c->eos_id >= 0)
        json_object_set_new(r, "eos_token_id", json_integer(c->eos_id));
    char *s = json_dumps(r, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(r);
    return s;
}
