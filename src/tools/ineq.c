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

#include "rset_int.h"

#define INEQ_MAX 16

/* does s op 0 hold for the sign s of a value? */
static int sign_holds_op(int op, int s) {
    switch (op) {
    case TKD_R_LT: return s < 0;
    case TKD_R_LE: return s <= 0;
    case TKD_R_GT: return s > 0;
    case TKD_R_GE: return s >= 0;
    case TKD_R_EQ: return s == 0;
    default: return s != 0;
    }
}

/* The solution set of all the relations xs (their intersection). */
static int run(tkd_arena *ta, const tkd_expr *const *xs, int n, const char *var, int relational, tkd_json **result,
               tkd_err *e) {
    tkd_rset *s = NULL;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        tkd_rset *r = NULL, *t = NULL;
        rc = tkd_rset_solve(xs[i], var, 0, &r, e);
        if (rc == TKD_EMATH && !ineq_inv_set(xs[i], var, &r))
            rc = 0;
        if (rc)
            break;
        if (s) {
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

/* ---- linear relations with real constants (pi): a*x + b op 0 ----
 * Each relation is a half-line (or a point) whose end -b/a is any constant
 * Calcium can order (pi/4, 2*pi/3); a system is the interval between the
 * largest lower end and the smallest upper end. Ends are compared with
 * Calcium; an order it cannot decide is a refusal, never a guess. */
typedef struct bound {
    tkd_expr *end; /* NULL: none */
    ca_t v;
    int closed;
} bound;

/* 1 a < b, 0 a == b, -1 a > b, 2 undecided */
static int ca_order(const ca_t a, const ca_t b, ca_ctx_t ctx) {
    if (ca_check_lt(a, b, ctx) == T_TRUE)
        return 1;
    if (ca_check_gt(a, b, ctx) == T_TRUE)
        return -1;
    return ca_check_equal(a, b, ctx) == T_TRUE ? 0 : 2;
}

static int linear_system(tkd_arena *ta, const tkd_expr *const *xs, int n, const char *var, int relational,
                         tkd_json **result) {
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    bound lo = {0}, hi = {0};
    ca_init(lo.v, ctx);
    ca_init(hi.v, ctx);
    ca_t a, b, c, zero;
    ca_init(a, ctx);
    ca_init(b, ctx);
    ca_init(c, ctx);
    ca_init(zero, ctx);
    int rc = 0, empty = 0;
    for (int i = 0; i < n && !rc && !empty; i++) {
        const tkd_expr *x = xs[i];
        if (x->kind != TKD_EX_REL || x->op == TKD_R_NE) {
            rc = TKD_EMATH;
            break;
        }
        tkd_expr *d = tkd_expr_sub(tkd_expr_copy(x->args[0]), tkd_expr_copy(x->args[1]));
        tkd_expr **k = NULL;
        slong deg = -1;
        tkd_err e2 = {0};
        if (!d || tkd_expr_poly_coeffs(d, var, &k, &deg, &e2) || deg > 1 || tkd_expr_has_sym(k[0], NULL) ||
            (deg == 1 && tkd_expr_has_sym(k[1], NULL)) || tkd_expr_to_ca(b, k[0], ctx, &e2) ||
            (deg == 1 && tkd_expr_to_ca(a, k[1], ctx, &e2)))
            rc = TKD_EMATH;
        int sa = 0;
        if (!rc && deg == 1)
            sa = ca_order(zero, a, ctx) == 1 ? 1 : ca_order(a, zero, ctx) == 1 ? -1 : 0;
        if (!rc && deg == 1 && !sa)
            rc = TKD_EMATH; /* a coefficient that may be 0 */
        if (!rc && deg <= 0) {
            int o = ca_order(b, zero, ctx); /* constant relation b op 0 */
            if (o == 2)
                rc = TKD_EMATH;
            else if (!sign_holds_op(x->op, -o))
                empty = 1;
        } else if (!rc) {
            /* a*(x - c) op 0, c = -b/a */
            ca_div(c, b, a, ctx);
            ca_neg(c, c, ctx);
            int op = x->op;
            if (sa < 0)
                op = op == TKD_R_LT   ? TKD_R_GT
                     : op == TKD_R_LE ? TKD_R_GE
                     : op == TKD_R_GT ? TKD_R_LT
                     : op == TKD_R_GE ? TKD_R_LE
                                      : op;
            tkd_expr *end = NULL;
            tkd_expr *ce = tkd_expr_neg(tkd_expr_div(tkd_expr_copy(k[0]), tkd_expr_copy(k[1])));
            if (!ce || tkd_expr_simplify(ce, &end, &e2))
                rc = TKD_EMATH;
            tkd_expr_free(ce);
            for (int side = 0; side < 2 && !rc; side++) {
                int is_lo = side == 0;
                if (!(op == TKD_R_EQ || (is_lo ? op == TKD_R_GT || op == TKD_R_GE : op == TKD_R_LT || op == TKD_R_LE)))
                    continue;
                bound *bd = is_lo ? &lo : &hi;
                int closed = op == TKD_R_EQ || op == TKD_R_GE || op == TKD_R_LE;
                int o = bd->end ? ca_order(bd->v, c, ctx) : (is_lo ? 1 : -1);
                if (o == 2) {
                    rc = TKD_EMATH;
                    break;
                }
                /* keep the tighter end: the larger lower end, the smaller upper end */
                if ((is_lo && o == 1) || (!is_lo && o == -1)) {
                    tkd_expr_free(bd->end);
                    bd->end = tkd_expr_copy(end);
                    ca_set(bd->v, c, ctx);
                    bd->closed = closed;
                } else if (o == 0) {
                    bd->closed &= closed;
                }
            }
            tkd_expr_free(end);
        }
        if (k)
            tkd_expr_vec_free(k, (size_t)deg + 1);
        tkd_expr_free(d);
    }
    if (!rc && !empty && lo.end && hi.end) {
        int o = ca_order(lo.v, hi.v, ctx);
        if (o == 2)
            rc = TKD_EMATH;
        else if (o == -1 || (o == 0 && !(lo.closed && hi.closed)))
            empty = 1;
    }
    if (!rc) {
        tkd_buf bf;
        tkd_buf_init(&bf);
        char *l = lo.end ? tkd_expr_to_str(lo.end) : NULL, *h = hi.end ? tkd_expr_to_str(hi.end) : NULL;
        int point = l && h && lo.closed && hi.closed && ca_order(lo.v, hi.v, ctx) == 0;
        if (empty)
            tkd_buf_puts(&bf, relational ? "False" : "EmptySet");
        else if (relational && point)
            tkd_buf_printf(&bf, "Eq(%s, %s)", var, l);
        else if (relational && l && h)
            tkd_buf_printf(&bf, "(%s %s %s) & (%s %s %s)", l, lo.closed ? "<=" : "<", var, var, hi.closed ? "<=" : "<",
                           h);
        else if (relational && l)
            tkd_buf_printf(&bf, "%s %s %s", l, lo.closed ? "<=" : "<", var);
        else if (relational && h)
            tkd_buf_printf(&bf, "%s %s %s", var, hi.closed ? "<=" : "<", h);
        else if (relational)
            tkd_buf_puts(&bf, "True");
        else if (point)
            tkd_buf_printf(&bf, "{%s}", l);
        else if (!l && !h)
            tkd_buf_puts(&bf, "Reals");
        else
            tkd_buf_printf(&bf, "%s(%s, %s)",
                           (!l || !lo.closed) && (!h || !hi.closed) ? "Interval.open"
                           : (!l || !lo.closed)                     ? "Interval.Lopen"
                           : (!h || !hi.closed)                     ? "Interval.Ropen"
                                                                    : "Interval",
                           l ? l : "-oo", h ? h : "oo");
        free(l);
        free(h);
        if (bf.data)
            *result = tkd_json_string(ta, bf.data);
        else
            rc = TKD_ENOMEM;
        tkd_buf_free(&bf);
    }
    tkd_expr_free(lo.end);
    tkd_expr_free(hi.end);
    ca_clear(lo.v, ctx);
    ca_clear(hi.v, ctx);
    ca_clear(a, ctx);
    ca_clear(b, ctx);
    ca_clear(c, ctx);
    ca_clear(zero, ctx);
    ca_ctx_clear(ctx);
    return rc;
}

/* ---- exponentials: b**(a*x + c) with one constant base b ----
 * With t = b**(g*x) (g the gcd of the a's) every atom is b**c * t**(a/g),
 * a rational function of t, solved exactly over t > 0; x = log(t)/(g log b)
 * maps the ends back (decreasing when b < 1). */
#define EXP_ATOMS_MAX 8
#define EXP_VAR "tkd_t"

typedef struct exp_atoms {
    const tkd_expr *atom[EXP_ATOMS_MAX];
    tkd_expr *base; /* owned: a rational base is written as its smallest root (4 -> 2, 1/8 -> 2) */
    fmpq a[EXP_ATOMS_MAX], c[EXP_ATOMS_MAX];
    int n, bad;
} exp_atoms;

/* u = a*var + c with rational a, c: 1, else 0 */
static int linear_in(const tkd_expr *u, const char *var, fmpq_t a, fmpq_t c) {
    tkd_expr **k = NULL;
    slong deg = -1;
    tkd_err e = {0};
    if (tkd_expr_poly_coeffs(u, var, &k, &deg, &e))
        return 0;
    int ok = deg == 1 && tkd_expr_is_num(k[0]) && tkd_expr_is_num(k[1]);
    if (ok) {
        fmpq_set(c, k[0]->q);
        fmpq_set(a, k[1]->q);
    }
    tkd_expr_vec_free(k, (size_t)deg + 1);
    return ok;
}

static void find_exp(const tkd_expr *x, const char *var, exp_atoms *A, const tkd_expr *e_const) {
    if (A->bad || !tkd_expr_has_sym(x, var))
        return;
    const tkd_expr *base = NULL, *ex = NULL;
    if (x->kind == TKD_EX_POW && !tkd_expr_has_sym(x->args[0], var) && tkd_expr_has_sym(x->args[1], var))
        base = x->args[0], ex = x->args[1];
    else if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_EXP && x->n == 1)
        base = e_const, ex = x->args[0];
    if (base) {
        if (A->n == EXP_ATOMS_MAX) {
            A->bad = 1;
            return;
        }
        /* n**k and 1/n**k as (root of n)**(+-k*m) */
        slong k = 1;
        tkd_expr *nb = NULL;
        if (base->kind == TKD_EX_NUM && fmpq_sgn(base->q) > 0 && !fmpq_is_one(base->q) &&
            (fmpz_is_one(fmpq_numref(base->q)) || fmpz_is_one(fmpq_denref(base->q)))) {
            int inv = fmpz_is_one(fmpq_numref(base->q));
            const fmpz *n = inv ? fmpq_denref(base->q) : fmpq_numref(base->q);
            fmpz_t r;
            fmpz_init(r);
            int m = fmpz_is_perfect_power(r, n);
            if (m > 1) {
                k = m;
                nb = tkd_expr_fmpz(r);
            } else {
                nb = tkd_expr_fmpz(n);
            }
            if (inv)
                k = -k;
            fmpz_clear(r);
        } else {
            nb = tkd_expr_copy(base);
        }
        if (!nb || (A->base && !tkd_expr_equal(A->base, nb))) {
            tkd_expr_free(nb);
            A->bad = 1;
            return;
        }
        if (A->base)
            tkd_expr_free(nb);
        else
            A->base = nb;
        fmpq_init(A->a + A->n);
        fmpq_init(A->c + A->n);
        A->atom[A->n] = x;
        if (!linear_in(ex, var, A->a + A->n, A->c + A->n)) {
            fmpq_clear(A->a + A->n);
            fmpq_clear(A->c + A->n);
            A->bad = 1;
            return;
        }
        fmpq_mul_si(A->a + A->n, A->a + A->n, k);
        fmpq_mul_si(A->c + A->n, A->c + A->n, k);
        A->n++;
        return;
    }
    for (size_t i = 0; i < x->n; i++)
        find_exp(x->args[i], var, A, e_const);
}

/* sign of b - 1 (b > 0 checked): 1, -1, 0 when b is 1 or not decided */
static int base_vs_one(const tkd_expr *b) {
    ca_ctx_t ctx;
    ca_t v, one;
    tca_ctx_init(ctx);
    ca_init(v, ctx);
    ca_init(one, ctx);
    ca_one(one, ctx);
    tkd_err e = {0};
    int r = 0;
    ca_t zero;
    ca_init(zero, ctx);
    if (!tkd_expr_to_ca(v, b, ctx, &e) && ca_check_gt(v, zero, ctx) == T_TRUE) {
        if (ca_check_gt(v, one, ctx) == T_TRUE)
            r = 1;
        else if (ca_check_lt(v, one, ctx) == T_TRUE)
            r = -1;
    }
    ca_clear(zero, ctx);
    ca_clear(v, ctx);
    ca_clear(one, ctx);
    ca_ctx_clear(ctx);
    return r;
}

static int exp_univariate(tkd_arena *ta, const tkd_expr *rel, const char *var, tkd_json **result, tkd_err *e) {
    tkd_expr *E = tkd_expr_const(TKD_C_E);
    exp_atoms A = {0};
    find_exp(rel, var, &A, E);
    int rc = 0, dir = 0;
    fmpq_t g;
    fmpq_init(g);
    if (A.bad || A.n == 0 || !(dir = base_vs_one(A.base)))
        rc = TKD_EMATH;
    /* g = gcd of the coefficients (positive) */
    for (int i = 0; i < A.n && !rc; i++)
        fmpq_gcd(g, g, A.a + i); /* gcd(0, a) = |a| */
    if (!rc && fmpq_is_zero(g))
        rc = TKD_EMATH;
    tkd_expr *d = NULL;
    if (!rc)
        d = tkd_expr_copy(rel);
    for (int i = 0; i < A.n && d; i++) {
        fmpq_t k;
        fmpq_init(k);
        fmpq_div(k, A.a + i, g); /* an integer */
        tkd_expr *by = tkd_expr_mul2(tkd_expr_pow(tkd_expr_copy(A.base), tkd_expr_fmpq(A.c + i)),
                                     tkd_expr_pow(tkd_expr_sym(EXP_VAR), tkd_expr_fmpq(k)));
        fmpq_clear(k);
        tkd_expr *nd = by ? treplace(d, A.atom[i], by) : NULL;
        tkd_expr_free(by);
        tkd_expr_free(d);
        d = nd;
    }
    if (!rc && (!d || tkd_expr_has_sym(d, var)))
        rc = TKD_EMATH;
    tkd_rset *st = NULL, *pos = NULL, *both = NULL;
    tkd_expr *tpos = rc ? NULL : tkd_expr_rel(TKD_R_GT, tkd_expr_sym(EXP_VAR), tkd_expr_int(0));
    tkd_err e2 = {0};
    if (!rc && (!tpos || tkd_rset_solve(d, EXP_VAR, 0, &st, &e2) || tkd_rset_solve(tpos, EXP_VAR, 0, &pos, &e2) ||
                tkd_rset_combine(st, pos, 1, &both)))
        rc = TKD_EMATH;
    tkd_rset_piece *pc = NULL;
    int np = 0;
    if (!rc && tkd_rset_pieces(both, &pc, &np, &e2))
        rc = TKD_EMATH;
    /* x = log(t) / (g log b) */
    tkd_buf b;
    tkd_buf_init(&b);
    if (!rc && np == 0)
        tkd_buf_puts(&b, "EmptySet");
    if (!rc && np > 1)
        tkd_buf_puts(&b, "Union(");
    for (int i = 0; i < np && !rc; i++) {
        int idx = dir > 0 ? i : np - 1 - i;
        tkd_expr *ends[2];
        int closed[2];
        for (int j = 0; j < 2 && !rc; j++) {
            /* the x-side left end (j 0) comes from the t-side left end when increasing */
            int from_lo = (j == 0) == (dir > 0);
            tkd_expr *t0 = from_lo ? pc[idx].lo : pc[idx].hi;
            closed[j] = from_lo ? pc[idx].lo_closed : pc[idx].hi_closed;
            if (!t0 || (from_lo && tkd_expr_is_int(t0, 0))) { /* t -> 0 or oo: x -> -oo or oo */
                ends[j] = NULL;
                continue;
            }
            tkd_expr *v =
                tkd_expr_div(tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(t0)),
                             tkd_expr_mul2(tkd_expr_fmpq(g), tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(A.base))));
            ends[j] = NULL;
            if (!v || tkd_expr_simplify(v, &ends[j], &e2))
                rc = TKD_EMATH;
            tkd_expr_free(v);
        }
        if (rc) {
            tkd_expr_free(ends[0]);
            break;
        }
        if (i)
            tkd_buf_puts(&b, ", ");
        char *lo = ends[0] ? tkd_expr_to_str(ends[0]) : NULL, *hi = ends[1] ? tkd_expr_to_str(ends[1]) : NULL;
        if (lo && hi && closed[0] && closed[1] && !strcmp(lo, hi))
            tkd_buf_printf(&b, "{%s}", lo);
        else if (!lo && !hi)
            tkd_buf_puts(&b, "Reals");
        else
            tkd_buf_printf(&b, "%s(%s, %s)",
                           (!closed[0] || !lo) && (!closed[1] || !hi) ? "Interval.open"
                           : (!closed[0] || !lo)                      ? "Interval.Lopen"
                           : (!closed[1] || !hi)                      ? "Interval.Ropen"
                                                                      : "Interval",
                           lo ? lo : "-oo", hi ? hi : "oo");
        free(lo);
        free(hi);
        tkd_expr_free(ends[0]);
        tkd_expr_free(ends[1]);
    }
    if (!rc && np > 1)
        tkd_buf_putc(&b, ')');
    if (!rc)
        *result = tkd_json_string(ta, b.data);
    tkd_buf_free(&b);
    tkd_rset_pieces_free(pc, np);
    tkd_rset_free(st);
    tkd_rset_free(pos);
    tkd_rset_free(both);
    tkd_expr_free(tpos);
    tkd_expr_free(d);
    tkd_expr_free(E);
    for (int i = 0; i < A.n; i++) {
        fmpq_clear(A.a + i);
        fmpq_clear(A.c + i);
    }
    fmpq_clear(g);
    tkd_expr_free(A.base);
    if (rc)
        return tkd_err_set(
            e, TKD_EMATH, "only exponentials of one constant base with exponents linear in %s are supported here", var);
    return 0;
}

