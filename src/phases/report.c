/*
 * The report (tkd report JOB.json): every number a run produced, gathered
 * from its stores and files into OUT/report/report.json, written out as
 * OUT/report/report.md with PNG plots beside it (gnuplot scripts in analysis/):
 *   - the data funnel: problems, solve traces by status, back-translation
 *     outcomes, exported examples;
 *   - solve statistics: accuracy by subject and level, turns and tool calls
 *     per trace, use and error rate per tool, why traces that are not correct
 *     failed, tokens (and cost, with report.*_usd_per_mtok);
 *   - back-translation acceptance per tool (the paper's table);
 *   - evaluation (OUT/eval/results.json): accuracy with its interval per arm
 *     and benchmark, paired tests, response length;
 *   - training curves (OUT/train/train_log.jsonl).
 * A part whose input is missing is left out with a line saying so. The
 * numbers are computed here once (report_data.c) and only formatted below.
 */
#include "report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static double ratio(json_int_t a, json_int_t b) {
    return b ? (double)a / (double)b : 0.0;
}

static void md_counts(tkd_buf *md, const char *title, json_t *by_status) {
    const char *k;
    json_t *v;
    tkd_buf_printf(md, "| %s | count |\n|---|---:|\n", title);
    json_object_foreach(by_status, k, v) tkd_buf_printf(md, "| %s | %lld |\n", k, (long long)json_integer_value(v));
    tkd_buf_puts(md, "\n");
}

static void md_funnel(tkd_buf *md, json_t *r) {
    static const char *const stages[][2] = {{"problems", "problems"},
                                            {"solve_traces", "solve traces"},
                                            {"solve_correct", "correct traces"},
                                            {"backtranslate_traces", "back-translated"},
                                            {"backtranslate_kept", "accepted (or partial)"}};
    json_t *f = json_object_get(r, "funnel");
    tkd_buf_puts(md, "## Data funnel\n\n![funnel](funnel.png)\n\n| stage | count |\n|---|---:|\n");
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        json_t *v = json_object_get(f, stages[i][0]);
        if (v)
            tkd_buf_printf(md, "| %s | %lld |\n", stages[i][1], (long long)json_integer_value(v));
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(f, "export"), k, v)
        tkd_buf_printf(md, "| exported `%s` (train + valid) | %lld |\n", k,
                       (long long)(json_integer_value(json_object_get(v, "train")) +
                                   json_integer_value(json_object_get(v, "valid"))));
    tkd_buf_puts(md, "\n");
}

static void md_solve(tkd_buf *md, json_t *s) {
    if (!s) {
        tkd_buf_puts(md, "## Solve\n\nNo merged solve store (OUT/solve.h5): run `tkd solve`.\n\n");
        return;
    }
    tkd_buf_puts(md, "## Solve\n\n");
    md_counts(md, "status", json_object_get(s, "by_status"));
    tkd_buf_printf(md, "Per trace: %.2f turns and %.2f tool calls on average. Tokens: %lld prompt, %lld completion",
                   json_real_value(json_object_get(s, "turns_mean")),
                   json_real_value(json_object_get(s, "tool_calls_mean")),
                   (long long)json_integer_value(json_object_get(s, "prompt_tokens")),
                   (long long)json_integer_value(json_object_get(s, "completion_tokens")));
    json_t *cost = json_object_get(s, "cost_usd");
    if (cost)
        tkd_buf_printf(md, " (cost: $%.2f)", json_real_value(cost));
    tkd_buf_puts(md, ".\n\n![accuracy by subject](solve_subject.png)\n\n");
    const char *groups[2] = {"by_subject", "by_level"}, *heads[2] = {"subject", "level"};
    for (int g = 0; g < 2; g++) {
        tkd_buf_printf(md, "| %s | samples | correct | accuracy |\n|---|---:|---:|---:|\n", heads[g]);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(s, groups[g]), k, v) {
            json_int_t n = json_integer_value(json_object_get(v, "samples")),
                       c = json_integer_value(json_object_get(v, "correct"));
            tkd_buf_printf(md, "| %s | %lld | %lld | %.1f%% |\n", k, (long long)n, (long long)c, 100 * ratio(c, n));
        }
        tkd_buf_puts(md, "\n");
    }
    tkd_buf_puts(md, "| tool | calls | errors | error rate |\n|---|---:|---:|---:|\n");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(s, "tools"), k, v) {
        json_int_t n = json_integer_value(json_object_get(v, "calls")),
                   x = json_integer_value(json_object_get(v, "errors"));
        tkd_buf_printf(md, "| %s | %lld | %lld | %.1f%% |\n", k, (long long)n, (long long)x, 100 * ratio(x, n));
    }
    tkd_buf_puts(md, "\nWhy the traces that are not correct failed:\n\n");
    md_counts(md, "reason", json_object_get(s, "failures"));
}

