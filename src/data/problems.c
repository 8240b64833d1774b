/*
 * Problem loading: JSONL files (or folders of them) in the MATH, bench and
 * GSM8K shapes, with stable ids and gold answers. A bad line is never
 * skipped silently: it is reported as file:line with the reason, then
 * skipped or made fatal, as the job file says.
 */
#include "tkd/data.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int tkd_data_format_parse(const char *s, tkd_data_format *f) {
    static const char *names[] = {"auto", "math", "bench", "gsm8k"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *f = (tkd_data_format)i;
            return 0;
        }
    return TKD_EINVAL;
}

void tkd_problem_set_init(tkd_problem_set *set) { memset(set, 0, sizeof *set); }

void tkd_problem_clear(tkd_problem *p) {
    free(p->id);
    free(p->source);
    free(p->subject);
    free(p->problem);
    free(p->solution);
    free(p->answer);
    memset(p, 0, sizeof *p);
}

void tkd_problem_set_free(tkd_problem_set *set) {
    for (size_t i = 0; i < set->n; i++)
        tkd_problem_clear(&set->items[i]);
    free(set->items);
    tkd_problem_set_init(set);
}

/* The last "\boxed{", "\boxed ", "\fbox{" or "\fbox " of s, or NULL. */
static const char *last_box(const char *s) {
    const char *last = NULL;
    for (const char *p = s; (p = strchr(p, '\\')) != NULL; p++) {
        size_t kw = !strncmp(p, "\\boxed", 6) ? 6 : !strncmp(p, "\\fbox", 5) ? 5 : 0;
        if (kw && (p[kw] == '{' || p[kw] == ' '))
            last = p;
    }
    return last;
}

char *tkd_data_gold_answer(const char *solution, tkd_data_format fmt) {
    if (!solution)
        return NULL;
    if (fmt == TKD_DATA_GSM8K) {
        const char *h = strstr(solution, "####");
        if (!h)
            return NULL;
        char *a = strdup(h + 4);
        if (!a)
            return NULL;
        /* "1,234" -> "1234": GSM8K answers are plain numbers */
        char *w = a;
        for (char *r = a; *r; r++)
            if (*r != ',')
                *w++ = *r;
        *w = '\0';
        tkd_text_trim(a);
        if (!*a) {
            free(a);
            return NULL;
        }
        return a;
    }
    /* The gold is the last box. An empty box, or a last box left open, is no
     * answer: taking an earlier box or the solution's text instead would
     * grade every sample of the problem against the wrong gold. */
    const char *last = last_box(solution);
    if (last) {
        char *boxed = tkd_text_last_boxed(last);
        if (boxed && !*boxed) {
            free(boxed);
            boxed = NULL;
        }
        return boxed;
    }
    if (fmt == TKD_DATA_MATH)
        return NULL;
    /* bench files hold either a full solution or the bare answer */
    char *a = strdup(solution);
    if (!a)
        return NULL;
    tkd_text_trim(a);
    size_t n = strlen(a);
    if (n == 0 || n > TKD_DATA_SHORT_SOLUTION || strstr(a, ". ") || strchr(a, '\n')) {
        free(a);
        return NULL;
    }
    return a;
}

static int parse_level(json_t *v) {
    if (json_is_integer(v))
        return (int)json_integer_value(v);
    const char *s = json_string_value(v);
    if (!s)
        return 0;
    while (*s && (*s < '0' || *s > '9'))
        s++;
    return atoi(s);
}

/* "…/math/train/algebra.jsonl" -> "train/algebra" */
static char *default_prefix(const char *path) {
    char *p = strdup(path);
    if (!p)
        return NULL;
    char *dot = strrchr(p, '.');
    char *slash = strrchr(p, '/');
    if (dot && (!slash || dot > slash))
        *dot = '\0';
    if (!slash)
        return p;
    *slash = '\0';
    char *parent = strrchr(p, '/');
    char *out = NULL;
    tkd_buf b;
    tkd_buf_init(&b);
    if (!tkd_buf_printf(&b, "%s/%s", parent ? parent + 1 : p, slash + 1))
        out = tkd_buf_steal(&b);
    tkd_buf_free(&b);
    free(p);
    return out;
}

