#!/usr/bin/env bash
# export: decontamination on real data (skips without ../shared/data).
#  - every MATH500 problem planted in a training set with changed whitespace,
#    case, LaTeX spacing, a reworded first sentence, or all four (2,500
#    problems) is dropped;
#  - of 5,000 MATH train problems (disjoint from MATH500) the ones flagged are
#    printed with the MATH500 problem and the n-gram they matched: MATH's
#    templated near-twins (same text, another number or function); fewer than 1.5%;
#  - the same with open-r1's rule (any one shared 8-gram) for comparison.
set -euo pipefail
: "${TKD:?}" "${TKD_SHARED:?}"
M500=$TKD_SHARED/data/bench/math500.jsonl
TRAIN=$TKD_SHARED/data/math/train
[ -f "$M500" ] && [ -d "$TRAIN" ] || { echo "skip: $TKD_SHARED/data is absent"; exit 0; }
xdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/tkd-decon.XXXXXX")
trap 'rm -rf "$W"' EXIT
/usr/bin/python3 "$xdir/plant.py" "$M500" "$W/planted.jsonl"
# the first 5,000 MATH train problems, in file order (ids train/<subject>/<id>)
mkdir -p "$W/train"
/usr/bin/python3 - "$TRAIN" "$W/train" <<'PY'
import glob, json, os, sys
left = 5000
with open(os.path.join(os.path.dirname(sys.argv[2]), "all.jsonl"), "w") as every:
    for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.jsonl"))):
        lines = open(f).readlines()[:left]
        left -= len(lines)
        open(os.path.join(sys.argv[2], os.path.basename(f)), "w").writelines(lines)
        stem = os.path.basename(f)[:-6]
        for l in lines:
            x = json.loads(l)
            x["id"] = f"train/{stem}/{x['id']}"
            every.write(json.dumps(x) + "\n")
PY
cat > "$W/job.json" <<JSON
{"output_dir": "$W/out",
 "data": {"sources": [{"path": "$W/planted.jsonl", "name": "planted", "format": "bench"},
                      {"path": "$W/train", "format": "math"}]},
 "eval": {"benchmarks": [{"name": "math500", "path": "$M500", "format": "bench"}]},
 "export": {"variants": ["gold"], "check_answer": false}}
JSON
report() { # report DIR LABEL: counts, and every flagged train problem
  /usr/bin/python3 - "$1/gold/manifest.json" "$W/all.jsonl" "$M500" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
dropped = {d["id"]: d for d in m["decontamination"]["dropped"]}
kinds = ["ws", "case", "latex", "reword", "all"]
ids = [json.loads(l)["id"] for l in open(sys.argv[3])]
missed = {k: [i for i in ids if f"planted/{k}/{i}" not in dropped] for k in kinds}
fps = [d for k, d in dropped.items() if k.startswith("train/")]
print(f"{sys.argv[4]}: planted removed " + ", ".join(f"{k} {500 - len(missed[k])}/500" for k in kinds)
      + f"; MATH train flagged {len(fps)}/5000")
if sys.argv[4].startswith("tkd"):
    train = {json.loads(l)["id"]: json.loads(l)["problem"] for l in open(sys.argv[2])}
    bench = {f"math500/{json.loads(l)['id']}": json.loads(l)["problem"] for l in open(sys.argv[3])}
    for d in fps:
        print(f"  flagged {d['id']} ~ {d['benchmark_id']} overlap {d['overlap']:.2f} ({d['matched']}/{d['grams']}) "
              f"n-gram '{d['ngram']}'\n    train: {train.get(d['id'], '?')[:110]!r}\n"
              f"    bench: {bench.get(d['benchmark_id'], '?')[:110]!r}")
    bad = sum(len(v) for v in missed.values())
    for k in kinds:
        for i in missed[k][:5]:
            print(f"  MISSED planted/{k}/{i}")
    sys.exit(1 if bad or len(fps) > 75 else 0)
PY
}
"$TKD" data import "$W/job.json" >/dev/null 2>&1
"$TKD" export "$W/job.json" -q --set export.out_dir="$W/a" >/dev/null
report "$W/a" "tkd (8-grams, overlap >= 0.5)" || { echo "FAIL decontamination"; exit 1; }
"$TKD" export "$W/job.json" -q --set export.out_dir="$W/b" --set export.decontaminate_overlap=0 >/dev/null
report "$W/b" "open-r1's rule (any shared 8-gram of tkd's words)"
# open-r1's own method for comparison (scripts/decontaminate.py: lower case,
# whitespace split, any shared word 8-gram), re-implemented here
/usr/bin/python3 - "$W/all.jsonl" "$W/planted.jsonl" "$M500" <<'PY'
import json, sys
def grams(t, n=8):
    w = " ".join(t.lower().split()).split()
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}
look = set()
for l in open(sys.argv[3]):
    look |= grams(json.loads(l)["problem"])
hit = lambda p: bool(grams(p) & look)
train = [json.loads(l)["problem"] for l in open(sys.argv[1])]
planted = [json.loads(l) for l in open(sys.argv[2])]
kinds = ["ws", "case", "latex", "reword", "all"]
got = {k: sum(hit(x["problem"]) for x in planted if x["id"].startswith(k + "/")) for k in kinds}
print("open-r1's decontaminate.py method: planted removed " + ", ".join(f"{k} {got[k]}/500" for k in kinds)
      + f"; MATH train flagged {sum(map(hit, train))}/5000")
PY
echo "ok   decontamination"
