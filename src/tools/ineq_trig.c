/*
 * Periodic inequalities for the inequality tools: rational functions (and
 * even roots) of sin, cos, tan, cot, sec and csc of a*x, with a rational or
 * a rational multiple of pi, answered as SymPy's solve_univariate_inequality
 * answers them: Reals (True) when the relation holds wherever it is defined,
 * EmptySet (False) when it holds nowhere, else the solution set within one
 * period [0, P), P as SymPy's periodicity finds it.
 *
 * With y = g*x (g the gcd of the a's) every function is one of k*y, k an
 * integer, and t = tan(y/2) makes it a rational function of t
 * (e**(i*k*y) = (1 + i*t)**(2k)/(1 + t**2)**k): the relation is solved
 * exactly over the t-line (rset.c), which is y in (-pi, pi); y = pi is the
 * point 0 of the chart u = tan((y - pi)/2). An end t0 maps back to
 * y = 2*atan(t0) (a rational multiple of pi when qqbar finds one).
 *
 * The period: SymPy takes the lcm of the functions' periods after its
 * simplify, which shortens a period where it rewrites sin(u)*cos(u) as
 * sin(2*u)/2 and lengthens one where it rewrites cos(2*u) as 1 - 2*sin(u)**2
 * (3*cos(2*x) - 1/3, not cos(2*x) - 1/3). The true (shortest) period is found
 * numerically (a shift is a period when the values agree at several points to
 * 200 bits), and a set is answered only when it equals SymPy's: the structural
 * period, or the one after the sin(u)*cos(u) rewrite, with no cos or sec of an
 * even multiple of x; anything else is refused (Reals and EmptySet need no
 * period).
 */
#include <stdlib.h>
#include <string.h>

#include <acb.h>

#include "rset_int.h"

#define TRIG_ATOMS_MAX 16
#define TRIG_K_MAX 12     /* |k|: the degree 2k in t */
#define TRIG_SHIFT_MAX 12 /* shortest period tried: the structural one / 12 */
#define TRIG_T "tkd_t"

typedef struct atom {
    const tkd_expr *x; /* the function node */
    fmpq_t a;          /* argument a*var (a rational, or a/pi when gpi) */
    slong k;           /* a / g */
} atom;

typedef struct scan_st {
    const char *var;
    atom at[TRIG_ATOMS_MAX];
    int n, gpi, bad;
} scan_st;

struct ineq_tset {
    int kind; /* 0 a set within the period, 1 everything (Reals), 2 nothing */
    fmpq_t g; /* y = g*x (times pi when gpi) */
    int gpi;
    slong N;     /* the period is 2*pi/N in y */
    tkd_rset *S; /* solution set over the t-line */
    int pi_in;   /* y = pi in the set */
};

static int is_trig(const tkd_expr *x) {
    return x->kind == TKD_EX_FUNC && x->n == 1 &&
           (x->op == TKD_FN_SIN || x->op == TKD_FN_COS || x->op == TKD_FN_TAN || x->op == TKD_FN_COT ||
            x->op == TKD_FN_SEC || x->op == TKD_FN_CSC);
}

/* a*var with a rational (gpi 0) or a rational times pi (gpi 1): 1, else 0 */
static int arg_coef(const tkd_expr *u, const char *var, fmpq_t a, int *gpi) {
    tkd_expr **k = NULL;
    slong deg = -1;
    tkd_err e = {0};
    if (tkd_expr_poly_coeffs(u, var, &k, &deg, &e))
        return 0;
    int ok = 0;
    if (deg == 1 && tkd_expr_is_int(k[0], 0) && !tkd_expr_has_sym(k[1], NULL)) {
        if (k[1]->kind == TKD_EX_NUM) {
            fmpq_set(a, k[1]->q);
            *gpi = 0;
            ok = 1;
        } else {
            tkd_expr *r = tkd_expr_div(tkd_expr_copy(k[1]), tkd_expr_const(TKD_C_PI)), *s = NULL;
            if (r && !tkd_expr_simplify(r, &s, &e) && s->kind == TKD_EX_NUM) {
                fmpq_set(a, s->q);
                *gpi = 1;
                ok = 1;
            }
            tkd_expr_free(r);
            tkd_expr_free(s);
        }
    }
    tkd_expr_vec_free(k, (size_t)deg + 1);
    return ok && !fmpq_is_zero(a);
}

