"""The published contract is as strict as the worker (issue 20, item 10).

An independent producer validates what it sends against `streams/schemas/<Type>.v<N>.json`.
For every reason the worker refuses an event, a sample that breaks it is refused by the
published schema too, or, where JSON Schema cannot express the rule (one field against
another), the schema's description states it. A valid sample of every event passes both.

Formats (`date-time`, `uri`, `email`...) are asserted as a producer's validator does when it
checks formats (an RFC 3339 time carries its offset); JSON Schema leaves that optional.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import sample_partner
from jsonschema import Draft202012Validator, FormatChecker
from twinning.streams.events import (
    EVENT_TYPES,
    RULES_HEADING,
    SCHEMA_DIR,
    InvalidEvent,
    Update,
    decode,
)

# --- the published schemas, and a validator as a producer would use ---------------------------

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return "T" in value.upper() and datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc) and not any(c.isspace() for c in value)


@cache
def published(event_type: str) -> dict[str, Any]:
    path = SCHEMA_DIR / f"{event_type}.v1.json"
    return json.loads(path.read_text(encoding="utf-8"))


def schema_errors(message: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(published(message["type"]), format_checker=FORMATS)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(message)
    ]


def worker_reason(message: dict[str, Any]) -> str | None:
    """Why the worker refuses `message` (None: it accepts it)."""
    topic = published(message["type"])["x-topic"]
    try:
        decode(json.dumps(message).encode(), topic=topic)
    except InvalidEvent as refused:
        return refused.reason
    return None


def message(event_type: str, payload: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "schema_version": 1,
        "occurred_at": "2026-03-01T09:30:00+08:00",
        "aggregate_id": "agg-1",
        "actor": "protocol@example.org",
        "payload": payload,
        **envelope,
    }


# --- a valid sample of every event ----------------------------------------------------------

NAMES = {"zh-TW": "臺北市", "en": "Taipei", "ja": "台北市"}
OUTSIDE = {"names": {"en": "Tea factory"}, "timezone": "Asia/Taipei"}
LEG_1 = {
    "city": {"en": "Osaka"},
    "country": "JP",
    "timezone": "Asia/Tokyo",
    "start": "2026-04-01T09:00:00+09:00",
    "end": "2026-04-03T18:00:00+09:00",
    "partner_ids": ["p-1"],
}
LEG_2 = {
    **LEG_1,
    "city": {"en": "Paris"},
    "country": "FR",
    "timezone": "Europe/Paris",
    "start": "2026-04-04T09:00:00+02:00",
    "end": "2026-04-06T18:00:00+02:00",
    "partner_ids": ["p-2"],
}

VALID: dict[str, dict[str, Any]] = {
    "PartnerCityRegistered": {
        **sample_partner(),
        "agreement_scope": "Culture and youth\nexchanges",
        "region": "Kansai",
        "status": "active",
        "languages": ["ja", "en", "zh-Hant-TW"],
        "website": "https://www.city.example.jp/",
        "fields_of_cooperation": ["education", "culture"],
        "location": {"latitude": 34.69, "longitude": 135.5},
    },
    "PartnerCityUpdated": {"region": "Kanto", "agreement_date": None, "location": None},
    "ForeignMissionRegistered": {
        "names": {"en": "Japan-Taiwan Exchange Association"},
        "country": "JP",
        "kind": "representative-office",
        "address": {"en": "28 Qingcheng St."},
        "website": "https://www.koryu.example/",
    },
    "ForeignMissionUpdated": {"address": None, "kind": "trade-office"},
    "ContactRegistered": {
        "partner_id": "p-1",
        "name": "Sato Hanako",
        "title": "Director",
        "email": "sato@city.example.jp",
        "phone": "+81 6 6208 8181",
        "preferred_language": "ja",
    },
    "ContactUpdated": {"title": None, "email": "hanako@city.example.jp"},
    "ContactErased": {},
    "OfficialRegistered": {"names": {"en": "Chiang"}, "title": {"en": "Mayor"}, "protocol_rank": 1},
    "OfficialUpdated": {"protocol_rank": 2},
    "InterpreterRegistered": {
        "name": "Lin Mei-hua",
        "language_pairs": [{"source": "zh-TW", "target": "ja"}],
        "engagement": "in-house",
        "contact": {"email": "lin@example.org", "phone": None},
    },
    "InterpreterUpdated": {"contact": None, "engagement": "contracted"},
    "InterpreterContactErased": {},
    "VenueRegistered": {
        "names": {"en": "Reception Hall"},
        "capacity": 120,
        "timezone": "Asia/Taipei",
        "address": {"en": "1 City Hall Rd."},
    },
    "VenueUpdated": {"address": None, "capacity": 80},
    "VisitRequested": {
        "delegation": {"organisation": {"en": "Osaka Chamber of Commerce"}},
        "head_of_delegation": {
            "names": {"en": "Tanaka"},
            "title": {"en": "Chair"},
            "protocol_rank": 3,
        },
        "members": 12,
        "purpose": {"en": "Trade mission"},
        "requested_from": "2026-05-10",
        "requested_to": "2026-05-10",
        "languages": ["ja", "en"],
        "interpreter_needed": True,
        "dietary_notes": "Two vegetarians",
        "contact": {"name": "Ito", "email": "ito@example.jp", "phone": "+81 6 1234 5678"},
    },
    "VisitApproved": {"reason": "Welcome"},
    "VisitDeclined": {},
    "VisitScheduled": {"reason": None},
    "VisitCompleted": {"exchange_id": "e-1"},
    "VisitCancelled": {"reason": "Typhoon"},
    "VisitTalkingPointsWritten": {"talking_points": "Thank them for the snow sculptures"},
    "VisitRequestAccepted": {},
    "VisitDelegationMembersListed": {
        "members": [
            {
                "names": {"ja": "安部愛子", "en": "Aiko Abe"},
                "title": {"en": "Deputy Mayor"},
                "protocol_rank": 2,
                "forms_of_address": {"ja": "安部副市長殿"},
                "dietary_notes": "no shellfish",
            }
        ]
    },
    "ItineraryItemAdded": {
        "item_id": "i-1",
        "starts_at": "2026-05-10T10:00:00+08:00",
        "ends_at": "2026-05-10T11:00:00+08:00",
        "venue_id": "v-1",
        "official_ids": ["o-1", "o-2"],
        "interpreter": "Lin Mei",
        "titles": {"en": "Courtesy call", "zh-TW": "拜會"},
        "override": {"reason": "The mayor insists", "conflicts": []},
    },
    "ItineraryItemChanged": {"item_id": "i-1", "venue_id": None, "place": OUTSIDE},
    "ItineraryItemRemoved": {"item_id": "i-1", "reason": "Rain"},
    "ExchangeRecorded": {
        "partner_ids": ["p-1"],
        "date": "2026-05-10",
        "field": "economy-and-trade",
        "direction": "inbound",
        "summary": {"en": "Trade mission from Osaka"},
        "participants": 12,
        "source": {"kind": "visit", "id": "v-9"},
    },
    "TripPlanned": {
        "title": {"en": "Spring trip"},
        "officials": [{"official_id": "o-1"}, {"name": "Deputy Mayor Wu"}],
        "legs": [LEG_1, LEG_2],
        "international_event": {"en": "World Cities Summit"},
    },
    "TripUpdated": {
        "international_event": None,
        "officials": [{"official_id": "o-1", "name": "Mayor"}],
    },
    "TripCompleted": {"exchange_id": "e-2"},
    "TripCancelled": {},
    "CityEventScheduled": {
        "kind": "festival",
        "title": {"en": "Lantern Festival"},
        "starts_at": "2026-02-20T18:00:00+08:00",
        "ends_at": "2026-02-20T22:00:00+08:00",
        "timezone": "Asia/Taipei",
        "venue": {"place": "Main square"},
        "video_link": "https://video.example/lanterns",
        "open_to_partners": True,
    },
    "CityEventUpdated": {"venue": None, "description": None, "open_to_partners": False},
    "CityEventCancelled": {"reason": "Weather"},
    "CityEventCompleted": {"field": "culture", "summary": {"en": "Lanterns"}, "exchange_id": None},
    "InvitationSent": {
        "invitation_id": "inv-1",
        "invitee_kind": "mission",
        "invitee_id": "m-1",
        "answer_by": "2026-02-01",
    },
    "InvitationWithdrawn": {"invitation_id": "inv-1"},
    "RsvpRecorded": {
        "invitation_id": "inv-1",
        "answer": "accepted-in-person",
        "delegates": 3,
        "received_via": "letter",
    },
    "PlanAdopted": {
        "year": 2025,
        "title": {"zh-TW": "國際事務計畫"},
        "goals": [
            {
                "key": "diplomacy",
                "title": {"en": "City diplomacy"},
                "work_items": [
                    {
                        "key": "exchanges",
                        "title": {"en": "Exchanges"},
                        "section": "International affairs",
                        "budget": 10900,
                        "kpis": [
                            {
                                "key": "attending",
                                "name": {"en": "Partners attending"},
                                "target": 20,
                                "computed": {
                                    "measure": "invitation-answers",
                                    "filters": {"answer": ["accepted-by-video"]},
                                },
                            },
                            {"key": "editions", "name": {"en": "Editions"}, "target": 4},
                        ],
                    }
                ],
            }
        ],
    },
    "SpendingRecorded": {
        "work_item": "exchanges",
        "date": "2025-03-05",
        "amount": "1250.5",
        "purpose": "Gifts",
    },
    "KpiValueEntered": {"kpi": "editions", "date": "2025-03-31", "value": 1, "source": "Invoice"},
    "GiftRecorded": {
        "direction": "given",
        "description": {"zh-TW": "漆器禮盒", "en": "A lacquer box"},
        "category": "craft",
        "date": "2025-04-02",
        "giver": {"kind": "official", "id": "o-1"},
        "recipient": {"kind": "partner", "id": "p-1", "name": "Mayor Tanaka"},
        "occasion": {"kind": "visit", "id": "v-1"},
        "estimated_value": "12000.50",
        "currency": "TWD",
        "location": "on-display",
        "photo": {"sha256": "a" * 64, "media_type": "image/jpeg", "size": 1234},
    },
    "GiftUpdated": {"location": "returned", "notes": None, "photo": None},
    "GiftApproved": {"note": "Within the budget"},
    "PressItemRecorded": {
        "kind": "article",
        "outlet": "Taipei Times",
        "date": "2026-05-11",
        "language": "en",
        "title": {"en": "Osaka delegation tours the city"},
        "link": "https://example.org/news/1",
        "covers": [{"kind": "visit", "id": "v-9"}, {"kind": "exchange", "id": "x-1"}],
    },
    "PressItemUpdated": {"link": None, "covers": []},
    "CityProfileSet": {
        "about": {"zh-TW": "國家的門戶", "en": "The country's gateway"},
        "figures": [{"label": {"en": "Population", "zh-TW": "人口"}, "value": "2,300,000"}],
    },
    "PhotoAttached": {
        "subject_kind": "partner",
        "subject_id": "p-1",
        "partner_ids": ["p-1"],
        "file": {
            "sha256": "a" * 64,
            "media_type": "image/jpeg",
            "size": 120_000,
            "width": 2400,
            "height": 1600,
        },
        "caption": {"zh-TW": "札幌雪祭", "en": "Sapporo Snow Festival"},
        "alt": {"en": "Snow sculptures in Odori Park"},
    },
    "PhotoDescribed": {"caption": {}, "alt": {"zh-TW": "大通公園的雪雕"}},
    "PhotoRemoved": {},
}

#: More valid shapes the rules must leave alone (the other branches of a oneOf or an if).
ALSO_VALID: list[tuple[str, dict[str, Any]]] = [
    ("ContactRegistered", {"mission_id": "m-1", "partner_id": None, "name": "Kim"}),
    ("VisitRequested", {**VALID["VisitRequested"], "delegation": {"partner_id": "p-1"}}),
    (
        "VisitRequested",
        {**VALID["VisitRequested"], "delegation": {"mission_id": "m-1", "partner_id": None}},
    ),
    ("ItineraryItemAdded", {**VALID["ItineraryItemAdded"], "venue_id": None, "place": OUTSIDE}),
    ("ItineraryItemChanged", {"item_id": "i-1", "venue_id": "v-2", "place": None}),
    ("ItineraryItemChanged", {"item_id": "i-1", "venue_id": None, "place": None}),
    ("ItineraryItemChanged", {"item_id": "i-1", "press": True, "override": None}),
    ("CityEventScheduled", {**VALID["CityEventScheduled"], "venue": {"venue_id": "v-1"}}),
    ("RsvpRecorded", {"invitation_id": "inv-1", "answer": "declined", "received_via": "portal"}),
    (
        "RsvpRecorded",
        {
            "invitation_id": "inv-1",
            "answer": "accepted-by-video",
            "delegates": None,
            "received_via": "email",
        },
    ),
    (
        "PartnerCityRegistered",
        {**sample_partner(), "names": {"EN-us": "Testville", "es-419": "Testville"}},
    ),
    (
        "ExchangeRecorded",
        {**VALID["ExchangeRecorded"], "partner_ids": [], "mission_ids": ["m-1"]},
    ),
    (
        "ExchangeRecorded",
        {
            **{k: v for k, v in VALID["ExchangeRecorded"].items() if k != "partner_ids"},
            "organisations": [{"en": "Taoyuan Chamber of Commerce"}],
        },
    ),
    (
        "GiftRecorded",
        {
            **VALID["GiftRecorded"],
            "giver": {"kind": "person", "name": "Consul Weber", "id": None},
            "estimated_value": None,
            "currency": None,
        },
    ),
]


def test_there_is_a_valid_sample_of_every_event() -> None:
    assert set(VALID) == {name for name, _ in EVENT_TYPES}


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [*VALID.items(), *ALSO_VALID],
    ids=[*VALID, *(f"{name}-{n}" for n, (name, _) in enumerate(ALSO_VALID))],
)
def test_a_valid_event_passes_the_worker_and_its_published_schema(
    event_type: str, payload: dict[str, Any]
) -> None:
    sample = message(event_type, payload)
    assert worker_reason(sample) is None
    assert schema_errors(sample) == []


def test_every_published_schema_is_a_valid_json_schema() -> None:
    for name, _ in EVENT_TYPES:
        schema = published(name)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# --- what the worker refuses, the schema refuses ----------------------------------------------

DROP = object()


def changed(event_type: str, *changes: tuple[tuple[Any, ...], Any]) -> dict[str, Any]:
    """The valid sample of `event_type`, with the value at each path of its payload replaced
    (`DROP`: removed)."""
    payload = copy.deepcopy(VALID[event_type])
    for path, value in changes:
        target = payload
        for step in path[:-1]:
            target = target[step]
        if value is DROP:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return message(event_type, payload)


def nulled_fields() -> list[tuple[str, dict[str, Any]]]:
    """`null` for every field of every update that may change but not be cleared."""
    found = []
    for event_type in EVENT_TYPES.values():
        model = event_type.payload
        if issubclass(model, Update):
            for name in model.model_fields.keys() - model.clearable:
                payload = {**VALID[event_type.name], name: None}
                found.append((f"null {event_type.name}.{name}", message(event_type.name, payload)))
    return sorted(found, key=lambda case: case[0])


def empty_updates() -> list[tuple[str, dict[str, Any]]]:
    """An update of every kind that changes nothing."""
    found = []
    for event_type in EVENT_TYPES.values():
        if issubclass(event_type.payload, Update):
            required = {"item_id": "i-1"} if "item_id" in event_type.payload.model_fields else {}
            found.append((f"empty {event_type.name}", message(event_type.name, required)))
    return sorted(found, key=lambda case: case[0])


REFUSED: list[tuple[str, dict[str, Any]]] = [
    # unknown ISO 3166 country codes
    ("country XX", changed("PartnerCityRegistered", (("country",), "XX"))),
    (
        "country EU (a CLDR region, not a country)",
        changed("PartnerCityRegistered", (("country",), "EU")),
    ),
    ("country 'Japan'", changed("ForeignMissionRegistered", (("country",), "Japan"))),
    ("country in an update", message("ForeignMissionUpdated", {"country": "QQ"})),
    ("country of a trip leg", changed("TripPlanned", (("legs", 1, "country"), "ZZ"))),
    # unknown IANA time zones
    ("zone Mars/Olympus", changed("PartnerCityRegistered", (("timezone",), "Mars/Olympus"))),
    (
        "zone 'localtime' (the host's, not IANA)",
        changed("VenueRegistered", (("timezone",), "localtime")),
    ),
    ("zone in an update", message("VenueUpdated", {"timezone": "Asia/Atlantis"})),
    ("zone of an outside place", changed("ItineraryItemChanged", (("place", "timezone"), "GMT+8"))),
    ("zone of a trip leg", changed("TripPlanned", (("legs", 0, "timezone"), "Asia/Osaka"))),
    ("zone of a city event", changed("CityEventScheduled", (("timezone",), "Taipei"))),
    # language tags that are not tags
    (
        "language key 'english!'",
        changed("PartnerCityRegistered", (("names",), {"english!": "Testville"})),
    ),
    ("language key en_US", changed("OfficialRegistered", (("title",), {"en_US": "Mayor"}))),
    ("language key en.UTF-8", changed("VenueRegistered", (("names",), {"en.UTF-8": "Hall"}))),
    ("languages [e]", changed("PartnerCityRegistered", (("languages",), ["e"]))),
    ("languages [root]", changed("VisitRequested", (("languages",), ["ja", "root"]))),
    (
        "preferred language 'Japanese'",
        changed("ContactRegistered", (("preferred_language",), "Japanese")),
    ),
    # a delegation names exactly one party
    (
        "delegation of two",
        changed("VisitRequested", (("delegation",), {"partner_id": "p-1", "mission_id": "m-1"})),
    ),
    (
        "delegation of a partner and an organisation",
        changed(
            "VisitRequested", (("delegation",), {"partner_id": "p-1", "organisation": {"en": "X"}})
        ),
    ),
    (
        "delegation of three",
        changed(
            "VisitRequested",
            (("delegation",), {"partner_id": "p", "mission_id": "m", "organisation": {"en": "X"}}),
        ),
    ),
    ("delegation of none", changed("VisitRequested", (("delegation",), {}))),
    (
        "delegation of nulls",
        changed("VisitRequested", (("delegation",), {"partner_id": None, "organisation": None})),
    ),
    # a contact belongs to exactly one partner city or mission
    ("contact of both", changed("ContactRegistered", (("mission_id",), "m-1"))),
    ("contact of neither", changed("ContactRegistered", (("partner_id",), DROP))),
    ("contact of null", changed("ContactRegistered", (("partner_id",), None))),
    # where: a venue or a place, exactly one
    (
        "city event at a venue and a place",
        changed("CityEventScheduled", (("venue", "venue_id"), "v-1")),
    ),
    ("city event venue of neither", changed("CityEventScheduled", (("venue",), {}))),
    ("item at a venue and a place", changed("ItineraryItemAdded", (("place",), OUTSIDE))),
    ("item at neither", changed("ItineraryItemAdded", (("venue_id",), DROP))),
    ("item at null", changed("ItineraryItemAdded", (("venue_id",), None))),
    ("item moved to a venue and a place", changed("ItineraryItemChanged", (("venue_id",), "v-1"))),
    # a trip's official has an id or a name
    ("trip official of neither", changed("TripPlanned", (("officials", 1), {}))),
    (
        "trip official of nulls",
        changed("TripUpdated", (("officials", 0), {"official_id": None, "name": None})),
    ),
    # an exchange names a counterpart: a partner, a mission or an organisation
    ("exchange with nobody", changed("ExchangeRecorded", (("partner_ids",), []))),
    ("exchange without partners", changed("ExchangeRecorded", (("partner_ids",), DROP))),
    # a gift's giver or recipient: an id for a record, a name for a person; value with currency
    ("gift from a nameless person", changed("GiftRecorded", (("giver",), {"kind": "person"}))),
    ("gift to a partner without id", changed("GiftRecorded", (("recipient", "id"), DROP))),
    ("gift value without currency", changed("GiftRecorded", (("currency",), DROP))),
    ("gift currency without value", changed("GiftRecorded", (("estimated_value",), None))),
    ("gift in an unknown currency", changed("GiftRecorded", (("currency",), "XYZ"))),
    # delegates come in person, and only then
    ("in person without delegates", changed("RsvpRecorded", (("delegates",), DROP))),
    ("in person with null delegates", changed("RsvpRecorded", (("delegates",), None))),
    ("declined with delegates", changed("RsvpRecorded", (("answer",), "declined"))),
    ("by video with delegates", changed("RsvpRecorded", (("answer",), "accepted-by-video"))),
    # updates that change nothing, and nulls where clearing is refused
    *empty_updates(),
    (
        "item change of only an override",
        message("ItineraryItemChanged", {"item_id": "i-1", "override": {"reason": "x"}}),
    ),
    *nulled_fields(),
    # the other rules of the validators
    ("no languages at all", changed("PartnerCityRegistered", (("names",), {}))),
    ("an empty title in an update", message("OfficialUpdated", {"title": {}})),
    ("an official named twice", changed("ItineraryItemAdded", (("official_ids",), ["o-1", "o-1"]))),
    ("NUL in a name", changed("ContactRegistered", (("name",), "Sato\x00Hanako"))),
    (
        "ESC in a multilingual text",
        changed("VisitRequested", (("purpose", "en"), "Trade \x1b[31m")),
    ),
    (
        "a control character in a list item",
        changed("PartnerCityRegistered", (("fields_of_cooperation",), ["a\x07"])),
    ),
    ("a control character in an id", changed("InvitationSent", (("invitee_id",), "p\x0b1"))),
    (
        "a blank reason for an override",
        changed("ItineraryItemAdded", (("override", "reason"), "   ")),
    ),
    ("a blank name", changed("ContactRegistered", (("name",), " \t\n "))),
    ("a text too long", changed("VisitRequested", (("dietary_notes",), "x" * 2001))),
    ("an unknown field", changed("PartnerCityRegistered", (("mayor",), "Chiang"))),
    ("an unknown kind", changed("PartnerCityRegistered", (("kind",), "enemy"))),
    ("no members", changed("VisitRequested", (("members",), 0))),
    ("a latitude off the Earth", changed("PartnerCityRegistered", (("location", "latitude"), 91))),
    ("a phone that is not one", changed("ContactRegistered", (("phone",), "call me"))),
    (
        "an email that is not one",
        changed("VisitRequested", (("contact", "email"), "ito at example")),
    ),
    ("a trip without legs", changed("TripPlanned", (("legs",), []))),
    ("a missing required field", changed("InvitationSent", (("answer_by",), DROP))),
    ("a string for a number", changed("VenueRegistered", (("capacity",), "many"))),
    # formats
    ("a contact email without @", changed("ContactRegistered", (("email",), "sato.example.jp"))),
    ("a website that is no URL", changed("PartnerCityRegistered", (("website",), "www example"))),
    (
        "a time without its offset",
        changed("CityEventScheduled", (("starts_at",), "2026-02-20T18:00:00")),
    ),
    ("a day that does not exist", changed("InvitationSent", (("answer_by",), "2026-02-30"))),
    # the envelope
    ("an event id that is no UUID", message("ContactErased", {}, event_id="42")),
    (
        "an occurred_at without offset",
        message("ContactErased", {}, occurred_at="2026-03-01T09:30:00"),
    ),
    ("another schema version", message("ContactErased", {}, schema_version=2)),
    ("no actor", message("ContactErased", {}, actor="")),
]


@pytest.mark.parametrize(("case", "sample"), REFUSED, ids=[case for case, _ in REFUSED])
def test_what_the_worker_refuses_the_published_schema_refuses(
    case: str, sample: dict[str, Any]
) -> None:
    assert worker_reason(sample) is not None, f"the worker accepts {case}"
    assert schema_errors(sample), f"the published schema of {sample['type']} accepts {case}"


def cleared_fields() -> list[tuple[str, dict[str, Any]]]:
    """`null` for every field of every update that may be cleared."""
    found = []
    for event_type in EVENT_TYPES.values():
        model = event_type.payload
        if issubclass(model, Update):
            for name in model.clearable & model.model_fields.keys():
                payload = {**VALID[event_type.name], name: None}
                found.append((f"null {event_type.name}.{name}", message(event_type.name, payload)))
    return sorted(found, key=lambda case: case[0])


@pytest.mark.parametrize(
    ("case", "sample"), cleared_fields(), ids=[case for case, _ in cleared_fields()]
)
def test_a_field_that_may_be_cleared_stays_nullable(case: str, sample: dict[str, Any]) -> None:
    assert worker_reason(sample) is None
    assert schema_errors(sample) == []


def test_the_worker_refuses_with_the_reason_a_producer_reads_in_the_schema() -> None:
    """Spot checks that the refusals above are refused for the reason named."""
    assert "country" in str(worker_reason(REFUSED[0][1]))
    assert "not cleared" in str(worker_reason(message("VenueUpdated", {"names": None})))
    assert "at least one field" in str(worker_reason(message("VenueUpdated", {})))
    assert "exactly one" in str(
        worker_reason(
            changed("VisitRequested", (("delegation",), {"partner_id": "p", "mission_id": "m"}))
        )
    )


# --- what JSON Schema cannot express, the description states ----------------------------------

#: (why the worker refuses, a sample it refuses that JSON Schema cannot, what the schema's
#: description says of it).
STATED: list[tuple[str, dict[str, Any], str]] = [
    (
        "requested_to before requested_from",
        changed("VisitRequested", (("requested_to",), "2026-05-09")),
        "`requested_to` is not before `requested_from`",
    ),
    (
        "a leg that ends before it starts",
        changed("TripPlanned", (("legs", 0, "end"), "2026-04-01T08:00:00+09:00")),
        "A leg's `end` is after its `start`",
    ),
    (
        "legs that overlap",
        changed("TripPlanned", (("legs", 1, "start"), "2026-04-03T09:00:00+02:00")),
        "`legs` are in order and do not overlap",
    ),
    (
        "legs out of order",
        changed("TripUpdated", (("legs",), [LEG_2, LEG_1])),
        "`legs` are in order and do not overlap",
    ),
    (
        "more than 50 partner cities on a trip",
        message(
            "TripPlanned",
            {
                **VALID["TripPlanned"],
                "legs": [
                    {
                        **LEG_1,
                        "start": f"2026-04-{day:02d}T09:00:00+09:00",
                        "end": f"2026-04-{day:02d}T18:00:00+09:00",
                        "partner_ids": [f"p-{day}-{n}" for n in range(20)],
                    }
                    for day in (1, 2, 3)
                ],
            },
        ),
        "at most 50 different partner cities",
    ),
    (
        "an itinerary item that ends as it starts",
        changed("ItineraryItemAdded", (("ends_at",), "2026-05-10T10:00:00+08:00")),
        "`ends_at` is after `starts_at`",
    ),
    (
        "an itinerary change that ends before it starts",
        message(
            "ItineraryItemChanged",
            {
                "item_id": "i-1",
                "starts_at": "2026-05-10T10:00:00Z",
                "ends_at": "2026-05-10T09:00:00Z",
            },
        ),
        "When both `starts_at` and `ends_at` are given, `ends_at` is after `starts_at`",
    ),
    (
        "a city event that ends before it starts",
        changed("CityEventScheduled", (("ends_at",), "2026-02-20T17:00:00+08:00")),
        "`ends_at` is after `starts_at`",
    ),
    (
        "a city event update that ends before it starts",
        message(
            "CityEventUpdated",
            {"starts_at": "2026-02-20T18:00:00+08:00", "ends_at": "2026-02-20T10:00:00Z"},
        ),
        "When both `starts_at` and `ends_at` are given, `ends_at` is after `starts_at`",
    ),
    (
        "a well-formed language tag CLDR does not know",
        changed("PartnerCityRegistered", (("names",), {"qq": "Testville"})),
        "a well-formed tag of an unknown language",
    ),
    (
        "a well-formed unknown language tag in a list",
        changed("ContactRegistered", (("preferred_language",), "en-XX")),
        "a well-formed tag of an unknown language",
    ),
]


@pytest.mark.parametrize(("case", "sample", "rule"), STATED, ids=[case for case, _, _ in STATED])
def test_what_json_schema_cannot_express_the_description_states(
    case: str, sample: dict[str, Any], rule: str
) -> None:
    assert worker_reason(sample) is not None, f"the worker accepts {case}"
    description = published(sample["type"])["description"]
    _, heading, rules = description.partition(RULES_HEADING)
    assert heading, f"{sample['type']} states no rules in its description"
    assert rule in rules, f"{sample['type']}'s description does not state: {rule}"
