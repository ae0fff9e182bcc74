"""Every event contract of twinning, and the topics they travel on.

Other systems may produce these events straight onto the topics; the JSON Schema of each
one is generated into `streams/schemas/` (`twinning schemas`) so that they can validate
what they send. An event is JSON: the envelope below with a typed `payload`.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache, cached_property, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    HttpUrl,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema
from twinning.config import known_timezones

# --- topics -----------------------------------------------------------------------------

PARTNERS = "twinning.partners"
VISITS = "twinning.visits"
INVITATIONS = "twinning.invitations"
EXCHANGES = "twinning.exchanges"
PLANS = "twinning.plans"
GIFTS = "twinning.gifts"
DEAD_LETTERS = "twinning.dead-letters"

EVENT_TOPICS = (PARTNERS, VISITS, INVITATIONS, EXCHANGES, PLANS, GIFTS)
ALL_TOPICS = (*EVENT_TOPICS, DEAD_LETTERS)


# --- shared value types -----------------------------------------------------------------
# What a validator below refuses is also said in the JSON Schema of the type, where JSON
# Schema can say it (an enum, a pattern): the published schemas (`twinning schemas`) and the
# OpenAPI document are generated from these same types.


@dataclass(frozen=True)
class Published:
    """Annotation (last in `Annotated`) giving a value type its own JSON Schema definition,
    named `name` (`$defs` of a schema, `components/schemas` of the OpenAPI), so that a big enum
    is written once however many fields use it. `json_schema` makes the definition;
    `rules` are what the validator also refuses that JSON Schema cannot say (stated in the
    definition's description and in the description of every event schema that uses it)."""

    name: str
    json_schema: Callable[[], dict[str, Any]]
    rules: tuple[str, ...] = field(default=())

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # A core schema with a `ref` becomes a definition of its own in JSON Schema.
        return {**handler(source), "ref": f"{__name__}.{self.name}"}  # type: ignore[typeddict-item]

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        definition = handler.resolve_ref_schema(json_schema)
        definition.clear()
        definition.update(self.json_schema())
        if self.rules:
            definition["description"] = _with_rules(definition.get("description", ""), self.rules)
        return json_schema


#: What every event schema states of the rules JSON Schema cannot express.
RULES_HEADING = "Also refused (rules JSON Schema cannot express):"


def _with_rules(description: str, rules: tuple[str, ...] | list[str]) -> str:
    if not rules:
        return description
    listed = "\n".join(f"- {rule}" for rule in rules)
    return f"{description.strip()}\n\n{RULES_HEADING}\n{listed}".strip()


_TIMEZONES = known_timezones()


def _known_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError(f"unknown IANA time zone {value!r}")
    return value


#: The shape of a BCP 47 language tag as Babel parses one: a language, then an optional
#: script, region and variant (en, zh-TW, zh-Hant-TW, es-419, ca-ES-valencia).
LANGUAGE_TAG_PATTERN = (
    r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?"
    r"(-([0-9][A-Za-z0-9]{3}|[A-Za-z][A-Za-z0-9]{4,7}))?$"
)
_LANGUAGE_TAG = re.compile(LANGUAGE_TAG_PATTERN)


def _language_tag(value: str) -> str:
    if not _is_language_tag(value):
        raise ValueError(f"unknown language tag {value!r}")
    return value


@lru_cache(maxsize=4096)  # every event names a few tags, the same few: parsing them is costly
def _is_language_tag(value: str) -> bool:
    from babel import Locale, UnknownLocaleError

    if not _LANGUAGE_TAG.match(value):
        return False
    try:
        Locale.parse(value, sep="-")
    except (ValueError, UnknownLocaleError):
        return False
    return True


# CLDR names these two-letter regions, but they are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "ZZ"})


@cache
def _countries() -> frozenset[str]:
    from babel import Locale

    return frozenset(
        code
        for code in Locale("en").territories
        if isinstance(code, str) and code.isalpha() and code not in _NOT_COUNTRIES
    )


def _country_code(value: str) -> str:
    if value not in _countries():
        raise ValueError(f"unknown ISO 3166 country code {value!r}")
    return value


#: The control characters user text may not hold: all but line breaks and tabs (the worker's
#: and the API's rule, `printable`, and the published schemas', `PRINTABLE_PATTERN`).
_CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f"
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL_CHARACTERS}]")


def printable(value: str) -> str:
    """User text may hold line breaks and tabs, never other control characters (NUL, ESC...)."""
    if _CONTROL_CHARACTER.search(value):
        raise ValueError("control characters are not allowed")
    return value


#: `printable` in JSON Schema: no control character but line breaks and tabs.
PRINTABLE_PATTERN = f"^[^{_CONTROL_CHARACTERS}]*$"
#: What a trimmed text with a minimum length refuses: nothing but white space.
BLANK_PATTERN = r"^\s*$"

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(printable),
]
LanguageTag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=35),
    AfterValidator(_language_tag),
    Published(
        "LanguageTag",
        lambda: {
            "type": "string",
            "pattern": LANGUAGE_TAG_PATTERN,
            "description": "A BCP 47 language tag (en, zh-TW, zh-Hant-TW, es-419, ...).",
        },
        rules=(
            "A language tag (`LanguageTag`) names a language that CLDR knows, as Babel parses"
            " it: the pattern checks only its shape, so a well-formed tag of an unknown"
            " language (`qq`, `xx-Nope1`) is refused.",
        ),
    ),
]
CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(_country_code),
    Published(
        "CountryCode",
        lambda: {
            "type": "string",
            "enum": sorted(_countries()),
            "description": "An ISO 3166-1 alpha-2 country code, in upper case (the countries"
            " CLDR names).",
        },
    ),
]
TimeZoneName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=64),
    AfterValidator(_known_timezone),
    Published(
        "TimeZoneName",
        lambda: {
            "type": "string",
            "enum": sorted(_TIMEZONES),
            "description": "An IANA time zone name (Asia/Taipei, Europe/Paris, UTC, ...).",
        },
    ),
]


def _names_not_empty(value: dict[str, str]) -> dict[str, str]:
    if not value:
        raise ValueError("at least one language is required")
    return value


MultilingualText = Annotated[
    dict[LanguageTag, Text],
    AfterValidator(_names_not_empty),
    Field(
        description="The same text in several languages, keyed by BCP 47 tag (zh-TW, en, ja, ...).",
        json_schema_extra={"minProperties": 1},
    ),
]


def all_given(*names: str) -> dict[str, Any]:
    """JSON Schema: every one of the fields is given (present and not null)."""
    return {
        "required": list(names),
        "properties": {name: {"not": {"type": "null"}} for name in names},
    }


def exactly_one_of(*names: str) -> dict[str, Any]:
    """JSON Schema: exactly one of the fields is given (present and not null)."""
    return {"oneOf": [all_given(name) for name in names]}


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
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    #: A partial payload (an update) carries only the fields that were set.
    partial: ClassVar[bool] = False
    #: What the validators refuse that JSON Schema cannot express (a rule across fields),
    #: stated in the description of the JSON Schema; a subclass adds to its bases' rules.
    rules: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=self.partial)

    @classmethod
    def all_rules(cls) -> tuple[str, ...]:
        """The rules of the class and of its bases, the bases' first."""
        found: list[str] = []
        for klass in reversed(cls.__mro__):
            found += [rule for rule in vars(klass).get("rules", ()) if rule not in found]
        return tuple(found)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = super().__get_pydantic_json_schema__(schema, handler)
        cls._restrict_json_schema(handler.resolve_ref_schema(json_schema))
        return json_schema

    @classmethod
    def _restrict_json_schema(cls, schema: dict[str, Any]) -> None:
        """Say in `schema` (the class's own) what the validators refuse; subclasses add theirs."""
        if rules := cls.all_rules():
            schema["description"] = _with_rules(schema.get("description", ""), rules)


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's JSON Schema without its `null` branch (and without its `null` default)."""
    schema = {key: value for key, value in schema.items() if key != "default"}
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema = {**branches[0], **schema}
    elif branches:
        schema["anyOf"] = branches
    return schema


