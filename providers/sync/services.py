"""Availability sync with external iCal calendars (Airbnb, Booking.com, …).

Import: ``calendar_feed_sync`` fetches one feed (conditional GET through the SSRF
guard), reads it in a child process with CPU and memory limits (``sandbox``), turns it
into ``ExternalBlock`` rows (one per feed × date × event UID), recomputes
``Slot.blocked`` on the dates that changed and records ``SyncConflict`` rows where an
imported block lands on persons we already sold. Failures of any kind (unreachable,
slow, HTTP error, malformed, too large, too costly to read, suspiciously empty, the
task's time limit, an unexpected error) never touch availability: the feed keeps its
last good state, records the error (cleaned of control characters) and backs off
(interval × 2^failures, at most a day; a success resets it). A sync killed before it
could record anything (hard time limit, worker lost) leaves ``sync_started_at`` set,
and the dispatcher's sweep records it (``calendar_feed_sweep_stuck``). Events the
feed gets wrong but that block nothing (ending before they start) are ignored and
reported in ``last_error`` of a sync that otherwise succeeded.

Only feeds of approved providers are added and synced.

One feed is never synced by two workers at once: a cache mutex (``cache.add``; Redis
in production, local memory in eager mode) covers the whole run, and on PostgreSQL the
write phase also takes the feed's row lock without waiting (``skip_locked``). The
write phase locks the listing row too, so two feeds of one listing recompute its
slots one after the other.

Export: ``listing_ical_export`` builds the listing's own calendar of dates we sold or
closed, for other platforms to import.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum

import httpx
import icalendar
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import mail_admins, send_mail
from django.db import connection, models, transaction
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Least
from django.db.models.query import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from providers.models import (
    CalendarFeed,
    ExternalBlock,
    Listing,
    Provider,
    Slot,
    SyncConflict,
    new_token,
)
from providers.selectors import slot_keys
from providers.sync.ical import (
    ERROR_MAX_LENGTH,
    CalendarParseError,
    ParsedFeed,
    ParseLimits,
    clean_text,
    content_hash,
    parse_feed,
)
from providers.sync.sandbox import ChildStats, LimitExceeded, run_limited
from tourism.net import FetchError, clean_http_url, fetch, guarded_client

log = logging.getLogger(__name__)

PAST_DAYS = 1  # the horizon starts yesterday: late-night check-outs, zone skew
DEFAULT_HORIZON_DAYS = 365  # override with settings.ICAL_SYNC_HORIZON_DAYS
MAX_BACKOFF = dt.timedelta(hours=24)
# The dispatcher pushes next_run_at this far ahead when it enqueues a feed, so a
# backlog is not enqueued again every minute; the sync sets the real next run.
DISPATCH_LEASE = dt.timedelta(minutes=10)
EXPORT_DOMAIN = "titicaca-tourism"


class SyncStatus(StrEnum):
    SYNCED = "synced"  # the feed's blocks were written (maybe no change at all)
    UNCHANGED = "unchanged"  # same body as the last good one: not parsed again
    NOT_MODIFIED = "not_modified"  # HTTP 304
    FAILED = "failed"  # recorded on the feed; blocks kept
    SKIPPED = "skipped"  # already running, or the feed is gone or inactive


@dataclasses.dataclass(frozen=True)
class SyncResult:
    feed_id: int
    status: str
    message: str = ""
    added: int = 0
    removed: int = 0
    conflicts_opened: int = 0
    conflicts_resolved: int = 0
    # What reading the body cost the child process (0 when it was not read).
    parse_cpu_seconds: float = 0.0
    parse_peak_rss_kib: int = 0

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


# --- Feeds: create, remove, list ------------------------------------------------------


def calendar_feed_create(
    *,
    listing: Listing,
    url: str,
    name: str = "",
    blocks_units: int | None = None,
) -> CalendarFeed:
    """Connect an external calendar to a listing of an approved provider (else
    ValidationError on ``provider``). The URL must be http(s) and point to a public
    address (URLNotAllowed, field ``url``); it is checked again at every fetch, when
    the connection is opened."""
    provider_status = (
        Provider.objects.filter(pk=listing.provider_id)
        .values_list("status", flat=True)
        .first()
    )
    if provider_status != Provider.Status.APPROVED:
        raise ValidationError(
            {
                "provider": _(
                    "Calendars can be connected once our staff have approved your "
                    "provider account."
                )
            }
        )
    url = (url or "").strip()
    if url.lower().startswith("webcal://"):  # how calendar apps often share https
        url = "https://" + url[len("webcal://") :]
    url = clean_http_url(url)
    if blocks_units is not None and blocks_units < 1:
        raise ValidationError(
            {"blocks_units": _("Block at least one person, or leave it empty.")}
        )
    if hasattr(listing, "octo_link"):
        raise ValidationError(
            {
                "url": _(
                    "This listing takes its availability from your reservation "
                    "system (OCTO); remove that link before adding calendars."
                )
            }
        )
    if CalendarFeed.objects.filter(listing=listing, url=url).exists():
        raise ValidationError(
            {"url": _("This calendar is already connected to the listing.")}
        )
    feed = CalendarFeed(
        listing=listing, url=url, name=name.strip(), blocks_units=blocks_units
    )
    feed.full_clean()
    feed.save()
    return feed


def calendar_feed_delete(*, feed: CalendarFeed, now: dt.datetime | None = None) -> None:
    """Disconnect a feed: its blocks go, and the dates they covered are recomputed."""
    now = now or timezone.now()
    with transaction.atomic():
        listing = _lock_listing(feed.listing_id)
        dates = set(feed.blocks.values_list("date", flat=True))
        feed.delete()
        _recompute(listing=listing, dates=dates, feed=None, feed_dates=set(), now=now)


def listing_blocks_recompute(
    *, listing: Listing, dates: Iterable[dt.date], now: dt.datetime | None = None
) -> None:
    """Bring ``Slot.blocked`` on ``dates`` back in line with the listing's feeds (after
    a capacity change, for instance: a whole-day block follows the new capacity)."""
    with transaction.atomic():
        locked = _lock_listing(listing.pk)
        _recompute(
            listing=locked,
            dates=dates,
            feed=None,
            feed_dates=set(),
            now=now or timezone.now(),
        )


def calendar_feed_list_for_provider(*, provider: Provider) -> QuerySet[CalendarFeed]:
    """The provider's feeds with their sync status (last success, last error, next
    run on the model) and how many conflicts are open, for the portal."""
    return (
        CalendarFeed.objects.filter(listing__provider=provider)
        .select_related("listing")
        .annotate(
            open_conflicts=Count(
                "conflicts", filter=Q(conflicts__resolved_at__isnull=True)
            )
        )
        .order_by("listing__title_en", "pk")
    )


def calendar_feed_claim_due(
    *, now: dt.datetime | None = None, limit: int | None = None
) -> list[int]:
    """Active feeds of approved providers whose next run is due (or never set),
    moved ``DISPATCH_LEASE`` ahead so the next dispatch does not enqueue them again
    while they wait."""
    now = now or timezone.now()
    due = (
        CalendarFeed.objects.filter(
            is_active=True, listing__provider__status=Provider.Status.APPROVED
        )
        .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
        .order_by(F("next_run_at").asc(nulls_first=True), "pk")
    )
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True, of=("self",)).values_list(
                "pk", flat=True
            )[:limit]
        )
        CalendarFeed.objects.filter(pk__in=ids).update(next_run_at=now + DISPATCH_LEASE)
    return ids


def stuck_after() -> dt.timedelta:
    """How long a sync may stay "syncing" before the sweep says it was killed: the
    task's hard time limit and a minute."""
    return dt.timedelta(seconds=int(settings.ICAL_SYNC_TIME_LIMIT) + 60)


