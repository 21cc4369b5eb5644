"""Pull availability from a provider's own OCTO reservation system into our slots.

The supplier's sales on its other channels become ``Slot.blocked``; our own holds and
bookings stay in ``held``/``booked``. Per day or start time:

- ``FREESALE`` → nothing blocked;
- ``AVAILABLE`` / ``LIMITED`` → ``blocked = capacity − vacancies`` (their capacity when
  they send one, else ours);
- ``SOLD_OUT`` / ``CLOSED`` → the whole slot blocked.

A failure (unreachable, 4xx/5xx, malformed JSON) records the error with exponential
backoff and leaves every slot as it was. A block landing on places we already sold is
kept on both sides and recorded as a ``SyncConflict``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from providers.models import (
    Listing,
    OctoConnection,
    OctoProductLink,
    Slot,
    SyncConflict,
)
from providers.services import slot_get_or_create
from tourism.exceptions import ApplicationError
from tourism.net import FetchError, URLNotAllowed, check_url, fetch

MAX_BACKOFF = dt.timedelta(hours=24)
SYNC_INTERVAL = dt.timedelta(minutes=15)
TIMEOUT_S = 15.0
MAX_BYTES = 5_000_000


class OctoError(Exception):
    """The supplier's answer was an error or not OCTO; the message is for people."""


def octo_connection_create(
    *, provider: Any, name: str, base_url: str, api_key: str, horizon_days: int = 90
) -> OctoConnection:
    """Register a provider's OCTO system; the URL passes the SSRF guard first
    (URLNotAllowed naming ``base_url``)."""
    try:
        check_url(base_url)
    except URLNotAllowed as exc:
        raise URLNotAllowed(exc.message, field="base_url") from exc
    if not api_key.strip():
        raise ApplicationError(_("Enter the API key."), field="api_key")
    return OctoConnection.objects.create(
        provider=provider,
        name=name,
        base_url=base_url.rstrip("/"),
        api_key=api_key.strip(),
        horizon_days=horizon_days,
    )


def _call(
    connection: OctoConnection, method: str, path: str, body: dict | None = None
) -> Any:
    result = fetch(
        f"{connection.base_url}{path}",
        method=method,
        json_body=body,
        headers={
            "Authorization": f"Bearer {connection.api_key}",
            "Accept": "application/json",
            "Octo-Capabilities": "",
        },
        timeout=TIMEOUT_S,
        max_bytes=MAX_BYTES,
    )
    try:
        payload = json.loads(result.content)
    except ValueError as exc:
        raise OctoError(_("The supplier did not answer with JSON.")) from exc
    if result.status_code >= 400:
        code = payload.get("error", "") if isinstance(payload, dict) else ""
        message = payload.get("errorMessage", "") if isinstance(payload, dict) else ""
        raise OctoError(
            _("The supplier refused %(path)s (HTTP %(status)s %(code)s): %(message)s")
            % {
                "path": path,
                "status": result.status_code,
                "code": code,
                "message": message,
            }
        )
    return payload


def octo_products_fetch(*, connection: OctoConnection) -> list[dict[str, Any]]:
    """The supplier's products (``GET /products``), to choose what to link."""
    products = _call(connection, "GET", "/products")
    if not isinstance(products, list):
        raise OctoError(_("The supplier's product list is not a list."))
    return products


