"""Languages: Babel catalogs and locale-aware formatting (`twinning.i18n`)."""
