#!/usr/bin/env bash
# tools: `tkd tool list` and `tkd tool call` exit codes and output shapes.
set -u
TKD=${TKD:-build/bin/tkd}
fail=0
pass=0
check() { # check NAME EXPECTED-RC ACTUAL-RC [GREP-PATTERN OUTPUT]
  if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fail=$((fail + 1)); return; fi
  if [ $# -ge 5 ] && ! grep -q -- "$4" <<<"$5"; then echo "FAIL $1: output lacks '$4': ${5:0:200}"; fail=$((fail + 1)); return; fi
  pass=$((pass + 1))
}
out=$("$TKD" tool list); check "list" 0 $? "solve_equation" "$out"
check "list counts" 0 0 "tools;" "$out"
out=$("$TKD" tool list --json); rc=$?
check "list --json" 0 $rc
n=$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert all(t["type"]=="function" and t["function"]["parameters"]["type"]=="object" for t in d); print(len(d))' <<<"$out")
check "specs are OpenAI tools" 0 $? "^[0-9]" "$n"
out=$("$TKD" tool call factor_expression '{"expression": "x**2 - 1"}'); check "call ok" 0 $? '"result":"(x [-+] 1)\*(x [-+] 1)"' "$out"
out=$("$TKD" tool call solve_equation '{"sympy_equation": "x**2 = 4", "variable": "x"}'); check "call list" 0 $? '\["-2","2"\]' "$out"
out=$("$TKD" tool call compute_inverse '{"matrix": [[1, 2], [2, 4]]}'); check "tool error exits 0" 0 $? '"status":"error"' "$out"
out=$("$TKD" tool call gcd '{"numbrs": [1]}'); check "bad key is a tool error" 0 $? "it takes: numbers" "$out"
"$TKD" tool call no_such_tool '{}' >/dev/null 2>&1; check "unknown tool" 2 $?
"$TKD" tool call gcd 'not json' >/dev/null 2>&1; check "non-JSON args" 2 $?
"$TKD" tool call gcd '[1, 2]' >/dev/null 2>&1; check "args not an object" 2 $?
"$TKD" tool frobnicate >/dev/null 2>&1; check "bad subcommand" 2 $?
tmp=$(mktemp)
printf '%s\n' '{"tool": "gcd", "args": {"numbers": [12, 18]}}' 'garbage' '{"tool": "binomial", "args": {"n": 5, "k": 2}}' >"$tmp"
out=$("$TKD" tool call --jsonl "$tmp" --workers 2); rc=$?
check "jsonl" 0 $rc '"result":"10"' "$out"
check "jsonl bad line" 0 0 "bad line" "$out"
lines=$(wc -l <<<"$out"); check "jsonl one answer per line" 3 "$lines"
rm -f "$tmp"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
