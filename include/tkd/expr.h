/*
 * expr: the expression core. One AST for everything tkd reads as math: the
 * teacher's SymPy-syntax tool arguments (parsed here) and the LaTeX answers
 * the grader parses (module grade builds nodes with the constructors below).
 * On it: exact numbers (Calcium), certified numerics (Arb), canonical forms of
 * rational functions over Q (FLINT multivariate polynomials), differentiation,
 * substitution, a light simplify, and printers to SymPy-like text and LaTeX.
 *
 * Syntax read by tkd_expr_parse (SymPy's, as sympify reads it):
 *   integers of any size; decimals `0.25`, `1e-3`, `2.5E3` read EXACTLY as
 *   rationals (a DEC node keeps the value and the decimal places written);
 *   `+ - * / **`; `^` is POWER too (not XOR as in SymPy: a model writing math
 *   means power); `n!` is factorial(n); parentheses; names (multi-letter,
 *   digits and `_` allowed: `x1`, `theta`, `a_n`); calls `f(a, b)`;
 *   constants `pi E I oo` (`-oo` is Mul(-1, oo)); relations `< <= > >= == !=`
 *   and `Eq Ne Lt Le Gt Ge`; a bare `lhs = rhs` reads as `lhs - (rhs)` like
 *   the paper's toolkit (or as Eq(lhs, rhs) with TKD_EXPR_PARSE_EQ_REL);
 *   lists `[a, b]`, tuples `(a, b)`, sets `{a, b}`, `Matrix([[1, 2], [3, 4]])`,
 *   `Interval(a, b[, lopen, ropen])`, `Interval.open/Lopen/Ropen(a, b)`,
 *   `Rational(a, b)`, `sqrt(x)` (stored as x**(1/2), as SymPy does),
 *   `root(x, n)`, `ln` = `log`, `arcsin` = `asin` etc., `±` (U+00B1); the
 *   signs × ÷ − π ∞ ≤ ≥ ≠ read as their ASCII meaning; other non-ASCII is
 *   an error naming the character.
 *   Implicit multiplication (`2x`) is an error with a hint (SymPy's too).
 *   `nan`, `inf`, `zoo` and empty input are errors.
 *
 * Ownership: a tkd_expr is a tree; each node owns its children. Constructors
 * TAKE OWNERSHIP of the nodes passed in, and if any of them is NULL (a failed
 * inner constructor) or an allocation fails, they free all the others and
 * return NULL. So nested constructor calls need one NULL check at the end.
 * Every tree is freed with tkd_expr_free. Nodes are plain structs that callers
 * may read; build and change them only through this API.
 *
 * Canonical shape (as SymPy's): a - b is Add(a, Mul(-1, b)); a/b is
 * Mul(a, Pow(b, -1)); sqrt(a) is Pow(a, 1/2); -x is Mul(-1, x); -3 is NUM -3.
 * The parser does not fold or reorder; tkd_expr_simplify and friends do.
 */
#ifndef TKD_EXPR_H
#define TKD_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include <flint/fmpq.h>
#include <flint/fmpq_poly.h>
#include <flint/fmpz.h>
#include <flint/fmpz_poly.h>

#include <acb.h>
#include <calcium/ca.h> /* needs libantic-dev for antic/nf.h */
#include <calcium/qqbar.h>

#include "tkd/core.h"

/* ---- named limits: exceeding one returns TKD_ELIMIT naming it ---- */
#define TKD_EXPR_MAX_INPUT 65536    /* bytes of source text */
#define TKD_EXPR_MAX_DEPTH 200      /* nesting of parentheses / calls / operators */
#define TKD_EXPR_MAX_INT_BITS 65536 /* bits of any exact integer (~19,700 digits) */
#define TKD_EXPR_MAX_DEGREE 2000    /* degree of a polynomial, exponent of an expansion */
#define TKD_EXPR_MAX_TERMS 20000    /* terms of a polynomial / elements of a list */
#define TKD_EXPR_MAX_NODES 200000   /* nodes of one tree built by an operation */
#define TKD_EXPR_MAX_ROOT_DEGREE 64 /* degree of a polynomial solved exactly */

