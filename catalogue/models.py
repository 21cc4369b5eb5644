"""The route catalogue: countries, places, crossings, legs and timetabled departures.

Reference data for planning and booking. Every seeded fact keeps its ``source`` and a
``verified`` flag so staff can see, and correct in the admin, what the research could
not confirm. Timetables are stored as local wall-clock times at the origin (that is
how operators publish them); every concrete instant is computed in UTC with
``zoneinfo`` (see ``catalogue.selectors``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone."), params={"value": value}
        )


class Currency(models.TextChoices):
    PEN = "PEN", _("Peruvian sol (PEN)")
    BOB = "BOB", _("Bolivian boliviano (BOB)")
    USD = "USD", _("US dollar (USD)")


# Minor units per currency (ISO 4217 exponent): all three use cents / céntimos.
CURRENCY_EXPONENT = {Currency.PEN: 2, Currency.BOB: 2, Currency.USD: 2}


def minor_to_decimal(amount_minor: int, currency: str) -> Decimal:
    """``1550, "PEN"`` → ``Decimal("15.50")``."""
    exponent = CURRENCY_EXPONENT[currency]
    return (Decimal(amount_minor) / (10**exponent)).quantize(
        Decimal(1).scaleb(-exponent)
    )


class Fact(models.Model):
    """Provenance every seeded record carries."""

    source = models.TextField(
        _("source"), help_text=_("URLs or datasets the value comes from")
    )
    verified = models.BooleanField(
        _("verified"),
        default=False,
        help_text=_(
            "False where the research flags the value unverified, old or conflicting"
        ),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True


def localized(obj: models.Model, field: str) -> str:
    """The Spanish or English variant of ``field`` for the active language."""
    lang = (get_language() or "en")[:2]
    value = getattr(obj, f"{field}_{lang}", "") if lang in ("es", "en") else ""
    return value or getattr(obj, f"{field}_en")


class Country(Fact):
    code = models.CharField(_("ISO code"), max_length=2, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    timezone = models.CharField(
        _("IANA time zone"), max_length=64, validators=[validate_timezone]
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


# Andean Community (CAN) member states: their citizens travel between members as
# tourists with their national ID card (Decision 503).
ANDEAN_COMMUNITY = ("BO", "CO", "EC", "PE")


class EntryRequirement(Fact):
    """What travellers of one nationality, or of a group of nationalities, need to
    enter a country of the route as tourists. A row for a nationality wins over its
    group's row; the ``any`` group is the rule for everyone else."""

    class Group(models.TextChoices):
        ANDEAN = "andean", _("Andean Community (Bolivia, Colombia, Ecuador, Peru)")
        ANY = "any", _("Any other nationality")

    nationality = models.CharField(
        _("nationality (ISO code)"),
        max_length=2,
        blank=True,
        help_text=_("ISO 3166-1 alpha-2, e.g. US; empty for a group's row"),
    )
    group = models.CharField(
        _("group of nationalities"), max_length=8, choices=Group.choices, blank=True
    )
    destination = models.ForeignKey(
        Country,
        on_delete=models.CASCADE,
        related_name="entry_requirements",
        verbose_name=_("destination country"),
    )
    visa_required = models.BooleanField(
        _("tourist visa required"),
        null=True,
        blank=True,
        help_text=_("Empty when it depends or the sources disagree (see the notes)"),
    )
    andean_id_accepted = models.BooleanField(
        _("national ID card accepted"),
        default=False,
        help_text=_("Andean Community citizens may enter with their national ID"),
    )
    notes_en = models.TextField(_("notes (English)"), blank=True)
    notes_es = models.TextField(_("notes (Spanish)"), blank=True)

    class Meta:
        ordering = ["destination", "group", "nationality"]
        verbose_name = _("entry requirement")
        verbose_name_plural = _("entry requirements")
        constraints = [
            models.CheckConstraint(
                condition=(Q(nationality="") & ~Q(group=""))
                | (~Q(nationality="") & Q(group="")),
                name="entry_requirement_nationality_or_group",
            ),
            models.UniqueConstraint(
                fields=["destination", "nationality", "group"],
                name="entry_requirement_unique",
            ),
        ]

    def __str__(self) -> str:
        who = self.nationality or self.get_group_display()
        return f"{who} → {self.destination.code}"

    @property
    def notes(self) -> str:
        return localized(self, "notes")


