"""The project's WSGI application with one extra, bare endpoint for the latency
benchmark (never deployed): ``GET /bench/row/<pk>`` reads one listing row by primary
key through the same middleware, gunicorn and PostgreSQL as the API, the yardstick
the OCTO operations' throughput is compared with (``booking_latency_bench.py``)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tourism.settings")
settings.ROOT_URLCONF = "bench_urls"
application = get_wsgi_application()
