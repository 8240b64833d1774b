/*
 * Exponential equations for troots, answered as SymPy's solve answers them
 * (its complex solutions, a finite choice among infinitely many):
 *
 *   every power of the variable is b_i**(a_i*x + c_i) or exp(a_i*x + c_i)
 *   with rational a_i and numeric c_i, and all the bases b_i are rational
 *   powers of one B (4 = 2**2, 1/8 = 2**-3; B = E for exp). With
 *   b_i = B**k_i and M the common denominator of the k_i*a_i, y = B**(x/M)
 *   turns the equation into one in y (integer powers), solved exactly;
 *   every nonzero root gives x = M*log(y)/log(B), principal logarithm.
 *   So 4**x + 2**x = 6 gives y = 2, -3 and x = 1, (log(3) + I*pi)/log(2),
 *   as SymPy does. SymPy answers C*b**u = C*b with u = 1 alone (8**x = 8 is
 *   [1]), and so does this.
 *
 * Bases that are not powers of one number (2**x = 3**(x - 1)), symbolic
 * bases and exponents that are not linear are left to the other solvers.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#define EXP_ATOMS_MAX 8
#define EXP_YDEG_MAX 64 /* |n_i|: the degree of the equation in y */

typedef struct eatom {
    const tkd_expr *node; /* the power or exp() in the prepared equation */
    fmpq_t b;             /* rational base (unused when e_base) */
    fmpq_t a;             /* coefficient of x in the exponent */
    tkd_expr *c;          /* the exponent's constant part */
    slong k;              /* b = B**k */
    slong n;              /* the power of y */
} eatom;

typedef struct estate {
    const char *var;
    eatom at[EXP_ATOMS_MAX];
    size_t n;
    int e_base; /* B = E */
    fmpq_t B;
    int bad;
    int outside; /* var seen outside every exponent (x*2**x) */
} estate;

/* b = r**k with r > 1 not a perfect power (b > 0, b != 1). */
void tperfect_root(const fmpq_t b, fmpq_t r, slong *k) {
    fmpz_t p, q, rp, rq, t;
    fmpz_init(p);
    fmpz_init(q);
    fmpz_init(rp);
    fmpz_init(rq);
    fmpz_init(t);
    fmpz_set(p, fmpq_numref(b));
    fmpz_set(q, fmpq_denref(b));
    *k = 1;
    fmpq_set(r, b);
    for (slong j = 64; j >= 2; j--) {
        if (fmpz_root(rp, p, j), fmpz_pow_ui(t, rp, (ulong)j), !fmpz_equal(t, p))
            continue;
        if (fmpz_root(rq, q, j), fmpz_pow_ui(t, rq, (ulong)j), !fmpz_equal(t, q))
            continue;
        fmpz_set(fmpq_numref(r), rp);
        fmpz_set(fmpq_denref(r), rq);
        *k = j;
        break;
    }
    if (fmpq_cmp_ui(r, 1) < 0) {
        fmpq_inv(r, r);
        *k = -*k;
    }
    fmpz_clear(p);
    fmpz_clear(q);
    fmpz_clear(rp);
    fmpz_clear(rq);
    fmpz_clear(t);
}

/* u = a*var + c with a rational and c free of var? (c is set then) */
int tlinear(const tkd_expr *u, const char *var, fmpq_t a, tkd_expr **c) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    tkd_err e = {0};
    *c = NULL;
    if (trat_from_ast(&t, u, &var, 1, &r, &e))
        return 0;
    slong v = tkd_rf_var(&t, var);
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r), *D = fmpz_mpoly_q_denref(r);
    int ok = t.nsyms == 1 && !tkd_rf_var_in_atoms(&t, var) && fmpz_mpoly_degree_si(N, v, t.ctx) == 1 &&
             fmpz_mpoly_is_fmpz(D, t.ctx);
    if (ok) {
        fmpz_mpoly_t c1, c0;
        fmpz_mpoly_init(c1, t.ctx);
        fmpz_mpoly_init(c0, t.ctx);
        ulong one = 1, zero = 0;
        fmpz_mpoly_get_coeff_vars_ui(c1, N, &v, &one, 1, t.ctx);
        fmpz_mpoly_get_coeff_vars_ui(c0, N, &v, &zero, 1, t.ctx);
        ok = fmpz_mpoly_is_fmpz(c1, t.ctx);
        if (ok) {
            fmpz_mpoly_get_fmpz(fmpq_numref(a), c1, t.ctx);
            fmpz_mpoly_get_fmpz(fmpq_denref(a), D, t.ctx);
            fmpq_canonicalise(a);
            fmpz_t d;
            fmpz_init(d);
            fmpz_mpoly_get_fmpz(d, D, t.ctx);
            *c = tkd_rf_poly_to_expr(&t, c0, d);
            fmpz_clear(d);
            ok = *c != NULL;
        }
        fmpz_mpoly_clear(c1, t.ctx);
        fmpz_mpoly_clear(c0, t.ctx);
    }
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return ok;
}

