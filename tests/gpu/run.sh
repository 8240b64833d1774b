#!/usr/bin/env bash
# tests/gpu/run.sh: the ONE script a GPU session runs on the device machine (one
# H200; the whole run stays under 8 minutes, every step under its own timeout):
#   1. the GPU: nvidia-smi, the driver, CUDA's libraries found for tkd;
#   2. tkd: the carried build-gpu-pack/carry.tar.xz (tests/gpu/prepare.sh made it on
#      the CPU machine), else a carried build/, else a build here (cmake with CUDA; this
#      needs tkd's Debian libraries, which the device image lacks);
#   3. every tests/gpu program (gpu_test_*: the kernels and the model against the
#      CPU reference, the adapter check);
#   4. the GPU benchmark (bench_train_gpu: the 7B, 1.5B and 0.5B shapes);
#   5. tkd train on the GPU (a tiny model from `tkd model init`): uninterrupted,
#      stopped by SIGTERM and resumed, killed by SIGKILL and resumed: the same
#      losses and the same adapter bytes; the step line's MFU and GPU memory; the
#      loss curve against train.device cpu;
#   6. the adapter trained on the GPU, loaded by the CPU engine: the CPU's greedy
#      tokens are the GPU forward's argmax (gpu_test_adapter_greedy on that adapter);
#   7. two ranks with NCCL when the machine has two GPUs or more (else skipped).
# Writes $OUT/summary.txt (one line per check; also printed last), $OUT/env.txt,
# $OUT/bench_train_gpu.txt and $OUT/logs.tar.gz (every log). Exit 0 when no check failed.
# In a session (after bash tests/gpu/prepare.sh here):
#   run(command="bash tests/gpu/run.sh", carry=["build-gpu-pack"], timeout_s=540)
set -uo pipefail
T0=$(date +%s)
BUDGET=${TKD_GPU_BUDGET_S:-450} # seconds for everything (the device call gets 540)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/tkd-gpu-out.XXXXXX)} # the device tool's $OUT, or a new folder
mkdir -p "$OUT"
W=$(mktemp -d)
L=$W/logs
mkdir -p "$L"
S=$OUT/summary.txt
: > "$S"
n_ok=0 n_fail=0 n_skip=0
res() { # res ok|FAIL|skip NAME DETAIL
  printf '%-4s %-30s %s\n' "$1" "$2" "$3" | tee -a "$S"
  case $1 in ok) n_ok=$((n_ok + 1)) ;; skip) n_skip=$((n_skip + 1)) ;; *) n_fail=$((n_fail + 1)) ;; esac
}
left() { echo $((BUDGET - ($(date +%s) - T0))); }
lim() { # lim WANT: a timeout that leaves 15 s for the rest
  local l; l=$(($(left) - 15))
  [ "$l" -lt "$1" ] && echo $((l > 5 ? l : 5)) || echo "$1"
}
finish() {
  (cd "$W" && tar czf "$OUT/logs.tar.gz" logs 2>/dev/null)
  echo "---- tests/gpu/run.sh: $n_ok ok, $n_fail failed, $n_skip skipped in $(($(date +%s) - T0)) s" | tee -a "$S"
  echo "==== summary ($S)"
  cat "$S"
  rm -rf "$W"
  exit $((n_fail > 0))
}

# ---- 1. the GPU
{
  date -u
  nvidia-smi 2>&1
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv 2>&1
  command -v nvcc >/dev/null && nvcc --version | tail -2
  uname -a
  ldd --version 2>&1 | head -1
} > "$OUT/env.txt" 2>&1
NGPU=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
if [ "${NGPU:-0}" -lt 1 ]; then
  res FAIL gpu "nvidia-smi lists no GPU (see env.txt)"
  finish
fi
res ok gpu "$NGPU GPU(s): $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)"

# ---- 2. tkd
LDP=""
C=$ROOT/build-gpu-carry
if [ ! -x "$C/bin/tkd" ] && [ -f "$ROOT/build-gpu-pack/carry.tar.xz" ]; then
  mkdir -p "$W/carry" && tar xJf "$ROOT/build-gpu-pack/carry.tar.xz" -C "$W/carry" && C=$W/carry/build-gpu-carry
fi
if [ -x "$C/bin/tkd" ]; then
  BIN=$C/bin
  LDP=$C/lib
  export OMPI_MCA_mca_base_component_path=$C/ompi
  how="carried build-gpu-carry (prepare.sh)"
