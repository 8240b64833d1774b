#!/usr/bin/env bash
# tkd data import through the CLI: fixtures into a store, exit codes for bad
# job files and bad lines, and (when ../shared/data is there) every real file.
set -euo pipefail
: "${TKD:?}" "${TKD_SOURCE_DIR:?}"
fix=$TKD_SOURCE_DIR/tests/data/problems
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$t/job.json" <<JSON
{"output_dir": "$t/out", "data": {"sources": [
  {"path": "$fix/math_small.jsonl", "name": "m"},
  {"path": "$fix/bench_small.jsonl"},
  {"path": "$fix/gsm8k_small.jsonl", "format": "gsm8k", "name": "g"}]}}
JSON
"$TKD" data import "$t/job.json" > "$t/table" 2> "$t/log" || fail "import exited $?"
imported() { awk '$1 == "total" { print $3 }' "$1"; }
[ "$(imported "$t/table")" = 9 ] || { cat "$t/table"; fail "expected 9 problems imported (one duplicate id)"; }
"$TKD" store verify "$t/out/problems.h5" >/dev/null || fail "verify"
"$TKD" store export "$t/out/problems.h5" --what problems --jsonl "$t/p.jsonl" 2>/dev/null
[ "$(wc -l < "$t/p.jsonl")" -eq 9 ] || fail "export count"
grep -q '"id":"m/8".*"answer":"\\\\frac{1}{2}"' "$t/p.jsonl" || fail "gold of m/8"
grep -q '"id":"g/h' "$t/p.jsonl" || fail "hashed gsm8k id"

# a re-import replaces the problem set atomically (no temp files left)
"$TKD" data import "$t/job.json" >/dev/null 2>&1 || fail "re-import"
[ -z "$(ls "$t/out" | grep tmp || true)" ] || fail "temp file left behind"

# bad lines: skipped and reported with file:line, or fatal with exit 2
"$TKD" data import "$t/job.json" "$fix/bad.jsonl" > /dev/null 2> "$t/log" || fail "skip mode should pass"
grep -q "bad.jsonl:2: invalid JSON" "$t/log" || fail "bad line not reported"
set +e
"$TKD" data import "$t/job.json" "$fix/bad.jsonl" --set data.on_bad_line=fail > /dev/null 2> "$t/log"
rc=$?
set -e
[ $rc -eq 2 ] || fail "fail mode exit $rc"
grep -q "bad.jsonl:2:" "$t/log" || fail "fatal bad line message"

# a typo in the job file, a missing source, a missing job file: exit 2, clear message
echo '{"output_dir": "o", "data": {"sourcse": []}}' > "$t/typo.json"
set +e
"$TKD" data import "$t/typo.json" 2> "$t/log"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "unknown key 'data.sourcse' (did you mean 'data.sources'?)" "$t/log" || fail "typo: $rc $(cat "$t/log")"
echo "{\"output_dir\": \"$t/o2\", \"data\": {\"sources\": [{\"path\": \"$t/nope.jsonl\"}]}}" > "$t/missing.json"
set +e
"$TKD" data import "$t/missing.json" 2> "$t/log"; rc=$?
"$TKD" data import "$t/absent.json" 2>> "$t/log"; rc2=$?
set -e
[ $rc -eq 2 ] && grep -q "nope.jsonl' does not exist" "$t/log" || fail "missing source: $rc"
[ $rc2 -eq 2 ] && grep -q "absent.json' does not exist" "$t/log" || fail "missing job: $rc2"

# the per-source rows add up to the total row (a duplicate is counted where it
# is dropped, not imported there); a repeated source adds nothing
cat > "$t/dups.json" <<JSON
{"output_dir": "$t/dups", "data": {"sources": [
  {"path": "$fix/math_small.jsonl", "name": "m"}, {"path": "$fix/math_small.jsonl", "name": "m"},
  {"path": "$fix/bench_small.jsonl"}]}}
JSON
"$TKD" data import "$t/dups.json" > "$t/table" 2>/dev/null || fail "dups import"
awk 'NR > 1 && $1 != "total" { for (i = 2; i <= 6; i++) s[i] += $i }
     $1 == "total" { for (i = 2; i <= 6; i++) if (s[i] != $i) { print "column " i ": sources " s[i] ", total " $i; bad = 1 } }
     END { exit bad }' "$t/table" || { cat "$t/table"; fail "per-source counts do not add up to the total"; }
