/*
 * tools' private contract: the tool table entry, the handler signature and
 * the argument helpers every handler uses, so that every tool reports a
 * missing or malformed argument the same way.
 */
#ifndef TKD_TOOLS_INT_H
#define TKD_TOOLS_INT_H

#include <flint/fmpz.h>
#include <flint/fmpz_mpoly.h>
#include <flint/fmpz_vec.h>

#include <calcium/ca.h>
#include <calcium/fmpz_mpoly_q.h>
#include <calcium/qqbar.h>

#include "tkd/expr.h"
#include "tkd/expr_rf.h"
#include "tkd/json.h"
#include "tkd/tools.h"

/* Size guards inside the tools (they apply to direct calls too). */
#define TOOL_INT_DIGITS_MAX 10000 /* digits of an integer argument */
#define TOOL_COMB_N_MAX 1000000   /* n in factorial, binomial, catalan, ... */
#define TOOL_STIRLING_N_MAX 5000  /* n in Stirling numbers */
#define TOOL_PARTITION_N_MAX 10000000
#define TOOL_PARTITION_K_N_MAX 20000 /* n when the number of parts is given */
#define TOOL_FACTOR_DIGITS_MAX 60    /* factor_integer, divisors, totient, ... */
#define TOOL_PRIME_DIGITS_MAX 400    /* is_prime accepts */
#define TOOL_PRIME_PROVE_DIGITS 60   /* is_prime proves primality up to here; BPSW above */
#define TOOL_DIVISORS_MAX 100000     /* divisors listed */
#define TOOL_LIST_MAX 1000           /* elements of a list argument */
#define TOOL_SUM_TERMS_MAX 100000    /* terms of a finite sum or product */
#define TOOL_SUM_SYM_TERMS_MAX 1000  /* terms of one whose term has parameters (added as expressions) */
#define TOOL_SUM_SYM_CHARS_MAX 4000  /* longest such answer, printed */

/* Argument kinds, which also decide the JSON schema of a parameter. */
typedef enum {
    TP_EXPR,    /* string of SymPy syntax (a JSON number is accepted too) */
    TP_VAR,     /* a variable name */
    TP_INT,     /* integer: JSON integer or a string of digits */
    TP_NUMBER,  /* number or expression string */
    TP_STRINGS, /* list of expression strings */
    TP_INTS,    /* list of integers */
    TP_MATRIX,  /* list of rows, entries numbers or expression strings */
    TP_VECTOR,  /* list of numbers or expression strings */
    TP_POINTS,  /* list of [x, y] points */
    TP_TEXT     /* free string (a digit string in some base, a direction) */
} tool_ptype;

typedef struct tool_param {
    const char *name;
    tool_ptype type;
    int required;
    const char *desc;
} tool_param;

/*
 * A handler reads its arguments from args (already checked to be an object
 * with known keys and the required ones present), stores its answer in
 * *result (a string, array or object built in the call's arena ta, which
 * owns every value of the call: nothing is freed one by one) and returns 0,
 * or fills e (code TKD_EINVAL for bad input, TKD_EMATH for undefined or
 * unsupported mathematics, TKD_ELIMIT for a size guard) with a message for
 * the model and returns e->code.
 */
typedef int (*tool_fn)(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e);
/* run_python's handler (code.c), which needs the call's limits: the table
 * entry of a code tool has fn NULL, and such a tool is opt-in (offered only
 * when solve.tools names it). */
int tcode_run_python(tkd_arena *ta, const tkd_json *args, const tkd_tool_limits *lim, tkd_json **result, tkd_err *e);

#define TOOL_PARAMS_MAX 6

struct tkd_tool {
    const char *name;
    const char *group;
    const char *summary;     /* one line for `tkd tool list` */
    const char *description; /* what the model reads: syntax and an example */
    tool_param params[TOOL_PARAMS_MAX];
    tool_fn fn; /* NULL: the code tool (tcode_run_python) */
};

/* Tables defined by each group's file, ended by an entry with name NULL. */
extern const struct tkd_tool tkd_tools_alg_table[];
extern const struct tkd_tool tkd_tools_solve_table[];
extern const struct tkd_tool tkd_tools_ineq_table[];
extern const struct tkd_tool tkd_tools_series_table[];
extern const struct tkd_tool tkd_tools_integ_table[];
/* integrate's parts (integ.c, integ_more.c): ∫ N/D in Q[v]; sin**m cos**n, and tan, cot when poles
 * (antiderivatives with poles) are allowed, of a*v + b (fs: the product's factors); rational functions
 * of b**v; tan, cot, sec, csc rewritten with sin, cos */
