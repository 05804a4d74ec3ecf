"""Inherited listening sockets, as the README's --bind row promises: `fd://N` (a socket passed
open by whoever started wsgihost) and systemd socket activation (LISTEN_FDS sockets from fd 3,
used when LISTEN_PID is wsgihost's own PID)."""

import socket

from conftest import LISTENING


def listener(family=socket.AF_INET, address=("127.0.0.1", 0)):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind(address)
    s.listen(16)
    return s


def serves(srv, address):
    """A request through `address` (host, port) reaches the app."""
    with socket.create_connection(address, timeout=10) as c:
        c.sendall(b"GET /_t/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while len(data) < 4096:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.startswith(b"HTTP/1.1 200") and data.endswith(b"Hello, World!\n")


def test_fd_bind_serves_an_inherited_socket(start_server):
    with listener() as s:
        srv = start_server(bind="fd://%d" % s.fileno(), pass_fds=(s.fileno(),))
        assert srv.urls == ["http://127.0.0.1:%d" % s.getsockname()[1]]
        assert serves(srv, s.getsockname())


def test_fd_bind_refuses_a_socket_that_does_not_listen(start_server):
    with socket.socket() as s:
        spec = "fd://%d" % s.fileno()
        srv = start_server(bind=spec, pass_fds=(s.fileno(),), wait=False)
        assert srv.wait_exit() != 0
    err = srv.stderr.text()
    assert "cannot listen on %s: not a listening socket" % spec in err, err


def systemd(sockets, pid="$$"):
    """A prefix that starts wsgihost as systemd would: the sockets at fds 3, 4, ..., with
    LISTEN_FDS and LISTEN_PID (its own PID: exec keeps the shell's)."""
    redirects = " ".join("%d<&%d" % (3 + i, s.fileno()) for i, s in enumerate(sockets))
    script = 'LISTEN_PID=%s LISTEN_FDS=%d exec "$@" %s' % (pid, len(sockets), redirects)
    return dict(prefix=["bash", "-c", script, "bash"], pass_fds=[s.fileno() for s in sockets])


def test_systemd_sockets_are_used(start_server):
    with listener() as tcp, listener() as tcp2:
        srv = start_server(bind=None, wait=False, **systemd([tcp, tcp2]))
        urls = srv.wait_listening(count=2)
        want = ["http://127.0.0.1:%d" % s.getsockname()[1] for s in (tcp, tcp2)]
        assert sorted(urls) == sorted(want)
        assert serves(srv, tcp.getsockname()) and serves(srv, tcp2.getsockname())


def test_systemd_sockets_for_another_pid_are_ignored(start_server):
    with listener() as s:
        srv = start_server(wait=False, **systemd([s], pid="1"))
        (url,) = srv.wait_listening()
        assert url != "http://127.0.0.1:%d" % s.getsockname()[1]  # its own --bind 127.0.0.1:0
        assert srv.get("/_t/hello").status == 200


def test_bind_flag_is_not_needed_with_systemd_sockets(start_server):
    """Sockets from systemd replace --bind (they are what the unit listens on)."""
    with listener() as s:
        srv = start_server(wait=False, **systemd([s]))
        srv.wait_listening()
        assert serves(srv, s.getsockname())  # by now every listener has been announced
        assert LISTENING.findall(srv.stderr.text()) == ["http://127.0.0.1:%d"
                                                        % s.getsockname()[1]]
