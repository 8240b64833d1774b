#!/usr/bin/python3
"""Oracle test: SymPy writes the LaTeX and decides equality; tkd grade must agree.

Random expressions (seeded) in x, y with integers, rationals, radicals, pi,
sin/cos/exp/log are printed by sympy.latex in several equal forms (expand,
factor, together, cancel, trigsimp) and against perturbed versions that SymPy
proves different. Every pair goes through `tkd grade --jsonl`; the verdicts
must match SymPy's. Skips (77) without SymPy or the tkd binary.
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
bad = 0
n_eq = sum(1 for p in pairs if p[2])
for (g, p, want, src), v in zip(pairs, verdicts):
    if v["equal"] != want:
        bad += 1
        print(f"MISMATCH sympy says {'equal' if want else 'different'}: [{g}] vs [{p}] ({v['reason']}) from {src}")
print(f"{len(pairs)} pairs ({n_eq} equal by SymPy, {len(pairs) - n_eq} different); {bad} disagreements")
sys.exit(1 if bad else 0)
