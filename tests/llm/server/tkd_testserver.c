/*
 * tkd_testserver: an OpenAI-compatible test double of a teacher endpoint
 * (POST /v1/chat/completions, GET /stats), for tests and benchmarks only;
 * tkd never depends on it. Binds 127.0.0.1 only and stops by itself after
 * --max-seconds.
 *
 * Replies come from a scripted teacher: --script FILE.jsonl holds lines
 *   {"problem": "ID", "turns": [{"tool_calls": [{"name": "...", "arguments": {...}}]},
 *                               {"content": "... \\boxed{42}", "reasoning": "..."}]}
 * (a turn may also set "finish_reason", e.g. "length", and "completion_tokens")
 * The problem id is read from the first "Problem id: ID" in any message, else
 * from the X-TKD-Tag header (a line whose "problem" is the whole tag wins:
 * back-translation requests are scripted per call and attempt, and GET /stats
 * counts the requests tagged per role); the turn is the number of assistant messages in
 * the request (past the last turn, the last turn repeats). Tool calls are
 * sent natively (message.tool_calls) or as <tool_call> blocks in the content
 * (--tool-format hermes). Without a script entry the reply is a deterministic
 * function of the request body.
 *
 * Latency (--latency-ms, --jitter-ms) and stalls are served by suspending the
 * connection (MHD_suspend_connection) and resuming it from a timer thread,
 * so thousands of slow requests cost no threads. Faults, each with its own
 * rate: --fault-429 (with Retry-After: --retry-after S), --fault-5xx,
 * --fault-stall (held --stall-ms, past the client's timeout), --fault-malformed
 * (200 with a body that is not a chat completion), --fault-truncate (a body
 * cut short of its Content-Length), --fault-drop (connection closed with no
 * reply), --fault-4xx (400 context length, 400, 404, 422 in turn).
 *
 * GET /stats counts what was received and checks the client from here: a
 * body seen again after a 4xx is a retried 4xx; a body seen again after a 429
 * sooner than its Retry-After is a violation.
 *
 * Outages: --start-after S holds the port (bound, not listening: connections
 * are refused) for S seconds before serving, so a test can start tkd against
 * a server that is down and comes up later, or restart a killed server on
 * the same port. The client's endpoint checks (X-TKD-Tag: tkd-health-check)
 * get no injected fault and are counted apart (health_checks), so they leave
 * the fault statistics alone.
 */
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { O_OK, O_429, O_5XX, O_STALL, O_MALFORMED, O_TRUNC, O_DROP, O_4XX, O_UNAUTH, O_BADREQ, O_N };
static const char *const outcome_name[O_N] = {"ok",        "429",     "5xx", "stall",        "malformed",
                                              "truncated", "dropped", "4xx", "unauthorized", "bad_request"};

#define SEEN_CAP (1u << 20) /* distinct request bodies remembered for the retry checks */

typedef struct seen {
    uint64_t h;
    double t; /* when its reply was sent (monotonic) */
    float retry_after;
    uint8_t outcome, used;
} seen;

typedef struct server {
    /* options */
    int port, threads;
    double latency_ms, jitter_ms, stall_ms, retry_after_s, max_seconds, start_after;
    double rate[O_N];
    int hermes, reasoning;
    const char *key; /* required bearer token, or NULL */
    json_t *script;  /* object: problem id -> turns array */
    /* state */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t rng;
    struct pend **heap;
    size_t heap_n, heap_cap;
    int stop;
    seen *seen;
    atomic_llong count[O_N], requests, in_flight, max_in_flight, health_checks;
    atomic_llong by_role[3]; /* requests tagged .../translator/..., /judge/, /rephrase/ */
    long long distinct, retried_4xx, ra_checked, ra_violations, counter_4xx, counter_5xx, counter_bad;
    double min_ra_ratio;
} server;