/* ---- one logarithm of a linear argument: p*log_b(u) + q op 0 ----
 * log_b(u) op -q/p is u op b**(-q/p) with u > 0 (the order turns when p < 0
 * or b < 1): two linear relations with constant ends (linear_system). */
static void find_log(const tkd_expr *x, const char *var, const tkd_expr **atom, int *bad) {
    if (*bad || !tkd_expr_has_sym(x, var))
        return;
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_LOG &&
        (x->n == 1 || (x->n == 2 && !tkd_expr_has_sym(x->args[1], var)))) {
        if (*atom && !tkd_expr_equal(*atom, x))
            *bad = 1;
        *atom = x;
        return;
    }
    for (size_t i = 0; i < x->n; i++)
        find_log(x->args[i], var, atom, bad);
}

static int log_univariate(tkd_arena *ta, const tkd_expr *rel, const char *var, tkd_json **result) {
    const tkd_expr *atom = NULL;
    int bad = 0;
    find_log(rel, var, &atom, &bad);
    if (bad || !atom)
        return TKD_EMATH;
    tkd_expr *L = tkd_expr_sym("tkd_L");
    tkd_expr *d = L ? treplace(rel, atom, L) : NULL;
    tkd_expr *diff = d ? tkd_expr_sub(tkd_expr_copy(d->args[0]), tkd_expr_copy(d->args[1])) : NULL;
    tkd_expr **c = NULL, **cu = NULL;
    slong deg = -1, degu = -1;
    tkd_err e2 = {0};
    int rc = !diff || tkd_expr_has_sym(diff, var) || tkd_expr_poly_coeffs(diff, "tkd_L", &c, &deg, &e2) || deg != 1 ||
                     tkd_expr_has_sym(c[0], NULL) || tkd_expr_has_sym(c[1], NULL) ||
                     tkd_expr_poly_coeffs(atom->args[0], var, &cu, &degu, &e2) || degu != 1
                 ? TKD_EMATH
                 : 0;
    int dir = 0;
    if (!rc) {
        /* the sign of p and, for a base, of b - 1: both turn the order */
        ca_ctx_t ctx;
        tca_ctx_init(ctx);
        ca_t v, zero, one;
        ca_init(v, ctx);
        ca_init(zero, ctx);
        ca_init(one, ctx);
        ca_one(one, ctx);
        if (!tkd_expr_to_ca(v, c[1], ctx, &e2))
            dir = ca_check_gt(v, zero, ctx) == T_TRUE ? 1 : ca_check_lt(v, zero, ctx) == T_TRUE ? -1 : 0;
        if (dir && atom->n == 2) {
            if (tkd_expr_to_ca(v, atom->args[1], ctx, &e2) || ca_check_gt(v, zero, ctx) != T_TRUE)
                dir = 0;
            else if (ca_check_lt(v, one, ctx) == T_TRUE)
                dir = -dir;
            else if (ca_check_gt(v, one, ctx) != T_TRUE)
                dir = 0;
        }
        ca_clear(v, ctx);
        ca_clear(zero, ctx);
        ca_clear(one, ctx);
        ca_ctx_clear(ctx);
        if (!dir)
            rc = TKD_EMATH;
    }
    tkd_expr *xs[2] = {NULL, NULL};
    if (!rc) {
        tkd_expr *k = tkd_expr_neg(tkd_expr_div(tkd_expr_copy(c[0]), tkd_expr_copy(c[1])));
        tkd_expr *K = atom->n == 2 ? tkd_expr_pow(tkd_expr_copy(atom->args[1]), k) : tkd_expr_fn1(TKD_FN_EXP, k);
        tkd_expr *Ks = NULL;
        if (!K || tkd_expr_simplify(K, &Ks, &e2))
            rc = TKD_EMATH;
        tkd_expr_free(K);
        int op = d->op;
        if (dir < 0)
            op = op == TKD_R_LT   ? TKD_R_GT
                 : op == TKD_R_LE ? TKD_R_GE
                 : op == TKD_R_GT ? TKD_R_LT
                 : op == TKD_R_GE ? TKD_R_LE
                                  : op;
        if (!rc) {
            xs[0] = tkd_expr_rel(TKD_R_GT, tkd_expr_copy(atom->args[0]), tkd_expr_int(0));
            xs[1] = tkd_expr_rel((tkd_expr_rel_op)op, tkd_expr_copy(atom->args[0]), Ks);
            Ks = NULL;
            if (!xs[0] || !xs[1])
                rc = TKD_EMATH;
        }
        tkd_expr_free(Ks);
    }
    if (!rc)
        rc = linear_system(ta, (const tkd_expr *const *)xs, 2, var, 0, result);
    tkd_expr_free(xs[0]);
    tkd_expr_free(xs[1]);
    if (c)
        tkd_expr_vec_free(c, (size_t)deg + 1);
    if (cu)
        tkd_expr_vec_free(cu, (size_t)degu + 1);
    tkd_expr_free(diff);
    tkd_expr_free(d);
    tkd_expr_free(L);
    return rc;
}

