"""WSGI apps served by the integration tests (tests/integration/).

`application` echoes every request as JSON, except paths under /_t/, which are small endpoints
that each exercise one part of PEP 3333 and report what they saw. The module keeps counters
(calls, close() calls, bytes a stream produced, ...) that GET /_t/stats returns, so a test can
tell whether a request ever reached the app and whether the server called close().

`validated` is the same app wrapped in wsgiref.validate.validator, with its warnings turned
into errors so that any violation becomes a 500 the test can see.

Everything here runs inside wsgihost's embedded interpreter; it uses the standard library only.
"""

import base64
import collections
import hashlib
import io
import json
import os
import sys
import threading
import time
import urllib.parse
import warnings
import wsgiref.validate

_lock = threading.Lock()
_stats = collections.Counter()
_paths = collections.Counter()  # PATH_INFO of every echoed request
_barriers = {}

NOT_CALLABLE = 42  # for the CLI test "callable is not callable"


def _bump(key, n=1):
    with _lock:
        _stats[key] += n
        return _stats[key]


def _query(environ):
    return dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))


def _json_response(start_response, doc, status="200 OK", extra_headers=()):
    body = json.dumps(doc, sort_keys=True).encode("ascii")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers.extend(extra_headers)
    start_response(status, headers)
    return Body([body])


def _read_all(stream, size=65536):
    """Reads wsgi.input to its end with read(n) only (the validator forbids read())."""
    parts = []
    while True:
        chunk = stream.read(size)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


class Body:
    """A response iterable that counts close() calls, overall and under its tag."""

    def __init__(self, chunks, tag=None):
        self._chunks = chunks
        self._tag = tag

    def __iter__(self):
        return iter(self._chunks)

    def close(self):
        _bump("closes")
        if self._tag:
            _bump("closes." + self._tag)


class Stream:
    """Yields `total` bytes in `chunk`-sized pieces and records how far it got."""

    def __init__(self, total, chunk, tag):
        self.total = total
        self.piece = b"s" * chunk
        self.tag = tag

    def __iter__(self):
        sent = 0
        while sent < self.total:
            piece = self.piece[: self.total - sent]
            sent += len(piece)
            _bump("stream.%s.yielded" % self.tag, len(piece))
            yield piece

    def close(self):
        _bump("closes")
        _bump("stream.%s.closed" % self.tag)


class TrackedFile(io.FileIO):
    """A real file (so file_wrapper can use sendfile) whose close() is counted."""

    def close(self):
        if not self.closed:
            _bump("file.closed")
        super().close()


def pattern(size):
    """Deterministic, non-repeating-looking bytes; the tests compute the same."""
    block = hashlib.sha256(b"wsgihost").digest() * 2048  # 64 KiB
    reps, rest = divmod(size, len(block))
    return block * reps + block[:rest]


