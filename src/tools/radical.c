/*
 * Equations with the variable under radicals or inside Abs, for troots.
 *
 * Radicals (sqrt(u), u**(p/q), nested ones): the equation is read as a
 * rational function whose generators include the radicals g = b**(1/q)
 * (expr's tkd_rf); each radical is eliminated with a resultant against
 * g**q = b, outermost or innermost in any order, until a polynomial in the
 * variable is left. Its roots contain every solution on every branch, so
 * each candidate is checked exactly (Calcium, principal branches, as SymPy
 * reads sqrt and x**(1/3)) in the ORIGINAL equation: extraneous roots from
 * the squaring are dropped, and a candidate that cannot be decided makes
 * the whole call an "unsupported" error rather than a guess.
 *
 * Abs: the variable is taken real (as SymPy needs to solve Abs at all).
 * Every sign pattern of the distinct |u_i| gives an equation without Abs;
 * the real candidates of all patterns are checked in the original equation,
 * which enforces the sign conditions. A pattern that holds identically
 * (|x| = x) means a whole interval of solutions: refused.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#define RAD_ELIM_MAX 12 /* radicals eliminated from one equation */
#define RAD_DEG_MAX 200 /* degree of the eliminant in the variable */
#define ABS_ATOMS_MAX 6 /* distinct |u| with the variable: 2**6 sign patterns */

enum { K_POLY = 0, K_RAD = 1, K_ABS = 2, K_OTHER = 4 };

/* What holds the variable in x: a bit set of K_RAD, K_ABS and K_OTHER
 * (inside any other function, in an exponent or under a symbolic power). */
static int classify(const tkd_expr *x, const char *var) {
    if (!tkd_expr_has_sym(x, var))
        return K_POLY;
    switch (x->kind) {
    case TKD_EX_SYM: return K_POLY;
    case TKD_EX_ADD:
    case TKD_EX_MUL: {
        int k = 0;
        for (size_t i = 0; i < x->n; i++)
            k |= classify(x->args[i], var);
        return k;
    }
    case TKD_EX_POW: {
        const tkd_expr *ex = x->args[1];
        if (tkd_expr_has_sym(ex, var) || !(ex->kind == TKD_EX_NUM || ex->kind == TKD_EX_DEC))
            return K_OTHER;
        int k = classify(x->args[0], var);
        return fmpz_is_one(fmpq_denref(ex->q)) ? k : k | K_RAD;
    }
    case TKD_EX_FUNC:
        if (x->op == TKD_FN_ABS && x->n == 1)
            return K_ABS | classify(x->args[0], var);
        return K_OTHER;
    default: return K_OTHER;
    }
}

/* Does candidate c solve x = 0 exactly? 1 yes, 0 no (also: x undefined
 * there, or c not real when real_only), negative: undecided (e set). */
/* Does the certified value of the number x (its imaginary part when imag)
 * exclude zero? No answer (0) when it cannot be evaluated. */
static int certainly_nonzero(const tkd_expr *x, int imag) {
    acb_t v;
    acb_init(v);
    tkd_err e = {0};
    int r = !tkd_expr_eval_acb(v, x, 0, NULL, NULL, 256, &e) && acb_is_finite(v) &&
            (imag ? !arb_contains_zero(acb_imagref(v)) : !acb_contains_zero(v));
    acb_clear(v);
    return r;
}

int tcheck_root(const tkd_expr *x, const char *var, const tkd_expr *c, int real_only, tkd_err *e) {
    ca_ctx_t ctx;
    ca_t v;
    tca_ctx_init(ctx);
    ca_init(v, ctx);
    int r = -1;
    tkd_err e2 = {0};
    if (real_only) {
        if (tkd_expr_to_ca(v, c, ctx, &e2) == 0) {
            truth_t re = ca_check_is_real(v, ctx);
            r = re == T_FALSE ? 0 : re == T_TRUE ? 1 : -1;
        }
        if (r < 0 && certainly_nonzero(c, 1)) /* a certified imaginary part: not real */
            r = 0;
        if (r <= 0)
            goto done;
    }
    r = -1;
    tkd_expr *s = tsubst(x, var, c);
    if (!s) {
        r = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        goto done;
    }
    int rc = tkd_expr_to_ca(v, s, ctx, &e2);
    tkd_expr_free(s);
    if (rc == TKD_EMATH && strstr(e2.msg, "undefined")) {
        r = 0; /* a denominator vanishes there: not a solution */
    } else if (!rc) {
        truth_t z = ca_check_is_zero(v, ctx);
        r = z == T_TRUE ? 1 : z == T_FALSE ? 0 : -1;
    }
    if (r < 0) { /* Calcium undecided: a certified nonzero value still says no */
        tkd_expr *s2 = tsubst(x, var, c);
        if (s2 && certainly_nonzero(s2, 0))
            r = 0;
        tkd_expr_free(s2);
    }
done:
    if (r < 0 && r != TKD_ENOMEM) {
        char *cs = tkd_expr_to_str(c);
        r = tkd_err_set(e, TKD_EMATH,
                        "unsupported: whether %s = %s solves the equation could not be decided exactly, so the "
                        "extraneous roots cannot be told apart",
                        var, cs ? cs : "?");
        free(cs);
    }
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
    return r;
}

