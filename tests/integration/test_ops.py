"""Operations: access log formats, trusted proxies, the PROXY protocol, request IDs and the
Prometheus metrics, against the real binary on loopback (tests/apps/opsapp.py)."""

import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

import wire
from conftest import binary, child_env, wait_until, APPS
from support import metrics_url, samples, scrape

APP = "opsapp:application"

# gunicorn's combined line, as gunicorn writes it.
COMBINED = re.compile(r'^(?P<h>\S+) (?P<l>\S+) (?P<u>\S+) \[(?P<t>[^\]]+)\] "(?P<r>[^"]*)" '
                      r'(?P<s>\d{3}) (?P<b>\S+) "(?P<f>(?:[^"\\]|\\.)*)" "(?P<a>(?:[^"\\]|\\.)*)"$')


def lines_with(output, needle, count=1, timeout=10):
    """The output's lines containing `needle`, once there are `count` of them."""
    def found():
        got = [l for l in output.text().splitlines() if needle in l]
        return got if len(got) >= count else None
    return wait_until(found, timeout, "%d line(s) with %r" % (count, needle))


def app_view(srv, headers=(), target="/"):
    resp = srv.get(target, headers=headers)
    assert resp.status == 200, resp
    return resp.json()


# ---- access log ----------------------------------------------------------------------------

def test_default_access_line_is_gunicorns_combined(start_server):
    srv = start_server(app=APP, args=["--access-logfile", "-"])
    resp = srv.get("/status?code=201&x=combined", headers=[("Referer", "http://ref/"),
                                                           ("User-Agent", 'agent "quoted"')])
    assert resp.status == 201
    line = lines_with(srv.stdout, "x=combined")[0]
    m = COMBINED.match(line)
    assert m, line
    assert m["h"] == "127.0.0.1" and m["l"] == "-" and m["u"] == "-"
    assert re.fullmatch(r"\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}", m["t"]), m["t"]
    assert m["r"] == "GET /status?code=201&x=combined HTTP/1.1"
    assert m["s"] == "201" and m["b"] == str(len(resp.body))
    assert m["f"] == "http://ref/"
    assert m["a"] == 'agent \\"quoted\\"'  # gunicorn escapes quotes the same way


def test_access_logformat_atoms(start_server):
    fmt = ('%(h)s|%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(D)s|%(M)s|%(L)s|%({x-trace}i)s|'
           '%({content-type}o)s|%({nope}i)s|%(u)s|%(p)s|%({X-Not-Sent}o)s|%({CONTENT-LENGTH}o)s')
    srv = start_server(app=APP, args=["--access-logfile", "-", "--access-logformat", fmt])
    srv.get("/status?code=200&q=atoms", headers=[("X-Trace", "t-1"),
                                                 ("Authorization", "Basic YWxpY2U6c2VjcmV0")])
    line = lines_with(srv.stdout, "q=atoms")[0]
    f = line.split("|")
    assert f[:8] == ["127.0.0.1", "GET", "/status", "code=200&q=atoms", "HTTP/1.1", "200", "10",
                     f[7]]
    duration_us = int(f[7])
    assert 0 < duration_us < 10_000_000
    assert int(f[8]) == duration_us // 1000
    assert re.fullmatch(r"\d+\.\d{6}", f[9])
    assert f[10] == "t-1"
    assert f[11] == "text/plain"  # the app's response header (names are case-insensitive)
    assert f[12] == "-"
    assert f[13] == "alice"
    assert re.fullmatch(r"<\d+>", f[14])
    assert f[15] == "-"  # a header the response does not have
    assert f[16] == "10"


def test_access_logformat_response_headers_as_sent(start_server):
    """{Name}o shows the response as it went out: the X-Request-ID the server added, or the
    app's own; hop-by-hop headers are never sent, so never shown."""
    fmt = '%(U)s|%(q)s|%({x-request-id}o)s|%({connection}o)s|%({Content-Type}o)s'
    srv = start_server(app=APP, args=["--access-logfile", "-", "--access-logformat", fmt,
                                      "--request-id"])
    resp = srv.get("/?mine=1")
    own = srv.get("/rid?app=1")
    mine = lines_with(srv.stdout, "mine=1")[0].split("|")
    assert mine[2] == resp.header("X-Request-ID") and re.fullmatch(r"[0-9a-f]{16}", mine[2])
    assert mine[3:] == ["-", "text/plain"]
    assert own.header("X-Request-ID") == "app-chosen"
    assert lines_with(srv.stdout, "app=1")[0].split("|")[2] == "app-chosen"


