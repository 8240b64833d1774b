/*
 * What every agent shares (see tkd/agents.h, "shared by every agent"): the
 * request of a conversation with its stable seed, the log entry and token
 * accounting of a reply, what a reply means (usable, cut short, failed),
 * prompt templates and the result text. The solver, translator, judge and
 * rephrase agents all go through these, so a request or a record is built
 * the same way whichever agent makes it.
 */
#include "tkd/agents.h"

#include <stdlib.h>
#include <string.h>

void tkd_agent_request(tkd_llm_request *req, json_t *messages, json_t *tools, int64_t seed, int sample,
                       const char *tag) {
    tkd_llm_request_init(req);
    req->messages = messages;
    req->tools = tools;
    req->has_seed = 1;
    req->seed = seed;
    req->sample = sample;
    req->tag = tag;
}

void tkd_agent_role_apply(const tkd_agent_role *role, tkd_llm_request *req) {
    if (!role)
        return;
    if (role->model && *role->model)
        req->model = role->model;
    if (role->temperature >= 0)
        req->temperature = role->temperature;
    if (role->top_p > 0)
        req->top_p = role->top_p;
    if (role->max_tokens > 0)
        req->max_tokens = role->max_tokens;
}

const char *tkd_agent_endpoint(const tkd_llm_response *r, const char *const *endpoints, int n_endpoints) {
    return r->endpoint >= 0 && r->endpoint < n_endpoints ? endpoints[r->endpoint] : NULL;
}

json_t *tkd_agent_log_reply(json_t *log, const tkd_llm_response *r, int turn, const char *kind,
                            const char *const *endpoints, int n_endpoints, tkd_agent_tokens *acc) {
    const char *ep = tkd_agent_endpoint(r, endpoints, n_endpoints);
    json_t *req = json_pack("{s:i, s:s, s:s, s:i, s:s?, s:I, s:I, s:f, s:i, s:s?, s:s?, s:s?}", "turn", turn, "kind",
                            kind, "status", tkd_llm_status_name(r->status), "http_code", r->http_code, "finish_reason",
                            r->finish_reason, "prompt_tokens", (json_int_t)r->prompt_tokens, "completion_tokens",
                            (json_int_t)r->completion_tokens, "latency_s", r->latency_s, "attempts", r->attempts,
                            "endpoint", ep, "error", r->error, "reasoning", r->reasoning_content);
    if (!req || json_array_append_new(log, req))
        return NULL;
    if (acc) {
        acc->prompt += r->prompt_tokens;
        acc->completion += r->completion_tokens;
        acc->latency_s += r->latency_s;
        acc->requests++;
    }
    return req;
}

tkd_status tkd_agent_reply_outcome(const tkd_llm_response *r) {
    if (r->status == TKD_LLM_CONTEXT_LENGTH)
        return TKD_ST_LENGTH;
    /* the endpoint rejected this very request (or it could not be built):
     * asking again gets the same answer, so it is final (failed); any other
     * failure is transient (api_error) and redone by the next run */
    if (r->status == TKD_LLM_HTTP_ERROR &&
        (r->http_code == 0 || r->http_code == 400 || r->http_code == 413 || r->http_code == 422))
        return TKD_ST_FAILED;
    if (r->status != TKD_LLM_OK)
        return TKD_ST_API_ERROR;
    if (r->finish_reason && !strcmp(r->finish_reason, "length"))
        return TKD_ST_LENGTH;
    return TKD_ST_DONE;
}

json_t *tkd_agent_tokens_json(const tkd_agent_tokens *t) {
    return json_pack("{s:I, s:I, s:i}", "prompt", (json_int_t)t->prompt, "completion", (json_int_t)t->completion,
                     "requests", t->requests);
}

char *tkd_agent_fill(const char *t, const char *const *names, const char *const *values, int n) {
    tkd_buf b;
    tkd_buf_init(&b);
    int bad = 0;
    while (*t && !bad) {
        int hit = -1;
        size_t len = 0;
        if (*t == '{')
            for (int i = 0; i < n && hit < 0; i++) {
                len = strlen(names[i]);
                if (!strncmp(t + 1, names[i], len) && t[1 + len] == '}')
                    hit = i;
            }
        if (hit >= 0) {
            bad |= tkd_buf_puts(&b, values[hit] ? values[hit] : "");
            t += len + 2;
        } else {
            size_t run = strcspn(t + 1, "{") + 1;
            bad |= tkd_buf_append(&b, t, run);
            t += run;
        }
    }
    if (bad || (!b.data && tkd_buf_puts(&b, ""))) {
        tkd_buf_free(&b);
        return NULL;
    }
    return tkd_buf_steal(&b);
}

char *tkd_agent_dump(const json_t *j, const char *who, tkd_err *e) {
    char *t = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (!t)
        tkd_err_set(e, TKD_ENOMEM, "%s: out of memory writing its result", who);
    return t;
}

void tkd_agent_record(tkd_record *rec, uint64_t pid, int sample, tkd_phase phase, tkd_status status,
                      const tkd_agent_tokens *t, double latency_s) {
    memset(rec, 0, sizeof *rec);
    rec->pid = pid;
    rec->sample = (uint32_t)sample;
    rec->phase = (uint8_t)phase;
    rec->status = (uint8_t)status;
    rec->prompt_tokens = (uint64_t)t->prompt;
    rec->completion_tokens = (uint64_t)t->completion;
    rec->latency_s = latency_s;
    rec->finished_at = tkd_wall_time();
}
