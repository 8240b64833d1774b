/*
 * Unit tests of the solver agent's state machine (src/agents/solver.c), fed
 * canned chat completions (parsed by the llm module's own parser, as the
 * phase gets them) and canned tool answers: no network, no processes.
 */
#include "tkd/agents.h"
#include "tkd/tools.h"
#include "tkd_test.h"

#include <jansson.h>

static json_t *g_tools;

/* A chat completion with content, optional native tool calls (a JSON array
 * text of {name, arguments-object}) and a finish reason. */
static tkd_llm_response *reply(const char *content, const char *calls, const char *finish) {
    json_t *msg = json_pack("{s:s, s:s}", "role", "assistant", "content", content ? content : "");
    if (calls) {
        json_t *in = json_loads(calls, 0, NULL), *arr = json_array(), *c;
        size_t i;
        json_array_foreach(in, i, c) {
            char id[32];
            snprintf(id, sizeof id, "call_%zu", i);
            char *args = json_dumps(json_object_get(c, "arguments"), JSON_COMPACT);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:{s:O, s:s}}", "id", id, "type", "function", "function",
                                                 "name", json_object_get(c, "name"), "arguments", args));
            free(args);
        }
        json_decref(in);
        json_object_set_new(msg, "tool_calls", arr);
    }
    json_t *body = json_pack("{s:s, s:s, s:[{s:i, s:o, s:s}], s:{s:i, s:i, s:i}}", "id", "x", "object",
                             "chat.completion", "choices", "index", 0, "message", msg, "finish_reason",
                             finish ? finish : (calls ? "tool_calls" : "stop"), "usage", "prompt_tokens", 100,
                             "completion_tokens", 10, "total_tokens", 110);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    tkd_llm_response *r = calloc(1, sizeof *r);
    tkd_err e = {0};
    int rc = tkd_llm_parse_response(text, strlen(text), TKD_LLM_TOOLS_NATIVE, r, &e);
    if (rc)
        fprintf(stderr, "canned reply did not parse: %s\n", e.msg);
    free(text);
    r->latency_s = 0.25;
    r->attempts = 1;
    r->http_code = 200;
    return r;
}

static tkd_llm_response *failed(tkd_llm_status st, int code, const char *why) {
    tkd_llm_response *r = calloc(1, sizeof *r);
    r->status = st;
    r->http_code = code;
    r->error = strdup(why);
    r->content = strdup("");
    r->endpoint = 0;
    return r;
}

/* Feed r (and free it). */
static int feed(tkd_solver *s, tkd_llm_response *r) {
    tkd_err e = {0};
    int a = tkd_solver_on_llm(s, r, &e);
    tkd_llm_response_free(r);
    return a;
}

static const char *const endpoints[] = {"http://teacher.example/v1"};

static void cfg_init(tkd_solver_cfg *c) {
    tkd_solver_cfg_default(c);
    c->tools = g_tools;
    c->model = "test-model";
    c->endpoints = endpoints;
    c->n_endpoints = 1;
}

static tkd_solver *mk(const tkd_solver_cfg *c, const char *gold) {
    tkd_solver *s = NULL;
    tkd_err e = {0};
    tkd_solver_new(c, "t/1", 77, "What is 40 + 2?", gold, 0, 1234, &s, &e);
    return s;
}

static const char *last_role(tkd_solver *s, int back) {
    tkd_llm_request q;
    tkd_solver_request(s, &q);
    size_t n = json_array_size(q.messages);
    return json_string_value(json_object_get(json_array_get(q.messages, n - 1 - (size_t)back), "role"));
}
static const char *last_content(tkd_solver *s, int back) {
    tkd_llm_request q;
    tkd_solver_request(s, &q);
    size_t n = json_array_size(q.messages);
    return json_string_value(json_object_get(json_array_get(q.messages, n - 1 - (size_t)back), "content"));
}

