/*
 * Phase completion: when every item of a phase is done, rank 0 merges the
 * phase's shards into OUT/<store> and writes OUT/<phase>.complete.json, a
 * marker naming the merged store and the phase's inputs with their SHA-256.
 * The next phase reads that marker: one whose input phase has none refuses
 * to start (exit 2, naming the command to run), and a phase whose marker
 * still matches its inputs is complete, so a re-run is a no-op that sends no
 * request and rewrites no store. The marker is written last (temp name,
 * fsync, rename): a crash before it leaves the phase incomplete, never
 * falsely complete.
 */
#include "tkd/phases.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Every phase that leaves a marker: its shards folder under OUT/shards and
 * its merged store under OUT (NULL: the phase writes its own output), and
 * the phase whose marker it needs before it starts. */
typedef struct phase_desc {
    const char *name, *shards, *store, *needs;
    const char *keys[6]; /* the job sections the phase reads: a change makes its marker stale */
} phase_desc;

static const phase_desc phases[] = {
    {"import", NULL, "problems.h5", NULL, {"data"}},
    {"testwork", "test", "test.h5", NULL, {"testwork", "seed"}},
    {"solve", "solve", "solve.h5", "import", {"solve", "teacher", "grade", "tools", "seed"}},
    {"backtranslate", "backtranslate", "backtranslate.h5", "solve", {"backtranslate", "teacher", "grade", "seed"}},
    {"export", NULL, "sft", NULL, {"export", "student", "seed"}},
    {"train", NULL, "train", NULL, {"train", "student", "seed"}},
    {"eval", "eval", "eval.h5", NULL, {"eval", "student", "grade", "seed"}},
};

/* Keys of those sections that change how a phase runs, not what it writes
 * (where the endpoints are, how hard to push them, the cache): a move of the
 * teacher to another node leaves a finished phase finished. */
static const char *const plumbing[] = {"base_urls",
                                       "api_key_env",
                                       "max_in_flight",
                                       "max_connections_per_endpoint",
                                       "connect_timeout_s",
                                       "timeout_s",
                                       "max_retries",
                                       "retry_budget",
                                       "backoff_base_s",
                                       "backoff_max_s",
                                       "http2",
                                       "ca_file",
                                       "cache",
                                       "cache_dir",
                                       "wait_for_endpoint_s",
                                       "tool_workers",
                                       "workers"};

/* SHA-256 of the job sections a phase reads, with their defaults filled in
 * (the job as loaded) and the plumbing keys left out, so a change of any
 * other key leaves the phase complete: arms of a sweep that differ only in
 * train.* share a solve. */
static int keys_hash(const tkd_job *job, const phase_desc *p, char hex[65], tkd_err *e) {
    json_t *o = json_object();
    for (int i = 0; o && i < 6 && p->keys[i]; i++) {
        json_t *v = json_object_get(job->root, p->keys[i]);
        v = v ? json_deep_copy(v) : json_null();
        for (size_t k = 0; json_is_object(v) && k < sizeof plumbing / sizeof plumbing[0]; k++)
            json_object_del(v, plumbing[k]);
        json_object_set_new(o, p->keys[i], v);
    }
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!text)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    tkd_sha256_hex(text, strlen(text), hex);
    free(text);
    return 0;
}

static const phase_desc *find_phase(const char *name) {
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++)
        if (!strcmp(phases[i].name, name))
            return &phases[i];
    return NULL;
}

/* OUT/<leaf> (caller frees) */
static char *out_path(const tkd_job *job, const char *leaf, tkd_err *e) {
    tkd_buf b;
    tkd_buf_init(&b);
    if (tkd_buf_printf(&b, "%s/%s", tkd_job_str(job, "output_dir"), leaf)) {
        tkd_buf_free(&b);
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
        return NULL;
    }
    return tkd_buf_steal(&b);
}

char *tkd_phase_marker_path(const tkd_job *job, const char *phase, tkd_err *e) {
    char leaf[96];
    snprintf(leaf, sizeof leaf, "%s.complete.json", phase);
    return out_path(job, leaf, e);
}

