/*
 * grade: answer extraction and exact answer equivalence.
 *
 * Three steps, each usable alone:
 *   1. tkd_grade_extract: pull the final answer out of a model response
 *      (last \boxed{}, "final answer is $...$", "The answer is", GSM8K "####",
 *      last number), chosen per source by the job file (grade.extract and
 *      data.sources[].extract).
 *   2. tkd_grade_parse_latex: a LaTeX subset (what MATH, AIME, GSM8K answers
 *      and model responses use) into a small answer tree (tkd_gnode).
 *   3. tkd_grade_equal: gold against prediction under the policy below, within
 *      a time budget; it never hangs (no signals: elapsed time is checked
 *      inside every loop) and never crashes on any input.
 *
 * The equivalence policy, one rule per line, with why (the single place it is
 * written; src/grade/equal.c implements it in this order):
 *  - Numbers compare exactly as rationals (FLINT fmpq): 5 = 5.0 = 005,
 *    \frac24 = \frac12, \frac{1}{2004!} != \frac{1}{2006!}. Why: floating
 *    point chops (Math-Verify's known false positives) must be impossible.
 *  - Numbers that are not rational (sqrt, pi, logs, trig) are compared with Arb
 *    balls at 256, then 1024, then (once) enough bits for the values'
 *    magnitude, at most 16384: a ball of gold-pred that excludes 0 is a proof
 *    of difference; equality needs agreement to half the working precision,
 *    relative, and to 2^-64 absolute (so 10^{10^{10}} vs 10^{10^{10}}+1 is
 *    undecided, never equal). Why: certified intervals, never a float
 *    tolerance.
 *  - A decimal prediction with d places equals an exact gold when the gold
 *    rounded to d places is that decimal and the prediction has >= 3
 *    significant digits (\frac13 = 0.333, != 0.33; 5 != 5.001). Why: models
 *    write decimals for exact answers; 3 digits keeps guesses out.
 *  - A percent sign on either side may be dropped (20\% = 20) or applied
 *    (20\% = 0.2), but bare 0.2 != 20. Why: "what percent" answers are
 *    written both ways; without a sign there is no evidence of a percent.
 *  - Units (\text{ cm}, trailing unit words), \$, degree signs are dropped;
 *    degrees are not converted to radians. Why: MATH golds carry units
 *    inconsistently; the number is the answer.
 *  - x=11 = 11 either way: names on the left (x, f(x), f^{-1}(x), xy) are
 *    a label; a worked value without variables ("\frac13 \approx 0.333",
 *    "2+3=5") is its last side. Why: models restate the question's unknown.
 *    Two equations are equal when L1-R1 = c(L2-R2) for one constant c != 0
 *    at random points (2x+4y-3=0 = y=-\frac12x+\frac34): same solution set
 *    for the lines, planes and conics answers are.
 *  - Inequalities in one variable, intervals, unions, "and"/"or" (\land,
 *    \lor), \ne, x \in S and \{x \mid P\} compare as solution sets, solved
 *    exactly on the toolkit's real sets (algebraic ends, rational functions,
 *    absolute values): x<1 = -x>-1 = (-\infty,1), x^2<4 = -2<x<2, x<1 !=
 *    x\le 1. Equal sets decide "equal"; otherwise (pi as an end, sin x < 1,
 *    sets that differ) the structural rules decide, where an inequality
 *    against constants equals the matching interval and "x<2 or x>3" equals
 *    (-\infty,2)\cup(3,\infty). The variable's name is a label (x<1 = y<1).
 *    Why: a model rearranges an inequality as freely as an equation.
 *  - Lists are unordered multisets, matched one to one (-2,1 = 1 and -2 =
 *    \{1,-2\}); a subset is never equal (Math-Verify accepts "1331 and 1728"
 *    for 1728). A parenthesised pair is a point or an open interval and
 *    matches either with the same entries in order; intervals' open/closed
 *    ends must match; \pm a = \{a,-a\} but != a.
 *  - Matrices compare element-wise with the same shape (an n-vector also
 *    matches a tuple of n). Text answers compare case-insensitively after
 *    unwrapping (\text{(C)} = C).
 *  - Expressions with free variables are equal when they agree at 5 random
 *    points (Arb, 256 bits; complex values allowed, principal branches), so
 *    \sec^2 y = \tan^2 y + 1 and \sqrt{1/n} = \frac{1}{\sqrt n}.
 *  - Every comparison has a time budget (grade.timeout_ms, default 1000 ms);
 *    past it the verdict is "undecided", counted as different with that
 *    reason. Unparseable predictions are different (reason says why) unless
 *    their normalised text equals the gold's; answers no rule can evaluate
 *    (5:00) are equal only when their parsed forms print the same. Why: a
 *    grader that may hang or crash cannot run inside an MPI rank.
 */