def test_access_logformat_response_header_values(start_server):
    """gunicorn's meaning for a repeated header (the last one), values escaped like other
    atoms, and a bounded copy: long values are cut at 1024 bytes."""
    fmt = '%(q)s|%({x-twice}o)s|%({x-quote}o)s|%({x-long}o)s'
    srv = start_server(app=APP, args=["--access-logfile", "-", "--access-logformat", fmt])
    assert srv.get("/headers?hv=1").status == 200
    f = lines_with(srv.stdout, "hv=1")[0].split("|")
    assert f[1:] == ["second", 'say \\"hi\\"', "a" * 1024]


def test_access_logformat_response_headers_of_the_server(start_server, tmp_path):
    """Static files show the headers the loop sent; an app that fails before start_response
    gets the server's 500, whose Content-Type shows."""
    (tmp_path / "a.css").write_text("body{}")
    fmt = '%(U)s|%(s)s|%({content-type}o)s|%({cache-control}o)s'
    srv = start_server(app="testapp:application",
                       args=["--access-logfile", "-", "--access-logformat", fmt,
                             "--static", "/s/=%s" % tmp_path])
    resp = srv.get("/s/a.css")
    assert resp.status == 200
    assert srv.get("/_t/raise").status == 500
    line = lines_with(srv.stdout, "/s/a.css")[0].split("|")
    assert line[1:] == ["200", resp.header("Content-Type"), resp.header("Cache-Control")]
    assert lines_with(srv.stdout, "/_t/raise")[0].split("|")[1:] == [
        "500", "text/plain; charset=utf-8", "-"]


def test_access_and_error_logs_as_json(start_server):
    srv = start_server(app=APP, args=["--access-logfile", "-", "--log-format", "json",
                                      "--request-id"])
    srv.get("/status?code=404&json=1", headers=[("User-Agent", "ua\u00e9")])
    line = lines_with(srv.stdout, "json=1")[0]
    doc = json.loads(line)
    assert doc["type"] == "access"
    assert doc["remote_addr"] == "127.0.0.1"
    assert doc["method"] == "GET" and doc["uri"] == "/status?code=404&json=1"
    assert doc["protocol"] == "HTTP/1.1" and doc["status"] == 404
    assert doc["bytes"] == len(b"status 404")
    assert doc["referer"] is None and doc["user_agent"] == "ua\u00e9"
    assert isinstance(doc["duration_us"], int) and doc["duration_us"] >= 0
    assert re.fullmatch(r"[0-9a-f]{16}", doc["request_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", doc["time"])
    assert doc["pid"] != srv.pid  # a worker wrote it
    srv.stop()
    err_lines = [l for l in srv.stderr.text().splitlines() if l.strip()]
    assert err_lines, "no error log"
    docs = [json.loads(l) for l in err_lines]  # every line is one JSON object
    assert all(set(d) == {"time", "level", "pid", "message"} for d in docs)
    assert any(d["message"].startswith("Listening at: http://127.0.0.1:") for d in docs)
    assert {d["level"] for d in docs} <= {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def test_json_error_log_wraps_tracebacks(start_server):
    srv = start_server(app="testapp:application", args=["--log-format", "json"])
    assert srv.get("/_t/raise").status == 500
    def traceback_line():
        for l in srv.stderr.text().splitlines():
            doc = json.loads(l)
            if "Traceback" in doc["message"]:
                return doc
    doc = wait_until(traceback_line, 10, "the traceback as one JSON line")
    assert "\n" in doc["message"] and doc["level"] == "ERROR"


def test_usr1_reopens_the_access_log(start_server, tmp_path):
    log, old = tmp_path / "access.log", tmp_path / "access.log.1"
    srv = start_server(app=APP, args=["--access-logfile", str(log)])
    srv.get("/?before=rotate")
    wait_until(lambda: "before=rotate" in log.read_text(), 10, "the first line")
    log.rename(old)
    srv.send_signal(signal.SIGUSR1)
    # Reopening is asynchronous: numbered requests until one lands in the new file.
    probes = iter(range(1000))

    def reopened():
        srv.get("/?probe=%d" % next(probes))
        return log.exists() and "probe=" in log.read_text()
    wait_until(reopened, 10, "a line in the reopened file", interval=0.05)
    for i in range(5):
        srv.get("/?after=%d" % i)
    wait_until(lambda: "after=4" in log.read_text(), 10, "the later lines in the new file")
    new_text, old_text = log.read_text(), old.read_text()
    assert all("after=%d" % i in new_text for i in range(5)), new_text
    assert "after=" not in old_text, old_text
    # Every line once, and the switch happened once: old probes all precede the new ones.
    in_old = [int(p) for p in re.findall(r"probe=(\d+)", old_text)]
    in_new = [int(p) for p in re.findall(r"probe=(\d+)", new_text)]
    assert in_new and not set(in_old) & set(in_new), (in_old, in_new)
    assert not in_old or max(in_old) < min(in_new), (in_old, in_new)
    assert "before=rotate" in old_text and "before=rotate" not in new_text


@pytest.mark.parametrize("args, message", [
    (["--access-logformat", "%(h"], "invalid --access-logformat"),
    (["--log-format", "xml"], "invalid --log-format"),
    (["--forwarded-allow-ips", "10.0.0.0/33"], "invalid --forwarded-allow-ips"),
    (["--real-ip-from", "example.com"], "invalid --real-ip-from"),
    (["--real-ip-header", "X-Real-IP"], "invalid --real-ip-header"),
    (["--proxy-allow-from", "1.2.3"], "invalid --proxy-allow-from"),
])
def test_bad_settings_stop_at_once(args, message):
    proc = subprocess.run([binary(), "--pythonpath", str(APPS)] + args + [APP],
                          capture_output=True, text=True, timeout=30, env=child_env())
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


# ---- proxies ------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [("X-Forwarded-Proto", "https"), ("X-Forwarded-Ssl", "on"),
                                    ("X-Forwarded-Protocol", "ssl"),
                                    ("x-forwarded-proto", "HTTPS")])
