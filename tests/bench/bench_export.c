/*
 * The export phase's benchmark: stores of N solve traces and N
 * back-translation records (N/4 problems made from the real MATH train
 * problems, 4 samples each, in the shapes the solver and the bt phase write),
 * then `tkd export` of all three variants with decontamination against every
 * benchmark file given (MATH500, AIME, GSM8K, MATH test), timed in this
 * process on one core: records/s. bench_export.sh compares it with the plain
 * JSONL dump of the same stores and a Python pass over that dump.
 *   bench_export N OUTDIR MATH_TRAIN_DIR [TOKENIZER] -- BENCH_FILE...
 */
#include "tkd/data.h"
#include "tkd/phases.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char SOLVER_SYSTEM[] =
    "You are an expert mathematician who solves competition problems step by step with an exact symbolic toolkit. The "
    "toolkit computes exactly: use it for every non-trivial calculation (algebra, equations, calculus, matrices, "
    "number theory, counting) instead of computing by hand.\n\nHow to work:\n1. Plan: understand what is asked and "
    "decide which quantities to compute.\n2. Execute: call the tools for the computations.\n3. Reflect on each "
    "result.\n4. Refine: when a tool returns an error, read its message, fix the arguments and try again.\n5. "
    "Conclude: state the answer once as \\boxed{ANSWER}.";

