"""ID sync endpoints (SPEC §4.4): `/getuid`, `/getuidj`, `/getuidp`, `/setuid`, `/mapuid`, over
real HTTP on both stores — with the reference's own documented examples where it gives them."""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

from tests.pixel.conftest import Pixel, assert_gif, item, membership, warning_of


def host() -> str:
    return f"id{secrets.token_hex(4)}.example"


# -- /getuid --------------------------------------------------------------------------------------


def test_getuid_redirects_to_a_partner_host_with_the_uid_filled(px: Pixel, acme) -> None:
    partner = host()
    px.usersync(acme["member"]["id"], f"https://{partner}/sync?u=${{UID}}", "partner")
    px.sync()
    browser = px.browser()
    browser.seg(f"add={acme['segment']['id']}")
    uid = browser.uid

    response = browser.get(f"/getuid?https://{partner}/match?our_id=$UID&x=1")
    assert response.status_code == 302
    assert response.headers["location"] == f"https://{partner}/match?our_id={uid}&x=1"
    # the URL-encoded form, and the ${UID} spelling
    encoded = quote(f"https://{partner}/m?id=${{UID}}", safe="")
    response = browser.get(f"/getuid?{encoded}")
    assert response.status_code == 302
    assert response.headers["location"] == f"https://{partner}/m?id={uid}"


def test_getuid_fills_0_without_a_cookie_or_when_opted_out(px: Pixel) -> None:
    allowed = host()
    px.member(redirect_domains=[allowed])  # an allow-listed host is fine too
    px.sync()
    browser = px.browser()
    response = browser.get(f"/getuid?https://{allowed}/m?id=$UID")
    assert response.status_code == 302
    assert response.headers["location"] == f"https://{allowed}/m?id=0"
    browser.get("/optout")
    response = browser.get(f"/getuid?https://{allowed}/m?id=$UID")
    assert response.headers["location"] == f"https://{allowed}/m?id=0"


def test_getuid_refuses_unknown_hosts_and_other_schemes(px: Pixel) -> None:
    allowed = host()
    px.member(redirect_domains=[allowed])
    asleep = host()
    px.member(redirect_domains=[asleep], state="inactive")  # an inactive member's list: no
    px.sync()
    browser = px.browser()
    for url in (
        f"https://{host()}/m?id=$UID",
        f"https://{allowed}.{host()}/m?id=$UID",
        f"https://{allowed}@{host()}/m",
        f"https://{asleep}/m?id=$UID",
        f"javascript:alert('$UID')//{allowed}",
        f"ftp://{allowed}/m",
        f"//{allowed}/m",
        "",
    ):
        response = browser.get(f"/getuid?{url}")
        assert_gif(response)
        assert "getuid" in warning_of(response), url


def test_getuid_the_references_examples(px: Pixel) -> None:
    """The reference's getUID page: `$UID` replaced, and a URL without a macro gets the id
    appended to its end."""
    adserver = host()
    px.member(redirect_domains=[adserver])
    px.sync()
    browser = px.browser()
    browser.seg("")
    uid = browser.uid

    # "https://ib.adnxs.com/getuid?https://ad.adserver.com/pixel?adnxs_uid=$UID&geo=35&referrer=…"
    response = browser.get(
        f"/getuid?https://{adserver}/pixel?adnxs_uid=$UID&geo=35&referrer=https://www.website.com"
    )
    assert response.status_code == 302
    assert response.headers["location"] == (
        f"https://{adserver}/pixel?adnxs_uid={uid}&geo=35&referrer=https://www.website.com"
    )
    # "…/getuid?https://ad.adserver.com/pixel?id=234123&adnxs_uid=$UID"
    response = browser.get(f"/getuid?https://{adserver}/pixel?id=234123&adnxs_uid=$UID")
    assert response.headers["location"] == f"https://{adserver}/pixel?id=234123&adnxs_uid={uid}"
    # no macro: "inserts the user ID … by appending it to the end of the URL"
    response = browser.get(f"/getuid?https://{adserver}/pixel?id=234123&adnxs_uid=")
    assert response.headers["location"] == f"https://{adserver}/pixel?id=234123&adnxs_uid={uid}"
    encoded = quote(f"https://{adserver}/match/", safe="")
    assert (
        browser.get(f"/getuid?{encoded}").headers["location"] == f"https://{adserver}/match/{uid}"
    )
    # a new browser: 0, appended likewise
    response = px.browser().get(f"/getuid?https://{adserver}/pixel?u=")
    assert response.headers["location"] == f"https://{adserver}/pixel?u=0"


