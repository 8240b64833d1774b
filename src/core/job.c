/*
 * Job-file loading: parse, apply --set overrides, validate against the schema
 * (unknown keys, types, bounds, choices, required keys) and fill defaults.
 * Every message names the file and the full key path, because the person
 * reading it has a 200-line job file and a Slurm log, nothing else.
 */
#include "tkd/job.h"
#include "tkd/json.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 512
#pragma GCC diagnostic ignored "-Wformat-truncation" /* key paths are short; a cut one is still readable */

static const char *type_name(tkd_job_type t) {
    switch (t) {
    case TKD_JT_OBJECT: return "an object";
    case TKD_JT_STRING: return "a string";
    case TKD_JT_INT: return "an integer";
    case TKD_JT_NUMBER: return "a number";
    case TKD_JT_BOOL: return "true or false";
    case TKD_JT_ARRAY: return "an array of objects";
    case TKD_JT_STRINGS: return "an array of strings";
    default: return "a JSON value";
    }
}

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static const tkd_job_key *find_key(const char *path) {
    for (const tkd_job_key *k = tkd_job_schema; k->path; k++)
        if (strcmp(k->path, path) == 0)
            return k;
    return NULL;
}

/* Closest schema key with the same parent, for "did you mean". */
static const char *suggest(const char *path) {
    const char *dot = strrchr(path, '.');
    size_t plen = dot ? (size_t)(dot - path) + 1 : 0;
    const char *best = NULL;
    size_t best_d = 4; /* only suggest close matches */
    for (const tkd_job_key *k = tkd_job_schema; k->path; k++) {
        const char *kd = strrchr(k->path, '.');
        size_t klen = kd ? (size_t)(kd - k->path) + 1 : 0;
        if (klen != plen || strncmp(k->path, path, plen) != 0)
            continue;
        size_t d = tkd_text_edit_distance(k->path + klen, path + plen, best_d);
        if (d < best_d) {
            best_d = d;
            best = k->path;
        }
    }
    return best;
}

/* Where a value came from, for messages: the file, or the --set option that
 * put it there (the last one that covers the key path). */
typedef struct vctx {
    const char *file;
    const char *const *sets;
    int n_sets;
    char who[PATH_MAX_LEN + 16];
} vctx;

/* "data.sources[0].path" -> "data.sources.0.path": the --set spelling */
static void dotted(const char *shown, char *out, size_t cap) {
    size_t n = 0;
    for (const char *c = shown; *c && n + 1 < cap; c++) {
        if (*c == '[')
            out[n++] = '.';
        else if (*c != ']')
            out[n++] = *c;
    }
    out[n] = 0;
}

static const char *origin(vctx *c, const char *shown) {
    char path[PATH_MAX_LEN];
    dotted(shown, path, sizeof path);
    for (int i = c->n_sets - 1; i >= 0; i--) {
        const char *spec = c->sets[i], *eq = strchr(spec, '=');
        size_t n = eq ? (size_t)(eq - spec) : 0;
        /* the option set this key, or an object or array holding it */
        if (n && !strncmp(path, spec, n) && (path[n] == 0 || path[n] == '.')) {
            snprintf(c->who, sizeof c->who, "--set '%s'", spec);
            return c->who;
        }
    }
    return c->file;
}

