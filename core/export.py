"""Export: the registers as CSV or XLSX tables, and a person's data as one JSON document.

A table has a header row (in the reader's language) and one row per record; multilingual
texts take one column per language, country codes the CLDR name beside them. Personal data
(contacts) is the caller's to guard: `PERSONAL_KINDS` says which tables hold it.

`person_data` (a contact) and `interpreter_data` (an interpreter of the roster) answer a data
subject's request for access. `person_data`: every stored item about
one contact that `crm.service.erase_contact` would erase (the read model's record, the copies
of its events in the archive, the outbox and the parked events, the gifts that name the contact
as their giver or recipient, the mail sent to them: its address and its copy), and where else the name, email or phone appears (other events,
visits, invitations' notes and the delegates an answer lists, gifts naming a person by name
only), which the erasure leaves.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm import exchanges as crm_exchanges
from twinning.crm import service as crm
from twinning.crm.models import Contact
from twinning.crm.schemas import ContactFilter, ExchangeFilter, MissionFilter, PartnerFilter
from twinning.gifts.models import Gift
from twinning.i18n import L_, country_name, force_locale, localized, supported_locales
from twinning.invitations import service as invitations
from twinning.invitations.models import CityEvent, CityEventInterpreter, Invitation
from twinning.invitations.schemas import CityEventFilter
from twinning.mail.models import MailMessage
from twinning.schedule.models import Interpreter
from twinning.streams.events import ExchangeField, PartnerKind, PartnerStatus
from twinning.streams.store import ArchivedEvent, OutboxEvent, ParkedEvent
from twinning.visits import service as visits
from twinning.visits.lifecycle import VisitStatus
from twinning.visits.models import ItineraryInterpreter, ItineraryItem, Visit
from twinning.visits.schemas import VisitFilter

#: What can be exported, in the order the CLI lists them.
KINDS = ("partners", "missions", "exchanges", "visits", "city-events", "contacts")
#: The tables that hold personal data: staff only.
PERSONAL_KINDS = frozenset({"contacts"})
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: A cell that a spreadsheet would take for a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Records read per query (a list's page size is bounded).
BATCH = 500
#: The contact events whose stored copies the erasure rewrites.
CONTACT_EVENTS = ("ContactRegistered", "ContactUpdated")
#: What an erased copy keeps as a name (`crm.projector.ERASED`).
ERASED = "[erased]"

SHEET_TITLES = {
    "partners": L_("Partner cities"),
    "missions": L_("Foreign missions"),
    "exchanges": L_("Exchanges"),
    "visits": L_("Visits"),
    "city-events": L_("City events"),
    "contacts": L_("Contacts"),
}


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[Any]]


# --- reading every record --------------------------------------------------------------------


async def _every(list_of: Callable[[Any], Awaitable[Sequence[Any]]], query: Any) -> list[Any]:
    """Every record a list query finds, a bounded page at a time."""
    found: list[Any] = []
    while True:
        page = await list_of(query.model_copy(update={"limit": BATCH, "offset": len(found)}))
        found.extend(page)
        if len(page) < BATCH:
            return found


def _choice(value: str | None, kind: Any) -> Any:
    """A filter's value as its enum member; empty or unknown is "any" (as on the list pages)."""
    return kind(value) if value and value in {member.value for member in kind} else None


def _matches(texts: Iterable[str | None], search: str) -> bool:
    wanted = search.strip().casefold()
    return not wanted or any(wanted in t.casefold() for t in texts if t)


