/*
 * libFuzzer target for the tokenizer (built by tests/fuzz/CMakeLists.txt
 * when the compiler is clang). The first byte picks what the rest is:
 *   0: text for a self-made byte-level BPE (Qwen's split pattern, NFC, the
 *      Qwen2.5 added tokens): valid UTF-8 must encode, and decode back to its
 *      NFC, with offsets that never go backwards; invalid UTF-8 must be refused;
 *   1: a chat document ({"messages": [...], "tools": [...]}) to render and encode;
 *   2: a tokenizer.json to load (an error with a message, or a tokenizer).
 * Never a crash, a leak or an error without a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tkd/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tkd_tokenizer *tok; /* built once: the fuzzer's process-wide fixture */

static void setup(void) {
    char dir[] = "/tmp/tkd_fuzz_tok_XXXXXX";
    tkd_err e = {0};
    tkd_tokenizer_spec spec = {.n_merges = 300};
    if (!mkdtemp(dir) || tkd_tokenizer_write(dir, &spec, NULL, &e) || tkd_tokenizer_load(dir, &tok, &e)) {
        fprintf(stderr, "fuzz_tokenizer setup: %s\n", e.msg);
        abort();
    }
    char p[64];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    unlink(p);
    rmdir(dir);
}

static void text(const char *s, size_t n) {
    tkd_err e = {0};
    int32_t *ids;
    size_t k, *starts;
    int rc = tkd_tokenizer_encode_offsets(tok, s, n, (n & 1) ? TKD_TOK_SPLIT_SPECIAL : 0, &ids, &starts, &k, &e);
    if (!tkd_text_utf8_valid(s, n)) {
        if (rc != TKD_EINVAL || !e.msg[0])
            abort();
        return;
    }
    if (rc)
        abort();
    for (size_t i = 1; i < k; i++)
        if (starts[i] < starts[i - 1] || starts[i] > n)
            abort();
    char *back, *nfc;
    size_t blen, nlen;
    if (tkd_tokenizer_decode(tok, ids, k, 0, &back, &blen, &e) || tkd_tokenizer_nfc(s, n, &nfc, &nlen, &e))
        abort();
    if (blen != nlen || memcmp(back, nfc, blen))
        abort();
    free(back);
    free(nfc);
    free(ids);
    free(starts);
}

static void chat(const char *s) {
    tkd_err e = {0};
    char *out = NULL;
    size_t len;
    int32_t *ids;
    uint8_t *mask;
    size_t n;
    if (tkd_chat_render(s, NULL, 1, &out, &len, &e) && !e.msg[0])
        abort();
    free(out);
    tkd_err_clear(&e);
    int rc = tkd_chat_encode(tok, s, NULL, 0, &ids, &mask, &n, &e);
    if (rc && !e.msg[0])
        abort();
    if (!rc) {
        free(ids);
        free(mask);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tok)
        setup();
    if (size < 1)
        return 0;
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] % 3 == 0) {
        text(s, size - 1);
    } else if (data[0] % 3 == 1) {
        chat(s);
    } else {
        tkd_err e = {0};
        tkd_tokenizer *t = NULL;
        if (tkd_tokenizer_load_mem(s, size - 1, "fuzz.json", &t, &e) && (t || !e.msg[0]))
            abort();
        tkd_tokenizer_free(t);
    }
    free(s);
    return 0;
}
