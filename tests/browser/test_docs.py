"""/docs in a real browser: log in with "Try it out" on POST /auth, paste the token into
"Authorize", and a "Try it out" of GET /member then answers 200 with the members.

The page's Swagger UI assets: when /docs names another host for them (FastAPI's default, a CDN
this machine cannot reach), the test serves those two files from the `swagger-ui-bundle-v2`
package (the [test] extra) in their place; anything /docs serves itself loads as it is. The screen
is saved as a PNG (in SEGPIXEL_SCREENSHOTS when set, else a temporary folder).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.conftest import ServerProcess
from tests.helpers import ADMIN_PASSWORD, ApiClient

pytestmark = pytest.mark.browser
ASSETS = {"swagger-ui-bundle.js": "application/javascript", "swagger-ui.css": "text/css"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess({}, tmp_path_factory.mktemp("docs"))
    with httpx.Client(base_url=server.base_url) as http:
        ApiClient(http).login().make_member("Docs Member")
    yield server
    server.stop()


def local_assets(route: Route) -> None:
    """Swagger UI's files from the installed package; nothing else from another host."""
    from swagger_ui_bundle import swagger_ui_path

    name = urlsplit(route.request.url).path.rsplit("/", 1)[-1]
    if name in ASSETS:
        route.fulfill(body=(Path(swagger_ui_path) / name).read_bytes(), content_type=ASSETS[name])
    else:
        route.abort()


def try_it_out(page: Page, operation: str, body: dict | None = None) -> tuple[str, str]:
    """Open `operation` (its element id), run it, and return (status, response body)."""
    block = page.locator(f"#{operation}")
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    if body is not None:
        block.locator("textarea.body-param__text").fill(json.dumps(body))
    block.locator(".execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200", timeout=15_000)
    text = block.locator(".live-responses-table .response-col_description pre").first.inner_text()
    return status.inner_text(), text


def test_log_in_through_authorize_and_run_a_call(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    origin = f"http://127.0.0.1:{server.port}"
    context = browser.new_context()
    context.route(lambda url: not url.startswith(origin), local_assets)
    page = context.new_page()
    try:
        page.goto(f"{origin}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("segpixel", timeout=15_000)

        _, answer = try_it_out(
            page,
            "operations-auth-login_auth_post",
            {"auth": {"username": "admin", "password": ADMIN_PASSWORD}},
        )
        token = json.loads(answer)["response"]["token"]

        page.locator(".auth-wrapper .btn.authorize").click()
        scheme = page.locator(".modal-ux .auth-container").filter(has_text="Authorization")
        scheme.locator("input").first.fill(token)
        scheme.locator("button.authorize").click()
        expect(scheme).to_contain_text("Authorized")
        scheme.locator(".btn-done").click()

        _, members = try_it_out(page, "operations-member-read_members_member_get")
        listing = json.loads(members)["response"]
        assert listing["status"] == "OK"
        assert [m["name"] for m in listing["members"]] == ["Docs Member"]
        curl = page.locator("#operations-member-read_members_member_get .curl").inner_text()
        assert f"Authorization: {token}" in curl, curl
    finally:
        screens = Path(os.environ.get("SEGPIXEL_SCREENSHOTS") or tmp_path)
        page.screenshot(path=str(screens / "docs-authorized-call.png"), full_page=True)
        context.close()
