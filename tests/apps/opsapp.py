"""A WSGI app for the operations tests (tests/integration/test_ops*.py).

GET /            JSON of what the app saw: REMOTE_ADDR, REMOTE_PORT, wsgi.url_scheme,
                 HTTP_X_REQUEST_ID, HTTP_X_FORWARDED_FOR and the worker's pid
GET /block?f=P   waits (at most 10 s) until the file P exists, then answers "released": a
                 request that holds a Python thread until the test lets it go
GET /status?code=N   answers with that status
GET /rid         answers with its own X-Request-ID header ("app-chosen")
GET /hookfile    the value the config file's post_worker_init hook put in os.environ
GET /headers     response headers for the access log's {Name}o: X-Twice twice ("first",
                 "second"), X-Long of 2000 "a"s, X-Quote 'say "hi"'
"""

import json
import os
import time
import urllib.parse


def _query(environ):
    return dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))


def _answer(start_response, body, status="200 OK", headers=()):
    if isinstance(body, str):
        body = body.encode()
    start_response(status, [("Content-Type", "text/plain"),
                            ("Content-Length", str(len(body)))] + list(headers))
    return [body]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    q = _query(environ)
    if path == "/block":
        deadline = time.monotonic() + 10
        while not os.path.exists(q["f"]) and time.monotonic() < deadline:
            time.sleep(0.01)  # the app's own workload; the test waits on metrics, not time
        return _answer(start_response, "released")
    if path == "/status":
        code = int(q.get("code", "200"))
        return _answer(start_response, "status %d" % code, "%d Whatever" % code)
    if path == "/rid":
        return _answer(start_response, "own id", headers=[("X-Request-ID", "app-chosen")])
    if path == "/headers":
        return _answer(start_response, "headers", headers=[
            ("X-Twice", "first"), ("X-Twice", "second"), ("X-Long", "a" * 2000),
            ("X-Quote", 'say "hi"')])
    if path == "/hookfile":
        return _answer(start_response, os.environ.get("WSGIHOST_TEST_HOOK", "unset"))
    doc = {k: environ.get(k) for k in ("REMOTE_ADDR", "REMOTE_PORT", "wsgi.url_scheme",
                                       "HTTP_X_REQUEST_ID", "HTTP_X_FORWARDED_FOR")}
    doc["pid"] = os.getpid()
    return _answer(start_response, json.dumps(doc, sort_keys=True))
