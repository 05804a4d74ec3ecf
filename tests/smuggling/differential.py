#!/usr/bin/python3
"""Request-smuggling differential, HTTP-garden style: the same bytes go to wsgihost directly and
through Debian's nginx acting as a reverse proxy in front of it (upstream keep-alive on, as in
production), with an echo app (echoapp.py) that records every request it is called with.

Per case (one connection, the bytes sent, then a half-close; every read has a deadline):
  direct  the requests the app saw when wsgihost parsed the bytes itself, and its answers;
  nginx   the requests the app saw when nginx parsed them and forwarded what it understood,
          and nginx's answers; then a probe request through nginx on a fresh connection must
          arrive intact and alone: anything else means the upstream connection was poisoned.

Each case is classified by comparing the two sequences of (method, path, query, body):
  agree            the same requests, in the same order;
  wsgihost-stops   wsgihost saw a prefix of what nginx forwarded: it refused (or closed) where
                   nginx carried on. Not smuggling: behind nginx wsgihost only sees nginx's
                   re-serialised requests;
  nginx-stops      nginx refused where wsgihost carried on: nginx is stricter there (safe
                   behind nginx, listed for review);
  DISAGREE         both accepted a request at the same position but not the same one (other
                   target, or other body bytes): they disagree on where a request ends and the
                   next begins. A bug, unless listed in KNOWN with the reason;
  DESYNC           the probe after the case did not arrive intact: the nginx->wsgihost
                   connection lost its framing. Always a bug.

    tests/smuggling/differential.py [--report FILE] [--fuzz-limit N] [--only SUBSTRING]
                                    [--corpus DIR]...

The cases: gunicorn's request corpus, tests/integration/test_strict.py's bad requests and
tests/fuzz/make_seeds.py's extra requests (make_seeds.raw_requests()), and the inputs fuzzing
found (tests/fuzz/corpus/http1/, without their 2-byte prefix; at most --fuzz-limit of them,
default all). Exit status 1 on any DISAGREE not in KNOWN or any DESYNC.
"""

import argparse
import base64
import collections
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "tests" / "integration"), str(REPO / "tests" / "fuzz")]

import wire  # noqa: E402
from conftest import Server, wait_until  # noqa: E402
from nginxproxy import NginxProxy, version as nginx_version_line  # noqa: E402
import make_seeds  # noqa: E402

CASE_TIMEOUT = 6.0
CONTROL = "/__smuggling_log"

# Deliberate disagreements: case name -> why it is not a bug. (None so far.)
KNOWN = {}

def app_log(srv, since):
    with srv.conn(10) as c:
        resp = c.request("GET", "%s?since=%d" % (CONTROL, since), host="control")
    assert resp is not None and resp.status == 200, resp
    doc = resp.json()
    return doc["count"], doc["records"]


def send(address, data):
    """The bytes on a new connection, then a half-close; everything that came back."""
    try:
        with wire.Conn(address, CASE_TIMEOUT) as c:
            try:
                c.send(data)
                c.shutdown_write()
            except OSError:
                pass  # the server closed early (an error answer): read what it sent
            try:
                closed = c.wait_closed(CASE_TIMEOUT)
            except OSError:
                closed = True
            return bytes(c.received), closed
    except OSError as e:
        return b"", "connect failed: %s" % e


def statuses(raw, methods):
    out = []
    reader = wire.Reader(raw)
    try:
        while True:
            method = methods[len(out)] if len(out) < len(methods) else "GET"
            resp = reader.read_response(method, deadline=time.monotonic() + 1)
            if resp is None:
                return out
            out.append(resp.status)
    except (wire.ProtocolError, TimeoutError) as e:
        out.append("unparsable: %s" % str(e)[:80])
        return out


def key(rec):
    return (rec["method"], rec["path"], rec["query"], rec["body_b64"])


def show_key(k):
    body = base64.b64decode(k[3])
    return "%s %s%s%s body=%r" % (k[0], k[1], "?" if k[2] else "", k[2],
                                  body if len(body) < 40 else body[:37] + b"...")


def classify(d, n):
    if d == n:
        return "agree", None
    i = next((k for k in range(min(len(d), len(n))) if d[k] != n[k]), min(len(d), len(n)))
    if i == len(d):
        return "wsgihost-stops", i
    if i == len(n):
        return "nginx-stops", i
    return "DISAGREE", i


# The classifier on made-up sequences (a cheap guard against a check that cannot fail).
assert classify([1, 2], [1, 2]) == ("agree", None)
assert classify([1], [1, 2]) == ("wsgihost-stops", 1)
assert classify([1, 2], [1]) == ("nginx-stops", 1)
assert classify([1, 2], [1, 3]) == ("DISAGREE", 1)
assert classify([], [3]) == ("wsgihost-stops", 0)


