"""docker/compose.yaml as a user runs it: PostgreSQL, then (once it is healthy) the app, which
waits for the database and migrates (--wait-for-db --migrate), answers on 127.0.0.1, turns
healthy, and stops with status 0. Compose v2 (`docker compose`) or Debian 12's v1
(`docker-compose`); the compose network is Docker's own bridge, the published port 127.0.0.1."""

import os
import subprocess

import pytest

from imagelib import (REPO, compose_command, docker, fetch, free_port, images, inspect,
                      require_image, wait_for)


@pytest.mark.parametrize("style", ["distroless"])
def test_compose_up_serves_and_stops(style):
    require_image(images()[style])
    port = free_port()
    project = "recipestest%d" % os.getpid()
    env = dict(os.environ, SECRET_KEY="compose-test-" + "k" * 40, RECIPES_PORT=str(port),
               RECIPES_PREFIX=images()[style].rsplit(":", 1)[0],
               RECIPES_STYLE=images()[style].rsplit(":", 1)[1], POSTGRES_PASSWORD="compose-test-pg")
    base = compose_command() + ["-p", project, "-f", str(REPO / "docker" / "compose.yaml")]

    def compose(*args, check=True):
        proc = subprocess.run(base + list(args), capture_output=True, text=True, env=env,
                              timeout=180)
        assert not check or proc.returncode == 0, (args, proc.stdout[-3000:], proc.stderr[-3000:])
        return proc

    try:
        compose("up", "-d")
        web = compose("ps", "-q", "web").stdout.strip()
        db = compose("ps", "-q", "db").stdout.strip()
        assert web and db
        assert inspect("container", db, "{{json .State.Health.Status}}") == "healthy"
        wait_for(lambda: inspect("container", web, "{{json .State.Health.Status}}") == "healthy",
                 60, "the web service to turn healthy", interval=0.5)
        home = fetch(port, "/")
        assert home.status == 200, (home, docker("logs", web).stderr[-3000:])
        assert fetch(port, "/readyz").status == 200
        out = docker("logs", web)
        logs = out.stdout + out.stderr
        # A fresh volume: the app's migrations were applied by this start.
        assert "Running migrations" in logs, logs[-3000:]
        assert "Applying cookbook.0001_initial... OK" in logs, logs[-3000:]
        compose("stop")
        for cid in (web, db):
            state = inspect("container", cid, "{{json .State}}")
            assert not state["Running"] and state["ExitCode"] == 0, state
    finally:
        compose("down", "-v", check=False)