# -- /getuidj and /getuidp ------------------------------------------------------------------------


def test_getuidj_answers_json_with_cors_only_for_allowed_origins(px: Pixel) -> None:
    allowed, partner = host(), host()
    m = px.member(redirect_domains=[allowed])
    px.usersync(m["id"], f"https://{partner}/s?u=$UID", "partner")
    px.sync()
    browser = px.browser()
    browser.seg("")
    uid = browser.uid

    for origin in (f"https://{allowed}", f"https://{partner}", f"http://{allowed}:8443"):
        response = browser.get("/getuidj", headers={"Origin": origin})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {"uid": uid}  # a string: JS numbers hold 53 bits, ids 63
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "Origin" in response.headers["vary"]
        assert "no-store" in response.headers["cache-control"]

    for origin in (f"https://{host()}", f"https://{allowed}.{host()}", "null", "file://x"):
        response = browser.get("/getuidj", headers={"Origin": origin})
        assert response.status_code == 200  # the answer comes, but no browser lets it be read
        assert "access-control-allow-origin" not in response.headers, origin
        assert "access-control-allow-credentials" not in response.headers, origin
    assert "access-control-allow-origin" not in browser.get("/getuidj").headers

    assert px.browser().get("/getuidj").json() == {"uid": "0"}  # no cookie
    browser.get("/optout")
    assert browser.get("/getuidj", headers={"Origin": f"https://{allowed}"}).json() == {"uid": "0"}


