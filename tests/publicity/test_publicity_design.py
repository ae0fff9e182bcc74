"""The documents as a city would print them, checked on rendered output: the map's land and
labels, pages that fill and never overflow (for a city with one partner and one with forty, in
every shipped language), no empty sections, a tagged PDF, and the print variant's bleed."""

from __future__ import annotations

import base64
import gc
import itertools
import random
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from twinning.demo.pictures import picture
from twinning.i18n import force_locale, format_date, format_number, gettext, supported_locales
from twinning.i18n.labels import agreement_year, exchange_count, label, partner_city_count
from twinning.photos import cleaned, document_copy
from twinning.publicity import maps
from twinning.publicity.content import (
    Brochure,
    Chart,
    EventLine,
    ExchangeLine,
    FieldSeries,
    KeyFigureLine,
    Leaflet,
    MapPoint,
    Milestone,
    OfficeContact,
    OurCity,
    PartnerLine,
    PhotoLine,
    Region,
    Shown,
    Tally,
    TripLine,
    VisitLine,
    missing_translations,
)
from twinning.publicity.fonts import font_sources
from twinning.publicity.render import (
    _layout,
    bilingual_html,
    font_configurations,
    render_document,
    render_html,
    render_pdf,
    subset_cache,
)
from twinning.streams.events import ExchangeDirection, ExchangeField, PartnerKind

#: Every test of the module on one xdist worker: the module's fixture renders 20 documents
#: (a minute of CPU), once, instead of once on each worker the tests would be spread over.
pytestmark = pytest.mark.xdist_group("publicity-design")

LOCALES = supported_locales()
HOME = MapPoint(Shown("桃園市", "zh-TW"), 24.99, 121.30, home=True)
#: Partner cities with their names in a few languages, then generated ones.
KNOWN = [
    ({"zh-TW": "札幌市", "ja": "札幌市", "en": "Sapporo"}, 43.06, 141.35, "JP"),
    ({"zh-TW": "釜山廣域市", "ko": "부산광역시", "en": "Busan"}, 35.18, 129.08, "KR"),
    ({"zh-TW": "大阪市", "ja": "大阪市", "en": "Osaka"}, 34.69, 135.50, "JP"),
    ({"zh-TW": "首爾特別市", "ko": "서울특별시", "en": "Seoul"}, 37.57, 126.98, "KR"),
    ({"zh-TW": "福岡市", "ja": "福岡市", "en": "Fukuoka"}, 33.59, 130.40, "JP"),
    ({"zh-TW": "仁川廣域市", "ko": "인천광역시", "en": "Incheon"}, 37.46, 126.71, "KR"),
    ({"zh-TW": "瓦倫西亞", "es": "Valencia", "en": "Valencia"}, 39.47, -0.38, "ES"),
    ({"en": "Perth"}, -31.95, 115.86, "AU"),
]
EMPTY_SECTION_PHRASES = (
    # What the documents used to print for an empty section, in every shipped language.
    "No visits recorded yet.",
    "No exchanges recorded yet.",
    "No upcoming events at the moment.",
    "尚無訪問紀錄",
    "尚無交流紀錄",
    "目前沒有即將舉行的活動",
    "訪問の記録はまだありません",
    "交流の記録はまだありません",
    "現在予定されている行事はありません",
    "아직 방문 기록이 없습니다",
    "아직 교류 기록이 없습니다",
    "현재 예정된 행사가 없습니다",
    "Aún no hay visitas registradas",
    "Aún no hay intercambios registrados",
    "Por ahora no hay actividades próximas",
)


def _name(locale: str, names: dict[str, str]) -> Shown:
    for tag in (locale, "en", "zh-TW"):
        if tag in names:
            return Shown(names[tag], tag)
    raise AssertionError(names)


def _partners(count: int) -> list[tuple[dict[str, str], float, float, str]]:
    rng = random.Random(count)
    partners = KNOWN[:count]
    for n in range(len(partners), count):
        names = {"en": f"Generated City {n}", "zh-TW": f"測試城市{n}號"}
        partners.append((names, rng.uniform(-40, 62), rng.uniform(-125, 150), "US"))
    return partners


OFFICE = OfficeContact(
    Shown("桃園市政府秘書處國際事務科", "zh-TW"),
    Shown("330 桃園市桃園區縣府路1號", "zh-TW"),
    "international-affairs@city.example",
    "+886 3 332 2101",
)


