/*
 * The eval metrics, computed from the stored records only, so they can be
 * recomputed (tkd eval JOB.json --metrics-only) and checked by anyone with
 * the records (tests/eval/metrics_ref.py is an independent reference).
 *
 * Which records count: for each (arm, problem, sample < k) of the job, the
 * first record with a final status (shards in name order, rows in file
 * order). A problem counts for an arm when all its k samples have one;
 * the others are reported as "missing".
 *
 * Definitions (problems in byte order of their ids, everywhere):
 *  - accuracy: share of problems whose sample 0 is correct (greedy when the
 *    temperature is 0).
 *  - ci95: percentile bootstrap over problems: B = eval.bootstrap resamples
 *    of n problems drawn with replacement by tkd_rng_below(n) from a
 *    tkd_rng seeded with seed ^ tkd_hash64("tkd-eval-ci\nARM\nBENCH\nGROUP")
 *    (GROUP: "", "subject=S" or "level=L"); the resample means sorted; the
 *    bounds are the 2.5% and 97.5% quantiles with linear interpolation
 *    (numpy's default: pos = q (B-1)).
 *  - pass@k: Chen et al. (2021), per problem with n = k samples and c
 *    correct: 1 when n - c < k', else 1 - prod_{i=n-c+1..n} (1 - k'/i)
 *    (in that order); averaged over problems. k' runs over 1, 2, 4, ... < k
 *    and k.
 *  - maj@k': the samples 0..k'-1 with an answer vote; answers are clustered
 *    in sample order: an answer joins the first cluster whose first answer,
 *    taken as the gold, tkd_grade_equal finds equal to it, else starts a
 *    cluster. The largest cluster wins; a tie goes to the cluster formed
 *    first (its first answer came from the lowest sample index). Correct
 *    when that first answer's sample is correct; no vote at all: wrong.
 *  - mean_response_tokens: completion tokens over every counted sample;
 *    length_share / no_answer_share: shares of counted samples with status
 *    length / no_answer.
 *  - pairs (a, b) per benchmark (a before b in eval.arms), over problems
 *    counted for both arms: diff = (correct_b - correct_a) / n on sample 0
 *    (the second arm minus the first: base then tuned gives the gain); ci95
 *    by the paired bootstrap
 *    (one draw of problems for both arms; seed ^
 *    tkd_hash64("tkd-eval-pair\nA\nB\nBENCH")); the exact two-sided McNemar
 *    p-value min(1, 2 P[X <= min(n01, n10)]), X ~ Binomial(n01 + n10, 1/2)
 *    (1 when the arms never disagree).
 */
#include "eval_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct smp {
    int present;
    uint8_t status, correct;
    uint64_t tokens;
    char *answer; /* extracted answer or NULL */
} smp;

typedef struct mctx {
    eval_ctx *x;
    smp *s; /* (n_items) */
    struct pidmap {
        uint64_t pid;
        uint64_t base; /* eval_item(arm, prob, 0) */
    } * map;
    size_t n_map;
    char **shards; /* the shards rows came from, in scan order */
    size_t n_shards;
    struct row {
        tkd_record rec;
        size_t shard;
        uint64_t item; /* index into s */
    } * rows;
    size_t n_rows, cap_rows;
    tkd_err *e;
} mctx;

static int by_pid(const void *a, const void *b) {
    uint64_t x = ((const struct pidmap *)a)->pid, y = ((const struct pidmap *)b)->pid;
    return x < y ? -1 : x > y;
}

/* The first verified final record of each sample counts; its answer is read
 * from its text. */
