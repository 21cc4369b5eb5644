"""Plan API (``/api/v1/plans/``): parse, call a service, render. Whole-itinerary
holds: ``POST /plans/{id}/hold``, ``/confirm``, ``/cancel`` and
``GET /trip-bookings/{id}/``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.auth import request_agency
from catalogue.apis import ErrorSerializer
from catalogue.models import CURRENCY_EXPONENT, Currency, Place, Sight
from itineraries import selectors, services
from itineraries.models import TripBooking, TripPlan
from itineraries.planning.money import money, sum_by_currency
from itineraries.planning.world import HUBS, Pace
from providers.models import Booking, InterestTag
from providers.selectors import listing_list_bookable
from tourism.exceptions import ApplicationError, NotFoundError
from tourism.ratelimit import ClientRateThrottle, client_ident

MAX_DAYS = 21
MAX_PERSONS = 20
MAX_AHEAD_DAYS = 365
MAX_LISTED = 30
SIGHT_PREFIX = "sight:"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "description": "a listing id"},
            {
                "type": "string",
                "pattern": "^sight:[-a-z0-9_]+$",
                "description": "a sight, as in /api/v1/sights/",
            },
        ]
    }
)
class ItemField(serializers.Field):
    """A must-see or excluded item: a listing id, or ``"sight:<slug>"``."""

    default_error_messages = {
        "invalid": _(
            'Use a listing id (a number) or "sight:<slug>" (see /api/v1/sights/).'
        ),
    }

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= MAX_ID:
                self.fail("invalid")
            return data
        if isinstance(data, str):
            text = data.strip()
            if text.isdigit() and len(text) <= 18:
                return self.to_internal_value(int(text))
            slug = text[len(SIGHT_PREFIX) :] if text.startswith(SIGHT_PREFIX) else ""
            if slug and len(slug) <= 50 and all(c.isalnum() or c in "-_" for c in slug):
                return SIGHT_PREFIX + slug
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value


class BudgetSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=1, coerce_to_string=True
    )
    currency = serializers.ChoiceField(choices=Currency.choices)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        exponent = CURRENCY_EXPONENT[attrs["currency"]]
        if attrs["amount"] != round(attrs["amount"], exponent):
            raise serializers.ValidationError(
                {"amount": _("Too many decimals for this currency.")}
            )
        return attrs


# Largest primary key a 64-bit signed database integer holds (SQLite and PostgreSQL).
MAX_ID = 2**63 - 1


class PlanRequestSerializer(serializers.Serializer):
    origin = serializers.SlugField()
    destination = serializers.SlugField()
    start_date = serializers.DateField()
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS)
    adults = serializers.IntegerField(min_value=1, max_value=MAX_PERSONS, default=1)
    children = serializers.IntegerField(min_value=0, max_value=MAX_PERSONS, default=0)
    nationality = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        error_messages={"invalid": _("Use an ISO 3166-1 alpha-2 code, e.g. PE.")},
    )
    arrival = serializers.ChoiceField(
        choices=[("overland", _("Overland")), ("flight", _("By air"))],
        default="overland",
    )
    budget = BudgetSerializer(required=False, allow_null=True, default=None)
    interests = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=5),
        required=False,
        default=dict,
    )
    pace = serializers.ChoiceField(choices=Pace.CHOICES, default=Pace.NORMAL)
    include = serializers.ListField(
        child=ItemField(),
        required=False,
        default=list,
        max_length=MAX_LISTED,
    )
    exclude = serializers.ListField(
        child=ItemField(),
        required=False,
        default=list,
        max_length=MAX_LISTED * 10,
    )
    via = serializers.ChoiceField(
        choices=[
            ("copacabana", _("By Kasani and Copacabana")),
            ("desaguadero", _("By Desaguadero")),
            ("any", _("Whichever plans best")),
        ],
        default="copacabana",
        help_text=_(
            "How an overland trip between Peru and Bolivia crosses the border. "
            "With copacabana (the default) a plan that cannot use it crosses at "
            "Desaguadero and says why."
        ),
    )

    def _hub(self, value: str) -> str:
        if value not in HUBS or not Place.objects.filter(slug=value).exists():
            raise serializers.ValidationError(
                _("Plans run between %(hubs)s.") % {"hubs": ", ".join(HUBS)}
            )
        return value

    def validate_origin(self, value: str) -> str:
        return self._hub(value)

    def validate_destination(self, value: str) -> str:
        return self._hub(value)

    def validate_nationality(self, value: str) -> str:
        return value.upper()

    def validate_interests(self, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(InterestTag.values))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown interest(s): %(tags)s. Use: %(known)s.")
                % {"tags": ", ".join(unknown), "known": ", ".join(InterestTag.values)}
            )
        return value

    def validate_start_date(self, value: dt.date) -> dt.date:
        today = timezone.localdate()
        if value < today - dt.timedelta(days=1):
            raise serializers.ValidationError(_("The trip cannot start in the past."))
        if value > today + dt.timedelta(days=MAX_AHEAD_DAYS):
            raise serializers.ValidationError(
                _("Plans can start at most %(n)s days ahead.") % {"n": MAX_AHEAD_DAYS}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["origin"] == attrs["destination"]:
            raise serializers.ValidationError(
                {"destination": _("The destination must differ from the origin.")}
            )
        if attrs["adults"] + attrs["children"] > MAX_PERSONS:
            raise serializers.ValidationError(
                {
                    "children": _("At most %(n)s travellers per plan.")
                    % {"n": MAX_PERSONS}
                }
            )
        clash = sorted(set(attrs["include"]) & set(attrs["exclude"]))
        if clash:
            raise serializers.ValidationError(
                {
                    "exclude": _("Listed as must-see and excluded: %(ids)s")
                    % {"ids": ", ".join(map(str, clash))}
                }
            )
        for field in ("include", "exclude"):
            sights = [
                i[len(SIGHT_PREFIX) :] for i in attrs[field] if isinstance(i, str)
            ]
            if sights:
                known_sights = set(
                    Sight.objects.filter(slug__in=sights).values_list("slug", flat=True)
                )
                unknown = [s for s in sights if s not in known_sights]
                if unknown:
                    raise serializers.ValidationError(
                        {
                            field: _("Unknown sight(s): %(slugs)s")
                            % {"slugs": ", ".join(unknown)}
                        }
                    )
        listings = [i for i in attrs["include"] if isinstance(i, int)]
        if listings:
            known = set(
                listing_list_bookable()
                .filter(pk__in=listings)
                .values_list("pk", flat=True)
            )
            missing = [i for i in listings if i not in known]
            if missing:
                raise serializers.ValidationError(
                    {
                        "include": _("Not bookable listing(s): %(ids)s")
                        % {"ids": ", ".join(map(str, missing))}
                    }
                )
        return attrs


def request_data(validated: dict[str, Any]) -> dict[str, Any]:
    """Validated input as plain JSON for storage."""
    data = dict(validated)
    data["start_date"] = validated["start_date"].isoformat()
    budget = validated.get("budget")
    data["budget"] = (
        {"amount": str(budget["amount"]), "currency": budget["currency"]}
        if budget
        else None
    )
    data["include"] = list(dict.fromkeys(validated["include"]))
    data["exclude"] = list(dict.fromkeys(validated["exclude"]))
    return data


def _language() -> str:
    return "es" if (translation.get_language() or "en").startswith("es") else "en"


def _localise(value: Any, language: str) -> Any:
    if isinstance(value, dict) and set(value) == {"en", "es"}:
        return value.get(language) or value.get("en")
    return value


def plan_output(plan: TripPlan) -> dict[str, Any]:
    language = _language()
    days = []
    for day in plan.days or []:
        night = day.get("night")
        if night and night.get("stay"):
            night = {
                **night,
                "stay": {k: _localise(v, language) for k, v in night["stay"].items()},
            }
        steps = [
            {key: _localise(value, language) for key, value in step.items()}
            for step in day["steps"]
        ]
        days.append({"date": day["date"], "night": night, "steps": steps})
    public_request = {k: v for k, v in plan.request.items() if k not in ("seed",)}
    return {
        "id": str(plan.pk),
        "status": plan.status,
        "request": public_request,
        "days": days,
        "totals": plan.totals or {},
        "explanation": (plan.explanation or {}).get(language, []),
        "warnings": (plan.warnings or {}).get(language, []),
        "stats": plan.stats or {},
        "route": plan.route or {},
        "fixes": [
            {
                "code": fix["code"],
                "label": _localise(fix["label"], language),
                "changes": fix["changes"],
            }
            for fix in plan.fixes or []
        ],
        "parent": str(plan.parent_id) if plan.parent_id else None,
        "created_at": plan.created_at.isoformat(),
    }


def _created(plan: TripPlan, secret: str = "") -> Response:
    """201 with the plan when solved at once, else 202; ``secret`` (the plan's, for
    a creator without an API key) is shown this once."""
    plan.refresh_from_db()
    shown = {"secret": secret} if secret else {}
    if plan.is_final:
        return Response({**plan_output(plan), **shown}, status=status.HTTP_201_CREATED)
    return Response(
        {"id": str(plan.pk), "status": plan.status, **shown},
        status=status.HTTP_202_ACCEPTED,
    )


# --- Who asks, and how often ----------------------------------------------------------

MANAGE_TOKEN_HEADER = "X-Manage-Token"
PLAN_SECRET_HEADER = "X-Plan-Secret"


class PlanRateThrottle(ClientRateThrottle):
    """Plans made (and re-plans) per client: agency, signed-in user, else IP."""

    scope = "plans"
    rate_setting = "PLAN_RATE_LIMIT"


class HoldRateThrottle(ClientRateThrottle):
    """Holds per visitor (signed-in user, else IP); an agency's holds are bounded by
    its key's rate and its contract."""

    scope = "holds"
    rate_setting = "HOLD_RATE_LIMIT"
    agencies_too = False


