"""The public iCal export of a listing, for Airbnb, Booking.com & co. to import."""

from __future__ import annotations

import hashlib

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from providers.sync.services import listing_ical_export


@require_safe
def listing_ical(request: HttpRequest, token: str) -> HttpResponse:
    """``GET /providers/ical/<token>.ics``: the secret token is the only credential."""
    exported = listing_ical_export(token=token)
    if exported is None:
        raise Http404(_("No calendar at this address."))
    listing, body = exported
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return not_modified
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Content-Disposition"] = f'inline; filename="listing-{listing.pk}.ics"'
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response
