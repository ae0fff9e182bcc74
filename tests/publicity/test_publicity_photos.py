"""Photos for the leaflet and the brochures: cleaned on upload (EXIF and GPS gone, resized,
what is not a photo refused naming the field), attached to a partner city, an exchange or a
visit with a caption and alt text per language, shown on the documents in their language
(the image in the PDF, its alt text in the structure tree), renewed when a photo changes."""

from __future__ import annotations

import asyncio
import io
from collections import Counter

import httpx
import pytest
from conftest import InlineApi, bearer, command, in_two_languages, sample_partner
from markupsafe import escape
from PIL import Image
from pypdf import PdfReader
from test_publicity_content import gathered
from twinning.photos import PRINT_EDGE, PhotoRefused, cleaned
from twinning.publicity.content import Brochure, Leaflet
from twinning.publicity.models import LEAFLET, brochure
from twinning.publicity.render import render_html, render_pdf, subset_cache

LOCALES = ("zh-TW", "en", "ja", "ko", "es")


def photo_with_gps(size: tuple[int, int] = (3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (24.0, 59.0, 30.0), 3: "E", 4: (121.0, 18.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=80)
    return out.getvalue()


# --- the cleaning ------------------------------------------------------------------------------


def test_a_photo_loses_its_exif_and_position_and_is_brought_down_to_print_size() -> None:
    clean = cleaned(photo_with_gps(), max_bytes=10_000_000)
    assert b"SecretCam" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as image:
        assert dict(image.getexif()) == {}
        assert image.getexif().get_ifd(0x8825) == {}
        assert image.size == (PRINT_EDGE, 1600) == (clean.width, clean.height)


def test_what_is_not_a_photo_or_is_too_large_is_refused() -> None:
    with pytest.raises(PhotoRefused, match="JPEG, PNG or WebP"):
        cleaned(b"<svg xmlns='http://www.w3.org/2000/svg'/>", max_bytes=10_000)
    with pytest.raises(PhotoRefused, match="too large"):
        cleaned(photo_with_gps(), max_bytes=10_000)


# --- through the API -----------------------------------------------------------------------------


def upload(api: InlineApi, data: bytes, **headers: str) -> dict[str, object]:
    response = api.post(
        "/photos/images", files={"file": ("p.jpg", data, "image/jpeg")}, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


CAPTION = {"zh-TW": "札幌市長率團參訪", "en": "Sapporo's mayor visits the harbour"}
ALT = {"zh-TW": "港口黃昏的城市天際線", "en": "The city's skyline over the harbour at dusk"}


def test_staff_attach_a_photo_to_a_partner_city_and_its_brochure_shows_it(
    inline_api: InlineApi,
) -> None:
    partner_id = command(inline_api, "POST", "/partners", json=sample_partner(1))["id"]
    image = upload(inline_api, photo_with_gps())
    served = inline_api.get(f"/photos/images/{image['sha256']}")
    assert served.status_code == 200 and b"SecretCam" not in served.content
    photo_id = command(
        inline_api,
        "POST",
        "/photos",
        json={
            "subject_kind": "partner",
            "subject_id": partner_id,
            "sha256": image["sha256"],
            "caption": CAPTION,
            "alt": ALT,
        },
    )["id"]
    listed = inline_api.get(f"/photos?subject_kind=partner&subject_id={partner_id}").json()
    assert [p["id"] for p in listed] == [photo_id]
    assert listed[0]["caption"] == CAPTION and listed[0]["partner_ids"] == [partner_id]

    shown: Brochure = gathered(inline_api.settings, brochure(partner_id), "zh-TW")
    [line] = shown.photos
    assert line.caption is not None and line.caption.text == CAPTION["zh-TW"]
    assert line.alt.text == ALT["zh-TW"] and line.src.startswith("data:image/jpeg;base64,")
    english: Brochure = gathered(inline_api.settings, brochure(partner_id), "ja")
    assert english.photos[0].alt.text == ALT["en"]  # no Japanese: the fallback's

    command(
        inline_api,
        "PUT",
        f"/photos/{photo_id}/description",
        json={"caption": {}, "alt": {"en": "Boats in the harbour"}},
    )
    [changed] = gathered(inline_api.settings, brochure(partner_id), "zh-TW").photos
    assert changed.caption is None and changed.alt.text == "Boats in the harbour"

    command(inline_api, "DELETE", f"/photos/{photo_id}")
    assert gathered(inline_api.settings, brochure(partner_id), "en").photos == ()
    assert inline_api.get(f"/photos/{photo_id}").status_code == 404


def test_photos_of_exchanges_and_visits_reach_their_partners_brochures_and_the_leaflet(
    inline_api: InlineApi,
) -> None:
    partner_id = command(inline_api, "POST", "/partners", json=sample_partner(2))["id"]
    exchange_id = command(
        inline_api,
        "POST",
        "/exchanges",
        json={
            "partner_ids": [partner_id],
            "date": "2026-01-10",
            "field": "culture",
            "direction": "inbound",
            "summary": {"en": "Orchestra tour"},
        },
    )["id"]
    image = upload(inline_api, photo_with_gps((800, 600)))
    attach = {"sha256": image["sha256"], "alt": {"en": "An orchestra on stage"}}
    command(
        inline_api,
        "POST",
        "/photos",
        json={"subject_kind": "exchange", "subject_id": exchange_id, **attach},
    )
    command(
        inline_api,
        "POST",
        "/photos",
        json={"subject_kind": "city", "subject_id": "city-profile", **attach},
    )
    shown: Brochure = gathered(inline_api.settings, brochure(partner_id), "en")
    assert [line.alt.text for line in shown.photos] == ["An orchestra on stage"]
    leaflet: Leaflet = gathered(inline_api.settings, LEAFLET, "en")
    assert len(leaflet.photos) == 2


def test_an_upload_that_is_not_a_photo_or_too_large_is_refused_naming_the_field(
    inline_api: InlineApi,
) -> None:
    not_image = inline_api.post(
        "/photos/images", files={"file": ("a.jpg", b"<svg/>", "image/jpeg")}
    )
    assert not_image.status_code == 422
    assert not_image.json()["errors"][0]["field"] == "file"
    settings = inline_api.app.state.settings
    inline_api.app.state.settings = settings.model_copy(update={"photo_max_bytes": 10_000})
    too_large = inline_api.post(
        "/photos/images", files={"file": ("a.jpg", photo_with_gps(), "image/jpeg")}
    )
    inline_api.app.state.settings = settings
    assert too_large.status_code == 422
    assert too_large.json()["errors"][0]["field"] == "file"
    assert "too large" in too_large.text


@pytest.mark.parametrize("route", ["/photos/images", "/gifts/photos"])
def test_the_same_photo_uploaded_twice_at_once_is_kept_once_and_both_are_told_so(
    inline_api: InlineApi, route: str
) -> None:
    """Two staff members (or the demo's loader) sending the same picture at the same moment,
    of a partner or of a gift: every upload answers 201 with its one image (the second insert
    of the same bytes collided with the first: a 503 "the database reports an error: UNIQUE
    constraint failed"), and /health says the database is up."""
    data = photo_with_gps((800, 600))

    async def both() -> list[httpx.Response]:
        async def upload() -> httpx.Response:
            files = {"file": ("p.jpg", data, "image/jpeg")}
            return await inline_api.client.post(route, files=files)

        return list(await asyncio.gather(*(upload() for _ in range(4))))

    answers = inline_api.portal.call(both)
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.json()["sha256"] for a in answers}) == 1
    health = inline_api.get("/health").json()
    assert health["database"] == {"status": "up", "detail": None}, health


def test_a_photo_of_nothing_or_of_bytes_never_uploaded_is_refused(inline_api: InlineApi) -> None:
    image = upload(inline_api, photo_with_gps((100, 80)))
    nobody = inline_api.post(
        "/photos",
        json={"subject_kind": "partner", "subject_id": "nope", "sha256": image["sha256"],
              "alt": {"en": "x"}},
    )  # fmt: skip
    assert nobody.status_code == 404 and nobody.json()["ids"] == ["nope"]
    partner_id = command(inline_api, "POST", "/partners", json=sample_partner(3))["id"]
    unknown = inline_api.post(
        "/photos",
        json={"subject_kind": "partner", "subject_id": partner_id, "sha256": "0" * 64,
              "alt": {"en": "x"}},
    )  # fmt: skip
    assert unknown.status_code == 404
    no_alt = inline_api.post(
        "/photos",
        json={"subject_kind": "partner", "subject_id": partner_id, "sha256": image["sha256"],
              "alt": {}},
    )  # fmt: skip
    assert no_alt.status_code == 422 and no_alt.json()["errors"][0]["field"] == "alt"


def test_viewers_may_look_at_photos_but_not_attach_them(inline_api: InlineApi) -> None:
    user = inline_api.post("/users", json={"name": "vera", "role": "viewer"}).json()
    token = inline_api.post(f"/users/{user['id']}/tokens", json={}).json()["token"]
    viewer = bearer(token)
    refused = inline_api.post(
        "/photos/images",
        files={"file": ("p.jpg", photo_with_gps((50, 40)), "image/jpeg")},
        headers=viewer,
    )
    assert refused.status_code == 403
    attach = inline_api.post(
        "/photos",
        json={"subject_kind": "city", "subject_id": "city-profile", "sha256": "0" * 64,
              "alt": {"en": "x"}},
        headers=viewer,
    )  # fmt: skip
    assert attach.status_code == 403
    listed = inline_api.get("/photos?subject_kind=city&subject_id=city-profile", headers=viewer)
    assert listed.status_code == 200 and listed.json() == []


# --- which documents are renewed -------------------------------------------------------------------


def test_a_photo_added_changed_or_removed_renews_the_documents_that_show_it(
    inline_api: InlineApi,
) -> None:
    from publicity_support import CountingRender, refresh

    first = command(inline_api, "POST", "/partners", json=sample_partner(4))["id"]
    other = command(inline_api, "POST", "/partners", json=sample_partner(5))["id"]
    refresh(inline_api.settings, render=CountingRender())
    image = upload(inline_api, photo_with_gps((120, 90)))

    def renders() -> Counter[tuple[str, str]]:
        counting = CountingRender()
        refresh(inline_api.settings, render=counting)
        return Counter(counting.calls)

    photo_id = command(
        inline_api,
        "POST",
        "/photos",
        json={"subject_kind": "partner", "subject_id": first, "sha256": image["sha256"],
              "alt": {"en": "Harbour"}},
    )["id"]  # fmt: skip
    # The partner's brochure, and the leaflet (which shows a partner's photo when it has few
    # of our city and the exchanges); not the other partner's brochure.
    shown = (LEAFLET, brochure(first))
    expected = Counter((document, locale) for document in shown for locale in LOCALES)
    assert renders() == expected
    command(inline_api, "PUT", f"/photos/{photo_id}/description", json={"alt": {"en": "Boats"}})
    assert renders() == expected
    command(inline_api, "DELETE", f"/photos/{photo_id}")
    assert renders() == expected
    assert renders() == Counter()
    assert brochure(other) != brochure(first)


# --- in the PDF --------------------------------------------------------------------------------------


def _images(reader: PdfReader) -> list[object]:
    found = []
    for page in reader.pages:
        for _, xobject in (page["/Resources"].get("/XObject") or {}).items():
            if xobject.get_object()["/Subtype"] == "/Image":
                found.append(xobject)
    return found


def _alt_texts(reader: PdfReader) -> list[str]:
    texts = []

    def walk(node: object) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if "/Alt" in node:
                texts.append(str(node["/Alt"]))
            for key in ("/K",):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return texts


@in_two_languages
def test_the_brochure_pdf_holds_the_image_and_its_alt_text(
    inline_api: InlineApi, locale: str, tmp_path: object
) -> None:
    partner_id = command(inline_api, "POST", "/partners", json=sample_partner(6))["id"]
    image = upload(inline_api, photo_with_gps((1200, 800)))
    command(
        inline_api,
        "POST",
        "/photos",
        json={"subject_kind": "partner", "subject_id": partner_id, "sha256": image["sha256"],
              "caption": CAPTION, "alt": ALT},
    )  # fmt: skip
    document: Brochure = gathered(inline_api.settings, brochure(partner_id), locale)
    html = render_html(document)
    assert f'alt="{escape(ALT[locale])}"' in html and escape(CAPTION[locale]) in html
    pdf = render_pdf(html, locale, subset_cache(str(tmp_path)))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert _images(reader), "no image XObject on the page"
    assert ALT[locale] in _alt_texts(reader)
