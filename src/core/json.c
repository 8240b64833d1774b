/*
 * json: the lean arena JSON of tkd/json.h. A strict recursive-descent parser
 * (RFC 8259 plus the limits in the header), lookups, builders and a compact
 * writer. Every value lives in the caller's arena.
 */
#include "tkd/json.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

struct tkd_arena_chunk {
    tkd_arena_chunk *next;
    _Alignas(16) char data[];
};

#define ARENA_ALIGN 16
#define ARENA_CHUNK_MIN 16384

void tkd_arena_init(tkd_arena *a) {
    a->pos = a->first;
    a->end = a->first + sizeof a->first;
    a->heap = NULL;
    a->next = ARENA_CHUNK_MIN;
    a->failed = 0;
}

void *tkd_arena_alloc(tkd_arena *a, size_t n) {
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n <= (size_t)(a->end - a->pos)) {
        void *p = a->pos;
        a->pos += n;
        return p;
    }
    size_t size = a->next > n ? a->next : n;
    tkd_arena_chunk *c = n <= SIZE_MAX / 2 ? malloc(sizeof *c + size) : NULL;
    if (!c) {
        a->failed = 1;
        return NULL;
    }
    c->next = a->heap;
    a->heap = c;
    if (a->next < ((size_t)1 << 24))
        a->next *= 2;
    a->pos = c->data + n;
    a->end = c->data + size;
    return c->data;
}

void tkd_arena_free(tkd_arena *a) {
    while (a->heap) {
        tkd_arena_chunk *c = a->heap;
        a->heap = c->next;
        free(c);
    }
    tkd_arena_init(a);
}

/* ---- builders ---- */

tkd_json *tkd_json_new(tkd_arena *a, tkd_json_kind kind) {
    tkd_json *v = tkd_arena_alloc(a, sizeof *v);
    if (v)
        *v = (tkd_json){.kind = kind, .s = ""};
    return v;
}

