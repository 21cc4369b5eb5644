"""GET /api/v1/sights/ and /api/v1/transfers/, and their staff admin pages."""

import pytest
from django.contrib.auth import get_user_model

from catalogue.models import Sight, Transfer
from catalogue.services import catalogue_seed

pytestmark = pytest.mark.django_db

FACT = {"source": "test fixture", "verified": False, "note": "picked"}

SIGHTS = [
    {
        "slug": "pu-cathedral",
        "route_facts_id": "pu_cathedral",
        "place": "puno",
        "name_en": "Puno Cathedral",
        "name_es": "Catedral de Puno",
        "description_en": "The cathedral.",
        "description_es": "La catedral.",
        "latitude": -15.84,
        "longitude": -70.022,
        "altitude_m": 3827,
        "visit_min": 30,
        "hours": [
            {"days": "daily", "opens": "07:00", "closes": "12:00"},
            {"days": ["sat"], "opens": "15:00", "closes": "19:00"},
        ],
        "fee": {"amount": "0.00", "currency": "PEN"},
        "tags": ["culture", "festivals"],
        "effort": "easy",
        **FACT,
    },
    {
        "slug": "co-calvario",
        "route_facts_id": "co_calvario",
        "place": "copacabana",
        "name_en": "Cerro Calvario",
        "name_es": "Cerro Calvario",
        "description_en": "A hill.",
        "description_es": "Un cerro.",
        "latitude": None,
        "longitude": None,
        "visit_min": 75,
        "always_open": True,
        "fee": {"amount": None, "currency": "BOB"},
        "tags": ["viewpoints", "hiking"],
        "effort": "strenuous",
        "confirm_locally": True,
        "min_nights_at_altitude": 1,
        **FACT,
    },
    {
        "slug": "cus-qorikancha",
        "place": "cusco",
        "name_en": "Qorikancha",
        "name_es": "Qorikancha (Templo del Sol)",
        "description_en": "The temple.",
        "description_es": "El templo.",
        "visit_min": 60,
        "hours_known": False,
        "hours": [{"days": "daily", "opens": "09:00", "closes": "17:00"}],
        "fee": {"amount": "15.00", "currency": "PEN", "year": 2016, "ticket": "x"},
        "tags": ["archaeology"],
        "effort": "easy",
        **FACT,
    },
]

TRANSFERS = [
    {
        "slug": "puno-cusco-taxi",
        "origin": "puno",
        "destination": "cusco",
        "mode": "taxi",
        "minutes": 360,
        "minutes_max": 420,
        "price": "500.00",
        "price_max": "600.00",
        "currency": "PEN",
        "price_per": "vehicle",
        "vehicle_seats": 4,
        "price_year": 2024,
        "frequency": "on_demand",
        **FACT,
        "reverse": {"slug": "cusco-puno-taxi"},
    },
    {
        "slug": "puno-cusco-tour",
        "origin": "puno",
        "destination": "cusco",
        "mode": "tour",
        "minutes": 600,
        "price": "50.00",
        "currency": "USD",
        "service": {"from": "06:30", "until": "07:30"},
        "frequency": "fixed_times",
        **FACT,
    },
]


@pytest.fixture
def sights_and_transfers(small_catalogue):
    return catalogue_seed(data={"sights": SIGHTS, "transfers": TRANSFERS})


def test_sights_list_with_local_hours_and_fee(client, sights_and_transfers):
    """Each sight: its place and zone, hours as local wall-clock times with their
    days, the fee as {amount, currency, year}; sorted by place."""
    response = client.get("/api/v1/sights/")
    assert response.status_code == 200
    body = response.json()
    assert [s["slug"] for s in body] == [
        "co-calvario",
        "cus-qorikancha",
        "pu-cathedral",
    ]
    cathedral = body[2]
    assert cathedral["place"] == {
        "slug": "puno",
        "name": "Puno",
        "timezone": "America/Lima",
    }
    assert cathedral["timezone"] == "America/Lima"
    assert cathedral["hours"] == [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "opens": "07:00",
            "closes": "12:00",
        },
        {"days": ["sat"], "opens": "15:00", "closes": "19:00"},
    ]
    assert cathedral["fee"] == {
        "amount": "0.00",
        "amount_minor": 0,
        "currency": "PEN",
        "year": None,
        "ticket": "",
    }
    assert (cathedral["latitude"], cathedral["longitude"]) == (-15.84, -70.022)
    assert cathedral["tags"] == ["culture", "festivals"]
    assert cathedral["route_facts_id"] == "pu_cathedral"
    calvario = body[0]
    assert calvario["always_open"] and calvario["hours"] == []
    assert calvario["timezone"] == "America/La_Paz"
    assert calvario["fee"]["amount"] is None and calvario["fee"]["currency"] == "BOB"
    assert calvario["latitude"] is None
    assert calvario["confirm_locally"] and calvario["min_nights_at_altitude"] == 1
    qorikancha = body[1]
    assert qorikancha["hours_known"] is False
    assert qorikancha["fee"] == {
        "amount": "15.00",
        "amount_minor": 1500,
        "currency": "PEN",
        "year": 2016,
        "ticket": "x",
    }