/* Collect the powers of var; st->bad when one does not fit. */
static void collect(estate *st, const tkd_expr *x) {
    if (st->bad || !tkd_expr_has_sym(x, st->var))
        return;
    int is_exp = x->kind == TKD_EX_FUNC && x->op == TKD_FN_EXP && x->n == 1;
    int is_pow = x->kind == TKD_EX_POW && tkd_expr_has_sym(x->args[1], st->var);
    if (!is_exp && !is_pow) {
        if (x->kind == TKD_EX_SYM) { /* the variable outside an exponent: x*2**x = 3*2**x */
            st->outside = 1;
            return;
        }
        if (x->kind == TKD_EX_FUNC) {
            st->bad = 1;
            return;
        }
        for (size_t i = 0; i < x->n; i++)
            collect(st, x->args[i]);
        return;
    }
    const tkd_expr *base = is_pow ? x->args[0] : NULL, *u = is_pow ? x->args[1] : x->args[0];
    int ebase = is_exp || (base->kind == TKD_EX_CONST && base->op == TKD_C_E);
    if (st->n == EXP_ATOMS_MAX || (base && tkd_expr_has_sym(base, NULL)) ||
        (!ebase && (base->kind != TKD_EX_NUM || fmpq_sgn(base->q) <= 0 || fmpq_is_one(base->q))) ||
        (st->n && ebase != st->e_base)) {
        st->bad = 1;
        return;
    }
    for (size_t i = 0; i < st->n; i++)
        if (tkd_expr_equal(st->at[i].node, x))
            return;
    eatom *a = &st->at[st->n];
    fmpq_init(a->b);
    fmpq_init(a->a);
    a->c = NULL;
    a->node = x;
    st->n++;
    st->e_base = ebase;
    if (!tlinear(u, st->var, a->a, &a->c) || tkd_expr_has_sym(a->c, NULL)) {
        st->bad = 1;
        return;
    }
    if (ebase) {
        a->k = 1;
        return;
    }
    fmpq_set(a->b, base->q);
    fmpq_t r;
    fmpq_init(r);
    tperfect_root(a->b, r, &a->k);
    if (st->n == 1)
        fmpq_set(st->B, r);
    else if (!fmpq_equal(st->B, r))
        st->bad = 1;
    fmpq_clear(r);
}

/* x with each atom replaced by y**n * b**c */
static tkd_expr *to_y(const estate *st, const tkd_expr *x, const char *y) {
    for (size_t i = 0; i < st->n; i++)
        if (tkd_expr_equal(st->at[i].node, x)) {
            const eatom *a = &st->at[i];
            tkd_expr *b = st->e_base ? tkd_expr_const(TKD_C_E) : tkd_expr_fmpq(a->b);
            return tkd_expr_mul2(tkd_expr_pow(tkd_expr_sym(y), tkd_expr_int(a->n)),
                                 tkd_expr_pow(b, tkd_expr_copy(a->c)));
        }
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t i = 0; c && i < c->n; i++) {
        tkd_expr *a = to_y(st, c->args[i], y);
        if (!a) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = a;
    }
    return c;
}

