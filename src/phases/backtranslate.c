/*
 * The back-translation phase (see tkd/phases.h): setup on every rank (roles
 * and their clients, prompts, the selected traces of the solve store, the
 * done-set), then the shared event loop (runner.h) with one back-translation
 * agent per trace in flight, several requests in flight per agent.
 */
#include "runner.h"

#include "tkd/agents.h"
#include "tkd/phases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BT_SLOT_BITS 18 /* cookie: gen (22 bits) | agent (24 bits) | slot (18 bits) */
#define BT_AGENT_BITS 24

typedef struct bt_item { /* a selected source trace */
    uint64_t pid;
    uint32_t sample;
    size_t row; /* in the solve store */
} bt_item;

typedef struct bt_agent {
    tkd_bt *bt;
    uint64_t item;
    uint32_t gen;
    int used;
} bt_agent;

typedef struct bt_ctx {
    const tkd_job *job;
    int rank, size;
    char *dir, *input, *prompts[TKD_BT_N_PROMPTS];
    uint64_t run_seed, done_before;
    tkd_llm_config teacher, lcfg[TKD_BT_N_ROLES];
    int client_of[TKD_BT_N_ROLES];
    tkd_bt_cfg cfg;
    const char **leaks;
    tkd_store *src;
    bt_item *items;
    size_t n_items;
    tkd_problem_set probs;
    uint64_t *prob_pid; /* sorted pids, and the problem index of each */
    size_t *prob_idx;
    phase_run run;
    bt_agent *agents;
    int cap, n_agents, *free_agents, n_free;
    uint32_t gen;
    uint64_t traces_done, by_status[TKD_ST_COUNT], requests, rejects_exact, rejects_llm;
    double t_start, next_progress;
    long long tokens_at_last;
} bt_ctx;

/* ---- setup ---- */

static int role_cfg(bt_ctx *x, int r, tkd_err *e) {
    const tkd_job *job = x->job;
    char k[96];
    const char *role = tkd_bt_role_names[r];
    tkd_llm_config *c = &x->lcfg[r];
    *c = x->teacher;
#define KEY(name) (snprintf(k, sizeof k, "backtranslate.%s.%s", role, name), k)
    json_t *urls = tkd_job_get(job, KEY("base_urls"));
    if (json_array_size(urls)) {
        if (json_array_size(urls) > TKD_LLM_MAX_ENDPOINTS)
            return tkd_err_set(e, TKD_EINVAL, "%s: %s has more than %d entries", job->path, k, TKD_LLM_MAX_ENDPOINTS);
        c->n_base_urls = (int)json_array_size(urls);
        for (int i = 0; i < c->n_base_urls; i++)
            c->base_urls[i] = json_string_value(json_array_get(urls, (size_t)i));
    }
    if (*tkd_job_str(job, KEY("api_key_env")))
        c->api_key_env = tkd_job_str(job, k);
    if (tkd_job_int(job, KEY("max_in_flight")) > 0)
        c->max_in_flight = (int)tkd_job_int(job, k);
    if (tkd_job_num(job, KEY("timeout_s")) > 0)
        c->timeout_s = tkd_job_num(job, k);
    tkd_agent_role *ar = &x->cfg.roles[r];
    ar->model = *tkd_job_str(job, KEY("model")) ? tkd_job_str(job, k) : x->teacher.model;
    ar->temperature = tkd_job_num(job, KEY("temperature"));
    ar->top_p = tkd_job_num(job, KEY("top_p"));
    ar->max_tokens = (int)tkd_job_int(job, KEY("max_tokens"));
#undef KEY
    if (!ar->model || !*ar->model || c->n_base_urls < 1)
        return tkd_err_set(e, TKD_EINVAL,
                           "%s: the %s role needs a model and base_urls (backtranslate.%s.* or teacher.*)", job->path,
                           role, role);
    /* roles on the same endpoints with the same limits share one client */
    x->client_of[r] = -1;
    for (int q = 0; q < r && x->client_of[r] < 0; q++) {
        const tkd_llm_config *o = &x->lcfg[q];
        int same = o->n_base_urls == c->n_base_urls &&
                   !strcmp(o->api_key_env ? o->api_key_env : "", c->api_key_env ? c->api_key_env : "") &&
                   o->max_in_flight == c->max_in_flight && o->timeout_s == c->timeout_s;
        for (int i = 0; same && i < c->n_base_urls; i++)
            same = !strcmp(o->base_urls[i], c->base_urls[i]);
        if (same)
            x->client_of[r] = x->client_of[q];
    }
    if (x->client_of[r] < 0)
        x->client_of[r] = x->run.n_llm++; /* created later */
    ar->endpoints = c->base_urls;
    ar->n_endpoints = c->n_base_urls;
    return 0;
}

