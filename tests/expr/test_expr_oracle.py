#!/usr/bin/python3
"""Oracle test for tkd's expression core: every case in cases.txt is run
through `tkd expr OP EXPR [ARG]`, tkd's printed answer is read back with
SymPy's sympify, and compared INSIDE SymPy with SymPy's own answer
(simplify(tkd - sympy) == 0, or a numeric check for `n`). Forms are checked
too where they matter: `expand` output must already be expanded, `factor`
output must be left alone by factor().

Run: TKD=build/bin/tkd /usr/bin/python3 tests/expr/test_expr_oracle.py [-v]
Exit 77 (skip) when SymPy or the tkd binary is missing."""
import os
import subprocess
import sys

try:
    import sympy
    from sympy.parsing.sympy_parser import (convert_xor, factorial_notation, parse_expr,
                                            standard_transformations)
except ImportError:
    print("SKIP: SymPy not installed")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
TKD = os.environ.get("TKD") or os.path.join(os.environ.get("TKD_BUILD_DIR", "build"), "bin", "tkd")
if not os.path.exists(TKD):
    print(f"SKIP: no tkd binary at {TKD}")
    sys.exit(77)

VERBOSE = "-v" in sys.argv
TRANSFORMS = standard_transformations + (convert_xor, factorial_notation)
NAMES = {"ln": sympy.log, "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan,
         "E": sympy.E, "I": sympy.I, "pi": sympy.pi, "oo": sympy.oo, "gamma": sympy.gamma}


def sym(text):
    return parse_expr(text, local_dict=dict(NAMES), transformations=TRANSFORMS)


def run_tkd(op, expr, arg):
    cmd = [TKD, "expr", op, expr]
    if op == "subs":
        var, val = arg.split("=", 1)
        cmd += [var.strip(), val.strip()]
    elif arg:
        cmd.append(arg)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def same(a, b):
    """a and b (SymPy objects) are equal as values."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, sympy.MatrixBase) or isinstance(b, sympy.MatrixBase):
        return (isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase) and a.shape == b.shape
                and all(same(x, y) for x, y in zip(a, b)))
    d = sympy.simplify(sympy.expand(a - b))
    if d == 0:
        return True
    # last resort for radicals SymPy's simplify leaves: a numeric check at a point
    free = sorted(d.free_symbols, key=str)
    vals = {s: sympy.Rational(3 + i, 7 + 2 * i) for i, s in enumerate(free)}
    v = complex(sympy.N(d.subs(vals), 30))
    return abs(v) < 1e-20


def check(op, expr, arg):
    rc, out, err = run_tkd(op, expr, arg)
    if rc != 0:
        return False, f"tkd failed: {err}"
    got = sym(out) if op != "iszero" else None
    e = sym(expr)
    # tkd reads decimals exactly (0.1 is 1/10); so does the oracle
    if not isinstance(e, (list, tuple)) and e.has(sympy.Float):
        e = sympy.nsimplify(e, rational=True)
    if op in ("print", "eval"):
        want = e
    elif op == "n":
        want = sympy.N(e.doit(), 30)
        w, g = complex(want), complex(got)
        ok = abs(w - g) <= 1e-12 * max(1.0, abs(w))
        return ok, f"tkd {out} vs sympy {want}"
    elif op == "expand":
        want = sympy.expand(e)
        if e.is_polynomial() and sympy.expand(got) - got != 0:
            return False, f"not expanded: {out}"
    elif op == "cancel":
        want = sympy.cancel(e)
    elif op == "factor":
        want = sympy.factor(e)
        if sympy.factor(got) != want:
            return False, f"form: factor(tkd) = {sympy.factor(got)} but sympy factor = {want}"
    elif op == "simplify":
        want = sympy.simplify(e) if not isinstance(e, (list, tuple)) else [sympy.simplify(x) for x in e]
    elif op == "diff":
        want = sympy.diff(e, sympy.Symbol(arg))
    elif op == "coeffs":
        want = list(reversed(sympy.Poly(e, sympy.Symbol(arg)).all_coeffs()))
        got = list(got)
    elif op == "iszero":
        truth = "yes" if sympy.simplify(e) == 0 else "no"
        if truth != arg:
            return False, f"the case is wrong: SymPy says {truth}"
        return out == arg, f"tkd says {out}, SymPy {truth}"
    elif op == "roots":
        # distinct roots in SymPy's order (Poly.all_roots), compared numerically
        allr = sympy.Poly(e, sympy.Symbol(arg)).all_roots()
        want = []
        for r in allr:
            if not want or abs(complex(sympy.N(r - want[-1], 30))) > 1e-20:
                want.append(r)
        got = list(got)
        if len(got) != len(want):
            return False, f"tkd {out} vs sympy {want}"
        ok = all(abs(complex(sympy.N(g, 30)) - complex(sympy.N(w, 30))) < 1e-15 for g, w in zip(got, want))
        return ok, f"tkd {out} vs sympy {want}"
    elif op == "subs":
        var, val = arg.split("=", 1)
        want = e.subs(sympy.Symbol(var.strip()), sym(val))
        if hasattr(want, "doit"):
            want, got = want.doit(), got.doit()
    else:
        return False, f"unknown op {op}"
    return same(got, want), f"tkd {out!r} vs sympy {want}"


def main():
    cases = []
    with open(os.path.join(HERE, "cases.txt"), encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            op, expr = parts[0], parts[1] if len(parts) > 1 else ""
            arg = parts[2] if len(parts) > 2 else ""
            cases.append((ln, op, expr, arg))
    passed = failed = 0
    for ln, op, expr, arg in cases:
        try:
            if op == "error":
                rc, out, err = run_tkd("simplify", expr, "")
                ok = rc != 0 and arg.lower() in err.lower() and "error" in err
                why = f"rc={rc} out={out!r} err={err!r}"
            else:
                ok, why = check(op, expr, arg)
        except Exception as ex:  # a SymPy parse failure of tkd's output is a failure
            ok, why = False, f"exception: {type(ex).__name__}: {ex}"
        if ok:
            passed += 1
            if VERBOSE:
                print(f"ok   line {ln}: {op} {expr} {arg}")
        else:
            failed += 1
            print(f"FAIL line {ln}: {op} | {expr} | {arg}: {why}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
