/*
 * Prompt files, shared by every phase: a prompt is a UTF-8 text file named
 * by a job key (trailing whitespace trimmed), and the student's prompt
 * (system message and user template, jobs/prompts/student_*.txt by default)
 * is one pair of files read by export, train and eval alike, so the student
 * is trained and evaluated on the same prompt.
 */
#include "tkd/phases.h"

#include <stdlib.h>
#include <string.h>

int tkd_prompt_file(const tkd_job *job, const char *key, char **out, tkd_err *e) {
    *out = NULL;
    const char *path = tkd_job_str(job, key);
    if (!path || !*path)
        return 0;
    size_t len = 0;
    if (tkd_file_read(path, out, &len, e))
        return tkd_err_wrap(e, "%s: %s", job->path ? job->path : "job", key);
    if (!tkd_text_utf8_valid(*out, len)) {
        free(*out);
        *out = NULL;
        return tkd_err_set(e, TKD_EINVAL, "%s: %s: '%s' is not UTF-8 text", job->path ? job->path : "job", key, path);
    }
    while (len && strchr(" \t\r\n", (*out)[len - 1]))
        (*out)[--len] = '\0';
    return 0;
}

int tkd_student_prompt_load(const tkd_job *job, tkd_student_prompt *p, tkd_err *e) {
    memset(p, 0, sizeof *p);
    int rc = tkd_prompt_file(job, "student.system_prompt", &p->system, e);
    if (!rc && !p->system)
        rc = (p->system = strdup(TKD_STUDENT_SYSTEM_DEFAULT)) ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (!rc && !p->system[0]) { /* an empty file: no system message */
        free(p->system);
        p->system = NULL;
    }
    if (!rc)
        rc = tkd_prompt_file(job, "student.user_template", &p->user_template, e);
    if (!rc && !p->user_template)
        rc = (p->user_template = strdup("{problem}")) ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (!rc && !strstr(p->user_template, "{problem}"))
        rc = tkd_err_set(e, TKD_EINVAL, "%s: student.user_template: the template has no {problem} placeholder",
                         job->path ? job->path : "job");
    if (rc)
        tkd_student_prompt_free(p);
    return rc;
}

char *tkd_student_prompt_user(const tkd_student_prompt *p, const char *problem, tkd_err *e) {
    tkd_buf b;
    tkd_buf_init(&b);
    const char *t = p->user_template, *at;
    while ((at = strstr(t, "{problem}"))) {
        if (tkd_buf_append(&b, t, (size_t)(at - t)) || tkd_buf_append(&b, problem, strlen(problem)))
            goto nomem;
        t = at + strlen("{problem}");
    }
    if (tkd_buf_append(&b, t, strlen(t)))
        goto nomem;
    return tkd_buf_steal(&b);
nomem:
    tkd_buf_free(&b);
    tkd_err_set(e, TKD_ENOMEM, "out of memory rendering the student prompt");
    return NULL;
}

void tkd_student_prompt_free(tkd_student_prompt *p) {
    free(p->system);
    free(p->user_template);
    memset(p, 0, sizeof *p);
}
