/*
 * Writing a tokenizer into a model folder, for `tkd model init`: either a
 * copy of a real tokenizer.json (Qwen's) or a small self-made byte-level BPE
 * for tiny test models: the 256 byte tokens, merges learned from some text
 * by plain BPE training (most frequent pair first, ties to the smaller ids),
 * and Qwen2.5's 22 added tokens. Both get a tokenizer_config.json that
 * transformers and vLLM read (Qwen2Tokenizer, eos <|im_end|>, chat template).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tokenizer_internal.h"

static const char qwen_pattern[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                                   "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const struct {
    const char *content;
    int special;
} qwen25_added[] = {
    {"<|endoftext|>", 1},      {"<|im_start|>", 1},     {"<|im_end|>", 1},     {"<|object_ref_start|>", 1},
    {"<|object_ref_end|>", 1}, {"<|box_start|>", 1},    {"<|box_end|>", 1},    {"<|quad_start|>", 1},
    {"<|quad_end|>", 1},       {"<|vision_start|>", 1}, {"<|vision_end|>", 1}, {"<|vision_pad|>", 1},
    {"<|image_pad|>", 1},      {"<|video_pad|>", 1},    {"<tool_call>", 0},    {"</tool_call>", 0},
    {"<|fim_prefix|>", 0},     {"<|fim_middle|>", 0},   {"<|fim_suffix|>", 0}, {"<|fim_pad|>", 0},
    {"<|repo_name|>", 0},      {"<|file_sep|>", 0},
};
#define N_QWEN25_ADDED (sizeof qwen25_added / sizeof qwen25_added[0])
#define TKD_TOK_MAX_TRAIN_MERGES 65536

/* a little math text, enough for a few hundred merges */
static const char sample_text[] =
    "We have $x^2 - 5x + 6 = 0$, so $(x - 2)(x - 3) = 0$ and the solutions are $x = 2$ and $x = 3$. "
    "The sum of the solutions is $\\boxed{5}$.\n\n"
    "Let $n$ be the number of integers between 1 and 100 that are divisible by 3 or 5. There are 33 "
    "multiples of 3, 20 multiples of 5 and 6 multiples of 15, so $n = 33 + 20 - 6 = \\boxed{47}$.\n\n"
    "The area of a triangle with base $b$ and height $h$ is $\\frac{1}{2}bh$. Since the base is 10 and "
    "the height is 6, the area is $\\frac{1}{2}\\cdot 10 \\cdot 6 = \\boxed{30}$.\n\n"
    "To find the probability, we count the favorable outcomes and divide by the total number of "
    "outcomes. There are $\\binom{6}{2} = 15$ ways to choose two of the six numbers, and 3 of them "
    "have an even sum, so the probability is $\\frac{3}{15} = \\boxed{\\frac{1}{5}}$.\n\n"
    "Let's compute $\\sqrt{2}\\cdot\\sqrt{8} = \\sqrt{16} = 4$. Then $4^3 = 64$, and the remainder "
    "when 64 is divided by 7 is 1. Therefore the answer is $\\boxed{1}$.\n\n"
    "I'll use the tool to check: the derivative of $\\sin x \\cos x$ is $\\cos^2 x - \\sin^2 x = \\cos 2x$. "
    "We're told that the function is increasing, so the final answer is $\\boxed{\\cos 2x}$.\n";

/* ---- self-made BPE ---- */
typedef struct {
    char **bytes; /* per id */
    size_t *len;
    int32_t n, cap;
    int32_t (*merges)[2];
    int32_t n_merges;
} bpe_model;

static void bpe_free(bpe_model *m) {
    for (int32_t i = 0; i < m->n; i++)
        free(m->bytes[i]);
    free(m->bytes);
    free(m->len);
    free(m->merges);
}

static int32_t bpe_add(bpe_model *m, const char *s, size_t n) {
    for (int32_t i = 0; i < m->n; i++) /* small vocabularies only */
        if (m->len[i] == n && !memcmp(m->bytes[i], s, n))
            return i;
    if (m->n == m->cap) {
        int32_t cap = m->cap ? 2 * m->cap : 512;
        char **b = realloc(m->bytes, (size_t)cap * sizeof *b);
        if (b)
            m->bytes = b;
        size_t *l = realloc(m->len, (size_t)cap * sizeof *l);
        if (l)
            m->len = l;
        if (!b || !l)
            return -1;
        m->cap = cap;
    }
    if (!(m->bytes[m->n] = malloc(n ? n : 1)))
        return -1;
    memcpy(m->bytes[m->n], s, n);
    m->len[m->n] = n;
    return m->n++;
}

