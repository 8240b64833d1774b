/*
 * Slurm resources per phase: the job file's "slurm" section maps a phase to
 * the sbatch options its job gets, so one submission can put solve on a CPU
 * partition with many tasks and train on a GPU partition:
 *   "slurm": {"solve": {"partition": "cpu", "nodes": 2, "ntasks": 64, "time": "12:00:00"},
 *             "train": {"partition": "gpu", "ntasks": 4, "gpus_per_task": 1, "extra": "--qos=high"}}
 * `tkd config sbatch JOB.json PHASE` prints them for slurm/submit.sh; a
 * phase not named gets no option (the cluster's defaults and SBATCH_OPTS).
 * Training runs one rank per GPU: for train, GPUs asked per node
 * (gpus_per_node, or gres "gpu:N" / "gpu:TYPE:N") without a task count per
 * node or per GPU get --ntasks-per-node=N, and settings that would give a
 * rank several GPUs or put two ranks on one are refused.
 */
#include "tkd/phases.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const slurm_phases[] = {"data", "solve", "backtranslate", "export", "train", "eval", "report", NULL};

/* key, sbatch option, 1: integer (else string) */
static const struct {
    const char *key, *opt;
    int integer;
} slurm_keys[] = {{"partition", "--partition", 0}, {"nodes", "--nodes", 1},         {"ntasks", "--ntasks", 1},
                  {"ntasks_per_node", "--ntasks-per-node", 1}, {"cpus_per_task", "--cpus-per-task", 1},
                  {"gpus_per_task", "--gpus-per-task", 1},     {"gpus_per_node", "--gpus-per-node", 1},
                  {"mem", "--mem", 0},                          {"time", "--time", 0},
                  {"account", "--account", 0},                  {"qos", "--qos", 0},
                  {"gres", "--gres", 0},                        {"extra", NULL, 0}};
#define N_SLURM_KEYS (sizeof slurm_keys / sizeof slurm_keys[0])

/* Options must not smuggle a shell word through submit.sh. */
static int safe(const char *s) {
    for (; *s; s++)
        if (strchr("`$;&|<>\\\"'\n", *s))
            return 0;
    return 1;
}

/* GPUs per node a gres string asks for ("gpu:4", "gpu:h100:4"; 0: none named, -1: malformed) */
static long gres_gpus(const char *g) {
    for (const char *s = g; s && *s;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len > 4 && !strncmp(s, "gpu:", 4)) {
            const char *n = s + len; /* the count after the last ':' */
            while (n > s && n[-1] != ':')
                n--;
            char *stop;
            long v = strtol(n, &stop, 10);
            return stop == s + len && v > 0 ? v : -1;
        }
        s = end ? end + 1 : NULL;
    }
    return 0;
}

static long int_key(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

/* train: one rank per GPU. Adds --ntasks-per-node when only GPUs per node are named. */
static int train_gpu_rules(const tkd_job *job, json_t *t, int emit, tkd_buf *out, tkd_err *e) {
    json_t *gres = json_object_get(t, "gres");
    long per_node = int_key(t, "gpus_per_node"), per_task = int_key(t, "gpus_per_task"),
         tpn = int_key(t, "ntasks_per_node"), g = gres_gpus(json_string_value(gres));
    if (g < 0)
        return tkd_err_set(e, TKD_EINVAL, "%s: slurm.train.gres '%s': want gpu:N or gpu:TYPE:N", job->path,
                           json_string_value(gres));
    if (g && per_node && g != per_node)
        return tkd_err_set(e, TKD_EINVAL, "%s: slurm.train: gres asks for %ld GPUs per node, gpus_per_node for %ld",
                           job->path, g, per_node);
    per_node = per_node ? per_node : g;
    if (per_task > 1)
        return tkd_err_set(e, TKD_EINVAL,
                           "%s: slurm.train.gpus_per_task %ld: tkd train runs one rank per GPU (a rank uses one); "
                           "set gpus_per_task 1 and ntasks to the number of GPUs",
                           job->path, per_task);
    if (per_node && tpn && tpn != per_node)
        return tkd_err_set(e, TKD_EINVAL,
                           "%s: slurm.train: ntasks_per_node %ld with %ld GPUs per node: tkd train runs one rank per "
                           "GPU, so they must be equal",
                           job->path, tpn, per_node);
    if (emit && per_node && !tpn && !per_task &&
        ((out->len && tkd_buf_putc(out, ' ')) || tkd_buf_printf(out, "--ntasks-per-node=%ld", per_node)))
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    return 0;
}

int tkd_slurm_options(const tkd_job *job, const char *phase, tkd_buf *out, tkd_err *e) {
    json_t *all = tkd_job_get(job, "slurm");
    if (all && !json_is_object(all))
        return tkd_err_set(e, TKD_EINVAL, "%s: slurm must be an object of PHASE: {partition, ntasks, ...}", job->path);
    const char *p;
    json_t *v;
    json_object_foreach(all, p, v) {
        int known = 0;
        for (int i = 0; slurm_phases[i]; i++)
            known |= !strcmp(p, slurm_phases[i]);
        if (!known)
            return tkd_err_set(e, TKD_EINVAL,
                               "%s: slurm.%s: not a phase (data, solve, backtranslate, export, train, eval, report)",
                               job->path, p);
        if (!json_is_object(v))
            return tkd_err_set(e, TKD_EINVAL, "%s: slurm.%s must be an object", job->path, p);
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            size_t i = 0;
            while (i < N_SLURM_KEYS && strcmp(k, slurm_keys[i].key))
                i++;
            if (i == N_SLURM_KEYS)
                return tkd_err_set(e, TKD_EINVAL,
                                   "%s: slurm.%s.%s: unknown key; use partition, nodes, ntasks, ntasks_per_node, "
                                   "cpus_per_task, gpus_per_task, gpus_per_node, gres, mem, time, account, qos, "
                                   "extra",
                                   job->path, p, k);
            if (slurm_keys[i].integer ? !(json_is_integer(x) && json_integer_value(x) > 0)
                                      : !(json_is_string(x) && safe(json_string_value(x))))
                return tkd_err_set(e, TKD_EINVAL, "%s: slurm.%s.%s: want %s", job->path, p, k,
                                   slurm_keys[i].integer ? "a positive integer"
                                                         : "a string without quotes, $, `, ;, &, |, <, > or \\");
            if (strcmp(p, phase))
                continue;
            int rc = out->len ? tkd_buf_putc(out, ' ') : 0;
            if (!rc && slurm_keys[i].opt)
                rc = slurm_keys[i].integer
                         ? tkd_buf_printf(out, "%s=%lld", slurm_keys[i].opt, (long long)json_integer_value(x))
                         : tkd_buf_printf(out, "%s=%s", slurm_keys[i].opt, json_string_value(x));
            else if (!rc)
                rc = tkd_buf_puts(out, json_string_value(x));
            if (rc)
                return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
        int rc = !strcmp(p, "train") ? train_gpu_rules(job, v, !strcmp(p, phase), out, e) : 0;
        if (rc)
            return rc;
    }
    return 0;
}