class ManageTokenExpired(ApplicationError):
    status_code = 410
    code = "expired"


def _plan_user(request: Request):
    """The signed-in traveller, not an agency's API-key principal."""
    if request_agency(request) is None and getattr(
        request.user, "is_authenticated", False
    ):
        return request.user
    return None


def _owner(request: Request) -> services.TripOwner:
    """The requester: an agency (API key), a signed-in traveller (session), the
    manage token of a trip booking (only in the X-Manage-Token header: never in a
    URL or a body), the plan's secret (X-Plan-Secret), and who a visitor without
    API key or account is (their address, for the one-hold-at-a-time rule)."""
    agency = request_agency(request)
    user = _plan_user(request)
    token = request.headers.get(MANAGE_TOKEN_HEADER, "")[:200]
    expired = selectors.manage_token_expired_at(token)
    if expired is not None:
        raise ManageTokenExpired(
            str(
                _(
                    "This manage token expired on %(date)s (some days after the "
                    "trip's last day)."
                )
            )
            % {"date": expired.date().isoformat()},
            field=MANAGE_TOKEN_HEADER,
        )
    anonymous = agency is None and user is None
    return services.TripOwner(
        agency=agency,
        user=user,
        token=token,
        plan_secret=request.headers.get(PLAN_SECRET_HEADER, "")[:200],
        visitor=selectors.visitor_hash(client_ident(request)) if anonymous else "",
    )


