"""The mayor's trips abroad, each leg in its own time zone, and the exchanges staff record, as
officials, the office and partner cities see them in their feeds."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from calendar_support import MAYOR, SAPPORO, Feeds, Producer, uid
from conftest import Projection
from twinning.calendar.feeds import Audience

TRIP = "trip-europe"
LEGS = [
    ("Asia/Tokyo", "2026-06-01T09:00:00+09:00", "2026-06-03T18:00:00+09:00"),
    ("Europe/Madrid", "2026-06-04T10:00:00+02:00", "2026-06-06T17:00:00+02:00"),
    ("America/Los_Angeles", "2026-06-07T08:30:00-07:00", "2026-06-09T12:00:00-07:00"),
]


def leg(n: int) -> str:
    return uid("trip", f"{TRIP}-leg-{n}")


def plan_trip(producer: Producer) -> None:
    producer.register_basics()
    cities = [
        ({"en": "Sapporo", "ja": "札幌市", "zh-TW": "札幌市"}, "JP", [SAPPORO]),
        ({"en": "Madrid", "es": "Madrid", "zh-TW": "馬德里"}, "ES", []),
        ({"en": "Los Angeles", "zh-TW": "洛杉磯"}, "US", []),
    ]
    producer.exchanges(
        "TripPlanned",
        TRIP,
        title={"en": "Mayor's trip around the world", "zh-TW": "市長環球訪問"},
        officials=[{"official_id": MAYOR}, {"name": "Director Chen"}],
        international_event={"en": "World Cities Summit"},
        legs=[
            {
                "city": city,
                "country": country,
                "timezone": zone,
                "start": start,
                "end": end,
                "partner_ids": partners,
                "itinerary": {"en": f"Programme in {city['en']}"},
            }
            for (city, country, partners), (zone, start, end) in zip(cities, LEGS, strict=True)
        ],
    )


def test_a_trip_across_three_time_zones_shows_each_leg_at_its_own_local_times(
    projection: Projection,
) -> None:
    plan_trip(Producer(projection))
    feeds = Feeds(projection)

    text = feeds.text(Audience.official(MAYOR))

    events = feeds.events(Audience.official(MAYOR))
    assert [u for u in events] == [leg(0), leg(1), leg(2)]
    for n, (zone, start, end) in enumerate(LEGS):
        event = events[leg(n)]
        assert str(event["DTSTART"].params["TZID"]) == zone
        assert (event.start, event.end) == (
            datetime.fromisoformat(start).astimezone(ZoneInfo(zone)),
            datetime.fromisoformat(end).astimezone(ZoneInfo(zone)),
        )
        assert event.start.isoformat() == start  # the wall clock of the destination
        assert f"BEGIN:VTIMEZONE\r\nTZID:{zone}\r\n" in text
    madrid = events[leg(1)]
    assert str(madrid["SUMMARY"]) == "Mayor's trip around the world – Madrid"
    assert str(madrid["LOCATION"]) == "Madrid, Spain"
    assert str(madrid["DESCRIPTION"]).splitlines() == [
        "Officials: Mayor Lin and Director Chen",
        "International event: World Cities Summit",
        "Programme in Madrid",
    ]
    assert [str(c) for c in madrid["CATEGORIES"].cats] == ["Trip abroad"]
    zh = feeds.events(Audience.official(MAYOR), "zh-TW")[leg(1)]
    assert (str(zh["SUMMARY"]), str(zh["LOCATION"])) == ("市長環球訪問（馬德里）", "西班牙馬德里")


def test_a_partner_city_sees_only_the_leg_that_visits_it(projection: Projection) -> None:
    plan_trip(Producer(projection))
    feeds = Feeds(projection)

    sapporo = feeds.events(Audience.partner(SAPPORO), "ja")

    legs = [u for u in sapporo if u.startswith("trip-")]
    assert legs == [leg(0)]
    assert str(sapporo[leg(0)]["LOCATION"]) == "札幌市（日本）"
    assert "交流都市：札幌市" in str(sapporo[leg(0)]["DESCRIPTION"])
    assert set(feeds.events(Audience.office())) >= {leg(0), leg(1), leg(2)}


def test_a_trip_that_loses_a_leg_cancels_it_and_a_cancelled_trip_cancels_them_all(
    projection: Projection,
) -> None:
    producer = Producer(projection)
    plan_trip(producer)
    feeds = Feeds(projection)
    before = feeds.events(Audience.official(MAYOR))

    producer.exchanges(
        "TripUpdated",
        TRIP,
        legs=[
            {
                "city": {"en": "Sapporo"},
                "country": "JP",
                "timezone": "Asia/Tokyo",
                "start": "2026-06-01T10:00:00+09:00",
                "end": "2026-06-03T18:00:00+09:00",
                "partner_ids": [SAPPORO],
            }
        ],
    )
    shorter = feeds.events(Audience.official(MAYOR))
    producer.exchanges("TripCancelled", TRIP, reason="budget")
    cancelled = feeds.events(Audience.official(MAYOR))

    assert shorter[leg(0)]["SEQUENCE"] == before[leg(0)]["SEQUENCE"] + 1  # a new start time
    assert [str(shorter[leg(n)]["STATUS"]) for n in range(3)] == [
        "CONFIRMED",
        "CANCELLED",
        "CANCELLED",
    ]
    assert {str(event["STATUS"]) for event in cancelled.values()} == {"CANCELLED"}
    assert "budget" not in feeds.text(Audience.office())


def test_exchanges_staff_record_are_whole_days_in_the_partners_feed(
    projection: Projection,
) -> None:
    producer = Producer(projection)
    producer.register_basics()
    producer.exchanges(
        "ExchangeRecorded",
        "exchange-1",
        partner_ids=[SAPPORO],
        date="2026-03-20",
        field="culture",
        direction="outbound",
        summary={"en": "Student orchestra tour", "ja": "学生オーケストラ公演"},
    )
    producer.exchanges(
        "ExchangeRecorded",
        "exchange-2",
        partner_ids=[SAPPORO],
        date="2026-03-21",
        field="culture",
        direction="inbound",
        summary={"en": "Recorded by a visit"},
        source={"kind": "visit", "id": "some-visit"},
    )
    feeds = Feeds(projection)

    sapporo = feeds.events(Audience.partner(SAPPORO), "ja")

    assert uid("exchange", "exchange-2") not in sapporo  # shown as the visit itself
    exchange = sapporo[uid("exchange", "exchange-1")]
    assert (exchange.start, exchange.end) == (date(2026, 3, 20), date(2026, 3, 21))
    assert str(exchange["SUMMARY"]) == "文化交流：札幌市"
    assert str(exchange["DESCRIPTION"]) == "学生オーケストラ公演"
    assert uid("exchange", "exchange-1") in feeds.events(Audience.office())
    assert uid("exchange", "exchange-1") not in feeds.events(Audience.official(MAYOR))


def test_a_mission_delegation_is_named_in_the_items_of_its_visit(projection: Projection) -> None:
    producer = Producer(projection)
    producer.register_basics()
    producer.partners(
        "ForeignMissionRegistered",
        "mission-fr",
        names={"en": "French Office in Taipei", "zh-TW": "法國在台協會"},
        country="FR",
        kind="representative-office",
    )
    producer.visits(
        "VisitRequested",
        "visit-fr",
        delegation={"mission_id": "mission-fr"},
        head_of_delegation={
            "names": {"en": "Director"},
            "title": {"en": "Director"},
            "protocol_rank": 2,
        },
        members=3,
        purpose={"en": "Culture"},
        requested_from="2026-05-01",
        requested_to="2026-05-01",
    )
    producer.add_item(
        "item-fr",
        "2026-05-01T10:00:00+08:00",
        "2026-05-01T11:00:00+08:00",
        visit_id="visit-fr",
        venue_id="hall",
        official_ids=[MAYOR],
    )

    producer.partners(
        "ForeignMissionUpdated", "mission-fr", names={"en": "Bureau Français de Taipei"}
    )

    (event,) = Feeds(projection).events(Audience.official(MAYOR)).values()
    assert "Delegation: Bureau Français de Taipei" in str(event["DESCRIPTION"])
