#!/usr/bin/env bash
# model: tkd train --dry-run JOB.json prints the memory per GPU a job needs from
# the model's config.json alone (no weights, no GPU, any build):
#  - the Qwen2.5 0.5B, 1.5B and 7B shapes (config.json only): the frozen and trainable
#    parameter counts and the weights' GiB agree with an independent Python count,
#    for LoRA r 64 on every projection, LoRA r 16 on q,v, and full fine-tuning (0.5B);
#  - train.recompute lowers the activations figure and nothing else;
#  - a missing model folder, a missing config.json, bad JSON: exit 2 with the file named.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/model_test.sh"

shape() { # shape NAME hidden layers heads kv inter vocab tied
  mkdir -p "$W/$1"
  printf '{"architectures": ["Qwen2ForCausalLM"], "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
 "num_key_value_heads": %d, "intermediate_size": %d, "vocab_size": %d, "max_position_embeddings": 32768,
 "rope_theta": 1000000.0, "rms_norm_eps": 1e-06, "tie_word_embeddings": %s}\n' "$2" "$3" "$4" "$5" "$6" "$7" "$8" \
    > "$W/$1/config.json"
}
shape q05 896 24 14 2 4864 151936 true
shape q15 1536 28 12 2 8960 151936 true
shape q7 3584 28 28 4 18944 152064 false

# the independent count: Qwen2 tensors as Hugging Face names them; LoRA A (r,in) and B (out,r)
expect() { # expect NAME TARGETS R FULL -> "frozen trainable weights_gib"
  /usr/bin/python3 - "$W/$1/config.json" "$2" "$3" "$4" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); targets = sys.argv[2].split(","); r = int(sys.argv[3]); full = sys.argv[4] == "1"
C, L, H, KV = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"], c["num_key_value_heads"]
I, V, D = c["intermediate_size"], c["vocab_size"], c["hidden_size"] // c["num_attention_heads"]
shapes = {"q_proj": (H * D, C), "k_proj": (KV * D, C), "v_proj": (KV * D, C), "o_proj": (C, H * D),
          "gate_proj": (I, C), "up_proj": (I, C), "down_proj": (C, I)}
layer = sum(o * i for o, i in shapes.values()) + H * D + 2 * KV * D + 2 * C  # + q/k/v biases, two norms
base = V * C + L * layer + C + (0 if c["tie_word_embeddings"] else V * C)
lora = 0 if full else L * sum(r * (i + o) for t, (o, i) in shapes.items() if t in targets)
trainable = base if full else lora
# bf16 base; fp32 trainable masters; bf16 copies of the adapter for compute
weights = 2 * base + 4 * trainable + (0 if full else 2 * lora)
print(0 if full else base, trainable, "%.6f" % (weights / 2**30))
PY
}
job() { # job NAME MODEL KEY=VALUE...
  local name=$1 model=$2; shift 2
  printf '{"output_dir": "%s/out", "train": {"model_dir": "%s/%s", "seq_len": 4096, "batch": 1}}\n' "$W" "$W" \
    "$model" > "$W/$name.json"
  SETS=()
  for kv in "$@"; do SETS+=(--set "$kv"); done
}
field() { # field OUTPUT WORD: the number after "WORD " on the memory or parameters line
  grep -E '^(parameters|memory per GPU):' <<<"$1" | grep -oE "$2 [0-9.]+" | head -1 | cut -d' ' -f2
}
check() { # check LABEL MODEL TARGETS R FULL
  local label=$1 model=$2 targets=$3 r=$4 full=$5 out want
  job "$label" "$model" train.lora.r="$r" train.lora.targets="$targets" train.full_finetune=$([ "$full" = 1 ] && echo true || echo false)
  if ! out=$("$TKD" train --dry-run "$W/$label.json" "${SETS[@]}" 2>&1); then
    bad "$label: dry run failed: $out"; return
  fi
  read -r fz tr wg <<<"$(expect "$model" "$targets" "$r" "$full")"
  local gfz gtr gwg
  gfz=$(field "$out" frozen); gtr=$(field "$out" trainable); gwg=$(field "$out" weights)
  if [ "$gfz" = "$fz" ] && [ "$gtr" = "$tr" ] &&
     awk -v a="$gwg" -v b="$wg" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.001 + 1e-4 * b) }'; then
    ok "$label: frozen $gfz, trainable $gtr, weights $gwg GiB (Python: $wg)"
  else
    bad "$label: tkd frozen $gfz trainable $gtr weights $gwg GiB; Python $fz $tr $wg"; echo "$out"
  fi
  LAST=$out
}
all=q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj
check 0.5B-lora64 q05 "$all" 64 0
check 0.5B-full q05 "$all" 16 1
check 1.5B-lora16-qv q15 q_proj,v_proj 16 0
check 7B-lora64 q7 "$all" 64 0
# the 7B's counts are Qwen2.5-7B's published ones (7.62B parameters)
[ "$(field "$LAST" frozen)" = 7615616512 ] && ok "7B: 7,615,616,512 parameters as Qwen2.5-7B" || bad "7B parameters"
grep -q "^FLOPs per token: " <<<"$LAST" && grep -q "fits:.*139 GiB (H200) yes" <<<"$LAST" \
  && ok "7B: FLOPs per token and the partitions it fits are printed" || bad "7B: no FLOPs or fits line: $LAST"

# recompute: fewer activations, the same weights and state
job rc0 q7; a0=$("$TKD" train --dry-run "$W/rc0.json" --set train.lora.r=64)
b0=$("$TKD" train --dry-run "$W/rc0.json" --set train.lora.r=64 --set train.recompute=true)
if awk -v a="$(field "$a0" activations)" -v b="$(field "$b0" activations)" 'BEGIN { exit !(b < a / 2) }' &&
   [ "$(field "$a0" weights)" = "$(field "$b0" weights)" ] && [ "$(field "$a0" state)" = "$(field "$b0" state)" ]; then
  ok "7B recompute: activations $(field "$a0" activations) -> $(field "$b0" activations) GiB, weights and state unchanged"
else
  bad "recompute: $(grep '^memory' <<<"$a0") vs $(grep '^memory' <<<"$b0")"
fi

# bad input: exit 2, the file named
expect_fail() { # expect_fail LABEL PATTERN JOB [ARGS...]
  local label=$1 pat=$2 out rc; shift 2
  set +e; out=$("$TKD" train --dry-run "$@" 2>&1); rc=$?; set -e
  [ $rc -eq 2 ] && [[ "$out" == *$pat* ]] && ok "$label: exit 2, $out" || bad "$label: exit $rc: $out"
}
mkdir -p "$W/empty" "$W/badjson"
echo '{"hidden_size": 64, "num_hidden_layers": ' > "$W/badjson/config.json"
job nomodel nowhere; expect_fail "missing model folder" "nowhere/config.json" "$W/nomodel.json"
job noconf empty; expect_fail "no config.json" "empty/config.json" "$W/noconf.json"
job badj badjson; expect_fail "bad JSON" "badjson/config.json" "$W/badj.json"
printf '{"output_dir": "%s/out", "train": {}}\n' "$W" > "$W/nodir.json"
expect_fail "no train.model_dir" "train.model_dir is required" "$W/nodir.json"
job toolong q05; expect_fail "seq_len past the model's positions" "max_position_embeddings" "$W/toolong.json" \
  --set train.seq_len=40000
exit $fail