typedef struct pend { /* one request's state (con_cls) */
    server *s;
    struct MHD_Connection *conn;
    char *body;
    size_t len, cap;
    int phase; /* 0 receiving, 1 suspended, 2 resumed */
    int outcome, code;
    char *reply;
    size_t reply_len;
    double due;
    float retry_after;
} pend;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t fnv64(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h ? h : 1;
}

static double rnd(server *s) { /* under s->mu */
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (double)(s->rng >> 11) / 9007199254740992.0;
}

/* ---- the timer thread: resumes suspended connections when due ---- */

static void heap_push(server *s, pend *p) {
    if (s->heap_n == s->heap_cap) {
        s->heap_cap = s->heap_cap ? 2 * s->heap_cap : 1024;
        s->heap = realloc(s->heap, sizeof *s->heap * s->heap_cap);
        if (!s->heap) {
            fprintf(stderr, "tkd_testserver: out of memory\n");
            abort();
        }
    }
    size_t i = s->heap_n++;
    while (i > 0 && s->heap[(i - 1) / 2]->due > p->due) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = p;
}

static pend *heap_pop(server *s) {
    pend *top = s->heap[0], *last = s->heap[--s->heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= s->heap_n)
            break;
        size_t m = l + 1 < s->heap_n && s->heap[l + 1]->due < s->heap[l]->due ? l + 1 : l;
        if (s->heap[m]->due >= last->due)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->heap_n)
        s->heap[i] = last;
    return top;
}

static void *timer_main(void *arg) {
    server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->stop && !s->heap_n)
            break;
        if (!s->heap_n) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        double d = s->heap[0]->due - now_s();
        if (d > 0 && !s->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            double t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + d;
            ts.tv_sec = (time_t)t;
            ts.tv_nsec = (long)((t - floor(t)) * 1e9);
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
            continue;
        }
        pend *p = heap_pop(s);
        p->phase = 2;
        MHD_resume_connection(p->conn);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- replies ---- */

static const char *problem_id(json_t *req, const char *tag, char *buf, size_t cap) {
    json_t *msgs = json_object_get(req, "messages"), *m;
    size_t i;
    json_array_foreach(msgs, i, m) {
        const char *c = json_string_value(json_object_get(m, "content"));
        const char *p = c ? strstr(c, "Problem id: ") : NULL;
        if (p) {
            p += 12;
            size_t n = strcspn(p, " \t\r\n");
            if (n && n < cap) {
                memcpy(buf, p, n);
                buf[n] = 0;
                return buf;
            }
        }
    }
    return tag;
}

