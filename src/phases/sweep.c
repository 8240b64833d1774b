/*
 * Ablation sweeps (tkd sweep BASE.json SWEEP.json): one job file per arm,
 * and phases shared between arms wherever their effective inputs agree.
 *
 * SWEEP.json names the keys that vary, as a grid (every combination) or as
 * a list of arms:
 *   {"name": "rank", "grid": {"train.lora.r": [8, 16, 64]}}
 *   {"name": "ab", "arms": [{"name": "small", "set": {"train.lora.r": 8}}, ...]}
 * The plan goes to OUT (default: the base's output_dir + "/sweep-NAME"):
 *   OUT/arms/ARM.json     the arm's job (base, its keys, output_dir OUT/arms/ARM;
 *                         paths to the base run's own outputs, such as an eval
 *                         arm's adapter OUT_BASE/train/adapter, moved to the arm's)
 *   OUT/arms/ARM/         the arm's output folder, whose phase outputs are
 *                         links into OUT/stages/PHASE-HASH/
 *   OUT/sweep.json        the arms, their keys and the stage of each phase
 * A phase's stage is addressed by the hash of the job keys it reads (as the
 * completion marker counts them) chained with the stage of the phase before
 * it, so arms that differ only in train.* share one import, solve,
 * back-translation and export: the first arm to run a shared phase completes
 * it and every other arm finds its marker current. Re-planning the same sweep
 * gives the same stages, so a re-run resumes.
 */
#include "tkd/phases.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SWEEP_MAX_ARMS 4096

/* What each shared phase writes under OUT: folders end in '/'. */
static const struct {
    const char *phase;
    const char *outputs[5];
} shared[] = {
    {"import", {"problems.h5", "import.complete.json"}},
    {"solve", {"shards/solve/", "solve.h5", "solve.complete.json"}},
    {"backtranslate", {"shards/backtranslate/", "backtranslate.h5", "backtranslate.complete.json"}},
    {"export", {"sft/", "export.complete.json"}},
    {"train", {"train/", "train.complete.json"}},
    {"eval", {"shards/eval/", "eval.h5", "eval/", "eval.complete.json"}},
};
#define N_SHARED (sizeof shared / sizeof shared[0])

/* Set root[a][b][c] = v for the dotted path "a.b.c" (objects made on the way). */
static int set_path(json_t *root, const char *path, json_t *v) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *o = root;
    char *seg = buf, *dot;
    while ((dot = strchr(seg, '.'))) {
        *dot = '\0';
        json_t *next = json_object_get(o, seg);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(o, seg, next);
        }
        o = next;
        seg = dot + 1;
    }
    return json_object_set(o, seg, v);
}

/* The keys whose paths name what the run itself writes (its adapter, its
 * training and export folders, the stores export reads): a path of these
 * under the base's output_dir names the base run's output, which each arm
 * has in its own folder, so it is moved there. Without this, every arm
 * would evaluate the base's adapter (or one that does not exist). */
static const char *const own_paths[] = {"train.out_dir", "train.data", "export.out_dir", "export.solve_store",
                                        "export.backtranslate_store"};

/* s with the prefix from (a folder) replaced by to, or NULL when s is not from or under it */
static json_t *moved_path(json_t *s, const char *from, const char *to) {
    const char *v = json_string_value(s);
    size_t n = strlen(from);
    while (n > 1 && from[n - 1] == '/')
        n--;
    if (!v || !n || strncmp(v, from, n) || (v[n] && v[n] != '/'))
        return NULL;
    tkd_buf b;
    tkd_buf_init(&b);
    if (tkd_buf_printf(&b, "%s%s", to, v + n)) {
        tkd_buf_free(&b);
        return NULL;
    }
    json_t *r = json_string(b.data);
    tkd_buf_free(&b);
    return r;
}

/* Move the arm's own-output paths (own_paths, eval.arms[].adapter) from the
 * base's output_dir to the arm's. */
static void move_own_paths(json_t *root, const char *base_out, const char *arm_dir) {
    for (size_t i = 0; i < sizeof own_paths / sizeof own_paths[0]; i++) {
        char sect[32];
        const char *dot = strchr(own_paths[i], '.');
        snprintf(sect, sizeof sect, "%.*s", (int)(dot - own_paths[i]), own_paths[i]);
        json_t *o = json_object_get(root, sect);
        json_t *m = moved_path(json_object_get(o, dot + 1), base_out, arm_dir);
        if (m)
            json_object_set_new(o, dot + 1, m);
    }
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(root, "eval"), "arms"), i, a) {
        json_t *m = moved_path(json_object_get(a, "adapter"), base_out, arm_dir);
        if (m)
            json_object_set_new(a, "adapter", m);
    }
}

