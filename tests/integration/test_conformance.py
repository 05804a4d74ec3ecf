"""Replays gunicorn's request-parsing corpus against wsgihost (see
../shared/conformance/README.md for the corpus and how to replay it).

Every case is sent on a new connection, the client shuts down writing, and everything the server
answers until it closes is parsed. The app is tests/apps/testapp.py's echo: it reports what it
saw and counts its calls, so a rejected request provably never reached it.

wsgihost is strict RFC 9112 where gunicorn is lenient. Each case where our answer differs from
gunicorn's is listed in DEVIATIONS with the reason; cases that need a gunicorn setting run with
our equivalent flag, or are checked at the default outcome their note gives (CONFIG_DEFAULTS).
Many accepting cases are HTTP/1.1 without Host, which we answer with 400: each of those is
replayed a second time with "Host: example.com" added, so that pipelining, trailers and chunked
parsing are still tested on their accepting path. Rejected HTTP/1.1 cases without Host are
replayed with Host too, so that they are refused for their own fault, not for the missing Host.
"""

import base64
import json
import urllib.parse

import pytest

import conftest
import wire
from conftest import REPO, Server

CORPUS_PATH = REPO.parent / "shared" / "conformance" / "gunicorn-requests.json"


def load_corpus():
    try:
        with open(CORPUS_PATH) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


CORPUS = load_corpus()
BY_NAME = {c["name"]: c for c in CORPUS or []}

# --- our policy -------------------------------------------------------------------------------

NO_HOST = "HTTP/1.1 request without Host: 400 (RFC 9112 section 3.2: a server MUST answer 400)"
GZIP = ("Transfer-Encoding gzip is not implemented: rejected (RFC 9112 section 6.1: SHOULD answer "
        "501; handing the app still-coded bytes, as gunicorn does, is no answer)")
IDENTITY = ("Transfer-Encoding identity is not a registered transfer coding (RFC 9112 section 7): "
            "rejected rather than ignored")
CL_TE = ("Content-Length together with Transfer-Encoding: rejected (RFC 9112 section 6.3 allows "
         "it; it is the classic smuggling vector)")
ANY_TOKEN_METHOD = ("any RFC 9110 token is a method (section 9.1; methods are case-sensitive): it "
                    "reaches the app as sent, which answers 405/501 itself (gunicorn refuses "
                    "lowercase and lengths outside 3..20 by its own policy)")
RAW_OCTETS = ("raw octets outside RFC 3986 in the request-target (0xC3 0xA0) are refused with 400 "
              "(llhttp strict mode); a strict server may, says the note")
CONNECT = ("CONNECT cannot be served by a WSGI app (no tunnel): refused before the app, as the note "
           "allows (405/501)")
VERSION_505 = "HTTP/2.0 on an HTTP/1.x connection: 505 HTTP Version Not Supported (RFC 9110 15.6.6)"
USERINFO = ("userinfo in an absolute-form target is refused with 400 (RFC 9110 section 4.2.4: a "
            "recipient SHOULD treat it as an error)")
TRAILER_DISCARDED = ("trailer fields are discarded, never merged into the environ, so a forbidden "
                     "one is harmless: accepted (RFC 9110 section 6.5 allows it, says the note)")
REPEATED_SINGLETON = ("a repeated Content-Type is passed on joined with ', ' (RFC 9110 section 5.3 "
                      "does not require a recipient to reject it)")

