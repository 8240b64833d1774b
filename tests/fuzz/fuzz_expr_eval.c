/*
 * libFuzzer target for the evaluation side of the expression core: every
 * input that parses goes through simplify, expand, factor, diff, numerics
 * and is_zero. Any of them may refuse (an error code with a message) but
 * none may crash, leak, abort inside FLINT/Calcium, or hang past the
 * libFuzzer -timeout.
 */
#include "tkd/expr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, tkd_expr *out, const tkd_err *e) {
    if (rc && (out || !e->msg[0]))
        abort(); /* an error must come with a message and no tree */
    if (!rc && !out)
        abort();
    tkd_expr_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 512)
        return 0; /* keep each run short: the parser target covers long inputs */
    tkd_err e = {0};
    tkd_expr *x = NULL, *y;
    if (tkd_expr_parse((const char *)data, size, 0, &x, &e))
        return 0;
    int rc;
    y = NULL, e.msg[0] = 0, rc = tkd_expr_simplify(x, &y, &e), check(rc, y, &e);
    y = NULL, e.msg[0] = 0, rc = tkd_expr_expand(x, &y, &e), check(rc, y, &e);
    y = NULL, e.msg[0] = 0, rc = tkd_expr_factor(x, &y, &e), check(rc, y, &e);
    y = NULL, e.msg[0] = 0, rc = tkd_expr_diff(x, "x", &y, &e), check(rc, y, &e);
    const char *names[] = {"x", "y"};
    acb_ptr v = _acb_vec_init(2);
    acb_set_d(v, 0.375);
    acb_set_d(v + 1, -1.5);
    acb_t r;
    acb_init(r);
    tkd_expr_eval_acb(r, x, 2, names, v, 64, &e);
    acb_clear(r);
    _acb_vec_clear(v, 2);
    tkd_expr_is_zero(x, &e);
    tkd_expr_free(x);
    return 0;
}
