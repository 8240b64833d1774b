/*
 * llm_policy: the client's settings and its retry arithmetic. Reads the
 * job file's `teacher` section into a tkd_llm_config, computes full-jitter
 * exponential back-off and reads Retry-After (delta seconds or HTTP-date),
 * and tells the failures of a down endpoint from those of a flaky one.
 */
#include "tkd/llm.h"

#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void tkd_llm_config_defaults(tkd_llm_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->model = "";
    cfg->api_key_env = "OPENAI_API_KEY";
    cfg->max_in_flight = 256;
    cfg->max_connections_per_endpoint = 256;
    cfg->connect_timeout_s = 10;
    cfg->timeout_s = 600;
    cfg->max_retries = 8;
    cfg->retry_budget = 1;
    cfg->backoff_base_s = 0.5;
    cfg->backoff_max_s = 30;
    cfg->http2 = 1;
    cfg->temperature = 0.7;
    cfg->top_p = 1;
    cfg->max_tokens = 4096;
    cfg->cache = TKD_LLM_CACHE_OFF;
    cfg->cache_dir = "llm-cache";
    cfg->tool_format = TKD_LLM_TOOLS_AUTO;
    cfg->seed = 1234;
    cfg->wait_for_endpoint_s = 1800;
}

int tkd_llm_config_from_job(const tkd_job *job, tkd_llm_config *cfg, tkd_err *e) {
    tkd_llm_config_defaults(cfg);
    cfg->model = tkd_job_str(job, "teacher.model");
    json_t *urls = tkd_job_get(job, "teacher.base_urls");
    size_t i;
    json_t *u;
    json_array_foreach(urls, i, u) {
        if (cfg->n_base_urls == TKD_LLM_MAX_ENDPOINTS)
            return tkd_err_set(e, TKD_EINVAL, "%s: teacher.base_urls has more than %d entries", job->path,
                               TKD_LLM_MAX_ENDPOINTS);
        const char *s = json_string_value(u);
        size_t scheme = !strncmp(s, "http://", 7) ? 7 : !strncmp(s, "https://", 8) ? 8 : 0;
        if (!scheme || !s[scheme] || s[scheme] == '/') /* checked here, so config check says it before a run */
            return tkd_err_set(e, TKD_EINVAL,
                               "%s: teacher.base_urls[%zu]: '%s' is not an http:// or https:// URL with a host "
                               "(e.g. \"http://node1:8000/v1\")",
                               job->path, i, s);
        cfg->base_urls[cfg->n_base_urls++] = s;
    }
    cfg->api_key_env = tkd_job_str(job, "teacher.api_key_env");
    cfg->max_in_flight = (int)tkd_job_int(job, "teacher.max_in_flight");
    cfg->max_connections_per_endpoint = (int)tkd_job_int(job, "teacher.max_connections_per_endpoint");
    cfg->connect_timeout_s = tkd_job_num(job, "teacher.connect_timeout_s");
    cfg->timeout_s = tkd_job_num(job, "teacher.timeout_s");
    cfg->max_retries = (int)tkd_job_int(job, "teacher.max_retries");
    cfg->retry_budget = tkd_job_num(job, "teacher.retry_budget");
    cfg->backoff_base_s = tkd_job_num(job, "teacher.backoff_base_s");
    cfg->backoff_max_s = tkd_job_num(job, "teacher.backoff_max_s");
    cfg->http2 = tkd_job_bool(job, "teacher.http2");
    cfg->ca_file = tkd_job_str(job, "teacher.ca_file");
    cfg->temperature = tkd_job_num(job, "teacher.temperature");
    cfg->top_p = tkd_job_num(job, "teacher.top_p");
    cfg->max_tokens = (int)tkd_job_int(job, "teacher.max_tokens");
    const char *cm = tkd_job_str(job, "teacher.cache");
    cfg->cache = !strcmp(cm, "read-write")    ? TKD_LLM_CACHE_RW
                 : !strcmp(cm, "replay-only") ? TKD_LLM_CACHE_REPLAY
                                              : TKD_LLM_CACHE_OFF;
    cfg->cache_dir = tkd_job_str(job, "teacher.cache_dir");
    const char *tf = tkd_job_str(job, "teacher.tool_call_format");
    cfg->tool_format = !strcmp(tf, "native")   ? TKD_LLM_TOOLS_NATIVE
                       : !strcmp(tf, "hermes") ? TKD_LLM_TOOLS_HERMES
                                               : TKD_LLM_TOOLS_AUTO;
    cfg->seed = (uint64_t)tkd_job_int(job, "seed");
    cfg->wait_for_endpoint_s = tkd_job_num(job, "teacher.wait_for_endpoint_s");
    return 0;
}

int tkd_llm_parse_retry_after(const char *value, double now_wall, double *out) {
    if (!value)
        return -1;
    while (isspace((unsigned char)*value))
        value++;
    if (!*value)
        return -1;
    if (isdigit((unsigned char)*value)) {
        char *end;
        double v = strtod(value, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (*end || !isfinite(v) || v < 0)
            return -1;
        *out = v > TKD_LLM_MAX_RETRY_AFTER_S ? TKD_LLM_MAX_RETRY_AFTER_S : v;
        return 0;
    }
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1)
        return -1;
    double d = (double)t - now_wall;
    *out = d < 0 ? 0 : d > TKD_LLM_MAX_RETRY_AFTER_S ? TKD_LLM_MAX_RETRY_AFTER_S : d;
    return 0;
}

double tkd_llm_backoff(tkd_rng *rng, int attempt, double base_s, double cap_s, double retry_after_s) {
    if (attempt < 1)
        attempt = 1;
    double hi = base_s * ldexp(1.0, attempt > 60 ? 60 : attempt - 1);
    if (hi > cap_s)
        hi = cap_s;
    double d = hi * tkd_rng_uniform(rng);
    return d < retry_after_s ? retry_after_s : d;
}

int tkd_llm_is_outage(int res, long http_code) {
    switch ((CURLcode)res) {
    case CURLE_OK: return http_code == 502 || http_code == 503 || http_code == 504;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE: return 1;
    default: return 0;
    }
}
