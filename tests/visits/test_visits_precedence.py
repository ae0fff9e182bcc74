"""Precedence and forms of address: the order of every list of people (rank, then the table
of titles, then the name as the reader sees it), how each person is addressed in each
language, and both kept on officials and heads of delegation through the API, into the
briefing book and the delegation's programme."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import InlineApi, command
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.publicity.briefing import BriefingBook, DelegationProgramme, book, programme
from twinning.visits.precedence import by_precedence, form_of_address
from visits_support import Office, sample_visit

TITLES = {"Mayor": 1, "Deputy Mayor": 2, "副市長": 2, "Director": 5}


def person(name: str, title: str, rank: int | None, **more: Any) -> dict[str, Any]:
    return {"names": {"en": name}, "title": {"en": title}, "protocol_rank": rank, **more}


def names(people: list[dict[str, Any]]) -> list[str]:
    return [p["names"]["en"] for p in people]


# --- the order -----------------------------------------------------------------------------------


def test_the_protocol_rank_comes_first_whatever_the_title() -> None:
    people = [person("Chen", "Mayor", 3), person("Lin", "Director", 1)]
    assert names(by_precedence(people, "en", TITLES)) == ["Lin", "Chen"]


def test_the_same_rank_is_ordered_by_the_table_of_titles_then_by_name() -> None:
    people = [
        person("Adams", "Director", 2),
        person("Zhou", "Deputy Mayor", 2),
        person("Baker", "Director", 2),
        person("Abel", "Adviser", 2),  # not in the table: after every listed title
    ]
    assert names(by_precedence(people, "en", TITLES)) == ["Zhou", "Adams", "Baker", "Abel"]


def test_a_title_is_found_in_any_of_its_languages_and_in_any_case() -> None:
    deputy = {"names": {"en": "Wu"}, "title": {"zh-TW": "副市長"}, "protocol_rank": 2}
    director = {"names": {"en": "Abe"}, "title": {"en": "DIRECTOR"}, "protocol_rank": 2}
    assert by_precedence([director, deputy], "en", TITLES) == [deputy, director]


def test_names_are_compared_as_the_reader_sees_them() -> None:
    first = {"names": {"en": "Zeta", "ja": "渡辺"}, "title": {"en": "Director"}, "protocol_rank": 4}
    second = {
        "names": {"en": "Alpha", "ja": "青木"},
        "title": {"en": "Director"},
        "protocol_rank": 4,
    }
    assert by_precedence([first, second], "en", TITLES) == [second, first]
    assert by_precedence([second, first], "ja", TITLES) == [first, second]


def test_someone_without_a_rank_comes_after_every_ranked_person() -> None:
    people = [person("Aaron", "Mayor", None), person("Young", "Director", 999)]
    assert names(by_precedence(people, "en", TITLES)) == ["Young", "Aaron"]


# --- forms of address ---------------------------------------------------------------------------


MAYOR = {
    "names": {"zh-TW": "蔣萬安", "en": "Chiang Wan-an"},
    "title": {"zh-TW": "市長", "en": "Mayor"},
    "protocol_rank": 1,
    "forms_of_address": {"zh-TW": "市長閣下", "es": "Su Excelencia"},
}


def test_the_form_of_address_recorded_in_the_readers_language_is_used() -> None:
    assert form_of_address(MAYOR, "zh-TW") == "市長閣下"
    assert form_of_address(MAYOR, "es") == "Su Excelencia"
    assert form_of_address(MAYOR, "es-ES") == "Su Excelencia"


def test_without_one_the_title_and_the_name_are_used_in_the_languages_order() -> None:
    assert form_of_address(MAYOR, "en") == "Mayor Chiang Wan-an"
    plain = {**MAYOR, "forms_of_address": None}
    assert form_of_address(plain, "zh-TW") == "蔣萬安市長"
    assert form_of_address({"names": {"en": "Ms Lee"}}, "en") == "Ms Lee"
    # A Chinese reader of a title known in English only: in the Latin order, with a space.
    visitor = {"names": {"en": "Kenji Mori"}, "title": {"en": "Director"}}
    assert form_of_address(visitor, "zh-TW") == "Director Kenji Mori"


# --- through the API, into the briefing documents -----------------------------------------------


def test_an_officials_forms_of_address_are_kept_replaced_and_cleared(
    inline_api: InlineApi,
) -> None:
    official = command(inline_api, "POST", "/officials", json=MAYOR)["id"]
    assert inline_api.get(f"/officials/{official}").json()["forms_of_address"] == {
        "zh-TW": "市長閣下",
        "es": "Su Excelencia",
    }

    replaced = {"forms_of_address": {"en": "The Honourable Mayor"}}
    command(inline_api, "PATCH", f"/officials/{official}", json=replaced)
    assert inline_api.get(f"/officials/{official}").json()["forms_of_address"] == {
        "en": "The Honourable Mayor"
    }

    command(inline_api, "PATCH", f"/officials/{official}", json={"forms_of_address": None})
    assert inline_api.get(f"/officials/{official}").json()["forms_of_address"] is None


def test_an_empty_form_of_address_is_refused_naming_the_field(inline_api: InlineApi) -> None:
    answer = inline_api.post("/officials", json={**MAYOR, "forms_of_address": {"en": " "}})
    assert answer.status_code == 422, answer.text
    assert "forms_of_address" in answer.json()["errors"][0]["loc"]


def _documents(settings: Settings, visit_id: str) -> tuple[Any, Any]:
    async def run() -> tuple[BriefingBook | None, DelegationProgramme | None]:
        engine = make_async_engine(settings.async_database_url)
        try:
            async with async_sessionmaker(engine)() as session:
                return (
                    await book(session, visit_id=visit_id, locale="zh-TW", settings=settings),
                    await programme(session, visit_id=visit_id, locale="ja", settings=settings),
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_briefing_documents_list_officials_by_precedence_and_address_the_head(
    inline_api: InlineApi,
) -> None:
    def official(name: str, title: str) -> str:
        body = {"names": {"zh-TW": name}, "title": {"zh-TW": title}, "protocol_rank": 2}
        return str(command(inline_api, "POST", "/officials", json=body)["id"])

    director, deputy = official("王局長", "局長"), official("吳副市長", "副市長")
    head = {
        **sample_visit()["head_of_delegation"],
        "forms_of_address": {"ja": "佐藤会頭殿", "zh-TW": "佐藤會頭閣下"},
    }
    visit = command(inline_api, "POST", "/visits", json=sample_visit(head_of_delegation=head))
    command(inline_api, "POST", f"/visits/{visit['id']}/approve")
    item = {
        "starts_at": "2026-05-01T10:00:00+08:00",
        "ends_at": "2026-05-01T11:00:00+08:00",
        "titles": {"zh-TW": "拜會"},
        "venue_id": Office(inline_api).venue(),
        "official_ids": [director, deputy],
    }
    command(inline_api, "POST", f"/visits/{visit['id']}/itinerary", json=item)

    internal, delegation = _documents(inline_api.settings, visit["id"])

    attending = [p.name.text for p in internal.programme[0].items[0].officials]
    assert attending == ["吳副市長", "王局長"]  # same rank: 副市長 before 局長 in the table
    assert internal.head.address.text == "佐藤會頭閣下"
    assert delegation.head.address.text == "佐藤会頭殿"

    reversed_table = {"局長": 1, "副市長": 2}
    settings = inline_api.settings.model_copy(update={"precedence_titles": reversed_table})
    internal, _ = _documents(settings, visit["id"])
    assert [p.name.text for p in internal.programme[0].items[0].officials] == [
        "王局長",
        "吳副市長",
    ]


# --- the delegation's members ------------------------------------------------------------------

MEMBERS = [
    {"names": {"en": "Kenji Mori"}, "title": {"en": "Director"}, "protocol_rank": 4},
    {
        "names": {"en": "Aiko Abe"},
        "title": {"en": "Deputy Mayor"},
        "protocol_rank": 4,
        "forms_of_address": {"ja": "安部副市長殿"},
        "dietary_notes": "no shellfish",
    },
    {"names": {"en": "Taro Ueda"}, "accessibility_notes": "uses a cane"},
]


def as_viewer(api: InlineApi) -> dict[str, str]:
    user = api.post("/users", json={"name": "someone.viewer", "role": "viewer"}).json()
    token = api.post(f"/users/{user['id']}/tokens", json={}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_delegations_members_are_kept_in_order_of_precedence_for_staff_only(
    inline_api: InlineApi,
) -> None:
    visit = Office(inline_api).visit("approve")
    command(inline_api, "PUT", f"/visits/{visit}/delegation-members", json={"members": MEMBERS})

    members = inline_api.get(f"/visits/{visit}").json()["delegation_members"]
    assert [m["names"]["en"] for m in members] == ["Aiko Abe", "Kenji Mori", "Taro Ueda"]
    assert members[0]["dietary_notes"] == "no shellfish"
    seen_by_viewer = inline_api.get(f"/visits/{visit}", headers=as_viewer(inline_api)).json()
    assert "delegation_members" not in seen_by_viewer

    command(inline_api, "PUT", f"/visits/{visit}/delegation-members", json={"members": []})
    assert inline_api.get(f"/visits/{visit}").json()["delegation_members"] is None


def test_a_member_without_a_name_is_refused_naming_the_field_and_a_closed_visit_with_409(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    visit = office.visit("approve")
    nameless = {"members": [{"names": {}, "title": {"en": "Director"}}]}
    answer = inline_api.request("PUT", f"/visits/{visit}/delegation-members", json=nameless)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"][-2:] == [0, "names"]

    declined = office.visit("decline")
    answer = inline_api.request(
        "PUT", f"/visits/{declined}/delegation-members", json={"members": MEMBERS}
    )
    assert answer.status_code == 409, answer.text
    missing = inline_api.request("PUT", "/visits/nope/delegation-members", json={"members": []})
    assert missing.status_code == 404


def test_the_briefing_book_lists_the_members_with_their_notes_and_the_programme_does_not(
    inline_api: InlineApi,
) -> None:
    visit = Office(inline_api).visit("approve")
    command(inline_api, "PUT", f"/visits/{visit}/delegation-members", json={"members": MEMBERS})

    internal, delegation = _documents(inline_api.settings, visit)

    assert [m.person.name.text for m in internal.delegation] == [
        "Aiko Abe",
        "Kenji Mori",
        "Taro Ueda",
    ]
    abe = internal.delegation[0]
    assert (abe.dietary_notes.text, abe.accessibility_notes) == ("no shellfish", None)
    assert internal.delegation[2].accessibility_notes.text == "uses a cane"
    assert not hasattr(delegation, "delegation")
