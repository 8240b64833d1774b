/*
 * The fast reply reader against Jansson (the oracle here): on hand-written
 * bodies and on 100,000 random mutations of real-shaped replies (byte flips,
 * cuts, insertions of JSON-significant characters), wherever the fast path
 * answers, Jansson must accept the body and give the same content,
 * reasoning, finish_reason and usage. Declining is always allowed, but the
 * common replies must be answered.
 */
#include "tkd/llm.h"
#include "tkd_test.h"

static int same_str(const char *a, const char *b) {
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static long n_fast, n_decline, n_mismatch;

static void compare(const char *body, size_t len) {
    tkd_llm_response *f = calloc(1, sizeof *f), *j = calloc(1, sizeof *j);
    tkd_err e = {0};
    int fast = tkd_llm_fast_parse(body, len, f);
    int jrc = tkd_llm_parse_response_jansson(body, len, TKD_LLM_TOOLS_NATIVE, j, &e);
    if (fast) {
        n_fast++;
        int ok = jrc == 0 && same_str(f->content, j->content) && same_str(f->reasoning_content, j->reasoning_content) &&
                 same_str(f->finish_reason, j->finish_reason) && f->prompt_tokens == j->prompt_tokens &&
                 f->completion_tokens == j->completion_tokens && f->total_tokens == j->total_tokens &&
                 j->n_tool_calls == 0;
        if (!ok && n_mismatch++ < 5)
            fprintf(stderr, "mismatch (jansson rc %d: %s) on: %.*s\n", jrc, e.msg, (int)len, body);
    } else {
        n_decline++;
    }
    tkd_llm_response_free(f);
    tkd_llm_response_free(j);
}

static const char *const bodies[] = {
    "{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The answer is "
    "\\\\boxed{\\\\frac{1}{2}} \\u00e9\\ud83d\\ude00 \\\"q\\\" \\/ \\b\\f\\n\\r\\t\",\"reasoning_content\":\"r\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":30,\"total_tokens\":42}}",
    "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[]},\"finish_reason\":null}],\"usage\":null}",
    "{\"choices\":[{\"message\":{\"content\":\"x\",\"reasoning\":\"vllm\"},\"finish_reason\":\"length\"},{\"message\":{"
    "}}],"
    "\"usage\":{\"prompt_tokens\":1.5,\"completion_tokens\":-2,\"extra\":[1,2,{\"a\":[true,false,null]}]}}",
    "  {\"choices\" : [ { \"message\" : { \"content\" : \"\" } } ] }  \n",
    "{\"choices\":[{\"message\":{\"content\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}],\"x\":1e308,\"y\":-0.0e-5}",
    /* escaped keys read as Jansson reads them; 19-digit integers that fit; reasoning when reasoning_content is
       not a string; a real total_tokens reads as 0 and falls back to the sum */
    "{\"choices\":[{\"message\":{\"cont\\u0065nt\":\"hidden\",\"reasoning_content\":null,\"reasoning\":\"r2\"},"
    "\"finish_reason\":5}],\"usage\":{\"prompt_\\u0074okens\":9223372036854775807,\"completion_tokens\":"
    "-9223372036854775807,\"total_tokens\":1.0},\"n\":-9223372036854775808}",
#define N_ANSWERED 6
    /* declined or refused */
    "{\"choices\":[{\"message\":{\"content\":\"a\",\"content\":\"b\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"a\",\"cont\\u0065nt\":\"b\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"n\":9223372036854775808}",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"n\":[-9223372036854775809]}",
    "{\"choices\":[{\"message\":{\"content\":\"x\",\"tool_calls\":{}}}]}",
    "{\"choices\":[{\"message\":\"x\"}]}",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"total_tokens\":1,\"total_tokens\":2}}",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"big\":1e999}",
    "{\"choices\":[{\"message\":{\"content\":\"\\u0000\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"\\udc00\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"\xc0\xaf\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"\xed\xa0\x80\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"x\",\"tool_calls\":[{\"function\":{\"name\":\"f\"}}]}}]}",
    "{\"choices\":[{\"message\":{\"content\":5}}]}",
    "{\"choices\":[]}",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}]} trailing",
    "[{\"choices\":1}]",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"n\":012}",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"n\":1.}",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"n\":123456789012345678901234}",
    "{\"choices\":[{\"message\":{\"content\":\"tab\there\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"x\"}}],}",
};

