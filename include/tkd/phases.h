/*
 * phases: the glue that runs a phase from a job file. Each phase reads its
 * inputs from the files the job names and the store, and writes to the store.
 */
#ifndef TKD_PHASES_H
#define TKD_PHASES_H

#include "tkd/data.h"
#include "tkd/job.h"
#include "tkd/store.h"

/* OUT/problems.h5 (caller frees) */
char *tkd_phase_problems_path(const tkd_job *job, tkd_err *e);

/* Import every data.sources[] entry of the job into OUT/problems.h5
 * (written under a temporary name, then renamed). Prints a table per
 * source on stdout. Extra paths (from the command line) are imported too. */
int tkd_phase_import(const tkd_job *job, const char *const *extra_paths, int n_extra, tkd_err *e);

/* Read the problems of OUT/problems.h5 back, in import order. */
int tkd_phase_load_problems(const tkd_job *job, tkd_problem_set *set, tkd_err *e);

#endif
