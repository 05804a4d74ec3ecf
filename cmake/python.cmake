# The embedded interpreter: wsgihost::python, an interface target for pyglue/.
#
# WSGIHOST_STATIC_PYTHON=AUTO (the default) links the interpreter in statically from the
# distribution's libpython3.X.a when it is installed and no sanitizer is on, the way Debian builds
# /usr/bin/python3 itself: non-PIC code, a non-PIE executable, its symbols exported so that
# extension modules (psycopg2, the stdlib's lib-dynload) resolve them from the executable. The
# shared libpython3.X.so is PIC and calls through the PLT: on Debian 12 the same Django request
# costs about 10% more CPU through it (bench/results/profile.md). OFF always uses the shared
# library (the sanitizer builds do: they test the other link).
set(WSGIHOST_STATIC_PYTHON AUTO CACHE STRING "Link libpython statically: AUTO, ON or OFF")
set_property(CACHE WSGIHOST_STATIC_PYTHON PROPERTY STRINGS AUTO ON OFF)

# Debian's interpreter, not whatever python3 comes first on PATH (pyenv); -D overrides it, as
# scikit-build-core does with the interpreter running `pip install`.
set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python to embed")
# The pip build's server is an extension module's kind of library: the headers, no libpython
# (cmake/wheel.cmake).
if(WSGIHOST_WHEEL)
    set(_wh_py_development Development.Module)
else()
    set(_wh_py_development Development.Embed)
endif()
find_package(Python3 3.10 COMPONENTS Interpreter ${_wh_py_development})
if(NOT Python3_Interpreter_FOUND)
    message(FATAL_ERROR "No Python >= 3.10 at ${Python3_EXECUTABLE}: install the Debian package "
                        "python3, or pass -DPython3_EXECUTABLE=/path/to/python3")
elseif(NOT Python3_${_wh_py_development}_FOUND)
    message(FATAL_ERROR "Python ${Python3_VERSION}'s headers and library not found for "
                        "${Python3_EXECUTABLE}: install the Debian package python3-dev (or "
                        "python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}-dev)")
endif()
if(WSGIHOST_WHEEL)
    # The launcher picks the interpreter on the machine the wheel is installed on.
    set(WSGIHOST_PYTHON_EXECUTABLE "")
    set(WSGIHOST_STATIC_PYTHON OFF)
else()
    # The interpreter's real path becomes the embedded sys.executable default: its own
    # sys.executable, since Python3_EXECUTABLE may be a pyenv shim (a shell script) on PATH.
    execute_process(
        COMMAND "${Python3_EXECUTABLE}" -c "import sys; print(sys.executable)"
        OUTPUT_VARIABLE _wh_py_executable
        RESULT_VARIABLE _wh_py_executable_result
        OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT _wh_py_executable_result EQUAL 0 OR _wh_py_executable STREQUAL "")
        set(_wh_py_executable "${Python3_EXECUTABLE}")
    endif()
    file(REAL_PATH "${_wh_py_executable}" WSGIHOST_PYTHON_EXECUTABLE)
endif()

# What python3-config would say for a static link: the archive and the libraries its built-in
# modules need (MODLIBS: zlib, expat, ...), one per line.
execute_process(
    COMMAND "${Python3_EXECUTABLE}" -c
            "import sysconfig as s, os; v = s.get_config_var; \
print(os.path.join(v('LIBPL') or '', v('LIBRARY') or '')); \
print(' '.join(filter(None, (v('MODLIBS'), v('LIBS'), v('SYSLIBS')))))"
    OUTPUT_VARIABLE _wh_py_static
    RESULT_VARIABLE _wh_py_result
    OUTPUT_STRIP_TRAILING_WHITESPACE)
set(_wh_py_archive "")
set(_wh_py_libs "")
if(_wh_py_result EQUAL 0)
    string(REPLACE "\n" ";" _wh_py_static "${_wh_py_static}")
    list(LENGTH _wh_py_static _wh_py_lines)
    if(_wh_py_lines EQUAL 2)
        list(GET _wh_py_static 0 _wh_py_archive)
        list(GET _wh_py_static 1 _wh_py_libs)
        separate_arguments(_wh_py_libs UNIX_COMMAND "${_wh_py_libs}")
        # Only -l flags: MODLIBS may name archives of CPython's build tree (3.13's
        # Modules/_hacl/libHacl_Hash_SHA2.a), which no package ships.
        list(FILTER _wh_py_libs INCLUDE REGEX "^-l")
        list(REMOVE_DUPLICATES _wh_py_libs)
    endif()