int tinteg_rational(const fmpq_poly_t N, const fmpq_poly_t Dq, const char *v, tkd_expr **out, tkd_err *e);
int tinteg_trig(const tkd_expr *const *fs, size_t nf, const char *v, int poles, tkd_expr **out);
int tinteg_exp(const tkd_expr *f, const char *v, tkd_expr **out, tkd_err *e);
tkd_expr *tinteg_sc(const tkd_expr *x);
tkd_expr *tinteg_weier(const tkd_expr *x); /* sin(u), cos(u) in w = tan(u/2); NULL: several u */
extern const struct tkd_tool tkd_tools_calc_table[];
extern const struct tkd_tool tkd_tools_linalg_table[];
extern const struct tkd_tool tkd_tools_geom_table[];
extern const struct tkd_tool tkd_tools_eval_table[];
extern const struct tkd_tool tkd_tools_nt_table[];
extern const struct tkd_tool tkd_tools_comb_table[];
extern const struct tkd_tool tkd_tools_code_table[];

/* ---- argument helpers (args.c) ----
 * The value readers name the value in their messages with a printf format
 * (what, ...), formatted only when there is an error: reading the elements
 * of a list or a matrix formats nothing. */
/* A string argument (numbers are printed as text); NULL if absent. */
const char *targ_str(const tkd_json *args, const char *key);
/* An integer argument into z; def_ok: an absent key leaves z = def. */
int targ_fmpz(const tkd_json *args, const char *key, fmpz_t z, tkd_err *e);
/* An integer from a JSON value (integer, or a string of an integer). */
int tval_fmpz(const tkd_json *v, fmpz_t z, tkd_err *e, const char *what, ...) __attribute__((format(printf, 4, 5)));
/* A small integer argument in [lo, hi]; absent: *out = def when !required. */
int targ_slong(const tkd_json *args, const char *key, long lo, long hi, long def, long *out, tkd_err *e);
/* A list argument: checks it is an array of 1..max elements. */
int targ_list(const tkd_json *args, const char *key, size_t min, size_t max, const tkd_json **out, tkd_err *e);

/* ---- answers ---- */
/* Decimal text of z as a json string. */
tkd_json *tjson_fmpz(tkd_arena *ta, const fmpz_t z);

/* A JSON string of SymPy syntax (or a JSON number, read exactly) as an expression. */
int tparse_json(const tkd_json *v, tkd_expr **out, tkd_err *e, const char *what, ...)
    __attribute__((format(printf, 4, 5)));
/* The argument key parsed (required). */
int targ_expr(const tkd_json *args, const char *key, tkd_expr **out, tkd_err *e);
/* A variable name argument: a plain symbol name; def when absent (NULL: required). */
int tval_var(const tkd_json *v, const char *what, const char **out, tkd_err *e);
int targ_var(const tkd_json *args, const char *key, const char *def, const char **out, tkd_err *e);
/* Answer helpers: the printed expression as a JSON string (consumes x). */
tkd_json *tjson_ast(tkd_arena *ta, tkd_expr *x);

/* |a| > b */
static inline int tfmpz_abs_gt(const fmpz_t a, ulong b) {
    fmpz_t t;
    fmpz_init(t);
    fmpz_abs(t, a);
    int r = fmpz_cmp_ui(t, b) > 0;
    fmpz_clear(t);
    return r;
}

/* ---- exact numbers ---- */
/* A Calcium context with bounded effort: undecidable-in-budget questions
 * answer T_UNKNOWN (which the tools turn into errors), never a wrong value. */
#define TOOL_CA_PREC_LIMIT 1024
#define TOOL_CA_QQBAR_DEG_LIMIT 40
static inline void tca_ctx_init(ca_ctx_t ctx) {
    ca_ctx_init(ctx);
    ctx->options[CA_OPT_PREC_LIMIT] = TOOL_CA_PREC_LIMIT;
    ctx->options[CA_OPT_QQBAR_DEG_LIMIT] = TOOL_CA_QQBAR_DEG_LIMIT;
}

/* An argument (expression string or JSON number) as an exact number; the
 * conversions are expr's: tkd_expr_to_ca, tkd_expr_from_ca, tkd_expr_from_qqbar. */
