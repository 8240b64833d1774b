#!/usr/bin/env bash
# store: `tkd store merge DIR OUT` refuses (exit 2, OUT untouched, a message
# saying what to do) an OUT that is one of its inputs (the same file, by a
# symlink, or a new *.h5 in DIR by another spelling of the path), an existing
# file that is no store, a store of another phase, a store of another run;
# each is replaced with --force. A store of the same run and phase (a
# previous merge) is replaced without it; a folder is refused even with it.
set -uo pipefail
: "${TKD:?}" "${TKD_BUILD_DIR:?}"
writer=$TKD_BUILD_DIR/bin/store_writer
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
# expect CODE PATTERN CMD...: exit code and a line of stdout+stderr matching PATTERN
expect() {
  local want=$1 pat=$2
  shift 2
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want" ] || ! grep -qE -- "$pat" <<<"$out"; then
    echo "FAIL: $* -> exit $rc (want $want), output:"
    echo "$out" | head -5
    fails=$((fails + 1))
  fi
}
# unchanged FILE SUM: the file still has that sha256
unchanged() {
  [ "$(sha256sum <"$1")" = "$2" ] || { echo "FAIL: $1 was changed by a refused merge"; fails=$((fails + 1)); }
}
sum() { sha256sum <"$1"; }

printf '%s' '{"output_dir":"o","name":"exp1"}' >"$tmp/job.json"
printf '%s' '{"output_dir":"o","name":"exp1","seed":9}' >"$tmp/job_edited.json"
printf '%s' '{"output_dir":"p"}' >"$tmp/other.json"
/usr/bin/python3 - "$tmp/texts.bin" <<'PY'
import json, struct, sys
with open(sys.argv[1], "wb") as f:
    for i in range(30):
        t = json.dumps({"i": i}).encode()
        f.write(struct.pack("<I", len(t)) + t)
PY
mkdir -p "$tmp/shards" "$tmp/elsewhere"
M1='{"inputs":[],"name":"exp1"}'
TKD_SW_MANIFEST=$M1 "$writer" "$tmp/shards/r00000.a0.h5" "$tmp/texts.bin" "$tmp/job.json" || exit 1
TKD_SW_MANIFEST=$M1 "$writer" "$tmp/shards/r00001.a0.h5" "$tmp/texts.bin" "$tmp/job.json" || exit 1
in0=$tmp/shards/r00000.a0.h5

# OUT is one of the inputs
s0=$(sum "$in0")
expect 2 "refusing to merge into '.*r00000.a0.h5': it is one of the inputs.*--force" "$TKD" store merge "$tmp/shards" "$in0"
unchanged "$in0" "$s0"
ln -s "$tmp/shards/r00001.a0.h5" "$tmp/elsewhere/link.h5"
s1=$(sum "$tmp/shards/r00001.a0.h5")
expect 2 "it is one of the inputs" "$TKD" store merge "$tmp/shards" "$tmp/elsewhere/link.h5"
unchanged "$tmp/shards/r00001.a0.h5" "$s1"
expect 2 "it is one of the inputs" "$TKD" store merge "$tmp/shards" "$tmp/elsewhere/../shards/new.h5"
[ -e "$tmp/shards/new.h5" ] && { echo "FAIL: a refused merge wrote new.h5"; fails=$((fails + 1)); }
(cd "$tmp/shards" && expect 2 "it is one of the inputs" "$TKD" store merge . merged.h5)
# with --force the input is merged in, then replaced
expect 0 "merged 2 shards: 60 rows in, 30 out" "$TKD" store merge --force "$tmp/shards" "$in0"
expect 0 "^merged_from +\[\{\"file\":\"r00000.a0.h5\",\"rows\":30\}" "$TKD" store info "$in0"
expect 0 "ok$" "$TKD" store verify "$in0"

# an existing file that is no store
echo "my notes" >"$tmp/notes.h5"
s=$(sum "$tmp/notes.h5")
expect 2 "refusing to replace '.*notes.h5': it exists and is not a readable tkd store .*--force" \
  "$TKD" store merge "$tmp/shards" "$tmp/notes.h5"
unchanged "$tmp/notes.h5" "$s"
expect 0 "merged 2 shards" "$TKD" store merge "$tmp/shards" "$tmp/notes.h5" --force
expect 0 "^records +30" "$TKD" store info "$tmp/notes.h5"