static void scan(scan_st *s, const tkd_expr *x) {
    if (s->bad || !tkd_expr_has_sym(x, s->var))
        return;
    if (is_trig(x)) {
        for (int i = 0; i < s->n; i++)
            if (tkd_expr_equal(s->at[i].x, x))
                return;
        if (s->n == TRIG_ATOMS_MAX) {
            s->bad = 1;
            return;
        }
        atom *a = s->at + s->n;
        fmpq_init(a->a);
        s->n++;
        int gpi = 0;
        if (!arg_coef(x->args[0], s->var, a->a, &gpi) || (s->n > 1 && gpi != s->gpi))
            s->bad = 1;
        s->gpi = gpi;
        a->x = x;
        return;
    }
    if (x->kind == TKD_EX_ADD || x->kind == TKD_EX_MUL) {
        for (size_t i = 0; i < x->n; i++)
            scan(s, x->args[i]);
        return;
    }
    if (x->kind == TKD_EX_POW && x->args[1]->kind == TKD_EX_NUM) {
        scan(s, x->args[0]);
        return;
    }
    s->bad = 1; /* the variable alone, in an exponent or in another function: not periodic here */
}

/* Re and Im of (1 + i*t)**(2k) as polynomials in t, and (1 + t**2)**k. */
static void half_angle(fmpz_poly_t re, fmpz_poly_t im, fmpz_poly_t den, slong k) {
    fmpz_t b;
    fmpz_init(b);
    fmpz_poly_zero(re);
    fmpz_poly_zero(im);
    for (slong j = 0; j <= 2 * k; j++) {
        fmpz_bin_uiui(b, (ulong)(2 * k), (ulong)j);
        if ((j / 2) % 2)
            fmpz_neg(b, b); /* i**j = (-1)**(j/2) (times i when j is odd) */
        fmpz_poly_set_coeff_fmpz(j % 2 ? im : re, j, b);
    }
    fmpz_poly_t q;
    fmpz_poly_init(q);
    fmpz_poly_set_coeff_si(q, 0, 1);
    fmpz_poly_set_coeff_si(q, 2, 1);
    fmpz_poly_pow(den, q, (ulong)k);
    fmpz_poly_clear(q);
    fmpz_clear(b);
}

static tkd_expr *poly_expr(const fmpz_poly_t p) {
    fmpq_poly_t q;
    fmpq_poly_init(q);
    fmpq_poly_set_fmpz_poly(q, p);
    tkd_expr *r = tkd_expr_from_fmpq_poly(q, TRIG_T);
    fmpq_poly_clear(q);
    return r;
}

/* f(k*y) in the chart t = tan(y/2) (chart 0) or tan((y - pi)/2) (chart 1),
 * a denominator as a power -1 so that its zeros stay holes (rset.c). */
static tkd_expr *atom_in_t(int fn, slong k, int chart) {
    slong ak = k < 0 ? -k : k;
    int s = (k < 0 ? -1 : 1), c = 1; /* signs of the odd functions, of cos(k*pi) */
    if (chart && ak % 2)
        c = -1;
    fmpz_poly_t re, im, den;
    fmpz_poly_init(re);
    fmpz_poly_init(im);
    fmpz_poly_init(den);
    half_angle(re, im, den, ak);
    tkd_expr *R = poly_expr(re), *I = poly_expr(im), *D = poly_expr(den), *out = NULL;
    fmpz_poly_clear(re);
    fmpz_poly_clear(im);
    fmpz_poly_clear(den);
    if (!R || !I || !D) {
        tkd_expr_free(R);
        tkd_expr_free(I);
        tkd_expr_free(D);
        return NULL;
    }
    tkd_expr *num, *dn;
    int sign;
    switch (fn) {
    case TKD_FN_COS: num = R, dn = D, sign = c, tkd_expr_free(I); break;
    case TKD_FN_SIN: num = I, dn = D, sign = s * c, tkd_expr_free(R); break;
    case TKD_FN_TAN: num = I, dn = R, sign = s, tkd_expr_free(D); break;
    case TKD_FN_COT: num = R, dn = I, sign = s, tkd_expr_free(D); break;
    case TKD_FN_SEC: num = D, dn = R, sign = c, tkd_expr_free(I); break;
    default: num = D, dn = I, sign = s * c, tkd_expr_free(R); break; /* csc */
    }
    out = tkd_expr_mul2(num, tkd_expr_pow(dn, tkd_expr_int(-1)));
    return sign < 0 ? tkd_expr_neg(out) : out;
}

