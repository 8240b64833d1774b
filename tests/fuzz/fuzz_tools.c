/* libFuzzer target: tool dispatch. The first byte picks a tool (or, when it
 * is 0xff, the first line is taken as a raw tool name); the rest is the
 * argument JSON, passed unchecked to tkd_tools_call. Any answer must be one
 * JSON object with "result" or "status": "error"; a crash, leak or UB is a bug. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tkd/tools.h"

/* Direct calls have no CPU limit (the pool adds it in production), so
 * inputs that are merely expensive would be reported as timeouts: skip huge
 * literals (long digit runs, 1e400, x**1000); the size guards they would
 * reach are covered by tests/tools/test_pool.c through the pool. */
static int too_expensive(const uint8_t *d, size_t n) {
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        int digit = d[i] >= '0' && d[i] <= '9';
        run = digit ? run + 1 : 0;
        if (run > 24)
            return 1;
        if (digit && run == 3 && i >= 3 && (d[i - 3] == 'e' || d[i - 3] == 'E' || d[i - 3] == '*' || d[i - 3] == '^'))
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || too_expensive(data, size))
        return 0;
    char name[TKD_TOOL_NAME_MAX + 1];
    const char *args = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] == 0xff) {
        const char *nl = memchr(args, '\n', n);
        size_t k = nl ? (size_t)(nl - args) : n;
        if (k > TKD_TOOL_NAME_MAX)
            k = TKD_TOOL_NAME_MAX;
        memcpy(name, args, k);
        name[k] = 0;
        if (nl) {
            n -= (size_t)(nl - args) + 1;
            args = nl + 1;
        } else {
            n = 0;
        }
    } else {
        const char *t = tkd_tools_name(tkd_tools_at(data[0] % tkd_tools_count()));
        strcpy(name, t);
    }
    if (!strcmp(name, "run_python"))
        return 0; /* starts a sandboxed interpreter per call: tests/tools/test_sandbox.c covers it */
    char *answer = NULL;
    tkd_err e = {0};
    int rc = tkd_tools_call(name, args, n, &answer, NULL, &e);
    if (!answer && rc != TKD_ENOMEM)
        abort(); /* every call must answer */
    if (answer) {
        json_t *j = json_loads(answer, 0, NULL);
        if (!json_is_object(j) || (!json_object_get(j, "result") && !json_object_get(j, "status")))
            abort();
        if (strlen(answer) > TKD_TOOL_OUTPUT_MAX)
            abort();
        json_decref(j);
        free(answer);
    }
    return 0;
}
