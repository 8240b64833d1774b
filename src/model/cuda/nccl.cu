/*
 * Part 3 of the CUDA twin: data parallelism between GPUs with NCCL, the
 * GPU counterpart of comm.c. One MPI rank per GPU: each rank picks its
 * device from its rank on the node, rank 0 makes the NCCL unique id and
 * MPI_COMM_WORLD carries it to the others, and every rank joins one NCCL
 * communicator. Nodes are found by NCCL itself (sockets or InfiniBand, see
 * NCCL_SOCKET_IFNAME and NCCL_IB_HCA), so several nodes take the same path
 * as one. Only the gradients go through NCCL; the few doubles of the loss
 * and token counts and the stop flag stay on MPI (tkd_comm).
 */
#define OMPI_SKIP_MPICXX 1 /* the C API only, also when nvcc compiles this as C++ */
#define MPICH_SKIP_MPICXX 1

#include "tkd_cuda.h"

#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUS_ID_LEN 32 /* "0000:18:00.0" and room to spare */

struct tkd_nccl {
    ncclComm_t comm;
    int rank, world, device;
};

/* This rank's index on its node: the launcher's word when it gives one
 * (Open MPI's mpiexec, Slurm's srun, MPICH's Hydra), else the rank in
 * MPI's shared-memory communicator (which every rank computes: collective). */
static int local_rank(MPI_Comm node) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID",
                                       "PMI_LOCAL_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        char *end;
        long l = v && *v ? strtol(v, &end, 10) : -1;
        if (v && *v && !*end && l >= 0)
            return (int)l;
    }
    int r = 0;
    MPI_Comm_rank(node, &r);
    return r;
}

/* Every rank learns whether any rank failed (so none waits alone in a
 * collective); returns the number of ranks that failed. */
static int failed_ranks(int failed) {
    int n = failed ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return n;
}

int tkd_nccl_init(tkd_nccl **out, int *device, tkd_err *e) {
    *out = NULL;
    int init = 0;
    MPI_Initialized(&init);
    if (!init)
        return tkd_err_set(e, TKD_EMPI, "NCCL needs MPI to pass its id: MPI is not initialised (tkd_comm_mpi first)");
    tkd_nccl *c = (tkd_nccl *)calloc(1, sizeof *c);
    if (!c)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->world);
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node);
    int lr = local_rank(node), count = 0, rc = 0;
    char bus[BUS_ID_LEN] = "";
    cudaError_t ce = cudaGetDeviceCount(&count);
    if (ce != cudaSuccess || count < 1)
        rc = tkd_err_set(e, TKD_EIO, "rank %d: no CUDA device visible (%s)", c->rank,
                         ce != cudaSuccess ? cudaGetErrorString(ce) : "CUDA_VISIBLE_DEVICES is empty");
    if (!rc) {
        c->device = lr % count;
        if ((ce = cudaSetDevice(c->device)) != cudaSuccess ||
            (ce = cudaDeviceGetPCIBusId(bus, (int)sizeof bus, c->device)) != cudaSuccess)
            rc = tkd_err_set(e, TKD_EIO, "rank %d: CUDA device %d: %s", c->rank, c->device, cudaGetErrorString(ce));
    }
    /* two ranks on one GPU (more tasks than GPUs on a node) would make NCCL
     * fail or crawl: compare the PCI bus ids of the node's ranks */
    int node_size = 1;
    MPI_Comm_size(node, &node_size);
    char *all = (char *)calloc((size_t)node_size, BUS_ID_LEN);
    if (!all && !rc)
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (all) {
        MPI_Allgather(bus, BUS_ID_LEN, MPI_CHAR, all, BUS_ID_LEN, MPI_CHAR, node);
        int me = 0;
        MPI_Comm_rank(node, &me);
        for (int i = 0; i < node_size && !rc; i++)
            if (i != me && *bus && !strncmp(all + (size_t)i * BUS_ID_LEN, bus, BUS_ID_LEN))
                rc = tkd_err_set(e, TKD_EINVAL,
                                 "rank %d: GPU %s (device %d of %d visible) is also taken by another rank on this "
                                 "node: run one rank per GPU (srun --gpus-per-task=1, or --ntasks-per-node equal to "
                                 "the GPUs per node)",
                                 c->rank, bus, c->device, count);
        free(all);
    }
    MPI_Comm_free(&node);
    int bad = failed_ranks(rc != 0);
    if (bad && !rc)
        rc = tkd_err_set(e, TKD_EIO, "%d rank%s could not take a GPU (see their errors)", bad, bad > 1 ? "s" : "");
    /* rank 0 makes the id; its status travels with it so no rank waits for nothing */
    struct {
        ncclUniqueId id;
        int ok;
    } msg;
    memset(&msg, 0, sizeof msg);
    if (!rc && c->rank == 0) {
        ncclResult_t nr = ncclGetUniqueId(&msg.id);
        msg.ok = nr == ncclSuccess;
        if (!msg.ok)
            rc = tkd_err_set(e, TKD_EIO, "ncclGetUniqueId: %s", ncclGetErrorString(nr));
    }
    if (!bad) {
        MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (!msg.ok && !rc)
            rc = tkd_err_set(e, TKD_EIO, "rank 0 could not make the NCCL id (see its error)");
    }
    if (!rc) {
        ncclResult_t nr = ncclCommInitRank(&c->comm, c->world, msg.id, c->rank);
        if (nr != ncclSuccess)
            rc = tkd_err_set(e, TKD_EIO,
                             "rank %d of %d: ncclCommInitRank on GPU %s: %s%s%s (NCCL_DEBUG=INFO says more; between "
                             "nodes check NCCL_SOCKET_IFNAME / NCCL_IB_HCA)",
                             c->rank, c->world, bus, ncclGetErrorString(nr), *ncclGetLastError(NULL) ? ": " : "",
                             ncclGetLastError(NULL));
    }
    if (rc) {
        free(c);
        return rc;
    }
    *device = c->device;
    *out = c;
    return 0;
}

void tkd_nccl_free(tkd_nccl *c) {
    if (!c)
        return;
    if (c->comm)
        ncclCommDestroy(c->comm);
    free(c);
}

int tkd_nccl_sum_f32(tkd_nccl *c, float *buf, size_t n, size_t bucket_bytes, tkd_stream_t s, tkd_err *e) {
    if (!c || !n) /* one rank: a communicator of one still runs (tests/gpu/test_nccl.c uses it) */
        return 0;
    size_t per = bucket_bytes >= sizeof(float) ? bucket_bytes / sizeof(float) : n;
    /* one group: NCCL launches the buckets back to back on s without a host
     * round trip between them */
    ncclResult_t nr = ncclGroupStart();
    for (size_t off = 0; off < n && nr == ncclSuccess; off += per) {
        size_t k = n - off < per ? n - off : per;
        nr = ncclAllReduce(buf + off, buf + off, k, ncclFloat, ncclSum, c->comm, (cudaStream_t)s);
    }
    ncclResult_t ne = ncclGroupEnd();
    if (nr == ncclSuccess)
        nr = ne;
    if (nr != ncclSuccess)
        return tkd_err_set(e, TKD_EIO, "rank %d: NCCL all-reduce of %zu gradients on GPU %d: %s%s%s", c->rank, n,
                           c->device, ncclGetErrorString(nr), *ncclGetLastError(c->comm) ? ": " : "",
                           ncclGetLastError(c->comm));
    return 0;
}
