/*
 * bench_dist: hand out N zero-work items over the ranks of mpiexec with dist
 * (leases, completions reported in batches, rank 0 working too), against the
 * textbook peer: blocking master/worker self-scheduling, one item per
 * request, rank 0 serving only. Prints a table; run by bench_dist.sh as
 *   mpiexec -n 4 bench_dist [N]
 */
#include "tkd/dist.h"

#include <stdio.h>
#include <stdlib.h>

static double bench_dist(uint64_t n, uint64_t *mine) {
    tkd_dist_cfg c;
    tkd_dist_cfg_default(&c);
    c.progress_every_s = 0;
    c.label = "bench_dist";
    tkd_dist *d;
    tkd_err e = {0};
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (tkd_dist_create(MPI_COMM_WORLD, n, NULL, &c, &d, &e)) {
        fprintf(stderr, "bench_dist: %s\n", e.msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (;;) {
        tkd_dist_poll(d);
        uint64_t it;
        int r = tkd_dist_next(d, &it);
        if (r == TKD_DIST_ITEM) {
            tkd_dist_complete(d, it);
            (*mine)++;
        } else if (r != TKD_DIST_NONE_YET) {
            break;
        }
    }
    tkd_dist_finish(d, NULL, &e);
    double t = MPI_Wtime() - t0, tmax = 0;
    MPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return tmax;
}

static double bench_naive(uint64_t n, uint64_t *mine) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (rank == 0) {
        uint64_t next = 0;
        int left = size - 1;
        while (left > 0) {
            uint64_t dummy, reply;
            MPI_Status s;
            MPI_Recv(&dummy, 1, MPI_UINT64_T, MPI_ANY_SOURCE, 1, MPI_COMM_WORLD, &s);
            reply = next < n ? next++ : UINT64_MAX;
            if (reply == UINT64_MAX)
                left--;
            MPI_Send(&reply, 1, MPI_UINT64_T, s.MPI_SOURCE, 2, MPI_COMM_WORLD);
        }
    } else {
        for (;;) {
            uint64_t req = 0, it;
            MPI_Send(&req, 1, MPI_UINT64_T, 0, 1, MPI_COMM_WORLD);
            MPI_Recv(&it, 1, MPI_UINT64_T, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (it == UINT64_MAX)
                break;
            (*mine)++;
        }
    }
    double t = MPI_Wtime() - t0, tmax = 0;
    MPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return tmax;
}

int main(int argc, char **argv) {
    int prov, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &prov);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    tkd_log_set_level(TKD_LOG_WARN);
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 25000;
    uint64_t a = 0, b = 0, ta = 0, tb = 0;
    double td = bench_dist(n, &a);
    double tn = size > 1 ? bench_naive(n, &b) : 0;
    MPI_Reduce(&a, &ta, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&b, &tb, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("%-44s %8s %5s %9s %12s\n", "method", "items", "ranks", "seconds", "items/s");
        printf("%-44s %8llu %5d %9.4f %12.0f\n", "tkd dist (leases, rank 0 works too)", (unsigned long long)ta, size,
               td, (double)ta / td);
        if (size > 1)
            printf("%-44s %8llu %5d %9.4f %12.0f\n", "peer: blocking self-scheduling, 1 item/request",
                   (unsigned long long)tb, size, tn, (double)tb / tn);
        if (ta != n || (size > 1 && tb != n))
            printf("ERROR: items handed out do not add up to %llu\n", (unsigned long long)n);
        if (size > 1)
            printf("dist is %.1fx the peer's speed; target: %llu items under 2 s (%s)\n", tn / td,
                   (unsigned long long)n, td < 2 ? "met" : "MISSED");
    }
    MPI_Finalize();
    return 0;
}