def run_case(i, name, data, srv, nginx):
    count, _ = app_log(srv, 1 << 30)
    raw_d, closed_d = send(srv.address, data)
    count2, recs_d = app_log(srv, count)
    raw_n, closed_n = send(("127.0.0.1", nginx.port), data)
    probe_query = "case=%d" % i
    with wire.Conn(("127.0.0.1", nginx.port), 10) as c:
        probe = c.request("GET", "/__probe?" + probe_query, host="probe")
    _, recs_n = app_log(srv, count2)
    result = {"name": name, "len": len(data)}
    probe_ok = (probe is not None and probe.status == 200 and recs_n
                and recs_n[-1]["path"] == "/__probe" and recs_n[-1]["query"] == probe_query
                and recs_n[-1]["body_b64"] == "")
    if probe_ok:
        recs_n = recs_n[:-1]
    d = [key(r) for r in recs_d]
    n = [key(r) for r in recs_n]
    kind, at = classify(d, n)
    if not probe_ok:
        kind = "DESYNC"
        result["probe"] = repr(probe)
    result.update(kind=kind, at=at, direct=d, nginx=n,
                  direct_status=statuses(raw_d, [k[0] for k in d]),
                  nginx_status=statuses(raw_n, [k[0] for k in n]),
                  direct_closed=closed_d, nginx_closed=closed_n)
    return result


def cases(fuzz_limit, only, extra_dirs=()):
    out = list(make_seeds.raw_requests())
    corpus = REPO / "tests" / "fuzz" / "corpus" / "http1"
    found = sorted(p for p in corpus.iterdir() if not p.name.startswith("seed-"))
    for d in extra_dirs:
        found += sorted(p for p in Path(d).iterdir() if p.is_file())
    if fuzz_limit is not None:
        found = found[:fuzz_limit]
    seen = {raw for _, raw in out}
    for p in found:
        raw = p.read_bytes()[2:]
        if raw and raw not in seen:
            seen.add(raw)
            out.append(("fuzz-" + p.name[:16], raw))
    if only:
        out = [c for c in out if only in c[0]]
    return out


def describe(r):
    lines = ["- `%s` (%d bytes): **%s**%s" % (r["name"], r["len"], r["kind"],
                                               "" if r["at"] is None else " at request %d" % r["at"])]
    lines.append("  - direct: statuses %s; app saw %s" % (r["direct_status"],
                 "; ".join(show_key(k) for k in r["direct"]) or "nothing"))
    lines.append("  - nginx:  statuses %s; app saw %s" % (r["nginx_status"],
                 "; ".join(show_key(k) for k in r["nginx"]) or "nothing"))
    if r["name"] in KNOWN:
        lines.append("  - known: " + KNOWN[r["name"]])
    if "probe" in r:
        lines.append("  - probe after the case: %s" % r["probe"])
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--report", help="write a Markdown report here")
    ap.add_argument("--fuzz-limit", type=int, default=None)
    ap.add_argument("--only")
    ap.add_argument("--corpus", action="append", default=[],
                    help="also the http1 fuzz inputs in this directory (e.g. build-fuzz/corpus/http1)")
    args = ap.parse_args()

    todo = cases(args.fuzz_limit, args.only, args.corpus)
    srv = Server(app="echoapp:application",
                 args=["--pythonpath", str(HERE), "--threads", "4", "--header-timeout", "3",
                       "--body-timeout", "3", "--keep-alive", "75"])
    nginx = NginxProxy(srv.port, keepalive=4, error_level="notice", access_log=True,
                       server="""server_name wsgihost.test;  # $host when a request has no Host (HTTP/1.0)
        client_header_timeout 3s;
        client_body_timeout 3s;
        send_timeout 3s;
        client_max_body_size 10m;""", location="""proxy_set_header Host $host;
            proxy_ignore_client_abort on;
            proxy_read_timeout 5s;""")
    results = []
    start = time.monotonic()
    try:
        for i, (name, data) in enumerate(todo):
            results.append(run_case(i, name, data, srv, nginx))
            if not srv.alive():
                raise SystemExit("wsgihost died during %s:\n%s" % (name, srv.stderr.text()[-3000:]))
    finally:
        nginx.stop()
        srv.stop()
    elapsed = time.monotonic() - start

    tally = collections.Counter(r["kind"] for r in results)
    bad = [r for r in results if r["kind"] == "DESYNC"
           or (r["kind"] == "DISAGREE" and r["name"] not in KNOWN)]
    summary = "smuggling differential: %d cases in %.0fs: %s" % (
        len(results), elapsed, ", ".join("%s %d" % kv for kv in sorted(tally.items())))
    print(summary)
    for r in results:
        if r["kind"] in ("DISAGREE", "DESYNC"):
            print(describe(r))
    if args.report:
        nginx_release = nginx_version_line().rsplit("/", 1)[-1]
        parts = ["# Smuggling differential: wsgihost direct vs nginx %s in front\n" % nginx_release,
                 summary + "\n"]
        for kind in ("DESYNC", "DISAGREE", "nginx-stops", "wsgihost-stops"):
            rs = [r for r in results if r["kind"] == kind]
            if rs:
                parts.append("\n## %s (%d)\n" % (kind, len(rs)))
                parts.extend(describe(r) for r in rs)
        Path(args.report).write_text("\n".join(parts) + "\n")
        print("report: %s" % args.report)
    if bad:
        print("FAILED: %d case(s) where wsgihost and nginx disagree on request boundaries or the "
              "upstream connection desynchronised" % len(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
