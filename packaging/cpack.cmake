# `cpack -G DEB` in the build folder: a Debian 12 package of what `cmake --install` installs,
# under /usr.
set(FOLIO_PACKAGE_MAINTAINER "Folio maintainers <maintainers@folio.invalid>" CACHE STRING
    "Maintainer field of the Debian package: Name <e-mail>")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME folio)
set(CPACK_PACKAGE_VENDOR Folio)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${FOLIO_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "desktop assistant for long documents")
# Debian shows the long description as written: lines stay under 80 columns.
set(CPACK_PACKAGE_DESCRIPTION
    "Folio answers questions about a whole book, codebase or stack of PDFs at
once, with no retrieval step: its own engine runs MiniCPM-SALA, a 9B model
whose sparse and linear attention layers keep the entire document in
context. It uses a CUDA GPU when the build has the CUDA backend and one is
present, otherwise the CPU.

This package holds the desktop app (when built), folio-cli and folio-bench,
a small demo model that answers on any processor, and public-domain sample
documents.")
set(CPACK_STRIP_FILES ON)
# include(CPack) also defines the package_source target; build folders and VCS data stay out.
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/\\.device/" "/\\.cache/" "/build[^/]*/")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION text)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps turns the libraries the programs link into versioned Depends; CPack passes it
# --ignore-missing-info, so libraries that come from no Debian package are left out silently.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Qt loads these as plugins at run time, which dpkg-shlibdeps cannot see: the display platform
# (xcb and friends; only recommended by libqt6gui6), the SQLite driver of the library and the
# SVG icon engine that draws the app's icon.
if(FOLIO_GUI)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins, libqt6sql6-sqlite, libqt6svg6")
endif()
if(FOLIO_HAVE_CUDA)
    # NVIDIA's CUDA runtime is no Debian 12 package, so no Depends can name it.
    string(APPEND CPACK_PACKAGE_DESCRIPTION "

Built with the CUDA backend: the programs need NVIDIA's CUDA runtime and
cuBLASLt (libcudart and libcublasLt) on the library path. Configure with
-DFOLIO_CUDA=OFF for a package that runs on any Debian 12 machine.")
    message(STATUS "Folio: the Debian package will need NVIDIA's CUDA runtime, which it cannot depend on")
endif()

include(CPack)
