"""API tokens: stored only as hashes, and the first admin's token from the bootstrap setting."""

from __future__ import annotations

import hashlib
from pathlib import Path

from auth_desk import Desk, desk_fixture, desk_settings, open_desk  # noqa: F401 - `desk`
from conftest import ADMIN_TOKEN, bearer, sample_partner
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.auth.models import ApiToken, User
from twinning.streams.store import OutboxEvent

OTHER_BOOTSTRAP_TOKEN = "another-bootstrap-token-of-at-least-32-characters"


def test_tokens_are_stored_only_as_sha256_hashes(desk: Desk) -> None:
    staff = desk.new_user("sam", "staff")
    issued = desk.issue_token(staff["id"], label="laptop")
    desk.call("POST", "/partners", token=issued["token"], json=sample_partner())

    with Session(desk.engine) as session:
        hashes = set(session.scalars(select(ApiToken.token_hash)))
        stored = _every_value(session)
    tokens = (ADMIN_TOKEN, issued["token"])
    assert hashes == {hashlib.sha256(token.encode()).hexdigest() for token in tokens}
    for token in tokens:
        secret_part = token[len(issued["prefix"]) :]
        assert not any(secret_part in value for value in stored)


def _every_value(session: Session) -> list[str]:
    """Every value in the tables of users, tokens and the outbox, as text."""
    return [
        str(value)
        for model in (ApiToken, User, OutboxEvent)
        for row in session.execute(select(*model.__table__.columns))
        for value in row
    ]


def test_the_bootstrap_token_belongs_to_the_first_admin(desk: Desk) -> None:
    assert desk.call("GET", "/me").json()["name"] == "admin"
    assert desk.call("GET", "/me").json()["role"] == "admin"
    [admin] = desk.call("GET", "/users").json()
    assert (admin["name"], admin["created_by"]) == ("admin", "bootstrap")


def test_a_bootstrap_token_is_ignored_once_an_admin_exists(
    database_url: str, tmp_path: Path
) -> None:
    with open_desk(desk_settings(database_url, tmp_path)):
        pass
    settings = desk_settings(database_url, tmp_path, bootstrap_token=OTHER_BOOTSTRAP_TOKEN)
    with open_desk(settings) as restarted:
        assert restarted.call("GET", "/me", token=OTHER_BOOTSTRAP_TOKEN).status_code == 401
        assert restarted.call("GET", "/me").status_code == 200
        assert len(restarted.call("GET", "/users").json()) == 1


def test_a_user_sees_who_they_are(desk: Desk) -> None:
    token = desk.token_of_new_user("vera", "viewer")

    me = desk.client.get("/me", headers=bearer(token)).json()

    assert (me["name"], me["role"]) == ("vera", "viewer")
