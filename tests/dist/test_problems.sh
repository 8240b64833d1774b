#!/usr/bin/env bash
# testwork takes its items from OUT/problems.h5 when that file exists (here
# written by h5py in the store's layout, as `tkd data import` would): every
# problem's pid is worked exactly once over 2 ranks, then a re-run does nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=250
mkdir -p "$work/out"
check problems "$work/out/problems.h5" $N
job "$work/job.json" 7 '"min_ms": 0, "max_ms": 3'
mpiexec -n 2 "$TKD" testwork "$work/job.json" >"$work/run.log" 2>&1 || { cat "$work/run.log"; fail "run failed"; }
grep -q "testwork: $N items from .*problems.h5" "$work/run.log" || { cat "$work/run.log"; fail "problems.h5 not used"; }
"$TKD" store merge "$work/out/shards/test" "$work/out/merged.h5" >/dev/null 2>&1 || fail "merge failed"
check merged "$work/out/merged.h5" $N problem/ || fail "merged store is not every problem exactly once"
ok "$N problems from problems.h5, each worked exactly once"
mpiexec -n 2 "$TKD" testwork "$work/job.json" >"$work/run2.log" 2>&1 || { cat "$work/run2.log"; fail "re-run failed"; }
grep -q "all done: $N/$N items done, $N before this run" "$work/run2.log" || { cat "$work/run2.log"; fail "re-run redid work"; }
[ "$(check count "$work"/out/shards/test/*.h5)" -eq $N ] || fail "the re-run wrote records"
ok "a re-run finds everything done and writes nothing"
