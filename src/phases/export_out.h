/*
 * The export phase's state and its outputs (src/phases/export_out.c): the
 * two JSONL files of a variant, written under temporary names and renamed
 * once complete, its manifest.json and its README.md card.
 */
#ifndef TKD_EXPORT_OUT_H
#define TKD_EXPORT_OUT_H

#include "export_int.h"
#include "export_line.h"

#include "tkd/grade.h"
#include "tkd/json.h"
#include "tkd/phases.h"
#include "tkd/tokenizer.h"

#include <stdio.h>

enum { EXP_NL, EXP_TIR, EXP_GOLD, EXP_N_VARIANTS };
extern const char *const exp_variant_name[EXP_N_VARIANTS];

/* The filter stages, in the order they run (each counted in the manifest). */
enum {
    EXP_S_STATUS,      /* the record's status is not selected */
    EXP_S_UNKNOWN,     /* its problem is not in problems.h5 */
    EXP_S_DECON,       /* the problem matches a benchmark problem */
    EXP_S_MALFORMED,   /* its text is unusable (not JSON, another record's, no solution, bad tool arguments) */
    EXP_S_ANSWER,      /* no boxed answer, or one that is not the gold answer */
    EXP_S_LENGTH,      /* more than export.max_tokens tokens with the student's tokenizer */
    EXP_S_DEDUP_EXACT, /* same normalized problem and solution as an earlier example */
    EXP_S_DEDUP_NEAR,  /* MinHash Jaccard >= threshold with a kept solution of the same problem */
    EXP_S_PER_PROBLEM, /* the problem already has export.per_problem examples */
    EXP_N_STAGES
};
extern const char *const exp_stage_name[EXP_N_STAGES];

typedef struct exp_pstate {
    int decon; /* -1 not checked yet, 0 clean, 1 matches */
    exp_decon_match *match;
    size_t dropped_in[EXP_N_VARIANTS];
} exp_pstate;

typedef struct exp_bench {
    char *name, *path;
    size_t problems;
} exp_bench;

typedef struct {
    uint64_t *k;
    uint32_t *v;
    size_t cap;
} exp_pidmap;

typedef struct exp_ctx {
    const tkd_job *job;
    uint64_t seed;
    long long max_tokens, per_problem;
    double valid_fraction, near_threshold;
    int allow_partial, check_answer, dedup_exact, dedup_near, shingle, keep_follow_ups, tools_used_only;
    unsigned tir_statuses, variants;
    char *out_dir, *solve_path, *bt_path, *problems_path, *tok_path;
    tkd_grade_opts grade;
    tkd_student_prompt prompt;
    tkd_problem_set problems;
    exp_pidmap pids;
    exp_pstate *pstate;
    exp_decon *decon;
    exp_bench *bench;
    size_t n_bench;
    exp_tools tools;
    tkd_buf tools_line;
    exp_words words;
    tkd_arena arena;
    tkd_tokenizer *tok;
    json_t *sha_cache; /* input path -> sha256 */
} exp_ctx;

typedef struct exp_run {
    int variant;
    size_t records_in, by_status[TKD_ST_COUNT], dropped[EXP_N_STAGES];
    /* deduplication */
    exp_set seen;
    uint32_t *sigs;
    size_t n_sigs, cap_sigs, cur_prob, kept_prob;
    /* the two files: 0 train, 1 valid */
    char *dir, *tmp[2], *path[2];
    FILE *f[2];
    tkd_sha256 sha[2];
    char sha_hex[2][65];
    size_t lines[2];
    uint64_t bytes[2];
} exp_run;

int exp_out_open(exp_ctx *x, exp_run *r, tkd_err *e);
/* Append a line (with its newline) to train or valid, by the problem's split. */
int exp_out_write(exp_ctx *x, exp_run *r, uint64_t pid, const char *line, size_t n, tkd_err *e);
int exp_out_close(exp_ctx *x, exp_run *r, tkd_err *e);
void exp_out_abort(exp_run *r);
void exp_out_free_run(exp_run *r);
/* manifest.json and README.md of a finished variant */
int exp_out_manifest(exp_ctx *x, exp_run *r, tkd_err *e);
int exp_out_add_bench(exp_ctx *x, const char *name, const char *path, size_t problems, tkd_err *e);
void exp_out_free_bench(exp_ctx *x);

#endif
