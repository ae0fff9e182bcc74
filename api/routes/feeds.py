"""iCal feeds: the feeds themselves (public paths, `public_router`) and the secret links
to the private ones, which staff create, list, rotate and revoke (`router`).

- `GET /feeds/{secret}.ics?lang=ja`: an official's or the office's feed. Calendar clients
  cannot log in, so the secret in the URL is the key; an unknown or revoked one answers 404.
- `GET /partners/{id}/calendar.ics?lang=ja`: a partner city's feed, public (its visits to us,
  our trips to it, the city events it is invited to, its anniversaries), without the
  interpreter and the notes meant for the city's officials.

Both answer `text/calendar` with ETag and Last-Modified, and 304 to a client whose copy is
current (If-None-Match, else If-Modified-Since).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send
from twinning.api.deps import Clock, DbSession, StaffActor, StaffUser, get_clock
from twinning.calendar import feeds
from twinning.calendar.feeds import Audience, Feed, FeedCache
from twinning.calendar.models import FeedLink
from twinning.calendar.schemas import FeedLinkCreate, FeedLinkIssued, FeedLinkRead
from twinning.crm.models import PartnerCity
from twinning.db import utcnow
from twinning.refusals import Conflict, NotFound, problem_responses
from twinning.streams import outbox

public_router = APIRouter(tags=["calendar feeds"])
#: Staff only (403 to a viewer).
router = APIRouter(prefix="/feed-links", tags=["calendar feeds"], responses=problem_responses(403))

#: Private feeds may be kept by the subscriber's client, never by a shared cache.
PRIVATE_CACHING = "private, max-age=300"
PUBLIC_CACHING = "public, max-age=300"
CALENDAR = "text/calendar; charset=utf-8"

LANG_MAX = 35
LangQuery = Annotated[
    str | None,
    Query(
        max_length=LANG_MAX,
        description="The feed's language (zh-TW, en, ja, ko, es); default: the link's language.",
    ),
]


def feed_cache(request: Request) -> FeedCache:
    cache: FeedCache = request.app.state.feed_cache
    return cache


def _not_modified(if_none_match: str | None, if_modified_since: str | None, feed: Feed) -> bool:
    """RFC 9110 13.1: If-None-Match decides when present, else If-Modified-Since."""
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or feed.etag in tags
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and feed.last_modified <= since


def _answer_of(
    feed: Feed, caching: str, if_none_match: str | None, if_modified_since: str | None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a feed's answer: the route's and `AnswerFromMemory`'s."""
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        "Cache-Control": caching,
        "Content-Language": feed.language,
    }
    if _not_modified(if_none_match, if_modified_since, feed):
        return status.HTTP_304_NOT_MODIFIED, headers, b""
    headers["Content-Type"] = CALENDAR
    headers["Content-Length"] = str(len(feed.body))
    return status.HTTP_200_OK, headers, feed.body


def _answer(request: Request, feed: Feed, caching: str) -> Response:
    code, headers, body = _answer_of(
        feed,
        caching,
        request.headers.get("if-none-match"),
        request.headers.get("if-modified-since"),
    )
    return Response(body, status_code=code, headers=headers)


async def _feed(
    request: Request, db_session: AsyncSession, audience: Audience, language: str, now: datetime
) -> Feed:
    feed = await feeds.build_feed(
        db_session=db_session,
        cache=feed_cache(request),
        audience=audience,
        language=language,
        now=now,
    )
    if feed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
    return feed


@public_router.head("/feeds/{token}.ics", include_in_schema=False)
@public_router.get(
    "/feeds/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 304: {}, 404: {}},
)
async def private_feed(
    token: str, request: Request, clock: Clock, lang: LangQuery = None
) -> Response:
    """An official's or the office's feed, by the secret of its link. An unchanged feed is
    answered from memory (`FeedCache`): no database session at all."""
    cache = feed_cache(request)
    sessions = request.app.state.sessions
    link = await feeds.live_link(sessions=sessions, cache=cache, token=token)
    if link is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
    language = feeds.feed_language(lang, link.language)
    audience, now = Audience(link.audience), clock()
    feed = cache.current(audience, language, now)
    if feed is None:
        async with sessions() as db_session:
            feed = await _feed(request, db_session, audience, language, now)
    return _answer(request, feed, PRIVATE_CACHING)