/* A file or folder name from an arm's keys: "r=8,lr=0.0001" -> "r8_lr0.0001". */
static void arm_name(json_t *sets, char *out, size_t cap) {
    const char *k;
    json_t *v;
    size_t n = 0;
    out[0] = '\0';
    json_object_foreach(sets, k, v) {
        const char *leaf = strrchr(k, '.') ? strrchr(k, '.') + 1 : k;
        char *val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s%s", n ? "_" : "", leaf, val ? val : "");
        free(val);
    }
    for (char *c = out; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *c))
            *c = '-';
}

/* The arms of SWEEP.json as an array of {"name", "set": {KEY: VALUE}}. */
static int read_arms(const char *path, json_t *sw, json_t **arms, tkd_err *e) {
    json_t *grid = json_object_get(sw, "grid"), *list = json_object_get(sw, "arms");
    *arms = json_array();
    if (!!grid == !!list || (grid && !json_is_object(grid)) || (list && !json_is_array(list)))
        return tkd_err_set(e, TKD_EINVAL, "%s: give either \"grid\": {KEY: [VALUES]} or \"arms\": [{\"name\", \"set\": "
                                          "{KEY: VALUE}}]", path);
    if (list) {
        size_t i;
        json_t *a;
        json_array_foreach(list, i, a) {
            json_t *set = json_object_get(a, "set");
            const char *name = json_string_value(json_object_get(a, "name"));
            if (!json_is_object(set))
                return tkd_err_set(e, TKD_EINVAL, "%s: arms[%zu]: \"set\" must be an object of KEY: VALUE", path, i);
            char auto_name[200];
            arm_name(set, auto_name, sizeof auto_name);
            json_array_append_new(*arms, json_pack("{s:s, s:O}", "name", name ? name : auto_name, "set", set));
        }
        return 0;
    }
    size_t total = 1;
    const char *k;
    json_t *v;
    json_object_foreach(grid, k, v) {
        if (!json_is_array(v) || !json_array_size(v))
            return tkd_err_set(e, TKD_EINVAL, "%s: grid.%s must be a non-empty array of values", path, k);
        total *= json_array_size(v);
        if (total > SWEEP_MAX_ARMS)
            return tkd_err_set(e, TKD_ELIMIT, "%s: the grid has more than %d arms", path, SWEEP_MAX_ARMS);
    }
    for (size_t i = 0; i < total; i++) {
        json_t *set = json_object();
        size_t rest = i;
        json_object_foreach(grid, k, v) {
            json_object_set(set, k, json_array_get(v, rest % json_array_size(v)));
            rest /= json_array_size(v);
        }
        char name[200];
        arm_name(set, name, sizeof name);
        json_array_append_new(*arms, json_pack("{s:s, s:o}", "name", name, "set", set));
    }
    return 0;
}

/* Link OUT/ARM/rel to OUT/stages/STAGE/rel (relative link; folders made). */
static int link_output(const char *arm_dir, const char *stage_dir, const char *rel, tkd_err *e) {
    char src[4096], dst[4096], target[4200];
    size_t n = strlen(rel);
    int is_dir = rel[n - 1] == '/';
    snprintf(src, sizeof src, "%s/%.*s", arm_dir, (int)(n - is_dir), rel);
    snprintf(dst, sizeof dst, "%s/%.*s", stage_dir, (int)(n - is_dir), rel);
    /* the link sits depth(rel) + 2 folders below OUT (arms/ARM/...) */
    int depth = 2;
    for (const char *c = rel; *c && c < rel + n - is_dir; c++)
        depth += *c == '/';
    char up[64] = "";
    for (int i = 0; i < depth && i < 20; i++)
        strcat(up, "../");
    const char *stages = strstr(stage_dir, "/stages/");
    snprintf(target, sizeof target, "%s%s/%.*s", up, stages ? stages + 1 : stage_dir, (int)(n - is_dir), rel);
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", src);
    *strrchr(parent, '/') = '\0';
    int rc = tkd_mkdirs(parent, e);
    if (!rc && is_dir)
        rc = tkd_mkdirs(dst, e);
    if (!rc) {
        snprintf(parent, sizeof parent, "%s", dst);
        *strrchr(parent, '/') = '\0';
        rc = tkd_mkdirs(parent, e);
    }
    if (rc)
        return rc;
    struct stat st;
    if (lstat(src, &st) == 0) {
        char cur[4200];
        ssize_t l = readlink(src, cur, sizeof cur - 1);
        if (l >= 0 && (cur[l] = '\0', !strcmp(cur, target)))
            return 0;
        return tkd_err_set(e, TKD_EINVAL,
                           "sweep: %s exists and is not the link to %s: the arm was planned differently before; "
                           "remove the sweep folder's arms/ to plan again",
                           src, target);
    }
    if (symlink(target, src) != 0)
        return tkd_err_set(e, TKD_EIO, "sweep: cannot link %s -> %s: %s", src, target, strerror(errno));
    return 0;
}

