"""What a command or query refuses, in one vocabulary shared by every domain and every page.

A domain service raises one of these; the API turns it into HTTP with the handlers installed
once on the app (`twinning.api.problems`), and a web page can show the same refusal next to
the field or the conflicting items it names. Each carries its message as a catalog entry with
named placeholders, so that it is read in the reader's language:

- `NotFound` (404): an id that names nothing (`kind` and the `ids`);
- `Conflict` (409): the command does not fit the current state (`current_state`), or it
  collides with other records (`conflicts`, each with its kind, id and link);
- `InvalidField` (422): a well-formed value that the current state makes wrong (an end before
  the stored start, an unknown venue), naming the field.

Every refusal becomes one body, `Problem` (RFC 9457 problem details): `type`, `title`,
`status`, `detail` (the message), and `errors`, `current_state` or `conflicts` as they apply.
FastAPI's own validation errors and the HTTP errors of authentication take the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from babel.support import LazyProxy
from pydantic import BaseModel, ConfigDict, Field
from twinning.i18n import L_, force_locale, gettext

# --- the body -------------------------------------------------------------------------------


class FieldError(BaseModel):
    """One field of a refused request and what is wrong with it."""

    loc: list[str | int] = Field(
        description="Where the field is: `body`, `query`, `path` or `header`, then its path."
    )
    field: str = Field(description="The field's path in dots (`delegation.partner_id`).")
    msg: str = Field(description="What is wrong, for the person who filled it in.")
    type: str = Field(description="A machine-readable kind of error (`missing`, `value_error`).")


class ConflictingItem(BaseModel):
    """A record that the refused command collides with (a booking of the same hall, an
    invitation already sent). Besides `kind`, `id` and `href`, the facts that make it collide
    (e.g. `starts_at`, `ends_at`, `venue_id`, `official_id` of a booking)."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(description="What the record is: `itinerary-item`, `invitation`, ...")
    id: str
    href: str | None = Field(default=None, description="Where the record is read.")


class Problem(BaseModel):
    """Every error answer (RFC 9457 problem details, `application/problem+json`)."""

    type: str = Field(
        description="`not-found`, `conflict`, `invalid`, or `about:blank` for other statuses."
    )
    title: str = Field(description="The status in words.")
    status: int
    detail: str = Field(description="What happened, in the reader's language where it can be.")
    kind: str | None = Field(default=None, description="404: the kind of record not found.")
    ids: list[str] | None = Field(default=None, description="404: the ids not found.")
    errors: list[FieldError] | None = Field(default=None, description="422: each field and why.")
    current_state: str | None = Field(
        default=None, description="409: the state that does not allow the command."
    )
    conflicts: list[ConflictingItem] | None = Field(
        default=None, description="409: the records the command collides with."
    )


# --- the refusals ---------------------------------------------------------------------------

#: The kinds of record a refusal names, singular and plural, in the reader's language.
KINDS: Mapping[str, tuple[LazyProxy, LazyProxy]] = {
    "partner city": (L_("partner city"), L_("partner cities")),
    "foreign mission": (L_("foreign mission"), L_("foreign missions")),
    "contact": (L_("contact"), L_("contacts")),
    "exchange": (L_("exchange"), L_("exchanges")),
    "official": (L_("official"), L_("officials")),
    "venue": (L_("venue"), L_("venues")),
    "visit": (L_("visit"), L_("visits")),
    "itinerary item": (L_("itinerary item"), L_("itinerary items")),
    "trip": (L_("trip"), L_("trips")),
    "city event": (L_("city event"), L_("city events")),
    "interpreter": (L_("interpreter"), L_("interpreters")),
    "invitation": (L_("invitation"), L_("invitations")),
    "user": (L_("user"), L_("users")),
    "token": (L_("token"), L_("tokens")),
    "event": (L_("event"), L_("events")),
    "feed link": (L_("feed link"), L_("feed links")),
    "plan": (L_("plan"), L_("plans")),
    "work item": (L_("work item"), L_("work items")),
    "KPI": (L_("KPI"), L_("KPIs")),
    "gift": (L_("gift"), L_("gifts")),
    "gift photo": (L_("gift photo"), L_("gift photos")),
    "press item": (L_("press item"), L_("press items")),
    "city profile": (L_("city profile"), L_("city profiles")),
    "delegation member": (L_("delegation member"), L_("delegation members")),
    "letter template": (L_("letter template"), L_("letter templates")),
}


