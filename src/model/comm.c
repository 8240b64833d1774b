/*
 * Gradient all-reduce between data-parallel training ranks behind a small
 * interface (tkd_comm): MPI_Allreduce over MPI_COMM_WORLD here; a NCCL
 * communicator for GPUs implements the same three calls.
 */
#include "tkd/model.h"

#include <mpi.h>

static int mpi_sum_f32(void *ctx, float *buf, size_t n, tkd_err *e) {
    (void)ctx;
    while (n) { /* counts are int: reduce in chunks */
        int c = n > (1u << 30) ? (1 << 30) : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, buf, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return tkd_err_set(e, TKD_EMPI, "MPI_Allreduce of %d gradients failed", c);
        buf += c;
        n -= (size_t)c;
    }
    return 0;
}

static int mpi_sum_f64(void *ctx, double *buf, size_t n, tkd_err *e) {
    (void)ctx;
    if (MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return tkd_err_set(e, TKD_EMPI, "MPI_Allreduce of %zu values failed", n);
    return 0;
}

static int mpi_max_int(void *ctx, int *v, tkd_err *e) {
    (void)ctx;
    if (MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return tkd_err_set(e, TKD_EMPI, "MPI_Allreduce (max) failed");
    return 0;
}

int tkd_comm_mpi(tkd_comm *c, tkd_err *e) {
    int init = 0;
    MPI_Initialized(&init);
    if (!init && MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return tkd_err_set(e, TKD_EMPI, "MPI_Init failed");
    c->ctx = NULL;
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->world);
    c->sum_f32 = mpi_sum_f32;
    c->sum_f64 = mpi_sum_f64;
    c->max_int = mpi_max_int;
    return 0;
}

static int one_f32(void *ctx, float *b, size_t n, tkd_err *e) {
    return (void)ctx, (void)b, (void)n, (void)e, 0;
}
static int one_f64(void *ctx, double *b, size_t n, tkd_err *e) {
    return (void)ctx, (void)b, (void)n, (void)e, 0;
}
static int one_max(void *ctx, int *v, tkd_err *e) {
    return (void)ctx, (void)v, (void)e, 0;
}

void tkd_comm_single(tkd_comm *c) {
    c->rank = 0;
    c->world = 1;
    c->ctx = NULL;
    c->sum_f32 = one_f32;
    c->sum_f64 = one_f64;
    c->max_int = one_max;
}

void tkd_comm_finalize(void) {
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin)
        MPI_Finalize();
}
