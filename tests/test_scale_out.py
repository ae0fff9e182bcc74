"""Two workers in one consumer group share the partitions; when one dies, the other takes
over, and the read model ends as one worker would have left it."""

from __future__ import annotations

from conftest import Stack, sample_partner, wait_for
from sqlalchemy import select
from twinning.streams.store import ArchivedEvent


def _workers_that_applied(stack: Stack, event_ids: list[str]) -> set[str]:
    with stack.engine.connect() as connection:
        query = (
            select(ArchivedEvent.applied_by).where(ArchivedEvent.event_id.in_(event_ids)).distinct()
        )
        return set(connection.scalars(query))


def test_two_workers_share_the_partitions_and_one_takes_over_when_the_other_dies(
    stack: Stack,
) -> None:
    stack.start_worker()  # a second worker in the same consumer group
    partners: list[str] = []
    shared: set[str] = set()

    def both_workers_apply() -> bool:
        batch = [stack.post_partner(**sample_partner(len(partners) + n)) for n in range(6)]
        partners.extend(accepted["id"] for accepted in batch)
        stack.wait_applied([accepted["event_id"] for accepted in batch])
        shared.update(_workers_that_applied(stack, [accepted["event_id"] for accepted in batch]))
        return len(shared) == 2

    wait_for(both_workers_apply, timeout=90, what="both workers to receive partitions")

    stack.kill_worker()  # the second one dies: SIGKILL, no goodbye to the group
    updates = []
    for round_ in range(3):
        for partner_id in partners:
            response = stack.client.patch(
                f"/partners/{partner_id}", json={"region": f"round {round_}"}
            )
            assert response.status_code == 202
            updates.append(response.json()["event_id"])
    stack.wait_applied(updates, timeout=120)

    assert len(_workers_that_applied(stack, updates[-len(partners) :])) == 1
    for partner_id in partners:
        partner = stack.client.get(f"/partners/{partner_id}").json()
        assert (partner["version"], partner["region"]) == (4, "round 2"), partner
