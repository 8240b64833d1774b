/*
 * The report's numbers (see report.c): read once from the merged stores
 * (problems, solve, backtranslate), the exported SFT sets, the eval results
 * and the training log, into the JSON object that is report.json. Counts by
 * status keep the store's status order; per-subject, per-level and per-tool
 * tables are sorted by name (JSON_SORT_KEYS on output, and the Markdown
 * reads the same object), so a report is reproducible.
 */
#include "report_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct pid_ix { /* problems sorted by pid, for the subject and level of a trace */
    uint64_t pid;
    const tkd_problem *p;
} pid_ix;

static int cmp_pid(const void *a, const void *b) {
    uint64_t x = ((const pid_ix *)a)->pid, y = ((const pid_ix *)b)->pid;
    return x < y ? -1 : x > y;
}

static const tkd_problem *find_problem(const pid_ix *ix, size_t n, uint64_t pid) {
    pid_ix key = {pid, NULL};
    const pid_ix *f = n ? bsearch(&key, ix, n, sizeof *ix, cmp_pid) : NULL;
    return f ? f->p : NULL;
}

static char *out_file(const tkd_job *job, const char *leaf) {
    tkd_buf b;
    tkd_buf_init(&b);
    if (tkd_buf_printf(&b, "%s/%s", tkd_job_str(job, "output_dir"), leaf)) {
        tkd_buf_free(&b);
        return NULL;
    }
    return tkd_buf_steal(&b);
}

static int exists(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0;
}

/* obj[key] as a string, or def */
static const char *jstr(json_t *obj, const char *key, const char *def) {
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : def;
}

/* obj[key] += by (an integer member, created at 0) */
static void add_int(json_t *obj, const char *key, json_int_t by) {
    json_t *v = json_object_get(obj, key);
    if (v)
        json_integer_set(v, json_integer_value(v) + by);
    else
        json_object_set_new(obj, key, json_integer(by));
}

/* obj[key] as an object, created empty */
static json_t *sub(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!v) {
        v = json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The same object with its members in name order (Jansson keeps insertion
 * order), so tables and plots list subjects, levels and tools alike. */
static json_t *sorted(json_t *o) {
    size_t n = json_object_size(o), i = 0;
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    json_t *s = json_object(), *v;
    const char *k;
    if (!keys || !s) {
        free(keys);
        json_decref(s);
        return o;
    }
    json_object_foreach(o, k, v) keys[i++] = k;
    qsort(keys, n, sizeof *keys, cmp_str);
    for (i = 0; i < n; i++)
        json_object_set(s, keys[i], json_object_get(o, keys[i]));
    free(keys);
    json_decref(o);
    return s;
}

static json_t *status_counts(const size_t *by) {
    json_t *o = json_object();
    for (int s = 0; s < TKD_ST_COUNT; s++)
        if (by[s])
            json_object_set_new(o, tkd_status_name((tkd_status)s), json_integer((json_int_t)by[s]));
    return o;
}

/* Why a trace that is not correct failed (its record and its calls). */
static const char *failure_reason(const tkd_record *r, json_t *calls) {
    switch (r->status) {
    case TKD_ST_WRONG: {
        if (!json_array_size(calls))
            return "wrong, no tool used";
        size_t i;
        json_t *c;
        json_array_foreach(calls, i, c) if (!strcmp(jstr(c, "status", ""), "ok"))
            return "wrong after a tool answered";
        return "wrong, every tool call failed";
    }
    case TKD_ST_TOOL_ERRORS: return "tool errors in a row";
    case TKD_ST_TURN_LIMIT: return "turn limit";
    case TKD_ST_LENGTH: return "length";
    case TKD_ST_NO_ANSWER: return "no boxed answer";
    case TKD_ST_API_ERROR: return "endpoint error (redone on resume)";
    default: return "other failure";
    }
}

typedef void (*row_fn)(void *ctx, const tkd_record *r, json_t *doc);

/* Every record of a merged store of phase ph, with its text parsed. */
static int each_record(const char *path, tkd_phase ph, row_fn fn, void *ctx, size_t *by_status, tkd_err *e) {
    tkd_store *s;
    int rc = tkd_store_open(path, &s, e);
    if (rc)
        return tkd_err_wrap(e, "report: reading %s", path);
    size_t n = tkd_store_count(s);
    for (size_t i = 0; i < n && !rc; i++) {
        tkd_record r;
        char *text = NULL;
        if ((rc = tkd_store_read(s, i, &r, e)) || r.phase != ph)
            continue;
        if ((rc = tkd_store_read_text(s, &r, &text, e)))
            break;
        json_t *doc = json_loads(text, 0, NULL);
        free(text);
        by_status[r.status < TKD_ST_COUNT ? r.status : TKD_ST_FAILED]++;
        fn(ctx, &r, doc);
        json_decref(doc);
    }
    tkd_store_close(s, NULL);
    return rc;
}

typedef struct solve_acc {
    json_t *subj, *level, *tools, *fail;
    const pid_ix *ix;
    size_t nix;
    json_int_t traces, correct, turns, calls, ptok, ctok;
} solve_acc;

static void solve_row(void *ctx, const tkd_record *r, json_t *doc) {
    solve_acc *a = ctx;
    const tkd_problem *p = find_problem(a->ix, a->nix, r->pid);
    char level[32];
    snprintf(level, sizeof level, p && p->level ? "Level %d" : "unknown", p ? p->level : 0);
    int ok = r->status == TKD_ST_CORRECT;
    json_t *gs = sub(a->subj, p && p->subject && *p->subject ? p->subject : "(none)"), *gl = sub(a->level, level);
    add_int(gs, "samples", 1);
    add_int(gs, "correct", ok);
    add_int(gl, "samples", 1);
    add_int(gl, "correct", ok);
    a->traces++;
    a->correct += ok;
    a->turns += r->turns;
    a->calls += r->tool_calls;
    a->ptok += (json_int_t)r->prompt_tokens;
    a->ctok += (json_int_t)r->completion_tokens;
    json_t *calls = json_object_get(doc, "calls");
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        json_t *t = sub(a->tools, jstr(c, "name", "(unnamed)"));
        add_int(t, "calls", 1);
        add_int(t, "errors", strcmp(jstr(c, "status", ""), "ok") != 0);
    }
    if (!ok)
        add_int(a->fail, failure_reason(r, calls), 1);
}