/* Keep the candidates of cand that solve x (all of them must be decided). */
static int keep_checked(const tkd_expr *x, const char *var, tlist *cand, int real_only, tlist *out, tkd_err *e) {
    int rc = 0;
    for (size_t i = 0; !rc && i < cand->n; i++) {
        if (tkd_expr_has_sym(cand->v[i], NULL))
            return tkd_err_set(e, TKD_EMATH,
                               "unsupported: a candidate root contains a parameter, so it cannot be checked against "
                               "the original equation");
        int ok = tcheck_root(x, var, cand->v[i], real_only, e);
        if (ok < 0)
            return ok;
        if (ok) {
            rc = tlist_add(out, cand->v[i], e);
            cand->v[i] = NULL;
        }
    }
    return rc;
}

/* Is generator g of t used by p? */
static int uses(const tkd_rf *t, const fmpz_mpoly_t p, size_t g) {
    return fmpz_mpoly_degree_si(p, (slong)g, t->ctx) > 0;
}

/* Candidates of x = 0 with the variable under radicals (no Abs). */
static int radical_candidates(const tkd_expr *x, const char *var, tlist *cand, int depth, tkd_err *e) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    if (trat_from_ast(&t, x, &var, 1, &r, e))
        return e->code;
    int rc = 0;
    fmpz_mpoly_t N, E, R;
    fmpz_mpoly_init(N, t.ctx);
    fmpz_mpoly_init(E, t.ctx);
    fmpz_mpoly_init(R, t.ctx);
    fmpz_mpoly_set(N, fmpz_mpoly_q_numref(r), t.ctx);
    slong v = tkd_rf_var(&t, var);
    for (size_t g = 0; g < t.nsyms && !rc; g++)
        if ((slong)g != v && uses(&t, N, g))
            rc = tkd_err_set(e, TKD_EMATH,
                             "unsupported: the equation has %s under a radical and also the parameter %s; solve it "
                             "with numbers for the parameters",
                             var, t.gens[g]->name);
    for (int round = 0; !rc; round++) {
        size_t g = t.n;
        for (size_t k = t.nsyms; k < t.n; k++)
            if (uses(&t, N, k) && t.radq[k]) {
                g = k;
                break;
            }
        if (g == t.n)
            break;
        if (round == RAD_ELIM_MAX) {
            rc = tkd_err_set(e, TKD_ELIMIT, "unsupported: the equation has more than %d radicals to eliminate",
                             RAD_ELIM_MAX);
            break;
        }
        /* E = g**q * den(b) - num(b), b = g**q */
        fmpz_mpoly_gen(E, (slong)g, t.ctx);
        fmpz_mpoly_pow_ui(E, E, t.radq[g], t.ctx);
        fmpz_mpoly_mul(E, E, fmpz_mpoly_q_denref(t.rad + g), t.ctx);
        fmpz_mpoly_sub(E, E, fmpz_mpoly_q_numref(t.rad + g), t.ctx);
        if (!fmpz_mpoly_resultant(R, N, E, (slong)g, t.ctx)) {
            rc = tkd_err_set(e, TKD_EMATH, "unsupported: a radical could not be eliminated");
            break;
        }
        fmpz_mpoly_swap(N, R, t.ctx);
        if (fmpz_mpoly_is_zero(N, t.ctx))
            break;
        fmpz_mpoly_primitive_part(N, N, t.ctx);
        if (fmpz_mpoly_degree_si(N, v, t.ctx) > RAD_DEG_MAX)
            rc = tkd_err_set(e, TKD_ELIMIT,
                             "unsupported: removing the radicals gives an equation of degree above %d in %s",
                             RAD_DEG_MAX, var);
    }
    for (size_t k = t.nsyms; k < t.n && !rc; k++)
        if (uses(&t, N, k) && tkd_expr_has_sym(t.gens[k], var))
            rc = tkd_err_set(e, TKD_EMATH, "unsupported: %s appears in a form the radical solver cannot remove", var);
    if (!rc && fmpz_mpoly_is_zero(N, t.ctx))
        rc = tkd_err_set(e, TKD_EMATH,
                         "unsupported: after removing the radicals the equation holds for every %s; its solution set "
                         "may be a whole region",
                         var);
    if (!rc && fmpz_mpoly_degree_si(N, v, t.ctx) > 0) {
        tkd_expr *p = tkd_rf_poly_to_expr(&t, N, NULL);
        rc = p ? troots(p, var, cand, depth + 1, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        tkd_expr_free(p);
    }
    fmpz_mpoly_clear(N, t.ctx);
    fmpz_mpoly_clear(E, t.ctx);
    fmpz_mpoly_clear(R, t.ctx);
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return rc;
}

