"""Every app made in a process shares the API's and the pages' routes (`twinning.api.routing`):
each app still keeps its own dependency overrides, and serves every route."""

from __future__ import annotations

import httpx
from conftest import ADMIN_TOKEN, InlineApi, bearer
from twinning.api.app import create_app
from twinning.api.deps import get_personal_data_access
from twinning.web.app import load_pages


def test_an_override_on_one_app_is_not_seen_by_another_app_of_the_process(
    inline_api: InlineApi,
) -> None:
    other = create_app(inline_api.settings, with_relay=False)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other),
        base_url="http://other",
        headers=bearer(ADMIN_TOKEN),
    )

    def from_other(url: str) -> httpx.Response:
        return inline_api.portal.call(client.get, url)

    try:
        inline_api.app.dependency_overrides[get_personal_data_access] = lambda: False
        assert inline_api.get("/contacts").status_code == 403
        assert from_other("/contacts").status_code == 200
        other.dependency_overrides[get_personal_data_access] = lambda: False
        inline_api.app.dependency_overrides.clear()
        assert inline_api.get("/contacts").status_code == 200
        assert from_other("/contacts").status_code == 403
    finally:
        inline_api.portal.call(client.aclose)
        inline_api.portal.call(other.state.sessions.kw["bind"].dispose)


def test_a_second_app_serves_the_pages_and_the_api_as_the_first(inline_api: InlineApi) -> None:
    other = create_app(inline_api.settings, with_relay=False)
    load_pages(other)
    load_pages(inline_api.app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other")

    def both(url: str) -> tuple[int, int]:
        first = inline_api.portal.call(inline_api.client.get, url)
        second = inline_api.portal.call(client.get, url)
        return first.status_code, second.status_code

    try:
        assert both("/health") == (503, 503)  # no worker beats here: degraded on both
        assert both("/partners") == (200, 401)  # the first client signs in, the second does not
        assert both("/ui/signin") == (200, 200)
        assert both("/no-such-page") == (404, 404)
        documented = [
            inline_api.portal.call(c.get, "/openapi.json").json()["paths"]
            for c in (inline_api.client, client)
        ]
        assert documented[0] == documented[1] and "/partners/{partner_id}" in documented[0]
    finally:
        inline_api.portal.call(client.aclose)
        inline_api.portal.call(other.state.sessions.kw["bind"].dispose)
