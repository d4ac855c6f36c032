#!/usr/bin/env bash
# On a GPU machine: builds Folio without the GUI, runs the GPU suites and a short benchmark,
# and prints a summary table last.
#   tests/gpu/run.sh [BUILD_DIR]
# FOLIO_CUDA_ARCHS picks the code built (default: this card's). On Hopper,
# FOLIO_CUDA_ARCHS=80-virtual runs the paths for older cards: PTX only, compiled for this card
# at load, with __CUDA_ARCH__ 800 and so no programmatic dependent launches.
# Qt (Core and Test) is needed for the suites; see qt_prefix.sh for a system without it.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
build=${1:-build-gpu}
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DFOLIO_GUI=OFF -DFOLIO_CUDA=ON -DFOLIO_TESTS=ON
            "-DCMAKE_CUDA_ARCHITECTURES=${FOLIO_CUDA_ARCHS:-native}")
source tests/gpu/qt_prefix.sh
cmake -S . -B "$build" "${cmake_args[@]}" > "$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
cmake --build "$build" --parallel "$(nproc)" 2>&1 | tail -n 40
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { echo "build failed"; exit 1; }
ctest --test-dir "$build" --output-on-failure -L gpu 2>&1 | tee "$build/gpu-tests.log" | tail -n 60
tests_status=${PIPESTATUS[0]}
bench_status=0
if [ -x "$build/app/bench/folio-bench" ]; then
    "$build/app/bench/folio-bench" --config tests/data/models/sala-9b-config.json --random-weights \
        --contexts 8192 --decode 32 2>&1 | tee "$build/bench.log" | tail -n 30
    bench_status=${PIPESTATUS[0]}
fi
echo
echo "| step | result |"
echo "|---|---|"
echo "| build | ok |"
echo "| GPU tests | $(grep -E 'tests passed' "$build/gpu-tests.log" || echo none) |"
echo "| bench | $([ "$bench_status" -eq 0 ] && echo ok || echo failed) |"
grep -q "tests passed" "$build/gpu-tests.log" || { echo "no GPU test ran (is Qt 6 Test available?)"; exit 1; }
[ "$tests_status" -eq 0 ] && [ "$bench_status" -eq 0 ]
