"""The plan form. It only collects and types the fields; the rules are the API's
(``itineraries.apis.PlanRequestSerializer``), whose errors are put back beside the
form's fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalogue.models import Currency, Place
from itineraries.apis import PlanRequestSerializer, request_data
from itineraries.planning.world import HUBS, Pace
from providers.models import InterestTag, Listing
from providers.selectors import listing_list_bookable
from web.selectors import language

# ISO 3166-1 alpha-2, English and Spanish names: the route's neighbours and the
# countries most travellers come from. Any other code can still be used by the API.
COUNTRIES = (
    ("AR", "Argentina", "Argentina"),
    ("AU", "Australia", "Australia"),
    ("AT", "Austria", "Austria"),
    ("BE", "Belgium", "Bélgica"),
    ("BO", "Bolivia", "Bolivia"),
    ("BR", "Brazil", "Brasil"),
    ("BG", "Bulgaria", "Bulgaria"),
    ("CA", "Canada", "Canadá"),
    ("CL", "Chile", "Chile"),
    ("CN", "China", "China"),
    ("CO", "Colombia", "Colombia"),
    ("CR", "Costa Rica", "Costa Rica"),
    ("HR", "Croatia", "Croacia"),
    ("CU", "Cuba", "Cuba"),
    ("CZ", "Czechia", "Chequia"),
    ("DK", "Denmark", "Dinamarca"),
    ("DO", "Dominican Republic", "República Dominicana"),
    ("EC", "Ecuador", "Ecuador"),
    ("EE", "Estonia", "Estonia"),
    ("FI", "Finland", "Finlandia"),
    ("FR", "France", "Francia"),
    ("DE", "Germany", "Alemania"),
    ("GR", "Greece", "Grecia"),
    ("GT", "Guatemala", "Guatemala"),
    ("HU", "Hungary", "Hungría"),
    ("IN", "India", "India"),
    ("ID", "Indonesia", "Indonesia"),
    ("IE", "Ireland", "Irlanda"),
    ("IL", "Israel", "Israel"),
    ("IT", "Italy", "Italia"),
    ("JP", "Japan", "Japón"),
    ("KR", "South Korea", "Corea del Sur"),
    ("LV", "Latvia", "Letonia"),
    ("LT", "Lithuania", "Lituania"),
    ("MT", "Malta", "Malta"),
    ("MX", "Mexico", "México"),
    ("NL", "Netherlands", "Países Bajos"),
    ("NZ", "New Zealand", "Nueva Zelanda"),
    ("NO", "Norway", "Noruega"),
    ("PA", "Panama", "Panamá"),
    ("PY", "Paraguay", "Paraguay"),
    ("PE", "Peru", "Perú"),
    ("PH", "Philippines", "Filipinas"),
    ("PL", "Poland", "Polonia"),
    ("PT", "Portugal", "Portugal"),
    ("RO", "Romania", "Rumania"),
    ("RU", "Russia", "Rusia"),
    ("SG", "Singapore", "Singapur"),
    ("ZA", "South Africa", "Sudáfrica"),
    ("ES", "Spain", "España"),
    ("SE", "Sweden", "Suecia"),
    ("CH", "Switzerland", "Suiza"),
    ("TW", "Taiwan", "Taiwán"),
    ("AE", "United Arab Emirates", "Emiratos Árabes Unidos"),
    ("GB", "United Kingdom", "Reino Unido"),
    ("US", "United States", "Estados Unidos"),
    ("UY", "Uruguay", "Uruguay"),
    ("VE", "Venezuela", "Venezuela"),
)

PACE_LABELS = {
    Pace.RELAXED: _("Relaxed"),
    Pace.NORMAL: _("Normal"),
    Pace.PACKED: _("Packed"),
}
INTEREST_CHOICES = [(str(n), str(n)) for n in range(6)]

# Where each serializer error goes in the form (the rest go above the form).
ERROR_FIELDS = {
    "origin": "origin",
    "destination": "destination",
    "start_date": "start_date",
    "days": "days",
    "adults": "adults",
    "children": "children",
    "nationality": "nationality",
    "arrival": "arrival",
    "pace": "pace",
    "include": "include",
    "exclude": "include",
}


def _messages(detail: Any) -> list[str]:
    """Every message of a (nested) DRF error detail."""
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _messages(value)]
    return [str(detail)]


def _number(field: str, **attrs: Any) -> forms.NumberInput:
    """A number input carrying the API's limits as HTML5 attributes."""
    rule = PlanRequestSerializer().fields[field]
    limits = {"min": rule.min_value, "max": rule.max_value}
    return forms.NumberInput(
        attrs={k: v for k, v in limits.items() if v is not None} | attrs
    )


