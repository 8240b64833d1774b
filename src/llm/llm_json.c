/*
 * llm_json: the wire format of the teacher client. Builds the request body of
 * POST /chat/completions and reads a reply: content, reasoning_content,
 * finish_reason, usage, and tool calls, both native (message.tool_calls) and
 * Qwen/Hermes <tool_call>{...}</tool_call> blocks in the content for servers
 * without a tool parser. Pure functions, tested without a network.
 */
#include "tkd/llm.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *tkd_llm_status_name(tkd_llm_status s) {
    static const char *n[] = {"ok",        "http_error",        "context_length", "network",    "timeout",
                              "malformed", "retries_exhausted", "cache_miss",     "unavailable"};
    return (unsigned)s <= TKD_LLM_UNAVAILABLE ? n[s] : "unknown";
}

void tkd_llm_request_init(tkd_llm_request *r) {
    memset(r, 0, sizeof *r);
    r->temperature = -1;
    r->top_p = -1;
    r->max_tokens = -1;
}

static void tool_call_clear(tkd_llm_tool_call *t) {
    free(t->id);
    free(t->name);
    free(t->arguments);
    free(t->error);
}

void tkd_llm_response_free(tkd_llm_response *r) {
    if (!r)
        return;
    free(r->error);
    free(r->last_error);
    free(r->content);
    free(r->reasoning_content);
    for (int i = 0; i < r->n_tool_calls; i++)
        tool_call_clear(&r->tool_calls[i]);
    free(r->tool_calls);
    free(r->finish_reason);
    free(r->raw);
    free(r);
}

/* json_object_set_new that reports failure (a NULL value is an allocation failure). */
static int set_new(json_t *o, const char *k, json_t *v) {
    return v ? json_object_set_new(o, k, v) : -1;
}

char *tkd_llm_build_body(const tkd_llm_config *cfg, const tkd_llm_request *req, tkd_err *e) {
    if (!req->messages || !json_is_array(req->messages) || json_array_size(req->messages) == 0) {
        tkd_err_set(e, TKD_EINVAL, "llm request: messages must be a non-empty JSON array");
        return NULL;
    }
    if (req->tools && !json_is_array(req->tools)) {
        tkd_err_set(e, TKD_EINVAL, "llm request: tools must be a JSON array");
        return NULL;
    }
    const char *model = req->model && req->model[0] ? req->model : cfg->model;
    if (!model || !model[0]) {
        tkd_err_set(e, TKD_EINVAL, "llm request: no model (set teacher.model in the job file)");
        return NULL;
    }
    json_t *o = json_object();
    int bad = !o;
    bad = bad || set_new(o, "model", json_string(model));
    bad = bad || json_object_set(o, "messages", req->messages);
    if (req->tools && json_array_size(req->tools) > 0) {
        bad = bad || json_object_set(o, "tools", req->tools);
        if (req->tool_choice)
            bad = bad || json_object_set(o, "tool_choice", req->tool_choice);
    }
    if (req->stop)
        bad = bad || json_object_set(o, "stop", req->stop);
    bad = bad || set_new(o, "temperature", json_real(req->temperature >= 0 ? req->temperature : cfg->temperature));
    bad = bad || set_new(o, "top_p", json_real(req->top_p > 0 ? req->top_p : cfg->top_p));
    bad = bad || set_new(o, "max_tokens", json_integer(req->max_tokens > 0 ? req->max_tokens : cfg->max_tokens));
    if (req->has_seed)
        bad = bad || set_new(o, "seed", json_integer(req->seed));
    bad = bad || set_new(o, "stream", json_false());
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!s)
        tkd_err_set(e, TKD_ENOMEM, "llm request: out of memory building the body");
    return s;
}

void tkd_llm_cache_key(const char *body, size_t len, int sample, char out[65]) {
    /* The body holds model, messages, tools, tool_choice, stop, sampling
     * parameters and seed (sorted keys, compact); never the API key, which
     * travels only in a header. The sample index separates repeated samples. */
    char head[64];
    int n = snprintf(head, sizeof head, "tkd-llm-cache-v1\nsample=%d\n", sample);
    tkd_sha256 h;
    uint8_t d[32];
    tkd_sha256_init(&h);
    tkd_sha256_update(&h, head, (size_t)n);
    tkd_sha256_update(&h, body, len);
    tkd_sha256_final(&h, d);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static int push_call(tkd_llm_tool_call **calls, int *n, int *cap, tkd_llm_tool_call t) {
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 4;
        tkd_llm_tool_call *p = realloc(*calls, sizeof *p * (size_t)nc);
        if (!p)
            return -1;
        *calls = p;
        *cap = nc;
    }
    (*calls)[(*n)++] = t;
    return 0;
}

