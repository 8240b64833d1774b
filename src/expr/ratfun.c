/*
 * expr rational functions: a tree read as a quotient of multivariate
 * polynomials over Z (Calcium's fmpz_mpoly_q: numerator and denominator
 * coprime, denominator with positive leading coefficient) in "generators":
 * symbols and opaque subtrees (sin(x), pi, 2**x), and radicals b**(1/q)
 * reduced by g**q = b after every product (I is the radical (-1)**(1/2)).
 * Limits on degree, terms and coefficient size are checked before each
 * expensive step. The contract is include/tkd/expr_rf.h.
 */
#include "expr_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REC (4 * TKD_EXPR_MAX_DEPTH)
#define MAX_GENS 256

static int lim(tkd_err *e, const char *name, long val, const char *what) {
    return tkd_err_set(e, TKD_ELIMIT, "%s would exceed %s (%ld); use a smaller input", what, name, val);
}

/* radical generator: b**(1/q) (q >= 2), or I as (-1)**(1/2) */
static int radical(const tkd_expr *g, const tkd_expr **base, ulong *q) {
    if (g->kind == TKD_EX_CONST && g->op == TKD_C_I) {
        *base = NULL;
        *q = 2;
        return 1;
    }
    if (g->kind == TKD_EX_POW && g->args[1]->kind == TKD_EX_NUM && fmpz_is_one(fmpq_numref(g->args[1]->q)) &&
        fmpz_cmp_ui(fmpq_denref(g->args[1]->q), 1) > 0 && fmpz_cmp_ui(fmpq_denref(g->args[1]->q), 1000) < 0) {
        *base = g->args[0];
        *q = fmpz_get_ui(fmpq_denref(g->args[1]->q));
        return 1;
    }
    return 0;
}

/* x is a rational constant built from numbers with + * / and small integer
 * powers: its value in out (1), or not (0). */
static int const_q(const tkd_expr *x, fmpq_t out, int depth) {
    if (depth > 64)
        return 0;
    if (x->kind == TKD_EX_NUM || x->kind == TKD_EX_DEC) {
        fmpq_set(out, x->q);
        return 1;
    }
    if (x->kind != TKD_EX_ADD && x->kind != TKD_EX_MUL && x->kind != TKD_EX_POW)
        return 0;
    fmpq_t t;
    fmpq_init(t);
    int ok = 1;
    if (x->kind == TKD_EX_POW) {
        ok = const_q(x->args[0], out, depth + 1) && const_q(x->args[1], t, depth + 1) && fmpz_is_one(fmpq_denref(t)) &&
             fmpz_bits(fmpq_numref(t)) <= 6 &&
             (slong)(fmpz_bits(fmpq_numref(out)) + fmpz_bits(fmpq_denref(out))) * 64 <= 4096 &&
             !(fmpq_is_zero(out) && fmpz_sgn(fmpq_numref(t)) < 0);
        if (ok)
            fmpq_pow_si(out, out, fmpz_get_si(fmpq_numref(t)));
    } else {
        if (x->kind == TKD_EX_ADD)
            fmpq_zero(out);
        else
            fmpq_one(out);
        for (size_t i = 0; ok && i < x->n; i++) {
            ok = const_q(x->args[i], t, depth + 1) && fmpz_bits(fmpq_numref(t)) + fmpz_bits(fmpq_denref(t)) < 8192;
            if (!ok)
                break;
            if (x->kind == TKD_EX_ADD)
                fmpq_add(out, out, t);
            else
                fmpq_mul(out, out, t);
        }
    }
    fmpq_clear(t);
    return ok;
}

/* x = base**ex with ex a rational constant; nested integer powers
 * (b**r)**n flattened to b**(r*n). 0 when the exponent is not rational. */
