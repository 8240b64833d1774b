/*
 * Qwen2.5's chat format (ChatML) in C, equal to what its Jinja chat_template
 * renders under transformers' apply_chat_template (tests compare the two):
 *   <|im_start|>system\n{system or the default prompt}[tools block]<|im_end|>\n
 *   <|im_start|>user\n{content}<|im_end|>\n
 *   <|im_start|>assistant\n{content}[\n<tool_call>\n{"name": .., "arguments": ..}\n</tool_call>]<|im_end|>\n
 *   <|im_start|>user\n<tool_response>\n{tool result}\n</tool_response>...<|im_end|>\n
 * plus "<|im_start|>assistant\n" when a generation prompt is asked for.
 * tkd_chat_encode() also marks the assistant spans for the SFT loss mask.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

static const char default_system[] = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
static const char tools_head[] = "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                                 "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
static const char tools_tail[] =
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\n</tool_call><|im_end|>\n";

/* ---- tojson: Python's json.dumps(x, ensure_ascii=False) ---- */
static int put_json_string(tkd_buf *b, const char *s, size_t n) {
    int rc = tkd_buf_putc(b, '"');
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': rc = tkd_buf_puts(b, "\\\""); break;
        case '\\': rc = tkd_buf_puts(b, "\\\\"); break;
        case '\n': rc = tkd_buf_puts(b, "\\n"); break;
        case '\r': rc = tkd_buf_puts(b, "\\r"); break;
        case '\t': rc = tkd_buf_puts(b, "\\t"); break;
        case '\b': rc = tkd_buf_puts(b, "\\b"); break;
        case '\f': rc = tkd_buf_puts(b, "\\f"); break;
        default: rc = c < 0x20 ? tkd_buf_printf(b, "\\u%04x", c) : tkd_buf_putc(b, (char)c);
        }
    }
    return rc ? rc : tkd_buf_putc(b, '"');
}

/* Python's repr of a float: the shortest digits that read back the same,
 * in fixed notation for 1e-4 <= |x| < 1e16, else d.ddde+XX. */
static int put_float(tkd_buf *b, double x) {
    if (isnan(x))
        return tkd_buf_puts(b, "NaN");
    if (isinf(x))
        return tkd_buf_puts(b, x > 0 ? "Infinity" : "-Infinity");
    char tmp[40];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    if (p > 17)
        p = 17;
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
    char digits[24] = {0};
    int nd = 0, neg = tmp[0] == '-';
    const char *q = tmp + neg;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            digits[nd++] = *q;
    int exp = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int rc = neg ? tkd_buf_putc(b, '-') : 0;
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            for (int i = 0; i <= exp && !rc; i++)
                rc = tkd_buf_putc(b, i < nd ? digits[i] : '0');
            rc = rc || tkd_buf_putc(b, '.');
            if (nd > exp + 1)
                rc = rc || tkd_buf_append(b, digits + exp + 1, (size_t)(nd - exp - 1));
            else
                rc = rc || tkd_buf_putc(b, '0');
        } else {
            rc = rc || tkd_buf_puts(b, "0.");
            for (int i = 0; i < -exp - 1 && !rc; i++)
                rc = tkd_buf_putc(b, '0');
            rc = rc || tkd_buf_append(b, digits, (size_t)nd);
        }
        return rc;
    }
    rc = rc || tkd_buf_putc(b, digits[0]);
    if (nd > 1)
        rc = rc || tkd_buf_putc(b, '.') || tkd_buf_append(b, digits + 1, (size_t)(nd - 1));
    return rc || tkd_buf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

int tkd_chat_tojson(const json_t *v, tkd_buf *b) {
    switch (json_typeof(v)) {
    case JSON_NULL: return tkd_buf_puts(b, "null");
    case JSON_TRUE: return tkd_buf_puts(b, "true");
    case JSON_FALSE: return tkd_buf_puts(b, "false");
    case JSON_INTEGER: return tkd_buf_printf(b, "%lld", (long long)json_integer_value(v));
    case JSON_REAL: return put_float(b, json_real_value(v));
    case JSON_STRING: return put_json_string(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        int rc = tkd_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v) && !rc; i++)
            rc = (i && tkd_buf_puts(b, ", ")) || tkd_chat_tojson(json_array_get(v, i), b);
        return rc || tkd_buf_putc(b, ']');
    }
    case JSON_OBJECT: {
        int rc = tkd_buf_putc(b, '{'), first = 1;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (rc)
                break;
            rc = (!first && tkd_buf_puts(b, ", ")) || put_json_string(b, k, strlen(k)) || tkd_buf_puts(b, ": ") ||
                 tkd_chat_tojson(x, b);
            first = 0;
        }
        return rc || tkd_buf_putc(b, '}');
    }
    }
    return TKD_EINTERNAL;
}