def calendar_feed_sweep_stuck(*, now: dt.datetime | None = None) -> int:
    """Record a failure (with backoff) on every feed whose sync started longer ago
    than ``stuck_after()`` and never recorded its outcome: the task was killed by
    its hard time limit, or its worker died. Returns how many."""
    now = now or timezone.now()
    seconds = int(stuck_after().total_seconds())
    with transaction.atomic():
        stuck = list(
            CalendarFeed.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sync_started_at__lt=now - stuck_after())
            .order_by()
        )
        for feed in stuck:
            _fail(
                feed,
                _(
                    "The last sync did not finish within %(seconds)s seconds (it was "
                    "stopped by its time limit, or its worker stopped); it will be "
                    "tried again later."
                )
                % {"seconds": seconds},
                now,
            )
    return len(stuck)


# --- Sync -----------------------------------------------------------------------------


def _interval(feed: CalendarFeed) -> dt.timedelta:
    return dt.timedelta(
        minutes=feed.interval_minutes or settings.ICAL_SYNC_INTERVAL_MINUTES
    )


def _lock_key(feed_id: int) -> str:
    # The database name keeps test runs and benchmarks sharing one Redis apart.
    database = hashlib.sha256(str(connection.settings_dict["NAME"]).encode())
    return f"ical-sync:{database.hexdigest()[:12]}:{feed_id}"


