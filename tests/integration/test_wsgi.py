"""PEP 3333 as the app sees it: environ, wsgi.input, wsgi.errors, file_wrapper, write(),
exc_info, close(), errors in the app, client disconnects and back-pressure."""

import base64
import hashlib
import io
import os
import threading
import time

import pytest

import wire
from conftest import LISTENING, wait_until
from testapp import BAD_HEADERS, pattern

REQUIRED_STR = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
                "SERVER_PORT", "SERVER_PROTOCOL", "wsgi.url_scheme"]


def environ_of(srv, target="/_t/environ", headers=(), body=b""):
    with srv.conn() as c:
        resp = c.request("POST" if body else "GET", target, headers=headers, body=body)
    assert resp.status == 200, resp
    return resp.json()


def test_environ_keys_and_types(server):
    env = environ_of(server, "/_t/environ?a=1", headers=[("Content-Type", "text/x-test"),
                                                          ("X-Custom", "v")], body=b"12345")
    for key in REQUIRED_STR:
        assert env[key]["type"] == "str", (key, env.get(key))
    assert env["REQUEST_METHOD"]["value"] == "POST"
    assert env["SCRIPT_NAME"]["value"] == ""
    assert env["PATH_INFO"]["value"] == "/_t/environ"
    assert env["QUERY_STRING"]["value"] == "a=1"
    assert env["SERVER_PROTOCOL"]["value"] == "HTTP/1.1"
    assert env["SERVER_PORT"]["value"] == str(server.port)
    assert env["CONTENT_TYPE"]["value"] == "text/x-test"
    assert env["CONTENT_LENGTH"]["value"] == "5"
    assert env["HTTP_X_CUSTOM"]["value"] == "v"
    assert env["HTTP_HOST"]["value"] == "test"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert env["REMOTE_ADDR"]["value"] == "127.0.0.1"
    assert env["REMOTE_PORT"]["value"].isdigit()
    assert env["wsgi.version"] == {"type": "tuple", "value": [1, 0]}
    assert env["wsgi.url_scheme"]["value"] == "http"
    for key in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"):
        assert env[key]["type"] == "bool", (key, env[key])
    assert env["wsgi.run_once"]["value"] is False
    assert env["wsgi.input_terminated"] == {"type": "bool", "value": True}
    assert set(env["wsgi.input"]["attrs"]) >= {"read", "readline", "readlines", "__iter__"}
    assert set(env["wsgi.errors"]["attrs"]) >= {"write", "writelines", "flush"}
    assert "wsgi.file_wrapper" in env
    assert env["RAW_URI"]["value"] == "/_t/environ?a=1"
    for key, entry in env.items():
        if key.startswith(("HTTP_", "CONTENT_", "SERVER_", "REMOTE_", "REQUEST_")):
            assert entry["type"] == "str", (key, entry)


def test_no_content_length_without_body(server):
    env = environ_of(server)
    assert env.get("CONTENT_LENGTH", {"value": ""})["value"] == ""


@pytest.mark.parametrize("threads, expected", [("1", False), ("2", True), ("8", True)])
def test_multithread_flag_follows_threads(start_server, threads, expected):
    srv = start_server(args=["--threads", threads])
    assert environ_of(srv)["wsgi.multithread"]["value"] is expected


