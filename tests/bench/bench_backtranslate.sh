#!/usr/bin/env bash
# Back-translation throughput against a slow endpoint. The scripted test
# server answers every request after 1 s (BENCH_BT_LATENCY_MS); 10,000 traces
# (BENCH_BT_N) of 3 tool calls each (solved first by `tkd solve` against the
# same server at no latency) are back-translated: per trace 3 translator
# requests at once, then 3 judge requests, then 1 rephrase, so each trace
# takes at least 3 round trips. With T traces in flight per rank
# (BENCH_BT_TRACES, backtranslate.max_in_flight) and R ranks, the ideal run
# takes ceil(N/(R*T)) x 3 round trips (R*T/3 traces per second when N is a
# multiple of R*T; the endpoint's latency is the only cost); the peer
# is that ideal, and the table shows the measured rate as a fraction of it,
# the requests in flight per rank (mean over the run and peak, sampled at the
# server), and the scaling from 1 to 4 ranks. Target: >= 2,000 requests in
# flight per rank at >= 90% of the ideal; 4 ranks within 90% of linear.
set -euo pipefail
: "${TKD:?}" "${TKD_BUILD_DIR:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/tkd-bench-bt.XXXXXX)
spids=()
trap 'for p in "${spids[@]}"; do kill $p 2>/dev/null; done; rm -rf "$work"' EXIT
cd "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
N=${BENCH_BT_N:-10000} T=${BENCH_BT_TRACES:-1000} LAT=${BENCH_BT_LATENCY_MS:-1000} RANKS=${BENCH_BT_RANKS:-1 2 4}
/usr/bin/python3 "$here/../backtranslate/gen_bt_fixture.py" $N "$work" --bench
server() { # server LATENCY_MS: sets port
  rm -f port
  "$TKD_BUILD_DIR/bin/tkd_testserver" --port 0 --max-seconds 1800 --latency-ms "$1" --script script.jsonl --threads 2 \
    >port 2>/dev/null &
  spids+=($!)
  for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
  port=$(awk '{print $2}' port)
}
stat() { curl -s "http://127.0.0.1:$port/stats" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
job() { # job OUT TRACES
  cat >job.json <<JSON
{"output_dir": "$1", "data": {"sources": [{"path": "problems.jsonl", "name": "t", "format": "bench"}]},
 "teacher": {"model": "m", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false, "max_in_flight": 8192,
             "max_connections_per_endpoint": 8192, "timeout_s": 120},
 "solve": {"max_turns": 5, "max_in_flight": 2048, "tools": ["simplify_expression", "gcd", "solve_equation"]},
 "backtranslate": {"max_in_flight": $2},
 "dist": {"progress_every_s": 600, "lease_max": 256}}
JSON
}
server 0
job "$work/src" 2048
"$TKD" data import job.json >/dev/null 2>&1
mpiexec -n 2 "$TKD" solve job.json >solve.log 2>&1 || { tail solve.log; exit 1; } # its completion merges src/solve.h5
server "$LAT"
echo "$N traces x 3 tool calls, $((LAT)) ms per request, $T traces in flight per rank"
printf '%-6s %10s %10s %11s %9s %14s %14s %9s\n' ranks seconds traces/s ideal/s "% ideal" "in-flight/rank" "peak/rank" scaling
base=
for r in $RANKS; do
  job "$work/out$r" "$T"
  mkdir -p out$r && cp src/problems.h5 src/solve.h5 out$r/
  # the server's in-flight count sampled every 0.2 s while the phase runs
  ( while sleep 0.2; do curl -s "http://127.0.0.1:$port/stats" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['in_flight'])"; done ) >samples$r &
  sampler=$!
  t0=$(date +%s.%N)
  mpiexec -n $r "$TKD" backtranslate job.json >bt$r.out 2>bt$r.log || { tail bt$r.log; exit 1; }
  t1=$(date +%s.%N)
  kill $sampler 2>/dev/null || true
  wait $sampler 2>/dev/null || true
  grep -q "all done: $N/$N traces done" bt$r.log || { tail bt$r.log; exit 1; }
  # the phase's own loop time (rank 0's "N traces in S s" line is per rank; the run is the slowest rank)
  loop=$(sed -nE 's/.*backtranslate: rank [0-9]+: [0-9]+ traces in ([0-9.]+) s.*/\1/p' bt$r.log | sort -g | tail -1)
  out=$(/usr/bin/python3 - "$r" "$loop" "$t0" "$t1" "$N" "$T" "$LAT" "${base:-0}" samples$r 2>rate$r <<'PY'
import sys
r, loop, t0, t1, n, t, lat, base, samples = sys.argv[1:]
r, loop, n, t, lat, base = int(r), float(loop), int(n), int(t), float(lat) / 1000, float(base)
s = [int(x) for x in open(samples) if x.strip().isdigit()]
busy = [x for x in s if x > 0]
mean = sum(busy) / len(busy) / r if busy else 0
peak = max(s) / r if s else 0
rate = n / loop
# each of the R*T slots runs its traces one after another, 3 round trips each:
# the run cannot end before ceil(N / (R*T)) traces x 3 round trips
ideal = n / (-(-n // (r * t)) * 3 * lat)
scaling = rate / (base * r) if base else 1.0
print(f"{r:<6d} {loop:10.1f} {rate:10.1f} {ideal:11.1f} {100 * rate / ideal:8.1f}% {mean:14.0f} {peak:14.0f} {100 * scaling:8.1f}%"
      f"  (wall with startup {float(t1) - float(t0):.1f} s)")
print(f"RATE {rate}", file=sys.stderr)
PY
)
  echo "$out"
  [ -n "$base" ] || base=$(sed -n 's/RATE //p' rate$r)
done
echo "scaling: rate with R ranks / (R x the 1-rank rate); in-flight/rank: mean of the server's count while busy"
