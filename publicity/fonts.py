"""The fonts of the PDFs: one Noto Sans CJK face per script, cut down to the characters a
document uses before WeasyPrint sees it.

Why: WeasyPrint subsets every font it embeds, and on a full Noto Sans CJK face (65,535
glyphs, 16-19 MB) its fontTools path (without the system's HarfBuzz subsetter) spends seconds
per face, and even with that subsetter it cuts the whole face again for every document. A
face cut here to the few hundred characters of a leaflet (by HarfBuzz's subsetter, through
uharfbuzz: a few milliseconds) is tiny, and WeasyPrint embeds it as it is. The
subsets are cached by (face, weight, characters), in memory and under the data dir, so an
unchanged character set is never cut twice.

Which face: Chinese, Japanese and Korean write many of the same characters with different
glyphs, so text gets the face of its language (`face_for`): TC for Traditional Chinese, JP, KR,
SC, HK. The templates put that choice on the element as a class (`f-tc`, ...) and on SVG text
as a font-family; `characters_by_face` reads the same classes back from the rendered HTML, so
the subsets hold exactly what each face shows. Noto Sans CJK covers Latin, Greek and Cyrillic
too, so Latin-script text needs no second font.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError

if TYPE_CHECKING:
    import uharfbuzz

log = logging.getLogger(__name__)

#: Where Debian's fonts-noto-cjk (and most Linux distributions) put the fonts; the setting
#: TWINNING_FONT_DIRS (paths separated by the OS's path separator) looks elsewhere instead.
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
#: What installs them, said where they are missing.
INSTALL_FONTS = (
    "install Noto Sans CJK (Debian/Ubuntu: `sudo apt-get install fonts-noto-cjk`; Fedora:"
    " `sudo dnf install google-noto-sans-cjk-fonts`; macOS: `brew install --cask"
    " font-noto-sans-cjk`) and restart twinning"
)
WEIGHTS = {400: "Regular", 700: "Bold"}
#: Always in the document's regular face: what the stylesheet generates (page numbers,
#: "1 / 2"), and printable ASCII, so that an edit in Latin text rarely needs a new subset.
ALWAYS_REGULAR = frozenset(chr(code) for code in range(0x20, 0x7F))


@dataclass(frozen=True)
class Face:
    """One regional face of Noto Sans CJK: `key` is used in class names (`f-tc`)."""

    key: str
    family: str
    #: What a browser reading the HTML uses when it has no Noto Sans CJK.
    fallbacks: tuple[str, ...]

    @property
    def embedded_family(self) -> str:
        """The family name of the subset embedded in PDFs (a browser does not know it)."""
        return f"twinning-{self.key}"

    def css_stack(self) -> str:
        names = (self.embedded_family, self.family, *self.fallbacks)
        return ", ".join(f'"{name}"' for name in names) + ", sans-serif"


FACES: Mapping[str, Face] = {
    face.key: face
    for face in (
        Face("tc", "Noto Sans CJK TC", ("Noto Sans TC", "PingFang TC", "Microsoft JhengHei")),
        Face("jp", "Noto Sans CJK JP", ("Noto Sans JP", "Hiragino Sans", "Yu Gothic")),
        Face("kr", "Noto Sans CJK KR", ("Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic")),
        Face("sc", "Noto Sans CJK SC", ("Noto Sans SC", "PingFang SC", "Microsoft YaHei")),
        Face("hk", "Noto Sans CJK HK", ("Noto Sans HK", "PingFang HK", "Microsoft JhengHei")),
    )
}
#: The face of text in a language that is not written with Han, kana or Hangul.
DEFAULT_FACE = "tc"


@cache
def face_for(tag: str) -> str | None:
    """The face key for text in language `tag`, or None when any face will do (Latin, ...)."""
    try:
        locale = Locale.parse(tag, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    if locale.language == "ja":
        return "jp"
    if locale.language == "ko":
        return "kr"
    if locale.language != "zh":
        return None
    if locale.territory in ("HK", "MO"):
        return "hk"
    if locale.script == "Hant" or locale.territory == "TW":
        return "tc"
    return "sc"


def document_face(locale: str) -> str:
    """The face of a document's own text: its language's, else the default one."""
    return face_for(locale) or DEFAULT_FACE


def face_class(tag: str | None) -> str:
    """The class that gives an element the face of its language ("" when it inherits)."""
    key = face_for(tag) if tag else None
    return f"f-{key}" if key else ""


def face_css() -> str:
    """The CSS that maps the face classes to font stacks (static: the same for every page)."""
    return "\n".join(
        f".f-{face.key} {{ font-family: {face.css_stack()}; }}" for face in FACES.values()
    )


# --- which characters each face shows ------------------------------------------------------

#: Elements the stylesheet sets in bold (style.css): their text needs the bold face only, so a
#: change in the body text (an exchange's summary) does not need a new bold subset.
BOLD = frozenset({"h1", "h2", "h3", "strong", "b", "dt"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})  # fmt: skip

Use = tuple[str, int]  # (face key, weight)


class _CharacterCollector(HTMLParser):
    """Collects the text of a page by the face and weight it is shown in: the nearest `f-*`
    class, and whether it is inside a bold element."""

    def __init__(self, root_face: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str, bool]] = [("", root_face, False)]
        self.characters: dict[Use, set[str]] = {}
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        _, face, bold = self.stack[-1]
        for name, value in attrs:
            if name == "class" and value:
                face = next(
                    (c[2:] for c in value.split() if c.startswith("f-") and c[2:] in FACES), face
                )
        self.stack.append((tag, face, bold or tag in BOLD))
        if tag in ("style", "script"):
            self.skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self.skipping:
            self.skipping -= 1
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            _, face, bold = self.stack[-1]
            self.characters.setdefault((face, 700 if bold else 400), set()).update(data)


def characters_by_face(html: str, locale: str) -> dict[Use, frozenset[str]]:
    """(face key, weight) -> the characters the page shows in it (the document's regular face
    also has `ALWAYS_REGULAR`)."""
    base = document_face(locale)
    collector = _CharacterCollector(base)
    collector.feed(html)
    collector.close()
    found = {use: frozenset(chars) for use, chars in collector.characters.items()}
    found[base, 400] = found.get((base, 400), frozenset()) | ALWAYS_REGULAR
    return found


def _needs_glyph(character: str) -> bool:
    """Line breaks, tabs and bidi controls are laid out without a glyph of their own."""
    return unicodedata.category(character) not in ("Cc", "Cf", "Zl", "Zp")


# --- the font files and their subsets -------------------------------------------------------


@dataclass(frozen=True)
class FontSource:
    path: Path
    index: int  # in a collection (.ttc); 0 for a single font

    def fingerprint(self) -> str:
        stat = self.path.stat()
        return f"{self.path}:{self.index}:{stat.st_size}:{stat.st_mtime_ns}"


def _font_dirs() -> tuple[Path, ...]:
    configured = os.environ.get("TWINNING_FONT_DIRS")
    if configured:
        return tuple(Path(part) for part in configured.split(os.pathsep) if part)
    return FONT_DIRS


def _font_files() -> Iterable[Path]:
    for directory in _font_dirs():
        if directory.is_dir():
            yield from sorted(directory.rglob("NotoSansCJK*"))


@cache
def font_sources() -> dict[tuple[str, int], FontSource]:
    """(face key, weight) -> where that face is installed, read from the fonts' own names."""
    from fontTools.ttLib import TTCollection, TTFont

    by_family = {face.family: face.key for face in FACES.values()}
    found: dict[tuple[str, int], FontSource] = {}
    for path in _font_files():
        if path.suffix.lower() not in (".ttc", ".otc", ".otf", ".ttf"):
            continue
        weight = next((w for w, name in WEIGHTS.items() if name in path.stem), None)
        if weight is None:
            continue
        fonts = (
            TTCollection(path, lazy=True).fonts
            if path.suffix.lower() in (".ttc", ".otc")
            else [TTFont(path, lazy=True)]
        )
        for index, font in enumerate(fonts):
            key = by_family.get(font["name"].getDebugName(1) or "")
            if key is not None:
                found.setdefault((key, weight), FontSource(path, index))
    if not found:
        log.warning("Noto Sans CJK is not installed: %s", INSTALL_FONTS)
    return found


