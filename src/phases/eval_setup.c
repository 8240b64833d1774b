/*
 * The eval phase's setup pieces (see tkd/phases.h and eval_int.h): the arms
 * and their engines, the benchmarks (read with the importer's loader, so a
 * benchmark file is any file `tkd data import` reads), the done-set at
 * sample granularity, and the endpoint engine (tkd's OpenAI client).
 */
#include "eval_int.h"

#include "tkd/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eval_done_clear(eval_done *d) {
    free(d->text);
    free(d->finish_reason);
    free(d->error);
    memset(d, 0, sizeof *d);
}

uint64_t eval_pid(const char *arm, const char *problem_id) {
    tkd_buf b;
    tkd_buf_init(&b);
    uint64_t h = 0;
    if (!tkd_buf_printf(&b, "eval\n%s\n%s", arm, problem_id))
        h = tkd_hash64(b.data, b.len);
    tkd_buf_free(&b);
    return h;
}

/* ---- the endpoint engine: the OpenAI client ---- */

typedef struct endpoint_engine {
    eval_engine base;
    tkd_llm *llm;
    const char *model;
} endpoint_engine;

static int ep_submit(eval_engine *g, json_t *messages, const eval_sampling *s, void *cookie, tkd_err *e) {
    endpoint_engine *p = (endpoint_engine *)g;
    tkd_llm_request req;
    tkd_llm_request_init(&req);
    req.model = p->model;
    req.messages = messages;
    req.temperature = s->temperature;
    req.top_p = s->top_p;
    req.max_tokens = s->max_new;
    req.has_seed = 1;
    req.seed = s->seed;
    req.sample = s->sample;
    req.tag = s->tag;
    return tkd_llm_submit(p->llm, &req, cookie, e);
}

