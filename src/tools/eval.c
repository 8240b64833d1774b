/*
 * Exact evaluation tools beyond the paper: evaluate (exact value and a
 * decimal to the digits asked), summation and product over an integer range
 * (term by term, exactly; a polynomial or geometric summand with a symbolic
 * upper bound gets its closed form here, the other closed forms are sums.c's).
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/fmpq_poly.h>
#include <flint/fmpz_poly.h>

static int t_evaluate(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    long digits;
    tkd_expr *x;
    if (targ_slong(args, "digits", 1, 1000, 15, &digits, e) || targ_expr(args, "expression", &x, e))
        return tkd_err_wrap(e, "evaluate");
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    ca_t v;
    ca_init(v, ctx);
    int rc = tkd_expr_to_ca(v, x, ctx, e);
    if (!rc && ca_check_is_number(v, ctx) != T_TRUE)
        rc = tkd_err_set(e, TKD_EMATH, "the value is not a finite number (infinite or undefined)");
    if (!rc) {
        tkd_err e2 = {0};
        tkd_expr *exact = tkd_expr_from_ca(v, ctx, &e2);
        if (!exact && tkd_expr_simplify(x, &exact, &e2))
            exact = tkd_expr_copy(x);
        char *es = exact ? tkd_expr_to_str(exact) : NULL;
        ca_t im;
        ca_init(im, ctx);
        ca_im(im, v, ctx);
        if (ca_check_is_real(v, ctx) == T_TRUE || ca_check_is_zero(im, ctx) == T_TRUE)
            ca_re(v, v, ctx); /* no "+ 0e-23*I" tail */
        ca_clear(im, ctx);
        char *ds = ca_get_decimal_str(v, digits, 0, ctx);
        if (es && ds) {
            for (char *p = strstr(ds, " {"); p; p = NULL) /* drop an error-bound note */
                *p = 0;
            /* an imaginary part shown as exactly 0e-N is noise of the field Calcium chose */
            char *im = strstr(ds, " + 0e-");
            if (!im)
                im = strstr(ds, " - 0e-");
            if (im && strchr(im, '*') && !strcmp(strchr(im, '*'), "*I"))
                *im = 0;
            *result = tkd_json_new(ta, TKD_JSON_OBJ);
            tkd_json_set(ta, *result, "value", tkd_json_string(ta, es));
            tkd_json_set(ta, *result, "decimal", tkd_json_string(ta, ds));
        } else {
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
        tkd_expr_free(exact);
        free(es);
        flint_free(ds);
    }
    ca_clear(v, ctx);
    ca_ctx_clear(ctx);
    tkd_expr_free(x);
    return rc ? tkd_err_wrap(e, "evaluate") : 0;
}

/* A bound: an integer, or (for the upper bound of a sum) a symbolic one. */
static int bound(const tkd_json *args, const char *key, fmpz_t z, tkd_expr **sym, tkd_err *e) {
    tkd_expr *x;
    *sym = NULL;
    if (targ_expr(args, key, &x, e))
        return e->code;
    tkd_expr *s = NULL;
    if (!tkd_expr_has_sym(x, NULL) && !tkd_expr_simplify(x, &s, e) && s && s->kind == TKD_EX_NUM &&
        fmpz_is_one(fmpq_denref(s->q))) {
        fmpz_set(z, fmpq_numref(s->q));
        tkd_expr_free(s);
        tkd_expr_free(x);
        return 0;
    }
    tkd_expr_free(s);
    if (tkd_expr_has_sym(x, NULL) || (!strcmp(key, "upper") && x->kind == TKD_EX_CONST && x->op == TKD_C_OO)) {
        *sym = x;
        return 0;
    }
    tkd_expr_free(x);
    return tkd_err_set(e, TKD_EINVAL,
                       "'%s' must be an integer (or, for the upper bound of a sum, an expression such as n)", key);
}

