"""The app gunicorn serves in bench/static: a tiny WSGI app wrapped in WhiteNoise, which serves
$BENCH_STATIC_ROOT at /static/ (what a Django site with whitenoise does for static files)."""

import os

from whitenoise import WhiteNoise


def app(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


application = WhiteNoise(app, root=os.environ["BENCH_STATIC_ROOT"], prefix="/static/")
