"""Parsing and checking of OCTO request bodies and query strings.

Each function returns plain values or raises ``OctoError``: BAD_REQUEST for a
malformed body, the matching ``INVALID_*`` code (naming the id) for an unknown
product, option, unit or availability."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _

from octo import errors, selectors
from octo.errors import bad_request, invalid
from octo.render import CONTACT_FIELDS
from octo.selectors import MAX_DATE, MIN_DATE, OPTION_ID
from octo.services import Reservation, request_hash
from providers.models import Booking, Listing

MAX_UNIT_ITEMS = 100
MAX_QUANTITY = 1000
MAX_AVAILABILITY_IDS = 100
MAX_CALENDAR_DAYS = 366
MAX_AVAILABILITY_DAYS = 93
MAX_REFERENCE = 100
MAX_EMAIL = 254


def _check_strings(value: Any, path: str = "body") -> None:
    """No NUL characters anywhere (the database refuses them)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise bad_request(_("%(path)s contains a NUL character.") % {"path": path})
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, path)
            _check_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check_strings(item, f"{path}[{n}]")


def body_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise bad_request(_("The body must be a JSON object."))
    _check_strings(data)
    return data


def _optional_str(
    body: dict[str, Any], name: str, *, max_length: int | None = None
) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(_("%(name)s must be a string.") % {"name": name})
    if max_length is not None and len(value) > max_length:
        raise bad_request(
            _("%(name)s takes at most %(n)s characters.")
            % {"name": name, "n": max_length}
        )
    return value


def _optional_int(
    body: dict[str, Any], name: str, *, minimum: int, maximum: int
) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(_("%(name)s must be a whole number.") % {"name": name})
    if not minimum <= value <= maximum:
        raise bad_request(
            _("%(name)s must be between %(min)s and %(max)s.")
            % {"name": name, "min": minimum, "max": maximum}
        )
    return value


