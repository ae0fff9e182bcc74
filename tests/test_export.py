"""Export (issue 22): the registers as CSV and XLSX (a column per language, country names
beside the codes, formulas neutralised) and a person's data as JSON, which holds everything
the erasure removes and, once they are erased, nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import InlineApi, command, sample_partner, sample_visit
from openpyxl import load_workbook
from twinning.i18n import force_locale, gettext

sys.path.insert(0, str(Path(__file__).parent / "mail"))
from mail_desk import MailDesk

HOSTILE = "=cmd|' /C calc'!A0"
EMAIL = "hanako.yamada@city.example.jp"


def _cli(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    from twinning.cli import cli
    from typer.testing import CliRunner

    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    env: dict[str, str | None] = {key: None for key in os.environ if key.startswith("TWINNING_")}
    env["TWINNING_DATABASE_URL"] = database_url
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(data_dir)], env=env)
    return subprocess.CompletedProcess(
        list(args), result.exit_code, result.stdout_bytes, result.stderr_bytes
    )


def _partners(inline_api: InlineApi) -> list[str]:
    hostile = {**sample_partner(2), "names": {"en": HOSTILE, "zh-TW": "+886 市"}, "country": "AU"}
    hostile["timezone"] = "Australia/Perth"
    return [
        str(command(inline_api, "POST", "/partners", json=partner)["id"])
        for partner in (sample_partner(0), sample_partner(1), hostile)
    ]


def _rows_by_id(header: list[Any], rows: list[list[Any]]) -> dict[str, dict[str, Any]]:
    return {str(row[0]): dict(zip(header, row, strict=True)) for row in rows}


def test_partners_export_as_csv_and_xlsx_with_a_column_per_language(
    inline_api: InlineApi, database_url: str, tmp_path: Path
) -> None:
    ids = _partners(inline_api)

    made = _cli(database_url, tmp_path, "export", "partners", "--format", "csv", "--lang", "en")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
    [header, *rows] = list(csv.reader(io.StringIO(made.stdout.decode("utf-8-sig"))))
    for language in ("zh-TW", "en", "ja", "ko", "es"):
        assert f"Name ({language})" in header
    assert {"Country code", "Country"} <= set(header)
    from_csv = _rows_by_id(header, rows)
    assert set(from_csv) == set(ids)
    first = from_csv[ids[0]]
    assert (first["Name (zh-TW)"], first["Name (en)"], first["Name (ja)"]) == (
        "測試市0",
        "Testville 0",
        "テスト市0",
    )
    assert (first["Country code"], first["Country"]) == ("JP", "Japan")
    hostile = from_csv[ids[2]]
    assert hostile["Name (en)"] == "'" + HOSTILE
    assert hostile["Name (zh-TW)"] == "'+886 市"
    assert hostile["Country"] == "Australia"

    target = tmp_path / "partners.xlsx"
    made = _cli(
        database_url, tmp_path, "export", "partners", "--format", "xlsx", "--to", str(target)
    )
    assert made.returncode == 0, made.stderr
    assert b"wrote 3 partners" in made.stderr
    sheet = load_workbook(target).active
    assert sheet is not None
    [header, *rows] = [list(row) for row in sheet.iter_rows(values_only=True)]
    from_xlsx = _rows_by_id(header, rows)
    assert set(from_xlsx) == set(ids)
    assert ids[1] in from_xlsx and "テスト市1" in from_xlsx[ids[1]].values()
    with force_locale("zh-TW"):  # the default language
        country, name_en = gettext("Country"), gettext("Name (%(language)s)", language="en")
    assert from_xlsx[ids[0]][country] == "日本"
    assert from_xlsx[ids[2]][name_en] == "'" + HOSTILE
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)

    for refused, reason in (
        (("export", "treaties"), b"cannot export 'treaties'"),
        (("export", "partners", "--format", "ods"), b"unknown format 'ods'"),
        (("export", "partners", "--lang", "xx"), b"unknown language 'xx'"),
        (("export", "person"), b"name the contact"),
    ):
        made = _cli(database_url, tmp_path, *refused)
        assert made.returncode == 1 and reason in made.stderr, made.stderr
        assert made.stderr.strip().count(b"\n") == 0


def test_every_register_exports(inline_api: InlineApi, database_url: str, tmp_path: Path) -> None:
    [partner_id, *_] = _partners(inline_api)
    command(inline_api, "POST", "/visits", json=sample_visit(delegation={"partner_id": partner_id}))
    for kind in ("missions", "exchanges", "visits", "city-events", "contacts"):
        made = _cli(database_url, tmp_path, "export", kind, "--lang", "en")
        assert made.returncode == 0, (kind, made.stderr)
        [header, *rows] = list(csv.reader(io.StringIO(made.stdout.decode("utf-8-sig"))))
        assert header[0] == "ID"
        assert len(rows) == (1 if kind == "visits" else 0), kind


def _person(database_url: str, tmp_path: Path, contact_id: str) -> dict[str, Any] | None:
    made = _cli(database_url, tmp_path, "export", "person", contact_id)
    if made.returncode == 1:
        assert b"no personal data is held about contact" in made.stderr
        return None
    assert made.returncode == 0, made.stderr
    document: dict[str, Any] = json.loads(made.stdout)
    return document


def test_a_persons_data_holds_what_the_erasure_removes_then_nothing(
    inline_api: InlineApi, database_url: str, tmp_path: Path
) -> None:
    [partner_id, *_] = _partners(inline_api)
    contact = {
        "partner_id": partner_id,
        "name": "Hanako Yamada",
        "email": EMAIL,
        "phone": "+81 3-1234-5678",
    }
    contact_id = str(command(inline_api, "POST", "/contacts", json=contact)["id"])
    command(inline_api, "PATCH", f"/contacts/{contact_id}", json={"phone": "+81 3-9999-0000"})
    visit = sample_visit(
        delegation={"partner_id": partner_id}, contact={"name": "Hanako Yamada", "email": EMAIL}
    )
    command(inline_api, "POST", "/visits", json=visit)

    document = _person(database_url, tmp_path, contact_id)
    assert document is not None
    erased = document["erased_by_erasure"]
    assert erased["contact"]["email"] == EMAIL
    assert erased["contact"]["phone"] == "+81 3-9999-0000"
    assert [e["type"] for e in erased["archived_events"]] == ["ContactRegistered", "ContactUpdated"]
    assert erased["archived_events"][0]["payload"]["phone"] == "+81 3-1234-5678"
    assert len(erased["outbox_events"]) == 2
    mentions = document["mentions_elsewhere"]
    assert [e["type"] for e in mentions["archived_events"]] == ["VisitRequested"]
    assert mentions["visits"][0]["contact"]["email"] == EMAIL

    # Everything the erasure removes is in the export.
    exported = json.dumps(erased, ensure_ascii=False)
    for secret in ("Hanako Yamada", EMAIL, "1234-5678", "9999-0000"):
        assert secret in exported

    command(inline_api, "DELETE", f"/contacts/{contact_id}")
    assert _person(database_url, tmp_path, contact_id) is None
    assert _person(database_url, tmp_path, "nobody") is None


@pytest.mark.parametrize("value", ["=1+1", "+886", "-2", "@SUM(A1)", "plain", 5])
def test_formula_starts_are_neutralised(value: Any) -> None:
    from twinning.export import neutralised

    expected = "'" + value if isinstance(value, str) and value[0] in "=+-@" else value
    assert neutralised(value) == expected


def _stored_texts(inline_api: InlineApi) -> dict[str, set[str]]:
    """Every text stored in every table (JSON bodies opened up), by table."""
    from sqlalchemy import inspect, select, text

    def leaves(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            try:
                opened = json.loads(value)
            except ValueError:
                yield value
                return
            if isinstance(opened, dict | list):
                yield from leaves(opened)
            else:
                yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from leaves(item)
        elif isinstance(value, list):
            for item in value:
                yield from leaves(item)

    with inline_api.engine.connect() as connection:
        found: dict[str, set[str]] = {}
        for name in inspect(connection).get_table_names():
            rows = connection.execute(select(text("*")).select_from(text(f'"{name}"')))
            found[name] = {leaf for row in rows for cell in row for leaf in leaves(cell)}
    return found


def test_a_persons_data_holds_every_text_the_erasure_removes_from_any_table(
    inline_api: InlineApi, database_url: str, tmp_path: Path
) -> None:
    """Whatever the erasure takes out of the database, wherever it was, the export held it."""
    [partner_id, *_] = _partners(inline_api)
    contact = {
        "partner_id": partner_id,
        "name": "Kenji Watanabe",
        "title": "Director of International Relations",
        "organisation": "Sapporo International Communication Plaza",
        "email": "kenji.watanabe@plaza.example.jp",
        "phone": "+81 11 211 3670",
        "preferred_language": "ja",
    }
    contact_id = str(command(inline_api, "POST", "/contacts", json=contact)["id"])
    command(inline_api, "PATCH", f"/contacts/{contact_id}", json={"title": "Deputy Director"})
    desk = MailDesk(inline_api, inline_api.settings)  # mail to them, kept in the Maildir
    desk.invite(desk.city_event(), partner_id)
    assert desk.notify() == 1
    assert desk.send() == 1
    document = _person(database_url, tmp_path, contact_id)
    assert document is not None
    assert document["erased_by_erasure"]["mail"][0]["state"] == "sent"
    before = _stored_texts(inline_api)

    command(inline_api, "DELETE", f"/contacts/{contact_id}")
    desk.notify()  # the worker's mail notifier takes the address out of the mail outbox

    after = _stored_texts(inline_api)
    removed = {table: texts - after.get(table, set()) for table, texts in before.items()}
    removed = {table: texts for table, texts in removed.items() if texts}
    assert removed, "the erasure removed nothing"
    assert {"contacts", "event_archive", "outbox", "mail_messages"} <= set(removed)
    exported = json.dumps(document["erased_by_erasure"], ensure_ascii=False)
    missing = {
        table: sorted(t for t in texts if _as_exported(t) not in exported)
        for table, texts in removed.items()
    }
    assert {table: texts for table, texts in missing.items() if texts} == {}


def _as_exported(stored: str) -> str:
    """A stored text as the JSON export writes it (a time as ISO 8601, with its T)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(stored).isoformat()
    except ValueError:
        return json.dumps(stored, ensure_ascii=False)[1:-1]