def test_sight_names_follow_accept_language(client, sights_and_transfers):
    """Spanish names and descriptions with Accept-Language: es."""
    body = client.get(
        "/api/v1/sights/?place=cusco", headers={"accept-language": "es"}
    ).json()
    assert body[0]["name"] == "Qorikancha (Templo del Sol)"
    assert body[0]["description"] == "El templo."
    english = client.get("/api/v1/sights/?place=cusco").json()
    assert english[0]["name"] == "Qorikancha"


def test_sight_filters(client, sights_and_transfers):
    """?place= and ?tag= narrow the list; together they intersect."""
    puno = client.get("/api/v1/sights/?place=puno").json()
    assert [s["slug"] for s in puno] == ["pu-cathedral"]
    hiking = client.get("/api/v1/sights/?tag=hiking").json()
    assert [s["slug"] for s in hiking] == ["co-calvario"]
    assert client.get("/api/v1/sights/?tag=hiking&place=puno").json() == []
    assert client.get("/api/v1/sights/?tag=markets").json() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("place=atlantis", "place"),
        ("place=pu%20no", "place"),
        ("tag=volcanoes", "tag"),
    ],
)
def test_bad_sight_filters_are_400_naming_the_field(
    client, sights_and_transfers, query, field
):
    response = client.get(f"/api/v1/sights/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and field in body["errors"]


def test_transfers_between_two_places(client, sights_and_transfers):
    """?from=&to= gives both ways of that pair, quickest first, with price per vehicle
    and the service window in the origin's local time."""
    response = client.get("/api/v1/transfers/?from=puno&to=cusco")
    assert response.status_code == 200
    taxi, tour = response.json()
    assert taxi["slug"] == "puno-cusco-taxi" and tour["slug"] == "puno-cusco-tour"
    assert taxi["from"]["timezone"] == "America/Lima"
    assert taxi["mode"] == "taxi" and taxi["mode_name"] == "Taxi"
    assert (taxi["minutes"], taxi["minutes_max"]) == (360, 420)
    assert taxi["price"] == {
        "amount": "500.00",
        "currency": "PEN",
        "amount_minor": 50000,
        "amount_max": "600.00",
        "per": "vehicle",
        "vehicle_seats": 4,
        "year": 2024,
    }
    assert taxi["service"] is None and taxi["frequency"] == "on_demand"
    assert tour["service"] == {"start": "06:30", "until": "07:30"}
    back = client.get("/api/v1/transfers/?from=cusco").json()
    assert [t["slug"] for t in back] == ["cusco-puno-taxi"]
    assert len(client.get("/api/v1/transfers/").json()) == 3
    assert client.get("/api/v1/transfers/?to=cusco&mode=tour").json()[0]["slug"] == (
        "puno-cusco-tour"
    )


def test_transfer_mode_names_follow_accept_language(client, sights_and_transfers):
    body = client.get(
        "/api/v1/transfers/?mode=tour", headers={"accept-language": "es"}
    ).json()
    assert body[0]["mode_name"] == "Excursión en grupo"
    assert body[0]["to"]["name"] == "Cusco"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=atlantis", "from"),
        ("to=nowhere&from=puno", "to"),
        ("from=pu%20no", "from"),
        ("mode=rocket", "mode"),
    ],
)
def test_bad_transfer_filters_are_400_naming_the_field(
    client, sights_and_transfers, query, field
):
    response = client.get(f"/api/v1/transfers/?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_both_endpoints_are_in_the_schema(client):
    schema = client.get("/api/schema/", headers={"accept": "application/json"}).json()
    for path in ("/api/v1/sights/", "/api/v1/transfers/"):
        assert path in schema["paths"]
        parameters = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters >= ({"place", "tag"} if "sights" in path else {"from", "to"})
    transfer = schema["components"]["schemas"]["TransferOutput"]["properties"]
    assert {"from", "to", "minutes", "price", "service"} <= set(transfer)
    departure = schema["components"]["schemas"]["DepartureOutput"]["properties"]
    assert {"from", "to"} <= set(departure)  # the keys the payload really has


# ------------------------------------------------------------------ admin


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("staff", "staff@example.org", "x")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalogue/sight/",
        "/admin/catalogue/sight/?q=calvario",
        "/admin/catalogue/sight/?tag=hiking",
        "/admin/catalogue/sight/?effort__exact=easy&verified__exact=0",
        "/admin/catalogue/sight/?place__id__exact=1",
        "/admin/catalogue/sight/add/",
        "/admin/catalogue/transfer/",
        "/admin/catalogue/transfer/?q=cusco&mode__exact=taxi",
        "/admin/catalogue/transfer/add/",
        "/admin/catalogue/routeleg/",
    ],
)
def test_admin_pages_load(staff_client, sights_and_transfers, url):
    assert staff_client.get(url).status_code == 200


