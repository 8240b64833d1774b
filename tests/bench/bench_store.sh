#!/usr/bin/env bash
# The trace store's benchmark: append rate against JSONL with fflush every
# 1000 lines, and merging 4 shards of 25,000 rows (see bench_store.c).
set -euo pipefail
"$TKD_BUILD_DIR/bin/bench_store" "${TKD_BENCH_STORE_ROWS:-100000}"
