"""Liveness (--health-path) and readiness (--ready-path) probes answered by the event loop,
--drain-delay, and the `wsgihost healthcheck` client.

Liveness uses its own threshold, --health-timeout (default 30 s), not the worker --timeout:
the master kills a worker stuck past --timeout anyway, and with --timeout 0 (long requests
allowed) liveness is then the only signal. These tests run with --timeout 0 so the master never
interferes, and --health-timeout 1."""

import json
import signal
import subprocess
import time

import pytest

from conftest import binary, child_env, http_get, wait_until
from support import Hold, free_port

PROBES = ["--health-path", "/healthz", "--ready-path", "/readyz"]


def probe(srv, path):
    status, headers, body = http_get(srv, path, timeout=15)
    assert headers.get("Content-Type") == "application/json"
    return status, json.loads(body)


def test_probes_without_a_database(start_server):
    srv = start_server(args=PROBES)
    assert probe(srv, "/healthz") == (200, {"status": "ok"})
    assert probe(srv, "/readyz") == (200, {"status": "ready"})
    # The query is ignored; other paths still reach the app.
    assert probe(srv, "/healthz?x=1")[0] == 200
    assert srv.get("/_t/hello").status == 200
    assert "/healthz/more" in srv.get("/healthz/more").body.decode()  # the app's echo


def test_probes_do_not_reach_python(start_server):
    srv = start_server(args=PROBES)
    for _ in range(5):
        probe(srv, "/healthz")
        probe(srv, "/readyz")
    paths = srv.stats()["paths"]
    assert "/healthz" not in paths and "/readyz" not in paths, paths


def test_readiness_follows_postgres_down_and_back(start_server, cluster):
    srv = start_server(args=PROBES, env={"DATABASE_URL": cluster.url()})
    assert wait_until(lambda: probe(srv, "/readyz")[0] == 200, 10, "ready")
    assert probe(srv, "/readyz")[1] == {"status": "ready", "database": "ok"}
    cluster.stop()
    try:
        status, doc = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(
            probe(srv, "/readyz")), 10, "readiness to fail")
        assert doc["status"] == "unavailable"
        assert doc["reason"].startswith("database: ")
        # Liveness has no database in it.
        assert probe(srv, "/healthz") == (200, {"status": "ok"})
    finally:
        cluster.start()
    wait_until(lambda: probe(srv, "/readyz")[0] == 200, 10, "readiness to come back")
    assert "Readiness: database no response" in srv.stderr.text() or \
        "Readiness: database rejecting" in srv.stderr.text()


def test_readiness_is_cached(start_server, cluster):
    srv = start_server(args=PROBES, env={"DATABASE_URL": cluster.url()})
    wait_until(lambda: probe(srv, "/readyz")[0] == 200, 10, "ready")
    t0 = time.monotonic()
    for _ in range(50):
        assert probe(srv, "/readyz")[0] == 200
    assert time.monotonic() - t0 < 5


def test_liveness_fails_while_a_python_thread_is_stuck(start_server, tmp_path):
    srv = start_server(args=PROBES + ["--threads", "1", "--timeout", "0",
                                      "--health-timeout", "1"])
    # The only Python thread is held in the app until liveness has failed.
    with Hold(srv, tmp_path / "hold"):
        status, doc = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(
            probe(srv, "/healthz")), 15, "liveness to fail")
        assert doc["status"] == "stalled"
        assert "in the app for" in doc["reason"]
        # The loop still answers (readiness too), though the only Python thread is busy.
        assert probe(srv, "/readyz")[0] == 200
    assert probe(srv, "/healthz") == (200, {"status": "ok"})


def test_drain_delay_fails_readiness_while_still_serving(start_server):
    srv = start_server(args=PROBES + ["--drain-delay", "2"])
    assert probe(srv, "/readyz")[0] == 200
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    wait_until(lambda: "draining for 2 s" in srv.stderr.text(), 5, "the drain to start")
    assert probe(srv, "/readyz") == (503, {"status": "draining", "reason": "shutting down"})
    assert probe(srv, "/healthz")[0] == 200
    assert srv.get("/_t/hello").status == 200  # still serving
    assert srv.stop() == 0
    assert time.monotonic() - t0 >= 1.8


# ---- wsgihost healthcheck ---------------------------------------------------------------

def healthcheck(*args, env=None):
    return subprocess.run([binary(), "healthcheck"] + list(args), env=child_env(env),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)


def test_healthcheck_exit_codes(start_server):
    srv = start_server(args=PROBES)
    base = "http://127.0.0.1:%d" % srv.port
    ok = healthcheck("--url", base + "/healthz")
    assert ok.returncode == 0, ok
    assert ok.stdout.strip() == "healthcheck %s/healthz: healthy: HTTP/1.1 200 OK" % base
    missing = healthcheck("--url=%s/_t/status?code=404" % base)
    assert missing.returncode == 1
    assert "unhealthy: HTTP/1.1 404" in missing.stdout
    refused = healthcheck("--url", "http://127.0.0.1:%d/" % free_port(), "--timeout", "2")
    assert refused.returncode == 1
    assert "cannot connect" in refused.stdout
    assert healthcheck("--url", "ftp://x/").returncode == 2
    assert healthcheck("--bogus").returncode == 2


def test_healthcheck_default_url_from_port_and_health_path(start_server):
    srv = start_server(args=PROBES)
    env = {"PORT": str(srv.port), "WSGIHOST_HEALTH_PATH": "/healthz"}
    proc = healthcheck(env=env)
    assert proc.returncode == 0, proc
    assert "http://127.0.0.1:%d/healthz" % srv.port in proc.stdout


def test_healthcheck_reports_a_failing_probe(start_server, tmp_path):
    srv = start_server(args=PROBES + ["--threads", "1", "--timeout", "0",
                                      "--health-timeout", "1"])
    with Hold(srv, tmp_path / "hold"):
        wait_until(lambda: probe(srv, "/healthz")[0] == 503, 15, "liveness to fail")
        proc = healthcheck("--url", "http://127.0.0.1:%d/healthz" % srv.port)
        assert proc.returncode == 1
        assert "503" in proc.stdout


def test_healthcheck_times_out(tmp_path):
    # A listener that never answers.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        t0 = time.monotonic()
        proc = healthcheck("--url", "http://127.0.0.1:%d/" % s.getsockname()[1], "--timeout", "1")
        assert proc.returncode == 1
        assert "timed out" in proc.stdout
        assert time.monotonic() - t0 < 5
