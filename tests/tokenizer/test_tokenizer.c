/* tokenizer: a self-made byte-level BPE written and read back (round trips,
 * added and special tokens, offsets, long inputs), errors that name the file
 * and the key for malformed tokenizer.json files, NFC against the Unicode
 * conformance file NormalizationTest.txt (Debian's unicode-data), Python-style
 * tojson, and the chat format with its loss mask. The comparison with the
 * real Qwen tokenizer is test_reference.py; the chat template one test_chat.py. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tkd/model.h"
#include "tkd/tokenizer.h"
#include "tkd_test.h"

static char dir[256];

static char *path_in(const char *name) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static int roundtrip(tkd_tokenizer *t, const char *s, size_t n) {
    int32_t *ids;
    size_t k;
    char *back;
    size_t blen;
    tkd_err e = {0};
    if (tkd_tokenizer_encode(t, s, n, 0, &ids, &k, &e))
        return 0;
    int ok = !tkd_tokenizer_decode(t, ids, k, 0, &back, &blen, &e) && blen == n && !memcmp(back, s, n);
    free(ids);
    free(back);
    return ok;
}

static int has_id(const int32_t *ids, size_t n, int32_t id) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

TEST(selfmade) {
    tkd_err e = {0};
    tkd_tokenizer_spec spec = {.n_merges = 200};
    int32_t vs = 0;
    CHECK_INT(tkd_tokenizer_write(dir, &spec, &vs, &e), 0);
    CHECK(vs > 256 + 22 + 50 && vs <= 256 + 200 + 22);
    tkd_tokenizer *t = NULL;
    CHECK_INT(tkd_tokenizer_load(dir, &t, &e), 0);
    if (!t)
        return;
    CHECK_INT(tkd_tokenizer_vocab_size(t), vs);
    int32_t im_end = tkd_tokenizer_token_id(t, "<|im_end|>"), tc = tkd_tokenizer_token_id(t, "<tool_call>");
    CHECK_INT(im_end, vs - 22 + 2);
    CHECK(tkd_tokenizer_is_special(t, im_end));
    CHECK(tc >= 0 && !tkd_tokenizer_is_special(t, tc));
    CHECK_INT(tkd_tokenizer_token_id(t, "no such token"), -1);
    const char *cases[] = {"",
                           "a",
                           "Hello, world! It's 2026.",
                           "  lots   of\n\n spaces \t\r\n",
                           "ünïcödé 数学 😀👍🏽",
                           "<|im_start|>user\nx<|im_end|>\n<tool_call>{}</tool_call>",
                           "\\frac{1}{2} = 0.5\n"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(roundtrip(t, cases[i], strlen(cases[i])));
    /* merges were learned: math text needs fewer tokens than bytes */
    const char *m = "The sum of the solutions is $\\boxed{5}$ and the area of the triangle is 30.";
    int32_t *ids;
    size_t n;
    CHECK_INT(tkd_tokenizer_encode(t, m, strlen(m), 0, &ids, &n, &e), 0);
    CHECK(n < strlen(m) / 2);
    free(ids);
    /* special tokens: parsed by default, plain text with SPLIT_SPECIAL; <tool_call> is not special */
    const char *s = "a<|im_end|>b<tool_call>c";
    CHECK_INT(tkd_tokenizer_encode(t, s, strlen(s), 0, &ids, &n, &e), 0);
    CHECK(has_id(ids, n, im_end) && has_id(ids, n, tc));
    char *text;
    size_t len;
    CHECK_INT(tkd_tokenizer_decode(t, ids, n, TKD_TOK_SKIP_SPECIAL, &text, &len, &e), 0);
    CHECK_STR(text, "ab<tool_call>c");
    free(text);
    free(ids);
    CHECK_INT(tkd_tokenizer_encode(t, s, strlen(s), TKD_TOK_SPLIT_SPECIAL, &ids, &n, &e), 0);
    CHECK(!has_id(ids, n, im_end) && has_id(ids, n, tc));
    CHECK_INT(tkd_tokenizer_decode(t, ids, n, 0, &text, &len, &e), 0);
    CHECK_STR(text, s);
    free(text);
    free(ids);
    /* offsets: each token starts where its bytes are */
    size_t *starts;
    const char *o = "ab <|im_end|> cd\n\nef";
    CHECK_INT(tkd_tokenizer_encode_offsets(t, o, strlen(o), 0, &ids, &starts, &n, &e), 0);
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        size_t bl;
        const char *b = tkd_tokenizer_token_bytes(t, ids[i], &bl);
        ok &= b && starts[i] + bl <= strlen(o) && !memcmp(o + starts[i], b, bl);
    }
    CHECK(ok);
    free(ids);
    free(starts);
    /* bad input */
    CHECK_INT(tkd_tokenizer_encode(t, "a\xff", 2, 0, &ids, &n, &e), TKD_EINVAL);
    int32_t bad[2] = {1, vs + 5};
    CHECK_INT(tkd_tokenizer_decode(t, bad, 2, 0, &text, &len, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "not in the vocabulary") != NULL);
    bad[1] = -1;
    CHECK_INT(tkd_tokenizer_decode(t, bad, 2, 0, &text, &len, &e), TKD_EINVAL);
    tkd_tokenizer_free(t);

    /* tokenizer_config.json carries Qwen2.5's template, the same text test_chat.py renders */
    json_t *cfg = json_load_file(path_in("tokenizer_config.json"), 0, NULL);
    char *jinja = NULL;
    size_t jlen;
    CHECK_INT(tkd_file_read("qwen25_chat_template.jinja", &jinja, &jlen, &e), 0);
    CHECK(cfg && jinja && !strcmp(json_string_value(json_object_get(cfg, "chat_template")), jinja));
    CHECK_STR(json_string_value(json_object_get(cfg, "eos_token")), "<|im_end|>");
    json_decref(cfg);
    free(jinja);

    /* copy mode: the same bytes in another folder */
    char dir2[300];
    snprintf(dir2, sizeof dir2, "%s/copy", dir);
    spec = (tkd_tokenizer_spec){.source = dir};
    int32_t vs2 = 0;
    CHECK_INT(tkd_tokenizer_write(dir2, &spec, &vs2, &e), 0);
    CHECK_INT(vs2, vs);
    char *a = NULL, *b = NULL, p2[400];
    size_t la = 0, lb = 1;
    snprintf(p2, sizeof p2, "%s/tokenizer.json", dir2);
    tkd_file_read(path_in("tokenizer.json"), &a, &la, &e);
    tkd_file_read(p2, &b, &lb, &e);
    CHECK(a && b && la == lb && !memcmp(a, b, la));
    free(a);
    free(b);
}