def echo(environ, start_response):
    """Reports the request as the app saw it."""
    call = _bump("calls")
    path = environ.get("PATH_INFO")
    with _lock:
        _paths[path] += 1
    body = _read_all(environ["wsgi.input"])
    doc = {
        "call": call,
        "method": environ.get("REQUEST_METHOD"),
        "path_info": path,
        "script_name": environ.get("SCRIPT_NAME"),
        "raw_uri": environ.get("RAW_URI"),
        "request_uri": environ.get("REQUEST_URI"),
        "query_string": environ.get("QUERY_STRING"),
        "protocol": environ.get("SERVER_PROTOCOL"),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "remote_port": environ.get("REMOTE_PORT"),
        "server_name": environ.get("SERVER_NAME"),
        "server_port": environ.get("SERVER_PORT"),
        "headers": {k: v for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_"))},
        "body_b64": base64.b64encode(body).decode("ascii"),
        "input_terminated": environ.get("wsgi.input_terminated"),
    }
    return _json_response(start_response, doc)


def t_stats(environ, start_response):
    with _lock:
        doc = {"stats": dict(_stats), "paths": dict(_paths)}
    return _json_response(start_response, doc)


def t_hello(environ, start_response):
    body = b"Hello, World!\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return Body([body], tag=environ["REQUEST_METHOD"].lower())


def t_environ(environ, start_response):
    """Every key with its type name; str values and a few plain values as they are."""
    doc = {}
    for key, value in environ.items():
        entry = {"type": type(value).__name__}
        if isinstance(value, (str, bool, int)) or value is None:
            entry["value"] = value
        elif isinstance(value, tuple):
            entry["value"] = list(value)
        else:
            entry["attrs"] = [a for a in ("read", "readline", "readlines", "__iter__",
                                          "write", "writelines", "flush") if hasattr(value, a)]
        doc[key] = entry
    return _json_response(start_response, doc)


def t_input(environ, start_response):
    """Applies ?ops=read:3,readline,readline:2,read,readlines,iter to wsgi.input in order."""
    stream = environ["wsgi.input"]
    results = []
    for op in _query(environ).get("ops", "").split(","):
        name, _, arg = op.partition(":")
        args = (int(arg),) if arg else ()
        if name in ("read", "readline"):
            results.append(base64.b64encode(getattr(stream, name)(*args)).decode("ascii"))
        elif name == "readlines":
            results.append([base64.b64encode(line).decode("ascii") for line in stream.readlines(*args)])
        elif name == "iter":
            results.append([base64.b64encode(line).decode("ascii") for line in stream])
        else:
            raise ValueError("unknown op %r" % op)
    return _json_response(start_response, {"results": results})


def t_sha256(environ, start_response):
    """Digest and length of the request body, read in 64 KiB pieces."""
    digest = hashlib.sha256()
    length = 0
    stream = environ["wsgi.input"]
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        digest.update(chunk)
        length += len(chunk)
    return _json_response(start_response, {"sha256": digest.hexdigest(), "length": length,
                                           "content_length": environ.get("CONTENT_LENGTH"),
                                           "input_terminated": environ.get("wsgi.input_terminated")})


def t_chunks(environ, start_response):
    """?parts=a,,bb yields each part (empty ones too) with no Content-Length."""
    parts = [p.encode("latin-1") for p in _query(environ).get("parts", "").split(",")]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Body(parts, tag="chunks")


def t_large(environ, start_response):
    """?size=N: one bytes object of pattern(N) with Content-Length (or without, ?cl=0), in a
    plain list (?kind=list) or in an iterable that is not a sequence (the default)."""
    q = _query(environ)
    body = pattern(int(q["size"]))
    headers = [("Content-Type", "application/octet-stream")]
    if q.get("cl", "1") == "1":
        headers.append(("Content-Length", str(len(body))))
    start_response("200 OK", headers)
    _bump("large.returned")
    return [body] if q.get("kind") == "list" else Body([body], tag="large")


def t_stream(environ, start_response):
    """?total=N&chunk=M&tag=T: a generator of N bytes; see Stream."""
    q = _query(environ)
    total, chunk = int(q["total"]), int(q.get("chunk", "65536"))
    headers = [("Content-Type", "application/octet-stream")]
    if q.get("cl", "0") == "1":
        headers.append(("Content-Length", str(total)))
    start_response("200 OK", headers)
    return Stream(total, chunk, q.get("tag", "default"))


def t_sleep(environ, start_response):
    """?ms=N: a slow app (a workload, not synchronisation); counts sleepers while asleep."""
    _bump("sleeping")
    try:
        time.sleep(int(_query(environ).get("ms", "100")) / 1000)
    finally:
        _bump("sleeping", -1)
    _bump("slept")
    body = b"slept"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return Body([body])


HOLD_MAX_SECONDS = 30


def t_hold(environ, start_response):
    """?dir=D: creates D/entered, then holds its Python thread until D/release exists (at most
    HOLD_MAX_SECONDS): a test sees the request reach the app and decides when it ends."""
    d = _query(environ)["dir"]
    open(os.path.join(d, "entered"), "w").close()
    deadline = time.monotonic() + HOLD_MAX_SECONDS
    while not os.path.exists(os.path.join(d, "release")) and time.monotonic() < deadline:
        time.sleep(0.01)  # the app's side of the hand-off: polls the file, bounded
    body = b"released" if os.path.exists(os.path.join(d, "release")) else b"timeout"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return Body([body])


def t_hold_thread(environ, start_response):
    """?dir=D: starts a non-daemon thread that runs until D/release exists (at most
    HOLD_MAX_SECONDS), so the worker's interpreter cannot finish before then; answers at once."""
    d = _query(environ)["dir"]

    def hold():
        deadline = time.monotonic() + HOLD_MAX_SECONDS
        while not os.path.exists(os.path.join(d, "release")) and time.monotonic() < deadline:
            time.sleep(0.01)

    threading.Thread(target=hold, daemon=False).start()
    body = b"holding"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return Body([body])


def t_barrier(environ, start_response):
    """?id=X&n=N: waits until N requests with the same id are inside the app (5 s at most)."""
    q = _query(environ)
    with _lock:
        barrier = _barriers.setdefault(q["id"], threading.Barrier(int(q["n"])))
    try:
        barrier.wait(timeout=5)
        result = b"met"
    except threading.BrokenBarrierError:
        result = b"timeout"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(result)))])
    return Body([result])


