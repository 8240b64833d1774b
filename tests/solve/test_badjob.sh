#!/usr/bin/env bash
# Bad input to tkd solve gets one clear line naming the key or file, and
# exit 2 (bad job file) or 1 (missing input), never a crash or a hang:
# no teacher, an unknown tool, a missing prompt file, a user prompt without
# {problem}, out-of-range keys, no imported problems.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixture 5
port=1
job job.json "$work/out"
"$TKD" data import job.json >/dev/null 2>&1
echo "no placeholder" >user.txt
expect() { # expect CODE PATTERN --set ...
  local code=$1 pat=$2
  shift 2
  set +e
  timeout 60 "$TKD" solve job.json "$@" >out.log 2>&1
  local rc=$?
  set -e
  [ $rc = "$code" ] || { cat out.log; fail "$*: exit $rc, expected $code"; }
  grep -q -- "$pat" out.log || { cat out.log; fail "$*: no message matching '$pat'"; }
  grep -qi "sanitizer\|segmentation\|core dumped" out.log && fail "$*: crashed"
  ok "$* -> exit $code: $(grep -m1 -- "$pat" out.log | sed 's/^.*error: //')"
}
expect 2 "needs teacher.model and teacher.base_urls" --set 'teacher.base_urls=[]'
expect 2 "solve.tools\[0\]: unknown tool 'nope'" --set 'solve.tools=["nope"]'
expect 2 "solve.prompts.user: the prompt has no {problem} placeholder" --set solve.prompts.user=user.txt
expect 2 "key 'solve.max_turns': 0 is out of range" --set solve.max_turns=0
expect 2 "key 'solve.samples_per_problem': expected an integer" --set 'solve.samples_per_problem="x"'
set +e; "$TKD" solve job.json --set solve.prompts.system=/nonexistent/p.txt >out.log 2>&1; rc=$?; set -e
[ $rc -ne 0 ] && grep -q "solve.prompts.system: cannot open '/nonexistent/p.txt'" out.log || { cat out.log; fail "missing prompt file"; }
ok "a missing prompt file -> exit $rc: $(tail -1 out.log | sed 's/^.*error: //')"
set +e; "$TKD" solve job.json --set output_dir="$work/empty" >out.log 2>&1; rc=$?; set -e
[ $rc -ne 0 ] && grep -q "run \`tkd data import" out.log || { cat out.log; fail "no problems"; }
ok "no problems imported -> exit $rc: says to run tkd data import"
