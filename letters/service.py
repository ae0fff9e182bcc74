"""Letter templates (the current one of a kind and language, its versions, a new version
after a preview) and a visit's letter filled from the CRM and the visit.

    text = await letters.current(db_session=..., kind=LetterKind.INVITATION, locale="zh-TW")
    letter = await letters.visit_letter(db_session=..., settings=..., visit_id=..., kind=...,
                                        locale="en", signatory_id=None, today=...)

A template is office configuration, like its users: saved straight into its own table (each
save a new row with who saved it and when), not an event of the stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from babel.support import LazyProxy
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.config import Settings
from twinning.crm.models import ForeignMission, PartnerCity
from twinning.i18n import L_, force_locale, format_date, format_interval, localized
from twinning.i18n.locales import supported_locales
from twinning.letters.defaults import DEFAULTS
from twinning.letters.models import LetterTemplateVersion
from twinning.letters.render import PLACEHOLDERS, FilledText, Letter, fill
from twinning.letters.schemas import LetterKind, TemplateSave, TemplateVersionRead
from twinning.publicity.content import Shown, office_contact, shown
from twinning.refusals import Conflict, NotFound
from twinning.visits.models import Official, Visit
from twinning.visits.precedence import form_of_address

#: What the preview fills a template with (a real letter takes the visit's facts).
SAMPLE = {
    "partner": L_("Example City"),
    "head_name": L_("Alex Example"),
    "head_title": L_("Mayor"),
    "purpose": L_("a friendship visit"),
    "signatory_name": L_("(the signatory's name)"),
    "signatory_title": L_("(the signatory's title)"),
}
SAMPLE_DAYS = (date(2030, 5, 12), date(2030, 5, 15))


def _known(kind: str, locale: str) -> LetterKind:
    if locale not in supported_locales():
        raise NotFound("letter template", f"{kind} {locale}")
    try:
        return LetterKind(kind)
    except ValueError:
        raise NotFound("letter template", f"{kind} {locale}") from None


def shipped(kind: LetterKind, locale: str) -> TemplateVersionRead:
    """Version 0: the text the system ships with."""
    subject, body = DEFAULTS[(kind.value, locale)]
    return TemplateVersionRead(
        kind=kind, locale=locale, number=0, subject=subject, body=body, saved_by=None, saved_at=None
    )


def _read(row: LetterTemplateVersion) -> TemplateVersionRead:
    return TemplateVersionRead(
        kind=LetterKind(row.kind),
        locale=row.locale,
        number=row.number,
        subject=row.subject,
        body=row.body,
        saved_by=row.saved_by,
        saved_at=row.saved_at,
    )


async def versions(
    *, db_session: AsyncSession, kind: str, locale: str
) -> list[TemplateVersionRead]:
    """Every version of the template, the newest first, the shipped text (0) last."""
    known = _known(kind, locale)
    rows = await db_session.scalars(
        select(LetterTemplateVersion)
        .where(LetterTemplateVersion.kind == known.value, LetterTemplateVersion.locale == locale)
        .order_by(LetterTemplateVersion.number.desc())
    )
    return [*(_read(row) for row in rows), shipped(known, locale)]


async def current(*, db_session: AsyncSession, kind: str, locale: str) -> TemplateVersionRead:
    """The template in use: the last version saved, else the shipped text."""
    known = _known(kind, locale)
    row = await db_session.scalar(
        select(LetterTemplateVersion)
        .where(LetterTemplateVersion.kind == known.value, LetterTemplateVersion.locale == locale)
        .order_by(LetterTemplateVersion.number.desc())
        .limit(1)
    )
    return _read(row) if row is not None else shipped(known, locale)


async def version(
    *, db_session: AsyncSession, kind: str, locale: str, number: int
) -> TemplateVersionRead:
    known = _known(kind, locale)
    if number == 0:
        return shipped(known, locale)
    row = await db_session.get(LetterTemplateVersion, (known.value, locale, number))
    if row is None:
        raise NotFound("letter template", f"{kind} {locale} v{number}")
    return _read(row)


def sample_values(settings: Settings, locale: str) -> dict[str, str]:
    """Placeholder values for a preview, in `locale`: the office's own facts, examples for
    the rest."""
    with force_locale(locale):
        values = {key: str(text) for key, text in SAMPLE.items()}
        values |= _office_values(settings)
        values |= {
            "addressee": form_of_address(
                {"names": {locale: values["head_name"]}, "title": {locale: values["head_title"]}},
                locale,
            ),
            "dates": format_interval(*SAMPLE_DAYS),
            "members": "5",
        }
    return values


def preview(*, settings: Settings, locale: str, subject: str, body: str) -> FilledText:
    """The text a template gives, filled with example values (422 where it is wrong)."""
    return fill(subject, body, sample_values(settings, locale))


async def save(
    *,
    db_session: AsyncSession,
    settings: Settings,
    kind: str,
    locale: str,
    data: TemplateSave,
    actor: str,
    now: datetime,
) -> TemplateVersionRead:
    """Save a new version, after checking that it fills (422 otherwise); 409 when someone
    saved a version since the one this edit started from."""
    known = _known(kind, locale)
    preview(settings=settings, locale=locale, subject=data.subject, body=data.body)
    latest = await current(db_session=db_session, kind=known.value, locale=locale)
    if latest.number != data.based_on:
        raise _saved_meanwhile(latest)
    row = LetterTemplateVersion(
        kind=known.value,
        locale=locale,
        number=latest.number + 1,
        subject=data.subject,
        body=data.body,
        saved_by=actor,
        saved_at=now,
    )
    db_session.add(row)
    try:
        await db_session.flush()
    except IntegrityError:  # saved at the same moment by someone else
        await db_session.rollback()
        raise _saved_meanwhile(
            await current(db_session=db_session, kind=known.value, locale=locale)
        ) from None
    return _read(row)


def _saved_meanwhile(latest: TemplateVersionRead) -> Conflict:
    return Conflict(
        "Version %(number)s of this template was saved by %(actor)s meanwhile; look at it, "
        "then edit again",
        number=latest.number,
        actor=latest.saved_by or "",
    )


async def count_saved(*, db_session: AsyncSession) -> dict[tuple[str, str], int]:
    """(kind, locale) -> the number of its latest saved version."""
    rows = await db_session.execute(
        select(
            LetterTemplateVersion.kind,
            LetterTemplateVersion.locale,
            func.max(LetterTemplateVersion.number),
        ).group_by(LetterTemplateVersion.kind, LetterTemplateVersion.locale)
    )
    return {(kind, locale): number for kind, locale, number in rows}


# --- a visit's letter -------------------------------------------------------------------------


def _office_values(settings: Settings) -> dict[str, str]:
    office = office_contact(settings)
    return {
        "city": localized(settings.office_city) or office.name.text,
        "office_name": office.name.text,
        "office_address": office.address.text if office.address else "",
        "office_email": office.email,
        "office_phone": office.phone,
    }


async def _delegation_of(db_session: AsyncSession, visit: Visit) -> Mapping[str, str] | None:
    """The names of whom the delegation comes from: partner city, mission or organisation."""
    if visit.partner_id is not None:
        partner = await db_session.get(PartnerCity, visit.partner_id)
        return partner.names if partner is not None else None
    if visit.mission_id is not None:
        mission = await db_session.get(ForeignMission, visit.mission_id)
        return mission.names if mission is not None else None
    return visit.organisation


async def signatories(*, db_session: AsyncSession) -> list[Official]:
    """The officials who may sign, in order of precedence (the first signs by default)."""
    found = await db_session.scalars(select(Official).order_by(Official.protocol_rank, Official.id))
    return list(found)


async def visit_letter(
    *,
    db_session: AsyncSession,
    settings: Settings,
    visit_id: str,
    kind: str,
    locale: str,
    signatory_id: str | None,
    today: date,
) -> Letter:
    """The letter of `kind` for a visit in `locale`, from the current template, signed by
    `signatory_id` (else the first official in precedence)."""
    template = await current(db_session=db_session, kind=kind, locale=locale)
    visit = await db_session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    officials = await signatories(db_session=db_session)
    signatory = next((o for o in officials if o.id == signatory_id), None)
    if signatory_id and signatory is None:
        raise NotFound("official", signatory_id)
    signatory = signatory or (officials[0] if officials else None)
    delegation = await _delegation_of(db_session, visit)
    head = visit.head_of_delegation
    with force_locale(locale):
        head_name = localized(head.get("names") or {}) or ""
        head_title = localized(head.get("title") or {}) or ""
        values = _office_values(settings) | {
            "head_name": head_name,
            "head_title": head_title,
            # The head's form of address in this language, else title and name in its order.
            "addressee": form_of_address(head, locale),
            "partner": localized(delegation or {}) or "",
            "dates": format_interval(visit.requested_from, visit.requested_to),
            "purpose": localized(visit.purpose) or "",
            "members": str(visit.members),
            "signatory_name": (localized(signatory.names) or "") if signatory else "",
            "signatory_title": (localized(signatory.title) or "") if signatory else "",
        }
        assert set(values) == set(PLACEHOLDERS)
        recipient: tuple[Shown, ...] = ()
        if kind != LetterKind.VISA_SUPPORT:
            lines = [shown(delegation), Shown(values["addressee"], locale)]
            recipient = tuple(line for line in lines if line is not None and line.text)
        signed = (
            tuple(line for line in (shown(signatory.names), shown(signatory.title)) if line)
            if signatory
            else ()
        )
        return Letter(
            locale=locale,
            kind=template.kind.value,
            office=office_contact(settings),
            date=format_date(today, format="long"),
            recipient=recipient,
            text=fill(template.subject, template.body, values),
            signatory=signed,
        )


def kind_label(kind: str) -> LazyProxy:
    """The kind's name, read in the locale it is shown in."""
    return KIND_LABELS[LetterKind(kind)]


KIND_LABELS = {
    LetterKind.INVITATION: L_("Invitation letter"),
    LetterKind.VISA_SUPPORT: L_("Letter in support of visa applications"),
    LetterKind.THANK_YOU: L_("Thank-you letter"),
}
