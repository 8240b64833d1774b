/*
 * Reading a Hugging Face tokenizer.json (byte-level BPE, as Qwen2 and GPT-2
 * ship it) into a tkd_tokenizer: model.vocab, model.merges (both the "a b"
 * and the ["a", "b"] forms), added_tokens, the normalizer (NFC or none) and
 * the pre-tokenizer (Split regexes and ByteLevel, alone or in a Sequence).
 * Anything tkd would get wrong is refused with the file and the key named.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tokenizer_internal.h"

#define TKD_TOK_MAX_VOCAB (1 << 24) /* ids above this are refused */

/* GPT-2's pattern: what ByteLevel with use_regex=true splits with */
static const char gpt2_pattern[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* Rust's regex (which tokenizers uses) reads \s as Unicode White_Space; PCRE2's
 * \s differs for a few characters, so \s and \S are spelled out as classes. */
#define WS_CLASS "\\t-\\r\\x{85}\\p{Z}"

static int rewrite_pattern(const char *p, tkd_buf *out) {
    int in_class = 0;
    tkd_buf_reset(out);
    for (size_t i = 0; p[i]; i++) {
        char c = p[i];
        if (c == '\\' && p[i + 1]) {
            char d = p[++i];
            int rc;
            if (d == 's')
                rc = tkd_buf_puts(out, in_class ? WS_CLASS : "[" WS_CLASS "]");
            else if (d == 'S' && !in_class)
                rc = tkd_buf_puts(out, "[^" WS_CLASS "]");
            else
                rc = tkd_buf_putc(out, '\\') || tkd_buf_putc(out, d);
            if (rc)
                return TKD_ENOMEM;
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = 1;
            if (tkd_buf_putc(out, c))
                return TKD_ENOMEM;
            if (p[i + 1] == '^' && tkd_buf_putc(out, p[++i]))
                return TKD_ENOMEM;
            if (p[i + 1] == ']' && tkd_buf_putc(out, p[++i])) /* a leading ] is literal */
                return TKD_ENOMEM;
            continue;
        }
        if (c == ']' && in_class)
            in_class = 0;
        if (tkd_buf_putc(out, c))
            return TKD_ENOMEM;
    }
    return 0;
}

static int add_stage(tkd_tokenizer *t, const char *pattern, int literal, int removed, const char *key, tkd_err *e) {
    if (t->n_stages == TKD_TOK_MAX_REGEX_STAGES)
        return tkd_err_set(e, TKD_ELIMIT, "%s: %s: more than %d Split pre-tokenizers", t->path, key,
                           TKD_TOK_MAX_REGEX_STAGES);
    tkd_buf pat;
    tkd_buf_init(&pat);
    int rc = literal ? tkd_buf_puts(&pat, pattern) : rewrite_pattern(pattern, &pat);
    if (rc) {
        tkd_buf_free(&pat);
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", t->path);
    }
    int errcode;
    PCRE2_SIZE erroff;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat.data, pat.len, opts, &errcode, &erroff, NULL);
    tkd_buf_free(&pat);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        return tkd_err_set(e, TKD_EFORMAT, "%s: %s: the regex does not compile (%s at offset %zu): %s", t->path, key,
                           (const char *)msg, (size_t)erroff, pattern);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* without JIT it still works, slower */
    t->stages[t->n_stages].re = re;
    t->stages[t->n_stages].removed = removed;
    t->n_stages++;
    return 0;
}

