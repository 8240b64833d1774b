/*
 * Calculus tools: differentiate (expr's derivative), compute_limit (direct
 * substitution where the expression is continuous, else the leading term
 * of its series; the direction is honoured and a two-sided limit whose
 * sides differ is reported as not existing), find_critical_points (roots of
 * the derivative) and check_continuity (value at the point equals the
 * two-sided limit).
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

static int t_differentiate(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    tkd_expr *x, *d = NULL;
    if (targ_var(args, "variable", "x", &var, e) || targ_expr(args, "expression", &x, e))
        return tkd_err_wrap(e, "differentiate");
    int rc = tkd_expr_diff(x, var, &d, e);
    tkd_expr_free(x);
    if (rc)
        return tkd_err_wrap(e, "differentiate");
    *result = tjson_ast(ta, d);
    return *result ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory");
}

/* Is x continuous at var = p (p numeric), judged by its structure and the
 * values of the dangerous subterms there? */
static int safe_at(const tkd_expr *x, const char *var, const tkd_expr *p) {
    if (x->kind == TKD_EX_FUNC) {
        int fn = x->op;
        if (fn == TKD_FN_UNDEF || fn == TKD_FN_MOD || fn == TKD_FN_FRAC || fn == TKD_FN_MIN || fn == TKD_FN_MAX ||
            fn == TKD_FN_SUM || fn == TKD_FN_PRODUCT)
            return !tkd_expr_has_sym(x, var);
        if ((fn == TKD_FN_FLOOR || fn == TKD_FN_CEILING || fn == TKD_FN_SIGN || fn == TKD_FN_LOG) && x->n >= 1 &&
            tkd_expr_has_sym(x->args[0], var)) {
            tkd_expr *v = tsubst(x->args[0], var, p);
            int ok = 0;
            ca_ctx_t ctx;
            ca_t c;
            tca_ctx_init(ctx);
            ca_init(c, ctx);
            tkd_err e = {0};
            if (v && !tkd_expr_to_ca(c, v, ctx, &e)) {
                if (fn == TKD_FN_SIGN || fn == TKD_FN_LOG)
                    ok = ca_check_is_zero(c, ctx) == T_FALSE;
                else
                    ok = ca_check_is_integer(c, ctx) == T_FALSE;
            }
            ca_clear(c, ctx);
            ca_ctx_clear(ctx);
            tkd_expr_free(v);
            if (!ok)
                return 0;
        }
    }
    if (x->kind == TKD_EX_POW &&
        !(x->args[1]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_denref(x->args[1]->q)) &&
          fmpz_sgn(fmpq_numref(x->args[1]->q)) >= 0) &&
        tkd_expr_has_sym(x->args[0], var)) {
        tkd_expr *v = tsubst(x->args[0], var, p);
        int ok = v && tnum_check(v, 0) == T_FALSE; /* the base must not vanish (branch point or pole) */
        tkd_expr_free(v);
        if (!ok)
            return 0;
    }
    for (size_t i = 0; i < x->n; i++)
        if (!safe_at(x->args[i], var, p))
            return 0;
    return 1;
}

enum { LIM_FINITE = 0, LIM_POS_INF = 1, LIM_NEG_INF = 2 };

/* One-sided (dir +1 / -1) limit by series; kind and, when finite, the value. */
static int lim_series(const tkd_expr *x, const tser_point *pt, int dir, int *kind, fmpq_t val, tkd_err *e) {
    ser s;
    int rc = tser_compute(&s, x, pt, 1, e);
    if (rc)
        return rc;
    fmpq_zero(val);
    *kind = LIM_FINITE;
    if (!fmpq_poly_is_zero(s.p)) {
        fmpq_t c;
        fmpq_init(c);
        fmpq_poly_get_coeff_fmpq(c, s.p, 0);
        if (s.v == 0) {
            fmpq_set(val, c);
        } else if (s.v < 0) {
            int sg = fmpq_sgn(c);
            if (dir < 0 && (-s.v) % 2)
                sg = -sg;
            *kind = sg > 0 ? LIM_POS_INF : LIM_NEG_INF;
        }
        fmpq_clear(c);
    }
    tser_clear(&s);
    return 0;
}

