# The C libraries wsgihost builds with, each found through pkg-config; a missing one stops the
# configuration with the Debian package to install (scripts/bootstrap installs them all).
#
# WSGIHOST_WHEEL (the pip build) must run where only libc is: zlib and brotli are linked in from
# their static archives; libuv's archive cannot be (Debian compiles libuv_a.a for executables:
# it reaches libc's environ, stderr and in6addr_any PC-relatively, which a shared object cannot),
# so the wheel carries Debian's libuv.so.1 beside the server, found through RUNPATH $ORIGIN, as
# `auditwheel repair` would graft it; libpq is loaded on first use (server/container/pq.h).
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
    message(FATAL_ERROR "pkg-config not found: install the Debian package pkg-config")
endif()

# wh_require_pkg(PREFIX MODULE PACKAGE): pkg_check_modules, or an error naming the package.
macro(wh_require_pkg prefix module package)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
    if(NOT ${prefix}_FOUND)
        message(FATAL_ERROR "${module} not found (pkg-config): install the Debian package "
                            "${package} (scripts/bootstrap installs every build dependency)")
    endif()
endmacro()

# wh_require_archive(VAR FILE PACKAGE): the static library FILE, or an error naming the package.
function(wh_require_archive var file package)
    find_library(${var} NAMES ${file})
    if(NOT ${var})
        message(FATAL_ERROR "${file} not found: install the Debian package ${package}")
    endif()
    set(${var} ${${var}} PARENT_SCOPE)
endfunction()

wh_require_pkg(LIBUV "libuv>=1.40" libuv1-dev)
wh_require_pkg(LIBPQ libpq libpq-dev)
wh_require_pkg(ZLIB zlib zlib1g-dev)
wh_require_pkg(BROTLIENC libbrotlienc libbrotli-dev)

add_library(wsgihost_deps INTERFACE) # libuv and libpq, for server/
add_library(wsgihost_compress INTERFACE) # zlib and brotli, for server/static/compress.c
if(WSGIHOST_WHEEL)
    wh_require_archive(WH_LIBZ_A libz.a zlib1g-dev)
    wh_require_archive(WH_BROTLIENC_A libbrotlienc.a libbrotli-dev)
    wh_require_archive(WH_BROTLICOMMON_A libbrotlicommon.a libbrotli-dev)
    target_include_directories(wsgihost_deps SYSTEM INTERFACE ${LIBPQ_INCLUDE_DIRS})
    target_link_libraries(wsgihost_deps INTERFACE PkgConfig::LIBUV ${CMAKE_DL_LIBS})
    # The file the link resolved -luv to, installed as its soname (cmake/wheel.cmake).
    find_library(WH_LIBUV_SO NAMES uv PATHS ${LIBUV_LIBRARY_DIRS})
    file(REAL_PATH "${WH_LIBUV_SO}" WH_LIBUV_SO)
    target_include_directories(wsgihost_compress SYSTEM INTERFACE ${ZLIB_INCLUDE_DIRS}
                               ${BROTLIENC_INCLUDE_DIRS})
    target_link_libraries(wsgihost_compress INTERFACE ${WH_BROTLIENC_A} ${WH_BROTLICOMMON_A}
                          ${WH_LIBZ_A} m)
    message(STATUS "Wheel build: zlib, brotli linked in; libuv carried (${WH_LIBUV_SO}); "
                   "libpq loaded on first use")
else()
    target_link_libraries(wsgihost_deps INTERFACE PkgConfig::LIBUV PkgConfig::LIBPQ)
    target_link_libraries(wsgihost_compress INTERFACE PkgConfig::ZLIB PkgConfig::BROTLIENC)
endif()
