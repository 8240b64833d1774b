/*
 * The eval phase (see tkd/phases.h): setup on every rank, then one event
 * loop per rank. Each turn: serve dist, take (arm, problem, sample) items
 * while there is room (eval.max_in_flight), submit each to its arm's engine,
 * run the engines (network, or one batched forward pass), grade and write
 * every finished sample, flush and report what is durable, log progress. On
 * a stop: take no more items, let the samples in flight go on for
 * dist.grace_s, then close the shard (a re-run redoes what was left). When
 * every item is done, rank 0 writes OUT/eval/results.json (and the phase
 * runner merges the shards into OUT/eval.h5).
 */
#include "eval_int.h"
#include "runner.h"

#include "tkd/agents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *cookie_of(int si, uint32_t gen) {
    return (void *)(uintptr_t)(((uint64_t)gen << 32) | (uint32_t)si);
}

void eval_item_parts(const eval_ctx *x, uint64_t item, int *arm, size_t *prob, int *sample) {
    *sample = (int)(item % (uint64_t)x->k);
    uint64_t ap = item / (uint64_t)x->k;
    *prob = (size_t)(ap % x->probs.n);
    *arm = (int)(ap / x->probs.n);
}

/* Flush the shard and report the samples written since the last flush: dist
 * counts an item done only when its row survives a kill -9 of this rank. */
static int report_durable(eval_ctx *x, tkd_dist *d, int force, tkd_err *e) {
    double now = tkd_now();
    if (!x->n_unflushed || (!force && x->n_unflushed < x->n_slots_cap && now - x->last_flush < EVAL_FLUSH_S))
        return 0;
    int rc = tkd_store_flush(x->shard, e);
    if (rc)
        return tkd_err_wrap(e, "eval: flushing %s", tkd_store_path(x->shard));
    for (int i = 0; i < x->n_unflushed; i++)
        tkd_dist_complete(d, x->unflushed[i]);
    x->n_unflushed = 0;
    x->last_flush = now;
    return 0;
}

static json_t *prompt_messages(eval_ctx *x, const tkd_problem *p, tkd_err *e) {
    char *user = tkd_student_prompt_user(&x->sp, p->problem, e);
    if (!user)
        return NULL;
    json_t *m = json_array();
    if (m && x->sp.system)
        json_array_append_new(m, json_pack("{s:s, s:s}", "role", "system", "content", x->sp.system));
    if (m)
        json_array_append_new(m, json_pack("{s:s, s:s}", "role", "user", "content", user));
    free(user);
    if (!m || json_array_size(m) != (x->sp.system ? 2u : 1u)) {
        json_decref(m);
        tkd_err_set(e, TKD_ENOMEM, "eval: out of memory building a prompt");
        return NULL;
    }
    return m;
}