int tnum_from_json(ca_t out, const tkd_json *v, ca_ctx_t ctx, tkd_err *e, const char *what, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- rational functions over symbols and atoms (rat.c on expr's tkd_rf) ---- */
/* x with numeric subtrees in Calcium's closed form and function arguments
 * normalized: what tkd_rf_init/tkd_rf_conv read. */
tkd_expr *trat_prep(const tkd_expr *x, tkd_err *e);
/* x prepared and made canonical (tkd_rf_canonical). */
tkd_expr *trat_normalize(const tkd_expr *x, tkd_err *e);
/* x prepared and converted in a fresh t that also has the symbols vars;
 * on success free with fmpz_mpoly_q_clear(*out, t->ctx) and tkd_rf_clear. */
int trat_from_ast(tkd_rf *t, const tkd_expr *x, const char *const *vars, size_t nv, fmpz_mpoly_q_t *out, tkd_err *e);
/* Is q (reduced) zero as a function of its symbols? 1 yes, 0 no, negative:
 * undecided (e says "unsupported: ..."). Exact for polynomials in symbols and
 * for constants (Calcium); with functions of symbols (sin(t), sqrt(x)) a
 * nonzero value at a rational point proves nonzero, else undecided. */
int trat_is_zero(tkd_rf *t, const fmpz_mpoly_q_t q, tkd_err *e);
/* g as num/den, polynomials in var with rational coefficients? 1 (set) or 0. */
int trat_qrat(const tkd_expr *g, const char *var, fmpq_poly_t num, fmpq_poly_t den);

/* nlsys.c: solve_nonlinear_system's engine: the solution tuples (values in
 * the order of vars; free unknowns stand for themselves) as a JSON array. */
int tnl_solve(tkd_arena *ta, const char *const *vars, size_t nv, tkd_expr *const *eqs, size_t ne, tkd_json **out,
              tkd_err *e);

/* ---- lists of expressions and roots (roots.c) ---- */
typedef struct tlist {
    tkd_expr **v;
    size_t n, cap;
} tlist;

void tlist_free(tlist *l);
int tlist_add(tlist *l, tkd_expr *x, tkd_err *e); /* takes x; skips duplicates */
void tlist_sort(tlist *l);                        /* real ascending, then complex */
/* tkd_expr_subs as a value: NULL on ENOMEM or a result above TKD_EXPR_MAX_NODES */
tkd_expr *tsubst(const tkd_expr *x, const char *name, const tkd_expr *val);
/* A copy of x with every subtree equal to from (structurally) replaced by a
 * copy of to; NULL on ENOMEM. */
tkd_expr *treplace(const tkd_expr *x, const tkd_expr *from, const tkd_expr *to);
/* what 0: is zero; 1: is a nonnegative real. For numeric expressions. */
truth_t tnum_check(const tkd_expr *x, int what);
#define SOLVE_DEG_MAX 200 /* degree of an equation in its variable */
/* All roots of x = 0 in var (depth: 0). */
int troots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e);
/* x = 0 for x rational in var with rational coefficients, as SymPy's solve
 * answers when a factor has no closed form: the roots of factors of degree
 * >= 3 as CRootOf(factor over x, k) in SymPy's numbering, the others
 * explicit. For a tool's answer only: the CRootOf holds the symbol x, so
 * it must not be substituted anywhere. TRAD_NOT_MINE for other equations. */
int troots_crootof(const tkd_expr *x, const char *var, tlist *out, tkd_err *e);
/* The roots of the irreducible factor f (in variable v of t), as troots writes them. */
int tfactor_roots(tkd_rf *t, const fmpz_mpoly_t f, int v, tlist *out, tkd_err *e);
/* x = 0 for x = a product (of sin, cos and polynomials: defined everywhere),
 * each factor solved on its own and the roots joined, as SymPy's solve does
 * for a product (cos(x)*cos(2*x) = 0); TRAD_NOT_MINE for other equations. */
int troots_factors(const tkd_expr *x, const char *var, tlist *out, tkd_err *e);
/* radical.c: x = 0 with var under radicals or inside Abs (candidates checked
 * in x itself); TRAD_NOT_MINE when var sits anywhere else or nowhere such. */
#define TRAD_NOT_MINE 1
int trad_roots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e);
/* Does c solve x = 0 exactly (principal branches; real_only: c must be real)?
 * 1 yes, 0 no (x undefined at c counts as no), negative: undecided, e says so. */
int tcheck_root(const tkd_expr *x, const char *var, const tkd_expr *c, int real_only, tkd_err *e);
/* logeq.c: x with log(u, b) written log(u)/log(b) (NULL when x has none); x = 0
 * with var only inside two or more logarithms (TRAD_NOT_MINE otherwise). */
tkd_expr *tlog_unbase(const tkd_expr *x);
int tlog_roots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e);
/* expeq.c: x = 0 with var only in exponents a*var + c of powers of one base,
 * answered as SymPy's solve does (TRAD_NOT_MINE otherwise). */
