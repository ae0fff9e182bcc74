"""Every event contract of twinning, and the topics they travel on.

Other systems may produce these events straight onto the topics; the JSON Schema of each
one is generated into `streams/schemas/` (`twinning schemas`) so that they can validate
what they send. An event is JSON: the envelope below with a typed `payload`.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

# --- topics -----------------------------------------------------------------------------

PARTNERS = "twinning.partners"
VISITS = "twinning.visits"
INVITATIONS = "twinning.invitations"
EXCHANGES = "twinning.exchanges"
DEAD_LETTERS = "twinning.dead-letters"

EVENT_TOPICS = (PARTNERS, VISITS, INVITATIONS, EXCHANGES)
ALL_TOPICS = (*EVENT_TOPICS, DEAD_LETTERS)


# --- shared value types -----------------------------------------------------------------

_TIMEZONES = frozenset(available_timezones())


def _known_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError(f"unknown IANA time zone {value!r}")
    return value


def _language_tag(value: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value, sep="-")
    except (ValueError, UnknownLocaleError):
        raise ValueError(f"unknown language tag {value!r}") from None
    return value


# CLDR names these two-letter regions, but they are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "ZZ"})


def _country_code(value: str) -> str:
    from babel import Locale

    if value not in Locale("en").territories or not value.isalpha() or value in _NOT_COUNTRIES:
        raise ValueError(f"unknown ISO 3166 country code {value!r}")
    return value


def _printable(value: str) -> str:
    """User text may hold line breaks and tabs, never other control characters (NUL, ESC...)."""
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_printable),
]
LanguageTag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=35),
    AfterValidator(_language_tag),
]
CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(_country_code),
]
TimeZoneName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_known_timezone)
]


def _names_not_empty(value: dict[str, str]) -> dict[str, str]:
    if not value:
        raise ValueError("at least one language is required")
    return value


MultilingualText = Annotated[
    dict[LanguageTag, Text],
    AfterValidator(_names_not_empty),
    Field(
        description="The same text in several languages, keyed by BCP 47 tag (zh-TW, en, ja, ...)."
    ),
]


class PartnerKind(StrEnum):
    SISTER = "sister"
    FRIENDLY = "friendly"
    MOU = "mou"
    OTHER = "other"


class PartnerStatus(StrEnum):
    ACTIVE = "active"
    DORMANT = "dormant"
    ENDED = "ended"


# --- payloads ---------------------------------------------------------------------------


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A partial payload (an update) carries only the fields that were set.
    partial: ClassVar[bool] = False

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=self.partial)


class Changes(Payload):
    """A partial update: only the fields present change, at least one must, and the fields
    named in `not_null` may change but never be cleared (set to null)."""

    partial: ClassVar[bool] = True
    not_null: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _not_cleared(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise ValueError("may be changed but not cleared")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> Changes:
        if not self.model_fields_set:
            raise ValueError("an update must change at least one field")
        return self


# --- the registry: (type, schema_version) -> payload model and topic --------------------


class EventType(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    schema_version: int
    payload: type[Payload]
    topic: str


EVENT_TYPES: dict[tuple[str, int], EventType] = {}


def register(topic: str, *payloads: type[Payload], schema_version: int = 1) -> None:
    """Declare payload classes as event types on `topic`; the event type is the class name."""
    for payload in payloads:
        key = (payload.__name__, schema_version)
        if key in EVENT_TYPES:
            raise ValueError(f"{payload.__name__} v{schema_version} is registered twice")
        EVENT_TYPES[key] = EventType(
            name=payload.__name__, schema_version=schema_version, payload=payload, topic=topic
        )


# --- partners (twinning.partners) ------------------------------------------------------


class PartnerCityRegistered(Payload):
    """A partner city entered the CRM (a sister city, friendly city, MOU partner or other)."""

    names: MultilingualText
    country: CountryCode
    kind: PartnerKind
    timezone: TimeZoneName
    agreement_date: date | None = None
    agreement_scope: Annotated[str, StringConstraints(max_length=2000)] | None = None
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    status: PartnerStatus = PartnerStatus.ACTIVE
    languages: list[LanguageTag] = Field(default_factory=list, max_length=20)
    website: HttpUrl | None = None
    fields_of_cooperation: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=50
    )


class PartnerCityUpdated(Changes):
    """Some facts of a partner city changed; only the fields present change."""

    not_null: ClassVar[frozenset[str]] = frozenset(
        {"names", "country", "kind", "timezone", "status", "languages", "fields_of_cooperation"}
    )

    names: MultilingualText | None = None
    country: CountryCode | None = None
    kind: PartnerKind | None = None
    timezone: TimeZoneName | None = None
    agreement_date: date | None = None
    agreement_scope: Annotated[str, StringConstraints(max_length=2000)] | None = None
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    status: PartnerStatus | None = None
    languages: list[LanguageTag] | None = Field(default=None, max_length=20)
    website: HttpUrl | None = None
    fields_of_cooperation: list[Annotated[str, StringConstraints(max_length=100)]] | None = Field(
        default=None, max_length=50
    )


RecordId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]


class MissionKind(StrEnum):
    EMBASSY = "embassy"
    REPRESENTATIVE_OFFICE = "representative-office"
    TRADE_OFFICE = "trade-office"
    CHAMBER = "chamber"
    OTHER = "other"


class ForeignMissionRegistered(Payload):
    """A foreign mission in the host country (embassy, representative or trade office, chamber)
    entered the CRM; `country` is the country it represents."""

    names: MultilingualText
    country: CountryCode
    kind: MissionKind
    address: MultilingualText | None = None
    website: HttpUrl | None = None


class ForeignMissionUpdated(Changes):
    """Some facts of a foreign mission changed; only the fields present change."""

    not_null: ClassVar[frozenset[str]] = frozenset({"names", "country", "kind"})

    names: MultilingualText | None = None
    country: CountryCode | None = None
    kind: MissionKind | None = None
    address: MultilingualText | None = None
    website: HttpUrl | None = None


PhoneNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=40,
        pattern=r"^\+?[0-9(][0-9 ().\-/]{3,}(?:\s*(?:ext\.?|x)\s*[0-9]{1,6})?$",
    ),
]


class ContactRegistered(Payload):
    """A person the office corresponds with at a partner city or a foreign mission.

    Personal data: only staff with personal-data access read it, and `ContactErased` erases it.
    """

    partner_id: RecordId | None = None
    mission_id: RecordId | None = None
    name: ShortText
    title: ShortText | None = None
    organisation: ShortText | None = None
    email: EmailStr | None = None
    phone: PhoneNumber | None = None
    preferred_language: LanguageTag | None = None

    @model_validator(mode="after")
    def _belongs_to_one(self) -> ContactRegistered:
        if (self.partner_id is None) == (self.mission_id is None):
            raise ValueError("a contact belongs to exactly one of partner_id or mission_id")
        return self


class ContactUpdated(Changes):
    """Some facts of a contact changed (the partner or mission it belongs to does not)."""

    not_null: ClassVar[frozenset[str]] = frozenset({"name"})

    name: ShortText | None = None
    title: ShortText | None = None
    organisation: ShortText | None = None
    email: EmailStr | None = None
    phone: PhoneNumber | None = None
    preferred_language: LanguageTag | None = None


class ContactErased(Payload):
    """A contact asked to be forgotten, or is no longer needed: its personal data is erased
    from the read model and from the stored copies of its earlier events."""


register(
    PARTNERS,
    PartnerCityRegistered,
    PartnerCityUpdated,
    ForeignMissionRegistered,
    ForeignMissionUpdated,
    ContactRegistered,
    ContactUpdated,
    ContactErased,
)


# --- exchanges (twinning.exchanges) ----------------------------------------------------


class ExchangeField(StrEnum):
    EDUCATION = "education"
    CULTURE = "culture"
    SPORTS = "sports"
    ECONOMY_AND_TRADE = "economy-and-trade"
    TOURISM = "tourism"
    TECHNOLOGY = "technology"
    ENVIRONMENT = "environment"
    HEALTH = "health"
    YOUTH = "youth"
    GOVERNMENT = "government"
    OTHER = "other"


class ExchangeDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    VIRTUAL = "virtual"


class ExchangeSource(Payload):
    """What an exchange came from: a delegation visit, a city-hosted event or a trip abroad."""

    kind: Literal["visit", "city-event", "trip"]
    id: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ExchangeRecorded(Payload):
    """An exchange with one or more partners took place (recorded by staff, or by a completed
    visit, city event or trip, which then names itself as `source`)."""

    partner_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=50
    )
    date: date
    field: ExchangeField
    direction: ExchangeDirection
    summary: MultilingualText
    participants: Annotated[int, Field(ge=0, le=100000)] | None = None
    source: ExchangeSource | None = None


class TripOfficial(Payload):
    """An official on a trip: an id from the officials register, a name, or both."""

    official_id: RecordId | None = None
    name: ShortText | None = None

    @model_validator(mode="after")
    def _identified(self) -> TripOfficial:
        if self.official_id is None and self.name is None:
            raise ValueError("an official needs an official_id or a name")
        return self


class TripLeg(Payload):
    """One destination of a trip, in the destination's own time zone."""

    city: MultilingualText
    country: CountryCode
    timezone: TimeZoneName
    start: AwareDatetime
    end: AwareDatetime
    partner_ids: list[RecordId] = Field(
        default_factory=list, max_length=20, description="Partner cities visited on this leg."
    )
    itinerary: MultilingualText | None = Field(default=None, description="Itinerary notes.")

    @model_validator(mode="after")
    def _ends_after_start(self) -> TripLeg:
        if self.end <= self.start:
            raise ValueError("a leg must end after it starts")
        return self


