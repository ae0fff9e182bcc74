"""The tests' engines share their compiled SQL, as one long-lived engine of a process does.

SQLAlchemy compiles a statement once per engine and keeps it in that engine's cache (and the
ORM's flushes in a cache per mapper), under a key that holds the engine's dialect object. A
system in production makes its engines once and compiles each statement once. The tests make
new ones for every test (an `inline_api` test: the app's engine, the projection's and a plain
one), so every test compiled every statement it ran again: about a fifth of the CPU of the
`inline_api` and projection tests (issue 17, target 7).

`share_compiled_statements()` gives every engine of the process one cache, and every mapper
one of its own, in which a dialect is known by what its compilation depends on (its class, the
server's version, the options that change the SQL written) instead of by its identity: two
engines of one kind of database compile alike, so they share. The SQL run, the database it runs
on and what a test asserts are unchanged; the product's code is not touched.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.engine.base import Engine
from sqlalchemy.orm import Mapper
from sqlalchemy.util import LRUCache

#: What a statement's compiled form depends on, besides the statement and the dialect's class.
COMPILING_OPTIONS = (
    "server_version_info",
    "paramstyle",
    "positional",
    "label_length",
    "max_identifier_length",
    "implicit_returning",
    "use_insertmanyvalues",
    "insertmanyvalues_page_size",
    "supports_native_boolean",
    "_json_serializer",
    "_json_deserializer",
)


def _compiles_like(dialect: Dialect) -> Hashable:
    return (type(dialect), *(repr(getattr(dialect, name, None)) for name in COMPILING_OPTIONS))


class SharedCompiledCache:
    """SQLAlchemy's compiled cache (`get`, item assignment, `clear`), keyed by `_compiles_like`
    the dialect instead of by its identity."""

    def __init__(self, size: int) -> None:
        self._cache: LRUCache[Any, Any] = LRUCache(size)

    @staticmethod
    def _key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return (_compiles_like(key[0]), *key[1:])

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        return self._cache.get(self._key(key), default)

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        self._cache[self._key(key)] = value

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        self._cache.clear()


ENGINES = SharedCompiledCache(5000)
_MAPPERS: dict[Mapper[Any], SharedCompiledCache] = {}


def _engine_cache(engine: Engine) -> SharedCompiledCache | None:
    # An engine made with `query_cache_size=0` caches nothing: it still does not.
    return ENGINES if engine.__dict__.get("_caches", True) is not None else None


def _set_engine_cache(engine: Engine, cache: Any) -> None:
    engine.__dict__["_caches"] = cache


def _mapper_cache(mapper: Mapper[Any]) -> SharedCompiledCache:
    return _MAPPERS.setdefault(mapper, SharedCompiledCache(500))


def share_compiled_statements() -> None:
    """Install the shared caches (once per test process, before any engine is made)."""
    Engine._compiled_cache = property(_engine_cache, _set_engine_cache)  # type: ignore[assignment]
    Mapper._compiled_cache = property(_mapper_cache)  # type: ignore[assignment,method-assign]
