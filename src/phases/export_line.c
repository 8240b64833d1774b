/*
 * One JSONL line per training example, in the shape TRL, torchtune,
 * LLaMA-Factory and `tkd train` read: {"messages": [...], ["tools": [...]],
 * "id", "source", "subject", "level", "pid", "sample"}. Strings are written
 * as UTF-8 (never \u escapes), keys in a fixed order, so a re-run gives the
 * same bytes.
 *
 * The tir variant turns a solve trace into the conversation a tool-using
 * student learns: the student's system and user prompt in place of the
 * teacher's, then the teacher's replies with native tool_calls (arguments as
 * JSON objects, as Hugging Face chat templates expect, taken from the trace's
 * call log so that calls read from <tool_call> text are native too) and the
 * tool results as `tool` messages. The solver's own follow-up prompts
 * (execute, next action, wrap-up) are dropped and the plan is merged into the
 * reply that follows it (export.tir_follow_ups "merge"), or kept as user turns
 * ("keep").
 */
#include "export_line.h"

#include <string.h>

static int put_str(tkd_buf *b, const char *s, size_t n, exp_line *L) {
    L->bound += n;
    for (size_t i = 0; i < n && L->ascii; i++)
        L->ascii = (unsigned char)s[i] < 0x80;
    return tkd_json_write_string(b, s, n);
}

int exp_line_start(exp_line *L, const tkd_student_prompt *sp, const char *user) {
    tkd_buf_reset(&L->line);
    tkd_buf_reset(&L->text);
    /* bound: rendered bytes at most. Per message "<|im_start|>assistant\n" + "<|im_end|>\n" is 33
     * bytes, a tool result's user turn and <tool_response> tags 61, a call's <tool_call> frame 53 plus
     * name and arguments (Python's json.dumps of the arguments is at most twice the compact form),
     * the tools block's fixed text under 512, Qwen's default system prompt (no system message) 92. */
    L->bound = sp->system ? 128 : 256;
    L->ascii = 1;
    L->n_msgs = 0;
    L->final = NULL;
    int rc = tkd_buf_puts(&L->line, "{\"messages\":[");
    if (sp->system)
        rc = rc || exp_line_msg(L, "system", sp->system, strlen(sp->system));
    return rc || exp_line_msg(L, "user", user, strlen(user));
}

static int msg_head(exp_line *L, const char *role) {
    L->bound += 40;
    return (L->n_msgs++ && tkd_buf_putc(&L->line, ',')) || tkd_buf_puts(&L->line, "{\"role\":\"") ||
           tkd_buf_puts(&L->line, role) || tkd_buf_puts(&L->line, "\",\"content\":");
}

int exp_line_msg(exp_line *L, const char *role, const char *content, size_t n) {
    return msg_head(L, role) || put_str(&L->line, content, n, L) || tkd_buf_putc(&L->line, '}');
}

