"""The OpenAPI document is what the API does (issue 20, item 11).

schemathesis generates requests from the document, valid and invalid, sends them to the app in
this process (ASGI: no server, no broker, no worker) with the first admin's token, and checks
every answer: no 5xx (but the 503s the API answers by design here), a status code that the
operation documents, a body and a media type as documented, 401 without the token, a 405 that
names every method of the path, schema-valid requests accepted (not refused with 400, 415 or
422, but see `REFUSED_BEYOND_THE_SCHEMA`) and schema-violating ones refused (4xx). A few
examples per operation, derandomized with a fixed seed: the same requests on every run.

What a viewer (the lowest role) is answered is checked apart, one request per operation: the
403s of commands, personal data and administration are documented too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from anyio.from_thread import start_blocking_portal
from conftest import ADMIN_TOKEN, bearer, migrated_settings, new_database_url
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.config import ChecksConfig, SchemathesisConfig
from starlette.types import ASGIApp, Receive, Scope, Send
from twinning.api.app import create_app, ensure_first_admin
from twinning.config import Settings

#: Examples per operation in the fuzzing phase, valid and invalid.
EXAMPLES = 5
#: schemathesis's coverage phase (TWINNING_OPENAPI_COVERAGE=1) adds what the fuzzing phase may
#: not draw in a few examples: each field missing, each boundary, each wrong type, each other
#: method (405 and `Allow`), a body in another media type (415). It sends many more requests
#: (the whole test takes about four times as long): it passes, and is for a thorough run.
COVERAGE = os.environ.get("TWINNING_OPENAPI_COVERAGE") == "1"

#: 503 by design in this process: /health (no broker, no worker), and a leaflet or brochure
#: that no worker has rendered (retry shortly).
ANSWER_503_BY_DESIGN = [
    "/health",
    "/publicity/leaflet",
    "/publicity/leaflet/versions/{number}",
    "/partners/{partner_id}/brochure",
    "/partners/{partner_id}/brochure/versions/{number}",
]

#: What a schema-valid request may still be refused for (422), by the words of the refusal: a
#: rule that the OpenAPI document does not express as JSON Schema. Any other 422 to a
#: schema-valid request fails the test: then the schema must say that rule.
REFUSED_BEYOND_THE_SCHEMA: dict[str, str] = {
    # JSON Schema cannot say these: the document says them in words.
    "unknown language tag": "a language that CLDR knows; the pattern says only a tag's shape "
    "(LanguageTag's description)",
    "control characters are not allowed": "stated in info.description; a pattern on each text "
    "field would hide the free-text fields from tests/test_hostile_text.py, which finds them "
    "by their having none",
    "must be after": "an end after its start (a rule across fields)",
    "a language pair": "an interpreter's directions go from one language into another, each "
    "once (stated in the event's rules)",
    "must not be before": "a period's end not before its start (across query parameters)",
    "special-use or reserved name": "an email address at a domain that can receive mail "
    "(email-validator refuses .test, .invalid, ...): `format: email` says only the shape",
    "and only then": "an official's feed names the official, the office's none (across fields)",
    "unsupported language": "a feed's language: the field's description names those there are; a "
    "tag close to one (en-US, zh-Hant-TW) is read as it, so no enum would be true",
    "invited more than once": "an invitee once per request (uniqueItems cannot compare only "
    "the invitee's kind and id)",
    "Give a CSV or XLSX file": "an import's file is named .csv or .xlsx, or its `format` given "
    "(JSON Schema sees no file name)",
    "The file ": "an import's file is a CSV or XLSX laid out as the export's (the route says so; "
    "JSON Schema cannot describe a file's content)",
    "has no filter": "a KPI's filters are those its measure takes (across fields: the rules of "
    "KpiComputation say which)",
    "has nothing to sum": "a sum only of the measures whose events carry a number (across fields)",
    "used twice in the plan": "goal, work item and KPI keys unique in the plan (uniqueItems "
    "cannot compare only the keys)",
    # JSON Schema could say these, in models outside the API's package (left over: see the
    # report of issue 20, item 11).
    "at least 1 character": "a text of white space only, trimmed to nothing: the OpenAPI has "
    "no pattern for it (the published event schemas have)",
    "URL scheme should be": "a website is http or https: the OpenAPI says only `format: uri`",
    "the photo": "a gift's photo is a JPEG, PNG or WebP image of a bounded size: its content, "
    "which no schema can check",
    "choose a photo file": "an empty file part is no photo (a gift's or the publicity's): the "
    "file's content, which no schema can check",
    "decimal places": "a gift's value in cents at most: the OpenAPI has no `multipleOf` for a "
    "decimal",
    "valid decimal": "a gift's value written as a string: pydantic's pattern for it admits an "
    "empty string, which is no number",
}
#: Words by which the document states the rules beyond JSON Schema that it states.
STATED: dict[str, str] = {
    "unknown language tag": "CLDR",
    "control characters are not allowed": "control characters",
}


CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20,
        # A year's plan (POST /plans) nests goals, work items and KPIs, each with texts in
        # several languages: drawing one takes seconds, which Hypothesis would call too slow.
        "suppress-health-check": ["too_slow"],
        # The first admin's token, as the auth the document declares (`APIToken`): with it,
        # schemathesis also sends each operation once without a token and once with a wrong
        # one, and expects 401.
        "auth": {"openapi": {"APIToken": {"bearer": ADMIN_TOKEN}}},
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        # A request refused is one answered with any of schemathesis's own refusals, or with 413:
        # a generated body over the API's 1 MB limit (the plan's nested texts can reach it) is
        # refused for its size before anything reads it.
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    *ChecksConfig().negative_data_rejection.expected_statuses,
                    "413",
                ]
            }
        },
        # Operations one at a time: no chains of calls (the stateful phase).
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": COVERAGE}},
        "operations": [
            {
                "include-path": ANSWER_503_BY_DESIGN,
                "checks": {
                    "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}
                },
            },
            {
                # `PATCH /partners/stats` is `PATCH /partners/{partner_id}` of a partner whose
                # id would be "stats" (404): a 405 to `DELETE /partners/stats` says
                # `Allow: GET, PATCH`, the methods that the path is routed to.
                "include-path": "/partners/stats",
                "checks": {"allow_header_conformance": {"enabled": False}},
            },
        ],
    }
)


class AppUnderTest:
    """The ASGI app that schemathesis sends each request to: the API that the `api` fixture
    makes on a new database. The document is loaded when this module is imported, before any
    database exists (schemathesis's loader from a fixture, `schemathesis.pytest.from_fixture`,
    fails on pytest 9.2: it sets `request.node._nodeid`, which pytest no longer has)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the `api` fixture makes the app under test"
        await self.app(scope, receive, send)