def _product_summary(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the portal needs to offer products for linking."""
    return [
        {
            "id": str(p.get("id", "")),
            "name": str(p.get("internalName", ""))[:200],
            "options": [str(o.get("id", "")) for o in p.get("options", [])],
        }
        for p in products
        if isinstance(p, dict) and p.get("id")
    ]


def octo_product_link(
    *,
    connection: OctoConnection,
    listing: Listing,
    product_id: str,
    option_id: str = "DEFAULT",
) -> OctoProductLink:
    """Link one of the provider's listings to a supplier product option (checked
    against the supplier's product list)."""
    if listing.provider_id != connection.provider_id:
        raise ApplicationError(
            _("This listing belongs to another provider."), field="listing"
        )
    if listing.feeds.filter(is_active=True).exists():
        raise ApplicationError(
            _(
                "This listing takes its availability from calendar feeds; remove "
                "them before linking it to a reservation system."
            ),
            field="listing",
        )
    products = {p.get("id"): p for p in octo_products_fetch(connection=connection)}
    product = products.get(product_id)
    if product is None:
        raise ApplicationError(
            _("The supplier has no product '%(id)s'.") % {"id": product_id},
            field="product_id",
        )
    options = {o.get("id") for o in product.get("options", [])}
    if option_id not in options:
        raise ApplicationError(
            _("Product '%(id)s' has no option '%(option)s'.")
            % {"id": product_id, "option": option_id},
            field="option_id",
        )
    link, _created = OctoProductLink.objects.update_or_create(
        listing=listing,
        defaults={
            "connection": connection,
            "product_id": product_id,
            "option_id": option_id,
            "product_name": str(product.get("internalName", ""))[:200],
        },
    )
    return link


@dataclass(frozen=True)
class ExternalAvailability:
    date: dt.date
    start_time: dt.time | None
    status: str
    vacancies: int | None
    capacity: int | None


def _parse_calendar(items: Iterable[dict[str, Any]]) -> list[ExternalAvailability]:
    return [
        ExternalAvailability(
            date=dt.date.fromisoformat(item["localDate"]),
            start_time=None,
            status=str(item["status"]),
            vacancies=item.get("vacancies"),
            capacity=item.get("capacity"),
        )
        for item in items
    ]


def _parse_availabilities(
    items: Iterable[dict[str, Any]],
) -> list[ExternalAvailability]:
    parsed = []
    for item in items:
        start = dt.datetime.fromisoformat(item["localDateTimeStart"])
        parsed.append(
            ExternalAvailability(
                date=start.date(),
                start_time=None
                if item.get("allDay")
                else start.time().replace(tzinfo=None),
                status=str(item["status"]),
                vacancies=item.get("vacancies"),
                capacity=item.get("capacity"),
            )
        )
    return parsed


def _blocked_for(slot: Slot, external: ExternalAvailability) -> int:
    if external.status in ("SOLD_OUT", "CLOSED"):
        return slot.capacity
    if external.status == "FREESALE" or external.vacancies is None:
        return 0
    capacity = external.capacity if external.capacity is not None else slot.capacity
    return max(0, min(slot.capacity, capacity - int(external.vacancies)))


def _apply(listing: Listing, availability: list[ExternalAvailability]) -> int:
    """Write the supplier's view into our slots; returns how many slots changed."""
    changed = 0
    for external in availability:
        if listing.is_timed and external.start_time is None:
            continue  # a whole-day answer cannot be split into our start times
        slot = slot_get_or_create(
            listing=listing,
            day=external.date,
            start_time=external.start_time if listing.is_timed else None,
        )
        blocked = _blocked_for(slot, external)
        if blocked != slot.blocked:
            Slot.objects.filter(pk=slot.pk).update(
                blocked=blocked, updated_at=timezone.now()
            )
            changed += 1
        sold = slot.held + slot.booked
        open_conflict = SyncConflict.objects.filter(slot=slot, resolved_at__isnull=True)
        if sold + blocked > slot.capacity:
            if not open_conflict.exists():
                SyncConflict.objects.create(slot=slot, sold=sold, blocked=blocked)
        else:
            open_conflict.update(resolved_at=timezone.now())
    return changed


def _pull(
    link: OctoProductLink, start: dt.date, end: dt.date
) -> list[ExternalAvailability]:
    body = {
        "productId": link.product_id,
        "optionId": link.option_id,
        "localDateStart": start.isoformat(),
        "localDateEnd": end.isoformat(),
    }
    if link.listing.is_timed:
        items = _call(link.connection, "POST", "/availability", body)
        parse = _parse_availabilities
    else:
        items = _call(link.connection, "POST", "/availability/calendar", body)
        parse = _parse_calendar
    if not isinstance(items, list):
        raise OctoError(_("The supplier's availability is not a list."))
    try:
        return parse(items)
    except (KeyError, TypeError, ValueError) as exc:
        raise OctoError(
            _("The supplier's availability is malformed: %(e)s") % {"e": exc}
        ) from exc


def octo_connection_sync(
    *, connection: OctoConnection, now: dt.datetime | None = None
) -> int:
    """Pull every linked listing's availability; all or nothing per connection.

    Returns the number of slots changed. On failure nothing changes but the
    connection's error, failure count and backoff.
    """
    now = now or timezone.now()
    lock = f"octo-sync:{connection.pk}"
    if not cache.add(lock, "1", timeout=int(TIMEOUT_S * 4) + 60):
        return 0  # another worker is syncing this connection right now
    try:
        return _sync(connection, now)
    finally:
        cache.delete(lock)


def _sync(connection: OctoConnection, now: dt.datetime) -> int:
    links = list(
        connection.links.select_related("listing__place__country", "connection")
    )
    start = now.date()
    end = start + dt.timedelta(days=connection.horizon_days)
    OctoConnection.objects.filter(pk=connection.pk).update(last_attempt_at=now)
    try:
        products = _product_summary(octo_products_fetch(connection=connection))
        pulled = [(link, _pull(link, start, end)) for link in links]
    except (FetchError, OctoError) as exc:
        failures = connection.consecutive_failures + 1
        delay = min(MAX_BACKOFF, SYNC_INTERVAL * 2**failures)
        message = getattr(exc, "message", None) or str(exc)
        OctoConnection.objects.filter(pk=connection.pk).update(
            last_error=message,
            last_error_at=now,
            consecutive_failures=F("consecutive_failures") + 1,
            next_run_at=now + delay,
        )
        connection.refresh_from_db()
        return 0
    with transaction.atomic():
        changed = sum(
            _apply(link.listing, availability) for link, availability in pulled
        )
        OctoConnection.objects.filter(pk=connection.pk).update(
            products=products,
            last_success_at=now,
            last_error="",
            consecutive_failures=0,
            next_run_at=now + SYNC_INTERVAL,
        )
    connection.refresh_from_db()
    return changed


def octo_connections_due(*, now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    due = OctoConnection.objects.filter(is_active=True).filter(
        next_run_at__isnull=True
    ) | OctoConnection.objects.filter(is_active=True, next_run_at__lte=now)
    return list(due.values_list("pk", flat=True))
