"""Syncing iCal feeds into blocks and slots, against a real local HTTP server."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from providers.models import CalendarFeed, ExternalBlock, ProviderMember, Slot
from providers.models import SyncConflict as Conflict
from providers.services import slot_set
from providers.sync import services as sync_services
from providers.sync.ical import content_hash
from providers.sync.services import (
    SyncStatus,
    calendar_feed_create,
    calendar_feed_delete,
    calendar_feed_list_for_provider,
    calendar_feed_sync,
    horizon,
)
from tests.providers.ical.conftest import NOW, ics, make_ics
from tests.support.http import Route
from tourism.net import URLNotAllowed

pytestmark = pytest.mark.django_db

D = dt.date
NIGHTS = [D(2026, 12, 1), D(2026, 12, 2), D(2026, 12, 3)]
LATER = NOW + dt.timedelta(hours=1)


def body_hash(name, listing, now=NOW):
    """The stored content hash: the body plus the first date of the horizon."""
    first, _last = horizon(zone=listing.place.zone, now=now)
    return content_hash(ics(name) + first.isoformat().encode())


def sync(feed, now=NOW):
    return calendar_feed_sync(feed_id=feed.pk, now=now)


def blocked(listing, start_time=None):
    """{date: blocked} of the listing's slots with a non-zero block."""
    return dict(
        Slot.objects.filter(listing=listing, start_time=start_time, blocked__gt=0)
        .order_by("date")
        .values_list("date", "blocked")
    )


def block_rows(feed):
    return set(ExternalBlock.objects.filter(feed=feed).values_list("date", "uid"))


# --- What blocks what -----------------------------------------------------------------


def test_airbnb_reservation_blocks_its_nights(stay, make_feed):
    """All-day DTEND is exclusive: nights 1–3 Dec and 20–21 Dec are fully blocked."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    result = sync(feed)
    assert result.status == SyncStatus.SYNCED and result.added == 5
    assert blocked(stay) == {
        **dict.fromkeys(NIGHTS, 4),
        D(2026, 12, 20): 4,
        D(2026, 12, 21): 4,
    }
    assert ExternalBlock.objects.get(feed=feed, date=D(2026, 12, 1)).summary == (
        "Reserved"
    )
    feed.refresh_from_db()
    assert feed.last_success_at == NOW and feed.last_event_count == 2
    assert feed.next_run_at == NOW + dt.timedelta(minutes=15)
    assert feed.content_hash == body_hash("airbnb_3_nights.ics", feed.listing)


def test_timed_and_zoned_events_block_lima_dates(stay, make_feed):
    """UTC, TZID (La Paz, Madrid) and floating events land on Lima dates."""
    sync(make_feed(stay, ics("timed_zones.ics")))
    assert sorted(blocked(stay)) == [
        D(2026, 12, 1),
        D(2026, 12, 4),
        D(2026, 12, 5),
        D(2026, 12, 7),
        D(2026, 12, 8),
        D(2026, 12, 10),
        D(2026, 12, 11),
        D(2026, 12, 12),
    ]


def test_rrule_with_exdate(stay, make_feed):
    """Recurrences are expanded, EXDATE and a cancelled occurrence skipped."""
    sync(make_feed(stay, ics("rrule_exdate.ics")))
    assert sorted(blocked(stay)) == [
        D(2026, 12, 1),
        D(2026, 12, 3),
        D(2026, 12, 5),
        D(2026, 12, 8),
        D(2026, 12, 22),
        D(2026, 12, 29),
    ]


def test_cancelled_and_transparent_events_are_ignored(stay, make_feed):
    """Only the confirmed opaque event blocks its date."""
    sync(make_feed(stay, ics("cancelled_transparent.ics")))
    assert blocked(stay) == {D(2026, 12, 9): 4}


def test_removed_event_releases_its_dates(stay, make_feed, feed_server):
    """When the reservation disappears from the feed its nights are free again."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    sync(feed)
    feed_server.routes["/feed.ics"] = Route(body=ics("airbnb_after_cancel.ics"))
    result = sync(feed, now=LATER)
    assert (result.status, result.added, result.removed) == ("synced", 0, 3)
    assert blocked(stay) == {D(2026, 12, 20): 4, D(2026, 12, 21): 4}
    assert {day for day, _uid in block_rows(feed)} == {D(2026, 12, 20), D(2026, 12, 21)}
    assert Slot.objects.get(listing=stay, date=D(2026, 12, 2)).blocked == 0