class AnswerFromMemory:
    """The hot path of `GET /feeds/{secret}.ics`, in front of routing and dependency injection
    (which cost more than the answer itself): a feed whose link this process checked within
    `feed_check_interval`, and whose cached feed is current, is answered here, from the bytes
    held in memory, as `private_feed` would answer it. A link whose check is due is checked
    here too (one query, shared by the requests that come meanwhile: `feeds.live_link`), so
    that a feed polled while it does not change never goes through the router. Everything
    else goes on to the route: a link unknown or revoked, a feed to build, a check that
    failed (the route answers it as any request that meets a database error), a query other
    than one valid `lang`, and an app whose clock a test has replaced.

    Installed inside the security middleware (`api.security`): its answers get the same
    headers as every other."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            answer = None
            if (asked := _feed_asked(scope)) is not None:
                answer = _from_memory(scope, *asked)
                if answer is None and await _check(scope, asked[0]):
                    answer = _from_memory(scope, *asked)
            if answer is not None:
                code, headers, body = answer
                await send(
                    {
                        "type": "http.response.start",
                        "status": code,
                        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _feed_asked(scope: Scope) -> tuple[str, str | None] | None:
    """The secret and the `lang` of a request for a private feed that `AnswerFromMemory` may
    answer, or None."""
    path: str = scope["path"]
    if not (path.startswith("/feeds/") and path.endswith(".ics")):
        return None
    token = path[len("/feeds/") : -len(".ics")]
    if not token or "/" in token or get_clock in scope["app"].dependency_overrides:
        return None
    lang = None
    if query := scope["query_string"]:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if len(pairs) != 1 or pairs[0][0] != "lang" or len(pairs[0][1]) > LANG_MAX:
            return None
        lang = pairs[0][1]
    return token, lang


async def _check(scope: Scope, token: str) -> bool:
    """Check the link of `token` (and its audience's feed version) now; False if it could not
    be checked, and the route is left to answer."""
    app = scope["app"]
    try:
        await feeds.live_link(sessions=app.state.sessions, cache=app.state.feed_cache, token=token)
    except Exception:  # the route meets it again and answers it (503, logged) as usual
        return False
    return True


def _from_memory(
    scope: Scope, token: str, lang: str | None
) -> tuple[int, dict[str, str], bytes] | None:
    cache: FeedCache = scope["app"].state.feed_cache
    link = cache.checked_link(feeds.hash_token(token))
    if link is None:
        return None
    language = feeds.feed_language(lang, link.language)
    feed = cache.current(Audience(link.audience), language, utcnow())
    if feed is None:
        return None
    headers = Headers(scope=scope)
    return _answer_of(
        feed, PRIVATE_CACHING, headers.get("if-none-match"), headers.get("if-modified-since")
    )


@public_router.head("/partners/{partner_id}/calendar.ics", include_in_schema=False)
@public_router.get(
    "/partners/{partner_id}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 304: {}, 404: {}},
)
async def partner_feed(
    partner_id: str, request: Request, db_session: DbSession, clock: Clock, lang: LangQuery = None
) -> Response:
    """A partner city's public feed; by default in the first of its languages twinning speaks."""
    partner = await db_session.get(PartnerCity, partner_id)
    if partner is None:
        raise NotFound("partner city", partner_id)
    language = feeds.feed_language(lang, feeds.partner_language(partner))
    audience, now = Audience.partner(partner_id), clock()
    feed = feed_cache(request).current(audience, language, now) or await _feed(
        request, db_session, audience, language, now
    )
    return _answer(request, feed, PUBLIC_CACHING)


# --- feed links (staff) -----------------------------------------------------------------


def _issued(request: Request, link: FeedLink, token: str) -> FeedLinkIssued:
    base = request.app.state.settings.base_url()
    url = f"{base}/feeds/{token}.ics?lang={link.language}"
    webcal = "webcal://" + url.split("://", 1)[1]
    return FeedLinkIssued(**FeedLinkRead.model_validate(link).model_dump(), url=url, webcal=webcal)


async def _link(db_session: DbSession, link_id: str) -> FeedLink:
    link = await feeds.get_link(db_session=db_session, link_id=link_id)
    if link is None:
        raise NotFound("feed link", link_id)
    return link


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedLinkIssued,
    responses=problem_responses(404),
)
async def create_feed_link(
    data: FeedLinkCreate,
    request: Request,
    response: Response,
    db_session: DbSession,
    actor: StaffActor,
    clock: Clock,
) -> FeedLinkIssued:
    """A secret link to the office's or an official's feed; its URL is shown this once."""
    audience = Audience(data.audience.key)
    if audience.id is not None:
        await outbox.settle(db_session, aggregate_ids=[audience.id])  # an official just registered
    if not await feeds.audience_exists(db_session=db_session, audience=audience):
        raise NotFound(audience.kind, str(audience.id))
    link, token = await feeds.create_link(
        db_session=db_session,
        audience=audience,
        language=data.language,
        label=data.label,
        actor=actor,
        now=clock(),
    )
    await db_session.commit()
    response.headers["Location"] = f"/feed-links/{link.id}"
    return _issued(request, link, token)


