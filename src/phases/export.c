/*
 * The export phase (tkd export JOB.json): SFT datasets from the merged
 * stores, one folder per variant (OUT/sft/<variant>/: train.jsonl,
 * valid.jsonl, manifest.json, README.md). See tkd/phases.h for the contract
 * and README.md for the variants and filters.
 *
 * One process, one pass per variant: the candidates (store rows, or the
 * problems for gold) are chosen from the fixed-size records alone (phase,
 * status, a known problem), sorted into the stable order (problem import
 * order, then sample), and only then is each one's text read and filtered,
 * stage by stage, every drop counted. Decontamination is decided once per
 * problem and shared by the variants; the split is a pure function of the
 * seed and the problem id, so a problem lands on the same side in every
 * variant and every run.
 */
#include "export_int.h"
#include "export_line.h"
#include "export_out.h"

#include "tkd/grade.h"
#include "tkd/tokenizer.h"
#include "tkd/tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const exp_stage_name[EXP_N_STAGES] = {"status", "unknown_problem", "decontaminated", "malformed",  "answer",
                                                  "length", "dedup_exact",     "dedup_near",     "per_problem"};

/* ---- pid -> problem index ---- */
static int pidmap_build(exp_pidmap *m, const tkd_problem_set *ps, tkd_err *e) {
    m->cap = 1024;
    while (m->cap < 2 * ps->n + 2)
        m->cap *= 2;
    m->k = tkd_calloc(m->cap, sizeof *m->k, e);
    m->v = tkd_calloc(m->cap, sizeof *m->v, e);
    if (!m->k || !m->v)
        return TKD_ENOMEM;
    for (size_t i = 0; i < ps->n; i++) {
        size_t j = exp_mix64(ps->items[i].pid) & (m->cap - 1);
        while (m->v[j] && m->k[j] != ps->items[i].pid)
            j = (j + 1) & (m->cap - 1);
        if (!m->v[j]) { /* the first problem of a pid wins */
            m->k[j] = ps->items[i].pid;
            m->v[j] = (uint32_t)i + 1;
        }
    }
    return 0;
}

