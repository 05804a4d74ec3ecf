"""The three Dockerfiles built on python:3.13-slim (DEBIAN_IMAGE=python:3.13-slim; offline, the
stand-in docker/offline-bases.sh makes: Python under /usr/local, no Debian python3): each runs
the app on the base's own Python, in the virtualenv, with pip gone from it, and serves pages,
static files and the probes. scripts/test-images builds them as PYTHON_TAG_PREFIX:STYLE (default
TAG_PREFIX-python, i.e. recipes-python:STYLE)."""

import os
import re

import pytest

from imagelib import (NONROOT, STYLES, Container, check_oci_labels, hashed_static, image_files, images,
                      inspect, require_image)


def python_images():
    prefix = os.environ.get("PYTHON_TAG_PREFIX") or (os.environ.get("TAG_PREFIX") or "recipes") + "-python"
    return images(prefix)


@pytest.fixture(scope="module", params=STYLES)
def app(request):
    image = require_image(python_images()[request.param])
    c = Container(request.param, image, name=None)
    yield c
    c.remove()


def test_config(app):
    cfg = inspect("image", app.image, "{{json .Config}}")
    assert cfg["User"] == "%d:%d" % (NONROOT, NONROOT)
    assert cfg["Cmd"] == ["wsgihost"]
    assert cfg["Healthcheck"]["Test"] == ["CMD", "wsgihost", "healthcheck"]
    check_oci_labels(cfg["Labels"])


def test_runs_on_the_base_python_in_the_venv(app):
    out = app.exec("wsgihost", "manage", "shell", "-c",
                   "import sys, django; print(sys.base_prefix, sys.prefix, django.get_version())").stdout
    base_prefix, prefix, django = out.strip().splitlines()[-1].split()
    assert (base_prefix, prefix) == ("/usr/local", "/opt/venv"), out
    assert django.startswith("5.2."), out


def test_files(app):
    files = image_files(app.image)
    assert "/opt/venv/bin/wsgihost" in files
    assert not [f for f in files if f.startswith("/usr/lib/python3")], "a Debian Python in the image"
    assert not [f for f in files if re.match(r"/opt/venv/(bin/pip|lib/python3\.13/site-packages/pip/)", f)]
    if app.style == "distroless":
        assert "/usr/local/lib/python3.13/os.py" in files
        assert not {"/bin/sh", "/usr/bin/sh", "/usr/local/bin/python3.13"} & files


def test_serves(app):
    home = app.get("/")
    assert home.status == 200, (home, app.logs()[-3000:])
    css = hashed_static(home.text(), "/static/css/")
    r = app.get(css, headers={"Accept-Encoding": "br"})
    assert r.status == 200 and r.header("content-encoding") == "br", r
    assert "immutable" in r.header("cache-control")
    assert app.get("/readyz").status == 200
