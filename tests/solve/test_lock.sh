#!/usr/bin/env bash
# One run per output folder (issue 14.4): while `tkd solve` runs (mpiexec -n 2),
# a second solve on the same folder exits 2 naming the run that holds it (host,
# pid, Slurm job, since when), and so do `tkd data import`, `tkd testwork` and
# `tkd train` (which writes into OUT/train);
# the first run goes on undisturbed. Then the first run's rank 0, which holds
# the lock, is killed with SIGKILL: the lock file stays behind, and the next
# run takes it over with a warning (same host, pid gone), completes every
# problem once, and removes the lock at the end.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=200
fixture $N
start_server --latency-ms 8000 --jitter-ms 100
job job.json "$work/out"
sed -i 's/"timeout_s": 2,/"timeout_s": 30,/' job.json # replies take 8 s: the first run outlasts the refusals
"$TKD" data import job.json >import.log 2>&1 || { cat import.log; fail "import"; }
mpiexec -n 2 "$TKD" solve job.json >run1.log 2>&1 &
mpi=$!
for _ in $(seq 200); do grep -q "solve: rank 0 (pid" run1.log 2>/dev/null && break; sleep 0.05; done
[ -s out/tkd.lock ] || { cat run1.log; fail "no lock file while the first run works"; }
holder=$(sed -nE 's/.*solve: rank 0 \(pid ([0-9]+)\).*/\1/p' run1.log)
[ -n "$holder" ] || { cat run1.log; fail "rank 0 did not log its pid"; }
grep -q "\"pid\":$holder," out/tkd.lock || { cat out/tkd.lock; fail "the lock does not name rank 0 (pid $holder)"; }

set +e
mpiexec -n 2 "$TKD" solve job.json >run2.log 2>&1; rc2=$?
"$TKD" data import job.json >import2.log 2>&1; rci=$?
"$TKD" testwork job.json >tw.log 2>&1; rct=$?
"$TKD" train job.json --set train.model_dir=none --set train.data=none >train.log 2>&1; rctr=$?
set -e
[ $rc2 = 2 ] || { cat run2.log; fail "a second solve on the same folder exited $rc2, not 2"; }
msg="output folder $work/out is in use by another run: solve on host $(hostname), pid $holder, Slurm job none, since 20"
grep -qF "$msg" run2.log || { cat run2.log; fail "the refusal does not name the run holding the folder"; }
[ "$(grep -c "in use by another run" run2.log)" = 1 ] || { cat run2.log; fail "the refusal is not said once (by rank 0)"; }
[ ! -e out/shards/solve/r00000.a1.h5 ] || fail "the refused run created a shard"
[ $rci = 2 ] && grep -qF "$msg" import2.log || { cat import2.log; fail "data import on a folder in use: exit $rci"; }
[ $rct = 2 ] && grep -qF "$msg" tw.log || { cat tw.log; fail "testwork on a folder in use: exit $rct"; }
[ $rctr = 2 ] && grep -qF "$msg" train.log || { cat train.log; fail "train on a folder in use: exit $rctr"; }
kill -0 $mpi 2>/dev/null || { cat run1.log; fail "the first run ended before it could be killed (too fast)"; }
ok "a second solve, data import, testwork and train on a folder in use exit 2: $(grep -o 'in use by another run: [^(]*' run2.log)"

kill -9 "$holder"
set +e; wait $mpi; rc1=$?; set -e
[ $rc1 != 0 ] || fail "mpiexec exited 0 although rank 0 was killed"
[ -s out/tkd.lock ] || fail "the killed run's lock is gone (expected left behind)"
start_server --latency-ms 20 # a quick teacher for the rest
job job.json "$work/out"
mpiexec -n 2 "$TKD" solve job.json >run3.log 2>&1 || { tail -20 run3.log; fail "the run after the kill failed"; }
grep -qE "warn: store: taking over the lock of $work/out: solve on host .*pid $holder.*\(its process is gone\)" run3.log ||
  { head -20 run3.log; fail "no warning about taking over the killed run's lock"; }
grep -q "all done: $N/$N problems done" run3.log || { tail -20 run3.log; fail "the run after the kill did not finish"; }
[ ! -e out/tkd.lock ] || fail "the lock was not released at the end"
"$TKD" store merge out/shards/solve out/solve.h5 >merge.log 2>&1 || { cat merge.log; fail "merge"; }
check out/solve.h5 --expected expected.json --samples 1 || fail "merged store"
ok "the lock of a run killed with SIGKILL is taken over with a warning; the run completes every problem once"