static int check_value(vctx *c, const char *path, const tkd_job_key *k, json_t *v, tkd_err *e) {
    int ok;
    switch (k->type) {
    case TKD_JT_OBJECT: ok = json_is_object(v); break;
    case TKD_JT_STRING: ok = json_is_string(v); break;
    case TKD_JT_INT: ok = json_is_integer(v) || (json_is_real(v) && json_real_value(v) == floor(json_real_value(v))); break;
    case TKD_JT_NUMBER: ok = json_is_number(v); break;
    case TKD_JT_BOOL: ok = json_is_boolean(v); break;
    case TKD_JT_ARRAY: ok = json_is_array(v); break;
    case TKD_JT_STRINGS: ok = json_is_array(v); break;
    default: ok = 1;
    }
    if (!ok)
        return tkd_err_set(e, TKD_EINVAL, "%s: key '%s': expected %s, got %s", origin(c, path), path,
                           type_name(k->type), json_kind(v));
    if ((k->type == TKD_JT_INT || k->type == TKD_JT_NUMBER) && k->min <= k->max) {
        double x = json_number_value(v);
        if (x < k->min || x > k->max)
            return tkd_err_set(e, TKD_EINVAL, "%s: key '%s': %g is out of range; use a value in [%g, %g]",
                               origin(c, path), path, x, k->min, k->max);
    }
    if (k->type == TKD_JT_STRING && k->choices) {
        const char *s = json_string_value(v);
        const char *ch = k->choices;
        size_t n = strlen(s);
        int found = 0;
        while (*ch && !found) {
            size_t m = strcspn(ch, "|");
            found = (m == n && strncmp(ch, s, n) == 0);
            ch += m + (ch[m] == '|');
        }
        if (!found)
            return tkd_err_set(e, TKD_EINVAL, "%s: key '%s': '%s' is not one of %s", origin(c, path), path, s,
                               k->choices);
    }
    if (k->type == TKD_JT_STRINGS) {
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) if (!json_is_string(it)) return tkd_err_set(
            e, TKD_EINVAL, "%s: key '%s[%zu]': expected a string, got %s", origin(c, path), path, i, json_kind(it));
    }
    if (k->type == TKD_JT_INT && json_is_real(v)) /* 5.0 -> 5 */
        json_integer_set(v, (json_int_t)json_real_value(v));
    return 0;
}

/* schema_path uses "[]" for array items; shown_path uses real indices. */
static int validate(vctx *c, json_t *obj, const char *schema_path, const char *shown_path, tkd_err *e) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        char sp[PATH_MAX_LEN], shp[PATH_MAX_LEN];
        snprintf(sp, sizeof sp, "%s%s%s", schema_path, *schema_path ? "." : "", key);
        snprintf(shp, sizeof shp, "%s%s%s", shown_path, *shown_path ? "." : "", key);
        const tkd_job_key *k = find_key(sp);
        if (!k) {
            const char *s = suggest(sp);
            if (s)
                return tkd_err_set(e, TKD_EINVAL, "%s: unknown key '%s' (did you mean '%s'?)", origin(c, shp), shp, s);
            return tkd_err_set(e, TKD_EINVAL, "%s: unknown key '%s'; `tkd config keys` lists the valid keys",
                               origin(c, shp), shp);
        }
        if (check_value(c, shp, k, v, e))
            return e->code;
        if (k->type == TKD_JT_OBJECT && validate(c, v, sp, shp, e))
            return e->code;
        if (k->type == TKD_JT_ARRAY) {
            size_t i;
            json_t *it;
            json_array_foreach(v, i, it) {
                char isp[PATH_MAX_LEN], ishp[PATH_MAX_LEN];
                snprintf(isp, sizeof isp, "%s[]", sp);
                snprintf(ishp, sizeof ishp, "%s[%zu]", shp, i);
                if (!json_is_object(it))
                    return tkd_err_set(e, TKD_EINVAL, "%s: key '%s': expected an object, got %s", origin(c, ishp), ishp,
                                       json_kind(it));
                if (validate(c, it, isp, ishp, e))
                    return e->code;
            }
        }
    }
    return 0;
}

/* Fill defaults of the keys whose parent is schema path `parent` into obj. */
static int fill(const char *file, json_t *obj, const char *parent, const char *shown, tkd_err *e) {
    size_t plen = strlen(parent);
    for (const tkd_job_key *k = tkd_job_schema; k->path; k++) {
        if (plen && (strncmp(k->path, parent, plen) != 0 || k->path[plen] != '.'))
            continue;
        const char *name = k->path + (plen ? plen + 1 : 0);
        if (strchr(name, '.') || strstr(name, "[]"))
            continue; /* not a direct child */
        char shp[PATH_MAX_LEN];
        snprintf(shp, sizeof shp, "%s%s%s", shown, *shown ? "." : "", name);
        json_t *v = json_object_get(obj, name);
        if (!v) {
            if (!k->def)
                return tkd_err_set(e, TKD_EINVAL, "%s: missing required key '%s' (%s)", file, shp, k->help);
            json_error_t je;
            v = json_loads(k->def, JSON_DECODE_ANY, &je);
            if (!v)
                return tkd_err_set(e, TKD_EINTERNAL, "schema default of '%s' is not JSON", k->path);
            json_object_set_new(obj, name, v);
        }
        if (k->type == TKD_JT_OBJECT && fill(file, v, k->path, shp, e))
            return e->code;
        if (k->type == TKD_JT_ARRAY) {
            char isp[PATH_MAX_LEN];
            snprintf(isp, sizeof isp, "%s[]", k->path);
            size_t i;
            json_t *it;
            json_array_foreach(v, i, it) {
                char ishp[PATH_MAX_LEN];
                snprintf(ishp, sizeof ishp, "%s[%zu]", shp, i);
                if (fill(file, it, isp, ishp, e))
                    return e->code;
            }
        }
    }
    return 0;
}

