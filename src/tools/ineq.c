/*
 * Inequality tools: solve_univariate_inequality and reduce_inequalities for
 * rational functions with rational coefficients in one variable. The real
 * line is cut at every real root of every numerator and denominator (exact
 * algebraic numbers, qqbar); each open piece is tested at a rational point
 * between its ends and each cut point exactly, so the answer is exact. The
 * pieces that hold are merged into intervals.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <arb.h>
#include <flint/fmpz_poly.h>

#define INEQ_MAX 16
#define CUTS_MAX 512

typedef struct rel {
    int op; /* tkd_expr_rel_op */
    fmpz_poly_t num, den;
} rel;

typedef struct line {
    qqbar_struct cut[CUTS_MAX];
    int n;
    int in[2 * CUTS_MAX + 1]; /* region 2i: open piece before cut i; 2i+1: the cut */
} line;

static int load_rel(const tkd_expr *x, const char *var, rel *r, tkd_err *e) {
    if (x->kind != TKD_EX_REL)
        return tkd_err_set(e, TKD_EINVAL,
                           "expected an inequality such as \"x**2 - 4 > 0\", got an expression without <, <=, >, >=");
    r->op = x->op;
    tkd_expr *d = tkd_expr_sub(tkd_expr_copy(x->args[0]), tkd_expr_copy(x->args[1]));
    tkd_rf t;
    fmpz_mpoly_q_t q;
    int rc = d ? trat_from_ast(&t, d, &var, 1, &q, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    tkd_expr_free(d);
    if (rc)
        return rc;
    slong v = tkd_rf_var(&t, var);
    if (!fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_numref(q), v, t.ctx) ||
        !fmpz_mpoly_is_fmpz_poly(fmpz_mpoly_q_denref(q), v, t.ctx))
        rc = tkd_err_set(e, TKD_EMATH,
                         "only inequalities between rational functions of %s with rational coefficients are supported "
                         "(no other symbols, roots of %s, or functions such as Abs, sin, log)",
                         var, var);
    if (!rc) {
        fmpz_poly_init(r->num);
        fmpz_poly_init(r->den);
        fmpz_mpoly_get_fmpz_poly(r->num, fmpz_mpoly_q_numref(q), v, t.ctx);
        fmpz_mpoly_get_fmpz_poly(r->den, fmpz_mpoly_q_denref(q), v, t.ctx);
        if (fmpz_poly_degree(r->num) > 200 || fmpz_poly_degree(r->den) > 200) {
            fmpz_poly_clear(r->num);
            fmpz_poly_clear(r->den);
            rc = tkd_err_set(e, TKD_ELIMIT, "the inequality has degree above 200");
        }
    }
    fmpz_mpoly_q_clear(q, t.ctx);
    tkd_rf_clear(&t);
    return rc;
}

static int add_cuts(line *L, const fmpz_poly_t p, tkd_err *e) {
    slong d = fmpz_poly_degree(p);
    if (d <= 0)
        return 0;
    qqbar_ptr r = _qqbar_vec_init(d);
    qqbar_roots_fmpz_poly(r, p, 0);
    int rc = 0;
    for (slong i = 0; i < d && !rc; i++) {
        if (!qqbar_is_real(r + i))
            continue;
        int dup = 0;
        for (int k = 0; k < L->n && !dup; k++)
            dup = qqbar_equal(L->cut + k, r + i);
        if (dup)
            continue;
        if (L->n == CUTS_MAX) {
            rc = tkd_err_set(e, TKD_ELIMIT, "too many real roots");
            break;
        }
        qqbar_init(L->cut + L->n);
        qqbar_set(L->cut + L->n++, r + i);
    }
    _qqbar_vec_clear(r, d);
    return rc;
}

static int cmp_q(const void *a, const void *b) {
    return qqbar_cmp_re((const qqbar_struct *)a, (const qqbar_struct *)b);
}

/* A rational strictly between a < b. */
static void between(fmpq_t out, const qqbar_t a, const qqbar_t b) {
    arb_t ra, rb;
    arf_t u, l;
    arb_init(ra);
    arb_init(rb);
    arf_init(u);
    arf_init(l);
    for (slong prec = 64;; prec *= 2) {
        qqbar_get_arb(ra, a, prec);
        qqbar_get_arb(rb, b, prec);
        arb_get_ubound_arf(u, ra, prec);
        arb_get_lbound_arf(l, rb, prec);
        if (arf_cmp(u, l) < 0 || prec > 100000) {
            arf_add(u, u, l, ARF_PREC_EXACT, ARF_RND_DOWN);
            arf_mul_2exp_si(u, u, -1);
            arf_get_fmpq(out, u);
            break;
        }
    }
    arb_clear(ra);
    arb_clear(rb);
    arf_clear(u);
    arf_clear(l);
}

