/*
 * The back-translation agent (see tkd/agents.h): one source trace, its tool
 * calls translated by hand and judged concurrently, then one rephrased
 * solution. A state machine over slots (one per call, one for the rephrase);
 * no network here: the owner submits the ready requests and feeds replies.
 */
#include "tkd/agents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tkd_bt_role_names[TKD_BT_N_ROLES] = {"translator", "judge", "rephrase"};

static const char *const DEFAULT_LEAKS[] = {"sympy", "tool", "function call", "```", "python", "<tool_call>"};

enum { C_TRANSLATE, C_JUDGE, C_DONE };
enum { O_NONE, O_ACCEPTED, O_KEPT, O_REJECTED, O_FAILED };
static const char *const outcome_name[] = {"pending", "accepted", "kept_as_fact", "rejected", "failed"};

typedef struct bt_call {
    const char *tool, *args, *result; /* borrowed from the trace JSON */
    int turn;
    char *context;    /* the reasoning up to the call */
    json_t *tmsgs;    /* the translator's conversation */
    json_t *jmsgs;    /* the judge's request */
    json_t *attempts; /* [{translation, exact, llm}] */
    json_t *cur;      /* the attempt being judged (borrowed) */
    char *derivation;
    int attempt, state, outcome;
    tkd_status fail;
} bt_call;

struct tkd_bt {
    const tkd_bt_cfg *cfg;
    json_t *trace; /* the solve record's JSON (owned) */
    const char *id, *gold, *source_status;
    char *problem;
    uint64_t pid;
    int sample;
    int64_t seed;
    bt_call *calls;
    int n_calls;
    const char **tool_names;
    json_t *rmsgs, *rattempts, *requests;
    int r_attempt, rephrasing;
    int rejects_exact, rejects_llm; /* derivations rejected by each judge stage */
    char *solution, *answer;
    int *ready, n_ready, in_flight, n_requests;
    char tag[320];
    tkd_status status;
    int done;
    char reason[320];
    tkd_agent_tokens tok[TKD_BT_N_ROLES];
};

void tkd_bt_cfg_default(tkd_bt_cfg *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < TKD_BT_N_ROLES; i++) {
        c->roles[i].temperature = -1;
        c->roles[i].top_p = -1;
    }
    c->judge_mode = TKD_BT_JUDGE_EXACT_LLM;
    c->max_attempts = 2;
    c->rephrase_attempts = 2;
    for (int i = 0; i < TKD_BT_N_PROMPTS; i++)
        c->prompts[i] = tkd_bt_prompt_builtin[i];
    c->leak_patterns = DEFAULT_LEAKS;
    c->n_leak_patterns = (int)(sizeof DEFAULT_LEAKS / sizeof *DEFAULT_LEAKS);
    tkd_grade_opts_default(&c->grade);
}

static int oom(tkd_err *e) {
    return tkd_err_set(e, TKD_ENOMEM, "backtranslate: out of memory");
}

/* content without its <tool_call> blocks (the solver kept Hermes calls in the text) */
static int put_content(tkd_buf *b, const char *c) {
    int bad = 0;
    while (c && *c) {
        const char *open = strstr(c, "<tool_call>");
        size_t n = open ? (size_t)(open - c) : strlen(c);
        bad |= tkd_buf_append(b, c, n);
        if (!open)
            break;
        const char *close = strstr(open, "</tool_call>");
        c = close ? close + 12 : open + strlen(open);
    }
    return bad;
}

static const char *strip_trailing(tkd_buf *b) {
    while (b->len && strchr(" \t\r\n", b->data[b->len - 1]))
        b->data[--b->len] = 0;
    return b->data ? b->data : "";
}

