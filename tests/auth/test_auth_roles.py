"""Who may do what: viewers read, staff also write and see personal data, admins also manage
users and tokens; without a valid token only the public endpoints answer."""

from __future__ import annotations

import json
import re

import pytest
from auth_desk import Desk, desk_fixture  # noqa: F401 - the `desk` fixture
from conftest import InlineApi, bearer, sample_partner, sample_visit
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.streams.store import OutboxEvent

#: Paths anyone may call: liveness, the API docs, leaflets and brochures, and the calendar
#: feeds (those carry their own secret in the URL).
PUBLIC = re.compile(
    r"^(/health|/docs.*|/redoc|/openapi\.json|/publicity/.*|/feeds/.*"
    r"|/partners/\{[^}]+\}/brochure.*|/partners/\{[^}]+\}/calendar\.ics)$"
)


#: A visit request carrying personal data: the contact, dietary and accessibility notes.
VISIT = sample_visit(
    dietary_notes="two vegetarians",
    accessibility_notes="one wheelchair user",
    contact={"name": "Hanako Sato", "email": "sato@example.jp"},
)
PERSONAL = {"contact", "dietary_notes", "accessibility_notes"}


@pytest.mark.parametrize(
    ("role", "write", "read", "sees_personal_data"),
    [
        ("viewer", 403, 200, False),
        ("staff", 202, 200, True),
        ("admin", 202, 200, True),
    ],
)
def test_what_each_role_may_do(
    inline_api: InlineApi, role: str, write: int, read: int, sees_personal_data: bool
) -> None:
    visit_id = inline_api.post("/visits", json=VISIT).json()["id"]  # as the bootstrap admin
    user = inline_api.post("/users", json={"name": f"someone.{role}", "role": role}).json()
    as_user = bearer(inline_api.post(f"/users/{user['id']}/tokens", json={}).json()["token"])

    written = inline_api.post("/partners", json=sample_partner(), headers=as_user)
    visit = inline_api.get(f"/visits/{visit_id}", headers=as_user)
    visits = inline_api.get("/visits", headers=as_user)

    assert written.status_code == write
    assert (visit.status_code, visits.status_code) == (read, read)
    for shown in (visit.json(), *visits.json()):
        assert PERSONAL.issubset(shown) == sees_personal_data, shown
        assert ("Hanako" in visit.text + visits.text) == sees_personal_data


def test_every_route_but_the_public_ones_answers_401_without_a_token(desk: Desk) -> None:
    """Every operation the OpenAPI document lists, so a new router that forgets its
    dependency fails here."""
    paths = desk.call("GET", "/openapi.json", token=None).json()["paths"]
    guarded = [
        (method.upper(), path)
        for path, operations in paths.items()
        if not PUBLIC.match(path)
        for method in operations
    ]
    assert len(guarded) >= 10, guarded
    for method, path in guarded:
        url = re.sub(r"\{[^}]+\}", "0b5e7d0e-6a49-4a0b-9a51-111111111111", path)
        response = desk.call(method, url, token=None)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)


def test_the_public_endpoints_answer_without_a_token(desk: Desk) -> None:
    for path in ("/health", "/docs", "/openapi.json"):
        assert desk.call("GET", path, token=None).status_code in (200, 503), path


def test_401_and_403_are_distinct_and_say_why(desk: Desk) -> None:
    viewer = desk.token_of_new_user("vera", "viewer")

    missing = desk.call("POST", "/partners", token=None, json=sample_partner())
    unknown = desk.call("POST", "/partners", token="twn_" + "x" * 43, json=sample_partner())
    forbidden = desk.call("POST", "/partners", token=viewer, json=sample_partner())

    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="twinning"'
    assert "Authorization: Bearer" in missing.json()["detail"]
    assert unknown.status_code == 401
    assert unknown.headers["WWW-Authenticate"] == 'Bearer realm="twinning", error="invalid_token"'
    assert "invalid API token" in unknown.json()["detail"]
    assert forbidden.status_code == 403
    assert "WWW-Authenticate" not in forbidden.headers
    assert forbidden.json()["detail"] == (
        "forbidden: this needs the staff role, and your role is viewer"
    )


def test_a_token_of_another_scheme_counts_as_no_token(desk: Desk) -> None:
    response = desk.call(
        "GET", "/partners", token=None, headers={"Authorization": "Basic YWRtaW46YWRtaW4="}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="twinning"'


def test_only_admins_manage_users_and_tokens(desk: Desk) -> None:
    staff = desk.token_of_new_user("sam", "staff")
    sam = desk.call("GET", "/me", token=staff).json()

    assert desk.call("GET", "/users", token=staff).status_code == 403
    assert desk.call("POST", "/users", token=staff, json={"name": "eve"}).status_code == 403
    assert desk.call("DELETE", f"/tokens/{sam['token_id']}", token=staff).status_code == 403
    assert desk.call("GET", "/users").status_code == 200


def test_a_revoked_token_is_refused_at_once(desk: Desk) -> None:
    sam = desk.new_user("sam", "staff")
    issued = desk.issue_token(sam["id"], label="laptop")
    assert desk.call("GET", "/partners", token=issued["token"]).status_code == 200

    assert desk.call("DELETE", f"/tokens/{issued['id']}").status_code == 204

    assert desk.call("GET", "/partners", token=issued["token"]).status_code == 401
    [listed] = desk.call("GET", f"/users/{sam['id']}/tokens").json()
    assert listed["revoked_at"] is not None and "token" not in listed


def test_a_deactivated_users_tokens_stop_working_and_a_role_change_holds_at_once(
    desk: Desk,
) -> None:
    sam = desk.new_user("sam", "staff")
    token = desk.issue_token(sam["id"])["token"]

    desk.call("PATCH", f"/users/{sam['id']}", json={"role": "viewer"})
    assert desk.call("POST", "/partners", token=token, json=sample_partner()).status_code == 403
    desk.call("PATCH", f"/users/{sam['id']}", json={"active": False})
    assert desk.call("GET", "/partners", token=token).status_code == 401
    assert desk.call("POST", f"/users/{sam['id']}/tokens", json={}).status_code == 409


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(desk: Desk) -> None:
    admin = desk.call("GET", "/users").json()[0]

    for change in ({"role": "staff"}, {"active": False}):
        response = desk.call("PATCH", f"/users/{admin['id']}", json=change)
        assert response.status_code == 409
        assert "last active admin" in response.json()["detail"]
    desk.new_user("second.admin", "admin")
    assert desk.call("PATCH", f"/users/{admin['id']}", json={"role": "staff"}).status_code == 200


def test_a_user_name_is_unique_and_lower_case(desk: Desk) -> None:
    desk.new_user("chen.wei", "staff")

    taken = desk.call("POST", "/users", json={"name": "chen.wei", "role": "viewer"})
    capitals = desk.call("POST", "/users", json={"name": "Chen.Wei"})
    assert taken.status_code == 409 and "exists already" in taken.json()["detail"]
    assert capitals.status_code == 422 and capitals.json()["errors"][0]["loc"] == ["body", "name"]


def test_the_actor_of_a_command_is_the_user_in_its_event(desk: Desk) -> None:
    token = desk.token_of_new_user("chen.wei", "staff")

    accepted = desk.call("POST", "/partners", token=token, json=sample_partner()).json()

    with Session(desk.engine) as session:
        body = session.scalar(
            select(OutboxEvent.body).where(OutboxEvent.event_id == accepted["event_id"])
        )
    assert body is not None
    assert json.loads(body)["actor"] == "user:chen.wei"
