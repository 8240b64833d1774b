/*
 * store: the HDF5 trace store. Every phase writes fixed-size record rows and
 * the text they point at into a shard of its own (one per rank and attempt,
 * e.g. OUT/shards/solve/r00017.a2.h5), with the serial HDF5 API in SWMR mode
 * so a shard stays readable after a crash. `tkd store merge` builds one file
 * from closed shards. No variable-length HDF5 types anywhere: files stay fast
 * and readable by h5py and h5dump.
 *
 * File layout (schema version 1; HDF5 1.10 format, libver latest):
 *   /                 attributes, all scalars: int64 (schema_version, rank,
 *                     attempt; -1 in merged files) and fixed-length
 *                     NUL-terminated UTF-8 strings (tkd_version, git_commit,
 *                     phase, created, job: the job file verbatim, job_sha256,
 *                     manifest: JSON with inputs and their sha256, seed, ...).
 *                     Attributes live in dense storage, so the job text may be
 *                     any size. h5py: f.attrs["job"].decode().
 *                     Merged files add merged_from (JSON: file, rows per
 *                     shard); their phase is "mixed" when shards differ.
 *   /records          1-D dataset of the compound type tkd_record (72 bytes,
 *                     little-endian, field names as below), chunked (512 rows),
 *                     unlimited; readers trust only rows below its length
 *   /text             1-D uint8 dataset, chunked (64 KiB), unlimited: the text
 *                     blobs; a record's blob is text[text_off : text_off +
 *                     text_len], always a UTF-8 JSON document (for problems:
 *                     id, source, subject, level, problem, solution, answer;
 *                     for traces: the conversation, tool calls, answers, ...)
 * Shards are written in SWMR mode: readers (tkd_store_open, h5py with
 * swmr=True) open them while the writer runs or after it was killed.
 * Text is written and flushed before the record that points at it.
 *
 * Problems live in the same shape: OUT/problems.h5 holds one record per
 * problem (phase TKD_PHASE_PROBLEM, sample 0) whose text is the problem JSON.
 */
#ifndef TKD_STORE_H
#define TKD_STORE_H

#include "tkd/core.h"
#include "tkd/job.h"

#include <stddef.h>
#include <stdint.h>

#define TKD_STORE_SCHEMA_VERSION 1

typedef enum {
    TKD_PHASE_PROBLEM = 0,
    TKD_PHASE_SOLVE = 1,
    TKD_PHASE_BACKTRANSLATE = 2,
    TKD_PHASE_EVAL = 3,
    TKD_PHASE_TEST = 9 /* the synthetic work function of the platform tests */
} tkd_phase;

typedef enum {
    TKD_ST_DONE = 0,       /* finished; no correctness notion (problems, test work) */
    TKD_ST_CORRECT = 1,
    TKD_ST_WRONG = 2,
    TKD_ST_NO_ANSWER = 3,
    TKD_ST_TURN_LIMIT = 4,
    TKD_ST_TOOL_ERRORS = 5,
    TKD_ST_LENGTH = 6,
    TKD_ST_API_ERROR = 7,  /* the teacher could not answer (down, overloaded, 401/404): transient, redone */
    TKD_ST_FAILED = 8,     /* the teacher rejected the request itself (400/413/422), or any other
                            * failure that asking again would repeat; reason in the text: final */
    /* back-translation (phase backtranslate), one record per source trace */
    TKD_ST_ACCEPTED = 9,        /* every tool call translated and accepted; solution checked */
    TKD_ST_PARTIAL = 10,        /* some calls kept as stated facts (on_reject: keep_fact) */
    TKD_ST_REJECTED = 11,       /* a call's translation rejected after max_attempts */
    TKD_ST_REPHRASE_WRONG = 12, /* the rephrased solution's boxed answer is not the gold */
    TKD_ST_LEAKED_TOOLS = 13,   /* the rephrased solution still mentions tools or code */
    TKD_ST_COUNT
} tkd_status;

enum { TKD_F_HAS_ANSWER = 1u << 0, TKD_F_CORRECT = 1u << 1, TKD_F_GRADE_UNDECIDED = 1u << 2 };

