"""The servers bench/run compares, how each is started on 127.0.0.1, and process-tree helpers
(RSS, PSS, readiness). Every server serves the same recipes app from app/ with the same
environment (Django settings, PostgreSQL database, STATIC_ROOT) and gets the same CPU core.
"""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
APP = REPO / "app"

# name -> what it serves. "dynamic": the Django views; "static": STATIC_ROOT at /static/.
SERVERS = {
    "wsgihost": {"dynamic": True, "static": True, "label": "wsgihost"},
    # Another build of wsgihost ($WSGIHOST_BEFORE_BIN, e.g. the last release) beside this one in
    # the same interleaved run: the "before" column of a change. Only when that is set.
    "wsgihost-before": {"dynamic": True, "static": True, "label": "wsgihost before"},
    # This build with --threads 0: the event loop runs the app, no Python thread.
    "wsgihost-loop": {"dynamic": True, "static": True, "label": "wsgihost --threads 0"},
    # This checkout pip-installed into the peers' venv, as a Django team installs it: on
    # Debian's python3 it runs inside that interpreter (cmd/hosted.py). The full run only.
    "wsgihost-pip": {"dynamic": True, "static": True, "venv": True,
                     "label": "wsgihost, pip-installed (inside python3)"},
    "gunicorn-sync": {"dynamic": True, "static": True, "label": "gunicorn sync + whitenoise"},
    "gunicorn-gthread": {"dynamic": True, "static": True, "label": "gunicorn gthread + whitenoise"},
    "uwsgi": {"dynamic": True, "static": True, "label": "uWSGI (--http-socket, --static-map)"},
    # Current releases from PyPI, in bench/run's venv (scripts/bench-venv; the full run only).
    "gunicorn27-sync": {"dynamic": True, "static": True, "peer": True,
                        "label": "gunicorn 27 sync + whitenoise 6.12"},
    "gunicorn27-gthread": {"dynamic": True, "static": True, "peer": True,
                           "label": "gunicorn 27 gthread + whitenoise 6.12"},
    "granian": {"dynamic": True, "static": True, "peer": True,
                "label": "Granian 2.8 (--interface wsgi) + whitenoise"},
    "uwsgi-pypi": {"dynamic": True, "static": True, "peer": True,
                   "label": "uWSGI 2.0.31 (--http-socket, --static-map)"},
    "bjoern": {"dynamic": True, "static": True, "peer": True, "label": "bjoern 3.2 + whitenoise"},
    "waitress": {"dynamic": True, "static": True, "peer": True,
                 "label": "waitress 3.0 + whitenoise"},
    "nginx": {"dynamic": False, "static": True, "label": "nginx (static only)"},
    "ceiling": {"dynamic": True, "static": False, "label": "in-process ceiling (no server)"},
    "ceiling-so": {"dynamic": True, "static": False,
                   "label": "in-process ceiling on the shared libpython, as embedded"},
    "ceiling-static": {"dynamic": True, "static": False,
                       "label": "in-process ceiling on Debian's libpython3.X.a, as wsgihost embeds it"},
}
CEILINGS = ("ceiling", "ceiling-so", "ceiling-static")
WSGIHOSTS = ("wsgihost", "wsgihost-before", "wsgihost-loop", "wsgihost-pip")
PEERS = tuple(name for name, s in SERVERS.items() if s.get("peer"))
# Run from the peers' venv (scripts/bench-venv), which the full run alone makes.
FROM_VENV = PEERS + tuple(name for name, s in SERVERS.items() if s.get("venv"))
ORDER = list(SERVERS)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_conf(tmp, static_root, port):
    conf = tmp / ("nginx-%d.conf" % port)
    conf.write_text("""
worker_processes 1;
daemon off;
pid %(tmp)s/nginx-%(port)d.pid;
error_log %(tmp)s/nginx-%(port)d-error.log;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path %(tmp)s/nginx-body;
    proxy_temp_path %(tmp)s/nginx-proxy;
    fastcgi_temp_path %(tmp)s/nginx-fastcgi;
    uwsgi_temp_path %(tmp)s/nginx-uwsgi;
    scgi_temp_path %(tmp)s/nginx-scgi;
    server {
        listen 127.0.0.1:%(port)d;
        location /static/ { alias %(root)s/; expires 60s; add_header Access-Control-Allow-Origin *; }
    }
}
""" % {"tmp": tmp, "root": static_root, "port": port})
    return conf


