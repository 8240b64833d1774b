/*
 * The export phase's line writer (src/phases/export_line.c): one training
 * example as one JSONL line, with what the filters need to know about it.
 */
#ifndef TKD_EXPORT_LINE_H
#define TKD_EXPORT_LINE_H

#include "tkd/json.h"
#include "tkd/phases.h"

/* The tools of the tir variant: each spec as compact JSON, and which ones a
 * line used (export.tir_tools "used"). */
typedef struct exp_tools {
    char **names, **specs;
    size_t *spec_n;
    unsigned char *used;
    size_t n;
} exp_tools;
void exp_tools_mark(exp_tools *t, const char *name);

typedef struct exp_line {
    tkd_buf line;      /* the JSON line, newline included once ended */
    tkd_buf text;      /* what deduplication compares: the assistant's text and calls */
    const char *final; /* the last assistant reply (the boxed answer's source), or NULL */
    size_t final_n;
    size_t bound; /* an upper bound of the rendered chat's bytes */
    int ascii;    /* every rendered string is ASCII (so tokens <= bytes) */
    size_t n_msgs;
    exp_tools *used_tools; /* marks the tools a tir line calls; may be NULL */
} exp_line;

typedef struct exp_meta {
    const char *id, *source, *subject;
    int level, sample;
    uint64_t pid;
} exp_meta;

/* {"messages":[system?, user */
int exp_line_start(exp_line *L, const tkd_student_prompt *sp, const char *user);
int exp_line_msg(exp_line *L, const char *role, const char *content, size_t n);
/* The rest of a solve trace (doc: its parsed text) as tir messages. */
int exp_line_tir(exp_line *L, tkd_arena *a, const tkd_json *doc, int keep_follow_ups, tkd_err *e);
/* ] [,"tools":...] and the metadata fields; tools_bound: its rendered bytes at most */
int exp_line_end(exp_line *L, const char *tools_json, size_t tools_n, size_t tools_bound, const exp_meta *m);
int exp_json_has_big_int(const tkd_json *v);

#endif
