/*
 * Exact numbers for the tools: an argument read as a Calcium number. The
 * conversions themselves (expression <-> ca_t, qqbar closed forms) are the
 * expression core's (tkd_expr_to_ca, tkd_expr_from_ca, tkd_expr_from_qqbar).
 */
#include "tools_int.h"

/* Parse an expression string (or a JSON number) to a ca number. */
int tnum_from_json(ca_t out, const tkd_json *v, const char *what, ca_ctx_t ctx, tkd_err *e) {
    tkd_expr *x = NULL;
    int rc = tparse_json(v, what, &x, e);
    if (!rc)
        rc = tkd_expr_to_ca(out, x, ctx, e);
    if (rc)
        tkd_err_wrap(e, "%s", what);
    tkd_expr_free(x);
    return rc;
}