typedef enum {
    TKD_EX_NUM = 0,  /* exact rational q (integers have den 1) */
    TKD_EX_DEC,      /* decimal literal: exact value q and places as written ("0.330" -> 33/100, 3) */
    TKD_EX_SYM,      /* symbol: name */
    TKD_EX_CONST,    /* op: tkd_expr_const_id */
    TKD_EX_ADD,      /* n >= 2 args */
    TKD_EX_MUL,      /* n >= 2 args */
    TKD_EX_POW,      /* args[0] ** args[1] */
    TKD_EX_FUNC,     /* op: tkd_fn_id; name; n args */
    TKD_EX_REL,      /* op: tkd_expr_rel_op; args[0] op args[1] */
    TKD_EX_LIST,     /* [a, b, ...] */
    TKD_EX_TUPLE,    /* (a, b, ...) */
    TKD_EX_SET,      /* {a, b, ...} */
    TKD_EX_INTERVAL, /* args[0], args[1]; op bit 1: left open, bit 2: right open */
    TKD_EX_MATRIX,   /* rows x cols args, row-major */
    TKD_EX_STR,      /* a text answer: name holds the UTF-8 text */
    TKD_EX_PM,       /* args[0] ± args[1] (unary ±b has args[0] = 0) */
    TKD_EX_KIND_COUNT
} tkd_expr_kind;

typedef enum {
    TKD_C_PI = 0,
    TKD_C_E,
    TKD_C_I,
    TKD_C_OO, /* +infinity; -oo is Mul(-1, oo) */
    TKD_C_TRUE,
    TKD_C_FALSE,
    TKD_C_COUNT
} tkd_expr_const_id;

typedef enum { TKD_R_EQ = 0, TKD_R_NE, TKD_R_LT, TKD_R_LE, TKD_R_GT, TKD_R_GE, TKD_R_COUNT } tkd_expr_rel_op;

#define TKD_IV_LOPEN 1
#define TKD_IV_ROPEN 2

/* Known functions. TKD_FN_UNDEF is any other name: an undefined function f(x). */
typedef enum {
    TKD_FN_UNDEF = 0,
    TKD_FN_EXP,
    TKD_FN_LOG, /* log(x) natural; log(x, b) base b */
    TKD_FN_SIN,
    TKD_FN_COS,
    TKD_FN_TAN,
    TKD_FN_SEC,
    TKD_FN_CSC,
    TKD_FN_COT,
    TKD_FN_ASIN,
    TKD_FN_ACOS,
    TKD_FN_ATAN,
    TKD_FN_ATAN2,
    TKD_FN_ACOT,
    TKD_FN_SINH,
    TKD_FN_COSH,
    TKD_FN_TANH,
    TKD_FN_ASINH,
    TKD_FN_ACOSH,
    TKD_FN_ATANH,
    TKD_FN_ABS,
    TKD_FN_SIGN,
    TKD_FN_FLOOR,
    TKD_FN_CEILING,
    TKD_FN_FRAC,
    TKD_FN_RE,
    TKD_FN_IM,
    TKD_FN_CONJUGATE,
    TKD_FN_ARG,
    TKD_FN_FACTORIAL,
    TKD_FN_BINOMIAL,
    TKD_FN_GAMMA,
    TKD_FN_GCD,
    TKD_FN_LCM,
    TKD_FN_MOD,
    TKD_FN_MIN,
    TKD_FN_MAX,
    TKD_FN_SUM,
    TKD_FN_PRODUCT, /* Sum(f, (i, a, b)) */
    TKD_FN_COUNT
} tkd_fn_id;

typedef struct tkd_expr tkd_expr;
struct tkd_expr {
    tkd_expr_kind kind;
    int op;            /* CONST id, FUNC id, REL op, INTERVAL open bits */
    size_t n;          /* number of args */
    tkd_expr **args;   /* children, owned */
    size_t rows, cols; /* MATRIX shape (n == rows * cols) */
    char *name;        /* SYM, FUNC (the name as written: "sin", "f"), STR */
    long places;       /* DEC: decimal places written */
    fmpq_t q;          /* NUM, DEC: exact value (initialised for every node) */
};

