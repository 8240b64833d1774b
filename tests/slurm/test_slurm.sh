#!/usr/bin/env bash
# The Slurm scripts on a real single-node Slurm (slurmctld, slurmd and munge
# on localhost, private config):
#  0. submit.sh checks every job file for the phases named before it queues
#     anything: an unknown phase or a bad tool name is exit 2, nothing queued;
#  1. submit.sh chains import -> testwork with afterok, for two job files as
#     job arrays (the job files are the batch script's arguments: no file is
#     left in the repository), with the srun MPI plugin chosen by --mpi;
#  2. a time-limit stop: USR1 to the batch script -> ranks stop and exit 3 ->
#     the job requeues itself -> then a preemption's TERM to the tasks -> exit 3
#     -> requeued again -> the re-run finishes with every problem exactly once;
#  3. scancel: the ranks stop cleanly (exit 3) but the job is not requeued.
set -euo pipefail
: "${TKD:?}" "${TKD_SOURCE_DIR:?}"
if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "skip: needs root and Debian's slurm-wlm and munge (tests/deps.sh installs them)"
  exit 77
fi
source "$TKD_SOURCE_DIR/tests/slurm/slurm_env.sh"
t=$(mktemp -d /tmp/tkd-slurm.XXXXXX)
cleanup() { set +e; slurm_down; rm -rf "$t"; }
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

repo_files() { git -C "$TKD_SOURCE_DIR" status --porcelain --untracked-files=all --ignored 2>/dev/null | sort; }
before=$(repo_files)
queued() { squeue -h 2>/dev/null | wc -l; }

# 0. checks before anything is queued
cat > "$t/chain.json" <<JSON
{"output_dir": "$t/chain", "data": {"sources": [{"path": "$fix/math_small.jsonl"}, {"path": "$fix/bench_small.jsonl"}]},
 "testwork": {"max_ms": 5}, "dist": {"progress_every_s": 1},
 "teacher": {"model": "m", "base_urls": ["http://127.0.0.1:9/v1"]}, "solve": {"tools": ["gcd", "factr"]}}
JSON
sed "s|$t/chain\"|$t/chain2\"|" "$t/chain.json" > "$t/chain2.json"
for bad in "data slove" "data solve"; do
  set +e
  out=$(TKD=$TKD SBATCH_OPTS="--output=$t/%x-%j.out" bash slurm/submit.sh "$t/chain.json" "$t/chain2.json" -- $bad 2>&1); rc=$?
  set -e
  [ $rc -eq 2 ] || fail "submit.sh -- $bad: exit $rc, want 2: $out"
  [[ "$out" != *submitted* ]] || fail "submit.sh -- $bad queued something: $out"
  [ "$(queued)" = 0 ] || fail "submit.sh -- $bad: a job is queued"
  echo "submit.sh -- $bad: exit 2 before queueing: $(echo "$out" | tail -1)"
done
[[ "$out" == *"unknown tool 'factr'"* ]] || fail "the tool check is not the phase's: $out"

# 1. the chain: data import, then testwork on 2 ranks, afterok, two job files as arrays
mpi=pmix
[ -e /usr/lib/x86_64-linux-gnu/slurm-wlm/mpi_pmix_v4.so ] && mpi=pmix_v4  # another name for the same plugin
out=$(TKD=$TKD SBATCH_OPTS="--ntasks=2 --output=$t/%x-%A_%a.out" bash slurm/submit.sh --mpi "$mpi" \
      "$t/chain.json" "$t/chain2.json" -- data testwork)
echo "$out"
last=$(echo "$out" | awk '/submitted testwork/ {print $4}')
[ -n "$last" ] || fail "no job id from submit.sh"
slurm_wait "$last" 180 || fail "chain did not finish"
for c in chain chain2; do
  # a shard per rank that wrote (with 7 items, rank 0 may take them all)
  ls "$t"/$c/shards/test/r0000[01].a0.h5 >/dev/null 2>&1 || fail "$c: expected first-attempt shards"
  "$TKD" store merge "$t/$c/shards/test" "$t/$c/merged.h5" >/dev/null
  "$TKD" store verify "$t/$c/merged.h5" >/dev/null || fail "$c: verify"
  [ "$(count_rows "$t/$c/merged.h5")" = 7 ] || fail "$c: expected 7 records after the chain"
done
grep -q "done (" "$t"/tkd-testwork-"$last"_*.out || fail "no progress line in the Slurm output"
grep -q "srun --mpi=$mpi, 2 tasks" "$t"/tkd-testwork-"$last"_0.out || fail "srun did not use --mpi=$mpi"
[ "$(repo_files)" = "$before" ] || fail "files left in the repository: $(diff <(echo "$before") <(repo_files))"