/* One row of /records. Field order and widths are the on-disk schema. */
typedef struct tkd_record {
    uint64_t pid;               /* problem id: tkd_hash64 of the problem's string id */
    uint32_t sample;            /* sample index within the problem */
    uint8_t phase;              /* tkd_phase */
    uint8_t status;             /* tkd_status */
    uint16_t flags;             /* TKD_F_* */
    uint32_t turns;             /* LLM turns used */
    uint32_t tool_calls;        /* tool calls made */
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    double latency_s;           /* wall time spent on this record */
    double finished_at;         /* Unix time when it was written */
    uint64_t text_off;          /* filled by tkd_store_append */
    uint64_t text_len;
} tkd_record;

const char *tkd_phase_name(tkd_phase p);     /* "solve" */
int tkd_phase_parse(const char *name);       /* -1 if unknown */
const char *tkd_status_name(tkd_status s);   /* "correct" */
int tkd_status_parse(const char *name);      /* -1 if unknown */
/* Final statuses make an item done for resume; a transient one (api_error:
 * the endpoint could not answer) is redone by the next run. The one rule
 * every phase's done-set follows. Every other status is final: an outcome
 * (correct, wrong, no_answer, turn_limit, tool_errors, length, the
 * back-translation verdicts) or a failure that asking again would repeat
 * (failed). A phase that ends with transient records exits 3 (resumable). */
int tkd_status_is_final(int status);

typedef struct tkd_store tkd_store;

/* What a new shard records about where it came from. */
typedef struct tkd_store_meta {
    tkd_phase phase;
    int rank;
    int attempt;
    const char *job_text;      /* verbatim job file; may be NULL */
    const char *job_sha256;    /* may be NULL */
    const char *manifest_json; /* may be NULL */
} tkd_store_meta;

/* Create a new shard for appending (fails if path exists). SWMR writer. */
int tkd_store_create(const char *path, const tkd_store_meta *meta, tkd_store **out, tkd_err *e);
/* Append text then its record (rec->text_off/len are set). Rows become
 * durable at the next flush (every flush_every rows, and on close). */
int tkd_store_append(tkd_store *s, tkd_record *rec, const char *text, size_t text_len, tkd_err *e);
void tkd_store_set_flush_every(tkd_store *s, size_t rows);
int tkd_store_flush(tkd_store *s, tkd_err *e);

/* Open an existing file read-only (SWMR reader: works on a live shard). A
 * missing, truncated or non-tkd file gets a clear error, never a crash. */
int tkd_store_open(const char *path, tkd_store **out, tkd_err *e);
size_t tkd_store_count(const tkd_store *s);
int tkd_store_read(tkd_store *s, size_t row, tkd_record *rec, tkd_err *e);
/* The record's text, malloc'd and NUL-terminated; checks the range. */
int tkd_store_read_text(tkd_store *s, const tkd_record *rec, char **text, tkd_err *e);
/* A root attribute as a malloc'd string (ints are printed). */
int tkd_store_attr(tkd_store *s, const char *name, char **value, tkd_err *e);
uint64_t tkd_store_text_size(const tkd_store *s);
/* n consecutive rows from row (faster than one tkd_store_read per row). */
int tkd_store_read_many(tkd_store *s, size_t row, size_t n, tkd_record *recs, tkd_err *e);
/* Reader: see rows a live writer flushed since open (SWMR refresh). */
int tkd_store_refresh(tkd_store *s, tkd_err *e);
const char *tkd_store_path(const tkd_store *s);

/* Flush and close (writer) or close (reader); frees s. NULL is fine. */
int tkd_store_close(tkd_store *s, tkd_err *e);

/* ---- sets of problem ids (resume) ---- */
typedef struct tkd_idset tkd_idset;
tkd_idset *tkd_idset_new(void);
void tkd_idset_free(tkd_idset *set);
int tkd_idset_add(tkd_idset *set, uint64_t id);   /* 1 added, 0 present, <0 error */
int tkd_idset_has(const tkd_idset *set, uint64_t id);
size_t tkd_idset_size(const tkd_idset *set);

/* ---- verified reading: what every reader trusts ----
 * A row is verified when it is below /records' length, its phase and status
 * are known, its text range lies inside /text and starts at or after the end
 * of the previous verified row's text, and its text is one non-empty valid
 * JSON document (UTF-8, no NUL byte). A shard cut short (a killed writer's
 * file truncated on a full or flaky file system) reads as zeros where its
 * data were lost: those rows fail the check and are reported, never used. */
