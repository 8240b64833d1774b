"""Writes the solve tests' fixture: N problems (bench JSONL, gold answers) and
a scripted teacher for tkd_testserver (one line per problem id), in kinds
that between them reach every status the scripted server can produce:
  correct     plan, one tool call, the right boxed answer
  multi       plan, two tool calls in one turn, the right answer
  wrong       plan, one tool call, a wrong boxed answer
  noanswer    plan, then replies that never box an answer (next-action
              follow-ups, the wrap-up, then no_answer at max_turns)
  turnlimit   plan, then a tool call on every turn (turn_limit)
  toolerrors  plan, then the same two failing calls on every turn (the
              repeats are not run; tool_errors after solve.max_tool_errors)
  hermes-free reasoning text in a reply (stored per request)
Usage: gen_fixture.py N OUTDIR  -> OUTDIR/problems.jsonl, script.jsonl, expected.json
"""
import json
import sys

n, out = int(sys.argv[1]), sys.argv[2]
kinds = ["correct", "multi", "wrong", "noanswer", "turnlimit", "toolerrors", "correct", "multi", "correct", "wrong"]
expect = {"correct": "correct", "multi": "correct", "wrong": "wrong", "noanswer": "no_answer",
          "turnlimit": "turn_limit", "toolerrors": "tool_errors"}
plan = {"content": "Plan: add the two numbers with the toolkit, then box the sum.", "reasoning": "a plan"}
exp = {}
with open(f"{out}/problems.jsonl", "w") as pf, open(f"{out}/script.jsonl", "w") as sf:
    for i in range(n):
        a, b = 3 * i + 1, 7 * i + 2
        pid = f"{i:05d}"
        kind = kinds[i % len(kinds)]
        pf.write(json.dumps({"id": pid, "problem": f"What is {a} + {b}?", "solution": str(a + b)}) + "\n")
        call = {"name": "simplify_expression", "arguments": {"expression": f"{a} + {b}"}}
        if kind in ("correct", "wrong", "multi"):
            calls = [call] if kind != "multi" else [call, {"name": "gcd", "arguments": {"numbers": [a, b]}}]
            ans = a + b if kind != "wrong" else a + b + 1
            turns = [plan, {"content": "Computing.", "tool_calls": calls},
                     {"content": f"The tool says {a + b}. The answer is \\boxed{{{ans}}}.", "reasoning": "done"}]
        elif kind == "noanswer":
            turns = [plan, {"content": "I am not sure yet."}]
        elif kind == "turnlimit":
            turns = [plan, {"content": "Again.", "tool_calls": [call]}]
        else:
            bad = [{"name": "simplify_expression", "arguments": {"expression": f"{a} +* ("}},
                   {"name": "gcd", "arguments": {"numbers": "x"}}]
            turns = [plan, {"content": "Trying.", "tool_calls": bad}]
        sf.write(json.dumps({"problem": f"t/{pid}", "turns": turns}) + "\n")
        exp[f"t/{pid}"] = {"kind": kind, "status": expect[kind], "answer": str(a + b)}
json.dump(exp, open(f"{out}/expected.json", "w"))
