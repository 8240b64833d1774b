#!/usr/bin/env bash
# model: tkd model init, tkd train and tkd generate end to end on a tiny Qwen2:
#  - overfit 20 chat examples (loss < 0.05), then greedy generation (--chat) reproduces every reply exactly;
#  - a run stopped by SIGTERM (exit 3) or killed by SIGKILL and resumed gives the same loss curve;
#  - 2 MPI ranks give the same losses as 1 rank with the same global batch (1e-5);
#  - PEFT adapter from LoRA training, merge-adapter, and generate --adapter agree.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/model_test.sh"

tiny_config "$W/cfg.json" 64 2 4 2 128 64 128 '"eos_token_id": 1, "bos_token_id": 2'
"$TKD" model init "$W/cfg.json" "$W/base" --seed 3 >/dev/null
/usr/bin/python3 "$SRC/tests/model/make_sft.py" ids 20 64 "$W/sft.jsonl"
/usr/bin/python3 "$SRC/tests/model/make_sft.py" chat 20 "$W/chat.jsonl"
tiny_config "$W/cfg_chat.json" 64 2 4 2 128 384 512 '"eos_token_id": 1, "bos_token_id": 2'
"$TKD" model init "$W/cfg_chat.json" "$W/chatbase" --seed 4 >/dev/null
[ -f "$W/chatbase/tokenizer.json" ] && ok "model init writes a tokenizer" || bad "model init: no tokenizer.json"
"$TKD" model init "$W/cfg_chat.json" "$W/copytok" --tokenizer "$W/chatbase" --bf16 >/dev/null
cmp -s "$W/chatbase/tokenizer.json" "$W/copytok/tokenizer.json" && ok "model init --tokenizer copies it" \
  || bad "model init --tokenizer"
"$TKD" model info "$W/copytok" | grep -q "vocab 384" && ok "model info reads a bf16 model" || bad "model info"

job() { # job NAME KEY=VALUE...
  local name=$1; shift
  printf '{"output_dir": "%s/%s", "seed": 11, "train": {"model_dir": "%s/base", "data": "%s/sft.jsonl", "seq_len": 32, "log_every": 0}}\n' \
    "$W" "$name" "$W" "$W" > "$W/$name.json"
  SETS=()
  for kv in "$@"; do SETS+=(--set "$kv"); done
}
losses() { grep -o '"loss":[^,]*' "$W/$1/train/train_log.jsonl" | cut -d: -f2; }
same() { # same A B TOL: loss curves equal within relative TOL
  paste <(losses "$1") <(losses "$2") | awk -v tol="$3" '
    { n++; d = $1 - $2; if (d < 0) d = -d; r = d / ($2 > 0 ? $2 : 1); if (r > m) m = r }
    END { printf "   %d steps, max relative difference %.2e\n", n, m; exit !(n > 0 && m <= tol) }'
}

# 1. overfit 20 chat examples with full fine-tuning, then generate the replies exactly
printf '{"output_dir": "%s/fit", "seed": 5, "train": {"model_dir": "%s/chatbase", "data": "%s/chat.jsonl", "seq_len": 256, "log_every": 0}}\n' \
  "$W" "$W" "$W" > "$W/fit.json"
"$TKD" train "$W/fit.json" --set train.full_finetune=true --set train.lr=3e-3 --set train.steps=300 \
  --set train.batch=2 --set train.packing=true --set train.warmup_steps=10 --set train.checkpoint_every=0 -q