async def _records(db_session: AsyncSession, kind: str, filters: Mapping[str, str]) -> list[Any]:
    """The records of `kind` that the list page's simple filters keep (unknown values: any)."""
    q = filters.get("q", "")
    if kind == "partners":
        query = PartnerFilter(
            kind=_choice(filters.get("kind"), PartnerKind),
            status=_choice(filters.get("status"), PartnerStatus),
        )
        found = await _every(lambda p: crm.list_partners(db_session=db_session, query=p), query)
        return [p for p in found if _matches(p.names.values(), q)]
    if kind == "missions":
        found = await _every(
            lambda p: crm.list_missions(db_session=db_session, query=p), MissionFilter()
        )
        return [m for m in found if _matches(m.names.values(), q)]
    if kind == "contacts":
        contact_query = ContactFilter(
            partner_id=filters.get("partner_id") or None,
            mission_id=filters.get("mission_id") or None,
        )
        found = await _every(
            lambda p: crm.list_contacts(db_session=db_session, query=p), contact_query
        )
        return [
            c for c in found if _matches((c.name, c.title, c.organisation, c.email, c.phone), q)
        ]
    if kind == "exchanges":
        year = filters.get("year", "")
        exchange_query = ExchangeFilter(
            partner_id=filters.get("partner") or None,
            field=_choice(filters.get("field"), ExchangeField),
            year=int(year) if year.isdigit() and 1900 <= int(year) <= 2200 else None,
        )
        return await _every(
            lambda p: crm_exchanges.list_exchanges(db_session=db_session, query=p), exchange_query
        )
    if kind == "visits":
        visit_query = VisitFilter(status=_choice(filters.get("status"), VisitStatus))
        return await _every(
            lambda p: visits.list_visits(db_session=db_session, query=p), visit_query
        )
    if kind == "city-events":
        return await _every(
            lambda p: invitations.list_city_events(db_session=db_session, query=p),
            CityEventFilter(),
        )
    raise ValueError(f"unknown export {kind!r}: one of {', '.join(KINDS)}")


# --- tables ------------------------------------------------------------------------------------


def _languages(texts: Iterable[Mapping[str, str] | None]) -> list[str]:
    """Every supported language, then any other a record uses (sorted)."""
    known = list(supported_locales())
    others = sorted({tag for t in texts if t for tag in t} - set(known))
    return known + others


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


class _Builder:
    """Columns one at a time: a header and the value of each record."""

    def __init__(self, records: Sequence[Any]) -> None:
        self.records = records
        self.header: list[str] = []
        self.columns: list[list[Any]] = []

    def add(self, header: Any, value: Callable[[Any], Any]) -> None:
        self.header.append(str(header))
        self.columns.append([_cell(value(r)) for r in self.records])

    def texts(self, header: Any, texts: Callable[[Any], Mapping[str, str] | None]) -> None:
        """One column per language (`header` has a `%(language)s` placeholder)."""

        def in_language(tag: str) -> Callable[[Any], str | None]:
            return lambda record: (texts(record) or {}).get(tag)

        for tag in _languages(texts(r) for r in self.records):
            self.add(str(header) % {"language": tag}, in_language(tag))

    def country(self, language: str) -> None:
        self.add(L_("Country code"), lambda r: r.country)
        self.add(L_("Country"), lambda r: country_name(r.country, locale=language))

    def table(self, title: str) -> Table:
        rows = [list(row) for row in zip(*self.columns, strict=True)] if self.columns else []
        return Table(title=title, header=self.header, rows=rows)


async def _names(db_session: AsyncSession) -> tuple[dict[str, Any], dict[str, Any]]:
    partners = await _every(
        lambda p: crm.list_partners(db_session=db_session, query=p), PartnerFilter()
    )
    missions = await _every(
        lambda p: crm.list_missions(db_session=db_session, query=p), MissionFilter()
    )
    return {p.id: p.names for p in partners}, {m.id: m.names for m in missions}


