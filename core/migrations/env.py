"""Alembic environment: the URL comes from the caller (`twinning.db.migrate`) or Settings."""

from __future__ import annotations

from alembic import context

# The modules imported `as _name` are every module that declares tables, so that
# `Base.metadata` is complete (the database code, `twinning.db`, imports none of them).
from twinning.auth import models as _auth  # noqa: F401
from twinning.calendar import models as _calendar  # noqa: F401
from twinning.crm import models as _crm  # noqa: F401
from twinning.db import Base, make_engine
from twinning.gifts import models as _gifts  # noqa: F401
from twinning.invitations import models as _invitations  # noqa: F401
from twinning.mail import models as _mail  # noqa: F401
from twinning.plans import models as _plans  # noqa: F401
from twinning.press import models as _press  # noqa: F401
from twinning.publicity import models as _publicity  # noqa: F401
from twinning.streams import store as _store  # noqa: F401
from twinning.trips import models as _trips  # noqa: F401
from twinning.visits import models as _visits  # noqa: F401

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from twinning.config import Settings

    return Settings().sync_database_url.render_as_string(hide_password=False)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    from sqlalchemy.engine import make_url

    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(make_url(_url()))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