MAX_PARTNERS_PER_EXCHANGE = 50


def _legs_in_order(legs: list[TripLeg]) -> list[TripLeg]:
    for before, after in pairwise(legs):
        if after.start < before.end:
            raise ValueError("legs must be in order and must not overlap")
    if len({p for leg in legs for p in leg.partner_ids}) > MAX_PARTNERS_PER_EXCHANGE:
        raise ValueError(f"a trip visits at most {MAX_PARTNERS_PER_EXCHANGE} partner cities")
    return legs


TripLegs = Annotated[
    list[TripLeg], Field(min_length=1, max_length=30), AfterValidator(_legs_in_order)
]
TripOfficials = Annotated[list[TripOfficial], Field(min_length=1, max_length=50)]


class TripPlanned(Payload):
    """A trip abroad of the mayor or other officials (visits, or an international event) is planned."""

    title: MultilingualText
    officials: TripOfficials
    legs: TripLegs
    international_event: MultilingualText | None = Field(
        default=None, description="The international event attended, if the trip is for one."
    )


class TripUpdated(Changes):
    """A planned trip changed; `legs` and `officials`, when present, replace the whole list."""

    not_null: ClassVar[frozenset[str]] = frozenset({"title", "officials", "legs"})

    title: MultilingualText | None = None
    officials: TripOfficials | None = None
    legs: TripLegs | None = None
    international_event: MultilingualText | None = None