static long pidmap_get(const exp_pidmap *m, uint64_t pid) {
    size_t j = exp_mix64(pid) & (m->cap - 1);
    while (m->v[j]) {
        if (m->k[j] == pid)
            return (long)m->v[j] - 1;
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

/* ---- candidates ---- */
typedef struct {
    uint32_t prob, sample;
    uint64_t row, text_off, text_len; /* where its text is: no second read of the record */
} cand;

static int cmp_cand(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->prob != y->prob)
        return x->prob < y->prob ? -1 : 1;
    if (x->sample != y->sample)
        return x->sample < y->sample ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int want_status(const exp_ctx *x, int variant, int status) {
    if (variant == EXP_NL)
        return status == TKD_ST_ACCEPTED || (x->allow_partial && status == TKD_ST_PARTIAL);
    return status >= 0 && status < 32 && (x->tir_statuses >> status) & 1;
}

/* The rows of a store that may become examples, in the stable order. */
static int gather(exp_ctx *x, exp_run *r, tkd_store *st, tkd_phase phase, cand **out, size_t *n_out, tkd_err *e) {
    size_t n = tkd_store_count(st), cap = 1024, nc = 0, batch = 4096;
    cand *c = tkd_malloc(cap * sizeof *c, e);
    tkd_record *recs = tkd_malloc(batch * sizeof *recs, e);
    int rc = c && recs ? 0 : TKD_ENOMEM;
    for (size_t at = 0; at < n && !rc; at += batch) {
        size_t k = n - at < batch ? n - at : batch;
        if ((rc = tkd_store_read_many(st, at, k, recs, e)))
            break;
        for (size_t i = 0; i < k && !rc; i++) {
            const tkd_record *rec = &recs[i];
            if (rec->phase != phase)
                continue;
            r->records_in++;
            if (rec->status < TKD_ST_COUNT)
                r->by_status[rec->status]++;
            if (!want_status(x, r->variant, rec->status)) {
                r->dropped[EXP_S_STATUS]++;
                continue;
            }
            long p = pidmap_get(&x->pids, rec->pid);
            if (p < 0) {
                r->dropped[EXP_S_UNKNOWN]++;
                continue;
            }
            if (nc == cap) {
                cand *nn = tkd_realloc(c, 2 * cap * sizeof *c, e);
                if (!nn) {
                    rc = TKD_ENOMEM;
                    break;
                }
                c = nn;
                cap *= 2;
            }
            c[nc++] = (cand){(uint32_t)p, rec->sample, at + i, rec->text_off, rec->text_len};
        }
    }
    free(recs);
    if (rc) {
        free(c);
        return rc;
    }
    qsort(c, nc, sizeof *c, cmp_cand);
    *out = c;
    *n_out = nc;
    return 0;
}

/* ---- per-problem decontamination, decided once ---- */
static int problem_decon(exp_ctx *x, size_t p, tkd_err *e) {
    exp_pstate *s = &x->pstate[p];
    if (s->decon >= 0)
        return s->decon;
    exp_decon_match m;
    int rc = exp_decon_check(x->decon, x->problems.items[p].problem, &m, e);
    if (rc < 0)
        return rc;
    s->decon = rc;
    if (rc) {
        s->match = tkd_calloc(1, sizeof *s->match, e);
        if (!s->match)
            return TKD_ENOMEM;
        *s->match = m;
    }
    return rc;
}

/* ---- answers ---- */
static int answer_ok(exp_ctx *x, const char *text, const char *gold, tkd_err *e) {
    if (!gold || !*gold || !text)
        return 0;
    char *ans = NULL;
    int rc = tkd_grade_extract(text, TKD_GRADE_BOXED, &ans, e);
    if (rc == TKD_ENOTFOUND) {
        tkd_err_clear(e);
        return 0;
    }
    if (rc)
        return rc;
    int ok = 0;
    const char *t = ans ? tkd_text_trim(ans) : "";
    if (*t) {
        if (!strcmp(t, gold)) {
            ok = 1;
        } else {
            tkd_grade_verdict v;
            if (tkd_grade_equal(gold, t, &x->grade, &v) == TKD_ENOMEM) {
                free(ans);
                return tkd_err_set(e, TKD_ENOMEM, "export: out of memory grading");
            }
            ok = v.result == TKD_GRADE_EQUAL;
        }
    }
    free(ans);
    return ok;
}

/* GSM8K's written solutions end "#### 72" and carry calculator notes
 * <<48/2=24>>: the gold variant states the answer boxed and drops the notes. */
static char *gold_solution(const char *sol, tkd_err *e) {
    const char *hh = strstr(sol, "\n#### ");
    tkd_buf b;
    tkd_buf_init(&b);
    int rc = 0;
    if (!hh) {
        rc = tkd_buf_puts(&b, sol);
    } else {
        for (const char *s = sol; s < hh && !rc;) {
            const char *o = strstr(s, "<<");
            const char *c = o && o < hh ? strstr(o, ">>") : NULL;
            if (!c || c > hh) {
                rc = tkd_buf_append(&b, s, (size_t)(hh - s));
                break;
            }
            rc = tkd_buf_append(&b, s, (size_t)(o - s));
            s = c + 2;
        }
        char *ans = tkd_strdup(hh + 6, NULL);
        rc = rc || !ans || tkd_buf_printf(&b, "\nThe answer is $\\boxed{%s}$.", tkd_text_trim(ans));
        free(ans);
    }
    if (rc) {
        tkd_buf_free(&b);
        tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
        return NULL;
    }
    return tkd_buf_steal(&b);
}

/* ---- one example through the filters ---- */
static int count_tokens(exp_ctx *x, const exp_line *L, size_t *n, tkd_err *e) {
    json_error_t je;
    json_t *j = json_loadb(L->line.data, L->line.len, 0, &je);
    if (!j)
        return tkd_err_set(e, TKD_EINTERNAL, "export: a line it wrote does not parse (%s)", je.text);
    int32_t *ids = NULL;
    int rc = tkd_chat_encode_json(x->tok, j, NULL, 0, &ids, NULL, n, e);
    json_decref(j);
    free(ids);
    return rc;
}

/* Every filter after the text is read; returns the stage that drops it, or
 * EXP_N_STAGES when it is kept (then written), or a negative error. */
static int filter_and_keep(exp_ctx *x, exp_run *r, size_t p, const exp_line *L, const char *dedup_text, tkd_err *e) {
    const tkd_problem *pr = &x->problems.items[p];
    if (x->check_answer) {
        int ok = answer_ok(x, L->final, pr->answer, e);
        if (ok < 0)
            return ok;
        if (!ok)
            return EXP_S_ANSWER;
    }
    if (x->tok && x->max_tokens > 0 && !(L->ascii && L->bound <= (size_t)x->max_tokens)) {
        size_t n = 0;
        int rc = count_tokens(x, L, &n, e);
        if (rc)
            return rc;
        if (n > (size_t)x->max_tokens)
            return EXP_S_LENGTH;
    }
    if (x->dedup_exact) {
        uint64_t k = exp_norm_hash(pr->problem, 1) ^ exp_mix64(exp_norm_hash(dedup_text, 2));
        int rc = exp_set_add(&r->seen, k);
        if (rc < 0)
            return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
        if (!rc)
            return EXP_S_DEDUP_EXACT;
    }
    if (r->cur_prob != p) {
        r->cur_prob = p;
        r->n_sigs = 0;
        r->kept_prob = 0;
    }
    if (x->dedup_near) {
        if (exp_words_of(&x->words, dedup_text, e))
            return TKD_ENOMEM;
        uint32_t sig[EXP_MINHASH_BINS];
        exp_minhash(&x->words, x->shingle, sig);
        for (size_t i = 0; i < r->n_sigs; i++)
            if (exp_minhash_jaccard(sig, r->sigs + i * EXP_MINHASH_BINS) >= x->near_threshold)
                return EXP_S_DEDUP_NEAR;
        if (r->n_sigs == r->cap_sigs) {
            size_t cap = r->cap_sigs ? 2 * r->cap_sigs : 16;
            uint32_t *ns = tkd_realloc(r->sigs, cap * EXP_MINHASH_BINS * sizeof *ns, e);
            if (!ns)
                return TKD_ENOMEM;
            r->sigs = ns;
            r->cap_sigs = cap;
        }
        memcpy(r->sigs + r->n_sigs++ * EXP_MINHASH_BINS, sig, sizeof sig);
    }
    if (x->per_problem > 0 && r->kept_prob >= (size_t)x->per_problem)
        return EXP_S_PER_PROBLEM;
    r->kept_prob++;
    int rc = exp_out_write(x, r, pr->pid, L->line.data, L->line.len, e);
    return rc ? rc : EXP_N_STAGES;
}

static void fill_meta(const tkd_problem *pr, int sample, exp_meta *m) {
    m->id = pr->id;
    m->source = pr->source ? pr->source : "";
    m->subject = pr->subject ? pr->subject : "";
    m->level = pr->level;
    m->pid = pr->pid;
    m->sample = sample;
}

/* Build the line of one candidate; EXP_S_MALFORMED when its text is unusable. */
static int build(exp_ctx *x, exp_run *r, size_t p, int sample, const char *text, exp_line *L, const char **dedup,
                 char **own, tkd_err *e) {
    const tkd_problem *pr = &x->problems.items[p];
    *own = NULL;
    char *user = tkd_student_prompt_user(&x->prompt, pr->problem, e);
    if (!user)
        return TKD_ENOMEM;
    int rc = exp_line_start(L, &x->prompt, user);
    free(user);
    if (rc)
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
    exp_meta m;
    fill_meta(pr, sample, &m);
    if (r->variant == EXP_GOLD) {
        if (!pr->solution || !*pr->solution)
            return EXP_S_MALFORMED;
        if (!(*own = gold_solution(pr->solution, e)))
            return TKD_ENOMEM;
        size_t n = strlen(*own);
        if (exp_line_msg(L, "assistant", *own, n) || exp_line_end(L, NULL, 0, 0, &m))
            return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
        L->final = *own;
        *dedup = *own;
        return 0;
    }
    tkd_arena_free(&x->arena);
    tkd_json *doc;
    tkd_err pe = {0};
    if (tkd_json_parse(&x->arena, text, strlen(text), &doc, &pe) || !tkd_json_is(doc, TKD_JSON_OBJ))
        return EXP_S_MALFORMED;
    char pidhex[17];
    snprintf(pidhex, sizeof pidhex, "%016llx", (unsigned long long)pr->pid);
    const char *dp = tkd_json_str(tkd_json_get(doc, "pid"));
    long long ds = -1;
    if ((dp && strcmp(dp, pidhex)) || tkd_json_int(tkd_json_get(doc, "sample"), &ds) || ds != sample)
        return EXP_S_MALFORMED; /* the text belongs to another record */
    if (r->variant == EXP_NL) {
        const char *sol = tkd_json_str(tkd_json_get(doc, "solution"));
        if (!sol || !sol[strspn(sol, " \t\r\n")])
            return EXP_S_MALFORMED;
        size_t n = strlen(sol);
        if (exp_line_msg(L, "assistant", sol, n) || exp_line_end(L, NULL, 0, 0, &m))
            return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
        L->final = sol;
        *dedup = sol;
        return 0;
    }
    /* tir */
    exp_tools *t = &x->tools;
    memset(t->used, 0, t->n);
    L->used_tools = t;
    tkd_err te = {0};
    rc = exp_line_tir(L, &x->arena, doc, x->keep_follow_ups, &te);
    L->used_tools = NULL;
    if (rc == TKD_ENOMEM)
        return tkd_err_set(e, TKD_ENOMEM, "%s", te.msg);
    if (rc) {
        tkd_log_debug("export: %s sample %d: %s", pr->id, sample, te.msg);
        return EXP_S_MALFORMED;
    }
    tkd_buf *tb = &x->tools_line;
    tkd_buf_reset(tb);
    size_t bound = 0;
    rc = tkd_buf_putc(tb, '[');
    for (size_t i = 0, k = 0; i < t->n && !rc; i++) {
        if (x->tools_used_only && !t->used[i])
            continue;
        rc = (k++ && tkd_buf_putc(tb, ',')) || tkd_buf_append(tb, t->specs[i], t->spec_n[i]);
        bound += 2 * t->spec_n[i] + 1;
    }
    if (rc || tkd_buf_putc(tb, ']') || exp_line_end(L, tb->data, tb->len, bound, &m))
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
    *dedup = L->text.data ? L->text.data : "";
    return 0;
}

static int run_variant(exp_ctx *x, exp_run *r, tkd_err *e) {
    tkd_store *st = NULL;
    cand *c = NULL;
    size_t nc = 0;
    int rc = 0;
    if (r->variant == EXP_GOLD) {
        nc = x->problems.n;
        r->records_in = nc;
        if (!(c = tkd_malloc((nc ? nc : 1) * sizeof *c, e)))
            return TKD_ENOMEM;
        for (size_t i = 0; i < nc; i++)
            c[i] = (cand){(uint32_t)i, 0, 0, 0, 0};
    } else {
        const char *path = r->variant == EXP_NL ? x->bt_path : x->solve_path;
        if ((rc = tkd_store_open(path, &st, e)))
            return tkd_err_wrap(e, "export: variant %s reads %s (run `tkd %s` and merge its shards first)",
                                exp_variant_name[r->variant], path, r->variant == EXP_NL ? "backtranslate" : "solve");
        rc = gather(x, r, st, r->variant == EXP_NL ? TKD_PHASE_BACKTRANSLATE : TKD_PHASE_SOLVE, &c, &nc, e);
    }
    exp_line L;
    memset(&L, 0, sizeof L);
    tkd_buf_init(&L.line);
    tkd_buf_init(&L.text);
    r->cur_prob = SIZE_MAX;
    if (!rc)
        rc = exp_out_open(x, r, e);
    for (size_t i = 0; i < nc && !rc; i++) {
        size_t p = c[i].prob;
        int d = problem_decon(x, p, e);
        if (d < 0) {
            rc = d;
            break;
        }
        if (d) {
            r->dropped[EXP_S_DECON]++;
            x->pstate[p].dropped_in[r->variant]++;
            continue;
        }
        char *text = NULL;
        if (st) {
            tkd_record rec = {.text_off = c[i].text_off, .text_len = c[i].text_len};
            if ((rc = tkd_store_read_text(st, &rec, &text, e)))
                break;
        }
        const char *dedup = NULL;
        char *own = NULL;
        int s = build(x, r, p, (int)c[i].sample, text, &L, &dedup, &own, e);
        if (s == 0)
            s = filter_and_keep(x, r, p, &L, dedup, e);
        free(text);
        free(own);
        if (s < 0) {
            rc = s;
            break;
        }
        if (s < EXP_N_STAGES)
            r->dropped[s]++;
    }
    tkd_buf_free(&L.line);
    tkd_buf_free(&L.text);
    free(c);
    tkd_store_close(st, NULL);
    if (!rc)
        rc = exp_out_close(x, r, e);
    else
        exp_out_abort(r);
    return rc;
}

/* ---- setup ---- */
static char *out_path(const tkd_job *job, const char *key, const char *name) {
    const char *v = tkd_job_str(job, key);
    tkd_buf b;
    tkd_buf_init(&b);
    if (v && *v ? tkd_buf_puts(&b, v) : tkd_buf_printf(&b, "%s/%s", tkd_job_str(job, "output_dir"), name)) {
        tkd_buf_free(&b);
        return NULL;
    }
    return tkd_buf_steal(&b);
}

static int load_tools(exp_ctx *x, const tkd_job *job, tkd_err *e) {
    json_t *arr = tkd_phase_solve_tools(job, e);
    if (!arr)
        return e->code ? e->code : TKD_ENOMEM;
    size_t k = json_array_size(arr);
    exp_tools *t = &x->tools;
    t->names = tkd_calloc(k + 1, sizeof *t->names, e);
    t->specs = tkd_calloc(k + 1, sizeof *t->specs, e);
    t->spec_n = tkd_calloc(k + 1, sizeof *t->spec_n, e);
    t->used = tkd_calloc(k + 1, 1, e);
    int rc = arr && t->names && t->specs && t->spec_n && t->used ? 0 : TKD_ENOMEM;
    for (size_t i = 0; i < k && !rc; i++) {
        json_t *s = json_array_get(arr, i);
        const char *nm = json_string_value(json_object_get(json_object_get(s, "function"), "name"));
        t->names[i] = strdup(nm ? nm : "");
        t->specs[i] = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!t->names[i] || !t->specs[i])
            rc = TKD_ENOMEM;
        else
            t->spec_n[i] = strlen(t->specs[i]);
        t->n = i + 1;
    }
    json_decref(arr);
    return rc ? tkd_err_set(e, TKD_ENOMEM, "export: out of memory reading the tool specs") : 0;
}

/* eval.benchmarks[] and export.decontaminate into the n-gram index. */
static int load_benchmarks(exp_ctx *x, const tkd_job *job, tkd_err *e) {
    int rc = exp_decon_new((int)tkd_job_int(job, "export.ngram"), tkd_job_num(job, "export.decontaminate_overlap"),
                           &x->decon, e);
    json_t *bl = tkd_job_get(job, "eval.benchmarks"), *extra = tkd_job_get(job, "export.decontaminate");
    size_t nb = json_array_size(bl), ne = json_array_size(extra);
    for (size_t i = 0; i < nb + ne && !rc; i++) {
        const char *path, *name = "", *fmt = "auto";
        if (i < nb) {
            json_t *b = json_array_get(bl, i);
            path = json_string_value(json_object_get(b, "path"));
            name = json_string_value(json_object_get(b, "name"));
            fmt = json_string_value(json_object_get(b, "format"));
        } else {
            path = json_string_value(json_array_get(extra, i - nb));
        }
        tkd_data_opts o = {.name = name && *name ? name : NULL, .format = TKD_DATA_AUTO};
        if (fmt && tkd_data_format_parse(fmt, &o.format))
            o.format = TKD_DATA_AUTO;
        tkd_problem_set set;
        tkd_problem_set_init(&set);
        tkd_data_stats ds = {0};
        int lvl = tkd_log_get_level();
        tkd_log_set_level(TKD_LOG_ERROR); /* duplicate ids inside a benchmark are no news here */
        rc = tkd_data_load(path, &o, &set, &ds, e);
        tkd_log_set_level((tkd_log_level)lvl);
        if (rc) {
            tkd_err_wrap(e, "export: decontamination %s%zu", i < nb ? "eval.benchmarks[" : "export.decontaminate[",
                         i < nb ? i : i - nb);
            tkd_problem_set_free(&set);
            break;
        }
        const char *bname = name && *name ? name : path;
        for (size_t k = 0; k < set.n && !rc; k++)
            rc = exp_decon_add(x->decon, bname, set.items[k].id, set.items[k].problem, e);
        if (!rc)
            rc = exp_out_add_bench(x, bname, path, set.n, e);
        tkd_problem_set_free(&set);
    }
    return rc;
}

static int setup(exp_ctx *x, const tkd_job *job, tkd_err *e) {
    x->job = job;
    x->seed = (uint64_t)tkd_job_int(job, "seed");
    x->max_tokens = tkd_job_int(job, "export.max_tokens");
    x->per_problem = tkd_job_int(job, "export.per_problem");
    x->valid_fraction = tkd_job_num(job, "export.valid_fraction");
    x->allow_partial = tkd_job_bool(job, "export.allow_partial");
    x->check_answer = tkd_job_bool(job, "export.check_answer");
    x->dedup_exact = tkd_job_bool(job, "export.dedup.exact");
    x->dedup_near = tkd_job_bool(job, "export.dedup.near");
    x->near_threshold = tkd_job_num(job, "export.dedup.threshold");
    x->shingle = (int)tkd_job_int(job, "export.dedup.shingle");
    x->keep_follow_ups = !strcmp(tkd_job_str(job, "export.tir_follow_ups"), "keep");
    x->tools_used_only = !strcmp(tkd_job_str(job, "export.tir_tools"), "used");
    tkd_grade_opts_from_job(job, &x->grade);
    tkd_arena_init(&x->arena);
    tkd_buf_init(&x->tools_line);
    json_t *sts = tkd_job_get(job, "export.tir_statuses");
    for (size_t i = 0; i < json_array_size(sts); i++) {
        int s = tkd_status_parse(json_string_value(json_array_get(sts, i)));
        if (s < 0)
            return tkd_err_set(e, TKD_EINVAL, "%s: export.tir_statuses[%zu]: unknown status '%s'", job->path, i,
                               json_string_value(json_array_get(sts, i)));
        x->tir_statuses |= 1u << s;
    }
    json_t *vs = tkd_job_get(job, "export.variants");
    for (size_t i = 0; i < json_array_size(vs); i++) {
        const char *v = json_string_value(json_array_get(vs, i));
        int k = -1;
        for (int j = 0; j < EXP_N_VARIANTS; j++)
            if (!strcmp(v, exp_variant_name[j]))
                k = j;
        if (k < 0)
            return tkd_err_set(e, TKD_EINVAL, "%s: export.variants[%zu]: '%s' is not nl, tir or gold", job->path, i, v);
        x->variants |= 1u << k;
    }
    if (!x->variants)
        return tkd_err_set(e, TKD_EINVAL, "%s: export.variants is empty", job->path);
    /* the input phases must be complete (or their stores made by hand) */
    int need = 0;
    if ((x->variants & (1u << EXP_NL)) && (need = tkd_phase_require(job, "export", "backtranslate", e)))
        return need;
    if ((x->variants & (1u << EXP_TIR)) && (need = tkd_phase_require(job, "export", "solve", e)))
        return need;
    if ((need = tkd_phase_require(job, "export", "import", e)))
        return need;
    x->out_dir = out_path(job, "export.out_dir", "sft");
    x->solve_path = out_path(job, "export.solve_store", "solve.h5");
    x->bt_path = out_path(job, "export.backtranslate_store", "backtranslate.h5");
    x->problems_path = tkd_phase_problems_path(job, e);
    if (!x->out_dir || !x->solve_path || !x->bt_path || !x->problems_path)
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
    int rc = tkd_student_prompt_load(job, &x->prompt, e);
    if (!rc)
        rc = tkd_phase_load_problems(job, &x->problems, e);
    if (!rc)
        rc = pidmap_build(&x->pids, &x->problems, e);
    if (!rc && !(x->pstate = tkd_calloc(x->problems.n + 1, sizeof *x->pstate, e)))
        rc = TKD_ENOMEM;
    for (size_t i = 0; !rc && i < x->problems.n; i++)
        x->pstate[i].decon = -1;
    if (!rc)
        rc = load_benchmarks(x, job, e);
    if (!rc && (x->variants & (1u << EXP_TIR)))
        rc = load_tools(x, job, e);
    const char *tp = tkd_job_str(job, "export.tokenizer");
    if (!*tp)
        tp = tkd_job_str(job, "train.model_dir");
    if (!rc && x->max_tokens > 0 && *tp) {
        x->tok_path = strdup(tp);
        rc = tkd_tokenizer_load(tp, &x->tok, e);
        if (rc)
            tkd_err_wrap(e, "export.tokenizer");
    }
    return rc;
}

static void teardown(exp_ctx *x) {
    for (size_t i = 0; x->pstate && i < x->problems.n; i++)
        free(x->pstate[i].match);
    free(x->pstate);
    free(x->pids.k);
    free(x->pids.v);
    tkd_problem_set_free(&x->problems);
    tkd_student_prompt_free(&x->prompt);
    exp_decon_free(x->decon);
    exp_words_free(&x->words);
    for (size_t i = 0; i < x->tools.n; i++) {
        free(x->tools.names[i]);
        free(x->tools.specs[i]);
    }
    free(x->tools.names);
    free(x->tools.specs);
    free(x->tools.spec_n);
    free(x->tools.used);
    tkd_buf_free(&x->tools_line);
    tkd_arena_free(&x->arena);
    tkd_tokenizer_free(x->tok);
    free(x->tok_path);
    exp_out_free_bench(x);
    json_decref(x->sha_cache);
    free(x->out_dir);
    free(x->solve_path);
    free(x->bt_path);
    free(x->problems_path);
}

int tkd_export_run(const tkd_job *job, tkd_export_summary *sum, tkd_err *e) {
    exp_ctx *x = tkd_calloc(1, sizeof *x, e);
    if (!x)
        return TKD_ENOMEM;
    double t0 = tkd_now();
    int rc = setup(x, job, e);
    if (sum)
        memset(sum, 0, sizeof *sum);
    for (int v = 0; v < EXP_N_VARIANTS && !rc; v++) {
        if (!(x->variants & (1u << v)))
            continue;
        exp_run r;
        memset(&r, 0, sizeof r);
        r.variant = v;
        rc = run_variant(x, &r, e);
        if (!rc)
            rc = exp_out_manifest(x, &r, e);
        if (!rc && sum) {
            tkd_export_variant_summary *s = &sum->v[sum->n++];
            s->name = exp_variant_name[v];
            s->records_in = r.records_in;
            for (int k = 0; k < EXP_N_STAGES; k++)
                s->dropped[k] = r.dropped[k];
            s->train = r.lines[0];
            s->valid = r.lines[1];
        }
        exp_set_free(&r.seen);
        free(r.sigs);
        exp_out_free_run(&r);
    }
    if (!rc) { /* the marker: the sets and the stores they came from */
        const char *inputs[3];
        int n = 0;
        inputs[n++] = x->problems_path;
        if (x->variants & (1u << EXP_TIR))
            inputs[n++] = x->solve_path;
        if (x->variants & (1u << EXP_NL))
            inputs[n++] = x->bt_path;
        rc = tkd_phase_mark_complete(job, "export", x->out_dir, inputs, n, e);
    }
    if (sum) {
        sum->seconds = tkd_now() - t0;
        sum->bench_problems = x->decon ? exp_decon_docs(x->decon) : 0;
    }
    teardown(x);
    free(x);
    return rc;
}

const char *tkd_export_stage_name(int k) {
    return k >= 0 && k < EXP_N_STAGES ? exp_stage_name[k] : "?";
}
