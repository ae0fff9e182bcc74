"""A photo as twinning keeps one (a gift's; a partner city's, an exchange's or a visit's for the
leaflets and brochures): checked (a JPEG, PNG or WebP image of a bounded size) and cleaned
(EXIF, GPS position and other metadata removed; turned upright; its long edge brought down to
`PRINT_EDGE`) before it is stored; and the smaller copy a document embeds."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

#: Pillow's format -> the media type it is stored and served as.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: Larger images are refused (a "decompression bomb" expands a small file into gigabytes).
MAX_PIXELS = 40_000_000
#: The long edge a stored photo keeps at most: a full A4 width at 300 dpi is 2480 px.
PRINT_EDGE = 2400
#: The long edge of the copy a leaflet or brochure embeds: 300 dpi across a 100 mm panel.
DOCUMENT_EDGE = 1200


class PhotoRefused(ValueError):
    """Not a photo twinning keeps; the message says why, in English (a catalog entry)."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    media_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _bounded(image: Image.Image, long_edge: int) -> Image.Image:
    if max(image.size) <= long_edge:
        return image
    smaller = image.copy()
    smaller.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    return smaller


def cleaned(data: bytes, *, max_bytes: int, long_edge: int = PRINT_EDGE) -> CleanPhoto:
    """The photo re-encoded without its metadata, at most `long_edge` pixels on its long
    side, or `PhotoRefused`."""
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
    bare = _bounded(upright, long_edge).copy()
    bare.info = {}
    if kind == "JPEG" and bare.mode not in ("RGB", "L"):
        bare = bare.convert("RGB")
    out = io.BytesIO()
    options = {"quality": 90} if kind in ("JPEG", "WEBP") else {"optimize": True}
    bare.save(out, format=kind, **options)
    return CleanPhoto(out.getvalue(), FORMATS[kind], bare.width, bare.height)


def document_copy(data: bytes, *, long_edge: int = DOCUMENT_EDGE) -> bytes:
    """A cleaned photo as a document embeds it: a JPEG at most `long_edge` pixels long (a
    PDF keeps a JPEG's bytes as they are; a PNG's it would compress again at every render)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        smaller = _bounded(image, long_edge)
        if smaller.mode not in ("RGB", "L"):
            background = Image.new("RGB", smaller.size, (255, 255, 255))
            background.paste(smaller, mask=smaller.convert("RGBA").getchannel("A"))
            smaller = background
        out = io.BytesIO()
        smaller.save(out, format="JPEG", quality=85, optimize=True)
        return out.getvalue()
