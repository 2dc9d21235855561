"""WSGI entry point (gunicorn ``shop.wsgi:application``; runserver loads it too, in its serving process).

Without a broker the serving process also runs the periodic jobs (``shop.registry.scheduler``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
application = get_wsgi_application()

from shop.registry import scheduler  # noqa: E402  (needs the app loaded: it reads settings and Celery's tasks)

scheduler.start_embedded()
