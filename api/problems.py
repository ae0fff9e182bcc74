"""Every error answer in one shape (`twinning.refusals.Problem`), from handlers installed once.

- a domain `Refusal` (404, 409, 422) is read in the caller's language (`?lang=`, else
  Accept-Language, else English);
- FastAPI's validation errors become 422 with one `errors` entry per field; the value sent is
  never echoed back (it may be personal data, or text that cannot even be encoded);
- a body sent in another media type than JSON is 415;
- the HTTP errors of routing, authentication and roles (401, 403, 404, 405, 503) keep their
  status, headers and message.

The OpenAPI document says all of it (`document`): each operation lists what its route
declares (`responses=`: 403 for a role, 404, 409), and what follows from the operation
itself: 401 where it asks for a token, 400/413/415/422 where it takes a body, 422 (a NUL in
the path or query, refused by middleware) and 503 (the database) everywhere. A test runs
schemathesis against the app to keep it so (tests/test_openapi_conformance.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match
from twinning.i18n import negotiate
from twinning.refusals import FieldError, Problem, Refusal

MEDIA_TYPE = "application/problem+json"


def answer(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {k: v for k, v in problem.model_dump(mode="json").items() if v is not None}
    return JSONResponse(
        body,
        problem.status,
        headers=headers,
        media_type=MEDIA_TYPE,
    )


#: The language of an error answer to a caller who names none (a script, curl): the API's own,
#: as FastAPI's validation messages are; browsers and the web app always name theirs.
API_LOCALE = "en"


def reader_locale(request: Request) -> str:
    """The language the caller reads: `?lang=`, else Accept-Language (negotiated as every
    localized answer is), else English."""
    query = request.query_params.get("lang")
    accept_language = request.headers.get("accept-language")
    if not query and not accept_language:
        return API_LOCALE
    return negotiate(accept_language, query[:35] if query else None)


def field_errors(errors: Sequence[Any]) -> list[FieldError]:
    """Pydantic's errors as `FieldError`s, without the input they refused."""
    found = []
    for error in errors:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        path = loc[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else loc
        found.append(
            FieldError(
                loc=loc,
                field=".".join(map(str, path)),
                msg=str(error.get("msg", "")),
                type=str(error.get("type", "value_error")),
            )
        )
    return found


def encoded(problem: Problem) -> bytes:
    """The body of `answer(problem)`, for middleware that answers before the app runs."""
    body = {k: v for k, v in problem.model_dump(mode="json").items() if v is not None}
    return json.dumps(body, separators=(",", ":")).encode()


def unavailable(detail: str) -> Problem:
    """503: something the answer needs is down or behind; nothing was changed."""
    return Problem(type="about:blank", title=_titled(503), status=503, detail=detail)


def _titled(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


PROBLEM_REF = "#/components/schemas/Problem"

#: What an error status means where an operation lists it without saying more itself.
MEANINGS: dict[int, str] = {
    400: "The body could not be read as JSON text (it is not UTF-8).",
    401: "No API token, or one that is unknown or revoked, or whose user is deactivated "
    "(`WWW-Authenticate` says which).",
    403: "The caller's role does not allow this.",
    404: "No such record (`kind` and `ids` say which).",
    409: "The current state does not allow this (`current_state`), or it collides with other "
    "records (`conflicts`).",
    413: "The request body is larger than the limit (TWINNING_MAX_BODY_BYTES, 1 MiB by "
    "default); nothing was read.",
    415: "The body is not `application/json`.",
    422: "Invalid input: `errors` names each field and why (a NUL character in the path or "
    "the query too). The value sent is never echoed back.",
    503: "Unavailable: the database is down or reports an error, or what this depends on is "
    "not applied yet. Nothing was changed; retry (after `Retry-After` when given).",
}
#: What the document says of every request, that JSON Schema does not (here) express.
RULES = (
    "Every error answer is `application/problem+json` (the `Problem` schema). Text fields "
    "refuse control characters other than line breaks and tabs: 422 naming the field. A few "
    "more rules than the schemas express are refused the same way: a language that CLDR "
    "knows (see `LanguageTag`), an end after its start and other rules across fields."
)
#: What every operation may answer: a NUL in the path or query (middleware, before routing);
#: the database down or reporting an error, or a command's outbox not settled.
EVERY_OPERATION: tuple[int, ...] = (422, 503)
#: What an operation that declares a security requirement (an API token) may answer.
WITH_A_TOKEN: tuple[int, ...] = (401,)
#: What an operation that takes a body may answer: not UTF-8 JSON text, too large (middleware,
#: before the app reads it), another media type than JSON, invalid.
WITH_A_BODY: tuple[int, ...] = (400, 413, 415, 422)


def refusals_of(operation: dict[str, Any]) -> set[int]:
    """The error statuses an OpenAPI operation answers whatever its route declares: they
    follow from what the document says of it (a security requirement, a request body)."""
    found = set(EVERY_OPERATION)
    if operation.get("security"):
        found.update(WITH_A_TOKEN)
    if "requestBody" in operation:
        found.update(WITH_A_BODY)
    return found


def _is_problem(response: dict[str, Any]) -> bool:
    """Whether an error response is (or should be) a `Problem`: no content of its own, or the
    `Problem` or FastAPI's validation error; a route's own model (`/health`'s) is kept."""
    schemas = [media.get("schema") for media in response.get("content", {}).values()]
    refs = {schema.get("$ref") for schema in schemas if schema}
    return refs <= {PROBLEM_REF, "#/components/schemas/HTTPValidationError"}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document as the API answers: each operation lists, besides what its route
    declares (`responses=`: 403, 404, 409, ...), the statuses every operation, a protected
    one and one with a body may answer (`refusals_of`); every error answer is a `Problem`, in
    place of FastAPI's own validation-error schema (which these handlers never send), unless a
    route declares a model of its own (`/health`'s 503)."""
    info = schema.setdefault("info", {})
    info["description"] = f"{info.get('description') or ''}\n\n{RULES}".strip()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in refusals_of(operation):
                responses.setdefault(str(status), {})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and _is_problem(response):
                    response["content"] = {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
                    # FastAPI's default words ("Validation Error", "Not Found") say less.
                    code = int(status)
                    if response.get("description") in {None, "", "Validation Error", _titled(code)}:
                        response["description"] = MEANINGS.get(code, _titled(code))
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


#: The methods a route may answer to; a 405 lists those the path has (`Allow`).
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this request's path (RFC 9110 15.5.6: a 405 lists
    them all, not only those of the first route that matched the path)."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def install(app: FastAPI) -> None:
    """Register the handlers that give every error answer the one body, and document it."""
    openapi = app.openapi

    def documented_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(openapi())
        return app.openapi_schema

    app.openapi = documented_openapi  # type: ignore[method-assign]

    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> JSONResponse:
        return answer(exc.problem(reader_locale(request)))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        if isinstance(exc.body, bytes | bytearray) and any(
            error.get("loc", ())[:1] == ("body",) for error in exc.errors()
        ):
            # FastAPI hands the body over unread when its media type is not JSON.
            return answer(
                Problem(
                    type="about:blank",
                    title=_titled(415),
                    status=415,
                    detail="send the body as application/json",
                )
            )
        errors = field_errors(exc.errors())
        fields = ", ".join(dict.fromkeys(e.field or ".".join(map(str, e.loc)) for e in errors))
        problem = Problem(
            type="invalid",
            title=_titled(422),
            status=422,
            detail=f"invalid input: {fields}" if fields else "invalid input",
            errors=errors,
        )
        return answer(problem)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        problem = Problem(
            type="not-found" if exc.status_code == 404 else "about:blank",
            title=_titled(exc.status_code),
            status=exc.status_code,
            detail=str(exc.detail),
        )
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return answer(problem, headers=headers or None)