static char *arena_strndup(tkd_arena *a, const char *s, size_t n) {
    char *d = tkd_arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static tkd_json *text_value(tkd_arena *a, tkd_json_kind kind, const char *s, size_t n) {
    tkd_json *v = tkd_json_new(a, kind);
    char *d = v ? arena_strndup(a, s, n) : NULL;
    if (!d)
        return NULL;
    v->s = d;
    v->n = n;
    return v;
}

tkd_json *tkd_json_stringn(tkd_arena *a, const char *s, size_t n) {
    return s ? text_value(a, TKD_JSON_STR, s, n) : NULL;
}

tkd_json *tkd_json_string(tkd_arena *a, const char *s) {
    return s ? text_value(a, TKD_JSON_STR, s, strlen(s)) : NULL;
}

tkd_json *tkd_json_integer(tkd_arena *a, long long i) {
    char t[32];
    char *p = t + sizeof t;
    unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (i < 0)
        *--p = '-';
    return text_value(a, TKD_JSON_INT, p, (size_t)(t + sizeof t - p));
}

/* Room for one more item in an array or object. */
static int grow(tkd_arena *a, tkd_json *c) {
    if (c->n < c->cap)
        return 0;
    size_t cap = c->cap ? c->cap * 2 : 4;
    tkd_json **v = tkd_arena_alloc(a, cap * sizeof *v);
    const char **k = c->kind == TKD_JSON_OBJ ? tkd_arena_alloc(a, cap * sizeof *k) : NULL;
    if (!v || (c->kind == TKD_JSON_OBJ && !k))
        return TKD_ENOMEM;
    if (c->n) {
        memcpy(v, c->v, c->n * sizeof *v);
        if (k)
            memcpy(k, c->k, c->n * sizeof *k);
    }
    c->v = v;
    c->k = k;
    c->cap = cap;
    return 0;
}

int tkd_json_push(tkd_arena *a, tkd_json *arr, tkd_json *v) {
    if (!v)
        return TKD_ENOMEM;
    if (!arr || arr->kind != TKD_JSON_ARR)
        return TKD_EINVAL;
    if (grow(a, arr))
        return TKD_ENOMEM;
    arr->v[arr->n++] = v;
    return 0;
}

int tkd_json_set(tkd_arena *a, tkd_json *obj, const char *key, tkd_json *v) {
    if (!v || !key)
        return TKD_ENOMEM;
    if (!obj || obj->kind != TKD_JSON_OBJ)
        return TKD_EINVAL;
    for (size_t i = 0; i < obj->n; i++)
        if (!strcmp(obj->k[i], key)) {
            obj->v[i] = v;
            return 0;
        }
    char *k = arena_strndup(a, key, strlen(key));
    if (!k || grow(a, obj))
        return TKD_ENOMEM;
    obj->k[obj->n] = k;
    obj->v[obj->n++] = v;
    return 0;
}

/* ---- lookups ---- */

tkd_json *tkd_json_get(const tkd_json *obj, const char *key) {
    if (!obj || obj->kind != TKD_JSON_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (!strcmp(obj->k[i], key))
            return obj->v[i];
    return NULL;
}

tkd_json *tkd_json_at(const tkd_json *arr, size_t i) {
    return arr && arr->kind == TKD_JSON_ARR && i < arr->n ? arr->v[i] : NULL;
}

size_t tkd_json_size(const tkd_json *v) {
    return v && (v->kind == TKD_JSON_ARR || v->kind == TKD_JSON_OBJ) ? v->n : 0;
}

const char *tkd_json_str(const tkd_json *v) {
    return v && v->kind == TKD_JSON_STR ? v->s : NULL;
}

int tkd_json_int(const tkd_json *v, long long *out) {
    if (!v || v->kind != TKD_JSON_INT)
        return -1;
    const char *p = v->s;
    int neg = *p == '-';
    p += neg;
    unsigned long long u = 0;
    for (; *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (u > (ULLONG_MAX - d) / 10)
            return -1;
        u = u * 10 + d;
    }
    if (u > (unsigned long long)LLONG_MAX + (unsigned long long)neg)
        return -1;
    *out = neg ? (long long)(0ULL - u) : (long long)u;
    return 0;
}

double tkd_json_real(const tkd_json *v) {
    return tkd_json_is_number(v) ? strtod(v->s, NULL) : 0.0;
}

int tkd_json_equal(const tkd_json *x, const tkd_json *y) {
    if (!x || !y || x->kind != y->kind || x->n != y->n)
        return x == y;
    switch (x->kind) {
    case TKD_JSON_INT:
    case TKD_JSON_REAL:
    case TKD_JSON_STR: return !memcmp(x->s, y->s, x->n);
    case TKD_JSON_ARR:
        for (size_t i = 0; i < x->n; i++)
            if (!tkd_json_equal(x->v[i], y->v[i]))
                return 0;
        return 1;
    case TKD_JSON_OBJ:
        for (size_t i = 0; i < x->n; i++)
            if (!tkd_json_equal(x->v[i], tkd_json_get(y, x->k[i])))
                return 0;
        return 1;
    default: return 1;
    }
}

/* ---- parser ---- */

typedef struct parser {
    tkd_arena *a;
    const char *p, *beg, *end;
    int depth;
    tkd_err *e;
} parser;

static int fail(parser *ps, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *ps, int code, const char *fmt, ...) {
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t off = (size_t)(ps->p - ps->beg);
    if (ps->p >= ps->end)
        return tkd_err_set(ps->e, code, "invalid JSON: the text ends early (after %zu bytes); %s", off, what);
    unsigned char c = (unsigned char)*ps->p;
    if (c >= 0x20 && c < 0x7f)
        return tkd_err_set(ps->e, code, "invalid JSON at byte %zu ('%c'): %s", off, c, what);
    return tkd_err_set(ps->e, code, "invalid JSON at byte %zu (byte 0x%02x): %s", off, c, what);
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int hex4(const char *p, unsigned *v) {
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        x = x << 4 | d;
    }
    *v = x;
    return 0;
}

/* Bytes of the valid UTF-8 sequence at p (2..4), or 0. */
static int utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    int n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!n || end - p < n)
        return 0;
    unsigned cp = c & (0x7fu >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static char *put_utf8(char *q, unsigned cp) {
    if (cp < 0x80) {
        *q++ = (char)cp;
    } else if (cp < 0x800) {
        *q++ = (char)(0xc0 | cp >> 6);
        *q++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *q++ = (char)(0xe0 | cp >> 12);
        *q++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *q++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *q++ = (char)(0xf0 | cp >> 18);
        *q++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *q++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *q++ = (char)(0x80 | (cp & 0x3f));
    }
    return q;
}

/* The 8 bytes at p, unaligned. */
static uint64_t load8(const char *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Nonzero when one of the 8 bytes of x may need a look inside a string: '"',
 * '\\', a control character or a byte >= 0x80 (false alarms are harmless,
 * misses impossible). Lets plain text be scanned and copied 8 bytes a step. */
static uint64_t special8(uint64_t x) {
    const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
    uint64_t quote = x ^ (ones * '"'), bslash = x ^ (ones * '\\');
    return (x | (x - ones * 0x20) | ((quote - ones) & ~quote) | ((bslash - ones) & ~bslash)) & high;
}

/* Index of the first (lowest-addressed) flagged byte of a nonzero special8
 * mask, or an earlier one: below the first special byte no borrow arises. */
static size_t first8(uint64_t m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (size_t)__builtin_clzll(m) >> 3;
#else
    return (size_t)__builtin_ctzll(m) >> 3;
#endif
}

/* A string at ps->p (the opening quote) into a new arena copy. */
static int parse_string(parser *ps, const char **out, size_t *len) {
    const char *start = ++ps->p, *end = ps->end, *q = start;
    for (uint64_t m; end - q >= 8; q += 8)
        if ((m = special8(load8(q)))) {
            q += first8(m);
            break;
        }
    while (q < end && (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x80 && *q != '"' && *q != '\\')
        q++;
    int plain = q < end && *q == '"'; /* no escape, control or byte >= 0x80: copy as is */
    while (!plain) { /* else the closing quote: the first '"' after an even run of backslashes */
        const char *b = q = q < end ? memchr(q, '"', (size_t)(end - q)) : NULL;
        if (!q) {
            q = end;
            break;
        }
        while (b[-1] == '\\') /* stops at the opening quote at the latest */
            b--;
        if ((q - b) % 2 == 0)
            break;
        q++;
    }
    if (q >= end) {
        ps->p = end;
        return fail(ps, TKD_EINVAL, "a string is not closed with '\"'");
    }
    char *d = tkd_arena_alloc(ps->a, (size_t)(q - start) + 1), *o = d;
    if (!d)
        return tkd_err_set(ps->e, TKD_ENOMEM, "out of memory reading JSON");
    if (plain) {
        memcpy(d, start, (size_t)(q - start));
        o = d + (q - start);
    } else {
        const char *p = start; /* a local cursor; ps->p is set where a message needs it */
        while (p < q) {
            /* plain bytes 8 a step (the copy never outgrows the text, so 8 bytes before q fit in d) */
            while (q - p >= 8) {
                uint64_t m = special8(load8(p));
                size_t k = m ? first8(m) : 8;
                memcpy(o, p, 8);
                o += k;
                p += k;
                if (k < 8)
                    break;
            }
            if (p >= q)
                break;
            unsigned char c = (unsigned char)*p;
            if (c >= 0x20 && c < 0x80 && c != '\\') {
                *o++ = (char)c;
                p++;
                continue;
            }
            ps->p = p;
            if (c < 0x20)
                return fail(ps, TKD_EINVAL, "control characters must be escaped inside a string");
            if (c >= 0x80) {
                int n = utf8_seq((const unsigned char *)p, (const unsigned char *)q);
                if (!n)
                    return fail(ps, TKD_EINVAL, "a string is not valid UTF-8");
                memcpy(o, p, (size_t)n);
                o += n;
                p += n;
                continue;
            }
            char named = 0;
            switch (p[1]) {
            case '"': named = '"'; break;
            case '\\': named = '\\'; break;
            case '/': named = '/'; break;
            case 'b': named = '\b'; break;
            case 'f': named = '\f'; break;
            case 'n': named = '\n'; break;
            case 'r': named = '\r'; break;
            case 't': named = '\t'; break;
            default: break;
            }
            if (named) {
                *o++ = named;
                p += 2;
                continue;
            }
            unsigned cp, lo;
            if (p[1] != 'u' || q - p < 6 || hex4(p + 2, &cp))
                return fail(ps, TKD_EINVAL, "a bad escape in a string (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)");
            if (cp == 0)
                return fail(ps, TKD_EINVAL, "\\u0000 is not allowed in a string");
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail(ps, TKD_EINVAL, "a lone low surrogate \\uDC00-\\uDFFF in a string");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (q - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return fail(ps, TKD_EINVAL, "a high surrogate \\uD800-\\uDBFF not followed by a low one");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
            p += 6;
            o = put_utf8(o, cp);
        }
    }
    ps->p = q + 1;
    *o = 0;
    *out = d;
    *len = (size_t)(o - d);
    return 0;
}

static size_t digits(parser *ps) {
    const char *b = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    return (size_t)(ps->p - b);
}

static int parse_number(parser *ps, tkd_json **out) {
    const char *b = ps->p;
    if (*ps->p == '-')
        ps->p++;
    const char *d0 = ps->p;
    size_t nd = digits(ps);
    if (nd == 0 || (nd > 1 && *d0 == '0'))
        return fail(ps, TKD_EINVAL, "a number must start with a digit, without leading zeros");
    tkd_json_kind kind = TKD_JSON_INT;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!digits(ps))
            return fail(ps, TKD_EINVAL, "digits must follow the decimal point");
        kind = TKD_JSON_REAL;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!digits(ps))
            return fail(ps, TKD_EINVAL, "digits must follow the exponent");
        kind = TKD_JSON_REAL;
    }
    *out = text_value(ps->a, kind, b, (size_t)(ps->p - b));
    if (!*out)
        return tkd_err_set(ps->e, TKD_ENOMEM, "out of memory reading JSON");
    if (kind == TKD_JSON_REAL && !isfinite(strtod((*out)->s, NULL))) {
        ps->p = b;
        return fail(ps, TKD_EINVAL, "a number too large for a double");
    }
    return 0;
}

static int parse_value(parser *ps, tkd_json **out);

static int parse_container(parser *ps, tkd_json **out) {
    int obj = *ps->p == '{';
    char close = obj ? '}' : ']';
    if (++ps->depth > TKD_JSON_DEPTH_MAX)
        return fail(ps, TKD_ELIMIT, "nesting deeper than %d arrays or objects", TKD_JSON_DEPTH_MAX);
    tkd_json *c = tkd_json_new(ps->a, obj ? TKD_JSON_OBJ : TKD_JSON_ARR);
    if (!c)
        return tkd_err_set(ps->e, TKD_ENOMEM, "out of memory reading JSON");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        *out = c;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        size_t klen;
        if (obj) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, TKD_EINVAL, "an object key must be a string in double quotes");
            const char *at = ps->p;
            int rc = parse_string(ps, &key, &klen);
            if (rc)
                return rc;
            if (c->n >= TKD_JSON_KEYS_MAX) {
                ps->p = at;
                return fail(ps, TKD_ELIMIT, "an object with more than %d keys", TKD_JSON_KEYS_MAX);
            }
            for (size_t i = 0; i < c->n; i++)
                if (!strcmp(c->k[i], key)) {
                    ps->p = at;
                    return fail(ps, TKD_EINVAL, "a duplicate key in an object");
                }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, TKD_EINVAL, "':' must follow an object key");
            ps->p++;
            skip_ws(ps);
        }
        tkd_json *v;
        int rc = parse_value(ps, &v);
        if (rc)
            return rc;
        if (grow(ps->a, c))
            return tkd_err_set(ps->e, TKD_ENOMEM, "out of memory reading JSON");
        if (obj)
            c->k[c->n] = key;
        c->v[c->n++] = v;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            *out = c;
            return 0;
        }
        return fail(ps, TKD_EINVAL, obj ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
    }
}