/* ---- parsing ---- */
#define TKD_EXPR_PARSE_EQ_REL 1u /* read `a = b` as Eq(a, b) instead of a - (b) */

/* Parse SymPy syntax (len bytes; need not be NUL-terminated). Errors:
 * TKD_EINVAL "unexpected ')' at column 14; ..." and TKD_ELIMIT naming the
 * limit. *out is NULL on error. */
int tkd_expr_parse(const char *src, size_t len, unsigned flags, tkd_expr **out, tkd_err *e);
/* Convenience: NUL-terminated string, default flags. */
int tkd_expr_parse_str(const char *src, tkd_expr **out, tkd_err *e);

/* ---- constructors (take ownership; NULL in, NULL out; see above) ---- */
tkd_expr *tkd_expr_int(long v);
tkd_expr *tkd_expr_fmpz(const fmpz_t v);
tkd_expr *tkd_expr_fmpq(const fmpq_t v);
tkd_expr *tkd_expr_rat(long p, long q); /* q != 0; normalised */
tkd_expr *tkd_expr_dec(const fmpq_t v, long places);
tkd_expr *tkd_expr_sym(const char *name);
tkd_expr *tkd_expr_const(tkd_expr_const_id id);
tkd_expr *tkd_expr_text(const char *utf8);
tkd_expr *tkd_expr_add(size_t n, tkd_expr **args); /* n==1 returns args[0]; the array is copied */
tkd_expr *tkd_expr_mul(size_t n, tkd_expr **args);
tkd_expr *tkd_expr_add2(tkd_expr *a, tkd_expr *b);
tkd_expr *tkd_expr_mul2(tkd_expr *a, tkd_expr *b);
tkd_expr *tkd_expr_sub(tkd_expr *a, tkd_expr *b); /* Add(a, Mul(-1, b)) */
tkd_expr *tkd_expr_neg(tkd_expr *a);              /* Mul(-1, a), or the negated number */
tkd_expr *tkd_expr_div(tkd_expr *a, tkd_expr *b); /* Mul(a, Pow(b, -1)) */
tkd_expr *tkd_expr_pow(tkd_expr *base, tkd_expr *exp);
tkd_expr *tkd_expr_sqrt(tkd_expr *a);                           /* Pow(a, 1/2) */
tkd_expr *tkd_expr_fn(tkd_fn_id id, size_t n, tkd_expr **args); /* canonical name */
tkd_expr *tkd_expr_fn1(tkd_fn_id id, tkd_expr *a);
tkd_expr *tkd_expr_fn2(tkd_fn_id id, tkd_expr *a, tkd_expr *b);
/* known names map to their id; sqrt(a) gives Pow(a, 1/2) */
tkd_expr *tkd_expr_call(const char *name, size_t n, tkd_expr **args);
tkd_expr *tkd_expr_rel(tkd_expr_rel_op op, tkd_expr *a, tkd_expr *b);
tkd_expr *tkd_expr_seq(tkd_expr_kind kind, size_t n, tkd_expr **args); /* LIST, TUPLE or SET */
tkd_expr *tkd_expr_interval(tkd_expr *lo, tkd_expr *hi, int lopen, int ropen);
tkd_expr *tkd_expr_matrix(size_t rows, size_t cols, tkd_expr **args); /* row-major */
tkd_expr *tkd_expr_pm(tkd_expr *a, tkd_expr *b);                      /* a ± b; a may be NULL for ±b */

void tkd_expr_free(tkd_expr *x);
tkd_expr *tkd_expr_copy(const tkd_expr *x); /* deep copy; NULL on ENOMEM */

