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
[ -s "$work/out/testwork.complete.json" ] && [ -s "$work/out/test.h5" ] || fail "no completion marker or merged store"
check merged "$work/out/test.h5" $N problem/ || fail "the phase's own merged store is not every problem exactly once"
mpiexec -n 2 "$TKD" testwork "$work/job.json" >"$work/run2.log" 2>&1 || { cat "$work/run2.log"; fail "re-run failed"; }
grep -q "testwork: already complete" "$work/run2.log" || { cat "$work/run2.log"; fail "a complete phase ran again"; }
ok "the finished phase merged its shards and wrote its marker; a re-run is a no-op"
rm "$work/out/testwork.complete.json"   # without the marker, the done-set still skips everything
mpiexec -n 2 "$TKD" testwork "$work/job.json" >"$work/run2.log" 2>&1 || { cat "$work/run2.log"; fail "re-run failed"; }
grep -q "all done: $N/$N items done, $N before this run" "$work/run2.log" || { cat "$work/run2.log"; fail "re-run redid work"; }
[ "$(check count "$work"/out/shards/test/*.h5)" -eq $N ] || fail "the re-run wrote records"
shards=$(ls "$work"/out/shards/test/)
[ "$(echo "$shards" | grep -c '\.a1\.h5$')" -eq 0 ] || fail "the re-run left empty shards: $shards"
ok "a re-run finds everything done, writes nothing and leaves no empty shard"

# real data, when ../shared/data is there: MATH500 through `tkd data import`,
# then testwork over 4 ranks; the merged pids are those of problems.h5 (h5py)
m500=${TKD_SHARED:-/nonexistent}/data/bench/math500.jsonl
if [ ! -r "$m500" ]; then
  echo "skip: $m500 not found (real-data part)"
  exit 0
fi
rm -rf "$work/out"
cat >"$work/real.json" <<JSON
{"output_dir": "$work/out", "data": {"sources": [{"path": "$m500"}]},
 "dist": {"lease_max": 32}, "testwork": {"min_ms": 0, "max_ms": 2}}
JSON
"$TKD" data import "$work/real.json" >/dev/null 2>"$work/import.log" || { cat "$work/import.log"; fail "import failed"; }
mpiexec -n 4 "$TKD" testwork "$work/real.json" >"$work/run3.log" 2>&1 || { cat "$work/run3.log"; fail "run on MATH500 failed"; }
"$TKD" store merge "$work/out/shards/test" "$work/out/merged.h5" >/dev/null 2>&1 || fail "merge failed"
/usr/bin/python3 - "$work/out/problems.h5" "$work/out/merged.h5" <<'PY' || fail "MATH500: merged pids differ from the problems'"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    want = sorted(int(p) for p in f["records"]["pid"])
with h5py.File(sys.argv[2], "r") as f:
    got = sorted(int(p) for p in f["records"]["pid"])
assert len(want) == 500 and got == want, (len(want), len(got))
PY
ok "MATH500 imported by tkd data import: 500 problems, each worked exactly once over 4 ranks"