int tkd_sweep_plan(const char *base_path, const char *sweep_path, const char *out_opt, char **plan_path, tkd_err *e) {
    json_error_t je;
    json_t *sw = json_load_file(sweep_path, 0, &je), *arms = NULL, *plan = json_array();
    tkd_job base = {0};
    char *out = NULL;
    int rc = 0;
    if (!json_is_object(sw)) {
        rc = tkd_err_set(e, TKD_EINVAL, "%s: %s (line %d): a sweep is a JSON object with \"grid\" or \"arms\"",
                         sweep_path, sw ? "not an object" : je.text, sw ? 0 : je.line);
        goto done;
    }
    const char *sname = json_string_value(json_object_get(sw, "name"));
    if ((rc = read_arms(sweep_path, sw, &arms, e)) || (rc = tkd_job_load(base_path, NULL, 0, &base, e)))
        goto done;
    {
        tkd_buf b;
        tkd_buf_init(&b);
        if (out_opt && *out_opt)
            tkd_buf_puts(&b, out_opt);
        else
            tkd_buf_printf(&b, "%s/sweep-%s", tkd_job_str(&base, "output_dir"), sname ? sname : "sweep");
        out = tkd_buf_steal(&b);
    }
    size_t i;
    json_t *arm;
    json_array_foreach(arms, i, arm) {
        const char *name = json_string_value(json_object_get(arm, "name"));
        json_t *set = json_object_get(arm, "set");
        tkd_buf b;
        tkd_buf_init(&b);
        /* the arm's job: the base file with its keys and its own output folder */
        json_t *root = json_load_file(base_path, 0, NULL);
        const char *k;
        json_t *v;
        tkd_buf_printf(&b, "%s/arms/%s", out, name);
        char *arm_dir = tkd_buf_steal(&b);
        move_own_paths(root, tkd_job_str(&base, "output_dir"), arm_dir);
        json_object_foreach(set, k, v) set_path(root, k, v); /* the arm's keys win */
        json_object_set_new(root, "output_dir", json_string(arm_dir));
        /* named in every store's manifest and in eval/results.json */
        json_object_set_new(root, "sweep",
                            json_pack("{s:s, s:s, s:O}", "name", sname ? sname : "sweep", "arm", name, "set", set));
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(root);
        tkd_buf_printf(&b, "%s.json", arm_dir);
        char *job_path = tkd_buf_steal(&b);
        tkd_job job = {0};
        rc = text ? tkd_mkdirs(arm_dir, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        if (!rc)
            rc = tkd_file_write_atomic(job_path, text, strlen(text), e);
        if (!rc && (rc = tkd_job_load(job_path, NULL, 0, &job, e)))
            tkd_err_wrap(e, "sweep: arm '%s' (keys from %s)", name, sweep_path);
        json_t *stages = json_object();
        char prev[65] = "";
        for (size_t p = 0; !rc && p < N_SHARED; p++) {
            char keys[65], chain[200], stage[65];
            if ((rc = tkd_phase_keys_hash(&job, shared[p].phase, keys, e)))
                break;
            snprintf(chain, sizeof chain, "%s|%s|%s", prev, shared[p].phase, keys);
            tkd_sha256_hex(chain, strlen(chain), stage);
            memcpy(prev, stage, sizeof prev);
            tkd_buf_printf(&b, "%s/stages/%s-%.12s", out, shared[p].phase, stage);
            char *sdir = tkd_buf_steal(&b);
            for (int o = 0; !rc && o < 5 && shared[p].outputs[o]; o++)
                rc = link_output(arm_dir, sdir, shared[p].outputs[o], e);
            json_object_set_new(stages, shared[p].phase, json_string(strrchr(sdir, '/') + 1));
            free(sdir);
        }
        if (!rc)
            json_array_append_new(plan, json_pack("{s:s, s:s, s:O, s:o}", "name", name, "job", job_path, "set", set,
                                                  "stages", stages));
        else
            json_decref(stages);
        tkd_job_free(&job);
        free(text);
        free(arm_dir);
        free(job_path);
        tkd_buf_free(&b);
        if (rc)
            goto done;
    }
    {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:O}", "name", sname ? sname : "sweep", "base", base_path, "sweep",
                                sweep_path, "arms", plan);
        char *text = json_dumps(doc, JSON_INDENT(2));
        json_decref(doc);
        tkd_buf b;
        tkd_buf_init(&b);
        tkd_buf_printf(&b, "%s/sweep.json", out);
        *plan_path = tkd_buf_steal(&b);
        rc = text ? tkd_file_write_atomic(*plan_path, text, strlen(text), e) : TKD_ENOMEM;
        free(text);
    }
done:
    json_decref(sw);
    json_decref(arms);
    json_decref(plan);
    tkd_job_free(&base);
    free(out);
    return rc;
}