static int literal(parser *ps, const char *word, tkd_json_kind kind, tkd_json **out) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
        return fail(ps, TKD_EINVAL, "expected a value (a string, number, list, object, true, false or null)");
    ps->p += n;
    *out = tkd_json_new(ps->a, kind);
    return *out ? 0 : tkd_err_set(ps->e, TKD_ENOMEM, "out of memory reading JSON");
}

static int parse_value(parser *ps, tkd_json **out) {
    if (ps->p >= ps->end)
        return fail(ps, TKD_EINVAL, "expected a value");
    switch (*ps->p) {
    case '{':
    case '[': return parse_container(ps, out);
    case '"': {
        const char *s;
        size_t n;
        int rc = parse_string(ps, &s, &n);
        if (rc)
            return rc;
        if (!(*out = tkd_json_new(ps->a, TKD_JSON_STR)))
            return tkd_err_set(ps->e, TKD_ENOMEM, "out of memory reading JSON");
        (*out)->s = s;
        (*out)->n = n;
        return 0;
    }
    case 't': return literal(ps, "true", TKD_JSON_TRUE, out);
    case 'f': return literal(ps, "false", TKD_JSON_FALSE, out);
    case 'n': return literal(ps, "null", TKD_JSON_NULL, out);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps, out);
        return fail(ps, TKD_EINVAL, "expected a value (a string, number, list, object, true, false or null)");
    }
}