/* The assistant turns' text, turns 1..upto (0: every turn) */
static char *reasoning(json_t *messages, int upto) {
    tkd_buf b;
    tkd_buf_init(&b);
    int turn = 0, bad = 0;
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!role || strcmp(role, "assistant"))
            continue;
        if (upto && ++turn > upto)
            break;
        size_t before = b.len;
        bad |= put_content(&b, json_string_value(json_object_get(m, "content")));
        if (b.len > before)
            bad |= tkd_buf_puts(&b, "\n\n");
    }
    strip_trailing(&b);
    if (bad || (!b.data && tkd_buf_puts(&b, ""))) {
        tkd_buf_free(&b);
        return NULL;
    }
    if (b.len > TKD_BT_CONTEXT_MAX) { /* the tail: what led to the call */
        char *t = strdup(b.data + b.len - TKD_BT_CONTEXT_MAX);
        tkd_buf_free(&b);
        return t;
    }
    return tkd_buf_steal(&b);
}

static int add_msg(json_t *a, const char *role, const char *content) {
    return json_array_append_new(a, json_pack("{s:s, s:s}", "role", role, "content", content ? content : ""));
}

static char *fill(const tkd_bt *b, int prompt, const bt_call *c, const char *extra_name, const char *extra) {
    const char *names[7] = {"problem", "context", "tool", "arguments", "result", extra_name ? extra_name : "-", NULL};
    const char *values[7] = {
        b->problem, c ? c->context : "", c ? c->tool : "", c ? c->args : "", c ? c->result : "", extra, NULL};
    return tkd_agent_fill(b->cfg->prompts[prompt], names, values, 6);
}

void tkd_bt_free(tkd_bt *b) {
    if (!b)
        return;
    for (int i = 0; b->calls && i < b->n_calls; i++) {
        bt_call *c = &b->calls[i];
        free(c->context);
        free(c->derivation);
        json_decref(c->tmsgs);
        json_decref(c->jmsgs);
        json_decref(c->attempts);
    }
    free(b->calls);
    free(b->tool_names);
    free(b->ready);
    free(b->problem);
    free(b->solution);
    free(b->answer);
    json_decref(b->rmsgs);
    json_decref(b->rattempts);
    json_decref(b->requests);
    json_decref(b->trace);
    free(b);
}

