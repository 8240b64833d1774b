"""Plants MATH500 problems into a training set for the decontamination test:
  plant.py MATH500.jsonl OUT.jsonl
For each MATH500 problem, five copies, each changed one way or all ways:
  ws      whitespace: doubled spaces, line breaks, spaces around + and =
  case    upper case (or swapped case)
  latex   LaTeX spacing: \\, \\; \\! \\quad, \\left( \\right), \\dfrac for \\frac
  reword  the first sentence reworded (its opening words replaced)
  all     all four at once
Ids are planted/<kind>/<MATH500 id>; the solution is kept (the gold variant reads it).
"""
import json
import re
import sys

SYN = [("What is", "Find"), ("Find", "Determine"), ("Compute", "Calculate"), ("Let", "Suppose"),
       ("If", "Suppose that"), ("Simplify", "Reduce"), ("Evaluate", "Compute"), ("How many", "Count how many"),
       ("Determine", "Find"), ("Suppose", "Assume"), ("The", "This"), ("In", "Within"), ("A", "One"),
       ("Given", "Suppose we have"), ("Solve", "Find all solutions of"), ("For", "Whenever, for"),
       ("Express", "Write"), ("Consider", "Look at"), ("Two", "A pair of"), ("There", "Here")]


def reword(p):
    for a, b in SYN:
        if p.startswith(a + " ") or p.startswith(a + ","):
            return b + p[len(a):]
    return "Answer the following question. " + p  # no opening word we know: a new first sentence


def ws(p):
    p = p.replace(" ", "  ").replace("+", " + ").replace("=", " = ")
    return re.sub(r"\. ", ".\n", p)


def case(p, k):
    return p.upper() if k % 2 else p.swapcase()


def latex(p):
    p = p.replace("\\frac", "\\dfrac").replace("=", "\\,=\\,").replace("+", "\\;+\\;").replace("-", "\\!-\\!")
    return p.replace("(", "\\left(").replace(")", "\\right)").replace(", ", ",\\quad ")


src, out = sys.argv[1:3]
with open(out, "w") as f:
    for k, l in enumerate(open(src)):
        x = json.loads(l)
        p = x["problem"]
        for kind, q in (("ws", ws(p)), ("case", case(p, k)), ("latex", latex(p)), ("reword", reword(p)),
                        ("all", case(ws(latex(reword(p))), k))):
            f.write(json.dumps({"id": f"{kind}/{x['id']}", "problem": q, "solution": x["solution"],
                                "source": "planted"}) + "\n")