elif [ -x "$ROOT/build/bin/tkd" ]; then
  BIN=$ROOT/build/bin
  how="carried build/"
else
  how="built here"
  if timeout "$(lim 240)" cmake -S "$ROOT" -B "$ROOT/build-gpu" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
       > "$L/build.log" 2>&1 && timeout "$(lim 240)" cmake --build "$ROOT/build-gpu" -j16 >> "$L/build.log" 2>&1; then
    BIN=$ROOT/build-gpu/bin
  else
    res FAIL build "no carried build and cmake failed here (logs/build.log; run tests/gpu/prepare.sh here and carry build-gpu-pack)"
    finish
  fi
fi
# CUDA's big libraries (cuBLASLt, NCCL) come from the device: its CUDA, or its Python's nvidia-* wheels
dirs=(/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu)
while read -r d; do dirs+=("$d"); done < <(python3 -c '
import os
try:
    import nvidia
    for p in nvidia.__path__:
        for d in sorted(os.listdir(p)):
            if os.path.isdir(os.path.join(p, d, "lib")): print(os.path.join(p, d, "lib"))
except Exception: pass' 2>/dev/null)
for lib in $(LD_LIBRARY_PATH=$LDP ldd "$BIN/tkd" 2>/dev/null | awk '/not found/ {print $1}'); do
  for d in "${dirs[@]}"; do
    if [ -e "$d/$lib" ]; then LDP=${LDP:+$LDP:}$d; break; fi
  done
done
export LD_LIBRARY_PATH=${LDP}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMPI_MCA_ess_singleton_isolated=1 OMPI_MCA_mca_base_component_show_load_errors=0 # one rank: no orted
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
TKD=$BIN/tkd
missing=$(ldd "$TKD" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')
if [ -n "$missing" ] || ! "$TKD" config keys > "$L/tkd_smoke.log" 2>&1; then
  res FAIL tkd "$how: $TKD does not start (missing: ${missing:-none}; logs/tkd_smoke.log)"
  ldd "$TKD" >> "$L/tkd_smoke.log" 2>&1
  finish
fi
res ok tkd "$how ($TKD)"

# ---- 3. the tests/gpu programs (the adapter check runs again in 6 on the trained adapter)
for t in "$BIN"/gpu_test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  (cd "$ROOT/tests/gpu" && timeout "$(lim 120)" "$t") > "$L/$name.log" 2>&1
  rc=$?
  case $rc in
    0) res ok "$name" "$(grep -cE '^ok' "$L/$name.log") ok lines; $(tail -1 "$L/$name.log" | cut -c1-100)" ;;
    77) res skip "$name" "$(tail -1 "$L/$name.log" | cut -c1-120)" ;;
    124) res FAIL "$name" "timed out (logs/$name.log)" ;;
    *) res FAIL "$name" "exit $rc: $(grep -m1 FAIL "$L/$name.log" | cut -c1-120) (logs/$name.log)" ;;
  esac
done
ls "$BIN"/gpu_test_* > /dev/null 2>&1 || res FAIL tests/gpu "no gpu_test_* program in $BIN"

# ---- 4. the benchmark
if [ -x "$BIN/bench_train_gpu" ]; then
  timeout "$(lim 150)" "$BIN/bench_train_gpu" > "$OUT/bench_train_gpu.txt" 2>&1
  rc=$?
  grep -q '^skipped' "$OUT/bench_train_gpu.txt" && rc=77
  case $rc in
    0) res ok bench_train_gpu "table in bench_train_gpu.txt" ;;
    77) res skip bench_train_gpu "$(tail -1 "$OUT/bench_train_gpu.txt" | cut -c1-120)" ;;
    *) res FAIL bench_train_gpu "exit $rc (bench_train_gpu.txt)" ;;
  esac
else
  res skip bench_train_gpu "not built (tests/bench/bench_train_gpu.c missing from this tree)"
fi

# ---- 5. tkd train on the GPU: stop, kill, resume
python3 "$ROOT/tests/model/make_sft.py" ids 20 64 "$W/sft.jsonl" > /dev/null
cat > "$W/cfg.json" <<JSON
{"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
 "intermediate_size": 128, "vocab_size": 64, "max_position_embeddings": 128, "rope_theta": 10000.0,
 "rms_norm_eps": 1e-6, "tie_word_embeddings": true, "eos_token_id": 1, "bos_token_id": 2}
