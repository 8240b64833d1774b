/*
 * Equation tools: solve_equation, find_roots, solve_linear_system (exact
 * Gauss-Jordan over the rational functions of the other symbols, with
 * parametric answers like SymPy's linsolve) and solve_nonlinear_system
 * (substitution, univariate roots and resultants, every numeric solution
 * checked in the original equations with Calcium).
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

static tkd_json *list_json(tkd_arena *ta, tlist *l) {
    tlist_sort(l);
    tkd_json *a = tkd_json_new(ta, TKD_JSON_ARR);
    for (size_t i = 0; a && i < l->n; i++) {
        char *s = tkd_expr_to_str(l->v[i]);
        tkd_json_push(ta, a, tkd_json_string(ta, s ? s : "?"));
        free(s);
    }
    return a;
}

static int has_exp(const tkd_expr *x) {
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_EXP)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (has_exp(x->args[i]))
            return 1;
    return 0;
}

/* troots, then SymPy's CRootOf answer for a polynomial a factor of which
 * has no closed form (x**9 = 190*x - 63*x**2 - 54), or none but sums of
 * roots of unity (1 + (13 - x)**10 = 0) */
static int roots_or_crootof(const tkd_expr *x, const char *var, tlist *l, tkd_err *e) {
    int rc = troots(x, var, l, 0, e), unity = 0;
    for (size_t i = 0; !rc && i < l->n && !unity; i++)
        unity = has_exp(l->v[i]) && !has_exp(x);
    if (unity || (rc == TKD_EMATH && (strstr(e->msg, "no radical formula") || strstr(e->msg, "no closed form")))) {
        tlist c = {0};
        tkd_err e2 = {0};
        if (troots_crootof(x, var, &c, &e2) == 0) {
            tlist_free(l);
            *l = c;
            return 0;
        }
        tlist_free(&c);
    }
    if (rc == TKD_EMATH) { /* a product: factor by factor */
        tlist c = {0};
        tkd_err e2 = {0};
        if (troots_factors(x, var, &c, &e2) == 0) {
            tlist_free(l);
            *l = c;
            return 0;
        }
        tlist_free(&c);
    }
    return rc;
}

static int t_solve_equation(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    tkd_expr *x;
    if (targ_var(args, "variable", "x", &var, e) ||
        teq_parse(tkd_json_get(args, "sympy_equation"), &x, e, "sympy_equation"))
        return tkd_err_wrap(e, "solve_equation");
    if (!tkd_expr_has_sym(x, var)) {
        tkd_expr_free(x);
        return tkd_err_set(
            e, TKD_EINVAL,
            "solve_equation: the equation does not contain the variable '%s'; pass the variable to solve for", var);
    }
    tlist l = {0};
    int rc = roots_or_crootof(x, var, &l, e);
    if (!rc)
        *result = list_json(ta, &l);
    tlist_free(&l);
    tkd_expr_free(x);
    return rc ? tkd_err_wrap(e, "solve_equation") : 0;
}

static int t_find_roots(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    tkd_expr *x;
    if (teq_parse(tkd_json_get(args, "expression"), &x, e, "expression"))
        return tkd_err_wrap(e, "find_roots");
    const char **names;
    size_t n;
    int rc = tkd_expr_free_syms(x, &names, &n, e);
    if (!rc && n != 1)
        rc = tkd_err_set(e, TKD_EINVAL,
                         "find_roots: the expression must have exactly one variable (it has %zu); use solve_equation "
                         "with 'variable' instead",
                         n);
    tlist l = {0};
    if (!rc) {
        char var[64];
        snprintf(var, sizeof var, "%s", names[0]);
        rc = roots_or_crootof(x, var, &l, e);
    }
    if (!rc)
        *result = list_json(ta, &l);
    if (names)
        free(names);
    tlist_free(&l);
    tkd_expr_free(x);
    return rc ? tkd_err_wrap(e, "find_roots") : 0;
}

/* ---- shared by the systems ---- */

static int read_vars(const tkd_json *args, const char **vars, size_t *nv, tkd_err *e) {
    const tkd_json *a;
    if (targ_list(args, "variables", 1, 16, &a, e))
        return e->code;
    *nv = tkd_json_size(a);
    for (size_t i = 0; i < *nv; i++) {
        if (tval_var(tkd_json_at(a, i), "an element of 'variables'", &vars[i], e))
            return tkd_err_set(e, TKD_EINVAL, "'variables' must be a list of names like [\"x\", \"y\"]");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(vars[i], vars[j]))
                return tkd_err_set(e, TKD_EINVAL, "'variables' lists '%s' twice", vars[i]);
    }
    return 0;
}