static const char *str_of(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int pre_tokenizer(tkd_tokenizer *t, json_t *p, const char *key, tkd_err *e) {
    const char *type = str_of(p, "type");
    char sub[128];
    if (!type)
        return tkd_err_set(e, TKD_EFORMAT, "%s: %s.type: expected a string", t->path, key);
    if (!strcmp(type, "Sequence")) {
        json_t *list = json_object_get(p, "pretokenizers");
        if (!json_is_array(list))
            return tkd_err_set(e, TKD_EFORMAT, "%s: %s.pretokenizers: expected an array", t->path, key);
        for (size_t i = 0; i < json_array_size(list); i++) {
            snprintf(sub, sizeof sub, "%s.pretokenizers[%zu]", key, i);
            int rc = pre_tokenizer(t, json_array_get(list, i), sub, e);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!strcmp(type, "ByteLevel")) {
        if (json_is_true(json_object_get(p, "add_prefix_space")))
            return tkd_err_set(e, TKD_EFORMAT, "%s: %s.add_prefix_space: true is not supported by tkd", t->path, key);
        t->byte_level = 1;
        json_t *ur = json_object_get(p, "use_regex");
        if (!ur || json_is_true(ur)) {
            snprintf(sub, sizeof sub, "%s (ByteLevel use_regex)", key);
            return add_stage(t, gpt2_pattern, 0, 0, sub, e);
        }
        return 0;
    }
    if (!strcmp(type, "Split")) {
        json_t *pat = json_object_get(p, "pattern");
        const char *behavior = str_of(p, "behavior");
        const char *rx = str_of(pat, "Regex"), *lit = str_of(pat, "String");
        if (!rx && !lit)
            return tkd_err_set(e, TKD_EFORMAT, "%s: %s.pattern: expected {\"Regex\": ...} or {\"String\": ...}",
                               t->path, key);
        if (json_is_true(json_object_get(p, "invert")))
            return tkd_err_set(e, TKD_EFORMAT, "%s: %s.invert: true is not supported by tkd", t->path, key);
        if (!behavior || (strcmp(behavior, "Isolated") && strcmp(behavior, "Removed")))
            return tkd_err_set(e, TKD_EFORMAT, "%s: %s.behavior: '%s' is not supported (Isolated or Removed)", t->path,
                               key, behavior ? behavior : "(missing)");
        snprintf(sub, sizeof sub, "%s.pattern", key);
        return add_stage(t, rx ? rx : lit, rx == NULL, !strcmp(behavior, "Removed"), sub, e);
    }
    return tkd_err_set(e, TKD_EFORMAT,
                       "%s: %s.type: pre-tokenizer '%s' is not supported (tkd reads Sequence, Split, ByteLevel)",
                       t->path, key, type);
}

static int normalizer(tkd_tokenizer *t, json_t *n, const char *key, tkd_err *e) {
    if (!n || json_is_null(n))
        return 0;
    const char *type = str_of(n, "type");
    if (type && !strcmp(type, "NFC")) {
        t->nfc = 1;
        return 0;
    }
    if (type && !strcmp(type, "Sequence")) {
        json_t *list = json_object_get(n, "normalizers");
        char sub[128];
        for (size_t i = 0; i < json_array_size(list); i++) {
            snprintf(sub, sizeof sub, "%s.normalizers[%zu]", key, i);
            int rc = normalizer(t, json_array_get(list, i), sub, e);
            if (rc)
                return rc;
        }
        return 0;
    }
    return tkd_err_set(e, TKD_EFORMAT, "%s: %s.type: normalizer '%s' is not supported (tkd reads NFC)", t->path, key,
                       type ? type : "(missing)");
}

static int only_bytelevel(tkd_tokenizer *t, json_t *d, const char *key, tkd_err *e) {
    if (!d || json_is_null(d))
        return 0;
    const char *type = str_of(d, "type");
    if (type && !strcmp(type, "ByteLevel"))
        return 0;
    return tkd_err_set(e, TKD_EFORMAT, "%s: %s.type: '%s' is not supported (tkd reads ByteLevel)", t->path, key,
                       type ? type : "(missing)");
}

static int set_token(tkd_tokenizer *t, tkd_buf *arena, int32_t id, const char *s, size_t n) {
    if (t->tok_len[id] != UINT32_MAX)
        return 0;
    t->tok_off[id] = (uint32_t)arena->len;
    t->tok_len[id] = (uint32_t)n;
    return tkd_buf_append(arena, s, n);
}

static int cmp_added(const void *a, const void *b) {
    const tok_added *x = a, *y = b;
    return x->len != y->len ? (x->len < y->len ? 1 : -1) : (x->id > y->id) - (x->id < y->id);
}

static int flag(json_t *o, const char *k) {
    return json_is_true(json_object_get(o, k));
}

static int read_added(tkd_tokenizer *t, json_t *added, int32_t *max_id, tkd_err *e) {
    if (!added || json_is_null(added))
        return 0;
    if (!json_is_array(added))
        return tkd_err_set(e, TKD_EFORMAT, "%s: added_tokens: expected an array", t->path);
    size_t n = json_array_size(added);
    if (n > TKD_TOK_MAX_ADDED)
        return tkd_err_set(e, TKD_ELIMIT, "%s: added_tokens: %zu entries (limit %d)", t->path, n, TKD_TOK_MAX_ADDED);
    t->added = calloc(n ? n : 1, sizeof *t->added);
    if (!t->added)
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", t->path);
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(added, i), *id = json_object_get(a, "id");
        const char *content = str_of(a, "content");
        if (!content || !*content || !json_is_integer(id) || json_integer_value(id) < 0 ||
            json_integer_value(id) >= TKD_TOK_MAX_VOCAB)
            return tkd_err_set(e, TKD_EFORMAT,
                               "%s: added_tokens[%zu]: expected {\"id\": 0..%d, \"content\": non-empty string, ...}",
                               t->path, i, TKD_TOK_MAX_VOCAB - 1);
        tok_added *x = &t->added[t->n_added++];
        x->len = strlen(content);
        x->content = strdup(content);
        if (!x->content)
            return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", t->path);
        x->id = (int32_t)json_integer_value(id);
        x->special = flag(a, "special");
        x->lstrip = flag(a, "lstrip");
        x->rstrip = flag(a, "rstrip");
        x->single_word = flag(a, "single_word");
        x->normalized = flag(a, "normalized");
        if (x->id > *max_id)
            *max_id = x->id;
    }
    qsort(t->added, (size_t)t->n_added, sizeof *t->added, cmp_added);
    for (int i = 0; i < t->n_added; i++)
        t->first_byte[(unsigned char)t->added[i].content[0]] = 1;
    return 0;
}

/* One merge: "a b" or ["a", "b"]. */
static int read_merge(tkd_tokenizer *t, json_t *m, size_t i, tkd_buf *raw, tkd_buf *tmp, tkd_err *e) {
    const char *a, *b;
    size_t na, nb;
    if (json_is_string(m)) {
        a = json_string_value(m);
        const char *sp = strchr(a, ' ');
        if (!sp || strchr(sp + 1, ' '))
            return tkd_err_set(e, TKD_EFORMAT, "%s: model.merges[%zu]: expected \"left right\", got \"%s\"", t->path, i,
                               a);
        na = (size_t)(sp - a);
        b = sp + 1;
        nb = strlen(b);
    } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
               json_is_string(json_array_get(m, 1))) {
        a = json_string_value(json_array_get(m, 0));
        b = json_string_value(json_array_get(m, 1));
        na = strlen(a);
        nb = strlen(b);
    } else {
        return tkd_err_set(e, TKD_EFORMAT, "%s: model.merges[%zu]: expected \"left right\" or [\"left\", \"right\"]",
                           t->path, i);
    }
    int32_t ia, ib, im;
    if (tok_bytelevel_to_raw(a, na, tmp) < 0)
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", t->path);
    ia = tok_vocab_find(t, tmp->data, tmp->len);
    tkd_buf_reset(raw);
    if (tkd_buf_append(raw, tmp->data, tmp->len) || tok_bytelevel_to_raw(b, nb, tmp) < 0)
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", t->path);
    ib = tok_vocab_find(t, tmp->data, tmp->len);
    if (tkd_buf_append(raw, tmp->data, tmp->len))
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", t->path);
    im = tok_vocab_find(t, raw->data, raw->len);
    if (ia < 0 || ib < 0 || im < 0)
        return tkd_err_set(e, TKD_EFORMAT, "%s: model.merges[%zu]: '%.*s' is not in model.vocab", t->path, i,
                           ia < 0   ? (int)na
                           : ib < 0 ? (int)nb
                                    : (int)(na + nb),
                           ia < 0   ? a
                           : ib < 0 ? b
                                    : a);
    tok_merge_add(t, ia, ib, (int32_t)i, im);
    return 0;
}