def test_timed_listing_blocks_every_start_time(tour, make_feed):
    """For an activity each start time of a blocked date is blocked."""
    sync(make_feed(tour, make_ics(("x", D(2026, 12, 2), D(2026, 12, 3)))))
    slots = Slot.objects.filter(listing=tour).order_by("start_time")
    assert [(s.date, s.start_time, s.blocked) for s in slots] == [
        (D(2026, 12, 2), dt.time(9), 10),
        (D(2026, 12, 2), dt.time(15), 10),
    ]


def test_blocks_units_blocks_part_of_the_capacity(stay, make_feed):
    """A feed blocking 2 persons leaves 2 of 4 places; two such feeds add up."""
    events = make_ics(("r1", D(2026, 12, 1), D(2026, 12, 3)))
    one = make_feed(stay, events, path="/one.ics", blocks_units=2)
    sync(one)
    assert blocked(stay) == {D(2026, 12, 1): 2, D(2026, 12, 2): 2}
    other = make_ics(("r2", D(2026, 12, 2), D(2026, 12, 4)))
    sync(make_feed(stay, other, path="/two.ics", blocks_units=1))
    assert blocked(stay) == {D(2026, 12, 1): 2, D(2026, 12, 2): 3, D(2026, 12, 3): 1}


def test_blocks_are_clamped_to_capacity(stay, make_feed):
    """Σ blocks_units above capacity blocks exactly the capacity, never more."""
    slot_set(listing=stay, day=D(2026, 12, 1), capacity=1)
    events = make_ics(("r", D(2026, 12, 1), D(2026, 12, 3)))
    sync(make_feed(stay, events, path="/a.ics", blocks_units=3))
    sync(make_feed(stay, events, path="/b.ics", blocks_units=3))
    assert blocked(stay) == {D(2026, 12, 1): 1, D(2026, 12, 2): 4}


def test_deleting_a_feed_releases_its_blocks(stay, make_feed):
    """Disconnecting a calendar frees the dates only it blocked."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    sync(feed)
    calendar_feed_delete(feed=feed, now=LATER)
    assert blocked(stay) == {}
    assert not ExternalBlock.objects.exists()


# --- Idempotency and conditional requests ---------------------------------------------


def test_rerunning_changes_nothing(stay, make_feed, mailoutbox):
    """A second full sync of the same content writes no row and sends nothing."""
    Slot.objects.create(listing=stay, date=D(2026, 12, 2), capacity=4, booked=1)
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    sync(feed)
    before_rows = set(ExternalBlock.objects.values_list("pk", "date", "uid", "summary"))
    before_slots = set(
        Slot.objects.values_list("pk", "blocked", "held", "booked", "updated_at")
    )
    conflicts, mails = Conflict.objects.count(), len(mailoutbox)
    CalendarFeed.objects.filter(pk=feed.pk).update(content_hash="")  # force a parse
    again = sync(feed, now=LATER)
    assert (again.status, again.added, again.removed) == ("synced", 0, 0)
    assert again.conflicts_opened == 0
    assert before_rows == set(
        ExternalBlock.objects.values_list("pk", "date", "uid", "summary")
    )
    assert before_slots == set(
        Slot.objects.values_list("pk", "blocked", "held", "booked", "updated_at")
    )
    assert (Conflict.objects.count(), len(mailoutbox)) == (conflicts, mails) == (1, 1)


def test_identical_body_is_not_parsed_again(stay, make_feed, monkeypatch):
    """Same SHA-256 as the last good body: success without parsing."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    sync(feed)

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(sync_services, "parse_feed", must_not_parse)
    result = sync(feed, now=LATER)
    assert result.status == SyncStatus.UNCHANGED
    feed.refresh_from_db()
    assert feed.last_success_at == LATER
    assert len(blocked(stay)) == 5