static char *ok_reply(server *s, json_t *req, const char *tag, uint64_t h, size_t req_len) {
    char idbuf[128];
    const char *pid = problem_id(req, tag, idbuf, sizeof idbuf);
    /* a script line may be keyed by the whole X-TKD-Tag (back-translation:
     * "ID#SAMPLE/translator/CALL/ATTEMPT", ".../judge/...", ".../rephrase/ATTEMPT") */
    json_t *turns = tag && s->script ? json_object_get(s->script, tag) : NULL;
    if (!turns)
        turns = pid && s->script ? json_object_get(s->script, pid) : NULL;
    size_t n_asst = 0, i;
    json_t *m;
    json_array_foreach(json_object_get(req, "messages"), i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        n_asst += role && !strcmp(role, "assistant");
    }
    json_t *msg = json_pack("{s:s}", "role", "assistant");
    const char *finish = "stop";
    long ct_script = -1;
    char text[160];
    if (json_array_size(turns)) {
        size_t t = n_asst < json_array_size(turns) ? n_asst : json_array_size(turns) - 1;
        json_t *turn = json_array_get(turns, t);
        const char *content = json_string_value(json_object_get(turn, "content"));
        json_t *calls = json_object_get(turn, "tool_calls");
        if (json_array_size(calls) && s->hermes) {
            json_t *c;
            size_t k;
            char *acc = strdup(content ? content : "");
            json_array_foreach(calls, k, c) {
                char *js = json_dumps(c, JSON_COMPACT);
                size_t n = strlen(acc) + strlen(js) + 40;
                char *nacc = malloc(n);
                snprintf(nacc, n, "%s\n<tool_call>\n%s\n</tool_call>", acc, js);
                free(acc);
                free(js);
                acc = nacc;
            }
            json_object_set_new(msg, "content", json_string(acc));
            free(acc);
        } else if (json_array_size(calls)) {
            json_t *arr = json_array(), *c;
            size_t k;
            json_array_foreach(calls, k, c) {
                char id[64];
                snprintf(id, sizeof id, "call_%zu_%zu", t, k);
                char *args =
                    json_dumps(json_object_get(c, "arguments") ? json_object_get(c, "arguments") : json_object(),
                               JSON_COMPACT | JSON_SORT_KEYS);
                json_array_append_new(arr,
                                      json_pack("{s:s, s:s, s:{s:O?, s:s}}", "id", id, "type", "function", "function",
                                                "name", json_object_get(c, "name"), "arguments", args ? args : "{}"));
                free(args);
            }
            json_object_set_new(msg, "content", content ? json_string(content) : json_null());
            json_object_set_new(msg, "tool_calls", arr);
            finish = "tool_calls";
        } else {
            json_object_set_new(msg, "content", json_string(content ? content : ""));
        }
        const char *rs = json_string_value(json_object_get(turn, "reasoning"));
        if (rs)
            json_object_set_new(msg, "reasoning_content", json_string(rs));
        if (json_is_string(json_object_get(turn, "finish_reason")))
            finish = json_string_value(json_object_get(turn, "finish_reason"));
        if (json_is_integer(json_object_get(turn, "completion_tokens")))
            ct_script = (long)json_integer_value(json_object_get(turn, "completion_tokens"));
    } else {
        snprintf(text, sizeof text, "Reply %016llx after %zu assistant turns. The answer is \\boxed{%llu}.",
                 (unsigned long long)h, n_asst, (unsigned long long)(h % 1000));
        json_object_set_new(msg, "content", json_string(text));
        if (s->reasoning)
            json_object_set_new(msg, "reasoning_content", json_string("Thinking about it."));
    }
    const char *content = json_string_value(json_object_get(msg, "content"));
    long ct = ct_script >= 0 ? ct_script : content ? (long)strlen(content) / 4 + 1 : 1, pt = (long)req_len / 4 + 1;
    char cid[40];
    snprintf(cid, sizeof cid, "chatcmpl-%016llx", (unsigned long long)h);
    json_t *model = json_object_get(req, "model");
    json_t *r = json_pack("{s:s, s:s, s:i, s:O?, s:[{s:i, s:o, s:s}], s:{s:i, s:i, s:i}}", "id", cid, "object",
                          "chat.completion", "created", 1700000000, "model", model, "choices", "index", 0, "message",
                          msg, "finish_reason", finish, "usage", "prompt_tokens", pt, "completion_tokens", ct,
                          "total_tokens", pt + ct);
    char *out = r ? json_dumps(r, JSON_COMPACT) : NULL;
    json_decref(r);
    return out;
}

