"""The Content-Security-Policy in a real browser: every main page (home, plan form,
itinerary, checkout, manage, printable trip, provider portal login, admin login and
pages, the staff dashboard, the API docs) works under it with no violation, and the
policy is really enforced (an injected inline script or foreign image is refused).

Violations are caught twice: the page's ``securitypolicyviolation`` events (recorded
by a script the browser runs before the page's own, outside the page's CSP) and the
browser console (the ``page`` fixture fails a test on any console error; Chromium
logs each refusal there)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journey import (
    LEAD,
    bookable,  # noqa: F401 (fixture)
    fill_plan_form,
    t,
    wait_solved,
)
from tests.itineraries.conftest import offers, route  # noqa: F401 (fixtures)
from tests.providers.portal import factories as f
from tests.web.test_staff_dashboard import make_dashboard_data

RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
    `at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`
  );
});
"""


@pytest.fixture
def csp_page(page: Page) -> Page:
    page.add_init_script(RECORDER)
    return page


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def visit_clean(page: Page, url: str | None = None) -> None:
    """Open ``url`` (or stay), let it settle, and check it had no violation and a
    policy with a per-request nonce."""
    response = page.goto(url) if url else None
    page.wait_for_load_state("networkidle")
    assert violations(page) == [], page.url
    if response is not None:
        policy = response.headers["content-security-policy"]
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_the_travellers_pages_have_no_csp_violation(
    csp_page,
    screenshot,
    bookable,  # noqa: F811
):
    page = csp_page
    visit_clean(page, "/")
    page.get_by_role("link", name="Plan my trip").first.click()
    visit_clean(page)
    fill_plan_form(page, "en")
    page.get_by_role("button", name="Plan my trip").click()
    wait_solved(page, "en")
    visit_clean(page)  # the itinerary
    screenshot(page, "itinerary")

    page.get_by_role("button", name="Book this plan").click()
    expect(page).to_have_url(re.compile(r"/trips/[0-9a-f-]{36}/checkout/$"))
    # The countdown is the checkout's inline script: it runs (nonce accepted).
    timer = page.get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"^\d+:\d\d$"))
    shown = timer.inner_text()
    expect(timer).not_to_have_text(shown, timeout=5_000)  # it ticks
    visit_clean(page)
    page.get_by_label(t("en", "Full name")).fill(LEAD["name"])
    page.get_by_label(t("en", "Email")).fill(LEAD["email"])
    page.get_by_role("button", name=t("en", "Confirm and book")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage your trip")
    visit_clean(page)
    screenshot(page, "manage")

    page.get_by_role("link", name="Printable version").click()
    expect(page).to_have_url(re.compile(r"/print/$"))
    # The Print button's handler is a script with the nonce, not onclick="…".
    assert page.get_by_role("button", name="Print").get_attribute("onclick") is None
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") is True
    visit_clean(page)


def test_portal_admin_dashboard_and_api_docs_have_no_csp_violation(
    csp_page, screenshot, login, staff_user, small_catalogue
):
    page = csp_page
    provider = f.make_provider()
    member = f.make_member(provider)
    visit_clean(page, "/provider/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    visit_clean(page)
    listing = f.make_listing(provider)
    visit_clean(page, f"/provider/listings/{listing.pk}/feeds/")
    screenshot(page, "portal-feeds")

    visit_clean(page, "/admin/login/")
    screenshot(page, "admin-login")
    make_dashboard_data()
    staff_user.is_superuser = True
    staff_user.save()
    login(page, staff_user, next_url="/admin/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    visit_clean(page)
    for url in (
        "/admin/catalogue/place/",
        "/admin/catalogue/routeleg/add/",
        "/admin/providers/listing/",
        "/staff/dashboard/?start=2026-03&end=2026-04",
    ):
        visit_clean(page, url)
    screenshot(page, "dashboard")

    visit_clean(page, "/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    visit_clean(page)
    screenshot(page, "api-docs")


def test_the_policy_is_enforced(csp_page, console_errors, transactional_db):
    """An inline script without the nonce does not run and a foreign image is not
    loaded; both are reported, so the checks above would see a real violation."""
    page = csp_page
    page.goto("/")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__injected = true";
          document.body.appendChild(s);
          const img = document.createElement("img");
          img.src = "https://tracker.example/pixel.png";
          document.body.appendChild(img);
          const d = document.createElement("div");
          d.setAttribute("onclick", "window.__clicked = true");
          document.body.appendChild(d);
          d.click();
        }"""
    )
    page.wait_for_function("window.__cspViolations.length >= 3")
    assert page.evaluate("window.__injected") is None
    assert page.evaluate("window.__clicked") is None
    found = " | ".join(violations(page))
    assert "script-src" in found and "img-src" in found, found
    assert any("Content Security Policy" in e for e in console_errors)
    console_errors.clear()  # expected here
