/*
 * llm_int (private to module llm): the client's state, shared by its event
 * loop (llm_client.c) and the endpoint checks that wait out an outage
 * (llm_health.c).
 */
#ifndef TKD_LLM_INT_H
#define TKD_LLM_INT_H

#include "llm_writer.h"
#include "tkd/llm.h"

#include <curl/curl.h>

typedef struct job {
    void *cookie;
    char *body;
    size_t body_len;
    char key[65];
    char *tag;
    struct curl_slist *hdrs; /* own header list when tagged, else NULL */
    int attempts;
    int outage_attempts; /* attempts that failed while every endpoint was down (not charged) */
    int ep;
    int probe; /* 0: a request; 1, 2: an endpoint check (GET /models, then a minimal chat) */
    double t_submit, t_due;
    double retry_after; /* of the last failure, for a held request */
    CURL *easy;
    tkd_buf rx;
    tkd_llm_response *resp; /* when finished */
    tkd_llm_status last_kind;
    int last_http;
    char last_error[256];
    struct job *next;
    struct job *wprev, *wnext; /* the list of jobs on the wire */
} job;

typedef struct endpoint {
    char *url;        /* base + "/chat/completions" */
    char *models_url; /* base + "/models" */
    int outstanding;
    int cap;
    int conn_failures; /* connection failures in a row (reset by any HTTP reply) */
    double down_until; /* skipped until then while another endpoint is up */
    int out_fails;     /* outage-like failures in a row (tkd_llm_is_outage; reset by any other reply) */
    job *probe;        /* the check on the wire, or NULL */
    int verdict;       /* of the last check: PROBE_* in llm_health.c */
    char why[200];     /* what the check got */
    char errbuf[CURL_ERROR_SIZE];
} endpoint;

typedef struct queue {
    job *head, *tail;
    int n;
} queue;

struct tkd_llm {
    tkd_llm_config cfg;
    char *model, *cache_dir, *ca_file; /* owned copies of cfg strings */
    tkd_llm_writer *writer;            /* cache writes (read-write mode) */
    CURLM *multi;
    int epfd;
    double curl_deadline; /* monotonic; < 0: none */
    endpoint eps[TKD_LLM_MAX_ENDPOINTS];
    int n_eps;
    struct curl_slist *hdrs;
    queue ready_retry, ready, done;
    job **heap; /* back-off: min-heap on t_due */
    size_t heap_n, heap_cap;
    CURL **idle; /* easy handles to reuse */
    int n_idle, cap_idle;
    job *wire;   /* jobs on the wire */
    int ep_full; /* the last dispatch found no endpoint with room */
    int in_flight, pending;
    double limit, last_cut, win_start;
    int win_total, win_overload;
    double retry_tokens;
    tkd_rng rng;
    tkd_llm_stats st;
    /* endpoint health (llm_health.c) */
    tkd_llm_health health;
    int initial;         /* the check asked for by tkd_llm_check: a refusal is final */
    int probing;         /* checks on the wire */
    double down_since;   /* monotonic; when the failures began */
    double down_wall;    /* the same in Unix time */
    double next_check;   /* monotonic; DOWN: when the next check starts */
    double check_delay;  /* DOWN: the pause before the next check */
    double limit_before; /* the in-flight limit when the failures began (503s of an outage cut it) */
    queue held;          /* requests that failed while the endpoints were (maybe) down */
    struct curl_slist *check_hdrs;
    char *check_body;
    char why[768];
};

/* llm_client.c */
void llm_q_push(queue *q, job *j);
job *llm_q_pop(queue *q);
void llm_job_free(job *j);
void llm_finish(tkd_llm *c, job *j, tkd_llm_status st, const char *err);
/* A failure charged to the request's max_retries and the retry budget:
 * back off and go again, or give up. */
void llm_retry_charged(tkd_llm *c, job *j);
/* Pop the earliest job of the back-off heap. */
job *llm_heap_pop(tkd_llm *c);

/* llm_health.c */
int llm_health_init(tkd_llm *c, tkd_err *e);
void llm_health_free(tkd_llm *c);
/* An outage-like failure of j: 1 when the request is held (not charged),
 * 0 when it is an ordinary failure. */
int llm_health_hold(tkd_llm *c, job *j);
/* Any reply but an outage-like one: the endpoint is there. */
void llm_health_alive(tkd_llm *c, int ep);
/* Start checks that are due; after giving up, end every waiting request. */
void llm_health_tick(tkd_llm *c);
/* A check's transfer ended. */
void llm_health_probe_done(tkd_llm *c, job *j, CURLcode res);
/* Seconds to the next health event (< 0: none). */
double llm_health_due(const tkd_llm *c, double now);
/* May requests be sent? (not while every endpoint is down) */
int llm_health_sending(const tkd_llm *c);

#endif
