#!/usr/bin/python3
"""Build the toolkit coverage corpus from real content.

Reads the MATH training set and the benchmark files under ../shared/data (each
used when present, skipped when absent), extracts the mathematical objects the
problems and worked solutions contain (equations and systems, inequalities,
expressions that are simplified/expanded/factored, limits, sums and products,
matrices, functions that are differentiated or integrated, number-theory
computations), converts them to the toolkit's argument syntax and writes one
JSON line per tool call:

  {"tool": NAME, "args": {...}, "source": "MATH train algebra/1531",
   "class": "radical equation", "assume": "real" (optional),
   "sympy": {"status": "ok", "srepr": "..."} | {"status": "timeout"} |
            {"status": "error", "message": "..."}}

LaTeX is read with tkd's own grader reader in one process
(`tkd expr from-latex -`, one formula per line), so the conversion is the
one the grader uses; every converted text is parsed back with SymPy and kept
only when it parses and its symbols are plain variables.

SymPy's answer is computed here with the same reference functions as
tests/tools/test_oracle.py, each under a 2 s CPU-time limit (several worker
processes), so the harness (tests/tools/test_corpus.py) need not re-run SymPy's
slow solving.

Run: /usr/bin/python3 tests/tools/corpus/gen_corpus.py [--data DIR] [--tkd BIN]
     [--jobs N] [--limit-per-class N] [--out DIR]
"""
import argparse
import collections
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import multiprocessing as mp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.setrecursionlimit(10000)

try:
    import sympy as sp
    from sympy.parsing.sympy_parser import parse_expr
except ImportError:
    print("gen_corpus: python3-sympy is needed")
    sys.exit(77)

SYMPY_LIMIT_S = 2.0

# ---------------------------------------------------------------- reading the data


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def records(data):
    """(source, text, kind) for every problem statement and worked solution."""
    out = []
    tr = os.path.join(data, "math", "train")
    if os.path.isdir(tr):
        for fn in sorted(os.listdir(tr)):
            if not fn.endswith(".jsonl"):
                continue
            subj = fn[:-6]
            for r in read_jsonl(os.path.join(tr, fn)):
                src = "MATH train %s/%s" % (subj, r.get("id", "?"))
                out.append((src, r.get("problem", ""), "problem"))
                out.append((src, r.get("solution", ""), "solution"))
    else:
        print("gen_corpus: no MATH training set under %s, skipped" % tr)
    for name, label in (("math500", "MATH500"), ("aime", "AIME"), ("gsm8k", "GSM8K")):
        p = os.path.join(data, "bench", name + ".jsonl")
        if not os.path.exists(p):
            print("gen_corpus: %s absent, skipped" % p)
            continue
        for i, r in enumerate(read_jsonl(p)):
            src = "%s %s" % (label, r.get("id", i))
            out.append((src, r.get("problem", ""), "problem"))
            sol = r.get("solution", "")
            if len(sol) > 40:  # GSM8K stores only the final number: nothing to extract
                out.append((src, sol, "solution"))
    return out


# ---------------------------------------------------------------- LaTeX segments

MATH_RE = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\begin\{(align|eqnarray|equation|gather)\*?\}(.+?)\\end\{\3\*?\}|\\\((.+?)\\\)|\$(.+?)\$",
    re.S)


def segments(text):
    """Every display or inline formula; aligned environments split into lines,
    a line starting with a relation continues the previous line's first side."""
    text = text.replace("\\$", "\x01")
    for m in MATH_RE.finditer(text):
        if m.group(4) is not None:
            lead = None
            for line in re.split(r"\\\\", m.group(4)):
                line = line.replace("&", " ").strip()
                line = re.sub(r"\\(nonumber|notag)", "", line)
                if not line:
                    continue
                if re.match(r"^(=|<|>|\\le|\\ge|\\leq|\\geq)", line) and lead:
                    yield lead + " " + line
                else:
                    yield line
                    lead = top_split(clean(line))[0][0] if top_split(clean(line))[0] else None
        else:
            s = next(g for g in (m.group(1), m.group(2), m.group(5), m.group(6)) if g is not None)
            yield s


DROP = re.compile(
    r"\\(text|mbox|mathrm|textbf|ldots|cdots|dots|vdots|ddots|angle|triangle|overline|overrightarrow|vec|"
    r"approx|neq|ne\b|Rightarrow|implies|iff|Longrightarrow|rightarrow|to\b|mapsto|circ|degree|%|pmod|bmod|mod\b|equiv|"
    r"perp|parallel|cong|sim|in\b|notin|subset|cup|cap|emptyset|infty|lfloor|rfloor|lceil|rceil|underbrace|"
    r"overbrace|frac\{d|partial|int|sum|prod|lim|log_|tbinom|binom|choose|det|gcd|operatorname|mathop|"
    r"qquad|quad|begin\{(?:array|cases|tabular)|sqrt\[|phi|varphi|hline|item|hspace|color|boxed|pm|mp|star|"
    r"ast|prime|overset|underset|widehat|hat|bar|tilde|mathbb|mathcal|mathbf|ell|nabla|oplus|otimes|wedge|vee|"
    r"neg|forall|exists|sqcup|uplus|cdotp|colon|vert|Vert|mid|nmid|sharp|natural|flat|deg)"
    r"|\\\||\'|\^\\circ|!|\\,\\!|_\{?\d+\}?\s*$|\\_|\#|@|\?|;")
# the subscript-base form (1011_2) is read separately; \pm lists are not equations


def clean(s):
    s = s.replace("\x01", "\\$")
    s = re.sub(r"\\(left|right|big|Big|bigg|Bigg)(?![a-zA-Z])", "", s)
    s = re.sub(r"\\(displaystyle|textstyle|scriptstyle|limits)", "", s)
    s = re.sub(r"\s+", " ", s)
    s = re.sub(r"(?<!\\)\\[,;:! ]", " ", s)
    s = s.replace("~", " ").replace("\\tfrac", "\\frac").replace("\\dfrac", "\\frac")
    s = s.replace("\\leqslant", "\\le").replace("\\geqslant", "\\ge")
    s = s.strip().rstrip(".,;:").strip()
    return s