def test_scheme_from_trusted_proxy(server_ops, header):
    assert app_view(server_ops, [header])["wsgi.url_scheme"] == "https"


def test_scheme_http_when_no_header_or_http(server_ops):
    assert app_view(server_ops)["wsgi.url_scheme"] == "http"
    assert app_view(server_ops, [("X-Forwarded-Proto", "http")])["wsgi.url_scheme"] == "http"


def test_contradictory_scheme_headers_are_refused(server_ops):
    resp = server_ops.get("/", headers=[("X-Forwarded-Proto", "https"),
                                        ("X-Forwarded-Ssl", "off")])
    assert resp.status == 400


@pytest.fixture(scope="module")
def server_ops():
    from conftest import Server
    srv = Server(app=APP)
    yield srv
    srv.stop()


def test_untrusted_peer_scheme_headers_are_ignored(start_server):
    srv = start_server(app=APP, args=["--forwarded-allow-ips", "10.0.0.1, 192.168.0.0/16"])
    view = app_view(srv, [("X-Forwarded-Proto", "https"), ("X-Forwarded-Ssl", "off")])
    assert view["wsgi.url_scheme"] == "http"  # not even the contradiction counts


def test_forwarded_allow_ips_from_environment(start_server):
    srv = start_server(app=APP, env={"FORWARDED_ALLOW_IPS": "10.9.9.9"})
    assert app_view(srv, [("X-Forwarded-Proto", "https")])["wsgi.url_scheme"] == "http"
    srv2 = start_server(app=APP, env={"FORWARDED_ALLOW_IPS": "10.9.9.9"},
                        args=["--forwarded-allow-ips", "*"])
    assert app_view(srv2, [("X-Forwarded-Proto", "https")])["wsgi.url_scheme"] == "https"


def test_real_ip_from_x_forwarded_for(start_server):
    srv = start_server(app=APP, args=["--real-ip-header", "X-Forwarded-For",
                                      "--real-ip-from", "127.0.0.1,10.0.0.0/8",
                                      "--access-logfile", "-"])
    view = app_view(srv, [("X-Forwarded-For", "1.1.1.1, 203.0.113.9, 10.1.1.1")],
                    target="/?realip=1")
    assert view["REMOTE_ADDR"] == "203.0.113.9"
    assert view["HTTP_X_FORWARDED_FOR"] == "1.1.1.1, 203.0.113.9, 10.1.1.1"
    assert lines_with(srv.stdout, "realip=1")[0].startswith("203.0.113.9 - - [")
    # No header: the peer itself.
    assert app_view(srv)["REMOTE_ADDR"] == "127.0.0.1"


