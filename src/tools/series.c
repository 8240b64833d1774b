/*
 * Power series with rational coefficients, the engine of series_expansion
 * and compute_limit. A series is t**v * p(t) + O(t**(v + prec)) with p a FLINT
 * fmpq_poly; t = x - a (or x = 1/t, -1/t at +-oo). Sums, products,
 * quotients, integer and rational powers, exp, log and the trigonometric and
 * hyperbolic functions come from FLINT's series routines. Whatever would
 * need irrational coefficients (sin(x) at x = 1, log(x) at 0) is reported as
 * unsupported rather than guessed. Precision lost to cancellation is
 * detected and the computation repeated with more terms.
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#include <flint/fmpq_poly.h>

int tser_from_ast(ser *s, const tkd_expr *x, const tser_point *pt, slong N, tkd_err *e);

static void ser_init(ser *s) {
    fmpq_poly_init(s->p);
    s->v = 0;
    s->prec = 0;
}

void tser_clear(ser *s) {
    fmpq_poly_clear(s->p);
}

/* Strip leading zero coefficients into v (keeps absolute precision). */
static void normalize(ser *s) {
    slong k = 0, len = fmpq_poly_length(s->p);
    while (k < len && fmpz_is_zero(s->p->coeffs + k))
        k++;
    if (k == len) { /* zero to this precision */
        fmpq_poly_zero(s->p);
        return;
    }
    if (k > 0) {
        fmpq_poly_shift_right(s->p, s->p, k);
        s->v += k;
        s->prec -= k;
    }
    fmpq_poly_truncate(s->p, s->prec);
}

static int is_zero(const ser *s) {
    return fmpq_poly_is_zero(s->p);
}

static int unsupported(tkd_err *e, const char *what) {
    return tkd_err_set(e, TKD_EMATH, "unsupported: %s (only expansions with rational coefficients are computed here)",
                       what);
}

static void set_const(ser *s, const fmpq_t c, slong N) {
    fmpq_poly_set_fmpq(s->p, c);
    s->v = 0;
    s->prec = N;
}

static void add(ser *r, const ser *a, const ser *b, int sub) {
    if (is_zero(a) && a->v + a->prec >= b->v + b->prec) {
        fmpq_poly_set(r->p, b->p);
        if (sub)
            fmpq_poly_neg(r->p, r->p);
        r->v = b->v;
        r->prec = b->prec;
        return;
    }
    slong v = a->v < b->v ? a->v : b->v;
    slong abs = a->v + a->prec < b->v + b->prec ? a->v + a->prec : b->v + b->prec;
    fmpq_poly_t x, y;
    fmpq_poly_init(x);
    fmpq_poly_init(y);
    fmpq_poly_shift_left(x, a->p, a->v - v);
    fmpq_poly_shift_left(y, b->p, b->v - v);
    if (sub)
        fmpq_poly_sub(r->p, x, y);
    else
        fmpq_poly_add(r->p, x, y);
    r->v = v;
    r->prec = abs - v;
    fmpq_poly_truncate(r->p, r->prec > 0 ? r->prec : 0);
    fmpq_poly_clear(x);
    fmpq_poly_clear(y);
    normalize(r);
}

static void mul(ser *r, const ser *a, const ser *b) {
    slong prec = a->prec < b->prec ? a->prec : b->prec;
    if (is_zero(a) || is_zero(b)) {
        fmpq_poly_zero(r->p);
        r->v = a->v + b->v;
        r->prec = prec;
        return;
    }
    fmpq_poly_mullow(r->p, a->p, b->p, prec > 0 ? prec : 1);
    r->v = a->v + b->v;
    r->prec = prec;
    normalize(r);
}

static int divide(ser *r, const ser *a, const ser *b, tkd_err *e) {
    if (is_zero(b))
        return tkd_err_set(
            e, TKD_EMATH,
            "division by a series that vanishes to the working precision (the expression may be undefined)");
    slong prec = a->prec < b->prec ? a->prec : b->prec;
    if (prec <= 0)
        prec = 1;
    fmpq_poly_div_series(r->p, a->p, b->p, prec);
    r->v = a->v - b->v;
    r->prec = prec;
    normalize(r);
    return 0;
}

