"""The recipes app served by wsgihost, end to end: a chunked image upload through the Django
form arriving whole, and a real browser (Debian's headless Chromium, driven over the W3C
WebDriver protocol with urllib) logging in to the admin, creating a recipe and seeing it on the
public list with the stylesheet applied. The screenshot is kept under tests/artifacts/."""

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, Server, wait_until
from support import free_port
from recipesapp import APP, APP_DIR, app_env, manage

ADMIN_USER, ADMIN_PASSWORD = "admin", "admin-pass-for-tests-7"
DEMO_USER, DEMO_PASSWORD = "demo", "recipes-demo"
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PAGE_BACKGROUND = "rgb(251, 247, 240)"  # body background in static/css/site.css
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element identifier


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The recipes app on SQLite with demo data, an admin account and collected static files,
    served by wsgihost (static files from its own static serving)."""
    tmp = tmp_path_factory.mktemp("recipes")
    env = app_env(tmp, DJANGO_SUPERUSER_USERNAME=ADMIN_USER,
                  DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
                  DJANGO_SUPERUSER_EMAIL="admin@example.com")
    manage(env, "migrate", "--noinput", check=True)
    manage(env, "seed_recipes", "--count", "3", check=True)
    manage(env, "collectstatic", "--noinput", check=True)
    manage(env, "createsuperuser", "--noinput", check=True)
    srv = Server(app=APP, args=["--chdir", str(APP_DIR), "--threads", "4"], env=env,
                 pythonpath=False)
    srv.tmp = tmp
    yield srv
    srv.stop()


# ---- a small cookie-keeping client ------------------------------------------------------

class Client:
    def __init__(self, srv):
        self.srv = srv
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, chunked=False):
        conn = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=30)
        try:
            hdrs = dict(headers or {})
            if self.cookies:
                hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
            conn.request(method, path, body=body, headers=hdrs, encode_chunked=chunked)
            resp = conn.getresponse()
            data = resp.read()
            for value in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return resp.status, resp.headers, data
        finally:
            conn.close()

    def csrf_from(self, path):
        status, _, body = self.request("GET", path)
        assert status == 200, (path, status, body[:500])
        m = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert m, "no CSRF token in %s" % path
        return m.group(1).decode()

    def login(self, user, password):
        token = self.csrf_from("/accounts/login/")
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": user,
                                       "password": password}).encode()
        status, headers, body = self.request(
            "POST", "/accounts/login/", form,
            {"Content-Type": "application/x-www-form-urlencoded",
             "Referer": "http://%s:%d/accounts/login/" % (self.srv.host, self.srv.port)})
        assert status == 302, (status, body[:1000])
        assert "sessionid" in self.cookies


def multipart(fields, files, boundary):
    out = []
    for name, value in fields:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                   % (boundary, name.encode(), value.encode()))
    for name, filename, ctype, data in files:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   b"Content-Type: %s\r\n\r\n" % (boundary, name.encode(), filename.encode(),
                                                  ctype.encode()))
        out.append(data)
        out.append(b"\r\n")
    out.append(b"--%s--\r\n" % boundary)
    return b"".join(out)


def test_chunked_image_upload_through_the_form_arrives_whole(site):
    client = Client(site)
    client.login(DEMO_USER, DEMO_PASSWORD)
    token = client.csrf_from("/new/")
    # A PNG signature then 1.5 MiB of varied bytes: above --body-buffer-size (1 MiB), so the
    # body is spooled to a file before Django sees it.
    image = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 64)
    fields = [("csrfmiddlewaretoken", token), ("title", "Chunked upload pie"),
              ("summary", "Arrived in pieces, stored whole."), ("prep_minutes", "5"),
              ("cook_minutes", "10"), ("servings", "2"), ("ingredients", "flour\nwater"),
              ("steps", "mix\nbake"), ("new_tags", "")]
    boundary = b"wsgihostboundary7d3"
    body = multipart(fields, [("image", "pie.png", "image/png", image)], boundary)
    pieces = (body[i:i + 65536] for i in range(0, len(body), 65536))
    status, headers, resp = client.request(
        "POST", "/new/", pieces,
        {"Content-Type": "multipart/form-data; boundary=" + boundary.decode(),
         "Transfer-Encoding": "chunked",
         "Referer": "http://%s:%d/new/" % (site.host, site.port)}, chunked=True)
    assert status == 302, (status, resp[:2000])
    location = headers["Location"]
    assert "/recipes/chunked-upload-pie/" in location
    stored = list((site.tmp / "media").rglob("pie*.png"))
    assert len(stored) == 1, stored
    assert hashlib.sha256(stored[0].read_bytes()).hexdigest() == hashlib.sha256(image).hexdigest()
    status, _, page = client.request("GET", "/recipes/chunked-upload-pie/")
    assert status == 200 and b"Chunked upload pie" in page


# ---- the browser ------------------------------------------------------------------------

class WebDriver:
    """The few W3C WebDriver commands the test needs, over HTTP with urllib."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.session = None

    def call(self, method, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise AssertionError("WebDriver %s %s failed: %s" % (method, path,
                                                                 e.read()[:2000])) from None

    def start(self, profile_dir):
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                "--user-data-dir=%s" % profile_dir]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def s(self, path):
        return "/session/%s%s" % (self.session, path)

    def go(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def find(self, css):
        found = self.call("POST", self.s("/element"), {"using": "css selector", "value": css})
        assert isinstance(found, dict) and ELEMENT in found, (css, found, self.js(
            "return document.location.href + \" \" + document.body.innerText.slice(0, 500)"))
        return found[ELEMENT]

    def type(self, css, text):
        el = self.find(css)
        self.call("POST", self.s("/element/%s/clear" % el), {})
        self.call("POST", self.s("/element/%s/value" % el), {"text": text})

    def click(self, css):
        self.call("POST", self.s("/element/%s/click" % self.find(css)), {})

    def js(self, script):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": []})

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.call("GET", self.s("/screenshot"))))

    def quit(self):
        if self.session:
            self.call("DELETE", self.s(""))