def t_errors(environ, start_response):
    """?msg=X: writes X to wsgi.errors with write and writelines, then flushes."""
    msg = _query(environ).get("msg", "")
    errors = environ["wsgi.errors"]
    errors.write("wsgi.errors write: %s\n" % msg)
    errors.writelines(["wsgi.errors writelines: ", msg, "\n"])
    errors.flush()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return Body([b"ok"])


def t_file(environ, start_response):
    """?path=P[&block=N][&kind=bytesio]: the file through wsgi.file_wrapper."""
    q = _query(environ)
    block = int(q.get("block", "8192"))
    if q.get("kind") == "bytesio":
        with open(q["path"], "rb") as f:
            filelike = io.BytesIO(f.read())
    else:
        filelike = TrackedFile(q["path"], "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](filelike, block)


def t_write(environ, start_response):
    """?parts=a,b&tail=c: parts through the write() callable, then tail as the iterable."""
    q = _query(environ)
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    for part in q.get("parts", "").split(","):
        write(part.encode("latin-1"))
    return Body([q.get("tail", "").encode("latin-1")], tag="write")


def t_raise(environ, start_response):
    raise RuntimeError("raised by /_t/raise before start_response")


def t_raise_in_first_iteration(environ, start_response):
    """start_response, then the iterable fails before yielding anything (headers not sent)."""
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        raise RuntimeError("raised by /_t/raise-first-iter before any body")
        yield b""  # pragma: no cover

    return gen()


def t_raise_after_body(environ, start_response):
    """Yields some body (so the head is on the wire), then raises."""
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"partial body; "
        raise RuntimeError("raised by /_t/raise-after-body after the body started")

    return Body(gen(), tag="raise-after-body")


def t_excinfo_before(environ, start_response):
    """start_response, then replaces the response with exc_info before any body is sent."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "1")])
    try:
        raise ValueError("replaced")
    except ValueError:
        body = b"replaced by exc_info"
        start_response("503 Replaced", [("Content-Type", "text/plain"), ("X-Replaced", "1"),
                                        ("Content-Length", str(len(body)))], sys.exc_info())
    return Body([body], tag="excinfo-before")


def t_excinfo_after(environ, start_response):
    """After body was sent, start_response with exc_info must re-raise (PEP 3333)."""
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"first part; "
        try:
            raise ValueError("late failure")
        except ValueError:
            try:
                start_response("500 Late", [("Content-Type", "text/plain")], sys.exc_info())
            except ValueError:
                _bump("excinfo-after.reraised")
                raise
            _bump("excinfo-after.not-reraised")
            yield b"start_response did not re-raise"

    return Body(gen(), tag="excinfo-after")


def t_start_twice(environ, start_response):
    """A second start_response without exc_info is an error (it must raise)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        start_response("201 Created", [("Content-Type", "text/plain")])
    except Exception:
        _bump("start-twice.raised")
        raise
    _bump("start-twice.accepted")
    return Body([b"second start_response was accepted"])


BAD_HEADERS = {
    # kind: (status, headers); the marker "Injected" must never reach the wire
    "crlf-value": ("200 OK", [("X-Bad", "a\r\nX-Injected: 1")]),
    "lf-value": ("200 OK", [("X-Bad", "a\nX-Injected: 1")]),
    "cr-value": ("200 OK", [("X-Bad", "a\rX-Injected: 1")]),
    "nul-value": ("200 OK", [("X-Bad", "a\x00X-Injected")]),
    "crlf-name": ("200 OK", [("X-Injected: 1\r\nX-Bad", "a")]),
    "space-name": ("200 OK", [("X Injected", "a")]),
    "colon-name": ("200 OK", [("X-Injected:", "a")]),
    "empty-name": ("200 OK", [("", "X-Injected")]),
    "crlf-status": ("200 OK\r\nX-Injected: 1", []),
    "bad-status": ("2000 Injected", []),
    "bytes-value": ("200 OK", [("X-Bad", b"X-Injected")]),
}


def t_badheader(environ, start_response):
    status, headers = BAD_HEADERS[_query(environ)["kind"]]
    start_response(status, [("Content-Type", "text/plain")] + headers)
    return Body([b"this body must not be sent: Injected"], tag="badheader")


def t_badheader_caught(environ, start_response):
    """PEP 3333: start_response checks the head at once, so the app can catch the error and
    answer with another head; the body says what was caught."""
    status, headers = BAD_HEADERS[_query(environ)["kind"]]
    try:
        start_response(status, [("Content-Type", "text/plain")] + headers)
    except (ValueError, TypeError) as e:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("caught %s: %s" % (type(e).__name__, e)).encode("ascii", "backslashreplace")]
    start_response("200 OK", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"not caught"]