/* b**k for an integer k */
static int powi(ser *r, const ser *b, slong k, tkd_err *e) {
    if (k < 0) {
        ser one, t;
        ser_init(&one);
        ser_init(&t);
        fmpq_poly_one(one.p);
        one.prec = b->prec + 64;
        int rc = powi(&t, b, -k, e);
        if (!rc)
            rc = divide(r, &one, &t, e);
        tser_clear(&one);
        tser_clear(&t);
        return rc;
    }
    if (is_zero(b)) {
        if (k == 0) {
            fmpq_poly_one(r->p);
            r->v = 0;
            r->prec = b->prec;
        } else {
            fmpq_poly_zero(r->p);
            r->v = b->v * k;
            r->prec = b->prec;
        }
        return 0;
    }
    fmpq_poly_pow_trunc(r->p, b->p, (ulong)k, b->prec);
    r->v = b->v * k;
    r->prec = b->prec;
    return 0;
}

/* the series of a function f applied to s: f(s) with s(0) = 0 unless noted */
static int apply(ser *r, int fn, const ser *s, tkd_err *e) {
    slong n = s->v < 0 ? 0 : s->v + s->prec; /* absolute precision */
    if (s->v < 0)
        return unsupported(e, "a function of an argument that is infinite at the point");
    fmpq_poly_t a;
    fmpq_poly_init(a);
    fmpq_poly_shift_left(a, s->p, s->v);
    fmpq_t c0;
    fmpq_init(c0);
    fmpq_poly_get_coeff_fmpq(c0, a, 0);
    int rc = 0;
    if (fn == TKD_FN_LOG) {
        if (!fmpq_is_one(c0))
            rc = unsupported(e, fmpq_is_zero(c0) ? "log of an argument that vanishes at the point"
                                                 : "log of an argument whose value at the point is not 1");
        else
            fmpq_poly_log_series(r->p, a, n);
    } else if (!fmpq_is_zero(c0)) {
        rc = unsupported(e, "a function whose argument is nonzero at the point (its value would be irrational)");
    } else {
        switch (fn) {
        case TKD_FN_EXP: fmpq_poly_exp_series(r->p, a, n); break;
        case TKD_FN_SIN: fmpq_poly_sin_series(r->p, a, n); break;
        case TKD_FN_COS: fmpq_poly_cos_series(r->p, a, n); break;
        case TKD_FN_TAN: fmpq_poly_tan_series(r->p, a, n); break;
        case TKD_FN_ATAN: fmpq_poly_atan_series(r->p, a, n); break;
        case TKD_FN_ASIN: fmpq_poly_asin_series(r->p, a, n); break;
        case TKD_FN_SINH: fmpq_poly_sinh_series(r->p, a, n); break;
        case TKD_FN_COSH: fmpq_poly_cosh_series(r->p, a, n); break;
        case TKD_FN_TANH: fmpq_poly_tanh_series(r->p, a, n); break;
        case TKD_FN_ASINH: fmpq_poly_asinh_series(r->p, a, n); break;
        case TKD_FN_ATANH: fmpq_poly_atanh_series(r->p, a, n); break;
        default: rc = unsupported(e, "this function in a series");
        }
    }
    r->v = 0;
    r->prec = n;
    fmpq_poly_clear(a);
    fmpq_clear(c0);
    if (!rc)
        normalize(r);
    return rc;
}

/* q-th root of a rational, exactly, or 0 */
static int fmpq_root_exact(fmpq_t r, const fmpq_t c, ulong q) {
    if (fmpq_sgn(c) < 0 && q % 2 == 0)
        return 0;
    fmpz_t a, b;
    fmpz_init(a);
    fmpz_init(b);
    int ok = fmpz_root(a, fmpq_numref(c), (slong)q) >= 0;
    fmpz_pow_ui(b, a, q);
    ok = fmpz_equal(b, fmpq_numref(c));
    fmpz_set(fmpq_numref(r), a);
    fmpz_root(a, fmpq_denref(c), (slong)q);
    fmpz_pow_ui(b, a, q);
    ok = ok && fmpz_equal(b, fmpq_denref(c));
    fmpz_set(fmpq_denref(r), a);
    fmpz_clear(a);
    fmpz_clear(b);
    return ok;
}