/* sum (prod = 0) or product (prod = 1) of f(k), k = lo..hi, exactly */
static int range_ca(const tkd_expr *f, const char *var, const fmpz_t lo, const fmpz_t hi, int prod, ca_t acc,
                    ca_ctx_t ctx, tkd_err *e) {
    if (prod)
        ca_one(acc, ctx);
    else
        ca_zero(acc, ctx);
    /* fast path: a rational function of k with rational coefficients */
    fmpq_poly_t num, den;
    fmpq_poly_init(num);
    fmpq_poly_init(den);
    int fast = trat_qrat(f, var, num, den);
    int rc = 0;
    fmpz_t k;
    fmpz_init(k);
    if (fast) {
        fmpq_t s, a, b, q;
        fmpq_init(s);
        fmpq_init(a);
        fmpq_init(b);
        fmpq_init(q);
        fmpq_set_si(s, prod, 1);
        fmpq_set_fmpz_frac(q, lo, (fmpz_t){1});
        for (fmpz_set(k, lo); fmpz_cmp(k, hi) <= 0 && !rc; fmpz_add_ui(k, k, 1)) {
            fmpq_set_fmpz_frac(q, k, (fmpz_t){1});
            fmpq_poly_evaluate_fmpq(a, num, q);
            fmpq_poly_evaluate_fmpq(b, den, q);
            if (fmpq_is_zero(b)) {
                char *ks = fmpz_get_str(NULL, 10, k);
                rc = tkd_err_set(e, TKD_EMATH, "the term at %s = %s is undefined (division by zero)", var, ks);
                flint_free(ks);
                break;
            }
            fmpq_div(a, a, b);
            if (prod)
                fmpq_mul(s, s, a);
            else
                fmpq_add(s, s, a);
            if (fmpz_bits(fmpq_numref(s)) > TKD_EXPR_MAX_INT_BITS * 4)
                rc = tkd_err_set(e, TKD_ELIMIT, "the result grows beyond %d bits", TKD_EXPR_MAX_INT_BITS * 4);
        }
        if (!rc)
            ca_set_fmpq(acc, s, ctx);
        fmpq_clear(s);
        fmpq_clear(a);
        fmpq_clear(b);
        fmpq_clear(q);
    } else {
        ca_t v;
        ca_init(v, ctx);
        for (fmpz_set(k, lo); fmpz_cmp(k, hi) <= 0 && !rc; fmpz_add_ui(k, k, 1)) {
            tkd_expr *kv = tkd_expr_fmpz(k);
            tkd_expr *term = kv ? tsubst(f, var, kv) : NULL;
            tkd_expr_free(kv);
            rc = term ? tkd_expr_to_ca(v, term, ctx, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
            tkd_expr_free(term);
            if (!rc) {
                if (prod)
                    ca_mul(acc, acc, v, ctx);
                else
                    ca_add(acc, acc, v, ctx);
            }
        }
        ca_clear(v, ctx);
    }
    fmpz_clear(k);
    fmpq_poly_clear(num);
    fmpq_poly_clear(den);
    return rc;
}

/* Closed form of sum_{k=lo}^{n} p(k) for a polynomial p with rational
 * coefficients: a polynomial S(n) of degree d + 1, by interpolation. */
static int faulhaber(const tkd_expr *f, const char *var, const fmpz_t lo, const tkd_expr *upper, tkd_expr **out,
                     tkd_err *e) {
    fmpq_poly_t p;
    fmpq_poly_init(p);
    int rc = tkd_expr_to_fmpq_poly(p, f, var, e);
    if (rc) {
        fmpq_poly_clear(p);
        return tkd_err_set(e, TKD_EMATH,
                           "a sum with a symbolic bound needs a polynomial summand in %s with numeric coefficients",
                           var);
    }
    slong d = fmpq_poly_degree(p);
    if (d > 200) {
        fmpq_poly_clear(p);
        return tkd_err_set(e, TKD_ELIMIT, "the summand has degree above 200");
    }
    slong m = d + 2; /* points n = lo-1 .. lo+d */
    fmpz *xs = _fmpz_vec_init(m);
    fmpq *ys = _fmpq_vec_init(m);
    fmpq_t acc, v, q;
    fmpq_init(acc);
    fmpq_init(v);
    fmpq_init(q);
    for (slong i = 0; i < m; i++) {
        fmpz_add_si(xs + i, lo, i - 1);
        if (i > 0) {
            fmpq_set_fmpz_frac(q, xs + i, (fmpz_t){1});
            fmpq_poly_evaluate_fmpq(v, p, q);
            fmpq_add(acc, acc, v);
        }
        fmpq_set(ys + i, acc);
    }
    /* Lagrange on rational values: scale to integers by the common denominator */
    fmpz_t L;
    fmpz_init_set_ui(L, 1);
    for (slong i = 0; i < m; i++)
        fmpz_lcm(L, L, fmpq_denref(ys + i));
    fmpz *yi = _fmpz_vec_init(m);
    for (slong i = 0; i < m; i++) {
        fmpz_divexact(yi + i, L, fmpq_denref(ys + i));
        fmpz_mul(yi + i, yi + i, fmpq_numref(ys + i));
    }
    fmpq_poly_t S;
    fmpq_poly_init(S);
    fmpz_poly_t Si;
    fmpz_poly_init(Si);
    /* values at consecutive integers: Newton forward differences give a
     * rational polynomial; fmpq_poly_interpolate_fmpz_vec needs fmpz xs/ys */
    fmpq_poly_interpolate_fmpz_vec(S, xs, yi, m);
    fmpq_poly_scalar_div_fmpz(S, S, L);
    tkd_expr *body = tkd_expr_from_fmpq_poly(S, "tkd_n_");
    tkd_expr *r = body ? tsubst(body, "tkd_n_", upper) : NULL;
    tkd_expr_free(body);
    if (!r || tkd_expr_simplify(r, out, e))
        rc = e->code ? e->code : TKD_ENOMEM;
    tkd_expr_free(r);
    fmpz_poly_clear(Si);
    fmpq_poly_clear(S);
    fmpz_clear(L);
    _fmpz_vec_clear(yi, m);
    _fmpz_vec_clear(xs, m);
    _fmpq_vec_clear(ys, m);
    fmpq_clear(acc);
    fmpq_clear(v);
    fmpq_clear(q);
    fmpq_poly_clear(p);
    return rc;
}

/* Does f contain a symbol other than the index? */
static int has_param(const tkd_expr *f, const char *var, tkd_err *e) {
    const char **names;
    size_t n;
    if (tkd_expr_free_syms(f, &names, &n, e))
        return -1;
    int other = 0;
    for (size_t i = 0; i < n; i++)
        other |= strcmp(names[i], var) != 0;
    free(names);
    return other;
}

/* A finite sum/product whose term has parameters (x, a, ...): the terms added
 * (multiplied) as expressions and simplified, as SymPy does for short ranges. */
static int range_sym(const tkd_expr *f, const char *var, const fmpz_t lo, const fmpz_t hi, int prod, tkd_expr **out,
                     tkd_err *e) {
    fmpz_t cnt, k;
    fmpz_init(cnt);
    fmpz_init(k);
    fmpz_sub(cnt, hi, lo);
    int rc = 0;
    if (fmpz_cmp_si(cnt, TOOL_SUM_SYM_TERMS_MAX) >= 0)
        rc = tkd_err_set(e, TKD_ELIMIT,
                         "a %s whose term has other symbols besides %s is done term by term, at most %d terms; give "
                         "the other symbols values, or split the range",
                         prod ? "product" : "sum", var, TOOL_SUM_SYM_TERMS_MAX);
    slong n = rc || fmpz_sgn(cnt) < 0 ? 0 : fmpz_get_si(cnt) + 1;
    tkd_expr **terms = n ? calloc((size_t)n, sizeof *terms) : NULL;
    if (n && !terms)
        rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    slong i = 0;
    for (fmpz_set(k, lo); !rc && i < n; fmpz_add_ui(k, k, 1), i++) {
        tkd_expr *kv = tkd_expr_fmpz(k);
        terms[i] = kv ? tsubst(f, var, kv) : NULL;
        tkd_expr_free(kv);
        if (!terms[i])
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    if (!rc) {
        /* the constructors own the terms from here on, also when they fail */
        tkd_expr *acc = n == 0 ? tkd_expr_int(prod) : prod ? tkd_expr_mul((size_t)n, terms) : tkd_expr_add((size_t)n, terms);
        n = 0;
        rc = acc ? tkd_expr_simplify(acc, out, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        if (rc == TKD_ELIMIT && prod && acc && acc->kind == TKD_EX_MUL) {
            /* expanding the product is too big: the factors simplified one by one, as SymPy leaves them */
            tkd_err_clear(e);
            rc = 0;
            tkd_expr **fs = calloc(acc->n, sizeof *fs);
            if (!fs)
                rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
            for (size_t j = 0; j < acc->n && !rc; j++)
                rc = tkd_expr_simplify(acc->args[j], &fs[j], e);
            if (!rc) {
                *out = tkd_expr_mul(acc->n, fs);
                if (!*out)
                    rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
            } else
                for (size_t j = 0; fs && j < acc->n; j++)
                    tkd_expr_free(fs[j]);
            free(fs);
        }
        /* simplifying may expand a product of many factors into a long
         * polynomial: answer the shorter form, and refuse one too long to read */
        tkd_buf bs, ba;
        tkd_buf_init(&bs);
        tkd_buf_init(&ba);
        if (!rc && !tkd_expr_print(&bs, *out) && !tkd_expr_print(&ba, acc) && ba.len < bs.len) {
            tkd_expr_free(*out);
            *out = acc;
            acc = NULL;
            bs.len = ba.len;
        }
        if (!rc && bs.len > TOOL_SUM_SYM_CHARS_MAX) {
            rc = tkd_err_set(e, TKD_ELIMIT, "the %s has %zu characters even simplified (limit %d); give the other symbols values",
                             prod ? "product" : "sum", bs.len, TOOL_SUM_SYM_CHARS_MAX);
            tkd_expr_free(*out);
            *out = NULL;
        }
        tkd_buf_free(&bs);
        tkd_buf_free(&ba);
        tkd_expr_free(acc);
    }
    for (slong j = 0; j < n && terms; j++)
        tkd_expr_free(terms[j]);
    free(terms);
    fmpz_clear(cnt);
    fmpz_clear(k);
    return rc;
}

/* The ratio f(k+1)/f(k) of a term c * b1^(a1 k + d1) * b2^(...) ..., read
 * from its factors (exact; no simplification needed): q = b1^a1 * b2^a2 ... */
static int geo_ratio(const tkd_expr *f, const char *var, tkd_expr **q, tkd_err *e) {
    size_t n = f->kind == TKD_EX_MUL ? f->n : 1;
    tkd_expr **fs = calloc(n, sizeof *fs);
    if (!fs)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    size_t m = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const tkd_expr *x = f->kind == TKD_EX_MUL ? f->args[i] : f;
        if (!tkd_expr_has_sym(x, var))
            continue;
        tkd_expr **c = NULL;
        slong d = -1;
        if (x->kind != TKD_EX_POW || tkd_expr_has_sym(x->args[0], var) ||
            tkd_expr_poly_coeffs(x->args[1], var, &c, &d, e) || d != 1) {
            tkd_err_clear(e);
            rc = tkd_err_set(e, TKD_EMATH, "not supported here: the summand is neither a polynomial in %s nor "
                                           "geometric (c*b**(a*%s + d))", var, var);
        } else {
            fs[m++] = tkd_expr_pow(tkd_expr_copy(x->args[0]), c[1]);
            c[1] = NULL;
        }
        for (slong j = 0; c && j <= d; j++)
            tkd_expr_free(c[j]);
        free(c);
    }
    tkd_expr *r = NULL;
    if (!rc && m == 0)
        rc = tkd_err_set(e, TKD_EMATH, "not supported here: the summand does not depend on %s", var);
    if (!rc) {
        r = m == 1 ? fs[0] : tkd_expr_mul(m, fs);
        m = 0;
        rc = r ? tkd_expr_simplify(r, q, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        tkd_expr_free(r);
    }
    for (size_t i = 0; i < m; i++)
        tkd_expr_free(fs[i]);
    free(fs);
    return rc;
}

/* A geometric term f(k) = f(lo) q^(k - lo) with a constant ratio q: the sum
 * to a symbolic upper bound n, or (upper NULL) to infinity when |q| < 1. */
static int geometric(const tkd_expr *f, const char *var, const fmpz_t lo, const tkd_expr *upper, tkd_expr **out,
                     tkd_err *e) {
    *out = NULL;
    tkd_expr *q = NULL;
    int rc = geo_ratio(f, var, &q, e);
    if (!rc && tkd_expr_has_sym(q, NULL))
        rc = tkd_err_set(e, TKD_EMATH, "not supported here: the ratio of consecutive terms has symbols");
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    ca_t qc, one;
    ca_init(qc, ctx);
    ca_init(one, ctx);
    ca_one(one, ctx);
    if (!rc)
        rc = tkd_expr_to_ca(qc, q, ctx, e);
    if (!rc && ca_check_is_one(qc, ctx) != T_FALSE)
        rc = tkd_err_set(e, TKD_EMATH, "not supported here: the ratio of consecutive terms is 1 (or cannot be told from 1)");
    if (!rc && !upper) {
        ca_abs(qc, qc, ctx);
        if (ca_check_lt(qc, one, ctx) != T_TRUE)
            rc = tkd_err_set(e, TKD_EMATH, "the series does not converge: the ratio of consecutive terms has |q| >= 1");
    }
    ca_clear(qc, ctx);
    ca_clear(one, ctx);
    ca_ctx_clear(ctx);
    if (!rc) {
        tkd_expr *lov = tkd_expr_fmpz(lo);
        tkd_expr *a = lov ? tsubst(f, var, lov) : NULL;
        tkd_expr_free(lov);
        tkd_expr *den = tkd_expr_sub(tkd_expr_int(1), tkd_expr_copy(q)), *num = a;
        if (upper && a) {
            /* a (1 - q^(n - lo + 1)) / (1 - q) */
            tkd_expr *cnt = tkd_expr_add(2, (tkd_expr *[]){tkd_expr_copy(upper), tkd_expr_neg(tkd_expr_fmpz(lo))});
            cnt = cnt ? tkd_expr_add(2, (tkd_expr *[]){cnt, tkd_expr_int(1)}) : NULL;
            num = cnt ? tkd_expr_mul(2, (tkd_expr *[]){a, tkd_expr_sub(tkd_expr_int(1), tkd_expr_pow(tkd_expr_copy(q), cnt))})
                      : NULL;
            if (!cnt)
                tkd_expr_free(a);
        }
        tkd_expr *r = num && den ? tkd_expr_div(num, den) : NULL;
        if (!r) {
            if (!num || !den) {
                tkd_expr_free(num);
                tkd_expr_free(den);
            }
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
        } else {
            rc = tkd_expr_simplify(r, out, e);
            tkd_expr_free(r);
        }
    }
    tkd_expr_free(q);
    return rc;
}

static int sum_prod(tkd_arena *ta, const tkd_json *args, tkd_json **result, int prod, tkd_err *e) {
    const char *tool = prod ? "product" : "summation";
    const char *var;
    tkd_expr *f, *lo_s = NULL, *hi_s = NULL;
    if (targ_var(args, "variable", "k", &var, e) || targ_expr(args, "expression", &f, e))
        return tkd_err_wrap(e, "%s", tool);
    fmpz_t lo, hi;
    fmpz_init(lo);
    fmpz_init(hi);
    int rc = bound(args, "lower", lo, &lo_s, e);
    if (!rc)
        rc = bound(args, "upper", hi, &hi_s, e);
    if (!rc && lo_s)
        rc = tkd_err_set(e, TKD_EINVAL, "'lower' must be an integer");
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    ca_t acc;
    ca_init(acc, ctx);
    int rev = 0;
    if (!rc && hi_s) {
        tkd_expr *x = NULL;
        int inf = hi_s->kind == TKD_EX_CONST && hi_s->op == TKD_C_OO;
        if (prod)
            rc = tkd_err_set(e, TKD_EMATH, "a product needs integer bounds");
        else if (!inf && !(rc = faulhaber(f, var, lo, hi_s, &x, e)))
            *result = tjson_ast(ta, x);
        else {
            tkd_err_clear(e);
            if (!(rc = geometric(f, var, lo, inf ? NULL : hi_s, &x, e)))
                *result = tjson_ast(ta, x);
            else {
                /* the other closed forms (sums.c): keep geometric's message when none applies */
                tkd_err e2 = {0};
                int r2 = tsum_closed(f, var, lo, hi_s, &x, &e2);
                if (!r2) {
                    tkd_err_clear(e);
                    rc = 0;
                    *result = tjson_ast(ta, x);
                } else if (r2 == TSUM_NOT_MINE) {
                    tkd_err_clear(e);
                    rc = tkd_err_set(e, TKD_EMATH,
                                     "unsupported here: the summand is not a polynomial in %s, a rational function "
                                     "of %s, a polynomial times geometric or factorial terms, or a telescoping "
                                     "difference u(%s) - u(%s + s)",
                                     var, var, var, var);
                } else {
                    tkd_err_clear(e);
                    *e = e2;
                    rc = r2;
                }
            }
        }
    } else if (!rc) {
        /* SymPy's (Karr's) convention for upper < lower - 1: sum_{a}^{b} = -sum_{b+1}^{a-1},
         * prod_{a}^{b} = 1/prod_{b+1}^{a-1} */
        fmpz_sub_ui(lo, lo, 1);
        rev = fmpz_cmp(hi, lo) < 0;
        fmpz_add_ui(lo, lo, 1);
        if (rev) {
            fmpz_swap(lo, hi);
            fmpz_add_ui(lo, lo, 1);
            fmpz_sub_ui(hi, hi, 1);
        }
        fmpz_t cnt;
        fmpz_init(cnt);
        fmpz_sub(cnt, hi, lo);
        int many = fmpz_cmp_si(cnt, TOOL_SUM_SYM_TERMS_MAX) >= 0;
        int param = has_param(f, var, e);
        if (param < 0)
            rc = e->code;
        /* a closed form first where term by term would be long (short ranges
         * are added term by term, as SymPy does) */
        if (!rc && !prod && many) {
            tkd_expr *x = NULL, *hv = tkd_expr_fmpz(hi);
            tkd_err e2 = {0};
            if (hv && !tsum_closed(f, var, lo, hv, &x, &e2)) {
                *result = tjson_ast(ta, x);
                param = 2; /* done */
            }
            tkd_err_clear(&e2);
            tkd_expr_free(hv);
        }
        if (!rc && param != 2 && fmpz_cmp_si(cnt, TOOL_SUM_TERMS_MAX) >= 0)
            rc = tkd_err_set(e, TKD_ELIMIT,
                             "the range has more than %d terms; for a polynomial summand pass the upper bound as a "
                             "symbol (e.g. \"n\") to get a closed form",
                             TOOL_SUM_TERMS_MAX);
        fmpz_clear(cnt);
        if (param == 2) {
        } else if (!rc && param) {
            tkd_expr *x = NULL;
            if (!(rc = range_sym(f, var, lo, hi, prod, &x, e)))
                *result = tjson_ast(ta, x);
        } else if (!rc)
            rc = range_ca(f, var, lo, hi, prod, acc, ctx, e);
        if (!rc && !param) {
            tkd_expr *x = tkd_expr_from_ca(acc, ctx, e);
            if (!x)
                rc = e->code ? e->code : TKD_ENOMEM;
            else
                *result = tjson_ast(ta, x);
        }
    }
    if (!rc && rev && *result) { /* the answer of the swapped range, negated (inverted) */
        tkd_expr *x = NULL, *y = NULL;
        const char *t = tkd_json_str(*result);
        if (!t || tkd_expr_parse_str(t, &x, e))
            rc = e->code ? e->code : tkd_err_set(e, TKD_ENOMEM, "out of memory");
        else {
            y = prod ? tkd_expr_pow(x, tkd_expr_int(-1)) : tkd_expr_neg(x);
            tkd_expr *z = NULL;
            if (!y || tkd_expr_simplify(y, &z, e))
                rc = e->code ? e->code : tkd_err_set(e, TKD_ENOMEM, "out of memory");
            else
                *result = tjson_ast(ta, z);
            tkd_expr_free(y);
        }
    }
    ca_clear(acc, ctx);
    ca_ctx_clear(ctx);
    fmpz_clear(lo);
    fmpz_clear(hi);
    tkd_expr_free(f);
    tkd_expr_free(lo_s);
    tkd_expr_free(hi_s);
    return rc ? tkd_err_wrap(e, "%s", tool) : 0;
}

static int t_sum(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return sum_prod(ta, a, r, 0, e);
}
static int t_prod(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return sum_prod(ta, a, r, 1, e);
}

#define SUM_PARAMS(what)                                                                                               \
    {                                                                                                                  \
        {"expression", TP_EXPR, 1, "the term in SymPy syntax, e.g. \"1/(k*(k + 1))\""},                                \
            {"variable", TP_VAR, 0, "the index variable (default \"k\")"},                                             \
            {"lower", TP_NUMBER, 1, "first index, an integer"}, {                                                      \
            "upper", TP_NUMBER, 1, "last index (included): an integer" what                                            \
        }                                                                                                              \
    }

const struct tkd_tool tkd_tools_eval_table[] = {
    {"evaluate",
     "evaluation",
     "exact value and decimal of a constant expression",
     "Evaluate an expression without variables exactly and as a decimal with the given significant digits (default "
     "15). Answers {\"value\": exact, \"decimal\": digits}. Example: {\"expression\": \"sqrt(8) + sin(pi/6)\", "
     "\"digits\": 10} -> {\"value\": \"1/2 + 2*sqrt(2)\", \"decimal\": \"3.328427125\"}.",
     {{"expression", TP_EXPR, 1, "a constant expression in SymPy syntax, e.g. \"binomial(10, 3)/2**10\""},
      {"digits", TP_INT, 0, "significant digits of the decimal, 1..1000 (default 15)"}},
     t_evaluate},
    {"summation", "evaluation", "exact sum over a range; closed forms to n or oo",
     "Exact sum of a term over an integer range, lower..upper inclusive: term by term for integer bounds (at most "
     "100000 terms), and a closed form when upper is a symbol such as \"n\" or \"oo\" (or the range is long) for: "
     "polynomials (any coefficients), rational functions (telescoping; zeta values such as pi**2/6 to oo), "
     "polynomial times geometric or factorial terms (k/2**k, k/(k + 1)!), telescoping differences (sqrt(k + 1) - "
     "sqrt(k)), geometric terms with a symbolic ratio (a Piecewise, as SymPy answers); a factor without the index is "
     "taken out. Example: {\"expression\": \"k**2\", \"variable\": \"k\", "
     "\"lower\": 1, \"upper\": 10} -> \"385\"; with \"upper\": \"n\" -> \"n**3/3 + n**2/2 + n/6\"; "
     "{\"expression\": \"1/(k*(k + 1))\", \"lower\": 1, \"upper\": \"oo\"} -> \"1\".",
     SUM_PARAMS(" or a symbol such as \"n\""), t_sum},
    {"product", "evaluation", "exact finite product",
     "Exact product of a term over an integer range, lower..upper inclusive (at most 100000 factors). Example: "
     "{\"expression\": \"(k + 1)/k\", \"variable\": \"k\", \"lower\": 1, \"upper\": 99} -> \"100\".",
     SUM_PARAMS(""), t_prod},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
