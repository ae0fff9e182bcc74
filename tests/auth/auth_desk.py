"""A front desk for the access-control tests: the real API in this process (FastAPI's
TestClient, lifespan included, so the bootstrap admin exists) on a test database, without
broker, relay or worker, plus a way to make callers of every role. Commands only need to
reach the outbox here, so nothing more is required; fast enough for one database per test.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ADMIN_TOKEN, bearer
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from twinning.api.app import create_app
from twinning.config import Settings
from twinning.db.migrate import upgrade

with warnings.catch_warnings():
    # Starlette would rather drive its test client with `httpx2`; the project has `httpx`,
    # which it still supports.
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient


def desk_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings with no broker: the embedded one is named but not started in `data_dir`, so
    /health reports it down at once."""
    return Settings(
        **{"bootstrap_token": ADMIN_TOKEN, **overrides},
        database_url=database_url,
        data_dir=data_dir,
        _env_file=None,  # type: ignore[call-arg]
    )


class Desk:
    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.engine: Engine = create_engine(settings.sync_database_url)

    def call(
        self, method: str, path: str, *, token: str | None = ADMIN_TOKEN, **kwargs: Any
    ) -> httpx.Response:
        """One request, as the holder of `token` (the bootstrap admin by default, None for
        an anonymous caller)."""
        headers = {**kwargs.pop("headers", {}), **(bearer(token) if token else {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def new_user(self, name: str, role: str) -> dict[str, Any]:
        response = self.call("POST", "/users", json={"name": name, "role": role})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def issue_token(self, user_id: str, label: str | None = None) -> dict[str, Any]:
        response = self.call("POST", f"/users/{user_id}/tokens", json={"label": label})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def token_of_new_user(self, name: str, role: str) -> str:
        return str(self.issue_token(self.new_user(name, role)["id"])["token"])


@pytest.fixture(name="desk")
def desk_fixture(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    """The desk on each test database; a test module imports it to use `desk`."""
    with open_desk(desk_settings(database_url, tmp_path)) as desk:
        yield desk


@contextmanager
def open_desk(settings: Settings) -> Iterator[Desk]:
    upgrade(settings.sync_database_url)
    with TestClient(create_app(settings, with_relay=False)) as client:
        desk = Desk(client, settings)
        try:
            yield desk
        finally:
            desk.engine.dispose()
