"""Photos for the leaflet and the brochures in the browser: a staff member adds a photo to a
partner city from its page (refused without its alt text, then accepted with a caption and
alt text in Traditional Chinese and English), sees it on the partner's page in the page's
language, changes its caption, and removes it; in Traditional Chinese and in English. The
result is checked through the API (metadata gone); a viewer sees the photos and cannot add."""

from __future__ import annotations

import io

from conftest import in_two_languages
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from web_support import VIEWER, Office, accessibility_violations, office, text

__all__ = ["office"]  # a fixture

ALT = {"zh-TW": "札幌大通公園的雪祭", "en": "The snow festival in Sapporo's Odori Park"}
CAPTION = {"zh-TW": "2025 年札幌雪祭", "en": "Sapporo Snow Festival, 2025"}


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (900, 600), (40, 110, 190))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (43.0, 3.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def submit(page: Page, name: str, locale: str) -> None:
    page.get_by_role("button", name=text(name, locale), exact=True).click()


@in_two_languages
def test_staff_add_a_photo_to_a_partner_city_with_its_caption_and_alt_text(
    office: Office, browser: Browser, locale: str
) -> None:
    sapporo = office.partners["Sapporo"]
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto(f"/ui/partners/{sapporo}")
    section = page.get_by_role(
        "region", name=text("Photos for the leaflet and the brochures", locale)
    )
    section.get_by_role("link", name=text("Add a photo", locale)).click()
    expect(page.locator("h1")).to_have_text(text("Add a photo", locale))
    assert accessibility_violations(page) == []

    page.locator("#file").set_input_files(
        {"name": "snow.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}
    )
    submit(page, "Add the photo", locale)
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(
        text(
            "Describe what the photo shows for readers who cannot see it, in one language at"
            " least, up to 300 characters each",
            locale,
        )
    )
    assert accessibility_violations(page) == []

    page.locator("#file").set_input_files(
        {"name": "snow.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}
    )
    for code in ("zh-TW", "en"):
        page.locator(f"#alt_{code}").fill(ALT[code])
        page.locator(f"#caption_{code}").fill(CAPTION[code])
    submit(page, "Add the photo", locale)

    expect(page.locator("h1")).to_have_text({"zh-TW": "札幌市", "en": "Sapporo"}[locale])
    section = page.get_by_role(
        "region", name=text("Photos for the leaflet and the brochures", locale)
    )
    photo = section.get_by_role("img", name=ALT[locale])
    expect(photo).to_be_visible()
    expect(section).to_contain_text(CAPTION[locale])
    # The image is served: decode() waits for it to load (naturalWidth is 0 until it has).
    assert photo.evaluate("img => img.decode().then(() => img.naturalWidth)") == 900
    assert accessibility_violations(page) == []

    [stored] = office.call(
        "GET", "/photos", params={"subject_kind": "partner", "subject_id": sapporo}
    ).json()
    assert stored["alt"] == ALT and stored["caption"] == CAPTION
    image = office.call("GET", stored["image_url"])
    assert b"SecretCam" not in image.content
    with Image.open(io.BytesIO(image.content)) as opened:
        assert dict(opened.getexif()) == {}

    section.get_by_role(
        "link", name=text("Change the caption and alt text, or remove", locale)
    ).click()
    page.locator("#caption_en").fill("Odori Park in February")
    submit(page, "Save the caption and alt text", locale)
    if locale == "en":
        expect(page.get_by_text("Odori Park in February")).to_be_visible()
    else:
        expect(page.get_by_text(CAPTION["zh-TW"])).to_be_visible()
    page.get_by_role(
        "link", name=text("Change the caption and alt text, or remove", locale)
    ).click()
    submit(page, "Remove the photo", locale)
    section = page.get_by_role(
        "region", name=text("Photos for the leaflet and the brochures", locale)
    )
    expect(section.get_by_role("img")).to_have_count(0)
    assert (
        office.call(
            "GET", "/photos", params={"subject_kind": "partner", "subject_id": sapporo}
        ).json()
        == []
    )


def test_a_viewer_sees_the_photos_but_may_not_add_one(office: Office) -> None:
    sapporo = office.partners["Sapporo"]
    with office.signed_in(VIEWER) as (client, _csrf):
        page = client.get(f"/ui/partners/{sapporo}")
        assert page.status_code == 200
        assert "/ui/photos/new" not in page.text
        new = client.get(f"/ui/photos/new?subject_kind=partner&subject_id={sapporo}")
        assert new.status_code == 403
