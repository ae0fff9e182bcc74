"""The feeds over HTTP: secret links that staff create, list, rotate and revoke; feeds in the
language asked for; conditional requests answered 304; the public partner feed."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

from calendar_support import NOW, Desk, events_by_uid, parse
from conftest import InlineApi
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from twinning.api.routes.feeds import HideFeedSecrets
from twinning.calendar.models import FeedLink
from twinning.db import make_async_engine
from twinning.streams.projection import rebuild
from twinning.streams.registry import PROJECTORS


def test_staff_create_a_link_to_an_officials_feed_in_https_and_webcal_forms(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    mayor = desk.mayor()
    desk.visit_with_item(mayor)

    response = inline_api.post(
        "/feed-links",
        json={
            "audience": {"kind": "official", "official_id": mayor},
            "language": "ja",
            "label": "iPhone",
        },
    )

    assert response.status_code == 201, response.text
    link = response.json()
    assert response.headers["location"] == f"/feed-links/{link['id']}"
    base = inline_api.settings.base_url()
    assert link["url"].startswith(f"{base}/feeds/") and link["url"].endswith(".ics?lang=ja")
    assert link["webcal"] == "webcal://" + link["url"].split("://", 1)[1]
    assert (link["audience"], link["language"], link["label"]) == (
        f"official:{mayor}",
        "ja",
        "iPhone",
    )
    secret = link["url"].split("/feeds/", 1)[1].removesuffix(".ics?lang=ja")
    assert len(secret) >= 43 and link["token_prefix"] == secret[:6]
    feed = desk.fetch(link["url"])
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert feed.headers["content-language"] == "ja"
    assert parse(feed.content)["X-WR-CALNAME"] == "林市長のカレンダー"
    (event,) = parse(feed.content).events
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == ("表敬訪問", "迎賓館")


def test_the_lang_parameter_switches_the_language_of_the_same_feed(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    mayor = desk.mayor()
    desk.visit_with_item(mayor)
    url = desk.feed_link({"kind": "official", "official_id": mayor})["url"]
    bare = url.split("?", 1)[0]

    names = {
        lang: parse(desk.fetch(bare, params={"lang": lang}).content)["X-WR-CALNAME"]
        for lang in ("zh-TW", "en", "ja", "ko", "es")
    }
    default = parse(desk.fetch(bare).content)["X-WR-CALNAME"]
    unsupported = desk.fetch(bare, params={"lang": "fr"})

    assert names["zh-TW"] == default == "林市長的行事曆"  # the link's language: zh-TW by default
    assert names["en"] == "Mayor Lin's calendar"
    assert len(set(names.values())) == 5
    assert unsupported.headers["content-language"] == "zh-TW"
    uids = {
        lang: set(events_by_uid(desk.fetch(bare, params={"lang": lang}).content))
        for lang in ("zh-TW", "en")
    }
    assert uids["zh-TW"] == uids["en"]


def test_the_office_feed_shows_everything_and_links_are_listed_without_their_secrets(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    mayor = desk.mayor()
    desk.visit_with_item(mayor, desk.partner())
    office = desk.feed_link({"kind": "office"}, language="en")
    desk.now += timedelta(minutes=1)
    desk.feed_link({"kind": "official", "official_id": mayor})

    everything = inline_api.get("/feed-links").json()
    only_office = inline_api.get("/feed-links", params={"office": True}).json()
    only_mayor = inline_api.get("/feed-links", params={"official_id": mayor}).json()
    one = inline_api.get(f"/feed-links/{office['id']}").json()

    assert [link["audience"] for link in everything] == ["office", f"official:{mayor}"]
    assert [link["id"] for link in only_office] == [office["id"]] == [one["id"]]
    assert [link["audience"] for link in only_mayor] == [f"official:{mayor}"]
    for listed in [*everything, one]:
        assert "url" not in listed and "webcal" not in listed
    feed = parse(desk.fetch(office["url"]).content)
    assert feed["X-WR-CALNAME"] == "International affairs office"
    summaries = sorted(str(event["SUMMARY"]) for event in feed.events)
    assert "Courtesy call" in summaries
    assert "Agreement anniversary: 15 years with Sapporo" in summaries


def test_only_a_hash_of_the_secret_is_stored(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    link = desk.feed_link({"kind": "office"})
    secret = link["url"].split("/feeds/", 1)[1].split(".ics", 1)[0]

    with Session(inline_api.engine) as session:
        stored = session.scalars(select(FeedLink)).one()
    assert secret not in {stored.token_hash, stored.id, stored.label}
    assert len(stored.token_hash) == 64


def test_a_revoked_link_answers_404_like_a_link_that_never_existed(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    link = desk.feed_link({"kind": "office"})
    assert desk.fetch(link["url"]).status_code == 200

    revoked = inline_api.delete(f"/feed-links/{link['id']}")

    assert revoked.status_code == 204
    assert desk.fetch(link["url"]).status_code == 404
    assert desk.fetch("/feeds/" + "x" * 43 + ".ics").status_code == 404
    assert inline_api.get("/feed-links").json() == []
    (listed,) = inline_api.get("/feed-links", params={"include_revoked": True}).json()
    assert listed["revoked_at"] is not None and listed["revoked_by"] == "user:admin"
    assert inline_api.post(f"/feed-links/{link['id']}/rotate").status_code == 409
    assert inline_api.delete("/feed-links/unknown").status_code == 404


def test_rotating_a_link_gives_it_a_new_secret_and_the_old_url_answers_404(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    link = desk.feed_link({"kind": "office"}, language="ko")

    rotated = inline_api.post(f"/feed-links/{link['id']}/rotate")

    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["id"] == link["id"] and new["language"] == "ko"
    assert new["url"] != link["url"] and new["rotated_at"] is not None
    assert desk.fetch(link["url"]).status_code == 404
    assert desk.fetch(new["url"]).status_code == 200


def test_links_to_unknown_officials_or_in_unsupported_languages_are_refused(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)

    unknown = inline_api.post(
        "/feed-links", json={"audience": {"kind": "official", "official_id": "nobody"}}
    )
    no_id = inline_api.post("/feed-links", json={"audience": {"kind": "official"}})
    french = inline_api.post("/feed-links", json={"audience": {"kind": "office"}, "language": "fr"})
    partner = inline_api.post("/feed-links", json={"audience": {"kind": "partner"}})

    assert unknown.status_code == 404
    assert [(r.status_code, r.json()["errors"][0]["loc"]) for r in (no_id, french, partner)] == [
        (422, ["body", "audience"]),
        (422, ["body", "language"]),
        (422, ["body", "audience", "kind"]),
    ]
    assert desk.feed_link({"kind": "office"}, language="zh_tw")["language"] == "zh-TW"


def test_an_unchanged_feed_answers_304_to_its_etag_or_its_date(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    mayor = desk.mayor()
    desk.visit_with_item(mayor)
    url = desk.feed_link({"kind": "official", "official_id": mayor})["url"]
    first = desk.fetch(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]

    by_etag = desk.fetch(url, headers={"If-None-Match": etag})
    by_weak_etag = desk.fetch(url, headers={"If-None-Match": f'"other", W/{etag}'})
    by_date = desk.fetch(url, headers={"If-Modified-Since": last_modified})
    stale_etag = desk.fetch(
        url, headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    )
    earlier = format_datetime(
        parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True
    )
    older_copy = desk.fetch(url, headers={"If-Modified-Since": earlier})

    assert first.status_code == 200 and etag.startswith('"')
    assert first.headers["cache-control"] == "private, max-age=300"
    for answer in (by_etag, by_weak_etag, by_date):
        assert answer.status_code == 304 and answer.content == b""
        assert answer.headers["etag"] == etag
    assert stale_etag.status_code == 200  # If-None-Match decides when both are sent
    assert older_copy.status_code == 200


def test_a_change_gives_a_new_etag_and_a_later_last_modified(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    mayor = desk.mayor()
    visit, item = desk.visit_with_item(mayor)
    url = desk.feed_link({"kind": "official", "official_id": mayor}, language="en")["url"]
    before = desk.fetch(url)

    changed = inline_api.patch(
        f"/visits/{visit}/itinerary/{item}", json={"titles": {"en": "Courtesy call (moved)"}}
    )
    after = desk.fetch(url, headers={"If-None-Match": before.headers["etag"]})

    assert changed.status_code == 202, changed.text
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert parsedate_to_datetime(after.headers["last-modified"]) >= parsedate_to_datetime(
        before.headers["last-modified"]
    )
    (event,) = parse(after.content).events
    assert str(event["SUMMARY"]) == "Courtesy call (moved)"


def test_the_feed_changes_when_a_cancellation_expires_even_without_new_events(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api, now=NOW)
    mayor = desk.mayor()
    visit, item = desk.visit_with_item(mayor)
    url = desk.feed_link({"kind": "official", "official_id": mayor})["url"]
    assert inline_api.delete(f"/visits/{visit}/itinerary/{item}").status_code == 202
    cancelled = desk.fetch(url)

    desk.now = NOW + timedelta(days=400)
    later = desk.fetch(url, headers={"If-None-Match": cancelled.headers["etag"]})

    assert [str(e["STATUS"]) for e in parse(cancelled.content).events] == ["CANCELLED"]
    assert later.status_code == 200 and parse(later.content).events == []


def test_head_answers_the_headers_of_the_feed(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    url = desk.feed_link({"kind": "office"})["url"]

    head, get = desk.fetch(url, "HEAD"), desk.fetch(url)

    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]


def test_a_partner_city_has_a_public_feed_in_its_own_language(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    partner = desk.partner()
    desk.visit_with_item(desk.mayor(), partner)

    feed = desk.fetch(f"/partners/{partner}/calendar.ics")
    english = desk.fetch(f"/partners/{partner}/calendar.ics", params={"lang": "en"})

    assert feed.status_code == 200
    assert feed.headers["cache-control"] == "public, max-age=300"
    assert feed.headers["content-language"] == "ja"  # Sapporo's first language
    assert parse(feed.content)["X-WR-CALNAME"] == "札幌市との交流・訪問"
    assert parse(english.content)["X-WR-CALNAME"] == "Sapporo — exchanges and visits"
    assert "Courtesy call" in {str(e["SUMMARY"]) for e in parse(english.content).events}
    assert desk.fetch("/partners/unknown/calendar.ics").status_code == 404


def test_feed_secrets_are_hidden_in_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/feeds/s3cr3t-T0ken_x.ics?lang=ja", "1.1", 200),
        None,
    )

    HideFeedSecrets().filter(record)

    assert "s3cr3t" not in record.getMessage()
    assert "/feeds/<secret>.ics" in record.getMessage()


def test_only_staff_manage_feed_links_while_the_feeds_need_no_api_token(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    link = desk.feed_link({"kind": "office"})
    viewer = inline_api.post("/users", json={"name": "reader", "role": "viewer"}).json()
    token = inline_api.post(f"/users/{viewer['id']}/tokens", json={}).json()["token"]

    as_viewer = {"Authorization": f"Bearer {token}"}
    refused = [
        desk.fetch("/feed-links", headers=as_viewer),
        desk.fetch(f"/feed-links/{link['id']}", headers=as_viewer),
        desk.fetch("/feed-links", "POST", json={"audience": {"kind": "office"}}, headers=as_viewer),
        desk.fetch(f"/feed-links/{link['id']}/rotate", "POST", headers=as_viewer),
        desk.fetch(f"/feed-links/{link['id']}", "DELETE", headers=as_viewer),
    ]
    anonymous = desk.fetch("/feed-links")

    assert [r.status_code for r in refused] == [403] * 5
    assert anonymous.status_code == 401
    assert desk.fetch(link["url"]).status_code == 200


def test_a_rebuild_keeps_the_feed_links_and_the_feeds_they_serve(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    mayor = desk.mayor()
    desk.visit_with_item(mayor)
    link = desk.feed_link({"kind": "official", "official_id": mayor})
    before = desk.fetch(link["url"])

    async def run() -> int:
        engine = make_async_engine(inline_api.settings.async_database_url)
        try:
            return await rebuild(async_sessionmaker(engine, expire_on_commit=False), PROJECTORS)
        finally:
            await engine.dispose()

    asyncio.run(run())
    after = desk.fetch(link["url"])

    assert after.status_code == 200
    assert after.content == before.content
    assert after.headers["etag"] == before.headers["etag"]