static tkd_expr *subst_atoms(const tkd_expr *x, const scan_st *s, tkd_expr *const *by) {
    for (int i = 0; i < s->n; i++)
        if (tkd_expr_equal(x, s->at[i].x))
            return tkd_expr_copy(by[i]);
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t i = 0; c && i < c->n; i++) {
        if (!tkd_expr_has_sym(c->args[i], s->var))
            continue;
        tkd_expr *r = subst_atoms(x->args[i], s, by);
        if (!r) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = r;
    }
    return c;
}

/* d op 0 in the chart: the solution set over the chart's line. */
static int chart_set(const tkd_expr *d, const scan_st *s, int chart, int op, tkd_rset **out) {
    tkd_expr *by[TRIG_ATOMS_MAX] = {0};
    int rc = 0;
    for (int i = 0; i < s->n && !rc; i++)
        if (!(by[i] = atom_in_t(s->at[i].x->op, s->at[i].k, chart)))
            rc = TKD_ENOMEM;
    tkd_expr *dt = rc ? NULL : subst_atoms(d, s, by);
    tkd_expr *rel = dt ? tkd_expr_rel((tkd_expr_rel_op)op, dt, tkd_expr_int(0)) : NULL;
    tkd_err e = {0};
    if (!rc && (!rel || tkd_rset_solve(rel, TRIG_T, 0, out, &e)))
        rc = TKD_EMATH;
    tkd_expr_free(rel);
    /* where tan, sec (cos = 0) and cot, csc (sin = 0) are undefined, even when the
     * expression's canonical form or the radical path cancels the pole (-cot(x) + csc(x)) */
    for (int i = 0; i < s->n && !rc; i++) {
        int fn = s->at[i].x->op;
        if (fn == TKD_FN_SIN || fn == TKD_FN_COS)
            continue;
        slong ak = labs(s->at[i].k);
        fmpz_poly_t re, im, den;
        fmpz_poly_init(re);
        fmpz_poly_init(im);
        fmpz_poly_init(den);
        half_angle(re, im, den, ak);
        tkd_expr *z = poly_expr(fn == TKD_FN_TAN || fn == TKD_FN_SEC ? re : im);
        fmpz_poly_clear(re);
        fmpz_poly_clear(im);
        fmpz_poly_clear(den);
        tkd_expr *nz = z ? tkd_expr_rel(TKD_R_NE, z, tkd_expr_int(0)) : NULL;
        tkd_rset *d = NULL, *t = NULL;
        if (!nz || tkd_rset_solve(nz, TRIG_T, 0, &d, &e) || tkd_rset_combine(*out, d, 1, &t))
            rc = TKD_EMATH;
        tkd_expr_free(nz);
        tkd_rset_free(d);
        if (!rc) {
            tkd_rset_free(*out);
            *out = t;
        }
    }
    if (rc) {
        tkd_rset_free(*out);
        *out = NULL;
    }
    for (int i = 0; i < s->n; i++)
        tkd_expr_free(by[i]);
    return rc;
}

static int rset_has_zero(const tkd_rset *S) {
    for (int k = 0; k < S->n; k++) {
        int c = qqbar_sgn_re(S->cut + k);
        if (c == 0)
            return S->in[2 * k + 1];
        if (c > 0)
            return S->in[2 * k];
    }
    return S->in[2 * S->n];
}

