#!/usr/bin/env bash
# Fails when a C++/CUDA source differs from what .clang-format asks for.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- '*.h' '*.cpp' '*.cu' '*.cuh')
[ "${#files[@]}" -eq 0 ] && exit 0
clang-format --dry-run -Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
