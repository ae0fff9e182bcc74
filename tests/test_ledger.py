"""The archive is the ledger: an event is archived, once, exactly when every projector that
handles it has applied it once, in the same transaction (`apply_events`). The per-projector
ledger table it replaced (`processed_events`) goes with migration `0030_ledger`."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from conftest import new_database_url, sample_partner
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.db.migrate import alembic_config
from twinning.streams.events import Event, PartnerCityRegistered, PartnerCityUpdated, new_event
from twinning.streams.projection import (
    DeadLetterRecord,
    EventProcessor,
    Message,
    Outcome,
    Projector,
    rebuild,
)
from twinning.streams.store import ArchivedEvent

COMMITTED = "test.ledger.calls"


def counting(name: str, committed: Counter[tuple[str, str]], *, fails_on: str = "") -> Any:
    """A handler that counts its applications that were committed (a rolled-back batch's are
    not), by projector and event id; it raises on the event `fails_on`."""

    async def handler(session: AsyncSession, event: Event) -> None:
        if event.event_id == fails_on:
            raise RuntimeError("this projector cannot apply it")
        calls: list[tuple[str, str]] = session.info.setdefault(COMMITTED, [])
        if not calls:

            def after_commit(sync_session: Session) -> None:
                committed.update(sync_session.info.pop(COMMITTED, []))

            sqlalchemy_event.listen(session.sync_session, "after_commit", after_commit, once=True)
        calls.append((name, event.event_id))

    return handler


def registered(partner: str) -> Event:
    return new_event(
        PartnerCityRegistered.model_validate(sample_partner()), aggregate_id=partner, actor="staff"
    )


def test_every_projector_applies_each_event_once_and_the_archive_says_which(
    database_url: str, tmp_path: Path
) -> None:
    committed: Counter[tuple[str, str]] = Counter()
    r1, r2, r3, r4, bad = (registered(f"p-{n}") for n in range(5))
    u1 = new_event(PartnerCityUpdated(region="Kanto"), aggregate_id="p-0", actor="staff")
    both, one = Projector("both"), Projector("one")
    both.on(PartnerCityRegistered)(counting("both", committed))
    one.on(PartnerCityRegistered, PartnerCityUpdated)(
        counting("one", committed, fails_on=bad.event_id)
    )
    settings = Settings(database_url=database_url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    dead: list[DeadLetterRecord] = []

    async def run() -> tuple[list[list[Outcome]], int]:
        engine = make_async_engine(settings.async_database_url)

        async def sink(record: DeadLetterRecord) -> None:
            dead.append(record)

        sessions = async_sessionmaker(engine, expire_on_commit=False)
        processor = EventProcessor(sessions, [both, one], sink)

        def batch(*events: Event) -> Sequence[Message]:
            return [Message(e.envelope.to_bytes(), e.event_type.topic) for e in events]

        try:
            outcomes = [
                # Redelivered within a batch, across batches, and on its own.
                await processor.process_batch(batch(r1, r2, r1, u1)),
                await processor.process_batch(batch(r2, u1, r3)),
                [await processor.process(batch(r3)[0])],
                # A projector fails on one event: the batch is rolled back, then applied one by
                # one; the event is dead-lettered, applied by no projector, not archived.
                await processor.process_batch(batch(r4, bad)),
            ]
            replayed = await rebuild(sessions, [both, one])
        finally:
            await engine.dispose()
        return outcomes, replayed

    def archived() -> list[str]:
        engine = create_engine(settings.sync_database_url)
        try:
            with engine.connect() as connection:
                return list(
                    connection.scalars(select(ArchivedEvent.event_id).order_by(ArchivedEvent.seq))
                )
        finally:
            engine.dispose()

    outcomes, replayed = asyncio.run(run())
    assert outcomes == [
        ["applied", "applied", "duplicate", "applied"],
        ["duplicate", "duplicate", "applied"],
        ["duplicate"],
        ["applied", "dead-lettered"],
    ]
    assert [d.event_id for d in dead] == [bad.event_id]
    applied = [r1, r2, u1, r3, r4]
    assert archived() == [e.event_id for e in applied]
    # Each archived event applied by each projector that handles it: once when it came, and
    # once more in the rebuild (which replays the archive); the dead-lettered one by none.
    handled = [("both", e) for e in (r1, r2, r3, r4)] + [("one", e) for e in applied]
    assert replayed == len(applied)
    assert committed == Counter({(name, e.event_id): 2 for name, e in handled})


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_ledger_table_goes_with_its_migration_and_comes_back_empty_on_a_downgrade(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = new_database_url(kind, tmp_path, request, migrated=False)
    settings = Settings(database_url=url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    config = alembic_config(settings.sync_database_url)
    engine = create_engine(settings.sync_database_url)
    try:
        command.upgrade(config, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO processed_events (projector, event_id, processed_at)"
                    " VALUES ('crm', 'e-1', CURRENT_TIMESTAMP)"
                )
            )
        command.upgrade(config, "0030_ledger")
        assert "processed_events" not in inspect(engine).get_table_names()
        assert "event_archive" in inspect(engine).get_table_names()
        command.downgrade(config, "ledger@-1")
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM processed_events")) == 0
        command.upgrade(config, "heads")
        assert "processed_events" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_backup_that_still_holds_the_ledger_restores_without_it(tmp_path: Path) -> None:
    """A backup taken before `0030_ledger` (its manifest counts the ledger's rows) restores
    whole, and is migrated: the ledger goes, the archive stays."""
    from twinning.cli import cli
    from typer.testing import CliRunner

    source = Settings(data_dir=tmp_path / "source", _env_file=None)  # type: ignore[call-arg]
    source.data_dir.mkdir()
    config = alembic_config(source.sync_database_url)
    for head in ScriptDirectory.from_config(config).get_heads():
        if head != "0030_ledger":
            command.upgrade(config, head)
    engine = create_engine(source.sync_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO event_archive (event_id, topic, type, schema_version,"
                    " aggregate_id, actor, occurred_at, body, applied_at) VALUES ('e-1',"
                    " 'twinning.partners', 'PartnerCityRegistered', 1, 'p-1', 'staff',"
                    " CURRENT_TIMESTAMP, '{}', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO processed_events (projector, event_id, processed_at)"
                    " VALUES ('crm', 'e-1', CURRENT_TIMESTAMP)"
                )
            )
    finally:
        engine.dispose()
    clean: dict[str, str | None] = {key: None for key in os.environ if key.startswith("TWINNING_")}
    archive = tmp_path / "backup.tar.gz"
    runner = CliRunner()
    taken = runner.invoke(
        cli, ["backup", "--to", str(archive), "--data-dir", str(source.data_dir)], env=clean
    )
    assert taken.exit_code == 0, taken.stderr
    restored = runner.invoke(
        cli, ["restore", str(archive), "--data-dir", str(tmp_path / "new")], env=clean
    )
    assert restored.exit_code == 0, restored.stderr
    assert "migrated to the newest schema" in restored.stdout
    engine = create_engine(f"sqlite:///{tmp_path / 'new' / 'twinning.db'}")
    try:
        assert "processed_events" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            assert list(connection.scalars(select(ArchivedEvent.event_id))) == ["e-1"]
    finally:
        engine.dispose()
