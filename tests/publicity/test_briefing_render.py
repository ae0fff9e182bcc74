"""A visit's briefing book and its delegation programme as readers get them: the book's
sections in the officials' languages (zh-TW by default, and English for an official whose
feed link is in English), the programme in the delegation's, and nothing internal in the
programme. One history is projected into SQLite and PostgreSQL (the documents must come out
the same); each document is rendered once for the module."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from briefing_support import (
    ACCESSIBILITY,
    CONTACT,
    CONTACT_EMAIL,
    DIETARY,
    EARLIER_GIFT,
    GIFT,
    INTERNAL,
    INTERPRETER,
    ITEM_POINTS,
    OTHER_CONTACT,
    VISIT_POINTS,
    Briefed,
    feed_link_for,
)
from conftest import Projection
from postgres import create_database
from publicity_support import NOW, embedded_fonts, pdf_text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.db.migrate import upgrade
from twinning.i18n import force_locale, gettext, supported_locales
from twinning.publicity.briefing import Briefing, briefing_book, delegation_programme
from twinning.publicity.content import content_hash
from twinning.publicity.refresh import gather
from twinning.publicity.render import render_document

#: Where `TWINNING_BRIEFING_PDFS` asks the rendered PDFs to be written (to look at them).
KEEP = os.environ.get("TWINNING_BRIEFING_PDFS")


@dataclass
class Rendered:
    content: Briefing
    html: str
    pdf: bytes

    @cached_property
    def text(self) -> str:
        """Read from the PDF once: the tests look in it again and again."""
        return pdf_text(self.pdf)


def _gather(settings: Settings, documents: list[str]) -> dict[tuple[str, str], Briefing | None]:
    async def run() -> dict[tuple[str, str], Briefing | None]:
        engine = make_async_engine(settings.async_database_url)
        try:
            async with async_sessionmaker(engine)() as session:
                return {
                    (document, locale): await gather(  # type: ignore[misc]
                        session, document=document, locale=locale, now=NOW, settings=settings
                    )
                    for document in documents
                    for locale in supported_locales()
                }
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _projected(url: str, data_dir: Path, history: Briefed) -> Settings:
    settings = Settings(database_url=url, data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    upgrade(settings.sync_database_url)
    projection = Projection(settings)
    try:
        assert set(projection.apply(*history.events)) == {"applied"}
    finally:
        projection.close()
    feed_link_for(settings.sync_database_url, history.mayor.aggregate_id, "en")
    return settings


@dataclass
class Module:
    history: Briefed
    contents: dict[str, dict[tuple[str, str], Briefing | None]]
    rendered: dict[tuple[str, str], Rendered]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, postgres: URL) -> Module:
    history = Briefed()
    wanted = [
        briefing_book(history.visit_id),
        delegation_programme(history.visit_id),
        briefing_book(history.other_id),
        delegation_programme(history.other_id),
    ]
    root = tmp_path_factory.mktemp("briefing")
    urls = {
        "sqlite": f"sqlite:///{root / 'twinning.db'}",
        "postgresql": create_database(postgres).render_as_string(hide_password=False),
    }
    contents = {kind: _gather(_projected(url, root, history), wanted) for kind, url in urls.items()}
    rendered = {}
    for (document, locale), content in contents["sqlite"].items():
        if content is not None and document.endswith(history.visit_id):
            html, pdf = render_document(content, str(root / "fonts"))
            rendered[document, locale] = Rendered(content, html, pdf)
            if KEEP:
                name = f"{document.split(':')[0]}-{locale}.pdf"
                Path(KEEP, name).write_bytes(pdf)
    return Module(history, contents, rendered)


def book(documents: Module, locale: str) -> Rendered:
    return documents.rendered[briefing_book(documents.history.visit_id), locale]


def programme(documents: Module, locale: str) -> Rendered:
    return documents.rendered[delegation_programme(documents.history.visit_id), locale]


def in_locale(locale: str, message: str) -> str:
    with force_locale(locale):
        return gettext(message)


def test_the_same_history_gives_the_same_documents_on_sqlite_and_postgresql(
    documents: Module,
) -> None:
    sqlite, postgresql = documents.contents["sqlite"], documents.contents["postgresql"]
    assert sqlite.keys() == postgresql.keys()
    for key, content in sqlite.items():
        other = postgresql[key]
        assert (content_hash(content) if content else None) == (
            content_hash(other) if other else None
        ), key


def test_the_book_comes_in_the_office_language_and_each_attending_officials(
    documents: Module,
) -> None:
    visit, other = documents.history.visit_id, documents.history.other_id
    contents = documents.contents["sqlite"]
    assert {loc for (doc, loc), c in contents.items() if doc == briefing_book(visit) and c} == {
        "zh-TW",
        "en",  # the mayor attends, and reads in English
    }
    # The other visit books no official: the office's language only.
    assert {loc for (doc, loc), c in contents.items() if doc == briefing_book(other) and c} == {
        "zh-TW"
    }


def test_the_programme_comes_in_the_delegations_languages(documents: Module) -> None:
    visit, other = documents.history.visit_id, documents.history.other_id
    contents = documents.contents["sqlite"]
    programmes = {
        doc: {loc for (d, loc), c in contents.items() if d == doc and c}
        for doc in (delegation_programme(visit), delegation_programme(other))
    }
    assert programmes == {
        delegation_programme(visit): {"ja", "en"},
        delegation_programme(other): {"ko"},
    }


SECTIONS = (
    "The visit at a glance",
    "Talking points",
    "The partner city",
    "Exchanges and visits so far",
    "The delegation",
    "Programme (local time)",
    "Interpreters",
    "Gifts",
    "Dietary and accessibility notes",
    "The delegation's contact",
)


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_the_book_pdf_has_every_section_in_its_language(documents: Module, locale: str) -> None:
    text = book(documents, locale).text
    for section in SECTIONS:
        assert in_locale(locale, section) in text, section
    assert in_locale(locale, "Internal: for the officials and staff only") in text
    if locale == "zh-TW":
        assert "札幌市" in text and "拜會市長" in text and "市府大禮堂" in text
        assert "Courtesy call on the mayor" not in text and "City Hall Auditorium" not in text
    else:
        assert "Sapporo" in text and "Courtesy call on the mayor" in text
        assert "City Hall Auditorium" in text


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_the_book_tells_the_officials_what_they_need(documents: Module, locale: str) -> None:
    text = " ".join(book(documents, locale).text.split())
    for needed in (VISIT_POINTS, ITEM_POINTS, GIFT, EARLIER_GIFT, INTERPRETER, DIETARY):
        assert needed in text, needed
    assert ACCESSIBILITY in text and CONTACT in text and CONTACT_EMAIL in text
    assert "Snow festival sculptors" in text  # the history
    assert "10:00" in text and "11:00" in text  # the programme, in Taipei time
    assert OTHER_CONTACT not in text


def test_the_book_lists_the_officials_in_precedence_order(documents: Module) -> None:
    text = book(documents, "en").text
    assert text.index("Mayor Lin Chih-ming") < text.index("Deputy Mayor Wang Mei-ling")


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_programme_has_nothing_internal_and_no_one_elses_personal_data(
    documents: Module, locale: str
) -> None:
    rendered = programme(documents, locale)
    for text in (" ".join(rendered.text.split()), rendered.html):
        for internal in INTERNAL:
            assert internal not in text, internal
        assert OTHER_CONTACT not in text
        assert in_locale(locale, "Talking points") not in text
        assert CONTACT in text and CONTACT_EMAIL in text  # the delegation's own contact
    assert in_locale(locale, "Programme (local time)") in rendered.text
    assert in_locale(locale, "Interpretation provided") in rendered.text


def test_the_programme_is_in_the_delegations_language(documents: Module) -> None:
    text = programme(documents, "ja").text
    assert "市長表敬訪問" in text and "札幌市" in text
    assert in_locale("ja", "Programme of the visit") in text


def test_the_pdfs_embed_only_the_subsets_of_their_text(documents: Module) -> None:
    """No glyph outside the page's text (a list marker, say) pulls in a whole system font."""
    for (document, locale), rendered in documents.rendered.items():
        fonts = embedded_fonts(rendered.pdf)
        assert fonts and all("twinning" in name for name in fonts), (document, locale, fonts)
        assert len(rendered.pdf) < 500_000, (document, locale, len(rendered.pdf))


def test_the_pdfs_are_a4(documents: Module) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    for rendered in documents.rendered.values():
        page = PdfReader(BytesIO(rendered.pdf)).pages[0]
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
