#!/usr/bin/python3
"""The toolkit coverage corpus against SymPy.

Every call in tests/tools/corpus/*.jsonl (extracted from MATH/benchmark
problems and solutions by tests/tools/corpus/gen_corpus.py, with SymPy's own
answer stored next to it) runs through `tkd tool call --jsonl` (the worker
pool, real limits, in one process) and tkd's answer is compared with SymPy's
inside SymPy: solution lists as sets, expressions by exact equality, numeric
agreement to 30 digits at random points, then simplify(a - b) == 0 (the
comparators of tests/tools/test_oracle.py), intervals as sets.

Each case is one of:
  same       tkd answers and agrees with SymPy
  refused    tkd answers a tool error ("unsupported", a clear message)
  different  tkd answers something else than SymPy (a bug, always)
  undecided  the comparison itself ran out of time (counted as not same)
  sympy-wrong  SymPy answers a system with no solution, and each of tkd's
             tuples makes every equation exactly 0 (counted as not same, printed)
  no-sympy   SymPy timed out (2 s CPU) or failed: nothing to compare with
Asserts: never a different answer, except the wrong answers listed in
corpus/known_gaps.json ("different", empty now; they would still count as
not same); and per tool, among the
cases SymPy answers, the same answer on >= 97%, or for a tool listed under
"floors" in known_gaps.json at least its floor (no regression while its
gaps are being closed); and over all the cases SymPy answers, the same answer
on >= 97% (the issue's bar).

Run: TKD=build/bin/tkd /usr/bin/python3 tests/tools/test_corpus.py [-v] [TOOL|CLASS ...]
  arguments (or CORPUS_FILTER, comma-separated) keep the cases whose tool or
  class contains one of the strings; CORPUS_JOBS=N comparison processes (2);
  CORPUS_REPORT=FILE writes every verdict as one JSON line. Refusals and answers
  printed exactly as SymPy prints its own are judged for every case; the others
  need SymPy and are all compared (about 2 minutes on 2 cores), unless
  CORPUS_SAMPLE=N asks for a quick run: only N per tool and class, each
  sampled verdict standing for the left-out cases of its class in the table
  and the rates (estimates).
"""
import collections
import json
import mpmath
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

try:
    import sympy as sp
except ImportError:
    print("SKIP: python3-sympy is not installed")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
TKD = os.environ.get("TKD") or os.path.join(os.environ.get("TKD_BUILD_DIR", "build"), "bin", "tkd")
sys.path.insert(0, HERE)
sys.setrecursionlimit(10000)
import test_oracle as O  # noqa: E402  (the reference calls and comparators)

MIN_RATE = 0.97
# answers whose printed form is not SymPy's printed answer (a Poly, an antiderivative
# up to a constant, a series with O(), evaluate's value/decimal pair, a line)
SLOW_ONLY = {"polynomial_representation", "integrate", "series_expansion", "evaluate", "compute_line_bisectors",
             "convert_base", "compute_eigenvectors", "compute_nullspace", "solve_congruences"}
CMP_LIMIT_S = 4.0  # CPU seconds for one comparison
NS = dict(sp.__dict__)
NS.update({"ExprCondPair": sp.functions.elementary.piecewise.ExprCondPair, "Point2D": sp.Point2D, "Point3D": sp.Point3D, "MutableDenseMatrix": sp.MutableDenseMatrix,
           "ImmutableDenseMatrix": sp.ImmutableDenseMatrix})

# ---- fast equality first: exact, then 30-digit numeric at random points, then SymPy's simplify


class Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise Timeout()


_slow_same = O.same


def _num(v, prec=30):
    c = complex(sp.N(v, prec))
    return c


