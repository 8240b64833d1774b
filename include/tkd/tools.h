/*
 * tools: the exact math toolkit the teacher model calls. Each tool is a name,
 * an OpenAI function-calling schema (whose description is all the model ever
 * sees, so it teaches the expected syntax) and a handler on expr and FLINT.
 *
 * Contract: every call answers one JSON object, either
 *   {"result": ...}                         plain text in SymPy-like printing,
 *                                            lists as JSON arrays
 *   {"status": "error", "message": "..."}    what was wrong and how to fix it
 * Answers longer than the output cap are cut with a note saying so.
 *
 * Two ways to call:
 *  - tkd_tools_call: direct and synchronous, in this process (the worker, the
 *    benchmark, the fuzzer). No CPU or memory limit is enforced here beyond
 *    the size guards inside the tools.
 *  - the pool: a few fork()ed worker processes over pipes, each call with a
 *    CPU-time limit, an address-space limit and a wall-time watchdog; a crash
 *    or a timeout answers an error and the worker is replaced. Non-blocking
 *    submit and completion, for an event loop.
 */
#ifndef TKD_TOOLS_H
#define TKD_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "tkd/core.h"

/* ---- named limits ---- */
#define TKD_TOOL_CPU_SECONDS 2.0          /* CPU time per call in a worker */
#define TKD_TOOL_MEM_BYTES (1024UL << 20) /* address space of a worker: 1 GiB */
#define TKD_TOOL_OUTPUT_MAX 8192          /* bytes of answer JSON before truncation */
#define TKD_TOOL_WALL_SECONDS 10.0        /* watchdog: wall time per call */
#define TKD_TOOL_ARGS_MAX (64 * 1024)     /* bytes of argument JSON accepted */
#define TKD_TOOL_NAME_MAX 64              /* bytes of a tool name */
#define TKD_TOOL_POOL_MAX 64              /* workers in one pool */
#define TKD_TOOL_WORKER_CALLS 10000       /* a worker is recycled after this many calls */

/* ---- the code tool (run_python) and its sandbox: src/tools/code.c, sandbox.c ---- */
#define TKD_CODE_TIMEOUT_S 10.0          /* wall time of one run_python call */
#define TKD_CODE_MEMORY_MB 1024          /* RLIMIT_AS of each process of the code */
#define TKD_CODE_OUTPUT_BYTES (1u << 20) /* stdout + stderr read; past it the code is killed */
#define TKD_CODE_SCRATCH_MB 64           /* the private scratch folder (tmpfs; weak: per file) */
#define TKD_CODE_NPROC 64                /* processes and threads of the code */
#define TKD_CODE_NOFILE 256              /* open files of each process */
#define TKD_CODE_PATH_MAX 1024           /* bytes of the interpreter's path */
#define TKD_CODE_WATCHDOG_MARGIN_S 5.0   /* the pool's watchdog waits this much past timeout_s */
#define TKD_CODE_UID 65534u              /* the uid (and gid) the code runs as: nobody */

typedef enum {
    TKD_SANDBOX_STRICT = 0,    /* namespaces + seccomp + rlimits, or the call fails */
    TKD_SANDBOX_ALLOW_WEAK = 1 /* strict where the node allows it, else the weak mode */
} tkd_sandbox_mode;

typedef struct tkd_code_cfg {
    tkd_sandbox_mode mode;
    double timeout_s;
    size_t memory_bytes, output_bytes, scratch_bytes;
    int force_weak;                 /* tests: behave as if user namespaces were unavailable
                                       (also the environment variable TKD_SANDBOX_FORCE_WEAK=1) */
    char python[TKD_CODE_PATH_MAX]; /* "": the first python3 on PATH */
} tkd_code_cfg;

typedef struct tkd_tool_limits {
    double cpu_seconds;  /* RLIMIT_CPU / ITIMER_PROF per call; <= 0: default */
    size_t mem_bytes;    /* RLIMIT_AS of a worker; 0: default */
    size_t output_max;   /* answer cap in bytes; 0: default */
    double wall_seconds; /* watchdog; <= 0: default */
    tkd_code_cfg code;   /* run_python's sandbox */
} tkd_tool_limits;