/* b1**u1 op b2**u2 (constant bases > 0, either side may be a constant > 0):
 * the logarithm keeps the order, u1*log(b1) op u2*log(b2), linear when the
 * exponents are (16**d > 7**(d + 1)). */
static tkd_expr *log_side(const tkd_expr *x, const char *var) {
    if (x->kind == TKD_EX_POW && !tkd_expr_has_sym(x->args[0], var))
        return tkd_expr_mul2(tkd_expr_copy(x->args[1]), tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(x->args[0])));
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_EXP && x->n == 1)
        return tkd_expr_copy(x->args[0]);
    if (!tkd_expr_has_sym(x, NULL))
        return tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(x));
    return NULL;
}

static int positive_const(const tkd_expr *x, const char *var) {
    const tkd_expr *b = x->kind == TKD_EX_POW ? x->args[0] : x->kind == TKD_EX_FUNC ? NULL : x;
    if (!b)
        return 1; /* exp(u) */
    if (tkd_expr_has_sym(b, var) || tkd_expr_has_sym(b, NULL))
        return 0;
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    ca_t v, zero;
    ca_init(v, ctx);
    ca_init(zero, ctx);
    tkd_err e = {0};
    int ok = !tkd_expr_to_ca(v, b, ctx, &e) && ca_check_gt(v, zero, ctx) == T_TRUE;
    ca_clear(v, ctx);
    ca_clear(zero, ctx);
    ca_ctx_clear(ctx);
    return ok;
}