def fast_same(a, b):
    a, b = sp.sympify(a), sp.sympify(b)
    if a == b:
        return True
    if not (isinstance(a, sp.Expr) and isinstance(b, sp.Expr)):
        return _slow_same(a, b)
    if a.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or b.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        return _slow_same(a, b)
    xs = sorted(a.free_symbols | b.free_symbols, key=str)
    rnd = random.Random(12345)
    try:
        for _ in range(3 if xs else 1):
            sub = {x: sp.Rational(rnd.randint(300, 2900), 1000) for x in xs}
            d = _num((a - b).subs(sub), 40)
            m = max(1.0, abs(_num(b.subs(sub), 40)))
            if not (abs(d) <= 1e-25 * m):
                if not xs and abs(d) > 1e-12 * m and abs(_num(a, 40) - _num(b, 40)) > 1e-12 * m:
                    return False  # two numbers apart, evaluated together and apart (a value on a
                    # branch cut can evaluate either way): simplify would only spend the time
                return _slow_same(a, b)  # may still be equal (a branch): let simplify decide
        return True
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return _slow_same(a, b)


O.same = fast_same  # the comparators in test_oracle call same() through the module
_slow_eigvects = O.same_eigvects


def _mp(x):
    re, im = sp.N(x, 50).as_real_imag()
    return mpmath.mpc(mpmath.mpf(str(re)), mpmath.mpf(str(im)))


def _num_rank(vectors):
    """Rank of numeric column vectors, from their singular values at 50 digits."""
    with mpmath.workdps(50):
        m = mpmath.matrix([[_mp(v[i]) for v in vectors] for i in range(len(vectors[0]))])
        sv = mpmath.svd_c(m, compute_uv=False)
        top = max(abs(x) for x in sv)
        return sum(1 for x in sv if abs(x) > mpmath.mpf(10) ** -30 * max(top, 1))


def fast_eigvects(got, ref):
    """same_eigvects, the spans compared first by their numeric rank at 50 digits
    (as fast_same compares values); the exact rank with simplify when that disagrees."""
    try:
        if len(got) != len(ref):
            return False
        for g in got:
            val = O.S(g["eigenvalue"])
            match = [r for r in ref if fast_same(val, r[0])]
            if not match or int(g["multiplicity"]) != int(match[0][1]):
                return False
            span = [list(v) for v in match[0][2]]
            vecs = [[O.S(x) for x in vec] for vec in g["eigenvectors"]]
            if len(vecs) != len(span) or any(sp.sympify(x).free_symbols for v in span + vecs for x in v):
                return _slow_eigvects(got, ref)
            if _num_rank(span + vecs) != len(span) or _num_rank(vecs) != len(vecs):
                return _slow_eigvects(got, ref)
        return True
    except (TypeError, ValueError, ZeroDivisionError, AttributeError):
        return _slow_eigvects(got, ref)


O.same_eigvects = fast_eigvects
sys.path.insert(0, CORPUS)
from gen_corpus import real_parse  # noqa: E402  ("assume": "real": real symbols, as when the answer was made)
real_parse(O)


def load(filters):
    cases = []
    for fn in sorted(os.listdir(CORPUS)):
        if not fn.endswith(".jsonl"):
            continue
        with open(os.path.join(CORPUS, fn)) as f:
            for ln, line in enumerate(f, 1):
                c = json.loads(line)
                c["where"] = "%s:%d" % (fn, ln)
                if filters and not any(s in c["tool"] or s in c["class"] for s in filters):
                    continue
                cases.append(c)
    return cases


def key(c):
    return c["tool"] + " " + json.dumps(c["args"], sort_keys=True)


def _init():
    signal.signal(signal.SIGPROF, _alarm)
    sys.setrecursionlimit(10000)


def canon(v):
    """Answer text with spaces dropped and lists ordered: equal canon means the
    same printed answer (tkd and SymPy print the same syntax)."""
    if isinstance(v, list):
        return "[" + ",".join(sorted(canon(x) for x in v)) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(sorted(canon(k) + ":" + canon(x) for k, x in v.items())) + "}"
    return str(v).replace(" ", "")