static int cfg_from_job(bt_ctx *x, tkd_err *e) {
    const tkd_job *job = x->job;
    tkd_bt_cfg *c = &x->cfg;
    tkd_bt_cfg_default(c);
    const char *mode = tkd_job_str(job, "backtranslate.judge.mode");
    c->judge_mode = !strcmp(mode, "exact") ? TKD_BT_JUDGE_EXACT
                    : !strcmp(mode, "llm") ? TKD_BT_JUDGE_LLM
                                           : TKD_BT_JUDGE_EXACT_LLM;
    c->max_attempts = (int)tkd_job_int(job, "backtranslate.max_attempts");
    c->rephrase_attempts = (int)tkd_job_int(job, "backtranslate.rephrase_attempts");
    c->keep_fact = !strcmp(tkd_job_str(job, "backtranslate.on_reject"), "keep_fact");
    tkd_grade_opts_from_job(job, &c->grade);
    for (int i = 0; i < TKD_BT_N_PROMPTS; i++) {
        char k[96];
        snprintf(k, sizeof k, "backtranslate.prompts.%s", tkd_bt_prompt_names[i]);
        int rc = tkd_prompt_file(job, k, &x->prompts[i], e);
        if (rc)
            return rc;
        if (x->prompts[i])
            c->prompts[i] = x->prompts[i];
    }
    json_t *lp = tkd_job_get(job, "backtranslate.leak_patterns");
    size_t n = json_array_size(lp);
    if (!(x->leaks = tkd_calloc(n + 1, sizeof *x->leaks, e)))
        return TKD_ENOMEM;
    for (size_t i = 0; i < n; i++)
        x->leaks[i] = json_string_value(json_array_get(lp, i));
    c->leak_patterns = x->leaks;
    c->n_leak_patterns = (int)n;
    int rc = tkd_llm_config_from_job(job, &x->teacher, e);
    for (int r = 0; r < TKD_BT_N_ROLES && !rc; r++)
        rc = role_cfg(x, r, e);
    return rc;
}

static int item_cmp(const void *a, const void *b) {
    const bt_item *p = a, *q = b;
    if (p->pid != q->pid)
        return p->pid < q->pid ? -1 : 1;
    return p->sample < q->sample ? -1 : p->sample > q->sample;
}

/* want[status] = 1 for every status of backtranslate.select. */
static int select_statuses(const tkd_job *job, uint8_t want[TKD_ST_COUNT], tkd_err *e) {
    memset(want, 0, TKD_ST_COUNT);
    json_t *sel = tkd_job_get(job, "backtranslate.select"), *v;
    size_t i;
    json_array_foreach(sel, i, v) {
        int st = tkd_status_parse(json_string_value(v));
        if (st < 0 || st >= TKD_ST_COUNT)
            return tkd_err_set(e, TKD_EINVAL, "%s: backtranslate.select[%zu]: unknown status '%s'", job->path, i,
                               json_string_value(v));
        want[st] = 1;
    }
    return 0;
}

/* The selected traces of the solve store, by (pid, sample); at most
 * max_per_problem per problem, lowest samples first. */