/* Grade a finished sample, write its record; it is reported after the next flush. */
static int sample_done(eval_ctx *x, tkd_dist *d, int si, eval_done *r, tkd_err *e) {
    eval_slot *sl = &x->slots[si];
    int arm, sample;
    size_t prob;
    eval_item_parts(x, sl->item, &arm, &prob, &sample);
    const tkd_problem *p = &x->probs.items[prob];
    const eval_bench *b = &x->benches[x->bench_of[prob]];
    tkd_record rec = {.pid = eval_pid(x->arms[arm].name, p->id),
                      .sample = (uint32_t)sample,
                      .phase = TKD_PHASE_EVAL,
                      .turns = 1,
                      .finished_at = tkd_wall_time()};
    rec.prompt_tokens = (uint64_t)(r->prompt_tokens > 0 ? r->prompt_tokens : 0);
    rec.completion_tokens = (uint64_t)(r->completion_tokens > 0 ? r->completion_tokens : 0);
    rec.latency_s = r->latency_s > 0 ? r->latency_s : tkd_now() - sl->t0;
    char *ans = NULL;
    tkd_grade_verdict v = {TKD_GRADE_DIFFERENT, ""};
    int cut = r->finish_reason && !strcmp(r->finish_reason, "length");
    if (r->outcome != EVAL_OK) {
        rec.status = r->outcome == EVAL_TRANSIENT ? TKD_ST_API_ERROR : TKD_ST_FAILED;
        snprintf(v.reason, sizeof v.reason, "%s", r->error ? r->error : "the engine gave no answer");
    } else {
        int xr = tkd_grade_extract(r->text ? r->text : "", b->extract, &ans, e);
        if (xr == TKD_ENOMEM)
            return tkd_err_wrap(e, "eval: extracting an answer");
        if (ans) {
            rec.flags |= TKD_F_HAS_ANSWER;
            if (tkd_grade_equal(p->answer, ans, &x->gopts, &v) == TKD_ENOMEM) {
                free(ans);
                return tkd_err_set(e, TKD_ENOMEM, "eval: out of memory grading");
            }
            if (v.result == TKD_GRADE_EQUAL)
                rec.flags |= TKD_F_CORRECT;
            if (v.result == TKD_GRADE_UNDECIDED)
                rec.flags |= TKD_F_GRADE_UNDECIDED;
        } else {
            snprintf(v.reason, sizeof v.reason, "no answer (%s extraction)", tkd_grade_mode_name(b->extract));
        }
        /* a response cut at max_new_tokens is recorded as such, whatever it says */
        rec.status = cut                           ? TKD_ST_LENGTH
                     : !ans                        ? TKD_ST_NO_ANSWER
                     : v.result == TKD_GRADE_EQUAL ? TKD_ST_CORRECT
                                                   : TKD_ST_WRONG;
    }
    json_t *prompt = json_loads(sl->prompt, 0, NULL);
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:i, s:i, s:I, s:o, s:s, s:s?, s:s, s:b, s:s, s:s, s:s?, s:I, s:I, "
        "s:f, s:i, s:b, s:i, s:s?}",
        "arm", x->arms[arm].name, "engine", x->arms[arm].engine, "mode", x->arms[arm].mode, "model", x->arms[arm].model,
        "benchmark", b->name, "id", p->id, "subject", p->subject, "level", p->level, "sample", sample, "seed",
        (json_int_t)tkd_solver_seed(x->run_seed, p->pid, sample), "messages", prompt ? prompt : json_null(), "response",
        r->text ? r->text : "", "answer", ans, "gold", p->answer, "correct", (rec.flags & TKD_F_CORRECT) != 0, "grade",
        v.reason, "status", tkd_status_name((tkd_status)rec.status), "finish_reason", r->finish_reason, "prompt_tokens",
        (json_int_t)rec.prompt_tokens, "completion_tokens", (json_int_t)rec.completion_tokens, "latency_s",
        rec.latency_s, "attempts", r->attempts, "from_cache", r->from_cache != 0, "max_new_tokens", x->max_new, "error",
        r->error);
    free(ans);
    if (!doc)
        return tkd_err_set(e, TKD_ENOMEM, "eval: out of memory writing a record");
    return eval_write(x, d, si, &rec, doc, e);
}

int eval_write(eval_ctx *x, tkd_dist *d, int si, tkd_record *rec, json_t *doc, tkd_err *e) {
    eval_slot *sl = &x->slots[si];
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return tkd_err_set(e, TKD_ENOMEM, "eval: out of memory writing a record");
    int rc = tkd_store_append(x->shard, rec, text, strlen(text), e);
    free(text);
    if (rc)
        return tkd_err_wrap(e, "eval: writing %s", tkd_store_path(x->shard));
    x->samples_done++;
    x->by_status[rec->status < TKD_ST_COUNT ? rec->status : TKD_ST_FAILED]++;
    free(sl->prompt);
    sl->prompt = NULL;
    tkd_solver_free(sl->sv);
    sl->sv = NULL;
    sl->used = 0;
    x->free_slots[x->n_free++] = si;
    x->n_slots--;
    if (x->n_unflushed == x->n_slots_cap && (rc = report_durable(x, d, 1, e)))
        return rc;
    x->unflushed[x->n_unflushed++] = sl->item;
    return 0;
}

