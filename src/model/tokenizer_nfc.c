/*
 * NFC normalization (Unicode canonical composition), the normalizer of Qwen's
 * tokenizer.json. The algorithm of UAX #15: decompose canonically (tables
 * plus the Hangul arithmetic), put combining marks in canonical order, then
 * recompose primary composites. The data lives in tokenizer_nfc_table.c,
 * generated from Debian's Unicode Character Database.
 *
 * Speed: almost all text is ASCII or already NFC. tok_nfc_maybe_changes()
 * scans for the few code points NFC can touch (NFC_QC No/Maybe or a non-zero
 * combining class) so such text skips the algorithm and is not copied.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

/* Hangul syllable arithmetic (Unicode 3.12) */
enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7 };
enum { LCOUNT = 19, VCOUNT = 21, TCOUNT = 28, NCOUNT = VCOUNT * TCOUNT, SCOUNT = LCOUNT * NCOUNT };

/* Decode one code point of valid UTF-8 at s[*i], advancing *i. */
static uint32_t utf8_next(const unsigned char *s, size_t *i) {
    uint32_t c = s[*i];
    if (c < 0x80) {
        *i += 1;
        return c;
    }
    if (c < 0xE0) {
        c = ((c & 0x1F) << 6) | (s[*i + 1] & 0x3F);
        *i += 2;
    } else if (c < 0xF0) {
        c = ((c & 0x0F) << 12) | ((uint32_t)(s[*i + 1] & 0x3F) << 6) | (s[*i + 2] & 0x3F);
        *i += 3;
    } else {
        c = ((c & 0x07) << 18) | ((uint32_t)(s[*i + 1] & 0x3F) << 12) | ((uint32_t)(s[*i + 2] & 0x3F) << 6) |
            (s[*i + 3] & 0x3F);
        *i += 4;
    }
    return c;
}

static int utf8_put(tkd_buf *b, uint32_t c) {
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    return tkd_buf_append(b, u, n);
}

static const tkd_nfc_range *range_find(const tkd_nfc_range *tab, size_t n, uint32_t c) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < tab[mid].lo)
            hi = mid;
        else if (c > tab[mid].hi)
            lo = mid + 1;
        else
            return &tab[mid];
    }
    return NULL;
}

static int ccc_of(uint32_t c) {
    if (c < 0x300)
        return 0;
    const tkd_nfc_range *r = range_find(tkd_nfc_ccc, tkd_nfc_ccc_n, c);
    return r ? (int)r->value : 0;
}

static const tkd_nfc_decomp_entry *decomp_of(uint32_t c) {
    size_t lo = 0, hi = tkd_nfc_decomp_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < tkd_nfc_decomp[mid].cp)
            hi = mid;
        else if (c > tkd_nfc_decomp[mid].cp)
            lo = mid + 1;
        else
            return &tkd_nfc_decomp[mid];
    }
    return NULL;
}

/* The primary composite of (a, b), or 0. */
static uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE && b < TBASE + TCOUNT)
        return a + (b - TBASE);
    uint64_t key = ((uint64_t)a << 21) | b;
    size_t lo = 0, hi = tkd_nfc_comp_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (key < tkd_nfc_comp[mid].pair)
            hi = mid;
        else if (key > tkd_nfc_comp[mid].pair)
            lo = mid + 1;
        else
            return tkd_nfc_comp[mid].cp;
    }
    return 0;
}

int tok_nfc_maybe_changes(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) { /* eight ASCII bytes at a time */
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        if (u[i] < 0xCC) { /* below U+0300 nothing changes: skip ASCII and Latin-1 fast */
            i += u[i] < 0x80 ? 1 : 2;
            continue;
        }
        uint32_t c = utf8_next(u, &i);
        if (range_find(tkd_nfc_quick, tkd_nfc_quick_n, c))
            return 1;
    }
    return 0;
}

typedef struct {
    uint32_t *cp;
    size_t n, cap;
} cpvec;

static int cp_push(cpvec *v, uint32_t c) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 256;
        uint32_t *p = realloc(v->cp, cap * sizeof *p);
        if (!p)
            return TKD_ENOMEM;
        v->cp = p;
        v->cap = cap;
    }
    v->cp[v->n++] = c;
    return 0;
}

/* Full canonical decomposition of c appended to v. Depth is bounded by the
 * data (at most 4 levels in Unicode 15); 8 guards against a bad table. */
static int decompose(cpvec *v, uint32_t c, int depth) {
    if (c >= SBASE && c < SBASE + SCOUNT) {
        uint32_t si = c - SBASE;
        int rc = cp_push(v, LBASE + si / NCOUNT);
        if (!rc)
            rc = cp_push(v, VBASE + (si % NCOUNT) / TCOUNT);
        if (!rc && si % TCOUNT)
            rc = cp_push(v, TBASE + si % TCOUNT);
        return rc;
    }
    const tkd_nfc_decomp_entry *d = depth < 8 ? decomp_of(c) : NULL;
    if (!d)
        return cp_push(v, c);
    int rc = decompose(v, d->a, depth + 1);
    if (!rc && d->b)
        rc = decompose(v, d->b, depth + 1);
    return rc;
}

int tok_nfc(const char *s, size_t n, tkd_buf *out) {
    tkd_buf_reset(out);
    cpvec v = {0};
    int rc = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n && !rc;)
        rc = decompose(&v, utf8_next(u, &i), 0);
    if (rc)
        goto done;
    /* canonical ordering: stable insertion sort of each run of non-starters */
    for (size_t i = 1; i < v.n; i++) {
        int ci = ccc_of(v.cp[i]);
        if (!ci)
            continue;
        size_t j = i;
        uint32_t c = v.cp[i];
        while (j > 0 && ccc_of(v.cp[j - 1]) > ci) {
            v.cp[j] = v.cp[j - 1];
            j--;
        }
        v.cp[j] = c;
    }
    /* canonical composition: c joins the last starter unless blocked by a
     * char in between whose class is 0 or not below c's */
    size_t starter = SIZE_MAX, w = 0;
    int prev_cc = 0; /* class of the last char kept */
    for (size_t i = 0; i < v.n; i++) {
        uint32_t c = v.cp[i];
        int cc = ccc_of(c);
        if (starter != SIZE_MAX && (w == starter + 1 || (prev_cc != 0 && prev_cc < cc))) {
            uint32_t comp = compose_pair(v.cp[starter], c);
            if (comp) {
                v.cp[starter] = comp;
                continue;
            }
        }
        if (cc == 0)
            starter = w;
        prev_cc = cc;
        v.cp[w++] = c;
    }
    for (size_t i = 0; i < w && !rc; i++)
        rc = utf8_put(out, v.cp[i]);
done:
    free(v.cp);
    return rc ? TKD_ENOMEM : 0;
}

int tkd_tokenizer_nfc(const char *s, size_t n, char **out, size_t *out_len, tkd_err *e) {
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!tkd_text_utf8_valid(s, n))
        return tkd_err_set(e, TKD_EINVAL, "NFC: the text is not valid UTF-8");
    tkd_buf b;
    tkd_buf_init(&b);
    int rc = tok_nfc_maybe_changes(s, n) ? tok_nfc(s, n, &b) : tkd_buf_append(&b, s, n);
    if (rc) {
        tkd_buf_free(&b);
        return tkd_err_set(e, TKD_ENOMEM, "NFC: out of memory for %zu bytes", n);
    }
    if (out_len)
        *out_len = b.len;
    *out = tkd_buf_steal(&b);
    return 0;
}
