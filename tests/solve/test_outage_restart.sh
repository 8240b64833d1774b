#!/usr/bin/env bash
# The teacher is killed (kill -9) in the middle of a run and restarted on the
# same port 30 s later: the requests in flight fail with connection resets,
# the client sees every endpoint down, holds them and takes no new work, and
# re-sends them once the server is back. The run completes with every sample
# written exactly once, no api_error, exit 0. Two ranks.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=300
fixture $N
start_server --latency-ms 300 --jitter-ms 100
job job.json "$work/out"
"$TKD" data import job.json >import.log 2>&1 || { cat import.log; fail "import"; }
mpiexec -n 2 "$TKD" solve job.json >run.log 2>&1 &
mpi=$!
for _ in $(seq 300); do
  grep -Eq "solve: [1-9][0-9]* problems solved" run.log && break
  sleep 0.1
done
grep -Eq "solve: [1-9][0-9]* problems solved" run.log || { cat run.log; fail "no progress within 30 s"; }
kill -9 "${spids[0]}"
wait "${spids[0]}" 2>/dev/null || true
t_kill=$(date +%s.%N)
start_server --port "$port" --start-after 30 --latency-ms 20 # the same port, refusing for 30 s
set +e; wait $mpi; rc=$?; set -e
dt=$(echo "$(date +%s.%N) - $t_kill" | bc)
[ $rc = 0 ] || { tail -30 run.log; fail "exit $rc after the restart"; }
grep -q "all done: $N/$N problems done" run.log || { tail -20 run.log; fail "not all done"; }
grep -q "teacher: no endpoint answers" run.log || fail "the outage was not noticed"
grep -Eq "solve: waiting for the endpoint \(down since" run.log || fail "no 'waiting for the endpoint' progress line"
held=$(sed -nE 's/.*answers again after [0-9]+ s; re-sending ([0-9]+) held requests.*/\1/p' run.log | awk '{ s += $1 } END { print s + 0 }')
check out/shards/solve/*.h5 --expected expected.json --samples 1 | tee check.log || fail "store check"
grep -q api_error check.log && fail "api_error samples"
[ "$(echo "$dt >= 29" | bc)" = 1 ] || fail "done $dt s after the kill although the server was down for 30 s"
ok "killed mid-run, back 30 s later: $held held requests re-sent, all $N problems done once, no api_error, exit 0 (${dt%.*} s after the kill)"