static int pow_parts(const tkd_expr *x, const tkd_expr **base, fmpq_t ex) {
    if (x->kind != TKD_EX_POW || !const_q(x->args[1], ex, 0))
        return 0;
    *base = x->args[0];
    fmpq_t r;
    fmpq_init(r);
    while ((*base)->kind == TKD_EX_POW && fmpz_is_one(fmpq_denref(ex)) && const_q((*base)->args[1], r, 0) &&
           fmpz_bits(fmpq_numref(ex)) + fmpz_bits(fmpq_numref(r)) < 60) {
        fmpq_mul(ex, ex, r);
        *base = (*base)->args[0];
    }
    fmpq_clear(r);
    return 1;
}

static int add_gen(tkd_rf *r, tkd_expr *g, tkd_err *e) {
    if (!g)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    uint64_t h = tkd_expr_hash(g);
    for (size_t i = 0; i < r->n; i++)
        if (r->hash[i] == h && tkd_expr_equal(r->gens[i], g)) {
            tkd_expr_free(g);
            return 0;
        }
    if (r->n == MAX_GENS) {
        tkd_expr_free(g);
        return tkd_err_set(e, TKD_ELIMIT, "more than %d distinct symbols and subexpressions", MAX_GENS);
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        tkd_expr **gv = realloc(r->gens, cap * sizeof *gv);
        if (gv)
            r->gens = gv;
        uint64_t *hv = gv ? realloc(r->hash, cap * sizeof *hv) : NULL;
        if (!gv || !hv) {
            tkd_expr_free(g);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
        r->hash = hv;
        r->cap = cap;
    }
    r->gens[r->n] = g;
    r->hash[r->n++] = h;
    return 0;
}

static int collect(tkd_rf *r, const tkd_expr *x, tkd_err *e, int depth) {
    if (depth > MAX_REC)
        return tkd_err_set(e, TKD_ELIMIT, "expression nested deeper than TKD_EXPR_MAX_DEPTH");
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: return 0;
    case TKD_EX_ADD:
    case TKD_EX_MUL:
        for (size_t i = 0; i < x->n; i++) {
            int rc = collect(r, x->args[i], e, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    case TKD_EX_POW: {
        const tkd_expr *base;
        fmpq_t ex;
        fmpq_init(ex);
        int rc;
        if (!pow_parts(x, &base, ex) || fmpz_cmp_ui(fmpq_denref(ex), 1000) >= 0) {
            rc = add_gen(r, tkd_expr_copy(x), e);
        } else if (fmpz_is_one(fmpq_denref(ex))) {
            rc = collect(r, base, e, depth + 1);
        } else {
            fmpq_t inv;
            fmpq_init(inv);
            fmpz_one(fmpq_numref(inv));
            fmpz_set(fmpq_denref(inv), fmpq_denref(ex));
            rc = add_gen(r, tkd_expr_pow(tkd_expr_copy(base), tkd_expr_fmpq(inv)), e);
            fmpq_clear(inv);
            /* base**floor(ex), and g**q = base when reducing */
            if (!rc)
                rc = collect(r, base, e, depth + 1);
        }
        fmpq_clear(ex);
        return rc;
    }
    case TKD_EX_SYM:
    case TKD_EX_CONST:
    case TKD_EX_FUNC: return add_gen(r, tkd_expr_copy(x), e);
    default:
        return tkd_err_set(e, TKD_EINVAL, "a relation, list, set, interval, matrix or text is not a rational function");
    }
}

static int gen_rank(const tkd_expr *g) {
    switch (g->kind) {
    case TKD_EX_SYM: return 0;
    case TKD_EX_FUNC: return 1;
    case TKD_EX_POW: return 2;
    default: return 3;
    }
}

static int cmp_gens(const void *pa, const void *pb) {
    const tkd_expr *a = *(tkd_expr *const *)pa, *b = *(tkd_expr *const *)pb;
    int ra = gen_rank(a), rb = gen_rank(b);
    if (ra != rb)
        return ra - rb;
    if (ra == 0) /* symbols: by name, without printing */
        return strcmp(a->name, b->name);
    char *sa = tkd_expr_to_str(a), *sb = tkd_expr_to_str(b);
    int c = sa && sb ? strcmp(sa, sb) : 0;
    free(sa);
    free(sb);
    return c;
}

static int conv(tkd_rf *r, fmpz_mpoly_q_t out, const tkd_expr *x, tkd_err *e, int depth);

/* g**q for each radical generator g whose base reads as a fraction */
static int radicals(tkd_rf *r, tkd_err *e) {
    r->radq = calloc(r->n ? r->n : 1, sizeof *r->radq);
    r->rad = calloc(r->n ? r->n : 1, sizeof *r->rad);
    if (!r->radq || !r->rad)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n; i++)
        fmpz_mpoly_q_init(r->rad + i, r->ctx);
    int has = 0;
    for (size_t i = 0; i < r->n; i++) {
        const tkd_expr *base;
        ulong q;
        if (!radical(r->gens[i], &base, &q))
            continue;
        tkd_err e2 = {0};
        if (!base)
            fmpz_mpoly_q_set_si(r->rad + i, -1, r->ctx);
        else if (conv(r, r->rad + i, base, &e2, 0))
            continue;
        r->radq[i] = q;
        has = 1;
    }
    r->has_rad = has; /* not before: the bases are read unreduced */
    return 0;
}

int tkd_rf_init(tkd_rf *r, const tkd_expr *const *xs, size_t nx, const char *const *vars, size_t nv, tkd_err *e) {
    memset(r, 0, sizeof *r);
    int rc = 0;
    for (size_t i = 0; i < nv && !rc; i++)
        rc = add_gen(r, tkd_expr_sym(vars[i]), e);
    for (size_t i = 0; i < nx && !rc; i++)
        rc = collect(r, xs[i], e, 0);
    if (rc) {
        tkd_rf_clear(r);
        return rc;
    }
    if (r->n > 1) {
        qsort(r->gens, r->n, sizeof *r->gens, cmp_gens);
        for (size_t i = 0; i < r->n; i++)
            r->hash[i] = tkd_expr_hash(r->gens[i]);
    }
    while (r->nsyms < r->n && r->gens[r->nsyms]->kind == TKD_EX_SYM)
        r->nsyms++;
    fmpz_mpoly_ctx_init(r->ctx, r->n ? (slong)r->n : 1, ORD_DEGLEX);
    r->ready = 1;
    if ((rc = radicals(r, e)))
        tkd_rf_clear(r);
    return rc;
}

void tkd_rf_clear(tkd_rf *r) {
    for (size_t i = 0; i < r->n; i++) {
        if (r->rad)
            fmpz_mpoly_q_clear(r->rad + i, r->ctx);
        tkd_expr_free(r->gens[i]);
    }
    free(r->gens);
    free(r->hash);
    free(r->radq);
    free(r->rad);
    if (r->ready)
        fmpz_mpoly_ctx_clear(r->ctx);
    memset(r, 0, sizeof *r);
}

slong tkd_rf_var(const tkd_rf *r, const char *name) {
    for (size_t i = 0; i < r->nsyms; i++)
        if (!strcmp(r->gens[i]->name, name))
            return (slong)i;
    return -1;
}

int tkd_rf_var_in_atoms(const tkd_rf *r, const char *name) {
    for (size_t i = r->nsyms; i < r->n; i++)
        if (tkd_expr_has_sym(r->gens[i], name))
            return 1;
    return 0;
}

static slong find_gen(const tkd_rf *r, const tkd_expr *g) {
    uint64_t h = tkd_expr_hash(g);
    for (size_t i = 0; i < r->n; i++)
        if (r->hash[i] == h && tkd_expr_equal(r->gens[i], g))
            return (slong)i;
    return -1;
}

static slong qdeg(const fmpz_mpoly_q_t a, const fmpz_mpoly_ctx_t ctx) {
    slong d1 = fmpz_mpoly_total_degree_si(fmpz_mpoly_q_numref(a), ctx);
    slong d2 = fmpz_mpoly_total_degree_si(fmpz_mpoly_q_denref(a), ctx);
    return d1 > d2 ? d1 : d2;
}

static slong qbits(const fmpz_mpoly_q_t a) {
    slong b1 = FLINT_ABS(fmpz_mpoly_max_bits(fmpz_mpoly_q_numref(a)));
    slong b2 = FLINT_ABS(fmpz_mpoly_max_bits(fmpz_mpoly_q_denref(a)));
    return b1 > b2 ? b1 : b2;
}

static slong qlen(const fmpz_mpoly_q_t a, const fmpz_mpoly_ctx_t ctx) {
    slong l1 = fmpz_mpoly_length(fmpz_mpoly_q_numref(a), ctx);
    slong l2 = fmpz_mpoly_length(fmpz_mpoly_q_denref(a), ctx);
    return l1 > l2 ? l1 : l2;
}

static int check_size(const tkd_rf *r, const fmpz_mpoly_q_t a, tkd_err *e) {
    if (qlen(a, r->ctx) > TKD_EXPR_MAX_TERMS)
        return lim(e, "TKD_EXPR_MAX_TERMS", TKD_EXPR_MAX_TERMS, "the number of terms");
    if (qbits(a) > TKD_EXPR_MAX_INT_BITS)
        return lim(e, "TKD_EXPR_MAX_INT_BITS", TKD_EXPR_MAX_INT_BITS, "a coefficient");
    if (qdeg(a, r->ctx) > TKD_EXPR_MAX_DEGREE)
        return lim(e, "TKD_EXPR_MAX_DEGREE", TKD_EXPR_MAX_DEGREE, "the degree");
    return 0;
}

/* a**n, n >= 0, with the size predicted first */
static int qpow(const tkd_rf *r, fmpz_mpoly_q_t out, const fmpz_mpoly_q_t a, ulong n, tkd_err *e) {
    slong d = qdeg(a, r->ctx), len = qlen(a, r->ctx), bits = qbits(a);
    if (n > 1 && d > 0 && (double)d * (double)n > TKD_EXPR_MAX_DEGREE)
        return lim(e, "TKD_EXPR_MAX_DEGREE", TKD_EXPR_MAX_DEGREE, "the degree of the power");
    if (n > 1 && len > 1) {
        /* terms of a k-term polynomial to the n: at most C(n+k-1, k-1), and at
         * most the monomials of degree <= n*d in v variables, C(n*d+v, v) */
        double k = (double)len, lt = lgamma((double)n + k) - lgamma((double)n + 1) - lgamma(k);
        double v = (double)(r->n ? r->n : 1), D = (double)n * (double)d;
        double lm = lgamma(D + v + 1) - lgamma(D + 1) - lgamma(v + 1);
        double lterms = lt < lm ? lt : lm;
        double cbits = (double)n * ((double)bits + log2(k + 1) + 1); /* bits of one coefficient */
        if (lterms > log(TKD_EXPR_MAX_TERMS) + 0.01 || lterms + log(cbits) > log(TKD_EXPR_MAX_TERMS * 4096.0))
            return lim(e, "TKD_EXPR_MAX_TERMS", TKD_EXPR_MAX_TERMS, "the number of terms of the power");
    }
    if (n > 1 && (double)n * ((double)bits + log2((double)len + 1) + 1) > TKD_EXPR_MAX_INT_BITS * 1.0 &&
        !(len == 1 && bits <= 1))
        return lim(e, "TKD_EXPR_MAX_INT_BITS", TKD_EXPR_MAX_INT_BITS, "a coefficient of the power");
    if (!fmpz_mpoly_pow_ui(fmpz_mpoly_q_numref(out), fmpz_mpoly_q_numref(a), n, r->ctx) ||
        !fmpz_mpoly_pow_ui(fmpz_mpoly_q_denref(out), fmpz_mpoly_q_denref(a), n, r->ctx))
        return lim(e, "TKD_EXPR_MAX_DEGREE", TKD_EXPR_MAX_DEGREE, "the power");
    return check_size(r, out, e);
}

/* ---- radical reduction: g**q -> b for g = b**(1/q) ---- */

/* some radical generator has exponent >= q in p */
static int needs_reduce(const tkd_rf *r, const fmpz_mpoly_t p) {
    for (size_t g = 0; g < r->n; g++)
        if (r->radq[g] && fmpz_mpoly_degree_si(p, (slong)g, r->ctx) >= (slong)r->radq[g])
            return 1;
    return 0;
}

/* out = p with each term's g**(a*q + s) written as rad[g]**a * g**s */
static void reduce_poly(const tkd_rf *r, fmpz_mpoly_q_t out, const fmpz_mpoly_t p) {
    slong len = fmpz_mpoly_length(p, r->ctx);
    ulong *ex = flint_malloc(sizeof(ulong) * (r->n ? r->n : 1));
    fmpz_mpoly_q_t term, f;
    fmpz_mpoly_q_init(term, r->ctx);
    fmpz_mpoly_q_init(f, r->ctx);
    fmpz_mpoly_q_zero(out, r->ctx);
    fmpz_t c;
    fmpz_init(c);
    for (slong i = 0; i < len; i++) {
        fmpz_mpoly_get_term_exp_ui(ex, p, i, r->ctx);
        fmpz_mpoly_get_term_coeff_fmpz(c, p, i, r->ctx);
        fmpz_mpoly_q_one(term, r->ctx);
        for (size_t g = 0; g < r->n; g++) {
            if (!r->radq[g] || ex[g] < r->radq[g])
                continue;
            ulong k = ex[g] / r->radq[g];
            ex[g] %= r->radq[g];
            fmpz_mpoly_pow_ui(fmpz_mpoly_q_numref(f), fmpz_mpoly_q_numref(r->rad + g), k, r->ctx);
            fmpz_mpoly_pow_ui(fmpz_mpoly_q_denref(f), fmpz_mpoly_q_denref(r->rad + g), k, r->ctx);
            fmpz_mpoly_q_mul(term, term, f, r->ctx);
        }
        fmpz_mpoly_zero(fmpz_mpoly_q_numref(f), r->ctx);
        fmpz_mpoly_set_coeff_fmpz_ui(fmpz_mpoly_q_numref(f), c, ex, r->ctx);
        fmpz_mpoly_one(fmpz_mpoly_q_denref(f), r->ctx);
        fmpz_mpoly_q_mul(term, term, f, r->ctx);
        fmpz_mpoly_q_add(out, out, term, r->ctx);
    }
    fmpz_clear(c);
    fmpz_mpoly_q_clear(term, r->ctx);
    fmpz_mpoly_q_clear(f, r->ctx);
    flint_free(ex);
}

void tkd_rf_reduce(const tkd_rf *r, fmpz_mpoly_q_t q) {
    if (!r->has_rad)
        return;
    fmpz_mpoly_q_t a, b;
    fmpz_mpoly_q_init(a, r->ctx);
    fmpz_mpoly_q_init(b, r->ctx);
    /* a base may hold radicals itself (sqrt(1 + sqrt(2))): a few rounds */
    for (int round = 0; round < 8; round++) {
        if (!needs_reduce(r, fmpz_mpoly_q_numref(q)) && !needs_reduce(r, fmpz_mpoly_q_denref(q)))
            break;
        reduce_poly(r, a, fmpz_mpoly_q_numref(q));
        reduce_poly(r, b, fmpz_mpoly_q_denref(q));
        if (fmpz_mpoly_q_is_zero(b, r->ctx))
            break;
        fmpz_mpoly_q_div(q, a, b, r->ctx);
    }
    fmpz_mpoly_q_clear(a, r->ctx);
    fmpz_mpoly_q_clear(b, r->ctx);
}

static int conv_pow(tkd_rf *r, fmpz_mpoly_q_t out, const tkd_expr *x, tkd_err *e, int depth) {
    const tkd_expr *base;
    fmpq_t exq;
    fmpq_init(exq);
    int rc = 0;
    if (!pow_parts(x, &base, exq) || fmpz_cmp_ui(fmpq_denref(exq), 1000) >= 0) {
        fmpq_clear(exq);
        slong i = find_gen(r, x);
        if (i < 0)
            return tkd_err_set(e, TKD_EINTERNAL, "rational function: generator not found");
        fmpz_mpoly_q_gen(out, i, r->ctx);
        return 0;
    }
    const fmpq *exv = exq;
    /* base**(p/q) = base**a * g**s, p = a*q + s, 0 <= s < q, g = base**(1/q) */
    fmpz_t a, s;
    fmpz_init(a);
    fmpz_init(s);
    fmpz_fdiv_qr(a, s, fmpq_numref(exv), fmpq_denref(exv));
    fmpz_mpoly_q_t b, t;
    fmpz_mpoly_q_init(b, r->ctx);
    fmpz_mpoly_q_init(t, r->ctx);
    if (!fmpz_fits_si(a) || FLINT_ABS(fmpz_get_si(a)) > TKD_EXPR_MAX_INT_BITS * 2) {
        rc = lim(e, "TKD_EXPR_MAX_DEGREE", TKD_EXPR_MAX_DEGREE, "the exponent");
        goto done;
    }
    slong n = fmpz_get_si(a);
    if (n == 0)
        fmpz_mpoly_q_one(b, r->ctx);
    else if ((rc = conv(r, b, base, e, depth + 1)))
        goto done;
    if (n < 0) {
        if (fmpz_mpoly_q_is_zero(b, r->ctx)) {
            rc = tkd_err_set(e, TKD_EMATH, "division by zero");
            goto done;
        }
        fmpz_mpoly_q_inv(b, b, r->ctx);
        n = -n;
    }
    if ((rc = qpow(r, out, b, (ulong)n, e)))
        goto done;
    if (!fmpz_is_zero(s)) {
        tkd_expr *g = tkd_expr_pow(tkd_expr_copy(base), tkd_expr_rat(1, fmpz_get_si(fmpq_denref(exv))));
        slong i = g ? find_gen(r, g) : -1;
        tkd_expr_free(g);
        if (i < 0) {
            rc = tkd_err_set(e, TKD_EINTERNAL, "rational function: radical generator not found");
            goto done;
        }
        fmpz_mpoly_q_gen(t, i, r->ctx);
        if ((rc = qpow(r, t, t, fmpz_get_ui(s), e)))
            goto done;
        fmpz_mpoly_q_mul(out, out, t, r->ctx);
    }
    tkd_rf_reduce(r, out);
done:
    fmpz_mpoly_q_clear(b, r->ctx);
    fmpz_mpoly_q_clear(t, r->ctx);
    fmpz_clear(a);
    fmpz_clear(s);
    fmpq_clear(exq);
    return rc;
}

static int conv(tkd_rf *r, fmpz_mpoly_q_t out, const tkd_expr *x, tkd_err *e, int depth) {
    if (depth > MAX_REC)
        return tkd_err_set(e, TKD_ELIMIT, "expression nested deeper than TKD_EXPR_MAX_DEPTH");
    int rc = 0;
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC:
        if (fmpz_bits(fmpq_numref(x->q)) > TKD_EXPR_MAX_INT_BITS ||
            fmpz_bits(fmpq_denref(x->q)) > TKD_EXPR_MAX_INT_BITS)
            return lim(e, "TKD_EXPR_MAX_INT_BITS", TKD_EXPR_MAX_INT_BITS, "a number");
        fmpz_mpoly_set_fmpz(fmpz_mpoly_q_numref(out), fmpq_numref(x->q), r->ctx);
        fmpz_mpoly_set_fmpz(fmpz_mpoly_q_denref(out), fmpq_denref(x->q), r->ctx);
        return 0;
    case TKD_EX_ADD:
    case TKD_EX_MUL: {
        fmpz_mpoly_q_t t;
        fmpz_mpoly_q_init(t, r->ctx);
        if (x->kind == TKD_EX_ADD)
            fmpz_mpoly_q_zero(out, r->ctx);
        else
            fmpz_mpoly_q_one(out, r->ctx);
        for (size_t i = 0; i < x->n && !rc; i++) {
            if ((rc = conv(r, t, x->args[i], e, depth + 1)))
                break;
            if (x->kind == TKD_EX_ADD) {
                fmpz_mpoly_q_add(out, out, t, r->ctx);
            } else {
                double terms = (double)qlen(out, r->ctx) * (double)qlen(t, r->ctx);
                if (terms > 16.0 * TKD_EXPR_MAX_TERMS) {
                    rc = lim(e, "TKD_EXPR_MAX_TERMS", TKD_EXPR_MAX_TERMS, "the number of terms of the product");
                    break;
                }
                if (qbits(out) + qbits(t) > TKD_EXPR_MAX_INT_BITS) {
                    rc = lim(e, "TKD_EXPR_MAX_INT_BITS", TKD_EXPR_MAX_INT_BITS, "a coefficient of the product");
                    break;
                }
                fmpz_mpoly_q_mul(out, out, t, r->ctx);
            }
            tkd_rf_reduce(r, out);
            rc = check_size(r, out, e);
        }
        fmpz_mpoly_q_clear(t, r->ctx);
        return rc;
    }
    case TKD_EX_POW: return conv_pow(r, out, x, e, depth);
    case TKD_EX_SYM:
    case TKD_EX_CONST:
    case TKD_EX_FUNC: {
        slong i = find_gen(r, x);
        if (i < 0)
            return tkd_err_set(e, TKD_EINTERNAL, "rational function: generator not found");
        fmpz_mpoly_q_gen(out, i, r->ctx);
        return 0;
    }
    default: return tkd_err_set(e, TKD_EINVAL, "not a rational function");
    }
}