#: Our city's profile as an office writes it: a long paragraph (the most the form takes is
#: 600 characters) in two languages, and four key figures.
ABOUT = {
    "zh-TW": "桃園市位於臺灣西北部，是國家的門戶：桃園國際機場每年迎接數千萬旅客。市內有高科技"
    "產業園區、客家與原住民文化，以及兩千多座埤塘構成的獨特地景。本市與世界各地城市在教育、文化、"
    "產業與智慧城市等領域交流合作。",
    "en": "Taoyuan, in north-western Taiwan, is the country's gateway: its international "
    "airport welcomes tens of millions of travellers a year. The city is home to high-tech "
    "industrial parks, Hakka and indigenous cultures, and a landscape of more than two thousand "
    "irrigation ponds. It works with cities around the world on education, culture, industry "
    "and smart-city projects.",
}
FIGURES = (
    ({"zh-TW": "人口", "en": "Population"}, "2,330,000"),
    ({"zh-TW": "面積", "en": "Area"}, "1,221 km²"),
    ({"zh-TW": "升格直轄市", "en": "Special municipality since"}, "2014"),
    ({"zh-TW": "機場年旅運量", "en": "Airport passengers a year"}, "35,000,000"),
)


def our_city(locale: str) -> OurCity:
    return OurCity(
        _name(locale, {"zh-TW": "桃園市", "en": "Taoyuan"}),
        _name(locale, ABOUT),
        tuple(KeyFigureLine(_name(locale, label), value) for label, value in FIGURES),
    )


def generated_leaflet(locale: str, count: int) -> Leaflet:
    """A leaflet of a city with `count` partners and a busy few years, as `content` makes it."""
    partners = _partners(count)
    with force_locale(locale):
        lines = [
            PartnerLine(
                _name(locale, names),
                country,
                label(PartnerKind.SISTER),
                agreement_year(1990 + i % 30),
            )
            for i, (names, _, _, country) in enumerate(partners)
        ]
        half = (len(lines) + 1) // 2
        regions = tuple(
            Region(name, tuple(chunk))
            for name, chunk in (("Asia", lines[:half]), ("Americas", lines[half:]))
            if chunk
        )
        fields = list(ExchangeField)[:4]
        summary = {
            "zh-TW": "交響樂團巡迴演出與市民音樂會交流活動",
            "en": "A symphony orchestra's tour and a citizens' concert exchange",
        }
        latest = tuple(
            ExchangeLine(
                format_date(date(2026, 1, 1) - timedelta(days=30 * i)),
                label(fields[i % 4]),
                label(ExchangeDirection.INBOUND),
                (lines[i % len(lines)].name,),
                _name(locale, summary),
            )
            for i in range(5)
        )
        events = tuple(
            EventLine(
                _name(
                    locale,
                    {
                        "zh-TW": "桃園國際燈會開幕典禮",
                        "en": "International Lantern Festival opening",
                    },
                ),
                format_date(date(2026, 3, 5 + i), format="long") + " 18:00–21:00",
                _name(locale, {"zh-TW": "桃園會展中心", "en": "Taoyuan Convention Center"}),
            )
            for i in range(min(4, count + 1))
        )
        years = tuple(range(2017, 2027))
        chart = Chart(
            years,
            tuple(
                FieldSeries(f.value, label(f), tuple((y + k) % 4 for y in years))
                for k, f in enumerate(fields)
            ),
        )
        return Leaflet(
            locale=locale,
            office=OFFICE,
            partner_count=partner_city_count(count),
            exchange_count=exchange_count(120),
            regions=regions,
            chart=chart,
            map=(
                *tuple(MapPoint(_name(locale, names), lat, lon) for names, lat, lon, _ in partners),
                HOME,
            ),
            latest=latest,
            events=events,
            fields=tuple(Tally(label(f), format_number(30 - 5 * k)) for k, f in enumerate(fields)),
            kinds=(Tally(label(PartnerKind.SISTER), format_number(count)),),
            page_url=f"https://city.example/publicity/leaflet?lang={locale}&format=html",
            city=our_city(locale),
        )


