"""A Django WSGI module that relies on DJANGO_SETTINGS_MODULE being set by the environment."""
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
