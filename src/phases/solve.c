/*
 * The solve phase (see tkd/solve.h): setup on every rank, then one event
 * loop per rank. Each turn of the loop: serve dist, take problems while
 * there is room (solve.max_in_flight samples), run the network for a few
 * milliseconds, feed finished responses and tool results to their agents
 * and carry out the actions they return, write the samples of finished
 * problems, log progress. On a stop: take no more problems, let the samples
 * in flight go on for dist.grace_s, then close the shard (a re-run redoes
 * the problems left unfinished; the response cache makes that free).
 */
#include "solve_int.h"

#include "tkd/phases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *cookie_of(int ai, uint32_t gen) {
    return (void *)(uintptr_t)(((uint64_t)gen << 32) | (uint32_t)ai);
}
static uint64_t tool_id(int ai, uint32_t gen, int slot) {
    return ((uint64_t)(gen & 0xffffffu) << 40) | ((uint64_t)(uint32_t)ai << 8) | (uint64_t)slot;
}

static agent *agent_of(solve_ctx *x, int ai, uint32_t gen, uint32_t gen_mask) {
    if (ai < 0 || ai >= x->n_agents_cap)
        return NULL;
    agent *g = &x->agents[ai];
    return g->used && (g->gen & gen_mask) == gen ? g : NULL;
}

/* Every sample of a problem is done: write them in sample order; the problem
 * is reported to dist after the next flush (report_durable). */
static int problem_done(solve_ctx *x, tkd_dist *d, active *a, tkd_err *e) {
    int rc = 0;
    for (int k = 0; k < x->n_samples && !rc; k++) {
        tkd_solver *sv = a->done[k];
        tkd_record rec;
        tkd_solver_record(sv, &rec);
        char *text = tkd_solver_result_json(sv, e);
        if (!text)
            return TKD_ENOMEM;
        rc = tkd_store_append(x->shard, &rec, text, strlen(text), e);
        free(text);
        x->samples_done++;
        x->by_status[rec.status < TKD_ST_COUNT ? rec.status : TKD_ST_FAILED]++;
    }
    if (rc)
        return tkd_err_wrap(e, "solve: writing %s", tkd_store_path(x->shard));
    for (int k = 0; k < x->n_samples; k++) {
        tkd_solver_free(a->done[k]);
        a->done[k] = NULL;
    }
    (void)d;
    if ((rc = phase_written(&x->run, a->item, e))) /* reported to dist once flushed */
        return rc;
    x->problems_done++;
    a->used = 0;
    x->free_act[x->n_free_act++] = (int)(a - x->act);
    return 0;
}

static int sample_done(solve_ctx *x, tkd_dist *d, int ai, tkd_err *e) {
    agent *g = &x->agents[ai];
    active *a = &x->act[g->prob];
    a->done[g->sample] = g->sv;
    g->sv = NULL;
    g->used = 0;
    x->free_agents[x->n_free_agents++] = ai;
    x->n_agents--;
    if (--a->left == 0)
        return problem_done(x, d, a, e);
    return 0;
}

