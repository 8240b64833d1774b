"""Back-translation fixture records, following the bt phase's record contract
(include/tkd/store.h; issue #10): phase backtranslate, pid and sample of the
source solve trace, a status, and a text with id, pid, sample, source_status,
problem, gold, calls, solution (or null) and answer.

Reads the solve traces (`tkd store export solve.h5 --what traces --jsonl -`)
on stdin, writes store_from_jsonl lines on stdout. Per problem index k (of the
correct traces' problems), in a cycle of 8:
  0-2  accepted: sample 0 a long solution, sample 1 the same with one word
       changed (a near duplicate), sample 2 a different solution
  3    partial (kept only with export.allow_partial)
  4    rejected (solution null)
  5    rephrase_wrong (a wrong boxed answer)
  6    accepted, but the solution boxes a wrong answer (the answer filter)
  7    accepted with a null solution (malformed)
plus one accepted record of a problem that is not in problems.h5.
"""
import json
import sys

FILLER = ("First we write both numbers in expanded form so that every place value is visible. "
          "Then we add the ones digits, carry whatever exceeds nine into the tens column, and add "
          "the tens digits together with the carry. Finally we collect the hundreds if there are any "
          "and read the sum from left to right, checking that each column was added exactly once "
          "and that no carry was forgotten along the way. ")


def solution(a, b, s, variant):
    if variant == 0:
        return f"We need {a} + {b}. {FILLER}This gives {s}, so the answer is $\\boxed{{{s}}}$."
    if variant == 1:  # one word changed
        return f"We need {a} + {b}. {FILLER.replace('Finally', 'Lastly')}This gives {s}, so the answer is $\\boxed{{{s}}}$."
    return f"Count up from {a} by {b}: the running total ends at {s}. Hence $\\boxed{{{s}}}$."


traces = [json.loads(l) for l in sys.stdin if l.strip()]
# a stable order (the store's follows the order the samples finished in), so
# each problem gets the same kind on every run: t/00000 is always accepted
traces.sort(key=lambda t: (t["text"]["id"], t["sample"]))
order = {}
for t in traces:
    if t["status"] == "correct":
        order.setdefault(t["pid"], len(order))
out = []
for t in traces:
    if t["status"] != "correct":
        continue
    doc = t["text"]
    k = order[t["pid"]] % 8
    first = next(m["content"] for m in doc["messages"] if m["role"] == "user")
    prob = first.split("Problem: ", 1)[-1].split("\n")[0]
    a, b = [int(x) for x in prob[len("What is "):].rstrip("?").split(" + ")]
    s, smp = a + b, t["sample"]
    status, sol = "accepted", solution(a, b, s, smp)
    if k == 3:
        status = "partial"
    elif k == 4:
        status, sol = "rejected", None
    elif k == 5:
        status, sol = "rephrase_wrong", f"The sum is $\\boxed{{{s + 1}}}$."
    elif k == 6:
        sol = f"Adding gives $\\boxed{{{s + 2}}}$."
    elif k == 7:
        sol = None
    calls = [{"name": c["name"], "arguments": c["arguments"], "result": c.get("result"),
              "translation": [{"attempt": 1, "text": f"By hand: {a} + {b} = {s}.", "verdict": "accept",
                               "reason": "exact match"}]} for c in doc.get("calls", [])]
    text = {"id": doc["id"], "pid": t["pid"], "sample": smp, "source_status": t["status"],
            "problem": prob, "gold": doc.get("gold"), "calls": calls, "solution": sol,
            "answer": str(s) if sol else None}
    out.append({"pid": t["pid"], "sample": smp, "status": status, "tool_calls": len(calls), "text": text})
ghost = dict(out[0])
ghost["pid"] = "00000000deadbeef"
ghost["text"] = dict(ghost["text"], pid="00000000deadbeef", id="t/ghost")
out.append(ghost)
for r in out:
    print(json.dumps(r))
