"""Community tourism providers, their listings, availability and bookings.

Capacity is the providers' scarce resource, so bookings live here too (pretix's
argument): every hold and confirmation goes through ``providers.services`` and a
conditional update on ``Slot`` backed by a database check constraint.

Capacity is counted in **persons** for every kind of listing (guests in a homestay,
seats on a boat, participants in a workshop), so "room for the whole party" is one
comparison.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from catalogue.models import (
    WEEKDAYS,
    Country,
    Currency,
    Departure,
    Place,
    RouteLeg,
    in_annual_season,
    localized,
)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class ValueChain(models.Model):
    """Value-chain tags of the integration zone (camelids, native potatoes, …)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=80)
    name_es = models.CharField(_("name (Spanish)"), max_length=80)

    class Meta:
        ordering = ["code"]
        verbose_name = _("value chain")
        verbose_name_plural = _("value chains")

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return localized(self, "name")


class Provider(models.Model):
    class Kind(models.TextChoices):
        FAMILY = "family", _("Family")
        ASSOCIATION = "association", _("Association")
        COOPERATIVE = "cooperative", _("Cooperative")
        COMPANY = "company", _("Company")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    home_place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        related_name="providers",
        verbose_name=_("home place"),
    )
    value_chains = models.ManyToManyField(
        ValueChain, blank=True, related_name="providers", verbose_name=_("value chains")
    )
    community_run = models.BooleanField(
        _("community-run"),
        default=False,
        help_text=_("Owned and run by a community, family or cooperative"),
    )
    description_en = models.TextField(_("description (English)"), blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    contact_name = models.CharField(_("contact name"), max_length=120)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("provider")
        verbose_name_plural = _("providers")

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        return localized(self, "description")


class ProviderMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="provider_memberships",
    )
    role = models.CharField(
        _("role"), max_length=8, choices=Role.choices, default=Role.OWNER
    )

    class Meta:
        verbose_name = _("provider member")
        verbose_name_plural = _("provider members")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "user"], name="provider_member_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.provider}"


class InterestTag(models.TextChoices):
    """What an experience offers; travellers weight these 0–5 when planning."""

    CULTURE = "culture", _("Living culture")
    TEXTILES = "textiles", _("Weaving and textiles")
    FOOD = "food", _("Food and cooking")
    FARMING = "farming", _("Farming")
    NATURE = "nature", _("Nature and landscape")
    LAKE = "lake", _("The lake")
    ARCHAEOLOGY = "archaeology", _("Archaeology")
    HIKING = "hiking", _("Hiking")
    COFFEE = "coffee", _("Coffee")
    CAMELIDS = "camelids", _("Llamas and alpacas")
    FESTIVALS = "festivals", _("Music and festivals")