UNDER_TEST = AppUnderTest()
# The document only: building the app opens no connection.
DOCUMENT = create_app(
    Settings(database_url="sqlite://", _env_file=None),  # type: ignore[call-arg]
    with_relay=False,
).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
# What `schemathesis.openapi.from_asgi` does after fetching the document from the app.
schema.app = UNDER_TEST


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppUnderTest]:
    """The API on a new SQLite database, shared by every operation's test: what one writes
    stays for the next to read. schemathesis runs its lifespan (the first admin) around each
    test, as a server would."""
    tmp_path: Path = tmp_path_factory.mktemp("openapi")
    settings = migrated_settings(f"sqlite:///{tmp_path / 'twinning.db'}", tmp_path)
    UNDER_TEST.app = create_app(settings, with_relay=False)
    yield UNDER_TEST
    UNDER_TEST.app = None


def schema_valid_requests_are_accepted(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis's `positive_data_acceptance`, but for a 422 whose every error is one of
    `REFUSED_BEYOND_THE_SCHEMA`."""
    meta = case.meta
    if response.status_code == 422 and meta is not None and meta.generation.mode.is_positive:
        errors = response.json().get("errors") or []
        # A value of a union (`bool | Text`) is refused once per branch: it is refused beyond
        # the schema if one branch says so (the text branch's control characters).
        fields: dict[tuple[str, ...], bool] = {}
        for e in errors:
            field = tuple(map(str, e["loc"][:2]))
            beyond = any(words in e["msg"] for words in REFUSED_BEYOND_THE_SCHEMA)
            fields[field] = fields.get(field, False) or beyond
        if fields and all(fields.values()):
            return None
    return positive_data_acceptance(ctx, response, case)


def test_the_rules_not_in_the_schemas_are_stated_in_the_document() -> None:
    text = repr(DOCUMENT)
    for rule, stated in STATED.items():
        assert stated in text, f"{rule!r}: the document does not say {stated!r}"


@schema.parametrize()
def test_the_api_answers_as_its_openapi_document_says(
    case: schemathesis.Case, api: AppUnderTest
) -> None:
    case.call_and_validate(
        excluded_checks=[positive_data_acceptance],
        additional_checks=[
            schema_valid_requests_are_accepted,
            negative_data_rejection,
        ],
    )


# --- a viewer ---------------------------------------------------------------------------------


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_viewer_is_answered_as_documented(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = migrated_settings(new_database_url(kind, tmp_path, request), tmp_path)
    app = create_app(settings, with_relay=False)
    refused = []
    with start_blocking_portal() as portal:
        portal.call(ensure_first_admin, app.state.sessions, settings)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")

        def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            return portal.call(lambda: client.request(method, url, **kwargs))

        try:
            admin = bearer(ADMIN_TOKEN)
            viewer = call(
                "POST", "/users", json={"name": "viewer", "role": "viewer"}, headers=admin
            )
            token = call("POST", f"/users/{viewer.json()['id']}/tokens", json={}, headers=admin)
            as_viewer = bearer(token.json()["token"])
            for path, operations in DOCUMENT["paths"].items():
                url = path.replace("{", "").replace("}", "")  # /visits/visit_id: no such visit
                for method, operation in operations.items():
                    label = f"{method.upper()} {path}"
                    body = {"json": {}} if "requestBody" in operation else {}
                    answer = call(method.upper(), url, headers=as_viewer, **body)
                    documented = operation["responses"].get(str(answer.status_code))
                    assert documented is not None, (
                        f"{label} answered {answer.status_code}, documented: "
                        f"{sorted(operation['responses'])}: {answer.text[:300]}"
                    )
                    if "content" in documented and answer.status_code >= 400:
                        assert _media_type(answer) in documented["content"], label
                    if answer.status_code == 403:
                        refused.append(label)
        finally:
            portal.call(client.aclose)
            portal.call(app.state.sessions.kw["bind"].dispose)
    # Every command, the personal data and the administration are refused to a viewer; reads
    # of what is not personal are not.
    assert {"POST /partners", "GET /contacts", "GET /users", "POST /feed-links"} <= set(refused)
    assert "GET /partners" not in refused
