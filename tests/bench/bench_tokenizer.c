/*
 * bench_tokenizer: encode speed of tkd's tokenizer on the MATH solutions.
 *   bench_tokenizer TOKENIZER.json|MODEL_DIR FILE.jsonl... [--field solution] [--passes N]
 * Loads the tokenizer once, encodes every text of the field once with a cold
 * word cache (a fresh tokenizer), then again warm (best of --passes N - 1),
 * and prints one line:
 *   tkd load_s <s> cold_s <s> warm_s <s> texts <n> tokens <n> bytes <n>
 * tests/bench/bench_tokenizer.sh runs it beside the node reference.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tkd/tokenizer.h"

int main(int argc, char **argv) {
    const char *field = "solution", *tok_path = NULL;
    int passes = 2;
    const char *files[64];
    int nf = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--field") && i + 1 < argc)
            field = argv[++i];
        else if (!strcmp(argv[i], "--passes") && i + 1 < argc)
            passes = atoi(argv[++i]) < 2 ? 2 : atoi(argv[i]);
        else if (!tok_path)
            tok_path = argv[i];
        else if (nf < 64)
            files[nf++] = argv[i];
    }
    if (!tok_path || !nf) {
        fprintf(stderr,
                "usage: bench_tokenizer TOKENIZER.json|MODEL_DIR FILE.jsonl... [--field solution] [--passes N]\n");
        return 2;
    }
    json_t *texts = json_array();
    for (int f = 0; f < nf; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!fp) {
            perror(files[f]);
            return 1;
        }
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, fp) > 0) {
            json_t *r = json_loads(line, 0, NULL);
            json_t *s = json_object_get(r, field);
            if (json_is_string(s))
                json_array_append(texts, s);
            json_decref(r);
        }
        free(line);
        fclose(fp);
    }
    tkd_err e = {0};
    tkd_tokenizer *t;
    double t0 = tkd_now();
    if (tkd_tokenizer_load(tok_path, &t, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double load = tkd_now() - t0, pass[2] = {0, 1e30};
    size_t ntok = 0, nbytes = 0;
    for (int p = 0; p < passes; p++) {
        ntok = nbytes = 0;
        t0 = tkd_now();
        for (size_t i = 0; i < json_array_size(texts); i++) {
            json_t *s = json_array_get(texts, i);
            int32_t *ids;
            size_t n;
            if (tkd_tokenizer_encode(t, json_string_value(s), json_string_length(s), 0, &ids, &n, &e)) {
                fprintf(stderr, "%s\n", e.msg);
                return 1;
            }
            ntok += n;
            nbytes += json_string_length(s);
            free(ids);
        }
        double dt = tkd_now() - t0;
        if (p == 0)
            pass[0] = dt; /* cold: the first pass */
        else if (dt < pass[1])
            pass[1] = dt; /* warm: the best of the others */
    }
    printf("tkd load_s %.4f cold_s %.4f warm_s %.4f texts %zu tokens %zu bytes %zu\n", load, pass[0], pass[1],
           json_array_size(texts), ntok, nbytes);
    tkd_tokenizer_free(t);
    json_decref(texts);
    return 0;
}