def test_304_with_etag_changes_nothing(stay, make_feed, feed_server):
    """The stored ETag and Last-Modified are sent back; a 304 only reschedules."""
    headers = {"ETag": '"v1"', "Last-Modified": "Fri, 20 Nov 2026 10:00:00 GMT"}
    feed = make_feed(stay, ics("airbnb_3_nights.ics"), headers=headers)
    sync(feed)

    def conditional(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Route(status=304, headers={"ETag": '"v1"'})
        return None

    feed_server.routes["/feed.ics"].handler = conditional
    rows = set(ExternalBlock.objects.values_list("pk", "date", "uid"))
    result = sync(feed, now=LATER)
    assert result.status == SyncStatus.NOT_MODIFIED
    sent = feed_server.requests[-1]
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Fri, 20 Nov 2026 10:00:00 GMT"
    assert "if-none-match" not in feed_server.requests[0]
    assert rows == set(ExternalBlock.objects.values_list("pk", "date", "uid"))
    feed.refresh_from_db()
    assert (feed.etag, feed.last_success_at) == ('"v1"', LATER)
    assert feed.next_run_at == LATER + dt.timedelta(minutes=15)


# --- Failures keep the last good state ------------------------------------------------


@pytest.fixture
def synced(stay, make_feed):
    """A feed synced once with the 3-night reservation (5 nights blocked)."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    assert sync(feed).status == SyncStatus.SYNCED
    return feed


def assert_kept_and_backed_off(feed, stay, result, match):
    """Blocks and slots as before; the error recorded with a doubled interval."""
    assert result.status == SyncStatus.FAILED and match in result.message
    assert len(blocked(stay)) == 5 and ExternalBlock.objects.count() == 5
    feed.refresh_from_db()
    assert match in feed.last_error and feed.last_error_at == LATER
    assert feed.consecutive_failures == 1
    assert feed.next_run_at == LATER + dt.timedelta(minutes=30)
    assert feed.last_success_at == NOW
    assert feed.content_hash == body_hash("airbnb_3_nights.ics", feed.listing)


def test_malformed_feed_keeps_last_state(synced, stay, feed_server):
    """An HTML login page instead of iCal changes nothing but the error fields."""
    feed_server.routes["/feed.ics"] = Route(body=ics("malformed.ics"))
    result = sync(synced, now=LATER)
    assert_kept_and_backed_off(synced, stay, result, "not an iCalendar")


def test_unreadable_event_fails_the_whole_feed(synced, stay, feed_server):
    """Dropping an event we cannot read would release its dates: refuse the feed."""
    feed_server.routes["/feed.ics"] = Route(body=ics("broken_event.ics"))
    result = sync(synced, now=LATER)
    assert_kept_and_backed_off(synced, stay, result, "broken@test")


def test_http_500_keeps_last_state(synced, stay, feed_server):
    """A server error is a failure, not an empty calendar."""
    feed_server.routes["/feed.ics"] = Route(status=500, body=b"oops")
    result = sync(synced, now=LATER)
    assert_kept_and_backed_off(synced, stay, result, "HTTP 500")


def test_huge_feed_is_refused(synced, stay, feed_server, settings):
    """A body over ICAL_MAX_BYTES is cut off and refused."""
    settings.ICAL_MAX_BYTES = 20_000
    events = [(f"e{n}", D(2026, 12, 1), D(2026, 12, 2)) for n in range(400)]
    body = make_ics(*events)
    assert len(body) > 20_000
    feed_server.routes["/feed.ics"] = Route(body=body)
    result = sync(synced, now=LATER)
    assert_kept_and_backed_off(synced, stay, result, "20000")


def test_slow_feed_times_out(synced, stay, feed_server, settings):
    """A server that answers after the time limit is a failure (limit 1 s here)."""
    settings.ICAL_FETCH_TIMEOUT_SECONDS = 1
    feed_server.routes["/feed.ics"] = Route(body=ics("empty.ics"), delay_s=2)
    result = sync(synced, now=LATER)
    assert_kept_and_backed_off(synced, stay, result, "longer than 1")


def test_trickling_feed_hits_the_total_time_limit(synced, stay, feed_server, settings):
    """Bytes arriving slowly but steadily still stop at the total limit."""
    settings.ICAL_FETCH_TIMEOUT_SECONDS = 1
    body = make_ics(*[(f"e{n}", D(2026, 12, 1), D(2026, 12, 2)) for n in range(40)])
    feed_server.routes["/feed.ics"] = Route(body=body, trickle_s=0.25)
    result = sync(synced, now=LATER)
    assert_kept_and_backed_off(synced, stay, result, "longer than 1")


def test_unreachable_feed_keeps_last_state(synced, stay, settings):
    """Nothing listening on the port: recorded as a failure."""
    CalendarFeed.objects.filter(pk=synced.pk).update(url="http://127.0.0.1:9/feed.ics")
    result = sync(synced, now=LATER)
    assert_kept_and_backed_off(synced, stay, result, "could not be reached")


def test_empty_after_nonempty_is_suspicious(synced, stay, feed_server):
    """Zero events where there were two keeps the blocks and records an error."""
    feed_server.routes["/feed.ics"] = Route(body=ics("empty.ics"))
    result = sync(synced, now=LATER)
    assert_kept_and_backed_off(synced, stay, result, "empty")


def test_always_empty_feed_is_fine(stay, make_feed):
    """A calendar that never had events syncs successfully."""
    feed = make_feed(stay, ics("empty.ics"))
    assert sync(feed).status == SyncStatus.SYNCED
    assert sync(feed, now=LATER).status == SyncStatus.UNCHANGED
    feed.refresh_from_db()
    assert (feed.last_event_count, feed.consecutive_failures) == (0, 0)
    assert not feed.last_error


def test_backoff_doubles_up_to_a_day_and_success_resets(synced, feed_server):
    """interval × 2^failures, capped at 24 h; the next good fetch resets it."""
    feed_server.routes["/feed.ics"] = Route(status=503)
    delays = []
    for n in range(1, 9):
        now = NOW + dt.timedelta(days=n)
        sync(synced, now=now)
        synced.refresh_from_db()
        delays.append(synced.next_run_at - now)
    minutes = [int(d.total_seconds() // 60) for d in delays]
    assert minutes == [30, 60, 120, 240, 480, 960, 1440, 1440]
    assert synced.consecutive_failures == 8
    feed_server.routes["/feed.ics"] = Route(body=ics("airbnb_after_cancel.ics"))
    later = NOW + dt.timedelta(days=10)
    assert sync(synced, now=later).status == SyncStatus.SYNCED
    synced.refresh_from_db()
    assert synced.consecutive_failures == 0
    assert synced.next_run_at == later + dt.timedelta(minutes=15)


def test_feed_interval_overrides_the_setting(synced, feed_server):
    """A feed's own interval sets its next run and its backoff base."""
    CalendarFeed.objects.filter(pk=synced.pk).update(interval_minutes=60)
    feed_server.routes["/feed.ics"] = Route(status=500)
    sync(synced, now=LATER)
    synced.refresh_from_db()
    assert synced.next_run_at == LATER + dt.timedelta(minutes=120)


# --- Conflicts ------------------------------------------------------------------------


@pytest.fixture
def member(stay):
    user = get_user_model().objects.create_user(
        "cristina", email="cristina@example.org", password="x"
    )
    return ProviderMember.objects.create(provider=stay.provider, user=user)


def test_conflict_on_sold_night_is_recorded_then_resolved(
    stay, make_feed, feed_server, member, mailoutbox, settings
):
    """Block over a sold night: both kept, one conflict, one email each; resolved
    when the reservation leaves the feed."""
    settings.ADMINS = [("Staff", "staff@example.org")]
    sold = Slot.objects.create(
        listing=stay, date=D(2026, 12, 2), capacity=4, held=1, booked=2
    )
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    result = sync(feed)
    assert result.conflicts_opened == 1
    sold.refresh_from_db()
    assert (sold.held, sold.booked, sold.blocked) == (1, 2, 4)  # never dropped
    conflict = Conflict.objects.get()
    assert (conflict.slot, conflict.feed, conflict.sold, conflict.blocked) == (
        sold,
        feed,
        3,
        4,
    )
    assert conflict.resolved_at is None
    assert sorted(m.to[0] for m in mailoutbox) == [
        "cristina@example.org",
        "staff@example.org",
    ]
    assert "2026-12-02" in mailoutbox[0].body

    feed_server.routes["/feed.ics"] = Route(body=ics("airbnb_after_cancel.ics"))
    result = sync(feed, now=LATER)
    assert result.conflicts_resolved == 1
    conflict.refresh_from_db()
    assert conflict.resolved_at == LATER
    sold.refresh_from_db()
    assert (sold.held, sold.booked, sold.blocked) == (1, 2, 0)
    assert len(mailoutbox) == 2  # nothing new to announce


def test_partial_block_that_fits_is_no_conflict(stay, make_feed, mailoutbox):
    """2 sold + 2 blocked of 4 fits: no conflict, no email."""
    Slot.objects.create(listing=stay, date=D(2026, 12, 2), capacity=4, booked=2)
    events = make_ics(("r", D(2026, 12, 2), D(2026, 12, 3)))
    result = sync(make_feed(stay, events, blocks_units=2))
    assert result.conflicts_opened == 0 and not Conflict.objects.exists()
    assert Slot.objects.get(listing=stay, date=D(2026, 12, 2)).blocked == 2
    assert mailoutbox == []


def test_conflict_mail_goes_to_the_provider_address_without_members(
    stay, make_feed, mailoutbox
):
    """No member with an email: the provider's own address is told."""
    Slot.objects.create(listing=stay, date=D(2026, 12, 1), capacity=4, booked=4)
    sync(make_feed(stay, ics("airbnb_3_nights.ics")))
    assert [m.to for m in mailoutbox] == [["family@example.org"]]


# --- Creating feeds, SSRF -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/calendar.ics",
        "http://localhost/calendar.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/calendar.ics",
        "http://[::1]/calendar.ics",
    ],
)
def test_private_feed_urls_are_refused_at_create(stay, settings, url):
    """Loopback, private and metadata addresses cannot be saved as feeds."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(URLNotAllowed) as exc:
        calendar_feed_create(listing=stay, url=url)
    assert exc.value.field == "url"
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize("url", ["not a url", "ftp://93.184.216.34/x.ics", ""])
def test_invalid_feed_urls_name_the_field(stay, url):
    """Non-http(s) or garbage URLs raise a ValidationError on ``url``."""
    with pytest.raises(ValidationError) as exc:
        calendar_feed_create(listing=stay, url=url)
    assert "url" in exc.value.message_dict


def test_create_validates_units_and_duplicates(stay, settings):
    """blocks_units must be ≥ 1; the same URL cannot be added twice; webcal works."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    url = "https://93.184.216.34/calendar.ics"
    with pytest.raises(ValidationError) as exc:
        calendar_feed_create(listing=stay, url=url, blocks_units=0)
    assert "blocks_units" in exc.value.message_dict
    feed = calendar_feed_create(listing=stay, url="webcal://93.184.216.34/calendar.ics")
    assert feed.url == url and feed.next_run_at is None
    with pytest.raises(ValidationError) as exc:
        calendar_feed_create(listing=stay, url=url)
    assert "url" in exc.value.message_dict


