/*
 * Mode tir of the eval phase: the student may call the toolkit. Each sample
 * is the solve phase's solver agent (tkd/agents.h: planning turn, tool turns,
 * next-action follow-ups, wrap-up; the solve.* settings and prompt files)
 * with the arm's endpoint in the teacher's place, on the eval event loop:
 * its requests go to the arm's client (with the eval sampling settings and
 * the sample's seed), its tool calls to one worker pool per rank
 * (solve.tool_workers, solve.tool_timeout_s). The record is the solver's
 * result (conversation, every call, answer, grade) with the eval fields
 * (arm, benchmark, problem, sample) added; its status is the solver's.
 * Endpoint arms only: the builtin engine returns text, not tool calls.
 */
#include "eval_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *cookie_of(int si, uint32_t gen) {
    return (void *)(uintptr_t)(((uint64_t)gen << 32) | (uint32_t)si);
}
static uint64_t tool_id(int si, uint32_t gen, int slot) {
    return ((uint64_t)(gen & 0xffffffu) << 40) | ((uint64_t)(uint32_t)si << 8) | (uint64_t)slot;
}

int eval_tir_setup(eval_ctx *x, tkd_err *e) {
    const tkd_job *job = x->job;
    for (int a = 0; a < x->n_arms; a++)
        x->n_tir += x->arms[a].tir;
    if (!x->n_tir)
        return 0;
    static const char *const keys[6] = {"solve.prompts.system",  "solve.prompts.user",        "solve.prompts.planning",
                                        "solve.prompts.execute", "solve.prompts.next_action", "solve.prompts.wrap_up"};
    for (int i = 0; i < 6; i++) {
        int rc = tkd_prompt_file(job, keys[i], &x->tir_prompts[i], e);
        if (rc)
            return rc;
    }
    if (!(x->tools = tkd_phase_solve_tools(job, e)))
        return e->code ? e->code : TKD_ENOMEM;
    json_t *arms = tkd_job_get(job, "eval.arms");
    for (int a = 0; a < x->n_arms; a++) {
        eval_arm *ar = &x->arms[a];
        if (!ar->tir)
            continue;
        tkd_solver_cfg *c = &ar->scfg;
        tkd_solver_cfg_default(c);
        c->max_turns = (int)tkd_job_int(job, "solve.max_turns");
        c->planning = tkd_job_bool(job, "solve.planning");
        c->single_step = tkd_job_bool(job, "solve.single_step");
        c->wrap_up_before = (int)tkd_job_int(job, "solve.wrap_up_turns_before_limit");
        c->max_tool_errors = (int)tkd_job_int(job, "solve.max_tool_errors");
        const char **dst[6] = {&c->system_prompt,  &c->user_template,      &c->planning_prompt,
                               &c->execute_prompt, &c->next_action_prompt, &c->wrap_up_prompt};
        for (int k = 0; k < 6; k++)
            if (x->tir_prompts[k])
                *dst[k] = x->tir_prompts[k];
        if (!strstr(c->user_template, "{problem}"))
            return tkd_err_set(e, TKD_EINVAL, "%s: solve.prompts.user: the prompt has no {problem} placeholder",
                               job->path);
        c->tools = x->tools;
        c->grade = x->gopts;
        c->model = ar->model;
        json_t *u;
        size_t k;
        int nu = 0;
        json_array_foreach(json_object_get(json_array_get(arms, (size_t)a), "base_urls"), k, u) {
            if (nu < TKD_LLM_MAX_ENDPOINTS)
                ar->urls[nu++] = json_string_value(u);
        }
        c->endpoints = ar->urls;
        c->n_endpoints = nu;
    }
    tkd_tool_limits lim;
    tkd_tools_limits_default(&lim);
    lim.wall_seconds = tkd_job_num(job, "solve.tool_timeout_s");
    int rc = tkd_tools_code_from_job(job, &lim.code, e);
    if (rc)
        return rc;
    return tkd_tools_pool_create((int)tkd_job_int(job, "solve.tool_workers"), &lim, &x->pool, e);
}

static int tir_done(eval_ctx *x, tkd_dist *d, int si, tkd_err *e) {
    eval_slot *sl = &x->slots[si];
    int arm, sample;
    size_t prob;
    eval_item_parts(x, sl->item, &arm, &prob, &sample);
    const tkd_problem *p = &x->probs.items[prob];
    tkd_record rec;
    tkd_solver_record(sl->sv, &rec);
    rec.pid = eval_pid(x->arms[arm].name, p->id);
    rec.phase = TKD_PHASE_EVAL;
    char *text = tkd_solver_result_json(sl->sv, e);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!doc)
        return tkd_err_set(e, TKD_ENOMEM, "eval: out of memory writing a record");
    json_object_set_new(doc, "arm", json_string(x->arms[arm].name));
    json_object_set_new(doc, "engine", json_string(x->arms[arm].engine));
    json_object_set_new(doc, "mode", json_string("tir"));
    json_object_set_new(doc, "model", json_string(x->arms[arm].model));
    json_object_set_new(doc, "benchmark", json_string(x->benches[x->bench_of[prob]].name));
    json_object_set_new(doc, "subject", json_string(p->subject ? p->subject : ""));
    json_object_set_new(doc, "level", json_integer(p->level));
    json_object_set_new(doc, "correct", json_boolean(rec.flags & TKD_F_CORRECT));
    json_object_set_new(doc, "max_new_tokens", json_integer(x->max_new));
    return eval_write(x, d, si, &rec, doc, e);
}