static int from_ast(ser *s, const tkd_expr *x, const tser_point *pt, slong N, tkd_err *e) {
    ser_init(s);
    int rc = 0;
    switch (x->kind) {
    case TKD_EX_NUM:
    case TKD_EX_DEC: set_const(s, x->q, N); return 0;
    case TKD_EX_SYM:
        if (strcmp(x->name, pt->var))
            return tkd_err_set(
                e, TKD_EMATH, "unsupported: the expression contains the symbol '%s'; only the variable '%s' may appear",
                x->name, pt->var);
        if (pt->inf) { /* x = +-1/t */
            fmpq_poly_set_si(s->p, pt->inf);
            s->v = -1;
            s->prec = N;
        } else {
            fmpq_poly_set_fmpq(s->p, pt->a);
            fmpq_poly_set_coeff_si(s->p, 1, 1);
            s->v = 0;
            s->prec = N;
            normalize(s);
        }
        return 0;
    case TKD_EX_ADD:
    case TKD_EX_MUL: {
        ser a, t;
        ser_init(&a);
        ser_init(&t);
        fmpq_t one;
        fmpq_init(one);
        fmpq_set_si(one, x->kind == TKD_EX_MUL, 1);
        set_const(s, one, N);
        if (x->kind == TKD_EX_ADD)
            fmpq_poly_zero(s->p);
        fmpq_clear(one);
        for (size_t i = 0; i < x->n && !rc; i++) {
            tser_clear(&a);
            if ((rc = tser_from_ast(&a, x->args[i], pt, N, e)))
                break;
            if (x->kind == TKD_EX_ADD)
                add(&t, s, &a, 0);
            else
                mul(&t, s, &a);
            fmpq_poly_swap(s->p, t.p);
            s->v = t.v;
            s->prec = t.prec;
        }
        tser_clear(&a);
        tser_clear(&t);
        return rc;
    }
    case TKD_EX_POW: {
        ser b;
        const tkd_expr *ex = x->args[1];
        if ((rc = tser_from_ast(&b, x->args[0], pt, N, e))) {
            tser_clear(&b);
            return rc;
        }
        if ((ex->kind == TKD_EX_NUM || ex->kind == TKD_EX_DEC) && fmpz_is_one(fmpq_denref(ex->q))) {
            if (tfmpz_abs_gt(fmpq_numref(ex->q), 10000))
                rc = tkd_err_set(e, TKD_ELIMIT, "unsupported: the exponent is too large for a series");
            else
                rc = powi(s, &b, fmpz_get_si(fmpq_numref(ex->q)), e);
        } else if (ex->kind == TKD_EX_NUM || ex->kind == TKD_EX_DEC) {
            /* b = t^v p, p(0) = c: b^r = t^(v r) c^r (p/c)^r */
            slong q = fmpz_get_si(fmpq_denref(ex->q)), pn = fmpz_get_si(fmpq_numref(ex->q));
            fmpq_t c, cr;
            fmpq_init(c);
            fmpq_init(cr);
            if (is_zero(&b) || b.v % q != 0 || tfmpz_abs_gt(fmpq_numref(ex->q), 1000) || q > 1000) {
                rc =
                    unsupported(e, "a fractional power of an expression that vanishes at the point (a Puiseux series)");
            } else {
                fmpq_poly_get_coeff_fmpq(c, b.p, 0);
                if (!fmpq_root_exact(cr, c, (ulong)q)) {
                    rc = unsupported(e, "a fractional power whose value at the point is irrational");
                } else {
                    fmpq_pow_si(cr, cr, pn);
                    fmpq_poly_scalar_div_fmpq(b.p, b.p, c); /* constant term 1 */
                    fmpq_poly_log_series(s->p, b.p, b.prec);
                    fmpq_t r;
                    fmpq_init(r);
                    fmpq_set(r, ex->q);
                    fmpq_poly_scalar_mul_fmpq(s->p, s->p, r);
                    fmpq_clear(r);
                    fmpq_poly_exp_series(s->p, s->p, b.prec);
                    fmpq_poly_scalar_mul_fmpq(s->p, s->p, cr);
                    s->v = b.v / q * pn;
                    s->prec = b.prec;
                }
            }
            fmpq_clear(c);
            fmpq_clear(cr);
        } else { /* b**ex = exp(ex * log(b)) */
            ser l, m, ee;
            ser_init(&l);
            ser_init(&m);
            ser_init(&ee);
            rc = apply(&l, TKD_FN_LOG, &b, e);
            if (!rc && !(rc = tser_from_ast(&ee, ex, pt, N, e))) {
                mul(&m, &ee, &l);
                rc = apply(s, TKD_FN_EXP, &m, e);
            }
            tser_clear(&ee);
            tser_clear(&l);
            tser_clear(&m);
        }
        tser_clear(&b);
        return rc;
    }
    case TKD_EX_FUNC: {
        int fn = x->op;
        if (x->n != 1)
            return unsupported(e, "a function of several arguments");
        ser a;
        if ((rc = tser_from_ast(&a, x->args[0], pt, N, e))) {
            tser_clear(&a);
            return rc;
        }
        if (fn == TKD_FN_SEC || fn == TKD_FN_CSC || fn == TKD_FN_COT) {
            ser c, one;
            ser_init(&c);
            ser_init(&one);
            rc = apply(&c, fn == TKD_FN_SEC ? TKD_FN_COS : fn == TKD_FN_CSC ? TKD_FN_SIN : TKD_FN_TAN, &a, e);
            fmpq_poly_one(one.p);
            one.prec = N + 64;
            if (!rc)
                rc = divide(s, &one, &c, e);
            tser_clear(&c);
            tser_clear(&one);
        } else if (fn == TKD_FN_ACOS) {
            rc = unsupported(e, "acos (its value pi/2 is irrational)");
        } else {
            rc = apply(s, fn, &a, e);
        }
        tser_clear(&a);
        return rc;
    }
    case TKD_EX_CONST: return unsupported(e, "a constant such as pi or E in the expression");
    default: return tkd_err_set(e, TKD_EINVAL, "expected an algebraic expression");
    }
}