def test_getuidp_wraps_the_uid_for_allowed_pages_only(px: Pixel) -> None:
    allowed = host()
    px.member(redirect_domains=[allowed])
    px.sync()
    browser = px.browser()
    browser.seg("")
    uid = browser.uid
    page = {"Referer": f"https://{allowed}/article/1"}

    # "https://ib.adnxs.com/getuidp?callback=ABC" → "ABC({"uid":…})"
    response = browser.get("/getuidp?callback=ABC", headers=page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.text == f'/**/ABC({{"uid":"{uid}"}});'
    assert browser.get("/getuidp?callback=$cb_2", headers=page).text.startswith("/**/$cb_2(")

    # another site's page may load the script, but learns nothing of this browser
    other = browser.get("/getuidp?callback=ABC", headers={"Referer": f"https://{host()}/"})
    assert other.text == '/**/ABC({"uid":"0"});'
    assert "not allowed" in warning_of(other)
    assert browser.get("/getuidp?callback=ABC").text == '/**/ABC({"uid":"0"});'  # no Referer

    for bad in ("alert(1)//", "a.b", "1abc", "", "x" * 65, "%3Cscript%3E"):
        response = browser.get(f"/getuidp?callback={bad}", headers=page)
        assert response.status_code == 200, bad
        assert response.content == b"", bad  # a script that does nothing
        assert "callback" in warning_of(response), bad
        assert not re.search(r"[<>()]", response.text)


# -- /setuid --------------------------------------------------------------------------------------


def test_setuid_remembers_the_partners_id(px: Pixel, acme) -> None:
    browser = px.browser()
    browser.seg(f"add={acme['segment']['id']}")
    response = browser.get("/setuid?partner=tradedesk&uid=TD-123_abc")
    assert_gif(response)
    assert not warning_of(response)
    profile = px.read_store(browser.uid)
    assert profile.partner_uids == {"tradedesk": "TD-123_abc"}
    assert [m.segment_id for m in profile.memberships] == [acme["segment"]["id"]]

    browser.get("/setuid?partner=tradedesk&uid=TD-456")  # replaced
    browser.get("/setuid?partner=other.dsp&uid=O-1")
    assert px.read_store(browser.uid).partner_uids == {"tradedesk": "TD-456", "other.dsp": "O-1"}


def test_setuid_takes_the_references_entity_and_code(px: Pixel) -> None:
    browser = px.browser()
    response = browser.get("/setuid?entity=tradedesk&code=TD-9")
    assert_gif(response)
    assert not warning_of(response)
    assert px.read_store(browser.uid).partner_uids == {"tradedesk": "TD-9"}
    browser.get("/setuid?entity=a%20b&code=1")
    assert "setuid" in warning_of(browser.get("/setuid?entity=a%20b&code=1"))


def test_setuid_for_a_new_browser_sets_the_cookie(px: Pixel) -> None:
    browser = px.browser()
    response = browser.get("/setuid?partner=p1&uid=u1")
    assert_gif(response)
    assert browser.uid is not None
    assert px.read_store(browser.uid).partner_uids == {"p1": "u1"}


def test_setuid_bad_input_is_a_gif_with_a_warning(px: Pixel) -> None:
    browser = px.browser()
    browser.get("/setuid?partner=ok&uid=1")
    for query in (
        "partner=&uid=1",
        "partner=a%20b&uid=1",
        "partner=p&uid=",
        f"partner=p&uid={'u' * 257}",
    ):
        response = browser.get(f"/setuid?{query}")
        assert_gif(response)
        assert "setuid" in warning_of(response), query
    assert px.read_store(browser.uid).partner_uids == {"ok": "1"}

    browser.get("/optout")
    response = browser.get("/setuid?partner=p&uid=2")
    assert_gif(response)
    assert "opted out" in warning_of(response)


# -- /mapuid --------------------------------------------------------------------------------------


def test_mapuid_adds_the_members_segments_without_firing_piggybacks(px: Pixel) -> None:
    a, b = px.member("A"), px.member("B")
    pb = f"https://{host()}/pb.gif"
    a1 = px.segment(a["id"], "A1", piggyback_pixels=[{"url": pb, "pixel_type": "img"}])["id"]
    a2 = px.segment(a["id"], "A2", code="a-two")["id"]
    a3 = px.segment(a["id"], "A3", code="a-three", max_usersync_pixels=2)["id"]
    b1 = px.segment(b["id"], "B1")["id"]
    px.usersync(a["id"], f"https://{host()}/s?u=${{UID}}", "partner")
    px.sync()
    browser = px.browser()

    response = browser.get(f"/mapuid?member={a['id']}&user=crm-42&seg={a1},{a2}:5,{b1}")
    assert_gif(response)  # not a redirect: no piggyback …
    assert str(b1) in warning_of(response)  # … and another member's segment is rejected
    body = browser.debug("")
    assert membership(body, a1) is not None
    assert membership(body, a2)["value"] == 5
    assert membership(body, b1) is None
    profile = px.read_store(browser.uid)
    assert profile.partner_uids == {f"member:{a['id']}": "crm-42"}
    assert profile.partner_syncs == {}  # no usersync either

    response = browser.get(f"/mapuid?member={a['id']}&user=crm-42&seg_code=a-three:7,A-TWO")
    assert_gif(response)
    assert "A-TWO" in warning_of(response)  # codes are case-sensitive
    body = browser.debug("")
    assert membership(body, a3)["value"] == 7
    assert membership(body, a2)["count"] == 1


def test_mapuid_rejects_a_code_of_another_member_and_needs_member(px: Pixel) -> None:
    a, b = px.member("A"), px.member("B")
    px.segment(b["id"], "B1", code="b-only")
    px.sync()
    browser = px.browser()
    response = browser.get(f"/mapuid?member={a['id']}&user=x&seg_code=b-only")
    assert_gif(response)
    assert "b-only" in warning_of(response)
    response = browser.get("/mapuid?user=x&seg=1")
    assert_gif(response)
    assert "member" in warning_of(response)


def test_mapuid_stores_nothing_without_consent(px: Pixel, acme) -> None:
    sid, member = acme["segment"]["id"], acme["member"]
    browser = px.browser()
    response = browser.get(f"/mapuid?member={member['id']}&user=x&seg={sid}&gdpr=1")
    assert_gif(response)
    assert browser.uid is None
    browser.seg("")  # now a cookie, then opt out
    browser.get("/optout")
    response = browser.get(f"/mapuid?member={member['id']}&user=x&seg={sid}")
    assert_gif(response)
    assert px.cookie_view(browser, member).json()["segments"] == []


def test_seg_debug_reports_the_mapuid_added_segments_as_any_other(px: Pixel, acme) -> None:
    sid, member = acme["segment"]["id"], acme["member"]
    browser = px.browser()
    browser.get(f"/mapuid?member={member['id']}&user=u&seg={sid}")
    body = browser.debug(f"add={sid}")
    assert item(body, segment_id=sid)["accepted"] is True
    assert membership(body, sid)["count"] == 2
