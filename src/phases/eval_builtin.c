/*
 * The builtin engine: tkd's own generation on the rank (CPU fp32 today; a
 * CUDA decoder plugs in behind the same calls). The model (with its adapter
 * merged) and tokenizer are loaded once per rank and arm. Submitted chats
 * are rendered with the model's chat template and wait in a FIFO; each poll
 * admits waiting prompts into free decoder slots and runs one decoder step
 * (batched prefill of the new prompts, one token for every running
 * sequence: continuous batching), then hands back the finished ones,
 * decoded with Hugging Face's U+FFFD rule. Stop tokens: <|im_end|>,
 * <|endoftext|> and the config's eos; a sequence that reaches
 * max_new_tokens (or the model's context) ends with finish reason "length".
 */
#include "eval_int.h"

#include "tkd/model.h"
#include "tkd/tokenizer.h"

#include <stdlib.h>
#include <string.h>

typedef struct breq { /* a submitted sample */
    void *cookie;
    int *ids, n_ids;
    tkd_gen_opts o;
    double t0;
    struct breq *next;
} breq;

typedef struct builtin_engine {
    eval_engine base;
    const char *name;
    tkd_model m;
    int model_loaded;
    tkd_tokenizer *tok;
    tkd_decoder *dec;
    int stop_ids[4], n_stop_ids;
    breq *head, *tail; /* waiting for a slot */
    breq **slot_req;   /* (batch) the request in each decoder slot */
    eval_done *done;   /* finished, not yet handed back */
    int n_done, cap_done;
    int pending;
    int batch; /* decoder slots */
} builtin_engine;

static int push_done(builtin_engine *p, eval_done *d) {
    if (p->n_done == p->cap_done) {
        int cap = p->cap_done ? 2 * p->cap_done : 64;
        eval_done *nd = realloc(p->done, sizeof *nd * (size_t)cap);
        if (!nd)
            return TKD_ENOMEM;
        p->done = nd;
        p->cap_done = cap;
    }
    p->done[p->n_done++] = *d;
    return 0;
}

