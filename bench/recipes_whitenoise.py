"""The WSGI module gunicorn serves in bench/run: the recipes app's own WSGI callable (the same
Django settings every server gets), wrapped in WhiteNoise serving STATIC_ROOT at STATIC_URL,
the way a Django site on gunicorn serves its static files without nginx.

WhiteNoise's WSGI wrapper (not its Django middleware) is used on purpose: Django's settings stay
identical for every server, and static requests skip Django's middleware chain, which makes
the gunicorn + whitenoise baseline as fast as whitenoise can be (the middleware would be slower).
"""

from django.conf import settings
from whitenoise import WhiteNoise

from recipes.wsgi import application as django_application

application = WhiteNoise(django_application, root=settings.STATIC_ROOT, prefix=settings.STATIC_URL)
