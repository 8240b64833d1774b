/*
 * LoRA adapters in the PEFT layout, so PEFT and vLLM load what tkd trains:
 * adapter_config.json (peft_type LORA, task_type CAUSAL_LM, r, lora_alpha,
 * target_modules, ...) and adapter_model.safetensors with tensors named
 * base_model.model.model.layers.L.self_attn.q_proj.lora_A.weight (r,in) and
 * ...lora_B.weight (out,r).
 */
#include "tkd/model.h"
#include "tkd/safetensors.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tkd_lora_tensor_name(int layer, int t, int is_b, char *out, size_t n) {
    snprintf(out, n, "base_model.model.model.layers.%d.%s.%s.lora_%c.weight", layer,
             t <= TKD_LORA_O ? "self_attn" : "mlp", tkd_lora_target_names[t], is_b ? 'B' : 'A');
}

int tkd_lora_save(const tkd_lora *a, const char *dir, const char *base_model, tkd_err *e) {
    int rc = tkd_mkdirs(dir, e);
    if (rc)
        return rc;
    json_t *tm = json_array();
    for (int t = 0; t < TKD_LORA_NT; t++)
        if (a->cfg.targets >> t & 1)
            json_array_append_new(tm, json_string(tkd_lora_target_names[t]));
    json_t *cfg = json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:o, s:s, s:b, s:b, s:b, s:b, s:b, s:{}, s:{}, s:n, s:n, "
                            "s:n, s:n, s:{}, s:n, s:n, s:s}",
                            "peft_type", "LORA", "task_type", "CAUSAL_LM", "base_model_name_or_path",
                            base_model ? base_model : "", "r", a->cfg.r, "lora_alpha", a->cfg.alpha, "lora_dropout",
                            a->cfg.dropout, "target_modules", tm, "bias", "none", "fan_in_fan_out", 0, "inference_mode",
                            1, "init_lora_weights", 1, "use_rslora", 0, "use_dora", 0, "rank_pattern", "alpha_pattern",
                            "modules_to_save", "layers_to_transform", "layers_pattern", "revision", "loftq_config",
                            "auto_mapping", "layer_replication", "megatron_core", "megatron.core");
    if (cfg && a->cfg.alpha == (double)(long long)a->cfg.alpha) /* PEFT writes an integer alpha */
        json_object_set_new(cfg, "lora_alpha", json_integer((json_int_t)a->cfg.alpha));
    char *js = cfg ? json_dumps(cfg, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(cfg);
    if (!js)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    rc = tkd_file_write_atomic(path, js, strlen(js), e);
    free(js);
    if (rc)
        return rc;
    int cap = 2 * TKD_LORA_NT * a->n_layers, n = 0;
    tkd_st_entry *t = tkd_calloc((size_t)cap, sizeof *t, e);
    char *names = tkd_calloc((size_t)cap, 128, e);
    if (!t || !names) {
        free(t);
        free(names);
        return TKD_ENOMEM;
    }
    for (int l = 0; l < a->n_layers; l++)
        for (int k = 0; k < TKD_LORA_NT; k++) {
            if (!(a->cfg.targets >> k & 1))
                continue;
            for (int isb = 0; isb < 2; isb++, n++) {
                tkd_lora_tensor_name(l, k, isb, names + 128 * n, 128);
                t[n].name = names + 128 * n;
                t[n].data = isb ? tkd_lora_B(a, l, k) : tkd_lora_A(a, l, k);
                t[n].ndim = 2;
                t[n].shape[0] = isb ? a->out[k] : a->cfg.r;
                t[n].shape[1] = isb ? a->cfg.r : a->in[k];
            }
        }
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    rc = tkd_st_write(path, t, n, 0, "{\"format\":\"pt\"}", e);
    free(t);
    free(names);
    return rc;
}

int tkd_lora_load(tkd_lora *a, const char *dir, const tkd_model_config *c, tkd_err *e) {
    char path[4096];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    json_error_t je;
    json_t *cfg = json_load_file(path, 0, &je);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return tkd_err_set(e, TKD_EFORMAT, "%s: cannot read the adapter config: %s", path, je.text);
    }
    tkd_lora_config lc = {0};
    int rc = 0;
    json_t *pt = json_object_get(cfg, "peft_type"), *r = json_object_get(cfg, "r"),
           *al = json_object_get(cfg, "lora_alpha"), *dr = json_object_get(cfg, "lora_dropout"),
           *tm = json_object_get(cfg, "target_modules"), *bias = json_object_get(cfg, "bias");
    if (!json_is_string(pt) || strcmp(json_string_value(pt), "LORA"))
        rc = tkd_err_set(e, TKD_EFORMAT, "%s: peft_type must be \"LORA\"", path);
    else if (!json_is_integer(r) || !json_is_number(al))
        rc = tkd_err_set(e, TKD_EFORMAT, "%s: needs integer 'r' and numeric 'lora_alpha'", path);
    else if (json_is_true(json_object_get(cfg, "use_rslora")) || json_is_true(json_object_get(cfg, "use_dora")) ||
             json_is_true(json_object_get(cfg, "fan_in_fan_out")))
        rc = tkd_err_set(e, TKD_EFORMAT, "%s: use_rslora, use_dora and fan_in_fan_out are not supported", path);
    else if (bias && json_is_string(bias) && strcmp(json_string_value(bias), "none"))
        rc = tkd_err_set(e, TKD_EFORMAT, "%s: bias must be \"none\"", path);
    if (!rc) {
        lc.r = (int)json_integer_value(r);
        lc.alpha = json_number_value(al);
        lc.dropout = json_is_number(dr) ? json_number_value(dr) : 0.0;
        if (json_is_string(tm)) {
            rc = tkd_lora_parse_targets(json_string_value(tm), &lc.targets, e);
        } else if (json_is_array(tm)) {
            size_t i;
            json_t *v;
            json_array_foreach(tm, i, v) {
                unsigned one;
                if (!json_is_string(v) || (rc = tkd_lora_parse_targets(json_string_value(v), &one, e)))
                    break;
                lc.targets |= one;
            }
            if (!rc && !lc.targets)
                rc = tkd_err_set(e, TKD_EFORMAT, "%s: target_modules is empty", path);
        } else {
            rc = tkd_err_set(e, TKD_EFORMAT, "%s: target_modules must be a list of module names", path);
        }
    }
    json_decref(cfg);
    if (rc || (rc = tkd_lora_alloc(a, c, &lc, e)))
        return rc ? tkd_err_wrap(e, "loading adapter %s", dir) : rc;
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    tkd_st st;
    if ((rc = tkd_st_open(path, &st, e))) {
        tkd_lora_free(a);
        return rc;
    }
    char name[256];
    for (int l = 0; l < a->n_layers && !rc; l++)
        for (int t = 0; t < TKD_LORA_NT && !rc; t++) {
            if (!(lc.targets >> t & 1))
                continue;
            int64_t sa[2] = {lc.r, a->in[t]}, sb[2] = {a->out[t], lc.r};
            tkd_lora_tensor_name(l, t, 0, name, sizeof name);
            if (!(rc = tkd_st_read_f32(&st, name, tkd_lora_A(a, l, t), sa, 2, e))) {
                tkd_lora_tensor_name(l, t, 1, name, sizeof name);
                rc = tkd_st_read_f32(&st, name, tkd_lora_B(a, l, t), sb, 2, e);
            }
        }
    tkd_st_close(&st);
    if (rc)
        tkd_lora_free(a);
    return rc;
}
