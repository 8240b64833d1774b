/*
 * dist: the worker side of work distribution and the MPI transport. Every
 * rank keeps a local queue of leased items, reports completions to rank 0 in
 * batches, and talks two-sided MPI on a private duplicate of the caller's
 * communicator: MPI_Isend for everything it sends (buffers kept until the
 * send completes), MPI_Iprobe + MPI_Recv for everything it receives, so no
 * call here waits on another rank except tkd_dist_create (collective) and
 * tkd_dist_finish (bounded). The coordinator's table lives in coord.c.
 */
#include "dist_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- configuration ---- */

void tkd_dist_cfg_default(tkd_dist_cfg *c) {
    memset(c, 0, sizeof *c);
    c->lease_min = 1;
    c->lease_max = 256;
    c->max_share = 1;
    c->lease_timeout_s = 600;
    c->progress_every_s = 10;
    c->grace_s = 30;
    c->report_every_s = 0; /* 0: derived in create */
    c->label = "dist";
}

void tkd_dist_cfg_from_job(const tkd_job *job, tkd_dist_cfg *c) {
    c->lease_min = tkd_job_int(job, "dist.lease_min");
    c->lease_max = tkd_job_int(job, "dist.lease_max");
    c->max_share = tkd_job_num(job, "dist.max_share");
    c->lease_timeout_s = tkd_job_num(job, "dist.lease_timeout_s");
    c->progress_every_s = tkd_job_num(job, "dist.progress_every_s");
    c->grace_s = tkd_job_num(job, "dist.grace_s");
}

long long tkd_dist_lease_size(const tkd_dist_cfg *c, long long remaining, int ranks) {
    if (remaining <= 0)
        return 0;
    long long lo = c->lease_min > 0 ? c->lease_min : 1;
    long long hi = c->lease_max >= lo ? c->lease_max : lo;
    long long div = (long long)TKD_DIST_LEASE_DIVISOR * (ranks > 0 ? ranks : 1);
    long long k = (remaining + div - 1) / div;
    k = k < lo ? lo : k > hi ? hi : k;
    return k < remaining ? k : remaining;
}

long long tkd_dist_hold_cap(const tkd_dist_cfg *c, long long unfinished, int ranks) {
    long long lo = c->lease_min > 0 ? c->lease_min : 1;
    if (unfinished <= 0)
        return lo;
    double share = c->max_share > 0 ? c->max_share : 1;
    if (share > TKD_DIST_MAX_SHARE_MAX)
        share = TKD_DIST_MAX_SHARE_MAX;
    double k = ceil(share * (double)unfinished / (double)(ranks > 0 ? ranks : 1) - 1e-9);
    if (k >= (double)unfinished)
        return unfinished > lo ? unfinished : lo;
    return (long long)k > lo ? (long long)k : lo;
}

/* ---- small queues of item indices ---- */

int u64vec_push_n(u64vec *q, const uint64_t *x, size_t n) {
    if (q->len + n > q->cap) {
        if (q->head > 0 && q->head >= q->len / 2) { /* reclaim the consumed front */
            memmove(q->v, q->v + q->head, (q->len - q->head) * sizeof *q->v);
            q->len -= q->head;
            q->head = 0;
        }
        if (q->len + n > q->cap) {
            size_t cap = q->cap ? q->cap : 64;
            while (cap < q->len + n)
                cap *= 2;
            uint64_t *v = realloc(q->v, cap * sizeof *v);
            if (!v)
                return TKD_ENOMEM;
            q->v = v;
            q->cap = cap;
        }
    }
    memcpy(q->v + q->len, x, n * sizeof *x);
    q->len += n;
    return 0;
}

int u64vec_push(u64vec *q, uint64_t x) {
    return u64vec_push_n(q, &x, 1);
}

/* ---- transport ---- */

static void mpi_failed(tkd_dist *d, int rc, const char *what) {
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    if (!d->err)
        tkd_log_error("dist: %s failed: %s; stopping this rank", what, msg);
    d->err = TKD_EMPI;
    if (!d->stopping)
        dist_begin_stop_local(d, "an MPI error");
}

