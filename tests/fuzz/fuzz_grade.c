/*
 * libFuzzer target for grade: the input is "GOLD\nPRED" (or a whole model
 * response). Both answers are parsed and printed, compared under a short
 * budget, and the response goes through every extraction mode. Any bytes
 * must give a result or a clean error: never a crash, a leak, or a
 * comparison that runs far past its budget.
 */
#include "tkd/grade.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_print(const char *s) {
    tkd_gnode *g = NULL;
    tkd_err e = {0};
    int rc = tkd_grade_parse_latex(s, &g, &e);
    if (rc) {
        if (g || !e.msg[0])
            abort(); /* an error comes with a message and no tree */
        return;
    }
    tkd_buf b;
    tkd_buf_init(&b);
    tkd_grade_node_print(g, &b);
    tkd_buf_free(&b);
    tkd_grade_node_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0'; /* answers are C strings: an embedded NUL ends one */
    char *nl = strchr(s, '\n');
    const char *gold = s, *pred = s;
    if (nl) {
        *nl = '\0';
        pred = nl + 1;
    }
    parse_print(gold);
    if (pred != gold)
        parse_print(pred);
    tkd_grade_opts o;
    tkd_grade_opts_default(&o);
    o.timeout_s = 0.05;
    tkd_grade_verdict v;
    double t0 = tkd_now();
    if (tkd_grade_equal(gold, pred, &o, &v) == 0 && v.result != TKD_GRADE_EQUAL && v.result != TKD_GRADE_DIFFERENT &&
        v.result != TKD_GRADE_UNDECIDED)
        abort();
    double dt = tkd_now() - t0;
    if (dt > 5.0) { /* 100x the budget, even under ASan: a hang in the making */
        fprintf(stderr, "fuzz_grade: a comparison took %.1f s with a 0.05 s budget\n", dt);
        abort();
    }
    if (nl)
        *nl = '\n';
    for (int m = TKD_GRADE_AUTO; m <= TKD_GRADE_LAST_NUMBER; m++) {
        char *out = NULL;
        int rc = tkd_grade_extract(s, (tkd_grade_mode)m, &out, NULL);
        if ((rc == 0) != (out != NULL))
            abort();
        free(out);
    }
    free(s);
    return 0;
}
