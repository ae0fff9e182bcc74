"""Precedence and forms of address: the order every list of people follows, and how each
person is addressed in each language (programmes, briefing books, invitations, letters).

The order, stated once: protocol rank (1 first; a person without one after every ranked
person), then the title's place in `TWINNING_PRECEDENCE_TITLES` (the smallest of its
languages; a title not listed after every listed one), then the name the reader sees
(casefolded and Unicode-normalised, so that "Émile" and "emile" sort together), then the id
(so that the order never depends on how a database returned the rows).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from twinning.i18n.locales import best_match, localized, localized_entry

#: Where a person without a rank, or a title not in the table, goes: after every other.
LAST = 10_000
#: Languages whose names come before the title, without a space ("蔣萬安市長"), when the
#: title is in one of them too.
_NAME_FIRST = ("zh", "ja", "ko")

P = TypeVar("P")


def _fact(person: object, name: str) -> Any:
    """A fact of an official (a record) or of a head or member of a delegation (a mapping)."""
    if isinstance(person, Mapping):
        return person.get(name)
    return getattr(person, name, None)


def _texts(person: object, name: str) -> Mapping[str, str]:
    value = _fact(person, name)
    return value if isinstance(value, Mapping) else {}


def title_order(title: Mapping[str, str], titles: Mapping[str, int]) -> int:
    """The place of `title` (in any of its languages) in the configured table of titles."""
    table = {_collation_key(text): order for text, order in titles.items()}
    found = [table[key] for text in title.values() if (key := _collation_key(text)) in table]
    return min(found, default=LAST)


def _collation_key(text: str) -> str:
    return unicodedata.normalize("NFKD", text).casefold().strip()


def precedence_key(
    person: object, locale: str, titles: Mapping[str, int]
) -> tuple[int, int, str, str]:
    """Where `person` stands in a list read in `locale` (see the module's first lines)."""
    rank = _fact(person, "protocol_rank")
    return (
        rank if isinstance(rank, int) else LAST,
        title_order(_texts(person, "title"), titles),
        _collation_key(localized(_texts(person, "names"), locale) or ""),
        str(_fact(person, "id") or ""),
    )


def by_precedence(people: Iterable[P], locale: str, titles: Mapping[str, int]) -> list[P]:
    """`people` (officials, heads or members of delegations) in order of precedence."""
    return sorted(people, key=lambda person: precedence_key(person, locale, titles))


def form_of_address(person: object, locale: str) -> str:
    """How `person` is addressed in `locale`: the form of address recorded in that language
    ("市長閣下", "Su Excelencia"), else the title and the name as a reader of `locale` sees them
    ("Mayor Chiang Wan-an"; "蔣萬安市長" in Chinese, Japanese and Korean when the title is
    in one of them), else the name."""
    forms = _texts(person, "forms_of_address")
    if (tag := best_match(locale, forms)) is not None:
        return forms[tag]
    name = localized(_texts(person, "names"), locale) or ""
    title = localized_entry(_texts(person, "title"), locale)
    if title is None:
        return name
    tag, text = title
    if _language(tag) in _NAME_FIRST and _language(locale) in _NAME_FIRST:
        return f"{name}{text}"
    return f"{text} {name}".strip()


def _language(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].casefold()