def _plan_for(
    request: Request, plan_id, owner: services.TripOwner | None = None
) -> TripPlan:
    """The plan if the requester may see it (its agency, its traveller, or the
    holder of its secret); 404 for anyone else, as for an unknown id."""
    plan = selectors.plan_get(plan_id=plan_id)
    if plan is None or not selectors.plan_open_to(plan, owner or _owner(request)):
        raise NotFoundError(str(_("No such plan.")), field="id")
    return plan


class PlanCreateApi(APIView):
    throttle_classes = [PlanRateThrottle]

    @extend_schema(
        request=PlanRequestSerializer,
        responses={
            201: OpenApiResponse(description="The plan, solved at once"),
            202: OpenApiResponse(description="Queued: poll GET /plans/{id}/"),
            400: ErrorSerializer,
            429: ErrorSerializer,
        },
        summary="Plan a trip",
        description="Without an API key the answer carries the plan's `secret`, "
        "shown this once: send it as the X-Plan-Secret header to read, re-plan and "
        "hold the plan (its id alone opens nothing).",
    )
    def post(self, request: Request) -> Response:
        serializer = PlanRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agency = request_agency(request)
        secret = "" if agency is not None else services.plan_secret_new()
        plan = services.plan_create(
            data=request_data(serializer.validated_data),
            user=_plan_user(request),
            agency=agency,
            secret=secret,
        )
        return _created(plan, secret)


