"""gunicorn's command lines run unchanged (issue 16): the flags people copy from gunicorn's
docs are honoured, warned about, or refused with the reason; -u/-g/--umask as gunicorn."""

import os
import re
import stat
import subprocess

import pytest

from conftest import APPS, REPO, binary, child_env, wait_until
from support import readable_by_others

APP = "opsapp:application"
EXIT_TIMEOUT = 30
# A worker running as nobody imports the test app: the checkout must be readable by others.
needs_readable_checkout = pytest.mark.skipif(
    not readable_by_others(APPS),
    reason="the checkout is not readable by other users (%s): a worker running as nobody "
           "cannot import the test app" % APPS)


def run(args, env=None, prefix=()):
    proc = subprocess.run([*prefix, binary(), *args], capture_output=True, text=True,
                          timeout=EXIT_TIMEOUT, env=child_env(env), cwd=REPO,
                          stdin=subprocess.DEVNULL)
    assert "Sanitizer" not in proc.stderr, proc.stderr
    return proc


def workers(srv):
    """The master's children, once there are some."""
    def children():
        pids = []
        for task in os.listdir("/proc/%d/task" % srv.pid):
            with open("/proc/%d/task/%s/children" % (srv.pid, task)) as f:
                pids += [int(p) for p in f.read().split()]
        return pids
    return wait_until(children, 10, "the workers")


def status_ids(pid, key):
    with open("/proc/%d/status" % pid) as f:
        line = next(l for l in f if l.startswith(key + ":"))
    return [int(x) for x in line.split()[1:]]


def test_name_sets_the_process_title(start_server):
    srv = start_server(app=APP, args=["-n", "shop"])
    srv.get("/")
    for pid, role in [(srv.pid, "master")] + [(w, "worker") for w in workers(srv)]:
        with open("/proc/%d/comm" % pid) as f:
            assert f.read().strip() == "shop"
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert f.read().split(b"\0")[0] == b"wsgihost: %s [shop]" % role.encode()


def test_env_flag_sets_the_apps_environment(start_server):
    srv = start_server(app=APP, args=["-e", "WSGIHOST_TEST_HOOK=from -e=yes"])
    assert srv.get("/hookfile").body == b"from -e=yes"
    srv = start_server(app=APP, args=["--env=WSGIHOST_TEST_HOOK=long form"])
    assert srv.get("/hookfile").body == b"long form"


@pytest.mark.parametrize("args, reason", [
    (["-D"], "detaches from its supervisor"),
    (["--daemon"], "detaches from its supervisor"),
    (["--certfile", "/etc/ssl/cert.pem", "--keyfile", "/etc/ssl/key.pem"], "terminate TLS"),
    (["--keyfile=/etc/ssl/key.pem"], "terminate TLS"),
    (["--ca-certs", "/etc/ssl/ca.pem"], "terminate TLS"),
    (["--paste", "production.ini"], "PasteDeploy"),
])
def test_flags_where_going_on_would_be_wrong_exit_2(args, reason):
    proc = run(["--bind", "127.0.0.1:0", "--pythonpath", str(APPS), *args, APP])
    assert proc.returncode == 2, proc.stderr
    assert reason in proc.stderr and "Listening" not in proc.stderr, proc.stderr


def test_flags_without_meaning_here_are_warned(start_server):
    srv = start_server(app=APP, args=["--worker-connections", "1000", "--reuse-port", "-k",
                                      "eventlet"])
    assert srv.get("/").status == 200
    err = srv.stderr.text()
    assert re.search(r"WARNING.*--worker-connections has no effect", err), err
    assert re.search(r"WARNING.*--reuse-port has no effect", err), err
    assert re.search(r"WARNING.*--worker-class eventlet is ignored", err), err


def test_check_config_loads_the_app_and_binds_nothing():
    ok = run(["--check-config", "--bind", "127.0.0.1:1", "--pythonpath", str(APPS), APP])
    assert ok.returncode == 0, ok.stderr
    assert "Listening" not in ok.stderr and "load" in ok.stderr, ok.stderr
    bad = run(["--check-config", "--pythonpath", str(APPS), "broken_import"])
    assert bad.returncode == 1, bad.stderr
    assert "broken_import fails at import time on purpose" in bad.stderr


