#!/usr/bin/env bash
# model: train.device on a machine without a usable GPU (CI, a CPU-only build, or a
# CUDA build with no device):
#  - train.device cuda: exit 2 before any step, saying why (no CUDA in the build, or no device);
#  - train.device auto: trains on the CPU and says why; the losses equal train.device cpu's exactly;
#  - an unknown device is a job-file error (exit 2).
# Skips (77) where a GPU is visible: tests/gpu/run.sh covers the CUDA engine there.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/model_test.sh"
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  echo "skip: a GPU is visible here (tests/gpu/run.sh tests train.device cuda)"; exit 77
fi

tiny_config "$W/cfg.json" 32 1 2 1 64 64 64
"$TKD" model init "$W/cfg.json" "$W/base" --seed 3 --no-tokenizer >/dev/null
/usr/bin/python3 "$SRC/tests/model/make_sft.py" ids 8 64 "$W/sft.jsonl"
job() { # job NAME DEVICE
  printf '{"output_dir": "%s/%s", "seed": 7, "train": {"model_dir": "%s/base", "data": "%s/sft.jsonl", "seq_len": 16,
  "steps": 4, "lora": {"r": 4}, "device": "%s"}}\n' "$W" "$1" "$W" "$W" "$2" > "$W/$1.json"
}
losses() { grep -o '"loss":[^,]*' "$W/$1/train/train_log.jsonl" | cut -d: -f2; }

job c cuda
set +e; err=$("$TKD" train "$W/c.json" 2>&1); rc=$?; set -e
if [ $rc -eq 2 ] && [[ "$err" == *"train.device cuda: "*"built without CUDA"* || "$err" == *"train.device cuda: no usable CUDA device"* ]] &&
   [ ! -e "$W/c/train/train_log.jsonl" ]; then
  ok "train.device cuda without a GPU: exit 2, no step: ${err##*error: }"
else
  bad "train.device cuda: exit $rc: $err"
fi

job a auto
err=$("$TKD" train "$W/a.json" 2>&1) || bad "train.device auto failed: $err"
[[ "$err" == *"train.device auto: "*"training on the CPU"* ]] && ok "auto says why it trains on the CPU" \
  || bad "auto: no reason in the log: $err"
job p cpu
"$TKD" train "$W/p.json" -q
[ -n "$(losses a)" ] && [ "$(losses a)" = "$(losses p)" ] && ok "auto = cpu: $(losses a | wc -l) identical losses" \
  || bad "auto and cpu differ: $(losses a | tr '\n' ' ') / $(losses p | tr '\n' ' ')"
grep -q '"mfu"' "$W/p/train/train_log.jsonl" && bad "the CPU log has an mfu field" || ok "the CPU log keeps its fields"

job x tpu
set +e; err=$("$TKD" train "$W/x.json" 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && [[ "$err" == *train.device* ]] && ok "train.device tpu: exit 2" || bad "train.device tpu: exit $rc: $err"
exit $fail
