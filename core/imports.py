"""Import: partner cities, foreign missions and contacts from the CSV or XLSX files that the
export writes (`twinning.export`), so that an export imports back as it was.

A file is read by its header row, in any of the catalogs' languages (the export writes it in
the reader's): a multilingual text takes one column per language (`Name (en)`), a list one
cell of `; `-separated values, a kind or status its value or its label in any language.
Columns that only describe (the ID, the country's name, the registration times) are ignored:
an imported record gets a new id, as one registered through the API does. A contact belongs
to the partner city or foreign mission its ID column names, or else the one its name column
names (one record with that name in some language).

Each row is one of:
- new: it would be registered (a dry run) or was (one event, the importer as its actor);
- a likely duplicate of an existing record, or of an earlier row of the file: the same name
  in some language and the same country (a contact: the same name at the same partner city
  or mission). The existing records include those registered but not yet applied;
- invalid: the columns and the reason, in the reader's language.

What a row must be is what the API's command takes: the row becomes the command's payload
(the event contract validates it) and goes through the same domain service command
(`crm.service.register_*`). Nothing here validates a second time.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from pathlib import PurePath
from typing import Any, Literal

from babel.support import LazyProxy
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm import service as crm
from twinning.crm.models import Contact, ForeignMission, PartnerCity
from twinning.crm.schemas import ContactCreate, ForeignMissionCreate, PartnerCityCreate
from twinning.export import FORMULA_STARTS
from twinning.i18n import L_, force_locale, gettext, localized, supported_locales
from twinning.i18n.labels import label
from twinning.refusals import InvalidField, Refusal, kind_name
from twinning.streams.events import (
    Event,
    MissionKind,
    PartnerKind,
    PartnerStatus,
    Payload,
    decode,
)
from twinning.streams.store import ArchivedEvent, DeadLetter, OutboxEvent

#: What can be imported, in the order the CLI lists them.
KINDS = ("partners", "missions", "contacts")
FORMATS = ("csv", "xlsx")
#: The most rows one file may hold (a register of an office is far smaller).
MAX_ROWS = 5000
#: The kind of record of each import, as `twinning.refusals` names it.
RECORD_KINDS = {"partners": "partner city", "missions": "foreign mission", "contacts": "contact"}

Status = Literal["new", "created", "duplicate", "invalid"]


# --- the columns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the export that the import reads: `header` is the export's (a multilingual
    one has a `%(language)s` placeholder), `label` how a report names the field, `expected`
    what to write in it."""

    field: str
    header: LazyProxy
    expected: LazyProxy
    label: LazyProxy | None = None
    multilingual: bool = False
    listed: bool = False
    choices: type[StrEnum] | None = None

    def named(self) -> str:
        return str(self.label if self.label is not None else self.header)


def _one_of(choices: type[StrEnum]) -> LazyProxy:
    return L_("Write one of: %(values)s", values=", ".join(member.value for member in choices))


WEBSITE = L_("Write the website's full address, starting with https://")
SHORT_TEXT = L_("Write plain text, up to 200 characters")
BELONGS_TO = L_(
    "Name the partner city or the foreign mission the contact works for (its ID or its name),"
    " one of them"
)