static int read_row(void *ctx, const char *shard, const tkd_record *rec, const char *text, size_t len) {
    (void)shard;
    mctx *m = ctx;
    if (rec->phase != TKD_PHASE_EVAL || !tkd_status_is_final(rec->status) || rec->sample >= (uint32_t)m->x->k)
        return 0;
    struct pidmap key = {rec->pid, 0}, *hit = bsearch(&key, m->map, m->n_map, sizeof key, by_pid);
    if (!hit)
        return 0; /* an arm or problem this job no longer names */
    smp *s = &m->s[hit->base + rec->sample];
    if (s->present)
        return 0; /* the first final record counts */
    json_t *doc = json_loadb(text, len, 0, NULL);
    const char *ans = json_string_value(json_object_get(doc, "answer"));
    s->present = 1;
    s->status = rec->status;
    s->correct = (rec->flags & TKD_F_CORRECT) != 0;
    s->tokens = rec->completion_tokens;
    s->answer = ans ? strdup(ans) : NULL;
    json_decref(doc);
    return ans && !s->answer ? tkd_err_set(m->e, TKD_ENOMEM, "out of memory") : 0;
}

/* ---- the statistics ---- */

static double quantile(const double *sorted, int n, double q) {
    double pos = q * (double)(n - 1);
    int i = (int)floor(pos);
    double f = pos - (double)i;
    return i + 1 < n ? sorted[i] + (sorted[i + 1] - sorted[i]) * f : sorted[i];
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile bootstrap of the mean of v (n values; w: a second series for a
 * paired difference, or NULL). */
static int bootstrap(const double *v, const double *w, int n, int B, uint64_t seed, double ci[2], tkd_err *e) {
    ci[0] = ci[1] = 0;
    if (n == 0)
        return 0;
    double *means = tkd_malloc(sizeof(double) * (size_t)B, e);
    if (!means)
        return TKD_ENOMEM;
    tkd_rng r;
    tkd_rng_seed(&r, seed);
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            uint64_t j = tkd_rng_below(&r, (uint64_t)n);
            s += w ? w[j] - v[j] : v[j]; /* paired: the second series minus the first */
        }
        means[b] = s / n;
    }
    qsort(means, (size_t)B, sizeof *means, cmp_double);
    ci[0] = quantile(means, B, 0.025);
    ci[1] = quantile(means, B, 0.975);
    free(means);
    return 0;
}

static uint64_t label_seed(uint64_t run_seed, const char *a, const char *b, const char *c, const char *d) {
    tkd_buf t;
    tkd_buf_init(&t);
    uint64_t h = 0;
    if (!tkd_buf_printf(&t, "%s\n%s\n%s\n%s", a, b, c, d))
        h = tkd_hash64(t.data, t.len);
    tkd_buf_free(&t);
    return run_seed ^ h;
}

static double pass_at_k(int n, int c, int k) {
    if (n - c < k)
        return 1.0;
    double p = 1.0;
    for (int i = n - c + 1; i <= n; i++)
        p *= 1.0 - (double)k / (double)i;
    return 1.0 - p;
}

/* Exact two-sided McNemar p-value for discordant counts b and c. */
double eval_mcnemar_p(long b, long c);
double eval_mcnemar_p(long b, long c) {
    long m = b + c, lo = b < c ? b : c;
    if (m == 0)
        return 1.0;
    long double term = ldexpl(1.0L, (int)-m), sum = 0; /* P[X = 0]; long double reaches 2^-16445 */
    if (m > 16000) {
        double s = 0;
        for (long i = 0; i <= lo; i++)
            s += exp(lgamma((double)m + 1) - lgamma((double)i + 1) - lgamma((double)(m - i) + 1) - (double)m * M_LN2);
        return s * 2 < 1 ? s * 2 : 1.0;
    }
    for (long i = 0; i <= lo; i++) {
        sum += term;
        term = term * (long double)(m - i) / (long double)(i + 1);
    }
    double p = (double)(2 * sum);
    return p < 1 ? p : 1.0;
}

/* maj@kk of one problem: samples s[0..kk), clusters as described above. */
static int majority(eval_ctx *x, const smp *s, int kk, int *rep, int *cnt) {
    int nc = 0; /* cluster j: rep[j] its first sample, cnt[j] its votes */
    for (int i = 0; i < kk; i++) {
        if (!s[i].answer)
            continue;
        int j = 0;
        for (; j < nc; j++) {
            tkd_grade_verdict v;
            if (!strcmp(s[rep[j]].answer, s[i].answer))
                break;
            if (tkd_grade_equal(s[rep[j]].answer, s[i].answer, &x->gopts, &v) == 0 && v.result == TKD_GRADE_EQUAL)
                break;
        }
        if (j == nc) {
            rep[nc] = i;
            cnt[nc++] = 0;
        }
        cnt[j]++;
    }
    int best = -1;
    for (int j = 0; j < nc; j++)
        if (best < 0 || cnt[j] > cnt[best])
            best = j;
    return best >= 0 && s[rep[best]].correct;
}