static json_t *result(tkd_solver *s) {
    tkd_err e = {0};
    char *t = tkd_solver_result_json(s, &e);
    json_t *j = t ? json_loads(t, 0, NULL) : NULL;
    free(t);
    return j;
}

static const char *ADD = "[{\"name\": \"simplify_expression\", \"arguments\": {\"expression\": \"40 + 2\"}}]";
static const char *TWO = "[{\"name\": \"simplify_expression\", \"arguments\": {\"expression\": \"40 + 2\"}},"
                         " {\"name\": \"gcd\", \"arguments\": {\"numbers\": [40, 2]}}]";
static const char *BAD = "[{\"name\": \"gcd\", \"arguments\": {\"numbers\": \"x\"}}]";
static const char *ERR = "{\"status\":\"error\",\"message\":\"argument 'numbers' must be a JSON list\"}";

TEST(planning_then_tools_then_answer) {
    tkd_solver_cfg c;
    cfg_init(&c);
    c.planning = 1;
    tkd_solver *s = mk(&c, "42");
    tkd_err e = {0};
    CHECK_INT(tkd_solver_start(s, &e), TKD_SOLVER_ACT_LLM);
    tkd_llm_request q;
    tkd_solver_request(s, &q);
    CHECK(q.tools == NULL); /* tools disabled while planning */
    CHECK(q.has_seed && q.seed == 1234 && q.sample == 0);
    CHECK_STR(q.tag, "t/1");
    CHECK(strstr(last_content(s, 0), "What is 40 + 2?") && strstr(last_content(s, 0), c.planning_prompt));
    CHECK_INT(feed(s, reply("Plan: add.", NULL, NULL)), TKD_SOLVER_ACT_LLM);
    tkd_solver_request(s, &q);
    CHECK(q.tools == g_tools);
    CHECK_STR(last_role(s, 0), "user");
    CHECK_STR(last_content(s, 0), c.execute_prompt);
    /* two calls in one turn: both run, results come back in any order */
    CHECK_INT(feed(s, reply("Computing.", TWO, NULL)), TKD_SOLVER_ACT_TOOLS);
    CHECK_INT(tkd_solver_n_calls(s), 2);
    const char *name, *args;
    int slot0, slot1;
    tkd_solver_call(s, 0, &name, &args, &slot0);
    CHECK_STR(name, "simplify_expression");
    CHECK(strstr(args, "40 + 2") != NULL);
    tkd_solver_call(s, 1, &name, &args, &slot1);
    CHECK_STR(name, "gcd");
    CHECK_INT(tkd_solver_on_tool(s, slot1, "{\"result\":\"2\"}", 0.5, 0, &e), TKD_SOLVER_ACT_WAIT);
    CHECK_INT(tkd_solver_on_tool(s, slot0, "{\"result\":\"42\"}", 0.125, 0, &e), TKD_SOLVER_ACT_LLM);
    /* tool messages in call order, answering the call ids */
    CHECK_STR(last_role(s, 0), "tool");
    CHECK_STR(last_content(s, 1), "{\"result\":\"42\"}");
    CHECK_STR(last_content(s, 0), "{\"result\":\"2\"}");
    CHECK_STR(last_role(s, 2), "assistant");
    CHECK_INT(feed(s, reply("So \\boxed{42}.", NULL, NULL)), TKD_SOLVER_ACT_DONE);
    CHECK_INT(tkd_solver_status(s), TKD_ST_CORRECT);
    CHECK_STR(tkd_solver_answer(s), "42");
    tkd_record rec;
    tkd_solver_record(s, &rec);
    CHECK_INT(rec.turns, 3);
    CHECK_INT(rec.tool_calls, 2);
    CHECK_INT(rec.prompt_tokens, 300);
    CHECK_INT(rec.completion_tokens, 30);
    CHECK_INT(rec.phase, TKD_PHASE_SOLVE);
    CHECK(rec.flags & TKD_F_CORRECT);
    CHECK_NEAR(rec.latency_s, 3 * 0.25 + 0.5, 1e-12); /* requests + the slowest call of the turn */
    json_t *j = result(s);
    CHECK_STR(json_string_value(json_object_get(j, "status")), "correct");
    CHECK_STR(json_string_value(json_object_get(j, "gold")), "42");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "teacher"), "endpoint")), endpoints[0]);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "teacher"), "model")), "test-model");
    CHECK_INT(json_array_size(json_object_get(j, "requests")), 3);
    CHECK_INT(json_array_size(json_object_get(j, "messages")), 8); /* sys user plan exec asst tool tool final */
    json_t *c0 = json_array_get(json_object_get(j, "calls"), 1);
    CHECK_STR(json_string_value(json_object_get(c0, "name")), "gcd");
    CHECK_NEAR(json_number_value(json_object_get(c0, "seconds")), 0.5, 1e-12);
    CHECK_STR(json_string_value(json_object_get(c0, "status")), "ok");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "requests"), 0), "kind")),
              "planning");
    json_decref(j);
    tkd_solver_free(s);
}

