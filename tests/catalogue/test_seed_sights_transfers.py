"""The sights and transfers files (catalogue/data/sights.yaml, transfers.yaml) as
seed_route loads them, and the seed's policy for them."""

import copy
import datetime as dt
import re
from collections.abc import Iterator
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.db import transaction

from catalogue.models import (
    WEEKDAYS,
    Place,
    RouteLeg,
    Sight,
    SightHours,
    SightTag,
    Transfer,
)
from catalogue.services import (
    SIGHTS_DATA,
    TRANSFERS_DATA,
    SeedError,
    catalogue_seed,
)

pytestmark = pytest.mark.django_db

SIGHTS_FILE = yaml.safe_load(SIGHTS_DATA.read_text(encoding="utf-8"))["sights"]
TRANSFERS_FILE = yaml.safe_load(TRANSFERS_DATA.read_text(encoding="utf-8"))["transfers"]

# route-facts-2 §4.6: sights whose coordinates were not found (n/f), beside the
# teleférico's stations.
NO_COORDINATES = {
    "sv-potato-park",
    "pu-yavari",
    "lp-teleferico",
    "ea-cholitas",
    "ea-cholets",
    "huayna-base",
}

# The ways there and back a day trip needs (issue 11, item 4), both directions.
DAY_TRIP_PAIRS = [
    ("cusco", "pisac"),
    ("pisac", "pisac-ruins"),
    ("cusco", "chinchero"),
    ("cusco", "raqchi"),
    ("cusco", "andahuaylillas"),
    ("puno", "sillustani"),
    ("puno", "llachon"),
    ("puno", "capachica"),
    ("puno", "luquina-chico"),
    ("puno", "chucuito"),
    ("copacabana", "yampupata"),
    ("isla-del-sol-yumani", "isla-del-sol-challapampa"),
    ("isla-del-sol-yumani", "pilko-kaina"),
    ("la-paz", "tiwanaku"),
    ("la-paz", "valle-de-la-luna"),
    ("la-paz", "el-alto"),
    ("la-paz", "chacaltaya"),
]


