/*
 * llm_client: the teacher client's event loop. libcurl's multi interface in
 * socket mode (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION) over one epoll fd, so
 * thousands of requests in flight cost one epoll_wait per turn and the
 * caller's own loop (MPI_Iprobe, tool workers) can wait on the same fd.
 *
 * A request ("job") moves: submitted -> ready queue -> on the wire ->
 * done queue, or -> back-off heap -> ready queue (a retry). Retries are
 * served before fresh requests. The number on the wire is bounded by an
 * adaptive limit (AIMD: +1 per success, halved when 429/503 make up 10% of
 * the last second's replies) and, per endpoint, by the connection cap.
 */
#include "llm_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define TAG_MAX 200             /* bytes of a request tag kept for the X-TKD-Tag header */
#define H2_STREAMS_PER_CONN 100 /* streams one HTTP/2 connection carries */
#define EPOLL_BATCH 512
#define ENDPOINT_DOWN_MAX_S 30.0 /* longest an unreachable endpoint is skipped */

/* ---- small queues and the back-off heap ---- */

void llm_q_push(queue *q, job *j) {
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->n++;
}

job *llm_q_pop(queue *q) {
    job *j = q->head;
    if (j) {
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->n--;
        j->next = NULL;
    }
    return j;
}

static int heap_push(tkd_llm *c, job *j) {
    if (c->heap_n == c->heap_cap) {
        size_t nc = c->heap_cap ? c->heap_cap * 2 : 64;
        job **p = realloc(c->heap, sizeof *p * nc);
        if (!p)
            return TKD_ENOMEM;
        c->heap = p;
        c->heap_cap = nc;
    }
    size_t i = c->heap_n++;
    while (i > 0 && c->heap[(i - 1) / 2]->t_due > j->t_due) {
        c->heap[i] = c->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->heap[i] = j;
    return 0;
}

job *llm_heap_pop(tkd_llm *c) {
    job *top = c->heap[0], *last = c->heap[--c->heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= c->heap_n)
            break;
        size_t m = l + 1 < c->heap_n && c->heap[l + 1]->t_due < c->heap[l]->t_due ? l + 1 : l;
        if (c->heap[m]->t_due >= last->t_due)
            break;
        c->heap[i] = c->heap[m];
        i = m;
    }
    if (c->heap_n)
        c->heap[i] = last;
    return top;
}

void llm_job_free(job *j) {
    if (!j)
        return;
    free(j->body);
    free(j->tag);
    curl_slist_free_all(j->hdrs);
    tkd_buf_free(&j->rx);
    tkd_llm_response_free(j->resp);
    free(j);
}

/* ---- curl callbacks ---- */

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)e;
    tkd_llm *c = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, s, NULL); /* may already be gone with the socket */
        return 0;
    }
    /* socketp remembers the events registered (+1), so unchanged interest costs no syscall */
    uint32_t want =
        ((what & CURL_POLL_IN) ? (uint32_t)EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? (uint32_t)EPOLLOUT : 0u);
    intptr_t had = (intptr_t)socketp;
    if (had == (intptr_t)want + 1)
        return 0;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.data.fd = s;
    ev.events = want;
    int rc = epoll_ctl(c->epfd, had ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
    if (rc != 0 && errno == ENOENT)
        rc = epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev);
    else if (rc != 0 && errno == EEXIST)
        rc = epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev);
    curl_multi_assign(c->multi, s, rc == 0 ? (void *)((intptr_t)want + 1) : NULL);
    return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp) {
    (void)m;
    tkd_llm *c = userp;
    c->curl_deadline = timeout_ms < 0 ? -1 : tkd_now() + (double)timeout_ms / 1000.0;
    return 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *userp) {
    job *j = userp;
    size_t bytes = size * n;
    if (j->rx.len + bytes > TKD_LLM_MAX_BODY_BYTES || tkd_buf_append(&j->rx, p, bytes))
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    return bytes;
}

/* A server may send its whole answer before it has read the whole request
 * (nginx's own `return`, or a 413 or 401 from a gateway) and then reset the
 * stream (RFC 9113 8.1: the client keeps the answer). libcurl 7.88 then
 * reports a stream error, or over HTTP/2 keeps the stream open, spinning,
 * until the timeout. So a transfer whose answer has fully arrived while its
 * upload has not is ended here, and the answer kept (see answered_whole). */
