"""The web app's sign-in session: a signed cookie, its CSRF token, its idle expiry, and the
slowing down of failed sign-ins.

The cookie holds the user's id, a random CSRF token and when the session was last seen,
signed with the settings' `session_secret` (else a key kept in the data directory, shared by
every process of the system). It is HttpOnly, SameSite=Lax, and Secure when the app is served
over https. Every state-changing form carries the CSRF token; a post without it, or with
another session's, is refused (403). A session unseen for `session_idle_minutes` is over.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response
from twinning.config import Settings

COOKIE = "twinning_session"
LANGUAGE_COOKIE = "twinning_lang"


def session_key(settings: Settings) -> str:
    """The key that signs session cookies: the configured one, else the data directory's own
    (made once, readable by its owner only)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path: Path = settings.data_dir / "session.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # the first process to get here makes it; the others read it
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True)
class Session:
    user_id: str
    csrf: str
    seen: float


class Sessions:
    """Reads and writes the session cookie of a request."""

    def __init__(
        self, key: str, *, idle_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._serializer = URLSafeSerializer(key, salt="twinning.web.session")
        self.idle_seconds = idle_seconds
        self.clock = clock

    def read(self, request: Request) -> Session | None:
        """The request's session, if its cookie is genuine and not idle for too long."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw)
            session = Session(str(data["u"]), str(data["c"]), float(data["s"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if self.clock() - session.seen > self.idle_seconds:
            return None
        return session

    def write(self, request: Request, response: Response, session: Session) -> None:
        """Set (or refresh) the session cookie on `response`."""
        value = self._serializer.dumps({"u": session.user_id, "c": session.csrf, "s": self.clock()})
        response.set_cookie(
            COOKIE,
            value,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )

    def start(self, request: Request, response: Response, user_id: str) -> Session:
        session = Session(user_id, secrets.token_urlsafe(24), self.clock())
        self.write(request, response, session)
        return session

    @staticmethod
    def end(response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")


def csrf_matches(session: Session | None, sent: str | None) -> bool:
    return session is not None and sent is not None and hmac.compare_digest(session.csrf, sent)


class SignInThrottle:
    """Failed sign-ins slow down further tries, per user name and per address: after
    `free` failures in a row, each next try must wait twice as long as the one before
    (`first_wait` seconds, then twice that... at most `longest`). A try made too early is
    refused without counting. A successful sign-in clears the name's count."""

    def __init__(
        self,
        *,
        free: int = 3,
        first_wait: float = 1.0,
        longest: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.first_wait = first_wait
        self.longest = longest
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (failures, last failure)

    def wait(self, *keys: str) -> float:
        """Seconds to wait before any of `keys` may try again (0: now)."""
        now = self.clock()
        waits = [0.0]
        for key in keys:
            failures, last = self._failures.get(key, (0, now))
            if failures >= self.free:
                delay = min(self.first_wait * 2.0 ** (failures - self.free), self.longest)
                waits.append(last + delay - now)
        return max(waits)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            failures, _ = self._failures.get(key, (0, now))
            self._failures[key] = (failures + 1, now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