REL_RE = re.compile(r"(\\leq|\\geq|\\le|\\ge|\\lt|\\gt|<|>|=)(?![a-zA-Z])")
REL_NAME = {"\\leq": "<=", "\\le": "<=", "\\geq": ">=", "\\ge": ">=", "\\lt": "<", "\\gt": ">",
            "<": "<", ">": ">", "=": "="}


def top_split(s):
    """Split at relations outside braces/parentheses: ([sides], [ops])."""
    sides, ops, depth, last, i = [], [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif depth == 0:
            m = REL_RE.match(s, i)
            if m and not (c == "\\" and s[i - 1:i] == "\\"):
                sides.append(s[last:i].strip())
                ops.append(REL_NAME[m.group(1)])
                i = m.end()
                last = i
                continue
        i += 1
    sides.append(s[last:].strip())
    return sides, ops


# ---------------------------------------------------------------- conversion through tkd


class Converter:
    """LaTeX -> SymPy text with tkd's grader reader, in batches."""

    def __init__(self, tkd):
        self.tkd = tkd
        self.cache = {}

    def convert_all(self, texts):
        todo = sorted({t for t in texts if t not in self.cache and "\n" not in t})
        if not todo:
            return
        out = subprocess.run([self.tkd, "expr", "from-latex", "-"], input="\n".join(todo) + "\n",
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise SystemExit("tkd expr from-latex failed: " + out.stderr)
        lines = out.stdout.split("\n")
        for t, r in zip(todo, lines):
            self.cache[t] = None if r.startswith("error:") else r

    def get(self, t):
        return self.cache.get(t)


ALLOWED_FUNCS = {"sqrt", "Abs", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "log", "exp",
                 "factorial", "binomial", "Matrix"}
LOCALS = {}


def to_sympy(text):
    """Parse tkd's SymPy text; None unless every symbol is a plain variable name."""
    if text is None or "Contains" in text or "Union" in text or "Interval" in text or "'" in text or '"' in text:
        return None
    if re.search(r"\*\*\(?-?\d{3,}|\*\*\(?[^)]*\*\*|\d{25,}", text):
        return None  # huge powers and numbers: not what a tool call looks like, and slow to build
    try:
        names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
        loc = {}
        for n in names:
            if n not in ALLOWED_FUNCS and n not in ("pi", "E", "I", "oo", "Eq", "Ne", "Lt", "Le", "Gt", "Ge",
                                                      "Rational", "Integer", "Float", "zoo"):
                if len(n) > 3 and n not in ("alpha", "beta", "gamma", "theta"):
                    return None  # multi-letter names are words the reader kept as one symbol
                loc[n] = sp.Symbol(n)
        e = parse_expr(text, local_dict=loc, evaluate=True)
        if isinstance(e, sp.Basic) and e.has(sp.zoo, sp.nan):
            return None  # a division by zero in the text (or the reader's reading of it)
        return e
    except Exception:
        return None


# ---------------------------------------------------------------- classification


def fn_names(e):
    return {type(f).__name__ for f in e.atoms(sp.Function)}


def has_radical(e, x):
    return any(isinstance(p, sp.Pow) and p.exp.is_Rational and not p.exp.is_Integer and p.base.has(x)
               for p in e.atoms(sp.Pow))


def kind_in(e, x):
    """What makes e hard in x: abs, radical, exponential, log, trig, rational, polynomial."""
    if any(isinstance(a, sp.Abs) and a.has(x) for a in e.atoms(sp.Abs)):
        return "abs"
    if has_radical(e, x):
        return "radical"
    if any(isinstance(p, sp.Pow) and p.exp.has(x) for p in e.atoms(sp.Pow)) or any(
            isinstance(f, sp.exp) and f.has(x) for f in e.atoms(sp.exp)):
        return "exponential"
    if any(isinstance(f, sp.log) and f.has(x) for f in e.atoms(sp.log)):
        return "log"
    if any(isinstance(f, sp.functions.elementary.trigonometric.TrigonometricFunction) and f.has(x)
           for f in e.atoms(sp.Function)):
        return "trig"
    if any(f.has(x) for f in e.atoms(sp.Function)):
        return "function"
    num, den = sp.fraction(sp.together(e))
    if den.has(x):
        return "rational"
    try:
        d = sp.Poly(e, x).degree()
    except Exception:
        return "other"
    return {0: "constant", 1: "linear", 2: "quadratic", 3: "cubic", 4: "quartic"}.get(d, "polynomial deg>4")


def expr_kind(e):
    xs = sorted(e.free_symbols, key=str)
    if not xs:
        if any(isinstance(f, sp.functions.elementary.trigonometric.TrigonometricFunction) for f in e.atoms(sp.Function)):
            return "numeric trig"
        if e.atoms(sp.log):
            return "numeric log"
        if any(isinstance(p, sp.Pow) and not p.exp.is_Integer for p in e.atoms(sp.Pow)):
            return "numeric radical"
        if e.has(sp.factorial, sp.binomial):
            return "numeric factorial"
        return "numeric arithmetic"
    ks = {kind_in(e, x) for x in xs}
    for k in ("abs", "radical", "exponential", "log", "trig", "function", "rational"):
        if k in ks:
            return k + " expression"
    return ("polynomial" if len(xs) == 1 else "multivariate polynomial")


def sstr(e):
    return sp.sstr(e, order="none") if not isinstance(e, str) else e


def poly_ok(e, xs):
    try:
        sp.Poly(e, *xs)
        return True
    except Exception:
        return False


def is_small(e, limit=160):
    return len(sstr(e)) <= limit and sp.count_ops(e) <= 60


# ---------------------------------------------------------------- extraction

NUM = r"-?\d+"


class Corpus:
    def __init__(self):
        self.cases = []
        self.seen = set()

    def add(self, tool, args, source, cls, assume=None):
        key = (tool, json.dumps(args, sort_keys=True))
        if key in self.seen:
            return
        self.seen.add(key)
        c = {"tool": tool, "args": args, "source": source, "class": cls}
        if assume:
            c["assume"] = assume
        self.cases.append(c)


def numerically_zero(d):
    """d vanishes at three random points (an identity such as a trig rewrite)."""
    xs = sorted(d.free_symbols, key=str)
    import random
    rnd = random.Random(7)
    for _ in range(3):
        v = complex(d.subs({x: sp.Rational(rnd.randint(11, 97), rnd.randint(7, 31)) for x in xs}).evalf(30))
        if abs(v) > 1e-12:
            return False
    return True


def eq_cases(corp, lhs, rhs, source):
    """One equation side pair (SymPy exprs)."""
    d = lhs - rhs
    xs = sorted(d.free_symbols, key=str)
    if not xs or not is_small(d):
        return None
    # identities are rewriting steps, not equations
    try:
        if sp.expand(d) == 0 or numerically_zero(d):
            return "identity"
    except Exception:
        return None
    if len(xs) == 1:
        x = xs[0]
        # "x = 5", "x = 2y" are answers or definitions, not problems
        if lhs == x and not rhs.has(x) or rhs == x and not lhs.has(x):
            return None
        k = kind_in(d, x)
        if k in ("constant", "other", "function"):
            return None
        cls = {"linear": "linear equation", "quadratic": "quadratic equation", "cubic": "cubic equation",
               "quartic": "quartic equation", "polynomial deg>4": "polynomial equation deg>4"}.get(k, k + " equation")
        if k == "abs" and d.has(sp.I):
            return None  # |z - w| = r over the complex plane: a circle, not a list of roots
        eqs = "%s = %s" % (sstr(lhs), sstr(rhs))
        # solve_equation answers as SymPy's solve does (complex solutions included), except that
        # it takes the variable real in absolute-value equations (SymPy cannot solve Abs otherwise)
        real = k == "abs" and not d.has(sp.I)
        corp.add("solve_equation", {"sympy_equation": eqs, "variable": str(x)}, source, cls, "real" if real else None)
        if k in ("quadratic", "cubic", "quartic", "polynomial deg>4", "linear") and rhs == 0:
            corp.add("find_roots", {"expression": sstr(lhs)}, source, "roots of " + k)
        return "equation"
    return "multi"


def ineq_cases(corp, sides, ops, source, conv_exprs):
    exprs = conv_exprs
    allx = set().union(*[e.free_symbols for e in exprs])
    if len(allx) != 1:
        return
    x = next(iter(allx))
    if not all(is_small(e) for e in exprs):
        return
    if len(ops) == 1:
        d = exprs[0] - exprs[1]
        k = kind_in(d, x)
        if k in ("constant", "other", "function"):
            return
        # "x > 3" alone is an answer, not a problem
        if (exprs[0] == x and not exprs[1].has(x)) or (exprs[1] == x and not exprs[0].has(x)):
            return
        s = "%s %s %s" % (sstr(exprs[0]), ops[0], sstr(exprs[1]))
        cls = {"linear": "linear inequality", "quadratic": "quadratic inequality"}.get(
            k, ("polynomial inequality" if k in ("cubic", "quartic", "polynomial deg>4") else k + " inequality"))
        corp.add("solve_univariate_inequality", {"inequality": s, "variable": str(x)}, source, cls)
    elif len(ops) == 2 and all(o in ("<", "<=", ">", ">=") for o in ops):
        if exprs[1] == x and not exprs[0].has(x) and not exprs[2].has(x):
            return  # "2 < x < 5" is an answer
        if exprs[1].has(x) and not exprs[0].has(x) and not exprs[2].has(x):
            ins = ["%s %s %s" % (sstr(exprs[0]), ops[0], sstr(exprs[1])),
                   "%s %s %s" % (sstr(exprs[1]), ops[1], sstr(exprs[2]))]
            corp.add("reduce_inequalities", {"inequalities": ins}, source,
                     "double inequality " + kind_in(exprs[1], x))


def expr_cases(corp, e, source, nxt=None):
    """An expression the text rewrites (nxt: the form it is rewritten to, when known)."""
    if not is_small(e, 200):
        return
    if isinstance(e, sp.MatrixBase):
        return
    xs = sorted(e.free_symbols, key=str)
    k = expr_kind(e)
    if not xs:
        if k == "numeric arithmetic" and (e.is_Rational or e.is_Integer):
            return  # the reader folds exact rationals: nothing left to compute
        if k == "numeric arithmetic":
            return
        corp.add("simplify_expression", {"expression": sstr(e)}, source, "simplify " + k)
        corp.add("evaluate", {"expression": sstr(e)}, source, "evaluate " + k)
        return
    if sp.count_ops(e) < 3:
        return
    if nxt is not None and sp.expand(e - nxt) == 0:
        if nxt == sp.expand(e) and e != nxt:
            corp.add("expand_expression", {"expression": sstr(e)}, source, "expand " + k)
            return
        if sp.expand(e) == e and nxt.is_Mul:
            corp.add("factor_expression", {"expression": sstr(e)}, source, "factor " + k)
            return
    corp.add("simplify_expression", {"expression": sstr(e)}, source, "simplify " + k)
    if k in ("polynomial", "multivariate polynomial") and not e.is_Add:
        corp.add("expand_expression", {"expression": sstr(e)}, source, "expand " + k)
    if k == "polynomial" and e.is_Add:
        x = xs[0]
        try:
            deg = sp.Poly(e, x).degree()
        except Exception:
            deg = 0
        if deg >= 2:
            corp.add("factor_expression", {"expression": sstr(e)}, source, "factor polynomial")
            corp.add("polynomial_degree", {"expression": sstr(e), "variable": str(x)}, source, "polynomial")
            corp.add("polynomial_coefficients", {"expression": sstr(e), "variable": str(x)}, source, "polynomial")
    if k == "rational expression":
        corp.add("factor_expression", {"expression": sstr(e)}, source, "factor rational expression")


def matrix_cases(corp, m, source, how):
    if m.shape[0] > 4 or m.shape[1] > 4 or m.shape[0] * m.shape[1] < 2:
        return
    cells = [[sstr(v) for v in row] for row in m.tolist()]
    sym = "symbolic" if m.free_symbols else "numeric"
    r, c = m.shape
    dim = "%dx%d" % (r, c)
    if how == "det" and r == c:
        corp.add("compute_determinant", {"matrix": cells}, source, "determinant %s %s" % (dim, sym))
        return
    if r == c and r >= 2:
        corp.add("compute_determinant", {"matrix": cells}, source, "determinant %s %s" % (dim, sym))
        corp.add("compute_rank", {"matrix": cells}, source, "rank %s" % sym)
        corp.add("compute_inverse", {"matrix": cells}, source, "inverse %s %s" % (dim, sym))
        if not m.free_symbols and r <= 3:
            corp.add("compute_eigenvalues", {"matrix": cells}, source, "eigenvalues %s" % dim)
            corp.add("compute_eigenvectors", {"matrix": cells}, source, "eigenvectors %s" % dim)
            corp.add("compute_nullspace", {"matrix": cells}, source, "nullspace %s" % dim)
    elif r != c and min(r, c) >= 2:
        corp.add("compute_rank", {"matrix": cells}, source, "rank %s" % sym)
        corp.add("compute_nullspace", {"matrix": cells}, source, "nullspace %s" % dim)


FUNCNOTE_RE = re.compile(r"(?<![\\a-zA-Z])([fghpqPQFGHRST]\s*(?:\^\{?-1\}?)?\s*\(|[a-zA-Z]\s*\(\s*-?[a-zA-Z0-9]+\s*\))")
WORD_RE = re.compile(r"[a-zA-Z]{3,}")
MAT_RE = re.compile(r"\\begin\{(p|b|v)matrix\}(.*?)\\end\{\1matrix\}", re.S)


def matrix_latex(m):
    return "\\begin{pmatrix}%s\\end{pmatrix}" % m.group(2)


BASE_RE = re.compile(r"(?<![\w.^])(\d+)_\{?(\d{1,2})\}?(?![\w{])")
GCD_RE = re.compile(r"\\gcd\s*\\?(?:left)?\s*\(\s*(\d+)\s*,\s*(\d+)(?:\s*,\s*(\d+))?\s*\\?(?:right)?\)")
LCM_RE = re.compile(r"(?:\\text\{lcm\}|\\mathop\{\\text\{lcm\}\}|\\operatorname\{lcm\}|\\mbox\{lcm\}|\\rm lcm|\\textup\{lcm\})\s*\\?(?:left)?[\[(]\s*(\d+)\s*,\s*(\d+)(?:\s*,\s*(\d+))?\s*\\?(?:right)?[\])]")
POWMOD_RE = re.compile(r"(\d+)\s*\^\s*\{?(\d+)\}?\s*(?:\\equiv\s*[^\\]*?)?\\pmod\s*\{?\s*(\d+)\s*\}?")
POWMOD2_RE = re.compile(r"(\d+)\s*\^\s*\{?(\d+)\}?\s*\\equiv[^$]*?\\pmod\s*\{?\s*(\d+)\s*\}?")
CONG_RE = re.compile(r"([a-zA-Z])\s*\\equiv\s*(-?\d+)\s*\\pmod\s*\{?\s*(\d+)\s*\}?")
LINCONG_RE = re.compile(r"(?<![\d^])(\d+)\s*([a-zA-Z])\s*\\equiv\s*(-?\d+)\s*\\pmod\s*\{?\s*(\d+)\s*\}?")
FACT_RE = re.compile(r"(?<![\d.])(\d{1,3})!(?!!)")
BINOM_RE = re.compile(r"\\[dt]?binom\s*\{?\s*(\d+)\s*\}?\s*\{?\s*(\d+)\s*\}?")
PHI_RE = re.compile(r"\\(?:var)?phi\s*\((\d+)\)")
FACTORIZATION_RE = re.compile(r"(?<![\d^_{])(\d{2,})\s*=\s*((?:\d+(?:\^\{?\d+\}?)?\s*(?:\\cdot|\\times)\s*)*\d+(?:\^\{?\d+\}?)?)(?![\d^.])")
LIM_RE = re.compile(r"\\lim_\{?\s*([a-zA-Z])\s*\\(?:to|rightarrow)\s*([^{}]*?|\{[^{}]*\})\s*\}")
SUM_RE = re.compile(r"\\(sum|prod)_\{\s*([a-zA-Z])\s*=\s*(-?\d+|[a-zA-Z])\s*\}\^\{?\s*(\\infty|-?\d+|[a-zA-Z]|[a-zA-Z]\s*[-+]\s*\d+)\s*\}?")
FUNC_RE = re.compile(r"(?<![a-zA-Z\\])([fgh])\s*\(\s*([xt])\s*\)\s*=\s*([^=$]+?)(?=\$|,|\\\]|\\quad|\.\s|\\text|$)")
POINT = r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)"
DIST_RE = re.compile(r"distance between[^$.]{0,40}\$\s*" + POINT + r"\s*\$\s*and[^$]{0,20}\$\s*" + POINT)
MID_RE = re.compile(r"midpoint[^$.]{0,60}\$\s*" + POINT + r"\s*\$\s*and[^$]{0,20}\$\s*" + POINT)
TRI_RE = re.compile(r"(?:triangle|vertices)[^$.]{0,80}\$\s*[A-Z]?\s*=?\s*" + POINT + r"\s*,?\s*\$\s*,?\s*(?:and\s*)?\$\s*[A-Z]?\s*=?\s*" +
                    POINT + r"\s*,?\s*\$\s*,?\s*(?:and\s*)?\$\s*[A-Z]?\s*=?\s*" + POINT)


def number_theory(corp, text, source):
    for m in GCD_RE.finditer(text):
        nums = [int(v) for v in m.groups() if v]
        corp.add("gcd", {"numbers": nums}, source, "gcd")
    for m in LCM_RE.finditer(text):
        nums = [int(v) for v in m.groups() if v]
        corp.add("lcm", {"numbers": nums}, source, "lcm")
    for rx in (POWMOD_RE, POWMOD2_RE):
        for m in rx.finditer(text):
            b, e, n = (int(v) for v in m.groups())
            if n > 1 and e > 1:
                corp.add("mod_pow", {"base": b, "exponent": e, "modulus": n}, source, "power mod")
    for m in LINCONG_RE.finditer(text):
        a, _, r, n = m.groups()
        if int(n) > 1 and int(a) > 1:
            corp.add("mod_inverse", {"a": int(a), "m": int(n)}, source, "linear congruence inverse")
    congs = collections.defaultdict(list)
    for m in CONG_RE.finditer(text):
        v, r, n = m.group(1), int(m.group(2)), int(m.group(3))
        if n > 1 and (r, n) not in congs[v]:
            congs[v].append((r, n))
    for v, lst in congs.items():
        if 2 <= len(lst) <= 4:
            corp.add("solve_congruences", {"remainders": [r for r, _ in lst], "moduli": [n for _, n in lst]},
                     source, "chinese remainder")
    for m in FACT_RE.finditer(text):
        n = int(m.group(1))
        if 2 <= n <= 60:
            corp.add("factorial", {"n": n}, source, "factorial")
    for m in BINOM_RE.finditer(text):
        n, k = int(m.group(1)), int(m.group(2))
        if n <= 200:
            corp.add("binomial", {"n": n, "k": k}, source, "binomial")
    for m in PHI_RE.finditer(text):
        corp.add("totient", {"n": int(m.group(1))}, source, "totient")
    for m in FACTORIZATION_RE.finditer(text):
        n = int(m.group(1))
        rhs = m.group(2)
        if ("\\cdot" in rhs or "\\times" in rhs or "^" in rhs) and n >= 4:
            corp.add("factor_integer", {"n": n}, source, "prime factorization")
            if "divisor" in text:
                corp.add("divisor_count", {"n": n}, source, "divisor count")
                corp.add("divisor_sum", {"n": n}, source, "divisor sum")
                corp.add("divisors", {"n": n}, source, "divisor list")
    for m in BASE_RE.finditer(text):
        digits, b = m.group(1), int(m.group(2))
        if 2 <= b <= 36 and b != 10 and all(int(ch, 36) < b for ch in digits) and len(digits) >= 2:
            corp.add("convert_base", {"number": digits, "from_base": b, "to_base": 10}, source, "base conversion")
    if re.search(r"\bprime\b", text):
        for m in re.finditer(r"\$(\d{3,12})\$", text):
            corp.add("is_prime", {"n": int(m.group(1))}, source, "primality")


def geometry(corp, text, source):
    def P(a, b):
        return [a, b]
    for m in DIST_RE.finditer(text):
        g = m.groups()
        corp.add("compute_point_distance", {"point1": P(g[0], g[1]), "point2": P(g[2], g[3])}, source, "point distance")
    for m in MID_RE.finditer(text):
        g = m.groups()
        corp.add("compute_midpoint_GH", {"point1": P(g[0], g[1]), "point2": P(g[2], g[3])}, source, "midpoint")
    for m in TRI_RE.finditer(text):
        g = m.groups()
        a = {"point1": P(g[0], g[1]), "point2": P(g[2], g[3]), "point3": P(g[4], g[5])}
        corp.add("compute_triangle_area_vertices", a, source, "triangle area")
        corp.add("compute_centroid", a, source, "centroid")
        corp.add("check_points_collinear", {"points": [a["point1"], a["point2"], a["point3"]]}, source, "collinear")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.abspath(os.path.join(ROOT, "..", "shared", "data")))
    ap.add_argument("--tkd", default=os.environ.get("TKD") or os.path.join(ROOT, "build", "bin", "tkd"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit-per-class", type=int, default=150)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--no-sympy", action="store_true", help="extract only (no SymPy answers)")
    ap.add_argument("--cache", default="/tmp/tkd_corpus_sympy_cache.jsonl",
                    help="SymPy answers appended as they come, reused by the next run")
    ap.add_argument("--groups", help="only these corpus files, e.g. equations,inequalities (the others are kept)")
    ap.add_argument("--fresh", action="store_true", help="recompute every SymPy answer (default: reuse the stored ones)")
    ap.add_argument("--limit-new", type=int, help="at most N calls per class that need a new SymPy answer")
    ap.add_argument("--cached-only", action="store_true",
                    help="keep only the calls whose SymPy answer is stored or cached (no SymPy runs)")
    ap.add_argument("--redo-decimals", action="store_true",
                    help="recompute the stored SymPy answers of the calls with decimals in their arguments, and exit")
    opt = ap.parse_args()
    if opt.redo_decimals:
        cases = []
        for fn in sorted(os.listdir(opt.out)):
            if fn.endswith(".jsonl"):
                cases.extend(read_jsonl(os.path.join(opt.out, fn)))
        todo = [c for c in cases if re.search(r"\d\.\d", json.dumps(c["args"]))]
        print("gen_corpus: %d calls with decimals" % len(todo), flush=True)
        for c in todo:
            c.get("sympy", {}).pop("text", None)
        sympy_answers(todo, opt.jobs, opt.cache)
        write(cases, opt.out, True)
        return 0
    if not os.path.isdir(opt.data):
        print("gen_corpus: no data under %s; nothing to do" % opt.data)
        return 77
    recs = records(opt.data)
    print("gen_corpus: %d texts" % len(recs), flush=True)

    # pass 1: collect the formulas, convert them in one tkd process
    conv = Converter(opt.tkd)
    parsed = []  # (source, kind, text, [(sides, ops, raw)])
    want = []
    for source, text, kind in recs:
        segs = []
        for raw in segments(text):
            s = clean(raw)
            if not s or len(s) > 300:
                continue
            lims = list(LIM_RE.finditer(s))
            sums = list(SUM_RE.finditer(s))
            if lims or sums:
                segs.append(("calc", s, None))
                continue
            blocks = list(MAT_RE.finditer(s))
            if blocks:
                segs.append(("matrix", s, blocks))
                want.extend(matrix_latex(b) for b in blocks)
                continue
            if DROP.search(s):
                continue
            if FUNCNOTE_RE.search(s) or WORD_RE.search(re.sub(r"\\[a-zA-Z]+", " ", s)):
                continue  # f(x) notation (the reader would read a product) or words
            sides, ops = top_split(s)
            if any(not x for x in sides) or len(sides) > 6:
                continue
            if any("," in x for x in sides):
                continue
            segs.append(("rel", sides, ops))
            want.extend(sides)
        # limit/sum bodies and function definitions go through the reader too
        for k, s, _ in segs:
            if k == "calc":
                for m in list(LIM_RE.finditer(s)) + list(SUM_RE.finditer(s)):
                    body = top_split(s[m.end():])[0][0]
                    want.append(body)
        for m in FUNC_RE.finditer(text.replace("\\dfrac", "\\frac")):
            want.append(clean(m.group(3)))
        parsed.append((source, kind, text, segs))
    conv.convert_all(want)
    print("gen_corpus: %d distinct formulas converted by tkd" % len(conv.cache))

    corp = Corpus()
    signal.signal(signal.SIGPROF, _alarm)
    for source, kind, text, segs in parsed:
        multi = []  # equations in several variables, in order: systems
        for k, a, b in segs:
          signal.setitimer(signal.ITIMER_PROF, 1.0)
          try:
            if k == "rel":
                sides, ops = a, b
                exprs = [to_sympy(conv.get(x)) for x in sides]
                if any(e is None for e in exprs):
                    continue
                if any(isinstance(e, (sp.MatrixBase, sp.Tuple, tuple, list, bool)) or not isinstance(e, sp.Expr)
                       for e in exprs):
                    continue
                if not ops:
                    expr_cases(corp, exprs[0], source)
                elif all(o == "=" for o in ops):
                    if len(ops) == 1:
                        r = eq_cases(corp, exprs[0], exprs[1], source)
                        if r == "identity":
                            expr_cases(corp, exprs[0], source, exprs[1])
                        elif r == "multi":
                            multi.append(exprs[0] - exprs[1])
                    else:
                        # a computation chain: each side is rewritten into the next
                        for e, nx in zip(exprs, exprs[1:]):
                            if e.free_symbols or not (e.is_Rational):
                                try:
                                    same = sp.expand(e - nx) == 0
                                except Exception:
                                    same = False
                                expr_cases(corp, e, source, nx if same else None)
                elif all(o != "=" for o in ops):
                    ineq_cases(corp, sides, ops, source, exprs)
            elif k == "matrix":
                mats = []
                for blk in b:
                    e = to_sympy(conv.get(matrix_latex(blk)))
                    mats.append(sp.Matrix(e) if isinstance(e, sp.MatrixBase) else None)
                for i, (blk, m) in enumerate(zip(b, mats)):
                    if m is None:
                        continue
                    before, after = a[:blk.start()], a[blk.end():]
                    how = "det" if blk.group(1) == "v" or re.search(r"\\det\s*$", before) else "any"
                    matrix_cases(corp, m, source, how)
                    nxt = mats[i + 1] if i + 1 < len(mats) else None
                    if nxt is None:
                        continue
                    gap = a[blk.end():b[i + 1].start()].strip()
                    cellsA = [[sstr(v) for v in r] for r in m.tolist()]
                    cellsB = [[sstr(v) for v in r] for r in nxt.tolist()]
                    if gap in ("", "\\times") and m.shape[1] == nxt.shape[0]:
                        corp.add("matrix_multiplication", {"matrix1": cellsA, "matrix2": cellsB}, source,
                                 "matrix product %s" % ("matrix-vector" if nxt.shape[1] == 1 else "matrix-matrix"))
                    elif gap == "\\cdot" and m.shape[1] == 1 and nxt.shape[1] == 1 and m.shape[0] == nxt.shape[0]:
                        corp.add("compute_inner_product", {"vector1": [c[0] for c in cellsA],
                                                           "vector2": [c[0] for c in cellsB]}, source, "dot product")
            elif k == "calc":
                s = a
                for m in LIM_RE.finditer(s):
                    body = to_sympy(conv.get(top_split(s[m.end():])[0][0]))
                    if body is None or not isinstance(body, sp.Expr):
                        continue
                    x = sp.Symbol(m.group(1))
                    pt = m.group(2).strip().strip("{}").strip()
                    d = "+-"
                    if pt.endswith("^+") or pt.endswith("^{+}"):
                        d, pt = "+", re.sub(r"\^\{?\+\}?$", "", pt)
                    elif pt.endswith("^-") or pt.endswith("^{-}"):
                        d, pt = "-", re.sub(r"\^\{?-\}?$", "", pt)
                    pt = {"\\infty": "oo", "+\\infty": "oo", "-\\infty": "-oo", "infty": "oo"}.get(pt, pt)
                    if not re.fullmatch(r"-?\d+|oo|-oo|0", pt):
                        continue
                    args = {"expression": sstr(body), "variable": str(x), "point": pt}
                    if d != "+-":
                        args["direction"] = d
                    corp.add("compute_limit", args, source, limit_class(body, x, pt))
                for m in SUM_RE.finditer(s):
                    body = to_sympy(conv.get(top_split(s[m.end():])[0][0]))
                    if body is None or not isinstance(body, sp.Expr):
                        continue
                    i = sp.Symbol(m.group(2))
                    lo = m.group(3).strip()
                    hi = m.group(4).replace("\\infty", "oo").replace(" ", "")
                    if not body.has(i):
                        continue
                    tool = "summation" if m.group(1) == "sum" else "product"
                    cls = "%s %s%s" % (m.group(1), kind_in(body, i), " infinite" if hi == "oo" else
                                       " symbolic bound" if re.search("[a-zA-Z]", hi + lo) else "")
                    corp.add(tool, {"expression": sstr(body), "variable": str(i), "lower": lo, "upper": hi}, source, cls)
          except (Timeout, RecursionError, MemoryError, ValueError, TypeError, AttributeError):
            pass  # a formula SymPy cannot even build in 1 s is left out
          finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_PROF, 1.0)
        try:
            systems(corp, multi, source)
        except (Timeout, RecursionError, MemoryError, ValueError, TypeError, AttributeError):
            pass
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        for m in FUNC_RE.finditer(text.replace("\\dfrac", "\\frac")):
          signal.setitimer(signal.ITIMER_PROF, 1.0)
          try:
            e = to_sympy(conv.get(clean(m.group(3))))
            x = sp.Symbol(m.group(2))
            if e is None or not isinstance(e, sp.Expr) or not e.has(x) or e.free_symbols != {x} or not is_small(e):
                continue
            k = kind_in(e, x)
            if k in ("constant", "other", "function"):
                continue
            corp.add("differentiate", {"expression": sstr(e), "variable": str(x)}, source, "derivative " + k,
                     "real" if k == "abs" else None)
            if k in ("linear", "quadratic", "cubic", "quartic", "polynomial deg>4", "rational", "trig", "exponential"):
                corp.add("integrate", {"expression": sstr(e), "variable": str(x)}, source, "antiderivative " + k)
            if k in ("quadratic", "cubic", "quartic"):
                corp.add("find_critical_points", {"expression": sstr(e), "variable": str(x)}, source,
                         "critical points " + k)
            if k in ("linear", "quadratic", "cubic"):
                corp.add("definite_integral", {"expression": sstr(e), "variable": str(x), "lower": "0", "upper": "1"},
                         source, "definite integral " + k)
          except (Timeout, RecursionError, MemoryError, ValueError, TypeError, AttributeError):
            pass
          finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        number_theory(corp, text, source)
        geometry(corp, text, source)

    # cap each class so a few huge classes do not drown the rest (deterministic choice)
    by = collections.defaultdict(list)
    for c in corp.cases:
        by[(c["tool"], c["class"])].append(c)
    cases = []
    for key in sorted(by):
        lst = by[key]
        lst.sort(key=lambda c: hashlib.sha1(json.dumps([c["tool"], c["args"]], sort_keys=True).encode()).hexdigest())
        cases.extend(lst[:opt.limit_per_class])
    print("gen_corpus: %d cases (%d before the per-class cap)" % (len(cases), len(corp.cases)), flush=True)
    if opt.groups:
        keep = set(opt.groups.split(","))
        cases = [c for c in cases if TOOL_FILE.get(c["tool"], "other") in keep]
        print("gen_corpus: %d cases in %s" % (len(cases), opt.groups), flush=True)

    if not opt.no_sympy:
        # SymPy's answers stored by an earlier run (same call, same assumption) are kept
        old = {}
        if not opt.fresh and os.path.isdir(opt.out):
            for fn in os.listdir(opt.out):
                if fn.endswith(".jsonl"):
                    for c in read_jsonl(os.path.join(opt.out, fn)):
                        if "sympy" in c:
                            old[case_key(c)] = c["sympy"]
        if not opt.fresh and os.path.exists(opt.cache):
            for c in read_jsonl(opt.cache):
                old.setdefault(c["key"], c["sympy"])
        todo = []
        for c in cases:
            if case_key(c) in old:
                c["sympy"] = old[case_key(c)]
            else:
                todo.append(c)
        print("gen_corpus: %d SymPy answers reused" % (len(cases) - len(todo)), flush=True)
        if opt.limit_new is not None:  # at most N calls per class still without an answer
            per = collections.Counter()
            drop = set()
            for c in todo:
                per[(c["tool"], c["class"])] += 1
                if per[(c["tool"], c["class"])] > opt.limit_new:
                    drop.add(id(c))
            cases = [c for c in cases if id(c) not in drop]
            todo = [c for c in todo if id(c) not in drop]
            print("gen_corpus: --limit-new: %d calls to answer, %d cases kept" % (len(todo), len(cases)), flush=True)
        if opt.cached_only:
            cases = [c for c in cases if "sympy" in c]
            todo = []
            print("gen_corpus: --cached-only: %d cases kept" % len(cases), flush=True)
        # the solving tools first: their answers are the ones most wanted
        todo.sort(key=lambda c: (TOOL_FILE.get(c["tool"], "z") not in ("equations", "inequalities", "systems", "calculus"),))
        sympy_answers(todo, opt.jobs, opt.cache)

    write(cases, opt.out, not opt.groups)
    table(cases)
    return 0