def test_real_ip_ignored_from_untrusted_peer(start_server):
    srv = start_server(app=APP, args=["--real-ip-header", "X-Forwarded-For",
                                      "--real-ip-from", "10.0.0.0/8"])
    assert app_view(srv, [("X-Forwarded-For", "203.0.113.9")])["REMOTE_ADDR"] == "127.0.0.1"


def test_real_ip_from_forwarded_header(start_server):
    srv = start_server(app=APP, args=["--real-ip-header", "Forwarded"])
    view = app_view(srv, [("Forwarded", 'for="[2001:db8::7]:4711";proto=https, for=127.0.0.1')])
    assert view["REMOTE_ADDR"] == "2001:db8::7"
    assert view["REMOTE_PORT"] == "4711"


def test_forwarded_is_parsed_strictly(start_server):
    """RFC 7239: an element that does not parse (a parameter twice, a port past 65535,
    whitespace around '=') gives nothing; the walk stops at the trusted proxy before it."""
    srv = start_server(app=APP, args=["--real-ip-header", "Forwarded"])
    for value in ["for=198.51.100.1;for=198.51.100.2, for=127.0.0.1",
                  'for="198.51.100.1:99999", for=127.0.0.1',
                  "for = 198.51.100.1, for=127.0.0.1"]:
        view = app_view(srv, [("Forwarded", value)])
        assert view["REMOTE_ADDR"] == "127.0.0.1", (value, view)
        assert view["REMOTE_PORT"] != "99999", (value, view)
    view = app_view(srv, [("Forwarded", 'for="198.51.100.1:8080";proto=https, for=127.0.0.1')])
    assert (view["REMOTE_ADDR"], view["REMOTE_PORT"]) == ("198.51.100.1", "8080")


# ---- PROXY protocol -------------------------------------------------------------------------

def v2_header(cmd=0x21, fam=0x11, body=b""):
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([cmd, fam]) + struct.pack("!H", len(body)) + body)


def get_bytes(target="/", extra=b""):
    return b"GET " + target.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


def test_proxy_v1_sets_the_client_address(start_server):
    srv = start_server(app=APP, args=["--proxy-protocol", "--access-logfile", "-"])
    with srv.conn() as c:
        c.send(b"PROXY TCP4 192.0.2.44 198.51.100.1 40001 8000\r\n" + get_bytes("/?pp=v1"))
        resp = c.read_final("GET")
        assert resp.status == 200, resp
        assert resp.json()["REMOTE_ADDR"] == "192.0.2.44"
        assert resp.json()["REMOTE_PORT"] == "40001"
        # Keep-alive: the next request on the connection has the same client.
        c.send(get_bytes())
        assert c.read_final("GET").json()["REMOTE_ADDR"] == "192.0.2.44"
    assert lines_with(srv.stdout, "pp=v1")[0].startswith("192.0.2.44 ")


def test_proxy_v1_in_pieces(start_server):
    srv = start_server(app=APP, args=["--proxy-protocol"])
    with srv.conn() as c:
        for piece in (b"PRO", b"XY TCP6 2001:db8::9 2001:db8::1 ", b"5 80\r", b"\n"):
            c.send(piece)
        c.send(get_bytes())
        assert c.read_final("GET").json()["REMOTE_ADDR"] == "2001:db8::9"


def test_proxy_v2_ipv4_ipv6_and_local(start_server):
    srv = start_server(app=APP, args=["--proxy-protocol"])
    v4 = socket.inet_aton("203.0.113.5") + socket.inet_aton("127.0.0.1") + struct.pack("!HH", 51000, 80)
    tlv = b"\x04\x00\x02ab"
    with srv.conn() as c:
        c.send(v2_header(body=v4 + tlv) + get_bytes())
        view = c.read_final("GET").json()
        assert (view["REMOTE_ADDR"], view["REMOTE_PORT"]) == ("203.0.113.5", "51000")
    v6 = (socket.inet_pton(socket.AF_INET6, "2001:db8::33") + socket.inet_pton(socket.AF_INET6, "::1")
          + struct.pack("!HH", 7, 80))
    with srv.conn() as c:
        c.send(v2_header(fam=0x21, body=v6) + get_bytes())
        assert c.read_final("GET").json()["REMOTE_ADDR"] == "2001:db8::33"
    with srv.conn() as c:  # LOCAL: the balancer's own health check
        c.send(v2_header(cmd=0x20, fam=0x00) + get_bytes())
        assert c.read_final("GET").json()["REMOTE_ADDR"] == "127.0.0.1"