static int ep_poll(eval_engine *g, int timeout_ms, tkd_err *e) {
    int rc = tkd_llm_poll(((endpoint_engine *)g)->llm, timeout_ms);
    if (rc < 0)
        return tkd_err_set(e, rc, "eval: the endpoint client failed: %s", tkd_strerror(rc));
    return rc;
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static int ep_next(eval_engine *g, eval_done *d) {
    tkd_llm_response *r;
    void *ck;
    if (!tkd_llm_next_done(((endpoint_engine *)g)->llm, &r, &ck))
        return 0;
    memset(d, 0, sizeof *d);
    d->cookie = ck;
    d->outcome = r->status == TKD_LLM_OK               ? EVAL_OK
                 : r->status == TKD_LLM_CONTEXT_LENGTH ? EVAL_FAILED /* a re-run would fail alike */
                                                       : EVAL_TRANSIENT;
    d->text = strdup(r->content ? r->content : "");
    d->finish_reason = dup_or_null(r->finish_reason);
    if (r->status != TKD_LLM_OK) {
        tkd_buf b;
        tkd_buf_init(&b);
        tkd_buf_printf(&b, "%s: %s%s%s", tkd_llm_status_name(r->status), r->error ? r->error : "",
                       r->last_error ? "; last: " : "", r->last_error ? r->last_error : "");
        d->error = tkd_buf_steal(&b);
    }
    d->prompt_tokens = r->prompt_tokens;
    d->completion_tokens = r->completion_tokens;
    d->latency_s = r->latency_s;
    d->attempts = r->attempts;
    d->from_cache = r->from_cache;
    d->endpoint = r->endpoint;
    tkd_llm_response_free(r);
    return 1;
}

tkd_llm *eval_endpoint_llm(eval_engine *g) {
    return ((endpoint_engine *)g)->llm;
}

static int ep_pending(const eval_engine *g) {
    return tkd_llm_pending(((const endpoint_engine *)g)->llm);
}
static int ep_busy(const eval_engine *g) {
    (void)g;
    return 0;
}
static void ep_free(eval_engine *g) {
    endpoint_engine *p = (endpoint_engine *)g;
    if (!p)
        return;
    tkd_llm_free(p->llm);
    free(p);
}

int eval_endpoint_new(const tkd_job *job, size_t arm, int rank, eval_engine **out, tkd_err *e) {
    json_t *a = json_array_get(tkd_job_get(job, "eval.arms"), arm);
    const char *name = json_string_value(json_object_get(a, "name"));
    tkd_llm_config c;
    int rc = tkd_llm_config_from_job(job, &c, e); /* teacher.* settings are the defaults */
    if (rc)
        return rc;
    c.model = json_string_value(json_object_get(a, "model"));
    c.n_base_urls = 0;
    json_t *u;
    size_t i;
    json_array_foreach(json_object_get(a, "base_urls"), i, u) {
        if (c.n_base_urls == TKD_LLM_MAX_ENDPOINTS)
            return tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu].base_urls has more than %d entries", job->path, arm,
                               TKD_LLM_MAX_ENDPOINTS);
        c.base_urls[c.n_base_urls++] = json_string_value(u);
    }
    if (!c.model || !*c.model || !c.n_base_urls)
        return tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu] ('%s', engine endpoint) needs model and base_urls",
                           job->path, arm, name);
    c.api_key_env = json_string_value(json_object_get(a, "api_key_env"));
    c.max_in_flight = (int)json_integer_value(json_object_get(a, "max_in_flight"));
    c.timeout_s = json_number_value(json_object_get(a, "timeout_s"));
    c.http2 = json_is_true(json_object_get(a, "http2"));
    const char *cm = json_string_value(json_object_get(a, "cache"));
    c.cache = !strcmp(cm, "read-write")    ? TKD_LLM_CACHE_RW
              : !strcmp(cm, "replay-only") ? TKD_LLM_CACHE_REPLAY
                                           : TKD_LLM_CACHE_OFF;
    c.cache_dir = json_string_value(json_object_get(a, "cache_dir"));
    c.temperature = tkd_job_num(job, "eval.temperature"); /* defaults of every request (tir's too) */
    c.top_p = tkd_job_num(job, "eval.top_p");
    c.max_tokens = (int)tkd_job_int(job, "eval.max_new_tokens");
    c.seed = (uint64_t)tkd_job_int(job, "seed") ^ (0x9e3779b97f4a7c15ull * (uint64_t)(rank + 1)) ^ (uint64_t)arm;
    endpoint_engine *p = tkd_calloc(1, sizeof *p, e);
    if (!p)
        return TKD_ENOMEM;
    p->base = (eval_engine){"endpoint", ep_submit, ep_poll, ep_next, ep_pending, ep_busy, ep_free};
    p->model = c.model;
    if ((rc = tkd_llm_create(&c, &p->llm, e))) {
        free(p);
        return tkd_err_wrap(e, "eval: arm '%s'", name);
    }
    *out = &p->base;
    return 0;
}

/* ---- arms, benchmarks, prompts ---- */