class Listing(models.Model):
    class Kind(models.TextChoices):
        STAY = "stay", _("Stay")
        ACTIVITY = "activity", _("Activity / experience")
        TRANSPORT = "transport", _("Transport service")
        GUIDE = "guide", _("Guide")

    class StayType(models.TextChoices):
        HOMESTAY = "homestay", _("Homestay")
        COMMUNITY_LODGE = "community_lodge", _("Community lodge")
        HOSTEL = "hostel", _("Hostel")
        HOTEL = "hotel", _("Hotel")

    class Confirmation(models.TextChoices):
        INSTANT = "instant", _("Instant confirmation")
        ON_REQUEST = "on_request", _("On request")

    class Difficulty(models.TextChoices):
        EASY = "easy", _("Easy")
        MODERATE = "moderate", _("Moderate")
        HARD = "hard", _("Hard")

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="listings"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="listings")
    # Activities and guides that end somewhere else (a walk Yumani → Challapampa):
    # the traveller goes on from there. Empty: it ends where it starts.
    end_place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="listings_ending",
        verbose_name=_("ends at"),
        help_text=_("Leave empty if it ends where it starts."),
    )
    # Activities and guides that visit public sights (a guided visit of Tiwanaku):
    # the planner does not send the traveller to those sights again on the trip.
    sights = models.ManyToManyField(
        "catalogue.Sight",
        blank=True,
        related_name="listings",
        verbose_name=_("sights it visits"),
        help_text=_(
            "Travellers who book this are not sent to these sights again on the "
            "same trip. Say in the description whether the entry fee is included."
        ),
    )
    title_en = models.CharField(_("title (English)"), max_length=160)
    title_es = models.CharField(_("title (Spanish)"), max_length=160)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    tags = models.JSONField(_("interest tags"), default=list, blank=True)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.PEN
    )
    default_capacity = models.PositiveIntegerField(
        _("default capacity (persons)"),
        help_text=_("Persons per night or per start time unless a day says otherwise"),
    )
    confirmation = models.CharField(
        _("confirmation"),
        max_length=10,
        choices=Confirmation.choices,
        default=Confirmation.INSTANT,
    )
    booking_cutoff_hours = models.PositiveIntegerField(
        _("booking cut-off (hours before start)"), default=24
    )
    cancellation_cutoff_hours = models.PositiveIntegerField(
        _("free cancellation until (hours before start)"), default=48
    )
    cancellation_refund_percent = models.PositiveSmallIntegerField(
        _("refund after the cut-off (%)"),
        default=0,
        validators=[MaxValueValidator(100)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    ical_token = models.CharField(
        max_length=64, unique=True, default=new_token, editable=False
    )
    # Stays
    stay_type = models.CharField(
        _("stay type"), max_length=16, choices=StayType.choices, blank=True
    )
    rooms = models.PositiveSmallIntegerField(_("rooms"), null=True, blank=True)
    beds = models.PositiveSmallIntegerField(_("beds"), null=True, blank=True)
    # Activities (and guides): when and for whom
    duration_min = models.PositiveIntegerField(
        _("duration (min)"), null=True, blank=True
    )
    start_times = models.JSONField(
        _("start times"),
        default=list,
        blank=True,
        help_text=_('Local times, e.g. ["09:00"]'),
    )
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    days = models.JSONField(_("days of operation"), default=list, blank=True)
    season_start = models.CharField(_("season start (MM-DD)"), max_length=5, blank=True)
    season_end = models.CharField(_("season end (MM-DD)"), max_length=5, blank=True)
    min_party = models.PositiveSmallIntegerField(_("minimum party"), default=1)
    max_party = models.PositiveSmallIntegerField(
        _("maximum party"), null=True, blank=True
    )
    difficulty = models.CharField(
        _("difficulty"), max_length=10, choices=Difficulty.choices, blank=True
    )
    strenuous = models.BooleanField(_("strenuous"), default=False)
    altitude_m = models.IntegerField(_("highest altitude (m)"), null=True, blank=True)
    # Transport services run by the provider
    route_leg = models.ForeignKey(
        RouteLeg,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="listings",
    )
    departures = models.ManyToManyField(Departure, blank=True, related_name="listings")
    # Guides
    languages = models.JSONField(_("languages"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["provider", "title_en"]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_party__isnull=True) | Q(max_party__gte=F("min_party")),
                name="listing_party_range",
            ),
            models.CheckConstraint(
                condition=Q(opens__isnull=True)
                | Q(closes__isnull=True)
                | Q(opens__lt=F("closes")),
                name="listing_opening_hours_ordered",
            ),
        ]
        indexes = [models.Index(fields=["kind", "place"])]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def description(self) -> str:
        return localized(self, "description")

    # Kinds of listing that may end somewhere else than where they start.
    MOVING_KINDS = (Kind.ACTIVITY, Kind.GUIDE)

    def clean(self) -> None:
        super().clean()
        if self.end_place_id is None:
            return
        if self.kind not in self.MOVING_KINDS:
            raise ValidationError(
                {
                    "end_place": _(
                        "Only an activity or a guided walk can end somewhere else."
                    )
                }
            )
        if self.end_place_id == self.place_id:
            raise ValidationError(
                {
                    "end_place": _(
                        "This is where it starts: leave it empty if it ends there."
                    )
                }
            )

    @property
    def ends_at(self) -> Place:
        """Where the traveller is when it is over."""
        return self.end_place if self.end_place_id else self.place

    @property
    def is_timed(self) -> bool:
        """Activities with start times and transport have one slot per start time."""
        return self.kind == self.Kind.TRANSPORT or bool(self.start_times)

    def operates_on(self, day: dt.date) -> bool:
        if self.days and WEEKDAYS[day.weekday()] not in self.days:
            return False
        return in_annual_season(day, self.season_start, self.season_end)


class ListingUnit(models.Model):
    """Who a price is for: adult, child (with an age range), …"""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="units")
    code = models.SlugField(_("code"), max_length=24)
    name_en = models.CharField(_("name (English)"), max_length=60)
    name_es = models.CharField(_("name (Spanish)"), max_length=60)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    price_minor = models.PositiveIntegerField(_("price (minor units)"))
    occupies_capacity = models.BooleanField(
        _("takes a place"), default=True, help_text=_("Infants on a lap do not")
    )

    class Meta:
        ordering = ["listing", "price_minor"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "code"], name="listing_unit_code_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(max_age__gte=F("min_age")),
                name="listing_unit_age_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing}: {self.name_en}"

    @property
    def name(self) -> str:
        return localized(self, "name")


