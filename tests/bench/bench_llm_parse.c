/*
 * bench_llm_parse: time to read one 2 KiB chat completion, the client's main
 * CPU cost at 20,000 replies/s. Rows: the fast path (tkd_llm_fast_parse), the
 * Jansson path (tkd_llm_parse_response_jansson, the reference it falls back
 * to) and the lean arena JSON parse alone (tkd_json_parse, no field reads).
 * Bodies: the plain reply of tests/bench/bench_llm.sh (ASCII content) and a
 * reasoning reply (reasoning_content, escapes, non-ASCII UTF-8) of 2 KiB, and
 * a 16 KiB reasoning reply (past the arena's inline 4 KiB). Prints
 * microseconds per reply, best of 5 rounds; not a test.
 *   bench_llm_parse [SECONDS-PER-ROUND]   (default 0.2)
 */
#include "tkd/json.h"
#include "tkd/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A chat completion of about `size` bytes: content (and reasoning) cut to fit. */
static char *make_body(int reasoning, size_t size) {
    static const char plain[] = "We add the two numbers carefully and check the result twice. ";
    static const char fancy[] = "Let x = 3. Then x\\u00b2 = 9 \xe2\x80\x94 so \\\"x\\\" \xe2\x89\xa5 0.\\n";
    const char *unit = reasoning ? fancy : plain;
    size_t n = 0, ul = strlen(unit), want = reasoning ? size / 2 - 190 : size - 330, cap = size + 1024;
    char *text = malloc(want + 1), *big = malloc(cap);
    if (!text || !big) {
        free(text);
        free(big);
        return NULL;
    }
    while (n + ul < want) {
        memcpy(text + n, unit, ul);
        n += ul;
    }
    text[n] = 0;
    if (reasoning)
        snprintf(big, cap,
                 "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"bench-"
                 "model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"%s\\\\boxed{9}\","
                 "\"reasoning_content\":\"%s\",\"tool_calls\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                 "\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":480,\"total_tokens\":520,"
                 "\"prompt_tokens_details\":null}}",
                 text, text);
    else
        snprintf(big, cap,
                 "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"bench-"
                 "model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"%s\\\\boxed{42}"
                 "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":480,"
                 "\"total_tokens\":520}}",
                 text);
    free(text);
    return big;
}

enum { FAST, JANSSON, ARENA };

/* One read of body; 0 when it succeeded. */
static int once(int how, const char *body, size_t len) {
    if (how == ARENA) {
        tkd_arena a;
        tkd_arena_init(&a);
        tkd_json *v;
        int rc = tkd_json_parse(&a, body, len, &v, NULL);
        tkd_arena_free(&a);
        return rc;
    }
    tkd_llm_response r;
    memset(&r, 0, sizeof r);
    tkd_err e = {0};
    int rc = how == FAST ? !tkd_llm_fast_parse(body, len, &r)
                         : tkd_llm_parse_response_jansson(body, len, TKD_LLM_TOOLS_NATIVE, &r, &e);
    free(r.content);
    free(r.reasoning_content);
    free(r.finish_reason);
    free(r.tool_calls);
    return rc;
}

/* Microseconds per read, the best of 5 rounds of about `secs` each. */
static double time_us(int how, const char *body, double secs) {
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        long n = 0;
        double t0 = now(), t;
        do {
            for (int i = 0; i < 64; i++)
                if (once(how, body, strlen(body)))
                    return -1;
            n += 64;
        } while ((t = now()) - t0 < secs);
        double us = (t - t0) / (double)n * 1e6;
        if (us < best)
            best = us;
    }
    return best;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 0.2;
    if (!(secs > 0))
        secs = 0.2;
    static const char *const names[] = {"plain 2 KiB reply", "reasoning 2 KiB reply", "reasoning 16 KiB reply"};
    static const size_t sizes[] = {2048, 2048, 16384};
    printf("reading one chat completion (us per reply, best of 5 rounds of %.2f s)\n", secs);
    printf("  %-22s %6s %14s %14s %14s %10s\n", "body", "bytes", "fast path", "jansson path", "json parse",
           "jansson/fast");
    for (int k = 0; k < 3; k++) {
        char *body = make_body(k > 0, sizes[k]);
        if (!body)
            return 1;
        double f = time_us(FAST, body, secs), j = time_us(JANSSON, body, secs), a = time_us(ARENA, body, secs);
        tkd_llm_response r;
        memset(&r, 0, sizeof r);
        int answered = tkd_llm_fast_parse(body, strlen(body), &r);
        free(r.content);
        free(r.reasoning_content);
        free(r.finish_reason);
        if (f < 0 || j < 0 || a < 0 || !answered) {
            fprintf(stderr, "bench_llm_parse: a reader refused the %s\n", names[k]);
            return 1;
        }
        printf("  %-22s %6zu %14.2f %14.2f %14.2f %9.1fx\n", names[k], strlen(body), f, j, a, j / f);
        free(body);
    }
    return 0;
}
