#!/usr/bin/env bash
# The whole pipeline as Slurm jobs on a real single-node Slurm (munge,
# slurmctld and slurmd on localhost, private config: slurm_env.sh), against
# the stand-in teacher and the tiny student (tests/lib/pipeline.sh):
#  1. `slurm/submit.sh JOB.json` submits data, solve, backtranslate, export,
#     train, eval and report chained with afterok; the solve job is preempted
#     mid-run (SIGTERM to its tasks, as a preemption's grace time sends): its
#     ranks flush and exit 3, the job requeues itself, resumes (second-attempt
#     shards) and completes, and the chain goes on to the report. Then every
#     job completed with exit 0, every phase's marker is there, every store
#     verifies, nothing is counted twice (each problem and sample once in
#     solve.h5 and backtranslate.h5, each eval sample once), and the report
#     equals a Python computation from the records (tests/lib/check_report.py);
#  2. `slurm/submit.sh --sweep DIR/sweep.json` for 3 arms differing in
#     train.lora.r: import, solve, backtranslate and export submitted once,
#     train, eval and a report per arm, the sweep's report last; the teacher
#     answers exactly the requests one arm's stores record, and the sweep
#     report has a row per arm.
# Skips (exit 77) without root or Debian's slurm-wlm and munge.
set -euo pipefail
: "${TKD:?}" "${TKD_SOURCE_DIR:?}" "${TKD_BUILD_DIR:?}"
if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null ||
   [ ! -r /etc/munge/munge.key ]; then
  echo "skip: needs root, Debian's slurm-wlm and munge, and /etc/munge/munge.key (tests/deps.sh installs them)"
  exit 77
fi
source "$TKD_SOURCE_DIR/tests/slurm/slurm_env.sh"
source "$TKD_SOURCE_DIR/tests/lib/pipeline.sh"
t=$(mktemp -d /tmp/tkd-chain.XXXXXX)
t0=$(date +%s)
cleanup() {
  set +e          # every step runs, whatever failed
  slurm_down      # the private cluster's jobs, then its daemons
  pl_stop_servers
  rm -rf "$t"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$t"/*.out "$t"/slurm/log/slurmctld.log; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done >&2
  exit 1
}
ok() { echo "ok   $*  ($(( $(date +%s) - t0 )) s)"; }
slurm_up "$t/slurm" || fail "could not start slurm"
cd "$TKD_SOURCE_DIR"
mpi=pmix
[ -e /usr/lib/x86_64-linux-gnu/slurm-wlm/mpi_pmix_v4.so ] && mpi=pmix_v4
export SBATCH_OPTS="--ntasks=2 --output=$t/%x-%j.out"
state() { scontrol show job "$1" | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
field() { scontrol show job "$1" | grep -o "$2=[^ ]*" | head -1 | cut -d= -f2; }
slurm_sections='"slurm": {"data": {"ntasks": 1}, "export": {"ntasks": 1}, "report": {"ntasks": 1},
  "solve": {"ntasks": 2}, "backtranslate": {"ntasks": 2}, "train": {"ntasks": 2}, "eval": {"ntasks": 2}}'

pl_fixture "$t" 24
pl_server "$t/teacher.jsonl" 400 && tport=$pl_port   # slow enough to preempt the solve job mid-run
pl_server "$t/evalsrv.jsonl" 2 && eport=$pl_port
pl_job "$t/job.json" "$t/run" "$t" "$tport" "$eport" "$slurm_sections"
sed -i 's/"samples_per_problem": 2, "max_in_flight": 8/"samples_per_problem": 2, "max_in_flight": 3/' "$t/job.json"

# 1. the chain, with the solve job preempted
out=$(TKD=$TKD bash slurm/submit.sh --mpi "$mpi" "$t/job.json") || fail "submit.sh: $out"
echo "$out"
declare -A id
for p in data solve backtranslate export train eval report; do
  id[$p]=$(echo "$out" | awk -v p="$p" '$1 == "submitted" && $2 == p {print $4}')
  [ -n "${id[$p]}" ] || fail "no job id for $p"
done
[[ "$out" == *"follow them: squeue -j"* ]] || fail "submit.sh does not say how to follow the jobs"
[ "$(field "${id[backtranslate]}" Dependency)" = "afterok:${id[solve]}(unfulfilled)" ] ||
  fail "backtranslate's dependency: $(field "${id[backtranslate]}" Dependency)"