static const char *kind_name(int k) {
    return k == LIM_POS_INF ? "oo" : k == LIM_NEG_INF ? "-oo" : "finite";
}

static int sides_differ(const int kind[2], int *dne, tkd_err *e) {
    *dne = 1;
    return tkd_err_set(e, TKD_EMATH,
                       "the limit does not exist: the right-hand limit is %s and the left-hand limit is %s (give "
                       "direction \"+\" or \"-\" for a one-sided limit)",
                       kind_name(kind[0]), kind_name(kind[1]));
}

static tkd_expr *lim_expr(tlim *l) {
    if (l->kind == TLIM_FINITE) {
        tkd_expr *v = l->v;
        l->v = NULL;
        return v;
    }
    return l->kind == TLIM_POS_INF ? tkd_expr_const(TKD_C_OO) : tkd_expr_neg(tkd_expr_const(TKD_C_OO));
}

/* The limit by parts (limit.c) on one side, or on both and compared. */
static int limit_parts(const tkd_expr *x, const tser_point *pt, int first, int two, tkd_expr **out, int *dne,
                       tkd_err *e) {
    tlim l[2] = {{0, NULL}, {0, NULL}};
    int rc = tlim_side(x, pt, first, &l[0], e);
    if (!rc && two)
        rc = tlim_side(x, pt, -1, &l[1], e);
    if (!rc && two) {
        int same = l[0].kind == l[1].kind;
        if (same && l[0].kind == TLIM_FINITE) {
            same = tkd_expr_equal(l[0].v, l[1].v);
            if (!same) {
                ca_ctx_t ctx;
                ca_t a, b;
                tca_ctx_init(ctx);
                ca_init(a, ctx);
                ca_init(b, ctx);
                tkd_err e2 = {0};
                truth_t eq = T_UNKNOWN;
                if (!tkd_expr_to_ca(a, l[0].v, ctx, &e2) && !tkd_expr_to_ca(b, l[1].v, ctx, &e2))
                    eq = ca_check_equal(a, b, ctx);
                ca_clear(a, ctx);
                ca_clear(b, ctx);
                ca_ctx_clear(ctx);
                if (eq == T_UNKNOWN)
                    rc = tkd_err_set(e, TKD_EMATH,
                                     "unsupported: whether the one-sided limits are equal could not be decided");
                same = eq == T_TRUE;
            }
        }
        if (!rc && !same) {
            int kind[2] = {l[0].kind, l[1].kind};
            rc = sides_differ(kind, dne, e);
        }
    }
    if (!rc && !(*out = lim_expr(&l[0])))
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    tlim_clear(&l[0]);
    tlim_clear(&l[1]);
    return rc;
}

/* The limit as an expression; dir: "+", "-" or "+-". *dne set (and an
 * error) when the two sides differ. */