def test_guard_refuses_a_private_feed_at_fetch_time(stay, feed_server, settings):
    """A feed row pointing at loopback (saved around the service) is not fetched."""
    feed_server.routes["/feed.ics"] = Route(body=ics("airbnb_3_nights.ics"))
    feed = CalendarFeed.objects.create(listing=stay, url=feed_server.url("/feed.ics"))
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    result = sync(feed)
    assert result.status == SyncStatus.FAILED and "private" in result.message
    assert feed_server.requests == [] and not ExternalBlock.objects.exists()


def test_inactive_feed_is_skipped(stay, make_feed, feed_server):
    """A deactivated feed is not fetched."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    CalendarFeed.objects.filter(pk=feed.pk).update(is_active=False)
    assert sync(feed).status == SyncStatus.SKIPPED
    assert feed_server.requests == []


def test_portal_lists_feed_status_per_provider(synced, stay, provider, feed_server):
    """The provider's feeds with last success, last error, next run, conflicts."""
    feed_server.routes["/feed.ics"] = Route(status=500)
    sync(synced, now=LATER)
    (row,) = calendar_feed_list_for_provider(provider=provider)
    assert row.pk == synced.pk and row.open_conflicts == 0
    assert (row.last_success_at, row.last_error_at) == (NOW, LATER)
    assert "HTTP 500" in row.last_error and row.next_run_at > LATER