typedef struct tkd_store_damage {
    size_t rows;          /* rows below /records' length */
    size_t verified;      /* rows that passed the check */
    size_t damaged;       /* rows that did not (rows - verified) */
    size_t first_bad;     /* the first damaged row (when damaged > 0) */
    char first_why[160];  /* what was wrong with it */
    /* a closed shard cut short, read from its zero-padded image: its size on
     * disk and the size HDF5 recorded (both 0 otherwise) */
    uint64_t file_bytes, file_bytes_expected;
} tkd_store_damage;
/* Called for each verified row with its text (len bytes, not NUL-terminated,
 * valid only during the call); 0 goes on, anything else stops and is returned. */
typedef int (*tkd_store_text_fn)(void *ctx, const tkd_record *rec, const char *text, size_t len);
/* Visit every verified row of an open store in file order; damaged rows are
 * skipped and counted in *dmg (may be NULL). Fails only on a callback's
 * code or out of memory: an unreadable part of the file is damage. The
 * done-set, merge and export open each file so that a closed shard cut short
 * (which HDF5 refuses: "truncated file") is read from an image padded with
 * zeros, and give its verified rows too. */
int tkd_store_scan(tkd_store *s, tkd_store_text_fn fn, void *ctx, tkd_store_damage *dmg, tkd_err *e);
/* "PATH: 12 of 300 rows are damaged (first: row 288: text is not JSON)" */
void tkd_store_damage_describe(const char *path, const tkd_store_damage *d, char *buf, size_t n);

/* The done-set: problem ids of every verified record with a final status
 * (any phase) in every readable shard of dir (*.h5, not recursive), through
 * tkd_store_scan_dir; a missing dir is an empty set (a fresh run). */
int tkd_store_done_set(const char *dir, tkd_idset *set, tkd_err *e);
/* Visit every verified row (see tkd_store_scan) of every readable *.h5
 * directly in dir (sorted by name, rows in file order); fn returns 0 to go
 * on, anything else stops the scan and is returned. A missing dir visits
 * nothing. The shared reader behind every phase's done-set: a shard cut
 * short gives its verified rows and a warning naming it and counting the
 * damaged ones (not visited, so not done: they are redone); an unreadable
 * shard is skipped with a warning (all its rows are redone). */
typedef int (*tkd_store_row_fn)(void *ctx, const char *shard, const tkd_record *rec);
int tkd_store_scan_dir(const char *dir, tkd_store_row_fn fn, void *ctx, tkd_err *e);
/* The same with each row's text (len bytes, not NUL-terminated, valid only
 * during the call): readers that need the records' documents (eval's metrics). */
typedef int (*tkd_store_dir_text_fn)(void *ctx, const char *shard, const tkd_record *rec, const char *text,
                                     size_t len);
int tkd_store_scan_dir_text(const char *dir, tkd_store_dir_text_fn fn, void *ctx, tkd_err *e);
/* Next free attempt number for rank in dir: one past the highest rRRRRR.aN.h5
 * of that rank (0 when none exists or dir is missing). */
int tkd_store_next_attempt(const char *dir, int rank, int *attempt, tkd_err *e);
/* "dir/r00017.a2.h5" (caller frees) */
char *tkd_store_shard_path(const char *dir, int rank, int attempt, tkd_err *e);
/* Close a phase's shard as tkd_store_close does, then remove it if it holds
 * no record: a re-run with nothing left to do leaves no empty shard behind. */
int tkd_store_close_shard(tkd_store *s, tkd_err *e);

/* The manifest JSON for a job: tkd version, git commit, job sha256, seed,
 * and the sha256 of each input file. Caller frees. */
char *tkd_store_manifest(const tkd_job *job, const char *const *inputs, int n_inputs, tkd_err *e);

/* ---- one run per output folder (src/store/lock.c documents the protocol) ----
 * OUT/tkd.lock, created with O_CREAT|O_EXCL (works on NFS and Lustre), holds
 * one JSON line: host, pid, pid_start, slurm_job_id, slurm_restart_count,
 * what, since (UTC), since_unix. A thread refreshes its mtime every
 * stale_s / TKD_STORE_LOCK_BEATS seconds. A lock is stale when its holder is
 * gone: on the same host its pid is gone (or reused); from an earlier run of
 * a requeued Slurm job; on another host its mtime is older than stale_s.
 * A stale lock is taken over with a warning. */
