"""OCTO JSON objects (Supplier, Product, Option, Unit, Availability, Booking, …) from
our models. ``caps`` is the set of capabilities the request asked for and we support:
``octo/content`` adds the texts (in the request's language), locations, duration,
features and photos (see ``octo.content``), ``octo/pricing`` the
prices in integer minor units, retail and net (retail minus the agency's
commission)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from catalogue.models import CURRENCY_EXPONENT, Place
from octo import content, selectors
from octo.selectors import OPTION_ID, OctoAvailability, OctoDay
from providers.models import Booking, Listing, ListingUnit
from providers.selectors import CHECK_IN, unit_price
from providers.services.bookings import agency_net, split_exactly

CONTENT = "octo/content"
PRICING = "octo/pricing"
SUPPORTED_CAPABILITIES = (CONTENT, PRICING)
LANGUAGES = ("en", "es")

SUPPLIER_ID = "titicaca-route"
SUPPLIER_NAME = "Titicaca route"

CONTACT_FIELDS = (
    "fullName",
    "firstName",
    "lastName",
    "emailAddress",
    "phoneNumber",
    "postalCode",
    "country",
    "notes",
)


def utc(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def capabilities() -> list[dict[str, Any]]:
    return [
        {"id": cap, "revision": 1, "required": False, "dependencies": [], "docs": None}
        for cap in SUPPORTED_CAPABILITIES
    ]


def supplier(*, endpoint: str, caps: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": SUPPLIER_ID,
        "name": SUPPLIER_NAME,
        "endpoint": endpoint,
        "contact": {
            "website": endpoint.rsplit("/api/octo", 1)[0] + "/",
            "email": settings.DEFAULT_FROM_EMAIL or None,
            "telephone": None,
            "address": None,
        },
    }
    if CONTENT in caps:
        body["shortDescription"] = _(
            "Community tourism on the Cusco – Puno – Copacabana – La Paz route: "
            "homestays, experiences and transport run by local families and "
            "cooperatives."
        )
        body["media"] = []
    return body


# --- Prices -------------------------------------------------------------------------


def pricing(retail: int, currency: str, agency: Agency | None) -> dict[str, Any]:
    return {
        "original": retail,
        "retail": retail,
        "net": agency_net(retail, agency),
        "currency": currency,
        "currencyPrecision": CURRENCY_EXPONENT.get(currency, 2),
        "includedTaxes": [],
    }


def _unit_item_prices(booking: Booking) -> list[dict[str, Any]]:
    """Each unit item's price as the booking was priced: the unit prices frozen
    at reserve time (today's for a booking from before they were kept), retail
    and net each shared out so that the items add up to the booking's totals
    exactly."""
    items = booking.unit_items or []
    frozen = booking.unit_prices or {}
    if any(i.get("unitId") not in frozen for i in items):
        by_code = {u.code: u for u in booking.listing.units.all()}
        frozen = {
            code: unit_price(unit, booking.slot.date) for code, unit in by_code.items()
        } | frozen
    weights = [frozen.get(i.get("unitId"), 0) for i in items]
    retail = split_exactly(booking.total_minor, weights)
    net = (
        split_exactly(booking.net_minor, weights)
        if booking.net_minor is not None
        else [None] * len(items)
    )
    return [
        {**pricing(r, booking.currency, None), "net": n}
        for r, n in zip(retail, net, strict=True)
    ]


def _from_price(unit: ListingUnit) -> int:
    return min([unit.price_minor, *(s.price_minor for s in unit.schedules.all())])


# --- Products -----------------------------------------------------------------------

_UNIT_TYPES = (
    ("infant", "INFANT"),
    ("baby", "INFANT"),
    ("child", "CHILD"),
    ("kid", "CHILD"),
    ("youth", "YOUTH"),
    ("teen", "YOUTH"),
    ("senior", "SENIOR"),
    ("student", "STUDENT"),
    ("family", "FAMILY"),
    ("military", "MILITARY"),
    ("adult", "ADULT"),
)


def unit_type(unit: ListingUnit) -> str:
    """From the unit's code when it says (``adult``, ``child``, ``infant``, …), else
    from its ages; a unit without either is an ADULT if it takes a place."""
    code = unit.code.lower()
    for word, kind in _UNIT_TYPES:
        if word in code:
            return kind
    if unit.max_age is not None and unit.max_age <= 2:
        return "INFANT"
    if unit.max_age is not None and unit.max_age <= 17:
        return "CHILD"
    if unit.min_age is not None and unit.min_age >= 60:
        return "SENIOR"
    return "ADULT" if unit.occupies_capacity else "OTHER"


def unit(
    item: ListingUnit, listing: Listing, *, caps: set[str], agency: Agency | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.code,
        "internalName": item.name_en,
        "reference": None,
        "type": unit_type(item),
        "restrictions": {
            "minAge": item.min_age or 0,
            "maxAge": 99 if item.max_age is None else item.max_age,
            "idRequired": False,
            "minQuantity": None,
            "maxQuantity": listing.max_party if item.occupies_capacity else None,
            "paxCount": 1 if item.occupies_capacity else 0,
            "accompaniedBy": [],
        },
        "requiredContactFields": [],
    }
    if PRICING in caps:
        body["pricingFrom"] = [pricing(_from_price(item), listing.currency, agency)]
    if CONTENT in caps:
        body["title"] = item.name
        body["shortDescription"] = content.unit_description(item)
        body["features"] = []
    return body


def option(listing: Listing, *, caps: set[str], agency: Agency | None) -> dict:
    hours = listing.cancellation_cutoff_hours
    body: dict[str, Any] = {
        "id": OPTION_ID,
        "default": True,
        "internalName": "DEFAULT",
        "reference": None,
        "availabilityLocalStartTimes": [
            t.strftime("%H:%M") for t in selectors.local_start_times(listing)
        ],
        "cancellationCutoff": _("%(hours)s hours") % {"hours": hours},
        "cancellationCutoffAmount": hours,
        "cancellationCutoffUnit": "hour",
        "requiredContactFields": [],
        "restrictions": {"minUnits": listing.min_party, "maxUnits": listing.max_party},
        "units": [
            unit(u, listing, caps=caps, agency=agency) for u in listing.units.all()
        ],
    }
    if CONTENT in caps:
        # The one option is the product: its texts, photos, places and categories
        # are the product's; the option has its booking and cancellation terms.
        body["title"] = listing.title
        body["shortDescription"] = None
        body["description"] = None
        body["features"] = content.option_features(listing)
        body["faqs"] = []
        body["media"] = []
        body["locations"] = []
        body["categoryLabels"] = []
        body["durationMinutesFrom"], body["durationMinutesTo"] = content.duration(
            listing
        )
        body["commentary"] = content.commentary(listing)
    return body


LOCATION_IDENTIFIERS = (
    "googlePlaceId",
    "applePlaceId",
    "tripadvisorLocationId",
    "yelpPlaceId",
    "facebookPlaceId",
    "foursquarePlaceId",
    "baiduPlaceId",
    "amapPlaceId",
)


def _location(place: Place, types: list[str]) -> dict[str, Any]:
    """An OCTO ``Location`` at one of our places (a town point: no street address,
    no third-party identifiers)."""
    return {
        "title": place.name,
        "shortDescription": None,
        "types": types,
        "minutesTo": None,
        "minutesAt": None,
        "place": {
            "latitude": float(place.latitude),
            "longitude": float(place.longitude),
            "postalAddress": {
                "streetAddress": None,
                "addressLocality": place.name,
                "addressRegion": None,
                "postalCode": None,
                "addressCountry": place.country.code,
                "postOfficeBoxNumber": None,
            },
            "identifiers": dict.fromkeys(LOCATION_IDENTIFIERS),
            "sameAs": [],
        },
    }


def locations(listing: Listing) -> list[dict[str, Any]]:
    """Where the product starts and ends: an activity or guided walk that ends
    elsewhere (``end_place``) has a START and an END location; one that ends where it
    starts has one location for both; stays and transport only their place."""
    if listing.end_place_id:
        return [
            _location(listing.place, ["START"]),
            _location(listing.end_place, ["END"]),
        ]
    if listing.kind in Listing.MOVING_KINDS:
        return [_location(listing.place, ["START", "END"])]
    return [_location(listing.place, ["START"])]


def product(
    listing: Listing, *, caps: set[str], agency: Agency | None, site: str
) -> dict:
    """``site``: the scheme and host photo URLs are made absolute on."""
    instant = listing.confirmation == Listing.Confirmation.INSTANT
    body: dict[str, Any] = {
        "id": str(listing.pk),
        "internalName": listing.title_en,
        "reference": None,
        "locale": f"es-{listing.place.country.code}",
        "timeZone": listing.place.country.timezone,
        "allowFreesale": False,
        "instantConfirmation": instant,
        "instantDelivery": instant,
        "availabilityRequired": True,
        "availabilityType": (
            "START_TIME" if selectors.is_start_time(listing) else "OPENING_HOURS"
        ),
        "deliveryFormats": ["QRCODE"],
        "deliveryMethods": ["VOUCHER"],
        "redemptionMethod": "MANIFEST",
        "options": [option(listing, caps=caps, agency=agency)],
    }
    if PRICING in caps:
        body["defaultCurrency"] = listing.currency
        body["availableCurrencies"] = [listing.currency]
        body["pricingPer"] = "UNIT"
    if CONTENT in caps:
        body["title"] = listing.title
        body["shortDescription"] = content.short_description(listing.description)
        body["description"] = listing.description or None
        body["features"] = content.product_features(listing)
        body["faqs"] = []
        body["media"] = content.media(listing, site=site)
        body["locations"] = locations(listing)
        body["categoryLabels"] = content.category_labels(listing)
        body["durationMinutesFrom"], body["durationMinutesTo"] = content.duration(
            listing
        )
        body["commentary"] = content.commentary(listing)
    return body


# --- Availability -------------------------------------------------------------------


def opening_hours(listing: Listing) -> list[dict[str, str]]:
    """The listing's hours; a stay without hours of its own is open from its
    check-in (14:00, the start its booking cut-off counts back from) to the end of
    the day."""
    if listing.opens and listing.closes:
        return [
            {
                "from": listing.opens.strftime("%H:%M"),
                "to": listing.closes.strftime("%H:%M"),
            }
        ]
    if listing.kind == Listing.Kind.STAY:
        return [{"from": CHECK_IN.strftime("%H:%M"), "to": "23:59"}]
    return []


def _units(listing: Listing) -> list[ListingUnit]:
    """The listing's units: the prefetched list when there is one (``.all()`` copies
    a queryset, for every day of a calendar)."""
    prefetched = getattr(listing, "_prefetched_objects_cache", {}).get("units")
    return list(listing.units.all() if prefetched is None else prefetched)


def _unit_pricing(
    listing: Listing, day: dt.date, agency: Agency | None
) -> list[dict[str, Any]]:
    return [
        {"unitId": u.code, **pricing(unit_price(u, day), listing.currency, agency)}
        for u in _units(listing)
    ]


def _party_price(listing: Listing, day: dt.date, units: dict[str, int] | None) -> int:
    """The price of the requested units, else of one place (the cheapest unit that
    takes one)."""
    by_code = {u.code: u for u in _units(listing)}
    if units:
        return sum(
            unit_price(by_code[c], day) * n for c, n in units.items() if c in by_code
        )
    prices = [unit_price(u, day) for u in by_code.values() if u.occupies_capacity]
    return min(prices, default=0)


def availability(
    item: OctoAvailability,
    *,
    caps: set[str],
    agency: Agency | None,
    units: dict[str, int] | None = None,
) -> dict[str, Any]:
    listing = item.listing
    body: dict[str, Any] = {
        "id": item.id,
        "localDateTimeStart": item.starts.isoformat(),
        "localDateTimeEnd": item.ends.isoformat(),
        "utcCutoffAt": utc(item.cutoff),
        "allDay": item.all_day,
        "available": item.available,
        "status": item.status,
        "vacancies": item.vacancies,
        "capacity": item.capacity,
        "maxUnits": listing.max_party,
        "openingHours": opening_hours(listing),
    }
    if PRICING in caps:
        body["unitPricing"] = _unit_pricing(listing, item.date, agency)
        body["pricing"] = pricing(
            _party_price(listing, item.date, units), listing.currency, agency
        )
    if CONTENT in caps:
        body["title"] = None
        body["shortDescription"] = (
            _("Check-in from %(time)s.") % {"time": content.check_in(listing)}
            if listing.kind == Listing.Kind.STAY
            else ""
        )
    return body


def calendar(
    days: list[OctoDay],
    listing: Listing,
    *,
    caps: set[str],
    agency: Agency | None,
    units: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """One OCTO calendar entry per day. Days whose units cost the same share one
    rendering of their prices (most days of a month do)."""
    hours = opening_hours(listing)
    priced: dict[tuple[int, ...], tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    entries = []
    for day in days:
        body: dict[str, Any] = {
            "localDate": day.date.isoformat(),
            "available": day.available,
            "status": day.status,
            "vacancies": day.vacancies,
            "capacity": day.capacity,
            "openingHours": hours,
        }
        if PRICING in caps:
            key = tuple(unit_price(u, day.date) for u in _units(listing))
            if key not in priced:
                priced[key] = (
                    _unit_pricing(listing, day.date, agency),
                    pricing(
                        _party_price(listing, day.date, units), listing.currency, agency
                    ),
                )
            body["unitPricingFrom"], body["pricingFrom"] = priced[key]
        entries.append(body)
    return entries


# --- Bookings -----------------------------------------------------------------------

STATUSES = {
    Booking.Status.ON_HOLD: "ON_HOLD",
    Booking.Status.PENDING: "PENDING",
    Booking.Status.CONFIRMED: "CONFIRMED",
    Booking.Status.DECLINED: "REJECTED",
    Booking.Status.CANCELLED: "CANCELLED",
    Booking.Status.EXPIRED: "EXPIRED",
    Booking.Status.REDEEMED: "REDEEMED",
    # OCTO has no no-show: the booking stood and was not redeemed.
    Booking.Status.NO_SHOW: "CONFIRMED",
}


def contact(sent: dict[str, Any] | None) -> dict[str, Any]:
    sent = sent or {}
    body = {name: sent.get(name) or None for name in CONTACT_FIELDS}  # "" is none
    if not body["fullName"] and (body["firstName"] or body["lastName"]):
        body["fullName"] = " ".join(
            p for p in (body["firstName"], body["lastName"]) if p
        )
    body["locales"] = list(sent.get("locales") or [])
    return body


def _refund(booking: Booking) -> str:
    refund = booking.refund_minor or 0
    if refund >= booking.total_minor:
        return "FULL"
    return "PARTIAL" if refund > 0 else "NONE"


def _voucher(booking: Booking) -> dict[str, Any] | None:
    if booking.status not in Booking.BOOKED:
        return None
    return {
        "redemptionMethod": "MANIFEST",
        "utcRedeemedAt": utc(booking.redeemed_at),
        "deliveryOptions": [
            {"deliveryFormat": "QRCODE", "deliveryValue": booking.supplier_reference}
        ],
    }


def booking(
    item: Booking,
    *,
    caps: set[str],
    agency: Agency | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    now = now or timezone.now()
    listing = item.listing
    status = STATUSES[item.status]
    slot_availability = selectors.availability_of_slot(
        listing=listing, slot=item.slot, now=now
    )
    unit_prices = _unit_item_prices(item) if PRICING in caps else []
    unit_items = []
    for n, sent in enumerate(item.unit_items or [], 1):
        entry: dict[str, Any] = {
            "uuid": sent["uuid"],
            "resellerReference": sent.get("resellerReference"),
            "supplierReference": f"{item.supplier_reference}-{n}",
            "unitId": sent["unitId"],
            "status": status,
            "utcRedeemedAt": utc(item.redeemed_at),
            "contact": contact(sent.get("contact")),
            "ticket": None,
        }
        if unit_prices:
            entry["pricing"] = unit_prices[n - 1]
        unit_items.append(entry)
    cancellation = None
    if item.status == Booking.Status.CANCELLED:
        cancellation = {
            "refund": _refund(item),
            "reason": item.cancel_reason or None,
            "utcCancelledAt": utc(item.cancelled_at),
        }
    body: dict[str, Any] = {
        "id": str(item.uuid),
        "uuid": str(item.uuid),
        "testMode": item.test_mode,
        "resellerReference": item.reseller_reference or None,
        "supplierReference": item.supplier_reference or None,
        "status": status,
        "utcCreatedAt": utc(item.created_at),
        "utcUpdatedAt": utc(item.updated_at),
        "utcExpiresAt": (
            utc(item.expires_at) if item.status == Booking.Status.ON_HOLD else None
        ),
        "utcRedeemedAt": (
            utc(item.redeemed_at) if item.status == Booking.Status.REDEEMED else None
        ),
        "utcConfirmedAt": (
            utc(item.confirmed_at)
            if item.status in (*Booking.BOOKED, Booking.Status.CANCELLED)
            else None
        ),
        "productId": str(listing.pk),
        "optionId": OPTION_ID,
        "cancellable": selectors.booking_cancellable(booking=item, now=now),
        "cancellation": cancellation,
        "freesale": False,
        "availabilityId": slot_availability.id,
        "availability": availability(
            slot_availability, caps=caps, agency=agency, units=item.units
        ),
        "contact": contact(item.contact),
        "notes": item.notes or None,
        "deliveryMethods": ["VOUCHER"],
        "voucher": _voucher(item),
        "unitItems": unit_items,
    }
    if PRICING in caps:
        body["pricing"] = {
            **pricing(item.total_minor, item.currency, None),
            "net": item.net_minor,
        }
    return body