/* Carry out act for agent ai, and what follows from it at once. */
static int drive(solve_ctx *x, tkd_dist *d, int ai, int act, tkd_err *e) {
    agent *g = &x->agents[ai];
    for (;;) {
        if (act < 0)
            return act;
        if (act == TKD_SOLVER_ACT_WAIT)
            return 0;
        if (act == TKD_SOLVER_ACT_DONE)
            return sample_done(x, d, ai, e);
        if (act == TKD_SOLVER_ACT_LLM) {
            tkd_llm_request req;
            tkd_solver_request(g->sv, &req);
            int rc = tkd_llm_submit(x->llm, &req, cookie_of(ai, g->gen), e);
            if (!rc)
                return 0;
            if (rc == TKD_ENOMEM)
                return tkd_err_wrap(e, "solve: submitting a request");
            /* a request the client refuses (it cannot be built) ends this sample only */
            tkd_llm_response failed;
            memset(&failed, 0, sizeof failed);
            failed.status = TKD_LLM_HTTP_ERROR;
            failed.endpoint = -1;
            failed.error = e->msg;
            failed.content = (char *)"";
            act = tkd_solver_on_llm(g->sv, &failed, e);
            continue;
        }
        /* TOOLS: cached answers are delivered after every miss is submitted */
        int n = tkd_solver_n_calls(g->sv), n_hit = 0, hit_slot[TKD_SOLVER_MAX_CALLS_PER_TURN];
        char *hit_ans[TKD_SOLVER_MAX_CALLS_PER_TURN];
        double hit_s[TKD_SOLVER_MAX_CALLS_PER_TURN];
        for (int i = 0; i < n; i++) {
            const char *name, *args;
            int slot;
            tkd_solver_call(g->sv, i, &name, &args, &slot);
            if (n_hit < TKD_SOLVER_MAX_CALLS_PER_TURN &&
                solve_tool_cache_get(x, name, args, &hit_ans[n_hit], &hit_s[n_hit])) {
                hit_slot[n_hit++] = slot;
                x->tool_cache_hits++;
                continue;
            }
            int rc = tkd_tools_pool_submit(x->pool, tool_id(ai, g->gen, slot), name, args, e);
            if (rc) {
                for (int k = 0; k < n_hit; k++)
                    free(hit_ans[k]);
                return tkd_err_wrap(e, "solve: submitting a tool call");
            }
            x->tool_runs++;
        }
        act = TKD_SOLVER_ACT_WAIT;
        for (int k = 0; k < n_hit; k++) {
            int a2 = act < 0 ? act : tkd_solver_on_tool(g->sv, hit_slot[k], hit_ans[k], hit_s[k], 0, e);
            free(hit_ans[k]);
            if (a2 != TKD_SOLVER_ACT_WAIT)
                act = a2;
        }
    }
}

static int start_problem(solve_ctx *x, tkd_dist *d, uint64_t item, tkd_err *e) {
    int pi = x->free_act[--x->n_free_act];
    active *a = &x->act[pi];
    a->item = item;
    a->left = x->n_samples;
    a->used = 1;
    const tkd_problem *p = &x->probs.items[item];
    for (int k = 0; k < x->n_samples; k++) {
        int ai = x->free_agents[--x->n_free_agents];
        agent *g = &x->agents[ai];
        int rc = tkd_solver_new(&x->scfg, p->id, p->pid, p->problem, p->answer, k,
                                tkd_solver_seed(x->run_seed, p->pid, k), &g->sv, e);
        if (rc) {
            x->free_agents[x->n_free_agents++] = ai;
            return rc;
        }
        g->prob = pi;
        g->sample = k;
        g->gen = ++x->gen;
        g->used = 1;
        x->n_agents++;
        if ((rc = drive(x, d, ai, tkd_solver_start(g->sv, e), e)))
            return rc;
    }
    return 0;
}

static void progress(solve_ctx *x, int force) {
    double now = tkd_now();
    if (!force && now < x->next_progress)
        return;
    double every = tkd_job_num(x->job, "dist.progress_every_s");
    double dt = now - (x->next_progress - every);
    x->next_progress = now + every;
    tkd_llm_stats st;
    tkd_llm_get_stats(x->llm, &st);
    tkd_llm_health_info hi;
    if (tkd_llm_health_get(x->llm, &hi) == TKD_LLM_DOWN) {
        char since[32];
        time_t t = (time_t)hi.down_since;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(since, sizeof since, "%H:%M:%S UTC", &tm);
        tkd_log_info("solve: waiting for the endpoint (down since %s, next check in %.0f s, giving up in %.0f s); "
                     "%llu problems solved; %d samples in flight, %d requests held",
                     since, hi.next_check_s, hi.wait_left_s, (unsigned long long)x->problems_done, x->n_agents,
                     hi.held);
        x->tokens_at_last = st.prompt_tokens + st.completion_tokens;
        return;
    }
    long long tok = st.prompt_tokens + st.completion_tokens;
    double rate = dt > 0 ? (double)(tok - x->tokens_at_last) / dt : 0;
    x->tokens_at_last = tok;
    uint64_t failed = x->samples_done - x->by_status[TKD_ST_CORRECT] - x->by_status[TKD_ST_WRONG];
    tkd_log_info("solve: %llu problems solved, %llu samples: %llu correct, %llu wrong, %llu failed; in flight: %d "
                 "samples, %d requests (+%d waiting); retries %lld, cache hits %lld; %.0f tokens/s",
                 (unsigned long long)x->problems_done, (unsigned long long)x->samples_done,
                 (unsigned long long)x->by_status[TKD_ST_CORRECT], (unsigned long long)x->by_status[TKD_ST_WRONG],
                 (unsigned long long)failed, x->n_agents, st.in_flight, st.waiting, st.retries, st.cache_hits, rate);
}

