"""The console in a real browser (issue 6): Debian's headless Chromium walks the seed's steps
(Advertisers > Segment Pixels > + New > Create New Segment > Piggyback Pixels > Save), meets each
invalid input's message at its field, exports the JS and image tags, loads a page carrying the
exported image tag and sees the membership in the pixel tester; edits, deactivates, moves and
deletes; and is refused another advertiser's pages and a form without its CSRF token.

Every screen is saved as a PNG (in SEGPIXEL_SCREENSHOTS when set, else a temporary folder) so a
person can look at them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from segpixel.domain.segments import PIGGYBACK_RULES
from tests.browser.conftest import LocalSite
from tests.conftest import ServerProcess
from tests.helpers import ADMIN_PASSWORD, ApiClient

pytestmark = pytest.mark.browser
PIXEL_GIF = "https://partner.example/pb.gif?src=seed"


@dataclass
class Console:
    server: ServerProcess
    admin: ApiClient
    member: dict[str, Any]
    cars: dict[str, Any]
    bikes: dict[str, Any]
    screens: Path

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def segments_url(self, advertiser: dict[str, Any] | None = None) -> str:
        return f"{self.base_url}/console/advertisers/{(advertiser or self.cars)['id']}/segments"

    def segment(self, segment_id: int) -> dict[str, Any]:
        return self.admin.ok("GET", f"/segment?id={segment_id}")["segment"]

    def segments(self) -> list[dict[str, Any]]:
        return self.admin.ok("GET", f"/segment?member_id={self.member['id']}")["segments"]

    def wait_until_known(self, segment_id: int) -> None:
        """Until the pixel server's catalog snapshot has the segment (a remove probe: no load)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            debug = httpx.get(
                f"{self.base_url}/seg", params={"remove": segment_id, "debug": "1"}
            ).json()
            if debug["items"][0]["accepted"]:
                return
            time.sleep(0.05)
        raise AssertionError(f"the pixel server never saw segment {segment_id}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    screens = Path(os.environ.get("SEGPIXEL_SCREENSHOTS") or tmp_path_factory.mktemp("screens"))
    screens.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(
        {"SEGPIXEL_CATALOG_POLL_SECONDS": "0.1"}, tmp_path_factory.mktemp("console-server")
    )
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            admin = ApiClient(http).login()
            member = admin.make_member("Acme Media")
            yield Console(
                server=server,
                admin=admin,
                member=member,
                cars=admin.make_advertiser(member["id"], "Cars"),
                bikes=admin.make_advertiser(member["id"], "Bikes"),
                screens=screens,
            )
    finally:
        server.stop()


@dataclass
class Problems:
    """Script errors and console errors (a CSP violation is one) seen by a page."""

    seen: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        # a 403/404/422 answer is logged by Chromium as a failed resource load: that one is expected
        if message.type == "error" and "the server responded with a status of" not in message.text:
            self.seen.append(message.text)


@pytest.fixture
def context(browser: Browser, app: Console) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    made.set_default_timeout(10_000)
    made.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.base_url)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    problems = Problems()
    made = context.new_page()
    made.on("console", problems.on_console)
    made.on("pageerror", lambda error: problems.seen.append(str(error)))
    yield made
    assert problems.seen == [], problems.seen


def shot(page: Page, app: Console, name: str) -> None:
    page.screenshot(path=app.screens / f"{name}.png", full_page=True)


def log_in(
    page: Page, app: Console, username: str = "admin", password: str = ADMIN_PASSWORD
) -> None:
    page.goto(f"{app.base_url}/console/")
    expect(page).to_have_url(f"{app.base_url}/console/login?next=%2Fconsole%2Fadvertisers")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Advertisers")).to_be_visible()


def field_error(page: Page, field_selector: str) -> str:
    """The message shown in the same field block as the control."""
    block = page.locator(field_selector).locator(
        "xpath=ancestor::*[contains(@class,'field') or contains(@class,'section')][1]"
    )
    return " ".join(block.locator(".field-error").all_inner_texts())


def open_new_segment(page: Page, app: Console) -> None:
    page.goto(app.segments_url())
    page.get_by_role("link", name="+ New", exact=True).click()
    expect(page.get_by_role("heading", name="Create New Segment")).to_be_visible()


# -- the seed's walk ------------------------------------------------------------------------------


