"""The lifecycle of a visit: which step leads from which states to which, shared by the API
(which refuses an illegal step with 409) and the projector (which refuses an illegal event
from another producer, so that it is dead-lettered with the reason).

    requested -> approved | declined
    approved  -> scheduled
    scheduled -> completed
    requested | approved | scheduled -> cancelled

A declined, completed or cancelled visit is final. Its itinerary can change only while
the visit is still open (requested, approved or scheduled).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twinning.refusals import Conflict
from twinning.streams.events import (
    VisitApproved,
    VisitCancelled,
    VisitCompleted,
    VisitDeclined,
    VisitScheduled,
    VisitStep,
)


class VisitStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN = frozenset({VisitStatus.REQUESTED, VisitStatus.APPROVED, VisitStatus.SCHEDULED})
#: Visits whose itinerary items book officials and venues (a completed visit did book them).
BOOKING = frozenset(VisitStatus) - {VisitStatus.DECLINED, VisitStatus.CANCELLED}


@dataclass(frozen=True)
class Step:
    command: str
    event: type[VisitStep]
    source: frozenset[VisitStatus]
    target: VisitStatus


STEPS = (
    Step("approve", VisitApproved, frozenset({VisitStatus.REQUESTED}), VisitStatus.APPROVED),
    Step("decline", VisitDeclined, frozenset({VisitStatus.REQUESTED}), VisitStatus.DECLINED),
    Step("schedule", VisitScheduled, frozenset({VisitStatus.APPROVED}), VisitStatus.SCHEDULED),
    Step("complete", VisitCompleted, frozenset({VisitStatus.SCHEDULED}), VisitStatus.COMPLETED),
    Step("cancel", VisitCancelled, OPEN, VisitStatus.CANCELLED),
)
STEP_BY_COMMAND = {step.command: step for step in STEPS}


def check_step(visit_id: str, status: str, step: Step) -> None:
    """Refuse (409, naming the current status) a step the visit's status does not allow."""
    if status not in step.source:
        raise Conflict(
            "visit %(id)s is %(state)s: it cannot be %(target)s",
            current_state=status,
            id=visit_id,
            state=status,
            target=step.target.value,
        )


def check_itinerary_open(visit_id: str, status: str) -> None:
    if status not in OPEN:
        raise Conflict(
            "visit %(id)s is %(state)s: it cannot change its itinerary",
            current_state=status,
            id=visit_id,
            state=status,
        )


def check_delegation_open(visit_id: str, status: str) -> None:
    if status not in OPEN:
        raise Conflict(
            "visit %(id)s is %(state)s: its delegation cannot change",
            current_state=status,
            id=visit_id,
            state=status,
        )