def test_threads_really_run_concurrently(start_server):
    srv = start_server(args=["--threads", "2"])
    results = []

    def call():
        results.append(srv.get("/_t/barrier?id=pair&n=2").body)

    workers = [threading.Thread(target=call) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(15)
    assert results == [b"met", b"met"], "two requests never ran at once with --threads 2"


def test_validator_under_load(start_server):
    """wsgiref.validate around the app, from several client threads: every request passes."""
    srv = start_server(app="testapp:validated", args=["--threads", "4"])
    data = os.urandom(3000)
    failures = []

    def client(k):
        try:
            with srv.conn() as c:
                for i in range(25):
                    resp = c.request("POST", "/load/%d/%d?i=%d" % (k, i, i), body=data)
                    if resp.status != 200 or base64.b64decode(resp.json()["body_b64"]) != data:
                        failures.append(resp)
                    for target in ("/_t/hello", "/_t/chunks?parts=a,b", "/_t/environ"):
                        resp = c.request("GET", target)
                        if resp.status != 200:
                            failures.append(resp)
                    resp = c.request("HEAD", "/_t/hello")
                    if resp.status != 200:
                        failures.append(resp)
        except Exception as e:  # reported below with the server's log
            failures.append(e)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "clients still running after 60 s"
    assert not failures, "%d failures, first %r; stderr:\n%s" % (
        len(failures), failures[0], srv.stderr.text()[-4000:])
    srv.stop()
    log = srv.stderr.text()
    assert "AssertionError" not in log and "Exception ignored" not in log, log[-4000:]


@pytest.mark.parametrize("target, path, query", [
    ("/caf%C3%A9", "/caf\u00c3\u00a9", ""),
    ("/a%20b/c%2Fd?x=%20y&z", "/a b/c/d", "x=%20y&z"),
    ("/plus+sign?q=a+b", "/plus+sign", "q=a+b"),
    ("/%25percent", "/%percent", ""),
    ("//double//slash/", "//double//slash/", ""),
])
def test_path_info_decoded_latin1_query_raw(server, target, path, query):
    with server.conn() as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: test\r\n\r\n" % target.encode("latin-1"))
        resp = c.read_final()
    seen = resp.json()
    assert (seen["path_info"], seen["query_string"], seen["raw_uri"]) == (path, query, target)


INPUT_OPS = ["read", "read:3,read:0,read:1000,read", "readline,readline,readline",
             "readline:4,readline:4,readline:100,readline", "readlines", "iter",
             "read:5,readlines", "readline,iter", "read:-1", "readline:-1,readline:0,read"]


def bytesio_results(data, ops):
    """What io.BytesIO answers to the same operations: the reference behaviour."""
    stream = io.BytesIO(data)
    out = []
    for op in ops.split(","):
        name, _, arg = op.partition(":")
        args = (int(arg),) if arg else ()
        if name in ("read", "readline"):
            out.append(getattr(stream, name)(*args))
        elif name == "readlines":
            out.append(stream.readlines(*args))
        else:
            out.append(list(stream))
    return out


@pytest.mark.parametrize("ops", INPUT_OPS)
@pytest.mark.parametrize("size", [0, 57, 70000, 1536 * 1024])
def test_wsgi_input_methods(server, ops, size):
    unit = b"first line\nsecond\n\nfourth line is longer than the others\nno newline at end"
    data = (unit * (size // len(unit) + 1))[:size]
    with server.conn(timeout=30) as c:
        resp = c.request("POST", "/_t/input?ops=" + ops, body=data)
    assert resp.status == 200, resp
    got = []
    for r in resp.json()["results"]:
        got.append([base64.b64decode(x) for x in r] if isinstance(r, list) else base64.b64decode(r))
    assert got == bytesio_results(data, ops)


def test_wsgi_input_chunked_read_without_length(server):
    data = b"abc\ndef\n" * 1000
    body = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 999]), data[i:i + 999])
                    for i in range(0, len(data), 999)) + b"0\r\n\r\n"
    with server.conn() as c:
        resp = c.request("POST", "/_t/input?ops=read", headers=[("Transfer-Encoding", "chunked")],
                         body=body)
    assert base64.b64decode(resp.json()["results"][0]) == data


def test_wsgi_errors_lands_in_error_log(server):
    marker = "marker-%d" % time.monotonic_ns()
    assert server.get("/_t/errors?msg=" + marker).status == 200
    server.stderr.wait_for(r"wsgi\.errors write: " + marker, 5)
    server.stderr.wait_for(r"wsgi\.errors writelines: " + marker, 5)


def test_wsgi_errors_to_error_logfile(start_server, tmp_path):
    log = tmp_path / "error.log"
    srv = start_server(args=["--error-logfile", str(log)], wait=False)
    # the listening line goes to the log file now
    text = wait_until(lambda: log.exists() and "Listening at:" in log.read_text() and log.read_text(),
                      30, "the listening line in %s" % log)
    srv.urls = LISTENING.findall(text)
    marker = "filemarker-%d" % time.monotonic_ns()
    assert srv.get("/_t/errors?msg=" + marker).status == 200
    wait_until(lambda: marker in log.read_text(), 5, "wsgi.errors text in %s" % log)