/* ---- rendering ---- */
typedef struct {
    tkd_buf *out;
    int nfc;       /* normalize inserted strings (for exact token offsets) */
    size_t *spans; /* assistant spans: start, end pairs */
    size_t n_spans, cap_spans;
    tkd_buf tmp;
} render_ctx;

static int put(render_ctx *c, const char *s, size_t n) {
    if (c->nfc && tok_nfc_maybe_changes(s, n)) {
        if (tok_nfc(s, n, &c->tmp))
            return TKD_ENOMEM;
        return tkd_buf_append(c->out, c->tmp.data, c->tmp.len);
    }
    return tkd_buf_append(c->out, s, n);
}
static int lit(render_ctx *c, const char *s) {
    return tkd_buf_puts(c->out, s);
}

static int span_push(render_ctx *c, size_t pos) {
    if (c->n_spans == c->cap_spans) {
        size_t cap = c->cap_spans ? 2 * c->cap_spans : 32;
        size_t *p = realloc(c->spans, cap * sizeof *p);
        if (!p)
            return TKD_ENOMEM;
        c->spans = p;
        c->cap_spans = cap;
    }
    c->spans[c->n_spans++] = pos;
    return 0;
}
static int span_mark(render_ctx *c) {
    return span_push(c, c->out->len);
}

/* The text of a message's content: a string, null (""), or a list of
 * {"type": "text", "text": ...} parts joined. */
static int content_of(render_ctx *c, const json_t *m, size_t i, tkd_buf *text, tkd_err *e) {
    json_t *v = json_object_get(m, "content");
    tkd_buf_reset(text);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return tkd_buf_append(text, json_string_value(v), json_string_length(v)) ? TKD_ENOMEM : 0;
    if (json_is_array(v)) {
        for (size_t k = 0; k < json_array_size(v); k++) {
            json_t *t = json_object_get(json_array_get(v, k), "text");
            if (!json_is_string(t))
                return tkd_err_set(e, TKD_EINVAL, "chat: messages[%zu].content[%zu]: only text parts are supported", i,
                                   k);
            if (tkd_buf_append(text, json_string_value(t), json_string_length(t)))
                return TKD_ENOMEM;
        }
        return 0;
    }
    (void)c;
    return tkd_err_set(e, TKD_EINVAL, "chat: messages[%zu].content: expected a string", i);
}

static const char *role_of(const json_t *messages, size_t i) {
    json_t *r = json_object_get(json_array_get(messages, i), "role");
    return json_is_string(r) ? json_string_value(r) : "";
}

static int has_tool_calls(const json_t *m) {
    json_t *tc = json_object_get(m, "tool_calls");
    return json_is_array(tc) && json_array_size(tc) > 0;
}

static int tool_call(render_ctx *c, const json_t *tc, size_t i, size_t k, tkd_err *e) {
    const json_t *f = json_object_get(tc, "function") ? json_object_get(tc, "function") : tc;
    json_t *name = json_object_get(f, "name"), *args = json_object_get(f, "arguments");
    if (!json_is_string(name))
        return tkd_err_set(e, TKD_EINVAL, "chat: messages[%zu].tool_calls[%zu]: missing the function name", i, k);
    json_t *parsed = NULL;
    if (json_is_string(args)) { /* OpenAI sends arguments as a JSON string */
        parsed = json_loads(json_string_value(args), JSON_DECODE_ANY, NULL);
        if (json_is_object(parsed) || json_is_array(parsed))
            args = parsed;
    }
    tkd_buf js;
    tkd_buf_init(&js);
    int rc = args ? tkd_chat_tojson(args, &js) : tkd_buf_puts(&js, "{}");
    json_decref(parsed);
    rc = rc || lit(c, "\n<tool_call>\n{\"name\": \"") || put(c, json_string_value(name), json_string_length(name)) ||
         lit(c, "\", \"arguments\": ") || put(c, js.data, js.len) || lit(c, "}\n</tool_call>");
    tkd_buf_free(&js);
    return rc ? TKD_ENOMEM : 0;
}

