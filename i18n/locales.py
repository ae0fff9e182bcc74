"""Which locales twinning speaks, which one a reader gets, and which language of a multilingual
text they see: the negotiation and the fallback chain shared by the API, the feeds and the
leaflets.

A locale is a BCP 47 tag (`zh-TW`, `en`, `ja`, ...), as in the multilingual data; its catalog
lives in `translations/<ll_CC>/LC_MESSAGES/messages.po` (the gettext folder spelling, `zh_TW`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
CATALOG = Path("LC_MESSAGES") / "messages.po"

#: The office's own language: what a reader gets when nothing better is known.
DEFAULT_LOCALE = "zh-TW"
#: The language tried after the reader's own and before the default one.
BRIDGE_LOCALE = "en"

_current_locale: ContextVar[str] = ContextVar("twinning_locale", default=DEFAULT_LOCALE)


def catalog_path(locale: str, directory: Path = TRANSLATIONS_DIR) -> Path:
    return directory / locale.replace("-", "_") / CATALOG


@cache
def supported_locales(directory: Path = TRANSLATIONS_DIR) -> tuple[str, ...]:
    """Every locale with a catalog, the default first: adding a locale is adding its catalog."""
    found = sorted(
        path.parent.parent.name.replace("_", "-") for path in directory.glob(f"*/{CATALOG}")
    )
    if DEFAULT_LOCALE not in found:
        raise RuntimeError(f"no catalog for the default locale {DEFAULT_LOCALE} in {directory}")
    return (DEFAULT_LOCALE, *(tag for tag in found if tag != DEFAULT_LOCALE))


@lru_cache(maxsize=1024)  # bounded: the tags come from request headers too
def _language_and_script(tag: str) -> tuple[str, str | None] | None:
    """CLDR's reading of a BCP 47 or POSIX tag; the script is the one a region implies
    (zh-TW and zh-HK are Traditional, zh-CN Simplified), None when nothing says."""
    try:
        parsed = Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return parsed.language, parsed.script


def _compatible(script: str | None, other: str | None) -> bool:
    return script is None or other is None or script == other


def best_match(wanted: str, available: Iterable[str]) -> str | None:
    """The tag of `available` that serves a reader of `wanted`: the same tag in any spelling
    (`zh_TW`, `zh-tw`), else the same language in a compatible script (`ja-JP` -> `ja`,
    `zh-Hant` -> `zh-TW`, but never `zh-CN` -> `zh-TW`)."""
    candidates = list(available)
    normalized = wanted.strip().replace("_", "-").casefold()
    for tag in candidates:
        if tag.replace("_", "-").casefold() == normalized:
            return tag
    reading = _language_and_script(wanted)
    if reading is None:
        return None
    language, script = reading
    for tag in candidates:
        other = _language_and_script(tag)
        if other is not None and other[0] == language and _compatible(script, other[1]):
            return tag
    return None


def resolve(locale: str) -> str | None:
    """The supported locale that `locale` names (`zh_TW`, `zh-Hant`, `en-US`...), if any."""
    return best_match(locale, supported_locales())


def _ranked(accept_language: str) -> list[str]:
    """The tags of an `Accept-Language` header, most preferred first (RFC 9110 quality values)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, parameters = item.partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if tag.strip() and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(accept_language: str | None, query_lang: str | None = None) -> str:
    """The supported locale for a request: `?lang=` when it names one, else the best of the
    `Accept-Language` header, else the default locale."""
    wishes = [query_lang] if query_lang else []
    wishes += _ranked(accept_language or "")
    for wish in wishes:
        if (locale := resolve(wish)) is not None:
            return locale
    return DEFAULT_LOCALE


def get_locale() -> str:
    """The locale of the current context (request, render): the default one unless forced."""
    return _current_locale.get()


@contextmanager
def force_locale(locale: str) -> Iterator[str]:
    """Translate and format in `locale` inside the block (one brochure per language, one feed
    per official); safe across threads and asyncio tasks."""
    resolved = resolve(locale)
    if resolved is None:
        raise ValueError(
            f"unsupported locale {locale!r} (supported: {', '.join(supported_locales())})"
        )
    token = _current_locale.set(resolved)
    try:
        yield resolved
    finally:
        _current_locale.reset(token)


def fallback_chain(locale: str) -> tuple[str, ...]:
    """The languages a reader of `locale` is shown, in order: their own, then English, then the
    default locale (ja -> en -> zh-TW; en -> zh-TW; zh-TW -> en)."""
    return tuple(dict.fromkeys((locale, BRIDGE_LOCALE, DEFAULT_LOCALE)))


def localized_entry(texts: Mapping[str, str], locale: str | None = None) -> tuple[str, str] | None:
    """`(tag, text)` of the language a reader of `locale` should see in multilingual `texts`:
    the first of the fallback chain that is present, else the first tag in sorted order (so the
    answer does not depend on how a database ordered the keys). The tag matters to renderers:
    a Japanese name in a Chinese leaflet must be marked `lang="ja"` to get Japanese glyphs."""
    for wanted in fallback_chain(locale or get_locale()):
        if (tag := best_match(wanted, texts)) is not None:
            return tag, texts[tag]
    return next(((tag, texts[tag]) for tag in sorted(texts)), None)


def localized(texts: Mapping[str, str], locale: str | None = None) -> str | None:
    """The text of multilingual `texts` that a reader of `locale` (default: current) should see."""
    entry = localized_entry(texts, locale)
    return entry[1] if entry is not None else None
