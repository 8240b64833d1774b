/*
 * The event loop shared by the agent phases (see runner.h), moved out of
 * solve.c so that solve and backtranslate run on one loop: dist leases, the
 * network of every LLM client, flush-then-report of durable items, progress
 * and the stop with its grace period.
 */
#include "runner.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

int phase_run_init(phase_run *r, const char *label, int cap, tkd_err *e) {
    memset(r, 0, sizeof *r);
    r->label = label;
    r->cap = cap > 0 ? cap : 1;
    r->unflushed = tkd_calloc((size_t)r->cap, sizeof *r->unflushed, e);
    return r->unflushed ? 0 : TKD_ENOMEM;
}

void phase_run_free(phase_run *r) {
    if (r->dist)
        tkd_dist_free(r->dist);
    if (r->shard)
        tkd_store_close(r->shard, NULL);
    for (int i = 0; i < r->n_llm; i++)
        tkd_llm_free(r->llm[i]);
    free(r->unflushed);
    memset(r, 0, sizeof *r);
}

/* Flush the shard and report the items written since the last flush: dist
 * counts an item done only when its rows survive a kill -9 of this rank. */
int phase_report_durable(phase_run *r, int force, tkd_err *e) {
    double now = tkd_now();
    if (!r->n_unflushed || (!force && r->n_unflushed < r->cap && now - r->last_flush < PHASE_FLUSH_S))
        return 0;
    int rc = tkd_store_flush(r->shard, e);
    if (rc)
        return tkd_err_wrap(e, "%s: flushing %s", r->label, tkd_store_path(r->shard));
    for (int i = 0; i < r->n_unflushed; i++)
        tkd_dist_complete(r->dist, r->unflushed[i]);
    r->n_unflushed = 0;
    r->last_flush = now;
    return 0;
}

int phase_written(phase_run *r, uint64_t item, tkd_err *e) {
    int rc;
    if (r->n_unflushed == r->cap && (rc = phase_report_durable(r, 1, e)))
        return rc;
    r->unflushed[r->n_unflushed++] = item; /* reported to dist once flushed */
    return 0;
}

/* Run the network of every client for at most timeout_ms. */
static int poll_net(phase_run *r, int timeout_ms) {
    if (r->n_llm == 1)
        return tkd_llm_poll(r->llm[0], timeout_ms);
    if (timeout_ms > 0) {
        struct pollfd fds[PHASE_MAX_CLIENTS];
        int t = timeout_ms;
        for (int i = 0; i < r->n_llm; i++) {
            fds[i].fd = tkd_llm_fd(r->llm[i]);
            fds[i].events = POLLIN;
            fds[i].revents = 0;
            int ti = tkd_llm_timeout_ms(r->llm[i]);
            if (ti >= 0 && ti < t)
                t = ti;
        }
        if (t > 0)
            poll(fds, (nfds_t)r->n_llm, t);
    }
    int n = 0;
    for (int i = 0; i < r->n_llm; i++) {
        int pr = tkd_llm_poll(r->llm[i], 0);
        if (pr < 0)
            return pr;
        n += pr;
    }
    return n;
}

int phase_loop(phase_run *r, const phase_hooks *h, tkd_err *e) {
    tkd_dist *d = r->dist;
    int finished = 0, rc = 0;
    for (;;) {
        if ((rc = tkd_dist_poll(d)))
            return tkd_err_set(e, rc, "%s: work distribution failed (see the log above)", r->label);
        /* the endpoints' health: no new work while one is checked or down */
        int paused = 0, worked = 0;
        for (int i = 0; i < r->n_llm; i++) {
            tkd_llm_health_info hi;
            tkd_llm_health hs = tkd_llm_health_get(r->llm[i], &hi);
            if (hs == TKD_LLM_REFUSED)
                return tkd_err_set(e, TKD_EINVAL, "%s: the teacher refuses a minimal request: %s", r->label, hi.why);
            if (hs == TKD_LLM_GAVE_UP) {
                tkd_log_error("%s: %s; stopping: exit 3, run %s again once the teacher is up", r->label, hi.why,
                              r->label);
                r->gave_up = 1;
                tkd_dist_stop(d); /* every rank stops; nothing in flight can finish */
                return 0;
            }
            paused |= hs != TKD_LLM_UP;
        }
        int room = paused ? 0 : h->room(h->ctx);
        tkd_dist_room(d, (uint64_t)(room > 0 ? room : 0)); /* a lease asks for what fits (fair leases) */
        while (!paused && !finished && h->room(h->ctx) > 0) {
            uint64_t it;
            int got = tkd_dist_next(d, &it);
            if (got == TKD_DIST_FINISHED)
                finished = 1;
            if (got != TKD_DIST_ITEM)
                break;
            if (it >= r->n_items)
                return tkd_err_set(e, TKD_EINTERNAL, "%s: dist handed out item %llu of %llu", r->label,
                                   (unsigned long long)it, (unsigned long long)r->n_items);
            if ((rc = h->start(h->ctx, it, e)))
                return rc;
            worked++;
        }
        if (finished)
            break; /* every item is done; anything still in flight was done elsewhere */
        int busy = h->busy ? h->busy(h->ctx) : 0;
        int pr = poll_net(r, worked ? 0 : busy ? PHASE_BUSY_POLL_MS : PHASE_POLL_MS);
        if (pr < 0)
            return tkd_err_set(e, pr, "%s: the teacher client failed: %s", r->label, tkd_strerror(pr));
        for (int i = 0; i < r->n_llm; i++) {
            tkd_llm_response *resp;
            void *ck;
            while (tkd_llm_next_done(r->llm[i], &resp, &ck)) {
                if (resp->status == TKD_LLM_UNAVAILABLE) { /* the client gave up: the item is not recorded */
                    tkd_llm_response_free(resp);
                    continue;
                }
                rc = h->on_llm(h->ctx, resp, ck, e);
                tkd_llm_response_free(resp);
                if (rc)
                    return rc;
                worked++;
            }
        }
        if (busy && h->poll_more && (rc = h->poll_more(h->ctx, &worked, e)))
            return rc;
        if ((rc = phase_report_durable(r, tkd_dist_stopping(d), e)))
            return rc;
        h->progress(h->ctx, 0);
        if (tkd_dist_stopping(d)) {
            int n = h->in_flight(h->ctx), down = 0;
            if (n == 0)
                break;
            for (int i = 0; i < r->n_llm; i++)
                down |= tkd_llm_health_get(r->llm[i], NULL) == TKD_LLM_DOWN;
            if (down) {
                tkd_log_warn("%s: stopping while the teacher is down: abandoning %d in flight (a re-run redoes them)",
                             r->label, n);
                break;
            }
            if (tkd_dist_grace_left(d) <= 0) {
                tkd_log_warn("%s: grace period over: abandoning %d in flight (a re-run redoes them; the response "
                             "cache answers what was asked)",
                             r->label, n);
                break;
            }
        }
    }
    return 0;
}

