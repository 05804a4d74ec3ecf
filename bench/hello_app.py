"""The benchmark's application: a plain WSGI function, a 14-byte body with Content-Length."""

BODY = b"Hello, World!\n"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
