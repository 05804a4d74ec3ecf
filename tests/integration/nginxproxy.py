"""nginx as a reverse proxy in front of one wsgihost (upstream keep-alive, as deployments run
it), for the tests that need one: the drain under reloads (test_drain.py) and the smuggling
differential (tests/smuggling/differential.py). One configuration; what differs is passed in."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from conftest import wait_until
from support import free_port

NGINX = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
START_TIMEOUT = 10
STOP_TIMEOUT = 10

CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log {dir}/error.log {error_level};
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {access_log};
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream wsgihost {{
        server 127.0.0.1:{upstream}{upstream_options};
        keepalive {keepalive};
    }}
    server {{
        listen 127.0.0.1:{port};
        {server}
        location / {{
            proxy_pass http://wsgihost;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            {location}
        }}
    }}
}}
"""


class NginxProxy:
    """Starts nginx on a free port of 127.0.0.1 in front of 127.0.0.1:upstream_port and waits
    until it listens. `directory` (made here; a temporary one when None, removed by stop) holds
    its configuration and logs. `server` and `location` are extra directives for those blocks."""

    def __init__(self, upstream_port, directory=None, *, keepalive=16, upstream_options="",
                 error_level="error", access_log=False, server="", location=""):
        if not os.access(NGINX, os.X_OK):
            raise RuntimeError("nginx not found at %s: apt-get install nginx-light "
                               "(scripts/bootstrap installs it)" % NGINX)
        self.own_dir = directory is None
        self.dir = Path(tempfile.mkdtemp(prefix="wsgihost-nginx-")) if self.own_dir else directory
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        conf = self.dir / "nginx.conf"
        conf.write_text(CONF.format(
            dir=self.dir, upstream=upstream_port, port=self.port, keepalive=keepalive,
            upstream_options=upstream_options, error_level=error_level,
            access_log="%s/access.log" % self.dir if access_log else "off",
            server=server, location=location))
        self.proc = subprocess.Popen([NGINX, "-p", str(self.dir), "-c", str(conf),
                                      "-e", str(self.dir / "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)

        def listening():
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: %s" % self.proc.stderr.read().decode())
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(listening, START_TIMEOUT, "nginx to listen")

    def errors(self):
        """The [error] lines of its error log: every upstream failure is named there."""
        path = self.dir / "error.log"
        return [line for line in path.read_text().splitlines() if "[error]" in line] \
            if path.exists() else []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        self.proc.stderr.close()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def version():
    """nginx -v's line, e.g. "nginx version: nginx/1.22.1"."""
    return subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip()