int tkd_bt_new(const tkd_bt_cfg *cfg, const char *trace_json, const char *problem, int64_t seed, tkd_bt **out,
               tkd_err *e) {
    *out = NULL;
    json_error_t je;
    json_t *t = json_loads(trace_json ? trace_json : "", 0, &je);
    const char *id = json_string_value(json_object_get(t, "id"));
    const char *pidhex = json_string_value(json_object_get(t, "pid"));
    json_t *msgs = json_object_get(t, "messages"), *calls = json_object_get(t, "calls");
    if (!id || !pidhex || !json_is_array(msgs) || !json_is_array(calls)) {
        json_decref(t);
        return tkd_err_set(e, TKD_EFORMAT, "backtranslate: the source record is not a solve trace (%s)",
                           t ? "no id, pid, messages or calls" : je.text);
    }
    tkd_bt *b = tkd_calloc(1, sizeof *b, e);
    if (!b) {
        json_decref(t);
        return TKD_ENOMEM;
    }
    b->cfg = cfg;
    b->trace = t;
    b->id = id;
    b->pid = strtoull(pidhex, NULL, 16);
    b->sample = (int)json_integer_value(json_object_get(t, "sample"));
    b->gold = json_string_value(json_object_get(t, "gold"));
    b->source_status = json_string_value(json_object_get(t, "status"));
    b->seed = seed;
    b->status = TKD_ST_FAILED;
    b->problem = strdup(problem ? problem : "");
    b->requests = json_array();
    b->rattempts = json_array();
    size_t n = json_array_size(calls), i;
    json_t *cl;
    int n_ok = 0;
    json_array_foreach(calls, i, cl) {
        const char *st = json_string_value(json_object_get(cl, "status"));
        n_ok += st && !strcmp(st, "ok");
    }
    if (n_ok > TKD_BT_MAX_CALLS) {
        tkd_bt_free(b);
        return tkd_err_set(e, TKD_ELIMIT, "backtranslate: %s has %d tool calls (at most %d are translated)", id, n_ok,
                           TKD_BT_MAX_CALLS);
    }
    b->calls = tkd_calloc((size_t)n_ok + 1, sizeof *b->calls, e);
    b->tool_names = tkd_calloc((size_t)n_ok + 1, sizeof *b->tool_names, e);
    b->ready = tkd_calloc((size_t)n_ok + 1, sizeof *b->ready, e);
    if (!b->problem || !b->requests || !b->rattempts || !b->calls || !b->tool_names || !b->ready) {
        tkd_bt_free(b);
        return oom(e);
    }
    json_array_foreach(calls, i, cl) {
        const char *st = json_string_value(json_object_get(cl, "status"));
        if (!st || strcmp(st, "ok"))
            continue; /* failed calls taught nothing: they are left out */
        bt_call *c = &b->calls[b->n_calls++];
        c->tool = json_string_value(json_object_get(cl, "name"));
        c->args = json_string_value(json_object_get(cl, "arguments"));
        c->result = json_string_value(json_object_get(cl, "result"));
        c->turn = (int)json_integer_value(json_object_get(cl, "turn"));
        if (!c->tool)
            c->tool = "";
        if (!c->args)
            c->args = "{}";
        if (!c->result)
            c->result = "";
        b->tool_names[b->n_calls - 1] = c->tool;
        c->context = reasoning(msgs, c->turn > 0 ? c->turn : 1);
        c->attempts = json_array();
        c->tmsgs = json_array();
        if (!c->context || !c->attempts || !c->tmsgs) {
            tkd_bt_free(b);
            return oom(e);
        }
    }
    (void)n;
    *out = b;
    return 0;
}

static void make_ready(tkd_bt *b, int slot) {
    b->ready[b->n_ready++] = slot;
}

/* Ask the translator for call c (the first attempt, or again with why). */
static int ask_translator(tkd_bt *b, bt_call *c, const char *why) {
    int bad = 0;
    if (c->attempt == 0) {
        char *u = fill(b, TKD_BT_P_TRANSLATOR_USER, c, NULL, NULL);
        bad = !u || add_msg(c->tmsgs, "system", b->cfg->prompts[TKD_BT_P_TRANSLATOR_SYSTEM]) ||
              add_msg(c->tmsgs, "user", u);
        free(u);
    } else {
        char *u = fill(b, TKD_BT_P_TRANSLATOR_RETRY, c, "reason", why);
        bad = !u || add_msg(c->tmsgs, "assistant", c->derivation) || add_msg(c->tmsgs, "user", u);
        free(u);
    }
    c->attempt++;
    c->state = C_TRANSLATE;
    make_ready(b, (int)(c - b->calls));
    return bad ? TKD_ENOMEM : 0;
}

