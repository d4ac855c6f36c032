# shellcheck shell=bash
# Sourced by the GPU scripts: where the system has no Qt 6, FOLIO_QT_DEBS names a folder of
# Debian Qt 6 packages (libqt6core6, libqt6test6, qt6-base-dev, qt6-base-dev-tools and their
# libraries; a machine without GLib also needs libglib2.0-0 and libpcre2-8-0). They are unpacked
# into a private prefix, and cmake_args (an array the caller declared) gets its path.
if [ -n "${FOLIO_QT_DEBS:-}" ]; then
    qt_prefix=/tmp/folio-qt
    rm -rf "$qt_prefix" && mkdir -p "$qt_prefix"
    for deb in "$FOLIO_QT_DEBS"/*.deb; do dpkg -x "$deb" "$qt_prefix"; done
    # Qt's CMake files check for qmake and the mkspecs folder, which the packages for Core and
    # Test alone do not bring.
    mkdir -p "$qt_prefix/usr/lib/x86_64-linux-gnu/qt6/mkspecs/linux-g++" "$qt_prefix/usr/bin"
    [ -e "$qt_prefix/usr/bin/x86_64-linux-gnu-qmake6" ] || install -m 755 /dev/null \
        "$qt_prefix/usr/bin/x86_64-linux-gnu-qmake6"
    export LD_LIBRARY_PATH="$qt_prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    cmake_args+=(-DCMAKE_PREFIX_PATH="$qt_prefix/usr/lib/x86_64-linux-gnu/cmake")
fi
