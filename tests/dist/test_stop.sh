#!/usr/bin/env bash
# The stop protocol under mpiexec, on one output folder, each run resuming the
# last:
#  (a) SIGTERM to mpiexec (-n 2): Open MPI's mpirun waits odls_base_sigkill_timeout
#      seconds, sends SIGTERM to the ranks and SIGKILL as many seconds later; with
#      that timeout above dist.grace_s every rank exits 3 within the grace period
#      and keeps what it completed. (mpiexec itself reports 1 after a SIGTERM.)
#  (b) SIGUSR1 to mpiexec (-n 4), which forwards it: items in flight are longer
#      than dist.grace_s, so they are abandoned when the grace period ends; every
#      rank says it exits 3 and mpiexec exits 3. (mpirun kills the ranks still
#      leaving as soon as the first one exits non-zero, after MPI_Finalize: their
#      shards are closed by then, but their own exit status may be SIGKILL.)
#  (c) SIGUSR1 to one rank only (-n 4): the coordinator tells every rank to stop;
#      with orte_abort_on_non_zero_status=0 (so mpirun kills nobody) every rank's
#      exit status is 3 (mpiexec then reports 0).
#  (d) a re-run finishes; the merged store holds every item exactly once and no
#      completed record was redone (merge drops no duplicates).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=3000
T=8 # odls_base_sigkill_timeout for (a)
export GRACE=3
job "$work/job.json" $N '"min_ms": 50, "max_ms": 150'
cd "$work"

# run NP SETS...: start ranks behind a wrapper that records each rank's exit
# status and its tkd pid (the wrapper ignores the stop signals; tkd handles them).
run() {
  local np=$1
  shift
  rm -f rc.* pid.*
  mpiexec -n "$np" bash -c 'trap "" TERM USR1 INT
    r=${OMPI_COMM_WORLD_RANK:-0}
    "$0" testwork job.json "$@" & p=$!
    echo $p > pid.$r
    wait $p; c=$?; echo $c > rc.$r; exit $c' "$TKD" "$@" >"run.log" 2>&1 &
  mpi=$!
}
wait_records() { # wait until the shards hold some records
  for _ in $(seq 100); do
    grep -q "done (" run.log 2>/dev/null && return 0
    sleep 0.1
  done
  cat run.log
  fail "no progress within 10 s"
}
wait_started() { # every rank has its signal handlers once rank 0 logs the item count
  for _ in $(seq 200); do
    grep -q "items from" run.log 2>/dev/null && return 0
    sleep 0.1
  done
  cat run.log
  fail "not started within 20 s"
}
ranks_exited() { # ranks_exited NP CODE
  for r in $(seq 0 $(($1 - 1))); do
    [ -e rc.$r ] || { cat run.log; fail "rank $r left no exit status (killed?)"; }
    [ "$(cat rc.$r)" = "$2" ] || { cat run.log; fail "rank $r exited $(cat rc.$r), expected $2"; }
  done
}
ranks_said() { # ranks_said NP: every rank logged its exit 3; exit statuses left are 3
  for r in $(seq 0 $(($1 - 1))); do
    grep -q "tkd\[r$r\] info: testwork: stopped early; exit 3" run.log || { cat run.log; fail "rank $r did not stop with 3"; }
    [ ! -e rc.$r ] || [ "$(cat rc.$r)" = 3 ] || { cat run.log; fail "rank $r exited $(cat rc.$r)"; }
  done
}
# seconds between a rank's stop and its exit line, from the log's HH:MM:SS stamps
stop_secs() {
  awk -v r="$1" 'function s(t) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    $2 == "tkd[r" r "]" && /dist: stopping on/ { t0 = s($1) }
    $2 == "tkd[r" r "]" && /stopped early; exit 3/ { print s($1) - t0 }' run.log
}
stopped_at() { sed -nE 's/.*testwork: stopped at ([0-9]+)\/.*/\1/p' run.log | tail -1; }