int dist_send(tkd_dist *d, int dest, int tag, const uint64_t *hdr, size_t n_hdr, const uint64_t *items,
              size_t n_items) {
    if (d->err)
        return d->err;
    if (n_items > SIZE_MAX / sizeof(uint64_t) - n_hdr - 1) {
        tkd_log_error("dist: a message of %zu items to rank %d is too large", n_items, dest);
        return TKD_ELIMIT;
    }
    size_t n = n_hdr + n_items;
    uint64_t *buf = malloc((n + 1) * sizeof *buf);
    if (!buf) {
        tkd_log_error("dist: out of memory for a message to rank %d", dest);
        return TKD_ENOMEM;
    }
    if (n_hdr)
        memcpy(buf, hdr, n_hdr * sizeof *buf);
    if (n_items)
        memcpy(buf + n_hdr, items, n_items * sizeof *buf);
    if (d->n_sends == d->cap_sends) {
        size_t cap = d->cap_sends ? 2 * d->cap_sends : 16;
        pending_send *s = realloc(d->sends, cap * sizeof *s);
        if (!s) {
            free(buf);
            tkd_log_error("dist: out of memory for a message to rank %d", dest);
            return TKD_ENOMEM;
        }
        d->sends = s;
        d->cap_sends = cap;
    }
    pending_send *p = &d->sends[d->n_sends];
    int rc = MPI_Isend(buf, (int)n, MPI_UINT64_T, dest, tag, d->comm, &p->req);
    if (rc != MPI_SUCCESS) {
        free(buf);
        mpi_failed(d, rc, "MPI_Isend");
        return TKD_EMPI;
    }
    p->buf = buf;
    d->n_sends++;
    if (d->rank != 0)
        d->last_send = tkd_now();
    return 0;
}

/* Free the buffers of sends that completed. */
static void reap_sends(tkd_dist *d) {
    size_t j = 0;
    for (size_t i = 0; i < d->n_sends; i++) {
        int flag = 0;
        int rc = MPI_Test(&d->sends[i].req, &flag, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            mpi_failed(d, rc, "MPI_Test");
            flag = 1; /* drop it: the request is gone */
        }
        if (flag)
            free(d->sends[i].buf);
        else
            d->sends[j++] = d->sends[i];
    }
    d->n_sends = j;
}

void dist_take_grant(tkd_dist *d, const uint64_t *items, size_t n) {
    d->req_out = 0;
    if (d->stopping || d->finished || !n)
        return;
    if (u64vec_push_n(&d->q, items, n)) {
        tkd_log_error("dist: out of memory for a lease of %zu items; they will be re-issued", n);
        return;
    }
    d->st.leases++;
    if (d->st.leases == 1)
        d->st.lease_first = n, d->st.lease_smallest = n;
    else if (n > d->st.lease_last)
        d->st.lease_grew++;
    d->st.lease_last = n;
    if (n < d->st.lease_smallest)
        d->st.lease_smallest = n;
    if (n > d->st.lease_largest)
        d->st.lease_largest = n;
}

void dist_begin_stop_local(tkd_dist *d, const char *why) {
    if (d->stopping)
        return;
    d->stopping = 1;
    d->stop_t = tkd_now();
    size_t dropped = u64vec_size(&d->q);
    u64vec_clear(&d->q);
    tkd_log_info("dist: stopping on %s: no new items, %zu queued items left for a re-run; "
                 "work in flight has %.0f s (dist.grace_s)",
                 why, dropped, d->cfg.grace_s);
}

/* The worker side of the stop: tell the coordinator, which tells everyone. */
static void begin_stop(tkd_dist *d, const char *why) {
    if (d->stopping)
        return;
    dist_begin_stop_local(d, why);
    if (d->rank == 0)
        coord_stop(d, 0);
    else
        dist_send(d, 0, TAG_WSTOP, NULL, 0, NULL, 0);
}

static int ensure_rbuf(tkd_dist *d, size_t n) {
    if (n <= d->rbuf_cap)
        return 0;
    uint64_t *b = realloc(d->rbuf, n * sizeof *b);
    if (!b)
        return TKD_ENOMEM;
    d->rbuf = b;
    d->rbuf_cap = n;
    return 0;
}