static const char *str_field(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* Fill p from one parsed line. Returns 0, or TKD_EINVAL with the reason. */
static int from_record(json_t *o, const tkd_data_opts *opts, const char *file_prefix, tkd_problem *p, tkd_err *e) {
    tkd_data_format fmt = opts->format;
    if (fmt == TKD_DATA_AUTO)
        fmt = json_object_get(o, "question") ? TKD_DATA_GSM8K
              : json_object_get(o, "type")   ? TKD_DATA_MATH
                                             : TKD_DATA_BENCH;
    const char *qkey = fmt == TKD_DATA_GSM8K ? "question" : "problem";
    const char *skey = fmt == TKD_DATA_GSM8K ? "answer" : "solution";
    const char *q = str_field(o, qkey);
    if (!q || !*q)
        return tkd_err_set(e, TKD_EINVAL, "no \"%s\" string (a %s record needs \"%s\" and \"%s\")", qkey,
                           fmt == TKD_DATA_GSM8K ? "GSM8K" : fmt == TKD_DATA_MATH ? "MATH" : "bench", qkey, skey);
    json_t *sol = json_object_get(o, skey);
    if (sol && !json_is_string(sol) && !json_is_number(sol))
        return tkd_err_set(e, TKD_EINVAL, "\"%s\" must be a string", skey);
    char numbuf[64] = "";
    const char *s = json_string_value(sol);
    if (json_is_integer(sol))
        snprintf(numbuf, sizeof numbuf, "%lld", (long long)json_integer_value(sol));
    else if (json_is_real(sol))
        snprintf(numbuf, sizeof numbuf, "%.17g", json_real_value(sol));
    if (!s)
        s = numbuf;

    const char *prefix = opts->name && *opts->name ? opts->name : str_field(o, "source");
    if (!prefix || !*prefix)
        prefix = file_prefix;
    json_t *idv = json_object_get(o, "id");
    char idbuf[64];
    const char *rid = json_string_value(idv);
    if (json_is_integer(idv)) {
        snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(idv));
        rid = idbuf;
    }
    tkd_buf id;
    tkd_buf_init(&id);
    int rc;
    if (rid && *rid) {
        rc = tkd_buf_printf(&id, "%s/%s", prefix, rid);
    } else { /* no id: a content hash keeps the id stable across re-imports */
        char hex[65];
        tkd_sha256_hex(q, strlen(q), hex);
        rc = tkd_buf_printf(&id, "%s/h%.12s", prefix, hex);
    }
    const char *subj = str_field(o, "type");
    if (!subj)
        subj = str_field(o, "subject");
    memset(p, 0, sizeof *p);
    p->id = tkd_buf_steal(&id);
    p->source = strdup(prefix);
    p->subject = strdup(subj ? subj : "");
    p->problem = strdup(q);
    p->solution = strdup(s);
    p->level = parse_level(json_object_get(o, "level"));
    if (rc || !p->id || !p->source || !p->subject || !p->problem || !p->solution) {
        tkd_problem_clear(p);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    p->pid = tkd_hash64(p->id, strlen(p->id));
    p->answer = tkd_data_gold_answer(s, fmt);
    return 0;
}

static int push(tkd_problem_set *set, tkd_problem *p, tkd_err *e) {
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 256;
        tkd_problem *it = tkd_realloc(set->items, cap * sizeof *it, e);
        if (!it)
            return TKD_ENOMEM;
        set->items = it;
        set->cap = cap;
    }
    set->items[set->n++] = *p;
    return 0;
}