TEST(fixed) {
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        compare(bodies[i], strlen(bodies[i]));
    CHECK_INT(n_mismatch, 0);
    /* the first N_ANSWERED are read by the fast path */
    tkd_llm_response *r = calloc(1, sizeof *r);
    CHECK_INT(tkd_llm_fast_parse(bodies[0], strlen(bodies[0]), r), 1);
    CHECK_STR(r->content, "The answer is \\boxed{\\frac{1}{2}} \xc3\xa9\xf0\x9f\x98\x80 \"q\" / \b\f\n\r\t");
    CHECK_INT(r->total_tokens, 42);
    tkd_llm_response_free(r);
    r = calloc(1, sizeof *r);
    CHECK_INT(tkd_llm_fast_parse(bodies[2], strlen(bodies[2]), r), 1);
    CHECK_STR(r->reasoning_content, "vllm");
    CHECK_INT(r->prompt_tokens, 0); /* a real is not an integer, as in Jansson */
    CHECK_INT(r->completion_tokens, -2);
    tkd_llm_response_free(r);
    r = calloc(1, sizeof *r);
    CHECK_INT(tkd_llm_fast_parse(bodies[5], strlen(bodies[5]), r), 1);
    CHECK_STR(r->content, "hidden");
    CHECK_STR(r->reasoning_content, "r2");
    CHECK(r->finish_reason == NULL);
    CHECK(r->prompt_tokens == 9223372036854775807L);
    CHECK(r->total_tokens == 0); /* 1.0 reads as 0, then the sum wraps to 0 */
    tkd_llm_response_free(r);
    for (size_t i = 0; i < N_ANSWERED; i++) {
        r = calloc(1, sizeof *r);
        CHECK_INT(tkd_llm_fast_parse(bodies[i], strlen(bodies[i]), r), 1);
        tkd_llm_response_free(r);
    }
    for (size_t i = N_ANSWERED; i < sizeof bodies / sizeof bodies[0]; i++) {
        r = calloc(1, sizeof *r);
        CHECK_INT(tkd_llm_fast_parse(bodies[i], strlen(bodies[i]), r), 0);
        tkd_llm_response_free(r);
    }
}

TEST(mutations) {
    static const char ins[] = "{}[]\",:\\ u0123456789eE.-+tfnl\x80\xc3\xff";
    tkd_rng rng;
    tkd_rng_seed(&rng, 2024);
    n_fast = n_decline = 0;
    size_t nb = 5;
    char buf[1024];
    for (int it = 0; it < 100000; it++) {
        const char *src = bodies[tkd_rng_below(&rng, nb)];
        size_t len = strlen(src);
        if (len >= sizeof buf - 8)
            continue;
        memcpy(buf, src, len);
        int edits = 1 + (int)tkd_rng_below(&rng, 3);
        for (int k = 0; k < edits; k++) {
            size_t at = tkd_rng_below(&rng, len);
            switch (tkd_rng_below(&rng, 4)) {
            case 0: /* replace */ buf[at] = ins[tkd_rng_below(&rng, sizeof ins - 1)]; break;
            case 1: /* cut */ len = at; break;
            case 2: /* insert */
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = ins[tkd_rng_below(&rng, sizeof ins - 1)];
                len++;
                break;
            default: /* delete */ memmove(buf + at, buf + at + 1, len - at - 1); len--;
            }
            if (len == 0 || len >= sizeof buf - 8)
                break;
        }
        compare(buf, len);
    }
    fprintf(stderr, "mutations: fast path answered %ld, declined %ld\n", n_fast, n_decline);
    CHECK_INT(n_mismatch, 0);
    CHECK(n_fast > 1000); /* it answers often enough to be tested */
}

int main(void) {
    tkd_log_set_level(TKD_LOG_QUIET);
    RUN(fixed);
    RUN(mutations);
    return TEST_END();
}
