#!/usr/bin/env bash
# Eval-phase throughput (endpoint engine) against the client alone, as
# bench_solve does for solve: a scripted test server (50 ms per reply)
# answers 1,000 problems x 4 samples; `tkd eval` on one rank (one arm) is
# timed at several eval.max_in_flight settings (the arm's max_in_flight the
# same), and the peer is `tkd llm batch` sending the same number of
# independent requests through the same client with the same in-flight
# limit: the ratio is what prompts, grading, the store and the metrics cost
# on top of the network (1.0: nothing).
set -euo pipefail
: "${TKD:?}" "${TKD_BUILD_DIR:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/tkd-bench-eval.XXXXXX)
spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
N=${BENCH_EVAL_N:-1000} K=4
/usr/bin/python3 "$here/../eval/gen_fixture.py" "$work" arm $K $N 1
"$TKD_BUILD_DIR/bin/tkd_testserver" --port 0 --max-seconds 900 --latency-ms 50 --script script.jsonl --threads 2 >port 2>/dev/null &
spid=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
port=$(awk '{print $2}' port)
printf '%-10s %10s %12s %12s %10s %8s\n' in_flight samples/s batch_req/s eval_s batch_s ratio
for inf in 64 512 2048; do
  cat >job.json <<JSON
{"output_dir": "$work/out$inf",
 "teacher": {"model": "m", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false, "max_in_flight": $inf,
             "max_connections_per_endpoint": $inf},
 "eval": {"samples_per_problem": $K, "max_in_flight": $inf, "temperature": 0.6,
          "arms": [{"name": "arm", "model": "m", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false,
                    "max_in_flight": $inf}],
          "benchmarks": [{"name": "mb", "path": "mb.jsonl", "format": "math"}]},
 "dist": {"progress_every_s": 60}}
JSON
  t0=$(date +%s.%N)
  "$TKD" eval job.json >eval.log 2>&1 || { tail eval.log; exit 1; }
  t1=$(date +%s.%N)
  "$TKD" llm batch job.json --requests $((N * K)) --out batch.jsonl >/dev/null 2>&1
  t2=$(date +%s.%N)
  /usr/bin/python3 -c "
s, b, n = $t1 - $t0, $t2 - $t1, $N * $K
print(f'{$inf:<10d} {n / s:10.1f} {n / b:12.1f} {s:12.2f} {b:10.2f} {s / b:8.2f}')"
done
