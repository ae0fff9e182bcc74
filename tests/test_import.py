"""Import (issue 22): partner cities, foreign missions and contacts from the CSV and XLSX files
the export writes. An export imports into an empty system as the same records (contacts
finding their partner city or mission by name), a second import of the same file finds every
row a duplicate and creates nothing, invalid rows are reported with the column and the reason
in the reader's language and nothing is stored for them, and a dry run changes nothing; on
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from conftest import InlineApi, command, migrated_settings, new_database_url, sample_partner
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twinning.crm.models import Contact, ForeignMission, PartnerCity
from twinning.export import encode, table
from twinning.streams.events import decode
from twinning.streams.store import OutboxEvent

HOSTILE = '=HYPERLINK("http://x")'
KINDS = ("partners", "missions", "contacts")


@pytest.fixture
def systems(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[InlineApi, InlineApi]]:
    """Two systems on the same kind of database: one with records, one empty."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    target_url = new_database_url(kind, tmp_path / "target", request)
    with start_blocking_portal() as portal:
        source = InlineApi(migrated_settings(database_url, tmp_path / "source"), portal)
        target = InlineApi(migrated_settings(target_url, tmp_path / "target"), portal)
        yield source, target
        source.close()
        target.close()


def _fill(api: InlineApi) -> None:
    first = {
        **sample_partner(0),
        "names": {"zh-TW": "札幌市", "en": HOSTILE, "ja": "札幌市", "de": "Sapporo"},
        "region": "Hokkaido",
        "languages": ["ja", "en"],
        "fields_of_cooperation": ["culture", "tourism"],
        "website": "https://www.city.sapporo.jp/",
        "status": "dormant",
    }
    partner_id = command(api, "POST", "/partners", json=first)["id"]
    command(api, "POST", "/partners", json=sample_partner(1))
    mission = {
        "names": {"zh-TW": "日本台灣交流協會", "en": "Japan-Taiwan Exchange Association"},
        "country": "JP",
        "kind": "representative-office",
        "address": {"en": "28 Qingcheng St, Taipei"},
        "website": "https://www.koryu.or.jp/",
    }
    mission_id = command(api, "POST", "/missions", json=mission)["id"]
    for contact in (
        {"partner_id": partner_id, "name": "Hanako Yamada", "email": "hanako@city.example.jp"},
        {"mission_id": mission_id, "name": "Ken Sato", "phone": "+886 2 2713 8000"},
    ):
        command(api, "POST", "/contacts", json={**contact, "title": "Director"})


def _records(api: InlineApi, kind: str) -> list[dict[str, Any]]:
    """What the records of `kind` say (ids, times and versions aside; a contact's partner city
    or mission by its English name)."""
    with Session(api.engine) as session:
        names = {
            r.id: r.names["en"]
            for model in (PartnerCity, ForeignMission)
            for r in session.scalars(select(model))
        }
        model = {"partners": PartnerCity, "missions": ForeignMission, "contacts": Contact}[kind]
        found = []
        for record in session.scalars(select(model)):
            facts = {
                c.key: getattr(record, c.key)
                for c in model.__table__.columns
                if c.key not in {"id", "registered_at", "updated_at", "version"}
            }
            for key in ("partner_id", "mission_id"):
                if facts.get(key):
                    facts[key] = names[facts[key]]
            found.append(facts)
    return sorted(found, key=repr)


def _outbox(api: InlineApi) -> int:
    with Session(api.engine) as session:
        return int(session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)


def _export(api: InlineApi, kind: str, fmt: str, language: str) -> bytes:
    async def run() -> bytes:
        async with api.app.state.sessions() as session:
            return encode(await table(session, kind, language=language), fmt)

    return bytes(api.portal.call(run))


def _import(
    api: InlineApi, kind: str, content: bytes, fmt: str, *, dry_run: bool, language: str = "en"
) -> dict[str, Any]:
    response = api.post(
        f"/imports/{kind}",
        files={"file": (f"{kind}.{fmt}", content)},
        data={"dry_run": "true" if dry_run else "false"},
        headers={"Accept-Language": language},
    )
    assert response.status_code == (200 if dry_run else 202), response.text
    report: dict[str, Any] = response.json()
    return report


