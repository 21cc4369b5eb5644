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
from catalogue.models import Crossing, CrossingHours, Place, RouteLeg, minor_to_decimal

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


class PassageSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    arrive = serializers.CharField(help_text="Reaches the first post, its local time")
    leave = serializers.CharField(help_text="Through the second post, its local time")
    passable = serializers.BooleanField()


class DepartureOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    leg = serializers.CharField()
    mode = serializers.CharField()
    operator = serializers.CharField()
    origin = EndpointSerializer(source="from")
    destination = EndpointSerializer(source="to")
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
            "arrive": passage.arrive_at.astimezone(passage.first_side.zone).isoformat(),
            "leave": passage.leave_at.astimezone(passage.second_side.zone).isoformat(),
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
