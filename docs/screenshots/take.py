"""Take the README's screenshots of the staff web app from a running `twinning up --demo`.

    python docs/screenshots/take.py http://127.0.0.1:8000 PASSWORD

PASSWORD is the demo sign-in `up --demo` printed. Uses Debian's Chromium (as the tests do).
It books one conflicting itinerary item on an approved demo visit to show the conflict page;
run it on a throwaway demo data directory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).parent
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def shot(page: Page, path: str, name: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(HERE / f"{name}.png"))


def conflict(page: Page) -> None:
    """Two overlapping items for the mayor on an approved visit: the second is refused."""
    page.goto("/ui/visits?status=approved")
    page.locator("main table tbody tr a").first.click()
    visit = page.url.split("?")[0]
    for title, starts, ends in (
        ("Courtesy call on the mayor", "2027-05-03T10:00", "2027-05-03T11:00"),
        ("Tour of the science park", "2027-05-03T10:30", "2027-05-03T12:00"),
    ):
        page.goto(visit + "/itinerary/new")
        page.locator("#titles_en").fill(title)
        page.locator("#starts_at").fill(starts)
        page.locator("#ends_at").fill(ends)
        page.locator("#venue_id").select_option(index=1)
        page.locator("#officials input[type=checkbox]").first.check()
        page.locator("form.stacked button.primary").last.click()
        page.wait_for_load_state("networkidle")
    page.screenshot(path=str(HERE / "conflict-zh-TW.png"), full_page=False)
    page.goto(visit)
    page.wait_for_load_state("networkidle")


def main(base: str, password: str) -> None:
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path="/usr/bin/chromium",
            args=ARGS,
            base_url=base,
            viewport={"width": 1280, "height": 860},
            locale="zh-TW",
        )
        page = browser.new_page()
        page.goto("/ui/signin")
        page.locator("#name").fill("demo")
        page.locator("#password").fill(password)
        page.locator("form.stacked button[type=submit]").click()
        page.wait_for_url("**/ui/")
        shot(page, "/ui/", "today-zh-TW")
        shot(page, "/ui/partners", "partners-zh-TW")
        shot(page, "/ui/calendar?view=month", "calendar-zh-TW")
        conflict(page)
        page.screenshot(path=str(HERE / "visit-zh-TW.png"))
        # The switcher's choice is a cookie: English from here on.
        page.context.add_cookies([{"name": "twinning_lang", "value": "en", "url": base}])
        page.goto("/ui/city-events")
        links = page.locator("main table tbody tr a")
        for href in [links.nth(n).get_attribute("href") for n in range(links.count())]:
            page.goto(href or "/ui/city-events")  # the first event with invitations
            if page.locator("main table").count():
                break
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(HERE / "city-event-en.png"))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
