#!/bin/sh
# Build-time only: removes from Debian's installed Python 3.13, Django and friends the files that no
# image of the app needs at run time (docker/README.md says what each saves). Never in a runtime.
#   prune-python.sh ROOT [--collected]
# ROOT holds usr/lib/python3.13 and usr/lib/python3/dist-packages ("/" for the image itself).
# --collected: also Django's own static files, which collectstatic has copied to STATIC_ROOT.
# KEEP_LOCALES="de fr" (environment) keeps only those of Django's translations, and English.
set -eu
root=${1:?usage: prune-python.sh ROOT [--collected]}
std=$root/usr/lib/python3.13
site=$root/usr/lib/python3/dist-packages
[ -d "$std" ] && [ -d "$site/django" ] || { echo "prune-python.sh: no Python 3.13 + Django under $root" >&2; exit 1; }

# The stdlib's regression tests and the extension modules that exist only for them; pydoc's topic
# texts (help() on keywords in an interactive session); dbm.ndbm over Berkeley DB (dbm.open has
# dbm.sqlite3); the build-only config-3.13-* directory (libpython3.13.a, from libpython3.13-dev).
rm -rf "$std/test" "$std/pydoc_data" "$std"/config-3.13-* \
    "$std"/lib-dynload/_test* "$std"/lib-dynload/_ctypes_test* "$std"/lib-dynload/_xxtestfuzz* \
    "$std"/lib-dynload/xxlimited* "$std"/lib-dynload/xxsubtype* "$std"/lib-dynload/_dbm*

# Django's translation sources (gettext reads the compiled .mo beside them), and
# django.contrib.gis, which needs GDAL and GEOS (no image has them; the app does not use it).
find "$site/django" -name '*.po' -delete
rm -rf "$site/django/contrib/gis"
if [ "${2:-}" = --collected ]; then
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
