#!/usr/bin/env bash
# Installs the Debian 12 packages Folio needs to build, run and test.
# Usage: packaging/install-deps.sh [--no-gui]
#   --no-gui  only what the engine, the command-line tools and their tests need
set -euo pipefail

gui=1
for arg in "$@"; do
    case "$arg" in
    --no-gui) gui=0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done

packages=(
    build-essential cmake ninja-build pkg-config git clang-format
    libsentencepiece-dev nlohmann-json3-dev
    qt6-base-dev qt6-base-dev-tools
)
if [ "$gui" = 1 ]; then
    packages+=(qt6-charts-dev libqt6sql6-sqlite libsqlite3-dev libpoppler-qt6-dev libzip-dev libxml2-dev xvfb xauth)
    # Qt Charts' CMake package needs Qt OpenGL's, which qt6-base-dev only recommends.
    packages+=(libqt6opengl6-dev)
    # The SVG icon engine plugin, which draws the app's built-in icon.
    packages+=(libqt6svg6)
    # The app's icon rendered to PNG at build time, and the packaging suite's check of its
    # desktop entry (dpkg-shlibdeps, for the .deb, comes with build-essential's dpkg-dev).
    packages+=(librsvg2-bin desktop-file-utils)
fi

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
