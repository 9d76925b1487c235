"""Acceptance in a real browser (SPEC §3 and §4.2): a publisher's page carrying segpixel's tags,
loaded by Debian's headless Chromium, against `segpixel serve` on each profile store.

Three origins take part, all on this machine:
- segpixel at http://127.0.0.1:P (the pixel server, run as users run it);
- a piggyback partner at http://127.0.0.1:Q, serving a 1x1 GIF and a small script;
- the publisher at http://127.0.0.1:R, serving the page with the tags in the reference's form.

Why the page is on 127.0.0.1 too: over plain http the identity cookie is `SameSite=Lax` (SPEC §3.2,
cookie_secure=auto). Cookies ignore ports, so 127.0.0.1:R and 127.0.0.1:P are the SAME site and
Chromium stores the cookie a pixel sets and sends it back — what a deployment under the publisher's
own domain (or over https with `SameSite=None; Secure`) gives. A page on another site
(e.g. http://localhost:R) would be meaningless here: Chromium then refuses to store the cookie at
all (Lax on a cross-site subresource, and Playwright's contexts block third-party cookies even with
`SameSite=None; Secure`), so every page view would be a brand-new visitor. One side effect of
sharing the host: the partner (127.0.0.1:Q) receives segpixel's cookie too; nothing here relies on
the partner not seeing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response

from segpixel.domain.tags import TaggedSegment, TagOptions, pixel_tag
from segpixel.edge.http import GIF
from tests.browser.conftest import LocalSite, Segpixel

pytestmark = pytest.mark.browser

COOKIE = "uuid2"
MAX_AGE = 180 * 24 * 3600
UID_IN_SET_COOKIE = re.compile(rf"^{COOKIE}=(\d+);")
PIGGYBACK_JS = b"window.__pb_js = (window.__pb_js || 0) + 1;\n"

# Runs before any script of the page: records every document.write/writeln (SPEC §3.3 forbids them).
WATCH_DOCUMENT_WRITE = """
window.__document_writes = [];
for (const name of ["write", "writeln"]) {
  const original = Document.prototype[name];
  Document.prototype[name] = function (...args) {
    window.__document_writes.push(name + ": " + args.join(""));
    return original.apply(this, args);
  };
}
"""


@dataclass(frozen=True)
class Scenario:
    server: Segpixel
    member: dict[str, Any]
    img_segment: int  # image segment (t=2), one `img` piggyback
    js_segment: int  # JavaScript segment (t=1), one `js` piggyback
    img_piggyback: str
    js_piggyback: str
    img_pixel: str  # the pixel URLs written in the tags
    js_pixel: str
    page_url: str  # both tags
    image_page_url: str  # the image tag alone

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def cookie_path(self) -> str:
        return f"/cookie?member_id={self.member['id']}&dongle={self.member['dongle']}"


def publisher_page(title: str, tags: list[str]) -> bytes:
    body = "\n".join(tags)
    return f"""<!doctype html>
