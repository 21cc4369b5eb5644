"""The traveller's planning pages: home, the plan form, the itinerary page (queued,
solved, infeasible), one-click fixes and re-planning, in English and Spanish.

Plans are solved eagerly (SQLite default, Celery eager): a POST inside
``captureOnCommitCallbacks(execute=True)`` leaves a final plan behind.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import NoReverseMatch, reverse

from catalogue.models import EntryRequirement
from catalogue.services import catalogue_seed_from_file
from itineraries import services
from itineraries.models import TripPlan
from itineraries.selectors import plan_secret_hash
from providers.models import Listing
from tests.providers.factories import make_listing, make_provider
from tests.web.conftest import plan_form_data, post_solved
from web.selectors import entry_requirement_for

pytestmark = pytest.mark.django_db

MAX_BYTES = 200 * 1024
# A plan's page is under its secret link: /plans/<id>/<key>/.
PLAN_URL = re.compile(r"^/plans/([0-9a-f-]{36})/([A-Za-z0-9_-]{20,})/$")


def plan_of(url: str) -> TripPlan:
    match = PLAN_URL.match(url)
    assert match, url
    return TripPlan.objects.get(pk=match.group(1))


def steps(plan: TripPlan) -> list[dict]:
    return [step for day in plan.days for step in day["steps"]]


# --- home ----------------------------------------------------------------------------


def test_home_shows_the_route_map_and_the_way_to_plan(client, route):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg class="route-map"' in html and "<circle" in html
    assert "Copacabana" in html and "La Paz" in html
    assert 'href="/plan/"' in html
    assert "leaflet" in html  # loaded by script only when online
    assert len(response.content) < MAX_BYTES


def test_home_in_spanish(client, route):
    client.cookies["django_language"] = "es"
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="es"' in html and '<svg class="route-map"' in html
    assert "Pasos fronterizos" in html and "Border crossings" not in html
    # SVG coordinates are plain numbers, not localised with a decimal comma.
    assert re.findall(r'cx="(\d+)"', html)
    assert not re.search(r' (cx|cy|x|y)="[^"]*,', html)


# --- the form ------------------------------------------------------------------------


def test_plan_form_offers_hubs_countries_and_must_see_items(client, offers):
    response = client.get("/plan/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("origin", "destination", "start_date", "days", "nationality"):
        assert f'id="id_{name}"' in html
    assert '<option value="la-paz"' in html and '<option value="CL"' in html
    assert "Weaving afternoon with the Quispe family" in html
    assert 'name="interest_textiles"' in html
    assert re.search(r'<input[^>]*name="days"[^>]*max="21"', html)
    assert len(response.content) < MAX_BYTES


def test_bad_input_is_shown_beside_the_field_and_nothing_is_made(client, offers):
    data = plan_form_data(days="40", destination="cusco", nationality="")
    response = client.post("/plan/", data)
    assert response.status_code == 200
    html = response.content.decode()
    # Each message sits in the field's own block, right after its input.
    days_block = re.search(r'<input[^>]*id="id_days".*?</div>', html, re.S).group(0)
    assert 'id="id_days_error"' in days_block
    assert 'aria-describedby="id_days_error"' in days_block
    assert 'id="id_nationality_error"' in html
    assert TripPlan.objects.count() == 0


def test_the_api_rules_apply_destination_must_differ(client, offers):
    """Rules come from the API's serializer: same origin and destination."""
    response = client.post("/plan/", plan_form_data(destination="cusco"))
    assert response.status_code == 200
    block = re.search(
        r'<select[^>]*id="id_destination".*?</div>', response.content.decode(), re.S
    ).group(0)
    assert "The destination must differ from the origin." in block
    assert TripPlan.objects.count() == 0


# --- the itinerary page --------------------------------------------------------------


def test_valid_input_makes_a_plan_and_shows_the_itinerary(client, web_plan):
    plan = plan_of(web_plan)
    assert plan.status == "solved"
    assert plan.request["interests"] == {"textiles": 5, "lake": 3}
    response = client.get(web_plan)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Day 1" in html and "Day 6" in html
    assert re.search(r"\d\d:\d\d \(UTC−05:00, Peru\)", html)
    assert re.search(r"\d\d:\d\d \(UTC−04:00, Bolivia\)", html)
    assert "Clocks change at this border: +1 h." in html
    # Provider, price, nights, border hours and the checklist for a Chilean.
    assert "Provider" in html and "Price" in html
    assert "Lakeside family rooms" in html
    assert "07:00–20:00" in html
    assert "Passport valid for at least 6 more months" in html
    assert "Tourist visa: it depends on your nationality" in html
    assert '<svg class="alt-chart"' in html and '<svg class="day-map"' in html
    for currency in ("PEN", "BOB", "USD"):
        amount = plan.totals["in"][currency]
        assert f'class="total-{currency}">{amount} {currency}' in html
    assert "1 USD = 3.36 PEN" in html and "set on" in html
    assert len(response.content) < MAX_BYTES


