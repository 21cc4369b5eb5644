"""Listing photos: accept only real JPEG, PNG or WebP images and normalise them.

The type is what Pillow reads in the file, never the name or the browser's content
type. Every accepted photo is turned upright, shrunk to fit 1600×1600 and re-encoded
as a JPEG at quality 82 without any metadata (EXIF, GPS, ICC, comments): small files
for travellers on a poor connection, and no location leaks from the provider's phone.
"""

from __future__ import annotations

import io
import warnings
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_SIDE = 1600
JPEG_QUALITY = 82
# Refuse before decoding anything larger (a 50 MP phone photo still fits): a small
# file can declare huge dimensions and exhaust memory when decoded.
MAX_PIXELS = 50_000_000
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})


def _error(message: str) -> ValidationError:
    return ValidationError({"image": message})


def _read_limited(upload: IO[bytes]) -> bytes:
    """The upload's bytes; refuses more than MAX_UPLOAD_BYTES without reading it all."""
    declared = getattr(upload, "size", None)
    too_big = _("The photo is larger than %(mb)s MB.") % {
        "mb": MAX_UPLOAD_BYTES // (1024 * 1024)
    }
    if declared is not None and declared > MAX_UPLOAD_BYTES:
        raise _error(too_big)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _error(too_big)
    if not data:
        raise _error(_("The file is empty."))
    return data


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparent areas become white instead of black."""
    if image.mode in ("RGBA", "LA") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def photo_process(upload: IO[bytes]) -> ContentFile:
    """A cleaned JPEG from an uploaded file, or ValidationError on ``image``."""
    data = _read_limited(upload)
    not_an_image = _("Upload a JPEG, PNG or WebP photo.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise _error(not_an_image)
            width, height = image.size
            if width * height > MAX_PIXELS or width <= 0 or height <= 0:
                raise _error(
                    _("The photo has too many pixels: at most %(mp)s megapixels.")
                    % {"mp": MAX_PIXELS // 1_000_000}
                )
            if image.format == "JPEG":
                # Decode at a reduced scale when the photo is much larger.
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            image.load()
            image = ImageOps.exif_transpose(image)
            image = _flatten(image)
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            image.info = {}  # no EXIF, ICC profile or comments are carried over
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _error(
            _("The photo has too many pixels: at most %(mp)s megapixels.")
            % {"mp": MAX_PIXELS // 1_000_000}
        ) from exc
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as exc:
        raise _error(not_an_image) from exc
    return ContentFile(out.getvalue(), name="photo.jpg")