def test_file_wrapper_sends_the_file(server, tmp_path):
    path = tmp_path / "payload.bin"
    data = pattern(3 * (1 << 20) + 11)
    path.write_bytes(data)
    before = server.stat("file.closed")
    with server.conn(timeout=30) as c:
        resp = c.request("GET", "/_t/file?path=%s&block=65536" % path)
        assert resp.status == 200
        assert hashlib.sha256(resp.body).digest() == hashlib.sha256(data).digest()
        # the connection stays in sync after the file
        assert c.request("GET", "/after-file").json()["path_info"] == "/after-file"
    wait_until(lambda: server.stat("file.closed") == before + 1, 5, "the file's close()")


def test_file_wrapper_with_a_non_file(server, tmp_path):
    path = tmp_path / "small.bin"
    data = pattern(100000)
    path.write_bytes(data)
    resp = server.get("/_t/file?path=%s&kind=bytesio&block=1000" % path)
    assert resp.status == 200 and resp.body == data


def test_file_wrapper_head(server, tmp_path):
    path = tmp_path / "head.bin"
    path.write_bytes(pattern(5000))
    with server.conn() as c:
        resp = c.request("HEAD", "/_t/file?path=%s" % path)
        assert resp.status == 200 and resp.body == b""
        assert c.request("GET", "/after-file-head").json()["path_info"] == "/after-file-head"


def test_write_callable(server):
    resp = server.get("/_t/write?parts=alpha,,beta,gamma&tail=omega")
    assert resp.status == 200 and resp.body == b"alphabetagammaomega"


def test_exc_info_before_body_replaces_the_response(server):
    resp = server.get("/_t/excinfo-before")
    assert resp.status == 503, resp
    assert resp.body == b"replaced by exc_info"
    assert resp.header("X-Replaced") == "1" and resp.header("X-First") is None, resp


def test_exc_info_after_body_reraises_and_closes(server):
    before = server.stat("excinfo-after.reraised")
    with server.conn() as c:
        c.send(b"GET /_t/excinfo-after HTTP/1.1\r\nHost: test\r\n\r\n")
        resp = c.read_final()
        assert resp.status == 200 and not resp.complete, resp
        assert resp.body.startswith(b"first part; ")
        assert c.at_eof(time.monotonic() + 5)
    assert server.stat("excinfo-after.reraised") == before + 1
    assert server.stat("excinfo-after.not-reraised") == 0


def test_start_response_twice_without_exc_info_is_an_error(server):
    resp = server.get("/_t/start-twice")
    assert resp.status == 500, resp
    assert server.stat("start-twice.accepted") == 0


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_close_is_called(server, method):
    key = "closes." + method.lower()
    before = server.stat(key)
    with server.conn() as c:
        for _ in range(3):
            assert c.request(method, "/_t/hello").status == 200
    wait_until(lambda: server.stat(key) == before + 3, 5, "3 close() calls after %s" % method)


def test_close_is_called_for_chunked_and_write_responses(server):
    before = (server.stat("closes.chunks"), server.stat("closes.write"))
    server.get("/_t/chunks?parts=x,y")
    server.get("/_t/write?parts=x&tail=y")
    wait_until(lambda: (server.stat("closes.chunks"), server.stat("closes.write"))
               == (before[0] + 1, before[1] + 1), 5, "close() on chunked and write() responses")


def test_app_exception_gives_500_and_server_keeps_serving(server):
    with server.conn() as c:
        resp = c.request("GET", "/_t/raise")
        assert resp.status == 500, resp
        assert b"raised by" not in resp.raw, "the traceback leaked to the client"
    server.stderr.wait_for(r"RuntimeError: raised by /_t/raise before start_response", 5)
    assert server.get("/_t/hello").status == 200


def test_exception_in_first_iteration_is_500(server):
    resp = server.get("/_t/raise-first-iter")
    assert resp.status == 500, resp
    assert server.get("/_t/hello").status == 200


def test_exception_after_body_started_closes_connection(server):
    before = server.stat("closes.raise-after-body")
    with server.conn() as c:
        c.send(b"GET /_t/raise-after-body HTTP/1.1\r\nHost: test\r\n\r\n")
        resp = c.read_final()
        assert resp.status == 200 and not resp.complete, resp
        assert resp.body.startswith(b"partial body; ")
        assert c.at_eof(time.monotonic() + 5)
    wait_until(lambda: server.stat("closes.raise-after-body") == before + 1, 5, "close()")
    assert server.get("/_t/hello").status == 200


