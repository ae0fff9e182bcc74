"""Feeds at wire speed: each API process answers an unchanged feed and its 304s from memory,
with no database query, and looks again at most every `feed_check_interval` seconds (on
SQLite, also as soon as anything was committed: `CommitStamp`), so that two API processes
(two caches) both follow a change of the calendar and a revoked link."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from calendar_support import Desk, parse, path_of
from conftest import ADMIN_TOKEN, InlineApi, bearer, wait_for
from sqlalchemy import create_engine, event, make_url, text
from twinning.api.app import create_app
from twinning.api.routes import feeds as feeds_api
from twinning.calendar.feeds import CommitStamp, NotifiedStamp


class OtherApi:
    """A second API process on the same database: its own app, cache and engine, and its
    feed cache's stamp started as its lifespan would (httpx's ASGI transport runs none)."""

    def __init__(self, api: InlineApi) -> None:
        self.app = create_app(api.settings, with_relay=False)
        self.portal = api.portal
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://other"
        )
        self.stamp = self.app.state.feed_cache.stamp
        if isinstance(self.stamp, CommitStamp | NotifiedStamp):
            self.portal.call(self.stamp.start)
            wait_for(lambda: self.stamp() is not None, what="the stamp to be read")
        self.queries = 0
        engine = self.app.state.sessions.kw["bind"].sync_engine
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.queries += 1

    def fetch(self, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.portal.call(lambda: self.client.get(path_of(url), **kwargs))
        return response

    def close(self) -> None:
        if isinstance(self.stamp, CommitStamp | NotifiedStamp):
            self.portal.call(self.stamp.stop)
        self.portal.call(self.client.aclose)
        self.portal.call(self.app.state.sessions.kw["bind"].dispose)


@pytest.fixture
def other(inline_api: InlineApi) -> Iterator[OtherApi]:
    second = OtherApi(inline_api)
    yield second
    second.close()


def test_an_unchanged_feed_and_its_304_are_answered_without_a_database_query(
    inline_api: InlineApi, other: OtherApi
) -> None:
    desk = Desk(inline_api)
    desk.visit_with_item(desk.mayor())
    url = desk.feed_link({"kind": "office"})["url"]
    first = other.fetch(url)
    etag = first.headers["etag"]
    other.app.state.feed_cache.check_interval = 3600.0  # nothing is looked at again meanwhile

    before = other.queries
    answers = [other.fetch(url) for _ in range(20)]
    answers += [other.fetch(url, headers={"If-None-Match": etag}) for _ in range(20)]

    assert first.status_code == 200 and other.queries == before
    assert [a.status_code for a in answers] == [200] * 20 + [304] * 20
    assert {a.headers["etag"] for a in answers} == {etag}
    assert {a.content for a in answers[:20]} == {first.content}


def test_two_api_processes_both_serve_a_change_and_forget_a_revoked_link(
    inline_api: InlineApi, other: OtherApi
) -> None:
    desk = Desk(inline_api)  # the first process looks at every request (see Desk)
    mayor = desk.mayor()
    visit, item = desk.visit_with_item(mayor)
    link = desk.feed_link({"kind": "official", "official_id": mayor}, language="en")
    url = link["url"]
    before = other.fetch(url)
    assert desk.fetch(url).headers["etag"] == before.headers["etag"]
    assert other.fetch(url, headers={"If-None-Match": before.headers["etag"]}).status_code == 304

    changed = inline_api.patch(
        f"/visits/{visit}/itinerary/{item}", json={"titles": {"en": "Courtesy call (moved)"}}
    )
    assert changed.status_code == 202, changed.text

    mine = desk.fetch(url, headers={"If-None-Match": before.headers["etag"]})
    theirs = wait_for(
        lambda: (
            answer
            if (
                answer := other.fetch(url, headers={"If-None-Match": before.headers["etag"]})
            ).status_code
            == 200
            else None
        ),
        timeout=10,
        what="the second API process to serve the changed feed",
    )
    assert mine.status_code == 200 and mine.headers["etag"] != before.headers["etag"]
    assert theirs.headers["etag"] == mine.headers["etag"]
    (entry,) = parse(theirs.content).events
    assert str(entry["SUMMARY"]) == "Courtesy call (moved)"

    assert inline_api.delete(f"/feed-links/{link['id']}").status_code == 204
    assert desk.fetch(url).status_code == 404
    wait_for(
        lambda: other.fetch(url).status_code == 404,
        timeout=10,
        what="the second API process to refuse the revoked link",
    )


def looks_from_memory(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each look of `AnswerFromMemory` in memory found the answer, in order."""
    looks: list[bool] = []
    original = feeds_api._from_memory

    def answered(scope: Any, token: str, lang: str | None) -> Any:
        answer = original(scope, token, lang)
        looks.append(answer is not None)
        return answer

    monkeypatch.setattr(feeds_api, "_from_memory", answered)
    return looks


