/*
 * store_from_jsonl PHASE OUT.h5 < lines: a trace store built with the store
 * API (tkd_store_create, tkd_store_append) from one JSON object per line:
 *   {"pid": "16 hex digits", "sample": 0, "status": "accepted",
 *    "turns": 0, "tool_calls": 0, "text": {...}}
 * The text object is stored compact, keys in their order. Test fixtures use
 * it for stores of phases that are not built here (back-translation), with
 * records that follow that phase's contract (include/tkd/store.h).
 */
#include "tkd/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: store_from_jsonl PHASE OUT.h5 < records.jsonl\n");
        return 2;
    }
    int phase = tkd_phase_parse(argv[1]);
    if (phase < 0) {
        fprintf(stderr, "store_from_jsonl: unknown phase '%s'\n", argv[1]);
        return 2;
    }
    tkd_err e = {0};
    tkd_store *s = NULL;
    tkd_store_meta meta = {
        .phase = (tkd_phase)phase, .rank = 0, .attempt = 0, .job_text = "{}", .manifest_json = "{\"fixture\": true}"};
    if (tkd_store_create(argv[2], &meta, &s, &e)) {
        fprintf(stderr, "store_from_jsonl: %s\n", e.msg);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long n = 0, lineno = 0;
    int rc = 0;
    while (!rc && getline(&line, &cap, stdin) > 0) {
        lineno++;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        const char *pid = json_string_value(json_object_get(j, "pid"));
        int st = tkd_status_parse(json_string_value(json_object_get(j, "status")));
        json_t *text = json_object_get(j, "text");
        if (!j || !pid || st < 0 || !text) {
            fprintf(stderr, "store_from_jsonl: line %ld: needs pid, status and text\n", lineno);
            json_decref(j);
            rc = 1;
            break;
        }
        tkd_record r;
        memset(&r, 0, sizeof r);
        r.pid = strtoull(pid, NULL, 16);
        r.sample = (uint32_t)json_integer_value(json_object_get(j, "sample"));
        r.phase = (uint8_t)phase;
        r.status = (uint8_t)st;
        r.turns = (uint32_t)json_integer_value(json_object_get(j, "turns"));
        r.tool_calls = (uint32_t)json_integer_value(json_object_get(j, "tool_calls"));
        r.finished_at = 1.7e9 + (double)n;
        char *t = json_dumps(text, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!t || tkd_store_append(s, &r, t, strlen(t), &e)) {
            fprintf(stderr, "store_from_jsonl: line %ld: %s\n", lineno, e.msg);
            rc = 1;
        }
        free(t);
        json_decref(j);
        n++;
    }
    free(line);
    if (tkd_store_close(s, &e)) {
        fprintf(stderr, "store_from_jsonl: %s\n", e.msg);
        rc = 1;
    }
    if (!rc)
        fprintf(stderr, "store_from_jsonl: %ld records into %s\n", n, argv[2]);
    return rc;
}