static int progress_cb(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)userp;
    return dltotal > 0 && dlnow >= dltotal && ulnow < ultotal;
}

/* The status line and exactly Content-Length bytes arrived, whatever became
 * of the transfer afterwards. */
static int answered_whole(CURL *easy, long code, const job *j) {
    curl_off_t length = -1;
    curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    return code >= 200 && length >= 0 && (size_t)length == j->rx.len;
}

/* ---- create / free ---- */

static CURL *easy_new(tkd_llm *c) {
    if (c->n_idle)
        return c->idle[--c->n_idle];
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 0L); /* never: it would print the Authorization header */
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->cfg.connect_timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->cfg.timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     c->cfg.http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, c->cfg.http2 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tkd/" TKD_VERSION);
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    return e;
}

static void easy_release(tkd_llm *c, CURL *e) {
    if (c->n_idle == c->cap_idle) {
        int nc = c->cap_idle ? c->cap_idle * 2 : 64;
        CURL **p = realloc(c->idle, sizeof *p * (size_t)nc);
        if (!p) {
            curl_easy_cleanup(e);
            return;
        }
        c->idle = p;
        c->cap_idle = nc;
    }
    c->idle[c->n_idle++] = e;
}

int tkd_llm_create(const tkd_llm_config *cfg, tkd_llm **out, tkd_err *e) {
    *out = NULL;
    if (!cfg->model || !cfg->model[0])
        return tkd_err_set(e, TKD_EINVAL, "teacher.model is empty: name the model the server serves");
    if (cfg->n_base_urls < 1 || cfg->n_base_urls > TKD_LLM_MAX_ENDPOINTS)
        return tkd_err_set(e, TKD_EINVAL, "teacher.base_urls must list 1 to %d URLs (e.g. [\"http://host:8000/v1\"])",
                           TKD_LLM_MAX_ENDPOINTS);
    if (cfg->max_in_flight < 1 || cfg->max_connections_per_endpoint < 1)
        return tkd_err_set(e, TKD_EINVAL, "teacher.max_in_flight and max_connections_per_endpoint must be >= 1");
    if (cfg->cache != TKD_LLM_CACHE_OFF && (!cfg->cache_dir || !cfg->cache_dir[0]))
        return tkd_err_set(e, TKD_EINVAL, "teacher.cache_dir is empty while the cache is on");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return tkd_err_set(e, TKD_ENET, "libcurl could not be initialised");
    tkd_llm *c = tkd_calloc(1, sizeof *c, e);
    if (!c)
        return TKD_ENOMEM;
    c->cfg = *cfg;
    c->epfd = -1;
    c->curl_deadline = -1;
    int rc = 0;
    c->model = tkd_strdup(cfg->model, e);
    c->cache_dir = tkd_strdup(cfg->cache_dir ? cfg->cache_dir : "", e);
    if (!c->model || !c->cache_dir) {
        rc = TKD_ENOMEM;
        goto fail;
    }
    if (cfg->ca_file && cfg->ca_file[0]) {
        if (access(cfg->ca_file, R_OK) != 0) {
            rc = tkd_err_set(e, TKD_EINVAL, "teacher.ca_file '%s' cannot be read: %s", cfg->ca_file, strerror(errno));
            goto fail;
        }
        if (!(c->ca_file = tkd_strdup(cfg->ca_file, e))) {
            rc = TKD_ENOMEM;
            goto fail;
        }
    }
    c->cfg.model = c->model;
    c->cfg.cache_dir = c->cache_dir;
    c->cfg.ca_file = c->ca_file;
    c->cfg.api_key_env = NULL;
    for (int i = 0; i < TKD_LLM_MAX_ENDPOINTS; i++)
        c->cfg.base_urls[i] = NULL;
    for (int i = 0; i < cfg->n_base_urls; i++) {
        const char *u = cfg->base_urls[i];
        size_t n = u ? strlen(u) : 0;
        if (n == 0 || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))) {
            rc = tkd_err_set(e, TKD_EINVAL, "teacher.base_urls[%d] is not an http:// or https:// URL", i);
            goto fail;
        }
        while (n > 0 && u[n - 1] == '/')
            n--;
        tkd_buf b;
        tkd_buf_init(&b);
        if (tkd_buf_append(&b, u, n) || tkd_buf_puts(&b, "/models") || !(c->eps[i].models_url = tkd_buf_steal(&b)) ||
            tkd_buf_append(&b, u, n) || tkd_buf_puts(&b, "/chat/completions")) {
            tkd_buf_free(&b);
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
            goto fail;
        }
        c->eps[i].url = tkd_buf_steal(&b);
        int h2 = cfg->http2 && !strncmp(u, "https://", 8);
        c->eps[i].cap = cfg->max_connections_per_endpoint * (h2 ? H2_STREAMS_PER_CONN : 1);
        c->n_eps++;
    }
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->multi = curl_multi_init();
    if (c->epfd < 0 || !c->multi) {
        rc = tkd_err_set(e, TKD_ENET, "cannot create the event loop (epoll/curl_multi): %s", strerror(errno));
        goto fail;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, cfg->http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg->max_connections_per_endpoint);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_connections_per_endpoint * c->n_eps);
    /* headers: JSON, no "Expect: 100-continue" round trip, the key if set */
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h)
        h = curl_slist_append(h, "Expect:");
    const char *key = cfg->api_key_env && cfg->api_key_env[0] ? getenv(cfg->api_key_env) : NULL;
    if (h && key && key[0]) {
        if (strpbrk(key, "\r\n")) {
            curl_slist_free_all(h);
            rc = tkd_err_set(e, TKD_EINVAL, "the API key in $%s contains a line break", cfg->api_key_env);
            goto fail;
        }
        size_t kl = strlen(key) + 32;
        char *line = malloc(kl);
        struct curl_slist *h2 = NULL;
        if (line) {
            snprintf(line, kl, "Authorization: Bearer %s", key);
            h2 = curl_slist_append(h, line);
            memset(line, 0, kl); /* the copy inside the header list is the only one left */
            free(line);
        }
        if (!h2) {
            curl_slist_free_all(h);
            h = NULL;
        }
    }
    if (!h) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto fail;
    }
    c->hdrs = h;
    if ((rc = llm_health_init(c, e)))
        goto fail;
    c->limit = cfg->max_in_flight;
    c->retry_tokens = TKD_LLM_RETRY_TOKENS_START;
    tkd_rng_seed(&c->rng, cfg->seed ^ 0x6c6c6d2d6a697474ull ^ (uint64_t)getpid());
    if (cfg->cache != TKD_LLM_CACHE_OFF && (rc = tkd_mkdirs(c->cache_dir, e)))
        goto fail;
    if (cfg->cache == TKD_LLM_CACHE_RW && (rc = tkd_llm_writer_start(c->cache_dir, &c->writer, e)))
        goto fail;
    tkd_log_debug("teacher: %d endpoint(s), API key from $%s: %s, cache %s", c->n_eps,
                  cfg->api_key_env ? cfg->api_key_env : "", key && key[0] ? "set" : "not set",
                  cfg->cache == TKD_LLM_CACHE_OFF  ? "off"
                  : cfg->cache == TKD_LLM_CACHE_RW ? "read-write"
                                                   : "replay-only");
    *out = c;
    return 0;
