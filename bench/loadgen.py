"""Load generation for bench/run: wrk (closed-loop throughput) and idle keep-alive connections
(latency at a fixed rate is bench/openloop.c's job). Everything targets 127.0.0.1 and is bounded in
time."""

import re
import resource
import socket
import subprocess
import time

def _ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out):
    def find(rx, default=None):
        m = re.search(rx, out)
        return m.group(1) if m else default

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    rps = find(r"Requests/sec:\s+([\d.]+)")
    if rps is None:
        raise RuntimeError("cannot parse wrk output:\n" + out)
    p50, p99 = find(r"\s50%\s+(\S+)"), find(r"\s99%\s+(\S+)")
    return {
        "rps": float(rps),
        "requests": int(find(r"(\d+) requests in", "0")),
        "p50": _ms(p50) if p50 else None,
        "p99": _ms(p99) if p99 else None,
        "non2xx": int(find(r"Non-2xx or 3xx responses: (\d+)", "0")),
        "errors": {k: int(v) for k, v in zip(("connect", "read", "write", "timeout"),
                                               errors.groups())} if errors else {},
    }


def wrk(port, path, core, duration, connections, close=False, timeout_s="5s"):
    """Runs wrk once; returns (command, parsed result, raw output)."""
    cmd = ["taskset", "-c", core, "wrk", "-t1", "-c%d" % connections, "-d%s" % duration,
           "--latency", "--timeout", timeout_s]
    if close:
        cmd += ["-H", "Connection: close"]
    cmd.append("http://127.0.0.1:%d%s" % (port, path))
    seconds = float(re.fullmatch(r"([\d.]+)s?", str(duration)).group(1))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError("wrk failed (%d): %s" % (proc.returncode, proc.stderr.strip()))
    result = parse_wrk(proc.stdout)
    # wrk's own CPU time over the run: near 1.0 means the load generator, not the server, was
    # the limit (its core is the server's only competitor for nothing else)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["client_cpu"] = used / seconds if seconds else None
    return cmd, result, proc.stdout


def idle_connections(port, path, count, settle=1.0, timeout=10.0):
    """Opens `count` keep-alive connections, makes one request on each and reads the answer,
    then leaves them idle. Returns (list of sockets, how many the server kept open after
    `settle` seconds). The caller closes the sockets."""
    socks = []
    deadline = time.monotonic() + timeout
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: keep-alive\r\n\r\n"
               % (path, port)).encode()
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=max(0.5, deadline - time.monotonic()))
        s.sendall(request)
        socks.append(s)
    for s in socks:
        buf = b""
        s.settimeout(max(0.5, deadline - time.monotonic()))
        try:
            while b"\r\n\r\n" not in buf:
                piece = s.recv(65536)
                if not piece:
                    break
                buf += piece
            head, _, body = buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            need = int(m.group(1)) if m else 0
            while len(body) < need:
                piece = s.recv(65536)
                if not piece:
                    break
                body += piece
        except OSError:
            pass
    time.sleep(settle)
    still_open = 0
    for s in socks:
        s.setblocking(False)
        try:
            still_open += s.recv(1) != b""  # b"" means the server closed it
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
    return socks, still_open