/* Is 2*pi/(n*g) (in x) a period of d? Values at several points agree to 200 bits. */
static int is_period(const tkd_expr *d, const char *var, const scan_st *s, const fmpq_t g, slong n) {
    const slong prec = 256;
    static const int pts[][2] = {{3, 7}, {11, 13}, {-17, 19}, {5, 23}, {29, 31}, {-2, 37}};
    acb_t x, v0, v1, sh;
    acb_init(x);
    acb_init(v0);
    acb_init(v1);
    acb_init(sh);
    /* shift = 2*pi/(n*g), or 2/(n*g) when g carries pi */
    arb_t r;
    arb_init(r);
    arb_set_si(r, 2);
    if (!s->gpi) {
        arb_t p;
        arb_init(p);
        arb_const_pi(p, prec);
        arb_mul(r, r, p, prec);
        arb_clear(p);
    }
    arb_div_si(r, r, n, prec);
    arb_div_fmpz(r, r, fmpq_numref(g), prec);
    arb_mul_fmpz(r, r, fmpq_denref(g), prec);
    acb_set_arb(sh, r);
    int ok = 1, tried = 0;
    for (size_t i = 0; i < sizeof pts / sizeof pts[0] && ok; i++) {
        tkd_err e = {0};
        acb_set_si(x, pts[i][0]);
        acb_div_si(x, x, pts[i][1], prec);
        if (tkd_expr_eval_acb(v0, d, 1, &var, x, prec, &e) || !acb_is_finite(v0))
            continue;
        acb_add(x, x, sh, prec);
        if (tkd_expr_eval_acb(v1, d, 1, &var, x, prec, &e) || !acb_is_finite(v1)) {
            ok = 0;
            break;
        }
        acb_sub(v1, v1, v0, prec);
        /* equal: the difference is within 2**-200 of 0 */
        mag_t m;
        mag_init(m);
        acb_get_mag(m, v1);
        ok = mag_cmp_2exp_si(m, -200) <= 0;
        mag_clear(m);
        tried++;
    }
    arb_clear(r);
    acb_clear(x);
    acb_clear(v0);
    acb_clear(v1);
    acb_clear(sh);
    return ok && tried >= 3;
}

/* SymPy's period after its simplify rewrites sin(u)*cos(u) as sin(2*u)/2:
 * 2*pi/N0 in y, or 0 when the rewrite leaves other functions of y. */
static slong doubled_n(const tkd_expr *x, const scan_st *s, int *used, int *other) {
    if (!tkd_expr_has_sym(x, s->var))
        return 0;
    slong n = 0;
    if (x->kind == TKD_EX_MUL) {
        for (size_t i = 0; i < x->n; i++) {
            const tkd_expr *f = x->args[i];
            if (!(is_trig(f) && f->op == TKD_FN_SIN))
                continue;
            for (size_t j = 0; j < x->n; j++) {
                const tkd_expr *c = x->args[j];
                if (is_trig(c) && c->op == TKD_FN_COS && tkd_expr_equal(c->args[0], f->args[0])) {
                    for (int a = 0; a < s->n; a++)
                        if (tkd_expr_equal(s->at[a].x, f))
                            n = n_gcd((ulong)n, (ulong)(2 * labs(s->at[a].k)));
                    *used = 1;
                    /* the rest of the product */
                    for (size_t m = 0; m < x->n; m++)
                        if (m != i && m != j)
                            n = n_gcd((ulong)n, (ulong)doubled_n(x->args[m], s, used, other));
                    return n;
                }
            }
        }
    }
    if (is_trig(x)) {
        *other = 1;
        return 0;
    }
    for (size_t i = 0; i < x->n; i++)
        n = n_gcd((ulong)n, (ulong)doubled_n(x->args[i], s, used, other));
    return n;
}

static const int neg_op[] = {
    [TKD_R_LT] = TKD_R_GE, [TKD_R_LE] = TKD_R_GT, [TKD_R_GT] = TKD_R_LE, [TKD_R_GE] = TKD_R_LT};