typedef struct {
    int32_t *sym;
    size_t n;
    long count;
} word;

/* Split text with Qwen's pattern into words with counts (duplicates merged). */
static int train_words(const char *text, size_t len, const bpe_model *m, const int32_t *byte_id, word **out,
                       size_t *n_out) {
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)qwen_pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &errcode, &erroff, NULL);
    pcre2_match_data *md = re ? pcre2_match_data_create(1, NULL) : NULL;
    word *w = NULL;
    size_t n = 0, cap = 0;
    int rc = re && md ? 0 : TKD_ENOMEM;
    (void)m;
    for (size_t pos = 0; pos < len && !rc;) {
        int r = pcre2_match(re, (PCRE2_SPTR)text, len, pos, 0, md, NULL);
        if (r < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t s = ov[0], l = ov[1] - ov[0];
        pos = l ? ov[1] : ov[1] + 1;
        if (!l)
            continue;
        size_t k; /* the same word seen before? (training text is small) */
        for (k = 0; k < n; k++) {
            if (w[k].n != l)
                continue;
            size_t j = 0;
            while (j < l && w[k].sym[j] == byte_id[(unsigned char)text[s + j]])
                j++;
            if (j == l)
                break;
        }
        if (k < n) {
            w[k].count++;
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            word *p = realloc(w, cap * sizeof *p);
            if (!p) {
                rc = TKD_ENOMEM;
                break;
            }
            w = p;
        }
        if (!(w[n].sym = malloc(l * sizeof(int32_t)))) {
            rc = TKD_ENOMEM;
            break;
        }
        for (size_t j = 0; j < l; j++)
            w[n].sym[j] = byte_id[(unsigned char)text[s + j]];
        w[n].n = l;
        w[n].count = 1;
        n++;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    *out = w;
    *n_out = n;
    return rc;
}

static int train(bpe_model *m, const char *text, size_t len, int n_merges, const int32_t *byte_id) {
    word *w;
    size_t nw;
    int rc = train_words(text, len, m, byte_id, &w, &nw);
    if (!rc && n_merges > 0 && !(m->merges = malloc((size_t)n_merges * sizeof *m->merges)))
        rc = TKD_ENOMEM;
    long *counts = NULL;
    for (int it = 0; it < n_merges && !rc; it++) {
        /* count pairs: a dense table over the (small) vocabulary */
        size_t nv = (size_t)m->n;
        free(counts);
        if (!(counts = calloc(nv * nv, sizeof *counts))) {
            rc = TKD_ENOMEM;
            break;
        }
        long best = 1;
        int32_t ba = -1, bb = -1;
        for (size_t i = 0; i < nw; i++)
            for (size_t j = 0; j + 1 < w[i].n; j++)
                counts[(size_t)w[i].sym[j] * nv + (size_t)w[i].sym[j + 1]] += w[i].count;
        for (size_t k = 0; k < nv * nv; k++)
            if (counts[k] > best) {
                best = counts[k];
                ba = (int32_t)(k / nv);
                bb = (int32_t)(k % nv);
            }
        if (ba < 0)
            break; /* nothing occurs twice: done early */
        char buf[512];
        size_t la = m->len[ba], lb = m->len[bb];
        if (la + lb > sizeof buf)
            break;
        memcpy(buf, m->bytes[ba], la);
        memcpy(buf + la, m->bytes[bb], lb);
        int32_t id = bpe_add(m, buf, la + lb);
        if (id < 0) {
            rc = TKD_ENOMEM;
            break;
        }
        m->merges[m->n_merges][0] = ba;
        m->merges[m->n_merges][1] = bb;
        m->n_merges++;
        for (size_t i = 0; i < nw; i++) { /* apply left to right */
            size_t o = 0;
            for (size_t j = 0; j < w[i].n; j++) {
                if (j + 1 < w[i].n && w[i].sym[j] == ba && w[i].sym[j + 1] == bb) {
                    w[i].sym[o++] = id;
                    j++;
                } else {
                    w[i].sym[o++] = w[i].sym[j];
                }
            }
            w[i].n = o;
        }
    }
    free(counts);
    for (size_t i = 0; i < nw; i++)
        free(w[i].sym);
    free(w);
    return rc;
}

/* the byte-level string (GPT-2 map) of raw bytes */
static int bytelevel(const char *s, size_t n, tkd_buf *out) {
    tkd_buf_reset(out);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = tok_byte_to_cp((unsigned char)s[i]);
        char u[2] = {(char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F))};
        int rc = c < 0x80 ? tkd_buf_putc(out, (char)c) : tkd_buf_append(out, u, 2);
        if (rc)
            return rc;
    }
    return tkd_buf_append(out, "", 0);
}