static void handle(tkd_dist *d, int src, int tag, const uint64_t *m, size_t n) {
    if (d->rank == 0) {
        if (src <= 0 || src >= d->size)
            return;
        switch (tag) {
        case TAG_REQ:
            if (n >= 2 && m[1] == n - 2)
                coord_request(d, src, m[0], m + 2, n - 2);
            else
                tkd_log_warn("dist: malformed request from rank %d ignored", src);
            break;
        case TAG_BYE:
            if (n >= 1 && m[0] == n - 1)
                coord_bye(d, src, m + 1, n - 1);
            else
                coord_bye(d, src, NULL, 0);
            break;
        case TAG_WSTOP: coord_stop(d, src); break;
        default: tkd_log_warn("dist: unexpected message (tag %d) from rank %d ignored", tag, src);
        }
        return;
    }
    if (src != 0)
        return;
    switch (tag) {
    case TAG_GRANT: dist_take_grant(d, m, n); break;
    case TAG_FINISHED:
        d->finished = 1;
        d->req_out = 0;
        u64vec_clear(&d->q);
        break;
    case TAG_CSTOP:
        d->req_out = 0;
        dist_begin_stop_local(d, "a stop from the coordinator");
        break;
    case TAG_BYEACK:
        d->bye_acked = 1;
        d->all_done_acked = n >= 1 && m[0] == 1;
        break;
    default: tkd_log_warn("dist: unexpected message (tag %d) from the coordinator ignored", tag);
    }
}

static void receive(tkd_dist *d) {
    for (int k = 0; k < TKD_DIST_MAX_MSGS_PER_POLL && !d->err; k++) {
        int flag = 0;
        MPI_Status s;
        int rc = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, d->comm, &flag, &s);
        if (rc != MPI_SUCCESS) {
            mpi_failed(d, rc, "MPI_Iprobe");
            return;
        }
        if (!flag)
            return;
        int count = 0;
        MPI_Get_count(&s, MPI_UINT64_T, &count);
        if (count < 0 || ensure_rbuf(d, (size_t)count + 1)) {
            tkd_log_error("dist: cannot receive a message of %d items from rank %d", count, s.MPI_SOURCE);
            d->err = TKD_ENOMEM;
            return;
        }
        rc = MPI_Recv(d->rbuf, count, MPI_UINT64_T, s.MPI_SOURCE, s.MPI_TAG, d->comm, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            mpi_failed(d, rc, "MPI_Recv");
            return;
        }
        handle(d, s.MPI_SOURCE, s.MPI_TAG, d->rbuf, (size_t)count);
    }
}

/* A worker sends its completions (and a heartbeat) when many pend, when its
 * queue is empty (the tail of the run: the coordinator may be waiting for
 * exactly these), or when it has been quiet for report_every_s. */
static void report(tkd_dist *d, int force) {
    if (d->rank == 0 || d->err)
        return;
    size_t n = u64vec_size(&d->pend);
    /* with nothing left in the local queue, the end may hinge on these: send now */
    if (n && !u64vec_size(&d->q))
        force = 1;
    if (!force && n < TKD_DIST_REPORT_BATCH && tkd_now() - d->last_send < d->cfg.report_every_s)
        return;
    uint64_t hdr[2] = {0, n};
    if (!dist_send(d, 0, TAG_REQ, hdr, 2, d->pend.v + d->pend.head, n))
        u64vec_clear(&d->pend);
}

/* ---- the public face ---- */

