"""Helpers for the calendar tests (imported by name: tests folders are not packages, so this
module's name must be unique in the suite): events with fixed times and ids, as another
system would produce them, a sample office (a partner city, officials, a venue, a visit with
its itinerary, a city event), and feeds built and parsed back with icalendar."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from conftest import InlineApi, Projection, external_event, sample_visit
from icalendar import Calendar
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.api.deps import get_clock
from twinning.calendar.feeds import Audience, Feed, FeedCache, build_feed
from twinning.db import make_async_engine

#: "Now" in the feed tests: two weeks before the sample visit.
NOW = datetime(2026, 4, 15, tzinfo=UTC)
TAIPEI, TOKYO, LOS_ANGELES, MADRID = (
    "Asia/Taipei",
    "Asia/Tokyo",
    "America/Los_Angeles",
    "Europe/Madrid",
)

SAPPORO, MAYOR, DEPUTY, HALL, VISIT, FESTIVAL = (
    "sapporo",
    "mayor",
    "deputy",
    "hall",
    "visit-sapporo",
    "festival",
)
COURTESY_CALL, SCIENCE_PARK, BANQUET, TEA = "item-call", "item-park", "item-banquet", "item-tea"


class Producer:
    """Events as another producer writes them, each a minute after the one before (fixed
    times, so that feeds come out the same on every run)."""

    def __init__(
        self, projection: Projection, start: datetime = datetime(2026, 4, 1, 8, tzinfo=UTC)
    ):
        self.projection = projection
        self.now = start
        #: When a list, events are kept here (body, topic) instead of applied one by one.
        self.held: list[tuple[bytes, str]] | None = None

    def envelope(self, event_type: str, aggregate_id: str, payload: dict[str, Any]) -> bytes:
        self.now += timedelta(minutes=1)
        return external_event(
            event_type,
            payload,
            aggregate_id=aggregate_id,
            actor="staff@example",
            occurred_at=self.now.isoformat(),
        )

    def send(self, event_type: str, aggregate_id: str, payload: dict[str, Any], topic: str) -> None:
        if self.held is not None:
            self.held.append((self.envelope(event_type, aggregate_id, payload), topic))
            return
        outcome = self.projection.apply(
            self.envelope(event_type, aggregate_id, payload), topic=topic
        )
        assert outcome == ["applied"], (outcome, self.projection.dead_letters)

    def partners(self, event_type: str, aggregate_id: str, **payload: Any) -> None:
        self.send(event_type, aggregate_id, payload, "twinning.partners")

    def visits(self, event_type: str, aggregate_id: str, **payload: Any) -> None:
        self.send(event_type, aggregate_id, payload, "twinning.visits")

    def invitations(self, event_type: str, aggregate_id: str, **payload: Any) -> None:
        self.send(event_type, aggregate_id, payload, "twinning.invitations")

    def exchanges(self, event_type: str, aggregate_id: str, **payload: Any) -> None:
        self.send(event_type, aggregate_id, payload, "twinning.exchanges")

    # --- the sample office -------------------------------------------------------------

    def register_basics(self) -> None:
        self.partners(
            "PartnerCityRegistered",
            SAPPORO,
            names={"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"},
            country="JP",
            kind="sister",
            timezone=TOKYO,
            agreement_date="2011-04-20",
            languages=["ja", "en"],
        )
        self.visits(
            "OfficialRegistered",
            MAYOR,
            names={"zh-TW": "林市長", "en": "Mayor Lin", "ja": "林市長"},
            title={"zh-TW": "市長", "en": "Mayor"},
            protocol_rank=1,
        )
        self.visits(
            "OfficialRegistered",
            DEPUTY,
            names={"zh-TW": "王副市長", "en": "Deputy Mayor Wang"},
            title={"zh-TW": "副市長", "en": "Deputy Mayor"},
            protocol_rank=2,
        )
        self.visits(
            "VenueRegistered",
            HALL,
            names={"zh-TW": "市府大禮堂", "en": "City Hall Auditorium", "ja": "市庁舎講堂"},
            capacity=300,
            timezone=TAIPEI,
            address={"zh-TW": "縣府路1號", "en": "1 County Hall Road"},
        )

    def request_visit(self, visit_id: str = VISIT, *steps: str) -> None:
        self.visits(
            "VisitRequested",
            visit_id,
            delegation={"partner_id": SAPPORO},
            head_of_delegation={
                "names": {"ja": "秋元市長", "en": "Mayor Akimoto"},
                "title": {"en": "Mayor of Sapporo"},
                "protocol_rank": 1,
            },
            members=12,
            purpose={"en": "Snow festival cooperation"},
            requested_from="2026-05-01",
            requested_to="2026-05-03",
            dietary_notes="one vegetarian",
            contact={"name": "Hanako Sato", "email": "sato@example.jp"},
        )
        for step in steps:
            self.visits(step, visit_id, reason=None)

    def add_item(self, item_id: str, starts_at: str, ends_at: str, **facts: Any) -> None:
        self.visits(
            "ItineraryItemAdded",
            facts.pop("visit_id", VISIT),
            item_id=item_id,
            starts_at=starts_at,
            ends_at=ends_at,
            **{"titles": {"en": "Meeting"}, **facts},
        )

    def change_item(self, item_id: str, **changes: Any) -> None:
        self.visits(
            "ItineraryItemChanged", changes.pop("visit_id", VISIT), item_id=item_id, **changes
        )

    def remove_item(self, item_id: str, visit_id: str = VISIT) -> None:
        self.visits("ItineraryItemRemoved", visit_id, item_id=item_id, reason="rain")

    def sample_office(self) -> None:
        """The feeds of the golden files: a partner's visit with four items (one removed),
        and a festival the partner is invited to."""
        self.register_basics()
        self.request_visit(VISIT, "VisitApproved")
        self.add_item(
            COURTESY_CALL,
            "2026-05-01T11:00:00+09:00",
            "2026-05-01T12:00:00+09:00",
            venue_id=HALL,
            official_ids=[DEPUTY, MAYOR],
            titles={"zh-TW": "拜會市長", "en": "Courtesy call on the mayor", "ja": "市長表敬訪問"},
            interpreter="Ms Chen",
            gift_exchange="tea set",
            press=True,
            notes_shared="Enter by the east gate; bring the guest book",
        )
        self.add_item(
            SCIENCE_PARK,
            "2026-05-01T14:00:00+08:00",
            "2026-05-01T16:30:00+08:00",
            place={
                "names": {"zh-TW": "科學園區", "en": "Science Park"},
                "timezone": TAIPEI,
                "address": {"en": "2 Innovation Road"},
            },
            official_ids=[DEPUTY],
            titles={"zh-TW": "參訪科學園區", "en": "Science park tour"},
            interpreter=True,
        )
        self.add_item(
            BANQUET,
            "2026-05-01T18:30:00+08:00",
            "2026-05-01T21:00:00+08:00",
            venue_id=HALL,
            official_ids=[MAYOR],
            titles={
                "zh-TW": "歡迎晚宴，含表演；市民參與",
                "en": "Welcome banquet, with a show; citizens welcome \\ all",
            },
        )
        self.add_item(
            TEA,
            "2026-05-02T09:00:00+08:00",
            "2026-05-02T10:00:00+08:00",
            venue_id=HALL,
            official_ids=[MAYOR],
            titles={"en": "Tea ceremony"},
        )
        self.remove_item(TEA)
        self.visits("VisitScheduled", VISIT, reason="programme agreed")
        self.invitations(
            "CityEventScheduled",
            FESTIVAL,
            kind="festival",
            title={"zh-TW": "國際文化節", "en": "International Culture Festival"},
            description={"en": "Music and food from our partner cities."},
            starts_at="2026-10-10T09:00:00+08:00",
            ends_at="2026-10-10T17:00:00+08:00",
            timezone=TAIPEI,
            venue={"place": "Arts Plaza"},
            video_link="https://video.example/festival",
        )
        self.invitations(
            "InvitationSent",
            FESTIVAL,
            invitation_id="invitation-sapporo",
            invitee_kind="partner",
            invitee_id=SAPPORO,
            answer_by="2026-09-01",
        )


class Feeds:
    """Feeds built by the API's service straight from the database, with one cache across
    calls as in an API process."""

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.cache = FeedCache()

    def build(self, audience: Audience, language: str = "en", now: datetime = NOW) -> Feed | None:
        async def run() -> Feed | None:
            engine = make_async_engine(self.projection.settings.async_database_url)
            try:
                async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                    return await build_feed(
                        db_session=session,
                        cache=self.cache,
                        audience=audience,
                        language=language,
                        now=now,
                    )
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def text(self, audience: Audience, language: str = "en", now: datetime = NOW) -> str:
        feed = self.build(audience, language, now)
        assert feed is not None, f"no feed for {audience}"
        text = feed.body.decode()
        check_feed(text)
        return text

    def events(
        self, audience: Audience, language: str = "en", now: datetime = NOW
    ) -> dict[str, Any]:
        return events_by_uid(self.text(audience, language, now))


def check_feed(text: str | bytes) -> Any:
    """What every feed must be, whatever it shows: CRLF lines of at most 75 octets, one value
    of each property per event, times that are UTC, dates, or local with a VTIMEZONE for
    their TZID (never floating), and the properties clients need."""
    text = text.decode() if isinstance(text, bytes) else text
    for line in content_lines(text):
        assert len(line.encode()) <= 75, line
    calendar = parse(text)
    for name in (
        "VERSION",
        "PRODID",
        "NAME",
        "X-WR-CALNAME",
        "REFRESH-INTERVAL",
        "X-PUBLISHED-TTL",
    ):
        assert name in calendar, name
    zones = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    used: set[str] = set()
    for event in calendar.events:
        names = [name for name, _ in event.property_items(recursive=False)][1:-1]
        assert len(names) == len(set(names)), f"a property appears twice in {names}"
        for name in (
            "UID",
            "DTSTAMP",
            "LAST-MODIFIED",
            "SEQUENCE",
            "DTSTART",
            "DTEND",
            "SUMMARY",
            "STATUS",
        ):
            assert name in event, name
        for name in ("DTSTART", "DTEND"):
            value = event[name]
            if isinstance(value.dt, datetime):
                assert value.dt.tzinfo is not None, f"floating {name}"
                if "TZID" in value.params:
                    used.add(str(value.params["TZID"]))
                else:
                    assert value.dt.utcoffset() == timedelta(0), f"{name} neither UTC nor TZID"
    assert used <= zones, f"no VTIMEZONE for {used - zones}"
    return calendar


def parse(text: str | bytes) -> Any:
    """The feed read back by icalendar (typed loosely: its property values are a wide union)."""
    return Calendar.from_ical(text)


def events_by_uid(text: str | bytes) -> dict[str, Any]:
    return {str(event["UID"]): event for event in parse(text).events}


def content_lines(text: str) -> Iterator[str]:
    """The feed's physical lines (CRLF-separated, still folded)."""
    assert text.endswith("\r\n")
    yield from text[:-2].split("\r\n")


