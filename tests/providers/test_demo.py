"""Demo data: believable providers on the whole classic route, clearly marked,
idempotent, with start times that fit the real boats, buses and opening hours of the
seeded catalogue (``seed_route``)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.core.management import call_command
from django.forms.models import model_to_dict

from catalogue.geo import km_between
from catalogue.models import WEEKDAYS, Departure, Place, Sight
from providers.demo import DEMO_DATA, demo_seed
from providers.models import InterestTag, Listing, ListingUnit, Provider
from providers.selectors import listing_list_bookable
from providers.services.listings import SIGHT_NEAR_KM

pytestmark = pytest.mark.django_db

# The first demo listings, in the order seed_demo creates them. Other tests, the
# benchmarks and agencies' conformance runs use them: their titles and order (hence
# their ids on a fresh database) stay.
ORIGINAL_TITLES = [
    "Family homestay with three meals (demo)",
    "Sunset walk to Pachatata temple (demo)",
    "Weaving and knitting workshop (demo)",
    "Taquile homestay (demo)",
    "Adobe guest rooms by the lake (demo)",
    "Kayak to Ticonata (demo)",
    "Reed boat ride and island life (demo)",
    "Reed cabin on the floating islands (demo)",
    "Community boat Puno – Amantaní (demo)",
    "Rooms with a lake view in Yumani (demo)",
    "Guided walk Yumani – Challapampa (demo)",
    "Native potato harvest and Papamanka lunch (demo)",
    "Sandia specialty coffee tasting (demo)",
    "Pottery class with a Raqchi family (demo)",
    "Double rooms in San Blas (demo)",
    "Lake-view rooms in Puno (demo)",
    "Rooms near the basilica (demo)",
    "Rooms in Sopocachi (demo)",
    "Guided visit of Tiwanaku's temples (demo)",
    "Aymara family house with private bathroom (demo)",
]
ORIGINAL_PROVIDERS = 15

# Where travellers sleep on the classic route: a demo stay and an experience each.
SLEEP_PLACES = [
    "cusco",
    "puno",
    "uros",
    "taquile",
    "amantani",
    "llachon",
    "luquina-chico",
    "copacabana",
    "isla-del-sol-yumani",
    "la-paz",
    "tiwanaku",
]
# Further stops of the route with at least one demo experience.
EXPERIENCE_PLACES = [
    "pisac",
    "raqchi",
    "chucuito",
    "sillustani",
    "isla-del-sol-challapampa",
    "el-alto",
]
EXPERIENCES = (Listing.Kind.ACTIVITY, Listing.Kind.GUIDE)

# Islands visited for the day from a mainland port, and the minutes from the
# activity back to the pier before the boat leaves (Yumani's village is 30–45 min
# above its port: route-facts-2 §1.6).
DAY_VISIT_ISLANDS = {
    "isla-del-sol-yumani": "copacabana",
    "isla-del-sol-challapampa": "copacabana",
    "taquile": "puno",
    "uros": "puno",
}
ISLANDS = [*DAY_VISIT_ISLANDS, "amantani"]
TO_THE_PIER = dt.timedelta(minutes=30)

# Tiwanaku: 08:00–17:00 with the last entry at 16:00, or 09:00–16:00 (route-facts-2
# §1.8, [CONFLICT]): no visit before the later opening, none after the last entry.
TIWANAKU_OPENS, TIWANAKU_LAST_ENTRY, TIWANAKU_CLOSES = (
    dt.time(9, 0),
    dt.time(16, 0),
    dt.time(17, 0),
)
# Market days (route-facts-2 §1.2, §1.7).
MARKET_DAYS = {"el-alto": {"thu", "sun"}, "pisac": {"sun", "tue", "thu"}}
DAY = dt.date(2027, 5, 12)


@pytest.fixture
def demo(db):
    call_command("seed_route", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def _starts(listing: Listing) -> list[dt.time]:
    return [dt.time.fromisoformat(t) for t in listing.start_times]


def _end(listing: Listing, start: dt.time) -> dt.time:
    end = dt.datetime.combine(DAY, start) + dt.timedelta(minutes=listing.duration_min)
    assert end.date() == DAY, f"{listing} runs past midnight"
    return end.time()


def _times(origin: str, destination: str) -> list[tuple[dt.time, dt.time]]:
    """(departure, arrival) of every seeded run from ``origin`` to ``destination``,
    each in its own place's local time."""
    runs = []
    for departure in Departure.objects.filter(
        leg__origin__slug=origin, leg__destination__slug=destination
    ).select_related("leg__origin__country", "leg__destination__country"):
        leg = departure.leg
        for time in departure.local_times():
            leaves = dt.datetime.combine(
                DAY, time, tzinfo=ZoneInfo(leg.origin.country.timezone)
            )
            arrives = (leaves + dt.timedelta(minutes=leg.duration_min)).astimezone(
                ZoneInfo(leg.destination.country.timezone)
            )
            runs.append((time, arrives.time()))
    assert runs, f"no seeded departure {origin} → {destination}"
    return runs