int tkd_json_parse(tkd_arena *a, const char *s, size_t n, tkd_json **out, tkd_err *e) {
    parser ps = {a, s, s, s + n, 0, e};
    *out = NULL;
    skip_ws(&ps);
    tkd_json *v;
    int rc = parse_value(&ps, &v);
    if (rc)
        return rc;
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, TKD_EINVAL, "text after the end of the JSON value");
    *out = v;
    return 0;
}

/* ---- writer ---- */

int tkd_json_write_string(tkd_buf *b, const char *s, size_t n) {
    if (tkd_buf_reserve(b, n + 2))
        return TKD_ENOMEM;
    b->data[b->len++] = '"';
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run && tkd_buf_append(b, run, (size_t)(p - run)))
            return TKD_ENOMEM;
        if (p >= end)
            break;
        char esc[8];
        size_t k;
        if (*p >= 0x80) {
            int m = utf8_seq(p, end);
            if (m) {
                if (tkd_buf_append(b, p, (size_t)m))
                    return TKD_ENOMEM;
                p += m;
                continue;
            }
            k = 3; /* U+FFFD for a byte that is not UTF-8 */
            memcpy(esc, "\xef\xbf\xbd", 3);
        } else if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            k = 2;
        } else {
            const char *named = strchr("\b\f\n\r\t", *p);
            esc[0] = '\\';
            if (named && *p) {
                esc[1] = "bfnrt"[named - "\b\f\n\r\t"];
                k = 2;
            } else {
                static const char hex[] = "0123456789abcdef";
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                k = 6;
            }
        }
        if (tkd_buf_append(b, esc, k))
            return TKD_ENOMEM;
        p++;
    }
    return tkd_buf_putc(b, '"');
}

int tkd_json_write(tkd_buf *b, const tkd_json *v) {
    switch (v->kind) {
    case TKD_JSON_NULL: return tkd_buf_append(b, "null", 4);
    case TKD_JSON_FALSE: return tkd_buf_append(b, "false", 5);
    case TKD_JSON_TRUE: return tkd_buf_append(b, "true", 4);
    case TKD_JSON_INT:
    case TKD_JSON_REAL: return tkd_buf_append(b, v->s, v->n);
    case TKD_JSON_STR: return tkd_json_write_string(b, v->s, v->n);
    case TKD_JSON_ARR:
    case TKD_JSON_OBJ: {
        int obj = v->kind == TKD_JSON_OBJ;
        if (tkd_buf_putc(b, obj ? '{' : '['))
            return TKD_ENOMEM;
        for (size_t i = 0; i < v->n; i++) {
            if ((i && tkd_buf_putc(b, ',')) ||
                (obj && (tkd_json_write_string(b, v->k[i], strlen(v->k[i])) || tkd_buf_putc(b, ':'))) ||
                tkd_json_write(b, v->v[i]))
                return TKD_ENOMEM;
        }
        return tkd_buf_putc(b, obj ? '}' : ']');
    }
    }
    return TKD_EINVAL;
}
