#!/usr/bin/env bash
# Bad input to `tkd backtranslate` is exit 2 with a message that says what to
# fix, on one process and on 2 ranks alike: no solve phase yet (the gate), a
# solve store that is not one, an unknown
# status in backtranslate.select, an unknown judge mode, a role without a
# model, a prompt file that does not exist; and `tkd config check --phase`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
echo '{"id": "1", "problem": "What is 1+1?", "solution": "2"}' >problems.jsonl
port=9
job job.json "$work/out"
"$TKD" data import job.json >/dev/null 2>&1 || fail "import"
expect2() { # expect2 PATTERN ARGS...
  local pat=$1; shift
  set +e; "$@" >out.log 2>&1; rc=$?; set -e
  [ $rc = 2 ] || { cat out.log; fail "exit $rc, expected 2: $*"; }
  grep -Eq -- "$pat" out.log || { cat out.log; fail "no '$pat' in the message: $*"; }
}
expect2 "needs a complete solve phase" "$TKD" backtranslate job.json
expect2 "needs a complete solve phase" mpiexec -n 2 "$TKD" backtranslate job.json
# a solve store that is not one (the gate takes a store made by hand as it is)
echo "not hdf5" >out/solve.h5
expect2 "run tkd solve first" "$TKD" backtranslate job.json
expect2 "unknown status 'bogus'" "$TKD" backtranslate job.json --set 'backtranslate.select=["correct","bogus"]'
expect2 "is not one of exact+llm|exact|llm" "$TKD" backtranslate job.json --set backtranslate.judge.mode=fuzzy
expect2 "the translator role needs a model" "$TKD" backtranslate job.json --set teacher.model=
expect2 "backtranslate.prompts.judge_system" "$TKD" backtranslate job.json --set backtranslate.prompts.judge_system=nope.txt
rm out/solve.h5
# the same checks before anything runs (slurm/submit.sh calls this)
expect2 "the solve store .* does not exist: run tkd solve" "$TKD" config check job.json --phase backtranslate
expect2 "unknown status 'bogus'" "$TKD" config check job.json --phase solve,backtranslate \
  --set 'backtranslate.select=["bogus"]'
"$TKD" config check job.json --phase solve,backtranslate >out.log 2>&1 || { cat out.log; fail "config check of solve,backtranslate"; }
ok "bad input: exit 2 with a message naming what to fix (the phase, and tkd config check --phase)"
