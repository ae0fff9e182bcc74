"""Gettext for twinning: `_`/`gettext`, `ngettext` and lazy `L_`, in the current locale.

The catalogs are the `.po` files themselves, compiled in memory the first time a process needs
a locale (`read_po` + `write_mo` from Babel, a few milliseconds for every locale); no `.mo`
file is read, written or committed. Why not compile at install or build time:
- an editable install (`pip install -e .`, what developers and CI use) runs no build step
  over the source tree, so a fresh clone would have no `.mo` until someone remembers to run
  `pybabel compile`; a hook in the build would cover wheels only;
- a `.mo` left over from an earlier compile silently shadows a newer `.po`, a classic source
  of "my translation does not show"; compiling from the `.po` cannot be stale;
- the wheel and the Docker image need nothing but the `.po` files as package data.
`pybabel compile` still works (see notes/i18n.md) for anyone who wants `.mo` files or a check
of the catalogs with gettext's own compiler; the application never reads them.

Placeholders are named, printf style (`%(official)s`), the style Jinja2's `{% trans %}` and
Babel's `python-format` check use too. The functions format only when given variables, so they
can be installed as-is into a Jinja2 environment with `newstyle=True`.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, Translations
from twinning.i18n.locales import catalog_path, get_locale

DOMAIN = "messages"


@cache
def translations(locale: str) -> Translations:
    """The compiled catalog of a supported locale (fuzzy entries are left out, as by gettext)."""
    with catalog_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale.replace("-", "_"), domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


def gettext(message: str, /, **variables: object) -> str:
    """`message` in the current locale, with `%(name)s` placeholders filled from `variables`."""
    text = translations(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, /, **variables: object) -> str:
    """The form of a counted message that the current locale uses for `n` (Chinese, Japanese
    and Korean have one form, English and Spanish two), placeholders filled from `variables`."""
    text = translations(get_locale()).ngettext(singular, plural, n)
    return text % variables if variables else text


def lazy_gettext(message: str, /, **variables: object) -> LazyProxy:
    """`message`, translated each time it is turned into text, in the locale current then:
    for labels defined once at import time and shown in many languages."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext
L_ = lazy_gettext
