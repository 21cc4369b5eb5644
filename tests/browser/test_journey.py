"""The traveller's whole journey in a real browser, in English and in Spanish: home →
plan form → itinerary (local times, the border's +1 h) → remove a step and re-plan →
book → checkout (countdown, lead traveller) → confirm → the emailed manage link →
cancel one part → calendar file → printable page; and the plan form's bad input,
with each error beside its field.

Texts are looked up with Django's own ``gettext`` in the page's language, so the
tests follow the Spanish catalogue as it is (a string it lacks shows in English on
the page, and here too) and never hard-code a translation.

Plans are solved eagerly: the suite's autouse ``_test_settings`` makes Celery eager
for every test not marked ``integration``, and the live server runs in a thread of
this process, so the plan is solved when the form's transaction commits, on the
SQLite run and on the PostgreSQL + Redis run alike. The page's polling is still
waited for (``BOOK_TIMEOUT``), should a plan be queued.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.forms import DecimalField
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from itineraries.models import TripPlan
from providers.models import Booking, InterestTag
from tests.itineraries.conftest import offers, route  # noqa: F401 (fixtures)
from tests.itineraries.factories import make_transport_offer

LEAD = {"name": "Ana Mamani", "email": "ana@example.org", "phone": "+51 951 000 111"}
MANAGE_URL = re.compile(r"https?://[^\s]+/trips/manage/[A-Za-z0-9_-]{20,}/")
BOOK_TIMEOUT = 60_000  # ms: a queued plan is polled for by the page
COUNTRY = {"en": ("Peru", "Bolivia"), "es": ("Perú", "Bolivia")}
LANGUAGES = ["en", "es"]


def t(language: str, text: str, **values) -> str:
    """``text`` in ``language`` as the site's catalogue has it."""
    with translation.override(language):
        translated = gettext(text)
    return translated % values if values else translated


def label(language: str, lazy) -> str:
    with translation.override(language):
        return str(lazy)


def speak(page: Page, language: str) -> None:
    """Choose the language with the header's form, as a visitor would."""
    if language == "en":
        return
    page.get_by_label(t("en", "Language")).select_option(language)
    page.get_by_role("button", name=t("en", "Change")).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def start(days_ahead: int = 30) -> date:
    return timezone.localdate() + timedelta(days=days_ahead)


@pytest.fixture
def bookable(offers):  # noqa: F811
    """The real route, stays and experiences in every hub, and a provider's seats
    on the Puno → Copacabana bus (bookable transport)."""
    make_transport_offer("puno-copacabana-bus")
    return offers


def fill_plan_form(page: Page, lang: str, **changes) -> None:
    values = {
        "origin": "cusco",
        "destination": "la-paz",
        "start_date": start().isoformat(),
        "days": "6",
        "adults": "2",
        "children": "0",
        "nationality": "CL",
    } | changes
    page.get_by_label(t(lang, "From"), exact=True).select_option(values["origin"])
    page.get_by_label(t(lang, "To"), exact=True).select_option(values["destination"])
    page.get_by_label(t(lang, "Start date")).fill(values["start_date"])
    page.get_by_label(t(lang, "Days"), exact=True).fill(values["days"])
    page.get_by_label(t(lang, "Adults")).fill(values["adults"])
    page.get_by_label(t(lang, "Children")).fill(values["children"])
    page.get_by_label(t(lang, "Nationality")).select_option(values["nationality"])
    page.get_by_role("radio", name=t(lang, "Overland")).check()
    page.get_by_role("radio", name=t(lang, "Normal"), exact=True).check()
    page.get_by_label(label(lang, InterestTag.TEXTILES.label)).select_option("5")
    page.get_by_label(label(lang, InterestTag.LAKE.label)).select_option("3")


def wait_solved(page: Page, lang: str) -> None:
    """The itinerary page, once solved (it polls and reloads while queued)."""
    expect(page).to_have_url(
        re.compile(r"/plans/[0-9a-f-]{36}/[A-Za-z0-9_-]{20,}/$"), timeout=BOOK_TIMEOUT
    )
    expect(page.get_by_role("button", name=t(lang, "Book this plan"))).to_be_visible(
        timeout=BOOK_TIMEOUT
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        t(lang, "Your itinerary")
    )


def day_title(lang: str, n: int) -> re.Pattern:
    """A day's heading: "Day 1 · Thursday 31 December 2026"."""
    return re.compile("^" + re.escape(t(lang, "Day %(n)s", n=n)) + " · ")