def test_prices_in_the_chosen_currency(client, web_plan):
    plan = plan_of(web_plan)
    html = client.get(web_plan + "?currency=USD").content.decode()
    assert f"<strong>{plan.totals['in']['USD']} USD</strong>" in html
    assert '<option value="USD" selected>' in html


def test_andean_travellers_see_the_id_card_rule(client, offers):
    response = post_solved(client, "/plan/", plan_form_data(nationality="PE"))
    html = client.get(response["Location"]).content.decode()
    assert "Andean Community citizen" in html


def test_us_travellers_see_the_lifted_bolivian_visa(client, offers):
    response = post_solved(client, "/plan/", plan_form_data(nationality="US"))
    html = client.get(response["Location"]).content.decode()
    assert "No tourist visa needed." in html
    assert "DS 5497" in html


def test_entry_requirements_are_seeded_and_looked_up_by_nationality(route):
    """seed_route loads them (a second run changes nothing); a nationality without
    a row of its own gets its group's rule."""
    assert EntryRequirement.objects.count() == 14
    report = catalogue_seed_from_file()
    assert not report.changed
    assert entry_requirement_for("us", "BO").visa_required is False
    assert entry_requirement_for("EC", "BO").andean_id_accepted is True
    chile = entry_requirement_for("CL", "BO")
    assert chile.group == "any" and chile.visa_required is None
    assert entry_requirement_for("MT", "BO").visa_required is None


def test_itinerary_in_spanish_uses_the_translated_labels(client, web_plan):
    client.cookies["django_language"] = "es"
    response = client.get(web_plan)
    html = response.content.decode()
    assert 'lang="es"' in html
    assert "Precio" in html and "Altitud" in html and "Fecha" in html
    assert "Tiempo libre" in html  # the plan's own Spanish step titles
    assert "(UTC−05:00, Perú)" in html
    assert "Habitaciones familiares junto al lago" in html
    assert not re.search(r' (cx|cy|x|y)="[^"]*,', html)


def test_the_form_in_spanish(client, offers):
    """Labels the Spanish catalogue already has (the API's choices, currencies,
    interests) and Spanish listing titles."""
    client.cookies["django_language"] = "es"
    html = client.get("/plan/").content.decode()
    assert 'lang="es"' in html
    assert "Intereses" in html and "Por tierra" in html and "Sol peruano" in html
    assert "Tarde de tejido con la familia Quispe" in html
    assert '<option value="US">Estados Unidos</option>' in html


def plan_with_key(**fields) -> tuple[TripPlan, str]:
    """A plan made directly, with its secret (the key of its link)."""
    key = services.plan_secret_new()
    return TripPlan.objects.create(secret_hash=plan_secret_hash(key), **fields), key


def test_a_failed_plan_says_so_and_offers_a_new_one(client, route):
    plan, key = plan_with_key(request={}, status=TripPlan.Status.FAILED)
    html = client.get(f"/plans/{plan.pk}/{key}/").content.decode()
    assert "Something went wrong while planning" in html
    assert 'href="/plan/"' in html


def test_a_queued_plan_polls_and_refreshes(client, route):
    plan, key = plan_with_key(
        request={"origin": "cusco", "destination": "la-paz", "days": 3}
    )
    response = client.get(f"/plans/{plan.pk}/{key}/")
    assert response.status_code == 200
    html = response.content.decode()
    # The page polls the API with the plan's secret (sent as X-Plan-Secret).
    assert f'data-poll="/api/v1/plans/{plan.pk}/" data-key="{key}"' in html
    assert "X-Plan-Secret" in html
    polled = client.get(f"/api/v1/plans/{plan.pk}/", HTTP_X_PLAN_SECRET=key)
    assert polled.status_code == 200 and polled.json()["status"] == "queued"
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "<progress" in html
    assert len(response.content) < MAX_BYTES


def test_unknown_plan_is_404(client, db):
    assert client.get(f"/plans/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/plans/{uuid.uuid4()}/{'k' * 32}/").status_code == 404


def test_the_book_button_is_offered_on_a_solved_plan(client, web_plan):
    """Where the booking part of the site is installed, its button is on a solved
    plan's page (and the page renders without it)."""
    html = client.get(web_plan).content.decode()
    try:
        reverse("web:plan_book", args=[uuid.uuid4(), "key"])
    except NoReverseMatch:
        assert "/book/" not in html
    else:
        assert f'action="{web_plan}book/"' in html


# --- infeasible plans and their fixes -------------------------------------------------


