"""--reload: the directories of the app's modules, to watch (pyglue/reloadpy.c calls
module_dirs). The standard library and site-packages are left out."""

import os
import sys
import sysconfig


def module_dirs():
    skip = set()
    paths = sysconfig.get_paths()
    for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
        if paths.get(key):
            skip.add(os.path.realpath(paths[key]))
    for p in sys.path:
        if p and os.path.basename(p.rstrip('/')) in ('site-packages', 'dist-packages'):
            skip.add(os.path.realpath(p))
    out = set()
    for module in list(sys.modules.values()):
        f = getattr(module, '__file__', None)
        if not isinstance(f, str) or not f:
            continue
        d = os.path.dirname(os.path.realpath(f))
        if any(d == s or d.startswith(s + os.sep) for s in skip):
            continue
        if os.path.isdir(d):
            out.add(d)
    return sorted(out)
