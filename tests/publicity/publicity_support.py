"""Events of a small partner-city history for the publicity tests, with personal data and
hostile text where the tests look for their absence or their escaping."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from typing import Any

from conftest import Projection
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.publicity.content import Document
from twinning.publicity.refresh import Refresher, RefreshReport
from twinning.streams.events import (
    CityEventScheduled,
    ContactRegistered,
    Event,
    ExchangeRecorded,
    PartnerCityRegistered,
    Payload,
    TripCompleted,
    TripPlanned,
    VisitApproved,
    VisitCompleted,
    VisitRequested,
    VisitScheduled,
    new_event,
)

#: When the tests' documents are gathered: fixed, so that "upcoming" and anniversaries hold.
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

SAPPORO = {"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"}
BUSAN = {"zh-TW": "釜山廣域市", "en": "Busan", "ko": "부산광역시"}
VALENCIA = {"zh-TW": "瓦倫西亞", "en": "Valencia", "es": "Valencia"}
HOSTILE = "<script>alert('x')</script> </style> Tom & \"Jerry\" \u202eevil"

#: Personal data that must never reach a leaflet or a brochure.
CONTACT_NAME = "Kenji Watanabe-Privat"
CONTACT_EMAIL = "kenji.private@example.jp"
CONTACT_PHONE = "+81 11 555 0199"
VISIT_CONTACT = "Min-jun Contact-Person"
DIETARY = "no shellfish, severe allergy"
HEAD_OF_DELEGATION = "Park Delegation-Head"
PERSONAL_DATA = (
    CONTACT_NAME,
    CONTACT_EMAIL,
    CONTACT_PHONE,
    VISIT_CONTACT,
    DIETARY,
    HEAD_OF_DELEGATION,
)


def event(payload: Payload, aggregate_id: str | None = None) -> Event:
    return new_event(payload, aggregate_id=aggregate_id or str(uuid.uuid4()), actor="test")


def partner(names: dict[str, str], **facts: Any) -> Event:
    defaults: dict[str, Any] = {"country": "JP", "kind": "sister", "timezone": "Asia/Tokyo"}
    return event(PartnerCityRegistered.model_validate({"names": names, **defaults, **facts}))


def exchange(partner_ids: list[str], day: date, field: str, summary: dict[str, str]) -> Event:
    payload = {"partner_ids": partner_ids, "date": day, "field": field}
    return event(
        ExchangeRecorded.model_validate({**payload, "direction": "inbound", "summary": summary})
    )


def contact(partner_id: str) -> Event:
    return event(
        ContactRegistered(
            partner_id=partner_id, name=CONTACT_NAME, email=CONTACT_EMAIL, phone=CONTACT_PHONE
        )
    )


def completed_visit(partner_id: str) -> list[Event]:
    """A delegation's visit from request to completion, with its contact and dietary notes."""
    visit_id = str(uuid.uuid4())
    requested = VisitRequested.model_validate(
        {
            "delegation": {"partner_id": partner_id},
            "head_of_delegation": {
                "names": {"en": HEAD_OF_DELEGATION},
                "title": {"en": "Mayor", "ko": "시장", "zh-TW": "市長", "ja": "市長"},
                "protocol_rank": 1,
            },
            "members": 12,
            "purpose": {"en": "Smart-city study tour", "zh-TW": "智慧城市考察"},
            "requested_from": date(2025, 4, 7),
            "requested_to": date(2025, 4, 9),
            "dietary_notes": DIETARY,
            "contact": {"name": VISIT_CONTACT, "email": "contact.person@example.kr"},
        }
    )
    steps = [requested, VisitApproved(), VisitScheduled(), VisitCompleted()]
    return [event(step, visit_id) for step in steps]


def completed_trip(partner_id: str) -> list[Event]:
    trip_id = str(uuid.uuid4())
    planned = TripPlanned.model_validate(
        {
            "title": {"en": "Mayor's visit to Busan", "zh-TW": "市長訪問釜山"},
            "officials": [{"name": "Mayor"}],
            "legs": [
                {
                    "city": {"ko": "부산"},  # only in Korean: every locale shows it so
                    "country": "KR",
                    "timezone": "Asia/Seoul",
                    "start": "2025-10-01T09:00:00+09:00",
                    "end": "2025-10-03T18:00:00+09:00",
                    "partner_ids": [partner_id],
                }
            ],
        }
    )
    return [event(planned, trip_id), event(TripCompleted(), trip_id)]


def city_event(
    title: dict[str, str], *, days_after_now: int, open_to_partners: bool = True
) -> Event:
    starts = NOW + timedelta(days=days_after_now)
    return event(
        CityEventScheduled.model_validate(
            {
                "kind": "festival",
                "title": title,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=4),
                "timezone": "Asia/Taipei",
                "venue": {"place": "Riverside Park"},
                "open_to_partners": open_to_partners,
            }
        )
    )


