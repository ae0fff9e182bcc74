"""What the letters module takes and gives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from twinning.letters.render import BODY_MAX, SUBJECT_MAX


class LetterKind(StrEnum):
    INVITATION = "invitation"
    VISA_SUPPORT = "visa-support"
    THANK_YOU = "thank-you"


class TemplateSave(BaseModel):
    """A new version of a template: its subject line and its body (an empty line between
    paragraphs), with placeholders such as `{{ partner }}`."""

    model_config = ConfigDict(extra="forbid")

    subject: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SUBJECT_MAX)
    ]
    body: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=BODY_MAX)
    ]
    based_on: Annotated[int, Field(ge=0, description="The version the edit started from.")]


class TemplateVersionRead(BaseModel):
    kind: LetterKind
    locale: str
    number: int = Field(description="0 is the text the system shipped with.")
    subject: str
    body: str
    saved_by: str | None
    saved_at: datetime | None
