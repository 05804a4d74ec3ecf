"""docker/FROM-GUNICORN.md holds what it says: its gunicorn + whitenoise Dockerfile, unmodified,
and the same file with the documented diff applied both build on python:3.13-slim and serve a
`django-admin startproject`-style project (whitenoise in MIDDLEWARE, its compressed manifest
storage): each answers a page and a hashed static file.

The project's requirements.txt pins gunicorn's side from PyPI; the wsgihost side replaces
gunicorn's line with an archive of this checkout, served on 127.0.0.1 for the build (pip fetches
it as it would a release archive). Two things the harness adds, neither in the Dockerfiles: when
$PIP_CERT names a CA bundle (pip reaching PyPI through a TLS-inspecting proxy), the FROM lines
name a copy of python:3.13-slim whose pip trusts it (the unmodified file has no build argument for
it); and each image is built with --network host, as every build here is.
"""

import functools
import http.server
import io
import os
import re
import subprocess
import tarfile
import threading

import pytest

from imagelib import REPO, Container, docker, free_port, hashed_static, inspect, require_image, wait_for

DOC = REPO / "docker" / "FROM-GUNICORN.md"
BASE = "python:3.13-slim"
TAG = "wsgihost-from-gunicorn"
REQUIREMENTS = "Django==5.2.19\ngunicorn==27.0.1\nwhitenoise==6.12.0\npsycopg==3.3.9\n"
# What pip install . needs of this checkout (pyproject.toml's sdist, less what it excludes).
SOURCES = ("pyproject.toml", "README.md", "CMakeLists.txt", "cmake", "server", "pyglue", "cmd")

SETTINGS = '''\
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "myproject.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "myproject.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/db.sqlite3"}}
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
'''
URLS = '''\
from django.contrib import admin
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import path


def home(request):
    return HttpResponse('<link rel="stylesheet" href="%s"><h1>It works</h1>' % static("admin/css/base.css"))


urlpatterns = [path("", home), path("admin/", admin.site.urls)]
'''
WSGI = '''\
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
application = get_wsgi_application()
'''
MANAGE = '''\
#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
'''


def block(marker, lang):
    """The fenced block of `lang` after the HTML comment starting with `marker` in the doc."""
    text = DOC.read_text()
    m = re.search(r"<!-- %s.*?-->\s*```%s\n(.*?)```" % (re.escape(marker), lang), text, re.S)
    assert m, "%s: no ```%s block after <!-- %s" % (DOC, lang, marker)
    return m.group(1)


def write_project(root, dockerfile, requirements):
    (root / "myproject").mkdir(parents=True)
    for name, text in (("manage.py", MANAGE), ("myproject/__init__.py", ""),
                       ("myproject/settings.py", SETTINGS), ("myproject/urls.py", URLS),
                       ("myproject/wsgi.py", WSGI), ("requirements.txt", requirements),
                       ("Dockerfile", dockerfile)):
        (root / name).write_text(text)


@functools.lru_cache(maxsize=None)
def base_image():
    """python:3.13-slim, or (when $PIP_CERT is set) a copy of it whose pip trusts that bundle."""
    require_image(BASE)
    cert = os.environ.get("PIP_CERT")
    if not cert:
        return BASE
    with open(cert, "rb") as f:
        bundle = f.read()
    dockerfile = ("FROM %s\nCOPY ca.pem /etc/pip-ca.pem\n"
                  "RUN printf '[global]\\ncert = /etc/pip-ca.pem\\n' >/etc/pip.conf\n" % BASE)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile.encode()), ("ca.pem", bundle)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tag = TAG + "-base:3.13-slim"
    proc = subprocess.run(["docker", "build", "--force-rm", "-q", "-t", tag, "-"],
                          input=context.getvalue(), capture_output=True, timeout=300,
                          env=dict(os.environ, DOCKER_BUILDKIT="0"))
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return tag