class PlanDetailApi(APIView):
    @extend_schema(
        responses={200: OpenApiResponse(description="The plan"), 404: ErrorSerializer}
    )
    def get(self, request: Request, plan_id) -> Response:
        return Response(plan_output(_plan_for(request, plan_id)))


class ReplanSerializer(serializers.Serializer):
    keep = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        default=list,
        max_length=200,
    )
    drop = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        default=list,
        max_length=200,
    )


class PlanReplanApi(APIView):
    throttle_classes = [PlanRateThrottle]

    @extend_schema(
        request=ReplanSerializer,
        responses={
            201: OpenApiResponse(description="The new plan, solved at once"),
            202: OpenApiResponse(description="Queued"),
            400: ErrorSerializer,
            404: ErrorSerializer,
            429: ErrorSerializer,
        },
        summary="Re-plan keeping and dropping steps",
    )
    def post(self, request: Request, plan_id) -> Response:
        plan = _plan_for(request, plan_id)
        serializer = ReplanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = services.plan_replan(
            plan=plan,
            keep=serializer.validated_data["keep"],
            drop=serializer.validated_data["drop"],
            user=_plan_user(request),
            agency=request_agency(request),
        )
        return _created(new)


# --- Whole-itinerary holds (trip bookings) ------------------------------------------


class LeadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=160)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.RegexField(
        r"^\+?[0-9][0-9 ()./-]{4,38}$",
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        error_messages={
            "invalid": _("Use digits, spaces and an optional leading +, e.g. +51 ...")
        },
    )

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("This field may not be blank."))
        return value.strip()


class TripHoldSerializer(serializers.Serializer):
    # Its range depends on who holds (services.trip_hold_minutes).
    hold_minutes = serializers.IntegerField(required=False, allow_null=True)
    lead = LeadSerializer(required=False, allow_null=True)
    reseller_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


class TripActSerializer(serializers.Serializer):
    """Body of confirm and cancel: which trip booking (default: yours of this plan).
    The manage token goes in the X-Manage-Token header, never in the body."""

    trip_booking = serializers.UUIDField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "manage_token" in self.initial_data:
            raise serializers.ValidationError(
                {
                    "manage_token": _(
                        "Send the manage token in the X-Manage-Token header, not in "
                        "the body."
                    )
                }
            )
        return attrs


class TripConfirmSerializer(TripActSerializer):
    lead = LeadSerializer(required=False, allow_null=True)


def _body(request: Request) -> dict[str, Any]:
    return request.data if isinstance(request.data, dict) else {}


def _money_by_currency(amounts: list[tuple[int, str]]) -> list[dict[str, str]]:
    return [money(value, currency) for currency, value in sum_by_currency(amounts)]