static int ask_rephrase(tkd_bt *b, const char *why) {
    int bad = 0;
    if (b->r_attempt == 0) {
        tkd_buf t;
        tkd_buf_init(&t);
        json_t *msgs = json_object_get(b->trace, "messages"), *m;
        size_t i;
        int turn = 0;
        json_array_foreach(msgs, i, m) {
            const char *role = json_string_value(json_object_get(m, "role"));
            if (!role || strcmp(role, "assistant"))
                continue;
            turn++;
            size_t before = t.len;
            bad |= put_content(&t, json_string_value(json_object_get(m, "content")));
            if (t.len > before)
                bad |= tkd_buf_puts(&t, "\n\n");
            for (int k = 0; k < b->n_calls; k++) {
                bt_call *c = &b->calls[k];
                if (c->turn != turn)
                    continue;
                if (c->outcome == O_ACCEPTED)
                    bad |= tkd_buf_printf(&t, "%s\n\n", c->derivation);
                else
                    bad |= tkd_buf_printf(&t, "Stated fact (no derivation): for %s, the exact result is %s.\n\n",
                                          c->args, c->result);
            }
        }
        const char *trace = strip_trailing(&t);
        const char *names[2] = {"problem", "trace"}, *values[2] = {b->problem, trace};
        char *u = bad ? NULL : tkd_agent_fill(b->cfg->prompts[TKD_BT_P_REPHRASE_USER], names, values, 2);
        tkd_buf_free(&t);
        b->rmsgs = json_array();
        bad = !u || !b->rmsgs || add_msg(b->rmsgs, "system", b->cfg->prompts[TKD_BT_P_REPHRASE_SYSTEM]) ||
              add_msg(b->rmsgs, "user", u);
        free(u);
    } else {
        char *u = fill(b, TKD_BT_P_REPHRASE_RETRY, NULL, "reason", why);
        json_t *last = json_array_get(b->rattempts, json_array_size(b->rattempts) - 1);
        bad = !u || add_msg(b->rmsgs, "assistant", json_string_value(json_object_get(last, "solution"))) ||
              add_msg(b->rmsgs, "user", u);
        free(u);
    }
    b->r_attempt++;
    b->rephrasing = 1;
    make_ready(b, b->n_calls);
    return bad ? TKD_ENOMEM : 0;
}

static int req_order(const json_t *q) {
    const char *k = json_string_value(json_object_get(q, "kind"));
    return k && !strcmp(k, "judge") ? 1 : k && !strcmp(k, "rephrase") ? 2 : 0;
}

