/*
 * llm: the teacher client. An OpenAI-compatible chat client
 * (POST {base_url}/chat/completions, non-streaming) on the libcurl multi
 * interface, driven by one event loop per rank:
 *
 *   tkd_llm_create(&cfg, &c, &e);
 *   tkd_llm_submit(c, &req, cookie, &e);          // never blocks
 *   for (;;) {
 *       tkd_llm_poll(c, 10);                      // network, retries, timers
 *       while (tkd_llm_next_done(c, &resp, &cookie)) { ...; tkd_llm_response_free(resp); }
 *       ... MPI_Iprobe, tool results, ...
 *   }
 *
 * What it does for the caller: least-outstanding-requests balancing over
 * several base URLs; keep-alive pools, HTTP/2 where offered; retries on
 * connection errors, empty or malformed replies, timeouts and
 * 408/429/500/502/503/504 with full-jitter exponential back-off that honours
 * Retry-After, within a per-request limit and a run-wide retry budget; an
 * adaptive in-flight limit (AIMD) that halves when 429/503 become frequent;
 * never a retry on other 4xx (a context-length 400 is its own outcome).
 *
 * Every submitted request comes back exactly once through tkd_llm_next_done,
 * in one of the states of tkd_llm_status.
 *
 * Outages are waited out (llm_health.c): when every endpoint fails
 * TKD_LLM_OUTAGE_FAILS times in a row (connection refused or reset, 502,
 * 503, 504, timeouts), and before a phase when it calls tkd_llm_check, the
 * client checks each endpoint (GET BASE/models, then a minimal chat request).
 * While every endpoint is down the client is paused (tkd_llm_paused): it
 * sends nothing, holds back the requests that failed and re-sends them once
 * an endpoint answers, without charging those attempts to max_retries or the
 * retry budget (both are meant for a flaky endpoint, not a dead one). Checks
 * repeat with back-off; after wait_for_endpoint_s the client gives up and
 * every request still pending ends TKD_LLM_UNAVAILABLE.
 *
 * The response cache (one file per entry, crash-safe) replays a run: in
 * replay-only mode a miss is the status TKD_LLM_CACHE_MISS, never a request.
 *
 * Secrets: the API key is read from the environment variable named by
 * cfg.api_key_env, put into the Authorization header and nowhere else: not in
 * logs, cache keys, cache files, responses or error messages.
 */
#ifndef TKD_LLM_H
#define TKD_LLM_H

#include "tkd/core.h"
#include "tkd/job.h"

#include <jansson.h>
#include <stdint.h>

#define TKD_LLM_MAX_ENDPOINTS 64
#define TKD_LLM_MAX_RETRY_AFTER_S 600.0       /* a longer Retry-After is clamped to this */
#define TKD_LLM_MAX_BODY_BYTES (64u << 20)    /* a larger reply is cut off: a network error */
#define TKD_LLM_RETRY_TOKENS_START 10.0       /* retry budget tokens before any request */
#define TKD_LLM_AIMD_WINDOW_S 1.0             /* window in which 429/503 are counted */
#define TKD_LLM_OUTAGE_FAILS 3                /* outage-like failures in a row on every endpoint: check them */
#define TKD_LLM_HEALTH_CHECK_MIN_S 1.0        /* first pause between checks of a down endpoint ... */
#define TKD_LLM_HEALTH_CHECK_MAX_S 10.0       /* ... doubling up to this */
#define TKD_LLM_HEALTH_TIMEOUT_S 60.0         /* longest a check request may take (and teacher.timeout_s) */
#define TKD_LLM_HEALTH_TAG "tkd-health-check" /* X-TKD-Tag of the check requests */
#define TKD_LLM_CONTEXT_LENGTH_MSG "the prompt exceeds the model's context length (HTTP 400)"

typedef enum {
    TKD_LLM_OK = 0,
    TKD_LLM_HTTP_ERROR,        /* a non-retryable HTTP status (http_code says which) */
    TKD_LLM_CONTEXT_LENGTH,    /* 400: the prompt does not fit the model's context */
    TKD_LLM_NETWORK,           /* connection failed, dropped or reply truncated (budget spent) */
    TKD_LLM_TIMEOUT,           /* connect or total timeout (budget spent) */
    TKD_LLM_MALFORMED,         /* 200 but not a chat completion (budget spent) */
    TKD_LLM_RETRIES_EXHAUSTED, /* max_retries retryable failures in a row; last_error says the last */
    TKD_LLM_CACHE_MISS,        /* replay-only cache mode and no entry */
    TKD_LLM_UNAVAILABLE        /* every endpoint down for longer than wait_for_endpoint_s */
} tkd_llm_status;