/* On error s is left empty (cleared), so callers may clear it again. */
int tser_from_ast(ser *s, const tkd_expr *x, const tser_point *pt, slong N, tkd_err *e) {
    int rc = from_ast(s, x, pt, N, e);
    if (rc) {
        tser_clear(s);
        ser_init(s);
    }
    return rc;
}

/* The series of x with absolute precision at least want (retrying with more
 * working terms when cancellation ate precision). */
int tser_compute(ser *s, const tkd_expr *x, const tser_point *pt, slong want, tkd_err *e) {
    for (slong N = want + 8; N <= want + 8 + 256; N = 2 * N + 8) {
        int rc = tser_from_ast(s, x, pt, N, e);
        if (rc)
            return rc;
        if (s->v + s->prec >= want && (!is_zero(s) || N > want + 64))
            return 0;
        tser_clear(s);
    }
    return tkd_err_set(e, TKD_ELIMIT, "unsupported: the series needs too many terms (heavy cancellation)");
}

/* Parse a point argument: a rational number, oo or -oo. */
int tser_point_parse(const tkd_json *v, const char *var, tser_point *pt, tkd_err *e) {
    memset(pt, 0, sizeof *pt);
    pt->var = var;
    fmpq_init(pt->a);
    if (!v) {
        fmpq_zero(pt->a);
        return 0;
    }
    tkd_expr *x;
    if (tparse_json(v, &x, e, "argument 'point'"))
        return e->code;
    int rc = 0;
    if (x->kind == TKD_EX_NUM || x->kind == TKD_EX_DEC)
        fmpq_set(pt->a, x->q);
    else if (x->kind == TKD_EX_CONST && x->op == TKD_C_OO)
        pt->inf = 1;
    else if (x->kind == TKD_EX_MUL && x->n == 2 && tkd_expr_is_int(x->args[0], -1) &&
             x->args[1]->kind == TKD_EX_CONST && x->args[1]->op == TKD_C_OO)
        pt->inf = -1;
    else {
        tkd_expr *s = NULL;
        if (!tkd_expr_simplify(x, &s, e) && s && (s->kind == TKD_EX_NUM))
            fmpq_set(pt->a, s->q);
        else {
            pt->expr = x;
            x = NULL;
            rc = 0;
        }
        tkd_expr_free(s);
    }
    tkd_expr_free(x);
    return rc;
}

