#!/usr/bin/env bash
# The solve phase under faults: the test server injects 10% of each fault
# kind (429 with Retry-After, 5xx, stalls past the timeout, malformed bodies,
# truncated bodies, dropped connections, 4xx including context length) into
# 1,000 scripted problems on 2 ranks. Every sample still ends in a recorded
# state (its script's status, or api_error / length / failed with the failed
# request recorded); the run exits 3 and says how many api_error samples are
# left to redo (400 and 422 are final: failed); no 4xx is retried and
# Retry-After is respected (the server checks both); the secret check: the run uses an API key (the server
# requires it) and the key appears in no file the run wrote, nor its logs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=1000
fixture $N
export TKD_TEST_API_KEY="sk-solve-SECRET-$$-$RANDOM$RANDOM"
start_server --fault-all 0.1 --latency-ms 5 --jitter-ms 5 --stall-ms 3000 --retry-after 1 \
  --require-key-env TKD_TEST_API_KEY --threads 2 --seed 11
job job.json "$work/out" '"x_unused": 0'
# teacher: the key from the environment, more retries than the default budget
/usr/bin/python3 - <<'PY'
import json
j = json.load(open("job.json"))
j.pop("x_unused")
j["teacher"].update({"api_key_env": "TKD_TEST_API_KEY", "max_retries": 12, "retry_budget": 4,
                     "timeout_s": 1, "max_in_flight": 128})
json.dump(j, open("job.json", "w"), indent=1)
PY
"$TKD" data import job.json >import.log 2>&1 || { cat import.log; fail "import"; }
set +e
mpiexec -n 2 "$TKD" solve job.json >run.log 2>&1
rc=$?
set -e
[ $rc = 0 ] || [ $rc = 3 ] || { tail -30 run.log; fail "tkd solve failed under faults (exit $rc)"; }
grep -q ": $N/$N problems done" run.log || { tail -20 run.log; fail "not every problem was worked on"; }
check out/shards/solve/*.h5 --expected expected.json --samples 1 --faults | tee check.log || fail "store check"
grep -q "api_error [1-9]" check.log || fail "no api_error sample although 404s were injected"
grep -q "failed [1-9]" check.log || fail "no failed sample although 400/422s were injected"
grep -q "length [1-9]" check.log || fail "no length sample although context-length 400s were injected"
# api_error samples are not done: the run says how many are left to redo, and exits 3
napi=$(sed -nE 's/.*api_error ([0-9]+).*/\1/p' check.log)
left=$(sed -nE 's/.*rank [0-9]+: ([0-9]+) samples ended api_error.*/\1/p' run.log | awk '{ s += $1 } END { print s + 0 }')
[ "$left" = "$napi" ] || fail "the run says $left samples are left to redo, the store holds $napi api_error samples"
[ $rc = 3 ] || fail "exit $rc although $napi samples ended api_error (expected 3: resumable)"
grep -q "solve: $napi items ended with a transient status (api_error" run.log || { grep "transient" run.log; fail "no total line on rank 0"; }
[ -e out/solve.complete.json ] && fail "the phase was marked complete with api_error samples left"
ok "faults: $napi api_error samples left to redo, said in the log, exit 3, phase not complete"
stats >stats.json
/usr/bin/python3 - <<'PY' || fail "server-side checks"
import json
s = json.load(open("stats.json"))
print("server:", {k: s[k] for k in ("requests", "429", "5xx", "stall", "malformed", "truncated", "dropped", "4xx",
                                    "unauthorized", "retried_after_4xx", "retry_after_checked",
                                    "retry_after_violations", "min_retry_after_ratio")})
bad = []
if s["retried_after_4xx"]: bad.append("a 4xx was retried")
if s["retry_after_violations"]: bad.append("Retry-After not respected")
if not s["retry_after_checked"]: bad.append("no retry after a 429 was seen")
if s["unauthorized"]: bad.append("requests without the key")
for k in ("429", "5xx", "stall", "malformed", "truncated", "dropped", "4xx"):
    if not s[k]: bad.append(f"no {k} fault injected")
print("\n".join(bad))
raise SystemExit(1 if bad else 0)
PY
ok "faults: every sample recorded; no 4xx retried; Retry-After respected"
# the secret check: every file the run wrote (store, shards, cache, exports) and its logs
"$TKD" store merge out/shards/solve out/solve.h5 >merge.log 2>&1
"$TKD" store export out/solve.h5 --what traces --jsonl export.jsonl >>merge.log 2>&1
n=$(find "$work" -type f | wc -l)
set +e
grep -rlF -- "$TKD_TEST_API_KEY" "$work"
rc=$?
set -e
[ $rc = 1 ] || fail "the API key leaked into the files above (grep exit $rc)"
ok "secret check: the API key is in none of the $n files the run wrote, nor its logs"