static json_t *step(const char *type) {
    return json_pack("{s:s}", "type", type);
}

static json_t *selfmade_json(const tkd_tokenizer_spec *spec, tkd_err *e) {
    bpe_model m = {0};
    int32_t byte_id[256];
    int rc = 0;
    for (uint32_t cp = 0; cp < 256 + 68 && !rc; cp++) { /* ids in the order of the mapped characters */
        int b = tok_cp_to_byte(cp);
        if (b < 0)
            continue;
        char c = (char)b;
        if ((byte_id[b] = bpe_add(&m, &c, 1)) < 0)
            rc = TKD_ENOMEM;
    }
    const char *text = spec->train_text ? spec->train_text : sample_text;
    size_t len = spec->train_text ? spec->train_len : strlen(sample_text);
    if (!rc && !tkd_text_utf8_valid(text, len)) {
        bpe_free(&m);
        tkd_err_set(e, TKD_EINVAL, "tokenizer training text is not valid UTF-8");
        return NULL;
    }
    int nm = spec->n_merges > TKD_TOK_MAX_TRAIN_MERGES ? TKD_TOK_MAX_TRAIN_MERGES : spec->n_merges;
    if (!rc)
        rc = train(&m, text, len, nm, byte_id);
    json_t *vocab = json_object(), *merges = json_array(), *added = json_array(), *root = NULL;
    tkd_buf a, b;
    tkd_buf_init(&a);
    tkd_buf_init(&b);
    rc = rc || !vocab || !merges || !added;
    for (int32_t i = 0; i < m.n && !rc; i++)
        rc = bytelevel(m.bytes[i], m.len[i], &a) || json_object_set_new(vocab, a.data, json_integer(i));
    for (int32_t i = 0; i < m.n_merges && !rc; i++) {
        int32_t x = m.merges[i][0], y = m.merges[i][1];
        rc = bytelevel(m.bytes[x], m.len[x], &a) || bytelevel(m.bytes[y], m.len[y], &b) || tkd_buf_putc(&a, ' ') ||
             tkd_buf_append(&a, b.data, b.len) || json_array_append_new(merges, json_string(a.data));
    }
    for (size_t i = 0; i < N_QWEN25_ADDED && !rc; i++)
        rc = json_array_append_new(added, json_pack("{s:i,s:s,s:b,s:b,s:b,s:b,s:b}", "id", m.n + (int)i, "content",
                                                    qwen25_added[i].content, "single_word", 0, "lstrip", 0, "rstrip", 0,
                                                    "normalized", 0, "special", qwen25_added[i].special));
    if (!rc) {
        json_t *pre =
            json_pack("{s:s,s:[{s:s,s:{s:s},s:s,s:b},{s:s,s:b,s:b,s:b}]}", "type", "Sequence", "pretokenizers", "type",
                      "Split", "pattern", "Regex", qwen_pattern, "behavior", "Isolated", "invert", 0, "type",
                      "ByteLevel", "add_prefix_space", 0, "trim_offsets", 0, "use_regex", 0);
        json_t *model = json_pack("{s:s,s:n,s:n,s:s,s:s,s:b,s:b,s:b,s:O,s:O}", "type", "BPE", "dropout", "unk_token",
                                  "continuing_subword_prefix", "", "end_of_word_suffix", "", "fuse_unk", 0,
                                  "byte_fallback", 0, "ignore_merges", 0, "vocab", vocab, "merges", merges);
        root = json_pack("{s:s,s:n,s:n,s:O,s:o,s:o,s:o,s:o,s:o}", "version", "1.0", "truncation", "padding",
                         "added_tokens", added, "normalizer", step("NFC"), "pre_tokenizer", pre, "post_processor",
                         step("ByteLevel"), "decoder", step("ByteLevel"), "model", model);
    }
    json_decref(vocab);
    json_decref(merges);
    json_decref(added);
    tkd_buf_free(&a);
    tkd_buf_free(&b);
    bpe_free(&m);
    if (!root)
        tkd_err_set(e, TKD_ENOMEM, "out of memory building a tokenizer");
    return root;
}