class TripCompleted(Payload):
    """A trip took place; `exchange_id` names the exchange it recorded with the partners visited."""

    exchange_id: RecordId | None = None


class TripCancelled(Payload):
    """A planned trip will not take place."""

    reason: Text | None = None


register(EXCHANGES, ExchangeRecorded, TripPlanned, TripUpdated, TripCompleted, TripCancelled)


# --- lookups and the envelope -----------------------------------------------------------


def event_type_of(payload: Payload) -> EventType:
    """The newest registered event type whose payload model is `payload`'s class."""
    matches = [e for e in EVENT_TYPES.values() if e.payload is type(payload)]
    if not matches:
        raise LookupError(f"{type(payload).__name__} is not a registered event payload")
    return max(matches, key=lambda e: e.schema_version)


# --- the envelope -----------------------------------------------------------------------


class Envelope(BaseModel):
    """What travels on every topic: who did what to which aggregate, when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID
    type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    schema_version: Annotated[int, Field(ge=1)]
    occurred_at: AwareDatetime
    aggregate_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    actor: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class Event(BaseModel):
    """A decoded event: its envelope and its validated payload."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    envelope: Envelope
    payload: Payload
    event_type: EventType

    @property
    def event_id(self) -> str:
        return str(self.envelope.event_id)

    @property
    def aggregate_id(self) -> str:
        return self.envelope.aggregate_id

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def occurred_at(self) -> datetime:
        return self.envelope.occurred_at


