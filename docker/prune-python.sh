#!/bin/sh
# Build-time only: removes from a virtualenv (the app's packages) or a stdlib the files that no
# image of the app needs at run time (docker/README.md says what each saves). Never in a runtime.
#   prune-python.sh [--collected] [--keep-pip] DIR...
# DIR is a virtualenv (it has pyvenv.cfg) or a Python 3 standard library (it has os.py).
# A virtualenv loses pip (it installs nothing at run time; --keep-pip: not yet, for a build that
# prunes in the step that installs, to keep the bytes out of that layer), Django's .po sources
# and django.contrib.gis; with --collected also Django's own static files, which collectstatic
# has copied to STATIC_ROOT. KEEP_LOCALES="de fr" (environment) keeps only those of Django's
# translations, and English.
set -eu
usage="usage: prune-python.sh [--collected] [--keep-pip] VENV_OR_STDLIB..."
collected=
keep_pip=
while [ $# -gt 0 ]; do
    case $1 in
        --collected) collected=1 ;;
        --keep-pip) keep_pip=1 ;;
        -*) echo "$usage" >&2; exit 2 ;;
        *) break ;;
    esac
    shift
done
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }

prune_venv() {
    venv=$1
    site=$(echo "$venv"/lib/python3.*/site-packages)
    [ -d "$site" ] || { echo "prune-python.sh: $venv has no lib/python3.*/site-packages" >&2; exit 1; }
    # pip and its console scripts: the image installs nothing at run time.
    if [ -z "$keep_pip" ]; then
        rm -rf "$site"/pip "$site"/pip-*.dist-info "$venv"/bin/pip "$venv"/bin/pip3 "$venv"/bin/pip3.*
        rm -f "$venv"/bin/activate* "$venv"/bin/Activate.ps1
        # the installed-files lists only pip reads (to uninstall); importlib.metadata needs METADATA
        rm -f "$site"/*.dist-info/RECORD
    fi
    [ -d "$site/django" ] || return 0
    # Django's translation sources (gettext reads the compiled .mo beside them), and
    # django.contrib.gis, which needs GDAL and GEOS (no image has them; the app does not use it).
    find "$site/django" -name '*.po' -delete
    rm -rf "$site/django/contrib/gis"
    if [ -n "$collected" ]; then
        rm -rf "$site"/django/contrib/*/static
    fi
    if [ -n "${KEEP_LOCALES:-}" ]; then
        for d in "$site"/django/conf/locale/*/LC_MESSAGES "$site"/django/contrib/*/locale/*/LC_MESSAGES; do
            lang=${d%/LC_MESSAGES}
            lang=${lang##*/}
            case " en $KEEP_LOCALES " in
                *" $lang "*) ;;
                *) rm -r "$d" ;;
            esac
        done
    fi
}

# The stdlib's regression tests and the extension modules that exist only for them; pydoc's topic
# texts (help() on keywords in an interactive session); dbm.ndbm over Berkeley DB (dbm.open has
# dbm.sqlite3); the build-only config-3.X-* directory (libpython3.X.a and the Makefile); ensurepip,
# idlelib, tkinter and turtledemo, readline and curses with the libraries they pull in (nothing
# runs them in an image without a python executable or a terminal).
prune_stdlib() {
    std=$1
    rm -rf "$std/test" "$std/pydoc_data" "$std"/config-3.* "$std/ensurepip" "$std/idlelib" \
        "$std/tkinter" "$std/turtledemo" "$std/turtle.py" "$std"/__pycache__/turtle.* \
        "$std"/lib-dynload/_test* "$std"/lib-dynload/_ctypes_test* "$std"/lib-dynload/_xxtestfuzz* \
        "$std"/lib-dynload/xxlimited* "$std"/lib-dynload/xxsubtype* "$std"/lib-dynload/_dbm* \
        "$std"/lib-dynload/_tkinter* "$std"/lib-dynload/readline* "$std"/lib-dynload/_curses*
}

for dir in "$@"; do
    if [ -f "$dir/pyvenv.cfg" ]; then
        prune_venv "$dir"
    elif [ -f "$dir/os.py" ]; then
        prune_stdlib "$dir"
    else
        echo "prune-python.sh: $dir is neither a virtualenv (pyvenv.cfg) nor a stdlib (os.py)" >&2
        exit 1
    fi
done
