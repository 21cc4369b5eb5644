"""What ``octo/content`` adds to products and options, from the listing, in the
request's language: short and full descriptions, duration, features, category
labels, commentary languages and photos. What we have no data for is the
document's empty value (``[]`` for FAQs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from django.utils.text import Truncator
from django.utils.translation import gettext as _

from catalogue.models import localized
from providers.models import InterestTag, Listing, ListingUnit
from providers.selectors import CHECK_IN

SHORT_DESCRIPTION_CHARS = 200
DAY_MINUTES = 24 * 60

# Our interest tags and difficulties → the document's category labels.
_TAG_CATEGORIES = {
    InterestTag.FOOD: "food",
    InterestTag.HIKING: "outdoors",
    InterestTag.NATURE: "outdoors",
    InterestTag.ARCHAEOLOGY: "history",
    InterestTag.FESTIVALS: "live-music",
}
_DIFFICULTY_CATEGORIES = {
    Listing.Difficulty.EASY: "trip-difficulty-easy",
    Listing.Difficulty.MODERATE: "trip-difficulty-medium",
    Listing.Difficulty.HARD: "trip-difficulty-hard",
}


def short_description(text: str) -> str | None:
    """The first paragraph, cut at a word within SHORT_DESCRIPTION_CHARS; None when
    there is no text."""
    first = text.strip().split("\n\n", 1)[0].strip()
    if not first:
        return None
    return Truncator(" ".join(first.split())).chars(SHORT_DESCRIPTION_CHARS)


def check_in(listing: Listing) -> str:
    """A stay's check-in (its own opening time, else CHECK_IN) as HH:MM."""
    return (listing.opens or CHECK_IN).strftime("%H:%M")


def duration(listing: Listing) -> tuple[int, int | None]:
    """(durationMinutesFrom, durationMinutesTo): a stay is one night, its
    availability's day (1,440 minutes); transport runs from its shortest to its
    longest departure; an activity lasts ``duration_min``, else its opening hours,
    else the day its availability spans."""
    if listing.kind == Listing.Kind.STAY:
        return DAY_MINUTES, None
    if listing.kind == Listing.Kind.TRANSPORT:
        minutes = sorted({d.duration_min for d in listing.departures.all()})
        if minutes:
            return minutes[0], (minutes[-1] if len(minutes) > 1 else None)
    if listing.duration_min:
        return listing.duration_min, None
    if listing.opens and listing.closes:
        opens = listing.opens.hour * 60 + listing.opens.minute
        closes = listing.closes.hour * 60 + listing.closes.minute
        return closes - opens, None
    return DAY_MINUTES, None


def _feature(kind: str, text: str) -> dict[str, Any]:
    return {"shortDescription": text, "type": kind}


def product_features(listing: Listing) -> list[dict[str, Any]]:
    """What the listing offers (its interest tags, as highlights), a stay's
    check-in, and its difficulty, effort and altitude."""
    features = [
        _feature("HIGHLIGHT", str(InterestTag(tag).label))
        for tag in listing.tags or []
        if tag in InterestTag.values
    ]
    if listing.kind == Listing.Kind.STAY:
        features.append(
            _feature(
                "PREARRIVAL_INFORMATION",
                _("Check-in from %(time)s.") % {"time": check_in(listing)},
            )
        )
    if listing.difficulty:
        features.append(
            _feature(
                "ADDITIONAL_INFORMATION",
                _("Difficulty: %(level)s.")
                % {"level": listing.get_difficulty_display().lower()},
            )
        )
    if listing.strenuous:
        features.append(_feature("PREBOOKING_INFORMATION", _("Physically demanding.")))
    if listing.altitude_m:
        features.append(
            _feature(
                "PREBOOKING_INFORMATION",
                _("Reaches %(metres)s m above sea level.")
                % {"metres": listing.altitude_m},
            )
        )
    return features


def option_features(listing: Listing) -> list[dict[str, Any]]:
    """The option's booking and cancellation terms."""
    features = []
    if listing.booking_cutoff_hours:
        features.append(
            _feature(
                "BOOKING_TERM",
                _("Book at least %(hours)s hours before the start.")
                % {"hours": listing.booking_cutoff_hours},
            )
        )
    if listing.confirmation == Listing.Confirmation.ON_REQUEST:
        features.append(
            _feature("BOOKING_TERM", _("The provider confirms each booking."))
        )
    features.append(
        _feature(
            "CANCELLATION_TERM",
            _("Free cancellation until %(hours)s hours before the start.")
            % {"hours": listing.cancellation_cutoff_hours},
        )
    )
    return features


def category_labels(listing: Listing) -> list[str]:
    labels = []
    if listing.kind == Listing.Kind.STAY:
        labels.append("accommodation-included")
    if listing.kind == Listing.Kind.GUIDE:
        labels.append("guided-tours")
    if duration(listing)[0] > DAY_MINUTES:
        labels.append("multi-day")
    labels += [_TAG_CATEGORIES[t] for t in listing.tags or [] if t in _TAG_CATEGORIES]
    if listing.difficulty in _DIFFICULTY_CATEGORIES:
        labels.append(_DIFFICULTY_CATEGORIES[listing.difficulty])
    return list(dict.fromkeys(labels))


def commentary(listing: Listing) -> list[dict[str, str]]:
    """A guide's languages, spoken in person."""
    return [
        {"format": "IN_PERSON", "language": code}
        for code in listing.languages or []
        if isinstance(code, str) and code
    ]


def media(listing: Listing, *, site: str) -> list[dict[str, Any]]:
    """The listing's photos (JPEG: every upload is re-encoded) at absolute URLs on
    ``site``; the first is the cover."""
    return [
        {
            "src": urljoin(site, photo.image.url),
            "type": "image/jpeg",
            "rel": "COVER" if n == 0 else "GALLERY",
            "title": None,
            "caption": localized(photo, "alt") or None,
            "copyright": f"© {listing.provider.name}",
        }
        for n, photo in enumerate(listing.photos.all())
    ]


def unit_description(item: ListingUnit) -> str:
    """The unit's ages (``""`` when it has none)."""
    if item.min_age is not None and item.max_age is not None:
        return _("Ages %(min)s to %(max)s.") % {
            "min": item.min_age,
            "max": item.max_age,
        }
    if item.min_age is not None:
        return _("Ages %(min)s and over.") % {"min": item.min_age}
    if item.max_age is not None:
        return _("Up to age %(max)s.") % {"max": item.max_age}
    return ""
