"""Runs wsgihost inside this interpreter (pyglue/hosted.c): the pip build's launcher
(cmd/launcher.c) execs `python lib/wsgihost/hosted.py MAJOR.MINOR LAUNCHER ARGS...` where the
interpreter has no libpython of its own build beside it. Installed beside wsgihost-core.so."""
import os
import signal
import sys
from importlib.machinery import ExtensionFileLoader
from importlib.util import module_from_spec, spec_from_loader

MODULE = "wsgihost_core"
EXIT_WRONG_PYTHON = 2  # as cmd/launcher.c's


def main():
    built_for, launcher, *args = sys.argv[1:]
    running = "%d.%d" % sys.version_info[:2]
    if running != built_for:
        print("wsgihost: this wsgihost was built for Python %s but runs on %s (%s); install it "
              "again with this Python's pip" % (built_for, running, sys.executable),
              file=sys.stderr)
        return EXIT_WRONG_PYTHON
    # As when wsgihost starts the interpreter itself: the server owns SIGINT, sys.path gets
    # the working directory from wsgihost (not this script's), and the app sees argv[0] only.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    del sys.path[0]
    sys.argv = ["wsgihost"]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wsgihost-core.so")
    loader = ExtensionFileLoader(MODULE, path)
    core = module_from_spec(spec_from_loader(MODULE, loader))
    loader.exec_module(core)
    return core.main([launcher] + args)


if __name__ == "__main__":
    sys.exit(main())
