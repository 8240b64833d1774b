#!/usr/bin/env bash
# cli: training on the GPU partition, what a CPU machine can check:
#  - tkd config sbatch JOB train: one rank per GPU (gpus_per_node or gres gpu:N alone
#    adds --ntasks-per-node=N; gpus_per_task 1 and an explicit ntasks_per_node pass
#    unchanged); several GPUs per rank, two ranks per GPU, a bad gres: exit 2;
#  - slurm/train_gpu.sbatch: valid bash, one task per GPU in its defaults, and run with a
#    stand-in srun it prints the job's memory plan and starts one `tkd train JOB
#    --set train.device=cuda` per task through srun --mpi=pmix.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/model_test.sh"

sb() { # sb TRAIN-SECTION-JSON: the train phase's options
  printf '{"output_dir": "%s/out", "slurm": {"train": %s, "solve": {"ntasks": 8}}}\n' "$W" "$1" > "$W/j.json"
  "$TKD" config sbatch "$W/j.json" train 2>&1
}
want() { # want LABEL SECTION EXPECTED
  local got; got=$(sb "$2") || true
  [ "$got" = "$3" ] && ok "$1: $got" || bad "$1: '$got', want '$3'"
}
want "gpus_per_node alone" '{"partition": "gpu", "nodes": 2, "gpus_per_node": 4}' \
  "--partition=gpu --nodes=2 --gpus-per-node=4 --ntasks-per-node=4"
want "gres gpu:TYPE:N alone" '{"nodes": 2, "gres": "gpu:h100:8"}' "--nodes=2 --gres=gpu:h100:8 --ntasks-per-node=8"
want "gpus_per_task 1 unchanged" '{"ntasks": 4, "gpus_per_task": 1}' "--ntasks=4 --gpus-per-task=1"
want "ntasks_per_node = gpus_per_node unchanged" '{"ntasks_per_node": 4, "gpus_per_node": 4}' \
  "--ntasks-per-node=4 --gpus-per-node=4"
[ -z "$(sb '{"partition": "gpu", "gpus_per_node": 4}' >/dev/null; "$TKD" config sbatch "$W/j.json" solve | grep -v -- --ntasks=8)" ] \
  && ok "other phases get no GPU option" || bad "solve got GPU options"
refuse() { # refuse LABEL SECTION PATTERN
  local out rc
  set +e; out=$(sb "$2"); rc=$?; set -e
  [ $rc -eq 2 ] && [[ "$out" == *$3* ]] && ok "$1: exit 2" || bad "$1: exit $rc: $out"
}
refuse "two GPUs per rank" '{"ntasks": 2, "gpus_per_task": 2}' "one rank per GPU"
refuse "two ranks per GPU" '{"ntasks_per_node": 8, "gpus_per_node": 4}' "must be equal"
refuse "gres and gpus_per_node disagree" '{"gres": "gpu:8", "gpus_per_node": 4}' "gres asks for 8"
refuse "malformed gres" '{"gres": "gpu:many"}' "want gpu:N"
# submit.sh's check before queueing (config check --phase) applies the same rules
set +e; out=$("$TKD" config check "$W/j.json" --phase solve 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && [[ "$out" == *"want gpu:N"* ]] && ok "config check --phase refuses the bad gres before queueing" \
  || bad "config check with a bad slurm.train.gres: exit $rc: $out"

# the batch script
S="$SRC/slurm/train_gpu.sbatch"
bash -n "$S" && ok "train_gpu.sbatch parses" || bad "train_gpu.sbatch: bash -n"
tpn=$(sed -n 's/^#SBATCH --ntasks-per-node=//p' "$S"); gpn=$(sed -n 's/^#SBATCH --gpus-per-node=//p' "$S")
[ -n "$tpn" ] && [ "$tpn" = "$gpn" ] && grep -q '^#SBATCH --signal=B:USR1@' "$S" && grep -q '^#SBATCH --requeue' "$S" \
  && ok "defaults: $tpn tasks per node = $gpn GPUs per node, USR1 before the limit, requeue" || bad "sbatch defaults"
for v in NCCL_DEBUG NCCL_SOCKET_IFNAME NCCL_IB_HCA; do
  grep -q "$v" "$S" || bad "train_gpu.sbatch does not document $v"
done
# run it with a stand-in srun that records its arguments
mkdir -p "$W/bin" "$W/m"
cat > "$W/bin/srun" <<'SH'
#!/usr/bin/env bash
printf '%s\n' "$@" > "$SRUN_LOG"
exit 0
SH
chmod +x "$W/bin/srun"
printf '{"hidden_size": 896, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
 "intermediate_size": 4864, "vocab_size": 151936, "max_position_embeddings": 32768, "tie_word_embeddings": true}\n' \
  > "$W/m/config.json"
printf '{"output_dir": "%s/out", "train": {"model_dir": "%s/m", "seq_len": 2048}}\n' "$W" "$W" > "$W/t.json"
set +e
err=$(cd "$W" && PATH="$W/bin:$PATH" SRUN_LOG="$W/srun.args" TKD="$TKD" TKD_SLURM_DIR="$SRC/slurm" SLURM_NTASKS=4 \
      SLURM_JOB_NUM_NODES=1 bash "$S" "$W/t.json" 2>&1); rc=$?
set -e
if [ $rc -eq 0 ] && [[ "$err" == *"tkd: plan: memory per GPU: weights"* ]] &&
   [ "$(tr '\n' ' ' < "$W/srun.args")" = "--mpi=pmix --kill-on-bad-exit=0 $TKD train $W/t.json --set train.device=cuda " ]; then
  ok "train_gpu.sbatch: the plan in the log, then srun --mpi=pmix tkd train JOB --set train.device=cuda"
else
  bad "train_gpu.sbatch run: exit $rc: $err; srun got: $(cat "$W/srun.args" 2>/dev/null | tr '\n' ' ')"
fi
exit $fail
