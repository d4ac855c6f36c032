#!/usr/bin/env bash
# Installs what is missing, builds Folio and launches the desktop app. Arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cuda_arch=()
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
    if nvidia-smi >/dev/null 2>&1; then cuda_arch=(-DCMAKE_CUDA_ARCHITECTURES=native); fi
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${cuda_arch[@]}"
cmake --build build --parallel "$(nproc)" --target folio folio-cli
exec build/ui/folio "$@"