def generated_brochure(locale: str, busy: bool) -> Brochure:
    """A partner's brochure: a long history (`busy`) or an agreement and little else."""
    names, lat, lon, _ = KNOWN[1]
    name = _name(locale, names)
    text = {
        "zh-TW": "市長率團參訪智慧城市與綠能產業，並簽署青年交流備忘錄",
        "en": "The mayor's delegation studied smart-city and green-energy projects and signed a youth exchange memorandum",
    }
    with force_locale(locale):
        steps = 6 if busy else 1
        milestones = (
            Milestone(
                "2014-03-03",
                format_date(date(2014, 3, 3)),
                "agreement",
                gettext("Agreement"),
                Shown(label(PartnerKind.SISTER)),
            ),
            *tuple(
                Milestone(
                    f"{2016 + i}-05-01",
                    format_date(date(2016 + i, 5, 1)),
                    "exchange",
                    label(ExchangeField.CULTURE),
                    _name(locale, text),
                )
                for i in range(steps)
            ),
        )
        visits = tuple(
            VisitLine("2025/4/1–4/5", _name(locale, text), Shown("Deputy Mayor", "en"), "12")
            for _ in range(2 if busy else 0)
        )
        trips = tuple(
            TripLine("2025/10/1–10/3", _name(locale, text), name) for _ in range(2 if busy else 0)
        )
        years = tuple(range(2017, 2027))
        return Brochure(
            locale=locale,
            partner_id="busan",
            name=name,
            country="Korea",
            kind=label(PartnerKind.SISTER),
            website="https://www.busan.go.kr/",
            agreement=gettext(
                "Agreement signed on %(date)s", date=format_date(date(2014, 3, 3), format="long")
            ),
            scope=_name(locale, text),
            milestones=milestones,
            next_anniversary=None,
            exchange_count=exchange_count(12 if busy else 1),
            chart=Chart(
                years,
                (
                    FieldSeries(
                        "culture", label(ExchangeField.CULTURE), tuple(y % 3 for y in years)
                    ),
                ),
            ),
            timeline=(),
            inbound=visits,
            outbound=trips,
            office=OFFICE,
            region=Shown("Busan", "en"),
            fields=(label(ExchangeField.CULTURE), label(ExchangeField.EDUCATION)),
            map=(HOME, MapPoint(name, lat, lon)),
            distance="1,110 km",
            page_url=f"https://city.example/partners/busan/brochure?lang={locale}&format=html",
            city=our_city(locale),
            invited=tuple(
                EventLine(
                    _name(
                        locale, {"zh-TW": "桃園國際燈會開幕典禮", "en": "Lantern Festival opening"}
                    ),
                    format_date(date(2026, 3, 5), format="long") + " 18:00–21:00",
                    None,
                )
                for _ in range(1 if busy else 0)
            ),
        )


def generated_photos(locale: str, count: int) -> tuple[PhotoLine, ...]:
    """Photos as the demo draws them, captioned in the reader's language (or not)."""
    lines = []
    for n in range(count):
        jpeg, width, height = _demo_photo(n)
        caption = {"zh-TW": "釜山港的黃昏，市長率團參訪", "en": "Busan harbour at dusk"}
        lines.append(
            PhotoLine(
                "data:image/jpeg;base64," + jpeg,
                _name(locale, {"zh-TW": "釜山港的夜景", "en": "Busan's skyline at dusk"}),
                _name(locale, caption) if n % 2 == 0 else None,
                width,
                height,
            )
        )
    return tuple(lines)


@cache
def _demo_photo(n: int) -> tuple[str, int, int]:
    """The demo's nth photo as a document holds it (base64 JPEG, width, height): made once for
    every document of the module, since only its caption depends on the language."""
    clean = cleaned(picture("Busan", n), max_bytes=10_000_000)
    return base64.b64encode(document_copy(clean.data)).decode(), clean.width, clean.height


#: Of a laid-out leaflet, per panel: the bottom and right of its content box, and the bottom
#: and right edge of every box in it (with the box, named for a failure).
Panels = list[tuple[float, float, list[tuple[float, float, str]]]]


