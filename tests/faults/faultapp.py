"""A WSGI app for the fault-injection tests (tests/integration/test_faults.py): small and slow
answers, uploads, streams whose close() is counted, an app that blocks forever and one that
leaks a non-daemon thread. GET /stats reports the counters of the worker that answers.
Standard library only; runs inside wsgihost."""

import hashlib
import json
import os
import threading
import time
from urllib.parse import parse_qs

_lock = threading.Lock()
_stats = {"calls": 0, "closes": 0, "blocked": 0, "leaked_threads": 0}
_forever = threading.Event()  # never set


def _bump(key, n=1):
    with _lock:
        _stats[key] = _stats.get(key, 0) + n


def _q(environ, name, default):
    return parse_qs(environ.get("QUERY_STRING", "")).get(name, [default])[0]


class Counted:
    """A response iterable whose close() is counted (PEP 3333: the server must call it)."""

    def __init__(self, parts):
        self.parts = parts

    def __iter__(self):
        return iter(self.parts)

    def close(self):
        _bump("closes")


def _reply(start_response, body, status="200 OK", ctype="text/plain"):
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return Counted([body])


def hello(environ, start_response):
    return _reply(start_response, b"hello\n")


def pid(environ, start_response):
    return _reply(start_response, str(os.getpid()).encode())


def sleep(environ, start_response):
    time.sleep(int(_q(environ, "ms", "10")) / 1000)  # a workload, not synchronisation
    return _reply(start_response, b"slept\n")


def upload(environ, start_response):
    h, n = hashlib.sha256(), 0
    stream = environ["wsgi.input"]
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    return _reply(start_response, json.dumps({"length": n, "sha256": h.hexdigest()}).encode(),
                  ctype="application/json")


def stream(environ, start_response):
    total, chunk = int(_q(environ, "total", "1048576")), int(_q(environ, "chunk", "16384"))
    start_response("200 OK", [("Content-Type", "application/octet-stream")])

    def gen():
        sent = 0
        while sent < total:
            n = min(chunk, total - sent)
            sent += n
            yield b"s" * n

    class Stream(Counted):
        def __iter__(self):
            return gen()

    return Stream(None)


def block(environ, start_response):
    """Never returns: the worker --timeout must retire the worker."""
    _bump("blocked")
    _forever.wait()
    return _reply(start_response, b"unreachable\n")


def leak_thread(environ, start_response):
    """Starts a non-daemon thread that never ends (interpreter shutdown would wait for it)."""
    threading.Thread(target=_forever.wait, name="leaked", daemon=False).start()
    _bump("leaked_threads")
    return _reply(start_response, b"leaked\n")


def stats(environ, start_response):
    with _lock:
        doc = dict(_stats, pid=os.getpid(), threads=threading.active_count())
    body = json.dumps(doc).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]  # not counted: polling the counters must not change them


ROUTES = {"/hello": hello, "/pid": pid, "/sleep": sleep, "/upload": upload, "/stream": stream,
          "/block": block, "/leak-thread": leak_thread, "/stats": stats}


def application(environ, start_response):
    route = ROUTES.get(environ.get("PATH_INFO"))
    if route is None:
        return _reply(start_response, b"not found\n", "404 Not Found")
    if route is not stats:
        _bump("calls")
    return route(environ, start_response)