static int exp_two_bases(tkd_arena *ta, const tkd_expr *rel, const char *var, tkd_json **result) {
    if (rel->op == TKD_R_NE || !positive_const(rel->args[0], var) || !positive_const(rel->args[1], var))
        return TKD_EMATH;
    tkd_expr *l = log_side(rel->args[0], var), *r = log_side(rel->args[1], var);
    tkd_expr *x = l && r ? tkd_expr_rel((tkd_expr_rel_op)rel->op, l, r) : (tkd_expr_free(l), tkd_expr_free(r), NULL);
    int rc = x ? linear_system(ta, (const tkd_expr *const *)&x, 1, var, 0, result) : TKD_EMATH;
    tkd_expr_free(x);
    return rc;
}

/* ---- rational relations in pi*x: 1/(pi*k) < 1/1000 ----
 * With x = s/pi (increasing) a relation whose pi cancels is rational in s;
 * the set in s (rset.c) maps back end by end (s0 -> s0/pi). */
static int has_pi(const tkd_expr *x) {
    if (x->kind == TKD_EX_CONST && x->op == TKD_C_PI)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (has_pi(x->args[i]))
            return 1;
    return 0;
}

#define PI_VAR "tkd_s"

static int pi_scaled(tkd_arena *ta, const tkd_expr *const *xs, int n, const char *var, int relational,
                     tkd_json **result) {
    int rc = 0, any = 0;
    tkd_rset *acc = NULL;
    tkd_expr *sx = tkd_expr_div(tkd_expr_sym(PI_VAR), tkd_expr_const(TKD_C_PI));
    tkd_err e2 = {0};
    for (int i = 0; i < n && !rc; i++) {
        tkd_expr *y = NULL;
        tkd_rset *r = NULL, *t = NULL;
        any |= has_pi(xs[i]);
        if (!sx || tkd_expr_subs(xs[i], var, sx, &y, &e2) || tkd_rset_solve(y, PI_VAR, 0, &r, &e2))
            rc = TKD_EMATH;
        tkd_expr_free(y);
        if (!rc && acc && tkd_rset_combine(acc, r, 1, &t))
            rc = TKD_ENOMEM;
        if (acc && !rc) {
            tkd_rset_free(acc);
            tkd_rset_free(r);
            acc = t;
        } else if (!rc) {
            acc = r;
        } else {
            tkd_rset_free(r);
        }
    }
    tkd_expr_free(sx);
    if (!rc && !any)
        rc = TKD_EMATH;
    tkd_rset_piece *pc = NULL;
    int np = 0;
    if (!rc && tkd_rset_pieces(acc, &pc, &np, &e2))
        rc = TKD_EMATH;
    ineq_seg *v = !rc && np ? calloc((size_t)np, sizeof *v) : NULL;
    if (np && !v)
        rc = TKD_ENOMEM;
    for (int i = 0; i < np && !rc; i++) {
        tkd_expr *ends[2] = {pc[i].lo, pc[i].hi};
        tkd_expr *out[2] = {NULL, NULL};
        for (int j = 0; j < 2 && !rc; j++) {
            if (!ends[j])
                continue;
            tkd_expr *q = tkd_expr_div(tkd_expr_copy(ends[j]), tkd_expr_const(TKD_C_PI));
            if (!q || tkd_expr_simplify(q, &out[j], &e2))
                rc = TKD_EMATH;
            tkd_expr_free(q);
        }
        v[i] = (ineq_seg){out[0], out[1], pc[i].lo_closed, pc[i].hi_closed};
    }
    if (!rc) {
        tkd_buf b;
        tkd_buf_init(&b);
        rc = ineq_print_segs(v, np, relational ? var : NULL, &b);
        if (!rc)
            *result = tkd_json_string(ta, b.data);
        tkd_buf_free(&b);
    }
    for (int i = 0; v && i < np; i++) {
        tkd_expr_free(v[i].lo);
        tkd_expr_free(v[i].hi);
    }
    free(v);
    tkd_rset_pieces_free(pc, np);
    tkd_rset_free(acc);
    return rc;
}

