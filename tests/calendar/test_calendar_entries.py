"""Calendar entries as officials, the office and partners see them in their feeds, built from
events as any producer writes them (the worker's projection path, no Kafka): who sees what,
stable UIDs, SEQUENCE on significant changes, cancellations kept for 30 days, renames, and a
rebuild that gives the same feeds."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path

from calendar_support import (
    BANQUET,
    COURTESY_CALL,
    DEPUTY,
    FESTIVAL,
    HALL,
    MAYOR,
    NOW,
    SAPPORO,
    SCIENCE_PARK,
    TAIPEI,
    TEA,
    VISIT,
    Feeds,
    Producer,
    events_by_uid,
    uid,
)
from conftest import Projection
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.calendar.feeds import Audience
from twinning.calendar.models import CalendarAudience, CalendarEntry, CalendarReference
from twinning.db import make_async_engine
from twinning.streams.projection import rebuild
from twinning.streams.registry import PROJECTORS

OFFICE = Audience.office()
OF_MAYOR, OF_DEPUTY, OF_SAPPORO = (
    Audience.official(MAYOR),
    Audience.official(DEPUTY),
    Audience.partner(SAPPORO),
)
CALL, PARK = uid("itinerary", COURTESY_CALL), uid("itinerary", SCIENCE_PARK)


def office_with_a_visit(projection: Projection) -> Producer:
    producer = Producer(projection)
    producer.sample_office()
    return producer


def test_an_item_shows_in_the_feeds_of_its_officials_the_office_and_the_visiting_partner(
    projection: Projection,
) -> None:
    office_with_a_visit(projection)
    feeds = Feeds(projection)

    mayor, deputy = feeds.events(OF_MAYOR), feeds.events(OF_DEPUTY)
    office, sapporo = feeds.events(OFFICE), feeds.events(OF_SAPPORO)

    assert set(mayor) == {CALL, uid("itinerary", BANQUET), uid("itinerary", TEA)}
    assert set(deputy) == {CALL, PARK}
    assert set(mayor) | set(deputy) | {uid("city-event", FESTIVAL)} < set(office)
    assert {CALL, PARK, uid("city-event", FESTIVAL)} < set(sapporo)
    call = mayor[CALL]
    assert str(call["SUMMARY"]) == "Courtesy call on the mayor"
    assert str(call["LOCATION"]) == "City Hall Auditorium, 1 County Hall Road"
    assert str(call["DESCRIPTION"]).splitlines() == [
        "Delegation: Sapporo",
        "Officials: Mayor Lin and Deputy Mayor Wang",  # protocol order
        "Interpreter: Ms Chen",
        "Notes: Enter by the east gate; bring the guest book",
    ]
    assert str(call["STATUS"]) == "CONFIRMED"


def test_the_feeds_never_show_personal_data_and_the_partner_feed_leaves_out_internal_notes(
    projection: Projection,
) -> None:
    office_with_a_visit(projection)
    feeds = Feeds(projection)

    for audience in (OF_MAYOR, OF_DEPUTY, OFFICE, OF_SAPPORO):
        for language in ("zh-TW", "en", "ja"):
            text = feeds.text(audience, language)
            for personal in ("vegetarian", "Hanako", "sato@example.jp", "tea set"):
                assert personal not in text
    sapporo = feeds.events(OF_SAPPORO)[CALL]
    assert "Ms Chen" not in str(sapporo["DESCRIPTION"])
    assert "east gate" not in str(sapporo["DESCRIPTION"])
    assert "Officials: Mayor Lin and Deputy Mayor Wang" in str(sapporo["DESCRIPTION"])


def test_an_approved_visit_is_tentative_and_scheduling_confirms_it_with_a_new_sequence(
    projection: Projection,
) -> None:
    producer = Producer(projection)
    producer.register_basics()
    producer.request_visit(VISIT, "VisitApproved")
    producer.add_item(
        COURTESY_CALL,
        "2026-05-01T10:00:00+08:00",
        "2026-05-01T11:00:00+08:00",
        venue_id=HALL,
        official_ids=[MAYOR],
    )
    feeds = Feeds(projection)
    before = feeds.events(OF_MAYOR)[CALL]

    producer.visits("VisitScheduled", VISIT, reason=None)

    after = feeds.events(OF_MAYOR)[CALL]
    assert (str(before["STATUS"]), before["SEQUENCE"]) == ("TENTATIVE", 0)
    assert (str(after["STATUS"]), after["SEQUENCE"]) == ("CONFIRMED", 1)
    assert after["DTSTAMP"].dt == after["LAST-MODIFIED"].dt == producer.now
    assert after["CREATED"].dt == before["DTSTAMP"].dt


def test_sequence_grows_when_time_or_place_changes_but_not_when_only_the_title_does(
    projection: Projection,
) -> None:
    producer = office_with_a_visit(projection)
    feeds = Feeds(projection)
    sequences = [feeds.events(OF_MAYOR)[CALL]["SEQUENCE"]]

    producer.change_item(COURTESY_CALL, titles={"ja": "表敬訪問"})
    sequences.append(feeds.events(OF_MAYOR)[CALL]["SEQUENCE"])
    producer.change_item(
        COURTESY_CALL, starts_at="2026-05-01T10:30:00+08:00", ends_at="2026-05-01T11:30:00+08:00"
    )
    sequences.append(feeds.events(OF_MAYOR)[CALL]["SEQUENCE"])
    producer.change_item(
        COURTESY_CALL,
        venue_id=None,
        place={"names": {"en": "Guest House"}, "timezone": "Asia/Taipei"},
    )
    sequences.append(feeds.events(OF_MAYOR)[CALL]["SEQUENCE"])
    producer.remove_item(COURTESY_CALL)
    sequences.append(feeds.events(OF_MAYOR)[CALL]["SEQUENCE"])

    assert sequences == [1, 1, 2, 3, 4]
    call = feeds.events(OF_MAYOR, "ja")[CALL]
    assert str(call["SUMMARY"]) == "【中止】表敬訪問"
    assert str(call["LOCATION"]) == "Guest House"
    assert call["LAST-MODIFIED"].dt == producer.now


def test_an_entry_is_the_same_event_in_every_language_with_one_summary_each(
    projection: Projection,
) -> None:
    office_with_a_visit(projection)
    feeds = Feeds(projection)

    by_language = {lang: feeds.events(OFFICE, lang) for lang in ("zh-TW", "en", "ja", "ko", "es")}

    uids = {lang: set(events) for lang, events in by_language.items()}
    assert all(found == uids["en"] for found in uids.values())
    summaries = {lang: str(events[CALL]["SUMMARY"]) for lang, events in by_language.items()}
    assert summaries == {
        "zh-TW": "拜會市長",
        "en": "Courtesy call on the mayor",
        "ja": "市長表敬訪問",
        "ko": "Courtesy call on the mayor",  # no Korean title: English comes next
        "es": "Courtesy call on the mayor",
    }
    for events in by_language.values():
        for event in events.values():
            assert len(event.property_items(recursive=False)) == len(
                {name for name, _ in event.property_items(recursive=False)}
            ), "a property appears twice (several SUMMARY, say)"


def test_a_removed_item_is_shown_cancelled_for_30_days_then_leaves_the_feed(
    projection: Projection,
) -> None:
    producer = office_with_a_visit(projection)
    feeds = Feeds(projection)
    removed_at = producer.now + timedelta(minutes=1)
    producer.remove_item(BANQUET)
    banquet = uid("itinerary", BANQUET)

    kept = feeds.events(OF_MAYOR, now=removed_at + timedelta(days=29, hours=23))
    dropped = feeds.events(OF_MAYOR, now=removed_at + timedelta(days=30))

    assert str(kept[banquet]["STATUS"]) == "CANCELLED"
    assert str(kept[banquet]["SUMMARY"]) == (
        "Cancelled: Welcome banquet, with a show; citizens welcome \\ all"
    )
    assert banquet not in dropped
    assert CALL in dropped


def test_a_cancelled_visit_cancels_every_item_in_every_feed(projection: Projection) -> None:
    producer = office_with_a_visit(projection)
    feeds = Feeds(projection)

    producer.visits("VisitCancelled", VISIT, reason="typhoon")

    for audience in (OF_MAYOR, OF_DEPUTY, OFFICE, OF_SAPPORO):
        for entry_uid, event in feeds.events(audience).items():
            if entry_uid.startswith("itinerary-"):
                assert str(event["STATUS"]) == "CANCELLED", entry_uid
    assert "typhoon" not in feeds.text(OFFICE)  # staff's reasons are not for calendars


def test_an_official_no_longer_attending_sees_the_entry_cancelled_then_not_at_all(
    projection: Projection,
) -> None:
    producer = office_with_a_visit(projection)
    feeds = Feeds(projection)
    before = feeds.events(OF_DEPUTY)[CALL]

    producer.change_item(COURTESY_CALL, official_ids=[MAYOR])
    changed_at = producer.now

    deputy = feeds.events(OF_DEPUTY)[CALL]
    mayor = feeds.events(OF_MAYOR)[CALL]
    assert (str(deputy["STATUS"]), deputy["SEQUENCE"]) == ("CANCELLED", before["SEQUENCE"] + 1)
    assert (str(mayor["STATUS"]), mayor["SEQUENCE"]) == ("CONFIRMED", before["SEQUENCE"] + 1)
    assert CALL not in feeds.events(OF_DEPUTY, now=changed_at + timedelta(days=30))

    producer.change_item(COURTESY_CALL, official_ids=[MAYOR, DEPUTY])
    assert str(feeds.events(OF_DEPUTY)[CALL]["STATUS"]) == "CONFIRMED"


def test_renaming_an_official_renames_their_feed_and_every_entry_that_names_them(
    projection: Projection,
) -> None:
    producer = office_with_a_visit(projection)
    feeds = Feeds(projection)
    feeds.text(OF_MAYOR)

    producer.visits("OfficialUpdated", MAYOR, names={"en": "Mayor Chang"})

    text = feeds.text(OF_MAYOR)
    assert "X-WR-CALNAME:Mayor Chang's calendar" in text
    assert "Mayor Lin" not in text
    assert "Officials: Mayor Chang and Deputy Mayor Wang" in str(
        feeds.events(OF_DEPUTY)[CALL]["DESCRIPTION"]
    )
    assert feeds.events(OF_DEPUTY)[CALL]["SEQUENCE"] == 1  # a new name is no new time or place


def test_a_venue_in_another_zone_moves_the_local_times_but_not_the_instant(
    projection: Projection,
) -> None:
    producer = office_with_a_visit(projection)
    feeds = Feeds(projection)

    producer.visits("VenueUpdated", HALL, timezone="Asia/Tokyo")

    call = feeds.events(OF_MAYOR)[CALL]
    assert call.start.isoformat() == "2026-05-01T11:00:00+09:00"
    assert str(call["DTSTART"].params["TZID"]) == "Asia/Tokyo"
    assert "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\n" in feeds.text(OF_MAYOR)


def test_partner_agreements_have_an_all_day_entry_every_five_years_for_ten_years(
    projection: Projection,
) -> None:
    producer = Producer(projection)
    producer.register_basics()  # Sapporo, agreement of 2011-04-20
    producer.partners(
        "PartnerCityRegistered",
        "busan",
        names={"ko": "부산", "en": "Busan"},
        country="KR",
        kind="friendly",
        timezone="Asia/Seoul",
        agreement_date="2004-02-29",
    )
    feeds = Feeds(projection)

    office = feeds.events(OFFICE, "ko")

    anniversaries = {u: e for u, e in office.items() if u.startswith("anniversary-")}
    assert {u: e.start for u, e in anniversaries.items()} == {
        uid("anniversary", "sapporo-15"): date(2026, 4, 20),
        uid("anniversary", "sapporo-20"): date(2031, 4, 20),
        uid("anniversary", "busan-25"): date(2029, 2, 28),  # no 29 February in 2029
        uid("anniversary", "busan-30"): date(2034, 2, 28),
    }
    assert str(anniversaries[uid("anniversary", "busan-25")]["SUMMARY"]) == "부산 협정 체결 25주년"
    assert set(feeds.events(Audience.partner("busan"))) == {
        uid("anniversary", "busan-25"),
        uid("anniversary", "busan-30"),
    }


def test_anniversaries_move_with_the_agreement_date_and_are_cancelled_when_it_ends(
    projection: Projection,
) -> None:
    producer = Producer(projection)
    producer.register_basics()
    feeds = Feeds(projection)
    fifteen = uid("anniversary", "sapporo-15")

    producer.partners("PartnerCityUpdated", SAPPORO, agreement_date="2011-06-01")
    moved = feeds.events(OF_SAPPORO)[fifteen]
    producer.partners("PartnerCityUpdated", SAPPORO, status="ended")
    ended = feeds.events(OF_SAPPORO)[fifteen]

    assert (moved.start, moved["SEQUENCE"]) == (date(2026, 6, 1), 1)
    assert (str(ended["STATUS"]), ended["SEQUENCE"]) == ("CANCELLED", 2)


def test_a_city_event_reaches_the_partners_invited_and_leaves_when_the_invitation_is_withdrawn(
    projection: Projection,
) -> None:
    producer = office_with_a_visit(projection)
    feeds = Feeds(projection)
    festival = uid("city-event", FESTIVAL)
    invited = feeds.events(OF_SAPPORO)[festival]

    producer.invitations("InvitationWithdrawn", FESTIVAL, invitation_id="invitation-sapporo")
    withdrawn = feeds.events(OF_SAPPORO)[festival]
    producer.invitations("CityEventCancelled", FESTIVAL, reason="budget")
    office = feeds.events(OFFICE)[festival]

    assert str(invited["LOCATION"]) == "Arts Plaza"
    assert str(invited["DESCRIPTION"]).splitlines() == [
        "Music and food from our partner cities.",
        "Video link: https://video.example/festival",
    ]
    assert str(withdrawn["STATUS"]) == "CANCELLED"
    assert str(office["STATUS"]) == "CANCELLED"
    assert festival not in feeds.events(OF_MAYOR)


def test_a_rebuild_from_the_archive_gives_the_same_entries_and_the_same_feeds(
    projection: Projection,
) -> None:
    producer = office_with_a_visit(projection)
    producer.change_item(COURTESY_CALL, official_ids=[MAYOR])
    producer.visits("OfficialUpdated", DEPUTY, names={"ja": "王副市長"})
    before = _calendar_tables(projection)
    feeds_before = {
        (a.key, lang): Feeds(projection).text(a, lang)
        for a in (OF_MAYOR, OF_DEPUTY, OFFICE, OF_SAPPORO)
        for lang in ("zh-TW", "en")
    }

    async def run() -> int:
        engine = make_async_engine(projection.settings.async_database_url)
        try:
            return await rebuild(async_sessionmaker(engine, expire_on_commit=False), PROJECTORS)
        finally:
            await engine.dispose()

    asyncio.run(run())

    assert _calendar_tables(projection) == before
    for (key, lang), text in feeds_before.items():
        assert Feeds(projection).text(Audience(key), lang) == text


def _calendar_tables(projection: Projection) -> dict[str, list[tuple[object, ...]]]:
    def entry(e: CalendarEntry) -> tuple[object, ...]:
        return (
            e.uid,
            e.kind,
            e.source_id,
            e.starts_at,
            e.ends_at,
            e.timezone,
            e.status,
            e.cancelled_at,
            e.sequence,
            e.revision,
            e.created_at,
            e.changed_at,
            e.facts,
        )

    return {
        "entries": sorted(map(entry, projection.rows(CalendarEntry))),
        "audiences": sorted(
            (a.entry_uid, a.audience, a.removed_at) for a in projection.rows(CalendarAudience)
        ),
        "references": sorted((r.entry_uid, r.ref) for r in projection.rows(CalendarReference)),
    }


def test_feeds_keep_a_year_of_the_past_and_ten_years_ahead(projection: Projection) -> None:
    office_with_a_visit(projection)
    feeds = Feeds(projection)

    # The call ends on 2026-05-01 at 03:00 UTC, "now" is 2026-04-15.
    assert CALL in feeds.events(OF_MAYOR, now=NOW + timedelta(days=365 + 16))
    assert CALL not in feeds.events(OF_MAYOR, now=NOW + timedelta(days=365 + 17))
    in_five_years = feeds.events(OF_SAPPORO, now=NOW + timedelta(days=365 * 5))
    assert uid("anniversary", "sapporo-25") in in_five_years  # 2036, within ten years then
    assert uid("anniversary", "sapporo-25") not in feeds.events(OF_SAPPORO)


def test_the_same_events_applied_in_batches_give_the_same_feeds_byte_for_byte(
    projection: Projection,
) -> None:
    producer = Producer(projection)
    events: list[tuple[bytes, str]] = []
    producer.held = events
    producer.sample_office()
    producer.change_item(SCIENCE_PARK, titles={"en": "Science park visit"})
    producer.change_item(SCIENCE_PARK, titles={"en": "Science park tour"})  # twice in one batch

    for topic in ("twinning.partners", "twinning.visits", "twinning.invitations"):
        batch = [body for body, on in events if on == topic]
        assert set(projection.apply_batch(*batch, topic=topic)) == {"applied"}

    feeds = Feeds(projection)
    golden = Path(__file__).parent / "data"
    assert (
        feeds.text(OF_MAYOR, "zh-TW").encode() == (golden / "official-mayor.zh-TW.ics").read_bytes()
    )
    park = feeds.events(OFFICE)[PARK]
    assert (str(park["SUMMARY"]), park["SEQUENCE"]) == ("Science park tour", 1)


def test_hostile_text_from_a_producer_stays_text_in_every_feed(projection: Projection) -> None:
    producer = Producer(projection)
    producer.register_basics()
    producer.request_visit(VISIT, "VisitApproved")
    hostile = "Tea\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil;x=1,y\\z\nSUMMARY:owned"
    producer.add_item(
        TEA,
        "2026-05-02T09:00:00+08:00",
        "2026-05-02T10:00:00+08:00",
        place={"names": {"en": hostile}, "timezone": "Asia/Taipei"},
        official_ids=[MAYOR],
        titles={"en": hostile, "zh-TW": hostile},
        notes_shared=hostile,
        interpreter=hostile,
    )

    for language in ("en", "zh-TW"):
        events = Feeds(projection).events(OF_MAYOR, language)
        assert list(events) == [uid("itinerary", TEA)]
        (event,) = events.values()
        expected = hostile.replace("\r\n", "\n")
        assert str(event["SUMMARY"]) == expected
        assert str(event["LOCATION"]) == expected
        assert str(event["DESCRIPTION"]).endswith(expected)


def test_a_feed_is_served_from_cache_and_only_changed_entries_are_rendered_again(
    projection: Projection,
) -> None:
    producer = office_with_a_visit(projection)
    feeds = Feeds(projection)
    first = feeds.build(OFFICE)
    rendered = set(feeds.cache.events)

    again = feeds.build(OFFICE)
    producer.change_item(SCIENCE_PARK, titles={"en": "Science park visit"})
    changed = feeds.build(OFFICE)

    assert again is first  # nothing changed: the same bytes, not even reassembled
    assert changed is not None and first is not None and changed.etag != first.etag
    new = set(feeds.cache.events) - rendered
    assert [key[0] for key in new] == [PARK]
    assert b"Science park visit" in changed.body


def test_an_itinerary_across_three_zones_shows_each_items_local_time_with_its_vtimezone(
    projection: Projection,
) -> None:
    producer = Producer(projection)
    producer.register_basics()
    producer.request_visit(VISIT, "VisitApproved")
    places = {
        "item-taipei": ("Asia/Taipei", "2026-05-01T09:00:00+08:00", "2026-05-01T10:00:00+08:00"),
        "item-tokyo": ("Asia/Tokyo", "2026-05-03T09:00:00+09:00", "2026-05-03T10:00:00+09:00"),
        "item-la": (
            "America/Los_Angeles",
            "2026-05-05T09:00:00-07:00",
            "2026-05-05T10:00:00-07:00",
        ),
    }
    for item_id, (zone, starts_at, ends_at) in places.items():
        producer.add_item(
            item_id,
            starts_at,
            ends_at,
            place={"names": {"en": zone}, "timezone": zone},
            official_ids=[MAYOR],
        )

    text = Feeds(projection).text(OF_MAYOR)

    events = events_by_uid(text)
    for item_id, (zone, starts_at, ends_at) in places.items():
        event = events[uid("itinerary", item_id)]
        assert str(event["DTSTART"].params["TZID"]) == zone
        assert (event.start.isoformat(), event.end.isoformat()) == (starts_at, ends_at)
        assert f"DTSTART;TZID={zone}:{starts_at[:19].replace('-', '').replace(':', '')}" in text
        assert f"BEGIN:VTIMEZONE\r\nTZID:{zone}\r\n" in text
    assert text.count("BEGIN:VTIMEZONE") == 3


def test_items_that_name_a_venue_and_officials_not_registered_yet_follow_them_when_they_are(
    projection: Projection,
) -> None:
    """A producer (or partitions read in another order) may bring items before the venue and
    the officials they name: the entries then show UTC and no officials, and take the venue's
    zone, place and the officials' names when those are registered, later in the same batch."""
    producer = Producer(projection)
    events: list[tuple[bytes, str]] = []
    producer.held = events
    producer.sample_office()
    registries = [
        (body, topic)
        for body, topic in events
        if json.loads(body)["type"] in {"OfficialRegistered", "VenueRegistered"}
    ]
    rest = [event for event in events if event not in registries]
    last_item = max(
        i for i, (body, _) in enumerate(rest) if json.loads(body)["type"] == "ItineraryItemAdded"
    )
    reordered = [*rest[: last_item + 1], *registries, *rest[last_item + 1 :]]

    for topic in ("twinning.partners", "twinning.visits", "twinning.invitations"):
        batch = [body for body, on in reordered if on == topic]
        assert set(projection.apply_batch(*batch, topic=topic)) == {"applied"}

    feeds = Feeds(projection)
    call = feeds.events(OF_MAYOR)[CALL]
    assert call.start.isoformat() == "2026-05-01T10:00:00+08:00"
    assert str(call["DTSTART"].params["TZID"]) == TAIPEI
    assert "City Hall Auditorium" in str(call["LOCATION"])
    assert "Officials: Mayor Lin and Deputy Mayor Wang" in str(call["DESCRIPTION"])
    assert set(feeds.events(OF_DEPUTY)) >= {CALL, PARK}
