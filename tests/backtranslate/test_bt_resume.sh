#!/usr/bin/env bash
# Faults, crashes and stops on 1,000 scripted traces:
#  (f) 10% of each fault kind of the test server (429, 5xx, stalls,
#      malformed and truncated bodies, dropped connections, 4xx): every trace
#      ends in a recorded state (its scripted status, or api_error / length
#      with the failed request recorded);
#  (a) kill -9 of one rank (mpiexec -n 4) mid-run, then a re-run;
#  (b) SIGTERM to the whole job (mpiexec -n 2) mid-run with a short grace
#      period, ranks exit 3, then a re-run.
# After each re-run the merged store holds every trace exactly once with its
# status (checked with h5py), nothing done before is redone, and the re-run
# is answered from the response cache for what was asked before.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=1000
solve_store $N
export OMPI_MCA_odls_base_sigkill_timeout=3

# (f) faults
start_server --fault-all 0.1 --latency-ms 5 --jitter-ms 5 --stall-ms 3000 --retry-after 1 --threads 2 --seed 7
job jobf.json "$work/outf"
sed -i 's/"timeout_s": 2/"timeout_s": 1, "max_retries": 12, "retry_budget": 4/' jobf.json
bt_out outf
set +e; mpiexec -n 2 "$TKD" backtranslate jobf.json >runf.out 2>runf.log; rc=$?; set -e
grep -q "all done: $N/$N traces done" runf.log || { tail -20 runf.log; fail "(f) not all done"; }
check outf/shards/backtranslate/*.h5 --expected expected.json --faults | tee checkf.log || fail "(f) store check"
grep -Eq "(api_error|length|failed) [1-9]" checkf.log || fail "(f) no failed trace although faults were injected"
# traces that ended api_error are not done: the phase says how many and exits 3 (a re-run redoes them)
napi=$(sed -nE 's/.*status table: .*api_error ([0-9]+).*/\1/p' checkf.log)
if [ -n "$napi" ]; then
  [ $rc = 3 ] || { tail -20 runf.log; fail "(f) exit $rc with $napi api_error traces, expected 3"; }
  grep -q "backtranslate: $napi items ended with a transient status" runf.log || { tail runf.log; fail "(f) no count of the api_error traces"; }
else
  [ $rc = 0 ] || fail "(f) exit $rc"
fi
ok "(f) 10% of each fault kind: every trace recorded once, in its scripted status or api_error/length/failed (exit $rc, ${napi:-0} api_error left to redo)"

# (a) kill -9 of rank 2 mid-run (50 ms per request: the run lasts a few seconds)
start_server --latency-ms 50 --jitter-ms 25
BTINFL=16 job joba.json "$work/outa"
bt_out outa
wait_done() { # until a progress line shows finished traces
  for _ in $(seq 300); do
    grep -Eq "backtranslate: [1-9][0-9]* traces done" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$1"; fail "no progress within 30 s"
}
: >runa1.log
mpiexec -n 4 "$TKD" backtranslate joba.json >runa1.out 2>runa1.log &
mpi=$!
wait_done runa1.log
pid=$(sed -nE 's/.*backtranslate: rank 2 \(pid ([0-9]+)\).*/\1/p' runa1.log)
[ -n "$pid" ] || { cat runa1.log; fail "(a) rank 2 did not log its pid"; }
kill -9 "$pid"
set +e; wait $mpi; rc=$?; set -e
[ $rc -ne 0 ] || fail "(a) mpiexec exited 0 although rank 2 was killed"
mpiexec -n 4 "$TKD" backtranslate joba.json >runa2.out 2>runa2.log || { tail -30 runa2.log; fail "(a) the re-run failed"; }
grep -Eq "all done: $N/$N traces done, [1-9][0-9]* before this run" runa2.log ||
  { tail -20 runa2.log; fail "(a) the re-run did not skip what was done"; }
grep -q "backtranslate: complete: .* merged into" runa2.log || { tail runa2.log; fail "(a) no completion merge"; }
"$TKD" store verify outa/backtranslate.h5 >/dev/null || fail "(a) verify"
check outa/backtranslate.h5 --expected expected.json || fail "(a) merged store"
ok "(a) kill -9 of rank 2 (mpiexec rc $rc): the re-run completes; every trace once with its status"

# (b) SIGTERM to mpiexec, grace 0.3 s
GRACE=0.3 BTINFL=16 job jobb.json "$work/outb" '"seed": 2'
bt_out outb
: >runb1.log
mpiexec -n 2 "$TKD" backtranslate jobb.json >runb1.out 2>runb1.log &
mpi=$!
wait_done runb1.log
kill -TERM $mpi
set +e; wait $mpi; rc=$?; set -e
for r in 0 1; do
  grep -q "tkd\[r$r\] info: backtranslate: stopped early; exit 3" runb1.log || { cat runb1.log; fail "(b) rank $r did not stop with exit 3"; }
done
mpiexec -n 2 "$TKD" backtranslate jobb.json >runb2.out 2>runb2.log || { tail -30 runb2.log; fail "(b) the re-run failed"; }
grep -Eq "all done: $N/$N traces done, [1-9][0-9]* before this run" runb2.log ||
  { tail -20 runb2.log; fail "(b) the re-run did not skip what was done"; }
grep -q "backtranslate: complete: .*, 0 duplicates dropped)" runb2.log || { grep "complete:" runb2.log; fail "(b) a finished trace was redone"; }
check outb/backtranslate.h5 --expected expected.json || fail "(b) merged store"
ok "(b) SIGTERM to mpiexec (rc $rc): ranks exited 3; the re-run completes, every trace once, nothing redone"