def test_print_config_prints_the_effective_settings(tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("workers = 3\nkeepalive = 5\n")
    proc = run(["--print-config", "-c", str(conf), "--threads", "4", APP],
               env={"WSGIHOST_TIMEOUT": "12"})
    assert proc.returncode == 0, proc.stderr
    settings = dict(re.findall(r"^(\S+)\s+= ?(.*)$", proc.stdout, re.M))
    assert settings["workers"] == "3" and settings["keep-alive"] == "5", proc.stdout
    assert settings["threads"] == "4" and settings["timeout"] == "12", proc.stdout
    assert settings["app"] == APP and settings["backlog"] == "2048", proc.stdout
    defaults = dict(re.findall(r"^(\S+)\s+= ?(.*)$", run(["--print-config", APP]).stdout, re.M))
    assert defaults["keep-alive"] == "75" and defaults["bind"] == "127.0.0.1:8000"


def test_gunicorn_cmd_args_is_read_and_logged(start_server):
    srv = start_server(app=APP, env={"GUNICORN_CMD_ARGS": "--threads 3 --name from-env"})
    srv.stderr.wait_for(re.escape("1 worker(s), 3 thread(s) each"), 10)
    assert "reading settings from GUNICORN_CMD_ARGS" in srv.stderr.text()
    # WSGIHOST_CMD_ARGS, when set, is read instead
    srv = start_server(app=APP, env={"GUNICORN_CMD_ARGS": "--threads 3",
                                     "WSGIHOST_CMD_ARGS": "--threads 2"})
    srv.stderr.wait_for(re.escape("1 worker(s), 2 thread(s) each"), 10)


def test_short_options_with_attached_values(start_server):
    srv = start_server(app=APP, args=["-w1", "-t", "20"], env={"WEB_CONCURRENCY": "2"})
    srv.stderr.wait_for(re.escape("1 worker(s), 2 thread(s) each"), 10)  # -t is the timeout


def test_the_same_bind_twice_says_so():
    proc = run(["--bind", "127.0.0.1:0", "-b", "127.0.0.1:0", APP])
    assert proc.returncode == 2
    assert "--bind 127.0.0.1:0 was given twice" in proc.stderr, proc.stderr
    assert "another server" not in proc.stderr


# --- sockets and identities ----------------------------------------------------------------

@pytest.mark.parametrize("umask_args, mode", [([], 0o777), (["--umask", "007"], 0o770),
                                             (["-m", "0o22"], None)])
def test_unix_socket_mode(start_server, tmp_path, umask_args, mode):
    """0777 as gunicorn makes it, so nginx running as another user can connect; --umask says
    otherwise. The process's own umask (022 here) does not matter."""
    path = tmp_path / "app.sock"
    if mode is None:  # Python's 0o spelling is not C's: refused with the reason
        proc = run(["--bind", "unix:%s" % path, *umask_args, APP])
        assert proc.returncode == 2 and "for --umask" in proc.stderr, proc.stderr
        return
    old = os.umask(0o022)
    try:
        srv = start_server(app=APP, bind="unix:%s" % path, args=umask_args)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert srv.get("/").status == 200


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
@needs_readable_checkout
def test_user_and_group_as_root(start_server, tmp_path):
    """Bound as root, the workers run as the user and group (no supplementary groups of root),
    and the Unix socket belongs to them."""
    path = tmp_path / "app.sock"
    os.chmod(tmp_path, 0o755)
    srv = start_server(app=APP, bind="unix:%s" % path, args=["-u", "nobody", "-g", "nogroup"])
    assert srv.get("/").status == 200
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    for pid in workers(srv):
        assert status_ids(pid, "Uid") == [65534] * 4
        assert status_ids(pid, "Gid") == [65534] * 4
        assert status_ids(pid, "Groups") in ([65534], [])
    assert status_ids(srv.pid, "Uid")[0] == 0  # the master keeps what it needs


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start as another user")
@needs_readable_checkout
def test_user_when_not_root():
    """Not root: the current user is accepted, any other refused with the reason."""
    nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    proc = run(["--check-config", "-u", "root", "--pythonpath", str(APPS), APP], prefix=nobody)
    assert proc.returncode == 2, proc.stderr
    assert "--user root" in proc.stderr and "not root" in proc.stderr, proc.stderr
    proc = run(["--check-config", "-u", "nobody", "-g", "65534", "--pythonpath", str(APPS),
                APP], prefix=nobody)
    assert proc.returncode == 0, proc.stderr
    proc = run(["--check-config", "-u", "no-such-user-here", APP])
    assert proc.returncode == 2 and "no such user" in proc.stderr, proc.stderr