int ineq_trig_solve(const tkd_expr *rel, const char *var, ineq_tset **out) {
    *out = NULL;
    if (rel->kind != TKD_EX_REL || rel->op == TKD_R_EQ || rel->op == TKD_R_NE)
        return TKD_EMATH;
    tkd_expr *d = tkd_expr_sub(tkd_expr_copy(rel->args[0]), tkd_expr_copy(rel->args[1]));
    if (!d)
        return TKD_ENOMEM;
    scan_st s = {.var = var};
    scan(&s, d);
    int rc = s.bad || !s.n ? TKD_EMATH : 0;
    ineq_tset *T = calloc(1, sizeof *T);
    if (!T) {
        tkd_expr_free(d);
        return TKD_ENOMEM;
    }
    fmpq_t g;
    fmpq_init(g);
    /* g = gcd of the coefficients; k = a/g */
    for (int i = 0; i < s.n && !rc; i++)
        fmpq_gcd(g, g, s.at[i].a); /* gcd(0, a) = |a| */
    int unpred = 0;
    slong n0 = 0; /* the structural period 2*pi/n0 in y: lcm of the functions' periods */
    for (int i = 0; i < s.n && !rc; i++) {
        fmpq_t k;
        fmpq_init(k);
        fmpq_div(k, s.at[i].a, g);
        if (!fmpz_is_one(fmpq_denref(k)) || fmpz_bits(fmpq_numref(k)) > 4 ||
            labs(fmpz_get_si(fmpq_numref(k))) > TRIG_K_MAX)
            rc = TKD_EMATH;
        else
            s.at[i].k = fmpz_get_si(fmpq_numref(k));
        fmpq_clear(k);
        if (!rc) {
            int op = s.at[i].x->op;
            slong di = labs(s.at[i].k) * (op == TKD_FN_TAN || op == TKD_FN_COT ? 2 : 1);
            n0 = (slong)n_gcd((ulong)n0, (ulong)di);
        }
    }
    if (!rc) {
        T->gpi = s.gpi;
        /* the shortest period 2*pi/n, n a multiple of n0 */
        slong n = n0;
        for (slong j = 2; j <= TRIG_SHIFT_MAX; j++)
            if (is_period(d, var, &s, g, n0 * j))
                n = n0 * j;
        T->N = n;
        fmpq_set(T->g, g);
        /* simplify may also lengthen it: 3*cos(2*x) - 1/3 becomes 8/3 - 6*sin(x)**2 (period 2*pi) */
        for (int i = 0; i < s.n; i++)
            if ((s.at[i].x->op == TKD_FN_COS || s.at[i].x->op == TKD_FN_SEC) && !s.gpi &&
                fmpz_is_even(fmpq_numref(s.at[i].a)))
                unpred = 1;
        if (n != n0) {
            int used = 0, other = 0;
            slong nd = doubled_n(d, &s, &used, &other);
            for (int i = 0; i < s.n; i++)
                if (s.at[i].x->op != TKD_FN_SIN && s.at[i].x->op != TKD_FN_COS)
                    other = 1;
            if (!used || other || nd != n)
                unpred = 1; /* SymPy's period is not predictable here: only Reals or EmptySet answered */
        }
    }
    /* the set and where the relation is defined, over the t-line and at y = pi */
    tkd_rset *S = NULL, *C = NULL, *S1 = NULL, *C1 = NULL, *D = NULL;
    if (!rc)
        rc = chart_set(d, &s, 0, rel->op, &S);
    if (!rc)
        rc = chart_set(d, &s, 0, neg_op[rel->op], &C);
    if (!rc)
        rc = chart_set(d, &s, 1, rel->op, &S1);
    if (!rc)
        rc = chart_set(d, &s, 1, neg_op[rel->op], &C1);
    if (!rc && tkd_rset_combine(S, C, 0, &D))
        rc = TKD_ENOMEM;
    if (!rc) {
        T->pi_in = rset_has_zero(S1);
        int pi_def = T->pi_in || rset_has_zero(C1);
        int full = D->n == 0 && D->in[0] && pi_def;
        int strict = rel->op == TKD_R_LT || rel->op == TKD_R_GT;
        if (tkd_rset_equal(S, D) && T->pi_in == pi_def) {
            /* holds wherever defined: SymPy's range test says Reals when the bound is
             * attained, which needs no poles (a strict relation near one is refused) */
            if (strict && !full)
                rc = TKD_EMATH;
            T->kind = 1;
        } else if (S->n == 0 && !S->in[0] && !T->pi_in) {
            T->kind = 2;
        } else if (unpred) {
            rc = TKD_EMATH;
        } else {
            T->S = S;
            S = NULL;
        }
    }
    tkd_rset_free(S);
    tkd_rset_free(C);
    tkd_rset_free(S1);
    tkd_rset_free(C1);
    tkd_rset_free(D);
    for (int i = 0; i < s.n; i++)
        fmpq_clear(s.at[i].a);
    fmpq_clear(g);
    tkd_expr_free(d);
    if (rc) {
        ineq_trig_free(T);
        return rc;
    }
    *out = T;
    return 0;
}