def test_the_seeds_steps_create_a_segment_pixel(page: Page, app: Console) -> None:
    page.goto(f"{app.base_url}/console/")
    shot(page, app, "01-login")
    log_in(page, app)
    shot(page, app, "02-advertisers")

    # Step 1: Advertisers > Segment Pixels, then + New
    page.get_by_role("row", name="Cars").get_by_role("link", name="Segment Pixels").click()
    expect(page.get_by_role("heading", name="Segment Pixels")).to_be_visible()
    shot(page, app, "03-segment-pixels")
    page.get_by_role("link", name="+ New", exact=True).click()
    expect(page.get_by_role("heading", name="Create New Segment")).to_be_visible()
    shot(page, app, "04-create-new-segment")

    # Step 2: details, + Advanced Options: Code, type, max usersync pixels, keep user in segment
    page.get_by_label("Name").fill("Car buyers")
    code = page.get_by_label("Code")
    expect(code).to_be_hidden()
    page.get_by_text("+ Advanced Options: Code").click()
    expect(code).to_be_visible()
    expect(page.get_by_text("Case sensitive")).to_be_visible()
    code.fill("Auto_buyers")
    # each type shows the fields it needs
    qs_param = page.get_by_label("Parameter", exact=True)
    expect(qs_param).to_be_hidden()
    page.get_by_label("Query String", exact=True).check()
    expect(qs_param).to_be_visible()
    expect(page.get_by_label("Key", exact=True)).to_be_hidden()
    shot(page, app, "05a-type-query-string")
    page.get_by_label("Query String Key Value").check()
    expect(page.get_by_label("Key", exact=True)).to_be_visible()
    expect(qs_param).to_be_hidden()
    page.get_by_label("Pixel", exact=True).check()
    expect(page.get_by_label("Key", exact=True)).to_be_hidden()
    page.get_by_label("Usersync pixels allowed on this pixel").fill("2")
    page.get_by_label("Amount of time").fill("30")  # focusing it chooses "For …"
    expect(page.locator("#expire_custom")).to_be_checked()
    page.get_by_label("Unit").select_option("days")
    shot(page, app, "05-details-filled")

    # Step 3: the Piggyback Pixels tab, with the four rules at the field
    page.get_by_role("tab", name="Piggyback Pixels").click()
    for text in PIGGYBACK_RULES.values():
        expect(page.get_by_text(text)).to_be_visible()
    page.get_by_label("Piggyback URL 1").fill(PIXEL_GIF)
    page.get_by_label("Type of piggyback 1").select_option("img")
    shot(page, app, "06-piggyback-pixels")
    page.get_by_role("button", name="Save", exact=True).click()

    # saved, and in the list
    expect(page.locator(".flash")).to_contain_text("“Car buyers” created.")
    (stored,) = [s for s in app.segments() if s["short_name"] == "Car buyers"]
    assert stored["code"] == "Auto_buyers"
    assert stored["expire_minutes"] == 30 * 1440
    assert stored["max_usersync_pixels"] == 2
    assert stored["piggyback_pixels"] == [{"url": PIXEL_GIF, "pixel_type": "img"}]
    assert stored["advertiser_id"] == app.cars["id"] and stored["type"] == "pixel"
    row = page.locator(f"#segment-{stored['id']}")
    for text in ("Car buyers", "Auto_buyers", "Advertiser", "Pixel", "Active", "30 days"):
        expect(row).to_contain_text(text)
    shot(page, app, "07-segment-pixels-after-save")


INVALID = [
    pytest.param(
        "code",
        "#code",
        "Code 'car buyers!' contains a space and '!', which a code cannot have",
        id="bad-code-characters",
    ),
    pytest.param("expire", "#expire_amount", "at most 180 days", id="191-days"),
    pytest.param("two-images", "#add-piggyback", "(rule 3)", id="two-image-piggybacks"),
    pytest.param("mixed", "#add-piggyback", "(rule 2)", id="image-and-js-mixed"),
]


