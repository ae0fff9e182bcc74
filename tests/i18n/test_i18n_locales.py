"""Which locale a reader gets (negotiation), and which language of multilingual content they
see (the fallback chain shared by the API, the feeds and the leaflets)."""

from __future__ import annotations

import asyncio

import pytest
from twinning.i18n import (
    L_,
    _,
    fallback_chain,
    force_locale,
    get_locale,
    localized,
    localized_entry,
    negotiate,
)


@pytest.mark.parametrize(
    ("accept_language", "query_lang", "expected"),
    [
        (None, None, "zh-TW"),
        ("", None, "zh-TW"),
        ("ja", None, "ja"),
        ("ja-JP,ja;q=0.9,en-US;q=0.8", None, "ja"),
        ("zh-Hant", None, "zh-TW"),
        ("zh_TW", None, "zh-TW"),
        ("zh-tw", None, "zh-TW"),
        ("zh-HK", None, "zh-TW"),
        ("zh", None, "zh-TW"),
        ("en-GB", None, "en"),
        ("es-419", None, "es"),
        ("ko-KR", None, "ko"),
        ("fr-FR, de;q=0.9", None, "zh-TW"),
        ("fr-FR, es;q=0.5, en;q=0.7", None, "en"),
        ("en;q=0.2, ko", None, "ko"),
        ("ja;q=0, en", None, "en"),
        ("zh-CN, en;q=0.5", None, "en"),
        ("*", None, "zh-TW"),
        ("ja;q=oops, ko", None, "ko"),
        ("ko", "ja", "ja"),
        ("ko", "zh_tw", "zh-TW"),
        ("ko", "fr", "ko"),
        (None, "klingon!", "zh-TW"),
    ],
)
def test_a_request_gets_the_best_supported_locale(
    accept_language: str | None, query_lang: str | None, expected: str
) -> None:
    assert negotiate(accept_language, query_lang) == expected


@pytest.mark.parametrize(
    ("locale", "chain"),
    [
        ("ja", ("ja", "en", "zh-TW")),
        ("ko", ("ko", "en", "zh-TW")),
        ("es", ("es", "en", "zh-TW")),
        ("en", ("en", "zh-TW")),
        ("zh-TW", ("zh-TW", "en")),
    ],
)
def test_each_locale_falls_back_to_english_then_traditional_chinese(
    locale: str, chain: tuple[str, ...]
) -> None:
    assert fallback_chain(locale) == chain


NAMES = {"zh-TW": "桃園市", "en": "Taoyuan City", "ja": "桃園市（日本語）"}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("ja", "桃園市（日本語）"),
        ("ko", "Taoyuan City"),
        ("es", "Taoyuan City"),
        ("en", "Taoyuan City"),
        ("zh-TW", "桃園市"),
    ],
)
def test_multilingual_text_follows_the_fallback_chain(locale: str, expected: str) -> None:
    assert localized(NAMES, locale) == expected


def test_without_english_a_reader_gets_traditional_chinese_then_any_language_in_a_stable_order() -> (
    None
):
    assert localized({"zh-TW": "姊妹市", "ja": "姉妹都市"}, "ko") == "姊妹市"
    assert localized({"ko": "도시", "de": "Stadt"}, "ja") == "Stadt"
    assert localized({"de": "Stadt", "ko": "도시"}, "ja") == "Stadt"
    assert localized({}, "ja") is None


def test_content_in_regional_spellings_serves_the_reader_and_says_which_tag_it_is() -> None:
    texts = {"en-GB": "Centre", "zh-Hant": "中心", "ja-JP": "センター"}
    assert localized_entry(texts, "en") == ("en-GB", "Centre")
    assert localized_entry(texts, "zh-TW") == ("zh-Hant", "中心")
    assert localized_entry(texts, "ja") == ("ja-JP", "センター")
    assert localized_entry({"zh-CN": "中心", "en": "Centre"}, "zh-TW") == ("en", "Centre")


def test_localized_text_defaults_to_the_forced_locale() -> None:
    with force_locale("ja"):
        assert localized(NAMES) == "桃園市（日本語）"
    assert localized(NAMES) == "桃園市"


def test_force_locale_nests_accepts_any_spelling_and_refuses_an_unsupported_locale() -> None:
    assert get_locale() == "zh-TW"
    with force_locale("en-US") as outer:
        assert outer == get_locale() == "en"
        with force_locale("zh_Hant"):
            assert get_locale() == "zh-TW"
        assert get_locale() == "en"
    with pytest.raises(ValueError, match="unsupported locale 'fr'"), force_locale("fr"):
        pass


def test_a_lazy_label_speaks_the_language_of_each_place_it_is_shown() -> None:
    notes = L_("Notes")
    shown = []
    for locale in ("zh-TW", "ja", "ko", "es", "en"):
        with force_locale(locale):
            shown.append(str(notes))
    assert shown == ["備註", "備考", "비고", "Notas", "Notes"]


def test_concurrent_renders_keep_their_own_locale() -> None:
    async def render(locale: str) -> str:
        with force_locale(locale):
            await asyncio.sleep(0)
            return _("%(official)s's calendar", official="A")

    async def both() -> list[str]:
        return list(await asyncio.gather(render("ja"), render("es")))

    assert asyncio.run(both()) == ["Aのカレンダー", "Calendario de A"]
