"""The gifts register in the browser: a gift given on a visit recorded through its form
(refused with what to fix, then accepted with a photo), approved above the threshold, found in
the register, and shown on the partner's next visit as what the city gave them before; in
Traditional Chinese and in English. Viewers never see it. Each result is checked through the
API."""

from __future__ import annotations

import io

from conftest import accepted, in_two_languages, sample_visit
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from twinning.gifts.register import money
from web_support import VIEWER, Office, accessibility_violations, office, text

__all__ = ["office"]  # a fixture

SAPPORO = {"zh-TW": "札幌市", "en": "Sapporo"}
MAYOR = {"zh-TW": "林市長", "en": "Mayor Lin"}


def visits_of_sapporo(office: Office) -> tuple[str, str]:
    """The mayor, and two visits of Sapporo (the one a gift is given on, and the next)."""
    accepted(
        office.call(
            "POST",
            "/officials",
            json={"names": MAYOR, "title": {"en": "Mayor", "zh-TW": "市長"}, "protocol_rank": 1},
        )
    )
    delegation = {"partner_id": office.partners["Sapporo"]}
    first = accepted(office.call("POST", "/visits", json=sample_visit(delegation=delegation)))
    later = sample_visit(
        delegation=delegation, requested_from="2026-10-01", requested_to="2026-10-02"
    )
    second = accepted(office.call("POST", "/visits", json=later))
    return first["id"], second["id"]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (20, 120, 60)).save(out, format="PNG")
    return out.getvalue()


def submit(page: Page, name: str, locale: str) -> None:
    page.get_by_role("button", name=text(name, locale), exact=True).click()


@in_two_languages
def test_a_gift_given_on_a_visit_reaches_the_register_and_the_partners_next_visit(
    office: Office, browser: Browser, locale: str
) -> None:
    first, second = visits_of_sapporo(office)
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto(f"/ui/visits/{first}")
    gifts = page.get_by_role("region", name=text("Gifts", locale))
    expect(gifts).to_contain_text(text("The city has given them no gift before.", locale))
    gifts.get_by_role("link", name=text("Record a gift on this visit", locale)).click()
    expect(page.locator("h1")).to_have_text(text("Record a gift", locale))
    assert accessibility_violations(page) == []

    submit(page, "Record the gift", locale)

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(text("Describe the gift, in one language at least", locale))
    expect(summary).to_contain_text(text("Choose the kind of gift", locale))
    expect(page.locator("#occasion")).to_have_value(f"visit:{first}")  # kept, as chosen
    assert accessibility_violations(page) == []

    page.locator("#description_zh-TW").fill("桃園茶具組")
    page.locator("#description_en").fill("Tea set")
    page.get_by_label(text("Kind of gift", locale)).select_option("craft")
    page.locator("#giver_choice").select_option(label=MAYOR[locale])
    page.locator("#recipient_name").fill("Mayor Akimoto")
    page.locator("#estimated_value").fill("12000")
    page.locator("#photo").set_input_files(
        {"name": "tea.png", "mimeType": "image/png", "buffer": png()}
    )
    submit(page, "Record the gift", locale)

    description = {"zh-TW": "桃園茶具組", "en": "Tea set"}[locale]
    expect(page.locator("h1")).to_contain_text(description)
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text(f"{SAPPORO[locale]} (Mayor Akimoto)")
    expect(facts).to_contain_text(
        text(
            "Awaiting approval: worth more than %(amount)s",
            locale,
            amount=money("3000", "TWD", locale),
        )
    )
    expect(page.get_by_role("img")).to_have_count(1)
    assert accessibility_violations(page) == []
    submit(page, "Approve the gift", locale)
    expect(page.locator("dl.facts").first).to_contain_text(
        text("Approved by %(who)s", locale, who="user:chen.wei")
    )

    page.get_by_role("link", name=text("Gifts", locale), exact=True).click()
    row = page.get_by_role("row").filter(has_text=description)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(text("Given by the city", locale))
    expect(row).to_contain_text(text("Approved", locale))

    page.goto(f"/ui/visits/{second}")
    before = page.get_by_role("region", name=text("Gifts", locale))
    expect(
        before.get_by_role("table", name=text("Gifts given before, newest first", locale))
    ).to_contain_text(description)

    [gift] = office.call("GET", "/gifts").json()
    assert (gift["occasion_kind"], gift["occasion_id"]) == ("visit", first)
    assert gift["recipient"] == {
        "kind": "partner",
        "id": office.partners["Sapporo"],
        "name": "Mayor Akimoto",
    }
    assert (gift["estimated_value"], gift["currency"], gift["approved_by"]) == (
        "12000.00",
        "TWD",
        "user:chen.wei",
    )
    assert gift["photo"]["media_type"] == "image/png"


def test_a_viewer_never_sees_a_gift(office: Office) -> None:
    first, _ = visits_of_sapporo(office)
    with office.signed_in(VIEWER) as (client, _csrf):
        visit = client.get(f"/ui/visits/{first}")
        assert visit.status_code == 200
        assert "/ui/gifts" not in visit.text
        for path in ("/ui/gifts", "/ui/gifts/new", "/ui/gifts/any", "/ui/gifts/register/2026.csv"):
            assert client.get(path).status_code == 403, path
