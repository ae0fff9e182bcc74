"""A document's content -> self-contained HTML (Jinja2, autoescaped) and a print-ready A4 PDF
(WeasyPrint, with the CJK fonts subset beforehand, see `twinning.publicity.fonts`).

Rendering is offline: every picture is inline SVG, the stylesheet is inline, the fonts are
`data:` URLs, and the URL fetcher refuses anything but `data:` and files of this package, so a
link or a hostile text in the data can never make a render reach the network.

`render_document` is what the renderer runs in an executor (a process pool in the worker):
it takes plain picklable content and returns the two formats.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from twinning.i18n import force_locale, gettext, labels, ngettext
from twinning.publicity import charts
from twinning.publicity.briefing import Briefing, BriefingBook
from twinning.publicity.content import TEMPLATES, Brochure, Document, Leaflet
from twinning.publicity.fonts import (
    SubsetCache,
    document_face,
    embedded_fonts,
    face_class,
    face_css,
)

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcherResponse

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # twinning's gettext reads the locale forced around the render (`force_locale`).
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["face"] = face_class
    env.globals |= {
        "labels": labels,
        "face_css": Markup(face_css()),  # static CSS of ours, not data
        "document_class": lambda locale: f"f-{document_face(locale)}",
    }
    return env


def _pictures(document: Document) -> dict[str, Any]:
    """The SVG pictures of a document, titled in its language."""
    title = gettext("Exchanges by year and field")
    pictures: dict[str, Any] = {
        "chart": charts.exchange_chart(document.chart, locale=document.locale, title=title)
        if document.chart
        else None,
        "map": None,
    }
    if isinstance(document, Leaflet) and document.map:
        pictures["map"] = charts.partner_map(
            document.map, locale=document.locale, title=gettext("Partner cities on the map")
        )
    return pictures


def render_html(document: Document | Briefing) -> str:
    """The document as one self-contained HTML page in its locale."""
    with force_locale(document.locale):
        if isinstance(document, Leaflet | Brochure):
            name = "leaflet.html" if isinstance(document, Leaflet) else "brochure.html"
            return environment().get_template(name).render(doc=document, **_pictures(document))
        name = (
            "briefing_book.html"
            if isinstance(document, BriefingBook)
            else "delegation_programme.html"
        )
        return environment().get_template(name).render(doc=document)


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class OfflineFetcher(URLFetcher):  # type: ignore[misc]
        """Fetches `data:` URLs and files inside this package; refuses everything else."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if not allowed_url(url):
                raise ValueError(f"rendering is offline: refused to fetch {url[:200]}")
            return super().fetch(url, headers)

    return OfflineFetcher()


def allowed_url(url: str) -> bool:
    """What a render may read: `data:` URLs, and files of this package."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return True
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    return Path(unquote(parts.path)).resolve().is_relative_to(PACKAGE_DIR)


def render_pdf(html: str, locale: str, fonts: SubsetCache) -> bytes:
    """The page as an A4 PDF, with each face it uses embedded as a subset."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fetcher = _fetcher()
    font_config = FontConfiguration()
    embedded = embedded_fonts(html, locale, fonts)
    font_faces = CSS(string=embedded.css, font_config=font_config, url_fetcher=fetcher)
    page = HTML(string=html, base_url=PACKAGE_DIR.as_uri() + "/", url_fetcher=fetcher)
    # Subsets that cover the page are embedded as they are; if some character needed a
    # system font (a script Noto Sans CJK lacks), WeasyPrint subsets that font itself.
    pdf: bytes = page.write_pdf(
        stylesheets=[font_faces], font_config=font_config, full_fonts=embedded.complete
    )
    return pdf


_caches: dict[str | None, SubsetCache] = {}


def subset_cache(directory: str | None) -> SubsetCache:
    """This process's cache of font subsets kept under `directory` (one per directory)."""
    if directory not in _caches:
        _caches[directory] = SubsetCache(Path(directory) if directory else None)
    return _caches[directory]


def render_document(document: Document | Briefing, font_dir: str | None) -> tuple[str, bytes]:
    """HTML and PDF of one document: what the renderer runs off the event loop."""
    html = render_html(document)
    return html, render_pdf(html, document.locale, subset_cache(font_dir))
