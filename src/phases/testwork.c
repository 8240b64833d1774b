/*
 * testwork: the synthetic phase of the platform tests (see tkd/testwork.h).
 * Its event loop is the shape the solve phase will have: poll dist, take
 * items while there is room, finish the items whose timers are due (write the
 * record, then report the completion), sleep until the next timer, and on a
 * stop let what is in flight finish for dist.grace_s before closing the shard.
 */
#include "tkd/phases.h"
#include "runner.h"

#include "tkd/dist.h"
#include "tkd/store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TESTWORK_MAX_NAP_S 0.001 /* longest sleep between polls while waiting */

typedef struct {
    uint64_t item;
    double start, due;
} slot;

typedef struct {
    const tkd_job *job;
    int rank, size, attempt;
    uint64_t n, *pids;
    tkd_store *shard;
    tkd_rng rng;
    double min_s, max_s;
    long long text_bytes, crash_rank, crash_after;
    uint64_t written;
    tkd_buf text;
    char *filler;
} tw;

/* Problem ids: those of OUT/problems.h5 (only the pids are read, so any
 * store of problem records will do), or synthetic ones. */
static int list_items(tw *t, const char *problems, int *from_store, tkd_err *e) {
    struct stat sb;
    *from_store = stat(problems, &sb) == 0;
    if (*from_store) {
        tkd_store *s;
        int rc = tkd_store_open(problems, &s, e);
        if (rc)
            return tkd_err_wrap(e, "testwork: reading the problems");
        size_t cnt = tkd_store_count(s);
        t->pids = tkd_malloc((cnt ? cnt : 1) * sizeof *t->pids, e);
        if (!t->pids) {
            tkd_store_close(s, NULL);
            return TKD_ENOMEM;
        }
        for (size_t i = 0; i < cnt; i++) {
            tkd_record r;
            if ((rc = tkd_store_read(s, i, &r, e))) {
                tkd_store_close(s, NULL);
                return tkd_err_wrap(e, "testwork: reading the problems");
            }
            if (r.phase == TKD_PHASE_PROBLEM)
                t->pids[t->n++] = r.pid;
        }
        return tkd_store_close(s, e);
    }
    long long n = tkd_job_int(t->job, "testwork.items");
    t->pids = tkd_malloc((size_t)(n ? n : 1) * sizeof *t->pids, e);
    if (!t->pids)
        return TKD_ENOMEM;
    for (long long i = 0; i < n; i++) {
        char id[48];
        int len = snprintf(id, sizeof id, "test/%lld", i);
        t->pids[i] = tkd_hash64(id, (size_t)len);
    }
    t->n = (uint64_t)n;
    return 0;
}

static int write_record(tw *t, const slot *s, tkd_err *e) {
    tkd_buf_reset(&t->text);
    double now = tkd_now();
    int rc = tkd_buf_printf(
        &t->text, "{\"pid\":\"%016llx\",\"item\":%llu,\"rank\":%d,\"attempt\":%d,\"ms\":%.3f,\"filler\":\"%s\"}",
        (unsigned long long)t->pids[s->item], (unsigned long long)s->item, t->rank, t->attempt, (now - s->start) * 1e3,
        t->filler);
    if (rc)
        return tkd_err_set(e, TKD_ENOMEM, "testwork: out of memory for a record's text");
    tkd_record r;
    memset(&r, 0, sizeof r);
    r.pid = t->pids[s->item];
    r.phase = TKD_PHASE_TEST;
    r.status = TKD_ST_DONE;
    r.latency_s = now - s->start;
    r.finished_at = tkd_wall_time();
    if ((rc = tkd_store_append(t->shard, &r, t->text.data, t->text.len, e)))
        return rc;
    t->written++;
    if (t->rank == t->crash_rank && t->written >= (uint64_t)t->crash_after) {
        tkd_store_flush(t->shard, NULL);
        tkd_log_warn("testwork: testwork.crash_rank %lld: killing this rank (SIGKILL) after %llu records",
                     t->crash_rank, (unsigned long long)t->written);
        raise(SIGKILL);
    }
    return 0;
}

