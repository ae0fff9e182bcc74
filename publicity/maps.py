"""The maps of the leaflets and brochures, as inline SVG: the world centred on the home city
(Equal Earth, land from `twinning.publicity.geo`) with great-circle arcs to each partner and an
inset enlarging the densest cluster, and a brochure's map of the two cities with their distance.

Labels never overlap one another or a marker: each is placed greedily (the most crowded
markers first) at the first of several positions around its marker whose box is free; a name
that finds no room is replaced by a number, explained in a key under the map. Every label
carries its box (`data-box`: x, y, width, height in the SVG's units) so that tests can check.
Widths are estimated from the characters (a full-width character is 1 em), a bound the real
Noto Sans CJK advances stay under.
"""

from __future__ import annotations

import math
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup
from twinning.publicity import geo
from twinning.publicity.charts import _markup, _shown_text, _svg, _text
from twinning.publicity.content import MapPoint

WIDTH = 300
NORTH, SOUTH = 78.0, -56.0
LABEL_SIZE = 7.5
INSET_SIZE = 7.0
OCEAN, LAND, COAST = "#dcebf5", "#c9d3bd", "#9aa88c"
HOME, PARTNER, ARC = "#D55E00", "#0072B2", "#0072B2"
MARKER_R, HOME_R = 2.2, 3.0
INSET_HEIGHT = 130.0
#: Markers this many or more close together get an inset.
DENSE = 4


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )

    def inside(self, other: Box) -> bool:
        return (
            self.x >= other.x
            and self.y >= other.y
            and self.x + self.w <= other.x + other.w
            and self.y + self.h <= other.y + other.h
        )


def text_width(text: str, size: float) -> float:
    """An upper bound of the text's advance in Noto Sans CJK at `size`."""
    em = 0.0
    for character in text:
        if unicodedata.east_asian_width(character) in ("W", "F"):
            em += 1.0
        elif character.isspace():
            em += 0.3
        elif character in "mwMW@%":
            em += 1.0
        elif character.isupper():
            em += 0.75
        else:
            em += 0.6
    return em * size


@dataclass
class Placed:
    """A label put on the map: its text box and where its text is drawn."""

    box: Box
    x: float
    y: float
    anchor: str


def _candidates(
    x: float, y: float, r: float, w: float, h: float
) -> list[tuple[Box, float, float, str]]:
    """Positions around a marker at (x, y), nearest first: (box, text x, baseline y, anchor)."""
    out = []
    for gap in (1.5, 6.0, 12.0):
        d = r + gap
        descent = h * 0.22
        for dx, dy in ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 1), (-1, -1), (-1, 1)):
            if dx > 0:
                left, anchor, tx = x + d * (0.7 if dy else 1), "start", x + d * (0.7 if dy else 1)
            elif dx < 0:
                left, anchor, tx = x - d * (0.7 if dy else 1) - w, "end", x - d * (0.7 if dy else 1)
            else:
                left, anchor, tx = x - w / 2, "middle", x
            if dy < 0:
                top = y - d * (0.7 if dx else 1) - h
            elif dy > 0:
                top = y + d * (0.7 if dx else 1)
            else:
                top = y - h / 2
            out.append((Box(left, top, w, h), tx, top + h - descent, anchor))
    return out


def place_labels(
    markers: Sequence[tuple[float, float, float]],
    texts: Sequence[str | None],
    size: float,
    bounds: Box,
    blocked: Sequence[Box] = (),
) -> list[Placed | None]:
    """A place for each text (None where there is no room, or no text) such that no two
    labels overlap and no label covers a marker or a blocked box."""
    marker_boxes = [Box(x - r, y - r, 2 * r, 2 * r) for x, y, r in markers]
    taken: list[Box] = [*marker_boxes, *blocked]
    h = size * 1.25

    def crowding(i: int) -> float:
        x, y, _ = markers[i]
        return -sum(1 for mx, my, _ in markers if abs(mx - x) < 40 and abs(my - y) < 20)

    placed: list[Placed | None] = [None] * len(markers)
    for i in sorted(range(len(markers)), key=lambda i: (crowding(i), i)):
        text = texts[i]
        if not text:
            continue
        x, y, r = markers[i]
        for box, tx, ty, anchor in _candidates(x, y, r, text_width(text, size), h):
            if box.inside(bounds) and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                placed[i] = Placed(box, tx, ty, anchor)
                break
    return placed


