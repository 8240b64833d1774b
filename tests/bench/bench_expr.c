/*
 * bench_expr: timings of the expression core, one line per operation:
 *   NAME MICROSECONDS_PER_OP
 * Operations: parse+print of every case in tests/expr/cases.txt, expand of
 * (x+1)**N, and the FLINT floor for the same expansion (fmpz_poly_pow), so
 * bench_expr.sh can print the ratio to SymPy and to raw FLINT.
 *   bench_expr CASES_FILE
 */
#include "tkd/expr.h"

#include <flint/fmpz_poly.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double per_op(double t0, long n) {
    return (tkd_now() - t0) * 1e6 / (double)n;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_expr CASES_FILE\n");
        return 2;
    }
    char *text;
    size_t len;
    tkd_err e = {0};
    if (tkd_file_read(argv[1], &text, &len, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    /* the EXPR column of each case line */
    char *exprs[512];
    int n = 0;
    for (char *line = strtok(text, "\n"); line && n < 512; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || !strchr(line, '|'))
            continue;
        char *s = strchr(line, '|') + 1, *end = strchr(s, '|');
        if (end)
            *end = 0;
        exprs[n++] = s;
    }
    long ops = 0, reps = 200;
    double t0 = tkd_now();
    for (long r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) {
            tkd_expr *x;
            if (tkd_expr_parse_str(exprs[i], &x, &e) == 0) {
                free(tkd_expr_to_str(x));
                tkd_expr_free(x);
            }
            ops++;
        }
    printf("parse_print %.2f %d\n", per_op(t0, ops), n);
    int degs[] = {100, 500, 1000};
    for (int k = 0; k < 3; k++) {
        char src[64];
        snprintf(src, sizeof src, "(x+1)**%d", degs[k]);
        tkd_expr *x, *y;
        tkd_expr_parse_str(src, &x, &e);
        long m = degs[k] >= 1000 ? 5 : 20;
        t0 = tkd_now();
        for (long r = 0; r < m; r++) {
            tkd_expr_expand(x, &y, &e);
            tkd_expr_free(y);
        }
        printf("expand_%d %.2f\n", degs[k], per_op(t0, m));
        tkd_expr_free(x);
        fmpz_poly_t p;
        fmpz_poly_init(p);
        t0 = tkd_now();
        for (long r = 0; r < m; r++) {
            fmpz_poly_set_str(p, "2  1 1");
            fmpz_poly_pow(p, p, (ulong)degs[k]);
        }
        printf("flint_pow_%d %.2f\n", degs[k], per_op(t0, m));
        fmpz_poly_clear(p);
    }
    free(text);
    return 0;
}
