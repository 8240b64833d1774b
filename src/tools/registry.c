/*
 * The tool registry and the direct call: finds a tool by name, builds the
 * OpenAI function-calling specs from the parameter tables, checks the
 * argument object against them (unknown keys, missing keys) before a handler
 * runs, and shapes every answer into {"result": ...} or
 * {"status":"error","message":...}, cut to the output cap with a note.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

static const struct tkd_tool *const tables[] = {
    tkd_tools_alg_table,   tkd_tools_solve_table,  tkd_tools_ineq_table,   tkd_tools_calc_table,
    tkd_tools_integ_table, tkd_tools_series_table, tkd_tools_linalg_table, tkd_tools_geom_table,
    tkd_tools_eval_table,  tkd_tools_nt_table,     tkd_tools_comb_table,
};
#define N_TABLES (sizeof tables / sizeof tables[0])

void tkd_tools_limits_default(tkd_tool_limits *l) {
    l->cpu_seconds = TKD_TOOL_CPU_SECONDS;
    l->mem_bytes = TKD_TOOL_MEM_BYTES;
    l->output_max = TKD_TOOL_OUTPUT_MAX;
    l->wall_seconds = TKD_TOOL_WALL_SECONDS;
}

size_t tkd_tools_count(void) {
    size_t n = 0;
    for (size_t t = 0; t < N_TABLES; t++)
        for (const struct tkd_tool *x = tables[t]; x->name; x++)
            n++;
    return n;
}

const tkd_tool *tkd_tools_at(size_t i) {
    for (size_t t = 0; t < N_TABLES; t++)
        for (const struct tkd_tool *x = tables[t]; x->name; x++)
            if (i-- == 0)
                return x;
    return NULL;
}

const tkd_tool *tkd_tools_find(const char *name) {
    if (!name)
        return NULL;
    for (size_t t = 0; t < N_TABLES; t++)
        for (const struct tkd_tool *x = tables[t]; x->name; x++)
            if (!strcmp(x->name, name))
                return x;
    return NULL;
}

const char *tkd_tools_name(const tkd_tool *t) {
    return t->name;
}
const char *tkd_tools_summary(const tkd_tool *t) {
    return t->summary;
}
const char *tkd_tools_group(const tkd_tool *t) {
    return t->group;
}

/* ---- specs ---- */

static json_t *num_or_str(void) {
    return json_pack("{s:[s,s]}", "type", "number", "string");
}

static json_t *param_schema(const tool_param *p) {
    json_t *s = NULL;
    switch (p->type) {
    case TP_EXPR:
    case TP_VAR:
    case TP_TEXT: s = json_pack("{s:s}", "type", "string"); break;
    case TP_INT: s = json_pack("{s:[s,s]}", "type", "integer", "string"); break;
    case TP_NUMBER: s = num_or_str(); break;
    case TP_STRINGS: s = json_pack("{s:s,s:{s:s}}", "type", "array", "items", "type", "string"); break;
    case TP_INTS: s = json_pack("{s:s,s:{s:[s,s]}}", "type", "array", "items", "type", "integer", "string"); break;
    case TP_VECTOR: s = json_pack("{s:s,s:o}", "type", "array", "items", num_or_str()); break;
    case TP_MATRIX:
    case TP_POINTS:
        s = json_pack("{s:s,s:{s:s,s:o}}", "type", "array", "items", "type", "array", "items", num_or_str());
        break;
    }
    if (s)
        json_object_set_new(s, "description", json_string(p->desc));
    return s;
}

static json_t *spec_object(const struct tkd_tool *t) {
    json_t *props = json_object(), *req = json_array();
    if (!props || !req)
        goto fail;
    for (int i = 0; i < TOOL_PARAMS_MAX && t->params[i].name; i++) {
        json_t *s = param_schema(&t->params[i]);
        if (!s || json_object_set_new(props, t->params[i].name, s))
            goto fail;
        if (t->params[i].required && json_array_append_new(req, json_string(t->params[i].name)))
            goto fail;
    }
    json_t *fn = json_pack("{s:s,s:s,s:{s:s,s:o,s:o}}", "name", t->name, "description", t->description, "parameters",
                           "type", "object", "properties", props, "required", req);
    if (!fn)
        return NULL;
    return json_pack("{s:s,s:o}", "type", "function", "function", fn);
fail:
    json_decref(props);
    json_decref(req);
    return NULL;
}

char *tkd_tools_spec_json(const tkd_tool *t, tkd_err *e) {
    json_t *o = spec_object(t);
    char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        tkd_err_set(e, TKD_ENOMEM, "building the spec of tool %s: out of memory", t->name);
    return s;
}

char *tkd_tools_specs_json(const char *const *names, tkd_err *e) {
    json_t *arr = json_array();
    if (!arr)
        goto oom;
    for (size_t i = 0, n = tkd_tools_count(); i < n; i++) {
        const struct tkd_tool *t = tkd_tools_at(i);
        int want = !names;
        for (const char *const *k = names; k && *k; k++)
            want |= !strcmp(*k, t->name);
        if (want && json_array_append_new(arr, spec_object(t)))
            goto oom;
    }
    char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (!s)
        goto oom;
    return s;
oom:
    json_decref(arr);
    tkd_err_set(e, TKD_ENOMEM, "building the tool specs: out of memory");
    return NULL;
}

/* ---- answers ---- */

