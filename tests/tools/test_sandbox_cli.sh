#!/usr/bin/env bash
# tools: `tkd tool sandbox-check` (exit 0 when the strict sandbox works, 1
# with the reason otherwise), run_python from the CLI in both modes, and the
# tools.code job keys. Uses /usr/bin/python3.
set -u
TKD=${TKD:-build/bin/tkd}
PY=/usr/bin/python3
fail=0
pass=0
check() { # check NAME EXPECTED-RC ACTUAL-RC [GREP-PATTERN OUTPUT]
  if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fail=$((fail + 1)); return; fi
  if [ $# -ge 5 ] && ! grep -q -- "$4" <<<"$5"; then echo "FAIL $1: output lacks '$4': ${5:0:300}"; fail=$((fail + 1)); return; fi
  pass=$((pass + 1))
}
work=$(mktemp -d /tmp/tkd-sbx-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT

out=$("$TKD" tool sandbox-check --python $PY 2>&1); rc=$?
echo "$out"
if grep -q "strict sandbox runs:  yes" <<<"$out"; then
  check "sandbox-check: strict works, exit 0" 0 $rc 'tools.code.sandbox "strict" gets: strict' "$out"
  check "sandbox-check: numpy" 0 $rc "numpy importable:     yes" "$out"
  out=$("$TKD" tool call run_python '{"code": "import os\nprint(os.getuid(), os.getpid())"}' --python $PY); rc=$?
  check "run_python strict from the CLI" 0 $rc '"stdout":"65534 2\\n"' "$out"
else
  check "sandbox-check: strict fails, exit 1" 1 $rc "strict sandbox runs:  no: " "$out"
fi
# user namespaces turned off: exit 1, the reason, and what a job gets
out=$(TKD_SANDBOX_FORCE_WEAK=1 "$TKD" tool sandbox-check --python $PY 2>&1); rc=$?
check "sandbox-check forced weak: exit 1" 1 $rc "strict sandbox does not work here: .*user namespaces are turned off" "$out"
check "sandbox-check forced weak: allow-weak gets weak" 1 $rc 'tools.code.sandbox "allow-weak" gets: weak' "$out"
check "sandbox-check forced weak: strict gets an error" 1 $rc 'tools.code.sandbox "strict" gets: an error' "$out"
out=$(TKD_SANDBOX_FORCE_WEAK=1 "$TKD" tool call run_python '{"code": "print(1)"}' --python $PY); rc=$?
check "strict required, no namespaces: a tool error naming the key" 0 $rc 'allow-weak' "$out"
out=$(TKD_SANDBOX_FORCE_WEAK=1 "$TKD" tool call run_python '{"code": "print(7 * 6)"}' --python $PY --sandbox allow-weak); rc=$?
check "run_python weak from the CLI" 0 $rc '"stdout":"42\\n"' "$out"
out=$("$TKD" tool call run_python '{"code": "import time\nwhile True: pass"}' --python $PY --timeout 1); rc=$?
check "--timeout" 0 $rc 'time limit of 1 s' "$out"
out=$("$TKD" tool call run_python '{"code": "print(1)"}' --python relative/python3 2>&1); rc=$?
check "--python must be absolute" 2 $rc
out=$("$TKD" tool call run_python '{"code": "print(1)"}' --python /nonexistent/python3); rc=$?
check "a missing interpreter is a tool error" 0 $rc 'not an executable' "$out"

# the job keys
cat >"$work/job.json" <<JSON
{"output_dir": "$work/out", "solve": {"tools": ["run_python", "factor_integer"]},
 "tools": {"code": {"sandbox": "allow-weak", "timeout_s": 5, "memory_mb": 512, "output_bytes": 65536,
                    "scratch_mb": 16, "python": "$PY"}}}
JSON
out=$("$TKD" config check "$work/job.json" 2>&1); check "tools.code keys accepted" 0 $? 
sed 's/"allow-weak"/"weak"/' "$work/job.json" >"$work/bad.json"
out=$("$TKD" config check "$work/bad.json" 2>&1); check "tools.code.sandbox checked" 2 $? "strict|allow-weak" "$out"
sed 's/"timeout_s": 5/"timeout_s": 0/' "$work/job.json" >"$work/bad.json"
out=$("$TKD" config check "$work/bad.json" 2>&1); check "tools.code.timeout_s bounded" 2 $? "timeout_s" "$out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