def trip_output(trip: TripBooking, *, manage_token: str = "") -> dict[str, Any]:
    """A trip booking as the API shows it to its owner: each held part (local date
    and time with the offset, persons, price, status, refund), the parts paid
    locally, and totals per currency."""
    language = _language()
    parts = []
    for item in selectors.trip_parts_in_plan_order(trip):
        part, step, starts = item.part, item.step, item.starts
        booking = part.booking
        listing, slot = booking.listing, booking.slot
        parts.append(
            {
                "step_id": part.step_id,
                "kind": step.get("kind", listing.kind),
                "title": _localise(step.get("title"), language) or listing.title,
                "listing": listing.pk,
                "provider": listing.provider.name,
                "reference": booking.supplier_reference,
                "date": slot.date.isoformat(),
                "start_time": slot.start_time.strftime("%H:%M")
                if slot.start_time
                else None,
                "start": starts.isoformat(),
                "persons": booking.persons,
                "units": booking.units,
                "price": money(booking.total_minor, booking.currency),
                "confirmation": listing.confirmation,
                "status": booking.status,
                "refund": money(booking.refund_minor, booking.currency)
                if booking.refund_minor is not None
                else None,
            }
        )
    _held, local = selectors.plan_trip_parts(trip.plan)
    pay_locally = [
        {
            "step_id": spec.step_id,
            "kind": spec.kind,
            "title": _localise(spec.title, language),
            "departure": spec.departure_id,
            "date": spec.day.isoformat(),
            "start": spec.start,
            "price": spec.price,
            "note": str(
                _("Not held: pay the operator on board.")
                if spec.kind == "transport"
                else _("Not held: no bookable stay; book on arrival (estimate).")
            ),
        }
        for spec in local
    ]
    bookings = [part.booking for part in trip.parts.all()]
    live = [b for b in bookings if b.status not in Booking.ENDED]
    output = {
        "id": str(trip.pk),
        "plan": str(trip.plan_id),
        "status": trip.status,
        "expires_at": trip.expires_at.isoformat() if trip.expires_at else None,
        "created_at": trip.created_at.isoformat(),
        "confirmed_at": trip.confirmed_at.isoformat() if trip.confirmed_at else None,
        "cancelled_at": trip.cancelled_at.isoformat() if trip.cancelled_at else None,
        "lead": {
            "name": trip.lead_name,
            "email": trip.lead_email,
            "phone": trip.lead_phone,
        },
        "reseller_reference": trip.reseller_reference,
        "parts": parts,
        "pending": [p["step_id"] for p in parts if p["status"] == "pending"],
        "pay_locally": pay_locally,
        "totals": {
            "held": _money_by_currency([(b.total_minor, b.currency) for b in live]),
            "refund": _money_by_currency(
                [(b.refund_minor, b.currency) for b in bookings if b.refund_minor]
            ),
        },
    }
    if manage_token:
        output["manage_token"] = manage_token
    return output


def _error(exc: ApplicationError, extra: dict[str, Any]) -> Response:
    return Response(
        {
            "detail": exc.message,
            "errors": {exc.field or "non_field_errors": [exc.message]},
            **extra,
        },
        status=exc.status_code,
    )