char *tkd_phase_store_path(const tkd_job *job, const char *phase, tkd_err *e) {
    const phase_desc *p = find_phase(phase);
    if (!p || !p->store) {
        tkd_err_set(e, TKD_EINTERNAL, "phase '%s' has no merged store", phase);
        return NULL;
    }
    return out_path(job, p->store, e);
}

/* The marker of phase as JSON, or NULL (missing or unreadable: incomplete). */
static json_t *read_marker(const tkd_job *job, const char *phase, tkd_err *e) {
    char *path = tkd_phase_marker_path(job, phase, e);
    if (!path)
        return NULL;
    json_t *m = json_load_file(path, 0, NULL);
    free(path);
    if (m && !json_is_object(m)) {
        json_decref(m);
        m = NULL;
    }
    return m;
}

char *tkd_phase_train_data(const tkd_job *job, tkd_err *e) {
    const char *d = tkd_job_str(job, "train.data");
    if (d && *d)
        return tkd_strdup(d, e);
    const char *ex = tkd_job_str(job, "export.out_dir");
    tkd_buf b;
    tkd_buf_init(&b);
    if (ex && *ex ? tkd_buf_printf(&b, "%s/nl/train.jsonl", ex)
                  : tkd_buf_printf(&b, "%s/sft/nl/train.jsonl", tkd_job_str(job, "output_dir"))) {
        tkd_buf_free(&b);
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
        return NULL;
    }
    return tkd_buf_steal(&b);
}

int tkd_phase_keys_hash(const tkd_job *job, const char *phase, char hex[65], tkd_err *e) {
    const phase_desc *p = find_phase(phase);
    if (!p)
        return tkd_err_set(e, TKD_EINTERNAL, "no completion rule for phase '%s'", phase);
    return keys_hash(job, p, hex, e);
}

/* 1 when the marker's store exists and every input it names still has the
 * hash the marker recorded; 0 otherwise. */
static int marker_current(const tkd_job *job, const phase_desc *p, json_t *m, tkd_err *e) {
    const char *store = json_string_value(json_object_get(m, "store"));
    const char *keys = json_string_value(json_object_get(m, "keys_sha256"));
    struct stat st;
    char hex[65];
    if (!store || stat(store, &st) != 0 || !keys || keys_hash(job, p, hex, e) || strcmp(hex, keys))
        return 0;
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(m, "inputs"), i, in) {
        const char *p = json_string_value(json_object_get(in, "path"));
        const char *want = json_string_value(json_object_get(in, "sha256"));
        tkd_err he = {0};
        if (!p || !want || tkd_sha256_file(p, hex, &he) || strcmp(hex, want))
            return 0;
    }
    return 1;
}

int tkd_phase_is_complete(const tkd_job *job, const char *phase, tkd_err *e) {
    const phase_desc *p = find_phase(phase);
    json_t *m = p ? read_marker(job, phase, e) : NULL;
    int ok = m && marker_current(job, p, m, e);
    json_decref(m);
    return ok;
}

int tkd_phase_require(const tkd_job *job, const char *phase, const char *needs, tkd_err *e) {
    if (tkd_phase_is_complete(job, needs, e))
        return 0;
    /* a store made by hand (tkd store merge, a copy) has no marker: used as it is */
    const phase_desc *n = find_phase(needs);
    json_t *m = read_marker(job, needs, e);
    char *store = !m && n && n->store ? out_path(job, n->store, e) : NULL;
    struct stat st;
    int by_hand = store && stat(store, &st) == 0;
    if (by_hand)
        tkd_log_warn("%s: %s has no completion marker (made by hand?): using it as it is", phase, store);
    json_decref(m);
    free(store);
    if (by_hand)
        return 0;
    char *marker = tkd_phase_marker_path(job, needs, e);
    const char *cmd = !strcmp(needs, "import") ? "tkd data import" : NULL;
    int rc = tkd_err_set(e, TKD_EINVAL,
                         "%s: the %s phase needs a complete %s phase, and %s is missing or out of date: run `%s%s %s` "
                         "first (under Slurm: bash slurm/submit.sh %s)",
                         job->path ? job->path : "job", phase, needs, marker ? marker : "its marker",
                         cmd ? cmd : "tkd ", cmd ? "" : needs, job->path ? job->path : "JOB.json",
                         job->path ? job->path : "JOB.json");
    free(marker);
    return rc;
}

