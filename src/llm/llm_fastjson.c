/*
 * llm_fastjson: a fast path for reading the common chat completion (content,
 * reasoning, finish_reason, usage; no native tool calls). Jansson reads a
 * 2 KiB reply in ~25 us, most of the client's time at 20,000 replies/s; this
 * single-pass strict scanner (RFC 8259: structure, escapes, surrogates,
 * UTF-8, number grammar) takes a few. It is an accelerator only: anything it
 * is not sure about (native tool calls, duplicate keys of interest, a body
 * jansson would refuse, odd types) makes it decline, and the caller reads the
 * body with Jansson, whose answer is the reference. The unit tests check that
 * both paths agree wherever the fast path answers.
 */
#include "tkd/llm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FAST_MAX_DEPTH 256

typedef struct scan {
    const char *p, *end;
    int depth;
} scan;

static void ws(scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static int hex4(const char *p, unsigned *v) {
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        x <<= 4;
        if (c >= '0' && c <= '9')
            x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            x |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *v = x;
    return 0;
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static int utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!n || end - p < n)
        return 0;
    unsigned cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static void put_utf8(char **o, unsigned cp) {
    char *q = *o;
    if (cp < 0x80) {
        *q++ = (char)cp;
    } else if (cp < 0x800) {
        *q++ = (char)(0xc0 | (cp >> 6));
        *q++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *q++ = (char)(0xe0 | (cp >> 12));
        *q++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *q++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *q++ = (char)(0xf0 | (cp >> 18));
        *q++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *q++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *q++ = (char)(0x80 | (cp & 0x3f));
    }
    *o = q;
}

/* A string at s->p (on the opening quote). With out, a malloc'd unescaped
 * copy (the decoded text is never longer than the escaped one). 0 or -1. */
static int str(scan *s, char **out) {
    const char *start = ++s->p;
    char *o = NULL, *q = NULL;
    if (out) {
        /* the closing quote bounds the copy; find an upper bound lazily */
        o = q = malloc((size_t)(s->end - start) + 1);
        if (!o)
            return -1;
    }
    while (s->p < s->end) {
        /* a run of plain ASCII: no quote, backslash or control character */
        const char *run = s->p;
        while (s->p < s->end && (unsigned char)*s->p >= 0x20 && (unsigned char)*s->p < 0x80 && *s->p != '"' &&
               *s->p != '\\')
            s->p++;
        if (q && s->p > run) {
            memcpy(q, run, (size_t)(s->p - run));
            q += s->p - run;
        }
        if (s->p >= s->end)
            break;
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            if (out) {
                *q = 0;
                *out = o;
            }
            return 0;
        }
        if (c < 0x20)
            break;
        if (c == '\\') {
            if (s->end - s->p < 2)
                break;
            char e = s->p[1];
            const char *rep = strchr("\"\\/bfnrt", e);
            if (e && rep) {
                if (q)
                    *q++ = "\"\\/\b\f\n\r\t"[rep - "\"\\/bfnrt"];
                s->p += 2;
                continue;
            }
            unsigned cp, lo;
            if (e != 'u' || s->end - s->p < 6 || hex4(s->p + 2, &cp))
                break;
            s->p += 6;
            if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                break; /* \u0000 and lone low surrogates: Jansson refuses them */
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' || hex4(s->p + 2, &lo) || lo < 0xdc00 ||
                    lo > 0xdfff)
                    break;
                s->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (q)
                put_utf8(&q, cp);
            continue;
        }
        int n = c < 0x80 ? 1 : utf8_len((const unsigned char *)s->p, (const unsigned char *)s->end);
        if (!n)
            break;
        if (q) {
            memcpy(q, s->p, (size_t)n);
            q += n;
        }
        s->p += n;
    }
    free(o);
    return -1;
}

static int digits(scan *s) {
    const char *b = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return (int)(s->p - b);
}

/* A number; *iv is its value when it is an integer of at most 18 digits, else
 * 0 (as json_integer_value of a real); *ok_int = 0 for a real. */
