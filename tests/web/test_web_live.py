"""Live updates: two people on one visit's page; one approves it, the other's page shows it
within moments without a reload (announced politely), on one app and across two app
processes on one database; the stream needs a signed-in user and carries ids and event types
only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import uvicorn
from conftest import InlineApi, accepted, in_two_languages, sample_visit, wait_for
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import func, insert, select
from twinning.api.app import create_app
from twinning.streams.broker import free_port
from twinning.streams.events import EVENT_TYPES
from twinning.streams.store import ArchivedEvent
from twinning.web.live import KIND_OF_TYPE, LiveHub, hub_of, parse_watch
from web_support import ADMIN, PASSWORD, STAFF, Office, accessibility_violations, office, shot, text

__all__ = ["office"]  # a fixture

UPDATED = "This page has been updated with the latest changes."
#: What live.js says, politely (aria-live), in a bar of its own.
NOTE = "#live-bar [aria-live=polite]"


def api(office: Office, method: str, url: str, **kwargs: Any) -> Any:
    """A command through the API, accepted; the office's worker applies it (as another
    process's change would be)."""
    request = partial(office.api.client.request, method, url, **kwargs)
    return accepted(office.api.portal.call(request))


def read(office: Office, url: str) -> httpx.Response:
    """An API read, applying nothing itself."""
    return office.api.portal.call(office.api.client.get, url)


def new_visit(office: Office) -> str:
    visit_id: str = api(office, "POST", "/visits", json=sample_visit())["id"]
    wait_for(lambda: read(office, f"/visits/{visit_id}").status_code == 200, what="the visit")
    return visit_id


def open_visit(
    context: BrowserContext, visit_id: str, office: Office, name: str | None = STAFF
) -> Page:
    """The visit's page, watched; signed in as `name` (None: the context is signed in)."""
    context.set_default_timeout(20_000)
    page = context.new_page()
    if name is not None:
        office.sign_in(page, name)
    page.goto(f"/ui/visits/{visit_id}")
    # Watching: from now on, every change applied to the visit reaches this page.
    expect(page.locator("body")).to_have_attribute("data-live-state", "ready")
    page.evaluate("window.liveMarker = 'no reload'")
    return page


def approve(page: Page, locale: str) -> None:
    page.locator("#reason").fill("the mayor can receive them")
    page.get_by_role("button", name=text("Approve", locale)).click()


@in_two_languages
def test_a_change_made_by_one_shows_on_the_others_page_without_a_reload(
    office: Office, browser: Browser, locale: str
) -> None:
    visit_id = new_visit(office)
    mine = open_visit(office_context(office, browser, locale), visit_id, office, STAFF)
    theirs = open_visit(office_context(office, browser, locale), visit_id, office, ADMIN)
    heading = theirs.locator("h1")
    expect(heading).to_contain_text(text("requested", locale))

    approve(mine, locale)

    expect(heading).to_contain_text(text("approved", locale))
    expect(theirs.locator("#history ~ ol")).to_contain_text("the mayor can receive them")
    assert theirs.evaluate("window.liveMarker") == "no reload"
    expect(theirs.locator(NOTE)).to_have_text(text(UPDATED, locale))
    assert read(office, f"/visits/{visit_id}").json()["status"] == "approved"
    shot(theirs, f"live-{locale}")
    if locale == "en":
        assert accessibility_violations(theirs) == []
    theirs.set_viewport_size({"width": 390, "height": 844})
    expect(theirs.locator(NOTE)).to_have_text(text(UPDATED, locale))
    shot(theirs, f"live-{locale}-390")


def office_context(office: Office, browser: Browser, locale: str) -> BrowserContext:
    """A browser context on the app, closed with the office."""
    context = browser.new_context(locale=locale, base_url=office.base)
    office.contexts.append(context)
    return context


@dataclass
class AnotherApp:
    base: str
    app: FastAPI
    contexts: list[BrowserContext] = field(default_factory=list)


@contextmanager
def another_app(office: Office) -> Iterator[AnotherApp]:
    """A second API process on the same database: its own app, engine and live hub. Its
    browser contexts close first: an open stream would hold up its shutdown (a real server
    ends them on SIGTERM; a server in a thread gets no signal)."""
    app = create_app(office.api.settings, with_relay=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=20, what="the second app to start")
    another = AnotherApp(f"http://127.0.0.1:{port}", app)
    try:
        yield another
    finally:
        for context in another.contexts:
            context.close()
        server.should_exit = True
        thread.join(20)
    assert not thread.is_alive(), "the second app did not stop"