/* Fill l with the defaults above. */
void tkd_tools_limits_default(tkd_tool_limits *l);
void tkd_tools_code_default(tkd_code_cfg *c);

/* The tools.code section of a job (sandbox, timeout_s, memory_mb,
 * output_bytes, scratch_mb, python) into c. */
struct tkd_job;
int tkd_tools_code_from_job(const struct tkd_job *job, tkd_code_cfg *c, tkd_err *e);

/* What the node supports for run_python (`tkd tool sandbox-check`). */
typedef struct tkd_sandbox_report {
    int userns, pidns, mntns, netns, ipcns, utsns; /* 1: a namespace of this kind can be made */
    int seccomp;                                   /* 1: a seccomp filter can be loaded */
    int strict_ok, weak_ok;                        /* 1: a test program ran in this mode */
    int sympy, numpy;                              /* importable inside the sandbox */
    char sysctl[256];                              /* the user-namespace sysctls, as read */
    char python[TKD_CODE_PATH_MAX];                /* the interpreter found ("" none) */
    char python_version[64];
    char strict_why[TKD_ERR_MSG_MAX]; /* why strict does not work ("" when it does) */
    char weak_why[TKD_ERR_MSG_MAX];
} tkd_sandbox_report;
int tkd_tools_sandbox_check(const tkd_code_cfg *c, tkd_sandbox_report *r);

/* ---- the registry ---- */
typedef struct tkd_tool tkd_tool;

/* Number of tools and the i-th one, in the order `tkd tool list` prints. */
size_t tkd_tools_count(void);
const tkd_tool *tkd_tools_at(size_t i);
/* A tool by name, or NULL. */
const tkd_tool *tkd_tools_find(const char *name);
const char *tkd_tools_name(const tkd_tool *t);
const char *tkd_tools_summary(const tkd_tool *t); /* one line */
const char *tkd_tools_group(const tkd_tool *t);   /* "algebra", "calculus", ... */
/* 1 for a tool offered only when named (run_python). */
int tkd_tools_opt_in(const tkd_tool *t);
/* The watchdog's wall time for a call of tool name under lim. */
double tkd_tools_wall_seconds(const char *name, const tkd_tool_limits *lim);

/*
 * The OpenAI tool specs as a JSON array (malloc'd text, caller frees):
 * [{"type":"function","function":{"name","description","parameters"}}, ...].
 * names: NULL for all tools, or a NULL-terminated list to select some.
 */
char *tkd_tools_specs_json(const char *const *names, tkd_err *e);
/* One tool's spec object (malloc'd text). */
char *tkd_tools_spec_json(const tkd_tool *t, tkd_err *e);

/*
 * Call a tool in this process. args_json is the arguments object as text
 * (n bytes; need not be NUL-terminated). *answer receives the answer JSON
 * (malloc'd, caller frees), also for tool errors.
 * Returns 0 when the tool answered (result or tool error), TKD_ENOTFOUND for
 * an unknown tool and TKD_EINVAL for arguments that are not a JSON object; in
 * those two cases *answer still holds an error answer the model can read.
 * Returns TKD_ENOMEM (and *answer NULL) only when even that failed.
 */
int tkd_tools_call(const char *name, const char *args_json, size_t n, char **answer, const tkd_tool_limits *limits,
                   tkd_err *e);

/* Build the error answer {"status":"error","message":msg} (malloc'd). */
char *tkd_tools_error_json(const char *msg);

/* ---- the executor: a pool of isolated worker processes ---- */
typedef struct tkd_tools_pool tkd_tools_pool;

typedef struct tkd_tool_done {
    uint64_t id;    /* as submitted */
    char *answer;   /* answer JSON, malloc'd; the caller frees it */
    double seconds; /* wall time from start in a worker to completion */
    int status;     /* 0 answered by the tool; TKD_ETIMEOUT, TKD_ELIMIT (memory),
                       TKD_EINTERNAL (worker crash): answer holds an error then */
} tkd_tool_done;

/*
 * Fork n_workers workers (1..TKD_TOOL_POOL_MAX). Call it early, before the
 * process starts threads: replacements are forked later from the same
 * parent (safe with glibc, whose fork resets the allocator's locks; workers
 * run only tkd, FLINT and jansson code and leave with _exit).
 */
