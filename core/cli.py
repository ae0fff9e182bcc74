"""The `twinning` command: the whole system in one process tree (`up`), or each part alone."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from twinning.auth.schemas import Role
from twinning.config import EMBEDDED, Settings
from twinning.i18n import supported_locales
from twinning.processes import (
    OWNER_ENV,
    DataDirHold,
    DataDirInUse,
    Keeper,
    StartGate,
    die_with_parent,
    run_under_owner,
    start_collecting,
    take_early_worker,
    wait_at_start_gate,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession
    from twinning.auth.models import ApiToken, User
    from twinning.demo import DemoLoaded

cli = typer.Typer(
    help="twinning: the international affairs office's event-driven system.", no_args_is_help=True
)
users_cli = typer.Typer(
    help="Users of the API and their tokens (security data: stored in plain tables, no events).",
    no_args_is_help=True,
)
cli.add_typer(users_cli, name="users")
plan_cli = typer.Typer(
    help="The year's plan: import it from a file, export it.", no_args_is_help=True
)
cli.add_typer(plan_cli, name="plan")
log = logging.getLogger("twinning")
T = TypeVar("T")

#: Who created users and tokens from the command line (recorded in their `created_by`).
CLI_ACTOR = "cli"
DEMO_USER = "demo"
#: The consumer group's session timeout of the one worker of `twinning up` (s): the embedded
#: broker holds a new group's first join for about half of it.
UP_SESSION_TIMEOUT = 1.5

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Override TWINNING_DATA_DIR.")]
Init = Annotated[
    bool,
    typer.Option(
        "--init",
        help="Create the data directory and the database if they are not there (else only"
        " `twinning up` does; the other commands refuse a data directory without a database).",
    ),
]
#: What to do about a data directory or database that is not there.
NO_SYSTEM_HINT = (
    "check --data-dir, TWINNING_DATA_DIR and TWINNING_DATABASE_URL;"
    " `twinning up` (or `twinning migrate --init`) makes a new system"
)


def _settings(**overrides: Any) -> Settings:
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _setup(
    settings: Settings, *, init: bool = False, check_integrity: bool = False, migrate: bool = True
) -> None:
    """Logging, then the database brought to the newest schema. Only with `init` (`up`, or
    `--init`) are the data directory and the database created; without it a data directory
    that is not there, is a file, or holds no twinning database is refused in one line (a
    mistyped --data-dir would otherwise make an empty system, and tokens nobody's API knows).
    With `check_integrity`, a damaged SQLite file is refused too; without `migrate`, the
    database is left as it is (a backup takes what is there)."""
    _logging(settings)
    from sqlalchemy.exc import OperationalError
    from twinning.db import database_error_reason
    from twinning.db.migrate import (
        DatabaseProblem,
        NoDatabase,
        quick_check,
        require_database,
        upgrade,
    )

    data_dir = settings.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise _fail(f"{data_dir} is a file, not a data directory: {NO_SYSTEM_HINT}")
    try:
        if init:
            data_dir.mkdir(parents=True, exist_ok=True)
        elif not data_dir.is_dir():
            raise _fail(f"there is no data directory {data_dir}: {NO_SYSTEM_HINT}")
        else:
            require_database(settings.sync_database_url)
        if check_integrity:
            quick_check(settings.sync_database_url)
        if migrate:
            upgrade(settings.sync_database_url)
    except NoDatabase as exc:
        raise _fail(f"{exc}: {NO_SYSTEM_HINT}") from None
    except DatabaseProblem as exc:
        raise _fail(str(exc)) from None
    except OperationalError as exc:  # refused, unknown host, wrong password...
        where = settings.sync_database_url.render_as_string(hide_password=True)
        raise _fail(f"cannot reach the database {where}: {database_error_reason(exc)}") from None


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # kafka-python logs every reconnect attempt as an error; alembic and httpx narrate routine
    # work; aiosqlite logs every statement with its parameters, i.e. stored (personal) data.
    for name, level in (
        ("kafka", logging.CRITICAL),
        ("alembic", logging.WARNING),
        ("httpx", logging.WARNING),
        ("aiosqlite", logging.WARNING),
    ):
        logging.getLogger(name).setLevel(level)


def _hold(
    settings: Settings, command: str, *, alone: bool = False, roles: tuple[str, ...] = ()
) -> DataDirHold | None:
    """Hold the data directory for this process's life (see `DataDirHold`), or end the command
    naming the process that holds it. A child of the `up` that holds it needs no hold."""
    if run_under_owner():
        return None
    try:
        hold = DataDirHold(settings.data_dir, command, alone=alone, roles=roles).__enter__()
    except DataDirInUse as exc:
        raise _fail(str(exc)) from None
    atexit.register(hold.release)
    return hold


def _on_sqlite(settings: Settings) -> bool:
    return settings.sync_database_url.get_backend_name() == "sqlite"


def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one database transaction, committed when it returns (for commands that
    change the database without the API); a refused change ends the command with its reason."""
    from sqlalchemy.ext.asyncio import async_sessionmaker
    from twinning.db import async_session_scope, make_async_engine
    from twinning.refusals import Refusal

    async def run() -> T:
        engine = make_async_engine(settings.async_database_url)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            async with async_session_scope(sessions) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except Refusal as exc:
        raise _fail(str(exc)) from None


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


@cli.command()
def up(
    port: Annotated[
        int | None, typer.Option(help="API port (default TWINNING_API_PORT or 8000).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="API host.")] = None,
    data_dir: DataDir = None,
    demo: Annotated[bool, typer.Option(help="Load the demo data through the API.")] = False,
) -> None:
    """Start everything: embedded broker, worker, API and outbox relay. Ctrl-C stops it all.

    In the order that starts soonest: the worker first (`python -m twinning up` starts it
    before importing this module: `prepare_start`), then the broker's process (the worker
    imports its code while the database is migrated, then waits at a gate for it and for
    the broker, and takes its settings from the gate), then the API (the worker joins its
    consumer group while this process imports and builds it), the mailer last, once the API
    listens."""
    from twinning.streams.broker import EmbeddedBroker

    early = take_early_worker()

    settings = _settings(api_port=port, api_host=host, data_dir=data_dir)
    if demo and settings.office_location is None:
        from twinning.demo import DEMO_CITY, DEMO_LOCATION

        # The demo's city on the maps (its partners' brochures show the two cities).
        settings = settings.model_copy(
            update={
                "office_location": DEMO_LOCATION,
                "office_city": settings.office_city or DEMO_CITY,
            }
        )
    if not settings.data_dir.is_file():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _hold(settings, "up", alone=True)
    broker: EmbeddedBroker | None = None
    first_worker: subprocess.Popen[bytes] | None = None
    if settings.broker == EMBEDDED:
        if settings.session_timeout is None:
            # One worker: the embedded broker need not wait long for others to join its group.
            settings = settings.model_copy(update={"session_timeout": UP_SESSION_TIMEOUT})
        broker = EmbeddedBroker(data_dir=settings.data_dir, partitions=settings.topic_partitions)
    gate = early.gate if early is not None else StartGate()
    first_worker = early.process if early is not None else None
    try:
        if settings.data_dir.is_dir():  # else `_setup` says why it cannot be one
            # The broker's process and the worker start at once (if the worker was not
            # started already): the worker imports its code (a second of CPU, on the other
            # core) while the database is migrated, then waits at the gate for the database
            # and the broker's topics.
            if broker is not None:
                address = ",".join(broker.launch().bootstrap_servers)
                settings = settings.model_copy(update={"broker": address})
            if first_worker is None:
                first_worker = _spawn("worker", settings, gate=gate)
        _setup(settings, init=True, check_integrity=True)
        if broker is not None:
            broker.ready()
    except BaseException:
        gate.close()
        if first_worker is not None:
            _stop_process(first_worker)
        if broker is not None:
            broker.stop()
        raise
    gate.open(_child_env(settings))
    assert first_worker is not None
    keeper = Keeper(log)
    backups = None
    if broker is not None:
        running_broker = broker
        keeper.keep("broker", lambda: running_broker.start().process, running_broker.process)
    try:
        keeper.keep(
            "worker",
            lambda: _spawn("worker", settings),
            first_worker,
            restarts_with="broker" if broker is not None else "",
        )
        import uvicorn
        from twinning.api.app import create_app
        from twinning.auth.service import bootstrap_admin

        configured = (
            settings.bootstrap_token.get_secret_value() if settings.bootstrap_token else None
        )
        issued = _in_session(settings, lambda s: bootstrap_admin(db_session=s, token=configured))
        new_admin_token = issued if issued != configured else None
        if settings.backup_interval_hours > 0:
            from twinning.backup import BackupSchedule

            # The settings as configured (not the embedded broker's address of this run).
            as_set = settings.model_copy(update={"broker": EMBEDDED}) if broker else settings
            backups = BackupSchedule(as_set, log).start()
        server = uvicorn.Server(
            uvicorn.Config(
                # The first admin is settled above; the API need not look (and log) again.
                create_app(settings.model_copy(update={"bootstrap_token": None})),
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
            )
        )
        start_collecting()  # the API is built; uvicorn's start is small
        # The mailer once the API listens: its start is a second of CPU that would otherwise
        # be taken from the API's and the worker's, which the first command waits for.
        mailer_started = keeper.keep_later(
            "mailer", lambda: _spawn("mailer", settings), lambda: bool(server.started)
        )
        keeper.start()
        failed = threading.Event()
        threading.Thread(
            target=_announce,
            args=(server, settings, demo, new_admin_token, mailer_started, failed),
            daemon=True,
        ).start()
        with contextlib.suppress(
            KeyboardInterrupt
        ):  # uvicorn re-raises Ctrl-C once it has shut down
            server.run()
        if failed.is_set():
            raise typer.Exit(1)
    finally:
        if backups is not None:
            backups.stop()  # only an event: a backup under way ends with the process
        keeper.stop_restarting()
        if "mailer" in keeper.parts:
            _stop_process(keeper.current("mailer"))
        if "worker" in keeper.parts:
            _stop_process(keeper.current("worker"))
        if broker is not None:
            broker.stop()
        keeper.finish()
        typer.echo("twinning stopped.")


def _warn_of_missing_fonts() -> None:
    """Say at start what the PDFs in Chinese, Japanese and Korean lack on this machine."""
    from twinning.publicity.fonts import INSTALL_FONTS, missing_fonts

    missing = missing_fonts(supported_locales())
    if missing:
        families = ", ".join(sorted(set(missing.values())))
        typer.echo(
            f"warning: PDFs in {', '.join(missing)} need {families}, which this machine lacks;"
            f" they answer 503 until you {INSTALL_FONTS}.",
            err=True,
        )


def _spawn(
    command: str, settings: Settings, *, gate: StartGate | None = None
) -> subprocess.Popen[bytes]:
    """Start `twinning <command>` as a child of `up`; with `gate`, it waits at it once it has
    imported its code (`wait_at_start_gate`)."""
    env = {**os.environ, **_child_env(settings)}
    # Its own process group: Ctrl-C goes to us, and we stop the child in order; and it ends
    # when we die without stopping it (SIGKILL).
    if gate is not None:
        env.update(gate.child_env())
    child = subprocess.Popen(
        [sys.executable, "-m", "twinning", command],
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent(),
        pass_fds=gate.pass_fds() if gate is not None else (),
    )
    if gate is not None:
        gate.started()
    return child


def _child_env(settings: Settings) -> dict[str, str]:
    """What a child of `up` is told beside `up`'s own environment: the settings as `up` runs
    them (the embedded broker's address, the data directory, the database)."""
    env = {
        "TWINNING_BROKER": settings.broker,
        "TWINNING_DATA_DIR": str(settings.data_dir.resolve()),
        "TWINNING_DATABASE_URL": settings.sync_database_url.render_as_string(hide_password=False),
        # Where the mail's answer links lead: this API (the port `up` was given).
        "TWINNING_PUBLIC_URL": settings.base_url(),
        OWNER_ENV: str(os.getpid()),
    }
    if settings.session_timeout is not None:
        env["TWINNING_SESSION_TIMEOUT"] = str(settings.session_timeout)
    if settings.office_location is not None:  # (the demo's city, when `up --demo` set it)
        env["TWINNING_OFFICE_LOCATION"] = ",".join(map(str, settings.office_location))
        env["TWINNING_OFFICE_CITY"] = json.dumps(settings.office_city)
    return env


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _announce(
    server: Any,
    settings: Settings,
    demo: bool,
    new_admin_token: str | None,
    mailer_started: threading.Event,
    failed: threading.Event,
) -> None:
    """Once the API listens: load the demo (`demo`), then print where everything is. A demo
    that cannot be loaded stops `up` (`failed`, then the server) with the reason, rather than
    leaving a system up with part of it and no word."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    # Once the API listens: looking for the fonts is CPU its start would otherwise share.
    _warn_of_missing_fonts()
    while not mailer_started.wait(0.05):
        if server.should_exit:
            return
    base = settings.base_url()
    if demo:

        def stop(reason: str) -> None:
            typer.echo(f"error: {reason}; stopping.", err=True)
            failed.set()
            server.should_exit = True

        try:
            ours, others = _in_session(settings, _records_by_the_demo)
            if others:
                stop(
                    f"this data directory holds {others} records that are not the demo's, and"
                    " --demo adds the demo to a new one only (give --data-dir a new folder, or"
                    " start without --demo)"
                )
                return
            if ours:
                password = _in_session(settings, _demo_password)
                typer.echo(
                    f"The demo is in this data directory already ({ours} records):"
                    " not loaded again (a new --data-dir starts afresh). Its calendar feeds'"
                    " secret links were shown when it was loaded; staff make new ones at"
                    f" {base}/ui/calendar/feeds."
                )
            else:
                loaded, password = _load_demo(settings, base)
                typer.echo(f"Loaded {loaded.records} demo records through the API.")
                _announce_feeds(loaded.feeds)
        except Exception as exc:
            log.exception("the demo could not be loaded")
            stop(f"the demo could not be loaded ({exc})")
            return
        typer.echo(
            f"\nThe web app, signed in as the demo's staff member: {base}/ui/\n"
            f"  name `{DEMO_USER}`, password `{password}` (made now, shown this once;"
            f" `twinning users passwd {DEMO_USER}` sets another)"
        )
    if new_admin_token is not None:
        typer.echo(
            "\n".join(
                [
                    "",
                    "First admin created: user `admin`. Its API token, shown this once:",
                    f"  {new_admin_token}",
                    "Call the API with the header `Authorization: Bearer <token>`;",
                    "`twinning users --help` manages users and tokens.",
                ]
            )
        )
    typer.echo(
        "\n".join(
            [
                "",
                "twinning is up.",
                f"  web app       {base}/ui/",
                f"  API           {base}/",
                f"  API docs      {base}/docs",
                f"  health        {base}/health",
                f"  partners      {base}/partners",
                f"  leaflet       {base}/publicity/leaflet?lang=zh-TW&format=pdf"
                "  (lang: " + ", ".join(supported_locales()) + "; format: pdf or html)",
                f"  brochures     {base}/partners/<id>/brochure?lang=en&format=pdf",
                f"  broker        {settings.broker}",
                f"  data          {settings.data_dir.resolve()}",
                f"  mail          {base}/ui/admin/mail  ("
                + (
                    f"SMTP {settings.smtp_host}"
                    if settings.smtp_host
                    else f"not sent: written to {(settings.data_dir / 'mail').resolve()}"
                )
                + ")",
                "Press Ctrl-C to stop.",
            ]
        )
    )


def _announce_feeds(feeds: dict[str, str]) -> None:
    width = max(map(len, feeds), default=0)
    typer.echo(
        "\n".join(
            [
                "",
                "Calendar feeds of the demo: subscribe in Google Calendar, Outlook or Apple Calendar",
                "(webcal:// in place of http:// opens Apple Calendar); ?lang=zh-TW, en, ja, ko or es",
                "switches a feed's language. The office's and the mayor's are secret links:",
                *(f"  {name:<{width}}  {url}" for name, url in feeds.items()),
            ]
        )
    )


async def _records_by_the_demo(session: AsyncSession) -> tuple[int, int]:
    """How many events this system holds from the demo's staff user, and from anyone or
    anything else (an applied event's actor; one recorded here and not applied yet counts as
    the demo's, which is what a load stopped half-way leaves)."""
    from sqlalchemy import func, select
    from twinning.streams.store import ArchivedEvent, OutboxEvent

    async def count(query: Any) -> int:
        return int(await session.scalar(query) or 0)

    archived = select(func.count()).select_from(ArchivedEvent)
    demo = ArchivedEvent.actor == f"user:{DEMO_USER}"
    waiting = (
        select(func.count())
        .select_from(OutboxEvent)
        .where(
            ~select(ArchivedEvent.seq)
            .where(ArchivedEvent.event_id == OutboxEvent.event_id)
            .exists()
        )
    )
    return await count(archived.where(demo)) + await count(waiting), await count(
        archived.where(~demo)
    )


async def _demo_password(session: AsyncSession, user: Any = None) -> str:
    """A new random password for the demo's staff user (`user`, else found by its name); its
    last one was shown once."""
    import secrets

    from twinning.auth import service as auth

    if user is None:
        user = await auth.get_user_by_name(db_session=session, name=DEMO_USER)
    if user is None:
        raise RuntimeError(f"the demo's user `{DEMO_USER}` is not in this data directory")
    password = secrets.token_urlsafe(12)
    await auth.set_password(db_session=session, user=user, password=password)
    return password


def _load_demo(settings: Settings, base: str) -> tuple[DemoLoaded, str]:
    """Load the demo through the API as staff user `demo`, whose events say so, with a token
    that is revoked when the load is done; give `demo` a new random password for the web app
    and return it with what was loaded."""
    from twinning.auth import service as auth
    from twinning.auth.schemas import UserCreate
    from twinning.demo import load_demo

    async def issue(session: AsyncSession) -> tuple[str, str, str]:
        user = await auth.get_user_by_name(db_session=session, name=DEMO_USER)
        if user is None:
            user = await auth.create_user(
                db_session=session,
                data=UserCreate(name=DEMO_USER, role=Role.staff),
                created_by=CLI_ACTOR,
            )
        row, token = await auth.issue_token(
            db_session=session, user=user, created_by=CLI_ACTOR, label="twinning up --demo"
        )
        return row.id, token, await _demo_password(session, user)

    async def revoke(session: AsyncSession, token_id: str) -> None:
        row = await auth.get_token(db_session=session, token_id=token_id)
        if row is not None:
            await auth.revoke_token(db_session=session, token=row)

    token_id, token, password = _in_session(settings, issue)
    try:
        return load_demo(base, token=token), password
    finally:
        _in_session(settings, lambda s: revoke(s, token_id))


@cli.command()
def api(
    port: Annotated[int | None, typer.Option(help="API port.")] = None,
    host: Annotated[str | None, typer.Option(help="API host.")] = None,
    data_dir: DataDir = None,
    with_relay: Annotated[
        bool, typer.Option(help="Run the outbox relay in this process too.")
    ] = False,
    init: Init = False,
) -> None:
    """Serve the HTTP API (run `twinning relay` beside it, or pass --with-relay)."""
    import uvicorn
    from twinning.api.app import create_app

    settings = _settings(api_port=port, api_host=host, data_dir=data_dir)
    _setup(settings, init=init)
    _hold(settings, "api", roles=("api",) if _on_sqlite(settings) else ())
    app = create_app(settings, with_relay=with_relay)
    start_collecting()
    uvicorn.run(app, host=settings.api_host, port=settings.api_port)


@cli.command()
def worker(data_dir: DataDir = None, init: Init = False) -> None:
    """Run a faust worker: consume the event topics and keep the read models."""
    from twinning.streams.worker import run_worker

    if not wait_at_start_gate():  # started by an `up` that could not start the system
        raise typer.Exit(1)
    settings = _settings(data_dir=data_dir)
    # A worker started by `up` finds the database as `up` just migrated it.
    _setup(settings, init=init, migrate=not run_under_owner())
    _hold(settings, "worker")
    run_worker(settings)


@cli.command()
def mailer(data_dir: DataDir = None, init: Init = False) -> None:
    """Send the mail the worker queued (SMTP, or the Maildir in the data directory); one per
    data directory."""
    from twinning.mail.sender import run_mailer

    settings = _settings(data_dir=data_dir)
    _setup(settings, init=init, migrate=not run_under_owner())
    _hold(settings, "mailer", roles=("mailer",))
    start_collecting()
    run_mailer(settings)


@cli.command()
def relay(data_dir: DataDir = None, init: Init = False) -> None:
    """Publish committed outbox rows to Kafka until interrupted."""
    from twinning.db import make_engine
    from twinning.streams.relay import OutboxRelay

    settings = _settings(data_dir=data_dir)
    _setup(settings, init=init)
    _hold(settings, "relay")
    outbox_relay = OutboxRelay(
        make_engine(settings.sync_database_url),
        settings.bootstrap_servers,
        poll_interval=settings.relay_poll_interval,
        redeliver_after=settings.redeliver_after,
    )
    start_collecting()
    outbox_relay.start()
    _wait_for_interrupt()
    outbox_relay.stop()


@cli.command()
def broker(
    data_dir: DataDir = None,
    port: Annotated[int | None, typer.Option(help="Port (default: a free one).")] = None,
    init: Init = False,
) -> None:
    """Run the embedded broker in the foreground; other commands of this data dir find it."""
    from twinning.streams.broker import EmbeddedBroker

    settings = _settings(data_dir=data_dir)
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise _fail(f"{settings.data_dir} is a file, not a data directory: {NO_SYSTEM_HINT}")
    if not init and not settings.data_dir.is_dir():
        raise _fail(f"there is no data directory {settings.data_dir}: {NO_SYSTEM_HINT}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _hold(settings, "broker", roles=("broker",))
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
def rebuild(
    data_dir: DataDir = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print {"events": N, "seconds": S} instead of a sentence (scripts).'
        ),
    ] = False,
) -> None:
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

    started = time.perf_counter()
    count = asyncio.run(run())
    seconds = time.perf_counter() - started
    if as_json:
        typer.echo(json.dumps({"events": count, "seconds": round(seconds, 3)}))
    else:
        typer.echo(f"rebuilt the read models from {count} archived events in {seconds:.2f} s")


@cli.command()
def backup(
    to: Annotated[
        Path | None,
        typer.Option(
            "--to", help="The archive to write (default: a new file in the data dir's backups/)."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Back up the database while the system runs (a consistent snapshot), with the settings
    that are not secrets, into one compressed archive with a manifest. Takes no lock."""
    from twinning.backup import BackupProblem, create_backup

    settings = _settings(data_dir=data_dir)
    _setup(settings, migrate=False)
    try:
        taken = create_backup(settings, to)
    except BackupProblem as exc:
        raise _fail(str(exc)) from None
    size = taken.path.stat().st_size
    typer.echo(
        f"backup written to {taken.path} ({taken.events} archived events,"
        f" {size / 1_000_000:.1f} MB; schema {', '.join(taken.manifest['database']['schema_revisions'])})"
    )


@cli.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="A backup written by `twinning backup`.")],
    data_dir: DataDir = None,
) -> None:
    """Restore a backup into a new, empty data directory and a new database (the one
    TWINNING_DATABASE_URL names, else SQLite in the data directory): the whole archive is
    checked first, an older schema is migrated."""
    from twinning.backup import BackupProblem, restore_backup

    settings = _settings(data_dir=data_dir)
    _logging(settings)
    try:
        restored = restore_backup(
            settings, archive, hold=lambda: _hold(settings, "restore", alone=True)
        )
    except BackupProblem as exc:
        raise _fail(str(exc)) from None
    manifest = restored.manifest
    events = manifest["database"]["tables"].get("event_archive", 0)
    typer.echo(
        f"restored the backup of {manifest['created_at']} (twinning {manifest['twinning_version']},"
        f" {events} archived events) into {settings.data_dir}, database {restored.database}"
        + ("; migrated to the newest schema" if restored.migrated else "")
    )
    if restored.settings_differ:
        typer.echo(
            "its settings differ from this environment's in "
            + ", ".join(restored.settings_differ)
            + f": see {settings.data_dir / 'settings-of-the-backup.json'}"
        )
    typer.echo(f"start it with `twinning up --data-dir {settings.data_dir}`")


@cli.command("export")
def export_(
    kind: Annotated[
        str,
        typer.Argument(
            help="partners, missions, exchanges, visits, city-events, contacts (personal data),"
            " person (one contact's data, as JSON) or interpreter (one interpreter's data)."
        ),
    ],
    contact_id: Annotated[
        str | None,
        typer.Argument(
            help="With `person`: the contact's id; with `interpreter`, the interpreter's.",
            show_default=False,
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    to: Annotated[
        Path | None, typer.Option("--to", help="The file to write (default: standard output).")
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="The language of the headers and country names."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Export a register as CSV (UTF-8 with BOM) or XLSX, names in a column per language; or,
    with `person CONTACT_ID` (or `interpreter INTERPRETER_ID`), every item of personal data held
    about one contact (or interpreter), as JSON."""
    from twinning import export
    from twinning.i18n import DEFAULT_LOCALE

    people = ("person", "interpreter")
    if kind in people:
        if not contact_id:
            what = "the contact: twinning export person CONTACT_ID"
            if kind == "interpreter":
                what = "the interpreter: twinning export interpreter INTERPRETER_ID"
            raise _fail(f"name {what}")
    elif kind not in export.KINDS:
        raise _fail(
            f"cannot export {kind!r}: one of {', '.join(export.KINDS)}, person or interpreter"
        )
    elif contact_id is not None:
        raise _fail(
            f"unexpected argument {contact_id!r}: only `person` and `interpreter` take an id"
        )
    elif format not in export.FORMATS:
        raise _fail(f"unknown format {format!r}: csv or xlsx")
    language = lang or DEFAULT_LOCALE
    if language not in supported_locales():
        raise _fail(f"unknown language {language!r}: one of {', '.join(supported_locales())}")
    if to is None and kind not in people and format == "xlsx" and sys.stdout.isatty():
        raise _fail("an XLSX file is not for a terminal: give --to FILE")
    settings = _settings(data_dir=data_dir)
    _setup(settings)
    if kind == "person":
        assert contact_id is not None
        document = _in_session(settings, lambda s: export.person_data(s, contact_id))
        if document is None:
            raise _fail(f"no personal data is held about contact {contact_id}")
        written, what = export.person_json(document), f"the data of contact {contact_id}"
    elif kind == "interpreter":
        assert contact_id is not None
        held = _in_session(settings, lambda s: export.interpreter_data(s, contact_id))
        if held is None:
            raise _fail(f"no interpreter {contact_id} is on the roster")
        written, what = export.person_json(held), f"the data of interpreter {contact_id}"
    else:
        found = _in_session(settings, lambda s: export.table(s, kind, language=language))
        written, what = export.encode(found, format), f"{len(found.rows)} {kind}"
    if to is None:
        sys.stdout.buffer.write(written)
        sys.stdout.buffer.flush()
        return
    try:
        to.write_bytes(written)
    except OSError as exc:
        raise _fail(f"cannot write {to}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {what} to {to}", err=True)


@cli.command("import")
def import_(
    kind: Annotated[str, typer.Argument(help="partners, missions or contacts.")],
    file: Annotated[Path, typer.Argument(help="A CSV or XLSX file laid out as the export's.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be imported; change nothing.")
    ] = False,
    format: Annotated[
        str | None, typer.Option("--format", help="csv or xlsx (default: the file's extension).")
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="The staff user the events name as their actor."),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="The language of the report's reasons.")
    ] = "en",
    data_dir: DataDir = None,
) -> None:
    """Import partner cities, foreign missions or contacts from a CSV or XLSX file (the
    export's layout): each row is reported as new, a likely duplicate (not imported) or
    invalid (not imported, with the column and the reason); the new ones are registered."""
    from twinning import imports
    from twinning.refusals import InvalidField, Refusal

    if kind not in imports.KINDS:
        raise _fail(f"cannot import {kind!r}: one of {', '.join(imports.KINDS)}")
    if lang not in supported_locales():
        raise _fail(f"unknown language {lang!r}: one of {', '.join(supported_locales())}")
    try:
        fmt = imports.format_of(file.name, format)
        content = file.read_bytes()
    except InvalidField as exc:
        raise _fail(f"{file}: {exc.text(lang)}") from None
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}") from None
    settings = _settings(data_dir=data_dir)
    _setup(settings)

    async def run(session: AsyncSession) -> imports.ImportReport | str:
        try:
            actor = CLI_ACTOR if user is None else await _staff_actor(session, user)
            return await imports.import_file(
                db_session=session,
                kind=kind,
                content=content,
                fmt=fmt,
                dry_run=dry_run,
                actor=actor,
                language=lang,
            )
        except Refusal as exc:
            return exc.text(lang)

    report = _in_session(settings, run)
    if isinstance(report, str):
        raise _fail(f"{file}: {report}")
    for line in imports.report_lines(report, lang):
        typer.echo(line)


async def _staff_actor(session: AsyncSession, name: str) -> str:
    """How events record the staff user `name` (refused: unknown, inactive, not staff)."""
    from twinning.auth import service as auth
    from twinning.refusals import InvalidField

    found = await auth.get_user_by_name(db_session=session, name=name)
    if found is None or not found.active or not Role(found.role).includes(Role.staff):
        raise InvalidField("user", "no active staff user is named %(name)s", name=name)
    return auth.principal_of(found).actor


@cli.command()
def schemas() -> None:
    """Regenerate the published JSON Schema of every event into streams/schemas/."""
    from twinning.streams.events import write_json_schemas

    for path in write_json_schemas():
        typer.echo(str(path))


@cli.command()
def migrate(data_dir: DataDir = None, init: Init = False) -> None:
    """Bring the database to the newest schema (every command also does this on start); with
    --init, create it first if it is not there."""
    settings = _settings(data_dir=data_dir)
    _setup(settings, init=init)
    typer.echo(
        json.dumps(
            {
                "database": settings.sync_database_url.render_as_string(hide_password=True),
                "migrated": True,
            }
        )
    )


@users_cli.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="Lower-case login name, e.g. `chen.wei`.")],
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.viewer,
    data_dir: DataDir = None,
    init: Init = False,
) -> None:
    """Create a user (then `twinning users token NAME` gives them a token)."""
    from pydantic import ValidationError
    from twinning.auth import service as auth
    from twinning.auth.schemas import UserCreate

    try:
        data = UserCreate(name=name, role=role)
    except ValidationError as exc:
        raise _fail(f"invalid user: {exc.errors()[0]['msg']}") from None
    settings = _settings(data_dir=data_dir)
    _setup(settings, init=init)
    user = _in_session(
        settings, lambda s: auth.create_user(db_session=s, data=data, created_by=CLI_ACTOR)
    )
    typer.echo(f"created user {user.name} ({user.role}), id {user.id}")


