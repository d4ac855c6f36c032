#!/usr/bin/env bash
# On a GPU machine: builds Folio without the GUI, runs the GPU suites and a short benchmark,
# and prints a summary table last.
#   tests/gpu/run.sh [BUILD_DIR]
# Qt (Core and Test) is needed for the suites. Where the system has none, set FOLIO_QT_DEBS
# to a folder of Debian Qt 6 packages (libqt6core6, libqt6test6, qt6-base-dev,
# qt6-base-dev-tools and their libraries; a machine without GLib also needs libglib2.0-0 and
# libpcre2-8-0); they are unpacked into a private prefix.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-gpu}
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DFOLIO_GUI=OFF -DFOLIO_CUDA=ON -DFOLIO_TESTS=ON
            -DCMAKE_CUDA_ARCHITECTURES=${FOLIO_CUDA_ARCHS:-native})
if [ -n "${FOLIO_QT_DEBS:-}" ]; then
    prefix=/tmp/folio-qt
    rm -rf "$prefix" && mkdir -p "$prefix"
    for deb in "$FOLIO_QT_DEBS"/*.deb; do dpkg -x "$deb" "$prefix"; done
    # Qt's CMake files check for qmake and the mkspecs folder, which the packages for Core and
    # Test alone do not bring.
    mkdir -p "$prefix/usr/lib/x86_64-linux-gnu/qt6/mkspecs/linux-g++" "$prefix/usr/bin"
    [ -e "$prefix/usr/bin/x86_64-linux-gnu-qmake6" ] || install -m 755 /dev/null \
        "$prefix/usr/bin/x86_64-linux-gnu-qmake6"
    export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix/usr/lib/x86_64-linux-gnu/cmake")
fi
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
