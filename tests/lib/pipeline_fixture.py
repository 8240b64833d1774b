"""The whole-pipeline tests' fixture (tests/lib/pipeline.sh): a small run that
goes through every phase in seconds against the project's stand-ins.
Usage: pipeline_fixture.py N DIR  ->  in DIR:
  problems.jsonl   N problems (bench JSONL: id, problem, solution), ids t/NNN
  teacher.jsonl    the stand-in teacher's script (jobs/standin_script.py, as
                   jobs/quickstart.sh makes it): solve, translator, judge and
                   rephrase replies canned from the gold answers
  e1.jsonl e2.jsonl  two small benchmarks (8 and 6 problems)
  evalsrv.jsonl    a scripted endpoint arm "oracle" for eval, keyed by its
                   X-TKD-Tag ARM/PROBLEM-ID/SAMPLE: right on two problems in
                   three, a completion length that varies per problem and
                   sample, so the accuracy and length checks have something
                   to count
"""
import json
import os
import subprocess
import sys

n, out = int(sys.argv[1]), sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
words = ["apples", "coins", "stones", "marbles", "cards", "books", "tiles", "shells"]
stand = []
with open(f"{out}/problems.jsonl", "w") as f:
    for i in range(n):
        a, b = 3 * i + 5, 7 * i + 11
        w = words[i % len(words)]
        f.write(json.dumps({"id": f"{i:03d}", "problem": f"Ann has {a} {w} and Bob gives her {b} more {w} "
                            f"on day {i}. How many {w} does Ann have now?", "solution": str(a + b)}) + "\n")
        stand.append(json.dumps({"id": f"t/{i:03d}", "answer": str(a + b)}))
script = subprocess.run([sys.executable, f"{root}/jobs/standin_script.py"], input="\n".join(stand) + "\n",
                        capture_output=True, text=True, check=True).stdout
# the judge rejects some derivations, so the per-tool table has every column:
# problems 1, 7, 13, ... at the first attempt (accepted after a retry),
# problems 3, 9, 15, ... at every attempt (rejected)
reject = {"content": '{"verdict": "reject", "reason": "the step does not follow"}'}
with open(f"{out}/teacher.jsonl", "w") as f:
    for line in script.splitlines():
        d = json.loads(line)
        key = d["problem"]
        if "/judge/" in key:
            i, att = int(key[2:5]), int(key.rsplit("/", 1)[1])
            if (i % 6 == 1 and att == 0) or i % 6 == 3:
                d["turns"] = [reject]
        f.write(json.dumps(d) + "\n")
with open(f"{out}/evalsrv.jsonl", "w") as ev:
    for name, m in (("e1", 8), ("e2", 6)):
        with open(f"{out}/{name}.jsonl", "w") as f:
            for j in range(m):
                a, b = j + 2, 2 * j + 3
                f.write(json.dumps({"id": f"{j:02d}", "problem": f"Multiply {a} by {b} ({name} item {j}).",
                                    "solution": str(a * b)}) + "\n")
                for s in range(2):
                    right = j % 3 != 2
                    ans = a * b if right else a * b + 1
                    ev.write(json.dumps({"problem": f"oracle/{name}/{j:02d}/{s}", "turns": [
                        {"content": f"The product is \\boxed{{{ans}}}.", "completion_tokens": 20 + 3 * j + s}]}) + "\n")