/* x = M*log(y)/log(B), exact and rational when y is a rational power of B */
static tkd_expr *x_of_y(const estate *st, const tkd_expr *yv, slong M, tkd_err *e) {
    if (!st->e_base && yv->kind == TKD_EX_NUM && fmpq_sgn(yv->q) > 0) {
        fmpq_t r, yq;
        slong k;
        fmpq_init(r);
        fmpq_init(yq);
        fmpq_set(yq, yv->q);
        tperfect_root(yq, r, &k);
        fmpq_clear(yq);
        tkd_expr *out = NULL;
        if (fmpq_is_one(yv->q))
            out = tkd_expr_int(0);
        else if (fmpq_equal(r, st->B)) {
            /* y = B**k: x = M*k, exactly; B**k with 64 | k was split as a smaller root: fine, r is maximal */
            out = tkd_expr_int(M * k);
        }
        fmpq_clear(r);
        if (out)
            return out;
    }
    { /* Calcium's closed form: log(sqrt(2))/log(2) -> 1/2, log(-1 - sqrt(3)*I) -> log(2) - 2*pi*I/3 */
        ca_ctx_t ctx;
        ca_t y, b;
        tca_ctx_init(ctx);
        ca_init(y, ctx);
        ca_init(b, ctx);
        tkd_err e2 = {0};
        tkd_expr *out = NULL;
        if (!tkd_expr_to_ca(y, yv, ctx, &e2)) {
            ca_log(y, y, ctx);
            if (!st->e_base) {
                ca_set_fmpq(b, st->B, ctx);
                ca_log(b, b, ctx);
                ca_div(y, y, b, ctx);
            }
            ca_mul_si(y, y, M, ctx);
            if (ca_check_is_number(y, ctx) == T_TRUE)
                out = tkd_expr_from_ca(y, ctx, &e2);
        }
        ca_clear(y, ctx);
        ca_clear(b, ctx);
        ca_ctx_clear(ctx);
        if (out)
            return out;
    }
    tkd_expr *lg = tkd_expr_fn1(TKD_FN_LOG, tkd_expr_copy(yv));
    tkd_expr *x = st->e_base ? lg : tkd_expr_div(lg, tkd_expr_fn1(TKD_FN_LOG, tkd_expr_fmpq(st->B)));
    if (M != 1)
        x = tkd_expr_mul2(tkd_expr_int(M), x);
    if (!x)
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
    return x;
}

/* C*b**u + D = 0 with -D/C == b: SymPy answers u = 1 alone. 1 when taken. */
static int same_base_shortcut(const estate *st, const tkd_expr *p, tlist *out, tkd_err *e, int *rc) {
    if (st->n != 1 || st->e_base)
        return 0;
    tkd_rf t;
    fmpz_mpoly_q_t r;
    tkd_err e2 = {0};
    if (trat_from_ast(&t, p, &st->var, 1, &r, &e2))
        return 0;
    int taken = 0;
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r);
    slong g = -1;
    for (size_t i = 0; i < t.n; i++)
        if (tkd_expr_has_sym(t.gens[i], st->var) && fmpz_mpoly_degree_si(N, (slong)i, t.ctx) > 0)
            g = (slong)i;
    if (g >= 0 && fmpz_mpoly_degree_si(N, g, t.ctx) == 1 && fmpz_mpoly_length(N, t.ctx) == 2 &&
        fmpz_mpoly_total_degree_si(N, t.ctx) == 1) {
        fmpz_mpoly_t c1, c0;
        fmpz_mpoly_init(c1, t.ctx);
        fmpz_mpoly_init(c0, t.ctx);
        ulong one = 1, zero = 0;
        fmpz_mpoly_get_coeff_vars_ui(c1, N, &g, &one, 1, t.ctx);
        fmpz_mpoly_get_coeff_vars_ui(c0, N, &g, &zero, 1, t.ctx);
        if (fmpz_mpoly_is_fmpz(c1, t.ctx) && fmpz_mpoly_is_fmpz(c0, t.ctx)) {
            fmpq_t q;
            fmpq_init(q);
            fmpz_mpoly_get_fmpz(fmpq_numref(q), c0, t.ctx);
            fmpz_mpoly_get_fmpz(fmpq_denref(q), c1, t.ctx);
            if (!fmpz_is_zero(fmpq_denref(q))) {
                if (fmpz_sgn(fmpq_denref(q)) < 0) {
                    fmpz_neg(fmpq_numref(q), fmpq_numref(q));
                    fmpz_neg(fmpq_denref(q), fmpq_denref(q));
                }
                fmpq_canonicalise(q);
                fmpq_neg(q, q);
                if (fmpq_equal(q, st->at[0].b)) { /* u = 1: x = (1 - c)/a */
                    const eatom *a = &st->at[0];
                    tkd_expr *x = tkd_expr_mul2(tkd_expr_sub(tkd_expr_int(1), tkd_expr_copy(a->c)),
                                                tkd_expr_pow(tkd_expr_fmpq(a->a), tkd_expr_int(-1)));
                    tkd_expr *xn = x ? trat_normalize(x, e) : NULL;
                    tkd_expr_free(x);
                    *rc = xn ? tlist_add(out, xn, e) : (e->code ? e->code : TKD_ENOMEM);
                    taken = 1;
                }
            }
            fmpq_clear(q);
        }
        fmpz_mpoly_clear(c1, t.ctx);
        fmpz_mpoly_clear(c0, t.ctx);
    }
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return taken;
}

