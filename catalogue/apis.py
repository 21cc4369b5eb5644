"""Public read API of the route catalogue (``/api/v1/``): parse, select, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue import selectors
from catalogue.models import (
    WEEKDAYS,
    Crossing,
    CrossingHours,
    Place,
    RouteLeg,
    Sight,
    SightTag,
    Transfer,
    minor_to_decimal,
)

# Dates the service reasons about; far outside this a timetable means nothing and
# datetime arithmetic would overflow.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField())
    )


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    amount = minor_to_decimal(amount_minor, currency)
    return {"amount": str(amount), "currency": currency, "amount_minor": amount_minor}


class PriceSerializer(serializers.Serializer):
    amount = serializers.CharField(
        help_text="Decimal string in major units, e.g. '18.00'"
    )
    currency = serializers.CharField()
    amount_minor = serializers.IntegerField(help_text="Integer minor units (céntimos)")


class PlaceOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField(source="country.code")
    timezone = serializers.CharField(source="country.timezone")
    altitude_m = serializers.IntegerField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    kind = serializers.CharField()
    verified = serializers.BooleanField()
    source = serializers.CharField()


class PlaceListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        country = serializers.ChoiceField(
            choices=["PE", "BO", "pe", "bo"], required=False
        )
        kind = serializers.ChoiceField(choices=Place.Kind.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: PlaceOutputSerializer(many=True), 400: ErrorSerializer},
        summary="Places on the route, with altitude and time zone",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        places = selectors.place_list(**filters.validated_data)
        return Response(PlaceOutputSerializer(places, many=True).data)


class CrossingSideSerializer(serializers.Serializer):
    side = serializers.CharField()
    place = serializers.CharField()
    country = serializers.CharField()
    timezone = serializers.CharField()
    opens = serializers.CharField(allow_null=True, help_text="Local time HH:MM")
    closes = serializers.CharField(allow_null=True, help_text="Local time HH:MM")
    hours_verified = serializers.BooleanField(allow_null=True)


class CrossingOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    sides = serializers.SerializerMethodField()
    typical_minutes = serializers.IntegerField()
    documents = serializers.CharField(source="documents_note")
    status = serializers.CharField()
    status_note = serializers.CharField()
    status_since = serializers.DateTimeField()
    verified = serializers.BooleanField()
    source = serializers.CharField()

    @extend_schema_field(CrossingSideSerializer(many=True))
    def get_sides(self, crossing: Crossing) -> list[dict[str, Any]]:
        hours = {h.side: h for h in crossing.hours.all()}
        sides = []
        for side, place in (
            (CrossingHours.Side.A, crossing.side_a),
            (CrossingHours.Side.B, crossing.side_b),
        ):
            side_hours = hours.get(side)
            sides.append(
                {
                    "side": side.value,
                    "place": place.slug,
                    "country": place.country.code,
                    "timezone": place.country.timezone,
                    "opens": side_hours.opens.strftime("%H:%M") if side_hours else None,
                    "closes": side_hours.closes.strftime("%H:%M")
                    if side_hours
                    else None,
                    "hours_verified": side_hours.verified if side_hours else None,
                }
            )
        return CrossingSideSerializer(sides, many=True).data


class CrossingListApi(APIView):
    @extend_schema(
        responses={200: CrossingOutputSerializer(many=True)},
        summary="Border crossings with each side's hours (local time) and status",
    )
    def get(self, request: Request) -> Response:
        crossings = selectors.crossing_list(kind=Crossing.Kind.BORDER)
        return Response(CrossingOutputSerializer(crossings, many=True).data)


class DepartureFilterSerializer(serializers.Serializer):
    # "from" is a Python keyword, hence the field mapping below.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.SlugField(help_text="Origin place slug"),
            "to": serializers.SlugField(help_text="Destination place slug"),
            "date": serializers.DateField(
                input_formats=["iso-8601"], help_text="Local departure date, YYYY-MM-DD"
            ),
            "mode": serializers.ChoiceField(
                choices=RouteLeg.Mode.choices, required=False
            ),
        }

    def validate_date(self, value: dt.date) -> dt.date:
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            raise serializers.ValidationError(
                _("Choose a date between %(first)s and %(last)s.")
                % {"first": EARLIEST_DATE.isoformat(), "last": LATEST_DATE.isoformat()}
            )
        return value


class EndpointSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    timezone = serializers.CharField()


class FromToSerializer(serializers.Serializer):
    """Declares the ``from`` and ``to`` keys the payloads carry (``from`` is a
    Python keyword, hence the field mapping)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": EndpointSerializer(help_text="Origin"),
            "to": EndpointSerializer(help_text="Destination"),
            **super().get_fields(),
        }


class PassageSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    first_side = serializers.CharField(help_text="Slug of the post reached first")
    second_side = serializers.CharField(help_text="Slug of the post left last")
    arrive = serializers.CharField(help_text="Reaches the first post, its local time")
    leave = serializers.CharField(help_text="Through the second post, its local time")
    clock_change_h = serializers.IntegerField(
        help_text="Hours the clocks move at the passage: +1 into Bolivia, -1 into Peru"
    )
    passable = serializers.BooleanField()


class DepartureOutputSerializer(FromToSerializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    leg = serializers.CharField()
    mode = serializers.CharField()
    operator = serializers.CharField()
    departure = serializers.CharField(help_text="ISO 8601 with the origin's UTC offset")
    arrival = serializers.CharField(
        help_text="ISO 8601 with the destination's UTC offset"
    )
    duration_min = serializers.IntegerField()
    price = PriceSerializer()
    seats = serializers.IntegerField()
    crossing = PassageSerializer(allow_null=True)
    verified = serializers.BooleanField()
    source = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())


def _endpoint(place: Place) -> dict[str, str]:
    return {"slug": place.slug, "name": place.name, "timezone": place.country.timezone}


def departure_payload(occurrence: selectors.DepartureOccurrence) -> dict[str, Any]:
    departure, leg, passage = occurrence.departure, occurrence.leg, occurrence.passage
    return {
        "id": departure.pk,
        "code": departure.code,
        "leg": leg.slug,
        "mode": leg.mode,
        "operator": departure.operator,
        "from": _endpoint(leg.origin),
        "to": _endpoint(leg.destination),
        "departure": occurrence.depart_local.isoformat(),
        "arrival": occurrence.arrive_local.isoformat(),
        "duration_min": departure.duration_min,
        "price": money(departure.price_minor, departure.currency),
        "seats": departure.seats,
        "crossing": None
        if passage is None
        else {
            "slug": passage.crossing.slug,
            "name": passage.crossing.name,
            "kind": passage.crossing.kind,
            "status": passage.crossing.status,
            "first_side": passage.first_side.slug,
            "second_side": passage.second_side.slug,
            "arrive": passage.arrive_at.astimezone(passage.first_side.zone).isoformat(),
            "leave": passage.leave_at.astimezone(passage.second_side.zone).isoformat(),
            "clock_change_h": passage.clock_change_h,
            "passable": passage.passable,
        },
        "verified": departure.verified,
        "source": departure.source,
        "warnings": occurrence.warnings,
    }


