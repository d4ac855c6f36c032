#!/usr/bin/env bash
# Installs what is missing, builds Folio and launches it. Until the desktop app exists this
# starts the command-line tool; arguments are passed on (default: its help).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)" --target folio-cli
if [ "$#" -eq 0 ]; then set -- --help; fi
exec build/app/cli/folio-cli "$@"