void tser_point_clear(tser_point *pt) {
    fmpq_clear(pt->a);
    tkd_expr_free(pt->expr);
}

/* ---- series_expansion ---- */

static tkd_expr *tvar(const tser_point *pt) { /* x - a */
    tkd_expr *x = tkd_expr_sym(pt->var);
    if (fmpq_is_zero(pt->a))
        return x;
    fmpq_t na;
    fmpq_init(na);
    fmpq_neg(na, pt->a);
    tkd_expr *r = tkd_expr_add2(x, tkd_expr_fmpq(na));
    fmpq_clear(na);
    return r;
}

static int t_series(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    const char *var;
    long order;
    tkd_expr *x;
    if (targ_var(args, "variable", "x", &var, e) || targ_slong(args, "order", 1, 200, 6, &order, e))
        return tkd_err_wrap(e, "series_expansion");
    tser_point pt;
    if (tser_point_parse(tkd_json_get(args, "point"), var, &pt, e))
        return tkd_err_wrap(e, "series_expansion");
    if (pt.inf || pt.expr) {
        tser_point_clear(&pt);
        return tkd_err_set(e, TKD_EMATH, "series_expansion: the point must be a rational number (e.g. 0 or 1/2)");
    }
    if (targ_expr(args, "expression", &x, e)) {
        tser_point_clear(&pt);
        return tkd_err_wrap(e, "series_expansion");
    }
    ser s;
    int rc = tser_compute(&s, x, &pt, order, e);
    if (!rc) {
        tkd_expr *terms[256];
        size_t n = 0;
        fmpq_t c;
        fmpq_init(c);
        for (slong k = 0; k < fmpq_poly_length(s.p) && s.v + k < order && n < 255; k++) {
            fmpq_poly_get_coeff_fmpq(c, s.p, k);
            if (fmpq_is_zero(c))
                continue;
            slong pw = s.v + k;
            tkd_expr *m = pw == 0 ? NULL : pw == 1 ? tvar(&pt) : tkd_expr_pow(tvar(&pt), tkd_expr_int(pw));
            terms[n++] = !m ? tkd_expr_fmpq(c) : fmpq_is_one(c) ? m : tkd_expr_mul2(tkd_expr_fmpq(c), m);
        }
        fmpq_clear(c);
        tkd_expr *body = n == 0 ? NULL : n == 1 ? terms[0] : tkd_expr_add(n, terms);
        char *bs = body ? tkd_expr_to_str(body) : NULL;
        tkd_expr_free(body);
        tkd_expr *o = tkd_expr_pow(tvar(&pt), tkd_expr_int(order));
        char *os = tkd_expr_to_str(o);
        tkd_expr_free(o);
        tkd_buf b;
        tkd_buf_init(&b);
        if (bs)
            tkd_buf_printf(&b, "%s + ", bs);
        if (fmpq_is_zero(pt.a)) {
            tkd_buf_printf(&b, "O(%s)", os ? os : "?");
        } else {
            char *as = fmpq_get_str(NULL, 10, pt.a);
            tkd_buf_printf(&b, "O(%s, (%s, %s))", os ? os : "?", var, as);
            flint_free(as);
        }
        *result = tkd_json_string(ta, b.data);
        tkd_buf_free(&b);
        free(bs);
        free(os);
        tser_clear(&s);
    }
    tkd_expr_free(x);
    tser_point_clear(&pt);
    return rc ? tkd_err_wrap(e, "series_expansion") : 0;
}

const struct tkd_tool tkd_tools_series_table[] = {
    {"series_expansion",
     "calculus",
     "Taylor/Laurent series up to an order",
     "Series of an expression in one variable around a rational point, with the terms below order n and an O() term, "
     "like SymPy's series(expr, x, point, n). Example: {\"expression\": \"sin(x)/x\", \"variable\": \"x\", \"point\": "
     "0, \"order\": 6} -> \"1 - x**2/6 + x**4/120 + O(x**6)\".",
     {{"expression", TP_EXPR, 1, "the expression in SymPy syntax"},
      {"variable", TP_VAR, 0, "the variable (default \"x\")"},
      {"point", TP_NUMBER, 0, "expansion point, a rational number (default 0)"},
      {"order", TP_INT, 0, "n: the first power left out (default 6)"}},
     t_series},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
