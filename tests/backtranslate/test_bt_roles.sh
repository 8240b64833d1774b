#!/usr/bin/env bash
# Roles on their own endpoints and the paper's keep-fact behaviour, on 200
# scripted traces, one plain process: the judge role (backtranslate.judge.*)
# points at a second test server with its own model name, so the phase runs
# two clients on one event loop; every judge request reaches the second
# server (as many as the derivations past the exact stage) and none the
# first, the records name each role's model; with backtranslate.on_reject
# keep_fact the traces whose calls stay rejected end partial, their calls
# kept as stated facts in the rephrased solution. Traces whose problem is not
# in problems.h5 get a failed record each, and the run goes on.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=200
solve_store $N
p1=$port
"$SERVER" --port 0 --max-seconds 600 --script "$work/script.jsonl" --latency-ms 2 >"$work/judge.port" 2>/dev/null &
spids+=($!)
for _ in $(seq 100); do [ -s "$work/judge.port" ] && break; sleep 0.05; done
p2=$(awk '{print $2}' "$work/judge.port")
[ -n "$p2" ] || fail "the judge's server did not start"
job job.json "$work/out"
/usr/bin/python3 - "$p2" <<'PY'
import json, sys
j = json.load(open("job.json"))
j["backtranslate"].update({"on_reject": "keep_fact",
                          "judge": {"model": "judge-model", "base_urls": [f"http://127.0.0.1:{sys.argv[1]}/v1"],
                                    "temperature": 0, "max_tokens": 256}})
json.dump(j, open("job.json", "w"), indent=1)
PY
# the first 5 problems are missing from this run's problems.h5: their traces
# cannot be back-translated and get failed records, the others go on
bt_out out
tail -n +6 problems.jsonl >problems195.jsonl
sed 's/problems.jsonl/problems195.jsonl/' job.json >jobp.json
"$TKD" data import jobp.json >/dev/null 2>&1 || fail "import of 195 problems"
/usr/bin/python3 - <<'PY'
import json
e = json.load(open("expected.json"))
for i in range(5):
    e["traces"][f"t/{i:05d}"]["status"] = "failed"
    e["judge_requests"] -= e["traces"][f"t/{i:05d}"]["judge"]
json.dump(e, open("expected.json", "w"))
PY
j1=$(stat_of bt_judge) t1=$(stat_of bt_translator)
"$TKD" backtranslate job.json >run.out 2>run.log || { tail -20 run.log; fail "tkd backtranslate failed"; }
grep -q "2 clients" run.log || { grep "traces selected" run.log; fail "the judge did not get a client of its own"; }
check out/shards/backtranslate/*.h5 --expected expected.json --keep-fact | tee check.log || fail "store check"
grep -q "partial [1-9]" check.log || fail "no partial trace under keep_fact"
grep -q "failed 5" check.log || fail "not 5 failed traces for the 5 problems missing"
J=$(expect_of judge_requests)
dj1=$(($(stat_of bt_judge) - j1))
dj2=$(curl -s "http://127.0.0.1:$p2/stats" | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print(s['bt_judge'], s['bt_translator'] + s['bt_rephrase'])")
[ "$dj1" = 0 ] || fail "$dj1 judge requests reached the teacher's server"
[ "$dj2" = "$J 0" ] || fail "the judge's server got '$dj2' (judge, others), expected '$J 0'"
/usr/bin/python3 - <<'PY' || fail "models per role"
import glob, json, h5py
for p in glob.glob("out/shards/backtranslate/*.h5"):
    with h5py.File(p, "r", swmr=True) as f:
        text = f["text"][:].tobytes()
        for r in f["records"][:]:
            t = json.loads(text[int(r["text_off"]):int(r["text_off"]) + int(r["text_len"])])
            if t["status"] == "failed":
                continue
            assert t["models"] == {"translator": "test-model", "judge": "judge-model", "rephrase": "test-model"}, t["models"]
            if t["status"] == "partial":
                assert any(c["outcome"] == "kept_as_fact" for c in t["calls"]) and t["solution"], t["id"]
PY
ok "judge on its own endpoint and model: $J judge requests there, none at the teacher's; keep_fact: rejected calls kept, traces partial; 5 traces without their problem failed, the rest done"
