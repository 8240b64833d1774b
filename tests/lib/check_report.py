"""Checks a finished run's report against the run's own records, read here
with h5py and json only (no tkd code): `tkd report` must say what the
stores say, and nothing may be counted twice.
Usage: check_report.py OUT [--teacher-requests N]
  OUT                  the run's output folder (report in OUT/report)
  --teacher-requests N the teacher's request count (tkd_testserver /stats):
                       must equal the requests recorded in OUT's solve and
                       back-translation stores (each asked once, none lost)
Checks:
  - every store: each item once (solve and back-translation: (pid, sample);
    eval: (arm, problem, sample)), every problem with the same samples;
  - back-translation covers exactly the correct solve traces, once each;
  - the funnel: problems, traces, correct, back-translated, kept, exported
    (train and valid lines of every OUT/sft variant);
  - solve counts by status; back-translation by status and the per-tool
    acceptance table (first attempt, after retries, rejected, kept as fact),
    and its row in report.md, and the funnel's rows;
  - eval, per arm and benchmark: n, accuracy of sample 0 (inside its 95% CI),
    pass@k, mean response tokens, length and no-answer shares, each row of
    report.md's table; per pair the discordant counts and McNemar's exact p;
    report.json's eval equals OUT/eval/results.json;
  - training: the curve is train_log.jsonl;
  - what the plots draw (their .dat files) is the records' numbers, and every
    plot report.md shows is a PNG with an IHDR of non-zero size.
Prints one line per part; exit 1 with the first difference.
"""
import collections
import glob
import json
import math
import os
import struct
import sys

import h5py

out = sys.argv[1]
teacher_requests = int(sys.argv[sys.argv.index("--teacher-requests") + 1]) if "--teacher-requests" in sys.argv else None
rep = json.load(open(f"{out}/report/report.json"))
md = open(f"{out}/report/report.md").read()
funnel = rep["funnel"]


def docs(path):
    """(record row, parsed text) of every row of a store."""
    with h5py.File(path, "r") as f:
        recs = f["records"][:]
        blob = f["text"][:].tobytes()
    for r in recs:
        o, n = int(r["text_off"]), int(r["text_len"])
        yield r, json.loads(blob[o:o + n])


def once(keys, what):
    c = collections.Counter(keys)
    twice = [k for k, v in c.items() if v > 1]
    assert not twice, f"{what}: counted more than once: {twice[:5]}"
    return set(c)


def close(a, b, what, eps=1e-9):
    assert abs(a - b) <= eps, f"{what}: report {a}, records {b}"


def requests_of(d):
    return sum(int(q.get("attempts", 1)) for q in d.get("requests", []))


# problems and solve
with h5py.File(f"{out}/problems.h5", "r") as f:
    n_problems = len(f["records"])
assert funnel["problems"] == n_problems, (funnel["problems"], n_problems)
solve = list(docs(f"{out}/solve.h5"))
skeys = once([(int(r["pid"]), int(r["sample"])) for r, _ in solve], "solve.h5")
per_pid = collections.defaultdict(set)
for p, s in skeys:
    per_pid[p].add(s)
k_solve = len(next(iter(per_pid.values())))
assert len(per_pid) == n_problems and all(v == set(range(k_solve)) for v in per_pid.values()), \
    "solve.h5: not every problem with samples 0..k-1"
st = collections.Counter(d["status"] for _, d in solve)
correct = {(int(r["pid"]), int(r["sample"])) for r, d in solve if d["status"] == "correct"}
assert rep["solve"]["by_status"] == dict(st), (rep["solve"]["by_status"], st)
assert funnel["solve_traces"] == len(solve) and funnel["solve_correct"] == len(correct), funnel
req = sum(requests_of(d) for _, d in solve)
print(f"solve: {n_problems} problems x {k_solve} samples, each once; {dict(st)}")

# back-translation
bt = list(docs(f"{out}/backtranslate.h5"))
bkeys = once([(int(r["pid"]), int(r["sample"])) for r, _ in bt], "backtranslate.h5")
assert bkeys == correct, f"back-translated {len(bkeys)} traces, {len(correct)} correct ones: not the same set"
bst = collections.Counter(d["status"] for _, d in bt)
b = rep["backtranslate"]
assert b["by_status"] == dict(bst) and b["traces"] == len(bt), (b["by_status"], bst)
assert funnel["backtranslate_traces"] == len(bt)
assert funnel["backtranslate_kept"] == bst["accepted"] + bst["partial"], funnel
tools = collections.defaultdict(lambda: collections.Counter())
for _, d in bt:
    req += requests_of(d)
    for c in d.get("calls", []):
        t = tools[c.get("tool", "(unnamed)")]
        tries = len(c.get("attempts", []))
        acc = c.get("outcome") == "accepted"
        t["calls"] += 1
        t["first_attempt"] += acc and tries <= 1
        t["after_retries"] += acc and tries > 1
        t["rejected"] += c.get("outcome") == "rejected"
        t["kept_as_fact"] += c.get("outcome") == "kept_as_fact"
