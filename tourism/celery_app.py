"""Celery application. Workers: ``celery -A tourism.celery_app worker -l INFO -Q
celery`` for the default queue and ``… -Q sync`` for syncs (CELERY_TASK_ROUTES),
or ``-Q celery,sync`` on one worker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tourism.settings")

app = Celery("tourism")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