def limit_class(body, x, pt):
    p = {"oo": sp.oo, "-oo": -sp.oo}.get(pt) or sp.Integer(pt)
    if isinstance(body, sp.Pow) and body.exp.has(x):
        try:
            b = sp.limit(body.base, x, p)
            ex = sp.limit(body.exp, x, p)
            if b == 1 and ex.is_infinite:
                return "limit 1^inf"
            if b == 0 and ex == 0:
                return "limit 0^0"
            if b.is_infinite and ex == 0:
                return "limit inf^0"
        except Exception:
            pass
        return "limit power"
    k = kind_in(body, x)
    return "limit %s%s" % (k, " at infinity" if "oo" in pt else "")


def systems(corp, eqs, source):
    """Windows of 2 or 3 consecutive equations in exactly as many unknowns."""
    done = set()
    for w in (2, 3):
        for i in range(len(eqs) - w + 1):
            win = eqs[i:i + w]
            xs = sorted(set().union(*[e.free_symbols for e in win]), key=str)
            if len(xs) != w or any(not e.free_symbols for e in win):
                continue
            if not all(poly_ok(e, xs) for e in win):
                continue
            key = tuple(sstr(e) for e in win)
            if key in done or len(set(key)) < len(key):
                continue
            done.add(key)
            lin = all(sp.Poly(e, *xs).total_degree() <= 1 for e in win)
            strs = ["%s = 0" % sstr(e) for e in win]
            if lin:
                corp.add("solve_linear_system", {"equations": strs, "variables": [str(x) for x in xs]}, source,
                         "linear system %dx%d" % (w, w))
            else:
                deg = max(sp.Poly(e, *xs).total_degree() for e in win)
                corp.add("solve_nonlinear_system", {"sympy_equations": strs, "variables": [str(x) for x in xs]},
                         source, "polynomial system %d unknowns deg %d" % (w, min(deg, 3)))


