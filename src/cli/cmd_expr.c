/*
 * tkd expr: the expression core from the command line, for the grader, the
 * toolkit's oracle tests and debugging:
 *   tkd expr print EXPR          parse and print back (SymPy-like text)
 *   tkd expr latex EXPR          parse and print LaTeX
 *   tkd expr eval EXPR           exact value of a constant (Calcium), closed form
 *   tkd expr n EXPR [DIGITS]     numeric value (Arb), default 15 digits
 *   tkd expr expand|cancel|factor|simplify EXPR
 *   tkd expr diff EXPR VAR       derivative
 *   tkd expr coeffs EXPR VAR     coefficients, constant term first
 *   tkd expr subs EXPR VAR VALUE substitute
 *   tkd expr from-latex FILE|-   the grader's LaTeX reader in batch: one LaTeX
 *                                text per line in, its SymPy text (or
 *                                "error: ...") per line out
 * Output goes to stdout; errors print "error: ..." on stderr, exit 1 (2 for usage).
 */
#include "cli.h"
#include "tkd/expr.h"
#include "tkd/grade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    tkd_cli_usage("expr", NULL, stderr);
    return TKD_EXIT_USAGE;
}

static int eval_exact(tkd_buf *b, const tkd_expr *x, tkd_err *e) {
    ca_ctx_t ctx;
    ca_t v;
    ca_ctx_init(ctx);
    ca_init(v, ctx);
    int rc = tkd_expr_to_ca(v, x, ctx, e);
    if (!rc) {
        tkd_expr *r = tkd_expr_from_ca(v, ctx, e);
        rc = r ? tkd_expr_print(b, r) : e->code;
        tkd_expr_free(r);
    }
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
    return rc;
}

static int eval_numeric(tkd_buf *b, const tkd_expr *x, int digits, tkd_err *e) {
    if (digits < 1 || digits > 10000)
        return tkd_err_set(e, TKD_EUSAGE, "DIGITS must be 1..10000");
    acb_t v;
    acb_init(v);
    slong prec = (slong)(digits * 3.33) + 30;
    int rc = tkd_expr_eval_acb(v, x, 0, NULL, NULL, prec, e);
    if (!rc) {
        char *re = arb_get_str(acb_realref(v), digits, ARB_STR_NO_RADIUS);
        rc = tkd_buf_puts(b, re);
        flint_free(re);
        if (!rc && !arb_contains_zero(acb_imagref(v))) {
            char *im = arb_get_str(acb_imagref(v), digits, ARB_STR_NO_RADIUS);
            rc = tkd_buf_printf(b, " + (%s)*I", im);
            flint_free(im);
        }
    }
    acb_clear(v);
    return rc;
}

static int transform(tkd_buf *b, const char *sub, const tkd_expr *x, int argc, char **argv, tkd_err *e) {
    tkd_expr *r = NULL;
    int rc;
    if (!strcmp(sub, "expand"))
        rc = tkd_expr_expand(x, &r, e);
    else if (!strcmp(sub, "cancel"))
        rc = tkd_expr_cancel(x, &r, e);
    else if (!strcmp(sub, "factor"))
        rc = tkd_expr_factor(x, &r, e);
    else if (!strcmp(sub, "simplify"))
        rc = tkd_expr_simplify(x, &r, e);
    else if (!strcmp(sub, "diff"))
        rc = tkd_expr_diff(x, argc > 2 ? argv[2] : "x", &r, e);
    else {
        if (argc < 4)
            return tkd_err_set(e, TKD_EUSAGE, "usage: tkd expr subs EXPR VAR VALUE");
        tkd_expr *v;
        if ((rc = tkd_expr_parse_str(argv[3], &v, e)))
            return rc;
        rc = tkd_expr_subs(x, argv[2], v, &r, e);
        tkd_expr_free(v);
    }
    if (!rc)
        rc = tkd_expr_print(b, r);
    tkd_expr_free(r);
    return rc;
}

