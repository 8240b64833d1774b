/*
 * llm_health: outages are waited out, not recorded as results.
 *
 * A teacher that is down (vLLM still loading its weights, or restarting
 * after running out of memory) refuses connections or answers 502/503/504
 * through its gateway; every request would fail within a second and its
 * sample would be written as api_error. Instead, when every endpoint has
 * failed TKD_LLM_OUTAGE_FAILS times in a row with such failures (or before a
 * phase, tkd_llm_check), the client checks each endpoint: GET BASE/models,
 * then a minimal chat request (tagged X-TKD-Tag: tkd-health-check). While
 * no endpoint answers, the state is DOWN: nothing is sent, the requests that
 * failed are held, and checks repeat after 1, 2, 4 ... up to
 * TKD_LLM_HEALTH_CHECK_MAX_S seconds. When one answers, the held requests go
 * out again first, their failed attempts not charged to max_retries or the
 * retry budget. After wait_for_endpoint_s the client gives up: every request
 * still waiting ends TKD_LLM_UNAVAILABLE, with a message naming each
 * endpoint and what it answered.
 *
 * A check that finds the endpoints answering means the failures were a
 * flaky endpoint's after all: the held requests then go through the usual
 * charged retry. An endpoint that answers the first check with a refusal
 * (401/403: the key; 404/400: the model name) is a configuration error that
 * waiting does not fix: TKD_LLM_REFUSED.
 */
#include "llm_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_MAX_BODY (64u << 10) /* bytes of a check's reply kept */

enum { PROBE_NONE = 0, PROBE_UP, PROBE_DOWN, PROBE_REFUSED };

const char *tkd_llm_health_name(tkd_llm_health h) {
    static const char *n[] = {"up", "checking", "down", "gave_up", "refused"};
    return (unsigned)h <= TKD_LLM_REFUSED ? n[h] : "unknown";
}

int llm_health_init(tkd_llm *c, tkd_err *e) {
    struct curl_slist *h = NULL, *t;
    for (struct curl_slist *s = c->hdrs; s; s = s->next) {
        if (!(t = curl_slist_append(h, s->data)))
            goto nomem;
        h = t;
    }
    if (!(t = curl_slist_append(h, "X-TKD-Tag: " TKD_LLM_HEALTH_TAG)))
        goto nomem;
    c->check_hdrs = t;
    json_t *b = json_pack("{s:s, s:[{s:s, s:s}], s:i, s:f}", "model", c->model, "messages", "role", "user", "content",
                          "Reply with OK.", "max_tokens", 1, "temperature", 0.0);
    c->check_body = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(b);
    if (!c->check_body)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    return 0;
nomem:
    curl_slist_free_all(h);
    return tkd_err_set(e, TKD_ENOMEM, "out of memory");
}

void llm_health_free(tkd_llm *c) {
    for (int i = 0; i < c->n_eps; i++) {
        job *j = c->eps[i].probe;
        if (!j)
            continue;
        curl_multi_remove_handle(c->multi, j->easy);
        curl_easy_cleanup(j->easy);
        llm_job_free(j);
        c->eps[i].probe = NULL;
    }
    curl_slist_free_all(c->check_hdrs);
    c->check_hdrs = NULL;
    free(c->check_body);
    c->check_body = NULL;
}

/* The base URL of endpoint i (its models URL without "/models"), for messages. */
static int base_len(const endpoint *ep) {
    return (int)strlen(ep->models_url) - 7;
}

static void conclude(tkd_llm *c);

static void verdict(tkd_llm *c, int i, int v, const char *fmt, ...) {
    endpoint *ep = &c->eps[i];
    ep->verdict = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ep->why, sizeof ep->why, fmt, ap);
    va_end(ap);
    for (int k = 0; k < c->n_eps; k++)
        if (c->eps[k].verdict == PROBE_NONE)
            return;
    conclude(c);
}

