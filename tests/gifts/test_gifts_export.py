"""The yearly gifts register for audit (CSV read back, PDF read as text in zh-TW and en), and
the rule that no public output (leaflet, brochure, iCal feeds) ever shows a gift."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pypdf
import pytest
from conftest import InlineApi, command
from gifts_support import SECRET, record, register_parties
from twinning.publicity import content
from twinning.publicity.render import render_html


@pytest.fixture
def recorded(inline_api: InlineApi) -> dict[str, str]:
    parties = register_parties(inline_api)
    given = record(inline_api, parties)
    command(inline_api, "POST", f"/gifts/{given}/approve")
    record(
        inline_api,
        parties,
        direction="received",
        description={"zh-TW": "青瓷花瓶", "en": "=HYPERLINK(celadon vase)"},
        category="art",
        date="2025-09-10",
        giver={"kind": "partner", "id": parties["partner"]},
        recipient={"kind": "official", "id": parties["mayor"]},
        estimated_value="250",
        currency="USD",
        location="archived",
    )
    record(inline_api, parties, date="2024-12-31", description={"en": "Last year's book"})
    return parties


def test_the_register_of_a_year_reads_back_from_its_csv(
    inline_api: InlineApi, recorded: dict[str, str]
) -> None:
    response = inline_api.get("/gifts/register/2025.csv?lang=en")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert [row["Date"] for row in rows] == ["2025-04-02", "2025-09-10"]  # not 2024's
    given, received = rows
    assert given["Given or received"] == "Given by the city"
    assert given["Giver"] == "Mayor Lin"
    assert given["Recipient"].endswith("(Mayor Tanaka)")
    assert (given["Estimated value"], given["Currency"]) == ("12000.00", "TWD")
    assert given["Approval"] == "Approved by user:admin"
    assert given["Where it is now"] == "Kept by the city"
    assert received["Approval"] == "Awaiting approval"  # USD: no rate set, so it needs one
    assert received["Description"] == "'=HYPERLINK(celadon vase)"  # never run as a formula

    in_chinese = inline_api.get("/gifts/register/2025.csv?lang=zh-TW").content.decode("utf-8-sig")
    assert "青瓷花瓶" in in_chinese and "林市長" in in_chinese


@pytest.mark.parametrize(
    ("language", "wanted"),
    [
        ("zh-TW", ["2025 年禮品登記簿", "林市長", "漆器禮盒", "青瓷花瓶", "已封存"]),
        ("en", ["Gifts register 2025", "Mayor Lin", "lacquer box", "Archived", "$250.00"]),
    ],
)
def test_the_register_pdf_reads_in_the_readers_language(
    inline_api: InlineApi, recorded: dict[str, str], language: str, wanted: list[str]
) -> None:
    response = inline_api.get(f"/gifts/register/2025.pdf?lang={language}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages
    )
    flat = text.replace("\n", "")
    for piece in wanted:
        assert piece in flat, f"{piece!r} missing from the {language} register"
    assert "Last year's book" not in flat


def test_no_public_output_shows_a_gift(inline_api: InlineApi, recorded: dict[str, str]) -> None:
    partner = recorded["partner"]
    link = inline_api.post(
        "/feed-links", json={"audience": {"kind": "office"}, "language": "en", "label": "desk"}
    )
    assert link.status_code == 201, link.text
    feeds = [
        inline_api.get(link.json()["url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""])),
        inline_api.get(f"/partners/{partner}/calendar.ics"),
    ]

    async def documents() -> list[str]:
        now = datetime.now(UTC)
        settings = inline_api.settings
        async with inline_api.app.state.sessions() as session:
            found = []
            for locale in ("zh-TW", "en"):
                found.append(
                    render_html(
                        await content.leaflet(session, locale=locale, now=now, settings=settings)
                    )
                )
                brochure = await content.brochure(
                    session, partner_id=partner, locale=locale, now=now, settings=settings
                )
                assert brochure is not None
                found.append(render_html(brochure))
            return found

    public = [r.text for r in feeds] + inline_api.portal.call(documents)
    assert all(r.status_code == 200 for r in feeds)
    assert "Testville" in public[-1]  # the partner's brochure is there, and shows the partner
    for shown in public:
        assert SECRET not in shown and "lacquer" not in shown and "青瓷" not in shown
