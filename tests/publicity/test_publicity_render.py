"""The leaflet and the brochures as readers get them: every shipped locale in HTML and A4 PDF,
with real CJK and Hangul glyphs, hostile text escaped, no personal data, nothing fetched.

One history is projected into SQLite and PostgreSQL (the documents must come out the same),
then each document is rendered once for the whole module: rendering is the slow part.
"""

from __future__ import annotations

import asyncio
import http.server
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from io import BytesIO
from pathlib import Path

import pytest
from conftest import Projection
from postgres import create_database
from publicity_support import (
    BUSAN,
    NOW,
    PERSONAL_DATA,
    SAPPORO,
    History,
    embedded_fonts,
    pdf_text,
)
from pypdf import PdfReader
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.db.migrate import upgrade
from twinning.i18n import country_name, force_locale, gettext, localized, supported_locales
from twinning.i18n.labels import label
from twinning.publicity.content import Document, content_hash
from twinning.publicity.models import LEAFLET, brochure
from twinning.publicity.refresh import gather
from twinning.publicity.render import allowed_url, render_document, render_pdf, subset_cache
from twinning.streams.events import PartnerKind

LOCALES = supported_locales()


@dataclass
class Rendered:
    content: Document
    html: str
    pdf: bytes

    @cached_property
    def text(self) -> str:
        """Read from the PDF once: the tests look in it again and again."""
        return pdf_text(self.pdf)


