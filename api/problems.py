"""Every error answer in one shape (`twinning.refusals.Problem`), from handlers installed once.

- a domain `Refusal` (404, 409, 422) is read in the caller's language (`?lang=`, else
  Accept-Language, else English);
- FastAPI's validation errors become 422 with one `errors` entry per field; the value sent is
  never echoed back (it may be personal data, or text that cannot even be encoded);
- the HTTP errors of routing, authentication and roles (401, 403, 404, 405, 503) keep their
  status, headers and message.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
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


def unavailable(detail: str) -> Problem:
    """503: something the answer needs is down or behind; nothing was changed."""
    return Problem(type="about:blank", title=_titled(503), status=503, detail=detail)


def _titled(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


PROBLEM_REF = "#/components/schemas/Problem"


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with every error answer described as a `Problem`, in place of
    FastAPI's own validation-error schema (which these handlers never send)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    response["content"] = {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


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
    async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        problem = Problem(
            type="not-found" if exc.status_code == 404 else "about:blank",
            title=_titled(exc.status_code),
            status=exc.status_code,
            detail=str(exc.detail),
        )
        return answer(problem, headers=dict(exc.headers) if exc.headers else None)
