"""The registers in the browser: a partner city registered through its form (refused with what to
fix, then warned that a city of that name is registered, then confirmed) and edited; a foreign
mission registered, a contact added to it, edited and erased after a confirmation; in
Traditional Chinese and in English, each result checked through the API. A viewer sees none of
the forms nor any contact; hostile text stays text."""

from __future__ import annotations

import re

from conftest import accepted, in_two_languages
from playwright.sync_api import Browser, Page, expect
from twinning.crm.models import PartnerCity
from twinning.web.registers import similar_partners
from web_support import VIEWER, Office, accessibility_violations, csrf_of, office, text

__all__ = ["office"]  # a fixture

HOSTILE = "<script>alert(1)</script>\r\nEvil\u202eCity"


def _id_in(page: Page, kind: str) -> str:
    return re.split(r"[/?]", page.url.split(f"/ui/{kind}/")[1])[0]


@in_two_languages
def test_a_partner_city_is_registered_after_the_duplicate_warning_and_edited(
    office: Office, browser: Browser, locale: str
) -> None:
    page = office.page(browser, locale)
    office.sign_in(page)
    page.get_by_role("link", name=text("Partner cities", locale)).first.click()
    page.get_by_role("link", name=text("Register a partner city", locale)).click()

    page.locator("#names_en").fill("Sapporo Minami")
    page.get_by_role("button", name=text("Register the partner city", locale)).click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(text("Choose the country", locale))
    expect(summary).to_contain_text(text("Choose the city's time zone", locale))
    expect(page.locator("#country")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#names_en")).to_have_value("Sapporo Minami")
    assert accessibility_violations(page) == []

    # a name of Sapporo's, in another case and with spaces around it: warned, not registered
    same = " 札幌市 " if locale == "zh-TW" else "  SAPPORO "
    page.locator("#names_zh-TW" if locale == "zh-TW" else "#names_ja").fill(same)
    page.get_by_label(text("Country", locale), exact=True).select_option("JP")
    page.get_by_label(text("Time zone", locale)).select_option("Asia/Tokyo")
    page.get_by_label(text("Kind of partnership", locale)).select_option("friendly")
    page.get_by_label(text("Culture", locale)).check()
    page.get_by_role("button", name=text("Register the partner city", locale)).click()

    warning = page.locator("#duplicates")
    expect(warning).to_contain_text(
        text("A partner city with this name is already registered", locale)
    )
    sapporo = "札幌市" if locale == "zh-TW" else "Sapporo"
    link = warning.get_by_role("link", name=sapporo)
    expect(link).to_have_attribute("href", f"/ui/partners/{office.partners['Sapporo']}")
    assert accessibility_violations(page) == []

    page.get_by_label(text("Register it anyway: it is another city", locale)).check()
    page.get_by_role("button", name=text("Register the partner city", locale)).click()

    expect(page.locator("h1")).to_have_text("札幌市" if locale == "zh-TW" else "Sapporo Minami")
    partner_id = _id_in(page, "partners")
    assert partner_id != office.partners["Sapporo"]
    registered = office.call("GET", f"/partners/{partner_id}").json()
    assert registered["names"]["en"] == "Sapporo Minami"
    assert (registered["country"], registered["kind"]) == ("JP", "friendly")
    assert registered["fields_of_cooperation"] == ["culture"]

    page.get_by_role("link", name=text("Edit the partner city", locale)).click()
    expect(page.locator("#names_en")).to_have_value("Sapporo Minami")
    page.locator("#latitude").fill("north")
    page.locator("#population").fill("about two million")
    page.get_by_role("button", name=text("Save the changes", locale)).click()
    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter the latitude in degrees, a number from -90 to 90", locale)
    )
    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter the number of inhabitants as a whole number, such as 1960000", locale)
    )
    page.locator("#population").fill("1,960,000")  # as people write it
    page.locator("#latitude").fill("43.06")
    page.locator("#longitude").fill("141.35")
    page.locator("#region").fill("Hokkaido")
    page.get_by_label(text("Status", locale), exact=True).select_option("dormant")
    page.get_by_role("button", name=text("Save the changes", locale)).click()

    expect(page.locator("main dl.facts")).to_contain_text(text("Dormant", locale))
    expect(page.locator("main dl.facts")).to_contain_text("1,960,000")  # zh-TW and en alike
    changed = office.call("GET", f"/partners/{partner_id}").json()
    assert changed["population"] == 1960000
    assert changed["region"] == "Hokkaido"
    assert changed["status"] == "dormant"
    assert changed["location"] == {"latitude": 43.06, "longitude": 141.35}
    assert changed["names"] == registered["names"]  # what was not changed stays


