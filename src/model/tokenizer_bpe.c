/*
 * Byte-level BPE: the GPT-2 byte <-> unicode map, the vocabulary and merge
 * hash maps, and the merge loop for one pre-token with its word cache.
 *
 * Tokens are kept as their raw bytes (the byte-level strings of
 * tokenizer.json mapped back), so a pre-token's bytes are its initial
 * symbols and decoding is a concatenation. Merges are looked up by the pair
 * of ids and applied lowest rank first, leftmost first among equal ranks,
 * which is what Hugging Face tokenizers does (a heap over candidate pairs).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

/* ---- the GPT-2 byte <-> unicode map ---- */
static int byte_printable(int b) {
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

/* The other 68 bytes (0-32, 127-160, 173) get 256, 257, ... in byte order. */
uint32_t tok_byte_to_cp(int b) {
    if (byte_printable(b))
        return (uint32_t)b;
    if (b <= 32)
        return 256u + (uint32_t)b;
    if (b <= 160)
        return 256u + 33u + (uint32_t)(b - 127);
    return 256u + 67u; /* 173, the soft hyphen */
}

int tok_cp_to_byte(uint32_t cp) {
    if (cp < 256)
        return byte_printable((int)cp) ? (int)cp : -1;
    uint32_t k = cp - 256;
    if (k < 33)
        return (int)k;
    if (k < 67)
        return (int)(127 + k - 33);
    return k == 67 ? 173 : -1;
}

int tok_bytelevel_to_raw(const char *s, size_t n, tkd_buf *out) {
    tkd_buf_reset(out);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t c = u[i];
        size_t k = 1;
        if (c >= 0xC0 && c < 0xE0 && i + 1 < n) {
            c = ((c & 0x1F) << 6) | (u[i + 1] & 0x3F);
            k = 2;
        }
        int b = (c < 0x80 || k == 2) ? tok_cp_to_byte(c) : -1;
        if (b < 0) { /* not a byte-level string: keep the text as it is */
            tkd_buf_reset(out);
            return tkd_buf_append(out, s, n) ? TKD_ENOMEM : 0;
        }
        char ch = (char)b;
        if (tkd_buf_append(out, &ch, 1))
            return TKD_ENOMEM;
        i += k;
    }
    return 1;
}

/* ---- hashing ---- */
uint64_t tok_hash_bytes(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ (n * 0x9E3779B97F4A7C15ULL);
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static uint32_t pow2_at_least(size_t n) {
    uint32_t p = 1024;
    while (p < n)
        p <<= 1;
    return p;
}

/* ---- vocabulary: raw bytes -> id ---- */
int tok_vocab_build(tkd_tokenizer *t, tkd_err *e) {
    uint32_t size = pow2_at_least((size_t)t->n_vocab * 2 + 1);
    t->vmap = malloc(size * sizeof *t->vmap);
    if (!t->vmap)
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory for the vocabulary map", t->path);
    memset(t->vmap, 0xFF, size * sizeof *t->vmap);
    t->vmask = size - 1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (t->tok_len[id] == UINT32_MAX)
            continue;
        const char *s = t->arena + t->tok_off[id];
        size_t n = t->tok_len[id];
        uint32_t h = (uint32_t)tok_hash_bytes(s, n) & t->vmask;
        int dup = 0;
        while (t->vmap[h] >= 0) {
            int32_t o = t->vmap[h];
            if (t->tok_len[o] == n && !memcmp(t->arena + t->tok_off[o], s, n)) {
                dup = 1; /* an added token repeating a vocab entry: keep the first id */
                break;
            }
            h = (h + 1) & t->vmask;
        }
        if (!dup)
            t->vmap[h] = id;
    }
    return 0;
}

int32_t tok_vocab_find(const tkd_tokenizer *t, const char *s, size_t n) {
    uint32_t h = (uint32_t)tok_hash_bytes(s, n) & t->vmask;
    while (t->vmap[h] >= 0) {
        int32_t o = t->vmap[h];
        if (t->tok_len[o] == n && !memcmp(t->arena + t->tok_off[o], s, n))
            return o;
        h = (h + 1) & t->vmask;
    }
    return -1;
}