/* What a trace's message needs from the call log: the calls of one turn. */
static int write_calls(exp_line *L, tkd_arena *a, const tkd_json *calls, size_t from, size_t k, const tkd_json *msgs,
                       size_t tool_at, tkd_err *e) {
    int rc = tkd_buf_puts(&L->line, ",\"tool_calls\":[");
    for (size_t j = 0; j < k && !rc; j++) {
        const tkd_json *c = tkd_json_at(calls, from + j);
        const char *id = tkd_json_str(tkd_json_get(c, "id")), *name = tkd_json_str(tkd_json_get(c, "name"));
        const char *args = tkd_json_str(tkd_json_get(c, "arguments"));
        const char *tid = tkd_json_str(tkd_json_get(tkd_json_at(msgs, tool_at + j), "tool_call_id"));
        if (!id || !name || !args || (tid && strcmp(tid, id)))
            return tkd_err_set(e, TKD_EFORMAT, "call %zu of the log does not answer tool message %zu", from + j,
                               tool_at + j);
        tkd_json *obj;
        tkd_err pe = {0};
        if (tkd_json_parse(a, args, strlen(args), &obj, &pe) || !tkd_json_is(obj, TKD_JSON_OBJ))
            return tkd_err_set(e, TKD_EFORMAT, "the arguments of call %zu (%s) are not a JSON object", from + j, name);
        rc = (j && tkd_buf_putc(&L->line, ',')) || tkd_buf_puts(&L->line, "{\"id\":") ||
             tkd_json_write_string(&L->line, id, strlen(id)) ||
             tkd_buf_puts(&L->line, ",\"type\":\"function\",\"function\":{\"name\":") ||
             put_str(&L->line, name, strlen(name), L) || tkd_buf_puts(&L->line, ",\"arguments\":");
        size_t at = L->line.len;
        rc = rc || tkd_json_write(&L->line, obj) || tkd_buf_puts(&L->line, "}}");
        /* Jansson (tkd train) reads the line too: it refuses integers beyond 64 bits */
        if (!rc && exp_json_has_big_int(obj))
            return tkd_err_set(e, TKD_EFORMAT, "the arguments of call %zu (%s) hold an integer beyond 64 bits",
                               from + j, name);
        L->bound += 64 + 2 * (L->line.len - at);
        for (size_t q = at; q < L->line.len && L->ascii; q++)
            L->ascii = (unsigned char)L->line.data[q] < 0x80;
        /* the dedup text: the call as the student would write it */
        rc = rc || tkd_buf_puts(&L->text, "\n<call>") || tkd_buf_puts(&L->text, name) ||
             tkd_buf_append(&L->text, L->line.data + at, L->line.len - at - 2);
        if (!rc && L->used_tools)
            exp_tools_mark(L->used_tools, name);
    }
    if (!rc && tkd_buf_putc(&L->line, ']'))
        rc = TKD_ENOMEM;
    return rc;
}

int exp_json_has_big_int(const tkd_json *v) {
    long long x;
    if (tkd_json_is(v, TKD_JSON_INT))
        return tkd_json_int(v, &x) != 0;
    for (size_t i = 0; i < tkd_json_size(v); i++)
        if (exp_json_has_big_int(v->v[i]))
            return 1;
    return 0;
}

static const char *role_of(const tkd_json *m) {
    const char *r = tkd_json_str(tkd_json_get(m, "role"));
    return r ? r : "";
}

