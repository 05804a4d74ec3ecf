#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/<target>/seed-*.

Run it again after changing the sources below; it replaces the seed-* files and leaves the
inputs fuzzing found (the other files, merged in by `tests/fuzz/run --merge`) alone.

The HTTP seeds are the raw bytes of gunicorn's request corpus
(/work/shared/conformance/gunicorn-requests.json, or $WSGIHOST_CONFORMANCE), the bad requests
of tests/integration/test_strict.py, and the requests in EXTRA_REQUESTS below (smuggling
classics, spooled bodies, pipelining, Expect, Upgrade, limits). tests/smuggling/ replays the
same list (raw_requests()).
"""

import ast
import base64
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONFORMANCE = Path(os.environ.get("WSGIHOST_CONFORMANCE")
                   or REPO.parent / "shared" / "conformance" / "gunicorn-requests.json")

H = b"Host: test\r\n"
BIG = b"x" * 3000

# name: raw bytes a client sends (one connection).
EXTRA_REQUESTS = {
    "get": b"GET / HTTP/1.1\r\n" + H + b"\r\n",
    "get-query": b"GET /a/b%20c?x=1&y=%41#frag HTTP/1.1\r\n" + H + b"\r\n",
    "get-http10": b"GET /a HTTP/1.0\r\n\r\n",
    "get-http10-keepalive": b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
    "head": b"HEAD /a HTTP/1.1\r\n" + H + b"\r\n",
    "options-asterisk": b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n",
    "absolute-form": b"GET http://example.com:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n",
    "absolute-form-no-path": b"GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "absolute-form-userinfo": b"GET http://u@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "absolute-form-https-upper": b"GET HTTPS://example.com/p HTTP/1.1\r\nHost: x\r\n\r\n",
    "absolute-form-other-scheme": b"GET htp://a/ HTTP/1.1\r\nHost: a\r\n\r\nGET /s HTTP/1.1\r\n" + H + b"\r\n",
    "host-ipv6": b"GET / HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n",
    "host-empty": b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
    "underscore-header": b"GET / HTTP/1.1\r\n" + H + b"X_Forwarded_For: evil\r\nX-Forwarded-For: good\r\n\r\n",
    "repeated-headers": b"GET / HTTP/1.1\r\n" + H + b"Accept: a\r\nAccept: b\r\nCookie: x=1\r\nCookie: y=2\r\n\r\n",
    "post-cl": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello",
    "post-cl-zero": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n",
    "post-cl-spooled": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 3000\r\n\r\n" + BIG,
    "post-chunked": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "post-chunked-spooled": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
                            + b"bb8\r\n" + BIG + b"\r\n10\r\n" + b"y" * 16 + b"\r\n0\r\n\r\n",
    "post-chunked-ext": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n0\r\n\r\n",
    "post-chunked-trailer": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: t\r\nHost: evil\r\n\r\n",
    "post-chunked-trailer-bare-lf": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX: y\n\r\nGET /s HTTP/1.1\r\n" + H + b"\r\n",
    "post-chunked-trailer-fold": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX: y\r\n z\r\n\r\n",
    "post-chunked-upper-hex": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
    "post-chunked-leading-zeros": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0005\r\nhello\r\n000\r\n\r\n",
    "chunked-size-lf": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
    "chunked-data-lf": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
    "chunked-size-space": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
    "chunked-size-plus": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
    "chunked-size-0x": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "chunked-no-last-crlf": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
    "te-chunked-upper": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n",
    "te-chunked-tab": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n",
    "te-chunked-trailing-space": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n",
    "te-xchunked": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-chunked-comma-empty": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n",
    "te-empty": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: \r\n\r\n",
    "te-empty-with-cl": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\nContent-Length: 5\r\n\r\nhelloGET /s HTTP/1.1\r\n" + H + b"\r\n",
    "te-comma-only": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: ,\r\nContent-Length: 5\r\n\r\nhello",
    "te-chunked-then-empty": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n0\r\n\r\n",
    "te-two-lines": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-space-before-colon": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc",
    "te-underscore": b"POST /p HTTP/1.1\r\n" + H + b"Transfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "cl-te-smuggle": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED",
    "te-cl-smuggle": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
    "cl-list": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello",
    "cl-two-same": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "cl-space-inside": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 1 0\r\n\r\n0123456789",
    "cl-leading-zeros": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 005\r\n\r\nhello",
    "cl-negative": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n",
    "cl-empty": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length:\r\n\r\n",
    "cl-huge": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 18446744073709551615\r\n\r\n",
    "cl-on-get": b"GET /p HTTP/1.1\r\n" + H + b"Content-Length: 4\r\n\r\nGET /s HTTP/1.1\r\n" + H + b"\r\n",
    "cl-short-body": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\nabc",
    "pipelined-3": (b"GET /1 HTTP/1.1\r\n" + H + b"\r\n" + b"POST /2 HTTP/1.1\r\n" + H
                    + b"Content-Length: 2\r\n\r\nok" + b"GET /3 HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n"
                    + b"GET /4 HTTP/1.1\r\n" + H + b"\r\n"),
    "pipelined-crlf-between": b"GET /1 HTTP/1.1\r\n" + H + b"\r\n\r\n\r\nGET /2 HTTP/1.1\r\n" + H + b"\r\n",
    "leading-crlf": b"\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    "leading-lf": b"\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    "expect-continue": b"POST /p HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 4\r\n\r\nbody",
    "expect-other": b"POST /p HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\nContent-Length: 4\r\n\r\nbody",
    "upgrade": b"GET /ws HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /s HTTP/1.1\r\n" + H + b"\r\n",
    "upgrade-with-body": b"POST /ws HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabcGET /s HTTP/1.1\r\n" + H + b"\r\n",
    "connect": b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "connection-close": b"GET /a HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\nGET /s HTTP/1.1\r\n" + H + b"\r\n",
    "long-target": b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + H + b"\r\n",
    "long-header": b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"v" * 9000 + b"\r\n\r\n",
    "many-headers": b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: v\r\n" % i for i in range(120)) + b"\r\n",
    "percent-nul": b"GET /a%00b HTTP/1.1\r\n" + H + b"\r\n",
    "percent-slash": b"GET /a%2fb%2F..%2e HTTP/1.1\r\n" + H + b"\r\n",
    "percent-truncated": b"GET /a% HTTP/1.1\r\n" + H + b"\r\n",
    "percent-nul-query": b"GET /a?b=%00 HTTP/1.1\r\n" + H + b"\r\n",
    "percent-escaped-nul": b"GET /a%2500 HTTP/1.1\r\n" + H + b"\r\n",
    "high-bytes-target": b"GET /\xc3\xa9 HTTP/1.1\r\n" + H + b"\r\n",
    "high-bytes-value": b"GET / HTTP/1.1\r\n" + H + b"X-A: caf\xc3\xa9\r\n\r\n",
    "method-unknown": b"FROB / HTTP/1.1\r\n" + H + b"\r\n",
    "method-patch": b"PATCH /p HTTP/1.1\r\n" + H + b"Content-Length: 1\r\n\r\nx",
    "http09": b"GET /\r\n\r\n",
    "version-11-space": b"GET / HTTP/1.1 \r\n" + H + b"\r\n",
    "double-space": b"GET  / HTTP/1.1\r\n" + H + b"\r\n",
    "header-no-colon": b"GET / HTTP/1.1\r\n" + H + b"NoColon\r\n\r\n",
    "header-empty-name": b"GET / HTTP/1.1\r\n" + H + b": v\r\n\r\n",
    "header-value-ws": b"GET / HTTP/1.1\r\n" + H + b"X-A: \t v \t \r\n\r\n",
    "incomplete-head": b"GET / HTTP/1.1\r\nHost: te",
    "incomplete-body": b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 100\r\n\r\npartial",
    "eof-after-request": b"GET / HTTP/1.1\r\n" + H + b"\r\n",
    # any token is a method (server/http/prescan.c gives llhttp a stand-in)
    "method-query": b"QUERY /q HTTP/1.1\r\n" + H + b"Content-Length: 2\r\n\r\nq1GET /s HTTP/1.1\r\n" + H + b"\r\n",
    "method-webdav": b"VERSION-CONTROL /v HTTP/1.1\r\n" + H + b"\r\nORDERPATCH /o HTTP/1.1\r\n" + H + b"\r\n",
    "method-lowercase": b"get /a HTTP/1.1\r\n" + H + b"\r\n",
    "method-connect": b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    "method-connec": b"CONNEC /a HTTP/1.1\r\n" + H + b"\r\n",
    "method-connectx-asterisk": b"CONNECTX * HTTP/1.1\r\n" + H + b"\r\n",
    "method-leading-crlf": b"\r\n\r\nBREW /pot HTTP/1.1\r\n" + H + b"\r\n",
    # chunk extensions: lists with values, quoted strings, limits
    "chunked-ext-list": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;a=b;c=d\r\nhello\r\n0;e\r\n\r\n",
    "chunked-ext-quoted": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;a=\"b;\\\"c\"\r\nhello\r\n0\r\n\r\nGET /s HTTP/1.1\r\n" + H + b"\r\n",
    "chunked-ext-bws": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5 ; a = b\r\nhello\r\n0\r\n\r\n",
    "chunked-ext-long": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1;a=" + b"v" * 4200 + b"\r\nx\r\n0\r\n\r\n",
    "chunked-many-trailers": b"POST /p HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n" + b"X-T: 1\r\n" * 120 + b"\r\n",
}


def conformance_requests():
    if not CONFORMANCE.exists():
        print("make_seeds: %s not found: gunicorn's corpus left out" % CONFORMANCE, file=sys.stderr)
        return []
    out = []
    for case in json.loads(CONFORMANCE.read_text()):
        if case["expect"] == "skip":
            continue
        out.append(("gunicorn-" + case["name"].replace("/", "-"), base64.b64decode(case["raw_b64"])))
    return out


def strict_requests():
    """BAD_REQUESTS of tests/integration/test_strict.py, read without importing it."""
    path = REPO / "tests" / "integration" / "test_strict.py"
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "BAD_REQUESTS":
            return [("strict-" + ast.literal_eval(k), ast.literal_eval(v.elts[0]))
                    for k, v in zip(node.value.keys, node.value.values)]
    raise SystemExit("make_seeds: no BAD_REQUESTS in %s" % path)


def raw_requests():
    """(name, bytes) of every raw request stream the seeds are made of."""
    return (conformance_requests() + strict_requests()
            + [("extra-" + k, v) for k, v in EXTRA_REQUESTS.items()])


def config_seeds():
    # options and their types, from the table in server/core/config.c
    table = (REPO / "server" / "core" / "config.c").read_text()
    opts = re.findall(r'\{"([a-z_-]+)", (?:"([a-z_-]+)"|NULL), (OPT_[A-Z_]+)', table)
    sample = {"OPT_STRING": "x", "OPT_LIST": "127.0.0.1:9000", "OPT_PATHS": "a,,b,c",
              "OPT_INT": "4", "OPT_SIZE": "10M", "OPT_SECONDS": "2.5", "OPT_FLAG": None,
              "OPT_FLAG_SECONDS": "=5"}
    seeds = {}
    for name, alias, kind in opts:
        v = sample[kind]
        words = ["--" + name] if v is None else (["--" + name + v] if v.startswith("=")
                                                 else ["--" + name, v])
        seeds["arg-" + name] = (0, words + ["app:application"])
        if alias:
            seeds["alias-" + alias] = (0, ["-" + alias] + ([] if v is None or v.startswith("=")
                                                           else [v]) + ["app"])
        env = "WSGIHOST_" + name.upper().replace("-", "_")
        seeds["env-" + name] = (1, [env + "=" + ("yes" if v is None else v.lstrip("=")), "app"])
    seeds.update({
        "cmd-args-quotes": (1, ["WSGIHOST_CMD_ARGS=--threads 4 --bind 'unix:/tmp/a b' \"x y\"", "app"]),
        "cmd-args-unclosed": (1, ["WSGIHOST_CMD_ARGS=--bind 'oops", "app"]),
        "cmd-args-app": (1, ["WSGIHOST_CMD_ARGS=mod:app --workers=3"]),
        "precedence": (3, ["WSGIHOST_THREADS=2", "WSGIHOST_CMD_ARGS=--threads 3 -b a:1 -b b:2",
                           "PORT=9999", "--threads", "4", "-b", "c:3", "app"]),
        "port": (1, ["PORT=8080", "app"]),
        "virtualenv": (1, ["VIRTUAL_ENV=/venv", "app"]),
        "double-dash": (0, ["--", "--app"]),
        "two-apps": (0, ["a", "b"]),
        "no-app": (0, ["--threads", "2"]),
        "help": (0, ["--help"]),
        "version": (0, ["-v"]),
        "missing-value": (0, ["app", "--bind"]),
        "bad-int": (0, ["--threads", "0x10", "app"]),
        "int-overflow": (0, ["--threads", "99999999999999", "app"]),
        "size-overflow": (0, ["--max-request-body", "99999999999G", "app"]),
        "seconds-nan": (0, ["--keep-alive", "nan", "app"]),
        "seconds-inf": (0, ["--timeout", "inf", "app"]),
        "flag-value": (0, ["--preload=1", "app"]),
        "flag-env-bad": (1, ["WSGIHOST_PRELOAD=maybe", "app"]),
        "many-binds": (0, sum((["-b", "h:%d" % i] for i in range(20)), []) + ["app"]),
        "many-paths": (0, ["--pythonpath", ",".join("p%d" % i for i in range(40)), "app"]),
        "many-statics": (0, sum((["--static", "/s%d/=d" % i] for i in range(20)), []) + ["app"]),
        "log-level": (0, ["--log-level", "loud", "app"]),
        "empty-words": (0, ["", "", "app"]),
    })
    out = {}
    for name, (env_count, words) in seeds.items():
        out[name] = bytes([env_count]) + b"\0".join(w.encode() for w in words)
    return out


def static_path_seeds():
    paths = ["css/app.css", "", "a/", "a/b/c/", "index.html", "../etc/passwd", "a/../../b",
             "./a", "a/./b", "%2e%2e/x", "%2E%2e%2fx", "x%2fy", "x%5cy", "a%00b", "%252e%252e/x",
             "a//b", "/etc/passwd", "//x", ".git/config", "a/.env", "a\\..\\b", "a\x00b", "a\x01b",
             "a\x7fb", "caf\xc3\xa9.txt", "a%", "a%2", "a%zz", "%41%42", "x/" * 100]
    return {"p%02d" % i: p.encode("latin-1") for i, p in enumerate(paths)}


def static_parse_seeds():
    def rng(size, v):
        return b"\0" + size.to_bytes(8, "big") + v
    seeds = {
        "range-a-b": rng(1000, b"bytes=0-99"), "range-open": rng(1000, b"bytes=500-"),
        "range-suffix": rng(1000, b"bytes=-100"), "range-suffix-big": rng(10, b"bytes=-100"),
        "range-past-end": rng(100, b"bytes=100-200"), "range-zero-suffix": rng(100, b"bytes=-0"),
        "range-multi": rng(100, b"bytes=0-1,5-6"), "range-ws": rng(100, b" bytes= 1-2 \t"),
        "range-upper": rng(100, b"BYTES=1-2"), "range-inverted": rng(100, b"bytes=5-1"),
        "range-overflow": rng(100, b"bytes=18446744073709551616-"), "range-empty-file": rng(0, b"bytes=0-"),
        "range-other-unit": rng(100, b"items=0-1"), "range-huge-size": rng(2**64 - 1, b"bytes=1-"),
        "ae-typical": b"\x01gzip, deflate, br", "ae-q": b"\x01br;q=0.5, gzip;q=1.0, *;q=0",
        "ae-identity-refused": b"\x01identity;q=0", "ae-star": b"\x01*", "ae-bad-q": b"\x01br;q=2",
        "ae-params": b"\x01gzip;level=9;q=0.300, x-gzip;q=0.001", "ae-empty": b"\x01",
        "ae-commas": b"\x01,,, ,br,", "ae-q-long": b"\x01br;q=0.12345",
        "etag-list": b'\x02"abc", W/"def" ,"g"', "etag-star": b"\x02*", "etag-unclosed": b'\x02"abc',
        "etag-weak": b'\x02W/"x"', "etag-garbage": b"\x02abc",
        "date-imf": b"\x03Sun, 06 Nov 1994 08:49:37 GMT", "date-rfc850": b"\x03Sunday, 06-Nov-94 08:49:37 GMT",
        "date-asctime": b"\x03Sun Nov  6 08:49:37 1994", "date-bad-tz": b"\x03Sun, 06 Nov 1994 08:49:37 PST",
        "date-leap": b"\x03Thu, 29 Feb 2024 23:59:60 GMT", "date-1969": b"\x03Wed, 31 Dec 1969 23:59:59 GMT",
        "date-9999": b"\x03Fri, 31 Dec 9999 23:59:59 GMT", "date-feb31": b"\x03Sat, 31 Feb 2001 00:00:00 GMT",
    }
    return seeds


def manifest_seeds():
    return {
        "django": b'{"paths": {"css/app.css": "css/app.4f2a.css", "js/x.js": "js/x.99.js"}, '
                  b'"version": "1.1", "hash": "abc"}',
        "empty": b"{}", "empty-paths": b'{"paths": {}}',
        "escapes": b'{"paths": {"a": "caf\\u00e9\\/\\"q\\\\.css", "b": "\\ud83d\\ude00.png", '
                   b'"c": "\\ud800x", "d": "\\t\\n"}}',
        "nested": b'{"other": [1, 2.5e3, true, false, null, {"a": [[[]]]}], "paths": {"x": "y"}}',
        "nul-escape": b'{"paths": {"a": "\\u0000"}}', "not-string": b'{"paths": {"a": 1, "b": [1]}}',
        "truncated": b'{"paths": {"a": "b', "deep": b'{"x": ' + b"[" * 100 + b"]" * 100 + b"}",
        "bad-escape": b'{"paths": {"a": "\\x41"}}', "ws": b' \n\t{ "paths" : { "a" : "b" } } ',
        "dup-paths": b'{"paths": {"a": "z"}, "paths": {"b": "y"}}',
        "trailing-garbage": b'{"paths": {"a": "b"}} xyz',
    }


def url_seeds():
    return {
        "plain": b"http://127.0.0.1:8000/healthz", "no-port": b"http://example.com",
        "query": b"http://h:1/a?b=c#frag", "ipv6": b"http://[::1]:8080/x", "ipv6-no-port": b"http://[fe80::1%25eth0]",
        "userinfo": b"http://u:p@h/", "https": b"https://h/", "bad-port": b"http://h:70000/",
        "port-zero": b"http://h:0/", "empty-host": b"http:///x", "space": b"http://h/a b",
        "query-only": b"http://h?x", "long-host": b"http://" + b"h" * 300 + b"/",
        "env": b"http://h/\0PORT=9000\0WSGIHOST_HEALTH_PATH=/live\0DATABASE_URL=postgres://u:p@db:5432/app",
        "env-pg": b"x\0PGHOST=db\0DATABASE_URL=", "env-other-db": b"x\0DATABASE_URL=sqlite:///db.sqlite3",
        "env-pgsql": b"x\0DATABASE_URL=pgsql://a/b", "env-long": b"x\0DATABASE_URL=postgis://" + b"a" * 5000,
        "env-health-rel": b"x\0WSGIHOST_HEALTH_PATH=healthz\0PORT=",
    }


def proxy_seeds():
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    v4 = bytes([127, 0, 0, 1, 10, 0, 0, 2]) + (5678).to_bytes(2, "big") + (80).to_bytes(2, "big")
    v6 = bytes(15) + b"\x01" + bytes(15) + b"\x02" + (1).to_bytes(2, "big") + (2).to_bytes(2, "big")
    return {
        "v1-tcp4": b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n\r\n",
        "v1-tcp6": b"PROXY TCP6 2001:db8::1 ::1 1 65535\r\n",
        "v1-unknown": b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
        "v1-unknown-bare": b"PROXY UNKNOWN\r\n",
        "v1-bare-lf": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
        "v1-leading-zero-port": b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
        "v1-too-long": b"PROXY TCP6 " + b"f" * 120 + b"\r\n",
        "v1-extra-field": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
        "v1-mixed-family": b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
        "v2-tcp4": sig + b"\x21\x11" + len(v4).to_bytes(2, "big") + v4 + b"GET /",
        "v2-tcp6": sig + b"\x21\x21" + len(v6).to_bytes(2, "big") + v6,
        "v2-local": sig + b"\x20\x00\x00\x00",
        "v2-tlv": sig + b"\x21\x11" + (len(v4) + 7).to_bytes(2, "big") + v4 + b"\x04\x00\x04abcd",
        "v2-unix": sig + b"\x21\x31\x00\xd8" + bytes(216),
        "v2-short-body": sig + b"\x21\x11\x00\x04abcd",
        "v2-bad-version": sig + b"\x31\x11\x00\x00",
        "v2-huge": sig + b"\x21\x11\xff\xff",
        "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    }


def forwarded_seeds():
    return {
        "xff": b"\x01" + b"10.0.0.0/8, 127.0.0.1\n203.0.113.7, 10.0.0.2",
        "xff-all-trusted": b"\x01" + b"*\n10.0.0.5:1234, 10.0.0.6",
        "xff-ports": b"\x01" + b"::1/128 10.0.0.0/8\n[2001:db8::1]:443, 1.2.3.4:80\n10.1.1.1",
        "xff-garbage": b"\x01" + b"10.0.0.0/8\nunknown, ,10.0.0.1\nnot-an-ip",
        "xff-mapped": b"\x01" + b"::ffff:10.0.0.0/104\n::ffff:10.1.2.3, 8.8.8.8",
        "fwd": b"\x00" + b"10.0.0.0/8\nfor=192.0.2.60;proto=http;by=203.0.113.43, for=10.0.0.1",
        "fwd-quoted": b"\x00" + b"*\nfor=\"[2001:db8:cafe::17]:4711\", for=\"_hidden\", for=unknown",
        "fwd-escapes": b"\x00" + b"*\nfor=\"a\\\"b\";x=\"c,d\", FOR=1.2.3.4:5",
        "fwd-junk": b"\x00" + b"fe80::/10, 10.0.0.0/33\n;;,,=for=,for",
        "fwd-ows": b"\x00" + b"*\nfor= \t192.0.2.60;proto=\thttps, for=\t\"[2001:db8::1]\"",
        "fwd-strict": b"\x00" + b"10.0.0.0/8\nfor=\"192.0.2.1:_p\";by=x, for=1.2.3.4;for=5.6.7.8, for=\"10.0.0.1:99999\", for=10.0.0.2",
        "fwd-empty-elements": b"\x00" + b"*\n, for=192.0.2.8 ,, for=\"[::1]:80\";proto=https,",
        "scheme": b"\x0f" + b"*\n1.2.3.4",
        "bad-list": b"\x01" + b"10.0.0.0/ 1.2.3\n1.1.1.1",
        "long-chain": b"\x01" + b"10.0.0.0/8\n" + b", ".join(b"10.0.0.%d" % i for i in range(100)),
    }


def http1_seeds():
    """Each raw stream twice: the default limits read at once, and no limits (every body
    spooled) cut into random reads; a third copy with the tiny limits cut a byte at a time."""
    seeds = {}
    for i, (name, raw) in enumerate(raw_requests()):
        seeds[name + ".a"] = bytes([0x00, 0]) + raw
        seeds[name + ".b"] = bytes([0x02 | 3 << 2, i & 0xff]) + raw
        if len(raw) < 600:
            seeds[name + ".c"] = bytes([0x01 | 1 << 2, 0]) + raw
    return seeds


def write(target, seeds):
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("seed-*"):
        old.unlink()
    for name, data in seeds.items():
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
        (d / ("seed-" + safe)).write_bytes(data)
    return len(seeds)


def main():
    counts = {
        "http1": write("http1", http1_seeds()),
        "config": write("config", config_seeds()),
        "static_path": write("static_path", static_path_seeds()),
        "static_parse": write("static_parse", static_parse_seeds()),
        "manifest": write("manifest", manifest_seeds()),
        "url": write("url", url_seeds()),
        "proxy": write("proxy", proxy_seeds()),
        "forwarded": write("forwarded", forwarded_seeds()),
    }
    print("make_seeds: " + ", ".join("%s %d" % kv for kv in counts.items()))


if __name__ == "__main__":
    main()
