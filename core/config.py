"""Settings of every twinning process, read once from `TWINNING_*` variables or `.env`."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

EMBEDDED = "embedded"


class BrokerNotRunning(RuntimeError):
    """The settings ask for the embedded broker, but none has been started for this data dir."""


#: Placeholders until an office sets TWINNING_OFFICE_NAME and TWINNING_OFFICE_ADDRESS.
PLACEHOLDER_OFFICE_NAME = {
    "zh-TW": "市政府國際事務辦公室",
    "en": "International Affairs Office, City Government",
    "ja": "市役所 国際交流室",
    "ko": "시청 국제교류실",
    "es": "Oficina de Asuntos Internacionales del Ayuntamiento",
}
PLACEHOLDER_OFFICE_ADDRESS = {"en": "City Hall, 1 Example Road", "zh-TW": "市政府（範例路 1 號）"}

#: Days before an invitation's answer-by date that a reminder goes (TWINNING_MAIL_REMINDER_DAYS).
ReminderDay = Annotated[int, Field(ge=0, le=366)]


#: The order of the usual titles of a Taiwanese city government and of a visiting delegation,
#: among people of the same protocol rank (TWINNING_PRECEDENCE_TITLES replaces it).
DEFAULT_PRECEDENCE_TITLES: dict[str, int] = {
    "市長": 1,
    "Mayor": 1,
    "副市長": 2,
    "Deputy Mayor": 2,
    "議長": 3,
    "Speaker": 3,
    "秘書長": 4,
    "Secretary-General": 4,
    "副秘書長": 5,
    "Deputy Secretary-General": 5,
    "局長": 6,
    "Director-General": 6,
    "處長": 7,
    "Director": 7,
    "主任": 8,
    "Head": 8,
}


@cache
def known_timezones() -> frozenset[str]:
    """Every IANA time zone name this machine knows (read once: listing them walks the tz
    database's files, some 50 ms, and settings are validated at every start of every command).
    "localtime", the host's own zone on some machines, is not one."""
    return frozenset(available_timezones()) - {"localtime"}


class Settings(BaseSettings):
    # Errors name the setting and the reason but never echo its value: some values are secrets.
    model_config = SettingsConfigDict(
        env_prefix="TWINNING_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Field(
        default=Path(".twinning"),
        description="Where the SQLite database, worker state and the embedded broker's address live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (sqlite:///... or postgresql://...); default: SQLite in data_dir.",
    )
    broker: str = Field(
        default=EMBEDDED,
        description="`embedded`, or a comma-separated Kafka bootstrap list (host:port,...).",
    )
    api_host: str = "127.0.0.1"
    api_port: Annotated[int, Field(ge=0, le=65535)] = 8000
    public_url: str | None = Field(
        default=None,
        description="Base URL users reach the API at; default http://api_host:api_port.",
    )
    topic_partitions: Annotated[int, Field(ge=1, le=1000)] = 6
    topic_replication: Annotated[int, Field(ge=1, le=10)] = 1
    consumer_group: str = "twinning"
    relay_poll_interval: Annotated[float, Field(gt=0, le=60)] = Field(
        default=1.0,
        description="Seconds the relay sleeps when idle and nobody in its process wakes it.",
    )
    feed_check_interval: Annotated[float, Field(ge=0, le=60)] = Field(
        default=0.02,
        description="Seconds an API process answers a calendar feed (and its 304s) from memory "
        "before it looks at the database again: a change shows in the feed after at most this "
        "long, and no later than the first request after its commit (SQLite's change counter, "
        "PostgreSQL's notifications) (0: a look at every request).",
    )
    redeliver_after: Annotated[float, Field(gt=0)] = Field(
        default=30.0,
        description="Seconds after which the relay publishes again an event that no worker applied.",
    )
    fetch_max_wait_ms: Annotated[int, Field(ge=1, le=30000)] = Field(
        default=10,
        description="How long a worker's fetch waits for data while events come; short, because "
        "the embedded broker does not answer early when data arrives (Kafka does, so it costs "
        "only idle polls there).",
    )
    fetch_idle_wait_ms: Annotated[int, Field(ge=1, le=30000)] = Field(
        default=100,
        description="How long a worker's fetch waits for data once 100 fetches in a row (a second "
        "at the short wait) brought none (back to `fetch_max_wait_ms` as soon as one brings "
        "some): an idle worker polls the embedded broker ten times a second instead of a "
        "hundred, and the first event after a quiet spell may wait up to this long.",
    )
    park_timeout: Annotated[float, Field(gt=0)] = Field(
        default=3600.0,
        description="Seconds an event waits for the aggregate it refers to before it is dead-lettered.",
    )
    render_documents: bool = Field(
        default=True,
        description=(
            "Whether this worker renders the leaflets, brochures and briefing books (false: it"
            " only projects; another worker of the group, or a later start, renders them)."
        ),
    )
    heartbeat_interval: Annotated[float, Field(gt=0, le=60)] = Field(
        default=2.0,
        description="Seconds between a worker's heartbeats (what /health reads).",
    )
    heartbeat_timeout: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=15.0,
        description="/health reports the worker down (503, degraded) when no worker has sent a "
        "heartbeat for this many seconds.",
    )
    rebalance_timeout: Annotated[float, Field(gt=0)] = Field(
        default=3.0,
        description="Kafka consumer-group rebalance timeout (s); short for one machine.",
    )
    session_timeout: Annotated[float | None, Field(ge=1, le=300)] = Field(
        default=None,
        description="Seconds without a heartbeat after which the broker drops a worker from "
        "its consumer group (default: twice the rebalance timeout, at least 6). The embedded "
        "broker also waits about half of it for more workers when a group forms: `twinning up` "
        "on the embedded broker, with its one worker, uses 1.5 (joined in about 1 s).",
    )
    dormant_after_months: Annotated[int, Field(ge=1, le=600)] = Field(
        default=18,
        description="An active partner with no exchange for this many months is flagged dormant.",
    )
    office_timezone: str = Field(
        default="UTC",
        description="The office's IANA time zone (e.g. `Asia/Taipei`): the web app shows when "
        "things happened, and what day it is, on its clock.",
    )
    office_name: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: dict(PLACEHOLDER_OFFICE_NAME),
        description="The office's public name on leaflets and brochures: JSON keyed by language "
        '(`{"zh-TW": "...", "en": "..."}`) or one plain text for every language.',
    )
    office_address: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: dict(PLACEHOLDER_OFFICE_ADDRESS),
        description="The office's postal address on leaflets and brochures (like office_name).",
    )
    office_email: str = Field(
        default="international-affairs@city.example",
        max_length=254,
        description="The office's public email address on leaflets and brochures.",
    )
    office_phone: str = Field(
        default="+1 555 0100",
        max_length=40,
        description="The office's public telephone number on leaflets and brochures.",
    )
    office_location: Annotated[tuple[float, float] | None, NoDecode] = Field(
        default=None,
        description="The city's latitude,longitude (e.g. `24.99,121.30`): marks it on the "
        "partner map of the leaflet.",
    )
    office_city: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="The city's name on the maps of leaflets and brochures (like office_name; "
        "the office's name when not set).",
    )
    backup_interval_hours: Annotated[float, Field(ge=0, le=24 * 366)] = Field(
        default=24.0,
        description="`twinning up` takes a backup into `<data_dir>/backups/` this often (hours, "
        "counted from the newest backup there); 0 turns the schedule off.",
    )
    backup_keep: Annotated[int, Field(ge=1, le=10000)] = Field(
        default=7,
        description="How many backups `<data_dir>/backups/` keeps; older ones are removed after "
        "each scheduled backup.",
    )
    log_level: str = "info"
    bootstrap_token: SecretStr | None = Field(
        default=None,
        description="API token of the first admin, stored (hashed) when no admin exists yet; "
        "at least 32 characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins that browsers may call the API from; none by default.",
    )
    max_body_bytes: Annotated[int, Field(ge=1024)] = Field(
        default=1024 * 1024, description="Largest request body accepted; larger ones get 413."
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs the web app's session cookies; by default a random key kept in "
        "`<data_dir>/session.key` (made on first use), shared by every process of the system.",
    )
    session_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = Field(
        default=60, description="A web session that sees no request for this long signs out."
    )
    # --- the one schedule: interpreters' travel between places, the office's languages
    interpreter_travel_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = Field(
        default=30,
        description="The time an interpreter needs between two bookings at different places.",
    )
    venue_travel_minutes: dict[str, Annotated[int, Field(ge=0, le=24 * 60)]] = Field(
        default_factory=dict,
        description="Travel times between pairs of venues, in either direction, as JSON: "
        '`{"<venue id>/<venue id>": 15}`; other pairs take interpreter_travel_minutes.',
    )
    office_languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["zh-TW"],
        description="Comma-separated languages the office's own people speak, the first its "
        "own: an item needs interpreting between it and each other language of a delegation.",
    )
    gift_approval_threshold: Annotated[Decimal, Field(ge=0)] = Field(
        default=Decimal(3000),
        description="A gift worth more than this (in TWINNING_GIFT_APPROVAL_CURRENCY) needs an "
        "approval, recorded in the gifts register.",
    )
    gift_approval_currency: str = Field(
        default="TWD", description="The currency of the gift approval threshold (ISO 4217)."
    )
    gift_rates: dict[str, Annotated[Decimal, Field(gt=0)]] = Field(
        default_factory=dict,
        description="JSON: what one unit of a currency is worth in the threshold's currency "
        '({"JPY": 0.21, "USD": 32}); a gift in a currency without a rate needs an approval.',
    )
    gift_photo_max_bytes: Annotated[int, Field(ge=10_000, le=10_000_000)] = Field(
        default=800_000, description="The largest photo of a gift accepted, in bytes."
    )
    # --- photos for the leaflet and the brochures (publicity/photos.py)
    photo_max_bytes: Annotated[int, Field(ge=10_000, le=30_000_000)] = Field(
        default=8_000_000,
        description="The largest photo upload accepted for the leaflet and the brochures, in"
        " bytes (it is kept resized to 2400 pixels on its long edge).",
    )

    # --- precedence: the order lists of people follow (visits/precedence.py)
    precedence_titles: dict[str, Annotated[int, Field(ge=1, le=999)]] = Field(
        default_factory=lambda: dict(DEFAULT_PRECEDENCE_TITLES),
        description="JSON: titles, in any language, and their order among people of the same "
        'protocol rank, 1 first (`{"市長": 1, "Mayor": 1, "副市長": 2}`); a title not listed '
        "comes after every listed one.",
    )

    @field_validator("office_name", "office_address", "office_city", mode="before")
    @classmethod
    def _multilingual(cls, value: object) -> object:
        """JSON keyed by language, or one plain text (then shown in every language)."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("{") else {"und": text}
        return value

    @field_validator("office_location", mode="before")
    @classmethod
    def _latitude_longitude(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",")) if value.strip() else None
        return value

    @field_validator("office_location")
    @classmethod
    def _on_earth(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (-90 <= value[0] <= 90 and -180 <= value[1] <= 180):
            raise ValueError("must be latitude,longitude in degrees (-90..90, -180..180)")
        return value

    @field_validator("broker")
    @classmethod
    def _broker_is_embedded_or_list(cls, value: str) -> str:
        value = value.strip()
        if value != EMBEDDED and not all(":" in part for part in value.split(",")):
            raise ValueError("must be 'embedded' or a list of host:port separated by commas")
        return value

    # --- outgoing mail (twinning.mail) ---
    smtp_host: str | None = Field(
        default=None,
        description="The SMTP server that sends the office's mail; unset, messages are written "
        "as .eml files into the Maildir `<data_dir>/mail/` instead (nothing leaves the machine).",
    )
    smtp_port: Annotated[int, Field(ge=0, le=65535)] | None = Field(
        default=None, description="The SMTP server's port; default 587 (STARTTLS), 465 (TLS), 25."
    )
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="`starttls` (upgrade a plain connection), `tls` (implicit TLS) or `none`.",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="A PEM file of the certificate authorities to trust for the SMTP server's "
        "certificate (a city's own CA); unset, the system's.",
    )
    smtp_username: str | None = Field(default=None, description="SMTP sign-in name, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password, if any.")
    mail_from: str = Field(
        default="international-affairs@city.example",
        max_length=254,
        description="The From address of the office's mail (e.g. `Office <intl@city.gov>`).",
    )
    mail_reminder_days: Annotated[tuple[ReminderDay, ...], NoDecode] = Field(
        default=(7, 2),
        description="Reminders go to invitees who have not answered this many days before the "
        "answer-by date, once per step: comma-separated (`7,2`; empty for none).",
    )
    notice_window_hours: Annotated[int, Field(ge=1, le=720)] = Field(
        default=48,
        description="An official is mailed a notice when an item, city event or trip leg of "
        "theirs changes or is cancelled this many hours or fewer before it starts.",
    )
    visit_form_per_hour: Annotated[int, Field(ge=1, le=10000)] = Field(
        default=5,
        description="Visit requests the public form takes in an hour from one network address, "
        "and as many for one contact email address.",
    )
    mail_poll_interval: Annotated[float, Field(gt=0, le=60)] = Field(
        default=1.0, description="Seconds the mailer waits between looks for mail to send."
    )

    @field_validator("office_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in known_timezones():
            raise ValueError(f"not an IANA time zone: {value!r} (e.g. Asia/Taipei, Europe/Madrid)")
        return value

    @field_validator("mail_reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(day) for day in value.split(",") if day.strip())
        return value

    @field_validator("bootstrap_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        # Compose passes `${TWINNING_BOOTSTRAP_TOKEN:-}` through as an empty string.
        return None if value == "" else value

    @field_validator("bootstrap_token")
    @classmethod
    def _bootstrap_token_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (a random secret, not a password)")
        return value

    @field_validator("office_languages", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        if isinstance(value, str):
            return [language.strip() for language in value.split(",") if language.strip()]
        return value

    @field_validator("venue_travel_minutes")
    @classmethod
    def _venue_pairs(cls, value: dict[str, int]) -> dict[str, int]:
        for pair in value:
            if len([part for part in pair.split("/", 1) if part.strip()]) != 2:
                raise ValueError("each key names two venue ids separated by /")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @cached_property
    def sync_database_url(self) -> URL:
        """The database URL for blocking code (migrations, relay, CLI)."""
        url = make_url(self.database_url or f"sqlite:///{self.data_dir.resolve() / 'twinning.db'}")
        if url.get_backend_name() == "postgresql":
            return url.set(drivername="postgresql+psycopg")
        if url.get_backend_name() == "sqlite":
            return url.set(drivername="sqlite+pysqlite")
        raise ValueError(
            f"unsupported database {url.get_backend_name()!r}: use SQLite or PostgreSQL"
        )

    @cached_property
    def async_database_url(self) -> URL:
        """The same database for the event loop (API and worker)."""
        url = self.sync_database_url
        driver = (
            "postgresql+asyncpg" if url.get_backend_name() == "postgresql" else "sqlite+aiosqlite"
        )
        return url.set(drivername=driver)

    @property
    def broker_address_file(self) -> Path:
        return self.data_dir / "broker.json"

    def bootstrap_servers(self) -> list[str]:
        """The Kafka bootstrap list; for `embedded`, the address the running embedded broker wrote."""
        if self.broker != EMBEDDED:
            return [part.strip() for part in self.broker.split(",")]
        try:
            return list(json.loads(self.broker_address_file.read_text())["bootstrap_servers"])
        except FileNotFoundError:
            raise BrokerNotRunning(
                f"TWINNING_BROKER=embedded but no embedded broker is running for {self.data_dir}: "
                "start one with `twinning broker` (or use `twinning up`), "
                "or set TWINNING_BROKER to a Kafka bootstrap list"
            ) from None

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")