def build(root, tag):
    dockerfile = (root / "Dockerfile").read_text()
    (root / "Dockerfile").write_text(dockerfile.replace("FROM " + BASE, "FROM " + base_image()))
    proc = subprocess.run(["docker", "build", "--force-rm", "--network", "host", "-t", tag, str(root)],
                          capture_output=True, text=True, timeout=1500,
                          env=dict(os.environ, DOCKER_BUILDKIT="0"))
    assert proc.returncode == 0, "building %s failed:\n%s%s" % (tag, proc.stdout[-4000:], proc.stderr[-3000:])


@pytest.fixture(scope="module")
def source_archive(tmp_path_factory):
    """A URL on 127.0.0.1 serving wsgihost's source as an archive, as a release would."""
    root = tmp_path_factory.mktemp("wsgihost-archive")
    with tarfile.open(root / "wsgihost.tar.gz", "w:gz") as tar:
        for name in SOURCES:
            tar.add(REPO / name, arcname="wsgihost/" + name,
                    filter=lambda info: None if "__pycache__" in info.name else info)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/wsgihost.tar.gz" % server.server_address[1]
    server.shutdown()
    server.server_close()


def serve_and_check(tag):
    """Runs the image's own CMD, on a free port of 127.0.0.1 instead of 0.0.0.0:8000 (the host's
    network: 8000 may be taken); returns the response to a hashed static file."""
    port = free_port()
    cmd = inspect("image", tag, "{{json .Config.Cmd}}")
    assert "0.0.0.0:8000" in cmd, cmd
    argv = [a.replace("0.0.0.0:8000", "127.0.0.1:%d" % port) for a in cmd]
    c = Container("from-gunicorn", tag, args=argv, wait=False,
                  env={"SECRET_KEY": "from-gunicorn-" + "k" * 40, "WSGIHOST_BIND": ""})
    c.port = port
    try:
        def up():
            assert c.running(), "%s exited:\n%s" % (c.name, c.logs()[-4000:])
            try:
                return c.get("/", timeout=2).status == 200
            except OSError:
                return False
        wait_for(up, 60, "%s to answer on port %d" % (tag, port))
        page = c.get("/")
        assert page.status == 200 and "It works" in page.text(), page
        css = hashed_static(page.text(), "/static/admin/css/")
        r = c.get(css, headers={"Accept-Encoding": "gzip"})
        assert r.status == 200 and r.header("content-type").startswith("text/css"), r
        return page, r
    finally:
        c.remove()


def test_gunicorn_file_unmodified(tmp_path):
    write_project(tmp_path, block("gunicorn-dockerfile", "dockerfile"), REQUIREMENTS)
    build(tmp_path, TAG + ":gunicorn")
    page, _ = serve_and_check(TAG + ":gunicorn")
    assert "gunicorn" in (page.header("server") or ""), page


def test_converted_file(tmp_path, source_archive):
    write_project(tmp_path, block("gunicorn-dockerfile", "dockerfile"),
                  REQUIREMENTS.replace("gunicorn==27.0.1", "wsgihost @ " + source_archive))
    patch = subprocess.run(["patch", "-p1", "--no-backup-if-mismatch"], cwd=tmp_path,
                           input=block("wsgihost-diff", "diff"), capture_output=True, text=True)
    assert patch.returncode == 0, patch.stdout + patch.stderr
    dockerfile = (tmp_path / "Dockerfile").read_text()
    assert 'CMD ["wsgihost", "--bind", "0.0.0.0:8000", "myproject.wsgi:application"]' in dockerfile
    build(tmp_path, TAG + ":wsgihost")
    page, css = serve_and_check(TAG + ":wsgihost")
    assert "gunicorn" not in (page.header("server") or ""), page
    assert "immutable" in css.header("cache-control") and css.header("content-encoding") == "gzip", css
    files = docker("run", "--rm", "--entrypoint", "pip", TAG + ":wsgihost", "list").stdout
    assert "wsgihost" in files and "gunicorn" not in files, files