static int render(render_ctx *c, const json_t *messages, const json_t *tools, int gen, tkd_err *e) {
    if (!json_is_array(messages))
        return tkd_err_set(e, TKD_EINVAL, "chat: messages: expected a JSON array of {\"role\", \"content\"}");
    size_t n = json_array_size(messages);
    for (size_t i = 0; i < n; i++) {
        const char *r = role_of(messages, i);
        if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant") && strcmp(r, "tool"))
            return tkd_err_set(e, TKD_EINVAL, "chat: messages[%zu].role: '%s' is not system, user, assistant or tool",
                               i, r);
    }
    if (tools && !json_is_null(tools) && !json_is_array(tools))
        return tkd_err_set(e, TKD_EINVAL, "chat: tools: expected a JSON array of tool schemas");
    tkd_err_clear(e);
    tkd_buf text;
    tkd_buf_init(&text);
    int rc = 0, first_sys = n > 0 && !strcmp(role_of(messages, 0), "system");
    if (first_sys)
        rc = content_of(c, json_array_get(messages, 0), 0, &text, e);
    if (!rc && json_array_size(tools) > 0) {
        rc = lit(c, "<|im_start|>system\n") || (first_sys ? put(c, text.data, text.len) : lit(c, default_system)) ||
             lit(c, tools_head);
        tkd_buf js;
        tkd_buf_init(&js);
        for (size_t k = 0; k < json_array_size(tools) && !rc; k++) {
            tkd_buf_reset(&js);
            rc = lit(c, "\n") || tkd_chat_tojson(json_array_get(tools, k), &js) || put(c, js.data, js.len);
        }
        tkd_buf_free(&js);
        rc = rc || lit(c, tools_tail);
    } else if (!rc) {
        rc = lit(c, "<|im_start|>system\n") || (first_sys ? put(c, text.data, text.len) : lit(c, default_system)) ||
             lit(c, "<|im_end|>\n");
    }
    for (size_t i = 0; i < n && !rc; i++) {
        const json_t *m = json_array_get(messages, i);
        const char *r = role_of(messages, i);
        int is_asst = !strcmp(r, "assistant");
        if (!strcmp(r, "system") && i == 0)
            continue;
        if ((rc = content_of(c, m, i, &text, e)))
            break;
        if (!strcmp(r, "tool")) {
            if (i == 0 || strcmp(role_of(messages, i - 1), "tool"))
                rc = lit(c, "<|im_start|>user");
            rc = rc || lit(c, "\n<tool_response>\n") || put(c, text.data, text.len) || lit(c, "\n</tool_response>");
            if (!rc && (i + 1 == n || strcmp(role_of(messages, i + 1), "tool")))
                rc = lit(c, "<|im_end|>\n");
        } else if (!is_asst || !has_tool_calls(m)) {
            rc = lit(c, "<|im_start|>") || lit(c, r) || lit(c, "\n") || (is_asst && span_mark(c)) ||
                 put(c, text.data, text.len) || lit(c, "<|im_end|>") || (is_asst && span_mark(c)) || lit(c, "\n");
        } else {
            /* the span starts after "assistant\n": the "\n" leads both content and <tool_call> */
            rc = lit(c, "<|im_start|>assistant");
            size_t start = c->out->len + 1;
            if (!rc && text.len)
                rc = lit(c, "\n") || put(c, text.data, text.len);
            json_t *tcs = json_object_get(m, "tool_calls");
            for (size_t k = 0; k < json_array_size(tcs) && !rc; k++)
                rc = tool_call(c, json_array_get(tcs, k), i, k, e);
            if (!rc)
                rc = span_push(c, start) || lit(c, "<|im_end|>") || span_mark(c) || lit(c, "\n");
        }
    }
    if (!rc && gen)
        rc = lit(c, "<|im_start|>assistant\n");
    tkd_buf_free(&text);
    /* helpers return 1 or TKD_ENOMEM without a message when memory runs out */
    if (rc > 0 || (rc == TKD_ENOMEM && !e->msg[0]))
        return tkd_err_set(e, TKD_ENOMEM, "chat: out of memory");
    return rc;
}

