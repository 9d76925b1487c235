"""Usersync pixels on the back of segment pixels (SPEC §1.4, §4.3), with the server's clock in the
test's hand for the 7-day rule. Over real HTTP on both profile stores."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from tests.pixel.conftest import DAY, TC_STRINGS, Pixel, assert_gif, chained
from tests.pixel.test_chained import script_urls


def partner_url(tag: str) -> str:
    return f"https://sync-{tag}-{secrets.token_hex(3)}.example/px?uid=${{UID}}"


def setup(px: Pixel, limits: dict[str, int | None], partners: list[tuple[str, int, str]]):
    """A member with segments of those max_usersync_pixels and partners (name, priority, type)."""
    m = px.member()
    segments = {
        name: px.segment(m["id"], name, max_usersync_pixels=limit)["id"]
        for name, limit in limits.items()
    }
    urls = {}
    for name, priority, pixel_type in partners:
        urls[name] = partner_url(name)
        px.usersync(m["id"], urls[name], name, priority=priority, pixel_type=pixel_type)
    px.sync()
    return m, segments, urls


def synced(body: dict[str, Any]) -> list[str]:
    return [c["url"] for c in chained(body, kind="usersync", fired=True)]


def filled(url: str, uid: str) -> str:
    return url.replace("${UID}", uid)


def test_the_count_is_the_lowest_max_usersync_pixels_of_the_added_segments(px: Pixel) -> None:
    _, seg, _ = setup(
        px,
        {"three": 3, "one": 1, "zero": 0, "null": None},
        [(f"p{i}", 10 - i, "img") for i in range(5)],
    )
    cases = [
        (f"{seg['three']}", 3),
        (f"{seg['three']},{seg['one']}", 1),
        (f"{seg['one']},{seg['three']}", 1),
        (f"{seg['three']},{seg['zero']}", 0),
        (f"{seg['three']},{seg['null']}", 0),
        (f"{seg['null']}", 0),
    ]
    for adds, expected in cases:
        body = px.browser().debug(f"t=1&add={adds}")  # a new browser each: synced with no one
        assert len(synced(body)) == expected, (adds, body["chained"])
    # removes and rejected items do not count as added segments
    body = px.browser().debug(f"t=1&add={seg['three']}&remove={seg['one']}")
    assert len(synced(body)) == 3
    body = px.browser().debug(f"t=1&add={seg['three']},999999")
    assert len(synced(body)) == 3
    body = px.browser().debug(f"t=1&remove={seg['three']}")
    assert synced(body) == []


def test_rotation_by_priority_and_the_7_day_rule(px: Pixel) -> None:
    _, seg, url = setup(px, {"two": 2}, [("low", 1, "img"), ("high", 20, "img"), ("mid", 10, "js")])
    browser = px.browser()
    response = browser.seg(f"t=1&add={seg['two']}")
    uid = browser.uid
    images, scripts = script_urls(response)
    # the two highest priorities first; an img partner as an image, a js one as a script
    assert images == [filled(url["high"], uid)]
    assert scripts == [filled(url["mid"], uid)]

    body = browser.debug(f"t=1&add={seg['two']}")  # rotate: the one not synced yet
    assert synced(body) == [filled(url["low"], uid)]
    body = browser.debug(f"t=1&add={seg['two']}")  # everyone synced in the last 7 days
    assert synced(body) == []

    px.clock.advance(7 * DAY - 3600)
    assert synced(browser.debug(f"t=1&add={seg['two']}")) == []

    px.clock.advance(3600 + 60)  # 7 days after the first syncs: synced again, by priority
    body = browser.debug(f"t=1&add={seg['two']}")
    assert synced(body) == [filled(url["high"], uid), filled(url["mid"], uid)]
    assert synced(browser.debug(f"t=1&add={seg['two']}")) == [filled(url["low"], uid)]


def test_image_pixel_redirects_to_one_img_usersync_and_rotates(px: Pixel) -> None:
    _, seg, url = setup(px, {"two": 2}, [("js-top", 20, "js"), ("a", 10, "img"), ("b", 5, "img")])
    browser = px.browser()
    first = browser.seg(f"add={seg['two']}")
    uid = browser.uid
    # a js partner cannot be an image pixel's redirect; of the img ones, one redirect only
    assert first.status_code == 302 and first.headers["location"] == filled(url["a"], uid)
    second = browser.seg(f"add={seg['two']}")
    assert second.status_code == 302 and second.headers["location"] == filled(url["b"], uid)
    assert_gif(browser.seg(f"add={seg['two']}"))


def test_an_img_piggyback_goes_before_usersync_on_an_image_pixel(px: Pixel) -> None:
    m = px.member()
    pb = f"https://pb-{secrets.token_hex(3)}.example/p.gif"
    sid = px.segment(
        m["id"], max_usersync_pixels=1, piggyback_pixels=[{"url": pb, "pixel_type": "img"}]
    )["id"]
    px.usersync(m["id"], partner_url("x"), "x")
    px.sync()
    browser = px.browser()
    response = browser.seg(f"add={sid}")
    assert response.status_code == 302 and response.headers["location"] == pb
    body = browser.debug(f"add={sid}")
    (waiting,) = chained(body, kind="usersync")
    assert waiting["fired"] is False and waiting["reason"]
    # it was not fired, so it is not remembered: the JS pixel still syncs it
    assert len(synced(browser.debug(f"t=1&add={sid}"))) == 1


def test_only_active_partners_of_the_added_segments_members(px: Pixel) -> None:
    m, seg, url = setup(px, {"five": 5}, [("on", 5, "img")])
    off = px.usersync(m["id"], partner_url("off"), "off", state="inactive")
    _, _, other_url = setup(px, {"x": 5}, [("other", 20, "img")])  # another member's partner
    body = px.browser().debug(f"t=1&add={seg['five']}")
    urls = [c["url"] for c in chained(body, kind="usersync")]
    assert len(urls) == 1 and urls[0].startswith(url["on"].split("${")[0])
    assert off["url"].split("?")[0] not in " ".join(urls)
    assert other_url["other"].split("?")[0] not in " ".join(urls)

    # a partner switched off through the API stops being chosen
    partners = px.api.ok("GET", f"/usersync-pixel?member_id={m['id']}")["usersync-pixels"]
    (on,) = [p for p in partners if p["name"] == "on"]
    px.api.ok("PUT", f"/usersync-pixel?id={on['id']}", {"usersync-pixel": {"state": "inactive"}})
    px.sync()
    assert synced(px.browser().debug(f"t=1&add={seg['five']}")) == []


def test_macros_are_filled_url_encoded(px: Pixel) -> None:
    m = px.member()
    sid = px.segment(m["id"], max_usersync_pixels=1)["id"]
    template = (
        f"https://mac-{secrets.token_hex(3)}.example/s?u=${{UID}}&g=${{GDPR}}&c=${{GDPR_CONSENT}}"
    )
    px.usersync(m["id"], template, "macros")
    px.sync()

    browser = px.browser()
    response = browser.seg(f"add={sid}&gdpr=0&gdpr_consent={quote('a b/c&d=e?')}")
    assert response.status_code == 302
    expected = (
        template.replace("${UID}", browser.uid)
        .replace("${GDPR}", "0")
        .replace("${GDPR_CONSENT}", "a%20b%2Fc%26d%3De%3F")
    )
    assert response.headers["location"] == expected

    tc = TC_STRINGS["p1_vendor755_consent"]
    browser = px.browser()
    response = browser.seg(f"add={sid}&gdpr=1&gdpr_consent={tc}")
    assert response.status_code == 302
    assert response.headers["location"] == (
        template.replace("${UID}", browser.uid)
        .replace("${GDPR}", "1")
        .replace("${GDPR_CONSENT}", quote(tc, safe=""))
    )

    browser = px.browser()  # no consent signal: empty macros
    response = browser.seg(f"add={sid}")
    assert response.headers["location"] == (
        template.replace("${UID}", browser.uid)
        .replace("${GDPR}", "")
        .replace("${GDPR_CONSENT}", "")
    )


def test_the_references_macro_names_receive_the_consent_signals(px: Pixel) -> None:
    """A usersync URL written for the reference: `$UID`, `${GDPR_APPLIES}`,
    `${GDPR_CONSENT_STRING}` and `${CACHEBUSTER}` (random on every fire)."""
    m = px.member()
    sid = px.segment(m["id"], max_usersync_pixels=1)["id"]
    partner = f"mac-{secrets.token_hex(3)}.example"
    template = (
        f"https://{partner}/s?uid=$UID&gdpr=${{GDPR_APPLIES}}"
        "&consent=${GDPR_CONSENT_STRING}&cb=${CACHEBUSTER}"
    )
    px.usersync(m["id"], template, "reference macros")
    px.sync()
    tc = TC_STRINGS["p1_vendor755_consent"]

    busters = set()
    for _ in range(2):
        browser = px.browser()
        response = browser.seg(f"add={sid}&gdpr=1&gdpr_consent={tc}")
        assert response.status_code == 302
        location = response.headers["location"]
        query = parse_qs(urlsplit(location).query)
        assert query["uid"] == [browser.uid]
        assert query["gdpr"] == ["1"]
        assert query["consent"] == [tc]
        assert query["cb"][0].isdigit()
        busters.add(query["cb"][0])
        assert "$" not in location
    assert len(busters) == 2


def test_never_for_non_consented_or_opted_out_users(px: Pixel) -> None:
    _, seg, _ = setup(px, {"two": 2}, [("a", 2, "img"), ("b", 1, "js")])
    sid = seg["two"]
    for query in (
        f"t=1&add={sid}&consent=0",
        f"t=1&add={sid}&gdpr=1",
        f"t=1&add={sid}&gdpr=1&gdpr_consent={TC_STRINGS['p1_not_consented']}",
        f"t=1&add={sid}&gdpr=1&gdpr_consent={TC_STRINGS['no_consent_at_all']}",
    ):
        browser = px.browser()
        assert script_urls(browser.seg(query)) == ([], []), query
        body = browser.debug(query)
        assert synced(body) == [], query
        assert browser.uid is None

    browser = px.browser()
    browser.seg("add=999999")  # gets a cookie
    browser.get("/optout")
    assert browser.uid == "-1"
    assert script_urls(browser.seg(f"t=1&add={sid}")) == ([], [])
    assert_gif(browser.seg(f"add={sid}"))
    assert synced(browser.debug(f"t=1&add={sid}")) == []

    # with consent (purpose 1 granted) the same call syncs
    ok = f"t=1&add={sid}&gdpr=1&gdpr_consent={TC_STRINGS['p1_vendor755_consent']}"
    assert len(synced(px.browser().debug(ok))) == 2
