/*
 * The back-translation agent without a network: the exact stage (the tool's
 * SymPy result through expr, lists as lists), the strict reading of the LLM
 * judge's verdict, the leak check, and a whole trace driven by hand: the
 * exact stage rejects a wrong boxed result without a judge request, a retry
 * carries the reason, keep_fact makes the trace partial, a failed request
 * ends it as api_error. The built-in prompts are the files in jobs/prompts.
 */
#include "tkd/agents.h"
#include "tkd_test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static tkd_grade_opts grade(void) {
    tkd_grade_opts o;
    tkd_grade_opts_default(&o);
    return o;
}

TEST(exact_stage) {
    tkd_grade_opts o = grade();
    char why[320];
    CHECK_INT(tkd_bt_exact("so \\boxed{17, \\frac{31}{3}}", "{\"result\":[\"17\",\"31/3\"]}", &o, why, sizeof why),
              TKD_BT_EXACT_EQUAL);
    CHECK_INT(tkd_bt_exact("so \\boxed{\\frac{31}{3}, 17}", "{\"result\":[\"17\",\"31/3\"]}", &o, why, sizeof why),
              TKD_BT_EXACT_EQUAL);
    CHECK_INT(tkd_bt_exact("so \\boxed{17}", "{\"result\":[\"17\",\"31/3\"]}", &o, why, sizeof why),
              TKD_BT_EXACT_DIFFERENT);
    CHECK_INT(tkd_bt_exact("\\boxed{2\\sqrt{2}}", "{\"result\":\"sqrt(8)\"}", &o, why, sizeof why), TKD_BT_EXACT_EQUAL);
    CHECK_INT(tkd_bt_exact("\\boxed{x^2+2x+1}", "{\"result\":\"(x + 1)**2\"}", &o, why, sizeof why),
              TKD_BT_EXACT_EQUAL);
    CHECK_INT(tkd_bt_exact("\\boxed{6256}", "{\"result\":\"6255\"}", &o, why, sizeof why), TKD_BT_EXACT_DIFFERENT);
    CHECK(strstr(why, "6256") != NULL);
    CHECK_INT(tkd_bt_exact("no box here", "{\"result\":\"6255\"}", &o, why, sizeof why), TKD_BT_EXACT_NO_BOX);
    CHECK_INT(tkd_bt_exact("\\boxed{yes}", "{\"result\":{\"a\":1}}", &o, why, sizeof why), TKD_BT_EXACT_NOT_GRADABLE);
    char *l = tkd_bt_result_latex("{\"result\":[\"0\",\"5/3\"]}");
    CHECK_STR(l, "0, \\frac{5}{3}");
    free(l);
}

TEST(verdicts) {
    char why[200];
    CHECK_INT(tkd_bt_parse_verdict("{\"verdict\": \"accept\", \"reason\": \"ok\"}", why, sizeof why), 1);
    CHECK_INT(tkd_bt_parse_verdict("  {\"verdict\": \"ACCEPT\"}\n", why, sizeof why), 1);
    CHECK_INT(tkd_bt_parse_verdict("```json\n{\"verdict\": \"accept\"}\n```", why, sizeof why), 1);
    static const char *const rejects[] = {"False",
                                          "false",
                                          "True",
                                          "not correct",
                                          "accept",
                                          "ACCEPT",
                                          "{\"verdict\": \"reject\"}",
                                          "",
                                          "   ",
                                          "{\"verdict\": \"accept\"",
                                          "{\"verdict\": true}",
                                          "{\"verdict\": \"accepted\"}",
                                          "[\"accept\"]",
                                          "{\"reason\": \"accept\"}",
                                          "Sure! {\"verdict\": \"accept\"}",
                                          "{\"verdict\": \"accept\"} {\"x\": 1}"};
    for (size_t i = 0; i < sizeof rejects / sizeof *rejects; i++) {
        int v = tkd_bt_parse_verdict(rejects[i], why, sizeof why);
        if (v != 0)
            printf("  accepted: %s\n", rejects[i]);
        CHECK_INT(v, 0);
    }
}

TEST(leaks) {
    static const char *const pats[] = {"sympy", "tool", "```"};
    static const char *const tools[] = {"simplify_expression", "gcd"};
    char w[80];
    CHECK_INT(tkd_bt_leaks("The gcd of 4 and 6 is 2.", pats, 3, tools, 2, w, sizeof w), 0);
    CHECK_INT(tkd_bt_leaks("Using SymPy we get 2.", pats, 3, tools, 2, w, sizeof w), 1);
    CHECK_STR(w, "sympy");
    CHECK_INT(tkd_bt_leaks("we call simplify_expression", pats, 3, tools, 2, w, sizeof w), 1);
    CHECK_INT(tkd_bt_leaks("```python\nx\n```", pats, 3, tools, 2, w, sizeof w), 1);
}