COLUMNS: Mapping[str, tuple[Column, ...]] = {
    "partners": (
        Column(
            "names",
            L_("Name (%(language)s)"),
            L_("Write the city's name in one language at least, a column per language"),
            label=L_("Name"),
            multilingual=True,
        ),
        Column(
            "country",
            L_("Country code"),
            L_("Write the country as its two-letter ISO code, such as JP"),
        ),
        Column("kind", L_("Kind"), _one_of(PartnerKind), choices=PartnerKind),
        Column("status", L_("Status"), _one_of(PartnerStatus), choices=PartnerStatus),
        Column("region", L_("Region"), SHORT_TEXT),
        Column("timezone", L_("Time zone"), L_("Write an IANA time zone, such as Asia/Tokyo")),
        Column(
            "agreement_date",
            L_("Agreement date"),
            L_("Write the day the agreement was signed as year-month-day, such as 2019-04-01"),
        ),
        Column(
            "agreement_scope",
            L_("Agreement scope"),
            L_("Write plain text, up to 2000 characters"),
        ),
        Column(
            "languages",
            L_("Languages"),
            L_("Write language codes separated by semicolons, such as ja; en"),
            listed=True,
        ),
        Column(
            "fields_of_cooperation",
            L_("Fields of cooperation"),
            L_("Write the fields separated by semicolons, each up to 100 characters"),
            listed=True,
        ),
        Column("website", L_("Website"), WEBSITE),
    ),
    "missions": (
        Column(
            "names",
            L_("Name (%(language)s)"),
            L_("Write the mission's name in one language at least, a column per language"),
            label=L_("Name"),
            multilingual=True,
        ),
        Column(
            "country",
            L_("Country code"),
            L_("Write the country the mission represents as its ISO code, such as JP"),
        ),
        Column("kind", L_("Kind"), _one_of(MissionKind), choices=MissionKind),
        Column(
            "address",
            L_("Address (%(language)s)"),
            L_("Write the address in plain text"),
            label=L_("Address"),
            multilingual=True,
        ),
        Column("website", L_("Website"), WEBSITE),
    ),
    "contacts": (
        Column("name", L_("Name"), L_("Write the contact's name, up to 200 characters")),
        Column("title", L_("Job title"), SHORT_TEXT),
        Column("organisation", L_("Organisation"), SHORT_TEXT),
        Column("email", L_("Email"), L_("Write an email address, such as name@example.org")),
        Column("phone", L_("Phone"), L_("Write a phone number in digits, such as +81 11 211 2111")),
        Column(
            "preferred_language",
            L_("Preferred language"),
            L_("Write a language code, such as ja"),
        ),
        Column("partner_id", L_("Partner city ID"), BELONGS_TO),
        Column("partner", L_("Partner city"), BELONGS_TO),
        Column("mission_id", L_("Foreign mission ID"), BELONGS_TO),
        Column("mission", L_("Foreign mission"), BELONGS_TO),
    ),
}
COMMANDS: Mapping[str, type[Payload]] = {
    "partners": PartnerCityCreate,
    "missions": ForeignMissionCreate,
    "contacts": ContactCreate,
}


# --- the report ----------------------------------------------------------------------------


class RowError(BaseModel):
    """One column of a row that cannot be imported, and why (in the reader's language)."""

    field: str = Field(description="The command's field (`names`, `country`).")
    column: str = Field(description="The column, as the reader's language names it.")
    reason: str


class Existing(BaseModel):
    """The record (or the earlier row of the file) that a row is a likely duplicate of."""

    kind: str = Field(description="`partner city`, `foreign mission`, `contact`, or `row`.")
    id: str | None = None
    row: int | None = Field(default=None, description="The earlier row of the same file.")
    name: str


class RowReport(BaseModel):
    row: int = Field(description="The row's number as a spreadsheet shows it (the header: 1).")
    status: Status = Field(
        description="`new` (a dry run: would be registered), `created`, `duplicate` (not"
        " imported) or `invalid` (not imported)."
    )
    name: str = Field(description="What the row names, in the reader's language.")
    duplicate_of: Existing | None = None
    errors: list[RowError] = Field(default_factory=list)
    id: str | None = Field(default=None, description="The new record's id (`created`).")
    event_id: str | None = None


class ImportReport(BaseModel):
    kind: str
    dry_run: bool
    rows: list[RowReport]
    counts: dict[str, int] = Field(description="Rows per status.")
    ignored_columns: list[str] = Field(
        description="Columns that are not imported (ids, names beside codes, unknown ones)."
    )


# --- reading a file ------------------------------------------------------------------------