TEST(long_inputs) {
    tkd_err e = {0};
    tkd_tokenizer *t = NULL;
    CHECK_INT(tkd_tokenizer_load(dir, &t, &e), 0);
    if (!t)
        return;
    size_t n = 200000;
    char *s = malloc(n + 1);
    const char *fills[] = {" ", "a", "\n", "ab ", "1", "-", "e\xcc\x81"};
    for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        size_t fl = strlen(fills[f]), k = 0;
        while (k + fl <= n) {
            memcpy(s + k, fills[f], fl);
            k += fl;
        }
        if (fills[f][0] == 'e') { /* NFC composes e + U+0301: decode gives é */
            int32_t *ids;
            size_t m;
            CHECK_INT(tkd_tokenizer_encode(t, s, k, 0, &ids, &m, &e), 0);
            free(ids);
        } else {
            CHECK(roundtrip(t, s, k));
        }
    }
    free(s);
    tkd_tokenizer_free(t);
}

/* Load a variant of the self-made tokenizer.json changed by fn; return the error. */
static int load_variant(void (*fn)(json_t *), tkd_err *e) {
    json_t *root = json_load_file(path_in("tokenizer.json"), 0, NULL);
    if (!root)
        return 999;
    fn(root);
    json_dump_file(root, path_in("bad.json"), 0);
    json_decref(root);
    tkd_tokenizer *t = NULL;
    int rc = tkd_tokenizer_load(path_in("bad.json"), &t, e);
    tkd_tokenizer_free(t);
    return rc;
}

