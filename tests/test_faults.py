"""Faults: the database goes away under the API and the worker, and comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ADMIN_TOKEN, Stack, wait_for
from postgres import TemporaryPostgres, create_database
from twinning.config import Settings
from twinning.db.migrate import upgrade
from twinning.streams.broker import EmbeddedBroker, free_port


@pytest.fixture
def own_postgres() -> Iterator[TemporaryPostgres]:
    server = TemporaryPostgres()
    server.start()
    yield server
    server.remove()


def test_a_database_outage_answers_503_and_everything_recovers_by_itself(
    own_postgres: TemporaryPostgres, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=create_database(own_postgres.url).render_as_string(hide_password=False),
        broker=",".join(broker.bootstrap_servers),
        data_dir=tmp_path / "data",
        api_port=free_port(),
        topic_partitions=3,
        redeliver_after=3.0,
        bootstrap_token=ADMIN_TOKEN,
        _env_file=None,  # type: ignore[call-arg]
    )
    upgrade(settings.sync_database_url)
    stack = Stack(settings, broker, tmp_path)
    try:
        stack.start_api()
        stack.start_worker()
        before = stack.post_partner()
        stack.wait_applied([before["event_id"]])

        own_postgres.stop()
        read = stack.client.get(f"/partners/{before['id']}")
        assert read.status_code == 503
        assert "database is unavailable" in read.json()["detail"]
        assert read.headers["retry-after"]
        assert (
            stack.client.post(
                "/partners",
                json={
                    "names": {"en": "Lost?"},
                    "country": "JP",
                    "kind": "sister",
                    "timezone": "Asia/Tokyo",
                },
            ).status_code
            == 503
        )
        health = stack.client.get("/health")
        assert (health.status_code, health.json()["database"]["status"]) == (503, "down")

        own_postgres.start()
        reads: list[httpx.Response] = []  # the last one

        def database_answers() -> bool:
            reads[:] = [stack.client.get(f"/partners/{before['id']}")]
            return reads[0].status_code != 503

        wait_for(
            database_answers,
            what="the API to reach the database again",
            state=lambda: (
                f"the API last answered {reads[0].status_code} {reads[0].text}; "
                f"{own_postgres.describe()}"
            ),
        )
        # What was accepted before the outage is there at once: nothing committed is lost.
        assert reads[0].status_code == 200, (
            f"after the restart the partner accepted before the outage answers "
            f"{reads[0].status_code} {reads[0].text}"
        )
        after = stack.post_partner(names={"en": "After the outage"})
        stack.wait_applied([after["event_id"]])  # the worker recovered too
        assert stack.client.get(f"/partners/{after['id']}").json()["names"] == {
            "en": "After the outage"
        }
        assert {p["id"] for p in stack.client.get("/partners").json()} == {
            before["id"],
            after["id"],
        }
    finally:
        stack.close()