@pytest.mark.parametrize("data", [
    get_bytes(),                                            # plain HTTP
    b"PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n" + get_bytes(),  # a field missing
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" + get_bytes(),       # bare LF
    b"\r\n\r\n\x00\r\nQUIT\n\x11\x11\x00\x00" + get_bytes(),  # v2 with version 1
    b"\x00" * 64,
])
def test_proxy_garbage_closes_without_answer(start_server, data):
    srv = start_server(app=APP, args=["--proxy-protocol"])
    received, closed = wire.exchange(srv.address, data)
    assert closed and received == b""
    with srv.conn() as c:  # the server still serves PROXY clients
        c.send(b"PROXY UNKNOWN\r\n" + get_bytes())
        assert c.read_final("GET").status == 200


def test_proxy_peer_not_allowed_is_closed(start_server):
    srv = start_server(app=APP, args=["--proxy-protocol", "--proxy-allow-from", "10.0.0.0/8"])
    received, closed = wire.exchange(srv.address, b"PROXY UNKNOWN\r\n" + get_bytes())
    assert closed and received == b""
    lines_with(srv.stderr, "not in --proxy-allow-from")


def test_proxy_client_is_what_trust_is_decided_on(start_server):
    # 127.0.0.1 (the balancer) is trusted, but the client it names is not: the client's
    # X-Forwarded-Proto passed through a layer-4 balancer untouched and must not count.
    srv = start_server(app=APP, args=["--proxy-protocol"])
    with srv.conn() as c:
        c.send(b"PROXY TCP4 192.0.2.1 127.0.0.1 1000 80\r\n" +
               get_bytes(extra=b"X-Forwarded-Proto: https\r\n"))
        assert c.read_final("GET").json()["wsgi.url_scheme"] == "http"
    with srv.conn() as c:
        c.send(b"PROXY TCP4 127.0.0.1 127.0.0.1 1000 80\r\n" +
               get_bytes(extra=b"X-Forwarded-Proto: https\r\n"))
        assert c.read_final("GET").json()["wsgi.url_scheme"] == "https"


# ---- request IDs ----------------------------------------------------------------------------

def test_request_id_generated(start_server):
    fmt = '%(h)s "%(r)s" %(s)s rid=%({request_id}x)s'
    srv = start_server(app=APP, args=["--request-id", "--access-logfile", "-",
                                      "--access-logformat", fmt])
    resp = srv.get("/?rid=gen")
    rid = resp.header("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{16}", rid), resp
    assert resp.json()["HTTP_X_REQUEST_ID"] == rid
    assert lines_with(srv.stdout, "rid=gen")[0].endswith("rid=" + rid)
    ids = {srv.get("/").header("X-Request-ID") for _ in range(20)}
    assert len(ids) == 20


def test_request_id_kept_from_trusted_proxy(start_server):
    srv = start_server(app=APP, args=["--request-id"])
    resp = srv.get("/", headers=[("X-Request-ID", "lb-1234_abc")])
    assert resp.header("X-Request-ID") == "lb-1234_abc"
    assert resp.json()["HTTP_X_REQUEST_ID"] == "lb-1234_abc"
    # Not sane (a space): replaced.
    resp = srv.get("/", headers=[("X-Request-ID", "two words")])
    assert re.fullmatch(r"[0-9a-f]{16}", resp.header("X-Request-ID"))
    assert resp.json()["HTTP_X_REQUEST_ID"] == resp.header("X-Request-ID")


def test_request_id_from_untrusted_client_is_replaced(start_server):
    srv = start_server(app=APP, args=["--request-id", "--forwarded-allow-ips", "10.0.0.1"])
    resp = srv.get("/", headers=[("X-Request-ID", "forged")])
    rid = resp.header("X-Request-ID")
    assert rid != "forged" and re.fullmatch(r"[0-9a-f]{16}", rid)
    assert resp.json()["HTTP_X_REQUEST_ID"] == rid
    assert resp.header_all("X-Request-ID") == [rid]


