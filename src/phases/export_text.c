/*
 * The export phase's text machinery: the normalized word stream shared by
 * decontamination and deduplication, the benchmark n-gram index, MinHash.
 *
 * Decontamination follows the practice of math SFT sets (open-r1's
 * decontaminate.py: word 8-grams against MATH-500 and AIME) with two changes
 * measured on MATH (README, tests/export/test_decontam.sh):
 *  - words are whitespace-, case- and LaTeX-spacing-invariant (exp_words_of),
 *    where open-r1 splits lower-cased text on spaces, so "x+y" and "x + y"
 *    differ there;
 *  - one shared 8-gram is not enough: MATH's boilerplate ("express your answer
 *    as a common fraction") makes 460 of 5,000 MATH train problems share an
 *    8-gram with MATH500. A training problem matches a benchmark problem when
 *    it holds at least export.decontaminate_overlap (default 0.5) of that
 *    problem's distinct grams (0 restores the one-gram rule). A benchmark text
 *    of L words uses grams of min(n, max(3, ceil(L/2))) words, so a short
 *    problem whose first sentence was reworded still matches, and a text of
 *    at most EXP_TINY_WORDS words also matches a training text of at most 3
 *    more words that holds its words after the first one (or two, for texts
 *    of 5 words) in a row: a reworded opening ("Compute $\dbinom{31}{28}$."
 *    vs "Calculate $\binom{31}{28}$.", "What is $1^{(2^{235423523})}$?" vs
 *    "Find $1^{(2^{235423523})}$.").
 */
#include "export_int.h"

#include <stdlib.h>
#include <string.h>

#define TAG_GRAM 0x6772616d00000000ULL
#define TAG_TINY 0x74696e7900000000ULL  /* tail after the first word */
#define TAG_TINY2 0x74696e7932000000ULL /* tail after the first two words */
#define TAG_SHINGLE 0x7368696e00000000ULL
#define FILTER_MASK ((1u << 23) - 1) /* 8 Mbit (1 MiB): a few % of false hits with ~500k grams */

uint64_t exp_hash_bytes(const void *p, size_t n, uint64_t seed) {
    const unsigned char *s = p;
    uint64_t h = exp_mix64(seed ^ (0x9e3779b97f4a7c15ULL * (n + 1)));
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = exp_mix64(h ^ v) + 0x9e3779b97f4a7c15ULL;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)s[i] << (8 * i);
    return exp_mix64(h ^ v ^ 0xff51afd7ed558ccdULL);
}

/* ---- words ---- */
static const char *const drop_cmds[] = {
    "left",         "right",      "big",         "bigl",   "bigr",         "bigg",    "biggl",     "biggr",
    "displaystyle", "textstyle",  "scriptstyle", "quad",   "qquad",        "enspace", "thinspace", "negthinspace",
    "medspace",     "thickspace", "hspace",      "vspace", "text",         "textrm",  "textbf",    "textit",
    "mathrm",       "mathbf",     "mathit",      "mbox",   "operatorname", "limits",  "nolimits",  NULL};
static const char *const map_cmds[][2] = {
    {"dfrac", "frac"},   {"tfrac", "frac"},   {"dbinom", "binom"}, {"tbinom", "binom"}, {"le", "leq"},   {"ge", "geq"},
    {"leqslant", "leq"}, {"geqslant", "geq"}, {"ne", "neq"},       {"lbrace", "{"},     {"rbrace", "}"}, {NULL, NULL}};

/* The commands above by the hash of "\\name" (computed once): a word costs
 * one hash and a short scan, never a string comparison per command. */
#define N_DROP (sizeof drop_cmds / sizeof *drop_cmds - 1)
#define N_MAP (sizeof map_cmds / sizeof *map_cmds - 1)
static uint64_t cmd_hash[N_DROP + N_MAP][2];
static int cmd_ready;

static uint64_t cmd_word_hash(const char *name) {
    char b[64];
    b[0] = '\\';
    size_t n = strlen(name);
    memcpy(b + 1, name, n);
    return exp_hash_bytes(b, n + 1, 0);
}

static int cmd_kind(uint64_t h) {
    if (!cmd_ready) { /* constants of the program: the same values however many threads race here */
        for (size_t k = 0; k < N_DROP; k++)
            cmd_hash[k][0] = cmd_word_hash(drop_cmds[k]);
        for (size_t k = 0; k < N_MAP; k++) {
            cmd_hash[N_DROP + k][0] = cmd_word_hash(map_cmds[k][0]);
            cmd_hash[N_DROP + k][1] = cmd_word_hash(map_cmds[k][1]);
        }
        cmd_ready = 1;
    }
    for (size_t k = 0; k < N_DROP + N_MAP; k++)
        if (cmd_hash[k][0] == h)
            return k < N_DROP ? -1 : (int)(k - N_DROP) + 1;
    return 0;
}