last=$(losses fit | tail -1)
awk -v l="$last" 'BEGIN { exit !(l < 0.05) }' && ok "overfit: final loss $last < 0.05" || bad "overfit: final loss $last"
/usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    print(json.dumps({"messages": json.loads(l)["messages"][:2]}))' "$W/chat.jsonl" > "$W/prompts.jsonl"
"$TKD" generate "$W/fit/train/model" --chat-file "$W/prompts.jsonl" --max-new 60 --json > "$W/gen.jsonl"
exact=$(/usr/bin/python3 -c '
import json, sys
want = [json.loads(l)["messages"][2]["content"] for l in open(sys.argv[1])]
got = [json.loads(l)["text"] for l in open(sys.argv[2])]
print(sum(a == b for a, b in zip(want, got)))' "$W/chat.jsonl" "$W/gen.jsonl")
[ "$exact" -eq 20 ] && ok "generation (batch of 20 chats) reproduces 20/20 replies" \
  || { bad "generation reproduces $exact/20 replies"; head -3 "$W/gen.jsonl"; }
# a stop string ends the reply before it
chat1=$(head -1 "$W/prompts.jsonl" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())["messages"]))')
want=$(head -1 "$W/chat.jsonl" | /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["messages"][2]["content"].split(" = ")[0])')
got=$("$TKD" generate "$W/fit/train/model" --chat "$chat1" --stop " = " --max-new 60)
[ "$got" = "$want" ] && ok "--stop ' = ' cuts the reply: '$got'" || bad "--stop: got '$got', want '$want'"

# 2. resume: SIGTERM (exit 3) and SIGKILL, against an uninterrupted run
common=(train.lora.r=8 train.lora.alpha=16 train.lora.dropout=0.1 train.lr=1e-2 train.steps=40 train.batch=2
        train.grad_accum=2 train.checkpoint_every=5 train.weight_decay=0.01)
job ref "${common[@]}"; "$TKD" train "$W/ref.json" "${SETS[@]}" -q
for sig in TERM USR1 KILL; do
  job "r$sig" "${common[@]}"
  "$TKD" train "$W/r$sig.json" "${SETS[@]}" -q &
  pid=$!
  for _ in $(seq 1 3000); do
    [ -f "$W/r$sig/train/train_log.jsonl" ] && [ "$(wc -l < "$W/r$sig/train/train_log.jsonl")" -ge 12 ] && break
    sleep 0.01
  done
  kill -"$sig" $pid 2>/dev/null || true
  set +e; wait $pid; rc=$?; set -e
  n=$(wc -l < "$W/r$sig/train/train_log.jsonl")
  if [ $sig != KILL ]; then
    { [ $rc -eq 3 ] || [ $rc -eq 0 ]; } && ok "SIG$sig after $n steps: exit $rc" || bad "SIG$sig: exit $rc (want 3)"
  fi
  "$TKD" train "$W/r$sig.json" "${SETS[@]}" -q
  same ref "r$sig" 0 && ok "SIG$sig and resume: same loss curve" || bad "SIG$sig and resume: curves differ"
done
cmp -s "$W/ref/train/adapter/adapter_model.safetensors" "$W/rKILL/train/adapter/adapter_model.safetensors" \
  && ok "resumed adapter is bit-identical" || bad "resumed adapter differs"

# 3. two ranks, same global batch
if command -v mpiexec >/dev/null; then
  job one train.lora.r=4 train.lora.dropout=0.1 train.lr=1e-2 train.steps=12 train.batch=2 train.grad_accum=2
  "$TKD" train "$W/one.json" "${SETS[@]}" -q
  job two train.lora.r=4 train.lora.dropout=0.1 train.lr=1e-2 train.steps=12 train.batch=2 train.grad_accum=1
  mpiexec -n 2 "$TKD" train "$W/two.json" "${SETS[@]}" 2> "$W/two.err"
  grep -q "on 2 ranks" "$W/two.err" && ok "mpiexec -n 2 trains on 2 ranks" || bad "not 2 ranks: $(cat "$W/two.err")"
  same one two 1e-5 && ok "2 ranks = 1 rank (global batch 4)" || bad "2 ranks differ from 1 rank"
else
  echo "skip: mpiexec not found"
fi