static int coeffs(tkd_buf *b, const tkd_expr *x, const char *var, tkd_err *e) {
    tkd_expr **c;
    slong d;
    int rc = tkd_expr_poly_coeffs(x, var, &c, &d, e);
    if (rc)
        return rc;
    tkd_expr *l = tkd_expr_seq(TKD_EX_LIST, (size_t)d + 1, c);
    free(c);
    rc = l ? tkd_expr_print(b, l) : TKD_ENOMEM;
    tkd_expr_free(l);
    return rc;
}

static int roots(tkd_buf *b, const tkd_expr *x, const char *var, tkd_err *e) {
    tkd_expr **r;
    size_t n;
    int rc = tkd_expr_poly_roots(x, var, 0, &r, NULL, &n, e);
    if (rc)
        return rc;
    tkd_expr *l = tkd_expr_seq(TKD_EX_LIST, n, r);
    free(r);
    rc = l ? tkd_expr_print(b, l) : TKD_ENOMEM;
    tkd_expr_free(l);
    return rc;
}

/* One LaTeX text per line -> one SymPy-syntax line (or "error: ...") per line,
 * in one process: the toolkit coverage corpus converts thousands of formulas. */
static int from_latex(const char *path) {
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "tkd: error: cannot open %s\n", path);
        return TKD_EXIT_FAIL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    tkd_buf b;
    tkd_buf_init(&b);
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        tkd_err e = {0};
        tkd_expr *x = NULL;
        tkd_buf_reset(&b);
        int rc = tkd_grade_parse_latex_expr(line, &x, &e);
        if (!rc)
            rc = tkd_expr_print(&b, x);
        tkd_expr_free(x);
        if (rc)
            printf("error: %s\n", e.msg[0] ? e.msg : "cannot print");
        else
            printf("%.*s\n", (int)b.len, b.data ? b.data : "");
    }
    tkd_buf_free(&b);
    free(line);
    if (f != stdin)
        fclose(f);
    return 0;
}

int tkd_cmd_expr(int argc, char **argv) {
    if (argc < 2)
        return usage();
    const char *sub = argv[0], *src = argv[1];
    if (!strcmp(sub, "from-latex"))
        return argc == 2 ? from_latex(src) : usage();
    tkd_err e = {0};
    tkd_expr *x = NULL;
    int rc = tkd_expr_parse_str(src, &x, &e);
    if (rc)
        return tkd_cli_fail(&e);
    tkd_buf b;
    tkd_buf_init(&b);
    if (!strcmp(sub, "print"))
        rc = tkd_expr_print(&b, x);
    else if (!strcmp(sub, "latex"))
        rc = tkd_expr_latex(&b, x);
    else if (!strcmp(sub, "eval"))
        rc = eval_exact(&b, x, &e);
    else if (!strcmp(sub, "expand") || !strcmp(sub, "cancel") || !strcmp(sub, "factor") || !strcmp(sub, "simplify") ||
             !strcmp(sub, "diff") || !strcmp(sub, "subs"))
        rc = transform(&b, sub, x, argc, argv, &e);
    else if (!strcmp(sub, "iszero")) {
        rc = tkd_expr_is_zero(x, &e);
        if (rc >= 0)
            rc = tkd_buf_puts(&b, rc == TKD_EXPR_YES ? "yes" : rc == TKD_EXPR_NO ? "no" : "unknown");
    } else if (!strcmp(sub, "roots"))
        rc = roots(&b, x, argc > 2 ? argv[2] : "x", &e);
    else if (!strcmp(sub, "coeffs"))
        rc = coeffs(&b, x, argc > 2 ? argv[2] : "x", &e);
    else if (!strcmp(sub, "n"))
        rc = eval_numeric(&b, x, argc > 2 ? atoi(argv[2]) : 15, &e);
    else {
        tkd_expr_free(x);
        return usage();
    }
    tkd_expr_free(x);
    if (rc) {
        tkd_buf_free(&b);
        if (!e.msg[0])
            tkd_err_set(&e, rc, "printing the result failed");
        return tkd_cli_fail(&e);
    }
    printf("%s\n", b.data ? b.data : "");
    tkd_buf_free(&b);
    return 0;
}
