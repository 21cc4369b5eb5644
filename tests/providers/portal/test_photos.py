"""Photo checks and processing (providers.photos) and the photos page."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from providers import photos
from providers.models import ListingPhoto
from tests.providers.portal import factories as f


def _upload(data: bytes, name: str = "photo.jpg", ctype: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=ctype)


def _open(content) -> Image.Image:
    return Image.open(io.BytesIO(content.read()))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares huge dimensions (its data is never decoded)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def test_large_jpeg_is_resized_and_exif_stripped():
    """A big JPEG with EXIF (GPS) comes out ≤1600 px, JPEG, with no metadata."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (15.0, 50.0, 0.0)}  # GPS IFD
    data = f.image_bytes("JPEG", (3200, 2000), exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif()  # the input does carry EXIF
    content = photos.photo_process(_upload(data))
    image = _open(content)
    assert image.format == "JPEG"
    assert image.size == (1600, 1000)
    assert not image.getexif()
    assert "exif" not in image.info
    assert content.name.endswith(".jpg")


def test_small_photo_is_not_enlarged():
    """A photo already within 1600×1600 keeps its size."""
    image = _open(photos.photo_process(_upload(f.image_bytes("JPEG", (800, 600)))))
    assert image.size == (800, 600)


def test_exif_orientation_is_applied_before_stripping():
    """A portrait photo stored sideways with an orientation tag comes out upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = f.image_bytes("JPEG", (400, 300), exif=exif.tobytes())
    image = _open(photos.photo_process(_upload(data)))
    assert image.size == (300, 400)


def test_png_renamed_jpg_is_accepted_by_content():
    """A PNG named .jpg is recognised by its content and re-encoded as JPEG."""
    data = f.image_bytes("PNG", (2000, 500))
    image = _open(photos.photo_process(_upload(data, "holiday.jpg")))
    assert image.format == "JPEG" and image.size == (1600, 400)


def test_transparent_png_gets_a_white_background():
    """Transparent areas become white, not black, in the JPEG."""
    data = f.image_bytes("PNG", (10, 10), mode="RGBA")
    image = _open(photos.photo_process(_upload(data, "logo.png", "image/png")))
    red, green, blue = image.convert("RGB").getpixel((5, 5))
    assert min(red, green, blue) > 240


def test_webp_is_accepted():
    """WebP is one of the three accepted formats."""
    data = f.image_bytes("WEBP", (100, 80))
    image = _open(photos.photo_process(_upload(data, "x.webp", "image/webp")))
    assert image.format == "JPEG"


def test_text_file_renamed_jpg_is_refused():
    """A text file named .jpg with an image content type is refused on ``image``."""
    with pytest.raises(ValidationError) as caught:
        photos.photo_process(_upload(b"hello, this is not a photo\n" * 10))
    assert "image" in caught.value.message_dict


def test_other_image_formats_are_refused():
    """A real GIF (or BMP) is refused: only JPEG, PNG and WebP are accepted."""
    for fmt in ("GIF", "BMP"):
        with pytest.raises(ValidationError):
            photos.photo_process(_upload(f.image_bytes(fmt), f"x.{fmt.lower()}"))


def test_truncated_jpeg_is_refused():
    """A JPEG cut in the middle is refused instead of stored half-decoded."""
    data = f.image_bytes("JPEG", (400, 400))
    with pytest.raises(ValidationError):
        photos.photo_process(_upload(data[: len(data) // 3]))


def test_oversize_upload_is_refused():
    """More than 8 MB is refused, whatever the content."""
    data = f.image_bytes("JPEG") + b"\0" * photos.MAX_UPLOAD_BYTES
    with pytest.raises(ValidationError) as caught:
        photos.photo_process(_upload(data))
    assert "8 MB" in caught.value.message_dict["image"][0]


def test_oversize_stream_without_size_is_refused():
    """A stream that does not declare its size is cut at the limit."""
    stream = io.BytesIO(b"\xff\xd8" + b"\0" * photos.MAX_UPLOAD_BYTES)
    with pytest.raises(ValidationError):
        photos.photo_process(stream)


def test_huge_dimensions_are_refused_before_decoding():
    """A small file declaring 30000×30000 pixels is refused without decoding it."""
    data = _png_header_only(30_000, 30_000)
    assert len(data) < 200
    with pytest.raises(ValidationError) as caught:
        photos.photo_process(_upload(data, "bomb.png", "image/png"))
    assert "megapixels" in caught.value.message_dict["image"][0]


def test_dimensions_above_pillow_bomb_limit_are_refused():
    """Even beyond Pillow's own decompression-bomb limit the answer is a field error."""
    data = _png_header_only(20_000, 10_000)  # 200 MP: Pillow raises on open
    with pytest.raises(ValidationError):
        photos.photo_process(_upload(data, "bomb.png", "image/png"))


def test_empty_file_is_refused():
    """An empty upload is a field error."""
    with pytest.raises(ValidationError):
        photos.photo_process(_upload(b""))


@pytest.mark.django_db
def test_photo_upload_page_stores_a_jpeg(small_catalogue):
    """Uploading through the portal stores a processed .jpg for the listing."""
    provider = f.make_provider()
    listing = f.make_listing(provider)
    client = f.logged_in(f.make_member(provider))
    upload = _upload(f.image_bytes("PNG", (2400, 1200)), "alpaca.jpg")
    response = client.post(
        f"/provider/listings/{listing.pk}/photos/",
        {"image": upload, "alt_en": "Alpacas", "alt_es": "Alpacas"},
    )
    assert response.status_code == 302
    photo = ListingPhoto.objects.get(listing=listing)
    assert photo.image.name.startswith(f"listings/{listing.pk}/")
    assert photo.image.name.endswith(".jpg")
    with photo.image.open("rb") as stored:
        assert Image.open(stored).size == (1600, 800)


@pytest.mark.django_db
def test_photo_upload_page_shows_the_error_next_to_the_field(small_catalogue):
    """A fake photo gives a field error on the page and stores nothing."""
    provider = f.make_provider()
    listing = f.make_listing(provider)
    client = f.logged_in(f.make_member(provider))
    response = client.post(
        f"/provider/listings/{listing.pk}/photos/",
        {"image": _upload(b"MZ not an image at all", "virus.jpg")},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["image"]
    assert "Upload a JPEG, PNG or WebP photo." in response.content.decode()
    assert not ListingPhoto.objects.filter(listing=listing).exists()


@pytest.mark.django_db
def test_photo_can_be_removed(small_catalogue):
    """The remove button deletes the photo row."""
    provider = f.make_provider()
    listing = f.make_listing(provider)
    photo = f.make_photo(listing)
    client = f.logged_in(f.make_member(provider))
    response = client.post(f"/provider/listings/{listing.pk}/photos/{photo.pk}/delete/")
    assert response.status_code == 302
    assert not ListingPhoto.objects.filter(pk=photo.pk).exists()
