"""Figures derived from the exchange history: kept by the CRM projector (counts, last
exchange), or computed when read from stored facts (anniversaries, dormancy)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from conftest import InlineApi, Projection, command, external_event, sample_partner
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.api.deps import get_clock, get_settings
from twinning.crm.models import Exchange, PartnerActivity, PartnerCity, PartnerExchangeCount
from twinning.crm.stats import add_months, next_anniversary, partner_stats
from twinning.db import make_async_engine
from twinning.streams.events import (
    ExchangeRecorded,
    PartnerCityRegistered,
    new_event,
)
from twinning.streams.projection import EventProcessor, Message, Park, Projector
from twinning.streams.store import ArchivedEvent, ParkedEvent


def registered(partner_id: str, **facts: Any) -> Any:
    payload = PartnerCityRegistered.model_validate({**sample_partner(), **facts})
    return new_event(payload, aggregate_id=partner_id, actor="staff")


def exchange(exchange_id: str, partner_ids: list[str], day: str, field: str = "culture") -> Any:
    payload = ExchangeRecorded.model_validate(
        {
            "partner_ids": partner_ids,
            "date": day,
            "field": field,
            "direction": "inbound",
            "summary": {"en": f"exchange {exchange_id}"},
        }
    )
    return new_event(payload, aggregate_id=exchange_id, actor="staff")


def counts(projection: Projection, partner_id: str) -> dict[tuple[int, str], int]:
    return {
        (row.year, row.field): row.count
        for row in projection.rows(PartnerExchangeCount)
        if row.partner_id == partner_id
    }


def partner(**facts: Any) -> PartnerCity:
    defaults: dict[str, Any] = {
        "id": "p",
        "names": {"en": "Testville"},
        "status": "active",
        "agreement_date": None,
        "registered_at": datetime(2020, 1, 10, tzinfo=UTC),
    }
    return PartnerCity(**{**defaults, **facts})


def activity(last: date) -> PartnerActivity:
    return PartnerActivity(partner_id="p", exchanges=1, last_exchange_date=last)


# --- kept by the projector ---------------------------------------------------------------


def test_exchanges_are_counted_per_partner_field_and_year(projection: Projection) -> None:
    projection.apply(
        registered("osaka"),
        registered("busan"),
        exchange("x1", ["osaka", "busan"], "2023-04-01", "culture"),
        exchange("x2", ["osaka"], "2023-11-30", "culture"),
        exchange("x3", ["osaka"], "2024-02-29", "sports"),
    )
    assert counts(projection, "osaka") == {(2023, "culture"): 2, (2024, "sports"): 1}
    assert counts(projection, "busan") == {(2023, "culture"): 1}
    last = {
        a.partner_id: (a.exchanges, a.last_exchange_date) for a in projection.rows(PartnerActivity)
    }
    assert last == {"osaka": (3, date(2024, 2, 29)), "busan": (1, date(2023, 4, 1))}


def test_an_exchange_recorded_again_replaces_the_first_record(projection: Projection) -> None:
    projection.apply(
        registered("osaka"),
        registered("busan"),
        exchange("x1", ["osaka"], "2023-04-01", "culture"),
        exchange("x1", ["busan"], "2022-01-05", "youth"),
    )
    assert counts(projection, "osaka") == {}
    assert counts(projection, "busan") == {(2022, "youth"): 1}
    assert [(a.partner_id, a.last_exchange_date) for a in projection.rows(PartnerActivity)] == [
        ("busan", date(2022, 1, 5))
    ]


def test_an_exchange_waits_for_its_partner_and_counts_once_it_arrives(
    projection: Projection,
) -> None:
    early = exchange("x1", ["late-city"], "2024-06-01")
    assert projection.apply(early) == ["parked"]
    assert [p.waits_for for p in projection.rows(ParkedEvent)] == ["late-city"]
    assert projection.rows(Exchange) == []

    assert projection.apply(registered("late-city")) == ["applied"]
    assert projection.rows(ParkedEvent) == []
    assert [e.id for e in projection.rows(Exchange)] == ["x1"]
    assert counts(projection, "late-city") == {(2024, "culture"): 1}


def test_an_exchange_with_two_unknown_partners_waits_for_both(projection: Projection) -> None:
    assert projection.apply(exchange("x1", ["osaka", "busan"], "2024-06-01")) == ["parked"]
    projection.apply(registered("osaka"))
    assert [(p.waits_for, p.reason) for p in projection.rows(ParkedEvent)] == [
        ("busan", "exchange x1 waits for partner city busan")
    ]
    projection.apply(registered("busan"))
    assert projection.rows(ParkedEvent) == []
    assert counts(projection, "busan") == {(2024, "culture"): 1}


def test_an_external_producers_exchange_is_applied_like_the_apis(projection: Projection) -> None:
    """A raw message written by another system (no twinning code involved in producing it)."""
    projection.apply(registered("osaka"))
    raw = external_event(
        "ExchangeRecorded",
        {
            "partner_ids": ["osaka"],
            "date": "2024-05-01",
            "field": "education",
            "direction": "virtual",
            "summary": {"zh-TW": "線上交流", "ja": "オンライン交流"},
            "participants": 40,
            "source": {"kind": "city-event", "id": "ev-9"},
        },
        aggregate_id="ext-1",
        actor="school-exchange-system",
    )
    assert projection.apply(raw, topic="twinning.exchanges") == ["applied"]
    [row] = projection.rows(Exchange)
    assert (row.direction, row.participants, row.source_kind, row.source_id) == (
        "virtual",
        40,
        "city-event",
        "ev-9",
    )
    assert counts(projection, "osaka") == {(2024, "education"): 1}


def test_a_rebuild_reproduces_the_figures(projection: Projection) -> None:
    projection.apply(
        registered("osaka"),
        exchange("x1", ["osaka"], "2021-03-01", "tourism"),
        exchange("x2", ["osaka"], "2022-03-01", "tourism"),
        exchange("x2", ["osaka"], "2022-07-01", "health"),
        registered("busan"),
        exchange("x3", ["osaka", "busan"], "2023-03-01", "youth"),
    )

    def snapshot() -> tuple[Any, ...]:
        return (
            sorted(counts(projection, "osaka").items()),
            sorted(counts(projection, "busan").items()),
            sorted(
                (a.partner_id, a.exchanges, a.last_exchange_date)
                for a in projection.rows(PartnerActivity)
            ),
        )

    before = snapshot()

    assert projection.rebuild() == 6
    assert snapshot() == before


# --- computed when read ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agreement", "today", "years", "on"),
    [
        (date(2010, 5, 1), date(2024, 1, 1), 15, date(2025, 5, 1)),
        (date(2010, 5, 1), date(2025, 5, 1), 15, date(2025, 5, 1)),  # the day itself is upcoming
        (date(2010, 5, 1), date(2025, 5, 2), 20, date(2030, 5, 1)),
        (date(2022, 8, 8), date(2023, 1, 1), 5, date(2027, 8, 8)),  # the first is the 5th
        (date(2030, 1, 1), date(2025, 1, 1), 5, date(2035, 1, 1)),  # agreement still ahead
        (date(2000, 2, 29), date(2024, 6, 1), 25, date(2025, 2, 28)),  # common year: 28 Feb
        (date(2000, 2, 29), date(2025, 3, 1), 30, date(2030, 2, 28)),
        (date(1996, 2, 29), date(2015, 1, 1), 20, date(2016, 2, 29)),  # leap year: 29 Feb
    ],
)
def test_the_next_anniversary_is_the_next_multiple_of_five_years(
    agreement: date, today: date, years: int, on: date
) -> None:
    anniversary = next_anniversary(agreement, today)
    assert (anniversary.years, anniversary.date) == (years, on)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 15), 18, date(2025, 7, 15)),
        (date(2023, 8, 31), 18, date(2025, 2, 28)),
        (date(2022, 8, 31), 18, date(2024, 2, 29)),
        (date(2024, 12, 1), 1, date(2025, 1, 1)),
    ],
)
def test_months_are_calendar_months_ending_on_the_last_day_when_shorter(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("today", "dormant"),
    [(date(2025, 7, 14), False), (date(2025, 7, 15), True), (date(2026, 1, 1), True)],
)
def test_an_active_partner_becomes_dormant_18_months_after_its_last_exchange(
    today: date, dormant: bool
) -> None:
    figures = partner_stats(
        partner(), activity(date(2024, 1, 15)), [], today=today, dormant_after_months=18
    )
    assert figures.dormant is dormant
    assert figures.dormant_since == (date(2025, 7, 15) if dormant else None)


def test_without_exchanges_dormancy_counts_from_the_latest_known_date() -> None:
    entered = partner(
        agreement_date=date(2021, 6, 30), registered_at=datetime(2020, 1, 10, tzinfo=UTC)
    )
    assert not partner_stats(
        entered, None, [], today=date(2022, 12, 29), dormant_after_months=18
    ).dormant
    assert partner_stats(
        entered, None, [], today=date(2022, 12, 30), dormant_after_months=18
    ).dormant


@pytest.mark.parametrize("status", ["dormant", "ended"])
def test_only_an_active_partner_is_flagged_dormant(status: str) -> None:
    figures = partner_stats(
        partner(status=status),
        activity(date(2010, 1, 1)),
        [],
        today=date(2025, 1, 1),
        dormant_after_months=18,
    )
    assert figures.dormant is False


def test_an_ended_partnership_has_no_next_anniversary() -> None:
    ended = partner(status="ended", agreement_date=date(2010, 5, 1))
    assert (
        partner_stats(
            ended, None, [], today=date(2025, 1, 1), dormant_after_months=18
        ).next_anniversary
        is None
    )


# --- served by the API -------------------------------------------------------------------


def at(day: date) -> Callable[[], datetime]:
    """A clock stopped at noon UTC of `day`."""
    return lambda: datetime.combine(day, time(12), UTC)


def entered_the_crm_on(inline_api: InlineApi, day: date) -> None:
    """Partners registered now entered the CRM today (real time); move that into the past."""
    with inline_api.engine.begin() as connection:
        connection.execute(
            PartnerCity.__table__.update().values(
                registered_at=datetime.combine(day, datetime.min.time(), UTC)
            )
        )


def test_partner_stats_are_served_as_of_today(inline_api: InlineApi) -> None:
    inline_api.app.dependency_overrides[get_clock] = lambda: at(date(2025, 7, 15))
    osaka = command(
        inline_api, "POST", "/partners", json={**sample_partner(), "agreement_date": "2000-02-29"}
    )["id"]
    quiet = command(
        inline_api, "POST", "/partners", json={**sample_partner(1), "agreement_date": "2005-12-01"}
    )["id"]
    command(
        inline_api,
        "POST",
        "/exchanges",
        json={
            "partner_ids": [osaka],
            "date": "2025-03-01",
            "field": "sports",
            "direction": "outbound",
            "summary": {"en": "Marathon team"},
        },
    )
    entered_the_crm_on(inline_api, date(2015, 1, 1))

    figures = inline_api.get(f"/partners/{osaka}/stats").json()
    assert figures["as_of"] == "2025-07-15"
    assert figures["last_exchange_date"] == "2025-03-01"
    assert figures["exchanges"] == 1
    assert figures["exchanges_by_field_and_year"] == [{"year": 2025, "field": "sports", "count": 1}]
    assert figures["next_anniversary"] == {"years": 30, "date": "2030-02-28"}
    assert figures["dormant"] is False

    overview = inline_api.get("/partners/stats", params={"within_days": 180}).json()
    assert overview["dormant_after_months"] == 18
    assert overview["dormant_partner_ids"] == [quiet]
    upcoming = [
        (a["partner_id"], a["years"], a["date"]) for a in overview["upcoming_anniversaries"]
    ]
    assert upcoming == [(quiet, 20, "2025-12-01")]


def test_the_dormancy_period_is_a_setting(inline_api: InlineApi) -> None:
    inline_api.app.dependency_overrides[get_clock] = lambda: at(date(2025, 7, 15))
    settings = inline_api.settings.model_copy(update={"dormant_after_months": 6})
    inline_api.app.dependency_overrides[get_settings] = lambda: settings
    partner_id = command(inline_api, "POST", "/partners", json=sample_partner())["id"]
    command(
        inline_api,
        "POST",
        "/exchanges",
        json={
            "partner_ids": [partner_id],
            "date": "2025-01-15",
            "field": "culture",
            "direction": "inbound",
            "summary": {"en": "Choir"},
        },
    )
    entered_the_crm_on(inline_api, date(2015, 1, 1))
    figures = inline_api.get(f"/partners/{partner_id}/stats").json()
    assert (figures["dormant"], figures["dormant_since"]) == (True, "2025-07-15")
    assert inline_api.get("/partners/stats").json()["dormant_partner_ids"] == [partner_id]


def test_stats_of_an_unknown_partner_answer_404(inline_api: InlineApi) -> None:
    assert inline_api.get("/partners/nope/stats").status_code == 404


def test_an_event_parked_while_its_aggregate_was_being_applied_is_not_stranded(
    projection: Projection,
) -> None:
    """Regression: the exchange agent parked an exchange just after the partners agent had
    applied the partner and released what was parked for it; the exchange waited forever."""
    looks = []
    racing = Projector("racing")

    @racing.on(ExchangeRecorded)
    async def partner_arrives_right_after_the_first_look(_session: Any, event: Any) -> None:
        looks.append(event.event_id)
        if len(looks) == 1:
            raise Park("osaka", "partner city osaka is not applied yet")

    late = exchange("x1", ["osaka"], "2024-06-01")

    async def no_dead_letters(record: Any) -> None:
        raise AssertionError(record.reason)

    async def run() -> str:
        engine = make_async_engine(projection.settings.async_database_url)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            return await EventProcessor(sessions, [racing], no_dead_letters).process(
                Message(late.envelope.to_bytes(), "twinning.exchanges")
            )
        finally:
            await engine.dispose()

    asyncio.run(run())
    assert len(looks) == 2
    assert projection.rows(ParkedEvent) == []
    assert [a.event_id for a in projection.rows(ArchivedEvent)] == [late.event_id]