def uid(kind: str, source: str) -> str:
    return f"{kind}-{source}@twinning"


class Desk:
    """Protocol staff at the API (the shared `inline_api`), with a clock the test sets."""

    def __init__(self, api: InlineApi, now: datetime = NOW) -> None:
        self.api = api
        self.now = now
        api.app.dependency_overrides[get_clock] = lambda: lambda: self.now
        # Each command is applied before its response is back: look at the database at every
        # feed request, so that a fetch right after a change sees it (the API's own interval,
        # `feed_check_interval`, is tested with two API processes in test_calendar_feed_cache).
        api.app.state.feed_cache.check_interval = 0
        #: A calendar client: no API token, only the feed's URL.
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api.app), base_url="http://inline"
        )

    def fetch(self, url: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
        """What a calendar client gets at `url` (a full feed URL, or a path)."""
        path = path_of(url) if "://" in url else url
        response = self.api.portal.call(partial(self.client.request, method, path, **kwargs))
        if response.status_code == 200 and method == "GET" and path.split("?")[0].endswith(".ics"):
            check_feed(response.content)
        return response

    def accepted(self, url: str, body: dict[str, Any], method: str = "POST") -> str:
        response = self.api.request(method, url, json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def mayor(self) -> str:
        return self.accepted(
            "/officials",
            {
                "names": {"zh-TW": "林市長", "en": "Mayor Lin", "ja": "林市長"},
                "title": {"zh-TW": "市長", "en": "Mayor"},
                "protocol_rank": 1,
            },
        )

    def partner(self) -> str:
        return self.accepted(
            "/partners",
            {
                "names": {"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"},
                "country": "JP",
                "kind": "sister",
                "timezone": TOKYO,
                "agreement_date": "2011-04-20",
                "languages": ["ja"],
            },
        )

    def visit_with_item(self, official_id: str, partner_id: str | None = None) -> tuple[str, str]:
        delegation = (
            {"partner_id": partner_id}
            if partner_id
            else {"organisation": {"en": "Kyoto Chamber of Commerce"}}
        )
        visit = self.accepted("/visits", sample_visit(delegation=delegation))
        self.accepted(f"/visits/{visit}/approve", {})
        item = self.accepted(
            f"/visits/{visit}/itinerary",
            {
                "starts_at": "2026-05-01T10:00:00+08:00",
                "ends_at": "2026-05-01T11:00:00+08:00",
                "place": {"names": {"en": "Guest House", "ja": "迎賓館"}, "timezone": TAIPEI},
                "official_ids": [official_id],
                "titles": {"en": "Courtesy call", "zh-TW": "禮貌性拜會", "ja": "表敬訪問"},
            },
        )
        return visit, item

    def feed_link(self, audience: dict[str, Any], **extra: Any) -> dict[str, Any]:
        response = self.api.post("/feed-links", json={"audience": audience, **extra})
        assert response.status_code == 201, response.text
        return dict(response.json())


def path_of(url: str) -> str:
    """The path and query of a feed URL, for the in-process client."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
