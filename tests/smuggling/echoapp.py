"""The app behind both paths of the smuggling differential: it records every request it is
called with (method, path, query, raw target, headers, body) in a log, and answers with that
record as JSON. GET /__smuggling_log?since=N returns the records from index N on (control
requests are not recorded). Standard library only; runs inside wsgihost."""

import base64
import json
import threading

_lock = threading.Lock()
_log = []
CONTROL = "/__smuggling_log"


def _read_body(environ):
    stream = environ["wsgi.input"]
    parts = []
    while True:
        chunk = stream.read(65536)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


def _reply(start_response, doc, status="200 OK"):
    body = json.dumps(doc, sort_keys=True).encode("ascii")
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == CONTROL:
        since = int(environ.get("QUERY_STRING", "").partition("=")[2] or 0)
        with _lock:
            return _reply(start_response, {"count": len(_log), "records": _log[since:]})
    body = _read_body(environ)
    record = {
        "method": environ.get("REQUEST_METHOD"),
        "path": path,
        "query": environ.get("QUERY_STRING", ""),
        "raw_uri": environ.get("RAW_URI"),
        "protocol": environ.get("SERVER_PROTOCOL"),
        "headers": sorted([k, v] for k, v in environ.items()
                          if k.startswith("HTTP_") or k.startswith("CONTENT_")),
        "body_b64": base64.b64encode(body).decode("ascii"),
    }
    with _lock:
        record["index"] = len(_log)
        _log.append(record)
    return _reply(start_response, record)