static int apply_override(json_t *root, const char *spec, tkd_err *e) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec)
        return tkd_err_set(e, TKD_EUSAGE, "--set '%s': expected KEY.PATH=VALUE, e.g. --set dist.lease_max=64", spec);
    char path[PATH_MAX_LEN];
    size_t n = (size_t)(eq - spec);
    if (n >= sizeof path)
        return tkd_err_set(e, TKD_EUSAGE, "--set: key path too long");
    memcpy(path, spec, n);
    path[n] = '\0';
    json_error_t je;
    json_t *val = json_loads(eq + 1, JSON_DECODE_ANY, &je);
    if (!val)
        val = json_string(eq + 1);
    if (!val)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    json_t *cur = root;
    const char *parent = "the job";
    char *save = NULL;
    char *seg = strtok_r(path, ".", &save);
    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        int is_index = isdigit((unsigned char)seg[0]);
        if (json_is_array(cur) && is_index) {
            size_t idx = strtoul(seg, NULL, 10);
            if (idx >= json_array_size(cur)) {
                json_decref(val);
                return tkd_err_set(e, TKD_EUSAGE, "--set '%s': index %zu is past the end of the array (%zu items)",
                                   spec, idx, json_array_size(cur));
            }
            if (!next)
                return json_array_set_new(cur, idx, val) ? TKD_ENOMEM : 0;
            cur = json_array_get(cur, idx);
            parent = seg;
        } else if (json_is_object(cur)) {
            if (!next)
                return json_object_set_new(cur, seg, val) ? TKD_ENOMEM : 0;
            json_t *child = json_object_get(cur, seg);
            if (!child) {
                child = json_object();
                json_object_set_new(cur, seg, child);
            }
            cur = child;
            parent = seg;
        } else {
            json_decref(val);
            if (json_is_array(cur))
                return tkd_err_set(e, TKD_EUSAGE, "--set '%s': '%s' is an array; give an item index, not '%s'", spec,
                                   parent, seg);
            return tkd_err_set(e, TKD_EUSAGE, "--set '%s': '%s' is %s, not an object with keys", spec, parent,
                               json_kind(cur));
        }
        seg = next;
    }
    json_decref(val);
    return 0;
}

int tkd_job_load_text(const char *name, const char *text, const char *const *overrides, int n_overrides,
                      tkd_job *job, tkd_err *e) {
    memset(job, 0, sizeof *job);
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return tkd_err_set(e, TKD_EINVAL, "%s:%d:%d: invalid JSON: %s", name, je.line, je.column, je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return tkd_err_set(e, TKD_EINVAL, "%s: a job file must be a JSON object {...}", name);
    }
    int rc = 0;
    for (int i = 0; i < n_overrides && !rc; i++)
        rc = apply_override(root, overrides[i], e);
    vctx vc = {name, overrides, n_overrides, ""};
    if (!rc)
        rc = validate(&vc, root, "", "", e);
    if (!rc)
        rc = fill(name, root, "", "", e);
    if (!rc) {
        job->path = tkd_strdup(name, e);
        job->text = tkd_strdup(text, e);
        if (!job->path || !job->text)
            rc = TKD_ENOMEM;
    }
    if (rc) {
        json_decref(root);
        free(job->path);
        free(job->text);
        memset(job, 0, sizeof *job);
        return rc;
    }
    job->root = root;
    tkd_sha256_hex(text, strlen(text), job->sha256);
    return 0;
}

