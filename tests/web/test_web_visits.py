"""Visits in the browser: a visit request recorded through the intake form (refused with what
to fix, then accepted), shown as being saved until the worker applies it, then taken through
its next step; in Traditional Chinese and in English."""

from __future__ import annotations

from conftest import in_two_languages
from playwright.sync_api import Browser, expect
from web_support import Office, office, text

__all__ = ["office"]  # a fixture


@in_two_languages
def test_a_visit_request_is_recorded_through_the_form_and_approved(
    office: Office, browser: Browser, locale: str
) -> None:
    page = office.page(browser, locale)
    office.sign_in(page)
    page.get_by_role("link", name=text("Visits", locale)).first.click()
    page.get_by_role("link", name=text("Record a visit request", locale)).click()

    page.get_by_role("button", name=text("Record the request", locale)).click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(text("There is a problem", locale))
    expect(summary).to_contain_text(text("Enter the purpose of the visit", locale))
    expect(page).to_have_title(
        text("Error:", locale)
        + " "
        + text("Record a visit request", locale)
        + " · "
        + text("International affairs office", locale)
    )
    expect(page.locator("#members")).to_have_attribute("aria-invalid", "true")

    page.locator("#organisation_en").fill("Kyoto Chamber of Commerce")
    page.locator("#head_name_en").fill("Ichiro Sato")
    page.locator("#head_title_en").fill("Chairman")
    page.locator("#head_rank").fill("3")
    page.locator("#members").fill("8")
    page.locator("#purpose_zh-TW").fill("智慧城市交流")
    page.locator("#requested_from").fill("2027-05-03")
    page.locator("#requested_to").fill("2027-05-01")
    page.get_by_role("button", name=text("Record the request", locale)).click()

    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter the last day asked for, on or after the first day", locale)
    )
    expect(page.locator("#organisation_en")).to_have_value("Kyoto Chamber of Commerce")

    office.held.set()  # the worker is busy: the request is committed, not applied yet
    page.locator("#requested_to").fill("2027-05-05")
    page.get_by_role("button", name=text("Record the request", locale)).click()

    expect(page.get_by_role("status")).to_contain_text(
        text("Saving the change… This page shows it as soon as it is applied.", locale)
    )
    office.held.clear()
    heading = page.locator("h1")
    expect(heading).to_contain_text("Kyoto Chamber of Commerce")
    expect(heading).to_contain_text(text("requested", locale))

    page.locator("#reason").fill("the mayor can receive them")
    page.get_by_role("button", name=text("Approve", locale)).click()

    expect(heading).to_contain_text(text("approved", locale))
    expect(page.locator("#history ~ ol")).to_contain_text("the mayor can receive them")
    visit_id = page.url.split("/ui/visits/")[1].split("?")[0]
    visit = office.call("GET", f"/visits/{visit_id}").json()
    assert (visit["status"], visit["purpose"]) == ("approved", {"zh-TW": "智慧城市交流"})
    assert [change["status"] for change in visit["history"]] == ["requested", "approved"]


def test_a_viewer_sees_visits_but_no_form_and_cannot_post_one(
    office: Office, browser: Browser
) -> None:
    page = office.page(browser, "en")
    office.sign_in(page, "lin.viewer")
    page.get_by_role("link", name="Visits").first.click()

    expect(page.locator("h1")).to_have_text("Visits")
    expect(page.get_by_role("link", name="Record a visit request")).to_have_count(0)
    response = page.goto("/ui/visits/new")
    assert response is not None and response.status == 403