def command(name, port, ctx, workers=1, preload=False, extra=()):
    """The command line (without taskset) of server `name` on `port`."""
    bind = "127.0.0.1:%d" % port
    threads = str(ctx.threads)
    if name in WSGIHOSTS:
        binary = {"wsgihost-before": ctx.before_bin,
                  "wsgihost-pip": Path(ctx.venv or "") / "bin" / "wsgihost"}.get(name, ctx.bin)
        if name == "wsgihost-loop":
            threads = "0"
        cmd = [str(binary), "--bind", bind, "--workers", str(workers), "--threads", threads,
               "--chdir", str(APP), "--app", "recipes.wsgi"]
        if preload:
            cmd.append("--preload")
        # The full run: the peers' Python and Django (the pip-installed one is in that venv).
        if getattr(ctx, "venv", None) and name != "wsgihost-pip":
            cmd += ["--virtualenv", str(ctx.venv)]
        return cmd + list(extra)
    if name in ("gunicorn-sync", "gunicorn-gthread"):
        cmd = [shutil.which("gunicorn") or "/usr/bin/gunicorn", "--bind", bind, "-w", str(workers),
               "--chdir", str(APP), "--pythonpath", str(BENCH)]
        if name == "gunicorn-sync":
            cmd += ["-k", "sync"]
        else:
            # keep-alive as long as wsgihost's, so that idle connections are held alike
            cmd += ["-k", "gthread", "--threads", threads, "--keep-alive", "75"]
        if preload:
            cmd.append("--preload")
        return cmd + ["recipes_whitenoise:application"]
    if name == "uwsgi":
        cmd = [shutil.which("uwsgi") or "/usr/bin/uwsgi", "--plugin", "python3",
               "--http-socket", bind, "--master", "--processes", str(workers),
               "--chdir", str(APP), "--module", "recipes.wsgi:application",
               "--static-map", "/static=%s" % ctx.static_root,
               "--die-on-term", "--need-app", "--disable-logging", "--buffer-size", "32768"]
        if ctx.threads > 1:
            cmd += ["--threads", threads]
        if getattr(ctx, "venv", None):
            cmd += ["--home", str(ctx.venv)]
        if not preload:
            cmd.append("--lazy-apps")
        return cmd
    if name in PEERS:
        return peer_command(name, bind, port, ctx)
    if name == "nginx":
        return ["/usr/sbin/nginx", "-c", str(nginx_conf(ctx.tmp, ctx.static_root, port)),
                "-p", str(ctx.tmp)]
    raise ValueError(name)