def refutes_empty(c, got, ref):
    """SymPy's nonlinsolve answers some solvable systems with EmptySet
    (y = x**2, y - 4 = m*(x - 2), x**2 - 4 = m*(x - 2): (m, 2, 4) solves it for
    every m). Such a reference is refuted, not compared: SymPy answers no
    solution, and each of tkd's tuples makes every equation exactly 0 (simplify,
    no numerics; a tuple that hits a pole is no proof)."""
    if c["tool"] not in ("solve_linear_system", "solve_nonlinear_system") or not got:
        return False
    try:
        if list(ref):
            return False
    except TypeError:
        return False
    vs = [sp.Symbol(v) for v in c["args"]["variables"]]
    eqs = [O.eqn(e) for e in c["args"].get("equations") or c["args"]["sympy_equations"]]
    for g in got:
        t = O.S(g)
        t = tuple(t) if isinstance(t, (tuple, sp.Tuple)) else (t,)
        if len(t) != len(vs):
            return False
        sub = dict(zip(vs, t))
        if not all(sp.simplify(e.xreplace(sub)) == 0 for e in eqs):
            return False
    return True


def quick(c, ans):
    """The verdict when no SymPy work is needed, else None."""
    st = c.get("sympy", {})
    try:
        a = json.loads(ans)
    except ValueError:
        return None
    if "result" not in a:
        if st.get("status") != "ok":
            return "no-sympy", "both without an answer"
        return "refused", str(a.get("message", ""))[:200]
    if st.get("status") != "ok":
        return "no-sympy", "SymPy %s" % st.get("status")
    if "text" in st and c["tool"] not in SLOW_ONLY and canon(a["result"]) == canon(st["text"]):
        return "same", "same text"
    return None


