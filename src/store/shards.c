/*
 * store: the folder of shards. Listing *.h5 files, shard names
 * (r00017.a2.h5: rank 17, attempt 2), the next free attempt of a rank, the
 * done-set a resumed phase skips, and the manifest written into each shard.
 */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void store_free_list(char **names, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int store_list_h5(const char *dir, int missing_ok, char ***names, size_t *n, tkd_err *e) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT && missing_ok)
            return 0;
        return tkd_err_set(e, errno == ENOENT ? TKD_ENOTFOUND : (errno == ENOTDIR ? TKD_EINVAL : TKD_EIO),
                           "cannot list folder '%s': %s", dir, strerror(errno));
    }
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 3, ".h5") || de->d_name[0] == '.')
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = tkd_realloc(v, cap * sizeof *v, e);
            if (!nv) {
                rc = TKD_ENOMEM;
                break;
            }
            v = nv;
        }
        size_t dl = strlen(dir);
        char *p = tkd_malloc(dl + len + 2, e);
        if (!p) {
            rc = TKD_ENOMEM;
            break;
        }
        snprintf(p, dl + len + 2, "%s/%s", dir, de->d_name);
        v[cnt++] = p;
    }
    closedir(d);
    if (rc) {
        store_free_list(v, cnt);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_str);
    *names = v;
    *n = cnt;
    return 0;
}

char *tkd_store_shard_path(const char *dir, int rank, int attempt, tkd_err *e) {
    size_t n = strlen(dir) + 48;
    char *p = tkd_malloc(n, e);
    if (p)
        snprintf(p, n, "%s/r%05d.a%d.h5", dir, rank, attempt);
    return p;
}

int tkd_store_close_shard(tkd_store *s, tkd_err *e) {
    if (!s)
        return 0;
    char *empty = tkd_store_count(s) ? NULL : strdup(tkd_store_path(s));
    int rc = tkd_store_close(s, e);
    if (!rc && empty && remove(empty) != 0 && errno != ENOENT)
        tkd_log_warn("store: cannot remove the empty shard %s: %s", empty, strerror(errno));
    free(empty);
    return rc;
}

int tkd_store_next_attempt(const char *dir, int rank, int *attempt, tkd_err *e) {
    *attempt = 0;
    char **names;
    size_t n;
    int rc = store_list_h5(dir, 1, &names, &n, e);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(names[i], '/');
        base = base ? base + 1 : names[i];
        int r, a, used = 0;
        if (sscanf(base, "r%d.a%d.h5%n", &r, &a, &used) == 2 && used == (int)strlen(base) && r == rank && a >= 0 &&
            a + 1 > *attempt)
            *attempt = a + 1;
    }
    store_free_list(names, n);
    return 0;
}

typedef struct {
    tkd_store_row_fn fn;
    tkd_store_dir_text_fn tfn; /* or this one, with the text */
    void *ctx;
    const char *shard;
} dir_scan;

static int dir_row(void *ctx, const tkd_record *rec, const char *text, size_t len) {
    dir_scan *d = ctx;
    return d->tfn ? d->tfn(d->ctx, d->shard, rec, text, len) : d->fn(d->ctx, d->shard, rec);
}

static int scan_dir(const char *dir, tkd_store_row_fn fn, tkd_store_dir_text_fn tfn, void *ctx, tkd_err *e) {
    char **names;
    size_t n;
    int rc = store_list_h5(dir, 1, &names, &n, e);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        tkd_store *s;
        tkd_err oe = {0};
        if (store_open_salvage(names[i], &s, &oe)) {
            /* a shard that died before its first flush holds nothing durable */
            tkd_log_warn("store: skipping an unreadable shard (its rows, if any, are redone): %s", oe.msg);
            continue;
        }
        dir_scan d = {fn, tfn, ctx, names[i]};
        tkd_store_damage dmg;
        rc = tkd_store_scan(s, dir_row, &d, &dmg, e);
        if (!rc && dmg.damaged) {
            char what[512];
            tkd_store_damage_describe(names[i], &dmg, what, sizeof what);
            tkd_log_warn("store: damaged shard %s; only its %zu verified rows count, the damaged ones are redone", what,
                         dmg.verified);
        }
        tkd_store_close(s, NULL);
    }
    store_free_list(names, n);
    return rc;
}

int tkd_store_scan_dir(const char *dir, tkd_store_row_fn fn, void *ctx, tkd_err *e) {
    return scan_dir(dir, fn, NULL, ctx, e);
}

int tkd_store_scan_dir_text(const char *dir, tkd_store_dir_text_fn fn, void *ctx, tkd_err *e) {
    return scan_dir(dir, NULL, fn, ctx, e);
}

static int done_set_row(void *ctx, const char *shard, const tkd_record *rec) {
    (void)shard;
    if (!tkd_status_is_final(rec->status))
        return 0;
    return tkd_idset_add(ctx, rec->pid) < 0 ? TKD_ENOMEM : 0;
}

int tkd_store_done_set(const char *dir, tkd_idset *set, tkd_err *e) {
    int rc = tkd_store_scan_dir(dir, done_set_row, set, e);
    if (rc == TKD_ENOMEM && e && !e->msg[0])
        tkd_err_set(e, TKD_ENOMEM, "out of memory building the done-set of '%s'", dir);
    return rc;
}

char *tkd_store_manifest(const tkd_job *job, const char *const *inputs, int n_inputs, tkd_err *e) {
    char created[32];
    tkd_wall_iso(created);
    json_t *m = json_object(), *in = json_array();
    if (!m || !in)
        goto nomem;
    json_object_set_new(m, "tkd_version", json_string(TKD_VERSION));
    json_object_set_new(m, "git_commit", json_string(TKD_GIT_COMMIT));
    json_object_set_new(m, "created", json_string(created));
    json_object_set_new(m, "schema_version", json_integer(TKD_STORE_SCHEMA_VERSION));
    if (job) {
        json_object_set_new(m, "job_path", json_string(job->path ? job->path : ""));
        json_object_set_new(m, "job_sha256", json_string(job->sha256));
        json_t *seed = job->root ? json_object_get(job->root, "seed") : NULL;
        json_object_set_new(m, "seed", seed ? json_deep_copy(seed) : json_null());
        json_t *name = job->root ? json_object_get(job->root, "name") : NULL;
        if (name)
            json_object_set_new(m, "name", json_deep_copy(name));
        json_t *sweep = job->root ? json_object_get(job->root, "sweep") : NULL; /* a sweep's arm and its keys */
        if (json_object_size(sweep))
            json_object_set_new(m, "sweep", json_deep_copy(sweep));
    }
    for (int i = 0; i < n_inputs; i++) {
        char hex[65];
        if (tkd_sha256_file(inputs[i], hex, e)) {
            json_decref(in);
            json_decref(m);
            tkd_err_wrap(e, "manifest: cannot hash input '%s'", inputs[i]);
            return NULL;
        }
        json_t *o = json_pack("{s:s, s:s}", "path", inputs[i], "sha256", hex);
        if (!o || json_array_append_new(in, o))
            goto nomem;
    }
    json_object_set_new(m, "inputs", in);
    in = NULL;
    char *s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
    if (!s)
        tkd_err_set(e, TKD_ENOMEM, "out of memory writing the manifest");
    return s;
nomem:
    json_decref(in);
    json_decref(m);
    tkd_err_set(e, TKD_ENOMEM, "out of memory writing the manifest");
    return NULL;
}
