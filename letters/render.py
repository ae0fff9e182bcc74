"""A letter's text from its staff-edited template, and the letter as HTML and PDF.

Staff edit templates in the web app, so a template is untrusted code: it is compiled and run
in Jinja's immutable sandbox (no attribute starting with `_`, no method that changes a value,
no `range` over 100,000 items, no multiplication or power that could build a huge text), its
values are plain texts (never an object of the application), and an unknown placeholder is
an error named at the save, not an empty gap in a letter. The template makes plain text:
it is escaped as a whole and cut into paragraphs at empty lines, so that no markup a staff
member types reaches the page.

The page around the text (letterhead, date, addressee, signature, the office's contact) is
`letter.html` of the publicity templates, rendered by their environment and turned into a
PDF by their WeasyPrint pipeline with their fonts (`twinning.publicity.render`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape
from twinning.config import Settings
from twinning.i18n import force_locale
from twinning.publicity.content import OfficeContact, Shown
from twinning.publicity.render import environment, render_pdf, subset_cache
from twinning.refusals import InvalidField

#: What a template may use, each a plain text (`members` a number written as text).
PLACEHOLDERS = (
    "addressee",
    "head_name",
    "head_title",
    "partner",
    "dates",
    "purpose",
    "members",
    "city",
    "office_name",
    "office_address",
    "office_email",
    "office_phone",
    "signatory_name",
    "signatory_title",
)
SUBJECT_MAX = 300
BODY_MAX = 8000
#: What a filled letter may grow to (a loop could repeat a text): refused beyond.
FILLED_MAX = 40_000
_PARAGRAPHS = re.compile(r"\n[ \t]*\n+")


class LetterSandbox(ImmutableSandboxedEnvironment):
    """The sandbox a staff-edited template runs in; `*` and `**` are refused outright (a
    repeated text or a power is the way to a letter of gigabytes)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"the operator {operator} is not allowed in a letter")


@cache
def sandbox() -> LetterSandbox:
    return LetterSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class FilledText:
    subject: str
    paragraphs: tuple[str, ...]


def _fill_one(field: str, source: str, values: Mapping[str, str]) -> str:
    """One template (`field`: `subject` or `body`, where a refusal points) filled with
    `values`; refused (422) when it does not compile, names an unknown placeholder or does
    something the sandbox forbids."""
    try:
        filled = sandbox().from_string(source).render(values)
    except TemplateSyntaxError as error:
        raise InvalidField(
            field,
            "The template cannot be read at line %(line)s: %(reason)s",
            line=error.lineno,
            reason=error.message or "",
        ) from None
    except UndefinedError as error:
        raise InvalidField(
            field,
            "The template uses something that is not a placeholder: %(reason)s",
            reason=error.message or "",
        ) from None
    except SecurityError:
        raise InvalidField(
            field, "The template does something a letter may not do; use the placeholders only"
        ) from None
    except Exception as error:  # a filter given the wrong value, a division by zero...
        raise InvalidField(
            field, "The template cannot be filled: %(reason)s", reason=str(error)[:200]
        ) from None
    if len(filled) > FILLED_MAX:
        raise InvalidField(field, "The filled letter is too long; shorten the template")
    return filled


def fill(subject: str, body: str, values: Mapping[str, str]) -> FilledText:
    """The letter's subject and paragraphs, `values` put in their placeholders."""
    text = _fill_one("body", body, values).replace("\r\n", "\n").strip()
    return FilledText(
        subject=" ".join(_fill_one("subject", subject, values).split()),
        paragraphs=tuple(p.strip() for p in _PARAGRAPHS.split(text) if p.strip()),
    )


def paragraph_html(paragraph: str) -> Markup:
    """A paragraph of plain text as HTML: escaped, its single line breaks kept."""
    return Markup("<br>\n").join(escape(line) for line in paragraph.split("\n"))


@dataclass(frozen=True)
class Letter:
    """Everything a letter's page shows, already in its language."""

    locale: str
    kind: str
    office: OfficeContact
    date: str
    recipient: tuple[Shown, ...]
    text: FilledText
    signatory: tuple[Shown, ...]


def letter_html(letter: Letter) -> str:
    with force_locale(letter.locale):
        return (
            environment()
            .get_template("letter.html")
            .render(doc=letter, paragraphs=[paragraph_html(p) for p in letter.text.paragraphs])
        )


def letter_pdf(html: str, locale: str, settings: Settings) -> bytes:
    """What a route runs in a thread: the page as a tagged A4 PDF, with the fonts subset
    once into the data directory (as the publicity documents are)."""
    font_dir = settings.data_dir.resolve() / "publicity" / "fonts"
    return render_pdf(html, locale, subset_cache(str(font_dir)))