/* Does r hold at the rational point q? (den(q) != 0 is known) */
static int holds_q(const rel *r, const fmpq_t q) {
    fmpq_t a, b;
    fmpq_init(a);
    fmpq_init(b);
    fmpz_poly_evaluate_fmpq(a, r->num, q);
    fmpz_poly_evaluate_fmpq(b, r->den, q);
    int s = fmpq_sgn(a) * fmpq_sgn(b);
    fmpq_clear(a);
    fmpq_clear(b);
    switch (r->op) {
    case TKD_R_LT: return s < 0;
    case TKD_R_LE: return s <= 0;
    case TKD_R_GT: return s > 0;
    case TKD_R_GE: return s >= 0;
    case TKD_R_EQ: return s == 0;
    default: return s != 0;
    }
}

static int poly_zero_at(const fmpz_poly_t p, const qqbar_t x) {
    qqbar_t v;
    qqbar_init(v);
    qqbar_evaluate_fmpz_poly(v, p, x);
    int z = qqbar_is_zero(v);
    qqbar_clear(v);
    return z;
}

static int holds_cut(const rel *r, const qqbar_t x) {
    if (poly_zero_at(r->den, x))
        return 0;
    int zero = poly_zero_at(r->num, x);
    if (zero)
        return r->op == TKD_R_LE || r->op == TKD_R_GE || r->op == TKD_R_EQ;
    /* nonzero at a cut of another relation: sign via a nearby rational is
     * not safe, so evaluate the sign exactly */
    qqbar_t a, b;
    qqbar_init(a);
    qqbar_init(b);
    qqbar_evaluate_fmpz_poly(a, r->num, x);
    qqbar_evaluate_fmpz_poly(b, r->den, x);
    int s = qqbar_sgn_re(a) * qqbar_sgn_re(b);
    qqbar_clear(a);
    qqbar_clear(b);
    switch (r->op) {
    case TKD_R_LT: return s < 0;
    case TKD_R_LE: return s <= 0;
    case TKD_R_GT: return s > 0;
    case TKD_R_GE: return s >= 0;
    case TKD_R_EQ: return 0;
    default: return 1;
    }
}

static int solve_set(rel *rs, int nr, line *L, tkd_err *e) {
    L->n = 0;
    int rc = 0;
    for (int i = 0; i < nr && !rc; i++) {
        rc = add_cuts(L, rs[i].num, e);
        if (!rc)
            rc = add_cuts(L, rs[i].den, e);
    }
    if (rc)
        return rc;
    qsort(L->cut, (size_t)L->n, sizeof L->cut[0], cmp_q);
    fmpq_t q;
    fmpq_init(q);
    fmpz_t z;
    fmpz_init(z);
    for (int k = 0; k <= L->n; k++) { /* open piece before cut k */
        if (L->n == 0) {
            fmpq_zero(q);
        } else if (k == 0) {
            qqbar_floor(z, L->cut + 0);
            fmpz_sub_ui(z, z, 1);
            fmpq_set_fmpz_frac(q, z, (fmpz_t){1});
        } else if (k == L->n) {
            qqbar_ceil(z, L->cut + L->n - 1);
            fmpz_add_ui(z, z, 1);
            fmpq_set_fmpz_frac(q, z, (fmpz_t){1});
        } else {
            between(q, L->cut + k - 1, L->cut + k);
        }
        int in = 1;
        for (int i = 0; i < nr; i++)
            in &= holds_q(rs + i, q);
        L->in[2 * k] = in;
        if (k < L->n) {
            in = 1;
            for (int i = 0; i < nr; i++)
                in &= holds_cut(rs + i, L->cut + k);
            L->in[2 * k + 1] = in;
        }
    }
    fmpq_clear(q);
    fmpz_clear(z);
    return 0;
}

static void line_clear(line *L) {
    for (int k = 0; k < L->n; k++)
        qqbar_clear(L->cut + k);
}

/* Pieces [a, b] of consecutive "in" regions. */
typedef struct piece {
    int lo, hi; /* region indices */
} piece;

