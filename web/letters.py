"""Letters in the web app (staff only): the templates of each kind and language, each edited
by preview then save (a new version each time, who and when kept, earlier versions readable),
and a visit's letters as PDFs from its page."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from twinning.api.deps import Clock, DbSession
from twinning.i18n import L_, force_locale, localized, resolve, supported_locales
from twinning.letters import service as letters
from twinning.letters.render import PLACEHOLDERS, letter_html, letter_pdf
from twinning.letters.schemas import LetterKind, TemplateSave
from twinning.refusals import Conflict, InvalidField, NotFound
from twinning.visits.models import Visit
from twinning.web.pages import (
    CheckedForm,
    User,
    field_errors,
    form_of,
    not_found,
    office_today,
    page_language,
    render,
    require_staff,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

MESSAGES = {
    "subject": L_("Enter the subject line, with placeholders written as {{ partner }}"),
    "body": L_("Enter the text of the letter, with placeholders written as {{ partner }}"),
}
LOCATIONS = {("subject",): "subject", ("body",): "body", (): "body"}
#: What each placeholder stands for, as the edit page lists them.
PLACEHOLDER_LABELS = {
    "addressee": L_("how the letter addresses the head of the delegation"),
    "head_name": L_("the name of the head of the delegation"),
    "head_title": L_("the title of the head of the delegation"),
    "partner": L_("the partner city, mission or organisation the delegation comes from"),
    "dates": L_("the days of the visit"),
    "purpose": L_("the purpose of the visit"),
    "members": L_("how many the delegation are"),
    "city": L_("the city's name"),
    "office_name": L_("the office's name"),
    "office_address": L_("the office's address"),
    "office_email": L_("the office's email address"),
    "office_phone": L_("the office's telephone number"),
    "signatory_name": L_("the name of the official who signs"),
    "signatory_title": L_("the title of the official who signs"),
}
assert set(PLACEHOLDER_LABELS) == set(PLACEHOLDERS)


def _digest(subject: str, body: str) -> str:
    """What a save must match: the text the preview showed."""
    return hashlib.sha256(f"{subject}\0{body}".encode()).hexdigest()


def _kind_choices() -> list[tuple[str, LazyProxy]]:
    return [(kind.value, letters.kind_label(kind)) for kind in LetterKind]


# --- the templates ----------------------------------------------------------------------------


@router.get("/letters", response_class=HTMLResponse)
async def templates_page(request: Request, user: User, db_session: DbSession) -> HTMLResponse:
    require_staff(user)
    saved = await letters.count_saved(db_session=db_session)
    context = {
        "kinds": _kind_choices(),
        "locales": supported_locales(),
        "saved": saved,
    }
    return render(request, "letters.html", context, user=user)


async def _edit_context(
    db_session: AsyncSession, kind: str, locale: str, form: dict[str, str]
) -> dict[str, Any]:
    try:
        current = await letters.current(db_session=db_session, kind=kind, locale=locale)
        found = await letters.versions(db_session=db_session, kind=kind, locale=locale)
    except NotFound:
        not_found("letter template", f"{kind} {locale}")
    return {
        "kind": kind,
        "kind_label": letters.kind_label(kind),
        "locale": locale,
        "current": current,
        "versions": found,
        "placeholders": [(name, PLACEHOLDER_LABELS[name]) for name in PLACEHOLDERS],
        "form": form
        or {"subject": current.subject, "body": current.body, "based_on": str(current.number)},
        "errors": {},
        "refused": "",
        "preview": None,
        "previewed": "",
    }


@router.get("/letters/{kind}/{locale}", response_class=HTMLResponse)
async def template_page(
    request: Request,
    kind: str,
    locale: str,
    user: User,
    db_session: DbSession,
    saved: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    require_staff(user)
    context = await _edit_context(db_session, kind, locale, {})
    context["just_saved"] = saved
    return render(request, "letter_template.html", context, user=user)


@router.post("/letters/{kind}/{locale}", dependencies=[CheckedForm])
async def edit_template(
    request: Request, kind: str, locale: str, user: User, db_session: DbSession, clock: Clock
) -> Response:
    """`action=preview` shows the letter the text makes; `action=save` saves it as a new
    version, only as it was previewed (a text changed since is previewed again)."""
    require_staff(user)
    form = await form_of(request)
    context = await _edit_context(db_session, kind, locale, form)
    settings = request.app.state.settings
    subject, body = form.get("subject", "").strip(), form.get("body", "").strip()
    try:
        data = TemplateSave.model_validate(
            {"subject": subject, "body": body, "based_on": form.get("based_on", "") or None}
        )
        context["preview"] = letters.preview(
            settings=settings, locale=locale, subject=data.subject, body=data.body
        )
        context["previewed"] = _digest(data.subject, data.body)
        if form.get("action") == "save" and form.get("previewed") == context["previewed"]:
            saved = await letters.save(
                db_session=db_session,
                settings=settings,
                kind=kind,
                locale=locale,
                data=data,
                actor=user.actor,
                now=clock(),
            )
            await db_session.commit()
            return RedirectResponse(
                f"/ui/letters/{kind}/{locale}?saved={saved.number}", status_code=303
            )
    except (ValidationError, InvalidField) as refused:
        context["errors"] = field_errors(refused, MESSAGES, LOCATIONS)
        if isinstance(refused, InvalidField):  # say what the template does wrong
            with force_locale(page_language(request)):
                context["errors"] = {
                    name: f"{message}: {refused.text()}"
                    for name, message in context["errors"].items()
                }
        context["preview"] = None
        return render(request, "letter_template.html", context, user=user, status_code=422)
    except Conflict as refusal:
        context["refused"] = refusal.text(page_language(request))
        context["preview"] = None
        return render(request, "letter_template.html", context, user=user, status_code=409)
    return render(request, "letter_template.html", context, user=user)


@router.get("/letters/{kind}/{locale}/versions/{number}", response_class=HTMLResponse)
async def version_page(
    request: Request, kind: str, locale: str, number: int, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    try:
        found = await letters.version(
            db_session=db_session, kind=kind, locale=locale, number=number
        )
    except NotFound:
        not_found("letter template", f"{kind} {locale} v{number}")
    context = {"kind": kind, "kind_label": letters.kind_label(kind), "version": found}
    return render(request, "letter_version.html", context, user=user)


# --- a visit's letters ------------------------------------------------------------------------


async def letters_context(db_session: AsyncSession, visit: Visit | None) -> dict[str, Any]:
    """What the visit page's letters section offers: kinds, languages (the delegation's
    first) and who may sign."""
    if visit is None:
        return {"letter_kinds": []}
    wished = [found for tag in visit.languages if (found := resolve(tag)) is not None]
    locales = list(dict.fromkeys([*wished, *supported_locales()]))
    officials = await letters.signatories(db_session=db_session)
    return {
        "letter_kinds": _kind_choices(),
        "letter_locales": locales,
        "letter_signatories": [(o.id, localized(o.names) or o.id) for o in officials],
    }


@router.get("/visits/{visit_id}/letters/{kind}", response_class=Response)
async def visit_letter(
    request: Request,
    visit_id: str,
    kind: str,
    user: User,
    db_session: DbSession,
    clock: Clock,
    lang: Annotated[str, Query(max_length=35)] = "",
    signatory: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    require_staff(user)
    settings = request.app.state.settings
    locale = resolve(lang) if lang else page_language(request)
    try:
        letter = await letters.visit_letter(
            db_session=db_session,
            settings=settings,
            visit_id=visit_id,
            kind=kind,
            locale=locale or "",
            signatory_id=signatory or None,
            today=office_today(request, clock()),
        )
    except NotFound as refusal:
        not_found(refusal.kind, *refusal.ids)
    pdf = await run_in_threadpool(letter_pdf, letter_html(letter), letter.locale, settings)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Language": letter.locale,
            "Cache-Control": "private, no-store",
            # A file to send: saved, not shown in a tab.
            "Content-Disposition": f'attachment; filename="{kind}-{letter.locale}.pdf"',
        },
    )