def _interpreter(database_url: str, tmp_path: Path, interpreter_id: str) -> dict[str, Any] | None:
    made = _cli(database_url, tmp_path, "export", "interpreter", interpreter_id)
    if made.returncode == 1:
        assert f"no interpreter {interpreter_id} is on the roster".encode() in made.stderr
        return None
    assert made.returncode == 0, made.stderr
    document: dict[str, Any] = json.loads(made.stdout)
    return document


def test_an_interpreters_data_holds_their_contact_and_bookings_and_what_the_erasure_removes(
    inline_api: InlineApi, database_url: str, tmp_path: Path
) -> None:
    body = {
        "name": "Chen Ya-ting",
        "language_pairs": [{"source": "zh-TW", "target": "ja"}],
        "contact": {"email": "chen.yating@example.org", "phone": "+886 3 332 2101"},
    }
    chen = str(command(inline_api, "POST", "/interpreters", json=body)["id"])
    later = {"contact": {"email": "chen.yating@example.org", "phone": "+886 912 345 678"}}
    command(inline_api, "PATCH", f"/interpreters/{chen}", json=later)
    assert _interpreter(database_url, tmp_path, "nobody") is None

    document = _interpreter(database_url, tmp_path, chen)
    assert document is not None
    assert document["subject"] == {"kind": "interpreter", "id": chen}
    erased = document["erased_by_erasure"]
    assert erased["contact"]["phone"] == "+886 912 345 678"
    assert [e["type"] for e in erased["archived_events"]] == [
        "InterpreterRegistered",
        "InterpreterUpdated",
    ]
    assert document["kept"]["name"] == "Chen Ya-ting"
    before = _stored_texts(inline_api)

    command(inline_api, "DELETE", f"/interpreters/{chen}/contact")

    after = _stored_texts(inline_api)
    removed = {table: texts - after.get(table, set()) for table, texts in before.items()}
    removed = {table: texts for table, texts in removed.items() if texts}
    assert {"interpreters", "event_archive"} <= set(removed)
    exported = json.dumps(erased, ensure_ascii=False)
    missing = {
        table: sorted(t for t in texts if _as_exported(t) not in exported)
        for table, texts in removed.items()
    }
    assert {table: texts for table, texts in missing.items() if texts} == {}

    gone = _interpreter(database_url, tmp_path, chen)
    assert gone is not None
    assert gone["erased_by_erasure"] == {
        "contact": None,
        "archived_events": [],
        "outbox_events": [],
        "parked_events": [],
    }
    assert gone["kept"]["contact_erased_at"] is not None