async def table(
    db_session: AsyncSession,
    kind: str,
    *,
    language: str,
    filters: Mapping[str, str] | None = None,
) -> Table:
    """The records of `kind` as a table, headers and country names in `language`."""
    records = await _records(db_session, kind, filters or {})
    partner_names, mission_names = await _names(db_session)

    def named(names: Mapping[str, Mapping[str, str]], ids: Iterable[str | None]) -> list[str]:
        return [localized(names.get(i) or {}, language) or i for i in ids if i]

    with force_locale(language):
        b = _Builder(records)
        b.add(L_("ID"), lambda r: r.id)
        if kind == "partners":
            b.texts(L_("Name (%(language)s)"), lambda r: r.names)
            b.country(language)
            b.add(L_("Kind"), lambda r: r.kind)
            b.add(L_("Status"), lambda r: r.status)
            b.add(L_("Region"), lambda r: r.region)
            b.add(L_("Time zone"), lambda r: r.timezone)
            b.add(L_("Agreement date"), lambda r: r.agreement_date)
            b.add(L_("Agreement scope"), lambda r: r.agreement_scope)
            b.add(L_("Languages"), lambda r: r.languages)
            b.add(L_("Fields of cooperation"), lambda r: r.fields_of_cooperation)
            b.add(L_("Website"), lambda r: r.website)
        elif kind == "missions":
            b.texts(L_("Name (%(language)s)"), lambda r: r.names)
            b.country(language)
            b.add(L_("Kind"), lambda r: r.kind)
            b.texts(L_("Address (%(language)s)"), lambda r: r.address)
            b.add(L_("Website"), lambda r: r.website)
        elif kind == "exchanges":
            b.add(L_("Date"), lambda r: r.date)
            b.add(L_("Field"), lambda r: r.field)
            b.add(L_("Direction"), lambda r: r.direction)
            b.texts(L_("Summary (%(language)s)"), lambda r: r.summary)
            b.add(L_("Partner city IDs"), lambda r: r.partner_ids)
            b.add(L_("Partner cities"), lambda r: named(partner_names, r.partner_ids))
            b.add(L_("Participants"), lambda r: r.participants)
        elif kind == "visits":
            b.add(L_("Status"), lambda r: r.status)
            b.add(L_("Partner city ID"), lambda r: r.partner_id)
            b.add(L_("Partner city"), lambda r: named(partner_names, [r.partner_id]))
            b.add(L_("Foreign mission ID"), lambda r: r.mission_id)
            b.add(L_("Foreign mission"), lambda r: named(mission_names, [r.mission_id]))
            b.texts(L_("Organisation (%(language)s)"), lambda r: r.organisation)
            b.texts(
                L_("Head of delegation (%(language)s)"), lambda r: r.head_of_delegation["names"]
            )
            b.add(L_("Members"), lambda r: r.members)
            b.texts(L_("Purpose (%(language)s)"), lambda r: r.purpose)
            b.add(L_("Requested from"), lambda r: r.requested_from)
            b.add(L_("Requested to"), lambda r: r.requested_to)
            b.add(L_("Languages"), lambda r: r.languages)
            b.add(L_("Interpreter needed"), lambda r: r.interpreter_needed)
        elif kind == "city-events":
            b.add(L_("Kind"), lambda r: r.kind)
            b.texts(L_("Title (%(language)s)"), lambda r: r.title)
            b.add(L_("Starts"), lambda r: r.starts_at)
            b.add(L_("Ends"), lambda r: r.ends_at)
            b.add(L_("Time zone"), lambda r: r.timezone)
            b.add(L_("Venue ID"), lambda r: r.venue_id)
            b.add(L_("Place"), lambda r: r.venue_place)
            b.add(L_("Video link"), lambda r: r.video_link)
            b.add(L_("Open to partners"), lambda r: r.open_to_partners)
            b.add(L_("Status"), lambda r: r.status)
            b.add(L_("Participants"), lambda r: r.participants)
        elif kind == "contacts":
            b.add(L_("Name"), lambda r: r.name)
            b.add(L_("Job title"), lambda r: r.title)
            b.add(L_("Organisation"), lambda r: r.organisation)
            b.add(L_("Email"), lambda r: r.email)
            b.add(L_("Phone"), lambda r: r.phone)
            b.add(L_("Preferred language"), lambda r: r.preferred_language)
            b.add(L_("Partner city ID"), lambda r: r.partner_id)
            b.add(L_("Partner city"), lambda r: named(partner_names, [r.partner_id]))
            b.add(L_("Foreign mission ID"), lambda r: r.mission_id)
            b.add(L_("Foreign mission"), lambda r: named(mission_names, [r.mission_id]))
        if kind in {"partners", "missions", "contacts"}:
            b.add(L_("Registered"), lambda r: r.registered_at)
            b.add(L_("Updated"), lambda r: r.updated_at)
        return b.table(str(SHEET_TITLES[kind]))


# --- files -------------------------------------------------------------------------------------


