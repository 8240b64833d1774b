/*
 * tkd tokenize: run the student's tokenizer from the shell.
 *   tkd tokenize MODEL_DIR|tokenizer.json < text          ids, space-separated
 *   tkd tokenize TOK --decode < ids                        text
 *   tkd tokenize TOK --jsonl < lines                       one JSON string (or {"text": ...}) per
 *                                                          line in, one JSON array of ids per line out
 *   tkd tokenize TOK --chat [--gen] [--render] < msgs.json Qwen2.5 ChatML of a message list:
 *                                                          {"ids": [...], "mask": [...]} or the text
 * --split-special treats <|im_end|> and the other special tokens as plain
 * text; --skip-special drops them when decoding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tkd/tokenizer.h"

static void usage(void) {
    tkd_cli_usage("tokenize", NULL, stderr);
}

static int read_stdin(char **out, size_t *len, tkd_err *e) {
    tkd_buf b;
    tkd_buf_init(&b);
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (tkd_buf_append(&b, chunk, k)) {
            tkd_buf_free(&b);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory reading stdin");
        }
    if (ferror(stdin) || tkd_buf_append(&b, "", 0)) {
        tkd_buf_free(&b);
        return tkd_err_set(e, TKD_EIO, "reading stdin failed");
    }
    *len = b.len;
    *out = tkd_buf_steal(&b);
    return 0;
}

static void print_ids(FILE *f, const int32_t *ids, size_t n, int json) {
    if (json)
        fputc('[', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, i ? (json ? ",%d" : " %d") : "%d", (int)ids[i]);
    fputs(json ? "]\n" : "\n", f);
}

/* ids from text: any run of digits (with an optional '-') is one id */
static int parse_ids(const char *s, int32_t **ids, size_t *n, tkd_err *e) {
    size_t cap = 64;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    while (*s) {
        if (!(*s == '-' || (*s >= '0' && *s <= '9'))) {
            s++;
            continue;
        }
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s) {
            s++;
            continue;
        }
        if (errno || v < INT32_MIN || v > INT32_MAX)
            return tkd_err_set(e, TKD_EINVAL, "decode: '%.*s' is not a token id", (int)(end - s), s);
        if (*n == cap) {
            int32_t *p = realloc(*ids, 2 * cap * sizeof *p);
            if (!p)
                return tkd_err_set(e, TKD_ENOMEM, "out of memory");
            *ids = p;
            cap *= 2;
        }
        (*ids)[(*n)++] = (int32_t)v;
        s = end;
    }
    return 0;
}