/* ---- merges: (a, b) -> rank, merged id ---- */
int tok_merges_alloc(tkd_tokenizer *t, size_t n_merges, tkd_err *e) {
    uint32_t size = pow2_at_least(n_merges * 2 + 1);
    t->mkeys = malloc(size * sizeof *t->mkeys);
    t->mrank = malloc(size * sizeof *t->mrank);
    t->mnew = malloc(size * sizeof *t->mnew);
    if (!t->mkeys || !t->mrank || !t->mnew)
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory for %zu merges", t->path, n_merges);
    memset(t->mkeys, 0xFF, size * sizeof *t->mkeys);
    t->mmask = size - 1;
    return 0;
}

/* Returns 1 if added, 0 if the pair was already there (the first rank wins). */
int tok_merge_add(tkd_tokenizer *t, int32_t a, int32_t b, int32_t rank, int32_t merged) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    uint32_t h = (uint32_t)mix64(key) & t->mmask;
    while (t->mkeys[h] != UINT64_MAX) {
        if (t->mkeys[h] == key)
            return 0;
        h = (h + 1) & t->mmask;
    }
    t->mkeys[h] = key;
    t->mrank[h] = rank;
    t->mnew[h] = merged;
    t->n_merges++;
    return 1;
}

static int merge_find(const tkd_tokenizer *t, int32_t a, int32_t b, int32_t *rank, int32_t *merged) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    uint32_t h = (uint32_t)mix64(key) & t->mmask;
    while (t->mkeys[h] != UINT64_MAX) {
        if (t->mkeys[h] == key) {
            *rank = t->mrank[h];
            *merged = t->mnew[h];
            return 1;
        }
        h = (h + 1) & t->mmask;
    }
    return 0;
}

/* ---- the merge loop ---- */
typedef struct {
    int32_t id, prev, next; /* id < 0: absorbed into its left neighbour */
} sym;
typedef struct {
    int32_t rank, pos, merged;
} cand;

static int cand_less(const cand *x, const cand *y) {
    return x->rank < y->rank || (x->rank == y->rank && x->pos < y->pos);
}

static void heap_push(cand *h, size_t *n, cand c) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&c, &h[p]))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
}

static cand heap_pop(cand *h, size_t *n) {
    cand top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = l + 1, s = i;
        const cand *best = &last;
        if (l < *n && cand_less(&h[l], best)) {
            s = l;
            best = &h[l];
        }
        if (m < *n && cand_less(&h[m], best))
            s = m;
        if (s == i)
            break;
        h[i] = h[s];
        i = s;
    }
    if (*n)
        h[i] = last;
    return top;
}

static void push_pair(const tkd_tokenizer *t, const sym *s, int32_t pos, cand *h, size_t *nh) {
    if (pos < 0 || s[pos].next < 0)
        return;
    cand c = {0, pos, 0};
    if (merge_find(t, s[pos].id, s[s[pos].next].id, &c.rank, &c.merged))
        heap_push(h, nh, c);
}

/* BPE of n >= 2 raw bytes into out (capacity n); returns the token count. */
static size_t bpe_merge(const tkd_tokenizer *t, const unsigned char *w, size_t n, sym *s, cand *h, int32_t *out) {
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        s[i].id = t->byte_id[w[i]];
        s[i].prev = (int32_t)i - 1;
        s[i].next = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < n; i++)
        push_pair(t, s, (int32_t)i, h, &nh);
    while (nh) {
        cand c = heap_pop(h, &nh);
        sym *a = &s[c.pos];
        if (a->id < 0 || a->next < 0)
            continue;
        int32_t rank, merged;
        if (!merge_find(t, a->id, s[a->next].id, &rank, &merged) || merged != c.merged)
            continue; /* stale: a neighbour changed since this pair was queued */
        sym *b = &s[a->next];
        a->id = merged;
        b->id = -1;
        a->next = b->next;
        if (b->next >= 0)
            s[b->next].prev = c.pos;
        push_pair(t, s, a->prev, h, &nh);
        push_pair(t, s, c.pos, h, &nh);
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0; i = s[i].next)
        out[k++] = s[i].id;
    return k;
}

/* ---- word cache ---- */
void tok_cache_free(tkd_tokenizer *t) {
    free(t->cache);
    free(t->cache_data);
    t->cache = NULL;
    t->cache_data = NULL;
    t->cache_mask = t->cache_used = 0;
    t->cache_data_len = t->cache_data_cap = 0;
}

