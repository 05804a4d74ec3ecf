"""--preload: warm a Django app's lazy caches in the master before it forks (pyglue/django.c
calls warm). What a worker would otherwise build on its first requests, each worker its own
private copy, is built once here and shared copy-on-write after gc.freeze(): the URL resolver's
reverse tables, the translation catalogues, and every template the cached loaders can find,
compiled (their tag libraries imported with them).

Nothing here may fail the start: a template that does not compile (a fragment of another
language, a .txt with stray braces) is left for the request that renders it, where the app sees
its error as it would have without --preload.
"""

import os
import sys

# A warm-up that finds more is not worth more memory than this: a project with thousands of
# templates keeps the rest lazy.
MAX_TEMPLATES = 2000
MAX_TEMPLATE_BYTES = 1024 * 1024


def _django_settings():
    """django.conf.settings when the app configured Django, else None (nothing is imported)."""
    conf = sys.modules.get("django.conf")
    if conf is None:
        return None
    try:
        return conf.settings if conf.settings.configured else None
    except Exception:  # ImproperlyConfigured and the like: not a Django app for us
        return None


def _template_names(directory):
    """Names of the files below `directory`, as the loaders take them ("app/page.html")."""
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            try:
                if os.path.getsize(path) > MAX_TEMPLATE_BYTES:
                    continue
            except OSError:
                continue
            yield os.path.relpath(path, directory).replace(os.sep, "/")


def _warm_templates():
    from django.template import engines
    from django.template.backends.django import DjangoTemplates

    compiled = 0
    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue  # Jinja2 and others cache as they like
        seen = set()
        for directory in engine.template_dirs:
            for name in _template_names(str(directory)):
                if name in seen or compiled >= MAX_TEMPLATES:
                    continue
                seen.add(name)
                try:
                    # The cached loader keeps the compiled template (not cached: compiled, dropped)
                    engine.get_template(name)
                    compiled += 1
                except Exception:
                    pass  # see the module's docstring
    return compiled


def _warm_urls():
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.reverse_dict  # populates the reverse tables (every included URLconf imported)
    return len(resolver.url_patterns)


def _warm_translations(settings):
    if not settings.USE_I18N:
        return
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):  # activating loads the catalogues
        pass


def warm():
    """Warms a Django app; returns what was done, for the log, or None when not Django."""
    settings = _django_settings()
    if settings is None:
        return None
    done = []
    for what, step in (("URL patterns", _warm_urls),
                       ("templates compiled", _warm_templates),
                       ("translations", lambda: _warm_translations(settings))):
        try:
            n = step()
        except Exception as e:  # a warm-up is an optimisation: say so, and go on
            done.append("%s skipped (%s: %s)" % (what, type(e).__name__, e))
            continue
        done.append(what if n is None else "%d %s" % (n, what))
    return ", ".join(done)