int tkd_job_load(const char *path, const char *const *overrides, int n_overrides, tkd_job *job, tkd_err *e) {
    char *text = NULL;
    size_t len;
    int rc = tkd_file_read(path, &text, &len, e);
    if (rc) {
        memset(job, 0, sizeof *job);
        return rc == TKD_ENOTFOUND ? tkd_err_set(e, TKD_EINVAL, "job file '%s' does not exist", path) : rc;
    }
    if (strlen(text) != len || !tkd_text_utf8_valid(text, len)) {
        free(text);
        memset(job, 0, sizeof *job);
        return tkd_err_set(e, TKD_EINVAL, "%s: not a UTF-8 text file; a job file is JSON", path);
    }
    rc = tkd_job_load_text(path, text, overrides, n_overrides, job, e);
    free(text);
    return rc;
}

void tkd_job_free(tkd_job *job) {
    if (!job)
        return;
    json_decref(job->root);
    free(job->path);
    free(job->text);
    memset(job, 0, sizeof *job);
}

json_t *tkd_job_get(const tkd_job *job, const char *path) {
    json_t *cur = job->root;
    char buf[PATH_MAX_LEN];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save))
        cur = json_is_array(cur) ? json_array_get(cur, strtoul(seg, NULL, 10)) : json_object_get(cur, seg);
    if (!cur)
        tkd_log_debug("job key '%s' not present", path);
    return cur;
}

const char *tkd_job_str(const tkd_job *job, const char *path) {
    const char *s = json_string_value(tkd_job_get(job, path));
    return s ? s : "";
}
long long tkd_job_int(const tkd_job *job, const char *path) {
    return (long long)json_number_value(tkd_job_get(job, path));
}
double tkd_job_num(const tkd_job *job, const char *path) { return json_number_value(tkd_job_get(job, path)); }
int tkd_job_bool(const tkd_job *job, const char *path) { return json_is_true(tkd_job_get(job, path)); }

/* The shortest text that reads back as x ("0.05", not Jansson's %.17g
 * "0.050000000000000003"), still a real ("1.0", not "1"). */
static void real_text(double x, char out[40]) {
    for (int p = 1; p <= 17; p++) {
        snprintf(out, 40, "%.*g", p, x);
        if (strtod(out, NULL) == x)
            break;
    }
    if (!strpbrk(out, ".eEn")) /* n: inf and nan, which a job cannot hold */
        strcat(out, ".0");
}

static int dump(tkd_buf *b, const json_t *v, int depth) {
    char num[40];
    const char *key;
    json_t *it;
    size_t i, n = json_is_object(v) ? json_object_size(v) : json_is_array(v) ? json_array_size(v) : 0;
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        if (!n)
            return tkd_buf_puts(b, json_is_object(v) ? "{}" : "[]");
        rc = tkd_buf_puts(b, json_is_object(v) ? "{\n" : "[\n");
        i = 0;
        if (json_is_object(v)) {
            json_object_foreach((json_t *)v, key, it) {
                rc = rc || tkd_buf_printf(b, "%*s", 2 * (depth + 1), "") ||
                     tkd_json_write_string(b, key, strlen(key)) || tkd_buf_puts(b, ": ") || dump(b, it, depth + 1) ||
                     tkd_buf_puts(b, ++i < n ? ",\n" : "\n");
            }
        } else {
            json_array_foreach(v, i, it) {
                rc = rc || tkd_buf_printf(b, "%*s", 2 * (depth + 1), "") || dump(b, it, depth + 1) ||
                     tkd_buf_puts(b, i + 1 < n ? ",\n" : "\n");
            }
        }
        return rc || tkd_buf_printf(b, "%*s%c", 2 * depth, "", json_is_object(v) ? '}' : ']');
    case JSON_STRING: return tkd_json_write_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return tkd_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: real_text(json_real_value(v), num); return tkd_buf_puts(b, num);
    case JSON_TRUE: return tkd_buf_puts(b, "true");
    case JSON_FALSE: return tkd_buf_puts(b, "false");
    default: return tkd_buf_puts(b, "null");
    }
}

char *tkd_job_dump(const tkd_job *job) {
    tkd_buf b;
    tkd_buf_init(&b);
    if (dump(&b, job->root, 0)) {
        tkd_buf_free(&b);
        return NULL;
    }
    return tkd_buf_steal(&b);
}
