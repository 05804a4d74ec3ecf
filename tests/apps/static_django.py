"""A minimal Django project in one module for the static-file tests: settings come from
TEST_STATIC_ROOT / TEST_MEDIA_ROOT, and every path is answered by a view saying "django:PATH",
so a test can tell whether wsgihost or Django answered."""

import os

from django.conf import settings

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
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import re_path  # noqa: E402


def view(request):
    return HttpResponse("django:" + request.path, content_type="text/plain")


urlpatterns = [re_path(r"^.*$", view)]

application = get_wsgi_application()