class Update(Payload):
    """A partial update: only the fields present change, and at least one must be present.
    Only the fields named in `clearable` may be cleared (set to null); the others may change
    but must carry a value (an allow-list: a field added later cannot be cleared by mistake)."""

    partial: ClassVar[bool] = True
    clearable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def changes(cls) -> frozenset[str]:
        """The fields that are changes: an update names at least one of them."""
        return frozenset(cls.model_fields)

    @field_validator("*")
    @classmethod
    def _not_cleared(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("may be changed but not cleared (null)")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> Update:
        if not self.model_fields_set & self.changes():
            raise ValueError("an update must change at least one field")
        return self

    @classmethod
    def _restrict_json_schema(cls, schema: dict[str, Any]) -> None:
        super()._restrict_json_schema(schema)
        properties = schema.get("properties", {})
        for name in properties.keys() - cls.clearable:
            properties[name] = _not_null(properties[name])
        changes = [name for name in properties if name in cls.changes()]
        if set(changes) == set(properties):
            schema["minProperties"] = 1
        else:
            schema["anyOf"] = [{"required": [name]} for name in changes]


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


class GeoPoint(Payload):
    """A place on Earth in degrees (WGS 84), e.g. a city's centre for the partner map."""

    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]


# Free text of a partner city (the control-character rule of `Text`, other lengths).
AgreementScope = Annotated[str, StringConstraints(max_length=2000), AfterValidator(printable)]
Region = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(printable)
]
CooperationField = Annotated[str, StringConstraints(max_length=100), AfterValidator(printable)]
#: How many people live in the city (the brochures print it among the partner's figures).
Population = Annotated[int, Field(ge=1, le=100_000_000, description="Inhabitants of the city.")]


class PartnerCityRegistered(Payload):
    """A partner city entered the CRM (a sister city, friendly city, MOU partner or other)."""

    names: MultilingualText
    country: CountryCode
    kind: PartnerKind
    timezone: TimeZoneName
    agreement_date: date | None = None
    agreement_scope: AgreementScope | None = None
    region: Region | None = None
    status: PartnerStatus = PartnerStatus.ACTIVE
    languages: list[LanguageTag] = Field(default_factory=list, max_length=20)
    website: HttpUrl | None = None
    fields_of_cooperation: list[CooperationField] = Field(default_factory=list, max_length=50)
    location: GeoPoint | None = Field(default=None, description="Where the city is, for maps.")
    population: Population | None = None


class PartnerCityUpdated(Update):
    """Some facts of a partner city changed; only the fields present change."""

    clearable: ClassVar[frozenset[str]] = frozenset(
        {"agreement_date", "agreement_scope", "region", "website", "location", "population"}
    )

    names: MultilingualText | None = None
    country: CountryCode | None = None
    kind: PartnerKind | None = None
    timezone: TimeZoneName | None = None
    agreement_date: date | None = None
    agreement_scope: AgreementScope | None = None
    region: Region | None = None
    status: PartnerStatus | None = None
    languages: list[LanguageTag] | None = Field(default=None, max_length=20)
    website: HttpUrl | None = None
    fields_of_cooperation: list[CooperationField] | None = Field(default=None, max_length=50)
    location: GeoPoint | None = None
    population: Population | None = None


RecordId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(printable),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(printable),
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


class ForeignMissionUpdated(Update):
    """Some facts of a foreign mission changed; only the fields present change."""

    clearable: ClassVar[frozenset[str]] = frozenset({"address", "website"})

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

    model_config = ConfigDict(json_schema_extra=exactly_one_of("partner_id", "mission_id"))

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


class ContactUpdated(Update):
    """Some facts of a contact changed (the partner or mission it belongs to does not)."""

    clearable: ClassVar[frozenset[str]] = frozenset(
        {"title", "organisation", "email", "phone", "preferred_language"}
    )

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


# --- visits (twinning.visits) ----------------------------------------------------------
# Officials and venues are managed here too: they are what an itinerary books, and keeping
# them on the same topic lets a conflict check settle one topic.

EntityId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(printable),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(printable),
]
ProtocolRank = Annotated[
    int, Field(ge=1, le=999, description="Order of precedence: 1 comes first (the mayor).")
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()./-]{3,30}$")
]


#: How a person is addressed, per language ("市長閣下", "Mayor", "Su Excelencia"); left out of
#: the event when not given, so that events from before it are the events they were.
FormsOfAddress = Annotated[
    MultilingualText | None,
    Field(
        description="How the person is addressed, per language (市長閣下, Mayor, Su Excelencia).",
        exclude_if=lambda value: value is None,
    ),
]


class OfficialRegistered(Payload):
    """An official of the city (mayor, deputy mayor, director) whom itineraries can book."""

    names: MultilingualText
    title: MultilingualText
    protocol_rank: ProtocolRank
    email: Email | None = Field(
        default=None,
        description="Where notices of late changes to the official's schedule go (work address).",
    )
    language: LanguageTag | None = Field(
        default=None, description="The language of those notices (default: the office's)."
    )
    forms_of_address: FormsOfAddress = None


class OfficialUpdated(Update):
    """Some facts of an official changed; names and title merge by language, the forms of
    address are replaced as a whole (null clears them)."""

    clearable: ClassVar[frozenset[str]] = frozenset({"forms_of_address", "email", "language"})

    names: MultilingualText | None = None
    title: MultilingualText | None = None
    protocol_rank: ProtocolRank | None = None
    email: Email | None = None
    language: LanguageTag | None = None
    forms_of_address: MultilingualText | None = Field(
        default=None, description="How the official is addressed, per language; null clears."
    )


class VenueRegistered(Payload):
    """One of the city's own rooms or halls where delegations are received."""

    names: MultilingualText
    capacity: Annotated[int, Field(ge=1, le=100000)]
    timezone: TimeZoneName
    address: MultilingualText | None = None


class VenueUpdated(Update):
    """Some facts of a venue changed; names and address merge by language."""

    clearable: ClassVar[frozenset[str]] = frozenset({"address"})

    names: MultilingualText | None = None
    capacity: Annotated[int, Field(ge=1, le=100000)] | None = None
    timezone: TimeZoneName | None = None
    address: MultilingualText | None = None


class Delegation(Payload):
    """Who visits: a partner city, a foreign mission, or another organisation (exactly one)."""

    model_config = ConfigDict(
        json_schema_extra=exactly_one_of("partner_id", "mission_id", "organisation")
    )

    partner_id: EntityId | None = None
    mission_id: EntityId | None = None
    organisation: MultilingualText | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Delegation:
        given = [self.partner_id, self.mission_id, self.organisation]
        if sum(value is not None for value in given) != 1:
            raise ValueError("name exactly one of partner_id, mission_id or organisation")
        return self


class HeadOfDelegation(Payload):
    names: MultilingualText
    title: MultilingualText
    protocol_rank: ProtocolRank
    forms_of_address: FormsOfAddress = None


class VisitContact(Payload):
    """The delegation's contact person: personal data, shown to staff only."""

    name: Name
    email: Email | None = None
    phone: Phone | None = None
    language: LanguageTag | None = Field(
        default=None, description="The language the office writes to the contact in."
    )


class VisitSource(StrEnum):
    """Where a visit request came from: recorded by staff, or sent through the public form
    (flagged for staff until they accept it)."""

    STAFF = "staff"
    FORM = "form"


#: Staff-written talking points for the officials: internal, shown only in the briefing book.
TalkingPoints = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(printable),
    Field(description="Internal: staff-written talking points for the officials' briefing book."),
]


