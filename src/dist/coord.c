/*
 * The coordinator (rank 0): a lease table over item indices, a queue of items
 * not yet leased, per-rank liveness, re-issue of silent ranks' leases when the
 * queue runs dry, the STOP and FINISHED broadcasts, and the progress line.
 * Fairness: a grant never lifts a rank above tkd_dist_hold_cap (its share of
 * the unfinished items); a request that would is parked and served when the
 * rank reports completions (or by the periodic check, when ranks leave).
 * Rank 0 is also a worker: its own requests come in through coord_request
 * with src 0 and are answered by filling its local queue, without MPI.
 */
#include "dist_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often parked requests look for silent ranks' leases. */
#define REISSUE_CHECK_S 0.25

int coord_init(tkd_dist *d, const uint8_t *done, tkd_err *e) {
    size_t n = (size_t)d->n;
    d->state = tkd_calloc(n ? n : 1, 1, e);
    d->owner = tkd_malloc((n ? n : 1) * sizeof *d->owner, e);
    d->rs = tkd_calloc((size_t)d->size, sizeof *d->rs, e);
    if (!d->state || !d->owner || !d->rs)
        return TKD_ENOMEM;
    double now = tkd_now();
    for (int r = 0; r < d->size; r++)
        d->rs[r].last_heard = now;
    for (size_t i = 0; i < n; i++) {
        d->owner[i] = -1;
        if (done && done[i]) {
            d->state[i] = IT_DONE;
            d->done_before++;
        } else if (u64vec_push(&d->cq, i)) {
            return tkd_err_set(e, TKD_ENOMEM, "dist: out of memory for a queue of %zu items", n);
        }
    }
    d->done = d->done_before;
    d->last_progress = d->last_check = now;
    return 0;
}

void coord_free(tkd_dist *d) {
    free(d->state);
    free(d->owner);
    free(d->rs);
    free(d->cq.v);
    d->state = NULL;
    d->owner = NULL;
    d->rs = NULL;
    d->cq.v = NULL;
}

static int ranks_alive(const tkd_dist *d) {
    int a = 0;
    for (int r = 0; r < d->size; r++)
        a += !d->rs[r].dead && !d->rs[r].bye;
    return a ? a : 1;
}

static void heard(tkd_dist *d, int src) {
    rank_state *s = &d->rs[src];
    s->last_heard = tkd_now();
    if (s->dead && !s->bye) {
        s->dead = 0;
        tkd_log_info("dist: rank %d is heard from again", src);
    }
}

static void broadcast(tkd_dist *d, int tag) {
    for (int r = 1; r < d->size; r++)
        if (!d->rs[r].bye)
            dist_send(d, r, tag, NULL, 0, NULL, 0);
}

static void check_all_done(tkd_dist *d) {
    if (d->all_done || d->done < d->n)
        return;
    d->all_done = 1;
    d->end_t = tkd_now();
    d->finished = 1;
    u64vec_clear(&d->q);
    for (int r = 0; r < d->size; r++)
        d->rs[r].parked_want = 0;
    if (!d->stopping)
        broadcast(d, TAG_FINISHED);
}

static void mark_done(tkd_dist *d, int src, uint64_t item) {
    if (item >= d->n) {
        tkd_log_warn("dist: rank %d reported item %llu, beyond the %llu items; ignored", src, (unsigned long long)item,
                     (unsigned long long)d->n);
        return;
    }
    if (d->state[item] == IT_DONE) {
        d->dups++;
        return;
    }
    if (d->state[item] == IT_LEASED && d->owner[item] >= 0 && d->rs[d->owner[item]].outstanding > 0)
        d->rs[d->owner[item]].outstanding--;
    d->state[item] = IT_DONE;
    d->owner[item] = -1;
    d->done++;
    d->rs[src].completed++;
}

/* Give back to the queue every item leased to rank r and not done. */
static uint64_t requeue_rank(tkd_dist *d, int r) {
    uint64_t k = 0;
    if (!d->rs[r].outstanding)
        return 0;
    for (uint64_t i = 0; i < d->n; i++)
        if (d->state[i] == IT_LEASED && d->owner[i] == r) {
            d->state[i] = IT_QUEUED;
            d->owner[i] = -1;
            if (u64vec_push(&d->cq, i)) {
                /* out of memory: keep the lease as it is; the items stay with r */
                d->state[i] = IT_LEASED;
                d->owner[i] = r;
                break;
            }
            k++;
        }
    d->rs[r].outstanding -= k < d->rs[r].outstanding ? k : d->rs[r].outstanding;
    return k;
}