typedef struct group_res {
    int n, missing;
    double acc, ci[2], mean_tokens, length_share, no_answer_share;
    double pass[32], maj[32];
} group_res;

static int ks_of(int k, int *ks) {
    int n = 0;
    for (int v = 1; v < k; v *= 2)
        ks[n++] = v;
    ks[n++] = k;
    return n;
}

typedef struct byid {
    const char *id;
    size_t idx;
} byid;

static int idcmp(const void *a, const void *b) {
    return strcmp(((const byid *)a)->id, ((const byid *)b)->id);
}

/* Metrics of one arm over a list of problems (sorted by id), complete or not. */
static int group_metrics(mctx *m, int arm, const size_t *probs, int n, const char *bench, const char *label,
                         json_t **out, group_res *g, tkd_err *e) {
    eval_ctx *x = m->x;
    int ks[32], nk = ks_of(x->k, ks), rc = 0;
    memset(g, 0, sizeof *g);
    double *v = tkd_malloc(sizeof(double) * (size_t)(n ? n : 1), e);
    int *rep = tkd_malloc(sizeof(int) * 2 * (size_t)x->k, e);
    if (!v || !rep) {
        free(v);
        free(rep);
        return TKD_ENOMEM;
    }
    uint64_t tok = 0, cut = 0, noans = 0, right0 = 0;
    for (int i = 0; i < n; i++) {
        const smp *s = &m->s[eval_item(x, arm, probs[i], 0)];
        int all = 1, c = 0;
        for (int j = 0; j < x->k; j++)
            all &= s[j].present;
        if (!all) {
            g->missing++;
            continue;
        }
        for (int j = 0; j < x->k; j++) {
            c += s[j].correct;
            tok += s[j].tokens;
            cut += s[j].status == TKD_ST_LENGTH;
            noans += s[j].status == TKD_ST_NO_ANSWER;
        }
        v[g->n++] = s[0].correct;
        right0 += s[0].correct;
        for (int q = 0; q < nk; q++) {
            g->pass[q] += pass_at_k(x->k, c, ks[q]);
            g->maj[q] += majority(x, s, ks[q], rep, rep + x->k);
        }
    }
    if (g->n) {
        double ns = (double)g->n * x->k;
        g->acc = (double)right0 / g->n;
        g->mean_tokens = (double)tok / ns;
        g->length_share = (double)cut / ns;
        g->no_answer_share = (double)noans / ns;
        for (int q = 0; q < nk; q++) {
            g->pass[q] /= g->n;
            g->maj[q] /= g->n;
        }
    }
    rc = bootstrap(v, NULL, g->n, (int)tkd_job_int(x->job, "eval.bootstrap"),
                   label_seed(x->run_seed, "tkd-eval-ci", x->arms[arm].name, bench, label), g->ci, e);
    free(v);
    free(rep);
    if (rc)
        return rc;
    json_t *pk = json_object(), *mk = json_object();
    for (int q = 0; q < nk; q++) {
        char key[16];
        snprintf(key, sizeof key, "%d", ks[q]);
        json_object_set_new(pk, key, json_real(g->pass[q]));
        json_object_set_new(mk, key, json_real(g->maj[q]));
    }
    *out = json_pack("{s:i, s:i, s:i, s:f, s:[f,f], s:o, s:o, s:f, s:f, s:f}", "n", g->n, "missing", g->missing,
                     "samples", x->k, "accuracy", g->acc, "ci95", g->ci[0], g->ci[1], "pass@k", pk, "maj@k", mk,
                     "mean_response_tokens", g->mean_tokens, "length_share", g->length_share, "no_answer_share",
                     g->no_answer_share);
    return *out ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
}