# (a)
OMPI_MCA_odls_base_sigkill_timeout=$T run 2
wait_records
sleep 1
t0=$(date +%s.%N)
echo "$(date +%T.%N) SIGTERM to mpiexec" >>run.log
kill -TERM $mpi
set +e; wait $mpi; rc=$?; set -e
dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
ranks_exited 2 3
for r in 0 1; do
  [ "$(stop_secs $r)" -le $GRACE ] || { cat run.log; fail "(a) rank $r took $(stop_secs $r) s to stop (grace $GRACE s)"; }
done
# ranks get SIGTERM T s after mpiexec and SIGKILL at 2T (their rc files prove they were not
# killed); mpiexec itself needs ~2 s more to tear down
awk -v d="$dt" -v t=$T 'BEGIN { exit !(d < 2 * t + 4) }' || fail "(a) took $dt s after SIGTERM (SIGKILL comes at $((2 * T)) s)"
grep -Eq "tkd\[r0\] info: testwork: [0-9]+/$N done \([0-9.]+%\), [0-9.]+ items/s, ETA [0-9hms?]+, ranks 2/2 alive" run.log ||
  { cat run.log; fail "(a) no progress line of the documented shape"; }
done_a=$(stopped_at)
[ -n "$done_a" ] || { cat run.log; fail "(a) no 'stopped at' line"; }
have=$(check count out/shards/test/*.h5)
[ "$have" -ge "$done_a" ] || fail "(a) the coordinator counted $done_a items done, the shards hold $have records"
ok "(a) SIGTERM to mpiexec (its rc $rc): both ranks stopped within the grace period and exited 3; mpiexec gone after $dt s; $have records kept"

# (b)
run 4 --set testwork.min_ms=4000 --set testwork.max_ms=6000 --set dist.grace_s=1
wait_started
sleep 0.5
t0=$(date +%s.%N)
kill -USR1 $mpi
set +e; wait $mpi; rc=$?; set -e
dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
ranks_said 4
[ $rc -eq 3 ] || { cat run.log; fail "(b) mpiexec exited $rc, expected 3"; }
grep -q "grace period over: abandoning" run.log || { cat run.log; fail "(b) nothing was abandoned"; }
awk -v d="$dt" 'BEGIN { exit !(d < 1 + 6) }' || fail "(b) took $dt s after SIGUSR1 with dist.grace_s 1"
ok "(b) SIGUSR1 to mpiexec: work in flight abandoned after the grace period; all exit 3 after $dt s"

# (c)
OMPI_MCA_orte_abort_on_non_zero_status=0 run 4
wait_records
# rank 1's wrapper writes its pid right after starting tkd; on a loaded machine
# that can come after rank 0's first progress line
for _ in $(seq 100); do [ -s pid.1 ] && break; sleep 0.1; done
kill -USR1 "$(cat pid.1)"
set +e; wait $mpi; rc=$?; set -e
ranks_exited 4 3
grep -q "rank 1 asked to stop; telling every rank" run.log || { cat run.log; fail "(c) no stop broadcast"; }
ok "(c) SIGUSR1 to rank 1 only: the coordinator stopped every rank; all four exit 3"

# (d)
run 2 --set testwork.min_ms=0 --set testwork.max_ms=2
set +e; wait $mpi; rc=$?; set -e
[ $rc -eq 0 ] || { cat run.log; fail "(d) the re-run exited $rc"; }
ranks_exited 2 0
"$TKD" store merge out/shards/test out/merged.h5 >merge.log 2>&1 || { cat merge.log; fail "(d) merge failed"; }
grep -q "$N rows in, $N out, 0 duplicates dropped" merge.log || { cat merge.log; fail "(d) rows lost or redone"; }
"$TKD" store verify out/merged.h5 || fail "(d) verify failed"
check merged out/merged.h5 $N || fail "(d) merged store is not every item exactly once"
ok "(d) re-run finished: $N items exactly once, nothing redone, store verified"
