#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the whole test suite.
#   bash tests/run.sh            everything (what CI runs)
#   bash tests/run.sh -L unit    only the tests with that ctest label
# Builds: build/ with -Werror (all tests), build-asan/ with AddressSanitizer +
# UndefinedBehaviorSanitizer (unit tests). TKD_SKIP_ASAN=1 skips the second.
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
