"""The land of the maps: Natural Earth (public domain) as TopoJSON from the npm package
`world-atlas` 2.0.2 (ISC, see `geodata/VENDORED.md`), decoded here, rotated to a chosen central
longitude, clipped and projected with the Equal Earth projection.

TopoJSON is small enough to read by hand (quantized, delta-encoded arcs shared by rings), and
no maintained PyPI package decodes it without pulling in shapely and GEOS: the 60 lines below
do what the maps need. Rings are clipped in longitude/latitude (Sutherland-Hodgman against the
map's seam and its latitude band), which is exact for these axis-aligned edges; filled, never
stroked, the zero-width bridges that method can leave along a clip edge do not show.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path

GEODATA = Path(__file__).parent / "geodata"

Ring = list[tuple[float, float]]  # (longitude, latitude) in degrees
Point = tuple[float, float]

# Equal Earth (Šavrič, Patterson, Jenny 2018), on the unit sphere.
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2


def equal_earth(longitude: float, latitude: float) -> Point:
    """Projected (x, y), y growing north, for a longitude already relative to the centre."""
    theta = math.asin(_M * math.sin(math.radians(latitude)))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = (
        math.radians(longitude)
        * math.cos(theta)
        / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    )
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


@cache
def land(scale: str = "110m") -> tuple[Ring, ...]:
    """Every land ring of the Natural Earth `scale` ("110m" or "50m"), decoded."""
    topology = json.loads((GEODATA / f"land-{scale}.json").read_text())
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs: list[Ring] = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indices: Sequence[int]) -> Ring:
        points: Ring = []
        for index in indices:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc[1:] if points else arc)
        return points

    rings: list[Ring] = []
    for geometry in topology["objects"]["land"]["geometries"]:
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        rings.extend(ring(r) for polygon in polygons for r in polygon)
    return tuple(rings)


def wrap(longitude: float) -> float:
    """Into [-180, 180)."""
    return (longitude + 180) % 360 - 180


def _clip(
    ring: Ring, inside: Callable[[Point], bool], cut: Callable[[Point, Point], Point]
) -> Ring:
    """One Sutherland-Hodgman pass against a half-plane."""
    out: Ring = []
    for i, current in enumerate(ring):
        previous = ring[i - 1]
        if inside(current):
            if not inside(previous):
                out.append(cut(previous, current))
            out.append(current)
        elif inside(previous):
            out.append(cut(previous, current))
    return out


def _at_longitude(edge: float) -> Callable[[Point, Point], Point]:
    def cut(a: Point, b: Point) -> Point:
        t = (edge - a[0]) / (b[0] - a[0])
        return edge, a[1] + t * (b[1] - a[1])

    return cut


def _at_latitude(edge: float) -> Callable[[Point, Point], Point]:
    def cut(a: Point, b: Point) -> Point:
        t = (edge - a[1]) / (b[1] - a[1])
        return a[0] + t * (b[0] - a[0]), edge

    return cut


def clip_box(ring: Ring, west: float, east: float, south: float, north: float) -> Ring:
    for inside, cut in (
        (lambda p: p[0] >= west, _at_longitude(west)),
        (lambda p: p[0] <= east, _at_longitude(east)),
        (lambda p: p[1] >= south, _at_latitude(south)),
        (lambda p: p[1] <= north, _at_latitude(north)),
    ):
        if not ring:
            break
        ring = _clip(ring, inside, cut)
    return ring


def _densify(ring: Ring, step: float = 2.0) -> Ring:
    """Extra points on long edges (clip edges along the seam), which project as curves."""
    out: Ring = []
    for i, (x, y) in enumerate(ring):
        px, py = ring[i - 1]
        n = int(max(abs(x - px), abs(y - py)) // step)
        out.extend(
            (px + (x - px) * k / (n + 1), py + (y - py) * k / (n + 1)) for k in range(1, n + 1)
        )
        out.append((x, y))
    return out


def rotated_land(centre: float, south: float, north: float, scale: str = "110m") -> list[Ring]:
    """The land rings with longitudes relative to `centre`, cut at the seam (centre + 180°)
    and to the latitude band: each ring is within [-180, 180] x [south, north]."""
    out = []
    for ring in land(scale):
        if max(lat for _, lat in ring) < south or min(lat for _, lat in ring) > north:
            continue
        unwrapped: Ring = []
        for longitude, latitude in ring:
            relative = wrap(longitude - centre)
            if unwrapped:
                previous = unwrapped[-1][0]
                relative += 360 * round((previous - relative) / 360)
            unwrapped.append((relative, latitude))
        if abs(unwrapped[0][0] - unwrapped[-1][0]) > 180:
            continue  # a ring around a pole (Antarctica): outside every band the maps show
        low, high = min(p[0] for p in unwrapped), max(p[0] for p in unwrapped)
        for shift in (-360, 0, 360):
            if high + shift < -180 or low + shift > 180:
                continue
            piece = clip_box([(x + shift, y) for x, y in unwrapped], -180, 180, south, north)
            if len(piece) >= 3:
                out.append(_densify(piece))
    return out


def great_circle(a: Point, b: Point, steps: int = 48) -> list[Point]:
    """Points (longitude, latitude) along the shorter great circle from a to b."""
    (lon1, lat1), (lon2, lat2) = (tuple(map(math.radians, p)) for p in (a, b))
    v1 = (math.cos(lat1) * math.cos(lon1), math.cos(lat1) * math.sin(lon1), math.sin(lat1))
    v2 = (math.cos(lat2) * math.cos(lon2), math.cos(lat2) * math.sin(lon2), math.sin(lat2))
    omega = math.acos(max(-1.0, min(1.0, sum(p * q for p, q in zip(v1, v2, strict=True)))))
    if omega < 1e-9:
        return [a, b]
    points = []
    for k in range(steps + 1):
        t = k / steps
        s1, s2 = math.sin((1 - t) * omega) / math.sin(omega), math.sin(t * omega) / math.sin(omega)
        x, y, z = (s1 * p + s2 * q for p, q in zip(v1, v2, strict=True))
        points.append(
            (math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, math.hypot(x, y))))
        )
    return points


EARTH_RADIUS_KM = 6371.0088


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine) between two (longitude, latitude) points."""
    (lon1, lat1), (lon2, lat2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def path_data(rings: Iterable[Sequence[Point]], *, closed: bool = True) -> str:
    """SVG path data of projected rings, to a tenth of a unit, repeated points dropped."""
    parts = []
    for ring in rings:
        points: list[str] = []
        for x, y in ring:
            point = f"{x:.1f} {y:.1f}"
            if not points or points[-1] != point:
                points.append(point)
        if len(points) >= (3 if closed else 2):
            parts.append("M" + "L".join(points) + ("Z" if closed else ""))
    return "".join(parts)
