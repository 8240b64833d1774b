#!/usr/bin/env bash
# Every subcommand listed by `tkd --help` answers --help and -h with its
# usage on stdout and exit 0, without reading a job file or starting MPI
# (the arguments around the flag do not matter); `tkd help CMD` too. A
# command given wrong arguments still prints the same usage on stderr, exit 2.
set -euo pipefail
: "${TKD:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
cmds=$("$TKD" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
n=$(echo "$cmds" | wc -w)
[ "$n" -ge 15 ] || fail "only $n commands listed by tkd --help"
checked=0
for c in $cmds; do
  for args in "--help" "-h" "sub --help" "/nonexistent/job.json -h" "--set x=1 --help"; do
    case "$c:$args" in expr:*" -h" | grade:*" -h") continue ;; esac  # an operand there, see below
    set +e
    out=$("$TKD" $c $args 2> /tmp/tkd-help-err.$$); rc=$?
    set -e
    err=$(cat /tmp/tkd-help-err.$$); rm -f /tmp/tkd-help-err.$$
    [ $rc -eq 0 ] || fail "tkd $c $args: exit $rc ($err)"
    first=${out%%$'\n'*}
    [[ "$first" == "usage: tkd $c "* || "$first" == "usage: tkd $c" ]] || fail "tkd $c $args: no usage on stdout: $out"
    [ -z "$err" ] || fail "tkd $c $args wrote to stderr: $err"
    checked=$((checked + 1))
  done
  [ "$("$TKD" help $c)" = "$("$TKD" $c --help)" ] || fail "tkd help $c differs from tkd $c --help"
done
# -h is an operand of expr and grade past the first argument (minus h)
[ "$("$TKD" expr print -h)" = "-h" ] || fail "expr print -h is an expression"
[[ "$("$TKD" expr -h)" == "usage: tkd expr "* ]] || fail "expr -h"
# wrong arguments: the same usage on stderr, exit 2
for c in store tool expr model data; do
  set +e
  "$TKD" $c bogus-subcommand > /dev/null 2> /tmp/tkd-help-err.$$; rc=$?
  set -e
  first=$(head -1 /tmp/tkd-help-err.$$); rm -f /tmp/tkd-help-err.$$
  [ $rc -eq 2 ] || fail "tkd $c bogus-subcommand: exit $rc"
  [ "$first" = "$("$TKD" $c --help | head -1)" ] || fail "tkd $c: usage on error differs from --help: $first"
done
echo "$checked help calls over $n commands"
echo "1 passed, 0 failed"
