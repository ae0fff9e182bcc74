"""The press page and a mission's exchanges in the web app (no browser: what the pages say):
the year's counts per month and per partner city, the items with what they cover; a mission's
own figures on its page, in Traditional Chinese."""

from __future__ import annotations

from conftest import accepted, sample_visit
from web_support import Office, office

__all__ = ["office"]  # a fixture


def test_the_press_page_counts_a_years_items_per_month_and_partner(office: Office) -> None:
    sapporo = office.partners["Sapporo"]
    visit = accepted(
        office.call("POST", "/visits", json=sample_visit(delegation={"partner_id": sapporo}))
    )["id"]
    item = {
        "kind": "interview",
        "outlet": "聯合新聞（測試）",
        "date": "2026-05-03",
        "language": "zh-TW",
        "title": {"zh-TW": "札幌市長專訪", "en": "Interview with the mayor of Sapporo"},
        "covers": [{"kind": "visit", "id": visit}],
    }
    accepted(office.call("POST", "/press", json=item))
    mission = accepted(
        office.call(
            "POST",
            "/missions",
            json={
                "names": {"zh-TW": "測試辦事處", "en": "Test Office"},
                "country": "JP",
                "kind": "trade-office",
            },
        )
    )["id"]
    exchange = {
        "mission_ids": [mission],
        "date": "2026-04-01",
        "field": "culture",
        "direction": "inbound",
        "summary": {"zh-TW": "電影週", "en": "Film week"},
    }
    accepted(office.call("POST", "/exchanges", json=exchange))

    with office.signed_in() as (client, _csrf):
        client.headers["Accept-Language"] = "zh-TW"
        page = client.get("/ui/press?year=2026")
        assert page.status_code == 200
        assert "2026-05" in page.text and "札幌市" in page.text and "專訪" in page.text
        assert f'href="/ui/visits/{visit}"' in page.text
        assert "共 1 則媒體報導" in page.text
        mission_page = client.get(f"/ui/missions/{mission}")
        assert "與本機構的交流" in mission_page.text and "電影週" in mission_page.text
        assert "交流 1 次" in mission_page.text
