/*
 * Internal to the phases that run agents over the teacher client (solve,
 * backtranslate): the per-rank event loop they share (src/phases/runner.c).
 * Each turn of the loop: serve dist, take items while the phase has room,
 * run the network (every LLM client of the phase) for a few milliseconds,
 * hand finished responses to the phase, let it poll anything else it runs
 * (the tool pool), flush the shard and report the items written since the
 * last flush to dist (an item counts as done only once its rows survive a
 * kill -9), log progress. No item is taken while an endpoint of the phase is
 * being checked or is down (the client holds what it could not send); one
 * that refuses a minimal request fails the run, one down for good stops it
 * (exit 3, nothing recorded for what was in flight). On a stop: take no more
 * items, let the work in flight go on for dist.grace_s (not while an
 * endpoint is down), then leave; the phase closes the shard with
 * phase_close.
 */
#ifndef TKD_PHASE_RUNNER_H
#define TKD_PHASE_RUNNER_H

#include "tkd/dist.h"
#include "tkd/llm.h"
#include "tkd/store.h"

#include <mpi.h>

#define PHASE_MAX_CLIENTS 4  /* LLM clients polled by one loop (roles with their own endpoints) */
#define PHASE_POLL_MS 10     /* longest wait in the network poll when idle */
#define PHASE_BUSY_POLL_MS 1 /* ... while other work (tool calls) is running */
#define PHASE_FLUSH_S 0.2    /* longest wait before written items are flushed and reported */

/* What a phase plugs into the loop. Every hook gets ctx. */
typedef struct phase_hooks {
    void *ctx;
    int (*room)(void *ctx); /* how many more items can start now (0: none; dist asks for that many) */
    int (*start)(void *ctx, uint64_t item, tkd_err *e);                            /* start an item from dist */
    int (*on_llm)(void *ctx, const tkd_llm_response *r, void *cookie, tkd_err *e); /* r freed after */
    int (*busy)(void *ctx);                               /* other work running (NULL: never) */
    int (*poll_more)(void *ctx, int *worked, tkd_err *e); /* poll that other work (NULL: none) */
    int (*in_flight)(void *ctx);                          /* agents in flight (for the stop) */
    void (*progress)(void *ctx, int force);               /* a progress line when due */
} phase_hooks;

typedef struct phase_run {
    const char *label; /* "solve", for messages */
    uint64_t n_items;  /* items dist hands out (a larger one is an internal error) */
    tkd_dist *dist;
    tkd_store *shard;
    tkd_llm *llm[PHASE_MAX_CLIENTS];
    int n_llm;
    uint64_t *unflushed; /* items written, not yet flushed nor reported (at most cap) */
    int n_unflushed, cap;
    double last_flush;
    int gave_up; /* an endpoint stayed down past teacher.wait_for_endpoint_s: the run stopped (exit 3) */
} phase_run;

/* The unflushed list for at most cap items (freed by phase_run_free). */
int phase_run_init(phase_run *r, const char *label, int cap, tkd_err *e);
void phase_run_free(phase_run *r);
/* Every record of item is appended to the shard: report it after the next flush. */
int phase_written(phase_run *r, uint64_t item, tkd_err *e);
/* Flush and report when due (force: now). */
int phase_report_durable(phase_run *r, int force, tkd_err *e);
/* The event loop; returns 0 (every item done, or stopped after grace), or
 * an error (the shard stays open). */
int phase_loop(phase_run *r, const phase_hooks *h, tkd_err *e);
/* Setup barrier of every MPI phase (testwork and eval too): any rank's failure (rc) fails every rank; returns 1 when
 * some rank failed (rc set on this rank too). */
int phase_agree(MPI_Comm comm, int *rc, const char *label, tkd_err *e);
/* This rank's next shard in dir, created with the job and a manifest of
 * inputs; *path receives its name (caller frees). */
int phase_open_shard(phase_run *r, const tkd_job *job, const char *dir, int rank, tkd_phase phase,
                     const char *const *inputs, int n_inputs, char **path, tkd_err *e);
/* The identity of (problem id, sample) in an idset: the unit of resume. */
uint64_t phase_pair_key(uint64_t pid, uint32_t sample);
/* Add to set the (pid, sample) of every record of phase with a final status
 * (tkd_status_is_final) in the shards of dir: the done-set of a phase. */
int phase_done_pairs(const char *dir, tkd_phase phase, tkd_idset *set, tkd_err *e);
/* After the loop: close the shard (durable, so what is written is reported),
 * say goodbye to dist (st filled). rc is the loop's; returns the phase's. */
int phase_close(phase_run *r, int rc, tkd_dist_stats *st, tkd_err *e);

#endif