/* Periodic relations (ineq_trig.c), each solved as SymPy does and intersected. */
static int trig_system(tkd_arena *ta, const tkd_expr *const *xs, int n, const char *var, int relational,
                       tkd_json **result) {
    ineq_tset *acc = NULL;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        ineq_tset *t = NULL;
        rc = ineq_trig_solve(xs[i], var, &t);
        if (!rc && acc)
            rc = ineq_trig_and(acc, t);
        if (!acc) {
            acc = t;
            t = NULL;
        }
        ineq_trig_free(t);
    }
    if (!rc) {
        tkd_buf b;
        tkd_buf_init(&b);
        rc = ineq_trig_print(acc, relational ? var : NULL, &b);
        if (!rc && b.data)
            *result = tkd_json_string(ta, b.data);
        else if (!rc)
            rc = TKD_ENOMEM;
        tkd_buf_free(&b);
    }
    ineq_trig_free(acc);
    return rc;
}

static int t_univariate(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    tkd_expr *x;
    if (targ_var(args, "variable", "x", &var, e) || targ_expr(args, "inequality", &x, e))
        return tkd_err_wrap(e, "solve_univariate_inequality");
    int rc = run(ta, (const tkd_expr *const *)&x, 1, var, 0, result, e);
    if (rc == TKD_EMATH && x->kind == TKD_EX_REL && !trig_system(ta, (const tkd_expr *const *)&x, 1, var, 0, result))
        rc = 0;
    if (rc == TKD_EMATH && x->kind == TKD_EX_REL && !pi_scaled(ta, (const tkd_expr *const *)&x, 1, var, 0, result))
        rc = 0;
    if (rc == TKD_EMATH && x->kind == TKD_EX_REL) {
        tkd_err e2 = {0};
        if (!linear_system(ta, (const tkd_expr *const *)&x, 1, var, 0, result) ||
            !exp_univariate(ta, x, var, result, &e2) || !log_univariate(ta, x, var, result) ||
            !exp_two_bases(ta, x, var, result))
            rc = 0;
    }
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
    if (rc == TKD_EMATH && !linear_system(ta, (const tkd_expr *const *)xs, n, var, 1, result))
        rc = 0;
    if (rc == TKD_EMATH && !trig_system(ta, (const tkd_expr *const *)xs, n, var, 1, result))
        rc = 0;
    if (rc == TKD_EMATH && !pi_scaled(ta, (const tkd_expr *const *)xs, n, var, 1, result))
        rc = 0;
    for (int i = 0; i < n; i++)
        tkd_expr_free(xs[i]);
    return rc ? tkd_err_wrap(e, "reduce_inequalities") : 0;
}

