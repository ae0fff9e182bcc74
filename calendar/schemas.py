"""API models of the feed links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from twinning.i18n import DEFAULT_LOCALE, resolve, supported_locales
from twinning.streams.events import EntityId, Name


def _supported(value: str) -> str:
    locale = resolve(value)
    if locale is None:
        raise ValueError(f"unsupported language (supported: {', '.join(supported_locales())})")
    return locale


FeedLanguage = Annotated[str, Field(max_length=35), AfterValidator(_supported)]


class FeedAudienceIn(BaseModel):
    """Whose private feed: the whole office's, one official's, or one interpreter's."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["office", "official", "interpreter"]
    official_id: EntityId | None = None
    interpreter_id: EntityId | None = None

    @model_validator(mode="after")
    def _official_named(self) -> FeedAudienceIn:
        if (self.kind == "official") != (self.official_id is not None):
            raise ValueError("official_id is required for an official's feed, and only then")
        if (self.kind == "interpreter") != (self.interpreter_id is not None):
            raise ValueError("interpreter_id is required for an interpreter's feed, and only then")
        return self

    @property
    def key(self) -> str:
        if self.kind == "interpreter":
            return f"interpreter:{self.interpreter_id}"
        return "office" if self.kind == "office" else f"official:{self.official_id}"


class FeedLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audience: FeedAudienceIn
    language: FeedLanguage = Field(
        default=DEFAULT_LOCALE,
        description="The feed's language when the URL has no `?lang=` (zh-TW, en, ja, ko, es).",
    )
    label: Name | None = Field(default=None, description="What the link is for, for staff.")


class FeedLinkRead(BaseModel):
    """A feed link without its secret (only its first characters, to tell links apart)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    audience: str
    language: str
    label: str | None
    token_prefix: str
    created_at: datetime
    created_by: str
    rotated_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


class FeedLinkIssued(FeedLinkRead):
    """A link with its secret URL, shown once (when created or rotated): only a hash is kept.
    `webcal` opens a subscription in Apple Calendar and Outlook; change `?lang=` for another
    language."""

    url: str
    webcal: str
