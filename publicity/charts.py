"""The pictures of the leaflets and brochures, as inline SVG (vector in the PDF too): a stacked
bar chart of exchanges by year and field (the maps are `twinning.publicity.maps`).

Built with ElementTree, which escapes every text and attribute it writes: names and labels
from the data cannot break out of the SVG. Every text element carries its face (class and
font-family, see `twinning.publicity.fonts`), since WeasyPrint's SVG renderer does not apply
the page's stylesheet inside an SVG.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markupsafe import Markup
from twinning.publicity.content import Chart, Shown
from twinning.publicity.fonts import FACES, document_face, face_for
from twinning.streams.events import ExchangeField

#: One colour per exchange field, in the order of `ExchangeField` (Okabe-Ito first: distinct
#: in print and for the common colour-vision deficiencies).
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
    "#F0E442", "#000000", "#8C6D31", "#7F7F7F", "#5E3C99",
)  # fmt: skip
FIELD_ORDER = tuple(field.value for field in ExchangeField)

WIDTH = 640
BAR_AREA = 170  # height of the tallest bar
FONT_SIZE = 11


def _svg(width: int, height: int, locale: str, label: str) -> ET.Element:
    """An SVG root titled `label` (the text alternative: `aria-label` for browsers, `<title>`
    for the PDF's tags)."""
    face = FACES[document_face(locale)]
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {width} {height}",
            "width": "100%",
            "role": "img",
            "aria-label": label,
            "class": f"f-{face.key}",
            "font-family": face.css_stack(),
            "font-size": str(FONT_SIZE),
        },
    )
    ET.SubElement(svg, "title").text = label
    return svg


def _text(parent: ET.Element, x: float, y: float, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", **attributes})
    element.text = text
    return element


def _shown_text(parent: ET.Element, x: float, y: float, shown: Shown, **attributes: str) -> None:
    """A text from the data, in the face of its own language when that has one."""
    key = face_for(shown.lang) if shown.lang else None
    if key is not None:
        attributes |= {"class": f"f-{key}", "font-family": FACES[key].css_stack()}
    if shown.lang:
        attributes["lang"] = shown.lang
    _text(parent, x, y, shown.text, **attributes)


def _markup(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))


def exchange_chart(chart: Chart, *, locale: str, title: str, bar_area: int = BAR_AREA) -> Markup:
    """Stacked bars: one per year, one colour per field, the total above, a legend below."""
    BAR_AREA = bar_area
    legend_rows = -(-len(chart.series) // 3)
    height = BAR_AREA + 50 + 18 * legend_rows
    svg = _svg(WIDTH, height, locale, title)
    totals = [sum(s.counts[i] for s in chart.series) for i in range(len(chart.years))]
    top = max(totals) or 1
    slot = (WIDTH - 40) / len(chart.years)
    bar = min(36.0, slot * 0.6)
    base_y = BAR_AREA + 20
    ET.SubElement(
        svg, "line", {"x1": "20", "x2": str(WIDTH - 20), "y1": str(base_y), "y2": str(base_y),
                      "stroke": "#555", "stroke-width": "1"},
    )  # fmt: skip
    for i, year in enumerate(chart.years):
        x = 20 + slot * i + (slot - bar) / 2
        y = float(base_y)
        for series in chart.series:
            count = series.counts[i]
            if not count:
                continue
            h = BAR_AREA * count / top
            y -= h
            ET.SubElement(
                svg, "rect", {"x": f"{x:.1f}", "y": f"{y:.1f}", "width": f"{bar:.1f}",
                              "height": f"{h:.1f}", "fill": _colour(series.key)},
            )  # fmt: skip
        if totals[i]:
            _text(svg, x + bar / 2, y - 4, str(totals[i]), **{"text-anchor": "middle"})
        _text(svg, x + bar / 2, base_y + 15, str(year), **{"text-anchor": "middle"})
    for n, series in enumerate(chart.series):
        row, column = divmod(n, 3)
        x, y = 20 + column * (WIDTH - 40) / 3, base_y + 38 + row * 18
        ET.SubElement(
            svg, "rect", {"x": f"{x:.1f}", "y": f"{y - 10:.1f}", "width": "12", "height": "12",
                          "fill": _colour(series.key)},
        )  # fmt: skip
        _text(svg, x + 18, y, series.label)
    return _markup(svg)


def _colour(field: str) -> str:
    return PALETTE[FIELD_ORDER.index(field) % len(PALETTE)]