def test_admin_tag_filter_and_search(staff_client, sights_and_transfers):
    """The tag filter keeps only the tagged sights; search finds by name."""
    html = staff_client.get("/admin/catalogue/sight/?tag=hiking").content.decode()
    assert "co-calvario" in html and "pu-cathedral" not in html
    html = staff_client.get("/admin/catalogue/sight/?q=cathedral").content.decode()
    assert "pu-cathedral" in html and "co-calvario" not in html


def test_sight_page_edits_hours_inline(staff_client, sights_and_transfers):
    """A sight's page lists its opening hours rows inline, and the leg's page shows
    the post reached first."""
    sight = Sight.objects.get(slug="pu-cathedral")
    html = staff_client.get(
        f"/admin/catalogue/sight/{sight.pk}/change/"
    ).content.decode()
    assert "hours-TOTAL_FORMS" in html and 'value="19:00' in html
    from catalogue.models import RouteLeg

    leg = RouteLeg.objects.get(slug="copacabana-puno-bus")
    html = staff_client.get(
        f"/admin/catalogue/routeleg/{leg.pk}/change/"
    ).content.decode()
    assert "crossing_first_side" in html


def _sight_form(sight: Sight, **changes) -> dict:
    data = {
        "slug": sight.slug,
        "route_facts_id": sight.route_facts_id,
        "place": sight.place_id,
        "name_en": sight.name_en,
        "name_es": sight.name_es,
        "description_en": sight.description_en,
        "description_es": sight.description_es,
        "visit_min": sight.visit_min,
        "hours_known": "on",
        "tags": sight.tags,
        "effort": sight.effort,
        "min_nights_at_altitude": 0,
        "fee_minor": sight.fee_minor,
        "fee_currency": sight.fee_currency,
        "source": sight.source,
        "hours-INITIAL_FORMS": 0,
        "hours-TOTAL_FORMS": 0,
        "hours-MIN_NUM_FORMS": 0,
        "hours-MAX_NUM_FORMS": 1000,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_refuses_a_sight_without_hours_or_always_open(
    staff_client, sights_and_transfers
):
    """Saving a sight that is neither open at all hours nor has hours rows is
    refused with the reason; open at all hours with a row is refused too."""
    sight = Sight.objects.get(slug="cus-qorikancha")
    sight.hours.all().delete()
    url = f"/admin/catalogue/sight/{sight.pk}/change/"
    response = staff_client.post(url, _sight_form(sight))
    assert response.status_code == 200
    assert "at least one row of opening hours" in response.content.decode()
    response = staff_client.post(
        url,
        _sight_form(
            sight,
            always_open="on",
            **{
                "hours-TOTAL_FORMS": 1,
                "hours-0-mon": "on",
                "hours-0-opens": "09:00",
                "hours-0-closes": "17:00",
            },
        ),
    )
    assert response.status_code == 200
    assert "no opening hours" in response.content.decode()
    response = staff_client.post(
        url, _sight_form(sight, always_open="on", tags=["hiking", "lake"])
    )
    assert response.status_code == 302
    sight.refresh_from_db()
    assert sight.always_open and sight.tags == ["hiking", "lake"]


def test_admin_refuses_a_transfer_across_the_border(staff_client, sights_and_transfers):
    taxi = Transfer.objects.get(slug="puno-cusco-taxi")
    from catalogue.models import Place

    response = staff_client.post(
        f"/admin/catalogue/transfer/{taxi.pk}/change/",
        {
            "slug": taxi.slug,
            "origin": taxi.origin_id,
            "destination": Place.objects.get(slug="copacabana").pk,
            "mode": "taxi",
            "minutes": 360,
            "price_minor": 50000,
            "currency": "PEN",
            "price_per": "vehicle",
            "vehicle_seats": 4,
            "frequency": "on_demand",
            "source": "x",
        },
    )
    assert response.status_code == 200
    assert "stays in one country" in response.content.decode()
    taxi.refresh_from_db()
    assert taxi.destination.slug == "cusco"
