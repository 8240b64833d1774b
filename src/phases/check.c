/*
 * What each phase checks when it starts, callable before it starts:
 * `tkd config check JOB.json --phase data,solve` runs these, and
 * slurm/submit.sh calls that before it queues anything, so a missing prompt
 * file or a typo in a tool name fails at submission, not hours later in a
 * job that waited in the queue. The checks call the same functions the
 * phases call (source listing, prompt files, tool lookup, the teacher's
 * settings), so the two never disagree.
 */
#include "eval_int.h"
#include "solve_int.h"

#include "tkd/model.h"
#include "tkd/phases.h"
#include "tkd/tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef int (*check_fn)(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e);

static int ran_before(const char *phase, const char *const *earlier, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(earlier[i], phase))
            return 1;
    return 0;
}

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* import: every source exists and holds JSONL files */
static int check_data(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e) {
    (void)earlier;
    (void)n_earlier;
    json_t *sources = tkd_job_get(job, "data.sources");
    if (!json_array_size(sources))
        return tkd_err_set(e, TKD_EINVAL, "%s: data: no problems to import: list files in data.sources", job->path);
    size_t i;
    json_t *s;
    json_array_foreach(sources, i, s) {
        tkd_data_files fl = {0};
        const char *path = json_string_value(json_object_get(s, "path"));
        int rc = tkd_data_list_files(path, &fl, e);
        size_t n = fl.n;
        tkd_data_files_free(&fl);
        if (rc)
            return tkd_err_wrap(e, "%s: data.sources[%zu]", job->path, i);
        if (!n)
            return tkd_err_set(e, TKD_EINVAL, "%s: data.sources[%zu]: '%s' holds no .jsonl file", job->path, i, path);
    }
    return 0;
}

/* testwork reads OUT/problems.h5 when it is there, else makes its items */
static int check_testwork(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e) {
    (void)job;
    (void)earlier;
    (void)n_earlier;
    (void)e;
    return 0;
}

/* solve: the problems, the teacher's endpoints, prompt files, tool names */
static int check_solve(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e) {
    if (!ran_before("data", earlier, n_earlier)) {
        char *problems = tkd_phase_problems_path(job, e);
        if (!problems)
            return TKD_ENOMEM;
        int there = exists(problems);
        if (!there)
            tkd_err_set(e, TKD_EINVAL, "%s: solve: %s does not exist: run the data phase first (tkd data import %s)",
                        job->path, problems, job->path);
        free(problems);
        if (!there)
            return TKD_EINVAL;
    }
    solve_ctx *x = tkd_calloc(1, sizeof *x, e);
    if (!x)
        return TKD_ENOMEM;
    x->job = job;
    int rc = tkd_llm_config_from_job(job, &x->lcfg, e);
    if (!rc && (!x->lcfg.model || !*x->lcfg.model || x->lcfg.n_base_urls < 1))
        rc = tkd_err_set(e, TKD_EINVAL, "%s: the solve phase needs teacher.model and teacher.base_urls", job->path);
    if (!rc)
        rc = solve_cfg_from_job(x, e);
    json_decref(x->tools);
    for (int i = 0; i < SOLVE_N_PROMPTS; i++)
        free(x->prompts[i]);
    free(x);
    return rc;
}

/* backtranslate: the roles' endpoints, prompt files, statuses, the solve store */
static int check_backtranslate(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e) {
    return tkd_backtranslate_check(job, ran_before("solve", earlier, n_earlier), e);
}

/* train: the model folder, the data (unless export writes it first), the adapter targets */
static int check_train(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e) {
    const char *model = tkd_job_str(job, "train.model_dir");
    if (!*model)
        return tkd_err_set(e, TKD_EINVAL, "%s: train.model_dir is required for tkd train", job->path);
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/config.json", model);
    if (!exists(cfg))
        return tkd_err_set(e, TKD_EINVAL, "%s: train.model_dir: '%s' has no config.json (not a model folder)",
                           job->path, model);
    char *data = tkd_phase_train_data(job, e);
    if (!data)
        return TKD_ENOMEM;
    int missing = !ran_before("export", earlier, n_earlier) && !exists(data);
    if (missing)
        tkd_err_set(e, TKD_EINVAL, "%s: train.data: '%s' does not exist%s", job->path, data,
                    *tkd_job_str(job, "train.data") ? "" : " (export's nl set: run tkd export first)");
    free(data);
    if (missing)
        return TKD_EINVAL;
    unsigned targets;
    if (tkd_lora_parse_targets(tkd_job_str(job, "train.lora.targets"), &targets, e))
        return tkd_err_wrap(e, "%s: train.lora.targets", job->path);
    return 0;
}

