/*
 * libFuzzer target for the expression parser: any bytes must give either a
 * tree or a clean error (never a crash, leak or hang). Parsed trees are also
 * printed (plain and LaTeX), copied, compared and hashed, and the plain text
 * must parse again: the printer emits only what the parser reads.
 */
#include "tkd/expr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tkd_err e = {0};
    tkd_expr *x = NULL;
    unsigned flags = size && (data[0] & 1) ? TKD_EXPR_PARSE_EQ_REL : 0;
    int rc = tkd_expr_parse((const char *)data, size, flags, &x, &e);
    if (rc) {
        if (x || !e.msg[0])
            abort(); /* an error must come with a message and no tree */
        return 0;
    }
    char *s = tkd_expr_to_str(x), *t = tkd_expr_to_latex(x);
    tkd_expr *y = tkd_expr_copy(x);
    if (!s || !t || !y || !tkd_expr_equal(x, y) || tkd_expr_hash(x) != tkd_expr_hash(y))
        abort();
    tkd_expr *z = NULL;
    /* the printed text parses again (it may hit a limit: printing can grow it) */
    rc = tkd_expr_parse(s, strlen(s), TKD_EXPR_PARSE_EQ_REL, &z, &e);
    if (rc && rc != TKD_ELIMIT)
        abort();
    tkd_expr_free(z);
    free(s);
    free(t);
    tkd_expr_free(y);
    tkd_expr_free(x);
    return 0;
}
