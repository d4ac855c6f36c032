#!/usr/bin/env bash
# On a GPU machine: decode speed of the working tree against the same tree with patches applied,
# in one run on one card. Builds each variant's folio-bench from the same tree (a fresh build
# folder, so that no object of an earlier run passes for a newer source), prefills each context
# once into saved states, then lets every build reopen them and decode, in turn, REPS times.
# Prints one line per run and the summary last.
#   tests/gpu/decode_ab.sh [NAME:PATCH[,PATCH...]]...   (patch paths from the repository root)
# Environment: CONTEXTS (default 131072,1048576), REPS (2), DECODE (256), CONFIG (the model
# configuration, default the real 9B one, with random weights), OUT (a folder for the
# logs, default /tmp/folio-ab), TESTS=1 to run the GPU suites on the last variant as well (its
# patches then stay applied until the end), FOLIO_QT_DEBS as for run.sh (qt_prefix.sh).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
out=${OUT:-/tmp/folio-ab}
build=/tmp/folio-ab-build
bins=/tmp/folio-ab-bin
states=/tmp/folio-ab-states
rm -rf "$build" "$bins" "$states"
mkdir -p "$out" "$bins" "$states"
started=$(date +%s)
stamp() { echo "[$(($(date +%s) - started)) s] $*"; }

cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DFOLIO_GUI=OFF -DFOLIO_CUDA=ON -DFOLIO_TESTS=ON
            "-DCMAKE_CUDA_ARCHITECTURES=${FOLIO_CUDA_ARCHS:-native}")
source tests/gpu/qt_prefix.sh
cmake -S . -B "$build" "${cmake_args[@]}" > "$out/configure.log" 2>&1 ||
    { tail -n 30 "$out/configure.log"; exit 1; }

patch_each() { # apply|revert PATCH... (reverts the last first)
    local list=("${@:2}") flags=()
    if [ "$1" = revert ]; then
        flags=(-R)
        mapfile -t list < <(printf '%s\n' "${@:2}" | tac)
    fi
    for p in "${list[@]}"; do
        if command -v patch > /dev/null; then patch -p1 -s "${flags[@]}" < "$p"
        else git apply "${flags[@]}" "$p"; fi || { echo "patch $1 $p failed"; exit 1; }
    done
}

build_as() { # NAME
    cmake --build "$build" --target folio-bench > "$out/build-$1.log" 2>&1 ||
        { tail -n 40 "$out/build-$1.log"; exit 1; }
    cp "$build/app/bench/folio-bench" "$bins/$1"
    stamp "built $1"
}

contexts=${CONTEXTS:-131072,1048576}
bench_args=(--config "${CONFIG:-tests/data/models/sala-9b-config.json}" --random-weights --contexts "$contexts"
            --decode "${DECODE:-256}" --prefill-states "$states")
build_as base
# The saved states are made while the variants build.
"$bins/base" "${bench_args[@]}" > "$out/prefill.log" 2>&1 &
prefill=$!
names=(base)
variants=("$@")
for i in "${!variants[@]}"; do
    name=${variants[$i]%%:*}
    IFS=, read -r -a patches <<< "${variants[$i]#*:}"
    patch_each apply "${patches[@]}"
    build_as "$name"
    names+=("$name")
    last=$((${#variants[@]} - 1))
    if [ "${TESTS:-}" != 1 ] || [ "$i" -ne "$last" ]; then patch_each revert "${patches[@]}"; fi
done
tests_status=0
if [ "${TESTS:-}" = 1 ]; then
    targets=()
    for src in tests/gpu/test_*.cpp; do targets+=("gpu_$(basename "$src" .cpp)"); done
    cmake --build "$build" --target "${targets[@]}" > "$out/build-tests.log" 2>&1 ||
        { tail -n 40 "$out/build-tests.log"; exit 1; }
    ctest --test-dir "$build" -L gpu --output-on-failure > "$out/tests.log" 2>&1
    tests_status=$?
    grep -E "tests passed|Failed|\*\*\*" "$out/tests.log" | tail -n 20
    stamp "tests done"
fi
wait $prefill
stamp "states saved"
rows=$(tr ',' '\n' <<< "$contexts" | wc -l)
: > "$out/summary.txt"
for rep in $(seq "${REPS:-2}"); do
    for name in "${names[@]}"; do
        "$bins/$name" "${bench_args[@]}" > "$out/run-$name-$rep.log" 2>&1
        # The first table's rows: context and decode tok/s.
        speeds=$(grep -E '^\| [0-9]+ \|' "$out/run-$name-$rep.log" | head -n "$rows" |
                 awk -F'|' '{printf "%s:%s ", $2, $5}')
        echo "$name run $rep $speeds" | tee -a "$out/summary.txt"
    done
done
echo
cat "$out/summary.txt"
exit "$tests_status"