#define Z_SYM "tkd_z_"

/* p with the powers written Z * b**c (to_y), as a rational function r in t of
 * var and Z = Z_SYM: 0 (free r with fmpz_mpoly_q_clear and tkd_rf_clear),
 * TRAD_NOT_MINE when Z does not appear or p is not rational in them, or an error. */
static int z_form(const estate *st, const tkd_expr *p, tkd_rf *t, fmpz_mpoly_q_t *r, tkd_err *e) {
    tkd_expr *q = to_y(st, p, Z_SYM);
    if (!q)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    tkd_err e2 = {0};
    const char *vars[2] = {st->var, Z_SYM};
    int rc = !tkd_expr_has_sym(q, Z_SYM) || trat_from_ast(t, q, vars, 2, r, &e2) ? TRAD_NOT_MINE : 0;
    tkd_expr_free(q);
    return rc;
}

/* Every power of var is B**(m*x) times a constant, with one m (2**(n + 1) and
 * 2**(n + 10), x*exp(x) and exp(x + 1)), var also stands outside them, and
 * every term holds one such power: with Z = B**(m*x) the equation is Z*f(x) = 0
 * and Z is never 0, so the roots of f are all the solutions (SymPy's too). */
static int factor_out(estate *st, const tkd_expr *p, tlist *out, int depth, tkd_err *e) {
    fmpq_t m, m0;
    fmpq_init(m);
    fmpq_init(m0);
    int same = 1;
    for (size_t i = 0; i < st->n && same; i++) {
        fmpq_mul_si(m, st->at[i].a, st->at[i].k);
        if (i == 0)
            fmpq_set(m0, m);
        same = fmpq_equal(m, m0);
        st->at[i].n = 1; /* to_y writes Z * b**c */
    }
    fmpq_clear(m);
    fmpq_clear(m0);
    if (!same)
        return TRAD_NOT_MINE;
    tkd_rf t;
    fmpz_mpoly_q_t r;
    int rc = z_form(st, p, &t, &r, e);
    if (rc)
        return rc;
    rc = TRAD_NOT_MINE;
    slong z = tkd_rf_var(&t, Z_SYM);
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r), *D = fmpz_mpoly_q_denref(r);
    fmpz_mpoly_t c0, c1;
    fmpz_mpoly_init(c0, t.ctx);
    fmpz_mpoly_init(c1, t.ctx);
    ulong zero = 0, one = 1;
    fmpz_mpoly_get_coeff_vars_ui(c0, N, &z, &zero, 1, t.ctx);
    fmpz_mpoly_get_coeff_vars_ui(c1, N, &z, &one, 1, t.ctx);
    if (z >= 0 && !tkd_rf_var_in_atoms(&t, Z_SYM) && fmpz_mpoly_degree_si(N, z, t.ctx) == 1 &&
        fmpz_mpoly_is_zero(c0, t.ctx) && fmpz_mpoly_degree_si(D, z, t.ctx) == 0) {
        fmpz_mpoly_q_t f;
        fmpz_mpoly_q_init(f, t.ctx);
        fmpz_mpoly_set(fmpz_mpoly_q_numref(f), c1, t.ctx);
        fmpz_mpoly_set(fmpz_mpoly_q_denref(f), D, t.ctx);
        tkd_expr *fx = tkd_rf_to_expr(&t, f);
        rc = !fx                           ? tkd_err_set(e, TKD_ENOMEM, "out of memory")
             : tkd_expr_has_sym(fx, Z_SYM) ? TRAD_NOT_MINE
                                           : troots(fx, st->var, out, depth + 1, e);
        tkd_expr_free(fx);
        fmpz_mpoly_q_clear(f, t.ctx);
    }
    fmpz_mpoly_clear(c0, t.ctx);
    fmpz_mpoly_clear(c1, t.ctx);
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return rc;
}

/* alpha*b**(a*x) + beta*x + gamma = 0 with one power of var (2**b + 2*b = 15):
 * x = -gamma/beta - W(z)/L, L = a*log(b), z = L*alpha*exp(-L*gamma/beta)/beta,
 * W the principal branch of Lambert's W. Taken only when z > 0: the left side
 * is then monotone, so this is the one real solution, the one SymPy answers. */