@pytest.mark.parametrize("kind", list(BAD_HEADERS))
def test_invalid_app_headers_become_500(server, kind):
    with server.conn() as c:
        resp = c.request("GET", "/_t/badheader?kind=" + kind)
        assert resp.status == 500, resp
        assert b"Injected" not in resp.raw, wire.show(resp.raw)
    assert server.get("/_t/hello").status == 200


@pytest.mark.parametrize("kind", list(BAD_HEADERS))
def test_start_response_raises_on_an_invalid_head(server, kind):
    """The app catches the error start_response raises and starts again (PEP 3333)."""
    resp = server.get("/_t/badheader-caught?kind=" + kind)
    assert resp.status == 200, resp
    assert resp.body.startswith(b"caught "), resp.body
    assert b"Injected" not in resp.raw.split(b"\r\n\r\n", 1)[0]


def test_status_without_body(server):
    with server.conn() as c:
        for code in ("204", "304"):
            resp = c.request("GET", "/_t/status?code=" + code)
            assert resp.status == int(code) and resp.header("X-Status") == code
            assert resp.header("Transfer-Encoding") is None, resp
        assert c.request("GET", "/after-204").json()["path_info"] == "/after-204"


@pytest.mark.parametrize("code, length, sent", [
    ("204", "5", None),      # RFC 9110 8.6: MUST NOT send Content-Length on a 204
    ("204", "0", None),
    ("304", "0", None),      # the 304's own empty body, not the representation's length
    ("304", "1234", "1234"),  # the selected representation's length: allowed on a 304
])
def test_content_length_on_204_and_304(server, code, length, sent):
    with server.conn() as c:
        resp = c.request("GET", "/_t/status?code=%s&length=%s" % (code, length))
        assert resp.status == int(code), resp
        assert resp.header("Content-Length") == sent, resp
        assert resp.body == b""
        assert c.request("GET", "/after").json()["path_info"] == "/after"


@pytest.mark.parametrize("code", ["600", "999", "099"])
def test_status_outside_100_to_599_becomes_500(server, code):
    """RFC 9110 15: status codes are 100-599; anything else is an invalid head from the app."""
    with server.conn() as c:
        resp = c.request("GET", "/_t/status?code=" + code)
        assert resp.status == 500, resp
    assert server.get("/_t/hello").status == 200


def test_client_disconnect_mid_response_closes_iterable(server):
    total = 50 * (1 << 20)
    tag = "disconnect"
    with server.conn() as c:
        c.send(b"GET /_t/stream?total=%d&tag=%s HTTP/1.1\r\nHost: test\r\n\r\n"
               % (total, tag.encode()))
        assert c.read_at_least(1 << 20, timeout=10), "the stream ended early"
    wait_until(lambda: server.stat("stream.%s.closed" % tag) == 1, 10,
               "close() on the stream after the client went away")
    assert server.stat("stream.%s.yielded" % tag) < total
    assert server.get("/_t/hello").status == 200


def test_backpressure_bounds_memory(start_server):
    """A 50 MB streaming response to a client that does not read: the producer must stall
    and the server's RSS must not grow by more than 64 MB."""
    srv = start_server(args=["--threads", "2"])  # one thread streams, one answers /_t/stats
    srv.get("/_t/hello")
    base = srv.rss_kib()
    total, tag = 50 * (1 << 20), "backpressure"
    key = "stream.%s.yielded" % tag
    with srv.conn(timeout=30) as c:
        c.send(b"GET /_t/stream?total=%d&chunk=65536&tag=%s HTTP/1.1\r\nHost: test\r\n\r\n"
               % (total, tag.encode()))
        # Poll until the producer stalls (no progress between two polls 0.3 s apart) or ends.
        peak = base
        samples = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            samples.append(srv.stat(key))
            peak = max(peak, srv.rss_kib())
            stalled = len(samples) >= 2 and samples[-1] == samples[-2] and samples[-1] > 0
            if stalled or samples[-1] >= total:
                break
            time.sleep(0.3)
        produced = samples[-1]
        assert produced < total, ("the app produced all %d bytes while the client read nothing: "
                                  "no back-pressure" % total)
        growth_mb = (peak - base) / 1024
        assert growth_mb < 64, "RSS grew by %.1f MB while the client did not read" % growth_mb
        # Now read everything: the stream completes intact.
        resp = c.read_final(timeout=60)
        body_len = len(resp.body)
    assert resp.complete and body_len == total
    wait_until(lambda: srv.stat("stream.%s.closed" % tag) == 1, 5, "close() on the stream")
