#!/usr/bin/python3
"""Oracle check of the back-translation phase's store with h5py (not tkd's reader).
  check_bt.py STORE.h5 [...] --expected expected.json [--faults] [--keep-fact]
Every trace of expected.json appears exactly once (phase backtranslate, pid
and sample of the source trace), with the status its script leads to
(--faults: or api_error / length / failed with a failed request recorded), and the
record's text holds the contract the export reads: id, pid, sample,
source_status, problem, gold, calls [{tool, arguments, result, attempts
[{translation, exact {verdict, reason}, llm {verdict, reason}}], outcome}],
solution, answer, tokens and latency_s per role. Checks that no judge
request followed an exact-stage reject, and that every reject verdict of
the LLM judge is recorded as a reject. Prints a status table."""
import argparse
import collections
import hashlib
import json
import sys

import h5py

STATUS = ["done", "correct", "wrong", "no_answer", "turn_limit", "tool_errors", "length", "api_error", "failed",
          "accepted", "partial", "rejected", "rephrase_wrong", "leaked_tools"]
ap = argparse.ArgumentParser()
ap.add_argument("stores", nargs="+")
ap.add_argument("--expected", required=True)
ap.add_argument("--faults", action="store_true")
ap.add_argument("--keep-fact", action="store_true", help="on_reject keep_fact: rejected traces are partial")
args = ap.parse_args()
exp = json.load(open(args.expected))["traces"]
if args.keep_fact:
    for e in exp.values():
        if e["status"] == "rejected":
            e["status"] = "partial"

def pid_of(s):
    return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big")

errors = []
def err(m):
    if len(errors) < 20:
        print("FAIL", m)
    errors.append(m)

seen = collections.Counter()
table = collections.Counter()
for path in args.stores:
    with h5py.File(path, "r", swmr=True) as f:
        rec = f["records"][:]
        text = f["text"][:].tobytes()
    for r in rec:
        if int(r["phase"]) != 2:
            continue
        t = json.loads(text[int(r["text_off"]):int(r["text_off"]) + int(r["text_len"])].decode())
        st = STATUS[int(r["status"])]
        key = t["id"]
        seen[key] += 1
        table[st] += 1
        e = exp.get(key)
        if e is None:
            err(f"{key}: not a trace of the fixture")
            continue
        if int(r["pid"]) != pid_of(key) or t["pid"] != f"{int(r['pid']):016x}" or int(r["sample"]) != t["sample"]:
            err(f"{key}: pid/sample do not match the source trace")
        if e["status"] == "failed" and not args.faults:  # cannot be back-translated: a failed record
            if st != "failed" or t["solution"] is not None or not t.get("reason") or t["calls"]:
                err(f"{key}: expected a failed record with a reason, got {st}")
            continue
        for k in ("id", "pid", "sample", "source_status", "problem", "gold", "calls", "solution", "answer", "tokens",
                  "latency_s", "status"):
            if k not in t:
                err(f"{key}: text has no '{k}'")
        if t["status"] != st:
            err(f"{key}: record status {st} != text status {t['status']}")
        if t["source_status"] != "correct" or "What is" not in t["problem"] or t["gold"] != e["answer"]:
            err(f"{key}: source_status/problem/gold wrong")
        if set(t["tokens"]) != {"translator", "judge", "rephrase"}:
            err(f"{key}: tokens per role missing")
        if st != e["status"]:
            if not (args.faults and st in ("api_error", "length", "failed")):
                err(f"{key}: status {st}, expected {e['status']} ({e['kind']})")
            elif not any(q["status"] != "ok" or q.get("finish_reason") == "length" for q in t["requests"]):
                err(f"{key}: {st} without a failed request recorded")
            continue
        if len(t["calls"]) != e["calls"] or [c["tool"] for c in t["calls"]] != e["tools"]:
            err(f"{key}: calls {[c['tool'] for c in t['calls']]} != {e['tools']}")
        judged = 0
        for c in t["calls"]:
            if not c["attempts"] or c["outcome"] not in ("accepted", "kept_as_fact", "rejected"):
                err(f"{key}: call without attempts or outcome {c['outcome']}")
            for a in c["attempts"]:
                if not {"translation", "exact", "llm"} <= set(a) or "verdict" not in a["exact"] or "verdict" not in a["llm"]:
                    err(f"{key}: attempt lacks translation/exact/llm")
                    continue
                if a["exact"]["verdict"] in ("different", "no_box") and a["llm"]["verdict"] != "skipped":
                    err(f"{key}: the LLM judged a derivation the exact stage rejected")
                judged += a["llm"]["verdict"] in ("accept", "reject")
            if c["outcome"] == "accepted" and c["attempts"][-1]["llm"]["verdict"] != "accept":
                err(f"{key}: accepted without an accept verdict")
            if (c["outcome"] == "kept_as_fact") != (st == "partial" and c["outcome"] != "accepted"):
                err(f"{key}: outcome {c['outcome']} in a {st} trace")
        if judged != e["judge"]:
            err(f"{key}: {judged} judge verdicts, expected {e['judge']}")
        if e["kind"].startswith("v_") and any(a["llm"]["verdict"] == "accept" for c in t["calls"] for a in c["attempts"]):
            err(f"{key}: a malformed or negative verdict counted as accept")
        if st in ("accepted", "partial"):
            if not t["solution"] or t["answer"] != e["answer"] or "sympy" in t["solution"].lower():
                err(f"{key}: accepted without a clean solution boxing the gold")
        elif t["solution"] is not None:
            err(f"{key}: {st} with a solution")
for k in exp:
    if seen[k] != 1:
        err(f"{k} appears {seen[k]} times")
print("status table: " + ", ".join(f"{s} {table[s]}" for s in STATUS if table[s]))
print(f"{sum(seen.values())} records checked, {len(errors)} problems")
sys.exit(1 if errors else 0)
