/*
 * Unit tests of the teacher client's wire format: request bodies, cache
 * keys, and reading replies (native tool_calls, <tool_call> blocks incl.
 * several, unclosed and malformed ones, reasoning_content, usage), and the
 * context-length and retryable-status rules.
 */
#include "tkd/llm.h"
#include "tkd_test.h"

static tkd_llm_config cfg(void) {
    tkd_llm_config c;
    tkd_llm_config_defaults(&c);
    c.model = "m1";
    c.temperature = 0.5;
    c.max_tokens = 100;
    return c;
}

static json_t *msgs(const char *user) {
    return json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", "sys", "role", "user", "content", user);
}

TEST(body) {
    tkd_llm_config c = cfg();
    tkd_llm_request r;
    tkd_llm_request_init(&r);
    r.messages = msgs("hi \"there\"");
    tkd_err e = {0};
    char *b = tkd_llm_build_body(&c, &r, &e);
    CHECK(b != NULL);
    json_t *j = json_loads(b, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(j, "model")), "m1");
    CHECK_NEAR(json_number_value(json_object_get(j, "temperature")), 0.5, 1e-12);
    CHECK_INT(json_integer_value(json_object_get(j, "max_tokens")), 100);
    CHECK(json_is_false(json_object_get(j, "stream")));
    CHECK(json_object_get(j, "seed") == NULL);
    CHECK(json_object_get(j, "tools") == NULL);
    CHECK(json_equal(json_object_get(j, "messages"), r.messages));
    json_decref(j);
    /* request values override the defaults; tools, tool_choice, stop, seed travel */
    r.temperature = 0;
    r.top_p = 0.9;
    r.max_tokens = 7;
    r.has_seed = 1;
    r.seed = 42;
    r.model = "m2";
    r.tools = json_pack("[{s:s, s:{s:s}}]", "type", "function", "function", "name", "simplify");
    r.tool_choice = json_string("auto");
    r.stop = json_pack("[s]", "</tool_call>");
    char *b2 = tkd_llm_build_body(&c, &r, &e);
    j = json_loads(b2, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(j, "model")), "m2");
    CHECK_NEAR(json_number_value(json_object_get(j, "temperature")), 0, 0);
    CHECK_NEAR(json_number_value(json_object_get(j, "top_p")), 0.9, 1e-12);
    CHECK_INT(json_integer_value(json_object_get(j, "max_tokens")), 7);
    CHECK_INT(json_integer_value(json_object_get(j, "seed")), 42);
    CHECK(json_equal(json_object_get(j, "tools"), r.tools));
    CHECK_STR(json_string_value(json_object_get(j, "tool_choice")), "auto");
    CHECK(json_equal(json_object_get(j, "stop"), r.stop));
    json_decref(j);
    /* keys are sorted: the same request always gives the same bytes */
    char *b3 = tkd_llm_build_body(&c, &r, &e);
    CHECK_STR(b2, b3);
    CHECK(strstr(b2, "\"max_tokens\"") < strstr(b2, "\"messages\""));
    free(b);
    free(b2);
    free(b3);
    json_decref(r.messages);
    json_decref(r.tools);
    json_decref(r.tool_choice);
    json_decref(r.stop);
    /* bad requests are errors, not crashes */
    tkd_llm_request_init(&r);
    CHECK(tkd_llm_build_body(&c, &r, &e) == NULL);
    CHECK_INT(e.code, TKD_EINVAL);
    r.messages = json_array();
    CHECK(tkd_llm_build_body(&c, &r, &e) == NULL);
    json_decref(r.messages);
    r.messages = msgs("x");
    c.model = "";
    CHECK(tkd_llm_build_body(&c, &r, &e) == NULL);
    CHECK(strstr(e.msg, "teacher.model") != NULL);
    json_decref(r.messages);
}

TEST(cache_key) {
    char k1[65], k2[65], k3[65];
    tkd_llm_cache_key("abc", 3, 0, k1);
    tkd_llm_cache_key("abc", 3, 1, k2);
    tkd_llm_cache_key("abd", 3, 0, k3);
    CHECK_INT(strlen(k1), 64);
    CHECK(strcmp(k1, k2) != 0);
    CHECK(strcmp(k1, k3) != 0);
    tkd_llm_cache_key("abc", 3, 0, k2);
    CHECK_STR(k1, k2);
    /* the key is the sha256 of a documented prefix and the body */
    char want[65];
    const char *s = "tkd-llm-cache-v1\nsample=0\nabc";
    tkd_sha256_hex(s, strlen(s), want);
    CHECK_STR(k1, want);
}

static tkd_llm_response *parse(const char *body, tkd_llm_tool_format f, int *rc) {
    tkd_llm_response *r = calloc(1, sizeof *r);
    tkd_err e = {0};
    *rc = tkd_llm_parse_response(body, strlen(body), f, r, &e);
    return r;
}

