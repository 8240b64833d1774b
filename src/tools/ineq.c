/*
 * Inequality tools: solve_univariate_inequality and reduce_inequalities for
 * rational functions with rational coefficients in one variable, absolute
 * values and even roots of them, solved
 * exactly as subsets of the real line (rset.c: cuts at the real roots of
 * every numerator and denominator, each piece tested exactly); a system is
 * the intersection of its relations' sets.
 */
#include <stdio.h>
#include <string.h>

#include "tools_int.h"

#define INEQ_MAX 16

/* The solution set of all the relations xs (their intersection). */
static int run(tkd_arena *ta, const tkd_expr *const *xs, int n, const char *var, int relational, tkd_json **result,
               tkd_err *e) {
    tkd_rset *s = NULL;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        tkd_rset *r = NULL, *t = NULL;
        rc = tkd_rset_solve(xs[i], var, 0, &r, e);
        if (!rc && s) {
            rc = tkd_rset_combine(s, r, 1, &t);
            if (rc)
                tkd_err_set(e, rc, "out of memory");
            tkd_rset_free(r);
            tkd_rset_free(s);
            r = t;
        }
        s = r;
    }
    if (!rc) {
        tkd_buf b;
        tkd_buf_init(&b);
        rc = tkd_rset_print(s, relational ? var : NULL, &b, e);
        if (!rc)
            *result = tkd_json_string(ta, b.data);
        tkd_buf_free(&b);
    }
    tkd_rset_free(s);
    return rc;
}

static int t_univariate(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    tkd_expr *x;
    if (targ_var(args, "variable", "x", &var, e) || targ_expr(args, "inequality", &x, e))
        return tkd_err_wrap(e, "solve_univariate_inequality");
    int rc = run(ta, (const tkd_expr *const *)&x, 1, var, 0, result, e);
    tkd_expr_free(x);
    return rc ? tkd_err_wrap(e, "solve_univariate_inequality") : 0;
}

static int t_reduce(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const tkd_json *a;
    if (targ_list(args, "inequalities", 1, INEQ_MAX, &a, e))
        return tkd_err_wrap(e, "reduce_inequalities");
    tkd_expr *xs[INEQ_MAX];
    int n = 0, rc = 0;
    char var[64] = "";
    for (size_t i = 0; i < tkd_json_size(a) && !rc; i++) {
        if ((rc = tparse_json(tkd_json_at(a, i), &xs[n], e, "inequality %zu", i + 1)))
            break;
        n++;
        const char **names;
        size_t ns;
        if ((rc = tkd_expr_free_syms(xs[n - 1], &names, &ns, e)))
            break;
        for (size_t k = 0; k < ns && !rc; k++) {
            if (!var[0])
                snprintf(var, sizeof var, "%s", names[k]);
            else if (strcmp(var, names[k]))
                rc = tkd_err_set(e, TKD_EMATH, "only systems in one variable are supported (found %s and %s)", var,
                                 names[k]);
        }
        free(names);
    }
    if (!rc && !var[0])
        rc = tkd_err_set(e, TKD_EINVAL, "the inequalities contain no variable");
    if (!rc)
        rc = run(ta, (const tkd_expr *const *)xs, n, var, 1, result, e);
    for (int i = 0; i < n; i++)
        tkd_expr_free(xs[i]);
    return rc ? tkd_err_wrap(e, "reduce_inequalities") : 0;
}

const struct tkd_tool tkd_tools_ineq_table[] = {
    {"solve_univariate_inequality",
     "equations",
     "solve one inequality in one variable (as a set)",
     "Solve an inequality in one variable over the reals, exactly, for polynomial and rational expressions, "
     "absolute values and square roots (Abs(x - 1), sqrt(x + 3)). Answers "
     "the solution set in SymPy notation: Interval(a, b) closed, Interval.open / Interval.Lopen / Interval.Ropen, "
     "Union(...), {points}, EmptySet or Reals. Example: {\"inequality\": \"x**2 - 1 > 0\", \"variable\": \"x\"} -> "
     "\"Union(Interval.open(-oo, -1), Interval.open(1, oo))\".",
     {{"inequality", TP_EXPR, 1, "one inequality with <, <=, > or >=, e.g. \"(x - 1)/(x + 2) >= 0\""},
      {"variable", TP_VAR, 0, "the variable (default \"x\")"}},
     t_univariate},
    {"reduce_inequalities",
     "equations",
     "solve a system of inequalities in one variable",
     "Solve a system of inequalities (and equations) in one variable over the reals; all must hold. Answers relations "
     "joined by & and |, like SymPy. Example: {\"inequalities\": [\"x**2 < 9\", \"x >= 1\"]} -> \"(1 <= x) & (x < "
     "3)\".",
     {{"inequalities", TP_STRINGS, 1, "list of inequalities in one variable, e.g. [\"x + 1 > 0\", \"x**2 <= 4\"]"}},
     t_reduce},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
