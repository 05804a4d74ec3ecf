"""The Python that wsgihost embeds (pyglue/py/*.py, compiled in by cmake/embed.cmake), tested
as Python: the gunicorn configuration reader, the --app loader and --preload's warm-up."""

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO

PY = REPO / "pyglue" / "py"


def module(name):
    spec = importlib.util.spec_from_file_location("wsgihost_" + name, PY / (name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ROWS = [("workers", "workers", "value", None), ("bind", "bind", "list", None),
        ("reload", "reload", "flag", None), ("pythonpath", "pythonpath", "joined", None),
        ("secure_scheme_headers", "secure-scheme-headers", "value", None),
        ("proxy_protocol", "proxy-protocol", "flag", None),
        ("worker_connections", "worker-connections", "ignored", "no limit here"),
        ("certfile", "certfile", "refused", "terminate TLS in front")]


def load(tmp_path, body):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(textwrap.dedent(body))
    return module("gunicornconf").load(str(conf), ROWS)


def test_settings_become_options(tmp_path):
    options, warnings, hooks = load(tmp_path, '''
        import os
        workers = 3
        bind = ["127.0.0.1:1", "unix:/tmp/s"]
        reload = True
        pythonpath = ["/a", "/b"]
        secure_scheme_headers = {"X-Scheme": "https"}
        proxy_protocol = "off"
        def when_ready(server):
            pass
    ''')
    assert options == [("bind", "127.0.0.1:1"), ("bind", "unix:/tmp/s"),
                       ("proxy-protocol", "0"), ("pythonpath", "/a,/b"), ("reload", "1"),
                       ("secure-scheme-headers", "X-Scheme=https"), ("workers", "3")]
    assert warnings == [] and list(hooks) == ["when_ready"]


def test_warnings_only_for_values_that_change_behaviour(tmp_path):
    _, warnings, _ = load(tmp_path, '''
        worker_connections = 1000   # gunicorn's default: nothing to say
        certfile = None             # the same
        spew = False
        def pre_request(worker, req):
            pass
        syslog = True
    ''')
    assert warnings[0].startswith("pre_request (a function) in ")
    assert warnings[1].startswith("syslog = True in ")
    assert len(warnings) == 2


def test_refused_and_missing(tmp_path):
    gc = module("gunicornconf")
    with pytest.raises(Exception, match="certfile = '/c.pem' .* terminate TLS"):
        load(tmp_path, 'certfile = "/c.pem"\n')
    with pytest.raises(Exception, match="no such file"):
        gc.load(str(tmp_path / "missing.py"), ROWS)


def test_app_specs(tmp_path, monkeypatch):
    (tmp_path / "factories.py").write_text(textwrap.dedent('''
        def create_app(name="x", *, greeting="hi"):
            def app(environ, start_response):
                return [("%s %s" % (greeting, name)).encode()]
            return app
        class Holder:
            app = staticmethod(create_app())
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    appload = module("appload")
    for spec, body in [("factories:create_app()", b"hi x"),
                       ("factories:create_app('y', greeting='yo')", b"yo y"),
                       ("factories:Holder.app", b"hi x")]:
        assert appload.load(spec)({}, None) == [body]
    for spec, needle in [("factories:create_app(x)", "literal arguments only"),
                         ("factories:create_app(**{})", r"no \*\*kwargs"),
                         ("factories:1 + 2", "not a name or a call"),
                         ("no_such_module_here", "no module named 'no_such_module_here'"),
                         ("factories:nothing", "has no attribute 'nothing'")]:
        with pytest.raises(appload.AppError, match=needle):
            appload.load(spec)
    sys.modules.pop("factories", None)


# --preload's warm-up (pyglue/py/preload.py), run in a child Python so that the Django it
# configures stays out of this process.
WARM_CHILD = '''
import importlib.util, json, sys
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=[], USE_I18N=True, ROOT_URLCONF="warmurls", TEMPLATES=[{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [sys.argv[2]],
    "OPTIONS": {"loaders": [("django.template.loaders.cached.Loader",
                             ["django.template.loaders.filesystem.Loader"])]}}])
django.setup()
spec = importlib.util.spec_from_file_location("preload", sys.argv[1])
preload = importlib.util.module_from_spec(spec)
spec.loader.exec_module(preload)
done = preload.warm()
from django.template import engines
from django.urls import get_resolver
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({"done": done, "cached": sorted(loader.get_template_cache),
                  "urls_populated": get_resolver()._populated}))  # Django's own flag
'''


def test_preload_warm_compiles_templates_and_populates_urls(tmp_path):
    templates = tmp_path / "templates"
    (templates / "app").mkdir(parents=True)
    (templates / "base.html").write_text("<title>{% block t %}{% endblock %}</title>")
    (templates / "app" / "page.html").write_text('{% extends "base.html" %}{% block t %}x{% endblock %}')
    (templates / "broken.html").write_text("{% if %}")  # does not compile: left for its request
    (tmp_path / "warmurls.py").write_text(
        "from django.urls import path\nurlpatterns = [path('w/', lambda r: None, name='warm')]\n")
    proc = subprocess.run([sys.executable, "-c", WARM_CHILD, str(PY / "preload.py"), str(templates)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cached"] == ["app/page.html", "base.html"], out
    assert out["urls_populated"], out
    assert out["done"] == "1 URL patterns, 2 templates compiled, translations", out


def test_preload_warm_does_nothing_without_django():
    assert module("preload").warm() is None
