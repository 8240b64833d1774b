#!/usr/bin/env bash
# One LoRA training step on one GPU (Qwen2.5 0.5B, 1.5B and 7B shapes, r64 on
# every linear layer, 4096 packed tokens, with and without recompute): tokens/s,
# MFU against the GPU's dense bf16 peak, peak memory. Skips without a GPU.
set -euo pipefail
"${TKD_BUILD_DIR:-build}/bin/bench_train_gpu"
