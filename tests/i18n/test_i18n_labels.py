"""The fixed words of feeds and leaflets: every domain value has a label, counted phrases take
the plural form of each language, and placeholders are filled."""

from __future__ import annotations

from enum import StrEnum
from typing import get_args

import pytest
from twinning.i18n import force_locale, labels
from twinning.streams.events import (
    ExchangeDirection,
    ExchangeField,
    ExchangeSource,
    PartnerKind,
)


@pytest.mark.parametrize("enum", [PartnerKind, ExchangeField, ExchangeDirection])
def test_every_value_of_the_domain_enums_has_a_label_in_every_language(enum: type[StrEnum]) -> None:
    for value in enum:
        with force_locale("en"):
            english = labels.label(value)
        with force_locale("ja"):
            assert labels.label(value) != english


def test_every_kind_of_activity_source_has_a_label() -> None:
    sources = set(get_args(ExchangeSource.model_fields["kind"].annotation))
    assert sources | {"exchange"} == set(labels.ACTIVITY_KIND_LABELS)


def test_values_shared_by_two_enums_keep_their_own_labels() -> None:
    with force_locale("zh-TW"):
        assert labels.label(PartnerKind.OTHER) == "其他合作關係"
        assert labels.label(ExchangeField.OTHER) == "其他領域"


@pytest.mark.parametrize(
    ("locale", "one", "many"),
    [
        ("en", "1 exchange", "1,200 exchanges"),
        ("es", "1 intercambio", "1.200 intercambios"),
        ("ja", "1件の交流", "1,200件の交流"),
        ("ko", "교류 1건", "교류 1,200건"),
        ("zh-TW", "1次交流", "1,200次交流"),
    ],
)
def test_a_count_takes_the_plural_form_and_number_format_of_the_locale(
    locale: str, one: str, many: str
) -> None:
    with force_locale(locale):
        assert [labels.exchange_count(1), labels.exchange_count(1200)] == [one, many]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh-TW", "與大阪市締約10週年"),
        ("ja", "大阪市との提携10周年"),
        ("ko", "大阪市 협정 체결 10주년"),
        ("en", "Agreement anniversary: 10 years with 大阪市"),
        ("es", "Aniversario del acuerdo: 10 años con 大阪市"),
    ],
)
def test_an_anniversary_names_the_years_and_the_partner(locale: str, expected: str) -> None:
    with force_locale(locale):
        assert labels.agreement_anniversary(10, "大阪市") == expected


def test_calendar_names_fill_in_the_official_and_the_partner() -> None:
    with force_locale("ja"):
        assert labels.official_calendar_name("張市長") == "張市長のカレンダー"
        assert labels.partner_calendar_name("大阪市") == "大阪市との交流・訪問"
        assert str(labels.OFFICE_CALENDAR) == "国際課"


def test_an_agreement_year_is_not_written_as_a_quantity() -> None:
    with force_locale("en"):
        assert labels.agreement_year(2010) == "Agreement signed in 2010"
