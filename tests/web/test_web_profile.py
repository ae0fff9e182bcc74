"""Our city's profile in the web app (no browser: what the pages say): staff write the
paragraph and the key figures; a refused form says what to write next to each field; the
change is an event like any other, read back through the API."""

from __future__ import annotations

import io
import re

import httpx
from conftest import wait_for
from PIL import Image
from web_support import VIEWER, Office, office

__all__ = ["office"]  # a fixture


def _form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf": csrf, **fields}


def test_staff_set_our_citys_profile_and_the_api_reads_it_back(office: Office) -> None:
    with office.signed_in() as (client, csrf):
        client.headers["Accept-Language"] = "zh-TW"
        page = client.get("/ui/publicity/profile")
        assert page.status_code == 200 and "本市簡介" in page.text
        assert client.get("/ui/publicity").text.count('href="/ui/publicity/profile"') == 1
        sent = _form(
            csrf,
            **{
                "about_zh-TW": "本市是國家的門戶。",
                "about_en": "Our city is the country's gateway.",
                "figure1_value": "2,330,000",
                "figure1_label_zh-TW": "人口",
                "figure1_label_en": "Population",
                "figure3_value": "1,221 km²",
                "figure3_label_en": "Area",
            },
        )
        saved = client.post("/ui/publicity/profile", data=sent)
        assert saved.status_code == 303
        assert saved.headers["location"].startswith("/ui/publicity/profile?event=")

        def shown() -> httpx.Response | None:
            after = client.get(saved.headers["location"])
            return after if 'value="1,221 km²"' in after.text else None

        after = wait_for(shown, timeout=15, what="the profile to be applied")
        assert "本市是國家的門戶。" in after.text
        # The second figure is the third row's: blank rows are left out.
        assert 'id="figure2_value"' in after.text and 'value="1,221 km²"' in after.text
    stored = office.call("GET", "/publicity/profile").json()
    assert stored["about"]["en"] == "Our city is the country's gateway."
    assert stored["figures"] == [
        {"label": {"zh-TW": "人口", "en": "Population"}, "value": "2,330,000"},
        {"label": {"en": "Area"}, "value": "1,221 km²"},
    ]


def test_a_refused_profile_says_what_to_write_next_to_each_field(office: Office) -> None:
    with office.signed_in() as (client, csrf):
        client.headers["Accept-Language"] = "en"
        refused = client.post(
            "/ui/publicity/profile",
            data=_form(
                csrf,
                **{"about_en": "x" * 601, "figure2_value": "12", "figure4_label_en": "Founded"},
            ),
        )
        assert refused.status_code == 422
        text = refused.text
        assert "<title>Error:" in text and "There is a problem" in text
        assert 'href="#about"' in text and 'href="#figure2_label"' in text
        assert 'href="#figure4_value"' in text
        assert "Enter the figure as it is printed, up to 30 characters" in text
        assert 'value="Founded"' in text  # what was typed stays
    assert office.call("GET", "/publicity/profile").status_code == 404  # nothing was stored


def test_a_viewer_reads_no_profile_form(office: Office) -> None:
    with office.signed_in(VIEWER) as (client, _csrf):
        assert client.get("/ui/publicity/profile").status_code == 403
        assert 'href="/ui/publicity/profile"' not in client.get("/ui/publicity").text


def test_staff_are_told_how_many_more_photos_the_leaflet_would_show(office: Office) -> None:
    """A leaflet without photos has emptier panels: the publicity page says how many photos
    it has room for, and one fewer once a photo of our city is added."""

    def room(client: httpx.Client) -> int | None:
        found = re.search(
            r"The leaflet has room for (\d+) more photo", client.get("/ui/publicity").text
        )
        return int(found.group(1)) if found else None

    with office.signed_in() as (client, _csrf):
        client.headers["Accept-Language"] = "en"
        before = room(client)
        assert before is not None and before >= 2, before
        assert 'href="/ui/publicity/profile#photos-heading"' in client.get("/ui/publicity").text
        image = io.BytesIO()
        Image.new("RGB", (800, 600), (30, 90, 160)).save(image, "JPEG")
        uploaded = office.call(
            "POST", "/photos/images", files={"file": ("city.jpg", image.getvalue(), "image/jpeg")}
        )
        assert uploaded.status_code in (200, 201), uploaded.text
        attached = office.call(
            "POST",
            "/photos",
            json={
                "subject_kind": "city",
                "subject_id": "city-profile",
                "sha256": uploaded.json()["sha256"],
                "alt": {"en": "The city hall square"},
            },
        )
        assert attached.status_code == 202, attached.text
        wait_for(lambda: room(client) == before - 1, timeout=15, what="one photo fewer of room")
        client.headers["Accept-Language"] = "zh-TW"
        assert "摺頁還有" in client.get("/ui/publicity").text
    with office.signed_in(VIEWER) as (client, _csrf):
        assert "photo-room" not in client.get("/ui/publicity").text