# 4. adapter: merge-adapter and generate --adapter give the same tokens
"$TKD" merge-adapter "$W/base" "$W/ref/train/adapter" "$W/merged" >/dev/null
p1=$(head -1 "$W/sft.jsonl" | /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(",".join(map(str,d["input_ids"][:d["loss_mask"].index(1)])))')
a=$("$TKD" generate "$W/merged" --ids "$p1" --ids 2,5,9 --max-new 12 --temperature 0.7 --top-p 0.9 --seed 5)
b=$("$TKD" generate "$W/base" --adapter "$W/ref/train/adapter" --ids "$p1" --ids 2,5,9 --max-new 12 --temperature 0.7 --top-p 0.9 --seed 5)
[ -n "${a//[$'\n']/}" ] && [ "$a" = "$b" ] && ok "merge-adapter = generate --adapter (${a//[$'\n']/ | })" || bad "merge-adapter '$a' vs '$b'"
# bad input: a truncated adapter file is named in the error
head -c 100 "$W/ref/train/adapter/adapter_model.safetensors" > "$W/t.st"
cp "$W/ref/train/adapter/adapter_config.json" "$W/tr_cfg.json"
mkdir -p "$W/trunc" && mv "$W/t.st" "$W/trunc/adapter_model.safetensors" && mv "$W/tr_cfg.json" "$W/trunc/adapter_config.json"
set +e; err=$("$TKD" merge-adapter "$W/base" "$W/trunc" "$W/m2" 2>&1); rc=$?; set -e
[ $rc -ne 0 ] && [[ "$err" == *adapter_model.safetensors* ]] && ok "truncated adapter: $err" || bad "truncated adapter: rc $rc: $err"
# bad training data: named by file and line, exit 2, nothing written
printf '{"input_ids": [2, 3, 4], "loss_mask": [0, 1, 1]}\n{"input_ids": [2, 3]}\n{"input_ids": "x"}\n' > "$W/bad.jsonl"
job bad train.data="$W/bad.jsonl" train.steps=2
set +e; err=$("$TKD" train "$W/bad.json" "${SETS[@]}" 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && [[ "$err" == *bad.jsonl:3* ]] && ok "bad data line: exit 2, $err" || bad "bad data: rc $rc: $err"
printf '{"input_ids": [2, 3, 999], "loss_mask": [0, 1, 1]}\n' > "$W/bad.jsonl"
set +e; err=$("$TKD" train "$W/bad.json" "${SETS[@]}" 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && [[ "$err" == *999* ]] && ok "token id outside the vocabulary: exit 2" || bad "bad token: rc $rc: $err"
# rows with no trained token once cut to train.seq_len (32 here): left out with a
# warning naming them; when every one is empty, exit 2 before any work. The
# first line starts with a UTF-8 byte-order mark, which is not a bad line.
long=$(/usr/bin/python3 -c 'print(",".join(["5"] * 40))')
printf '\xef\xbb\xbf{"input_ids": [2, 3, 4, 5, 1], "loss_mask": [0, 0, 1, 1, 1]}\n' > "$W/empty.jsonl"
printf '{"input_ids": [2, 3, 4], "loss_mask": [0, 0, 0]}\n{"input_ids": [%s, 7, 1], "loss_mask": [%s, 1, 1]}\n' \
  "$long" "$(/usr/bin/python3 -c 'print(",".join(["0"] * 40))')" >> "$W/empty.jsonl"
job empty train.data="$W/empty.jsonl" train.steps=2
set +e; err=$("$TKD" train "$W/empty.json" "${SETS[@]}" 2>&1); rc=$?; set -e
[ $rc -eq 0 ] && [[ "$err" == *"2 of 3 training examples have no trained token within train.seq_len=32"*"examples 2, 3"* ]] \
  && ok "examples with no trained token: warned and left out" || bad "empty rows: rc $rc: $err"
tail -n 2 "$W/empty.jsonl" > "$W/allempty.jsonl"
job allempty train.data="$W/allempty.jsonl" train.steps=2
set +e; err=$("$TKD" train "$W/allempty.json" "${SETS[@]}" 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && [[ "$err" == *"none of the 2 training examples has a trained token"* ]] && [ ! -e "$W/allempty/train/train_log.jsonl" ] \
  && ok "every example empty after truncation: exit 2, $err" || bad "all empty: rc $rc: $err"
exit $fail
