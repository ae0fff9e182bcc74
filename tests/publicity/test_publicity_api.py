"""The published documents through the API: public, in the language asked for, latest or any
earlier version, HTML or PDF, with the headers a browser and a cache need."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import InlineApi, command, sample_partner
from publicity_support import CountingRender, refresh
from twinning.publicity.fonts import font_sources, missing_fonts


@pytest.fixture
def public(inline_api: InlineApi) -> Iterator[httpx.AsyncClient]:
    """A client with no API token: what a partner city's reader uses."""
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=inline_api.app), base_url="http://inline"
    )
    yield client
    inline_api.portal.call(client.aclose)


def get(api: InlineApi, client: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    return api.portal.call(partial(client.get, url, **kwargs))


@pytest.fixture
def partner_id(inline_api: InlineApi) -> str:
    """A partner registered through the API, its documents rendered."""
    accepted = command(inline_api, "POST", "/partners", json=sample_partner(1))
    refresh(inline_api.settings, render=CountingRender())
    return str(accepted["id"])


def rename(api: InlineApi, partner_id: str, name: str) -> None:
    command(api, "PATCH", f"/partners/{partner_id}", json={"names": {"en": name}})
    refresh(api.settings, render=CountingRender())


def test_the_leaflet_is_public_and_comes_in_the_language_and_format_asked_for(
    inline_api: InlineApi, public: httpx.AsyncClient, partner_id: str
) -> None:
    pdf = get(inline_api, public, "/publicity/leaflet", params={"lang": "ja", "format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-language"] == "ja"
    assert pdf.headers["etag"].startswith('"')
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="leaflet-ja-v1.pdf"' in pdf.headers["content-disposition"]

    html = get(
        inline_api, public, "/publicity/leaflet", headers={"Accept-Language": "ko, en;q=0.5"}
    )
    assert html.status_code == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.headers["content-language"] == "ko"
    assert "lang='ko'" in html.text
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert html.headers["etag"] != pdf.headers["etag"]


def test_an_unchanged_document_answers_304_to_its_etag(
    inline_api: InlineApi, public: httpx.AsyncClient, partner_id: str
) -> None:
    first = get(inline_api, public, "/publicity/leaflet", params={"lang": "en"})
    again = get(
        inline_api, public, "/publicity/leaflet",
        params={"lang": "en"}, headers={"If-None-Match": first.headers["etag"]},
    )  # fmt: skip
    assert again.status_code == 304
    assert again.content == b""
    rename(inline_api, partner_id, "Newtown")
    changed = get(
        inline_api, public, "/publicity/leaflet",
        params={"lang": "en"}, headers={"If-None-Match": first.headers["etag"]},
    )  # fmt: skip
    assert changed.status_code == 200


def test_versions_are_listed_newest_first_and_each_stays_reachable(
    inline_api: InlineApi, public: httpx.AsyncClient, partner_id: str
) -> None:
    rename(inline_api, partner_id, "Newtown")
    listing = get(inline_api, public, "/publicity/leaflet/versions", params={"lang": "es"})
    assert listing.status_code == 200
    body = listing.json()
    assert (body["document"], body["locale"]) == ("leaflet", "es")
    assert [v["number"] for v in body["versions"]] == [2, 1]
    first = body["versions"][-1]
    assert first["pdf_url"] == "/publicity/leaflet/versions/1?lang=es&format=pdf"
    old = get(inline_api, public, first["pdf_url"])
    assert old.status_code == 200
    assert old.headers["content-type"] == "application/pdf"
    assert old.headers["content-language"] == "es"
    assert "immutable" in old.headers["cache-control"]
    latest = get(inline_api, public, "/publicity/leaflet", params={"lang": "es"})
    assert latest.headers["cache-control"] == "no-cache"
    assert 'filename="leaflet-es-v2.html"' in latest.headers["content-disposition"]
    missing = get(inline_api, public, "/publicity/leaflet/versions/9", params={"lang": "es"})
    assert missing.status_code == 404


def test_a_partners_brochure_has_its_latest_and_earlier_versions(
    inline_api: InlineApi, public: httpx.AsyncClient, partner_id: str
) -> None:
    rename(inline_api, partner_id, "Newtown")
    url = f"/partners/{partner_id}/brochure"
    latest = get(inline_api, public, url, params={"lang": "en", "format": "pdf"})
    assert latest.status_code == 200
    assert latest.headers["content-language"] == "en"
    assert 'filename="brochure-en-v2.pdf"' in latest.headers["content-disposition"]
    versions = get(inline_api, public, f"{url}/versions", params={"lang": "en"}).json()
    assert versions["document"] == f"brochure:{partner_id}"
    assert [v["number"] for v in versions["versions"]] == [2, 1]
    first = get(inline_api, public, versions["versions"][1]["html_url"])
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/html; charset=utf-8"
    # Chinese readers see the Chinese name, which did not change: no new version for them.
    chinese = get(inline_api, public, f"{url}/versions", params={"lang": "zh-TW"}).json()
    assert [v["number"] for v in chinese["versions"]] == [1]


def test_unknown_partners_unrendered_documents_and_unknown_formats_are_refused(
    inline_api: InlineApi, public: httpx.AsyncClient
) -> None:
    unknown = get(inline_api, public, "/partners/no-such-partner/brochure")
    assert unknown.status_code == 404
    assert "not found" in unknown.json()["detail"]
    assert get(inline_api, public, "/partners/no-such-partner/brochure/versions").status_code == 404
    # Before the renderer ran there is nothing to serve yet: retry shortly.
    pending = get(inline_api, public, "/publicity/leaflet", params={"lang": "en"})
    assert pending.status_code == 503
    assert pending.headers["retry-after"]
    bad = get(inline_api, public, "/publicity/leaflet", params={"format": "docx"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "format"]


def test_without_the_cjk_fonts_a_cjk_pdf_is_503_saying_what_to_install(
    inline_api: InlineApi,
    public: httpx.AsyncClient,
    partner_id: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A machine without Noto Sans CJK would serve zh-TW, ja and ko PDFs of empty boxes: they
    answer 503 with the package to install; Latin-script PDFs and every HTML version serve."""
    monkeypatch.setenv("TWINNING_FONT_DIRS", str(tmp_path / "no-fonts"))
    font_sources.cache_clear()
    try:
        assert missing_fonts(["zh-TW", "ja", "ko", "en", "es"]) == {
            "zh-TW": "Noto Sans CJK TC",
            "ja": "Noto Sans CJK JP",
            "ko": "Noto Sans CJK KR",
        }
        for language in ("zh-TW", "ja", "ko"):
            pdf = get(
                inline_api, public, "/publicity/leaflet", params={"lang": language, "format": "pdf"}
            )
            assert pdf.status_code == 503, language
            assert "fonts-noto-cjk" in pdf.json()["detail"], pdf.json()
            html = get(inline_api, public, "/publicity/leaflet", params={"lang": language})
            assert html.status_code == 200
        brochure = f"/partners/{partner_id}/brochure"
        assert (
            get(inline_api, public, brochure, params={"lang": "ja", "format": "pdf"}).status_code
            == 503
        )
        english = get(
            inline_api, public, "/publicity/leaflet", params={"lang": "en", "format": "pdf"}
        )
        assert english.status_code == 200 and english.content.startswith(b"%PDF")
    finally:
        monkeypatch.undo()
        font_sources.cache_clear()
    assert missing_fonts(["zh-TW", "ja", "ko"]) == {}  # this machine has them (the suite's setup)


def test_the_print_variant_is_one_download_away(
    inline_api: InlineApi, public: httpx.AsyncClient, partner_id: str
) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    printed = get(
        inline_api, public, "/publicity/leaflet", params={"lang": "en", "format": "print"}
    )
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "application/pdf"
    assert (
        'attachment; filename="leaflet-en-v1-print.pdf"' in printed.headers["content-disposition"]
    )
    reader = PdfReader(BytesIO(printed.content))
    assert b"PDF/X-4" in reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    page = reader.pages[0]
    assert float(page.trimbox.left) - float(page.bleedbox.left) == pytest.approx(3 / 25.4 * 72)
    listed = get(inline_api, public, "/publicity/leaflet/versions", params={"lang": "en"}).json()
    assert (
        listed["versions"][0]["print_url"] == "/publicity/leaflet/versions/1?lang=en&format=print"
    )


def test_a_bilingual_brochure_pairs_the_language_asked_for_with_traditional_chinese(
    inline_api: InlineApi, public: httpx.AsyncClient, partner_id: str
) -> None:
    url = f"/partners/{partner_id}/brochure"
    pdf = get(inline_api, public, url, params={"lang": "ja", "format": "pdf", "bilingual": True})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-language"] == "ja, zh-TW"
    assert 'filename="brochure-ja-zh-TW-v1-1.pdf"' in pdf.headers["content-disposition"]
    assert pdf.content.startswith(b"%PDF")
    # Asked in Chinese: the partner's language (none recorded here: English) comes first.
    html = get(inline_api, public, url, params={"lang": "zh-TW", "bilingual": True})
    assert html.headers["content-language"] == "en, zh-TW"
    assert html.text.index("lang='en'") < html.text.index('lang="zh-TW"')
    again = get(
        inline_api,
        public,
        url,
        params={"lang": "zh-TW", "bilingual": True},
        headers={"If-None-Match": html.headers["etag"]},
    )
    assert again.status_code == 304