static int pieces(const line *L, piece *p) {
    int n = 0, R = 2 * L->n + 1;
    for (int i = 0; i < R;) {
        if (!L->in[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < R && L->in[j + 1])
            j++;
        p[n++] = (piece){i, j};
        i = j + 1;
    }
    return n;
}

static int endpoint(tkd_buf *b, const line *L, int region, int left, tkd_err *e) {
    /* left end of region: cut (region-1)/2 for an open piece, the cut itself for a point */
    int k = region % 2 ? region / 2 : (left ? region / 2 - 1 : region / 2);
    if (k < 0)
        return tkd_buf_puts(b, "-oo");
    if (k >= L->n)
        return tkd_buf_puts(b, "oo");
    tkd_expr *x = tkd_expr_from_qqbar(L->cut + k, e);
    char *s = x ? tkd_expr_to_str(x) : NULL;
    tkd_expr_free(x);
    if (!s)
        return e->code ? e->code : TKD_ENOMEM;
    tkd_buf_puts(b, s);
    free(s);
    return 0;
}

static int print_set(const line *L, tkd_buf *b, tkd_err *e) {
    piece p[2 * CUTS_MAX + 1];
    int n = pieces(L, p), rc = 0;
    if (n == 0)
        return tkd_buf_puts(b, "EmptySet");
    if (n > 1)
        tkd_buf_puts(b, "Union(");
    for (int i = 0; i < n && !rc; i++) {
        if (i)
            tkd_buf_puts(b, ", ");
        if (p[i].lo == p[i].hi && p[i].lo % 2) {
            tkd_buf_putc(b, '{');
            rc = endpoint(b, L, p[i].lo, 1, e);
            tkd_buf_putc(b, '}');
            continue;
        }
        int lopen = p[i].lo % 2 == 0, ropen = p[i].hi % 2 == 0;
        if (p[i].lo == 0 && p[i].hi == 2 * L->n) {
            tkd_buf_puts(b, "Reals");
            continue;
        }
        tkd_buf_puts(b, lopen && ropen ? "Interval.open("
                        : lopen        ? "Interval.Lopen("
                        : ropen        ? "Interval.Ropen("
                                       : "Interval(");
        rc = endpoint(b, L, p[i].lo, 1, e);
        tkd_buf_puts(b, ", ");
        if (!rc)
            rc = endpoint(b, L, p[i].hi, 0, e);
        tkd_buf_putc(b, ')');
    }
    if (n > 1)
        tkd_buf_putc(b, ')');
    return rc;
}

static int print_rel(const line *L, const char *var, tkd_buf *b, tkd_err *e) {
    piece p[2 * CUTS_MAX + 1];
    int n = pieces(L, p), rc = 0;
    if (n == 0)
        return tkd_buf_puts(b, "False");
    for (int i = 0; i < n && !rc; i++) {
        if (i)
            tkd_buf_puts(b, " | ");
        if (p[i].lo == p[i].hi && p[i].lo % 2) {
            tkd_buf_printf(b, "Eq(%s, ", var);
            rc = endpoint(b, L, p[i].lo, 1, e);
            tkd_buf_putc(b, ')');
            continue;
        }
        int lopen = p[i].lo % 2 == 0, ropen = p[i].hi % 2 == 0;
        int linf = p[i].lo == 0, rinf = p[i].hi == 2 * L->n;
        if (linf && rinf) {
            tkd_buf_puts(b, "True");
            continue;
        }
        int both = !linf && !rinf;
        if (both)
            tkd_buf_puts(b, n > 1 ? "((" : "(");
        else if (n > 1)
            tkd_buf_putc(b, '(');
        if (!linf) {
            rc = endpoint(b, L, p[i].lo, 1, e);
            tkd_buf_printf(b, " %s %s", lopen ? "<" : "<=", var);
        }
        if (both)
            tkd_buf_puts(b, ") & (");
        if (!rinf && !rc) {
            tkd_buf_printf(b, "%s %s ", var, ropen ? "<" : "<=");
            rc = endpoint(b, L, p[i].hi, 0, e);
        }
        if (both)
            tkd_buf_puts(b, n > 1 ? "))" : ")");
        else if (n > 1)
            tkd_buf_putc(b, ')');
    }
    return rc;
}

static int run(tkd_arena *ta, const tkd_expr *const *xs, int n, const char *var, int relational, tkd_json **result, tkd_err *e) {
    rel rs[INEQ_MAX];
    int nr = 0, rc = 0;
    for (int i = 0; i < n && !rc; i++)
        if (!(rc = load_rel(xs[i], var, rs + nr, e)))
            nr++;
    line *L = rc ? NULL : calloc(1, sizeof *L);
    if (!rc && !L)
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (!rc)
        rc = solve_set(rs, nr, L, e);
    if (!rc) {
        tkd_buf b;
        tkd_buf_init(&b);
        rc = relational ? print_rel(L, var, &b, e) : print_set(L, &b, e);
        if (!rc)
            *result = tkd_json_string(ta, b.data);
        tkd_buf_free(&b);
    }
    if (L) {
        line_clear(L);
        free(L);
    }
    for (int i = 0; i < nr; i++) {
        fmpz_poly_clear(rs[i].num);
        fmpz_poly_clear(rs[i].den);
    }
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
     "Solve an inequality in one variable over the reals, exactly, for polynomial and rational expressions. Answers "
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
