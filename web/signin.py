"""Signing in and out, and the reader's choice of language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from twinning.api.deps import DbSession
from twinning.auth import service as auth
from twinning.i18n import (
    DEFAULT_LOCALE,
    resolve,
)
from twinning.web.pages import CheckedForm, render, sessions_of
from twinning.web.session import (
    LANGUAGE_COOKIE,
    Sessions,
    SignInThrottle,
)

router = APIRouter(prefix="/ui", include_in_schema=False)


# --- sign-in -------------------------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
async def signin_page(request: Request, next: str = "/ui/") -> HTMLResponse:
    return render(request, "signin.html", {"next": _local(next), "failed": False, "wait": 0})


def _local(target: str) -> str:
    """Only a path of this app may follow a sign-in (no open redirect)."""
    return target if target.startswith("/ui/") and "//" not in target else "/ui/"


@router.post("/signin", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    db_session: DbSession,
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=1000)] = "/ui/",
) -> Response:
    throttle: SignInThrottle = request.app.state.web_throttle
    keys = (f"user:{name}", f"address:{request.client.host if request.client else '?'}")
    wait = throttle.wait(*keys)
    if wait > 0:
        context = {"next": _local(next), "failed": False, "wait": int(wait) + 1, "name": name}
        return render(request, "signin.html", context, status_code=429)
    user = await auth.verify_password(db_session=db_session, name=name, password=password)
    if user is None:
        throttle.failed(*keys)
        context = {"next": _local(next), "failed": True, "wait": 0, "name": name}
        return render(request, "signin.html", context, status_code=401)
    throttle.succeeded(keys[0])
    await db_session.commit()
    response = RedirectResponse(_local(next), status_code=303)
    sessions_of(request).start(request, response, user.id)
    return response


@router.post("/signout", dependencies=[CheckedForm])
async def sign_out() -> Response:
    response = RedirectResponse("/ui/signin", status_code=303)
    Sessions.end(response)
    return response


@router.post("/language")
async def choose_language(
    language: Annotated[str, Form(max_length=35)],
    next: Annotated[str, Form(max_length=1000)] = "/ui/",
) -> Response:
    """Remember the reader's language (a preference, not a change of state: no CSRF token)."""
    response = RedirectResponse(_local(next), status_code=303)
    locale = resolve(language) or DEFAULT_LOCALE
    response.set_cookie(LANGUAGE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
    return response