static int read_eqs(const tkd_json *args, const char *key, tkd_expr **eqs, size_t *ne, tkd_err *e) {
    const tkd_json *a;
    if (targ_list(args, key, 1, 16, &a, e))
        return e->code;
    *ne = 0;
    for (size_t i = 0; i < tkd_json_size(a); i++) {
        tkd_expr *x;
        if (teq_parse(tkd_json_at(a, i), &x, e, "equation %zu", i + 1)) {
            for (size_t j = 0; j < *ne; j++)
                tkd_expr_free(eqs[j]);
            return e->code;
        }
        eqs[(*ne)++] = x;
    }
    return 0;
}

static void free_eqs(tkd_expr **eqs, size_t n) {
    for (size_t i = 0; i < n; i++)
        tkd_expr_free(eqs[i]);
}

static tkd_json *tuple_json(tkd_arena *ta, tkd_expr **vals, size_t n) {
    tkd_expr *c[16];
    for (size_t i = 0; i < n; i++)
        c[i] = tkd_expr_copy(vals[i]);
    tkd_expr *t = tkd_expr_seq(TKD_EX_TUPLE, n, c);
    char *s = t ? tkd_expr_to_str(t) : NULL;
    tkd_expr_free(t);
    tkd_json *j = tkd_json_string(ta, s ? s : "?");
    free(s);
    return j;
}

/* ---- linear systems ---- */

/* Is q zero? Also as a number when it holds only constants (sqrt(3)*sqrt(13) - sqrt(39)
 * is a nonzero polynomial in its generators): 1 yes, 0 no, negative undecided (e set). */
