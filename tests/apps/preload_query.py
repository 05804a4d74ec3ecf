"""The recipes app, after a query at import time (as apps that read configuration from their
database do), for the --preload test: /_t/master-backend says whether the PostgreSQL backend
that served the import-time query is still connected (the master must close it before forking,
so no worker inherits it)."""

from django.db import connection
from recipes.wsgi import application as recipes_app

with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid()")
    IMPORT_BACKEND = cursor.fetchone()[0]


def application(environ, start_response):
    if environ["PATH_INFO"] != "/_t/master-backend":
        return recipes_app(environ, start_response)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [IMPORT_BACKEND])
        alive = cursor.fetchone()[0]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"connected" if alive else b"closed"]