class PlanForm(forms.Form):
    origin = forms.ChoiceField(label=_("From"))
    destination = forms.ChoiceField(label=_("To"))
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    days = forms.IntegerField(label=_("Days"), widget=_number("days"))
    adults = forms.IntegerField(label=_("Adults"), initial=2, widget=_number("adults"))
    children = forms.IntegerField(
        label=_("Children"), initial=0, required=False, widget=_number("children")
    )
    nationality = forms.ChoiceField(label=_("Nationality"))
    arrival = forms.ChoiceField(
        label=_("Arrival"),
        choices=list(PlanRequestSerializer().fields["arrival"].choices.items()),
        initial="overland",
        widget=forms.RadioSelect,
    )
    budget_amount = forms.DecimalField(
        label=_("Budget for the whole party"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "step": "0.01"}),
    )
    budget_currency = forms.ChoiceField(
        label=_("Budget currency"), choices=Currency.choices, initial=Currency.PEN
    )
    pace = forms.ChoiceField(
        label=_("Pace"),
        choices=[(p, PACE_LABELS[p]) for p in Pace.CHOICES],
        initial=Pace.NORMAL,
        widget=forms.RadioSelect,
    )
    include = forms.TypedMultipleChoiceField(
        label=_("Must-see experiences and stays"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lang = language()
        hubs = {p.slug: p for p in Place.objects.filter(slug__in=HUBS)}
        hub_choices = [(slug, hubs[slug].name) for slug in HUBS if slug in hubs]
        self.fields["origin"].choices = hub_choices
        self.fields["destination"].choices = hub_choices
        if hub_choices:
            self.fields["origin"].initial = hub_choices[0][0]
            self.fields["destination"].initial = hub_choices[-1][0]
        countries = sorted(
            ((code, es if lang == "es" else en) for code, en, es in COUNTRIES),
            key=lambda c: c[1],
        )
        self.fields["nationality"].choices = [("", "—"), *countries]
        groups: dict[str, list[tuple[int, str]]] = {}
        for listing in (
            listing_list_bookable()
            .filter(kind__in=[Listing.Kind.ACTIVITY, Listing.Kind.STAY])
            .order_by("place__slug", "title_en")
        ):
            title = (listing.title_es if lang == "es" else "") or listing.title_en
            groups.setdefault(listing.place.name, []).append(
                (listing.pk, f"{title} ({listing.provider.name})")
            )
        self.fields["include"].choices = list(groups.items())
        for tag in InterestTag:
            self.fields[f"interest_{tag.value}"] = forms.TypedChoiceField(
                label=tag.label,
                choices=INTEREST_CHOICES,
                coerce=int,
                initial="0",
                required=False,
            )
        self.payload: dict[str, Any] | None = None

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"id_{name}_error"}
                )

    def interest_fields(self) -> list[forms.BoundField]:
        return [self[f"interest_{tag.value}"] for tag in InterestTag]

    def clean(self) -> dict[str, Any]:
        """Type the fields, then let the API's serializer judge the request; its
        errors go beside the fields (fields already wrong keep their own error)."""
        cleaned = super().clean()
        amount = cleaned.get("budget_amount")
        start = cleaned.get("start_date")
        payload = {
            "origin": cleaned.get("origin"),
            "destination": cleaned.get("destination"),
            "start_date": start.isoformat() if start else None,
            "days": cleaned.get("days"),
            "adults": cleaned.get("adults"),
            "children": cleaned.get("children") or 0,
            "nationality": cleaned.get("nationality"),
            "arrival": cleaned.get("arrival"),
            "budget": (
                {"amount": str(amount), "currency": cleaned.get("budget_currency")}
                if amount is not None
                else None
            ),
            "interests": {
                tag.value: cleaned[f"interest_{tag.value}"]
                for tag in InterestTag
                if cleaned.get(f"interest_{tag.value}")
            },
            "pace": cleaned.get("pace"),
            "include": cleaned.get("include") or [],
        }
        payload = {k: v for k, v in payload.items() if v is not None or k == "budget"}
        serializer = PlanRequestSerializer(data=payload)
        if serializer.is_valid():
            if not self.errors:
                self.payload = request_data(serializer.validated_data)
            return cleaned
        wrong = set(self.errors)
        for key, detail in serializer.errors.items():
            if key == "budget":
                parts = detail if isinstance(detail, dict) else {"amount": detail}
                for sub, messages in parts.items():
                    target = "budget_currency" if sub == "currency" else "budget_amount"
                    if target not in wrong:
                        for message in _messages(messages):
                            self.add_error(target, message)
                continue
            target = ERROR_FIELDS.get(key)
            if target in wrong:
                continue
            for message in _messages(detail):
                self.add_error(target, message)
        return cleaned
