#!/usr/bin/python3
"""The in-process ceiling for bench/run: the recipes app's Django WSGI callable called in a
Python loop with a prebuilt environ, no server and no socket. What it measures is the app
alone; a server's requests/s divided by this is the share of time the server leaves the app.

    ceiling.py --app-dir APP --path /plain/ [--path ...] --duration 5 [--warmup 1]

Each --path is measured in turn (a warm-up, then --duration seconds); one JSON line per path
on stdout: {"path", "rps", "requests", "p50", "p99" (ms), "status", "bytes", "cpu_us" (CPU
time per request)}. The environment
configures Django as for the servers (SECRET_KEY, DATABASE_URL, STATIC_ROOT...).
"""

import argparse
import io
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app-dir", required=True)
    ap.add_argument("--path", action="append", required=True)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    args = ap.parse_args()

    sys.path.insert(0, args.app_dir)
    os.chdir(args.app_dir)
    from recipes.wsgi import application  # noqa: E402  (after sys.path is set)

    status_seen = []

    def start_response(status, headers, exc_info=None):
        status_seen.append(status)
        return lambda data: None

    errors = io.StringIO()
    for target in args.path:
        path, _, query = target.partition("?")
        base = {
            "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": errors,
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        empty = b""

        def once():
            environ = dict(base)
            environ["wsgi.input"] = io.BytesIO(empty)
            result = application(environ, start_response)
            try:
                size = sum(len(chunk) for chunk in result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            return size

        end = time.perf_counter() + args.warmup
        while time.perf_counter() < end:
            once()
        status_seen.clear()
        latencies = []
        clock = time.perf_counter
        cpu0 = time.process_time()
        times0 = os.times()
        start = clock()
        end = start + args.duration
        size = 0
        now = start
        while now < end:
            size = once()
            t = clock()
            latencies.append(t - now)
            now = t
        elapsed = now - start
        cpu = time.process_time() - cpu0
        times1 = os.times()
        user, system = times1.user - times0.user, times1.system - times0.system
        latencies.sort()
        n = len(latencies)
        bad = sum(1 for s in status_seen if not s.startswith("2"))
        print(json.dumps({
            "path": target, "rps": n / elapsed, "requests": n,
            "p50": latencies[n // 2] * 1000, "p99": latencies[min(n - 1, int(n * 0.99))] * 1000,
            "status": status_seen[-1] if status_seen else None, "non2xx": bad, "bytes": size,
            "cpu_us": cpu * 1e6 / n if n else None,
            "sys_share": system / (user + system) if user + system > 0 else None,
        }), flush=True)


if __name__ == "__main__":
    main()