static void die(const char *what, const tkd_err *e) {
    fprintf(stderr, "bench_export: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static tkd_store *create(const char *dir, const char *name, tkd_phase ph) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove(path);
    tkd_store_meta meta = {.phase = ph, .job_text = "{}", .manifest_json = "{}"};
    tkd_store *s = NULL;
    tkd_err e = {0};
    if (tkd_store_create(path, &meta, &s, &e))
        die(path, &e);
    tkd_store_set_flush_every(s, 4096);
    return s;
}

static void put(tkd_store *s, uint64_t pid, int sample, tkd_phase ph, int status, json_t *j) {
    char *t = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    tkd_record r;
    memset(&r, 0, sizeof r);
    r.pid = pid;
    r.sample = (uint32_t)sample;
    r.phase = (uint8_t)ph;
    r.status = (uint8_t)status;
    tkd_err e = {0};
    if (!t || tkd_store_append(s, &r, t, strlen(t), &e))
        die("append", &e);
    free(t);
    json_decref(j);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: bench_export N OUTDIR MATH_TRAIN_DIR [TOKENIZER] -- BENCH_FILE...\n");
        return 2;
    }
    long n = atol(argv[1]);
    const char *out = argv[2], *tokpath = strcmp(argv[4], "--") ? argv[4] : NULL;
    int first_bench = tokpath ? 6 : 5;
    tkd_err e = {0};
    tkd_problem_set base;
    tkd_problem_set_init(&base);
    tkd_data_stats ds = {0};
    tkd_data_opts o = {.format = TKD_DATA_MATH};
    tkd_log_set_level(TKD_LOG_ERROR);
    if (tkd_data_load(argv[3], &o, &base, &ds, &e) || !base.n)
        die(argv[3], &e);
    tkd_mkdirs(out, &e);
    double t0 = tkd_now();
    long np = n / 4;
    tkd_store *ps = create(out, "problems.h5", TKD_PHASE_PROBLEM), *ss = create(out, "solve.h5", TKD_PHASE_SOLVE),
              *bs = create(out, "backtranslate.h5", TKD_PHASE_BACKTRANSLATE);
    for (long i = 0; i < np; i++) {
        const tkd_problem *b = &base.items[i % (long)base.n];
        char id[64], text[16384];
        snprintf(id, sizeof id, "bench/%06ld", i);
        if (i < (long)base.n)
            snprintf(text, sizeof text, "%s", b->problem);
        else
            snprintf(text, sizeof text, "%s (Variant %ld of this problem.)", b->problem, i / (long)base.n);
        tkd_problem p = {.id = id,
                         .pid = tkd_hash64(id, strlen(id)),
                         .source = "bench",
                         .subject = b->subject,
                         .level = b->level,
                         .problem = text,
                         .solution = b->solution,
                         .answer = b->answer};
        char *pj = tkd_problem_to_json(&p);
        tkd_record r;
        memset(&r, 0, sizeof r);
        r.pid = p.pid;
        r.phase = TKD_PHASE_PROBLEM;
        if (!pj || tkd_store_append(ps, &r, pj, strlen(pj), &e))
            die("problems", &e);
        free(pj);
        const char *ans = b->answer ? b->answer : "0";
        char pid[17];
        snprintf(pid, sizeof pid, "%016llx", (unsigned long long)p.pid);
        for (int s = 0; s < 4; s++) {
            int correct = s < 3 || i % 3 == 0;
            char final[512], user[17000], sol[4096], args[256];
            snprintf(final, sizeof final,
                     "The toolkit confirms the value. Checking it against the conditions of the problem once more, "
                     "every step holds, so the answer is \\boxed{%s}.",
                     correct ? ans : "-1");
            snprintf(user, sizeof user, "Problem: %s\n\nBefore solving, write a short plan.", text);
            snprintf(args, sizeof args, "{\"expression\": \"(%ld + %d) * 2\"}", i, s);
            json_t *msgs = json_pack(
                "[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s,s:[{s:s,s:s,s:{s:s,s:s}}]},{s:s,s:s,s:s,s:s},"
                "{s:s,s:s}]",
                "role", "system", "content", SOLVER_SYSTEM, "role", "user", "content", user, "role", "assistant",
                "content",
                s % 2 ? "Plan: simplify the expression with the toolkit, then read off the answer."
                      : "Plan: compute the key quantity exactly, check it, then box it.",
                "role", "user", "content", "Now carry out your plan.", "role", "assistant", "content", "Computing.",
                "tool_calls", "id", "call_0", "type", "function", "function", "name", "simplify_expression",
                "arguments", args, "role", "tool", "tool_call_id", "call_0", "name", "simplify_expression", "content",
                "{\"result\":\"42\"}", "role", "assistant", "content", final);
            json_t *calls =
                json_pack("[{s:i,s:s,s:s,s:s,s:s,s:s,s:f}]", "turn", 2, "id", "call_0", "name", "simplify_expression",
                          "arguments", args, "result", "{\"result\":\"42\"}", "status", "ok", "seconds", 0.001);
            json_t *sj = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:i,s:i,s:o,s:O}", "id", id, "pid", pid, "sample", s,
                                   "status", correct ? "correct" : "wrong", "answer", correct ? ans : "-1", "gold", ans,
                                   "turns", 3, "tool_calls", 1, "messages", msgs, "calls", calls);
            put(ss, p.pid, s, TKD_PHASE_SOLVE, correct ? TKD_ST_CORRECT : TKD_ST_WRONG, sj);
            /* the back-translation of the same trace */
            snprintf(sol, sizeof sol,
                     "%s We first restate what is asked and name the quantity to compute. Expanding (%ld + %d) * 2 "
                     "by hand gives %ld, and simplifying the expression step by step, collecting like terms and "
                     "cancelling the common factors, leaves the value we need. %s Checking the result against every "
                     "condition of the problem confirms it, so the answer is $\\boxed{%s}$.",
                     s % 2 ? "Let us work it out." : "We solve it directly.", i, s, 2 * (i + s),
                     s == 2 ? "A second check by substitution agrees." : "", correct ? ans : "-1");
            int st = correct ? (s == 3 ? TKD_ST_PARTIAL : TKD_ST_ACCEPTED) : TKD_ST_REPHRASE_WRONG;
            json_t *bj = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:O,s:s,s:s}", "id", id, "pid", pid, "sample", s,
                                   "source_status", correct ? "correct" : "wrong", "problem", text, "gold", ans,
                                   "calls", calls, "solution", sol, "answer", correct ? ans : "-1");
            json_decref(calls);
            put(bs, p.pid, s, TKD_PHASE_BACKTRANSLATE, st, bj);
        }
    }
    if (tkd_store_close(ps, &e) || tkd_store_close(ss, &e) || tkd_store_close(bs, &e))
        die("close", &e);
    double tgen = tkd_now() - t0;
    /* the job */
    tkd_buf j;
    tkd_buf_init(&j);
    tkd_buf_printf(&j, "{\"output_dir\": \"%s\", \"eval\": {\"benchmarks\": [", out);
    for (int i = first_bench; i < argc; i++)
        tkd_buf_printf(&j, "%s{\"path\": \"%s\"}", i > first_bench ? ", " : "", argv[i]);
    tkd_buf_printf(&j, "]}, \"export\": {\"tir_tools\": \"used\", \"max_tokens\": %d%s%s%s}}", tokpath ? 4096 : 0,
                   tokpath ? ", \"tokenizer\": \"" : "", tokpath ? tokpath : "", tokpath ? "\"" : "");
    tkd_job job;
    if (tkd_job_load_text("bench-export.json", j.data, NULL, 0, &job, &e))
        die("job", &e);
    tkd_export_summary sum;
    double c0 = cpu_now();
    if (tkd_export_run(&job, &sum, &e))
        die("export", &e);
    double cpu = cpu_now() - c0;
    size_t recs = 0, kept = 0;
    for (int v = 0; v < sum.n; v++) {
        recs += sum.v[v].records_in;
        kept += sum.v[v].train + sum.v[v].valid;
    }
    printf("stores: %ld problems, %ld solve traces, %ld back-translations written in %.1f s\n", np, np * 4, np * 4,
           tgen);
    printf("| variant | records in | decontaminated | dedup | kept |\n|---|---:|---:|---:|---:|\n");
    for (int v = 0; v < sum.n; v++)
        printf("| %s | %zu | %zu | %zu | %zu |\n", sum.v[v].name, sum.v[v].records_in, sum.v[v].dropped[2],
               sum.v[v].dropped[6] + sum.v[v].dropped[7], sum.v[v].train + sum.v[v].valid);
    printf("EXPORT records=%zu traces=%ld wall_s=%.3f cpu_s=%.3f rate_wall=%.0f rate_cpu=%.0f bench_problems=%zu "
           "tokenizer=%s kept=%zu\n",
           recs, np * 4, sum.seconds, cpu, (double)recs / sum.seconds, (double)recs / cpu, sum.bench_problems,
           tokpath ? "yes" : "no", kept);
    tkd_job_free(&job);
    tkd_buf_free(&j);
    tkd_problem_set_free(&base);
    return 0;
}
