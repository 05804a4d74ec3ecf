"""Static files served by the event loop (server/static/serve.c): safe resolution, headers,
conditional and partial requests, precompressed variants, Django zero-config, media uploads,
compress-static. The servers here run with one worker."""

import email.utils
import gzip
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import BIN, Server, binary, child_env, wait_until
from support import Hold

try:
    import brotli
except ImportError:  # python3-brotli (scripts/bootstrap installs it)
    brotli = None

CSS = ("body { color: #333; margin: 0 auto; }\n" * 60).encode()  # ~2.3 KB, compressible
BIG_SIZE = 3 * 1024 * 1024 + 17
HASHED = "css/app.4f2a9c1b3d5e.css"
PASSWD_MARK = b"root:"


def make_tree(base):
    root = base / "root"
    (root / "css").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "css" / "app.css").write_bytes(CSS)
    (root / HASHED).write_bytes(CSS)
    (root / "only.txt").write_bytes(b"plain " * 100)
    (root / "only.txt.gz").write_bytes(gzip.compress(b"plain " * 100))
    (root / "empty.txt").write_bytes(b"")
    (root / "docs" / "index.html").write_bytes(b"<h1>docs</h1>")
    (root / ".secret").write_bytes(b"do not serve")
    (root / "big.bin").write_bytes(os.urandom(BIG_SIZE))
    (root / "font.woff2").write_bytes(b"wOF2" + b"\0" * 100)
    os.symlink("/etc/passwd", root / "escape_abs")
    os.symlink("../../../../../../../../etc/passwd", root / "escape_rel")
    os.symlink("css/app.css", root / "inside.css")
    os.mkfifo(root / "fifo")
    (root / "staticfiles.json").write_text(json.dumps(
        {"paths": {"css/app.css": HASHED}, "version": "1.1"}))
    out = subprocess.run([binary(), "compress-static", "--quiet", str(root / "css")],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"outside the root")
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("static"))


def start(root, args=(), env=None, app="testapp:application"):
    return Server(app=app, args=["--static", "/static/=%s" % root, "--threads", "2"] + list(args),
                  env=env)


@pytest.fixture(scope="module", params=["openat2", "fallback"])
def srv(request, tree):
    """The same tree served with openat2 and with the forced O_NOFOLLOW walk."""
    env = {"WSGIHOST_STATIC_NO_OPENAT2": "1"} if request.param == "fallback" else {}
    s = start(tree, env=env)
    yield s
    s.stop()


@pytest.fixture
def servers():
    """Servers started by one test, stopped (exit 0 required) at its end."""
    started = []

    def run(*a, **kw):
        s = start(*a, **kw)
        started.append(s)
        return s

    yield run
    for s in started:
        s.stop()


def get(s, target, headers=(), method="GET"):
    return s.get(target, headers=list(headers), method=method)


# --- safe resolution ----------------------------------------------------------------------

