"""Database plumbing shared by every read model: declarative base, column types, engines."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated, Any, TypeVar, cast

import aiosqlite
from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import JSON, DateTime, MetaData, Select, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, CursorResult, Dialect, Engine, ExceptionContext, Result
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back time-zone aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored timestamp must carry its time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return in_utc(value)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, the stored text read straight as an aware datetime (`utc_from_text`):
        SQLAlchemy's parse of it and `process_result_value` after it cost about 1 µs a value
        (`datetime.replace` alone 0.8), against 0.16, and a changed calendar feed reads five
        timestamps for each of its entries."""
        if dialect.name == "sqlite":
            return utc_from_text
        if self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype) is None:
            # asyncpg gives an aware datetime in UTC already: passed on as it is (one call
            # instead of SQLAlchemy's three, and no new datetime).
            return aware_in_utc
        return super().result_processor(dialect, coltype)


def in_utc(value: datetime | None) -> datetime | None:
    """`value` time-zone aware in UTC (a naive one taken as UTC, as it was stored)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware_in_utc(value: datetime | None) -> datetime | None:
    """`in_utc`, with the value as it is when it is in UTC already."""
    if value is None or value.tzinfo is UTC:
        return value
    return in_utc(value)


def utc_from_text(value: str | datetime | None) -> datetime | None:
    """A timestamp as SQLite gives it (text in UTC, without an offset, as SQLAlchemy writes
    it), time-zone aware in UTC."""
    if isinstance(value, str):
        text = value
        try:
            # Parsed with its zone at once: `replace(tzinfo=...)` would cost five times the parse.
            value = datetime.fromisoformat(text + "+00:00")
        except ValueError:  # written with an offset (not by SQLAlchemy)
            value = datetime.fromisoformat(text)
        if value.tzinfo is UTC:
            return value
    return in_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


Query = TypeVar("Query", bound=Select[Any])


class Page(BaseModel):
    """Which slice of a list to return: every list, in the API and in the web app, pages alike.
    A list's filters are a subclass of it (`PartnerFilter(Page)`), so one query model holds both."""

    limit: Annotated[int, Field(ge=1, le=500, description="At most this many items.")] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000, description="Skip this many items.")] = 0

    def of(self, query: Query) -> Query:
        return query.limit(self.limit).offset(self.offset)


def _written_as_a_day(value: object) -> object:
    """A day in a query is ISO 8601 text: pydantic would read a number as a Unix time, which the
    OpenAPI document (`format: date`) does not allow."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", value)
    ):
        raise ValueError("must be a day written YYYY-MM-DD, not a number")
    return value


#: A day given in a list's query (`?from=2026-05-01`).
QueryDay = Annotated[date, BeforeValidator(_written_as_a_day)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _tune_sqlite(engine: Engine) -> None:
    """API, relay and worker share one SQLite file from several processes: WAL lets readers
    run beside the writer, and the busy timeout makes writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "handle_error")
    def _read_the_file_afresh(context: ExceptionContext) -> None:
        """A SQLite connection keeps the pages it read: after its file was damaged and then
        restored in place, a long-lived process (the API, the relay, the worker, the mailer)
        went on reading the damaged pages, and one that opened the file while the copy had
        emptied it went on seeing no tables. Such an error counts as a lost connection: the
        pool's connections are dropped, and the next use opens the file afresh."""
        error = context.original_exception
        if type(error) is sqlite3.DatabaseError or (
            isinstance(error, sqlite3.OperationalError) and str(error).startswith("no such table")
        ):
            context.is_disconnect = True


# Statement parameters are stored data, personal data among it: keep them out of SQLAlchemy's
# log lines and out of the messages of its exceptions (which end up in tracebacks and logs).
# A server connection can go stale (a restart, an idle timeout) and is pinged before use; a
# SQLite file's cannot, and a ping would cost every transaction a round trip for nothing.
def make_engine(url: URL) -> Engine:
    engine = create_engine(url, pool_pre_ping=_needs_ping(url), hide_parameters=True)
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    return engine


def make_async_engine(url: URL) -> AsyncEngine:
    """An async engine on `url`; on SQLite, its connections are `SqliteOnLoopThread`."""
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=_needs_ping(url), hide_parameters=True)

    async def connect() -> aiosqlite.Connection:
        return await SqliteOnLoopThread(connector)

    engine = create_async_engine(
        url, pool_pre_ping=_needs_ping(url), hide_parameters=True, async_creator=connect
    )
    # The dialect's own arguments for the file, read once (`async_creator` applies none).
    args, kwargs = engine.dialect.create_connect_args(url)
    connector = partial(sqlite3.connect, *args, **kwargs)
    _tune_sqlite(engine.sync_engine)
    return engine