const char *tkd_llm_status_name(tkd_llm_status s);

typedef enum { TKD_LLM_CACHE_OFF = 0, TKD_LLM_CACHE_RW, TKD_LLM_CACHE_REPLAY } tkd_llm_cache_mode;
typedef enum { TKD_LLM_TOOLS_AUTO = 0, TKD_LLM_TOOLS_NATIVE, TKD_LLM_TOOLS_HERMES } tkd_llm_tool_format;

typedef struct tkd_llm_config {
    const char *model;
    const char *base_urls[TKD_LLM_MAX_ENDPOINTS]; /* ".../v1"; "/chat/completions" is appended */
    int n_base_urls;
    const char *api_key_env; /* name of the env var holding the key; unset or empty: no header */
    int max_in_flight;       /* per client (= per rank) */
    int max_connections_per_endpoint;
    double connect_timeout_s, timeout_s; /* per attempt */
    int max_retries;                     /* retries per request after the first attempt */
    double retry_budget;                 /* retry tokens earned per submitted request (run-wide) */
    double backoff_base_s, backoff_max_s;
    int http2;
    const char *ca_file;       /* NULL or "": the system's CA store */
    double temperature, top_p; /* defaults for requests */
    int max_tokens;
    tkd_llm_cache_mode cache;
    const char *cache_dir;
    tkd_llm_tool_format tool_format;
    uint64_t seed;              /* for the back-off jitter only */
    double wait_for_endpoint_s; /* longest wait for a down endpoint before giving up */
} tkd_llm_config;

/* Defaults of the job schema (no model, no URL). */
void tkd_llm_config_defaults(tkd_llm_config *cfg);
/* Fill cfg from the job's `teacher` section; strings point into the job. */
int tkd_llm_config_from_job(const tkd_job *job, tkd_llm_config *cfg, tkd_err *e);

typedef struct tkd_llm_request {
    const char *model;   /* NULL: the client's */
    json_t *messages;    /* array of {role, content, ...}; borrowed during submit */
    json_t *tools;       /* NULL or an array of tool schemas */
    json_t *tool_choice; /* NULL, "auto", "none" or an object */
    json_t *stop;        /* NULL, a string or an array of strings */
    double temperature;  /* < 0: the client's default */
    double top_p;        /* <= 0: the client's default */
    int max_tokens;      /* <= 0: the client's default */
    int has_seed;
    int64_t seed;
    int sample;      /* sample index: part of the cache key, not sent */
    const char *tag; /* sent as header X-TKD-Tag (not part of the cache key) */
} tkd_llm_request;

void tkd_llm_request_init(tkd_llm_request *r);

typedef struct tkd_llm_tool_call {
    char *id;        /* native id, or "call_<i>" for a <tool_call> block */
    char *name;      /* "" when the call is malformed */
    char *arguments; /* JSON text of the arguments object ("{}" when absent) */
    char *error;     /* NULL, or why the call could not be read (for a reply to the model) */
    int from_text;   /* 1: parsed from a <tool_call> block in content */
} tkd_llm_tool_call;

typedef struct tkd_llm_response {
    tkd_llm_status status;
    int http_code;           /* of the last attempt (0: none) */
    char *error;             /* NULL when ok; else a one-line reason (no secrets) */
    char *last_error;        /* RETRIES_EXHAUSTED: the last attempt's reason */
    char *content;           /* message.content ("" when null) */
    char *reasoning_content; /* NULL when absent */
    tkd_llm_tool_call *tool_calls;
    int n_tool_calls;
    char *finish_reason; /* NULL when absent */
    long prompt_tokens, completion_tokens, total_tokens;
    double latency_s; /* submit to completion, back-off included (from the cache entry on a hit) */
    int endpoint;     /* index into base_urls (-1: none) */
    int attempts;     /* HTTP attempts made */
    int from_cache;
    char *raw; /* the response body as received (NULL when none) */
    size_t raw_len;
    char key[65]; /* cache key (hex sha256; "" when the cache is off) */
} tkd_llm_response;