static void md_backtranslate(tkd_buf *md, json_t *b) {
    if (!b) {
        tkd_buf_puts(md, "## Back-translation\n\nNo merged back-translation store (OUT/backtranslate.h5).\n\n");
        return;
    }
    tkd_buf_puts(md, "## Back-translation\n\n");
    md_counts(md, "status", json_object_get(b, "by_status"));
    tkd_buf_puts(md, "Acceptance per tool (the paper's table):\n\n![acceptance per tool](bt_acceptance.png)\n\n"
                     "| tool | calls | accepted at first attempt | accepted after retries | rejected | kept as fact |\n"
                     "|---|---:|---:|---:|---:|---:|\n");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(b, "tools"), k, v) {
        json_int_t n = json_integer_value(json_object_get(v, "calls"));
        tkd_buf_printf(md, "| %s | %lld | %lld (%.1f%%) | %lld | %lld | %lld |\n", k, (long long)n,
                       (long long)json_integer_value(json_object_get(v, "first_attempt")),
                       100 * ratio(json_integer_value(json_object_get(v, "first_attempt")), n),
                       (long long)json_integer_value(json_object_get(v, "after_retries")),
                       (long long)json_integer_value(json_object_get(v, "rejected")),
                       (long long)json_integer_value(json_object_get(v, "kept_as_fact")));
    }
    tkd_buf_puts(md, "\n");
}

static void md_eval(tkd_buf *md, json_t *ev) {
    if (!ev) {
        tkd_buf_puts(md, "## Evaluation\n\nNo evaluation results (OUT/eval/results.json): run `tkd eval`.\n\n");
        return;
    }
    tkd_buf_puts(md, "## Evaluation\n\nAccuracy of the first sample, with its 95% bootstrap interval over "
                     "problems:\n\n![accuracy](eval_accuracy.png)\n\n| arm | benchmark | n | accuracy | 95% CI | "
                     "mean response tokens |\n|---|---|---:|---:|---|---:|\n");
    const char *arm, *bench;
    json_t *a, *bm;
    json_object_foreach(json_object_get(ev, "arms"), arm, a) json_object_foreach(json_object_get(a, "benchmarks"),
                                                                                  bench, bm) {
        json_t *ci = json_object_get(bm, "ci95");
        tkd_buf_printf(md, "| %s | %s | %lld | %.1f%% | [%.1f, %.1f] | %.0f |\n", arm, bench,
                       (long long)json_integer_value(json_object_get(bm, "n")),
                       100 * json_number_value(json_object_get(bm, "accuracy")),
                       100 * json_number_value(json_array_get(ci, 0)), 100 * json_number_value(json_array_get(ci, 1)),
                       json_number_value(json_object_get(bm, "mean_response_tokens")));
    }
    json_t *pairs = json_object_get(ev, "pairs");
    if (json_array_size(pairs)) {
        tkd_buf_puts(md, "\nPaired differences (second arm minus first), with the exact McNemar p-value:\n\n"
                         "| arms | benchmark | difference | 95% CI | p |\n|---|---|---:|---|---:|\n");
        size_t i;
        json_t *p;
        json_array_foreach(pairs, i, p) {
            json_t *ci = json_object_get(p, "ci95");
            tkd_buf_printf(md, "| %s vs %s | %s | %+.1f | [%.1f, %.1f] | %.3g |\n",
                           json_string_value(json_object_get(p, "a")), json_string_value(json_object_get(p, "b")),
                           json_string_value(json_object_get(p, "benchmark")),
                           100 * json_number_value(json_object_get(p, "diff")),
                           100 * json_number_value(json_array_get(ci, 0)),
                           100 * json_number_value(json_array_get(ci, 1)),
                           json_number_value(json_object_get(p, "mcnemar_p")));
        }
    }
    tkd_buf_puts(md, "\nResponse length by arm and benchmark (over-reasoning shows here):\n\n"
                     "![response tokens](eval_tokens.png)\n\n");
}