int texp_roots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e);
/* trigeq.c: x = 0 in sin(u) and cos(u) of one linear u, as SymPy's solve
 * answers it (TRAD_NOT_MINE otherwise). */
int ttrig_roots(const tkd_expr *x, const char *var, tlist *out, int depth, tkd_err *e);
/* algroots.c: the d roots of c[d] x^d + ... + c[0] (algebraic c, squarefree,
 * 3 <= d) in closed form, for coefficients beyond the rationals or roots
 * Calcium writes no formula for; TRAD_NOT_MINE when none of its methods applies. */
int talg_roots(const qqbar_struct *c, slong d, tlist *out, tkd_err *e);
/* u = a*var + c with a rational? Then *c (owned by the caller) is set. */
int tlinear(const tkd_expr *u, const char *var, fmpq_t a, tkd_expr **c);
/* b = r**k with r > 1 not a perfect power (for a rational b > 0, b != 1) */
void tperfect_root(const fmpq_t b, fmpq_t r, slong *k);
/* An equation argument: "lhs = rhs", Eq(lhs, rhs) or an expression (= 0) as lhs - rhs. */
int teq_parse(const tkd_json *v, tkd_expr **out, tkd_err *e, const char *what, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- power series with rational coefficients (series.c) ---- */
#include <flint/fmpq_poly.h>

typedef struct ser {
    slong v, prec; /* t**v * p(t) + O(t**(v + prec)) */
    fmpq_poly_t p;
} ser;

typedef struct tser_point {
    const char *var;
    fmpq_t a;       /* finite rational point (t = x - a) */
    int inf;        /* +1: x = 1/t (x -> oo), -1: x = -1/t (x -> -oo), 0: finite */
    tkd_expr *expr; /* a point that is not rational (pi, sqrt(2)); NULL otherwise */
} tser_point;

int tser_from_ast(ser *s, const tkd_expr *x, const tser_point *pt, slong N, tkd_err *e);
int tser_compute(ser *s, const tkd_expr *x, const tser_point *pt, slong want, tkd_err *e);
void tser_clear(ser *s);
int tser_point_parse(const tkd_json *v, const char *var, tser_point *pt, tkd_err *e);
void tser_point_clear(tser_point *pt);

/* ---- limits by parts (limit.c): exact values, indeterminate powers ---- */
enum { TLIM_FINITE = 0, TLIM_POS_INF = 1, TLIM_NEG_INF = 2 };
typedef struct tlim {
    int kind;    /* TLIM_* */
    tkd_expr *v; /* the value when TLIM_FINITE (owned) */
} tlim;
/* The limit of x at pt from side +1 (t -> 0+; always at +-oo) or -1. */
int tlim_side(const tkd_expr *x, const tser_point *pt, int side, tlim *out, tkd_err *e);
void tlim_clear(tlim *l);

/* ---- closed forms of sums (sums.c) ---- */
/* sum_{var=lo}^{upper} f, upper an integer, an expression (n) or oo, in closed
 * form: 0 with *out, TSUM_NOT_MINE when no method applies (e untouched), or
 * a negative error. */
#define TSUM_NOT_MINE 1
int tsum_closed(const tkd_expr *f, const char *var, const fmpz_t lo, const tkd_expr *upper, tkd_expr **out, tkd_err *e);

/* ---- integer algorithms (ntalg.c) ---- */
#include <flint/fmpz_factor.h>

/* The complete factorization of n into f, primes ascending, each proved
 * prime; f->sign is the sign of n (n = 0 gives no factors). Callers bound
 * the size (TOOL_FACTOR_DIGITS_MAX): the hardest inputs go to FLINT's
 * quadratic sieve, which writes a temporary file into the working folder. */
void tnt_factor(fmpz_factor_t f, const fmpz_t n);
/* 1 when n is prime: proved up to TOOL_PRIME_PROVE_DIGITS digits, BPSW above. */
int tnt_is_prime(const fmpz_t n);
/* All positive divisors of the number factored in f, ascending, into d (room
 * for the product of (exponent + 1) entries). */
void tnt_divisors(fmpz *d, const fmpz_factor_t f);

/* (ntecm.c) The largest integers tnt_find_factor takes, in words. */
#define TNT_FACTOR_WORDS_MAX 4
/* A proper factor of m (odd, composite, not a perfect power, free of primes
 * below 1000, 2 to TNT_FACTOR_WORDS_MAX words) into d by rho, then ECM
 * within a budget tied to the quadratic sieve's cost; 0 when none found. */
int tnt_find_factor(mpz_t d, const mpz_t m);
/* -n^-1 mod 2^64 for odd n (Montgomery arithmetic) */
ulong tnt_neg_inv(ulong n);

#endif