class ExchangeRate(Fact):
    """Units of ``currency`` that one US dollar buys, as set by staff on ``set_on``.

    Rows are history: a new rate is a new row, and the current rate of a currency is
    its row with the latest ``set_on`` (then the latest id). USD is the base and has
    no row; see ``catalogue.selectors.exchange_rates_current``.
    """

    currency = models.CharField(
        _("currency"),
        max_length=3,
        choices=[(c.value, c.label) for c in Currency if c != Currency.USD],
    )
    per_usd = models.DecimalField(
        _("units per US dollar"),
        max_digits=12,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("0.000001"))],
        help_text=_("How many units of the currency one US dollar buys, e.g. 6.96"),
    )
    set_on = models.DateField(
        _("set on"),
        help_text=_("The date the rate was set; the latest date is the current rate"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["currency", "-set_on", "-id"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.CheckConstraint(
                condition=Q(per_usd__gt=0), name="exchange_rate_positive"
            ),
            models.CheckConstraint(
                condition=~Q(currency=Currency.USD), name="exchange_rate_not_usd"
            ),
        ]
        indexes = [models.Index(fields=["currency", "set_on"])]

    def __str__(self) -> str:
        return f"1 USD = {self.per_usd} {self.currency} ({self.set_on:%Y-%m-%d})"


class Place(Fact):
    class Kind(models.TextChoices):
        CITY = "city", _("City")
        TOWN = "town", _("Town")
        VILLAGE = "village", _("Village")
        ISLAND = "island", _("Island")
        BORDER_POST = "border_post", _("Border post")
        SITE = "site", _("Site")
        AIRPORT = "airport", _("Airport")
        PORT = "port", _("Port")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_es = models.CharField(_("name (Spanish)"), max_length=120)
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="places"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    altitude_m = models.IntegerField(
        _("altitude (m)"),
        validators=[MinValueValidator(-500), MaxValueValidator(9000)],
        help_text=_("The altitude planning uses (sleeping altitude for towns)"),
    )
    altitude_note = models.TextField(_("altitude note"), blank=True)
    # Isla del Sol's north: closed 2017–2019 by a conflict between communities,
    # volatile since. Plans go there only when the traveller asks, with a warning.
    access_confirm = models.BooleanField(
        _("access to confirm locally"),
        default=False,
        help_text=_(
            "Access changes with local agreements: plans go here only when the "
            "traveller asks for something here, and warn them to confirm it."
        ),
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="place_coordinates_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return self.country.zone


class Crossing(Fact):
    """A border crossing between Peru and Bolivia, or a water crossing (Tiquina)."""

    class Kind(models.TextChoices):
        BORDER = "border", _("Border crossing")
        STRAIT = "strait", _("Strait crossing")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISRUPTED = "disrupted", _("Disrupted")
        CLOSED = "closed", _("Closed")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_es = models.CharField(_("name (Spanish)"), max_length=120)
    side_a = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("side A")
    )
    side_b = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("side B")
    )
    typical_minutes = models.PositiveSmallIntegerField(_("typical crossing minutes"))
    documents_note_en = models.TextField(_("documents (English)"), blank=True)
    documents_note_es = models.TextField(_("documents (Spanish)"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    status_note = models.TextField(_("status note"), blank=True)
    status_since = models.DateTimeField(_("status since"), default=timezone.now)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("crossing")
        verbose_name_plural = _("crossings")
        constraints = [
            models.CheckConstraint(
                condition=~Q(side_a=F("side_b")), name="crossing_sides_differ"
            )
        ]

    def __str__(self) -> str:
        return self.name_en

    def clean(self) -> None:
        if self.pk is None:
            return
        sides = {self.side_a_id, self.side_b_id}
        stranded = [
            leg.slug
            for leg in self.legs.exclude(crossing_first_side__in=sides).only("slug")
        ]
        if stranded:
            raise ValidationError(
                _(
                    "These legs reach a post that would no longer be a side of this "
                    "crossing: %(legs)s. Change the post they reach first before "
                    "changing the sides."
                )
                % {"legs": ", ".join(stranded)}
            )

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def documents_note(self) -> str:
        return localized(self, "documents_note")


class CrossingHours(Fact):
    """Opening hours of one side of a crossing, in that side's local time."""

    class Side(models.TextChoices):
        A = "a", _("Side A")
        B = "b", _("Side B")

    crossing = models.ForeignKey(
        Crossing, on_delete=models.CASCADE, related_name="hours"
    )
    side = models.CharField(_("side"), max_length=1, choices=Side.choices)
    opens = models.TimeField(_("opens (local time)"))
    closes = models.TimeField(_("closes (local time)"))

    class Meta:
        ordering = ["crossing", "side"]
        verbose_name = _("crossing hours")
        verbose_name_plural = _("crossing hours")
        constraints = [
            models.UniqueConstraint(
                fields=["crossing", "side"], name="crossing_hours_one_per_side"
            ),
            models.CheckConstraint(
                condition=Q(opens__lt=F("closes")), name="crossing_hours_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crossing} ({self.side}) {self.opens:%H:%M}–{self.closes:%H:%M}"

    @property
    def place(self) -> Place:
        return (
            self.crossing.side_a if self.side == self.Side.A else self.crossing.side_b
        )

    def is_open_at(self, instant: dt.datetime) -> bool:
        """Whether this side is open at an aware instant, read in the side's zone."""
        local = instant.astimezone(self.place.zone).time()
        return self.opens <= local <= self.closes


class RouteLeg(Fact):
    class Mode(models.TextChoices):
        BUS = "bus", _("Bus")
        TOURIST_BUS = "tourist_bus", _("Tourist bus")
        TRAIN = "train", _("Train")
        BOAT = "boat", _("Boat")
        FERRY = "ferry", _("Ferry / launch")
        MINIVAN = "minivan", _("Minivan")
        FLIGHT = "flight", _("Flight")
        WALK = "walk", _("On foot")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    origin = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="legs_out")
    destination = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="legs_in"
    )
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    distance_km = models.PositiveIntegerField(_("distance (km)"), null=True, blank=True)
    duration_min = models.PositiveIntegerField(
        _("typical duration (min)"),
        help_text=_("Elapsed minutes, not a clock difference"),
    )
    crossing = models.ForeignKey(
        Crossing, on_delete=models.PROTECT, null=True, blank=True, related_name="legs"
    )
    crossing_offset_min = models.PositiveIntegerField(
        _("minutes to the crossing"),
        null=True,
        blank=True,
        help_text=_(
            "Elapsed minutes from departure until the vehicle reaches the crossing"
        ),
    )
    crossing_first_side = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("post reached first"),
        help_text=_(
            "The side of the crossing this leg reaches first (one of its two sides); "
            "the clocks change from its zone to the other side's"
        ),
    )
    stops = models.JSONField(
        _("stops on the way"),
        default=list,
        blank=True,
        help_text=_(
            'Stops the vehicle makes to visit sights, in order: [{"place": slug, '
            '"after_min": minutes from departure, "minutes": length of the stop, '
            '"sights": [sight slugs], "fee_included": true if the fare pays the '
            "entries}]"
        ),
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("route leg")
        verbose_name_plural = _("route legs")
        constraints = [
            models.CheckConstraint(
                condition=~Q(origin=F("destination")),
                name="leg_origin_differs_destination",
            ),
            models.CheckConstraint(
                condition=Q(crossing__isnull=True, crossing_offset_min__isnull=True)
                | Q(crossing__isnull=False, crossing_offset_min__isnull=False),
                name="leg_crossing_with_offset",
            ),
            models.CheckConstraint(
                condition=Q(duration_min__gt=0), name="leg_duration_positive"
            ),
            models.CheckConstraint(
                condition=Q(crossing__isnull=True, crossing_first_side__isnull=True)
                | Q(crossing__isnull=False, crossing_first_side__isnull=False),
                name="leg_crossing_with_first_side",
            ),
        ]
        indexes = [models.Index(fields=["origin", "destination"])]

    def __str__(self) -> str:
        return f"{self.origin} → {self.destination} ({self.get_mode_display()})"

    def clean(self) -> None:
        """The first post is one of the crossing's sides, and a leg between the two
        countries (flights aside) passes a border crossing, so its posts' hours are
        checked; stops are in order inside the ride, at known places and sights."""
        errors: dict[str, str] = {}
        problem = stops_problem(self.stops, self.duration_min)
        if problem:
            errors["stops"] = problem
        crossing = self.crossing if self.crossing_id else None
        if crossing is not None:
            if self.crossing_first_side_id is None:
                errors["crossing_first_side"] = _(
                    "Choose which side of the crossing this leg reaches first."
                )
            elif self.crossing_first_side_id not in (
                crossing.side_a_id,
                crossing.side_b_id,
            ):
                errors["crossing_first_side"] = _(
                    "The post reached first must be one of the crossing's two sides."
                )
        elif self.crossing_first_side_id is not None:
            errors["crossing_first_side"] = _(
                "A leg without a crossing has no post reached first."
            )
        if (
            self.mode != self.Mode.FLIGHT
            and self.origin_id
            and self.destination_id
            and self.origin.country_id != self.destination.country_id
            and (crossing is None or crossing.kind != Crossing.Kind.BORDER)
        ):
            errors["crossing"] = _(
                "A leg between two countries must pass a border crossing."
            )
        if errors:
            raise ValidationError(errors)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def stops_problem(stops, duration_min: int | None) -> str:
    """What is wrong with a leg's stops, or "" (places and sights must exist)."""
    if not isinstance(stops, list):
        return str(_("Stops are a list."))
    previous = 0
    for index, stop in enumerate(stops, start=1):
        if not isinstance(stop, dict) or not {"place", "after_min", "minutes"} <= set(
            stop
        ):
            return str(
                _("Stop %(n)s needs place, after_min and minutes.") % {"n": index}
            )
        after, minutes = stop["after_min"], stop["minutes"]
        if not (isinstance(after, int) and isinstance(minutes, int)) or minutes <= 0:
            return str(_("Stop %(n)s: whole minutes, a stop > 0.") % {"n": index})
        if after < previous or (duration_min and after + minutes >= duration_min):
            return str(
                _("Stop %(n)s is out of order or outside the ride.") % {"n": index}
            )
        previous = after + minutes
        if not Place.objects.filter(slug=stop["place"]).exists():
            return str(_("Stop %(n)s: unknown place.") % {"n": index})
        sights = stop.get("sights", [])
        if not isinstance(sights, list) or Sight.objects.filter(
            slug__in=sights
        ).count() != len(set(sights)):
            return str(_("Stop %(n)s: unknown sight.") % {"n": index})
    return ""


class Departure(Fact):
    """A timetabled service on a leg: days of week, seasons, local time, price, seats.

    A frequent service (launches, minibuses that leave when full) is one row with
    ``every_min`` and ``last_departure_time``.
    """

    leg = models.ForeignKey(
        RouteLeg, on_delete=models.CASCADE, related_name="departures"
    )
    code = models.SlugField(
        _("code"), max_length=40, help_text=_("Stable id within the leg")
    )
    operator = models.CharField(_("operator"), max_length=120)
    departure_time = models.TimeField(_("departure (local time at origin)"))
    duration_min = models.PositiveIntegerField(_("duration (elapsed minutes)"))
    mon = models.BooleanField(_("Mon"), default=True)
    tue = models.BooleanField(_("Tue"), default=True)
    wed = models.BooleanField(_("Wed"), default=True)
    thu = models.BooleanField(_("Thu"), default=True)
    fri = models.BooleanField(_("Fri"), default=True)
    sat = models.BooleanField(_("Sat"), default=True)
    sun = models.BooleanField(_("Sun"), default=True)
    season_start = models.CharField(
        _("season start (MM-DD)"),
        max_length=5,
        blank=True,
        help_text=_("Every year; may wrap"),
    )
    season_end = models.CharField(_("season end (MM-DD)"), max_length=5, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    price_minor = models.PositiveIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    seats = models.PositiveSmallIntegerField(_("seats"))
    every_min = models.PositiveSmallIntegerField(
        _("repeats every (min)"), null=True, blank=True
    )
    last_departure_time = models.TimeField(_("last departure"), null=True, blank=True)

    class Meta:
        ordering = ["leg", "departure_time", "code"]
        verbose_name = _("departure")
        verbose_name_plural = _("departures")
        constraints = [
            models.UniqueConstraint(
                fields=["leg", "code"], name="departure_code_unique_per_leg"
            ),
            models.CheckConstraint(
                condition=Q(every_min__isnull=True, last_departure_time__isnull=True)
                | Q(
                    every_min__gt=0,
                    last_departure_time__isnull=False,
                    last_departure_time__gte=F("departure_time"),
                ),
                name="departure_frequency_complete",
            ),
            models.CheckConstraint(
                condition=Q(season_start="", season_end="")
                | (~Q(season_start="") & ~Q(season_end="")),
                name="departure_season_complete",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lte=F("valid_until")),
                name="departure_validity_ordered",
            ),
            models.CheckConstraint(
                condition=Q(duration_min__gt=0), name="departure_duration_positive"
            ),
            models.CheckConstraint(
                condition=Q(seats__gt=0), name="departure_seats_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.leg} {self.departure_time:%H:%M} {self.operator}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for field in ("season_start", "season_end"):
            value = getattr(self, field)
            if value and parse_month_day(value) is None:
                errors[field] = _("Use MM-DD, e.g. 04-01.")
        if not any(getattr(self, day) for day in WEEKDAYS):
            errors["mon"] = _("Choose at least one day of the week.")
        if errors:
            raise ValidationError(errors)

    @property
    def weekdays(self) -> list[str]:
        return [day for day in WEEKDAYS if getattr(self, day)]

    def runs_on(self, day: dt.date) -> bool:
        """Whether this service leaves on ``day`` (a local date at the origin)."""
        if not getattr(self, WEEKDAYS[day.weekday()]):
            return False
        if self.valid_from and day < self.valid_from:
            return False
        if self.valid_until and day > self.valid_until:
            return False
        return in_annual_season(day, self.season_start, self.season_end)
        return True

    def local_times(self) -> list[dt.time]:
        """Every departure time of the day (one unless the service repeats)."""
        if not self.every_min or not self.last_departure_time:
            return [self.departure_time]
        times: list[dt.time] = []
        minute = self.departure_time.hour * 60 + self.departure_time.minute
        last = self.last_departure_time.hour * 60 + self.last_departure_time.minute
        while minute <= last:
            times.append(dt.time(minute // 60, minute % 60))
            minute += self.every_min
        return times


def in_annual_season(day: dt.date, start: str, end: str) -> bool:
    """Whether ``day`` falls in the yearly season ``start``..``end`` (MM-DD, both
    included, may wrap New Year). No season (both empty) means all year; a malformed
    one means never."""
    if not start and not end:
        return True
    first, last = parse_month_day(start), parse_month_day(end)
    if first is None or last is None:
        return False
    key = (day.month, day.day)
    return first <= key <= last if first <= last else key >= first or key <= last


def parse_month_day(value: str) -> tuple[int, int] | None:
    """``"04-01"`` → ``(4, 1)``; None when malformed (29 February allowed)."""
    try:
        month, day = (int(part) for part in value.split("-"))
        dt.date(2000, month, day)  # a leap year accepts 02-29
    except (ValueError, TypeError):
        return None
    return month, day


class SightTag(models.TextChoices):
    """What a sight offers (the interest tags of route-facts-2 §1)."""

    CULTURE = "culture", _("Culture")
    ARCHAEOLOGY = "archaeology", _("Archaeology")
    LAKE = "lake", _("The lake")
    NATURE = "nature", _("Nature and landscape")
    HIKING = "hiking", _("Hiking")
    FOOD = "food", _("Food and cooking")
    TEXTILES = "textiles", _("Weaving and textiles")
    MARKETS = "markets", _("Markets")
    VIEWPOINTS = "viewpoints", _("Viewpoints")
    FESTIVALS = "festivals", _("Music and festivals")


class Sight(Fact):
    """A public point of interest an agency itinerary includes (a plaza, a church, an
    archaeological site, a market, a viewpoint), visited at a place of the route.

    Opening hours are child rows (:class:`SightHours`) in the place's local time. A
    sight open at all hours (plazas, streets, viewpoints) has ``always_open`` and no
    rows; one whose hours the research did not find has ``hours_known=False`` and
    placeholder daytime rows (the note says so).
    """

    class Effort(models.TextChoices):
        EASY = "easy", _("Easy")
        MODERATE = "moderate", _("Moderate")
        STRENUOUS = "strenuous", _("Strenuous")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    route_facts_id = models.CharField(
        _("route-facts id"),
        max_length=64,
        blank=True,
        help_text=_("The id of the row in the research brief (route-facts-2 §1)"),
    )
    place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        related_name="sights",
        verbose_name=_("place"),
        help_text=_("The town or site the sight is visited at"),
    )
    name_en = models.CharField(_("name (English)"), max_length=160)
    name_es = models.CharField(_("name (Spanish)"), max_length=160)
    description_en = models.TextField(_("description (English)"))
    description_es = models.TextField(_("description (Spanish)"))
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    altitude_m = models.IntegerField(
        _("altitude (m)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-500), MaxValueValidator(9000)],
    )
    visit_min = models.PositiveIntegerField(
        _("typical visit (minutes)"),
        help_text=_("Minutes on site, without the ride there and back"),
    )
    always_open = models.BooleanField(
        _("open at all hours"),
        default=False,
        help_text=_("Plazas, streets, viewpoints: no opening hours rows"),
    )
    hours_known = models.BooleanField(
        _("opening hours known"),
        default=True,
        help_text=_("False: the hours rows are a daytime placeholder, not a source"),
    )
    fee_minor = models.PositiveIntegerField(
        _("fee (minor units)"),
        null=True,
        blank=True,
        help_text=_("Per foreign adult; 0 = free; empty when the fee is not known"),
    )
    fee_currency = models.CharField(
        _("fee currency"), max_length=3, choices=Currency.choices
    )
    fee_year = models.PositiveSmallIntegerField(
        _("fee year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1990), MaxValueValidator(2100)],
        help_text=_("The year of the source that gives the fee"),
    )
    fee_ticket = models.SlugField(
        _("shared ticket"),
        max_length=40,
        blank=True,
        help_text=_(
            "Sights with the same ticket share one fee (e.g. a circuit of the Cusco "
            "tourist ticket): it is paid once"
        ),
    )
    fee_note = models.TextField(_("fee note"), blank=True)
    tags = models.JSONField(_("interest tags"), default=list, blank=True)
    effort = models.CharField(_("effort"), max_length=10, choices=Effort.choices)
    confirm_locally = models.BooleanField(
        _("confirm locally"),
        default=False,
        help_text=_("Access is volatile or must be arranged: confirm on the spot"),
    )
    min_nights_at_altitude = models.PositiveSmallIntegerField(
        _("nights at altitude first"),
        default=0,
        validators=[MaxValueValidator(14)],
        help_text=_(
            "Nights to spend at the route's sleeping altitude (~3,600 m or more) "
            "before this visit; 0 for none"
        ),
    )

    class Meta:
        ordering = ["place", "slug"]
        verbose_name = _("sight")
        verbose_name_plural = _("sights")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="sight_coordinates_both_in_range",
            ),
            models.CheckConstraint(
                condition=Q(visit_min__gt=0), name="sight_visit_positive"
            ),
            models.CheckConstraint(
                condition=~Q(always_open=True, hours_known=False),
                name="sight_always_open_is_known",
            ),
            models.CheckConstraint(
                condition=Q(fee_year__isnull=True)
                | Q(fee_year__gte=1990, fee_year__lte=2100),
                name="sight_fee_year_in_range",
            ),
            models.CheckConstraint(
                condition=Q(min_nights_at_altitude__lte=14),
                name="sight_min_nights_small",
            ),
        ]

    def __str__(self) -> str:
        return self.name_en

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = _(
                "Give both coordinates or neither."
            )
        tags = self.tags
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            errors["tags"] = _("Tags are a list of words.")
        else:
            unknown = sorted(set(tags) - set(SightTag.values))
            if unknown:
                errors["tags"] = _("Unknown tag(s): %(tags)s. Use: %(known)s.") % {
                    "tags": ", ".join(unknown),
                    "known": ", ".join(SightTag.values),
                }
            elif len(set(tags)) != len(tags):
                errors["tags"] = _("A tag is listed twice.")
        if self.always_open and not self.hours_known:
            errors["hours_known"] = _(
                "A sight open at all hours cannot have unknown hours."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return self.place.zone

    def windows_on(self, day: dt.date) -> list[tuple[dt.time, dt.time]]:
        """The local opening windows on ``day`` (a local date at the place), in
        order; the whole day when always open, none when closed that day."""
        if self.always_open:
            return [(dt.time(0, 0), dt.time(23, 59))]
        weekday = WEEKDAYS[day.weekday()]
        return sorted(
            (hours.opens, hours.closes)
            for hours in self.hours.all()
            if getattr(hours, weekday)
        )


class DaysOfWeek(models.Model):
    """The seven day flags, as a timetabled Departure stores them."""

    mon = models.BooleanField(_("Mon"), default=True)
    tue = models.BooleanField(_("Tue"), default=True)
    wed = models.BooleanField(_("Wed"), default=True)
    thu = models.BooleanField(_("Thu"), default=True)
    fri = models.BooleanField(_("Fri"), default=True)
    sat = models.BooleanField(_("Sat"), default=True)
    sun = models.BooleanField(_("Sun"), default=True)

    class Meta:
        abstract = True

    @property
    def weekdays(self) -> list[str]:
        return [day for day in WEEKDAYS if getattr(self, day)]


class SightHours(DaysOfWeek):
    """One opening window of a sight on some days of the week, in local time at the
    sight's place (several rows for a midday break or other hours on Sundays)."""

    sight = models.ForeignKey(
        Sight, on_delete=models.CASCADE, related_name="hours", verbose_name=_("sight")
    )
    opens = models.TimeField(_("opens (local time)"))
    closes = models.TimeField(_("closes (local time)"))

    class Meta:
        ordering = ["sight", "opens", "id"]
        verbose_name = _("sight opening hours")
        verbose_name_plural = _("sight opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__lt=F("closes")), name="sight_hours_ordered"
            ),
            models.CheckConstraint(
                condition=Q(mon=True)
                | Q(tue=True)
                | Q(wed=True)
                | Q(thu=True)
                | Q(fri=True)
                | Q(sat=True)
                | Q(sun=True),
                name="sight_hours_some_day",
            ),
        ]

    def __str__(self) -> str:
        days = ", ".join(self.weekdays)
        return f"{self.sight} {days} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not any(getattr(self, day) for day in WEEKDAYS):
            errors["mon"] = _("Choose at least one day of the week.")
        if self.opens and self.closes and self.opens >= self.closes:
            errors["closes"] = _("Closing time must be after opening time.")
        if errors:
            raise ValidationError(errors)


class Transfer(Fact):
    """A door-to-door way between two places of the route that is not a timetabled
    departure: a combi that leaves when full, a taxi, a day-trip tour, a walk.

    One row per direction. ``minutes`` is the typical one-way time (``minutes_max``
    the slow end of the range); the price is per person or per vehicle of
    ``vehicle_seats``; ``service_from``–``service_until`` is the local window (at the
    origin) in which it can be taken, empty for any time. Transfers stay inside one
    country: the border is crossed on route legs through a crossing, whose posts'
    hours are checked.
    """

    class Mode(models.TextChoices):
        COMBI = "combi", _("Combi (minibus)")
        BUS = "bus", _("Public bus")
        COLECTIVO = "colectivo", _("Colectivo (shared car)")
        TAXI = "taxi", _("Taxi")
        PRIVATE = "private", _("Private transfer")
        TOUR = "tour", _("Group tour")
        BOAT = "boat", _("Boat")
        WALK = "walk", _("On foot")
        CABLE_CAR = "cable_car", _("Cable car (teleférico)")

    class PricePer(models.TextChoices):
        PERSON = "person", _("per person")
        VEHICLE = "vehicle", _("per vehicle")

    class Frequency(models.TextChoices):
        ON_DEMAND = "on_demand", _("On demand")
        FREQUENT = "frequent", _("Frequent")
        WHEN_FULL = "when_full", _("When full")
        FIXED_TIMES = "fixed_times", _("Fixed times")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    origin = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        related_name="transfers_out",
        verbose_name=_("from"),
    )
    destination = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        related_name="transfers_in",
        verbose_name=_("to"),
    )
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    minutes = models.PositiveIntegerField(
        _("typical minutes"), help_text=_("One way, door to door")
    )
    minutes_max = models.PositiveIntegerField(
        _("longest minutes"), null=True, blank=True
    )
    price_minor = models.PositiveIntegerField(
        _("price (minor units)"), help_text=_("0 = free")
    )
    price_max_minor = models.PositiveIntegerField(
        _("highest price (minor units)"), null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    price_per = models.CharField(
        _("price per"),
        max_length=8,
        choices=PricePer.choices,
        default=PricePer.PERSON,
    )
    vehicle_seats = models.PositiveSmallIntegerField(
        _("seats per vehicle"),
        null=True,
        blank=True,
        help_text=_(
            "Passengers one vehicle takes; needed when the price is per vehicle"
        ),
    )
    price_year = models.PositiveSmallIntegerField(
        _("price year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1990), MaxValueValidator(2100)],
        help_text=_("The year of the source that gives the price; empty for estimates"),
    )
    service_from = models.TimeField(
        _("first possible start (local time)"), null=True, blank=True
    )
    service_until = models.TimeField(
        _("last possible start (local time)"), null=True, blank=True
    )
    frequency = models.CharField(
        _("frequency"), max_length=12, choices=Frequency.choices
    )
    confirm_locally = models.BooleanField(
        _("confirm locally"),
        default=False,
        help_text=_("Access is volatile or must be arranged: confirm on the spot"),
    )

    class Meta:
        ordering = ["origin", "destination", "minutes", "slug"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(
                condition=~Q(origin=F("destination")),
                name="transfer_origin_differs_destination",
            ),
            models.CheckConstraint(
                condition=Q(minutes__gt=0), name="transfer_minutes_positive"
            ),
            models.CheckConstraint(
                condition=Q(minutes_max__isnull=True)
                | Q(minutes_max__gte=F("minutes")),
                name="transfer_minutes_max_not_below",
            ),
            models.CheckConstraint(
                condition=Q(price_max_minor__isnull=True)
                | Q(price_max_minor__gte=F("price_minor")),
                name="transfer_price_max_not_below",
            ),
            models.CheckConstraint(
                condition=Q(price_per="person", vehicle_seats__isnull=True)
                | Q(
                    price_per="vehicle",
                    vehicle_seats__isnull=False,
                    vehicle_seats__gt=0,
                ),
                name="transfer_vehicle_price_with_seats",
            ),
            models.CheckConstraint(
                condition=Q(service_from__isnull=True, service_until__isnull=True)
                | Q(
                    service_from__isnull=False,
                    service_until__isnull=False,
                    service_from__lte=F("service_until"),
                ),
                name="transfer_service_window",
            ),
            models.CheckConstraint(
                condition=Q(price_year__isnull=True)
                | Q(price_year__gte=1990, price_year__lte=2100),
                name="transfer_price_year_in_range",
            ),
        ]
        indexes = [models.Index(fields=["origin", "destination"])]

    def __str__(self) -> str:
        return f"{self.origin} → {self.destination} ({self.get_mode_display()})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.origin_id
            and self.destination_id
            and self.origin.country_id != self.destination.country_id
        ):
            errors["destination"] = _(
                "A transfer stays in one country: cross the border on a route leg "
                "through a crossing."
            )
        if self.price_per == self.PricePer.VEHICLE and not self.vehicle_seats:
            errors["vehicle_seats"] = _(
                "Give the seats of a vehicle priced per vehicle."
            )
        if self.price_per == self.PricePer.PERSON and self.vehicle_seats:
            errors["vehicle_seats"] = _("Seats go with a price per vehicle only.")
        if (self.service_from is None) != (self.service_until is None):
            errors["service_until"] = _("Give both ends of the service window or none.")
        elif self.service_from and self.service_until < self.service_from:
            errors["service_until"] = _("The window must end after it starts.")
        if (
            self.minutes_max is not None
            and self.minutes
            and self.minutes_max < self.minutes
        ):
            errors["minutes_max"] = _(
                "The longest time cannot be below the typical one."
            )
        if self.price_max_minor is not None and self.price_max_minor < self.price_minor:
            errors["price_max_minor"] = _(
                "The highest price cannot be below the price."
            )
        if errors:
            raise ValidationError(errors)

    def price_for(self, persons: int) -> int:
        """The price in minor units for a party of ``persons`` (whole vehicles for a
        price per vehicle)."""
        if persons < 1:
            raise ValueError("persons must be at least 1")
        if self.price_per == self.PricePer.VEHICLE:
            vehicles = -(-persons // (self.vehicle_seats or 1))
            return self.price_minor * vehicles
        return self.price_minor * persons

    def can_start_at(self, local: dt.time) -> bool:
        """Whether it can be taken at ``local`` (wall-clock time at the origin)."""
        if self.service_from is None or self.service_until is None:
            return True
        return self.service_from <= local <= self.service_until


class CatalogueAudit(models.Model):
    """A periodic data-quality report for staff (timetables go out of date fast)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    findings = models.JSONField(_("findings"), default=list)
    unverified_counts = models.JSONField(_("unverified facts per kind"), default=dict)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("catalogue audit")
        verbose_name_plural = _("catalogue audits")

    def __str__(self) -> str:
        return f"Audit {self.created_at:%Y-%m-%d %H:%M} ({len(self.findings)} findings)"
