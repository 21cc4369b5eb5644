"""Money as the plan JSON and the explanations show it (no solver import: the API
and the web pages use these without loading OR-Tools)."""

from __future__ import annotations

from catalogue.models import minor_to_decimal


def money(amount_minor: int, currency: str) -> dict[str, str]:
    return {
        "amount": str(minor_to_decimal(amount_minor, currency)),
        "currency": currency,
    }


def money_text(amount_minor: int, currency: str) -> str:
    value = minor_to_decimal(amount_minor, currency)
    return f"{value:,.2f} {currency}"


def sum_by_currency(amounts: list[tuple[int, str]]) -> list[tuple[str, int]]:
    """``(minor units, currency)`` amounts summed per currency, by currency code."""
    sums: dict[str, int] = {}
    for minor, currency in amounts:
        sums[currency] = sums.get(currency, 0) + minor
    return sorted(sums.items())