keys5 = ("calls", "first_attempt", "after_retries", "rejected", "kept_as_fact")
want = {name: {k: t[k] for k in keys5} for name, t in tools.items()}
assert b["tools"] == want, (b["tools"], want)
assert want, "no tool call was back-translated: the acceptance table is empty"
for name, t in want.items():
    row = "| %s | %d | %d (%.1f%%) | %d | %d | %d |" % (name, t["calls"], t["first_attempt"],
                                                      100.0 * t["first_attempt"] / t["calls"], t["after_retries"],
                                                      t["rejected"], t["kept_as_fact"])
    assert row in md, f"report.md has no row {row}"
print(f"backtranslate: {len(bt)} traces = the correct solve traces, each once; {dict(bst)}; "
      f"acceptance per tool: {want}")
if teacher_requests is not None:
    assert req == teacher_requests, f"the teacher answered {teacher_requests} requests, the stores record {req}"
    print(f"teacher: {teacher_requests} requests = the requests recorded in solve.h5 and backtranslate.h5")
else:
    print(f"teacher requests recorded in solve.h5 and backtranslate.h5: {req}")

# export
ex = {}
for v in sorted(glob.glob(f"{out}/sft/*/train.jsonl")):
    d = os.path.dirname(v)
    ex[os.path.basename(d)] = {s: sum(1 for _ in open(f"{d}/{s}.jsonl")) for s in ("train", "valid")}
assert funnel["export"] == ex, (funnel["export"], ex)
assert sum(e["train"] + e["valid"] for e in ex.values()) > 0, "nothing exported"
print(f"export: {ex}")

# eval
res = json.load(open(f"{out}/eval/results.json"))
assert rep["eval"] == res, "report.json's eval is not OUT/eval/results.json"
ev = list(docs(f"{out}/eval.h5"))
once([(d["arm"], d["id"], d["sample"]) for _, d in ev], "eval.h5")
groups = collections.defaultdict(lambda: collections.defaultdict(dict))  # (arm, bench) -> id -> sample -> doc
for _, d in ev:
    groups[(d["arm"], d["benchmark"])][d["id"]][d["sample"]] = d
k = res["k"]
first = {}
for (arm, bench), probs in groups.items():
    g = res["arms"][arm]["benchmarks"][bench]
    assert all(set(s) == set(range(k)) for s in probs.values()), f"{arm}/{bench}: not k samples per problem"
    samples = [d for s in probs.values() for d in s.values()]
    acc = sum(bool(s[0]["correct"]) for s in probs.values()) / len(probs)
    first[(arm, bench)] = {pid: bool(s[0]["correct"]) for pid, s in probs.items()}
    assert g["n"] == len(probs) and g["missing"] == 0 and g["samples"] == k, (arm, bench, g)
    close(g["accuracy"], acc, f"{arm}/{bench} accuracy")
    assert 0 <= g["ci95"][0] <= acc + 1e-12 and acc - 1e-12 <= g["ci95"][1] <= 1, (arm, bench, g["ci95"], acc)
    close(g["pass@k"][str(k)], sum(any(d["correct"] for d in s.values()) for s in probs.values()) / len(probs),
          f"{arm}/{bench} pass@{k}")
    mean_tok = sum(d["completion_tokens"] for d in samples) / len(samples)
    close(g["mean_response_tokens"], mean_tok, f"{arm}/{bench} mean response tokens")
    close(g["length_share"], sum(d["status"] == "length" for d in samples) / len(samples), f"{arm}/{bench} length")
    close(g["no_answer_share"], sum(d["status"] == "no_answer" for d in samples) / len(samples),
          f"{arm}/{bench} no answer")
    row = "| %s | %s | %d | %.1f%% | [%.1f, %.1f] | %.0f |" % (arm, bench, len(probs), 100 * acc, 100 * g["ci95"][0],
                                                              100 * g["ci95"][1], mean_tok)
    assert row in md, f"report.md has no row {row}"
    print(f"eval {arm}/{bench}: n {len(probs)}, accuracy {acc:.4f} in {g['ci95']}, "
          f"mean response tokens {mean_tok:.2f}")
