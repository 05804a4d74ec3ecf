#!/usr/bin/python3
"""Slow clients for bench/run: N connections that send their requests and read their responses
at about RATE bytes/s each (a browser-sized request head of ~600 bytes trickled in 64-byte
pieces, the response read 64 bytes at a time through a small receive buffer), over and over on
keep-alive connections (reconnecting when the server closes), until --duration has passed.

    slowclients.py --port P --path /plain/ --clients 50 --rate 1024 --duration 12

Prints one JSON line: {"clients", "completed" (responses read in full), "errors"}.
All traffic goes to 127.0.0.1; every wait is bounded by the deadline.
"""

import argparse
import asyncio
import json
import socket
import time

PIECE = 64


def request_head(port, path):
    head = (
        "GET %s HTTP/1.1\r\n"
        "Host: 127.0.0.1:%d\r\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
        "Accept-Language: en-GB,en;q=0.7,fr;q=0.3\r\n"
        "Accept-Encoding: gzip, deflate, br\r\n"
        "Referer: http://127.0.0.1:%d/recipes/\r\n"
        "Cookie: csrftoken=%s; sessionid=%s\r\n"
        "Connection: keep-alive\r\n"
        "\r\n" % (path, port, port, "c" * 64, "s" * 32)
    )
    return head.encode("latin-1")


async def slow_client(loop, port, head, rate, deadline, stats):
    pause = PIECE / rate
    while time.monotonic() < deadline:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)),
                                   max(0.1, deadline - time.monotonic()))
            while time.monotonic() < deadline:
                for i in range(0, len(head), PIECE):
                    await loop.sock_sendall(sock, head[i:i + PIECE])
                    await asyncio.sleep(pause)
                buf = b""
                while b"\r\n\r\n" not in buf:
                    piece = await asyncio.wait_for(loop.sock_recv(sock, PIECE),
                                                   max(0.1, deadline - time.monotonic()))
                    if not piece:
                        raise ConnectionError("closed before the response head")
                    buf += piece
                    await asyncio.sleep(pause)
                head_end = buf.index(b"\r\n\r\n") + 4
                fields = buf[:head_end].lower()
                length = 0
                for line in fields.split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                have = len(buf) - head_end
                while have < length:
                    piece = await asyncio.wait_for(loop.sock_recv(sock, PIECE),
                                                   max(0.1, deadline - time.monotonic()))
                    if not piece:
                        raise ConnectionError("closed in the body")
                    have += len(piece)
                    await asyncio.sleep(pause)
                stats["completed"] += 1
                if b"connection: close" in fields or not buf.startswith(b"HTTP/1.1"):
                    break
        except asyncio.TimeoutError:
            pass  # the deadline came
        except OSError:
            stats["errors"] += 1
            await asyncio.sleep(0.2)
        finally:
            sock.close()


async def run(args):
    loop = asyncio.get_running_loop()
    head = request_head(args.port, args.path)
    deadline = time.monotonic() + args.duration
    stats = {"clients": args.clients, "completed": 0, "errors": 0}
    await asyncio.gather(*(slow_client(loop, args.port, head, args.rate, deadline, stats)
                           for _ in range(args.clients)))
    return stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/plain/")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rate", type=float, default=1024.0, help="bytes/s per client")
    ap.add_argument("--duration", type=float, required=True)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
