/*
 * Grading throughput on one core over MATH-style answer pairs: the 5,000
 * MATH test golds against (a) themselves rewritten (\frac -> \dfrac, spaces,
 * \left( \right): equal, text shortcut on and off), (b) another problem's
 * gold (different), (c) themselves with one digit changed (different).
 * Prints a table of gradings/s and the ratio to the 20,000/s target.
 *   bench_grade [MATH_TEST_DIR] [SECONDS_PER_ROW]
 */
#include "tkd/grade.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_PER_S 20000.0

static char **golds;
static int n_golds;

static void load(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 7 || strcmp(de->d_name + n - 6, ".jsonl"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            json_t *r = json_loads(line, 0, NULL);
            const char *sol = json_string_value(json_object_get(r, "solution"));
            char *g = sol ? tkd_text_last_boxed(sol) : NULL;
            if (g) {
                char **ng = realloc(golds, sizeof(char *) * (size_t)(n_golds + 1));
                if (!ng)
                    abort();
                golds = ng;
                golds[n_golds++] = g;
            }
            json_decref(r);
        }
        free(line);
        fclose(f);
    }
    closedir(d);
}

static char *rewrite(const char *s) {
    tkd_buf b;
    tkd_buf_init(&b);
    for (const char *p = s; *p; p++) {
        if (!strncmp(p, "\\frac", 5) && p[5] == '{') {
            tkd_buf_puts(&b, "\\dfrac");
            p += 4;
        } else if (*p == '(') {
            tkd_buf_puts(&b, "\\left( ");
        } else if (*p == ')') {
            tkd_buf_puts(&b, " \\right)");
        } else if (*p == '+' || *p == '=') {
            tkd_buf_printf(&b, " %c ", *p);
        } else {
            tkd_buf_putc(&b, *p);
        }
    }
    return tkd_buf_steal(&b);
}

static char *perturb(const char *s) {
    char *t = strdup(s);
    if (!t)
        abort();
    for (char *p = t; *p; p++)
        if (*p >= '0' && *p <= '9') {
            *p = *p == '9' ? '1' : (char)(*p + 1);
            break;
        }
    return t;
}

typedef struct {
    const char *name;
    char **pred;
    int shortcut;
} row;

static void run_row(const row *r, double seconds) {
    tkd_grade_opts o;
    tkd_grade_opts_default(&o);
    o.no_shortcut = !r->shortcut;
    long n = 0, eq = 0, und = 0;
    double t0 = tkd_now(), t;
    do {
        for (int i = 0; i < n_golds; i++) {
            tkd_grade_verdict v;
            tkd_grade_equal(golds[i], r->pred[i], &o, &v);
            eq += v.result == TKD_GRADE_EQUAL;
            und += v.result == TKD_GRADE_UNDECIDED;
        }
        n += n_golds;
        t = tkd_now() - t0;
    } while (t < seconds);
    double rate = (double)n / t;
    printf("| %-34s | %8ld | %6.1f%% | %5ld | %10.0f | %5.2fx |\n", r->name, n, 100.0 * (double)eq / (double)n, und,
           rate, rate / TARGET_PER_S);
}

int main(int argc, char **argv) {
    const char *shared = getenv("TKD_SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/math/test", shared ? shared : "../shared");
    if (argc > 1)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    load(dir);
    if (n_golds == 0) {
        fprintf(stderr, "bench_grade: no MATH golds under %s (set TKD_SHARED)\n", dir);
        return 1;
    }
    char **rw = malloc(sizeof(char *) * (size_t)n_golds), **other = malloc(sizeof(char *) * (size_t)n_golds),
         **wrong = malloc(sizeof(char *) * (size_t)n_golds);
    if (!rw || !other || !wrong)
        abort();
    for (int i = 0; i < n_golds; i++) {
        rw[i] = rewrite(golds[i]);
        other[i] = golds[(i + 1) % n_golds];
        wrong[i] = perturb(golds[i]);
    }
    row rows[] = {
        {"gold vs rewrite (text shortcut)", rw, 1},
        {"gold vs rewrite (full parse)", rw, 0},
        {"gold vs other problem's gold", other, 1},
        {"gold vs one digit changed", wrong, 1},
    };
    printf("grading throughput, one thread, %d MATH test golds, target %.0f/s\n\n", n_golds, TARGET_PER_S);
    printf("| %-34s | %8s | %7s | %5s | %10s | %6s |\n", "pairs", "graded", "equal", "undec", "gradings/s", "target");
    printf("|%s|%s|%s|%s|%s|%s|\n", "------------------------------------", "----------", "---------", "-------",
           "------------", "--------");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        run_row(&rows[i], seconds);
    for (int i = 0; i < n_golds; i++) {
        free(rw[i]);
        free(wrong[i]);
        free(golds[i]);
    }
    free(rw);
    free(other);
    free(wrong);
    free(golds);
    return 0;
}
