"""Reading iCal (RFC 5545) availability feeds: pure functions, no database.

A feed is turned into the set of dates it blocks, per event UID, in the listing's
place time zone:

- all-day events block ``DTSTART`` up to the day before ``DTEND`` (the end is
  exclusive: a 3-night reservation 1–4 December blocks the nights of 1, 2 and 3);
  without an end (or with a zero length) they block their start date;
- timed events block every date they touch once converted to the place zone, from the
  start's date through the date of ``end − 1 µs``; ``TZID`` parameters are honoured,
  floating times (no zone) and times with a ``TZID`` nobody knows are read in the
  place zone; a zero-length or end-less timed event blocks its start date;
- ``DURATION`` stands for ``DTEND``;
- ``RRULE``/``RDATE``/``EXDATE``/``RECURRENCE-ID`` are expanded with
  ``recurring_ical_events``, only over the sync horizon and only after the
  occurrences up to its end have been counted lazily (``ParseLimits.max_instances``,
  counted from each event's start: the work of reaching the horizon counts too);
  events that do not repeat are read directly;
- cancelled (``STATUS:CANCELLED``) and free (``TRANSP:TRANSPARENT``) events block
  nothing; events far outside the horizon block nothing either.

An event that ends before it starts is ignored and reported in
``ParsedFeed.problems``: the rest of the feed is read. Anything else that is not one
well-formed ``VCALENDAR`` (or that would cost more than ``ParseLimits`` allow)
raises ``CalendarParseError``: callers keep their last good state instead of
releasing dates on a broken feed. Every text taken from a feed (UIDs, summaries, the
parser's error messages quoting the body) is cleaned of control characters, NUL
included (``clean_text``).

``providers.sync.services`` runs ``parse_feed`` in a child process with CPU and
memory limits (``providers.sync.sandbox``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

UID_MAX_LENGTH = 255
SUMMARY_MAX_LENGTH = 200
ONE_DAY = dt.timedelta(days=1)
ONE_MICROSECOND = dt.timedelta(microseconds=1)
ERROR_MAX_LENGTH = 500
PROBLEMS_SHOWN = 5  # ignored events named in ParsedFeed.problems; the rest counted
# C0 and C1 control characters (NUL included), bidi overrides and isolates (they can
# reorder what the portal shows), lone surrogates (not storable as UTF-8).
_UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


class CalendarParseError(ValueError):
    """The body is not a usable iCalendar; ``message`` is fit to show a provider."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ParseLimits:
    """The most work one feed may ask for.

    ``max_instances``: event occurrences, counted from each event's start through
    the end of the horizon (an event that does not repeat is one);
    ``max_blocks``: (date, event) pairs blocked inside the horizon (each is a row)."""

    max_instances: int = 20_000
    max_blocks: int = 50_000


@dataclass(frozen=True)
class ParsedFeed:
    """What one feed says: ``blocks`` maps (date, event UID) to the event summary;
    ``problems`` says which events were ignored and why."""

    event_count: int  # VEVENT components in the body, whatever their status
    blocks: dict[tuple[dt.date, str], str]
    problems: tuple[str, ...] = field(default=())

    @property
    def dates(self) -> set[dt.date]:
        return {day for day, _uid in self.blocks}


def content_hash(data: bytes) -> str:
    """SHA-256 of a feed body, hex (``CalendarFeed.content_hash``)."""
    return hashlib.sha256(data).hexdigest()


def clean_text(text: str, max_length: int) -> str:
    """``text`` fit to store (PostgreSQL refuses NUL) and to show: control
    characters, bidi overrides and lone surrogates become spaces, runs of white space
    one space, and it is cut to ``max_length`` characters (with "…")."""
    text = " ".join(_UNSAFE_CHARACTERS.sub(" ", text).split())
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


def parse_calendar(data: bytes) -> icalendar.Calendar:
    """The body as one ``VCALENDAR``, or CalendarParseError."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except MemoryError:
        raise
    except Exception as exc:  # icalendar raises ValueError, KeyError, …
        raise CalendarParseError(
            _("The feed is not an iCalendar file (%(error)s).") % {"error": _short(exc)}
        ) from exc
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise CalendarParseError(_("The feed does not contain a VCALENDAR."))
    return calendar


def _short(exc: BaseException, limit: int = 160) -> str:
    """An exception's text for an error message (it may quote the body)."""
    return clean_text(str(exc) or type(exc).__name__, limit)


