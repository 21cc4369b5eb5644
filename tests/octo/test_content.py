"""``octo/content``: every field the OCTO document marks required for the
capability (``x-capability-data: {capability: octo/content, required: true}``) is
there on the supplier, products, options, units, availabilities and bookings, filled
from the listing in the request's language. Every response is also checked against
the document by the client (see conftest)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalogue.models import Departure
from providers.models import Listing
from providers.services.listings import photo_add
from tests.octo.conftest import DAY, availability_id, reserve_body, spec_document
from tests.providers.portal.factories import image_bytes

pytestmark = pytest.mark.django_db

CONTENT = "octo/content"


def required_for_content(schema: str) -> set[str]:
    """The properties of one of the document's schemas it requires with
    octo/content."""
    properties = spec_document()["components"]["schemas"][schema]["properties"]
    return {
        name
        for name, spec in properties.items()
        if spec.get("x-capability-data", {}).get("capability") == CONTENT
        and spec["x-capability-data"].get("required")
    }


def assert_complete(body: dict[str, Any], schema: str) -> None:
    missing = required_for_content(schema) - set(body)
    assert not missing, f"{schema} lacks {sorted(missing)}"


def assert_product_complete(product: dict[str, Any]) -> None:
    assert_complete(product, "Product")
    for option in product["options"]:
        assert_complete(option, "Option")
        for unit in option["units"]:
            assert_complete(unit, "Unit")


def features(body: dict[str, Any], kind: str) -> list[str]:
    return [f["shortDescription"] for f in body["features"] if f["type"] == kind]


def test_the_document_requires_what_we_check():
    """The helper reads the document: the product's content fields are these."""
    assert required_for_content("Product") == {
        "title",
        "shortDescription",
        "description",
        "features",
        "faqs",
        "media",
        "locations",
        "categoryLabels",
        "durationMinutesFrom",
        "durationMinutesTo",
        "commentary",
    }
    assert required_for_content("Unit") == {"title", "shortDescription", "features"}
    assert required_for_content("Availability") == {"title", "shortDescription"}
    assert required_for_content("Supplier") == {"shortDescription", "media"}


@pytest.mark.parametrize(
    ("language", "description", "check_in", "cancellation"),
    [
        (
            "en",
            "A night with a family.",
            "Check-in from 14:00.",
            "Free cancellation until 48 hours before the start.",
        ),
        (
            "es",
            "Una noche con una familia.",
            "Ingreso desde las 14:00.",
            "Cancelación gratuita hasta 48 horas antes del inicio.",
        ),
    ],
)
def test_products_have_every_content_field(
    world, language, description, check_in, cancellation
):
    client = world.agency_a.client(caps=CONTENT, language=language)
    response = client.get("/products")
    assert response["Content-Language"] == language
    products = {p["id"]: p for p in response.json()}
    for product in products.values():
        assert_product_complete(product)

    stay = products[str(world.stay.pk)]
    assert stay["title"] == (
        "Amantaní homestay" if language == "en" else "Casa de familia en Amantaní"
    )
    assert stay["description"] == description
    assert stay["shortDescription"] == description
    assert (stay["durationMinutesFrom"], stay["durationMinutesTo"]) == (1440, None)
    assert features(stay, "PREARRIVAL_INFORMATION") == [check_in]
    assert stay["categoryLabels"] == ["accommodation-included"]
    assert stay["faqs"] == [] and stay["media"] == [] and stay["commentary"] == []
    place = world.stay.place
    (location,) = stay["locations"]
    assert location["types"] == ["START"]
    assert location["place"]["latitude"] == float(place.latitude)
    assert location["place"]["longitude"] == float(place.longitude)
    address = location["place"]["postalAddress"]
    expected_name = place.name_es if language == "es" else place.name_en
    assert address["addressLocality"] == expected_name == location["title"]
    assert address["addressCountry"] == "PE"
    (option,) = stay["options"]
    assert features(option, "CANCELLATION_TERM") == [cancellation]
    assert (option["durationMinutesFrom"], option["durationMinutesTo"]) == (1440, None)
    units = {u["id"]: u for u in option["units"]}
    assert units["child"]["shortDescription"] == (
        "Ages 3 to 11." if language == "en" else "De 3 a 11 años."
    )
    assert units["child"]["title"] == ("Child" if language == "en" else "Niño")
    assert units["adult"]["shortDescription"] == ""
    assert units["adult"]["features"] == []

    tour = products[str(world.tour.pk)]
    assert tour["title"] == (
        "Weaving workshop" if language == "en" else "Taller de tejido"
    )
    assert (tour["durationMinutesFrom"], tour["durationMinutesTo"]) == (120, None)
    assert tour["description"] is None and tour["shortDescription"] is None
    assert [loc["types"] for loc in tour["locations"]] == [["START", "END"]]
    assert tour["locations"][0]["place"]["latitude"] == float(place.latitude)

    bus = products[str(world.bus.pk)]
    minutes = sorted(
        {d.duration_min for d in Departure.objects.filter(listings=world.bus)}
    )
    assert bus["durationMinutesFrom"] == minutes[0]
    assert bus["durationMinutesTo"] == (minutes[-1] if len(minutes) > 1 else None)