int exp_line_tir(exp_line *L, tkd_arena *a, const tkd_json *doc, int keep_follow_ups, tkd_err *e) {
    const tkd_json *msgs = tkd_json_get(doc, "messages"), *calls = tkd_json_get(doc, "calls");
    if (!tkd_json_is(msgs, TKD_JSON_ARR) || !tkd_json_is(calls, TKD_JSON_ARR))
        return tkd_err_set(e, TKD_EFORMAT, "the trace has no messages or calls array");
    size_t n = tkd_json_size(msgs), i = 0, call_at = 0;
    while (i < n && strcmp(role_of(tkd_json_at(msgs, i)), "user")) /* the teacher's system and first user turn */
        i++;
    i++;
    /* a plan waits to be merged into the reply that follows it */
    const char *pend = NULL;
    size_t pend_n = 0;
    int last_plain_asst = 0, rc = 0;
    for (; i < n && !rc; i++) {
        const tkd_json *m = tkd_json_at(msgs, i);
        const char *r = role_of(m);
        const char *content = tkd_json_str(tkd_json_get(m, "content"));
        size_t clen = content ? strlen(content) : 0;
        if (!strcmp(r, "assistant")) {
            size_t k = 0;
            while (i + 1 + k < n && !strcmp(role_of(tkd_json_at(msgs, i + 1 + k)), "tool"))
                k++;
            if (k) { /* <tool_call> text stays out: the calls are native */
                const char *tc = content ? strstr(content, "<tool_call>") : NULL;
                if (tc)
                    clen = (size_t)(tc - content);
                while (clen && strchr(" \t\r\n", content[clen - 1]))
                    clen--;
            }
            if (!keep_follow_ups && !k && i + 1 < n) { /* merge into the next assistant reply */
                size_t j = i + 1;
                while (j < n && !strcmp(role_of(tkd_json_at(msgs, j)), "user"))
                    j++;
                if (j < n && !strcmp(role_of(tkd_json_at(msgs, j)), "assistant")) {
                    char *joined = tkd_arena_alloc(a, pend_n + clen + 3);
                    if (!joined)
                        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
                    size_t o = 0;
                    if (pend_n) {
                        memcpy(joined, pend, pend_n);
                        o = pend_n;
                    }
                    if (o && clen) {
                        memcpy(joined + o, "\n\n", 2);
                        o += 2;
                    }
                    if (clen)
                        memcpy(joined + o, content, clen);
                    o += clen;
                    joined[o] = 0;
                    pend = joined;
                    pend_n = o;
                    continue;
                }
            }
            const char *text = content ? content : "";
            if (pend_n) {
                char *joined = tkd_arena_alloc(a, pend_n + clen + 3);
                if (!joined)
                    return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
                memcpy(joined, pend, pend_n);
                size_t o = pend_n;
                if (clen) {
                    memcpy(joined + o, "\n\n", 2);
                    memcpy(joined + o + 2, content, clen);
                    o += 2 + clen;
                }
                joined[o] = 0;
                text = joined;
                clen = o;
                pend = NULL;
                pend_n = 0;
            }
            rc = msg_head(L, "assistant") || put_str(&L->line, text, clen, L) ||
                 (L->text.len && tkd_buf_puts(&L->text, "\n")) || tkd_buf_append(&L->text, text, clen);
            if (!rc && k) {
                if (call_at + k > tkd_json_size(calls))
                    return tkd_err_set(e, TKD_EFORMAT, "the call log has fewer calls than the tool messages");
                rc = write_calls(L, a, calls, call_at, k, msgs, i + 1, e);
                call_at += k;
            }
            rc = rc || tkd_buf_putc(&L->line, '}');
            last_plain_asst = !k;
            L->final = last_plain_asst ? text : NULL;
            L->final_n = clen;
        } else if (!strcmp(r, "tool")) {
            const char *id = tkd_json_str(tkd_json_get(m, "tool_call_id")),
                       *name = tkd_json_str(tkd_json_get(m, "name"));
            L->bound += 72;
            rc = (L->n_msgs++ && tkd_buf_putc(&L->line, ',')) || tkd_buf_puts(&L->line, "{\"role\":\"tool\"") ||
                 (id &&
                  (tkd_buf_puts(&L->line, ",\"tool_call_id\":") || tkd_json_write_string(&L->line, id, strlen(id)))) ||
                 (name &&
                  (tkd_buf_puts(&L->line, ",\"name\":") || tkd_json_write_string(&L->line, name, strlen(name)))) ||
                 tkd_buf_puts(&L->line, ",\"content\":") || put_str(&L->line, content ? content : "", clen, L) ||
                 tkd_buf_putc(&L->line, '}');
            last_plain_asst = 0;
            L->final = NULL;
        } else if (!strcmp(r, "user") && keep_follow_ups) {
            rc = exp_line_msg(L, "user", content ? content : "", clen);
            last_plain_asst = 0;
            L->final = NULL;
        }
    }
    if (rc && !e->msg[0])
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
    return rc;
}

int exp_line_end(exp_line *L, const char *tools_json, size_t tools_n, size_t tools_bound, const exp_meta *m) {
    int rc = tkd_buf_putc(&L->line, ']');
    if (tools_json) {
        rc = rc || tkd_buf_puts(&L->line, ",\"tools\":") || tkd_buf_append(&L->line, tools_json, tools_n);
        L->bound += 512 + tools_bound;
    }
    rc = rc || tkd_buf_puts(&L->line, ",\"id\":") || tkd_json_write_string(&L->line, m->id, strlen(m->id)) ||
         tkd_buf_puts(&L->line, ",\"source\":") || tkd_json_write_string(&L->line, m->source, strlen(m->source)) ||
         tkd_buf_puts(&L->line, ",\"subject\":") || tkd_json_write_string(&L->line, m->subject, strlen(m->subject)) ||
         tkd_buf_printf(&L->line, ",\"level\":%d,\"pid\":\"%016llx\",\"sample\":%d}\n", m->level,
                        (unsigned long long)m->pid, m->sample);
    return rc ? TKD_ENOMEM : 0;
}

/* ---- the tools a tir line carries ---- */
void exp_tools_mark(exp_tools *t, const char *name) {
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->names[i], name))
            t->used[i] = 1;
}
