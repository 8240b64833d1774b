/*
 * The import phase: problems from JSONL into OUT/problems.h5, the store file
 * every later phase reads its problems from. The file is written under a
 * temporary name and renamed, so a crash never leaves half a problem set.
 */
#include "tkd/phases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tkd_phase_problems_path(const tkd_job *job, tkd_err *e) {
    tkd_buf b;
    tkd_buf_init(&b);
    if (tkd_buf_printf(&b, "%s/problems.h5", tkd_job_str(job, "output_dir"))) {
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
        return NULL;
    }
    return tkd_buf_steal(&b);
}

static int write_problems(const tkd_job *job, const tkd_problem_set *set, const char *const *inputs, int n_inputs,
                          const char *path, tkd_err *e) {
    char *manifest = tkd_store_manifest(job, inputs, n_inputs, e);
    if (!manifest)
        return e->code ? e->code : TKD_ENOMEM;
    tkd_buf tmp;
    tkd_buf_init(&tmp);
    if (tkd_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid())) {
        free(manifest);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    unlink(tmp.data);
    tkd_store_meta meta = {.phase = TKD_PHASE_PROBLEM, .rank = 0, .attempt = 0, .job_text = job->text,
                           .job_sha256 = job->sha256, .manifest_json = manifest};
    tkd_store *st = NULL;
    int rc = tkd_store_create(tmp.data, &meta, &st, e);
    free(manifest);
    if (!rc)
        tkd_store_set_flush_every(st, 4096);
    for (size_t i = 0; !rc && i < set->n; i++) {
        const tkd_problem *p = &set->items[i];
        char *js = tkd_problem_to_json(p);
        if (!js) {
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
            break;
        }
        tkd_record r = {.pid = p->pid, .phase = TKD_PHASE_PROBLEM, .status = TKD_ST_DONE,
                        .flags = p->answer ? TKD_F_HAS_ANSWER : 0, .finished_at = tkd_wall_time()};
        rc = tkd_store_append(st, &r, js, strlen(js), e);
        free(js);
    }
    int rc2 = tkd_store_close(st, rc ? NULL : e);
    if (!rc)
        rc = rc2;
    if (!rc && rename(tmp.data, path) != 0)
        rc = tkd_err_set(e, TKD_EIO, "cannot rename '%s' to '%s'", tmp.data, path);
    if (rc)
        unlink(tmp.data);
    tkd_buf_free(&tmp);
    return rc;
}

int tkd_phase_import(const tkd_job *job, const char *const *extra_paths, int n_extra, tkd_err *e) {
    json_t *sources = tkd_job_get(job, "data.sources");
    size_t n_src = json_array_size(sources);
    if (n_src + (size_t)n_extra == 0)
        return tkd_err_set(e, TKD_EINVAL,
                           "%s: no problems to import: list files in data.sources (or give paths after the job file)",
                           job->path);
    const char **inputs = tkd_calloc(n_src + (size_t)n_extra, sizeof *inputs, e);
    if (!inputs)
        return TKD_ENOMEM;
    tkd_data_files files = {0}; /* every file read, for the manifest */
    int fail = !strcmp(tkd_job_str(job, "data.on_bad_line"), "fail");
    tkd_problem_set set;
    tkd_problem_set_init(&set);
    tkd_data_stats total = {0};
    int rc = 0;
    printf("%-40s %8s %8s %6s %9s %5s\n", "source", "lines", "imported", "bad", "no-answer", "dups");
    for (size_t i = 0; !rc && i < n_src + (size_t)n_extra; i++) {
        tkd_data_opts o = {.fail_on_bad_line = fail};
        tkd_data_stats st = {0};
        if (i < n_src) {
            json_t *s = json_array_get(sources, i);
            inputs[i] = json_string_value(json_object_get(s, "path"));
            o.name = json_string_value(json_object_get(s, "name"));
            o.limit = (size_t)json_integer_value(json_object_get(s, "limit"));
            tkd_data_format_parse(json_string_value(json_object_get(s, "format")), &o.format);
        } else {
            inputs[i] = extra_paths[i - n_src];
        }
        rc = tkd_data_load(inputs[i], &o, &set, &st, e);
        if (!rc)
            rc = tkd_data_list_files(inputs[i], &files, e);
        if (!rc)
            printf("%-40s %8zu %8zu %6zu %9zu %5zu\n", inputs[i], st.lines, st.imported, st.bad, st.no_answer,
                   st.duplicates);
        total.lines += st.lines;
        total.imported += st.imported;
        total.bad += st.bad;
        total.no_answer += st.no_answer;
        total.duplicates += st.duplicates;
    }
    char *path = NULL;
    if (!rc)
        printf("%-40s %8zu %8zu %6zu %9zu %5zu\n", "total", total.lines, total.imported, total.bad, total.no_answer,
               total.duplicates);
    if (!rc && !set.n) /* nothing to solve: a wrong file or format, not a run to start */
        rc = total.bad ? tkd_err_set(e, TKD_EINVAL,
                                     "%s: no problem imported: all %zu lines were bad (reported above); check the "
                                     "files and data.sources[].format",
                                     job->path, total.bad)
                       : tkd_err_set(e, TKD_EINVAL, "%s: no problem imported: the sources hold no records", job->path);
    if (!rc)
        rc = tkd_mkdirs(tkd_job_str(job, "output_dir"), e);
    if (!rc && !(path = tkd_phase_problems_path(job, e)))
        rc = TKD_ENOMEM;
    char *dest = rc ? NULL : tkd_path_follow(path, e); /* a sweep links problems.h5 into a shared stage */
    if (!rc && !dest)
        rc = TKD_ENOMEM;
    if (!rc)
        rc = write_problems(job, &set, (const char *const *)files.paths, (int)files.n, dest, e);
    free(dest);
    if (!rc)
        rc = tkd_phase_mark_complete(job, "import", path, (const char *const *)files.paths, (int)files.n, e);
    if (!rc)
        tkd_log_info("imported %zu problems into %s", set.n, path);
    free(path);
    free(inputs);
    tkd_data_files_free(&files);
    tkd_problem_set_free(&set);
    return rc;
}

int tkd_phase_load_problems(const tkd_job *job, tkd_problem_set *set, tkd_err *e) {
    char *path = tkd_phase_problems_path(job, e);
    if (!path)
        return TKD_ENOMEM;
    tkd_store *st = NULL;
    int rc = tkd_store_open(path, &st, e);
    if (rc)
        tkd_err_wrap(e, "reading the problems (run `tkd data import %s` first)", job->path);
    size_t n = rc ? 0 : tkd_store_count(st);
    for (size_t i = 0; !rc && i < n; i++) {
        tkd_record r;
        char *text = NULL;
        rc = tkd_store_read(st, i, &r, e);
        if (!rc && r.phase == TKD_PHASE_PROBLEM)
            rc = tkd_store_read_text(st, &r, &text, e);
        if (!rc && text) {
            tkd_problem p;
            rc = tkd_problem_from_json(text, &p, e);
            if (!rc && set->n == set->cap) {
                size_t cap = set->cap ? set->cap * 2 : 256;
                tkd_problem *it = tkd_realloc(set->items, cap * sizeof *it, e);
                if (!it) {
                    tkd_problem_clear(&p);
                    rc = TKD_ENOMEM;
                } else {
                    set->items = it;
                    set->cap = cap;
                }
            }
            if (!rc)
                set->items[set->n++] = p;
        }
        free(text);
    }
    tkd_store_close(st, NULL);
    free(path);
    return rc;
}
