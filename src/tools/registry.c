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

#include <jansson.h>

#include "tools_int.h"

static const struct tkd_tool *const tables[] = {
    tkd_tools_alg_table,   tkd_tools_solve_table,  tkd_tools_ineq_table,   tkd_tools_calc_table,
    tkd_tools_integ_table, tkd_tools_series_table, tkd_tools_linalg_table, tkd_tools_geom_table,
    tkd_tools_eval_table,  tkd_tools_nt_table,     tkd_tools_comb_table,   tkd_tools_code_table,
};
#define N_TABLES (sizeof tables / sizeof tables[0])

void tkd_tools_limits_default(tkd_tool_limits *l) {
    l->cpu_seconds = TKD_TOOL_CPU_SECONDS;
    l->mem_bytes = TKD_TOOL_MEM_BYTES;
    l->output_max = TKD_TOOL_OUTPUT_MAX;
    l->wall_seconds = TKD_TOOL_WALL_SECONDS;
    tkd_tools_code_default(&l->code);
}

int tkd_tools_opt_in(const tkd_tool *t) {
    return t->fn == NULL;
}

double tkd_tools_wall_seconds(const char *name, const tkd_tool_limits *lim) {
    const struct tkd_tool *t = tkd_tools_find(name);
    double w = lim->wall_seconds > 0 ? lim->wall_seconds : TKD_TOOL_WALL_SECONDS;
    if (t && !t->fn) { /* the code tool stops itself at timeout_s: the watchdog is the backstop */
        double c = (lim->code.timeout_s > 0 ? lim->code.timeout_s : TKD_CODE_TIMEOUT_S) + TKD_CODE_WATCHDOG_MARGIN_S;
        if (c > w)
            w = c;
    }
    return w;
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
            if (x->name[0] == name[0] && !strcmp(x->name, name))
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
        int want = !names && t->fn;
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

/* {"status":"error","message":msg} into b. */
static int error_answer(tkd_buf *b, const char *msg) {
    tkd_buf_reset(b);
    return tkd_buf_puts(b, "{\"status\":\"error\",\"message\":") || tkd_json_write_string(b, msg, strlen(msg)) ||
                   tkd_buf_putc(b, '}')
               ? TKD_ENOMEM
               : 0;
}

char *tkd_tools_error_json(const char *msg) {
    tkd_buf b;
    tkd_buf_init(&b);
    if (error_answer(&b, msg)) {
        tkd_buf_free(&b);
        return NULL;
    }
    return tkd_buf_steal(&b);
}

/* b holds {"result":...} longer than cap: cut it to a string holding the
 * start of the result's text and a note, keeping it valid JSON. */
static int cap_answer(tkd_buf *b, const tkd_json *result, size_t cap) {
    size_t len = b->len;
    const char *text = result->kind == TKD_JSON_STR ? result->s : b->data + 10; /* after {"result": */
    size_t tlen = result->kind == TKD_JSON_STR ? result->n : len - 11;
    char note[200];
    snprintf(note, sizeof note, " ... [output truncated: the answer has %zu bytes and the limit is %zu]", len, cap);
    size_t nlen = strlen(note);
    tkd_buf out;
    tkd_buf_init(&out);
    /* room for the note and {"result":""}; escapes can make the text longer
     * than its bytes, so cut again until it fits */
    size_t keep = cap > nlen + 64 ? cap - nlen - 64 : 0;
    for (;;) {
        if (keep > tlen)
            keep = tlen;
        while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80) /* a UTF-8 boundary */
            keep--;
        char *joined = malloc(keep + nlen + 1);
        if (!joined)
            break;
        memcpy(joined, text, keep);
        memcpy(joined + keep, note, nlen + 1);
        tkd_buf_reset(&out);
        int rc = tkd_buf_puts(&out, "{\"result\":") || tkd_json_write_string(&out, joined, keep + nlen) ||
                 tkd_buf_putc(&out, '}');
        free(joined);
        if (rc)
            break;
        if (out.len <= cap || keep == 0) {
            tkd_buf_free(b);
            *b = out;
            return 0;
        }
        size_t over = out.len - cap;
        keep = keep > over ? keep - over : 0;
    }
    tkd_buf_free(&out);
    return TKD_ENOMEM;
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

static int check_args(const struct tkd_tool *t, const tkd_json *args, tkd_err *e) {
    char plist[400];
    for (size_t i = 0; i < args->n; i++) {
        if (!known_param(t, args->k[i])) {
            param_list(t, plist, sizeof plist);
            return tkd_err_set(e, TKD_EINVAL, "%s has no argument '%.60s'; it takes: %s", t->name, args->k[i], plist);
        }
        if (args->v[i]->kind == TKD_JSON_NULL)
            return tkd_err_set(e, TKD_EINVAL, "%s: argument '%.60s' is null; give a value or leave it out", t->name,
                               args->k[i]);
    }
    for (int i = 0; i < TOOL_PARAMS_MAX && t->params[i].name; i++)
        if (t->params[i].required && !tkd_json_get(args, t->params[i].name)) {
            param_list(t, plist, sizeof plist);
            return tkd_err_set(e, TKD_EINVAL, "%s: missing argument '%s' (%s); it takes: %s", t->name,
                               t->params[i].name, t->params[i].desc, plist);
        }
    return 0;
}

/* Parse the arguments, check them, run the tool and write its answer into
 * b: 0, or the code of the error whose message is in e. *not_json is set to
 * TKD_EINVAL when the arguments are not a JSON object. */
static int run_tool(const struct tkd_tool *t, const char *args_json, size_t n, const tkd_tool_limits *lim, size_t cap,
                    tkd_buf *b, tkd_err *e, int *not_json) {
    tkd_arena ta;
    tkd_arena_init(&ta);
    tkd_json *args, *result = NULL;
    int rc = tkd_json_parse(&ta, args_json, n, &args, e);
    if (rc != TKD_ENOMEM && (rc || args->kind != TKD_JSON_OBJ)) {
        char why[TKD_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", rc ? e->msg : "got another JSON value");
        rc = *not_json = tkd_err_set(
            e, TKD_EINVAL, "%s: the arguments must be one JSON object like {\"expression\": \"x**2 - 1\"}; %s",
            t->name, why);
    }
    tkd_tool_limits dl;
    if (!lim) {
        tkd_tools_limits_default(&dl);
        lim = &dl;
    }
    if (!rc && !(rc = check_args(t, args, e)) &&
        !(rc = t->fn ? t->fn(&ta, args, &result, e) : tcode_run_python(&ta, args, lim, &result, e)) &&
        (!result || ta.failed || tkd_buf_puts(b, "{\"result\":") || tkd_json_write(b, result) || tkd_buf_putc(b, '}') ||
         (b->len > cap && cap_answer(b, result, cap))))
        rc = tkd_err_set(e, TKD_ENOMEM, "%s: out of memory writing the answer", t->name);
    tkd_arena_free(&ta);
    return rc;
}

int tkd_tools_call(const char *name, const char *args_json, size_t n, char **answer, const tkd_tool_limits *limits,
                   tkd_err *e) {
    size_t cap = limits && limits->output_max ? limits->output_max : TKD_TOOL_OUTPUT_MAX;
    int valid_name = name && tkd_text_utf8_valid(name, strlen(name));
    const struct tkd_tool *t = valid_name ? tkd_tools_find(name) : NULL;
    int rc = 0; /* for the caller: 0 (answered), TKD_ENOTFOUND or TKD_EINVAL */
    tkd_err te;
    te.code = 0;
    te.msg[0] = 0;
    tkd_buf b;
    tkd_buf_init(&b);
    *answer = NULL;
    if (!t) {
        rc = tkd_err_set(&te, TKD_ENOTFOUND,
                         "unknown tool '%.*s'; the tools are listed in the tool specs (e.g. simplify_expression, "
                         "solve_equation, factor_integer)",
                         TKD_TOOL_NAME_MAX, valid_name ? name : "");
    } else {
        if (!args_json || n == 0) {
            args_json = "{}";
            n = 2;
        }
        if (n > TKD_TOOL_ARGS_MAX)
            tkd_err_set(&te, TKD_ELIMIT, "%s: the arguments are %zu bytes; the limit is %d bytes. Pass smaller inputs.",
                        t->name, n, TKD_TOOL_ARGS_MAX);
        else if (!run_tool(t, args_json, n, limits, cap, &b, &te, &rc)) {
            *answer = tkd_buf_steal(&b);
            return 0;
        }
    }
    if (rc)
        tkd_err_set(e, rc, "%s", te.msg);
    if (error_answer(&b, te.msg[0] ? te.msg : "the tool failed")) {
        tkd_buf_free(&b);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    *answer = tkd_buf_steal(&b);
    return rc;
}
