/*
 * tkd expr: the expression core from the command line, for the grader, the
 * toolkit's oracle tests and debugging:
 *   tkd expr print EXPR          parse and print back (SymPy-like text)
 *   tkd expr latex EXPR          parse and print LaTeX
 * Output goes to stdout; errors print "error: ..." on stderr, exit 1 (2 for usage).
 */
#include "cli.h"
#include "tkd/expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: tkd expr print|latex EXPR\n");
    return TKD_EXIT_USAGE;
}

int tkd_cmd_expr(int argc, char **argv) {
    if (argc < 2)
        return usage();
    const char *sub = argv[0], *src = argv[1];
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
    else {
        tkd_expr_free(x);
        return usage();
    }
    tkd_expr_free(x);
    if (rc) {
        tkd_buf_free(&b);
        tkd_err_set(&e, rc, "printing the result failed");
        return tkd_cli_fail(&e);
    }
    printf("%s\n", b.data ? b.data : "");
    tkd_buf_free(&b);
    return 0;
}