def test_stay_title_in_each_language(world):
    path = f"/products/{world.stay.pk}"
    for language, title in (
        ("en", "Amantaní homestay"),
        ("es", "Casa de familia en Amantaní"),
    ):
        body = world.agency_a.client(caps=CONTENT, language=language).get(path).json()
        assert_product_complete(body)
        assert body["title"] == title


def test_short_description_is_the_first_paragraph(world):
    world.stay.description_en = "Sleep by the lake.\n\n" + "More. " * 100
    world.stay.save()
    client = world.agency_a.client(caps=CONTENT, language="en")
    body = client.get(f"/products/{world.stay.pk}").json()
    assert body["shortDescription"] == "Sleep by the lake."
    assert body["description"] == world.stay.description_en


def test_activity_features_categories_and_commentary(world):
    tour = world.tour
    tour.kind = Listing.Kind.GUIDE
    tour.tags = ["textiles", "hiking"]
    tour.difficulty = Listing.Difficulty.MODERATE
    tour.altitude_m = 4100
    tour.languages = ["es", "qu"]
    tour.confirmation = Listing.Confirmation.ON_REQUEST
    tour.save()
    for language, highlights, additional, booking in (
        (
            "en",
            ["Weaving and textiles", "Hiking"],
            ["Difficulty: moderate."],
            "The provider confirms each booking.",
        ),
        (
            "es",
            ["Tejidos y textiles", "Caminatas"],
            ["Dificultad: moderada."],
            "El proveedor confirma cada reserva.",
        ),
    ):
        client = world.agency_a.client(caps=CONTENT, language=language)
        body = client.get(f"/products/{tour.pk}").json()
        assert_product_complete(body)
        assert features(body, "HIGHLIGHT") == highlights
        assert features(body, "ADDITIONAL_INFORMATION") == additional
        assert any("4100" in text for text in features(body, "PREBOOKING_INFORMATION"))
        assert body["categoryLabels"] == [
            "guided-tours",
            "outdoors",
            "trip-difficulty-medium",
        ]
        assert body["commentary"] == [
            {"format": "IN_PERSON", "language": "es"},
            {"format": "IN_PERSON", "language": "qu"},
        ]
        assert booking in features(body["options"][0], "BOOKING_TERM")


def test_photos_are_absolute_image_urls(world):
    for alt in ("Courtyard", "Dining room"):
        photo_add(
            listing=world.stay,
            upload=SimpleUploadedFile("p.png", image_bytes("PNG"), "image/png"),
            alt_en=alt,
            alt_es=f"{alt} (es)",
        )
    for language, caption in (("en", "Courtyard"), ("es", "Courtyard (es)")):
        client = world.agency_a.client(caps=CONTENT, language=language)
        body = client.get(f"/products/{world.stay.pk}").json()
        media = body["media"]
        assert [m["rel"] for m in media] == ["COVER", "GALLERY"]
        assert media[0]["caption"] == caption
        assert media[0]["type"] == "image/jpeg"
        assert re.fullmatch(
            rf"http://testserver/media/listings/{world.stay.pk}/[0-9a-f]+\.jpg",
            media[0]["src"],
        )
        served = client.client.get(media[0]["src"].removeprefix("http://testserver"))
        assert served.status_code == 200
        assert b"".join(served.streaming_content).startswith(b"\xff\xd8")
        served.close()


@pytest.mark.parametrize(
    ("language", "check_in"),
    [("en", "Check-in from 14:00."), ("es", "Ingreso desde las 14:00.")],
)
def test_availability_and_booking_content(world, language, check_in):
    client = world.agency_a.client(caps=CONTENT, language=language)
    product = {"productId": str(world.stay.pk), "optionId": "DEFAULT"}
    slots = client.post(
        "/availability", {**product, "localDate": DAY.isoformat()}
    ).json()
    for slot in slots:
        assert_complete(slot, "Availability")
    assert slots[0]["title"] is None
    assert slots[0]["shortDescription"] == check_in

    reserved = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"])
    )
    assert reserved.status_code == 200
    booking = reserved.json()
    assert_complete(booking["availability"], "Availability")
    assert booking["availability"]["shortDescription"] == check_in
    read = client.get(f"/bookings/{booking['uuid']}").json()
    assert read["availability"]["shortDescription"] == check_in

    tour = {"productId": str(world.tour.pk), "optionId": "DEFAULT"}
    timed = client.post("/availability", {**tour, "localDate": DAY.isoformat()})
    for slot in timed.json():
        assert_complete(slot, "Availability")
        assert slot["shortDescription"] == ""


def test_supplier_content(world):
    body = world.agency_a.client(caps=CONTENT).get("/supplier").json()
    assert_complete(body, "Supplier")
    assert body["media"] == []


def test_without_the_capability_there_is_no_content(world):
    client = world.agency_a.client(caps="octo/pricing")
    body = client.get(f"/products/{world.stay.pk}").json()
    for name in required_for_content("Product"):
        assert name not in body
        assert name not in body["options"][0]
    assert "features" not in body["options"][0]["units"][0]
    slots = client.post(
        "/availability",
        {
            "productId": str(world.stay.pk),
            "optionId": "DEFAULT",
            "localDate": DAY.isoformat(),
        },
    ).json()
    assert "shortDescription" not in slots[0]
