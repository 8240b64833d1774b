# Shared by the shell tests of models and training (tests/model/test_train.sh, test_train_device.sh,
# test_dry_run.sh, tests/cli/test_sbatch_gpu.sh): TKD and SRC, a scratch folder $W removed at exit,
# ok and bad (bad marks the test failed and it goes on: end with `exit $fail`), and tiny_config.
set -euo pipefail
TKD=${TKD:-build/bin/tkd}
SRC=${TKD_SOURCE_DIR:-.}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
# tiny_config FILE HIDDEN LAYERS HEADS KV_HEADS INTERMEDIATE VOCAB MAX_POS [MORE]: a small Qwen2
# config.json (RoPE theta 1e4, RMSNorm eps 1e-6, tied embeddings); MORE: further "key": value pairs
tiny_config() {
  printf '{"hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d,
 "intermediate_size": %d, "vocab_size": %d, "max_position_embeddings": %d, "rope_theta": 10000.0,
 "rms_norm_eps": 1e-6, "tie_word_embeddings": true%s}\n' "$2" "$3" "$4" "$5" "$6" "$7" "$8" "${9:+, $9}" > "$1"
}
