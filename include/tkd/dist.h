/*
 * dist: MPI work distribution. A coordinator on rank 0 hands out leases
 * (batches) of item indices 0..n_items-1, large at first and smaller near the
 * end; rank 0 works too.
 *
 * Fair leases: no rank holds (leased, not yet reported done) more than
 * dist.max_share x its equal part of the unfinished items (unfinished / live
 * ranks), and never less than dist.lease_min (tkd_dist_hold_cap). A request
 * beyond that is parked until the rank reports completions. So rank 0, whose
 * own requests are served at once without MPI, cannot fill its capacity
 * before the other ranks have asked: with max_share 1, every rank gets its
 * share in the first round whatever the job's size. A rank asks for what it
 * has room for (tkd_dist_room), not for lease_max. Leases of ranks silent for longer than
 * dist.lease_timeout_s are re-issued when the queue runs dry (the same item
 * may then complete twice: the store merge drops duplicates). Two-sided MPI
 * only (one-sided windows fail on Debian's Open MPI 4.1).
 *
 * Everything is non-blocking and pollable, so that a phase runs one event loop
 * per rank (curl_multi_poll, then tkd_dist_poll, then timers):
 *
 *   tkd_dist_create(comm, n, done, &cfg, &d, &e);          collective
 *   for (;;) {
 *       tkd_dist_poll(d);                                   serve and receive
 *       tkd_dist_room(d, free slots);                       what a request asks for
 *       while (capacity left) {
 *           int r = tkd_dist_next(d, &item);
 *           if (r == TKD_DIST_ITEM) start(item);            a problem to work on
 *           else break;     NONE_YET: ask later; FINISHED / STOPPED: see below
 *       }
 *       ... when an item is done (and its record written): tkd_dist_complete(d, item);
 *       if (finished) break;  // abandon what is in flight: done elsewhere
 *       if (tkd_dist_stopping(d) && (nothing in flight || tkd_dist_grace_left(d) <= 0)) break;
 *   }
 *   flush and close the shard, then rc = tkd_dist_finish(d, &stats, &e); (0 or TKD_ESTOP)
 *
 * Protocol (tags on a private duplicate of comm; messages are uint64 arrays):
 *   worker -> 0  REQ  [want, n, n completed items]   want 0: report/heartbeat
 *   worker -> 0  STOP []          this rank got a signal: stop everybody
 *   worker -> 0  BYE  [n, n completed items]         last message of a rank
 *   0 -> worker  GRANT [items]    a lease
 *   0 -> worker  FINISHED []      every item is done; drop your queue
 *   0 -> worker  STOP []          stop: take no new items, finish within grace
 *   0 -> worker  BYEACK [all]     the coordinator has the rank's last words; all: every item done
 * A request that cannot be served (queue empty, leases still held elsewhere)
 * is parked and answered when items come free (re-issue) or all are done, so
 * idle ranks cost no traffic. Workers report completions with each request,
 * when many are pending, at once while their queue is empty (the tail of a
 * run), and every report interval (a heartbeat: a rank whose loop is alive is
 * never presumed dead). A rank that says BYE gives its unfinished leases back.
 *
 * Signals: tkd_dist_signals_install() sets handlers for SIGTERM, SIGUSR1 (and
 * SIGINT, once) that only set a volatile sig_atomic_t flag: the one piece of
 * global mutable state in dist, because a signal handler can reach nothing
 * else. tkd_dist_poll reads it. Whichever rank sees a signal first, the
 * coordinator broadcasts STOP to all.
 *
 * How launchers deliver the stop (measured on Debian 12, Open MPI 4.1.4):
 *  - mpirun/mpiexec forwards SIGUSR1 (and SIGUSR2) to every rank at once and
 *    exits with the ranks' status: 3.
 *  - mpirun on SIGTERM/SIGINT kills the job itself: it waits
 *    odls_base_sigkill_timeout seconds (default 1), sends SIGTERM to every
 *    rank's process group, waits as long again, then SIGKILL; it exits 1. Set
 *    OMPI_MCA_odls_base_sigkill_timeout above dist.grace_s + 3 (MPI_Finalize
 *    takes ~2 s while mpirun tears down) to let ranks stop cleanly.
 *  - mpirun kills the remaining ranks as soon as one exits non-zero
 *    (orte_abort_on_non_zero_status); ranks leave only after MPI_Finalize, with
 *    shards closed, so this loses nothing.
 *  - Slurm sends SIGTERM to every task at the time limit, scancel or
 *    preemption, and SIGKILL KillWait (or GraceTime) seconds later: keep
 *    dist.grace_s well below that, or ask for an early USR1 with
 *    `#SBATCH --signal=USR1@120` (tasks) / `--signal=B:USR1@120` (batch shell,
 *    which must forward it to srun). srun forwards the signals it receives to
 *    its tasks and exits with the highest task exit code (3).
 */
#ifndef TKD_DIST_H
#define TKD_DIST_H

#include "tkd/core.h"
#include "tkd/job.h"

#include <mpi.h>
#include <stdint.h>

/* Named limits. */
#define TKD_DIST_LEASE_DIVISOR 1     /* lease = remaining / (DIVISOR * ranks alive): guided self-scheduling */
#define TKD_DIST_FINISH_MARGIN_S 5.0 /* extra wait for last words beyond grace_s */
#define TKD_DIST_REPORT_BATCH 1024   /* completions sent at once when this many pend */
#define TKD_DIST_MAX_MSGS_PER_POLL 4096
#define TKD_DIST_MAX_SHARE_MAX 1e6   /* dist.max_share above the ranks: no cap at all */

