/*
 * llm_writer: the response cache's background writer (see llm_writer.h).
 * One thread per client, a FIFO under a mutex; failures are logged and the
 * entry dropped (a missing entry is only a future cache miss).
 */
#include "llm_writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
    char key[65];
    tkd_llm_cache_entry ent;
    struct item *next;
} item;

struct tkd_llm_writer {
    char *dir;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv, idle;
    item *head, *tail;
    int n, busy, stop;
    long long written;
};

static void write_one(tkd_llm_writer *w, const char *key, const tkd_llm_cache_entry *ent) {
    tkd_err e = {0};
    int rc = tkd_llm_cache_put(w->dir, key, ent, &e);
    if (rc)
        tkd_log_warn("%s", e.msg);
    pthread_mutex_lock(&w->mu);
    w->written += rc == 0;
    pthread_mutex_unlock(&w->mu);
}

static void *writer_main(void *arg) {
    tkd_llm_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head)
            break; /* stop, and nothing left */
        item *it = w->head;
        w->head = it->next;
        if (!w->head)
            w->tail = NULL;
        w->n--;
        w->busy = 1;
        pthread_mutex_unlock(&w->mu);
        write_one(w, it->key, &it->ent);
        free(it->ent.body);
        free(it);
        pthread_mutex_lock(&w->mu);
        w->busy = 0;
        if (!w->head)
            pthread_cond_broadcast(&w->idle);
    }
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int tkd_llm_writer_start(const char *dir, tkd_llm_writer **out, tkd_err *e) {
    *out = NULL;
    tkd_llm_writer *w = tkd_calloc(1, sizeof *w, e);
    if (!w)
        return TKD_ENOMEM;
    if (!(w->dir = tkd_strdup(dir, e))) {
        free(w);
        return TKD_ENOMEM;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->idle, NULL);
    if (pthread_create(&w->th, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        pthread_cond_destroy(&w->idle);
        free(w->dir);
        free(w);
        return tkd_err_set(e, TKD_ENOMEM, "cannot start the response-cache writer thread");
    }
    *out = w;
    return 0;
}

int tkd_llm_writer_put(tkd_llm_writer *w, const char key[65], const tkd_llm_cache_entry *ent) {
    item *it = calloc(1, sizeof *it);
    char *body = it ? malloc(ent->body_len + 1) : NULL;
    pthread_mutex_lock(&w->mu);
    int full = w->n >= TKD_LLM_WRITER_MAX_QUEUE;
    pthread_mutex_unlock(&w->mu);
    if (!body || full) { /* out of memory or a queue too long: write it here */
        free(it);
        free(body);
        write_one(w, key, ent);
        return 0;
    }
    memcpy(body, ent->body, ent->body_len);
    body[ent->body_len] = 0;
    memcpy(it->key, key, sizeof it->key);
    it->ent = *ent;
    it->ent.body = body;
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = it;
    else
        w->head = it;
    w->tail = it;
    w->n++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

long long tkd_llm_writer_written(tkd_llm_writer *w) {
    pthread_mutex_lock(&w->mu);
    long long n = w->written;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void tkd_llm_writer_flush(tkd_llm_writer *w) {
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    while (w->head || w->busy)
        pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void tkd_llm_writer_stop(tkd_llm_writer *w) {
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->idle);
    free(w->dir);
    free(w);
}