class InvalidEvent(ValueError):
    """A message that is not a valid twinning event; `reason` says why, for the dead letters."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


def new_event(payload: Payload, *, aggregate_id: str, actor: str) -> Event:
    event_type = event_type_of(payload)
    envelope = Envelope(
        event_id=uuid.uuid4(),
        type=event_type.name,
        schema_version=event_type.schema_version,
        occurred_at=datetime.now(UTC),
        aggregate_id=aggregate_id,
        actor=actor,
        payload=payload.to_json(),
    )
    return Event(envelope=envelope, payload=payload, event_type=event_type)


def _short(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()[:5]
    )


def decode(raw: bytes | str | None, *, topic: str | None = None) -> Event:
    """Parse and validate one message; raise `InvalidEvent` with a reason a person can act on."""
    if raw is None:
        raise InvalidEvent("empty message (no value)")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    event_id = (
        str(document.get("event_id"))
        if isinstance(document, dict) and "event_id" in document
        else None
    )
    try:
        envelope = Envelope.model_validate(document)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid envelope: {_short(exc)}", event_id) from None
    event_type = EVENT_TYPES.get((envelope.type, envelope.schema_version))
    if event_type is None:
        known = sorted({name for name, _ in EVENT_TYPES})
        if envelope.type in known:
            reason = f"unknown schema_version {envelope.schema_version} of {envelope.type}"
        else:
            reason = f"unknown event type {envelope.type!r} (known: {', '.join(known)})"
        raise InvalidEvent(reason, event_id)
    if topic is not None and topic != event_type.topic:
        raise InvalidEvent(
            f"{envelope.type} belongs on {event_type.topic}, not on {topic}", event_id
        )
    try:
        payload = event_type.payload.model_validate(envelope.payload)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid {envelope.type} payload: {_short(exc)}", event_id) from None
    return Event(envelope=envelope, payload=payload, event_type=event_type)


# --- JSON Schema, published for other producers -----------------------------------------

SCHEMA_DIR = Path(__file__).parent / "schemas"


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema of the whole message (envelope with typed payload) per event type."""
    schemas: dict[str, dict[str, Any]] = {}
    for (name, version), event_type in sorted(EVENT_TYPES.items()):
        model = create_model(
            name,
            __base__=Envelope,
            __doc__=event_type.payload.__doc__,
            type=(Literal[name], ...),  # type: ignore[arg-type]
            schema_version=(Literal[version], ...),  # type: ignore[arg-type]
            payload=(event_type.payload, ...),
        )
        schema = model.model_json_schema()
        schema["$id"] = f"https://twinning.example/schemas/{name}.v{version}.json"
        schema["x-topic"] = event_type.topic
        schemas[f"{name}.v{version}.json"] = schema
    return schemas


def write_json_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, schema in json_schemas().items():
        path = directory / filename
        path.write_text(
            json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        written.append(path)
    return written