/* by_subject / by_level of one arm and benchmark: groups in name / level order */
static int subgroups(mctx *m, int arm, const eval_bench *b, const size_t *probs, int n, int by_level, json_t *dst,
                     tkd_err *e) {
    size_t *sub = tkd_malloc(sizeof(size_t) * (size_t)(n ? n : 1), e);
    if (!sub)
        return TKD_ENOMEM;
    json_t *obj = json_object();
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        const tkd_problem *p = &m->x->probs.items[probs[i]];
        char key[160];
        if (by_level ? p->level <= 0 : !p->subject || !*p->subject)
            continue;
        if (by_level)
            snprintf(key, sizeof key, "%d", p->level);
        else
            snprintf(key, sizeof key, "%s", p->subject);
        if (json_object_get(obj, key))
            continue;
        int ns = 0;
        for (int j = i; j < n; j++) {
            const tkd_problem *q = &m->x->probs.items[probs[j]];
            if (by_level ? q->level == p->level : q->subject && !strcmp(q->subject, p->subject))
                sub[ns++] = probs[j];
        }
        char label[200];
        snprintf(label, sizeof label, "%s=%s", by_level ? "level" : "subject", key);
        json_t *res = NULL;
        group_res g;
        if (!(rc = group_metrics(m, arm, sub, ns, b->name, label, &res, &g, e)))
            json_object_set_new(obj, key, res);
    }
    free(sub);
    if (!rc && json_object_size(obj))
        json_object_set(dst, by_level ? "by_level" : "by_subject", obj);
    json_decref(obj);
    return rc;
}

static int pair_metrics(mctx *m, int a, int b, const eval_bench *bb, const size_t *probs, int n, json_t *pairs,
                        tkd_err *e) {
    eval_ctx *x = m->x;
    double *va = tkd_malloc(sizeof(double) * (size_t)(2 * n + 1), e), *vb = va ? va + n : NULL;
    if (!va)
        return TKD_ENOMEM;
    int c = 0;
    long sa = 0, sb = 0, n10 = 0, n01 = 0;
    for (int i = 0; i < n; i++) {
        const smp *s = &m->s[eval_item(x, a, probs[i], 0)], *t = &m->s[eval_item(x, b, probs[i], 0)];
        int all = 1;
        for (int j = 0; j < x->k; j++)
            all &= s[j].present && t[j].present;
        if (!all)
            continue;
        va[c] = s[0].correct;
        vb[c++] = t[0].correct;
        sa += s[0].correct;
        sb += t[0].correct;
        n10 += s[0].correct && !t[0].correct;
        n01 += !s[0].correct && t[0].correct;
    }
    double ci[2];
    int rc = bootstrap(va, vb, c, (int)tkd_job_int(x->job, "eval.bootstrap"),
                       label_seed(x->run_seed, "tkd-eval-pair", x->arms[a].name, x->arms[b].name, bb->name), ci, e);
    free(va);
    if (rc)
        return rc;
    json_t *p = json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:f, s:[f,f], s:i, s:i, s:f}", "a", x->arms[a].name, "b",
                          x->arms[b].name, "benchmark", bb->name, "n", c, "accuracy_a", c ? (double)sa / c : 0.0,
                          "accuracy_b", c ? (double)sb / c : 0.0, "diff", c ? (double)(sb - sa) / c : 0.0, "ci95",
                          ci[0], ci[1], "a_only", (int)n10, "b_only", (int)n01, "mcnemar_p", eval_mcnemar_p(n10, n01));
    return p && !json_array_append_new(pairs, p) ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
}