# ---------------------------------------------------------------- SymPy's answers


class Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise Timeout()


def _init_worker():
    signal.signal(signal.SIGPROF, _alarm)
    sys.setrecursionlimit(10000)


def real_parse(O):
    """test_oracle's parser, with every symbol real when the case assumes it."""
    if getattr(O, "_real_patched", False):
        return
    from sympy.parsing.sympy_parser import standard_transformations, rationalize
    plain = O.S

    def S(s):
        # decimals are exact, as tkd reads them ("2.5" is 5/2, not a binary float)
        e = parse_expr(s.replace("^", "**"), transformations=standard_transformations + (rationalize,)) \
            if isinstance(s, str) else plain(s)
        if O.REAL and isinstance(e, sp.Basic):
            e = e.subs({v: sp.Symbol(v.name, real=True) for v in e.free_symbols if isinstance(v, sp.Symbol)})
        return e
    O.S = S
    O._real_patched = True


def sympy_one(c):
    import test_oracle as O
    real_parse(O)
    O.REAL = c.get("assume") == "real"
    signal.setitimer(signal.ITIMER_PROF, SYMPY_LIMIT_S)
    try:
        r = O.REF[c["tool"]](c["args"])
        signal.setitimer(signal.ITIMER_PROF, 0)
        s = sp.srepr(r)
        if len(s) > 20000:
            return {"status": "error", "message": "answer too long to store"}
        return {"status": "ok", "srepr": s}
    except Timeout:
        return {"status": "timeout"}
    except BaseException as ex:  # SymPy's own failure is data: it says SymPy had no answer
        signal.setitimer(signal.ITIMER_PROF, 0)
        return {"status": "error", "message": ("%s: %s" % (type(ex).__name__, ex))[:200]}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def case_key(c):
    return json.dumps([c["tool"], c["args"], c.get("assume")], sort_keys=True)