TEST(no_planning_wrong_and_no_gold) {
    tkd_solver_cfg c;
    cfg_init(&c);
    tkd_solver *s = mk(&c, "42");
    tkd_err e = {0};
    CHECK_INT(tkd_solver_start(s, &e), TKD_SOLVER_ACT_LLM);
    tkd_llm_request q;
    tkd_solver_request(s, &q);
    CHECK(q.tools == g_tools);
    CHECK_INT(json_array_size(q.messages), 2);
    CHECK_STR(last_content(s, 0), "Problem: What is 40 + 2?");
    CHECK_INT(feed(s, reply("\\boxed{41}", NULL, NULL)), TKD_SOLVER_ACT_DONE);
    CHECK_INT(tkd_solver_status(s), TKD_ST_WRONG);
    tkd_solver_free(s);
    s = mk(&c, NULL);
    tkd_solver_start(s, &e);
    CHECK_INT(feed(s, reply("\\boxed{41}", NULL, NULL)), TKD_SOLVER_ACT_DONE);
    CHECK_INT(tkd_solver_status(s), TKD_ST_DONE);
    tkd_solver_free(s);
}

TEST(repeated_failing_call_is_not_run) {
    tkd_solver_cfg c;
    cfg_init(&c);
    tkd_solver *s = mk(&c, "42");
    tkd_err e = {0};
    tkd_solver_start(s, &e);
    CHECK_INT(feed(s, reply("", BAD, NULL)), TKD_SOLVER_ACT_TOOLS);
    const char *name, *args;
    int slot;
    tkd_solver_call(s, 0, &name, &args, &slot);
    CHECK_INT(tkd_solver_on_tool(s, slot, ERR, 0.01, 0, &e), TKD_SOLVER_ACT_LLM);
    /* the same call again, arguments spelled differently: answered at once */
    CHECK_INT(feed(s, reply("", "[{\"name\": \"gcd\", \"arguments\": {\"numbers\" : \"x\"}}]", NULL)),
              TKD_SOLVER_ACT_LLM);
    CHECK_STR(last_role(s, 0), "tool");
    CHECK(strstr(last_content(s, 0), "already failed") && strstr(last_content(s, 0), "must be a JSON list"));
    /* a corrected call runs */
    CHECK_INT(feed(s, reply("", "[{\"name\": \"gcd\", \"arguments\": {\"numbers\": [4, 6]}}]", NULL)),
              TKD_SOLVER_ACT_TOOLS);
    json_t *j = result(s);
    CHECK_INT(json_integer_value(json_object_get(j, "repeated_failed_calls")), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "calls"), 1), "status")), "repeated");
    json_decref(j);
    tkd_solver_free(s);
}

