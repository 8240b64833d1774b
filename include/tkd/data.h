/*
 * data: problems read from JSONL files in the shapes real users have.
 *   math   MATH: {problem, solution, level:"Level 3", type:"Algebra", id}
 *   bench  MATH500/AIME/AMC/OlympiadBench: {problem, solution, source, id, level?}
 *          where solution is a full solution or just the answer
 *   gsm8k  GSM8K: {question, answer:"... #### 72"}
 *   auto   decided per line from the keys present
 * Each problem gets a stable id (prefix/record-id, or prefix/h<content hash>
 * when the record has no id), a 64-bit pid = tkd_hash64(id), a subject, a
 * level (0 when unknown) and a gold answer: the last \boxed{}/\fbox{} of a
 * full solution (brace-matched), a short solution taken as the answer itself,
 * or the number after GSM8K's "####".
 */
#ifndef TKD_DATA_H
#define TKD_DATA_H

#include "tkd/core.h"

#include <stddef.h>
#include <stdint.h>

/* A solution this short with no \boxed is taken to be the answer itself. */
#define TKD_DATA_SHORT_SOLUTION 64
/* Lines longer than this are reported as malformed (a runaway file). */
#define TKD_DATA_MAX_LINE (16u << 20)

typedef struct tkd_problem {
    char *id;       /* "math500/0261", "train/algebra/1531" */
    uint64_t pid;   /* tkd_hash64(id) */
    char *source;   /* the id prefix: "math500", "train/algebra" */
    char *subject;  /* "Algebra", or "" */
    int level;      /* 1..5; 0 unknown */
    char *problem;
    char *solution; /* "" when the file has none */
    char *answer;   /* gold answer; NULL when none could be found */
} tkd_problem;

typedef struct tkd_problem_set {
    tkd_problem *items;
    size_t n, cap;
} tkd_problem_set;

typedef enum { TKD_DATA_AUTO, TKD_DATA_MATH, TKD_DATA_BENCH, TKD_DATA_GSM8K } tkd_data_format;

typedef struct tkd_data_opts {
    const char *name;       /* id prefix; NULL/"": record's "source", else parent-folder/file-stem */
    tkd_data_format format;
    size_t limit;           /* 0: all */
    int fail_on_bad_line;   /* else report and skip */
} tkd_data_opts;

/* lines: records read (blank lines aside); imported: problems added to the
 * set, duplicates of earlier ids not counted; no_answer: of those imported;
 * duplicates: dropped because an earlier problem has the id. So the counts of
 * several loads into one set add up to the set's. */
typedef struct tkd_data_stats {
    size_t lines, imported, bad, no_answer, duplicates;
} tkd_data_stats;

int tkd_data_format_parse(const char *s, tkd_data_format *f);

/* Read one JSONL file, or every *.jsonl under a folder (sorted), appending
 * to set. Malformed lines are reported as "file:line: reason" (log warning)
 * and skipped, or fatal with fail_on_bad_line. Duplicate ids are dropped
 * with a warning. stats accumulates. */
int tkd_data_load(const char *path, const tkd_data_opts *opts, tkd_problem_set *set, tkd_data_stats *stats,
                  tkd_err *e);

/* The JSONL files a source path stands for: the file itself, or every
 * *.jsonl under a folder, depth first, in name order. */
typedef struct tkd_data_files {
    char **paths;
    size_t n, cap;
} tkd_data_files;
int tkd_data_list_files(const char *path, tkd_data_files *files, tkd_err *e);
void tkd_data_files_free(tkd_data_files *files);

/* The gold answer of a record's answer text, by format (malloc'd or NULL):
 * the last \boxed{}/\fbox{}; NULL (no answer) when that box is empty or not
 * closed; a bench file's short solution as is; GSM8K's number after ####. */
char *tkd_data_gold_answer(const char *solution, tkd_data_format fmt);

/* The problem as the JSON text stored in the trace store (caller frees),
 * and back. */
char *tkd_problem_to_json(const tkd_problem *p);
int tkd_problem_from_json(const char *text, tkd_problem *p, tkd_err *e);
void tkd_problem_clear(tkd_problem *p);

void tkd_problem_set_init(tkd_problem_set *set);
void tkd_problem_set_free(tkd_problem_set *set);

#endif
