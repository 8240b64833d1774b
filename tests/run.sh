#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the whole test suite.
#   bash tests/run.sh            everything (what CI runs)
#   bash tests/run.sh -L unit    only the tests with that ctest label
# Builds: build/ with -Werror (all tests), build-asan/ with AddressSanitizer +
# UndefinedBehaviorSanitizer (unit tests), build-fuzz/ with clang for a short
# libFuzzer smoke run of every tests/fuzz/fuzz_*.c target (TKD_FUZZ_SECONDS
# each, default 30; a fixed libFuzzer seed, TKD_FUZZ_SEED, default 1, so a
# commit's smoke explores the same inputs here and in CI; long runs for finding
# bugs are in tests/fuzz/CMakeLists.txt). TKD_SKIP_ASAN=1 / TKD_SKIP_FUZZ=1 skip those.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash tests/deps.sh
[ -x tests/setup.sh ] && bash tests/setup.sh
jobs=$(nproc)

echo "== build (-Werror) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTKD_WERROR=ON >/dev/null
cmake --build build -j"$jobs" >/dev/null
echo "== tests =="
(cd build && ctest --output-on-failure -j"$jobs" "$@")

if [ "${TKD_SKIP_ASAN:-0}" != 1 ] && [ $# -eq 0 ]; then
  echo "== build (ASan + UBSan) =="
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTKD_SANITIZE=ON -DTKD_CUDA=OFF >/dev/null
  cmake --build build-asan -j"$jobs" >/dev/null
  echo "== unit tests under ASan + UBSan =="
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0 \
     ctest --output-on-failure -j"$jobs" -L unit)
fi

if [ "${TKD_SKIP_FUZZ:-0}" != 1 ] && [ $# -eq 0 ] && command -v clang >/dev/null; then
  echo "== fuzz smoke (libFuzzer, ${TKD_FUZZ_SECONDS:-30} s per target) =="
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTKD_CUDA=OFF -DBUILD_TESTING=ON >/dev/null
  for src in tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    cmake --build build-fuzz --target "$name" -j"$jobs" >/dev/null
    short=${name#fuzz_}; short=${short%%_*}   # the module: its dictionary and corpus
    args=(-max_total_time="${TKD_FUZZ_SECONDS:-30}" -seed="${TKD_FUZZ_SEED:-1}" -timeout=60 -rss_limit_mb=2048 -print_final_stats=1)
    [ -f "tests/fuzz/$short.dict" ] && args+=(-dict="tests/fuzz/$short.dict")
    # a module's own libFuzzer flags, e.g. tools: fork mode, slow inputs bounded by the pool's limits
    [ -f "tests/fuzz/$short.options" ] && read -r -a extra < "tests/fuzz/$short.options" && args+=("${extra[@]}")
    work=$(mktemp -d)   # new inputs go here, never into the committed corpus
    corpus=()
    [ -d "tests/fuzz/corpus_$short" ] && corpus=("tests/fuzz/corpus_$short")
    if ! "build-fuzz/bin/$name" "${args[@]}" -artifact_prefix="$work/" "$work" "${corpus[@]}" > "$work/log" 2>&1; then
      tail -40 "$work/log"; echo "fuzz target $name failed; crash input in $work" >&2; exit 1
    fi
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p; s/^#([0-9]+):? .*/\1/p' "$work/log" | tail -1)
    echo "$name: ${runs:-?} runs, no crash"
    rm -rf "$work"
  done
fi
