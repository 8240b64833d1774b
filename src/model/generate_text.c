/*
 * Generation from text: prompts (chats or plain text) are encoded with the
 * model's tokenizer, continued as one batch by tkd_generate, and decoded;
 * the chat format's end tokens and stop strings end a sequence.
 */
#include "tkd/model.h"
#include "tkd/tokenizer.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define GEN_TEXT_MAX_STOP_IDS 64

typedef struct text_stop {
    tkd_tokenizer *tok;
    const char *const *stops;
    int n;
} text_stop;

static int stop_on_text(void *ctx, int seq, const int *toks, int n) {
    (void)seq;
    text_stop *s = ctx;
    char *text;
    size_t len;
    tkd_err e = {0};
    if (tkd_tokenizer_decode(s->tok, (const int32_t *)toks, (size_t)n, 0, &text, &len, &e))
        return 0;
    int hit = 0;
    for (int i = 0; i < s->n && !hit; i++)
        hit = strstr(text, s->stops[i]) != NULL;
    free(text);
    return hit;
}

/* Hugging Face's rule (Unicode's "maximal subpart" practice): a lead byte
 * and the continuation bytes that can still complete it form one ill-formed
 * subsequence, replaced by one U+FFFD; a byte that cannot start a character
 * is one by itself. So a reply cut inside a 4-byte character gives one
 * U+FFFD, as vLLM returns it, not one per byte. */
char *tkd_utf8_lossy(const char *s, size_t n) {
    char *o = malloc(3 * n + 1), *w = o;
    if (!o)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        int len = 0;
        unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
        if (c < 0x80)
            len = 1;
        else if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        int j = 1;
        if (len > 1 && i + 1 < n && u[i + 1] >= lo && u[i + 1] <= hi)
            for (j = 2; j < len && i + (size_t)j < n && u[i + j] >= 0x80 && u[i + j] <= 0xbf;)
                j++;
        if (len && j == len) {
            memcpy(w, s + i, (size_t)len);
            w += len;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3;
        }
        i += (size_t)j;
    }
    *w = 0;
    return o;
}

int tkd_generate_text(const tkd_model *m, tkd_tokenizer *tok, const char *const *prompts, int n, int chat,
                      const tkd_gen_opts *o, const char *const *stops, int n_stops, char **out, tkd_err *e) {
    int **ids = tkd_calloc((size_t)n + 1, sizeof(int *), e), *lens = tkd_calloc((size_t)n + 1, sizeof(int), e);
    int **gen = tkd_calloc((size_t)n + 1, sizeof(int *), e), *glen = tkd_calloc((size_t)n + 1, sizeof(int), e);
    int rc = (!ids || !lens || !gen || !glen) ? TKD_ENOMEM : 0;
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    for (int i = 0; i < n && !rc; i++) {
        int32_t *p = NULL;
        size_t len = 0;
        if (chat) {
            json_error_t je;
            json_t *j = json_loads(prompts[i], 0, &je);
            json_t *msgs = json_is_object(j) ? json_object_get(j, "messages") : j;
            if (!json_is_array(msgs))
                rc = tkd_err_set(e, TKD_EINVAL, "expected a JSON array of messages or {\"messages\": [...]}");
            else
                rc = tkd_chat_encode_json(tok, msgs, json_is_object(j) ? json_object_get(j, "tools") : NULL, 1, &p,
                                          NULL, &len, e);
            json_decref(j);
        } else {
            rc = tkd_tokenizer_encode(tok, prompts[i], strlen(prompts[i]), 0, &p, &len, e);
        }
        ids[i] = (int *)p;
        lens[i] = (int)len;
        if (rc)
            tkd_err_wrap(e, "prompt %d", i);
    }
    int sid[GEN_TEXT_MAX_STOP_IDS], ns = 0;
    for (int i = 0; i < o->n_stop_ids && ns < GEN_TEXT_MAX_STOP_IDS - 3; i++)
        sid[ns++] = o->stop_ids[i];
    const char *ends[2] = {"<|im_end|>", "<|endoftext|>"};
    for (int i = 0; i < 2; i++) {
        int32_t id = tkd_tokenizer_token_id(tok, ends[i]);
        if (id >= 0)
            sid[ns++] = id;
    }
    if (m->cfg.eos_id >= 0)
        sid[ns++] = m->cfg.eos_id;
    tkd_gen_opts go = *o;
    go.stop_ids = sid;
    go.n_stop_ids = ns;
    text_stop ts = {tok, stops, n_stops};
    if (!rc)
        rc = tkd_generate(m, (const int *const *)ids, lens, n, &go, n_stops ? stop_on_text : NULL, &ts, gen, glen, e);
    for (int i = 0; i < n && !rc; i++) {
        char *text;
        size_t len;
        if ((rc = tkd_tokenizer_decode(tok, (const int32_t *)gen[i], (size_t)glen[i], TKD_TOK_SKIP_SPECIAL, &text, &len,
                                       e)))
            break;
        for (int k = 0; k < n_stops; k++) { /* cut at the first stop string */
            char *hit = strstr(text, stops[k]);
            if (hit)
                *hit = 0;
        }
        out[i] = tkd_utf8_lossy(text, strlen(text));
        free(text);
        if (!out[i])
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        if (rc) {
            free(out[i]);
            out[i] = NULL;
        }
        if (ids)
            free(ids[i]);
        if (gen)
            free(gen[i]);
    }
    free(ids);
    free(lens);
    free(gen);
    free(glen);
    return rc;
}
