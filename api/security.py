"""HTTP defaults that keep people out: a request-body cap, security headers on every response,
and CORS only for the origins the settings name (none by default)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from twinning.api.problems import MEDIA_TYPE, encoded
from twinning.config import Settings
from twinning.refusals import FieldError, Problem

SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"content-security-policy": b"frame-ancestors 'none'",
    b"referrer-policy": b"no-referrer",
}


class BodySizeLimit:
    """Answer 413 to a request whose body is larger than `max_bytes`, counted on the stream
    itself (a chunked upload has no Content-Length to trust).

    The body is read here, before the application runs, and handed on in one piece: FastAPI
    would buffer it anyway, and a refusal sent before the application has read anything
    cannot be lost in a half-handled request.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if not declared and b"transfer-encoding" not in headers:
            # No body at all (RFC 9112 6.3: a request without either header has none): nothing
            # to count, nor to read ahead of the application.
            await self.app(scope, receive, send)
            return
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(self, send: Send) -> None:
        body = encoded(
            Problem(
                type="about:blank",
                title="Content Too Large",
                status=413,
                detail=f"request body too large: the limit is {self.max_bytes} bytes",
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RefuseNul:
    """Answer 422 to a request whose path or query holds a NUL character: no field may hold
    one, and PostgreSQL cannot even compare with it (it would fail the query, a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = unquote_to_bytes(scope.get("query_string", b""))
            where = (
                "path" if "\x00" in scope.get("path", "") else "query" if b"\x00" in query else None
            )
            if where is not None:
                body = encoded(
                    Problem(
                        type="invalid",
                        title="Unprocessable Content",
                        status=422,
                        detail=f"the {where} holds a NUL character, which no field may hold",
                        errors=[
                            FieldError(
                                loc=[where], field="", msg="NUL is not allowed", type="value_error"
                            )
                        ],
                    )
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 422,
                        "headers": [
                            (b"content-type", MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out `messages` first, then whatever the server says next."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class SecurityHeaders:
    """Adds the headers of SECURITY_HEADERS to every response that does not set its own, and
    `Cache-Control: no-store` to answers to authenticated requests, so that no shared cache
    or browser history keeps what a token was allowed to see."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = dict(SECURITY_HEADERS)
        if any(name == b"authorization" for name, _ in scope["headers"]):
            defaults[b"cache-control"] = b"no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((name, value) for name, value in defaults.items() if name not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """Wrap `app` in the middleware above. The last added runs first: security headers
    outermost (every answer gets them, a 413 too), then CORS, then the body cap."""
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RefuseNul)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Location"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