def _experiences(**filters) -> list[Listing]:
    return list(
        Listing.objects.filter(kind__in=EXPERIENCES, **filters).select_related(
            "place", "end_place"
        )
    )


def test_demo_covers_the_route_and_is_marked(demo):
    """Homestays on the islands and hotels in the cities, all marked demo."""
    assert "Demo data added" in demo
    stays = set(
        Listing.objects.filter(kind="stay").values_list("place__slug", flat=True)
    )
    assert {"amantani", "taquile", "llachon", "isla-del-sol-yumani"} <= stays
    assert {"cusco", "puno", "copacabana", "la-paz"} <= stays
    assert not Provider.objects.filter(is_demo=False).exists()
    assert not Listing.objects.filter(is_demo=False).exists()
    assert all("(demo)" in p.name for p in Provider.objects.all())
    assert all("(demo)" in x.title_en for x in Listing.objects.all())
    assert all("(demo)" in x.title_es for x in Listing.objects.all())
    assert Listing.objects.filter(kind="transport", departures__isnull=False).exists()


def test_every_place_of_the_classic_route_has_a_stay_and_an_experience(demo):
    """Where travellers sleep there is a bookable demo stay and experience; the
    other stops have an experience; most of it community-run, in both languages."""
    bookable = listing_list_bookable()
    for slug in SLEEP_PLACES:
        here = bookable.filter(place__slug=slug)
        assert here.filter(kind=Listing.Kind.STAY).exists(), f"no stay in {slug}"
        assert here.filter(kind__in=EXPERIENCES).exists(), f"no experience in {slug}"
    for slug in EXPERIENCE_PLACES:
        assert bookable.filter(place__slug=slug, kind__in=EXPERIENCES).exists(), slug
    new = Provider.objects.order_by("pk")[ORIGINAL_PROVIDERS:]
    assert 12 <= len(new) <= 18
    assert all(p.community_run for p in new)
    assert {p.kind for p in new} >= {"family", "association", "cooperative"}
    assert all(p.description_en and p.description_es for p in new)
    added = Listing.objects.order_by("pk")[len(ORIGINAL_TITLES) :]
    assert 20 <= len(added) <= 30
    assert all(x.description_en and x.description_es for x in added)


def test_the_original_listings_keep_their_titles_order_and_capacity(demo):
    """New supply is appended: the original listings come first, in their order, so
    they keep their ids on a fresh database. The first START_TIME and the first
    OPENING_HOURS product (what a reseller's conformance run books, a few places
    per scenario) have at least 60 places."""
    titles = list(Listing.objects.order_by("pk").values_list("title_en", flat=True))
    assert titles[: len(ORIGINAL_TITLES)] == ORIGINAL_TITLES
    ordered = list(Listing.objects.order_by("pk"))
    first_timed = next(x for x in ordered if x.is_timed)
    assert first_timed.title_en == "Sunset walk to Pachatata temple (demo)"
    assert first_timed.default_capacity >= 60
    first_stay = next(x for x in ordered if x.kind == Listing.Kind.STAY)
    assert first_stay.title_en == "Family homestay with three meals (demo)"
    assert first_stay.default_capacity >= 60


def test_every_demo_listing_validates_and_is_plausible(demo):
    """Model validation of every provider, listing and unit, plus what the portal and
    the planner assume: local currency, known tags and days, start times a day can
    hold, beds for the capacity, an adult price and cheaper children."""
    for provider in Provider.objects.all():
        provider.full_clean()
    for listing in Listing.objects.select_related("place__country"):
        listing.full_clean()
        assert listing.currency == listing.place.country.currency, listing
        assert set(listing.tags) <= set(InterestTag.values), listing
        assert set(listing.days) <= set(WEEKDAYS), listing
        if listing.max_party is not None:
            assert listing.min_party <= listing.max_party <= listing.default_capacity
        assert listing.min_party <= listing.default_capacity, listing
        if listing.kind == Listing.Kind.STAY:
            assert listing.stay_type and listing.beds >= listing.default_capacity
        if listing.kind in EXPERIENCES:
            assert listing.start_times and listing.duration_min, listing
            assert 30 <= listing.duration_min <= 8 * 60, listing
            for start in _starts(listing):
                assert dt.time(6, 0) <= start, listing
                assert _end(listing, start) <= dt.time(21, 0), listing
        if listing.altitude_m is not None:  # the highest point: not below the place
            assert listing.place.altitude_m - 300 <= listing.altitude_m <= 5000
        units = {u.code: u for u in ListingUnit.objects.filter(listing=listing)}
        for unit in units.values():
            unit.full_clean()
        assert "adult" in units, listing
        if "child" in units:
            child = units["child"]
            assert child.max_age is not None and child.max_age < 18, listing
            assert child.price_minor < units["adult"].price_minor, listing