static char *default_config(void) {
    json_t *c = json_pack("{s:b,s:b,s:[s,s],s:n,s:s,s:b,s:s,s:s,s:i,s:s,s:b,s:s,s:n}", "add_bos_token", 0,
                          "add_prefix_space", 0, "additional_special_tokens", "<|im_start|>", "<|im_end|>", "bos_token",
                          "chat_template", tkd_chat_qwen25_template, "clean_up_tokenization_spaces", 0, "eos_token",
                          "<|im_end|>", "errors", "replace", "model_max_length", 131072, "pad_token", "<|endoftext|>",
                          "split_special_tokens", 0, "tokenizer_class", "Qwen2Tokenizer", "unk_token");
    char *s = c ? json_dumps(c, JSON_INDENT(2)) : NULL;
    json_decref(c);
    return s;
}

static int write_text(const char *dir, const char *name, const char *data, size_t len, tkd_err *e) {
    tkd_buf p;
    tkd_buf_init(&p);
    int rc = tkd_buf_printf(&p, "%s/%s", dir, name);
    if (!rc)
        rc = tkd_file_write_atomic(p.data, data, len, e);
    else
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
    tkd_buf_free(&p);
    return rc;
}

int tkd_tokenizer_write(const char *out_dir, const tkd_tokenizer_spec *spec, int32_t *vocab_size, tkd_err *e) {
    tkd_tokenizer_spec none = {0};
    if (!spec)
        spec = &none;
    int rc = tkd_mkdirs(out_dir, e);
    if (rc)
        return rc;
    char *tok_json = NULL, *cfg = NULL;
    size_t tok_len = 0, cfg_len = 0;
    if (spec->source) {
        struct stat st;
        tkd_buf src, cpath;
        tkd_buf_init(&src);
        tkd_buf_init(&cpath);
        int is_dir = !stat(spec->source, &st) && S_ISDIR(st.st_mode);
        rc = tkd_buf_printf(&src, is_dir ? "%s/tokenizer.json" : "%s", spec->source);
        const char *slash = strrchr(src.data ? src.data : "", '/');
        if (!rc)
            rc = slash ? tkd_buf_printf(&cpath, "%.*s/tokenizer_config.json", (int)(slash - src.data), src.data)
                       : tkd_buf_puts(&cpath, "tokenizer_config.json");
        if (rc)
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        if (!rc)
            rc = tkd_file_read(src.data, &tok_json, &tok_len, e);
        if (!rc && !stat(cpath.data, &st))
            rc = tkd_file_read(cpath.data, &cfg, &cfg_len, e);
        tkd_buf_free(&src);
        tkd_buf_free(&cpath);
    } else {
        json_t *root = selfmade_json(spec, e);
        if (!root)
            return e ? e->code : TKD_ENOMEM;
        tok_json = json_dumps(root, JSON_INDENT(2));
        json_decref(root);
        if (!tok_json)
            return tkd_err_set(e, TKD_ENOMEM, "out of memory writing tokenizer.json");
        tok_len = strlen(tok_json);
    }
    if (!rc && !cfg) {
        if (!(cfg = default_config()))
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory writing tokenizer_config.json");
        else
            cfg_len = strlen(cfg);
    }
    tkd_tokenizer *t = NULL; /* check it loads before writing anything */
    if (!rc)
        rc = tkd_tokenizer_load_mem(tok_json, tok_len, spec->source ? spec->source : "self-made tokenizer", &t, e);
    if (!rc)
        rc = write_text(out_dir, "tokenizer.json", tok_json, tok_len, e);
    if (!rc)
        rc = write_text(out_dir, "tokenizer_config.json", cfg, cfg_len, e);
    if (!rc && vocab_size)
        *vocab_size = tkd_tokenizer_vocab_size(t);
    tkd_tokenizer_free(t);
    free(tok_json);
    free(cfg);
    return rc;
}