def neutralised(value: Any) -> Any:
    """A text a spreadsheet would run as a formula, with a leading apostrophe (read as text)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(found: Table) -> bytes:
    """UTF-8 with a byte order mark (so that Excel reads it as UTF-8), CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralised(h) for h in found.header])
    writer.writerows([neutralised(v) for v in row] for row in found.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(found: Table) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell.cell import TYPE_STRING  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = found.title[:31] or "Export"
    sheet.append([neutralised(h) for h in found.header])
    for row in found.rows:
        sheet.append([neutralised(v) for v in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING  # never a formula, whatever it starts with
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def encode(found: Table, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(found)
    if fmt == "xlsx":
        return to_xlsx(found)
    raise ValueError(f"unknown format {fmt!r}: csv or xlsx")


def filename(kind: str, fmt: str, today: date | None = None) -> str:
    return f"twinning-{kind}-{(today or datetime.now(UTC).date()).isoformat()}.{fmt}"


# --- a person's data ---------------------------------------------------------------------------


def _carries_personal_data(event_type: str, payload: Mapping[str, Any]) -> bool:
    """Whether a stored copy of a contact event still holds personal data (an erased copy
    keeps only the partner or mission and the name "[erased]")."""
    if event_type not in CONTACT_EVENTS:
        return False
    kept = {k: v for k, v in payload.items() if k not in ("partner_id", "mission_id")}
    return kept != {"name": ERASED}


def _stored(body: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body)
    return document


def _contact_record(contact: Contact) -> dict[str, Any]:
    return {
        column.key: _json_value(getattr(contact, column.key))
        for column in Contact.__table__.columns
    }


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


async def _stored_events(
    db_session: AsyncSession, aggregate_id: str, types: Sequence[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored copies of `aggregate_id`'s events of `types`: in the archive, the outbox and
    among the parked events."""
    archived = [
        {
            "event_id": row.event_id,
            "type": row.type,
            "occurred_at": _json_value(row.occurred_at),
            "actor": row.actor,
            "payload": _stored(row.body).get("payload", {}),
        }
        for row in await db_session.scalars(
            select(ArchivedEvent)
            .where(ArchivedEvent.aggregate_id == aggregate_id, ArchivedEvent.type.in_(types))
            .order_by(ArchivedEvent.seq)
        )
    ]
    outboxed = [
        {
            "event_id": row.event_id,
            "type": row.type,
            "created_at": _json_value(row.created_at),
            "payload": _stored(row.body).get("payload", {}),
        }
        for row in await db_session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.aggregate_id == aggregate_id, OutboxEvent.type.in_(types))
            .order_by(OutboxEvent.id)
        )
    ]
    parked = []
    for row in await db_session.scalars(select(ParkedEvent).order_by(ParkedEvent.seq)):
        envelope = _stored(row.body)
        if envelope.get("aggregate_id") == aggregate_id and envelope.get("type") in types:
            parked.append(
                {
                    "event_id": row.event_id,
                    "type": envelope.get("type"),
                    "parked_at": _json_value(row.parked_at),
                    "reason": row.reason,
                    "payload": envelope.get("payload", {}),
                }
            )
    return archived, outboxed, parked


async def person_data(db_session: AsyncSession, contact_id: str) -> dict[str, Any] | None:
    """Every stored item of personal data about contact `contact_id` (see the module's
    docstring), or None when nothing is held about them (unknown, or erased)."""
    contact = await db_session.get(Contact, contact_id)
    archived, outboxed, parked = await _stored_events(db_session, contact_id, CONTACT_EVENTS)
    archived = [e for e in archived if _carries_personal_data(e["type"], e["payload"])]
    outboxed = [e for e in outboxed if _carries_personal_data(e["type"], e["payload"])]
    parked = [e for e in parked if _carries_personal_data(e["type"], e["payload"])]
    gifts = await _gifts_naming(db_session, contact_id)
    mail = [
        _mail_record(row)
        for row in await db_session.scalars(
            select(MailMessage)
            .where(MailMessage.recipient_id == contact_id)
            .where((MailMessage.to_address != "") | MailMessage.rendered.is_not(None))
            .order_by(MailMessage.queued_at, MailMessage.id)
        )
    ]
    if contact is None and not (archived or outboxed or parked or gifts or mail):
        return None
    identifiers = _identifiers(contact, [e["payload"] for e in archived + outboxed + parked])
    return {
        "subject": {"kind": "contact", "id": contact_id},
        "exported_at": datetime.now(UTC).isoformat(),
        "erased_by_erasure": {
            "contact": _contact_record(contact) if contact is not None else None,
            "archived_events": archived,
            "outbox_events": outboxed,
            "parked_events": parked,
            "gifts": [_gift_record(gift) for gift in gifts],
            "mail": mail,
        },
        "mentions_elsewhere": await _mentions(db_session, contact_id, identifiers),
    }


#: The roster events whose stored copies an interpreter's erasure rewrites (their contact).
INTERPRETER_EVENTS = ("InterpreterRegistered", "InterpreterUpdated")


async def interpreter_data(db_session: AsyncSession, interpreter_id: str) -> dict[str, Any] | None:
    """Every stored item of personal data about interpreter `interpreter_id`, or None for an
    interpreter not on the roster: under `erased_by_erasure` their contact (email, phone) in
    the roster and in the stored copies of their events, which erasing the contact removes;
    under `kept` their name, language pairs and the bookings, which stay on the roster."""
    interpreter = await db_session.get(Interpreter, interpreter_id)
    if interpreter is None:
        return None
    archived, outboxed, parked = await _stored_events(
        db_session, interpreter_id, INTERPRETER_EVENTS
    )

    def with_contact(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in events if e["payload"].get("contact")]

    items = await db_session.scalars(
        select(ItineraryItem)
        .join(ItineraryInterpreter, ItineraryInterpreter.item_id == ItineraryItem.id)
        .where(ItineraryInterpreter.interpreter_id == interpreter_id)
        .order_by(ItineraryItem.starts_at)
    )
    city_events = await db_session.scalars(
        select(CityEvent)
        .join(CityEventInterpreter, CityEventInterpreter.city_event_id == CityEvent.id)
        .where(CityEventInterpreter.interpreter_id == interpreter_id)
        .order_by(CityEvent.starts_at)
    )
    return {
        "subject": {"kind": "interpreter", "id": interpreter_id},
        "exported_at": datetime.now(UTC).isoformat(),
        "erased_by_erasure": {
            "contact": interpreter.contact,
            "archived_events": with_contact(archived),
            "outbox_events": with_contact(outboxed),
            "parked_events": with_contact(parked),
        },
        "kept": {
            "name": interpreter.name,
            "language_pairs": interpreter.language_pairs,
            "engagement": interpreter.engagement,
            "contact_erased_at": _json_value(interpreter.contact_erased_at),
            "itinerary_items": [
                {
                    "item_id": item.id,
                    "visit_id": item.visit_id,
                    "titles": item.titles,
                    "starts_at": _json_value(item.starts_at),
                    "ends_at": _json_value(item.ends_at),
                }
                for item in items
            ],
            "city_events": [
                {
                    "city_event_id": event.id,
                    "title": event.title,
                    "starts_at": _json_value(event.starts_at),
                    "ends_at": _json_value(event.ends_at),
                }
                for event in city_events
            ],
        },
    }


def _names_contact(party: Mapping[str, Any], contact_id: str) -> bool:
    return party.get("kind") == "person" and party.get("id") == contact_id


async def _gifts_naming(db_session: AsyncSession, contact_id: str) -> list[Gift]:
    """The gifts whose giver or recipient is the contact, by id, still with their name (the
    erasure replaces it). The register is small: looked through whole."""
    return [
        gift
        for gift in await db_session.scalars(select(Gift).order_by(Gift.date, Gift.id))
        if any(
            _names_contact(party, contact_id) and party.get("name") != ERASED
            for party in (gift.giver, gift.recipient)
        )
    ]


def _mail_record(row: MailMessage) -> dict[str, Any]:
    """A message to the contact: the address it went to and the copy kept of it."""
    return {
        "message_id": row.id,
        "kind": row.kind,
        "state": row.state,
        "queued_at": _json_value(row.queued_at),
        "sent_at": _json_value(row.sent_at),
        "to_address": row.to_address,
        "subject": row.subject,
        "rendered": row.rendered,
    }


def _gift_record(gift: Gift) -> dict[str, Any]:
    return {
        "gift_id": gift.id,
        "direction": gift.direction,
        "date": _json_value(gift.date),
        "description": gift.description,
        "giver": gift.giver,
        "recipient": gift.recipient,
        "notes": gift.notes,
    }


def _identifiers(contact: Contact | None, payloads: Iterable[Mapping[str, Any]]) -> list[str]:
    """The name, email and phone the contact is known by (now or in earlier events)."""
    found: set[str] = set()
    for source in [
        {"name": contact.name, "email": contact.email, "phone": contact.phone} if contact else {},
        *payloads,
    ]:
        for key in ("name", "email", "phone"):
            value = source.get(key)
            if isinstance(value, str) and len(value.strip()) >= 3 and value != ERASED:
                found.add(value.strip())
    return sorted(found)


async def _mentions(
    db_session: AsyncSession, contact_id: str, identifiers: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Where else the name, email or phone appears (the erasure leaves these: staff review)."""
    mentions: dict[str, list[dict[str, Any]]] = {
        "archived_events": [],
        "outbox_events": [],
        "visits": [],
        "invitations": [],
        "gifts": [],
    }
    if not identifiers:
        return mentions

    def _in_json(column: Any) -> Any:
        return or_(
            *(
                column.contains(json.dumps(i, ensure_ascii=False)[1:-1], autoescape=True)
                for i in identifiers
            )
        )

    def _own(table: Any) -> Any:
        return (table.aggregate_id == contact_id) & table.type.in_(CONTACT_EVENTS)

    for row in await db_session.scalars(
        select(ArchivedEvent)
        .where(_in_json(ArchivedEvent.body), ~_own(ArchivedEvent))
        .order_by(ArchivedEvent.seq)
    ):
        mentions["archived_events"].append(
            {
                "event_id": row.event_id,
                "type": row.type,
                "aggregate_id": row.aggregate_id,
                "occurred_at": _json_value(row.occurred_at),
                "payload": _stored(row.body).get("payload", {}),
            }
        )
    for queued in await db_session.scalars(
        select(OutboxEvent)
        .where(_in_json(OutboxEvent.body), ~_own(OutboxEvent))
        .order_by(OutboxEvent.id)
    ):
        mentions["outbox_events"].append(
            {
                "event_id": queued.event_id,
                "type": queued.type,
                "aggregate_id": queued.aggregate_id,
                "payload": _stored(queued.body).get("payload", {}),
            }
        )
    wanted = [i.casefold() for i in identifiers]

    def _holds(*texts: Any) -> bool:
        joined = json.dumps(texts, ensure_ascii=False).casefold()
        return any(w in joined for w in wanted)

    for visit in await db_session.scalars(select(Visit).order_by(Visit.id)):
        if _holds(visit.contact, visit.dietary_notes, visit.accessibility_notes):
            mentions["visits"].append(
                {
                    "visit_id": visit.id,
                    "contact": visit.contact,
                    "dietary_notes": visit.dietary_notes,
                    "accessibility_notes": visit.accessibility_notes,
                }
            )
    for invitation in await db_session.scalars(
        select(Invitation)
        .where(or_(Invitation.note.is_not(None), Invitation.delegate_details.is_not(None)))
        .order_by(Invitation.id)
    ):
        if _holds(invitation.note, invitation.delegate_details):
            mentions["invitations"].append(
                {
                    "invitation_id": invitation.id,
                    "city_event_id": invitation.city_event_id,
                    "note": invitation.note,
                    "delegate_details": invitation.delegate_details,
                }
            )
    for gift in await db_session.scalars(select(Gift).order_by(Gift.date, Gift.id)):
        named = [p for p in (gift.giver, gift.recipient) if not _names_contact(p, contact_id)]
        if _holds(*(p.get("name") for p in named), gift.notes):
            mentions["gifts"].append(_gift_record(gift))
    return mentions


def person_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
