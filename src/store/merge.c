/*
 * store: merge the shards of a folder into one file. The output is written
 * under a temporary name beside OUT, fsynced, then renamed over OUT (and the
 * folder fsynced), so OUT is either the old file or the complete new one.
 * Rows are keyed by (pid, sample, phase); a row with a final status
 * (tkd_status_is_final) wins over a transient one (an api_error redone by a
 * later run: the shards are read twice, final rows first), else the first
 * one seen wins, in the order of the shard names (r00000.a0 < r00000.a1 <
 * r00001.a0 ...) and of the rows within a shard. Only verified rows are read (tkd_store_scan); a
 * shard cut short fails the merge unless skip_damaged. Before anything is
 * written, OUT is checked: never a folder, and (unless force) never one of
 * the inputs, a file that is no store, or a store of another phase or run.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rows per flush of the merged file (not SWMR: a flush only writes). */
#define MERGE_FLUSH_ROWS 8192

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int fsync_path(const char *path, int dir, tkd_err *e) {
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0)
        return tkd_err_set(e, TKD_EIO, "cannot open '%s' to sync it: %s", path, strerror(errno));
    int r = fsync(fd);
    close(fd);
    if (r != 0 && !dir)
        return tkd_err_set(e, TKD_EIO, "cannot sync '%s': %s", path, strerror(errno));
    return 0;
}

/* ---- copying verified rows ---- */

typedef struct {
    tkd_store *out;
    store_keyset *seen;
    tkd_store_merge_stats *st;
    tkd_err *e;
    int pass; /* 0: final rows, 1: the transient ones */
} merge_sink;

static int merge_row(void *ctx, const tkd_record *rec, const char *text, size_t len) {
    merge_sink *m = ctx;
    if (tkd_status_is_final(rec->status) == m->pass)
        return 0;
    m->st->rows_in++;
    int added = store_keyset_add(m->seen, rec->pid, ((uint64_t)rec->sample << 8) | rec->phase);
    if (added < 0)
        return tkd_err_set(m->e, TKD_ENOMEM, "out of memory merging into '%s'", tkd_store_path(m->out));
    if (!added) {
        m->st->duplicates++;
        return 0;
    }
    tkd_record r = *rec;
    int rc = tkd_store_append(m->out, &r, text, len, m->e);
    if (!rc)
        m->st->rows_out++;
    return rc;
}

/* ---- what the inputs are: phase, job and run name of each shard ---- */

typedef struct {
    char *phase, *sha, *name; /* name: the run name in the manifest, or NULL */
} shard_id;

static char *manifest_name(const char *manifest) {
    json_t *m = manifest ? json_loads(manifest, 0, NULL) : NULL;
    json_t *n = json_object_get(m, "name");
    char *r = json_is_string(n) ? strdup(json_string_value(n)) : NULL;
    json_decref(m);
    return r;
}

static void shard_id_read(tkd_store *s, shard_id *id) {
    char *manifest = NULL;
    tkd_store_attr(s, "phase", &id->phase, NULL);
    tkd_store_attr(s, "job_sha256", &id->sha, NULL);
    tkd_store_attr(s, "manifest", &manifest, NULL);
    id->name = manifest_name(manifest);
    free(manifest);
}

static void shard_id_free(shard_id *id) {
    free(id->phase);
    free(id->sha);
    free(id->name);
}

/* Open each shard once for its attributes: the merged file's phase (returns
 * 1 when the shards hold several) and the job, job_sha256 and manifest of
 * the first shard. An unreadable shard fails the merge, or with skip is
 * dropped from the list (shards[i] freed and NULL) with a warning. */
static int read_meta(char **shards, size_t n, const char *out, int skip, shard_id *ids, tkd_store_meta *meta,
                     char **strs, tkd_store_merge_stats *st, tkd_err *e) {
    int rc = 0, mixed = 0, have = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!shards[i])
            continue;
        tkd_store *s;
        tkd_err oe = {0};
        if (store_open_salvage(shards[i], &s, &oe)) {
            if (!skip) {
                tkd_err_set(e, oe.code, "%s; `tkd store merge --skip-damaged` leaves this shard out", oe.msg);
                return tkd_err_wrap(e, "merge into '%s'", out);
            }
            tkd_log_warn("merge: --skip-damaged: left out the unreadable shard %s", oe.msg);
            st->skipped_shards++;
            free(shards[i]);
            shards[i] = NULL;
            continue;
        }
        shard_id_read(s, &ids[i]);
        int p = tkd_phase_parse(ids[i].phase);
        if (ids[i].phase) {
            if (!have && p >= 0)
                meta->phase = (tkd_phase)p;
            else if (p < 0 || (tkd_phase)p != meta->phase)
                mixed = 1;
            have = 1;
        }
        if (!strs[0]) { /* job, job_sha256, manifest of the first shard */
            static const char *names[3] = {"job", "job_sha256", "manifest"};
            for (int k = 0; k < 3 && !rc; k++)
                if (tkd_store_attr(s, names[k], &strs[k], e) == TKD_ENOMEM)
                    rc = TKD_ENOMEM;
        }
        tkd_store_close(s, NULL);
    }
    meta->job_text = strs[0];
    meta->job_sha256 = strs[1];
    meta->manifest_json = strs[2];
    return rc ? rc : mixed;
}

