"""Proof that gunicorn deployments run unchanged (issue 16): gunicorn's own example
configuration file, and the command lines of well-known projects' deployment docs."""

import os
import re
import shlex
import signal
import subprocess
import sys
import tarfile
import textwrap

import pytest

from conftest import REPO, Output, binary, child_env
from support import CAP_SYS_ADMIN, has_capability

GUNICORN_SDIST = "gunicorn==27.0.1"
DOWNLOAD_TIMEOUT = 180
START_TIMEOUT = 30
STOP_TIMEOUT = 30


def unavailable(why):
    """Outside CI a missing download or privilege skips with the reason; in CI it fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="module")
def example_config(tmp_path_factory):
    """examples/example_config.py from gunicorn's sdist on PyPI, fetched at test time (kept in
    the untracked tests/artifacts/ for the next run, never committed)."""
    where = REPO / "tests" / "artifacts" / "sdist"
    archives = list(where.glob("gunicorn-27.0.1.tar.gz"))
    if not archives:
        # pip builds the sdist's metadata in an isolated environment: ~45 s the first time
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                               "--no-deps", "--disable-pip-version-check", "-d", str(where),
                               GUNICORN_SDIST], capture_output=True, text=True,
                              timeout=DOWNLOAD_TIMEOUT)
        archives = list(where.glob("gunicorn-27.0.1.tar.gz"))
        if proc.returncode != 0 or not archives:
            unavailable("cannot download the %s sdist: %s" % (GUNICORN_SDIST,
                                                              proc.stderr[-500:]))
    where = tmp_path_factory.mktemp("sdist")
    with tarfile.open(archives[0]) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/examples/example_config.py"))
        text = tar.extractfile(member).read().decode()
    path = where / "example_config.py"
    path.write_text(text)
    return path


def test_gunicorns_example_config_runs(start_server, example_config):
    """It starts and serves; its hooks run; the only warnings are for the settings that have
    no meaning here (the hooks wsgihost never calls and ssl_context without TLS). The test's
    --bind replaces the file's 127.0.0.1:8000 (flags win over the file, as in gunicorn)."""
    srv = start_server(app="opsapp:application", args=["-c", str(example_config)])
    assert srv.get("/").status == 200
    srv.stderr.wait_for(r"Worker spawned \(pid: \d+\)", 10)  # its post_fork hook
    err = srv.stderr.text()
    assert "Server is ready. Spawning workers" in err  # its when_ready hook
    warned = set(re.findall(r"WARNING\] (\w+)", err))
    assert warned == {"worker_int", "worker_abort", "pre_exec", "ssl_context"}, err
    assert "keep-alive" not in err and "Traceback" not in err, err
    srv.stop()


# Command lines from deployment docs, with the page each is quoted from. Each runs as written,
# `gunicorn` replaced by `wsgihost`; only a Unix socket's path is moved into the test's
# directory. Each runs in a network namespace of its own, so the fixed ports they bind (8000,
# $PORT) are free.
DEPLOYMENTS = [
    ("https://cloud.google.com/run/docs/tips/python",
     "gunicorn --bind :$PORT --workers 1 --threads 8 --timeout 0 main:app"),
    ("https://flask.palletsprojects.com/en/stable/deploying/gunicorn/",
     "gunicorn -w 4 'hello:app'"),
    ("https://flask.palletsprojects.com/en/stable/deploying/gunicorn/",
     "gunicorn -w 4 'hello:create_app()'"),
    ("https://flask.palletsprojects.com/en/stable/deploying/gunicorn/",
     "gunicorn -w 4 -b 0.0.0.0 'hello:create_app()'"),
    ("https://docs.djangoproject.com/en/stable/howto/deployment/wsgi/gunicorn/",
     "gunicorn myproject.wsgi"),
    ("https://docs.gunicorn.org/en/stable/run.html",
     "gunicorn --workers=2 test:app"),
    ("https://docs.gunicorn.org/en/stable/run.html",
     "gunicorn 'myproject:create_app()'"),
    ("https://devcenter.heroku.com/articles/python-gunicorn",
     "gunicorn hello:app"),
    ("https://learn.microsoft.com/en-us/azure/app-service/configure-language-python",
     "gunicorn --bind=0.0.0.0 --timeout 600 myproject.wsgi"),
    ("https://learn.microsoft.com/en-us/azure/app-service/configure-language-python",
     "gunicorn --bind=0.0.0.0 --timeout 600 --chdir website hello:app"),
    ("https://www.digitalocean.com/community/tutorials/how-to-set-up-django-with-postgres-nginx-and-gunicorn-on-ubuntu",
     "gunicorn --bind 0.0.0.0:8000 myproject.wsgi"),
    ("https://www.digitalocean.com/community/tutorials/how-to-set-up-django-with-postgres-nginx-and-gunicorn-on-ubuntu",
     "gunicorn --access-logfile - --workers 3 --bind unix:/run/gunicorn.sock myproject.wsgi:application"),
]

