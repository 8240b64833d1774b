#!/usr/bin/python3
"""Oracle test: SymPy writes the LaTeX and decides equality; tkd grade must agree.

Random expressions (seeded) in x, y with integers, rationals, radicals, pi,
sin/cos/exp/log are printed by sympy.latex in several equal forms (expand,
factor, together, cancel, trigsimp) and against perturbed versions that SymPy
proves different. Every pair goes through `tkd grade --jsonl`; the verdicts
must match SymPy's. Skips (77) without SymPy or the tkd binary.

Inequalities (seeded, their own section): relations in one variable
(linear, quadratic, rational, absolute values, square roots, \\ne,
"and"/"or" of two) are
written in other forms (sides swapped, both sides negated with the sign
turned, moved to one side, the solution set as intervals and unions, as a
set-builder, as relations joined by \\wedge/\\vee or "and"/"or", a chain
a < x < b) and against perturbed versions (strict/non-strict ends, a pole
included, a moved end). SymPy decides truth: solveset over the reals, the two
sets compared. 0 disagreements are required in both sections.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

try:
    import sympy as sp
except ImportError:
    print("skip: python3-sympy not installed")
    sys.exit(77)

TKD = os.environ.get("TKD")
if not TKD or not os.path.exists(TKD):
    print("skip: $TKD (the tkd binary) not set")
    sys.exit(77)

x, y = sp.symbols("x y", positive=True)
rng = random.Random(20261122)


def atom():
    k = rng.randrange(7)
    if k == 0:
        return x
    if k == 1:
        return y
    if k == 2:
        return sp.Integer(rng.randint(-9, 9) or 1)
    if k == 3:
        return sp.Rational(rng.randint(-9, 9) or 1, rng.randint(2, 9))
    if k == 4:
        return sp.sqrt(rng.choice([2, 3, 5, 6, 7]))
    if k == 5:
        return sp.pi
    return x + rng.randint(1, 5)


def expr(depth=0):
    if depth > 2 or rng.random() < 0.3:
        return atom()
    k = rng.randrange(8)
    a, b = expr(depth + 1), expr(depth + 1)
    if k in (0, 1):
        return a + b
    if k in (2, 3):
        return a * b
    if k == 4:
        return a / (b if b != 0 else 2)
    if k == 5:
        return a ** rng.randint(2, 3)
    if k == 6:
        return rng.choice([sp.sin, sp.cos, sp.exp])(a)
    return sp.log(a ** 2 + 1)


def forms(e):
    out = set()
    for f in (sp.expand, sp.factor, sp.together, sp.cancel, sp.trigsimp, lambda t: t):
        try:
            g = f(e)
        except Exception:
            continue
        out.add(sp.latex(g))
    return sorted(out)


def perturb(e):
    k = rng.randrange(4)
    if k == 0:
        return e + 1
    if k == 1:
        return 2 * e
    if k == 2:
        return e.subs(x, x + 1) if e.has(x) else e + sp.Rational(1, 3)
    return -e if e != 0 else e + 1


pairs = []
while len(pairs) < 600:
    e = expr()
    if e.is_zero or len(str(e)) > 120:
        continue
    fs = forms(e)
    for f in fs[1:]:
        pairs.append((fs[0], f, True, str(e)))
    p = perturb(e)
    d = sp.simplify(e - p)
    if d == 0:
        continue
    pairs.append((fs[0], sp.latex(p), False, str(e)))

# ---- inequalities: the same solution set written in other forms ----
xr = sp.Symbol("x", real=True)
irng = random.Random(20261204)
LT, LE, GT, GE = sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan
FLIP = {LT: GT, LE: GE, GT: LT, GE: LE}
LATEX_OP = {LT: "<", LE: "\\le", GT: ">", GE: "\\ge", sp.Ne: "\\neq", sp.Eq: "="}


def rnd_q():
    return sp.Rational(irng.randint(-9, 9), irng.choice([1, 1, 1, 2, 3]))


def rnd_rel():
    op = irng.choice([LT, LE, GT, GE])
    k = irng.randrange(8)
    if k == 7:  # a square root against a line: the squared equation's extra root must stay out
        return op(sp.sqrt(xr + irng.randint(-4, 6)), xr + irng.randint(-5, 3), evaluate=False)
    if k == 0:  # linear, both sides
        a, c = irng.randint(-5, 5), irng.randint(-5, 5)
        if a == c:
            a += 1
        return op(a * xr + irng.randint(-9, 9), c * xr + rnd_q(), evaluate=False)
    if k == 1:  # quadratic with rational roots
        r1, r2 = rnd_q(), rnd_q()
        return op(sp.expand(irng.choice([1, -1, 2]) * (xr - r1) * (xr - r2)), 0, evaluate=False)
    if k == 2:  # x^2 against a constant (irrational ends, double roots, no roots)
        return op(xr ** 2, irng.choice([-1, 0, 1, 2, 3, 4, 5, 9]), evaluate=False)
    if k == 3:  # rational function: a pole
        a, b = irng.randint(-5, 5), irng.randint(-5, 5)
        if a == b:
            b += 2
        return op((xr - a) / (xr - b), irng.choice([0, 0, 1, 2, -1]), evaluate=False)
    if k == 4:  # absolute value
        return op(sp.Abs(xr - irng.randint(-5, 5)), irng.randint(0, 6), evaluate=False)
    if k == 5:  # cubic
        r = sorted({irng.randint(-4, 4) for _ in range(3)})
        p = sp.Integer(1)
        for t in r:
            p *= xr - t
        return op(sp.expand(p), 0, evaluate=False)
    return sp.Ne(xr, irng.randint(-5, 5), evaluate=False)


def sol(rel):
    if isinstance(rel, (sp.And, sp.Or)):
        sets = [sol(a) for a in rel.args]
        return sp.Intersection(*sets) if isinstance(rel, sp.And) else sp.Union(*sets)
    return sp.solveset(rel, xr, sp.S.Reals)


def tex(e):
    return sp.latex(e)


def tex_rel(r, swap=False, neg=False, move=False):
    op, a, b = type(r), r.lhs, r.rhs
    if op is sp.Ne:
        return f"{tex(b)} \\neq {tex(a)}" if swap else f"{tex(a)} \\neq {tex(b)}"
    if neg:
        op, a, b = FLIP[op], -a, -b
        a, b = sp.expand(a), sp.expand(b)
    if move:
        a, b = sp.expand(a - b), sp.Integer(0)
        if isinstance(a, sp.Add) and any(isinstance(t, sp.Pow) and t.exp < 0 for t in sp.Add.make_args(a)):
            a = sp.together(a)
    if swap:
        op, a, b = FLIP[op], b, a
    return f"{tex(a)} {LATEX_OP[op]} {tex(b)}"


def end(v):
    return "\\infty" if v == sp.oo else "-\\infty" if v == -sp.oo else tex(v)


def tex_set(S, style=0):
    """S as intervals, unions, points; None when it has no such form."""
    if S == sp.S.EmptySet:
        return "\\emptyset"
    if S == sp.S.Reals:
        return "(-\\infty, \\infty)"
    if isinstance(S, sp.Interval):
        l = "[" if not S.left_open and S.start != -sp.oo else "("
        r = "]" if not S.right_open and S.end != sp.oo else ")"
        if style == 1:
            l, r = "\\left" + l, "\\right" + r
        return f"{l}{end(S.start)}, {end(S.end)}{r}"
    if isinstance(S, sp.FiniteSet):
        return "\\{" + ", ".join(tex(v) for v in S.args) + "\\}"
    if isinstance(S, sp.Union):
        parts = [tex_set(a, style) for a in S.args]
        if None in parts:
            return None
        if style == 2:
            parts.reverse()
        return " \\cup ".join(parts)
    return None


def tex_chain(S):
    """An interval as a chain a < x < b, or a union of them joined by "or"."""
    pieces = S.args if isinstance(S, sp.Union) else (S,)
    out = []
    for P in pieces:
        if isinstance(P, sp.FiniteSet):
            out += [f"x = {tex(v)}" for v in P.args]
            continue
        if not isinstance(P, sp.Interval):
            return None
        lo = "" if P.start == -sp.oo else tex(P.start) + (" < " if P.left_open else " \\le ")
        hi = "" if P.end == sp.oo else (" < " if P.right_open else " \\le ") + tex(P.end)
        if not lo and not hi:
            return None
        out.append(f"{lo}x{hi}")
    return " \\text{ or } ".join(out) if out else None


def rewrite(r):
    """Forms of the relation r (all the same set)."""
    forms = [tex_rel(r), tex_rel(r, swap=True)]
    if type(r) is not sp.Ne:
        forms += [tex_rel(r, neg=True), tex_rel(r, move=True), tex_rel(r, neg=True, swap=True)]
    return forms


def rel_text(r):
    if isinstance(r, sp.And):
        return " \\text{ and } ".join(tex_rel(a) for a in r.args)
    if isinstance(r, sp.Or):
        return " \\text{ or } ".join(tex_rel(a) for a in r.args)
    return tex_rel(r)


def perturb_rel(r):
    op = type(r)
    k = irng.randrange(3)
    if op is sp.Ne:
        return sp.Eq(r.lhs, r.rhs, evaluate=False) if k == 0 else sp.Ne(r.lhs, r.rhs + 1, evaluate=False)
    if k == 0:  # strict <-> non-strict
        return {LT: LE, LE: LT, GT: GE, GE: GT}[op](r.lhs, r.rhs, evaluate=False)
    if k == 1:
        return op(r.lhs, r.rhs + irng.choice([1, -1, sp.Rational(1, 2)]), evaluate=False)
    return FLIP[op](r.lhs, r.rhs, evaluate=False)


def perturb_set(S):
    """Another set close to S: one end opened or closed."""
    if isinstance(S, sp.Interval):
        if S.start != -sp.oo and irng.random() < 0.5:
            return sp.Interval(S.start, S.end, not S.left_open, S.right_open)
        if S.end != sp.oo:
            return sp.Interval(S.start, S.end, S.left_open, not S.right_open)
        return sp.Interval(S.start + 1, S.end, S.left_open, S.right_open)
    if isinstance(S, sp.Union):
        a = list(S.args)
        i = irng.randrange(len(a))
        a[i] = perturb_set(a[i])
        return sp.Union(*a)
    if isinstance(S, sp.FiniteSet):
        return sp.FiniteSet(*[v + 1 for v in S.args])
    return None


ineq = []  # (gold, pred, sympy says equal, source)


def add_pair(g, p, Sg, Sp, src):
    if g is None or p is None or Sg is None or Sp is None or g == p:
        return
    ineq.append((g, p, bool(Sg == Sp), src))


seen = set()
while len(ineq) < 300:
    k = irng.randrange(10)
    if k < 7:
        r = rnd_rel()
    else:
        a, b = rnd_rel(), rnd_rel()
        r = (sp.And if k < 9 else sp.Or)(a, b, evaluate=False)
    if str(r) in seen:
        continue
    seen.add(str(r))
    S = sol(r)
    if not isinstance(S, (sp.Interval, sp.Union, sp.FiniteSet)) and S not in (sp.S.Reals, sp.S.EmptySet):
        continue
    src = str(r)
    base = rel_text(r)
    # equal forms
    alts = []
    if isinstance(r, (sp.And, sp.Or)):
        j = " \\text{ and } " if isinstance(r, sp.And) else " \\text{ or } "
        alts.append(j.join(tex_rel(a, swap=True) for a in reversed(r.args)))
        alts.append((" \\wedge " if isinstance(r, sp.And) else " \\vee ").join(rewrite(a)[-1] for a in r.args))
    else:
        alts += rewrite(r)[1:]
        alts.append("\\{x \\mid " + tex_rel(r) + "\\}")
    alts += [tex_set(S, irng.randrange(3)), tex_chain(S) if S not in (sp.S.Reals, sp.S.EmptySet) else None]
    for a in alts:
        add_pair(base, a, S, S, src)
    st = tex_set(S)
    if st and irng.random() < 0.5:
        add_pair(st, tex_rel(r, neg=True) if not isinstance(r, (sp.And, sp.Or)) else base, S, S, src)
    # different forms, each checked by SymPy (a perturbation can land on the same set)
    if not isinstance(r, (sp.And, sp.Or)):
        q = perturb_rel(r)
        Sq = sol(q)
        if isinstance(Sq, (sp.Interval, sp.Union, sp.FiniteSet)) or Sq in (sp.S.Reals, sp.S.EmptySet):
            add_pair(base, tex_rel(q) if type(q) is not sp.Eq else f"{tex(q.lhs)} = {tex(q.rhs)}", S, Sq, src)
    for _ in range(2):
        P = perturb_set(S)
        if P is not None:
            add_pair(base, tex_set(P, irng.randrange(3)), S, P, src)

# the tricky ends, written by hand; SymPy still decides each one
I, U, oo = sp.Interval, sp.Union, sp.oo
hand = [
    ("x<1", "x \\le 1", xr < 1, xr <= 1),
    ("x<1", "-x>-1", xr < 1, -xr > -1),
    ("x \\ge 2", "2 \\le x", xr >= 2, xr >= 2),
    ("\\frac{x-1}{x+2} \\ge 0", "(-\\infty,-2]\\cup[1,\\infty)", (xr - 1) / (xr + 2) >= 0, U(I(-oo, -2), I(1, oo))),
    ("\\frac{x-1}{x+2} \\ge 0", "(-\\infty,-2)\\cup[1,\\infty)", (xr - 1) / (xr + 2) >= 0, U(I.open(-oo, -2), I(1, oo))),
    ("x^2 \\ge 0", "(-\\infty,\\infty)", xr ** 2 >= 0, sp.S.Reals),
    ("x^2 > 0", "x \\neq 0", xr ** 2 > 0, sp.Ne(xr, 0)),
    ("x^2 \\le 0", "x = 0", xr ** 2 <= 0, sp.Eq(xr, 0)),
    ("x^2 < 0", "\\emptyset", xr ** 2 < 0, sp.S.EmptySet),
    ("[1,2]\\cup[2,3]", "[1,3]", U(I(1, 2), I(2, 3)), I(1, 3)),
    ("(1,2)\\cup(2,3)", "(1,3)", U(I.open(1, 2), I.open(2, 3)), I.open(1, 3)),
    ("(1,2)\\cup(2,3)", "1<x<3 \\text{ and } x \\neq 2", U(I.open(1, 2), I.open(2, 3)),
     sp.And(xr > 1, xr < 3, sp.Ne(xr, 2))),
    ("\\frac{1}{x} > 0", "x > 0", 1 / xr > 0, xr > 0),
    ("\\frac{1}{x} \\ge 0", "x \\ge 0", 1 / xr >= 0, xr >= 0),
    ("x^2 < 2", "(-\\sqrt{2}, \\sqrt{2})", xr ** 2 < 2, I.open(-sp.sqrt(2), sp.sqrt(2))),
    ("x^2 < 2", "[-\\sqrt{2}, \\sqrt{2})", xr ** 2 < 2, I.Ropen(-sp.sqrt(2), sp.sqrt(2))),
    ("x^2 - x - 1 \\le 0", "\\left[\\frac{1-\\sqrt5}{2}, \\frac{1+\\sqrt5}{2}\\right]", xr ** 2 - xr - 1 <= 0,
     I((1 - sp.sqrt(5)) / 2, (1 + sp.sqrt(5)) / 2)),
    ("|x| < 0", "\\emptyset", sp.Abs(xr) < 0, sp.S.EmptySet),
    ("|x| \\le 0", "\\{0\\}", sp.Abs(xr) <= 0, sp.FiniteSet(0)),
    ("|2x-1| \\ge 3", "x \\le -1 \\text{ or } x \\ge 2", sp.Abs(2 * xr - 1) >= 3, sp.Or(xr <= -1, xr >= 2)),
    ("|2x-1| \\ge 3", "x < -1 \\text{ or } x \\ge 2", sp.Abs(2 * xr - 1) >= 3, sp.Or(xr < -1, xr >= 2)),
    ("(x-1)^2(x-3) \\le 0", "(-\\infty, 3]", (xr - 1) ** 2 * (xr - 3) <= 0, I(-oo, 3)),
    ("(x-1)^2(x-3) < 0", "(-\\infty, 3)", (xr - 1) ** 2 * (xr - 3) < 0, I.open(-oo, 3)),
    ("(x-1)^2(x-3) < 0", "x<1 \\text{ or } 1<x<3", (xr - 1) ** 2 * (xr - 3) < 0, sp.Or(xr < 1, sp.And(xr > 1, xr < 3))),
    ("\\{x \\mid x^2 \\le 4\\}", "[-2,2]", xr ** 2 <= 4, I(-2, 2)),
    ("x \\in (0, 1]", "0 < x \\le 1", sp.And(xr > 0, xr <= 1), sp.And(xr > 0, xr <= 1)),
    ("x \\in (0, 1]", "0 \\le x \\le 1", sp.And(xr > 0, xr <= 1), sp.And(xr >= 0, xr <= 1)),
    ("x>3", "y>3", xr > 3, xr > 3),
    ("x<-1 \\text{ or } x>1", "|x|>1", sp.Or(xr < -1, xr > 1), sp.Abs(xr) > 1),
    ("x<-1 \\text{ and } x>1", "\\emptyset", sp.And(xr < -1, xr > 1), sp.S.EmptySet),
    ("\\sqrt{x-1} > x-3", "[1,5)", sp.sqrt(xr - 1) > xr - 3, I.Ropen(1, 5)),
    ("\\sqrt{x-1} > x-3", "[1,5]", sp.sqrt(xr - 1) > xr - 3, I(1, 5)),
    ("\\sqrt{x+3} \\ge x+1", "-3 \\le x \\le 1", sp.sqrt(xr + 3) >= xr + 1, I(-3, 1)),
    ("\\sqrt{x} < 2", "0 < x < 4", sp.sqrt(xr) < 2, I.open(0, 4)),
    ("\\frac{x^2-1}{x-1} > 0", "x > -1", (xr ** 2 - 1) / (xr - 1) > 0, xr > -1),
    ("x \\ge 0", "\\mathbb{R}", xr >= 0, sp.S.Reals),
    ("x^2+1 > 0", "\\mathbb{R}", xr ** 2 + 1 > 0, sp.S.Reals),
]
for g, p, a, b in hand:
    Sa = a if isinstance(a, sp.Set) else sol(a)
    Sb = b if isinstance(b, sp.Set) else sol(b)
    add_pair(g, p, Sa, Sb, "by hand")

if os.environ.get("TKD_SHOW_INEQ"):
    for q in ineq:
        print(q)
pairs += [(g, p, want, src) for g, p, want, src in ineq]
n_plain = len(pairs) - len(ineq)

with tempfile.TemporaryDirectory() as td:
    inp = os.path.join(td, "in.jsonl")
    with open(inp, "w") as f:
        for g, p, _, _ in pairs:
            f.write(json.dumps({"gold": g, "pred": p}) + "\n")
    out = subprocess.run([TKD, "grade", "--jsonl", inp, "--timeout-ms", "5000"], capture_output=True, text=True,
                         timeout=600)
    if out.returncode != 0:
        print(out.stderr)
        sys.exit(1)
    verdicts = [json.loads(l) for l in out.stdout.splitlines()]

assert len(verdicts) == len(pairs), (len(verdicts), len(pairs))
bad = bad_ineq = 0
for i, ((g, p, want, src), v) in enumerate(zip(pairs, verdicts)):
    if v["equal"] != want:
        bad += 1
        bad_ineq += i >= n_plain
        print(f"MISMATCH sympy says {'equal' if want else 'different'}: [{g}] vs [{p}] ({v['reason']}) from {src}")
n_eq = sum(1 for p in pairs[:n_plain] if p[2])
i_eq = sum(1 for p in ineq if p[2])
print(f"expressions: {n_plain} pairs ({n_eq} equal by SymPy, {n_plain - n_eq} different); {bad - bad_ineq} disagreements")
print(f"inequalities: {len(ineq)} pairs ({i_eq} equal by SymPy, {len(ineq) - i_eq} different); {bad_ineq} disagreements")
sys.exit(1 if bad else 0)