static int start_item(eval_ctx *x, tkd_dist *d, uint64_t item, tkd_err *e) {
    int arm, sample;
    size_t prob;
    eval_item_parts(x, item, &arm, &prob, &sample);
    const tkd_problem *p = &x->probs.items[prob];
    int si = x->free_slots[--x->n_free];
    eval_slot *sl = &x->slots[si];
    if (x->arms[arm].tir) {
        sl->item = item;
        sl->gen = ++x->gen;
        sl->used = 1;
        sl->t0 = tkd_now();
        x->n_slots++;
        return eval_tir_start(x, d, si, e);
    }
    json_t *msgs = prompt_messages(x, p, e);
    if (!msgs) {
        x->free_slots[x->n_free++] = si;
        return e->code ? e->code : TKD_ENOMEM;
    }
    char tag[512];
    snprintf(tag, sizeof tag, "%s/%s/%d", x->arms[arm].name, p->id, sample);
    eval_sampling s = {x->temperature, x->top_p, x->max_new, tkd_solver_seed(x->run_seed, p->pid, sample), sample, tag};
    sl->item = item;
    sl->gen = ++x->gen;
    sl->used = 1;
    sl->t0 = tkd_now();
    sl->prompt = json_dumps(msgs, JSON_COMPACT);
    x->n_slots++;
    int rc = sl->prompt ? x->arms[arm].eng->submit(x->arms[arm].eng, msgs, &s, cookie_of(si, sl->gen), e)
                        : tkd_err_set(e, TKD_ENOMEM, "eval: out of memory");
    json_decref(msgs);
    return rc;
}

static void progress(eval_ctx *x, int force) {
    double now = tkd_now();
    if (!force && now < x->next_progress)
        return;
    x->next_progress = now + tkd_job_num(x->job, "dist.progress_every_s");
    double el = now - x->t_start;
    tkd_log_info("eval: %llu samples: %llu correct, %llu wrong, %llu no answer, %llu cut at the length limit, %llu "
                 "failed; %d in flight; %.1f samples/s",
                 (unsigned long long)x->samples_done, (unsigned long long)x->by_status[TKD_ST_CORRECT],
                 (unsigned long long)x->by_status[TKD_ST_WRONG], (unsigned long long)x->by_status[TKD_ST_NO_ANSWER],
                 (unsigned long long)x->by_status[TKD_ST_LENGTH],
                 (unsigned long long)(x->by_status[TKD_ST_FAILED] + x->by_status[TKD_ST_API_ERROR]), x->n_slots,
                 el > 0 ? (double)x->samples_done / el : 0.0);
}

static int work(eval_ctx *x, tkd_dist *d, tkd_err *e) {
    int finished = 0, rc = 0;
    x->next_progress = tkd_now() + tkd_job_num(x->job, "dist.progress_every_s");
    for (;;) {
        if ((rc = tkd_dist_poll(d)))
            return tkd_err_set(e, rc, "eval: work distribution failed (see the log above)");
        int worked = 0;
        tkd_dist_room(d, (uint64_t)x->n_free); /* a lease asks for what this rank has room for */
        while (!finished && !tkd_dist_stopping(d) && x->n_free > 0) {
            uint64_t it;
            int r = tkd_dist_next(d, &it);
            if (r == TKD_DIST_FINISHED)
                finished = 1;
            if (r != TKD_DIST_ITEM)
                break;
            if (it >= x->n_items)
                return tkd_err_set(e, TKD_EINTERNAL, "eval: dist handed out item %llu of %llu", (unsigned long long)it,
                                   (unsigned long long)x->n_items);
            if ((rc = start_item(x, d, it, e)))
                return rc;
            worked++;
        }
        if (finished)
            break; /* every item is done; anything still in flight was done elsewhere */
        int busy = 0;
        for (int a = 0; a < x->n_arms; a++)
            busy |= x->arms[a].eng->busy(x->arms[a].eng);
        int slept = 0, tools = x->pool && tkd_tools_pool_pending(x->pool);
        for (int a = 0; a < x->n_arms; a++) {
            eval_engine *g = x->arms[a].eng;
            /* the first engine with requests out may wait for the network; the rest only look */
            int wait = !worked && !busy && !slept && g->pending(g) ? tools ? 1 : EVAL_POLL_MS : 0;
            slept |= wait > 0;
            if (g->pending(g) && (rc = g->poll(g, wait, e)) < 0)
                return rc;
            if (x->arms[a].tir) {
                if ((rc = eval_tir_drain(x, d, a, &worked, e)))
                    return rc;
                continue;
            }
            eval_done r;
            while (g->next(g, &r)) {
                uint64_t c = (uint64_t)(uintptr_t)r.cookie;
                int si = (int)(uint32_t)c;
                rc = 0;
                if (si >= 0 && si < x->n_slots_cap && x->slots[si].used && x->slots[si].gen == (uint32_t)(c >> 32))
                    rc = sample_done(x, d, si, &r, e);
                eval_done_clear(&r);
                if (rc)
                    return rc;
                worked++;
            }
        }
        if (x->pool && (rc = eval_tir_tools(x, d, &worked, e)))
            return rc;
        if (!worked && !busy && !slept)
            usleep(1000 * (x->n_slots ? 1 : EVAL_POLL_MS)); /* nothing in flight: wait for dist */
        if ((rc = report_durable(x, d, tkd_dist_stopping(d), e)))
            return rc;
        progress(x, 0);
        if (tkd_dist_stopping(d)) {
            if (x->n_slots == 0)
                break;
            if (tkd_dist_grace_left(d) <= 0) {
                tkd_log_warn("eval: grace period over: abandoning %d samples in flight (a re-run redoes them)",
                             x->n_slots);
                break;
            }
        }
    }
    return 0;
}

