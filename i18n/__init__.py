"""Languages: Babel catalogs, language negotiation, multilingual content and CLDR formatting.

    from twinning.i18n import L_, _, force_locale, localized, format_datetime

    with force_locale("ja"):
        title = _("%(official)s's calendar", official=localized(official.names))

See notes/i18n.md for the catalog workflow (extract, update, translate, check).
"""

from twinning.i18n.formatting import (
    babel_locale,
    country_name,
    format_date,
    format_datetime,
    format_interval,
    format_number,
    format_twd,
    language_name,
)
from twinning.i18n.locales import (
    DEFAULT_LOCALE,
    fallback_chain,
    force_locale,
    get_locale,
    localized,
    localized_entry,
    negotiate,
    resolve,
    supported_locales,
)
from twinning.i18n.translation import L_, _, gettext, lazy_gettext, ngettext, translations

__all__ = [
    "DEFAULT_LOCALE",
    "L_",
    "_",
    "babel_locale",
    "country_name",
    "fallback_chain",
    "force_locale",
    "format_date",
    "format_datetime",
    "format_interval",
    "format_number",
    "format_twd",
    "get_locale",
    "gettext",
    "language_name",
    "lazy_gettext",
    "localized",
    "localized_entry",
    "negotiate",
    "ngettext",
    "resolve",
    "supported_locales",
    "translations",
]