def _lock_seconds() -> int:
    return int(settings.ICAL_FETCH_TIMEOUT_SECONDS) * 3 + 120


def horizon(*, zone: dt.tzinfo, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The dates a sync covers: yesterday … today + horizon days, in ``zone``."""
    today = now.astimezone(zone).date()
    days = getattr(settings, "ICAL_SYNC_HORIZON_DAYS", DEFAULT_HORIZON_DAYS)
    return today - dt.timedelta(days=PAST_DAYS), today + dt.timedelta(days=days)


def calendar_feed_sync(*, feed_id: int, now: dt.datetime | None = None) -> SyncResult:
    """Fetch and apply one feed. Never raises for a bad feed: the result says what
    happened and the feed's status fields record it; so do the Celery soft time
    limit and unexpected errors (a database that is down still raises)."""
    now = now or timezone.now()
    key, token = _lock_key(feed_id), uuid.uuid4().hex
    if not cache.add(key, token, timeout=_lock_seconds()):
        return SyncResult(feed_id, SyncStatus.SKIPPED, _("Skipped: already running."))
    try:
        return _sync(feed_id, now)
    except SoftTimeLimitExceeded:
        log.warning("calendar feed %s: the sync hit its soft time limit", feed_id)
        return _fail_by_id(
            feed_id,
            _("The sync took longer than its time limit and was stopped."),
            now,
        )
    except Exception as exc:
        log.exception("calendar feed %s: the sync failed unexpectedly", feed_id)
        return _fail_by_id(
            feed_id,
            _("The sync stopped on an unexpected error (%(error)s).")
            % {"error": clean_text(str(exc) or type(exc).__name__, 160)},
            now,
        )
    finally:
        if cache.get(key) == token:
            cache.delete(key)


def _start(feed_id: int) -> CalendarFeed | None:
    """The feed, marked as syncing, if it is active, its provider approved and no
    other process holds its row; else None.

    On PostgreSQL the mark is one ``UPDATE`` whose row comes from ``FOR UPDATE SKIP
    LOCKED`` (a row another process is writing is skipped at once, not waited for),
    in its own statement: no extra transaction round trips on every sync. Other
    databases have no row locks to skip.
    """
    now = timezone.now()
    if connection.features.has_select_for_update_skip_locked:
        feeds, listings = CalendarFeed._meta.db_table, Listing._meta.db_table
        providers = Provider._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {feeds} SET sync_started_at = %s WHERE id = (
                    SELECT f.id FROM {feeds} f
                    JOIN {listings} l ON l.id = f.listing_id
                    JOIN {providers} p ON p.id = l.provider_id
                    WHERE f.id = %s AND f.is_active AND p.status = %s
                    FOR UPDATE OF f SKIP LOCKED
                ) RETURNING id
                """,
                [now, feed_id, Provider.Status.APPROVED],
            )
            started = cursor.fetchone() is not None
    else:
        started = bool(
            CalendarFeed.objects.filter(
                pk=feed_id,
                is_active=True,
                listing__provider__status=Provider.Status.APPROVED,
            ).update(sync_started_at=now)
        )
    if not started:
        return None
    return (
        CalendarFeed.objects.select_related("listing__place__country")
        .filter(pk=feed_id)
        .order_by()
        .first()
    )