const struct tkd_tool tkd_tools_ineq_table[] = {
    {"solve_univariate_inequality",
     "equations",
     "solve one inequality in one variable (as a set)",
     "Solve an inequality in one variable over the reals, exactly, for polynomial and rational expressions, "
     "absolute values, square roots, exponentials and logarithms (Abs(x - 1), sqrt(x + 3), 4**x - 3*2**x + 2, log(x - "
     "2)), "
     "and with constant coefficients such as pi. Trigonometric ones (sin, cos, tan, cot, sec, csc of a*x) are "
     "answered as SymPy answers them: Reals or EmptySet when they hold everywhere or nowhere, else the solutions "
     "within one period starting at 0 (sin(x) > 1/2 -> Interval.open(pi/6, 5*pi/6)). Answers "
     "the solution set in SymPy notation: Interval(a, b) closed, Interval.open / Interval.Lopen / Interval.Ropen, "
     "Union(...), {points}, EmptySet or Reals. Example: {\"inequality\": \"x**2 - 1 > 0\", \"variable\": \"x\"} -> "
     "\"Union(Interval.open(-oo, -1), Interval.open(1, oo))\".",
     {{"inequality", TP_EXPR, 1, "one inequality with <, <=, > or >=, e.g. \"(x - 1)/(x + 2) >= 0\""},
      {"variable", TP_VAR, 0, "the variable (default \"x\")"}},
     t_univariate},
    {"reduce_inequalities",
     "equations",
     "solve a system of inequalities in one variable",
     "Solve a system of inequalities (and equations) in one variable over the reals; all must hold (trigonometric "
     "ones within one period, as solve_univariate_inequality). Answers relations "
     "joined by & and |, like SymPy. Example: {\"inequalities\": [\"x**2 < 9\", \"x >= 1\"]} -> \"(1 <= x) & (x < "
     "3)\".",
     {{"inequalities", TP_STRINGS, 1, "list of inequalities in one variable, e.g. [\"x + 1 > 0\", \"x**2 <= 4\"]"}},
     t_reduce},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
