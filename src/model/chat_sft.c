/*
 * The bridge from the chat format to the trainer's SFT reader: a
 * tkd_sft_encode_fn that turns a line's messages into ids and the
 * assistant-token loss mask with a tkd_tokenizer (ctx). Use:
 *   tkd_sft_load(path, tkd_chat_sft_encode, tok, &ex, &n, &e);
 */
#include <stdlib.h>

#include "tkd/model.h"
#include "tokenizer_internal.h"

int tkd_chat_sft_encode(void *ctx, const json_t *messages, tkd_sft_example *out, tkd_err *e) {
    int32_t *ids;
    uint8_t *mask;
    size_t n;
    out->ids = NULL;
    out->mask = NULL;
    out->n = 0;
    int rc = tkd_chat_encode_json(ctx, messages, NULL, 0, &ids, &mask, &n, e);
    if (rc)
        return rc;
    if (n > (1u << 30)) {
        free(ids);
        free(mask);
        return tkd_err_set(e, TKD_ELIMIT, "chat: %zu tokens in one example", n);
    }
    out->ids = malloc((n ? n : 1) * sizeof *out->ids);
    if (!out->ids) {
        free(ids);
        free(mask);
        return tkd_err_set(e, TKD_ENOMEM, "chat: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        out->ids[i] = ids[i];
    free(ids);
    out->mask = mask;
    out->n = (int)n;
    return 0;
}
