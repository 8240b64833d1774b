"""Script for the offline stand-in teacher of the quick start (tkd_testserver).

Reads problems exported from a store (`tkd store export OUT/problems.h5 --what
problems --jsonl -`) on stdin and writes one script per problem: a plan, one
call of the toolkit (simplify_expression on the gold answer), then a reply that
boxes the gold answer -- or, for every fifth problem, a wrong one -- so that
the demo exercises tool calls, tool results and grading. The replies are
canned from the gold answers: they measure the pipeline, not a model.

For the back-translation phase it also answers the translator, judge and
rephrase requests (keyed by their X-TKD-Tag, "ID#SAMPLE/ROLE/CALL/ATTEMPT"):
a derivation boxing the gold answer, a JSON accept verdict, and a solution
boxing the gold answer (every seventh trace's first rephrase mentions SymPy,
so the leak check and its retry show in the demo).
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
    for sample in range(4):
        tag = f"{p['id']}#{sample}"
        for att in range(2):
            print(json.dumps({"problem": f"{tag}/translator/0/{att}", "turns": [{"content":
                f"Simplifying by hand, step by step, the expression equals \\boxed{{{gold}}}."}]}))
            print(json.dumps({"problem": f"{tag}/judge/0/{att}", "turns": [{"content":
                '{"verdict": "accept", "reason": "the simplification is valid"}'}]}))
            leak = att == 0 and i % 7 == 3
            print(json.dumps({"problem": f"{tag}/rephrase/{att}", "turns": [{"content":
                ("Using SymPy, " if leak else "Working by hand, ") +
                f"we simplify the expression and find the answer \\boxed{{{gold}}}."}]}))