static int limit_ast(const tkd_expr *x, const char *var, const tkd_json *point, const char *dir, tkd_expr **out,
                     int *dne, tkd_err *e) {
    tser_point pt;
    *out = NULL;
    *dne = 0;
    if (tser_point_parse(point, var, &pt, e))
        return e->code;
    int rc = 0;
    if (!pt.inf) { /* continuous there: substitute */
        tkd_expr *p = pt.expr ? tkd_expr_copy(pt.expr) : tkd_expr_fmpq(pt.a);
        if (p && safe_at(x, var, p)) {
            tkd_expr *v = tsubst(x, var, p);
            ca_ctx_t ctx;
            ca_t c;
            tca_ctx_init(ctx);
            ca_init(c, ctx);
            tkd_err e2 = {0};
            if (v && !tkd_expr_to_ca(c, v, ctx, &e2) && ca_check_is_number(c, ctx) == T_TRUE)
                *out = tkd_expr_from_ca(c, ctx, &e2);
            ca_clear(c, ctx);
            ca_ctx_clear(ctx);
            tkd_expr_free(v);
        }
        tkd_expr_free(p);
        if (*out) {
            tser_point_clear(&pt);
            return 0;
        }
    }
    if (pt.expr) {
        tser_point_clear(&pt);
        return tkd_err_set(e, TKD_EMATH, "unsupported: this limit at an irrational point");
    }
    int two = !strcmp(dir, "+-") && !pt.inf;
    int first = pt.inf ? 1 : strcmp(dir, "-") ? 1 : -1;
    int kind[2] = {0, 0};
    fmpq_t v[2];
    fmpq_init(v[0]);
    fmpq_init(v[1]);
    rc = lim_series(x, &pt, first, &kind[0], v[0], e);
    if (!rc && two)
        rc = lim_series(x, &pt, -1, &kind[1], v[1], e);
    if (rc == TKD_EMATH) { /* no rational series: by parts, with exact values */
        rc = limit_parts(x, &pt, first, two, out, dne, e);
    } else if (!rc) {
        if (two && (kind[0] != kind[1] || !fmpq_equal(v[0], v[1])))
            rc = sides_differ(kind, dne, e);
        else if (kind[0] == LIM_FINITE)
            *out = tkd_expr_fmpq(v[0]);
        else
            *out = kind[0] == LIM_POS_INF ? tkd_expr_const(TKD_C_OO) : tkd_expr_neg(tkd_expr_const(TKD_C_OO));
    }
    fmpq_clear(v[0]);
    fmpq_clear(v[1]);
    tser_point_clear(&pt);
    return rc;
}

static int read_dir(const tkd_json *args, const char **dir, tkd_err *e) {
    *dir = "+-";
    const tkd_json *d = tkd_json_get(args, "direction");
    if (!d)
        return 0;
    const char *s = tkd_json_str(d);
    if (!s || (strcmp(s, "+") && strcmp(s, "-") && strcmp(s, "+-")))
        return tkd_err_set(
            e, TKD_EINVAL,
            "'direction' must be \"+\" (from the right), \"-\" (from the left) or \"+-\" (two-sided, the default)");
    *dir = s;
    return 0;
}

static int t_limit(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var, *dir;
    tkd_expr *x, *l;
    if (targ_var(args, "variable", "x", &var, e) || read_dir(args, &dir, e) || targ_expr(args, "expression", &x, e))
        return tkd_err_wrap(e, "compute_limit");
    int dne;
    int rc = limit_ast(x, var, tkd_json_get(args, "point"), dir, &l, &dne, e);
    tkd_expr_free(x);
    if (rc)
        return tkd_err_wrap(e, "compute_limit");
    *result = tjson_ast(ta, l);
    return 0;
}

static int t_critical(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    tkd_expr *x, *d = NULL;
    if (targ_var(args, "variable", "x", &var, e) || targ_expr(args, "expression", &x, e))
        return tkd_err_wrap(e, "find_critical_points");
    int rc = tkd_expr_diff(x, var, &d, e);
    tkd_expr_free(x);
    tlist l = {0};
    if (!rc && tkd_expr_has_sym(d, var))
        rc = troots(d, var, &l, 0, e);
    else if (!rc && !(d->kind == TKD_EX_NUM && fmpq_is_zero(d->q)))
        rc = 0; /* a nonzero constant derivative: no critical points */
    else if (!rc)
        rc = tkd_err_set(e, TKD_EMATH, "the derivative is 0 everywhere: every point is critical");
    if (!rc) {
        tlist_sort(&l);
        tkd_json *a = tkd_json_new(ta, TKD_JSON_ARR);
        for (size_t i = 0; i < l.n; i++)
            tkd_json_push(ta, a, tjson_ast(ta, tkd_expr_copy(l.v[i])));
        *result = a;
    }
    tlist_free(&l);
    tkd_expr_free(d);
    return rc ? tkd_err_wrap(e, "find_critical_points") : 0;
}