static int select_items(bt_ctx *x, tkd_err *e) {
    uint8_t want[TKD_ST_COUNT];
    int rc = select_statuses(x->job, want, e);
    if (rc)
        return rc;
    rc = tkd_store_open(x->input, &x->src, e);
    if (rc)
        return tkd_err_wrap(e,
                            "backtranslate: the solve store (run tkd solve first: its completion merges OUT/solve.h5)");
    size_t n = tkd_store_count(x->src);
    if (!(x->items = tkd_calloc(n ? n : 1, sizeof *x->items, e)))
        return TKD_ENOMEM;
    tkd_record recs[256];
    for (size_t row = 0; row < n; row += 256) {
        size_t k = n - row < 256 ? n - row : 256;
        if ((rc = tkd_store_read_many(x->src, row, k, recs, e)))
            return rc;
        for (size_t j = 0; j < k; j++)
            if (recs[j].phase == TKD_PHASE_SOLVE && recs[j].status < TKD_ST_COUNT && want[recs[j].status])
                x->items[x->n_items++] = (bt_item){recs[j].pid, recs[j].sample, row + j};
    }
    qsort(x->items, x->n_items, sizeof *x->items, item_cmp);
    long long cap = tkd_job_int(x->job, "backtranslate.max_per_problem");
    size_t out = 0;
    for (size_t a = 0; a < x->n_items; a++) {
        if (out && x->items[out - 1].pid == x->items[a].pid && x->items[out - 1].sample == x->items[a].sample)
            continue; /* a duplicate row */
        long long same = 0;
        for (size_t b = out; b > 0 && x->items[b - 1].pid == x->items[a].pid; b--)
            same++;
        if (cap > 0 && same >= cap)
            continue;
        x->items[out++] = x->items[a];
    }
    x->n_items = out;
    return 0;
}

static int pid_cmp(const void *a, const void *b) {
    uint64_t p = *(const uint64_t *)a, q = *(const uint64_t *)b;
    return p < q ? -1 : p > q;
}

static int index_problems(bt_ctx *x, tkd_err *e) {
    size_t n = x->probs.n;
    uint64_t *pairs = tkd_calloc(2 * (n ? n : 1), sizeof *pairs, e);
    x->prob_pid = tkd_calloc(n ? n : 1, sizeof *x->prob_pid, e);
    x->prob_idx = tkd_calloc(n ? n : 1, sizeof *x->prob_idx, e);
    if (!pairs || !x->prob_pid || !x->prob_idx) {
        free(pairs);
        return TKD_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        pairs[2 * i] = x->probs.items[i].pid;
        pairs[2 * i + 1] = i;
    }
    qsort(pairs, n, 2 * sizeof *pairs, pid_cmp);
    for (size_t i = 0; i < n; i++) {
        x->prob_pid[i] = pairs[2 * i];
        x->prob_idx[i] = (size_t)pairs[2 * i + 1];
    }
    free(pairs);
    return 0;
}

static const tkd_problem *problem_of(const bt_ctx *x, uint64_t pid) {
    size_t lo = 0, hi = x->probs.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x->prob_pid[mid] < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->probs.n && x->prob_pid[lo] == pid ? &x->probs.items[x->prob_idx[lo]] : NULL;
}

/* A trace is done when its record holds a final status. */
static int done_set(bt_ctx *x, uint8_t *done, tkd_err *e) {
    tkd_idset *set = tkd_idset_new();
    if (!set)
        return tkd_err_set(e, TKD_ENOMEM, "backtranslate: out of memory for the done-set");
    int rc = phase_done_pairs(x->dir, TKD_PHASE_BACKTRANSLATE, set, e);
    for (size_t i = 0; !rc && i < x->n_items; i++) {
        done[i] = (uint8_t)tkd_idset_has(set, phase_pair_key(x->items[i].pid, x->items[i].sample));
        x->done_before += done[i];
    }
    tkd_idset_free(set);
    return rc ? tkd_err_wrap(e, "backtranslate: reading the shards of '%s' for the done-set", x->dir) : 0;
}

/* ---- the agents on the loop ---- */

static void *cookie_of(int ai, uint32_t gen, int slot) {
    uint64_t c = ((uint64_t)(gen & 0x3fffffu) << (BT_AGENT_BITS + BT_SLOT_BITS)) | ((uint64_t)ai << BT_SLOT_BITS) |
                 (uint64_t)slot;
    return (void *)(uintptr_t)c;
}