TRAVERSALS = [
    "/static/../../../../../../etc/passwd",
    "/static/css/../../../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/static/%252e%252e/%252e%252e/%252e%252e/%252e%252e/etc/passwd",
    "/static/..%2f..%2f..%2f..%2f..%2fetc/passwd",
    "/static/..%252f..%252f..%252f..%252fetc/passwd",
    "/static/..%5c..%5c..%5c..%5cetc/passwd",
    "/static/..%255c..%255cetc/passwd",
    "/static/%2fetc/passwd",
    "/static//etc/passwd",
    "/static/%00/../etc/passwd",
    "/static/css%00.css",
    "/static/escape_abs",
    "/static/escape_rel",
    "/static/.secret",
    "/static/%2esecret",
    "/static/fifo",
    "/static/css/",
    "/static/",
    "/static/../outside/secret.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_nothing_outside_the_root(srv, target):
    resp = get(srv, target)
    assert resp.status in (400, 404), resp
    assert PASSWD_MARK not in resp.body and b"outside the root" not in resp.body
    assert b"do not serve" not in resp.body


def test_backslash_traversal_refused(srv):
    with srv.conn() as c:
        c.send(b"GET /static/..\\..\\..\\etc\\passwd HTTP/1.1\r\nHost: t\r\n\r\n")
        resp = c.read_response()
    assert resp is None or resp.status in (400, 404)
    assert resp is None or PASSWD_MARK not in resp.body


def test_symlink_inside_root_is_served(srv):
    resp = get(srv, "/static/inside.css")
    assert resp.status == 200 and resp.body == CSS


def test_directory_is_404_without_index(srv):
    assert get(srv, "/static/docs/").status == 404
    assert get(srv, "/static/docs").status == 404


def test_directory_index(servers, tree):
    s = servers(tree, ["--static-index"])
    resp = get(s, "/static/docs/")
    assert resp.status == 200 and resp.body == b"<h1>docs</h1>"
    assert resp.header("Content-Type") == "text/html; charset=utf-8"
    resp = get(s, "/static/docs?x=1")
    assert resp.status == 301 and resp.header("Location") == "/static/docs/?x=1"


# --- headers --------------------------------------------------------------------------------

def test_headers(srv, tree):
    resp = get(srv, "/static/css/app.css")
    assert resp.status == 200 and resp.body == CSS
    st = os.stat(tree / "css" / "app.css")
    assert resp.header("Content-Type") == "text/css; charset=utf-8"
    assert resp.header("Content-Length") == str(len(CSS))
    assert email.utils.parsedate_to_datetime(resp.header("Last-Modified")).timestamp() == \
        int(st.st_mtime)
    assert resp.header("ETag").startswith('"') and resp.header("ETag").endswith('"')
    assert resp.header("Accept-Ranges") == "bytes"
    assert resp.header("Vary") == "Accept-Encoding"
    assert resp.header("Cache-Control") == "max-age=60, public"
    assert resp.header("Access-Control-Allow-Origin") == "*"
    assert resp.header("Content-Encoding") is None


def test_content_types(srv):
    assert get(srv, "/static/font.woff2").header("Content-Type") == "font/woff2"
    assert get(srv, "/static/big.bin").header("Content-Type") == "application/octet-stream"
    assert get(srv, "/static/only.txt").header("Content-Type") == "text/plain; charset=utf-8"


def test_no_vary_without_variants(srv):
    assert get(srv, "/static/font.woff2").header("Vary") is None


def test_manifest_hashed_is_immutable(srv):
    resp = get(srv, "/static/" + HASHED)
    assert resp.status == 200
    assert resp.header("Cache-Control") == "max-age=315360000, public, immutable"
    assert get(srv, "/static/css/app.css").header("Cache-Control") == "max-age=60, public"


def test_max_age_and_cors_options(servers, tree):
    s = servers(tree, ["--static-max-age", "300", "--no-static-cors"])
    resp = get(s, "/static/css/app.css")
    assert resp.header("Cache-Control") == "max-age=300, public"
    assert resp.header("Access-Control-Allow-Origin") is None


def test_flags_from_environment(servers, tree):
    s = servers(tree, env={"WSGIHOST_NO_STATIC_CORS": "yes", "WSGIHOST_STATIC_FALLTHROUGH": "1"})
    assert get(s, "/static/css/app.css").header("Access-Control-Allow-Origin") is None
    assert get(s, "/static/missing.css").status == 200  # the app's echo


def test_empty_file(srv):
    resp = get(srv, "/static/empty.txt")
    assert resp.status == 200 and resp.body == b"" and resp.header("Content-Length") == "0"


# --- methods, conditionals, ranges ----------------------------------------------------------

def test_head(srv):
    full = get(srv, "/static/big.bin")
    with srv.conn() as c:
        resp = c.request("HEAD", "/static/big.bin")
        assert resp.status == 200 and resp.body == b""
        assert resp.header("Content-Length") == str(BIG_SIZE)
        assert resp.header("ETag") == full.header("ETag")
        again = c.request("GET", "/static/css/app.css")  # the connection is still in sync
        assert again.status == 200 and again.body == CSS


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_405(srv, method):
    resp = get(srv, "/static/css/app.css", method=method)
    assert resp.status == 405 and resp.header("Allow") == "GET, HEAD"


def test_if_none_match_304(srv):
    etag = get(srv, "/static/css/app.css").header("ETag")
    resp = get(srv, "/static/css/app.css", [("If-None-Match", etag)])
    assert resp.status == 304 and resp.body == b""
    assert resp.header("ETag") == etag and resp.header("Cache-Control")
    assert get(srv, "/static/css/app.css", [("If-None-Match", "W/" + etag)]).status == 304
    assert get(srv, "/static/css/app.css", [("If-None-Match", '"other", ' + etag)]).status == 304
    assert get(srv, "/static/css/app.css", [("If-None-Match", '"other"')]).status == 200


def test_if_modified_since_304(srv):
    lm = get(srv, "/static/css/app.css").header("Last-Modified")
    assert get(srv, "/static/css/app.css", [("If-Modified-Since", lm)]).status == 304
    future = email.utils.formatdate(time.time() + 3600, usegmt=True)
    assert get(srv, "/static/css/app.css", [("If-Modified-Since", future)]).status == 304
    old = "Sun, 06 Nov 1994 08:49:37 GMT"
    resp = get(srv, "/static/css/app.css", [("If-Modified-Since", old)])
    assert resp.status == 200 and resp.body == CSS
    # If-None-Match wins: a mismatching tag means 200 even with a fresh date.
    resp = get(srv, "/static/css/app.css", [("If-None-Match", '"x"'), ("If-Modified-Since", lm)])
    assert resp.status == 200


def test_if_match_and_if_unmodified_since_412(srv):
    """RFC 9110 13.1.1 and 13.1.4, in 13.2.2's order (If-Match, else If-Unmodified-Since;
    then If-None-Match, else If-Modified-Since)."""
    first = get(srv, "/static/css/app.css")
    etag, lm = first.header("ETag"), first.header("Last-Modified")
    old = "Sun, 06 Nov 1994 08:49:37 GMT"
    future = email.utils.formatdate(time.time() + 3600, usegmt=True)
    cases = [
        ([("If-Match", etag)], 200),
        ([("If-Match", '"other", ' + etag)], 200),
        ([("If-Match", "*")], 200),
        ([("If-Match", '"other"')], 412),
        ([("If-Match", "W/" + etag)], 412),  # If-Match compares strongly
        ([("If-Unmodified-Since", old)], 412),
        ([("If-Unmodified-Since", lm)], 200),
        ([("If-Unmodified-Since", future)], 200),
        ([("If-Unmodified-Since", "not a date")], 200),  # an invalid date is ignored
        ([("If-Match", etag), ("If-Unmodified-Since", old)], 200),  # If-Match decides
        ([("If-Match", '"other"'), ("If-None-Match", etag)], 412),  # If-Match comes first
        ([("If-Match", etag), ("If-None-Match", etag)], 304),
        ([("If-Unmodified-Since", future), ("If-Modified-Since", future)], 304),
    ]
    for headers, status in cases:
        resp = get(srv, "/static/css/app.css", headers)
        assert resp.status == status, (headers, resp)
        if status == 412:
            assert resp.body != CSS
        for method in ("HEAD",):
            assert get(srv, "/static/css/app.css", headers, method=method).status == status


def test_same_size_writes_within_a_second_get_new_etags(servers, tmp_path):
    """The ETag carries the mtime's nanoseconds: a file rewritten with the same size in the
    same second is not taken for the old one (no stale 304)."""
    root = tmp_path / "r"
    root.mkdir()
    path = root / "a.txt"
    path.write_bytes(b"version 1")
    second = int(time.time()) * 10**9
    os.utime(path, ns=(second + 100, second + 100))
    s = servers(root)
    first = get(s, "/static/a.txt")
    assert first.body == b"version 1"
    path.write_bytes(b"version 2")
    os.utime(path, ns=(second + 200_000_000, second + 200_000_000))
    # entries are checked against the file system again at most once a second
    wait_until(lambda: get(s, "/static/a.txt").body == b"version 2", 5, "the new content")
    resp = get(s, "/static/a.txt")
    assert resp.header("Last-Modified") == first.header("Last-Modified")  # the same second
    assert resp.header("ETag") != first.header("ETag")
    assert get(s, "/static/a.txt", [("If-None-Match", first.header("ETag"))]).status == 200


def test_range_206(srv, tree):
    data = (tree / "big.bin").read_bytes()
    resp = get(srv, "/static/big.bin", [("Range", "bytes=100-199")])
    assert resp.status == 206 and resp.body == data[100:200]
    assert resp.header("Content-Range") == "bytes 100-199/%d" % BIG_SIZE
    assert resp.header("Content-Length") == "100"
    resp = get(srv, "/static/big.bin", [("Range", "bytes=-10")])
    assert resp.status == 206 and resp.body == data[-10:]
    resp = get(srv, "/static/big.bin", [("Range", "bytes=%d-" % (BIG_SIZE - 5))])
    assert resp.status == 206 and resp.body == data[-5:]
    resp = get(srv, "/static/css/app.css", [("Range", "bytes=0-9"), ("Accept-Encoding", "br")])
    assert resp.status == 206 and resp.body == CSS[:10]  # ranges address the file itself
    assert resp.header("Content-Encoding") is None


def test_range_416_and_ignored(srv):
    resp = get(srv, "/static/big.bin", [("Range", "bytes=%d-" % BIG_SIZE)])
    assert resp.status == 416 and resp.header("Content-Range") == "bytes */%d" % BIG_SIZE
    resp = get(srv, "/static/css/app.css", [("Range", "bytes=0-1,5-6")])
    assert resp.status == 200 and resp.body == CSS  # several ranges: the whole file
    resp = get(srv, "/static/css/app.css", [("Range", "bytes=0-9"), ("If-Range", '"stale"')])
    assert resp.status == 200 and resp.body == CSS


# --- precompressed variants -----------------------------------------------------------------

def decode(resp):
    enc = resp.header("Content-Encoding")
    if enc == "gzip":
        return gzip.decompress(resp.body)
    if enc == "br":
        assert brotli is not None, "python3-brotli is needed to check .br variants"
        return brotli.decompress(resp.body)
    return resp.body


@pytest.mark.parametrize("accept, expected", [
    (None, None),
    ("gzip", "gzip"),
    ("br", "br"),
    ("gzip, deflate, br", "br"),
    ("br;q=0.5, gzip", "gzip"),
    ("gzip;q=0.9, br;q=0.1", "gzip"),
    ("br;q=0, gzip;q=0", None),
    ("identity;q=0, gzip", "gzip"),
    ("*", "br"),
    ("*;q=0, gzip", "gzip"),
    ("deflate", None),
    ("BR", "br"),
])
def test_variant_choice(srv, accept, expected):
    headers = [("Accept-Encoding", accept)] if accept is not None else []
    resp = get(srv, "/static/css/app.css", headers)
    assert resp.status == 200
    assert resp.header("Content-Encoding") == expected
    assert resp.header("Vary") == "Accept-Encoding"
    assert resp.header("Content-Length") == str(len(resp.body))
    assert decode(resp) == CSS


def test_variants_have_their_own_etag(srv):
    tags = {get(srv, "/static/css/app.css", [("Accept-Encoding", a)]).header("ETag")
            for a in ("identity", "gzip", "br")}
    assert len(tags) == 3
    gz = get(srv, "/static/css/app.css", [("Accept-Encoding", "gzip")])
    again = get(srv, "/static/css/app.css",
                [("Accept-Encoding", "gzip"), ("If-None-Match", gz.header("ETag"))])
    assert again.status == 304 and again.header("Vary") == "Accept-Encoding"


def test_identity_refused_406(srv):
    resp = get(srv, "/static/css/app.css", [("Accept-Encoding", "*;q=0")])
    assert resp.status == 406
    resp = get(srv, "/static/only.txt", [("Accept-Encoding", "br, identity;q=0")])
    assert resp.status == 406
    resp = get(srv, "/static/only.txt", [("Accept-Encoding", "br, gzip")])
    assert resp.header("Content-Encoding") == "gzip" and decode(resp) == b"plain " * 100


def test_compress_static_output(tmp_path):
    js = b"function f(){return 1}\n" * 400
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "app.js").write_bytes(js)
    (tmp_path / "tiny.css").write_bytes(b"a{}")
    (tmp_path / "pic.png").write_bytes(b"\x89PNG" + os.urandom(4000))
    (tmp_path / "noise.txt").write_bytes(os.urandom(4000))  # does not shrink
    (tmp_path / "noise.txt.gz").write_bytes(b"stale")  # removed: no longer smaller
    out = subprocess.run([binary(), "compress-static", str(tmp_path)], capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out
    assert gzip.decompress((tmp_path / "sub" / "app.js.gz").read_bytes()) == js
    if brotli is not None:
        assert brotli.decompress((tmp_path / "sub" / "app.js.br").read_bytes()) == js
    assert (tmp_path / "sub" / "app.js.br").stat().st_size < len(js)
    for name in ("tiny.css.gz", "tiny.css.br", "pic.png.gz", "pic.png.br", "noise.txt.gz",
                 "noise.txt.br"):
        assert not (tmp_path / name).exists(), name
    assert not [p for p in tmp_path.rglob("*tmp*")]
    bad = subprocess.run([binary(), "compress-static", str(tmp_path / "nope")],
                         capture_output=True, timeout=10)
    assert bad.returncode == 2


# --- fallthrough, fd/stat cache -------------------------------------------------------------

def test_missing_is_404_by_default(srv):
    resp = get(srv, "/static/missing.css")
    assert resp.status == 404
    assert get(srv, "/elsewhere").status == 200  # outside the prefix: the app


def test_fallthrough(servers, tree):
    s = servers(tree, ["--static-fallthrough"])
    resp = get(s, "/static/missing.css")
    assert resp.status == 200 and resp.json()["path_info"] == "/static/missing.css"
    assert get(s, "/static/css/app.css").body == CSS
    # paths the static resolver refuses are not files either: the app's (never a file's bytes)
    for target in ["/static/.well-known/security.txt", "/static/a//b", "/static/x/../y",
                   "/static/../../etc/passwd", "/static/.secret", "/static/escape_abs",
                   "/static/css/"]:
        resp = get(s, target)
        assert resp.status == 200 and resp.json()["raw_uri"] == target, (target, resp)
        assert PASSWD_MARK not in resp.body and b"do not serve" not in resp.body


def test_fallthrough_under_root_prefix(servers, tree):
    """--static /=DIR with --static-fallthrough: the app still gets everything that is not a
    file, /.well-known/ included."""
    s = Server(app="testapp:application",
               args=["--static", "/=%s" % tree, "--static-fallthrough"])
    try:
        assert get(s, "/css/app.css").body == CSS
        for target in ["/.well-known/security.txt", "/a//b", "/x/../y", "/missing"]:
            resp = get(s, target)
            assert resp.status == 200 and resp.json()["raw_uri"] == target, (target, resp)
    finally:
        s.stop()


def test_changed_and_deleted_files_noticed(servers, tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "a.txt").write_bytes(b"one")
    s = servers(root)
    first = get(s, "/static/a.txt")
    assert first.body == b"one"
    (root / "a.txt").write_bytes(b"second version")
    # Entries are checked again at most once a second: poll until the change is seen.
    resp = wait_until(lambda: (lambda r: r if r.body != b"one" else None)(get(s, "/static/a.txt")),
                      5, "the changed file served", interval=0.1)
    assert resp.body == b"second version" and resp.header("ETag") != first.header("ETag")
    (root / "a.txt").unlink()
    wait_until(lambda: get(s, "/static/a.txt").status == 404, 5, "the deleted file gone",
               interval=0.1)


# --- concurrency, aborts, busy Python -------------------------------------------------------

def test_large_file_integrity_many_clients(srv, tree):
    digest = hashlib.sha256((tree / "big.bin").read_bytes()).hexdigest()
    results, errors = [], []

    def fetch():
        try:
            resp = get(srv, "/static/big.bin")
            results.append(hashlib.sha256(resp.body).hexdigest())
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=fetch) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert results == [digest] * 24


