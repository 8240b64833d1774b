#!/usr/bin/env bash
# Bad input to `tkd backtranslate` is exit 2 with a message that says what to
# fix, on one process and on 2 ranks alike: no solve store yet, an unknown
# status in backtranslate.select, an unknown judge mode, a role without a
# model, a prompt file that does not exist.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
echo '{"id": "1", "problem": "What is 1+1?", "solution": "2"}' >problems.jsonl
port=9
job job.json "$work/out"
"$TKD" data import job.json >/dev/null 2>&1 || fail "import"
expect2() { # expect2 PATTERN ARGS...
  local pat=$1; shift
  set +e; "$@" >out.log 2>&1; rc=$?; set -e
  [ $rc = 2 ] || { cat out.log; fail "exit $rc, expected 2: $*"; }
  grep -q -- "$pat" out.log || { cat out.log; fail "no '$pat' in the message: $*"; }
}
expect2 "run tkd solve and tkd store merge first" "$TKD" backtranslate job.json
expect2 "run tkd solve and tkd store merge first" mpiexec -n 2 "$TKD" backtranslate job.json
expect2 "unknown status 'bogus'" "$TKD" backtranslate job.json --set 'backtranslate.select=["correct","bogus"]'
expect2 "is not one of exact+llm|exact|llm" "$TKD" backtranslate job.json --set backtranslate.judge.mode=fuzzy
expect2 "the translator role needs a model" "$TKD" backtranslate job.json --set teacher.model=
expect2 "backtranslate.prompts.judge_system" "$TKD" backtranslate job.json --set backtranslate.prompts.judge_system=nope.txt
ok "bad input: exit 2 with a message naming what to fix"