def _as_local(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An instant in ``zone``; a floating (naive) time is wall-clock time there."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def _clamp(value: dt.date | dt.datetime, first: dt.date, last: dt.date):
    """``value``, or the same kind of moment two days before ``first`` / after
    ``last`` when it lies further out (zone offsets never reach two days)."""
    day = value.date() if isinstance(value, dt.datetime) else value
    low, high = first - 2 * ONE_DAY, last + 2 * ONE_DAY
    if low <= day <= high:
        return value
    bound = low if day < low else high
    if isinstance(value, dt.datetime):
        return dt.datetime.combine(bound, dt.time(), tzinfo=value.tzinfo)
    return bound


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
    Moments far outside the range are first brought to two days from it, so the
    years 1 and 9999 never overflow.
    """
    start = _clamp(start, first, last)
    end = None if end is None else _clamp(end, first, last)
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
    """The event's UID, cleaned; events without one get a stable UID from their
    content."""
    uid = clean_text(str(event.get("UID", "")), 10 * UID_MAX_LENGTH)
    if not uid:
        names = ("DTSTART", "DTEND", "SUMMARY")
        seed = b"".join(event[name].to_ical() for name in names if name in event)
        return "no-uid-" + hashlib.sha256(seed).hexdigest()[:32]
    if len(uid) > UID_MAX_LENGTH:  # keep it unique, but fit the column
        digest = hashlib.sha256(uid.encode("utf-8", "replace")).hexdigest()
        return uid[: UID_MAX_LENGTH - len(digest) - 1] + "~" + digest
    return uid


def _shown_uid(event: icalendar.Event) -> str:
    """The UID as error messages quote it."""
    return clean_text(str(event.get("UID", "?")), 80) or "?"


def _blocks_time(event: icalendar.Event) -> bool:
    status = str(event.get("STATUS", "")).strip().upper()
    transparency = str(event.get("TRANSP", "OPAQUE")).strip().upper()
    return status != "CANCELLED" and transparency != "TRANSPARENT"


def _events(calendar: icalendar.Calendar) -> list[icalendar.Event]:
    """The VEVENTs, refusing the feed if one has no readable DTSTART (dropping it
    would release its dates)."""
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    for event in events:
        broken = [name for name, _error in getattr(event, "errors", [])]
        if "DTSTART" not in event or "DTSTART" in broken:
            raise CalendarParseError(
                _("The event %(uid)s has no readable start date.")
                % {"uid": _shown_uid(event)}
            )
    return events


Moment = dt.date | dt.datetime


def _start_end(event: icalendar.Event) -> tuple[Moment, Moment | None]:
    """DTSTART and DTEND (or DTSTART + DURATION, or None) as the feed gives them."""
    try:
        start = event["DTSTART"].dt
        if "DTEND" in event:
            return start, event["DTEND"].dt
        if "DURATION" in event:
            return start, start + event["DURATION"].dt
        return start, None
    except (OverflowError, MemoryError):
        raise
    except Exception as exc:
        raise CalendarParseError(
            _("The event %(uid)s cannot be read (%(error)s).")
            % {"uid": _shown_uid(event), "error": _short(exc)}
        ) from exc


def _comparable(value: Moment, zone: ZoneInfo) -> dt.datetime:
    """An aware datetime to compare (no conversion between zones: none can
    overflow)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time(), tzinfo=zone)


def _ends_before_start(event: icalendar.Event, zone: ZoneInfo) -> bool:
    start, end = _start_end(event)
    if end is None:
        return False
    if not isinstance(start, dt.datetime) and not isinstance(end, dt.datetime):
        return end < start
    return _comparable(end, zone) < _comparable(start, zone)