void ineq_trig_free(ineq_tset *T) {
    if (!T)
        return;
    fmpq_clear(T->g);
    tkd_rset_free(T->S);
    free(T);
}

int ineq_trig_and(ineq_tset *a, const ineq_tset *b) {
    if (a->kind == 2 || b->kind == 1)
        return 0;
    if (b->kind == 2 || a->kind == 1) { /* a becomes a copy of b */
        tkd_rset *all = NULL, *S = NULL;
        if (b->S && (tkd_rset_all(1, &all) || tkd_rset_combine(all, b->S, 1, &S))) {
            tkd_rset_free(all);
            return TKD_ENOMEM;
        }
        tkd_rset_free(all);
        tkd_rset_free(a->S);
        a->S = S;
        a->kind = b->kind;
        a->pi_in = b->pi_in;
        a->N = b->N;
        a->gpi = b->gpi;
        fmpq_set(a->g, b->g);
        return 0;
    }
    if (a->N != b->N || a->gpi != b->gpi || !fmpq_equal(a->g, b->g))
        return TKD_EMATH; /* periods that differ: not combined here */
    tkd_rset *t = NULL;
    if (tkd_rset_combine(a->S, b->S, 1, &t))
        return TKD_ENOMEM;
    tkd_rset_free(a->S);
    a->S = t;
    a->pi_in &= b->pi_in;
    if (t->n == 0 && !t->in[0] && !a->pi_in)
        a->kind = 2;
    return 0;
}

/* ---- printing ---- */

/* x = y/g for y = 2*atan(t) + 2*pi*branch (t NULL: y = pi; t from qqbar). */
static tkd_expr *x_end(const ineq_tset *T, const qqbar_t t, int branch, int y_pi) {
    tkd_expr *y;
    slong p;
    ulong q;
    if (y_pi) {
        y = tkd_expr_const(TKD_C_PI);
    } else if (qqbar_atan_pi(&p, &q, t)) {
        y = tkd_expr_mul2(tkd_expr_rat(2 * p + 2 * branch * (slong)q, (long)q), tkd_expr_const(TKD_C_PI));
    } else {
        tkd_err e = {0};
        tkd_expr *te = tkd_expr_from_qqbar(t, &e);
        if (!te)
            return NULL;
        y = tkd_expr_mul2(tkd_expr_int(2), tkd_expr_fn1(TKD_FN_ATAN, te));
        if (branch)
            y = tkd_expr_add2(y, tkd_expr_mul2(tkd_expr_int(2), tkd_expr_const(TKD_C_PI)));
    }
    tkd_expr *g = tkd_expr_fmpq(T->g);
    if (T->gpi)
        g = tkd_expr_mul2(g, tkd_expr_const(TKD_C_PI));
    tkd_expr *x = tkd_expr_div(y, g), *s = NULL;
    tkd_err e = {0};
    if (x && tkd_expr_simplify(x, &s, &e))
        s = NULL;
    tkd_expr_free(x);
    return s;
}