@dataclass(frozen=True)
class Frame:
    """The world as the map shows it: Equal Earth centred on `centre`, `scale` units per
    radian, cut to the latitude band."""

    centre: float
    scale: float
    left: float
    top: float

    def xy(self, longitude: float, latitude: float) -> tuple[float, float]:
        x, y = geo.equal_earth(geo.wrap(longitude - self.centre), latitude)
        return x * self.scale - self.left, self.top - y * self.scale

    def xy_relative(self, point: tuple[float, float]) -> tuple[float, float]:
        x, y = geo.equal_earth(*point)
        return x * self.scale - self.left, self.top - y * self.scale


def world_frame(centre: float, width: float = WIDTH) -> tuple[Frame, float]:
    edge, _ = geo.equal_earth(180, 0)
    scale = width / (2 * edge)
    _, top = geo.equal_earth(0, NORTH)
    _, bottom = geo.equal_earth(0, SOUTH)
    return Frame(centre, scale, -edge * scale, top * scale), (top - bottom) * scale


def _outline(frame: Frame) -> str:
    """The edge of the map: the seam's two meridians and the band's two parallels."""
    east = [(180.0, lat) for lat in _steps(SOUTH, NORTH)]
    west = [(-180.0, lat) for lat in _steps(NORTH, SOUTH)]
    return geo.path_data([[frame.xy_relative(p) for p in east + west]])


