# The pip layout (WSGIHOST_WHEEL): bin/wsgihost is cmd/launcher.c, linked with libc alone; the
# server is lib/wsgihost/wsgihost-core.so, which the launcher loads after the libpython of the
# Python it runs with. A wheel's scripts land in the environment's bin/ and its data in the
# environment's root (venv, /usr/local, ~/.local alike), so the two keep their relative places.
if(DEFINED SKBUILD_SCRIPTS_DIR)
    set(WH_BIN_DESTINATION "${SKBUILD_SCRIPTS_DIR}")
    set(WH_CORE_DESTINATION "${SKBUILD_DATA_DIR}/lib/wsgihost")
else()
    set(WH_BIN_DESTINATION bin)
    set(WH_CORE_DESTINATION lib/wsgihost)
endif()
set(WH_LIBDIR_FROM_BIN "../lib/wsgihost")

# cmd/main.c's main becomes the library's entry point; only it, wh_py_set_executable and the
# extension module's init (pyglue/hosted.c) are exported (cmd/core.map), so the static zlib and
# brotli cannot clash with copies an extension module brings; -Bsymbolic binds the archives'
# references to their own data (they are compiled for executables). It does not link libpython:
# like any extension module it takes the C API from the process, where the launcher loaded
# libpython or which is `python` itself (cmd/hosted.py).
add_library(wsgihost_shared SHARED ${WSGIHOST_CMD_SOURCES} pyglue/hosted.c)
target_compile_definitions(wsgihost_shared PRIVATE main=wh_core_main)
target_link_libraries(wsgihost_shared PRIVATE wsgihost_server wsgihost_pyglue)
target_link_options(wsgihost_shared PRIVATE LINKER:--version-script=${CMAKE_SOURCE_DIR}/cmd/core.map
                    LINKER:-Bsymbolic)
# RUNPATH $ORIGIN only, for the libuv.so.1 installed beside it.
set_target_properties(wsgihost_shared PROPERTIES PREFIX "" OUTPUT_NAME wsgihost-core
                      LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cmd/core.map
                      SKIP_BUILD_RPATH ON INSTALL_RPATH "$ORIGIN")
target_link_options(wsgihost_shared PRIVATE LINKER:--enable-new-dtags)

add_executable(wsgihost cmd/launcher.c pyglue/pyhome.c)
target_include_directories(wsgihost PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_definitions(wsgihost PRIVATE WSGIHOST_PY_MAJOR=${Python3_VERSION_MAJOR}
                           WSGIHOST_PY_MINOR=${Python3_VERSION_MINOR}
                           WSGIHOST_LIBDIR="${WH_LIBDIR_FROM_BIN}")
target_link_libraries(wsgihost PRIVATE ${CMAKE_DL_LIBS})
# In the build tree too: build/wsgihost finds build/../lib/wsgihost/ only once installed.
install(TARGETS wsgihost RUNTIME DESTINATION "${WH_BIN_DESTINATION}")
install(TARGETS wsgihost_shared LIBRARY DESTINATION "${WH_CORE_DESTINATION}")
install(FILES "${WH_LIBUV_SO}" DESTINATION "${WH_CORE_DESTINATION}" RENAME libuv.so.1)
install(FILES cmd/hosted.py DESTINATION "${WH_CORE_DESTINATION}")
