# What `cmake --install` puts beside the programs (whose install(TARGETS) rules sit next to their
# targets): the demo model, the sample documents, the desktop entry, the icon and the man page.
# Paths follow GNUInstallDirs, so a Debian package and a --prefix install share one layout, and
# the app finds its data at <bin>/../share/folio/.
include(GNUInstallDirs)

# A CUDA build links NVIDIA's runtime from outside the system library folders; the installed
# programs keep that folder on their run path, as the programs in the build folder do.
if(FOLIO_HAVE_CUDA)
    foreach(program folio folio-cli folio-bench)
        if(TARGET ${program})
            set_target_properties(${program} PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
        endif()
    endforeach()
endif()

set(FOLIO_DATA_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/folio")
set(FOLIO_ICON_NAME folio)

# The demo model is produced by tools/demo-model and may not exist yet in a checkout; OPTIONAL
# checks at install time, so a model made after configuring is still installed.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/resources/demo-model/"
    DESTINATION "${FOLIO_DATA_INSTALL_DIR}/demo-model"
    OPTIONAL
    PATTERN ".git*" EXCLUDE)

# The samples' README.md records each text's source and licence and travels with the texts.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/resources/samples/"
    DESTINATION "${FOLIO_DATA_INSTALL_DIR}/samples")

# The desktop entry and the icon belong to the app, which builds with FOLIO_GUI only.
set(folio_png_icons "")
if(FOLIO_GUI)
    install(FILES "${CMAKE_CURRENT_LIST_DIR}/folio.desktop"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/applications")

    set(folio_icon_svg "${PROJECT_SOURCE_DIR}/resources/icons/folio.svg")
    install(FILES "${folio_icon_svg}"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps"
        RENAME "${FOLIO_ICON_NAME}.svg")

    # Some menus and docks still ask for a bitmap at a fixed size; rendered from the SVG when
    # librsvg's converter is at hand, otherwise the scalable icon alone serves.
    find_program(FOLIO_RSVG_CONVERT rsvg-convert)
    set(FOLIO_PNG_ICON_SIZES 16 32 48 64 128 256)
    if(FOLIO_RSVG_CONVERT)
        foreach(size IN LISTS FOLIO_PNG_ICON_SIZES)
            set(dir "${PROJECT_BINARY_DIR}/icons/${size}x${size}")
            add_custom_command(OUTPUT "${dir}/${FOLIO_ICON_NAME}.png"
                COMMAND "${CMAKE_COMMAND}" -E make_directory "${dir}"
                COMMAND "${FOLIO_RSVG_CONVERT}" -w ${size} -h ${size}
                        -o "${dir}/${FOLIO_ICON_NAME}.png" "${folio_icon_svg}"
                DEPENDS "${folio_icon_svg}"
                VERBATIM)
            list(APPEND folio_png_icons "${dir}/${FOLIO_ICON_NAME}.png")
            install(FILES "${dir}/${FOLIO_ICON_NAME}.png"
                DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps")
        endforeach()
    endif()
endif()

# The man page carries the project's version; Debian installs man pages gzipped, and -n keeps
# the archive free of a timestamp so rebuilds give identical packages.
configure_file("${CMAKE_CURRENT_LIST_DIR}/folio-cli.1" "${PROJECT_BINARY_DIR}/man/folio-cli.1" @ONLY)
find_program(FOLIO_GZIP gzip)
if(FOLIO_GZIP)
    set(folio_man_page "${PROJECT_BINARY_DIR}/man/folio-cli.1.gz")
    add_custom_command(OUTPUT "${folio_man_page}"
        COMMAND "${FOLIO_GZIP}" -9 -n -f -k "${PROJECT_BINARY_DIR}/man/folio-cli.1"
        DEPENDS "${PROJECT_BINARY_DIR}/man/folio-cli.1"
        VERBATIM)
else()
    set(folio_man_page "${PROJECT_BINARY_DIR}/man/folio-cli.1")
endif()
install(FILES "${folio_man_page}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")

add_custom_target(folio_install_data ALL DEPENDS ${folio_png_icons} "${folio_man_page}")

include("${CMAKE_CURRENT_LIST_DIR}/cpack.cmake")
