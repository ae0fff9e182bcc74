"""Roles, and the API models of users and tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from twinning.streams.events import printable


class Role(StrEnum):
    """What a user may do; each role includes the ones before it."""

    viewer = "viewer"  # reads, without personal data
    staff = "staff"  # every command, and personal data
    admin = "admin"  # manages users and tokens too

    def includes(self, other: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(other)


UserName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9._@-]*$"),
    Field(
        description="Login-style name; recorded as `user:<name>` in every event this user causes."
    ),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: UserName
    role: Role = Role.viewer


class UserUpdate(BaseModel):
    """Change a user's role or (de)activate them; a deactivated user's tokens stop working."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: Role
    active: bool
    created_at: datetime
    created_by: str


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[str, StringConstraints(max_length=200), AfterValidator(printable)] | None = (
        Field(
            default=None, description="What the token is for, e.g. the machine or script using it."
        )
    )


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    label: str | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class TokenIssued(TokenRead):
    token: str = Field(description="The bearer token. Shown this once; only its hash is stored.")


class Me(BaseModel):
    """Who the presented token belongs to."""

    name: str
    role: Role
    token_id: str | None