JSON
"$TKD" model init "$W/cfg.json" "$W/base" --seed 3 --no-tokenizer > "$L/model_init.log" 2>&1
job() { # job NAME DEVICE [KEY=VALUE...]: a job file and its --set list in SETS
  local name=$1 dev=$2
  shift 2
  printf '{"output_dir": "%s/%s", "seed": 11, "train": {"model_dir": "%s/base", "data": "%s/sft.jsonl", "seq_len": 32,
  "device": "%s", "lora": {"r": 8, "alpha": 16, "dropout": 0.1}, "lr": 1e-2, "steps": 40, "batch": 2, "grad_accum": 2,
  "checkpoint_every": 5, "weight_decay": 0.01}}\n' "$W" "$name" "$W" "$W" "$dev" > "$W/$name.json"
  SETS=()
  for kv in "$@"; do SETS+=(--set "$kv"); done
}
losses() { grep -o '"loss":[^,]*' "$W/$1/train/train_log.jsonl" 2>/dev/null | cut -d: -f2; }
adapter() { echo "$W/$1/train/adapter/adapter_model.safetensors"; }
maxdiff() { # maxdiff A B: the largest |a-b| of two safetensors files' float32 data
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
def load(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); d = b[8 + n:]
    return {k: struct.unpack("<%df" % ((v["data_offsets"][1] - v["data_offsets"][0]) // 4),
                             d[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in h.items() if k != "__metadata__"}
a, b = load(sys.argv[1]), load(sys.argv[2])
print("%.3g" % max(max(abs(x - y) for x, y in zip(a[k], b[k])) for k in a))
PY
}
job ref cuda
timeout "$(lim 90)" "$TKD" train "$W/ref.json" > "$L/train_ref.log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ "$(losses ref | wc -l)" -ne 40 ]; then
  res FAIL "train cuda" "exit $rc, $(losses ref | wc -l) steps (logs/train_ref.log): $(grep -m1 error "$L/train_ref.log")"
else
  line=$(grep '^step 40/40' "$L/train_ref.log")
  [[ "$line" == *" mfu "*"%"*" gpu_mem "*GiB* ]] && grep -q '"mfu":' "$W/ref/train/train_log.jsonl" \
    && res ok "train cuda: step line" "$line" || res FAIL "train cuda: step line" "no MFU or GPU memory: '$line'"
  grep -q "GPU 0" "$L/train_ref.log" && res ok "train cuda: device" "$(grep -o 'GPU 0: [^)]*' "$L/train_ref.log" | head -1)" \
    || res FAIL "train cuda: device" "the log does not name the GPU (logs/train_ref.log)"
  for sig in TERM KILL; do
    job "r$sig" cuda
    "$TKD" train "$W/r$sig.json" > "$L/train_$sig.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
      [ "$(losses "r$sig" | wc -l)" -ge 12 ] && break
      kill -0 $pid 2> /dev/null || break
      sleep 0.05
    done
    kill -"$sig" $pid 2> /dev/null
    wait $pid
    rc=$?
    n=$(losses "r$sig" | wc -l)
    if [ $sig = TERM ] && [ $rc -ne 3 ]; then
      res FAIL "train cuda: SIGTERM" "exit $rc after $n steps (want 3; logs/train_TERM.log)"
    fi
    timeout "$(lim 60)" "$TKD" train "$W/r$sig.json" >> "$L/train_$sig.log" 2>&1
    rc2=$?
    if [ $rc2 -eq 0 ] && [ "$(losses ref)" = "$(losses "r$sig")" ] && cmp -s "$(adapter ref)" "$(adapter "r$sig")"; then
      res ok "train cuda: SIG$sig + resume" "stopped after $n steps: the same 40 losses and the same adapter bytes"
    else
      d=$( [ -f "$(adapter "r$sig")" ] && maxdiff "$(adapter ref)" "$(adapter "r$sig")")
      res FAIL "train cuda: SIG$sig + resume" "exit $rc2; losses $( [ "$(losses ref)" = "$(losses "r$sig")" ] && echo same || echo differ); adapter max |diff| ${d:-missing} (logs/train_$sig.log)"
    fi
  done
  # the loss curve against the CPU reference (same job, train.device cpu)
  job cpu cpu
  timeout "$(lim 60)" "$TKD" train "$W/cpu.json" > "$L/train_cpu.log" 2>&1
  cmpc=$(paste <(losses ref) <(losses cpu) | awk '
    { n++; d = $1 - $2; if (d < 0) d = -d; r = d / ($2 > 0 ? $2 : 1); if (r > m) m = r; if (n <= 10 && r > m10) m10 = r }
    END { printf "%d %.3g %.3g", n, m10, m }')
  read -r nc m10 mall <<< "$cmpc"
  if [ "$nc" -eq 40 ] && awk -v m="$m10" 'BEGIN { exit !(m <= 0.01) }'; then
    res ok "train cuda vs cpu" "losses within $m10 over the first 10 steps (<= 1%), $mall over 40"
  else
    res FAIL "train cuda vs cpu" "$nc steps compared; first 10 steps max relative $m10, all $mall (logs/train_cpu.log)"
  fi
fi

# ---- 6. the GPU-trained adapter on the CPU engine
if [ -f "$(adapter ref)" ] && [ -x "$BIN/gpu_test_adapter_greedy" ]; then
  p1=$(head -1 "$W/sft.jsonl" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(",".join(map(str,d["input_ids"][:d["loss_mask"].index(1)])))')
  TKD_GPU_MODEL=$W/base TKD_GPU_ADAPTER=$W/ref/train/adapter TKD_GPU_PROMPT=$p1 \
    timeout "$(lim 60)" "$BIN/gpu_test_adapter_greedy" > "$L/adapter_cpu.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] && res ok "GPU adapter on the CPU engine" "$(tail -1 "$L/adapter_cpu.log" | cut -c5-140)" \
    || res FAIL "GPU adapter on the CPU engine" "exit $rc: $(tail -1 "$L/adapter_cpu.log" | cut -c1-140)"
else
  res skip "GPU adapter on the CPU engine" "no trained adapter or no gpu_test_adapter_greedy"
fi

# ---- 7. two ranks, NCCL
if [ "$NGPU" -ge 2 ] && [ -x "$BIN/mpiexec" -o -n "$(command -v mpiexec)" ]; then
  MPX=$BIN/mpiexec
  [ -x "$MPX" ] || MPX=$(command -v mpiexec)
  job one cuda train.steps=12
  timeout "$(lim 60)" "$TKD" train "$W/one.json" "${SETS[@]}" > "$L/nccl_one.log" 2>&1
  job two cuda train.steps=12 train.grad_accum=1
  PATH=$BIN:$PATH timeout "$(lim 90)" "$MPX" --oversubscribe -n 2 -x LD_LIBRARY_PATH -x OMPI_MCA_mca_base_component_path \
    -x HDF5_USE_FILE_LOCKING "$TKD" train "$W/two.json" "${SETS[@]}" > "$L/nccl_two.log" 2>&1
  rc=$?
  m=$(paste <(losses one) <(losses two) | awk '{ n++; d = $1 - $2; if (d < 0) d = -d; r = d / ($2 > 0 ? $2 : 1); if (r > m) m = r } END { printf "%d %.3g", n, m }')
  read -r nn mm <<< "$m"
  if [ $rc -eq 0 ] && [ "$nn" -eq 12 ] && grep -q "on 2 ranks" "$L/nccl_two.log" && awk -v m="$mm" 'BEGIN { exit !(m <= 1e-3) }'; then
    res ok "NCCL 2 ranks: tkd train" "12 steps, losses within $mm of 1 rank with the same global batch"
  else
    res FAIL "NCCL 2 ranks: tkd train" "exit $rc; $nn steps; max relative $mm (logs/nccl_two.log)"
  fi
  if [ -x "$BIN/gpu_test_nccl" ]; then
    PATH=$BIN:$PATH timeout "$(lim 60)" "$MPX" --oversubscribe -n 2 -x LD_LIBRARY_PATH -x OMPI_MCA_mca_base_component_path \
      "$BIN/gpu_test_nccl" > "$L/nccl_test_2.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] && res ok "NCCL 2 ranks: gpu_test_nccl" "$(grep -m1 '^ok' "$L/nccl_test_2.log" | cut -c6-120)" \
      || res FAIL "NCCL 2 ranks: gpu_test_nccl" "exit $rc (logs/nccl_test_2.log)"
  fi
else
  res skip "NCCL 2 ranks" "$NGPU GPU on this machine (needs 2 and mpiexec)"
fi
finish