int tkd_tools_pool_create(int n_workers, const tkd_tool_limits *limits, tkd_tools_pool **out, tkd_err *e);
/* Queue a call; never blocks (calls wait in a queue when all workers are busy). */
int tkd_tools_pool_submit(tkd_tools_pool *p, uint64_t id, const char *name, const char *args_json, tkd_err *e);
/*
 * Wait up to timeout_ms (0: just look, -1: until one completes or nothing is
 * in flight) and move up to max finished calls into done[]; *n_done gets how
 * many. Also enforces the wall-time watchdog and replaces dead workers, so an
 * event loop calls it whenever a pool fd is readable or its timer is due.
 */
int tkd_tools_pool_poll(tkd_tools_pool *p, int timeout_ms, tkd_tool_done *done, int max, int *n_done, tkd_err *e);
/* The fds to watch for readability (one per worker); returns how many. */
int tkd_tools_pool_fds(const tkd_tools_pool *p, int *fds, int max);
/* Milliseconds until the next watchdog deadline (-1: none in flight). */
int tkd_tools_pool_next_timeout_ms(const tkd_tools_pool *p);
/* Calls submitted and not yet returned by poll. */
int tkd_tools_pool_pending(const tkd_tools_pool *p);
/* Workers started since creation, replacements included (for tests). */
int tkd_tools_pool_spawned(const tkd_tools_pool *p);
/* Kill the workers, reap them, free everything (pending calls are dropped). */
void tkd_tools_pool_free(tkd_tools_pool *p);

/* One call through a fresh one-worker pool, with limits: the CLI's way. */
int tkd_tools_call_isolated(const char *name, const char *args_json, char **answer, const tkd_tool_limits *limits,
                            tkd_err *e);

/* ---- exact subsets of the real line (src/tools/rset.c) ----
 * A finite union of intervals and points with real algebraic ends, kept in a
 * minimal form so that equal sets have equal representations: what the
 * inequality tools answer and how the grader compares inequalities as
 * solution sets. Functions return 0 or a TKD_E* code (e set where taken). */
typedef struct tkd_expr tkd_expr;
typedef struct tkd_rset tkd_rset;
/* The solution set in var of one relation (< <= > >= == !=) between rational
 * functions of var with rational coefficients, or a linear one with algebraic
 * coefficients (x > sqrt(2)); TKD_EMATH (unsupported) otherwise, TKD_ELIMIT
 * above max_degree (<= 0: 200). */
int tkd_rset_solve(const tkd_expr *rel, const char *var, int max_degree, tkd_rset **out, tkd_err *e);
/* The interval between two algebraic constants (NULL or -oo/oo: unbounded);
 * TKD_EMATH when an end is not algebraic (pi) or lo >= hi. */
int tkd_rset_interval(const tkd_expr *lo, const tkd_expr *hi, int lo_closed, int hi_closed, tkd_rset **out,
                      tkd_err *e);
int tkd_rset_all(int member, tkd_rset **out); /* the reals (member 1) or the empty set (0) */
/* a | b, or a & b when inter; 0 or TKD_ENOMEM. */
int tkd_rset_combine(const tkd_rset *a, const tkd_rset *b, int inter, tkd_rset **out);
void tkd_rset_complement(tkd_rset *s);
int tkd_rset_equal(const tkd_rset *a, const tkd_rset *b); /* exact */
/* SymPy's printing: var NULL as a set (Union(Interval.open(-oo, 1), {2})),
 * else as relations in var joined by & and | (reduce_inequalities). */
int tkd_rset_print(const tkd_rset *s, const char *var, tkd_buf *b, tkd_err *e);
void tkd_rset_free(tkd_rset *s);
/* The set's maximal intervals in order, ends as expressions (NULL: -oo/oo;
 * a point has lo and hi equal and closed); free with tkd_rset_pieces_free. */
typedef struct tkd_rset_piece {
    tkd_expr *lo, *hi;
    int lo_closed, hi_closed;
} tkd_rset_piece;
int tkd_rset_pieces(const tkd_rset *s, tkd_rset_piece **out, int *n, tkd_err *e);
void tkd_rset_pieces_free(tkd_rset_piece *v, int n);

#endif
