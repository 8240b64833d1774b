/*
 * Job files: one JSON file describes a whole run (data, teacher endpoint,
 * agent settings, training, evaluation, output folder). Loading validates it
 * against the schema in src/core/job_schema.c and fills every default, so a
 * phase reads settings with the getters below and never re-checks them.
 *
 * Errors name the file, the key path and what was expected:
 *   job.json: unknown key 'dist.leese_max' (did you mean 'dist.lease_max'?)
 *   job.json: key 'dist.lease_max': expected an integer, got a string
 */
#ifndef TKD_JOB_H
#define TKD_JOB_H

#include "tkd/core.h"

#include <jansson.h>

typedef enum {
    TKD_JT_OBJECT,    /* nested section; its keys are listed after it */
    TKD_JT_STRING,
    TKD_JT_INT,
    TKD_JT_NUMBER,    /* integer or real */
    TKD_JT_BOOL,
    TKD_JT_ARRAY,     /* array of objects; item keys are listed as "path[].key" */
    TKD_JT_STRINGS,   /* array of strings */
    TKD_JT_ANY        /* any JSON value, checked by the phase that reads it */
} tkd_job_type;

typedef struct tkd_job_key {
    const char *path;    /* "dist.lease_max"; keys of array items: "data.sources[].path" */
    tkd_job_type type;
    const char *def;     /* default as JSON text; NULL: the key is required */
    double min, max;     /* bounds for INT and NUMBER when min <= max */
    const char *choices; /* allowed STRING values, "a|b|c"; NULL: any */
    const char *help;    /* one line, shown by `tkd config keys` */
} tkd_job_key;

/* The schema: parents come before their children. Ends with a {NULL} row. */
extern const tkd_job_key tkd_job_schema[];

typedef struct tkd_job {
    char *path;         /* the file it came from */
    char *text;         /* the file's bytes, verbatim (copied into every store) */
    char sha256[65];    /* of text */
    json_t *root;       /* resolved: overrides applied, defaults filled */
} tkd_job;

/*
 * Load, apply "a.b.c=value" overrides (value parsed as JSON, else taken as a
 * string; a numeric segment indexes an array), validate and fill defaults.
 */
int tkd_job_load(const char *path, const char *const *overrides, int n_overrides, tkd_job *job, tkd_err *e);
/* Same from a string already in memory (name is used in messages). */
int tkd_job_load_text(const char *name, const char *text, const char *const *overrides, int n_overrides,
                      tkd_job *job, tkd_err *e);
void tkd_job_free(tkd_job *job);

/* Getters on the resolved job, by dotted path. The schema guarantees type. */
json_t *tkd_job_get(const tkd_job *job, const char *path);
const char *tkd_job_str(const tkd_job *job, const char *path);
long long tkd_job_int(const tkd_job *job, const char *path);
double tkd_job_num(const tkd_job *job, const char *path);
int tkd_job_bool(const tkd_job *job, const char *path);

/* The resolved job as indented JSON (caller frees). */
char *tkd_job_dump(const tkd_job *job);

/* Relative paths in a job file are taken relative to the working directory
 * the phase runs in (where sbatch was called), as with any command. */

#endif
