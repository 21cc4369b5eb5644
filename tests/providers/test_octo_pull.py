"""Pulling availability from a provider's OCTO system (a real local fake supplier)."""

import datetime as dt

import pytest

from providers import octo_pull, services
from providers.models import Booking, Listing, Slot, SyncConflict
from tests.providers.factories import make_listing, make_provider
from tests.support.octo_supplier import API_KEY, fake_octo_supplier
from tourism.exceptions import ApplicationError
from tourism.net import URLNotAllowed

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
DAY = "2027-03-05"


@pytest.fixture(autouse=True)
def _allow_loopback(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def supplier():
    with fake_octo_supplier() as fake:
        fake.products = {"stay-1": ["DEFAULT"], "tour-1": ["DEFAULT", "PRIVATE"]}
        yield fake


@pytest.fixture
def connection(small_catalogue, supplier):
    provider = make_provider()
    return octo_pull.octo_connection_create(
        provider=provider,
        name="Their system",
        base_url=supplier.base_url + "/",
        api_key=API_KEY,
        horizon_days=10,
    )


def _slot(listing, day=DAY, start_time=None):
    return Slot.objects.get(listing=listing, date=day, start_time=start_time)


def test_statuses_map_to_blocked_places(connection, supplier):
    """AVAILABLE 4/10 blocks 6, SOLD_OUT and CLOSED block all, FREESALE none."""
    listing = make_listing(connection.provider, default_capacity=10)
    octo_pull.octo_product_link(
        connection=connection, listing=listing, product_id="stay-1"
    )
    supplier.days = {
        ("stay-1", "2027-03-02"): ("AVAILABLE", 4, 10),
        ("stay-1", "2027-03-03"): ("SOLD_OUT", 0, 10),
        ("stay-1", "2027-03-04"): ("CLOSED", 0, 0),
        ("stay-1", "2027-03-05"): ("FREESALE", None, None),
    }
    changed = octo_pull.octo_connection_sync(connection=connection, now=NOW)
    assert changed >= 3
    assert _slot(listing, "2027-03-02").blocked == 6
    assert _slot(listing, "2027-03-03").blocked == 10
    assert _slot(listing, "2027-03-04").blocked == 10
    assert _slot(listing, "2027-03-05").blocked == 0
    calendar_call = next(
        r for r in supplier.requests if r[1] == "/availability/calendar"
    )
    assert calendar_call[2]["localDateStart"] == "2027-03-01"
    assert calendar_call[2]["localDateEnd"] == "2027-03-11"
    connection.refresh_from_db()
    assert connection.last_success_at == NOW and connection.last_error == ""


def test_timed_listing_pulls_start_times(connection, supplier):
    """Activities with start times use /availability and fill each start time."""
    listing = make_listing(
        connection.provider,
        kind=Listing.Kind.ACTIVITY,
        start_times=["09:00"],
        default_capacity=10,
    )
    octo_pull.octo_product_link(
        connection=connection, listing=listing, product_id="tour-1"
    )
    supplier.days = {("tour-1", DAY): ("LIMITED", 3, 10)}
    octo_pull.octo_connection_sync(connection=connection, now=NOW)
    assert _slot(listing, DAY, dt.time(9, 0)).blocked == 7


def test_resync_is_idempotent(connection, supplier):
    """Pulling the same availability twice changes nothing the second time."""
    listing = make_listing(connection.provider, default_capacity=10)
    octo_pull.octo_product_link(
        connection=connection, listing=listing, product_id="stay-1"
    )
    supplier.days = {("stay-1", DAY): ("AVAILABLE", 4, 10)}
    assert octo_pull.octo_connection_sync(connection=connection, now=NOW) > 0
    assert octo_pull.octo_connection_sync(connection=connection, now=NOW) == 0


def test_failure_keeps_the_last_good_state(connection, supplier):
    """A supplier error records the failure with backoff and changes no slot."""
    listing = make_listing(connection.provider, default_capacity=10)
    octo_pull.octo_product_link(
        connection=connection, listing=listing, product_id="stay-1"
    )
    supplier.days = {("stay-1", DAY): ("AVAILABLE", 4, 10)}
    octo_pull.octo_connection_sync(connection=connection, now=NOW)
    supplier.fail_with = 500
    assert octo_pull.octo_connection_sync(connection=connection, now=NOW) == 0
    connection.refresh_from_db()
    assert "HTTP 500" in connection.last_error
    assert connection.consecutive_failures == 1
    assert connection.next_run_at - NOW == dt.timedelta(minutes=30)
    assert _slot(listing).blocked == 6  # untouched


def test_wrong_key_is_recorded(connection, supplier):
    """An UNAUTHORIZED answer is recorded in words, not raised."""
    listing = make_listing(connection.provider, default_capacity=10)
    octo_pull.octo_product_link(
        connection=connection, listing=listing, product_id="stay-1"
    )
    connection.api_key = "wrong"
    connection.save()
    octo_pull.octo_connection_sync(connection=connection, now=NOW)
    connection.refresh_from_db()
    assert "UNAUTHORIZED" in connection.last_error


def test_block_on_sold_places_is_a_conflict(connection, supplier):
    """Their sale landing on places we sold keeps both and records a conflict."""
    listing = make_listing(connection.provider, default_capacity=10)
    octo_pull.octo_product_link(
        connection=connection, listing=listing, product_id="stay-1"
    )
    booking = services.booking_hold(
        listing=listing,
        day=dt.date(2027, 3, 5),
        start_time=None,
        units={"adult": 4},
        channel=Booking.Channel.WEBSITE,
        now=NOW,
    )
    services.booking_confirm(booking=booking, now=NOW)
    supplier.days = {("stay-1", DAY): ("SOLD_OUT", 0, 10)}
    octo_pull.octo_connection_sync(connection=connection, now=NOW)
    slot = _slot(listing)
    assert (slot.booked, slot.blocked) == (4, 10)
    conflict = SyncConflict.objects.get(slot=slot, resolved_at__isnull=True)
    assert (conflict.sold, conflict.blocked) == (4, 10)
    supplier.days = {("stay-1", DAY): ("AVAILABLE", 6, 10)}
    octo_pull.octo_connection_sync(connection=connection, now=NOW)
    conflict.refresh_from_db()
    assert conflict.resolved_at is not None


def test_linking_checks_products_and_tenants(connection, supplier, small_catalogue):
    """Unknown products/options and other providers' listings are refused by field."""
    listing = make_listing(connection.provider)
    with pytest.raises(ApplicationError) as exc:
        octo_pull.octo_product_link(
            connection=connection, listing=listing, product_id="x"
        )
    assert exc.value.field == "product_id"
    with pytest.raises(ApplicationError) as exc:
        octo_pull.octo_product_link(
            connection=connection,
            listing=listing,
            product_id="tour-1",
            option_id="NOPE",
        )
    assert exc.value.field == "option_id"
    stranger = make_listing(make_provider())
    with pytest.raises(ApplicationError) as exc:
        octo_pull.octo_product_link(
            connection=connection, listing=stranger, product_id="stay-1"
        )
    assert exc.value.field == "listing"


def test_supplier_url_must_be_public(small_catalogue, settings):
    """Without the test allowance a loopback supplier URL is refused."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(URLNotAllowed):
        octo_pull.octo_connection_create(
            provider=make_provider(),
            name="x",
            base_url="http://127.0.0.1:9/octo",
            api_key=API_KEY,
        )


def test_sync_keeps_the_product_list_for_linking(connection, supplier):
    """Each sync stores the supplier's products and options for the portal."""
    octo_pull.octo_connection_sync(connection=connection, now=NOW)
    connection.refresh_from_db()
    assert {p["id"]: p["options"] for p in connection.products} == {
        "stay-1": ["DEFAULT"],
        "tour-1": ["DEFAULT", "PRIVATE"],
    }
