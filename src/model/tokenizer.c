/*
 * The tokenizer's public face: load and free, encode (added tokens first,
 * then per segment NFC, the pre-tokenizer regexes and BPE per piece),
 * decode, and the small lookups. Loading is in tokenizer_load.c, BPE in
 * tokenizer_bpe.c, NFC in tokenizer_nfc.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tokenizer_internal.h"

void tkd_tokenizer_free(tkd_tokenizer *t) {
    if (!t)
        return;
    for (int i = 0; i < t->n_stages; i++)
        pcre2_code_free(t->stages[i].re);
    pcre2_match_data_free(t->md);
    for (int i = 0; i < t->n_added; i++)
        free(t->added[i].content);
    free(t->added);
    free(t->is_added);
    free(t->arena);
    free(t->tok_off);
    free(t->tok_len);
    free(t->vmap);
    free(t->mkeys);
    free(t->mrank);
    free(t->mnew);
    tok_cache_free(t);
    free(t->path);
    free(t);
}

int tkd_tokenizer_load_mem(const char *json, size_t len, const char *name, tkd_tokenizer **tok, tkd_err *e) {
    *tok = NULL;
    tkd_tokenizer *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(name ? name : "tokenizer.json"))) {
        free(t);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory loading a tokenizer");
    }
    int rc = tok_load_json(t, json, len, e);
    if (rc) {
        tkd_tokenizer_free(t);
        return rc;
    }
    *tok = t;
    return 0;
}

int tkd_tokenizer_load(const char *path, tkd_tokenizer **tok, tkd_err *e) {
    *tok = NULL;
    struct stat st;
    tkd_buf p;
    tkd_buf_init(&p);
    if (tkd_buf_puts(&p, path))
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (!stat(path, &st) && S_ISDIR(st.st_mode) && tkd_buf_puts(&p, "/tokenizer.json")) {
        tkd_buf_free(&p);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    char *text;
    size_t len;
    int rc = tkd_file_read(p.data, &text, &len, e);
    if (!rc) {
        rc = tkd_tokenizer_load_mem(text, len, p.data, tok, e);
        free(text);
    } else {
        tkd_err_wrap(e, "loading a tokenizer (give a tokenizer.json or a model folder holding one)");
    }
    tkd_buf_free(&p);
    return rc;
}

/* ---- encode ---- */
typedef struct {
    int32_t *ids;
    size_t n, cap;
    size_t *starts;
    size_t scap;
    int want_starts;
} enc_out;

static int push_starts(enc_out *o, const tkd_tokenizer *t, size_t from, size_t off, int exact) {
    if (!o->want_starts)
        return 0;
    if (!o->starts || o->n > o->scap) {
        size_t c = o->scap ? o->scap : 256;
        while (c < o->n)
            c *= 2;
        size_t *p = realloc(o->starts, c * sizeof *p);
        if (!p)
            return TKD_ENOMEM;
        o->starts = p;
        o->scap = c;
    }
    for (size_t i = from; i < o->n; i++) {
        o->starts[i] = off;
        if (exact)
            off += t->tok_len[o->ids[i]];
    }
    return 0;
}

static int encode_piece(tkd_tokenizer *t, const char *s, size_t n, size_t off, int exact, enc_out *o) {
    size_t before = o->n;
    if (tok_bpe_word(t, s, n, &o->ids, &o->n, &o->cap))
        return TKD_ENOMEM;
    return push_starts(o, t, before, off, exact);
}