def t_conn_close(environ, start_response):
    """The app asks for the connection to be closed after this response."""
    body = b"closing"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body))),
                              ("Connection", "close")])
    return Body([body])


def t_status(environ, start_response):
    """?code=N: an empty response with that status (204, 304, ...); &length=L adds
    Content-Length: L."""
    query = _query(environ)
    code = query["code"]
    headers = [("X-Status", code)]
    if "length" in query:
        headers.append(("Content-Length", query["length"]))
    start_response("%s Test" % code, headers)
    return Body([], tag="status")


ROUTES = {
    "/_t/stats": t_stats,
    "/_t/hello": t_hello,
    "/_t/badheader-caught": t_badheader_caught,
    "/_t/environ": t_environ,
    "/_t/input": t_input,
    "/_t/sha256": t_sha256,
    "/_t/chunks": t_chunks,
    "/_t/large": t_large,
    "/_t/stream": t_stream,
    "/_t/sleep": t_sleep,
    "/_t/barrier": t_barrier,
    "/_t/hold": t_hold,
    "/_t/hold-thread": t_hold_thread,
    "/_t/errors": t_errors,
    "/_t/file": t_file,
    "/_t/write": t_write,
    "/_t/raise": t_raise,
    "/_t/raise-first-iter": t_raise_in_first_iteration,
    "/_t/raise-after-body": t_raise_after_body,
    "/_t/excinfo-before": t_excinfo_before,
    "/_t/excinfo-after": t_excinfo_after,
    "/_t/start-twice": t_start_twice,
    "/_t/badheader": t_badheader,
    "/_t/conn-close": t_conn_close,
    "/_t/status": t_status,
}


def application(environ, start_response):
    return ROUTES.get(environ.get("PATH_INFO", ""), echo)(environ, start_response)


# Under the validator a WSGIWarning (e.g. a malformed status) must fail the request too.
warnings.filterwarnings("error", category=wsgiref.validate.WSGIWarning)
validated = wsgiref.validate.validator(application)


if __name__ == "__main__":  # pragma: no cover - a manual check with wsgiref
    from wsgiref.simple_server import make_server

    make_server("127.0.0.1", int(os.environ.get("PORT", "8000")), application).serve_forever()