TEST(tool_errors_in_a_row) {
    tkd_solver_cfg c;
    cfg_init(&c);
    c.max_tool_errors = 3;
    tkd_solver *s = mk(&c, "42");
    tkd_err e = {0};
    tkd_solver_start(s, &e);
    const char *name, *args;
    int slot;
    CHECK_INT(feed(s, reply("", BAD, NULL)), TKD_SOLVER_ACT_TOOLS);
    tkd_solver_call(s, 0, &name, &args, &slot);
    CHECK_INT(tkd_solver_on_tool(s, slot, ERR, 0.01, 0, &e), TKD_SOLVER_ACT_LLM);
    /* a timeout in the pool is a failure too */
    CHECK_INT(feed(s, reply("", ADD, NULL)), TKD_SOLVER_ACT_TOOLS);
    tkd_solver_call(s, 0, &name, &args, &slot);
    CHECK_INT(tkd_solver_on_tool(s, slot, "{\"status\":\"error\",\"message\":\"timed out\"}", 10, TKD_ETIMEOUT, &e),
              TKD_SOLVER_ACT_LLM);
    CHECK_INT(feed(s, reply("", BAD, NULL)), TKD_SOLVER_ACT_DONE); /* repeated: the third failure */
    CHECK_INT(tkd_solver_status(s), TKD_ST_TOOL_ERRORS);
    json_t *j = result(s);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "calls"), 1), "status")), "timeout");
    json_decref(j);
    tkd_solver_free(s);
}

TEST(next_action_wrap_up_no_answer) {
    tkd_solver_cfg c;
    cfg_init(&c);
    c.max_turns = 4;
    c.wrap_up_before = 1;
    tkd_solver *s = mk(&c, "42");
    tkd_err e = {0};
    tkd_solver_start(s, &e);
    CHECK_INT(feed(s, reply("Hmm.", NULL, NULL)), TKD_SOLVER_ACT_LLM);
    CHECK_STR(last_content(s, 0), c.next_action_prompt);
    CHECK_INT(feed(s, reply("Hmm.", NULL, NULL)), TKD_SOLVER_ACT_LLM);
    CHECK_STR(last_content(s, 0), c.next_action_prompt);
    CHECK_INT(feed(s, reply("Hmm.", NULL, NULL)), TKD_SOLVER_ACT_LLM);
    CHECK_STR(last_content(s, 0), c.wrap_up_prompt); /* one turn left */
    CHECK_INT(feed(s, reply("Still unsure.", NULL, NULL)), TKD_SOLVER_ACT_DONE);
    CHECK_INT(tkd_solver_status(s), TKD_ST_NO_ANSWER);
    CHECK_INT(tkd_solver_turns(s), 4);
    tkd_solver_free(s);
    /* the wrap-up also follows tool results; answering it ends the sample */
    s = mk(&c, "42");
    tkd_solver_start(s, &e);
    for (int t = 0; t < 2; t++) {
        CHECK_INT(feed(s, reply("", ADD, NULL)), TKD_SOLVER_ACT_TOOLS);
        const char *name, *args;
        int slot;
        tkd_solver_call(s, 0, &name, &args, &slot);
        CHECK_INT(tkd_solver_on_tool(s, slot, "{\"result\":\"42\"}", 0.01, 0, &e), TKD_SOLVER_ACT_LLM);
    }
    CHECK_STR(last_role(s, 0), "tool");
    CHECK_INT(feed(s, reply("", ADD, NULL)), TKD_SOLVER_ACT_TOOLS);
    const char *name, *args;
    int slot;
    tkd_solver_call(s, 0, &name, &args, &slot);
    CHECK_INT(tkd_solver_on_tool(s, slot, "{\"result\":\"42\"}", 0.01, 0, &e), TKD_SOLVER_ACT_LLM);
    CHECK_STR(last_content(s, 0), c.wrap_up_prompt);
    CHECK_INT(feed(s, reply("\\boxed{42}", NULL, NULL)), TKD_SOLVER_ACT_DONE);
    CHECK_INT(tkd_solver_status(s), TKD_ST_CORRECT);
    tkd_solver_free(s);
}