class VisitRequested(Payload):
    """A delegation asked to visit; dietary and accessibility notes and the contact are
    personal data."""

    rules = ("`requested_to` is not before `requested_from`.",)

    delegation: Delegation
    head_of_delegation: HeadOfDelegation
    members: Annotated[int, Field(ge=1, le=10000)]
    purpose: MultilingualText
    requested_from: date
    requested_to: date
    languages: list[LanguageTag] = Field(default_factory=list, max_length=20)
    interpreter_needed: bool = False
    dietary_notes: Text | None = None
    accessibility_notes: Text | None = None
    contact: VisitContact | None = None
    talking_points: TalkingPoints | None = None
    received_via: VisitSource = VisitSource.STAFF

    @model_validator(mode="after")
    def _dates_in_order(self) -> VisitRequested:
        if self.requested_to < self.requested_from:
            raise ValueError("requested_to is before requested_from")
        return self


class VisitStep(Payload):
    """A step in a visit's lifecycle, with the reason staff gave (if any)."""

    reason: Text | None = None


class NotifiableStep(VisitStep):
    """A step the delegation's contact may be told of by email."""

    notify_contact: bool = Field(
        default=False,
        description="Mail the delegation's contact about this step, in the contact's language.",
    )


class VisitApproved(NotifiableStep):
    """The office agreed to receive the delegation."""


class VisitDeclined(NotifiableStep):
    """The office declined the request."""


class VisitScheduled(NotifiableStep):
    """The visit's programme is fixed."""


class VisitRequestAccepted(Payload):
    """Staff accepted a visit request that came through the public form as a real one: it is
    no longer flagged (it still waits for its decision)."""


class VisitCancelled(VisitStep):
    """The visit will not take place."""


class VisitCompleted(VisitStep):
    """The visit took place; `exchange_id` names the ExchangeRecorded committed with it."""

    exchange_id: EntityId | None = None


class DelegationMember(Payload):
    """A member of a visiting delegation besides its head; the dietary and accessibility notes
    are personal data (staff and the officials' briefing book only)."""

    names: MultilingualText
    title: MultilingualText | None = None
    protocol_rank: ProtocolRank | None = None
    forms_of_address: FormsOfAddress = None
    dietary_notes: Text | None = None
    accessibility_notes: Text | None = None


class VisitDelegationMembersListed(Payload):
    """Staff listed the members of a visit's delegation besides its head (the whole list,
    replacing the one before; empty clears it): personal data, never in a public output."""

    members: list[DelegationMember] = Field(max_length=100)


class VisitTalkingPointsWritten(Payload):
    """Staff wrote (or cleared, with null) the talking points of a visit: internal, shown only
    in the officials' briefing book."""

    talking_points: TalkingPoints | None = None


class OutsidePlace(Payload):
    """A place that is not one of the city's venues (a school, a factory, a restaurant)."""

    names: MultilingualText
    timezone: TimeZoneName
    address: MultilingualText | None = None


class BookedKind(StrEnum):
    """What a booking conflict collides with: every kind of the one schedule."""

    ITINERARY_ITEM = "itinerary-item"
    CITY_EVENT = "city-event"
    TRIP = "trip"


class BookingConflict(Payload):
    """A booking that already holds the same official, venue or interpreter at an overlapping
    time (or, for an interpreter, too close to reach the other venue): an itinerary item
    (`visit_id` and `item_id`), a city event (`city_event_id`) or a trip's leg (`trip_id`
    and `leg`, its position from 0)."""

    rules = ("The ids of its `kind` are given.",)

    kind: BookedKind = BookedKind.ITINERARY_ITEM
    visit_id: EntityId | None = None
    item_id: EntityId | None = None
    city_event_id: EntityId | None = None
    trip_id: EntityId | None = None
    leg: Annotated[int, Field(ge=0, le=100)] | None = None
    official_id: EntityId | None = None
    venue_id: EntityId | None = None
    interpreter_id: EntityId | None = None
    travel_minutes: Annotated[int, Field(ge=0, le=1440)] | None = Field(
        default=None,
        description="An interpreter's travel time between the two venues that is not there.",
    )
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _identified(self) -> BookingConflict:
        needed = {
            BookedKind.ITINERARY_ITEM: (self.visit_id, self.item_id),
            BookedKind.CITY_EVENT: (self.city_event_id,),
            BookedKind.TRIP: (self.trip_id,),
        }[self.kind]
        if any(value is None for value in needed):
            raise ValueError(f"a conflict with a {self.kind.value} names its ids")
        return self


class ConflictOverride(Payload):
    """Staff booked in spite of conflicts: why, and which conflicts they overrode."""

    reason: Text
    conflicts: list[BookingConflict] = Field(default_factory=list, max_length=500)