static void md_train(tkd_buf *md, json_t *t) {
    if (!t) {
        tkd_buf_puts(md, "## Training\n\nNo training log (OUT/train/train_log.jsonl): run `tkd train`.\n\n");
        return;
    }
    tkd_buf_printf(md, "## Training\n\n%lld steps; loss %.4f at the first step, %.4f at the last.\n\n"
                       "![training loss](train_loss.png)\n\n",
                   (long long)json_integer_value(json_object_get(t, "steps")),
                   json_real_value(json_object_get(t, "first_loss")), json_real_value(json_object_get(t, "last_loss")));
}

int tkd_phase_report(const tkd_job *job, tkd_err *e) {
    const char *out = tkd_job_str(job, "output_dir");
    tkd_buf dir, md;
    tkd_buf_init(&dir);
    tkd_buf_init(&md);
    json_t *r = NULL;
    int rc = 0;
    if (tkd_buf_printf(&dir, "%s/report", out)) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = tkd_mkdirs(dir.data, e)) || (rc = report_gather(job, &r, e)))
        goto done;
    char *text = json_dumps(r, JSON_INDENT(1) | JSON_SORT_KEYS);
    tkd_buf p;
    tkd_buf_init(&p);
    if (!text || tkd_buf_printf(&p, "%s/report.json", dir.data)) {
        free(text);
        tkd_buf_free(&p);
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto done;
    }
    rc = tkd_file_write_atomic(p.data, text, strlen(text), e);
    free(text);
    tkd_buf_free(&p);
    if (rc)
        goto done;
    const char *name = tkd_job_str(job, "name");
    tkd_buf_printf(&md, "# Report: %s\n\nOutput folder `%s`; job `%s` (sha256 %.12s). Every number below is in "
                        "`report.json`.\n\n",
                   name, out, job->path ? job->path : "", job->sha256);
    md_funnel(&md, r);
    md_solve(&md, json_object_get(r, "solve"));
    md_backtranslate(&md, json_object_get(r, "backtranslate"));
    md_eval(&md, json_object_get(r, "eval"));
    md_train(&md, json_object_get(r, "train"));
    if ((rc = report_plots(r, dir.data, &md, e)))
        goto done;
    tkd_buf_reset(&p);
    if (tkd_buf_printf(&p, "%s/report.md", dir.data)) {
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        tkd_buf_free(&p);
        goto done;
    }
    rc = tkd_file_write_atomic(p.data, md.data, md.len, e);
    if (!rc)
        tkd_log_info("report: %s (plots and report.json beside it)", p.data);
    tkd_buf_free(&p);
done:
    json_decref(r);
    tkd_buf_free(&dir);
    tkd_buf_free(&md);
    return rc;
}

/* The report of a sweep: one row per arm (its keys, then accuracy per
 * benchmark and the last training loss), from each arm's own report. */
