"""gunicorn's request-parsing corpus replayed against each image's wsgihost (Debian 13's llhttp
9.2 library, where the host build compiles Debian 12's llhttp 8.1 sources).

The cases, their expectations and the replay are tests/integration/test_conformance.py's own,
imported unchanged: only the server differs. Here it is `docker run IMAGE wsgihost ...` with the
same command line as on the host (tests/apps mounted at the same path), so conftest.Server drives
it through the `docker run` client, which passes SIGTERM on and exits with the container's status.
"""

import sys

import pytest

from imagelib import REPO, STYLES, docker, images, require_image

sys.path.insert(0, str(REPO / "tests" / "integration"))
import conftest as host  # noqa: E402  (the integration suite's conftest: Server, APPS)

# Importing test_conformance computes its parameters, which asks llhttp_major() (of the host
# binary) without depending on the answer: no host build is needed to test the images.
_host_llhttp_major, host.llhttp_major = host.llhttp_major, lambda: 9
try:
    import test_conformance  # noqa: E402
    from test_conformance import test_corpus, test_corpus_with_host  # noqa: E402,F401  (collected here)
finally:
    host.llhttp_major = _host_llhttp_major


@pytest.fixture(scope="module", params=STYLES)
def corpus_servers(request):
    """test_conformance's fixture, for servers in containers of one image."""
    image = require_image(images()[request.param])
    version = docker("run", "--rm", image, "wsgihost", "--version").stdout
    llhttp_major = int(version.split("llhttp ")[1].split(".")[0])
    prefix = ["docker", "run", "--rm", "--network", "host", "--no-healthcheck",
              # the image's defaults that would change the server: one worker (the test app
              # counts calls per process, as on the host), no start-up migration
              "-e", "WEB_CONCURRENCY=1", "-e", "WSGIHOST_WORKERS=1", "-e", "WSGIHOST_MIGRATE=0",
              "-v", "%s:%s:ro" % (host.APPS, host.APPS), image]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(host, "binary", lambda: "wsgihost")  # the image's, first on its PATH
        mp.setattr(host, "llhttp_major", lambda: llhttp_major)
        yield from test_conformance.servers_by_flags(
            lambda flags: host.Server(args=["--threads", "2", *flags], prefix=prefix))


def test_replayed_against_llhttp_9(corpus_servers):
    """The images link the packaged llhttp 9 (the reason to replay the corpus there)."""
    assert host.llhttp_major() >= 9
    assert test_conformance.CORPUS, "corpus missing"
