#!/usr/bin/env bash
# Phase completion: solve refuses to start before import is complete (exit 2,
# naming the command to run); a finished solve merges its shards into
# OUT/solve.h5 and writes OUT/solve.complete.json; a re-run is a no-op that
# sends no request and rewrites no store; a change of a key solve reads
# (solve.*) makes it run again, a change of another (train.*) does not.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixture 40
start_server --latency-ms 5
job job.json "$work/out"
set +e
"$TKD" solve job.json >early.log 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || { cat early.log; fail "solve before import: exit $rc, want 2"; }
grep -q "needs a complete import phase" early.log && grep -q "tkd data import" early.log ||
  { cat early.log; fail "solve before import: the message names neither the missing phase nor the command"; }
ok "solve before import exits 2: $(grep -o 'the solve phase needs.*first' early.log | head -c 120)..."

"$TKD" data import job.json >/dev/null 2>&1
[ -s out/import.complete.json ] || fail "import wrote no marker"
mpiexec -n 2 "$TKD" solve job.json >run1.log 2>&1 || { cat run1.log; fail "solve failed"; }
[ -s out/solve.complete.json ] && [ -s out/solve.h5 ] || { cat run1.log; fail "no marker or merged store after solve"; }
"$TKD" store verify out/solve.h5 >/dev/null ||
  fail "the merged store does not verify"
/usr/bin/python3 - <<'PY' || fail "marker content"
import json, hashlib
m = json.load(open("out/solve.complete.json"))
assert m["phase"] == "solve" and m["store"].endswith("/out/solve.h5"), m
assert m["store_sha256"] == hashlib.sha256(open("out/solve.h5", "rb").read()).hexdigest()
assert [i["path"].split("/")[-1] for i in m["inputs"]] == ["problems.h5"], m["inputs"]
PY
ok "solve merged its shards into out/solve.h5 and wrote its marker (store and input hashes)"

req=$(stat_of requests)
sum=$(sha256sum out/solve.h5 out/solve.complete.json)
"$TKD" solve job.json --set train.lr=1e-5 --set teacher.max_in_flight=7 >run2.log 2>&1 || { cat run2.log; fail "re-run failed"; }
grep -q "solve: already complete" run2.log || { cat run2.log; fail "the re-run did not see the phase complete"; }
[ "$(stat_of requests)" -eq "$req" ] || fail "the re-run sent requests"
[ "$(sha256sum out/solve.h5 out/solve.complete.json)" = "$sum" ] || fail "the re-run rewrote the store or the marker"
ok "a re-run (even with other train.* and teacher plumbing keys) is a no-op: no request, store and marker unchanged"

"$TKD" solve job.json --set solve.max_turns=4 >run3.log 2>&1 || { cat run3.log; fail "re-run with a new solve key failed"; }
grep -q "already complete" run3.log && fail "a change of solve.max_turns left the phase complete"
[ "$(stat_of requests)" -eq "$req" ] || fail "the done-set should still have answered every problem"
ok "a change of a solve key makes the phase run again (its done-set still skips the finished problems)"