awk 'NR == 3 && !($3 == 0 && $5 == 0 && $6 == 4) { exit 1 }' "$t/table" || { cat "$t/table"; fail "repeated source row"; }
[ "$(imported "$t/table")" = 7 ] || fail "total imported"

# a UTF-8 byte-order mark before the first record is not a bad line; empty or
# unclosed boxes are no gold answer (never a wrong gold that fails every sample)
printf '\xef\xbb\xbf{"problem": "p1", "solution": "so $\\\\boxed{3}$", "type": "Algebra", "level": "Level 1", "id": "1"}\n' > "$t/bom.jsonl"
cat >> "$t/bom.jsonl" <<'EOF2'
{"problem": "p2", "solution": "so the answer is $\\boxed{}$.", "type": "Algebra", "level": "Level 1", "id": "2"}
{"problem": "p3", "solution": "so the answer is $\\boxed{4$.", "type": "Algebra", "level": "Level 1", "id": "3"}
{"problem": "p4", "solution": "\\boxed{5", "id": "4"}
{"problem": "p5", "solution": "\\boxed{1} or is it \\boxed{2", "id": "5"}
EOF2
echo "{\"output_dir\": \"$t/bom\", \"data\": {\"sources\": [{\"path\": \"$t/bom.jsonl\", \"name\": \"b\"}], \"on_bad_line\": \"fail\"}}" > "$t/bom.json"
"$TKD" data import "$t/bom.json" > "$t/table" 2> "$t/log" || { cat "$t/log"; fail "BOM file: exit $?"; }
awk '$1 == "total" && !($3 == 5 && $4 == 0 && $5 == 4) { exit 1 }' "$t/table" || { cat "$t/table"; fail "BOM/box counts"; }
"$TKD" store export "$t/bom/problems.h5" --what problems --jsonl "$t/bom_p.jsonl" 2>/dev/null
grep -q '"id":"b/1".*"answer":"3"' "$t/bom_p.jsonl" || fail "gold of the BOM line"
[ "$(grep -c '"answer":null' "$t/bom_p.jsonl")" = 4 ] || fail "empty or unclosed boxes must have no gold answer"
# the other JSONL readers skip a BOM too: grade --jsonl, tool call --jsonl
printf '\xef\xbb\xbf{"gold": "1/2", "pred": "0.5"}\n' > "$t/bom_grade.jsonl"
"$TKD" grade --jsonl "$t/bom_grade.jsonl" > "$t/bom_grade.out" 2>/dev/null
grep -q '"equal": *true' "$t/bom_grade.out" || fail "grade --jsonl with a BOM"
printf '\xef\xbb\xbf{"tool": "gcd", "args": {"numbers": [4, 6]}}\n' > "$t/bom_tool.jsonl"
"$TKD" tool call --jsonl "$t/bom_tool.jsonl" > "$t/bom_tool.out"
grep -q '"result"' "$t/bom_tool.out" || fail "tool call --jsonl with a BOM"

# an import where every line is bad (a wrong file or format) is exit 2, not an empty problem set
printf '{"a": 1}\nnot json\n' > "$t/allbad.jsonl"
echo "{\"output_dir\": \"$t/allbad\", \"data\": {\"sources\": [{\"path\": \"$t/allbad.jsonl\"}]}}" > "$t/allbad.json"
set +e
"$TKD" data import "$t/allbad.json" > /dev/null 2> "$t/log"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "no problem imported: all 2 lines were bad" "$t/log" || fail "all bad: exit $rc $(cat "$t/log")"
[ ! -e "$t/allbad/problems.h5" ] || fail "all bad: a problem file was written"

# every real file, when ../shared/data is beside the checkout
data=${TKD_SHARED:-}/data
if [ -d "$data" ]; then
  echo "{\"output_dir\": \"$t/real\", \"data\": {\"sources\": [{\"path\": \"$data\"}], \"on_bad_line\": \"fail\"}}" > "$t/real.json"
  "$TKD" data import "$t/real.json" > "$t/table" 2> "$t/log" || fail "real import"
  want=$(cat "$data"/math/train/*.jsonl "$data"/math/test/*.jsonl "$data"/bench/*.jsonl | wc -l)
  [ "$(imported "$t/table")" = "$want" ] || { cat "$t/table"; fail "expected $want problems"; }
  "$TKD" store verify "$t/real/problems.h5" > /dev/null || fail "verify real"
  echo "real data: $want problems imported"
else
  echo "skip real data: $data is absent"
fi
echo "1 passed, 0 failed"