/* Decide the outcome of one request and prepare its reply (status code and body). */
static void decide(server *s, pend *p, const char *auth, const char *tag) {
    uint64_t h = fnv64(p->body ? p->body : "", p->len);
    double now = now_s();
    if (tag && !strcmp(tag, "tkd-health-check")) { /* the client's endpoint check: no fault, no count */
        atomic_fetch_add(&s->health_checks, 1);
        json_t *req = json_loadb(p->body ? p->body : "", p->len, 0, NULL);
        int authorized = !s->key || (auth && !strncmp(auth, "Bearer ", 7) && !strcmp(auth + 7, s->key));
        p->outcome = authorized ? O_OK : O_UNAUTH;
        p->code = authorized ? 200 : 401;
        p->due = now;
        p->reply =
            authorized ? ok_reply(s, req, tag, h, p->len) : strdup("{\"error\":{\"message\":\"invalid api key\"}}");
        p->reply_len = p->reply ? strlen(p->reply) : 0;
        json_decref(req);
        return;
    }
    pthread_mutex_lock(&s->mu);
    double u = rnd(s), lat = s->latency_ms + s->jitter_ms * rnd(s);
    /* the retry checks */
    size_t i = (size_t)(h & (SEEN_CAP - 1));
    while (s->seen[i].used && s->seen[i].h != h)
        i = (i + 1) & (SEEN_CAP - 1);
    seen *sn = &s->seen[i];
    if (!sn->used) {
        sn->used = 1;
        sn->h = h;
        s->distinct++;
    } else {
        if (sn->outcome == O_4XX)
            s->retried_4xx++;
        if (sn->outcome == O_429 && sn->retry_after > 0) {
            double ratio = (now - sn->t) / sn->retry_after;
            s->ra_checked++;
            if (ratio < 0.98)
                s->ra_violations++;
            if (ratio < s->min_ra_ratio)
                s->min_ra_ratio = ratio;
        }
    }
    int o = O_OK;
    if (s->key && (!auth || strncmp(auth, "Bearer ", 7) || strcmp(auth + 7, s->key))) {
        o = O_UNAUTH;
    } else {
        double acc = 0;
        for (int k = O_429; k <= O_4XX; k++) {
            acc += s->rate[k];
            if (u < acc) {
                o = k;
                break;
            }
        }
    }
    long n4 = o == O_4XX ? s->counter_4xx++ : 0, n5 = o == O_5XX ? s->counter_5xx++ : 0,
         nb = o == O_MALFORMED ? s->counter_bad++ : 0;
    pthread_mutex_unlock(&s->mu);

    json_error_t je;
    json_t *req = o == O_OK || o == O_TRUNC ? json_loadb(p->body ? p->body : "", p->len, 0, &je) : NULL;
    if ((o == O_OK || o == O_TRUNC) && !json_is_array(json_object_get(req, "messages")))
        o = O_BADREQ;
    p->outcome = o;
    p->code = 200;
    p->due = now + (o == O_STALL ? s->stall_ms : lat) / 1000.0;
    static const char *const c4[] = {
        "{\"error\":{\"message\":\"This model's maximum context length is 4096 tokens.\",\"type\":"
        "\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}",
        "{\"error\":{\"message\":\"invalid parameter\",\"type\":\"invalid_request_error\"}}",
        "{\"error\":{\"message\":\"model not found\",\"type\":\"not_found\"}}",
        "{\"error\":{\"message\":\"unprocessable\",\"type\":\"invalid_request_error\"}}"};
    static const int c4code[] = {400, 400, 404, 422};
    static const int c5[] = {500, 502, 503, 504};
    static const char *const bad[] = {"{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"cut",
                                      "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[]}",
                                      "<html>bad gateway</html>", ""};
    const char *fixed = NULL;
    switch (o) {
    case O_OK:
    case O_TRUNC: p->reply = ok_reply(s, req, tag, h, p->len); break;
    case O_429:
        p->code = 429;
        p->retry_after = (float)s->retry_after_s;
        fixed = "{\"error\":{\"message\":\"rate limited\",\"type\":\"rate_limit\"}}";
        break;
    case O_5XX:
        p->code = c5[n5 % 4];
        fixed = "{\"error\":{\"message\":\"server error\"}}";
        break;
    case O_4XX:
        p->code = c4code[n4 % 4];
        fixed = c4[n4 % 4];
        break;
    case O_MALFORMED: fixed = bad[nb % 4]; break;
    case O_UNAUTH:
        p->code = 401;
        fixed = "{\"error\":{\"message\":\"invalid api key\"}}";
        break;
    case O_BADREQ:
        p->code = 400;
        fixed = "{\"error\":{\"message\":\"request body is not a chat request\"}}";
        break;
    default: fixed = "";
    }
    json_decref(req);
    if (fixed)
        p->reply = strdup(fixed);
    p->reply_len = p->reply ? strlen(p->reply) : 0;
    atomic_fetch_add(&s->count[o], 1);
    pthread_mutex_lock(&s->mu);
    sn->outcome = (uint8_t)o;
    sn->t = p->due; /* the reply leaves when due */
    sn->retry_after = p->retry_after;
    pthread_mutex_unlock(&s->mu);
}