void tkd_llm_response_free(tkd_llm_response *r);

typedef struct tkd_llm tkd_llm;

typedef struct tkd_llm_stats {
    long long submitted, completed, attempts, retries, cache_hits, cache_misses, cache_writes;
    long long by_status[TKD_LLM_UNAVAILABLE + 1];
    long long prompt_tokens, completion_tokens;
    int in_flight;  /* transfers on the wire */
    int waiting;    /* submitted, not yet on the wire (queued or backing off) */
    double limit;   /* current adaptive in-flight limit */
    int limit_cuts; /* times the limit was halved */
    double retry_tokens;
    int held;                 /* requests held back while the endpoints are down */
    long long outage_retries; /* attempts re-sent after an outage (not charged to the retry budget) */
    long long health_checks;  /* endpoint checks started */
} tkd_llm_stats;

int tkd_llm_create(const tkd_llm_config *cfg, tkd_llm **out, tkd_err *e);
void tkd_llm_free(tkd_llm *c);

/*
 * Queue a request (never blocks; the request is serialized at once, so the
 * caller may free its JSON afterwards). On a cache hit or a replay-only miss
 * the response is ready at the next tkd_llm_next_done.
 */
int tkd_llm_submit(tkd_llm *c, const tkd_llm_request *req, void *cookie, tkd_err *e);
/* Run the network for at most timeout_ms (0: only what is ready). Returns the
 * number of responses ready for tkd_llm_next_done, or a negative TKD_E*. */
int tkd_llm_poll(tkd_llm *c, int timeout_ms);
/* Hand back one finished response (the caller frees it); 0 when none. */
int tkd_llm_next_done(tkd_llm *c, tkd_llm_response **resp, void **cookie);
/* Requests submitted and not yet handed back. */
int tkd_llm_pending(const tkd_llm *c);
void tkd_llm_get_stats(const tkd_llm *c, tkd_llm_stats *s);
/* Wait until every response handed back so far is in the cache (read-write
 * mode writes on a background thread; tkd_llm_free flushes too). */
void tkd_llm_flush(tkd_llm *c);

/* ---- endpoint health ---- */
typedef enum {
    TKD_LLM_UP = 0,   /* requests flow */
    TKD_LLM_CHECKING, /* checking the endpoints: before a phase, or after every endpoint failed in a row */
    TKD_LLM_DOWN,     /* every endpoint is down: nothing is sent, failed requests are held, checks repeat */
    TKD_LLM_GAVE_UP,  /* down for wait_for_endpoint_s: every pending request ends TKD_LLM_UNAVAILABLE */
    TKD_LLM_REFUSED   /* the check of tkd_llm_check found endpoints that answer but refuse (key, model) */
} tkd_llm_health;

typedef struct tkd_llm_health_info {
    tkd_llm_health state;
    double down_since;   /* Unix time the endpoints stopped answering (0: they answer) */
    double next_check_s; /* DOWN: seconds to the next check (0: checking now) */
    double wait_left_s;  /* DOWN: seconds left before giving up */
    int held;            /* requests held back */
    char why[768];       /* DOWN, GAVE_UP, REFUSED: each endpoint and what it answered */
} tkd_llm_health_info;

/* Check the endpoints now (a phase calls it before taking work): the client
 * is paused until one answers a minimal request; an answer that refuses it
 * (401, 403, 404, 400: wrong key or model) makes the state TKD_LLM_REFUSED. */
void tkd_llm_check(tkd_llm *c);
/* 1 while the client checks or waits out an outage, or has given up or been
 * refused: a phase takes no new work then (requests already submitted stay). */
int tkd_llm_paused(const tkd_llm *c);
tkd_llm_health tkd_llm_health_get(const tkd_llm *c, tkd_llm_health_info *h);
const char *tkd_llm_health_name(tkd_llm_health h);

/* For an outer event loop: an fd (epoll) that turns readable when there is
 * network work, and the longest wait before tkd_llm_poll must be called. */
int tkd_llm_fd(const tkd_llm *c);
int tkd_llm_timeout_ms(const tkd_llm *c);

/* ---- building the next turn of a conversation ---- */

