"""Fails while being imported: wsgihost must print this traceback and exit non-zero."""

raise RuntimeError("broken_import fails at import time on purpose")


def application(environ, start_response):  # pragma: no cover - never reached
    start_response("200 OK", [])
    return [b""]