static int trace_done(bt_ctx *x, int ai, tkd_err *e) {
    bt_agent *g = &x->agents[ai];
    tkd_record rec;
    tkd_bt_record(g->bt, &rec);
    char *text = tkd_bt_result_json(g->bt, e);
    if (!text)
        return TKD_ENOMEM;
    int rc = tkd_store_append(x->run.shard, &rec, text, strlen(text), e);
    free(text);
    if (rc)
        return tkd_err_wrap(e, "backtranslate: writing %s", tkd_store_path(x->run.shard));
    int rx, rl;
    tkd_bt_rejects(g->bt, &rx, &rl);
    x->rejects_exact += (uint64_t)rx;
    x->rejects_llm += (uint64_t)rl;
    x->traces_done++;
    x->by_status[rec.status < TKD_ST_COUNT ? rec.status : TKD_ST_FAILED]++;
    tkd_bt_free(g->bt);
    g->bt = NULL;
    g->used = 0;
    x->free_agents[x->n_free++] = ai;
    x->n_agents--;
    return phase_written(&x->run, g->item, e);
}

/* Carry out act for agent ai: submit every ready request; a request the
 * client refuses (it cannot be built) fails its slot only, fed back once the
 * others are on their way (the agent ends only when none is in flight, so it
 * outlives the failures fed to it). */
static int drive(bt_ctx *x, int ai, int act, tkd_err *e) {
    bt_agent *g = &x->agents[ai];
    if (act < 0)
        return act;
    if (act == TKD_BT_ACT_WAIT)
        return 0;
    if (act == TKD_BT_ACT_DONE)
        return trace_done(x, ai, e);
    int n = tkd_bt_n_ready(g->bt), n_refused = 0, refused[TKD_BT_MAX_CALLS + 1];
    char why[TKD_ERR_MSG_MAX] = "";
    for (int i = 0; i < n; i++) {
        tkd_llm_request req;
        int slot;
        tkd_bt_role role;
        tkd_bt_ready(g->bt, i, &req, &slot, &role);
        int rc = tkd_llm_submit(x->run.llm[x->client_of[role]], &req, cookie_of(ai, g->gen, slot), e);
        x->requests++;
        if (rc == TKD_ENOMEM)
            return tkd_err_wrap(e, "backtranslate: submitting a request");
        if (rc) {
            refused[n_refused++] = slot;
            snprintf(why, sizeof why, "%s", e->msg);
        }
    }
    for (int k = 0; k < n_refused; k++) {
        tkd_llm_response failed;
        memset(&failed, 0, sizeof failed);
        failed.status = TKD_LLM_HTTP_ERROR;
        failed.endpoint = -1;
        failed.error = why;
        failed.content = (char *)"";
        int rc = drive(x, ai, tkd_bt_on_llm(g->bt, refused[k], &failed, e), e);
        if (rc)
            return rc;
    }
    return 0;
}

static int hook_room(void *ctx) {
    return ((bt_ctx *)ctx)->n_free;
}

/* A trace that cannot be back-translated (not a solve trace, too many calls,
 * its problem missing) gets a failed record of its own; the run goes on. */
static int fail_trace(bt_ctx *x, uint64_t item, const char *trace, const char *why, tkd_err *e) {
    const bt_item *it = &x->items[item];
    char pid[17];
    snprintf(pid, sizeof pid, "%016llx", (unsigned long long)it->pid);
    json_t *src = json_loads(trace ? trace : "", 0, NULL);
    json_t *j = json_pack("{s:O?, s:s, s:i, s:O?, s:s, s:s, s:n, s:[]}", "id", json_object_get(src, "id"), "pid", pid,
                          "sample", (int)it->sample, "source_status", json_object_get(src, "status"), "status",
                          tkd_status_name(TKD_ST_FAILED), "reason", why, "solution", "calls");
    json_decref(src);
    char *text = tkd_agent_dump(j, "backtranslate", e);
    json_decref(j);
    if (!text)
        return TKD_ENOMEM;
    tkd_agent_tokens none = {0, 0, 0, 0};
    tkd_record rec;
    tkd_agent_record(&rec, it->pid, (int)it->sample, TKD_PHASE_BACKTRANSLATE, TKD_ST_FAILED, &none, 0);
    int rc = tkd_store_append(x->run.shard, &rec, text, strlen(text), e);
    free(text);
    if (rc)
        return tkd_err_wrap(e, "backtranslate: writing %s", tkd_store_path(x->run.shard));
    tkd_log_warn("backtranslate: trace %s#%u failed: %s", pid, it->sample, why);
    x->traces_done++;
    x->by_status[TKD_ST_FAILED]++;
    return phase_written(&x->run, item, e);
}

