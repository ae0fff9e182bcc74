"""The API answers in the reader's language: `?lang=` or `Accept-Language` picks the locale,
partner names follow the fallback chain, country names come from CLDR, and the answer says
which language it is in."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from conftest import ADMIN_TOKEN, Projection, bearer, sample_partner
from fastapi import FastAPI
from twinning.api.app import create_app
from twinning.streams.events import PartnerCityRegistered, new_event


def get(app: FastAPI, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """One request through the whole ASGI app, lifespan included, on an event loop of its own."""

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=transport, base_url="http://twinning.test", headers=bearer(ADMIN_TOKEN)
            ) as client,
        ):
            return await client.get(url, headers=headers)

    return asyncio.run(run())


@pytest.fixture
def app(projection: Projection) -> FastAPI:
    """The API over a read model filled through the worker's projection path."""
    osaka = {**sample_partner(), "names": {"zh-TW": "大阪市", "en": "Osaka", "ja": "大阪市"}}
    busan = {
        **sample_partner(),
        "names": {"zh-TW": "釜山廣域市", "en": "Busan"},
        "country": "KR",
        "timezone": "Asia/Seoul",
    }
    events = [
        new_event(PartnerCityRegistered.model_validate(data), aggregate_id=key, actor="staff")
        for key, data in [("osaka", osaka), ("busan", busan)]
    ]
    assert projection.apply(*events) == ["applied", "applied"]
    return create_app(projection.settings, with_relay=False)


def test_a_partner_is_shown_in_japanese_to_a_japanese_reader(app: FastAPI) -> None:
    response = get(app, "/partners/busan", {"Accept-Language": "ja-JP,ja;q=0.9"})

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "ja"
    partner = response.json()
    assert (partner["name"], partner["country_name"]) == ("Busan", "韓国")
    assert partner["names"] == {"zh-TW": "釜山廣域市", "en": "Busan"}


def test_the_partner_list_follows_the_lang_parameter_over_the_header(app: FastAPI) -> None:
    response = get(app, "/partners?lang=zh-TW", {"Accept-Language": "ja"})

    assert response.headers["Content-Language"] == "zh-TW"
    shown = {(p["id"], p["name"], p["country_name"]) for p in response.json()}
    assert shown == {("osaka", "大阪市", "日本"), ("busan", "釜山廣域市", "南韓")}


def test_a_reader_without_a_language_gets_the_offices_default(app: FastAPI) -> None:
    response = get(app, "/partners?lang=xx-unknown")

    assert response.headers["Content-Language"] == "zh-TW"
    assert {p["name"] for p in response.json()} == {"大阪市", "釜山廣域市"}