def _no_repeats(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("the same id is named more than once")
    return value


OfficialIds = Annotated[
    list[EntityId],
    Field(max_length=50, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_no_repeats),
]
Interpreter = Annotated[
    bool | Text,
    Field(description="The interpreter's name, or true when one is needed but not yet named."),
]
InterpreterIds = Annotated[
    list[EntityId],
    Field(
        max_length=20,
        json_schema_extra={"uniqueItems": True},
        description="Interpreters of the roster booked for it.",
    ),
    AfterValidator(_no_repeats),
]


def _one_location(venue_id: str | None, place: OutsidePlace | None) -> None:
    if venue_id is not None and place is not None:
        raise ValueError("give either venue_id (a city venue) or place (outside), not both")


def _in_order(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValueError("ends_at must be after starts_at")


class ItineraryItemFacts(Payload):
    """What an itinerary item is: when, where, who attends, and what the calendar shows."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("venue_id", "place"))
    rules = ("`ends_at` is after `starts_at`.",)

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    venue_id: EntityId | None = None
    place: OutsidePlace | None = None
    official_ids: OfficialIds = Field(default_factory=list)
    interpreter_ids: InterpreterIds = Field(default_factory=list)
    interpreter: Interpreter = False
    gift_exchange: Text | None = None
    press: bool = False
    titles: MultilingualText
    notes_shared: Text | None = Field(
        default=None, description="Staff-chosen notes that calendars may show."
    )
    talking_points: TalkingPoints | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ItineraryItemFacts:
        _in_order(self.starts_at, self.ends_at)
        _one_location(self.venue_id, self.place)
        if self.venue_id is None and self.place is None:
            raise ValueError("give venue_id (a city venue) or place (outside)")
        return self


class ItineraryItemAdded(ItineraryItemFacts):
    """An item joined a visit's itinerary (the aggregate is the visit)."""

    item_id: EntityId
    override: ConflictOverride | None = None


class ItineraryItemChanges(Update):
    """The facts of an itinerary item that a change names; titles merge by language."""

    model_config = ConfigDict(json_schema_extra={"not": all_given("venue_id", "place")})
    rules = ("When both `starts_at` and `ends_at` are given, `ends_at` is after `starts_at`.",)

    clearable: ClassVar[frozenset[str]] = frozenset(
        {"venue_id", "place", "gift_exchange", "notes_shared", "override", "talking_points"}
    )

    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    venue_id: EntityId | None = None
    place: OutsidePlace | None = None
    official_ids: OfficialIds | None = None
    interpreter_ids: InterpreterIds | None = None
    interpreter: Interpreter | None = None
    gift_exchange: Text | None = None
    press: bool | None = None
    titles: MultilingualText | None = None
    notes_shared: Text | None = None
    talking_points: TalkingPoints | None = None

    @classmethod
    def changes(cls) -> frozenset[str]:
        # Not the item's id nor an override: what the item is.
        return frozenset(ItineraryItemChanges.model_fields)

    @model_validator(mode="after")
    def _consistent(self) -> ItineraryItemChanges:
        _in_order(self.starts_at, self.ends_at)
        _one_location(self.venue_id, self.place)
        return self


class ItineraryItemChanged(ItineraryItemChanges):
    """Some facts of an itinerary item changed (the aggregate is the visit)."""

    item_id: EntityId
    override: ConflictOverride | None = None


class ItineraryItemRemoved(Payload):
    """An item left the itinerary; it is kept as removed so that calendars can cancel it."""

    item_id: EntityId
    reason: Text | None = None


class Engagement(StrEnum):
    IN_HOUSE = "in-house"
    CONTRACTED = "contracted"


class LanguagePair(Payload):
    """A direction an interpreter works in, e.g. from zh-TW into ja."""

    source: LanguageTag
    target: LanguageTag


def _distinct_pairs(value: list[LanguagePair]) -> list[LanguagePair]:
    if len({(p.source, p.target) for p in value}) != len(value):
        raise ValueError("a language pair is named more than once")
    if any(p.source == p.target for p in value):
        raise ValueError("a language pair goes from one language into another")
    return value


LanguagePairs = Annotated[
    list[LanguagePair], Field(min_length=1, max_length=30), AfterValidator(_distinct_pairs)
]


class InterpreterContact(Payload):
    """How to reach an interpreter: personal data, shown to staff with access only and erased
    by `InterpreterContactErased`."""

    email: Email | None = None
    phone: Phone | None = None


class InterpreterRegistered(Payload):
    """An interpreter joined the roster: the language pairs they work in (each a direction),
    and whether they are on the city's staff or contracted."""

    rules = ("Each language pair goes from one language into another, and appears once.",)

    name: Name
    language_pairs: LanguagePairs
    engagement: Engagement = Engagement.CONTRACTED
    contact: InterpreterContact | None = None


class InterpreterUpdated(Update):
    """Some facts of an interpreter changed; `language_pairs`, when given, replaces the list."""

    rules = InterpreterRegistered.rules
    clearable: ClassVar[frozenset[str]] = frozenset({"contact"})

    name: Name | None = None
    language_pairs: LanguagePairs | None = None
    engagement: Engagement | None = None
    contact: InterpreterContact | None = None


class InterpreterContactErased(Payload):
    """An interpreter's contact is erased from the read model and the stored copies of the
    interpreter's earlier events; the interpreter stays on the roster."""


register(
    VISITS,
    InterpreterRegistered,
    InterpreterUpdated,
    InterpreterContactErased,
)


register(
    VISITS,
    OfficialRegistered,
    OfficialUpdated,
    VenueRegistered,
    VenueUpdated,
    VisitRequested,
    VisitApproved,
    VisitDeclined,
    VisitScheduled,
    VisitCompleted,
    VisitCancelled,
    ItineraryItemAdded,
    ItineraryItemChanged,
    ItineraryItemRemoved,
    VisitTalkingPointsWritten,
    VisitRequestAccepted,
    VisitDelegationMembersListed,
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
    """An exchange with one or more counterparts took place: partner cities, foreign missions
    (`mission_ids`) or other organisations (recorded by staff, or by a completed visit, city
    event or trip, which then names itself as `source`)."""

    rules = (
        "An exchange names at least one counterpart: a partner, a mission or an organisation.",
    )
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["partner_ids"], "properties": {"partner_ids": {"minItems": 1}}},
                {"required": ["mission_ids"], "properties": {"mission_ids": {"minItems": 1}}},
                {"required": ["organisations"], "properties": {"organisations": {"minItems": 1}}},
            ]
        }
    )

    # Before `partner_ids`, whose validator reads them.
    mission_ids: list[RecordId] = Field(
        default_factory=list, max_length=50, description="Foreign missions that took part."
    )
    organisations: list[MultilingualText] = Field(
        default_factory=list,
        max_length=20,
        description="Other organisations that took part (a chamber, a university...), by name.",
    )
    partner_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50, validate_default=True
    )
    date: date
    field: ExchangeField
    direction: ExchangeDirection
    summary: MultilingualText
    participants: Annotated[int, Field(ge=0, le=100000)] | None = None
    source: ExchangeSource | None = None

    def to_json(self) -> dict[str, Any]:
        """Without the counterparts of other kinds when there are none: an exchange with
        partner cities only is the event it always was."""
        found = super().to_json()
        for name in ("mission_ids", "organisations"):
            if not found[name]:
                del found[name]
        return found

    @field_validator("partner_ids")
    @classmethod
    def _has_a_counterpart(cls, value: list[str], info: ValidationInfo) -> list[str]:
        others = ("mission_ids", "organisations")
        # Said only when the others are valid (an invalid one has its own error).
        if all(o in info.data for o in others) and not (value or any(info.data[o] for o in others)):
            raise ValueError("name at least one partner city, mission or organisation")
        return value


class TripOfficial(Payload):
    """An official on a trip: an id from the officials register, a name, or both."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [all_given("official_id"), all_given("name")]}
    )

    official_id: RecordId | None = None
    name: ShortText | None = None

    @model_validator(mode="after")
    def _identified(self) -> TripOfficial:
        if self.official_id is None and self.name is None:
            raise ValueError("an official needs an official_id or a name")
        return self


class TripLeg(Payload):
    """One destination of a trip, in the destination's own time zone."""

    rules = ("A leg's `end` is after its `start`.",)

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
#: What `_legs_in_order` refuses, said for the events that carry legs.
LEG_RULES = (
    "`legs` are in order and do not overlap: each leg starts when or after the one before ends.",
    f"The legs name at most {MAX_PARTNERS_PER_EXCHANGE} different partner cities in all.",
)


class TripPlanned(Payload):
    """A trip abroad of the mayor or other officials (visits, or an international event) is planned."""

    rules = LEG_RULES

    title: MultilingualText
    officials: TripOfficials
    legs: TripLegs
    international_event: MultilingualText | None = Field(
        default=None, description="The international event attended, if the trip is for one."
    )
    override: ConflictOverride | None = Field(
        default=None,
        description="Planned in spite of conflicts with its officials' schedule: send the reason;"
        " the conflicts are filled in.",
    )


class TripUpdated(Update):
    """A planned trip changed; `legs` and `officials`, when present, replace the whole list."""

    rules = LEG_RULES

    clearable: ClassVar[frozenset[str]] = frozenset({"international_event"})

    title: MultilingualText | None = None
    officials: TripOfficials | None = None
    legs: TripLegs | None = None
    international_event: MultilingualText | None = None
    override: ConflictOverride | None = Field(
        default=None,
        description="Changed in spite of conflicts: send the reason; the conflicts are filled in.",
    )

    @classmethod
    def changes(cls) -> frozenset[str]:
        return frozenset(TripUpdated.model_fields) - {"override"}


class TripCompleted(Payload):
    """A trip took place; `exchange_id` names the exchange it recorded with the partners visited."""

    exchange_id: RecordId | None = None


class TripCancelled(Payload):
    """A planned trip will not take place."""

    reason: Text | None = None


register(EXCHANGES, ExchangeRecorded, TripPlanned, TripUpdated, TripCompleted, TripCancelled)


# --- press items (twinning.exchanges) ------------------------------------------------------
# The media exposure of the office's work: each press item is keyed by its own id.

#: `date`, for a field of that name (whose default would shadow the type in its own class).
Day = date


class PressItemKind(StrEnum):
    RELEASE = "release"
    INTERVIEW = "interview"
    ARTICLE = "article"
    BROADCAST = "broadcast"


class PressCoverage(Payload):
    """A record a press item covers: a delegation visit, a city event, a trip or an exchange."""

    kind: Literal["visit", "city-event", "trip", "exchange"]
    id: EntityId


class PressItemRecorded(Payload):
    """A press release, interview, article or broadcast about the office's work was recorded."""

    kind: PressItemKind
    outlet: ShortText = Field(
        description="The newspaper, station or site (the city's own for a release)."
    )
    date: date
    language: LanguageTag
    title: MultilingualText
    link: HttpUrl | None = None
    covers: list[PressCoverage] = Field(default_factory=list, max_length=20)


class PressItemUpdated(Update):
    """Some facts of a press item changed; `covers`, when present, replaces the list."""

    clearable: ClassVar[frozenset[str]] = frozenset({"link"})

    kind: PressItemKind | None = None
    outlet: ShortText | None = None
    date: Day | None = None
    language: LanguageTag | None = None
    title: MultilingualText | None = None
    link: HttpUrl | None = None
    covers: list[PressCoverage] | None = Field(default=None, max_length=20)


