"""HTTP/1.1 behaviour: keep-alive, pipelining, HTTP/1.0, HEAD, 100-continue, chunked bodies both
ways, Date/Server, Connection: close, large bodies."""

import base64
import email.utils
import hashlib
import os
import random
import re
import socket
import subprocess
import time

import pytest

import wire
from conftest import CHUNK_EXT_LIMIT, binary, child_env, chunk_ext_refused, http_get, wait_until
from support import server_side
from testapp import pattern


def req(method, target, headers=(), body=b"", version="HTTP/1.1", host="test"):
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: " + host)
    lines += ["%s: %s" % h for h in headers]
    if body and not any(h[0].lower() in ("content-length", "transfer-encoding") for h in headers):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(data, sizes, ext=b"", trailers=b""):
    """Frames data in chunks of the given sizes (cycled), with an optional extension on each
    size line and trailer lines after the last chunk."""
    out, pos, i = bytearray(), 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        piece = data[pos:pos + n]
        out += b"%x%s\r\n%s\r\n" % (len(piece), ext, piece)
        pos += n
        i += 1
    return bytes(out + b"0\r\n" + trailers + b"\r\n")


def test_keep_alive_serves_many_requests_on_one_connection(server):
    with server.conn() as c:
        ports = set()
        for i in range(5):
            resp = c.request("GET", "/keep/%d" % i)
            assert resp.status == 200, resp
            seen = resp.json()
            assert seen["path_info"] == "/keep/%d" % i
            ports.add(seen["remote_port"])
            assert (resp.header("Connection") or "").lower() != "close", resp
        assert len(ports) == 1, "requests arrived from different client ports: %r" % ports


def test_idle_keep_alive_connection_closed_after_keep_alive_seconds(start_server):
    srv = start_server(args=["--keep-alive", "1"])
    with srv.conn(timeout=30) as c:
        for i in range(3):  # each request restarts the idle timer
            assert c.request("GET", "/_t/hello").status == 200
        t0 = time.monotonic()
        assert c.wait_closed(30), "an idle connection still open after 30 s"
        idle = time.monotonic() - t0
    assert 0.9 <= idle < 3, idle


def test_keep_alive_default_is_75_seconds(start_server, tmp_path):
    """The effective setting as a gunicorn.conf.py hook reads it (server.cfg.keepalive); waiting
    75 s for the close is left to the behaviour test above with --keep-alive 1."""
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("def on_starting(server):\n"
                    "    server.log.info('keepalive is %r' % server.cfg.keepalive)\n")
    srv = start_server(args=["-c", str(conf)])
    srv.stderr.wait_for(r"keepalive is 75(\.0)?\b", 10)
    srv = start_server(args=["-c", str(conf), "--keep-alive", "9"])
    srv.stderr.wait_for(r"keepalive is 9(\.0)?\b", 10)
    # and as --print-config shows the effective settings
    out = subprocess.run([str(binary()), "--print-config", "testapp"], capture_output=True,
                         text=True, timeout=20, env=child_env()).stdout
    assert re.search(r"(?m)^keep-alive\s+= 75(\.0)?$", out), out


def test_pipelined_requests_are_answered_in_order(server):
    body = b"posted body"
    data = (req("GET", "/sleep-first/0")
            + req("GET", "/_t/sleep?ms=300")  # a slow one in the middle
            + req("POST", "/p/2", body=body)
            + req("POST", "/p/3", headers=[("Transfer-Encoding", "chunked")],
                  body=chunked(b"chunked body", [5]))
            + req("HEAD", "/p/4")
            + req("GET", "/p/5?x=1"))
    methods = ["GET", "GET", "POST", "POST", "HEAD", "GET"]
    with server.conn() as c:
        c.send(data)
        got = [c.read_final(m) for m in methods]
    assert all(r is not None and r.status == 200 for r in got), got
    assert got[0].json()["path_info"] == "/sleep-first/0"
    assert got[1].body == b"slept"
    assert got[2].json()["path_info"] == "/p/2"
    assert base64.b64decode(got[2].json()["body_b64"]) == body
    assert base64.b64decode(got[3].json()["body_b64"]) == b"chunked body"
    assert got[4].body == b"" and int(got[4].header("Content-Length")) > 0
    assert got[5].json()["query_string"] == "x=1"


