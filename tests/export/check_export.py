"""Checks an export (tests/export/test_export.sh):
  check_export.py SFT_DIR SOLVE_TRACES.jsonl BT_RECORDS.jsonl PROBLEMS.jsonl DECON_ID
- manifest counts add up: records_in = dropped_total + kept, kept = train + valid,
  each file's lines, bytes and sha256 are what the manifest says;
- every example's origin (pid, sample) is a record of its store (nl: the
  back-translation store, tir: the solve store, gold: problems.h5);
- a problem's examples are all in train or all in valid;
- the decontaminated problem DECON_ID is listed with what it matched, and absent;
- tir lines carry tools, native tool_calls with arguments as JSON objects, and a
  tool message for each call; every line ends with an assistant reply with a boxed answer.
"""
import hashlib
import json
import os
import sys

sft, solve_f, bt_f, prob_f, decon_id = sys.argv[1:6]
solve = {(t["pid"], t["sample"]): t for t in map(json.loads, open(solve_f))}
bt = {(r["pid"], r["sample"]): r for r in map(json.loads, open(bt_f))}
probs = {p["pid"]: p for p in map(json.loads, open(prob_f))}
fails = 0


def check(cond, msg):
    global fails
    if not cond:
        fails += 1
        print("FAIL", msg)


for v in ("nl", "tir", "gold"):
    d = os.path.join(sft, v)
    m = json.load(open(os.path.join(d, "manifest.json")))
    c = m["counts"]
    check(c["records_in"] == c["dropped_total"] + c["kept"], f"{v}: records_in != dropped + kept: {c}")
    check(c["dropped_total"] == sum(c["dropped"].values()), f"{v}: dropped_total")
    check(c["kept"] == c["train"] + c["valid"], f"{v}: kept != train + valid")
    left = c["records_in"]
    for s in m["stages"]:
        left -= s["dropped"]
        check(s["left"] == left, f"{v}: stage {s['stage']} left {s['left']} != {left}")
    split = {}
    lines = {}
    for part in ("train", "valid"):
        raw = open(os.path.join(d, part + ".jsonl"), "rb").read()
        f = m["files"][part + ".jsonl"]
        check(f["sha256"] == hashlib.sha256(raw).hexdigest() and f["bytes"] == len(raw), f"{v}/{part}: sha256/bytes")
        ls = [json.loads(l) for l in raw.decode().splitlines()]
        check(len(ls) == f["lines"] == c[part], f"{v}/{part}: {len(ls)} lines, manifest {f['lines']}/{c[part]}")
        lines[part] = ls
        for x in ls:
            key = (x["pid"], x["sample"])
            if v == "nl":
                check(key in bt and bt[key]["status"] == "accepted", f"nl: origin {key} not an accepted bt record")
            elif v == "tir":
                check(key in solve and solve[key]["status"] == "correct", f"tir: origin {key} not a correct solve trace")
            else:
                check(x["pid"] in probs and x["sample"] == 0, f"gold: origin {key} not a problem")
            check(x["id"] == probs.get(x["pid"], {}).get("id"), f"{v}: id {x['id']} does not match its pid")
            check(split.setdefault(x["pid"], part) == part, f"{v}: problem {x['id']} in both train and valid")
            check(x["id"] != decon_id, f"{v}: decontaminated {decon_id} exported")
            msgs = x["messages"]
            check(msgs[0]["role"] == "system" and msgs[1]["role"] == "user", f"{v}: prompt roles")
            check(msgs[-1]["role"] == "assistant" and "\\boxed" in msgs[-1]["content"], f"{v}: last message")
            if v == "tir":
                check(isinstance(x.get("tools"), list) and x["tools"], "tir: no tools on the line")
                ncalls = 0
                for i, mm in enumerate(msgs):
                    for tc in mm.get("tool_calls") or []:
                        ncalls += 1
                        check(isinstance(tc["function"]["arguments"], dict), "tir: arguments not an object")
                    if mm.get("tool_calls"):
                        k = len(mm["tool_calls"])
                        check(all(t["role"] == "tool" for t in msgs[i + 1:i + 1 + k]), "tir: tool messages missing")
                check(ncalls == len(solve[(x["pid"], x["sample"])]["text"]["calls"]), "tir: calls lost")
    dl = {x["id"]: x for x in m["decontamination"]["dropped"]}
    check(decon_id in dl and dl[decon_id]["ngram"], f"{v}: {decon_id} not listed as decontaminated: {list(dl)}")
    print(f"ok   {v}: {c['records_in']} in, dropped {c['dropped']}, train {c['train']}, valid {c['valid']}")
sys.exit(1 if fails else 0)
