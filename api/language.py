"""The language of an answer: `?lang=` when it names a supported locale, else the caller's
`Accept-Language`, else the office's default; the answer says which (`Content-Language`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Response
from twinning.i18n import negotiate


async def get_language(
    response: Response,
    lang: Annotated[
        str | None,
        Query(
            max_length=35,
            description="BCP 47 tag of the language wanted (zh-TW, en, ja, ko, es, ...); "
            "overrides Accept-Language.",
        ),
    ] = None,
    accept_language: Annotated[str | None, Header(max_length=1000)] = None,
) -> str:
    language = negotiate(accept_language, lang)
    response.headers["Content-Language"] = language
    # Shared caches must not serve one reader's language to another.
    response.headers["Vary"] = "Accept-Language"
    return language


Language = Annotated[str, Depends(get_language)]
