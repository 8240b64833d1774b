/*
 * The solve phase's setup pieces (see tkd/solve.h and solve_int.h): the
 * solver settings from the job (prompt files, tool specs, grading), the
 * done-set at problem granularity, and the tool-result cache that lets a
 * replay reproduce tool answers and their times.
 */
#include "solve_int.h"

#include "tkd/tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A prompt from a file named by key, or the built-in one when the key is "". */
static int load_prompt(solve_ctx *x, const char *key, const char **dst, int idx, tkd_err *e) {
    int rc = tkd_prompt_file(x->job, key, &x->prompts[idx], e);
    if (!rc && x->prompts[idx])
        *dst = x->prompts[idx];
    return rc;
}

json_t *tkd_phase_solve_tools(const tkd_job *job, tkd_err *e) {
    json_t *names = tkd_job_get(job, "solve.tools");
    size_t n = json_array_size(names), i;
    const char **list = NULL;
    if (n && !(list = tkd_calloc(n + 1, sizeof *list, e)))
        return NULL;
    json_t *v;
    json_array_foreach(names, i, v) {
        list[i] = json_string_value(v);
        if (!tkd_tools_find(list[i])) {
            tkd_err_set(e, TKD_EINVAL, "%s: solve.tools[%zu]: unknown tool '%s' (see `tkd tool list`)", job->path, i,
                        list[i] ? list[i] : "");
            free(list);
            return NULL;
        }
    }
    char *specs = tkd_tools_specs_json(list, e);
    free(list);
    if (!specs)
        return NULL;
    json_t *arr = json_loads(specs, 0, NULL);
    free(specs);
    if (!json_is_array(arr)) {
        json_decref(arr);
        tkd_err_set(e, TKD_EINTERNAL, "the toolkit's specs are not a JSON array");
        return NULL;
    }
    return arr;
}

int solve_cfg_from_job(solve_ctx *x, tkd_err *e) {
    const tkd_job *job = x->job;
    tkd_solver_cfg *c = &x->scfg;
    tkd_solver_cfg_default(c);
    c->max_turns = (int)tkd_job_int(job, "solve.max_turns");
    c->planning = tkd_job_bool(job, "solve.planning");
    c->single_step = tkd_job_bool(job, "solve.single_step");
    c->wrap_up_before = (int)tkd_job_int(job, "solve.wrap_up_turns_before_limit");
    c->max_tool_errors = (int)tkd_job_int(job, "solve.max_tool_errors");
    static const char *const keys[SOLVE_N_PROMPTS] = {"solve.prompts.system",      "solve.prompts.user",
                                                      "solve.prompts.planning",    "solve.prompts.execute",
                                                      "solve.prompts.next_action", "solve.prompts.wrap_up"};
    const char **dst[SOLVE_N_PROMPTS] = {&c->system_prompt,  &c->user_template,      &c->planning_prompt,
                                         &c->execute_prompt, &c->next_action_prompt, &c->wrap_up_prompt};
    for (int i = 0; i < SOLVE_N_PROMPTS; i++) {
        int rc = load_prompt(x, keys[i], dst[i], i, e);
        if (rc)
            return rc;
    }
    if (!strstr(c->user_template, "{problem}"))
        return tkd_err_set(e, TKD_EINVAL, "%s: solve.prompts.user: the prompt has no {problem} placeholder", job->path);
    /* the tools offered: solve.tools, or all */
    if (!(x->tools = tkd_phase_solve_tools(job, e)))
        return e->code ? e->code : TKD_ENOMEM;
    c->tools = x->tools;
    tkd_grade_opts_from_job(job, &c->grade);
    c->model = x->lcfg.model;
    c->endpoints = x->lcfg.base_urls;
    c->n_endpoints = x->lcfg.n_base_urls;
    return 0;
}

/* ---- the done-set: problems whose every sample is in a shard ---- */

/* A problem is done when every one of its samples has a record with a final
 * status (tkd_status_is_final): an api_error sample is asked again. */
int solve_done_set(solve_ctx *x, uint8_t *done, tkd_err *e) {
    tkd_idset *pairs = tkd_idset_new();
    if (!pairs)
        return tkd_err_set(e, TKD_ENOMEM, "solve: out of memory for the done-set");
    int rc = phase_done_pairs(x->dir, TKD_PHASE_SOLVE, pairs, e);
    if (rc) {
        tkd_idset_free(pairs);
        return tkd_err_wrap(e, "solve: reading the shards of '%s' for the done-set", x->dir);
    }
    uint64_t before = 0;
    for (size_t i = 0; i < x->probs.n; i++) {
        int all = 1;
        for (int k = 0; k < x->n_samples && all; k++)
            all = tkd_idset_has(pairs, phase_pair_key(x->probs.items[i].pid, (uint32_t)k));
        done[i] = (uint8_t)all;
        before += (uint64_t)all;
    }
    tkd_idset_free(pairs);
    x->done_before = before;
    return 0;
}

/* ---- the tool cache: one llm-cache entry per (tool, canonical arguments) ---- */

static void tool_key(const char *name, const char *args, char out[65]) {
    json_t *j = json_loads(args ? args : "", 0, NULL);
    char *canon = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    tkd_sha256 h;
    uint8_t dig[32];
    tkd_sha256_init(&h);
    tkd_sha256_update(&h, "tkd-tool-v1\n", 12);
    tkd_sha256_update(&h, name, strlen(name) + 1);
    const char *a = canon ? canon : args ? args : "";
    tkd_sha256_update(&h, a, strlen(a));
    tkd_sha256_final(&h, dig);
    free(canon);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", dig[i]);
}

int solve_tool_cache_get(solve_ctx *x, const char *name, const char *args, char **answer, double *seconds) {
    if (!x->tool_cache_dir)
        return 0;
    char key[65];
    tool_key(name, args, key);
    tkd_llm_cache_entry ent;
    memset(&ent, 0, sizeof ent);
    tkd_err le = {0};
    if (tkd_llm_cache_get(x->tool_cache_dir, key, &ent, &le))
        return 0;
    *answer = ent.body;
    *seconds = ent.latency_s;
    ent.body = NULL;
    tkd_llm_cache_entry_free(&ent);
    return *answer != NULL;
}

void solve_tool_cache_put(solve_ctx *x, const char *name, const char *args, const char *answer, double seconds) {
    if (!x->tool_cache_dir || x->lcfg.cache != TKD_LLM_CACHE_RW || !answer)
        return;
    char key[65];
    tool_key(name, args, key);
    tkd_llm_cache_entry ent = {200, TKD_LLM_OK, seconds, 1, -1, (char *)answer, strlen(answer)};
    tkd_err le = {0};
    if (tkd_llm_cache_add(x->tool_cache_dir, key, &ent, &le))
        tkd_log_warn("solve: tool cache: %s", le.msg);
}