def test_a_change_made_through_one_app_reaches_a_page_on_another_and_waits_for_the_typist(
    office: Office, browser: Browser
) -> None:
    visit_id = new_visit(office)
    with another_app(office) as second:
        mine_context = office_context(office, browser, "en")
        mine = open_visit(mine_context, visit_id, office)
        # The same person in another window, on the other app (one sign-in for both).
        context = browser.new_context(
            locale="en", base_url=second.base, storage_state=mine_context.storage_state()
        )
        second.contexts.append(context)
        theirs = open_visit(context, visit_id, office, name=None)
        theirs.locator("#reason").fill("half typed")  # and the field keeps the focus

        approve(mine, "en")

        show = theirs.get_by_role("button", name="Show the changes")
        expect(show).to_be_visible()
        expect(theirs.locator(NOTE)).to_have_text("What this page shows has just changed.")
        expect(theirs.locator("#reason")).to_have_value("half typed")
        expect(theirs.locator("h1")).to_contain_text("requested")
        shot(theirs, "live-changed-en")
        show.click()
        expect(theirs.locator("h1")).to_contain_text("approved")
        assert theirs.evaluate("window.liveMarker") == "no reload"
        expect(show).to_be_hidden()
        expect(theirs.locator("#main")).to_be_focused()  # not lost with the button

        # The stream ends when the page goes: nobody watches on the second app any more.
        context.close()
        wait_for(lambda: hub_of(second.app).subscribers == 0, what="the stream to end")


@contextmanager
def signed_in(office: Office, name: str = STAFF) -> Iterator[httpx.Client]:
    with office.client() as client:
        response = client.post("/ui/signin", data={"name": name, "password": PASSWORD})
        assert response.status_code == 303
        yield client


def events(response: httpx.Response) -> Iterator[dict[str, str]]:
    """The server-sent events of a stream, each as its fields (`event`, `data`, `id`)."""
    event: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")


def test_the_stream_needs_a_signed_in_user_and_a_key(office: Office) -> None:
    with office.client() as anonymous:
        response = anonymous.get("/ui/live", params={"watch": "visit:abc"})
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/signin")
    with signed_in(office) as client:
        assert client.get("/ui/live", params={"watch": "nothing:abc"}).status_code == 422
        assert client.get("/ui/live", params={"watch": ""}).status_code == 422
        # A browser reconnecting says where it was: what it missed since comes first.
        watch = {"watch": f"partner:{office.partners['Perth']}"}
        with client.stream("GET", "/ui/live", params=watch, headers={"Last-Event-ID": "0"}) as got:
            stream = events(got)
            assert next(stream)["event"] == "ready"
            missed = next(stream)
        assert json.loads(missed["data"])["type"] == "PartnerCityRegistered"
        assert "id" not in missed  # the place stays the one `ready` gave