/* One <tool_call> block's JSON: {"name": "...", "arguments": {...}} (arguments
 * may also be a JSON string, as some templates write it). */
static tkd_llm_tool_call hermes_one(const char *p, size_t len, int index) {
    tkd_llm_tool_call t = {0};
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "call_%d", index);
    t.id = strdup(idbuf);
    t.from_text = 1;
    /* models sometimes wrap the JSON in a Markdown fence: ```json ... ``` */
    while (len && strchr(" \t\r\n", *p) && *p)
        p++, len--;
    while (len && strchr(" \t\r\n", p[len - 1]) && p[len - 1])
        len--;
    if (len >= 6 && !strncmp(p, "```", 3) && !strncmp(p + len - 3, "```", 3)) {
        const char *nl = memchr(p, '\n', len - 3);
        if (nl) {
            len -= (size_t)(nl + 1 - p) + 3;
            p = nl + 1;
        }
    }
    json_error_t je;
    json_t *j = json_loadb(p, len, JSON_DECODE_ANY, &je);
    const char *name = NULL;
    json_t *args = NULL;
    char why[256] = "";
    if (!j) {
        snprintf(why, sizeof why, "the <tool_call> block is not valid JSON: %s", je.text);
    } else if (!json_is_object(j) || !json_is_string(json_object_get(j, "name"))) {
        snprintf(why, sizeof why, "the <tool_call> block needs {\"name\": string, \"arguments\": object}");
    } else {
        name = json_string_value(json_object_get(j, "name"));
        args = json_object_get(j, "arguments");
        if (!args)
            args = json_object_get(j, "parameters");
    }
    t.name = strdup(name ? name : "");
    if (why[0]) {
        t.arguments = strdup("{}");
        t.error = strdup(why);
    } else if (!args) {
        t.arguments = strdup("{}");
    } else if (json_is_string(args)) {
        t.arguments = strdup(json_string_value(args));
    } else if (json_is_object(args)) {
        t.arguments = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    } else {
        t.arguments = strdup("{}");
        t.error = strdup("the <tool_call> arguments must be a JSON object");
    }
    json_decref(j);
    return t;
}

int tkd_llm_parse_hermes(const char *text, tkd_llm_tool_call **calls, int *n, tkd_err *e) {
    static const char open[] = "<tool_call>", close[] = "</tool_call>";
    int cap = *n;
    const char *p = text ? strstr(text, open) : NULL;
    while (p) {
        const char *b = p + sizeof open - 1;
        const char *end = strstr(b, close);
        /* An unclosed last block happens when "</tool_call>" is a stop string. */
        size_t len = end ? (size_t)(end - b) : strlen(b);
        tkd_llm_tool_call t = hermes_one(b, len, *n);
        if (!t.id || !t.name || !t.arguments || push_call(calls, n, &cap, t)) {
            tool_call_clear(&t);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory reading tool calls");
        }
        p = end ? strstr(end + sizeof close - 1, open) : NULL;
    }
    return 0;
}

static int parse_native(json_t *arr, tkd_llm_tool_call **calls, int *n, tkd_err *e) {
    int cap = *n;
    size_t i;
    json_t *tc;
    json_array_foreach(arr, i, tc) {
        tkd_llm_tool_call t = {0};
        json_t *fn = json_object_get(tc, "function");
        const char *id = json_string_value(json_object_get(tc, "id"));
        const char *name = json_string_value(json_object_get(fn, "name"));
        json_t *args = json_object_get(fn, "arguments");
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "call_%d", *n);
        t.id = strdup(id ? id : idbuf);
        t.name = strdup(name ? name : "");
        if (json_is_string(args))
            t.arguments = strdup(json_string_value(args));
        else if (json_is_object(args))
            t.arguments = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        else
            t.arguments = strdup("{}");
        if (!name)
            t.error = strdup("the tool call has no function name");
        if (!t.id || !t.name || !t.arguments || (!name && !t.error) || push_call(calls, n, &cap, t)) {
            tool_call_clear(&t);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory reading tool calls");
        }
    }
    return 0;
}

int tkd_llm_parse_response(const char *body, size_t len, tkd_llm_tool_format fmt, tkd_llm_response *r, tkd_err *e) {
    if (!body || len == 0)
        return tkd_err_set(e, TKD_EFORMAT, "empty reply");
    if (tkd_llm_fast_parse(body, len, r))
        return fmt != TKD_LLM_TOOLS_NATIVE ? tkd_llm_parse_hermes(r->content, &r->tool_calls, &r->n_tool_calls, e) : 0;
    return tkd_llm_parse_response_jansson(body, len, fmt, r, e);
}