class DepartureListApi(APIView):
    @extend_schema(
        parameters=[DepartureFilterSerializer],
        responses={
            200: DepartureOutputSerializer(many=True),
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
        summary="Departures that run on a date between two places",
        description=(
            "Only services that run that day (days of week, seasons, validity). Each "
            "time carries the local UTC offset of its end: a Puno → Copacabana bus "
            "leaves at −05:00 and arrives at −04:00."
        ),
    )
    def get(self, request: Request) -> Response:
        filters = DepartureFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        origin = selectors.place_get(slug=data["from"], field="from")
        destination = selectors.place_get(slug=data["to"], field="to")
        occurrences = selectors.departure_list_on(
            origin=origin,
            destination=destination,
            day=data["date"],
            mode=data.get("mode"),
        )
        return Response([departure_payload(o) for o in occurrences])


def _place_slug_exists(value: str) -> str:
    if not Place.objects.filter(slug=value).exists():
        raise serializers.ValidationError(
            _("Unknown place '%(slug)s'.") % {"slug": value}
        )
    return value


class SightFilterSerializer(serializers.Serializer):
    place = serializers.SlugField(required=False, help_text="Place slug, e.g. cusco")
    tag = serializers.ChoiceField(choices=SightTag.choices, required=False)

    def validate_place(self, value: str) -> str:
        return _place_slug_exists(value)


class SightHoursSerializer(serializers.Serializer):
    days = serializers.ListField(
        child=serializers.ChoiceField(choices=WEEKDAYS), help_text="mon … sun"
    )
    opens = serializers.CharField(help_text="Local time HH:MM at the sight's place")
    closes = serializers.CharField(help_text="Local time HH:MM at the sight's place")


class FeeSerializer(serializers.Serializer):
    amount = serializers.CharField(
        allow_null=True, help_text="Decimal string in major units; null when unknown"
    )
    amount_minor = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    ticket = serializers.CharField(
        help_text="Sights with the same ticket share one fee (paid once); may be empty"
    )


class SightOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    place = EndpointSerializer()
    timezone = serializers.CharField(help_text="IANA zone of the hours")
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    altitude_m = serializers.IntegerField(allow_null=True)
    visit_min = serializers.IntegerField()
    always_open = serializers.BooleanField()
    hours_known = serializers.BooleanField()
    hours = SightHoursSerializer(many=True)
    fee = FeeSerializer()
    tags = serializers.ListField(child=serializers.CharField())
    effort = serializers.CharField()
    confirm_locally = serializers.BooleanField()
    min_nights_at_altitude = serializers.IntegerField()
    route_facts_id = serializers.CharField()
    verified = serializers.BooleanField()
    source = serializers.CharField()


def sight_payload(sight: Sight) -> dict[str, Any]:
    fee = sight.fee_minor
    return {
        "slug": sight.slug,
        "name": sight.name,
        "description": sight.description,
        "place": _endpoint(sight.place),
        "timezone": sight.place.country.timezone,
        "latitude": None if sight.latitude is None else float(sight.latitude),
        "longitude": None if sight.longitude is None else float(sight.longitude),
        "altitude_m": sight.altitude_m,
        "visit_min": sight.visit_min,
        "always_open": sight.always_open,
        "hours_known": sight.hours_known,
        "hours": [
            {
                "days": hours.weekdays,
                "opens": hours.opens.strftime("%H:%M"),
                "closes": hours.closes.strftime("%H:%M"),
            }
            for hours in sight.hours.all()
        ],
        "fee": {
            "amount": None
            if fee is None
            else str(minor_to_decimal(fee, sight.fee_currency)),
            "amount_minor": fee,
            "currency": sight.fee_currency,
            "year": sight.fee_year,
            "ticket": sight.fee_ticket,
        },
        "tags": list(sight.tags or []),
        "effort": sight.effort,
        "confirm_locally": sight.confirm_locally,
        "min_nights_at_altitude": sight.min_nights_at_altitude,
        "route_facts_id": sight.route_facts_id,
        "verified": sight.verified,
        "source": sight.source,
    }


class SightListApi(APIView):
    @extend_schema(
        parameters=[SightFilterSerializer],
        responses={200: SightOutputSerializer(many=True), 400: ErrorSerializer},
        summary="Sights along the route, with opening hours in local time and fees",
        description=(
            "Public points of interest (plazas, churches, archaeological sites, "
            "markets, viewpoints). Hours are wall-clock times in the zone of the "
            "sight's place (`timezone`); a sight `always_open` has no hours, and "
            "`hours_known: false` marks placeholder daytime hours. The fee is per "
            "foreign adult; `amount` null means not known, `0.00` free."
        ),
    )
    def get(self, request: Request) -> Response:
        filters = SightFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        sights = selectors.sight_list(**filters.validated_data)
        return Response([sight_payload(sight) for sight in sights])


class TransferFilterSerializer(serializers.Serializer):
    # "from" is a Python keyword, hence the field mapping below.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.SlugField(
                required=False, help_text="Origin place slug"
            ),
            "to": serializers.SlugField(
                required=False, help_text="Destination place slug"
            ),
            "mode": serializers.ChoiceField(
                choices=Transfer.Mode.choices, required=False
            ),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = {}
        for field in ("from", "to"):
            if field in attrs:
                try:
                    _place_slug_exists(attrs[field])
                except serializers.ValidationError as exc:
                    errors[field] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TransferPriceSerializer(PriceSerializer):
    amount_max = serializers.CharField(
        allow_null=True, help_text="Top of the price range, if the sources give one"
    )
    per = serializers.ChoiceField(choices=Transfer.PricePer.choices)
    vehicle_seats = serializers.IntegerField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)


class ServiceWindowSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="Local time HH:MM at the origin")
    until = serializers.CharField(help_text="Local time HH:MM at the origin")


class TransferOutputSerializer(FromToSerializer):
    slug = serializers.CharField()
    mode = serializers.CharField()
    mode_name = serializers.CharField()
    minutes = serializers.IntegerField()
    minutes_max = serializers.IntegerField(allow_null=True)
    price = TransferPriceSerializer()
    service = ServiceWindowSerializer(
        allow_null=True, help_text="When it can be started; null = any time"
    )
    frequency = serializers.CharField()
    confirm_locally = serializers.BooleanField()
    verified = serializers.BooleanField()
    source = serializers.CharField()


def transfer_payload(transfer: Transfer) -> dict[str, Any]:
    price = money(transfer.price_minor, transfer.currency)
    top = transfer.price_max_minor
    return {
        "slug": transfer.slug,
        "from": _endpoint(transfer.origin),
        "to": _endpoint(transfer.destination),
        "mode": transfer.mode,
        "mode_name": transfer.get_mode_display(),
        "minutes": transfer.minutes,
        "minutes_max": transfer.minutes_max,
        "price": {
            **price,
            "amount_max": None
            if top is None
            else str(minor_to_decimal(top, transfer.currency)),
            "per": transfer.price_per,
            "vehicle_seats": transfer.vehicle_seats,
            "year": transfer.price_year,
        },
        "service": None
        if transfer.service_from is None
        else {
            "start": transfer.service_from.strftime("%H:%M"),
            "until": transfer.service_until.strftime("%H:%M"),
        },
        "frequency": transfer.frequency,
        "confirm_locally": transfer.confirm_locally,
        "verified": transfer.verified,
        "source": transfer.source,
    }


class TransferListApi(APIView):
    @extend_schema(
        parameters=[TransferFilterSerializer],
        responses={200: TransferOutputSerializer(many=True), 400: ErrorSerializer},
        summary="Door-to-door transfers between places (combis, taxis, tours, walks)",
        description=(
            "Ways between two places that are not timetabled departures, one per "
            "direction, quickest first for each pair. `minutes` is the typical one-way "
            "door-to-door time; the price is per person or per vehicle of "
            "`vehicle_seats`; `service` is the local window at the origin in which it "
            "can be started (null = any time)."
        ),
    )
    def get(self, request: Request) -> Response:
        filters = TransferFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        transfers = selectors.transfer_list(
            origin=data.get("from"), destination=data.get("to"), mode=data.get("mode")
        )
        return Response([transfer_payload(t) for t in transfers])