fail:
    tkd_llm_free(c);
    return rc ? rc : TKD_ENOMEM;
}

static void free_queue(queue *q) {
    job *j;
    while ((j = llm_q_pop(q)))
        llm_job_free(j);
}

void tkd_llm_free(tkd_llm *c) {
    if (!c)
        return;
    tkd_llm_writer_stop(c->writer); /* every finished response reaches the cache */
    llm_health_free(c);             /* checks on the wire first: they use the multi handle */
    if (c->multi) {
        /* transfers still on the wire */
        while (c->wire) {
            job *j = c->wire;
            c->wire = j->wnext;
            curl_multi_remove_handle(c->multi, j->easy);
            curl_easy_cleanup(j->easy);
            llm_job_free(j);
        }
        curl_multi_cleanup(c->multi);
    }
    for (int i = 0; i < c->n_idle; i++)
        curl_easy_cleanup(c->idle[i]);
    free(c->idle);
    while (c->heap_n)
        llm_job_free(llm_heap_pop(c));
    free(c->heap);
    free_queue(&c->held);
    free_queue(&c->ready_retry);
    free_queue(&c->ready);
    free_queue(&c->done);
    for (int i = 0; i < c->n_eps; i++) {
        free(c->eps[i].url);
        free(c->eps[i].models_url);
    }
    curl_slist_free_all(c->hdrs);
    if (c->epfd >= 0)
        close(c->epfd);
    free(c->model);
    free(c->cache_dir);
    free(c->ca_file);
    free(c);
}

