/*
 * MPI tests of dist, run under `mpiexec -n 2` and `-n 4` (tests/dist/CMakeLists.txt):
 *   mpi_dist exact     every item handed out exactly once, items already done never;
 *                      lease sizes start at lease_max and shrink near the end
 *   mpi_dist silent    the last rank takes a lease and goes silent; its items are
 *                      re-issued to the others when the queue runs dry
 *   mpi_dist stop      one rank gets SIGUSR1: every rank stops, nothing completed
 *                      goes unreported, every rank's finish returns TKD_ESTOP
 *   mpi_dist empty     no items / all items done: FINISHED at once
 *   mpi_dist fair      default settings, 300, 700 and 3,000 items, every rank able to
 *                      hold 2,048 at once (solve's default) and each item taking
 *                      200-400 ms (a teacher's reply takes longer; far shorter items
 *                      let rank 0 finish its share before a rank that starts late on
 *                      a loaded machine asks, and rightly take more): every rank does
 *                      0.5-1.5x its equal share, with and without saying its room
 *                      (the coordinator's cap alone suffices)
 * Each rank runs a little event loop with a few items in flight (sub-millisecond
 * "work"), as a phase would. Rank 0 gathers what every rank took and checks.
 */
#include "tkd/dist.h"
#include "tkd_test.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 4

typedef struct {
    uint64_t *taken;
    size_t n_taken, cap;
    uint64_t completed;
    int rc;
    tkd_dist_stats st;
} run_result;

typedef struct {
    int rank;
    double work_s;   /* per item */
    int silent_rank; /* goes silent after its first item, -1 none */
    double silent_s;
    int signal_rank; /* raises SIGUSR1 after signal_after completions, -1 none */
    uint64_t signal_after;
} run_opts;

static void nap_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static void run(tkd_dist *d, const run_opts *o, run_result *res) {
    uint64_t inflight[MAX_INFLIGHT];
    double due[MAX_INFLIGHT];
    int n_in = 0, finished = 0, went_silent = 0, signalled = 0;
    for (;;) {
        CHECK_INT(tkd_dist_poll(d), 0);
        while (n_in < MAX_INFLIGHT && !finished) {
            uint64_t it;
            int r = tkd_dist_next(d, &it);
            if (r == TKD_DIST_FINISHED)
                finished = 1;
            if (r != TKD_DIST_ITEM)
                break;
            if (res->n_taken == res->cap) {
                res->cap = res->cap ? 2 * res->cap : 256;
                res->taken = realloc(res->taken, res->cap * sizeof *res->taken);
                if (!res->taken)
                    abort();
            }
            res->taken[res->n_taken++] = it;
            inflight[n_in] = it;
            due[n_in++] = tkd_now() + o->work_s;
        }
        if (o->rank == o->silent_rank && !went_silent && res->n_taken > 0) {
            went_silent = 1;
            usleep((useconds_t)(o->silent_s * 1e6)); /* no polls: silent */
        }
        double now = tkd_now();
        for (int i = 0; i < n_in;) {
            if (now >= due[i]) {
                tkd_dist_complete(d, inflight[i]);
                res->completed++;
                inflight[i] = inflight[--n_in];
                due[i] = due[n_in];
            } else {
                i++;
            }
        }
        if (o->rank == o->signal_rank && !signalled && res->completed >= o->signal_after) {
            signalled = 1;
            raise(SIGUSR1);
        }
        if (finished)
            break; /* what is in flight was done elsewhere */
        if (tkd_dist_stopping(d) && (n_in == 0 || tkd_dist_grace_left(d) <= 0))
            break;
        nap_us(100);
    }
    tkd_err e = {0};
    res->rc = tkd_dist_finish(d, &res->st, &e);
}