<html>
<head><meta charset="utf-8"><title>{title}</title><link rel="icon" href="data:,"></head>
<body style="font-family: sans-serif">
<h1>{title}</h1>
<p>A publisher's page carrying segpixel's segment pixels (tags in the reference's form).</p>
{body}
</body>
</html>
""".encode()


@pytest.fixture(scope="module")
def scenario(segpixel: Segpixel, partner: LocalSite, publisher: LocalSite) -> Scenario:
    """A member, an image and a JS segment with piggybacks at the partner, and the pages."""
    server = segpixel.server.port  # one set of routes per segpixel server
    admin = segpixel.admin
    member = admin.make_member("Browser Test Publisher Co")
    img_piggyback = f"{partner.origin}/pb.gif?from=img-segment&server={server}"
    js_piggyback = f"{partner.origin}/pb.js?from=js-segment&server={server}"
    img_segment = admin.make_segment(
        f"member_id={member['id']}",
        "Image visitors",
        piggyback_pixels=[{"url": img_piggyback, "pixel_type": "img"}],
    )
    js_segment = admin.make_segment(
        f"member_id={member['id']}",
        "Script visitors",
        piggyback_pixels=[{"url": js_piggyback, "pixel_type": "js"}],
    )
    partner.routes["/pb.gif"] = ("image/gif", GIF)
    partner.routes["/pb.js"] = ("application/javascript", PIGGYBACK_JS)

    img_tag = pixel_tag(
        segpixel.base_url, [TaggedSegment(img_segment["id"], "Image visitors")], TagOptions()
    )
    js_tag = pixel_tag(
        segpixel.base_url,
        [TaggedSegment(js_segment["id"], "Script visitors")],
        TagOptions(javascript=True),
    )
    img_pixel = f"{segpixel.base_url}/seg?add={img_segment['id']}&t=2"
    js_pixel = f"{segpixel.base_url}/seg?add={js_segment['id']}&t=1"
    # the reference's exact tag forms
    assert f'<img src="{img_pixel}" width="1" height="1" />' in img_tag
    assert f'<script src="{js_pixel}" type="text/javascript"></script>' in js_tag

    publisher.routes[f"/{server}/page.html"] = (
        "text/html; charset=utf-8",
        publisher_page("Publisher page", [img_tag, js_tag]),
    )
    publisher.routes[f"/{server}/image.html"] = (
        "text/html; charset=utf-8",
        publisher_page("Publisher page (image pixel)", [img_tag]),
    )
    segpixel.wait_for_snapshot()  # the pixel server knows the segments before a browser calls
    return Scenario(
        server=segpixel,
        member=member,
        img_segment=img_segment["id"],
        js_segment=js_segment["id"],
        img_piggyback=img_piggyback,
        js_piggyback=js_piggyback,
        img_pixel=img_pixel,
        js_pixel=js_pixel,
        page_url=f"{publisher.origin}/{server}/page.html",
        image_page_url=f"{publisher.origin}/{server}/image.html",
    )


@dataclass
class Watch:
    """What a page did: segpixel responses, script errors, console errors."""

    base_url: str
    pixel_responses: list[Response] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def on_response(self, response: Response) -> None:
        if response.url.startswith(f"{self.base_url}/seg"):
            self.pixel_responses.append(response)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location})")

    def responses_to(self, url: str) -> list[Response]:
        return [r for r in self.pixel_responses if r.url == url]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies, a first-time visitor."""
    made = browser.new_context(viewport={"width": 800, "height": 300})
    made.set_default_timeout(10_000)
    made.add_init_script(WATCH_DOCUMENT_WRITE)
    yield made
    with suppress(Exception):
        made.close()


def open_page(context: BrowserContext, scenario: Scenario) -> tuple[Page, Watch]:
    page = context.new_page()
    watch = Watch(scenario.base_url)
    page.on("response", watch.on_response)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("console", watch.on_console)
    return page, watch


def set_uid(response: Response) -> str:
    """The id in the response's Set-Cookie, after checking the cookie's attributes (SPEC §3.2)."""
    header = response.header_value("set-cookie")
    assert header, f"{response.url} set no cookie"
    match = UID_IN_SET_COOKIE.match(header)
    assert match, header
    attributes = {a.strip() for a in header.split(";")[1:]}
    assert attributes == {"Path=/", f"Max-Age={MAX_AGE}", "HttpOnly", "SameSite=Lax"}, header
    return match.group(1)


def sent_cookie(response: Response) -> str | None:
    return response.request.all_headers().get("cookie")


def browser_uid(context: BrowserContext, scenario: Scenario) -> str:
    cookies = [c for c in context.cookies(scenario.base_url) if c["name"] == COOKIE]
    assert len(cookies) == 1, context.cookies()
    cookie = cookies[0]
    assert cookie["domain"] == "127.0.0.1" and cookie["path"] == "/", cookie
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax", cookie
    assert cookie["secure"] is False, cookie  # plain http, cookie_secure=auto
    assert cookie["value"].isdigit() and 0 < int(cookie["value"]) < 2**63, cookie
    return cookie["value"]


def segments_seen(context: BrowserContext, scenario: Scenario) -> dict[str, Any]:
    """GET /cookie?member_id&dongle from inside the browser profile, so its cookie is sent."""
    response = context.request.get(scenario.base_url + scenario.cookie_path)
    assert response.status == 200, response.text()
    return response.json()


def assert_clean(page: Page, watch: Watch) -> None:
    assert watch.page_errors == [], watch.page_errors
    assert watch.console_errors == [], watch.console_errors
    assert page.evaluate("window.__document_writes") == []


def test_first_visit_sets_the_cookie_stores_the_adds_and_fires_the_piggybacks(
    context: BrowserContext, scenario: Scenario, partner: LocalSite, tmp_path: Path
) -> None:
    partner.hits.clear()
    page, watch = open_page(context, scenario)
    page.goto(scenario.page_url, wait_until="load")
    page.wait_for_function("window.__pb_js === 1")  # the js piggyback was inserted and ran
    gif_hits = partner.wait_for("/pb.gif")
    js_hits = partner.wait_for("/pb.js")
    page.screenshot(path=tmp_path / "publisher-page.png", full_page=True)  # for humans

    # The pixels answered as SPEC §3.3 says: the image one redirects to its img piggyback...
    (img_response,) = watch.responses_to(scenario.img_pixel)
    assert img_response.status == 302
    assert img_response.header_value("location") == scenario.img_piggyback
    assert "no-store" in (img_response.header_value("cache-control") or "")
    # ...the JavaScript one is a script that inserts its js piggyback, without document.write.
    (js_response,) = watch.responses_to(scenario.js_pixel)
    assert js_response.status == 200
    assert (js_response.header_value("content-type") or "").startswith("application/javascript")
    script = js_response.text()
    assert scenario.js_piggyback.replace("&", "\\u0026") in script, script
    assert "document.write" not in script, script

    # A first visit: each response sets the cookie. Chromium fetches both tags in parallel (its
    # preload scanner), so in practice neither call carries a cookie and each gets its own new
    # id; the browser keeps one of them. (Should one call leave after the other's cookie was
    # stored, it carries that id and keeps it.)
    img_uid, js_uid = set_uid(img_response), set_uid(js_response)
    sent = {sent_cookie(img_response), sent_cookie(js_response)}
    assert None in sent, sent  # a fresh profile: at least one first-time call
    assert sent <= {None, f"{COOKIE}={img_uid}", f"{COOKIE}={js_uid}"}, sent
    if sent != {None}:  # the later call carried the earlier one's id and kept it
        assert img_uid == js_uid, (sent, img_uid, js_uid)
    uid = browser_uid(context, scenario)
    assert uid in {img_uid, js_uid}, (uid, img_uid, js_uid)

    # The adds are stored: the browser sees its own segments through /cookie (its cookie sent)...
    seen = segments_seen(context, scenario)
    assert seen["user_id"] == uid and seen["opted_out"] is False
    given = ((scenario.img_segment, img_uid), (scenario.js_segment, js_uid))
    expected = {segment_id for segment_id, by in given if by == uid}
    assert {s["id"] for s in seen["segments"]} == expected, seen
    assert all(s["count"] == 1 for s in seen["segments"]), seen
    # ...and each add was stored under the id its own response gave (even the id the browser
    # dropped), durably before the answer (SPEC §3.3).
    for segment_id, by in given:
        other = httpx.get(
            scenario.base_url + scenario.cookie_path, headers={"Cookie": f"{COOKIE}={by}"}
        ).json()
        assert other["user_id"] == by
        assert segment_id in {s["id"] for s in other["segments"]}, (segment_id, other)

    # The image piggyback: the browser followed the 302, the partner got the hit, the image loaded.
    assert [h.path for h in gif_hits] == [scenario.img_piggyback.removeprefix(partner.origin)]
    loaded = page.evaluate(
        "src => [...document.images].filter(i => i.src === src)"
        ".map(i => [i.complete, i.naturalWidth, i.naturalHeight])",
        scenario.img_pixel,
    )
    assert loaded == [[True, 1, 1]]
    # The js piggyback: one <script async> inserted by the pixel's script, fetched once, run once.
    inserted = page.evaluate(
        "src => [...document.scripts].filter(s => s.src === src).map(s => s.async)",
        scenario.js_piggyback,
    )
    assert inserted == [True]
    assert [h.path for h in js_hits] == [scenario.js_piggyback.removeprefix(partner.origin)]
    assert page.evaluate("window.__pb_js") == 1

    assert_clean(page, watch)


def test_returning_visitor_keeps_its_id_and_its_memberships_count_up(
    context: BrowserContext, scenario: Scenario, partner: LocalSite
) -> None:
    partner.hits.clear()
    page, watch = open_page(context, scenario)

    page.goto(scenario.image_page_url, wait_until="load")
    (first,) = watch.responses_to(scenario.img_pixel)
    assert sent_cookie(first) is None
    uid = set_uid(first)
    assert browser_uid(context, scenario) == uid

    page.goto(scenario.image_page_url, wait_until="load")  # the same browser comes back
    _, second = watch.responses_to(scenario.img_pixel)
    assert sent_cookie(second) == f"{COOKIE}={uid}"
    assert set_uid(second) == uid  # the same id, its cookie refreshed
    assert browser_uid(context, scenario) == uid
    (membership,) = segments_seen(context, scenario)["segments"]
    assert membership["id"] == scenario.img_segment
    assert membership["count"] == 2, membership
    assert membership["first_added"] <= membership["last_added"] < membership["expires_at"]
    partner.wait_for("/pb.gif", count=2)  # a piggyback fires on every call that adds

    # Now that the browser has its id, both tags of a page share it: the JS segment joins the
    # same profile (compare the first visit, where two parallel calls each made an id).
    page.goto(scenario.page_url, wait_until="load")
    page.wait_for_function("window.__pb_js === 1")
    assert len(watch.pixel_responses) == 4, [r.url for r in watch.pixel_responses]
    for response in watch.pixel_responses[2:]:
        assert sent_cookie(response) == f"{COOKIE}={uid}", response.url
        assert set_uid(response) == uid, response.url
    assert browser_uid(context, scenario) == uid
    # the debug view (SPEC §3.6), from the browser profile: the member's stored state (its dongle)
    member = scenario.member
    debug = context.request.get(
        f"{scenario.base_url}/seg?debug=1&member={member['id']}&dongle={member['dongle']}"
    )
    assert debug.status == 200, debug.text()
    state = debug.json()
    assert state["user_id"] == uid
    counts = {m["segment_id"]: m["count"] for m in state["memberships"]}
    assert counts == {scenario.img_segment: 3, scenario.js_segment: 1}, state
    partner.wait_for("/pb.gif", count=3)
    partner.wait_for("/pb.js", count=1)

    assert_clean(page, watch)