int tkd_rf_conv(tkd_rf *r, fmpz_mpoly_q_t out, const tkd_expr *x, tkd_err *e) {
    return conv(r, out, x, e, 0);
}

/* ---- back to trees ---- */

/* g**k as a tree; radicals with k >= q are split and flag r->overflow */
static tkd_expr *gen_pow(tkd_rf *r, size_t i, ulong k) {
    const tkd_expr *g = r->gens[i], *base;
    ulong q;
    if (k == 1)
        return tkd_expr_copy(g);
    if (radical(g, &base, &q)) {
        if (k >= q) {
            r->overflow = 1;
            ulong a = k / q, s = k % q;
            tkd_expr *b =
                base ? tkd_expr_pow(tkd_expr_copy(base), tkd_expr_int((long)a)) : tkd_expr_int(a % 2 ? -1 : 1);
            if (s == 0)
                return b;
            return tkd_expr_mul2(b, gen_pow(r, i, s));
        }
        if (base) {
            return tkd_expr_pow(tkd_expr_copy(base), tkd_expr_rat((long)k, (long)q));
        }
    }
    return tkd_expr_pow(tkd_expr_copy(g), tkd_expr_int((long)k));
}

tkd_expr *tkd_rf_poly_to_expr(tkd_rf *r, const fmpz_mpoly_t p, const fmpz_t den) {
    slong len = fmpz_mpoly_length(p, r->ctx);
    if (len == 0)
        return tkd_expr_int(0);
    tkd_expr **terms = calloc((size_t)len, sizeof *terms);
    ulong *exp = calloc(r->n ? r->n : 1, sizeof *exp);
    tkd_expr **fac = calloc(r->n + 1, sizeof *fac);
    if (!terms || !exp || !fac) {
        free(terms);
        free(exp);
        free(fac);
        return NULL;
    }
    /* predict the size of the tree before building it */
    size_t *gn = calloc(r->n ? r->n : 1, sizeof *gn), total = 0;
    if (!gn) {
        free(terms);
        free(exp);
        free(fac);
        return NULL;
    }
    for (size_t i = 0; i < r->n; i++)
        gn[i] = tkd_expr_count_nodes(r->gens[i]) + 2;
    for (slong t = 0; t < len && total <= TKD_EXPR_MAX_NODES; t++) {
        fmpz_mpoly_get_term_exp_ui(exp, p, t, r->ctx);
        total += 2;
        for (size_t i = 0; i < r->n; i++)
            total += exp[i] ? gn[i] : 0;
    }
    free(gn);
    if (total > TKD_EXPR_MAX_NODES) {
        r->too_big = 1;
        free(terms);
        free(exp);
        free(fac);
        return NULL;
    }
    fmpq_t c;
    fmpq_init(c);
    int bad = 0;
    for (slong t = 0; t < len && !bad; t++) {
        fmpz_mpoly_get_term_coeff_fmpz(fmpq_numref(c), p, t, r->ctx);
        if (den)
            fmpz_set(fmpq_denref(c), den);
        else
            fmpz_one(fmpq_denref(c));
        fmpq_canonicalise(c);
        fmpz_mpoly_get_term_exp_ui(exp, p, t, r->ctx);
        size_t nf = 0;
        if (!fmpq_is_one(c))
            fac[nf++] = tkd_expr_fmpq(c);
        for (size_t i = 0; i < r->n; i++)
            if (exp[i])
                fac[nf++] = gen_pow(r, i, exp[i]);
        terms[t] = nf ? tkd_expr_mul(nf, fac) : tkd_expr_int(1);
        bad = terms[t] == NULL;
    }
    fmpq_clear(c);
    free(exp);
    free(fac);
    tkd_expr *res = NULL;
    if (!bad)
        res = tkd_expr_add((size_t)len, terms);
    else
        for (slong t = 0; t < len; t++)
            tkd_expr_free(terms[t]);
    free(terms);
    return res;
}

