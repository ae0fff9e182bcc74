"""Right to erasure in the backbone's stored copies of events.

The archive (what `twinning rebuild` replays), the outbox and the parked events keep whole
events, personal data among them. A projector that erases an aggregate (the CRM, a contact)
calls `redact()` from its handler with the aggregates, the payload classes whose copies carry
personal data, and what such a payload keeps (declared beside it with `@redaction_of`, so that
every worker knows a redelivered original of a redacted copy for the same event); the
envelope's layout, the tables and when to look again are the backbone's business.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from twinning.streams.events import EVENT_TYPES, Envelope, Payload, event_type_name
from twinning.streams.store import ArchivedEvent, OutboxEvent, ParkedEvent

#: Maps a stored event's payload (its JSON document) to the payload its copy keeps.
Redaction = Callable[[dict[str, Any]], dict[str, Any]]

#: What `redact()` must do again when the transaction commits: (event types, redaction) ->
#: aggregate ids.
REDACT_AT_COMMIT = "twinning.streams.redact_at_commit"

#: Aggregate ids per statement: within every database's limit on a statement's parameters.
IDS_PER_QUERY = 1000

#: Event type name -> the redactions declared for its stored copies (`redaction_of`).
DECLARED: dict[str, list[Redaction]] = {}


def redaction_of(*payloads: type[Payload]) -> Callable[[Redaction], Redaction]:
    """Declare the decorated function as a redaction of the stored copies of these events
    (registered payload classes), where its module is loaded: `redact()` takes only declared
    redactions, and `is_redacted_copy` knows a redelivered original by them."""
    names = [event_type_name(payload) for payload in payloads]

    def declare(redacted: Redaction) -> Redaction:
        for name in names:
            DECLARED.setdefault(name, []).append(redacted)
        return redacted

    return declare


def is_redacted_copy(copy: Envelope, original: Envelope) -> bool:
    """Whether `copy` (a stored event) is `original` with its payload redacted by a declared
    redaction: the same event, whose personal data was erased since it was stored."""
    if copy.model_dump(exclude={"payload"}) != original.model_dump(exclude={"payload"}):
        return False
    for redacted in DECLARED.get(original.type, ()):
        try:
            if redacted(dict(original.payload)) == copy.payload:
                return True
        except Exception:  # a payload this redaction does not expect: not its copy
            continue
    return False


async def redact(
    session: AsyncSession,
    aggregate_ids: Iterable[str],
    payloads: Iterable[type[Payload]],
    redacted: Redaction,
) -> None:
    """Take personal data out of the stored copies of the events of `payloads` (registered
    payload classes) about `aggregate_ids`, in the caller's transaction:

    - the archive and the outbox keep each such event with its envelope (event id, type,
      aggregate, actor, time) and the payload `redacted(payload)` gives, which must be valid
      for the event's type: the copy still decodes, so `twinning rebuild` replays it (and the
      erasure after it), and a redelivered original is known by its id for a duplicate;
    - the parked events waiting for these aggregates, and those of `payloads` about them, are
      dropped: never applied, they would bring back what is erased if they were;
    - the archive and the outbox are looked at again just before the transaction commits: a
      batch's events are archived after all of its handlers ran, so an event erased in the
      batch that carried it is in the archive only then.
    """
    ids = frozenset(aggregate_ids)
    types = frozenset(event_type_name(payload) for payload in payloads)
    undeclared = sorted(name for name in types if redacted not in DECLARED.get(name, ()))
    if undeclared:
        raise ValueError(
            f"declare the redaction {getattr(redacted, '__name__', redacted)!r} of"
            f" {', '.join(undeclared)} with @redaction_of (a redelivered original of its copies"
            " would be taken for a conflicting event)"
        )
    if not ids or not types:
        return
    await session.run_sync(_drop_parked, ids, types)
    await session.run_sync(_rewrite_copies, ids, types, redacted)
    again: dict[tuple[frozenset[str], Redaction], set[str]] = session.info.setdefault(
        REDACT_AT_COMMIT, {}
    )
    if not again:
        sqlalchemy_event.listen(session.sync_session, "before_commit", _redact_again, once=True)
    again.setdefault((types, redacted), set()).update(ids)


def _redact_again(session: Session) -> None:
    for (types, redacted), ids in session.info.pop(REDACT_AT_COMMIT, {}).items():
        _rewrite_copies(session, frozenset(ids), types, redacted)


def _chunks(ids: frozenset[str]) -> Iterable[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), IDS_PER_QUERY):
        yield ordered[start : start + IDS_PER_QUERY]


def _rewrite_copies(
    session: Session, ids: frozenset[str], types: frozenset[str], redacted: Redaction
) -> None:
    for table in (ArchivedEvent, OutboxEvent):
        for chunk in _chunks(ids):
            rows = session.execute(
                select(table.event_id, table.body).where(
                    table.aggregate_id.in_(chunk), table.type.in_(types)
                )
            ).all()
            for event_id, body in rows:
                session.execute(
                    update(table)
                    .where(table.event_id == event_id)
                    .values(body=_redacted_body(body, redacted))
                )


def _redacted_body(body: str, redacted: Redaction) -> str:
    envelope = Envelope.model_validate_json(body)
    payload = redacted(dict(envelope.payload))
    event_type = EVENT_TYPES.get((envelope.type, envelope.schema_version))
    if event_type is not None:
        try:
            event_type.payload.model_validate(payload)
        except ValidationError as exc:  # its message would show the values: name the fields
            fields = ", ".join(
                sorted({".".join(map(str, e["loc"])) or "(root)" for e in exc.errors()})
            )
            raise ValueError(
                f"the redacted copy of {envelope.type} {envelope.event_id} would not decode"
                f" (invalid: {fields})"
            ) from None
    return envelope.model_copy(update={"payload": payload}).model_dump_json()


def _drop_parked(session: Session, ids: frozenset[str], types: frozenset[str]) -> None:
    for chunk in _chunks(ids):
        session.execute(delete(ParkedEvent).where(ParkedEvent.waits_for.in_(chunk)))
        # An event about one of them may wait for another aggregate: its body names the
        # aggregate (as JSON text), which narrows the look; its envelope decides.
        mentions = [
            ParkedEvent.body.contains(json.dumps(i, ensure_ascii=False)[1:-1], autoescape=True)
            for i in chunk
        ]
        rows = session.execute(select(ParkedEvent.seq, ParkedEvent.body).where(or_(*mentions)))
        doomed = [seq for seq, body in rows.all() if _is_copy_of(body, ids, types)]
        if doomed:
            session.execute(delete(ParkedEvent).where(ParkedEvent.seq.in_(doomed)))


def _is_copy_of(body: str, ids: frozenset[str], types: frozenset[str]) -> bool:
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError:
        return False
    return envelope.aggregate_id in ids and envelope.type in types
