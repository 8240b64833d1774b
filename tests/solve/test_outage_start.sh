#!/usr/bin/env bash
# The teacher is down when solve starts (vLLM still loading its weights) and
# comes up 20 s later: the run checks the endpoint before taking work, waits
# (the progress line says so), then completes every sample with no api_error,
# exit 0. Two ranks, each with its own client.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=100
fixture $N
start_server --start-after 20 --latency-ms 5 # holds the port, refusing connections, for 20 s
job job.json "$work/out"
"$TKD" data import job.json >import.log 2>&1 || { cat import.log; fail "import"; }
t0=$(date +%s.%N)
mpiexec -n 2 "$TKD" solve job.json >run.log 2>&1 || { tail -30 run.log; fail "solve did not wait for the endpoint"; }
dt=$(echo "$(date +%s.%N) - $t0" | bc)
grep -q "all done: $N/$N problems done" run.log || { tail -20 run.log; fail "not all done"; }
grep -q "no endpoint answers (http://127.0.0.1:$port/v1: GET /models: .*refused" run.log ||
  { tail -20 run.log; fail "no warning naming the endpoint and what it answered"; }
grep -Eq "solve: waiting for the endpoint \(down since [0-9:]+ UTC, next check in [0-9]+ s" run.log ||
  { tail -20 run.log; fail "no 'waiting for the endpoint' progress line"; }
grep -q "an endpoint answers again after" run.log || fail "no line saying the endpoint is back"
check out/shards/solve/*.h5 --expected expected.json --samples 1 | tee check.log || fail "store check"
grep -q api_error check.log && fail "api_error samples"
[ "$(echo "$dt >= 19" | bc)" = 1 ] || fail "done in $dt s although the server was down for 20 s"
ok "down at the start for 20 s: waited, then all $N problems done in ${dt%.*} s, no api_error, exit 0"
