"""The traveller's pages at a phone's width (375 × 740 CSS pixels): nothing wider
than the screen, so no sideways scrolling, and the main controls reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journey import (
    bookable,  # noqa: F401 (fixture)
    fill_plan_form,
    t,
    wait_solved,
)
from tests.itineraries.conftest import offers, route  # noqa: F401 (fixtures)

PHONE = {"width": 375, "height": 740}


def assert_fits(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth"
        " - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{overflow} px wider than the screen at {page.url}"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_home_plan_form_and_itinerary_fit_a_phone(
    page,
    screenshot,
    bookable,  # noqa: F811
    lang,
):
    page.set_viewport_size(PHONE)
    page.goto("/")
    if lang == "es":
        page.get_by_label(t("en", "Language")).select_option("es")
        page.get_by_role("button", name=t("en", "Change")).click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_fits(page)
    screenshot(page, f"phone-home-{lang}")
    page.get_by_role("link", name=t(lang, "Plan my trip")).first.click()
    assert_fits(page)
    screenshot(page, f"phone-form-{lang}")
    fill_plan_form(page, lang)
    page.get_by_role("button", name=t(lang, "Plan my trip")).click()
    wait_solved(page, lang)
    assert_fits(page)
    expect(page.get_by_role("button", name=t(lang, "Book this plan"))).to_be_visible()
    screenshot(page, f"phone-itinerary-{lang}")