static int hook_start(void *ctx, uint64_t item, tkd_err *e) {
    bt_ctx *x = ctx;
    const bt_item *it = &x->items[item];
    tkd_record rec;
    char *text = NULL;
    int rc = tkd_store_read(x->src, it->row, &rec, e);
    if (!rc)
        rc = tkd_store_read_text(x->src, &rec, &text, e);
    if (rc)
        return tkd_err_wrap(e, "backtranslate: reading trace row %zu of %s", it->row, x->input);
    const tkd_problem *p = problem_of(x, it->pid);
    if (!p) {
        rc = fail_trace(x, item, text, "its problem is not in OUT/problems.h5 (imported from other data?)", e);
        free(text);
        return rc;
    }
    int ai = x->free_agents[--x->n_free];
    bt_agent *g = &x->agents[ai];
    rc = tkd_bt_new(&x->cfg, text, p->problem, tkd_solver_seed(x->run_seed, it->pid, (int)it->sample), &g->bt, e);
    if (rc) {
        x->free_agents[x->n_free++] = ai;
        if (rc != TKD_ENOMEM) {
            char why[sizeof e->msg];
            snprintf(why, sizeof why, "%s", e->msg);
            e->code = 0;
            e->msg[0] = 0;
            rc = fail_trace(x, item, text, why, e);
        } else
            tkd_err_wrap(e, "backtranslate: trace row %zu of %s", it->row, x->input);
        free(text);
        return rc;
    }
    free(text);
    g->item = item;
    g->gen = ++x->gen;
    g->used = 1;
    x->n_agents++;
    return drive(x, ai, tkd_bt_start(g->bt, e), e);
}

static int hook_on_llm(void *ctx, const tkd_llm_response *r, void *ck, tkd_err *e) {
    bt_ctx *x = ctx;
    uint64_t c = (uint64_t)(uintptr_t)ck;
    int slot = (int)(c & ((1u << BT_SLOT_BITS) - 1));
    int ai = (int)((c >> BT_SLOT_BITS) & ((1u << BT_AGENT_BITS) - 1));
    uint32_t gen = (uint32_t)(c >> (BT_AGENT_BITS + BT_SLOT_BITS));
    if (ai >= x->cap || !x->agents[ai].used || (x->agents[ai].gen & 0x3fffffu) != gen)
        return 0; /* its trace was abandoned */
    return drive(x, ai, tkd_bt_on_llm(x->agents[ai].bt, slot, r, e), e);
}

static int hook_in_flight(void *ctx) {
    return ((bt_ctx *)ctx)->n_agents;
}

static void progress(void *ctx, int force) {
    bt_ctx *x = ctx;
    double now = tkd_now();
    if (!force && now < x->next_progress)
        return;
    double every = tkd_job_num(x->job, "dist.progress_every_s");
    double dt = now - (x->next_progress - every);
    x->next_progress = now + every;
    long long tok = 0;
    int wire = 0, waiting = 0;
    for (int i = 0; i < x->run.n_llm; i++) {
        tkd_llm_stats st;
        tkd_llm_get_stats(x->run.llm[i], &st);
        tok += st.prompt_tokens + st.completion_tokens;
        wire += st.in_flight;
        waiting += st.waiting;
    }
    double rate = dt > 0 ? (double)(tok - x->tokens_at_last) / dt : 0;
    x->tokens_at_last = tok;
    const uint64_t *s = x->by_status;
    tkd_log_info(
        "backtranslate: %llu traces done: %llu accepted, %llu partial, %llu rejected, %llu rephrase_wrong, "
        "%llu leaked_tools, %llu failed; derivations rejected: %llu by the exact stage, %llu by the judge; in flight: "
        "%d traces, %d requests (+%d waiting); %.0f tokens/s",
        (unsigned long long)x->traces_done, (unsigned long long)s[TKD_ST_ACCEPTED],
        (unsigned long long)s[TKD_ST_PARTIAL], (unsigned long long)s[TKD_ST_REJECTED],
        (unsigned long long)s[TKD_ST_REPHRASE_WRONG], (unsigned long long)s[TKD_ST_LEAKED_TOOLS],
        (unsigned long long)(s[TKD_ST_LENGTH] + s[TKD_ST_API_ERROR] + s[TKD_ST_FAILED]),
        (unsigned long long)x->rejects_exact, (unsigned long long)x->rejects_llm, x->n_agents, wire, waiting, rate);
}