register(EXCHANGES, PressItemRecorded, PressItemUpdated)


# --- invitations (twinning.invitations) ------------------------------------------------
# Every event of a city event and of its invitations is keyed by the city event's id, so
# that one partition carries them in order (an answer never overtakes its invitation).


def _ends_after_start(ends_at: datetime, info: ValidationInfo) -> datetime:
    """On the field (not the model), so that the error names `ends_at`."""
    _in_order(info.data.get("starts_at"), ends_at)
    return ends_at


EndTime = Annotated[AwareDatetime, AfterValidator(_ends_after_start)]


class CityEventKind(StrEnum):
    FESTIVAL = "festival"
    FORUM = "forum"
    CEREMONY = "ceremony"
    OTHER = "other"


class VenueRef(Payload):
    """Where a city event takes place: one of the city's managed venues, or a place in free text."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("venue_id", "place"))

    venue_id: EntityId | None = None
    place: Text | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> VenueRef:
        if (self.venue_id is None) == (self.place is None):
            raise ValueError("give either venue_id (a city venue) or place (free text)")
        return self


class CoHost(Payload):
    """A partner city or a foreign mission that hosts a city event with the city."""

    kind: Literal["partner", "mission"]
    id: EntityId


#: At most this many co-hosts on one event.
MAX_CO_HOSTS = 20


class CityEventScheduled(Payload):
    """The city will host an event (festival, forum, ceremony...) that partners may be invited to.
    Times carry their offset; `timezone` is the IANA zone the event is shown in."""

    rules = ("`ends_at` is after `starts_at`.",)

    kind: CityEventKind
    title: MultilingualText
    description: MultilingualText | None = None
    starts_at: AwareDatetime
    ends_at: EndTime
    timezone: TimeZoneName
    venue: VenueRef | None = None
    video_link: HttpUrl | None = Field(default=None, description="For remote attendance.")
    open_to_partners: bool = True
    official_ids: OfficialIds = Field(
        default_factory=list, description="The city's officials who attend."
    )
    interpreter_ids: InterpreterIds = Field(default_factory=list)
    override: ConflictOverride | None = Field(
        default=None,
        description="Scheduled in spite of conflicts: send the reason; the conflicts are filled in.",
    )
    co_hosts: list[CoHost] = Field(
        default_factory=list,
        max_length=MAX_CO_HOSTS,
        description="Partner cities or foreign missions that host the event with the city.",
    )

    def to_json(self) -> dict[str, Any]:
        """Without `co_hosts` when there are none: an event the city hosts alone is the
        event it always was."""
        found = super().to_json()
        if not found["co_hosts"]:
            del found["co_hosts"]
        return found


class CityEventUpdated(Update):
    """Some facts of a city event changed; only the fields present change (title and
    description add or replace languages)."""

    rules = ("When both `starts_at` and `ends_at` are given, `ends_at` is after `starts_at`.",)

    clearable: ClassVar[frozenset[str]] = frozenset({"description", "venue", "video_link"})

    kind: CityEventKind | None = None
    title: MultilingualText | None = None
    description: MultilingualText | None = None
    starts_at: AwareDatetime | None = None
    ends_at: EndTime | None = None
    timezone: TimeZoneName | None = None
    venue: VenueRef | None = None
    video_link: HttpUrl | None = None
    open_to_partners: bool | None = None
    official_ids: OfficialIds | None = None
    interpreter_ids: InterpreterIds | None = None
    override: ConflictOverride | None = Field(
        default=None,
        description="Changed in spite of conflicts: send the reason; the conflicts are filled in.",
    )

    @classmethod
    def changes(cls) -> frozenset[str]:
        return frozenset(CityEventUpdated.model_fields) - {"override"}

    co_hosts: list[CoHost] | None = Field(
        default=None, max_length=MAX_CO_HOSTS, description="Replaces the co-hosts ([]: none)."
    )


class CityEventCancelled(Payload):
    """The city event will not take place."""

    reason: Text | None = None


class CityEventCompletion(Payload):
    """What staff record when a city event is over: the exchange it was."""

    field: ExchangeField
    summary: MultilingualText
    participants: Annotated[int, Field(ge=0, le=100000)] | None = None


class CityEventCompleted(CityEventCompletion):
    """The city event took place; `exchange_id` names the exchange it recorded, if partners came."""

    exchange_id: EntityId | None = None


class InviteeKind(StrEnum):
    PARTNER = "partner"
    MISSION = "mission"


class InvitationSent(Payload):
    """A partner city or a foreign mission was invited to the city event."""

    invitation_id: EntityId
    invitee_kind: InviteeKind
    invitee_id: EntityId
    answer_by: date


class Withdrawal(Payload):
    """Why an invitation is taken back."""

    reason: Text | None = None


class InvitationWithdrawn(Withdrawal):
    """The city took an invitation back."""

    invitation_id: EntityId


class RsvpAnswer(StrEnum):
    ACCEPTED_IN_PERSON = "accepted-in-person"
    ACCEPTED_BY_VIDEO = "accepted-by-video"
    DECLINED = "declined"


class ReceivedVia(StrEnum):
    PORTAL = "portal"
    LETTER = "letter"
    EMAIL = "email"
    PHONE = "phone"


class Delegate(Payload):
    """One delegate who comes in person, as the answer names them: personal data, shown to
    staff only and never published."""

    name: Name
    title: ShortText | None = None
    needs: Text | None = Field(default=None, description="Dietary or accessibility needs.")


class Rsvp(Payload):
    """An invitee's answer, as it arrived (through the portal, or by letter, email or phone)."""

    # `delegates` is given with accepted-in-person, and only then; so are `delegate_details`.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "required": ["answer"],
                "properties": {"answer": {"const": RsvpAnswer.ACCEPTED_IN_PERSON.value}},
            },
            "then": all_given("delegates"),
            "else": {
                "properties": {"delegates": {"type": "null"}, "delegate_details": {"maxItems": 0}}
            },
        }
    )
    rules = ("`delegate_details` lists at most `delegates` people.",)

    answer: RsvpAnswer
    delegates: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None,
        validate_default=True,
        description="How many delegates come in person; only with accepted-in-person.",
    )
    delegate_details: Annotated[list[Delegate], Field(max_length=100)] = Field(
        default=[],
        description="Who comes in person (some or all of `delegates`), with their title and "
        "dietary or accessibility needs; only with accepted-in-person. Personal data.",
    )
    note: Text | None = None
    received_via: ReceivedVia

    @field_validator("delegates")
    @classmethod
    def _delegates_come_in_person(cls, value: int | None, info: ValidationInfo) -> int | None:
        answer = info.data.get("answer")
        if answer is RsvpAnswer.ACCEPTED_IN_PERSON and value is None:
            raise ValueError("the number of delegates is required when accepting in person")
        if answer is not None and answer is not RsvpAnswer.ACCEPTED_IN_PERSON and value is not None:
            raise ValueError(f"an answer {answer.value} has no delegates in person")
        return value

    @field_validator("delegate_details")
    @classmethod
    def _no_more_than_come(cls, value: list[Delegate], info: ValidationInfo) -> list[Delegate]:
        if not value:
            return value
        answer, delegates = info.data.get("answer"), info.data.get("delegates")
        if answer is not None and answer is not RsvpAnswer.ACCEPTED_IN_PERSON:
            raise ValueError(f"an answer {answer.value} lists no delegates")
        if delegates is not None and len(value) > delegates:
            raise ValueError(f"{len(value)} delegates listed, more than the {delegates} who come")
        return value


class RsvpRecorded(Rsvp):
    """An answer to an invitation was recorded; a later one replaces it."""

    invitation_id: EntityId


register(
    INVITATIONS,
    CityEventScheduled,
    CityEventUpdated,
    CityEventCancelled,
    CityEventCompleted,
    InvitationSent,
    InvitationWithdrawn,
    RsvpRecorded,
)