def _sync(feed_id: int, now: dt.datetime) -> SyncResult:
    feed = _start(feed_id)
    if feed is None:
        return SyncResult(
            feed_id,
            SyncStatus.SKIPPED,
            _("Skipped: feed not active, provider not approved, or already running."),
        )
    zone = feed.listing.place.zone
    first, last = horizon(zone=zone, now=now)
    # The horizon rolls forward every day: the first sync of a local day fetches and
    # parses in full, so dates entering the horizon get their blocks even when the
    # feed's body has not changed since.
    same_day = (
        feed.last_success_at is not None
        and feed.last_success_at.astimezone(zone).date() == now.astimezone(zone).date()
    )
    headers = {}
    if same_day and feed.etag:
        headers["If-None-Match"] = feed.etag
    if same_day and feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    try:
        timeout = float(settings.ICAL_FETCH_TIMEOUT_SECONDS)
        response = fetch(
            feed.url,
            headers=headers,
            timeout=timeout,
            max_bytes=settings.ICAL_MAX_BYTES,
            client=_http_client(timeout),
        )
    except FetchError as exc:
        return _fail(feed, exc.message, now)
    if response.status_code == 304:
        _succeed(feed, now)
        return SyncResult(feed_id, SyncStatus.NOT_MODIFIED)
    if not 200 <= response.status_code < 300:
        return _fail(
            feed,
            _("The feed answered HTTP %(status)s.") % {"status": response.status_code},
            now,
        )
    validators = {
        "etag": _header(response.headers.get("etag"), 200),
        "last_modified": _header(response.headers.get("last-modified"), 100),
    }
    digest = content_hash(response.content + first.isoformat().encode())
    if digest == feed.content_hash:
        _succeed(feed, now, **validators)
        return SyncResult(feed_id, SyncStatus.UNCHANGED)
    try:
        parsed, cost = _parse(response.content, zone=zone, first=first, last=last)
    except CalendarParseError as exc:
        return _fail(feed, exc.message, now, cost=getattr(exc, "child_stats", None))
    if parsed.event_count == 0 and (feed.last_event_count or 0) > 0:
        return _fail(
            feed,
            _(
                "The feed is empty but had %(count)s events before; the last good "
                "state is kept until it has events again."
            )
            % {"count": feed.last_event_count},
            now,
            cost=cost,
        )
    return _apply(
        feed,
        parsed,
        first=first,
        last=last,
        digest=digest,
        now=now,
        cost=cost,
        **validators,
    )


def _parse(
    body: bytes, *, zone: dt.tzinfo, first: dt.date, last: dt.date
) -> tuple[ParsedFeed, ChildStats]:
    """``parse_feed`` in a child process under the ICAL_* limits; a limit hit is a
    CalendarParseError saying which (with ``child_stats``)."""
    cpu_seconds = int(settings.ICAL_PARSE_CPU_SECONDS)
    # Wall-clock time for that CPU time on a busy machine (2 CPUs shared with the
    # web, the database and other workers).
    wall_seconds = 3 * cpu_seconds + 10
    memory_mb = int(settings.ICAL_PARSE_MEMORY_MB)
    try:
        return run_limited(
            parse_feed,
            body,
            zone=zone,
            first=first,
            last=last,
            limits=ParseLimits(
                max_instances=int(settings.ICAL_MAX_INSTANCES),
                max_blocks=int(settings.ICAL_MAX_BLOCKS),
            ),
            cpu_seconds=cpu_seconds,
            memory_bytes=memory_mb << 20,
            wall_seconds=wall_seconds,
        )
    except LimitExceeded as exc:
        messages = {
            "cpu": _(
                "Reading the feed took more than %(seconds)s seconds of processor "
                "time; it was stopped."
            ),
            "time": _(
                "Reading the feed took more than %(wall)s seconds; it was stopped."
            ),
            "memory": _(
                "Reading the feed needed more than %(mb)s MB of memory; it was stopped."
            ),
        }
        message = messages.get(exc.kind, _("Reading the feed failed (%(detail)s).")) % {
            "seconds": cpu_seconds,
            "wall": wall_seconds,
            "mb": memory_mb,
            "detail": exc.kind + (f": {exc.detail}" if exc.detail else ""),
        }
        error = CalendarParseError(message)
        error.child_stats = exc.child_stats  # type: ignore[attr-defined]
        raise error from exc


