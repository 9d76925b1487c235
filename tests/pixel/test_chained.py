"""Chained pixels: piggybacks (SPEC §1.3, §4.2), the image/JS response (§3.3, §4.1) and redirect
safety (§3.4), over real HTTP on both profile stores."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import quote

import httpx

from tests.helpers import error_of
from tests.pixel.conftest import Pixel, assert_gif, chained, membership, warning_of

SCRIPT_ARRAYS = re.compile(r"var i=(\[.*?\]),s=(\[.*?\]),k")


def host() -> str:
    """A host name no other test uses (earlier tests' allow-lists stay in the catalog)."""
    return f"h{secrets.token_hex(4)}.example"


def script_urls(response: httpx.Response) -> tuple[list[str], list[str]]:
    """(images, scripts) the JavaScript answer inserts; asserts what the script must not do."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/javascript")
    assert "no-store" in response.headers["cache-control"]
    text = response.text
    assert "document.write" not in text
    assert "eval(" not in text
    match = SCRIPT_ARRAYS.search(text)
    if match is None:
        assert "createElement" not in text  # nothing to chain: the script does nothing
        return [], []
    return json.loads(match.group(1)), json.loads(match.group(2))


def pig(url: str, pixel_type: str = "img") -> dict[str, str]:
    return {"url": url, "pixel_type": pixel_type}


# -- §1.3 the piggyback rules at the API --------------------------------------------------------


def test_piggyback_rules_are_validated_by_the_api(px: Pixel) -> None:
    m = px.member()
    query = f"/segment?member_id={m['id']}"

    def post(pixels: list[dict[str, str]]) -> httpx.Response:
        return px.api.post(query, {"segment": {"short_name": "P", "piggyback_pixels": pixels}})

    a, b = f"https://{host()}/a", f"https://{host()}/b"
    # rule 2: one type per segment
    sentence = error_of(post([pig(a), pig(b, "js")]), 400, "SYNTAX")
    assert "piggyback_pixels" in sentence and "one type" in sentence
    # rule 3: at most one img piggyback; any number of js
    sentence = error_of(post([pig(a), pig(b)]), 400, "SYNTAX")
    assert "piggyback_pixels" in sentence
    ok = px.api.ok(
        "POST",
        query,
        {
            "segment": {
                "short_name": "J",
                "piggyback_pixels": [pig(f"https://{host()}/{i}.js", "js") for i in range(12)],
            }
        },
    )
    assert len(ok["segment"]["piggyback_pixels"]) == 12
    # rule 4: absolute http(s) only; long URLs are fine
    for bad in ("/relative.gif", "ftp://x.example/a", "javascript:alert(1)", "//x.example/a"):
        assert "piggyback_pixels[0]" in error_of(post([pig(bad)]), 400, "SYNTAX")


def test_an_8kb_piggyback_url_is_accepted_and_fired(px: Pixel) -> None:
    m = px.member()
    long_url = f"https://{host()}/p.gif?d=" + "x" * 8192
    sid = px.segment(m["id"], piggyback_pixels=[pig(long_url)])["id"]
    px.sync()
    response = px.browser().seg(f"add={sid}")
    assert response.status_code == 302
    assert response.headers["location"] == long_url


# -- §3.3 / §4.1 / §4.2 the image answer ---------------------------------------------------------


def test_image_pixel_with_one_img_piggyback_redirects_once_to_it(px: Pixel) -> None:
    m = px.member()
    url = f"https://{host()}/pb.gif?a=1&b=2"
    sid = px.segment(m["id"], piggyback_pixels=[pig(url)])["id"]
    plain = px.segment(m["id"], "Plain")["id"]
    px.sync()
    browser = px.browser()
    for _ in range(2):  # fires on every call that adds the segment
        response = browser.seg(f"add={sid}")
        assert response.status_code == 302
        assert response.headers["location"] == url
        assert response.headers.get_list("location") == [url]
        assert response.content == b""
        assert "no-store" in response.headers["cache-control"]
        assert response.headers["set-cookie"].startswith("uuid2=")
    # the add is stored although the answer is a redirect
    assert membership(browser.debug("", member=m), sid)["count"] == 2
    # not on removes, nor on calls that add other segments only
    assert_gif(browser.seg(f"remove={sid}"))
    assert_gif(browser.seg(f"add={plain}"))


def test_one_redirect_only_when_several_segments_have_img_piggybacks(px: Pixel) -> None:
    m = px.member()
    urls = [f"https://{host()}/{i}.gif" for i in range(3)]
    ids = [
        px.segment(m["id"], f"S{i}", piggyback_pixels=[pig(u)])["id"] for i, u in enumerate(urls)
    ]
    px.sync()
    browser = px.browser()
    response = browser.seg(f"add={','.join(map(str, ids))}")
    assert response.status_code == 302
    assert response.headers["location"] == urls[0]
    body = px.browser().debug(f"add={','.join(map(str, ids))}")
    assert [c["fired"] for c in chained(body, kind="piggyback")] == [True, False, False]
    assert all(c["reason"] for c in chained(body, kind="piggyback", fired=False))


def test_js_piggybacks_do_not_fire_on_an_image_pixel(px: Pixel) -> None:
    m = px.member()
    js = f"https://{host()}/tag.js"
    sid = px.segment(m["id"], piggyback_pixels=[pig(js, "js")])["id"]
    px.sync()
    browser = px.browser()
    assert_gif(browser.seg(f"add={sid}"))
    body = browser.debug(f"add={sid}")
    (entry,) = chained(body, kind="piggyback")
    assert entry["url"] == js and entry["fired"] is False
    assert "image" in entry["reason"]


# -- §3.3 / §4.1 the JavaScript answer ------------------------------------------------------------


def test_js_pixel_inserts_all_js_piggybacks_of_all_added_segments(px: Pixel) -> None:
    m = px.member()
    a = [f"https://{host()}/a{i}.js" for i in range(3)]
    b = [f"https://{host()}/b.js?x=</script>&y=1"]
    img = f"https://{host()}/i.gif"
    sa = px.segment(m["id"], "A", piggyback_pixels=[pig(u, "js") for u in a])["id"]
    sb = px.segment(m["id"], "B", piggyback_pixels=[pig(u, "js") for u in b])["id"]
    si = px.segment(m["id"], "I", piggyback_pixels=[pig(img)])["id"]
    px.sync()
    browser = px.browser()
    response = browser.seg(f"t=1&add={sa},{sb},{si}")
    assert "</script>" not in response.text  # cannot end an inline <script> block early
    images, scripts = script_urls(response)
    assert scripts == a + b
    assert images == []  # the img piggyback is not fired on a JavaScript pixel …
    body = browser.debug(f"t=1&add={sa},{sb},{si}")
    (skipped,) = chained(body, kind="piggyback", url=img)
    assert skipped["fired"] is False and "JavaScript" in skipped["reason"]  # … and says why
    assert len(chained(body, kind="piggyback", fired=True)) == 4
    # the cookie is set by the script response too, and the adds are stored
    assert response.headers["set-cookie"].startswith("uuid2=")
    assert {x["segment_id"] for x in body["memberships"]} == {sa, sb, si}


def test_js_pixel_with_nothing_to_chain_is_an_inert_script(px: Pixel, acme) -> None:
    response = px.browser().seg(f"t=1&add={acme['segment']['id']}")
    assert script_urls(response) == ([], [])


def test_js_pixel_inserts_redir_by_its_kind(px: Pixel) -> None:
    allowed = host()
    m = px.member(redirect_domains=[allowed])
    sid = px.segment(m["id"])["id"]
    px.sync()
    image_url, script_url = f"https://{allowed}/p.gif?x=1", f"https://{allowed}/lib.js"
    images, scripts = script_urls(px.browser().seg(f"t=1&add={sid}&redir={quote(image_url)}"))
    assert (images, scripts) == ([image_url], [])
    images, scripts = script_urls(px.browser().seg(f"t=1&add={sid}&redir={quote(script_url)}"))
    assert (images, scripts) == ([], [script_url])
    images, scripts = script_urls(px.browser().seg(f"t=1&add={sid}&redir=https://{host()}/x.js"))
    assert (images, scripts) == ([], [])


# -- §3.4 redir ---------------------------------------------------------------------------------


def redirect_member(px: Pixel, *domains: str) -> tuple[dict[str, Any], int]:
    m = px.member()
    px.update_member(m["id"], redirect_domains=list(domains))  # set through PUT /member
    sid = px.segment(m["id"])["id"]
    px.sync()
    return m, sid


def test_redir_is_followed_to_an_allow_listed_host(px: Pixel) -> None:
    allowed = host()
    m, sid = redirect_member(px, allowed.upper())  # host names compare case-insensitively
    target = f"https://{allowed}/next.gif?a=1&b=%2F"
    browser = px.browser()
    response = browser.seg(f"add={sid}&redir={quote(target, safe='')}")
    assert response.status_code == 302
    assert response.headers["location"] == target
    assert membership(browser.debug("", member=m), sid) is not None  # the add happened too
    http_target = f"http://{allowed}/x"
    assert px.browser().seg(f"add={sid}&redir={http_target}").headers["location"] == http_target


def test_redir_to_a_host_off_the_list_is_not_followed(px: Pixel) -> None:
    allowed, other = host(), host()
    m, sid = redirect_member(px, allowed)
    browser = px.browser()
    for target in (
        f"https://{other}/x.gif",
        f"https://{allowed}.{other}/x.gif",  # suffix of a host name, not the host
        f"https://{allowed}@{other}/x.gif",  # userinfo: the host is `other`
        f"https://{other}\\@{allowed}/x.gif",  # browsers read '\\' as '/': the host is `other`
        f"https://sub.{allowed}/x.gif",  # no wildcard on the list
    ):
        response = browser.seg(f"add={sid}&redir={quote(target, safe='')}")
        assert_gif(response)
        assert "redir" in warning_of(response), target
    assert membership(browser.debug("", member=m), sid)["count"] == 5


def test_only_http_and_https_urls_are_ever_redirected_to(px: Pixel) -> None:
    allowed = host()
    _, sid = redirect_member(px, allowed)
    for target in (
        "javascript:alert(1)",
        f"javascript://{allowed}/%0aalert(1)",
        f"JavaScript://{allowed}/",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        f"data://{allowed}/x",
        f"ftp://{allowed}/x.gif",
        f"//{allowed}/x.gif",
        f"/{allowed}/x.gif",
        f"https:/{allowed}/x.gif",
        f"https://{allowed}/a b.gif",
        f"https://{allowed}/a\r\nSet-Cookie:x=1",
    ):
        for t in ("", "t=1&"):
            response = px.browser().seg(f"{t}add={sid}&redir={quote(target, safe='')}")
            assert response.status_code == 200, (target, response.headers)
            assert "location" not in response.headers
            if t:
                assert script_urls(response) == ([], []), target
            else:
                assert_gif(response)
            assert "redir" in warning_of(response), target
    # An encoded CR LF inside an allowed URL stays encoded: no header injection.
    target = f"https://{allowed}/a%0d%0aSet-Cookie:x=1"
    response = px.browser().seg(f"add={sid}&redir={quote(target, safe='')}")
    assert response.status_code == 302 and response.headers["location"] == target
    assert [c for c in response.headers.get_list("set-cookie") if c.startswith("x=")] == []


def test_wildcard_allow_list_entries_cover_subdomains(px: Pixel) -> None:
    base = host()
    _, sid = redirect_member(px, f"*.{base}")
    ok = f"https://img.cdn.{base}/p.gif"
    assert px.browser().seg(f"add={sid}&redir={quote(ok)}").headers["location"] == ok
    assert_gif(px.browser().seg(f"add={sid}&redir=https://x{base}/p.gif"))


def test_another_members_allow_list_does_not_count(px: Pixel) -> None:
    theirs = host()
    redirect_member(px, theirs)  # another member allows it …
    _, sid = redirect_member(px)  # … this one allows nothing
    response = px.browser().seg(f"add={sid}&redir=https://{theirs}/x.gif")
    assert_gif(response)
    assert "allow-list" in warning_of(response)


def test_redir_to_the_host_of_a_segments_piggyback_is_followed(px: Pixel) -> None:
    m = px.member()
    pb_host = host()
    sid = px.segment(m["id"], piggyback_pixels=[pig(f"https://{pb_host}/pb.gif")])["id"]
    px.sync()
    target = f"https://{pb_host}/elsewhere.gif"
    response = px.browser().seg(f"add={sid}&redir={quote(target)}")
    assert response.status_code == 302 and response.headers["location"] == target


def test_redir_takes_precedence_over_the_img_piggyback(px: Pixel) -> None:
    allowed = host()
    m = px.member(redirect_domains=[allowed])
    pb = f"https://{host()}/pb.gif"
    sid = px.segment(m["id"], piggyback_pixels=[pig(pb)])["id"]
    px.sync()
    target = f"https://{allowed}/first.gif"
    response = px.browser().seg(f"add={sid}&redir={quote(target)}")
    assert response.status_code == 302 and response.headers["location"] == target
    body = px.browser().debug(f"add={sid}&redir={quote(target)}")
    assert chained(body, kind="redir")[0]["fired"] is True
    (skipped,) = chained(body, kind="piggyback")
    assert skipped["fired"] is False and "once" in skipped["reason"]
    # with an off-list redir, the piggyback is the one redirect
    response = px.browser().seg(f"add={sid}&redir=https://{host()}/x.gif")
    assert response.status_code == 302 and response.headers["location"] == pb
    assert "allow-list" in warning_of(response)


def test_piggybacks_fire_for_accepted_adds_only(px: Pixel) -> None:
    m = px.member()
    asleep_pb, now_pb = f"https://{host()}/z.gif", f"https://{host()}/n.gif"
    asleep = px.segment(m["id"], "Z", state="inactive", piggyback_pixels=[pig(asleep_pb)])["id"]
    now_only = px.segment(m["id"], "N", expire_minutes=0, piggyback_pixels=[pig(now_pb)])["id"]
    px.sync()
    response = px.browser().seg(f"add={asleep}")  # rejected: no piggyback
    assert_gif(response)
    assert "inactive" in warning_of(response)
    # expire_minutes 0: the add is used by this request (it fires), though never stored
    browser = px.browser()
    response = browser.seg(f"add={now_only}")
    assert response.status_code == 302 and response.headers["location"] == now_pb
    assert browser.debug("")["memberships"] == []


def test_js_pixel_chains_js_piggybacks_redir_and_usersync_together(px: Pixel) -> None:
    allowed = host()
    m = px.member(redirect_domains=[allowed])
    js = [f"https://{host()}/a.js", f"https://{host()}/b.js"]
    sid = px.segment(m["id"], max_usersync_pixels=2, piggyback_pixels=[pig(u, "js") for u in js])[
        "id"
    ]
    sync_img = f"https://{host()}/sync?u=${{UID}}"
    sync_js = f"https://{host()}/sync.js?u=${{UID}}"
    px.usersync(m["id"], sync_img, "img partner", priority=9)
    px.usersync(m["id"], sync_js, "js partner", priority=8, pixel_type="js")
    px.usersync(m["id"], f"https://{host()}/third", "third", priority=1)
    px.sync()
    browser = px.browser()
    redir = f"https://{allowed}/r.gif"
    images, scripts = script_urls(browser.seg(f"t=1&add={sid}&redir={quote(redir)}"))
    uid = browser.uid
    assert sorted(images) == sorted([redir, sync_img.replace("${UID}", uid)])
    assert sorted(scripts) == sorted([*js, sync_js.replace("${UID}", uid)])