static int read_model(tkd_tokenizer *t, json_t *root, tkd_err *e) {
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model))
        return tkd_err_set(e, TKD_EFORMAT, "%s: model: missing or not an object", t->path);
    const char *type = str_of(model, "type");
    if (type && strcmp(type, "BPE"))
        return tkd_err_set(e, TKD_EFORMAT, "%s: model.type: '%s' is not supported (tkd reads BPE)", t->path, type);
    json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    if (!json_is_object(vocab))
        return tkd_err_set(e, TKD_EFORMAT, "%s: model.vocab: missing or not an object", t->path);
    if (!json_is_array(merges))
        return tkd_err_set(e, TKD_EFORMAT, "%s: model.merges: missing or not an array", t->path);
    json_t *dropout = json_object_get(model, "dropout");
    if (dropout && !json_is_null(dropout) && json_number_value(dropout) != 0)
        return tkd_err_set(e, TKD_EFORMAT, "%s: model.dropout: BPE dropout is not supported", t->path);
    const char *pfx = str_of(model, "continuing_subword_prefix"), *sfx = str_of(model, "end_of_word_suffix");
    if ((pfx && *pfx) || (sfx && *sfx))
        return tkd_err_set(e, TKD_EFORMAT, "%s: model.%s: not supported by tkd (byte-level BPE has none)", t->path,
                           pfx && *pfx ? "continuing_subword_prefix" : "end_of_word_suffix");
    t->ignore_merges = flag(model, "ignore_merges");

    int32_t max_id = -1;
    const char *k;
    json_t *v;
    json_object_foreach(vocab, k, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= TKD_TOK_MAX_VOCAB)
            return tkd_err_set(e, TKD_EFORMAT, "%s: model.vocab['%s']: expected an id in 0..%d", t->path, k,
                               TKD_TOK_MAX_VOCAB - 1);
        if (json_integer_value(v) > max_id)
            max_id = (int32_t)json_integer_value(v);
    }
    t->n_model_vocab = (int32_t)json_object_size(vocab);
    int rc = read_added(t, json_object_get(root, "added_tokens"), &max_id, e);
    if (rc)
        return rc;
    if (max_id < 0)
        return tkd_err_set(e, TKD_EFORMAT, "%s: model.vocab: empty", t->path);
    t->n_vocab = max_id + 1;
    t->tok_off = malloc((size_t)t->n_vocab * sizeof *t->tok_off);
    t->tok_len = malloc((size_t)t->n_vocab * sizeof *t->tok_len);
    t->is_added = calloc((size_t)t->n_vocab, 1);
    if (!t->tok_off || !t->tok_len || !t->is_added)
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory for %d tokens", t->path, t->n_vocab);
    memset(t->tok_len, 0xFF, (size_t)t->n_vocab * sizeof *t->tok_len);

    tkd_buf arena, raw, tmp;
    tkd_buf_init(&arena);
    tkd_buf_init(&raw);
    tkd_buf_init(&tmp);
    rc = 0;
    /* added tokens first: their content is raw text, never byte-mapped */
    for (int i = 0; i < t->n_added && !rc; i++) {
        t->is_added[t->added[i].id] = t->added[i].special ? 2 : 1;
        rc = set_token(t, &arena, t->added[i].id, t->added[i].content, t->added[i].len);
    }
    json_object_foreach(vocab, k, v) {
        if (rc)
            break;
        if (tok_bytelevel_to_raw(k, strlen(k), &raw) < 0)
            rc = TKD_ENOMEM;
        else
            rc = set_token(t, &arena, (int32_t)json_integer_value(v), raw.data, raw.len);
    }
    t->arena_len = arena.len;
    t->arena = tkd_buf_steal(&arena);
    if (rc || !t->arena) {
        tkd_buf_free(&raw);
        tkd_buf_free(&tmp);
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory for the vocabulary", t->path);
    }
    rc = tok_vocab_build(t, e);
    for (int b = 0; b < 256 && !rc; b++) {
        char c = (char)b;
        t->byte_id[b] = tok_vocab_find(t, &c, 1);
        if (t->byte_id[b] < 0)
            rc = tkd_err_set(e, TKD_EFORMAT,
                             "%s: model.vocab: no token for byte 0x%02X; a byte-level BPE needs all 256 bytes", t->path,
                             b);
    }
    if (!rc)
        rc = tok_merges_alloc(t, json_array_size(merges), e);
    for (size_t i = 0; i < json_array_size(merges) && !rc; i++)
        rc = read_merge(t, json_array_get(merges, i), i, &raw, &tmp, e);
    tkd_buf_free(&raw);
    tkd_buf_free(&tmp);
    return rc;
}

