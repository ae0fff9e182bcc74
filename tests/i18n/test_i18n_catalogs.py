"""The catalogs: every shipped locale is complete, current with the source strings, and keeps
the source's placeholders; the documented pybabel commands work from the repository root."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.checkers import PYTHON_FORMAT
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from conftest import REPO_ROOT
from twinning.i18n.locales import TRANSLATIONS_DIR, catalog_path, supported_locales

TEMPLATE = REPO_ROOT / "i18n" / "messages.pot"
SHIPPED = ("zh-TW", "en", "ja", "ko", "es")
BRACE_FIELD = re.compile(r"\{(\w*)\}")

MessageKey = tuple[str | None, tuple[str, ...]]


def pybabel(*args: str) -> None:
    """Run a pybabel command exactly as notes/i18n.md documents it, from the repository root."""
    CommandLineInterface().run(["pybabel", "--quiet", *args])


def extract(output: Path) -> None:
    pybabel(
        "extract", "-F", "babel.cfg", "-o", str(output), "--project=twinning",
        "--add-comments=TRANSLATORS:", "--add-location=file", ".",
    )  # fmt: skip


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def forms(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A message id or translation as its forms: one, or one per plural form."""
    if value is None or isinstance(value, str):
        return (value or "",)
    return tuple(value)


def keys(catalog: Catalog) -> set[MessageKey]:
    return {(message.context, forms(message.id)) for message in catalog if message.id}


def placeholders(text: str) -> Counter[str]:
    """Named (`%(name)s`, `{name}`) and positional (`%s`) placeholders of a format string."""
    printf = (
        f"%({name})" if name else f"%{kind}"
        for name, _, kind in PYTHON_FORMAT.findall(text)
        if kind != "%"
    )
    return Counter([*printf, *(f"{{{name}}}" for name in BRACE_FIELD.findall(text))])


def entry_problems(message: Message, num_plurals: int) -> list[str]:
    name = forms(message.id)[0]
    translations = forms(message.string)
    source = placeholders(forms(message.id)[-1])
    problems = []
    if message.fuzzy:
        problems.append(f"{name!r} is fuzzy")
    if not all(translations):
        problems.append(f"{name!r} is not translated")
    if len(forms(message.id)) > 1 and len(translations) != num_plurals:
        problems.append(f"{name!r} has {len(translations)} plural forms, not {num_plurals}")
    problems += [
        f"{name!r}: placeholders {sorted(placeholders(form))} instead of {sorted(source)}"
        for form in translations
        if form and placeholders(form) != source
    ]
    return problems


def catalog_problems(catalog: Catalog, template: Catalog) -> list[str]:
    """Everything that makes a catalog unfit to ship, each said so a translator can act on it."""
    problems = [f"missing {key[1][0]!r}" for key in keys(template) - keys(catalog)]
    problems += [f"obsolete {key[1][0]!r}" for key in keys(catalog) - keys(template)]
    for message in catalog:
        if message.id:
            problems += entry_problems(message, catalog.num_plurals)
    problems += [str(error) for _, errors in catalog.check() for error in errors]
    return problems


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_shipped_locale_is_supported(locale: str) -> None:
    assert locale in supported_locales()


@pytest.mark.parametrize("locale", supported_locales())
def test_each_catalog_is_complete_current_and_keeps_the_placeholders(locale: str) -> None:
    catalog = load(catalog_path(locale), locale.replace("-", "_"))
    assert catalog_problems(catalog, load(TEMPLATE)) == []


def test_the_template_holds_exactly_the_strings_of_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    extract(tmp_path / "messages.pot")
    assert keys(load(tmp_path / "messages.pot")) == keys(load(TEMPLATE)), (
        "the catalogs are out of date: run the extract and update commands of notes/i18n.md"
    )


def test_source_strings_use_named_placeholders_alike_in_singular_and_plural() -> None:
    for message in load(TEMPLATE):
        if message.id:
            sources = [placeholders(text) for text in forms(message.id)]
            assert all(source == sources[0] for source in sources), message.id
            assert not any(name.startswith("%") and "(" not in name for name in sources[0]), (
                f"{message.id!r}: use named placeholders such as %(name)s"
            )


def test_the_checks_catch_missing_fuzzy_untranslated_and_misformatted_entries() -> None:
    template = Catalog(locale="es")
    message_ids: list[str | tuple[str, str]] = [
        "Notes",
        "Location",
        "Interpreter",
        ("%(count)s exchange", "%(count)s exchanges"),
    ]
    for message_id in message_ids:
        template.add(message_id)
    template.add("%(official)s's calendar", flags=["python-format"])
    catalog = Catalog(locale="es")
    catalog.add("Notes", "Notas", flags=["fuzzy"])
    catalog.add("Interpreter", "")
    catalog.add(
        ("%(count)s exchange", "%(count)s exchanges"), ("%(count)s intercambio", "intercambios")
    )
    catalog.add("%(official)s's calendar", "Calendario de %(nombre)s", flags=["python-format"])

    problems = catalog_problems(catalog, template)

    assert "missing 'Location'" in problems
    assert "'Notes' is fuzzy" in problems
    assert "'Interpreter' is not translated" in problems
    assert "'%(count)s exchange': placeholders [] instead of ['%(count)']" in problems
    assert any(p.startswith('"%(official)s\'s calendar": placeholders') for p in problems)


def test_a_locale_is_added_by_dropping_in_its_catalog(tmp_path: Path) -> None:
    translations = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, translations)
    pybabel("init", "-i", str(TEMPLATE), "-d", str(translations), "-l", "fr")

    assert set(supported_locales(translations)) == {*supported_locales(), "fr"}
    assert supported_locales(translations)[0] == "zh-TW"


def test_pybabel_update_and_compile_work_on_the_shipped_catalogs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    translations = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, translations)
    monkeypatch.chdir(REPO_ROOT)
    extract(tmp_path / "messages.pot")
    pybabel(
        "update", "-i", str(tmp_path / "messages.pot"), "-d", str(translations), "--ignore-obsolete"
    )
    pybabel("compile", "-d", str(translations))

    template = load(TEMPLATE)
    for locale in supported_locales():
        assert catalog_problems(load(catalog_path(locale, translations)), template) == []
        with catalog_path(locale, translations).with_suffix(".mo").open("rb") as mo:
            compiled = read_mo(mo)
        assert keys(compiled) == keys(template)