static int req_cmp(const void *pa, const void *pb) {
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    long long ka[3] = {json_integer_value(json_object_get(a, "call")), json_integer_value(json_object_get(a, "turn")),
                       req_order(a)};
    long long kb[3] = {json_integer_value(json_object_get(b, "call")), json_integer_value(json_object_get(b, "turn")),
                       req_order(b)};
    for (int i = 0; i < 3; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

/* Replies arrive in any order: the log is sorted by (call, attempt, role)
 * and the model time summed in that order, so a replay writes the same text. */
static void settle_log(tkd_bt *b) {
    size_t n = json_array_size(b->requests);
    json_t **v = n ? malloc(n * sizeof *v) : NULL;
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(b->requests, i));
    qsort(v, n, sizeof *v, req_cmp);
    json_array_clear(b->requests);
    for (int r = 0; r < TKD_BT_N_ROLES; r++)
        b->tok[r].latency_s = 0;
    for (size_t i = 0; i < n; i++) {
        b->tok[req_order(v[i])].latency_s += json_real_value(json_object_get(v[i], "latency_s"));
        json_array_append_new(b->requests, v[i]);
    }
    free(v);
}

static int finish(tkd_bt *b, tkd_status st) {
    b->status = st;
    b->done = 1;
    settle_log(b);
    return TKD_BT_ACT_DONE;
}

/* Every call has ended (and nothing is in flight): decide, or rephrase. */
static int calls_ended(tkd_bt *b, tkd_err *e) {
    int api = 0, len = 0, fin = 0, rej = 0, kept = 0;
    for (int i = 0; i < b->n_calls; i++) {
        bt_call *c = &b->calls[i];
        api += c->outcome == O_FAILED && c->fail == TKD_ST_API_ERROR;
        len += c->outcome == O_FAILED && c->fail == TKD_ST_LENGTH;
        fin += c->outcome == O_FAILED && c->fail == TKD_ST_FAILED;
        rej += c->outcome == O_REJECTED;
        kept += c->outcome == O_KEPT;
    }
    if (api || len || fin) { /* transient first: a re-run redoes the trace */
        snprintf(b->reason, sizeof b->reason, "%d translator or judge requests failed", api + len + fin);
        return finish(b, api ? TKD_ST_API_ERROR : len ? TKD_ST_LENGTH : TKD_ST_FAILED);
    }
    if (rej) {
        snprintf(b->reason, sizeof b->reason, "%d of %d tool calls rejected after %d attempts", rej, b->n_calls,
                 b->cfg->max_attempts);
        return finish(b, TKD_ST_REJECTED);
    }
    (void)kept;
    return ask_rephrase(b, NULL) ? oom(e) : TKD_BT_ACT_LLM;
}

static int all_calls_ended(const tkd_bt *b) {
    for (int i = 0; i < b->n_calls; i++)
        if (b->calls[i].state != C_DONE)
            return 0;
    return 1;
}

int tkd_bt_start(tkd_bt *b, tkd_err *e) {
    b->n_ready = 0;
    if (b->n_calls == 0)
        return ask_rephrase(b, NULL) ? oom(e) : TKD_BT_ACT_LLM;
    for (int i = 0; i < b->n_calls; i++)
        if (ask_translator(b, &b->calls[i], NULL))
            return oom(e);
    return TKD_BT_ACT_LLM;
}

int tkd_bt_n_ready(const tkd_bt *b) {
    return b->n_ready;
}

int tkd_bt_in_flight(const tkd_bt *b) {
    return b->in_flight;
}

void tkd_bt_ready(tkd_bt *b, int i, tkd_llm_request *req, int *slot, tkd_bt_role *role) {
    int s = b->ready[i];
    json_t *msgs;
    if (s == b->n_calls) {
        *role = TKD_BT_REPHRASE;
        msgs = b->rmsgs;
        snprintf(b->tag, sizeof b->tag, "%s#%d/rephrase/%d", b->id, b->sample, b->r_attempt - 1);
    } else {
        bt_call *c = &b->calls[s];
        *role = c->state == C_JUDGE ? TKD_BT_JUDGE : TKD_BT_TRANSLATOR;
        msgs = c->state == C_JUDGE ? c->jmsgs : c->tmsgs;
        snprintf(b->tag, sizeof b->tag, "%s#%d/%s/%d/%d", b->id, b->sample, tkd_bt_role_names[*role], s,
                 c->attempt - 1);
    }
    /* a seed per role, slot and attempt: two requests with the same messages
     * (a derivation judged again) are still two cache entries, so a replay
     * never depends on which one the cache saw first */
    int att = s == b->n_calls ? b->r_attempt - 1 : b->calls[s].attempt - 1;
    uint64_t mix = (uint64_t)b->seed + 1000003ull * (uint64_t)s + 7919ull * (uint64_t)att + 17ull * (uint64_t)*role;
    tkd_agent_request(req, msgs, NULL, (int64_t)(mix & 0x7fffffffu), b->sample, b->tag);
    tkd_agent_role_apply(&b->cfg->roles[*role], req);
    *slot = s;
    b->in_flight++;
    b->n_requests++;
}

static json_t *stage(const char *verdict, const char *reason) {
    return json_pack("{s:s, s:s}", "verdict", verdict, "reason", reason ? reason : "");
}

/* The judge (or the exact stage alone) rejected call c's derivation. */
static int rejected(tkd_bt *b, bt_call *c, const char *why) {
    if (c->attempt < b->cfg->max_attempts)
        return ask_translator(b, c, why);
    c->outcome = b->cfg->keep_fact ? O_KEPT : O_REJECTED;
    c->state = C_DONE;
    return 0;
}

static void accepted(bt_call *c) {
    c->outcome = O_ACCEPTED;
    c->state = C_DONE;
}

static int on_translation(tkd_bt *b, bt_call *c, const tkd_llm_response *r, tkd_status out) {
    free(c->derivation);
    c->derivation = strdup(out == TKD_ST_DONE && r->content ? r->content : "");
    c->cur = json_pack("{s:s?, s:i}", "translation", out == TKD_ST_DONE ? r->content : NULL, "attempt", c->attempt);
    if (!c->derivation || !c->cur || json_array_append_new(c->attempts, c->cur))
        return TKD_ENOMEM;
    if (out != TKD_ST_DONE) {
        json_object_set_new(c->cur, "error", json_string(r->error ? r->error : tkd_llm_status_name(r->status)));
        c->outcome = O_FAILED;
        c->fail = out;
        c->state = C_DONE;
        return 0;
    }
    char why[200];
    const tkd_bt_cfg *cfg = b->cfg;
    if (cfg->judge_mode != TKD_BT_JUDGE_LLM) {
        tkd_bt_exact_verdict v = tkd_bt_exact(c->derivation, c->result, &cfg->grade, why, sizeof why);
        if (json_object_set_new(c->cur, "exact", stage(tkd_bt_exact_name(v), why)))
            return TKD_ENOMEM;
        int decided_bad = v == TKD_BT_EXACT_DIFFERENT || v == TKD_BT_EXACT_NO_BOX ||
                          (cfg->judge_mode == TKD_BT_JUDGE_EXACT && v != TKD_BT_EXACT_EQUAL);
        b->rejects_exact += decided_bad;
        if (decided_bad || cfg->judge_mode == TKD_BT_JUDGE_EXACT) {
            if (json_object_set_new(
                    c->cur, "llm",
                    stage("skipped", decided_bad ? "rejected by the exact stage" : "judge.mode is exact")))
                return TKD_ENOMEM;
            if (!decided_bad) {
                accepted(c);
                return 0;
            }
            return rejected(b, c, why);
        }
    } else if (json_object_set_new(c->cur, "exact", stage("skipped", "judge.mode is llm"))) {
        return TKD_ENOMEM;
    }
    /* the LLM judge on the reasoning */
    char *u = fill(b, TKD_BT_P_JUDGE_USER, c, "derivation", c->derivation);
    json_decref(c->jmsgs);
    c->jmsgs = json_array();
    int bad = !u || !c->jmsgs || add_msg(c->jmsgs, "system", cfg->prompts[TKD_BT_P_JUDGE_SYSTEM]) ||
              add_msg(c->jmsgs, "user", u);
    free(u);
    if (bad)
        return TKD_ENOMEM;
    c->state = C_JUDGE;
    make_ready(b, (int)(c - b->calls));
    return 0;
}

static int on_verdict(tkd_bt *b, bt_call *c, const tkd_llm_response *r, tkd_status out) {
    if (out != TKD_ST_DONE) {
        if (json_object_set_new(c->cur, "llm", stage("failed", r->error ? r->error : tkd_llm_status_name(r->status))))
            return TKD_ENOMEM;
        c->outcome = O_FAILED;
        c->fail = out;
        c->state = C_DONE;
        return 0;
    }
    char why[200];
    int ok = tkd_bt_parse_verdict(r->content, why, sizeof why);
    if (json_object_set_new(c->cur, "llm", stage(ok ? "accept" : "reject", why)))
        return TKD_ENOMEM;
    if (ok) {
        accepted(c);
        return 0;
    }
    b->rejects_llm++;
    return rejected(b, c, why);
}

static int on_rephrase(tkd_bt *b, const tkd_llm_response *r, tkd_status out, tkd_err *e) {
    b->rephrasing = 0;
    if (out != TKD_ST_DONE) {
        snprintf(b->reason, sizeof b->reason, "rephrase request failed: %s", tkd_llm_status_name(r->status));
        return finish(b, out);
    }
    const char *sol = r->content ? r->content : "";
    char *ans = NULL, why[320] = "", leak[80];
    tkd_err ge = {0};
    int rc = tkd_grade_extract(sol, TKD_GRADE_BOXED, &ans, &ge);
    if (rc == TKD_ENOMEM)
        return oom(e);
    int wrong = 0, leaked = 0;
    if (!ans || !*tkd_text_trim(ans)) {
        wrong = 1;
        snprintf(why, sizeof why, "the solution does not end with its answer in \\boxed{}");
    } else if (b->gold) {
        tkd_grade_verdict v;
        if (tkd_grade_equal(b->gold, ans, &b->cfg->grade, &v) == TKD_ENOMEM) {
            free(ans);
            return oom(e);
        }
        if (v.result != TKD_GRADE_EQUAL) {
            wrong = 1;
            snprintf(why, sizeof why, "its final answer %.60s is not the answer the notes reach (%.100s)", ans,
                     v.reason);
        }
    }
    if (!wrong && tkd_bt_leaks(sol, b->cfg->leak_patterns, b->cfg->n_leak_patterns, b->tool_names, b->n_calls, leak,
                               sizeof leak)) {
        leaked = 1;
        snprintf(why, sizeof why, "it mentions '%s': a solution by hand must not mention tools or code", leak);
    }
    json_t *att = json_pack("{s:s, s:s?, s:s}", "solution", sol, "answer", ans, "check",
                            wrong    ? "wrong_answer"
                            : leaked ? "leaked_tools"
                                     : "ok");
    if (!att || (why[0] && json_object_set_new(att, "reason", json_string(why))) ||
        json_array_append_new(b->rattempts, att)) {
        free(ans);
        return oom(e);
    }
    if (!wrong && !leaked) {
        free(b->answer); /* a retried rephrase's earlier answer */
        b->answer = ans;
        if (!(b->solution = strdup(sol)))
            return oom(e);
        int kept = 0;
        for (int i = 0; i < b->n_calls; i++)
            kept += b->calls[i].outcome == O_KEPT;
        if (kept)
            snprintf(b->reason, sizeof b->reason, "%d of %d tool calls kept as stated facts", kept, b->n_calls);
        else
            snprintf(b->reason, sizeof b->reason, "every tool call derived by hand and accepted");
        return finish(b, kept ? TKD_ST_PARTIAL : TKD_ST_ACCEPTED);
    }
    free(b->answer);
    b->answer = ans;
    if (b->r_attempt < b->cfg->rephrase_attempts)
        return ask_rephrase(b, why) ? oom(e) : TKD_BT_ACT_LLM;
    snprintf(b->reason, sizeof b->reason, "%s", why);
    return finish(b, wrong ? TKD_ST_REPHRASE_WRONG : TKD_ST_LEAKED_TOOLS);
}

int tkd_bt_on_llm(tkd_bt *b, int slot, const tkd_llm_response *r, tkd_err *e) {
    b->n_ready = 0;
    if (b->done || slot < 0 || slot > b->n_calls)
        return tkd_err_set(e, TKD_EINTERNAL, "backtranslate: a reply for slot %d of %s, which is not waiting", slot,
                           b->id);
    b->in_flight--;
    tkd_status out = tkd_agent_reply_outcome(r);
    if (slot == b->n_calls) {
        json_t *log =
            tkd_agent_log_reply(b->requests, r, b->r_attempt - 1, "rephrase", b->cfg->roles[TKD_BT_REPHRASE].endpoints,
                                b->cfg->roles[TKD_BT_REPHRASE].n_endpoints, &b->tok[TKD_BT_REPHRASE]);
        if (!log || json_object_set_new(log, "call", json_integer(b->n_calls)))
            return oom(e);
        return on_rephrase(b, r, out, e);
    }
    bt_call *c = &b->calls[slot];
    tkd_bt_role role = c->state == C_JUDGE ? TKD_BT_JUDGE : TKD_BT_TRANSLATOR;
    json_t *log = tkd_agent_log_reply(b->requests, r, c->attempt - 1, tkd_bt_role_names[role],
                                      b->cfg->roles[role].endpoints, b->cfg->roles[role].n_endpoints, &b->tok[role]);
    if (!log || json_object_set_new(log, "call", json_integer(slot)))
        return oom(e);
    int rc = role == TKD_BT_JUDGE ? on_verdict(b, c, r, out) : on_translation(b, c, r, out);
    if (rc)
        return rc == TKD_ENOMEM ? oom(e) : rc;
    if (b->n_ready)
        return TKD_BT_ACT_LLM;
    if (b->in_flight == 0 && all_calls_ended(b))
        return calls_ended(b, e);
    return TKD_BT_ACT_WAIT;
}

void tkd_bt_rejects(const tkd_bt *b, int *exact, int *llm) {
    *exact = b->rejects_exact;
    *llm = b->rejects_llm;
}

tkd_status tkd_bt_status(const tkd_bt *b) {
    return b->status;
}

void tkd_bt_record(const tkd_bt *b, tkd_record *rec) {
    tkd_agent_tokens all = {0, 0, 0, 0};
    for (int i = 0; i < TKD_BT_N_ROLES; i++) {
        all.prompt += b->tok[i].prompt;
        all.completion += b->tok[i].completion;
        all.latency_s += b->tok[i].latency_s;
        all.requests += b->tok[i].requests;
    }
    tkd_agent_record(rec, b->pid, b->sample, TKD_PHASE_BACKTRANSLATE, b->status, &all, all.latency_s);
    rec->turns = (uint32_t)all.requests;
    rec->tool_calls = (uint32_t)b->n_calls;
    if (b->answer)
        rec->flags |= TKD_F_HAS_ANSWER;
    if (b->status == TKD_ST_ACCEPTED || b->status == TKD_ST_PARTIAL)
        rec->flags |= TKD_F_CORRECT;
}

char *tkd_bt_result_json(const tkd_bt *b, tkd_err *e) {
    char pid[17];
    snprintf(pid, sizeof pid, "%016llx", (unsigned long long)b->pid);
    json_t *calls = json_array(), *tokens = json_object(), *lat = json_object();
    int bad = !calls || !tokens || !lat;
    for (int i = 0; i < b->n_calls && !bad; i++) {
        const bt_call *c = &b->calls[i];
        bad |= json_array_append_new(calls, json_pack("{s:s, s:s, s:s, s:i, s:O, s:s}", "tool", c->tool, "arguments",
                                                      c->args, "result", c->result, "turn", c->turn, "attempts",
                                                      c->attempts, "outcome", outcome_name[c->outcome]));
    }
    double total = 0;
    for (int i = 0; i < TKD_BT_N_ROLES && !bad; i++) {
        bad |= json_object_set_new(tokens, tkd_bt_role_names[i], tkd_agent_tokens_json(&b->tok[i])) ||
               json_object_set_new(lat, tkd_bt_role_names[i], json_real(b->tok[i].latency_s));
        total += b->tok[i].latency_s;
    }
    bad |= json_object_set_new(lat, "total", json_real(total));
    json_t *j =
        bad ? NULL
            : json_pack("{s:s, s:s, s:i, s:s?, s:s, s:s, s:s, s:s?, s:O, s:s?, s:s?, s:O, s:O, s:O, s:O, "
                        "s:{s:s?, s:s?, s:s?}}",
                        "id", b->id, "pid", pid, "sample", b->sample, "source_status", b->source_status, "status",
                        tkd_status_name(b->status), "reason", b->reason, "problem", b->problem, "gold", b->gold,
                        "calls", calls, "solution", b->solution, "answer", b->answer, "rephrase", b->rattempts,
                        "tokens", tokens, "latency_s", lat, "requests", b->requests, "models", "translator",
                        b->cfg->roles[0].model, "judge", b->cfg->roles[1].model, "rephrase", b->cfg->roles[2].model);
    json_decref(calls);
    json_decref(tokens);
    json_decref(lat);
    char *t = tkd_agent_dump(j, "backtranslate", e);
    json_decref(j);
    return t;
}