@pytest.mark.parametrize(("fmt", "language"), [("csv", "ja"), ("xlsx", "zh-TW")])
def test_an_export_imports_into_an_empty_system_and_a_second_time_as_duplicates(
    systems: tuple[InlineApi, InlineApi], fmt: str, language: str
) -> None:
    source, target = systems
    _fill(source)
    files = {kind: _export(source, kind, fmt, language) for kind in KINDS}

    for kind in KINDS:
        before = _outbox(target)
        dry = _import(target, kind, files[kind], fmt, dry_run=True)
        assert [row["status"] for row in dry["rows"]] == ["new"] * len(_records(source, kind))
        assert _records(target, kind) == [] and _outbox(target) == before
        done = _import(target, kind, files[kind], fmt, dry_run=False)
        assert {row["status"] for row in done["rows"]} == {"created"}, done
        assert all(row["id"] and row["event_id"] for row in done["rows"])
        assert _records(target, kind) == _records(source, kind)

    with Session(target.engine) as session:
        actors = {decode(body).envelope.actor for body in session.scalars(select(OutboxEvent.body))}
    assert actors == {"user:admin"}
    assert _outbox(target) == sum(len(_records(source, kind)) for kind in KINDS)

    before = _outbox(target)
    for kind in KINDS:
        again = _import(target, kind, files[kind], fmt, dry_run=False)
        assert {row["status"] for row in again["rows"]} == {"duplicate"}, again
        assert again["counts"]["created"] == 0
        assert all(row["duplicate_of"]["id"] for row in again["rows"])
    assert _outbox(target) == before
    hanako = next(r for r in again["rows"] if r["name"] == "Hanako Yamada")
    assert hanako["duplicate_of"]["kind"] == "contact"


