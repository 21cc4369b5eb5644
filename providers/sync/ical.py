"""Reading iCal (RFC 5545) availability feeds: pure functions, no database.

A feed is turned into the set of dates it blocks, per event UID, in the listing's
place time zone:

- all-day events block ``DTSTART`` up to the day before ``DTEND`` (the end is
  exclusive: a 3-night reservation 1–4 December blocks the nights of 1, 2 and 3);
- timed events block every date they touch once converted to the place zone, from the
  start's date through the date of ``end − 1 µs``; ``TZID`` parameters are honoured and
  floating times (no zone) are read in the place zone;
- ``RRULE``/``RDATE``/``EXDATE``/``RECURRENCE-ID`` are expanded with
  ``recurring_ical_events`` over a horizon of dates;
- cancelled (``STATUS:CANCELLED``) and free (``TRANSP:TRANSPARENT``) events block
  nothing.

Anything that is not one well-formed ``VCALENDAR`` raises ``CalendarParseError``:
callers keep their last good state instead of releasing dates on a broken feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.utils.translation import gettext as _

UID_MAX_LENGTH = 255
SUMMARY_MAX_LENGTH = 200
ONE_DAY = dt.timedelta(days=1)
ONE_MICROSECOND = dt.timedelta(microseconds=1)


class CalendarParseError(ValueError):
    """The body is not a usable iCalendar; ``message`` is fit to show a provider."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ParsedFeed:
    """What one feed says: ``blocks`` maps (date, event UID) to the event summary."""

    event_count: int  # VEVENT components in the body, whatever their status
    blocks: dict[tuple[dt.date, str], str]

    @property
    def dates(self) -> set[dt.date]:
        return {day for day, _uid in self.blocks}


def content_hash(data: bytes) -> str:
    """SHA-256 of a feed body, hex (``CalendarFeed.content_hash``)."""
    return hashlib.sha256(data).hexdigest()


def parse_calendar(data: bytes) -> icalendar.Calendar:
    """The body as one ``VCALENDAR``, or CalendarParseError."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError, KeyError, …
        raise CalendarParseError(
            _("The feed is not an iCalendar file (%(error)s).") % {"error": _short(exc)}
        ) from exc
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise CalendarParseError(_("The feed does not contain a VCALENDAR."))
    return calendar


def _short(exc: BaseException, limit: int = 160) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_local(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An instant in ``zone``; a floating (naive) time is wall-clock time there."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def dates_between(
    start: dt.date | dt.datetime,
    end: dt.date | dt.datetime | None,
    *,
    zone: ZoneInfo,
    first: dt.date,
    last: dt.date,
) -> list[dt.date]:
    """The dates an event from ``start`` to ``end`` blocks, clipped to
    ``first``…``last`` (inclusive).

    All-day (``date``) events: ``end`` is exclusive, a missing end means one day.
    Timed events: every date touched in ``zone``, from the start's date through the
    date of ``end − 1 µs``; a missing or non-positive duration blocks the start date.
    """
    if isinstance(start, dt.datetime):
        local_start = _as_local(start, zone)
        if isinstance(end, dt.datetime):
            local_end = _as_local(end, zone)
        elif isinstance(end, dt.date):  # a date end on a timed start: midnight there
            local_end = dt.datetime.combine(end, dt.time(), tzinfo=zone)
        else:
            local_end = local_start
        start_day = local_start.date()
        end_day = max(start_day, (local_end - ONE_MICROSECOND).date())
    else:
        start_day = start
        if isinstance(end, dt.datetime):
            end = _as_local(end, zone).date()
        end_day = max(start_day, (end - ONE_DAY) if end else start_day)
    start_day, end_day = max(start_day, first), min(end_day, last)
    return [
        start_day + dt.timedelta(days=n) for n in range((end_day - start_day).days + 1)
    ]


def _uid(event: icalendar.Event) -> str:
    """The event's UID; events without one get a stable UID from their content."""
    uid = str(event.get("UID", "")).strip()
    if not uid:
        names = ("DTSTART", "DTEND", "SUMMARY")
        seed = b"".join(event[name].to_ical() for name in names if name in event)
        return "no-uid-" + hashlib.sha256(seed).hexdigest()[:32]
    if len(uid) > UID_MAX_LENGTH:  # keep it unique, but fit the column
        digest = hashlib.sha256(uid.encode()).hexdigest()
        return uid[: UID_MAX_LENGTH - len(digest) - 1] + "~" + digest
    return uid


def _blocks_time(event: icalendar.Event) -> bool:
    status = str(event.get("STATUS", "")).strip().upper()
    transparency = str(event.get("TRANSP", "OPAQUE")).strip().upper()
    return status != "CANCELLED" and transparency != "TRANSPARENT"


def _check_events(calendar: icalendar.Calendar) -> int:
    """Count the VEVENTs, refusing the feed if one has no readable DTSTART (dropping
    it would release its dates)."""
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    for event in events:
        broken = [name for name, _error in getattr(event, "errors", [])]
        if "DTSTART" not in event or "DTSTART" in broken:
            raise CalendarParseError(
                _("The event %(uid)s has no readable start date.")
                % {"uid": str(event.get("UID", "?"))[:80]}
            )
    return len(events)


def parse_feed(
    data: bytes, *, zone: ZoneInfo, first: dt.date, last: dt.date
) -> ParsedFeed:
    """The blocks a feed body defines between ``first`` and ``last`` (inclusive).

    Raises CalendarParseError when the body is not one readable VCALENDAR.
    """
    calendar = parse_calendar(data)
    event_count = _check_events(calendar)
    blocks: dict[tuple[dt.date, str], str] = {}
    # CalendarQuery directly, not recurring_ical_events.of(): of() applies
    # X-WR-TIMEZONE to floating times, and ours belong to the listing's zone.
    query = recurring_ical_events.CalendarQuery(calendar, components=("VEVENT",))
    try:
        # One day of margin each side: timed events move across dates when converted.
        occurrences = list(query.between(first - ONE_DAY, last + 2 * ONE_DAY))
    except Exception as exc:  # bad RRULE, end before start, …
        raise CalendarParseError(
            _("The feed's events cannot be read (%(error)s).") % {"error": _short(exc)}
        ) from exc
    for event in occurrences:
        if not _blocks_time(event):
            continue
        try:
            start = event["DTSTART"].dt
            end = event["DTEND"].dt if "DTEND" in event else None
        except Exception as exc:
            raise CalendarParseError(
                _("The event %(uid)s cannot be read (%(error)s).")
                % {"uid": str(event.get("UID", "?"))[:80], "error": _short(exc)}
            ) from exc
        uid = _uid(event)
        summary = str(event.get("SUMMARY", "")).strip()[:SUMMARY_MAX_LENGTH]
        for day in dates_between(start, end, zone=zone, first=first, last=last):
            blocks.setdefault((day, uid), summary)
    return ParsedFeed(event_count=event_count, blocks=blocks)