static int t_continuity(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    tkd_expr *x, *p = NULL;
    if (targ_var(args, "variable", "x", &var, e) || targ_expr(args, "expression", &x, e))
        return tkd_err_wrap(e, "check_continuity");
    int rc = targ_expr(args, "point", &p, e);
    if (!rc && tkd_expr_has_sym(p, NULL))
        rc = tkd_err_set(e, TKD_EINVAL, "'point' must be a number");
    const char **names = NULL;
    size_t ns = 0;
    if (!rc && !(rc = tkd_expr_free_syms(x, &names, &ns, e)))
        for (size_t i = 0; i < ns && !rc; i++)
            if (strcmp(names[i], var))
                rc = tkd_err_set(e, TKD_EINVAL, "the expression contains the symbol '%s' besides %s; give it a value",
                                 names[i], var);
    free(names);
    int cont = 0;
    if (!rc) {
        tkd_expr *v = tsubst(x, var, p);
        ca_ctx_t ctx;
        ca_t c, l;
        tca_ctx_init(ctx);
        ca_init(c, ctx);
        ca_init(l, ctx);
        tkd_err e2 = {0};
        int defined = v && !tkd_expr_to_ca(c, v, ctx, &e2) && ca_check_is_number(c, ctx) == T_TRUE;
        tkd_expr_free(v);
        if (defined) {
            tkd_expr *lim = NULL;
            int dne = 0;
            tkd_json *pj = tkd_json_get(args, "point");
            rc = limit_ast(x, var, pj, "+-", &lim, &dne, e);
            if (rc && dne)
                rc = 0; /* sides differ: not continuous */
            else if (!rc && !tkd_expr_to_ca(l, lim, ctx, &e2) && ca_check_is_number(l, ctx) == T_TRUE)
                cont = ca_check_equal(l, c, ctx) == T_TRUE;
            tkd_expr_free(lim);
        }
        ca_clear(c, ctx);
        ca_clear(l, ctx);
        ca_ctx_clear(ctx);
    }
    if (!rc)
        *result = tkd_json_string(ta, cont ? "True" : "False");
    tkd_expr_free(x);
    tkd_expr_free(p);
    return rc ? tkd_err_wrap(e, "check_continuity") : 0;
}

#define P_EXPR                                                                                                         \
    { "expression", TP_EXPR, 1, "the expression in SymPy syntax, e.g. \"x**2*sin(x)\"" }
#define P_VAR                                                                                                          \
    { "variable", TP_VAR, 0, "the variable (default \"x\")" }

const struct tkd_tool tkd_tools_calc_table[] = {
    {"differentiate",
     "calculus",
     "derivative with respect to a variable",
     "Derivative of an expression with respect to a variable (SymPy syntax: ** powers, * products, exp, log, sin, "
     "sqrt...). Example: {\"expression\": \"x**2*sin(x)\", \"variable\": \"x\"} -> \"x**2*cos(x) + 2*x*sin(x)\".",
     {P_EXPR, P_VAR},
     t_differentiate},
    {"compute_limit",
     "calculus",
     "limit at a point or at oo (direction honoured)",
     "Limit of an expression as the variable approaches a point: a number, an expression such as pi, or oo / -oo. "
     "direction: \"+\" from the right, \"-\" from the left, \"+-\" two-sided (default; an error says so when the sides "
     "differ). Example: {\"expression\": \"sin(x)/x\", \"variable\": \"x\", \"point\": 0} -> \"1\".",
     {P_EXPR,
      P_VAR,
      {"point", TP_NUMBER, 1, "the point: a number, \"pi\", \"oo\" or \"-oo\""},
      {"direction", TP_TEXT, 0, "\"+\", \"-\" or \"+-\" (default)"}},
     t_limit},
    {"find_critical_points",
     "calculus",
     "points where the derivative is zero",
     "All points where the derivative of the expression is zero (exact, complex ones included, like SymPy's "
     "solve(diff(f, x), x)). Example: {\"expression\": \"x**3 - 3*x\", \"variable\": \"x\"} -> [\"-1\", \"1\"].",
     {P_EXPR, P_VAR},
     t_critical},
    {"check_continuity",
     "calculus",
     "is the expression continuous at a point",
     "Whether the expression is continuous at the point: defined there, and equal to its two-sided limit. Answers "
     "\"True\" or \"False\". Example: {\"expression\": \"(x**2 - 1)/(x - 1)\", \"variable\": \"x\", \"point\": 1} -> "
     "\"False\".",
     {P_EXPR, P_VAR, {"point", TP_NUMBER, 1, "the point, a number"}},
     t_continuity},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
