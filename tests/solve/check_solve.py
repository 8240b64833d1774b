#!/usr/bin/python3
"""Oracle check of the solve phase's store with h5py (not tkd's reader).
  check_solve.py STORE.h5 [STORE.h5 ...] --expected expected.json --samples N [--faults] [--shards]
Every problem of expected.json must have every sample 0..N-1 exactly once
(--shards: the files are the raw shards of one run, where a duplicate is an
error too), with the status its script leads to (--faults: or api_error /
length, with the failed request recorded), its whole conversation (system,
user with the problem, one assistant message per successful request, a tool
message answering every tool call id, each call with arguments, result and
time), tokens and latency consistent with its requests, and the pid the
hash of its id. Prints a status table; exit 0 when every check holds."""
import argparse
import collections
import hashlib
import json
import sys

import h5py

STATUS = ["done", "correct", "wrong", "no_answer", "turn_limit", "tool_errors", "length", "api_error", "failed"]
ap = argparse.ArgumentParser()
ap.add_argument("stores", nargs="+")
ap.add_argument("--expected", required=True)
ap.add_argument("--samples", type=int, required=True)
ap.add_argument("--faults", action="store_true")
args = ap.parse_args()
expected = json.load(open(args.expected))

def pid_of(s):
    return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big")

seen = collections.Counter()
rows = []
for path in args.stores:
    with h5py.File(path, "r", swmr=True) as f:
        rec = f["records"][:]
        text = f["text"][:].tobytes()
        for r in rec:
            if int(r["phase"]) != 1:
                continue
            t = json.loads(text[int(r["text_off"]):int(r["text_off"]) + int(r["text_len"])].decode())
            rows.append((r, t))

errors = []
def err(msg):
    if len(errors) < 20:
        print("FAIL", msg)
    errors.append(msg)

table = collections.Counter()
for r, t in rows:
    pid, st = int(r["pid"]), STATUS[int(r["status"])]
    key = (t["id"], int(r["sample"]))
    seen[key] += 1
    table[st] += 1
    if pid != pid_of(t["id"]) or t["pid"] != f"{pid:016x}":
        err(f"{key}: pid {pid:016x} is not the hash of {t['id']}")
    exp = expected.get(t["id"])
    if exp is None:
        err(f"{key}: not a problem of the fixture")
        continue
    if t["status"] != st:
        err(f"{key}: record status {st} != text status {t['status']}")
    reqs, msgs, calls = t["requests"], t["messages"], t["calls"]
    if st != exp["status"]:
        if not (args.faults and st in ("api_error", "length", "failed")):
            err(f"{key}: status {st}, expected {exp['status']} ({exp['kind']})")
        elif reqs[-1]["status"] == "ok" or not t["error"]:
            err(f"{key}: {st} without a failed request recorded")
    if st == "correct" and t["answer"] != exp["answer"]:
        err(f"{key}: correct with answer {t['answer']} != {exp['answer']}")
    if st == "wrong" and t["answer"] == exp["answer"]:
        err(f"{key}: wrong with the right answer")
    # the whole conversation
    if msgs[0]["role"] != "system" or msgs[1]["role"] != "user" or "What is" not in msgs[1]["content"]:
        err(f"{key}: conversation does not open with the system prompt and the problem")
    ok_reqs = [q for q in reqs if q["status"] == "ok"]
    asst = [m for m in msgs if m["role"] == "assistant"]
    if len(asst) != len(ok_reqs) or len(reqs) != int(r["turns"]) or t["turns"] != int(r["turns"]):
        err(f"{key}: {len(asst)} assistant messages, {len(ok_reqs)} answered requests, {r['turns']} turns")
    # native calls carry ids; calls written as <tool_call> blocks are call_0, call_1, ... per reply
    ids = [c["id"] for m in asst for c in m.get("tool_calls", [])] + \
          [f"call_{i}" for m in asst if "tool_calls" not in m for i in range(m["content"].count("<tool_call>"))]
    answered = [m["tool_call_id"] for m in msgs if m["role"] == "tool"]
    n_calls_asked = len(ids)
    if st in ("correct", "wrong", "tool_errors", "no_answer") and sorted(ids) != sorted(answered):
        err(f"{key}: tool calls {ids} answered by {answered}")
    if len(calls) != int(r["tool_calls"]) or any("result" not in c or "seconds" not in c or "arguments" not in c
                                                  for c in calls):
        err(f"{key}: tool call log incomplete")
    if exp["kind"] == "multi" and st == "correct" and not any(len(m.get("tool_calls", [])) == 2 or
                                                              m["content"].count("<tool_call>") == 2 for m in asst):
        err(f"{key}: the two calls of one turn are not in one assistant message")
    if exp["kind"] == "toolerrors" and st == "tool_errors" and t["repeated_failed_calls"] < 1:
        err(f"{key}: tool_errors without a repeated failing call detected")
    if sum(q["prompt_tokens"] for q in reqs) != int(r["prompt_tokens"]) or \
       sum(q["completion_tokens"] for q in reqs) != int(r["completion_tokens"]):
        err(f"{key}: token counts do not add up")
    if abs(t["latency_s"] - float(r["latency_s"])) > 1e-9 or t["llm_s"] < sum(q["latency_s"] for q in ok_reqs) - 1e-9:
        err(f"{key}: latency does not add up")
    if not t["teacher"]["model"] or (ok_reqs and not t["teacher"]["endpoint"]):
        err(f"{key}: teacher model or endpoint missing")

for pid in expected:
    for k in range(args.samples):
        if seen[(pid, k)] != 1:
            err(f"({pid}, {k}) appears {seen[(pid, k)]} times")
if len(seen) != len(expected) * args.samples:
    err(f"{len(seen)} distinct samples, expected {len(expected) * args.samples}")
print("status table: " + ", ".join(f"{s} {table[s]}" for s in STATUS if table[s]))
print(f"{len(rows)} records checked, {len(errors)} problems")
sys.exit(1 if errors else 0)