static int load_benchmarks(eval_ctx *x, tkd_err *e) {
    const tkd_job *job = x->job;
    json_t *bs = tkd_job_get(job, "eval.benchmarks"), *b;
    size_t i;
    if (!json_array_size(bs))
        return tkd_err_set(e, TKD_EINVAL, "%s: eval.benchmarks is empty: name at least one benchmark file", job->path);
    if (json_array_size(bs) > EVAL_MAX_BENCH)
        return tkd_err_set(e, TKD_EINVAL, "%s: eval.benchmarks: at most %d", job->path, EVAL_MAX_BENCH);
    json_array_foreach(bs, i, b) {
        eval_bench *eb = &x->benches[x->n_benches++];
        eb->name = json_string_value(json_object_get(b, "name"));
        if (!*eb->name) { /* the file name without its extension: math500.jsonl -> math500 */
            const char *path = json_string_value(json_object_get(b, "path")), *base = strrchr(path, '/');
            base = base && base[1] ? base + 1 : path;
            size_t n = strcspn(base, ".");
            if (!(eb->owned_name = strndup(base, n)))
                return tkd_err_set(e, TKD_ENOMEM, "out of memory");
            eb->name = eb->owned_name;
        }
        for (int j = 0; j + 1 < x->n_benches; j++)
            if (!strcmp(x->benches[j].name, eb->name))
                return tkd_err_set(e, TKD_EINVAL, "%s: eval.benchmarks[%zu]: the name '%s' is used twice", job->path, i,
                                   eb->name);
        if (!*eb->name || strchr(eb->name, '/'))
            return tkd_err_set(e, TKD_EINVAL, "%s: eval.benchmarks[%zu].name: '%s' must be non-empty, without '/'",
                               job->path, i, eb->name);
        const char *ex = json_string_value(json_object_get(b, "extract"));
        if (!*ex)
            ex = tkd_job_str(job, "grade.extract");
        int rc = tkd_grade_mode_parse(ex, &eb->extract, e);
        tkd_data_opts o = {.name = eb->name,
                           .limit = (size_t)json_integer_value(json_object_get(b, "limit")),
                           .fail_on_bad_line = !strcmp(tkd_job_str(job, "data.on_bad_line"), "fail")};
        if (!rc)
            rc = tkd_data_format_parse(json_string_value(json_object_get(b, "format")), &o.format);
        tkd_data_stats st = {0};
        eb->first = x->probs.n;
        if (!rc)
            rc = tkd_data_load(json_string_value(json_object_get(b, "path")), &o, &x->probs, &st, e);
        if (rc)
            return tkd_err_wrap(e, "%s: eval.benchmarks[%zu] ('%s')", job->path, i, eb->name);
        /* a problem without a gold answer cannot be graded: left out, said once */
        size_t w = eb->first, dropped = 0;
        for (size_t r = eb->first; r < x->probs.n; r++) {
            if (!x->probs.items[r].answer) {
                tkd_problem_clear(&x->probs.items[r]);
                dropped++;
                continue;
            }
            x->probs.items[w++] = x->probs.items[r];
        }
        x->probs.n = w;
        eb->n = w - eb->first;
        if (dropped && x->rank == 0)
            tkd_log_warn("eval: benchmark '%s': %zu problems without a gold answer left out", eb->name, dropped);
        if (!eb->n)
            return tkd_err_set(e, TKD_EINVAL, "%s: eval.benchmarks[%zu] ('%s'): no gradable problem in '%s'", job->path,
                               i, eb->name, json_string_value(json_object_get(b, "path")));
    }
    x->bench_of = tkd_calloc(x->probs.n, sizeof *x->bench_of, e);
    if (!x->bench_of)
        return TKD_ENOMEM;
    for (int b2 = 0; b2 < x->n_benches; b2++)
        for (size_t r = 0; r < x->benches[b2].n; r++)
            x->bench_of[x->benches[b2].first + r] = b2;
    return 0;
}

