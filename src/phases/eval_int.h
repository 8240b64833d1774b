/*
 * Internal to the eval phase (src/phases/eval*.c): the engine interface
 * every arm is seen through, the per-rank context, and the metrics.
 *
 * An engine takes a chat (messages) with sampling settings and hands the
 * completion back on the event loop: submit never blocks, poll runs the
 * engine for a while (the network for `endpoint`, one batched forward pass
 * for `builtin`), next hands back finished samples one at a time.
 */
#ifndef TKD_EVAL_INT_H
#define TKD_EVAL_INT_H

#include "tkd/agents.h"
#include "tkd/data.h"
#include "tkd/dist.h"
#include "tkd/grade.h"
#include "tkd/phases.h"
#include "tkd/store.h"
#include "tkd/tools.h"

#include "tkd/llm.h"

#include <jansson.h>

#define EVAL_POLL_MS 10    /* longest wait in the network poll when idle */
#define EVAL_FLUSH_S 0.2   /* longest wait before written samples are flushed and reported */
#define EVAL_MAX_ARMS 64   /* arms in one job */
#define EVAL_MAX_BENCH 256 /* benchmarks in one job */

/* ---- engines ---- */
typedef struct eval_sampling {
    double temperature, top_p;
    int max_new;  /* max_new_tokens */
    int64_t seed; /* the sample's own seed */
    int sample;
    const char *tag; /* "ARM/PROBLEM-ID/SAMPLE": sent as X-TKD-Tag by the endpoint engine */
} eval_sampling;

typedef struct eval_done {
    void *cookie;
    int outcome;         /* EVAL_OK, EVAL_TRANSIENT (redo on resume), EVAL_FAILED (final) */
    char *text;          /* the response ("" when none); malloc'd */
    char *finish_reason; /* "stop", "length", ...; malloc'd or NULL */
    char *error;         /* why, when not ok; malloc'd or NULL */
    long prompt_tokens, completion_tokens;
    double latency_s;
    int attempts, from_cache, endpoint;
} eval_done;
enum { EVAL_OK = 0, EVAL_TRANSIENT = 1, EVAL_FAILED = 2 };
void eval_done_clear(eval_done *d);

typedef struct eval_engine eval_engine;
struct eval_engine {
    const char *kind; /* "endpoint" | "builtin" */
    int (*submit)(eval_engine *g, json_t *messages, const eval_sampling *s, void *cookie, tkd_err *e);
    /* run for at most timeout_ms; < 0: a fatal error (e says why) */
    int (*poll)(eval_engine *g, int timeout_ms, tkd_err *e);
    int (*next)(eval_engine *g, eval_done *d); /* 1: *d filled (caller clears it) */
    int (*pending)(const eval_engine *g);      /* submitted, not yet handed back */
    int (*busy)(const eval_engine *g);         /* compute is waiting: do not sleep in the poll */
    void (*free)(eval_engine *g);
};

/* An endpoint arm: tkd's OpenAI client, with the teacher.* settings as
 * defaults for what the arm does not say. */
int eval_endpoint_new(const tkd_job *job, size_t arm, int rank, eval_engine **out, tkd_err *e);
/* A builtin arm: the model (and adapter) loaded once on this rank. */
int eval_builtin_new(const tkd_job *job, size_t arm, eval_engine **out, tkd_err *e);

/* ---- the per-rank context ---- */
typedef struct eval_arm {
    const char *name, *engine, *mode, *model; /* into the job */
    eval_engine *eng;
    int tir;             /* mode tir: the solver agent with this arm as the model */
    tkd_solver_cfg scfg; /* tir */
    const char *urls[TKD_LLM_MAX_ENDPOINTS];
} eval_arm;

typedef struct eval_bench {
    const char *name; /* eval.benchmarks[].name, else the file name without extension */
    char *owned_name;
    tkd_grade_mode extract;
    size_t first, n; /* its problems: probs.items[first .. first+n) */
} eval_bench;

typedef struct eval_slot { /* one sample in flight */
    uint64_t item;
    uint32_t gen;
    int used;
    double t0;
    char *prompt;   /* the messages as JSON text (kept for the record) */
    tkd_solver *sv; /* mode tir: the sample's agent */
} eval_slot;

typedef struct eval_ctx {
    const tkd_job *job;
    int rank, size, attempt, k, max_new;
    double temperature, top_p;
    uint64_t run_seed;
    char *dir;
    tkd_student_prompt sp;
    tkd_grade_opts gopts;
    eval_arm arms[EVAL_MAX_ARMS];
    int n_arms;
    eval_bench benches[EVAL_MAX_BENCH];
    int n_benches;
    tkd_problem_set probs;
    int *bench_of; /* (probs.n) */
    uint64_t n_items, done_before;
    tkd_store *shard;
    eval_slot *slots;
    int n_slots_cap, n_slots;
    int *free_slots, n_free;
    uint32_t gen;
    uint64_t *unflushed;
    int n_unflushed;
    double last_flush, t_start, next_progress;
    uint64_t samples_done, by_status[TKD_ST_COUNT];
    /* mode tir (src/phases/eval_tir.c) */
    int n_tir;
    char *tir_prompts[6];
    json_t *tools;
    tkd_tools_pool *pool;
} eval_ctx;

/* item <-> (arm, problem, sample) */
static inline uint64_t eval_item(const eval_ctx *x, int arm, size_t prob, int sample) {
    return ((uint64_t)arm * x->probs.n + prob) * (uint64_t)x->k + (uint64_t)sample;
}
/* The record's pid: tkd_hash64("eval\n" ARM "\n" PROBLEM-ID), so every arm's
 * samples are distinct rows of one store. */
uint64_t eval_pid(const char *arm, const char *problem_id);

/* mode tir (src/phases/eval_tir.c): the solver agent of the solve phase
 * (solve.* settings and prompts, the toolkit through a worker pool) with
 * an endpoint arm in the teacher's place. */
int eval_tir_setup(eval_ctx *x, tkd_err *e); /* after the engines exist */
int eval_tir_start(eval_ctx *x, tkd_dist *d, int si, tkd_err *e);
/* Feed the arm's finished requests and the pool's tool results to their solvers. */
int eval_tir_drain(eval_ctx *x, tkd_dist *d, int arm, int *worked, tkd_err *e);
int eval_tir_tools(eval_ctx *x, tkd_dist *d, int *worked, tkd_err *e);
struct tkd_llm *eval_endpoint_llm(eval_engine *g);
/* Write a finished sample's record (text: its JSON document) and free its slot. */
int eval_write(eval_ctx *x, tkd_dist *d, int si, tkd_record *rec, json_t *doc, tkd_err *e);
void eval_item_parts(const eval_ctx *x, uint64_t item, int *arm, size_t *prob, int *sample);

int eval_setup(eval_ctx *x, tkd_err *e);                   /* arms, benchmarks, prompts (every rank) */
int eval_done_set(eval_ctx *x, uint8_t *done, tkd_err *e); /* rank 0 */
void eval_ctx_free(eval_ctx *x);

#endif