# Every case where our answer differs from gunicorn's expectation, with the reason. Each entry
# must be a case the corpus marks strict_rfc_may_differ (test_deviation_table_is_consistent).
DEVIATIONS = {
    "valid/004": NO_HOST,
    "valid/005": NO_HOST,
    "valid/006": NO_HOST,
    "valid/007": NO_HOST,
    "valid/009": "; ".join([NO_HOST, CL_TE, IDENTITY]),
    "valid/010": NO_HOST,
    "valid/011": NO_HOST,
    "valid/012": NO_HOST,
    "valid/013": NO_HOST,
    "valid/014": NO_HOST,
    "valid/018": NO_HOST + " (the first of the two pipelined requests already)",
    "valid/021": NO_HOST,
    "valid/022": NO_HOST + " (the second request; the HTTP/1.0 keep-alive one is answered)",
    "valid/023": NO_HOST + " (the first of the two pipelined requests already)",
    "valid/025": "; ".join([NO_HOST, GZIP]),
    "valid/025_line": "; ".join([NO_HOST, GZIP]),
    "valid/027": RAW_OCTETS,
    "valid/029": "; ".join([NO_HOST, IDENTITY]),
    "valid/030": "; ".join([NO_HOST, IDENTITY]),
    "valid/031": NO_HOST,
    "valid/100": NO_HOST,
    "valid/rfc9112_smuggle_gzip_chunked_01": GZIP,
    "valid/rfc9112_smuggle_te_identity_chunked_01": IDENTITY,
    "valid/rfc9112_target_authority_connect_01": CONNECT,
    "valid/rfc9112_target_authority_ipv6_01": CONNECT,
    "valid/rfc9112_target_absolute_userinfo_01": USERINFO,
    "invalid/041": REPEATED_SINGLETON,
    "invalid/rfc9110_trailer_forbidden_cl_01": TRAILER_DISCARDED,
    "invalid/rfc9110_trailer_forbidden_host_01": TRAILER_DISCARDED,
    "invalid/version_02": VERSION_505,
}

# Accepting cases our HTTP parser refuses on the Host replay, by a limit of llhttp (see
# conftest.CHUNK_EXT_LIMIT): they must be refused, never misread.
PARSER_LIMITS = {"valid/013": conftest.CHUNK_EXT_LIMIT}

# Accepting cases without Host that stay rejected once Host is added (their other reasons above).
REJECTED_EVEN_WITH_HOST = {"valid/009", "valid/025", "valid/025_line", "valid/029", "valid/030"}

# Rejecting cases we accept (their DEVIATIONS reasons say why); the requests are read from the
# raw bytes.
ACCEPTED_BY_US = {"invalid/041", "invalid/rfc9110_trailer_forbidden_cl_01",
                  "invalid/rfc9110_trailer_forbidden_host_01"}

# Rejecting cases without Host (so rejected by us too) that we accept on the Host replay, with
# the reason gunicorn rejects them and we do not.
ACCEPTED_WITH_HOST = {"invalid/003c": ANY_TOKEN_METHOD}

# llhttp 9 refuses a Content-Length trailer field (HPE_INVALID_CONTENT_LENGTH), as gunicorn does.
REFUSED_BY_LLHTTP9 = {"invalid/rfc9110_trailer_forbidden_cl_01"}


def refused_by_llhttp(name):
    """Whether the llhttp this build links refuses the case itself (Debian 13's is llhttp 9)."""
    return name in REFUSED_BY_LLHTTP9 and conftest.llhttp_major() >= 9


def deviates(name):
    """Whether our outcome on the case differs from gunicorn's, for a reason DEVIATIONS gives."""
    return name in DEVIATIONS and not refused_by_llhttp(name)

# Exact statuses we promise for some rejections (others: any 4xx, 501 or 505, or a close).
EXPECTED_STATUS = {
    "invalid/006": 414,  # request line over --limit-request-line (4094)
    "invalid/007": 431,  # header field line over --limit-request-field_size (8190)
    "invalid/008": 431,
    "invalid/009": 431,  # more than --limit-request-fields (100)
    "invalid/010": 431,
    "invalid/011": 431,
    "invalid/012": 431,
    "invalid/017": 431,
    "invalid/limit_header_default_01": 431,
    "invalid/version_02": 505,
}