/* eval: the arms (an endpoint's model and URLs, a builtin's model folder
 * and adapter unless train runs first), the benchmark files and prompts */
static int check_eval(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e) {
    eval_ctx *x = tkd_calloc(1, sizeof *x, e);
    if (!x)
        return TKD_ENOMEM;
    x->job = job;
    tkd_problem_set_init(&x->probs);
    int rc = eval_setup(x, e);
    json_t *arms = tkd_job_get(job, "eval.arms"), *a;
    size_t i;
    json_array_foreach(arms, i, a) {
        if (rc)
            break;
        const char *name = json_string_value(json_object_get(a, "name"));
        if (!strcmp(json_string_value(json_object_get(a, "engine")), "endpoint")) {
            if (!*json_string_value(json_object_get(a, "model")) || !json_array_size(json_object_get(a, "base_urls")))
                rc = tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu] ('%s', engine endpoint) needs model and base_urls",
                                 job->path, i, name);
            continue;
        }
        const char *dir = json_string_value(json_object_get(a, "model_dir")),
                   *ad = json_string_value(json_object_get(a, "adapter"));
        char cfg[4200];
        snprintf(cfg, sizeof cfg, "%s/config.json", dir);
        if (!exists(cfg))
            rc =
                tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu].model_dir: '%s' has no config.json (not a model folder)",
                            job->path, i, dir);
        else if (*ad && !ran_before("train", earlier, n_earlier) && !exists(ad))
            rc = tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu].adapter: '%s' does not exist", job->path, i, ad);
    }
    eval_ctx_free(x);
    free(x);
    return rc;
}

/* export: the student prompt files; the stores come from the phases before
 * it, or must be there already */
static int check_export(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e) {
    tkd_student_prompt p;
    int rc = tkd_student_prompt_load(job, &p, e);
    tkd_student_prompt_free(&p);
    if (rc)
        return rc;
    static const char *const need[][2] = {{"solve", "solve.h5"}, {"data", "problems.h5"}};
    for (int i = 0; i < 2; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", tkd_job_str(job, "output_dir"), need[i][1]);
        if (!ran_before(need[i][0], earlier, n_earlier) && !exists(path))
            return tkd_err_set(e, TKD_EINVAL, "%s: export reads %s, which does not exist: run %s first", job->path,
                               path, need[i][0]);
    }
    return 0;
}

/* report: reads whatever the run made; nothing can be missing */
static int check_report(const tkd_job *job, const char *const *earlier, int n_earlier, tkd_err *e) {
    (void)job;
    (void)earlier;
    (void)n_earlier;
    (void)e;
    return 0;
}

/* The phases a chain may name, in pipeline order; "data" is the import. */
static const struct {
    const char *name;
    check_fn check;
} phases[] = {{"data", check_data},
              {"testwork", check_testwork},
              {"solve", check_solve},
              {"backtranslate", check_backtranslate},
              {"export", check_export},
              {"train", check_train},
              {"eval", check_eval},
              {"report", check_report}};

#define N_PHASES (int)(sizeof phases / sizeof phases[0])

int tkd_phase_check(const tkd_job *job, const char *const *names, int n, tkd_err *e) {
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < N_PHASES && strcmp(phases[k].name, names[i]))
            k++;
        if (k == N_PHASES) {
            char list[256] = "";
            for (int j = 0; j < N_PHASES; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", phases[j].name);
            return tkd_err_set(e, TKD_EUSAGE, "unknown phase '%s'; the phases are %s", names[i], list);
        }
        tkd_buf res; /* the phase's slurm section is checked with it */
        tkd_buf_init(&res);
        int rc = tkd_slurm_options(job, names[i], &res, e);
        tkd_buf_free(&res);
        if (!rc)
            rc = phases[k].check(job, names, i, e);
        if (rc)
            return rc;
    }
    return 0;
}
