"""What every router shares, in one place that routes import (never one another):

- `Command`: what a command route needs (session, actor, outbox doorbell, response) and the
  one way it answers, `accept`: commit, wake the relay, `202 {id, event_id}` with `Location`;
- `Accepted` and `CompletionAccepted`, the bodies of that answer;
- `register_routes`, the factory of every register's CRUD-like routes (partners, missions,
  contacts, officials, venues): register, update, read one, list;
- `version_routes`, the factory of a published document's routes (the latest version, the
  list of versions, one version; the briefing documents, the plans' reports), and
  `serve_version`, the one way a stored version is served;
- `REFUSALS`, `READ_ONE` and `STAFF_ONLY`, the error answers a route documents
  (`twinning.refusals.Problem`); what every operation answers (401 with a token, 400, 413,
  415 and 422 with a body, 503) the OpenAPI document adds itself (`twinning.api.problems`).

This module evaluates annotations eagerly (no `from __future__ import annotations`): FastAPI
must see the factory's model classes, which are local variables, not module names.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Annotated, Any, Literal, TypeVar

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    params,
    status,
)
from pydantic import BaseModel
from twinning.api.deps import DbSession, OutboxDoorbell, StaffActor
from twinning.api.language import get_language
from twinning.db import Page
from twinning.publicity import service as publicity
from twinning.publicity.fonts import INSTALL_FONTS, missing_face
from twinning.publicity.models import PublicityVersion
from twinning.publicity.schemas import VersionList, VersionRead
from twinning.refusals import NotFound, problem_responses
from twinning.streams import outbox
from twinning.streams.events import Event

T = TypeVar("T")

#: The error answers of a command: a caller who is not staff, unknown id, state or booking
#: conflict, invalid field.
REFUSALS = problem_responses(403, 404, 409, 422)
#: What a route that needs the staff role (or personal-data access) declares.
STAFF_ONLY = problem_responses(403)


class Accepted(BaseModel):
    """The command was validated and its event committed; the read model follows shortly."""

    id: str
    event_id: str


class CompletionAccepted(Accepted):
    """A completion, and the exchange it recorded with partner cities (none without them)."""

    exchange_id: str | None = None
    exchange_event_id: str | None = None

    @classmethod
    def of(cls, completed: Event, exchange: Event | None, *, id: str) -> "CompletionAccepted":
        return cls(
            id=id,
            event_id=completed.event_id,
            exchange_id=exchange.aggregate_id if exchange is not None else None,
            exchange_event_id=exchange.event_id if exchange is not None else None,
        )


class CommandScope:
    """What a command route needs: the session, the acting staff member, the relay's doorbell
    and the response (for `Location`)."""

    def __init__(
        self,
        db_session: DbSession,
        actor: StaffActor,
        doorbell: OutboxDoorbell,
        response: Response,
    ) -> None:
        self.db_session = db_session
        self.actor = actor
        self.doorbell = doorbell
        self.response = response

    async def run(self, action: Callable[..., Awaitable[T]], /, **arguments: Any) -> T:
        """Call a domain command with this request's session and actor: `action(db_session=,
        actor=, **arguments)`."""
        return await action(db_session=self.db_session, actor=self.actor, **arguments)

    async def commit(self, location: str) -> None:
        """Commit the command's events, wake the relay, and point to the resource."""
        await outbox.commit(self.db_session, self.doorbell)
        self.response.headers["Location"] = location

    async def accept(self, event: Event, *, location: str, id: str | None = None) -> Accepted:
        """Commit, and answer with the resource's id (the event's aggregate unless given)."""
        await self.commit(location)
        return Accepted(id=id or event.aggregate_id, event_id=event.event_id)


async def command_scope(
    db_session: DbSession, actor: StaffActor, doorbell: OutboxDoorbell, response: Response
) -> CommandScope:
    # Not `Depends(CommandScope)`: FastAPI would call the class in a worker thread.
    return CommandScope(db_session, actor, doorbell, response)


Command = Annotated[CommandScope, Depends(command_scope)]

#: What a command route declares: 202 with `Accepted`, and the refusals it may answer.
COMMAND: dict[str, Any] = {
    "status_code": status.HTTP_202_ACCEPTED,
    "response_model": Accepted,
    "responses": REFUSALS,
}
#: What a route that reads one record declares: 404 when there is none.
READ_ONE: dict[str, Any] = {"responses": problem_responses(404)}


async def _no_language() -> None:
    return None


@dataclass(frozen=True)
class Register:
    """What a register's routes speak: the command bodies, what a read returns, the list's
    filters (a `Page`)."""

    create: type[BaseModel]
    update: type[BaseModel]
    read: type[BaseModel]
    filters: type[Page]


def register_routes(
    router: APIRouter,
    service: ModuleType,
    models: Register,
    *,
    kind: str,
    localized_view: Callable[[Any, str], BaseModel] | None = None,
    read_dependencies: Sequence[params.Depends] = (),
) -> None:
    """Add a register's `POST ""`, `PATCH "/{noun}_id"`, `GET "/{noun}_id"` and `GET ""` to
    `router` (whose prefix is the register's path, `/partners` for the noun `partner`).

    The domain `service` module names its commands and queries after the noun, keyword-only
    as every service function: `register_<noun>(db_session=, data=, actor=)`,
    `update_<noun>(db_session=, <noun>_id=, data=, actor=)` (which raises `NotFound`),
    `get_<noun>(db_session=, <noun>_id=)` (None when unknown: answered `NotFound(kind, id)`)
    and `list_<noun>s(db_session=, query=)`. A read returns `read.model_validate(entity)`, or
    with `localized_view`, `localized_view(entity, language)` in the language the caller
    reads (`?lang=`, Accept-Language); `read_dependencies` guard the reads (personal data:
    403 to a caller without access)."""
    noun = router.prefix.strip("/").removesuffix("s")
    register_command: Callable[..., Awaitable[Event]] = getattr(service, f"register_{noun}")
    update_command: Callable[..., Awaitable[Event]] = getattr(service, f"update_{noun}")
    get_query: Callable[..., Awaitable[Any]] = getattr(service, f"get_{noun}")
    list_query: Callable[..., Awaitable[Sequence[Any]]] = getattr(service, f"list_{noun}s")
    create, update, read, filters = models.create, models.update, models.read, models.filters
    id_key = f"{noun}_id"
    prefix = router.prefix
    EntityId = Annotated[str, Path(alias=id_key)]
    localized = localized_view is not None
    Language = Annotated[str | None, Depends(get_language if localized else _no_language)]
    guarded = STAFF_ONLY if read_dependencies else {}

    def show(entity: Any, language: str | None) -> BaseModel:
        if localized_view is None or language is None:
            return read.model_validate(entity)
        return localized_view(entity, language)

    @router.post("", name=f"register_{noun}", **COMMAND)
    async def register(data: create, command: Command) -> Accepted:  # type: ignore[valid-type]
        event = await command.run(register_command, data=data)
        return await command.accept(event, location=f"{prefix}/{event.aggregate_id}")

    @router.patch(f"/{{{id_key}}}", name=f"update_{noun}", **COMMAND)
    async def change(
        entity_id: EntityId,
        data: update,  # type: ignore[valid-type]
        command: Command,
    ) -> Accepted:
        event = await command.run(update_command, data=data, **{id_key: entity_id})
        return await command.accept(event, location=f"{prefix}/{entity_id}", id=entity_id)

    @router.get(
        f"/{{{id_key}}}",
        name=f"get_{noun}",
        response_model=read,
        dependencies=list(read_dependencies),
        responses={**READ_ONE["responses"], **guarded},
    )
    async def get_one(entity_id: EntityId, db_session: DbSession, language: Language) -> Any:
        entity = await get_query(db_session=db_session, **{id_key: entity_id})
        if entity is None:
            raise NotFound(kind, entity_id)
        return show(entity, language)

    @router.get(
        "",
        name=f"list_{noun}s",
        response_model=list[read],  # type: ignore[valid-type]
        dependencies=list(read_dependencies),
        responses=guarded,
    )
    async def list_all(
        query: Annotated[filters, Query()],  # type: ignore[valid-type]
        db_session: DbSession,
        language: Language,
    ) -> Any:
        found = await list_query(db_session=db_session, query=query)
        return [show(entity, language) for entity in found]


# --- published documents: every version of a document in a language ------------------------

#: The formats a stored version is served in.
DocumentFormat = Annotated[
    Literal["html", "pdf"],
    Query(description="`html` (one self-contained page) or `pdf` (print-ready A4)."),
]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]
DocumentLanguage = Annotated[str, Depends(get_language)]
DOCUMENT_MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
#: The HTML pages carry no script and load nothing: a browser should let them do neither.
DOCUMENT_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(404),
    200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "The document."},
    503: {
        "description": "A PDF in zh-TW, ja or ko on a server without Noto Sans CJK (the "
        "detail says what to install), or the database is unavailable."
    },
}


def serve_version(version: PublicityVersion, format: str, *, kind: str) -> Response:
    """A stored version as a download, never kept by a shared cache (these documents are the
    office's own: a briefing book is internal)."""
    headers = {
        "Content-Language": version.locale,
        "Cache-Control": "private, no-store",
        "Content-Disposition": (
            f'inline; filename="{kind}-{version.locale}-v{version.number}.{format}"'
        ),
    }
    if format == "html":
        headers["Content-Security-Policy"] = DOCUMENT_HTML_POLICY
        return Response(version.html.encode(), media_type=DOCUMENT_MEDIA_TYPES[format],
                        headers=headers)  # fmt: skip
    if (family := missing_face(version.locale)) is not None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"PDFs in {version.locale} need the font {family}, which this server lacks: "
            f"{INSTALL_FONTS}",
        )
    return Response(version.pdf, media_type=DOCUMENT_MEDIA_TYPES[format], headers=headers)


def version_routes(
    router: APIRouter,
    *,
    path: str,
    kind: str,
    document: Callable[..., Awaitable[str]],
    listed_at: str,
    dependencies: Sequence[params.Depends] = (),
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> None:
    """Add the three routes of a published document to `router`: `GET {path}` (the latest
    version), `GET {path}/versions` (every version, newest first) and `GET
    {path}/versions/{number}`, each in the language asked for (`?lang=`, Accept-Language).
    `document` is a dependency that reads the path's parameters and answers the document's
    key (or raises `NotFound`); `listed_at` says, in a 404, where the languages it has are."""
    Document = Annotated[str, Depends(document)]
    name = kind.replace("-", "_")
    what = kind.replace("-", " ")
    declared: dict[str, Any] = {
        "dependencies": list(dependencies),
        "responses": responses or DOCUMENT_RESPONSES,
    }

    def missing(locale: str, number: int | None = None) -> HTTPException:
        which = f"version {number}" if number is not None else "version"
        return HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"the {what} has no {which} in {locale} (see {listed_at} for the languages it has)",
        )

    async def get_latest(
        key: Document,
        db_session: DbSession,
        language: DocumentLanguage,
        format: DocumentFormat = "pdf",
    ) -> Response:
        version = await publicity.latest_version_for_a_reader(
            db_session=db_session, document=key, locale=language
        )
        if version is None:
            raise missing(language)
        return serve_version(version, format, kind=kind)

    async def list_versions(
        request: Request, key: Document, db_session: DbSession, language: DocumentLanguage
    ) -> VersionList:
        found = await publicity.list_versions(db_session=db_session, document=key, locale=language)
        base = request.url.path
        return VersionList(
            document=key,
            locale=language,
            versions=[
                VersionRead(
                    **v.model_dump(),
                    html_url=f"{base}/{v.number}?lang={language}&format=html",
                    pdf_url=f"{base}/{v.number}?lang={language}&format=pdf",
                )
                for v in found
            ],
        )

    async def get_version(
        key: Document,
        number: VersionNumber,
        db_session: DbSession,
        language: DocumentLanguage,
        format: DocumentFormat = "pdf",
    ) -> Response:
        version = await publicity.get_version(
            db_session=db_session, document=key, locale=language, number=number
        )
        if version is None:
            raise missing(language, number)
        return serve_version(version, format, kind=kind)

    router.add_api_route(path, get_latest, methods=["GET"], name=f"get_{name}",
                         summary=f"The latest {what} in the language asked for",
                         response_class=Response, **declared)  # fmt: skip
    router.add_api_route(f"{path}/versions", list_versions, methods=["GET"],
                         name=f"list_{name}_versions", response_model=VersionList,
                         summary=f"Every version of the {what} in the language asked for, "
                         "newest first", **declared)  # fmt: skip
    router.add_api_route(f"{path}/versions/{{number}}", get_version, methods=["GET"],
                         name=f"get_{name}_version", summary=f"One version of the {what}",
                         response_class=Response, **declared)  # fmt: skip


def image_response(data: bytes, media_type: str) -> Response:
    """A stored image (addressed by its digest, so it never changes): kept by the reader's
    browser for a day, by no shared cache."""
    return Response(
        data, media_type=media_type, headers={"Cache-Control": "private, max-age=86400, immutable"}
    )
