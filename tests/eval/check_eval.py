"""Checks an eval run against what is known and against the reference.

  check_eval.py RESULTS.json TRUTH.json RECORDS.jsonl K BOOTSTRAP SEED [--records-only]

1. The records (`tkd store export --what traces` of the merged store, or of
   each shard): one final record per (arm, problem, sample), with the
   status, answer, tokens and correctness the scripted student was given.
2. results.json equals the metrics computed by tests/eval/metrics_ref.py
   from the truth (answers clustered by their known values) ...
3. ... and from the exported records (answers clustered by `tkd grade`).
Exit 0 when all agree, 1 with the differences listed.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics_ref as ref  # noqa: E402

res_path, truth_path, rec_path = sys.argv[1:4]
k, B, seed = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
res = json.load(open(res_path))
truth = json.load(open(truth_path))
arms = list(dict.fromkeys(t["arm"] for t in truth.values()))
problems = {}
seen_p = set()
for t in truth.values():
    key = (t["benchmark"], t["id"])
    if key not in seen_p:
        seen_p.add(key)
        problems.setdefault(t["benchmark"], []).append((t["id"], t["subject"], t["level"]))
bad = []

# 1. the records
final = {}
for line in open(rec_path):
    r = json.loads(line)
    if r["phase"] != "eval" or r["status"] == "api_error":
        continue
    d = r["text"]
    tag = f'{d["arm"]}/{d["id"]}/{d["sample"]}'
    if tag in final:
        bad.append(f"{tag}: recorded twice")
        continue
    final[tag] = {"arm": d["arm"], "benchmark": d["benchmark"], "id": d["id"], "sample": d["sample"],
                  "subject": d.get("subject", ""), "level": d["level"], "status": r["status"], "answer": d["answer"],
                  "correct": d["correct"], "tokens": r["completion_tokens"]}
    # the sample's seed: from the run seed, the problem and the sample index (the same for every arm)
    b = seed.to_bytes(8, "little") + ref.hash64(d["id"].encode()).to_bytes(8, "little") + d["sample"].to_bytes(4, "little")
    if d["seed"] != ref.hash64(b) & 0x7FFFFFFF:
        bad.append(f"{tag}: seed {d['seed']} is not derived from the run seed, the problem and the sample")
    t = truth.get(tag)
    if t is None:
        bad.append(f"{tag}: not in the truth")
        continue
    for key, got in (("status", r["status"]), ("answer", d["answer"]), ("correct", d["correct"]),
                     ("tokens", r["completion_tokens"])):
        if got != t[key]:
            bad.append(f"{tag}: {key} {got!r}, want {t[key]!r}")
    if d["finish_reason"] != ("length" if t["status"] == "length" else "stop"):
        bad.append(f"{tag}: finish_reason {d['finish_reason']!r}")
missing = [tag for tag in truth if tag not in final]
if missing:
    bad.append(f"{len(missing)} samples have no record, e.g. {missing[:3]}")
print(f"records: {len(final)} samples, each once; {len(truth)} expected")

if "--records-only" in sys.argv:
    for x in bad[:30]:
        print("  " + x)
    sys.exit(1 if bad else 0)

# 2. results.json against the truth
vals = {t["answer"]: t["value"] for t in truth.values() if t["answer"] is not None}
want = ref.results(list(truth.values()), problems, arms, k, B, seed, lambda a, b: vals[a] == vals[b])
d2 = ref.compare(res, want)
bad += ["truth: " + x for x in d2]
print(f"results.json vs the known truth: {len(d2)} differences")

# 3. results.json against the reference on the records, clustering with `tkd grade`
cache = {}


def tkd_equal(a, b):
    if (a, b) not in cache:
        cache[(a, b)] = subprocess.run([os.environ["TKD"], "grade", a, b], capture_output=True).returncode == 0
    return cache[(a, b)]


got_ref = ref.results(list(final.values()), problems, arms, k, B, seed, tkd_equal)
d3 = ref.compare(res, got_ref)
bad += ["oracle: " + x for x in d3]
print(f"results.json vs the reference on the records ({len(cache)} tkd grade calls): {len(d3)} differences")
for x in bad[:30]:
    print("  " + x)
sys.exit(1 if bad else 0)
