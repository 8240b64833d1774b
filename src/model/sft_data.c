/*
 * SFT JSONL reader: chat examples ({"messages": [...]}, encoded by the
 * tokenizer's chat format through a callback) or pre-tokenized examples
 * ({"input_ids": [...], "loss_mask": [...]}). A bad line is an error that
 * names the file and line.
 */
#include "tkd/model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tkd_sft_free(tkd_sft_example *ex, int n) {
    for (int i = 0; ex && i < n; i++) {
        free(ex[i].ids);
        free(ex[i].mask);
    }
    free(ex);
}

static int pretokenized(json_t *ids, json_t *mask, tkd_sft_example *x, tkd_err *e) {
    size_t n = json_array_size(ids);
    if (!n || n > (1u << 30) || (mask && (!json_is_array(mask) || json_array_size(mask) != n)))
        return tkd_err_set(e, TKD_EFORMAT, "input_ids must be a non-empty array and loss_mask one of the same length");
    x->n = (int)n;
    x->ids = malloc(sizeof(int) * n);
    x->mask = malloc(n);
    if (!x->ids || !x->mask)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(ids, i), *mv = mask ? json_array_get(mask, i) : NULL;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1 << 30))
            return tkd_err_set(e, TKD_EFORMAT, "input_ids[%zu] is not a token id", i);
        x->ids[i] = (int)json_integer_value(v);
        x->mask[i] = mv ? (uint8_t)(json_is_true(mv) || (json_is_integer(mv) && json_integer_value(mv))) : 1;
    }
    return 0;
}

int tkd_sft_load(const char *path, tkd_sft_encode_fn enc, void *ctx, tkd_sft_example **out, int *n_out, tkd_err *e) {
    FILE *f = fopen(path, "r");
    if (!f)
        return tkd_err_set(e, TKD_ENOTFOUND, "%s: cannot open the SFT data", path);
    tkd_sft_example *ex = NULL;
    int n = 0, cap = 0, rc = 0;
    long lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        if (++lineno == 1)
            len = (ssize_t)tkd_text_strip_bom(line, (size_t)len);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = 0;
        if (!len)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            tkd_sft_example *nx = realloc(ex, sizeof *ex * (size_t)cap);
            if (!nx) {
                rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
                break;
            }
            ex = nx;
        }
        memset(&ex[n], 0, sizeof ex[n]);
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)len, 0, &je);
        json_t *msgs = j ? json_object_get(j, "messages") : NULL, *ids = j ? json_object_get(j, "input_ids") : NULL;
        if (!json_is_object(j))
            rc = tkd_err_set(e, TKD_EFORMAT, "not a JSON object (%s)", j ? "wrong type" : je.text);
        else if (json_is_array(msgs) && enc)
            rc = enc(ctx, j, &ex[n], e);
        else if (json_is_array(msgs))
            rc = tkd_err_set(e, TKD_EINVAL, "chat messages need a tokenizer in the model folder");
        else if (json_is_array(ids))
            rc = pretokenized(ids, json_object_get(j, "loss_mask"), &ex[n], e);
        else
            rc = tkd_err_set(e, TKD_EFORMAT, "needs \"messages\" (chat) or \"input_ids\" (pre-tokenized)");
        json_decref(j);
        n++;
        if (rc) {
            tkd_err_wrap(e, "%s:%ld", path, lineno);
            break;
        }
    }
    free(line);
    fclose(f);
    if (!rc && !n)
        rc = tkd_err_set(e, TKD_EINVAL, "%s: no examples", path);
    if (rc) {
        tkd_sft_free(ex, n);
        return rc;
    }
    *out = ex;
    *n_out = n;
    return 0;
}