int tkd_phase_report_sweep(const char *plan_path, tkd_err *e) {
    json_error_t je;
    json_t *plan = json_load_file(plan_path, 0, &je), *rows = json_array();
    if (!plan) {
        json_decref(rows);
        return tkd_err_set(e, TKD_EINVAL, "%s: %s (line %d): not a sweep plan (tkd sweep writes DIR/sweep.json)",
                           plan_path, je.text, je.line);
    }
    tkd_buf md, p;
    tkd_buf_init(&md);
    tkd_buf_init(&p);
    json_t *benches = json_object();
    size_t i;
    json_t *arm;
    int rc = 0;
    json_array_foreach(json_object_get(plan, "arms"), i, arm) {
        tkd_job job;
        if ((rc = tkd_job_load(json_string_value(json_object_get(arm, "job")), NULL, 0, &job, e)))
            break;
        json_t *r = NULL;
        rc = report_gather(&job, &r, e);
        tkd_job_free(&job);
        if (rc)
            break;
        const char *a, *b;
        json_t *av, *bv;
        json_object_foreach(json_object_get(json_object_get(r, "eval"), "arms"), a, av)
            json_object_foreach(json_object_get(av, "benchmarks"), b, bv) json_object_set_new(benches, b, json_true());
        json_array_append_new(rows, json_pack("{s:O, s:O, s:o}", "name", json_object_get(arm, "name"), "set",
                                              json_object_get(arm, "set"), "report", r));
    }
    if (!rc) {
        tkd_buf_printf(&md, "# Sweep report: %s\n\nOne row per arm and eval arm: accuracy of the first sample "
                            "(95%% CI) per benchmark, and the last training loss.\n\n| arm | keys | eval arm |",
                       json_string_value(json_object_get(plan, "name")));
        const char *b;
        json_t *bv;
        json_object_foreach(benches, b, bv) tkd_buf_printf(&md, " %s |", b);
        tkd_buf_puts(&md, " last loss |\n|---|---|---|");
        json_object_foreach(benches, b, bv) tkd_buf_puts(&md, "---:|");
        tkd_buf_puts(&md, "---:|\n");
        json_t *row;
        json_array_foreach(rows, i, row) {
            json_t *r = json_object_get(row, "report"), *earms = json_object_get(json_object_get(r, "eval"), "arms");
            char *keys = json_dumps(json_object_get(row, "set"), JSON_COMPACT | JSON_SORT_KEYS);
            json_t *tr = json_object_get(r, "train");
            const char *a;
            json_t *av;
            int any = 0;
            json_object_foreach(earms, a, av) {
                any = 1;
                tkd_buf_printf(&md, "| %s | `%s` | %s |", json_string_value(json_object_get(row, "name")),
                               keys ? keys : "", a);
                json_object_foreach(benches, b, bv) {
                    json_t *bm = json_object_get(json_object_get(av, "benchmarks"), b), *ci = json_object_get(bm, "ci95");
                    if (bm)
                        tkd_buf_printf(&md, " %.1f [%.1f, %.1f] |", 100 * json_number_value(json_object_get(bm, "accuracy")),
                                       100 * json_number_value(json_array_get(ci, 0)),
                                       100 * json_number_value(json_array_get(ci, 1)));
                    else
                        tkd_buf_puts(&md, " |");
                }
                tkd_buf_printf(&md, tr ? " %.4f |\n" : " |\n", json_real_value(json_object_get(tr, "last_loss")));
            }
            if (!any)
                tkd_buf_printf(&md, "| %s | `%s` | (not evaluated yet) |\n", json_string_value(json_object_get(row, "name")),
                               keys ? keys : "");
            free(keys);
        }
        const char *slash = strrchr(plan_path, '/');
        tkd_buf_printf(&p, "%.*s%sreport", slash ? (int)(slash - plan_path) : 0, plan_path, slash ? "/" : "");
        rc = tkd_mkdirs(p.data, e);
        char *doc = json_dumps(rows, JSON_INDENT(1) | JSON_SORT_KEYS);
        tkd_buf_puts(&p, "/report.json");
        if (!rc)
            rc = doc ? tkd_file_write_atomic(p.data, doc, strlen(doc), e) : TKD_ENOMEM;
        free(doc);
        p.len -= strlen("report.json");
        tkd_buf_puts(&p, "report.md");
        if (!rc)
            rc = tkd_file_write_atomic(p.data, md.data, md.len, e);
        if (!rc)
            tkd_log_info("report: %s (%zu arms)", p.data, json_array_size(rows));
    }
    json_decref(plan);
    json_decref(rows);
    json_decref(benches);
    tkd_buf_free(&md);
    tkd_buf_free(&p);
    return rc;
}