class PriceSchedule(models.Model):
    """A seasonal price of one unit between two dates (inclusive)."""

    unit = models.ForeignKey(
        ListingUnit, on_delete=models.CASCADE, related_name="schedules"
    )
    starts = models.DateField(_("from"))
    ends = models.DateField(_("until"))
    price_minor = models.PositiveIntegerField(_("price (minor units)"))

    class Meta:
        ordering = ["unit", "starts"]
        verbose_name = _("seasonal price")
        verbose_name_plural = _("seasonal prices")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts__lte=F("ends")), name="price_schedule_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.starts}–{self.ends}: {self.price_minor}"


def listing_photo_path(instance: ListingPhoto, filename: str) -> str:
    return f"listings/{instance.listing_id}/{uuid.uuid4().hex}.jpg"


class ListingPhoto(models.Model):
    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("image"), upload_to=listing_photo_path)
    alt_en = models.CharField(_("description (English)"), max_length=160, blank=True)
    alt_es = models.CharField(_("description (Spanish)"), max_length=160, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["listing", "position", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"{self.listing} photo {self.position}"


class Slot(models.Model):
    """Capacity of one listing on one date (stays: the night of that date) or at one
    start time (activities, departures). The single source of truth for availability.

    ``held + booked <= capacity`` is a database constraint. ``blocked`` is what external
    calendars (iCal, OCTO) take; it may push the total above capacity only when it
    arrives after we sold, and that is recorded as a ``SyncConflict``.
    """

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="slots")
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity (persons)"))
    held = models.PositiveIntegerField(_("held"), default=0)
    booked = models.PositiveIntegerField(_("booked"), default=0)
    blocked = models.PositiveIntegerField(_("blocked by other calendars"), default=0)
    closed = models.BooleanField(_("closed"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["listing", "date", "start_time"]
        verbose_name = _("availability slot")
        verbose_name_plural = _("availability slots")
        constraints = [
            models.CheckConstraint(
                condition=Q(held__gte=0, booked__gte=0, blocked__gte=0)
                & Q(capacity__gte=F("held") + F("booked")),
                name="slot_never_oversold",
            ),
            models.UniqueConstraint(
                fields=["listing", "date"],
                condition=Q(start_time__isnull=True),
                name="slot_one_per_day",
            ),
            models.UniqueConstraint(
                fields=["listing", "date", "start_time"],
                condition=Q(start_time__isnull=False),
                name="slot_one_per_start",
            ),
        ]
        indexes = [models.Index(fields=["listing", "date"])]

    def __str__(self) -> str:
        when = f"{self.date}" + (f" {self.start_time:%H:%M}" if self.start_time else "")
        return f"{self.listing} {when}"

    @property
    def free(self) -> int:
        if self.closed:
            return 0
        return max(0, self.capacity - self.held - self.booked - self.blocked)


CANCEL_REASON_MAX = 500  # characters kept of the reason given on cancel


class Booking(models.Model):
    class Status(models.TextChoices):
        ON_HOLD = "on_hold", _("On hold")
        PENDING = "pending", _("Waiting for the provider")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        REDEEMED = "redeemed", _("Redeemed")
        NO_SHOW = "no_show", _("No-show")

    class Channel(models.TextChoices):
        WEBSITE = "website", _("Website")
        AGENCY = "agency", _("Agency API")
        PROVIDER = "provider", _("Entered by the provider")

    # States whose persons occupy the slot (held or booked).
    HOLDING = (Status.ON_HOLD, Status.PENDING)
    BOOKED = (Status.CONFIRMED, Status.REDEEMED, Status.NO_SHOW)
    # States that no longer take part in the trip (nothing to pay, nothing held).
    ENDED = (Status.CANCELLED, Status.EXPIRED, Status.DECLINED)

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="bookings"
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.PROTECT, related_name="bookings"
    )
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    units = models.JSONField(
        _("units"), help_text=_('Quantities per unit code, e.g. {"adult": 2}')
    )
    persons = models.PositiveIntegerField(_("persons taking a place"))
    total_minor = models.PositiveIntegerField(_("total (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    lead_name = models.CharField(_("lead traveller"), max_length=160, blank=True)
    lead_email = models.EmailField(_("email"), blank=True)
    lead_phone = models.CharField(_("phone"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    reseller_reference = models.CharField(
        _("reseller reference"), max_length=100, blank=True
    )
    # Agency API (OCTO) bookings: who booked, the agency's net price, the OCTO contact
    # and unit items as sent, and the hash of the reserve request (the client's
    # ``uuid`` is ``Booking.uuid`` and an idempotency key: same uuid, same body).
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="bookings",
        null=True,
        blank=True,
    )
    supplier_reference = models.CharField(
        _("booking reference"), max_length=12, blank=True, db_index=True
    )
    net_minor = models.PositiveIntegerField(
        _("agency net (minor units)"), null=True, blank=True
    )
    contact = models.JSONField(_("contact (as sent)"), default=dict, blank=True)
    unit_items = models.JSONField(_("unit items (as sent)"), default=list, blank=True)
    test_mode = models.BooleanField(
        _("test booking"),
        default=False,
        editable=False,
        help_text=_(
            "Made with a sandbox key: it takes no real places, reaches no provider "
            "and shows on no manifest."
        ),
    )
    unit_prices = models.JSONField(
        _("unit prices when booked"),
        default=dict,
        blank=True,
        help_text=_(
            "Retail price of each unit code in minor units, frozen when the places "
            "were held: a later price change does not reprice the booking."
        ),
    )
    request_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(
        _("cancellation reason"), max_length=CANCEL_REASON_MAX, blank=True
    )
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    refund_minor = models.PositiveIntegerField(
        _("refund (minor units)"), null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [
            models.Index(fields=["provider", "status"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["agency", "reseller_reference"]),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} {self.listing} ({self.status})"


class SyncState(models.Model):
    """Sync status shown to the provider and to staff: last success, last error, when
    it runs next (with backoff after failures)."""

    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)

    class Meta:
        abstract = True


class CalendarFeed(SyncState):
    """An external calendar (Airbnb / Booking.com style iCal URL) that blocks dates."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="feeds")
    name = models.CharField(_("name"), max_length=80, blank=True)
    url = models.URLField(_("iCal URL"), max_length=1000)
    blocks_units = models.PositiveIntegerField(
        _("persons blocked per event"),
        null=True,
        blank=True,
        help_text=_("Empty: an event blocks the whole listing that day"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    interval_minutes = models.PositiveIntegerField(
        _("sync every (minutes)"), null=True, blank=True
    )
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    last_event_count = models.PositiveIntegerField(null=True, blank=True)
    # Set when a sync starts, cleared when it records its outcome: a sync killed on
    # the way (time limit, worker lost) leaves it set, and the dispatcher's sweep
    # records the failure (providers.sync.services.calendar_feed_sweep_stuck).
    sync_started_at = models.DateTimeField(_("syncing since"), null=True, blank=True)

    class Meta:
        ordering = ["listing", "pk"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        indexes = [models.Index(fields=["is_active", "next_run_at"])]

    def __str__(self) -> str:
        return self.name or self.url


class ExternalBlock(models.Model):
    """A date an external calendar says is taken, per feed and event."""

    feed = models.ForeignKey(
        CalendarFeed, on_delete=models.CASCADE, related_name="blocks"
    )
    date = models.DateField(_("date"))
    uid = models.CharField(_("event UID"), max_length=255)
    summary = models.CharField(_("summary"), max_length=200, blank=True)

    class Meta:
        ordering = ["feed", "date"]
        verbose_name = _("external block")
        verbose_name_plural = _("external blocks")
        constraints = [
            models.UniqueConstraint(
                fields=["feed", "date", "uid"], name="external_block_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.feed} {self.date}"


class SyncConflict(models.Model):
    """An imported block landed on a date we had already sold: both sides are kept and
    the provider and staff must resolve it."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="conflicts")
    feed = models.ForeignKey(
        CalendarFeed,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conflicts",
    )
    sold = models.PositiveIntegerField(_("persons sold"))
    blocked = models.PositiveIntegerField(_("persons blocked"))
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("sync conflict")
        verbose_name_plural = _("sync conflicts")
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "feed"],
                condition=Q(resolved_at__isnull=True),
                name="sync_conflict_one_open_per_slot_feed",
            )
        ]

    def __str__(self) -> str:
        return f"Conflict {self.slot}"


class OctoConnection(SyncState):
    """A provider's reservation system that speaks OCTO: we pull its availability."""

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="octo_connections"
    )
    name = models.CharField(_("name"), max_length=80)
    base_url = models.URLField(_("OCTO base URL"), max_length=500)
    api_key = models.CharField(_("API key"), max_length=500)
    horizon_days = models.PositiveIntegerField(_("days ahead to pull"), default=90)
    is_active = models.BooleanField(_("active"), default=True)
    products = models.JSONField(
        _("supplier's products"),
        default=list,
        blank=True,
        help_text=_("Refreshed by each sync: id, name and option ids"),
    )

    class Meta:
        ordering = ["provider", "name"]
        verbose_name = _("OCTO connection")
        verbose_name_plural = _("OCTO connections")

    def __str__(self) -> str:
        return f"{self.provider}: {self.name}"


class OctoProductLink(models.Model):
    """Which supplier product/option feeds which of our listings."""

    connection = models.ForeignKey(
        OctoConnection, on_delete=models.CASCADE, related_name="links"
    )
    listing = models.OneToOneField(
        Listing, on_delete=models.CASCADE, related_name="octo_link"
    )
    product_id = models.CharField(_("product id"), max_length=200)
    option_id = models.CharField(_("option id"), max_length=200, default="DEFAULT")
    product_name = models.CharField(
        _("supplier's product name"), max_length=200, blank=True
    )

    class Meta:
        verbose_name = _("OCTO product link")
        verbose_name_plural = _("OCTO product links")

    def __str__(self) -> str:
        return f"{self.listing} ← {self.product_id}/{self.option_id}"