log=$t/tkd-solve-${id[solve]}.out
for _ in $(seq 1 240); do
  [ "$(cat "$log" 2>/dev/null | grep -c "done (")" -ge 2 ] && break
  sleep 0.5
done
grep -q "done (" "$log" || fail "the solve job never got going"
scancel --signal=TERM "${id[solve]}"
for _ in $(seq 1 90); do
  grep -q "requeueing" "$log" && [ "$(state "${id[solve]}")" = PENDING ] && break
  sleep 1
done
grep -q "stopped early (exit 3); requeueing" "$log" || fail "the preempted solve job was not requeued: $(grep tkd: "$log" | tail -3)"
slurm_start_requeued "${id[solve]}"
ok "solve preempted mid-run (TERM to its tasks): exit 3, requeued"
chain_wait() { # chain_wait LAST ID...: until LAST has left the queue; fail at once when a job of the chain failed
  local last=$1 i j
  shift
  for i in $(seq 1 400); do
    squeue -h -j "$last" 2>/dev/null | grep -q . || return 0
    for j in "$@"; do
      case "$(state "$j") $(field "$j" Reason)" in
        FAILED*|CANCELLED*|TIMEOUT*|NODE_FAIL*|OUT_OF_MEMORY*|*DependencyNeverSatisfied*)
          fail "job $j ($(field "$j" JobName)): $(state "$j"), $(field "$j" Reason), exit $(field "$j" ExitCode)" ;;
      esac
    done
    sleep 1
  done
  fail "job $last still queued after 400 s"
}
chain_wait "${id[report]}" "${id[@]}"
for p in data solve backtranslate export train eval report; do
  [ "$(state "${id[$p]}")" = COMPLETED ] && [ "$(field "${id[$p]}" ExitCode)" = 0:0 ] ||
    fail "$p job ${id[$p]}: $(state "${id[$p]}"), exit $(field "${id[$p]}" ExitCode), $(field "${id[$p]}" Reason)"
done
[ "$(field "${id[solve]}" Restarts)" = 1 ] || fail "solve restarts: $(field "${id[solve]}" Restarts)"
# afterok held through the requeue: backtranslate started after solve's last attempt ended
[[ ! "$(field "${id[backtranslate]}" StartTime)" < "$(field "${id[solve]}" EndTime)" ]] ||
  fail "backtranslate started at $(field "${id[backtranslate]}" StartTime), before solve ended ($(field "${id[solve]}" EndTime))"