/* messages may be {"messages": [...], "tools": [...]}; tools given apart win */
static int render_doc(render_ctx *c, const json_t *messages, const json_t *tools, int gen, tkd_err *e) {
    if (json_is_object(messages)) {
        if (!tools)
            tools = json_object_get(messages, "tools");
        messages = json_object_get(messages, "messages");
    }
    return render(c, messages, tools, gen, e);
}

static void ctx_free(render_ctx *c) {
    free(c->spans);
    tkd_buf_free(&c->tmp);
}

int tkd_chat_render_json(const json_t *messages, const json_t *tools, int gen, char **text, size_t *len, tkd_err *e) {
    tkd_buf out;
    tkd_buf_init(&out);
    render_ctx c = {.out = &out};
    tkd_buf_init(&c.tmp);
    tkd_err local = {0};
    if (!e)
        e = &local;
    int rc = render_doc(&c, messages, tools, gen, e);
    ctx_free(&c);
    if (!rc && tkd_buf_append(&out, "", 0))
        rc = tkd_err_set(e, TKD_ENOMEM, "chat: out of memory");
    if (rc) {
        tkd_buf_free(&out);
        return rc;
    }
    if (len)
        *len = out.len;
    *text = tkd_buf_steal(&out);
    return 0;
}

static int parse2(const char *mj, const char *tj, json_t **m, json_t **t, tkd_err *e) {
    json_error_t jerr;
    *t = NULL;
    if (!(*m = json_loads(mj, 0, &jerr)))
        return tkd_err_set(e, TKD_EINVAL, "chat: messages are not valid JSON (line %d, column %d): %s", jerr.line,
                           jerr.column, jerr.text);
    if (tj && !(*t = json_loads(tj, 0, &jerr))) {
        json_decref(*m);
        return tkd_err_set(e, TKD_EINVAL, "chat: tools are not valid JSON (line %d, column %d): %s", jerr.line,
                           jerr.column, jerr.text);
    }
    return 0;
}

int tkd_chat_render(const char *mj, const char *tj, int gen, char **text, size_t *len, tkd_err *e) {
    json_t *m, *t;
    *text = NULL;
    int rc = parse2(mj, tj, &m, &t, e);
    if (!rc)
        rc = tkd_chat_render_json(m, t, gen, text, len, e);
    json_decref(m);
    json_decref(t);
    return rc;
}

int tkd_chat_encode_json(tkd_tokenizer *tok, const json_t *messages, const json_t *tools, int gen, int32_t **ids,
                         uint8_t **mask, size_t *n, tkd_err *e) {
    *ids = NULL;
    *n = 0;
    if (mask)
        *mask = NULL;
    tkd_buf out;
    tkd_buf_init(&out);
    render_ctx c = {.out = &out, .nfc = 1};
    tkd_buf_init(&c.tmp);
    tkd_err local = {0};
    if (!e)
        e = &local;
    size_t *starts = NULL;
    int rc = render_doc(&c, messages, tools, gen, e);
    if (!rc)
        rc = tkd_tokenizer_encode_offsets(tok, out.data ? out.data : "", out.len, 0, ids, &starts, n, e);
    if (!rc && mask) {
        *mask = malloc(*n ? *n : 1);
        if (!*mask) {
            rc = tkd_err_set(e, TKD_ENOMEM, "chat: out of memory");
        } else {
            size_t s = 0;
            for (size_t i = 0; i < *n; i++) {
                while (s < c.n_spans && starts[i] >= c.spans[s + 1])
                    s += 2;
                (*mask)[i] = s < c.n_spans && starts[i] >= c.spans[s];
            }
        }
    }
    if (rc) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    free(starts);
    ctx_free(&c);
    tkd_buf_free(&out);
    return rc;
}

int tkd_chat_encode(tkd_tokenizer *tok, const char *mj, const char *tj, int gen, int32_t **ids, uint8_t **mask,
                    size_t *n, tkd_err *e) {
    json_t *m, *t;
    *ids = NULL;
    *n = 0;
    int rc = parse2(mj, tj, &m, &t, e);
    if (!rc)
        rc = tkd_chat_encode_json(tok, m, t, gen, ids, mask, n, e);
    json_decref(m);
    json_decref(t);
    return rc;
}
