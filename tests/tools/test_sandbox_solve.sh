#!/usr/bin/env bash
# tools: run_python inside the solve phase. With solve.tools naming it, the
# teacher (the scripted test server) calls it and the trace holds what the
# program printed; without it, the same call is refused as a tool not offered.
# Uses /usr/bin/python3 (tools.code.python).
test_prefix=sandbox-solve
source "$(dirname "${BASH_SOURCE[0]}")/../lib/phase_test.sh"
/usr/bin/python3 - "$work" <<'PY'
import json, sys
out = sys.argv[1]
code = "from itertools import permutations\nprint(sum(all(p[i] != i for i in range(6)) for p in permutations(range(6))))"
with open(f"{out}/problems.jsonl", "w") as pf, open(f"{out}/script.jsonl", "w") as sf:
    pf.write(json.dumps({"id": "0", "problem": "How many permutations of 6 items leave no item in place?",
                         "solution": "265"}) + "\n")
    turns = [{"content": "Plan: count the derangements with a program."},
             {"content": "Counting.", "tool_calls": [{"name": "run_python", "arguments": {"code": code}}]},
             {"content": "The count is 265, so the answer is \\boxed{265}."}]
    sf.write(json.dumps({"problem": "t/0", "turns": turns}) + "\n")
PY
start_server --latency-ms 1
job() { # job FILE OUTDIR TOOLS
  cat >"$1" <<JSON
{"output_dir": "$2", "log_level": "info",
 "data": {"sources": [{"path": "$work/problems.jsonl", "name": "t", "format": "bench"}]},
 "teacher": {"model": "test-model", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false, "cache": "off",
             "timeout_s": 5},
 "solve": {"max_turns": 4, "tools": $3},
 "tools": {"code": {"sandbox": "allow-weak", "timeout_s": 10, "python": "/usr/bin/python3"}}}
JSON
}
trace() { # trace STORE: the first record's trace JSON
  /usr/bin/python3 - "$1" <<'PY'
import json, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    r, text = f["records"][0], f["text"][:].tobytes()
    print(text[int(r["text_off"]):int(r["text_off"]) + int(r["text_len"])].decode())
PY
}
for arm in offered hidden; do
  tools='["run_python", "gcd"]'
  [ $arm = hidden ] && tools='["gcd"]'
  job $arm.json "$work/$arm" "$tools"
  "$TKD" data import $arm.json >$arm.log 2>&1 || { cat $arm.log; fail "import ($arm)"; }
  "$TKD" solve $arm.json >>$arm.log 2>&1 || { cat $arm.log; fail "solve ($arm)"; }
  trace "$work/$arm/solve.h5" >$arm.trace.json
done
/usr/bin/python3 - <<'PY' || fail "the traces"
import json
t = json.load(open("offered.trace.json"))
c = t["calls"][0]
assert c["name"] == "run_python", c
res = json.loads(c["result"]) if isinstance(c["result"], str) else c["result"]
assert res["result"]["stdout"] == "265\n" and res["result"]["exit_status"] == 0, res
assert t["status"] == "correct", t["status"]
h = json.load(open("hidden.trace.json"))
c = h["calls"][0]
assert c["name"] == "run_python" and "unknown tool" in json.dumps(c), c
print("offered:", json.dumps(res)[:120], "| hidden:", json.dumps(c)[:160])
PY
ok "solve runs run_python when solve.tools names it (stdout 265 in the trace) and refuses it otherwise"
