#!/usr/bin/env bash
# Solve-phase throughput against the teacher client alone. A scripted test
# server (50 ms per reply) answers 2,000 problems (3 to 5 requests each, tool
# calls between turns); `tkd solve` on one rank is timed at several
# solve.max_in_flight settings (teacher.max_in_flight the same), and the peer
# is `tkd llm batch` sending the same number of independent requests through
# the same client with the same in-flight limit: the ratio is what the agent
# loop, the tools and the store cost on top of the network (1.0: nothing).
set -euo pipefail
: "${TKD:?}" "${TKD_BUILD_DIR:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/tkd-bench-solve.XXXXXX)
spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
N=${BENCH_SOLVE_N:-2000}
/usr/bin/python3 "$here/../solve/gen_fixture.py" $N "$work"
"$TKD_BUILD_DIR/bin/tkd_testserver" --port 0 --max-seconds 900 --latency-ms 50 --script script.jsonl --threads 2 >port 2>/dev/null &
spid=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
port=$(awk '{print $2}' port)
stat() { curl -s "http://127.0.0.1:$port/stats" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
printf '%-10s %10s %12s %12s %12s %12s %8s\n' in_flight problems/s requests/s server_peak batch_req/s solve_s batch_s
for inf in 64 512 2048; do
  cat >job.json <<JSON
{"output_dir": "$work/out$inf", "data": {"sources": [{"path": "problems.jsonl", "name": "t", "format": "bench"}]},
 "teacher": {"model": "m", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false, "max_in_flight": $inf,
             "max_connections_per_endpoint": $inf},
 "solve": {"max_turns": 5, "max_in_flight": $inf, "tools": ["simplify_expression", "gcd", "evaluate"]},
 "dist": {"progress_every_s": 60}}
JSON
  "$TKD" data import job.json >/dev/null 2>&1
  r0=$(stat requests)
  t0=$(date +%s.%N)
  "$TKD" solve job.json >solve.log 2>&1 || { tail solve.log; exit 1; }
  t1=$(date +%s.%N)
  r1=$(stat requests)
  peak=$(stat max_in_flight)
  nreq=$((r1 - r0))
  t2=$(date +%s.%N)
  "$TKD" llm batch job.json --requests $nreq --out batch.jsonl >/dev/null 2>&1
  t3=$(date +%s.%N)
  /usr/bin/python3 -c "
s, b = $t1 - $t0, $t3 - $t2
print(f'{$inf:<10d} {$N / s:10.1f} {$nreq / s:12.1f} {$peak:12d} {$nreq / b:12.1f} {s:12.2f} {b:8.2f}   ratio {s / b:.2f}')"
done