static int run_line(tkd_tokenizer *tok, const char *line, size_t len, int decode, int flags, tkd_err *e) {
    int rc = 0;
    if (decode) {
        int32_t *ids = NULL;
        size_t n;
        char *text = NULL;
        size_t tlen = 0;
        rc = parse_ids(line, &ids, &n, e);
        if (!rc)
            rc = tkd_tokenizer_decode(tok, ids, n, flags, &text, &tlen, e);
        if (!rc) {
            /* exact bytes: a prefix ending inside a character is not UTF-8 */
            json_t *s = tkd_text_utf8_valid(text, tlen) ? json_stringn(text, tlen) : NULL;
            if (!s)
                rc = tkd_err_set(e, TKD_EINVAL, "--decode --jsonl: the ids decode to bytes that are not UTF-8");
            char *out = s ? json_dumps(s, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
            if (out)
                puts(out);
            free(out);
            json_decref(s);
        }
        free(text);
        free(ids);
        return rc;
    }
    json_error_t jerr;
    json_t *v = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    json_t *s = json_is_object(v) ? json_object_get(v, "text") : v;
    if (!json_is_string(s)) {
        json_decref(v);
        return tkd_err_set(e, TKD_EINVAL, "--jsonl: each line must be a JSON string or {\"text\": string}: %s",
                           v ? "not a string" : jerr.text);
    }
    int32_t *ids;
    size_t n;
    rc = tkd_tokenizer_encode(tok, json_string_value(s), json_string_length(s), flags, &ids, &n, e);
    if (!rc) {
        print_ids(stdout, ids, n, 1);
        free(ids);
    }
    json_decref(v);
    return rc;
}

static int run_chat(tkd_tokenizer *tok, const char *in, int gen, int render, tkd_err *e) {
    int rc;
    if (render) {
        char *text;
        size_t len;
        rc = tkd_chat_render(in, NULL, gen, &text, &len, e);
        if (!rc) {
            fwrite(text, 1, len, stdout);
            free(text);
        }
        return rc;
    }
    int32_t *ids;
    uint8_t *mask;
    size_t n;
    rc = tkd_chat_encode(tok, in, NULL, gen, &ids, &mask, &n, e);
    if (rc)
        return rc;
    fputs("{\"ids\": ", stdout);
    print_ids(stdout, ids, n, 1);
    fputs(", \"mask\": [", stdout);
    for (size_t i = 0; i < n; i++)
        printf(i ? ",%d" : "%d", mask[i]);
    puts("]}");
    free(ids);
    free(mask);
    return 0;
}

int tkd_cmd_tokenize(int argc, char **argv) {
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, NULL, &o);
    if (rc)
        return rc;
    const char *path = NULL;
    int decode = 0, jsonl = 0, chat = 0, gen = 0, render = 0, flags = 0;
    for (int i = 0; i < o.n_pos; i++) {
        const char *a = o.pos[i];
        if (!strcmp(a, "--decode"))
            decode = 1;
        else if (!strcmp(a, "--jsonl"))
            jsonl = 1;
        else if (!strcmp(a, "--chat"))
            chat = 1;
        else if (!strcmp(a, "--gen"))
            gen = 1;
        else if (!strcmp(a, "--render"))
            render = 1;
        else if (!strcmp(a, "--split-special") || !strcmp(a, "--skip-special"))
            flags |= TKD_TOK_SPLIT_SPECIAL; /* same bit: TKD_TOK_SKIP_SPECIAL for decode */
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tkd tokenize: unknown option '%s'\n", a);
            usage();
            return TKD_EXIT_USAGE;
        } else if (!path)
            path = a;
        else {
            usage();
            return TKD_EXIT_USAGE;
        }
    }
    if (!path && !(chat && render)) {
        usage();
        return TKD_EXIT_USAGE;
    }
    tkd_err e = {0};
    tkd_tokenizer *tok = NULL;
    if (path && tkd_tokenizer_load(path, &tok, &e))
        return tkd_cli_fail(&e);
    char *in = NULL;
    size_t len = 0;
    rc = read_stdin(&in, &len, &e);
    if (!rc && chat) {
        rc = run_chat(tok, in, gen, render, &e);
    } else if (!rc && jsonl) {
        char *save = NULL;
        for (char *line = strtok_r(in, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save))
            rc = run_line(tok, line, strlen(line), decode, flags, &e);
    } else if (!rc && decode) {
        int32_t *ids = NULL;
        size_t n;
        char *text = NULL;
        size_t tlen;
        rc = parse_ids(in, &ids, &n, &e);
        if (!rc)
            rc = tkd_tokenizer_decode(tok, ids, n, flags, &text, &tlen, &e);
        if (!rc)
            fwrite(text, 1, tlen, stdout);
        free(text);
        free(ids);
    } else if (!rc) {
        int32_t *ids;
        size_t n;
        rc = tkd_tokenizer_encode(tok, in, len, flags, &ids, &n, &e);
        if (!rc) {
            print_ids(stdout, ids, n, 0);
            free(ids);
        }
    }
    free(in);
    tkd_tokenizer_free(tok);
    if (rc)
        return tkd_cli_fail(&e);
    return fflush(stdout) ? TKD_EXIT_FAIL : 0;
}