static void no_model(json_t *r) {
    json_object_del(r, "model");
}
static void wordpiece(json_t *r) {
    json_object_set_new(json_object_get(r, "model"), "type", json_string("WordPiece"));
}
static void bad_merge(json_t *r) {
    json_array_set_new(json_object_get(json_object_get(r, "model"), "merges"), 0, json_string("zzzq qqqz"));
}
static void merge_shape(json_t *r) {
    json_array_set_new(json_object_get(json_object_get(r, "model"), "merges"), 3, json_integer(7));
}
static void array_merges(json_t *r) { /* the ["a", "b"] form loads like "a b" */
    json_t *ms = json_object_get(json_object_get(r, "model"), "merges");
    for (size_t i = 0; i < json_array_size(ms); i++) {
        const char *m = json_string_value(json_array_get(ms, i));
        const char *sp = strchr(m, ' ');
        json_array_set_new(ms, i, json_pack("[s#,s]", m, (int)(sp - m), sp + 1));
    }
}
static void no_byte(json_t *r) {
    json_object_del(json_object_get(json_object_get(r, "model"), "vocab"), "A");
}
static void nfkc(json_t *r) {
    json_object_set_new(r, "normalizer", json_pack("{s:s}", "type", "NFKC"));
}
static void bad_regex(json_t *r) {
    json_t *split = json_array_get(json_object_get(json_object_get(r, "pre_tokenizer"), "pretokenizers"), 0);
    json_object_set_new(split, "pattern", json_pack("{s:s}", "Regex", "(unclosed"));
}
static void bad_added(json_t *r) {
    json_object_del(json_array_get(json_object_get(r, "added_tokens"), 0), "content");
}
static void bad_id(json_t *r) {
    json_object_set_new(json_object_get(json_object_get(r, "model"), "vocab"), "A", json_string("x"));
}