/* ---- finishing a request ---- */

static tkd_llm_response *resp_new(void) {
    tkd_llm_response *r = calloc(1, sizeof *r);
    if (r)
        r->endpoint = -1;
    return r;
}

void llm_finish(tkd_llm *c, job *j, tkd_llm_status st, const char *err) {
    tkd_llm_response *r = j->resp ? j->resp : resp_new();
    j->resp = r;
    if (!r) { /* out of memory: nothing to hand back but the cookie; drop the job */
        tkd_log_error("llm: out of memory finishing a request");
        c->pending--;
        llm_job_free(j);
        return;
    }
    r->status = st;
    r->attempts = j->attempts;
    r->endpoint = j->ep;
    r->http_code = j->last_http;
    r->latency_s = tkd_now() - j->t_submit;
    memcpy(r->key, j->key, sizeof r->key);
    if (err && !r->error)
        r->error = strdup(err);
    if (st == TKD_LLM_RETRIES_EXHAUSTED && j->last_error[0])
        r->last_error = strdup(j->last_error);
    if (!r->raw && j->rx.len) {
        r->raw_len = j->rx.len;
        r->raw = tkd_buf_steal(&j->rx);
    }
    c->st.completed++;
    c->st.by_status[st]++;
    if (st == TKD_LLM_OK) {
        c->st.prompt_tokens += r->prompt_tokens;
        c->st.completion_tokens += r->completion_tokens;
    }
    if (c->cfg.cache == TKD_LLM_CACHE_RW && (st == TKD_LLM_OK || st == TKD_LLM_CONTEXT_LENGTH) && r->raw) {
        tkd_llm_cache_entry ent = {r->http_code, st, r->latency_s, r->attempts, r->endpoint, r->raw, r->raw_len};
        tkd_llm_writer_put(c->writer, j->key, &ent);
    }
    llm_q_push(&c->done, j);
}

/* A retryable failure: held while the endpoints may be down (not charged),
 * else back off and go again, or give up. */
static void retry_or_finish(tkd_llm *c, job *j, tkd_llm_status kind, double retry_after_s, int outage) {
    j->last_kind = kind;
    j->retry_after = retry_after_s;
    if (outage && llm_health_hold(c, j))
        return;
    llm_retry_charged(c, j);
}

void llm_retry_charged(tkd_llm *c, job *j) {
    tkd_llm_status kind = j->last_kind;
    if (c->health == TKD_LLM_GAVE_UP) {
        llm_finish(c, j, TKD_LLM_UNAVAILABLE, c->why);
        return;
    }
    /* attempts made while every endpoint was down are not the endpoint's flakiness */
    if (j->attempts - j->outage_attempts > c->cfg.max_retries) {
        llm_finish(c, j, TKD_LLM_RETRIES_EXHAUSTED, "every attempt failed (max_retries reached)");
        return;
    }
    if (c->retry_tokens < 1) {
        llm_finish(c, j, kind, j->last_error);
        return;
    }
    c->retry_tokens -= 1;
    c->st.retries++;
    tkd_buf_reset(&j->rx);
    double d = tkd_llm_backoff(&c->rng, j->attempts - j->outage_attempts, c->cfg.backoff_base_s, c->cfg.backoff_max_s,
                               j->retry_after);
    j->t_due = tkd_now() + d;
    if (heap_push(c, j)) {
        llm_finish(c, j, kind, "out of memory scheduling a retry");
        return;
    }
    tkd_log_debug("llm: retry %d in %.2fs after %s", j->attempts, d, j->last_error);
}

