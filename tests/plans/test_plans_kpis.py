"""KPI figures computed from known event histories: counted by their filters, by month and
quarter; the same whether events arrive out of order or twice; and a figure as of a past date
that events recorded later do not change. The report's figures are the API's."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from conftest import (
    InlineApi,
    command,
    external_event,
    in_two_languages,
    sample_partner,
    sample_visit,
)
from openpyxl import load_workbook
from plan_support import small_plan
from pypdf import PdfReader

PARTNER = "p-1"
EXCHANGES = "twinning.exchanges"


def exchange(day: str, direction: str, participants: int, *, recorded: str, **extra: Any) -> bytes:
    return external_event(
        "ExchangeRecorded",
        {
            "partner_ids": [PARTNER],
            "date": day,
            "field": "culture",
            "direction": direction,
            "summary": {"en": f"Exchange of {day}", "zh-TW": f"{day} 交流"},
            "participants": participants,
        },
        aggregate_id=extra.pop("aggregate_id", f"x-{day}-{direction}"),
        occurred_at=recorded,
        **extra,
    )


def partner(*, recorded: str) -> bytes:
    return external_event(
        "PartnerCityRegistered",
        {**sample_partner(), "agreement_date": "2025-03-03"},
        aggregate_id=PARTNER,
        occurred_at=recorded,
    )


@pytest.fixture
def plan(inline_api: InlineApi) -> InlineApi:
    command(inline_api, "POST", "/plans", json=small_plan())
    return inline_api


def figure(api: InlineApi, key: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/plans/2025/kpis/{key}", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_computed_kpis_count_and_sum_the_events_their_filters_pass(plan: InlineApi) -> None:
    # An exchange before its partner is known: parked, then applied with the partner.
    early = exchange("2025-01-20", "inbound", 12, recorded="2025-01-21T09:00:00+08:00")
    assert plan.apply(early, topic=EXCHANGES) == ["parked"]
    plan.apply(partner(recorded="2025-03-03T10:00:00+08:00"))
    plan.apply(
        exchange("2025-04-02", "outbound", 5, recorded="2025-04-03T09:00:00+08:00"),
        exchange("2025-05-15", "inbound", 30, recorded="2025-05-16T09:00:00+08:00"),
        topic=EXCHANGES,
    )
    plan.apply(early, topic=EXCHANGES)  # redelivered: a no-op
    inbound = figure(plan, "inbound")
    assert inbound["value"] == 2
    assert inbound["months"][0] == 1 and inbound["months"][4] == 1
    assert inbound["quarters"] == [1, 1, 0, 0]
    assert inbound["progress"] == 0.5
    assert [e["day"] for e in inbound["events"]] == ["2025-01-20", "2025-05-15"]
    assert inbound["events"][0]["label"]["en"] == "Exchange of 2025-01-20"
    assert figure(plan, "participants")["value"] == 47
    signed = figure(plan, "signed")
    assert (signed["value"], signed["events"][0]["day"]) == (1, "2025-03-03")


def test_a_figure_as_of_a_past_date_stays_what_it_was(plan: InlineApi) -> None:
    plan.apply(partner(recorded="2025-01-02T10:00:00+08:00"))
    plan.apply(
        exchange("2025-06-10", "inbound", 3, recorded="2025-06-11T09:00:00+08:00"), topic=EXCHANGES
    )
    as_of_june = figure(plan, "inbound", as_of="2025-06-30")
    # Recorded in July, dated in June: it counts from July on, never in the June figure.
    plan.apply(
        exchange("2025-06-20", "inbound", 4, recorded="2025-07-05T09:00:00+08:00"), topic=EXCHANGES
    )
    assert figure(plan, "inbound", as_of="2025-06-30") == as_of_june
    assert as_of_june["value"] == 1
    assert figure(plan, "inbound", as_of="2025-07-31")["value"] == 2
    # And the rebuild from the archive gives the same figures.
    plan.rebuild()
    assert figure(plan, "inbound", as_of="2025-06-30") == as_of_june


def test_an_answer_counts_by_its_latest_version(inline_api: InlineApi) -> None:
    """Answers are dated the day they are recorded: this year's plan counts them."""
    year = date.today().year
    command(inline_api, "POST", "/plans", json=small_plan(year))
    partner_id = command(inline_api, "POST", "/partners", json=sample_partner(1))["id"]
    starts = datetime.now(UTC) + timedelta(days=30)
    event = {
        "kind": "festival",
        "title": {"en": "Lantern festival", "zh-TW": "燈會"},
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "timezone": "Asia/Taipei",
    }
    event_id = command(inline_api, "POST", "/city-events", json=event)["id"]
    invited = inline_api.post(
        f"/city-events/{event_id}/invitations",
        json={
            "answer_by": (starts - timedelta(days=10)).date().isoformat(),
            "invitees": [{"kind": "partner", "id": partner_id}],
        },
    )
    assert invited.status_code == 202, invited.text
    path = f"/invitations/{invited.json()[0]['id']}/rsvp"
    url = f"/plans/{year}/kpis/attending"
    command(inline_api, "POST", path, json={"answer": "accepted-by-video", "received_via": "email"})
    assert inline_api.get(url).json()["value"] == 1
    command(inline_api, "POST", path, json={"answer": "declined", "received_via": "email"})
    assert inline_api.get(url).json()["value"] == 0