static int load_file(const char *path, const tkd_data_opts *opts, tkd_problem_set *set, tkd_data_stats *st,
                     tkd_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return tkd_err_set(e, TKD_EINVAL, "cannot open problem file '%s': %s", path, strerror(errno));
    char *prefix = default_prefix(path);
    char *line = NULL;
    size_t cap = 0, taken = 0;
    ssize_t len;
    size_t lineno = 0, bad = 0, no_answer = 0;
    int rc = prefix ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        if (opts->limit && taken >= opts->limit)
            break;
        lineno++;
        st->lines++;
        tkd_err le = {0};
        json_error_t je;
        json_t *o = NULL;
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (lineno == 1) /* a byte-order mark is not part of the first record */
            n = tkd_text_strip_bom(line, n);
        if (n == 0) {
            st->lines--; /* blank lines are not records */
            continue;
        }
        if (n > TKD_DATA_MAX_LINE)
            tkd_err_set(&le, TKD_EINVAL, "line is %zu bytes, over the %u-byte limit", n, TKD_DATA_MAX_LINE);
        else if (!tkd_text_utf8_valid(line, n) || strlen(line) != n)
            tkd_err_set(&le, TKD_EINVAL, "not valid UTF-8 text");
        else if (!(o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je)))
            tkd_err_set(&le, TKD_EINVAL, "invalid JSON at column %d: %s", je.column, je.text);
        else if (!json_is_object(o))
            tkd_err_set(&le, TKD_EINVAL, "expected a JSON object {...} per line");
        tkd_problem p;
        if (!le.code && from_record(o, opts, prefix, &p, &le) == 0) {
            if (!p.answer)
                no_answer++;
            rc = push(set, &p, e);
            if (rc)
                tkd_problem_clear(&p);
            taken++;
        }
        json_decref(o);
        if (le.code == TKD_ENOMEM)
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory reading '%s'", path);
        else if (le.code) {
            bad++;
            if (opts->fail_on_bad_line)
                rc = tkd_err_set(e, TKD_EINVAL, "%s:%zu: %s (data.on_bad_line is \"fail\")", path, lineno, le.msg);
            else
                tkd_log_warn("%s:%zu: %s; line skipped", path, lineno, le.msg);
        }
    }
    if (!rc && ferror(f))
        rc = tkd_err_set(e, TKD_EIO, "error reading '%s'", path);
    fclose(f);
    free(line);
    free(prefix);
    st->imported += taken;
    st->bad += bad;
    st->no_answer += no_answer;
    if (no_answer)
        tkd_log_warn("%s: %zu problems have no gold answer (no \\boxed{} in the solution, or an empty or unclosed one)",
                     path, no_answer);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_add(tkd_data_files *fl, char *path, tkd_err *e) {
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 16;
        char **p = tkd_realloc(fl->paths, cap * sizeof *p, e);
        if (!p) {
            free(path);
            return TKD_ENOMEM;
        }
        fl->paths = p;
        fl->cap = cap;
    }
    fl->paths[fl->n++] = path;
    return 0;
}

/* *.jsonl under dir, depth first, each folder's entries in name order */
static int list_dir(const char *dir, tkd_data_files *fl, tkd_err *e) {
    DIR *d = opendir(dir);
    if (!d)
        return tkd_err_set(e, TKD_EINVAL, "cannot read folder '%s': %s", dir, strerror(errno));
    tkd_data_files here = {0};
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        tkd_buf b;
        tkd_buf_init(&b);
        rc = tkd_buf_printf(&b, "%s/%s", dir, de->d_name) ? tkd_err_set(e, TKD_ENOMEM, "out of memory")
                                                           : list_add(&here, tkd_buf_steal(&b), e);
    }
    closedir(d);
    if (here.n)
        qsort(here.paths, here.n, sizeof *here.paths, cmp_str);
    for (size_t i = 0; i < here.n; i++) {
        struct stat sb;
        size_t len = strlen(here.paths[i]);
        char *p = here.paths[i];
        here.paths[i] = NULL;
        if (rc || stat(p, &sb) != 0) {
            free(p);
        } else if (S_ISDIR(sb.st_mode)) {
            rc = list_dir(p, fl, e);
            free(p);
        } else if (len > 6 && !strcmp(p + len - 6, ".jsonl")) {
            rc = list_add(fl, p, e);
        } else {
            free(p);
        }
    }
    tkd_data_files_free(&here);
    return rc;
}

int tkd_data_list_files(const char *path, tkd_data_files *fl, tkd_err *e) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return tkd_err_set(e, TKD_EINVAL, "problem source '%s' does not exist (data.sources[].path)", path);
    if (S_ISDIR(sb.st_mode))
        return list_dir(path, fl, e);
    char *p = tkd_strdup(path, e);
    return p ? list_add(fl, p, e) : TKD_ENOMEM;
}