/* The pieces of S within [lo, hi) of the t-line (lo, hi region limits as
 * rsets), mapped to x on branch b; an end at +-oo maps to y = pi. */
static int add_pieces(const ineq_tset *T, const tkd_rset *S, int branch, ineq_seg *v, int *nv, int max) {
    int R = 2 * S->n + 1;
    for (int i = 0; i < R;) {
        if (!S->in[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < R && S->in[j + 1])
            j++;
        if (*nv == max)
            return TKD_ELIMIT;
        ineq_seg *g = v + (*nv)++;
        memset(g, 0, sizeof *g);
        /* lower end */
        if (i == 0) {
            g->lo = x_end(T, NULL, 0, 1); /* t -> -oo: y -> pi from above */
            g->lc = 0;
        } else {
            int k = i % 2 ? i / 2 : i / 2 - 1;
            g->lo = x_end(T, S->cut + k, branch, 0);
            g->lc = i % 2;
        }
        if (j == R - 1) {
            g->hi = x_end(T, NULL, 0, 1);
            g->hc = 0;
        } else {
            int k = j / 2;
            g->hi = x_end(T, S->cut + k, branch, 0);
            g->hc = j % 2;
        }
        if (!g->lo || !g->hi)
            return TKD_EMATH;
        i = j + 1;
    }
    return 0;
}

#define TRIG_SEGS_MAX 256

static void print_end(tkd_buf *b, const tkd_expr *x) {
    char *s = tkd_expr_to_str(x);
    tkd_buf_puts(b, s ? s : "?");
    free(s);
}

/* Pieces with expression ends (NULL: -oo or oo) as SymPy prints them: a set
 * (Union of Interval..., {point}), or with var relations joined by & and |. */
int ineq_print_segs(const ineq_seg *v, int nv, const char *var, tkd_buf *b) {
    if (nv == 0)
        return tkd_buf_puts(b, var ? "False" : "EmptySet");
    if (nv == 1 && !v[0].lo && !v[0].hi)
        return tkd_buf_puts(b, var ? "True" : "Reals");
    if (!var && nv > 1)
        tkd_buf_puts(b, "Union(");
    for (int i = 0; i < nv; i++) {
        const ineq_seg *g = v + i;
        int lc = g->lo && g->lc, hc = g->hi && g->hc;
        int point = lc && hc && tkd_expr_equal(g->lo, g->hi);
        if (i)
            tkd_buf_puts(b, var ? " | " : ", ");
        if (var) {
            if (point) {
                tkd_buf_printf(b, "Eq(%s, ", var);
                print_end(b, g->lo);
                tkd_buf_putc(b, ')');
                continue;
            }
            int both = g->lo && g->hi;
            if (nv > 1)
                tkd_buf_putc(b, '(');
            if (g->lo) {
                tkd_buf_puts(b, both ? "(" : "");
                print_end(b, g->lo);
                tkd_buf_printf(b, " %s %s%s", lc ? "<=" : "<", var, both ? ")" : "");
            }
            if (both)
                tkd_buf_puts(b, " & ");
            if (g->hi) {
                tkd_buf_printf(b, "%s%s %s ", both ? "(" : "", var, hc ? "<=" : "<");
                print_end(b, g->hi);
                tkd_buf_puts(b, both ? ")" : "");
            }
            if (nv > 1)
                tkd_buf_putc(b, ')');
        } else if (point) {
            tkd_buf_putc(b, '{');
            print_end(b, g->lo);
            tkd_buf_putc(b, '}');
        } else {
            tkd_buf_puts(b, lc && hc ? "Interval("
                            : lc     ? "Interval.Ropen("
                            : hc     ? "Interval.Lopen("
                                     : "Interval.open(");
            if (g->lo)
                print_end(b, g->lo);
            else
                tkd_buf_puts(b, "-oo");
            tkd_buf_puts(b, ", ");
            if (g->hi)
                print_end(b, g->hi);
            else
                tkd_buf_puts(b, "oo");
            tkd_buf_putc(b, ')');
        }
    }
    if (!var && nv > 1)
        tkd_buf_putc(b, ')');
    return b->data ? 0 : TKD_ENOMEM;
}

int ineq_trig_print(const ineq_tset *T, const char *var, tkd_buf *b) {
    if (T->kind)
        return tkd_buf_puts(b, T->kind == 1 ? (var ? "True" : "Reals") : (var ? "False" : "EmptySet"));
    ineq_seg *v = calloc(TRIG_SEGS_MAX, sizeof *v);
    if (!v)
        return TKD_ENOMEM;
    int nv = 0, rc = 0;
    tkd_rset *lim = NULL, *pos = NULL, *neg = NULL;
    tkd_err e = {0};
    tkd_expr *zero = tkd_expr_int(0);
    if (T->N >= 2) {
        /* y in [0, 2*pi/N): t in [0, tan(pi/N)) */
        tkd_expr *hi = NULL;
        if (T->N > 2) {
            qqbar_t q;
            qqbar_init(q);
            qqbar_tan_pi(q, 1, (ulong)T->N);
            hi = tkd_expr_from_qqbar(q, &e);
            qqbar_clear(q);
            if (!hi)
                rc = TKD_EMATH;
        }
        if (!rc && (tkd_rset_interval(zero, hi, 1, 0, &lim, &e) || tkd_rset_combine(T->S, lim, 1, &pos)))
            rc = TKD_EMATH;
        tkd_expr_free(hi);
        if (!rc)
            rc = add_pieces(T, pos, 0, v, &nv, TRIG_SEGS_MAX);
    } else {
        if (tkd_rset_interval(zero, NULL, 1, 0, &lim, &e) || tkd_rset_combine(T->S, lim, 1, &pos))
            rc = TKD_EMATH;
        if (!rc) {
            tkd_rset_complement(lim);
            if (tkd_rset_combine(T->S, lim, 1, &neg))
                rc = TKD_ENOMEM;
        }
        if (!rc)
            rc = add_pieces(T, pos, 0, v, &nv, TRIG_SEGS_MAX);
        if (!rc && T->pi_in) {
            /* y = pi closes the last piece when it reaches t = oo, else is a point */
            if (nv && pos->in[2 * pos->n]) {
                v[nv - 1].hc = 1;
            } else if (nv < TRIG_SEGS_MAX) {
                v[nv].lo = x_end(T, NULL, 0, 1);
                v[nv].hi = x_end(T, NULL, 0, 1);
                v[nv].lc = v[nv].hc = 1;
                nv++;
            } else {
                rc = TKD_ELIMIT;
            }
        }
        int first = nv;
        if (!rc)
            rc = add_pieces(T, neg, 1, v, &nv, TRIG_SEGS_MAX);
        /* y = pi ends the piece before (closed) and the piece from t = -oo starts after it: one piece */
        if (!rc && T->pi_in && first > 0 && first < nv && neg->in[0]) {
            tkd_expr_free(v[first - 1].hi);
            tkd_expr_free(v[first].lo);
            v[first - 1].hi = v[first].hi;
            v[first - 1].hc = v[first].hc;
            memmove(v + first, v + first + 1, sizeof *v * (size_t)(nv - first - 1));
            nv--;
        }
    }
    /* SymPy's reduce_inequalities writes a set with a hole ([0, pi/2) | (pi/2, 2*pi)) as
     * (x > 0) & (x < 2*pi) & Ne(x, pi/2), losing x = 0: such a set is refused there */
    for (int i = 0; var && !rc && i + 1 < nv; i++)
        if (!v[i].hc && !v[i + 1].lc && tkd_expr_equal(v[i].hi, v[i + 1].lo))
            rc = TKD_EMATH;
    if (!rc)
        rc = ineq_print_segs(v, nv, var, b);
    for (int i = 0; i < nv; i++) {
        tkd_expr_free(v[i].lo);
        tkd_expr_free(v[i].hi);
    }
    free(v);
    tkd_expr_free(zero);
    tkd_rset_free(lim);
    tkd_rset_free(pos);
    tkd_rset_free(neg);
    return rc;
}