def test_the_reports_figures_are_the_apis(plan: InlineApi) -> None:
    plan.apply(partner(recorded="2025-01-02T10:00:00+08:00"))
    plan.apply(
        exchange("2025-02-10", "inbound", 8, recorded="2025-02-11T09:00:00+08:00"), topic=EXCHANGES
    )
    body = {"work_item": "leaflets", "date": "2025-03-05", "amount": "1234.5", "purpose": "Print"}
    command(plan, "POST", "/plans/2025/spending", json=body)
    api = plan.get("/plans/2025", params={"quarter": 1}).json()
    kpis = {k["key"]: k for g in api["goals"] for w in g["work_items"] for k in w["kpis"]}

    rows = list(csv.reader(io.StringIO(plan.get("/plans/2025/report.csv?quarter=1&lang=en").text)))
    assert rows[0][:4] == ["Goal", "Work item", "Section", "KPI"]
    by_name = {row[3]: row for row in rows[1:]}
    assert float(by_name["Inbound exchanges"][5]) == kpis["inbound"]["value"] == 1
    assert float(by_name["Participants"][5]) == kpis["participants"]["value"] == 8
    assert float(by_name["Editions published"][4]) == kpis["editions"]["target"]

    book = load_workbook(
        io.BytesIO(plan.get("/plans/2025/report.xlsx?quarter=1&lang=zh-TW").content)
    )
    sheet = book.active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:4] == ["施政目標", "工作項目", "負責單位", "關鍵績效指標"]
    xlsx = {row[3]: row for row in cells[1:]}
    assert xlsx["來訪交流"][5] == kpis["inbound"]["value"]
    assert xlsx["刊物版次"][-4] == 2000 and xlsx["刊物版次"][-3] == 1234.5


@in_two_languages
def test_the_pdf_report_reads_in_its_language(plan: InlineApi, locale: str) -> None:
    response = plan.get(f"/plans/2025/report.pdf?quarter=1&lang={locale}")
    assert response.status_code == 200, response.text
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    if locale == "zh-TW":
        for shown in ("2025年度國際事務計畫", "推展城市外交", "來訪交流", "10,900"):
            assert shown in text
    else:
        for shown in ("International affairs plan 2025", "Inbound exchanges", "10,900"):
            assert shown in text
    html = plan.get(f"/plans/2025/report.html?quarter=1&lang={locale}").text
    assert f'lang="{locale}"' in html and "<svg" in html


def test_press_items_count_while_open_to_the_press(inline_api: InlineApi) -> None:
    """A programme item open to the press counts on its day where it takes place; closed to
    the press, or removed, it no longer does."""
    plan = small_plan(2026)
    plan["goals"][1]["work_items"][0]["kpis"].append(
        {
            "key": "press",
            "name": {"en": "Press items"},
            "target": 10,
            "computed": {"measure": "press-items"},
        }
    )
    command(inline_api, "POST", "/plans", json=plan)
    visit_id = command(inline_api, "POST", "/visits", json=sample_visit())["id"]
    command(inline_api, "POST", f"/visits/{visit_id}/approve")
    port = {"names": {"en": "Port"}, "timezone": "Asia/Taipei"}

    def item(starts_at: str, ends_at: str, **more: Any) -> str:
        body = {"starts_at": starts_at, "ends_at": ends_at, "titles": {"en": "Call"}, **more}
        return str(command(inline_api, "POST", f"/visits/{visit_id}/itinerary", json=body)["id"])

    # 23:30 UTC on 30 April is 07:30 on 1 May in Taipei: dated 1 May.
    item_id = item("2026-04-30T23:30:00+00:00", "2026-05-01T01:00:00+00:00", place=port, press=True)
    item("2026-05-02T10:00:00+08:00", "2026-05-02T11:00:00+08:00", place=port)
    press = inline_api.get("/plans/2026/kpis/press").json()
    assert (press["value"], press["months"][4]) == (1, 1)
    assert press["events"][0]["day"] == "2026-05-01"
    command(inline_api, "PATCH", f"/visits/{visit_id}/itinerary/{item_id}", json={"press": False})
    assert inline_api.get("/plans/2026/kpis/press").json()["value"] == 0
