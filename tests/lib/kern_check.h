/*
 * What the kernel tests share (tests/gpu/test_kern.c, tests/cuda/test_kern_host.cu;
 * included by a relative path, their builds' include folders differ):
 *  - CHECK(cond, printf-style message): counts checks and failures and prints
 *    the failures, the first KERN_CHECK_PRINT_MAX of them (set it before the
 *    include; all of them by default); kern_check_end() prints the count for main;
 *  - xorshift64 random numbers from the seed the test sets in KERN_CHECK_SEED:
 *    next_u64(), and uni(), uniform in [-1, 1);
 *  - kern_ref_sumexp(), the row statistics of the loss's CPU reference.
 */
#ifndef TKD_KERN_CHECK_H
#define TKD_KERN_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#ifndef KERN_CHECK_SEED
#error "define KERN_CHECK_SEED (the test's random seed) before including kern_check.h"
#endif
#ifndef KERN_CHECK_PRINT_MAX
#define KERN_CHECK_PRINT_MAX 2147483647
#endif

static int fails, checks;
#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        checks++;                                                                                                      \
        if (!(cond)) {                                                                                                 \
            if (fails++ < KERN_CHECK_PRINT_MAX) {                                                                      \
                printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                            \
                printf(__VA_ARGS__);                                                                                   \
                printf("\n");                                                                                          \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

static inline int kern_check_end(void) {
    printf("%d checks, %d failed\n", checks, fails);
    return fails ? 1 : 0;
}

static uint64_t rng = KERN_CHECK_SEED;
static inline uint64_t next_u64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static inline float uni(void) { // [-1, 1)
    return (float)((next_u64() >> 11) * 0x1.0p-53) * 2.0f - 1.0f;
}

/* as qwen2.c's loss: *mx = the largest of x[0..V-1], and the double sum of the fp32 expf(x[i] - *mx) */
static inline double kern_ref_sumexp(const float *x, int V, float *mx) {
    float m = -INFINITY;
    for (int i = 0; i < V; i++)
        m = fmaxf(m, x[i]);
    double sum = 0;
    for (int i = 0; i < V; i++)
        sum += expf(x[i] - m);
    *mx = m;
    return sum;
}

#endif