static int num(scan *s, long long *iv) {
    const char *b = s->p;
    int neg = 0;
    if (s->p < s->end && *s->p == '-') {
        neg = 1;
        s->p++;
    }
    const char *d0 = s->p;
    int nd = digits(s);
    if (nd == 0 || (nd > 1 && *d0 == '0'))
        return -1;
    int is_int = 1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!digits(s))
            return -1;
        is_int = 0;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!digits(s))
            return -1;
        is_int = 0;
    }
    if (is_int && nd > 18)
        return -1; /* let Jansson decide about big integers */
    if (!is_int) { /* Jansson refuses reals that overflow a double */
        char tmp[64];
        size_t n = (size_t)(s->p - b);
        if (n >= sizeof tmp)
            return -1;
        memcpy(tmp, b, n);
        tmp[n] = 0;
        if (isinf(strtod(tmp, NULL)))
            return -1;
    }
    long long v = 0;
    if (is_int)
        for (const char *p = d0; p < d0 + nd; p++)
            v = v * 10 + (*p - '0');
    if (iv)
        *iv = is_int ? (neg ? -v : v) : 0;
    return 0;
}

static int value(scan *s);

static int lit(scan *s, const char *w, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n))
        return -1;
    s->p += n;
    return 0;
}

/* Iterate an object: calls on_key for each key with s->p on its value; the
 * callback must consume the value. */
typedef int (*key_fn)(scan *s, const char *k, size_t kl, void *ctx);

static int object(scan *s, key_fn fn, void *ctx) {
    if (++s->depth > FAST_MAX_DEPTH)
        return -1;
    s->p++; /* { */
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        ws(s);
        if (s->p >= s->end || *s->p != '"')
            return -1;
        const char *k = s->p + 1;
        if (str(s, NULL))
            return -1;
        size_t kl = (size_t)(s->p - 1 - k);
        if (memchr(k, '\\', kl))
            return -1; /* an escaped key might spell a key of interest */
        ws(s);
        if (s->p >= s->end || *s->p != ':')
            return -1;
        s->p++;
        ws(s);
        if (fn ? fn(s, k, kl, ctx) : value(s))
            return -1;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            s->depth--;
            return 0;
        }
        return -1;
    }
}

static int value(scan *s) {
    if (s->p >= s->end)
        return -1;
    switch (*s->p) {
    case '"': return str(s, NULL);
    case '{': return object(s, NULL, NULL);
    case '[': {
        if (++s->depth > FAST_MAX_DEPTH)
            return -1;
        s->p++;
        ws(s);
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            s->depth--;
            return 0;
        }
        for (;;) {
            ws(s);
            if (value(s))
                return -1;
            ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if (s->p < s->end && *s->p == ']') {
                s->p++;
                s->depth--;
                return 0;
            }
            return -1;
        }
    }
    case 't': return lit(s, "true", 4);
    case 'f': return lit(s, "false", 5);
    case 'n': return lit(s, "null", 4);
    default: return num(s, NULL);
    }
}

typedef struct found {
    tkd_llm_response *r;
    char *reasoning; /* message.reasoning (used when reasoning_content is absent) */
    int seen_choices, seen_msg, seen_content, seen_rc, seen_r, seen_fr, seen_usage, seen_tc, seen_u[3];
    int is_msg_obj;
} found;

#define KEY(lit_) (kl == sizeof(lit_) - 1 && !memcmp(k, lit_, kl))

static int opt_string(scan *s, char **out) { /* a string is kept; any other value reads as absent */
    if (s->p < s->end && *s->p == '"')
        return str(s, out);
    return value(s);
}

static int on_message(scan *s, const char *k, size_t kl, void *ctx) {
    found *f = ctx;
    if (KEY("content")) {
        if (f->seen_content++)
            return -1;
        if (s->p < s->end && *s->p == '"')
            return str(s, &f->r->content);
        return lit(s, "null", 4); /* other types: Jansson reports the error */
    }
    if (KEY("reasoning_content"))
        return f->seen_rc++ ? -1 : opt_string(s, &f->r->reasoning_content);
    if (KEY("reasoning"))
        return f->seen_r++ ? -1 : opt_string(s, &f->reasoning);
    if (KEY("tool_calls")) { /* only null or [] here; calls go the Jansson way */
        if (f->seen_tc++)
            return -1;
        if (!lit(s, "null", 4))
            return 0;
        if (s->p >= s->end || *s->p != '[')
            return -1;
        s->p++;
        ws(s);
        return s->p < s->end && *s->p == ']' ? (s->p++, 0) : -1;
    }
    return value(s);
}