int tkd_dist_create(MPI_Comm comm, uint64_t n_items, const uint8_t *done, const tkd_dist_cfg *cfg, tkd_dist **out,
                    tkd_err *e) {
    *out = NULL;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited)
        return tkd_err_set(e, TKD_EINTERNAL, "dist: MPI is not initialised (call MPI_Init_thread first)");
    uint64_t mm[2] = {n_items, ~n_items}, agree[2];
    if (MPI_Allreduce(mm, agree, 2, MPI_UINT64_T, MPI_MAX, comm) != MPI_SUCCESS)
        return tkd_err_set(e, TKD_EMPI, "dist: MPI_Allreduce failed while agreeing on the item count");
    if (agree[0] != n_items || ~agree[1] != n_items)
        return tkd_err_set(e, TKD_EINVAL,
                           "dist: ranks disagree on the number of items (this rank has %llu): every rank must "
                           "list the same items",
                           (unsigned long long)n_items);
    tkd_dist *d = tkd_calloc(1, sizeof *d, e);
    if (!d)
        return TKD_ENOMEM;
    d->cfg = *cfg;
    if (!d->cfg.label)
        d->cfg.label = "dist";
    if (d->cfg.report_every_s <= 0) {
        double r = d->cfg.lease_timeout_s / 4;
        if (d->cfg.progress_every_s > 0 && d->cfg.progress_every_s < r)
            r = d->cfg.progress_every_s;
        d->cfg.report_every_s = r > 0.05 ? r : 0.05;
    }
    d->n = n_items;
    d->t0 = tkd_now();
    d->last_send = d->t0;
    d->comm = MPI_COMM_NULL;
    if (MPI_Comm_dup(comm, &d->comm) != MPI_SUCCESS) {
        free(d);
        return tkd_err_set(e, TKD_EMPI, "dist: MPI_Comm_dup failed");
    }
    MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(d->comm, &d->rank);
    MPI_Comm_size(d->comm, &d->size);
    d->st.rank = d->rank;
    d->st.ranks = d->size;
    if (d->rank == 0) {
        int rc = coord_init(d, done, e);
        if (rc) {
            tkd_dist_free(d);
            return tkd_err_set(e, rc, "dist: out of memory for the lease table of %llu items",
                               (unsigned long long)n_items);
        }
        tkd_log_info("%s: %llu items, %llu already done, %d ranks; leases of %lld..%lld items", d->cfg.label,
                     (unsigned long long)n_items, (unsigned long long)d->done_before, d->size, d->cfg.lease_min,
                     d->cfg.lease_max);
        if (d->done == d->n) {
            d->all_done = 1;
            d->finished = 1;
            d->end_t = d->t0;
            for (int r = 1; r < d->size; r++)
                dist_send(d, r, TAG_FINISHED, NULL, 0, NULL, 0);
        }
    }
    *out = d;
    return 0;
}

int tkd_dist_poll(tkd_dist *d) {
    int sig = tkd_dist_signal_pending();
    if (sig && !d->stopping) {
        char why[48];
        snprintf(why, sizeof why, "signal %d", sig);
        begin_stop(d, why);
    }
    receive(d);
    if (d->rank == 0)
        coord_poll(d);
    else if (!d->stopping && !d->finished)
        report(d, 0);
    if (d->n_sends)
        reap_sends(d);
    return d->err;
}

int tkd_dist_next(tkd_dist *d, uint64_t *item) {
    if (d->stopping)
        return TKD_DIST_STOPPED;
    if (d->finished)
        return TKD_DIST_FINISHED;
    if (!u64vec_size(&d->q) && !d->req_out && !d->err) {
        d->req_out = 1;
        uint64_t want = d->cfg.lease_max > 0 ? (uint64_t)d->cfg.lease_max : 1;
        if (d->room_set && d->room < want)
            want = d->room ? d->room : 1;
        if (d->rank == 0) {
            if (!d->rs[0].parked_want)
                coord_request(d, 0, want, NULL, 0);
            d->req_out = d->rs[0].parked_want > 0;
        } else {
            size_t n = u64vec_size(&d->pend);
            uint64_t hdr[2] = {want, n};
            if (!dist_send(d, 0, TAG_REQ, hdr, 2, d->pend.v + d->pend.head, n))
                u64vec_clear(&d->pend);
            else
                d->req_out = 0;
        }
    }
    if (d->finished)
        return TKD_DIST_FINISHED;
    if (!u64vec_size(&d->q))
        return TKD_DIST_NONE_YET;
    *item = d->q.v[d->q.head++];
    if (!u64vec_size(&d->q))
        u64vec_clear(&d->q);
    d->st.items_taken++;
    if (d->room)
        d->room--;
    return TKD_DIST_ITEM;
}

void tkd_dist_room(tkd_dist *d, uint64_t room) {
    d->room_set = 1;
    d->room = room;
}

void tkd_dist_complete(tkd_dist *d, uint64_t item) {
    d->st.items_completed++;
    if (d->rank == 0) {
        coord_request(d, 0, 0, &item, 1);
        return;
    }
    if (u64vec_push(&d->pend, item))
        tkd_log_warn("dist: out of memory recording a completion; the progress count will lag");
    if (u64vec_size(&d->pend) >= TKD_DIST_REPORT_BATCH && !d->stopping)
        report(d, 1);
}

void tkd_dist_stop(tkd_dist *d) {
    begin_stop(d, "a stop request");
}

int tkd_dist_stopping(const tkd_dist *d) {
    return d->stopping;
}