/* ---- the hooks of the shared event loop (runner.h) ---- */

static int hook_room(void *ctx) {
    solve_ctx *x = ctx;
    int room = (x->n_agents_cap - x->n_agents) / x->n_samples;
    return room < x->n_free_act ? room : x->n_free_act;
}

static int hook_start(void *ctx, uint64_t item, tkd_err *e) {
    solve_ctx *x = ctx;
    return start_problem(x, x->run.dist, item, e);
}

static int hook_on_llm(void *ctx, const tkd_llm_response *resp, void *ck, tkd_err *e) {
    solve_ctx *x = ctx;
    uint64_t c = (uint64_t)(uintptr_t)ck;
    int ai = (int)(uint32_t)c;
    agent *g = agent_of(x, ai, (uint32_t)(c >> 32), 0xffffffffu);
    return g ? drive(x, x->run.dist, ai, tkd_solver_on_llm(g->sv, resp, e), e) : 0;
}

static int hook_busy(void *ctx) {
    return tkd_tools_pool_pending(((solve_ctx *)ctx)->pool);
}

static int hook_poll_tools(void *ctx, int *worked, tkd_err *e) {
    solve_ctx *x = ctx;
    tkd_dist *d = x->run.dist;
    tkd_tool_done done[SOLVE_TOOL_BATCH];
    int nd = 0, rc = 0;
    if ((rc = tkd_tools_pool_poll(x->pool, 0, done, SOLVE_TOOL_BATCH, &nd, e)))
        return tkd_err_wrap(e, "solve: the tool pool failed");
    for (int i = 0; i < nd; i++) {
        int ai = (int)((done[i].id >> 8) & 0xffffffffu), slot = (int)(done[i].id & 0xffu);
        agent *g = agent_of(x, ai, (uint32_t)(done[i].id >> 40), 0xffffffu);
        if (g && !rc) {
            const char *name, *args;
            tkd_solver_slot_call(g->sv, slot, &name, &args);
            char *cached = NULL;
            double secs = 0;
            /* the same call may have finished for another sample or rank meanwhile:
             * the first answer cached is the one every sample records (a replay
             * reproduces it), so add ours (an earlier entry stays) and read back */
            if (done[i].status == 0 && name) {
                solve_tool_cache_put(x, name, args, done[i].answer, done[i].seconds);
                if (solve_tool_cache_get(x, name, args, &cached, &secs)) {
                    free(done[i].answer);
                    done[i].answer = cached;
                    done[i].seconds = secs;
                }
            }
            rc = drive(x, d, ai, tkd_solver_on_tool(g->sv, slot, done[i].answer, done[i].seconds, done[i].status, e),
                       e);
        }
        free(done[i].answer);
        (*worked)++;
    }
    return rc;
}

static int hook_in_flight(void *ctx) {
    return ((solve_ctx *)ctx)->n_agents;
}

static void hook_progress(void *ctx, int force) {
    progress(ctx, force);
}

/* The event loop (runner.c); returns 0, or an error (the shard stays open). */
static int work(solve_ctx *x, tkd_err *e) {
    phase_hooks h = {x, hook_room, hook_start, hook_on_llm, hook_busy, hook_poll_tools, hook_in_flight, hook_progress};
    x->next_progress = tkd_now() + tkd_job_num(x->job, "dist.progress_every_s");
    int rc = phase_loop(&x->run, &h, e);
    x->gave_up = x->run.gave_up;
    return rc;
}