static int alloc_slots(eval_ctx *x, tkd_err *e) {
    int cap = (int)tkd_job_int(x->job, "eval.max_in_flight");
    x->n_slots_cap = cap;
    x->slots = tkd_calloc((size_t)cap, sizeof *x->slots, e);
    x->free_slots = tkd_calloc((size_t)cap, sizeof *x->free_slots, e);
    x->unflushed = tkd_calloc((size_t)cap, sizeof *x->unflushed, e);
    if (!x->slots || !x->free_slots || !x->unflushed)
        return TKD_ENOMEM;
    for (int i = 0; i < cap; i++)
        x->free_slots[x->n_free++] = cap - 1 - i;
    return 0;
}

static int make_engines(eval_ctx *x, tkd_err *e) {
    for (int a = 0; a < x->n_arms; a++) {
        int rc = !strcmp(x->arms[a].engine, "builtin")
                     ? eval_builtin_new(x->job, (size_t)a, &x->arms[a].eng, e)
                     : eval_endpoint_new(x->job, (size_t)a, x->rank, &x->arms[a].eng, e);
        if (rc)
            return rc;
    }
    return 0;
}

/* Rank 0, after every item is done: the metrics (tkd_cli_mpi_phase then
 * merges the shards into OUT/eval.h5 and writes the completion marker). */
static int finish_run(eval_ctx *x, tkd_err *e) {
    return tkd_eval_metrics(x->job, 1, e);
}