@users_cli.command("list")
def users_list(data_dir: DataDir = None) -> None:
    """List the users, each with their tokens (prefix and id, never the token)."""
    from twinning.auth import service as auth

    async def users_and_tokens(session: AsyncSession) -> list[tuple[User, Sequence[ApiToken]]]:
        return [
            (user, await auth.list_tokens(db_session=session, user_id=user.id))
            for user in await auth.list_users(db_session=session)
        ]

    settings = _settings(data_dir=data_dir)
    _setup(settings)
    for user, tokens in _in_session(settings, users_and_tokens):
        state = "active" if user.active else "deactivated"
        typer.echo(f"{user.name:24} {user.role:7} {state:12} id {user.id}")
        for token in tokens:
            status = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "valid"
            typer.echo(
                f"    token {token.prefix}...  {status:18} id {token.id}  {token.label or ''}"
            )


@users_cli.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Issue a new API token for a user and print it (only the token, on stdout, this once)."""
    from twinning.auth import service as auth

    async def issue(session: AsyncSession) -> tuple[str, str]:
        user = await auth.get_user_by_name(db_session=session, name=name)
        if user is None:
            raise _fail(f"no user named {name!r}")
        row, token = await auth.issue_token(
            db_session=session, user=user, created_by=CLI_ACTOR, label=label
        )
        return row.prefix, token

    settings = _settings(data_dir=data_dir)
    _setup(settings)
    prefix, token = _in_session(settings, issue)
    typer.echo(f"token {prefix}... for {name}; it is not shown again, store it now", err=True)
    typer.echo(token)


@users_cli.command("revoke")
def users_revoke(
    token: Annotated[str, typer.Argument(help="The token's id or prefix (see `users list`).")],
    data_dir: DataDir = None,
) -> None:
    """Revoke an API token: from now on it authenticates nobody."""
    from twinning.auth import service as auth

    async def revoke(session: AsyncSession) -> str:
        found = await auth.find_tokens(db_session=session, id_or_prefix=token)
        if len(found) != 1:
            raise _fail(
                f"no token with id or prefix {token!r}"
                if not found
                else f"{len(found)} tokens start with {token!r}: name one by its id"
            )
        await auth.revoke_token(db_session=session, token=found[0])
        return found[0].prefix

    settings = _settings(data_dir=data_dir)
    _setup(settings)
    prefix = _in_session(settings, revoke)
    typer.echo(f"revoked token {prefix}...")


@users_cli.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input (scripts).")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Set the password a user signs in to the web app with (asked twice, not echoed)."""
    from twinning.auth import service as auth

    password = (
        sys.stdin.readline().rstrip("\n")
        if stdin
        else typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    )

    async def set_it(session: AsyncSession) -> None:
        user = await auth.get_user_by_name(db_session=session, name=name)
        if user is None:
            raise _fail(f"no user named {name!r}")
        await auth.set_password(db_session=session, user=user, password=password)

    settings = _settings(data_dir=data_dir)
    _setup(settings)
    _in_session(settings, set_it)
    typer.echo(f"password set for {name}; it signs in at {settings.base_url()}/ui/")