static void print_table(eval_ctx *x, json_t *res) {
    char pk[16];
    snprintf(pk, sizeof pk, "%d", x->k);
    printf("%-16s %-14s %6s %8s %17s %9s %9s %9s %7s\n", "arm", "benchmark", "n", "acc %", "95% CI", "pass@k", "maj@k",
           "tokens", "cut %");
    for (int a = 0; a < x->n_arms; a++)
        for (int b = 0; b < x->n_benches; b++) {
            json_t *arm = json_object_get(json_object_get(res, "arms"), x->arms[a].name);
            json_t *g = json_object_get(json_object_get(arm, "benchmarks"), x->benches[b].name);
            if (!g)
                continue;
            json_t *ci = json_object_get(g, "ci95");
            printf("%-16s %-14s %6lld %8.1f   [%5.1f, %5.1f] %9.3f %9.3f %9.1f %7.1f%s\n", x->arms[a].name,
                   x->benches[b].name, json_integer_value(json_object_get(g, "n")),
                   100 * json_real_value(json_object_get(g, "accuracy")), 100 * json_real_value(json_array_get(ci, 0)),
                   100 * json_real_value(json_array_get(ci, 1)),
                   json_real_value(json_object_get(json_object_get(g, "pass@k"), pk)),
                   json_real_value(json_object_get(json_object_get(g, "maj@k"), pk)),
                   json_real_value(json_object_get(g, "mean_response_tokens")),
                   100 * json_real_value(json_object_get(g, "length_share")),
                   json_integer_value(json_object_get(g, "missing")) ? "  (some problems missing)" : "");
        }
    json_t *pairs = json_object_get(res, "pairs"), *p;
    size_t i;
    if (json_array_size(pairs))
        printf("\n%-33s %-14s %6s %9s %19s %6s %6s %10s\n", "pair (b - a)", "benchmark", "n", "diff pp", "95% CI",
               "a only", "b only", "McNemar p");
    json_array_foreach(pairs, i, p) {
        char name[128];
        snprintf(name, sizeof name, "%s - %s", json_string_value(json_object_get(p, "b")),
                 json_string_value(json_object_get(p, "a")));
        json_t *ci = json_object_get(p, "ci95");
        printf("%-33s %-14s %6lld %+9.1f   [%+6.1f, %+6.1f] %6lld %6lld %10.4g\n", name,
               json_string_value(json_object_get(p, "benchmark")), json_integer_value(json_object_get(p, "n")),
               100 * json_real_value(json_object_get(p, "diff")), 100 * json_real_value(json_array_get(ci, 0)),
               100 * json_real_value(json_array_get(ci, 1)), json_integer_value(json_object_get(p, "a_only")),
               json_integer_value(json_object_get(p, "b_only")), json_real_value(json_object_get(p, "mcnemar_p")));
    }
}

static int write_json(const char *dir, json_t *res, char **path_out, tkd_err *e) {
    tkd_buf p, t;
    tkd_buf_init(&p);
    tkd_buf_init(&t);
    int rc = tkd_mkdirs(dir, e);
    if (!rc && (tkd_buf_printf(&p, "%s/results.json", dir) || tkd_buf_printf(&t, "%s.tmp.%ld", p.data, (long)getpid())))
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (!rc && json_dump_file(res, t.data, JSON_INDENT(1) | JSON_REAL_PRECISION(17)))
        rc = tkd_err_set(e, TKD_EIO, "cannot write '%s'", t.data);
    if (!rc && rename(t.data, p.data))
        rc = tkd_err_set(e, TKD_EIO, "cannot rename '%s' to '%s'", t.data, p.data);
    if (rc && t.data)
        unlink(t.data);
    tkd_buf_free(&t);
    *path_out = rc ? NULL : tkd_buf_steal(&p);
    tkd_buf_free(&p);
    return rc;
}