#ifndef TKD_GRADE_H
#define TKD_GRADE_H

#include "tkd/core.h"
#include "tkd/expr.h"

/* ---- limits (named, not magic) ---- */
#define TKD_GRADE_MAX_INPUT 65536       /* longest answer text parsed, bytes */
#define TKD_GRADE_MAX_DEPTH 200         /* parser nesting depth */
#define TKD_GRADE_MAX_ITEMS 256         /* elements of a list / matrix cells compared */
#define TKD_GRADE_DEFAULT_TIMEOUT_S 1.0 /* per comparison */

/* ---- extraction ---- */
typedef enum {
    TKD_GRADE_AUTO = 0,   /* boxed, then final, then "answer is", then gsm8k, then last number */
    TKD_GRADE_BOXED,      /* last \boxed{}/\fbox{}/\framebox{}; boxes close together are joined as a list */
    TKD_GRADE_FINAL,      /* "final answer is $...$" / "The answer is ..." */
    TKD_GRADE_GSM8K,      /* "#### n" */
    TKD_GRADE_LAST_NUMBER /* the last number in the text */
} tkd_grade_mode;

/* "auto|boxed|final|gsm8k|last_number" -> mode; TKD_EINVAL on others. */
int tkd_grade_mode_parse(const char *name, tkd_grade_mode *mode, tkd_err *e);
const char *tkd_grade_mode_name(tkd_grade_mode mode);

/*
 * Extract the answer from a response. *out is a malloc'd string the caller
 * frees. Returns 0, TKD_ENOTFOUND (no answer of that kind; *out = NULL) or
 * TKD_ENOMEM.
 */
int tkd_grade_extract(const char *response, tkd_grade_mode mode, char **out, tkd_err *e);

/* ---- parsing ---- */
typedef struct tkd_gnode tkd_gnode; /* an answer tree; owns its memory */

/* Parse an answer in the LaTeX subset. TKD_EINVAL with the position and what
 * was expected on bad input; TKD_ELIMIT past the limits above. */
int tkd_grade_parse_latex(const char *text, tkd_gnode **out, tkd_err *e);
void tkd_grade_node_free(tkd_gnode *n);
/* A plain, fully parenthesised rendering (tests, debugging): "(1/2)+x". */
int tkd_grade_node_print(const tkd_gnode *n, tkd_buf *b);

/* The same answers as expr trees (include/tkd/expr.h), for the toolkit and
 * SymPy-syntax printing: \frac{1}{2} -> 1/2, x \in [1,2] -> Contains(x,
 * Interval(1, 2)), \cup -> Union(...), 20\% -> 20*(1/100). Caller frees *out
 * with tkd_expr_free. */
int tkd_grade_to_expr(const tkd_gnode *n, tkd_expr **out, tkd_err *e);
int tkd_grade_parse_latex_expr(const char *text, tkd_expr **out, tkd_err *e);

/* ---- equivalence ---- */
typedef enum { TKD_GRADE_DIFFERENT = 0, TKD_GRADE_EQUAL = 1, TKD_GRADE_UNDECIDED = 2 } tkd_grade_result;

typedef struct tkd_grade_opts {
    double timeout_s; /* budget per comparison; <= 0: the default */
    uint64_t seed;    /* for the random evaluation points; 0: a fixed default */
    int no_shortcut;  /* tests: parse and compare even when the normalised texts are equal */
} tkd_grade_opts;

typedef struct tkd_grade_verdict {
    tkd_grade_result result;
    char reason[160]; /* which rule decided, e.g. "exact rational", "timeout" */
} tkd_grade_verdict;

void tkd_grade_opts_default(tkd_grade_opts *o);

/* From a loaded job: grade.timeout_ms and a seed derived from the run's seed. */
struct tkd_job;
void tkd_grade_opts_from_job(const struct tkd_job *job, tkd_grade_opts *o);
/* Extraction mode of data.sources[source]: its "extract", else grade.extract. */
tkd_grade_mode tkd_grade_mode_for_source(const struct tkd_job *job, size_t source);

/*
 * Compare a gold answer with a predicted one (both answer texts, already
 * extracted). Fills *v; returns 0, or TKD_ENOMEM (then v says undecided).
 * Never blocks longer than about the budget.
 */
int tkd_grade_equal(const char *gold, const char *pred, const tkd_grade_opts *o, tkd_grade_verdict *v);

#endif
