"""Moves Debian's python3.13 to /usr/local the way the official python image lays it out (the
stand-in's build step, docker/python/Dockerfile): copies the files into OUT/usr/local, rewrites
the build-time paths sysconfig reports, and makes the default install scheme and the site module use
/usr/local/lib/python3.13/site-packages. Fails loudly when Debian's files no longer look as
expected, rather than making a stand-in that differs silently.

    python3.13 relocate.py OUT
"""
import pprint
import re
import shutil
import sys
import sysconfig
from pathlib import Path

out = Path(sys.argv[1]) / "usr" / "local"
arch = sysconfig.get_config_var("MULTIARCH")
ver = "python%d.%d" % sys.version_info[:2]
lib, include, std = out / "lib", out / "include", out / "lib" / ver


def replace_once(path, pattern, repl):
    text = path.read_text()
    new, count = re.subn(pattern, repl, text)
    if count != 1:
        sys.exit("relocate.py: %s: expected one match of %r, found %d" % (path, pattern, count))
    path.write_text(new)


def move(value):
    """A build-time path under /usr, as it would be for a Python configured with --prefix=/usr/local."""
    if not isinstance(value, str):
        return value
    value = value.replace("/usr/lib/" + arch, "/usr/local/lib")
    value = value.replace("/usr/include/" + arch, "/usr/local/include")
    return re.sub(r"(?<![\w/.-])/usr(?=/|\s|$)(?!/local)", "/usr/local", value)


(out / "bin").mkdir(parents=True)
include.mkdir()
shutil.copy2("/usr/bin/" + ver, out / "bin")
shutil.copytree("/usr/lib/" + ver, std, symlinks=True,
                ignore=shutil.ignore_patterns("test", "__pycache__", "*.a"))
shutil.copy2("/usr/lib/%s/lib%s.so.1.0" % (arch, ver), lib)
(lib / ("lib%s.so" % ver)).symlink_to("lib%s.so.1.0" % ver)
config = std / ("config-%d.%d-%s" % (*sys.version_info[:2], arch))
(config / ("lib%s.so" % ver)).unlink(missing_ok=True)
(config / ("lib%s.so" % ver)).symlink_to("../../lib%s.so" % ver)
shutil.copytree("/usr/include/" + ver, include / ver, symlinks=True)
# Debian's pyconfig.h includes a per-architecture one; the official image has just that one.
shutil.copy2("/usr/include/%s/%s/pyconfig.h" % (arch, ver), include / ver / "pyconfig.h")
# ensurepip's wheel where the official image keeps it (Debian looks in /usr/share/python-wheels).
bundled = std / "ensurepip" / "_bundled"
bundled.mkdir(exist_ok=True)
for wheel in Path("/usr/share/python-wheels").glob("pip-*.whl"):
    shutil.copy2(wheel, bundled)

for data in std.glob("_sysconfigdata_*.py"):
    ns = {}
    exec(data.read_text(), ns)
    cfg = {key: move(value) for key, value in ns["build_time_vars"].items()}
    cfg["WHEEL_PKG_DIR"] = ""  # no such directory: ensurepip uses its _bundled wheel
    data.write_text("build_time_vars = " + pprint.pformat(cfg) + "\n")
    if cfg["LIBDIR"] != "/usr/local/lib" or cfg["prefix"] != "/usr/local":
        sys.exit("relocate.py: %s: LIBDIR %s, prefix %s" % (data, cfg["LIBDIR"], cfg["prefix"]))

# Debian's default scheme for a prefix install ("posix_local": {base}/local/...) as the official
# image's (posix_prefix: {base}/lib/python3.13/site-packages, {base}/bin).
for pattern, repl in ((r"'\{base\}/local/lib/python\{py_version_short\}/dist-packages'",
                       "'{base}/lib/python{py_version_short}/site-packages'"),
                      (r"'\{platbase\}/local/lib/python\{py_version_short\}/dist-packages'",
                       "'{platbase}/lib/python{py_version_short}/site-packages'"),
                      (r"'scripts': '\{base\}/local/bin'", "'scripts': '{base}/bin'"),
                      (r"'data': '\{base\}/local'", "'data': '{base}'")):
    replace_once(std / "sysconfig" / "__init__.py", pattern, repl)
# site is a frozen module (site.py is not read): Debian's looks in lib/python3.13/dist-packages
# for a prefix install, which becomes the official image's site-packages.
(std / "site-packages").mkdir()
(std / "dist-packages").symlink_to("site-packages")
# The official image's Python is not a distribution's system Python: ensurepip and pip may
# install into it (Debian turns ensurepip off there and marks the stdlib EXTERNALLY-MANAGED).
replace_once(std / "ensurepip" / "__init__.py",
             r"def _ensurepip_is_disabled_in_debian_for_system\(\):\n",
             "def _ensurepip_is_disabled_in_debian_for_system():\n    return\n")
(std / "EXTERNALLY-MANAGED").unlink(missing_ok=True)
