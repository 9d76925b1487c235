"""Consent and privacy (SPEC §3.5; opted-out users §3.2): what is stored, what cookie is set, what
is erased — over real HTTP on both profile stores."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

from tests.helpers import ADMIN_PASSWORD, ApiClient, error_of
from tests.pixel.conftest import (
    REDIS_URL,
    TC_STRINGS,
    Browser,
    Pixel,
    ServerFactory,
    assert_gif,
    membership,
    warning_of,
)
from tests.pixel.test_chained import script_urls
from tests.pixel.test_identity import cookie_attrs


def stored_segments(px: Pixel, browser: Browser, member: dict[str, Any]) -> list[int]:
    """The browser's segments of that member, as `/cookie` shows them (no side effects)."""
    response = px.cookie_view(browser, member)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["segments"]]


def test_consent_0_stores_nothing_and_sets_no_cookie(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]
    browser = px.browser()
    response = browser.seg(f"add={sid}&consent=0")
    assert_gif(response)
    assert "set-cookie" not in response.headers
    assert "consent" in warning_of(response)
    assert browser.uid is None

    # a returning user: consent=0 adds nothing and does not refresh the cookie
    browser.seg(f"add={sid}")
    uid = browser.uid
    other = px.segment(acme["member"]["id"], "Other")["id"]
    px.sync()
    response = browser.seg(f"add={other}&consent=0")
    assert_gif(response)
    assert "set-cookie" not in response.headers
    assert browser.uid == uid
    assert stored_segments(px, browser, acme["member"]) == [sid]
    body = browser.debug(f"add={other}&consent=0")
    assert body["user_id"] is None and body["memberships"] == []
    assert stored_segments(px, browser, acme["member"]) == [sid]


def test_consent_1_and_gdpr_0_or_absent_are_allowed(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]
    for query in (f"add={sid}&consent=1", f"add={sid}&gdpr=0", f"add={sid}"):
        browser = px.browser()
        assert_gif(browser.seg(query))
        assert browser.uid is not None
        assert stored_segments(px, browser, acme["member"]) == [sid], query


def test_gdpr_1_needs_a_tc_string_granting_purpose_1(px: Pixel, acme) -> None:
    sid, member = acme["segment"]["id"], acme["member"]
    refused = {
        "no string": "gdpr=1",
        "empty string": "gdpr=1&gdpr_consent=",
        "not a TC string": "gdpr=1&gdpr_consent=hello-world",
        "purpose 1 refused": f"gdpr=1&gdpr_consent={TC_STRINGS['p1_not_consented']}",
        "reject all": f"gdpr=1&gdpr_consent={TC_STRINGS['no_consent_at_all']}",
    }
    for why, query in refused.items():
        browser = px.browser()
        response = browser.seg(f"add={sid}&{query}")
        assert_gif(response)
        assert "set-cookie" not in response.headers, why
        assert warning_of(response), why
        assert browser.uid is None, why

    for fixture in ("p1_vendor755_consent", "vendor_absent", "range_long_run"):
        browser = px.browser()
        response = browser.seg(f"add={sid}&gdpr=1&gdpr_consent={TC_STRINGS[fixture]}")
        assert_gif(response)
        assert browser.uid is not None, fixture
        assert stored_segments(px, browser, member) == [sid], fixture


def test_with_a_vendor_id_the_string_must_grant_that_vendor(
    px: Pixel, extra_servers: ServerFactory
) -> None:
    server = extra_servers.start(tcf_vendor_id=755)
    m = px.member()
    sid = px.segment(m["id"])["id"]
    px.sync(server)
    cases = {
        "p1_vendor755_consent": True,
        "legitimate_interests": True,  # purpose 1 consented, vendor 755 consented
        "vendor_absent": False,  # purpose 1 consented, vendor 755 not
        "range_large_ids": False,
        "p1_not_consented": False,  # vendor 755 consented, purpose 1 not
        "publisher_restrictions": False,  # the publisher disallows purpose 1 for vendor 755
    }
    for fixture, stores in cases.items():
        browser = px.browser(server)
        response = browser.seg(f"add={sid}&gdpr=1&gdpr_consent={TC_STRINGS[fixture]}")
        assert_gif(response)
        assert (browser.uid is not None) is stores, fixture
        assert ("set-cookie" in response.headers) is stores, fixture
        if stores:
            assert membership(browser.debug("", member=m), sid) is not None, fixture
        else:
            assert "755" in warning_of(response) or "purpose" in warning_of(response), fixture


# -- opt-out / opt-in -----------------------------------------------------------------------------