class History:
    """Three partners and what happened with them: exchanges (one with hostile text), a
    completed visit from Busan, a completed trip to Busan, a contact, an upcoming event."""

    def __init__(self) -> None:
        self.sapporo = partner(
            SAPPORO,
            kind="friendly",
            agreement_date=date(2016, 10, 12),
            location={"latitude": 43.06, "longitude": 141.35},
        )
        self.busan = partner(
            BUSAN,
            country="KR",
            kind="mou",
            timezone="Asia/Seoul",
            agreement_date=date(2019, 5, 20),
            location={"latitude": 35.18, "longitude": 129.08},
        )
        self.valencia = partner(
            {**VALENCIA, "ja": HOSTILE},
            country="ES",
            kind="friendly",
            timezone="Europe/Madrid",
            agreement_date=date(2014, 3, 3),
            agreement_scope=HOSTILE,
        )
        self.events = [
            self.sapporo,
            self.busan,
            self.valencia,
            contact(self.sapporo.aggregate_id),
            exchange(
                [self.sapporo.aggregate_id],
                date(2024, 7, 1),
                "education",
                {"zh-TW": "高中生交流", "en": "High-school exchange", "ja": "高校生交流"},
            ),
            exchange(
                [self.sapporo.aggregate_id, self.busan.aggregate_id],
                date(2025, 2, 10),
                "culture",
                {"zh-TW": "燈會共同演出", "en": "Joint lantern festival show"},
            ),
            exchange(
                [self.valencia.aggregate_id],
                date(2025, 9, 3),
                "sports",
                {"en": HOSTILE},
            ),
            *completed_visit(self.busan.aggregate_id),
            *completed_trip(self.busan.aggregate_id),
            city_event(
                {"zh-TW": "國際燈會", "en": "International Lantern Festival"}, days_after_now=20
            ),
        ]

    @property
    def ids(self) -> dict[str, str]:
        return {
            "sapporo": self.sapporo.aggregate_id,
            "busan": self.busan.aggregate_id,
            "valencia": self.valencia.aggregate_id,
        }


def refresh(
    settings: Settings,
    *,
    render: Callable[[Document, str | None], tuple[str, bytes]] | None = None,
    now: datetime = NOW,
    go_on: Callable[[], bool] | None = None,
) -> RefreshReport:
    """Run the renderer once over every due document (in a thread, as `twinning.publicity`
    does without a process pool), while `go_on()` says so."""

    async def run() -> RefreshReport:
        engine = make_async_engine(settings.async_database_url)
        try:
            options: dict[str, Any] = {"clock": lambda: now}
            if render is not None:
                options["render"] = render
            refresher = Refresher(
                async_sessionmaker(engine, expire_on_commit=False), settings, **options
            )
            return await refresher.refresh(go_on=go_on)
        finally:
            await engine.dispose()

    return asyncio.run(run())


class CountingRender:
    """Stands in for the real renderer where only *whether* something renders matters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, document: Document, font_dir: str | None) -> tuple[str, bytes]:
        name = (
            "leaflet" if not hasattr(document, "partner_id") else f"brochure:{document.partner_id}"
        )
        self.calls.append((name, document.locale))
        return f"<html lang='{document.locale}'>{name}</html>", b"%PDF-1.7 stand-in"


# --- reading PDFs -----------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The text of every page, with each line break read as a space (Latin scripts) and, after
    it, as nothing (Chinese, Japanese): a phrase wrapped in a narrow panel is still found."""
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    return " ".join(text.split()) + "\n" + "".join(text.split("\n"))


def _to_unicode(cmap: bytes) -> Iterator[str]:
    """The characters a ToUnicode CMap maps glyphs to (bfchar and bfrange entries)."""
    text = cmap.decode("latin-1")
    for block in text.split("beginbfchar")[1:]:
        for line in block.split("endbfchar")[0].strip().splitlines():
            parts = line.replace("<", " ").replace(">", " ").split()
            if len(parts) == 2:
                yield bytes.fromhex(parts[1]).decode("utf-16-be")
    for block in text.split("beginbfrange")[1:]:
        for line in block.split("endbfrange")[0].strip().splitlines():
            parts = line.replace("<", " ").replace(">", " ").replace("[", " ").split()
            if len(parts) >= 3:
                low, high, first = int(parts[0], 16), int(parts[1], 16), parts[2]
                start = ord(bytes.fromhex(first).decode("utf-16-be"))
                yield from (chr(start + n) for n in range(high - low + 1))


def embedded_fonts(pdf: bytes) -> dict[str, set[str]]:
    """BaseFont name -> the characters its embedded glyphs stand for, over every page and
    form XObject (SVG pictures are drawn as forms)."""
    fonts: dict[str, set[str]] = {}

    def visit(resources: Any) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            covered = fonts.setdefault(str(font["/BaseFont"]), set())
            if "/ToUnicode" in font:
                covered.update(_to_unicode(font["/ToUnicode"].get_object().get_data()))
        for xobject in (resources.get("/XObject") or {}).values():
            visit(xobject.get_object().get("/Resources"))

    for page in PdfReader(BytesIO(pdf)).pages:
        visit(page.get("/Resources"))
    return fonts


def rendered_history(projection: Projection) -> History:
    """`History` applied and its documents rendered once (by a counter): a starting point
    where every document is current. A seed for `SeededDatabases`."""
    history = History()
    projection.apply(*history.events)
    refresh(projection.settings, render=CountingRender())
    return history
