"""The ad call in a real browser (SPEC §5.3, §6): Debian's headless Chromium loads a publisher's
page carrying a `/ttj` ad tag, against `segpixel serve` on each profile store.

The tag's script puts the targeted creative in a sandboxed iframe after itself (no
document.write), fires the impression tracker, and a click in the creative goes through `/ck` to
the advertiser's landing page. The page, the landing page and segpixel are three origins on
127.0.0.1 (see test_pixel_in_browser.py for why the page shares segpixel's host).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response

from tests.browser.conftest import LocalSite, Segpixel
from tests.browser.test_pixel_in_browser import WATCH_DOCUMENT_WRITE, publisher_page

pytestmark = pytest.mark.browser

LANDING_HTML = (
    b'<!doctype html><title>Ford landing</title><link rel="icon" href="data:,">'
    b"<p>Book a test drive</p>"
)


@dataclass(frozen=True)
class Shop:
    server: Segpixel
    member: dict[str, Any]
    placement: int
    visitors: int  # a pixel segment
    viewed: int  # added by the creative's impression
    clicked: int  # added by its click
    targeted: dict[str, Any]  # the creative of the line item targeting a 0-minute qs segment
    returning: dict[str, Any]  # the creative of the line item targeting `visitors`
    fallback: dict[str, Any]
    landing: str
    ad_page: str  # the ad tag, with car=ford
    plain_ad_page: str  # the ad tag alone
    pixel_page: str  # the segment pixel alone

    def segments_of(self, context: BrowserContext) -> set[int]:
        path = f"/cookie?member_id={self.member['id']}&dongle={self.member['dongle']}"
        response = context.request.get(self.server.base_url + path)
        assert response.status == 200, response.text()
        return {s["id"] for s in response.json()["segments"]}


def ad_tag(base_url: str, placement: int, extra: str = "") -> str:
    return (
        f'<script src="{base_url}/ttj?id={placement}&size=300x250{extra}" '
        'type="text/javascript"></script>'
    )


@pytest.fixture(scope="module")
def shop(segpixel: Segpixel, publisher: LocalSite, partner: LocalSite) -> Shop:
    admin, port = segpixel.admin, segpixel.server.port
    member = admin.make_member("Browser Ads Co")
    mid = member["id"]
    advertiser = admin.make_advertiser(mid, "Ford")

    def post(path: str, key: str, **fields: Any) -> dict[str, Any]:
        return admin.ok("POST", path, {key: fields})[key]

    pub = post(f"/publisher?member_id={mid}", "publisher", name="Daily")
    site = post(f"/site?publisher_id={pub['id']}", "site", name="daily.example")
    placement = post(f"/placement?site_id={site['id']}", "placement", name="Top banner")["id"]
    segment = lambda name, **f: admin.make_segment(f"member_id={mid}", name, **f)["id"]  # noqa: E731
    visitors, viewed, clicked = segment("Visitors"), segment("Viewed"), segment("Clicked")
    ford_fans = segment(
        "Ford fans (this call)",
        expire_minutes=0,
        querystring_mapping={"param": "car", "values": ["ford"]},
    )
    landing = f"{partner.origin}/{port}/landing.html?src=ad"
    partner.routes[f"/{port}/landing.html"] = ("text/html; charset=utf-8", LANDING_HTML)

    def creative(name: str, **fields: Any) -> dict[str, Any]:
        html = (
            f'<a id="go" href="${{CLICK_URL}}" style="display:block;width:300px;height:250px;'
            f'background:#eef">{name}</a>'
        )
        return post(
            f"/creative?advertiser_id={advertiser['id']}",
            "creative",
            name=name,
            width=300,
            height=250,
            content=html,
            **fields,
        )

    targeted = creative(
        "Ford Mustang: test drive",
        click_url=landing,
        segments=[
            {"id": viewed, "action": "add_on_view"},
            {"id": clicked, "action": "add_on_click"},
        ],
    )
    returning = creative("Welcome back", click_url=landing)
    fallback = creative("House ad")

    def line_item(c: dict[str, Any], priority: int, targets: list[dict[str, Any]] | None) -> None:
        profile = {"segment_targets": targets} if targets else None
        post(
            f"/line-item?advertiser_id={advertiser['id']}",
            "line-item",
            name=c["name"],
            priority=priority,
            creatives=[c["id"]],
            profile=profile,
        )

    line_item(targeted, 20, [{"id": ford_fans}])
    line_item(returning, 10, [{"id": visitors, "expire_minutes": 60}])
    line_item(fallback, 1, None)
    base = segpixel.base_url
    pixel = f'<img src="{base}/seg?add={visitors}&t=2" width="1" height="1" />'
    pages = {
        "ad": ad_tag(base, placement, "&car=Ford"),
        "plain-ad": ad_tag(base, placement),
        "pixel": pixel,
    }
    for name, tag in pages.items():
        publisher.routes[f"/{port}/{name}.html"] = (
            "text/html; charset=utf-8",
            publisher_page(f"Publisher page ({name})", [tag]),
        )
    segpixel.wait_for_snapshot()
    return Shop(
        segpixel,
        member,
        placement,
        visitors,
        viewed,
        clicked,
        targeted,
        returning,
        fallback,
        landing,
        f"{publisher.origin}/{port}/ad.html",
        f"{publisher.origin}/{port}/plain-ad.html",
        f"{publisher.origin}/{port}/pixel.html",
    )


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 800, "height": 600})
    made.set_default_timeout(10_000)
    made.add_init_script(WATCH_DOCUMENT_WRITE)
    yield made
    with suppress(Exception):
        made.close()


@dataclass
class Watch:
    page: Page
    responses: list[Response]
    errors: list[str]

    def to(self, base_url: str, path: str) -> list[Response]:
        return [r for r in self.responses if r.url.startswith(f"{base_url}{path}")]


def open_page(context: BrowserContext, url: str) -> Watch:
    page = context.new_page()
    watch = Watch(page, [], [])
    page.on("response", lambda response: watch.responses.append(response))
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.goto(url, wait_until="load")
    return watch


def rendered(watch: Watch) -> tuple[str, str]:
    """(creative id, link text) of the ad the page shows, from inside its iframe."""
    frame = watch.page.locator("iframe[data-segpixel-creative]")
    frame.wait_for()
    creative_id = frame.get_attribute("data-segpixel-creative") or ""
    text = watch.page.frame_locator("iframe[data-segpixel-creative]").locator("#go").inner_text()
    return creative_id, text


def test_the_page_renders_the_targeted_creative_and_its_trackers_add_segments(
    context: BrowserContext, shop: Shop, partner: LocalSite
) -> None:
    base = shop.server.base_url
    watch = open_page(context, shop.ad_page)
    assert rendered(watch) == (str(shop.targeted["id"]), shop.targeted["name"])
    page = watch.page
    # right after its own <script> tag, a sandboxed frame the size of the creative
    placed = page.evaluate(
        """() => { const f = document.querySelector("iframe[data-segpixel-creative]");
        const s = f.previousElementSibling;
        return [s && s.tagName, s && s.src.includes("/ttj?"), f.width, f.height,
                f.getAttribute("sandbox").split(" ").includes("allow-same-origin")]; }"""
    )
    assert placed == ["SCRIPT", True, "300", "250", False]
    assert page.evaluate("window.__document_writes") == []
    (ttj,) = watch.to(base, "/ttj")
    assert ttj.status == 200 and "application/javascript" in (
        ttj.header_value("content-type") or ""
    )
    page.wait_for_function(
        "src => [...document.images].some(i => i.src === src && i.complete)",
        arg=f"{base}/it?creative={shop.targeted['id']}",
    )
    (impression,) = watch.to(base, "/it")
    assert impression.status == 200
    assert shop.segments_of(context) == {shop.viewed}  # the 0-minute qs segment is not stored

    with page.expect_navigation(url=shop.landing):
        page.frame_locator("iframe[data-segpixel-creative]").locator("#go").click()
    (click,) = watch.to(base, "/ck")
    assert click.status == 302 and click.header_value("location") == shop.landing
    assert page.title() == "Ford landing"
    assert partner.requests_to(shop.landing.removeprefix(partner.origin).split("?")[0])
    assert shop.segments_of(context) == {shop.viewed, shop.clicked}
    assert watch.errors == []


def test_a_returning_visitor_sees_the_creative_for_its_stored_segment(
    context: BrowserContext, shop: Shop
) -> None:
    first = open_page(context, shop.plain_ad_page)
    assert rendered(first)[0] == str(shop.fallback["id"])  # we know nothing of this browser yet
    pixel = open_page(context, shop.pixel_page)  # a page view puts the browser in "visitors"
    assert [r.status for r in pixel.to(shop.server.base_url, "/seg")] == [200]
    assert shop.segments_of(context) == {shop.visitors}
    later = open_page(context, shop.plain_ad_page)
    assert rendered(later) == (str(shop.returning["id"]), shop.returning["name"])
    assert first.errors == pixel.errors == later.errors == []
