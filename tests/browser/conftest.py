"""Browser tests: a real headless Chromium (Debian's ``chromium`` from apt, never a
downloaded build) driven by Playwright for Python against pytest-django's
``live_server``.

Every test in this folder gets the ``browser`` marker. Without Chromium (or without
the ``playwright`` package) they are skipped, unless ``--require-services`` is given
(``bin/test`` gives it): then that is an error, so CI cannot pass with them silently
skipped. ``CHROMIUM_PATH`` names the executable; by default ``chromium`` on PATH.

Fixtures for tests:

- ``live_server`` (pytest-django): a threaded server on the test database. It works
  on both runs of ``bin/test``: on PostgreSQL the server thread opens its own
  connection to the test database; on SQLite the test database is in memory and
  pytest-django hands the test's connection to the server thread. Tests using it get
  transactional database access, so data made in the test is seen by the server.
- ``page``: a fresh browser context and tab (English, 1280×900), with
  ``page.base_url`` set, so ``page.goto("/")`` works.
- ``screenshot(page, label="")``: saves
  ``var/test-artifacts/screenshots/<test>-<n>[-label].png``; a failing test gets a
  last one automatically.
- ``staff_user`` / ``login(page, user)``: a staff account, and signing in through
  ``/admin/login/``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
HERE = Path(__file__).resolve().parent
PASSWORD = "browser-test-password"  # a throwaway test account


def chromium_path() -> str | None:
    """The Chromium executable: ``CHROMIUM_PATH``, else ``chromium`` on PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright package (pip install -r requirements-dev.txt)"
    if chromium_path() is None:
        return "needs Chromium (apt-get install chromium, or set CHROMIUM_PATH)"
    return None


def _in_this_folder(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    for item in items:
        if _in_this_folder(item):
            item.add_marker(pytest.mark.browser)
    marked = [item for item in items if "browser" in item.keywords]
    if not marked:
        return
    reason = _missing()
    if reason is None:
        return
    if config.getoption("--require-services"):
        raise pytest.UsageError(f"{len(marked)} 'browser' tests selected but {reason}")
    for item in marked:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def live_server(request, tmp_path_factory) -> Iterator:
    """pytest-django's ``live_server``, started with the settings its middleware
    reads once at start-up: plain HTTP (no HTTPS redirect, no HSTS) and an existing
    static folder (WhiteNoise warns about a missing one, and warnings are errors)."""
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    static_root = tmp_path_factory.mktemp("live-server-static")
    with override_settings(
        STATIC_ROOT=str(static_root),
        SECURE_SSL_REDIRECT=False,
        SECURE_HSTS_SECONDS=0,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
    ):
        server = LiveServer(addr)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium per test module.

    Playwright's sync API keeps an asyncio loop running on the main thread while it
    is started, and Django's guard against ORM calls from async code would take the
    test's (synchronous) ORM calls for such: ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set
    while Playwright runs, as Django's docs advise for such cases. Module scope keeps
    that to the browser tests' modules (the loop and the setting end with them)."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(),
                headless=True,
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture
def _browser_settings(settings) -> None:
    """Plain HTTP to the live server: no secure-only cookies, no HSTS."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_HSTS_SECONDS = 0


@pytest.fixture
def console_errors() -> list[str]:
    """The page's browser console errors and uncaught page errors so far. ``page``
    fails the test on any left at its end: a test that checks them itself may
    clear the list."""
    return []


@pytest.fixture
def page(browser, live_server, _browser_settings, console_errors, request) -> Iterator:
    """A new context and tab on the live server; ``page.goto("/path")`` is relative
    to it. Console errors and uncaught page errors fail the test."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors = console_errors

    def on_console(message) -> None:
        # The browser asks for /favicon.ico by itself; the site has none.
        url = (message.location or {}).get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"{message.text} ({url})")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
        if request.node.stash.get(_FAILED, False):
            _save(request, tab, "failed")
        assert not errors, f"browser console errors: {errors}"
    finally:
        context.close()


def _save(request: pytest.FixtureRequest, page, label: str = "") -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    if _COUNTER not in request.node.stash:  # the test's first: drop older runs' ones
        for old in SCREENSHOTS.glob(f"{glob.escape(name)}-*.png"):
            old.unlink()
    counter = request.node.stash.setdefault(_COUNTER, [0])
    counter[0] += 1
    suffix = f"-{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}" if label else ""
    path = SCREENSHOTS / f"{name}-{counter[0]}{suffix}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


_COUNTER = pytest.StashKey[list]()


@pytest.fixture
def screenshot(request) -> Callable[..., Path]:
    """``screenshot(page, "label")`` saves a full-page PNG and returns its path."""

    def take(page, label: str = "") -> Path:
        return _save(request, page, label)

    return take


@pytest.fixture
def staff_user(transactional_db):
    return get_user_model().objects.create_user(
        username="staff@example.org",
        email="staff@example.org",
        password=PASSWORD,
        is_staff=True,
    )


@pytest.fixture
def login() -> Callable:
    """``login(page, user)``: sign in through the admin login form, as a person
    would (the user's password must be ``PASSWORD``)."""

    def sign_in(page, user, *, next_url: str = "/admin/") -> None:
        page.goto(f"/admin/login/?{urlencode({'next': next_url})}")
        page.get_by_label(re.compile("username", re.I)).fill(user.get_username())
        page.get_by_label(re.compile("password", re.I)).fill(PASSWORD)
        page.get_by_role("button", name=re.compile("log in", re.I)).click()
        page.wait_for_load_state()

    return sign_in