static int bi_submit(eval_engine *g, json_t *messages, const eval_sampling *s, void *cookie, tkd_err *e) {
    builtin_engine *p = (builtin_engine *)g;
    breq *r = tkd_calloc(1, sizeof *r, e);
    if (!r)
        return TKD_ENOMEM;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = tkd_chat_encode_json(p->tok, messages, NULL, 1, &ids, NULL, &n, e);
    r->cookie = cookie;
    r->ids = (int *)ids;
    r->n_ids = (int)n;
    r->t0 = tkd_now();
    r->o = (tkd_gen_opts){.max_new = s->max_new,
                          .temperature = s->temperature,
                          .top_p = s->top_p,
                          .seed = (uint64_t)s->seed,
                          .stop_ids = p->stop_ids,
                          .n_stop_ids = p->n_stop_ids};
    int room = p->m.cfg.max_pos - r->n_ids;
    if (rc || room < 1) { /* cannot be generated: a final failure, handed back at once */
        eval_done d = {.cookie = cookie, .outcome = EVAL_FAILED, .text = strdup(""), .prompt_tokens = (long)n};
        tkd_buf b;
        tkd_buf_init(&b);
        if (rc)
            tkd_buf_printf(&b, "the chat could not be encoded: %s", e->msg);
        else
            tkd_buf_printf(&b, "the prompt (%d tokens) fills the model's context (%d positions)", r->n_ids,
                           p->m.cfg.max_pos);
        d.error = tkd_buf_steal(&b);
        free(r->ids);
        free(r);
        memset(e, 0, sizeof *e);
        if (push_done(p, &d)) {
            eval_done_clear(&d);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
        p->pending++;
        return 0;
    }
    if (r->o.max_new > room)
        r->o.max_new = room; /* the context ends it: recorded as length */
    if (p->tail)
        p->tail->next = r;
    else
        p->head = r;
    p->tail = r;
    p->pending++;
    return 0;
}

static int bi_poll(eval_engine *g, int timeout_ms, tkd_err *e) {
    (void)timeout_ms; /* compute-bound: never waits */
    builtin_engine *p = (builtin_engine *)g;
    while (p->head && tkd_decoder_free_slots(p->dec)) {
        breq *r = p->head;
        int slot;
        if (tkd_decoder_add(p->dec, r->ids, r->n_ids, &r->o, &slot, e))
            return tkd_err_wrap(e, "eval: arm '%s'", p->name);
        p->head = r->next;
        if (!p->head)
            p->tail = NULL;
        free(r->ids);
        r->ids = NULL;
        p->slot_req[slot] = r;
    }
    if (tkd_decoder_active(p->dec) && tkd_decoder_step(p->dec, e))
        return tkd_err_wrap(e, "eval: arm '%s': generation", p->name);
    int slot, reason;
    while (tkd_decoder_next_done(p->dec, &slot, &reason)) {
        breq *r = p->slot_req[slot];
        const int *toks;
        int n = tkd_decoder_tokens(p->dec, slot, &toks);
        char *raw = NULL;
        size_t len = 0;
        eval_done d = {.cookie = r->cookie,
                       .outcome = EVAL_OK,
                       .prompt_tokens = r->n_ids,
                       .completion_tokens = n,
                       .latency_s = tkd_now() - r->t0,
                       .attempts = 1,
                       .endpoint = -1};
        if (tkd_tokenizer_decode(p->tok, (const int32_t *)toks, (size_t)n, TKD_TOK_SKIP_SPECIAL, &raw, &len, e))
            return tkd_err_wrap(e, "eval: arm '%s': decoding a response", p->name);
        d.text = tkd_utf8_lossy(raw, len);
        free(raw);
        d.finish_reason = strdup(reason == TKD_GEN_LENGTH ? "length" : "stop");
        tkd_decoder_release(p->dec, slot);
        p->slot_req[slot] = NULL;
        free(r);
        if (!d.text || !d.finish_reason || push_done(p, &d)) {
            eval_done_clear(&d);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
    }
    return p->n_done;
}

static int bi_next(eval_engine *g, eval_done *d) {
    builtin_engine *p = (builtin_engine *)g;
    if (!p->n_done)
        return 0;
    *d = p->done[0];
    memmove(p->done, p->done + 1, sizeof *p->done * (size_t)--p->n_done);
    p->pending--;
    return 1;
}

static int bi_pending(const eval_engine *g) {
    return ((const builtin_engine *)g)->pending;
}

static int bi_busy(const eval_engine *g) {
    const builtin_engine *p = (const builtin_engine *)g;
    return p->head || p->n_done || (p->dec && tkd_decoder_active(p->dec));
}

static void bi_free(eval_engine *g) {
    builtin_engine *p = (builtin_engine *)g;
    if (!p)
        return;
    while (p->head) {
        breq *r = p->head;
        p->head = r->next;
        free(r->ids);
        free(r);
    }
    for (int i = 0; p->slot_req && i < p->batch; i++)
        free(p->slot_req[i]); /* in flight when the phase ended */
    for (int i = 0; i < p->n_done; i++)
        eval_done_clear(&p->done[i]);
    free(p->done);
    tkd_decoder_free(p->dec);
    tkd_tokenizer_free(p->tok);
    if (p->model_loaded)
        tkd_model_free(&p->m);
    free(p->slot_req);
    free(p);
}

int eval_builtin_new(const tkd_job *job, size_t arm, eval_engine **out, tkd_err *e) {
    json_t *a = json_array_get(tkd_job_get(job, "eval.arms"), arm);
    const char *name = json_string_value(json_object_get(a, "name"));
    const char *dir = json_string_value(json_object_get(a, "model_dir"));
    const char *adapter = json_string_value(json_object_get(a, "adapter"));
    int batch = (int)json_integer_value(json_object_get(a, "batch"));
    builtin_engine *p = tkd_calloc(1, sizeof *p, e);
    if (!p)
        return TKD_ENOMEM;
    p->base = (eval_engine){"builtin", bi_submit, bi_poll, bi_next, bi_pending, bi_busy, bi_free};
    p->name = name;
    p->batch = batch;
    int rc = tkd_model_load(&p->m, dir, e);
    p->model_loaded = rc == 0;
    if (!rc && adapter && *adapter) {
        tkd_lora l;
        if (!(rc = tkd_lora_load(&l, adapter, &p->m.cfg, e))) {
            rc = tkd_lora_merge(&p->m, &l, e);
            tkd_lora_free(&l);
        }
    }
    if (!rc)
        rc = tkd_tokenizer_load(dir, &p->tok, e);
    if (!rc)
        rc = tkd_decoder_new(&p->m, batch, &p->dec, e);
    if (!rc && !(p->slot_req = tkd_calloc((size_t)batch, sizeof *p->slot_req, e)))
        rc = TKD_ENOMEM;
    if (rc) {
        bi_free(&p->base);
        return tkd_err_wrap(e, "%s: eval.arms[%zu] ('%s', engine builtin)", job->path, arm, name);
    }
    const char *ends[2] = {"<|im_end|>", "<|endoftext|>"};
    for (int i = 0; i < 2; i++) {
        int32_t id = tkd_tokenizer_token_id(p->tok, ends[i]);
        if (id >= 0)
            p->stop_ids[p->n_stop_ids++] = id;
    }
    if (p->m.cfg.eos_id >= 0)
        p->stop_ids[p->n_stop_ids++] = p->m.cfg.eos_id;
    *out = &p->base;
    return 0;
}
