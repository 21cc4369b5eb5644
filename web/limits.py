"""The website's rate limits: plans made (the plan form, fixes, re-plans) and holds
made per visitor (signed-in traveller, else the address through our trusted
proxies: ``tourism.ratelimit``), and the 429 answer with ``Retry-After``."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from tourism.exceptions import RateLimited
from tourism.ratelimit import client_admit


def plans_admit(request: HttpRequest) -> RateLimited | None:
    """Count one plan made by this visitor (PLAN_RATE_LIMIT, shared with the plan
    API); the refusal to show when there were too many."""
    wait = client_admit(request, "plans", settings.PLAN_RATE_LIMIT)
    if wait is None:
        return None
    return RateLimited(
        _(
            "You have made too many plans in a short time. Try again in %(seconds)s "
            "seconds."
        )
        % {"seconds": wait},
        retry_after=wait,
    )


def holds_admit(request: HttpRequest) -> RateLimited | None:
    """Count one hold made by this visitor (HOLD_RATE_LIMIT, shared with the
    API)."""
    wait = client_admit(request, "holds", settings.HOLD_RATE_LIMIT)
    if wait is None:
        return None
    return RateLimited(
        _(
            "You have held too many plans in a short time. Try again in %(seconds)s "
            "seconds."
        )
        % {"seconds": wait},
        retry_after=wait,
    )


def retry_later(response: HttpResponse, refusal: RateLimited) -> HttpResponse:
    """``response`` (rendered with status 429) with its ``Retry-After``."""
    response["Retry-After"] = str(refusal.retry_after)
    return response