int phase_agree(MPI_Comm comm, int *rc, const char *label, tkd_err *e) {
    int worst = 0;
    MPI_Allreduce(rc, &worst, 1, MPI_INT, MPI_MIN, comm);
    if (worst && !*rc)
        *rc = tkd_err_set(e, worst, "%s: another rank failed to start (see its message)", label);
    return worst != 0;
}

int phase_open_shard(phase_run *r, const tkd_job *job, const char *dir, int rank, tkd_phase phase,
                     const char *const *inputs, int n_inputs, char **path, tkd_err *e) {
    int attempt = 0, rc;
    *path = NULL;
    if ((rc = tkd_store_next_attempt(dir, rank, &attempt, e)) || !(*path = tkd_store_shard_path(dir, rank, attempt, e)))
        return rc ? rc : TKD_ENOMEM;
    char *manifest = tkd_store_manifest(job, inputs, n_inputs, e);
    if (!manifest)
        return e->code ? e->code : TKD_ENOMEM;
    tkd_store_meta meta = {phase, rank, attempt, job->text, job->sha256, manifest};
    rc = tkd_store_create(*path, &meta, &r->shard, e);
    free(manifest);
    if (!rc)
        tkd_store_set_flush_every(r->shard, (size_t)tkd_job_int(job, "store.flush_every"));
    return rc;
}

int phase_close(phase_run *r, int rc, tkd_dist_stats *st, tkd_err *e) {
    /* flush and close the shard before saying goodbye: what dist counts is durable */
    tkd_err ce = {0};
    int crc = tkd_store_close_shard(r->shard, &ce);
    r->shard = NULL;
    if (crc && !rc) {
        rc = crc;
        *e = ce;
    }
    if (!crc) /* closed, so durable */
        for (int i = 0; i < r->n_unflushed; i++)
            tkd_dist_complete(r->dist, r->unflushed[i]);
    r->n_unflushed = 0;
    tkd_err fe = {0};
    memset(st, 0, sizeof *st);
    int frc = tkd_dist_finish(r->dist, st, &fe);
    r->dist = NULL;
    if (!rc && frc) {
        rc = frc;
        *e = fe;
    }
    return rc;
}

uint64_t phase_pair_key(uint64_t pid, uint32_t sample) {
    uint64_t z = pid ^ (0x9e3779b97f4a7c15ull * ((uint64_t)sample + 1));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct done_ctx {
    tkd_idset *set;
    tkd_phase phase;
} done_ctx;

static int done_row(void *ctx, const char *shard, const tkd_record *rec) {
    (void)shard;
    done_ctx *x = ctx;
    if (rec->phase != x->phase || !tkd_status_is_final(rec->status))
        return 0;
    return tkd_idset_add(x->set, phase_pair_key(rec->pid, rec->sample)) < 0 ? TKD_ENOMEM : 0;
}

int phase_done_pairs(const char *dir, tkd_phase phase, tkd_idset *set, tkd_err *e) {
    done_ctx x = {set, phase};
    int rc = tkd_store_scan_dir(dir, done_row, &x, e);
    if (rc == TKD_ENOMEM && !e->msg[0])
        tkd_err_set(e, rc, "out of memory for the done-set of '%s'", dir);
    return rc;
}