static int lambert(estate *st, const tkd_expr *p, tlist *out, tkd_err *e) {
    if (st->n != 1)
        return TRAD_NOT_MINE;
    st->at[0].n = 1; /* to_y writes Z * b**c: Z = b**(a*x) */
    tkd_rf t;
    fmpz_mpoly_q_t r;
    int rc = z_form(st, p, &t, &r, e);
    if (rc)
        return rc;
    rc = TRAD_NOT_MINE;
    tkd_err e2 = {0};
    slong z = tkd_rf_var(&t, Z_SYM), v = tkd_rf_var(&t, st->var);
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r), *D = fmpz_mpoly_q_denref(r);
    fmpz_mpoly_t c[3];
    slong vz[2] = {v, z};
    ulong ex[3][2] = {{0, 1}, {1, 0}, {0, 0}}; /* alpha, beta, gamma */
    for (int i = 0; i < 3; i++) {
        fmpz_mpoly_init(c[i], t.ctx);
        fmpz_mpoly_get_coeff_vars_ui(c[i], N, vz, ex[i], 2, t.ctx);
    }
    int ok = v >= 0 && z >= 0 && !tkd_rf_var_in_atoms(&t, Z_SYM) && !tkd_rf_var_in_atoms(&t, st->var) &&
             fmpz_mpoly_degree_si(N, z, t.ctx) == 1 && fmpz_mpoly_degree_si(N, v, t.ctx) == 1 &&
             fmpz_mpoly_degree_si(D, z, t.ctx) == 0 && fmpz_mpoly_degree_si(D, v, t.ctx) == 0;
    if (ok) { /* no x*Z term: N = alpha Z + beta x + gamma exactly */
        fmpz_mpoly_t s;
        fmpz_mpoly_init(s, t.ctx);
        fmpz_mpoly_t m;
        fmpz_mpoly_init(m, t.ctx);
        fmpz_mpoly_gen(m, z, t.ctx);
        fmpz_mpoly_mul(s, c[0], m, t.ctx);
        fmpz_mpoly_gen(m, v, t.ctx);
        fmpz_mpoly_mul(m, c[1], m, t.ctx);
        fmpz_mpoly_add(s, s, m, t.ctx);
        fmpz_mpoly_add(s, s, c[2], t.ctx);
        ok = fmpz_mpoly_equal(s, N, t.ctx) && !fmpz_mpoly_is_zero(c[0], t.ctx) && !fmpz_mpoly_is_zero(c[1], t.ctx);
        fmpz_mpoly_clear(s, t.ctx);
        fmpz_mpoly_clear(m, t.ctx);
    }
    tkd_expr *al = NULL, *be = NULL, *ga = NULL;
    if (ok) {
        al = tkd_rf_poly_to_expr(&t, c[0], NULL);
        be = tkd_rf_poly_to_expr(&t, c[1], NULL);
        ga = tkd_rf_poly_to_expr(&t, c[2], NULL);
        ok =
            al && be && ga && !tkd_expr_has_sym(al, NULL) && !tkd_expr_has_sym(be, NULL) && !tkd_expr_has_sym(ga, NULL);
    }
    if (ok) {
        const eatom *a = &st->at[0];
        tkd_expr *L = st->e_base ? tkd_expr_fmpq(a->a)
                                 : tkd_expr_mul2(tkd_expr_fmpq(a->a), tkd_expr_fn1(TKD_FN_LOG, tkd_expr_fmpq(a->b)));
        tkd_expr *g_b = tkd_expr_div(tkd_expr_copy(ga), tkd_expr_copy(be)); /* gamma/beta */
        tkd_expr *zx = tkd_expr_div(
            tkd_expr_mul(3, (tkd_expr *[]){tkd_expr_copy(L), tkd_expr_copy(al),
                                           tkd_expr_fn1(TKD_FN_EXP, tkd_expr_neg(tkd_expr_mul2(tkd_expr_copy(L),
                                                                                               tkd_expr_copy(g_b))))}),
            tkd_expr_copy(be));
        tkd_expr *zn = zx ? trat_normalize(zx, &e2) : NULL;
        if (zn) {
            tkd_expr_free(zx);
            zx = zn;
        }
        if (zx && tnum_check(zx, 1) == T_TRUE && tnum_check(zx, 0) == T_FALSE) {
            tkd_expr *xv = tkd_expr_sub(tkd_expr_neg(g_b), tkd_expr_div(tkd_expr_call("LambertW", 1, &zx), L));
            zx = NULL;
            g_b = NULL;
            L = NULL;
            tkd_expr *xn = xv ? trat_normalize(xv, &e2) : NULL;
            if (xn) {
                tkd_expr_free(xv);
                xv = xn;
            }
            rc = xv ? tlist_add(out, xv, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
        tkd_expr_free(zx);
        tkd_expr_free(g_b);
        tkd_expr_free(L);
    }
    tkd_expr_free(al);
    tkd_expr_free(be);
    tkd_expr_free(ga);
    for (int i = 0; i < 3; i++)
        fmpz_mpoly_clear(c[i], t.ctx);
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return rc;
}

/* t with the node at replaced by 1 */
static tkd_expr *without(const tkd_expr *t, const tkd_expr *at) {
    if (t == at)
        return tkd_expr_int(1);
    tkd_expr *c = tkd_expr_copy(t);
    for (size_t i = 0; c && i < c->n; i++) {
        tkd_expr *a = without(t->args[i], at);
        if (!a) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = a;
    }
    return c;
}

/* t = C * atom (products nested), C free of var, atom a power b**u or exp(u)
 * with var in u only */
static int split_term(const tkd_expr *t, const char *var, tkd_expr **C, const tkd_expr **atom) {
    const tkd_expr *at = t;
    while (at->kind == TKD_EX_MUL) {
        const tkd_expr *in = NULL;
        for (size_t i = 0; i < at->n; i++)
            if (tkd_expr_has_sym(at->args[i], var)) {
                if (in)
                    return 0;
                in = at->args[i];
            }
        if (!in)
            return 0;
        at = in;
    }
    int is_exp = at->kind == TKD_EX_FUNC && at->op == TKD_FN_EXP && at->n == 1;
    int is_pow = at->kind == TKD_EX_POW && !tkd_expr_has_sym(at->args[0], NULL);
    if (!is_exp && !is_pow)
        return 0;
    *atom = at;
    *C = without(t, at);
    if (*C && tkd_expr_has_sym(*C, NULL)) {
        tkd_expr_free(*C);
        *C = NULL;
    }
    return *C != NULL;
}

/* log(b) of an atom's base (1 for exp) into L; 0 when it is a nonzero number */
static int atom_log(ca_t L, const tkd_expr *at, ca_ctx_t ctx) {
    tkd_err e = {0};
    if (at->kind == TKD_EX_FUNC) {
        ca_one(L, ctx);
        return 0;
    }
    if (tkd_expr_to_ca(L, at->args[0], ctx, &e) || ca_check_is_zero(L, ctx) != T_FALSE)
        return -1;
    ca_log(L, L, ctx);
    return 0;
}

/* Is the base of at a real number, or I or -I? (the bases SymPy's answer
 * follows the principal logarithm for) */
static int real_or_unit_base(const tkd_expr *at, ca_ctx_t ctx, int unit_only) {
    if (at->kind == TKD_EX_FUNC)
        return !unit_only;
    ca_t b;
    ca_init(b, ctx);
    tkd_err e = {0};
    int ok = 0;
    if (!tkd_expr_to_ca(b, at->args[0], ctx, &e)) {
        qqbar_t q;
        qqbar_init(q);
        slong pp;
        ulong qq;
        if (ca_get_qqbar(q, b, ctx) && qqbar_is_root_of_unity(&pp, &qq, q) && (qq == 1 || qq == 2 || qq == 4))
            ok = 1; /* 1, -1, I, -I */
        else if (!unit_only && ca_check_is_real(b, ctx) == T_TRUE)
            ok = 1;
        qqbar_clear(q);
    }
    ca_clear(b, ctx);
    return ok;
}

/* the nonzero terms of p, nested sums flattened; *nt = 3 means more than 2 */
static void add_terms(const tkd_expr *p, const tkd_expr **term, size_t *nt) {
    if (p->kind == TKD_EX_ADD) {
        for (size_t i = 0; i < p->n && *nt < 3; i++)
            add_terms(p->args[i], term, nt);
    } else if (!tkd_expr_is_int(p, 0) && *nt < 3) {
        term[(*nt)++] = p;
    }
}

/* C1*b1**u1 + C2*b2**u2 = 0 (real bases; I, -1 too) or C1*b**x + C2 = 0 (b a
 * root of unity of order 1, 2 or 4: I**n = -I), u_i = a_i*x + c_i: SymPy's
 * answer is the principal logarithm's, u1*log(b1) - u2*log(b2) = log(-C2/C1):
 * 3*2**x = 2*3**x -> [1], (-2)**n = -2**n -> [1], I**n = -I -> [-1]. */
static int two_terms(const tkd_expr *p, const char *var, tlist *out, tkd_err *e) {
    const tkd_expr *term[3];
    size_t nt = 0;
    add_terms(p, term, &nt);
    if (nt != 2)
        return TRAD_NOT_MINE;
    tkd_expr *C[2] = {NULL, NULL};
    const tkd_expr *at[2] = {NULL, NULL};
    int single = !tkd_expr_has_sym(term[1], var) ? 1 : !tkd_expr_has_sym(term[0], var) ? 0 : -1;
    int rc = TRAD_NOT_MINE;
    for (int i = 0; i < 2; i++) {
        if (i == single) {
            C[i] = tkd_expr_copy(term[i]);
            if (!C[i] || tkd_expr_has_sym(C[i], NULL))
                goto done;
        } else if (!split_term(term[i], var, &C[i], &at[i])) {
            goto done;
        }
    }
    if (single >= 0 && at[1 - single]->kind == TKD_EX_POW && at[1 - single]->args[1]->kind == TKD_EX_SYM) {
        /* b**x = w: the atom first */
        if (single == 0) {
            tkd_expr *t = C[0];
            C[0] = C[1];
            C[1] = t;
            at[0] = at[1];
            at[1] = NULL;
        }
    } else if (single >= 0) {
        goto done;
    }
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    ca_t w, L[2], num, den, t;
    ca_init(w, ctx);
    ca_init(L[0], ctx);
    ca_init(L[1], ctx);
    ca_init(num, ctx);
    ca_init(den, ctx);
    ca_init(t, ctx);
    fmpq_t a[2];
    fmpq_init(a[0]);
    fmpq_init(a[1]);
    tkd_expr *c[2] = {NULL, NULL};
    tkd_err e2 = {0};
    int ok = 1;
    for (int i = 0; i < 2 && ok; i++) {
        if (!at[i])
            continue;
        ok = real_or_unit_base(at[i], ctx, single >= 0) && !atom_log(L[i], at[i], ctx) &&
             tlinear(at[i]->kind == TKD_EX_POW ? at[i]->args[1] : at[i]->args[0], var, a[i], &c[i]) &&
             !tkd_expr_has_sym(c[i], NULL);
    }
    /* w = -C2/C1 != 0 */
    ok = ok && !tkd_expr_to_ca(w, C[1], ctx, &e2) && !tkd_expr_to_ca(t, C[0], ctx, &e2) &&
         ca_check_is_zero(t, ctx) == T_FALSE && ca_check_is_zero(w, ctx) == T_FALSE;
    if (ok) {
        ca_div(w, w, t, ctx);
        ca_neg(w, w, ctx);
        /* x (a1 L1 - a2 L2) = log(w) - c1 L1 + c2 L2; a single atom has L2 = 0 */
        ca_log(num, w, ctx);
        for (int i = 0; i < 2 && ok; i++) {
            if (!at[i])
                continue;
            ok = !tkd_expr_to_ca(t, c[i], ctx, &e2);
            ca_mul(t, t, L[i], ctx);
            if (i == 0)
                ca_sub(num, num, t, ctx);
            else
                ca_add(num, num, t, ctx);
            ca_mul_fmpq(t, L[i], a[i], ctx);
            if (i == 0)
                ca_add(den, den, t, ctx);
            else
                ca_sub(den, den, t, ctx);
        }
        ok = ok && ca_check_is_zero(den, ctx) == T_FALSE;
    }
    if (ok) {
        ca_div(num, num, den, ctx);
        tkd_expr *xv = ca_check_is_number(num, ctx) == T_TRUE ? tkd_expr_from_ca(num, ctx, &e2) : NULL;
        rc = xv ? tlist_add(out, xv, e) : TRAD_NOT_MINE;
    }
    for (int i = 0; i < 2; i++) {
        fmpq_clear(a[i]);
        tkd_expr_free(c[i]);
        ca_clear(L[i], ctx);
    }
    ca_clear(w, ctx);
    ca_clear(num, ctx);
    ca_clear(den, ctx);
    ca_clear(t, ctx);
    ca_ctx_clear(ctx);
done:
    tkd_expr_free(C[0]);
    tkd_expr_free(C[1]);
    return rc;
}

/* SymPy multiplies powers with one exponent at once (2**x*4**x is 8**x):
 * merge them in place in every product of p. */
static void merge_same_exponent(tkd_expr *p, const char *var) {
    for (size_t i = 0; i < p->n; i++)
        merge_same_exponent(p->args[i], var);
    if (p->kind != TKD_EX_MUL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        tkd_expr *a = p->args[i];
        if (a->kind != TKD_EX_POW || a->args[0]->kind != TKD_EX_NUM || !tkd_expr_has_sym(a->args[1], var))
            continue;
        for (size_t j = i + 1; j < p->n; j++) {
            tkd_expr *b = p->args[j];
            if (b->kind != TKD_EX_POW || b->args[0]->kind != TKD_EX_NUM || !tkd_expr_equal(a->args[1], b->args[1]))
                continue;
            fmpq_mul(a->args[0]->q, a->args[0]->q, b->args[0]->q);
            fmpq_one(b->args[0]->q); /* 1**u: a constant 1 left in the product */
            tkd_expr *one = tkd_expr_int(1);
            if (one) {
                tkd_expr_free(b);
                p->args[j] = one;
            }
        }
    }
}

int texp_roots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e) {
    tkd_expr *p = trat_prep(x, e);
    if (!p)
        return e->code;
    merge_same_exponent(p, var);
    estate st;
    memset(&st, 0, sizeof st);
    st.var = var;
    fmpq_init(st.B);
    collect(&st, p);
    int rc = TRAD_NOT_MINE;
    if (!st.bad && st.n > 0 && st.outside) {
        rc = factor_out(&st, p, out, depth, e);
        if (rc == TRAD_NOT_MINE)
            rc = lambert(&st, p, out, e);
    } else if (st.bad || !st.n) {
        rc = two_terms(p, var, out, e);
    } else {
        /* M: common denominator of m_i = k_i*a_i; n_i = m_i*M */
        fmpz_t M;
        fmpz_init_set_ui(M, 1);
        fmpq_t m;
        fmpq_init(m);
        for (size_t i = 0; i < st.n; i++) {
            fmpq_mul_si(m, st.at[i].a, st.at[i].k);
            fmpz_lcm(M, M, fmpq_denref(m));
        }
        int ok = fmpz_cmp_ui(M, EXP_YDEG_MAX) <= 0;
        for (size_t i = 0; i < st.n && ok; i++) {
            fmpq_mul_si(m, st.at[i].a, st.at[i].k);
            fmpq_mul_fmpz(m, m, M);
            ok = !tfmpz_abs_gt(fmpq_numref(m), EXP_YDEG_MAX);
            st.at[i].n = ok ? fmpz_get_si(fmpq_numref(m)) : 0;
        }
        slong Ms = fmpz_get_si(M);
        fmpq_clear(m);
        fmpz_clear(M);
        if (!ok) {
            rc = tkd_err_set(e, TKD_ELIMIT, "unsupported: the exponential equation has too high a degree in %s**(1/n)",
                             var);
        } else if (same_base_shortcut(&st, p, out, e, &rc)) {
            /* rc set */
        } else {
            static const char *Y = "tkd_y_";
            tkd_expr *ye = to_y(&st, p, Y);
            tlist ys = {0};
            if (!ye)
                rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
            else if (tkd_expr_has_sym(ye, var))
                rc = TRAD_NOT_MINE;
            else
                rc = troots(ye, Y, &ys, depth + 1, e);
            for (size_t i = 0; !rc && i < ys.n; i++) {
                if (tkd_expr_has_sym(ys.v[i], NULL)) {
                    rc = tkd_err_set(e, TKD_EMATH, "unsupported: an exponential equation with parameters");
                    break;
                }
                if (tnum_check(ys.v[i], 0) != T_FALSE)
                    continue; /* B**(x/M) is never 0 */
                tkd_expr *xv = x_of_y(&st, ys.v[i], Ms, e);
                rc = xv ? tlist_add(out, xv, e) : e->code;
            }
            tlist_free(&ys);
            tkd_expr_free(ye);
        }
    }
    for (size_t i = 0; i < st.n; i++) {
        fmpq_clear(st.at[i].b);
        fmpq_clear(st.at[i].a);
        tkd_expr_free(st.at[i].c);
    }
    fmpq_clear(st.B);
    tkd_expr_free(p);
    return rc;
}