class _RunAtOnce:
    """Stands for aiosqlite's queue to its thread: runs each call as it is put."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


#: The calls that run a statement (their first argument).
_STATEMENTS = frozenset({"execute", "executemany", "executescript"})

#: Statements that take no write lock: reads, a connection's options, savepoints, and a
#: deferred BEGIN (the write after it takes the lock; `BEGIN IMMEDIATE` takes it at once).
_TAKES_NO_LOCK = re.compile(
    r"\s*(SELECT|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|BEGIN(?!\s+(IMMEDIATE|EXCLUSIVE)))\b",
    re.IGNORECASE,
)


class SqliteOnLoopThread(aiosqlite.Connection):
    """An aiosqlite connection that runs its calls at once on the caller's thread, the event
    loop's, except the one that can wait: a transaction's first write, which waits for
    SQLite's write lock (up to the busy timeout) while another connection or process holds
    it. That one goes to a thread of the loop's executor, and the loop runs on meanwhile: the
    API answers other requests while a command waits for the worker's batch to commit, and
    a transaction of the same loop that holds the lock, suspended before its commit
    (SQLAlchemy's `sessionmaker.begin()` commits in a task of its own), gets to commit. The
    rest waits for nobody: reads never wait in WAL mode, and a transaction that holds the
    lock writes and commits without waiting. (The commit stays on the loop's thread for
    that reason too: sent to the executor, a holder's commit queued behind the first writes
    of six other commands, all waiting for its lock, for the whole busy timeout.)

    aiosqlite hands every call to its thread (a queue, a thread woken, the loop woken back
    through its self-pipe; three or four times a statement: the cursor, the statement, its
    rows, the cursor's close). That was about three quarters of a simple statement's CPU:
    450 to 770 µs against 180 to 230 at once (issue 17). The connection is the same sqlite3
    connection, through the same SQLAlchemy dialect, otherwise."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]
        #: Whether this connection's transaction holds the write lock already.
        self._writing = False

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # without starting aiosqlite's thread

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        name = getattr(fn, "__name__", None)
        first_write = (
            not self._writing and name in _STATEMENTS and not _TAKES_NO_LOCK.match(args[0])
        )
        try:
            if not first_write:
                return fn(*args, **kwargs)
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, partial(fn, *args, **kwargs))
            self._writing = True
            return result
        finally:
            if self._writing and not self._in_transaction():
                self._writing = False

    def _in_transaction(self) -> bool:
        try:
            return self._connection is not None and self._connection.in_transaction
        except sqlite3.ProgrammingError:  # closed
            return False


def _needs_ping(url: URL) -> bool:
    return url.get_backend_name() != "sqlite"


def database_error_reason(error: BaseException) -> str:
    """What a database error says, fit for an answer or a log line: the driver's message, its
    first line only (never the statement or its parameters, which SQLAlchemy's own message
    carries, nor PostgreSQL's DETAIL line, which may quote a row); for a PostgreSQL data
    exception (SQLSTATE class 22), whose message may quote a value sent, only its kind."""
    original = getattr(error, "orig", None) or error
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    lines = str(original).strip().splitlines()
    message = re.sub(r"^<class '[\w.]+'>: ", "", lines[0])[:300] if lines else ""
    if code is None:
        return message or type(original).__name__
    if str(code).startswith("22") or not message:
        return f"{type(original).__name__} (SQLSTATE {code})"
    return f"{message} (SQLSTATE {code})"


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work for background code: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session


@asynccontextmanager
async def async_session_scope(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with factory() as session, session.begin():
        yield session


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (its result is a cursor result)."""
    return cast(CursorResult[Any], result).rowcount


def insert_or_update(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An `INSERT ... ON CONFLICT` for the session's database (SQLite and PostgreSQL spell it
    alike); the caller adds `.on_conflict_do_update(...)`, whose `excluded` names the new row,
    and executes it with a list of rows (one cached statement, whatever their number). It
    inserts into the table, not through the class: no unit-of-work bookkeeping per row."""
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def insert_once(session: AsyncSession, model: type[Base], row: dict[str, Any]) -> bool:
    """Insert `row` unless a row with one of its unique values is there already (of two
    inserted at the same moment, the second finds the first's instead of failing); whether it
    was inserted."""
    statement = insert_or_update(session.sync_session, model).values(row)
    result = await session.execute(statement.on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))