static void nap(double s) {
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* The event loop; returns 0, TKD_ESTOP or an error (the shard stays open). */
static int work(tw *t, tkd_dist *d, long long concurrency, tkd_err *e) {
    slot *sl = tkd_calloc((size_t)concurrency, sizeof *sl, e);
    if (!sl)
        return TKD_ENOMEM;
    int n_in = 0, finished = 0, rc = 0;
    for (;;) {
        if ((rc = tkd_dist_poll(d))) {
            tkd_err_set(e, rc, "testwork: work distribution failed (see the log above)");
            break;
        }
        int got = 0;
        tkd_dist_room(d, (uint64_t)(concurrency - n_in));
        while (n_in < concurrency && !finished) {
            uint64_t it;
            int r = tkd_dist_next(d, &it);
            if (r == TKD_DIST_FINISHED)
                finished = 1;
            if (r != TKD_DIST_ITEM)
                break;
            double now = tkd_now();
            double w = t->min_s + (t->max_s - t->min_s) * tkd_rng_uniform(&t->rng);
            sl[n_in++] = (slot){it, now, now + w};
            got++;
        }
        double now = tkd_now(), next_due = now + TESTWORK_MAX_NAP_S;
        int done_now = 0;
        for (int i = 0; i < n_in && !rc;) {
            if (now >= sl[i].due) {
                if ((rc = write_record(t, &sl[i], e)))
                    break;
                tkd_dist_complete(d, sl[i].item);
                sl[i] = sl[--n_in];
                done_now++;
            } else {
                if (sl[i].due < next_due)
                    next_due = sl[i].due;
                i++;
            }
        }
        if (rc)
            break;
        if (finished)
            break; /* anything still in flight was re-issued and done elsewhere */
        if (tkd_dist_stopping(d)) {
            if (n_in == 0)
                break;
            if (tkd_dist_grace_left(d) <= 0) {
                tkd_log_warn("testwork: grace period over: abandoning %d items in flight (a re-run redoes them)", n_in);
                break;
            }
        }
        if (!got && !done_now)
            nap(next_due - tkd_now());
    }
    free(sl);
    return rc;
}

int tkd_testwork_run(const tkd_job *job, MPI_Comm comm, tkd_err *e) {
    tw t;
    memset(&t, 0, sizeof t);
    t.job = job;
    tkd_buf_init(&t.text);
    MPI_Comm_rank(comm, &t.rank);
    MPI_Comm_size(comm, &t.size);
    t.min_s = tkd_job_num(job, "testwork.min_ms") / 1e3;
    t.max_s = tkd_job_num(job, "testwork.max_ms") / 1e3;
    if (t.max_s < t.min_s)
        t.max_s = t.min_s;
    t.text_bytes = tkd_job_int(job, "testwork.text_bytes");
    t.crash_rank = tkd_job_int(job, "testwork.crash_rank");
    t.crash_after = tkd_job_int(job, "testwork.crash_after");
    const char *out = tkd_job_str(job, "output_dir");
    char *problems = NULL, *dir = NULL, *path = NULL, *manifest = NULL;
    uint8_t *done = NULL;
    tkd_idset *set = NULL;
    tkd_dist *d = NULL;
    int from_store = 0, rc = 0;
    tkd_buf b;
    tkd_buf_init(&b);

    /* ---- setup; any rank's failure fails every rank (no one waits forever) ---- */
    if (!(problems = tkd_phase_problems_path(job, e)) || tkd_buf_printf(&b, "%s/shards/test", out) ||
        !(dir = tkd_buf_steal(&b))) {
        rc = tkd_err_set(e, TKD_ENOMEM, "testwork: out of memory");
        goto agree1;
    }
    if ((rc = list_items(&t, problems, &from_store, e)))
        goto agree1;
    t.filler = tkd_malloc((size_t)t.text_bytes + 1, e);
    if (!t.filler) {
        rc = TKD_ENOMEM;
        goto agree1;
    }
    memset(t.filler, 'x', (size_t)t.text_bytes);
    t.filler[t.text_bytes] = '\0';
    if ((rc = tkd_mkdirs(dir, e)))
        goto agree1;
    if (t.rank == 0) {
        if (!(set = tkd_idset_new()) || !(done = tkd_calloc(t.n ? t.n : 1, 1, e))) {
            rc = tkd_err_set(e, TKD_ENOMEM, "testwork: out of memory for the done-set");
            goto agree1;
        }
        if ((rc = tkd_store_done_set(dir, set, e))) {
            tkd_err_wrap(e, "testwork: reading what earlier runs did");
            goto agree1;
        }
        for (uint64_t i = 0; i < t.n; i++)
            done[i] = (uint8_t)tkd_idset_has(set, t.pids[i]);
    }
    /* rank 0 has read the done-set before any rank creates this run's shard */
agree1:
    if (phase_agree(comm, &rc, "testwork", e))
        goto out;
    if ((rc = tkd_store_next_attempt(dir, t.rank, &t.attempt, e)) ||
        !(path = tkd_store_shard_path(dir, t.rank, t.attempt, e)))
        goto agree;
    {
        const char *inputs[1] = {problems};
        manifest = tkd_store_manifest(job, inputs, from_store ? 1 : 0, e);
        if (!manifest) {
            rc = e->code ? e->code : TKD_ENOMEM;
            goto agree;
        }
        tkd_store_meta meta = {TKD_PHASE_TEST, t.rank, t.attempt, job->text, job->sha256, manifest};
        if ((rc = tkd_store_create(path, &meta, &t.shard, e)))
            goto agree;
        tkd_store_set_flush_every(t.shard, (size_t)tkd_job_int(job, "store.flush_every"));
    }
    tkd_rng_seed(&t.rng, (uint64_t)tkd_job_int(job, "seed") ^ (0x9e3779b97f4a7c15ull * (uint64_t)(t.rank + 1)) ^
                             ((uint64_t)t.attempt << 32));
agree:
    if (phase_agree(comm, &rc, "testwork", e))
        goto out;
    tkd_dist_cfg cfg;
    tkd_dist_cfg_default(&cfg);
    tkd_dist_cfg_from_job(job, &cfg);
    cfg.label = "testwork";
    if ((rc = tkd_dist_create(comm, t.n, done, &cfg, &d, e)))
        goto out;
    if (t.rank == 0)
        tkd_log_info("testwork: %llu items from %s, %d ranks, shards in %s", (unsigned long long)t.n,
                     from_store ? problems : "testwork.items", t.size, dir);
    rc = work(&t, d, tkd_job_int(job, "testwork.concurrency"), e);

    /* flush and close the shard before saying goodbye: what dist counts is durable */
    tkd_err ce = {0};
    int crc = tkd_store_close_shard(t.shard, &ce);
    t.shard = NULL;
    if (crc && !rc) {
        rc = crc;
        *e = ce;
    }
    tkd_dist_stats st;
    tkd_err fe = {0};
    int frc = tkd_dist_finish(d, &st, &fe);
    d = NULL;
    if (!rc && frc) {
        rc = frc;
        *e = fe;
    }
    tkd_log_debug("testwork: rank %d wrote %llu records to %s", t.rank, (unsigned long long)t.written, path);
    if (t.rank == 0 && (rc == 0 || rc == TKD_ESTOP))
        tkd_log_info("testwork: %s: %llu/%llu items done, %llu before this run; rank 0 wrote %llu records; %s",
                     rc ? "stopped early (exit 3; a re-run resumes)" : "all done", (unsigned long long)st.done,
                     (unsigned long long)st.total, (unsigned long long)st.done_before, (unsigned long long)t.written,
                     st.duplicates ? "some items were done twice (merge drops duplicates)" : "no duplicates");
out:
    if (d)
        tkd_dist_free(d);
    if (t.shard)
        tkd_store_close(t.shard, NULL);
    tkd_idset_free(set);
    free(done);
    free(manifest);
    free(path);
    free(dir);
    free(problems);
    free(t.pids);
    free(t.filler);
    tkd_buf_free(&t.text);
    tkd_buf_free(&b);
    return rc;
}