# a store of another phase
mkdir -p "$tmp/evals"
TKD_SW_PHASE=eval TKD_SW_MANIFEST=$M1 "$writer" "$tmp/evals/r00000.a0.h5" "$tmp/texts.bin" "$tmp/job.json"
"$TKD" store merge "$tmp/evals" "$tmp/eval.h5" >/dev/null || { echo "FAIL: merge of the eval shards"; fails=$((fails + 1)); }
s=$(sum "$tmp/eval.h5")
expect 2 "refusing to replace '.*eval.h5': it is a store of phase 'eval' but the shards in '.*' are of phase 'solve'.*--force" \
  "$TKD" store merge "$tmp/shards" "$tmp/eval.h5"
unchanged "$tmp/eval.h5" "$s"
expect 0 "merged 2 shards" "$TKD" store merge "$tmp/shards" "$tmp/eval.h5" --force
expect 0 "^phase +solve" "$TKD" store info "$tmp/eval.h5"

# a store of another run (another job, no shared run name)
mkdir -p "$tmp/other"
"$writer" "$tmp/other/r00000.a0.h5" "$tmp/texts.bin" "$tmp/other.json"
"$TKD" store merge "$tmp/other" "$tmp/other.h5" >/dev/null || { echo "FAIL: merge of other"; fails=$((fails + 1)); }
s=$(sum "$tmp/other.h5")
expect 2 "refusing to replace '.*other.h5': it is a store of another run \(job sha256 [0-9a-f]{12}, run name 'none'\); the shards in .* are of job sha256 [0-9a-f]{12}, run name 'exp1'.*--force" \
  "$TKD" store merge "$tmp/shards" "$tmp/other.h5"
unchanged "$tmp/other.h5" "$s"
expect 0 "merged 2 shards" "$TKD" store merge --force "$tmp/shards" "$tmp/other.h5"

# the same run and phase: a previous merge is replaced without --force, also
# when the job file was edited between attempts of the same named run
expect 0 "merged 2 shards" "$TKD" store merge "$tmp/shards" "$tmp/m.h5"
expect 0 "merged 2 shards" "$TKD" store merge "$tmp/shards" "$tmp/m.h5"
mkdir -p "$tmp/edited"
TKD_SW_MANIFEST=$M1 "$writer" "$tmp/edited/r00000.a0.h5" "$tmp/texts.bin" "$tmp/job_edited.json"
expect 0 "merged 1 shards" "$TKD" store merge "$tmp/edited" "$tmp/m.h5"
# ... but the default run name tells nothing
mkdir -p "$tmp/dflt1" "$tmp/dflt2"
M2='{"inputs":[],"name":"tkd-run"}'
TKD_SW_MANIFEST=$M2 "$writer" "$tmp/dflt1/r00000.a0.h5" "$tmp/texts.bin" "$tmp/job.json"
TKD_SW_MANIFEST=$M2 "$writer" "$tmp/dflt2/r00000.a0.h5" "$tmp/texts.bin" "$tmp/other.json"
expect 0 "merged 1 shards" "$TKD" store merge "$tmp/dflt1" "$tmp/d.h5"
expect 2 "another run" "$TKD" store merge "$tmp/dflt2" "$tmp/d.h5"

# a folder as OUT: exit 2, also with --force
expect 2 "OUT '.*elsewhere' is a folder; give the path of the merged file" "$TKD" store merge "$tmp/shards" "$tmp/elsewhere"
expect 2 "is a folder" "$TKD" store merge --force "$tmp/shards" "$tmp/elsewhere"
[ -d "$tmp/elsewhere" ] || { echo "FAIL: the folder is gone"; fails=$((fails + 1)); }

# usage
expect 2 "tkd store merge DIR OUT \[--force\] \[--skip-damaged\]" "$TKD" store merge "$tmp/shards" "$tmp/x.h5" --frobnicate
expect 2 "usage" "$TKD" store merge "$tmp/shards"
expect 2 "usage" "$TKD" store merge "$tmp/shards" "$tmp/x.h5" "$tmp/y.h5"
# no temporary file left anywhere
if find "$tmp" -name "*.tmp.*" | grep -q .; then
  echo "FAIL: temporary files left: $(find "$tmp" -name "*.tmp.*")"
  fails=$((fails + 1))
fi

echo "test_merge_refuse.sh: $fails failures"
[ "$fails" = 0 ]