static int alloc_agents(bt_ctx *x, tkd_err *e) {
    x->cap = (int)tkd_job_int(x->job, "backtranslate.max_in_flight");
    if (x->cap >= (1 << BT_AGENT_BITS))
        x->cap = (1 << BT_AGENT_BITS) - 1;
    x->agents = tkd_calloc((size_t)x->cap, sizeof *x->agents, e);
    x->free_agents = tkd_calloc((size_t)x->cap, sizeof *x->free_agents, e);
    if (!x->agents || !x->free_agents)
        return TKD_ENOMEM;
    for (int i = 0; i < x->cap; i++)
        x->free_agents[x->n_free++] = x->cap - 1 - i;
    return 0;
}

static void ctx_free(bt_ctx *x) {
    for (int i = 0; x->agents && i < x->cap; i++)
        tkd_bt_free(x->agents[i].bt);
    free(x->agents);
    free(x->free_agents);
    phase_run_free(&x->run);
    tkd_store_close(x->src, NULL);
    free(x->items);
    free(x->prob_pid);
    free(x->prob_idx);
    tkd_problem_set_free(&x->probs);
    for (int i = 0; i < TKD_BT_N_PROMPTS; i++)
        free(x->prompts[i]);
    free(x->leaks);
    free(x->dir);
    free(x->input);
}

