/*
 * The export phase's internal pieces (src/phases/export*.c): the text
 * normalization shared by decontamination and deduplication, the benchmark
 * n-gram index, MinHash signatures, and the writers of one line per variant.
 */
#ifndef TKD_EXPORT_INT_H
#define TKD_EXPORT_INT_H

#include "tkd/core.h"

#include <stddef.h>
#include <stdint.h>

#define EXP_NGRAM_MAX 32     /* largest export.ngram */
#define EXP_MINHASH_BINS 128 /* one-permutation MinHash: bins per signature */
#define EXP_TINY_WORDS 5     /* benchmark texts this short also match by their tail (see export_text.c) */

/* ---- words: the normalized token stream of a text ----
 * Lower-cased ASCII; words are runs of letters and digits (bytes >= 0x80
 * count as letters) and LaTeX control words (\frac); everything else
 * (spaces, punctuation, operators, braces, $) separates words. LaTeX
 * spacing and sizing commands (\, \; \quad \left \right \displaystyle ...)
 * are dropped and synonyms are mapped (\dfrac -> \frac, \le -> \leq), so
 * whitespace, case and LaTeX spacing never change the words. */
typedef struct exp_words {
    uint64_t *h;   /* hash of each word */
    uint32_t *off; /* its start in text, and length, for reports */
    uint16_t *len;
    size_t n, cap;
} exp_words;
int exp_words_of(exp_words *w, const char *text, tkd_err *e);
void exp_words_free(exp_words *w);
/* Hash of words [i, i+g) (g-gram), seeded by tag. */
uint64_t exp_gram_hash(const exp_words *w, size_t i, size_t g, uint64_t tag);

/* 64-bit hash of bytes (fast, not cryptographic). */
uint64_t exp_hash_bytes(const void *p, size_t n, uint64_t seed);
static inline uint64_t exp_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* ---- decontamination: an index of benchmark problems' word n-grams ---- */
typedef struct exp_decon exp_decon;
typedef struct exp_decon_match {
    int doc; /* benchmark problem index, -1: none */
    const char *bench, *doc_id;
    double overlap; /* share of the benchmark problem's n-grams found */
    uint32_t matched, total;
    char gram[200]; /* one matched n-gram, as normalized words */
} exp_decon_match;
/* n: words per gram (a benchmark text of L words uses min(n, max(3, ceil(L/2))));
 * overlap: share of a benchmark text's grams a training text must hold to
 * match it (0: any one gram, open-r1's rule). */
int exp_decon_new(int n, double overlap, exp_decon **out, tkd_err *e);
void exp_decon_free(exp_decon *d);
int exp_decon_add(exp_decon *d, const char *bench, const char *doc_id, const char *text, tkd_err *e);
size_t exp_decon_docs(const exp_decon *d);
/* 1: text matches a benchmark problem (m filled), 0: clean, <0 error. */
int exp_decon_check(exp_decon *d, const char *text, exp_decon_match *m, tkd_err *e);

/* ---- deduplication ---- */
/* Hash of text lower-cased with whitespace runs collapsed and trimmed. */
uint64_t exp_norm_hash(const char *text, uint64_t seed);
/* One-permutation MinHash (Li, Owen, Zhang 2012, with rotation
 * densification) of the text's word shingles of `shingle` words. */
void exp_minhash(const exp_words *w, int shingle, uint32_t sig[EXP_MINHASH_BINS]);
double exp_minhash_jaccard(const uint32_t *a, const uint32_t *b);

/* ---- a set of 64-bit keys (0 is mapped to another key internally) ---- */
typedef struct exp_set {
    uint64_t *k;
    size_t cap, n;
} exp_set;
int exp_set_add(exp_set *s, uint64_t key); /* 1 added, 0 present, TKD_ENOMEM */
void exp_set_free(exp_set *s);

#endif