def test_infeasible_plan_explains_and_its_fixes_work(client, offers):
    """No plan fits a budget of 1 PEN: the page says why and offers the planner's
    one-click fixes, each of which was solved before it was offered — applied, each
    makes a solved plan (a child of this one) with the changed request."""
    data = plan_form_data(budget_amount="1", budget_currency="PEN")
    response = post_solved(client, "/plan/", data)
    plan = plan_of(response["Location"])
    assert plan.status == "infeasible"
    html = client.get(response["Location"]).content.decode()
    assert "costs at least" in html
    codes = [fix["code"] for fix in plan.fixes]
    assert "budget" in codes
    for code in codes:
        assert f'name="fix" value="{code}"' in html
    page = response["Location"]
    for fix in plan.fixes:
        fixed = post_solved(client, f"{page}fix/", {"fix": fix["code"]})
        assert fixed.status_code == 302
        new = plan_of(fixed["Location"])
        assert new.parent_id == plan.pk
        assert new.status == "solved", (fix["code"], new.explanation)
        for field, value in fix["changes"].items():
            assert new.request[field] == value
    budget = next(f for f in plan.fixes if f["code"] == "budget")
    amount = budget["changes"]["budget"]["amount"]
    assert float(amount) > 1


def test_flying_in_for_three_days_is_fixed_by_adding_a_day(client, offers):
    """Flying in, three days are too few (acclimatisation nights, then the road):
    "Add a day" gives a plan."""
    response = post_solved(client, "/plan/", plan_form_data(arrival="flight", days="3"))
    plan = plan_of(response["Location"])
    html = client.get(response["Location"]).content.decode()
    assert plan.status == "infeasible"
    assert plan.explanation["en"][0] in html
    assert 'value="add_days"' in html and 'value="budget"' not in html
    fixed = post_solved(client, f"{response['Location']}fix/", {"fix": "add_days"})
    new = plan_of(fixed["Location"])
    assert new.request["days"] >= 4
    assert new.status == "solved", new.explanation
    assert "Day 4" in client.get(fixed["Location"]).content.decode()


def test_an_unknown_fix_is_refused(client, offers):
    response = post_solved(client, "/plan/", plan_form_data(budget_amount="1"))
    bad = client.post(f"{response['Location']}fix/", {"fix": "teleport"})
    assert bad.status_code == 400
    assert TripPlan.objects.count() == 1


# --- tweak and re-plan ---------------------------------------------------------------


def test_remove_a_step_replans_without_it(client, web_plan):
    plan = plan_of(web_plan)
    activity = next(s for s in steps(plan) if s["kind"] == "activity")
    html = client.get(web_plan).content.decode()
    assert f'name="drop" value="{activity["id"]}"' in html
    response = post_solved(client, f"{web_plan}replan/", {"drop": activity["id"]})
    assert response.status_code == 302
    new = plan_of(response["Location"])
    assert new.parent_id == plan.pk and new.status == "solved"
    assert activity["listing"] in new.request["exclude"]
    assert activity["listing"] not in {s.get("listing") for s in steps(new)}


def test_lock_a_step_keeps_it(client, web_plan):
    plan = plan_of(web_plan)
    activity = [s for s in steps(plan) if s["kind"] == "activity"][-1]
    response = post_solved(client, f"{web_plan}replan/", {"keep": activity["id"]})
    new = plan_of(response["Location"])
    assert new.status == "solved"
    assert activity["listing"] in new.request["include"]
    assert activity["listing"] in {s.get("listing") for s in steps(new)}


def test_swap_an_activity_for_another_offered_there(client, web_plan):
    plan = plan_of(web_plan)
    activity = next(s for s in steps(plan) if s["kind"] == "activity")
    other = make_listing(
        make_provider(place=activity["place"], community_run=True),
        kind=Listing.Kind.ACTIVITY,
        title_en="Reed island visit",
        title_es="Visita a las islas de totora",
        tags=["lake"],
        start_times=["09:00", "14:00"],
        duration_min=90,
        default_capacity=10,
    )
    html = client.get(web_plan).content.decode()
    assert f'<option value="{other.pk}">Reed island visit</option>' in html
    response = post_solved(
        client, f"{web_plan}replan/", {f"swap_{activity['id']}": str(other.pk)}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    new = plan_of(response["Location"])
    assert new.status == "solved", new.explanation
    assert activity["listing"] in new.request["exclude"]
    assert other.pk in {s.get("listing") for s in steps(new)}


def test_replan_refuses_unknown_steps_and_empty_choices(client, web_plan):
    assert client.post(f"{web_plan}replan/", {}).status_code == 400
    response = client.post(f"{web_plan}replan/", {"drop": "99.9"})
    assert response.status_code == 400
    assert "99.9" in response.content.decode()
    assert TripPlan.objects.count() == 1