/* Truncated bodies: announce the full length, send half, then fail. */
static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    pend *p = cls;
    size_t half = p->reply_len / 2;
    if (pos >= half)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = half - (size_t)pos < max ? half - (size_t)pos : max;
    memcpy(buf, p->reply + pos, n);
    return (ssize_t)n;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, pend *p) {
    server *s = p->s;
    if (s->stop || p->outcome == O_DROP || !p->reply)
        return MHD_NO; /* closes the connection without a reply */
    struct MHD_Response *r = p->outcome == O_TRUNC
                                 ? MHD_create_response_from_callback(p->reply_len, 4096, trunc_reader, p, NULL)
                                 : MHD_create_response_from_buffer(p->reply_len, p->reply, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (p->code == 429) {
        char ra[32];
        snprintf(ra, sizeof ra, "%g", s->retry_after_s);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)p->code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result json_reply(struct MHD_Connection *conn, unsigned code, const char *text) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result stats_reply(struct MHD_Connection *conn, server *s) {
    json_t *o = json_object();
    for (int k = 0; k < O_N; k++)
        json_object_set_new(o, outcome_name[k], json_integer(atomic_load(&s->count[k])));
    pthread_mutex_lock(&s->mu);
    json_object_set_new(o, "requests", json_integer(atomic_load(&s->requests)));
    json_object_set_new(o, "in_flight", json_integer(atomic_load(&s->in_flight)));
    json_object_set_new(o, "health_checks", json_integer(atomic_load(&s->health_checks)));
    json_object_set_new(o, "max_in_flight", json_integer(atomic_load(&s->max_in_flight)));
    json_object_set_new(o, "bt_translator", json_integer(atomic_load(&s->by_role[0])));
    json_object_set_new(o, "bt_judge", json_integer(atomic_load(&s->by_role[1])));
    json_object_set_new(o, "bt_rephrase", json_integer(atomic_load(&s->by_role[2])));
    json_object_set_new(o, "distinct_bodies", json_integer(s->distinct));
    json_object_set_new(o, "retried_after_4xx", json_integer(s->retried_4xx));
    json_object_set_new(o, "retry_after_checked", json_integer(s->ra_checked));
    json_object_set_new(o, "retry_after_violations", json_integer(s->ra_violations));
    json_object_set_new(o, "min_retry_after_ratio", s->ra_checked ? json_real(s->min_ra_ratio) : json_null());
    pthread_mutex_unlock(&s->mu);
    char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    enum MHD_Result rc = json_reply(conn, 200, t ? t : "{}");
    free(t);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    server *s = cls;
    if (!strcmp(method, "GET")) {
        if (!strcmp(url, "/stats"))
            return stats_reply(conn, s);
        if (!strcmp(url, "/v1/models"))
            return json_reply(conn, 200,
                              "{\"object\":\"list\",\"data\":[{\"id\":\"test-model\",\"object\":\"model\"}]}");
        return json_reply(conn, 404, "{\"error\":{\"message\":\"not found\"}}");
    }
    if (strcmp(method, "POST") || strcmp(url, "/v1/chat/completions"))
        return json_reply(conn, 404, "{\"error\":{\"message\":\"not found\"}}");
    pend *p = *con_cls;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        p->s = s;
        p->conn = conn;
        *con_cls = p;
        long long f = atomic_fetch_add(&s->in_flight, 1) + 1, m = atomic_load(&s->max_in_flight);
        while (f > m && !atomic_compare_exchange_weak(&s->max_in_flight, &m, f))
            ;
        return MHD_YES;
    }
    if (*upload_size) {
        if (p->len + *upload_size + 1 > p->cap) {
            size_t nc = (p->len + *upload_size + 1) * 2;
            char *nb = realloc(p->body, nc);
            if (!nb)
                return MHD_NO;
            p->body = nb;
            p->cap = nc;
        }
        memcpy(p->body + p->len, upload, *upload_size);
        p->len += *upload_size;
        p->body[p->len] = 0;
        *upload_size = 0;
        return MHD_YES;
    }
    if (p->phase == 2)
        return send_reply(conn, p);
    const char *tag = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-TKD-Tag");
    if (!tag || strcmp(tag, "tkd-health-check"))
        atomic_fetch_add(&s->requests, 1);
    {
        static const char *const roles[3] = {"/translator/", "/judge/", "/rephrase/"};
        for (int k = 0; k < 3 && tag; k++)
            if (strstr(tag, roles[k]))
                atomic_fetch_add(&s->by_role[k], 1);
    }
    decide(s, p, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-TKD-Tag"));
    if (p->due <= now_s())
        return send_reply(conn, p);
    pthread_mutex_lock(&s->mu);
    if (s->stop) {
        pthread_mutex_unlock(&s->mu);
        return MHD_NO;
    }
    p->phase = 1;
    MHD_suspend_connection(conn);
    heap_push(s, p);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t) {
    (void)conn;
    (void)t;
    server *s = cls;
    pend *p = *con_cls;
    if (!p)
        return;
    atomic_fetch_sub(&s->in_flight, 1);
    free(p->body);
    free(p->reply);
    free(p);
    *con_cls = NULL;
}

static int load_script(server *s, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "tkd_testserver: cannot open script %s\n", path);
        return -1;
    }
    s->script = json_object();
    char *line = NULL;
    size_t cap = 0;
    int ln = 0;
    while (getline(&line, &cap, f) > 0) {
        ln++;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        const char *id = json_string_value(json_object_get(j, "problem"));
        if (!j && strspn(line, " \t\r\n") == strlen(line))
            continue;
        if (!id || !json_is_array(json_object_get(j, "turns"))) {
            fprintf(stderr, "tkd_testserver: %s:%d: expected {\"problem\": ID, \"turns\": [...]}\n", path, ln);
            json_decref(j);
            free(line);
            fclose(f);
            return -1;
        }
        json_object_set(s->script, id, json_object_get(j, "turns"));
        json_decref(j);
    }
    free(line);
    fclose(f);
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: tkd_testserver [--port N] [--threads N] [--latency-ms MS] [--jitter-ms MS]\n"
                    "         [--fault-429 R] [--fault-5xx R] [--fault-stall R] [--fault-malformed R]\n"
                    "         [--fault-truncate R] [--fault-drop R] [--fault-4xx R] [--fault-all R]\n"
                    "         [--retry-after S] [--stall-ms MS] [--script FILE.jsonl] [--tool-format native|hermes]\n"
                    "         [--reasoning] [--require-key-env NAME] [--seed N] [--max-seconds S]\n"
                    "         [--start-after S]\n"
                    "prints 'port N' on stdout once listening; GET /stats returns counts\n");
}