def missing_face(locale: str) -> str | None:
    """The Noto Sans CJK family a PDF in `locale` needs and this machine lacks, or None.
    Only Han, kana and Hangul need it: Latin, Greek and Cyrillic text is readable in any
    system font, so such a PDF is made without it."""
    key = face_for(locale)
    if key is None or all((key, weight) in font_sources() for weight in WEIGHTS):
        return None
    return FACES[key].family


def missing_fonts(locales: Iterable[str]) -> dict[str, str]:
    """Language -> the font family its PDFs need and this machine lacks."""
    return {locale: family for locale in locales if (family := missing_face(locale))}


#: Tables of the faces that the documents do not use (see `_cut`).
UNUSED_TABLES = ("GSUB", "GPOS", "vmtx", "vhea", "VORG")


def _cut(source: FontSource, characters: str) -> bytes:
    """The face cut down to `characters` (and .notdef) by HarfBuzz's subsetter, the one
    WeasyPrint uses for the fonts it subsets itself: 1 to 3 ms for 100 to 800 characters of
    Noto Sans CJK, where fontTools' subsetter took 0.2 to 0.4 s of CPU."""
    import uharfbuzz as hb

    wanted = hb.SubsetInput()
    wanted.unicode_set.update(ord(character) for character in characters)
    # Shaping features are not needed for horizontal CJK and unkerned Latin; vertical metrics
    # are for vertical writing, which the documents do not use.
    wanted.drop_table_tag_set.update(_UNUSED_TAGS)
    # The kept glyphs' outlines with their subroutines inlined: a smaller file for the
    # subsets the documents use (fewer than a thousand characters of a 65,000-glyph face).
    wanted.flags = (
        hb.SubsetFlags.NO_HINTING | hb.SubsetFlags.NOTDEF_OUTLINE | hb.SubsetFlags.DESUBROUTINIZE
    )
    cut = hb.subset(_face(str(source.path), source.index, source.fingerprint()), wanted)
    if cut is None:
        raise ValueError(f"HarfBuzz could not subset {source.path} ({source.index})")
    return bytes(cut.blob.data)