def format_of(filename: str, given: str | None = None) -> str:
    """The file's format: `given`, else its extension; refused when it is neither."""
    fmt = (given or PurePath(filename).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InvalidField("file", "Give a CSV or XLSX file (a name ending in .csv or .xlsx)")
    return fmt


def _text(value: Any) -> str | None:
    """A cell as text (None when empty), without the apostrophe the export puts before a text
    a spreadsheet would take for a formula."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        text = text[1:]
    return text or None


def _csv_rows(content: bytes) -> Iterator[list[Any]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidField(
            "file", "The file is not UTF-8 text: save it as CSV UTF-8 and upload it again"
        ) from None
    # Excel writes `;` between cells where the decimal mark is a comma: the header tells.
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(content: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    # What a file that is not a workbook, or a damaged one, raises (its XML: a SyntaxError).
    unreadable = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, SyntaxError)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                yield list(row)
        finally:
            book.close()
    except (*unreadable, OSError, IndexError):
        raise InvalidField(
            "file", "The file is not an XLSX workbook: save it as XLSX and upload it again"
        ) from None


def read_table(content: bytes, fmt: str) -> tuple[list[str | None], list[tuple[int, list[Any]]]]:
    """The header and the rows that hold something, each with its number in the file."""
    rows = _csv_rows(content) if fmt == "csv" else _xlsx_rows(content)
    header: list[str | None] | None = None
    found: list[tuple[int, list[Any]]] = []
    for number, row in enumerate(rows, start=1):
        cells = [_text(value) for value in row]
        if not any(cells):
            continue
        if header is None:
            header = cells
            continue
        if len(found) == MAX_ROWS:
            raise InvalidField(
                "file", "The file holds more than %(count)s rows: split it", count=MAX_ROWS
            )
        found.append((number, cells))
    if header is None:
        raise InvalidField("file", "The file is empty: it has no header row")
    return header, found


# --- the header ----------------------------------------------------------------------------


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Layout:
    """Which column of the file holds what: `at[i]` is (field, language tag or None)."""

    at: dict[int, tuple[str, str | None]]
    ignored: list[str]


@cache
def _header_patterns(kind: str, locales: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    """Every header of `kind`'s columns in every catalog language, as patterns (a
    multilingual column's with the language tag as the group `tag`)."""
    patterns = []
    for locale in locales:
        with force_locale(locale):
            for column in COLUMNS[kind]:
                heading = re.escape(" ".join(str(column.header).split()))
                heading = heading.replace(re.escape("%(language)s"), r"(?P<tag>[A-Za-z0-9-]{2,35})")
                patterns.append((re.compile(heading, re.IGNORECASE), column.field))
    return patterns


def layout_of(kind: str, header: Sequence[str | None]) -> Layout:
    """Where each column of `kind` is in `header`; refused when not even the first (the
    name) is there. A column given twice: the first is read."""
    at: dict[int, tuple[str, str | None]] = {}
    ignored: list[str] = []
    for index, heading in enumerate(header):
        if heading is None:
            continue
        for pattern, name in _header_patterns(kind, supported_locales()):
            if matched := pattern.fullmatch(" ".join(heading.split())):
                where = (name, matched.groupdict().get("tag"))
                if where not in at.values():
                    at[index] = where
                break
        else:
            ignored.append(heading)
    if COLUMNS[kind][0].field not in {name for name, _tag in at.values()}:
        raise InvalidField(
            "file",
            "The file has no %(column)s column: its first row must be the header of an export"
            " of %(kinds)s",
            column=COLUMNS[kind][0].label or COLUMNS[kind][0].header,
            kinds=LazyProxy(kind_name, RECORD_KINDS[kind], plural=True, enable_cache=False),
        )
    return Layout(at=at, ignored=ignored)


# --- a row as a command --------------------------------------------------------------------


@cache
def _choice_values(choices: type[StrEnum]) -> dict[str, str]:
    """A kind's or status's value by its value or its label in any language (plain)."""
    found = {_plain(member.value): member.value for member in choices}
    for locale in supported_locales():
        with force_locale(locale):
            for member in choices:
                found.setdefault(_plain(label(member)), member.value)  # type: ignore[arg-type]
    return found


def command_of(kind: str, layout: Layout, cells: Sequence[str | None]) -> dict[str, Any]:
    """What a row describes, as the command's fields (an empty cell: the field left out)."""
    columns = {column.field: column for column in COLUMNS[kind]}
    data: dict[str, Any] = {}
    for index, (name, tag) in layout.at.items():
        value = cells[index] if index < len(cells) else None
        if value is None:
            continue
        column = columns[name]
        if column.multilingual:
            data.setdefault(name, {})[tag] = value
        elif column.listed:
            data[name] = [v.strip() for v in re.split(r"[;；]", value) if v.strip()]
        elif column.choices is not None:
            data[name] = _choice_values(column.choices).get(_plain(value), value)
        else:
            data[name] = value
    return data


# --- what is there already -------------------------------------------------------------------


@dataclass
class Known:
    """A record a row may duplicate or refer to (or an earlier row of the file, `row`): its
    names, and its place (a country; a contact's partner city or mission)."""

    id: str | None
    names: Mapping[str, str]
    place: str | None
    row: int | None = None

    def plain_names(self) -> set[str]:
        return {_plain(n) for n in self.names.values() if n.strip()}

    def name(self, language: str) -> str:
        return localized(self.names, language) or next(iter(self.names.values()), "")


async def _pending(db_session: AsyncSession, event_type: str) -> list[tuple[str, Any]]:
    """The registrations of `event_type` committed but not applied yet: (aggregate id,
    payload)."""
    bodies = await db_session.scalars(
        select(OutboxEvent.body)
        .where(
            OutboxEvent.type == event_type,
            ~exists().where(ArchivedEvent.event_id == OutboxEvent.event_id),
            ~exists().where(DeadLetter.event_id == OutboxEvent.event_id),
        )
        .order_by(OutboxEvent.id)
    )
    return [(event.aggregate_id, event.payload) for event in map(decode, bodies)]


async def _known(db_session: AsyncSession, kind: str) -> list[Known]:
    """The records of `kind`: the read model's, and those registered but not applied yet (read
    first: a registration applied in between is then in both, never in neither)."""
    model, registered = {
        "partners": (PartnerCity, "PartnerCityRegistered"),
        "missions": (ForeignMission, "ForeignMissionRegistered"),
        "contacts": (Contact, "ContactRegistered"),
    }[kind]
    pending = await _pending(db_session, registered)
    stored: Sequence[Any] = (await db_session.scalars(select(model))).all()
    if kind == "contacts":
        return [Known(c.id, {"": c.name}, c.partner_id or c.mission_id) for c in stored] + [
            Known(aggregate_id, {"": p.name}, p.partner_id or p.mission_id)
            for aggregate_id, p in pending
        ]
    return [Known(r.id, dict(r.names), r.country) for r in stored] + [
        Known(aggregate_id, dict(p.names), p.country) for aggregate_id, p in pending
    ]


# --- importing ---------------------------------------------------------------------------------


@dataclass
class _Importer:
    """One file's rows, one at a time, against what is there and the file's earlier rows."""

    db_session: AsyncSession
    kind: str
    language: str
    actor: str
    partners: list[Known] = field(default_factory=list)
    missions: list[Known] = field(default_factory=list)
    existing: list[Known] = field(default_factory=list)

    async def load(self) -> None:
        self.partners = await _known(self.db_session, "partners")
        self.missions = await _known(self.db_session, "missions")
        self.existing = {"partners": self.partners, "missions": self.missions}.get(self.kind, [])
        if self.kind == "contacts":
            self.existing = await _known(self.db_session, "contacts")

    def error(self, name: str, reason: str | None = None) -> RowError:
        column = next(c for c in COLUMNS[self.kind] if c.field == name)
        return RowError(field=name, column=column.named(), reason=reason or str(column.expected))

    def errors_of(self, refused: ValidationError) -> list[RowError]:
        """The columns a command's refusal names (its own rules: the first column, or a
        contact's partner city)."""
        names = {c.field for c in COLUMNS[self.kind]}
        fallback = "partner" if self.kind == "contacts" else COLUMNS[self.kind][0].field
        found = [str(e["loc"][0]) if e["loc"] else fallback for e in refused.errors()]
        return [self.error(f if f in names else fallback) for f in dict.fromkeys(found)]

    def resolve(self, data: dict[str, Any]) -> list[RowError]:
        """A contact's partner city and mission: the ID when it is known (or no name is
        given), else the name (one record with that name in some language)."""
        problems = []
        for key, records in (("partner", self.partners), ("mission", self.missions)):
            given_id, name = data.get(f"{key}_id"), data.pop(key, None)
            if name is None or any(r.id == given_id for r in records):
                continue
            found = {r.id for r in records if _plain(name) in r.plain_names()}
            if len(found) == 1:
                data[f"{key}_id"] = found.pop()
                continue
            reason = (
                L_("No %(kind)s has this name: register it first, or write its ID")
                if not found
                else L_("More than one %(kind)s has this name: write its ID")
            )
            record_kind = "partner city" if key == "partner" else "foreign mission"
            problems.append(self.error(key, str(reason) % {"kind": kind_name(record_kind)}))
        return problems

    def duplicate(self, command: Any, row: int, earlier: list[Known]) -> Existing | None:
        """The record, or earlier row, that `command` is likely a second copy of; else None
        (and the row is remembered for the rows after it)."""
        if isinstance(command, ContactCreate):
            candidate = Known(None, {"": command.name}, command.partner_id or command.mission_id)
        else:
            candidate = Known(None, dict(command.names), command.country)
        for record in [*self.existing, *earlier]:
            if record.place == candidate.place and record.plain_names() & candidate.plain_names():
                if record.row is not None:
                    return Existing(kind="row", row=record.row, name=record.name(self.language))
                return Existing(
                    kind=RECORD_KINDS[self.kind], id=record.id, name=record.name(self.language)
                )
        earlier.append(Known(None, candidate.names, candidate.place, row=row))
        return None

    async def register(self, command: Payload) -> tuple[str, str]:
        """The API's command: (the new record's id, its event's id)."""
        registers: dict[str, Callable[..., Awaitable[Event]]] = {
            "partners": crm.register_partner,
            "missions": crm.register_mission,
            "contacts": crm.register_contact,
        }
        event = await registers[self.kind](
            db_session=self.db_session,
            data=command,
            actor=self.actor,
        )
        return event.aggregate_id, event.event_id

    def name_of(self, data: Mapping[str, Any]) -> str:
        if self.kind == "contacts":
            return str(data.get("name") or "")
        names = data.get("names")
        return (localized(names, self.language) or "") if isinstance(names, dict) else ""

    async def row(self, number: int, data: dict[str, Any], earlier: list[Known]) -> RowReport:
        report = RowReport(row=number, status="new", name=self.name_of(data))
        problems = self.resolve(data) if self.kind == "contacts" else []
        try:
            command = COMMANDS[self.kind].model_validate(data)
        except ValidationError as refused:
            problems += self.errors_of(refused)
        if problems:
            return report.model_copy(update={"status": "invalid", "errors": problems})
        if (duplicate := self.duplicate(command, number, earlier)) is not None:
            return report.model_copy(update={"status": "duplicate", "duplicate_of": duplicate})
        try:
            record_id, event_id = await self.register(command)
        except Refusal as refused:
            where = "partner" if self.kind == "contacts" else COLUMNS[self.kind][0].field
            problem = self.error(where, refused.text(self.language))
            return report.model_copy(update={"status": "invalid", "errors": [problem]})
        return report.model_copy(
            update={"status": "created", "id": record_id, "event_id": event_id}
        )


async def import_file(
    *,
    db_session: AsyncSession,
    kind: str,
    content: bytes,
    fmt: str,
    dry_run: bool,
    actor: str,
    language: str,
) -> ImportReport:
    """Read a file of `kind` (`fmt`: csv or xlsx) and report each row, in `language` (see the
    module's docstring). Every new row goes through its register command, one event each with
    `actor` as its actor, in the caller's transaction (the caller commits); a dry run rolls
    them back, so that it finds exactly what the import would. Refuses (`InvalidField` on
    `file`) a file that cannot be read, or whose header is not an export's of `kind`."""
    if kind not in KINDS:
        raise InvalidField("kind", "Choose partners, missions or contacts")
    if fmt not in FORMATS:
        raise InvalidField("file", "Give a CSV or XLSX file (a name ending in .csv or .xlsx)")
    with force_locale(language):
        header, rows = read_table(content, fmt)
        layout = layout_of(kind, header)
        importer = _Importer(db_session, kind, language, actor)
        await importer.load()
        earlier: list[Known] = []
        reports = [
            await importer.row(number, command_of(kind, layout, cells), earlier)
            for number, cells in rows
        ]
    if dry_run:
        await db_session.rollback()
        reports = [
            r.model_copy(update={"status": "new", "id": None, "event_id": None})
            if r.status == "created"
            else r
            for r in reports
        ]
    counts = dict.fromkeys(("new", "created", "duplicate", "invalid"), 0)
    for report in reports:
        counts[report.status] += 1
    return ImportReport(
        kind=kind, dry_run=dry_run, rows=reports, counts=counts, ignored_columns=layout.ignored
    )


# --- the report as text ------------------------------------------------------------------------

STATUS_LABELS: Mapping[str, LazyProxy] = {
    "new": L_("New"),
    "created": L_("Imported"),
    "duplicate": L_("Likely duplicate"),
    "invalid": L_("Invalid"),
}


def duplicate_text(existing: Existing, *, with_id: bool = True) -> str:
    """What a likely duplicate repeats, in the current locale (a page links the record
    instead of naming its id)."""
    if existing.row is not None:
        return gettext("The same as row %(row)s of this file", row=existing.row)
    if not with_id:
        return gettext(
            "The same as %(kind)s %(name)s", kind=kind_name(existing.kind), name=existing.name
        )
    return gettext(
        "The same as %(kind)s %(name)s (%(id)s)",
        kind=kind_name(existing.kind),
        name=existing.name,
        id=existing.id or "",
    )


def report_lines(report: ImportReport, language: str) -> list[str]:
    """The report as lines of text (the CLI's): a line per row, then the counts."""
    with force_locale(language):
        lines = []
        for row in report.rows:
            if row.duplicate_of is not None:
                detail = duplicate_text(row.duplicate_of)
            else:
                detail = "; ".join(f"{e.column}: {e.reason}" for e in row.errors) or (row.id or "")
            cells = [gettext("Row %(row)s", row=row.row), str(STATUS_LABELS[row.status])]
            lines.append("\t".join([*cells, row.name, detail]).rstrip())
        counts = [
            gettext("%(label)s: %(count)s", label=STATUS_LABELS[status], count=count)
            for status, count in report.counts.items()
            if count or status == ("new" if report.dry_run else "created")
        ]
        lines.append(" · ".join(counts))
        lines.append(
            gettext("A dry run: nothing was changed.")
            if report.dry_run
            else gettext("The new records are saved; each shows once the system has applied it.")
        )
    return lines
