"""A gift's photo: checked (a JPEG, PNG or WebP image of a bounded size) and cleaned (EXIF,
GPS position and other metadata removed; turned upright first) before it is stored."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

#: Pillow's format -> the media type it is stored and served as.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: Larger images are refused (a "decompression bomb" expands a small file into gigabytes).
MAX_PIXELS = 40_000_000


class PhotoRefused(ValueError):
    """Not a photo the register keeps; the message says why, in English (a catalog entry)."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def cleaned(data: bytes, *, max_bytes: int) -> CleanPhoto:
    """The photo re-encoded without its metadata, or `PhotoRefused`."""
    if not data:
        raise PhotoRefused("choose a photo file")
    if len(data) > max_bytes:
        raise PhotoRefused("the photo is too large")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            if kind not in FORMATS:
                raise PhotoRefused("the photo must be a JPEG, PNG or WebP image")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused("the photo is too large")
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise PhotoRefused("the photo must be a JPEG, PNG or WebP image") from error
    # The pixels only: no EXIF, XMP, ICC profile or text chunk is written.
    bare = upright.copy()
    bare.info = {}
    if kind == "JPEG" and bare.mode not in ("RGB", "L"):
        bare = bare.convert("RGB")
    out = io.BytesIO()
    options = {"quality": 90} if kind in ("JPEG", "WEBP") else {"optimize": True}
    bare.save(out, format=kind, **options)
    return CleanPhoto(out.getvalue(), FORMATS[kind])