def parse_uuid(value: Any, name: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise bad_request(_("%(name)s must be a UUID string.") % {"name": name})
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise bad_request(_("%(name)s is not a UUID.") % {"name": name}) from exc


def parse_date(value: Any, name: str) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise bad_request(_("%(name)s must be a date (YYYY-MM-DD).") % {"name": name})
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise bad_request(
            _("%(name)s must be a date (YYYY-MM-DD).") % {"name": name}
        ) from exc
    if not MIN_DATE <= day <= MAX_DATE:
        raise bad_request(
            _("%(name)s must be between %(min)s and %(max)s.")
            % {"name": name, "min": MIN_DATE, "max": MAX_DATE}
        )
    return day


def date_range(
    body: dict[str, Any], *, max_days: int, allow_single: bool = True
) -> tuple[dt.date, dt.date] | None:
    """``localDate``, or ``localDateStart`` and ``localDateEnd``; None when none."""
    if allow_single and body.get("localDate") is not None:
        day = parse_date(body["localDate"], "localDate")
        return day, day
    start, end = body.get("localDateStart"), body.get("localDateEnd")
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise bad_request(_("Send both localDateStart and localDateEnd."))
    first = parse_date(start, "localDateStart")
    last = parse_date(end, "localDateEnd")
    if last < first:
        raise bad_request(_("localDateEnd is before localDateStart."))
    if (last - first).days >= max_days:
        raise bad_request(_("Ask for at most %(n)s days at a time.") % {"n": max_days})
    return first, last


def _is_email(value: str) -> bool:
    """An address OCTO's ``format: email`` means and that we can store and send to:
    Django's EmailValidator (a real local part and domain), 254 characters at most
    (the length of a mailbox in SMTP, and of the booking's column)."""
    if len(value) > MAX_EMAIL:
        return False
    try:
        EmailValidator()(value)
    except ValidationError:
        return False
    return True


def contact(value: Any, name: str = "contact") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(_("%(name)s must be an object.") % {"name": name})
    for field in CONTACT_FIELDS:
        _optional_str(value, field, max_length=1000)
    email = value.get("emailAddress")
    if email and not _is_email(email):
        raise bad_request(
            _("%(name)s.emailAddress is not an email address.") % {"name": name}
        )
    locales = value.get("locales")
    if locales is not None and (
        not isinstance(locales, list)
        or not all(isinstance(x, str) and len(x) <= 35 for x in locales)
        or len(locales) > 20
    ):
        raise bad_request(
            _("%(name)s.locales must be a list of language tags.") % {"name": name}
        )
    return value


def product(body: dict[str, Any]) -> Listing:
    """The product and option a body names (INVALID_PRODUCT_ID / INVALID_OPTION_ID)."""
    product_id = body.get("productId")
    if product_id is not None and not isinstance(product_id, str):
        raise bad_request(_("productId must be a string."))
    listing = selectors.product_get(product_id) if product_id else None
    if listing is None:
        raise invalid(
            errors.INVALID_PRODUCT_ID,
            product_id,
            _("Unknown or missing productId."),
        )
    option_id = body.get("optionId")
    if option_id != OPTION_ID:
        raise invalid(
            errors.INVALID_OPTION_ID,
            option_id if isinstance(option_id, str) else "",
            _("Unknown or missing optionId: this product has the option DEFAULT."),
        )
    currency = body.get("currency")
    if currency is not None and currency != listing.currency:
        raise bad_request(
            _("This product is sold in %(currency)s only.")
            % {"currency": listing.currency}
        )
    return listing


def _unit_codes(listing: Listing) -> dict[str, bool]:
    """{unit code: takes a place}."""
    return {u.code: u.occupies_capacity for u in listing.units.all()}


def availability_units(
    body: dict[str, Any], listing: Listing
) -> tuple[dict[str, int] | None, int]:
    """The ``units`` of an availability request as {code: quantity}, and the persons
    they are (0 when none are given)."""
    units = body.get("units")
    if units is None:
        return None, 0
    if not isinstance(units, list) or len(units) > MAX_UNIT_ITEMS:
        raise bad_request(_("units must be a list of {id, quantity}."))
    codes = _unit_codes(listing)
    wanted: dict[str, int] = {}
    for item in units:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise bad_request(_("units must be a list of {id, quantity}."))
        quantity = _optional_int(item, "quantity", minimum=0, maximum=MAX_QUANTITY)
        if quantity is None:
            raise bad_request(_("Each unit needs a quantity."))
        if item["id"] not in codes:
            raise invalid(errors.INVALID_UNIT_ID, item["id"], _("Unknown unit id."))
        wanted[item["id"]] = wanted.get(item["id"], 0) + quantity
    persons = sum(n for code, n in wanted.items() if codes[code])
    return wanted, persons


@dataclass(frozen=True)
class AvailabilityQuery:
    listing: Listing
    start: dt.date
    end: dt.date
    ids: frozenset[tuple[dt.date, dt.time | None]] | None
    units: dict[str, int] | None
    persons: int


def availability_query(data: Any, *, calendar: bool) -> AvailabilityQuery:
    body = body_object(data)
    listing = product(body)
    units, persons = availability_units(body, listing)
    span = date_range(
        body,
        max_days=MAX_CALENDAR_DAYS if calendar else MAX_AVAILABILITY_DAYS,
        allow_single=not calendar,
    )
    ids = None
    if not calendar and body.get("availabilityIds") is not None:
        if span is not None:
            # The document: "either localDate, localDateStart/localDateEnd or
            # availabilityIds" — one way of choosing, not two that may disagree.
            raise bad_request(_("Send either the dates or availabilityIds, not both."))
        raw = body["availabilityIds"]
        if (
            not isinstance(raw, list)
            or len(raw) > MAX_AVAILABILITY_IDS
            or not all(isinstance(x, str) for x in raw)
        ):
            raise bad_request(_("availabilityIds must be a list of ids."))
        parsed = [selectors.parse_availability_id(listing, x) for x in raw]
        ids = frozenset(p for p in parsed if p is not None)
        days = sorted(day for day, _start in ids)
        span = (days[0], days[-1]) if days else (MIN_DATE, MIN_DATE)
        if (span[1] - span[0]).days >= MAX_AVAILABILITY_DAYS:
            raise bad_request(_("The availabilityIds span too many days."))
    if span is None:
        raise bad_request(
            _("Send localDateStart and localDateEnd.")
            if calendar
            else _(
                "Send localDate, localDateStart and localDateEnd, or availabilityIds."
            )
        )
    return AvailabilityQuery(
        listing=listing,
        start=span[0],
        end=span[1],
        ids=ids,
        units=units,
        persons=persons,
    )


def unit_items(value: Any, listing: Listing) -> list[dict[str, Any]]:
    """``unitItems`` as sent, checked: each names a unit of the listing."""
    if not isinstance(value, list) or not value:
        raise bad_request(_("unitItems must be a non-empty list."))
    if len(value) > MAX_UNIT_ITEMS:
        raise bad_request(
            _("At most %(n)s unit items per booking.") % {"n": MAX_UNIT_ITEMS}
        )
    codes = _unit_codes(listing)
    seen: set[str] = set()
    items = []
    for n, item in enumerate(value):
        where = f"unitItems[{n}]"
        if not isinstance(item, dict):
            raise bad_request(_("%(where)s must be an object.") % {"where": where})
        unit_id = item.get("unitId")
        if not isinstance(unit_id, str):
            raise invalid(
                errors.INVALID_UNIT_ID,
                "",
                _("%(where)s needs a unitId.") % {"where": where},
            )
        if unit_id not in codes:
            raise invalid(errors.INVALID_UNIT_ID, unit_id, _("Unknown unit id."))
        if item.get("uuid") is not None:
            item_uuid = str(parse_uuid(item["uuid"], f"{where}.uuid"))
            if item_uuid in seen:
                raise bad_request(_("Two unit items have the same uuid."))
            seen.add(item_uuid)
            item = {**item, "uuid": item_uuid}
        _optional_str(item, "resellerReference", max_length=MAX_REFERENCE)
        contact(item.get("contact"), f"{where}.contact")
        items.append(item)
    return items


def reservation(data: Any) -> Reservation:
    body = body_object(data)
    listing = product(body)
    availability_id = body.get("availabilityId")
    key = selectors.parse_availability_id(listing, availability_id)
    if key is None:
        raise invalid(
            errors.INVALID_AVAILABILITY_ID,
            availability_id if isinstance(availability_id, str) else "",
            _("Unknown or missing availabilityId for this product."),
        )
    items = unit_items(body.get("unitItems"), listing)
    booking_uuid = (
        parse_uuid(body["uuid"], "uuid") if body.get("uuid") is not None else None
    )
    return Reservation(
        listing=listing,
        day=key[0],
        start_time=key[1],
        unit_items=items,
        booking_uuid=booking_uuid,
        expiration_minutes=_optional_int(
            body, "expirationMinutes", minimum=1, maximum=10**6
        ),
        notes=_optional_str(body, "notes", max_length=5000) or "",
        reseller_reference=(
            _optional_str(body, "resellerReference", max_length=MAX_REFERENCE) or ""
        ),
        contact=contact(body.get("contact")),
        request_hash=request_hash(body),
    )


@dataclass(frozen=True)
class Confirmation:
    contact: dict[str, Any]
    reseller_reference: str | None
    unit_items: list[dict[str, Any]] | None


def confirmation(data: Any, listing: Listing) -> Confirmation:
    body = body_object(data)
    if "contact" not in body or not isinstance(body["contact"], dict):
        raise bad_request(_("contact is required (an object)."))
    return Confirmation(
        contact=contact(body["contact"]),
        reseller_reference=_optional_str(
            body, "resellerReference", max_length=MAX_REFERENCE
        ),
        unit_items=(
            unit_items(body["unitItems"], listing)
            if body.get("unitItems") is not None
            else None
        ),
    )


def expiration(data: Any) -> int | None:
    body = body_object(data)
    return _optional_int(body, "expirationMinutes", minimum=1, maximum=10**6)


def update(data: Any, booking: Booking) -> dict[str, Any]:
    """The changes a PATCH asks for (only the keys sent). A new product (of the
    same provider), availability or units move the booking (``"move"``: the
    listing and the slot's (date, start time)); the others are details."""
    body = body_object(data)
    listing = booking.listing
    product_id = body.get("productId")
    if product_id is not None and product_id != str(booking.listing_id):
        # The option may be left out of a PATCH: the product's only one then.
        listing = product({"optionId": OPTION_ID, **body})
    option_id = body.get("optionId")
    if option_id is not None and option_id != OPTION_ID:
        raise invalid(
            errors.INVALID_OPTION_ID,
            option_id if isinstance(option_id, str) else "",
            _("Unknown optionId."),
        )
    key = (booking.slot.date, booking.slot.start_time)
    availability_id = body.get("availabilityId")
    if availability_id is not None:
        found = selectors.parse_availability_id(listing, availability_id)
        if found is None:
            raise invalid(
                errors.INVALID_AVAILABILITY_ID,
                availability_id if isinstance(availability_id, str) else "",
                _("Unknown availabilityId for this product."),
            )
        key = found
    elif listing.pk != booking.listing_id:
        raise invalid(
            errors.INVALID_AVAILABILITY_ID,
            "",
            _("Moving to another product needs its availabilityId."),
        )
    changes: dict[str, Any] = {}
    if listing.pk != booking.listing_id or key != (
        booking.slot.date,
        booking.slot.start_time,
    ):
        changes["move"] = (listing, key)
    if "resellerReference" in body:
        changes["resellerReference"] = (
            _optional_str(body, "resellerReference", max_length=MAX_REFERENCE) or ""
        )
    if "notes" in body:
        changes["notes"] = _optional_str(body, "notes", max_length=5000)
    if "contact" in body:
        changes["contact"] = contact(body["contact"])
    if body.get("unitItems") is not None:
        changes["unitItems"] = unit_items(body["unitItems"], listing)
    if body.get("expirationMinutes") is not None:
        changes["expirationMinutes"] = _optional_int(
            body, "expirationMinutes", minimum=1, maximum=10**6
        )
    return changes


@dataclass(frozen=True)
class BookingFilter:
    reseller_reference: str | None
    supplier_reference: str | None
    start: dt.date | None
    end: dt.date | None
    listing_id: int | None


def booking_filter(params: Any) -> BookingFilter:
    """GET /bookings: one of resellerReference, supplierReference, localDate, or
    localDateStart and localDateEnd is required; productId narrows further."""
    values = {key: params.get(key) for key in params}
    _check_strings(values, "query")
    for name in ("resellerReference", "supplierReference"):
        _optional_str(values, name, max_length=MAX_REFERENCE)
    span = date_range(values, max_days=MAX_CALENDAR_DAYS)
    product_id = values.get("productId")
    listing_id = None
    if product_id is not None:
        if not product_id.isascii() or not product_id.isdigit() or len(product_id) > 18:
            raise invalid(
                errors.INVALID_PRODUCT_ID, product_id, _("Unknown productId.")
            )
        listing_id = int(product_id)
    if (
        values.get("resellerReference") is None
        and values.get("supplierReference") is None
        and span is None
    ):
        raise bad_request(
            _(
                "Filter by resellerReference, supplierReference, localDate, or "
                "localDateStart and localDateEnd."
            )
        )
    return BookingFilter(
        reseller_reference=values.get("resellerReference"),
        supplier_reference=values.get("supplierReference"),
        start=span[0] if span else None,
        end=span[1] if span else None,
        listing_id=listing_id,
    )
