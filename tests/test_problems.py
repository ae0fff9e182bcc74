"""One error body across every domain: 404, 409 and 422 are problem details (RFC 9457) with
the field, the current state or the conflicting items a page needs, in the reader's language."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import InlineApi, sample_visit
from twinning.api.app import create_app
from twinning.config import Settings
from twinning.i18n import force_locale, supported_locales
from twinning.refusals import STATES, Conflict, InvalidField, NotFound

PROBLEM = "application/problem+json"
UNKNOWN = "0b5e7d0e-6a49-4a0b-9a51-111111111111"

#: One read of an unknown id per domain, and the kind of record it names.
UNKNOWN_READS = [
    (f"/partners/{UNKNOWN}", "partner city"),
    (f"/missions/{UNKNOWN}", "foreign mission"),
    (f"/contacts/{UNKNOWN}", "contact"),
    (f"/exchanges/{UNKNOWN}", "exchange"),
    (f"/officials/{UNKNOWN}", "official"),
    (f"/venues/{UNKNOWN}", "venue"),
    (f"/visits/{UNKNOWN}", "visit"),
    (f"/trips/{UNKNOWN}", "trip"),
    (f"/city-events/{UNKNOWN}", "city event"),
    (f"/invitations/{UNKNOWN}", "invitation"),
    (f"/users/{UNKNOWN}", "user"),
    (f"/events/{UNKNOWN}", "event"),
]


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def test_an_unknown_id_is_the_same_404_body_in_every_domain(inline_api: InlineApi) -> None:
    for url, kind in UNKNOWN_READS:
        body = problem(inline_api.get(url), 404)
        assert (body["type"], body["kind"], body["ids"]) == ("not-found", kind, [UNKNOWN]), url
        assert body["detail"] == f"{kind} {UNKNOWN} not found"


def test_a_step_the_state_refuses_names_the_state_in_the_readers_language(
    inline_api: InlineApi,
) -> None:
    visit_id = inline_api.post("/visits", json=sample_visit()).json()["id"]
    assert inline_api.post(f"/visits/{visit_id}/cancel").status_code == 202

    english = problem(inline_api.post(f"/visits/{visit_id}/approve"), 409)
    chinese = problem(
        inline_api.post(f"/visits/{visit_id}/approve", headers={"Accept-Language": "zh-TW"}), 409
    )

    assert english["type"] == chinese["type"] == "conflict"
    assert english["current_state"] == chinese["current_state"] == "cancelled"
    assert english["detail"] == f"visit {visit_id} is cancelled: it cannot be approved"
    with force_locale("zh-TW"):
        cancelled, approved = str(STATES["cancelled"]), str(STATES["approved"])
    assert visit_id in chinese["detail"]
    assert cancelled in chinese["detail"] and approved in chinese["detail"]
    assert "cancelled" not in chinese["detail"]


def test_invalid_input_names_each_field_and_never_echoes_what_was_sent(
    inline_api: InlineApi,
) -> None:
    secret = "ichiro.sato.private@example.org"
    contact = {"name": "Ichiro Sato", "email": secret, "phone": "not a phone"}

    body = problem(inline_api.post("/contacts", json=contact), 422)

    assert body["type"] == "invalid"
    assert [(e["loc"], e["field"]) for e in body["errors"]] == [(["body", "phone"], "phone")]
    assert all(e["msg"] and e["type"] for e in body["errors"])
    assert "input" not in body["errors"][0]
    assert secret not in inline_api.post("/contacts", json=contact).text


def test_a_domain_refusal_of_a_field_has_the_same_422_body(inline_api: InlineApi) -> None:
    visit = sample_visit(delegation={"partner_id": "nowhere"})

    body = problem(inline_api.post("/visits", json=visit), 422)

    assert body["errors"] == [
        {
            "loc": ["body", "delegation", "partner_id"],
            "field": "delegation.partner_id",
            "msg": "unknown partner city nowhere",
            "type": "value_error",
        }
    ]


def test_the_openapi_documents_every_error_answer_as_a_problem() -> None:
    schema = create_app(
        Settings(database_url="sqlite://", _env_file=None), with_relay=False
    ).openapi()  # type: ignore[call-arg]
    documented = {
        (path, method, status): response["content"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("4")
    }
    problem_only = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert ("/visits/{visit_id}/approve", "post", "409") in documented
    assert ("/partners/{partner_id}", "patch", "404") in documented
    assert all(content == problem_only for content in documented.values()), documented
    assert "HTTPValidationError" not in schema["components"]["schemas"]


@pytest.mark.parametrize("locale", supported_locales())
def test_every_refusal_reads_whole_in_every_locale(locale: str) -> None:
    refusals = [
        NotFound("itinerary item", "i-1"),
        NotFound("partner city", "p-1", "p-2"),
        Conflict(
            "visit %(id)s is %(state)s: it cannot be %(target)s",
            id="v-1",
            state="declined",
            target="approved",
        ),
        InvalidField("ends_at", "ends_at must be after starts_at"),
    ]
    for refusal in refusals:
        text = refusal.text(locale)
        assert text and "%(" not in text, (locale, text)
        assert refusal.problem(locale).detail == text


@pytest.mark.parametrize(
    "url", [f"/partners/{UNKNOWN}%00", "/visits?partner_id=%00", "/partners?country=J%00"]
)
def test_a_nul_in_the_address_is_invalid_input_not_a_server_error(
    inline_api: InlineApi, url: str
) -> None:
    """PostgreSQL cannot hold or compare a NUL: it is refused before any query runs."""
    body = problem(inline_api.get(url), 422)
    assert body["type"] == "invalid" and "NUL" in body["detail"]


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/visits", {"delegation": {"partner_id": "p\u0000"}}, "partner_id"),
        ("/contacts", {"name": "Hanako", "partner_id": "p\u0000"}, "partner_id"),
    ],
)
def test_a_nul_in_a_json_id_is_a_422_naming_the_field(
    inline_api: InlineApi, url: str, body: dict[str, object], field: str
) -> None:
    """An id in a body is checked as text is: a control character is refused by name, before
    any query (PostgreSQL cannot compare a NUL)."""
    if url == "/visits":
        body = {**sample_visit(), **body}
    found = problem(inline_api.post(url, json=body), 422)
    assert any(
        error["loc"][-1] == field and "control characters" in error["msg"]
        for error in found["errors"]
    ), found
