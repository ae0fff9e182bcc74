"""What the gifts tests share: a partner city, an official and a gift as the API takes them,
and a photo with EXIF (a GPS position) to upload."""

from __future__ import annotations

import io
from typing import Any

from conftest import InlineApi, command, sample_partner
from PIL import Image

#: A description that no public output may ever show.
SECRET = "GIFT-漆器-lacquer box 7Q"


def register_parties(api: InlineApi, n: int = 3) -> dict[str, str]:
    partner = command(api, "POST", "/partners", json=sample_partner(n))["id"]
    mayor = command(
        api,
        "POST",
        "/officials",
        json={
            "names": {"zh-TW": "林市長", "en": "Mayor Lin"},
            "title": {"en": "Mayor"},
            "protocol_rank": 1,
        },
    )["id"]
    return {"partner": partner, "mayor": mayor}


def sample_gift(parties: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return {
        "direction": "given",
        "description": {"zh-TW": f"{SECRET}（漆器禮盒）", "en": f"{SECRET} (lacquer box)"},
        "category": "craft",
        "date": "2025-04-02",
        "giver": {"kind": "official", "id": parties["mayor"]},
        "recipient": {"kind": "partner", "id": parties["partner"], "name": "Mayor Tanaka"},
        "estimated_value": "12000",
        "currency": "TWD",
        "location": "kept",
        "notes": "Handed over at the courtesy call",
        **overrides,
    }


def record(api: InlineApi, parties: dict[str, str], **overrides: Any) -> str:
    return str(command(api, "POST", "/gifts", json=sample_gift(parties, **overrides))["id"])


def photo_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (25.0, 0.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()