/* ---- Abs: sign patterns ---- */

typedef struct absset {
    const tkd_expr *a[ABS_ATOMS_MAX];
    size_t n;
} absset;

/* The distinct Abs(u) with the variable, inner ones first. */
static int collect_abs(const tkd_expr *x, const char *var, absset *s, tkd_err *e) {
    if (!tkd_expr_has_sym(x, var))
        return 0;
    for (size_t i = 0; i < x->n; i++)
        if (collect_abs(x->args[i], var, s, e))
            return e->code;
    if (x->kind == TKD_EX_FUNC && x->op == TKD_FN_ABS) {
        for (size_t i = 0; i < s->n; i++)
            if (tkd_expr_equal(s->a[i], x))
                return 0;
        if (s->n == ABS_ATOMS_MAX)
            return tkd_err_set(e, TKD_ELIMIT, "unsupported: more than %d different absolute values of %s",
                               ABS_ATOMS_MAX, var);
        s->a[s->n++] = x;
    }
    return 0;
}

/* x with each Abs(u_i) replaced by +-u_i (bit i of signs set: minus). */
static tkd_expr *unabs(const tkd_expr *x, const char *var, const absset *s, unsigned signs) {
    if (!tkd_expr_has_sym(x, var))
        return tkd_expr_copy(x);
    for (size_t i = 0; i < s->n; i++)
        if (tkd_expr_equal(s->a[i], x)) {
            tkd_expr *u = unabs(x->args[0], var, s, signs);
            return (signs >> i) & 1 ? tkd_expr_neg(u) : u;
        }
    tkd_expr *c = tkd_expr_copy(x);
    for (size_t i = 0; c && i < c->n; i++) {
        tkd_expr *a = unabs(c->args[i], var, s, signs);
        if (!a) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = a;
    }
    return c;
}

/* Is x identically zero as a rational function (radicals reduced)? */
static int identically_zero(const tkd_expr *x, const char *var, tkd_err *e) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    if (trat_from_ast(&t, x, &var, 1, &r, e))
        return e->code;
    int z = fmpz_mpoly_q_is_zero(r, t.ctx);
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return z;
}

static int abs_candidates(const tkd_expr *x, const char *var, tlist *cand, int depth, tkd_err *e) {
    absset s = {{0}, 0};
    if (collect_abs(x, var, &s, e))
        return e->code;
    int rc = 0;
    for (unsigned signs = 0; !rc && signs < (1u << s.n); signs++) {
        tkd_expr *y = unabs(x, var, &s, signs);
        if (!y)
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        int z = identically_zero(y, var, e);
        if (z < 0)
            rc = z;
        else if (z)
            rc = tkd_err_set(e, TKD_EMATH,
                             "unsupported: on one sign case of the absolute values the equation holds for every %s, "
                             "so its solutions may fill an interval; solve it as an inequality instead",
                             var);
        else if (tkd_expr_has_sym(y, var))
            rc = troots(y, var, cand, depth + 1, e);
        tkd_expr_free(y);
    }
    return rc;
}

static int has_imaginary(const tkd_expr *x) {
    if (x->kind == TKD_EX_CONST && x->op == TKD_C_I)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (has_imaginary(x->args[i]))
            return 1;
    return 0;
}

static int real_const(const tkd_expr *x) {
    ca_ctx_t ctx;
    ca_t v;
    tca_ctx_init(ctx);
    ca_init(v, ctx);
    tkd_err e = {0};
    int r = !tkd_expr_to_ca(v, x, ctx, &e) && ca_check_is_real(v, ctx) == T_TRUE;
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
    return r;
}

/* |A + I*B| = sqrt(A**2 + B**2) for real var (A, B free of I); NULL and e
 * set when u does not split so. */
