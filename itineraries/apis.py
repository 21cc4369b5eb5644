"""Plan API (``/api/v1/plans/``): parse, call a service, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from catalogue.apis import ErrorSerializer
from catalogue.models import CURRENCY_EXPONENT, Currency, Place
from itineraries import selectors, services
from itineraries.models import TripPlan
from itineraries.planning.world import HUBS, Pace
from providers.models import InterestTag
from providers.selectors import listing_list_bookable
from tourism.exceptions import NotFoundError

MAX_DAYS = 21
MAX_PERSONS = 20
MAX_AHEAD_DAYS = 365
MAX_LISTED = 30


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
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=MAX_LISTED,
    )
    exclude = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=MAX_LISTED * 10,
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
        if attrs["include"]:
            known = set(
                listing_list_bookable()
                .filter(pk__in=attrs["include"])
                .values_list("pk", flat=True)
            )
            missing = [i for i in attrs["include"] if i not in known]
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
        "parent": str(plan.parent_id) if plan.parent_id else None,
        "created_at": plan.created_at.isoformat(),
    }


def _created(plan: TripPlan) -> Response:
    plan.refresh_from_db()
    if plan.is_final:
        return Response(plan_output(plan), status=status.HTTP_201_CREATED)
    return Response(
        {"id": str(plan.pk), "status": plan.status},
        status=status.HTTP_202_ACCEPTED,
    )


class PlanThrottle(ScopedRateThrottle):
    scope_attr = "throttle_scope"


class PlanCreateApi(APIView):
    throttle_classes = [PlanThrottle]
    throttle_scope = "plans"

    @extend_schema(
        request=PlanRequestSerializer,
        responses={
            201: OpenApiResponse(description="The plan, solved at once"),
            202: OpenApiResponse(description="Queued: poll GET /plans/{id}/"),
            400: ErrorSerializer,
        },
        summary="Plan a trip",
    )
    def post(self, request: Request) -> Response:
        serializer = PlanRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.plan_create(
            data=request_data(serializer.validated_data), user=request.user
        )
        return _created(plan)


class PlanDetailApi(APIView):
    @extend_schema(
        responses={200: OpenApiResponse(description="The plan"), 404: ErrorSerializer}
    )
    def get(self, request: Request, plan_id) -> Response:
        plan = selectors.plan_get(plan_id=plan_id)
        if plan is None:
            raise NotFoundError(str(_("No such plan.")), field="id")
        return Response(plan_output(plan))


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
    throttle_classes = [PlanThrottle]
    throttle_scope = "plans"

    @extend_schema(
        request=ReplanSerializer,
        responses={
            201: OpenApiResponse(description="The new plan, solved at once"),
            202: OpenApiResponse(description="Queued"),
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
        summary="Re-plan keeping and dropping steps",
    )
    def post(self, request: Request, plan_id) -> Response:
        plan = selectors.plan_get(plan_id=plan_id)
        if plan is None:
            raise NotFoundError(str(_("No such plan.")), field="id")
        serializer = ReplanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = services.plan_replan(
            plan=plan,
            keep=serializer.validated_data["keep"],
            drop=serializer.validated_data["drop"],
            user=request.user,
        )
        return _created(new)
