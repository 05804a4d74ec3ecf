"""--reload: a change to a Python file of the app (or a --reload-extra-file) replaces the
workers, which then serve the new code; one change makes one reload."""

import textwrap

from conftest import wait_until

APP_V1 = textwrap.dedent('''
    import helper

    def application(environ, start_response):
        body = ("%s %s" % (VERSION, helper.WORD)).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    VERSION = "v1"
''')


def make_app(tmp_path):
    (tmp_path / "reloadapp.py").write_text(APP_V1)
    (tmp_path / "helper.py").write_text('WORD = "one"\n')
    return tmp_path


def body(srv):
    return srv.get("/").body.decode()


def reloads(srv):
    return srv.stderr.text().count("Handling signal: hup")


def test_reload_on_app_file_change(start_server, tmp_path):
    make_app(tmp_path)
    srv = start_server(app="reloadapp:application",
                       args=["--reload", "--pythonpath", str(tmp_path), "--workers", "2"],
                       env={"WEB_CONCURRENCY": "2"})
    srv.stderr.wait_for(r"(?s)(Worker ready.*){2}", 20)
    assert body(srv) == "v1 one"
    (tmp_path / "reloadapp.py").write_text(APP_V1.replace('"v1"', '"v2"'))
    wait_until(lambda: body(srv) == "v2 one", 20, "the new code served", interval=0.05)
    srv.stderr.wait_for(r"reloadapp\.py changed: reloading the workers", 5)
    # Both workers saw the change; the master was asked once.
    srv.stderr.wait_for(r"(?s)(Worker exiting.*){2}", 20)
    assert reloads(srv) == 1
    # A module imported by the app: watched too.
    (tmp_path / "helper.py").write_text('WORD = "two"\n')
    wait_until(lambda: body(srv) == "v2 two", 20, "the helper's change served", interval=0.05)


def test_reload_ignores_other_files_and_watches_extra_files(start_server, tmp_path):
    make_app(tmp_path)
    extra = tmp_path / "settings.toml"
    extra.write_text("a = 1\n")
    srv = start_server(app="reloadapp:application",
                       args=["--reload", "--pythonpath", str(tmp_path),
                             "--reload-extra-file", str(extra)])
    srv.stderr.wait_for("Worker ready", 20)
    (tmp_path / "notes.txt").write_text("not code\n")
    (tmp_path / ".hidden.py").write_text("x = 1\n")
    # A request after the writes: had they triggered anything, the (short) settle delay and
    # the HUP would be logged by the time the extra file's reload is.
    assert body(srv) == "v1 one"
    extra.write_text("a = 2\n")
    srv.stderr.wait_for(r"settings\.toml changed: reloading the workers", 20)
    srv.stderr.wait_for(r"(?s)Worker exiting", 20)
    assert reloads(srv) == 1
    assert "notes.txt" not in srv.stderr.text() and ".hidden.py" not in srv.stderr.text()


def test_new_package_directory_is_watched(start_server, tmp_path):
    make_app(tmp_path)
    srv = start_server(app="reloadapp:application",
                       args=["--reload", "--pythonpath", str(tmp_path)])
    srv.stderr.wait_for("Worker ready", 20)
    pkg = tmp_path / "newpkg"
    pkg.mkdir()
    # The directory appeared: a file written in it now is noticed.
    def noticed():
        (pkg / "mod.py").write_text("X = 1\n")
        return "mod.py changed" in srv.stderr.text()
    wait_until(noticed, 20, "a change inside the new directory", interval=0.2)


def test_without_reload_nothing_is_watched(start_server, tmp_path):
    make_app(tmp_path)
    srv = start_server(app="reloadapp:application", args=["--pythonpath", str(tmp_path)])
    srv.stderr.wait_for("Worker ready", 20)
    (tmp_path / "reloadapp.py").write_text(APP_V1.replace('"v1"', '"v3"'))
    assert body(srv) == "v1 one"
    assert reloads(srv) == 0


def test_reload_writes_no_bytecode_when_the_master_runs_python(start_server, tmp_path):
    # A config file starts the interpreter in the master, before the workers import the app:
    # --reload must reach that running interpreter, not only the environment of later ones.
    make_app(tmp_path)
    conf = tmp_path / "wsgihost.conf.py"
    conf.write_text("reload = True\n")
    srv = start_server(app="reloadapp:application",
                       args=["-c", str(conf), "--pythonpath", str(tmp_path)],
                       env={"PYTHONDONTWRITEBYTECODE": ""})
    srv.stderr.wait_for("Worker ready", 20)
    assert body(srv) == "v1 one"
    assert not (tmp_path / "__pycache__").exists()