def test_pipelined_burst_order_under_threads(server):
    """Many small pipelined requests sent in one write come back strictly in order."""
    n = 40
    with server.conn() as c:
        c.send(b"".join(req("GET", "/burst/%d" % i) for i in range(n)))
        paths = [c.read_final().json()["path_info"] for _ in range(n)]
    assert paths == ["/burst/%d" % i for i in range(n)]


def test_http10_closes_unless_keep_alive_is_asked(server):
    with server.conn() as c:
        resp = c.request("GET", "/ten", version="HTTP/1.0", host=None)
        assert resp.status == 200 and resp.json()["protocol"] == "HTTP/1.0"
        assert c.wait_closed(5), "HTTP/1.0 without keep-alive: the server kept the connection"
    with server.conn() as c:
        for i in range(3):
            resp = c.request("GET", "/ten-ka/%d" % i, headers=[("Connection", "keep-alive")],
                             version="HTTP/1.0", host=None)
            assert resp.status == 200, resp
            assert resp.json()["path_info"] == "/ten-ka/%d" % i
            assert "keep-alive" in (resp.header("Connection") or "").lower(), resp


def test_http10_response_without_length_is_close_delimited(server):
    with server.conn() as c:
        resp = c.request("GET", "/_t/chunks?parts=ab,,cd,e", version="HTTP/1.0", host=None)
        assert resp.status == 200
        assert resp.header("Transfer-Encoding") is None, "chunked sent to an HTTP/1.0 client"
        assert resp.body == b"abcde"
        assert c.at_eof(time.monotonic() + 5)


def test_head_has_get_headers_and_no_body(server):
    get = server.get("/_t/hello")
    with server.conn() as c:
        head = c.request("HEAD", "/_t/hello")
        # the next response must start right after HEAD's head: no body bytes in between
        nxt = c.request("GET", "/after-head")
    assert head.status == get.status == 200
    assert head.body == b""
    assert head.header("Content-Length") == get.header("Content-Length") == str(len(get.body))
    assert head.header("Content-Type") == get.header("Content-Type")
    assert nxt.status == 200 and nxt.json()["path_info"] == "/after-head", nxt


def test_head_on_a_chunked_response_keeps_the_connection_usable(server):
    with server.conn() as c:
        head = c.request("HEAD", "/_t/chunks?parts=a,b")
        nxt = c.request("GET", "/after-chunked-head")
    assert head.status == 200 and head.body == b""
    assert nxt.status == 200 and nxt.json()["path_info"] == "/after-chunked-head", nxt


def test_expect_100_continue(server):
    body = b"sent after 100"
    with server.conn() as c:
        c.send(req("POST", "/continue", headers=[("Expect", "100-continue"),
                                                  ("Content-Length", str(len(body)))]))
        interim = c.read_response()
        assert interim is not None and interim.status == 100, interim
        c.send(body)
        final = c.read_final("POST")
    assert final.status == 200
    assert base64.b64decode(final.json()["body_b64"]) == body


def test_expect_100_continue_refused_when_body_too_large(start_server):
    srv = start_server(args=["--max-request-body", "1000"])
    with srv.conn() as c:
        c.send(req("POST", "/big", headers=[("Expect", "100-continue"),
                                             ("Content-Length", "5000")]))
        resp = c.read_response()
        assert resp is not None and resp.status == 413, resp
    assert srv.stat("calls") == 0


@pytest.mark.parametrize("ext", [b";name=value", b";flag", b';q="quoted; value"'])
def test_chunked_request_with_extensions_and_trailers(server, ext):
    data = os.urandom(10000)
    body = chunked(data, [1, 100, 4000, 7], ext=ext,
                   trailers=b"X-Trailer: t\r\nX-Other: u\r\n")
    with server.conn() as c:
        resp = c.request("POST", "/_t/sha256", headers=[("Transfer-Encoding", "chunked")],
                         body=body)
    seen = resp.json()
    assert resp.status == 200, resp
    assert seen["sha256"] == hashlib.sha256(data).hexdigest()
    assert seen["length"] == len(data)
    assert seen["content_length"] == str(len(data))
    assert seen["input_terminated"] is True
    with server.conn() as c:
        resp = c.request("POST", "/chunked-echo", headers=[("Transfer-Encoding", "chunked")],
                         body=chunked(b"hello world", [5], trailers=b"X-Trailer: t\r\n"))
    headers = resp.json()["headers"]
    assert "HTTP_X_TRAILER" not in headers, "trailer fields were merged into the environ"
    assert headers["CONTENT_LENGTH"] == "11"