endif()

# The archive must exist and link: Debian 13's libpython3.13.a leaves the HACL SHA-2 symbols
# undefined (they live in an archive of the build tree), so AUTO falls back to the shared library
# there. Py_Initialize pulls in the built-in module table, so every built-in module is linked.
set(_wh_py_static_ok FALSE)
if(NOT WSGIHOST_WHEEL AND _wh_py_archive MATCHES "\\.a$" AND EXISTS "${_wh_py_archive}"
   AND NOT (WSGIHOST_STATIC_PYTHON STREQUAL "AUTO" AND WSGIHOST_SANITIZE))
    include(CheckCSourceCompiles)
    set(CMAKE_REQUIRED_INCLUDES ${Python3_INCLUDE_DIRS})
    set(CMAKE_REQUIRED_LIBRARIES "${_wh_py_archive}" ${_wh_py_libs} Threads::Threads)
    set(CMAKE_REQUIRED_LINK_OPTIONS -no-pie LINKER:--export-dynamic)
    set(CMAKE_REQUIRED_QUIET ON)
    check_c_source_compiles("#include <Python.h>
int main(void) { Py_Initialize(); return Py_FinalizeEx(); }" WSGIHOST_STATIC_PYTHON_LINKS)
    unset(CMAKE_REQUIRED_INCLUDES)
    unset(CMAKE_REQUIRED_LIBRARIES)
    unset(CMAKE_REQUIRED_LINK_OPTIONS)
    unset(CMAKE_REQUIRED_QUIET)
    set(_wh_py_static_ok ${WSGIHOST_STATIC_PYTHON_LINKS})
endif()

if(WSGIHOST_STATIC_PYTHON STREQUAL "ON")
    if(NOT _wh_py_static_ok)
        message(FATAL_ERROR "WSGIHOST_STATIC_PYTHON=ON but no static libpython links "
                            "(\"${_wh_py_archive}\"; see CMakeFiles/CMakeError.log): install "
                            "libpython3-dev, or use AUTO/OFF")
    endif()
    set(WSGIHOST_PYTHON_LINK static)
elseif(WSGIHOST_STATIC_PYTHON STREQUAL "AUTO" AND _wh_py_static_ok AND NOT WSGIHOST_SANITIZE)
    set(WSGIHOST_PYTHON_LINK static)
elseif(WSGIHOST_STATIC_PYTHON MATCHES "^(AUTO|OFF)$")
    set(WSGIHOST_PYTHON_LINK shared)
else()
    message(FATAL_ERROR "WSGIHOST_STATIC_PYTHON must be AUTO, ON or OFF, not \"${WSGIHOST_STATIC_PYTHON}\"")
endif()

add_library(wsgihost_python INTERFACE)
if(WSGIHOST_PYTHON_LINK STREQUAL "static")
    message(STATUS "Python: ${Python3_VERSION}, linked statically from ${_wh_py_archive}")
    target_include_directories(wsgihost_python SYSTEM INTERFACE ${Python3_INCLUDE_DIRS})
    target_link_libraries(wsgihost_python INTERFACE "${_wh_py_archive}" ${_wh_py_libs} Threads::Threads)
    # Non-PIC archive: the executables that embed it cannot be position-independent.
    target_link_options(wsgihost_python INTERFACE -no-pie LINKER:--export-dynamic)
elseif(WSGIHOST_WHEEL)
    message(STATUS "Python: ${Python3_VERSION}, from the process (an extension module's build)")
    target_link_libraries(wsgihost_python INTERFACE Python3::Module)
else()
    message(STATUS "Python: ${Python3_VERSION}, shared ${Python3_LIBRARIES}")
    target_link_libraries(wsgihost_python INTERFACE Python3::Python)
endif()
add_library(wsgihost::python ALIAS wsgihost_python)
