"""Writes the eval tests' fixture: two benchmarks, a scripted student for
tkd_testserver whose every answer is known in advance, and the truth.

  mb.jsonl   MATH-shaped (problem, solution with \\boxed{}, level, type, id): subjects and levels
  gs.jsonl   GSM8K-shaped (question, answer "... #### n")
  script.jsonl  one line per (arm, problem, sample), keyed by the tag tkd sends
             (X-TKD-Tag: ARM/PROBLEM-ID/SAMPLE)
  truth.json  per tag: the status tkd must record, the boxed answer, its value
             (None: no answer), whether it is right, the completion tokens

Each sample is one of: right (the gold written as n, n.0 or \\frac{2n}{2}),
wrong (n+1 or n+2, so wrong answers can win a vote), none (no answer at
all), cut (finish_reason length, a right boxed answer before the cut: still
status length, and counted correct).
Usage: gen_fixture.py OUTDIR ARMS K N_MB N_GS
"""
import hashlib
import json
import sys

out, arms, k, n_mb, n_gs = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
subjects = ["Algebra", "Geometry", "Number Theory"]


def h(*parts):
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "big")


probs = []  # (bench, id, gold, subject, level)
with open(f"{out}/mb.jsonl", "w") as f:
    for i in range(n_mb):
        g = 5 * i + 3
        pid = f"{i:04d}"
        subj, lvl = subjects[i % 3], 1 + i % 5
        f.write(json.dumps({"problem": f"Compute {g} - 0 (problem {pid}).", "solution": f"It is $\\boxed{{{g}}}$.",
                            "level": f"Level {lvl}", "type": subj, "id": pid}) + "\n")
        probs.append(("mb", f"mb/{pid}", g, subj, lvl))
with open(f"{out}/gs.jsonl", "w") as f:
    for i in range(n_gs):
        g = 11 * i + 2
        pid = f"{i:04d}"
        f.write(json.dumps({"question": f"Tom has {g} apples. How many? (q{pid})", "answer": f"He has {g}.\n#### {g}",
                            "id": pid}) + "\n")
        probs.append(("gs", f"gs/{pid}", g, "", 0))

truth = {}
# each arm has its own skill: the share of right samples differs
skill = {a: 0.35 + 0.3 * j / max(1, len(arms) - 1) for j, a in enumerate(arms)}
with open(f"{out}/script.jsonl", "w") as sf:
    for a in arms:
        for bench, pid, g, subj, lvl in probs:
            for s in range(k):
                u = (h(a, pid, s) % 1000) / 1000
                kind = "right" if u < skill[a] else "wrong" if u < skill[a] + 0.35 else "none" if u < 0.93 else "cut"
                form = h("form", a, pid, s) % 3
                if kind in ("right", "cut"):
                    ans, val = [f"{g}", f"{g}.0", f"\\frac{{{2 * g}}}{{2}}"][form], g
                elif kind == "wrong":
                    val = g + 1 + form % 2
                    ans = f"{val}"
                else:
                    ans, val = None, None
                tok = 10 + h("tok", a, pid, s) % 50
                text = ("I cannot tell." if ans is None else f"Working it out. The answer is $\\boxed{{{ans}}}$.")
                turn = {"content": text, "completion_tokens": tok}
                if kind == "cut":
                    turn["finish_reason"] = "length"
                    tok = turn["completion_tokens"] = 64
                tag = f"{a}/{pid}/{s}"
                sf.write(json.dumps({"problem": tag, "turns": [turn]}) + "\n")
                status = {"right": "correct", "wrong": "wrong", "none": "no_answer", "cut": "length"}[kind]
                truth[tag] = {"arm": a, "benchmark": bench, "id": pid, "sample": s, "subject": subj, "level": lvl,
                              "status": status, "answer": ans, "value": val, "correct": kind in ("right", "cut"),
                              "tokens": tok, "gold": g}
json.dump(truth, open(f"{out}/truth.json", "w"))
