#!/usr/bin/env bash
# The builtin eval engine's generation on the CPU against a PyTorch
# generation loop with a KV cache, same weights, same prompts, same threads,
# in the same run: the model benchmark's shape (hidden 512, 8 layers, 8/2
# heads, intermediate 1408, vocab 151,936 tied), greedy, batch 1, 16 and 64.
# Decode tokens/s (after the batched prefill) and the speedup; target >= 2x
# at batch 16 and 64. Also the share of generated tokens on which the two
# agree (fp32 both; random weights make near-ties, so not always 100%).
# Environment: BENCH_THREADS (default: all cores), BENCH_P (32 prompt
# tokens), BENCH_N (32 new tokens), BENCH_BATCHES ("1 16 64"), BENCH_VOCAB.
set -euo pipefail
B=${TKD_BUILD_DIR:-build}/bin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=${BENCH_THREADS:-$(nproc)} P=${BENCH_P:-32} N=${BENCH_N:-32}
export OPENBLAS_NUM_THREADS=$T OMP_NUM_THREADS=$T
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cat >"$W/cfg.json" <<JSON
{"hidden_size": 512, "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 2,
 "intermediate_size": 1408, "vocab_size": ${BENCH_VOCAB:-151936}, "max_position_embeddings": 4096,
 "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": true, "eos_token_id": -1}
JSON
mkdir -p "$W/m"
"$B/bench_decode" --init "$W/cfg.json" "$W/m"
echo "builtin engine (tkd_decoder) vs PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') KV-cache loop;" \
  "hidden 512, 8 layers, vocab ${BENCH_VOCAB:-151936}; prompt $P, $N new tokens, greedy; $T threads"
printf "%6s %14s %14s %9s %10s\n" batch "tkd tok/s" "torch tok/s" speedup "agree %"
for b in ${BENCH_BATCHES:-1 16 64}; do
  "$B/bench_decode" "$W/m" "$b" "$P" "$N" >"$W/tkd.json"
  /usr/bin/python3 "$here/bench_decode_torch.py" "$W/m" "$b" "$P" "$N" "$T" >"$W/torch.json"
  /usr/bin/python3 - "$W/tkd.json" "$W/torch.json" "$b" <<'PY'
import json, sys
a, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
same = sum(x == y for ra, rt in zip(a["ids"], t["ids"]) for x, y in zip(ra, rt))
total = sum(len(r) for r in t["ids"])
print(f"{sys.argv[3]:>6} {a['decode_tok_s']:14.1f} {t['decode_tok_s']:14.1f} {a['decode_tok_s'] / t['decode_tok_s']:8.2f}x"
      f" {100 * same / total:9.1f}")
PY
done
