/*
 * gpu: the gradient all-reduce between GPUs (tkd_nccl_*, nccl.cu). Each rank
 * joins the NCCL communicator (its device from its rank on the node, the id
 * over MPI), fills a buffer with (rank + 1) * f(i) and sums it in place in
 * buckets that do not divide it; every element must be sum(rank + 1) * f(i)
 * exactly (small integers: no rounding). One rank under CTest (a
 * communicator of one still runs NCCL); tests/gpu/run.sh runs it with
 * `mpiexec -n 2` when the machine has two GPUs.
 */
#include "gpu_test.h"

#include <cuda_runtime_api.h>
#include <stdlib.h>

#define N 1000003 /* elements: not a multiple of any bucket */

int main(void) {
    tkd_gpu_test_require("gpu.test_nccl");
    tkd_err e = {0};
    tkd_comm comm;
    if (tkd_comm_mpi(&comm, &e)) {
        printf("FAIL MPI: %s\n", e.msg);
        return 1;
    }
    tkd_nccl *c = NULL;
    int dev = -1, bad = 0;
    if (tkd_nccl_init(&c, &dev, &e)) {
        printf("FAIL rank %d: tkd_nccl_init: %s\n", comm.rank, e.msg);
        tkd_comm_finalize();
        return 1;
    }
    float *h = malloc(sizeof(float) * N), *d = NULL;
    if (!h || cudaMalloc((void **)&d, sizeof(float) * N) != cudaSuccess) {
        printf("FAIL out of memory\n");
        return 1;
    }
    const size_t buckets[] = {0, 4096, 1 << 20, 4100}; /* 4100: 1025 floats, an odd split */
    double want_scale = comm.world * (comm.world + 1) / 2.0;
    for (size_t b = 0; b < sizeof buckets / sizeof buckets[0] && !bad; b++) {
        for (int i = 0; i < N; i++)
            h[i] = (float)((comm.rank + 1) * (i % 1000 - 500));
        if (cudaMemcpy(d, h, sizeof(float) * N, cudaMemcpyHostToDevice) != cudaSuccess ||
            tkd_nccl_sum_f32(c, d, N, buckets[b], NULL, &e) || cudaDeviceSynchronize() != cudaSuccess ||
            cudaMemcpy(h, d, sizeof(float) * N, cudaMemcpyDeviceToHost) != cudaSuccess) {
            printf("FAIL rank %d: all-reduce with %zu-byte buckets: %s\n", comm.rank, buckets[b],
                   e.msg[0] ? e.msg : cudaGetErrorString(cudaGetLastError()));
            bad = 1;
            break;
        }
        for (int i = 0; i < N && !bad; i++)
            if (h[i] != (float)(want_scale * (i % 1000 - 500))) {
                printf("FAIL rank %d: element %d is %g, want %g (buckets of %zu bytes)\n", comm.rank, i, h[i],
                       want_scale * (i % 1000 - 500), buckets[b]);
                bad = 1;
            }
    }
    comm.max_int(comm.ctx, &bad, NULL);
    if (!bad && comm.rank == 0)
        printf("ok   %d rank%s (rank 0 on GPU %d): %d floats summed exactly in buckets of 0 (one call), 4096, 1 MiB "
               "and 4100 "
               "bytes\n",
               comm.world, comm.world > 1 ? "s" : "", dev, N);
    cudaFree(d);
    free(h);
    tkd_nccl_free(c);
    tkd_comm_finalize();
    return bad;
}