def _repeats(event: icalendar.Event) -> bool:
    return any(name in event for name in ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"))


def _starts_after(group: list[icalendar.Event], last: dt.date) -> bool:
    """Whether no occurrence of the series can reach ``last``: every component
    starts after it (recurrences only go forward; RDATEs may go back)."""
    for event in group:
        start = event["DTSTART"].dt
        day = start.date() if isinstance(start, dt.datetime) else start
        if "RDATE" in event or day <= last + ONE_DAY:
            return False
    return True


class _Reader:
    """Collects the blocks of one feed inside ``first``…``last`` and counts the work
    against ``limits``."""

    def __init__(
        self, *, zone: ZoneInfo, first: dt.date, last: dt.date, limits: ParseLimits
    ) -> None:
        self.zone, self.first, self.last, self.limits = zone, first, last, limits
        self.instances = 0
        self.blocks: dict[tuple[dt.date, str], str] = {}
        self.problems: list[str] = []
        self.unnamed_problems = 0

    def count(self, uid: str, *, repeating: bool) -> None:
        self.instances += 1
        if self.instances <= self.limits.max_instances:
            return
        if repeating:
            message = _(
                "The feed has more than %(max)s events and repetitions up to "
                "%(last)s (the event %(uid)s repeats too often); it was not read."
            )
        else:
            message = _("The feed has more than %(max)s events; it was not read.")
        raise CalendarParseError(
            message
            % {
                "max": self.limits.max_instances,
                "last": self.last.isoformat(),
                "uid": clean_text(uid, 80) or "?",
            }
        )

    def add(self, event: icalendar.Event, start: Moment, end: Moment | None) -> None:
        if not _blocks_time(event):
            return
        days = dates_between(
            start, end, zone=self.zone, first=self.first, last=self.last
        )
        if not days:
            return
        uid = _uid(event)
        summary = clean_text(str(event.get("SUMMARY", "")), SUMMARY_MAX_LENGTH)
        for day in days:
            if (day, uid) in self.blocks:
                continue
            if len(self.blocks) >= self.limits.max_blocks:
                raise CalendarParseError(
                    _(
                        "The feed blocks more than %(max)s dates (counting each "
                        "event on each date); it was not read."
                    )
                    % {"max": self.limits.max_blocks}
                )
            self.blocks[(day, uid)] = summary

    def ignore(self, message: str) -> None:
        if len(self.problems) < PROBLEMS_SHOWN:
            self.problems.append(message)
        else:
            self.unnamed_problems += 1

    def all_problems(self) -> tuple[str, ...]:
        if not self.unnamed_problems:
            return tuple(self.problems)
        more = ngettext(
            "%(count)s more event was ignored.",
            "%(count)s more events were ignored.",
            self.unnamed_problems,
        ) % {"count": self.unnamed_problems}
        return (*self.problems, more)


def _group(events: list[icalendar.Event]) -> list[list[icalendar.Event]]:
    """The events by UID (a series and its modified occurrences share one); events
    without a UID stay alone."""
    groups: dict[object, list[icalendar.Event]] = defaultdict(list)
    for event in events:
        uid = str(event.get("UID", "")).strip()
        groups[uid or id(event)].append(event)
    return list(groups.values())


def _read_single(reader: _Reader, event: icalendar.Event) -> None:
    """An event that does not repeat, without the recurrence library."""
    reader.count(str(event.get("UID", "")), repeating=False)
    start, end = _start_end(event)
    reader.add(event, start, end)


def _read_series(
    reader: _Reader, calendar: icalendar.Calendar, events: list[icalendar.Event]
) -> None:
    """Expand the repeating events over the horizon, after counting their
    occurrences up to its end one by one (nothing is expanded past the limit)."""
    calendar.subcomponents = [
        c for c in calendar.subcomponents if c.name != "VEVENT"
    ] + events
    first, last = reader.first, reader.last
    stop = dt.datetime.combine(last + 3 * ONE_DAY, dt.time())
    try:
        # CalendarQuery directly, not recurring_ical_events.of(): of() applies
        # X-WR-TIMEZONE to floating times, and ours belong to the listing's zone.
        query = recurring_ical_events.CalendarQuery(calendar, components=("VEVENT",))
        for series in query.series:
            uid = str(series.uid)
            for _modification in series.modifications:
                reader.count(uid, repeating=True)
            if not series.recurrence.has_core:
                continue
            for rule in series.recurrence.rrules:
                for start in rule:  # lazily, one occurrence at a time
                    if start.replace(tzinfo=None) > stop:
                        break
                    reader.count(uid, repeating=True)
        # One day of margin each side: timed events move across dates when converted.
        occurrences = query.between(first - ONE_DAY, last + 2 * ONE_DAY)
    except (CalendarParseError, MemoryError):
        raise
    except Exception as exc:  # bad RRULE, dates out of range, …
        raise CalendarParseError(
            _("The feed's events cannot be read (%(error)s).") % {"error": _short(exc)}
        ) from exc
    for event in occurrences:
        reader.add(event, *_start_end(event))


def parse_feed(
    data: bytes,
    *,
    zone: ZoneInfo,
    first: dt.date,
    last: dt.date,
    limits: ParseLimits | None = None,
) -> ParsedFeed:
    """The blocks a feed body defines between ``first`` and ``last`` (inclusive).

    Raises CalendarParseError when the body is not one readable VCALENDAR or asks
    for more work than ``limits`` allow.
    """
    calendar = parse_calendar(data)
    events = _events(calendar)
    reader = _Reader(zone=zone, first=first, last=last, limits=limits or ParseLimits())
    repeating: list[icalendar.Event] = []
    for group in _group(events):
        try:
            backwards = [event for event in group if _ends_before_start(event, zone)]
        except OverflowError:
            backwards, out_of_range = [], True
        else:
            out_of_range = False
        if backwards or out_of_range:
            message = (
                _("The event %(uid)s ends before it starts; it was ignored.")
                if backwards
                else _("The event %(uid)s has dates out of range; it was ignored.")
            )
            reader.ignore(message % {"uid": _shown_uid(group[0])})
            continue
        if len(group) > 1 or _repeats(group[0]):
            if _starts_after(group, last):  # e.g. yearly from 9999: nothing here
                reader.count(str(group[0].get("UID", "")), repeating=False)
            else:
                repeating.extend(group)
            continue
        try:
            _read_single(reader, group[0])
        except OverflowError:
            reader.ignore(
                _("The event %(uid)s has dates out of range; it was ignored.")
                % {"uid": _shown_uid(group[0])}
            )
    if repeating:
        _read_series(reader, calendar, repeating)
    return ParsedFeed(
        event_count=len(events), blocks=reader.blocks, problems=reader.all_problems()
    )