int tkd_eval_run(const tkd_job *job, MPI_Comm comm, tkd_err *e) {
    eval_ctx x;
    memset(&x, 0, sizeof x);
    x.job = job;
    tkd_problem_set_init(&x.probs);
    MPI_Comm_rank(comm, &x.rank);
    MPI_Comm_size(comm, &x.size);
    char *path = NULL, *manifest = NULL;
    uint8_t *done = NULL;
    tkd_dist *d = NULL;
    tkd_buf b;
    tkd_buf_init(&b);
    int rc = eval_setup(&x, e);
    if (!rc && (tkd_buf_printf(&b, "%s/shards/eval", tkd_job_str(job, "output_dir")) || !(x.dir = tkd_buf_steal(&b))))
        rc = tkd_err_set(e, TKD_ENOMEM, "eval: out of memory");
    if (!rc)
        rc = tkd_mkdirs(x.dir, e);
    if (!rc && x.rank == 0) {
        if (!(done = tkd_calloc(x.n_items ? x.n_items : 1, 1, e)))
            rc = TKD_ENOMEM;
        else
            rc = eval_done_set(&x, done, e);
    }
    if (phase_agree(comm, &rc, "eval", e))
        goto out;
    if ((rc = make_engines(&x, e)) || (rc = eval_tir_setup(&x, e)) || (rc = alloc_slots(&x, e)))
        goto agree;
    if ((rc = tkd_store_next_attempt(x.dir, x.rank, &x.attempt, e)) ||
        !(path = tkd_store_shard_path(x.dir, x.rank, x.attempt, e)))
        goto agree;
    {
        /* every benchmark file (a folder stands for its *.jsonl files) is hashed into the manifest */
        tkd_data_files files = {0};
        json_t *bs = tkd_job_get(job, "eval.benchmarks");
        for (int i = 0; i < x.n_benches && !rc; i++)
            rc = tkd_data_list_files(json_string_value(json_object_get(json_array_get(bs, (size_t)i), "path")), &files,
                                     e);
        if (!rc && !(manifest = tkd_store_manifest(job, (const char *const *)files.paths, (int)files.n, e)))
            rc = e->code ? e->code : TKD_ENOMEM;
        tkd_data_files_free(&files);
        if (rc)
            goto agree;
        tkd_store_meta meta = {TKD_PHASE_EVAL, x.rank, x.attempt, job->text, job->sha256, manifest};
        if ((rc = tkd_store_create(path, &meta, &x.shard, e)))
            goto agree;
        tkd_store_set_flush_every(x.shard, (size_t)tkd_job_int(job, "store.flush_every"));
    }
agree:
    if (phase_agree(comm, &rc, "eval", e))
        goto out;
    tkd_dist_cfg cfg;
    tkd_dist_cfg_default(&cfg);
    tkd_dist_cfg_from_job(job, &cfg);
    cfg.label = "eval";
    if ((rc = tkd_dist_create(comm, x.n_items, done, &cfg, &d, e)))
        goto out;
    tkd_log_info("eval: rank %d (pid %d): shard %s", x.rank, (int)getpid(), path);
    if (x.rank == 0)
        tkd_log_info("eval: %d arms x %zu problems (%d benchmarks) x %d samples = %llu items (%llu done before), %d "
                     "ranks",
                     x.n_arms, x.probs.n, x.n_benches, x.k, (unsigned long long)x.n_items,
                     (unsigned long long)x.done_before, x.size);
    x.t_start = tkd_now();
    rc = work(&x, d, e);
    progress(&x, 1);

    /* flush and close the shard before saying goodbye: what dist counts is durable */
    tkd_err ce = {0};
    int crc = tkd_store_close_shard(x.shard, &ce);
    x.shard = NULL;
    if (crc && !rc) {
        rc = crc;
        *e = ce;
    }
    if (!crc)
        for (int i = 0; i < x.n_unflushed; i++)
            tkd_dist_complete(d, x.unflushed[i]);
    tkd_dist_stats st;
    tkd_err fe = {0};
    int frc = tkd_dist_finish(d, &st, &fe);
    d = NULL;
    if (!rc && frc) {
        rc = frc;
        *e = fe;
    }
    if (x.rank == 0 && (rc == 0 || rc == TKD_ESTOP))
        tkd_log_info("eval: %s: %llu/%llu samples done, %llu before this run; %s",
                     rc ? "stopped early (exit 3; a re-run resumes)" : "all done", (unsigned long long)st.done,
                     (unsigned long long)st.total, (unsigned long long)st.done_before,
                     st.duplicates ? "some samples were done twice (the metrics keep the first)" : "no duplicates");
    if (x.by_status[TKD_ST_API_ERROR])
        tkd_log_warn("eval: rank %d: %llu samples got no answer from their endpoint (api_error): run again to ask "
                     "again",
                     x.rank, (unsigned long long)x.by_status[TKD_ST_API_ERROR]);
    if (x.rank == 0 && rc == 0)
        rc = finish_run(&x, e);
out:
    if (d)
        tkd_dist_free(d);
    eval_ctx_free(&x);
    free(done);
    free(manifest);
    free(path);
    tkd_buf_free(&b);
    return rc;
}
