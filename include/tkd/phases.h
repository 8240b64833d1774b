/*
 * phases: the glue that runs a phase from a job file. Each phase reads its
 * inputs from the files the job names and the store, and writes to the store.
 */
#ifndef TKD_PHASES_H
#define TKD_PHASES_H

#include "tkd/data.h"
#include "tkd/job.h"
#include "tkd/store.h"

#include <jansson.h>
#include <mpi.h>
#include <stdio.h>

/* ---- prompt files (src/phases/prompt.c) ---- */
/* The UTF-8 file named by the job key `key` (trailing whitespace trimmed)
 * into *out (caller frees); *out stays NULL when the key is "" (the caller's
 * built-in prompt). A missing or non-UTF-8 file is an error naming the key. */
int tkd_prompt_file(const tkd_job *job, const char *key, char **out, tkd_err *e);

/* The student's prompt (student.system_prompt, student.user_template): one
 * pair of files for export, train and eval, so training and evaluation
 * prompts match. system is NULL when the file is empty (no system message). */
#define TKD_STUDENT_SYSTEM_DEFAULT "Please reason step by step, and put your final answer within \\boxed{}."
typedef struct tkd_student_prompt {
    char *system;        /* the system message, or NULL */
    char *user_template; /* holds {problem}; "{problem}" by default */
} tkd_student_prompt;
int tkd_student_prompt_load(const tkd_job *job, tkd_student_prompt *p, tkd_err *e);
/* The user message for a problem (its text verbatim in place of every
 * {problem}); caller frees. */
char *tkd_student_prompt_user(const tkd_student_prompt *p, const char *problem, tkd_err *e);
void tkd_student_prompt_free(tkd_student_prompt *p);

/* ---- phase completion (src/phases/complete.c) ----
 * A phase that has done every item merges its shards into its store
 * (OUT/solve.h5, OUT/backtranslate.h5, ...) and writes the marker
 * OUT/<phase>.complete.json: the store and its SHA-256, the phase's input
 * stores with theirs, the job's hash. A marker is current while its store
 * exists and its inputs still hash the same. */
char *tkd_phase_marker_path(const tkd_job *job, const char *phase, tkd_err *e);
/* OUT/<store> of a phase that merges its shards (caller frees). */
char *tkd_phase_store_path(const tkd_job *job, const char *phase, tkd_err *e);
/* 1 when phase has a current marker, else 0. */
int tkd_phase_is_complete(const tkd_job *job, const char *phase, tkd_err *e);
/* 0 when `needs` is complete; else TKD_EINVAL with a message naming the
 * missing marker and the command to run first (exit 2). */
int tkd_phase_require(const tkd_job *job, const char *phase, const char *needs, tkd_err *e);
/* Before a phase starts: 1 when it is already complete (a re-run is a no-op),
 * 0 when it may start, or the error of tkd_phase_require for its input. */
int tkd_phase_gate(const tkd_job *job, const char *phase, tkd_err *e);
/* After every item is done (rank 0): merge the shards into the phase's store
 * and write its marker. */
int tkd_phase_complete(const tkd_job *job, const char *phase, tkd_err *e);
/* What train reads: train.data, or export's nl set (OUT/sft/nl/train.jsonl,
 * under export.out_dir when set) when train.data is "". Caller frees. */
char *tkd_phase_train_data(const tkd_job *job, tkd_err *e);
/* SHA-256 of the job keys phase reads (the marker's keys_sha256). */
int tkd_phase_keys_hash(const tkd_job *job, const char *phase, char hex[65], tkd_err *e);
/* Plan a sweep (see src/phases/sweep.c): one job file per arm under OUT
 * (out_dir, or the base's output_dir/sweep-NAME), phases shared where their
 * keys agree; *plan_path: OUT/sweep.json (caller frees). */
int tkd_sweep_plan(const char *base_path, const char *sweep_path, const char *out_dir, char **plan_path, tkd_err *e);
/* Write the marker of phase for a store it wrote itself, with its inputs. */
int tkd_phase_mark_complete(const tkd_job *job, const char *phase, const char *store, const char *const *inputs,
                            int n_inputs, tkd_err *e);