@pytest.mark.parametrize(("case", "at", "says"), INVALID)
def test_each_invalid_input_is_told_at_its_field(
    page: Page, app: Console, case: str, at: str, says: str
) -> None:
    before = len(app.segments())
    log_in(page, app)
    open_new_segment(page, app)
    page.get_by_label("Name").fill(f"Invalid {case}")
    if case == "code":
        page.get_by_text("+ Advanced Options: Code").click()
        page.get_by_label("Code").fill("car buyers!")
        # told while typing, before anything is sent
        expect(page.locator("[data-code-hint]")).to_have_text(
            "Not allowed in a code: a space, '!'. Use letters, digits, _ and - only."
        )
    elif case == "expire":
        page.locator("#expire_custom").check()
        page.get_by_label("Amount of time").fill("191")
        page.get_by_label("Unit").select_option("days")
    else:
        page.get_by_role("tab", name="Piggyback Pixels").click()
        page.get_by_label("Piggyback URL 1").fill("https://partner.example/one.gif")
        page.get_by_role("button", name="+ Add piggyback pixel").click()
        second = page.locator("[data-pb-row]").nth(1)
        second.locator("input").fill("https://partner.example/two")
        second.locator("select").select_option("img" if case == "two-images" else "js")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator("#error-summary")).to_contain_text("1 problem needs fixing")
    if case in ("two-images", "mixed"):
        # the form comes back on the tab with the problem, the broken rule marked at the field
        expect(page.get_by_role("tab", name="Piggyback Pixels 1")).to_have_attribute(
            "aria-selected", "true"
        )
        rule = "3" if case == "two-images" else "2"
        expect(page.locator(f"#rule-{rule}")).to_have_class("broken")
        expect(page.locator("[data-pb-row]")).to_have_count(2)  # the rows are kept
        message = " ".join(page.locator("#tab-piggyback .field-error").all_inner_texts())
    else:
        expect(page.get_by_role("tab", name="Details 1")).to_have_attribute("aria-selected", "true")
        expect(page.locator(at)).to_have_attribute("aria-invalid", "true")
        expect(page.locator(at)).to_be_focused()
        message = field_error(page, at)
    assert says in message, message
    shot(page, app, f"08-invalid-{case}")
    assert len(app.segments()) == before


def test_export_tags_then_a_page_with_the_image_tag_shows_in_the_pixel_tester(
    page: Page, context: BrowserContext, app: Console, publisher: LocalSite
) -> None:
    vans = app.admin.make_segment(f"advertiser_id={app.cars['id']}", "Van buyers", code="vans")
    trucks = app.admin.make_segment(f"advertiser_id={app.cars['id']}", "Truck buyers")
    app.wait_until_known(vans["id"])
    app.wait_until_known(trucks["id"])
    host = app.base_url.removeprefix("http://")
    log_in(page, app)
    page.goto(app.segments_url())
    export = page.get_by_role("button", name="Export pixels")
    expect(export).to_be_disabled()  # nothing selected yet
    page.get_by_label("Select Van buyers").check()
    expect(export).to_have_text("Export pixels 1")
    shot(page, app, "09-selection")
    export.click()
    expect(page.get_by_role("heading", name="Export pixels")).to_be_visible()
    expect(page.get_by_label("JavaScript tag")).to_be_checked()  # recommended, the default
    expect(page.get_by_label("Secure")).to_be_checked()  # https by default
    page.get_by_text("Advanced Options").click()
    shot(page, app, "10-export-dialog")

    page.get_by_role("button", name="Generate Tags").click()
    js_tag = (
        "<!-- Segment Pixel - Van buyers - DO NOT MODIFY -->\n"
        f'<script src="https://{host}/seg?add={vans["id"]}&t=1" type="text/javascript"></script>\n'
        "<!-- End of Segment Pixel -->"
    )
    expect(page.locator("#tag-1")).to_have_value(js_tag)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied ✓")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == js_tag
    shot(page, app, "11-export-js-tag")

    page.get_by_label("Image tag").check()
    page.get_by_label("Secure").uncheck()  # the test page is plain http
    page.get_by_role("button", name="Generate Tags").click()
    image_tag = (
        "<!-- Segment Pixel - Van buyers - DO NOT MODIFY -->\n"
        f'<img src="http://{host}/seg?add={vans["id"]}&t=2" width="1" height="1" />\n'
        "<!-- End of Segment Pixel -->"
    )
    expect(page.locator("#tag-1")).to_have_value(image_tag)
    shot(page, app, "12-export-image-tag")

    # A publisher's page carrying the exported image tag, loaded in this browser...
    publisher.routes["/console-export.html"] = (
        "text/html; charset=utf-8",
        f"<!doctype html><title>Publisher</title><h1>Publisher</h1>\n{image_tag}\n".encode(),
    )
    visit = context.new_page()
    with visit.expect_response(lambda r: "/seg?add=" in r.url) as pixel:
        visit.goto(f"{publisher.origin}/console-export.html")
    assert pixel.value.status == 200
    visit.close()
    # ...puts the browser in the segment, as the pixel tester shows
    page.goto(f"{app.base_url}/console/advertisers/{app.cars['id']}/tester")
    row = page.locator(f"#segments-table tr[data-segment='{vans['id']}']")
    expect(row).to_contain_text("Van buyers")
    expect(row.locator("td").nth(3)).to_have_text("1")  # one add
    shot(page, app, "13-pixel-tester-membership")

    # firing another segment's pixel from the tester: the server's account, then the membership
    page.get_by_label("Segment").select_option(str(trucks["id"]))
    page.get_by_label("Value").fill("7")
    expect(page.locator("#tester-url")).to_have_text(f"/seg?add={trucks['id']}:7&t=2&debug=1")
    page.get_by_role("button", name="Fire pixel").click()
    outcome = page.locator("#outcome-items")
    expect(outcome).to_contain_text("✓ accepted")
    expect(outcome).to_contain_text(f"Add to segment {trucks['id']} (Truck buyers)")
    expect(page.locator("#debug-json")).to_contain_text('"memberships"')
    fired = page.locator(f"#segments-table tr[data-segment='{trucks['id']}']")
    expect(fired.locator("td").nth(2)).to_have_text("7")
    page.get_by_text("The debug=1 answer (JSON)").click()
    shot(page, app, "14-pixel-tester-fired")


