#!/usr/bin/env bash
# The test command: installs dependencies, builds, runs every test under ctest, then runs the
# same tests again in the ASan+UBSan build, then the libFuzzer targets (60 s each) when clang is
# present. Exit status is non-zero if anything failed.
#   scripts/test.sh                 everything
#   CDNS_FUZZ_SECONDS=0 scripts/test.sh   skip the fuzzers
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh

echo "== tests (release build)"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== tests (ASan+UBSan build)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCDNS_SANITIZE=ON -DCDNS_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

fuzz_seconds=${CDNS_FUZZ_SECONDS:-60}
if command -v clang++-14 >/dev/null && [ "$fuzz_seconds" != 0 ]; then
  echo "== fuzzers (${fuzz_seconds} s each)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDNS_FUZZ=ON -DCDNS_BENCH=OFF \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_all
  for f in build-fuzz/tests/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus="build-fuzz/corpus/$name"
    mkdir -p "$corpus"
    echo "-- $name"
    "$f" -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" tests/fuzz/seeds/"$name" 2>&1 | tail -n 3
  done
fi
echo "== all tests passed"