# --- plans (twinning.plans) ------------------------------------------------------------
# A year's plan (goals, work items with their budget lines and KPIs), the spending recorded
# against a budget line and the values entered for a KPI: every event keyed by the plan's id,
# so that a spending never overtakes the plan that declares its work item.

PlanKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$"),
    Field(description="A short key, unique in its plan: lower-case letters, digits and '-'."),
]


def _thousands_schema(*, positive: bool) -> WithJsonSchema:
    """A whole number, or a decimal text (what the events carry: exact, "1250.5")."""
    number = {"type": "integer", "maximum": 10**9, "minimum": 1 if positive else 0}
    digits = r"\d{1,9}(\.\d{1,3})?"
    text = rf"^(?!0*(\.0*)?$){digits}$" if positive else rf"^{digits}$"
    return WithJsonSchema(
        {
            "anyOf": [number, {"type": "string", "pattern": text}],
            "description": "In NT$ thousand (千元): a whole number, or a decimal text to the"
            ' dollar at most (three decimals), such as "1250.5".',
        }
    )


def _no_binary_fraction(value: object) -> object:
    """A fraction is given as text ("12.5"): a JSON number with one would pass through binary
    floating point, which has no exact 12.3."""
    if isinstance(value, float) and not value.is_integer():
        raise ValueError('give a fraction as decimal text, such as "12.5"')
    return value


#: NT$ thousand (千元), the unit of every budget figure; to the dollar at most.
Thousands = Annotated[
    Decimal,
    BeforeValidator(_no_binary_fraction),
    Field(ge=0, le=10**9, max_digits=12, decimal_places=3),
    _thousands_schema(positive=False),
]
PositiveThousands = Annotated[
    Decimal,
    BeforeValidator(_no_binary_fraction),
    Field(gt=0, le=10**9, max_digits=12, decimal_places=3),
    _thousands_schema(positive=True),
]


class KpiMeasure(StrEnum):
    """What a computed KPI counts (or sums) among the applied events; `publicity-versions`
    counts the versions of the leaflet and the brochures the publicity consumer published."""

    VISITS_COMPLETED = "visits-completed"
    EXCHANGES = "exchanges"
    CITY_EVENTS_HELD = "city-events-held"
    INVITATION_ANSWERS = "invitation-answers"
    TRIPS_COMPLETED = "trips-completed"
    AGREEMENTS = "agreements"
    PRESS_ITEMS = "press-items"
    PRESS_COVERAGE = "press-coverage"
    PUBLICITY_VERSIONS = "publicity-versions"


#: The filters each measure takes (the values each allows: `KpiFilters`).
KPI_FILTERS: dict[KpiMeasure, tuple[str, ...]] = {
    KpiMeasure.VISITS_COMPLETED: ("delegation", "partner_kind", "direction"),
    KpiMeasure.EXCHANGES: ("field", "direction", "source", "counterpart"),
    KpiMeasure.CITY_EVENTS_HELD: ("kind",),
    KpiMeasure.INVITATION_ANSWERS: ("answer", "invitee_kind"),
    KpiMeasure.TRIPS_COMPLETED: (),
    KpiMeasure.AGREEMENTS: ("partner_kind", "step"),
    KpiMeasure.PRESS_ITEMS: (),
    KpiMeasure.PRESS_COVERAGE: ("press_kind",),
    KpiMeasure.PUBLICITY_VERSIONS: ("document",),
}
#: The measures whose events carry a number a KPI may sum (participants, delegates).
SUMMABLE = frozenset(
    {KpiMeasure.EXCHANGES, KpiMeasure.CITY_EVENTS_HELD, KpiMeasure.INVITATION_ANSWERS}
)


class KpiAggregate(StrEnum):
    COUNT = "count"
    SUM = "sum"


Choice = TypeVar("Choice")
#: The values of a filter that pass (absent: the filter is not used).
Choices = Annotated[list[Choice] | None, Field(min_length=1, max_length=20)]


class KpiFilters(Payload):
    """Which events of the measure count: each filter given lists the values that pass."""

    delegation: Choices[Literal["partner", "mission", "organisation"]] = None
    partner_kind: Choices[PartnerKind] = None
    field: Choices[ExchangeField] = None
    direction: Choices[ExchangeDirection] = None
    source: Choices[Literal["visit", "city-event", "trip", "recorded"]] = None
    kind: Choices[CityEventKind] = None
    answer: Choices[RsvpAnswer] = None
    invitee_kind: Choices[InviteeKind] = None
    step: Choices[Literal["signed", "renewed"]] = None
    counterpart: Choices[Literal["partner", "mission", "organisation"]] = None
    press_kind: Choices[PressItemKind] = None
    document: Choices[Literal["leaflet", "brochure"]] = None

    def given(self) -> dict[str, list[str]]:
        return {
            name: [str(getattr(v, "value", v)) for v in values]
            for name, values in self.model_dump().items()
            if values is not None
        }


class KpiComputation(Payload):
    """A KPI computed from the events: how many (or the sum of their participants or
    delegates) of the events of `measure` that pass every filter, dated in the period."""

    rules = (
        "Each filter is one the measure takes: visits-completed: delegation, partner_kind,"
        " direction (inbound: a delegation received; outbound: a partner city visited on a"
        " completed trip); exchanges: field, direction, source, counterpart;"
        " city-events-held: kind; invitation-answers: answer, invitee_kind; trips-completed:"
        " none; agreements: partner_kind, step; press-items: none; press-coverage: press_kind;"
        " publicity-versions: document.",
        "`sum` only for exchanges, city-events-held and invitation-answers.",
    )

    measure: KpiMeasure
    aggregate: KpiAggregate = KpiAggregate.COUNT
    filters: KpiFilters = Field(default_factory=KpiFilters)

    @model_validator(mode="after")
    def _known_filters(self) -> KpiComputation:
        allowed = KPI_FILTERS[self.measure]
        for name in self.filters.given():
            if name not in allowed:
                known = ", ".join(allowed) or "none"
                raise ValueError(f"{self.measure.value} has no filter {name!r} (it has: {known})")
        if self.aggregate is KpiAggregate.SUM and self.measure not in SUMMABLE:
            raise ValueError(f"{self.measure.value} has nothing to sum: count them")
        return self

    def stored(self) -> dict[str, Any]:
        """As the read model keeps it: the filters given only."""
        return {
            "measure": self.measure.value,
            "aggregate": self.aggregate.value,
            "filters": self.filters.given(),
        }


class Kpi(Payload):
    """A key performance indicator of a work item: computed from the events, or entered by
    staff (no `computed`), with its target for the plan's year."""

    key: PlanKey
    name: MultilingualText
    unit: MultilingualText | None = None
    target: Annotated[float, Field(ge=0, le=10**9)]
    computed: KpiComputation | None = Field(
        default=None, description="How it is computed; absent for a KPI staff enter."
    )


class WorkItem(Payload):
    """A work item (工作項目) of a goal: what is done, by which section, with which budget."""

    key: PlanKey
    title: MultilingualText
    description: MultilingualText | None = None
    section: ShortText = Field(description="The section responsible for it.")
    budget: Thousands = Field(description="The budget line's planned amount, NT$ thousand.")
    kpis: list[Kpi] = Field(default_factory=list, max_length=12)


class PlanGoal(Payload):
    """A goal of the year (施政目標), with its work items."""

    key: PlanKey
    title: MultilingualText
    work_items: list[WorkItem] = Field(min_length=1, max_length=20)


def _keys_unique(goals: list[PlanGoal]) -> list[PlanGoal]:
    seen: set[str] = set()
    for key in (
        key
        for goal in goals
        for key in [
            goal.key,
            *(item.key for item in goal.work_items),
            *(kpi.key for item in goal.work_items for kpi in item.kpis),
        ]
    ):
        if key in seen:
            raise ValueError(f"the key {key!r} is used twice in the plan")
        seen.add(key)
    return goals