static size_t utf8_len(unsigned char c) {
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Split s[0..n) with pre-tokenizer stage k (each stage sees one piece of the
 * previous one as its whole subject, as in tokenizers), then BPE. */
static int split_stage(tkd_tokenizer *t, int k, const char *s, size_t n, size_t off, int exact, enc_out *o,
                       tkd_err *e) {
    if (k == t->n_stages)
        return n ? encode_piece(t, s, n, off, exact, o) : 0;
    const tok_stage *st = &t->stages[k];
    size_t pos = 0, last = 0;
    int rc = 0;
    while (pos < n && !rc) {
        int m = pcre2_match(st->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, t->md, NULL);
        if (m == PCRE2_ERROR_JIT_STACKLIMIT)
            m = pcre2_match(st->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, t->md, NULL);
        if (m == PCRE2_ERROR_NOMATCH)
            break;
        if (m < 0) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(m, msg, sizeof msg);
            return tkd_err_set(e, TKD_ELIMIT, "%s: pre-tokenizer regex failed on a %zu-byte piece: %s", t->path, n,
                               (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) { /* empty match: move on by one character */
            pos = ms + utf8_len((unsigned char)s[ms]);
            continue;
        }
        if (ms > last)
            rc = split_stage(t, k + 1, s + last, ms - last, off + (exact ? last : 0), exact, o, e);
        if (!rc && !st->removed)
            rc = split_stage(t, k + 1, s + ms, me - ms, off + (exact ? ms : 0), exact, o, e);
        last = pos = me;
    }
    if (!rc && last < n)
        rc = split_stage(t, k + 1, s + last, n - last, off + (exact ? last : 0), exact, o, e);
    return rc;
}

static int encode_segment(tkd_tokenizer *t, const char *s, size_t n, size_t off, enc_out *o, tkd_buf *norm,
                          tkd_err *e) {
    if (!n)
        return 0;
    int exact = 1;
    if (t->nfc && tok_nfc_maybe_changes(s, n)) {
        if (tok_nfc(s, n, norm))
            return tkd_err_set(e, TKD_ENOMEM, "out of memory normalizing %zu bytes", n);
        if (norm->len != n || memcmp(norm->data, s, n)) {
            s = norm->data;
            n = norm->len;
            exact = 0;
        }
    }
    int rc = split_stage(t, 0, s, n, off, exact, o, e);
    if (rc == TKD_ENOMEM)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory encoding %zu bytes", n);
    return rc;
}

static int is_word_byte(unsigned char c) {
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* The added token matching at text[i] (longest first), or NULL. */
static const tok_added *added_at(const tkd_tokenizer *t, const char *text, size_t len, size_t i, int flags) {
    for (int k = 0; k < t->n_added; k++) {
        const tok_added *a = &t->added[k];
        if (a->len > len - i || memcmp(text + i, a->content, a->len))
            continue;
        if (a->special && (flags & TKD_TOK_SPLIT_SPECIAL))
            continue;
        if (a->single_word && ((i > 0 && is_word_byte((unsigned char)text[i - 1])) ||
                               (i + a->len < len && is_word_byte((unsigned char)text[i + a->len]))))
            continue;
        return a;
    }
    return NULL;
}

static int encode(tkd_tokenizer *t, const char *text, size_t len, int flags, enc_out *o, tkd_err *e) {
    if (!tkd_text_utf8_valid(text, len))
        return tkd_err_set(e, TKD_EINVAL, "tokenizer: the text (%zu bytes) is not valid UTF-8", len);
    o->cap = 64 + len / 3;
    o->ids = malloc(o->cap * sizeof *o->ids);
    if (!o->ids)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory encoding %zu bytes", len);
    tkd_buf norm;
    tkd_buf_init(&norm);
    size_t seg = 0, i = 0;
    int rc = 0;
    while (i < len && !rc) {
        const tok_added *a = t->first_byte[(unsigned char)text[i]] ? added_at(t, text, len, i, flags) : NULL;
        if (!a) {
            i++;
            continue;
        }
        size_t ms = i, me = i + a->len;
        if (a->lstrip)
            while (ms > seg && isspace((unsigned char)text[ms - 1]))
                ms--;
        if (a->rstrip)
            while (me < len && isspace((unsigned char)text[me]))
                me++;
        rc = encode_segment(t, text + seg, ms - seg, seg, o, &norm, e);
        if (!rc && o->n == o->cap) {
            int32_t *p = realloc(o->ids, 2 * o->cap * sizeof *p);
            if (!p)
                rc = tkd_err_set(e, TKD_ENOMEM, "out of memory encoding %zu bytes", len);
            else {
                o->ids = p;
                o->cap *= 2;
            }
        }
        if (!rc) {
            o->ids[o->n++] = a->id;
            if (push_starts(o, t, o->n - 1, i, 0))
                rc = tkd_err_set(e, TKD_ENOMEM, "out of memory encoding %zu bytes", len);
        }
        seg = i = me;
    }
    if (!rc)
        rc = encode_segment(t, text + seg, len - seg, seg, o, &norm, e);
    tkd_buf_free(&norm);
    return rc;
}

int tkd_tokenizer_encode_offsets(tkd_tokenizer *t, const char *text, size_t len, int flags, int32_t **ids,
                                 size_t **starts, size_t *n, tkd_err *e) {
    enc_out o = {0};
    o.want_starts = starts != NULL;
    *ids = NULL;
    *n = 0;
    if (starts)
        *starts = NULL;
    int rc = encode(t, text, len, flags, &o, e);
    if (!rc && starts && !o.starts && !(o.starts = malloc(sizeof *o.starts)))
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (rc) {
        free(o.ids);
        free(o.starts);
        return rc;
    }
    *ids = o.ids;
    *n = o.n;
    if (starts)
        *starts = o.starts;
    return 0;
}

int tkd_tokenizer_encode(tkd_tokenizer *t, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
                         tkd_err *e) {
    return tkd_tokenizer_encode_offsets(t, text, len, flags, ids, NULL, n, e);
}

/* ---- decode and lookups ---- */
int tkd_tokenizer_decode(const tkd_tokenizer *t, const int32_t *ids, size_t n, int flags, char **text, size_t *len,
                         tkd_err *e) {
    *text = NULL;
    if (len)
        *len = 0;
    tkd_buf b;
    tkd_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_vocab || t->tok_len[id] == UINT32_MAX) {
            tkd_buf_free(&b);
            return tkd_err_set(e, TKD_EINVAL, "decode: token id %d (position %zu) is not in the vocabulary of %s",
                               (int)id, i, t->path);
        }
        if ((flags & TKD_TOK_SKIP_SPECIAL) && t->is_added[id] == 2)
            continue;
        if (tkd_buf_append(&b, t->arena + t->tok_off[id], t->tok_len[id])) {
            tkd_buf_free(&b);
            return tkd_err_set(e, TKD_ENOMEM, "decode: out of memory");
        }
    }
    if (tkd_buf_append(&b, "", 0)) { /* NUL-terminated even when empty */
        tkd_buf_free(&b);
        return tkd_err_set(e, TKD_ENOMEM, "decode: out of memory");
    }
    if (len)
        *len = b.len;
    *text = tkd_buf_steal(&b);
    return 0;
}

int32_t tkd_tokenizer_token_id(const tkd_tokenizer *t, const char *s) {
    size_t n = strlen(s);
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].len == n && !memcmp(t->added[i].content, s, n))
            return t->added[i].id;
    return tok_vocab_find(t, s, n);
}

const char *tkd_tokenizer_token_bytes(const tkd_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_vocab || t->tok_len[id] == UINT32_MAX)
        return NULL;
    if (len)
        *len = t->tok_len[id];
    return t->arena + t->tok_off[id];
}

int tkd_tokenizer_is_special(const tkd_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab && t->is_added[id] == 2;
}

int32_t tkd_tokenizer_vocab_size(const tkd_tokenizer *t) {
    return t->n_vocab;
}

const char *tkd_tokenizer_path(const tkd_tokenizer *t) {
    return t->path;
}
