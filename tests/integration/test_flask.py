"""A small Flask app (Debian's python3-flask) served by wsgihost."""

import json

import pytest

from conftest import Server


@pytest.fixture(scope="module")
def flask_server():
    srv = Server(app="flaskapp:app", args=["--threads", "2"])
    yield srv
    srv.stop()


def test_index(flask_server):
    resp = flask_server.get("/")
    assert resp.status == 200 and resp.body == b"Hello from Flask\n"
    assert resp.header("Content-Type").startswith("text/html")


def test_route_with_arguments(flask_server):
    resp = flask_server.get("/user/caf%C3%A9?x=1&y=two")
    assert resp.status == 200
    assert resp.json() == {"name": "caf\u00e9", "args": {"x": "1", "y": "two"}}


def test_json_post(flask_server):
    payload = {"list": [1, 2, 3], "text": "h\u00e9llo"}
    body = json.dumps(payload).encode()
    resp = flask_server.get("/json", method="POST", body=body,
                            headers=[("Content-Type", "application/json")])
    assert resp.status == 200
    assert resp.json() == {"received": payload, "content_length": str(len(body))}


def test_chunked_json_post(flask_server):
    """Flask reads by CONTENT_LENGTH: a de-chunked body must come with it set."""
    payload = {"chunked": True, "n": list(range(100))}
    data = json.dumps(payload).encode()
    body = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 50]), data[i:i + 50])
                    for i in range(0, len(data), 50)) + b"0\r\n\r\n"
    resp = flask_server.get("/json", method="POST", body=body,
                            headers=[("Content-Type", "application/json"),
                                     ("Transfer-Encoding", "chunked")])
    assert resp.status == 200, resp
    assert resp.json() == {"received": payload, "content_length": str(len(data))}


def test_form_post(flask_server):
    resp = flask_server.get("/form", method="POST", body=b"a=1&b=two+words",
                            headers=[("Content-Type", "application/x-www-form-urlencoded")])
    assert resp.json() == {"form": {"a": "1", "b": "two words"}}


def test_not_found_and_error(flask_server):
    assert flask_server.get("/missing").status == 404
    assert flask_server.get("/fail").status == 500
    flask_server.stderr.wait_for("flask view failed on purpose", 5)
    assert flask_server.get("/").status == 200
