"""Script for the offline stand-in teacher of the quick start (tkd_testserver).

Reads problems exported from a store (`tkd store export OUT/problems.h5 --what
problems --jsonl -`) on stdin and writes one script per problem: a plan, one
call of the toolkit (simplify_expression on the gold answer), then a reply that
boxes the gold answer -- or, for every fifth problem, a wrong one -- so that
the demo exercises tool calls, tool results and grading. The replies are
canned from the gold answers: they measure the pipeline, not a model.
"""
import json
import sys

for i, line in enumerate(sys.stdin):
    p = json.loads(line)
    gold = p.get("answer")
    if gold is None:
        continue
    wrong = i % 5 == 4
    ans = f"{gold} + 1" if wrong else gold
    turns = [
        {"content": "Plan: check the value with the toolkit, then give it boxed."},
        {"content": "Checking.", "tool_calls": [
            {"name": "simplify_expression", "arguments": {"expression": gold}}]},
        {"content": f"So the answer is \\boxed{{{ans}}}."},
    ]
    print(json.dumps({"problem": p["id"], "turns": turns}))