def test_seeding_twice_changes_nothing(demo):
    """A second run adds nothing and leaves every row as it was."""

    def state():
        return (
            [model_to_dict(x) for x in Provider.objects.order_by("pk")],
            [model_to_dict(x) for x in Listing.objects.order_by("pk")],
            list(ListingUnit.objects.order_by("pk").values()),
        )

    before = state()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert state() == before


def test_seeding_an_older_demo_adds_the_new_supply_and_keeps_edits(db):
    """On a database seeded with the original demo (and edited since), seed_demo
    creates the new providers and listings and leaves the existing rows untouched."""
    call_command("seed_route", stdout=StringIO())
    data = yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8"))
    demo_seed(data={"providers": data["providers"][:ORIGINAL_PROVIDERS]})
    assert Listing.objects.count() == len(ORIGINAL_TITLES)
    edited = Listing.objects.get(title_en="Kayak to Ticonata (demo)")
    edited.default_capacity, edited.title_es = 60, "Kayak a Ticonata (editado)"
    edited.save()
    walk = Listing.objects.get(title_en="Guided walk Yumani – Challapampa (demo)")
    walk.end_place = None  # as if set by hand later: the seed does not touch it
    walk.save()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    created = len(data["providers"]) - ORIGINAL_PROVIDERS
    assert f"{created} providers" in out.getvalue()
    assert Provider.objects.count() == len(data["providers"])
    edited.refresh_from_db()
    walk.refresh_from_db()
    assert (edited.default_capacity, edited.title_es) == (
        60,
        "Kayak a Ticonata (editado)",
    )
    assert walk.end_place is None


def test_island_start_times_fit_the_seeded_boats(demo):
    """Every island experience can be reached. New ones (and at least one on each
    island) fit a day visit: they start after the first boat from the mainland
    arrives and end, with time to walk to the pier, before the last boat back from
    where they end. The others are for guests who sleep on that island."""
    arrivals = {
        island: min(arrive for _leave, arrive in _times(port, island))
        for island, port in DAY_VISIT_ISLANDS.items()
    }
    last_boats = {
        island: max(leave for leave, _arrive in _times(island, port))
        for island, port in DAY_VISIT_ISLANDS.items()
    }
    assert arrivals["isla-del-sol-yumani"] == dt.time(10, 0)  # the 08:30 launch
    assert last_boats["isla-del-sol-yumani"] == dt.time(15, 30)
    beds = set(
        Listing.objects.filter(kind=Listing.Kind.STAY).values_list(
            "place__slug", flat=True
        )
    )
    original = set(ORIGINAL_TITLES)
    day_visits: dict[str, int] = dict.fromkeys(DAY_VISIT_ISLANDS, 0)

    def fits_a_day_visit(listing: Listing, start: dt.time) -> bool:
        place, end_place = listing.place.slug, listing.ends_at.slug
        if place not in arrivals or end_place not in last_boats:
            return False
        back = dt.datetime.combine(DAY, _end(listing, start)) + TO_THE_PIER
        return start >= arrivals[place] and back.time() <= last_boats[end_place]

    for listing in _experiences(place__slug__in=ISLANDS):
        for start in _starts(listing):
            if fits_a_day_visit(listing, start):
                day_visits[listing.place.slug] += 1
                continue
            assert listing.title_en in original, (listing, start)
            assert listing.place.slug in beds, (listing, start)
            end_place = listing.ends_at.slug
            if end_place != listing.place.slug and end_place not in beds:
                assert _end(listing, start) <= last_boats[end_place], listing
    assert all(day_visits.values()), day_visits


def test_the_yumani_walk_ends_at_challapampa_before_its_last_boat(demo):
    """The guided walk ends at Challapampa, in time for the boat back from there."""
    walk = Listing.objects.get(title_en="Guided walk Yumani – Challapampa (demo)")
    assert (walk.place.slug, walk.end_place.slug) == (
        "isla-del-sol-yumani",
        "isla-del-sol-challapampa",
    )
    last_boat = max(
        leave for leave, _ in _times("isla-del-sol-challapampa", "copacabana")
    )
    assert all(_end(walk, start) < last_boat for start in _starts(walk))
    assert Listing.objects.filter(end_place__isnull=False).count() == 1