@dataclass
class Renders:
    documents: dict[tuple[str, str, Any], tuple[str, bytes]]
    leaflet_panels: dict[tuple[str, int], Panels]


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Renders:
    """Every shipped language: the leaflet of a city with 1 and with 40 partners (with
    photos, as the demo's), a quiet brochure (without) and a busy one (with photos). Once
    per session (per xdist worker), not per module: a module fixture is torn down whenever
    xdist runs another module's test in between, and this one takes a minute of CPU to make
    again. A leaflet's PDF is written from its layout as `render_pdf` writes it, and the
    panels of that same layout are kept for the overflow check (laying it out again would
    cost as much as rendering it)."""
    fonts_dir = str(tmp_path_factory.mktemp("fonts"))
    fonts = subset_cache(fonts_dir)
    out: dict[tuple[str, str, Any], tuple[str, bytes]] = {}
    panels: dict[tuple[str, int], Panels] = {}
    for locale in LOCALES:
        for count in (1, 40):
            leaflet = replace(generated_leaflet(locale, count), photos=generated_photos(locale, 4))
            html = render_html(leaflet)
            with font_configurations() as configuration:
                laid_out, options = _layout(html, locale, fonts, configuration)
                out["leaflet", locale, count] = html, laid_out.write_pdf(**options)
                panels[locale, count] = [
                    (
                        panel.content_box_y() + panel.height,
                        panel.content_box_x() + panel.width,
                        [
                            (
                                box.position_y + box.margin_height(),
                                box.position_x + box.margin_width(),
                                repr(box),
                            )
                            for box in _descendants(panel)
                            if box.height is not None and box.width is not None
                        ],
                    )
                    for page in laid_out.pages
                    for panel in _panels(page._page_box)
                ]
        for busy in (False, True):
            brochure = generated_brochure(locale, busy)
            if busy:
                brochure = replace(brochure, photos=generated_photos(locale, 3))
            # As the renderer makes it: laid out to fit its page (`fit_brochure`).
            out["brochure", locale, busy] = render_document(brochure, fonts_dir)
    return Renders(out, panels)


@pytest.fixture
def rendered(renders: Renders) -> dict[tuple[str, str, Any], tuple[str, bytes]]:
    return renders.documents


# --- the map -------------------------------------------------------------------------------------


def _boxes(svg: ET.Element) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    ns = "{http://www.w3.org/2000/svg}"
    labels = [
        tuple(map(float, text.attrib["data-box"].split()))
        for text in svg.iter(f"{ns}text")
        if "data-box" in text.attrib
    ]
    markers = []
    for circle in svg.iter(f"{ns}circle"):
        x, y, r = (float(circle.attrib[k]) for k in ("cx", "cy", "r"))
        markers.append((x - r, y - r, 2 * r, 2 * r))
    return labels, markers


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("count", [1, 8, 40])
def test_the_world_map_has_land_and_its_labels_never_overlap(count: int) -> None:
    leaflet = generated_leaflet("zh-TW", count)
    markup, key = maps.world_map(leaflet.map, locale="zh-TW", title="map")
    svg = ET.fromstring(str(markup))
    land = [p for p in svg.iter("{http://www.w3.org/2000/svg}path") if p.get("class") == "land"]
    assert land and sum(p.attrib["d"].count("L") for p in land) > 3000  # continents, not dots
    labels, markers = _boxes(svg)
    assert len(labels) + len(key) >= count + 1  # every city is named, on the map or in the key
    for a, b in itertools.combinations(labels, 2):
        assert not _overlap(a, b), (a, b)
    for a in labels:
        for marker in markers:
            assert not _overlap(a, marker), (a, marker)


def test_a_dense_cluster_gets_an_inset_at_a_larger_scale() -> None:
    markup, _ = maps.world_map(generated_leaflet("en", 8).map, locale="en", title="map")
    svg = ET.fromstring(str(markup))
    insets = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "inset"]
    assert len(insets) == 1
    inset_names = {t.text for t in insets[0].iter("{http://www.w3.org/2000/svg}text")}
    assert {"Sapporo", "Busan", "Osaka", "Seoul"} <= inset_names


def test_label_boxes_hold_the_real_glyph_advances() -> None:
    """The estimate labels are placed with is never narrower than the text as printed."""
    from fontTools.ttLib import TTCollection

    source = font_sources()[("tc", 400)]
    collection = TTCollection(str(source.path))
    font = collection.fonts[source.index]
    cmap, hmtx, upm = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    for text in ("札幌市", "Generated City 12", "São Paulo", "WWW MMM", "부산광역시", "1,110 km"):
        advance = sum(hmtx[cmap[ord(c)]][0] for c in text) / upm * 10
        assert maps.text_width(text, 10) >= advance, text


def test_the_map_is_the_same_svg_in_html_and_pdf_with_a_text_alternative(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]],
) -> None:
    html, _ = rendered["leaflet", "en", 40]
    svg = re.search(r"<svg[^>]*>", html)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert "Partner cities on the map: " in svg.group(0) and "Generated City 39" in svg.group(0)
    brochure_html, _ = rendered["brochure", "zh-TW", True]
    assert 'class="map pair"' in brochure_html and "1,110 km" in brochure_html