# RFC 9110 9.1: any token is a method, and methods are case-sensitive ("get" is not GET);
# WebDAV (RFC 3253, RFC 3648) and QUERY use methods llhttp does not list.
TOKEN_METHODS = ["ORDERPATCH", "VERSION-CONTROL", "BREW", "QUERY", "FOO", "get", "-bl",
                 "M!#$%&'*+.^_`|~"]


@pytest.mark.parametrize("method", TOKEN_METHODS)
def test_any_token_method_reaches_the_app(server, method):
    with server.conn() as c:
        resp = c.request(method, "/m?x=1", body=b"abc")
        assert resp.status == 200, "%r\nsent %s" % (resp, wire.show(c.sent))
        seen = resp.json()
        assert (seen["method"], seen["path_info"], seen["query_string"]) == (method, "/m", "x=1")
        assert base64.b64decode(seen["body_b64"]) == b"abc"
        # the connection stays in sync for the next request
        assert c.request("GET", "/after").json()["path_info"] == "/after"


def test_lowercase_head_is_not_head(server):
    """"head" is a method of its own (RFC 9110 9.1): its response carries a body."""
    with server.conn() as c:
        c.send(b"head /lower HTTP/1.1\r\nHost: test\r\n\r\n")
        resp = c.read_response(method="GET")
        assert resp.status == 200 and resp.json()["method"] == "head", resp
        assert c.request("GET", "/after").json()["path_info"] == "/after"


@pytest.mark.parametrize("ext", [b";a=b;c=d", b";a;b", b";a=b;c", b';a="b;c=d";e', b';a="x\\"y"',
                                 b";a=b;c=d;e=f;g=h", b" ;a=b", b"; a = b"])
def test_chunk_extension_lists_and_bws(server, ext):
    """RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
    so several extensions (values tokens or quoted strings) must be accepted, with any llhttp
    (llhttp 8 refused lists with values); whitespace around ';' and '=' is refused whole
    (conftest.CHUNK_EXT_LIMIT): then a 400, and the app is never called."""
    calls = server.stat("calls")
    with server.conn() as c:
        resp = c.request("POST", "/_t/sha256", headers=[("Transfer-Encoding", "chunked")],
                         body=chunked(b"hello world", [5], ext=ext))
    if chunk_ext_refused(ext):
        assert resp.status == 400, "%r (%s)" % (resp, CHUNK_EXT_LIMIT)
        assert server.stat("calls") == calls  # the app never saw it
        return
    assert resp.status == 200, "%r\nsent %s" % (resp, wire.show(c.sent))
    assert resp.json()["sha256"] == hashlib.sha256(b"hello world").hexdigest()


@pytest.mark.parametrize("ext", [b";", b";=b", b";a=", b";a=b=c", b';a="open', b";a=\x01",
                                 b';a="b"c', b";a;;b"])
def test_malformed_chunk_extension_is_refused(server, ext):
    calls = server.stat("calls")
    with server.conn() as c:
        resp = c.request("POST", "/_t/sha256", headers=[("Transfer-Encoding", "chunked")],
                         body=chunked(b"hello world", [5], ext=ext))
        assert resp.status == 400, "%r\nsent %s" % (resp, wire.show(c.sent))
        assert c.wait_closed(5)
    assert server.stat("calls") == calls


def test_chunked_response_when_app_gives_no_length(server):
    with server.conn() as c:
        c.send(req("GET", "/_t/chunks?parts=one,,two,three"))
        resp = c.read_final()
        assert resp.header("Transfer-Encoding") == "chunked", resp
        assert resp.header("Content-Length") is None
        assert resp.body == b"onetwothree" and resp.complete
        # the empty part must not have ended the body early: the connection is still in sync
        assert c.request("GET", "/after-chunks").json()["path_info"] == "/after-chunks"
    # the raw framing ends with the last-chunk
    assert resp.raw.endswith(b"0\r\n\r\n"), wire.show(resp.raw)


