#!/usr/bin/env bash
# tkd grade / tkd extract from the shell: verdict words and exit codes
# (0 equal, 1 different, 2 usage), the JSONL mode with pred and response
# lines, a bad line skipped with its line number, and extraction on stdin.
set -euo pipefail
TKD=${TKD:-build/bin/tkd}
fail=0
check() { # name expected actual
  if [ "$2" != "$3" ]; then echo "FAIL $1: expected [$2], got [$3]"; fail=1; else echo "ok   $1"; fi
}
set +e
out=$("$TKD" grade '\frac{1}{2}' '0.5'); rc=$?
check "equal word" equal "$out"; check "equal exit" 0 "$rc"
out=$("$TKD" grade '20' '0.2'); rc=$?
check "different word" different "$out"; check "different exit" 1 "$rc"
"$TKD" grade onlyone >/dev/null 2>&1; check "usage exit (one arg)" 2 $?
"$TKD" grade --timeout-ms abc 1 1 >/dev/null 2>&1; check "usage exit (bad timeout)" 2 $?
"$TKD" grade --bogus 1 1 >/dev/null 2>&1; check "usage exit (unknown option)" 2 $?
out=$("$TKD" grade -- '-1' '-1.0'); check "negative numbers after --" equal "$out"
reason=$("$TKD" grade '\frac13' '0.33' --reason 2>&1 >/dev/null)
check "reason names the rule" "exact rational" "$reason"
set -e

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/in.jsonl" <<'JSONL'
{"id": "a", "gold": "\\frac{1}{2}", "pred": "0.5"}
{"id": "b", "gold": "1728", "pred": "1331 and 1728"}
{"id": "c", "gold": "(3,\\infty)", "response": "We try $\\boxed{2}$ first. Then $x>3$ gives \\boxed{(3, \\infty)}."}
not json
{"id": "d", "gold": "5", "response": "no numbers here"}
JSONL
set +e
"$TKD" grade --jsonl "$tmp/in.jsonl" --out "$tmp/out.jsonl" 2> "$tmp/err"; rc=$?
set -e
check "jsonl exit" 0 "$rc"
check "jsonl lines" 4 "$(wc -l < "$tmp/out.jsonl")"
/usr/bin/python3 - "$tmp/out.jsonl" <<'PY' || fail=1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
want = {"a": True, "b": False, "c": True, "d": False}
ok = True
for r in rows:
    if r["equal"] != want[r["id"]] or "reason" not in r:
        print("FAIL jsonl row", r); ok = False
assert rows[2]["pred"] == "(3, \\infty)", rows[2]
assert rows[3]["pred"] is None, rows[3]
print("ok   jsonl verdicts" if ok else "FAIL jsonl verdicts")
sys.exit(0 if ok else 1)
PY
grep -q "in.jsonl:4:" "$tmp/err" && echo "ok   bad line reported with its number" || { echo "FAIL bad line"; fail=1; }

out=$(printf 'Let $x=5$. So $\\boxed{1}$ and $\\boxed{2}$.' | "$TKD" extract)
check "extract joined boxes" "1, 2" "$out"
out=$(printf 'She pays 3 dollars.\n#### 1,200\n' | "$TKD" extract --mode gsm8k)
check "extract gsm8k" "1,200" "$out"
set +e
printf 'nothing' | "$TKD" extract --mode boxed >/dev/null 2>&1; check "extract none exit" 1 $?
"$TKD" extract --mode nope </dev/null >/dev/null 2>&1; check "extract bad mode exit" 2 $?
set -e

# job-file keys: grade.extract, grade.timeout_ms, data.sources[].extract
cat > "$tmp/job.json" <<'JOB'
{"output_dir": "out", "grade": {"extract": "boxed", "timeout_ms": 500},
 "data": {"sources": [{"path": "gsm8k.jsonl", "extract": "gsm8k"}, {"path": "math.jsonl"}]}}
JOB
"$TKD" config check "$tmp/job.json" >/dev/null && echo "ok   job keys accepted" || { echo "FAIL job keys"; fail=1; }
set +e
"$TKD" config check "$tmp/job.json" --set grade.extract=boxes >/dev/null 2>&1; check "bad grade.extract refused" 2 $?
set -e
exit $fail
