/*
 * Internal to the solve phase (src/phases/solve*.c): the per-rank context
 * shared by the setup pieces and the event loop.
 */
#ifndef TKD_SOLVE_INT_H
#define TKD_SOLVE_INT_H

#include "tkd/agents.h"
#include "tkd/data.h"
#include "tkd/dist.h"
#include "tkd/llm.h"
#include "tkd/phases.h"
#include "tkd/store.h"
#include "tkd/tools.h"

#include "runner.h"

#define SOLVE_N_PROMPTS 6
#define SOLVE_TOOL_BATCH 64 /* tool results taken per poll */

typedef struct agent { /* one sample in flight */
    tkd_solver *sv;
    int prob;   /* index into solve_ctx.act */
    int sample; /* its index within the problem */
    uint32_t gen;
    int used;
} agent;

typedef struct active { /* one problem in flight */
    uint64_t item;
    int left; /* samples still running */
    int used;
    tkd_solver **done; /* finished samples, by sample index */
} active;

typedef struct solve_ctx {
    const tkd_job *job;
    int rank, size, attempt, n_samples;
    char *dir, *prompts[SOLVE_N_PROMPTS], *tool_cache_dir;
    tkd_problem_set probs;
    uint64_t done_before, run_seed;
    tkd_llm_config lcfg;
    tkd_solver_cfg scfg;
    json_t *tools;
    phase_run run;   /* the shared loop: dist, clients, shard, flush-then-report */
    tkd_llm *llm;    /* run.llm[0] (borrowed) */
    tkd_tools_pool *pool;
    tkd_store *shard; /* run.shard (borrowed) */
    agent *agents;
    int n_agents_cap, n_agents;
    int *free_agents, n_free_agents;
    active *act;
    int n_act_cap;
    int *free_act, n_free_act;
    uint32_t gen;
    /* counters (this rank) */
    uint64_t problems_done, samples_done, by_status[TKD_ST_COUNT], tool_runs, tool_cache_hits;
    double t_start, next_progress;
    int gave_up; /* the teacher stayed down past teacher.wait_for_endpoint_s */
    long long tokens_at_last, tokens_now;
} solve_ctx;

int solve_cfg_from_job(solve_ctx *x, tkd_err *e);
int solve_done_set(solve_ctx *x, uint8_t *done, tkd_err *e);
int solve_tool_cache_get(solve_ctx *x, const char *name, const char *args, char **answer, double *seconds);
void solve_tool_cache_put(solve_ctx *x, const char *name, const char *args, const char *answer, double seconds);

#endif
