#!/usr/bin/env bash
# Resume after a crash and after a stop, on 1,000 scripted problems:
#  (a) kill -9 of one rank (mpiexec -n 4, two samples per problem) mid-run;
#  (b) SIGTERM to the whole job (mpiexec -n 2) mid-run (24 samples in flight
#      per rank, to last past mpirun's 3 s before it signals the ranks), with
#      a short grace period, so that some problems are abandoned half-way.
#  (c) kill -9 of one rank while the others go on (no abort): the
#      coordinator re-issues its leases and the same run completes.
# Each time the run completes and the merged store holds every sample of
# every problem exactly once with its status (checked with h5py). The
# response cache keeps answered requests from being asked again: the re-run
# answers from the cache, and the server saw no body twice beyond the
# requests that were on the wire when the run died.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=1000
fixture $N
start_server --latency-ms 100 --jitter-ms 50
export OMPI_MCA_odls_base_sigkill_timeout=3
INFL=32
runbg() { # runbg NP JOB: mpiexec in the background; sets mpi
  mpiexec -n "$1" "$TKD" solve "$2" >run.log 2>&1 &
  mpi=$!
}
wait_solved() { # until a progress line shows solved problems
  for _ in $(seq 300); do
    grep -Eq "solve: [1-9][0-9]* problems solved" run.log 2>/dev/null && return 0
    sleep 0.1
  done
  cat run.log
  fail "no progress within 30 s"
}
dups() { stats | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print(s['requests'] - s['distinct_bodies'])"; }
hits() { sed -nE 's/.* ([0-9]+) cache hits; tools.*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }

# (a) kill -9 of rank 2
SAMPLES=2 job joba.json "$work/outa" '"seed": 1'
sed -i "s/\"max_in_flight\": 64/\"max_in_flight\": $INFL/" joba.json
"$TKD" data import joba.json >/dev/null 2>&1
d0=$(dups)
runbg 4 joba.json
wait_solved
pid=$(sed -nE 's/.*solve: rank 2 \(pid ([0-9]+)\).*/\1/p' run.log)
[ -n "$pid" ] || { cat run.log; fail "(a) rank 2 did not log its pid"; }
kill -9 "$pid"
set +e; wait $mpi; rc=$?; set -e
[ $rc -ne 0 ] || fail "(a) mpiexec exited 0 although rank 2 was killed"
cp run.log runa1.log
mpiexec -n 4 "$TKD" solve joba.json >runa2.log 2>&1 || { tail -30 runa2.log; fail "(a) the re-run failed"; }
grep -Eq "all done: $N/$N problems done, [1-9][0-9]* before this run" runa2.log ||
  { tail -20 runa2.log; fail "(a) the re-run did not skip what was done"; }
"$TKD" store merge outa/shards/solve outa/solve.h5 >mergea.log 2>&1 || { cat mergea.log; fail "(a) merge"; }
"$TKD" store verify outa/solve.h5 >/dev/null || fail "(a) verify"
check outa/solve.h5 --expected expected.json --samples 2 || fail "(a) merged store"
da=$(($(dups) - d0)) ha=$(hits runa2.log)
[ "$da" -le $((4 * INFL)) ] || fail "(a) $da request bodies were asked twice (more than the $((4 * INFL)) on the wire)"
[ "$ha" -gt 0 ] || fail "(a) the re-run got nothing from the cache"
ok "(a) kill -9 of rank 2 (mpiexec rc $rc): re-run complete, every sample once; $ha answers from the cache, $da bodies asked again (<= $((4 * INFL)) on the wire at the kill)"

# (b) SIGTERM to mpiexec, grace 0.3 s (another seed: other bodies than (a)'s)
GRACE=0.3 job jobb.json "$work/outb" '"seed": 2'
sed -i "s/\"max_in_flight\": 64/\"max_in_flight\": $INFL/; s/\"max_in_flight\": 512/\"max_in_flight\": 24/" jobb.json
"$TKD" data import jobb.json >/dev/null 2>&1
d0=$(dups)
runbg 2 jobb.json
wait_solved
kill -TERM $mpi
set +e; wait $mpi; rc=$?; set -e
cp run.log runb1.log
for r in 0 1; do
  grep -q "tkd\[r$r\] info: solve: stopped early; exit 3" runb1.log || { cat runb1.log; fail "(b) rank $r did not stop with exit 3"; }
done
# requests on the wire when each rank left its loop (its last progress line)
wire=$(for r in 0 1; do grep "tkd\[r$r\] info: solve: .* problems solved" runb1.log | tail -1; done |
  sed -nE 's/.* samples, ([0-9]+) requests.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
mpiexec -n 2 "$TKD" solve jobb.json >runb2.log 2>&1 || { tail -30 runb2.log; fail "(b) the re-run failed"; }
grep -Eq "all done: $N/$N problems done, [1-9][0-9]* before this run" runb2.log ||
  { tail -20 runb2.log; fail "(b) the re-run did not skip what was done"; }
"$TKD" store merge outb/shards/solve outb/solve.h5 >mergeb.log 2>&1 || { cat mergeb.log; fail "(b) merge"; }
grep -q "0 duplicates" mergeb.log || { cat mergeb.log; fail "(b) a finished problem was redone"; }
check outb/solve.h5 --expected expected.json --samples 1 || fail "(b) merged store"
db=$(($(dups) - d0)) hb=$(hits runb2.log)
[ "$db" -le "$wire" ] || fail "(b) $db request bodies asked twice, but only $wire were on the wire at the stop"
[ "$hb" -gt 0 ] || fail "(b) the re-run got nothing from the cache"
ok "(b) SIGTERM to mpiexec (rc $rc): ranks exited 3; re-run complete, every sample once, nothing redone; $hb answers from the cache, $db bodies asked again (<= $wire on the wire at the stop)"

# (c) kill -9 of rank 1 while the others go on (mpirun told not to abort):
# the coordinator re-issues its leases after dist.lease_timeout_s and the run
# completes by itself; the merged store holds every sample once
SAMPLES=1 GRACE=1 job jobc.json "$work/outc" '"seed": 3'
sed -i "s/\"max_in_flight\": 64/\"max_in_flight\": $INFL/; s/\"lease_timeout_s\": 5/\"lease_timeout_s\": 2/" jobc.json
"$TKD" data import jobc.json >/dev/null 2>&1
OMPI_MCA_orte_abort_on_non_zero_status=0 runbg 3 jobc.json
wait_solved
pid=$(sed -nE 's/.*solve: rank 1 \(pid ([0-9]+)\).*/\1/p' run.log)
[ -n "$pid" ] || { cat run.log; fail "(c) rank 1 did not log its pid"; }
kill -9 "$pid"
# the surviving ranks finish and exit; Open MPI's mpiexec (abort disabled) may
# then wait forever for the dead rank, so it is ended once they are done
for _ in $(seq 600); do
  grep -q "solve: all done: $N/$N problems done" run.log && break
  sleep 0.1
done
for _ in $(seq 20); do kill -0 $mpi 2>/dev/null || break; sleep 0.1; done
kill $mpi 2>/dev/null || true
set +e; wait $mpi; rc=$?; set -e
cp run.log runc.log
grep -Eq "solve: finished $N/$N done" runc.log || { tail -30 runc.log; fail "(c) the run did not complete without rank 1"; }
grep -Eq "[1-9][0-9]* re-issued" runc.log || { tail -30 runc.log; fail "(c) nothing was re-issued"; }
"$TKD" store merge outc/shards/solve outc/solve.h5 >mergec.log 2>&1 || { cat mergec.log; fail "(c) merge"; }
check outc/solve.h5 --expected expected.json --samples 1 || fail "(c) merged store"
ok "(c) kill -9 of rank 1, the others go on (mpiexec rc $rc): its leases re-issued, every sample once"