/* The assistant message to append after a reply: {"role": "assistant",
 * "content": ..., "tool_calls": [...]} with native tool calls echoed in the
 * OpenAI shape (calls read from <tool_call> text stay in the content, as the
 * Qwen/Hermes templates expect). reasoning_content is not sent back.
 * NULL on allocation failure. */
json_t *tkd_llm_assistant_message(const tkd_llm_response *r);
/* {"role": "tool", "tool_call_id": id, "name": name, "content": content}. */
json_t *tkd_llm_tool_message(const char *tool_call_id, const char *name, const char *content);

/* ---- pieces exposed for tests and the solve phase ---- */

/* The request body (compact JSON, sorted keys) for req under cfg. */
char *tkd_llm_build_body(const tkd_llm_config *cfg, const tkd_llm_request *req, tkd_err *e);
/* Cache key of a body and a sample index: hex sha256. */
void tkd_llm_cache_key(const char *body, size_t len, int sample, char out[65]);
/*
 * Parse a chat-completion body into r (content, reasoning, tool calls,
 * finish_reason, usage). Returns 0, or TKD_EFORMAT with a reason in e when
 * the body is not a chat completion.
 */
int tkd_llm_parse_response(const char *body, size_t len, tkd_llm_tool_format fmt, tkd_llm_response *r, tkd_err *e);
/* The same with Jansson only (the reference the fast path is tested against). */
int tkd_llm_parse_response_jansson(const char *body, size_t len, tkd_llm_tool_format fmt, tkd_llm_response *r,
                                   tkd_err *e);
/* The fast path of tkd_llm_parse_response for replies without native tool
 * calls: 1 when r was filled exactly as the Jansson path fills it (tool calls
 * aside), 0 when it declined (r untouched). Exposed for its equivalence test. */
int tkd_llm_fast_parse(const char *body, size_t len, tkd_llm_response *r);
/* Tool calls written as <tool_call>{"name":..,"arguments":..}</tool_call> in text. */
int tkd_llm_parse_hermes(const char *text, tkd_llm_tool_call **calls, int *n, tkd_err *e);
/* Does a 400 body say the prompt exceeded the context length? */
int tkd_llm_is_context_length(const char *body);
/* Is this failure one of an endpoint that is down (connection refused or
 * reset, no reply, timeout, HTTP 502/503/504)? res is a CURLcode. */
int tkd_llm_is_outage(int res, long http_code);
/* Is this HTTP status retried? */
int tkd_llm_http_retryable(long code);
/* Retry-After value (delta seconds or HTTP-date) in seconds from now_wall;
 * returns 0 and sets *out, or -1 when it cannot be read. */
int tkd_llm_parse_retry_after(const char *value, double now_wall, double *out);
/* Full-jitter back-off for retry number attempt (1-based): uniform(0, min(cap, base*2^(attempt-1))),
 * never below retry_after_s. */
double tkd_llm_backoff(tkd_rng *rng, int attempt, double base_s, double cap_s, double retry_after_s);

/* ---- the response cache (one file per entry under dir/ab/abcdef...) ---- */
typedef struct tkd_llm_cache_entry {
    int http_code;
    tkd_llm_status status; /* OK or CONTEXT_LENGTH */
    double latency_s;
    int attempts, endpoint;
    char *body;
    size_t body_len;
} tkd_llm_cache_entry;

/* Returns 0 (hit), TKD_ENOTFOUND (miss; torn or corrupt entries are misses,
 * logged), or another TKD_E* on an unexpected error. */
int tkd_llm_cache_get(const char *dir, const char key[65], tkd_llm_cache_entry *out, tkd_err *e);
int tkd_llm_cache_put(const char *dir, const char key[65], const tkd_llm_cache_entry *ent, tkd_err *e);
/* As put, but an entry already there stays (the first writer wins, across
 * processes and nodes): 0 whether this entry or an earlier one is kept. */
int tkd_llm_cache_add(const char *dir, const char key[65], const tkd_llm_cache_entry *ent, tkd_err *e);
void tkd_llm_cache_entry_free(tkd_llm_cache_entry *ent);
/* A cached response, read as the network path reads it (from_cache = 1).
 * 0, or TKD_ENOTFOUND for a miss (unusable entries are misses, logged). */
int tkd_llm_cache_lookup(const char *dir, const char key[65], tkd_llm_tool_format fmt, tkd_llm_response **out);

#endif
