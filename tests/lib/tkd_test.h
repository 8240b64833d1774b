/*
 * A minimal test harness for tkd's C tests: CHECK macros that report file and
 * line, and a closing line "N passed, N failed" that CI reads.
 * Use: TEST(name) { CHECK(...); }  and  int main(void) { RUN(name); return TEST_END(); }
 */
#ifndef TKD_TEST_H
#define TKD_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tkd_t_pass, tkd_t_fail, tkd_t_cur_fail;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) {                                                                      \
            tkd_t_pass++;                                                                \
        } else {                                                                         \
            tkd_t_fail++;                                                                \
            tkd_t_cur_fail++;                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);      \
        }                                                                                \
    } while (0)

#define CHECK_INT(a, b)                                                                              \
    do {                                                                                             \
        long long tkd_a_ = (long long)(a), tkd_b_ = (long long)(b);                                  \
        if (tkd_a_ == tkd_b_) {                                                                      \
            tkd_t_pass++;                                                                            \
        } else {                                                                                     \
            tkd_t_fail++;                                                                            \
            tkd_t_cur_fail++;                                                                        \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,    \
                    tkd_a_, tkd_b_);                                                                 \
        }                                                                                            \
    } while (0)

#define CHECK_STR(a, b)                                                                              \
    do {                                                                                             \
        const char *tkd_a_ = (a), *tkd_b_ = (b);                                                     \
        if (tkd_a_ && tkd_b_ && strcmp(tkd_a_, tkd_b_) == 0) {                                       \
            tkd_t_pass++;                                                                            \
        } else {                                                                                     \
            tkd_t_fail++;                                                                            \
            tkd_t_cur_fail++;                                                                        \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
                    tkd_a_ ? tkd_a_ : "(null)", tkd_b_ ? tkd_b_ : "(null)");                         \
        }                                                                                            \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                        \
    do {                                                                                             \
        double tkd_a_ = (a), tkd_b_ = (b);                                                           \
        if (fabs(tkd_a_ - tkd_b_) <= (tol)) {                                                        \
            tkd_t_pass++;                                                                            \
        } else {                                                                                     \
            tkd_t_fail++;                                                                            \
            tkd_t_cur_fail++;                                                                        \
            fprintf(stderr, "%s:%d: %s ~ %s failed: %g vs %g\n", __FILE__, __LINE__, #a, #b, tkd_a_,  \
                    tkd_b_);                                                                         \
        }                                                                                            \
    } while (0)

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                                  \
    do {                                                                           \
        tkd_t_cur_fail = 0;                                                        \
        test_##name();                                                             \
        fprintf(stderr, "%s %s\n", tkd_t_cur_fail ? "FAIL" : "ok  ", #name);      \
    } while (0)
#define TEST_END() (printf("%d passed, %d failed\n", tkd_t_pass, tkd_t_fail), tkd_t_fail ? 1 : 0)

#endif
