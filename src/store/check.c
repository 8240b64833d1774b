/*
 * store: verify and export. Verify reads a whole file and lists what is
 * wrong with it (text ranges out of bounds or overlapping, text that is not
 * UTF-8 JSON, duplicate keys, unknown phases or statuses, missing or
 * inconsistent attributes). Export turns verified records (tkd_store_scan)
 * into JSON lines.
 */
#include "store_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Problems passed to the callback; the rest are only counted. */
#define VERIFY_REPORT_MAX 100

typedef struct {
    tkd_store_report_fn fn;
    void *ctx;
    size_t n;
    tkd_err *e;
    const char *path;
} verifier;

__attribute__((format(printf, 2, 3))) static void problem(verifier *v, const char *fmt, ...) {
    char msg[TKD_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (v->n == 0)
        tkd_err_set(v->e, TKD_EFORMAT, "'%s': %s", v->path, msg);
    if (v->fn && v->n < VERIFY_REPORT_MAX)
        v->fn(v->ctx, msg);
    else if (v->fn && v->n == VERIFY_REPORT_MAX)
        v->fn(v->ctx, "(more problems are counted but not listed)");
    v->n++;
}

static int known_phase(unsigned p) {
    return p <= TKD_PHASE_EVAL || p == TKD_PHASE_TEST;
}

static int check_attrs(tkd_store *s, verifier *v) {
    static const char *names[] = {"schema_version", "tkd_version", "git_commit", "phase",      "rank",
                                  "attempt",        "created",     "job",        "job_sha256", "manifest"};
    char *val[sizeof names / sizeof names[0]] = {0};
    int rc = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tkd_err ae = {0};
        int r = tkd_store_attr(s, names[i], &val[i], &ae);
        if (r == TKD_ENOMEM) {
            rc = tkd_err_set(v->e, TKD_ENOMEM, "out of memory verifying '%s'", v->path);
            goto done;
        }
        if (r)
            problem(v, "%s", ae.msg);
    }
    if (val[9]) {
        json_error_t je;
        json_t *m = json_loads(val[9], 0, &je);
        if (!m)
            problem(v, "attribute 'manifest' is not JSON: %s", je.text);
        json_decref(m);
    }
    if (val[7] && val[8] && val[7][0] && val[8][0]) {
        char hex[65];
        tkd_sha256_hex(val[7], strlen(val[7]), hex);
        if (strcmp(hex, val[8]))
            problem(v, "attribute 'job_sha256' (%.16s...) is not the sha256 of attribute 'job' (%.16s...)", val[8],
                    hex);
    }
done:
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        free(val[i]);
    return rc;
}