# --- pages that fill, never overflow, and print no empty section -----------------------------


def _page_fill(pdf: bytes, tmp_path: Path, *, columns: int = 1) -> list[float]:
    """Per page (or per column of a page: a leaflet's panels), the share of 5 mm bands
    across it that hold any ink (pdftoppm)."""
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "25", "-gray", str(source), str(tmp_path / "page")], check=True
    )
    fills = []
    for image in sorted(tmp_path.glob("page-*.pgm")):
        data = image.read_bytes()
        header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
        assert header is not None
        width, height = int(header.group(1)), int(header.group(2))
        pixels = data[header.end() :]
        band = max(1, round(max(width, height) * 5 / 297))  # 5 mm
        rows = [pixels[top * width : (top + 1) * width] for top in range(height)]
        step = width // columns
        for column in range(columns):
            bands = [
                any(
                    p < 235
                    for row in rows[top : top + band]
                    for p in row[column * step : (column + 1) * step]
                )
                for top in range(0, height, band)
            ]
            fills.append(sum(bands) / len(bands))
        image.unlink()
    return fills


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_is_at_least_two_thirds_full(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]], locale: str, tmp_path: Path
) -> None:
    for key in (
        ("leaflet", locale, 1),
        ("leaflet", locale, 40),
        ("brochure", locale, False),
        ("brochure", locale, True),
    ):
        fills = _page_fill(rendered[key][1], tmp_path)
        assert all(fill >= 0.67 for fill in fills), (key, fills)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_panel_of_the_leaflet_with_photos_is_at_least_two_thirds_full(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]], locale: str, tmp_path: Path
) -> None:
    """The photos take the room a panel's text leaves (the issue: the third panel of the
    demo's zh-TW leaflet held the latest exchanges and half a page of nothing)."""
    for count in (1, 40):
        html, pdf = rendered["leaflet", locale, count]
        fills = _page_fill(pdf, tmp_path, columns=3)
        assert all(fill >= 0.67 for fill in fills), (locale, count, fills)
        assert html.count('class="photo fill"') >= 3, (locale, count)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_brochure_with_a_full_timeline_still_prints_its_photos_on_its_one_page(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]], locale: str, tmp_path: Path
) -> None:
    """The page is laid out to find where the photos fit (the issue: a brochure dropped its
    photos whenever an estimate said the page was full, and left a fifth of it empty)."""
    html, pdf = rendered["brochure", locale, True]
    photos = re.findall(r'<img src="data:image/jpeg;base64,[^"]+" alt="([^"]+)"', html)
    assert photos and len(photos) <= 3, (locale, photos)
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    # The images are in the PDF, not only in its HTML.
    page = PdfReader(BytesIO(pdf)).pages[0]
    assert len(page.images) >= len(photos), locale
    assert all(fill >= 0.8 for fill in _page_fill(pdf, tmp_path)), locale


@pytest.mark.parametrize("locale", LOCALES)
def test_the_pair_map_labels_both_cities_and_their_distance(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]], locale: str
) -> None:
    for busy in (False, True):
        html, _ = rendered["brochure", locale, busy]
        figure = re.search(r'<figure class="map pair">(.*?)</figure>', html, re.S)
        assert figure is not None
        svg = ET.fromstring(figure.group(1))
        texts = ["".join(text.itertext()) for text in svg.iter("{http://www.w3.org/2000/svg}text")]
        assert HOME.name.text in texts, (locale, busy, texts)
        assert any("1,110 km" in text for text in texts), (locale, busy, texts)
        assert _name(locale, KNOWN[1][0]).text in texts, (locale, busy, texts)
        labels, markers = _boxes(svg)
        for a, b in itertools.combinations(labels, 2):
            assert not _overlap(a, b), (locale, busy, a, b)
        for a in labels:
            for marker in markers:
                assert not _overlap(a, marker), (locale, busy, a, marker)