@in_two_languages
def test_a_mission_is_registered_and_its_contact_added_edited_and_erased(
    office: Office, browser: Browser, locale: str
) -> None:
    page = office.page(browser, locale)
    office.sign_in(page)
    page.get_by_role("link", name=text("Missions", locale)).first.click()
    page.get_by_role("link", name=text("Register a foreign mission", locale)).click()

    page.get_by_role("button", name=text("Register the mission", locale)).click()
    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter the mission's name in one language at least", locale)
    )
    page.locator("#names_zh-TW").fill("日本台灣交流協會")
    page.locator("#names_en").fill("Japan-Taiwan Exchange Association")
    page.get_by_label(text("Country it represents", locale)).select_option("JP")
    page.get_by_label(text("Kind of mission", locale)).select_option("representative-office")
    page.get_by_role("button", name=text("Register the mission", locale)).click()

    name = "日本台灣交流協會" if locale == "zh-TW" else "Japan-Taiwan Exchange Association"
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#pending")).to_have_count(0)
    mission_id = _id_in(page, "missions")
    assert accessibility_violations(page) == []

    page.get_by_role("link", name=text("Edit the mission", locale)).click()
    page.locator("#website").fill("https://www.koryu.or.jp/")
    page.get_by_role("button", name=text("Save the changes", locale)).click()
    expect(page.locator("main dl.facts")).to_contain_text("https://www.koryu.or.jp/")
    expect(page.locator("#pending")).to_have_count(0)

    page.get_by_role("link", name=text("Add a contact", locale)).click()
    expect(page.locator("#belongs_to")).to_have_value(f"mission:{mission_id}")
    page.locator("#name").fill("Taro Suzuki")
    page.locator("#email").fill("taro at example")
    page.get_by_role("button", name=text("Add the contact", locale)).click()
    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter an email address, such as name@example.org", locale)
    )
    assert accessibility_violations(page) == []
    page.locator("#email").fill("taro@example.org")
    page.get_by_role("button", name=text("Add the contact", locale)).click()

    expect(page.locator("h1")).to_have_text("Taro Suzuki")
    expect(page.locator("#pending")).to_have_count(0)
    contact_id = _id_in(page, "contacts")
    expect(page.locator("main")).to_contain_text(name)
    page.get_by_role("link", name=text("Edit the contact", locale)).click()
    page.locator("#phone").fill("+886 2 2713 8000")
    page.get_by_role("button", name=text("Save the changes", locale)).click()
    expect(page.locator("main dl.facts")).to_contain_text("+886 2 2713 8000")
    expect(page.locator("#pending")).to_have_count(0)
    assert accessibility_violations(page) == []
    contact = office.call("GET", f"/contacts/{contact_id}").json()
    assert (contact["mission_id"], contact["email"]) == (mission_id, "taro@example.org")
    assert contact["phone"] == "+886 2 2713 8000"

    page.get_by_role("link", name=text("Erase the contact", locale)).click()
    expect(page.locator("h1")).to_have_text(text("Erase %(name)s?", locale, name="Taro Suzuki"))
    expect(page.locator("main")).to_contain_text(
        text(
            "This cannot be undone: the contact's name, title, organisation, email and phone "
            "are erased, here and in the stored history.",
            locale,
        )
    )
    assert accessibility_violations(page) == []
    page.get_by_role("button", name=text("Erase the contact", locale)).click()

    expect(page.locator("h1")).to_have_text(text("Contacts", locale))
    expect(page.locator("#pending")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Taro Suzuki")
    assert office.call("GET", f"/contacts/{contact_id}").status_code == 404
    assert office.call("GET", "/contacts", params={"mission_id": mission_id}).json() == []
    page.goto(f"/ui/missions/{mission_id}")
    expect(page.locator("#contacts")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Taro Suzuki")
    assert page.goto(f"/ui/contacts/{contact_id}").status == 404  # type: ignore[union-attr]


def test_a_viewer_sees_no_form_and_no_contact(office: Office, browser: Browser) -> None:
    sapporo = office.partners["Sapporo"]
    [contact] = office.call("GET", "/contacts").json()
    page = office.page(browser, "en")
    office.sign_in(page, VIEWER)
    page.get_by_role("link", name="Partner cities").first.click()
    expect(page.locator("p.count")).to_contain_text("2")
    csrf = csrf_of(page)
    expect(page.get_by_role("link", name="Register a partner city")).to_have_count(0)
    page.goto(f"/ui/partners/{sapporo}")
    expect(page.get_by_role("link", name="Edit the partner city")).to_have_count(0)
    page.get_by_role("link", name="Missions").first.click()
    expect(page.locator("h1")).to_have_text("Foreign missions")
    expect(page.get_by_role("link", name="Register a foreign mission")).to_have_count(0)
    expect(page.get_by_role("link", name="All contacts")).to_have_count(0)

    for path in (
        "/ui/partners/new",
        f"/ui/partners/{sapporo}/edit",
        "/ui/missions/new",
        "/ui/contacts",
        "/ui/contacts/new",
        f"/ui/contacts/{contact['id']}",
        f"/ui/contacts/{contact['id']}/edit",
        f"/ui/contacts/{contact['id']}/erase",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.locator("main")).not_to_contain_text("Hanako")
    for path in ("/ui/partners/new", "/ui/missions/new", f"/ui/contacts/{contact['id']}/erase"):
        posted = page.request.post(path, form={"csrf": csrf, "names_en": "Nowhere"})
        assert posted.status == 403, path
    assert office.call("GET", f"/contacts/{contact['id']}").status_code == 200


def test_hostile_text_stays_text(office: Office, browser: Browser) -> None:
    mission = {"names": {"en": HOSTILE}, "country": "FR", "kind": "trade-office"}
    mission_id = accepted(office.call("POST", "/missions", json=mission))["id"]
    contact = {"name": HOSTILE.replace("\r\n", " "), "mission_id": mission_id}
    contact_id = accepted(office.call("POST", "/contacts", json=contact))["id"]
    page = office.page(browser, "en")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    office.sign_in(page)
    for path in (
        "/ui/missions",
        f"/ui/missions/{mission_id}",
        f"/ui/missions/{mission_id}/edit",
        f"/ui/contacts/{contact_id}",
        f"/ui/contacts/{contact_id}/edit",
        f"/ui/contacts/{contact_id}/erase",
        "/ui/contacts",
    ):
        page.goto(path)
        expect(page.locator("main")).to_contain_text("<script>alert(1)</script>")
        expect(page.locator("main script")).to_have_count(0)
    expect(page.locator("main bdi").first).to_contain_text("\u202e")
    assert dialogs == []


def test_the_lists_download_as_csv_and_xlsx_and_a_contacts_data_as_json(office: Office) -> None:
    """The lists' download links (the page's filters kept), contacts and a person's data for
    staff only (viewers 403)."""
    [contact] = office.call("GET", "/contacts").json()
    with office.signed_in() as (client, _csrf):
        page = client.get("/ui/partners?kind=friendly")
        assert page.status_code == 200
        link = re.search(r'href="(/ui/export/partners\.csv[^"]*)"', page.text)
        assert link is not None and "kind=friendly" in link.group(1), page.text
        assert "/ui/export/partners.xlsx?kind=friendly" in page.text
        csv_file = client.get(link.group(1).replace("&amp;", "&"))
        assert csv_file.status_code == 200
        assert csv_file.headers["content-type"].startswith("text/csv")
        assert "attachment" in csv_file.headers["content-disposition"]
        lines = csv_file.content.decode("utf-8-sig").splitlines()
        assert len(lines) == 2 and "Perth" in lines[1] and "Australia" in lines[1], lines
        for path in ("/ui/missions", "/ui/exchanges", "/ui/visits", "/ui/city-events"):
            kind = path.removeprefix("/ui/")
            assert f"/ui/export/{kind}.xlsx" in client.get(path).text, path
            xlsx = client.get(f"/ui/export/{kind}.xlsx")
            assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK"), path
        contacts = client.get("/ui/export/contacts.csv")
        assert contacts.status_code == 200 and "h@example.org" in contacts.text
        assert "/ui/export/contacts.csv" in client.get("/ui/contacts").text
        contact_page = client.get(f"/ui/contacts/{contact['id']}")
        assert f"/ui/contacts/{contact['id']}/data.json" in contact_page.text
        data = client.get(f"/ui/contacts/{contact['id']}/data.json")
        assert data.status_code == 200
        assert data.json()["erased_by_erasure"]["contact"]["email"] == "h@example.org"
        assert client.get("/ui/export/treaties.csv").status_code == 404
        assert client.get("/ui/contacts/nobody/data.json").status_code == 404
    with office.signed_in(VIEWER) as (client, _csrf):
        assert client.get("/ui/export/partners.csv").status_code == 200
        for path in ("/ui/export/contacts.csv", f"/ui/contacts/{contact['id']}/data.json"):
            refused = client.get(path)
            assert refused.status_code == 403 and "h@example.org" not in refused.text, path


def _partner(names: dict[str, str], country: str = "JP") -> PartnerCity:
    return PartnerCity(id=names.get("en", "x"), names=names, country=country)


def test_the_duplicate_warning_matches_names_in_any_language_and_city_suffixes() -> None:
    sapporo = _partner({"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"})
    perth = _partner({"en": "Perth", "zh-TW": "伯斯市"}, "AU")
    everyone = [sapporo, perth]

    assert similar_partners({"en": " sapporo  "}, "JP", everyone) == [sapporo]
    assert similar_partners({"ko": "札幌市"}, "KR", everyone) == [sapporo]  # any language
    assert similar_partners({"en": "Sapporo City"}, "jp", everyone) == [sapporo]
    assert similar_partners({"zh-TW": "札幌"}, "JP", everyone) == [sapporo]
    assert similar_partners({"zh-TW": "札幌"}, "CN", everyone) == []  # another country
    assert similar_partners({"en": "Sapporo Minami"}, "JP", everyone) == []
    assert similar_partners({"en": "PERTH"}, "AU", everyone) == [perth]
