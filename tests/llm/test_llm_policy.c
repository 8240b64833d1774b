/*
 * Unit tests of the retry arithmetic (full-jitter exponential back-off,
 * Retry-After in seconds and as an HTTP-date) and of reading the job file's
 * `teacher` section.
 */
#include "tkd/llm.h"
#include "tkd_test.h"

#include <curl/curl.h>
#include <time.h>

TEST(backoff) {
    tkd_rng rng;
    tkd_rng_seed(&rng, 7);
    /* uniform(0, min(cap, base*2^(n-1))): bounds, and a mean near half the bound */
    for (int attempt = 1; attempt <= 12; attempt++) {
        double hi = 0.5 * (double)(1 << (attempt - 1));
        if (hi > 30)
            hi = 30;
        double sum = 0, mx = 0, mn = 1e9;
        int n = 4000;
        for (int i = 0; i < n; i++) {
            double d = tkd_llm_backoff(&rng, attempt, 0.5, 30, 0);
            sum += d;
            mx = d > mx ? d : mx;
            mn = d < mn ? d : mn;
        }
        CHECK(mn >= 0);
        CHECK(mx <= hi);
        CHECK(mx > 0.95 * hi); /* the whole range is used */
        CHECK_NEAR(sum / n, hi / 2, hi * 0.05);
    }
    /* Retry-After is a floor, even above the cap */
    for (int i = 0; i < 100; i++) {
        CHECK(tkd_llm_backoff(&rng, 1, 0.5, 30, 2.0) >= 2.0);
        CHECK(tkd_llm_backoff(&rng, 3, 0.5, 1, 45.0) >= 45.0);
    }
    /* huge attempt numbers do not overflow */
    double d = tkd_llm_backoff(&rng, 100000, 0.5, 30, 0);
    CHECK(d >= 0 && d <= 30);
}

TEST(retry_after) {
    double s = -1;
    CHECK_INT(tkd_llm_parse_retry_after("3", 0, &s), 0);
    CHECK_NEAR(s, 3, 0);
    CHECK_INT(tkd_llm_parse_retry_after(" 0 ", 0, &s), 0);
    CHECK_NEAR(s, 0, 0);
    CHECK_INT(tkd_llm_parse_retry_after("1.5", 0, &s), 0);
    CHECK_NEAR(s, 1.5, 0);
    CHECK_INT(tkd_llm_parse_retry_after("99999", 0, &s), 0);
    CHECK_NEAR(s, TKD_LLM_MAX_RETRY_AFTER_S, 0);
    /* HTTP-date, relative to the wall clock passed in */
    double now = 1445412480.0; /* Wed, 21 Oct 2015 07:28:00 GMT */
    CHECK_INT(tkd_llm_parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now, &s), 0);
    CHECK_NEAR(s, 10, 1e-9);
    CHECK_INT(tkd_llm_parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now, &s), 0);
    CHECK_NEAR(s, 0, 0); /* in the past: retry now */
    CHECK_INT(tkd_llm_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 784111777.0 - 5, &s), 0);
    CHECK_NEAR(s, 5, 1e-9);
    static const char *bad[] = {"", "  ", "-1", "3x", "soon", "1e999", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_INT(tkd_llm_parse_retry_after(bad[i], now, &s), -1);
    CHECK_INT(tkd_llm_parse_retry_after(NULL, now, &s), -1);
}

/* Which failures are an endpoint's outage (held, not charged) and which a
 * flaky endpoint's (charged retries). */
TEST(outage_kinds) {
    CHECK(tkd_llm_is_outage(CURLE_COULDNT_CONNECT, 0));
    CHECK(tkd_llm_is_outage(CURLE_OPERATION_TIMEDOUT, 0));
    CHECK(tkd_llm_is_outage(CURLE_GOT_NOTHING, 0));
    CHECK(tkd_llm_is_outage(CURLE_RECV_ERROR, 0));
    CHECK(tkd_llm_is_outage(CURLE_OK, 502) && tkd_llm_is_outage(CURLE_OK, 503) && tkd_llm_is_outage(CURLE_OK, 504));
    CHECK(!tkd_llm_is_outage(CURLE_OK, 200) && !tkd_llm_is_outage(CURLE_OK, 500) && !tkd_llm_is_outage(CURLE_OK, 429));
    CHECK(!tkd_llm_is_outage(CURLE_OK, 400) && !tkd_llm_is_outage(CURLE_WRITE_ERROR, 0));
    CHECK_STR(tkd_llm_status_name(TKD_LLM_UNAVAILABLE), "unavailable");
    CHECK_STR(tkd_llm_health_name(TKD_LLM_DOWN), "down");
}

