"""docker/compose.replicas.yaml for real: PostgreSQL, three wsgihost replicas and HAProxy on the
host network. Requests through HAProxy spread over the replicas, and stopping one replica under
load loses no request (its drain delay takes it out of HAProxy's rotation before it stops
listening; HAProxy retries what meets a closing connection)."""

import http.client
import os
import shutil
import subprocess
import threading
import time

import pytest

from imagelib import REPO, docker, fetch, free_port, images, require_image, wait_for

COMPOSE = REPO / "docker" / "compose.replicas.yaml"
HAPROXY = os.environ.get("HAPROXY_IMAGE", "haproxy:3.0")


def compose_command():
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor docker-compose is installed", pytrace=False)


def ensure_haproxy():
    """The HAProxy image: the real one if present, else the stand-in from Debian's package."""
    if docker("image", "inspect", HAPROXY, check=False).returncode != 0:
        docker("build", "--network", "host", "-t", HAPROXY, str(REPO / "docker" / "haproxy"),
               timeout=900, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    return HAPROXY


class Load:
    """Client threads sending GETs through HAProxy on keep-alive connections until stopped;
    every answer that is not a 200 (or a connection that fails) is an error."""

    def __init__(self, port, threads=4, path="/"):
        self.port, self.path = port, path
        self.ok = 0
        self.errors = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def run(self):
        conn = None
        deadline = time.monotonic() + 120  # bounded whatever happens
        while not self.stopping.is_set() and time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", self.path)
                resp = conn.getresponse()
                resp.read()
                with self.lock:
                    if resp.status == 200:
                        self.ok += 1
                    else:
                        self.errors.append("status %d" % resp.status)
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.errors.append(repr(e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def count(self):
        with self.lock:
            return self.ok

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(30)


def test_replicas_spread_and_survive_a_stop():
    require_image(images()["distroless"])
    require_image(os.environ.get("POSTGRES_IMAGE", "postgres:17-trixie"))
    ensure_haproxy()
    ports = {name: free_port() for name in ("LB_PORT", "PG_PORT", "WEB1_PORT", "WEB2_PORT",
                                            "WEB3_PORT", "WEB1_METRICS_PORT",
                                            "WEB2_METRICS_PORT", "WEB3_METRICS_PORT")}
    env = dict(os.environ, SECRET_KEY="replicas-test-" + "k" * 40,
               RECIPES_PREFIX=images()["distroless"].rsplit(":", 1)[0],
               RECIPES_STYLE=images()["distroless"].rsplit(":", 1)[1],
               POSTGRES_PASSWORD="replicas-test-pg", HAPROXY_IMAGE=HAPROXY,
               **{k: str(v) for k, v in ports.items()})
    project = "recipesreplicas%d" % os.getpid()
    base = compose_command() + ["-p", project, "-f", str(COMPOSE)]

    def compose(*args, check=True, timeout=240):
        proc = subprocess.run(base + list(args), capture_output=True, text=True, env=env,
                              timeout=timeout)
        assert not check or proc.returncode == 0, (args, proc.stdout[-3000:], proc.stderr[-3000:])
        return proc

    def container(service):
        cid = compose("ps", "-q", service).stdout.strip()
        assert cid, service
        return cid

    def access_lines(service):
        out = docker("logs", container(service), check=False).stdout
        return sum(1 for line in out.splitlines() if '"GET / HTTP/1.1" 200' in line)

    lb = ports["LB_PORT"]
    try:
        compose("up", "-d")

        def all_up():
            try:
                return all(fetch(ports[p], "/readyz", timeout=2).status == 200
                           for p in ("WEB1_PORT", "WEB2_PORT", "WEB3_PORT"))
            except OSError:
                return False
        wait_for(all_up, 180, "three ready replicas", interval=0.5)

        def lb_up():
            try:
                return fetch(lb, "/", timeout=5).status == 200
            except OSError:
                return False
        wait_for(lb_up, 60, "HAProxy answering", interval=0.5)
        # HAProxy marks servers up after `rise 2` checks: wait until all three take traffic.
        before = {s: access_lines(s) for s in ("web1", "web2", "web3")}
        for _ in range(30):
            assert fetch(lb, "/").status == 200
        spread = {s: access_lines(s) - before[s] for s in before}
        if min(spread.values()) == 0:  # a server still rising: one more batch
            for _ in range(30):
                assert fetch(lb, "/").status == 200
            spread = {s: access_lines(s) - before[s] for s in before}
        assert all(n > 0 for n in spread.values()), spread

        # Stop web2 under load.
        load = Load(lb)
        try:
            wait_for(lambda: load.count() >= 50, 30, "load flowing")
            at_stop = load.count()
            compose("stop", "web2", timeout=60)
            wait_for(lambda: load.count() >= at_stop + 100, 60, "load after the stop")
        finally:
            load.stop()
        assert load.errors == [], load.errors[:10]
        assert load.ok > 150
        state = docker("inspect", "--format", "{{.State.ExitCode}}", container("web2")).stdout
        assert state.strip() == "0"
        web2_logs = docker("logs", container("web2"), check=False).stderr
        assert "draining" in web2_logs, web2_logs[-2000:]
    finally:
        compose("down", "-v", check=False, timeout=120)