def _gather(
    settings: Settings, documents: list[tuple[str, str]]
) -> dict[tuple[str, str], Document]:
    async def run() -> dict[tuple[str, str], Document]:
        engine = make_async_engine(settings.async_database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            found = {}
            async with sessions() as session:
                for document, locale in documents:
                    shown = await gather(
                        session, document=document, locale=locale, now=NOW, settings=settings
                    )
                    assert shown is not None
                    found[document, locale] = shown
            return found
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _projected(url: str, data_dir: Path, history: History) -> Settings:
    settings = Settings(database_url=url, data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    upgrade(settings.sync_database_url)
    projection = Projection(settings)
    try:
        assert set(projection.apply(*history.events)) == {"applied"}
    finally:
        projection.close()
    return settings


@dataclass
class Module:
    history: History
    contents: dict[str, dict[tuple[str, str], Document]]  # by database kind
    rendered: dict[tuple[str, str], Rendered]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, postgres: URL) -> Module:
    history = History()
    ids = history.ids
    wanted = [(LEAFLET, locale) for locale in LOCALES]
    wanted += [(brochure(ids["busan"]), locale) for locale in LOCALES]
    wanted += [(brochure(ids["sapporo"]), "en"), (brochure(ids["valencia"]), "en")]
    root = tmp_path_factory.mktemp("publicity")
    urls = {
        "sqlite": f"sqlite:///{root / 'twinning.db'}",
        "postgresql": create_database(postgres).render_as_string(hide_password=False),
    }
    contents = {kind: _gather(_projected(url, root, history), wanted) for kind, url in urls.items()}
    fonts = str(root / "fonts")
    rendered = {}
    for key, content in contents["sqlite"].items():
        html, pdf = render_document(content, fonts)
        rendered[key] = Rendered(content, html, pdf)
    return Module(history, contents, rendered)


def leaflet(documents: Module, locale: str) -> Rendered:
    return documents.rendered[LEAFLET, locale]


def busan_brochure(documents: Module, locale: str) -> Rendered:
    return documents.rendered[brochure(documents.history.ids["busan"]), locale]


def in_locale(locale: str, message: str) -> str:
    with force_locale(locale):
        return gettext(message)


def test_the_same_history_gives_the_same_documents_on_sqlite_and_postgresql(
    documents: Module,
) -> None:
    sqlite, postgresql = documents.contents["sqlite"], documents.contents["postgresql"]
    assert {k: content_hash(v) for k, v in sqlite.items()} == {
        k: content_hash(v) for k, v in postgresql.items()
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_the_leaflet_pdf_reads_in_each_locale(documents: Module, locale: str) -> None:
    text = leaflet(documents, locale).text
    with force_locale(locale):
        expected = [
            gettext("City diplomacy"),
            gettext("Exchanges by year and field"),
            country_name("JP"),
            country_name("KR"),
            label(PartnerKind.FRIENDLY),
            localized(SAPPORO),
            localized(BUSAN),
            localized({"zh-TW": "國際燈會", "en": "International Lantern Festival"}),
        ]
    for wanted in expected:
        assert wanted in text, f"{wanted!r} missing from the {locale} leaflet"
    if locale != "en":
        assert in_locale("en", "City diplomacy") not in text


def test_the_leaflets_speak_their_own_languages(documents: Module) -> None:
    headings = {
        "zh-TW": "城市外交",
        "ja": "都市外交",
        "ko": "도시 외교",
        "es": "Diplomacia de ciudades",
    }
    for locale, heading in headings.items():
        assert heading in leaflet(documents, locale).text
    assert "부산광역시" in leaflet(documents, "ko").text
    assert "Japón" in leaflet(documents, "es").text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_brochure_pdf_tells_the_story_and_the_visits_both_ways(
    documents: Module, locale: str
) -> None:
    text = busan_brochure(documents, locale).text
    with force_locale(locale):
        expected = [
            localized(BUSAN),
            gettext("Our story"),
            gettext("Visits in both directions"),
            gettext("Delegations welcomed in our city"),
            localized({"en": "Smart-city study tour", "zh-TW": "智慧城市考察"}),
            localized({"en": "Mayor's visit to Busan", "zh-TW": "市長訪問釜山"}),
            localized({"zh-TW": "燈會共同演出", "en": "Joint lantern festival show"}),
            country_name("KR"),
        ]
    for wanted in expected:
        assert wanted in text, f"{wanted!r} missing from the {locale} brochure"


@pytest.mark.parametrize("locale", LOCALES)
def test_pdf_fonts_are_embedded_subsets_with_a_glyph_for_every_character(
    documents: Module, locale: str
) -> None:
    for rendered in (leaflet(documents, locale), busan_brochure(documents, locale)):
        fonts = embedded_fonts(rendered.pdf)
        assert fonts and all("twinning" in name for name in fonts), sorted(fonts)
        covered = set().union(*fonts.values())
        shown = {c for c in rendered.text if not c.isspace()}
        shown = {c for c in shown if unicodedata.category(c) != "Cf"}
        assert shown <= covered, f"no glyph for {sorted(shown - covered)} in {locale}"


def test_each_script_gets_the_face_of_its_language(documents: Module) -> None:
    """In the Chinese brochure, the Korean name of the city the mayor went to is drawn with
    the Korean face, the Chinese text with the Traditional Chinese face."""
    fonts = embedded_fonts(busan_brochure(documents, "zh-TW").pdf)
    faces = {name.split("+")[-1]: chars for name, chars in fonts.items()}
    assert set("부산") <= set().union(*(c for name, c in faces.items() if "-kr" in name))
    assert set("釜山廣域市") <= set().union(*(c for name, c in faces.items() if "-tc" in name))
    assert not any("-kr" in name for name in faces if set("釜山廣域市") & faces[name])


def test_hostile_text_is_escaped_in_html_and_shown_as_written_in_pdf(documents: Module) -> None:
    rendered = leaflet(documents, "ja")  # Valencia's Japanese name is the hostile text
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in rendered.html
    assert "</style> Tom" not in rendered.html
    assert "Tom &amp; &#34;Jerry&#34;" in rendered.html
    # The right-to-left override stays inside its isolate: it cannot reorder what follows.
    assert '<bdi lang="ja" class="f-jp">&lt;script&gt;' in rendered.html
    assert "<script>alert('x')</script>" in rendered.text
    assert 'Tom & "Jerry"' in rendered.text
    with force_locale("ja"):
        assert country_name("ES") in rendered.text
    scope = documents.rendered[brochure(documents.history.ids["valencia"]), "en"]
    assert "&lt;/style&gt; Tom &amp; &#34;Jerry&#34;" in scope.html
    assert "<script>alert('x')</script>" in scope.text


def test_no_personal_data_in_any_document(documents: Module) -> None:
    for (document, locale), rendered in documents.rendered.items():
        for secret in PERSONAL_DATA:
            assert secret not in rendered.html, f"{secret!r} in {document} ({locale}) HTML"
            assert secret not in rendered.text, f"{secret!r} in {document} ({locale}) PDF"


def test_the_html_is_one_self_contained_page_with_svg_pictures(documents: Module) -> None:
    html = leaflet(documents, "en").html
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en"' in html
    assert html.count("<svg") == 3  # the partner map, the chart of exchanges, the QR code
    for outside in ("<script", "<link", "src=", "@import", "url("):
        assert outside not in html


def test_the_leaflet_is_a_folded_a4_sheet_and_the_brochure_a4_pages(documents: Module) -> None:
    sheets = PdfReader(BytesIO(leaflet(documents, "zh-TW").pdf)).pages
    assert len(sheets) == 2  # outside and inside of one tri-fold sheet
    for page in sheets:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    for page in PdfReader(BytesIO(busan_brochure(documents, "zh-TW").pdf)).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


# --- nothing from the network ----------------------------------------------------------------


def test_the_url_fetcher_allows_data_urls_and_package_files_only() -> None:
    package = Path(allowed_url.__code__.co_filename).parent
    assert allowed_url("data:image/png;base64,AAAA")
    assert allowed_url((package / "templates" / "style.css").as_uri())
    for refused in (
        "http://127.0.0.1/logo.png",
        "https://example.org/font.woff2",
        "ftp://example.org/x",
        "file:///etc/passwd",
        (package / ".." / ".." / "secret.txt").as_uri(),
        "file://remote-host/share/x.png",
    ):
        assert not allowed_url(refused), refused


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_rendering_a_page_that_points_at_the_network_fetches_nothing(
    counting_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, requests = counting_server
    html = f"""<!DOCTYPE html><html lang="en"><head>
    <link rel="stylesheet" href="{base}/style.css">
    <style>@import url("{base}/import.css"); body {{ background: url("{base}/bg.png"); }}
    @font-face {{ font-family: X; src: url("{base}/font.woff2"); }}</style></head>
    <body><img src="{base}/logo.png"><p style="font-family: X">Sapporo 札幌</p></body></html>"""
    pdf = render_pdf(html, "en", subset_cache(str(tmp_path)))
    assert pdf.startswith(b"%PDF")
    assert requests == []