def check_itinerary(page: Page, lang: str) -> None:
    peru, bolivia = COUNTRY[lang]
    first_day = page.get_by_role("region", name=day_title(lang, 1))
    expect(first_day).to_be_visible()
    expect(page.get_by_role("heading", name=day_title(lang, 6))).to_be_visible()
    # Local times with their offset and country, on both sides of the border.
    expect(
        first_day.get_by_text(re.compile(rf"\d\d:\d\d \(UTC−05:00, {peru}\)")).first
    ).to_be_visible()
    expect(
        page.get_by_text(re.compile(rf"\d\d:\d\d \(UTC−04:00, {bolivia}\)")).first
    ).to_be_visible()
    clock = page.get_by_role("note").filter(
        has_text=t(lang, "Clocks change at this border: %(jump)s.", jump="+1 h")
    )
    expect(clock).to_have_count(1)
    clock.scroll_into_view_if_needed()
    # The route the service is named for: by Copacabana, across Kasani; sights on
    # the way.
    summary = page.locator("p.route-summary")
    expect(summary).to_contain_text("Copacabana")
    expect(summary).to_contain_text(
        t(lang, "Kasani, by Copacabana and the Tiquina strait")
    )
    expect(page.locator("li.step-sight").first).to_be_visible()
    expect(page.locator("li.step-sight .badge").first).to_have_text(t(lang, "Sight"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plan_tweak_book_confirm_manage_cancel(page, screenshot, bookable, lang):
    # Home, in the chosen language.
    page.goto("/")
    speak(page, lang)
    screenshot(page, "home")
    page.get_by_role("link", name=t(lang, "Plan my trip")).first.click()

    # The plan form, sent from the keyboard: Tab from the last field, Enter.
    expect(page.get_by_role("heading", level=1)).to_have_text(t(lang, "Plan my trip"))
    fill_plan_form(page, lang)
    screenshot(page, "plan-form")
    page.get_by_label(t(lang, "Must-see experiences and stays")).focus()
    page.keyboard.press("Tab")
    submit = page.get_by_role("button", name=t(lang, "Plan my trip"))
    expect(submit).to_be_focused()
    page.keyboard.press("Enter")

    # The itinerary: days with local times, the border's clock change.
    wait_solved(page, lang)
    check_itinerary(page, lang)
    first_plan = page.url
    screenshot(page, "itinerary")

    # Tweak: remove an experience and re-plan; a new plan, without it.
    remove = page.get_by_role(
        "button", name=re.compile("^" + re.escape(t(lang, "Remove")) + ": ")
    ).first
    removed = remove.get_attribute("aria-label").split(": ", 1)[1]
    remove.click()
    wait_solved(page, lang)
    assert page.url != first_plan
    expect(page.get_by_role("link", name=t(lang, "previous plan"))).to_have_attribute(
        "href", urlsplit(first_plan).path
    )
    expect(page.locator("li.step").filter(has_text=removed)).to_have_count(0)
    check_itinerary(page, lang)
    screenshot(page, "itinerary-replanned")

    # Book: everything held, a checkout with a running countdown.
    page.get_by_role("button", name=t(lang, "Book this plan")).click()
    expect(page).to_have_url(re.compile(r"/trips/[0-9a-f-]{36}/checkout/$"))
    countdown = page.get_by_role("timer")
    expect(countdown).to_be_visible()
    expect(countdown).to_have_text(re.compile(r"^(19|20):\d\d$"))
    expect(page.get_by_role("heading", name=t(lang, "Held for you"))).to_be_visible()
    screenshot(page, "checkout")

    # The lead traveller, then confirm.
    mail.outbox.clear()
    page.get_by_label(t(lang, "Full name")).fill(LEAD["name"])
    page.get_by_label(t(lang, "Email")).fill(LEAD["email"])
    page.get_by_label(t(lang, "Phone (optional)")).fill(LEAD["phone"])
    screenshot(page, "checkout-lead")
    page.get_by_role("button", name=t(lang, "Confirm and book")).click()
    expect(page).to_have_url(re.compile(r"/trips/[0-9a-f-]{36}/manage/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t(lang, "Manage your trip")
    )
    screenshot(page, "confirmed")
    manage_page = page.url

    # The email to the lead traveller carries the manage link: open it afresh.
    sent = [m for m in mail.outbox if m.to == [LEAD["email"]]]
    assert len(sent) == 1, [m.subject for m in mail.outbox]
    link = MANAGE_URL.search(sent[0].body)
    assert link, sent[0].body
    token = link.group(0).rstrip("/").rsplit("/", 1)[1]
    page.goto(link.group(0))
    # The link opens the same page, its token gone from the address.
    expect(page).to_have_url(manage_page)
    assert token not in page.url and token not in page.content()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t(lang, "Manage your trip")
    )
    expect(page.get_by_text(LEAD["name"])).to_be_visible()
    screenshot(page, "manage")

    # Cancel one part: its refund is shown first, then it is cancelled.
    # Each part's link is named after it ("Cancel <title>"), its text is "Cancel…".
    prefix = t(lang, "Cancel %(title)s", title="")
    cancel = (
        page.get_by_role("table")
        .first.get_by_role("link", name=re.compile("^" + re.escape(prefix)))
        .first
    )
    expect(cancel).to_have_text(t(lang, "Cancel…"))
    cancelled_title = cancel.get_attribute("aria-label").removeprefix(prefix)
    # A stay is a part per night, all of one title: the row is told by its time.
    starts = cancel.locator("xpath=ancestor::tr").locator("time").inner_text()
    cancel.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(cancelled_title)
    expect(page.locator("#refund")).to_be_visible()
    screenshot(page, "cancel-part")
    page.get_by_role("button", name=t(lang, "Yes, cancel this part")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t(lang, "Manage your trip")
    )
    row = (
        page.get_by_role("row").filter(has_text=cancelled_title).filter(has_text=starts)
    )
    expect(row).to_have_count(1)
    expect(row.locator("td.status-cancelled")).to_contain_text(
        label(lang, Booking.Status.CANCELLED.label)
    )
    expect(page.get_by_role("status")).to_contain_text(cancelled_title)
    screenshot(page, "part-cancelled")

    # The calendar file, through its link.
    ics = page.get_by_role("link", name=t(lang, "Add to calendar (.ics)"))
    with page.expect_download() as download:
        ics.click()
    assert download.value.suggested_filename == "trip.ics"
    response = page.request.get(ics.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.text().startswith("BEGIN:VCALENDAR")

    # The printable page.
    page.get_by_role("link", name=t(lang, "Printable version")).click()
    expect(page).to_have_url(re.compile(r"/print/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t(lang, "Your trip"))
    expect(page.get_by_role("button", name=t(lang, "Print"))).to_be_visible()
    expect(page.get_by_text(cancelled_title).first).to_be_visible()
    screenshot(page, "print")


def field_block(page: Page, field_id: str):
    """The form's block of one field: its label, control and error."""
    return page.locator("div.field").filter(has=page.locator(f"#{field_id}"))


def expect_errors_beside(page: Page, lang: str, expected: dict) -> None:
    """Each field of ``expected`` shows its error (``None``: any text) inside its
    own block, the control marked invalid and described by it; no other has one."""
    expect(page.get_by_role("alert")).to_have_text(
        t(lang, "Please correct the fields marked below.")
    )
    expect(page.locator(".field .error")).to_have_count(len(expected))
    for field_id, message in expected.items():
        error = field_block(page, field_id).locator(f"#{field_id}_error")
        expect(error).to_be_visible()
        expect(error).to_have_text(message or re.compile(r"\w"))
        control = page.locator(f"#{field_id}")
        expect(control).to_have_attribute("aria-invalid", "true")
        expect(control).to_have_attribute("aria-describedby", f"{field_id}_error")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plan_form_bad_input_errors_beside_fields(page, screenshot, bookable, lang):
    page.goto("/")
    speak(page, lang)
    page.goto("/plan/")
    fill_plan_form(page, lang, destination="cusco", days="0")
    submit = page.get_by_role("button", name=t(lang, "Plan my trip"))

    # The browser's own check first: 0 days is below the field's minimum.
    page.get_by_label(t(lang, "Days"), exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"/plan/$"))
    assert page.locator("#id_days").evaluate("el => !el.validity.valid")
    expect(page.get_by_role("alert")).to_have_count(0)  # nothing was sent

    # The server's checks, as a browser without them would send the form: letters
    # in the budget too (a number field cannot take them: it becomes a text field).
    page.locator("form:has(#id_days)").evaluate("form => form.noValidate = true")
    page.locator("#id_budget_amount").evaluate("el => el.type = 'text'")
    page.get_by_label(t(lang, "Budget for the whole party")).fill("cien soles")
    submit.click()
    with translation.override(lang):
        not_a_number = str(DecimalField().error_messages["invalid"])
    # The API's minimum, in its own words; the destination is judged once the
    # fields themselves are right (the serializer's cross-field check).
    expect_errors_beside(
        page, lang, {"id_days": None, "id_budget_amount": not_a_number}
    )
    # Fields that were right keep their values.
    expect(page.locator("#id_nationality")).to_have_value("CL")
    expect(page.locator("#id_destination")).to_have_value("cusco")
    screenshot(page, "errors-days-budget")

    # Days and budget put right, the destination still the origin.
    page.get_by_label(t(lang, "Days"), exact=True).fill("6")
    page.get_by_label(t(lang, "Budget for the whole party")).fill("")
    submit.click()
    expect_errors_beside(
        page,
        lang,
        {"id_destination": t(lang, "The destination must differ from the origin.")},
    )
    screenshot(page, "errors-destination")
    assert not TripPlan.objects.exists()