int tkd_phase_gate(const tkd_job *job, const char *phase, tkd_err *e) {
    const phase_desc *p = find_phase(phase);
    if (!p)
        return 0;
    if (tkd_phase_is_complete(job, phase, e))
        return 1;
    if (p->needs)
        return tkd_phase_require(job, phase, p->needs, e);
    return 0;
}

int tkd_phase_mark_complete(const tkd_job *job, const char *phase, const char *store, const char *const *inputs,
                            int n_inputs, tkd_err *e) {
    const phase_desc *p = find_phase(phase);
    if (!p)
        return tkd_err_set(e, TKD_EINTERNAL, "no completion rule for phase '%s'", phase);
    char created[32], hex[65];
    tkd_wall_iso(created);
    json_t *m = json_object(), *in = json_array();
    char *marker = NULL, *text = NULL;
    int rc = 0;
    if (!m || !in) {
        json_decref(in);
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto out;
    }
    json_object_set_new(m, "phase", json_string(phase));
    json_object_set_new(m, "completed", json_string(created));
    json_object_set_new(m, "tkd_version", json_string(TKD_VERSION));
    json_object_set_new(m, "job_sha256", json_string(job->sha256));
    json_object_set_new(m, "job_path", json_string(job->path ? job->path : ""));
    json_object_set_new(m, "store", json_string(store));
    if ((rc = keys_hash(job, p, hex, e)))
        goto out;
    json_object_set_new(m, "keys_sha256", json_string(hex));
    struct stat sst;
    if (stat(store, &sst) == 0 && S_ISREG(sst.st_mode)) { /* a folder (sft/, train/) has no single hash */
        if ((rc = tkd_sha256_file(store, hex, e)))
            goto out;
        json_object_set_new(m, "store_sha256", json_string(hex));
    }
    json_object_set_new(m, "inputs", in);
    for (int i = 0; i < n_inputs; i++) {
        if ((rc = tkd_sha256_file(inputs[i], hex, e))) {
            tkd_err_wrap(e, "%s: marking the phase complete", phase);
            goto out;
        }
        json_array_append_new(in, json_pack("{s:s, s:s}", "path", inputs[i], "sha256", hex));
    }
    if (!(marker = tkd_phase_marker_path(job, phase, e)) ||
        !(text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS))) {
        rc = e->code ? e->code : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto out;
    }
    tkd_buf b;
    tkd_buf_init(&b);
    if (tkd_buf_printf(&b, "%s\n", text)) {
        tkd_buf_free(&b);
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto out;
    }
    rc = tkd_file_write_atomic(marker, b.data, b.len, e);
    tkd_buf_free(&b);
out:
    json_decref(m);
    free(marker);
    free(text);
    return rc;
}

/* Items whose every record in the shards is transient (api_error): not done,
 * so the phase is not complete. */
typedef struct transient_scan {
    tkd_idset *final;
    tkd_buf transient; /* uint64 keys */
} transient_scan;

static uint64_t item_key(const tkd_record *r) {
    uint64_t z = r->pid ^ (0x9e3779b97f4a7c15ull * ((uint64_t)r->sample + 1)) ^ ((uint64_t)r->phase << 56);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    return z ^ (z >> 31);
}

static int transient_row(void *ctx, const char *shard, const tkd_record *rec) {
    (void)shard;
    transient_scan *t = ctx;
    uint64_t k = item_key(rec);
    if (tkd_status_is_final(rec->status))
        return tkd_idset_add(t->final, k) < 0 ? TKD_ENOMEM : 0;
    return tkd_buf_append(&t->transient, &k, sizeof k) ? TKD_ENOMEM : 0;
}

