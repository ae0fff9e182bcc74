"""Hostile text in every free-text field travels through the API, the topics, the feeds and the
leaflets intact and inert.

One office's work goes through the real stack (API with its relay, embedded broker, worker
process) once per database: every free-text request field that the OpenAPI schema lists is
filled with hostile text (markup, SQL, iCalendar injection, format strings, Unicode hazards,
the maximum length), each value with its own marker. Then the API reads, the events on the
topics, the office's and an official's iCal feeds, and the HTML and PDF leaflet and brochure
are each checked: every string comes back exactly as sent, nothing in it became markup, a
property or an event. Control characters other than line breaks and tabs are refused with 422
naming the field, and nothing is stored.
"""

from __future__ import annotations

import copy
import html
import io
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from conftest import Stack, start_stack, wait_for
from icalendar import Calendar
from kafka import KafkaConsumer, TopicPartition
from PIL import Image
from postgres import create_database
from sqlalchemy import select
from sqlalchemy.engine import URL
from twinning.api.app import create_app
from twinning.api.deps import get_clock
from twinning.auth.models import ApiToken
from twinning.calendar.models import FeedLink
from twinning.config import Settings
from twinning.schedule.models import BookingOverride
from twinning.streams.broker import EmbeddedBroker
from twinning.streams.store import OutboxEvent

pytestmark = pytest.mark.slow

TOPICS = (
    "twinning.partners",
    "twinning.visits",
    "twinning.invitations",
    "twinning.exchanges",
    "twinning.plans",
    "twinning.gifts",
)

# --- hostile text --------------------------------------------------------------------------

#: A 200-character line without a break: its feed line must be folded (several times).
LONG_LINE = ("long-line-ÄÖ界😀" * 20)[:200]
HAZARDS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</p><h1>",
    "'; DROP TABLE partner_cities; --",
    "\r\nBEGIN:VEVENT\r\nSUMMARY:injected\r\nEND:VEVENT",
    "line one\nline two\rline three\r\nline four\tafter a tab",
    ",;\\:",
    LONG_LINE,
    "{{ 7*7 }} ${7*7} %s %(x)s {0}",
    "Tom & Jerry &amp; &lt;b&gt; ]]>",
    "\u202eRTL override\u202c a\u200db e\u0301\u0308 𠜎😀 城市外交 도시",
    "../../etc/passwd",
)
MARKER = re.compile(r"HX\d{3}Q")
#: Filler that brings a value to its field's maximum length.
PAD = "界a😀"

#: Request string fields that are not free text: references to records, IANA zone names and
#: language tags (each checked against what exists or what is known; never shown as typed).
REFERENCE_NAMES = frozenset({"id", "timezone", "language", "languages", "preferred_language"})


def _is_reference(name: str) -> bool:
    return name in REFERENCE_NAMES or name.endswith(("_id", "_ids"))


