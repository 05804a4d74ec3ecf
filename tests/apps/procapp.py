"""A WSGI app for the process-model tests: which worker answered, hung requests, crashes,
orphaned grandchildren and subprocesses."""

import multiprocessing
import os
import subprocess
import sys
import time
from urllib.parse import parse_qs


def _text(start_response, body, status="200 OK"):
    data = body.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]


def _pid(environ, start_response):
    return _text(start_response, str(os.getpid()))


def _version(environ, start_response):
    """VERSION from the module procversion, which the HUP test writes (and rewrites)."""
    import procversion

    return _text(start_response, procversion.VERSION)


def _sleep(environ, start_response):
    """Sleeps s seconds; with mark=PATH it first creates that file, so a test can tell the
    request has reached the app."""
    query = parse_qs(environ["QUERY_STRING"])
    seconds = float(query.get("s", ["0"])[0])
    if "mark" in query:
        open(query["mark"][0], "w").close()
    time.sleep(seconds)
    return _text(start_response, "slept %g" % seconds)


def _exit(environ, start_response):
    os._exit(1)


def _orphan(environ, start_response):
    """Double-forks a grandchild that outlives its parent: the kernel hands it to PID 1."""
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            time.sleep(0.2)
        os._exit(0)
    os.waitpid(pid, 0)
    return _text(start_response, "orphaned")


def _zombies(environ, start_response):
    """The zombie processes this PID namespace holds (it has its own /proc)."""
    zombies = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        zombies.append(name)
            except OSError:
                continue
    return _text(start_response, " ".join(zombies))


def _subprocess(environ, start_response):
    done = subprocess.run([sys.executable, "-c", "raise SystemExit(7)"], check=False)
    return _text(start_response, str(done.returncode))


def _fork(environ, start_response):
    """Forks; the child (child=exit) calls sys.exit, (child=return) returns into the server
    like the parent, or (child=sleep&s=SECONDS) sleeps and ends with os._exit. The parent
    answers the child's PID."""
    query = parse_qs(environ["QUERY_STRING"])
    child = query["child"][0]
    pid = os.fork()
    if pid == 0:
        if child == "exit":
            sys.exit(0)
        if child == "sleep":
            time.sleep(float(query["s"][0]))
            os._exit(0)
        return _text(start_response, "the child")
    return _text(start_response, str(pid))


def _sum_into(conn, numbers):
    conn.send(sum(abs(n) for n in numbers))
    conn.close()


def _multiprocessing(environ, start_response):
    # A forked Process, not a Pool: Pool.terminate() can hang in a threaded process on Python
    # 3.11 (its handler threads), which would test Pool, not the server.
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_sum_into, args=(child, [-1, -2, -3]))
    proc.start()
    total = parent.recv() if parent.poll(10) else "no answer"
    proc.join(10)
    return _text(start_response, "%s %s" % (total, proc.exitcode))


ROUTES = {"/pid": _pid, "/version": _version, "/sleep": _sleep, "/exit": _exit,
          "/orphan": _orphan, "/zombies": _zombies, "/subprocess": _subprocess,
          "/fork": _fork, "/multiprocessing": _multiprocessing}


def application(environ, start_response):
    route = ROUTES.get(environ["PATH_INFO"])
    if route is None:
        return _text(start_response, "not found", "404 Not Found")
    return route(environ, start_response)