@functools.lru_cache(maxsize=4)
def _http_client(timeout: float) -> httpx.Client:
    """One guarded client per worker process (and time limit): building one costs
    ~20 ms (its TLS context), a tenth of a whole sync. Every connection it opens
    still goes through the SSRF guard, and httpx clients are thread-safe."""
    return guarded_client(timeout=timeout)


def _header(value: str | None, max_length: int) -> str:
    """A validator header to store; one too long to store whole, or with control
    characters, is not stored."""
    value = (value or "").strip()
    if len(value) > max_length or clean_text(value, max_length) != value:
        return ""
    return value


def _succeed(feed: CalendarFeed, now: dt.datetime, **fields: object) -> None:
    CalendarFeed.objects.filter(pk=feed.pk).update(
        last_attempt_at=now,
        last_success_at=now,
        consecutive_failures=0,
        next_run_at=now + _interval(feed),
        sync_started_at=None,
        **fields,
    )


def _fail(
    feed: CalendarFeed,
    message: str,
    now: dt.datetime,
    *,
    cost: ChildStats | None = None,
) -> SyncResult:
    """Record a failure and back off (interval × 2^failures, at most 24 h); the blocks
    and slots are left exactly as they were. The message is stored cleaned of
    control characters (PostgreSQL refuses NUL) and cut to ERROR_MAX_LENGTH."""
    message = clean_text(message, ERROR_MAX_LENGTH)
    failures = feed.consecutive_failures + 1
    delay = min(_interval(feed) * 2 ** min(failures, 16), MAX_BACKOFF)
    CalendarFeed.objects.filter(pk=feed.pk).update(
        last_attempt_at=now,
        last_error=message,
        last_error_at=now,
        consecutive_failures=failures,
        next_run_at=now + delay,
        sync_started_at=None,
    )
    log.warning("calendar feed %s failed (%s in a row): %s", feed.pk, failures, message)
    cost = cost or ChildStats()
    return SyncResult(
        feed.pk,
        SyncStatus.FAILED,
        message,
        parse_cpu_seconds=cost.cpu_seconds,
        parse_peak_rss_kib=cost.peak_rss_kib,
    )


def _fail_by_id(feed_id: int, message: str, now: dt.datetime) -> SyncResult:
    """``_fail`` for a sync that was interrupted: the feed read again, fresh."""
    feed = CalendarFeed.objects.filter(pk=feed_id).order_by().first()
    if feed is None:
        return SyncResult(feed_id, SyncStatus.SKIPPED, _("Skipped: feed gone."))
    return _fail(feed, message, now)


def _lock_listing(listing_id: int) -> Listing:
    return (
        Listing.objects.select_for_update(of=("self",))
        .select_related("place__country")
        .order_by()
        .get(pk=listing_id)
    )


