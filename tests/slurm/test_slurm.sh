#!/usr/bin/env bash
# The Slurm scripts on a real single-node Slurm (slurmctld, slurmd and munge
# on localhost, private config): slurm/submit.sh chains import -> testwork with
# afterok; the testwork job runs its ranks with srun --mpi=pmix; then a
# preemption: USR1 to the batch script -> ranks stop and exit 3 -> the job
# requeues itself -> the re-run finishes with every problem exactly once.
set -euo pipefail
: "${TKD:?}" "${TKD_SOURCE_DIR:?}"
if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "skip: needs root and Debian's slurm-wlm and munge (tests/deps.sh installs them)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
source "$TKD_SOURCE_DIR/tests/slurm/slurm_env.sh"
t=$(mktemp -d /tmp/tkd-slurm.XXXXXX)
cleanup() { slurm_down; rm -rf "$t"; }
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$t"/*.out "$t"/slurm/log/slurmctld.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done >&2
  exit 1
}
slurm_up "$t/slurm" || fail "could not start slurm"
cd "$TKD_SOURCE_DIR"
fix=$TKD_SOURCE_DIR/tests/data/problems
count_rows() { /usr/bin/python3 -c 'import h5py,sys; print(len(h5py.File(sys.argv[1],"r")["records"]))' "$1"; }

# 1. the chain: data import, then testwork on 2 ranks, afterok
cat > "$t/chain.json" <<JSON
{"output_dir": "$t/chain", "data": {"sources": [{"path": "$fix/math_small.jsonl"}, {"path": "$fix/bench_small.jsonl"}]},
 "testwork": {"max_ms": 5}, "dist": {"progress_every_s": 1}}
JSON
out=$(TKD=$TKD SBATCH_OPTS="--ntasks=2 --output=$t/%x-%j.out" bash slurm/submit.sh "$t/chain.json" -- data testwork)
echo "$out"
last=$(echo "$out" | awk '/submitted testwork/ {print $4}')
[ -n "$last" ] || fail "no job id from submit.sh"
slurm_wait "$last" 120 || fail "chain did not finish"
# a shard per rank that wrote (with 7 items, rank 0 may take them all)
ls "$t"/chain/shards/test/r0000[01].a0.h5 >/dev/null 2>&1 || fail "expected first-attempt shards"
"$TKD" store merge "$t/chain/shards/test" "$t/chain/merged.h5" >/dev/null
"$TKD" store verify "$t/chain/merged.h5" >/dev/null || fail "verify"
[ "$(count_rows "$t/chain/merged.h5")" = 7 ] || fail "expected 7 records after the chain"
grep -q "done (" "$t"/tkd-testwork-"$last".out || fail "no progress line in the Slurm output"

# 2. preemption: USR1 to the batch script, exit 3, requeue, resume
cat > "$t/pre.json" <<JSON
{"output_dir": "$t/pre", "testwork": {"items": 300, "min_ms": 40, "max_ms": 60, "concurrency": 1},
 "dist": {"progress_every_s": 1, "grace_s": 5, "lease_max": 8}}
JSON
id=$(sbatch --parsable --ntasks=2 --output="$t/pre-%j.out" --export=ALL,PHASE=testwork,JOB="$t/pre.json",TKD="$TKD" \
      slurm/phase.sbatch)
for i in $(seq 1 60); do  # wait until some work is done
  n=$( (ls "$t"/pre/shards/test/*.h5 2>/dev/null || true) | wc -l)
  [ "$n" -ge 2 ] && grep -q "done (" "$t/pre-$id.out" 2>/dev/null && break
  sleep 1
done
scancel --batch --signal=USR1 "$id"
for i in $(seq 1 60); do  # the first attempt stops and the job is requeued
  grep -q "requeueing" "$t/pre-$id.out" 2>/dev/null && break
  sleep 1
done
grep -q "requeueing" "$t/pre-$id.out" || fail "the job did not requeue itself after exit 3"
scontrol release "$id" 2>/dev/null || true
slurm_wait "$id" 240 || fail "requeued job did not finish"
"$TKD" store merge "$t/pre/shards/test" "$t/pre/merged.h5" > "$t/merge.txt"
"$TKD" store verify "$t/pre/merged.h5" >/dev/null || fail "verify after requeue"
[ "$(count_rows "$t/pre/merged.h5")" = 300 ] || fail "expected 300 records after the requeue, got $(count_rows "$t/pre/merged.h5")"
ls "$t"/pre/shards/test/*.a1.h5 >/dev/null 2>&1 || fail "expected second-attempt shards (.a1)"
echo "1 passed, 0 failed"
