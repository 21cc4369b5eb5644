"""Smoke tests in a real browser: the home page in English and Spanish through the
language switch, keyboard access to it, and the staff dashboard after signing in."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.test_staff_dashboard import make_dashboard_data


def test_home_in_english_then_spanish(page, screenshot, transactional_db):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Across Lake Titicaca, from Cusco to La Paz"
    )
    screenshot(page, "en")

    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "A través del lago Titicaca, de Cusco a La Paz"
    )
    expect(page.get_by_label("Idioma")).to_have_value("es")
    screenshot(page, "es")

    # The choice is kept (cookie): the next visit is in Spanish too.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_keyboard_reaches_the_language_switch(page, screenshot, transactional_db):
    page.goto("/")
    reached = []
    for _ in range(15):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || ''"))
        if reached[-1] == "language":
            break
    assert reached[-1] == "language", f"Tab went through {reached}"
    expect(page.get_by_label("Language")).to_be_focused()
    # From the switch, Tab reaches its submit button.
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Change")).to_be_focused()
    screenshot(page, "focus")


def test_staff_dashboard_after_admin_login(
    page, screenshot, login, staff_user, small_catalogue
):
    make_dashboard_data()
    url = "/staff/dashboard/?start=2026-03&end=2026-04"
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/admin/login/"))

    login(page, staff_user, next_url=url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff dashboard")
    expect(page.get_by_text("service date", exact=False).first).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(6)
    expect(page.get_by_role("cell", name="Kasani – Yunguyo")).to_have_count(2)
    screenshot(page, "dashboard")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").first.click()
    assert download.value.suggested_filename == "dashboard-country-2026-03-2026-04.csv"

    page.get_by_label("Country", exact=True).select_option("BO")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("cell", name="Lake Tours SAC")).to_have_count(0)
    expect(page.get_by_role("cell", name="Comunidad Sampaya").first).to_be_visible()
    screenshot(page, "dashboard-bo")

    # In Spanish too, with valid charts (no console errors: the fixture checks).
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("svg.chart")).to_have_count(6)
    expect(page.get_by_text("696,00").first).to_be_visible()
    screenshot(page, "dashboard-es")


def test_home_with_the_route_map_in_spanish(
    page, screenshot, console_errors, small_catalogue
):
    page.goto("/")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="Pasos fronterizos")).to_be_visible()
    expect(page.get_by_role("cell", name="Kasani – Yunguyo")).to_be_visible()
    screenshot(page, "map-es")
    # The map's SVG coordinates must not take the Spanish decimal comma ("513,2").
    errors = list(console_errors)
    console_errors.clear()  # checked here, not again by the fixture
    assert not errors
