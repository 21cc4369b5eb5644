"""The OCTO supplier API for travel agencies (``/api/octo/``): thin views over
``octo.inputs`` (parsing), ``octo.selectors`` (reads), ``octo.services`` (writes) and
``octo.render`` (the OCTO objects).

Every view authenticates with an agency API key only (``Authorization: Bearer
tk_…``), is throttled per key, and answers errors in OCTO's shape. Responses carry
``Octo-Capabilities`` (the capabilities applied), ``Content-Language`` and
``Available-Languages``.

Beyond the specification, ``GET /products`` and ``GET /bookings`` page on request:
with ``?limit=N`` (1–100) they return N items and, when more follow, a
``Link: <…&cursor=…>; rel="next"`` header. Without ``limit`` they return the whole
array as OCTO says.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.auth import ApiKeyRateThrottle, IsAgency, request_agency
from agencies.models import Agency
from octo import errors, inputs, render, schema, selectors, services
from octo.auth import OctoApiKeyAuthentication
from providers.models import CANCEL_REASON_MAX, Booking
from tourism.parsers import LimitedJSONParser

MAX_PAGE = 100


class OctoView(APIView):
    authentication_classes = [OctoApiKeyAuthentication]
    permission_classes = [IsAgency]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer]
    schema = None  # documented by octo/spec/openapi.yaml, not drf-spectacular

    def get_exception_handler(self) -> Callable[..., Response]:
        return errors.exception_handler

    @cached_property
    def caps(self) -> set[str]:
        header = self.request.headers.get("Octo-Capabilities", "")
        asked = {part.strip() for part in header.split(",")}
        return {cap for cap in render.SUPPORTED_CAPABILITIES if cap in asked}

    @property
    def site(self) -> str:
        """Where we answer (``https://host/``): photo URLs are absolute on it."""
        return self.request.build_absolute_uri("/")

    @property
    def agency(self) -> Agency:
        agency = request_agency(self.request)
        assert agency is not None  # IsAgency
        return agency

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Octo-Capabilities"] = ", ".join(sorted(self.caps))
        response["Content-Language"] = (get_language() or "en")[:2]
        response["Available-Languages"] = ", ".join(render.LANGUAGES)
        return response

    def booking_or_error(self, booking_uuid: str) -> Booking:
        """The agency's own booking, expired first if its hold ran out; any other
        uuid (unknown, malformed, another agency's) is INVALID_BOOKING_UUID."""
        try:
            parsed = uuid.UUID(booking_uuid)
        except ValueError:
            parsed = None
        booking = (
            selectors.booking_get_for_agency(agency=self.agency, booking_uuid=parsed)
            if parsed
            else None
        )
        if booking is None:
            raise errors.invalid(
                errors.INVALID_BOOKING_UUID,
                booking_uuid,
                _("There is no booking with this uuid."),
            )
        return services.booking_expire_if_due(booking=booking)

    def booking_response(self, booking: Booking) -> Response:
        return Response(render.booking(booking, caps=self.caps, agency=self.agency))


def _cursor_encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"after:{pk}".encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _sep, value = text.partition(":")
        if prefix != "after" or not value.isdigit() or len(value) > 18:
            raise ValueError(text)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise errors.bad_request(_("Invalid cursor.")) from exc


def _paged(
    request: Request, items: QuerySet, render_one: Callable[[Any], dict]
) -> Response:
    """The whole array, or with ``limit`` (and ``cursor``) one page and a Link to the
    next one."""
    params = request.query_params
    if "limit" not in params and "cursor" not in params:
        return Response([render_one(item) for item in items])
    limit_raw = params.get("limit", str(MAX_PAGE))
    if (
        not limit_raw.isascii()
        or not limit_raw.isdigit()
        or not 1 <= int(limit_raw) <= MAX_PAGE
    ):
        raise errors.bad_request(
            _("limit must be a whole number from 1 to %(n)s.") % {"n": MAX_PAGE}
        )
    limit = int(limit_raw)
    if params.get("cursor"):
        items = items.filter(pk__gt=_cursor_decode(params["cursor"]))
    page = list(items[: limit + 1])
    response = Response([render_one(item) for item in page[:limit]])
    if len(page) > limit:
        query = {k: v for k, v in params.items() if k != "cursor"}
        query.update(limit=str(limit), cursor=_cursor_encode(page[limit - 1].pk))
        url = request.build_absolute_uri(request.path) + "?" + urlencode(query)
        response["Link"] = f'<{url}>; rel="next"'
    return response


class SupplierView(OctoView):
    def get(self, request: Request) -> Response:
        endpoint = request.build_absolute_uri("/api/octo").rstrip("/")
        return Response(render.supplier(endpoint=endpoint, caps=self.caps))


class CapabilitiesView(OctoView):
    def get(self, request: Request) -> Response:
        return Response(render.capabilities())


class ProductListView(OctoView):
    def get(self, request: Request) -> Response:
        return _paged(
            request,
            selectors.product_list(),
            lambda listing: render.product(
                listing, caps=self.caps, agency=self.agency, site=self.site
            ),
        )


class ProductDetailView(OctoView):
    def get(self, request: Request, product_id: str) -> Response:
        listing = selectors.product_get(product_id)
        if listing is None:
            raise errors.invalid(
                errors.INVALID_PRODUCT_ID, product_id, _("Unknown productId.")
            )
        return Response(
            render.product(listing, caps=self.caps, agency=self.agency, site=self.site)
        )


class AvailabilityCalendarView(OctoView):
    def post(self, request: Request) -> Response:
        query = inputs.availability_query(request.data, calendar=True)
        days = selectors.availability_calendar(
            listing=query.listing,
            start=query.start,
            end=query.end,
            persons=query.persons,
        )
        return Response(
            render.calendar(
                days,
                query.listing,
                caps=self.caps,
                agency=self.agency,
                units=query.units,
            )
        )


class AvailabilityView(OctoView):
    def post(self, request: Request) -> Response:
        query = inputs.availability_query(request.data, calendar=False)
        items: Iterable[selectors.OctoAvailability] = selectors.availability_list(
            listing=query.listing,
            start=query.start,
            end=query.end,
            persons=query.persons,
        )
        if query.ids is not None:
            items = [i for i in items if (i.date, i.start_time) in query.ids]
        return Response(
            [
                render.availability(
                    item, caps=self.caps, agency=self.agency, units=query.units
                )
                for item in items
            ]
        )


class BookingListView(OctoView):
    def get(self, request: Request) -> Response:
        found = inputs.booking_filter(request.query_params)
        bookings = selectors.booking_list_for_agency(
            agency=self.agency,
            reseller_reference=found.reseller_reference,
            supplier_reference=found.supplier_reference,
            local_date_start=found.start,
            local_date_end=found.end,
            listing_id=found.listing_id,
        )
        return _paged(
            request,
            bookings,
            lambda booking: render.booking(
                services.booking_expire_if_due(booking=booking),
                caps=self.caps,
                agency=self.agency,
            ),
        )

    def post(self, request: Request) -> Response:
        reservation = inputs.reservation(request.data)
        booking = services.booking_reserve(agency=self.agency, reservation=reservation)
        return self.booking_response(
            selectors.booking_with_listing(booking, agency=self.agency)
        )


class BookingDetailView(OctoView):
    def get(self, request: Request, booking_uuid: str) -> Response:
        return self.booking_response(self.booking_or_error(booking_uuid))

    def patch(self, request: Request, booking_uuid: str) -> Response:
        booking = self.booking_or_error(booking_uuid)
        changes = inputs.update(request.data, booking)
        return self.booking_response(
            services.booking_update(booking=booking, changes=changes)
        )


class BookingConfirmView(OctoView):
    def post(self, request: Request, booking_uuid: str) -> Response:
        booking = self.booking_or_error(booking_uuid)
        sent = inputs.confirmation(request.data, booking.listing)
        return self.booking_response(
            services.booking_confirm_octo(
                booking=booking,
                contact=sent.contact,
                reseller_reference=sent.reseller_reference,
                unit_items=sent.unit_items,
            )
        )


class BookingExtendView(OctoView):
    def post(self, request: Request, booking_uuid: str) -> Response:
        booking = self.booking_or_error(booking_uuid)
        minutes = inputs.expiration(request.data)
        return self.booking_response(
            services.booking_extend(booking=booking, expiration_minutes=minutes)
        )


class BookingCancelView(OctoView):
    def post(self, request: Request, booking_uuid: str) -> Response:
        booking = self.booking_or_error(booking_uuid)
        body = inputs.body_object(request.data)
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise errors.bad_request(_("reason must be a string."))
        if reason is not None and len(reason) > CANCEL_REASON_MAX:
            raise errors.bad_request(
                _("reason must be at most %(count)s characters.")
                % {"count": CANCEL_REASON_MAX}
            )
        return self.booking_response(
            services.booking_cancel_octo(booking=booking, reason=reason or "")
        )


def octo_schema(request: HttpRequest) -> JsonResponse:
    """The OCTO document with this supplier's specifics (public, like /api/schema/)."""
    base = request.build_absolute_uri(reverse("octo:supplier")).rsplit("/supplier", 1)
    return JsonResponse(schema.octo_document(base[0]))
