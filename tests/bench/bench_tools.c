/*
 * bench_tools: every call in a JSONL file ({"tool", "args"}) through
 * tkd_tools_call in this process, warm, repeated until 0.2 s have passed;
 * prints "tool<TAB>microseconds per call<TAB>ok|error" lines. A last line
 * "pool_overhead<TAB>us" is the extra latency of one trivial call through the
 * worker pool over the direct call. bench_tools.sh compares with SymPy.
 *   bench_tools tests/bench/bench_tools.jsonl
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tkd/tools.h"

static double per_call(const char *tool, const char *args, int *ok) {
    size_t n = strlen(args);
    char *a = NULL;
    tkd_err e = {0};
    tkd_tools_call(tool, args, n, &a, NULL, &e); /* warm up */
    *ok = a && strstr(a, "\"result\"") != NULL;
    free(a);
    long it = 0;
    double t0 = tkd_now(), t;
    do {
        tkd_tools_call(tool, args, n, &a, NULL, &e);
        free(a);
        it++;
        t = tkd_now() - t0;
    } while (t < 0.2 && it < 100000);
    return t / (double)it * 1e6;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_tools CALLS.jsonl\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char line[65536];
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *tool = json_string_value(json_object_get(j, "tool"));
        char *args = tool ? json_dumps(json_object_get(j, "args"), JSON_COMPACT) : NULL;
        if (args) {
            int ok;
            double us = per_call(tool, args, &ok);
            printf("%s\t%.2f\t%s\n", tool, us, ok ? "ok" : "error");
            fflush(stdout);
        }
        free(args);
        json_decref(j);
    }
    fclose(f);
    /* the pool: one trivial call, round trip through a worker */
    tkd_tools_pool *p;
    tkd_err e = {0};
    if (tkd_tools_pool_create(1, NULL, &p, &e) == 0) {
        int n = 0, ok;
        double direct = per_call("gcd", "{\"numbers\": [12, 18]}", &ok);
        long it = 0;
        double t0 = tkd_now();
        while (tkd_now() - t0 < 0.3) {
            tkd_tools_pool_submit(p, (uint64_t)it, "gcd", "{\"numbers\": [12, 18]}", &e);
            tkd_tool_done d;
            do
                tkd_tools_pool_poll(p, -1, &d, 1, &n, &e);
            while (n == 0);
            free(d.answer);
            it++;
        }
        double pooled = (tkd_now() - t0) / (double)it * 1e6;
        printf("pool_overhead\t%.2f\t(direct %.2f us, through the pool %.2f us)\n", pooled - direct, direct, pooled);
        tkd_tools_pool_free(p);
    }
    return 0;
}