static int push_word(exp_words *w, uint64_t h, size_t off, size_t len, tkd_err *e) {
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        uint64_t *nh = realloc(w->h, cap * sizeof *nh);
        if (nh)
            w->h = nh;
        uint32_t *no = realloc(w->off, cap * sizeof *no);
        if (no)
            w->off = no;
        uint16_t *nl = realloc(w->len, cap * sizeof *nl);
        if (nl)
            w->len = nl;
        if (!nh || !no || !nl)
            return tkd_err_set(e, TKD_ENOMEM, "export: out of memory splitting words");
        w->cap = cap;
    }
    w->h[w->n] = h;
    w->off[w->n] = (uint32_t)(off > UINT32_MAX ? UINT32_MAX : off);
    w->len[w->n] = (uint16_t)(len > 65535 ? 65535 : len);
    w->n++;
    return 0;
}

static int is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
static int is_alpha(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int exp_words_of(exp_words *w, const char *text, tkd_err *e) {
    w->n = 0;
    const unsigned char *s = (const unsigned char *)text;
    char tmp[64];
    for (size_t i = 0; s[i];) {
        unsigned char c = s[i];
        if (c == '\\') {
            size_t j = i + 1;
            while (is_alpha(s[j]))
                j++;
            if (j == i + 1) { /* \, \; \! \\ \{ ...: spacing or an escaped symbol */
                i += s[j] ? 2 : 1;
                continue;
            }
            size_t n = j - i - 1;
            if (n < sizeof tmp - 2) {
                tmp[0] = '\\';
                for (size_t k = 0; k < n; k++)
                    tmp[k + 1] = (char)(s[i + 1 + k] | 0x20);
                uint64_t h = exp_hash_bytes(tmp, n + 1, 0);
                int what = cmd_kind(h); /* 0 plain, -1 dropped, k > 0: mapped to map_cmds[k - 1][1] */
                if (what > 0)
                    h = cmd_hash[what - 1 + N_DROP][1];
                if (what >= 0 && push_word(w, h, i, j - i, e))
                    return TKD_ENOMEM;
            }
            i = j;
        } else if (is_word_byte(c)) {
            size_t j = i;
            uint64_t h = 0xcbf29ce484222325ULL;
            while (is_word_byte(s[j])) {
                unsigned char b = s[j] >= 'A' && s[j] <= 'Z' ? (unsigned char)(s[j] | 0x20) : s[j];
                h = (h ^ b) * 0x100000001b3ULL;
                j++;
            }
            if (push_word(w, exp_mix64(h ^ (j - i)), i, j - i, e))
                return TKD_ENOMEM;
            i = j;
        } else {
            i++;
        }
    }
    return 0;
}

void exp_words_free(exp_words *w) {
    free(w->h);
    free(w->off);
    free(w->len);
    memset(w, 0, sizeof *w);
}

uint64_t exp_gram_hash(const exp_words *w, size_t i, size_t g, uint64_t tag) {
    uint64_t h = tag ^ (g * 0x9e3779b97f4a7c15ULL);
    for (size_t k = 0; k < g; k++)
        h = exp_mix64(h ^ w->h[i + k]);
    return h;
}

/* ---- a multimap of 64-bit keys to benchmark docs ---- */
typedef struct {
    uint32_t doc, next; /* next: entry index + 1, 0 ends the chain */
} entry;
typedef struct {
    uint64_t *keys;
    uint32_t *head; /* entry index + 1; 0: empty slot */
    size_t cap, used;
    entry *ent;
    size_t n_ent, cap_ent;
} multimap;

static int mm_grow(multimap *m) {
    size_t cap = m->cap ? 2 * m->cap : 1024;
    uint64_t *k = calloc(cap, sizeof *k);
    uint32_t *h = calloc(cap, sizeof *h);
    if (!k || !h) {
        free(k);
        free(h);
        return TKD_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->head[i])
            continue;
        size_t j = m->keys[i] & (cap - 1);
        while (h[j])
            j = (j + 1) & (cap - 1);
        k[j] = m->keys[i];
        h[j] = m->head[i];
    }
    free(m->keys);
    free(m->head);
    m->keys = k;
    m->head = h;
    m->cap = cap;
    return 0;
}