static int alloc_slots(solve_ctx *x, tkd_err *e) {
    long long cap = tkd_job_int(x->job, "solve.max_in_flight");
    if (cap < x->n_samples)
        cap = x->n_samples;
    x->n_agents_cap = (int)cap;
    x->n_act_cap = (int)cap;
    x->agents = tkd_calloc((size_t)cap, sizeof *x->agents, e);
    x->free_agents = tkd_calloc((size_t)cap, sizeof *x->free_agents, e);
    x->act = tkd_calloc((size_t)cap, sizeof *x->act, e);
    x->free_act = tkd_calloc((size_t)cap, sizeof *x->free_act, e);
    if (!x->agents || !x->free_agents || !x->act || !x->free_act)
        return TKD_ENOMEM;
    if (phase_run_init(&x->run, "solve", (int)cap, e))
        return TKD_ENOMEM;
    for (int i = 0; i < cap; i++) {
        x->free_agents[x->n_free_agents++] = (int)cap - 1 - i;
        x->free_act[x->n_free_act++] = (int)cap - 1 - i;
        if (!(x->act[i].done = tkd_calloc((size_t)x->n_samples, sizeof(tkd_solver *), e)))
            return TKD_ENOMEM;
    }
    return 0;
}

static void ctx_free(solve_ctx *x) {
    for (int i = 0; x->agents && i < x->n_agents_cap; i++)
        tkd_solver_free(x->agents[i].sv);
    for (int i = 0; x->act && i < x->n_act_cap; i++) {
        for (int k = 0; x->act[i].done && k < x->n_samples; k++)
            tkd_solver_free(x->act[i].done[k]);
        free(x->act[i].done);
    }
    free(x->agents);
    free(x->free_agents);
    free(x->act);
    free(x->free_act);
    phase_run_free(&x->run); /* the shard, the client and dist */
    tkd_tools_pool_free(x->pool);
    json_decref(x->tools);
    for (int i = 0; i < SOLVE_N_PROMPTS; i++)
        free(x->prompts[i]);
    free(x->dir);
    free(x->tool_cache_dir);
    tkd_problem_set_free(&x->probs);
}

int tkd_solve_run(const tkd_job *job, MPI_Comm comm, tkd_err *e) {
    solve_ctx x;
    memset(&x, 0, sizeof x);
    x.job = job;
    tkd_problem_set_init(&x.probs);
    MPI_Comm_rank(comm, &x.rank);
    MPI_Comm_size(comm, &x.size);
    x.n_samples = (int)tkd_job_int(job, "solve.samples_per_problem");
    x.run_seed = (uint64_t)tkd_job_int(job, "seed");
    char *path = NULL, *problems = NULL;
    uint8_t *done = NULL;
    int rc = 0;
    tkd_buf b;
    tkd_buf_init(&b);

    /* ---- setup; any rank's failure fails every rank (no one waits forever) ---- */
    if ((rc = tkd_llm_config_from_job(job, &x.lcfg, e)))
        goto agree1;
    if (!x.lcfg.model || !*x.lcfg.model || x.lcfg.n_base_urls < 1) {
        rc = tkd_err_set(e, TKD_EINVAL, "%s: the solve phase needs teacher.model and teacher.base_urls", job->path);
        goto agree1;
    }
    if ((rc = solve_cfg_from_job(&x, e)))
        goto agree1;
    if (tkd_buf_printf(&b, "%s/shards/solve", tkd_job_str(job, "output_dir")) || !(x.dir = tkd_buf_steal(&b)) ||
        !(problems = tkd_phase_problems_path(job, e))) {
        rc = tkd_err_set(e, TKD_ENOMEM, "solve: out of memory");
        goto agree1;
    }
    if (x.lcfg.cache != TKD_LLM_CACHE_OFF && tkd_job_bool(job, "solve.tool_cache") &&
        (tkd_buf_printf(&b, "%s/tools", x.lcfg.cache_dir) || !(x.tool_cache_dir = tkd_buf_steal(&b)))) {
        rc = tkd_err_set(e, TKD_ENOMEM, "solve: out of memory");
        goto agree1;
    }
    if ((rc = tkd_phase_load_problems(job, &x.probs, e)) || (rc = tkd_mkdirs(x.dir, e)))
        goto agree1;
    if (x.rank == 0) {
        if (!(done = tkd_calloc(x.probs.n ? x.probs.n : 1, 1, e))) {
            rc = TKD_ENOMEM;
            goto agree1;
        }
        if ((rc = solve_done_set(&x, done, e)))
            goto agree1;
    }
agree1:
    if (phase_agree(comm, &rc, "solve", e))
        goto out;
    {
        tkd_tool_limits lim;
        tkd_tools_limits_default(&lim);
        lim.wall_seconds = tkd_job_num(job, "solve.tool_timeout_s");
        if ((rc = tkd_tools_code_from_job(job, &lim.code, e)) ||
            (rc = tkd_tools_pool_create((int)tkd_job_int(job, "solve.tool_workers"), &lim, &x.pool, e)))
            goto agree;
    }
    x.lcfg.seed = x.run_seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(x.rank + 1));
    if ((rc = alloc_slots(&x, e)) || (rc = tkd_llm_create(&x.lcfg, &x.run.llm[0], e)))
        goto agree;
    x.llm = x.run.llm[0];
    x.run.n_llm = 1;
    x.run.n_items = x.probs.n;
    if (x.lcfg.cache != TKD_LLM_CACHE_REPLAY)
        tkd_llm_check(x.llm); /* no work is taken before an endpoint answers (runner.c) */
    {
        const char *inputs[1] = {problems};
        if ((rc = phase_open_shard(&x.run, job, x.dir, x.rank, TKD_PHASE_SOLVE, inputs, 1, &path, e)))
            goto agree;
        x.shard = x.run.shard;
    }
