"""Helpers for the image tests: run docker, pick ports, talk HTTP to a container.

The images under test are recipes:single, recipes:multistage and recipes:distroless (TAG_PREFIX
replaces "recipes", as for scripts/images), or those named in RECIPES_IMAGES
("single=TAG,multistage=TAG,distroless=TAG"); scripts/test-images builds them. Containers run with --network host and listen on 127.0.0.1 only. A missing image or a
missing docker fails the tests with a message saying how to build it (nothing is skipped).
(Not conftest.py: the integration suite's conftest is imported as "conftest" by the conformance
module here, and two conftests by that name cannot live in one session.)
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from conftest import wait_until  # noqa: E402  (the integration suite's; see the docstring)
from support import free_port  # noqa: E402,F401  (the tests here import it from imagelib)
STYLES = ("single", "multistage", "distroless")
# Image sizes in MB (10^6 bytes, as docker reports them): the seeds' images, with gunicorn and
# whitenoise, and this project's targets.
SEED_MB = {"single": 193, "multistage": 185, "distroless": 121}
TARGET_MB = {"single": 180, "multistage": 150, "distroless": 90}
NONROOT = 65532
POSTGRES_IMAGE = os.environ.get("POSTGRES_IMAGE", "postgres:17-trixie")


def images(prefix=None):
    """The image of each style: TAG_PREFIX:STYLE (as scripts/images tags them; "recipes" by
    default), or RECIPES_IMAGES' tags."""
    prefix = prefix or os.environ.get("TAG_PREFIX") or "recipes"
    tags = {style: "%s:%s" % (prefix, style) for style in STYLES}
    for item in filter(None, os.environ.get("RECIPES_IMAGES", "").split(",")):
        style, _, tag = item.partition("=")
        assert style in tags and tag, "RECIPES_IMAGES: expected STYLE=TAG, got %r" % item
        tags[style] = tag
    return tags


def docker(*args, check=True, timeout=120, env=None, input=None):
    """Runs `docker ARGS`; returns the CompletedProcess (text)."""
    try:
        proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                              env=env, input=input)
    except FileNotFoundError:
        pytest.fail("docker is not installed: scripts/test-images installs docker.io and starts "
                    "dockerd", pytrace=False)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (%d):\n%s%s" % (" ".join(args), proc.returncode,
                                                             proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc


def compose_command():
    """Compose v2 (`docker compose`) when the CLI has it, else Debian 12's docker-compose (v1)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor docker-compose is installed "
                "(scripts/test-images installs docker-compose)", pytrace=False)


def check_oci_labels(labels):
    """scripts/images labels every image with where it comes from, as OCI says."""
    oci = "org.opencontainers.image."
    assert labels[oci + "source"], labels
    assert re.fullmatch(r"[0-9a-f]{40}", labels[oci + "revision"]), labels
    assert labels[oci + "version"], labels
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", labels[oci + "created"]), labels


def require_image(tag):
    if docker("image", "inspect", tag, check=False).returncode != 0:
        pytest.fail("image %s not found: build it with scripts/images (or scripts/test-images)"
                    % tag, pytrace=False)
    return tag


def inspect(kind, name, fmt="{{json .}}"):
    return json.loads(docker(kind, "inspect", "--format", fmt, name).stdout)


def wait_for(predicate, timeout, what, interval=0.1):
    """The integration suite's wait_until, polling containers less often by default."""
    return wait_until(predicate, timeout, what, interval=interval)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:300])


def fetch(port, path, method="GET", headers=None, body=None, timeout=10):
    """One request to 127.0.0.1:port; returns a Response (headers lower-cased, cookies joined)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        hdrs = {}
        for name, value in resp.getheaders():
            name = name.lower()
            hdrs[name] = hdrs[name] + "\n" + value if name in hdrs else value
        return Response(resp.status, hdrs, resp.read())
    finally:
        conn.close()


def answers(port, path="/healthz"):
    try:
        return fetch(port, path, timeout=2).status == 200
    except OSError:
        return False


class Container:
    """A detached container of an image, its name, port and environment."""

    def __init__(self, style, image, env=None, args=(), run_opts=(), name=None, wait=True):
        self.style, self.image = style, image
        self.port = free_port()
        self.name = name or "recipes-test-%s-%d-%d" % (style, os.getpid(), self.port)
        self.env = {"SECRET_KEY": "image-tests-" + "k" * 40, "PORT": str(self.port),
                    "WSGIHOST_BIND": "127.0.0.1:%d" % self.port}
        self.env.update(env or {})
        cmd = ["run", "-d", "--network", "host", "--name", self.name, *run_opts]
        for key, value in self.env.items():
            cmd += ["-e", "%s=%s" % (key, value)]
        docker(*cmd, image, *args)
        if wait:
            self.wait_listening()

    def logs(self):
        proc = docker("logs", self.name, check=False)
        return proc.stdout + proc.stderr

    def running(self):
        return inspect("container", self.name, "{{json .State.Running}}")

    def wait_listening(self, timeout=60):
        def up():
            if not self.running():
                raise AssertionError("container %s exited:\n%s" % (self.name, self.logs()[-5000:]))
            return answers(self.port)
        wait_for(up, timeout, "%s to answer on port %d" % (self.name, self.port))

    def exec(self, *args, env=None, user=None, check=True, timeout=120):
        opts = []
        for key, value in (env or {}).items():
            opts += ["-e", "%s=%s" % (key, value)]
        if user is not None:
            opts += ["--user", str(user)]
        return docker("exec", *opts, self.name, *args, check=check, timeout=timeout)

    def get(self, path, **kw):
        return fetch(self.port, path, **kw)

    def remove(self):
        docker("rm", "-f", "-v", self.name, check=False)


def image_files(image):
    """Every path in the image's filesystem (from `docker export`), as a set of "/path"."""
    cid = docker("create", image).stdout.strip()
    try:
        proc = subprocess.run("docker export %s | tar -t" % cid, shell=True, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return {"/" + line.rstrip("/") for line in proc.stdout.splitlines() if line}
    finally:
        docker("rm", "-f", cid, check=False)


def hashed_static(html, prefix):
    """The first static URL under `prefix` with a manifest hash in the page."""
    m = re.search(r'(%s[^"\']*\.[0-9a-f]{12}\.\w+)' % re.escape(prefix), html)
    assert m, "no hashed %s URL in the page:\n%s" % (prefix, html[:2000])
    return m.group(1)
