#!/usr/bin/env bash
# Bad input to tkd testwork: a job file with a typo, malformed JSON, a missing
# file, garbage where the problems file should be. Each is a clear error with
# the right exit code (2 for a bad job file or usage), never a crash, alone
# and under mpiexec -n 2.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
expect() { # expect RC PATTERN CMD...
  local want=$1 pat=$2
  shift 2
  set +e
  "$@" >"$work/out.txt" 2>&1
  local rc=$?
  set -e
  [ $rc -eq "$want" ] || { cat "$work/out.txt"; fail "$*: exit $rc, expected $want"; }
  grep -Eq "$pat" "$work/out.txt" || { cat "$work/out.txt"; fail "$*: no message matching '$pat'"; }
  ! grep -Eq "Segmentation|Aborted|core dumped|signal 11" "$work/out.txt" || fail "$*: crashed"
}
cat >"$work/typo.json" <<JSON
{"output_dir": "$work/out", "testwork": {"itemz": 5}}
JSON
expect 2 "unknown key 'testwork.itemz'.*did you mean 'testwork.items'" "$TKD" testwork "$work/typo.json"
expect 2 "unknown key 'testwork.itemz'" mpiexec -n 2 "$TKD" testwork "$work/typo.json"
[ "$(grep -c "unknown key" "$work/out.txt")" -eq 1 ] || fail "the error should be printed once, by rank 0"
ok "typo: exit 2 naming the key, alone and under mpiexec -n 2"
cat >"$work/type.json" <<JSON
{"output_dir": "$work/out", "dist": {"lease_max": "many"}}
JSON
expect 2 "dist.lease_max" "$TKD" testwork "$work/type.json"
printf '{"output_dir": "%s/out", "testwork": {"items": 5' "$work" >"$work/cut.json"
expect 2 "cut.json" "$TKD" testwork "$work/cut.json"
expect 2 "nope.json" "$TKD" testwork "$work/nope.json"
expect 2 "usage: tkd testwork" "$TKD" testwork
ok "wrong type, malformed JSON, missing file, no argument: exit 2 with a message"
mkdir -p "$work/out"
echo "this is not HDF5" >"$work/out/problems.h5"
cat >"$work/good.json" <<JSON
{"output_dir": "$work/out", "testwork": {"items": 5}}
JSON
set +e
mpiexec -n 2 "$TKD" testwork "$work/good.json" >"$work/out.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || [ $rc -eq 2 ] || { cat "$work/out.txt"; fail "garbage problems.h5: exit $rc"; }
grep -q "problems.h5" "$work/out.txt" || { cat "$work/out.txt"; fail "garbage problems.h5: no message naming it"; }
ok "garbage problems.h5: exit $rc with a message naming the file"
