"""The `twinning` command: the whole system in one process tree (`up`), or each part alone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from twinning.config import EMBEDDED, Settings

cli = typer.Typer(
    help="twinning: the international affairs office's event-driven system.", no_args_is_help=True
)
log = logging.getLogger("twinning")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Override TWINNING_DATA_DIR.")]


def _settings(**overrides: Any) -> Settings:
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _setup(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # kafka-python logs every reconnect attempt as an error; alembic and httpx narrate routine work.
    for name, level in (
        ("kafka", logging.CRITICAL),
        ("alembic", logging.WARNING),
        ("httpx", logging.WARNING),
    ):
        logging.getLogger(name).setLevel(level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from twinning.db.migrate import upgrade

    upgrade(settings.sync_database_url)


@cli.command()
def up(
    port: Annotated[
        int | None, typer.Option(help="API port (default TWINNING_API_PORT or 8000).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="API host.")] = None,
    data_dir: DataDir = None,
    demo: Annotated[bool, typer.Option(help="Load the demo data through the API.")] = False,
) -> None:
    """Start everything: embedded broker, worker, API and outbox relay. Ctrl-C stops it all."""
    import uvicorn
    from twinning.api.app import create_app
    from twinning.streams.broker import EmbeddedBroker

    settings = _settings(api_port=port, api_host=host, data_dir=data_dir)
    _setup(settings)
    broker = None
    if settings.broker == EMBEDDED:
        broker = EmbeddedBroker(
            data_dir=settings.data_dir, partitions=settings.topic_partitions
        ).start()
        settings = settings.model_copy(update={"broker": ",".join(broker.bootstrap_servers)})
    worker = None
    try:
        worker = _spawn("worker", settings)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings),
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
            )
        )
        threading.Thread(target=_announce, args=(server, settings, demo), daemon=True).start()
        with contextlib.suppress(
            KeyboardInterrupt
        ):  # uvicorn re-raises Ctrl-C once it has shut down
            server.run()
    finally:
        if worker is not None:
            _stop_process(worker)
        if broker is not None:
            broker.stop()
        typer.echo("twinning stopped.")


def _spawn(command: str, settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TWINNING_BROKER": settings.broker,
        "TWINNING_DATA_DIR": str(settings.data_dir.resolve()),
        "TWINNING_DATABASE_URL": settings.sync_database_url.render_as_string(hide_password=False),
    }
    # Its own process group: Ctrl-C goes to us, and we stop the child in order.
    return subprocess.Popen(
        [sys.executable, "-m", "twinning", command], env=env, start_new_session=True
    )


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _announce(server: Any, settings: Settings, demo: bool) -> None:
    import time

    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    base = settings.base_url()
    if demo:
        from twinning.demo import load_demo

        count = load_demo(base)
        typer.echo(f"Loaded {count} demo records through the API.")
    typer.echo(
        "\n".join(
            [
                "",
                "twinning is up.",
                f"  API           {base}/",
                f"  API docs      {base}/docs",
                f"  health        {base}/health",
                f"  partners      {base}/partners",
                f"  broker        {settings.broker}",
                f"  data          {settings.data_dir.resolve()}",
                "Press Ctrl-C to stop.",
            ]
        )
    )


@cli.command()
def api(
    port: Annotated[int | None, typer.Option(help="API port.")] = None,
    host: Annotated[str | None, typer.Option(help="API host.")] = None,
    data_dir: DataDir = None,
    with_relay: Annotated[
        bool, typer.Option(help="Run the outbox relay in this process too.")
    ] = False,
) -> None:
    """Serve the HTTP API (run `twinning relay` beside it, or pass --with-relay)."""
    import uvicorn
    from twinning.api.app import create_app

    settings = _settings(api_port=port, api_host=host, data_dir=data_dir)
    _setup(settings)
    uvicorn.run(
        create_app(settings, with_relay=with_relay), host=settings.api_host, port=settings.api_port
    )


@cli.command()
def worker(data_dir: DataDir = None) -> None:
    """Run a faust worker: consume the event topics and keep the read models."""
    from twinning.streams.worker import run_worker

    settings = _settings(data_dir=data_dir)
    _setup(settings)
    run_worker(settings)


@cli.command()
def relay(data_dir: DataDir = None) -> None:
    """Publish committed outbox rows to Kafka until interrupted."""
    from twinning.db import make_engine
    from twinning.streams.relay import OutboxRelay

    settings = _settings(data_dir=data_dir)
    _setup(settings)
    outbox_relay = OutboxRelay(
        make_engine(settings.sync_database_url),
        settings.bootstrap_servers,
        poll_interval=settings.relay_poll_interval,
        redeliver_after=settings.redeliver_after,
    )
    outbox_relay.start()
    _wait_for_interrupt()
    outbox_relay.stop()


@cli.command()
def broker(
    data_dir: DataDir = None,
    port: Annotated[int | None, typer.Option(help="Port (default: a free one).")] = None,
) -> None:
    """Run the embedded broker in the foreground; other commands of this data dir find it."""
    from twinning.streams.broker import EmbeddedBroker

    settings = _settings(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker(
        data_dir=settings.data_dir, port=port, partitions=settings.topic_partitions
    ) as running:
        typer.echo(f"embedded broker on {running.bootstrap_servers[0]} (Ctrl-C stops it)")
        _wait_for_interrupt()


@cli.command()
def topics(data_dir: DataDir = None) -> None:
    """Create the topics that are missing on the configured broker and list them."""
    from twinning.streams.broker import create_topics, topic_specs

    settings = _settings(data_dir=data_dir)
    specs = topic_specs(settings.topic_partitions, settings.topic_replication)
    created = create_topics(settings.bootstrap_servers(), specs)
    for spec in specs:
        state = "created" if spec.name in created else "exists"
        typer.echo(f"{spec.name:28} partitions={spec.partitions:<3} {state}")


@cli.command()
def rebuild(data_dir: DataDir = None) -> None:
    """Recompute every read model from the archive of applied events (stop the workers first)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker
    from twinning.db import make_async_engine
    from twinning.streams.projection import rebuild as rebuild_read_models
    from twinning.streams.registry import PROJECTORS

    settings = _settings(data_dir=data_dir)
    _setup(settings)

    async def run() -> int:
        engine = make_async_engine(settings.async_database_url)
        try:
            return await rebuild_read_models(
                async_sessionmaker(engine, expire_on_commit=False), PROJECTORS
            )
        finally:
            await engine.dispose()

    typer.echo(f"rebuilt the read models from {asyncio.run(run())} archived events")


@cli.command()
def schemas() -> None:
    """Regenerate the published JSON Schema of every event into streams/schemas/."""
    from twinning.streams.events import write_json_schemas

    for path in write_json_schemas():
        typer.echo(str(path))


@cli.command()
def migrate(data_dir: DataDir = None) -> None:
    """Bring the database to the newest schema (every command also does this on start)."""
    settings = _settings(data_dir=data_dir)
    _setup(settings)
    typer.echo(
        json.dumps(
            {
                "database": settings.sync_database_url.render_as_string(hide_password=True),
                "migrated": True,
            }
        )
    )


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


def main() -> None:
    cli()