class PlanAdopted(Payload):
    """A year's plan: its goals, their work items, budget lines and KPIs. A later one for the
    same plan replaces the structure; spending and values entered stay with their keys."""

    rules = ("Goal, work item and KPI keys are unique in the plan.",)

    year: Annotated[int, Field(ge=1900, le=2200)]
    title: MultilingualText
    goals: Annotated[
        list[PlanGoal], Field(min_length=1, max_length=20), AfterValidator(_keys_unique)
    ]


class SpendingRecorded(Payload):
    """Money spent against a work item's budget line (NT$ thousand), on a date, for a purpose."""

    work_item: PlanKey
    date: date
    amount: PositiveThousands
    purpose: Text


class KpiValueEntered(Payload):
    """A value of an entered KPI, as of a date, with where it comes from."""

    kpi: PlanKey
    date: date
    value: Annotated[float, Field(ge=0, le=10**9)]
    source: Text


register(PLANS, PlanAdopted, SpendingRecorded, KpiValueEntered)
# --- gifts (twinning.gifts) ------------------------------------------------------------
# The gifts register, for audit: staff only, never in a public output. Every event of a gift
# is keyed by the gift's id.


class GiftDirection(StrEnum):
    GIVEN = "given"
    RECEIVED = "received"


class GiftCategory(StrEnum):
    ART = "art"
    CRAFT = "craft"
    BOOK = "book"
    TEXTILE = "textile"
    FOOD_AND_DRINK = "food-and-drink"
    CEREMONIAL = "ceremonial"
    SOUVENIR = "souvenir"
    OTHER = "other"


class GiftLocation(StrEnum):
    """Where a gift is now."""

    KEPT = "kept"
    ON_DISPLAY = "on-display"
    ARCHIVED = "archived"
    RETURNED = "returned"
    GIVEN_AWAY = "given-away"


class GiftPartyKind(StrEnum):
    OFFICIAL = "official"
    PARTNER = "partner"
    MISSION = "mission"
    PERSON = "person"


class GiftParty(Payload):
    """Who gives or receives a gift: a registered official, partner city or foreign mission
    (`id`), or a person named in `name`; a registered one may carry a `name` too (the person
    who handed it over or took it). A person who is one of the office's contacts names the
    contact's `id` as well: erasing that contact erases their name in the gifts register."""

    rules = (
        "An official, partner or mission names its `id`; a person names a `name`, and the"
        " `id` of a contact when they are one.",
    )
    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "required": ["kind"],
                "properties": {"kind": {"const": "person"}},
            },
            "then": all_given("name"),
            "else": all_given("id"),
        }
    )

    kind: GiftPartyKind
    id: EntityId | None = None
    name: Name | None = None

    @model_validator(mode="after")
    def _identified(self) -> GiftParty:
        if self.kind is GiftPartyKind.PERSON and self.name is None:
            raise ValueError("a person needs a name")
        if self.kind is not GiftPartyKind.PERSON and self.id is None:
            raise ValueError(f"a {self.kind.value} needs an id")
        return self


class GiftOccasion(Payload):
    """What a gift was given or received on: a delegation visit, a trip abroad or a city event."""

    kind: Literal["visit", "trip", "city-event"]
    id: EntityId


@cache
def _currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(code for code in list_currencies() if len(code) == 3 and code.isalpha())


def _currency_code(value: str) -> str:
    if value not in _currencies():
        raise ValueError(f"unknown ISO 4217 currency code {value!r}")
    return value


CurrencyCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$"),
    AfterValidator(_currency_code),
    Published(
        "CurrencyCode",
        lambda: {
            "type": "string",
            "enum": sorted(_currencies()),
            "description": "An ISO 4217 currency code, in upper case (TWD, JPY, USD, ...).",
        },
    ),
]
#: A gift's value as decimal text, two decimals (cents) at most, up to a thousand million.
GIFT_VALUE_PATTERN = r"^(\d{1,9}(\.\d{1,2})?|1000000000(\.0{1,2})?)$"


def _gift_value_text(value: object) -> object:
    """A gift's value given as text is a plain decimal ("12000", "300.50"): no exponent, sign,
    spaces or words (what the published schema's pattern says); a fraction as a JSON number
    would pass through binary floating point."""
    if isinstance(value, str) and not re.fullmatch(GIFT_VALUE_PATTERN, value):
        raise ValueError('give the value as a decimal, such as "12000" or "300.50"')
    return _no_binary_fraction(value)


GiftValue = Annotated[
    Decimal,
    BeforeValidator(_gift_value_text),
    Field(ge=0, le=Decimal("1000000000"), decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 10**9},
                {"type": "string", "pattern": GIFT_VALUE_PATTERN},
            ],
            "description": "In the gift's currency: a whole number, or a decimal text with two"
            ' decimals at most, such as "300.50".',
        }
    ),
]


class GiftPhoto(Payload):
    """A photo of the gift, kept by the API (EXIF stripped) and named by its SHA-256."""

    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    media_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: Annotated[int, Field(ge=1, le=10_000_000)]


class GiftRecorded(Payload):
    """A gift the city gave or received was entered in the gifts register."""

    rules = ("`estimated_value` and `currency` are given together, or neither.",)
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                all_given("estimated_value", "currency"),
                {
                    "properties": {
                        "estimated_value": {"type": "null"},
                        "currency": {"type": "null"},
                    }
                },
            ]
        }
    )

    direction: GiftDirection
    description: MultilingualText
    category: GiftCategory
    date: date
    giver: GiftParty
    recipient: GiftParty
    occasion: GiftOccasion | None = None
    estimated_value: GiftValue | None = None
    currency: CurrencyCode | None = None
    location: GiftLocation = GiftLocation.KEPT
    notes: Text | None = None
    photo: GiftPhoto | None = None

    @model_validator(mode="after")
    def _value_with_currency(self) -> GiftRecorded:
        if (self.estimated_value is None) != (self.currency is None):
            raise ValueError("give the estimated value and its currency together")
        return self


class GiftUpdated(Update):
    """Some facts of a gift changed (where it is now, most often); a change of its value or
    currency takes back an approval given before."""

    clearable: ClassVar[frozenset[str]] = frozenset(
        {"occasion", "estimated_value", "currency", "notes", "photo"}
    )

    direction: GiftDirection | None = None
    description: MultilingualText | None = None
    category: GiftCategory | None = None
    date: Day | None = None
    giver: GiftParty | None = None
    recipient: GiftParty | None = None
    occasion: GiftOccasion | None = None
    estimated_value: GiftValue | None = None
    currency: CurrencyCode | None = None
    location: GiftLocation | None = None
    notes: Text | None = None
    photo: GiftPhoto | None = None


class GiftApproved(Payload):
    """A gift above the approval threshold was approved (the approver is the event's actor)."""

    note: Text | None = None


register(GIFTS, GiftRecorded, GiftUpdated, GiftApproved)


# --- our city's profile (twinning.partners) ---------------------------------------------
# Our own city as the leaflet and the brochures present it beside the partners.

#: The aggregate of the profile: there is one.
CITY_PROFILE = "city-profile"
ProfileParagraph = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=600),
    AfterValidator(printable),
]
FigureLabel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(printable),
]
FigureValue = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=30),
    AfterValidator(printable),
]


class KeyFigure(Payload):
    """A figure of our city as printed: its value as written (`2,330,000`, `1,221 km²`,
    `1950`) under a label in several languages (`Population`, `人口`)."""

    label: Annotated[
        dict[LanguageTag, FigureLabel],
        AfterValidator(_names_not_empty),
        Field(json_schema_extra={"minProperties": 1}),
    ]
    value: FigureValue


class CityProfileSet(Payload):
    """The office's profile of its own city, for the leaflet and the brochures: a paragraph in
    several languages and up to six key figures. Each replaces the one before."""

    about: dict[LanguageTag, ProfileParagraph] = Field(
        default_factory=dict,
        max_length=20,
        description="The paragraph about the city, keyed by language (up to 600 characters).",
    )
    figures: list[KeyFigure] = Field(default_factory=list, max_length=6)


register(PARTNERS, CityProfileSet)