ls "$t"/run/shards/solve/*.a0.h5 "$t"/run/shards/solve/*.a1.h5 >/dev/null 2>&1 || fail "no first- and second-attempt solve shards"
first_attempt=$(/usr/bin/python3 -c '
import glob, h5py, sys
print(sum(len(h5py.File(f, "r")["records"]) for f in glob.glob(sys.argv[1] + "/*.a0.h5")))' "$t/run/shards/solve")
[ "$first_attempt" -gt 0 ] && [ "$first_attempt" -lt 48 ] || fail "the first attempt wrote $first_attempt of 48 samples: not a stop mid-run"
for m in import solve backtranslate export train eval; do
  [ -s "$t/run/$m.complete.json" ] || fail "no $m marker"
done
for s in problems solve backtranslate eval; do
  "$TKD" store verify "$t/run/$s.h5" >/dev/null || fail "$s.h5 does not verify"
done
[ -s "$t/run/report/report.md" ] || fail "no report"
recorded=$(/usr/bin/python3 "$TKD_SOURCE_DIR/tests/lib/check_report.py" "$t/run" | tee "$t/check.txt") ||
  fail "the report differs from the records"
cat "$t/check.txt"
# the stop changed no outcome: the stand-in's statuses (every fifth problem wrong;
# the judge rejects problems 3, 9, 15, 21 at every attempt)
grep -q "{'correct': 40, 'wrong': 8}" "$t/check.txt" && grep -q "{'accepted': 34, 'rejected': 6}" "$t/check.txt" ||
  fail "the preempted run's statuses differ from an uninterrupted run's"
rec=$(awk '/^teacher requests recorded/ {print $NF}' "$t/check.txt")
asked=$(pl_stat "$tport" requests)
# a sample cut short by the stop is asked again; none may be recorded that was not asked
[ "$asked" -ge "$rec" ] || fail "the stores record $rec teacher requests, the teacher answered $asked"
ok "the chain ran to its report: every job COMPLETED with exit 0 (solve after 1 restart), $first_attempt of 48 samples in the first attempt, 6 markers, 4 stores verify, each item once, the report equals the Python reference; teacher requests: $asked asked, $rec recorded"

# 2. a sweep: shared stages submitted once, per-arm train/eval/report, the sweep's report last
pl_server "$t/teacher.jsonl" 2 && sport=$pl_port
pl_job "$t/base.json" "$t/base" "$t" "$sport" "$eport" "$slurm_sections"
echo '{"name": "rank", "grid": {"train.lora.r": [4, 8, 16]}}' > "$t/rank.json"
"$TKD" sweep "$t/base.json" "$t/rank.json" --out "$t/sw" >/dev/null || fail "tkd sweep"
out=$(TKD=$TKD bash slurm/submit.sh --mpi "$mpi" --sweep "$t/sw/sweep.json") || fail "submit.sh --sweep: $out"
echo "$out"
for p in data:1 solve:1 backtranslate:1 export:1 train:3 eval:3; do
  n=$(echo "$out" | grep -c "^submitted ${p%:*} stage ")
  [ "$n" = "${p#*:}" ] || fail "${p%:*}: $n submissions, want ${p#*:}"
done
[ "$(echo "$out" | grep -c '^submitted the report of arm ')" = 3 ] || fail "want a report job per arm"
last=$(echo "$out" | awk '/^submitted the sweep.s report/ {print $NF}')
[ -n "$last" ] || fail "no sweep report job"
all=$(echo "$out" | awk '/^submitted/ {for (i = 1; i < NF; i++) if ($i == "as") print $(i + 1)} /^submitted the sweep/ {print $NF}' |
      sort -nu | paste -sd, -)
[[ "$out" == *"follow them: squeue -j $all;"* ]] || fail "submit.sh --sweep does not name every job to follow ($all)"
chain_wait "$last" $(echo "$out" | awk '/^submitted/ {for (i = 1; i < NF; i++) if ($i == "as") print $(i + 1)}')
for j in $(echo "$out" | awk '/^submitted/ {for (i = 1; i < NF; i++) if ($i == "as") print $(i + 1)}') $last; do
  [ "$(state "$j")" = COMPLETED ] || fail "sweep job $j ($(field "$j" JobName)): $(state "$j") $(field "$j" Reason)"
done
first=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["arms"][0]["job"][:-5])' "$t/sw/sweep.json")
/usr/bin/python3 "$TKD_SOURCE_DIR/tests/lib/check_report.py" "$first" --teacher-requests "$(pl_stat "$sport" requests)" \
  >"$t/check2.txt" || { cat "$t/check2.txt"; fail "the first arm's report, or the teacher asked twice"; }
grep teacher: "$t/check2.txt"
/usr/bin/python3 - "$t" <<'PY' || fail "the sweep's outputs"
import collections, json, os, sys
t = sys.argv[1]
plan = json.load(open(f"{t}/sw/sweep.json"))
stages = collections.Counter(s.split("-")[0] for s in os.listdir(f"{t}/sw/stages"))
assert stages == {"import": 1, "solve": 1, "backtranslate": 1, "export": 1, "train": 3, "eval": 3}, stages
rows = json.load(open(f"{t}/sw/report/report.json"))
assert [r["name"] for r in rows] == [a["name"] for a in plan["arms"]], rows
md = open(f"{t}/sw/report/report.md").read()
for a, r in zip(plan["arms"], rows):
    out = a["job"][:-5]
    assert json.load(open(f"{out}/train/adapter/adapter_config.json"))["r"] == a["set"]["train.lora.r"]
    assert r["report"]["eval"] == json.load(open(f"{out}/eval/results.json"))
    assert os.path.exists(f"{out}/report/report.md"), out
    assert md.count(f"| {a['name']} | ") == 3, a["name"]   # one row per eval arm
print("sweep:", dict(stages), "; report rows:", md.count("\n| r"))
PY
ok "the sweep on Slurm: shared stages once, train/eval/report per arm, the sweep report; the teacher asked once"