/* Carry out act for the solver in slot si, and what follows from it at once. */
static int drive(eval_ctx *x, tkd_dist *d, int si, int act, tkd_err *e) {
    eval_slot *sl = &x->slots[si];
    int arm, sample;
    size_t prob;
    eval_item_parts(x, sl->item, &arm, &prob, &sample);
    for (;;) {
        if (act < 0)
            return act;
        if (act == TKD_SOLVER_ACT_WAIT)
            return 0;
        if (act == TKD_SOLVER_ACT_DONE)
            return tir_done(x, d, si, e);
        if (act == TKD_SOLVER_ACT_LLM) {
            tkd_llm_request req;
            tkd_solver_request(sl->sv, &req);
            char tag[512];
            snprintf(tag, sizeof tag, "%s/%s/%d", x->arms[arm].name, x->probs.items[prob].id, sample);
            req.model = x->arms[arm].model;
            req.temperature = x->temperature;
            req.top_p = x->top_p;
            req.max_tokens = x->max_new;
            req.tag = tag;
            int rc = tkd_llm_submit(eval_endpoint_llm(x->arms[arm].eng), &req, cookie_of(si, sl->gen), e);
            if (!rc)
                return 0;
            if (rc == TKD_ENOMEM)
                return tkd_err_wrap(e, "eval: submitting a request");
            tkd_llm_response failed; /* a request the client refuses ends this sample only */
            memset(&failed, 0, sizeof failed);
            failed.status = TKD_LLM_HTTP_ERROR;
            failed.endpoint = -1;
            failed.error = e->msg;
            failed.content = (char *)"";
            act = tkd_solver_on_llm(sl->sv, &failed, e);
            continue;
        }
        int n = tkd_solver_n_calls(sl->sv); /* TOOLS */
        for (int i = 0; i < n; i++) {
            const char *name, *args;
            int slot;
            tkd_solver_call(sl->sv, i, &name, &args, &slot);
            if (tkd_tools_pool_submit(x->pool, tool_id(si, sl->gen, slot), name, args, e))
                return tkd_err_wrap(e, "eval: submitting a tool call");
        }
        return 0;
    }
}

int eval_tir_start(eval_ctx *x, tkd_dist *d, int si, tkd_err *e) {
    eval_slot *sl = &x->slots[si];
    int arm, sample;
    size_t prob;
    eval_item_parts(x, sl->item, &arm, &prob, &sample);
    const tkd_problem *p = &x->probs.items[prob];
    int rc = tkd_solver_new(&x->arms[arm].scfg, p->id, p->pid, p->problem, p->answer, sample,
                            tkd_solver_seed(x->run_seed, p->pid, sample), &sl->sv, e);
    if (rc)
        return rc;
    return drive(x, d, si, tkd_solver_start(sl->sv, e), e);
}

static eval_slot *slot_of(eval_ctx *x, int si, uint32_t gen, uint32_t mask) {
    if (si < 0 || si >= x->n_slots_cap)
        return NULL;
    eval_slot *sl = &x->slots[si];
    return sl->used && sl->sv && (sl->gen & mask) == gen ? sl : NULL;
}

int eval_tir_drain(eval_ctx *x, tkd_dist *d, int arm, int *worked, tkd_err *e) {
    tkd_llm *llm = eval_endpoint_llm(x->arms[arm].eng);
    tkd_llm_response *resp;
    void *ck;
    while (tkd_llm_next_done(llm, &resp, &ck)) {
        uint64_t c = (uint64_t)(uintptr_t)ck;
        int si = (int)(uint32_t)c, rc = 0;
        eval_slot *sl = slot_of(x, si, (uint32_t)(c >> 32), 0xffffffffu);
        if (sl)
            rc = drive(x, d, si, tkd_solver_on_llm(sl->sv, resp, e), e);
        tkd_llm_response_free(resp);
        if (rc)
            return rc;
        (*worked)++;
    }
    return 0;
}

int eval_tir_tools(eval_ctx *x, tkd_dist *d, int *worked, tkd_err *e) {
    if (!tkd_tools_pool_pending(x->pool))
        return 0;
    tkd_tool_done done[64];
    int nd = 0, rc = tkd_tools_pool_poll(x->pool, 0, done, 64, &nd, e);
    if (rc)
        return tkd_err_wrap(e, "eval: the tool pool failed");
    for (int i = 0; i < nd; i++) {
        int si = (int)((done[i].id >> 8) & 0xffffffffu), slot = (int)(done[i].id & 0xffu);
        eval_slot *sl = slot_of(x, si, (uint32_t)(done[i].id >> 40), 0xffffffu);
        if (sl && !rc)
            rc = drive(x, d, si, tkd_solver_on_tool(sl->sv, slot, done[i].answer, done[i].seconds, done[i].status, e),
                       e);
        free(done[i].answer);
        (*worked)++;
    }
    return rc;
}
