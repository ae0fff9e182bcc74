"""A visit being prepared, for the briefing tests: its partner's history (exchanges, an
earlier visit with a gift, a trip there), the city's officials and a venue, an itinerary with
internal lines (talking points, a gift, an interpreter's name, notes), personal data of the
delegation, and another visit whose changes must not touch this one's documents."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from publicity_support import event, exchange, partner
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from twinning.calendar.models import FeedLink
from twinning.streams.events import (
    Event,
    ItineraryItemAdded,
    OfficialRegistered,
    VenueRegistered,
    VisitApproved,
    VisitCompleted,
    VisitRequested,
    VisitScheduled,
    VisitTalkingPointsWritten,
)

SAPPORO = {"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"}
BUSAN = {"zh-TW": "釜山廣域市", "en": "Busan", "ko": "부산광역시"}

#: What only the briefing book may show.
VISIT_POINTS = "Thank Sapporo for the snow sculptures lent in 2025"
ITEM_POINTS = "Raise the direct flight from Chitose"
GIFT = "Hand-painted Hakka fan"
EARLIER_GIFT = "Sapporo glassware set"
INTERPRETER = "Chen Yu-ting Interpreter"
NOTES = "Enter by the east gate"
DIETARY = "Two vegetarians; no shellfish"
ACCESSIBILITY = "One wheelchair user"
INTERNAL = (
    VISIT_POINTS,
    ITEM_POINTS,
    GIFT,
    EARLIER_GIFT,
    INTERPRETER,
    NOTES,
    DIETARY,
    ACCESSIBILITY,
)
#: The delegation's own contact: in both documents.
CONTACT = "Hanako Sato"
CONTACT_EMAIL = "sato@example.jp"
#: The other visit's contact: in neither.
OTHER_CONTACT = "Kim Other-Contact"

COURTESY_CALL = {"zh-TW": "拜會市長", "en": "Courtesy call on the mayor", "ja": "市長表敬訪問"}
LUNCH = {"zh-TW": "午宴", "en": "Working lunch", "ja": "昼食会"}


def requested(
    partner_id: str, *, contact: str, languages: list[str], **more: Any
) -> VisitRequested:
    return VisitRequested.model_validate(
        {
            "delegation": {"partner_id": partner_id},
            "head_of_delegation": {
                "names": {"ja": "秋元克広", "en": "Katsuhiro Akimoto"},
                "title": {"ja": "札幌市長", "en": "Mayor of Sapporo", "zh-TW": "札幌市長"},
                "protocol_rank": 1,
            },
            "members": 12,
            "purpose": {
                "en": "Snow festival cooperation",
                "zh-TW": "雪祭合作",
                "ja": "雪まつり協力",
            },
            "requested_from": date(2026, 5, 1),
            "requested_to": date(2026, 5, 3),
            "languages": languages,
            "interpreter_needed": True,
            "contact": {"name": contact, "email": CONTACT_EMAIL},
            **more,
        }
    )


def item(**facts: Any) -> ItineraryItemAdded:
    return ItineraryItemAdded.model_validate({"item_id": str(uuid.uuid4()), **facts})


class Briefed:
    """The history, as events; `visit` is the one being prepared, `other` another visit."""

    def __init__(self) -> None:
        self.sapporo = partner(
            SAPPORO,
            agreement_date=date(2011, 5, 20),
            agreement_scope="Culture, tourism and winter sports",
        )
        self.busan = partner(BUSAN, country="KR", timezone="Asia/Seoul")
        self.mayor = event(
            OfficialRegistered.model_validate(
                {
                    "names": {"zh-TW": "林志明", "en": "Lin Chih-ming"},
                    "title": {"zh-TW": "市長", "en": "Mayor"},
                    "protocol_rank": 1,
                }
            )
        )
        self.deputy = event(
            OfficialRegistered.model_validate(
                {
                    "names": {"zh-TW": "王美玲", "en": "Wang Mei-ling"},
                    "title": {"zh-TW": "副市長", "en": "Deputy Mayor"},
                    "protocol_rank": 2,
                }
            )
        )
        self.hall = event(
            VenueRegistered.model_validate(
                {
                    "names": {"zh-TW": "市府大禮堂", "en": "City Hall Auditorium"},
                    "capacity": 300,
                    "timezone": "Asia/Taipei",
                    "address": {"zh-TW": "縣府路1號", "en": "1 Xianfu Road"},
                }
            )
        )
        sapporo, busan = self.sapporo.aggregate_id, self.busan.aggregate_id
        mayor, deputy = self.mayor.aggregate_id, self.deputy.aggregate_id
        hall = self.hall.aggregate_id
        self.visit_id = str(uuid.uuid4())
        self.other_id = str(uuid.uuid4())
        earlier_id = str(uuid.uuid4())
        self.courtesy_call = item(
            starts_at="2026-05-01T10:00:00+08:00",
            ends_at="2026-05-01T11:00:00+08:00",
            venue_id=hall,
            official_ids=[deputy, mayor],
            interpreter=INTERPRETER,
            gift_exchange=GIFT,
            press=True,
            titles=COURTESY_CALL,
            notes_shared=NOTES,
            talking_points=ITEM_POINTS,
        )
        self.lunch = item(
            starts_at="2026-05-01T12:00:00+08:00",
            ends_at="2026-05-01T13:30:00+08:00",
            place={"names": {"en": "Riverside Restaurant"}, "timezone": "Asia/Taipei"},
            official_ids=[deputy],
            titles=LUNCH,
        )
        self.other_item = item(
            starts_at="2026-06-01T10:00:00+08:00",
            ends_at="2026-06-01T11:00:00+08:00",
            venue_id=hall,
            titles={"en": "Busan courtesy call"},
        )
        v, o = self.visit_id, self.other_id
        self.events: list[Event] = [
            self.sapporo,
            self.busan,
            self.mayor,
            self.deputy,
            self.hall,
            exchange([sapporo], date(2024, 2, 5), "culture", {"en": "Snow festival sculptors"}),
            # An earlier visit of Sapporo's delegation, with the gift exchanged then.
            event(
                requested(
                    sapporo,
                    contact="Earlier Contact",
                    languages=["ja"],
                    requested_from=date(2025, 2, 3),
                    requested_to=date(2025, 2, 4),
                    purpose={"en": "Lantern festival visit", "zh-TW": "燈會參訪"},
                ),
                earlier_id,
            ),
            event(VisitApproved(), earlier_id),
            event(
                item(
                    starts_at="2025-02-03T10:00:00+08:00",
                    ends_at="2025-02-03T11:00:00+08:00",
                    venue_id=hall,
                    gift_exchange=EARLIER_GIFT,
                    titles={"en": "Earlier call"},
                ),
                earlier_id,
            ),
            event(VisitScheduled(), earlier_id),
            event(VisitCompleted(), earlier_id),
            # The visit being prepared.
            event(
                requested(
                    sapporo,
                    contact=CONTACT,
                    languages=["ja", "en"],
                    dietary_notes=DIETARY,
                    accessibility_notes=ACCESSIBILITY,
                ),
                v,
            ),
            event(VisitApproved(), v),
            event(VisitTalkingPointsWritten(talking_points=VISIT_POINTS), v),
            event(self.courtesy_call, v),
            event(self.lunch, v),
            event(VisitScheduled(), v),
            # Another visit, of Busan, being prepared too.
            event(requested(busan, contact=OTHER_CONTACT, languages=["ko"]), o),
            event(VisitApproved(), o),
            event(self.other_item, o),
        ]


def feed_link_for(database_url: str, official_id: str, language: str) -> None:
    """The official reads the city's papers in `language`: their calendar feed link says so."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            session.add(
                FeedLink(
                    id=str(uuid.uuid4()),
                    audience=f"official:{official_id}",
                    language=language,
                    label=None,
                    token_hash=uuid.uuid4().hex * 2,
                    token_prefix="test",
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                    created_by="test",
                    rotated_at=None,
                    revoked_at=None,
                    revoked_by=None,
                )
            )
    finally:
        engine.dispose()