double tkd_dist_grace_left(const tkd_dist *d) {
    if (!d->stopping)
        return 1e30;
    return d->stop_t + d->cfg.grace_s - tkd_now();
}

static void nap(void) {
    struct timespec ts = {0, 200000}; /* 0.2 ms: let other ranks on the same cores run */
    nanosleep(&ts, NULL);
}

int tkd_dist_finish(tkd_dist *d, tkd_dist_stats *st, tkd_err *e) {
    if (!d)
        return 0;
    double now = tkd_now();
    if (d->rank == 0 && !d->all_done && !d->stopping)
        begin_stop(d, "the coordinator leaving early"); /* nobody else may wait for leases forever */
    double base = d->stopping ? d->stop_t : now;
    double deadline = (base + d->cfg.grace_s > now ? base + d->cfg.grace_s : now) + TKD_DIST_FINISH_MARGIN_S;
    int rc = 0;
    if (d->rank == 0) {
        while (!coord_all_bye(d) && tkd_now() < deadline && !d->err) {
            receive(d);
            if (d->n_sends)
                reap_sends(d);
            nap();
        }
        if (!coord_all_bye(d)) {
            for (int r = 1; r < d->size; r++)
                if (!d->rs[r].bye)
                    tkd_log_warn("dist: rank %d did not say goodbye in time", r);
        }
        coord_final_line(d);
        rc = d->all_done ? 0 : TKD_ESTOP;
    } else {
        size_t n = u64vec_size(&d->pend);
        uint64_t hdr[1] = {n};
        dist_send(d, 0, TAG_BYE, hdr, 1, d->pend.v + d->pend.head, n);
        while (!d->bye_acked && tkd_now() < deadline && !d->err) {
            receive(d);
            if (d->n_sends)
                reap_sends(d);
            if (!d->bye_acked)
                nap();
        }
        if (!d->bye_acked)
            tkd_log_warn("dist: the coordinator did not acknowledge this rank's goodbye in time");
        /* the coordinator's word decides: everything may have been done just as a stop came */
        rc = (d->bye_acked ? d->all_done_acked : d->finished && !d->stopping) ? 0 : TKD_ESTOP;
    }
    /* let our last messages leave (bounded) */
    while (d->n_sends && tkd_now() < deadline && !d->err) {
        reap_sends(d);
        receive(d);
        if (d->n_sends)
            nap();
    }
    if (d->err)
        rc = tkd_err_set(e, d->err, "dist: an MPI call failed on rank %d (see the log above)", d->rank);
    else if (rc == TKD_ESTOP)
        tkd_err_set(e, TKD_ESTOP, "stopped before every item was done; a re-run resumes");
    if (st)
        tkd_dist_get_stats(d, st);
    tkd_dist_free(d);
    return rc;
}

void tkd_dist_free(tkd_dist *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->n_sends; i++) {
        int flag = 0;
        MPI_Test(&d->sends[i].req, &flag, MPI_STATUS_IGNORE);
        if (!flag) {
            MPI_Cancel(&d->sends[i].req);
            MPI_Request_free(&d->sends[i].req);
            continue; /* the buffer may still be read by MPI: leak it rather than corrupt */
        }
        free(d->sends[i].buf);
    }
    free(d->sends);
    if (d->comm != MPI_COMM_NULL)
        MPI_Comm_free(&d->comm);
    coord_free(d);
    free(d->q.v);
    free(d->pend.v);
    free(d->rbuf);
    free(d);
}

void tkd_dist_get_stats(const tkd_dist *d, tkd_dist_stats *st) {
    *st = d->st;
    st->elapsed_s = tkd_now() - d->t0;
    if (d->rank == 0) {
        st->total = d->n;
        st->done_before = d->done_before;
        st->done = d->done;
        st->duplicates = d->dups;
        st->reissued = d->reissued;
        int a = 0;
        for (int r = 0; r < d->size; r++) {
            a += !d->rs[r].dead;
            uint64_t c = d->rs[r].completed;
            if (r == 0 || c < st->rank_done_min)
                st->rank_done_min = c, st->rank_done_min_at = r;
            if (r == 0 || c > st->rank_done_max)
                st->rank_done_max = c, st->rank_done_max_at = r;
        }
        st->ranks_alive = a;
    }
}