def free_text_fields(openapi: dict[str, Any]) -> dict[str, int]:
    """Every free-text field of every request body ("METHOD /path dotted.field", `{key}` for
    a language of a multilingual text, `[]` for a list item) with its maximum length: string
    properties without enum, format or pattern that are not references."""
    components = openapi["components"]["schemas"]
    found: dict[str, int] = {}

    def walk(node: dict[str, Any], path: tuple[str, ...], operation: str) -> None:
        if "$ref" in node:
            walk(components[node["$ref"].rsplit("/", 1)[1]], path, operation)
            return
        for sub in node.get("anyOf", []) + node.get("oneOf", []) + node.get("allOf", []):
            walk(sub, path, operation)
        kind = node.get("type")
        if kind == "object" or "properties" in node:
            for name, sub in node.get("properties", {}).items():
                walk(sub, (*path, name), operation)
            if isinstance(node.get("additionalProperties"), dict):
                walk(node["additionalProperties"], (*path, "{key}"), operation)
        elif kind == "array":
            walk(node.get("items", {}), (*path, "[]"), operation)
        elif kind == "string" and not {"enum", "format", "pattern"} & node.keys():
            names = [p for p in path if p not in ("[]", "{key}")]
            if names and not _is_reference(names[-1]):
                found[f"{operation} {'.'.join(path)}"] = int(node.get("maxLength", 2000))

    for route, operations in openapi["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            # A file upload (an import) has no text fields: its cells become the JSON commands'.
            if body and "application/json" in body["content"]:
                schema = body["content"]["application/json"]["schema"]
                walk(schema, (), f"{method.upper()} {route}")
    return found


@dataclass
class Sent:
    field: str
    value: str
    #: Whether the API still reads it back (False once a later command replaced or removed it).
    readable: bool = True


class Hostile:
    """Makes one hostile value per use, each with its own marker, and remembers which field
    it went to: the tests find every value again by its marker."""

    def __init__(self, fields: dict[str, int]) -> None:
        self.fields = fields
        self.sent: dict[str, Sent] = {}

    def __call__(self, field: str, *, full: bool = False, readable: bool = True) -> str:
        limit = self.fields[field]  # a KeyError: the field is no longer free text
        n = len(self.sent)
        marker = f"HX{n:03d}Q"
        value = marker
        for hazard in HAZARDS[n % len(HAZARDS) :] + HAZARDS[: n % len(HAZARDS)]:
            if len(value) + 1 + len(hazard) <= limit:
                value += " " + hazard
        if full:
            value = (value + " " + PAD * limit)[:limit]
        assert len(value) <= limit and value == value.strip()
        self.sent[marker] = Sent(field, value, readable)
        return value

    def texts(self, field: str, *, readable: bool = True) -> dict[str, str]:
        """A multilingual text: hostile in English and in Chinese."""
        return {
            "en": self(field, readable=readable),
            "zh-TW": self(field, readable=readable),
        }

    @property
    def filled(self) -> set[str]:
        return {sent.field for sent in self.sent.values()}

    def value_of(self, marker: str) -> Sent:
        return self.sent[marker]


def strings(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from strings(value)


def hostile_leaves(document: Any, sent: dict[str, Sent]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, value) of every hostile value in a request body."""
    if isinstance(document, str):
        found = MARKER.match(document)
        if found and sent.get(found.group()) and sent[found.group()].value == document:
            yield (), document
    elif isinstance(document, dict):
        for key, value in document.items():
            for path, leaf in hostile_leaves(value, sent):
                yield (key, *path), leaf
    elif isinstance(document, list):
        for index, value in enumerate(document):
            for path, leaf in hostile_leaves(value, sent):
                yield (index, *path), leaf


def replaced(document: Any, path: tuple[Any, ...], value: str) -> Any:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def as_feed_text(value: str) -> str:
    """What iCalendar TEXT can hold of a value: CR, LF and CRLF are one line break there
    (calendar/ical.py)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


# --- the office's work, through the API ----------------------------------------------------


@dataclass
class Journey:
    """What one run of the office's work left behind, for the tests to look at."""

    stack: Stack
    hostile: Hostile
    fields: dict[str, int]
    #: Per free-text field sent with a control character: (status, body, stored rows before,
    #: stored rows after).
    refusals: dict[str, list[tuple[int, Any, int, int]]] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    feed_urls: dict[str, str] = field(default_factory=dict)
    office_uids: set[str] = field(default_factory=set)
    official_uids: set[str] = field(default_factory=set)
    event_ids: list[str] = field(default_factory=list)


class Desk:
    """Protocol staff at the real API: every command first goes in with a control character
    in each of its hostile fields in turn (it must be refused), then as written."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey
        self.client = journey.stack.client

    def stored(self) -> int:
        stack = self.journey.stack
        return stack.count(OutboxEvent) + stack.count(FeedLink) + stack.count(ApiToken)

    def send(self, method: str, path: str, body: Any, *, expect: int = 202) -> Any:
        sent = self.journey.hostile.sent
        for n, (where, value) in enumerate(hostile_leaves(body, sent)):
            control = "\x00" if n % 2 == 0 else "\x1b"
            bad = replaced(body, where, value[:-1] + control)
            before = self.stored()
            response = self.client.request(method, path, json=bad)
            detail = response.json() if response.content else None
            self.journey.refusals.setdefault(sent[MARKER.match(value).group()].field, []).append(  # type: ignore[union-attr]
                (response.status_code, (where, detail), before, self.stored())
            )

        def answered() -> httpx.Response | None:
            # 503: the worker is still applying earlier changes; staff retry, as told.
            response = self.client.request(method, path, json=body)
            return None if response.status_code == 503 else response

        response = wait_for(answered, what=f"{method} {path} to be answered")
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        answer = response.json()
        for accepted in answer if isinstance(answer, list) else [answer]:
            for key in ("event_id", "exchange_event_id"):
                if isinstance(accepted, dict) and accepted.get(key):
                    self.journey.event_ids.append(accepted[key])
        return answer

    def read(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, f"GET {path}: {response.text}"
        self.journey.reads.append(response.text)
        return response.json()


def office_work(journey: Journey) -> None:
    """Fill every free-text field, each command the way staff send it."""
    h, desk, ids = journey.hostile, Desk(journey), journey.ids
    now = datetime.now(UTC).replace(microsecond=0)

    def at(days: float, hours: float = 0) -> str:
        return (now + timedelta(days=days, hours=hours)).isoformat()

    def day(days: int) -> str:
        return (now + timedelta(days=days)).date().isoformat()

    plain = {"en": "Plain text"}

    # Our city's profile: printed on the leaflet (and on the brochures, room permitting).
    desk.send(
        "PUT",
        "/publicity/profile",
        {
            "about": h.texts("PUT /publicity/profile about.{key}"),
            "figures": [
                {
                    "label": h.texts("PUT /publicity/profile figures.[].label.{key}"),
                    "value": h("PUT /publicity/profile figures.[].value"),
                }
            ],
        },
    )

    # Partner cities: one registered hostile, one registered plain and changed to hostile.
    ids["partner"] = desk.send(
        "POST",
        "/partners",
        {
            "names": h.texts("POST /partners names.{key}"),
            "country": "JP",
            "kind": "sister",
            "timezone": "Asia/Tokyo",
            "agreement_scope": h("POST /partners agreement_scope", full=True),
            "region": h("POST /partners region"),
            "languages": ["ja", "en"],
            "fields_of_cooperation": [
                h("POST /partners fields_of_cooperation.[]", full=True),
                h("POST /partners fields_of_cooperation.[]"),
            ],
        },
    )["id"]
    ids["partner2"] = desk.send(
        "POST",
        "/partners",
        {"names": plain, "country": "KR", "kind": "friendly", "timezone": "Asia/Seoul"},
    )["id"]
    desk.send(
        "PATCH",
        f"/partners/{ids['partner2']}",
        {
            "names": h.texts("PATCH /partners/{partner_id} names.{key}"),
            "agreement_scope": h("PATCH /partners/{partner_id} agreement_scope"),
            "region": h("PATCH /partners/{partner_id} region", full=True),
            "fields_of_cooperation": [h("PATCH /partners/{partner_id} fields_of_cooperation.[]")],
        },
    )

    # A photo of the second partner city for its brochure (a quiet one: the first's is full,
    # and a photo there takes an older step's place): its caption and alt text, then replaced.
    picture = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 90, 160)).save(picture, format="PNG")
    image = desk.client.post(
        "/photos/images", files={"file": ("harbour.png", picture.getvalue(), "image/png")}
    )
    assert image.status_code == 201, image.text
    ids["photo"] = desk.send(
        "POST",
        "/photos",
        {
            "subject_kind": "partner",
            "subject_id": ids["partner2"],
            "sha256": image.json()["sha256"],
            "caption": h.texts("POST /photos caption.{key}", readable=False),
            "alt": h.texts("POST /photos alt.{key}", readable=False),
        },
    )["id"]
    desk.send(
        "PUT",
        f"/photos/{ids['photo']}/description",
        {
            "caption": h.texts("PUT /photos/{photo_id}/description caption.{key}"),
            "alt": h.texts("PUT /photos/{photo_id}/description alt.{key}"),
        },
    )

    # Foreign missions.
    ids["mission"] = desk.send(
        "POST",
        "/missions",
        {
            "names": h.texts("POST /missions names.{key}"),
            "country": "FR",
            "kind": "trade-office",
            "address": h.texts("POST /missions address.{key}"),
        },
    )["id"]
    ids["mission2"] = desk.send(
        "POST", "/missions", {"names": plain, "country": "DE", "kind": "embassy"}
    )["id"]
    desk.send(
        "PATCH",
        f"/missions/{ids['mission2']}",
        {
            "names": h.texts("PATCH /missions/{mission_id} names.{key}"),
            "address": h.texts("PATCH /missions/{mission_id} address.{key}"),
        },
    )

    # Contacts (personal data: the admin reads them).
    ids["contact"] = desk.send(
        "POST",
        "/contacts",
        {
            "partner_id": ids["partner"],
            "name": h("POST /contacts name", full=True),
            "title": h("POST /contacts title"),
            "organisation": h("POST /contacts organisation"),
            "preferred_language": "ja",
        },
    )["id"]
    ids["contact2"] = desk.send(
        "POST", "/contacts", {"mission_id": ids["mission"], "name": "Plain Person"}
    )["id"]
    desk.send(
        "PATCH",
        f"/contacts/{ids['contact2']}",
        {
            "name": h("PATCH /contacts/{contact_id} name"),
            "title": h("PATCH /contacts/{contact_id} title"),
            "organisation": h("PATCH /contacts/{contact_id} organisation", full=True),
        },
    )

    # Officials and venues.
    ids["official"] = desk.send(
        "POST",
        "/officials",
        {
            "names": h.texts("POST /officials names.{key}"),
            "title": h.texts("POST /officials title.{key}"),
            "protocol_rank": 1,
            "forms_of_address": h.texts("POST /officials forms_of_address.{key}"),
        },
    )["id"]
    ids["official2"] = desk.send(
        "POST", "/officials", {"names": plain, "title": plain, "protocol_rank": 3}
    )["id"]
    desk.send(
        "PATCH",
        f"/officials/{ids['official2']}",
        {
            "names": h.texts("PATCH /officials/{official_id} names.{key}"),
            "title": h.texts("PATCH /officials/{official_id} title.{key}"),
            "forms_of_address": h.texts("PATCH /officials/{official_id} forms_of_address.{key}"),
        },
    )
    ids["venue"] = desk.send(
        "POST",
        "/venues",
        {
            "names": h.texts("POST /venues names.{key}"),
            "address": h.texts("POST /venues address.{key}"),
            "capacity": 100,
            "timezone": "Asia/Taipei",
        },
    )["id"]
    ids["venue2"] = desk.send(
        "POST", "/venues", {"names": plain, "capacity": 10, "timezone": "Asia/Taipei"}
    )["id"]
    desk.send(
        "PATCH",
        f"/venues/{ids['venue2']}",
        {
            "names": h.texts("PATCH /venues/{venue_id} names.{key}"),
            "address": h.texts("PATCH /venues/{venue_id} address.{key}"),
        },
    )

    # Interpreters: one registered hostile (booked on an item: their feed), one renamed.
    pairs = [{"source": "zh-TW", "target": "ko"}, {"source": "ko", "target": "zh-TW"}]
    ids["interpreter"] = desk.send(
        "POST", "/interpreters", {"name": h("POST /interpreters name"), "language_pairs": pairs}
    )["id"]
    ids["interpreter2"] = desk.send(
        "POST", "/interpreters", {"name": "Plain Interpreter", "language_pairs": pairs}
    )["id"]
    desk.send(
        "PATCH",
        f"/interpreters/{ids['interpreter2']}",
        {"name": h("PATCH /interpreters/{interpreter_id} name", full=True)},
    )

    # An exchange recorded on its own.
    ids["exchange"] = desk.send(
        "POST",
        "/exchanges",
        {
            "partner_ids": [ids["partner"]],
            "date": day(-10),
            "field": "culture",
            "direction": "inbound",
            "summary": h.texts("POST /exchanges summary.{key}"),
            "organisations": [h.texts("POST /exchanges organisations.[].{key}")],
        },
    )["id"]

    # A visit by the partner city, from request to completion, with its itinerary.
    visit = desk.send(
        "POST",
        "/visits",
        {
            "delegation": {"partner_id": ids["partner"]},
            "head_of_delegation": {
                "names": h.texts("POST /visits head_of_delegation.names.{key}"),
                "title": h.texts("POST /visits head_of_delegation.title.{key}"),
                "protocol_rank": 1,
                "forms_of_address": h.texts(
                    "POST /visits head_of_delegation.forms_of_address.{key}"
                ),
            },
            "members": 5,
            "purpose": h.texts("POST /visits purpose.{key}"),
            "requested_from": day(10),
            "requested_to": day(12),
            "languages": ["ja"],
            "dietary_notes": h("POST /visits dietary_notes"),
            "accessibility_notes": h("POST /visits accessibility_notes", full=True),
            "contact": {"name": h("POST /visits contact.name")},
        },
    )["id"]
    ids["visit"] = visit
    members = "PUT /visits/{visit_id}/delegation-members members.[]"
    desk.send(
        "PUT",
        f"/visits/{visit}/delegation-members",
        {
            "members": [
                {
                    "names": h.texts(f"{members}.names.{{key}}"),
                    "title": h.texts(f"{members}.title.{{key}}"),
                    "protocol_rank": 2,
                    "forms_of_address": h.texts(f"{members}.forms_of_address.{{key}}"),
                    "dietary_notes": h(f"{members}.dietary_notes"),
                    "accessibility_notes": h(f"{members}.accessibility_notes", full=True),
                }
            ]
        },
    )
    desk.send(
        "POST", f"/visits/{visit}/approve", {"reason": h("POST /visits/{visit_id}/approve reason")}
    )
    item = {"starts_at": at(10, 1), "ends_at": at(10, 2), "official_ids": [ids["official"]]}
    ids["item"] = desk.send(
        "POST",
        f"/visits/{visit}/itinerary",
        {
            **item,
            "venue_id": ids["venue"],
            "titles": h.texts("POST /visits/{visit_id}/itinerary titles.{key}"),
            "interpreter": h("POST /visits/{visit_id}/itinerary interpreter"),
            "gift_exchange": h("POST /visits/{visit_id}/itinerary gift_exchange"),
            "notes_shared": h("POST /visits/{visit_id}/itinerary notes_shared"),
        },
    )["id"]
    # The same official at the same time, in spite of the conflict, somewhere else.
    ids["item2"] = desk.send(
        "POST",
        f"/visits/{visit}/itinerary",
        {
            **item,
            "place": {
                "names": h.texts("POST /visits/{visit_id}/itinerary place.names.{key}"),
                "address": h.texts("POST /visits/{visit_id}/itinerary place.address.{key}"),
                "timezone": "Asia/Taipei",
            },
            "titles": plain,
            "override": {"reason": h("POST /visits/{visit_id}/itinerary override.reason")},
        },
    )["id"]
    patch = "PATCH /visits/{visit_id}/itinerary/{item_id}"
    ids["item3"] = desk.send(
        "POST",
        f"/visits/{visit}/itinerary",
        {"starts_at": at(11, 1), "ends_at": at(11, 2), "venue_id": ids["venue2"], "titles": plain},
    )["id"]
    desk.send(
        "PATCH",
        f"/visits/{visit}/itinerary/{ids['item3']}",
        {
            **item,
            "place": {
                "names": h.texts(f"{patch} place.names.{{key}}"),
                "address": h.texts(f"{patch} place.address.{{key}}"),
                "timezone": "Asia/Taipei",
            },
            "titles": h.texts(f"{patch} titles.{{key}}"),
            "interpreter": h(f"{patch} interpreter", full=True),
            "gift_exchange": h(f"{patch} gift_exchange"),
            "notes_shared": h(f"{patch} notes_shared"),
            "override": {"reason": h(f"{patch} override.reason")},
        },
    )
    ids["item4"] = desk.send(
        "POST",
        f"/visits/{visit}/itinerary",
        {"starts_at": at(12, 1), "ends_at": at(12, 2), "venue_id": ids["venue2"], "titles": plain},
    )["id"]
    desk.send(
        "DELETE",
        f"/visits/{visit}/itinerary/{ids['item4']}",
        {"reason": h("DELETE /visits/{visit_id}/itinerary/{item_id} reason")},
    )
    desk.send(
        "POST",
        f"/visits/{visit}/schedule",
        {"reason": h("POST /visits/{visit_id}/schedule reason")},
    )
    completed = desk.send(
        "POST",
        f"/visits/{visit}/complete",
        {
            "reason": h("POST /visits/{visit_id}/complete reason"),
            "exchange": {
                "field": "economy-and-trade",
                "summary": h.texts("POST /visits/{visit_id}/complete exchange.summary.{key}"),
            },
        },
    )
    ids["visit_exchange"] = completed["exchange_id"]
    # A visit from an organisation, declined; another one, cancelled.
    ids["visit2"] = desk.send(
        "POST",
        "/visits",
        {
            "delegation": {"organisation": h.texts("POST /visits delegation.organisation.{key}")},
            "head_of_delegation": {"names": plain, "title": plain, "protocol_rank": 2},
            "members": 3,
            "purpose": plain,
            "requested_from": day(20),
            "requested_to": day(21),
            "talking_points": h("POST /visits talking_points"),
        },
    )["id"]
    desk.send(
        "POST",
        f"/visits/{ids['visit2']}/decline",
        {"reason": h("POST /visits/{visit_id}/decline reason")},
    )
    ids["visit3"] = desk.send(
        "POST",
        "/visits",
        {
            "delegation": {"mission_id": ids["mission"]},
            "head_of_delegation": {"names": plain, "title": plain, "protocol_rank": 2},
            "members": 3,
            "purpose": plain,
            "requested_from": day(30),
            "requested_to": day(31),
        },
    )["id"]
    desk.send(
        "POST",
        f"/visits/{ids['visit3']}/cancel",
        {"reason": h("POST /visits/{visit_id}/cancel reason")},
    )
    # The mayor's trips: one completed, one changed and cancelled.
    leg = {"country": "JP", "timezone": "Asia/Tokyo", "partner_ids": [ids["partner"]]}
    ids["trip"] = desk.send(
        "POST",
        "/trips",
        {
            "title": h.texts("POST /trips title.{key}"),
            "officials": [
                {"official_id": ids["official"]},
                {"name": h("POST /trips officials.[].name")},
            ],
            "legs": [
                {
                    **leg,
                    "city": h.texts("POST /trips legs.[].city.{key}"),
                    "start": at(40),
                    "end": at(42),
                    "itinerary": h.texts("POST /trips legs.[].itinerary.{key}"),
                }
            ],
            "international_event": h.texts("POST /trips international_event.{key}"),
        },
    )["id"]
    completed = desk.send(
        "POST",
        f"/trips/{ids['trip']}/complete",
        {
            "field": "tourism",
            "summary": h.texts("POST /trips/{trip_id}/complete summary.{key}"),
        },
    )
    ids["trip_exchange"] = completed["exchange_id"]
    ids["trip2"] = desk.send(
        "POST",
        "/trips",
        {
            "title": plain,
            "officials": [{"official_id": ids["official"]}],
            "legs": [{**leg, "city": plain, "start": at(50), "end": at(51)}],
        },
    )["id"]
    desk.send(
        "PATCH",
        f"/trips/{ids['trip2']}",
        {
            "title": h.texts("PATCH /trips/{trip_id} title.{key}"),
            "officials": [
                {"official_id": ids["official"]},
                {"name": h("PATCH /trips/{trip_id} officials.[].name", full=True)},
            ],
            "legs": [
                {
                    **leg,
                    "city": h.texts("PATCH /trips/{trip_id} legs.[].city.{key}"),
                    "start": at(50),
                    "end": at(51),
                    "itinerary": h.texts("PATCH /trips/{trip_id} legs.[].itinerary.{key}"),
                }
            ],
            "international_event": h.texts("PATCH /trips/{trip_id} international_event.{key}"),
        },
    )
    desk.send(
        "POST",
        f"/trips/{ids['trip2']}/cancel",
        {"reason": h("POST /trips/{trip_id}/cancel reason")},
    )
    # A trip planned, and changed, in spite of the official's items that day: overridden (the
    # reasons are recorded with the conflicts, not read back by the API).
    ids["trip3"] = desk.send(
        "POST",
        "/trips",
        {
            "title": plain,
            "officials": [{"official_id": ids["official"]}],
            "legs": [{**leg, "city": plain, "start": at(10), "end": at(10, 3)}],
            "override": {"reason": h("POST /trips override.reason", readable=False)},
        },
    )["id"]
    desk.send(
        "PATCH",
        f"/trips/{ids['trip3']}",
        {
            "legs": [{**leg, "city": plain, "start": at(10), "end": at(10, 4)}],
            "override": {"reason": h("PATCH /trips/{trip_id} override.reason", readable=False)},
        },
    )

    # City events: one upcoming with invitations and answers, one changed and cancelled, one
    # that has started and is completed with the partner city that came.
    city_event = {"kind": "festival", "timezone": "Asia/Taipei"}
    ids["city_event"] = desk.send(
        "POST",
        "/city-events",
        {
            **city_event,
            "title": h.texts("POST /city-events title.{key}"),
            "description": h.texts("POST /city-events description.{key}"),
            "starts_at": at(25),
            "ends_at": at(25, 4),
            "venue": {"place": h("POST /city-events venue.place")},
        },
    )["id"]
    invited = desk.send(
        "POST",
        f"/city-events/{ids['city_event']}/invitations",
        {
            "answer_by": day(20),
            "invitees": [
                {"kind": "partner", "id": ids["partner"]},
                {"kind": "mission", "id": ids["mission"]},
            ],
        },
    )
    ids["invitation"], ids["invitation2"] = (accepted["id"] for accepted in invited)
    desk.send(
        "POST",
        f"/invitations/{ids['invitation']}/rsvp",
        {
            "answer": "accepted-in-person",
            "delegates": 2,
            "delegate_details": [
                {
                    "name": h("POST /invitations/{invitation_id}/rsvp delegate_details.[].name"),
                    "title": h("POST /invitations/{invitation_id}/rsvp delegate_details.[].title"),
                    "needs": h(
                        "POST /invitations/{invitation_id}/rsvp delegate_details.[].needs",
                        full=True,
                    ),
                }
            ],
            "note": h("POST /invitations/{invitation_id}/rsvp note"),
            "received_via": "email",
        },
    )
    desk.send(
        "POST",
        f"/invitations/{ids['invitation2']}/withdraw",
        {"reason": h("POST /invitations/{invitation_id}/withdraw reason")},
    )
    ids["city_event2"] = desk.send(
        "POST",
        "/city-events",
        {**city_event, "title": plain, "starts_at": at(35), "ends_at": at(35, 2)},
    )["id"]
    desk.send(
        "PATCH",
        f"/city-events/{ids['city_event2']}",
        {
            "title": h.texts("PATCH /city-events/{city_event_id} title.{key}"),
            "description": h.texts("PATCH /city-events/{city_event_id} description.{key}"),
            "venue": {"place": h("PATCH /city-events/{city_event_id} venue.place", full=True)},
        },
    )
    desk.send(
        "POST",
        f"/city-events/{ids['city_event2']}/cancel",
        {"reason": h("POST /city-events/{city_event_id}/cancel reason")},
    )
    ids["city_event3"] = desk.send(
        "POST",
        "/city-events",
        {**city_event, "title": plain, "starts_at": at(3), "ends_at": at(3, 3)},
    )["id"]
    (invitation3,) = desk.send(
        "POST",
        f"/city-events/{ids['city_event3']}/invitations",
        {"answer_by": day(1), "invitees": [{"kind": "partner", "id": ids["partner2"]}]},
    )
    desk.send(
        "POST",
        f"/invitations/{invitation3['id']}/rsvp",
        {"answer": "accepted-by-video", "received_via": "portal"},
    )
    # It is over once it has started: staff complete it then (the API's clock moves there).
    started = now + timedelta(days=3, hours=1)
    overrides = journey.stack.app.dependency_overrides
    overrides[get_clock] = lambda: lambda: started
    try:
        completed = desk.send(
            "POST",
            f"/city-events/{ids['city_event3']}/complete",
            {
                "field": "culture",
                "summary": h.texts("POST /city-events/{city_event_id}/complete summary.{key}"),
            },
        )
    finally:
        del overrides[get_clock]
    ids["city_event_exchange"] = completed["exchange_id"]
    # One at the venue of an item, scheduled and moved in spite of it: overridden.
    ids["city_event4"] = desk.send(
        "POST",
        "/city-events",
        {
            **city_event,
            "title": plain,
            "starts_at": at(10, 1),
            "ends_at": at(10, 2),
            "venue": {"venue_id": ids["venue"]},
            "override": {"reason": h("POST /city-events override.reason", readable=False)},
        },
    )["id"]
    desk.send(
        "PATCH",
        f"/city-events/{ids['city_event4']}",
        {
            "ends_at": at(10, 3),
            "override": {
                "reason": h("PATCH /city-events/{city_event_id} override.reason", readable=False)
            },
        },
    )

    # A visit being prepared (after the city events: its briefing book and programme are then
    # rendered after the leaflet): its talking points and its items' are in the officials'
    # briefing book; an interpreter is booked on one of its items (the item is in their feed).
    ids["visit4"] = desk.send(
        "POST",
        "/visits",
        {
            "delegation": {"partner_id": ids["partner2"]},
            "head_of_delegation": {"names": plain, "title": plain, "protocol_rank": 2},
            "members": 2,
            "purpose": plain,
            "requested_from": day(14),
            "requested_to": day(15),
            "languages": ["ko"],
        },
    )["id"]
    desk.send("POST", f"/visits/{ids['visit4']}/approve", {})
    ids["item5"] = desk.send(
        "POST",
        f"/visits/{ids['visit4']}/itinerary",
        {
            "starts_at": at(14, 1),
            "ends_at": at(14, 2),
            "venue_id": ids["venue2"],
            "titles": h.texts("POST /visits/{visit_id}/itinerary titles.{key}"),
            "interpreter_ids": [ids["interpreter"]],
            "talking_points": h("POST /visits/{visit_id}/itinerary talking_points"),
        },
    )["id"]
    ids["item6"] = desk.send(
        "POST",
        f"/visits/{ids['visit4']}/itinerary",
        {"starts_at": at(14, 3), "ends_at": at(14, 4), "venue_id": ids["venue2"], "titles": plain},
    )["id"]
    desk.send(
        "PATCH",
        f"/visits/{ids['visit4']}/itinerary/{ids['item6']}",
        {"talking_points": h(f"{patch} talking_points")},
    )
    desk.send(
        "PUT",
        f"/visits/{ids['visit4']}/talking-points",
        {"talking_points": h("PUT /visits/{visit_id}/talking-points talking_points")},
    )

    # The year's plan: its texts, a budget line's spending, an entered KPI's value.
    year = now.year
    ids["plan"] = desk.send(
        "POST",
        "/plans",
        {
            "year": year,
            "title": h.texts("POST /plans title.{key}"),
            "goals": [
                {
                    "key": "goal",
                    "title": h.texts("POST /plans goals.[].title.{key}"),
                    "work_items": [
                        {
                            "key": "item",
                            "title": h.texts("POST /plans goals.[].work_items.[].title.{key}"),
                            "description": h.texts(
                                "POST /plans goals.[].work_items.[].description.{key}"
                            ),
                            "section": h("POST /plans goals.[].work_items.[].section", full=True),
                            "budget": "100.5",
                            "kpis": [
                                {
                                    "key": "kpi",
                                    "name": h.texts(
                                        "POST /plans goals.[].work_items.[].kpis.[].name.{key}"
                                    ),
                                    "unit": h.texts(
                                        "POST /plans goals.[].work_items.[].kpis.[].unit.{key}"
                                    ),
                                    "target": 3,
                                }
                            ],
                        }
                    ],
                }
            ],
        },
    )["id"]
    desk.send(
        "POST",
        f"/plans/{ids['plan']}/spending",
        {
            "work_item": "item",
            "date": day(0) if day(0).startswith(str(year)) else f"{year}-12-31",
            "amount": "1.5",
            "purpose": h("POST /plans/{plan_id}/spending purpose", full=True),
        },
    )
    desk.send(
        "POST",
        f"/plans/{ids['plan']}/kpi-values",
        {
            "kpi": "kpi",
            "date": f"{year}-01-01",
            "value": 1,
            "source": h("POST /plans/{plan_id}/kpi-values source"),
        },
    )

    # The gifts register: a gift received on the visit, above the threshold and approved; one
    # given, changed. Never in a public output.
    ids["gift"] = desk.send(
        "POST",
        "/gifts",
        {
            "direction": "received",
            "description": h.texts("POST /gifts description.{key}"),
            "category": "craft",
            "date": day(-1),
            "giver": {"kind": "person", "name": h("POST /gifts giver.name")},
            "recipient": {
                "kind": "official",
                "id": ids["official"],
                "name": h("POST /gifts recipient.name", full=True),
            },
            "occasion": {"kind": "visit", "id": visit},
            "estimated_value": "250000",
            "currency": "TWD",
            "notes": h("POST /gifts notes"),
        },
    )["id"]
    desk.send(
        "POST",
        f"/gifts/{ids['gift']}/approve",
        {"note": h("POST /gifts/{gift_id}/approve note")},
    )
    ids["gift2"] = desk.send(
        "POST",
        "/gifts",
        {
            "direction": "given",
            "description": plain,
            "category": "book",
            "date": day(-1),
            "giver": {"kind": "official", "id": ids["official"]},
            "recipient": {"kind": "partner", "id": ids["partner"]},
        },
    )["id"]
    desk.send(
        "PATCH",
        f"/gifts/{ids['gift2']}",
        {
            "description": h.texts("PATCH /gifts/{gift_id} description.{key}"),
            "giver": {
                "kind": "official",
                "id": ids["official"],
                "name": h("PATCH /gifts/{gift_id} giver.name"),
            },
            "recipient": {"kind": "person", "name": h("PATCH /gifts/{gift_id} recipient.name")},
            "notes": h("PATCH /gifts/{gift_id} notes", full=True),
        },
    )
    # The press: an article on the visit; a release, changed. Never in a public output either.
    ids["press"] = desk.send(
        "POST",
        "/press",
        {
            "kind": "article",
            "outlet": h("POST /press outlet"),
            "date": day(-2),
            "language": "en",
            "title": h.texts("POST /press title.{key}"),
            "covers": [{"kind": "visit", "id": visit}],
        },
    )["id"]
    ids["press2"] = desk.send(
        "POST",
        "/press",
        {
            "kind": "release",
            "outlet": "City Hall",
            "date": day(-2),
            "language": "zh-TW",
            "title": plain,
        },
    )["id"]
    desk.send(
        "PATCH",
        f"/press/{ids['press2']}",
        {
            "outlet": h("PATCH /press/{press_item_id} outlet", full=True),
            "title": h.texts("PATCH /press/{press_item_id} title.{key}"),
        },
    )

    # Feed links (the office's, the official's, the interpreter's) and an API token, labelled.
    office_link = desk.send(
        "POST",
        "/feed-links",
        {"audience": {"kind": "office"}, "language": "en", "label": h("POST /feed-links label")},
        expect=201,
    )
    official_link = desk.send(
        "POST",
        "/feed-links",
        {"audience": {"kind": "official", "official_id": ids["official"]}, "language": "en"},
        expect=201,
    )
    interpreter_link = desk.send(
        "POST",
        "/feed-links",
        {
            "audience": {"kind": "interpreter", "interpreter_id": ids["interpreter"]},
            "language": "en",
        },
        expect=201,
    )
    journey.feed_urls = {
        "office": office_link["url"],
        "official": official_link["url"],
        "interpreter": interpreter_link["url"],
    }
    name = desk.read("/me")["name"]
    ids["user"] = next(user["id"] for user in desk.read("/users") if user["name"] == name)
    desk.send(
        "POST",
        f"/users/{ids['user']}/tokens",
        {"label": h("POST /users/{user_id}/tokens label", full=True)},
        expect=201,
    )


def read_everything(journey: Journey) -> None:
    """Every read a user makes of what the office entered."""
    desk, ids = Desk(journey), journey.ids
    for path in (
        "/partners",
        f"/partners/{ids['partner']}",
        f"/partners/{ids['partner2']}",
        "/missions",
        "/contacts",
        f"/contacts/{ids['contact']}",
        f"/contacts/{ids['contact2']}",
        "/exchanges",
        "/officials",
        "/venues",
        "/visits",
        f"/visits/{ids['visit']}",
        f"/visits/{ids['visit2']}",
        f"/visits/{ids['visit3']}",
        "/trips",
        "/city-events",
        f"/city-events/{ids['city_event']}/invitations",
        f"/invitations/{ids['invitation']}",
        f"/invitations/{ids['invitation2']}",
        "/feed-links",
        f"/users/{ids['user']}/tokens",
        f"/plans/{ids['plan']}",
        f"/plans/{ids['plan']}/spending",
        f"/plans/{ids['plan']}/kpis/kpi",
        "/interpreters",
        f"/visits/{ids['visit4']}",
        f"/visits/{ids['visit4']}/itinerary",
        "/gifts",
        "/press",
        "/publicity/profile",
        f"/photos/{ids['photo']}",
    ):
        desk.read(path)
    desk.read(f"/visits/{ids['visit']}/itinerary", include_removed=True)


def open_the_documents_the_checks_read(journey: Journey) -> None:
    """A reader opens each document the checks read, once, as soon as the office's work is
    applied: the English leaflet and the two brochures, and the briefing book in Chinese. Each
    still waits to be rendered (not found yet, or an older version), and a document read while
    it waits is asked for: the renderer takes the asked ones first, in the order they were
    asked (`publicity.service.ask_for`). So they are rendered while the checks before them
    run, instead of when the leaflet's check starts asking, one at a time, behind the dozen
    other documents (every language) the journey made stale; those are rendered after."""
    ids = journey.ids
    with httpx.Client(base_url=journey.stack.settings.base_url(), timeout=60) as public:
        for path in (
            "/publicity/leaflet",
            f"/partners/{ids['partner']}/brochure",
            f"/partners/{ids['partner2']}/brochure",
        ):
            public.get(path, params={"lang": "en"})
    journey.stack.client.get(
        f"/visits/{ids['visit4']}/briefing-book", params={"lang": "zh-TW", "format": "html"}
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def journey(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Journey]:
    tmp_path = tmp_path_factory.mktemp(f"hostile-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'twinning.db'}"
    else:
        postgres: URL = request.getfixturevalue("postgres")
        database_url = create_database(postgres).render_as_string(hide_password=False)
    every = free_text_fields(
        create_app(Settings(database_url="sqlite://", _env_file=None), with_relay=False).openapi()  # type: ignore[call-arg]
    )
    fields = every
    with EmbeddedBroker(data_dir=tmp_path / "broker", partitions=3) as broker:
        stack = start_stack(database_url, broker, tmp_path, render_documents=True)
        try:
            result = Journey(stack, Hostile(fields), fields)
            office_work(result)
            stack.wait_applied(result.event_ids, timeout=90)
            open_the_documents_the_checks_read(result)
            read_everything(result)
            yield result
        finally:
            stack.close()


# --- the tests ------------------------------------------------------------------------------


def test_hostile_text_travels_through_api_topics_feeds_and_leaflets_intact_and_inert(
    journey: Journey,
) -> None:
    """One test per database, its checks in the order the text travels: the system behind
    them takes a minute to build and to render, and is built once (module fixtures would be
    torn down between tests that xdist hands out one at a time)."""
    check_every_free_text_field_of_the_api_is_filled_with_hostile_text(journey)
    check_control_characters_are_refused_naming_the_field_and_nothing_is_stored(journey)
    check_the_api_reads_every_string_back_exactly_as_sent(journey)
    check_the_events_on_the_topics_carry_every_string_exactly(journey)
    check_the_feeds_show_the_strings_intact_and_inject_nothing(journey)
    check_the_leaflet_and_the_brochure_show_the_strings_escaped_and_render(journey)
    check_the_briefing_book_shows_the_talking_points_escaped_and_renders(journey)
    check_the_overrides_of_trips_and_city_events_are_recorded_as_sent(journey)


def check_every_free_text_field_of_the_api_is_filled_with_hostile_text(journey: Journey) -> None:
    """A free-text field added to the API later without a hostile value here fails this."""
    assert len(journey.fields) > 50  # the derivation found the API's fields
    assert set(journey.fields) - journey.hostile.filled == set(), "fields left unfilled"
    every_hazard = {h for sent in journey.hostile.sent.values() for h in HAZARDS if h in sent.value}
    assert every_hazard == set(HAZARDS)
    assert any(len(s.value) == journey.fields[s.field] for s in journey.hostile.sent.values())


def check_control_characters_are_refused_naming_the_field_and_nothing_is_stored(
    journey: Journey,
) -> None:
    assert set(journey.refusals) == set(journey.fields)
    for name, tries in journey.refusals.items():
        for status, (where, detail), before, after in tries:
            assert status == 422, (name, where, status, detail)
            named = [str(step) for step in where if isinstance(step, str)][-1]
            assert any(named in map(str, error["loc"]) for error in detail["errors"]), (
                name,
                detail,
            )
            assert after == before, f"{name}: refused, but something was stored"


def _check_markers(text: str, sent: dict[str, Sent], where: str) -> set[str]:
    """Every marked value in `text` (one read value) is exactly what was sent."""
    found = set()
    for marker in MARKER.findall(text):
        found.add(marker)
        assert text == sent[marker].value, f"{where}: {sent[marker].field} came back changed"
    return found


def check_the_api_reads_every_string_back_exactly_as_sent(journey: Journey) -> None:
    sent = journey.hostile.sent
    seen: set[str] = set()
    for read in journey.reads:
        for text in strings(json.loads(read)):
            seen |= _check_markers(text, sent, "GET")
    expected = {marker for marker, s in sent.items() if s.readable}
    missing = sorted(sent[m].field for m in expected - seen)
    assert not missing, f"values no read shows: {missing}"


def read_topics(broker: EmbeddedBroker) -> list[dict[str, Any]]:
    """Every event on the event topics, from the beginning (kafka-python, no group)."""
    consumer = KafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in TOPICS
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        events: list[dict[str, Any]] = []

        def caught_up() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                events.extend(json.loads(record.value) for record in records)
            return all(consumer.position(p) >= ends[p] for p in partitions)

        wait_for(caught_up, timeout=30, what="the topics to be read to their end")
        return events
    finally:
        consumer.close()


def check_the_events_on_the_topics_carry_every_string_exactly(journey: Journey) -> None:
    sent = journey.hostile.sent
    events = read_topics(journey.stack.broker)
    assert {e["event_id"] for e in events} >= set(journey.event_ids)
    seen: set[str] = set()
    for event in events:
        for text in strings(event["payload"]):
            seen |= _check_markers(text, sent, event["type"])
    # Feed links and API tokens are not events: they never reach a topic.
    not_events = {"POST /feed-links label", "POST /users/{user_id}/tokens label"}
    missing = sorted({s.field for m, s in sent.items() if m not in seen} - not_events)
    assert not missing, f"values no event carries: {missing}"


#: Fields the office feed shows here (SUMMARY, LOCATION or DESCRIPTION of some entry): the
#: partner city's names through its exchange and its visit's delegation.
OFFICE_FEED_FIELDS = {
    "POST /partners names.{key}",
    "POST /officials names.{key}",
    "POST /venues names.{key}",
    "POST /venues address.{key}",
    "POST /exchanges summary.{key}",
    "POST /visits/{visit_id}/itinerary titles.{key}",
    "POST /visits/{visit_id}/itinerary interpreter",
    "POST /visits/{visit_id}/itinerary notes_shared",
    "POST /visits/{visit_id}/itinerary place.names.{key}",
    "POST /visits/{visit_id}/itinerary place.address.{key}",
    "PATCH /visits/{visit_id}/itinerary/{item_id} titles.{key}",
    "PATCH /visits/{visit_id}/itinerary/{item_id} interpreter",
    "PATCH /visits/{visit_id}/itinerary/{item_id} notes_shared",
    "PATCH /visits/{visit_id}/itinerary/{item_id} place.names.{key}",
    "PATCH /visits/{visit_id}/itinerary/{item_id} place.address.{key}",
    "POST /trips title.{key}",
    "POST /trips officials.[].name",
    "POST /trips legs.[].city.{key}",
    "POST /trips international_event.{key}",
    "PATCH /trips/{trip_id} title.{key}",
    "PATCH /trips/{trip_id} officials.[].name",
    "PATCH /trips/{trip_id} legs.[].city.{key}",
    "PATCH /trips/{trip_id} international_event.{key}",
    "POST /city-events title.{key}",
    "POST /city-events description.{key}",
    "POST /city-events venue.place",
    "PATCH /city-events/{city_event_id} title.{key}",
    "PATCH /city-events/{city_event_id} description.{key}",
    "PATCH /city-events/{city_event_id} venue.place",
}


#: Fields that no public output (leaflet, brochure) and no calendar feed ever shows: the gifts
#: register and the press items.
NEVER_PUBLIC_PREFIXES = ("POST /gifts", "PATCH /gifts/", "POST /press", "PATCH /press/")


def _never_public(sent: dict[str, Sent]) -> set[str]:
    found = {m for m, s in sent.items() if s.field.startswith(NEVER_PUBLIC_PREFIXES)}
    assert len(found) >= 16  # the gifts' and the press items' values were sent
    return found


def _english(fields: set[str], sent: dict[str, Sent]) -> set[str]:
    """The markers of these fields that an English feed shows: of a multilingual text, the
    English value."""
    chosen: dict[str, list[str]] = {}
    for marker, s in sent.items():
        if s.field in fields:
            chosen.setdefault(s.field, []).append(marker)
    # texts() sends English first, then Chinese; a plain field has its one value.
    return {marker for markers in chosen.values() for marker in markers[:1]} | {
        marker for f, markers in chosen.items() if not f.endswith("{key}") for marker in markers
    }


def _check_feed(raw: bytes, sent: dict[str, Sent], uids: set[str], where: str) -> set[str]:
    text = raw.decode()
    hidden = sorted(sent[m].field for m in _never_public(sent) if m in text)
    assert not hidden, f"{where} shows {hidden}"
    assert text.endswith("\r\n")
    lines = text[:-2].split("\r\n")
    for line in lines:
        assert len(line.encode()) <= 75, f"{where}: a line of {len(line.encode())} octets"
    assert "\r" not in text.replace("\r\n", "") and "\n" not in text.replace("\r\n", ""), (
        f"{where}: a raw line break inside a value"
    )
    calendar = Calendar.from_ical(text)
    assert {str(event["UID"]) for event in calendar.walk("VEVENT")} == uids, where
    assert sum(1 for line in lines if line == "BEGIN:VEVENT") == len(uids), where
    assert not any(line.startswith("SUMMARY:injected") for line in lines), where
    seen: set[str] = set()
    for event in calendar.walk("VEVENT"):
        for name in ("SUMMARY", "LOCATION", "DESCRIPTION"):
            if name not in event:
                continue
            value = str(event[name])
            for marker in MARKER.findall(value):
                expected = as_feed_text(sent[marker].value)
                assert expected in value, f"{where} {name}: {sent[marker].field} changed"
                seen.add(marker)
    return seen


def check_the_feeds_show_the_strings_intact_and_inject_nothing(journey: Journey) -> None:
    sent, ids = journey.hostile.sent, journey.ids
    subscriber = httpx.Client(timeout=30)  # a calendar client: no token, the secret link
    try:
        office = subscriber.get(journey.feed_urls["office"])
        official = subscriber.get(journey.feed_urls["official"])
        interpreter = subscriber.get(journey.feed_urls["interpreter"])
    finally:
        subscriber.close()
    assert office.status_code == official.status_code == interpreter.status_code == 200
    items = [
        f"itinerary-{ids[k]}@twinning"
        for k in ("item", "item2", "item3", "item4", "item5", "item6")
    ]
    trips = [f"trip-{ids[k]}-leg-0@twinning" for k in ("trip", "trip2", "trip3")]
    city_events = [
        f"city-event-{ids[k]}@twinning"
        for k in ("city_event", "city_event2", "city_event3", "city_event4")
    ]
    # An exchange recorded by a visit, a trip or a city event is in the calendar as that one.
    office_uids = {*items, *trips, *city_events, f"exchange-{ids['exchange']}@twinning"}
    seen = _check_feed(office.content, sent, office_uids, "office feed")
    missing = sorted({sent[m].field for m in _english(OFFICE_FEED_FIELDS, sent) - seen})
    assert not missing, f"the office feed does not show {missing}"
    # The official: the items and trips they take part in.
    official_uids = {items[0], items[1], items[2], *trips}
    seen = _check_feed(official.content, sent, official_uids, "official's feed")
    assert _english({"POST /officials names.{key}"}, sent) <= seen
    # The interpreter: the item they are booked on, with its data; their name names the feed.
    seen = _check_feed(interpreter.content, sent, {items[4]}, "interpreter's feed")
    item5_titles = [m for m, s in sent.items() if s.field.endswith("itinerary titles.{key}")]
    assert item5_titles[2] in seen, "the interpreter's feed does not show the item's title"
    [name] = [s.value for s in sent.values() if s.field == "POST /interpreters name"]
    # An extension property, which icalendar leaves escaped: unfolded and unescaped here.
    [line] = [
        line
        for line in interpreter.text.replace("\r\n ", "").split("\r\n")
        if line.startswith("X-WR-CALNAME:")
    ]
    calendar_name = re.sub(
        r"\\([\\;,nN])",
        lambda escaped: "\n" if escaped[1] in "nN" else escaped[1],
        line.removeprefix("X-WR-CALNAME:"),
    )
    assert as_feed_text(name) in calendar_name


class Page(HTMLParser):
    """What a browser would build of a page: its elements and the text between them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def _check_page(raw: str, sent: dict[str, Sent], must_show: set[str], where: str) -> None:
    page = Page()
    page.feed(raw)
    page.close()
    for tag, attrs in page.elements:
        assert tag != "script", f"{where}: a script element"
        assert not [a for a in attrs if a.startswith("on")], f"{where}: {tag} {attrs}"
        assert not (tag == "img" and attrs.get("src") == "x"), f"{where}: an injected img"
        for name, value in attrs.items():
            if tag == "img" and name == "alt":  # a photo's alt text: the value, as sent
                continue
            assert not MARKER.search(value or ""), f"{where}: data in an attribute of {tag}"
    alts = [attrs.get("alt") or "" for tag, attrs in page.elements if tag == "img"]
    for alt in alts:
        for marker in MARKER.findall(alt):
            assert alt == sent[marker].value, f"{where}: {sent[marker].field} is not the alt text"
    # Each value is one piece of text: markup in it stayed text, never became elements.
    text = "\x00".join([*page.texts, *alts])
    unescaped = html.unescape(raw)
    shown = set()
    for marker in set(MARKER.findall(text)):
        value = sent[marker].value
        assert value in text, f"{where}: {sent[marker].field} is not shown as sent"
        assert value in unescaped
        shown.add(marker)
    missing = sorted(sent[m].field for m in must_show - shown)
    assert not missing, f"{where} does not show {missing}"


def check_the_leaflet_and_the_brochure_show_the_strings_escaped_and_render(
    journey: Journey,
) -> None:
    sent, ids = journey.hostile.sent, journey.ids
    public = httpx.Client(base_url=journey.stack.settings.base_url(), timeout=60)
    leaflet_shows = _english(
        {
            "POST /partners names.{key}",
            "PATCH /partners/{partner_id} names.{key}",
            "POST /exchanges summary.{key}",
            "POST /city-events title.{key}",
            "PUT /publicity/profile about.{key}",
            "PUT /publicity/profile figures.[].label.{key}",
            "PUT /publicity/profile figures.[].value",
        },
        sent,
    )
    brochure_shows = _english(
        {"POST /partners names.{key}", "POST /exchanges summary.{key}"}, sent
    ) | {m for m, s in sent.items() if s.field == "POST /partners agreement_scope"}
    quiet_shows = _english(
        {
            "PATCH /partners/{partner_id} names.{key}",
            "PUT /photos/{photo_id}/description caption.{key}",
            "PUT /photos/{photo_id}/description alt.{key}",
        },
        sent,
    )

    def current(path: str, markers: set[str]) -> str | None:
        response = public.get(path, params={"lang": "en"})
        if response.status_code != 200:
            return None
        return response.text if all(m in response.text for m in markers) else None

    def missing(path: str, markers: set[str]) -> Callable[[], str]:
        def state() -> str:
            response = public.get(path, params={"lang": "en"})
            if response.status_code != 200:
                return f"{path} answers {response.status_code}"
            absent = sorted({sent[m].field for m in markers if m not in response.text})
            return f"{path} does not show {absent}"

        return state

    try:
        # Rendered after every document the journey made stale before it (one at a time, a
        # PDF each): slow on a loaded machine.
        leaflet = wait_for(
            lambda: current("/publicity/leaflet", leaflet_shows),
            timeout=600,
            what="the leaflet to show the partner cities",
            state=missing("/publicity/leaflet", leaflet_shows),
        )
        brochure_path = f"/partners/{ids['partner']}/brochure"
        brochure = wait_for(
            lambda: current(brochure_path, brochure_shows),
            timeout=300,
            what="the brochure to show the partner city",
            state=missing(brochure_path, brochure_shows),
        )
        quiet_path = f"/partners/{ids['partner2']}/brochure"
        quiet = wait_for(
            lambda: current(quiet_path, quiet_shows),
            timeout=300,
            what="the second partner's brochure to show its photo",
            state=missing(quiet_path, quiet_shows),
        )
        _check_page(leaflet, sent, leaflet_shows, "leaflet")
        _check_page(brochure, sent, brochure_shows, "brochure")
        _check_page(quiet, sent, quiet_shows, "the second brochure")
        # Nor the talking points, which are internal (the officials' briefing book).
        never = _never_public(sent) | {
            m for m, s in sent.items() if s.field.endswith("talking_points")
        }
        pages = (("leaflet", leaflet), ("brochure", brochure), ("the second brochure", quiet))
        for where, page in pages:
            shown = sorted(sent[m].field for m in never if m in page)
            assert not shown, f"the {where} shows {shown}"
        for path in ("/publicity/leaflet", brochure_path, quiet_path):
            pdf = public.get(path, params={"lang": "en", "format": "pdf"})
            assert pdf.status_code == 200, pdf.text
            assert pdf.content.startswith(b"%PDF"), path
            text = pdf_text(pdf.content)
            assert MARKER.search(text), f"{path}: no value in the PDF's text to look at"
            shown = sorted(sent[m].field for m in never if m in text)
            assert not shown, f"the PDF of {path} shows {shown}"
    finally:
        public.close()


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler's pdftotext reads it (what the checks look for are the ASCII
    markers: a twentieth of the time pypdf takes on these pages with their CJK fonts)."""
    return subprocess.run(
        ["pdftotext", "-q", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


#: The internal talking points: in the officials' briefing book (HTML and PDF), nowhere public.
TALKING_POINTS = {
    "PUT /visits/{visit_id}/talking-points talking_points",
    "POST /visits/{visit_id}/itinerary talking_points",
    "PATCH /visits/{visit_id}/itinerary/{item_id} talking_points",
}


def check_the_briefing_book_shows_the_talking_points_escaped_and_renders(
    journey: Journey,
) -> None:
    sent, client = journey.hostile.sent, journey.stack.client
    must_show = {m for m, s in sent.items() if s.field in TALKING_POINTS}
    assert len(must_show) == len(TALKING_POINTS)
    path = f"/visits/{journey.ids['visit4']}/briefing-book"

    def current() -> str | None:
        response = client.get(path, params={"lang": "zh-TW", "format": "html"})
        if response.status_code != 200:
            return None
        return response.text if all(m in response.text for m in must_show) else None

    book = wait_for(current, timeout=300, what="the briefing book to show the talking points")
    _check_page(book, sent, must_show, "briefing book")
    pdf = client.get(path, params={"lang": "zh-TW", "format": "pdf"})
    assert pdf.status_code == 200, pdf.text
    text = pdf_text(pdf.content)
    missing = sorted(sent[m].field for m in must_show if m not in text)
    assert not missing, f"the briefing book's PDF does not show {missing}"


def check_the_overrides_of_trips_and_city_events_are_recorded_as_sent(journey: Journey) -> None:
    """The reason of a booking made in spite of conflicts is kept with the conflicts it
    overrides (the schedule's record of overrides), exactly as sent."""
    sent = journey.hostile.sent
    with journey.stack.engine.connect() as connection:
        recorded = connection.execute(select(BookingOverride)).all()
    ids = journey.ids
    reasons = {
        s.field: s.value
        for s in sent.values()
        if s.field.endswith("override.reason")
        and s.field.split()[1].startswith(("/trips", "/city"))
    }
    assert len(reasons) == 4
    kept = sorted(row.reason for row in recorded)
    for name, value in reasons.items():
        assert value in kept, f"{name}: the override's reason is not recorded as sent"
    assert sorted(row.source_id for row in recorded) == sorted(
        [ids["trip3"], ids["trip3"], ids["city_event4"], ids["city_event4"]]
    )
    assert all(row.conflicts for row in recorded)


def test_hostile_values_are_built_as_documented() -> None:
    """The value maker itself: marked, within the limit, nothing to strip, full when asked."""
    maker = Hostile({"short": 40, "long": 2000})
    short, full = maker("short"), maker("long", full=True)
    assert MARKER.match(short) and len(short) <= 40 and short == short.strip()
    assert len(full) == 2000 and all(h in full for h in HAZARDS)