static int t_solve_linear(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *vars[16];
    size_t nv, ne;
    tkd_expr *eqs[16], *prep[16] = {0};
    if (read_vars(args, vars, &nv, e) || read_eqs(args, "equations", eqs, &ne, e))
        return tkd_err_wrap(e, "solve_linear_system");
    int rc = 0;
    for (size_t i = 0; i < ne && !rc; i++)
        if (!(prep[i] = trat_prep(eqs[i], e)))
            rc = e->code;
    tkd_rf t;
    if (!rc)
        rc = tkd_rf_init(&t, (const tkd_expr *const *)prep, ne, vars, nv, e);
    if (rc) {
        free_eqs(eqs, ne);
        free_eqs(prep, ne);
        return tkd_err_wrap(e, "solve_linear_system");
    }
    slong vi[16];
    for (size_t j = 0; j < nv; j++) {
        vi[j] = tkd_rf_var(&t, vars[j]);
        if (tkd_rf_var_in_atoms(&t, vars[j]))
            rc = tkd_err_set(e, TKD_EMATH, "the system is not linear: %s appears inside a function, root or power",
                             vars[j]);
    }
    size_t cols = nv + 1;
    fmpz_mpoly_q_struct *A = flint_malloc(sizeof *A * ne * cols);
    for (size_t k = 0; k < ne * cols; k++)
        fmpz_mpoly_q_init(A + k, t.ctx);
    fmpz_mpoly_q_t r;
    fmpz_mpoly_q_init(r, t.ctx);
    ulong *ex = flint_calloc(nv, sizeof(ulong));
    for (size_t i = 0; i < ne && !rc; i++) {
        if ((rc = tkd_rf_conv(&t, r, prep[i], e)))
            break;
        const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r);
        for (size_t j = 0; j < nv && !rc; j++)
            if (fmpz_mpoly_degree_si(fmpz_mpoly_q_denref(r), vi[j], t.ctx) > 0)
                rc = tkd_err_set(e, TKD_EMATH, "the system is not linear: %s appears in a denominator of equation %zu",
                                 vars[j], i + 1);
        ulong *te = flint_malloc(sizeof(ulong) * t.n);
        for (slong k = 0; !rc && k < fmpz_mpoly_length(N, t.ctx); k++) { /* total degree in the unknowns <= 1 */
            fmpz_mpoly_get_term_exp_ui(te, N, k, t.ctx);
            ulong s = 0;
            for (size_t j = 0; j < nv; j++)
                s += te[vi[j]];
            if (s > 1)
                rc = tkd_err_set(e, TKD_EMATH,
                                 "equation %zu is not linear in the variables; use solve_nonlinear_system", i + 1);
        }
        flint_free(te);
        for (size_t j = 0; j <= nv && !rc; j++) { /* coefficient of x_j (j = nv: the constant, moved right) */
            for (size_t k = 0; k < nv; k++)
                ex[k] = k == j;
            fmpz_mpoly_q_struct *c = A + i * cols + j;
            fmpz_mpoly_get_coeff_vars_ui(fmpz_mpoly_q_numref(c), N, vi, ex, (slong)nv, t.ctx);
            fmpz_mpoly_set(fmpz_mpoly_q_denref(c), fmpz_mpoly_q_denref(r), t.ctx);
            fmpz_mpoly_q_canonicalise(c, t.ctx);
            if (j == nv)
                fmpz_mpoly_q_neg(c, c, t.ctx);
        }
    }
    /* Gauss-Jordan */
    size_t prow = 0;
    int pivcol[16];
    for (size_t j = 0; j < nv && !rc; j++) {
        pivcol[j] = -1;
        size_t p = prow;
        while (p < ne && !rc && (rc = trat_is_zero(&t, A + p * cols + j, e)) == 1)
            rc = 0, p++;
        if (rc < 0)
            break;
        rc = 0;
        if (p == ne)
            continue;
        for (size_t k = 0; k < cols; k++)
            fmpz_mpoly_q_swap(A + p * cols + k, A + prow * cols + k, t.ctx);
        fmpz_mpoly_q_t inv;
        fmpz_mpoly_q_init(inv, t.ctx);
        fmpz_mpoly_q_inv(inv, A + prow * cols + j, t.ctx);
        for (size_t k = 0; k < cols; k++) {
            fmpz_mpoly_q_mul(A + prow * cols + k, A + prow * cols + k, inv, t.ctx);
            tkd_rf_reduce(&t, A + prow * cols + k);
        }
        for (size_t i = 0; i < ne; i++) {
            if (i == prow || fmpz_mpoly_q_is_zero(A + i * cols + j, t.ctx))
                continue;
            fmpz_mpoly_q_set(inv, A + i * cols + j, t.ctx);
            for (size_t k = 0; k < cols; k++) {
                fmpz_mpoly_q_mul(r, inv, A + prow * cols + k, t.ctx);
                fmpz_mpoly_q_sub(A + i * cols + k, A + i * cols + k, r, t.ctx);
                tkd_rf_reduce(&t, A + i * cols + k);
            }
        }
        fmpz_mpoly_q_clear(inv, t.ctx);
        pivcol[j] = (int)prow++;
    }
    if (!rc) {
        int consistent = 1;
        for (size_t i = prow; i < ne && !rc; i++) {
            int z = trat_is_zero(&t, A + i * cols + nv, e);
            if (z < 0)
                rc = z;
            else if (!z)
                consistent = 0;
        }
        tkd_json *out = tkd_json_new(ta, TKD_JSON_ARR);
        if (consistent && !rc) {
            tkd_expr *vals[16];
            for (size_t j = 0; j < nv; j++) {
                if (pivcol[j] < 0) {
                    vals[j] = tkd_expr_sym(vars[j]);
                    continue;
                }
                size_t i = (size_t)pivcol[j];
                fmpz_mpoly_q_set(r, A + i * cols + nv, t.ctx);
                for (size_t k = 0; k < nv; k++) {
                    if (pivcol[k] >= 0 || fmpz_mpoly_q_is_zero(A + i * cols + k, t.ctx))
                        continue;
                    fmpz_mpoly_q_t g;
                    fmpz_mpoly_q_init(g, t.ctx);
                    fmpz_mpoly_gen(fmpz_mpoly_q_numref(g), vi[k], t.ctx);
                    fmpz_mpoly_one(fmpz_mpoly_q_denref(g), t.ctx);
                    fmpz_mpoly_q_mul(g, g, A + i * cols + k, t.ctx);
                    fmpz_mpoly_q_sub(r, r, g, t.ctx);
                    fmpz_mpoly_q_clear(g, t.ctx);
                }
                vals[j] = tkd_rf_to_expr(&t, r);
            }
            tkd_json_push(ta, out, tuple_json(ta, vals, nv));
            free_eqs(vals, nv);
        }
        *result = out;
    }
    for (size_t k = 0; k < ne * cols; k++)
        fmpz_mpoly_q_clear(A + k, t.ctx);
    flint_free(A);
    flint_free(ex);
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    free_eqs(eqs, ne);
    free_eqs(prep, ne);
    return rc ? tkd_err_wrap(e, "solve_linear_system") : 0;
}