tkd_expr *tkd_rf_to_expr(tkd_rf *r, const fmpz_mpoly_q_t q) {
    const fmpz_mpoly_struct *num = fmpz_mpoly_q_numref(q), *den = fmpz_mpoly_q_denref(q);
    fmpz_t c;
    fmpz_init(c);
    tkd_expr *res;
    if (fmpz_mpoly_is_fmpz(den, r->ctx)) {
        fmpz_mpoly_get_fmpz(c, den, r->ctx);
        res = tkd_rf_poly_to_expr(r, num, c);
    } else {
        fmpz_one(c);
        tkd_expr *n = tkd_rf_poly_to_expr(r, num, c), *d = tkd_rf_poly_to_expr(r, den, c);
        if (n && tkd_expr_is_int(n, 1)) {
            tkd_expr_free(n);
            res = tkd_expr_pow(d, tkd_expr_int(-1));
        } else if (n && n->kind == TKD_EX_NUM) {
            res = tkd_expr_mul2(n, tkd_expr_pow(d, tkd_expr_int(-1)));
        } else {
            res = tkd_expr_div(n, d);
        }
    }
    fmpz_clear(c);
    return res;
}

/* x -> canonical tree, with radical reduction iterated to a fixpoint */
int tkd_rf_canonical(const tkd_expr *x, tkd_expr **out, tkd_err *e) {
    *out = NULL;
    tkd_expr *cur = tkd_expr_copy(x);
    if (!cur)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (int round = 0; round < 4; round++) {
        tkd_rf r;
        int rc = tkd_rf_init(&r, (const tkd_expr *const *)&cur, 1, NULL, 0, e);
        if (rc) {
            tkd_expr_free(cur);
            return rc;
        }
        fmpz_mpoly_q_t q;
        fmpz_mpoly_q_init(q, r.ctx);
        rc = tkd_rf_conv(&r, q, cur, e);
        tkd_expr *next = rc ? NULL : tkd_rf_to_expr(&r, q);
        int again = r.overflow, too_big = r.too_big;
        fmpz_mpoly_q_clear(q, r.ctx);
        tkd_rf_clear(&r);
        tkd_expr_free(cur);
        if (rc)
            return rc;
        if (!next && too_big)
            return tkd_err_set(e, TKD_ELIMIT, "the result would exceed TKD_EXPR_MAX_NODES (%d nodes)",
                               TKD_EXPR_MAX_NODES);
        if (!next)
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        cur = next;
        if (!again)
            break;
    }
    *out = cur;
    return 0;
}
