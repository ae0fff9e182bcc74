"""Letters of a visit as PDFs, from templates staff edit: the text a reader finds in the PDF
(zh-TW and English), the versions of a template, and the sandbox a template runs in."""

from __future__ import annotations

import asyncio
import io
import subprocess
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from conftest import InlineApi, accepted, shots_dir
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.letters import service as letters
from twinning.letters.render import PLACEHOLDERS, Letter, fill, letter_html
from twinning.letters.schemas import TemplateSave
from twinning.publicity.content import office_contact
from twinning.refusals import Conflict, InvalidField

T = TypeVar("T")
NOW = datetime(2030, 4, 1, 2, 0, tzinfo=UTC)
VALUES = {name: f"<{name}>" for name in PLACEHOLDERS}


def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = make_async_engine(settings.async_database_url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def a_visit(api: InlineApi) -> str:
    partner = {
        "names": {"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"},
        "country": "JP",
        "kind": "sister",
        "timezone": "Asia/Tokyo",
        "agreement_date": "2010-05-01",
    }
    partner_id = accepted(api.post("/partners", json=partner))["id"]
    mayor = {
        "names": {"zh-TW": "林美玲", "en": "Lin Mei-ling"},
        "title": {"zh-TW": "市長", "en": "Mayor"},
        "protocol_rank": 1,
    }
    accepted(api.post("/officials", json=mayor))
    visit = {
        "delegation": {"partner_id": partner_id},
        "head_of_delegation": {
            "names": {"zh-TW": "秋元克廣", "en": "Katsuhiro Akimoto"},
            "title": {"zh-TW": "市長", "en": "Mayor"},
            "protocol_rank": 1,
        },
        "members": 6,
        "purpose": {"zh-TW": "冬季城市交流", "en": "a winter-cities exchange"},
        "requested_from": "2030-05-12",
        "requested_to": "2030-05-15",
        "languages": ["ja", "en"],
    }
    return str(accepted(api.post("/visits", json=visit))["id"])


def pdf_text(content: bytes, name: str) -> str:
    """The PDF's text (and the PDF with its pages as PNGs, to look at, where
    `TWINNING_TEST_SHOTS` asks for them)."""
    shots = shots_dir()
    if shots is not None:
        path = shots / f"{name}.pdf"
        path.write_bytes(content)
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(shots / name)], check=True)
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_visits_invitation_letter_names_the_partner_the_head_the_days_and_the_signatory(
    inline_api: InlineApi, database_url: str
) -> None:
    visit_id = a_visit(inline_api)
    zh = inline_api.get(f"/visits/{visit_id}/letters/invitation", params={"lang": "zh-TW"})
    assert zh.status_code == 200, zh.text
    assert zh.headers["content-type"] == "application/pdf"
    text = pdf_text(zh.content, f"invitation-zh-TW-{database_url.split(':')[0]}")
    for expected in ("札幌市", "秋元克廣市長", "冬季城市交流", "林美玲", "市長", "2030年5月12日"):
        assert expected in text.replace(" ", ""), expected

    en = inline_api.get(f"/visits/{visit_id}/letters/visa-support", params={"lang": "en"})
    assert en.status_code == 200, en.text
    text = " ".join(pdf_text(en.content, "visa-support-en").split())
    for expected in (
        "To whom it may concern",
        "the delegation of Sapporo, led by Mayor Katsuhiro Akimoto, with 6 members,",
        "May 12",
        "Lin Mei-ling",
    ):
        assert expected in text, expected


def test_a_letter_is_refused_for_an_unknown_visit_kind_or_language(
    inline_api: InlineApi,
) -> None:
    visit_id = a_visit(inline_api)
    assert inline_api.get("/visits/nope/letters/invitation").status_code == 404
    assert inline_api.get(f"/visits/{visit_id}/letters/poem").status_code == 422
    assert inline_api.get(f"/visits/{visit_id}/letters/invitation?lang=fr").status_code == 404


def test_each_save_is_a_new_version_and_the_letter_uses_the_last(
    inline_api: InlineApi,
) -> None:
    settings = inline_api.settings
    visit_id = a_visit(inline_api)

    def save(based_on: int, body: str) -> Callable[[AsyncSession], Awaitable[Any]]:
        data = TemplateSave(subject="Welcome to {{ city }}", body=body, based_on=based_on)
        return lambda session: letters.save(
            db_session=session,
            settings=settings,
            kind="thank-you",
            locale="en",
            data=data,
            actor="user:staff",
            now=NOW,
        )

    first = in_session(settings, save(0, "Thank you, {{ addressee }}, for coming."))
    second = in_session(settings, save(1, "Thanks again, {{ addressee }}."))
    assert (first.number, second.number) == (1, 2)
    with pytest.raises(Conflict) as refused:  # an edit that started before version 2
        in_session(settings, save(1, "A late edit."))
    assert "Version 2" in refused.value.text("en")

    found = in_session(
        settings,
        lambda s: letters.versions(db_session=s, kind="thank-you", locale="en"),
    )
    assert [v.number for v in found] == [2, 1, 0]
    assert [v.saved_by for v in found] == ["user:staff", "user:staff", None]
    assert found[1].body == "Thank you, {{ addressee }}, for coming."
    assert found[2].body.startswith("Dear {{ addressee }}")  # the shipped text stays readable

    letter = inline_api.get(f"/visits/{visit_id}/letters/thank-you", params={"lang": "en"})
    text = " ".join(pdf_text(letter.content, "thank-you-en").split())
    assert "Thanks again, Mayor Katsuhiro Akimoto." in text
    versions = inline_api.get("/letters/templates/thank-you/en").json()
    assert [v["number"] for v in versions] == [2, 1, 0]


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ partner.__class__ }}",
        "{{ 'x' * 100000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{% for i in range(1000000) %}{% endfor %}",
        "{{ self._TemplateReference__context }}",
    ],
)
def test_a_template_cannot_reach_python_objects_or_make_a_huge_letter(template: str) -> None:
    with pytest.raises(InvalidField) as refused:
        fill("Subject", template, VALUES)
    assert refused.value.loc == ["body"]


def test_a_template_with_an_unknown_placeholder_or_a_syntax_error_is_refused_by_name() -> None:
    with pytest.raises(InvalidField) as unknown:
        fill("Subject", "Dear {{ adressee }},", VALUES)
    assert "adressee" in unknown.value.text("en")
    with pytest.raises(InvalidField) as broken:
        fill("{{ partner", "Body", VALUES)
    assert broken.value.loc == ["subject"]
    assert "line 1" in broken.value.text("en")


def test_what_staff_type_and_what_the_data_holds_stay_text_in_the_letter() -> None:
    filled = fill(
        "<b>{{ partner }}</b>",
        "<script>x</script> {{ partner }}\n\nSecond paragraph",
        {**VALUES, "partner": "<img src=x onerror=alert(1)>"},
    )
    assert filled.paragraphs[1] == "Second paragraph"
    letter = Letter(
        locale="en",
        kind="invitation",
        office=office_contact(Settings(_env_file=None)),  # type: ignore[call-arg]
        date="1 April 2030",
        recipient=(),
        text=filled,
        signatory=(),
    )
    html = letter_html(letter)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