APP = textwrap.dedent('''
    def _app(name):
        def app(environ, start_response):
            body = b"served by " + name.encode()
            start_response("200 OK", [("Content-Type", "text/plain"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        return app

    app = application = _app(__name__)

    def create_app():
        return _app(__name__ + " factory")
''')


def project(tmp_path):
    """The modules the command lines name: main, hello, test, myproject.wsgi, myproject."""
    for path in ("main.py", "hello.py", "test.py", "myproject/__init__.py", "myproject/wsgi.py",
                 "website/hello.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(APP)
    return tmp_path


def request_in_namespace(pid, url):
    """GET url from inside the server's network namespace: (status, body)."""
    code = textwrap.dedent('''
        import http.client, socket, sys
        target = sys.argv[1]
        if target.startswith("unix:"):
            class C(http.client.HTTPConnection):
                def connect(self):
                    self.sock = socket.socket(socket.AF_UNIX)
                    self.sock.connect(target[5:])
            conn = C("localhost", timeout=10)
        else:
            host, port = target.split("//")[1].rsplit(":", 1)
            conn = http.client.HTTPConnection("127.0.0.1" if host == "0.0.0.0" else host,
                                              int(port), timeout=10)
        conn.request("GET", "/")
        r = conn.getresponse()
        print(r.status, r.read().decode())
    ''')
    out = subprocess.run(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", code, url],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    status, body = out.stdout.strip().split(" ", 1)
    return int(status), body


@pytest.mark.parametrize("source, line", DEPLOYMENTS, ids=[l for _, l in DEPLOYMENTS])
def test_deployment_command_lines_start_and_serve(tmp_path, source, line):
    if os.geteuid() != 0:
        unavailable("a network namespace per command line needs root")
    if not has_capability(CAP_SYS_ADMIN):
        pytest.skip("no CAP_SYS_ADMIN (an unprivileged container): no network namespace per "
                    "command line")
    cwd = project(tmp_path)
    line = line.replace("unix:/run/gunicorn.sock", "unix:%s" % (tmp_path / "gunicorn.sock"))
    words = shlex.split(line.replace("$PORT", "8080"))
    assert words[0] == "gunicorn"
    env = child_env({"PORT": "8080"})
    env.pop("WEB_CONCURRENCY")  # as a deployment has it: the flags or the CPUs decide
    script = 'ip link set lo up && exec "$@"'
    proc = subprocess.Popen(["unshare", "--net", "--fork", "--kill-child", "sh", "-c", script, "sh",
                             binary(), *words[1:]], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    err = Output(proc.stderr)
    Output(proc.stdout)
    master = None
    try:
        found = err.wait_for(r"Listening at: (\S+) \((\d+)\)", START_TIMEOUT)
        url, master = found.group(1), int(found.group(2))
        err.wait_for(r"Worker ready", START_TIMEOUT)
        status, body = request_in_namespace(master, url)
        assert status == 200 and body.startswith("served by "), (source, body)
        if "create_app()" in line:
            assert body.endswith("factory")
    finally:
        # unshare --fork leaves SIGTERM to its child: stop wsgihost itself, gracefully.
        if master:
            os.kill(master, signal.SIGTERM)
        else:
            proc.kill()
        try:
            rc = proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            raise
    assert rc == 0, err.text()
    assert "error" not in err.text().lower(), err.text()
