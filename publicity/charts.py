"""The pictures of the leaflets and brochures, as inline SVG (vector in the PDF too): a stacked
bar chart of exchanges by year and field, and a map of the partner cities.

Built with ElementTree, which escapes every text and attribute it writes: names and labels
from the data cannot break out of the SVG. Every text element carries its face (class and
font-family, see `twinning.publicity.fonts`), since WeasyPrint's SVG renderer does not apply
the page's stylesheet inside an SVG.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from markupsafe import Markup
from twinning.publicity.content import Chart, MapPoint, Shown
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
    face = FACES[document_face(locale)]
    return ET.Element(
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
    BAR_AREA = bar_area  # noqa: N806 (the module's default, overridden for a compact chart)
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


#: The latitudes the map shows: where cities are (the poles would be empty paper).
NORTH, SOUTH = 75, -60
MAP_HEIGHT = round(WIDTH * (NORTH - SOUTH) / 360)


def _project(latitude: float, longitude: float) -> tuple[float, float]:
    """Equirectangular: longitude and latitude are x and y, degrees scaled alike."""
    latitude = min(NORTH, max(SOUTH, latitude))
    return (longitude + 180) / 360 * WIDTH, (NORTH - latitude) / (NORTH - SOUTH) * MAP_HEIGHT


def partner_map(points: Sequence[MapPoint], *, locale: str, title: str) -> Markup:
    """The partners on a world graticule, linked to the city when its location is set."""
    svg = _svg(WIDTH, MAP_HEIGHT, locale, title)
    ET.SubElement(
        svg, "rect", {"x": "0", "y": "0", "width": str(WIDTH), "height": str(MAP_HEIGHT),
                      "fill": "#eef4f8", "stroke": "#9bb"},
    )  # fmt: skip
    for longitude in range(-150, 180, 30):
        x, _ = _project(0, longitude)
        ET.SubElement(svg, "line", {"x1": f"{x:.1f}", "x2": f"{x:.1f}", "y1": "0",
                                    "y2": str(MAP_HEIGHT), "stroke": "#cdd", "stroke-width": "0.6"})  # fmt: skip
    for latitude in range(-60, NORTH, 30):
        _, y = _project(latitude, 0)
        ET.SubElement(svg, "line", {"x1": "0", "x2": str(WIDTH), "y1": f"{y:.1f}", "y2": f"{y:.1f}",
                                    "stroke": "#9bb" if latitude == 0 else "#cdd", "stroke-width": "0.6"})  # fmt: skip
    home = next((p for p in points if p.home), None)
    if home is not None:
        hx, hy = _project(home.latitude, home.longitude)
        for point in points:
            if not point.home:
                x, y = _project(point.latitude, point.longitude)
                ET.SubElement(svg, "line", {"x1": f"{hx:.1f}", "y1": f"{hy:.1f}", "x2": f"{x:.1f}",
                                            "y2": f"{y:.1f}", "stroke": "#0072B2", "stroke-width": "0.8",
                                            "stroke-opacity": "0.6"})  # fmt: skip
    for point in points:
        x, y = _project(point.latitude, point.longitude)
        ET.SubElement(
            svg, "circle", {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": "5" if point.home else "3.5",
                            "fill": "#D55E00" if point.home else "#0072B2"},
        )  # fmt: skip
        anchor = "end" if x > WIDTH - 120 else "start"
        _shown_text(svg, x + (-6 if anchor == "end" else 6), y - 4, point.name,
                    **{"text-anchor": anchor})  # fmt: skip
    return _markup(svg)