def _parts_errors(parts: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    return [{**p, "title": _localise(p.get("title"), language)} for p in parts]


class PlanHoldApi(APIView):
    throttle_classes = [HoldRateThrottle]

    @extend_schema(
        request=TripHoldSerializer,
        responses={
            201: OpenApiResponse(
                description="Every bookable part held until expires_at (anonymous "
                "visitors also get their one-time manage_token)"
            ),
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(
                description="Not held: the plan is not solved or already held, the "
                "visitor already holds another plan, or parts are gone (listed in "
                "'unavailable', with a re-plan hint)"
            ),
            429: ErrorSerializer,
        },
        summary="Hold a whole itinerary",
    )
    def post(self, request: Request, plan_id) -> Response:
        owner = _owner(request)
        plan = _plan_for(request, plan_id, owner)
        serializer = TripHoldSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lead = data.get("lead") or {}
        try:
            held = services.trip_hold(
                plan=plan,
                owner=owner,
                hold_minutes=data.get("hold_minutes"),
                lead_name=lead.get("name", ""),
                lead_email=lead.get("email", ""),
                lead_phone=lead.get("phone", ""),
                language=_language(),
                reseller_reference=data["reseller_reference"],
            )
        except services.TripPartsUnavailable as exc:
            drop = [p["step_id"] for p in exc.parts]
            return _error(
                exc,
                {
                    "unavailable": _parts_errors(exc.parts, _language()),
                    "replan": {
                        "url": f"/api/v1/plans/{plan.pk}/replan",
                        "body": {"drop": drop},
                    },
                },
            )
        trip = selectors.trip_booking_get(trip_id=held.trip.pk)
        return Response(
            trip_output(trip, manage_token=held.manage_token),
            status=status.HTTP_201_CREATED,
        )


def _trip_of_plan(request: Request, plan_id, serializer_class) -> tuple:
    owner = _owner(request)
    serializer = serializer_class(data=_body(request))
    serializer.is_valid(raise_exception=True)
    trip = selectors.trip_booking_for_plan(
        plan_id=plan_id,
        owner=owner,
        trip_id=serializer.validated_data.get("trip_booking"),
    )
    if trip is None:
        raise NotFoundError(
            str(_("No trip booking of yours for this plan.")), field="id"
        )
    return trip, serializer.validated_data


def _expired(exc: services.TripHoldExpired) -> Response:
    return _error(exc, {"unavailable": _parts_errors(exc.parts, _language())})


class PlanConfirmApi(APIView):
    @extend_schema(
        request=TripConfirmSerializer,
        responses={
            200: OpenApiResponse(
                description="Confirmed: each part confirmed, or pending when the "
                "provider confirms on request"
            ),
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(
                description="The hold expired or a part is gone: all released"
            ),
        },
        summary="Confirm a held itinerary",
    )
    def post(self, request: Request, plan_id) -> Response:
        trip, data = _trip_of_plan(request, plan_id, TripConfirmSerializer)
        lead = data.get("lead") or {}
        try:
            trip = services.trip_confirm(
                trip=trip,
                lead_name=lead.get("name"),
                lead_email=lead.get("email") if lead else None,
                lead_phone=lead.get("phone") if lead else None,
            )
        except services.TripHoldExpired as exc:
            return _expired(exc)
        return Response(trip_output(trip))


class PlanCancelApi(APIView):
    @extend_schema(
        request=TripActSerializer,
        responses={
            200: OpenApiResponse(description="Cancelled, with each part's refund"),
            404: ErrorSerializer,
            409: OpenApiResponse(description="The hold had expired: nothing to cancel"),
        },
        summary="Cancel a held or confirmed itinerary",
    )
    def post(self, request: Request, plan_id) -> Response:
        trip, _data = _trip_of_plan(request, plan_id, TripActSerializer)
        try:
            trip = services.trip_cancel(trip=trip)
        except services.TripHoldExpired as exc:
            return _expired(exc)
        return Response(trip_output(trip))


class TripBookingDetailApi(APIView):
    @extend_schema(
        responses={
            200: OpenApiResponse(description="The trip booking"),
            404: ErrorSerializer,
        },
        summary="Read a trip booking (its owner only)",
    )
    def get(self, request: Request, trip_id) -> Response:
        trip = selectors.trip_booking_get_owned(trip_id=trip_id, owner=_owner(request))
        if trip is None:
            raise NotFoundError(str(_("No such trip booking.")), field="id")
        return Response(trip_output(services.trip_refresh(trip=trip)))