# gunicorn settings we have an equivalent flag for; cases needing only these run with them.
FLAG_FOR_SETTING = {
    "limit_request_line": "--limit-request-line",
    "limit_request_fields": "--limit-request-fields",
    "limit_request_field_size": "--limit-request-field_size",
    "forwarded_allow_ips": "--forwarded-allow-ips",  # scheme headers from trusted peers
}

# Config cases whose requests, at our default, are those of another case with the same bytes.
REQUESTS_OF = {"valid/031compat": "valid/031compat2"}  # no casefold_http_method

# Cases needing a setting we do not have: checked at the default outcome their note gives.
CONFIG_DEFAULTS = {
    "valid/028": ("reject", "no strip_header_spaces: whitespace before ':' is refused (as invalid/020)"),
    # as permit_unconventional_http_method, always; no casefold_http_method: the method is passed
    # on as sent (the request of valid/031compat2, the same bytes)
    "valid/031compat": ("accept", ANY_TOKEN_METHOD),
    "valid/031compat2": ("accept", ANY_TOKEN_METHOD),
    "valid/040_compat": ("accept", "no header_map=dangerous: '_' names are dropped (as valid/040)"),
    "valid/compat_obs_fold": ("reject", "no permit_obsolete_folding: obs-fold refused (as invalid/obs_fold_01)"),
    "valid/compat_obs_fold_huge": ("reject", "no permit_obsolete_folding: obs-fold refused"),
    # --proxy-protocol makes the preamble mandatory (gunicorn auto-detects it): these run
    # without it; tests/integration/test_ops.py covers PROXY v1/v2.
    "valid/pp_01": ("reject", "without --proxy-protocol the preamble is not a request line"),
    "valid/pp_02": ("reject", "without --proxy-protocol the preamble is not a request line"),
    "valid/pp_03": ("accept", "an ordinary request without a preamble"),
    "valid/pp_04": ("reject", "without --proxy-protocol the v2 preamble is not a request line"),
    "valid/pp_05": ("reject", "without --proxy-protocol the v2 preamble is not a request line"),
    "invalid/013": ("reject", "obs-fold is refused under defaults"),
    "invalid/040": ("accept", "no header_map=refuse: '_' names are dropped (as valid/040)"),
    "invalid/chunked_07": ("accept", "no header_map=refuse: Transfer_Encoding is dropped, chunked body"),
    "invalid/pp_01": ("reject", "a malformed request line either way"),
    "invalid/pp_02": ("reject", "a malformed request line either way"),
    "invalid/pp_03": ("reject", "a malformed request line either way"),
}


# --- deriving the expectation of a case -------------------------------------------------------

def raw_of(case):
    return base64.b64decode(case["raw_b64"])


def has_host(req):
    return any(name.upper() == "HOST" for name, _ in req["headers"])


def missing_host(req):
    return req["version"] == "1.1" and not has_host(req)


