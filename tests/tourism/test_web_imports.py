"""Web processes do not load the solver: OR-Tools (and the pandas it pulls in) cost
about 90 MiB per gunicorn worker and are only needed where plans are solved."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings

CHECK = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tourism.settings"
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every view module of the site and the APIs
import tourism.wsgi  # noqa: F401
print(sorted(m for m in ("ortools", "pandas") if m in sys.modules))
"""


def test_loading_the_site_does_not_import_or_tools():
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