/* Gather every rank's taken items on rank 0 and count them per item. */
static uint32_t *gather_counts(const run_result *res, uint64_t n, int rank, int size) {
    int mine = (int)res->n_taken;
    int *counts = calloc((size_t)size, sizeof *counts), *displs = calloc((size_t)size, sizeof *displs);
    MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    uint64_t *all = NULL;
    int total = 0;
    if (rank == 0) {
        for (int r = 0; r < size; r++) {
            displs[r] = total;
            total += counts[r];
        }
        all = malloc(((size_t)total + 1) * sizeof *all);
    }
    MPI_Gatherv(res->taken, mine, MPI_UINT64_T, all, counts, displs, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    uint32_t *per = NULL;
    if (rank == 0) {
        per = calloc(n + 1, sizeof *per);
        for (int i = 0; i < total; i++) {
            CHECK(all[i] < n);
            if (all[i] < n)
                per[all[i]]++;
        }
    }
    free(all);
    free(counts);
    free(displs);
    return per;
}

static void cfg_small(tkd_dist_cfg *c) {
    tkd_dist_cfg_default(c);
    c->lease_min = 2;
    c->lease_max = 64;
    c->progress_every_s = 0.5;
    c->grace_s = 5;
    c->label = "mpi_dist";
}

TEST(exact) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const uint64_t n = 5000;
    uint8_t *done = calloc(n, 1);
    for (uint64_t i = 0; i < n; i += 7)
        done[i] = 1; /* done by an earlier run */
    tkd_dist_cfg c;
    cfg_small(&c);
    tkd_dist *d;
    tkd_err e = {0};
    CHECK_INT(tkd_dist_create(MPI_COMM_WORLD, n, rank == 0 ? done : NULL, &c, &d, &e), 0);
    run_opts o = {rank, 0, -1, 0, -1, 0};
    run_result res = {0};
    run(d, &o, &res);
    CHECK_INT(res.rc, 0);
    CHECK_INT(res.completed, res.n_taken);
    /* lease sizes: the first one is lease_max, they never grow, they end small */
    CHECK_INT(res.st.lease_first, 64);
    CHECK_INT(res.st.lease_grew, 0);
    CHECK(res.st.lease_largest <= 64);
    uint64_t smallest = res.st.lease_smallest ? res.st.lease_smallest : 1000, gmin = 0;
    MPI_Allreduce(&smallest, &gmin, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    CHECK(gmin <= 2);
    uint32_t *per = gather_counts(&res, n, rank, size);
    if (rank == 0) {
        uint64_t once = 0, never_done = 0, wrong = 0;
        for (uint64_t i = 0; i < n; i++) {
            if (done[i])
                never_done += per[i] == 0;
            else
                once += per[i] == 1;
            wrong += per[i] > 1;
        }
        CHECK_INT(once, n - (n + 6) / 7);
        CHECK_INT(never_done, (n + 6) / 7);
        CHECK_INT(wrong, 0);
        CHECK_INT(res.st.done, n);
        CHECK_INT(res.st.done_before, (n + 6) / 7);
        CHECK_INT(res.st.duplicates, 0);
        CHECK_INT(res.st.reissued, 0);
    }
    free(per);
    free(res.taken);
    free(done);
}

TEST(silent) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const uint64_t n = 600;
    tkd_dist_cfg c;
    cfg_small(&c);
    c.lease_min = 8;
    c.lease_max = 8;
    c.lease_timeout_s = 0.5;
    tkd_dist *d;
    tkd_err e = {0};
    CHECK_INT(tkd_dist_create(MPI_COMM_WORLD, n, NULL, &c, &d, &e), 0);
    run_opts o = {rank, 0.0005, size - 1, 3.0, -1, 0};
    run_result res = {0};
    run(d, &o, &res);
    CHECK_INT(res.rc, 0);
    uint32_t *per = gather_counts(&res, n, rank, size);
    if (rank == 0) {
        uint64_t missing = 0, dup = 0;
        for (uint64_t i = 0; i < n; i++) {
            missing += per[i] == 0;
            dup += per[i] > 1;
        }
        CHECK_INT(missing, 0);
        CHECK(dup >= 1);             /* the silent rank's lease went to someone else too */
        CHECK(res.st.reissued >= 7); /* its lease of 8, less the item it had started */
        CHECK_INT(res.st.done, n);
    }
    free(per);
    free(res.taken);
}

TEST(stop) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const uint64_t n = 100000;
    tkd_dist_cfg c;
    cfg_small(&c);
    tkd_err e = {0};
    CHECK_INT(tkd_dist_signals_install(&e), 0);
    tkd_dist *d;
    CHECK_INT(tkd_dist_create(MPI_COMM_WORLD, n, NULL, &c, &d, &e), 0);
    run_opts o = {rank, 0.0002, -1, 0, size - 1, 50};
    run_result res = {0};
    double t0 = tkd_now();
    run(d, &o, &res);
    double took = tkd_now() - t0;
    CHECK_INT(res.rc, TKD_ESTOP);
    CHECK(took < 30);
    /* every completion reached the coordinator, and nothing was invented */
    uint64_t sum = 0;
    MPI_Reduce(&res.completed, &sum, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        CHECK(sum >= 50);
        CHECK(res.st.done < n);
        CHECK_INT(res.st.done, sum);
        CHECK_INT(res.st.duplicates, 0);
    }
    free(res.taken);
    tkd_dist_signal_reset();
}

