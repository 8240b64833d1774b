/*
 * Internals of the tokenizer (tokenizer*.c, chat.c): the tokenizer struct,
 * its hash maps, and the helpers the files share. Not a public header.
 */
#ifndef TKD_TOKENIZER_INTERNAL_H
#define TKD_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "tkd/core.h"
#include "tkd/tokenizer.h"

/* ---- NFC (tokenizer_nfc.c, tables generated into tokenizer_nfc_table.c) ---- */
typedef struct {
    uint32_t lo, hi, value;
} tkd_nfc_range;
typedef struct {
    uint32_t cp, a, b; /* cp -> a b (b == 0: singleton) */
} tkd_nfc_decomp_entry;
typedef struct {
    uint64_t pair; /* first << 21 | second */
    uint32_t cp;
} tkd_nfc_comp_entry;

extern const char tkd_nfc_unicode_version[];
extern const tkd_nfc_range tkd_nfc_ccc[];
extern const size_t tkd_nfc_ccc_n;
extern const tkd_nfc_range tkd_nfc_quick[];
extern const size_t tkd_nfc_quick_n;
extern const tkd_nfc_decomp_entry tkd_nfc_decomp[];
extern const size_t tkd_nfc_decomp_n;
extern const tkd_nfc_comp_entry tkd_nfc_comp[];
extern const size_t tkd_nfc_comp_n;

/* ---- limits ---- */
#define TKD_TOK_MAX_REGEX_STAGES 4      /* Split pre-tokenizers in a Sequence */
#define TKD_TOK_MAX_ADDED 4096          /* added tokens in one tokenizer.json */
#define TKD_TOK_CACHE_MAX_ENTRIES 65536 /* word cache; cleared when full */
#define TKD_TOK_CACHE_MAX_WORD 256      /* longer pre-tokens are not cached */

typedef struct {
    char *content; /* raw text the token stands for */
    size_t len;
    int32_t id;
    int special, lstrip, rstrip, single_word, normalized;
} tok_added;

typedef struct {
    pcre2_code *re;
    int removed; /* behavior "Removed": matches are dropped (else Isolated) */
} tok_stage;

/* word cache entry: the pre-token bytes and their ids, both in one block */
typedef struct {
    uint64_t hash;
    uint32_t off, klen, n; /* off: into cache_ids (ids) followed by key bytes */
} tok_cache_slot;

struct tkd_tokenizer {
    char *path;
    /* tokens: raw bytes of every id, in one arena */
    char *arena;
    size_t arena_len;
    uint32_t *tok_off, *tok_len; /* per id; tok_len == UINT32_MAX: no such id */
    int32_t n_vocab;             /* max id + 1 */
    int32_t n_model_vocab;       /* entries in model.vocab */
    /* raw bytes -> id, open addressing over ids (-1 empty) */
    int32_t *vmap;
    uint32_t vmask;
    /* (left id, right id) -> rank, merged id */
    uint64_t *mkeys; /* UINT64_MAX: empty */
    int32_t *mrank, *mnew;
    uint32_t mmask;
    int32_t n_merges;
    int32_t byte_id[256]; /* id of the single-byte token for each byte */
    int ignore_merges;
    /* normalizer and pre-tokenizer */
    int nfc;
    int byte_level; /* ByteLevel pre-tokenizer present (must be) */
    tok_stage stages[TKD_TOK_MAX_REGEX_STAGES];
    int n_stages;
    pcre2_match_data *md;
    /* added tokens, longest first; is_special[id] for decode */
    tok_added *added;
    int n_added;
    uint8_t first_byte[256]; /* 1 if some added token starts with this byte */
    uint8_t *is_added;       /* per id: 0, 1 added, 2 added and special */
    /* word cache */
    tok_cache_slot *cache;
    uint32_t cache_mask, cache_used;
    int32_t *cache_data;
    size_t cache_data_len, cache_data_cap; /* in int32 units */
};

/* ---- tokenizer_nfc.c ---- */
/* 1 if text (valid UTF-8) may change under NFC; 0 if it certainly does not. */
int tok_nfc_maybe_changes(const char *s, size_t n);
/* NFC of valid UTF-8 into out (reset first). */
int tok_nfc(const char *s, size_t n, tkd_buf *out);

/* ---- tokenizer_bpe.c ---- */
/* The GPT-2 byte <-> unicode map: code point for each byte, and back (-1). */
uint32_t tok_byte_to_cp(int byte);
int tok_cp_to_byte(uint32_t cp);
/* Raw bytes of a byte-level string (UTF-8 of mapped code points) into out;
 * returns 1 if every character was a byte-level character, 0 if not (the
 * UTF-8 is then copied as-is), negative on allocation failure. */
int tok_bytelevel_to_raw(const char *s, size_t n, tkd_buf *out);
uint64_t tok_hash_bytes(const void *p, size_t n);
int32_t tok_vocab_find(const tkd_tokenizer *t, const char *s, size_t n);
int tok_vocab_build(tkd_tokenizer *t, tkd_err *e);
int tok_merge_add(tkd_tokenizer *t, int32_t a, int32_t b, int32_t rank, int32_t merged);
int tok_merges_alloc(tkd_tokenizer *t, size_t n_merges, tkd_err *e);
/* BPE of one pre-token (raw bytes) appended to ids; uses and fills the cache. */
int tok_bpe_word(tkd_tokenizer *t, const char *w, size_t n, int32_t **ids, size_t *nids, size_t *cap);
void tok_cache_free(tkd_tokenizer *t);

/* ---- tokenizer_load.c ---- */
int tok_load_json(tkd_tokenizer *t, const char *text, size_t len, tkd_err *e);

#endif
