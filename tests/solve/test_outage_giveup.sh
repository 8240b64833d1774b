#!/usr/bin/env bash
# The teacher dies mid-run for good: with teacher.wait_for_endpoint_s = 8 the
# run gives up about 8 s after the endpoint went down, says which endpoint
# answered what, records nothing as api_error and exits 3 (resumable); a run
# started while it is still down takes no work and exits 3 after the wait. A
# re-run with the server back completes every sample exactly once (the
# shards of both runs, and the merged store). Then a server that refuses the
# API key: the check before the phase fails it at once (exit 2), no waiting.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=200
WAIT=8
fixture $N
start_server --latency-ms 200 --jitter-ms 100
job job.json "$work/out"
"$TKD" data import job.json >import.log 2>&1 || { cat import.log; fail "import"; }
mpiexec -n 2 "$TKD" solve job.json --set teacher.wait_for_endpoint_s=$WAIT >run1.log 2>&1 &
mpi=$!
for _ in $(seq 300); do
  grep -Eq "solve: [1-9][0-9]* problems solved" run1.log && break
  sleep 0.1
done
grep -Eq "solve: [1-9][0-9]* problems solved" run1.log || { cat run1.log; fail "no progress within 30 s"; }
kill -9 "${spids[0]}"
wait "${spids[0]}" 2>/dev/null || true
t_kill=$(date +%s.%N)
start_server --port "$port" --start-after 3600 # keeps the port, refusing connections
down=${spids[-1]}
set +e; wait $mpi; rc=$?; set -e
dt=$(echo "$(date +%s.%N) - $t_kill" | bc)
[ $rc = 3 ] || { tail -30 run1.log; fail "exit $rc, expected 3 (resumable)"; }
[ -e out/solve.complete.json ] && fail "the phase was marked complete after giving up"
[ "$(echo "$dt <= $WAIT + 7" | bc)" = 1 ] || fail "exit after $dt s, the configured wait is $WAIT s"
grep -q "no teacher endpoint answered for [0-9]* s (teacher.wait_for_endpoint_s = $WAIT): http://127.0.0.1:$port/v1: .*refused" run1.log ||
  { tail -20 run1.log; fail "no error naming the endpoint and what it answered"; }
/usr/bin/python3 - out/shards/solve/*.h5 <<'PY' || fail "the first run's shards"
import sys, collections, h5py
keys = collections.Counter()
for p in sys.argv[1:]:
    with h5py.File(p, "r", swmr=True) as f:
        for r in f["records"][:]:
            keys[(int(r["pid"]), int(r["sample"]))] += 1
            assert int(r["status"]) != 7, f"{p}: an api_error record"
assert all(v == 1 for v in keys.values()), "a sample written twice"
print(f"first run: {len(keys)} samples written, none api_error")
PY
# still down when a run starts: it takes no work and gives up after the wait, exit 3
nshards=$(ls out/shards/solve | wc -l)
t0=$(date +%s.%N)
set +e; "$TKD" solve job.json --set teacher.wait_for_endpoint_s=3 >run1b.log 2>&1; rc=$?; set -e
dt0=$(echo "$(date +%s.%N) - $t0" | bc)
[ $rc = 3 ] || { cat run1b.log; fail "down at the start: exit $rc, expected 3"; }
[ "$(echo "$dt0 <= 3 + 5" | bc)" = 1 ] || fail "down at the start: exit after $dt0 s, the configured wait is 3 s"
grep -q "no teacher endpoint answered for 3 s" run1b.log || { cat run1b.log; fail "down at the start: no error"; }
[ "$(ls out/shards/solve | wc -l)" = "$nshards" ] || fail "down at the start: a shard was left"
ok "down at the start for good: exit 3 after ${dt0%.*} s (wait 3 s), no work taken"
kill "$down"
start_server --port "$port" --latency-ms 5
mpiexec -n 2 "$TKD" solve job.json >run2.log 2>&1 || { tail -30 run2.log; fail "the re-run failed"; }
grep -Eq "all done: $N/$N problems done, [1-9][0-9]* before this run" run2.log ||
  { tail -20 run2.log; fail "the re-run did not resume"; }
check out/shards/solve/*.h5 --expected expected.json --samples 1 | tee check.log || fail "shards: not every sample exactly once"
[ -s out/solve.complete.json ] || fail "the re-run did not mark the phase complete"
check out/solve.h5 --expected expected.json --samples 1 >/dev/null || fail "merged store"
ok "down for good: exit 3 ${dt%.*} s after the kill (wait $WAIT s), nothing recorded as api_error; the re-run completed every sample once"

# a refused key is a configuration error: no wait, exit 2
export TKD_OUTAGE_KEY="sk-outage-$RANDOM"
start_server --require-key-env TKD_OUTAGE_KEY
job job2.json "$work/out2"
"$TKD" data import job2.json >/dev/null 2>&1
t0=$(date +%s)
set +e; "$TKD" solve job2.json >run3.log 2>&1; rc=$?; set -e
[ $rc = 2 ] || { cat run3.log; fail "exit $rc for a refused key, expected 2"; }
grep -q "the teacher refuses a minimal request: .*HTTP 401" run3.log || { cat run3.log; fail "no message about the key"; }
[ $(($(date +%s) - t0)) -le 10 ] || fail "took too long to refuse"
ok "a refused API key: exit 2 at once, with the reason"