static const char TRACE[] =
    "{\"id\":\"t/1\",\"pid\":\"00000000000000ab\",\"sample\":0,\"status\":\"correct\",\"gold\":\"7\","
    "\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"What is 3+4?\"},"
    "{\"role\":\"assistant\",\"content\":\"Plan: add.\"},"
    "{\"role\":\"assistant\",\"content\":\"Computing.\",\"tool_calls\":[]},"
    "{\"role\":\"tool\",\"content\":\"{\\\"result\\\":\\\"7\\\"}\"},"
    "{\"role\":\"assistant\",\"content\":\"\\\\boxed{7}\"}],"
    "\"calls\":[{\"turn\":2,\"id\":\"c0\",\"name\":\"simplify_expression\",\"arguments\":\"{\\\"expression\\\":\\\"3+"
    "4\\\"}\","
    "\"result\":\"{\\\"result\\\":\\\"7\\\"}\",\"status\":\"ok\"},"
    "{\"turn\":2,\"id\":\"c1\",\"name\":\"gcd\",\"arguments\":\"{}\",\"result\":\"{\\\"status\\\":\\\"error\\\"}\","
    "\"status\":\"error\"}]}";

static tkd_llm_response reply(const char *content) {
    tkd_llm_response r;
    memset(&r, 0, sizeof r);
    r.status = TKD_LLM_OK;
    r.content = (char *)content;
    r.finish_reason = (char *)"stop";
    r.prompt_tokens = 10;
    r.completion_tokens = 5;
    r.latency_s = 0.25;
    r.endpoint = -1;
    return r;
}

/* Submit-and-answer helper: the single ready request's slot and role. */
static int one_ready(tkd_bt *b, tkd_bt_role *role, char *tag, size_t cap) {
    CHECK_INT(tkd_bt_n_ready(b), 1);
    tkd_llm_request req;
    int slot;
    tkd_bt_ready(b, 0, &req, &slot, role);
    snprintf(tag, cap, "%s", req.tag);
    return slot;
}

TEST(trace_exact_reject_then_accept) {
    tkd_bt_cfg cfg;
    tkd_bt_cfg_default(&cfg);
    tkd_bt *b;
    tkd_err e = {0};
    CHECK_INT(tkd_bt_new(&cfg, TRACE, "What is 3+4?", 5, &b, &e), 0);
    CHECK_INT(tkd_bt_start(b, &e), TKD_BT_ACT_LLM);
    tkd_bt_role role;
    char tag[200];
    int slot = one_ready(b, &role, tag, sizeof tag); /* the failed gcd call is not translated */
    CHECK_INT(role, TKD_BT_TRANSLATOR);
    CHECK_STR(tag, "t/1#0/translator/0/0");
    tkd_llm_response r = reply("By hand: \\boxed{8}");
    CHECK_INT(tkd_bt_on_llm(b, slot, &r, &e), TKD_BT_ACT_LLM); /* exact stage: rejected, asked again */
    slot = one_ready(b, &role, tag, sizeof tag);
    CHECK_INT(role, TKD_BT_TRANSLATOR); /* no judge request */
    CHECK_STR(tag, "t/1#0/translator/0/1");
    r = reply("By hand: 3 + 4 = \\boxed{7}");
    CHECK_INT(tkd_bt_on_llm(b, slot, &r, &e), TKD_BT_ACT_LLM);
    slot = one_ready(b, &role, tag, sizeof tag);
    CHECK_INT(role, TKD_BT_JUDGE);
    r = reply("{\"verdict\": \"accept\", \"reason\": \"fine\"}");
    CHECK_INT(tkd_bt_on_llm(b, slot, &r, &e), TKD_BT_ACT_LLM);
    slot = one_ready(b, &role, tag, sizeof tag);
    CHECK_INT(role, TKD_BT_REPHRASE);
    r = reply("Adding, 3 + 4 = \\boxed{7}.");
    CHECK_INT(tkd_bt_on_llm(b, slot, &r, &e), TKD_BT_ACT_DONE);
    CHECK_INT(tkd_bt_status(b), TKD_ST_ACCEPTED);
    char *t = tkd_bt_result_json(b, &e);
    json_t *j = json_loads(t, 0, NULL);
    json_t *c0 = json_array_get(json_object_get(j, "calls"), 0);
    CHECK_INT((int)json_array_size(json_object_get(j, "calls")), 1);
    CHECK_STR(json_string_value(json_object_get(c0, "outcome")), "accepted");
    json_t *a0 = json_array_get(json_object_get(c0, "attempts"), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(a0, "exact"), "verdict")), "different");
    CHECK_STR(json_string_value(json_object_get(json_object_get(a0, "llm"), "verdict")), "skipped");
    CHECK_STR(json_string_value(json_object_get(j, "solution")), "Adding, 3 + 4 = \\boxed{7}.");
    CHECK_INT(
        (int)json_integer_value(json_object_get(json_object_get(json_object_get(j, "tokens"), "judge"), "requests")),
        1);
    tkd_record rec;
    tkd_bt_record(b, &rec);
    CHECK_INT(rec.phase, TKD_PHASE_BACKTRANSLATE);
    CHECK_INT((int)rec.pid, 0xab);
    CHECK_INT((int)rec.turns, 4);
    json_decref(j);
    free(t);
    tkd_bt_free(b);
}