static void aimd_reply(tkd_llm *c, long code) {
    double now = tkd_now();
    if (now - c->win_start > TKD_LLM_AIMD_WINDOW_S) {
        c->win_start = now;
        c->win_total = c->win_overload = 0;
    }
    c->win_total++;
    if (code == 429 || code == 503) {
        c->win_overload++;
        if (c->win_overload >= 3 && c->win_overload * 10 >= c->win_total &&
            now - c->last_cut >= TKD_LLM_AIMD_WINDOW_S && c->limit > 1) {
            c->limit = floor(c->limit / 2) < 1 ? 1 : floor(c->limit / 2);
            c->last_cut = now;
            c->st.limit_cuts++;
            tkd_log_debug("llm: frequent 429/503: in-flight limit cut to %.0f", c->limit);
        }
    } else if (code == 200 && c->limit < c->cfg.max_in_flight) {
        c->limit += 1;
    }
}

static void transfer_done(tkd_llm *c, CURL *easy, CURLcode res) {
    job *j = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
    if (j->probe) {
        llm_health_probe_done(c, j, res);
        return;
    }
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (res != CURLE_OK && answered_whole(easy, code, j))
        res = CURLE_OK; /* an early answer, then a reset or an unfinished upload */
    curl_off_t connect_us = 0; /* 0: never connected */
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_us);
    double retry_after = 0;
    struct curl_header *h = NULL;
    if (res == CURLE_OK && curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h) {
        if (tkd_llm_parse_retry_after(h->value, tkd_wall_time(), &retry_after))
            retry_after = 0;
    }
    curl_multi_remove_handle(c->multi, easy);
    easy_release(c, easy);
    j->easy = NULL;
    if (j->wprev)
        j->wprev->wnext = j->wnext;
    else
        c->wire = j->wnext;
    if (j->wnext)
        j->wnext->wprev = j->wprev;
    j->wprev = j->wnext = NULL;
    curl_slist_free_all(j->hdrs);
    j->hdrs = NULL;
    c->in_flight--;
    c->eps[j->ep].outstanding--;
    c->ep_full = 0;
    j->last_http = (int)code;
    endpoint *ep = &c->eps[j->ep];
    if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
        (res == CURLE_OPERATION_TIMEDOUT && connect_us == 0)) {
        /* the server is not there: mark it down for a growing while */
        ep->conn_failures++;
        double hold = c->cfg.backoff_base_s * ldexp(1.0, ep->conn_failures > 16 ? 16 : ep->conn_failures - 1);
        ep->down_until = tkd_now() + (hold > ENDPOINT_DOWN_MAX_S ? ENDPOINT_DOWN_MAX_S : hold);
    } else if (res == CURLE_OK) {
        ep->conn_failures = 0;
        ep->down_until = 0;
    }
    int outage = tkd_llm_is_outage((int)res, code);
    if (res == CURLE_OK && !outage)
        llm_health_alive(c, j->ep);
    if (res != CURLE_OK) {
        tkd_llm_status kind = res == CURLE_OPERATION_TIMEDOUT ? TKD_LLM_TIMEOUT : TKD_LLM_NETWORK;
        snprintf(j->last_error, sizeof j->last_error, "%s on endpoint %d (curl %d: %s)",
                 kind == TKD_LLM_TIMEOUT ? "timeout" : "network error", j->ep, (int)res, curl_easy_strerror(res));
        j->last_http = 0;
        retry_or_finish(c, j, kind, 0, outage);
        return;
    }
    aimd_reply(c, code);
    if (code == 200) {
        tkd_err pe = {0};
        tkd_llm_response *r = resp_new();
        if (r && tkd_llm_parse_response(j->rx.data, j->rx.len, c->cfg.tool_format, r, &pe) == 0) {
            j->resp = r;
            llm_finish(c, j, TKD_LLM_OK, NULL);
            return;
        }
        tkd_llm_response_free(r);
        snprintf(j->last_error, sizeof j->last_error, "malformed reply from endpoint %d: %.180s", j->ep,
                 r ? pe.msg : "out of memory");
        retry_or_finish(c, j, TKD_LLM_MALFORMED, 0, 0);
        return;
    }
    snprintf(j->last_error, sizeof j->last_error, "HTTP %ld from endpoint %d", code, j->ep);
    if (tkd_llm_http_retryable(code)) {
        retry_or_finish(c, j, TKD_LLM_HTTP_ERROR, retry_after, outage);
    } else if (code == 400 && tkd_llm_is_context_length(j->rx.data)) {
        llm_finish(c, j, TKD_LLM_CONTEXT_LENGTH, TKD_LLM_CONTEXT_LENGTH_MSG);
    } else {
        llm_finish(c, j, TKD_LLM_HTTP_ERROR, j->last_error);
    }
}