static size_t check_write(char *p, size_t size, size_t n, void *userp) {
    job *j = userp;
    size_t bytes = size * n;
    if (j->rx.len + bytes <= CHECK_MAX_BODY)
        tkd_buf_append(&j->rx, p, bytes); /* a longer or unstorable reply is judged by its status */
    return bytes;
}

static void probe_start(tkd_llm *c, int i, int kind) {
    endpoint *ep = &c->eps[i];
    job *j = calloc(1, sizeof *j);
    CURL *e = j ? curl_easy_init() : NULL;
    if (!e) {
        free(j);
        verdict(c, i, PROBE_DOWN, "out of memory starting a check");
        return;
    }
    tkd_buf_init(&j->rx);
    j->probe = kind;
    j->ep = i;
    j->easy = e;
    ep->errbuf[0] = '\0';
    double total = c->cfg.timeout_s < TKD_LLM_HEALTH_TIMEOUT_S ? c->cfg.timeout_s : TKD_LLM_HEALTH_TIMEOUT_S;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_URL, kind == 1 ? ep->models_url : ep->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->check_hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, check_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ep->errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->cfg.connect_timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(total * 1000));
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     c->cfg.http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tkd/" TKD_VERSION);
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    if (kind == 1)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->check_body);
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        llm_job_free(j);
        verdict(c, i, PROBE_DOWN, "curl refused a check transfer");
        return;
    }
    ep->probe = j;
}

static void check_start(tkd_llm *c) {
    c->probing = 1;
    c->st.health_checks++;
    for (int i = 0; i < c->n_eps; i++) {
        c->eps[i].verdict = PROBE_NONE;
        c->eps[i].why[0] = '\0';
    }
    for (int i = 0; i < c->n_eps && c->probing; i++)
        probe_start(c, i, 1);
}