def test_optout_sets_minus_one_deletes_the_profile_and_stores_nothing_later(px: Pixel) -> None:
    m = px.member()
    pb = f"https://pb-{secrets.token_hex(3)}.example/p.gif"
    sid = px.segment(
        m["id"], max_usersync_pixels=1, piggyback_pixels=[{"url": pb, "pixel_type": "img"}]
    )["id"]
    plain = px.segment(m["id"], "Plain")["id"]
    px.usersync(m["id"], f"https://sync-{secrets.token_hex(3)}.example/?u=${{UID}}", "p")
    px.sync()
    browser = px.browser()
    browser.seg(f"t=1&add={sid}")  # JS: the usersync fires (an image would take the piggyback)
    browser.seg(f"add={plain}:3")
    uid = browser.uid
    browser.get("/setuid?partner=dsp&uid=D1")
    assert stored_segments(px, browser, m) == [sid, plain]
    assert px.read_store(uid).partner_syncs  # synced with the partner

    response = browser.get("/optout")
    assert response.status_code == 200
    name, value, attrs = cookie_attrs(response.headers["set-cookie"])
    assert (name, value) == ("uuid2", "-1")
    assert int(attrs["max-age"]) >= 365 * 86_400  # long-lived
    assert attrs["path"] == "/"
    assert browser.uid == "-1"
    deleted = px.read_store(uid)  # the whole profile is deleted
    assert (deleted.memberships, deleted.partner_syncs, deleted.partner_uids) == ((), {}, {})

    # later pixels store nothing, fire nothing, and still answer a pixel
    response = browser.seg(f"add={plain}")
    assert_gif(response)
    assert "set-cookie" not in response.headers
    response = browser.seg(f"add={sid}")  # a piggyback is due: not for an opted-out user
    assert_gif(response)
    assert script_urls(browser.seg(f"t=1&add={sid}")) == ([], [])
    body = browser.debug(f"add={sid},{plain}")
    assert body["user_id"] is None and body["memberships"] == []
    assert all(not c["fired"] for c in body["chained"]), body["chained"]
    assert browser.uid == "-1"
    view = px.cookie_view(browser, m).json()
    assert view["opted_out"] is True and view["segments"] == []
    assert px.read_store(uid).memberships == ()

    # /optin, opened in the browser, clears the mark; the next pixel gives a new id
    response = browser.get("/optin", headers=NAVIGATION)
    assert response.status_code == 200
    name, value, attrs = cookie_attrs(response.headers["set-cookie"])
    assert name == "uuid2" and value == "" and attrs["max-age"] == "0"
    assert browser.uid is None
    assert_gif(browser.seg(f"add={plain}"))
    assert browser.uid not in (None, "-1", uid)
    assert stored_segments(px, browser, m) == [plain]


NAVIGATION = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "none"}


def test_an_image_or_script_of_another_site_never_clears_an_opt_out(px: Pixel) -> None:
    """ISSUE 14 item 5: /optin needs a deliberate act."""
    browser = px.browser()
    browser.get("/optout")
    for dest in ("image", "script", "iframe", "empty"):
        headers = {"Sec-Fetch-Dest": dest, "Sec-Fetch-Site": "cross-site"}
        response = browser.get("/optin", headers=headers)
        assert response.status_code == 403, dest
        assert "set-cookie" not in response.headers and browser.uid == "-1", dest
        assert "deliberate" in warning_of(response)
    # a cross-site form POST, with or without a made-up token, is refused too
    other_site = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    response = browser.client.post("/optin", data={"token": "x"}, headers=other_site)
    assert response.status_code == 403 and browser.uid == "-1"


