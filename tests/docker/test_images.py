"""The three images (single-stage, multi-stage, distroless), each against a PostgreSQL on 127.0.0.1:
configuration, files, non-root, migrate and createsuperuser through `docker exec`, pages, API,
admin login, static files, probes, HEALTHCHECK, bytecode, SQLite by default, graceful stop.

Tests run per image in file order (the module-scoped `app` fixture is parametrized by style);
the last one stops the container.
"""

import gzip
import os
import re
import time
import urllib.parse

import pytest

from imagelib import (NONROOT, POSTGRES_IMAGE, STYLES, TARGET_MB, Container, check_oci_labels, docker,
                      image_files, images, inspect, free_port, hashed_static, require_image, wait_for)

ADMIN_PASSWORD = "image-tests-admin-password"
PG_PASSWORD = "image-tests-pg-password"


class Postgres:
    def __init__(self):
        self.port = free_port()
        self.name = "recipes-test-pg-%d-%d" % (os.getpid(), self.port)
        docker("run", "-d", "--network", "host", "--name", self.name,
               "-e", "POSTGRES_PASSWORD=" + PG_PASSWORD, "-e", "POSTGRES_USER=recipes",
               "-e", "POSTGRES_DB=recipes", require_image(POSTGRES_IMAGE),
               "-p", str(self.port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
        wait_for(lambda: docker("exec", self.name, "pg_isready", "-q", "-h", "127.0.0.1", "-p",
                                str(self.port), check=False).returncode == 0,
                 60, "PostgreSQL (%s) on port %d" % (POSTGRES_IMAGE, self.port), interval=0.3)

    def createdb(self, db):
        docker("exec", self.name, "createdb", "-h", "127.0.0.1", "-p", str(self.port),
               "-U", "recipes", db, env=dict(os.environ, PGPASSWORD=PG_PASSWORD))

    def url(self, db):
        return "postgres://recipes:%s@127.0.0.1:%d/%s" % (PG_PASSWORD, self.port, db)

    def remove(self):
        docker("rm", "-f", "-v", self.name, check=False)


@pytest.fixture(scope="module")
def postgres():
    pg = Postgres()
    yield pg
    pg.remove()


@pytest.fixture(scope="module", params=STYLES)
def app(request, postgres):
    """The image of one style, serving recipes against its own PostgreSQL database. Migrations
    are left to `docker exec ... manage migrate` (WSGIHOST_MIGRATE=0); HEALTHCHECK every second."""
    style = request.param
    image = require_image(images()[style])
    db = "recipes_" + style
    postgres.createdb(db)
    c = Container(style, image,
                  env={"DATABASE_URL": postgres.url(db), "WSGIHOST_MIGRATE": "0",
                       "SECURE_COOKIES": "0", "WSGIHOST_WORKERS": "2"},
                  run_opts=["--health-interval=1s", "--health-start-period=60s"])
    yield c
    c.remove()


def pids_of(pid):
    """pid and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in os.listdir("/proc/%d/task" % p):
            with open("/proc/%d/task/%s/children" % (p, task)) as f:
                todo += [int(c) for c in f.read().split()]
    return out


# --- the image ------------------------------------------------------------------------------------

def test_image_config(app):
    cfg = inspect("image", app.image, "{{json .Config}}")
    assert cfg["User"] == "%d:%d" % (NONROOT, NONROOT)
    assert cfg["Cmd"] == ["wsgihost"]
    assert not cfg.get("Entrypoint"), "no entrypoint (script or otherwise): %r" % cfg["Entrypoint"]
    assert cfg["Healthcheck"]["Test"] == ["CMD", "wsgihost", "healthcheck"]
    assert cfg["StopSignal"] == "SIGTERM"
    assert "8000/tcp" in cfg["ExposedPorts"]
    assert "/data" in cfg["Volumes"]
    env = dict(item.split("=", 1) for item in cfg["Env"])
    assert env["PORT"] == "8000" and env["WSGIHOST_APP"] == "recipes.wsgi"
    assert env["SQLITE_PATH"].startswith("/data/") and env["MEDIA_ROOT"].startswith("/data/")
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    version = docker("run", "--rm", app.image, "wsgihost", "--version").stdout
    assert re.search(r"Python 3\.13\.\d+, libuv 1\.\d+\.\d+, llhttp 9\.\d+", version), version
    check_oci_labels(cfg["Labels"])


def test_no_build_secrets(app):
    """pip's CA bundle (scripts/images passes $PIP_CERT's) stays in the builder stages: no file
    of the image holds it, and no layer's history of the multi-stage and distroless images
    mentions it (the single-stage image has one stage: its pip steps' arguments do, see
    docker/README.md)."""
    files = image_files(app.image)
    leaked = [f for f in ("/etc/pip.conf", "/etc/pip-ca.pem", "/tmp/ca.pem") if f in files]
    assert not leaked, leaked
    if app.style != "single":
        history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", app.image).stdout
        assert "BEGIN CERTIFICATE" not in history and "PIP_CERT_PEM" not in history


def test_size_within_target(app):
    size_mb = inspect("image", app.image, "{{json .Size}}") / 1e6
    assert size_mb <= TARGET_MB[app.style], "%s is %.1f MB, over its target of %d MB" % (
        app.image, size_mb, TARGET_MB[app.style])


def test_files(app):
    """Only runtime files: no compiler, headers or build tools (no shell or package manager in
    distroless); no gunicorn or whitenoise; no tests, .po sources or build-only Python files;
    bytecode for every module and none without its source; precompressed static files."""
    files = image_files(app.image)
    assert "/opt/venv/bin/wsgihost" in files
    assert not [f for f in files if re.match(r"/opt/venv/(bin/pip|lib/python3\.13/site-packages/pip/)", f)]
    tools = [f for f in files if re.fullmatch(
        r"/usr/(local/)?bin/(gcc|g\+\+|cc|c\+\+|cpp|ld|as|make|cmake|pkg-config|x86_64-linux-gnu-\w+)(-\d+)?",
        f)]
    assert not tools, "build tools in the image: %s" % tools
    headers = [f for f in files if f.startswith("/usr/include/") and f.endswith(".h")]
    assert not headers, "headers in the image: %s" % headers[:10]
    assert not [f for f in files if re.search(r"gunicorn|whitenoise", f)]
    assert not [f for f in files if f.endswith(".po")]
    assert not [f for f in files if re.search(r"/lib/python3\.13/test/", f)]
    assert not [f for f in files if "/config-3.13-" in f and f.endswith(".a")]
    if app.style == "distroless":
        for path in ("/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/usr/bin/dash",
                     "/usr/bin/dpkg", "/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/python3.13"):
            assert path not in files, path
        proc = docker("run", "--rm", "--entrypoint", "/bin/sh", app.image, "-c", "true", check=False)
        assert proc.returncode != 0, "distroless ran /bin/sh"

    pyc = re.compile(r"(.*)/__pycache__/([^/.]+)\.cpython-313\.pyc")
    compiled = set()
    for f in files:
        if "/__pycache__/" in f and f.endswith(".pyc"):
            m = pyc.fullmatch(f)
            assert m, "unexpected bytecode file (optimised or foreign): %s" % f
            source = "%s/%s.py" % m.groups()
            assert source in files, "bytecode without its source (stale): %s" % f
            compiled.add(source)
    roots = ("/app/", "/opt/venv/", "/usr/lib/python3.13/", "/usr/local/lib/python3.13/")
    sources = {f for f in files if f.endswith(".py") and f.startswith(roots)}
    missing = sorted(sources - compiled)
    assert not missing, "%d modules without bytecode, e.g. %s" % (len(missing), missing[:10])

    static = "/app/staticfiles/"
    assert static + "staticfiles.json" in files
    css = [f for f in files if re.fullmatch(re.escape(static) + r"css/site\.[0-9a-f]{12}\.css", f)]
    assert css and css[0] + ".br" in files and css[0] + ".gz" in files


def test_runs_as_non_root(app):
    pid = inspect("container", app.name, "{{json .State.Pid}}")
    pids = pids_of(pid)
    assert len(pids) >= 3, "expected a master and 2 workers, got %s" % pids
    for p in pids:
        with open("/proc/%d/status" % p) as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        assert uids == [str(NONROOT)] * 4, "pid %d runs as %s" % (p, uids)


# --- the app against PostgreSQL -------------------------------------------------------------------

def test_migrate_and_createsuperuser(app):
    out = app.exec("wsgihost", "manage", "migrate", "--noinput").stdout
    assert "Applying cookbook.0001_initial... OK" in out, out
    app.exec("wsgihost", "manage", "createsuperuser", "--noinput",
             env={"DJANGO_SUPERUSER_USERNAME": "admin", "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
                  "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD})
    out = app.exec("wsgihost", "manage", "seed_recipes", "--count", "3").stdout
    assert "Seeded 3" in out, out


def test_pages_and_api(app):
    listing = app.get("/api/recipes/")
    assert listing.status == 200, listing
    data = listing.json()
    assert data["count"] == 3 and len(data["results"]) == 3
    recipe = data["results"][0]
    detail = app.get("/api/recipes/%s/" % recipe["slug"])
    assert detail.status == 200 and detail.json()["ingredients"], detail

    home = app.get("/")
    assert home.status == 200 and recipe["title"] in home.text(), home
    page = app.get("/recipes/%s/" % recipe["slug"])
    assert page.status == 200 and recipe["title"] in page.text(), page
    for path in ("/accounts/login/", "/accounts/signup/", "/admin/login/", "/plain/"):
        r = app.get(path)
        assert r.status == 200, (path, r)
    assert app.get("/recipes/no-such-recipe/").status == 404


def test_admin_login(app):
    form = app.get("/admin/login/?next=/admin/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text()).group(1)
    csrf = re.search(r"csrftoken=([^;]+)", form.header("set-cookie")).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "admin",
                                   "password": ADMIN_PASSWORD, "next": "/admin/"})
    login = app.get("/admin/login/?next=/admin/", method="POST", body=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             "Cookie": "csrftoken=" + csrf})
    assert login.status == 302 and login.header("location") == "/admin/", login
    session = re.search(r"sessionid=([^;]+)", login.header("set-cookie")).group(1)
    admin = app.get("/admin/", headers={"Cookie": "csrftoken=%s; sessionid=%s" % (csrf, session)})
    assert admin.status == 200 and "Site administration" in admin.text(), admin


def test_static_files(app):
    css = hashed_static(app.get("/").text(), "/static/css/")
    plain = app.get(css)
    assert plain.status == 200 and plain.header("content-encoding") is None, plain
    assert plain.header("content-type").startswith("text/css")
    cache = plain.header("cache-control")
    assert "immutable" in cache and "max-age=315360000" in cache, cache
    assert "accept-encoding" in plain.header("vary").lower()

    gz = app.get(css, headers={"Accept-Encoding": "gzip"})
    assert gz.header("content-encoding") == "gzip" and gzip.decompress(gz.body) == plain.body
    br = app.get(css, headers={"Accept-Encoding": "br, gzip"})
    assert br.header("content-encoding") == "br" and 0 < len(br.body) < len(plain.body), br
    assert "immutable" in br.header("cache-control")

    etag = plain.header("etag")
    assert app.get(css, headers={"If-None-Match": etag}).status == 304

    admin_css = hashed_static(app.get("/admin/login/").text(), "/static/admin/css/")
    r = app.get(admin_css, headers={"Accept-Encoding": "br"})
    assert r.status == 200 and "immutable" in r.header("cache-control"), r
    unhashed = app.get("/static/css/site.css")
    assert unhashed.status == 200 and "immutable" not in unhashed.header("cache-control"), unhashed
    assert app.get("/static/css/no-such-file.css").status == 404


def test_probes(app):
    assert app.get("/healthz").status == 200
    ready = app.get("/readyz")
    assert ready.status == 200, ready


def test_healthcheck_turns_healthy(app):
    wait_for(lambda: inspect("container", app.name, "{{json .State.Health.Status}}") == "healthy",
             30, "HEALTHCHECK to report healthy")
    last = inspect("container", app.name, "{{json .State.Health.Log}}")[-1]
    assert last["ExitCode"] == 0, last


# --- more containers of the same image ------------------------------------------------------------

def test_sqlite_by_default(app):
    """A bare `docker run -e SECRET_KEY=... IMAGE` shows the site: SQLite in /data, migrated at
    start-up; `manage migrate` through docker exec then has nothing left to do."""
    c = Container(app.style, app.image, name=app.name + "-sqlite")
    try:
        home = c.get("/")
        assert home.status == 200, (home, c.logs()[-3000:])
        out = c.exec("wsgihost", "manage", "migrate").stdout
        assert "No migrations to apply" in out, out
        files = c.exec("wsgihost", "manage", "shell", "-c",
                       "import os; print(sorted(os.listdir('/data')))").stdout
        assert "db.sqlite3" in files, files
    finally:
        c.remove()


def test_bytecode_is_complete(app):
    """Run as root with bytecode writing allowed: serving pages and running manage commands
    writes no .pyc anywhere, so every module was compiled at build time and none is stale."""
    c = Container(app.style, app.image, name=app.name + "-pyc", run_opts=["--user", "0"],
                  env={"PYTHONDONTWRITEBYTECODE": ""})
    try:
        flags = c.exec("wsgihost", "manage", "shell", "-c",
                       "import sys; print('dont_write_bytecode', sys.flags.dont_write_bytecode)")
        assert "dont_write_bytecode 0" in flags.stdout, flags.stdout
        c.exec("wsgihost", "manage", "check", "--deploy", check=False)
        for path in ("/", "/api/recipes/", "/admin/login/", "/accounts/login/", "/plain/"):
            assert c.get(path).status == 200, path
        written = [line for line in docker("diff", c.name).stdout.splitlines()
                   if "__pycache__" in line or line.endswith(".pyc")]
        assert not written, "bytecode written at run time:\n" + "\n".join(written[:20])
    finally:
        c.remove()


# --- last: the stop ---------------------------------------------------------------------------------

def test_graceful_stop(app):
    """`docker stop` (SIGTERM, the image's STOPSIGNAL) ends it gracefully, well within Docker's
    10 s, with exit status 0."""
    start = time.monotonic()
    docker("stop", app.name, timeout=30)
    elapsed = time.monotonic() - start
    state = inspect("container", app.name, "{{json .State}}")
    assert state["ExitCode"] == 0, (state, app.logs()[-3000:])
    assert not state["OOMKilled"]
    assert elapsed < 9, "docker stop took %.1fs (Docker kills after 10s)" % elapsed