/* The queue ran dry: take back the leases of ranks silent for too long. */
static void reissue_silent(tkd_dist *d, int requester) {
    double now = tkd_now();
    for (int r = 0; r < d->size; r++) {
        rank_state *s = &d->rs[r];
        if (r == requester || r == 0 || s->bye || !s->outstanding)
            continue;
        double silent = now - s->last_heard;
        if (silent < d->cfg.lease_timeout_s)
            continue;
        s->dead = 1;
        uint64_t k = requeue_rank(d, r);
        d->reissued += k;
        tkd_log_warn("dist: rank %d silent for %.1f s (dist.lease_timeout_s %g): re-issuing its %llu leased items", r,
                     silent, d->cfg.lease_timeout_s, (unsigned long long)k);
    }
}

/* Pop up to k items that are still queued (skipping those done meanwhile). */
static size_t pop_items(tkd_dist *d, uint64_t *out, size_t k) {
    size_t m = 0;
    while (m < k && u64vec_size(&d->cq)) {
        uint64_t it = d->cq.v[d->cq.head++];
        if (d->state[it] == IT_QUEUED)
            out[m++] = it;
    }
    if (!u64vec_size(&d->cq))
        u64vec_clear(&d->cq);
    return m;
}

/* Serve src from the queue; 1 when served, 0 when the queue is empty, -1
 * when src already holds its share (tkd_dist_hold_cap). */
static int grant(tkd_dist *d, int src, uint64_t want) {
    long long remaining = (long long)u64vec_size(&d->cq);
    if (!remaining)
        return 0;
    int alive = ranks_alive(d);
    long long cap = tkd_dist_hold_cap(&d->cfg, (long long)(d->n - d->done), alive);
    long long held = (long long)d->rs[src].outstanding;
    if (held >= cap)
        return -1;
    long long k = tkd_dist_lease_size(&d->cfg, remaining, alive);
    if (want && (uint64_t)k > want)
        k = (long long)want;
    if (k > cap - held)
        k = cap - held;
    uint64_t stackbuf[256];
    uint64_t *buf = (size_t)k <= 256 ? stackbuf : malloc((size_t)k * sizeof *buf);
    if (!buf) {
        buf = stackbuf;
        k = 256;
    }
    size_t m = pop_items(d, buf, (size_t)k);
    for (size_t i = 0; i < m; i++) {
        d->state[buf[i]] = IT_LEASED;
        d->owner[buf[i]] = src;
    }
    d->rs[src].outstanding += m;
    if (m) {
        if (src == 0)
            dist_take_grant(d, buf, m);
        else
            dist_send(d, src, TAG_GRANT, NULL, 0, buf, m);
    }
    if (buf != stackbuf)
        free(buf);
    return m > 0;
}

static void serve(tkd_dist *d, int src, uint64_t want) {
    if (d->stopping || d->all_done)
        return; /* STOP or FINISHED was (or will be) broadcast */
    int g = grant(d, src, want);
    if (g > 0)
        return;
    if (g == 0) { /* the queue is empty: take back what silent ranks hold */
        reissue_silent(d, src);
        if (grant(d, src, want) > 0)
            return;
    }
    d->rs[src].parked_want = want ? want : 1;
}

void coord_request(tkd_dist *d, int src, uint64_t want, const uint64_t *done, size_t n_done) {
    heard(d, src);
    for (size_t i = 0; i < n_done; i++)
        mark_done(d, src, done[i]);
    check_all_done(d);
    if (!want && n_done && d->rs[src].parked_want && !d->stopping && !d->all_done &&
        grant(d, src, d->rs[src].parked_want) > 0)
        d->rs[src].parked_want = 0; /* held at its cap until these completions */
    if (want) {
        if (d->stopping && src != 0)
            dist_send(d, src, TAG_CSTOP, NULL, 0, NULL, 0);
        else if (d->all_done && src != 0)
            dist_send(d, src, TAG_FINISHED, NULL, 0, NULL, 0);
        else
            serve(d, src, want);
    }
}

