"""The staff dashboard: bookings and spend per month by country, community, provider,
value chain and border crossing, with bar charts and a CSV export per table.

Staff only (``is_staff``, with the admin's second factor when needed:
``tourism.admin_site.staff_required``): others are sent to the admin login page."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalogue.models import CURRENCY_EXPONENT, Country
from tourism.admin_site import staff_required
from web import staff_selectors as sel

MAX_MONTHS = 36
CHART_WIDTH = 640
BAR_HEIGHT = 22
LABEL_WIDTH = 220


def _titles() -> dict[str, str]:
    return {
        "country": _("By country"),
        "community": _("Community-run or not"),
        "provider": _("By provider"),
        "value_chain": _("By value chain"),
        "crossing": _("By border crossing (trip bookings)"),
    }


def _dimension_headers() -> dict[str, list[str]]:
    return {
        "country": [_("Country")],
        "community": [_("Providers")],
        "provider": [_("Provider"), _("Country"), _("Community")],
        "value_chain": [_("Value chain")],
        "crossing": [_("Border crossing"), _("Direction")],
    }


CSV_DIMENSIONS = {
    "country": ["country"],
    "community": ["community_run"],
    "provider": ["provider", "country", "community"],
    "value_chain": ["value_chain"],
    "crossing": ["crossing", "direction"],
}


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _parse_month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 (a date)
    except ValueError:
        raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "pattern": r"\d{4}-\d{2}"})

    def to_python(self, value):
        value = super().to_python(value)
        return _parse_month(value) if value else None


class DashboardForm(forms.Form):
    start = MonthField(label=gettext_lazy("From month"), required=False)
    end = MonthField(label=gettext_lazy("To month"), required=False)
    country = forms.ChoiceField(label=gettext_lazy("Country"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("All countries"))] + [
            (c.code, c.name) for c in Country.objects.order_by("code")
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The first month is after the last one."))
        if start and end and len(range_months(start, end)) > MAX_MONTHS:
            raise forms.ValidationError(
                _("Choose at most %(n)s months.") % {"n": MAX_MONTHS}
            )
        return data


def range_months(start: dt.date, end: dt.date) -> list[dt.date]:
    return sel.DashboardFilters(start, end).months()


def _filters(request: HttpRequest) -> tuple[DashboardForm, sel.DashboardFilters]:
    this_month = timezone.localdate().replace(day=1)
    default_start, default_end = (
        _add_months(this_month, -11),
        _add_months(this_month, 2),
    )
    form = DashboardForm(request.GET or None)
    start, end, country = default_start, default_end, None
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["start"] or default_start
        end = form.cleaned_data["end"] or max(start, default_end)
        if end < start or len(range_months(start, end)) > MAX_MONTHS:
            end = _add_months(start, MAX_MONTHS - 1) if end > start else start
        country = form.cleaned_data["country"] or None
    if not form.is_bound:
        form = DashboardForm(initial={"start": f"{start:%Y-%m}", "end": f"{end:%Y-%m}"})
    return form, sel.DashboardFilters(start, end, country)


def _amount(minor: int | None, currency: str) -> Decimal | None:
    if minor is None:
        return None
    return Decimal(minor).scaleb(-CURRENCY_EXPONENT[currency])


def _money(minor: int | None, currency: str) -> str:
    amount = _amount(minor, currency)
    if amount is None:
        return "–"
    places = CURRENCY_EXPONENT[currency]
    return number_format(amount, decimal_pos=places, force_grouping=True)


def _rate_text(rate: Decimal | None) -> str | None:
    """``3.75`` for ``Decimal("3.750000")`` (no exponent, no trailing zeros)."""
    if rate is None:
        return None
    text = format(rate, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _chart(rows: list[sel.Figures], *, by_month: bool) -> dict:
    """Horizontal bars, one per label (or per month): the USD total when every rate is
    known, otherwise the booking count. Geometry is computed here; the template only
    draws rectangles."""
    totals: dict = {}
    for row in rows:
        key = row.month if by_month else row.label
        entry = totals.setdefault(key, {"usd": 0, "bookings": 0})
        entry["bookings"] += row.bookings
        if row.usd_minor is None or entry["usd"] is None:
            entry["usd"] = None
        else:
            entry["usd"] += row.usd_minor
    in_usd = all(e["usd"] is not None for e in totals.values())
    measure = "usd" if in_usd else "bookings"
    peak = max((e[measure] for e in totals.values()), default=0) or 1
    room = CHART_WIDTH - LABEL_WIDTH - 90
    bars = []
    for index, (key, entry) in enumerate(totals.items()):
        value = entry[measure]
        label = key.strftime("%Y-%m") if by_month else str(key)
        shown = f"{_money(value, 'USD')} USD" if in_usd else str(value)
        bars.append(
            {
                "label": label if len(label) <= 32 else label[:31] + "…",
                "y": index * (BAR_HEIGHT + 6),
                "text_y": index * (BAR_HEIGHT + 6) + round(BAR_HEIGHT * 0.7),
                "width": max(1, round(room * value / peak)) if value else 0,
                "value": shown,
                "value_x": LABEL_WIDTH
                + (round(room * value / peak) if value else 0)
                + 6,
            }
        )
    return {
        "bars": bars,
        "in_usd": in_usd,
        "width": CHART_WIDTH,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "height": max(1, len(bars)) * (BAR_HEIGHT + 6),
    }


def _dimensions(row: sel.Figures, name: str) -> list[str]:
    if name == "provider":
        community = _("community-run") if row.key[2] else _("not community-run")
        return [row.key[0], row.key[1], community]
    if name == "crossing":
        return list(row.key)
    return [row.label]


def _csv_dimensions(row: sel.Figures, name: str) -> list[str]:
    if name == "community":
        return ["yes" if row.key[0] else "no"]
    if name == "provider":
        return [row.key[0], row.key[1], "yes" if row.key[2] else "no"]
    return list(row.key)


def _display_rows(rows: list[sel.Figures], name: str) -> list[dict]:
    return [
        {
            "month": row.month,
            "dimensions": _dimensions(row, name),
            "bookings": row.bookings,
            "persons": row.persons,
            "cancelled": row.cancelled,
            "spend": [
                _money(row.spend.get(c), c) if c in row.spend else "–"
                for c in sel.CURRENCIES
            ],
            "usd": _money(row.usd_minor, "USD"),
        }
        for row in rows
    ]


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    data = sel.dashboard(filters)
    titles, headers = _titles(), _dimension_headers()
    tables = [
        {
            "name": name,
            "title": titles[name],
            "headers": headers[name],
            "rows": _display_rows(rows, name),
            "chart": _chart(rows, by_month=False),
        }
        for name, rows in data.tables.items()
    ]
    monthly = _chart(data.tables["country"], by_month=True)
    rates = [
        {
            "currency": c,
            "per_usd": _rate_text(data.rates.per_usd.get(c)),
            "set_on": data.rates.set_on.get(c),
        }
        for c in sel.CURRENCIES
        if c != sel.USD
    ]
    query = request.GET.copy()
    return render(
        request,
        "web/staff/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "tables": tables,
            "monthly": monthly,
            "currencies": sel.CURRENCIES,
            "rates": rates,
            "query": query.urlencode(),
        },
    )


@staff_required
def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in sel.TABLES:
        raise Http404
    _form, filters = _filters(request)
    data = sel.dashboard(filters, only=table)
    rows = data.tables[table]
    filename = (
        f"dashboard-{table}-{filters.first_month:%Y-%m}-{filters.last_month:%Y-%m}"
    )
    if filters.country:
        filename += f"-{filters.country}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.write("\ufeff")  # BOM: spreadsheets then read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [
            "month",
            *CSV_DIMENSIONS[table],
            "bookings",
            "persons",
            "cancelled",
            *(f"spend_{c}" for c in sel.CURRENCIES),
            "total_USD",
            "rates_set_on",
        ]
    )
    set_on = max(data.rates.set_on.values(), default=None)
    for row in rows:
        dimensions = _csv_dimensions(row, table)
        writer.writerow(
            [
                f"{row.month:%Y-%m}",
                *dimensions,
                row.bookings,
                row.persons,
                row.cancelled,
                *(_amount(row.spend.get(c, 0), c) for c in sel.CURRENCIES),
                "" if row.usd_minor is None else _amount(row.usd_minor, "USD"),
                set_on.isoformat() if set_on else "",
            ]
        )
    return response
