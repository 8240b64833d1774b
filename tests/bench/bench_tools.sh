#!/usr/bin/env bash
# bench_tools: every tool, the same call through tkd's library (direct, warm,
# one process) and through SymPy's functions as the paper's reference
# toolkit calls them (one warm Python process); per-tool speedup and the
# geometric mean, plus the worker pool's round-trip overhead.
set -euo pipefail
root=${TKD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${TKD_BUILD_DIR:-$root/build}/bin/bench_tools
calls=$root/tests/bench/bench_tools.jsonl
tkd_out=$(mktemp)
py_out=$(mktemp)
trap 'rm -f "$tkd_out" "$py_out"' EXIT
"$bin" "$calls" >"$tkd_out"
/usr/bin/python3 "$root/tests/bench/bench_tools.py" "$calls" >"$py_out"
/usr/bin/python3 - "$tkd_out" "$py_out" <<'PY'
import math, sys
tkd = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
py = {l.split("\t")[0]: l.rstrip("\n").split("\t") for l in open(sys.argv[2])}
print("%-32s %12s %12s %10s" % ("tool", "tkd us", "SymPy us", "speedup"))
logs, slower = [], []
for row in tkd:
    if row[0] == "pool_overhead":
        pool = row
        continue
    name, us, st = row[0], float(row[1]), row[2]
    p = py.get(name)
    if not p or p[2] != "ok" or st != "ok":
        print("%-32s %12.1f %12s %10s  (%s)" % (name, us, p[1] if p else "-", "n/a", "tkd " + st + ", sympy " + (p[2] if p else "missing")))
        continue
    s = float(p[1]) / us
    logs.append(math.log(s))
    if s < 1:
        slower.append(name)
    print("%-32s %12.1f %12.1f %9.0fx" % (name, us, float(p[1]), s))
g = math.exp(sum(logs) / len(logs)) if logs else float("nan")
print("%-32s %12s %12s %9.0fx  (%d tools)" % ("geometric mean", "", "", g, len(logs)))
print("tools slower than SymPy: %s" % (", ".join(slower) if slower else "none"))
if "pool" in dir():
    print("worker pool round trip: +%s us per call %s" % (pool[1], pool[2]))
PY