@pytest.fixture(scope="module")
def _module_seed(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The real catalogue, seeded once for the module inside a transaction rolled
    back at its end; each test's own changes roll back with the test."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_route", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_module_seed, db) -> str:
    return _module_seed


def _counts() -> list[int]:
    return [m.objects.count() for m in (Place, RouteLeg, Sight, SightHours, Transfer)]


# ------------------------------------------------------------------ sights


def test_all_43_sights_of_route_facts_are_seeded(seeded):
    """The first seed creates them all: every row of route-facts-2 §1, slugged from
    its id, at a place of the route."""
    assert "Sights: 43 created" in seeded
    assert "Transfers: 74 created" in seeded
    sights = list(Sight.objects.select_related("place"))
    assert len(sights) == 43 == len(SIGHTS_FILE)
    for sight in sights:
        assert sight.slug == sight.route_facts_id.replace("_", "-")
        assert sight.name_en and sight.name_es
        assert sight.description_en and sight.description_es
        assert sight.visit_min > 0
        assert set(sight.tags) <= set(SightTag.values) and sight.tags, sight.slug
    by_slug = {s.slug: s for s in sights}
    assert by_slug["cus-qorikancha"].place.slug == "cusco"
    assert by_slug["is-pilkokaina"].place.slug == "pilko-kaina"
    assert by_slug["tiwanaku"].place.slug == "tiwanaku"
    assert by_slug["lp-valleluna"].place.slug == "valle-de-la-luna"


def test_every_sight_has_hours_it_can_be_visited_in(seeded):
    """Open at all hours and no rows, or rows that parse into windows; some day has a
    window at least as long as the visit."""
    for sight in Sight.objects.prefetch_related("hours"):
        rows = list(sight.hours.all())
        if sight.always_open:
            assert not rows and sight.hours_known, sight.slug
            continue
        assert rows, sight.slug
        longest = 0
        for row in rows:
            assert row.opens < row.closes and row.weekdays, sight.slug
            length = (row.closes.hour * 60 + row.closes.minute) - (
                row.opens.hour * 60 + row.opens.minute
            )
            longest = max(longest, length)
        assert longest >= sight.visit_min, sight.slug


def test_sight_hours_keep_the_sources_days_and_breaks(seeded):
    """Puno cathedral closes at midday and stays open later on Saturdays; Qorikancha
    opens only in the afternoon on Sundays; the El Alto fair is Thu and Sun."""
    cathedral = Sight.objects.get(slug="pu-cathedral")
    saturday, monday = dt.date(2026, 6, 6), dt.date(2026, 6, 1)
    assert cathedral.windows_on(saturday) == [
        (dt.time(7), dt.time(12)),
        (dt.time(15), dt.time(19)),
    ]
    assert cathedral.windows_on(monday)[-1] == (dt.time(15), dt.time(18))
    qorikancha = Sight.objects.get(slug="cus-qorikancha")
    assert qorikancha.windows_on(dt.date(2026, 6, 7)) == [(dt.time(14), dt.time(16))]
    assert qorikancha.windows_on(monday) == [(dt.time(8), dt.time(17))]
    fair = Sight.objects.get(slug="ea-16julio")
    assert [h.weekdays for h in fair.hours.all()] == [["thu", "sun"]]
    assert not fair.hours_known


def test_unknown_hours_are_a_flagged_daytime_placeholder(seeded):
    """Hours n/f: hours_known false, a 09:00–17:00 row, and the note says so."""
    unknown = Sight.objects.filter(hours_known=False)
    assert unknown.count() >= 15
    for sight in unknown:
        assert "placeholder" in sight.note or "unverified" in sight.note, sight.slug
    yavari = Sight.objects.get(slug="pu-yavari")
    (row,) = yavari.hours.all()
    assert (row.opens, row.closes, row.weekdays) == (
        dt.time(9),
        dt.time(17),
        list(WEEKDAYS),
    )


def test_sight_facts_carry_sources_and_flags(seeded):
    """Sources resolve route-facts-2's keys to addresses; flagged rows are unverified
    with a note; n/f coordinates stay empty."""
    for sight in Sight.objects.all():
        # An address, a GeoNames id, or a route-facts key whose source has none.
        assert re.search(r"https?://|GeoNames|\[S\d\d\]", sight.source), sight.slug
        assert "{" not in sight.source
        if not sight.verified:
            assert sight.note, sight.slug
    assert not Sight.objects.filter(verified=True).exists()  # every row is flagged
    assert (
        set(Sight.objects.filter(latitude__isnull=True).values_list("slug", flat=True))
        == NO_COORDINATES
    )
    qorikancha = Sight.objects.get(slug="cus-qorikancha")
    assert "https://en.wikipedia.org/wiki/Coricancha" in qorikancha.source
    assert "[S06] https://terandes.com/" in qorikancha.source


def test_sight_fees_in_the_places_currency(seeded):
    """Fees in soles in Peru and bolivianos in Bolivia; free is 0, unknown is empty."""
    for sight in Sight.objects.select_related("place__country"):
        assert sight.fee_currency == sight.place.country.currency, sight.slug
        if sight.fee_minor is None:
            assert sight.fee_year is None, sight.slug
    by_slug = {s.slug: s for s in Sight.objects.all()}
    assert (by_slug["pu-sillustani"].fee_minor, by_slug["pu-sillustani"].fee_year) == (
        1500,
        2021,
    )  # route-facts-2 §0.1: S/15 since Mar 2021
    assert by_slug["tiwanaku"].fee_minor == 10000
    assert by_slug["co-calvario"].fee_minor == 0
    assert by_slug["pu-yavari"].fee_minor is None
    tickets = {s.slug for s in by_slug.values() if s.fee_ticket == "isla-del-sol-south"}
    assert tickets == {"is-yumani", "is-escalera", "is-pilkokaina"}


def test_altitude_rules_of_the_highest_sights(seeded):
    """Chacaltaya and the Huayna Potosí base need nights at altitude first; easy to
    moderate becomes moderate; Isla del Sol north must be confirmed locally."""
    by_slug = {s.slug: s for s in Sight.objects.all()}
    assert by_slug["chacaltaya"].min_nights_at_altitude >= 2
    assert by_slug["chacaltaya"].effort == Sight.Effort.STRENUOUS
    assert by_slug["huayna-base"].min_nights_at_altitude >= 2
    others = [
        s for s in by_slug.values() if s.slug not in ("chacaltaya", "huayna-base")
    ]
    assert all(s.min_nights_at_altitude == 0 for s in others)
    assert by_slug["tiwanaku"].effort == Sight.Effort.MODERATE  # easy to moderate
    assert by_slug["co-calvario"].effort == Sight.Effort.STRENUOUS
    assert by_slug["is-chincana"].confirm_locally
    assert by_slug["is-challapampa"].confirm_locally
    assert not by_slug["is-yumani"].confirm_locally


# ------------------------------------------------------------------ transfers


def test_every_transfer_is_priced_timed_and_in_one_country(seeded):
    """The planner prices and times every transfer: a price (an estimate if need be),
    minutes > 0, seats for a price per vehicle, both ends in one country."""
    transfers = list(Transfer.objects.select_related("origin", "destination"))
    expected = sum(1 + ("reverse" in raw) for raw in TRANSFERS_FILE)
    assert len(transfers) == expected >= 70
    for t in transfers:
        assert t.price_minor is not None and t.minutes > 0, t.slug
        assert t.origin.country_id == t.destination.country_id, t.slug
        if t.price_per == Transfer.PricePer.VEHICLE:
            assert t.vehicle_seats, t.slug
        assert t.source and "{" not in t.source, t.slug
        if not t.verified:
            assert t.note, t.slug


def test_both_directions_of_two_way_transfers(seeded):
    """Every two-way row of the file exists both ways, and the day trips the planner
    needs can get there and back."""
    slugs = set(Transfer.objects.values_list("slug", flat=True))
    for raw in TRANSFERS_FILE:
        assert raw["slug"] in slugs
        if "reverse" in raw:
            back = Transfer.objects.get(slug=raw["reverse"]["slug"])
            assert (back.origin.slug, back.destination.slug) == (
                raw["destination"],
                raw["origin"],
            )
    pairs = set(
        Transfer.objects.values_list("origin__slug", "destination__slug").distinct()
    )
    for a, b in DAY_TRIP_PAIRS:
        assert (a, b) in pairs and (b, a) in pairs, (a, b)


def test_transfers_take_the_road_not_the_straight_line(seeded):
    """Puno → Llachón goes round by Capachica: about 2 h, not the 58 min a straight
    line suggests; the Sillustani tour leaves 14:00–14:30; the way back differs."""
    llachon = Transfer.objects.filter(
        origin__slug="puno", destination__slug="llachon"
    ).order_by("minutes")
    assert llachon and llachon[0].minutes >= 110
    tour = Transfer.objects.get(slug="puno-sillustani-tour")
    assert (tour.service_from, tour.service_until) == (dt.time(14), dt.time(14, 30))
    back = Transfer.objects.get(slug="sillustani-puno-tour")
    assert back.service_from > tour.service_until
    taxi = Transfer.objects.get(slug="cusco-pisac-taxi")
    assert taxi.price_per == "vehicle" and taxi.price_for(5) == 2 * taxi.price_minor


def test_timetabled_boats_stay_legs(seeded):
    """A pair served by a timetabled boat leg (Uros, Taquile, Isla del Sol launches)
    has no boat transfer repeating it."""
    water = (RouteLeg.Mode.BOAT, RouteLeg.Mode.FERRY)
    boat_legs = set(
        RouteLeg.objects.filter(mode__in=water).values_list(
            "origin__slug", "destination__slug"
        )
    )
    boat_transfers = set(
        Transfer.objects.filter(mode=Transfer.Mode.BOAT).values_list(
            "origin__slug", "destination__slug"
        )
    )
    assert boat_legs and not boat_legs & boat_transfers


# ------------------------------------------------------------------ seed policy


def test_reseed_is_idempotent(seeded):
    """A second seed_route changes nothing, sights and transfers included."""
    counts = _counts()
    out = StringIO()
    call_command("seed_route", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert "Sights: 0 created, 0 updated, 43 unchanged" in out.getvalue()
    assert _counts() == counts


def test_staff_edits_survive_a_reseed_unless_update(seeded):
    """Staff corrections (a fee, a transfer's minutes, a sight's hours) stay through a
    plain re-seed; --update brings back the file's values."""
    Sight.objects.filter(slug="tiwanaku").update(fee_minor=12000, verified=True)
    Transfer.objects.filter(slug="puno-llachon-bus").update(minutes=150)
    cathedral = Sight.objects.get(slug="pu-cathedral")
    cathedral.hours.filter(opens=dt.time(15)).delete()
    call_command("seed_route", stdout=StringIO())
    assert Sight.objects.get(slug="tiwanaku").fee_minor == 12000
    assert Transfer.objects.get(slug="puno-llachon-bus").minutes == 150
    assert cathedral.hours.count() == 1
    out = StringIO()
    call_command("seed_route", "--update", stdout=out)
    tiwanaku = Sight.objects.get(slug="tiwanaku")
    assert (tiwanaku.fee_minor, tiwanaku.verified) == (10000, False)
    assert Transfer.objects.get(slug="puno-llachon-bus").minutes == 120
    assert cathedral.hours.count() == 3
    assert "Sights: 0 created, 1 updated" in out.getvalue()
    assert "Sight Opening Hours: 0 created, 3 updated" in out.getvalue()
    again = StringIO()
    call_command("seed_route", "--update", stdout=again)
    assert "nothing changed" in again.getvalue()


SIGHT = {
    "slug": "test-sight",
    "place": "puno",
    "name_en": "Test",
    "name_es": "Prueba",
    "description_en": "A test.",
    "description_es": "Una prueba.",
    "visit_min": 30,
    "hours": [{"days": ["mon"], "opens": "09:00", "closes": "12:00"}],
    "fee": {"amount": "5.00", "currency": "PEN", "year": 2020},
    "tags": ["culture"],
    "effort": "easy",
    "source": "test",
    "verified": False,
    "note": "test",
}
TRANSFER = {
    "slug": "puno-chucuito-test",
    "origin": "puno",
    "destination": "chucuito",
    "mode": "colectivo",
    "minutes": 35,
    "price": "3.00",
    "currency": "PEN",
    "frequency": "frequent",
    "source": "test",
    "verified": False,
    "reverse": {
        "slug": "chucuito-puno-test",
        "service": {"from": "07:00", "until": "18:00"},
    },
}


@pytest.mark.parametrize(
    ("key", "record", "change", "message"),
    [
        ("sights", SIGHT, {"always_open": True}, "no hours rows"),
        ("sights", SIGHT, {"hours": []}, "give hours rows"),
        ("sights", SIGHT, {"tags": ["volcano"]}, "unknown tags"),
        (
            "sights",
            SIGHT,
            {"hours": [{"days": ["mon"], "opens": "12:00", "closes": "09:00"}]},
            "closes must be after opens",
        ),
        (
            "sights",
            SIGHT,
            {"hours": [{"days": ["moonday"], "opens": "09:00", "closes": "12:00"}]},
            "days",
        ),
        ("sights", SIGHT, {"place": "atlantis"}, "unknown place"),
        ("transfers", TRANSFER, {"price": None}, "every transfer has a price"),
        ("transfers", TRANSFER, {"destination": "copacabana"}, "one country"),
        ("transfers", TRANSFER, {"reverse": {}}, "reverse needs the slug"),
    ],
)
def test_bad_records_are_refused_whole(small_catalogue, key, record, change, message):
    """A malformed sight or transfer names itself and what is wrong, and nothing of
    the file is written."""
    good = copy.deepcopy(SIGHT)
    good["slug"] = "fine-sight"
    bad = {**copy.deepcopy(record), **change}
    before = _counts()
    with pytest.raises(SeedError) as exc:
        catalogue_seed(data={"sights": [good], key: [bad]})
    assert record["slug"] in str(exc.value)
    assert message.lower() in str(exc.value).lower()
    assert _counts() == before


def test_a_small_file_seeds_sights_and_both_transfer_directions(small_catalogue):
    """Places may come from the catalogue already stored; the way back takes its own
    window."""
    report = catalogue_seed(data={"sights": [SIGHT], "transfers": [TRANSFER]})
    assert report.created["Sights"] == 1 and report.created["Transfers"] == 2
    back = Transfer.objects.get(slug="chucuito-puno-test")
    assert (back.origin.slug, back.destination.slug) == ("chucuito", "puno")
    assert back.service_from == dt.time(7)
    assert Transfer.objects.get(slug="puno-chucuito-test").service_from is None
    hours = Sight.objects.get(slug="test-sight").hours.get()
    assert hours.weekdays == ["mon"] and hours.closes == dt.time(12)


def test_a_leg_through_a_crossing_must_name_its_first_post(small_catalogue_data):
    """Omitting crossing_first_side is a seed error naming the leg."""
    del small_catalogue_data["legs"][0]["crossing_first_side"]
    with pytest.raises(SeedError, match="puno-copacabana-bus"):
        catalogue_seed(data=small_catalogue_data)


def test_every_sight_can_be_reached_and_left_from_a_hub(seeded):
    """Legs and transfers lead from the four hubs to every sight's place and back,
    except the stops seen from a ride (La Raya and Pukará on the Ruta del Sol, the
    Tiquina strait on every Copacabana ↔ La Paz bus)."""
    hubs = ("cusco", "puno", "copacabana", "la-paz")
    edges = list(
        RouteLeg.objects.exclude(mode=RouteLeg.Mode.FLIGHT).values_list(
            "origin__slug", "destination__slug"
        )
    ) + list(Transfer.objects.values_list("origin__slug", "destination__slug"))

    def reach(pairs: list[tuple[str, str]]) -> set[str]:
        seen: set[str] = set()
        todo = list(hubs)
        while todo:
            here = todo.pop()
            if here not in seen:
                seen.add(here)
                todo += [b for a, b in pairs if a == here]
        return seen

    there, back = reach(edges), reach([(b, a) for a, b in edges])
    places = set(Sight.objects.values_list("place__slug", flat=True))
    en_route = {"abra-la-raya", "pukara", "san-pedro-de-tiquina"}
    assert places - there == en_route
    assert places - back == en_route