def test_client_aborts_mid_download(srv):
    for linger in (False, True):
        sock = socket.create_connection(srv.address)
        sock.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        got = 0
        while got < 200_000:
            chunk = sock.recv(65536)
            assert chunk
            got += len(chunk)
        if linger:  # RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert srv.alive()
    assert get(srv, "/static/css/app.css").body == CSS
    srv.check_sanitizers()


def test_static_served_while_python_is_busy(servers, tree, tmp_path):
    s = Server(args=["--static", "/static/=%s" % tree, "--threads", "1"])
    try:
        # The only Python thread is held in the app until the static file has been served.
        with Hold(s, tmp_path / "hold"):
            resp = get(s, "/static/css/app.css")
            assert resp.status == 200 and resp.body == CSS
    finally:
        s.stop()


# --- Django zero configuration and media ----------------------------------------------------

@pytest.fixture
def django_dirs(tmp_path, tree):
    static_root = tmp_path / "collected"
    shutil.copytree(tree / "css", static_root / "css")
    shutil.copy(tree / "staticfiles.json", static_root / "staticfiles.json")
    media = tmp_path / "media"
    media.mkdir()
    (media / "evil.html").write_bytes(b"<script>alert(1)</script>")
    (media / "pic.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (media / "notes.txt").write_bytes(b"notes")
    return {"TEST_STATIC_ROOT": str(static_root), "TEST_MEDIA_ROOT": str(media)}


def django_server(env, args=()):
    return Server(app="static_django:application", args=list(args), env=env)


def test_django_zero_config(django_dirs):
    s = django_server(django_dirs)
    try:
        s.stderr.wait_for(r"Serving static files: /static/ from %s"
                          % django_dirs["TEST_STATIC_ROOT"], 10)
        resp = get(s, "/static/css/app.css")
        assert resp.status == 200 and resp.body == CSS
        resp = get(s, "/static/" + HASHED)
        assert resp.header("Cache-Control") == "max-age=315360000, public, immutable"
        assert get(s, "/media/notes.txt").body == b"django:/media/notes.txt"  # no --serve-media
        assert get(s, "/other").body == b"django:/other"
    finally:
        s.stop()


def test_django_relative_static_url(django_dirs):
    s = django_server(dict(django_dirs, TEST_STATIC_URL="assets/"))
    try:
        assert get(s, "/assets/css/app.css").body == CSS
    finally:
        s.stop()


IMMUTABLE = "max-age=315360000, public, immutable"


def test_django_storages_manifest(django_dirs):
    """ManifestStaticFilesStorage named in STORAGES (STATICFILES_STORAGE before Django 4.2)."""
    s = django_server(dict(django_dirs, TEST_STATIC_STORAGE="manifest"))
    try:
        s.stderr.wait_for(r"Serving static files: /static/ from %s \(manifest: staticfiles\.json\)"
                          % django_dirs["TEST_STATIC_ROOT"], 10)
        assert get(s, "/static/" + HASHED).header("Cache-Control") == IMMUTABLE
        assert get(s, "/static/css/app.css").header("Cache-Control") == "max-age=60, public"
    finally:
        s.stop()


def test_django_custom_storage_subclass(django_dirs, tmp_path):
    """A ManifestStaticFilesStorage subclass with its own manifest name, location and URL
    (STORAGES OPTIONS on Django >= 4.2): wsgihost serves what collectstatic wrote there."""
    assets = tmp_path / "assets"
    shutil.copytree(tmp_path / "collected" / "css", assets / "css")
    # Only the storage's own manifest lists the hashed name (Django's manifest format 1.0).
    (assets / "assets.json").write_text(json.dumps(
        {"paths": {"css/app.css": HASHED}, "version": "1.0"}))
    s = django_server(dict(django_dirs, TEST_STATIC_STORAGE="custom", TEST_ASSETS_ROOT=str(assets)))
    try:
        s.stderr.wait_for(r"Serving static files: /assets/ from %s \(manifest: assets\.json\)"
                          % assets, 10)
        resp = get(s, "/assets/" + HASHED)
        assert resp.status == 200 and resp.body == CSS
        assert resp.header("Cache-Control") == IMMUTABLE
        assert get(s, "/assets/css/app.css").header("Cache-Control") == "max-age=60, public"
        # STATIC_ROOT is not where this storage collects: Django answers there.
        assert get(s, "/static/css/app.css").body == b"django:/static/css/app.css"
    finally:
        s.stop()


def test_no_static(django_dirs):
    s = django_server(django_dirs, ["--no-static"])
    try:
        assert get(s, "/static/css/app.css").body == b"django:/static/css/app.css"
        assert "Serving static files" not in s.stderr.text()
    finally:
        s.stop()


def test_serve_media(django_dirs):
    s = django_server(django_dirs, ["--serve-media"])
    try:
        s.stderr.wait_for(r"Serving media files: /media/ from", 10)
        for name, active in (("evil.html", True), ("pic.svg", True), ("notes.txt", False)):
            resp = get(s, "/media/" + name)
            assert resp.status == 200, resp
            assert resp.header("X-Content-Type-Options") == "nosniff"
            assert (resp.header("Content-Disposition") == "attachment") == active, name
            assert "immutable" not in resp.header("Cache-Control")
        assert get(s, "/media/../collected/staticfiles.json").status in (400, 404)
        assert get(s, "/media/missing.png").status == 404
    finally:
        s.stop()