/* ---- inspection ---- */
int tkd_expr_equal(const tkd_expr *a, const tkd_expr *b);  /* structural: same tree */
uint64_t tkd_expr_hash(const tkd_expr *x);                 /* equal trees hash equal */
int tkd_expr_is_num(const tkd_expr *x);                    /* NUM or DEC */
int tkd_expr_is_int(const tkd_expr *x, long v);            /* a NUM/DEC equal to v */
int tkd_expr_has_sym(const tkd_expr *x, const char *name); /* name NULL: any symbol */
/* Distinct free symbols (Sum/Product bound indices excluded), sorted by name;
 * *names is a malloc'd array of pointers into x (free the array only). */
int tkd_expr_free_syms(const tkd_expr *x, const char ***names, size_t *n, tkd_err *e);
size_t tkd_expr_count_nodes(const tkd_expr *x);
const char *tkd_expr_fn_name(tkd_fn_id id);     /* SymPy's name: "ceiling", "Abs" */
tkd_fn_id tkd_expr_fn_lookup(const char *name); /* aliases too; TKD_FN_UNDEF if unknown */

/* ---- exact numbers (Calcium) ----
 * A constant expression (no free symbols) as an exact Calcium number:
 * integers, rationals, sqrt and roots, pi, E, I, exp, log, trig and inverse
 * trig (exact at rational multiples of pi), Abs, floor, ceiling, frac,
 * factorial, binomial, gcd, lcm, Mod (of reals, with the divisor's sign),
 * gamma. Errors: TKD_EINVAL (free symbol, not a number),
 * TKD_EMATH (1/0, log(0), ...), TKD_ELIMIT (integer bits, exponents). */
int tkd_expr_to_ca(ca_t out, const tkd_expr *x, ca_ctx_t ctx, tkd_err *e);
/* An exact number back as an expression in closed form (radicals when
 * Calcium finds them: cos(pi/5) -> 1/4 + sqrt(5)/4; oo and -oo). NULL with
 * e set (e may be NULL) when there is none tkd can write: TKD_EMATH for an
 * undefined value, zoo or no closed form, TKD_ELIMIT for a huge rational. */
tkd_expr *tkd_expr_from_ca(const ca_t v, ca_ctx_t ctx, tkd_err *e);
/* An algebraic number in closed form: radicals (Cardano's formula for cubics
 * Calcium has none for), else roots of unity; NULL with e set (TKD_EMATH)
 * when there is none. */
tkd_expr *tkd_expr_from_qqbar(const qqbar_t x, tkd_err *e);

/* ---- numerics (Arb): certified complex balls ----
 * Evaluate x at prec bits with symbols bound to values (names[i] = vals[i]);
 * an unbound symbol is TKD_EINVAL. Relations, lists etc. are TKD_EINVAL. */
int tkd_expr_eval_acb(acb_t out, const tkd_expr *x, size_t nvars, const char *const *names, acb_srcptr vals, slong prec,
                      tkd_err *e);
/* Double-precision convenience (53 bits of the ball's midpoint). */
int tkd_expr_eval_double(const tkd_expr *x, size_t nvars, const char *const *names, const double *vals, double *re,
                         double *im, tkd_err *e);

/* ---- canonical forms over Q (FLINT multivariate polynomials) ----
 * x is read as a rational function in "generators": its symbols and any
 * subexpression that is not + - * / or a rational-constant power (sin(x),
 * pi, E, 2**x), taken as they are (tkd_expr_simplify simplifies them first).
 * Radicals b**(p/q) become powers of the generator b**(1/q), reduced with
 * g**q = b (sqrt(x)*sqrt(x) -> x); I is the radical (-1)**(1/2). Decimals
 * are read as their exact rational value. Results are new trees.
 *   expand:   a polynomial expanded (x**2 + 2*x + 1); a fraction as
 *             expanded numerator over expanded denominator, gcd cancelled
 *   cancel:   same as expand (SymPy's cancel/together)
 *   factor:   numerator and denominator factored over Q (content first)
 * Limits: TKD_EXPR_MAX_DEGREE, TKD_EXPR_MAX_TERMS, TKD_EXPR_MAX_INT_BITS
 * are checked BEFORE an expensive power or product, so (x+1)**100000 fails
 * at once. Lists, tuples, sets, matrices, intervals, relations and ± are
 * mapped element by element; text is TKD_EINVAL. */
