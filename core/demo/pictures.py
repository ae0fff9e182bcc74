"""The demo's photos, drawn here with Pillow (nothing is downloaded): a skyline at dusk, a
harbour, hills by a lake, each with the city's name on it, in colours that vary by city, so
that every partner city's brochure and the leaflet show photos of their own."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1600, 1067  # 3:2, as a camera takes them
RGB = tuple[int, int, int]


def _mix(a: RGB, b: RGB, share: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * share),
        round(a[1] + (b[1] - a[1]) * share),
        round(a[2] + (b[2] - a[2]) * share),
    )


def _sky(draw: ImageDraw.ImageDraw, top: RGB, bottom: RGB, until: int) -> None:
    for y in range(until):
        draw.line([(0, y), (WIDTH, y)], fill=_mix(top, bottom, y / until))


def _label(image: Image.Image, name: str) -> None:
    """The city's name in the lower left corner, on a dark band (any script Pillow's default
    font draws; a name it cannot draw is left out rather than drawn as boxes)."""
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=64)
    text = name if all(ord(c) < 0x2E80 for c in name) else ""
    if not text:
        return
    box = draw.textbbox((0, 0), text, font=font)
    width, height = box[2] - box[0], box[3] - box[1]
    draw.rectangle((40, HEIGHT - height - 90, 40 + width + 48, HEIGHT - 40), fill=(12, 30, 48))
    draw.text((64, HEIGHT - height - 68), text, font=font, fill=(255, 255, 255))


def skyline(rng: random.Random, name: str) -> Image.Image:
    """Towers against a dusk sky, their windows lit, a river in front."""
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    hue = rng.choice([(255, 140, 90), (250, 180, 110), (230, 120, 150), (140, 170, 240)])
    _sky(draw, (24, 40, 92), hue, int(HEIGHT * 0.75))
    draw.ellipse((1150, 260, 1290, 400), fill=(255, 226, 170))
    water = int(HEIGHT * 0.75)
    x = -20
    while x < WIDTH:
        width, height = rng.randint(70, 170), rng.randint(180, 620)
        shade = rng.randint(30, 60)
        draw.rectangle((x, water - height, x + width, water), fill=(shade, shade + 8, shade + 28))
        for wy in range(water - height + 20, water - 20, 34):
            for wx in range(x + 12, x + width - 16, 26):
                if rng.random() < 0.45:
                    draw.rectangle((wx, wy, wx + 10, wy + 16), fill=(255, 214, 120))
        x += width + rng.randint(4, 18)
    for y in range(water, HEIGHT):
        draw.line([(0, y), (WIDTH, y)], fill=_mix((30, 50, 90), (10, 20, 40), (y - water) / 300))
    for _ in range(60):
        wx, wy = rng.randint(0, WIDTH), rng.randint(water + 10, HEIGHT - 10)
        draw.line([(wx, wy), (wx + rng.randint(20, 80), wy)], fill=(255, 200, 120), width=3)
    _label(image, name)
    return image


def harbour(rng: random.Random, name: str) -> Image.Image:
    """A harbour by day: the sea, a pier, boats and a lighthouse."""
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    _sky(draw, (90, 160, 225), (200, 228, 245), int(HEIGHT * 0.55))
    sea = int(HEIGHT * 0.55)
    for y in range(sea, HEIGHT):
        draw.line([(0, y), (WIDTH, y)], fill=_mix((30, 110, 160), (10, 60, 110), (y - sea) / 480))
    hills = [(0, sea)] + [(x, sea - rng.randint(40, 160)) for x in range(0, WIDTH + 200, 200)]
    draw.polygon([*hills, (WIDTH, sea)], fill=(70, 120, 80))
    draw.rectangle((200, sea + 120, 1500, sea + 150), fill=(120, 100, 80))
    draw.rectangle((1300, sea - 260, 1350, sea + 120), fill=(240, 240, 240))
    draw.rectangle((1300, sea - 200, 1350, sea - 160), fill=(200, 40, 40))
    draw.polygon([(1290, sea - 260), (1360, sea - 260), (1325, sea - 310)], fill=(200, 40, 40))
    for _ in range(6):
        bx, by = rng.randint(100, 1200), rng.randint(sea + 180, HEIGHT - 160)
        color = rng.choice([(230, 80, 60), (245, 245, 245), (250, 200, 60), (60, 90, 170)])
        draw.polygon(
            [(bx, by), (bx + 180, by), (bx + 150, by + 50), (bx + 30, by + 50)], fill=color
        )
        draw.line([(bx + 90, by), (bx + 90, by - 140)], fill=(60, 60, 60), width=5)
        draw.polygon(
            [(bx + 94, by - 130), (bx + 94, by - 20), (bx + 170, by - 20)], fill=(250, 250, 250)
        )
    _label(image, name)
    return image


def landscape(rng: random.Random, name: str) -> Image.Image:
    """Hills and a lake under a bright sky, a pagoda-like tower on the shore."""
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    _sky(draw, (110, 170, 230), (235, 240, 230), HEIGHT)
    for layer, color in enumerate([(120, 150, 170), (80, 130, 100), (50, 100, 70)]):
        base = 420 + layer * 120
        points = [(0, HEIGHT)] + [
            (x, base - rng.randint(0, 160)) for x in range(0, WIDTH + 160, 160)
        ]
        draw.polygon([*points, (WIDTH, HEIGHT)], fill=color)
    lake = 820
    draw.rectangle((0, lake, WIDTH, HEIGHT), fill=(70, 140, 190))
    for _ in range(40):
        wx, wy = rng.randint(0, WIDTH), rng.randint(lake + 10, HEIGHT - 10)
        draw.line([(wx, wy), (wx + rng.randint(30, 120), wy)], fill=(150, 200, 230), width=3)
    tx = rng.randint(300, 1200)
    for level in range(5):
        width = 160 - level * 26
        top = lake - 60 - level * 70
        draw.rectangle((tx - width // 3, top, tx + width // 3, top + 60), fill=(150, 40, 40))
        draw.polygon(
            [(tx - width // 2 - 20, top + 10), (tx + width // 2 + 20, top + 10), (tx, top - 30)],
            fill=(60, 50, 50),
        )
    _label(image, name)
    return image


SCENES: tuple[Callable[[random.Random, str], Image.Image], ...] = (skyline, harbour, landscape)


def picture(name: str, number: int) -> bytes:
    """Scene `number` (of `SCENES`, in turn) for the city `name`, as a JPEG: the same city
    and number draw the same picture."""
    seed = int.from_bytes(hashlib.sha256(f"{name}:{number}".encode()).digest()[:8], "big")
    image = SCENES[number % len(SCENES)](random.Random(seed), name)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()
