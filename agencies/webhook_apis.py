"""Agencies manage their webhooks (``/api/v1/webhooks/``) with their API key: parse,
call a service, render. An agency only ever sees and deletes its own."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.auth import (
    ApiKeyAuthentication,
    ApiKeyRateThrottle,
    IsAgency,
    request_agency,
)
from agencies.models import WebhookEndpoint
from agencies.selectors import webhook_get_for_agency, webhook_list_for_agency
from agencies.webhooks import webhook_delete, webhook_register
from catalogue.apis import ErrorSerializer
from tourism.exceptions import NotFoundError

# Largest primary key a 64-bit signed database integer holds.
MAX_ID = 2**63 - 1


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=1000, trim_whitespace=True)


class WebhookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    is_active = serializers.BooleanField()
    consecutive_failures = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class WebhookCreatedSerializer(WebhookOutputSerializer):
    secret = serializers.CharField(
        help_text="Signing secret, shown only in this answer: store it now."
    )


def _output(endpoint: WebhookEndpoint, **extra: Any) -> dict[str, Any]:
    return {**WebhookOutputSerializer(endpoint).data, **extra}


class AgencyApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAgency]
    throttle_classes = [ApiKeyRateThrottle]


class WebhookListApi(AgencyApiView):
    @extend_schema(
        operation_id="webhooks_list",
        responses={200: WebhookOutputSerializer(many=True)},
        tags=["webhooks"],
    )
    def get(self, request: Request) -> Response:
        """The agency's webhooks (secrets are never shown again)."""
        endpoints = webhook_list_for_agency(agency=request_agency(request))
        return Response([_output(e) for e in endpoints])

    @extend_schema(
        operation_id="webhooks_create",
        request=WebhookInputSerializer,
        responses={
            201: WebhookCreatedSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad or private URL."),
        },
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        """Register a public http(s) URL for booking status events. The answer holds
        the signing secret, once: verify ``X-Tourism-Signature`` with it."""
        serializer = WebhookInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = webhook_register(
            agency=request_agency(request), url=serializer.validated_data["url"]
        )
        return Response(
            _output(new.endpoint, secret=new.secret), status=status.HTTP_201_CREATED
        )


class WebhookDetailApi(AgencyApiView):
    @extend_schema(
        operation_id="webhooks_delete",
        responses={204: None, 404: ErrorSerializer},
        tags=["webhooks"],
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        """Delete one of the agency's webhooks (and its delivery log)."""
        endpoint = (
            webhook_get_for_agency(agency=request_agency(request), pk=webhook_id)
            if webhook_id <= MAX_ID
            else None
        )
        if endpoint is None:
            raise NotFoundError(_("No such webhook."))
        webhook_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)
