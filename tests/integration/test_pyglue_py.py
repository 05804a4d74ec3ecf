"""The Python that wsgihost embeds (pyglue/py/*.py, compiled in by cmake/embed.cmake), tested
as Python: the gunicorn configuration reader and the --app loader."""

import importlib.util
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