static int gather_solve(const tkd_job *job, const char *path, json_t *r, json_t *funnel, tkd_err *e) {
    tkd_problem_set ps;
    tkd_problem_set_init(&ps);
    pid_ix *ix = NULL;
    tkd_err pe = {0};
    char *probs = out_file(job, "problems.h5");
    if (exists(probs) && tkd_phase_load_problems(job, &ps, &pe) == 0 && ps.n) {
        ix = malloc(ps.n * sizeof *ix);
        for (size_t i = 0; ix && i < ps.n; i++)
            ix[i] = (pid_ix){ps.items[i].pid, &ps.items[i]};
        if (ix)
            qsort(ix, ps.n, sizeof *ix, cmp_pid);
    }
    free(probs);
    json_object_set_new(funnel, "problems", json_integer((json_int_t)ps.n));
    solve_acc a = {json_object(), json_object(), json_object(), json_object(), ix, ix ? ps.n : 0, 0, 0, 0, 0, 0, 0};
    size_t by[TKD_ST_COUNT] = {0};
    int rc = path ? each_record(path, TKD_PHASE_SOLVE, solve_row, &a, by, e) : 0;
    if (!rc && path) {
        json_t *s = json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:f, s:f, s:I, s:I}", "by_status", status_counts(by),
                              "by_subject", sorted(a.subj), "by_level", sorted(a.level), "tools", sorted(a.tools),
                              "failures", sorted(a.fail),
                              "traces", a.traces, "correct", a.correct, "turns_mean",
                              a.traces ? (double)a.turns / (double)a.traces : 0.0, "tool_calls_mean",
                              a.traces ? (double)a.calls / (double)a.traces : 0.0, "prompt_tokens", a.ptok,
                              "completion_tokens", a.ctok);
        double pu = tkd_job_num(job, "report.prompt_usd_per_mtok"), cu = tkd_job_num(job, "report.completion_usd_per_mtok");
        if (s && (pu > 0 || cu > 0))
            json_object_set_new(s, "cost_usd", json_real(((double)a.ptok * pu + (double)a.ctok * cu) / 1e6));
        json_object_set_new(r, "solve", s);
        json_object_set_new(funnel, "solve_traces", json_integer(a.traces));
        json_object_set_new(funnel, "solve_correct", json_integer(a.correct));
    } else {
        json_decref(a.subj);
        json_decref(a.level);
        json_decref(a.tools);
        json_decref(a.fail);
    }
    free(ix);
    tkd_problem_set_free(&ps);
    return rc;
}

static void bt_row(void *ctx, const tkd_record *r, json_t *doc) {
    (void)r;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "calls"), i, c) {
        json_t *t = sub(ctx, jstr(c, "tool", "(unnamed)"));
        const char *o = jstr(c, "outcome", "");
        size_t tries = json_array_size(json_object_get(c, "attempts"));
        add_int(t, "calls", 1);
        add_int(t, "first_attempt", !strcmp(o, "accepted") && tries <= 1);
        add_int(t, "after_retries", !strcmp(o, "accepted") && tries > 1);
        add_int(t, "rejected", !strcmp(o, "rejected"));
        add_int(t, "kept_as_fact", !strcmp(o, "kept_as_fact"));
    }
}