static int on_choice0(scan *s, const char *k, size_t kl, void *ctx) {
    found *f = ctx;
    if (KEY("message")) {
        if (f->seen_msg++ || s->p >= s->end || *s->p != '{')
            return -1;
        f->is_msg_obj = 1;
        return object(s, on_message, f);
    }
    if (KEY("finish_reason"))
        return f->seen_fr++ ? -1 : opt_string(s, &f->r->finish_reason);
    return value(s);
}

static int on_usage(scan *s, const char *k, size_t kl, void *ctx) {
    found *f = ctx;
    long *dst = NULL;
    int i = -1;
    if (KEY("prompt_tokens"))
        dst = &f->r->prompt_tokens, i = 0;
    else if (KEY("completion_tokens"))
        dst = &f->r->completion_tokens, i = 1;
    else if (KEY("total_tokens"))
        dst = &f->r->total_tokens, i = 2;
    if (!dst)
        return value(s);
    if (f->seen_u[i]++)
        return -1;
    if (s->p < s->end && (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))) {
        long long v;
        if (num(s, &v))
            return -1;
        *dst = (long)v;
        return 0;
    }
    return value(s); /* not a number: reads as 0 */
}

static int on_top(scan *s, const char *k, size_t kl, void *ctx) {
    found *f = ctx;
    if (KEY("choices")) {
        if (f->seen_choices++ || s->p >= s->end || *s->p != '[')
            return -1;
        if (++s->depth > FAST_MAX_DEPTH)
            return -1;
        s->p++;
        ws(s);
        for (int i = 0;; i++) {
            ws(s);
            if (i == 0 && (s->p >= s->end || *s->p != '{'))
                return -1; /* no choices[0] object: Jansson reports it */
            if (i == 0 ? object(s, on_choice0, f) : value(s))
                return -1;
            ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if (s->p < s->end && *s->p == ']') {
                s->p++;
                s->depth--;
                return 0;
            }
            return -1;
        }
    }
    if (KEY("usage")) {
        if (f->seen_usage++)
            return -1;
        if (s->p < s->end && *s->p == '{')
            return object(s, on_usage, f);
        return value(s);
    }
    return value(s);
}

int tkd_llm_fast_parse(const char *body, size_t len, tkd_llm_response *r) {
    tkd_llm_response tmp;
    memset(&tmp, 0, sizeof tmp);
    found f;
    memset(&f, 0, sizeof f);
    f.r = &tmp;
    scan s = {body, body + len, 0};
    ws(&s);
    int ok = s.p < s.end && *s.p == '{' && object(&s, on_top, &f) == 0;
    if (ok) {
        ws(&s);
        ok = s.p == s.end && f.is_msg_obj;
    }
    if (ok && !tmp.content)
        ok = (tmp.content = strdup("")) != NULL;
    if (!ok) {
        free(tmp.content);
        free(tmp.reasoning_content);
        free(tmp.finish_reason);
        free(f.reasoning);
        return 0;
    }
    if (!tmp.reasoning_content) {
        tmp.reasoning_content = f.reasoning;
        f.reasoning = NULL;
    }
    free(f.reasoning);
    if (!tmp.total_tokens)
        tmp.total_tokens = tmp.prompt_tokens + tmp.completion_tokens;
    r->content = tmp.content;
    r->reasoning_content = tmp.reasoning_content;
    r->finish_reason = tmp.finish_reason;
    r->prompt_tokens = tmp.prompt_tokens;
    r->completion_tokens = tmp.completion_tokens;
    r->total_tokens = tmp.total_tokens;
    return 1;
}