def test_date_and_server_headers(server):
    resp = server.get("/_t/hello")
    date = resp.header("Date")
    assert date, resp
    when = email.utils.parsedate_to_datetime(date)
    assert when.tzinfo is not None and abs(when.timestamp() - time.time()) < 60, date
    assert date.endswith(" GMT")
    assert (resp.header("Server") or "").startswith("wsgihost"), resp
    assert len(resp.header_all("Date")) == 1 and len(resp.header_all("Server")) == 1


def test_connection_close_from_client(server):
    with server.conn() as c:
        resp = c.request("GET", "/bye", headers=[("Connection", "close")])
        assert resp.status == 200
        assert (resp.header("Connection") or "").lower() == "close", resp
        assert c.wait_closed(5), "the server kept the connection after Connection: close"


def test_connection_close_from_app(server):
    with server.conn() as c:
        resp = c.request("GET", "/_t/conn-close")
        assert resp.status == 200 and resp.body == b"closing"
        assert (resp.header("Connection") or "").lower() == "close", resp
        assert c.wait_closed(5), "the app asked for Connection: close; the server kept it open"


def test_request_then_half_close_still_answered(server):
    """A client that sends a request and shuts down its write side still gets the answer."""
    got, closed = wire.exchange(server.address, req("GET", "/half-closed"), half_close=True)
    responses = wire.parse_all(got)
    assert closed and len(responses) == 1, wire.show(got)
    assert responses[0].json()["path_info"] == "/half-closed"


@pytest.mark.parametrize("size", [1 << 20, 3 * (1 << 20) + 17])
def test_large_body_with_content_length(server, size):
    data = random.Random(size).randbytes(size)
    with server.conn(timeout=30) as c:
        resp = c.request("POST", "/_t/sha256", body=data)
    seen = resp.json()
    assert (seen["length"], seen["sha256"]) == (size, hashlib.sha256(data).hexdigest())
    assert seen["content_length"] == str(size)


def test_large_chunked_body(server):
    size = 3 * (1 << 20) + 5
    data = random.Random(7).randbytes(size)
    with server.conn(timeout=30) as c:
        resp = c.request("POST", "/_t/sha256", headers=[("Transfer-Encoding", "chunked")],
                         body=chunked(data, [65536, 1, 12345, 300000]))
    seen = resp.json()
    assert (seen["length"], seen["sha256"]) == (size, hashlib.sha256(data).hexdigest())
    assert seen["content_length"] == str(size)


def test_large_spooled_body_supports_readline(server):
    """A body above the in-memory threshold is read back line by line through wsgi.input."""
    lines = [b"line %d %s\n" % (i, b"x" * (i % 97)) for i in range(40000)]
    data = b"".join(lines)
    assert len(data) > 1 << 20
    with server.conn(timeout=30) as c:
        resp = c.request("POST", "/_t/input?ops=readline,readline:5,readlines", body=data)
    r = resp.json()["results"]
    assert base64.b64decode(r[0]) == lines[0]
    assert base64.b64decode(r[1]) == lines[1][:5]
    rest = [base64.b64decode(x) for x in r[2]]
    assert b"".join(rest) == data[len(lines[0]) + 5:]


def test_large_response_with_content_length(server):
    size = 5 * (1 << 20) + 3
    with server.conn(timeout=30) as c:
        resp = c.request("GET", "/_t/large?size=%d" % size)
    assert resp.status == 200 and resp.header("Content-Length") == str(size)
    assert hashlib.sha256(resp.body).hexdigest() == hashlib.sha256(pattern(size)).hexdigest()


def test_http_client_interoperates(server):
    """The standard library's client agrees with the raw parser."""
    status, headers, body = http_get(server, "/_t/hello")
    assert status == 200 and body == b"Hello, World!\n"
    assert headers["Content-Length"] == str(len(body))


def test_many_connections_at_once(server):
    conns = [server.conn() for _ in range(50)]
    try:
        for i, c in enumerate(conns):
            c.send(req("GET", "/many/%d" % i))
        paths = [c.read_final().json()["path_info"] for c in conns]
    finally:
        for c in conns:
            c.close()
    assert paths == ["/many/%d" % i for i in range(50)]
    wait_until(lambda: server.get("/_t/hello").status == 200, 5, "the server to answer again")


def test_tcp_nodelay(server):
    """Read from the worker's own accepted socket (a client cannot see the option)."""
    with server.conn() as c:
        assert c.request("GET", "/_t/hello").status == 200
        with server_side(server, c.sock) as accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
