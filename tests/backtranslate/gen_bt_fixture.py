"""Writes the back-translation tests' fixture: N problems, a scripted teacher
that solves each one correctly with 0 to 3 tool calls (for `tkd solve`), and
scripted translator, judge and rephrase replies keyed by the request tag
(ID#SAMPLE/ROLE/CALL/ATTEMPT), in kinds that between them reach every
back-translation status and every judge path:
  accept        right derivations, judge accepts             -> accepted
  fenced        the verdict inside a ```json fence            -> accepted
  exact_retry   1st derivation boxes a wrong result (exact stage rejects, no
                judge request), the 2nd is right              -> accepted
  exact_wrong   both derivations box wrong results            -> rejected (0 judge requests for the call)
  nobox         derivations without \\boxed{}                  -> rejected (0 judge requests)
  v_false, v_notcorrect, v_reject, v_empty, v_invalid, v_truejson
                the judge answers False / not correct / {"verdict":"reject"} /
                "" / invalid JSON / {"verdict": true} twice   -> rejected
  judge_retry   1st verdict reject, 2nd accept                -> accepted
  reph_wrong    the rephrased answer is wrong twice           -> rephrase_wrong
  reph_retry    wrong once, then right                        -> accepted
  leak          the solution mentions SymPy twice             -> leaked_tools
  notool        no tool call: rephrase only                   -> accepted
Tool calls: simplify_expression (a + b), gcd ([a, b]) and solve_equation
(a*x**2 - b*x, a list result ["0", "b/a"], boxed as "0, \\frac{b}{a}").
Usage: gen_bt_fixture.py N OUTDIR [--bench] -> problems.jsonl, script.jsonl, expected.json
(--bench: every trace of kind accept with 3 tool calls, for the benchmark)
expected.json: {"traces": {id: {kind, status, calls, judge}}, "judge_requests": n, ...}"""
import json
import math
import sys
from fractions import Fraction

n, out = int(sys.argv[1]), sys.argv[2]
bench = "--bench" in sys.argv[3:]
kinds = ["accept", "exact_retry", "accept", "v_false", "fenced", "exact_wrong", "v_notcorrect", "accept", "reph_wrong",
         "v_reject", "nobox", "v_empty", "judge_retry", "v_invalid", "reph_retry", "leak", "notool", "v_truejson",
         "accept", "accept"]
status = {"accept": "accepted", "fenced": "accepted", "exact_retry": "accepted", "exact_wrong": "rejected",
          "nobox": "rejected", "judge_retry": "accepted", "reph_wrong": "rephrase_wrong", "reph_retry": "accepted",
          "leak": "leaked_tools", "notool": "accepted"}
BAD_VERDICT = {"v_false": "False", "v_notcorrect": "not correct", "v_reject": '{"verdict": "reject", "reason": "step 2 is wrong"}',
               "v_empty": "", "v_invalid": '{"verdict": "accept"', "v_truejson": '{"verdict": true}'}
ACCEPT = '{"verdict": "accept", "reason": "every step is valid"}'
plan = {"content": "Plan: compute with the toolkit, then box the sum."}
traces, script_lines = {}, []
judge_total = translator_total = rephrase_total = 0
with open(f"{out}/problems.jsonl", "w") as pf:
    for i in range(n):
        a, b = 3 * i + 2, 7 * i + 3
        pid = f"{i:05d}"
        tid = f"t/{pid}"
        kind = "accept" if bench else kinds[i % len(kinds)]
        pf.write(json.dumps({"id": pid, "problem": f"What is {a} + {b}?", "solution": str(a + b)}) + "\n")
        ncalls = 3 if bench else 0 if kind == "notool" else 1 + i % 3
        calls = [{"name": "simplify_expression", "arguments": {"expression": f"{a} + {b}"}},
                 {"name": "gcd", "arguments": {"numbers": [a, b]}},
                 {"name": "solve_equation", "arguments": {"sympy_equation": f"{a}*x**2 - {b}*x", "variable": "x"}}][:ncalls]
        q = Fraction(b, a)
        results = [str(a + b), str(math.gcd(a, b)), f"0, \\frac{{{q.numerator}}}{{{q.denominator}}}"]
        wrongs = [str(a + b + 1), str(math.gcd(a, b) + 1), f"1, \\frac{{{q.numerator + 1}}}{{{q.denominator}}}"]
        turns = [plan] + ([{"content": "Computing.", "tool_calls": calls}] if calls else []) + \
                [{"content": f"So the answer is \\boxed{{{a + b}}}."}]
        script_lines.append({"problem": tid, "turns": turns})
        judge = 0
        for k in range(ncalls):
            tag = f"{tid}#0/translator/{k}"
            right = f"By hand: we work it out step by step and obtain \\boxed{{{results[k]}}}."
            wrong = f"By hand: we work it out and obtain \\boxed{{{wrongs[k]}}}."
            t = [right, right]
            if kind == "exact_retry":
                t = [wrong, right]
            elif kind == "exact_wrong":
                t = [wrong, wrong]
            elif kind == "nobox":
                t = ["By hand the result follows.", "It follows by hand."]
            for att in range(2):
                script_lines.append({"problem": f"{tag}/{att}", "turns": [{"content": t[att]}]})
            v = [ACCEPT, ACCEPT]
            if kind in BAD_VERDICT:
                v = [BAD_VERDICT[kind]] * 2
            elif kind == "fenced":
                v = ["```json\n" + ACCEPT + "\n```"] * 2
            elif kind == "judge_retry":
                v = ['{"verdict": "reject", "reason": "explain step 1"}', ACCEPT]
            for att in range(2):
                script_lines.append({"problem": f"{tid}#0/judge/{k}/{att}", "turns": [{"content": v[att]}]})
            # judge requests this call causes: one per derivation that passes the exact stage
            if kind in ("exact_wrong", "nobox"):
                judge += 0
                translator_total += 2
            elif kind == "exact_retry":
                judge += 1
                translator_total += 2
            elif kind in BAD_VERDICT or kind == "judge_retry":
                judge += 2
                translator_total += 2
            else:
                judge += 1
                translator_total += 1
        right = f"We add the numbers: {a} + {b} = {a + b}. Hence the answer is \\boxed{{{a + b}}}."
        r = [right, right]
        if kind == "reph_wrong":
            r = [f"Hence \\boxed{{{a + b + 2}}}."] * 2
        elif kind == "reph_retry":
            r = [f"Hence \\boxed{{{a + b + 2}}}.", right]
        elif kind == "leak":
            r = [f"Using SymPy we get \\boxed{{{a + b}}}."] * 2
        for att in range(2):
            script_lines.append({"problem": f"{tid}#0/rephrase/{att}", "turns": [{"content": r[att]}]})
        st = status.get(kind, "rejected")
        reph = 0 if st == "rejected" else (2 if kind in ("reph_wrong", "reph_retry", "leak") else 1)
        rephrase_total += reph
        judge_total += judge
        traces[tid] = {"kind": kind, "status": st, "calls": ncalls, "judge": judge, "answer": str(a + b),
                       "tools": [c["name"] for c in calls]}
with open(f"{out}/script.jsonl", "w") as sf:
    for l in script_lines:
        sf.write(json.dumps(l) + "\n")
json.dump({"traces": traces, "judge_requests": judge_total, "translator_requests": translator_total,
           "rephrase_requests": rephrase_total}, open(f"{out}/expected.json", "w"))