static tok_cache_slot *cache_find(tkd_tokenizer *t, uint64_t hash, const char *w, size_t n, int *found) {
    uint32_t i = (uint32_t)hash & t->cache_mask;
    for (;; i = (i + 1) & t->cache_mask) {
        tok_cache_slot *c = &t->cache[i];
        if (!c->n) {
            *found = 0;
            return c;
        }
        if (c->hash == hash && c->klen == n && !memcmp(t->cache_data + c->off + c->n, w, n)) {
            *found = 1;
            return c;
        }
    }
}

static void cache_put(tkd_tokenizer *t, tok_cache_slot *slot, uint64_t hash, const char *w, size_t n,
                      const int32_t *ids, size_t nids) {
    size_t need = nids + (n + 3) / 4;
    if (t->cache_used >= TKD_TOK_CACHE_MAX_ENTRIES || t->cache_data_len + need > t->cache_data_cap)
        return; /* full: the caller clears it before the next word */
    slot->hash = hash;
    slot->off = (uint32_t)t->cache_data_len;
    slot->klen = (uint32_t)n;
    slot->n = (uint32_t)nids;
    memcpy(t->cache_data + t->cache_data_len, ids, nids * sizeof *ids);
    memcpy(t->cache_data + t->cache_data_len + nids, w, n);
    t->cache_data_len += need;
    t->cache_used++;
}

static int cache_ready(tkd_tokenizer *t) {
    if (!t->cache) {
        uint32_t slots = pow2_at_least(2 * TKD_TOK_CACHE_MAX_ENTRIES);
        t->cache = calloc(slots, sizeof *t->cache);
        t->cache_data_cap = (size_t)TKD_TOK_CACHE_MAX_ENTRIES * 16;
        t->cache_data = malloc(t->cache_data_cap * sizeof *t->cache_data);
        if (!t->cache || !t->cache_data) {
            tok_cache_free(t);
            return TKD_ENOMEM;
        }
        t->cache_mask = slots - 1;
    } else if (t->cache_used >= TKD_TOK_CACHE_MAX_ENTRIES ||
               t->cache_data_len + 2 * TKD_TOK_CACHE_MAX_WORD > t->cache_data_cap) {
        memset(t->cache, 0, ((size_t)t->cache_mask + 1) * sizeof *t->cache);
        t->cache_used = 0;
        t->cache_data_len = 0;
    }
    return 0;
}

static int ids_reserve(int32_t **ids, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    int32_t *p = realloc(*ids, c * sizeof *p);
    if (!p)
        return TKD_ENOMEM;
    *ids = p;
    *cap = c;
    return 0;
}

int tok_bpe_word(tkd_tokenizer *t, const char *w, size_t n, int32_t **ids, size_t *nids, size_t *cap) {
    if (ids_reserve(ids, cap, *nids + n))
        return TKD_ENOMEM;
    if (n == 1) {
        (*ids)[(*nids)++] = t->byte_id[(unsigned char)w[0]];
        return 0;
    }
    if (t->ignore_merges) {
        int32_t id = tok_vocab_find(t, w, n);
        if (id >= 0) {
            (*ids)[(*nids)++] = id;
            return 0;
        }
    }
    int cacheable = n <= TKD_TOK_CACHE_MAX_WORD && !cache_ready(t);
    uint64_t hash = 0;
    tok_cache_slot *slot = NULL;
    if (cacheable) {
        int found;
        hash = tok_hash_bytes(w, n);
        slot = cache_find(t, hash, w, n, &found);
        if (found) {
            memcpy(*ids + *nids, t->cache_data + slot->off, slot->n * sizeof(int32_t));
            *nids += slot->n;
            return 0;
        }
    }
    sym s_small[64];
    cand h_small[3 * 64];
    sym *s = s_small;
    cand *h = h_small;
    if (n > 64) {
        s = malloc(n * sizeof *s);
        h = malloc(3 * n * sizeof *h); /* n pairs at first, two more per merge */
        if (!s || !h) {
            free(s);
            free(h);
            return TKD_ENOMEM;
        }
    }
    size_t k = bpe_merge(t, (const unsigned char *)w, n, s, h, *ids + *nids);
    if (cacheable)
        cache_put(t, slot, hash, w, n, *ids + *nids, k);
    *nids += k;
    if (n > 64) {
        free(s);
        free(h);
    }
    return 0;
}
