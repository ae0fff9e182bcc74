"""The partner figures that depend on today's date, computed when read from the facts the
CRM projector stores (last exchange, agreement date), so that they are never stale.

- An agreement's anniversaries are counted every 5 years (none once the partnership has
  ended); one that falls on 29 February is kept on 28 February in common years.
- An active partner is `dormant` from the day `dormant_after_months` months have passed
  since the last thing that happened with it: its last exchange, its agreement, or its entry
  in the CRM, whichever is latest. Months are calendar months; from a 31st, the month's
  last day stands in when the month is shorter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import (
    ExchangeMission,
    ForeignMission,
    PartnerActivity,
    PartnerCity,
    PartnerExchangeCount,
)
from twinning.crm.schemas import (
    Anniversary,
    ExchangeCount,
    MissionStats,
    PartnerStats,
    PartnerStatsOverview,
    UpcomingAnniversary,
)
from twinning.streams.events import ExchangeField, PartnerStatus

ANNIVERSARY_EVERY_YEARS = 5


def _days_in_month(year: int, month: int) -> int:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - timedelta(days=1)).day


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _days_in_month(year, month)))


def anniversary(agreement_date: date, years: int) -> Anniversary:
    return Anniversary(years=years, date=add_months(agreement_date, 12 * years))


def next_anniversary(agreement_date: date, today: date) -> Anniversary:
    """The first 5-year anniversary on or after `today`."""
    every = ANNIVERSARY_EVERY_YEARS
    elapsed = max(today.year - agreement_date.year, every)
    candidate = anniversary(agreement_date, -(-elapsed // every) * every)
    return (
        candidate
        if candidate.date >= today
        else anniversary(agreement_date, candidate.years + every)
    )


def dormant_since(partner: PartnerCity, last_exchange_date: date | None, months: int) -> date:
    """The day an active partner becomes dormant if nothing else happens with it."""
    known = [partner.registered_at.date(), partner.agreement_date, last_exchange_date]
    return add_months(max(d for d in known if d is not None), months)


def partner_stats(
    partner: PartnerCity,
    activity: PartnerActivity | None,
    counts: Sequence[PartnerExchangeCount],
    *,
    today: date,
    dormant_after_months: int,
) -> PartnerStats:
    last = activity.last_exchange_date if activity is not None else None
    since = dormant_since(partner, last, dormant_after_months)
    dormant = partner.status == PartnerStatus.ACTIVE and today >= since
    return PartnerStats(
        partner_id=partner.id,
        names=partner.names,
        status=PartnerStatus(partner.status),
        agreement_date=partner.agreement_date,
        as_of=today,
        exchanges=activity.exchanges if activity is not None else 0,
        last_exchange_date=last,
        exchanges_by_field_and_year=[
            ExchangeCount(year=c.year, field=c.field, count=c.count)
            for c in sorted(counts, key=lambda c: (c.year, c.field))
        ],
        next_anniversary=(
            next_anniversary(partner.agreement_date, today)
            if partner.agreement_date is not None and partner.status != PartnerStatus.ENDED
            else None
        ),
        dormant=dormant,
        dormant_since=since if dormant else None,
    )


async def stats_of(
    *,
    db_session: AsyncSession,
    partners: Sequence[PartnerCity],
    today: date,
    dormant_after_months: int,
) -> list[PartnerStats]:
    ids = [p.id for p in partners]
    activity = {
        a.partner_id: a
        for a in await db_session.scalars(
            select(PartnerActivity).where(PartnerActivity.partner_id.in_(ids))
        )
    }
    counts: dict[str, list[PartnerExchangeCount]] = {i: [] for i in ids}
    for count in await db_session.scalars(
        select(PartnerExchangeCount).where(PartnerExchangeCount.partner_id.in_(ids))
    ):
        counts[count.partner_id].append(count)
    return [
        partner_stats(
            p,
            activity.get(p.id),
            counts[p.id],
            today=today,
            dormant_after_months=dormant_after_months,
        )
        for p in partners
    ]


async def overview(
    *,
    db_session: AsyncSession,
    today: date,
    dormant_after_months: int,
    within_days: int,
) -> PartnerStatsOverview:
    partners = (await db_session.scalars(select(PartnerCity).order_by(PartnerCity.id))).all()
    stats = await stats_of(
        db_session=db_session,
        partners=partners,
        today=today,
        dormant_after_months=dormant_after_months,
    )
    horizon = today + timedelta(days=within_days)
    upcoming = [
        UpcomingAnniversary(
            partner_id=s.partner_id, names=s.names, **s.next_anniversary.model_dump()
        )
        for s in stats
        if s.next_anniversary is not None and s.next_anniversary.date <= horizon
    ]
    return PartnerStatsOverview(
        as_of=today,
        dormant_after_months=dormant_after_months,
        partners=stats,
        dormant_partner_ids=[s.partner_id for s in stats if s.dormant],
        upcoming_anniversaries=sorted(upcoming, key=lambda a: (a.date, a.partner_id)),
    )


async def mission_stats(session: AsyncSession, mission: ForeignMission) -> MissionStats:
    """A foreign mission's figures, counted from the exchanges it took part in (apart from the
    partner cities': a mission is a counterpart of its own)."""
    rows = (
        await session.execute(
            select(ExchangeMission.date, ExchangeMission.field).where(
                ExchangeMission.mission_id == mission.id
            )
        )
    ).all()
    counts = Counter((day.year, field) for day, field in rows)
    return MissionStats(
        mission_id=mission.id,
        names=mission.names,
        exchanges=len(rows),
        last_exchange_date=max((day for day, _ in rows), default=None),
        exchanges_by_field_and_year=[
            ExchangeCount(year=year, field=ExchangeField(field), count=count)
            for (year, field), count in sorted(counts.items())
        ],
    )