TEST(errors) {
    tkd_err e = {0};
    struct {
        void (*fn)(json_t *);
        int code;
        const char *key;
    } cases[] = {
        {no_model, TKD_EFORMAT, "model: missing"},
        {wordpiece, TKD_EFORMAT, "model.type: 'WordPiece'"},
        {bad_merge, TKD_EFORMAT, "model.merges[0]: 'zzzq' is not in model.vocab"},
        {merge_shape, TKD_EFORMAT, "model.merges[3]"},
        {array_merges, 0, NULL},
        {no_byte, TKD_EFORMAT, "no token for byte 0x41"},
        {nfkc, TKD_EFORMAT, "normalizer.type: normalizer 'NFKC'"},
        {bad_regex, TKD_EFORMAT, "pre_tokenizer.pretokenizers[0].pattern: the regex does not compile"},
        {bad_added, TKD_EFORMAT, "added_tokens[0]"},
        {bad_id, TKD_EFORMAT, "model.vocab['A']"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tkd_err_clear(&e);
        int rc = load_variant(cases[i].fn, &e);
        CHECK_INT(rc, cases[i].code);
        if (cases[i].key) {
            CHECK(strstr(e.msg, "bad.json") != NULL);
            CHECK(strstr(e.msg, cases[i].key) != NULL);
            if (!strstr(e.msg, cases[i].key))
                fprintf(stderr, "  message was: %s\n", e.msg);
        }
    }
    tkd_tokenizer *t = NULL;
    FILE *f = fopen(path_in("bad.json"), "w");
    fputs("{\"model\": [1, 2", f);
    fclose(f);
    CHECK_INT(tkd_tokenizer_load(path_in("bad.json"), &t, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "not valid JSON") != NULL);
    CHECK(tkd_tokenizer_load(path_in("nope.json"), &t, &e) != 0);
    CHECK(strstr(e.msg, "nope.json") != NULL);
    CHECK(t == NULL);
}

/* NormalizationTest.txt: for each line c1..c5, NFC(c1) == NFC(c2) == NFC(c3) == c2 and NFC(c4) == NFC(c5) == c4 */
static int parse_col(const char *s, tkd_buf *out) {
    tkd_buf_reset(out);
    while (*s && *s != ';') {
        char *end;
        unsigned long c = strtoul(s, &end, 16);
        if (end == s)
            break;
        char u[4];
        size_t n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (n == 1)
            u[0] = (char)c;
        else if (n == 2) {
            u[0] = (char)(0xC0 | (c >> 6));
            u[1] = (char)(0x80 | (c & 0x3F));
        } else if (n == 3) {
            u[0] = (char)(0xE0 | (c >> 12));
            u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
            u[2] = (char)(0x80 | (c & 0x3F));
        } else {
            u[0] = (char)(0xF0 | (c >> 18));
            u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
            u[3] = (char)(0x80 | (c & 0x3F));
        }
        tkd_buf_append(out, u, n);
        s = end;
        while (*s == ' ')
            s++;
    }
    return 0;
}

static int nfc_is(const tkd_buf *in, const tkd_buf *want) {
    char *out;
    size_t n;
    tkd_err e = {0};
    if (tkd_tokenizer_nfc(in->data ? in->data : "", in->len, &out, &n, &e))
        return 0;
    int ok = n == want->len && !memcmp(out, want->data ? want->data : "", n);
    free(out);
    return ok;
}

TEST(nfc) {
    const char *pairs[][2] = {{"e\xcc\x81", "\xc3\xa9"},                    /* e + acute -> é */
                              {"\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80"}, /* jamo -> 가 */
                              {"\xe2\x84\xab", "\xc3\x85"},                 /* Angstrom sign -> Å */
                              {"abc", "abc"}};
    for (size_t i = 0; i < 4; i++) {
        char *out;
        CHECK_INT(tkd_tokenizer_nfc(pairs[i][0], strlen(pairs[i][0]), &out, NULL, NULL), 0);
        CHECK_STR(out, pairs[i][1]);
        free(out);
    }
    FILE *f = access("/usr/share/unicode/NormalizationTest.txt.bz2", R_OK)
                  ? NULL
                  : popen("bzcat /usr/share/unicode/NormalizationTest.txt.bz2", "r");
    if (!f) {
        printf("skip: NormalizationTest.txt.bz2 not found (Debian package unicode-data)\n");
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    long lines = 0, bad = 0;
    tkd_buf c[5];
    for (int i = 0; i < 5; i++)
        tkd_buf_init(&c[i]);
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '#' || line[0] == '@' || line[0] == '\n')
            continue;
        const char *p = line;
        for (int i = 0; i < 5; i++) {
            parse_col(p, &c[i]);
            p = strchr(p, ';');
            p = p ? p + 1 : "";
        }
        int ok = nfc_is(&c[0], &c[1]) && nfc_is(&c[1], &c[1]) && nfc_is(&c[2], &c[1]) && nfc_is(&c[3], &c[3]) &&
                 nfc_is(&c[4], &c[3]);
        if (!ok && bad++ < 5)
            fprintf(stderr, "NFC mismatch: %s", line);
        lines++;
    }
    free(line);
    pclose(f);
    for (int i = 0; i < 5; i++)
        tkd_buf_free(&c[i]);
    printf("NormalizationTest.txt: %ld lines, %ld mismatches\n", lines, bad);
    CHECK(lines > 15000);
    CHECK_INT(bad, 0);
}

TEST(tojson) {
    const char *in = "[1.0, 0.1, 1e16, 1.5e-5, 123456789.125, -0.0, 1e22, 3, 0.0001, 1e-4, 2.5e15, true, null, "
                     "\"a\\\"b\\\\c\\n\\u0001\\u00e9/\", {\"k\": [], \"z\": {}}]";
    json_t *v = json_loads(in, 0, NULL);
    tkd_buf b;
    tkd_buf_init(&b);
    CHECK(v && !tkd_chat_tojson(v, &b));
    CHECK_STR(b.data, "[1.0, 0.1, 1e+16, 1.5e-05, 123456789.125, -0.0, 1e+22, 3, 0.0001, 0.0001, 2500000000000000.0, "
                      "true, null, \"a\\\"b\\\\c\\n\\u0001\xc3\xa9/\", {\"k\": [], \"z\": {}}]");
    tkd_buf_free(&b);
    json_decref(v);
}

