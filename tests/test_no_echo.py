"""Bad input never comes back (issue 20, item 1): personal data planted in a refused request,
on every write route the OpenAPI lists, is in neither the answer nor any log line."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from conftest import InlineApi

#: What a caller might send about a person: an email, a phone number, a name.
PLANTED = ("ada.lovelace.4711@example.org", "+886-2-2720-8889", "Ada Lovelace Byron")
#: A lone surrogate: not text, so every string field is refused (and cannot be stored).
NOT_TEXT = "\ud800"


def _schema(openapi: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = openapi["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _bad_body(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Every property of the body's schema set to planted personal data that is not valid
    text (a string where a number or an object belongs is refused too)."""
    properties = _schema(openapi, schema).get("properties", {})
    names = list(properties) or ["name"]
    return {name: PLANTED[n % len(PLANTED)] + NOT_TEXT for n, name in enumerate(names)}


def _write_routes(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    routes = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if method in ("post", "put", "patch") and body is not None:
                url = re.sub(r"\{[^}]+\}", "x1", path)
                routes.append((method.upper(), url, body["schema"]))
    return routes


def test_personal_data_in_a_refused_request_is_never_echoed_nor_logged(
    inline_api: InlineApi, caplog: pytest.LogCaptureFixture
) -> None:
    openapi = inline_api.get("/openapi.json").json()
    routes = _write_routes(openapi)
    assert len(routes) >= 15, [url for _, url, _ in routes]  # the API's write routes
    caplog.set_level(logging.DEBUG)
    for method, url, schema in routes:
        body = json.dumps(_bad_body(openapi, schema))  # ASCII: the surrogate as \\ud800
        response = inline_api.request(
            method, url, content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (method, url, response.status_code)
        assert response.headers["content-type"] == "application/problem+json", (method, url)
        for planted in PLANTED:
            assert planted not in response.text, (method, url, response.text)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for planted in PLANTED:
        assert planted not in logged