#define TKD_STORE_LOCK_NAME "tkd.lock"
#define TKD_STORE_LOCK_STALE_S 120.0 /* default store.lock_stale_s */
#define TKD_STORE_LOCK_BEATS 6       /* heartbeats per stale_s */
typedef struct tkd_store_lock tkd_store_lock;
/* Take dir's lock (creating dir); what says who holds it ("solve"). A live
 * holder: TKD_EBUSY with a message naming it (host, pid, Slurm job, since).
 * stale_s <= 0: TKD_STORE_LOCK_STALE_S. */
int tkd_store_lock_take(const char *dir, const char *what, double stale_s, tkd_store_lock **out, tkd_err *e);
/* Stop the heartbeat and remove the lock file if it is still ours; frees l
 * (NULL is fine). */
int tkd_store_lock_release(tkd_store_lock *l, tkd_err *e);

/* ---- whole-store operations (tkd store ...) ---- */
typedef struct tkd_store_merge_stats {
    size_t shards, rows_in, rows_out, duplicates;
    uint64_t bytes_out;
    size_t damaged_rows;   /* rows of shards cut short, left out (--skip-damaged) */
    size_t skipped_shards; /* unreadable shards left out (--skip-damaged) */
} tkd_store_merge_stats;

typedef struct tkd_store_merge_opts {
    /* Replace OUT although it is one of the inputs (it is then merged in
     * first), a file that is not a store, or a store of another run or phase. */
    int force;
    /* Merge the verified rows of a shard cut short and leave out the rest and
     * unreadable shards (each reported through tkd_log_warn); without it
     * such a shard fails the merge, saying how many rows are damaged. */
    int skip_damaged;
} tkd_store_merge_opts;

/* Merge every *.h5 directly in dir (not in subfolders) into out: written to
 * a temporary name, fsynced, renamed; duplicates by (pid, sample, phase)
 * dropped, first one kept (shards in name order, rows in file order). Only
 * verified rows are merged (tkd_store_scan). Attributes come from the first
 * shard, plus merged_from (JSON: each shard's file name and rows); phase is
 * "mixed" when shards differ. Merged files are not SWMR files;
 * tkd_store_open reads both.
 * Refused with TKD_EINVAL and a message saying what to do, unless o->force:
 * out is one of the inputs (the same file by device and inode, or a *.h5
 * directly in dir by its real path, so a later merge would read it), an
 * existing file that is not a tkd store, or a store of another phase or of
 * another run (its job_sha256 is none of the inputs', and its run name
 * differs or is the default). A folder as out is always refused. */
int tkd_store_merge_with(const char *dir, const char *out, const tkd_store_merge_opts *o, tkd_store_merge_stats *st,
                         tkd_err *e);
/* tkd_store_merge_with with no option set. */
int tkd_store_merge(const char *dir, const char *out, tkd_store_merge_stats *st, tkd_err *e);

/* Every blob range in bounds, text is valid UTF-8 JSON, no duplicate keys,
 * counts consistent. Returns 0 when the file is sound; problems are reported
 * in e (the first one) and counted in *problems. */
int tkd_store_verify(const char *path, size_t *problems, tkd_err *e);
/* Same, calling fn(ctx, message) for each problem (the first 100). */
typedef void (*tkd_store_report_fn)(void *ctx, const char *problem);
int tkd_store_verify_report(const char *path, tkd_store_report_fn fn, void *ctx, size_t *problems, tkd_err *e);

/* Export records as JSON lines into out ("-": stdout; else temp name, fsync,
 * rename). what: "traces" (records of every phase but problem), "problems"
 * or "all". A trace line is the record's fields (pid as 16 hex digits, phase
 * and status by name) plus "text": the parsed text JSON. A problem line
 * under "problems" is the problem JSON object itself plus "pid", so it can
 * be imported again. Only verified rows are exported (tkd_store_scan); damaged
 * ones are left out with a warning naming the file and counting them. */
int tkd_store_export(const char *path, const char *what, const char *out, size_t *rows, tkd_err *e);

#endif