@router.get("", response_model=list[FeedLinkRead])
async def list_feed_links(
    db_session: DbSession,
    _staff: StaffUser,
    official_id: Annotated[str | None, Query(max_length=100)] = None,
    interpreter_id: Annotated[str | None, Query(max_length=100)] = None,
    office: bool = False,
    include_revoked: bool = False,
) -> list[FeedLinkRead]:
    """Feed links, oldest first (without their secrets): all, or the office's, an official's or
    an interpreter's."""
    audience = (
        Audience.official(official_id)
        if official_id is not None
        else Audience.interpreter(interpreter_id)
        if interpreter_id is not None
        else (Audience.office() if office else None)
    )
    links = await feeds.list_links(
        db_session=db_session, audience=audience, include_revoked=include_revoked
    )
    return [FeedLinkRead.model_validate(link) for link in links]


@router.get("/{link_id}", response_model=FeedLinkRead, responses=problem_responses(404))
async def get_feed_link(link_id: str, db_session: DbSession, _staff: StaffUser) -> FeedLinkRead:
    return FeedLinkRead.model_validate(await _link(db_session, link_id))


@router.post(
    "/{link_id}/rotate", response_model=FeedLinkIssued, responses=problem_responses(404, 409)
)
async def rotate_feed_link(
    link_id: str, request: Request, db_session: DbSession, actor: StaffActor, clock: Clock
) -> FeedLinkIssued:
    """A new secret for the link; the old URL answers 404 from now on."""
    link = await _link(db_session, link_id)
    if link.revoked_at is not None:
        raise Conflict(
            "feed link %(id)s is %(state)s", current_state="revoked", id=link_id, state="revoked"
        )
    old_hash = link.token_hash
    token = await feeds.rotate_link(db_session=db_session, link=link, now=clock())
    await db_session.commit()
    feed_cache(request).forget_link(old_hash)
    return _issued(request, link, token)


@router.delete(
    "/{link_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
async def revoke_feed_link(
    link_id: str, request: Request, db_session: DbSession, actor: StaffActor, clock: Clock
) -> Response:
    """Revoke the link: its URL answers 404 from now on (at once from this API process, within
    `feed_check_interval` from the others)."""
    link = await _link(db_session, link_id)
    await feeds.revoke_link(db_session=db_session, link=link, actor=actor, now=clock())
    await db_session.commit()
    feed_cache(request).forget_link(link.token_hash)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- keeping the secrets out of the access log ------------------------------------------

_FEED_SECRET = re.compile(r"/feeds/[^/?\s]+")


class HideFeedSecrets(logging.Filter):
    """Replaces the secret of feed URLs in access-log lines (uvicorn logs each request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _FEED_SECRET.sub("/feeds/<secret>.ics", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def hide_feed_secrets_in_access_log() -> None:
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideFeedSecrets) for f in access_log.filters):
        access_log.addFilter(HideFeedSecrets())
