/*
 * Unit tests of the client's event loop against a tiny in-process HTTP/1.1
 * server (a thread per connection, keep-alive) whose reply depends on the
 * X-TKD-Tag header: success, 429 with Retry-After, 404, a context-length
 * 400, 503 forever, connections dropped without a reply. Checks statuses,
 * attempts counted on both sides, that 4xx are never retried, that the
 * Retry-After gap is kept, the Authorization header, balancing over two
 * base URLs, the adaptive limit, and a closed port.
 */
#define _GNU_SOURCE /* strcasestr */
#include "tkd/llm.h"
#include "tkd_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_TAGS 16
#define MAX_CONN 256

static struct {
    pthread_mutex_t mu;
    int lfd, port, stop;
    pthread_t acceptor, conns[MAX_CONN];
    int n_conns;
    char tags[MAX_TAGS][32];
    int count[MAX_TAGS];
    double first[MAX_TAGS], last_gap[MAX_TAGS], last[MAX_TAGS];
    char auth[128];
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const char *ok_body = "{\"choices\":[{\"message\":{\"content\":\"fine\"},\"finish_reason\":\"stop\"}],"
                             "\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}";

static int tag_count(const char *tag, double now) { /* under srv.mu */
    int i;
    for (i = 0; i < MAX_TAGS && srv.tags[i][0]; i++)
        if (!strcmp(srv.tags[i], tag))
            break;
    if (i == MAX_TAGS)
        return 0;
    if (!srv.tags[i][0]) {
        snprintf(srv.tags[i], sizeof srv.tags[i], "%s", tag);
        srv.first[i] = now;
    } else {
        srv.last_gap[i] = now - srv.last[i];
    }
    srv.last[i] = now;
    return ++srv.count[i];
}

static void *conn_main(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        char *cl = strcasestr(buf, "Content-Length:");
        size_t blen = cl ? (size_t)atol(cl + 15) : 0, hlen = (size_t)(end + 4 - buf);
        if (have < hlen + blen)
            continue;
        char tag[32] = "none";
        char *t = strcasestr(buf, "X-TKD-Tag: ");
        if (t)
            sscanf(t + 11, "%31[^\r\n]", tag);
        char *a = strcasestr(buf, "Authorization: ");
        pthread_mutex_lock(&srv.mu);
        if (a)
            sscanf(a + 15, "%127[^\r\n]", srv.auth);
        int k = tag_count(tag, tkd_now());
        pthread_mutex_unlock(&srv.mu);
        memmove(buf, buf + hlen + blen, have - hlen - blen);
        have -= hlen + blen;
        const char *status = "200 OK", *body = ok_body, *extra = "";
        if (a && !strncmp(a + 15, "Bearer refuse-me", 16)) {
            status = "401 Unauthorized";
            body = "{\"error\":{\"message\":\"invalid api key\"}}";
        } else if (!strcmp(tag, "r429") && k == 1) {
            status = "429 Too Many Requests";
            body = "{}";
            extra = "Retry-After: 1\r\n";
        } else if (!strcmp(tag, "s429")) {
            status = "429 Too Many Requests";
            body = "{}";
            extra = "Retry-After: 0\r\n";
        } else if (!strcmp(tag, "e404")) {
            status = "404 Not Found";
            body = "{\"error\":{\"message\":\"no such model\"}}";
        } else if (!strcmp(tag, "ctx")) {
            status = "400 Bad Request";
            body = "{\"error\":{\"code\":\"context_length_exceeded\"}}";
        } else if (!strcmp(tag, "e503")) {
            status = "503 Service Unavailable";
            body = "{}";
        } else if (!strcmp(tag, "slow")) {
            usleep(50000);
        } else if (!strcmp(tag, "drop")) {
            break;
        }
        char out[4096];
        int m = snprintf(out, sizeof out,
                         "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n%s", status,
                         strlen(body), extra, body);
        if (write(fd, out, (size_t)m) != m)
            break;
    }
    close(fd);
    return NULL;
}

typedef struct listener {
    int fd;
    volatile int stop;
    pthread_t th;
} listener;

