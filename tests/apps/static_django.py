"""A minimal Django project in one module for the static-file tests: settings come from
TEST_STATIC_ROOT / TEST_MEDIA_ROOT, and every path is answered by a view saying "django:PATH",
so a test can tell whether wsgihost or Django answered.

TEST_STATIC_STORAGE picks collectstatic's storage: unset, Django's default; "manifest",
ManifestStaticFilesStorage; "custom", AssetsStorage below (a subclass with its own manifest
name, location TEST_ASSETS_ROOT and URL /assets/). Django >= 4.2 gets them through STORAGES
(OPTIONS for the location and URL), older ones through STATICFILES_STORAGE."""

import os

import django
from django.conf import settings

MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
ASSETS_URL = "/assets/"
STORAGE = os.environ.get("TEST_STATIC_STORAGE", "")

storage_settings = {}
if STORAGE:
    backend = {"manifest": MANIFEST, "custom": __name__ + ".AssetsStorage"}[STORAGE]
    if django.VERSION >= (4, 2):
        options = ({"location": os.environ["TEST_ASSETS_ROOT"], "base_url": ASSETS_URL}
                   if STORAGE == "custom" else {})
        storage_settings["STORAGES"] = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": backend, "OPTIONS": options},
        }
    else:
        storage_settings["STATICFILES_STORAGE"] = backend

settings.configure(
    DEBUG=False,
    SECRET_KEY="static-tests-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    STATIC_URL=os.environ.get("TEST_STATIC_URL", "/static/"),
    STATIC_ROOT=os.environ.get("TEST_STATIC_ROOT"),
    MEDIA_URL="/media/",
    MEDIA_ROOT=os.environ.get("TEST_MEDIA_ROOT", ""),
    **storage_settings,
)

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import re_path  # noqa: E402


class AssetsStorage(ManifestStaticFilesStorage):
    """A project's own storage: its manifest renamed; Django < 4.2 (no STORAGES OPTIONS) gets
    the location and URL from these defaults."""

    manifest_name = "assets.json"

    def __init__(self, location=None, base_url=None, *args, **kwargs):
        super().__init__(location or os.environ["TEST_ASSETS_ROOT"], base_url or ASSETS_URL,
                         *args, **kwargs)


def view(request):
    return HttpResponse("django:" + request.path, content_type="text/plain")


urlpatterns = [re_path(r"^.*$", view)]

application = get_wsgi_application()