void coord_bye(tkd_dist *d, int src, const uint64_t *done, size_t n_done) {
    heard(d, src);
    for (size_t i = 0; i < n_done; i++)
        mark_done(d, src, done[i]);
    d->rs[src].bye = 1;
    d->rs[src].parked_want = 0;
    uint64_t k = requeue_rank(d, src); /* a rank that left gives its leases back at once */
    if (k && !d->stopping && !d->all_done) {
        d->reissued += k;
        tkd_log_info("dist: rank %d left with %llu items unfinished; they go back to the queue", src,
                     (unsigned long long)k);
    }
    check_all_done(d);
    uint64_t all = (uint64_t)d->all_done;
    dist_send(d, src, TAG_BYEACK, &all, 1, NULL, 0);
}

void coord_stop(tkd_dist *d, int src) {
    if (src > 0)
        heard(d, src);
    if (d->stop_sent)
        return;
    d->stop_sent = 1;
    for (int r = 0; r < d->size; r++)
        d->rs[r].parked_want = 0;
    if (!d->stopping)
        dist_begin_stop_local(d, src > 0 ? "a stop from another rank" : "a stop request");
    if (src > 0)
        tkd_log_info("dist: rank %d asked to stop; telling every rank", src);
    broadcast(d, TAG_CSTOP);
}

static void fmt_dur(double s, char *out, size_t n) {
    if (s < 0 || s > 1e9)
        snprintf(out, n, "?");
    else if (s < 60)
        snprintf(out, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(out, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(out, n, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

static void progress_line(tkd_dist *d, double now) {
    double el = now - d->t0;
    uint64_t run = d->done - d->done_before;
    double rate = el > 0 ? (double)run / el : 0;
    char eta[32];
    fmt_dur(rate > 0 ? (double)(d->n - d->done) / rate : -1, eta, sizeof eta);
    double pct = d->n ? 100.0 * (double)d->done / (double)d->n : 100.0;
    tkd_log_info("%s: %llu/%llu done (%.1f%%), %.1f items/s, ETA %s, ranks %d/%d alive%s", d->cfg.label,
                 (unsigned long long)d->done, (unsigned long long)d->n, pct, rate, eta, ranks_alive(d), d->size,
                 d->reissued ? ", some leases re-issued" : "");
}

void coord_poll(tkd_dist *d) {
    double now = tkd_now();
    d->rs[0].last_heard = now;
    if (!d->stopping && !d->all_done && now - d->last_check >= REISSUE_CHECK_S) {
        d->last_check = now;
        int parked = 0;
        for (int r = 0; r < d->size; r++)
            parked |= d->rs[r].parked_want > 0;
        if (parked) {
            if (!u64vec_size(&d->cq))
                reissue_silent(d, -1);
            for (int r = 0; r < d->size && u64vec_size(&d->cq); r++)
                if (d->rs[r].parked_want && grant(d, r, d->rs[r].parked_want) > 0)
                    d->rs[r].parked_want = 0;
        }
    }
    if (d->cfg.progress_every_s > 0 && now - d->last_progress >= d->cfg.progress_every_s) {
        d->last_progress = now;
        progress_line(d, now);
    }
}

int coord_all_bye(const tkd_dist *d) {
    for (int r = 1; r < d->size; r++)
        if (!d->rs[r].bye)
            return 0;
    return 1;
}

void coord_final_line(tkd_dist *d) {
    double el = tkd_now() - d->t0;
    uint64_t run = d->done - d->done_before;
    tkd_log_info("%s: %s %llu/%llu done (%llu this run, %llu before) in %.2f s, %.1f items/s; "
                 "%llu duplicates, %llu re-issued",
                 d->cfg.label, d->all_done ? "finished" : "stopped at", (unsigned long long)d->done,
                 (unsigned long long)d->n, (unsigned long long)run, (unsigned long long)d->done_before, el,
                 el > 0 ? (double)run / el : 0.0, (unsigned long long)d->dups, (unsigned long long)d->reissued);
    if (d->size > 1) {
        tkd_dist_stats st;
        tkd_dist_get_stats(d, &st);
        tkd_log_info("%s: items per rank: fewest %llu (rank %d), most %llu (rank %d), equal share %.1f", d->cfg.label,
                     (unsigned long long)st.rank_done_min, st.rank_done_min_at, (unsigned long long)st.rank_done_max,
                     st.rank_done_max_at, (double)run / d->size);
    }
}