assert {(a, b) for a, av in res["arms"].items() for b in av["benchmarks"]} == set(groups), "arms/benchmarks differ"
for p in res["pairs"]:
    fa, fb = first[(p["a"], p["benchmark"])], first[(p["b"], p["benchmark"])]
    a_only = sum(fa[i] and not fb[i] for i in fa)
    b_only = sum(fb[i] and not fa[i] for i in fa)
    m = a_only + b_only
    pv = min(1.0, 2 * sum(math.comb(m, i) for i in range(min(a_only, b_only) + 1)) / 2 ** m) if m else 1.0
    assert (p["a_only"], p["b_only"], p["n"]) == (a_only, b_only, len(fa)), (p, a_only, b_only)
    close(p["mcnemar_p"], pv, f"{p['a']} vs {p['b']} on {p['benchmark']}: McNemar p", 1e-9)
    close(p["diff"], (sum(fb.values()) - sum(fa.values())) / len(fa), "paired difference")
print(f"eval: {len(ev)} samples, each once; {len(res['pairs'])} pairs: discordant counts and McNemar p agree")

# training
log = [json.loads(l) for l in open(f"{out}/train/train_log.jsonl") if l.strip()]
curve = [[d["step"], d["loss"], d["lr"]] for d in log if "loss" in d]
tr = rep["train"]
assert tr["steps"] == curve[-1][0] and len(tr["curve"]) == len(curve), (tr["steps"], len(curve))
for a, c in zip(tr["curve"], curve):
    assert a[0] == c[0] and abs(a[1] - c[1]) < 1e-6 and abs(a[2] - c[2]) < 1e-9, (a, c)
print(f"train: {tr['steps']} steps, the curve is train_log.jsonl")

# what the plots draw: their data files hold the records' numbers
def dat(name):
    rows = {}
    for line in open(f"{out}/report/{name}"):
        if line.strip():
            lab, rest = line.rsplit('"', 1)
            rows[lab.strip('"')] = [float(x) for x in rest.split()]
    return rows


fd = dat("funnel.dat")
for lab, v in (("problems", n_problems), ("traces", len(solve)), ("correct", len(correct)),
               ("back-translated", len(bt)), ("accepted", bst["accepted"] + bst["partial"])):
    assert fd.get(lab) == [v], f"funnel.dat {lab}: {fd.get(lab)}, records {v}"
assert dat("bt_acceptance.dat") == {n: [t["first_attempt"], t["after_retries"], t["kept_as_fact"], t["rejected"]]
                                    for n, t in want.items()}, dat("bt_acceptance.dat")
ed = dat("eval.dat")
for (arm, bench), probs in groups.items():
    g = res["arms"][arm]["benchmarks"][bench]
    got, acc = ed[f"{arm}/{bench}"], 100 * sum(first[(arm, bench)].values()) / len(probs)
    samples = [d for s in probs.values() for d in s.values()]
    tok = sum(d["completion_tokens"] for d in samples) / len(samples)
    assert abs(got[0] - acc) < 1e-4 and abs(got[3] - tok) < 1e-3, (arm, bench, got, acc, tok)
    assert abs(got[1] - 100 * g["ci95"][0]) < 1e-4 and abs(got[2] - 100 * g["ci95"][1]) < 1e-4, (arm, bench, got)
td = [[float(x) for x in l.split()] for l in open(f"{out}/report/train.dat") if l.strip()]
assert len(td) == len(curve) and all(a[0] == c[0] and abs(a[1] - c[1]) < 1e-6 for a, c in zip(td, curve)), td[:3]
for lab, v in (("problems", n_problems), ("solve traces", len(solve)), ("correct traces", len(correct)),
               ("back-translated", len(bt)), ("accepted (or partial)", bst["accepted"] + bst["partial"])):
    assert f"| {lab} | {v} |" in md, f"report.md's funnel has no row | {lab} | {v} |"
for v, e in ex.items():
    assert f"| exported `{v}` (train + valid) | {e['train'] + e['valid']} |" in md, f"report.md's funnel: {v}"
print("plot data (funnel, bt_acceptance, eval, train) and report.md's funnel rows agree with the records")

# plots
shown = set(__import__("re").findall(r"\]\(([^)]+\.png)\)", md))
want_plots = {"funnel.png", "solve_subject.png", "bt_acceptance.png", "eval_accuracy.png", "eval_tokens.png",
              "train_loss.png"}
assert want_plots <= shown, f"report.md does not show {want_plots - shown}"
for p in sorted(shown):
    data = open(f"{out}/report/{p}", "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{p}: not a PNG"
    ln, typ, w, h = struct.unpack(">I4sII", data[8:24])
    assert typ == b"IHDR" and ln == 13 and w > 0 and h > 0, f"{p}: bad IHDR {typ} {w}x{h}"
    assert data[-8:-4] == b"IEND", f"{p}: no IEND chunk (cut short?)"
print(f"plots: {len(shown)} PNGs, each with a non-empty IHDR and an IEND: {', '.join(sorted(shown))}")
