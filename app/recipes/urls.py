import re

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path, re_path
from django.views.static import serve

from cookbook.views import SignUpView

admin.site.site_header = "Recipes administration"
admin.site.site_title = "Recipes admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", SignUpView.as_view(), name="signup"),
    path("", include("cookbook.urls")),
]


def serve_directory(prefix, root):
    """Let Django serve a directory itself (slow; for setups without a file server)."""
    if not prefix.startswith("/"):
        raise ImproperlyConfigured(f"Cannot serve files for the non-local URL prefix {prefix!r}.")
    return re_path(rf"^{re.escape(prefix.lstrip('/'))}(?P<path>.*)$", serve, {"document_root": root})


if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
elif settings.SERVE_STATIC:
    urlpatterns.append(serve_directory(settings.STATIC_URL, settings.STATIC_ROOT))
if settings.DEBUG or settings.SERVE_MEDIA:
    urlpatterns.append(serve_directory(settings.MEDIA_URL, settings.MEDIA_ROOT))