def _steps(start: float, stop: float, step: float = 2.0) -> list[float]:
    n = max(1, int(abs(stop - start) // step))
    return [start + (stop - start) * k / n for k in range(n + 1)]


def _land(parent: ET.Element, d: str) -> None:
    ET.SubElement(parent, "path", {"d": d, "fill": LAND, "stroke": "none", "class": "land"})


def _marker(parent: ET.Element, x: float, y: float, home: bool) -> None:
    ET.SubElement(
        parent,
        "circle",
        {
            "cx": f"{x:.1f}",
            "cy": f"{y:.1f}",
            "r": str(HOME_R if home else MARKER_R),
            "fill": HOME if home else PARTNER,
            "stroke": "#fff",
            "stroke-width": "0.6",
            "class": "marker",
        },
    )


def _label(
    parent: ET.Element, point: MapPoint | None, text: str, where: Placed, size: float
) -> None:
    box = where.box
    # A light halo under the text (WeasyPrint draws no `paint-order` text outlines).
    ET.SubElement(
        parent, "rect",
        {"x": f"{box.x:.1f}", "y": f"{box.y + box.h * 0.08:.1f}", "width": f"{box.w:.1f}",
         "height": f"{box.h * 0.84:.1f}", "rx": "1", "fill": "#fff", "fill-opacity": "0.7"},
    )  # fmt: skip
    attributes = {
        "text-anchor": where.anchor,
        "font-size": f"{size}",
        "class": "label",
        "data-box": f"{box.x:.2f} {box.y:.2f} {box.w:.2f} {box.h:.2f}",
    }
    if point is not None:
        from twinning.publicity.content import Shown

        _shown_text(parent, where.x, where.y, Shown(text, point.name.lang), **attributes)
    else:
        _text(parent, where.x, where.y, text, **attributes)


def _densest_cluster(
    points: Sequence[MapPoint], xy: Sequence[tuple[float, float]], candidates: set[int]
) -> list[int]:
    """The markers to enlarge: of the `candidates`, the one with most markers near it (40 by
    30 units), with those markers."""
    best: list[int] = []
    for i in sorted(candidates):
        near = [
            j
            for j in range(len(points))
            if abs(xy[j][0] - xy[i][0]) < 40 and abs(xy[j][1] - xy[i][1]) < 30
        ]
        if len(near) > len(best):
            best = near
    return best


def _inset(
    parent: ET.Element, points: Sequence[MapPoint], where: Box, home_lang_size: float
) -> tuple[list[Placed | None], list[tuple[float, float]]]:
    """An enlarged map of `points` inside `where` (equirectangular around their centre, land at
    1:50m): its labels' places and its markers."""
    lons = [p.longitude for p in points]
    lats = [p.latitude for p in points]
    centre_lon = (min(lons) + max(lons)) / 2
    centre_lat = (min(lats) + max(lats)) / 2
    k = math.cos(math.radians(centre_lat))
    span_x = max(6.0, (max(lons) - min(lons)) * k) * 1.8
    span_y = max(4.0, max(lats) - min(lats)) * 1.6
    unit = min(where.w / span_x, where.h / span_y)
    half_lon, half_lat = where.w / unit / k / 2, where.h / unit / 2

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (
            where.x + where.w / 2 + (lon - centre_lon) * k * unit,
            where.y + where.h / 2 - (lat - centre_lat) * unit,
        )

    group = ET.SubElement(parent, "g", {"class": "inset"})
    ET.SubElement(
        group,
        "rect",
        {"x": f"{where.x:.1f}", "y": f"{where.y:.1f}", "width": f"{where.w:.1f}",
         "height": f"{where.h:.1f}", "fill": OCEAN, "stroke": "#5b6475", "stroke-width": "0.6"},
    )  # fmt: skip
    west, east = centre_lon - half_lon, centre_lon + half_lon
    south, north = centre_lat - half_lat, centre_lat + half_lat
    rings = []
    for ring in geo.rotated_land(centre_lon, south, north, "50m"):
        piece = geo.clip_box(ring, west - centre_lon, east - centre_lon, south, north)
        if len(piece) >= 3:
            rings.append([xy(lon + centre_lon, lat) for lon, lat in piece])
    _land(group, geo.path_data(rings))
    markers = [xy(p.longitude, p.latitude) for p in points]
    for (x, y), point in zip(markers, points, strict=True):
        _marker(group, x, y, point.home)
    placed = place_labels(
        [(x, y, HOME_R if p.home else MARKER_R) for (x, y), p in zip(markers, points, strict=True)],
        [p.name.text for p in points],
        home_lang_size,
        Box(where.x + 1, where.y + 1, where.w - 2, where.h - 2),
    )
    for point, place in zip(points, placed, strict=True):
        if place is not None:
            _label(group, point, point.name.text, place, home_lang_size)
    return placed, markers


def world_map(points: Sequence[MapPoint], *, locale: str, title: str) -> tuple[Markup, list[str]]:
    """The world centred on the home city (else on the partners), arcs from home to each
    partner, labels placed without overlap, an inset for the densest cluster. Returns the
    SVG and the names keyed by number (those with no room on the map)."""
    home = next((p for p in points if p.home), None)
    centre = home.longitude if home else _mean_longitude(points)
    frame, height = world_frame(centre)
    bounds = Box(0, 0, WIDTH, height)
    xy = [frame.xy(p.longitude, p.latitude) for p in points]
    first = place_labels(
        [(x, y, HOME_R if p.home else MARKER_R) for (x, y), p in zip(xy, points, strict=True)],
        [p.name.text for p in points],
        LABEL_SIZE,
        bounds,
    )
    unplaced = {i for i, place in enumerate(first) if place is None}
    # A cluster is enlarged when its names found no room, or when it is dense anyway (four
    # cities or more close together: their names would be far from their markers).
    crowded = _densest_cluster(points, xy, set(range(len(points))))
    cluster = _densest_cluster(points, xy, unplaced) if unplaced else []
    if len(crowded) >= DENSE and len(crowded) >= len(cluster):
        cluster = crowded
    inset_box = _inset_place(xy, height) if len(cluster) >= 2 else None
    svg_height = height + (INSET_HEIGHT + 6 if inset_box else 0)
    svg = _svg(WIDTH, round(svg_height), locale, title)
    svg.set("font-size", str(LABEL_SIZE))
    ET.SubElement(
        svg, "path", {"d": _outline(frame), "fill": OCEAN, "stroke": "#9bb", "stroke-width": "0.5"}
    )
    rings = [
        [frame.xy_relative(p) for p in ring] for ring in geo.rotated_land(centre, SOUTH, NORTH)
    ]
    _land(svg, geo.path_data(rings))
    if home is not None:
        home_xy = (home.longitude, home.latitude)
        for point in points:
            if not point.home:
                _arc(svg, frame, home_xy, (point.longitude, point.latitude))
    in_inset = set(cluster) if inset_box else set()
    if inset_box is not None:
        xs = [xy[i][0] for i in cluster]
        ys = [xy[i][1] for i in cluster]
        ET.SubElement(
            svg, "rect",
            {"x": f"{min(xs) - 4:.1f}", "y": f"{min(ys) - 4:.1f}", "width": f"{max(xs) - min(xs) + 8:.1f}",
             "height": f"{max(ys) - min(ys) + 8:.1f}", "fill": "none", "stroke": "#5b6475",
             "stroke-width": "0.6", "stroke-dasharray": "2 1.5"},
        )  # fmt: skip
    for (x, y), point in zip(xy, points, strict=True):
        _marker(svg, x, y, point.home)
    # Labels again, now that the cluster is labelled in the inset.
    texts = [None if i in in_inset else p.name.text for i, p in enumerate(points)]
    markers = [(x, y, HOME_R if p.home else MARKER_R) for (x, y), p in zip(xy, points, strict=True)]
    placed = place_labels(markers, texts, LABEL_SIZE, bounds)
    key: list[str] = []
    numbers: list[str | None] = [None] * len(points)
    for i, place in enumerate(placed):
        if place is not None:
            _label(svg, points[i], points[i].name.text, place, LABEL_SIZE)
        elif texts[i]:
            key.append(points[i].name.text)
            numbers[i] = str(len(key))
    if key:
        taken = [p.box for p in placed if p is not None]
        for i, place in enumerate(place_labels(markers, numbers, LABEL_SIZE, bounds, taken)):
            if place is not None:
                _label(svg, None, numbers[i] or "", place, LABEL_SIZE)
    if inset_box is not None:
        inset_points = [points[i] for i in cluster]
        inset_placed, _ = _inset(svg, inset_points, inset_box, INSET_SIZE)
        key += [
            p.name.text for p, place in zip(inset_points, inset_placed, strict=True) if not place
        ]
    return _markup(svg), key


def _inset_place(xy: Sequence[tuple[float, float]], height: float) -> Box:
    """Below the world, full width."""
    return Box(0.5, height + 6, WIDTH - 1, INSET_HEIGHT - 1)


def _mean_longitude(points: Sequence[MapPoint]) -> float:
    if not points:
        return 0.0
    x = sum(math.cos(math.radians(p.longitude)) for p in points)
    y = sum(math.sin(math.radians(p.longitude)) for p in points)
    return math.degrees(math.atan2(y, x))


def _arc(svg: ET.Element, frame: Frame, a: tuple[float, float], b: tuple[float, float]) -> None:
    """The great circle from a to b, broken where it crosses the seam."""
    pieces: list[list[tuple[float, float]]] = [[]]
    previous = None
    for lon, lat in geo.great_circle(a, b):
        relative = geo.wrap(lon - frame.centre)
        if previous is not None and abs(relative - previous) > 180:
            pieces.append([])
        pieces[-1].append(frame.xy_relative((relative, lat)))
        previous = relative
    ET.SubElement(
        svg, "path",
        {"d": geo.path_data(pieces, closed=False), "fill": "none", "stroke": ARC,
         "stroke-width": "0.7", "stroke-opacity": "0.55", "class": "arc"},
    )  # fmt: skip


PAIR_WIDTH, PAIR_HEIGHT = 400.0, 100.0
PAIR_LABEL = 8.0


def pair_map(
    home: MapPoint | None,
    partner: MapPoint,
    *,
    locale: str,
    title: str,
    distance: str,
    height: float = PAIR_HEIGHT,
) -> Markup:
    """The two cities on a map cut to them (Equal Earth centred between them), the great
    circle between them and its length; `height` in units of a 400-unit width (a brochure
    with a short history gives the map more of its page). Without `home` (the office's
    location is not set), the partner alone on the map of its region."""
    PAIR_HEIGHT = height
    b = (partner.longitude, partner.latitude)
    a = (home.longitude, home.latitude) if home is not None else b
    path = geo.great_circle(a, b) if home is not None else [b]
    mid = path[len(path) // 2]
    frame0, _ = world_frame(mid[0], 1.0)
    projected = [frame0.xy_relative((geo.wrap(lon - mid[0]), lat)) for lon, lat in path]
    xs, ys = [p[0] for p in projected], [p[1] for p in projected]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    # Room around the two cities; the box keeps the map's proportions.
    span_x, span_y = max(span_x * 1.5, 0.08), max(span_y * 1.5, 0.08)
    if span_x / span_y < PAIR_WIDTH / PAIR_HEIGHT:
        span_x = span_y * PAIR_WIDTH / PAIR_HEIGHT
    else:
        span_y = span_x * PAIR_HEIGHT / PAIR_WIDTH
    scale = PAIR_WIDTH / span_x
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    frame = Frame(
        mid[0],
        frame0.scale * scale,
        (frame0.left + cx - span_x / 2) * scale,
        (frame0.top - cy + span_y / 2) * scale,
    )
    svg = _svg(round(PAIR_WIDTH), round(PAIR_HEIGHT), locale, title)
    svg.set("font-size", str(PAIR_LABEL))
    ET.SubElement(
        svg,
        "rect",
        {"x": "0", "y": "0", "width": str(PAIR_WIDTH), "height": str(PAIR_HEIGHT), "fill": OCEAN},
    )
    scale_name = "50m" if span_x / frame0.scale < 0.6 else "110m"
    view = Box(-10, -10, PAIR_WIDTH + 20, PAIR_HEIGHT + 20)
    rings = []
    for ring in geo.rotated_land(mid[0], -85, 85, scale_name):
        projected_ring = [frame.xy_relative(p) for p in ring]
        rx, ry = [p[0] for p in projected_ring], [p[1] for p in projected_ring]
        if Box(min(rx), min(ry), max(rx) - min(rx), max(ry) - min(ry)).overlaps(view):
            rings.append(projected_ring)
    _land(svg, geo.path_data(rings))
    cities = (home, partner) if home is not None else (partner,)
    if home is not None:
        _arc(svg, frame, a, b)
    ends = [frame.xy(point.longitude, point.latitude) for point in cities]
    for (x, y), point in zip(ends, cities, strict=True):
        _marker(svg, x, y, point.home)
    bounds = Box(0, 0, PAIR_WIDTH, PAIR_HEIGHT)
    mx, my = frame.xy(*mid)
    markers = [(x, y, HOME_R) for x, y in ends]
    texts = [point.name.text for point in cities]
    if home is not None:
        markers.append((mx, my, 0.5))
        texts.append(distance)
    placed = place_labels(markers, texts, PAIR_LABEL, bounds)
    for point, place in zip(cities, placed, strict=False):
        if place is not None:
            _label(svg, point, point.name.text, place, PAIR_LABEL)
    if home is not None and placed[2] is not None:
        _label(svg, None, distance, placed[2], PAIR_LABEL)
    return _markup(svg)
