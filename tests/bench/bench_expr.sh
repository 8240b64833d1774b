#!/usr/bin/env bash
# bench_expr: the expression core against its peers in the same run:
# SymPy (sympify + str, expand) and raw FLINT (fmpz_poly_pow), as ratios.
set -euo pipefail
root=${TKD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${TKD_BUILD_DIR:-$root/build}/bin/bench_expr
cases=$root/tests/expr/cases.txt
tkd_out=$("$bin" "$cases")
sympy_out=$(/usr/bin/python3 - "$cases" <<'PY'
import sys, time
import sympy
from sympy.parsing.sympy_parser import parse_expr, standard_transformations, convert_xor, factorial_notation
T = standard_transformations + (convert_xor, factorial_notation)
exprs = []
for line in open(sys.argv[1]):
    if line.startswith("#") or "|" not in line:
        continue
    exprs.append(line.split("|")[1].strip())
reps = 3
t0 = time.perf_counter(); ops = 0
for _ in range(reps):
    for s in exprs:
        try:
            str(parse_expr(s, transformations=T, evaluate=False))
        except Exception:
            pass
        ops += 1
print("parse_print %.2f" % ((time.perf_counter() - t0) * 1e6 / ops))
x = sympy.Symbol("x")
for d in (100, 500, 1000):
    m = 2
    t0 = time.perf_counter()
    for _ in range(m):
        sympy.expand((x + 1) ** d)
    print("expand_%d %.2f" % (d, (time.perf_counter() - t0) * 1e6 / m))
PY
)
get() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
printf '%-22s %14s %14s %14s %10s\n' operation "tkd us/op" "sympy us/op" "flint us/op" "sympy/tkd"
for op in parse_print expand_100 expand_500 expand_1000; do
  t=$(get "$tkd_out" "$op"); s=$(get "$sympy_out" "$op"); f=$(get "$tkd_out" "flint_pow_${op#expand_}")
  [ "$op" = parse_print ] && f="-"
  printf '%-22s %14s %14s %14s %10s\n' "$op" "$t" "$s" "${f:--}" "$(awk -v a="$s" -v b="$t" 'BEGIN { printf "%.1fx", a / b }')"
done