/* The sbatch options of phase from the job's "slurm" section (src/phases/
 * slurm.c), appended to out; checks the whole section. */
int tkd_slurm_options(const tkd_job *job, const char *phase, tkd_buf *out, tkd_err *e);

/* The report (tkd report JOB.json): OUT/report/report.md with its PNG plots
 * and report.json (every number in it), from the merged stores, the exported
 * sets, the eval results and the training log of the run. */
int tkd_phase_report(const tkd_job *job, tkd_err *e);
/* The report of a sweep (DIR/sweep.json): DIR/report/report.md, a row per arm. */
int tkd_phase_report_sweep(const char *plan_path, tkd_err *e);

/* ---- checks before a run (src/phases/check.c) ---- */
/* What each named phase checks when it starts, for the phases in the order
 * they will run (a phase's input made by an earlier one is not required to
 * exist yet): the import's sources, OUT/problems.h5, the teacher's model and
 * endpoint URLs, prompt files, tool names, the model folder and train data.
 * "data" is the import. An unknown name is TKD_EUSAGE naming the phases. */
int tkd_phase_check(const tkd_job *job, const char *const *names, int n, tkd_err *e);

/* The OpenAI tool specs of the tools solve.tools names (all when empty), as
 * a JSON array (caller decrefs); an unknown name is an error naming it. The
 * one reader for solve, eval's tir arms and export's tir set. */
json_t *tkd_phase_solve_tools(const tkd_job *job, tkd_err *e);

/* OUT/problems.h5 (caller frees) */
char *tkd_phase_problems_path(const tkd_job *job, tkd_err *e);

/* Import every data.sources[] entry of the job into OUT/problems.h5
 * (written under a temporary name, then renamed). Prints a table per
 * source on stdout. Extra paths (from the command line) are imported too. */
int tkd_phase_import(const tkd_job *job, const char *const *extra_paths, int n_extra, tkd_err *e);

/* Read the problems of OUT/problems.h5 back, in import order. */
int tkd_phase_load_problems(const tkd_job *job, tkd_problem_set *set, tkd_err *e);

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
/* Run the phase on comm (MPI initialised by the caller, stop-signal handlers
 * installed by the caller). Returns 0 when every item is done, TKD_ESTOP when
 * stopped early (resumable), or an error. Collective. */
int tkd_testwork_run(const tkd_job *job, MPI_Comm comm, tkd_err *e);

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
/* Run the phase on comm (MPI initialised and stop-signal handlers installed
 * by the caller). Returns 0 when every problem is done, TKD_ESTOP when stopped
 * early (resumable), or an error. Collective. */
int tkd_solve_run(const tkd_job *job, MPI_Comm comm, tkd_err *e);

/*
 * The back-translation phase (tkd backtranslate JOB.json): the traces of the
 * merged solve store (backtranslate.input) whose status is in
 * backtranslate.select, at most backtranslate.max_per_problem per problem,
 * are leased from dist; each rank runs a back-translation agent per trace
 * (tkd/agents.h: translator, judge, rephrase) on the shared event loop and
 * writes one record per trace into OUT/shards/backtranslate/rNNNNN.aK.h5
 * (phase backtranslate, pid and sample of the source trace). A trace whose
 * record holds a final status is done (resume). Exit 3 on a stop.
 */
int tkd_backtranslate_run(const tkd_job *job, MPI_Comm comm, tkd_err *e);
/* What the phase checks when it starts (roles, prompt files, select), and
 * that its solve store exists unless an earlier phase of the chain makes it
 * (tkd config check --phase backtranslate). */
int tkd_backtranslate_check(const tkd_job *job, int input_made_earlier, tkd_err *e);

