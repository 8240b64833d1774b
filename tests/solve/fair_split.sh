#!/usr/bin/env bash
# Fair leases: how `tkd solve` with default settings (solve.max_in_flight,
# dist.*) splits jobs of 300, 700 and 3,000 scripted problems over 2 and 4
# ranks against the test server (100 ms per reply, +-20 ms). Prints one row
# per run: the problems each rank did and the fewest and most as a multiple of
# the equal share. Exits 1 when a rank is outside 0.5..1.5x its share.
# Used by tests/solve/test_fair.sh and tests/bench/bench_dist.sh.
#   fair_split.sh [SIZES] [RANKS]      (default "300 700 3000" "2 4")
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sizes=${1:-300 700 3000}
ranks=${2:-2 4}
max=0
for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done
fixture "$max"
start_server --latency-ms 100 --jitter-ms 20
printf '%-9s %5s %9s  %-28s %7s %7s\n' problems ranks seconds "problems per rank" fewest most
bad=0
for n in $sizes; do
  head -n "$n" problems.jsonl >p$n.jsonl
  for np in $ranks; do
    cat >job$n.$np.json <<JSON
{"output_dir": "$work/out$n.$np",
 "data": {"sources": [{"path": "$work/p$n.jsonl", "name": "t", "format": "bench"}]},
 "teacher": {"model": "test-model", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false},
 "solve": {"tools": ["simplify_expression", "gcd", "evaluate"]}}
JSON
    "$TKD" data import job$n.$np.json >import.log 2>&1 || { cat import.log; fail "import of $n problems"; }
    t0=$(date +%s.%N)
    mpiexec -n "$np" "$TKD" solve job$n.$np.json >run$n.$np.log 2>&1 ||
      { tail -20 run$n.$np.log; fail "$n problems on $np ranks: tkd solve failed"; }
    t1=$(date +%s.%N)
    grep -q "all done: $n/$n problems done, 0 before this run; no duplicates" run$n.$np.log ||
      { tail -20 run$n.$np.log; fail "$n problems on $np ranks: not all done once"; }
    /usr/bin/python3 - "$n" "$np" "$t0" "$t1" run$n.$np.log <<'PY' || bad=1
import re, sys
n, np, t0, t1, log = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
per = {}
for m in re.finditer(r"solve: rank (\d+): (\d+) problems", open(log).read()):
    per[int(m.group(1))] = int(m.group(2))
counts = [per.get(r, 0) for r in range(np)]
share = n / np
lo, hi = min(counts) / share, max(counts) / share
print(f"{n:<9d} {np:5d} {t1 - t0:9.2f}  {' '.join(map(str, counts)):<28s} {lo:6.2f}x {hi:6.2f}x")
sys.exit(0 if sum(counts) == n and lo >= 0.5 and hi <= 1.5 else 1)
PY
  done
done
[ $bad = 0 ] || fail "a rank did less than 0.5x or more than 1.5x its equal share of the problems"