static void check_multi(tkd_llm *c) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            transfer_done(c, m->easy_handle, m->data.result);
}

/* ---- sending ---- */

/* Least outstanding requests among the endpoints with room, preferring those
 * not marked down (a dead server fails fast, so it would otherwise look the
 * least loaded and attract every request). */
static int pick_endpoint(tkd_llm *c) {
    int best = -1, best_up = 0;
    double now = c->n_eps > 1 ? tkd_now() : 0;
    for (int i = 0; i < c->n_eps; i++) {
        endpoint *p = &c->eps[i];
        if (p->outstanding >= p->cap)
            continue;
        int up = p->down_until <= now;
        if (best < 0 || up > best_up || (up == best_up && p->outstanding < c->eps[best].outstanding)) {
            best = i;
            best_up = up;
        }
    }
    return best;
}

/* Put a job on the wire; returns 0, 1 when no endpoint has room (job untouched). */
static int start(tkd_llm *c, job *j) {
    int ep = pick_endpoint(c);
    if (ep < 0)
        return 1;
    CURL *e = easy_new(c);
    struct curl_slist *hdrs = c->hdrs;
    if (e && j->tag) {
        struct curl_slist *mine = NULL, *t = NULL;
        char line[TAG_MAX + 16];
        snprintf(line, sizeof line, "X-TKD-Tag: %s", j->tag);
        for (struct curl_slist *s = c->hdrs; s; s = s->next) {
            if (!(t = curl_slist_append(mine, s->data)))
                break;
            mine = t;
        }
        if (t && (t = curl_slist_append(mine, line)))
            mine = t;
        if (!t) {
            curl_slist_free_all(mine);
            mine = NULL;
        }
        j->hdrs = mine;
        hdrs = mine;
    }
    if (!e || !hdrs) {
        if (e)
            easy_release(c, e);
        snprintf(j->last_error, sizeof j->last_error, "out of memory starting a transfer");
        llm_finish(c, j, TKD_LLM_NETWORK, j->last_error);
        return 0;
    }
    j->ep = ep;
    j->easy = e;
    j->attempts++;
    tkd_buf_reset(&j->rx);
    curl_easy_setopt(e, CURLOPT_URL, c->eps[ep].url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        easy_release(c, e);
        j->easy = NULL;
        snprintf(j->last_error, sizeof j->last_error, "curl refused a transfer");
        llm_finish(c, j, TKD_LLM_NETWORK, j->last_error);
        return 0;
    }
    j->wprev = NULL;
    j->wnext = c->wire;
    if (c->wire)
        c->wire->wprev = j;
    c->wire = j;
    c->in_flight++;
    c->eps[ep].outstanding++;
    c->st.attempts++;
    return 0;
}

static void dispatch(tkd_llm *c) {
    llm_health_tick(c);
    double now = tkd_now();
    while (c->heap_n && c->heap[0]->t_due <= now)
        llm_q_push(&c->ready_retry, llm_heap_pop(c));
    while (llm_health_sending(c) && c->in_flight < (int)c->limit) {
        queue *q = c->ready_retry.head ? &c->ready_retry : &c->ready;
        job *j = q->head;
        if (!j)
            break;
        if (start(c, llm_q_pop(q))) {
            c->ep_full = 1;
            /* no endpoint has room: put it back in front */
            j->next = q->head;
            q->head = j;
            if (!q->tail)
                q->tail = j;
            q->n++;
            break;
        }
    }
}

/* ---- public loop ---- */