TEST(parse_plain) {
    int rc;
    tkd_llm_response *r = parse("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The "
                                "answer is \\\\boxed{4}\",\"reasoning_content\":\"2+2\"},\"finish_reason\":\"stop\"}],"
                                "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":5,\"total_tokens\":16}}",
                                TKD_LLM_TOOLS_AUTO, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(r->content, "The answer is \\boxed{4}");
    CHECK_STR(r->reasoning_content, "2+2");
    CHECK_STR(r->finish_reason, "stop");
    CHECK_INT(r->prompt_tokens, 11);
    CHECK_INT(r->completion_tokens, 5);
    CHECK_INT(r->total_tokens, 16);
    CHECK_INT(r->n_tool_calls, 0);
    tkd_llm_response_free(r);
    /* null content, no usage, vLLM's "reasoning" field */
    r = parse("{\"choices\":[{\"message\":{\"content\":null,\"reasoning\":\"r\"}}]}", TKD_LLM_TOOLS_AUTO, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(r->content, "");
    CHECK_STR(r->reasoning_content, "r");
    CHECK(r->finish_reason == NULL);
    CHECK_INT(r->total_tokens, 0);
    tkd_llm_response_free(r);
}

TEST(parse_malformed) {
    static const char *bad[] = {"",
                                "{",
                                "[]",
                                "{\"choices\":[]}",
                                "{\"choices\":[{\"message\":3}]}",
                                "{\"choices\":[{\"message\":{\"content\":5}}]}",
                                "{\"choices\":[{\"message\":{\"content\":\"x\",\"tool_calls\":{}}}]}",
                                "<html>502</html>",
                                "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"cut"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        tkd_llm_response *r = parse(bad[i], TKD_LLM_TOOLS_AUTO, &rc);
        CHECK_INT(rc, TKD_EFORMAT);
        tkd_llm_response_free(r);
    }
}

static const char *native_body =
    "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
    "\"function\":{\"name\":\"simplify\",\"arguments\":\"{\\\"expr\\\": \\\"x+x\\\"}\"}},{\"id\":\"c2\","
    "\"type\":\"function\",\"function\":{\"name\":\"solve\",\"arguments\":{\"eq\":\"x=1\"}}}]},"
    "\"finish_reason\":\"tool_calls\"}]}";

TEST(parse_native) {
    int rc;
    tkd_llm_response *r = parse(native_body, TKD_LLM_TOOLS_AUTO, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(r->n_tool_calls, 2);
    if (r->n_tool_calls == 2) {
        CHECK_STR(r->tool_calls[0].id, "c1");
        CHECK_STR(r->tool_calls[0].name, "simplify");
        CHECK_STR(r->tool_calls[0].arguments, "{\"expr\": \"x+x\"}");
        CHECK_INT(r->tool_calls[0].from_text, 0);
        CHECK_STR(r->tool_calls[1].arguments, "{\"eq\":\"x=1\"}");
        CHECK(r->tool_calls[1].error == NULL);
    }
    CHECK_STR(r->finish_reason, "tool_calls");
    tkd_llm_response_free(r);
    /* hermes-only mode ignores native calls */
    r = parse(native_body, TKD_LLM_TOOLS_HERMES, &rc);
    CHECK_INT(r->n_tool_calls, 0);
    tkd_llm_response_free(r);
}

TEST(parse_hermes) {
    const char *body =
        "{\"choices\":[{\"message\":{\"content\":\"Let me compute.\\n<tool_call>\\n{\\\"name\\\": \\\"simplify\\\", "
        "\\\"arguments\\\": {\\\"expr\\\": \\\"x+x\\\"}}\\n</tool_call>\\n<tool_call>{\\\"name\\\":\\\"solve\\\","
        "\\\"arguments\\\":\\\"{\\\\\\\"eq\\\\\\\":1}\\\"}</tool_call><tool_call>{oops}</tool_call>"
        "<tool_call>[1]</tool_call><tool_call>{\\\"name\\\":\\\"n\\\",\\\"arguments\\\":5}</tool_call>"
        "<tool_call>{\\\"name\\\":\\\"last\\\"}\"}}]}";
    int rc;
    tkd_llm_response *r = parse(body, TKD_LLM_TOOLS_AUTO, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(r->n_tool_calls, 6);
    if (r->n_tool_calls == 6) {
        CHECK_STR(r->tool_calls[0].name, "simplify");
        CHECK_STR(r->tool_calls[0].arguments, "{\"expr\":\"x+x\"}");
        CHECK_STR(r->tool_calls[0].id, "call_0");
        CHECK_INT(r->tool_calls[0].from_text, 1);
        CHECK(r->tool_calls[0].error == NULL);
        CHECK_STR(r->tool_calls[1].name, "solve");
        CHECK_STR(r->tool_calls[1].arguments, "{\"eq\":1}");
        CHECK(r->tool_calls[2].error && strstr(r->tool_calls[2].error, "not valid JSON"));
        CHECK_STR(r->tool_calls[2].name, "");
        CHECK(r->tool_calls[3].error != NULL);
        CHECK(r->tool_calls[4].error && strstr(r->tool_calls[4].error, "object"));
        CHECK_STR(r->tool_calls[5].name, "last"); /* unclosed: "</tool_call>" was a stop string */
        CHECK_STR(r->tool_calls[5].arguments, "{}");
    }
    CHECK(strstr(r->content, "Let me compute.") == r->content); /* content is kept verbatim */
    tkd_llm_response_free(r);
    /* native mode does not look into the text */
    r = parse(body, TKD_LLM_TOOLS_NATIVE, &rc);
    CHECK_INT(r->n_tool_calls, 0);
    tkd_llm_response_free(r);
    /* a Markdown fence inside the block */
    tkd_llm_tool_call *fc = NULL;
    int fn = 0;
    tkd_err fe = {0};
    CHECK_INT(
        tkd_llm_parse_hermes("<tool_call>\n```json\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n```\n</tool_call>",
                             &fc, &fn, &fe),
        0);
    CHECK_INT(fn, 1);
    if (fn == 1) {
        CHECK_STR(fc[0].name, "f");
        CHECK_STR(fc[0].arguments, "{\"a\":1}");
        CHECK(fc[0].error == NULL);
        free(fc[0].id);
        free(fc[0].name);
        free(fc[0].arguments);
    }
    free(fc);
    /* text without blocks */
    tkd_llm_tool_call *calls = NULL;
    int n = 0;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_parse_hermes("no calls <tool_cal", &calls, &n, &e), 0);
    CHECK_INT(n, 0);
    free(calls);
}

TEST(status_rules) {
    CHECK(tkd_llm_is_context_length("{\"error\":{\"code\":\"context_length_exceeded\"}}"));
    CHECK(tkd_llm_is_context_length("This model's Maximum Context length is 4096 tokens"));
    CHECK(!tkd_llm_is_context_length("{\"error\":{\"message\":\"invalid parameter\"}}"));
    CHECK(!tkd_llm_is_context_length(NULL));
    static const long yes[] = {408, 429, 500, 502, 503, 504};
    static const long no[] = {200, 400, 401, 403, 404, 422, 501};
    for (size_t i = 0; i < 6; i++)
        CHECK(tkd_llm_http_retryable(yes[i]));
    for (size_t i = 0; i < 7; i++)
        CHECK(!tkd_llm_http_retryable(no[i]));
    CHECK_STR(tkd_llm_status_name(TKD_LLM_CONTEXT_LENGTH), "context_length");
    CHECK_STR(tkd_llm_status_name(TKD_LLM_CACHE_MISS), "cache_miss");
}

TEST(next_turn) {
    int rc;
    tkd_llm_response *r = parse(native_body, TKD_LLM_TOOLS_AUTO, &rc);
    json_t *m = tkd_llm_assistant_message(r);
    json_t *want = json_loads("{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c1\",\"type\":"
                              "\"function\",\"function\":{\"name\":\"simplify\",\"arguments\":\"{\\\"expr\\\": "
                              "\\\"x+x\\\"}\"}},{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":"
                              "\"solve\",\"arguments\":\"{\\\"eq\\\":\\\"x=1\\\"}\"}}]}",
                              0, NULL);
    CHECK(want != NULL);
    CHECK(json_equal(m, want));
    json_decref(m);
    json_decref(want);
    tkd_llm_response_free(r);
    /* <tool_call> text stays in the content; no tool_calls key */
    r = parse("{\"choices\":[{\"message\":{\"content\":\"a<tool_call>{\\\"name\\\":\\\"f\\\"}</tool_call>\","
              "\"reasoning_content\":\"hidden\"}}]}",
              TKD_LLM_TOOLS_AUTO, &rc);
    CHECK_INT(r->n_tool_calls, 1);
    m = tkd_llm_assistant_message(r);
    CHECK_STR(json_string_value(json_object_get(m, "content")), "a<tool_call>{\"name\":\"f\"}</tool_call>");
    CHECK(json_object_get(m, "tool_calls") == NULL);
    CHECK(json_object_get(m, "reasoning_content") == NULL);
    json_decref(m);
    tkd_llm_response_free(r);
    m = tkd_llm_tool_message("c1", "simplify", "2*x");
    CHECK_STR(json_string_value(json_object_get(m, "role")), "tool");
    CHECK_STR(json_string_value(json_object_get(m, "tool_call_id")), "c1");
    CHECK_STR(json_string_value(json_object_get(m, "content")), "2*x");
    json_decref(m);
}

int main(void) {
    tkd_log_set_level(TKD_LOG_QUIET);
    RUN(body);
    RUN(cache_key);
    RUN(parse_plain);
    RUN(parse_malformed);
    RUN(parse_native);
    RUN(parse_hermes);
    RUN(status_rules);
    RUN(next_turn);
    return TEST_END();
}