static int compute(mctx *m, json_t *res, tkd_err *e) {
    eval_ctx *x = m->x;
    json_t *arms = json_object(), *pairs = json_array();
    json_object_set_new(res, "arms", arms);
    json_object_set_new(res, "pairs", pairs);
    int rc = 0;
    for (int b = 0; b < x->n_benches && !rc; b++) {
        const eval_bench *bb = &x->benches[b];
        int n = (int)bb->n;
        size_t *probs = tkd_malloc(sizeof(size_t) * (bb->n ? bb->n : 1), e);
        byid *ids = tkd_malloc(sizeof(byid) * (bb->n ? bb->n : 1), e);
        if (!probs || !ids) {
            free(probs);
            free(ids);
            return TKD_ENOMEM;
        }
        for (int i = 0; i < n; i++)
            ids[i] = (byid){x->probs.items[bb->first + (size_t)i].id, bb->first + (size_t)i};
        qsort(ids, bb->n, sizeof *ids, idcmp);
        for (int i = 0; i < n; i++)
            probs[i] = ids[i].idx;
        free(ids);
        for (int a = 0; a < x->n_arms && !rc; a++) {
            json_t *arm = json_object_get(arms, x->arms[a].name);
            if (!arm) {
                arm = json_pack("{s:s, s:s, s:s, s:{}}", "engine", x->arms[a].engine, "mode", x->arms[a].mode, "model",
                                x->arms[a].model, "benchmarks");
                json_object_set_new(arms, x->arms[a].name, arm);
            }
            json_t *g = NULL;
            group_res gr;
            if ((rc = group_metrics(m, a, probs, n, bb->name, "", &g, &gr, e)))
                break;
            json_object_set_new(json_object_get(arm, "benchmarks"), bb->name, g);
            if (!(rc = subgroups(m, a, bb, probs, n, 0, g, e)))
                rc = subgroups(m, a, bb, probs, n, 1, g, e);
        }
        for (int a = 0; a < x->n_arms && !rc; a++)
            for (int c = a + 1; c < x->n_arms && !rc; c++)
                rc = pair_metrics(m, a, c, bb, probs, n, pairs, e);
        free(probs);
    }
    return rc;
}

int tkd_eval_metrics(const tkd_job *job, int print, tkd_err *e) {
    eval_ctx x;
    memset(&x, 0, sizeof x);
    x.job = job;
    tkd_problem_set_init(&x.probs);
    mctx m = {.x = &x, .e = e};
    json_t *res = NULL;
    char *out = NULL;
    tkd_buf b;
    tkd_buf_init(&b);
    int rc = eval_setup(&x, e);
    if (!rc && (tkd_buf_printf(&b, "%s/shards/eval", tkd_job_str(job, "output_dir")) || !(x.dir = tkd_buf_steal(&b))))
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (!rc) {
        m.s = tkd_calloc(x.n_items ? x.n_items : 1, sizeof *m.s, e);
        m.n_map = (size_t)x.n_arms * x.probs.n;
        m.map = tkd_calloc(m.n_map ? m.n_map : 1, sizeof *m.map, e);
        if (!m.s || !m.map)
            rc = TKD_ENOMEM;
    }
    for (int a = 0; !rc && a < x.n_arms; a++)
        for (size_t p = 0; p < x.probs.n; p++)
            m.map[(size_t)a * x.probs.n + p] =
                (struct pidmap){eval_pid(x.arms[a].name, x.probs.items[p].id), eval_item(&x, a, p, 0)};
    if (!rc) {
        qsort(m.map, m.n_map, sizeof *m.map, by_pid);
        rc = tkd_store_scan_dir_text(x.dir, read_row, &m, e);
        if (rc)
            tkd_err_wrap(e, "eval: reading the records in '%s'", x.dir);
    }
    if (!rc) {
        res = json_pack("{s:i, s:i, s:I, s:f, s:f, s:i}", "k", x.k, "bootstrap",
                        (int)tkd_job_int(job, "eval.bootstrap"), "seed", (json_int_t)x.run_seed, "temperature",
                        x.temperature, "top_p", x.top_p, "max_new_tokens", x.max_new);
        rc = res ? compute(&m, res, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        json_t *sweep = tkd_job_get(job, "sweep"); /* a sweep's arm and its keys */
        if (!rc && json_object_size(sweep))
            json_object_set_new(res, "sweep", json_deep_copy(sweep));
    }
    tkd_buf_reset(&b);
    if (!rc && tkd_buf_printf(&b, "%s/eval", tkd_job_str(job, "output_dir")))
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (!rc)
        rc = write_json(b.data, res, &out, e);
    if (!rc && print) {
        print_table(&x, res);
        printf("\n(results: %s)\n", out);
        fflush(stdout);
    }
    for (size_t i = 0; m.s && i < x.n_items; i++)
        free(m.s[i].answer);
    free(m.s);
    free(m.map);
    free(out);
    json_decref(res);
    tkd_buf_free(&b);
    eval_ctx_free(&x);
    return rc;
}
