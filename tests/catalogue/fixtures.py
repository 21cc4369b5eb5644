"""A small hand-made catalogue with known answers (independent of the seed file)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from catalogue.services import catalogue_seed

FACT = {"source": "test fixture", "verified": True}

SMALL_CATALOGUE: dict[str, Any] = {
    "countries": [
        {
            "code": "PE",
            "name_en": "Peru",
            "name_es": "Perú",
            "currency": "PEN",
            "timezone": "America/Lima",
            **FACT,
        },
        {
            "code": "BO",
            "name_en": "Bolivia",
            "name_es": "Bolivia",
            "currency": "BOB",
            "timezone": "America/La_Paz",
            **FACT,
        },
    ],
    "places": [
        {
            "slug": "puno",
            "name_en": "Puno",
            "name_es": "Puno",
            "country": "PE",
            "kind": "city",
            "latitude": -15.84003,
            "longitude": -70.02198,
            "altitude_m": 3827,
            **FACT,
        },
        {
            "slug": "cusco",
            "name_en": "Cusco",
            "name_es": "Cusco",
            "country": "PE",
            "kind": "city",
            "latitude": -13.53188,
            "longitude": -71.96701,
            "altitude_m": 3399,
            **FACT,
        },
        {
            "slug": "kasani-pe",
            "name_en": "Kasani (Peru post)",
            "name_es": "Kasani (puesto peruano)",
            "country": "PE",
            "kind": "border_post",
            "latitude": -16.2097,
            "longitude": -69.0850,
            "altitude_m": 3830,
            **FACT,
        },
        {
            "slug": "kasani-bo",
            "name_en": "Kasani (Bolivia post)",
            "name_es": "Kasani (puesto boliviano)",
            "country": "BO",
            "kind": "border_post",
            "latitude": -16.2097,
            "longitude": -69.0845,
            "altitude_m": 3830,
            **FACT,
        },
        {
            "slug": "copacabana",
            "name_en": "Copacabana",
            "name_es": "Copacabana",
            "country": "BO",
            "kind": "town",
            "latitude": -16.1699,
            "longitude": -69.07919,
            "altitude_m": 3841,
            **FACT,
        },
    ],
    "crossings": [
        {
            "slug": "kasani",
            "kind": "border",
            "name_en": "Kasani – Yunguyo",
            "name_es": "Kasani – Yunguyo",
            "side_a": "kasani-pe",
            "side_b": "kasani-bo",
            "typical_minutes": 60,
            "documents_note_en": "Passport",
            "documents_note_es": "Pasaporte",
            **FACT,
            "hours": [
                {"side": "a", "opens": "07:00", "closes": "20:00", **FACT},
                {"side": "b", "opens": "08:00", "closes": "21:00", **FACT},
            ],
        },
    ],
    "legs": [
        {
            "slug": "puno-copacabana-bus",
            "origin": "puno",
            "destination": "copacabana",
            "mode": "bus",
            "distance_km": 150,
            "duration_min": 210,
            "crossing": "kasani",
            "crossing_offset_min": 150,
            "crossing_first_side": "kasani-pe",
            **FACT,
            "departures": [
                {
                    "code": "am",
                    "operator": "Lake Bus",
                    "time": "07:30",
                    "days": "daily",
                    "price": "18.00",
                    "currency": "PEN",
                    "seats": 40,
                    **FACT,
                },
                {
                    "code": "pm",
                    "operator": "Lake Bus",
                    "time": "14:30",
                    "days": "daily",
                    "price": "18.00",
                    "currency": "PEN",
                    "seats": 40,
                    **FACT,
                },
                # Reaches Kasani at 20:30 Peru time: after the post closes.
                {
                    "code": "late",
                    "operator": "Night Bus",
                    "time": "18:00",
                    "days": "daily",
                    "price": "15.50",
                    "currency": "PEN",
                    "seats": 30,
                    "verified": False,
                    "source": "test fixture",
                },
            ],
        },
        {
            "slug": "copacabana-puno-bus",
            "origin": "copacabana",
            "destination": "puno",
            "mode": "bus",
            "duration_min": 210,
            "crossing": "kasani",
            "crossing_offset_min": 30,
            "crossing_first_side": "kasani-bo",
            **FACT,
            "departures": [
                {
                    "code": "pm",
                    "operator": "Lake Bus",
                    "time": "13:30",
                    "days": "daily",
                    "price": "30.00",
                    "currency": "BOB",
                    "seats": 40,
                    **FACT,
                },
            ],
        },
        {
            "slug": "cusco-puno-train",
            "origin": "cusco",
            "destination": "puno",
            "mode": "train",
            "duration_min": 620,
            **FACT,
            "departures": [
                {
                    "code": "all-year",
                    "operator": "PeruRail Titicaca",
                    "time": "07:10",
                    "days": ["mon", "wed", "sat"],
                    "price": "275.00",
                    "currency": "USD",
                    "seats": 120,
                    **FACT,
                },
                {
                    "code": "dry-season-fri",
                    "operator": "PeruRail Titicaca",
                    "time": "07:10",
                    "days": ["fri"],
                    "season": {"from": "04-01", "to": "10-31"},
                    "price": "275.00",
                    "currency": "USD",
                    "seats": 120,
                    **FACT,
                },
            ],
        },
    ],
}


@pytest.fixture
def small_catalogue_data() -> dict[str, Any]:
    return copy.deepcopy(SMALL_CATALOGUE)


@pytest.fixture
def small_catalogue(db, small_catalogue_data):
    """The small catalogue loaded into the test database."""
    return catalogue_seed(data=small_catalogue_data)
