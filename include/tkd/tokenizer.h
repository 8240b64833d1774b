/*
 * model/tokenizer: the student's tokenizer and chat format.
 *
 * A tkd_tokenizer is read from a Hugging Face tokenizer.json holding a
 * byte-level BPE (Qwen2/Qwen2.5/Qwen3, GPT-2 style): NFC normalizer, Split
 * pre-tokenizer regexes (PCRE2, Unicode properties, read from the file),
 * ByteLevel byte mapping, merges by rank, added tokens matched before
 * splitting. It gives the ids Hugging Face tokenizers gives; tests compare it
 * with the reference implementation on real data.
 *
 * The chat format is Qwen2.5's ChatML, written in C (no template engine):
 * the default system prompt, the tools block, assistant <tool_call> blocks,
 * tool results grouped into a user turn as <tool_response> blocks. For
 * training, tkd_chat_encode() also returns the loss mask: 1 for the tokens of
 * assistant turns (their content, tool calls and closing <|im_end|>), 0 for
 * everything else.
 *
 * A tkd_tokenizer caches the BPE of recent words, so encoding mutates it: use
 * one tokenizer per thread (loading takes ~0.5 s for Qwen's 151k tokens).
 */
#ifndef TKD_TOKENIZER_H
#define TKD_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tkd/core.h"

typedef struct tkd_tokenizer tkd_tokenizer;

/* encode flags */
enum {
    /* special added tokens in the text are plain text (HF's split_special_tokens):
     * use for untrusted text that may contain "<|im_end|>" */
    TKD_TOK_SPLIT_SPECIAL = 1
};
/* decode flags */
enum {
    TKD_TOK_SKIP_SPECIAL = 1 /* drop special added tokens (<|im_end|>, ...) */
};

/* Load path: a tokenizer.json, or a model folder holding one. Errors name the
 * file and the key (e.g. "tok.json: model.merges[17]: 'xy' is not in model.vocab"). */
int tkd_tokenizer_load(const char *path, tkd_tokenizer **tok, tkd_err *e);
/* The same from memory; name is used in error messages. */
int tkd_tokenizer_load_mem(const char *json, size_t len, const char *name, tkd_tokenizer **tok, tkd_err *e);
void tkd_tokenizer_free(tkd_tokenizer *tok);

/* Encode len bytes of UTF-8 text (not NUL-terminated necessarily) into a
 * malloc'd array *ids of *n ids (free() it; never NULL on success). No BOS/EOS
 * is added (Qwen adds none). Invalid UTF-8 is refused (TKD_EINVAL). */
int tkd_tokenizer_encode(tkd_tokenizer *tok, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
                         tkd_err *e);
/* Same, with the byte offset in text where each token starts (*starts is
 * malloc'd too). Offsets are exact where normalization left the text as it
 * was (always for NFC text); inside a piece NFC changed, tokens get the start
 * of that piece. */
int tkd_tokenizer_encode_offsets(tkd_tokenizer *tok, const char *text, size_t len, int flags, int32_t **ids,
                                 size_t **starts, size_t *n, tkd_err *e);
/* Decode ids into malloc'd bytes *text (NUL-terminated, *len bytes without the
 * NUL). The bytes are exact: a prefix of ids that ends inside a multi-byte
 * character gives invalid UTF-8 (HF would show U+FFFD). Unknown ids: TKD_EINVAL. */
int tkd_tokenizer_decode(const tkd_tokenizer *tok, const int32_t *ids, size_t n, int flags, char **text, size_t *len,
                         tkd_err *e);

/* The id of the token whose text is exactly s (added tokens such as
 * "<|im_end|>" included), or -1. */