TEST(turn_limit) {
    tkd_solver_cfg c;
    cfg_init(&c);
    c.max_turns = 3;
    c.wrap_up_before = 0;
    tkd_solver *s = mk(&c, "42");
    tkd_err e = {0};
    tkd_solver_start(s, &e);
    for (int t = 0; t < 2; t++) {
        CHECK_INT(feed(s, reply("", ADD, NULL)), TKD_SOLVER_ACT_TOOLS);
        const char *name, *args;
        int slot;
        tkd_solver_call(s, 0, &name, &args, &slot);
        CHECK_INT(tkd_solver_on_tool(s, slot, "{\"result\":\"42\"}", 0.01, 0, &e), TKD_SOLVER_ACT_LLM);
    }
    CHECK_INT(feed(s, reply("", ADD, NULL)), TKD_SOLVER_ACT_DONE); /* calls at the last turn are not run */
    CHECK_INT(tkd_solver_status(s), TKD_ST_TURN_LIMIT);
    CHECK_INT(tkd_solver_turns(s), 3);
    tkd_solver_free(s);
}

TEST(length_and_api_errors) {
    tkd_solver_cfg c;
    cfg_init(&c);
    tkd_err e = {0};
    tkd_solver *s = mk(&c, "42");
    tkd_solver_start(s, &e);
    CHECK_INT(feed(s, reply("The answer is \\boxed{4", NULL, "length")), TKD_SOLVER_ACT_DONE);
    CHECK_INT(tkd_solver_status(s), TKD_ST_LENGTH);
    tkd_solver_free(s);
    s = mk(&c, "42");
    tkd_solver_start(s, &e);
    CHECK_INT(feed(s, failed(TKD_LLM_CONTEXT_LENGTH, 400, "context length exceeded")), TKD_SOLVER_ACT_DONE);
    CHECK_INT(tkd_solver_status(s), TKD_ST_LENGTH);
    tkd_solver_free(s);
    s = mk(&c, "42");
    tkd_solver_start(s, &e);
    CHECK_INT(feed(s, reply("Plan", NULL, NULL)), TKD_SOLVER_ACT_LLM);
    CHECK_INT(feed(s, failed(TKD_LLM_HTTP_ERROR, 404, "HTTP 404: model not found")), TKD_SOLVER_ACT_DONE);
    CHECK_INT(tkd_solver_status(s), TKD_ST_API_ERROR);
    json_t *j = result(s);
    CHECK_STR(json_string_value(json_object_get(j, "error")), "HTTP 404: model not found");
    json_t *r1 = json_array_get(json_object_get(j, "requests"), 1);
    CHECK_INT(json_integer_value(json_object_get(r1, "http_code")), 404);
    CHECK_STR(json_string_value(json_object_get(r1, "status")), "http_error");
    json_decref(j);
    tkd_solver_free(s);
    /* the teacher rejects the request itself: final (failed); it cannot answer: transient (api_error) */
    static const struct {
        tkd_llm_status st;
        int code;
        tkd_status want;
    } cases[] = {{TKD_LLM_HTTP_ERROR, 400, TKD_ST_FAILED},    {TKD_LLM_HTTP_ERROR, 422, TKD_ST_FAILED},
                 {TKD_LLM_HTTP_ERROR, 413, TKD_ST_FAILED},    {TKD_LLM_HTTP_ERROR, 0, TKD_ST_FAILED},
                 {TKD_LLM_HTTP_ERROR, 401, TKD_ST_API_ERROR}, {TKD_LLM_RETRIES_EXHAUSTED, 503, TKD_ST_API_ERROR},
                 {TKD_LLM_NETWORK, 0, TKD_ST_API_ERROR},      {TKD_LLM_TIMEOUT, 0, TKD_ST_API_ERROR},
                 {TKD_LLM_UNAVAILABLE, 0, TKD_ST_API_ERROR},  {TKD_LLM_CACHE_MISS, 0, TKD_ST_API_ERROR}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s = mk(&c, "42");
        tkd_solver_start(s, &e);
        CHECK_INT(feed(s, failed(cases[i].st, cases[i].code, "x")), TKD_SOLVER_ACT_DONE);
        CHECK_INT(tkd_solver_status(s), cases[i].want);
        CHECK_INT(tkd_status_is_final(tkd_solver_status(s)), cases[i].want != TKD_ST_API_ERROR);
        tkd_solver_free(s);
    }
}