def test_whole_day_block_follows_a_capacity_change(small_catalogue):
    """Raising capacity on a date an external calendar takes keeps it fully blocked."""
    from providers import services
    from providers.models import CalendarFeed, ExternalBlock, Slot
    from providers.sync.services import listing_blocks_recompute
    from tests.providers.factories import make_listing, make_provider

    listing = make_listing(make_provider(), default_capacity=6)
    feed = CalendarFeed.objects.create(
        listing=listing, url="https://93.184.216.34/c.ics"
    )
    day = dt.date(2027, 3, 10)
    ExternalBlock.objects.create(feed=feed, date=day, uid="a")
    listing_blocks_recompute(listing=listing, dates=[day])
    assert Slot.objects.get(listing=listing, date=day).free == 0
    services.slot_set(listing=listing, day=day, capacity=8)
    slot = Slot.objects.get(listing=listing, date=day)
    assert (slot.capacity, slot.blocked, slot.free) == (8, 8, 0)


def test_one_source_of_external_blocks_per_listing(small_catalogue, settings):
    """A listing linked to an OCTO system takes no feeds, and the reverse."""
    from providers import octo_pull
    from providers.models import OctoConnection, OctoProductLink
    from tests.providers.factories import make_listing, make_provider
    from tourism.exceptions import ApplicationError

    provider = make_provider()
    linked, with_feed = make_listing(provider), make_listing(provider)
    connection = OctoConnection.objects.create(
        provider=provider, name="x", base_url="https://93.184.216.34", api_key="k"
    )
    OctoProductLink.objects.create(
        connection=connection, listing=linked, product_id="p"
    )
    with pytest.raises(ValidationError) as exc:
        calendar_feed_create(listing=linked, url="https://93.184.216.34/a.ics")
    assert "url" in exc.value.message_dict
    calendar_feed_create(listing=with_feed, url="https://93.184.216.34/b.ics")
    with pytest.raises(ApplicationError) as err:
        octo_pull.octo_product_link(
            connection=connection, listing=with_feed, product_id="p"
        )
    assert err.value.field == "listing"


def test_first_sync_of_a_new_day_fetches_in_full(stay, make_feed, feed_server):
    """The horizon rolls daily: the next day's first sync sends no conditional
    headers and re-parses the same body, so dates entering the horizon are read."""
    headers = {"ETag": '"v1"'}
    feed = make_feed(stay, ics("airbnb_3_nights.ics"), headers=headers)
    sync(feed)
    next_day = NOW + dt.timedelta(days=1)
    result = sync(feed, now=next_day)
    assert "if-none-match" not in feed_server.requests[-1]
    assert result.status == SyncStatus.SYNCED
    feed.refresh_from_db()
    assert feed.content_hash == body_hash("airbnb_3_nights.ics", stay, now=next_day)
    assert sync(feed, now=next_day + dt.timedelta(hours=1)).status in (
        SyncStatus.NOT_MODIFIED,
        SyncStatus.UNCHANGED,
    )