static int mm_add(multimap *m, uint64_t key, uint32_t doc) {
    if ((m->used + 1) * 2 > m->cap && mm_grow(m))
        return TKD_ENOMEM;
    if (m->n_ent == m->cap_ent) {
        size_t cap = m->cap_ent ? 2 * m->cap_ent : 1024;
        entry *n = realloc(m->ent, cap * sizeof *n);
        if (!n)
            return TKD_ENOMEM;
        m->ent = n;
        m->cap_ent = cap;
    }
    size_t j = key & (m->cap - 1);
    while (m->head[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->head[j]) {
        m->keys[j] = key;
        m->used++;
    }
    m->ent[m->n_ent] = (entry){doc, m->head[j]};
    m->head[j] = (uint32_t)++m->n_ent;
    return 0;
}

static uint32_t mm_find(const multimap *m, uint64_t key) {
    if (!m->cap)
        return 0;
    size_t j = key & (m->cap - 1);
    while (m->head[j]) {
        if (m->keys[j] == key)
            return m->head[j];
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

static void mm_free(multimap *m) {
    free(m->keys);
    free(m->head);
    free(m->ent);
}

/* ---- the benchmark index ---- */
typedef struct {
    char *bench, *id;
    uint32_t words, g, total;
} bdoc;

typedef struct {
    uint32_t doc, pos, g;
    uint64_t h;
} hit;

struct exp_decon {
    int n;
    double overlap;
    bdoc *docs;
    size_t n_docs, cap_docs;
    multimap grams, tiny;
    uint64_t sizes;   /* bit g: some doc uses g-grams */
    uint64_t *filter; /* one bit per hash of an indexed gram: most grams of a clean text stop here */
    exp_words w;
    uint64_t *tmp;
    size_t cap_tmp;
    hit *hits;
    size_t n_hits, cap_hits;
};

int exp_decon_new(int n, double overlap, exp_decon **out, tkd_err *e) {
    *out = NULL;
    if (n < 1 || n > EXP_NGRAM_MAX)
        return tkd_err_set(e, TKD_EINVAL, "export.ngram: %d is outside 1..%d", n, EXP_NGRAM_MAX);
    exp_decon *d = tkd_calloc(1, sizeof *d, e);
    if (!d)
        return TKD_ENOMEM;
    d->n = n;
    d->overlap = overlap;
    if (!(d->filter = tkd_calloc(FILTER_MASK / 64 + 1, sizeof *d->filter, e))) {
        free(d);
        return TKD_ENOMEM;
    }
    *out = d;
    return 0;
}

void exp_decon_free(exp_decon *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->n_docs; i++) {
        free(d->docs[i].bench);
        free(d->docs[i].id);
    }
    free(d->docs);
    mm_free(&d->grams);
    mm_free(&d->tiny);
    free(d->filter);
    exp_words_free(&d->w);
    free(d->tmp);
    free(d->hits);
    free(d);
}

size_t exp_decon_docs(const exp_decon *d) {
    return d->n_docs;
}

static uint32_t gram_size(const exp_decon *d, size_t words) {
    size_t g = (words + 1) / 2;
    if (g < 3)
        g = 3;
    if (g > (size_t)d->n)
        g = (size_t)d->n;
    if (g > words)
        g = words;
    return (uint32_t)g;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int exp_decon_add(exp_decon *d, const char *bench, const char *doc_id, const char *text, tkd_err *e) {
    if (exp_words_of(&d->w, text, e))
        return TKD_ENOMEM;
    if (d->w.n == 0)
        return 0; /* nothing to match */
    if (d->n_docs == d->cap_docs) {
        size_t cap = d->cap_docs ? 2 * d->cap_docs : 256;
        bdoc *n = tkd_realloc(d->docs, cap * sizeof *n, e);
        if (!n)
            return TKD_ENOMEM;
        d->docs = n;
        d->cap_docs = cap;
    }
    bdoc *b = &d->docs[d->n_docs];
    memset(b, 0, sizeof *b);
    b->bench = strdup(bench ? bench : "");
    b->id = strdup(doc_id ? doc_id : "");
    if (!b->bench || !b->id) {
        free(b->bench);
        free(b->id);
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory indexing benchmarks");
    }
    uint32_t doc = (uint32_t)d->n_docs++;
    b->words = (uint32_t)d->w.n;
    b->g = gram_size(d, d->w.n);
    size_t ng = d->w.n - b->g + 1;
    if (ng > d->cap_tmp) {
        uint64_t *t = tkd_realloc(d->tmp, ng * sizeof *t, e);
        if (!t)
            return TKD_ENOMEM;
        d->tmp = t;
        d->cap_tmp = ng;
    }
    for (size_t i = 0; i < ng; i++)
        d->tmp[i] = exp_gram_hash(&d->w, i, b->g, TAG_GRAM);
    qsort(d->tmp, ng, sizeof *d->tmp, cmp_u64);
    for (size_t i = 0; i < ng; i++) {
        if (i && d->tmp[i] == d->tmp[i - 1])
            continue;
        b->total++;
        d->filter[(d->tmp[i] >> 40) & FILTER_MASK / 64] |= 1ULL << (d->tmp[i] >> 58);
        if (mm_add(&d->grams, d->tmp[i], doc))
            return tkd_err_set(e, TKD_ENOMEM, "export: out of memory indexing benchmarks");
    }
    d->sizes |= 1ULL << b->g;
    if ((b->words >= 3 && b->words <= EXP_TINY_WORDS &&
         mm_add(&d->tiny, exp_gram_hash(&d->w, 1, b->words - 1, TAG_TINY), doc)) ||
        (b->words >= 5 && b->words <= EXP_TINY_WORDS &&
         mm_add(&d->tiny, exp_gram_hash(&d->w, 2, b->words - 2, TAG_TINY2), doc)))
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory indexing benchmarks");
    return 0;
}

static int push_hit(exp_decon *d, uint32_t doc, uint32_t pos, uint32_t g, uint64_t h) {
    if (d->n_hits == d->cap_hits) {
        size_t cap = d->cap_hits ? 2 * d->cap_hits : 64;
        hit *n = realloc(d->hits, cap * sizeof *n);
        if (!n)
            return TKD_ENOMEM;
        d->hits = n;
        d->cap_hits = cap;
    }
    d->hits[d->n_hits++] = (hit){doc, pos, g, h};
    return 0;
}

static int cmp_hit(const void *a, const void *b) {
    const hit *x = a, *y = b;
    if (x->doc != y->doc)
        return x->doc < y->doc ? -1 : 1;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int exp_decon_check(exp_decon *d, const char *text, exp_decon_match *m, tkd_err *e) {
    memset(m, 0, sizeof *m);
    m->doc = -1;
    if (!d || !d->n_docs)
        return 0;
    if (exp_words_of(&d->w, text, e))
        return TKD_ENOMEM;
    const exp_words *w = &d->w;
    d->n_hits = 0;
    for (uint32_t g = 1; g <= (uint32_t)d->n; g++) {
        if (!(d->sizes & (1ULL << g)) || g > w->n)
            continue;
        for (size_t i = 0; i + g <= w->n; i++) {
            uint64_t h = exp_gram_hash(w, i, g, TAG_GRAM);
            if (!(d->filter[(h >> 40) & FILTER_MASK / 64] >> (h >> 58) & 1))
                continue;
            for (uint32_t k = mm_find(&d->grams, h); k; k = d->grams.ent[k - 1].next) {
                uint32_t doc = d->grams.ent[k - 1].doc;
                if (d->docs[doc].g == g && push_hit(d, doc, (uint32_t)i, g, h))
                    return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
            }
        }
    }
    if (w->n <= EXP_TINY_WORDS + 3) /* tiny benchmark texts: their words after the first one or two */
        for (uint32_t drop = 1; drop <= 2; drop++)
            for (uint32_t g = 2; g + drop <= EXP_TINY_WORDS && g <= w->n; g++)
                for (size_t i = 0; i + g <= w->n; i++)
                    for (uint32_t k = mm_find(&d->tiny, exp_gram_hash(w, i, g, drop == 1 ? TAG_TINY : TAG_TINY2)); k;
                         k = d->tiny.ent[k - 1].next) {
                        uint32_t doc = d->tiny.ent[k - 1].doc;
                        if (d->docs[doc].words == g + drop && w->n <= d->docs[doc].words + 3 &&
                            push_hit(d, doc, (uint32_t)i, g, 0))
                            return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
                    }
    if (!d->n_hits)
        return 0;
    qsort(d->hits, d->n_hits, sizeof *d->hits, cmp_hit);
    double best = -1;
    size_t best_at = 0;
    uint32_t best_cnt = 0;
    for (size_t i = 0; i < d->n_hits;) {
        size_t j = i;
        uint32_t cnt = 0;
        int tiny = 0;
        for (; j < d->n_hits && d->hits[j].doc == d->hits[i].doc; j++) {
            if (d->hits[j].h == 0)
                tiny = 1;
            else if (j == i || d->hits[j].h != d->hits[j - 1].h || d->hits[j - 1].h == 0)
                cnt++;
        }
        const bdoc *b = &d->docs[d->hits[i].doc];
        double ov = tiny ? 1.0 : (double)cnt / (double)(b->total ? b->total : 1);
        int match = tiny || (d->overlap <= 0 ? cnt > 0 : ov + 1e-12 >= d->overlap);
        if (match && ov > best) {
            best = ov;
            best_at = i;
            best_cnt = tiny ? b->total : cnt;
        }
        i = j;
    }
    if (best < 0)
        return 0;
    const hit *h = &d->hits[best_at];
    const bdoc *b = &d->docs[h->doc];
    m->doc = (int)h->doc;
    m->bench = b->bench;
    m->doc_id = b->id;
    m->overlap = best;
    m->matched = best_cnt;
    m->total = b->total;
    /* the first matched gram, as the words of the training text */
    size_t o = 0;
    for (uint32_t k = 0; k < h->g && h->pos + k < w->n; k++) {
        size_t len = w->len[h->pos + k];
        if (o + len + 2 >= sizeof m->gram)
            break;
        if (k)
            m->gram[o++] = ' ';
        for (size_t q = 0; q < len; q++) {
            char c = text[w->off[h->pos + k] + q];
            m->gram[o++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
        }
    }
    m->gram[o] = 0;
    return 1;
}

/* ---- deduplication ---- */
uint64_t exp_norm_hash(const char *text, uint64_t seed) {
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    int space = 0, any = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        unsigned char c = *s;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = any;
            continue;
        }
        if (space)
            h = (h ^ ' ') * 0x100000001b3ULL;
        space = 0;
        any = 1;
        if (c >= 'A' && c <= 'Z')
            c |= 0x20;
        h = (h ^ c) * 0x100000001b3ULL;
    }
    return exp_mix64(h);
}

void exp_minhash(const exp_words *w, int shingle, uint32_t sig[EXP_MINHASH_BINS]) {
    uint8_t set[EXP_MINHASH_BINS] = {0};
    for (int b = 0; b < EXP_MINHASH_BINS; b++)
        sig[b] = UINT32_MAX;
    size_t g = (size_t)shingle < w->n ? (size_t)shingle : w->n;
    for (size_t i = 0; g && i + g <= w->n; i++) {
        uint64_t h = exp_gram_hash(w, i, g, TAG_SHINGLE);
        unsigned b = (unsigned)(h >> 57); /* 7 bits: 128 bins */
        uint32_t v = (uint32_t)h;
        if (!set[b] || v < sig[b])
            sig[b] = v;
        set[b] = 1;
    }
    /* rotation densification: an empty bin borrows from the next full one */
    int any = 0;
    for (int b = 0; b < EXP_MINHASH_BINS; b++)
        any |= set[b];
    if (!any)
        return;
    for (int b = 0; b < EXP_MINHASH_BINS; b++) {
        if (set[b])
            continue;
        int t = 1;
        while (!set[(b + t) % EXP_MINHASH_BINS])
            t++;
        sig[b] = sig[(b + t) % EXP_MINHASH_BINS] + (uint32_t)t * 0x9e3779b9u;
    }
}

double exp_minhash_jaccard(const uint32_t *a, const uint32_t *b) {
    int eq = 0;
    for (int i = 0; i < EXP_MINHASH_BINS; i++)
        eq += a[i] == b[i];
    return (double)eq / EXP_MINHASH_BINS;
}

/* ---- set of 64-bit keys ---- */
int exp_set_add(exp_set *s, uint64_t key) {
    if (!key)
        key = 0x8000000000000001ULL;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        uint64_t *k = calloc(cap, sizeof *k);
        if (!k)
            return TKD_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->k[i])
                continue;
            size_t j = s->k[i] & (cap - 1);
            while (k[j])
                j = (j + 1) & (cap - 1);
            k[j] = s->k[i];
        }
        free(s->k);
        s->k = k;
        s->cap = cap;
    }
    size_t j = key & (s->cap - 1);
    while (s->k[j]) {
        if (s->k[j] == key)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->k[j] = key;
    s->n++;
    return 1;
}

void exp_set_free(exp_set *s) {
    free(s->k);
    memset(s, 0, sizeof *s);
}