static int count_left(const char *dir, size_t *left, tkd_err *e) {
    transient_scan t = {tkd_idset_new(), {0}};
    tkd_buf_init(&t.transient);
    int rc = t.final ? tkd_store_scan_dir(dir, transient_row, &t, e) : TKD_ENOMEM;
    tkd_idset *seen = rc ? NULL : tkd_idset_new();
    *left = 0;
    for (size_t i = 0; seen && i + sizeof(uint64_t) <= t.transient.len; i += sizeof(uint64_t)) {
        uint64_t k;
        memcpy(&k, t.transient.data + i, sizeof k);
        *left += !tkd_idset_has(t.final, k) && tkd_idset_add(seen, k) == 1;
    }
    if (!rc && !seen)
        rc = TKD_ENOMEM;
    tkd_idset_free(seen);
    tkd_idset_free(t.final);
    tkd_buf_free(&t.transient);
    return rc;
}

int tkd_phase_complete(const tkd_job *job, const char *phase, tkd_err *e) {
    const phase_desc *p = find_phase(phase);
    if (!p || !p->shards)
        return 0;
    char leaf[96];
    snprintf(leaf, sizeof leaf, "shards/%s", p->shards);
    char *dir = out_path(job, leaf, e), *store = dir ? out_path(job, p->store, e) : NULL;
    char *input = NULL;
    int rc = 0;
    if (!store) {
        rc = e->code ? e->code : TKD_ENOMEM;
        goto out;
    }
    size_t left = 0;
    if ((rc = count_left(dir, &left, e)))
        goto out;
    if (left) {
        rc = tkd_err_set(e, TKD_ESTOP,
                         "%s: %zu items ended with a transient status (api_error: the endpoint could not answer) and "
                         "are not done; the phase is not complete: run it again to redo them",
                         phase, left);
        goto out;
    }
    tkd_store_merge_stats st;
    char *dest = tkd_path_follow(store, e); /* a sweep links the store into a shared stage */
    /* the phase's own store, replaced whatever run wrote it; a damaged shard's
     * lost rows were redone by this run, so its verified rows are what counts */
    tkd_store_merge_opts mo = {.force = 1, .skip_damaged = 1};
    rc = dest ? tkd_store_merge_with(dir, dest, &mo, &st, e) : TKD_ENOMEM;
    free(dest);
    if (rc) {
        tkd_err_wrap(e, "%s: merging the shards of the finished phase", phase);
        goto out;
    }
    tkd_log_info("%s: complete: %zu shards merged into %s (%zu records, %zu duplicates dropped)", phase, st.shards,
                 store, st.rows_out, st.duplicates);
    const phase_desc *need = p->needs ? find_phase(p->needs) : NULL;
    if (need && need->store && !(input = out_path(job, need->store, e))) {
        rc = TKD_ENOMEM;
        goto out;
    }
    /* the inputs whose change makes the phase stale: the input phase's store;
     * for eval, the benchmark files and the arms' adapters (a retrained
     * adapter is evaluated again) */
    const char *inputs[64];
    int n_in = 0;
    if (input)
        inputs[n_in++] = input;
    if (!strcmp(phase, "eval")) {
        size_t i;
        json_t *v;
        struct stat fst;
        char adapters[16][4200];
        int n_ad = 0;
        json_array_foreach(tkd_job_get(job, "eval.benchmarks"), i, v) {
            const char *bp = json_string_value(json_object_get(v, "path"));
            if (bp && n_in < 48 && stat(bp, &fst) == 0 && S_ISREG(fst.st_mode))
                inputs[n_in++] = bp;
        }
        json_array_foreach(tkd_job_get(job, "eval.arms"), i, v) {
            const char *ad = json_string_value(json_object_get(v, "adapter"));
            if (!ad || !*ad || n_ad == 16)
                continue;
            snprintf(adapters[n_ad], sizeof adapters[n_ad], "%s/adapter_model.safetensors", ad);
            if (stat(adapters[n_ad], &fst) == 0)
                inputs[n_in++] = adapters[n_ad++];
        }
    }
    rc = tkd_phase_mark_complete(job, phase, store, inputs, n_in, e);
out:
    free(dir);
    free(store);
    free(input);
    return rc;
}
