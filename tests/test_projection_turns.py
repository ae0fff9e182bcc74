"""Projection transactions take turns, across worker processes too: the archive numbers events
in the order their transactions commit, and `rebuild` replays them in that order, so each
transaction must have seen every earlier one's changes. Two committed side by side on
PostgreSQL would not have (a calendar entry refreshed for a partner's new name that a trip leg
written beside it never got: the read models would then differ from their rebuild)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import (
    Projection,
    external_event,
    migrated_settings,
    new_database_url,
    sample_partner,
    wait_for,
)
from sqlalchemy import URL, create_engine, func, select, text
from twinning.crm.models import PartnerCity
from twinning.streams.projection import PROJECTION_LOCK


def test_a_worker_waits_while_another_workers_projection_transaction_is_open(
    postgres: URL, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    projection = Projection(
        migrated_settings(new_database_url("postgresql", tmp_path, request), tmp_path)
    )
    other_worker = create_engine(projection.settings.sync_database_url)
    second = external_event("PartnerCityRegistered", sample_partner(2), aggregate_id="p-2")
    try:
        with other_worker.connect() as connection:
            # Another worker's projection transaction, open: it has taken its turn.
            connection.execute(select(func.pg_advisory_xact_lock(PROJECTION_LOCK)))
            outcomes: list[object] = []
            applying = threading.Thread(
                target=lambda: outcomes.extend(projection.apply(second)), daemon=True
            )
            applying.start()

            def waiting_for_its_turn() -> bool:
                with projection.engine.connect() as look:
                    return bool(
                        look.scalar(
                            text(
                                "select count(*) from pg_locks where locktype = 'advisory'"
                                " and not granted and database = "
                                "(select oid from pg_database where datname = current_database())"
                            )
                        )
                    )

            wait_for(waiting_for_its_turn, what="the second worker to wait for its turn")
            assert projection.rows(PartnerCity) == []
            assert outcomes == []
            connection.commit()  # the other worker's transaction ends: now it is the second's turn
        applying.join(timeout=60)
        assert outcomes == ["applied"]
        assert [p.id for p in projection.rows(PartnerCity)] == ["p-2"]
    finally:
        other_worker.dispose()
        projection.close()