def test_the_optin_page_asks_for_a_click_and_its_form_opts_in(px: Pixel) -> None:
    browser = px.browser()
    browser.get("/optout")
    page = browser.get("/optin")  # a browser that sends no Sec-Fetch-*: the page, not the act
    assert page.status_code == 200 and browser.uid == "-1"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "SameSite=Strict" in page.headers["set-cookie"]
    token = re.search(r"name='token' value='([^']+)'", page.text).group(1)
    wrong = browser.client.post("/optin", data={"token": token + "x"})
    assert wrong.status_code == 403 and browser.uid == "-1"
    token = re.search(r"name='token' value='([^']+)'", wrong.text).group(1)  # a new form
    response = browser.client.post(
        "/optin", data={"token": token}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 200 and browser.uid is None  # opted in


def test_optout_without_a_cookie(px: Pixel, acme) -> None:
    browser = px.browser()
    response = browser.get("/optout")
    assert response.status_code == 200 and browser.uid == "-1"
    response = browser.seg(f"add={acme['segment']['id']}")
    assert_gif(response)
    assert browser.uid == "-1"


def test_optout_marks_the_cookie_secure_over_https(px: Pixel) -> None:
    response = px.browser().get("/optout", headers={"X-Forwarded-Proto": "https"})
    _, value, attrs = cookie_attrs(response.headers["set-cookie"])
    assert value == "-1" and "secure" in attrs and attrs["samesite"] == "None"


# -- DELETE /user-data -----------------------------------------------------------------------------


def test_delete_user_data_admin_erases_all_member_user_only_its_own(px: Pixel) -> None:
    a, b = px.member("A"), px.member("B")
    sa = px.segment(a["id"], "A1")["id"]
    sa2 = px.segment(a["id"], "A2")["id"]
    sb = px.segment(b["id"], "B1")["id"]
    px.sync()
    tag = secrets.token_hex(3)
    px.api.ok(
        "POST",
        "/user",
        {
            "user": {
                "username": f"a-{tag}",
                "password": ADMIN_PASSWORD,
                "role": "member",
                "member_id": a["id"],
            }
        },
    )
    member_api = ApiClient(httpx.Client(base_url=px.base_url, timeout=30))
    member_api = member_api.login(f"a-{tag}", ADMIN_PASSWORD)
    try:
        browser = px.browser()
        browser.seg(f"add={sa},{sa2},{sb}")
        uid = browser.uid

        out = member_api.ok("DELETE", f"/user-data?id={uid}")
        assert out["segments_removed"] == 2
        assert stored_segments(px, browser, a) == []
        assert stored_segments(px, browser, b) == [sb]  # another member's data is not its own

        browser.seg(f"add={sa}")
        px.api.ok("DELETE", f"/user-data?id={uid}")
        assert stored_segments(px, browser, a) == []
        assert stored_segments(px, browser, b) == []
        assert px.read_store(uid).memberships == ()

        # the browser keeps its cookie and can be added again
        browser.seg(f"add={sb}")
        assert stored_segments(px, browser, b) == [sb]

        anonymous = httpx.delete(f"{px.base_url}/user-data?id={uid}", timeout=10)
        error_of(anonymous, 401, "NOAUTH")
        assert stored_segments(px, browser, b) == [sb]
    finally:
        member_api.client.close()


def test_delete_user_data_refuses_an_advertiser_user(px: Pixel) -> None:
    m = px.member()
    sid = px.segment(m["id"])["id"]
    adv = px.api.make_advertiser(m["id"])
    px.sync()
    tag = secrets.token_hex(3)
    px.api.ok(
        "POST",
        "/user",
        {
            "user": {
                "username": f"adv-{tag}",
                "password": ADMIN_PASSWORD,
                "role": "advertiser",
                "member_id": m["id"],
                "advertiser_id": adv["id"],
            }
        },
    )
    client = httpx.Client(base_url=px.base_url, timeout=30)
    try:
        adv_api = ApiClient(client).login(f"adv-{tag}", ADMIN_PASSWORD)
        browser = px.browser()
        browser.seg(f"add={sid}")
        error_of(adv_api.delete(f"/user-data?id={browser.uid}"), 403, "UNAUTH")
        assert stored_segments(px, browser, m) == [sid]
    finally:
        client.close()


def test_debug_shows_stored_memberships_only_with_the_members_dongle(px: Pixel) -> None:
    """ISSUE 14 item 3 (SPEC §3.6): a user id is no secret (partners get it through ${UID}); a
    page that sets a victim's id as its cookie learns nothing stored by debug=1 — only what its
    own call did — unless it has the member's dongle, and then only that member's segments."""
    acme, other = px.member("Acme"), px.member("Other")
    audience = px.segment(acme["id"], "Audience")["id"]
    theirs = px.segment(other["id"], "Theirs")["id"]
    probe = px.segment(other["id"], "Probe")["id"]
    px.sync()
    victim = px.browser()
    victim.seg(f"add={audience}:7,{theirs}")

    attacker = px.browser()
    attacker.set_cookie(victim.uid)
    looked = attacker.debug("")
    assert looked["user_id"] == victim.uid and looked["memberships"] == []
    assert looked["memberships_of"] == "this call"
    added = attacker.debug(f"add={probe}")
    assert [m["segment_id"] for m in added["memberships"]] == [probe]
    assert added["memberships"][0]["count"] is None  # as this call stored it, not the history
    wrong = attacker.debug(f"member={acme['id']}&dongle={other['dongle']}")
    assert wrong["memberships"] == []
    assert attacker.debug(f"member={acme['id']}&dongle=")["memberships"] == []

    shown = attacker.debug("", member=acme)
    assert shown["memberships_of"] == f"member {acme['id']}"
    assert [(m["segment_id"], m["value"]) for m in shown["memberships"]] == [(audience, 7)]
    assert {m["segment_id"] for m in attacker.debug("", member=other)["memberships"]} == {
        theirs,
        probe,
    }


def _sqlite_links(px: Pixel, uid: int) -> dict[str, int]:
    """Rows of the SQLite profile and counters' files that name user `uid`."""
    import sqlite3
    from pathlib import Path

    from segpixel.stats.sqlite_log import counters_path

    settings = px.server.settings.resolved()
    profiles = settings.profile_url.removeprefix("sqlite:///")
    found = {}
    with sqlite3.connect(profiles) as conn:
        for table in ("memberships", "partner_syncs", "partner_uids", "load_log"):
            (found[table],) = conn.execute(
                f"SELECT count(*) FROM {table} WHERE uid = ?", (uid,)
            ).fetchone()
    with sqlite3.connect(counters_path(Path(profiles))) as conn:
        for table in ("load_day_users", "load_month_users"):
            (found[table],) = conn.execute(
                f"SELECT count(*) FROM {table} WHERE uid = ?", (uid,)
            ).fetchone()
    return found


def _loads(px: Pixel, sid: int) -> dict[str, Any]:
    from tests.pixel.jobs import report_rows

    rows = report_rows(
        px.api,
        columns=["segment_id", "day", "total_loads", "daily_uniques"],
        report_interval="today",
        filters=[{"segment_id": [sid]}],
        format="json",
    )
    return rows[0] if rows else {}


def test_erasure_removes_every_link_of_the_user_to_segments_and_counts_stay(
    px: Pixel, request
) -> None:
    """ISSUE 14 item 5 (SPEC §3.5): after /optout (or DELETE /user-data) the SQLite files hold
    no row naming the user — not in the profile, not in the load log, not among who loaded a
    segment this day or month — and the load counts and uniques are what they were. On Redis
    the user's key is gone (its counters are HyperLogLogs, which hold no user)."""
    a, b = px.member("A"), px.member("B")
    sa, sb = px.segment(a["id"], "A")["id"], px.segment(b["id"], "B")["id"]
    px.sync()
    leaver, stayer, scoped = px.browser(), px.browser(), px.browser()
    for browser in (leaver, stayer, scoped):
        browser.seg(f"add={sa},{sb}")
    px.sync()
    before_a, before_b = _loads(px, sa), _loads(px, sb)  # (the reports fold the load log)
    assert before_a["total_loads"] >= 3

    leaver_uid = int(leaver.uid)
    leaver.seg(f"add={sa}")  # a load the log may not have folded yet: still counted
    leaver.get("/optout")
    px.api.ok("DELETE", f"/user-data?id={scoped.uid}")  # the admin: everything
    name = f"erase-{secrets.token_hex(3)}"
    px.api.ok(
        "POST",
        "/user",
        {
            "user": {
                "username": name,
                "password": ADMIN_PASSWORD,
                "role": "member",
                "member_id": b["id"],
            }
        },
    )
    stayer_uid = int(stayer.uid)
    with httpx.Client(base_url=px.base_url, timeout=30) as http:
        member_user = ApiClient(http).login(name, ADMIN_PASSWORD)
        member_user.ok("DELETE", f"/user-data?id={stayer_uid}")  # member B: its segments only

    assert _loads(px, sa) == {**before_a, "total_loads": before_a["total_loads"] + 1}
    assert _loads(px, sb) == before_b
    if px.store_kind == "sqlite":
        for erased in (leaver_uid, int(scoped.uid)):
            assert set(_sqlite_links(px, erased).values()) == {0}, _sqlite_links(px, erased)
        stayer_links = _sqlite_links(px, stayer_uid)
        assert stayer_links["memberships"] == 1  # A's segment stays: not B's to erase
        assert stayer_links["load_day_users"] == 1 and stayer_links["load_month_users"] == 1
    else:
        from segpixel.profiles.redis import RedisProfileStore

        client = request.getfixturevalue("redis_client")
        keys = RedisProfileStore(REDIS_URL, prefix=px.server.settings.redis_prefix)
        assert client.exists(keys.key(leaver_uid), keys.key(int(scoped.uid))) == 0
    assert px.read_store(int(scoped.uid)).memberships == ()
    assert [m.segment_id for m in px.read_store(stayer_uid).memberships] == [sa]