@pytest.mark.parametrize("locale", LOCALES)
def test_nothing_overflows_a_panel_or_a_page(renders: Renders, locale: str) -> None:
    rendered = renders.documents
    for count in (1, 40):
        _, pdf = rendered["leaflet", locale, count]
        assert len(PdfReader(BytesIO(pdf)).pages) == 2  # one folded sheet
        panels = renders.leaflet_panels[locale, count]
        assert len(panels) == 6, (locale, count)  # three panels a side
        for bottom, right, boxes in panels:
            for box_bottom, box_right, box in boxes:
                assert box_bottom <= bottom + 0.5, (locale, count, box)
                assert box_right <= right + 0.5, (locale, count, box)
    for busy in (False, True):
        _, pdf = rendered["brochure", locale, busy]
        assert len(PdfReader(BytesIO(pdf)).pages) == 1


def _panels(box: Any) -> list[Any]:
    found = []
    for child in getattr(box, "children", []):
        element = getattr(child, "element", None)
        if (
            element is not None
            and "panel" in (element.get("class") or "").split()
            and child.element_tag == "section"
        ):
            found.append(child)
        else:
            found.extend(_panels(child))
    return found


def _descendants(box: Any) -> list[Any]:
    out = []
    for child in getattr(box, "children", []):
        if hasattr(child, "position_y"):
            out.append(child)
            out.extend(_descendants(child))
    return out


def test_no_empty_section_is_printed_in_any_language(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]],
) -> None:
    for key, (html, _) in rendered.items():
        for phrase in EMPTY_SECTION_PHRASES:
            assert phrase not in html, (key, phrase)
    quiet, _ = rendered["brochure", "en", False]
    assert "Visits in both directions" not in quiet  # no visit either way: no section


# --- PDFs for people and for printers ---------------------------------------------------------


def test_the_served_pdf_is_tagged_with_its_languages(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]],
) -> None:
    reader = PdfReader(BytesIO(rendered["brochure", "ja", True][1]))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "ja"
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    tree = root["/StructTreeRoot"].get_object()
    languages = set()

    def walk(node: Any, depth: int = 0) -> None:
        node = node.get_object()
        if isinstance(node, dict):
            if "/Lang" in node:
                languages.add(str(node["/Lang"]))
            kids = node.get("/K")
            if kids is not None:
                for kid in kids if isinstance(kids, list) else [kids]:
                    if depth < 40:
                        walk(kid, depth + 1)

    walk(tree)
    assert "zh-TW" in languages  # the office's name and the partner's, set in Chinese


def test_the_print_variant_has_bleed_crop_marks_and_folding_order(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]], tmp_path: Path
) -> None:
    html, _ = rendered["leaflet", "en", 40]
    pdf = render_pdf(html, "en", subset_cache(str(tmp_path)), for_print=True)
    reader = PdfReader(BytesIO(pdf))
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in metadata
    bleed = 3 / 25.4 * 72
    for page in reader.pages:
        trim, box = page.trimbox, page.bleedbox
        assert float(trim.left) - float(box.left) == pytest.approx(bleed, abs=0.1)
        assert float(box.top) - float(trim.top) == pytest.approx(bleed, abs=0.1)
        assert float(page.mediabox.width) >= float(box.width)
    outside, inside = (" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Contact the international affairs office" in outside and "City diplomacy" in outside
    assert "Our partner cities" in inside


def test_a_render_leaves_no_font_files_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeasyPrint writes the embedded fonts into a folder of the temporary directory; a
    document's render removes its folders itself, without waiting for Python's collection of
    reference cycles (off here: a process that ends first never gets one)."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    fonts = subset_cache(str(tmp_path / "fonts"))
    gc.disable()
    try:
        leaflet = render_pdf(render_html(generated_leaflet("en", 1)), "en", fonts)
        left_by_leaflet = sorted(path.name for path in temporary.iterdir())
        # The brochure is fitted to its page: several layouts, each with its fonts.
        _, brochure = render_document(generated_brochure("zh-TW", False), str(tmp_path / "fonts"))
        left_by_brochure = sorted(path.name for path in temporary.iterdir())
    finally:
        gc.enable()
    assert leaflet.startswith(b"%PDF") and brochure.startswith(b"%PDF")
    assert left_by_leaflet == [] and left_by_brochure == []


def test_a_fallback_to_another_language_is_listed_for_staff() -> None:
    leaflet = generated_leaflet("ja", 8)
    missing = {(f.text, f.lang) for f in missing_translations(leaflet)}
    assert ("Perth", "en") in missing  # no Japanese name
    assert ("Busan", "en") in missing
    assert not any(text == "札幌市" for text, _ in missing)
    assert (
        missing_translations(
            replace(
                leaflet,
                map=(),
                regions=(),
                latest=(),
                events=(),
                office=replace(OFFICE, name=Shown("x"), address=None),
                city=None,
            )
        )
        == ()
    )


def test_the_documents_carry_a_qr_code_of_their_public_page(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]],
) -> None:
    leaflet_html, _ = rendered["leaflet", "ko", 1]
    url = "https://city.example/publicity/leaflet?lang=ko&amp;format=html"
    assert f'<a href="{url}"><svg' in leaflet_html and 'class="qr"' in leaflet_html
    brochure_html, _ = rendered["brochure", "es", False]
    assert 'class="qr-box"' in brochure_html and "brochure?lang=es&amp;format=html" in brochure_html