typedef struct tkd_dist_cfg {
    long long lease_min, lease_max; /* lease size bounds (items) */
    double max_share;               /* a rank holds at most max_share x unfinished/ranks (>= lease_min) */
    double lease_timeout_s;         /* silence after which a rank's leases may be re-issued */
    double progress_every_s;        /* rank 0 logs a progress line this often; 0: never */
    double grace_s;                 /* after a stop: time to finish work in flight */
    double report_every_s;          /* workers report completions/heartbeat at least this often */
    const char *label;              /* prefix of the progress line, e.g. "testwork" */
} tkd_dist_cfg;

/* Defaults, then the dist.* keys of a job file. */
void tkd_dist_cfg_default(tkd_dist_cfg *c);
void tkd_dist_cfg_from_job(const tkd_job *job, tkd_dist_cfg *c);

/* Lease size for `remaining` queued items and `ranks` ranks alive: */
/* remaining/(DIVISOR*ranks) rounded up, clamped to [lease_min, lease_max]
 * and to remaining. */
long long tkd_dist_lease_size(const tkd_dist_cfg *c, long long remaining, int ranks);
/* Most items one rank may hold (leased and not reported done) while
 * `unfinished` items are not done and `ranks` ranks are alive:
 * ceil(max_share * unfinished / ranks), at least lease_min. */
long long tkd_dist_hold_cap(const tkd_dist_cfg *c, long long unfinished, int ranks);

typedef struct tkd_dist tkd_dist;

enum {
    TKD_DIST_ITEM = 1,     /* *item is yours to work on */
    TKD_DIST_NONE_YET = 2, /* nothing now (a request is on its way); poll and ask again */
    TKD_DIST_FINISHED = 3, /* every item is done (by someone); abandon what is in flight */
    TKD_DIST_STOPPED = 4   /* stop requested: take no more items; finish within grace */
};

/*
 * Collective over comm (which it duplicates). n_items must agree on every
 * rank; done (n_items bytes, nonzero = already done, e.g. from the store's
 * done-set) is read on rank 0 only and may be NULL. cfg is copied.
 */
int tkd_dist_create(MPI_Comm comm, uint64_t n_items, const uint8_t *done, const tkd_dist_cfg *cfg, tkd_dist **out,
                    tkd_err *e);
/* Serve requests (rank 0), receive replies, send reports and heartbeats,
 * notice signals, log progress. Cheap; call it every loop turn. */
int tkd_dist_poll(tkd_dist *d);
/* One of TKD_DIST_ITEM (item set), _NONE_YET, _FINISHED, _STOPPED. */
int tkd_dist_next(tkd_dist *d, uint64_t *item);
/* How many more items this rank could start now (its free capacity), said
 * before taking items in a loop turn; each item tkd_dist_next hands out
 * counts against it. A request asks for min(room, lease_max); without a call,
 * lease_max. */
void tkd_dist_room(tkd_dist *d, uint64_t room);
/* The item is done and durable (its record written). Reported in batches. */
void tkd_dist_complete(tkd_dist *d, uint64_t item);
/* Ask every rank to stop (as a signal would). */
void tkd_dist_stop(tkd_dist *d);
int tkd_dist_stopping(const tkd_dist *d);
/* Seconds left of the grace period after a stop (large when not stopping). */
double tkd_dist_grace_left(const tkd_dist *d);
/*
 * Say goodbye (workers send their last completions and wait for the
 * coordinator's ack; rank 0 waits for every rank's goodbye, at most grace_s +
 * TKD_DIST_FINISH_MARGIN_S after the stop or the end), then free d.
 * Fills *st (may be NULL) with the final statistics, after the goodbyes.
 * Returns 0 when every item was done, TKD_ESTOP after a stop, or an error.
 */
typedef struct tkd_dist_stats tkd_dist_stats;
int tkd_dist_finish(tkd_dist *d, tkd_dist_stats *st, tkd_err *e);
/* Free without the goodbye (after an error). NULL is fine. */
void tkd_dist_free(tkd_dist *d);

struct tkd_dist_stats {
    int rank, ranks;
    /* this rank as a worker */
    uint64_t items_taken;     /* returned by tkd_dist_next */
    uint64_t items_completed; /* tkd_dist_complete calls */
    uint64_t leases;          /* leases received */
    uint64_t lease_first, lease_last, lease_smallest, lease_largest;
    uint64_t lease_grew; /* times a lease was larger than the previous one */
    /* the coordinator's view (rank 0 only) */
    uint64_t total, done_before, done; /* done: unique items done, before included */
    uint64_t duplicates;               /* completions of items already done */
    uint64_t reissued;                 /* items re-issued from silent ranks */
    uint64_t rank_done_min, rank_done_max; /* items done this run by the rank that did fewest, most */
    int rank_done_min_at, rank_done_max_at;
    int ranks_alive;
    double elapsed_s;
};

void tkd_dist_get_stats(const tkd_dist *d, tkd_dist_stats *st);

/* ---- signals ---- */
/* Install the SIGTERM/SIGUSR1/SIGINT handlers (idempotent). */
int tkd_dist_signals_install(tkd_err *e);
/* The signal received (0: none). */
int tkd_dist_signal_pending(void);
/* Forget a received signal (tests). */
void tkd_dist_signal_reset(void);

#endif