void tkd_data_files_free(tkd_data_files *fl) {
    for (size_t i = 0; i < fl->n; i++)
        free(fl->paths[i]);
    free(fl->paths);
    memset(fl, 0, sizeof *fl);
}

typedef struct {
    uint64_t pid;
    size_t idx;
} pid_idx;

static int cmp_pid(const void *a, const void *b) {
    const pid_idx *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Drop later problems whose id repeats an earlier one, keeping file order. */
static int dedupe(tkd_problem_set *set, tkd_data_stats *st, tkd_err *e) {
    if (set->n < 2)
        return 0;
    pid_idx *v = tkd_malloc(set->n * sizeof *v, e);
    unsigned char *drop = tkd_calloc(set->n, 1, e);
    if (!v || !drop) {
        free(v);
        free(drop);
        return TKD_ENOMEM;
    }
    for (size_t i = 0; i < set->n; i++)
        v[i] = (pid_idx){set->items[i].pid, i};
    qsort(v, set->n, sizeof *v, cmp_pid);
    for (size_t i = 1; i < set->n; i++)
        if (v[i].pid == v[i - 1].pid) {
            drop[v[i].idx] = 1;
            tkd_log_warn("duplicate problem id '%s': the later copy is dropped", set->items[v[i].idx].id);
        }
    size_t w = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (drop[i]) { /* the source's counts are of what it adds to the set */
            st->duplicates++;
            st->imported--;
            st->no_answer -= !set->items[i].answer;
            tkd_problem_clear(&set->items[i]);
        } else
            set->items[w++] = set->items[i];
    }
    set->n = w;
    free(v);
    free(drop);
    return 0;
}

int tkd_data_load(const char *path, const tkd_data_opts *opts, tkd_problem_set *set, tkd_data_stats *stats,
                  tkd_err *e) {
    tkd_data_files fl = {0};
    int rc = tkd_data_list_files(path, &fl, e);
    tkd_data_opts o = *opts; /* the limit counts over the whole source */
    size_t start = stats->imported;
    for (size_t i = 0; !rc && i < fl.n; i++) {
        if (opts->limit && stats->imported - start >= opts->limit)
            break;
        if (opts->limit)
            o.limit = opts->limit - (stats->imported - start);
        rc = load_file(fl.paths[i], &o, set, stats, e);
    }
    tkd_data_files_free(&fl);
    return rc ? rc : dedupe(set, stats, e);
}

char *tkd_problem_to_json(const tkd_problem *p) {
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s?}", "id", p->id, "source", p->source, "subject",
                          p->subject, "level", p->level, "problem", p->problem, "solution", p->solution, "answer",
                          p->answer);
    if (!o)
        return NULL;
    if (!p->answer)
        json_object_set_new(o, "answer", json_null());
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

int tkd_problem_from_json(const char *text, tkd_problem *p, tkd_err *e) {
    memset(p, 0, sizeof *p);
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    const char *id, *src, *subj, *prob, *sol, *ans = NULL;
    int level = 0;
    if (!o || json_unpack(o, "{s:s, s:s, s:s, s:i, s:s, s:s, s?s}", "id", &id, "source", &src, "subject", &subj,
                          "level", &level, "problem", &prob, "solution", &sol, "answer", &ans) != 0) {
        /* a null answer fails "s?s" in old jansson: retry without it */
        if (!o || json_unpack(o, "{s:s, s:s, s:s, s:i, s:s, s:s}", "id", &id, "source", &src, "subject", &subj,
                              "level", &level, "problem", &prob, "solution", &sol) != 0) {
            json_decref(o);
            return tkd_err_set(e, TKD_EFORMAT, "stored problem is not the expected JSON object");
        }
        ans = NULL;
    }
    p->id = strdup(id);
    p->source = strdup(src);
    p->subject = strdup(subj);
    p->problem = strdup(prob);
    p->solution = strdup(sol);
    p->answer = ans ? strdup(ans) : NULL;
    p->level = level;
    json_decref(o);
    if (!p->id || !p->source || !p->subject || !p->problem || !p->solution || (ans && !p->answer)) {
        tkd_problem_clear(p);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    p->pid = tkd_hash64(p->id, strlen(p->id));
    return 0;
}
