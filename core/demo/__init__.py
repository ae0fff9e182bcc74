"""Demo data, loaded through the API like any staff member's input (`twinning up --demo`).

Everything in it is invented for trying twinning out (the cities are real; their agreements,
visits and people are not; texts say DEMO, (demo) or 示範, addresses are under example.org).
What an international affairs office holds after a couple of years:

- `partners.json`: 16 partner cities on six continents, named in zh-TW, en, ja, ko and es;
- `crm.json`: foreign missions in the country, contacts, exchanges (one with two missions and
  a chamber of commerce as counterparts), and trips abroad (legs in the destinations' time
  zones; completed, cancelled and planned);
- `calendar.json`: the officials and venues, the interpreter roster, the visit of Sapporo a
  week from today with its itinerary (interpreters booked on its items), and the calendar
  feeds whose links `twinning up --demo` prints (an interpreter's among them);
- `protocol.json`: 40 delegation visits over the past year and the coming one, in every state
  of their lifecycle, with itineraries (one item double-books the mayor on purpose, with the
  reason of its override) and the exchanges the completed ones recorded;
- `city_events.json`: the city's events, with invitations and answers (some past their
  answer-by date), one cancelled, two completed, one co-hosted with a mission and a
  partner, one with the mayor attending and an interpreter booked;
- `plans.json`: the 2024 international-affairs plan of the seed with its real budget lines,
  and the same plan for the current year (示範), with spending and entered KPI values;
- `press.json`: press releases, articles, an interview and a broadcast about past visits;
- `gifts.json`: the gifts register, given and received on past visits (one approved, one in
  yen awaiting approval), so that Sapporo's coming visit shows what the city gave it before.

Records name each other by key or English name (ids are only known once the API has accepted
them), and dates are days counted from today in the city's time zone, so that the demo always
lies around today.

The load waits for the worker as little as it can. What needs no more than the ids of records
posted before it is posted at once, a few requests at a time (the API finds a partner or a
mission it refers to in the outbox too). Then, once the worker has started, every command that
checks the state it changes settles what it depends on in the API: a visit's lifecycle steps go
in rounds (every visit's first step, then every visit's second...), invitations and answers
and trips beside them. Only the itinerary items follow one another at the worker's pace, since
each one settles every visit (its conflict check): they are as few as make a realistic
programme, and the rest of the load runs beside them. The last events are looked at while the
items are added, so that when `load_demo` returns, the worker has applied every event (a
dead-lettered one fails the load with its reason).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx

DATA = Path(__file__).parent
#: The demo's city (its profile says "in northern Taiwan"): where it is and its name on the
#: maps of the leaflet and the brochures, when the office's settings name none.
DEMO_LOCATION = (24.99, 121.30)
DEMO_CITY = {
    "zh-TW": "示範市",
    "en": "Demo City",
    "ja": "デモ市",
    "ko": "데모시",
    "es": "Ciudad demo",
}
T = TypeVar("T")
R = TypeVar("R")
#: Commands in flight at once: enough to overlap their waits for the worker, few enough for
#: a small machine.
PARALLEL = 8


def _read(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def home_today() -> date:
    """Today where the demo city is (its venues' time zone): day 0 of every demo date."""
    return datetime.now(ZoneInfo(_read("calendar.json")["timezone"])).date()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def demo_partners(today: date | None = None) -> list[dict[str, Any]]:
    """The partner cities as the API takes them. An `anniversary` (a round number of years,
    falling so many days from today) stands for an agreement date, so that the Today page
    always has anniversaries ahead."""
    today = today or home_today()
    partners = []
    for entry in _read("partners.json"):
        partner = dict(entry)
        if "anniversary" in partner:
            anniversary = partner.pop("anniversary")
            when = today + timedelta(days=anniversary["in_days"])
            partner["agreement_date"] = _years_before(when, anniversary["years"]).isoformat()
        partners.append(partner)
    return partners


def demo_plans(today: date) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
    """The demo's plans (the seed's 2024 plan, and the current year's), and the spending and
    KPI values recorded against each (`(url, body)`), dated no later than today."""
    demo = _read("plans.json")
    plans = [demo["plan"]]
    if today.year != demo["plan"]["year"]:
        plans.append({**demo["plan"], "year": today.year, "title": demo["current_title"]})
    records: list[tuple[str, dict[str, Any]]] = []
    for plan in plans:
        year = plan["year"]
        for kind, url in (("spending", "spending"), ("kpi_values", "kpi-values")):
            for entry in demo[kind]:
                day = date(year, entry["month"], entry["day"])
                if day > today:
                    continue
                body = {k: v for k, v in entry.items() if k not in ("month", "day")}
                records.append((f"/plans/{year}/{url}", {**body, "date": day.isoformat()}))
    return plans, records


class _Loader:
    """Posts commands (from several threads: `many`, `aside`) and waits for their events."""

    def __init__(
        self, client: httpx.Client, timeout: float, today: date, pool: ThreadPoolExecutor
    ) -> None:
        self.client = client  # an httpx.Client may be shared by threads
        self.timeout = timeout
        self.today = today
        self.pool = pool
        self.event_ids: list[str] = []  # list.append is atomic
        self._applied = 0  # event_ids[:_applied] are known to be applied

    def many(self, post: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`post` each item, a few at a time (commands on different records do not wait for
        each other); their results in order, or the first failure raised."""
        return list(self.pool.map(post, items))

    def aside(self, post: Callable[[], object]) -> Future[object]:
        """Run `post` beside the caller, who collects it (and its failure) with `.result()`."""
        return self.pool.submit(post)

    def day(self, days: int) -> str:
        return (self.today + timedelta(days=days)).isoformat()

    def at(self, days: int, hour: str, zone: str) -> str:
        """`hour` o'clock local time in `zone`, `days` days from the demo's today."""
        when = self.today + timedelta(days=days)
        return datetime.combine(when, clock_time.fromisoformat(hour), ZoneInfo(zone)).isoformat()

    def send(
        self,
        url: str,
        body: dict[str, Any] | None = None,
        method: str = "POST",
        **content: Any,
    ) -> Any:
        """POST a command (`body`, or httpx's `content` such as `files`); one the API could
        not take then (503: nothing was done; the worker too slow, the database busy) again."""
        deadline = time.monotonic() + self.timeout
        content = content or {"json": body}
        response = self.client.request(method, url, **content)
        while response.status_code == 503 and time.monotonic() < deadline:
            time.sleep(float(response.headers.get("Retry-After", 1)))
            response = self.client.request(method, url, **content)
        if response.is_error:
            raise RuntimeError(
                f"demo: {method} {url} answered {response.status_code}: {response.text}"
            )
        return response.json()

    def post(
        self, url: str, body: dict[str, Any] | None = None, method: str = "POST"
    ) -> dict[str, Any]:
        accepted: dict[str, Any] = self.send(url, body, method)
        self.event_ids.append(accepted["event_id"])
        if accepted.get("exchange_event_id"):  # a completion's exchange
            self.event_ids.append(accepted["exchange_event_id"])
        return accepted

    def wait_for_worker(self) -> None:
        """Wait until the worker has applied the last event posted so far: it has started,
        and the commands that settle what they depend on will not wait long."""
        if self.event_ids[self._applied :]:
            self._wait_for([self.event_ids[-1]], time.monotonic() + self.timeout)

    def wait_applied(self) -> None:
        """Wait until the worker has applied every event posted so far; a dead-lettered one
        fails the load with its reason. The last one first (the others are mostly applied by
        then), and then the others, a few at a time: a GET for each, not one per look."""
        pending = self.event_ids[self._applied :]
        deadline = time.monotonic() + self.timeout
        if pending:
            self._wait_for([pending[-1]], deadline)
        applied = list(self.pool.map(self._applied_by, pending[:-1]))
        self._wait_for(
            [e for e, done in zip(pending[:-1], applied, strict=True) if not done], deadline
        )
        self._applied += len(pending)

    def follow(self, stop: threading.Event) -> None:
        """Look at the events in order as they are posted, until `stop` is set (beside the
        itinerary items, which wait for the worker anyway): the next `wait_applied` looks
        only at what this has not seen applied."""
        while not stop.is_set():
            if self._applied < len(self.event_ids) and self._applied_by(
                self.event_ids[self._applied]
            ):
                self._applied += 1
            else:
                stop.wait(0.1)

    def _wait_for(self, waiting: list[str], deadline: float) -> None:
        for event_id in waiting:
            while not self._applied_by(event_id):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"demo event {event_id} was not applied within {self.timeout}s"
                    )
                time.sleep(0.1)

    def _applied_by(self, event_id: str) -> bool:
        state = self.client.get(f"/events/{event_id}").json()
        if state.get("status") == "dead-lettered":
            raise RuntimeError(f"demo event {event_id} was dead-lettered: {state.get('reason')}")
        return state.get("status") == "applied"


@dataclass(frozen=True)
class DemoLoaded:
    """How many records the demo loaded, and the calendar feeds to subscribe to (name -> URL)."""

    records: int
    feeds: dict[str, str] = field(default_factory=dict)


@dataclass
class _Ids:
    """The ids the API gave the demo's records, by the key or English name the files use."""

    partners: dict[str, str] = field(default_factory=dict)
    missions: dict[str, str] = field(default_factory=dict)
    officials: dict[str, str] = field(default_factory=dict)
    venues: dict[str, dict[str, Any]] = field(default_factory=dict)  # id and time zone
    interpreters: dict[str, str] = field(default_factory=dict)
    #: The exchanges posted (their ids, and their entries in crm.json).
    exchanges: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _register(loader: _Loader, calendar: dict[str, Any], crm: dict[str, Any]) -> _Ids:
    def post_all(url: str, bodies: list[dict[str, Any]]) -> list[str]:
        return loader.many(lambda body: str(loader.post(url, body)["id"]), bodies)

    partners = demo_partners(loader.today)
    missions = crm["missions"]
    ids = _Ids(
        partners=dict(
            zip([p["names"]["en"] for p in partners], post_all("/partners", partners), strict=True)
        ),
        missions=dict(
            zip([m["names"]["en"] for m in missions], post_all("/missions", missions), strict=True)
        ),
    )
    officials = calendar["officials"]
    posted = post_all("/officials", [o["official"] for o in officials])
    ids.officials = {
        o["key"]: official_id for o, official_id in zip(officials, posted, strict=True)
    }
    venues = calendar["venues"]
    posted = post_all("/venues", [v["venue"] for v in venues])
    ids.venues = {
        v["key"]: {"id": venue_id, "timezone": v["venue"]["timezone"]}
        for v, venue_id in zip(venues, posted, strict=True)
    }
    interpreters = calendar["interpreters"]
    posted = post_all("/interpreters", [i["interpreter"] for i in interpreters])
    ids.interpreters = {
        i["key"]: interpreter_id for i, interpreter_id in zip(interpreters, posted, strict=True)
    }
    return ids


def _post_crm(loader: _Loader, crm: dict[str, Any], ids: _Ids) -> list[tuple[str, Any]]:
    """Contacts, exchanges and trips; returns the trips' later steps (URL and body)."""

    def contact(entry: dict[str, Any]) -> dict[str, Any]:
        body = {key: value for key, value in entry.items() if key not in ("partner", "mission")}
        if "partner" in entry:
            return {**body, "partner_id": ids.partners[entry["partner"]]}
        return {**body, "mission_id": ids.missions[entry["mission"]]}

    def exchange(entry: dict[str, Any]) -> dict[str, Any]:
        skipped = ("partners", "missions", "day")
        body = {key: value for key, value in entry.items() if key not in skipped}
        partner_ids = [ids.partners[name] for name in entry["partners"]]
        if "missions" in entry:  # foreign missions as counterparts
            body["mission_ids"] = [ids.missions[name] for name in entry["missions"]]
        return {**body, "partner_ids": partner_ids, "date": loader.day(entry["day"])}

    def trip(entry: dict[str, Any]) -> list[tuple[str, Any]]:
        body = {
            **entry["trip"],
            "legs": [_leg(loader, leg, ids) for leg in entry["trip"]["legs"]],
            "officials": [  # a demo official's key stands for its id
                {**o, "official_id": ids.officials[o["official_id"]]} if "official_id" in o else o
                for o in entry["trip"]["officials"]
            ],
        }
        trip_id = loader.post("/trips", body)["id"]
        return [
            (f"/trips/{trip_id}/{step}", entry[step])
            for step in ("complete", "cancel")
            if step in entry
        ]

    loader.many(lambda entry: loader.post("/contacts", contact(entry)), crm["contacts"])
    posted = loader.many(lambda entry: loader.post("/exchanges", exchange(entry)), crm["exchanges"])
    ids.exchanges += [(p["id"], e) for p, e in zip(posted, crm["exchanges"], strict=True)]
    return [step for steps in loader.many(trip, crm["trips"]) for step in steps]


def _post_contacts_and_exchanges(loader: _Loader, crm: dict[str, Any], ids: _Ids) -> None:
    _post_crm(loader, {**crm, "trips": []}, ids)


def _plan_trips(loader: _Loader, crm: dict[str, Any], ids: _Ids) -> list[tuple[str, Any]]:
    """The trips (bookings: each settles the schedule, so after the worker has started);
    returns their later steps (URL and body)."""
    return _post_crm(loader, {**crm, "contacts": [], "exchanges": []}, ids)


def _leg(loader: _Loader, leg: dict[str, Any], ids: _Ids) -> dict[str, Any]:
    (first, last), (start, end), zone = leg["days"], leg["hours"], leg["timezone"]
    return {
        **{key: value for key, value in leg.items() if key not in ("days", "hours", "partners")},
        "start": loader.at(first, start, zone),
        "end": loader.at(last, end, zone),
        "partner_ids": [ids.partners[name] for name in leg["partners"]],
    }


def _delegation(visit: dict[str, Any], ids: _Ids) -> dict[str, Any]:
    if "partner" in visit:
        return {"partner_id": ids.partners[visit["partner"]]}
    if "mission" in visit:
        return {"mission_id": ids.missions[visit["mission"]]}
    return {"organisation": visit["organisation"]}


def _request_visits(loader: _Loader, visits: list[dict[str, Any]], ids: _Ids) -> list[str]:
    def request(visit: dict[str, Any]) -> str:
        first, last = visit["days"]
        body = {
            **visit["request"],
            "delegation": _delegation(visit, ids),
            "requested_from": loader.day(first),
            "requested_to": loader.day(last),
        }
        return str(loader.post("/visits", body)["id"])

    return loader.many(request, visits)


ITEM_FIELDS = ("titles", "interpreter", "gift_exchange", "press", "notes_shared", "override")


def _add_itinerary(loader: _Loader, visit_id: str, visit: dict[str, Any], ids: _Ids) -> None:
    for item in visit["itinerary"]:
        if "venue" in item:
            venue = ids.venues[item["venue"]]
            where, zone = {"venue_id": venue["id"]}, venue["timezone"]
        else:
            where, zone = {"place": item["place"]}, item["place"]["timezone"]
        loader.post(
            f"/visits/{visit_id}/itinerary",
            {
                **{key: value for key, value in item.items() if key in ITEM_FIELDS},
                **where,
                "starts_at": loader.at(item["day"], item["from"], zone),
                "ends_at": loader.at(item["day"], item["to"], zone),
                "official_ids": [ids.officials[key] for key in item["officials"]],
                "interpreter_ids": [ids.interpreters[k] for k in item.get("interpreters", [])],
            },
        )


Steps = list[list[Any]]  # [command, body] of a visit's lifecycle steps


def _split_steps(visit: dict[str, Any]) -> tuple[Steps, Steps]:
    """A visit's lifecycle steps before its itinerary is added, and after."""
    steps = visit["steps"]
    if ["itinerary"] not in steps:
        return steps, []
    at = steps.index(["itinerary"])
    return steps[:at], steps[at + 1 :]


def _step(loader: _Loader, visit_id: str, step: list[Any]) -> None:
    command, *body = step
    loader.post(f"/visits/{visit_id}/{command}", body[0] if body else None)


def _take_rounds(loader: _Loader, steps: list[tuple[str, Steps]]) -> None:
    """Every visit's first step at once, then every visit's second one, and so on: a step
    settles its visit, so it rarely waits for the one before it."""
    for number in range(max((len(s) for _, s in steps), default=0)):
        loader.many(
            lambda step: _step(loader, *step), [(i, s[number]) for i, s in steps if number < len(s)]
        )


def _schedule_city_events(
    loader: _Loader, events: list[dict[str, Any]], ids: _Ids
) -> list[tuple[str, dict[str, Any]]]:
    """The city's events, with their ids (for invitations and later steps)."""

    def schedule(entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        timing = ("day", "from", "to")
        skipped = ("at_venue", "invitations", "then", "officials", "interpreters")
        event = {key: value for key, value in entry.items() if key not in (*timing, *skipped)}
        event["official_ids"] = [ids.officials[key] for key in entry.get("officials", [])]
        event["interpreter_ids"] = [ids.interpreters[k] for k in entry.get("interpreters", [])]
        if "at_venue" in entry:
            event["venue"] = {"venue_id": ids.venues[entry["at_venue"]]["id"]}
        if "co_hosts" in entry:  # by English name, as invitees are
            event["co_hosts"] = [
                {"kind": "partner", "id": ids.partners[h["partner"]]}
                if "partner" in h
                else {"kind": "mission", "id": ids.missions[h["mission"]]}
                for h in entry["co_hosts"]
            ]
        zone = entry["timezone"]
        event["starts_at"] = loader.at(entry["day"], entry["from"], zone)
        event["ends_at"] = loader.at(entry["day"], entry["to"], zone)
        return str(loader.post("/city-events", event)["id"]), entry

    return loader.many(schedule, events)


def _invite(
    loader: _Loader, scheduled: list[tuple[str, dict[str, Any]]], ids: _Ids
) -> list[list[tuple[str, Any]]]:
    """Send each event's invitations (one request) and complete or cancel the events that say
    so; returns the answers to record, event by event (invitation id and answer)."""

    def invite(event: tuple[str, dict[str, Any]]) -> list[tuple[str, Any]]:
        event_id, entry = event
        if "then" in entry:
            step, body = entry["then"]
            loader.post(f"/city-events/{event_id}/{step}", body)
        if "invitations" not in entry:
            return []
        invitees = entry["invitations"]["invitees"]
        body = {
            "answer_by": loader.day(entry["invitations"]["answer_by_day"]),
            "invitees": [
                {"kind": "partner", "id": ids.partners[i["partner"]]}
                if "partner" in i
                else {"kind": "mission", "id": ids.missions[i["mission"]]}
                for i in invitees
            ],
        }
        sent = loader.send(f"/city-events/{event_id}/invitations", body)
        loader.event_ids.extend(invitation["event_id"] for invitation in sent)
        return [  # no answer (None): no reply yet
            (invitation["id"], invitee["answer"])
            for invitation, invitee in zip(sent, invitees, strict=True)
            if invitee["answer"] is not None
        ]

    return loader.many(invite, scheduled)


def _feed_links(loader: _Loader, calendar: dict[str, Any], ids: _Ids) -> dict[str, str]:
    """The secret links of the demo's private feeds (name -> URL)."""
    links = {}
    for feed in calendar["feeds"]:
        audience = dict(feed["audience"])
        if "official" in audience:
            audience["official_id"] = ids.officials[audience.pop("official")]
        if "interpreter" in audience:
            audience["interpreter_id"] = ids.interpreters[audience.pop("interpreter")]
        body = {"audience": audience, "language": feed["language"], "label": feed["label"]}
        links[feed["name"]] = loader.send("/feed-links", body)["url"]
    return links


def _record_gifts(
    loader: _Loader, gifts: list[dict[str, Any]], ids: _Ids, visits: list[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    """Post the gifts register; returns the approvals to record (URL and body), which check
    the gift's value and so wait for the worker."""

    def party(entry: dict[str, str]) -> dict[str, Any]:
        name = entry.get("name")
        if "official" in entry:
            return {"kind": "official", "id": ids.officials[entry["official"]], "name": name}
        if "partner" in entry:
            return {"kind": "partner", "id": ids.partners[entry["partner"]], "name": name}
        if "mission" in entry:
            return {"kind": "mission", "id": ids.missions[entry["mission"]], "name": name}
        return {"kind": "person", "name": entry["person"]}

    def visit_of(occasion: dict[str, Any]) -> str:
        return next(
            visit_id
            for visit_id, visit in visits
            if visit.get("partner") == occasion["visit_of"] and visit["days"][0] == occasion["day"]
        )

    def gift(entry: dict[str, Any]) -> tuple[str, Any] | None:
        skipped = ("day", "giver", "recipient", "occasion", "approve")
        body = {key: value for key, value in entry.items() if key not in skipped}
        body |= {
            "date": loader.day(entry["day"]),
            "giver": party(entry["giver"]),
            "recipient": party(entry["recipient"]),
        }
        if "occasion" in entry:
            body["occasion"] = {"kind": "visit", "id": visit_of(entry["occasion"])}
        gift_id = loader.post("/gifts", body)["id"]
        if "approve" in entry:
            return (f"/gifts/{gift_id}/approve", {"note": entry["approve"]})
        return None

    return [step for step in loader.many(gift, gifts) if step is not None]


def _record_press(
    loader: _Loader, items: list[dict[str, Any]], visits: list[tuple[str, Any]]
) -> None:
    """Post the press items, each with the visits it covers."""

    def visit_of(covered: dict[str, Any]) -> dict[str, str]:
        visit_id = next(
            visit_id
            for visit_id, visit in visits
            if visit.get("partner") == covered["visit_of"] and visit["days"][0] == covered["day"]
        )
        return {"kind": "visit", "id": visit_id}

    def press_item(entry: dict[str, Any]) -> None:
        body = {key: value for key, value in entry.items() if key not in ("day", "covers")}
        body["date"] = loader.day(entry["day"])
        body["covers"] = [visit_of(covered) for covered in entry.get("covers", [])]
        loader.post("/press", body)

    loader.many(press_item, items)


def _attach_photos(loader: _Loader, ids: _Ids) -> None:
    """Upload pictures drawn for the demo (`pictures`) and attach them with their captions and
    alt texts in every language (`photos.json`): our city's, a few of each partner city's, and
    one of each of the latest exchanges (captioned with its summary)."""
    from twinning.demo.pictures import picture

    texts = _read("photos.json")
    scenes = texts["scenes"]

    def worded(template: dict[str, str], names: dict[str, str]) -> dict[str, str]:
        filled = {
            code: text.format(name=names.get(code) or names["en"])
            for code, text in template.items()
        }
        return {code: text[:1].upper() + text[1:] for code, text in filled.items()}

    def attach(job: tuple[str, str, str, dict[str, str], int, dict[str, str] | None]) -> None:
        kind, subject_id, label, names, number, caption = job
        image = picture(label, number)
        uploaded = loader.send(
            "/photos/images", files={"file": (f"{label}-{number}.jpg", image, "image/jpeg")}
        )
        scene = scenes[number % len(scenes)]
        loader.post(
            "/photos",
            {
                "subject_kind": kind,
                "subject_id": subject_id,
                "sha256": uploaded["sha256"],
                "caption": caption or worded(scene["caption"], names),
                "alt": worded(scene["alt"], names),
            },
        )

    city = texts["city"]
    Job = tuple[str, str, str, dict[str, str], int, dict[str, str] | None]
    jobs: list[Job] = [
        ("city", "city-profile", city["label"], city["names"], n, None) for n in city["scenes"]
    ]
    for partner in demo_partners(loader.today):
        names = partner["names"]
        partner_id = ids.partners[names["en"]]
        jobs += [
            ("partner", partner_id, names["en"], names, n + len(names["en"]) % 3, None)
            for n in range(texts["per_partner"])
        ]
    latest = sorted(ids.exchanges, key=lambda posted: -posted[1]["day"])[
        : texts["latest_exchanges"]
    ]
    for number, (exchange_id, entry) in enumerate(latest):
        partner = entry["partners"][0]
        names = next(p["names"] for p in demo_partners(loader.today) if p["names"]["en"] == partner)
        caption = {code: text[:200] for code, text in entry["summary"].items()}
        jobs.append(("exchange", exchange_id, partner, names, number + 1, caption))
    loader.many(attach, jobs)


def load_demo(base_url: str, *, token: str, timeout: float = 60) -> DemoLoaded:
    """POST the demo records with the API token `token` (of a staff user) and wait until the
    worker has applied them all; returns how many, and the demo's calendar feeds."""
    headers = {"Authorization": f"Bearer {token}"}
    calendar, crm = _read("calendar.json"), _read("crm.json")
    visits = [calendar["visit"], *_read("protocol.json")["visits"]]
    events = _read("city_events.json")["events"]
    # A connection idle for longer than a second is not reused: uvicorn closes an idle one
    # after 5 s, httpx's default, so a request sent on one at that moment was dropped
    # ("Server disconnected without sending a response").
    limits = httpx.Limits(keepalive_expiry=1.0)
    with (
        httpx.Client(base_url=base_url, timeout=10, headers=headers, limits=limits) as client,
        ThreadPoolExecutor(PARALLEL) as pool,
    ):
        loader = _Loader(client, timeout, home_today(), pool)
        # Everything that needs no more than the ids of what was posted before it.
        ids = _register(loader, calendar, crm)
        _post_contacts_and_exchanges(loader, crm, ids)
        requested = list(zip(_request_visits(loader, visits, ids), visits, strict=True))
        plans, plan_records = demo_plans(loader.today)
        loader.many(lambda plan: loader.post("/plans", plan), plans)
        approvals = _record_gifts(loader, _read("gifts.json")["gifts"], ids, requested)
        _record_press(loader, _read("press.json")["items"], requested)
        # Our city's profile, printed on the leaflet and the brochures.
        loader.post("/publicity/profile", _read("profile.json"), "PUT")
        # The commands below check the state they change: each settles what it depends on
        # (the API waits a few seconds for the worker), once the worker has started. Trips
        # and city events are bookings: checked against the whole schedule.
        loader.wait_for_worker()
        # Photos of our city, the partners and the latest exchanges (drawn here), once their
        # subjects are applied: the leaflet's and the brochures' pictures.
        _attach_photos(loader, ids)
        trip_steps = _plan_trips(loader, crm, ids)
        scheduled = _schedule_city_events(loader, events, ids)
        split = [(visit_id, *_split_steps(visit)) for visit_id, visit in requested]
        ready = threading.Event()  # every visit's steps before its itinerary are taken

        def beside_the_itineraries() -> None:
            answers = _invite(loader, scheduled, ids)
            for url, body in plan_records:  # in order: each settles its plan
                loader.post(url, body)
            loader.many(lambda step: loader.post(*step), [*trip_steps, *approvals])
            _take_rounds(loader, [(visit_id, before) for visit_id, before, _after in split])
            ready.set()
            loader.many(answer, answers)  # the invitations are applied by now

        def answer(event: list[tuple[str, Any]]) -> None:  # one event's answers in order
            for invitation_id, rsvp in event:
                loader.post(f"/invitations/{invitation_id}/rsvp", rsvp)

        def finish(visit_id: str, after: Steps) -> Callable[[], None]:
            def steps() -> None:  # one after the other: each settles the visit
                for step in after:
                    _step(loader, visit_id, step)

            return steps

        stop = threading.Event()
        following = loader.aside(lambda: loader.follow(stop))
        beside = loader.aside(beside_the_itineraries)
        try:
            feeds = _feed_links(loader, calendar, ids)
            # The itinerary items one after the other (each settles every visit); a visit's
            # later steps (schedule, complete) follow its items, beside the next visit's.
            finishing, deferred = [], []
            for (visit_id, visit), (_, _before, after) in zip(requested, split, strict=True):
                if "itinerary" not in visit:
                    continue
                _add_itinerary(loader, visit_id, visit, ids)
                if ready.is_set():
                    finishing.append(loader.aside(finish(visit_id, after)))
                else:  # its approval may not be taken yet
                    deferred.append(finish(visit_id, after))
            beside.result()
            finishing += [loader.aside(later) for later in deferred]
            for task in finishing:
                task.result()
        finally:
            stop.set()  # else the pool would wait for the follower for ever
        following.result()
        loader.wait_applied()
        partner = calendar["visit"]["partner"]
        feeds[f"{partner} (public)"] = f"{base_url}/partners/{ids.partners[partner]}/calendar.ics"
    return DemoLoaded(records=len(loader.event_ids), feeds=feeds)