int tkd_llm_parse_response_jansson(const char *body, size_t len, tkd_llm_tool_format fmt, tkd_llm_response *r,
                                   tkd_err *e) {
    if (!body || len == 0)
        return tkd_err_set(e, TKD_EFORMAT, "empty reply");
    json_error_t je;
    json_t *j = json_loadb(body, len, 0, &je);
    if (!j)
        return tkd_err_set(e, TKD_EFORMAT, "reply is not JSON (line %d col %d: %s)", je.line, je.column, je.text);
    int rc = 0;
    json_t *ch = json_object_get(j, "choices");
    json_t *c0 = json_array_get(ch, 0);
    json_t *msg = json_object_get(c0, "message");
    if (!json_is_object(msg)) {
        rc = tkd_err_set(e, TKD_EFORMAT, "reply has no choices[0].message");
        goto out;
    }
    json_t *content = json_object_get(msg, "content");
    if (content && !json_is_string(content) && !json_is_null(content)) {
        rc = tkd_err_set(e, TKD_EFORMAT, "reply's message.content is neither a string nor null");
        goto out;
    }
    json_t *native = json_object_get(msg, "tool_calls");
    if (native && !json_is_array(native) && !json_is_null(native)) {
        rc = tkd_err_set(e, TKD_EFORMAT, "reply's message.tool_calls is not an array");
        goto out;
    }
    r->content = strdup(json_is_string(content) ? json_string_value(content) : "");
    const char *rs = json_string_value(json_object_get(msg, "reasoning_content"));
    if (!rs)
        rs = json_string_value(json_object_get(msg, "reasoning"));
    r->reasoning_content = dup_or_null(rs);
    r->finish_reason = dup_or_null(json_string_value(json_object_get(c0, "finish_reason")));
    if (!r->content || (rs && !r->reasoning_content)) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory reading a reply");
        goto out;
    }
    json_t *u = json_object_get(j, "usage");
    r->prompt_tokens = (long)json_integer_value(json_object_get(u, "prompt_tokens"));
    r->completion_tokens = (long)json_integer_value(json_object_get(u, "completion_tokens"));
    r->total_tokens = (long)json_integer_value(json_object_get(u, "total_tokens"));
    if (!r->total_tokens) /* a reply's absurd counts wrap instead of overflowing a signed long */
        r->total_tokens = (long)((unsigned long)r->prompt_tokens + (unsigned long)r->completion_tokens);
    int has_native = json_is_array(native) && json_array_size(native) > 0;
    if (fmt != TKD_LLM_TOOLS_HERMES && has_native)
        rc = parse_native(native, &r->tool_calls, &r->n_tool_calls, e);
    else if (fmt != TKD_LLM_TOOLS_NATIVE)
        rc = tkd_llm_parse_hermes(r->content, &r->tool_calls, &r->n_tool_calls, e);
out:
    json_decref(j);
    return rc;
}

int tkd_llm_is_context_length(const char *body) {
    static const char *const marks[] = {"context_length_exceeded", "context length",   "context_length",
                                        "maximum context",         "too many tokens",  "prompt is too long",
                                        "longer than the model",   "input is too long"};
    if (!body)
        return 0;
    /* case-insensitive search without copying */
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        size_t ml = strlen(marks[m]);
        for (const char *p = body; *p; p++)
            if (strncasecmp(p, marks[m], ml) == 0)
                return 1;
    }
    return 0;
}

int tkd_llm_http_retryable(long code) {
    return code == 408 || code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
}

json_t *tkd_llm_assistant_message(const tkd_llm_response *r) {
    json_t *m = json_pack("{s:s, s:s}", "role", "assistant", "content", r->content ? r->content : "");
    int native = 0;
    for (int i = 0; i < r->n_tool_calls; i++)
        native |= !r->tool_calls[i].from_text;
    if (!m || !native)
        return m;
    json_t *arr = json_array();
    if (!arr || json_object_set_new(m, "tool_calls", arr)) {
        json_decref(m);
        return NULL;
    }
    for (int i = 0; i < r->n_tool_calls; i++) {
        const tkd_llm_tool_call *t = &r->tool_calls[i];
        if (t->from_text)
            continue;
        if (json_array_append_new(arr, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", t->id, "type", "function",
                                                 "function", "name", t->name, "arguments", t->arguments))) {
            json_decref(m);
            return NULL;
        }
    }
    return m;
}

json_t *tkd_llm_tool_message(const char *tool_call_id, const char *name, const char *content) {
    return json_pack("{s:s, s:s, s:s, s:s}", "role", "tool", "tool_call_id", tool_call_id ? tool_call_id : "", "name",
                     name ? name : "", "content", content ? content : "");
}
