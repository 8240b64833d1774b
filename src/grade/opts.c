/*
 * Grading settings from a job file: the time budget (grade.timeout_ms) and
 * the extraction mode of a source (data.sources[i].extract, falling back to
 * grade.extract). The schema has validated both, so these only read.
 */
#include "tkd/grade.h"
#include "tkd/job.h"

void tkd_grade_opts_from_job(const tkd_job *job, tkd_grade_opts *o) {
    tkd_grade_opts_default(o);
    json_t *t = job ? tkd_job_get(job, "grade.timeout_ms") : NULL;
    if (t && json_is_number(t) && json_number_value(t) > 0)
        o->timeout_s = json_number_value(t) / 1000.0;
    json_t *seed = job ? tkd_job_get(job, "seed") : NULL;
    if (seed && json_is_integer(seed))
        o->seed = (uint64_t)json_integer_value(seed) + 1;
}

tkd_grade_mode tkd_grade_mode_for_source(const tkd_job *job, size_t source) {
    tkd_grade_mode m = TKD_GRADE_AUTO;
    if (!job)
        return m;
    json_t *srcs = tkd_job_get(job, "data.sources");
    const char *s = json_string_value(json_object_get(json_array_get(srcs, source), "extract"));
    if (!s || !*s)
        s = json_string_value(tkd_job_get(job, "grade.extract"));
    if (s)
        tkd_grade_mode_parse(s, &m, NULL);
    return m;
}
