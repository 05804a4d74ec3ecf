"""Throw-away PostgreSQL clusters on 127.0.0.1 for the integration tests (as app/run-tests makes
one): initdb in a temporary directory, trust authentication, started and stopped on demand.
As root the cluster runs as the `postgres` account (PostgreSQL refuses to run as root)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from support import free_port

START_TIMEOUT = 60


def pg_bin():
    """The PostgreSQL 15 binaries, else the newest installed; fails the test when none is."""
    explicit = os.environ.get("PG_BIN")
    if explicit:
        return Path(explicit)
    preferred = Path("/usr/lib/postgresql/15/bin")
    if (preferred / "initdb").exists():
        return preferred
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise AssertionError("PostgreSQL is not installed: run scripts/bootstrap "
                             "(apt-get install postgresql)")
    return found[-1].parent


class Cluster:
    """One cluster: Cluster() runs initdb; start(), stop(), createdb(), url(); cleanup() at the
    end removes everything (also stopping it)."""

    def __init__(self):
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="wsgihost-pg-"))
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "socket"
        self.socket_dir.mkdir()
        self.port = free_port()
        self.user_prefix = []
        if os.geteuid() == 0:
            account = "postgres"
            try:
                shutil.chown(self.dir, account)
                shutil.chown(self.socket_dir, account)
            except LookupError:
                account = "nobody"
                shutil.chown(self.dir, account)
                shutil.chown(self.socket_dir, account)
            self.user_prefix = ["runuser", "-u", account, "--"]
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--no-locale"], "initdb")

    def _run(self, cmd, what, check=True):
        proc = subprocess.run(self.user_prefix + cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=120)
        if check and proc.returncode != 0:
            log = self.data / "server.log"
            extra = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise AssertionError("%s failed (%d):\n%s\n%s" % (what, proc.returncode,
                                                              proc.stdout.decode(errors="replace"),
                                                              extra))
        return proc

    @property
    def running(self):
        return (self.data / "postmaster.pid").exists()

    def start(self):
        opts = ("-k %s -p %d -h 127.0.0.1 -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off" % (self.socket_dir, self.port))
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                   str(self.data / "server.log"), "-w", "-t", str(START_TIMEOUT), "-o", opts,
                   "start"], "pg_ctl start")

    def stop(self, mode="fast"):
        if self.running:
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                      "pg_ctl stop")

    def createdb(self, name):
        self._run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                   "-U", "postgres", name], "createdb " + name)
        return self.url(name)

    def url(self, dbname="postgres"):
        return "postgres://postgres@127.0.0.1:%d/%s" % (self.port, dbname)

    def cleanup(self):
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
