#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh "$@"
# Where nvcc exists but no GPU does (CI), the CUDA code is still compiled, for one
# architecture only to keep the build short; with a GPU, for the GPU at hand.
cuda_arch=()
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
    if nvidia-smi >/dev/null 2>&1; then cuda_arch=(-DCMAKE_CUDA_ARCHITECTURES=native)
    else cuda_arch=(-DCMAKE_CUDA_ARCHITECTURES=90a); fi
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${cuda_arch[@]}"
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure --parallel "$(nproc)"