TEST(config) {
    const char *text = "{\"output_dir\": \"o\", \"seed\": 9, \"teacher\": {\"model\": \"qwen\", \"base_urls\": "
                       "[\"http://a:8000/v1\", \"http://b:8000/v1\"], \"cache\": \"replay-only\", "
                       "\"tool_call_format\": \"hermes\", \"max_retries\": 3, \"timeout_s\": 2.5}}";
    tkd_job job;
    tkd_err e = {0};
    CHECK_INT(tkd_job_load_text("t.json", text, NULL, 0, &job, &e), 0);
    tkd_llm_config c;
    CHECK_INT(tkd_llm_config_from_job(&job, &c, &e), 0);
    CHECK_STR(c.model, "qwen");
    CHECK_INT(c.n_base_urls, 2);
    CHECK_STR(c.base_urls[1], "http://b:8000/v1");
    CHECK_INT(c.cache, TKD_LLM_CACHE_REPLAY);
    CHECK_INT(c.tool_format, TKD_LLM_TOOLS_HERMES);
    CHECK_INT(c.max_retries, 3);
    CHECK_NEAR(c.timeout_s, 2.5, 0);
    CHECK_STR(c.api_key_env, "OPENAI_API_KEY");
    CHECK_INT(c.max_in_flight, 256);
    CHECK_INT(c.seed, 9);
    CHECK_STR(c.cache_dir, "llm-cache");
    CHECK_NEAR(c.wait_for_endpoint_s, 1800, 0); /* the default: half an hour for vLLM to load */
    tkd_job_free(&job);
    CHECK_INT(tkd_job_load_text("t.json", "{\"output_dir\":\"o\",\"teacher\":{\"wait_for_endpoint_s\":5}}", NULL, 0,
                                &job, &e),
              0);
    CHECK_INT(tkd_llm_config_from_job(&job, &c, &e), 0);
    CHECK_NEAR(c.wait_for_endpoint_s, 5, 0);
    tkd_job_free(&job);
    CHECK(tkd_job_load_text("t.json", "{\"output_dir\":\"o\",\"teacher\":{\"wait_for_endpoint_s\":-1}}", NULL, 0, &job,
                            &e) != 0);
    /* schema errors name the key */
    CHECK(tkd_job_load_text("t.json", "{\"output_dir\":\"o\",\"teacher\":{\"cache\":\"maybe\"}}", NULL, 0, &job, &e) !=
          0);
    CHECK(strstr(e.msg, "teacher.cache") != NULL);
    CHECK(tkd_job_load_text("t.json", "{\"output_dir\":\"o\",\"teacher\":{\"max_in_flight\":0}}", NULL, 0, &job, &e) !=
          0);
    /* the client refuses a config without model or URL, with a hint */
    tkd_llm_config_defaults(&c);
    tkd_llm *cl = NULL;
    CHECK_INT(tkd_llm_create(&c, &cl, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "teacher.model") != NULL);
    c.model = "m";
    CHECK_INT(tkd_llm_create(&c, &cl, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "base_urls") != NULL);
    c.base_urls[0] = "ftp://x";
    c.n_base_urls = 1;
    CHECK_INT(tkd_llm_create(&c, &cl, &e), TKD_EINVAL);
    CHECK(cl == NULL);
}

int main(void) {
    tkd_log_set_level(TKD_LOG_QUIET);
    RUN(backoff);
    RUN(retry_after);
    RUN(config);
    RUN(outage_kinds);
    return TEST_END();
}
