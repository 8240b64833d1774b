/*
 * tkd grade / tkd extract: answer equivalence and extraction from the shell.
 *   tkd grade GOLD PRED                     prints equal|different, exit 0|1
 *   tkd grade --jsonl IN [--out OUT]        one verdict per line
 *   tkd extract [--mode MODE] < response    prints the extracted answer
 * Options: --timeout-ms N (budget per comparison), --extract MODE (for
 * "response" lines), -v (reason on stderr for the single-pair form).
 */
#include "cli.h"
#include "tkd/grade.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_ms(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v <= 0 || v > 3.6e6)
        return -1;
    *out = v / 1000.0;
    return 0;
}

static int grade_jsonl(const char *in, const char *outp, tkd_grade_mode mode, const tkd_grade_opts *go) {
    FILE *f = !strcmp(in, "-") ? stdin : fopen(in, "r");
    if (!f) {
        fprintf(stderr, "tkd: error: cannot open %s: %s\n", in, strerror(errno));
        return TKD_EXIT_FAIL;
    }
    FILE *o = outp ? fopen(outp, "w") : stdout;
    if (!o) {
        fprintf(stderr, "tkd: error: cannot write %s: %s\n", outp, strerror(errno));
        if (f != stdin)
            fclose(f);
        return TKD_EXIT_FAIL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, n_eq = 0, n_total = 0, n_bad = 0;
    int rc = TKD_EXIT_OK;
    while ((n = getline(&line, &cap, f)) >= 0) {
        if (++lineno == 1)
            n = (ssize_t)tkd_text_strip_bom(line, (size_t)n);
        if (n == 0 || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        json_error_t je;
        json_t *r = json_loads(line, 0, &je);
        const char *gold = r ? json_string_value(json_object_get(r, "gold")) : NULL;
        const char *pred = r ? json_string_value(json_object_get(r, "pred")) : NULL;
        const char *resp = r ? json_string_value(json_object_get(r, "response")) : NULL;
        if (!r || !gold || (!pred && !resp)) {
            fprintf(stderr, "tkd: %s:%ld: %s; skipped\n", in, lineno,
                    r ? "needs string keys \"gold\" and \"pred\" (or \"response\")" : je.text);
            json_decref(r);
            n_bad++;
            continue;
        }
        char *extracted = NULL;
        tkd_grade_verdict v;
        json_t *res = json_object();
        if (!pred) {
            tkd_err e = {0};
            if (tkd_grade_extract(resp, mode, &extracted, &e) == 0)
                pred = extracted;
        }
        if (pred) {
            tkd_grade_equal(gold, pred, go, &v);
        } else {
            v.result = TKD_GRADE_DIFFERENT;
            snprintf(v.reason, sizeof v.reason, "no answer extracted (%s)", tkd_grade_mode_name(mode));
        }
        json_t *id = json_object_get(r, "id");
        if (res && id)
            json_object_set(res, "id", id);
        if (res) {
            json_object_set_new(res, "equal", json_boolean(v.result == TKD_GRADE_EQUAL));
            json_object_set_new(res, "pred", pred ? json_string(pred) : json_null());
            json_object_set_new(res, "reason", json_string(v.reason));
            if (v.result == TKD_GRADE_UNDECIDED)
                json_object_set_new(res, "undecided", json_true());
        }
        char *txt = res ? json_dumps(res, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (!txt || fprintf(o, "%s\n", txt) < 0) {
            fprintf(stderr, "tkd: error: cannot write a verdict (out of memory or disk full)\n");
            rc = TKD_EXIT_FAIL;
        }
        free(txt);
        json_decref(res);
        free(extracted);
        json_decref(r);
        n_total++;
        n_eq += v.result == TKD_GRADE_EQUAL;
        if (rc)
            break;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (o != stdout && fclose(o)) {
        fprintf(stderr, "tkd: error: writing %s failed\n", outp);
        rc = TKD_EXIT_FAIL;
    }
    fprintf(stderr, "tkd grade: %ld equal of %ld graded (%.1f%%), %ld bad lines\n", n_eq, n_total,
            n_total ? 100.0 * (double)n_eq / (double)n_total : 0.0, n_bad);
    return rc;
}

int tkd_cmd_grade(int argc, char **argv) {
    const char *in = NULL, *outp = NULL, *pos[2];
    int npos = 0, show_reason = 0;
    tkd_grade_opts go;
    tkd_grade_opts_default(&go);
    tkd_grade_mode mode = TKD_GRADE_AUTO;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            tkd_cli_usage("grade", NULL, stdout);
            return TKD_EXIT_OK;
        } else if (!strcmp(a, "--jsonl") && has_val) {
            in = argv[++i];
        } else if (!strcmp(a, "--out") && has_val) {
            outp = argv[++i];
        } else if (!strcmp(a, "--timeout-ms") && has_val) {
            if (parse_ms(argv[++i], &go.timeout_s)) {
                fprintf(stderr, "tkd: --timeout-ms needs a positive number of milliseconds\n");
                return TKD_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--extract") && has_val) {
            tkd_err e = {0};
            if (tkd_grade_mode_parse(argv[++i], &mode, &e)) {
                fprintf(stderr, "tkd: %s\n", e.msg);
                return TKD_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--reason") || !strcmp(a, "-v")) {
            show_reason = 1;
        } else if (!strcmp(a, "--")) {
            for (i++; i < argc && npos < 3; i++, npos++)
                if (npos < 2)
                    pos[npos] = argv[i];
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "tkd: unknown or incomplete option '%s'\n", a);
            tkd_cli_usage("grade", NULL, stderr);
            return TKD_EXIT_USAGE;
        } else {
            if (npos < 2)
                pos[npos] = a;
            npos++;
        }
    }
    if (in) {
        if (npos) {
            fprintf(stderr, "tkd: --jsonl takes no GOLD PRED arguments\n");
            tkd_cli_usage("grade", NULL, stderr);
            return TKD_EXIT_USAGE;
        }
        return grade_jsonl(in, outp, mode, &go);
    }
    if (npos != 2) {
        tkd_cli_usage("grade", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    tkd_grade_verdict v;
    if (tkd_grade_equal(pos[0], pos[1], &go, &v)) {
        fprintf(stderr, "tkd: error: out of memory\n");
        return TKD_EXIT_FAIL;
    }
    printf("%s\n", v.result == TKD_GRADE_EQUAL ? "equal" : "different");
    if (show_reason)
        fprintf(stderr, "%s\n", v.reason);
    return v.result == TKD_GRADE_EQUAL ? TKD_EXIT_OK : TKD_EXIT_FAIL;
}

int tkd_cmd_extract(int argc, char **argv) {
    tkd_grade_mode mode = TKD_GRADE_AUTO;
    for (int i = 0; i < argc; i++) {
        tkd_err e = {0};
        if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
            if (tkd_grade_mode_parse(argv[++i], &mode, &e)) {
                fprintf(stderr, "tkd: %s\n", e.msg);
                return TKD_EXIT_USAGE;
            }
        } else {
            tkd_cli_usage("extract", NULL, stderr);
            return TKD_EXIT_USAGE;
        }
    }
    tkd_buf b;
    tkd_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (tkd_buf_append(&b, chunk, n)) {
            tkd_buf_free(&b);
            fprintf(stderr, "tkd: error: out of memory reading stdin\n");
            return TKD_EXIT_FAIL;
        }
    char *out = NULL;
    tkd_err e = {0};
    int rc = tkd_grade_extract(b.data ? b.data : "", mode, &out, &e);
    tkd_buf_free(&b);
    if (rc) {
        fprintf(stderr, "tkd: %s\n", e.msg);
        return TKD_EXIT_FAIL;
    }
    printf("%s\n", out);
    free(out);
    return TKD_EXIT_OK;
}
