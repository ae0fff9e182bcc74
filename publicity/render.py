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
import math
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
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
    Milestone,
    PhotoLine,
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


def _pictures(document: Document, fit: BrochureFit | None = None) -> dict[str, Any]:
    """The SVG pictures of a document, titled in its language (a brochure's map as high as
    `fit` has it)."""
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
    elif isinstance(document, Brochure) and document.map:
        *homes, partner = document.map
        home = homes[0] if homes else None
        pictures["map"] = maps.pair_map(
            home,
            partner,
            locale=document.locale,
            title=gettext(
                "Map of %(home)s and %(partner)s, %(distance)s",
                home=home.name.text,
                partner=partner.name.text,
                distance=document.distance or "",
            )
            if home is not None
            else gettext("Map of %(partner)s and its region", partner=partner.name.text),
            distance=document.distance or "",
            height=_map_height(document, fit or estimated_fit(document)),
        )
    return pictures


def _qr(url: str) -> Markup:
    """A QR code of `url` as inline SVG (vector in the PDF too)."""
    import segno

    code = segno.make(url, error="m")
    return Markup(code.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", title=url))


#: About how much of a brochure's page (in map units, 0.46 mm) a timeline step or a visit
#: takes, and what our city's box takes: its heading, a line of its paragraph, a row of figures.
STEP, HEADING, LINE, FIGURE_ROW = 20.0, 18.0, 9.0, 32.0


def _spare(brochure: Brochure, milestones: int, fit: BrochureFit) -> int:
    """Timeline steps and visits the page does not have to hold, less what the events the
    partner is invited to take (their heading, and two steps' room each) and the steps the
    photos are given."""
    invited = 2 * len(brochure.invited) + 1 if brochure.invited else 0
    return (
        (MILESTONES + 1 - milestones)
        + (2 * INBOUND_OUTBOUND - len(brochure.inbound) - len(brochure.outbound))
        - invited
        - fit.displaced
    )


#: The latest timeline steps (besides the agreement) a brochure's photos never displace: on
#: a page too full to keep them, the photos are left out (the story comes first).
KEPT_STEPS = 2


def shows_photos(brochure: Brochure) -> bool:
    """Whether the brochure prints its photos: it has some, and the page holds them beside
    its latest steps."""
    if not brochure.photos:
        return False
    spare = _spare(brochure, len(brochure.milestones), BrochureFit(True, PHOTO_STEPS))
    steps = len(brochure.milestones) - (
        1 if brochure.milestones and brochure.milestones[0].kind == "agreement" else 0
    )
    return spare >= 0 or steps + spare >= KEPT_STEPS


def shown_milestones(brochure: Brochure, fit: BrochureFit | None = None) -> tuple[Milestone, ...]:
    """The timeline as the page holds it: on a full page, the events the partner is invited
    to take the place of its oldest steps (the agreement stays), and so may its photos."""
    fit = fit or estimated_fit(brochure)
    over = -_spare(brochure, len(brochure.milestones), fit)
    if over <= 0:
        return brochure.milestones
    agreement = brochure.milestones[:1] if brochure.milestones[0].kind == "agreement" else ()
    return agreement + brochure.milestones[len(agreement) + over :]


def _room(brochure: Brochure, fit: BrochureFit) -> float:
    """The room the timeline steps and visits a brochure does not have to hold leave."""
    return STEP * max(0, _spare(brochure, len(shown_milestones(brochure, fit)), fit))


#: A brochure's row of photos (in the main column, under the story) takes the room of this
#: many timeline steps with its captions: on a full page, it takes the oldest steps' place;
#: else the map gives it the room (`PHOTO_COST`, in map units: the main column is the longer).
PHOTO_STEPS, PHOTO_COST = 4, 40.0
#: The height of a brochure's photos, in millimetres.
PHOTO_HEIGHT = 24.0


#: The leaflet's panels a photo may fill the foot of, in the order they take one: the
#: exchanges, the events, the flap (when our city is not on it), the partner cities (when
#: they are few, or listed alone on their panel and not too many).
PHOTO_PANELS = ("3", "4", "5", "2")
#: Partner cities the partners' panel holds with our city and a photo under them; beyond
#: `CROWDED` (as leaflet.html decides) our city moves to the flap, and the panel holds up to
#: `LISTED_WITH_PHOTO` partners (two to a line) with a photo.
FEW_PARTNERS, CROWDED, LISTED_WITH_PHOTO = 4, 16, 48


#: The height of the leaflet's flap (mm) with room for a photo under its lists: 193 mm inside
#: the panel's margins, less the photo's least height (33 mm with its margin), less a margin
#: for the estimate (a face without Noto's metrics sets a line taller).
FLAP_ROOM = 140.0


def _flap_height(leaflet: Leaflet, partners: int) -> float:
    """About how high the flap's lists run (mm): a heading each, a line per count, and our
    city's paragraph and figures when the partners crowd it out of their panel."""
    lists = [rows for rows in (len(leaflet.fields), len(leaflet.kinds)) if rows]
    height = sum(12.0 + 9.0 * rows for rows in lists)
    if partners > CROWDED and leaflet.city is not None:
        if leaflet.city.about is not None:
            height += 12.0 + 4.8 * _paragraph_lines(leaflet.city.about.text) * 46 / 55
        if leaflet.city.figures:
            height += 12.0 + 12.0 * -(-len(leaflet.city.figures) // 2)
    return height


def _takes_photo(leaflet: Leaflet, panel: str, partners: int) -> bool:
    if panel == "5":
        return _flap_height(leaflet, partners) <= FLAP_ROOM
    if panel == "2":
        return partners <= FEW_PARTNERS or CROWDED < partners <= LISTED_WITH_PHOTO
    return True


def leaflet_photo_panels(leaflet: Leaflet) -> dict[str, PhotoLine | None]:
    """Which photo fills the foot of which panel (None: no photo there)."""
    partners = sum(len(region.partners) for region in leaflet.regions)
    panels = [panel for panel in PHOTO_PANELS if _takes_photo(leaflet, panel, partners)]
    chosen: dict[str, PhotoLine | None] = dict.fromkeys(("2", "3", "4", "5"))
    chosen.update(zip(panels, leaflet.photos, strict=False))
    return chosen


def leaflet_photo_room(leaflet: Leaflet) -> int:
    """How many more photos the leaflet's panels would take (each fills the foot of a panel
    that is emptier without it): staff are told on the publicity page."""
    partners = sum(len(region.partners) for region in leaflet.regions)
    panels = [panel for panel in PHOTO_PANELS if _takes_photo(leaflet, panel, partners)]
    return max(0, len(panels) - len(leaflet.photos))


def _paragraph_lines(text: str) -> int:
    """Lines the side column takes for `text` (about 23 wide characters a line, 46 narrow)."""
    width = sum(2 if ord(c) > 0x2E80 else 1 for c in text)
    return -(-width // 46)


def _city_height(brochure: Brochure, *, with_about: bool) -> float:
    if brochure.city is None:
        return 0.0
    rows = -(-len(brochure.city.figures) // 4)
    height = FIGURE_ROW * rows + 8 if rows else 0.0
    if with_about and brochure.city.about is not None:
        height += HEADING + LINE * _paragraph_lines(brochure.city.about.text)
    return height


def shows_city_paragraph(brochure: Brochure, fit: BrochureFit | None = None) -> bool:
    """Our city's paragraph is printed where the page has room for it (a short history);
    its key figures always."""
    if brochure.city is None or brochure.city.about is None:
        return False
    fit = fit or estimated_fit(brochure)
    return _room(brochure, fit) >= _city_height(brochure, with_about=True)


def _map_height(brochure: Brochure, fit: BrochureFit) -> float:
    return fit.map_height if fit.map_height is not None else _pair_map_height(brochure, fit)


def _pair_map_height(brochure: Brochure, fit: BrochureFit) -> float:
    """Taller by the room the page has left (so that a short history still fills its page),
    up to twice the usual height; lower when the page is short of room."""
    room = _room(brochure, fit) - _city_height(
        brochure, with_about=shows_city_paragraph(brochure, fit)
    )
    if fit.photos:
        room -= PHOTO_COST
    # A full page gives the map less height for our city's figures (down to half).
    height = maps.PAIR_HEIGHT + (0.6 * room if room > 0 else 2 * room)
    return max(MIN_MAP, min(MAX_MAP, height))


#: A photo in the side column: its height, and what it takes with its caption and margin (mm).
SIDE_PHOTO_HEIGHT, SIDE_PHOTO_ROOM = 38.0, 50.0
#: A side photo's least height, and what two lines of its caption and its margin take (mm).
SIDE_PHOTO_LEAST, CAPTION_ROOM = 18.0, SIDE_PHOTO_ROOM - SIDE_PHOTO_HEIGHT


@dataclass(frozen=True)
class BrochureFit:
    """How a brochure's one page is shared out: whether its photos are a row under the story
    (`photos`, given the room of its `displaced` oldest timeline steps) or a column beside it
    (`side`: how many, under the visits), and the pair map's height (map units; None: as
    estimated). `fit_brochure` finds it by laying the page out."""

    photos: bool
    displaced: int = 0
    map_height: float | None = None
    side: int = 0
    #: The height of the side column's photos (mm).
    side_height: float = SIDE_PHOTO_HEIGHT
    #: Whether our city's paragraph is printed (None: where the estimate finds room).
    city_paragraph: bool | None = None


def estimated_fit(brochure: Brochure) -> BrochureFit:
    """The page's sharing as estimated from the facts' counts, without laying it out."""
    photos = shows_photos(brochure)
    return BrochureFit(photos, PHOTO_STEPS if photos else 0)


#: The pair map's least and greatest heights (map units of a 400-unit width).
MIN_MAP, MAX_MAP = 0.5 * maps.PAIR_HEIGHT, 2 * maps.PAIR_HEIGHT
#: What a fitted page keeps empty at its foot (CSS px, 2 mm): the layout's rounding.
FOOT = 7.5
#: The least room (mm) the map is grown into: less is not worth another layout.
GROW_LEAST = 4.0
#: The room under the story a row of photos needs, with their captions (mm).
ROW_ROOM = 36.0
PX_PER_MM = 96 / 25.4

_Laid = tuple[str, Any, dict[str, Any], BrochureFit]


def fit_brochure(brochure: Brochure, fonts: SubsetCache) -> tuple[str, bytes]:
    """The brochure's HTML and PDF on one page, laid out rather than estimated.

    Laid out without photos first, the page shows where they fit, the fullest way that
    stays on one page: as a row under the whole timeline (where the main column has room);
    else in the side column, as many as its room below the visits holds; else as the row in
    the place of the fewest oldest steps that make room for it (keeping the latest
    `KEPT_STEPS`); else the same without our city's paragraph (the leaflet carries it: the
    partner's photos come first in its brochure); else no photos. Its map is then grown into the room the page still has,
    so that the page fills (up to `MAX_MAP`). A page that runs over even without photos and
    with the least map runs onto a second page, with its photos as a row."""

    with font_configurations() as configuration:
        return _fit(brochure, fonts, configuration)


def _fit(
    brochure: Brochure, fonts: SubsetCache, configuration: Callable[[], Any]
) -> tuple[str, bytes]:
    def attempt(fit: BrochureFit) -> _Laid:
        html = render_html(brochure, fit=fit)
        return (html, *_layout(html, brochure.locale, fonts, configuration), fit)

    def fits(laid: _Laid) -> bool:
        return len(laid[1].pages) == 1

    # Every try has the least map, which `_grow` then gives the room the page has left (a
    # map as tall as estimated could push a page with a long name onto a second).
    def place(base: _Laid) -> _Laid | None:
        """The photos placed on the page laid out as `base` (without them), or None."""
        fit, document = base[3], base[1]
        if not fits(base):
            return None
        if _column_room(document, "main") >= ROW_ROOM * PX_PER_MM:
            row = attempt(replace(fit, photos=True))
            if fits(row):
                return row
        side_room = _column_room(document, "side") / PX_PER_MM
        for side in range(min(len(brochure.photos), int(side_room // SIDE_PHOTO_ROOM)), 0, -1):
            beside = attempt(replace(fit, side=side))
            if fits(beside):
                return beside
        # Less room than a photo takes: one, lower, where its caption leaves room for it.
        for lower in (side_room - CAPTION_ROOM, side_room - 2 * CAPTION_ROOM):
            if SIDE_PHOTO_LEAST <= lower < SIDE_PHOTO_HEIGHT:
                beside = attempt(replace(fit, side=1, side_height=lower))
                if fits(beside):
                    return beside
        for displaced in _displacing(brochure, document):
            displacing = attempt(replace(fit, photos=True, displaced=displaced))
            if fits(displacing):
                return displacing
        return None

    least = BrochureFit(False, map_height=MIN_MAP)
    bare = attempt(least)
    if not fits(bare):
        # Too much for one page even so (very long texts): it runs onto a second, which
        # holds the photos too.
        over = attempt(replace(least, photos=True)) if brochure.photos else bare
        return over[0], over[1].write_pdf(**over[2])
    if brochure.photos:
        placed = place(bare)
        if placed is None and shows_city_paragraph(brochure, least):
            # The partner's photos before our city's paragraph (the leaflet carries it).
            placed = place(attempt(replace(least, city_paragraph=False)))
        if placed is not None:
            return _grow(brochure, fonts, configuration, placed)
    return _grow(brochure, fonts, configuration, bare)


def _grow(
    brochure: Brochure, fonts: SubsetCache, configuration: Callable[[], Any], laid: _Laid
) -> tuple[str, bytes]:
    """The laid-out page with its map grown into the room left at its foot (as it is when
    that would run over)."""
    html, document, options, fit = laid
    grown = _grown_map(brochure, fit, document)
    if grown is not None:
        taller = render_html(brochure, fit=replace(fit, map_height=grown))
        taller_document, taller_options = _layout(taller, brochure.locale, fonts, configuration)
        if len(taller_document.pages) == 1:
            html, document, options = taller, taller_document, taller_options
    return html, document.write_pdf(**options)


def _page_bottom(page: Any) -> float:
    return float(page.content_box_y() + page.height - FOOT)


def _column_room(document: Any, column: str) -> float:
    """The room (CSS px) below the laid-out page's `column` ("main" or "side")."""
    page = document.pages[0]._page_box
    boxes = [box for box in _boxes(page) if column in _classes(box)]
    if not boxes:
        return 0.0
    return _page_bottom(page) - float(boxes[0].position_y + boxes[0].margin_height())


def _displacing(brochure: Brochure, document: Any) -> list[int]:
    """How many of the oldest timeline steps to give a row of photos the room of (the
    fewest that would make room, and one more), keeping the latest `KEPT_STEPS` steps and the
    agreement: measured on the page laid out without photos."""
    timelines = [box for box in _boxes(document.pages[0]._page_box) if "timeline" in _classes(box)]
    shown = shown_milestones(brochure, BrochureFit(False))
    if not timelines or not shown:
        return []
    step = timelines[0].height / len(shown)
    need = ROW_ROOM * PX_PER_MM - _column_room(document, "main")
    fewest = max(1, math.ceil(need / step))
    agreement = 1 if shown[0].kind == "agreement" else 0
    return [
        displaced
        for displaced in (fewest, fewest + 1)
        if len(shown_milestones(brochure, BrochureFit(True, displaced))) - agreement >= KEPT_STEPS
    ]


def _grown_map(brochure: Brochure, fit: BrochureFit, document: Any) -> float | None:
    """The pair map's height that takes up the room left at the foot of the laid-out page
    (None: no map, no room, or already as tall as it gets)."""
    if not brochure.map:
        return None
    page = document.pages[0]._page_box
    boxes = list(_boxes(page))
    figures = [box for box in boxes if "pair" in _classes(box)]
    if not figures or not figures[0].width:
        return None
    bottom = max(box.position_y + box.margin_height() for box in boxes if box.height is not None)
    room = _page_bottom(page) - bottom
    height = _map_height(brochure, fit)
    if room < GROW_LEAST * PX_PER_MM or height >= MAX_MAP:
        return None
    return float(min(MAX_MAP, height + room * maps.PAIR_WIDTH / figures[0].width))


def _boxes(box: Any) -> Iterator[Any]:
    """The boxes laid out under `box` (the page's content, not its margin boxes)."""
    for child in getattr(box, "children", ()):
        if type(child).__name__ == "MarginBox":
            continue
        if hasattr(child, "position_y"):
            yield child
            yield from _boxes(child)


def _classes(box: Any) -> list[str]:
    element = getattr(box, "element", None)
    return (element.get("class") or "").split() if element is not None else []


def render_html(
    document: Document | Briefing | ProgressReport, *, fit: BrochureFit | None = None
) -> str:
    """The document as one self-contained HTML page in its locale (a brochure's page shared
    out as `fit` says, or as estimated: `fit_brochure` lays it out to find it)."""
    if isinstance(document, ProgressReport):
        # The report's own context (figures, charts) is the plans' (which render with this
        # module's environment: imported here, not above).
        from twinning.plans.report import render_html as report_html

        return report_html(document.progress, document.locale, document.office)
    with force_locale(document.locale):
        if isinstance(document, Leaflet):
            return (
                environment()
                .get_template("leaflet.html")
                .render(
                    doc=document,
                    panel_photos=leaflet_photo_panels(document),
                    **_pictures(document),
                )
            )
        if isinstance(document, Brochure):
            fit = fit or estimated_fit(document)
            return (
                environment()
                .get_template("brochure.html")
                .render(
                    doc=document,
                    city_paragraph=shows_city_paragraph(document, fit)
                    if fit.city_paragraph is None
                    else fit.city_paragraph
                    and document.city is not None
                    and document.city.about is not None,
                    milestones=shown_milestones(document, fit),
                    photo_height=PHOTO_HEIGHT,
                    brochure_photos=document.photos if fit.photos else (),
                    side_photos=document.photos[: fit.side],
                    side_photo_height=fit.side_height,
                    panel_photos={},
                    **_pictures(document, fit),
                )
            )
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


#: The brochure in Traditional Chinese, beside the one in the partner's language.
BESIDE = "zh-TW"
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)


def bilingual_html(first: str, second: str, second_locale: str) -> str:
    """One brochure in two languages as one document: `first` as it is, then the body of
    `second` from a new page, marked with its language and set in its face (printed back to
    back, or side by side as a spread, as twin cities print them)."""
    body = _BODY.search(second)
    face = f"f-{document_face(second_locale)}"
    inner = body.group(1) if body is not None else second
    page = f'<div class="second-language {face}" lang="{second_locale}">{inner}</div>\n'
    end = first.rfind("</body>")
    end = end if end >= 0 else len(first)
    return first[:end] + page + first[end:]


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
    with font_configurations() as configuration:
        document, options = _layout(html, locale, fonts, configuration, for_print=for_print)
        pdf: bytes = document.write_pdf(**options)
    return pdf


@contextmanager
def font_configurations() -> Iterator[Callable[[], Any]]:
    """A maker of WeasyPrint font configurations (one per layout) for one document, whose
    folders of font files are removed once the document is written. WeasyPrint writes each
    embedded font into a `weasyprint-*` folder of the system's temporary directory and removes
    it only when its configuration is collected; a laid-out document holds the configuration
    in a reference cycle, so the folder stayed until Python's next cycle collection, and for
    good when the process ended first (hundreds of them in /tmp after a day of runs)."""
    from weasyprint.text.fonts import FontConfiguration

    made: list[Any] = []

    def make() -> Any:
        made.append(FontConfiguration())
        return made[-1]

    try:
        yield make
    finally:
        for configuration in made:
            # The folder WeasyPrint's own `__del__` removes (`_folder`, made on first use; a
            # test checks that a render leaves none, should a new WeasyPrint rename it).
            folder = getattr(configuration, "_folder", None)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
                configuration._folder = None


def _layout(
    html: str,
    locale: str,
    fonts: SubsetCache,
    configuration: Callable[[], Any],
    *,
    for_print: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """The page laid out (a WeasyPrint document: its pages and boxes), and the options that
    write it as `render_pdf` says. Its fonts come from a configuration of its own
    (`configuration()`, from `font_configurations`), one per layout as WeasyPrint makes
    them itself: the layouts of one brochure embed subsets of different characters under the
    same family names."""
    from weasyprint import CSS, DEFAULT_OPTIONS, HTML

    _tag_span_languages()
    fetcher = _fetcher()
    font_config = configuration()
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
    options = {
        **DEFAULT_OPTIONS,
        "stylesheets": stylesheets,
        "full_fonts": embedded.complete,
        "pdf_variant": "pdf/x-4" if for_print else "pdf/ua-1",
        "pdf_identifier": b"twinning" if for_print else None,
    }
    document = page.render(font_config=font_config, **options)
    # What `write_pdf` takes (as WeasyPrint's own `HTML.write_pdf` passes them on).
    return document, {key: options[key] for key in DEFAULT_OPTIONS}


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
    if isinstance(document, Brochure):
        return fit_brochure(document, subset_cache(font_dir))
    html = render_html(document)
    return html, render_pdf(html, document.locale, subset_cache(font_dir))