def test_our_city_is_presented_on_the_leaflet_and_the_brochures(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]],
) -> None:
    def shown(key: tuple[str, str, Any]) -> str:
        return re.sub(r"<[^>]+>", "", rendered[key][0])

    for count in (1, 40):
        leaflet = shown(("leaflet", "en", count))
        assert "About Taoyuan" in leaflet and "Taoyuan in figures" in leaflet
        assert "1,221 km²" in leaflet and "irrigation ponds" in leaflet
    quiet = shown(("brochure", "zh-TW", False))
    assert "認識桃園市" in quiet and "數字看桃園市" in quiet and "埤塘" in quiet
    busy = shown(("brochure", "zh-TW", True))
    # A full page keeps the figures and leaves the paragraph out (it would overflow).
    assert "數字看桃園市" in busy and "埤塘" not in busy
    assert "誠摯邀請參與的近期活動" in busy and "桃園國際燈會開幕典禮" in busy


def test_a_bilingual_brochure_is_two_full_pages_each_tagged_with_its_language(
    rendered: dict[tuple[str, str, Any], tuple[str, bytes]], tmp_path: Path
) -> None:
    first, _ = rendered["brochure", "ja", True]
    second, _ = rendered["brochure", "zh-TW", True]
    html = bilingual_html(first, second, "zh-TW")
    pdf = render_pdf(html, "ja", subset_cache(str(tmp_path / "fonts")))
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 2
    assert reader.trailer["/Root"]["/Lang"] == "ja"
    assert all(fill >= 0.67 for fill in _page_fill(pdf, tmp_path))
    japanese, chinese = (" ".join(page.extract_text().split()) for page in reader.pages)
    assert "私たちの歩み" in japanese.replace(" ", "") and "我們的故事" not in japanese
    assert "我們的故事" in chinese.replace(" ", "")
    single = PdfReader(BytesIO(rendered["brochure", "ja", True][1]))
    # The Chinese page's texts are tagged zh-TW: many more than the Japanese page's names.
    assert _tagged(reader, "zh-TW") >= _tagged(single, "zh-TW") + 20


def _tagged(reader: PdfReader, language: str) -> int:
    """How many structure elements of the PDF are tagged with `language` (/Lang)."""
    found = 0

    def walk(node: Any, depth: int = 0) -> None:
        nonlocal found
        node = node.get_object()
        if isinstance(node, dict):
            found += str(node.get("/Lang", "")) == language
            kids = node.get("/K")
            for kid in (kids if isinstance(kids, list) else [kids]) if kids is not None else []:
                if depth < 60:
                    walk(kid, depth + 1)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_without_the_office_location_a_brochure_maps_the_partner_and_fills_its_page(
    locale: str, tmp_path: Path
) -> None:
    """No `TWINNING_OFFICE_LOCATION`: the map of the two cities cannot be drawn, so the
    partner is shown on the map of its region, grown into the page as the pair map is (a
    quiet brochure was otherwise half empty)."""
    quiet = generated_brochure(locale, False)
    alone = replace(quiet, map=quiet.map[1:], distance=None)
    html, pdf = render_document(alone, str(tmp_path / "fonts"))
    figure = re.search(r'<figure class="map pair">(.*?)</figure>', html, re.S)
    assert figure is not None
    svg = ET.fromstring(figure.group(1))
    texts = ["".join(text.itertext()) for text in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert alone.name.text in texts and HOME.name.text not in texts, texts
    land = [p for p in svg.iter("{http://www.w3.org/2000/svg}path") if p.get("class") == "land"]
    assert land, "the partner's region is drawn with its land"
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    assert all(fill >= 0.67 for fill in _page_fill(pdf, tmp_path)), locale