@plan_cli.command("import")
def plan_import(
    file: Annotated[Path, typer.Argument(help="The plan as YAML (.yaml, .yml) or JSON.")],
    data_dir: DataDir = None,
) -> None:
    """Adopt the plan in FILE (a plan for a year that has one revises it); the worker applies
    it like any command (`twinning up`, or `worker` and `relay`)."""
    import yaml  # type: ignore[import-untyped]
    from pydantic import ValidationError
    from twinning.plans import service as plans
    from twinning.streams.events import PlanAdopted

    try:
        text = file.read_text(encoding="utf-8")
        document = yaml.safe_load(text) if file.suffix in (".yaml", ".yml") else json.loads(text)
        plan = PlanAdopted.model_validate(document)
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}") from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise _fail(f"{file} is not valid {file.suffix.lstrip('.') or 'JSON'}: {exc}") from None
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise _fail(f"{file} is not a plan: {reasons}") from None
    settings = _settings(data_dir=data_dir)
    _setup(settings)

    async def adopt(session: AsyncSession) -> str:
        event = await plans.adopt_plan(db_session=session, data=plan, actor=CLI_ACTOR)
        return event.event_id

    event_id = _in_session(settings, adopt)
    typer.echo(f"plan {plan.year} recorded (event {event_id})")


@plan_cli.command("export")
def plan_export(
    year: Annotated[int, typer.Argument(help="The plan's year.")],
    format: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
    data_dir: DataDir = None,
) -> None:
    """Print the plan of YEAR as `plan import` takes it (goals, work items, budgets, KPIs)."""
    import yaml  # type: ignore[import-untyped]
    from twinning.plans import service as plans

    if format not in ("yaml", "json"):
        raise _fail(f"--format is yaml or json, not {format}")
    settings = _settings(data_dir=data_dir)
    _setup(settings)

    async def document(session: AsyncSession) -> dict[str, Any]:
        return await plans.plan_document(db_session=session, plan_id=plans.plan_id_of(year))

    found = _in_session(settings, document)
    if format == "json":
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        typer.echo(yaml.safe_dump(found, allow_unicode=True, sort_keys=False), nl=False)


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


def main() -> None:
    cli()