/* error.message of a JSON error body, else the start of the body, printable. */
static void body_excerpt(const tkd_buf *rx, char *out, size_t cap) {
    json_t *j = rx->len ? json_loadb(rx->data, rx->len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    if (!m)
        m = json_string_value(json_object_get(j, "message"));
    if (m)
        snprintf(out, cap, "%s", m);
    else
        snprintf(out, cap, "%.*s", rx->len > 100 ? 100 : (int)rx->len, rx->data ? rx->data : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    json_decref(j);
}

void llm_health_probe_done(tkd_llm *c, job *j, CURLcode res) {
    long code = 0, oserr = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(j->easy, CURLINFO_OS_ERRNO, &oserr);
    curl_multi_remove_handle(c->multi, j->easy);
    curl_easy_cleanup(j->easy);
    j->easy = NULL;
    int i = j->ep, kind = j->probe;
    endpoint *ep = &c->eps[i];
    ep->probe = NULL;
    const char *what = kind == 1 ? "GET /models" : "a minimal chat request";
    char ex[160];
    body_excerpt(&j->rx, ex, sizeof ex);
    if (res != CURLE_OK) {
        const char *os = oserr ? strerror((int)oserr) : NULL; /* curl 7.88 says "Couldn't connect" for a refusal */
        verdict(c, i, PROBE_DOWN, "%s: %s%s%s%s", what, ep->errbuf[0] ? ep->errbuf : curl_easy_strerror(res),
                os ? " (" : "", os ? os : "", os ? ")" : "");
    } else if (code == 401 || code == 403) {
        verdict(c, i, PROBE_REFUSED, "%s: HTTP %ld (%s): is the API key right (teacher.api_key_env)?", what, code, ex);
    } else if (code >= 500 || code == 408) {
        verdict(c, i, PROBE_DOWN, "%s: HTTP %ld", what, code);
    } else if (kind == 1) {
        probe_start(c, i, 2); /* a server without /models (404) may still chat */
    } else if (code == 200 || code == 429) {
        tkd_llm_response *r = calloc(1, sizeof *r);
        tkd_err pe = {0};
        int ok = code == 429 || (r && tkd_llm_parse_response(j->rx.data, j->rx.len, c->cfg.tool_format, r, &pe) == 0);
        tkd_llm_response_free(r);
        if (ok)
            verdict(c, i, PROBE_UP, "answers");
        else
            verdict(c, i, PROBE_DOWN, "%s: HTTP 200 but not a chat completion (%.80s)", what, r ? pe.msg : "");
    } else {
        verdict(c, i, PROBE_REFUSED, "%s: HTTP %ld (%s): is teacher.model ('%s') served there?", what, code, ex,
                c->model);
    }
    llm_job_free(j);
}

/* Put the held requests back in line: free of charge after a confirmed
 * outage, else as the ordinary failures they were. */
static void release_held(tkd_llm *c, int outage) {
    job *j;
    while ((j = llm_q_pop(&c->held))) {
        if (!outage) {
            llm_retry_charged(c, j);
            continue;
        }
        tkd_buf_reset(&j->rx);
        c->st.outage_retries++;
        llm_q_push(&c->ready_retry, j);
    }
}

static void finish_all(tkd_llm *c, queue *q) {
    job *j;
    while ((j = llm_q_pop(q)))
        llm_finish(c, j, TKD_LLM_UNAVAILABLE, c->why);
}

static void give_up(tkd_llm *c) {
    char list[sizeof c->why];
    memcpy(list, c->why, sizeof list);
    snprintf(c->why, sizeof c->why, "no teacher endpoint answered for %.0f s (teacher.wait_for_endpoint_s = %g): %s",
             tkd_now() - c->down_since, c->cfg.wait_for_endpoint_s, list);
    c->health = TKD_LLM_GAVE_UP;
    tkd_log_warn("teacher: giving up after %.0f s down; every waiting request ends 'unavailable'",
                 tkd_now() - c->down_since);
    llm_health_tick(c);
}

/* Every endpoint has a verdict: decide the state. */
static void conclude(tkd_llm *c) {
    c->probing = 0;
    int up = 0, refused = 0;
    size_t n = 0;
    c->why[0] = '\0';
    for (int i = 0; i < c->n_eps; i++) {
        endpoint *ep = &c->eps[i];
        up += ep->verdict == PROBE_UP;
        refused += ep->verdict == PROBE_REFUSED;
        if (ep->verdict != PROBE_UP && n < sizeof c->why)
            n += (size_t)snprintf(c->why + n, sizeof c->why - n, "%s%.*s: %s", n ? "; " : "", base_len(ep),
                                  ep->models_url, ep->why);
    }
    double now = tkd_now();
    if (refused && !up && c->initial) {
        c->health = TKD_LLM_REFUSED;
        return;
    }
    if (up || refused) { /* the endpoints answer (a refusal mid-run is the requests' own business) */
        int was_down = c->health == TKD_LLM_DOWN;
        for (int i = 0; i < c->n_eps; i++)
            if (c->eps[i].verdict != PROBE_DOWN)
                c->eps[i].out_fails = 0;
        if (was_down) {
            tkd_log_info("teacher: an endpoint answers again after %.0f s; re-sending %d held requests",
                         now - c->down_since, c->held.n);
            if (c->limit < c->limit_before) /* the gateway's 503s said "down", not "overloaded" */
                c->limit = c->limit_before;
        } else if (!c->initial)
            tkd_log_debug("teacher: the endpoints answer; %d failed requests retried as usual", c->held.n);
        c->health = TKD_LLM_UP;
        c->initial = 0;
        c->why[0] = '\0';
        release_held(c, was_down);
        return;
    }
    if (c->health == TKD_LLM_CHECKING) {
        c->health = TKD_LLM_DOWN;
        c->check_delay = TKD_LLM_HEALTH_CHECK_MIN_S;
        for (job *j = c->held.head; j; j = j->next)
            j->outage_attempts++;
        tkd_log_warn("teacher: no endpoint answers (%s); holding %d requests, checking again with back-off for up "
                     "to %g s (teacher.wait_for_endpoint_s)",
                     c->why, c->held.n, c->cfg.wait_for_endpoint_s);
    } else {
        c->check_delay =
            c->check_delay * 2 > TKD_LLM_HEALTH_CHECK_MAX_S ? TKD_LLM_HEALTH_CHECK_MAX_S : c->check_delay * 2;
        tkd_log_debug("teacher: still down after %.0f s: %s", now - c->down_since, c->why);
    }
    double deadline = c->down_since + c->cfg.wait_for_endpoint_s;
    if (now >= deadline) {
        give_up(c);
        return;
    }
    c->next_check = now + c->check_delay < deadline ? now + c->check_delay : deadline;
}

int llm_health_hold(tkd_llm *c, job *j) {
    c->eps[j->ep].out_fails++;
    switch (c->health) {
    case TKD_LLM_GAVE_UP: llm_finish(c, j, TKD_LLM_UNAVAILABLE, c->why); return 1;
    case TKD_LLM_REFUSED: return 0;
    case TKD_LLM_UP:
        for (int i = 0; i < c->n_eps; i++)
            if (c->eps[i].out_fails < TKD_LLM_OUTAGE_FAILS)
                return 0;
        c->health = TKD_LLM_CHECKING;
        c->initial = 0;
        c->limit_before = c->limit;
        c->down_since = tkd_now();
        c->down_wall = tkd_wall_time();
        tkd_log_debug("teacher: every endpoint failed %d times in a row (last: %s): checking them",
                      TKD_LLM_OUTAGE_FAILS, j->last_error);
        break;
    case TKD_LLM_DOWN: j->outage_attempts++; break;
    case TKD_LLM_CHECKING: break;
    }
    llm_q_push(&c->held, j);
    return 1;
}

void llm_health_alive(tkd_llm *c, int ep) {
    c->eps[ep].out_fails = 0;
    if (c->health == TKD_LLM_DOWN && !c->probing)
        c->next_check = 0; /* a reply from a request sent before the outage: check now */
}

void llm_health_tick(tkd_llm *c) {
    if (!c->probing && (c->health == TKD_LLM_CHECKING || (c->health == TKD_LLM_DOWN && tkd_now() >= c->next_check)))
        check_start(c);
    if (c->health == TKD_LLM_GAVE_UP) {
        finish_all(c, &c->held);
        finish_all(c, &c->ready_retry);
        finish_all(c, &c->ready);
        while (c->heap_n)
            llm_finish(c, llm_heap_pop(c), TKD_LLM_UNAVAILABLE, c->why);
    }
}

double llm_health_due(const tkd_llm *c, double now) {
    if (c->probing)
        return -1; /* curl's timers */
    if (c->health == TKD_LLM_CHECKING)
        return 0;
    if (c->health == TKD_LLM_DOWN)
        return c->next_check > now ? c->next_check - now : 0;
    return -1;
}

int llm_health_sending(const tkd_llm *c) {
    return c->health != TKD_LLM_DOWN && c->health != TKD_LLM_GAVE_UP;
}

/* ---- public ---- */

void tkd_llm_check(tkd_llm *c) {
    if (c->health != TKD_LLM_UP)
        return;
    c->health = TKD_LLM_CHECKING;
    c->initial = 1;
    c->down_since = tkd_now();
    c->down_wall = tkd_wall_time();
}

int tkd_llm_paused(const tkd_llm *c) {
    return c->health != TKD_LLM_UP;
}

tkd_llm_health tkd_llm_health_get(const tkd_llm *c, tkd_llm_health_info *h) {
    if (h) {
        memset(h, 0, sizeof *h);
        double now = tkd_now();
        h->state = c->health;
        if (c->health == TKD_LLM_DOWN || c->health == TKD_LLM_GAVE_UP || c->health == TKD_LLM_CHECKING)
            h->down_since = c->down_wall;
        if (c->health == TKD_LLM_DOWN) {
            h->next_check_s = c->probing || c->next_check <= now ? 0 : c->next_check - now;
            double left = c->down_since + c->cfg.wait_for_endpoint_s - now;
            h->wait_left_s = left > 0 ? left : 0;
        }
        h->held = c->held.n;
        snprintf(h->why, sizeof h->why, "%s", c->why);
    }
    return c->health;
}