def test_copacabana_experiences_start_after_the_morning_buses_from_puno(demo):
    """Whichever morning bus from Puno a traveller takes (arrivals in Bolivian time,
    an hour ahead), the Copacabana experiences start after it arrives."""
    morning = [
        arrive for leave, arrive in _times("puno", "copacabana") if leave.hour < 12
    ]
    assert max(morning) == dt.time(12, 30)  # Peru Hop 08:00 PET
    experiences = _experiences(place__slug="copacabana")
    assert experiences
    for listing in experiences:
        assert min(_starts(listing)) >= max(morning), listing


def test_tiwanaku_visits_inside_the_sites_hours_and_the_minibuses(demo):
    """Nothing at Tiwanaku before the site opens; site visits start by the last entry
    and end by closing; each fits the minibuses from and back to La Paz."""
    first_arrival = min(arrive for _, arrive in _times("la-paz", "tiwanaku"))
    last_minibus = max(leave for leave, _ in _times("tiwanaku", "la-paz"))
    experiences = _experiences(place__slug="tiwanaku")
    assert any("archaeology" in x.tags for x in experiences)
    for listing in experiences:
        for start in _starts(listing):
            assert start >= max(TIWANAKU_OPENS, first_arrival), listing
            assert _end(listing, start) <= last_minibus, listing
            if "archaeology" in listing.tags:
                assert start <= TIWANAKU_LAST_ENTRY, listing
                assert _end(listing, start) <= TIWANAKU_CLOSES, listing


def test_market_experiences_only_on_market_days(demo):
    """El Alto's Feria 16 de Julio (Thursday, Sunday) and Pisac's market (Sunday,
    Tuesday, Thursday): their market experiences run on those days only."""
    seen = set()
    for slug, days in MARKET_DAYS.items():
        for listing in _experiences(place__slug=slug):
            if "market" in listing.title_en.lower():
                assert listing.days and set(listing.days) <= days, listing
                assert any(
                    listing.operates_on(DAY + dt.timedelta(days=n)) for n in range(7)
                )
                seen.add(slug)
    assert seen == set(MARKET_DAYS)


def test_unknown_end_place_in_the_demo_file_is_a_clear_error(demo):
    """A mistyped end place names the listing and the place instead of crashing."""
    from catalogue.services import SeedError

    item = {
        "kind": "guide",
        "title_en": "A walk to nowhere (demo)",
        "title_es": "Caminata a ninguna parte (demo)",
        "currency": "BOB",
        "default_capacity": 4,
        "end_place": "atlantis",
        "units": [{"code": "adult", "name_en": "A", "name_es": "A", "price": "1"}],
    }
    provider = {
        "slug": "demo-isla-del-sol-inti",
        "name": "x",
        "kind": "family",
        "home_place": "isla-del-sol-yumani",
        "contact_name": "x",
        "email": "x@example.org",
        "listings": [item],
    }
    with pytest.raises(SeedError, match="atlantis"):
        demo_seed(data={"providers": [provider]})
    assert not Place.objects.filter(slug="atlantis").exists()


def test_demo_visits_name_their_sights_near_where_they_run(demo):
    """Guided visits name the public sights they include (so a plan does not send
    the traveller there again), each within the editor's distance of where the
    visit starts or ends."""
    tiwanaku = Listing.objects.get(title_en="Guided visit of Tiwanaku's temples (demo)")
    assert [s.slug for s in tiwanaku.sights.all()] == ["tiwanaku"]
    covering = Listing.objects.filter(sights__isnull=False).distinct()
    assert covering.count() >= 10
    for listing in covering.prefetch_related("sights__place"):
        ends = [p for p in (listing.place, listing.end_place) if p is not None]
        for sight in listing.sights.all():
            at = sight if sight.latitude is not None else sight.place
            assert any(
                km_between(at.latitude, at.longitude, p.latitude, p.longitude)
                <= SIGHT_NEAR_KM
                for p in ends
            ), (listing.title_en, sight.slug)


def test_seeding_again_names_the_sights_of_older_demo_listings(demo):
    """A demo seeded before listings named their sights gets them on the next
    seed_demo; a provider's own choice is kept."""
    tiwanaku = Listing.objects.get(title_en="Guided visit of Tiwanaku's temples (demo)")
    tiwanaku.sights.clear()
    sillustani = Listing.objects.get(
        title_en="Sillustani's burial towers with a guide from Atuncolla (demo)"
    )
    own = Sight.objects.get(slug="pu-cathedral")
    sillustani.sights.set([own])
    call_command("seed_demo", stdout=StringIO())
    assert [s.slug for s in tiwanaku.sights.all()] == ["tiwanaku"]
    assert [s.slug for s in sillustani.sights.all()] == ["pu-cathedral"]