TEST(single_step_and_rejected_calls) {
    tkd_solver_cfg c;
    cfg_init(&c);
    c.single_step = 1;
    tkd_solver *s = mk(&c, "42");
    tkd_err e = {0};
    tkd_solver_start(s, &e);
    CHECK_INT(feed(s, reply("", TWO, NULL)), TKD_SOLVER_ACT_TOOLS);
    CHECK_INT(tkd_solver_n_calls(s), 1); /* only the first call of the turn runs */
    const char *name, *args;
    int slot;
    tkd_solver_call(s, 0, &name, &args, &slot);
    CHECK_INT(tkd_solver_on_tool(s, slot, "{\"result\":\"42\"}", 0.01, 0, &e), TKD_SOLVER_ACT_LLM);
    CHECK_STR(last_content(s, 0), c.next_action_prompt);
    CHECK(strstr(last_content(s, 1), "one tool call per turn") != NULL);
    tkd_solver_free(s);
    /* an unknown tool and a malformed call are answered without running */
    c.single_step = 0;
    s = mk(&c, "42");
    tkd_solver_start(s, &e);
    CHECK_INT(feed(s, reply("", "[{\"name\": \"rm_rf\", \"arguments\": {}}]", NULL)), TKD_SOLVER_ACT_LLM);
    CHECK(strstr(last_content(s, 0), "unknown tool 'rm_rf'") != NULL);
    tkd_solver_free(s);
}

TEST(too_many_calls_in_one_turn) {
    tkd_solver_cfg c;
    cfg_init(&c);
    tkd_solver *s = mk(&c, "42");
    tkd_err e = {0};
    tkd_solver_start(s, &e);
    tkd_buf b;
    tkd_buf_init(&b);
    tkd_buf_putc(&b, '[');
    for (int i = 0; i < 20; i++)
        tkd_buf_printf(&b, "%s{\"name\": \"gcd\", \"arguments\": {\"numbers\": [%d, 6]}}", i ? "," : "", i + 1);
    tkd_buf_putc(&b, ']');
    CHECK_INT(feed(s, reply("", b.data, NULL)), TKD_SOLVER_ACT_TOOLS);
    tkd_buf_free(&b);
    CHECK_INT(tkd_solver_n_calls(s), TKD_SOLVER_MAX_CALLS_PER_TURN);
    int a = TKD_SOLVER_ACT_WAIT;
    for (int i = 0; i < tkd_solver_n_calls(s) && a == TKD_SOLVER_ACT_WAIT;) {
        const char *name, *args;
        int slot;
        tkd_solver_call(s, i, &name, &args, &slot);
        a = tkd_solver_on_tool(s, slot, "{\"result\":\"1\"}", 0.001, 0, &e);
        if (a == TKD_SOLVER_ACT_WAIT)
            i++;
    }
    CHECK_INT(a, TKD_SOLVER_ACT_LLM);
    /* every call id of the reply is answered by a tool message, in order */
    tkd_llm_request q;
    tkd_solver_request(s, &q);
    size_t n = json_array_size(q.messages), tools = 0;
    for (size_t i = 0; i < n; i++)
        tools += !strcmp(json_string_value(json_object_get(json_array_get(q.messages, i), "role")), "tool");
    CHECK_INT(tools, 20);
    CHECK_STR(json_string_value(json_object_get(json_array_get(q.messages, n - 1), "tool_call_id")), "call_19");
    CHECK(strstr(last_content(s, 0), "too many tool calls") != NULL);
    tkd_solver_free(s);
}