def test_request_id_app_header_wins_and_off_by_default(start_server):
    srv = start_server(app=APP, args=["--request-id"])
    assert srv.get("/rid").header_all("X-Request-ID") == ["app-chosen"]
    plain = start_server(app=APP)
    resp = plain.get("/", headers=[("X-Request-ID", "client")])
    assert resp.header("X-Request-ID") is None
    assert resp.json()["HTTP_X_REQUEST_ID"] == "client"  # just a header then


# ---- metrics --------------------------------------------------------------------------------

def test_metrics_across_two_workers(start_server):
    srv = start_server(app=APP, args=["--workers", "2", "--metrics-bind", "127.0.0.1:0"],
                       env={"WEB_CONCURRENCY": "2"})
    lines_with(srv.stderr, "Worker ready", count=2)
    pids = set()
    # Four connections open at once: the fair accept spreads them over both workers.
    conns = [srv.conn() for _ in range(4)]
    try:
        for c in conns:
            for _ in range(3):
                resp = c.request("GET", "/")
                assert resp.status == 200
                pids.add(resp.json()["pid"])
        for c in conns[:2]:
            assert c.request("POST", "/status?code=404", body=b"x").status == 404
    finally:
        for c in conns:
            c.close()
    assert len(pids) == 2, "both workers should have served: %s" % pids
    received, _ = wire.exchange(srv.address, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 400")

    def settled():
        s = samples(srv)
        return s if s.get('wsgihost_requests_in_flight') == 0 else None
    s = wait_until(settled, 10, "no request in flight")
    assert s['wsgihost_requests_total{handler="app",method="GET",status="2xx"}'] == 12
    assert s['wsgihost_requests_total{handler="app",method="POST",status="4xx"}'] == 2
    assert s['wsgihost_requests_total{handler="error",method="other",status="4xx"}'] == 1
    assert s['wsgihost_request_duration_seconds_count{handler="app"}'] == 14
    assert s['wsgihost_request_duration_seconds_bucket{handler="app",le="+Inf"}'] == 14
    assert s['wsgihost_request_duration_seconds_sum{handler="app"}'] > 0
    assert s['wsgihost_response_bytes_total{handler="app"}'] > 14 * 100
    assert s['wsgihost_response_bytes_total{handler="error"}'] > 0
    assert s['wsgihost_connections_total'] == 5
    assert s['wsgihost_workers{state="ready"}'] == 2
    assert s['wsgihost_worker_restarts_total'] == 0
    # Other paths and methods.
    assert scrape(srv, "/other").status == 404
    assert scrape(srv, "/metrics", "POST").status == 405
    head = scrape(srv, "/metrics", "HEAD")
    assert head.status == 200 and head.body == b""


def test_metrics_in_flight_queue_and_restarts(start_server, tmp_path):
    release = tmp_path / "release"
    srv = start_server(app=APP, args=["--threads", "1", "--metrics-bind", "127.0.0.1:0"])
    lines_with(srv.stderr, "Worker ready")
    conns = [srv.conn() for _ in range(3)]
    try:
        for c in conns:
            c.send(b"GET /block?f=%s HTTP/1.1\r\nHost: t\r\n\r\n" % str(release).encode())
        # One request holds the only Python thread, two wait for it.
        wait_until(lambda: (lambda s: s["wsgihost_requests_in_flight"] == 3 and
                            s["wsgihost_app_queue_depth"] == 2)(samples(srv)),
                   10, "3 in flight, 2 queued", interval=0.1)
        release.write_text("go")
        for c in conns:
            assert c.read_final("GET").body == b"released"
    finally:
        for c in conns:
            c.close()
    wait_until(lambda: samples(srv)["wsgihost_requests_in_flight"] == 0, 10, "in flight 0")
    before = samples(srv)
    assert before['wsgihost_requests_total{handler="app",method="GET",status="2xx"}'] == 3
    # A worker killed: replaced, counted, and its counts are kept.
    worker = int(re.search(r"Booting worker with pid: (\d+)", srv.stderr.text()).group(1))
    os.kill(worker, signal.SIGKILL)
    wait_until(lambda: samples(srv)["wsgihost_worker_restarts_total"] == 1, 15, "a restart")
    lines_with(srv.stderr, "Worker ready", count=2, timeout=20)
    after = samples(srv)
    assert after['wsgihost_requests_total{handler="app",method="GET",status="2xx"}'] == 3
    assert after["wsgihost_connections_total"] == before["wsgihost_connections_total"]


def test_metrics_static_and_probe_split(start_server, tmp_path):
    (tmp_path / "a.txt").write_text("static body")
    srv = start_server(app=APP, args=["--static", "/s/=%s" % tmp_path, "--health-path", "/healthz",
                                      "--metrics-bind", "127.0.0.1:0"])
    assert srv.get("/s/a.txt").body == b"static body"
    assert srv.get("/s/a.txt", method="HEAD").status == 200
    assert srv.get("/healthz").status == 200
    assert srv.get("/").status == 200
    s = wait_until(lambda: (lambda s: s if s.get("wsgihost_requests_in_flight") == 0 else None)(
        samples(srv)), 10, "settled")
    assert s['wsgihost_requests_total{handler="static",method="GET",status="2xx"}'] == 1
    assert s['wsgihost_requests_total{handler="static",method="HEAD",status="2xx"}'] == 1
    assert s['wsgihost_requests_total{handler="probe",method="GET",status="2xx"}'] == 1
    assert s['wsgihost_requests_total{handler="app",method="GET",status="2xx"}'] == 1
    assert s['wsgihost_response_bytes_total{handler="static"}'] > len("static body")


HELD_IDLE = 3000  # connections opened to the metrics port and never used
HALF_SENT = 8  # requests left unfinished, renewed within the old 5 s deadline
RENEW_SECONDS = 4.5
SCRAPES = 20
SCRAPE_LIMIT = 1.0  # seconds each scrape may take
SCRAPE_INTERVAL = 0.5  # pacing, so the scrapes span two renewals


def hold_half_sent(address, stop):
    """Keeps HALF_SENT requests half sent, opening a fresh set every RENEW_SECONDS (bounded)."""
    held = []
    for _ in range(100):
        fresh = []
        for _ in range(HALF_SENT):
            try:
                s = socket.create_connection(address, timeout=2)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: m\r\n")
                fresh.append(s)
            except OSError:
                continue  # evicted or refused: the attack goes on
        for s in held:
            s.close()
        held = fresh
        if stop.wait(RENEW_SECONDS):
            break
    for s in held:
        s.close()


def test_metrics_answer_while_connections_are_held(start_server):
    """The scrape endpoint answers while someone holds connections to it: 3,000 idle ones plus
    8 half-sent requests renewed every 4.5 s; every one of 20 scrapes comes back within 1 s."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = HELD_IDLE + 256
    assert hard >= need, "the test needs %d file descriptors (ulimit -Hn is %d)" % (need, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    idle, stop = [], threading.Event()
    try:
        srv = start_server(app=APP, args=["--metrics-bind", "127.0.0.1:0"])
        address = metrics_url(srv)
        for _ in range(HELD_IDLE):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(address)  # not waited for: a full backlog must not stall the test
            idle.append(s)
        attacker = threading.Thread(target=hold_half_sent, args=(address, stop), daemon=True)
        attacker.start()
        slow = []
        for _ in range(SCRAPES):
            started = time.monotonic()
            try:
                with wire.Conn(address, SCRAPE_LIMIT) as c:
                    resp = c.request("GET", "/metrics", host="m")
                ok = resp is not None and resp.status == 200
            except OSError as e:
                ok, resp = False, e
            took = time.monotonic() - started
            if not ok or took > SCRAPE_LIMIT:
                slow.append((round(took, 2), resp))
            time.sleep(SCRAPE_INTERVAL)
        assert slow == [], "%d of %d scrapes failed or took over %gs: %s" % (
            len(slow), SCRAPES, SCRAPE_LIMIT, slow[:5])
    finally:
        stop.set()
        for s in idle:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_metrics_bind_in_use_fails(start_server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        proc = subprocess.run([binary(), "--bind", "127.0.0.1:0", "--pythonpath", str(APPS),
                               "--metrics-bind", "127.0.0.1:%d" % port, APP],
                              capture_output=True, text=True, timeout=30, env=child_env())
    assert proc.returncode != 0
    assert "--metrics-bind" in proc.stderr