def judge(item):
    """(verdict, detail) for one case and tkd's answer line."""
    c, ans = item
    st = c.get("sympy", {})
    try:
        a = json.loads(ans)
    except ValueError:
        return "different", "tkd printed no JSON: %s" % ans[:200]
    if "result" not in a:
        if st.get("status") != "ok":
            return "no-sympy", "both without an answer"
        return "refused", str(a.get("message", ""))[:200]
    if st.get("status") != "ok":
        return "no-sympy", "SymPy %s" % st.get("status")
    if "text" in st and c["tool"] not in SLOW_ONLY and canon(a["result"]) == canon(st["text"]):
        return "same", "same text"
    O.REAL = c.get("assume") == "real"
    signal.setitimer(signal.ITIMER_PROF, CMP_LIMIT_S)
    try:
        ref = eval(st["srepr"], NS)
        if c["tool"] in ("solve_equation", "find_roots", "find_critical_points") and isinstance(ref, dict):
            ref = [ref]
        if c["tool"] == "evaluate":  # the exact value, and the decimal (complex ones too) to its digits
            r = a["result"]
            d = int(c["args"].get("digits", 15))
            dec = sp.sympify(r["decimal"].replace(" ", ""), rational=True)
            ok = fast_same(O.S(r["value"]), ref) and abs(complex(sp.N(dec - ref, d + 10))) <= \
                10.0 ** (-(d - 1)) * max(1.0, abs(complex(sp.N(ref, 30))))
        elif c["tool"] in ("solve_linear_system", "solve_nonlinear_system") and O.parametric(c["args"], ref):
            ok = O.same_family(c["args"], a["result"], ref)  # the oracle's: SymPy's points on tkd's families too
        else:
            ok = O.compare(c["tool"], c["args"], a["result"], ref, c.get("cmp"))
        if not ok and refutes_empty(c, a["result"], ref):
            return "sympy-wrong", "SymPy: %s; each of tkd's tuples solves every equation identically" % st["srepr"][:200]
        return ("same", "") if ok else ("different", "SymPy: %s" % (st["srepr"][:300],))
    except Timeout:
        return "undecided", "comparison over %g s" % CMP_LIMIT_S
    except Exception as ex:
        return "different", "comparison raised %r" % (ex,)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def main():
    verbose = "-v" in sys.argv
    filters = [a for a in sys.argv[1:] if a != "-v"]
    if os.environ.get("CORPUS_FILTER"):
        filters += [s for s in os.environ["CORPUS_FILTER"].split(",") if s]
    if not os.path.isdir(CORPUS):
        print("SKIP: no corpus")
        return 77
    cases = load(filters)
    if not cases:
        print("no cases match %s" % filters if filters else "SKIP: the corpus is empty")
        return 1 if filters else 77
    known, floors = set(), {}
    kp = os.path.join(CORPUS, "known_gaps.json")
    if os.path.exists(kp):
        with open(kp) as f:
            kg = json.load(f)
        known = set(kg.get("different", []))
        floors = kg.get("floors", {})
    t0 = time.time()
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as t:
        for c in cases:
            t.write(json.dumps({"tool": c["tool"], "args": c["args"]}) + "\n")
        path = t.name
    out = subprocess.run([TKD, "tool", "call", "--jsonl", path, "--workers", "2"],
                         capture_output=True, text=True, timeout=900)
    os.unlink(path)
    if out.returncode != 0:
        print("tkd failed:", out.stderr)
        return 1
    answers = out.stdout.splitlines()
    assert len(answers) == len(cases), (len(answers), len(cases))
    t1 = time.time()
    jobs = int(os.environ.get("CORPUS_JOBS", "2"))
    # cheap verdicts here (refusals, no SymPy answer, the same printed answer);
    # the rest are compared inside SymPy: all of them unless CORPUS_SAMPLE is set, or a
    # filter, else a fixed sample per tool and class (the CI budget)
    verdicts = [None] * len(cases)
    slow = collections.defaultdict(list)
    for i, (c, ans) in enumerate(zip(cases, answers)):
        v = quick(c, ans)
        if v:
            verdicts[i] = v
        else:
            slow[(c["tool"], c["class"])].append(i)
    full = not os.environ.get("CORPUS_SAMPLE") or bool(filters)
    per_class = int(os.environ.get("CORPUS_SAMPLE") or 0)
    todo, skipped = [], 0
    weight = [1.0] * len(cases)  # a sampled case stands for the cases of its class left out
    for k in sorted(slow):
        idx = slow[k]
        if not full and len(idx) > per_class:
            idx = sorted(idx, key=lambda i: key(cases[i]))[:per_class]  # deterministic
            skipped += len(slow[k]) - per_class
            for i in idx:
                weight[i] = len(slow[k]) / per_class
        todo.extend(idx)
    items = [(cases[i], answers[i]) for i in todo]
    if jobs > 1:
        with mp.Pool(jobs, initializer=_init) as pool:
            res = pool.map(judge, items, chunksize=8)
    else:
        _init()
        res = [judge(it) for it in items]
    for i, r in zip(todo, res):
        verdicts[i] = r
    sampled = [i for i in range(len(cases)) if verdicts[i] is None]
    keep = [i for i in range(len(cases)) if verdicts[i] is not None]
    weight = [weight[i] for i in keep]
    cases = [cases[i] for i in keep]
    answers = [answers[i] for i in keep]
    verdicts = [verdicts[i] for i in keep]
    t2 = time.time()

    if os.environ.get("CORPUS_REPORT"):  # every verdict, for GAPS.md and debugging
        with open(os.environ["CORPUS_REPORT"], "w") as f:
            for c, ans, (v, why) in zip(cases, answers, verdicts):
                f.write(json.dumps({"where": c["where"], "tool": c["tool"], "class": c["class"], "source": c["source"],
                                    "args": c["args"], "verdict": v, "answer": ans[:400], "why": why[:400],
                                    "key": key(c)}) + "\n")
    rows = collections.defaultdict(collections.Counter)
    classes = collections.defaultdict(collections.Counter)
    bad, fixed_known = [], []
    for c, ans, (v, why), w in zip(cases, answers, verdicts, weight):
        k = key(c)
        if k in known and v == "same":
            fixed_known.append(c)
        r = rows[c["tool"]]
        r["cases"] += w
        r["answered"] += w if v != "no-sympy" else 0
        r[v] += w
        if k in known and v == "different":
            r["known"] += 1
        classes[(c["tool"], c["class"])][v] += 1
        if v == "different" and k not in known:
            bad.append((c, ans, why))
        if verbose and v != "same":
            print("%-9s %s %s %s -> %s; %s" % (v, c["where"], c["tool"], json.dumps(c["args"]), ans[:200], why))
    hdr = "%-32s %6s %8s %6s %7s %9s %9s %6s %6s %7s" % ("tool", "cases", "answered", "same", "refused", "different",
                                                         "undecided", "known", "sympy!", "rate")
    print(hdr)
    tot = collections.Counter()
    for tool in sorted(rows):
        r = rows[tool]
        tot.update(r)
        rate = r["same"] / r["answered"] if r["answered"] else 1.0
        print("%-32s %6.0f %8.0f %6.0f %7.0f %9.0f %9.0f %6.0f %6.0f %6.1f%%" % (
            tool, r["cases"], r["answered"], r["same"], r["refused"], r["different"], r["undecided"], r["known"],
            r["sympy-wrong"], 100 * rate))
    rate = tot["same"] / tot["answered"] if tot["answered"] else 1.0
    print("%-32s %6.0f %8.0f %6.0f %7.0f %9.0f %9.0f %6.0f %6.0f %6.1f%%" % (
        "total", tot["cases"], tot["answered"], tot["same"], tot["refused"], tot["different"], tot["undecided"],
        tot["known"], tot["sympy-wrong"], 100 * rate))
    if verbose:
        print()
        for (tool, cl), r in sorted(classes.items()):
            n = sum(r.values())
            ans = n - r["no-sympy"]
            print("  %-30s %-42s %5d cases %5d answered %5d same %4d refused %3d different" % (
                tool, cl, n, ans, r["same"], r["refused"], r["different"]))
    print("tkd %.1f s, comparisons %.1f s; %d cases compared inside SymPy, %d left out of this run "
          "(sample of %d per tool and class with CORPUS_SAMPLE)" % (
              t1 - t0, t2 - t1, len(todo), len(sampled), per_class))
    for c, ans, (v, why) in zip(cases, answers, verdicts):
        if v == "sympy-wrong":  # counted as not same; printed so that anyone can check the refutation
            print("SYMPY-WRONG %s %s %s -> %s; %s" % (c["where"], c["tool"], json.dumps(c["args"]), ans[:200], why))
    for c, ans, why in bad[:40]:
        print("DIFFERENT %s %s %s -> %s; %s" % (c["where"], c["tool"], json.dumps(c["args"]), ans[:200], why))
    if fixed_known:
        print("note: %d cases listed in known_gaps.json now agree; remove them from the list" % len(fixed_known))
    fail = False
    if bad:
        print("FAIL: %d different answers" % len(bad))
        fail = True
    # the 97% bar, per tool; a tool whose gaps another helper is closing is held
    # to its floor in known_gaps.json (no regression) until it reaches the bar
    for tool in sorted(rows):
        r = rows[tool]
        if r["answered"] < 5:
            continue
        trate = r["same"] / r["answered"]
        # a sampled run estimates the rates: 3 points of slack for the estimate
        bar = min(MIN_RATE, floors.get(tool, MIN_RATE)) - (0 if full else 0.03)
        if trate < bar:
            print("FAIL: %s same on %.1f%% of the cases SymPy answers (< %.1f%%)" % (tool, 100 * trate, 100 * bar))
            fail = True
    # the bar over every case SymPy answers, on a run of the whole corpus (a
    # sampled run: an estimate, 3 points of slack)
    if not filters and rate < MIN_RATE - (0 if full else 0.03):
        print("FAIL: same on %.1f%% of all the cases SymPy answers; the bar is %.0f%% (see GAPS.md)" % (
            100 * rate, 100 * MIN_RATE))
        fail = True
    else:
        print("same on %.1f%% of %s cases SymPy answers (the bar: %.0f%%)" % (
            100 * rate, "the selected" if filters else "all the", 100 * MIN_RATE))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
