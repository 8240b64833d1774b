#!/usr/bin/env bash
# tkd run chains the phases: import then solve over 2 ranks (mpirun), each
# skipped once complete; a run stopped mid-solve (SIGUSR1, then SIGTERM, to
# tkd run, which forwards them) exits 3 and the next `tkd run` resumes there;
# a re-run of a finished run sends no request and rewrites no store; bad
# options exit 2.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixture 300
start_server --latency-ms 40
job job.json "$work/out"
sed -i 's/"max_in_flight": 512/"max_in_flight": 8/' job.json

set +e
"$TKD" run job.json --to nowhere >bad.log 2>&1; rc1=$?
"$TKD" run job.json --from solve --to import >bad2.log 2>&1; rc2=$?
set -e
[ $rc1 -eq 2 ] && grep -q "unknown phase 'nowhere'" bad.log || { cat bad.log; fail "unknown phase: exit $rc1"; }
[ $rc2 -eq 2 ] || { cat bad2.log; fail "--from after --to: exit $rc2"; }
ok "unknown phases and a reversed range exit 2"

stopped_run() { # stopped_run LOG SIGNAL: tkd run --to solve over 2 ranks, sent SIGNAL once it solves; sets rc
  "$TKD" run job.json --to solve -n 2 >"$1" 2>&1 &
  local pid=$!
  for _ in $(seq 300); do grep -Eq "solve: [1-9][0-9]* problems solved" "$1" && break; sleep 0.1; done
  kill -"$2" $pid
  set +e
  wait $pid
  rc=$?
  set -e
}

stopped_run run1.log USR1
[ $rc -eq 3 ] || { cat run1.log; fail "a stopped run: exit $rc, want 3"; }
grep -q "run: solve: stopped early (exit 3)" run1.log || { cat run1.log; fail "no line saying how to resume"; }
[ -s out/import.complete.json ] && [ ! -e out/solve.complete.json ] || fail "markers after the stop"
ok "SIGUSR1 to tkd run stops the solve phase: exit 3, import complete, solve not"

# SIGTERM (scancel, a preemption, kill): tkd run passes it to mpirun as USR1,
# since mpirun would end the job at a TERM and exit 1, not the ranks' 3
stopped_run run1b.log TERM
[ $rc -eq 3 ] || { cat run1b.log; fail "a run stopped by SIGTERM: exit $rc, want 3"; }
grep -q "run: solve: stopped early (exit 3)" run1b.log || { cat run1b.log; fail "SIGTERM: no line saying how to resume"; }
ok "SIGTERM to tkd run stops the mpirun'd phase cleanly: exit 3"

"$TKD" run job.json --to solve -n 2 >run2.log 2>&1 || { cat run2.log; fail "the resumed run failed"; }
grep -q "run: import: complete, skipped" run2.log || { cat run2.log; fail "import was not skipped"; }
[ -s out/solve.complete.json ] || { cat run2.log; fail "no solve marker after the resumed run"; }
"$TKD" store verify out/solve.h5 >/dev/null || fail "the merged store does not verify"
/usr/bin/python3 - <<'PY' || fail "the merged store is not every problem exactly once"
import h5py
with h5py.File("out/solve.h5", "r") as f:
    r = f["records"][:]
keys = [(int(p), int(s)) for p, s in zip(r["pid"], r["sample"])]
assert len(keys) == 300 and len(set(keys)) == 300, (len(keys), len(set(keys)))
PY
ok "the next tkd run resumed the solve phase: 300 problems, each once"

req=$(stat_of requests)
sum=$(sha256sum out/problems.h5 out/solve.h5)
"$TKD" run job.json --to solve -n 2 >run3.log 2>&1 || { cat run3.log; fail "re-run failed"; }
[ "$(grep -c 'complete, skipped' run3.log)" -eq 2 ] || { cat run3.log; fail "a finished run ran a phase again"; }
[ "$(stat_of requests)" -eq "$req" ] || fail "the re-run sent requests"
[ "$(sha256sum out/problems.h5 out/solve.h5)" = "$sum" ] || fail "the re-run rewrote a store"
ok "a re-run of a finished run skips every phase: no request, no store rewritten"
