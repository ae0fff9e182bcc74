"""A document's content -> self-contained HTML (Jinja2, autoescaped) and a print-ready A4 PDF
(WeasyPrint, with the CJK fonts subset beforehand, see `twinning.publicity.fonts`): the
leaflet, the brochures, the briefing documents and the plans' progress reports, all with the
one `environment()` and `render_pdf()` here.

Rendering is offline: every picture is inline SVG, the stylesheet is inline, the fonts are
`data:` URLs, and the URL fetcher refuses anything but `data:` and files of this package, so a
link or a hostile text in the data can never make a render reach the network.

`render_document` is what the renderer runs in an executor (a process pool in the worker):
it takes plain picklable content and returns the two formats.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from twinning.i18n import force_locale, gettext, labels, ngettext
from twinning.plans.documents import ProgressReport
from twinning.publicity import charts, maps
from twinning.publicity.briefing import Briefing, BriefingBook
from twinning.publicity.content import (
    INBOUND_OUTBOUND,
    MILESTONES,
    TEMPLATES,
    Brochure,
    Document,
    Leaflet,
)
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
        "chart": charts.exchange_chart(
            document.chart,
            locale=document.locale,
            title=title,
            bar_area=charts.BAR_AREA if isinstance(document, Leaflet) else 100,
        )
        if document.chart
        else None,
        "map": None,
        "map_key": [],
        "qr": _qr(document.page_url) if document.page_url else None,
    }
    if isinstance(document, Leaflet) and document.map:
        names = ", ".join(point.name.text for point in document.map if not point.home)
        pictures["map"], pictures["map_key"] = maps.world_map(
            document.map,
            locale=document.locale,
            title=gettext("Partner cities on the map: %(names)s", names=names),
        )
    elif isinstance(document, Brochure) and len(document.map) == 2:
        home, partner = document.map
        pictures["map"] = maps.pair_map(
            home,
            partner,
            locale=document.locale,
            title=gettext(
                "Map of %(home)s and %(partner)s, %(distance)s",
                home=home.name.text,
                partner=partner.name.text,
                distance=document.distance or "",
            ),
            distance=document.distance or "",
            height=_pair_map_height(document),
        )
    return pictures


def _qr(url: str) -> Markup:
    """A QR code of `url` as inline SVG (vector in the PDF too)."""
    import segno

    code = segno.make(url, error="m")
    return Markup(code.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", title=url))


def _pair_map_height(brochure: Brochure) -> float:
    """Taller for each timeline step or visit the page does not have to hold (so that a short
    history still fills its page), up to twice the usual height."""
    spare = (MILESTONES + 1 - len(brochure.milestones)) + (
        2 * INBOUND_OUTBOUND - len(brochure.inbound) - len(brochure.outbound)
    )
    return min(2 * maps.PAIR_HEIGHT, maps.PAIR_HEIGHT + 12 * max(0, spare))


def render_html(document: Document | Briefing | ProgressReport) -> str:
    """The document as one self-contained HTML page in its locale."""
    if isinstance(document, ProgressReport):
        # The report's own context (figures, charts) is the plans' (which render with this
        # module's environment: imported here, not above).
        from twinning.plans.report import render_html as report_html

        return report_html(document.progress, document.locale, document.office)
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


#: What the print variant adds: 3 mm bleed and crop marks on every page, and the leaflet's
#: panels in folding order (outside sheet: inside flap, back, cover; inside sheet: 2, 3, 4).
PRINT_CSS = """
@page { bleed: 3mm; marks: crop; }
@page trifold { bleed: 3mm; marks: crop; }
"""
#: The leaflet's panels (reading order 1-6) as a folded sheet prints them.
FOLDING_ORDER = ("5", "6", "1", "2", "3", "4")
_PANEL = re.compile(r'<section class="panel[^"]*" id="panel-(\d)">.*?</section>', re.S)


def folding_order(html: str) -> str:
    """The leaflet's six panels moved into folding order (a brochure is left as it is)."""
    panels = {match.group(1): match.group(0) for match in _PANEL.finditer(html)}
    if set(panels) != set(FOLDING_ORDER):
        return html
    first, last = _PANEL.search(html), list(_PANEL.finditer(html))[-1]
    assert first is not None
    ordered = "\n".join(panels[n] for n in FOLDING_ORDER)
    return html[: first.start()] + ordered + html[last.end() :]


@cache
def _tag_span_languages() -> None:
    """Each structure element of an HTML element with a `lang` gets that language (/Lang),
    so that a screen reader reads a Japanese name in a Chinese brochure in Japanese.

    WeasyPrint 70's tagging gives the document its language only. Its tree builder yields
    each structure element it makes for a box, and recurses through its module-level name:
    wrapped once here, every element built for an element with `lang` is marked.
    `tests/publicity/test_publicity_design.py` checks the languages in the PDF."""
    import pydyf  # type: ignore[import-untyped]  # (WeasyPrint's PDF writer)
    from weasyprint.layout.absolute import AbsolutePlaceholder
    from weasyprint.pdf import tags

    build = tags._build_box_tree

    def build_with_languages(box: Any, parent: Any, *args: Any) -> Any:
        real = box._box if isinstance(box, AbsolutePlaceholder) else box
        element = getattr(real, "element", None)
        lang = None
        if element is not None and real.element_tag not in ("html", "body"):
            lang = element.get("lang")
        for built in build(box, parent, *args):
            if lang and "Lang" not in built:
                built["Lang"] = pydyf.String(lang)
            yield built

    tags._build_box_tree = build_with_languages


def render_pdf(html: str, locale: str, fonts: SubsetCache, *, for_print: bool = False) -> bytes:
    """The page as an A4 PDF, with each face it uses embedded as a subset: tagged for
    accessibility (PDF/UA-1: a structure tree, the document's and each text's language), or
    `for_print`, a PDF/X-4 with bleed and crop marks, the leaflet in folding order."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    _tag_span_languages()
    fetcher = _fetcher()
    font_config = FontConfiguration()
    embedded = embedded_fonts(html, locale, fonts)
    font_faces = CSS(string=embedded.css, font_config=font_config, url_fetcher=fetcher)
    if for_print:
        html = folding_order(html)
    page = HTML(string=html, base_url=PACKAGE_DIR.as_uri() + "/", url_fetcher=fetcher)
    # Subsets that cover the page are embedded as they are; if some character needed a
    # system font (a script Noto Sans CJK lacks), WeasyPrint subsets that font itself.
    stylesheets = [font_faces]
    if for_print:
        stylesheets.append(CSS(string=PRINT_CSS, font_config=font_config, url_fetcher=fetcher))
    pdf: bytes = page.write_pdf(
        stylesheets=stylesheets,
        font_config=font_config,
        full_fonts=embedded.complete,
        pdf_variant="pdf/x-4" if for_print else "pdf/ua-1",
        pdf_identifier=b"twinning" if for_print else None,
    )
    return pdf


_caches: dict[str | None, SubsetCache] = {}


def subset_cache(directory: str | None) -> SubsetCache:
    """This process's cache of font subsets kept under `directory` (one per directory)."""
    if directory not in _caches:
        _caches[directory] = SubsetCache(Path(directory) if directory else None)
    return _caches[directory]


def render_document(
    document: Document | Briefing | ProgressReport, font_dir: str | None
) -> tuple[str, bytes]:
    """HTML and PDF of one document: what the renderer runs off the event loop."""
    html = render_html(document)
    return html, render_pdf(html, document.locale, subset_cache(font_dir))
