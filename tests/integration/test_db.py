"""Start-up tasks: --wait-for-db (PQping until PostgreSQL accepts connections) and --migrate
(`manage migrate --noinput` in the master before the workers start, under a PostgreSQL advisory
lock so replicas starting together do not race), against throw-away clusters."""

import os
import threading
import time

import pytest

from conftest import APPS, Server, wait_until
from pgcluster import Cluster
from support import free_port
from recipesapp import APP, APP_DIR, app_env

BOOT_ERROR = 3


def recipes_server(tmp_path, args, database_url=None, wait=True):
    return Server(app=APP, args=["--chdir", str(APP_DIR)] + list(args),
                  env=app_env(tmp_path, database_url), pythonpath=False, wait=wait)


def test_wait_for_db_with_sqlite_is_a_no_op(tmp_path, start_server):
    srv = start_server(app="testapp:application", args=["--wait-for-db=5"])
    assert "--wait-for-db: no DATABASE_URL (SQLite): nothing to wait for" in srv.stderr.text()
    assert srv.get("/_t/hello").status == 200


def test_wait_for_db_when_postgres_is_up(start_server, cluster):
    srv = start_server(args=["--wait-for-db"], env={"DATABASE_URL": cluster.url()})
    assert "is accepting connections" in srv.stderr.text()


def test_wait_for_db_waits_for_a_postgres_that_starts_late(start_server):
    late = Cluster()
    try:
        srv = start_server(args=["--wait-for-db=60"], env={"DATABASE_URL": late.url()},
                           wait=False)
        srv.stderr.wait_for(r"Waiting for the database at 127\.0\.0\.1:%d/postgres: no response"
                            % late.port, 30)
        assert not srv.urls, "must not listen before the database is up"
        late.start()
        srv.wait_listening()
        text = srv.stderr.text()
        assert text.index("is accepting connections") < text.index("Listening at:")
        assert srv.get("/_t/hello").status == 200
    finally:
        late.cleanup()


def test_wait_for_db_gives_up_clearly_on_timeout(start_server):
    port = free_port()  # nothing listens there
    srv = start_server(args=["--wait-for-db=3"],
                       env={"DATABASE_URL": "postgres://u:secret@127.0.0.1:%d/app" % port},
                       wait=False)
    t0 = time.monotonic()
    assert srv.wait_exit(20) == BOOT_ERROR
    assert time.monotonic() - t0 < 15
    text = srv.stderr.text()
    assert "did not accept connections within 3 s" in text
    assert "Waiting for the database at 127.0.0.1:%d/app" % port in text
    assert "secret" not in text, "the password must never be logged"
    assert "Listening at:" not in text


def test_wait_for_db_with_pg_variables(start_server, cluster):
    env = {"PGHOST": "127.0.0.1", "PGPORT": str(cluster.port), "PGUSER": "postgres"}
    srv = start_server(args=["--wait-for-db=10"], env=env)
    assert "Database at 127.0.0.1:%d" % cluster.port in srv.stderr.text()


def test_migrate_with_sqlite_runs_without_a_lock(tmp_path):
    srv = recipes_server(tmp_path, ["--migrate"])
    try:
        text = srv.stderr.text() + srv.stdout.text()
        assert "migrating without a lock" in text
        assert "Applying cookbook.0001_initial... OK" in text
        assert text.index("Migrations done") < text.index("Listening at:")
        assert srv.get("/plain/").status == 200
    finally:
        srv.stop()


def test_two_replicas_migrate_one_at_a_time(tmp_path, cluster):
    url = cluster.createdb("replicas")
    servers = []
    try:
        starters = [threading.Thread(target=lambda i=i: servers.append(
            recipes_server(tmp_path / str(i), ["--migrate"], url, wait=False)))
            for i in range(2)]
        for i, t in enumerate(starters):
            (tmp_path / str(i)).mkdir()
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        for srv in servers:
            srv.wait_listening()
        outputs = [srv.stdout.text() + srv.stderr.text() for srv in servers]
        applied = [o for o in outputs if "Applying cookbook.0001_initial... OK" in o]
        assert len(applied) == 1, "exactly one replica migrates:\n" + "\n----\n".join(outputs)
        other = next(o for o in outputs if o is not applied[0])
        assert "waiting for its lock" in other, other
        assert "No migrations to apply" in other, other
        for srv in servers:
            assert srv.get("/api/recipes/").status == 200
    finally:
        for srv in servers:
            srv.stop()


def test_migrate_failure_stops_the_start(tmp_path, cluster):
    # A database that does not exist: the lock cannot be taken.
    srv = recipes_server(tmp_path, ["--migrate"], cluster.url("no_such_db"), wait=False)
    assert srv.wait_exit(60) == BOOT_ERROR
    assert "cannot connect to take the migration lock" in srv.stderr.text()


def postgres_connections(pid, port):
    """How many TCP connections process `pid` holds to 127.0.0.1:`port`."""
    sockets = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            sockets.add(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except FileNotFoundError:
            continue  # closed meanwhile
    with open("/proc/%d/net/tcp" % pid) as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(1 for r in rows if int(r[2].split(":")[1], 16) == port
               and "socket:[%s]" % r[9] in sockets)


def test_preload_with_postgres_closes_connections_before_forking(tmp_path, cluster):
    url = cluster.createdb("preload")
    # The app opens a connection while it is imported, in the master (--preload).
    (tmp_path / "preloaddb.py").write_text(
        "from recipes.wsgi import application\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT 1')\n")
    srv = Server(app="preloaddb", args=["--chdir", str(APP_DIR), "--pythonpath", str(tmp_path),
                                        "--migrate", "--preload", "--workers", "2"],
                 env=app_env(tmp_path, url), pythonpath=False)
    try:
        assert postgres_connections(srv.pid, cluster.port) == 0, (
            "the master still holds the connection it opened while importing the app")
        wait_until(lambda: srv.get("/api/recipes/").status == 200, 10, "the API")
        for _ in range(6):
            assert srv.get("/api/recipes/").status == 200
    finally:
        srv.stop()


def test_preload_closes_a_connection_the_import_opened(tmp_path, cluster):
    url = cluster.createdb("preload_import")
    srv = Server(app="preload_query:application",
                 args=["--chdir", str(APP_DIR), "--pythonpath", str(APPS), "--preload",
                       "--workers", "2"],
                 env=app_env(tmp_path, url), pythonpath=False)
    try:
        for _ in range(4):  # both workers, most likely; each must see the backend gone
            resp = srv.get("/_t/master-backend")
            assert (resp.status, resp.body) == (200, b"closed"), srv.stderr.text()[-2000:]
    finally:
        srv.stop()
