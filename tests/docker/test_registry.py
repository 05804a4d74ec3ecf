"""Shipping through a registry: a private registry (Debian's docker-registry package, the
Distribution registry) on 127.0.0.1, the three images pushed to it, removed locally, pulled back
(same image ID, OCI labels intact) and run. Skipped, with the reason, where the package is not
installed (scripts/test-images installs it when apt has it)."""

import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from imagelib import STYLES, Container, check_oci_labels, docker, fetch, free_port, images, inspect, require_image, wait_for

REGISTRY = shutil.which("docker-registry")
pytestmark = pytest.mark.skipif(REGISTRY is None, reason="Debian's docker-registry package is not "
                                "installed (apt-get install docker-registry; scripts/test-images does)")


@pytest.fixture(scope="module")
def registry():
    """The registry's host:port, storing into a temporary directory; stopped afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="wsgihost-registry-") as root:
        config = os.path.join(root, "config.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\n"
                    "log:\n  level: warn\n"
                    "storage:\n  filesystem:\n    rootdirectory: %s/data\n" % root +
                    "http:\n  addr: 127.0.0.1:%d\n" % port)
        log = open(os.path.join(root, "registry.log"), "w+")
        proc = subprocess.Popen([REGISTRY, "serve", config], stdout=log, stderr=subprocess.STDOUT)

        def up():
            if proc.poll() is not None:
                log.seek(0)
                raise AssertionError("docker-registry exited %d:\n%s" % (proc.returncode, log.read()[-3000:]))
            try:
                return fetch(port, "/v2/", timeout=2).status == 200
            except OSError:
                return False
        try:
            wait_for(up, 30, "docker-registry on 127.0.0.1:%d" % port)
            yield "127.0.0.1:%d" % port
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


@pytest.mark.parametrize("style", STYLES)
def test_push_remove_pull_run(registry, style):
    local = require_image(images()[style])
    image_id = inspect("image", local, "{{json .Id}}")
    remote = "%s/wsgihost-recipes:%s" % (registry, style)
    docker("tag", local, remote)
    docker("push", remote, timeout=300)

    # Removed locally: every tag of the image, so the pull below must fetch its layers.
    docker("rmi", remote, local)
    assert docker("image", "inspect", image_id, check=False).returncode != 0, "image still present"

    pulled = docker("pull", remote, timeout=300).stdout
    assert "Downloaded newer image" in pulled, pulled
    assert inspect("image", remote, "{{json .Id}}") == image_id
    docker("tag", remote, local)  # back under its own name for the other tests
    docker("rmi", remote)
    check_oci_labels(inspect("image", local, "{{json .Config.Labels}}"))

    c = Container(style, local)
    try:
        home = c.get("/")
        assert home.status == 200, (home, c.logs()[-3000:])
        assert c.get("/healthz").status == 200
    finally:
        c.remove()