/* ---- nonlinear systems (nlsys.c) ---- */

static int t_solve_nonlinear(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *vars[16];
    size_t nv, ne;
    tkd_expr *eqs[16];
    if (read_vars(args, vars, &nv, e) || read_eqs(args, "sympy_equations", eqs, &ne, e))
        return tkd_err_wrap(e, "solve_nonlinear_system");
    int rc = tnl_solve(ta, vars, nv, eqs, ne, result, e);
    free_eqs(eqs, ne);
    return rc ? tkd_err_wrap(e, "solve_nonlinear_system") : 0;
}

#define EQ_DESC "an equation in SymPy syntax: \"x**2 - 4 = 0\", \"Eq(x**2, 4)\" or an expression meaning = 0"

const struct tkd_tool tkd_tools_solve_table[] = {
    {"solve_equation",
     "equations",
     "solve one equation for a variable (exact roots)",
     "Solve one equation for a variable exactly, like SymPy's solve (complex solutions included): polynomial and "
     "rational equations (roots with radicals, quartics too; numeric coefficients such as sqrt(3) or I; CRootOf "
     "where no formula exists), symbolic coefficients up to degree 2, radical equations (sqrt, x**(1/3), x**(p/q), "
     "nested; roots that squaring adds are dropped by an exact check), absolute values (the variable taken real), "
     "logarithms (log(x, b) too), exponentials (3*2**x = 2*3**x -> [1]; 2**x + 2*x = 15 with LambertW), and sin, "
     "cos, tan, cot of the variable (SymPy's principal solutions: sin(x) = 1/2 -> [pi/6, 5*pi/6]). Write \"lhs = "
     "rhs\" or Eq(lhs, rhs); an expression alone means = 0. An equation outside these answers an error saying "
     "\"unsupported\". Example: {\"sympy_equation\": \"sqrt(x + 3) = x - 3\", \"variable\": \"x\"} -> [\"6\"].",
     {{"sympy_equation", TP_EXPR, 1, EQ_DESC}, {"variable", TP_VAR, 0, "the variable to solve for (default \"x\")"}},
     t_solve_equation},
    {"find_roots",
     "equations",
     "roots of an expression in its one variable",
     "All roots (complex included) of an expression or equation with exactly one variable. Example: {\"expression\": "
     "\"x**3 - x\"} -> [\"-1\", \"0\", \"1\"].",
     {{"expression", TP_EXPR, 1, "an expression in one variable (= 0), or an equation"}},
     t_find_roots},
    {"solve_linear_system",
     "equations",
     "solve linear equations (unique or parametric solution)",
     "Solve a system of linear equations exactly, like SymPy's linsolve. Answers a list with one tuple of values in "
     "the order of 'variables' (free variables stay as themselves when there are infinitely many solutions), or [] "
     "when there is none. Example: {\"equations\": [\"x + y = 5\", \"x - y = 1\"], \"variables\": [\"x\", \"y\"]} -> "
     "[\"(3, 2)\"].",
     {{"equations", TP_STRINGS, 1, "list of linear equations, e.g. [\"2*x + y = 3\", \"x - y = 0\"]"},
      {"variables", TP_STRINGS, 1, "list of unknowns, e.g. [\"x\", \"y\"]"}},
     t_solve_linear},
    {"solve_nonlinear_system",
     "equations",
     "solve polynomial systems exactly",
     "Solve a system of polynomial (or rational) equations exactly, like SymPy's nonlinsolve: a list of solution "
     "tuples in the order of 'variables' (complex solutions included), [] when there is none. With infinitely many "
     "solutions a tuple is a family: an unknown left free stands for itself ({\"sympy_equations\": [\"x*y = 6\"], "
     "\"variables\": [\"x\", \"y\"]} -> [\"(6/y, y)\"]); other symbols are parameters with generic values. "
     "Example: {\"sympy_equations\": [\"x*y = 6\", \"x + y = 5\"], \"variables\": [\"x\", \"y\"]} -> "
     "[\"(2, 3)\", \"(3, 2)\"]. A system outside this answers an error saying \"unsupported\".",
     {{"sympy_equations", TP_STRINGS, 1, "list of equations, e.g. [\"x**2 + y**2 = 25\", \"x - y = 1\"]"},
      {"variables", TP_STRINGS, 1, "list of unknowns, e.g. [\"x\", \"y\"]"}},
     t_solve_nonlinear},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