int eval_setup(eval_ctx *x, tkd_err *e) {
    const tkd_job *job = x->job;
    x->k = (int)tkd_job_int(job, "eval.samples_per_problem");
    x->temperature = tkd_job_num(job, "eval.temperature");
    x->top_p = tkd_job_num(job, "eval.top_p");
    x->max_new = (int)tkd_job_int(job, "eval.max_new_tokens");
    x->run_seed = (uint64_t)tkd_job_int(job, "seed");
    tkd_grade_opts_from_job(job, &x->gopts);
    json_t *arms = tkd_job_get(job, "eval.arms"), *a;
    size_t i;
    if (!json_array_size(arms))
        return tkd_err_set(e, TKD_EINVAL, "%s: eval.arms is empty: name at least one arm", job->path);
    if (json_array_size(arms) > EVAL_MAX_ARMS)
        return tkd_err_set(e, TKD_EINVAL, "%s: eval.arms: at most %d", job->path, EVAL_MAX_ARMS);
    json_array_foreach(arms, i, a) {
        eval_arm *ar = &x->arms[x->n_arms++];
        ar->name = json_string_value(json_object_get(a, "name"));
        ar->engine = json_string_value(json_object_get(a, "engine"));
        ar->mode = json_string_value(json_object_get(a, "mode"));
        ar->model = json_string_value(json_object_get(a, "model"));
        if (!*ar->name || strchr(ar->name, '/') || strchr(ar->name, '\n'))
            return tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu].name: '%s' must be non-empty, without '/'", job->path,
                               i, ar->name);
        for (int j = 0; j + 1 < x->n_arms; j++)
            if (!strcmp(x->arms[j].name, ar->name))
                return tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu]: the name '%s' is used twice", job->path, i,
                                   ar->name);
        ar->tir = !strcmp(ar->mode, "tir");
        if (ar->tir && strcmp(ar->engine, "endpoint"))
            return tkd_err_set(e, TKD_EINVAL,
                               "%s: eval.arms[%zu].mode: tir needs engine endpoint (the builtin engine returns text, "
                               "not tool calls)",
                               job->path, i);
        if (!strcmp(ar->engine, "builtin")) {
            const char *md = json_string_value(json_object_get(a, "model_dir"));
            if (!*md)
                return tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu] ('%s', engine builtin) needs model_dir",
                                   job->path, i, ar->name);
            if (!*ar->model)
                ar->model = md;
        }
    }
    int rc = tkd_student_prompt_load(job, &x->sp, e);
    if (!rc)
        rc = load_benchmarks(x, e);
    x->n_items = (uint64_t)x->n_arms * x->probs.n * (uint64_t)x->k;
    return rc;
}

/* ---- the done-set: samples with a final record ---- */

static uint64_t pair_key(uint64_t pid, uint32_t sample) {
    uint64_t z = pid ^ (0x9e3779b97f4a7c15ull * ((uint64_t)sample + 1));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int done_row(void *ctx, const char *shard, const tkd_record *rec) {
    (void)shard;
    if (rec->phase != TKD_PHASE_EVAL || !tkd_status_is_final(rec->status))
        return 0;
    return tkd_idset_add(ctx, pair_key(rec->pid, rec->sample)) < 0 ? TKD_ENOMEM : 0;
}

int eval_done_set(eval_ctx *x, uint8_t *done, tkd_err *e) {
    tkd_idset *pairs = tkd_idset_new();
    if (!pairs)
        return tkd_err_set(e, TKD_ENOMEM, "eval: out of memory for the done-set");
    int rc = tkd_store_scan_dir(x->dir, done_row, pairs, e);
    if (rc) {
        tkd_idset_free(pairs);
        return tkd_err_wrap(e, "eval: reading the shards of '%s' for the done-set", x->dir);
    }
    uint64_t before = 0;
    for (int a = 0; a < x->n_arms; a++)
        for (size_t p = 0; p < x->probs.n; p++) {
            uint64_t pid = eval_pid(x->arms[a].name, x->probs.items[p].id);
            for (int s = 0; s < x->k; s++) {
                uint64_t it = eval_item(x, a, p, s);
                done[it] = (uint8_t)tkd_idset_has(pairs, pair_key(pid, (uint32_t)s));
                before += done[it];
            }
        }
    tkd_idset_free(pairs);
    x->done_before = before;
    return 0;
}

void eval_ctx_free(eval_ctx *x) {
    for (int i = 0; x->slots && i < x->n_slots_cap; i++) {
        free(x->slots[i].prompt);
        tkd_solver_free(x->slots[i].sv);
    }
    tkd_tools_pool_free(x->pool);
    json_decref(x->tools);
    for (int i = 0; i < 6; i++)
        free(x->tir_prompts[i]);
    free(x->slots);
    free(x->free_slots);
    free(x->unflushed);
    if (x->shard)
        tkd_store_close(x->shard, NULL);
    for (int a = 0; a < x->n_arms; a++)
        if (x->arms[a].eng)
            x->arms[a].eng->free(x->arms[a].eng);
    tkd_student_prompt_free(&x->sp);
    for (int b = 0; b < x->n_benches; b++)
        free(x->benches[b].owned_name);
    free(x->bench_of);
    free(x->dir);
    tkd_problem_set_free(&x->probs);
}