char *tkd_tools_error_json(const char *msg) {
    json_t *o = json_pack("{s:s,s:s?}", "status", "error", "message", msg);
    if (!o) /* msg was not valid UTF-8: say so without it */
        o = json_pack("{s:s,s:s}", "status", "error", "message", "the tool failed (message unavailable)");
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

/* Cut an answer to cap bytes, keeping it valid JSON: the result becomes a
 * string holding the start of its text and a note. */
static char *cap_answer(json_t *result, char *dumped, size_t cap) {
    size_t len = strlen(dumped);
    if (len <= cap)
        return dumped;
    char *text = json_is_string(result) ? strdup(json_string_value(result))
                                        : json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER);
    free(dumped);
    if (!text)
        return NULL;
    char note[200];
    snprintf(note, sizeof note, " ... [output truncated: the answer has %zu bytes and the limit is %zu]", len, cap);
    /* room for the note, {"result":""} and escapes (at most 6 bytes per char
     * as \uXXXX; keep a margin by cutting until it fits) */
    size_t keep = cap > strlen(note) + 64 ? cap - strlen(note) - 64 : 0;
    for (;;) {
        if (keep > strlen(text))
            keep = strlen(text);
        while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80) /* UTF-8 boundary */
            keep--;
        char *buf = malloc(keep + strlen(note) + 1);
        if (!buf) {
            free(text);
            return NULL;
        }
        memcpy(buf, text, keep);
        strcpy(buf + keep, note);
        json_t *o = json_pack("{s:s}", "result", buf);
        free(buf);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s || strlen(s) <= cap || keep == 0) {
            free(text);
            return s;
        }
        size_t over = strlen(s) - cap;
        free(s);
        keep = keep > over ? keep - over : 0;
    }
}

static int known_param(const struct tkd_tool *t, const char *key) {
    for (int i = 0; i < TOOL_PARAMS_MAX && t->params[i].name; i++)
        if (!strcmp(t->params[i].name, key))
            return 1;
    return 0;
}

static void param_list(const struct tkd_tool *t, char *out, size_t n) {
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < TOOL_PARAMS_MAX && t->params[i].name && off < n; i++)
        off += (size_t)snprintf(out + off, n - off, "%s%s%s", i ? ", " : "", t->params[i].name,
                                t->params[i].required ? "" : " (optional)");
}

static int check_args(const struct tkd_tool *t, const json_t *args, tkd_err *e) {
    char plist[400];
    const char *key;
    json_t *v;
    param_list(t, plist, sizeof plist);
    json_object_foreach((json_t *)args, key, v) {
        if (!known_param(t, key))
            return tkd_err_set(e, TKD_EINVAL, "%s has no argument '%.60s'; it takes: %s", t->name, key, plist);
        if (json_is_null(v))
            return tkd_err_set(e, TKD_EINVAL, "%s: argument '%.60s' is null; give a value or leave it out", t->name,
                               key);
    }
    for (int i = 0; i < TOOL_PARAMS_MAX && t->params[i].name; i++)
        if (t->params[i].required && !json_object_get(args, t->params[i].name))
            return tkd_err_set(e, TKD_EINVAL, "%s: missing argument '%s' (%s); it takes: %s", t->name,
                               t->params[i].name, t->params[i].desc, plist);
    return 0;
}

int tkd_tools_call(const char *name, const char *args_json, size_t n, char **answer, const tkd_tool_limits *limits,
                   tkd_err *e) {
    tkd_tool_limits lim;
    tkd_tools_limits_default(&lim);
    if (limits && limits->output_max)
        lim.output_max = limits->output_max;
    *answer = NULL;
    char msg[TKD_ERR_MSG_MAX + 64];
    int rc = 0;
    const struct tkd_tool *t = NULL;
    json_t *args = NULL, *result = NULL;
    tkd_err te = {0};

    if (!name || !tkd_text_utf8_valid(name, strlen(name)) || !(t = tkd_tools_find(name))) {
        char safe[TKD_TOOL_NAME_MAX + 1] = "";
        if (name && tkd_text_utf8_valid(name, strlen(name)))
            snprintf(safe, sizeof safe, "%s", name);
        snprintf(msg, sizeof msg,
                 "unknown tool '%s'; the tools are listed in the tool specs (e.g. simplify_expression, solve_equation, "
                 "factor_integer)",
                 safe);
        rc = tkd_err_set(e, TKD_ENOTFOUND, "%s", msg);
        goto answer_error;
    }
    if (!args_json || n == 0) {
        args_json = "{}";
        n = 2;
    }
    if (n > TKD_TOOL_ARGS_MAX) {
        snprintf(msg, sizeof msg, "%s: the arguments are %zu bytes; the limit is %d bytes. Pass smaller inputs.",
                 t->name, n, TKD_TOOL_ARGS_MAX);
        goto answer_error;
    }
    json_error_t jerr;
    args = json_loadb(args_json, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!args || !json_is_object(args)) {
        snprintf(msg, sizeof msg, "%s: the arguments must be one JSON object like {\"expression\": \"x**2 - 1\"}; %s",
                 t->name, args ? "got another JSON value" : jerr.text);
        rc = tkd_err_set(e, TKD_EINVAL, "%s", msg);
        goto answer_error;
    }
    if (check_args(t, args, &te) || t->fn(args, &result, &te)) {
        snprintf(msg, sizeof msg, "%s", te.msg[0] ? te.msg : "the tool failed");
        goto answer_error;
    }
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "result", result)) {
        json_decref(o);
        json_decref(args);
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", t->name);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s)
        s = cap_answer(result, s, lim.output_max);
    json_decref(o);
    json_decref(args);
    if (!s)
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory writing the answer", t->name);
    *answer = s;
    return 0;

answer_error:
    json_decref(args);
    *answer = tkd_tools_error_json(msg);
    if (!*answer)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    return rc;
}