def _apply(
    feed: CalendarFeed,
    parsed: ParsedFeed,
    *,
    first: dt.date,
    last: dt.date,
    digest: str,
    now: dt.datetime,
    cost: ChildStats,
    etag: str,
    last_modified: str,
) -> SyncResult:
    """Write the feed's blocks inside the horizon, recompute the dates that changed,
    open and resolve conflicts, then notify about the new ones. Events the parser
    ignored are reported in ``last_error`` (the sync itself succeeded)."""
    with transaction.atomic():
        # of=("self",) and no default ordering: the models' Meta.ordering joins
        # listing and provider, and FOR UPDATE would lock (and skip on) those rows.
        locked = (
            CalendarFeed.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=feed.pk, is_active=True)
            .order_by()
            .first()
        )
        if locked is None:  # another worker holds the row (or it was just deactivated)
            return SyncResult(
                feed.pk, SyncStatus.SKIPPED, _("Skipped: already running.")
            )
        listing = _lock_listing(feed.listing_id)
        stored = (
            feed.blocks.filter(date__gte=first, date__lte=last)
            .order_by()
            .values_list("pk", "date", "uid", "summary")
        )
        existing = {(day, uid): (pk, summary) for pk, day, uid, summary in stored}
        wanted = parsed.blocks
        gone = [key for key in existing if key not in wanted]
        new = [key for key in wanted if key not in existing]
        renamed = [
            ExternalBlock(pk=existing[key][0], summary=summary)
            for key, summary in wanted.items()
            if key in existing and existing[key][1] != summary
        ]
        if gone:
            gone_ids = [existing[key][0] for key in gone]
            ExternalBlock.objects.filter(pk__in=gone_ids).delete()
        ExternalBlock.objects.bulk_create(
            [
                ExternalBlock(feed=feed, date=day, uid=uid, summary=wanted[(day, uid)])
                for day, uid in new
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        if renamed:
            ExternalBlock.objects.bulk_update(renamed, ["summary"], batch_size=500)
        opened, resolved = _recompute(
            listing=listing,
            dates={day for day, _uid in (*gone, *new)},
            feed=feed,
            feed_dates=parsed.dates,
            now=now,
        )
        problems = {}
        if parsed.problems:
            problems = {
                "last_error": clean_text(" ".join(parsed.problems), ERROR_MAX_LENGTH),
                "last_error_at": now,
            }
        _succeed(
            feed,
            now,
            etag=etag,
            last_modified=last_modified,
            content_hash=digest,
            last_event_count=parsed.event_count,
            **problems,
        )
    if opened:
        _notify_conflicts(feed=feed, listing=listing, conflicts=opened)
    return SyncResult(
        feed.pk,
        SyncStatus.SYNCED,
        added=len(new),
        removed=len(gone),
        conflicts_opened=len(opened),
        conflicts_resolved=resolved,
        parse_cpu_seconds=cost.cpu_seconds,
        parse_peak_rss_kib=cost.peak_rss_kib,
    )


# --- Slots and conflicts --------------------------------------------------------------


def _recompute(
    *,
    listing: Listing,
    dates: Iterable[dt.date],
    feed: CalendarFeed | None,
    feed_dates: set[dt.date],
    now: dt.datetime,
) -> tuple[list[SyncConflict], int]:
    """Set ``Slot.blocked`` on ``dates`` from the blocks of the listing's active feeds:
    min(capacity, Σ per feed blocking that date of its ``blocks_units``, or the
    capacity when that is empty). Only ``blocked`` is written, and only where it
    changes; ``held``/``booked`` are never touched. Then open a conflict for ``feed``
    on each slot it blocks that is now oversold, and resolve the open conflicts of
    slots that are not (or that ``feed`` no longer blocks). Call inside a transaction
    holding the listing's row lock. Returns (new conflicts, number resolved)."""
    dates = sorted(set(dates))
    if not dates:
        return [], 0
    per_date: dict[dt.date, dict[int, int | None]] = defaultdict(dict)
    rows = (
        ExternalBlock.objects.filter(
            feed__listing=listing,
            feed__is_active=True,
            date__gte=dates[0],
            date__lte=dates[-1],
        )
        .order_by()
        .values_list("date", "feed_id", "feed__blocks_units")
        .distinct()
    )
    wanted = set(dates)
    for day, feed_id, units in rows:
        if day in wanted:
            per_date[day][feed_id] = units

    slots = Slot.objects.filter(listing=listing).order_by()
    if not listing.is_timed:
        slots = slots.filter(start_time__isnull=True)
    _create_missing_slots(listing=listing, days=sorted(per_date), slots=slots)

    full, partial, free = [], defaultdict(list), []
    for day in dates:
        units = per_date.get(day, {})
        if not units:
            free.append(day)
        elif any(u is None for u in units.values()):
            full.append(day)
        else:
            partial[sum(u for u in units.values() if u is not None)].append(day)
    if full:
        slots.filter(date__in=full).exclude(blocked=F("capacity")).update(
            blocked=F("capacity"), updated_at=now
        )
    for total, days in partial.items():
        target = Least(
            F("capacity"), Value(total), output_field=models.PositiveIntegerField()
        )
        slots.filter(date__in=days).exclude(blocked=target).update(
            blocked=target, updated_at=now
        )
    if free:
        slots.filter(date__in=free).exclude(blocked=0).update(blocked=0, updated_at=now)
    # Only slots that are oversold or have an open conflict can change conflicts.
    oversold = Q(capacity__lt=F("held") + F("booked") + F("blocked"))
    has_open = Q(
        pk__in=SyncConflict.objects.filter(
            slot__listing=listing, resolved_at__isnull=True
        ).values("slot_id")
    )
    return _check_conflicts(
        slots=list(
            slots.filter(oversold | has_open, date__in=dates)
            .select_for_update(of=("self",))
            .order_by("date", "start_time", "pk")
        ),
        feed=feed,
        feed_dates=feed_dates,
        now=now,
    )


def _create_missing_slots(
    *, listing: Listing, days: list[dt.date], slots: QuerySet[Slot]
) -> None:
    """Slot rows for blocked dates that have none yet (stays: the night's slot;
    timed listings: each start time offered that day), with the listing's default
    capacity.

    Deliberately one ``INSERT … ON CONFLICT DO NOTHING`` instead of
    ``providers.services.slot_get_or_create`` per date: a first import creates a
    year of slots at once (4 queries per slot made it 0.7 s per feed in the
    benchmark). It is the same row ``slot_get_or_create`` would create, and as safe
    against a racing insert: the partial unique constraints reject the duplicate and
    the existing row wins.
    """
    if not days:
        return
    have = set(
        slots.filter(date__gte=days[0], date__lte=days[-1]).values_list(
            "date", "start_time"
        )
    )
    if listing.kind == Listing.Kind.TRANSPORT:
        prefetch_related_objects([listing], "departures")
    missing = [
        Slot(
            listing=listing,
            date=day,
            start_time=start_time,
            capacity=listing.default_capacity,
        )
        for day in days
        for start_time in (slot_keys(listing, day) if listing.is_timed else [None])
        if (day, start_time) not in have
    ]
    Slot.objects.bulk_create(missing, ignore_conflicts=True, batch_size=500)


def _check_conflicts(
    *,
    slots: list[Slot],
    feed: CalendarFeed | None,
    feed_dates: set[dt.date],
    now: dt.datetime,
) -> tuple[list[SyncConflict], int]:
    open_conflicts: dict[int, list[SyncConflict]] = defaultdict(list)
    for conflict in SyncConflict.objects.filter(
        slot__in=[s.pk for s in slots], resolved_at__isnull=True
    ):
        open_conflicts[conflict.slot_id].append(conflict)
    created: list[SyncConflict] = []
    resolve: list[int] = []
    for slot in slots:
        sold = slot.held + slot.booked
        oversold = sold + slot.blocked > slot.capacity
        feed_blocks = feed is not None and slot.date in feed_dates
        mine = None
        for conflict in open_conflicts[slot.pk]:
            if not oversold or (
                feed is not None and conflict.feed_id == feed.pk and not feed_blocks
            ):
                resolve.append(conflict.pk)
            elif feed is not None and conflict.feed_id == feed.pk:
                mine = conflict
        if not (oversold and feed_blocks):
            continue
        if mine is None:
            created.append(
                SyncConflict(slot=slot, feed=feed, sold=sold, blocked=slot.blocked)
            )
        elif (mine.sold, mine.blocked) != (sold, slot.blocked):
            SyncConflict.objects.filter(pk=mine.pk).update(
                sold=sold, blocked=slot.blocked
            )
    if resolve:
        SyncConflict.objects.filter(pk__in=resolve).update(resolved_at=now)
    for conflict in created:  # one by one: the listing lock makes them unique
        conflict.save()
    return created, len(resolve)


def _notify_conflicts(
    *, feed: CalendarFeed, listing: Listing, conflicts: list[SyncConflict]
) -> None:
    """One email per sync run listing its new conflicts, to the provider's members
    (the provider's address when no member has one) and to staff (ADMINS)."""
    subject = _("Calendar conflict: %(listing)s") % {"listing": listing.title}
    lines = [
        _(
            "The calendar “%(feed)s” blocks dates of “%(listing)s” on which places "
            "are already sold. Both are kept: please contact the guests or the other "
            "platform and resolve it."
        )
        % {"feed": str(feed), "listing": listing.title},
        "",
    ]
    for conflict in sorted(
        conflicts, key=lambda c: (c.slot.date, c.slot.start_time or dt.time())
    ):
        when = conflict.slot.date.isoformat()
        if conflict.slot.start_time:
            when += f" {conflict.slot.start_time:%H:%M}"
        lines.append(
            _("%(when)s: %(sold)s sold, %(blocked)s blocked, capacity %(capacity)s")
            % {
                "when": when,
                "sold": conflict.sold,
                "blocked": conflict.blocked,
                "capacity": conflict.slot.capacity,
            }
        )
    body = "\n".join(lines)
    recipients = list(
        get_user_model()
        .objects.filter(provider_memberships__provider_id=listing.provider_id)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if not recipients:
        recipients = list(
            Provider.objects.filter(pk=listing.provider_id)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    try:
        if recipients:
            send_mail(subject, body, None, recipients)
        mail_admins(subject, body)
    except Exception:  # the conflicts are saved; a mail outage must not undo a sync
        log.exception("could not send the conflict email for feed %s", feed.pk)


# --- Export ---------------------------------------------------------------------------


def listing_ical_token_rotate(*, listing: Listing) -> Listing:
    """A new secret export URL; the old one stops working at once."""
    listing.ical_token = new_token()
    listing.save(update_fields=["ical_token", "updated_at"])
    return listing


def listing_ical_export(
    *, token: str, now: dt.datetime | None = None
) -> tuple[Listing, bytes] | None:
    """The listing behind an export token and its calendar, or None."""
    listing = (
        Listing.objects.select_related("place__country")
        .filter(ical_token=token)
        .first()
        if token
        else None
    )
    if listing is None:
        return None
    return listing, listing_ical_calendar(listing=listing, now=now)


def listing_ical_calendar(*, listing: Listing, now: dt.datetime | None = None) -> bytes:
    """RFC 5545 calendar of the listing's unavailable dates from yesterday on: one
    all-day event per date on which we sold or held places, or the provider closed
    it (stays: per night).

    Dates blocked only by imported feeds are left out on purpose: exporting them back
    to Airbnb & co. would make them import their own blocks again, an echo loop that
    keeps dates blocked after the original reservation is gone.
    """
    now = now or timezone.now()
    first = now.astimezone(listing.place.zone).date() - dt.timedelta(days=PAST_DAYS)
    ours = (
        Slot.objects.filter(listing=listing, date__gte=first)
        .filter(Q(held__gt=0) | Q(booked__gt=0) | Q(closed=True) | Q(capacity=0))
        .values_list("date", "updated_at")
    )
    stamps: dict[dt.date, dt.datetime] = {}
    for day, updated_at in ours:
        stamps[day] = max(updated_at, stamps.get(day, updated_at))
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Titicaca route//availability export//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", listing.title_en)
    for day in sorted(stamps):
        event = icalendar.Event()
        event.add("uid", f"listing-{listing.pk}-{day:%Y%m%d}@{EXPORT_DOMAIN}")
        event.add("dtstamp", stamps[day].astimezone(dt.UTC))
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        # No guest names or numbers: the URL is a bearer token anyone may hold.
        event.add("summary", _("Not available"))
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