static int gather_bt(const char *path, json_t *r, json_t *funnel, tkd_err *e) {
    json_t *tools = json_object();
    size_t by[TKD_ST_COUNT] = {0};
    int rc = each_record(path, TKD_PHASE_BACKTRANSLATE, bt_row, tools, by, e);
    if (rc) {
        json_decref(tools);
        return rc;
    }
    size_t n = 0;
    for (int s = 0; s < TKD_ST_COUNT; s++)
        n += by[s];
    json_object_set_new(r, "backtranslate", json_pack("{s:o, s:o, s:I}", "by_status", status_counts(by), "tools",
                                                      sorted(tools), "traces", (json_int_t)n));
    json_object_set_new(funnel, "backtranslate_traces", json_integer((json_int_t)n));
    json_object_set_new(funnel, "backtranslate_kept", json_integer((json_int_t)(by[TKD_ST_ACCEPTED] + by[TKD_ST_PARTIAL])));
    return 0;
}

static json_int_t count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    json_int_t n = 0;
    int c, last = '\n';
    while ((c = getc(f)) != EOF) {
        n += c == '\n';
        last = c;
    }
    fclose(f);
    return n + (last != '\n');
}

/* OUT/sft/<variant>/{train,valid}.jsonl line counts, variants by name. */
static void gather_export(const tkd_job *job, json_t *funnel) {
    char *dir = out_file(job, "sft");
    DIR *d = dir ? opendir(dir) : NULL;
    json_t *ex = json_object();
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s/train.jsonl", dir, de->d_name);
        if (!exists(p))
            continue;
        json_int_t tr = count_lines(p);
        snprintf(p, sizeof p, "%s/%s/valid.jsonl", dir, de->d_name);
        json_object_set_new(ex, de->d_name, json_pack("{s:I, s:I}", "train", tr, "valid", count_lines(p)));
    }
    if (d)
        closedir(d);
    free(dir);
    json_object_set_new(funnel, "export", sorted(ex));
}

/* The training log: steps, first and last loss, and the curve. */
static void gather_train(const tkd_job *job, json_t *r) {
    const char *tdir = tkd_job_str(job, "train.out_dir");
    char *p = NULL;
    if (tdir && *tdir) {
        tkd_buf b;
        tkd_buf_init(&b);
        p = tkd_buf_printf(&b, "%s/train_log.jsonl", tdir) ? NULL : tkd_buf_steal(&b);
        tkd_buf_free(&b);
    } else {
        p = out_file(job, "train/train_log.jsonl");
    }
    FILE *f = p ? fopen(p, "r") : NULL;
    free(p);
    if (!f)
        return;
    json_t *curve = json_array();
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        json_t *st = json_object_get(j, "step"), *lo = json_object_get(j, "loss"), *lr = json_object_get(j, "lr");
        if (json_is_integer(st) && json_is_number(lo))
            json_array_append_new(curve, json_pack("[I, f, f]", json_integer_value(st), json_number_value(lo),
                                                   json_number_value(lr)));
        json_decref(j);
    }
    fclose(f);
    size_t n = json_array_size(curve);
    if (!n) {
        json_decref(curve);
        return;
    }
    json_object_set_new(r, "train", json_pack("{s:I, s:f, s:f, s:o}", "steps",
                                              json_integer_value(json_array_get(json_array_get(curve, n - 1), 0)),
                                              "first_loss", json_real_value(json_array_get(json_array_get(curve, 0), 1)),
                                              "last_loss",
                                              json_real_value(json_array_get(json_array_get(curve, n - 1), 1)),
                                              "curve", curve));
}

int report_gather(const tkd_job *job, json_t **out, tkd_err *e) {
    json_t *r = json_object(), *funnel = json_object();
    json_object_set_new(r, "funnel", funnel);
    char *solve = out_file(job, "solve.h5"), *bt = out_file(job, "backtranslate.h5"),
         *ev = out_file(job, "eval/results.json");
    int rc = gather_solve(job, exists(solve) ? solve : NULL, r, funnel, e);
    if (!rc && exists(bt))
        rc = gather_bt(bt, r, funnel, e);
    if (!rc) {
        gather_export(job, funnel);
        gather_train(job, r);
        if (exists(ev)) {
            json_error_t je;
            json_t *res = json_load_file(ev, 0, &je);
            if (!res)
                rc = tkd_err_set(e, TKD_EFORMAT, "report: %s: %s (line %d): re-run `tkd eval` to rewrite it", ev,
                                 je.text, je.line);
            else
                json_object_set_new(r, "eval", res);
        }
    }
    free(solve);
    free(bt);
    free(ev);
    if (rc) {
        json_decref(r);
        return rc;
    }
    *out = r;
    return 0;
}