TEST(seeds_and_request_bodies) {
    int64_t seen[200];
    for (int k = 0; k < 200; k++) {
        seen[k] = tkd_solver_seed(1234, 77, k);
        CHECK(seen[k] >= 0 && seen[k] <= 0x7fffffff);
        CHECK(seen[k] == tkd_solver_seed(1234, 77, k));
        int dup = 0;
        for (int j = 0; j < k; j++)
            dup |= seen[j] == seen[k];
        CHECK(!dup);
    }
    CHECK(tkd_solver_seed(1234, 78, 0) != seen[0] && tkd_solver_seed(1235, 77, 0) != seen[0]);
    /* the same sample builds the same body (a resumed problem hits the cache) */
    tkd_solver_cfg c;
    cfg_init(&c);
    tkd_llm_config lc;
    tkd_llm_config_defaults(&lc);
    lc.model = "m";
    tkd_solver *a = NULL, *b = NULL, *d = NULL;
    tkd_err e = {0};
    tkd_solver_new(&c, "t/1", 77, "p", "1", 3, tkd_solver_seed(1, 77, 3), &a, &e);
    tkd_solver_new(&c, "t/1", 77, "p", "1", 3, tkd_solver_seed(1, 77, 3), &b, &e);
    tkd_solver_new(&c, "t/1", 77, "p", "1", 4, tkd_solver_seed(1, 77, 4), &d, &e);
    tkd_solver_start(a, &e);
    tkd_solver_start(b, &e);
    tkd_solver_start(d, &e);
    tkd_llm_request qa, qb, qd;
    tkd_solver_request(a, &qa);
    tkd_solver_request(b, &qb);
    tkd_solver_request(d, &qd);
    char *ba = tkd_llm_build_body(&lc, &qa, &e), *bb = tkd_llm_build_body(&lc, &qb, &e),
         *bd = tkd_llm_build_body(&lc, &qd, &e);
    CHECK(ba && bb && bd && !strcmp(ba, bb) && strcmp(ba, bd));
    free(ba);
    free(bb);
    free(bd);
    tkd_solver_free(a);
    tkd_solver_free(b);
    tkd_solver_free(d);
}

/* The built-in prompts are the files in jobs/prompts/. */
TEST(builtin_prompts_are_the_files) {
    const char *src = getenv("TKD_SOURCE_DIR");
    if (!src) {
        printf("skip: TKD_SOURCE_DIR not set\n");
        return;
    }
    tkd_solver_cfg c;
    tkd_solver_cfg_default(&c);
    const char *names[] = {"system", "user", "planning", "execute", "next_action", "wrap_up"};
    const char *texts[] = {c.system_prompt,  c.user_template,      c.planning_prompt,
                           c.execute_prompt, c.next_action_prompt, c.wrap_up_prompt};
    for (int i = 0; i < 6; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/jobs/prompts/solver_%s.txt", src, names[i]);
        char *t = NULL;
        size_t n = 0;
        tkd_err e = {0};
        CHECK_INT(tkd_file_read(path, &t, &n, &e), 0);
        while (t && n && strchr(" \n\r\t", t[n - 1]))
            t[--n] = 0;
        CHECK_STR(t, texts[i]);
        free(t);
    }
}

int main(void) {
    tkd_err e = {0};
    const char *names[] = {"simplify_expression", "gcd", NULL};
    char *specs = tkd_tools_specs_json(names, &e);
    g_tools = specs ? json_loads(specs, 0, NULL) : NULL;
    free(specs);
    if (!g_tools) {
        fprintf(stderr, "no tool specs: %s\n", e.msg);
        return 1;
    }
    RUN(planning_then_tools_then_answer);
    RUN(no_planning_wrong_and_no_gold);
    RUN(repeated_failing_call_is_not_run);
    RUN(tool_errors_in_a_row);
    RUN(next_action_wrap_up_no_answer);
    RUN(turn_limit);
    RUN(length_and_api_errors);
    RUN(single_step_and_rejected_calls);
    RUN(too_many_calls_in_one_turn);
    RUN(seeds_and_request_bodies);
    RUN(builtin_prompts_are_the_files);
    json_decref(g_tools);
    return TEST_END();
}