/* ---- refusals: what OUT must not be ---- */

/* 1 when out is (or would become, once written) a *.h5 directly in dir. */
static int out_in_dir(const char *dir, const char *out) {
    const char *slash = strrchr(out, '/');
    const char *base = slash ? slash + 1 : out;
    size_t bl = strlen(base);
    if (bl < 4 || strcmp(base + bl - 3, ".h5") || base[0] == '.')
        return 0;
    char parent[PATH_MAX], rp_parent[PATH_MAX], rp_dir[PATH_MAX];
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else if (slash == out)
        snprintf(parent, sizeof parent, "/");
    else
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - out), out);
    return realpath(parent, rp_parent) && realpath(dir, rp_dir) && !strcmp(rp_parent, rp_dir);
}

static const char *or_none(const char *s) {
    return s && s[0] ? s : "none";
}

/* OUT exists and is not an input: it must be a store of the same phase and run. */
static int check_existing_out(const char *dir, const char *out, char **shards, size_t n, const shard_id *ids,
                              const char *phase, tkd_err *e) {
    tkd_store *s;
    tkd_err oe = {0};
    if (tkd_store_open(out, &s, &oe))
        return tkd_err_set(
            e, TKD_EINVAL,
            "refusing to replace '%s': it exists and is not a readable tkd store (%s); remove it or choose "
            "another OUT, or pass --force to replace it",
            out, oe.msg);
    shard_id o = {0};
    shard_id_read(s, &o);
    tkd_store_close(s, NULL);
    int rc = 0;
    const shard_id *first = NULL;
    int same_job = 0, any_sha = 0;
    for (size_t i = 0; i < n; i++) {
        if (!shards[i])
            continue;
        if (!first)
            first = &ids[i];
        if (ids[i].sha && ids[i].sha[0]) {
            any_sha = 1;
            same_job |= o.sha && !strcmp(o.sha, ids[i].sha);
        }
    }
    if (!any_sha && !(o.sha && o.sha[0]))
        same_job = 1; /* no job recorded on either side: nothing tells the runs apart */
    /* the same named run with an edited job file (a resumed run) is the same run;
     * the default name says nothing */
    int same_name = first && o.name && first->name && !strcmp(o.name, first->name) && strcmp(o.name, "tkd-run");
    if (!o.phase || strcmp(o.phase, phase)) {
        rc = tkd_err_set(e, TKD_EINVAL,
                         "refusing to replace '%s': it is a store of phase '%s' but the shards in '%s' are of phase "
                         "'%s'; choose another OUT, or pass --force to replace it",
                         out, or_none(o.phase), dir, phase);
    } else if (!same_job && !same_name) {
        rc = tkd_err_set(e, TKD_EINVAL,
                         "refusing to replace '%s': it is a store of another run (job sha256 %.12s, run name '%s'); "
                         "the shards in '%s' are of job sha256 %.12s, run name '%s'; choose another OUT, or pass "
                         "--force to replace it",
                         out, or_none(o.sha), or_none(o.name), dir, or_none(first ? first->sha : NULL),
                         or_none(first ? first->name : NULL));
    }
    shard_id_free(&o);
    return rc;
}

int tkd_store_merge(const char *dir, const char *out, tkd_store_merge_stats *st, tkd_err *e) {
    return tkd_store_merge_with(dir, out, NULL, st, e);
}

