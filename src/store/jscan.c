/*
 * store: a validating JSON scan for the row checks of every reader. It says
 * whether n bytes are one RFC 8259 JSON text (valid UTF-8, escapes checked,
 * no NUL byte anywhere) and builds nothing: one pass, no allocation, so the
 * done-set, merge and export can check every row's text for little more
 * than the cost of reading it. A shard cut short reads as zero bytes where
 * its text chunks were lost, and zeros are not JSON.
 *
 * It does not check duplicate keys (`tkd store verify` does, with Jansson).
 */
#include "store_int.h"

#include <stdint.h>
#include <string.h>

/* Nesting beyond this is refused (Jansson's default limit is 2048). */
#define JSCAN_DEPTH_MAX 2048

static const unsigned char *ws(const unsigned char *p, const unsigned char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *v) {
    if (end - p < 4)
        return 0;
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return 0;
        x = x << 4 | d;
    }
    *v = x;
    return 1;
}

/* One UTF-8 sequence of 2 to 4 bytes at p (p[0] >= 0x80); its length or 0. */
static int utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t left = (size_t)(end - p);
    if (c >= 0xc2 && c <= 0xdf)
        return left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)) /* overlong; surrogates */
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

/* 1 when one of the 8 bytes of w needs a look: below 0x20, '"', '\\' or
 * not ASCII (SWAR: the text of a row is mostly plain ASCII runs). */
static int word_special(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t lt20 = (w - ones * 0x20) & ~w;
    uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b;
    return ((lt20 | zq | zb) & high) != 0 || (w & high) != 0;
}

/* A string from its opening quote; returns the byte after the closing one. */
static const unsigned char *str(const unsigned char *p, const unsigned char *end) {
    p++;
    while (p < end) {
        while (end - p >= 8) { /* skip plain ASCII 8 bytes at a time */
            uint64_t w;
            memcpy(&w, p, 8);
            if (word_special(w))
                break;
            p += 8;
        }
        if (p >= end)
            return NULL;
        unsigned c = *p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++p >= end)
                return NULL;
            switch (*p) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't': p++; break;
            case 'u': {
                unsigned v, lo;
                if (!hex4(p + 1, end, &v))
                    return NULL;
                p += 5;
                if (v == 0)
                    return NULL; /* "\u0000": every text stays a C string */
                if (v >= 0xdc00 && v <= 0xdfff)
                    return NULL;
                if (v >= 0xd800 && v <= 0xdbff) {
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, end, &lo) || lo < 0xdc00 ||
                        lo > 0xdfff)
                        return NULL;
                    p += 6;
                }
                break;
            }
            default: return NULL;
            }
        } else if (c < 0x80) {
            p++;
        } else {
            int k = utf8_seq(p, end);
            if (!k)
                return NULL;
            p += k;
        }
    }
    return NULL;
}

static const unsigned char *number(const unsigned char *p, const unsigned char *end) {
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (p < end && *p == '.') {
        const unsigned char *d = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const unsigned char *d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

static const unsigned char *word(const unsigned char *p, const unsigned char *end, const char *w, size_t n) {
    return (size_t)(end - p) >= n && !memcmp(p, w, n) ? p + n : NULL;
}

int store_json_valid(const char *text, size_t n) {
    const unsigned char *p = (const unsigned char *)text, *end = p + n;
    /* the open containers: 1 object, 0 array, one bit each */
    uint64_t stack[JSCAN_DEPTH_MAX / 64];
    int depth = 0;
    p = ws(p, end);
    for (;;) {
        /* a value */
        if (p >= end)
            return 0;
        switch (*p) {
        case '{':
        case '[': {
            int obj = *p == '{';
            if (depth == JSCAN_DEPTH_MAX)
                return 0;
            if (obj)
                stack[depth / 64] |= (uint64_t)1 << (depth % 64);
            else
                stack[depth / 64] &= ~((uint64_t)1 << (depth % 64));
            depth++;
            p = ws(p + 1, end);
            if (p < end && *p == (obj ? '}' : ']')) { /* empty */
                depth--;
                p++;
                break;
            }
            if (obj) { /* the first key */
                if (p >= end || *p != '"' || !(p = str(p, end)))
                    return 0;
                p = ws(p, end);
                if (p >= end || *p != ':')
                    return 0;
                p = ws(p + 1, end);
            }
            continue; /* its first value */
        }
        case '"': p = str(p, end); break;
        case 't': p = word(p, end, "true", 4); break;
        case 'f': p = word(p, end, "false", 5); break;
        case 'n': p = word(p, end, "null", 4); break;
        default: p = number(p, end); break;
        }
        if (!p)
            return 0;
        /* after a value: close containers or go to the next item */
        for (;;) {
            p = ws(p, end);
            if (depth == 0)
                return p == end;
            if (p >= end)
                return 0;
            int obj = (int)(stack[(depth - 1) / 64] >> ((depth - 1) % 64) & 1);
            if (*p == (obj ? '}' : ']')) {
                depth--;
                p++;
                continue;
            }
            if (*p != ',')
                return 0;
            p = ws(p + 1, end);
            if (obj) {
                if (p >= end || *p != '"' || !(p = str(p, end)))
                    return 0;
                p = ws(p, end);
                if (p >= end || *p != ':')
                    return 0;
                p = ws(p + 1, end);
            }
            break;
        }
    }
}