def peer_command(name, bind, port, ctx):
    """A current release from ctx.venv (scripts/bench-venv): one process, ctx.threads threads
    where the server has threads, the app wrapped in WhiteNoise except for uWSGI."""
    venv = Path(ctx.venv)
    threads = str(ctx.threads)
    # the WhiteNoise wrapper lives in bench/; PYTHONPATH reaches it for the servers without a
    # --pythonpath of their own
    env = ["env", "PYTHONPATH=%s:%s" % (BENCH, APP)]
    app = "recipes_whitenoise:application"
    if name.startswith("gunicorn27-"):
        cmd = [str(venv / "bin" / "gunicorn"), "--bind", bind, "-w", "1", "--chdir", str(APP),
               "--pythonpath", str(BENCH)]
        if name == "gunicorn27-sync":
            return cmd + ["-k", "sync", app]
        return cmd + ["-k", "gthread", "--threads", threads, "--keep-alive", "75", app]
    if name == "granian":
        return env + [str(venv / "bin" / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                      "--port", str(port), "--workers", "1", "--blocking-threads", threads,
                      "--no-ws", "--log-level", "warning", app]
    if name == "uwsgi-pypi":
        cmd = [str(venv / "bin" / "uwsgi"), "--http-socket", bind, "--master", "--processes", "1",
               "--home", str(venv), "--chdir", str(APP), "--module", "recipes.wsgi:application",
               "--static-map", "/static=%s" % ctx.static_root, "--die-on-term", "--need-app",
               "--disable-logging", "--buffer-size", "32768", "--lazy-apps"]
        return cmd + (["--threads", threads] if ctx.threads > 1 else [])
    if name == "bjoern":  # no command line of its own: bjoern.run from its libev loop
        return env + [str(venv / "bin" / "python"), "-c",
                      "import bjoern, recipes_whitenoise; "
                      "bjoern.run(recipes_whitenoise.application, '127.0.0.1', %d)" % port]
    if name == "waitress":
        return env + [str(venv / "bin" / "waitress-serve"), "--listen", bind, "--threads", threads,
                      app]
    raise ValueError(name)


class Server:
    """A running server: Server(name, ctx) starts it pinned to ctx.server_core."""

    def __init__(self, name, ctx, workers=1, preload=False, core=None, extra=()):
        self.name = name
        self.port = free_port()
        self.cmd = command(name, self.port, ctx, workers, preload, extra)
        self.full_cmd = ["taskset", "-c", core or ctx.server_core] + self.cmd
        self.log = ctx.tmp / ("%s-%d.log" % (name, self.port))
        self._log = open(self.log, "wb")
        self.spawned = time.monotonic()
        self.proc = subprocess.Popen(self.full_cmd, cwd=str(APP), env=ctx.server_env,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.startup = None

    @property
    def pid(self):
        return self.proc.pid

    def wait_ready(self, path, timeout=60.0):
        """Seconds from spawning to the first 200 for `path` (polled every 5 ms)."""
        deadline = self.spawned + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before answering; log:\n%s"
                                   % (self.name, self.proc.returncode, self.log_tail()))
            try:
                status, _, _ = get(self.port, path, timeout=2)
                if status == 200:
                    self.startup = time.monotonic() - self.spawned
                    return self.startup
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError("%s: no 200 for %s within %.0f s; log:\n%s"
                           % (self.name, path, timeout, self.log_tail()))

    def log_tail(self, n=3000):
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(10)
        self._log.close()


def get(port, path, timeout=5, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def tree_pids(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def _status_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def rss_kib(pid):
    return _status_kib(pid, "VmRSS")


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def memory(pid):
    """{"tree": RSS of the whole process tree, "worker": the largest RSS of a process below the
    master (the master itself when it has no children)} in MiB."""
    pids = tree_pids(pid)
    tree = sum(rss_kib(p) for p in pids)
    children = pids[1:]
    worker = max((rss_kib(p) for p in children), default=rss_kib(pid))
    return {"tree": tree / 1024, "worker": worker / 1024, "processes": len(pids)}


def cpu_seconds(pid):
    """CPU time used so far by the process tree under pid (every thread of every process), from
    /proc/*/task/*/schedstat (ns). Threads that ended are not counted: the servers keep theirs."""
    total = 0
    for p in tree_pids(pid):
        try:
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/schedstat" % (p, task)) as f:
                    total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return total / 1e9


def context_switches(pid):
    """Voluntary plus involuntary context switches so far of every thread of the process tree
    under pid (/proc/*/task/*/status)."""
    total = 0
    for p in tree_pids(pid):
        try:
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/status" % (p, task)) as f:
                    total += sum(int(line.split()[1]) for line in f
                                 if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")))
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return total


def cpu_split(pid):
    """(user, system) CPU seconds of the process tree under pid so far, in clock ticks' precision
    (/proc/*/task/*/stat), to tell the kernel's share (syscalls, TCP) from the user's."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for p in tree_pids(pid):
        try:
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/stat" % (p, task)) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                user += int(fields[11])
                system += int(fields[12])
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return user / tick, system / tick


def workers(pid):
    """The processes directly below the master."""
    try:
        out = []
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(c) for c in f.read().split()]
        return out
    except (FileNotFoundError, ProcessLookupError):
        return []


def vulnerabilities():
    """The kernel's /sys/devices/system/cpu/vulnerabilities/* lines: mitigations such as
    page-table isolation change what a syscall and a context switch cost, so figures from
    machines that differ here do not compare."""
    root = Path("/sys/devices/system/cpu/vulnerabilities")
    try:
        return {f.name: f.read_text().strip() for f in sorted(root.iterdir())}
    except OSError:
        return {}