def test_the_answers_from_memory_are_the_routes_own(
    inline_api: InlineApi, other: OtherApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`AnswerFromMemory` answers a checked link's current feed before routing: the same
    status, headers (the security ones too) and body as the route, for GET, HEAD, 304 and
    another language; a query it does not know goes on to the route (422 here), and a link
    revoked in this process answers 404 at once."""
    desk = Desk(inline_api)
    desk.visit_with_item(desk.mayor())
    link = desk.feed_link({"kind": "office"}, language="en")
    url = link["url"]
    built = other.fetch(url)  # the route: the link checked, the feed built
    ja_built = other.fetch(url.replace("lang=en", "lang=ja"))
    other.app.state.feed_cache.check_interval = 3600.0
    before = other.queries
    from_memory = looks_from_memory(monkeypatch)

    remembered = other.fetch(url)
    ja = other.fetch(url.replace("lang=en", "lang=ja"))
    head = other.portal.call(lambda: other.client.head(path_of(url)))
    etag, modified = built.headers["etag"], built.headers["last-modified"]
    by_etag = other.fetch(url, headers={"If-None-Match": f'"other", {etag}'})
    by_date = other.fetch(url, headers={"If-Modified-Since": modified})
    assert other.queries == before and from_memory == [True] * 5  # all of them from memory

    assert built.status_code == remembered.status_code == head.status_code == 200
    assert dict(remembered.headers) == dict(built.headers) == dict(head.headers)
    assert remembered.content == built.content and head.content == b""
    assert ja.content == ja_built.content and ja.headers["content-language"] == "ja"
    assert built.headers["x-content-type-options"] == "nosniff"
    assert built.headers["content-type"] == "text/calendar; charset=utf-8"
    assert by_etag.status_code == by_date.status_code == 304 and by_etag.content == b""
    assert by_etag.headers["etag"] == etag and by_etag.headers["x-frame-options"] == "DENY"

    too_long = other.fetch(url.replace("lang=en", "lang=" + "x" * 36))
    assert too_long.status_code == 422

    revoked = other.portal.call(
        lambda: other.client.delete(f"/feed-links/{link['id']}", headers=bearer(ADMIN_TOKEN))
    )
    assert revoked.status_code == 204
    assert other.fetch(url).status_code == 404
    assert other.fetch(url, headers={"If-None-Match": etag}).status_code == 404


def test_a_link_whose_check_is_due_is_checked_before_routing(
    inline_api: InlineApi, other: OtherApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed polled while it does not change never reaches the router: when its link's check
    is due, `AnswerFromMemory` makes it (one query, with the feed's version) and answers from
    memory; a change made meanwhile is seen by that check and served by the route."""
    desk = Desk(inline_api)
    visit, item = desk.visit_with_item(desk.mayor())
    link = desk.feed_link({"kind": "office"}, language="en")
    url = link["url"]
    built = other.fetch(url)
    cache = other.app.state.feed_cache
    cache.check_interval = 3600.0

    def due() -> None:
        """The link's check is due (as `feed_check_interval` after it was made)."""
        for digest, known in list(cache.links.items()):
            cache.links[digest] = replace(known, checked_at=known.checked_at - 7200)

    looks = looks_from_memory(monkeypatch)
    before = other.queries
    polled = []
    for _ in range(3):
        due()
        polled.append(other.fetch(url, headers={"If-None-Match": built.headers["etag"]}))
    assert [answer.status_code for answer in polled] == [304] * 3
    assert other.queries == before + 3  # one check each, nothing else
    assert looks == [False, True] * 3  # due, checked, then answered from memory

    moved = inline_api.patch(
        f"/visits/{visit}/itinerary/{item}", json={"titles": {"en": "Courtesy call (moved)"}}
    )
    assert moved.status_code == 202, moved.text
    due()
    changed = other.fetch(url, headers={"If-None-Match": built.headers["etag"]})
    assert changed.status_code == 200 and "Courtesy call (moved)" in changed.text
    assert looks[-2:] == [False, False]  # checked, the feed changed: the route built it


def test_a_change_shows_at_the_next_request_however_long_the_interval(
    inline_api: InlineApi, other: OtherApi
) -> None:
    """An API process trusts what it read only while nothing was committed since that could
    change it: on SQLite, SQLite's own change counter says so (`CommitStamp`); on PostgreSQL,
    the notification the projector sends with a feed's new version (`NotifiedStamp`). So a
    change applied elsewhere shows at once, even with an interval of an hour, and so does a
    link revoked through another process."""
    desk = Desk(inline_api)
    mayor = desk.mayor()
    visit, item = desk.visit_with_item(mayor)
    link = desk.feed_link({"kind": "official", "official_id": mayor}, language="en")
    url = link["url"]
    etag = other.fetch(url).headers["etag"]
    other.app.state.feed_cache.check_interval = 3600.0
    assert other.fetch(url, headers={"If-None-Match": etag}).status_code == 304

    moved = inline_api.patch(
        f"/visits/{visit}/itinerary/{item}", json={"titles": {"en": "Courtesy call (moved)"}}
    )
    assert moved.status_code == 202, moved.text  # applied before its answer (InlineApi)
    if inline_api.settings.sync_database_url.get_backend_name() == "sqlite":
        after = other.fetch(url, headers={"If-None-Match": etag})
    else:  # the notification reaches the other process on its own connection, a moment later
        after = wait_for(
            lambda: (
                (a := other.fetch(url, headers={"If-None-Match": etag})).status_code == 200 and a
            ),
            what="the notified process to serve the change",
        )
    assert after.status_code == 200 and "Courtesy call (moved)" in after.text

    assert inline_api.delete(f"/feed-links/{link['id']}").status_code == 204
    wait_for(
        lambda: other.fetch(url).status_code == 404,
        what="the other process to refuse the link revoked through the first",
    )


def test_without_its_listener_a_process_trusts_the_interval_and_looks_again_when_back(
    inline_api: InlineApi, other: OtherApi
) -> None:
    """A stamp that cannot be read (the listener's connection down, a file that cannot be
    opened) leaves the interval alone to decide: nothing is answered stale for longer than
    before, and the stamp moves when it is back, so the next request looks again."""
    desk = Desk(inline_api)
    mayor = desk.mayor()
    visit, item = desk.visit_with_item(mayor)
    url = desk.feed_link({"kind": "official", "official_id": mayor}, language="en")["url"]
    etag = other.fetch(url).headers["etag"]
    cache = other.app.state.feed_cache
    cache.check_interval = 3600.0
    stamp = cache.stamp
    cache.stamp = lambda: None  # down

    moved = inline_api.patch(
        f"/visits/{visit}/itinerary/{item}", json={"titles": {"en": "Courtesy call (moved)"}}
    )
    assert moved.status_code == 202, moved.text
    assert other.fetch(url, headers={"If-None-Match": etag}).status_code == 304  # the interval

    cache.stamp = stamp  # back: it has moved since the feed was read
    after = wait_for(
        lambda: (a := other.fetch(url, headers={"If-None-Match": etag})).status_code == 200 and a,
        what="the change served once the stamp is back",
    )
    assert "Courtesy call (moved)" in after.text


def test_the_commit_stamp_moves_with_each_commit_of_any_other_connection_and_only_then(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stamped.db"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x)")
    writer.commit()
    stamp = CommitStamp.of(make_url(f"sqlite:///{path}"))
    assert stamp is not None
    first = stamp()
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert stamp() == first  # a read is no change

    insert = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('INSERT INTO t VALUES (1)'); c.commit()"
    subprocess.run([sys.executable, "-c", insert, str(path)], check=True)  # another process
    second = stamp()
    writer.execute("INSERT INTO t VALUES (2)")
    assert stamp() == second  # not committed yet
    writer.commit()
    third = stamp()
    assert len({first, second, third}) == 3 and None not in (first, second, third)
    stamp.close()
    writer.close()

    assert CommitStamp.of(make_url("postgresql+psycopg://u@h/db")) is None
    assert CommitStamp.of(make_url("sqlite://")) is None  # in memory: one process only
    missing = CommitStamp.of(make_url(f"sqlite:///{tmp_path / 'no such file.db'}"))
    assert missing is not None and missing() is None  # cannot tell: the interval decides


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_listener_comes_back_after_the_server_cuts_its_connection(
    inline_api: InlineApi, other: OtherApi
) -> None:
    stamp = other.stamp
    assert isinstance(stamp, NotifiedStamp) and stamp.listening
    before = stamp()
    engine = create_engine(inline_api.settings.sync_database_url)
    with engine.connect() as connection:
        cut = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        ).all()
    engine.dispose()
    assert cut == [(True,)]
    wait_for(
        lambda: stamp() is not None and stamp() != before,
        what="the listener to be back, its stamp moved",
    )