TEST(empty) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    tkd_dist_cfg c;
    cfg_small(&c);
    tkd_err e = {0};
    for (int variant = 0; variant < 2; variant++) {
        uint64_t n = variant ? 10 : 0;
        uint8_t done[10];
        memset(done, 1, sizeof done);
        tkd_dist *d;
        CHECK_INT(tkd_dist_create(MPI_COMM_WORLD, n, done, &c, &d, &e), 0);
        run_opts o = {rank, 0, -1, 0, -1, 0};
        run_result res = {0};
        run(d, &o, &res);
        CHECK_INT(res.rc, 0);
        CHECK_INT(res.n_taken, 0);
        free(res.taken);
    }
}

/* A phase with room for `cap` items at once (as solve with max_in_flight),
 * each taking 200..400 ms; says its room when `room`. Returns items done. */
static uint64_t run_wide(tkd_dist *d, int cap, int room, uint64_t seed, int *rc) {
    uint64_t *inflight = malloc((size_t)cap * sizeof *inflight), done = 0;
    double *due = malloc((size_t)cap * sizeof *due);
    tkd_rng rng;
    tkd_rng_seed(&rng, seed);
    int n_in = 0, finished = 0;
    for (;;) {
        CHECK_INT(tkd_dist_poll(d), 0);
        if (room)
            tkd_dist_room(d, (uint64_t)(cap - n_in));
        while (n_in < cap && !finished) {
            uint64_t it;
            int r = tkd_dist_next(d, &it);
            if (r == TKD_DIST_FINISHED)
                finished = 1;
            if (r != TKD_DIST_ITEM)
                break;
            inflight[n_in] = it;
            due[n_in++] = tkd_now() + 0.2 + 0.2 * tkd_rng_uniform(&rng);
        }
        double now = tkd_now();
        for (int i = 0; i < n_in;) {
            if (now >= due[i]) {
                tkd_dist_complete(d, inflight[i]);
                done++;
                inflight[i] = inflight[--n_in];
                due[i] = due[n_in];
            } else {
                i++;
            }
        }
        if (finished)
            break;
        nap_us(1000);
    }
    tkd_err e = {0};
    *rc = tkd_dist_finish(d, NULL, &e);
    free(inflight);
    free(due);
    return done;
}

TEST(fair) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const uint64_t sizes[3] = {300, 700, 3000};
    for (int room = 1; room >= 0; room--)
        for (int k = 0; k < 3; k++) {
            uint64_t n = sizes[k];
            tkd_dist_cfg c;
            tkd_dist_cfg_default(&c); /* the defaults are what is tested */
            c.progress_every_s = 0;
            c.label = "mpi_dist";
            tkd_dist *d;
            tkd_err e = {0};
            CHECK_INT(tkd_dist_create(MPI_COMM_WORLD, n, NULL, &c, &d, &e), 0);
            int rc = -1;
            uint64_t mine = run_wide(d, 2048, room, n * 131 + (uint64_t)rank, &rc);
            CHECK_INT(rc, 0);
            uint64_t *all = calloc((size_t)size, sizeof *all);
            MPI_Gather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
            if (rank == 0) {
                double share = (double)n / size;
                uint64_t sum = 0;
                printf("fair: %llu items, %d ranks, %s room:", (unsigned long long)n, size, room ? "with" : "without");
                for (int r = 0; r < size; r++) {
                    printf(" %llu", (unsigned long long)all[r]);
                    sum += all[r];
                    CHECK((double)all[r] >= 0.5 * share && (double)all[r] <= 1.5 * share);
                }
                printf(" (equal share %.1f)\n", share);
                CHECK_INT(sum, n);
            }
            free(all);
        }
}

int main(int argc, char **argv) {
    int prov, rank;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &prov);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    tkd_log_set_rank(rank);
    const char *which = argc > 1 ? argv[1] : "all";
    int all = !strcmp(which, "all");
    if (all || !strcmp(which, "exact"))
        RUN(exact);
    if (all || !strcmp(which, "silent"))
        RUN(silent);
    if (all || !strcmp(which, "stop"))
        RUN(stop);
    if (all || !strcmp(which, "empty"))
        RUN(empty);
    if (all || !strcmp(which, "fair"))
        RUN(fair);
    int fails = tkd_t_fail, total = 0;
    MPI_Allreduce(&fails, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("rank 0: %d passed, %d failed; all ranks: %d failed\n", tkd_t_pass, tkd_t_fail, total);
    MPI_Finalize();
    return total ? 1 : 0;
}
