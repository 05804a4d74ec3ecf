# llhttp: a system library when one is installed (Debian 13's libllhttp-dev), else a static
# library compiled from the C sources Debian 12 ships in node-llhttp. Nothing is vendored.
# The pip build links it in: the static archive only (libllhttp-dev ships one).
find_path(LLHTTP_INCLUDE_DIR llhttp.h)
if(WSGIHOST_WHEEL)
    find_library(LLHTTP_LIBRARY NAMES libllhttp.a)
else()
    find_library(LLHTTP_LIBRARY llhttp)
endif()
if(LLHTTP_INCLUDE_DIR AND LLHTTP_LIBRARY)
    message(STATUS "llhttp: system library ${LLHTTP_LIBRARY}")
    add_library(llhttp::llhttp UNKNOWN IMPORTED)
    set_target_properties(llhttp::llhttp PROPERTIES
        IMPORTED_LOCATION "${LLHTTP_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${LLHTTP_INCLUDE_DIR}")
else()
    set(LLHTTP_SOURCE_DIR /usr/share/llhttp CACHE PATH "llhttp C sources (Debian node-llhttp)")
    set(LLHTTP_SOURCE_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "llhttp.h for those sources")
    if(NOT EXISTS "${LLHTTP_SOURCE_DIR}/llhttp.c" OR NOT EXISTS "${LLHTTP_SOURCE_INCLUDE_DIR}/llhttp.h")
        message(FATAL_ERROR "llhttp not found: install libllhttp-dev, or node-llhttp for its sources "
                            "(scripts/bootstrap installs what is needed)")
    endif()
    message(STATUS "llhttp: compiling ${LLHTTP_SOURCE_DIR}")
    add_library(llhttp_sources STATIC
        ${LLHTTP_SOURCE_DIR}/llhttp.c ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c)
    target_include_directories(llhttp_sources SYSTEM PUBLIC ${LLHTTP_SOURCE_INCLUDE_DIR})
    # Strict mode rejects more malformed input (llhttp 9 is strict by default).
    target_compile_definitions(llhttp_sources PRIVATE LLHTTP_STRICT_MODE=1)
    target_compile_options(llhttp_sources PRIVATE -w)
    set_target_properties(llhttp_sources PROPERTIES POSITION_INDEPENDENT_CODE ON)
    add_library(llhttp::llhttp ALIAS llhttp_sources)
endif()