int32_t tkd_tokenizer_token_id(const tkd_tokenizer *tok, const char *s);
/* The raw bytes of token id (not NUL-terminated) and their count, or NULL. */
const char *tkd_tokenizer_token_bytes(const tkd_tokenizer *tok, int32_t id, size_t *len);
/* 1 if id is a special added token (<|endoftext|>, <|im_start|>, <|im_end|>, ...). */
int tkd_tokenizer_is_special(const tkd_tokenizer *tok, int32_t id);
/* Largest id + 1 (model.vocab and added_tokens). A model's embedding may be larger. */
int32_t tkd_tokenizer_vocab_size(const tkd_tokenizer *tok);
/* The file it was loaded from. */
const char *tkd_tokenizer_path(const tkd_tokenizer *tok);

/* NFC of UTF-8 text into a malloc'd string (*out_len may be NULL). */
int tkd_tokenizer_nfc(const char *s, size_t n, char **out, size_t *out_len, tkd_err *e);

/* ---- writing a tokenizer into a model folder (tkd model init) ---- */
typedef struct tkd_tokenizer_spec {
    /* a tokenizer.json (or a folder holding one) to copy, with the
     * tokenizer_config.json beside it when there is one; NULL: self-made */
    const char *source;
    /* self-made: a byte-level BPE with the 256 byte tokens, n_merges merges
     * learned from train_text (NULL: a built-in sample of math text) and the
     * 22 added tokens of Qwen2.5 (<|endoftext|>, <|im_start|>, <|im_end|>, ...,
     * <tool_call>, </tool_call>, ...) after them; Qwen's split pattern and NFC. */
    int n_merges;
    const char *train_text;
    size_t train_len;
} tkd_tokenizer_spec;

/* Write out_dir/tokenizer.json and out_dir/tokenizer_config.json (eos
 * <|im_end|>, pad <|endoftext|>, Qwen2.5's chat_template) and load it back to
 * check it; *vocab_size (may be NULL) receives its vocab size. */
int tkd_tokenizer_write(const char *out_dir, const tkd_tokenizer_spec *spec, int32_t *vocab_size, tkd_err *e);
/* Qwen2.5's chat template (Jinja text) as written into tokenizer_config.json. */
extern const char tkd_chat_qwen25_template[];

/* ---- chat format (Qwen2.5 ChatML) ---- */
/*
 * messages: a JSON array of OpenAI-style messages
 *   {"role": "system"|"user"|"assistant"|"tool", "content": "...",
 *    "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {...}}}]}
 * or an object {"messages": [...], "tools": [...]}. tools: a JSON array of
 * tool schemas, or NULL. Arguments given as a JSON string are parsed (as vLLM
 * does) and written as an object. A content of null counts as "".
 */
int tkd_chat_render(const char *messages_json, const char *tools_json, int add_generation_prompt, char **text,
                    size_t *len, tkd_err *e);
int tkd_chat_render_json(const json_t *messages, const json_t *tools, int add_generation_prompt, char **text,
                         size_t *len, tkd_err *e);
/* Render and encode; *mask (malloc'd, may be NULL to skip) holds 1 for the
 * tokens of assistant turns. */
int tkd_chat_encode(tkd_tokenizer *tok, const char *messages_json, const char *tools_json, int add_generation_prompt,
                    int32_t **ids, uint8_t **mask, size_t *n, tkd_err *e);
int tkd_chat_encode_json(tkd_tokenizer *tok, const json_t *messages, const json_t *tools, int add_generation_prompt,
                         int32_t **ids, uint8_t **mask, size_t *n, tkd_err *e);
/* A tkd_sft_encode_fn (model.h) for tkd_sft_load: ctx is a tkd_tokenizer;
 * messages as above (an array, or an object with "messages" and "tools");
 * out gets ids and the assistant-token mask. */
struct tkd_sft_example;
int tkd_chat_sft_encode(void *ctx, const json_t *messages, struct tkd_sft_example *out, tkd_err *e);
/* Python's json.dumps(value, ensure_ascii=False) of a JSON value appended to
 * out (the "tojson" of Hugging Face chat templates). */
int tkd_chat_tojson(const json_t *value, tkd_buf *out);

#endif