def parse_plain(raw):
    """The request in a well-formed raw message, in the corpus's schema: for the few rejecting
    cases we accept (ACCEPTED_BY_US, config defaults), which carry no `requests`."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append([name.upper(), value.strip(" \t")])
    names = {n for n, _ in headers if "_" not in n}
    if "TRANSFER-ENCODING" in names:
        body, data = b"", rest
        while True:
            size_line, _, data = data.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            body, data = body + data[:size], data[size + 2:]
    else:
        cl = [v for n, v in headers if n == "CONTENT-LENGTH"]
        body = rest[: int(cl[0])] if cl else b""
    path, _, query = target.partition("?")
    return [{"method": method, "target": target, "path": path, "query": query,
             "version": version.split("/")[1], "headers": headers,
             "body_b64": base64.b64encode(body).decode("ascii"), "trailers": []}]


def effective(case):
    """(expect, requests, flags) for a case under our configuration."""
    name, expect, requests, flags = case["name"], case["expect"], case.get("requests") or [], ()
    if "config" in case:
        settings = case["config"]["gunicorn_settings"]
        if all(k in FLAG_FOR_SETTING for k in settings):
            flags = tuple("%s=%s" % (FLAG_FOR_SETTING[k], v) for k, v in sorted(settings.items()))
        else:
            expect = CONFIG_DEFAULTS[name][0]
            if name in REQUESTS_OF:
                requests = BY_NAME[REQUESTS_OF[name]]["requests"]
            if expect == "accept" and not requests:
                twins = [c for c in CORPUS if c["expect"] == "accept" and "config" not in c
                         and c["raw_b64"] == case["raw_b64"]]
                requests = twins[0]["requests"] if twins else parse_plain(raw_of(case))
    if name in ACCEPTED_WITH_HOST:
        expect, requests = "accept", parse_plain(raw_of(case))
    if name in ACCEPTED_BY_US and not refused_by_llhttp(name):
        expect, requests = "accept", parse_plain(raw_of(case))
    return expect, requests, flags


def plan(case):
    """What we must see on the original bytes: a list of ("accept", request) steps, possibly
    ending with ("reject", reason)."""
    expect, requests, _ = effective(case)
    name = case["name"]
    if expect == "reject":
        return [("reject", DEVIATIONS[name] if deviates(name) else case.get("reject_reason"))]
    if name in DEVIATIONS and case["expect"] == "accept" and (
            name in REJECTED_EVEN_WITH_HOST or not DEVIATIONS[name].startswith(NO_HOST)):
        return [("reject", DEVIATIONS[name])]
    steps = []
    for req in requests:
        if missing_host(req):
            steps.append(("reject", NO_HOST))
            break
        steps.append(("accept", req))
    return steps


def with_host(case):
    """(raw, steps) of the replay with "Host: example.com" after each HTTP/1.1 request line
    that lacks Host, or None when the case gets no such replay."""
    expect, requests, _ = effective(case)
    raw = raw_of(case)
    host = b"Host: example.com\r\n"
    if expect == "accept":
        if not any(missing_host(r) for r in requests):
            return None
        pos, new_reqs = 0, []
        for req in requests:
            req = dict(req)
            if missing_host(req):
                line = ("%s %s HTTP/%s\r\n" % (req["method"], req["target"], req["version"])
                        ).encode("latin-1")
                i = raw.index(line, pos) + len(line)
                raw = raw[:i] + host + raw[i:]
                pos = i + len(host)
                req["headers"] = [["HOST", "example.com"]] + list(req["headers"])
            new_reqs.append(req)
        if case["name"] in REJECTED_EVEN_WITH_HOST:
            return raw, [("reject", DEVIATIONS[case["name"]])]
        if case["name"] in PARSER_LIMITS:
            return raw, [("reject", PARSER_LIMITS[case["name"]])]
        return raw, [("accept", r) for r in new_reqs]
    first_line, sep, _ = raw.partition(b"\r\n")
    if sep and first_line.endswith(b" HTTP/1.1") and b"\r\nhost:" not in raw.lower():
        i = len(first_line) + 2
        return raw[:i] + host + raw[i:], plan(case)
    return None


# --- checking ---------------------------------------------------------------------------------

def expected_environ(req):
    """The CONTENT_*/HTTP_* keys a WSGI app must see for a corpus request."""
    out = {}
    for name, value in req["headers"]:
        if "_" in name:
            continue  # our policy: names with '_' are dropped
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        out[key] = out[key] + ", " + value if key in out else value
    if any(n.upper() == "TRANSFER-ENCODING" for n, _ in req["headers"]):
        # our policy: the body arrives de-chunked with its length, and without the coding
        # header, so no app or framework tries to decode it again
        out["CONTENT_LENGTH"] = str(len(base64.b64decode(req["body_b64"])))
        out.pop("HTTP_TRANSFER_ENCODING", None)
    return out


def check_accepted(resp, req, ctx):
    assert resp.status == 200, "expected the app's 200 for %s %s, got %r\n%s" % (
        req["method"], req["target"], resp, ctx)
    seen = resp.json()
    assert seen["method"] == req["method"], ctx
    assert seen["raw_uri"] == req["target"], ctx
    if req["target"] != "*" and req["method"] != "CONNECT":  # the note: compare the target
        path = urllib.parse.unquote_to_bytes(req["path"].encode("latin-1")).decode("latin-1")
        assert seen["path_info"] == path, ctx
    assert seen["query_string"] == req["query"], ctx
    assert seen["protocol"] == "HTTP/" + req["version"], ctx
    assert base64.b64decode(seen["body_b64"]) == base64.b64decode(req["body_b64"]), ctx
    assert seen["input_terminated"] is True, ctx
    want = expected_environ(req)
    got = dict(seen["headers"])
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):  # PEP 3333: absent or empty when not sent
        if key not in want and got.get(key) == "":
            del got[key]
    assert got == want, "environ headers differ:\n  want %r\n  got  %r\n%s" % (want, got, ctx)


def check_rejected(resp, status, ctx):
    if resp is None:
        # closed without an answer: allowed for a rejection, unless we promise a status
        assert not status, "expected %d, the connection closed silently\n%s" % (status, ctx)
        return
    assert 400 <= resp.status < 500 or resp.status in (501, 505), (
        "expected a 4xx/501/505 rejection or a close, got %r\n%s" % (resp, ctx))
    if status:
        assert resp.status == status, "expected %d, got %r\n%s" % (status, resp, ctx)


def replay(srv, name, raw, steps, host_replay=False):
    before = srv.stat("calls")
    got, closed = wire.exchange(srv.address, raw, half_close=True, timeout=5)
    after = srv.stat("calls")
    ctx = "case %s%s\nsent:     %s\nreceived: %s" % (
        name, " (with Host added)" if host_replay else "", wire.show(raw, 2000),
        wire.show(got, 2000))
    assert closed, "the server did not close the connection within 5 s\n" + ctx
    try:
        responses = wire.parse_all(got)
    except wire.ProtocolError as e:
        raise AssertionError("unparseable response: %s\n%s" % (e, ctx)) from None
    accepted = [req for kind, req in steps if kind == "accept"]
    rejected = len(accepted) < len(steps)
    assert len(responses) <= len(steps), ("%d responses for %d expected steps\n%s"
                                          % (len(responses), len(steps), ctx))
    for i, req in enumerate(accepted):
        assert i < len(responses), "response %d of %d missing\n%s" % (i + 1, len(accepted), ctx)
        check_accepted(responses[i], req, ctx)
    if rejected:
        extra = responses[len(accepted):]
        status = EXPECTED_STATUS.get(name)
        if steps[-1][1] == NO_HOST and not host_replay:
            status = 400
        check_rejected(extra[0] if extra else None, status, ctx)
    assert after - before == len(accepted), (
        "the app was called %d times, expected %d\n%s" % (after - before, len(accepted), ctx))


# --- servers ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_servers():
    """Servers by flags, started on first use: the echo app with --threads 2."""
    yield from servers_by_flags(lambda flags: Server(args=["--threads", "2", *flags]))


def servers_by_flags(start):
    """A fixture's body: yields get(flags), which starts a server with start(flags) on first use
    and reuses it; at the end stops them all and fails on any server's complaint (also used by
    tests/docker/test_conformance_images.py)."""
    servers = {}

    def get(flags):
        if flags not in servers:
            servers[flags] = start(flags)
        return servers[flags]

    yield get
    errors = []
    for srv in servers.values():
        try:
            srv.stop()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n\n".join(errors)


def corpus_or_fail():
    if CORPUS is None:
        pytest.fail("conformance corpus not found at %s (expected <repo>/../shared/conformance/)"
                    % CORPUS_PATH, pytrace=False)


def case_params():
    if CORPUS is None:
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(c["name"], id=c["name"]) for c in CORPUS]


def host_params():
    if CORPUS is None:
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(c["name"], id=c["name"]) for c in CORPUS
            if c["expect"] != "skip" and with_host(c) is not None]


@pytest.mark.parametrize("name", case_params())
def test_corpus(name, corpus_servers):
    corpus_or_fail()
    case = BY_NAME[name]
    if case["expect"] == "skip":
        pytest.skip("corpus says skip: " + case["note"])
    _, _, flags = effective(case)
    replay(corpus_servers(flags), name, raw_of(case), plan(case))


@pytest.mark.parametrize("name", host_params())
def test_corpus_with_host(name, corpus_servers):
    corpus_or_fail()
    case = BY_NAME[name]
    raw, steps = with_host(case)
    _, _, flags = effective(case)
    replay(corpus_servers(flags), name, raw, steps, host_replay=True)


def test_deviation_table_is_consistent():
    """The tables say exactly which cases differ from gunicorn, and why."""
    corpus_or_fail()
    for name, reason in DEVIATIONS.items():
        assert name in BY_NAME, "DEVIATIONS names an unknown case %s" % name
        assert BY_NAME[name].get("strict_rfc_may_differ"), (
            "%s is listed as a deliberate deviation but the corpus does not say a strict server "
            "may differ there" % name)
        assert reason
    for case in CORPUS:
        name = case["name"]
        if case["expect"] == "skip":
            continue
        if "config" in case:
            settings = case["config"]["gunicorn_settings"]
            assert all(k in FLAG_FOR_SETTING for k in settings) or name in CONFIG_DEFAULTS, (
                "config case %s has neither a flag nor a default outcome" % name)
        expect, requests, _ = effective(case)
        steps = plan(case)
        differs = (case["expect"] == "accept") != all(kind == "accept" for kind, _ in steps)
        if "config" not in case or name not in CONFIG_DEFAULTS:
            assert differs == deviates(name) or name in EXPECTED_STATUS, (
                "%s: our outcome %s gunicorn's but the case is %s DEVIATIONS"
                % (name, "differs from" if differs else "matches",
                   "not in" if differs else "in"))
        if (expect == "accept" and any(missing_host(r) for r in requests) and "config" not in case
                and name not in ACCEPTED_WITH_HOST):
            assert NO_HOST in DEVIATIONS.get(name, ""), "%s lacks Host but is not listed" % name
    assert REJECTED_EVEN_WITH_HOST <= set(DEVIATIONS) and ACCEPTED_BY_US <= set(DEVIATIONS)
    assert set(CONFIG_DEFAULTS) <= set(BY_NAME)


def test_corpus_accounting():
    """Counts add up, and the summary line printed after the run says what was replayed."""
    corpus_or_fail()
    tally = {"cases": len(CORPUS), "accepted": 0, "partly accepted": 0, "rejected": 0,
             "skipped": 0, "deviations": sum(map(deviates, DEVIATIONS)), "run with flags": 0,
             "at config default": 0, "Host replays accepted": 0, "Host replays rejected": 0}
    for case in CORPUS:
        if case["expect"] == "skip":
            tally["skipped"] += 1
            continue
        kinds = [kind for kind, _ in plan(case)]
        if all(k == "accept" for k in kinds):
            tally["accepted"] += 1
        elif "accept" in kinds:
            tally["partly accepted"] += 1
        else:
            tally["rejected"] += 1
        if "config" in case:
            tally["run with flags" if effective(case)[2] else "at config default"] += 1
        replay_host = with_host(case)
        if replay_host:
            ok = all(k == "accept" for k, _ in replay_host[1])
            tally["Host replays accepted" if ok else "Host replays rejected"] += 1
    assert (tally["accepted"] + tally["partly accepted"] + tally["rejected"] + tally["skipped"]
            == tally["cases"] == 137)
    assert sum(c["expect"] == "skip" for c in CORPUS) == tally["skipped"] == 1
    assert tally["run with flags"] + tally["at config default"] == sum("config" in c for c in CORPUS)
    conftest.CORPUS_TALLY.update(tally)