int main(int argc, char **argv) {
    static server s;
    s.threads = 2;
    s.stall_ms = 30000;
    s.retry_after_s = 1;
    s.max_seconds = 600;
    s.rng = 0x9e3779b97f4a7c15ull;
    s.min_ra_ratio = 1e9;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int flag = !strcmp(a, "--reasoning");
        if (flag) {
            s.reasoning = 1;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        i++;
        double d = atof(v);
        if (!strcmp(a, "--port"))
            s.port = atoi(v);
        else if (!strcmp(a, "--threads"))
            s.threads = atoi(v);
        else if (!strcmp(a, "--latency-ms"))
            s.latency_ms = d;
        else if (!strcmp(a, "--jitter-ms"))
            s.jitter_ms = d;
        else if (!strcmp(a, "--stall-ms"))
            s.stall_ms = d;
        else if (!strcmp(a, "--retry-after"))
            s.retry_after_s = d;
        else if (!strcmp(a, "--start-after"))
            s.start_after = d;
        else if (!strcmp(a, "--max-seconds"))
            s.max_seconds = d;
        else if (!strcmp(a, "--seed"))
            s.rng = strtoull(v, NULL, 10) * 2654435761ull + 1;
        else if (!strcmp(a, "--fault-429"))
            s.rate[O_429] = d;
        else if (!strcmp(a, "--fault-5xx"))
            s.rate[O_5XX] = d;
        else if (!strcmp(a, "--fault-stall"))
            s.rate[O_STALL] = d;
        else if (!strcmp(a, "--fault-malformed"))
            s.rate[O_MALFORMED] = d;
        else if (!strcmp(a, "--fault-truncate"))
            s.rate[O_TRUNC] = d;
        else if (!strcmp(a, "--fault-drop"))
            s.rate[O_DROP] = d;
        else if (!strcmp(a, "--fault-4xx"))
            s.rate[O_4XX] = d;
        else if (!strcmp(a, "--fault-all"))
            for (int k = O_429; k <= O_4XX; k++)
                s.rate[k] = d;
        else if (!strcmp(a, "--tool-format"))
            s.hermes = !strcmp(v, "hermes");
        else if (!strcmp(a, "--script")) {
            if (load_script(&s, v))
                return 2;
        } else if (!strcmp(a, "--require-key-env")) {
            s.key = getenv(v);
            if (!s.key || !*s.key) {
                fprintf(stderr, "tkd_testserver: $%s is not set\n", v);
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    s.seen = calloc(SEEN_CAP, sizeof *s.seen);
    if (!s.seen)
        return 1;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit the mask; main waits for them */
    pthread_t timer;
    pthread_create(&timer, NULL, timer_main, &s);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)s.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s.start_after > 0) { /* down: hold the port, refuse connections, then serve on it */
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        socklen_t sl = sizeof sa;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || getsockname(fd, (struct sockaddr *)&sa, &sl)) {
            fprintf(stderr, "tkd_testserver: cannot bind 127.0.0.1:%d\n", s.port);
            return 1;
        }
        printf("port %u\n", (unsigned)ntohs(sa.sin_port));
        fflush(stdout);
        struct timespec wait = {(time_t)s.start_after, (long)((s.start_after - floor(s.start_after)) * 1e9)};
        if (sigtimedwait(&set, NULL, &wait) > 0)
            return 0; /* stopped while down */
        close(fd);
        s.port = ntohs(sa.sin_port);
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, handler, &s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s.threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)60000, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
        MHD_OPTION_NOTIFY_COMPLETED, completed, &s, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "tkd_testserver: cannot listen on 127.0.0.1:%d\n", s.port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (s.start_after <= 0)
        printf("port %u\n", info ? (unsigned)info->port : (unsigned)s.port);
    fflush(stdout);
    struct timespec ts = {(time_t)s.max_seconds, (long)((s.max_seconds - floor(s.max_seconds)) * 1e9)};
    int sig = sigtimedwait(&set, NULL, &ts);
    (void)sig;
    pthread_mutex_lock(&s.mu);
    s.stop = 1; /* the timer thread resumes everything still suspended, then ends */
    pthread_cond_signal(&s.cv);
    pthread_mutex_unlock(&s.mu);
    pthread_join(timer, NULL);
    usleep(200000); /* let MHD run the resumed connections to their end */
    MHD_stop_daemon(d);
    json_decref(s.script);
    free(s.heap);
    free(s.seen);
    return 0;
}