TEST(trace_keep_fact_and_api_error) {
    tkd_bt_cfg cfg;
    tkd_bt_cfg_default(&cfg);
    cfg.keep_fact = 1;
    cfg.max_attempts = 1;
    tkd_bt *b;
    tkd_err e = {0};
    CHECK_INT(tkd_bt_new(&cfg, TRACE, "What is 3+4?", 5, &b, &e), 0);
    tkd_bt_start(b, &e);
    tkd_bt_role role;
    char tag[200];
    int slot = one_ready(b, &role, tag, sizeof tag);
    tkd_llm_response r = reply("By hand: \\boxed{7}");
    tkd_bt_on_llm(b, slot, &r, &e);
    slot = one_ready(b, &role, tag, sizeof tag);
    r = reply("False");
    CHECK_INT(tkd_bt_on_llm(b, slot, &r, &e), TKD_BT_ACT_LLM); /* kept as a fact: on to the rephrase */
    slot = one_ready(b, &role, tag, sizeof tag);
    CHECK_INT(role, TKD_BT_REPHRASE);
    r = reply("So \\boxed{7}.");
    CHECK_INT(tkd_bt_on_llm(b, slot, &r, &e), TKD_BT_ACT_DONE);
    CHECK_INT(tkd_bt_status(b), TKD_ST_PARTIAL);
    tkd_bt_free(b);

    CHECK_INT(tkd_bt_new(&cfg, TRACE, "What is 3+4?", 5, &b, &e), 0);
    tkd_bt_start(b, &e);
    slot = one_ready(b, &role, tag, sizeof tag);
    r = reply("");
    r.status = TKD_LLM_RETRIES_EXHAUSTED;
    r.error = (char *)"503";
    CHECK_INT(tkd_bt_on_llm(b, slot, &r, &e), TKD_BT_ACT_DONE);
    CHECK_INT(tkd_bt_status(b), TKD_ST_API_ERROR);
    CHECK(!tkd_status_is_final(TKD_ST_API_ERROR));
    tkd_bt_free(b);
}

TEST(builtin_prompts_are_the_files) {
    const char *src = getenv("TKD_SOURCE_DIR");
    char path[1024];
    for (int i = 0; i < TKD_BT_N_PROMPTS; i++) {
        snprintf(path, sizeof path, "%s/jobs/prompts/%s.txt", src ? src : "../..", tkd_bt_prompt_names[i]);
        char *t = NULL;
        size_t n = 0;
        tkd_err e = {0};
        CHECK_INT(tkd_file_read(path, &t, &n, &e), 0);
        while (t && n && strchr(" \t\r\n", t[n - 1]))
            t[--n] = 0;
        if (t && strcmp(t, tkd_bt_prompt_builtin[i]))
            printf("  %s differs from its built-in copy\n", path);
        CHECK(t && !strcmp(t, tkd_bt_prompt_builtin[i]));
        free(t);
    }
}

int main(void) {
    RUN(exact_stage);
    RUN(verdicts);
    RUN(leaks);
    RUN(trace_exact_reject_then_accept);
    RUN(trace_keep_fact_and_api_error);
    RUN(builtin_prompts_are_the_files);
    return TEST_END();
}
