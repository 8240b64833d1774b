/*
 * What every tests/gpu/test_*.c shares: a GPU or a clear skip. Call
 * tkd_gpu_test_require() first in main: without a usable CUDA device it
 * prints one line saying why and exits 77, which CTest reports as skipped
 * (CI has no GPU; tests/gpu/run.sh runs these on a GPU machine).
 */
#ifndef TKD_GPU_TEST_H
#define TKD_GPU_TEST_H

#include "tkd_cuda.h"

#include <stdio.h>
#include <stdlib.h>

static inline int tkd_gpu_test_require(const char *test) {
    char why[512] = "";
    int n = tkd_cuda_device_count(why, sizeof why);
    if (n > 0)
        return n;
    printf("SKIPPED: %s needs a CUDA device: %s (tests/gpu/run.sh runs it on a GPU machine)\n", test,
           *why ? why : "none visible");
    fflush(stdout);
    exit(77);
}

#endif