#: `UNUSED_TABLES` as HarfBuzz numbers table tags.
_UNUSED_TAGS = tuple(int.from_bytes(name.ljust(4).encode("ascii"), "big") for name in UNUSED_TABLES)


@cache
def _face(path: str, index: int, fingerprint: str) -> uharfbuzz.Face:
    """The face at `index` of the font file `path`, mapped once per process as long as the
    file is the same (`fingerprint`, as the subsets' keys); faces are read-only, so renders
    in several threads share them."""
    import uharfbuzz as hb

    return hb.Face(hb.Blob.from_file_path(path), index)


@dataclass(frozen=True)
class Subset:
    data: bytes
    covered: frozenset[str]  # the characters it has glyphs for


def _covered(data: bytes) -> frozenset[str]:
    import uharfbuzz as hb

    return frozenset(map(chr, hb.Face(data).unicodes))


#: The subsets this process used last, by key; shared by every cache (keys name content).
_MEMORY: OrderedDict[str, Subset] = OrderedDict()
_MEMORY_SIZE = 64
_MEMORY_LOCK = threading.Lock()


class SubsetCache:
    """Font subsets by (face source, characters): the last ones used in memory, all of them
    on disk under `directory`."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.cuts = 0  # how many subsets were cut (not found in a cache): for the benchmark

    def get(self, source: FontSource, characters: frozenset[str]) -> Subset:
        text = "".join(sorted(characters))
        key = hashlib.sha256(f"{source.fingerprint()}\n{text}".encode()).hexdigest()[:40]
        with _MEMORY_LOCK:
            if key in _MEMORY:
                _MEMORY.move_to_end(key)
                return _MEMORY[key]
        data = self._read(key)
        if data is None:
            data = _cut(source, text)
            self.cuts += 1
            self._write(key, data)
        subset = Subset(data, _covered(data))
        with _MEMORY_LOCK:
            _MEMORY[key] = subset
            while len(_MEMORY) > _MEMORY_SIZE:
                _MEMORY.popitem(last=False)
        return subset

    def _path(self, key: str) -> Path | None:
        return self.directory / f"{key}.otf" if self.directory is not None else None

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            return None

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            partial.write_bytes(data)
            partial.replace(path)  # atomic: a reader never sees half a font
        except OSError:
            log.warning("could not cache a font subset under %s", path.parent, exc_info=True)


@dataclass(frozen=True)
class EmbeddedFonts:
    css: str  # the @font-face rules
    #: Whether the subsets have a glyph for every character: then they are embedded as they
    #: are, and WeasyPrint has nothing left to subset.
    complete: bool


def embedded_fonts(html: str, locale: str, cache: SubsetCache) -> EmbeddedFonts:
    """`@font-face` rules embedding, for each face and weight the page uses, a subset to its
    characters."""
    sources = font_sources()
    rules, complete = [], bool(sources)
    for (key, weight), characters in sorted(characters_by_face(html, locale).items()):
        source = sources.get((key, weight))
        if source is None:
            complete = False
            continue
        subset = cache.get(source, characters)
        complete = complete and all(c in subset.covered for c in characters if _needs_glyph(c))
        data = base64.b64encode(subset.data).decode()
        rules.append(
            f'@font-face {{ font-family: "{FACES[key].embedded_family}"; '
            f"font-weight: {weight}; src: url(data:font/otf;base64,{data}); }}"
        )
    return EmbeddedFonts("\n".join(rules), complete)