int tok_load_json(tkd_tokenizer *t, const char *text, size_t len, tkd_err *e) {
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
    if (!root)
        return tkd_err_set(e, TKD_EFORMAT, "%s: not valid JSON (line %d, column %d): %s", t->path, jerr.line,
                           jerr.column, jerr.text);
    int rc = 0;
    if (!json_is_object(root))
        rc = tkd_err_set(e, TKD_EFORMAT, "%s: expected a JSON object at the top", t->path);
    if (!rc)
        rc = read_model(t, root, e);
    if (!rc)
        rc = normalizer(t, json_object_get(root, "normalizer"), "normalizer", e);
    json_t *pre = json_object_get(root, "pre_tokenizer");
    if (!rc && pre && !json_is_null(pre))
        rc = pre_tokenizer(t, pre, "pre_tokenizer", e);
    if (!rc && !t->byte_level)
        rc =
            tkd_err_set(e, TKD_EFORMAT, "%s: pre_tokenizer: no ByteLevel step; tkd reads byte-level BPE only", t->path);
    if (!rc)
        rc = only_bytelevel(t, json_object_get(root, "decoder"), "decoder", e);
    if (!rc)
        rc = only_bytelevel(t, json_object_get(root, "post_processor"), "post_processor", e);
    json_decref(root);
    /* one pair: only the whole match is read, whatever groups a pattern has */
    if (!rc && !(t->md = pcre2_match_data_create(1, NULL)))
        rc = tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", t->path);
    return rc;
}