# --- photos for the leaflet and the brochures (twinning.partners) -----------------------
# A photo of our city, a partner city, an exchange or a visit, with its caption and alt text
# in several languages. The bytes are kept by the API (cleaned, named by their SHA-256);
# the events name them only.


class PhotoSubjectKind(StrEnum):
    CITY = "city"
    PARTNER = "partner"
    EXCHANGE = "exchange"
    VISIT = "visit"


PhotoCaption = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(printable),
]
PhotoAlt = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(printable),
]
PhotoCaptions = Annotated[
    dict[LanguageTag, PhotoCaption],
    Field(
        max_length=20,
        description="The caption printed under the photo, keyed by language (up to 200"
        " characters each); may be empty.",
    ),
]
PhotoAlts = Annotated[
    dict[LanguageTag, PhotoAlt],
    AfterValidator(_names_not_empty),
    Field(
        max_length=20,
        description="What the photo shows, for readers who cannot see it (alt text), keyed by"
        " language (up to 300 characters each); one language at least.",
        json_schema_extra={"minProperties": 1},
    ),
]


class PhotoFile(Payload):
    """A photo as the API keeps it (metadata stripped, resized), named by its SHA-256."""

    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    media_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: Annotated[int, Field(ge=1, le=10_000_000)]
    width: Annotated[int, Field(ge=1, le=10_000)]
    height: Annotated[int, Field(ge=1, le=10_000)]


class PhotoAttached(Payload):
    """A photo was attached to our city, a partner city, an exchange or a visit, for the
    leaflet and the brochures (`partner_ids`: the partner cities whose brochures show it)."""

    subject_kind: PhotoSubjectKind
    subject_id: EntityId
    partner_ids: list[EntityId] = Field(default_factory=list, max_length=50)
    file: PhotoFile
    caption: PhotoCaptions = Field(default_factory=dict)
    alt: PhotoAlts


class PhotoDescribed(Payload):
    """A photo's caption and alt text were replaced (both, whole)."""

    caption: PhotoCaptions = Field(default_factory=dict)
    alt: PhotoAlts


class PhotoRemoved(Payload):
    """A photo was taken away: no document shows it any more."""


register(PARTNERS, PhotoAttached, PhotoDescribed, PhotoRemoved)


# --- lookups and the envelope -----------------------------------------------------------


def event_type_of(payload: Payload) -> EventType:
    """The newest registered event type whose payload model is `payload`'s class."""
    matches = [e for e in EVENT_TYPES.values() if e.payload is type(payload)]
    if not matches:
        raise LookupError(f"{type(payload).__name__} is not a registered event payload")
    return max(matches, key=lambda e: e.schema_version)


def event_type_name(payload_class: object) -> str:
    """The event type a payload class is registered as (its name), checked: a `TypeError` for
    what is not a payload class, a `LookupError` for one that `register()` never declared (a
    part of another payload, a base class such as `VisitStep`)."""
    if not (isinstance(payload_class, type) and issubclass(payload_class, Payload)):
        raise TypeError(f"{payload_class!r} is not a payload class (a subclass of Payload)")
    for event_type in EVENT_TYPES.values():
        if event_type.payload is payload_class:
            return event_type.name
    raise LookupError(
        f"{payload_class.__name__} is not a registered event type"
        " (twinning.streams.events register() declares them)"
    )


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

    @cached_property
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
    try:  # straight from the bytes, once: the usual case
        envelope = Envelope.model_validate_json(raw)
    except ValidationError:  # parse it again the slow way, to say why exactly
        envelope = _envelope(raw)
    event_type = EVENT_TYPES.get((envelope.type, envelope.schema_version))
    if event_type is None:
        known = sorted({name for name, _ in EVENT_TYPES})
        if envelope.type in known:
            reason = f"unknown schema_version {envelope.schema_version} of {envelope.type}"
        else:
            reason = f"unknown event type {envelope.type!r} (known: {', '.join(known)})"
        raise InvalidEvent(reason, _sent_event_id(raw))
    if topic is not None and topic != event_type.topic:
        raise InvalidEvent(
            f"{envelope.type} belongs on {event_type.topic}, not on {topic}", _sent_event_id(raw)
        )
    try:
        payload = event_type.payload.model_validate(envelope.payload)
    except ValidationError as exc:
        reason = f"invalid {envelope.type} payload: {_short(exc)}"
        raise InvalidEvent(reason, _sent_event_id(raw)) from None
    # Both parts are validated: construct, not validate again (a fifth of a batch's time).
    return Event.model_construct(envelope=envelope, payload=payload, event_type=event_type)


def _envelope(raw: bytes | str) -> Envelope:
    """The envelope of a message that `model_validate_json` refused, through `json.loads`
    (which reads more than it does: UTF-16, NaN): the envelope, or why there is none."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    try:
        return Envelope.model_validate(document)
    except ValidationError as exc:
        reason = f"invalid envelope: {_short(exc)}"
        raise InvalidEvent(reason, _event_id_in(document)) from None


def _sent_event_id(raw: bytes | str) -> str | None:
    """The event id of a refused message as it was sent (for its dead letter)."""
    try:
        return _event_id_in(json.loads(raw))
    except ValueError:
        return None


def _event_id_in(document: Any) -> str | None:
    if isinstance(document, dict) and "event_id" in document:
        return str(document.get("event_id"))
    return None


# --- JSON Schema, published for other producers -----------------------------------------

#: The source folder (resolved: a strict editable install serves this module through a link, and
#: a schema written beside the link would be a file git never sees).
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


class PublishedJsonSchema(GenerateJsonSchema):
    """The JSON Schema of the published events: the models' own, and what `printable` refuses
    as a pattern (control characters, and a text of white space only where the trimmed text
    has a minimum length). The OpenAPI leaves that pattern out: there a free-text field is one
    with no pattern (tests/test_hostile_text.py finds them so)."""

    def function_after_schema(
        self, schema: core_schema.AfterValidatorFunctionSchema
    ) -> JsonSchemaValue:
        json_schema = super().function_after_schema(schema)
        inner = schema["schema"]
        if (
            schema["function"]["function"] is printable
            and inner["type"] == "str"
            and "pattern" not in json_schema
        ):
            json_schema = {**json_schema, "pattern": PRINTABLE_PATTERN}
            if inner.get("strip_whitespace") and inner.get("min_length", 0) >= 1:
                json_schema["not"] = {"pattern": BLANK_PATTERN}
        return json_schema


def _rules_in(description: str) -> list[str]:
    """The rules a definition's description states (see `_with_rules`)."""
    _, _, listed = description.partition(f"\n{RULES_HEADING}\n")
    return [line.removeprefix("- ") for line in listed.splitlines() if line.startswith("- ")]


def _all_rules(schema: dict[str, Any], payload: type[Payload]) -> list[str]:
    """The payload's rules, then those of the definitions it uses."""
    rules = list(payload.all_rules())
    for definition in schema.get("$defs", {}).values():
        rules += [r for r in _rules_in(definition.get("description", "")) if r not in rules]
    return rules


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema of the whole message (envelope with typed payload) per event
    type. Its description states every rule of the payload (and of its parts) that JSON Schema
    cannot express."""
    schemas: dict[str, dict[str, Any]] = {}
    for (name, version), event_type in sorted(EVENT_TYPES.items()):
        doc = inspect.cleandoc(event_type.payload.__doc__ or "")
        model = create_model(
            name,
            __base__=Envelope,
            __doc__=doc,
            type=(Literal[name], ...),  # type: ignore[arg-type]
            schema_version=(Literal[version], ...),  # type: ignore[arg-type]
            payload=(event_type.payload, ...),
        )
        schema = model.model_json_schema(schema_generator=PublishedJsonSchema)
        schema["$schema"] = PublishedJsonSchema.schema_dialect
        schema["$id"] = f"https://twinning.example/schemas/{name}.v{version}.json"
        schema["description"] = _with_rules(doc, _all_rules(schema, event_type.payload))
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