def _csv(*rows: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


PARTNERS_HEADER = ["Name (zh-TW)", "Name (en)", "Country code", "Kind", "Time zone", "Website"]


def test_invalid_rows_are_reported_with_the_column_and_the_reason_and_not_stored(
    inline_api: InlineApi,
) -> None:
    command(inline_api, "POST", "/partners", json=sample_partner(0))
    before = _outbox(inline_api)
    content = _csv(
        PARTNERS_HEADER,
        ["臺南市", "Tainan", "TW", "sister", "Asia/Taipei", ""],
        ["", "", "JP", "friendly", "Asia/Tokyo", ""],
        ["甲市", "Ville A", "XX", "姊妹市", "Mars/Base", "ftp://x"],
        ["測試市0", "Another name", "jp", "Sister city", "Asia/Tokyo", ""],
        ["臺南市", "", "TW", "mou", "Asia/Taipei", ""],
    )
    report = _import(inline_api, "partners", content, "csv", dry_run=False, language="zh-TW")
    rows = report["rows"]
    assert [r["status"] for r in rows] == [
        "created",
        "invalid",
        "invalid",
        "duplicate",
        "duplicate",
    ]
    assert [r["row"] for r in rows] == [2, 3, 4, 5, 6]
    assert [e["field"] for e in rows[1]["errors"]] == ["names"]
    assert {e["field"] for e in rows[2]["errors"]} == {"country", "timezone", "website"}
    by_field = {e["field"]: e for e in rows[2]["errors"]}
    assert by_field["country"]["column"] == "國家代碼"  # the column, in the reader's language
    assert "JP" in by_field["country"]["reason"] and "ISO" in by_field["country"]["reason"]
    assert "Asia/Tokyo" in by_field["timezone"]["reason"]
    assert rows[3]["duplicate_of"]["kind"] == "partner city"
    assert rows[3]["duplicate_of"]["name"] == "測試市0"
    assert rows[4]["duplicate_of"] == {"kind": "row", "row": 2, "id": None, "name": "臺南市"}
    assert report["counts"] == {"new": 0, "created": 1, "duplicate": 2, "invalid": 2}
    assert _outbox(inline_api) == before + 1
    names = {p.names.get("en") for p in inline_api.rows(PartnerCity)}
    assert names == {"Testville 0", "Tainan"}


def test_a_contact_of_an_unknown_partner_city_is_invalid(inline_api: InlineApi) -> None:
    content = _csv(
        ["Name", "Email", "Partner city ID", "Partner city"],
        ["Lin Mei", "lin@example.org", "", "Nowhere"],
        ["Wang Wei", "not an email", "", ""],
    )
    report = _import(inline_api, "contacts", content, "csv", dry_run=True)
    [first, second] = report["rows"]
    assert first["status"] == "invalid"
    assert first["errors"][0]["column"] == "Partner city"
    assert "No partner city has this name" in first["errors"][0]["reason"]
    assert [e["field"] for e in second["errors"]] == ["email"]
    assert inline_api.rows(Contact) == []


def test_a_file_that_is_not_an_export_is_refused(inline_api: InlineApi) -> None:
    for name, content, reason in (
        ("partners.csv", _csv(["Stadt", "Land"], ["Köln", "DE"]), "has no Name column"),
        ("partners.xlsx", b"PK not a workbook", "not an XLSX workbook"),
        ("partners.csv", "名稱".encode("big5"), "not UTF-8"),
        ("partners.ods", b"", "CSV or XLSX"),
    ):
        response = inline_api.post(
            "/imports/partners", files={"file": (name, content)}, data={"dry_run": "true"}
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "file" and reason in error["msg"], error


def test_viewers_cannot_import(inline_api: InlineApi) -> None:
    from conftest import bearer

    user = command_user(inline_api, "viewer")
    response = inline_api.post(
        "/imports/contacts",
        files={"file": ("c.csv", _csv(["Name"], ["A"]))},
        headers=bearer(user),
    )
    assert response.status_code == 403


def command_user(api: InlineApi, role: str) -> str:
    made = api.post("/users", json={"name": f"a.{role}", "role": role})
    assert made.status_code == 201, made.text
    token = api.post(f"/users/{made.json()['id']}/tokens", json={})
    assert token.status_code == 201, token.text
    return str(token.json()["token"])


def _cli(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    from twinning.cli import cli
    from typer.testing import CliRunner

    env: dict[str, str | None] = {key: None for key in os.environ if key.startswith("TWINNING_")}
    env["TWINNING_DATABASE_URL"] = database_url
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(data_dir)], env=env)
    return subprocess.CompletedProcess(
        list(args), result.exit_code, result.stdout_bytes, result.stderr_bytes
    )


def test_the_cli_dry_run_changes_nothing_and_the_import_names_the_user(
    inline_api: InlineApi, database_url: str, tmp_path: Path
) -> None:
    command(inline_api, "POST", "/partners", json=sample_partner(0))
    file = tmp_path / "partners.csv"
    file.write_bytes(
        _csv(
            PARTNERS_HEADER,
            ["臺南市", "Tainan", "TW", "sister", "Asia/Taipei", ""],
            ["測試市0", "", "JP", "sister", "Asia/Tokyo", ""],
            ["", "Nameless", "TW", "sister", "Asia/Taipei", "not a site"],
        )
    )
    before = (_outbox(inline_api), _records(inline_api, "partners"))

    dry = _cli(database_url, tmp_path, "import", "partners", str(file), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.decode().splitlines()
    assert lines[0].split("\t")[:3] == ["Row 2", "New", "Tainan"]
    assert lines[1].startswith("Row 3\tLikely duplicate\t") and "測試市0" in lines[1]
    assert lines[2].startswith("Row 4\tInvalid\tNameless\tWebsite: Write the website")
    assert lines[-1] == "A dry run: nothing was changed."
    assert (_outbox(inline_api), _records(inline_api, "partners")) == before

    zh = _cli(
        database_url, tmp_path, "import", "partners", str(file), "--dry-run", "--lang", "zh-TW"
    )
    assert "網站" in zh.stdout.decode()

    done = _cli(database_url, tmp_path, "import", "partners", str(file), "--user", "admin")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[0].startswith("Row 2\tImported\tTainan\t")
    [created] = [e for e in inline_api.pending() if e.type == "PartnerCityRegistered"]
    assert created.envelope.actor == "user:admin"

    for refused, reason in (
        (("import", "treaties", str(file)), b"cannot import 'treaties'"),
        (("import", "partners", str(tmp_path / "none.csv")), b"cannot read"),
        (("import", "partners", str(file), "--user", "nobody"), b"no active staff user"),
        (("import", "partners", str(file), "--format", "ods"), b"CSV or XLSX"),
    ):
        made = _cli(database_url, tmp_path, *refused)
        assert made.returncode == 1 and reason in made.stderr, made.stderr