def test_the_stream_tells_ids_and_event_types_only(office: Office) -> None:
    visit_id = new_visit(office)
    partner_id = office.partners["Sapporo"]
    contact = {"name": "Hanako Yamada", "partner_id": partner_id, "email": "hanako@example.org"}
    contact_id = api(office, "POST", "/contacts", json=contact)["id"]
    # Applied before the page watches: else its registration is the first change it is told.
    wait_for(lambda: read(office, f"/contacts/{contact_id}").status_code == 200, what="the contact")
    watch = f"visit:{visit_id} contact:{contact_id}"
    with (
        signed_in(office, "lin.viewer") as client,
        client.stream("GET", "/ui/live", params={"watch": watch}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        ready = next(stream)
        assert ready["event"] == "ready" and set(json.loads(ready["data"])) == {
            "updated",
            "changed",
            "show",
        }
        reason = {"reason": "Hanako Yamada agrees"}
        api(office, "POST", f"/visits/{visit_id}/approve", json=reason)
        api(office, "PATCH", f"/contacts/{contact_id}", json={"phone": "+81 11 222 3333"})
        seen = [next(stream), next(stream)]
    assert [json.loads(event["data"]) for event in seen] == [
        {"aggregate": f"visit:{visit_id}", "type": "VisitApproved"},
        {"aggregate": f"contact:{contact_id}", "type": "ContactUpdated"},
    ]
    assert all(set(event) == {"event", "data", "id"} for event in seen)
    said = json.dumps(seen)
    # Not the phone's digits alone: "222" turned up inside a random id (a UUID is hex).
    for personal in ("Hanako", "example.org", "11 222 3333", "chen.wei", "admin"):
        assert personal not in said


def test_every_event_type_counts_for_a_kind_of_page() -> None:
    assert set(KIND_OF_TYPE) == {name for name, _version in EVENT_TYPES}
    assert KIND_OF_TYPE["ItineraryItemAdded"] == "visit"
    assert parse_watch("visit:1 partner:2,visit") == {"visit:1", "partner:2", "visit"}
    for wrong in ("", "visit:", "visits:1", "visit:<b>", " ".join(["visit"] * 11)):
        assert parse_watch(wrong) is None, wrong


def test_an_event_committed_late_with_a_lower_number_is_not_missed(
    inline_api: InlineApi,
) -> None:
    """On PostgreSQL two workers' transactions can commit in the other order than their
    `seq` was taken: the hub looks again for the numbers it skipped."""

    def row(seq: int) -> dict[str, Any]:
        return {
            "seq": seq,
            "event_id": f"00000000-0000-4000-8000-{seq:012d}",
            "topic": "twinning.visits",
            "type": "VisitApproved",
            "schema_version": 1,
            "aggregate_id": "v1",
            "actor": "someone",
            "occurred_at": datetime.now(UTC),
            "body": "{}",
        }

    async def scenario() -> list[int]:
        sessions = inline_api.app.state.sessions
        hub = LiveHub(sessions, interval=3600)  # polled by hand below
        subscriber = await hub.subscribe(frozenset({"visit:v1"}))
        async with sessions() as session:
            start = await session.scalar(select(func.max(ArchivedEvent.seq))) or 0
            await session.execute(insert(ArchivedEvent), [row(start + 2)])
            await session.commit()
        await hub.poll()
        async with sessions() as session:
            await session.execute(insert(ArchivedEvent), [row(start + 1)])
            await session.commit()
        await hub.poll()
        await hub.poll()
        seen = []
        while not subscriber.queue.empty():
            change = subscriber.queue.get_nowait()
            assert change is not None
            seen.append(change.seq - start)
        await hub.close()
        return seen

    assert inline_api.portal.call(scenario) == [2, 1]


def test_a_choice_left_as_the_page_came_does_not_hold_the_page_back(
    office: Office, browser: Browser
) -> None:
    """A list of choices with none marked shows its first option: not a choice of the
    reader's, so the page still updates itself; one the reader changed holds it back."""
    visit_id = new_visit(office)
    page = open_visit(office_context(office, browser, "en"), visit_id, office)
    add_choice = """
        const select = document.createElement("select");
        select.id = "unmarked";
        select.innerHTML = "<option value=''>Any</option><option value='b'>B</option>";
        document.querySelector("#main form").appendChild(select);
    """
    page.evaluate(add_choice)

    api(office, "POST", f"/visits/{visit_id}/approve", json={"reason": "first change"})

    expect(page.locator("h1")).to_contain_text(text("approved", "en"))
    expect(page.locator(NOTE)).to_have_text(UPDATED)
    assert page.evaluate("window.liveMarker") == "no reload"

    page.evaluate(add_choice)
    page.locator("#unmarked").select_option("b")
    page.locator("h1").click()  # the choice made, the reader has left the field
    api(office, "POST", f"/visits/{visit_id}/schedule")

    expect(page.locator("#live-bar button")).to_be_visible()  # offered, not swapped
    expect(page.locator("h1")).to_contain_text(text("approved", "en"))
    expect(page.locator("#unmarked")).to_have_value("b")


@in_two_languages
def test_a_form_begun_while_the_change_is_fetched_keeps_what_the_reader_chose(
    office: Office, browser: Browser, locale: str
) -> None:
    """The page fetches itself when a change arrives while nobody types; the reader who begins
    a form before the new page arrives keeps what they chose: the bar offers the change
    instead, and shows it when asked. (Before, the late swap emptied the form, and its
    submission was refused for the fields the reader had filled.)"""
    visit_id = new_visit(office)
    page = open_visit(office_context(office, browser, locale), visit_id, office)
    held: list[Route] = []

    def hold_the_refresh(route: Route) -> None:
        if route.request.headers.get("hx-request"):  # htmx's own fetch of the page
            held.append(route)  # answered below, once the reader has begun the form
        else:
            route.continue_()

    page.route(f"**/ui/visits/{visit_id}", hold_the_refresh)
    api(office, "POST", f"/visits/{visit_id}/approve", json={"reason": "first change"})
    wait_for(lambda: held or page.evaluate("false"), what="the page to fetch itself")

    page.locator("#reason").fill("typed while the page was fetched")
    page.locator("h1").click()  # the reader has left the field
    held[0].continue_()

    expect(page.locator("#live-bar button")).to_be_visible()  # offered, not swapped
    expect(page.locator("#reason")).to_have_value("typed while the page was fetched")
    expect(page.locator("h1")).not_to_contain_text(text("approved", locale))
    assert page.evaluate("window.liveMarker") == "no reload"

    page.unroute(f"**/ui/visits/{visit_id}")
    page.locator("#live-bar button").click()  # asked for: shown, whatever was typed
    expect(page.locator("h1")).to_contain_text(text("approved", locale))
    assert page.evaluate("window.liveMarker") == "no reload"