int tkd_llm_submit(tkd_llm *c, const tkd_llm_request *req, void *cookie, tkd_err *e) {
    char *body = tkd_llm_build_body(&c->cfg, req, e);
    if (!body)
        return e && e->code ? e->code : TKD_EINVAL;
    job *j = calloc(1, sizeof *j);
    if (!j) {
        free(body);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory queueing a request");
    }
    j->cookie = cookie;
    j->body = body;
    j->body_len = strlen(body);
    j->ep = -1;
    j->t_submit = tkd_now();
    tkd_buf_init(&j->rx);
    if (req->tag && req->tag[0]) {
        j->tag = strndup(req->tag, TAG_MAX);
        if (!j->tag) {
            llm_job_free(j);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory queueing a request");
        }
        for (char *p = j->tag; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
    }
    c->st.submitted++;
    c->pending++;
    c->retry_tokens += c->cfg.retry_budget;
    double cap = TKD_LLM_RETRY_TOKENS_START + c->cfg.retry_budget * 1000.0;
    if (c->retry_tokens > cap)
        c->retry_tokens = cap;
    if (c->cfg.cache != TKD_LLM_CACHE_OFF) {
        tkd_llm_cache_key(j->body, j->body_len, req->sample, j->key);
        tkd_llm_response *r = NULL;
        if (tkd_llm_cache_lookup(c->cache_dir, j->key, c->cfg.tool_format, &r) == 0) {
            j->resp = r;
            c->st.cache_hits++;
            c->st.completed++;
            c->st.by_status[r->status]++;
            llm_q_push(&c->done, j);
            return 0;
        }
        c->st.cache_misses++;
        if (c->cfg.cache == TKD_LLM_CACHE_REPLAY) {
            snprintf(j->last_error, sizeof j->last_error, "replay-only cache has no entry %.16s...", j->key);
            llm_finish(c, j, TKD_LLM_CACHE_MISS, j->last_error);
            return 0;
        }
    }
    if (c->health == TKD_LLM_GAVE_UP) {
        llm_finish(c, j, TKD_LLM_UNAVAILABLE, c->why);
        return 0;
    }
    llm_q_push(&c->ready, j);
    return 0;
}

int tkd_llm_timeout_ms(const tkd_llm *c) {
    if (c->done.n ||
        ((c->ready.n || c->ready_retry.n) && c->in_flight < (int)c->limit && !c->ep_full && llm_health_sending(c)))
        return 0;
    double now = tkd_now(), d = -1, h = llm_health_due(c, now);
    if (c->curl_deadline >= 0)
        d = c->curl_deadline - now;
    if (c->heap_n && (d < 0 || c->heap[0]->t_due - now < d))
        d = c->heap[0]->t_due - now;
    if (h >= 0 && (d < 0 || h < d))
        d = h;
    if (d < 0 && c->curl_deadline < 0 && !c->heap_n && h < 0)
        return -1;
    return d <= 0 ? 0 : (int)ceil(d * 1000.0);
}

int tkd_llm_fd(const tkd_llm *c) {
    return c->epfd;
}

int tkd_llm_poll(tkd_llm *c, int timeout_ms) {
    dispatch(c);
    int wait = tkd_llm_timeout_ms(c);
    if (wait < 0 || (timeout_ms >= 0 && timeout_ms < wait))
        wait = timeout_ms < 0 ? 0 : timeout_ms;
    struct epoll_event evs[EPOLL_BATCH];
    int n = epoll_wait(c->epfd, evs, EPOLL_BATCH, wait);
    if (n < 0 && errno != EINTR)
        return TKD_ENET;
    int running = 0;
    for (int i = 0; i < n; i++) {
        int mask = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                   ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                   ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(c->multi, evs[i].data.fd, mask, &running);
    }
    if (c->curl_deadline >= 0 && tkd_now() >= c->curl_deadline) {
        c->curl_deadline = -1;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    check_multi(c);
    dispatch(c);
    return c->done.n;
}

int tkd_llm_next_done(tkd_llm *c, tkd_llm_response **resp, void **cookie) {
    job *j = llm_q_pop(&c->done);
    if (!j)
        return 0;
    *resp = j->resp;
    *cookie = j->cookie;
    j->resp = NULL;
    c->pending--;
    llm_job_free(j);
    return 1;
}

int tkd_llm_pending(const tkd_llm *c) {
    return c->pending;
}

void tkd_llm_get_stats(const tkd_llm *c, tkd_llm_stats *s) {
    *s = c->st;
    s->cache_writes = c->writer ? tkd_llm_writer_written(c->writer) : 0;
    s->in_flight = c->in_flight;
    s->waiting = c->ready.n + c->ready_retry.n + (int)c->heap_n + c->held.n;
    s->limit = c->limit;
    s->retry_tokens = c->retry_tokens;
    s->held = c->held.n;
}

void tkd_llm_flush(tkd_llm *c) {
    tkd_llm_writer_flush(c->writer);
}