int tkd_backtranslate_run(const tkd_job *job, MPI_Comm comm, tkd_err *e) {
    bt_ctx x;
    memset(&x, 0, sizeof x);
    x.job = job;
    tkd_problem_set_init(&x.probs);
    MPI_Comm_rank(comm, &x.rank);
    MPI_Comm_size(comm, &x.size);
    x.run_seed = (uint64_t)tkd_job_int(job, "seed");
    char *path = NULL;
    uint8_t *done = NULL;
    int rc = 0;
    tkd_buf b;
    tkd_buf_init(&b);
    const char *out = tkd_job_str(job, "output_dir"), *in = tkd_job_str(job, "backtranslate.input");

    /* ---- setup; any rank's failure fails every rank ---- */
    if ((rc = phase_run_init(&x.run, "backtranslate", (int)tkd_job_int(job, "backtranslate.max_in_flight"), e)) ||
        (rc = cfg_from_job(&x, e)))
        goto agree1;
    if (tkd_buf_printf(&b, "%s/shards/backtranslate", out) || !(x.dir = tkd_buf_steal(&b)) ||
        (*in ? tkd_buf_puts(&b, in) : tkd_buf_printf(&b, "%s/solve.h5", out)) || !(x.input = tkd_buf_steal(&b))) {
        rc = tkd_err_set(e, TKD_ENOMEM, "backtranslate: out of memory");
        goto agree1;
    }
    if ((rc = select_items(&x, e)) || (rc = tkd_phase_load_problems(job, &x.probs, e)) ||
        (rc = index_problems(&x, e)) || (rc = tkd_mkdirs(x.dir, e)))
        goto agree1;
    if (x.rank == 0) {
        if (!(done = tkd_calloc(x.n_items ? x.n_items : 1, 1, e))) {
            rc = TKD_ENOMEM;
            goto agree1;
        }
        rc = done_set(&x, done, e);
    }
agree1:
    if (phase_agree(comm, &rc, "backtranslate", e))
        goto out;
    for (int r = 0; r < TKD_BT_N_ROLES && !rc; r++) {
        int ci = x.client_of[r];
        if (x.run.llm[ci])
            continue;
        x.lcfg[r].seed = x.run_seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(x.rank + 1 + 1000 * r));
        rc = tkd_llm_create(&x.lcfg[r], &x.run.llm[ci], e);
        if (!rc && x.lcfg[r].cache != TKD_LLM_CACHE_REPLAY)
            tkd_llm_check(x.run.llm[ci]); /* no work is taken before its endpoints answer (runner.c) */
    }
    if (!rc)
        rc = alloc_agents(&x, e);
    x.run.n_items = x.n_items;
    if (!rc) {
        const char *inputs[1] = {x.input};
        rc = phase_open_shard(&x.run, job, x.dir, x.rank, TKD_PHASE_BACKTRANSLATE, inputs, 1, &path, e);
    }
    if (phase_agree(comm, &rc, "backtranslate", e))
        goto out;
    tkd_dist_cfg dcfg;
    tkd_dist_cfg_default(&dcfg);
    tkd_dist_cfg_from_job(job, &dcfg);
    dcfg.label = "backtranslate";
    if ((rc = tkd_dist_create(comm, x.n_items, done, &dcfg, &x.run.dist, e)))
        goto out;
    tkd_log_info("backtranslate: rank %d (pid %d): shard %s", x.rank, (int)getpid(), path);
    if (x.rank == 0)
        tkd_log_info("backtranslate: %zu traces selected from %s (%llu done before), %d ranks; translator %s, judge %s "
                     "(%s), rephrase %s; %d client%s",
                     x.n_items, x.input, (unsigned long long)x.done_before, x.size, x.cfg.roles[0].model,
                     x.cfg.roles[1].model, tkd_job_str(job, "backtranslate.judge.mode"), x.cfg.roles[2].model,
                     x.run.n_llm, x.run.n_llm > 1 ? "s" : "");
    x.t_start = tkd_now();
    x.next_progress = x.t_start + tkd_job_num(job, "dist.progress_every_s");
    {
        phase_hooks h = {&x, hook_room, hook_start, hook_on_llm, NULL, NULL, hook_in_flight, progress};
        rc = phase_loop(&x.run, &h, e);
    }
    progress(&x, 1);
    tkd_dist_stats st;
    rc = phase_close(&x.run, rc, &st, e);
    {
        double el = tkd_now() - x.t_start;
        tkd_buf_reset(&b);
        for (int s = 0; s < TKD_ST_COUNT; s++)
            if (x.by_status[s])
                tkd_buf_printf(&b, " %s %llu", tkd_status_name((tkd_status)s), (unsigned long long)x.by_status[s]);
        tkd_log_info("backtranslate: rank %d: %llu traces in %.1f s (%.1f traces/s):%s; %llu requests", x.rank,
                     (unsigned long long)x.traces_done, el, el > 0 ? (double)x.traces_done / el : 0.0,
                     b.len ? b.data : " none", (unsigned long long)x.requests);
    }
    if (x.rank == 0 && (rc == 0 || rc == TKD_ESTOP)) {
        tkd_log_info("backtranslate: %s: %llu/%llu traces done, %llu before this run; %s",
                     rc ? "stopped early (exit 3; a re-run resumes)" : "all done", (unsigned long long)st.done,
                     (unsigned long long)st.total, (unsigned long long)st.done_before,
                     st.duplicates ? "some traces were done twice (merge drops duplicates)" : "no duplicates");
        if (!rc) { /* every shard is closed: the table of the whole phase */
            tkd_bt_table *t = tkd_bt_table_new();
            tkd_err te = {0};
            if (t && !tkd_bt_table_add_dir(t, x.dir, &te)) {
                tkd_bt_table_print(t, stdout);
                fflush(stdout);
            } else
                tkd_log_warn("backtranslate: the acceptance table: %s", te.msg[0] ? te.msg : "out of memory");
            tkd_bt_table_free(t);
        }
    }
out:
    ctx_free(&x);
    free(done);
    free(path);
    tkd_buf_free(&b);
    return rc;
}

int tkd_backtranslate_check(const tkd_job *job, int input_made_earlier, tkd_err *e) {
    bt_ctx x;
    memset(&x, 0, sizeof x);
    x.job = job;
    uint8_t want[TKD_ST_COUNT];
    int rc = cfg_from_job(&x, e);
    if (!rc)
        rc = select_statuses(job, want, e);
    if (!rc && !input_made_earlier) {
        const char *in = tkd_job_str(job, "backtranslate.input");
        char *path = *in ? strdup(in) : tkd_phase_store_path(job, "solve", e);
        FILE *f = path ? fopen(path, "rb") : NULL;
        if (!path)
            rc = e->code ? e->code : TKD_ENOMEM;
        else if (!f)
            rc = tkd_err_set(e, TKD_EINVAL,
                             "%s: backtranslate: the solve store %s does not exist: run tkd solve %s first", job->path,
                             path, job->path);
        if (f)
            fclose(f);
        free(path);
    }
    for (int i = 0; i < TKD_BT_N_PROMPTS; i++)
        free(x.prompts[i]);
    free(x.leaks);
    return rc;
}
