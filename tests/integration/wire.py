"""Raw HTTP/1.x over sockets for the tests: send exact bytes, parse exact responses.

http.client hides what the tests need to see (interim 100s, framing, when the server closes),
so responses are parsed here from the bytes, and every failure carries the bytes sent and
received for diagnosis. Every read has a deadline.
"""

import json
import socket
import time

MAX_HEAD = 256 * 1024


class ProtocolError(AssertionError):
    """The server's bytes are not a well-formed response (or it stopped mid-response)."""


def show(data, limit=600):
    """A readable, bounded repr of bytes for assertion messages."""
    if len(data) <= limit:
        return repr(bytes(data))
    return "%r ... (%d bytes in all) ... %r" % (bytes(data[: limit // 2]), len(data),
                                                 bytes(data[-limit // 4:]))


class Response:
    def __init__(self, version, status, reason, headers, body, raw, complete=True):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] in wire order, as sent
        self.body = body
        self.raw = raw  # the bytes of this response as received
        self.complete = complete  # False when the connection closed before the framing ended

    def header(self, name):
        """The first value of a header (case-insensitive), or None."""
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError("response body is not JSON: %s" % show(self.raw)) from None

    def __repr__(self):
        return "<Response %s %s %s>" % (self.status, self.reason, show(self.raw, 300))


class Reader:
    """Parses responses from a byte source; `fill` returns False at EOF."""

    def __init__(self, data=b""):
        self.buf = bytearray(data)
        self.eof = False
        self.received = bytearray(data)  # everything, for diagnosis

    def fill(self, deadline):
        return False

    def _more(self, deadline):
        if self.eof:
            return False
        if not self.fill(deadline):
            self.eof = True
            return False
        return True

    def _take(self, n):
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _line(self, deadline, limit=MAX_HEAD):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                return self._take(i + 2)
            if len(self.buf) > limit:
                raise ProtocolError("line longer than %d bytes: %s" % (limit, show(self.buf)))
            if not self._more(deadline):
                return None

    def at_eof(self, deadline):
        """True when nothing more will come (EOF with an empty buffer)."""
        while not self.buf:
            if not self._more(deadline):
                return True
        return False

    def read_response(self, method="GET", deadline=None, timeout=10.0):
        """One response (an interim 1xx counts as one). None if EOF came before any byte."""
        deadline = deadline or time.monotonic() + timeout
        start = len(self.received) - len(self.buf)
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = self._take(i + 4)
                break
            if len(self.buf) > MAX_HEAD:
                raise ProtocolError("response head too long: %s" % show(self.buf))
            if not self._more(deadline):
                if self.buf:
                    raise ProtocolError("connection closed inside a response head: %s"
                                        % show(self.buf))
                return None
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ProtocolError("bad status line %r in %s" % (lines[0], show(head)))
        version = parts[0].decode("latin-1")
        status = int(parts[1])
        reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError("bad header line %r in %s" % (line, show(head)))
            headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        resp = Response(version, status, reason, headers, b"", b"")
        te = ",".join(resp.header_all("Transfer-Encoding")).lower()
        cl = resp.header_all("Content-Length")
        if method == "HEAD" or status < 200 or status in (204, 304):
            body, complete = b"", True
        elif te:
            if te.replace(" ", "") != "chunked":
                raise ProtocolError("unexpected Transfer-Encoding %r: %s" % (te, show(head)))
            if cl:
                raise ProtocolError("both Content-Length and chunked: %s" % show(head))
            body, complete = self._chunked(deadline)
        elif cl:
            if len(cl) > 1 or not cl[0].isdigit():
                raise ProtocolError("bad Content-Length %r: %s" % (cl, show(head)))
            body, complete = self._exactly(int(cl[0]), deadline)
        else:
            body, complete = self._until_eof(deadline)
        resp.body = body
        resp.complete = complete
        end = len(self.received) - len(self.buf)
        resp.raw = bytes(self.received[start:end])
        return resp

    def read_final(self, method="GET", deadline=None, timeout=10.0):
        """The next final (non-1xx) response, skipping interim ones."""
        deadline = deadline or time.monotonic() + timeout
        while True:
            resp = self.read_response(method, deadline)
            if resp is None or resp.status >= 200:
                return resp

    def _exactly(self, n, deadline):
        while len(self.buf) < n:
            if not self._more(deadline):
                return self._take(len(self.buf)), False
        return self._take(n), True

    def _until_eof(self, deadline):
        while self._more(deadline):
            pass
        return self._take(len(self.buf)), True

    def _chunked(self, deadline):
        body = bytearray()
        while True:
            line = self._line(deadline)
            if line is None:
                return bytes(body), False
            size_text = line[:-2].split(b";", 1)[0]
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError("bad chunk size line %r after %d body bytes"
                                    % (line, len(body))) from None
            if size == 0:
                while True:  # trailers, then the empty line
                    trailer = self._line(deadline)
                    if trailer is None:
                        return bytes(body), False
                    if trailer == b"\r\n":
                        return bytes(body), True
            data, ok = self._exactly(size, deadline)
            body += data
            if not ok:
                return bytes(body), False
            crlf, ok = self._exactly(2, deadline)
            if not ok:
                return bytes(body), False
            if crlf != b"\r\n":
                raise ProtocolError("chunk not followed by CRLF: %r" % crlf)


class Conn(Reader):
    """A client connection with a response parser on its receive side."""

    def __init__(self, address, timeout=10.0, family=None):
        super().__init__()
        if family is None:
            family = socket.AF_UNIX if isinstance(address, str) else (
                socket.AF_INET6 if ":" in address[0] else socket.AF_INET)
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.sent = bytearray()

    def fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no response before the deadline; sent %s; received %s"
                               % (show(self.sent), show(self.received)))
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError("no response before the deadline; sent %s; received %s"
                               % (show(self.sent), show(self.received))) from None
        except ConnectionResetError:
            return False
        if not data:
            return False
        self.buf += data
        self.received += data
        return True

    def send(self, data):
        self.sock.sendall(data)
        self.sent += data

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def request(self, method, target, headers=(), body=b"", version="HTTP/1.1", host="test"):
        """Sends one request with Host (unless host is None) and Content-Length when there is
        a body, and returns the final response."""
        lines = ["%s %s %s" % (method, target, version)]
        if host is not None:
            lines.append("Host: %s" % host)
        lines.extend("%s: %s" % h for h in headers)
        if body and not any(h[0].lower() in ("content-length", "transfer-encoding")
                            for h in headers):
            lines.append("Content-Length: %d" % len(body))
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return self.read_final(method)

    def read_at_least(self, n, timeout=10.0):
        """Receives until `n` bytes in all have arrived; False if the server closed first."""
        deadline = time.monotonic() + timeout
        while len(self.received) < n:
            if not self._more(deadline):
                return False
        return True

    def wait_closed(self, timeout=10.0):
        """Reads (and discards) until the server closes; True if it did before the timeout."""
        deadline = time.monotonic() + timeout
        try:
            while self._more(deadline):
                del self.buf[:]
        except TimeoutError:
            return False
        return True

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def exchange(address, data, half_close=True, timeout=10.0):
    """Sends raw bytes on a new connection (then shuts down writing unless told not to) and
    returns everything the server sent until it closed, and whether it closed in time."""
    with Conn(address, timeout) as c:
        c.send(data)
        if half_close:
            c.shutdown_write()
        closed = c.wait_closed(timeout)
        return bytes(c.received), closed


def parse_all(data, methods=()):
    """Every response in `data` (already complete bytes), in order. `methods` gives the
    request method per response where it matters (HEAD)."""
    reader = Reader(data)
    out = []
    while True:
        method = methods[len(out)] if len(out) < len(methods) else "GET"
        resp = reader.read_response(method, deadline=time.monotonic() + 1)
        if resp is None:
            return out
        out.append(resp)
