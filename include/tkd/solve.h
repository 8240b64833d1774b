/*
 * The solve phase (tkd solve JOB.json): every rank takes leases of problems
 * from dist, runs solve.samples_per_problem solver agents per problem (see
 * tkd/agents.h) on one event loop (the teacher client, the tool pool, dist),
 * thousands in flight, and writes one record per sample into its own shard
 * OUT/shards/solve/rNNNNN.aK.h5 (phase solve, status from tkd_status, text:
 * the sample's JSON). A problem's samples are written together when its last
 * one ends; a re-run skips problems whose every sample is in the shards
 * (a problem cut short by a crash is redone, and the response cache answers
 * its requests again for free). Stops on SIGTERM/SIGUSR1 (exit 3).
 */
#ifndef TKD_SOLVE_H
#define TKD_SOLVE_H

#include "tkd/core.h"
#include "tkd/job.h"

#include <mpi.h>

/* Run the phase on comm (MPI initialised and stop-signal handlers installed
 * by the caller). Returns 0 when every problem is done, TKD_ESTOP when stopped
 * early (resumable), or an error. Collective. */
int tkd_solve_run(const tkd_job *job, MPI_Comm comm, tkd_err *e);

#endif