/* The per-tool acceptance table of back-translation records (bt_table.c). */
typedef struct tkd_bt_table tkd_bt_table;
tkd_bt_table *tkd_bt_table_new(void);
void tkd_bt_table_free(tkd_bt_table *t);
/* Add the backtranslate records of a store, or of every shard in a folder
 * (a trace found twice counts once). */
int tkd_bt_table_add_file(tkd_bt_table *t, const char *path, tkd_err *e);
int tkd_bt_table_add_dir(tkd_bt_table *t, const char *dir, tkd_err *e);
void tkd_bt_table_print(const tkd_bt_table *t, FILE *f);

/*
 * The export phase (tkd export JOB.json, one process): SFT datasets from the
 * merged stores. For each of export.variants ("nl": back-translated
 * solutions from OUT/backtranslate.h5; "tir": the solve traces with native
 * tool calls from OUT/solve.h5; "gold": the datasets' own solutions from
 * OUT/problems.h5) it writes OUT/sft/<variant>/{train,valid}.jsonl (one
 * {"messages": [...], ["tools": [...]], "id", "source", "subject", "level",
 * "pid", "sample"} per line; a seeded split by problem), manifest.json (the
 * count at every filter stage, the inputs with their sha256, the settings,
 * each decontaminated problem with the benchmark problem it matched, the job)
 * and a README.md card. Filters, in order: status, unknown problem,
 * decontamination (word n-grams against eval.benchmarks[] and
 * export.decontaminate), malformed text, boxed answer equal to the gold,
 * token length (export.tokenizer), exact and near-duplicate solutions
 * (MinHash), at most export.per_problem per problem. Deterministic: the same
 * job and inputs give the same bytes.
 */
#define TKD_EXPORT_STAGES 9
typedef struct tkd_export_variant_summary {
    const char *name;
    size_t records_in, dropped[TKD_EXPORT_STAGES], train, valid;
} tkd_export_variant_summary;
typedef struct tkd_export_summary {
    tkd_export_variant_summary v[3];
    int n;
    double seconds;
    size_t bench_problems; /* benchmark problems in the decontamination index */
} tkd_export_summary;
/* The name of filter stage k (0 <= k < TKD_EXPORT_STAGES): "status", ... */
const char *tkd_export_stage_name(int k);
int tkd_export_run(const tkd_job *job, tkd_export_summary *sum, tkd_err *e);

/*
 * The eval phase (tkd eval JOB.json): the student arms (eval.arms[]) on the
 * benchmarks (eval.benchmarks[]) with eval.samples_per_problem samples each.
 * Items are (arm, problem, sample), leased from dist; each rank runs every
 * arm's engine (endpoint: an OpenAI-compatible server; builtin: tkd's own
 * generation) on one event loop and writes one record per sample into its
 * shard OUT/shards/eval/rNNNNN.aK.h5 (phase eval; pid: eval_pid(arm,
 * problem id); text: the prompt, the response, the extracted answer, the
 * grade and its reason, tokens, latency, finish reason). A response cut at
 * eval.max_new_tokens has status length. A re-run skips the samples with a
 * final status; stops on SIGTERM/SIGUSR1 (exit 3). When every sample is
 * done, rank 0 merges the shards into OUT/eval.h5 and writes the metrics
 * (tkd_eval_metrics). Collective.
 */
int tkd_eval_run(const tkd_job *job, MPI_Comm comm, tkd_err *e);

/*
 * The metrics of an eval run, from the records in OUT/shards/eval (for each
 * (arm, problem, sample) the first record with a final status): per arm and
 * benchmark (and per subject and level where the data has them) the
 * accuracy of sample 0 with a seeded bootstrap 95% interval over problems,
 * pass@k (Chen et al. 2021), maj@k (answers clustered by tkd_grade_equal),
 * mean response tokens, the share cut at the length limit; for each pair of
 * arms and benchmark the paired difference with its interval and the exact
 * McNemar p-value. Written to OUT/eval/results.json (temporary name, then
 * rename) and printed as a table on stdout when print is set.
 */
int tkd_eval_metrics(const tkd_job *job, int print, tkd_err *e);

#endif