/* Accept on l->fd (srv.lfd when NULL) until stopped. */
static void *accept_main(void *arg) {
    listener *l = arg;
    for (;;) {
        struct pollfd p = {l ? l->fd : srv.lfd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) {
            if (l ? l->stop : srv.stop)
                break;
            continue;
        }
        int fd = accept(p.fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&srv.mu);
        if (srv.n_conns < MAX_CONN &&
            pthread_create(&srv.conns[srv.n_conns], NULL, conn_main, (void *)(intptr_t)fd) == 0)
            srv.n_conns++;
        else
            close(fd);
        pthread_mutex_unlock(&srv.mu);
    }
    return NULL;
}

static int server_start(void) {
    srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&sa, sizeof sa) || listen(srv.lfd, 64) ||
        getsockname(srv.lfd, (struct sockaddr *)&sa, &sl))
        return -1;
    srv.port = ntohs(sa.sin_port);
    return pthread_create(&srv.acceptor, NULL, accept_main, NULL);
}

static void server_stop(void) {
    srv.stop = 1;
    pthread_join(srv.acceptor, NULL);
    for (int i = 0; i < srv.n_conns; i++)
        pthread_join(srv.conns[i], NULL);
    close(srv.lfd);
}

static int same(const char *a, const char *b) {
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int count_of(const char *tag) {
    pthread_mutex_lock(&srv.mu);
    int n = 0;
    for (int i = 0; i < MAX_TAGS; i++)
        if (!strcmp(srv.tags[i], tag))
            n = srv.count[i];
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static double gap_of(const char *tag) {
    for (int i = 0; i < MAX_TAGS; i++)
        if (!strcmp(srv.tags[i], tag))
            return srv.last_gap[i];
    return -1;
}

static tkd_llm_config base_cfg(char urls[2][64]) {
    tkd_llm_config c;
    tkd_llm_config_defaults(&c);
    c.model = "m";
    snprintf(urls[0], 64, "http://127.0.0.1:%d/v1", srv.port);
    snprintf(urls[1], 64, "http://localhost:%d/v1/", srv.port);
    c.base_urls[0] = urls[0];
    c.n_base_urls = 1;
    c.max_retries = 2;
    c.backoff_base_s = 0.01;
    c.backoff_max_s = 0.05;
    c.timeout_s = 5;
    c.http2 = 0;
    c.api_key_env = "TKD_UNIT_TEST_KEY";
    return c;
}

/* Submit one request per tag, run to the end, return responses by index. */
static void run_tags(tkd_llm *c, const char *const *tags, int n, tkd_llm_response **out) {
    for (int i = 0; i < n; i++) {
        tkd_llm_request r;
        tkd_llm_request_init(&r);
        r.messages = json_pack("[{s:s, s:s}]", "role", "user", "content", tags[i]);
        r.tag = tags[i];
        r.sample = i;
        tkd_err e = {0};
        CHECK_INT(tkd_llm_submit(c, &r, (void *)(intptr_t)i, &e), 0);
        json_decref(r.messages);
    }
    double t0 = tkd_now();
    while (tkd_llm_pending(c) > 0 && tkd_now() - t0 < 20) {
        tkd_llm_poll(c, 50);
        tkd_llm_response *resp;
        void *ck;
        while (tkd_llm_next_done(c, &resp, &ck))
            out[(intptr_t)ck] = resp;
    }
    CHECK_INT(tkd_llm_pending(c), 0);
}

TEST(outcomes) {
    char urls[2][64];
    tkd_llm_config cfg = base_cfg(urls);
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    static const char *const tags[] = {"ok", "r429", "e404", "ctx", "e503", "drop"};
    tkd_llm_response *r[6] = {0};
    run_tags(c, tags, 6, r);
    for (int i = 0; i < 6; i++)
        if (!r[i])
            return;
    CHECK_INT(r[0]->status, TKD_LLM_OK);
    CHECK_STR(r[0]->content, "fine");
    CHECK_INT(r[0]->attempts, 1);
    CHECK_INT(r[0]->completion_tokens, 1);
    CHECK_INT(r[1]->status, TKD_LLM_OK);
    CHECK_INT(r[1]->attempts, 2);
    CHECK(r[1]->latency_s >= 1.0);
    CHECK(gap_of("r429") >= 0.99); /* Retry-After: 1 kept, measured by the server */
    CHECK_INT(r[2]->status, TKD_LLM_HTTP_ERROR);
    CHECK_INT(r[2]->http_code, 404);
    CHECK_INT(r[2]->attempts, 1);
    CHECK_INT(count_of("e404"), 1); /* never retried */
    CHECK_INT(r[3]->status, TKD_LLM_CONTEXT_LENGTH);
    CHECK_INT(r[3]->attempts, 1);
    CHECK_INT(count_of("ctx"), 1);
    CHECK_INT(r[4]->status, TKD_LLM_RETRIES_EXHAUSTED);
    CHECK_INT(r[4]->attempts, 3);
    CHECK_INT(count_of("e503"), 3);
    CHECK(r[4]->last_error && strstr(r[4]->last_error, "503"));
    CHECK_INT(r[5]->status, TKD_LLM_RETRIES_EXHAUSTED);
    CHECK_INT(r[5]->attempts, 3);
    CHECK(r[5]->last_error && strstr(r[5]->last_error, "network"));
    CHECK_STR(srv.auth, "Bearer sk-unit-SECRET-4242");
    for (int i = 0; i < 6; i++) {
        CHECK(!r[i]->error || !strstr(r[i]->error, "SECRET"));
        CHECK(!r[i]->last_error || !strstr(r[i]->last_error, "SECRET"));
        tkd_llm_response_free(r[i]);
    }
    tkd_llm_stats st;
    tkd_llm_get_stats(c, &st);
    CHECK_INT(st.completed, 6);
    CHECK_INT(st.attempts, 1 + 2 + 1 + 1 + 3 + 3);
    CHECK_INT(st.retries, 1 + 2 + 2);
    tkd_llm_free(c);
}

TEST(balance_and_aimd) {
    char urls[2][64];
    tkd_llm_config cfg = base_cfg(urls);
    cfg.base_urls[1] = urls[1];
    cfg.n_base_urls = 2;
    cfg.max_in_flight = 8;
    cfg.max_retries = 1;
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    const char *tags[40];
    for (int i = 0; i < 40; i++)
        tags[i] = i < 20 ? "ok" : "s429";
    tkd_llm_response *r[40] = {0};
    run_tags(c, tags, 40, r);
    int used[2] = {0, 0};
    for (int i = 0; i < 40; i++) {
        if (!r[i])
            continue;
        if (i < 20) {
            CHECK_INT(r[i]->status, TKD_LLM_OK);
            if (r[i]->endpoint >= 0 && r[i]->endpoint < 2)
                used[r[i]->endpoint]++;
        } else {
            CHECK_INT(r[i]->status, TKD_LLM_RETRIES_EXHAUSTED);
            CHECK_INT(r[i]->http_code, 429);
        }
        tkd_llm_response_free(r[i]);
    }
    CHECK(used[0] > 0 && used[1] > 0);
    tkd_llm_stats st;
    tkd_llm_get_stats(c, &st);
    CHECK(st.limit_cuts >= 1); /* frequent 429: the in-flight limit was halved */
    CHECK(st.limit >= 1 && st.limit <= 8);
    /* and it recovers: +1 per success up to max_in_flight */
    tkd_llm_response *r2[20] = {0};
    run_tags(c, tags, 20, r2);
    for (int i = 0; i < 20; i++)
        tkd_llm_response_free(r2[i]);
    tkd_llm_get_stats(c, &st);
    CHECK_NEAR(st.limit, 8, 0);
    tkd_llm_free(c);
}

/* The solve phase's way: its own poll() on tkd_llm_fd with tkd_llm_timeout_ms
 * (beside MPI and tool pipes), then tkd_llm_poll(c, 0) to do the work. With
 * one connection and slow replies, requests queue behind the connection cap:
 * the loop must still sleep, not spin. */
TEST(outer_loop) {
    char urls[2][64];
    tkd_llm_config cfg = base_cfg(urls);
    cfg.max_connections_per_endpoint = 1;
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    CHECK(tkd_llm_fd(c) >= 0);
    CHECK_INT(tkd_llm_timeout_ms(c), -1); /* nothing to do: wait as long as you like */
    int n = 10, got = 0;
    for (int i = 0; i < n; i++) {
        tkd_llm_request r;
        tkd_llm_request_init(&r);
        r.messages = json_pack("[{s:s, s:s}]", "role", "user", "content", "outer");
        r.tag = "slow";
        r.sample = i;
        CHECK_INT(tkd_llm_submit(c, &r, NULL, &e), 0);
        json_decref(r.messages);
    }
    CHECK_INT(tkd_llm_timeout_ms(c), 0); /* work is waiting */
    double t0 = tkd_now();
    int loops = 0;
    while (got < n && tkd_now() - t0 < 10) {
        struct pollfd p = {tkd_llm_fd(c), POLLIN, 0};
        int t = tkd_llm_timeout_ms(c);
        poll(&p, 1, t < 0 || t > 100 ? 100 : t);
        tkd_llm_poll(c, 0);
        tkd_llm_response *resp;
        void *ck;
        while (tkd_llm_next_done(c, &resp, &ck)) {
            got++;
            CHECK_INT(resp->status, TKD_LLM_OK);
            tkd_llm_response_free(resp);
        }
        loops++;
    }
    CHECK_INT(got, n);
    CHECK(loops < 200); /* 10 x 50 ms behind one connection: it waited on the fd instead of spinning */
    tkd_llm_free(c);
}

/* read-write cache on a live server, then replay-only: the same responses,
 * written by the background writer, served without a request */
TEST(cache_rw_then_replay) {
    char urls[2][64], dir[128];
    snprintf(dir, sizeof dir, "/tmp/tkd_llm_client_cache.%ld", (long)getpid());
    tkd_llm_config cfg = base_cfg(urls);
    cfg.cache = TKD_LLM_CACHE_RW;
    cfg.cache_dir = dir;
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    static const char *const tags[] = {"cache", "cache", "cache", "ctx", "e404"};
    tkd_llm_response *r1[5] = {0}, *r2[5] = {0};
    run_tags(c, tags, 5, r1);
    int before = count_of("cache");
    tkd_llm_flush(c);
    tkd_llm_stats st;
    tkd_llm_get_stats(c, &st);
    CHECK_INT(st.cache_writes, 4); /* 3 ok + 1 context length; the 404 is not cached */
    tkd_llm_free(c);
    cfg.cache = TKD_LLM_CACHE_REPLAY;
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    run_tags(c, tags, 5, r2);
    CHECK_INT(count_of("cache"), before); /* no request */
    for (int i = 0; i < 5; i++) {
        if (!r1[i] || !r2[i])
            continue;
        if (i < 4) {
            CHECK_INT(r2[i]->status, r1[i]->status);
            CHECK_INT(r2[i]->from_cache, 1);
            CHECK_INT(r2[i]->raw_len, r1[i]->raw_len);
            CHECK(r1[i]->raw && r2[i]->raw && !memcmp(r1[i]->raw, r2[i]->raw, r1[i]->raw_len));
            CHECK(same(r1[i]->content, r2[i]->content));
            CHECK_NEAR(r2[i]->latency_s, r1[i]->latency_s, 1e-12);
            CHECK_STR(r2[i]->key, r1[i]->key);
        } else {
            CHECK_INT(r2[i]->status, TKD_LLM_CACHE_MISS);
        }
    }
    for (int i = 0; i < 5; i++) {
        tkd_llm_response_free(r1[i]);
        tkd_llm_response_free(r2[i]);
    }
    tkd_llm_free(c);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

static int closed_port_url(char url[64]) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return snprintf(url, 64, "http://127.0.0.1:%d/v1", ntohs(sa.sin_port));
}

/* One of two servers is down: its requests are retried on the other, and the
 * dead one is skipped instead of attracting every request. */
TEST(dead_endpoint) {
    char urls[2][64], dead[64];
    closed_port_url(dead);
    tkd_llm_config cfg = base_cfg(urls);
    cfg.base_urls[0] = dead;
    cfg.base_urls[1] = urls[0];
    cfg.n_base_urls = 2;
    cfg.max_in_flight = 4;
    cfg.backoff_base_s = 0.2; /* the dead endpoint is skipped for 0.2 s, 0.4 s, ... */
    cfg.backoff_max_s = 0.01;
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    const char *tags[40];
    for (int i = 0; i < 40; i++)
        tags[i] = "ok";
    tkd_llm_response *r[40] = {0};
    run_tags(c, tags, 40, r);
    int ok = 0;
    for (int i = 0; i < 40; i++) {
        if (r[i] && r[i]->status == TKD_LLM_OK && r[i]->endpoint == 1)
            ok++;
        tkd_llm_response_free(r[i]);
    }
    CHECK_INT(ok, 40);
    tkd_llm_stats st;
    tkd_llm_get_stats(c, &st);
    CHECK(st.retries <= 8); /* not one failed attempt per request */
    tkd_llm_free(c);
}

/* A port nobody listens on: connection refused; after three failures the
 * client checks the endpoint, finds it down, holds the request and, past
 * wait_for_endpoint_s, gives up: unavailable, naming the endpoint. */
TEST(closed_port) {
    char url[64], urls[2][64];
    closed_port_url(url);
    tkd_llm_config cfg = base_cfg(urls);
    cfg.base_urls[0] = url;
    cfg.wait_for_endpoint_s = 0.5;
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    static const char *const tags[] = {"x"};
    tkd_llm_response *r[1] = {0};
    double t0 = tkd_now();
    run_tags(c, tags, 1, r);
    CHECK(tkd_now() - t0 < 3);
    if (r[0]) {
        CHECK_INT(r[0]->status, TKD_LLM_UNAVAILABLE);
        CHECK_INT(r[0]->attempts, TKD_LLM_OUTAGE_FAILS);
        CHECK_INT(r[0]->http_code, 0);
        CHECK(r[0]->error && strstr(r[0]->error, url) && strstr(r[0]->error, "wait_for_endpoint_s"));
        tkd_llm_response_free(r[0]);
    }
    tkd_llm_health_info h;
    CHECK_INT(tkd_llm_health_get(c, &h), TKD_LLM_GAVE_UP);
    CHECK(tkd_llm_paused(c));
    CHECK(strstr(h.why, "Connection refused") != NULL);
    /* after giving up, a new request ends at once */
    r[0] = NULL;
    run_tags(c, tags, 1, r);
    if (r[0])
        CHECK_INT(r[0]->status, TKD_LLM_UNAVAILABLE);
    tkd_llm_response_free(r[0]);
    tkd_llm_free(c);
}

/* The endpoint is down while 40 requests are in flight, then comes up: the
 * requests are held, not failed, and go through once it answers. Before,
 * each failure spent a token of the run-wide retry budget (10 + 1 per
 * request), so an outage left about 2 attempts per request whatever
 * max_retries said, and most requests ended as network errors. */
TEST(outage_held) {
    listener l = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    /* bound, not listening: connections are refused until listen() */
    CHECK(l.fd >= 0 && bind(l.fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
          getsockname(l.fd, (struct sockaddr *)&sa, &sl) == 0);
    char url[64], urls[2][64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", ntohs(sa.sin_port));
    tkd_llm_config cfg = base_cfg(urls);
    cfg.base_urls[0] = url;
    cfg.max_retries = 8;
    cfg.retry_budget = 1;
    cfg.max_connections_per_endpoint = 64; /* all N on the wire at once */
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c) {
        close(l.fd);
        return;
    }
    enum { N = 40 };
    tkd_llm_response *r[N] = {0};
    for (int i = 0; i < N; i++) {
        tkd_llm_request q;
        tkd_llm_request_init(&q);
        q.messages = json_pack("[{s:s, s:s}]", "role", "user", "content", "ok");
        q.tag = "ok";
        q.sample = i;
        CHECK_INT(tkd_llm_submit(c, &q, (void *)(intptr_t)i, &e), 0);
        json_decref(q.messages);
    }
    double t0 = tkd_now();
    tkd_llm_health_info h = {0};
    while (tkd_now() - t0 < 1.5) {
        tkd_llm_poll(c, 20);
        tkd_llm_response *resp;
        void *ck;
        while (tkd_llm_next_done(c, &resp, &ck))
            r[(intptr_t)ck] = resp;
    }
    CHECK_INT(tkd_llm_health_get(c, &h), TKD_LLM_DOWN);
    CHECK(tkd_llm_paused(c));
    CHECK(h.held >= N - TKD_LLM_OUTAGE_FAILS);
    CHECK(h.down_since > 0 && h.wait_left_s > 1700);
    CHECK(strstr(h.why, url) != NULL);
    CHECK_INT(tkd_llm_pending(c), N); /* nothing failed */
    /* the endpoint comes up */
    CHECK_INT(listen(l.fd, 64), 0);
    CHECK_INT(pthread_create(&l.th, NULL, accept_main, &l), 0);
    while (tkd_llm_pending(c) > 0 && tkd_now() - t0 < 20) {
        tkd_llm_poll(c, 50);
        tkd_llm_response *resp;
        void *ck;
        while (tkd_llm_next_done(c, &resp, &ck))
            r[(intptr_t)ck] = resp;
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        ok += r[i] && r[i]->status == TKD_LLM_OK && r[i]->attempts >= 2;
        tkd_llm_response_free(r[i]);
    }
    CHECK_INT(ok, N);
    tkd_llm_stats st;
    tkd_llm_get_stats(c, &st);
    CHECK(st.retries <= TKD_LLM_OUTAGE_FAILS); /* only those before the outage was seen are charged */
    CHECK(st.outage_retries >= N - TKD_LLM_OUTAGE_FAILS);
    CHECK(st.health_checks >= 2);
    CHECK_INT(tkd_llm_health_get(c, NULL), TKD_LLM_UP);
    CHECK(!tkd_llm_paused(c));
    tkd_llm_free(c);
    l.stop = 1;
    pthread_join(l.th, NULL);
    close(l.fd);
}

/* The check before a phase: paused until the endpoint answers a minimal
 * request; a refused key is TKD_LLM_REFUSED, not a wait. */
TEST(check_first) {
    char urls[2][64];
    tkd_llm_config cfg = base_cfg(urls);
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    int before = count_of(TKD_LLM_HEALTH_TAG);
    tkd_llm_check(c);
    CHECK(tkd_llm_paused(c));
    double t0 = tkd_now();
    while (tkd_llm_paused(c) && tkd_now() - t0 < 5)
        tkd_llm_poll(c, 20);
    CHECK_INT(tkd_llm_health_get(c, NULL), TKD_LLM_UP);
    CHECK_INT(count_of(TKD_LLM_HEALTH_TAG) - before, 2); /* GET /models, then one chat */
    tkd_llm_free(c);

    setenv("TKD_UNIT_TEST_BADKEY", "refuse-me", 1);
    cfg.api_key_env = "TKD_UNIT_TEST_BADKEY";
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    tkd_llm_check(c);
    t0 = tkd_now();
    while (tkd_llm_health_get(c, NULL) == TKD_LLM_CHECKING && tkd_now() - t0 < 5)
        tkd_llm_poll(c, 20);
    tkd_llm_health_info h;
    CHECK_INT(tkd_llm_health_get(c, &h), TKD_LLM_REFUSED);
    CHECK(tkd_llm_paused(c));
    CHECK(strstr(h.why, "401") && strstr(h.why, "api_key_env") && !strstr(h.why, "refuse-me"));
    tkd_llm_free(c);
}

int main(void) {
    tkd_log_set_level(TKD_LOG_QUIET);
    setenv("TKD_UNIT_TEST_KEY", "sk-unit-SECRET-4242", 1);
    if (server_start()) {
        printf("cannot start the loopback server\n0 passed, 1 failed\n");
        return 1;
    }
    RUN(outcomes);
    RUN(balance_and_aimd);
    RUN(outer_loop);
    RUN(dead_endpoint);
    RUN(cache_rw_then_replay);
    RUN(closed_port);
    RUN(outage_held);
    RUN(check_first);
    server_stop();
    return TEST_END();
}
