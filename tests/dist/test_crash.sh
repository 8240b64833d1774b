#!/usr/bin/env bash
# kill -9 one rank mid-run (testwork.crash_rank), under mpiexec -n 2 and -n 4
# (a worker), and -n 3 (the coordinator, rank 0):
# mpiexec fails; the killed rank's shard opens with the records it flushed;
# a re-run finishes; the merged store passes `tkd store verify` and holds every
# item exactly once (checked with h5py, not tkd's reader).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=400
for case in 2:1 4:1 3:0; do
  np=${case%:*} cr=${case#*:}
  rm -rf "$work/out"
  job "$work/job.json" $N "\"min_ms\": 1, \"max_ms\": 8, \"crash_rank\": $cr, \"crash_after\": 40"
  set +e
  mpiexec -n $np "$TKD" testwork "$work/job.json" >"$work/run1.log" 2>&1
  rc=$?
  set -e
  [ $rc -ne 0 ] || { cat "$work/run1.log"; fail "n=$np: mpiexec exited 0 although rank $cr was killed"; }
  grep -q "killing this rank (SIGKILL) after 40 records" "$work/run1.log" || fail "n=$np: rank $cr did not crash"
  shard=$work/out/shards/test/r0000$cr.a0.h5
  check shard "$shard" 40 || fail "n=$np: the killed rank's shard does not hold its 40 records"
  "$TKD" store info "$shard" | grep -Eq '^records +(4[0-9]|[5-9][0-9]|[0-9]{3,})$' ||
    fail "n=$np: tkd store info does not see the killed rank's records"
  ok "n=$np: rank $cr killed (mpiexec rc $rc); its shard opens with >= 40 records"

  mpiexec -n $np "$TKD" testwork "$work/job.json" --set testwork.crash_rank=-1 >"$work/run2.log" 2>&1 ||
    { cat "$work/run2.log"; fail "n=$np: the re-run failed"; }
  grep -Eq "all done: $N/$N items done, [1-9][0-9]* before this run" "$work/run2.log" ||
    { cat "$work/run2.log"; fail "n=$np: the re-run did not skip what was done"; }
  ls "$work"/out/shards/test/r*.a1.h5 >/dev/null 2>&1 || fail "n=$np: the re-run wrote no attempt-1 shard"
  "$TKD" store merge "$work/out/shards/test" "$work/out/merged.h5" >"$work/merge.log" 2>&1 ||
    { cat "$work/merge.log"; fail "n=$np: merge failed"; }
  "$TKD" store verify "$work/out/merged.h5" || fail "n=$np: verify failed"
  check merged "$work/out/merged.h5" $N || fail "n=$np: merged store is not every item exactly once"
  ok "n=$np: re-run finished; merged store verified, every item exactly once"
done