int tkd_store_merge_with(const char *dir, const char *out, const tkd_store_merge_opts *opts, tkd_store_merge_stats *st,
                         tkd_err *e) {
    tkd_store_merge_opts none = {0, 0};
    if (!opts)
        opts = &none;
    tkd_store_merge_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    struct stat ost;
    int out_exists = stat(out, &ost) == 0;
    if (out_exists && S_ISDIR(ost.st_mode))
        return tkd_err_set(e, TKD_EINVAL,
                           "merge: OUT '%s' is a folder; give the path of the merged file, e.g. '%s/merged.h5' "
                           "(outside the folder of shards)",
                           out, out);
    char **shards;
    size_t n;
    int rc = store_list_h5(dir, 0, &shards, &n, e);
    if (rc)
        return rc;
    int out_is_input = out_in_dir(dir, out);
    for (size_t i = 0; i < n; i++)
        out_is_input |= same_file(shards[i], out);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    tkd_store_meta meta = {TKD_PHASE_PROBLEM, -1, -1, NULL, NULL, NULL};
    char *strs[3] = {NULL, NULL, NULL};
    tkd_store *o = NULL;
    store_keyset seen;
    store_keyset_init(&seen);
    json_t *from = json_array();
    shard_id *ids = calloc(n ? n : 1, sizeof *ids);
    if (!from || !ids) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory merging '%s'", dir);
        goto done;
    }
    if (out_is_input && !opts->force) {
        rc = tkd_err_set(e, TKD_EINVAL,
                         "refusing to merge into '%s': it is one of the inputs (a *.h5 directly in '%s'), and "
                         "replacing it would lose that file's records; choose an OUT outside that folder, or pass "
                         "--force to merge it in and replace it",
                         out, dir);
        goto done;
    }
    if (!n) {
        rc = tkd_err_set(e, TKD_ENOTFOUND, "nothing to merge: no *.h5 shards in '%s'", dir);
        goto done;
    }
    int mixed = read_meta(shards, n, out, opts->skip_damaged, ids, &meta, strs, st, e);
    if (mixed < 0) {
        rc = mixed;
        goto done;
    }
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        live += shards[i] != NULL;
    if (!live) {
        rc = tkd_err_set(e, TKD_ENOTFOUND, "nothing to merge: every *.h5 in '%s' is unreadable", dir);
        goto done;
    }
    const char *phase = mixed ? "mixed" : tkd_phase_name(meta.phase);
    if (out_exists && !out_is_input && !opts->force && (rc = check_existing_out(dir, out, shards, n, ids, phase, e)))
        goto done;
    remove(tmp);
    if ((rc = store_create_plain(tmp, &meta, &o, e)))
        goto done;
    tkd_store_set_flush_every(o, MERGE_FLUSH_ROWS);
    merge_sink sink = {o, &seen, st, e, 0};
    for (size_t pi = 0; pi < 2 * n && !rc; pi++) {
        size_t i = pi % n;
        sink.pass = pi >= n;
        if (!shards[i])
            continue;
        tkd_store *in;
        tkd_err oe = {0};
        if (store_open_salvage(shards[i], &in, &oe)) { /* it opened a moment ago */
            rc = tkd_err_set(e, oe.code, "%s", oe.msg);
            break;
        }
        tkd_store_damage dmg;
        rc = tkd_store_scan(in, merge_row, &sink, &dmg, e);
        tkd_store_close(in, NULL);
        if (rc || sink.pass) /* the second pass only adds the transient rows */
            continue;
        char what[512];
        tkd_store_damage_describe(shards[i], &dmg, what, sizeof what);
        if (dmg.damaged && !opts->skip_damaged) {
            rc =
                tkd_err_set(e, TKD_EFORMAT,
                            "merge: shard %s; it was cut short or damaged: `tkd store merge --skip-damaged` merges "
                            "its %zu verified rows and leaves the damaged ones out (a re-run of the phase redoes them)",
                            what, dmg.verified);
            break;
        }
        if (dmg.damaged)
            tkd_log_warn("merge: --skip-damaged: left out the damaged rows of %s; its %zu verified rows are merged",
                         what, dmg.verified);
        st->damaged_rows += dmg.damaged;
        const char *base = strrchr(shards[i], '/');
        json_t *f = json_pack("{s:s, s:I}", "file", base ? base + 1 : shards[i], "rows", (json_int_t)dmg.verified);
        if (f && dmg.damaged)
            json_object_set_new(f, "damaged", json_integer((json_int_t)dmg.damaged));
        json_array_append_new(from, f);
        st->shards++;
    }
    if (rc)
        goto done;
    char *fj = json_dumps(from, JSON_COMPACT);
    if (!fj) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory merging '%s'", dir);
        goto done;
    }
    rc = store_put_attr_str(o->file, "merged_from", fj, tmp, e);
    free(fj);
    if (!rc && mixed && H5Adelete(o->file, "phase") >= 0)
        rc = store_put_attr_str(o->file, "phase", "mixed", tmp, e);
    if (rc)
        goto done;
    rc = tkd_store_close(o, e);
    o = NULL;
    if (rc || (rc = fsync_path(tmp, 0, e)))
        goto done;
    if (rename(tmp, out) != 0) {
        rc = tkd_err_set(e, TKD_EIO, "cannot rename '%s' to '%s': %s", tmp, out, strerror(errno));
        goto done;
    }
    char *slash = strrchr(out, '/');
    if (slash) {
        char d[PATH_MAX];
        snprintf(d, sizeof d, "%.*s", (int)(slash - out), out);
        fsync_path(slash == out ? "/" : d, 1, NULL);
    } else {
        fsync_path(".", 1, NULL);
    }
    struct stat sb;
    if (stat(out, &sb) == 0)
        st->bytes_out = (uint64_t)sb.st_size;
done:
    if (o)
        tkd_store_close(o, NULL);
    if (rc)
        remove(tmp);
    json_decref(from);
    store_keyset_free(&seen);
    for (int k = 0; k < 3; k++)
        free(strs[k]);
    for (size_t i = 0; ids && i < n; i++)
        shard_id_free(&ids[i]);
    free(ids);
    store_free_list(shards, n);
    return rc;
}