static tkd_expr *abs_complex(const tkd_expr *u, const char *var, tkd_err *e) {
    tkd_rf t;
    fmpz_mpoly_q_t r;
    if (trat_from_ast(&t, u, &var, 1, &r, e))
        return NULL;
    slong gi = -1;
    for (size_t g = 0; g < t.n; g++)
        if (t.gens[g]->kind == TKD_EX_CONST && t.gens[g]->op == TKD_C_I)
            gi = (slong)g;
    tkd_expr *out = NULL;
    const fmpz_mpoly_struct *N = fmpz_mpoly_q_numref(r), *D = fmpz_mpoly_q_denref(r);
    int ok = gi >= 0 && fmpz_mpoly_degree_si(D, gi, t.ctx) <= 0 && fmpz_mpoly_degree_si(N, gi, t.ctx) <= 1;
    for (size_t g = 0; ok && g < t.n; g++) /* u rational in var, the other constants real */
        if ((slong)g != gi && (slong)g != tkd_rf_var(&t, var))
            ok = !tkd_expr_has_sym(t.gens[g], NULL) && real_const(t.gens[g]);
    if (ok) {
        fmpz_mpoly_t A, B;
        fmpz_mpoly_init(A, t.ctx);
        fmpz_mpoly_init(B, t.ctx);
        ulong zero = 0, one = 1;
        fmpz_mpoly_get_coeff_vars_ui(A, N, &gi, &zero, 1, t.ctx);
        fmpz_mpoly_get_coeff_vars_ui(B, N, &gi, &one, 1, t.ctx);
        fmpz_mpoly_mul(A, A, A, t.ctx);
        fmpz_mpoly_mul(B, B, B, t.ctx);
        fmpz_mpoly_add(A, A, B, t.ctx);
        tkd_expr *num = tkd_rf_poly_to_expr(&t, A, NULL), *den = tkd_rf_poly_to_expr(&t, D, NULL);
        out = tkd_expr_div(tkd_expr_sqrt(num), den); /* D is real and positive-leading: |D| = D up to sign */
        if (out && fmpz_mpoly_is_fmpz(D, t.ctx) == 0) {
            tkd_expr_free(out);
            out = NULL;
            tkd_err_set(e, TKD_EMATH, "unsupported: the absolute value of a complex fraction of %s", var);
        }
        fmpz_mpoly_clear(A, t.ctx);
        fmpz_mpoly_clear(B, t.ctx);
    } else {
        tkd_err_set(e, TKD_EMATH, "unsupported: the absolute value of a complex expression in %s", var);
    }
    fmpz_mpoly_q_clear(r, t.ctx);
    tkd_rf_clear(&t);
    return out;
}

/* p with every Abs(u) whose u holds I written sqrt(re(u)**2 + im(u)**2) */
static tkd_expr *unabs_complex(const tkd_expr *x, const char *var, tkd_err *e) {
    tkd_expr *c = tkd_expr_copy(x);
    if (!c) {
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (!tkd_expr_has_sym(c->args[i], var))
            continue;
        tkd_expr *a = unabs_complex(c->args[i], var, e);
        if (!a) {
            tkd_expr_free(c);
            return NULL;
        }
        tkd_expr_free(c->args[i]);
        c->args[i] = a;
    }
    if (c->kind == TKD_EX_FUNC && c->op == TKD_FN_ABS && c->n == 1 && has_imaginary(c->args[0]) &&
        tkd_expr_has_sym(c->args[0], var)) {
        tkd_expr *s = abs_complex(c->args[0], var, e);
        tkd_expr_free(c);
        return s;
    }
    return c;
}

int trad_roots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e) {
    tkd_expr *p = trat_prep(x, e); /* numeric exponents folded: 1/3 is a number */
    if (!p)
        return e->code;
    int k = classify(p, var), rc;
    if (k & K_OTHER || !(k & (K_RAD | K_ABS))) {
        rc = TRAD_NOT_MINE;
    } else {
        tlist cand = {0};
        tkd_expr *q = k & K_ABS && has_imaginary(p) ? unabs_complex(p, var, e) : tkd_expr_copy(p);
        int kq = q ? classify(q, var) : 0;
        if (!q)
            rc = e->code ? e->code : TKD_ENOMEM;
        else
            rc = kq & K_ABS ? abs_candidates(q, var, &cand, depth, e) : radical_candidates(q, var, &cand, depth, e);
        tkd_expr_free(q);
        if (!rc)
            rc = keep_checked(p, var, &cand, (k & K_ABS) != 0, out, e);
        tlist_free(&cand);
    }
    tkd_expr_free(p);
    return rc;
}