#: The states a conflict names (`current_state`, and the step it refused), in the reader's words.
STATES: Mapping[str, LazyProxy] = {
    "requested": L_("requested"),
    "approved": L_("approved"),
    "declined": L_("declined"),
    "scheduled": L_("scheduled"),
    "completed": L_("completed"),
    "cancelled": L_("cancelled"),
    "planned": L_("planned"),
    "invited": L_("invited"),
    "withdrawn": L_("withdrawn"),
    "removed": L_("removed"),
    "started": L_("started"),
    "deactivated": L_("deactivated"),
    "revoked": L_("revoked"),
}
#: The placeholders that hold a state, shown through `STATES`.
STATE_PARAMS = frozenset({"state", "target"})


def N_(message: str) -> str:
    """Mark `message` for the catalogs; it is translated when shown (gettext's `gettext_noop`)."""
    return message


def kind_name(kind: str, *, plural: bool = False) -> str:
    """A kind of record in the current locale (the key itself for a kind not listed)."""
    names = KINDS.get(kind)
    return str(names[plural]) if names is not None else kind


class Refusal(Exception):
    """A command or query that cannot be carried out. `message` is a catalog entry (English,
    with `%(name)s` placeholders filled from `params`); `text()` reads it in a locale."""

    status: ClassVar[int]
    type: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, message: str, /, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        """In English, for logs, dead-letter reasons and the CLI (read when asked for)."""
        return self.text("en")

    def text(self, locale: str | None = None) -> str:
        """The message in `locale` (the current locale when None)."""
        if locale is None:
            return self._render()
        with force_locale(locale):
            return self._render()

    def _render(self) -> str:
        params = {key: _readable(key, value) for key, value in self.params.items()}
        return gettext(self.message, **params)

    def problem(self, locale: str | None = None) -> Problem:
        """The body of the answer, in `locale`."""
        if locale is None:
            return self._problem()
        with force_locale(locale):
            return self._problem()

    def _problem(self) -> Problem:
        return Problem(type=self.type, title=self.title, status=self.status, detail=self._render())


def _readable(key: str, value: object) -> object:
    """A placeholder's value as the reader sees it: states in their words, lists joined."""
    if key in STATE_PARAMS and str(value) in STATES:
        return str(STATES[str(value)])
    if isinstance(value, LazyProxy):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return value


class NotFound(Refusal):
    """No record of `kind` has this id (or these ids)."""

    status = 404
    type = "not-found"
    title = "Not Found"

    def __init__(self, kind: str, *ids: str, plural: bool = False) -> None:
        """`plural`: name the kind in the plural even for one id (a list that was checked)."""
        self.kind = kind
        self.ids = list(dict.fromkeys(ids))
        self.plural = plural or len(self.ids) != 1
        if not self.plural:
            super().__init__(N_("%(kind)s %(id)s not found"), kind=kind, id=self.ids[0])
        else:
            super().__init__(N_("%(kinds)s not found: %(ids)s"), kinds=kind, ids=self.ids)

    def _render(self) -> str:
        if not self.plural:
            return gettext(self.message, kind=kind_name(self.kind), id=self.ids[0])
        return gettext(
            self.message, kinds=kind_name(self.kind, plural=True), ids=", ".join(self.ids)
        )

    def _problem(self) -> Problem:
        problem = super()._problem()
        return problem.model_copy(update={"kind": self.kind, "ids": self.ids})


class Conflict(Refusal):
    """The command does not fit the current state (`current_state`) or collides with other
    records (`conflicts`); the message says which and what to do."""

    status = 409
    type = "conflict"
    title = "Conflict"

    def __init__(
        self,
        message: str,
        /,
        *,
        current_state: str | None = None,
        conflicts: Sequence[ConflictingItem] = (),
        **params: object,
    ) -> None:
        self.current_state = current_state
        self.conflicts = list(conflicts)
        super().__init__(message, **params)

    def _problem(self) -> Problem:
        problem = super()._problem()
        return problem.model_copy(
            update={
                "current_state": self.current_state,
                "conflicts": self.conflicts if self.conflicts else None,
            }
        )


class InvalidField(Refusal):
    """A value that is well formed but wrong given the current state; `loc` is its path in the
    request body (`("delegation", "partner_id")`)."""

    status = 422
    type = "invalid"
    title = "Unprocessable Content"

    def __init__(self, loc: str | Sequence[str | int], message: str, /, **params: object) -> None:
        self.loc = [loc] if isinstance(loc, str) else list(loc)
        super().__init__(message, **params)

    def field_error(self) -> FieldError:
        return FieldError(
            loc=["body", *self.loc],
            field=".".join(map(str, self.loc)),
            msg=self._render(),
            type="value_error",
        )

    def _problem(self) -> Problem:
        problem = super()._problem()
        return problem.model_copy(update={"errors": [self.field_error()]})


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """What a route that can refuse documents (`responses=`); the API's OpenAPI document
    describes each of them as a `Problem` (`twinning.api.problems.document`)."""
    return {status: {"model": Problem} for status in statuses}
