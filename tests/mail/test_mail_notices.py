"""Notices to officials of late changes, delivered to a real SMTP server (aiosmtpd on a
loopback port): an itinerary item or a city event an official attends that changes or is
cancelled within 48 hours of its start is mailed to the official once, in their language, with
the new time on the venue's clock; a change further ahead, an official without an address, a
replay of the event: no notice. On SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import InlineApi, accepted
from mail_desk import MailDesk, SmtpServer, smtp_server, smtp_settings
from twinning.db import utcnow
from twinning.i18n import force_locale, gettext

sys.path.insert(0, str(Path(__file__).parent.parent / "visits"))
from visits_support import sample_item, sample_official, sample_venue, sample_visit

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def desk(inline_api: InlineApi, smtp: SmtpServer) -> MailDesk:
    made = MailDesk(inline_api, smtp_settings(inline_api.settings, smtp))
    made.clock.now = utcnow()
    return made


def send_now(desk: MailDesk) -> int:
    """A round of the mailer at this moment (the changes happen on the real clock)."""
    desk.clock.now = utcnow()
    return desk.send()


def official(desk: MailDesk, n: int, **facts: str) -> str:
    return str(accepted(desk.api.post("/officials", json=sample_official(n, **facts)))["id"])


def booked_item(desk: MailDesk, officials: list[str], *, hours_ahead: float) -> tuple[str, str]:
    """An approved visit with one item `hours_ahead` from now in a Tokyo venue."""
    venue = accepted(desk.api.post("/venues", json=sample_venue(1, timezone="Asia/Tokyo")))["id"]
    visit = accepted(desk.api.post("/visits", json=sample_visit()))["id"]
    accepted(desk.api.post(f"/visits/{visit}/approve"))
    start = utcnow().replace(microsecond=0) + timedelta(hours=hours_ahead)
    item = sample_item(
        start.isoformat(),
        (start + timedelta(hours=1)).isoformat(),
        venue_id=venue,
        official_ids=officials,
    )
    return visit, accepted(desk.api.post(f"/visits/{visit}/itinerary", json=item))["id"]


def test_an_item_moved_within_48_hours_is_told_to_its_official_once_in_their_language(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    mayor = official(desk, 1, email="mayor@city.example", language="ja")
    nobody = official(desk, 2)  # no address: nothing to send
    visit, item = booked_item(desk, [mayor, nobody], hours_ahead=30)
    new_start = utcnow().replace(microsecond=0) + timedelta(hours=26)
    change = {
        "starts_at": new_start.isoformat(),
        "ends_at": (new_start + timedelta(hours=1)).isoformat(),
    }

    accepted(desk.api.patch(f"/visits/{visit}/itinerary/{item}", json=change))
    assert send_now(desk) == 1

    [notice] = smtp.received
    assert notice["To"] == "mayor@city.example"
    assert notice["Content-Language"] == "ja"
    text = notice.get_body(preferencelist=("plain",)).get_content()
    local = new_start.astimezone(TOKYO)
    assert f"{local.hour}時{local.minute:02d}分" in text  # on the venue's clock
    assert "(Asia/Tokyo)" in text
    [row] = desk.outbox()
    assert (row.kind, row.about_id, row.recipient_id) == (
        "notice-changed",
        f"item:{item}",
        f"official:{mayor}",
    )
    # Another look: nothing more.
    assert send_now(desk) == 0
    assert len(smtp.received) == 1


def test_a_change_further_ahead_than_48_hours_is_not_told(desk: MailDesk) -> None:
    mayor = official(desk, 1, email="mayor@city.example")
    visit, item = booked_item(desk, [mayor], hours_ahead=24 * 5)

    accepted(desk.api.patch(f"/visits/{visit}/itinerary/{item}", json={"titles": {"en": "Lunch"}}))
    new_start = utcnow() + timedelta(days=4)
    change = {
        "starts_at": new_start.isoformat(),
        "ends_at": (new_start + timedelta(hours=1)).isoformat(),
    }
    accepted(desk.api.patch(f"/visits/{visit}/itinerary/{item}", json=change))

    assert desk.outbox() == []


def test_a_removed_item_and_an_official_taken_off_are_told_it_is_cancelled_for_them(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    mayor = official(desk, 1, email="mayor@city.example", language="en")
    deputy = official(desk, 2, email="deputy@city.example", language="zh-TW")
    visit, item = booked_item(desk, [mayor, deputy], hours_ahead=20)

    accepted(desk.api.patch(f"/visits/{visit}/itinerary/{item}", json={"official_ids": [mayor]}))
    accepted(desk.api.request("DELETE", f"/visits/{visit}/itinerary/{item}"))
    assert send_now(desk) == 2

    kinds = {(row.recipient_id, row.kind) for row in desk.outbox()}
    assert kinds == {
        (f"official:{deputy}", "notice-cancelled"),
        (f"official:{mayor}", "notice-cancelled"),
    }
    subjects = {str(m["To"]): str(m["Subject"]) for m in smtp.received}
    with force_locale("zh-TW"):
        in_chinese = gettext("Cancelled for you: %(title)s", title="拜會市長")
    assert subjects == {
        "mayor@city.example": "Cancelled for you: Courtesy call on the mayor",
        "deputy@city.example": in_chinese,
    }


def test_a_city_event_moved_within_48_hours_is_told_to_the_officials_attending(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    mayor = official(desk, 1, email="mayor@city.example", language="en")
    start = utcnow().replace(microsecond=0) + timedelta(hours=40)
    body = {
        "kind": "ceremony",
        "title": {"en": "New Year reception"},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/Madrid",
        "venue": {"place": "Plaza Mayor"},
        "official_ids": [mayor],
    }
    city_event = accepted(desk.api.post("/city-events", json=body))["id"]
    later = start + timedelta(hours=3)
    change = {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()}

    accepted(desk.api.patch(f"/city-events/{city_event}", json=change))
    assert send_now(desk) == 1

    [notice] = smtp.received
    assert str(notice["Subject"]).startswith("Changed: New Year reception, now ")
    assert "(Europe/Madrid)" in str(notice["Subject"])
    assert "Plaza Mayor" in notice.get_body(preferencelist=("plain",)).get_content()


def test_a_trip_leg_moved_within_48_hours_is_told_on_the_destinations_clock(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    mayor = official(desk, 1, email="mayor@city.example", language="en")
    start = utcnow().replace(microsecond=0) + timedelta(hours=30)

    def leg(begins: datetime) -> dict[str, object]:
        return {
            "city": {"en": "Osaka"},
            "country": "JP",
            "timezone": "Asia/Tokyo",
            "start": begins.isoformat(),
            "end": (begins + timedelta(hours=8)).isoformat(),
        }

    body = {"title": {"en": "Kansai trade mission"}, "officials": [{"official_id": mayor}]}
    trip = accepted(desk.api.post("/trips", json={**body, "legs": [leg(start)]}))["id"]
    later = start + timedelta(hours=2)

    accepted(desk.api.patch(f"/trips/{trip}", json={"legs": [leg(later)]}))
    assert send_now(desk) == 1

    [notice] = smtp.received
    assert str(notice["Subject"]).startswith("Changed: Kansai trade mission: Osaka, now ")
    local = later.astimezone(TOKYO)
    assert f"{local:%H:%M}" in str(notice["Subject"]) and "(Asia/Tokyo)" in str(notice["Subject"])


def test_legs_dropped_from_a_trip_are_each_told_as_cancelled_as_they_were(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    mayor = official(desk, 1, email="mayor@city.example", language="zh-TW")
    start = utcnow().replace(microsecond=0) + timedelta(hours=20)

    def leg(city: str, begins: datetime) -> dict[str, object]:
        return {
            "city": {"en": city, "zh-TW": {"Osaka": "大阪", "Kyoto": "京都", "Kobe": "神戶"}[city]},
            "country": "JP",
            "timezone": "Asia/Tokyo",
            "start": begins.isoformat(),
            "end": (begins + timedelta(hours=4)).isoformat(),
        }

    legs = [leg("Osaka", start), leg("Kyoto", start + timedelta(hours=5))]
    legs.append(leg("Kobe", start + timedelta(hours=10)))
    body = {"title": {"en": "Kansai mission", "zh-TW": "關西參訪團"}}
    body["officials"] = [{"official_id": mayor}]  # type: ignore[assignment]
    trip = accepted(desk.api.post("/trips", json={**body, "legs": legs}))["id"]

    # Kyoto and Kobe are dropped: the trip keeps only Osaka, unchanged.
    accepted(desk.api.patch(f"/trips/{trip}", json={"legs": legs[:1]}))
    assert send_now(desk) == 2

    told = sorted(smtp.received, key=lambda m: str(m["Subject"]))
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in told]
    with force_locale("zh_TW"):
        cancelled = gettext("%(title)s (%(when)s) is cancelled, or you no longer attend it.")
    marker = cancelled.split("%(when)s")[-1].strip()
    for city, begins in (("京都", legs[1]["start"]), ("神戶", legs[2]["start"])):
        [text] = [b for b in bodies if f"關西參訪團: {city}" in b]
        local = datetime.fromisoformat(str(begins)).astimezone(TOKYO)
        assert f"{local:%H:%M}" in text and "(Asia/Tokyo)" in text
        assert marker in text
    assert not any("大阪" in b for b in bodies), "the kept, unchanged leg is not told"

    # A replay of the same change queues nothing again.
    assert send_now(desk) == 0


def test_a_cancelled_visit_tells_each_of_an_officials_items(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    mayor = official(desk, 1, email="mayor@city.example", language="en")
    visit, _ = booked_item(desk, [mayor], hours_ahead=10)
    later = utcnow().replace(microsecond=0) + timedelta(hours=14)
    harbour = accepted(desk.api.post("/venues", json=sample_venue(2, timezone="Asia/Tokyo")))
    second = sample_item(
        later.isoformat(),
        (later + timedelta(hours=1)).isoformat(),
        venue_id=harbour["id"],
        official_ids=[mayor],
    )
    second["titles"] = {"en": "Harbour tour"}
    accepted(desk.api.post(f"/visits/{visit}/itinerary", json=second))

    accepted(desk.api.post(f"/visits/{visit}/cancel", json={"reason": "typhoon"}))
    assert send_now(desk) == 2
    subjects = sorted(str(m["Subject"]) for m in smtp.received)
    assert any("Harbour tour" in s for s in subjects), subjects
    assert all(s.startswith("Cancelled for you: ") for s in subjects), subjects
