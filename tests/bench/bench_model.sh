#!/usr/bin/env bash
# The student model on the CPU: LoRA training step as a fraction of OpenBLAS
# sgemm peak (same run), and generation tokens/s at batch 1 and 16.
set -euo pipefail
"${TKD_BUILD_DIR:-build}/bin/bench_model"
