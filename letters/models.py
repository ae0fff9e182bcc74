"""The letter templates staff saved: one row per saved version of a kind's template in a
language, never changed afterwards (version 0, the shipped text, is not stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, UTCDateTime


class LetterTemplateVersion(Base):
    __tablename__ = "letter_template_versions"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    #: 1, 2, 3... per kind and language; a second save from the same version collides here.
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