int tkd_store_verify_report(const char *path, tkd_store_report_fn fn, void *ctx, size_t *problems, tkd_err *e) {
    *problems = 0;
    tkd_store *s;
    int rc = tkd_store_open(path, &s, e);
    if (rc)
        return rc;
    verifier v = {fn, ctx, 0, e, path};
    store_keyset seen;
    store_keyset_init(&seen);
    tkd_record *recs = tkd_malloc(STORE_READ_BLOCK * sizeof *recs, e);
    tkd_buf text;
    tkd_buf_init(&text);
    if (!recs) {
        rc = TKD_ENOMEM;
        goto done;
    }
    if ((rc = check_attrs(s, &v)))
        goto done;
    size_t cnt = tkd_store_count(s);
    uint64_t tsize = tkd_store_text_size(s), prev_end = 0, used = 0;
    for (size_t row = 0; row < cnt && !rc; row += STORE_READ_BLOCK) {
        size_t k = cnt - row < STORE_READ_BLOCK ? cnt - row : STORE_READ_BLOCK;
        if ((rc = store_read_rows(s, row, k, recs, e)))
            break;
        for (size_t j = 0; j < k; j++) {
            const tkd_record *r = &recs[j];
            size_t i = row + j;
            if (!known_phase(r->phase))
                problem(&v, "row %zu: unknown phase %u", i, r->phase);
            if (r->status >= TKD_ST_COUNT)
                problem(&v, "row %zu: unknown status %u", i, r->status);
            int added = store_keyset_add(&seen, r->pid, ((uint64_t)r->sample << 8) | r->phase);
            if (added < 0) {
                rc = tkd_err_set(e, TKD_ENOMEM, "out of memory verifying '%s'", path);
                break;
            }
            if (!added)
                problem(&v, "row %zu: duplicate key (pid %016llx, sample %u, phase %s)", i, (unsigned long long)r->pid,
                        r->sample, tkd_phase_name((tkd_phase)r->phase));
            if (r->text_off > tsize || r->text_len > tsize - r->text_off) {
                problem(&v, "row %zu: text range [%llu, +%llu) is outside the %llu bytes of /text", i,
                        (unsigned long long)r->text_off, (unsigned long long)r->text_len, (unsigned long long)tsize);
                continue;
            }
            if (r->text_off < prev_end)
                problem(&v, "row %zu: text range [%llu, +%llu) overlaps the previous row's text (ends at %llu)", i,
                        (unsigned long long)r->text_off, (unsigned long long)r->text_len, (unsigned long long)prev_end);
            prev_end = r->text_off + r->text_len;
            used += r->text_len;
            if (!r->text_len) {
                problem(&v, "row %zu: text is empty (a record's text is a JSON document)", i);
                continue;
            }
            tkd_buf_reset(&text);
            if (tkd_buf_reserve(&text, (size_t)r->text_len)) {
                rc = tkd_err_set(e, TKD_ENOMEM, "out of memory verifying '%s'", path);
                break;
            }
            if ((rc = store_read_bytes(s, r->text_off, r->text_len, text.data, e)))
                break;
            text.len = (size_t)r->text_len;
            if (!tkd_text_utf8_valid(text.data, text.len)) {
                problem(&v, "row %zu: text is not valid UTF-8", i);
                continue;
            }
            json_error_t je;
            json_t *doc = json_loadb(text.data, text.len, JSON_DECODE_ANY, &je);
            if (!doc)
                problem(&v, "row %zu: text is not JSON (%s at byte %d)", i, je.text, je.position);
            else if (!store_json_valid(text.data, text.len)) /* what Jansson lets through: a NUL after the value */
                problem(&v, "row %zu: text is not JSON (a NUL byte or trailing bytes after the value)", i);
            json_decref(doc);
        }
    }
    if (!rc && used > tsize)
        problem(&v, "records use %llu bytes of text but /text holds %llu", (unsigned long long)used,
                (unsigned long long)tsize);
done:
    tkd_buf_free(&text);
    free(recs);
    store_keyset_free(&seen);
    tkd_store_close(s, NULL);
    *problems = v.n;
    if (rc)
        return rc;
    return v.n ? TKD_EFORMAT : 0;
}

int tkd_store_verify(const char *path, size_t *problems, tkd_err *e) {
    return tkd_store_verify_report(path, NULL, NULL, problems, e);
}

/* ---- export ---- */

static json_t *record_json(const tkd_record *r) {
    char pid[17];
    snprintf(pid, sizeof pid, "%016llx", (unsigned long long)r->pid);
    return json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "pid", pid, "sample",
                     (json_int_t)r->sample, "phase", tkd_phase_name((tkd_phase)r->phase), "status",
                     tkd_status_name((tkd_status)r->status), "flags", (json_int_t)r->flags, "turns",
                     (json_int_t)r->turns, "tool_calls", (json_int_t)r->tool_calls, "prompt_tokens",
                     (json_int_t)r->prompt_tokens, "completion_tokens", (json_int_t)r->completion_tokens, "latency_s",
                     r->latency_s, "finished_at", r->finished_at);
}