def sympy_answers(cases, jobs, cache):
    print("gen_corpus: SymPy answers for %d cases (%g s CPU each at most, %d workers)..." % (
        len(cases), SYMPY_LIMIT_S, jobs))
    with mp.Pool(jobs, initializer=_init_worker, maxtasksperchild=200) as pool:
        res = []
        cf = open(cache, "a")
        for i, r in enumerate(pool.imap(sympy_one, cases, chunksize=4)):
            res.append(r)
            cf.write(json.dumps({"key": case_key(cases[i]), "sympy": r}) + "\n")
            cf.flush()
            if (i + 1) % 500 == 0:
                print("gen_corpus: %d/%d" % (i + 1, len(cases)), flush=True)
    for c, r in zip(cases, res):
        c["sympy"] = r


def textual(r):
    """SymPy's answer as plain text in the shape tkd answers (lists of strings...),
    so the harness can call an answer printed the same way the same without SymPy."""
    if isinstance(r, (list, tuple)) and not isinstance(r, sp.Basic):
        return [textual(v) for v in r]
    if isinstance(r, sp.Tuple):
        return [textual(v) for v in r.args]
    if isinstance(r, dict):
        return {sp.sstr(k): textual(v) for k, v in r.items()}
    if isinstance(r, sp.MatrixBase):
        return [[sp.sstr(v) for v in row] for row in r.tolist()]
    if isinstance(r, bool):
        return r
    return sp.sstr(r)


