/*
 * json: a lean JSON document in an arena, for hot paths where Jansson's
 * per-value mallocs, hash tables and reference counts cost more than the work
 * itself (a tool call such as gcd takes well under a microsecond; Jansson's
 * parse and dump of its arguments and answer took two).
 *
 * One arena owns every value of a document, the parsed ones and the ones
 * built for an answer alike; tkd_arena_free releases them all at once, so
 * there is no per-value free. The first few KiB live inside the arena struct
 * itself: a small document costs no malloc at all.
 *
 * Parsing is strict RFC 8259, as Jansson with JSON_REJECT_DUPLICATES reads
 * it: valid UTF-8 only, escapes and surrogate pairs checked, "\u0000"
 * refused (so every string is a C string), duplicate keys refused. Two
 * deliberate differences: numbers keep the text they were written with, so
 * integers of any size survive (Jansson refuses those beyond 64 bits), and
 * nesting deeper than TKD_JSON_DEPTH_MAX or objects with more than
 * TKD_JSON_KEYS_MAX keys are refused. (And a NUL byte is refused anywhere,
 * where Jansson reads one after the value as the end of the text.)
 *
 * Writing is compact (no spaces), keys in insertion order, text left as
 * UTF-8; bytes that are not valid UTF-8 inside a string are written as
 * U+FFFD so the output is always valid JSON.
 */
#ifndef TKD_JSON_H
#define TKD_JSON_H

#include <stddef.h>

#include "tkd/core.h"

#define TKD_JSON_DEPTH_MAX 512   /* nesting of arrays and objects */
#define TKD_JSON_KEYS_MAX 4096   /* keys of one object (duplicates are checked pairwise) */
#define TKD_ARENA_INLINE 4096    /* bytes of the arena kept in the struct */

/* ---- arena: a bump allocator freed all at once ---- */
typedef struct tkd_arena_chunk tkd_arena_chunk;
typedef struct tkd_arena {
    char *pos, *end;        /* free space of the current block */
    tkd_arena_chunk *heap;  /* malloc'd chunks, newest first */
    size_t next;            /* size of the next chunk */
    int failed;             /* an allocation failed (builders then return NULL) */
    _Alignas(16) char first[TKD_ARENA_INLINE];
} tkd_arena;

void tkd_arena_init(tkd_arena *a);
/* n bytes aligned for any value, or NULL when out of memory (and a->failed
 * set, so a caller can check once after building a whole document). */
void *tkd_arena_alloc(tkd_arena *a, size_t n);
/* Release every chunk; a is empty and usable again. */
void tkd_arena_free(tkd_arena *a);

/* ---- values ---- */
typedef enum {
    TKD_JSON_NULL,
    TKD_JSON_FALSE,
    TKD_JSON_TRUE,
    TKD_JSON_INT,  /* an integer as written ("-12", "123456789012345678901234") */
    TKD_JSON_REAL, /* a number with a fraction or an exponent, as written */
    TKD_JSON_STR,
    TKD_JSON_ARR,
    TKD_JSON_OBJ
} tkd_json_kind;

typedef struct tkd_json {
    tkd_json_kind kind;
    size_t n;               /* STR: bytes; INT, REAL: bytes of the text; ARR, OBJ: items */
    size_t cap;             /* ARR, OBJ: room in v (and k) */
    const char *s;          /* STR: the text; INT, REAL: the number as written; NUL-terminated */
    struct tkd_json **v;    /* ARR, OBJ: the items */
    const char **k;         /* OBJ: the keys */
} tkd_json;

/*
 * Parse n bytes of s (need not be NUL-terminated) into *out, allocated in a.
 * On bad input: TKD_EINVAL and a message naming the byte offset and what was
 * expected there; TKD_ELIMIT for the depth and key limits; TKD_ENOMEM.
 */
int tkd_json_parse(tkd_arena *a, const char *s, size_t n, tkd_json **out, tkd_err *e);

/* Lookups: NULL (or 0) when v is not of the kind asked for or has no such item. */
tkd_json *tkd_json_get(const tkd_json *obj, const char *key);
tkd_json *tkd_json_at(const tkd_json *arr, size_t i);
size_t tkd_json_size(const tkd_json *v); /* items of an array or object, else 0 */
const char *tkd_json_str(const tkd_json *v);
/* An INT that fits in a long long into *out: 0; anything else: -1. */
int tkd_json_int(const tkd_json *v, long long *out);
/* An INT or REAL as the nearest double (0.0 for other kinds). */
double tkd_json_real(const tkd_json *v);

static inline int tkd_json_is(const tkd_json *v, tkd_json_kind k) {
    return v && v->kind == k;
}
static inline int tkd_json_is_number(const tkd_json *v) {
    return v && (v->kind == TKD_JSON_INT || v->kind == TKD_JSON_REAL);
}

/* Builders: NULL when out of memory (or when s is NULL). */
tkd_json *tkd_json_new(tkd_arena *a, tkd_json_kind kind);
tkd_json *tkd_json_string(tkd_arena *a, const char *s);
tkd_json *tkd_json_stringn(tkd_arena *a, const char *s, size_t n);
tkd_json *tkd_json_integer(tkd_arena *a, long long i);
/* Append v to an array (v NULL, or arr not an array: TKD_ENOMEM/TKD_EINVAL). */
int tkd_json_push(tkd_arena *a, tkd_json *arr, tkd_json *v);
/* Add key (copied) -> v to an object; an existing key is replaced. */
int tkd_json_set(tkd_arena *a, tkd_json *obj, const char *key, tkd_json *v);

/* Same kind and value (numbers compare by their text; object keys in any order). */
int tkd_json_equal(const tkd_json *x, const tkd_json *y);

/* Append v as compact JSON to b: 0 or TKD_ENOMEM. */
int tkd_json_write(tkd_buf *b, const tkd_json *v);
/* Append n bytes of s as one JSON string (quotes, escapes, U+FFFD for bad UTF-8). */
int tkd_json_write_string(tkd_buf *b, const char *s, size_t n);

#endif
