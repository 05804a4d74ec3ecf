"""
WSGI config for the recipes project.

It exposes the WSGI callable as a module-level variable named ``application``;
``wsgihost --app recipes.wsgi`` (run from this project's directory) loads it.
"""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recipes.settings")

application = get_wsgi_application()