agree:
    if (phase_agree(comm, &rc, "solve", e))
        goto out;
    tkd_dist_cfg cfg;
    tkd_dist_cfg_default(&cfg);
    tkd_dist_cfg_from_job(job, &cfg);
    cfg.label = "solve";
    if ((rc = tkd_dist_create(comm, x.probs.n, done, &cfg, &x.run.dist, e)))
        goto out;
    tkd_log_info("solve: rank %d (pid %d): shard %s", x.rank, (int)getpid(), path);
    if (x.rank == 0)
        tkd_log_info("solve: %zu problems x %d samples (%llu problems done before), %d ranks, teacher %s at %s%s",
                     x.probs.n, x.n_samples, (unsigned long long)x.done_before, x.size, x.lcfg.model,
                     x.lcfg.base_urls[0], x.lcfg.n_base_urls > 1 ? " and others" : "");
    x.t_start = tkd_now();
    rc = work(&x, e);
    progress(&x, 1);
    tkd_dist_stats st;
    rc = phase_close(&x.run, rc, &st, e); /* flush and close the shard, then goodbye */
    x.shard = NULL;
    {
        double el = tkd_now() - x.t_start;
        tkd_llm_stats ls;
        tkd_llm_get_stats(x.llm, &ls);
        tkd_buf_reset(&b);
        for (int s = 0; s < TKD_ST_COUNT; s++)
            if (x.by_status[s])
                tkd_buf_printf(&b, " %s %llu", tkd_status_name((tkd_status)s), (unsigned long long)x.by_status[s]);
        tkd_log_info("solve: rank %d: %llu problems, %llu samples in %.1f s (%.1f problems/s):%s; %lld requests, "
                     "%lld attempts, %lld retries, %lld cache hits; tools: %llu run, %llu from the cache",
                     x.rank, (unsigned long long)x.problems_done, (unsigned long long)x.samples_done, el,
                     el > 0 ? (double)x.problems_done / el : 0.0, b.len ? b.data : " none", ls.submitted, ls.attempts,
                     ls.retries, ls.cache_hits, (unsigned long long)x.tool_runs, (unsigned long long)x.tool_cache_hits);
    }
    /* samples that ended transient (api_error) are not done: each rank says how many it left */
    unsigned long long transient = 0;
    for (int s = 0; s < TKD_ST_COUNT; s++)
        if (!tkd_status_is_final(s))
            transient += x.by_status[s];
    if (transient)
        tkd_log_warn("solve: rank %d: %llu samples ended api_error (the teacher could not answer) and are left to "
                     "redo",
                     x.rank, transient);
    if (x.rank == 0 && (rc == 0 || rc == TKD_ESTOP))
        tkd_log_info("solve: %s: %llu/%llu problems done, %llu before this run; %s",
                     x.gave_up ? "stopped: the teacher is down (exit 3; a re-run resumes)"
                     : rc      ? "stopped early (exit 3; a re-run resumes)"
                               : "all done",
                     (unsigned long long)st.done, (unsigned long long)st.total, (unsigned long long)st.done_before,
                     st.duplicates ? "some problems were done twice (merge drops duplicates)" : "no duplicates");
    /* the completion step (rank 0, tkd_phase_complete) finds them in the shards: no marker, exit 3 */
out:
    ctx_free(&x);
    free(done);
    free(path);
    free(problems);
    tkd_buf_free(&b);
    return rc;
}
