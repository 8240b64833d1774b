/*
 * testwork: a synthetic phase that exercises dist and store the way the solve
 * phase will, until it exists. Every rank takes leases of problem ids from
 * dist, "works" on each for a random time in [testwork.min_ms,
 * testwork.max_ms] (timers, several items in flight per rank, no blocking),
 * and writes one record per item into its own shard
 * OUT/shards/test/rNNNNN.aK.h5 (phase TKD_PHASE_TEST, status DONE, text: a
 * small JSON with the pid, rank, attempt and testwork.text_bytes of filler).
 * Items: the problems of OUT/problems.h5 when it exists, else testwork.items
 * synthetic ids (pid = tkd_hash64 of "test/<i>"). A re-run skips items whose
 * pid is in any shard of OUT/shards/test (the done-set). Rank
 * testwork.crash_rank SIGKILLs itself after testwork.crash_after records,
 * flushed first (fault tests).
 */
#ifndef TKD_TESTWORK_H
#define TKD_TESTWORK_H

#include "tkd/core.h"
#include "tkd/job.h"

#include <mpi.h>

/* Run the phase on comm (MPI initialised by the caller, stop-signal handlers
 * installed by the caller). Returns 0 when every item is done, TKD_ESTOP when
 * stopped early (resumable), or an error. Collective. */
int tkd_testwork_run(const tkd_job *job, MPI_Comm comm, tkd_err *e);

#endif
