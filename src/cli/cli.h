/*
 * The CLI's internal contract: each subcommand is a function taking the
 * arguments after its name, returning a process exit code (0 ok, 1 failure,
 * 2 bad usage or bad job file, 3 stopped early and resumable).
 */
#ifndef TKD_CLI_H
#define TKD_CLI_H

#include "tkd/core.h"
#include "tkd/job.h"

#include <mpi.h>
#include <stdio.h>

#define TKD_CLI_MAX_SETS 64

/* Options every phase command accepts: --set KEY=VALUE (repeatable), -v, -q. */
typedef struct tkd_cli_opts {
    const char *sets[TKD_CLI_MAX_SETS];
    int n_sets;
    const char *pos[32]; /* positional arguments in order */
    int n_pos;
} tkd_cli_opts;

/* Split argv into --set overrides, verbosity flags and positional arguments;
 * flags listed in keep (NULL-terminated, e.g. "--jsonl") are kept positional
 * together with their value. Returns 0 or prints the problem and returns 2. */
int tkd_cli_parse(int argc, char **argv, const char *const *keep, tkd_cli_opts *o);
/* Load the job file named by o->pos[0] with the overrides; prints errors. */
int tkd_cli_load_job(const tkd_cli_opts *o, tkd_job *job);
/* What a loaded job sets for the whole process: the log level (unless -v/-q
 * chose one) and HDF5 file locking. */
void tkd_cli_job_env(const tkd_job *job);
/* Run an MPI phase as a command: `tkd NAME JOB.json [--set ...]` under mpiexec,
 * srun or as one plain process. MPI, the stop signals and the job are set up
 * here; run does the work. Returns the exit code (3: stopped, resumable). */
int tkd_cli_mpi_phase(int argc, char **argv, const char *name,
                      int (*run)(const tkd_job *job, MPI_Comm comm, tkd_err *e));
/* A command's usage text (src/cli/usage.c; help: the command table's line,
 * shown when the command has no text of its own) on f. */
void tkd_cli_usage(const char *name, const char *help, FILE *f);
/* True when the arguments after the command's name ask for its usage
 * (--help, or -h). */
int tkd_cli_wants_help(const char *name, int argc, char **argv);
/* Print an error and turn its code into an exit code. */
int tkd_cli_fail(const tkd_err *e);

/* tkd train --dry-run: print the job's GPU memory plan (cmd_train_plan.c); an exit code. */
int tkd_cli_train_dry_run(const tkd_job *job);

int tkd_cmd_run(int argc, char **argv);
int tkd_cmd_sweep(int argc, char **argv);
int tkd_cmd_report(int argc, char **argv);
int tkd_cmd_config(int argc, char **argv);
int tkd_cmd_data(int argc, char **argv);
int tkd_cmd_llm(int argc, char **argv);
int tkd_cmd_solve(int argc, char **argv);
int tkd_cmd_backtranslate(int argc, char **argv);
int tkd_cmd_export(int argc, char **argv);
int tkd_cmd_testwork(int argc, char **argv);
int tkd_cmd_eval(int argc, char **argv);
int tkd_cmd_store(int argc, char **argv);
int tkd_cmd_tool(int argc, char **argv);
int tkd_cmd_grade(int argc, char **argv);
int tkd_cmd_extract(int argc, char **argv);
int tkd_cmd_expr(int argc, char **argv);
int tkd_cmd_tokenize(int argc, char **argv);
int tkd_cmd_model(int argc, char **argv);
int tkd_cmd_train(int argc, char **argv);
int tkd_cmd_generate(int argc, char **argv);
int tkd_cmd_merge_adapter(int argc, char **argv);

#endif
