#!/usr/bin/env bash
# The export phase's benchmark (issue #11): N solve traces and N
# back-translation records (N/4 problems from MATH train, 4 samples each) are
# exported to the nl, tir and gold sets with decontamination against every
# file of ../shared/data/bench plus MATH test, deduplication and the answer
# check, in one process (bench_export.c). Rate = store records read (solve +
# back-translation + problems) per second, by wall clock and by the process's
# CPU time (the machine may be shared). Target: >= 50,000 records/s on one core.
# Peers in the same run, on the same stores:
#   tkd store export   the plain JSONL dump of both stores (read every record, write it; no filter)
#   python             json.loads of that dump, open-r1's 8-gram decontamination
#                      (scripts/decontaminate.py's method) and one JSONL line per accepted record
set -euo pipefail
N=${TKD_BENCH_EXPORT_TRACES:-200000}
S=${TKD_SHARED:?}/data
[ -d "$S/math/train" ] || { echo "skip: $S is absent"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/tkd-bench-export.XXXXXX")
trap 'rm -rf "$W"' EXIT
out=$("$TKD_BUILD_DIR/bin/bench_export" "$N" "$W" "$S/math/train" -- "$S"/bench/*.jsonl "$S/math/test")
echo "$out" | grep -v '^EXPORT'
line=$(echo "$out" | grep '^EXPORT')
val() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
recs=$(val records); wall=$(val wall_s); cpu=$(val cpu_s)

t0=$(date +%s.%N)
"$TKD" store export "$W/solve.h5" --what traces --jsonl "$W/solve.jsonl" >/dev/null 2>&1
"$TKD" store export "$W/backtranslate.h5" --what traces --jsonl "$W/bt.jsonl" >/dev/null 2>&1
t1=$(date +%s.%N)
dump=$(echo "$t1 - $t0" | bc -l)

t0=$(date +%s.%N)
/usr/bin/python3 - "$W" "$S" <<'PY'
import glob, json, sys
w, s = sys.argv[1:3]
def grams(t, n=8):
    x = " ".join(t.lower().split()).split()
    return {" ".join(x[i:i + n]) for i in range(len(x) - n + 1)}
look = set()
for f in glob.glob(f"{s}/bench/*.jsonl") + glob.glob(f"{s}/math/test/*.jsonl"):
    for l in open(f):
        r = json.loads(l)
        look |= grams(r.get("problem") or r.get("question") or "")
seen = {}
with open(f"{w}/py.jsonl", "w") as out:
    for f, want in (("solve.jsonl", "correct"), ("bt.jsonl", "accepted")):
        for l in open(f"{w}/{f}"):
            r = json.loads(l)
            if r["status"] != want:
                continue
            t = r["text"]
            prob = t.get("problem") or t["messages"][1]["content"]
            if prob not in seen:
                seen[prob] = bool(grams(prob) & look)
            if seen[prob]:
                continue
            msgs = t["messages"][2:] if "messages" in t else [{"role": "assistant", "content": t["solution"]}]
            out.write(json.dumps({"messages": [{"role": "user", "content": prob}] + msgs, "pid": r["pid"],
                                  "sample": r["sample"]}) + "\n")
PY
t1=$(date +%s.%N)
py=$(echo "$t1 - $t0" | bc -l)

printf '\n| export of %s traces (%s store records) | seconds | records/s |\n|---|---:|---:|\n' "$N" "$recs"
printf '| tkd export, wall clock | %.2f | %.0f |\n' "$wall" "$(echo "$recs / $wall" | bc -l)"
printf '| tkd export, CPU time (one core) | %.2f | %.0f |\n' "$cpu" "$(echo "$recs / $cpu" | bc -l)"
printf '| peer: tkd store export (plain dump, no filters) | %.2f | %.0f |\n' "$dump" "$(echo "$recs / $dump" | bc -l)"
printf '| peer: python json + open-r1 decontamination | %.2f | %.0f |\n' "$py" "$(echo "$recs / $py" | bc -l)"
printf 'target >= 50000 records/s on one core: %s (machine load: %s)\n' \
  "$(echo "$recs / $cpu >= 50000" | bc -l | sed 's/1/met/; s/0/MISSED/')" "$(cut -d' ' -f1-3 /proc/loadavg)"