def add_text(cases):
    ns = dict(sp.__dict__)
    for c in cases:
        st = c.get("sympy", {})
        if st.get("status") == "ok" and "text" not in st:
            try:
                st["text"] = textual(eval(st["srepr"], ns))
            except Exception:
                pass


def write(cases, out, replace_all):
    os.makedirs(out, exist_ok=True)
    add_text(cases)
    groups = collections.defaultdict(list)
    for c in cases:
        groups[TOOL_FILE.get(c["tool"], "other")].append(c)
    for old in os.listdir(out):
        if old.endswith(".jsonl") and replace_all:
            os.unlink(os.path.join(out, old))
    for g, lst in sorted(groups.items()):
        with open(os.path.join(out, g + ".jsonl"), "w") as f:
            for c in lst:
                f.write(json.dumps(c, sort_keys=False) + "\n")
    print("gen_corpus: wrote %s" % ", ".join("%s.jsonl (%d)" % (g, len(v)) for g, v in sorted(groups.items())))


TOOL_FILE = {
    "solve_equation": "equations", "find_roots": "equations", "solve_linear_system": "systems",
    "solve_nonlinear_system": "systems", "solve_univariate_inequality": "inequalities",
    "reduce_inequalities": "inequalities", "simplify_expression": "expressions", "expand_expression": "expressions",
    "factor_expression": "expressions", "evaluate": "expressions", "polynomial_degree": "polynomials",
    "polynomial_coefficients": "polynomials", "compute_limit": "calculus", "differentiate": "calculus",
    "integrate": "calculus", "definite_integral": "calculus", "find_critical_points": "calculus",
    "summation": "sums", "product": "sums",
}
for _t in ("compute_determinant", "compute_inverse", "compute_rank", "compute_eigenvalues", "compute_eigenvectors",
           "compute_nullspace", "matrix_multiplication", "compute_inner_product"):
    TOOL_FILE[_t] = "matrices"
for _t in ("gcd", "lcm", "mod_pow", "mod_inverse", "solve_congruences", "factorial", "binomial", "totient",
           "factor_integer", "divisor_count", "divisor_sum", "divisors", "convert_base", "is_prime"):
    TOOL_FILE[_t] = "numbers"
for _t in ("compute_point_distance", "compute_midpoint_GH", "compute_triangle_area_vertices", "compute_centroid",
           "check_points_collinear"):
    TOOL_FILE[_t] = "geometry"


def table(cases):
    by = collections.Counter((c["tool"], c["class"]) for c in cases)
    tools = collections.Counter(c["tool"] for c in cases)
    st = collections.Counter((c["tool"], c.get("sympy", {}).get("status", "-")) for c in cases)
    print("%-32s %6s %6s %7s %6s" % ("tool", "cases", "ok", "timeout", "error"))
    for t, n in sorted(tools.items()):
        print("%-32s %6d %6d %7d %6d" % (t, n, st[(t, "ok")], st[(t, "timeout")], st[(t, "error")]))
    print("%-32s %6d" % ("total", len(cases)))
    print()
    for (t, k), n in sorted(by.items()):
        print("  %-30s %-40s %5d" % (t, k, n))


if __name__ == "__main__":
    sys.exit(main())