# 2. time limit (USR1 to the batch script), then preemption (TERM to the
# tasks): each time exit 3, requeue, resume
cat > "$t/pre.json" <<JSON
{"output_dir": "$t/pre", "testwork": {"items": 300, "min_ms": 40, "max_ms": 60, "concurrency": 1},
 "dist": {"progress_every_s": 1, "grace_s": 5, "lease_max": 8}}
JSON
id=$(sbatch --parsable --ntasks=2 --output="$t/pre-%j.out" --export=ALL,PHASE=testwork,TKD="$TKD" \
      slurm/phase.sbatch "$t/pre.json")
wait_work() { # wait_work ATTEMPT: until that attempt has written shards and a progress line
  local i n
  for i in $(seq 1 90); do
    n=$( (ls "$t"/pre/shards/test/*.a$1.h5 2>/dev/null || true) | wc -l)
    [ "$n" -ge 1 ] && [ "$(grep -c "done (" "$t/pre-$id.out" 2>/dev/null)" -gt "${2:-0}" ] && return 0
    sleep 1
  done
  return 1
}
wait_requeue() { # wait_requeue N: until the Nth "requeueing" line, and the job is pending again
  local i
  for i in $(seq 1 90); do
    if [ "$(grep -c "requeueing" "$t/pre-$id.out" 2>/dev/null)" -ge "$1" ] &&
       [ "$(squeue -h -j "$id" -o %T 2>/dev/null)" = PENDING ]; then
      slurm_start_requeued "$id"  # now, not after Slurm's requeue delay
      return 0
    fi
    sleep 1
  done
  return 1
}
wait_work 0 || fail "no work in the first attempt"
scancel --batch --signal=USR1 "$id"
wait_requeue 1 || fail "the job did not requeue itself after USR1 and exit 3"
grep -q "exit 3, usr1); requeueing" "$t/pre-$id.out" || fail "USR1 requeue: $(grep requeue "$t/pre-$id.out")"
progress=$(grep -c "done (" "$t/pre-$id.out")
wait_work 1 "$progress" || fail "no work in the second attempt"
scancel --signal=TERM "$id"  # what a preemption's grace time sends: TERM to the job's tasks
wait_requeue 2 || fail "the job did not requeue itself after a preemption's TERM"
grep -q "stopped early (exit 3); requeueing" "$t/pre-$id.out" || fail "TERM requeue: $(grep requeue "$t/pre-$id.out")"
slurm_wait "$id" 240 || fail "requeued job did not finish"
"$TKD" store merge "$t/pre/shards/test" "$t/pre/merged.h5" > "$t/merge.txt"
"$TKD" store verify "$t/pre/merged.h5" >/dev/null || fail "verify after requeue"
[ "$(count_rows "$t/pre/merged.h5")" = 300 ] || fail "expected 300 records after the requeue, got $(count_rows "$t/pre/merged.h5")"
ls "$t"/pre/shards/test/*.a1.h5 >/dev/null 2>&1 || fail "expected second-attempt shards (.a1)"
ls "$t"/pre/shards/test/*.a2.h5 >/dev/null 2>&1 || fail "expected third-attempt shards (.a2)"

# 3. scancel: a clean stop (exit 3, shards flushed), but no requeue
cat > "$t/can.json" <<JSON
{"output_dir": "$t/can", "testwork": {"items": 2000, "min_ms": 40, "max_ms": 60, "concurrency": 1},
 "dist": {"progress_every_s": 1, "grace_s": 5, "lease_max": 8}}
JSON
id=$(sbatch --parsable --ntasks=2 --output="$t/can-%j.out" --export=ALL,PHASE=testwork,TKD="$TKD" \
      slurm/phase.sbatch "$t/can.json")
for i in $(seq 1 90); do
  grep -q "done (" "$t/can-$id.out" 2>/dev/null && break
  sleep 1
done
scancel "$id"
slurm_wait "$id" 120 || fail "cancelled job still queued"
sleep 1
grep -q "stopped (exit 3) by scancel: not requeued" "$t/can-$id.out" || fail "scancel: $(tail -5 "$t/can-$id.out")"
! grep -q "requeueing" "$t/can-$id.out" || fail "a cancelled job was requeued"
info=$(scontrol show job "$id")
[[ "$info" == *Restarts=0* ]] || fail "cancelled job restarted: $info"
"$TKD" store merge "$t/can/shards/test" "$t/can/merged.h5" >/dev/null
"$TKD" store verify "$t/can/merged.h5" >/dev/null || fail "verify after scancel"
n=$(count_rows "$t/can/merged.h5")
[ "$n" -gt 0 ] && [ "$n" -lt 2000 ] || fail "expected some of the 2000 records after scancel, got $n"
echo "scancel: $n of 2000 records kept, not requeued"
[ "$(repo_files)" = "$before" ] || fail "files left in the repository: $(diff <(echo "$before") <(repo_files))"
echo "1 passed, 0 failed"