TEST(chat) {
    tkd_err e = {0};
    const char *msgs = "[{\"role\": \"user\", \"content\": \"What is 2+2?\"},"
                       " {\"role\": \"assistant\", \"content\": \"4\"}]";
    char *text;
    size_t len;
    CHECK_INT(tkd_chat_render(msgs, NULL, 1, &text, &len, &e), 0);
    CHECK_STR(text, "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                    "assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
                    "4<|im_end|>\n<|im_start|>assistant\n");
    free(text);
    tkd_tokenizer *t = NULL;
    CHECK_INT(tkd_tokenizer_load(dir, &t, &e), 0);
    if (!t)
        return;
    int32_t *ids;
    uint8_t *mask;
    size_t n;
    const char *tc = "{\"messages\": [{\"role\": \"user\", \"content\": \"Add 2 and 3\"},"
                     " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"type\": \"function\","
                     " \"function\": {\"name\": \"add\", \"arguments\": \"{\\\"a\\\": 2, \\\"b\\\": 3}\"}}]},"
                     " {\"role\": \"tool\", \"content\": \"5\"}, {\"role\": \"assistant\", \"content\": \"It is 5.\"}],"
                     " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"add\"}}]}";
    CHECK_INT(tkd_chat_encode(t, tc, NULL, 0, &ids, &mask, &n, &e), 0);
    /* the masked tokens are exactly the two assistant turns */
    tkd_buf got;
    tkd_buf_init(&got);
    for (size_t i = 0; i < n; i++) {
        if (!mask[i])
            continue;
        size_t bl;
        const char *b = tkd_tokenizer_token_bytes(t, ids[i], &bl);
        tkd_buf_append(&got, b, bl);
        if (i + 1 == n || !mask[i + 1])
            tkd_buf_putc(&got, '|');
    }
    CHECK_STR(got.data, "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call><|im_end|>|"
                        "It is 5.<|im_end|>|");
    tkd_buf_free(&got);
    free(ids);
    free(mask);
    /* the trainer's SFT reader with tkd_chat_sft_encode gives the same tokens and mask */
    FILE *f = fopen(path_in("sft.jsonl"), "w");
    fprintf(f, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, "
               "{\"role\": \"assistant\", \"content\": \"Hello there\"}]}\n{\"input_ids\": [1, 2, 3]}\n");
    fclose(f);
    const char *pair = "[{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": "
                       "\"Hello there\"}]";
    CHECK_INT(tkd_chat_encode(t, pair, NULL, 0, &ids, &mask, &n, &e), 0);
    tkd_sft_example *ex = NULL;
    int nex = 0;
    CHECK_INT(tkd_sft_load(path_in("sft.jsonl"), tkd_chat_sft_encode, t, &ex, &nex, &e), 0);
    CHECK_INT(nex, 2);
    if (nex == 2) {
        int same = ex[0].n == (int)n;
        for (size_t i = 0; same && i < n; i++)
            same = ex[0].ids[i] == ids[i] && ex[0].mask[i] == mask[i];
        CHECK(same);
        CHECK_INT(ex[1].n, 3);
    }
    tkd_sft_free(ex, nex);
    free(ids);
    free(mask);
    CHECK_INT(tkd_chat_encode(t, "[{\"role\": \"wizard\", \"content\": \"x\"}]", NULL, 0, &ids, &mask, &n, &e),
              TKD_EINVAL);
    CHECK(strstr(e.msg, "messages[0].role: 'wizard'") != NULL);
    CHECK_INT(tkd_chat_encode(t, "[{\"role\": ", NULL, 0, &ids, &mask, &n, &e), TKD_EINVAL);
    tkd_tokenizer_free(t);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/tkd_tok_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(selfmade);
    RUN(long_inputs);
    RUN(errors);
    RUN(nfc);
    RUN(tojson);
    RUN(chat);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd))
        fprintf(stderr, "could not remove %s\n", dir);
    return TEST_END();
}