int tkd_expr_expand(const tkd_expr *x, tkd_expr **out, tkd_err *e);
int tkd_expr_cancel(const tkd_expr *x, tkd_expr **out, tkd_err *e);
int tkd_expr_factor(const tkd_expr *x, tkd_expr **out, tkd_err *e);
/* x as a polynomial in var with rational coefficients (TKD_EINVAL when it
 * is not one: other symbols, 1/x, sqrt(x)), and back. */
int tkd_expr_to_fmpq_poly(fmpq_poly_t out, const tkd_expr *x, const char *var, tkd_err *e);
tkd_expr *tkd_expr_from_fmpq_poly(const fmpq_poly_t p, const char *var);
/* Coefficients of x as a polynomial in var, any coefficients (other symbols,
 * sqrt(2)): (*coeffs)[k] multiplies var**k, k = 0..*deg. x must be
 * polynomial in var (no var in denominators or inside functions). Free with
 * tkd_expr_vec_free(*coeffs, *deg + 1). */
int tkd_expr_poly_coeffs(const tkd_expr *x, const char *var, tkd_expr ***coeffs, slong *deg, tkd_err *e);
void tkd_expr_vec_free(tkd_expr **v, size_t n);
/* Exact roots of x, a polynomial in var with rational coefficients: distinct
 * roots in SymPy's order (real ascending, then complex by real and imaginary
 * part), in radicals when Calcium finds a formula, else CRootOf(p, k) with
 * SymPy's index k. mult (may be NULL) gets the multiplicities. Free with
 * tkd_expr_vec_free(*roots, *n) and free(*mult). real_only drops nonreal
 * roots. TKD_ELIMIT above TKD_EXPR_MAX_ROOT_DEGREE. */
int tkd_expr_poly_roots(const tkd_expr *x, const char *var, int real_only, tkd_expr ***roots, slong **mult, size_t *n,
                        tkd_err *e);

/* ---- calculus and rewriting ---- */
/* d/dvar, all elementary functions, chain rule; the result is simplified. */
int tkd_expr_diff(const tkd_expr *x, const char *var, tkd_expr **out, tkd_err *e);
/* Replace every free occurrence of symbol var by val (no simplification). */
int tkd_expr_subs(const tkd_expr *x, const char *var, const tkd_expr *val, tkd_expr **out, tkd_err *e);
/* Light simplify: constants folded exactly (Calcium), rational functions in
 * canonical form, sqrt of perfect powers, trig at rational multiples of pi,
 * log/exp of simple forms, sin**2 + cos**2. Lists, relations, matrices etc.
 * are simplified element by element. */
int tkd_expr_simplify(const tkd_expr *x, tkd_expr **out, tkd_err *e);

/* Decide x == 0: TKD_EXPR_YES, TKD_EXPR_NO or TKD_EXPR_UNKNOWN (>= 0), or a
 * negative error. Exact (Calcium for constants, canonical form otherwise),
 * then numeric at random points for what stays undecided (a NO from
 * numerics is certified by Arb; a YES from numerics only is UNKNOWN). */
enum { TKD_EXPR_NO = 0, TKD_EXPR_YES = 1, TKD_EXPR_UNKNOWN = 2 };
int tkd_expr_is_zero(const tkd_expr *x, tkd_err *e);

/* ---- printers: append to b; 0 or TKD_ENOMEM ---- */
/* SymPy-like text that sympify reads back: x**2 + 2*x + 1, sqrt(2)/2, 1/3, pi. */
int tkd_expr_print(tkd_buf *b, const tkd_expr *x);
/* LaTeX: \frac{1}{3}, \sqrt{2}, x^{2}, \pi */
int tkd_expr_latex(tkd_buf *b, const tkd_expr *x);
/* malloc'd plain / LaTeX text, NULL on ENOMEM */
char *tkd_expr_to_str(const tkd_expr *x);
char *tkd_expr_to_latex(const tkd_expr *x);

#endif