typedef struct {
    FILE *f;
    int problems; /* 1 problems, 0 traces, -1 all */
    size_t *rows;
    const char *path, *out;
    tkd_err *e;
} exporter;

static int export_row(void *ctx, const tkd_record *r, const char *text, size_t len) {
    exporter *x = ctx;
    int is_problem = r->phase == TKD_PHASE_PROBLEM;
    if (x->problems >= 0 && is_problem != x->problems)
        return 0;
    json_t *doc = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    if (!doc) /* valid JSON Jansson will not hold (an integer beyond 64 bits) */
        doc = json_stringn(text, len);
    json_t *line;
    if (is_problem && x->problems == 1 && json_is_object(doc)) {
        /* problems come back as the problem objects, plus their pid */
        line = doc;
        char pid[17];
        snprintf(pid, sizeof pid, "%016llx", (unsigned long long)r->pid);
        json_object_set_new(line, "pid", json_string(pid));
    } else {
        line = record_json(r);
        if (line)
            json_object_set_new(line, "text", doc ? doc : json_null());
        else
            json_decref(doc);
    }
    char *js = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!js)
        return tkd_err_set(x->e, TKD_ENOMEM, "out of memory exporting '%s'", x->path);
    int rc = 0;
    if (fputs(js, x->f) == EOF || fputc('\n', x->f) == EOF)
        rc = tkd_err_set(x->e, TKD_EIO, "cannot write '%s': %s", x->out, strerror(errno));
    free(js);
    (*x->rows)++;
    return rc;
}

int tkd_store_export(const char *path, const char *what, const char *out, size_t *rows, tkd_err *e) {
    size_t dummy;
    if (!rows)
        rows = &dummy;
    *rows = 0;
    int problems;
    if (!strcmp(what, "problems"))
        problems = 1;
    else if (!strcmp(what, "traces"))
        problems = 0;
    else if (!strcmp(what, "all"))
        problems = -1;
    else
        return tkd_err_set(e, TKD_EINVAL, "export: --what must be problems, traces or all, not '%s'", what);
    tkd_store *s;
    int rc = store_open_salvage(path, &s, e);
    if (rc)
        return rc;
    int to_stdout = !strcmp(out, "-");
    tkd_buf tmp;
    tkd_buf_init(&tmp);
    FILE *f = stdout;
    if (!to_stdout) {
        if (tkd_buf_printf(&tmp, "%s.tmp.%ld", out, (long)getpid()) || !(f = fopen(tmp.data, "wb"))) {
            rc = tkd_err_set(e, TKD_EIO, "cannot create '%s': %s", tmp.data ? tmp.data : out, strerror(errno));
            tkd_buf_free(&tmp);
            tkd_store_close(s, NULL);
            return rc;
        }
    }
    exporter x = {f, problems, rows, path, out, e};
    tkd_store_damage dmg;
    rc = tkd_store_scan(s, export_row, &x, &dmg, e);
    tkd_store_close(s, NULL);
    if (!rc && dmg.damaged) {
        char msg[512];
        tkd_store_damage_describe(path, &dmg, msg, sizeof msg);
        tkd_log_warn("export: left out the damaged rows of %s; only its %zu verified rows are exported", msg,
                     dmg.verified);
    }
    if (to_stdout) {
        if (!rc && fflush(stdout) != 0)
            rc = tkd_err_set(e, TKD_EIO, "cannot write to stdout: %s", strerror(errno));
    } else {
        int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
        bad |= fclose(f) != 0;
        if (!rc && bad)
            rc = tkd_err_set(e, TKD_EIO, "cannot write '%s': %s", out, strerror(errno));
        if (!rc && rename(tmp.data, out) != 0)
            rc = tkd_err_set(e, TKD_EIO, "cannot rename '%s' to '%s': %s", tmp.data, out, strerror(errno));
        if (rc)
            remove(tmp.data);
    }
    tkd_buf_free(&tmp);
    return rc;
}