def test_a_segments_page_edit_deactivate_move_and_delete(page: Page, app: Console) -> None:
    segment = app.admin.make_segment(f"advertiser_id={app.cars['id']}", "Bike curious")
    app.wait_until_known(segment["id"])
    for uid in ("11", "12", "12"):
        httpx.get(
            f"{app.base_url}/seg", params={"add": segment["id"]}, headers={"Cookie": f"uuid2={uid}"}
        )
    log_in(page, app)
    page.goto(app.segments_url())
    page.get_by_role("link", name="Bike curious").click()
    expect(page.get_by_role("heading", name="Bike curious")).to_be_visible()
    expect(page.locator(".chart-svg")).to_be_visible()  # daily loads and uniques
    expect(page.locator(".kpi-value").first).to_have_text("2")  # active users, 24 h
    shot(page, app, "15-segment-page")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name=f"Edit Segment {segment['id']}")).to_be_visible()
    page.get_by_label("Name").fill("Bike buyers")
    shot(page, app, "16-edit-segment")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("“Bike buyers” saved.")
    assert app.segment(segment["id"])["short_name"] == "Bike buyers"

    page.get_by_role("link", name="Bike buyers").click()
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash")).to_contain_text("deactivated")
    expect(page.locator(".subtitle")).to_contain_text("Inactive")
    assert app.segment(segment["id"])["state"] == "inactive"

    page.once("dialog", lambda dialog: dialog.accept())  # "Move … to member level?"
    page.get_by_role("button", name="Move to member level").click()
    expect(page.locator(".flash")).to_contain_text("is now a member-level segment")
    expect(page.locator(".subtitle")).to_contain_text("Member")
    assert app.segment(segment["id"])["advertiser_id"] is None

    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name=f"Delete segment {segment['id']}?")).to_be_visible()
    shot(page, app, "17-delete-confirmation")
    page.get_by_role("button", name="Delete segment").click()
    expect(page.locator(".flash")).to_contain_text("“Bike buyers” deleted.")
    expect(page.locator(f"#segment-{segment['id']}")).to_have_count(0)
    assert segment["id"] not in [s["id"] for s in app.segments()]


def test_another_advertisers_pages_are_refused_and_so_is_a_form_without_its_token(
    page: Page, app: Console
) -> None:
    username = f"cars-{time.monotonic_ns()}"
    app.admin.make_user(
        username, "advertiser", member_id=app.member["id"], advertiser_id=app.cars["id"]
    )
    shared = app.admin.make_segment(
        f"member_id={app.member['id']}", "Everyone's audience", advertiser_id=None
    )
    log_in(page, app, username, "password-123")
    page.goto(app.segments_url())
    row = page.locator(f"#segment-{shared['id']}")
    expect(row.locator(".badge-member")).to_have_text("Member")
    expect(row.get_by_role("link", name="Edit")).to_have_count(0)  # the member's, not its own
    shot(page, app, "18a-advertiser-user-list")
    response = page.goto(app.segments_url(app.bikes))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(page, app, "18b-another-advertiser-403")

    # the form, stripped of its token, is refused and nothing is created
    before = len(app.segments())
    open_new_segment(page, app)
    page.get_by_label("Name").fill("Forged")
    page.evaluate("document.querySelector('#segment-form input[name=csrf_token]').remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Save", exact=True).click()
    assert posted.value.status == 403
    expect(page.get_by_text("did not carry this session's security token")).to_be_visible()
    shot(page, app, "19-csrf-refused")
    assert len(app.segments()) == before


def test_the_api_docs_render_from_our_own_assets_only(page: Page, app: Console) -> None:
    """ISSUE 14 item 6: /docs (Swagger UI) runs under its CSP — any violation would be a console
    error, which the `page` fixture fails on — and every request it makes stays on our host."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{app.base_url}/docs")
    expect(page.locator(".information-container .title")).to_contain_text("segpixel")
    expect(page.locator("#operations-segment-read_segments_segment_get").first).to_be_visible()
    shot(page, app, "docs")
    assert requested and all(url.startswith(app.base_url + "/") for url in requested), requested
    assert f"{app.base_url}/openapi.json" in requested
