#!/usr/bin/env bash
# tkd report after import and solve: report.json's numbers equal those a
# Python reference computes from the exported records and problems (h5py
# and json only), report.md has its sections, and the plots exist as
# non-empty PNG files.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixture 120
start_server --latency-ms 2
SAMPLES=2 job job.json "$work/out"
"$TKD" data import job.json >/dev/null 2>&1
mpiexec -n 2 "$TKD" solve job.json >solve.log 2>&1 || { cat solve.log; fail "solve failed"; }
"$TKD" report job.json >report.log 2>&1 || { cat report.log; fail "report failed"; }
"$TKD" store export out/solve.h5 --what traces --jsonl traces.jsonl 2>/dev/null
"$TKD" store export out/problems.h5 --what problems --jsonl problems.jsonl 2>/dev/null
/usr/bin/python3 - <<'PY' || fail "report.json differs from the reference"
import json, collections
rep = json.load(open("out/report/report.json"))
probs = {p["pid"]: p for p in map(json.loads, open("problems.jsonl"))}
traces = [json.loads(l) for l in open("traces.jsonl")]
s = rep["solve"]
assert rep["funnel"]["problems"] == len(probs) == 120, rep["funnel"]
assert s["traces"] == len(traces) == 240
st = collections.Counter(t["status"] for t in traces)
assert s["by_status"] == dict(st), (s["by_status"], st)
assert s["correct"] == st["correct"] == rep["funnel"]["solve_correct"]
lev = collections.defaultdict(lambda: [0, 0])
for t in traces:
    p = probs[t["pid"]]
    k = "Level %d" % p["level"] if p.get("level") else "unknown"
    lev[k][0] += 1
    lev[k][1] += t["status"] == "correct"
assert {k: [v["samples"], v["correct"]] for k, v in s["by_level"].items()} == {k: v for k, v in lev.items()}, s["by_level"]
assert abs(s["turns_mean"] - sum(t["turns"] for t in traces) / len(traces)) < 1e-9
assert abs(s["tool_calls_mean"] - sum(t["tool_calls"] for t in traces) / len(traces)) < 1e-9
assert s["prompt_tokens"] == sum(t["prompt_tokens"] for t in traces)
tools = collections.defaultdict(lambda: [0, 0])
for t in traces:
    for c in t["text"]["calls"]:
        tools[c["name"]][0] += 1
        tools[c["name"]][1] += c["status"] != "ok"
assert {k: [v["calls"], v["errors"]] for k, v in s["tools"].items()} == dict(tools), s["tools"]
assert sum(s["failures"].values()) == len(traces) - st["correct"]
print("report.json agrees:", dict(st), len(tools), "tools")
PY
for sec in "## Data funnel" "## Solve" "## Back-translation" "## Evaluation" "## Training"; do
  grep -q "^$sec" out/report/report.md || fail "report.md has no '$sec' section"
done
for png in funnel solve_subject; do
  f=out/report/$png.png
  [ -s "$f" ] && [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png.png is not a PNG"
done
ok "report: numbers equal the Python reference; report.md has every section; plots are PNG files"