def test_browser_admin_creates_a_recipe_shown_with_the_stylesheet(site):
    for exe in (CHROMIUM, CHROMEDRIVER):
        assert os.access(exe, os.X_OK), "%s is missing: run scripts/bootstrap" % exe
    port = free_port()
    profile = tempfile.mkdtemp(prefix="wsgihost-chromium-")
    driver_log = Path(profile + ".log")
    proc = subprocess.Popen([CHROMEDRIVER, "--port=%d" % port, "--log-path=%s" % driver_log],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wd = WebDriver(port)
    try:
        wait_until(lambda: _ready(wd), 30, "chromedriver")
        wd.start(profile)
        base = "http://127.0.0.1:%d" % site.port
        wd.go(base + "/admin/login/?next=/admin/")
        wd.type("#id_username", ADMIN_USER)
        wd.type("#id_password", ADMIN_PASSWORD)
        wd.click("input[type=submit]")
        wait_until(lambda: "Site administration" in wd.js("return document.body.innerText"),
                   20, "the admin index")
        wd.go(base + "/admin/cookbook/recipe/add/")
        wd.type("#id_title", "Browser-made shakshuka")
        wd.type("#id_summary", "Eggs poached in a spiced tomato sauce.")
        wd.type("#id_prep_minutes", "10")
        wd.type("#id_cook_minutes", "20")
        wd.type("#id_ingredients", "6 eggs\n1 can tomatoes")
        wd.type("#id_steps", "Simmer the sauce\nPoach the eggs")
        assert wd.js("return document.getElementById('id_slug').value") == \
            "browser-made-shakshuka"  # the admin's prepopulate JS ran
        wd.click("input[name=_save]")
        wait_until(lambda: "was added successfully" in wd.js("return document.body.innerText"),
                   20, "the recipe to be saved")
        wd.go(base + "/")
        assert "Browser-made shakshuka" in wd.js("return document.body.innerText")
        background = wd.js("return getComputedStyle(document.body).backgroundColor")
        assert background == PAGE_BACKGROUND, "the stylesheet is not applied: %r" % background
        sheet = wd.js("return Array.from(document.styleSheets).map(s => s.href).join(' ')")
        assert "/static/css/site." in sheet
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "recipes-list.png"
        wd.screenshot(shot)
        assert shot.read_bytes().startswith(b"\x89PNG")
        print("\nscreenshot: %s" % shot)
    finally:
        try:
            wd.quit()
        finally:
            proc.terminate()
            proc.wait(10)
            shutil.rmtree(profile, ignore_errors=True)
            driver_log.unlink(missing_ok=True)


def _ready(wd):
    try:
        return wd.call("GET", "/status")["ready"]
    except (OSError, AssertionError):
        time.sleep(0.1)
        return False
