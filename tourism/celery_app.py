"""Celery application. Workers: ``celery -A tourism.celery_app worker -l INFO``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tourism.settings")

app = Celery("tourism")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
