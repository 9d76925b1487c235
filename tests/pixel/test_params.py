"""SPEC §3.1: every parameter of `GET /seg` and every rule under the table, over real HTTP.

Each test runs on both profile stores (SQLite, Redis). Behaviour is read back through `debug=1`
(SPEC §3.6), the `X-Segpixel-Warning` header and `/cookie`.
"""

from __future__ import annotations

from tests.pixel.conftest import (
    Pixel,
    assert_gif,
    epoch,
    item,
    membership,
    warning_of,
)

VALUE_MAX = 2_147_483_647


# -- add / add_code / member ----------------------------------------------------------------------


def test_add_takes_comma_separated_ids_each_with_an_optional_value(px: Pixel) -> None:
    m = px.member()
    a, b, c = (px.segment(m["id"], f"S{i}")["id"] for i in range(3))
    px.sync()
    browser = px.browser()
    assert_gif(browser.seg(f"add={a},{b}:5,{c}"))
    body = browser.debug("", member=m)
    values = {x["segment_id"]: x["value"] for x in body["memberships"]}
    assert values == {a: None, b: 5, c: None}


def test_add_code_needs_member_and_matches_codes_case_sensitively(px: Pixel) -> None:
    m = px.member()
    shoes = px.segment(m["id"], "Shoes", code="Shoes")
    px.sync()
    browser = px.browser()

    body = browser.debug(f"add_code=shoes&member={m['id']}")
    assert item(body, code="shoes")["accepted"] is False
    assert "shoes" in warning_of_debug(body)
    assert membership(body, shoes["id"]) is None

    body = browser.debug("add_code=Shoes")  # no member
    rejected = item(body, code="Shoes")
    assert rejected["accepted"] is False and "member" in rejected["reason"]
    assert "member" in warning_of_debug(body)
    assert membership(body, shoes["id"]) is None

    body = browser.debug(f"add_code=Shoes:7&member={m['id']}")
    accepted = item(body, code="Shoes")
    assert accepted["accepted"] is True and accepted["segment_id"] == shoes["id"]
    assert membership(body, shoes["id"])["value"] == 7


def test_add_code_of_another_members_segment_is_skipped_and_the_rest_proceeds(px: Pixel) -> None:
    acme, other = px.member("Acme"), px.member("Other")
    mine = px.segment(acme["id"], "Mine", code="mine")
    theirs = px.segment(other["id"], "Theirs", code="theirs")
    px.sync()
    browser = px.browser()
    response = browser.seg(f"add_code=theirs,mine&member={acme['id']}")
    assert_gif(response)
    assert "theirs" in warning_of(response)
    body = browser.debug("", member=acme)
    assert membership(body, mine["id"]) is not None
    assert membership(body, theirs["id"]) is None


def test_unknown_ids_and_codes_are_skipped_with_a_warning(px: Pixel, acme) -> None:
    seg, member = acme["segment"], acme["member"]
    browser = px.browser()
    response = browser.seg(f"add=999999,{seg['id']},abc&add_code=nope&member={member['id']}")
    assert_gif(response)
    warning = warning_of(response)
    assert "999999" in warning and "abc" in warning and "nope" in warning
    body = browser.debug("", member=member)
    assert [m["segment_id"] for m in body["memberships"]] == [seg["id"]]


def test_inactive_segment_accepts_no_add(px: Pixel) -> None:
    m = px.member()
    live = px.segment(m["id"], "Live")
    asleep = px.segment(m["id"], "Asleep", state="inactive")
    px.sync()
    browser = px.browser()
    response = browser.seg(f"add={asleep['id']},{live['id']}")
    assert_gif(response)
    assert "inactive" in warning_of(response)
    body = browser.debug("", member=m)
    assert membership(body, live["id"]) is not None
    assert membership(body, asleep["id"]) is None

    # A segment made inactive later stops taking adds (once the snapshot has the change).
    px.update_segment(live["id"], state="inactive")
    px.sync()
    body = browser.debug(f"add={live['id']}", member=m)
    assert item(body, segment_id=live["id"])["accepted"] is False


def test_segments_of_an_inactive_member_accept_no_add(px: Pixel, acme) -> None:
    px.update_member(acme["member"]["id"], state="inactive")
    px.sync()
    body = px.browser().debug(f"add={acme['segment']['id']}")
    rejected = item(body, segment_id=acme["segment"]["id"])
    assert rejected["accepted"] is False and "inactive" in rejected["reason"]
    assert body["memberships"] == []


# -- value / other --------------------------------------------------------------------------------


def test_value_precedence_item_value_then_value_then_other(px: Pixel) -> None:
    m = px.member()
    a, b, c = (px.segment(m["id"], f"S{i}")["id"] for i in range(3))
    px.sync()
    browser = px.browser()
    body = browser.debug(f"add={a}:5,{b}&value=7&other=9")
    assert membership(body, a)["value"] == 5
    assert membership(body, b)["value"] == 7

    body = px.browser().debug(f"add={a},{b}:3&other=9")
    assert membership(body, a)["value"] == 9  # other: neither :value nor value given
    assert membership(body, b)["value"] == 3

    body = px.browser().debug(f"add={c}&value=4&other=9")
    assert membership(body, c)["value"] == 4


def test_zero_negative_and_non_numbers_mean_no_value_but_the_add_happens(px: Pixel) -> None:
    m = px.member()
    ids = [px.segment(m["id"], f"S{i}")["id"] for i in range(6)]
    px.sync()
    raws = ["0", "-3", "abc", "1.5", "", "-0"]
    query = ",".join(f"{sid}:{raw}" for sid, raw in zip(ids, raws, strict=True))
    browser = px.browser()
    response = browser.seg(f"add={query}")
    assert_gif(response)
    body = browser.debug("", member=m)
    assert sorted(x["segment_id"] for x in body["memberships"]) == sorted(ids)
    assert all(x["value"] is None for x in body["memberships"]), body["memberships"]

    for raw in ("0", "-12", "twelve"):
        body = px.browser().debug(f"add={ids[0]}&value={raw}", member=m)
        assert item(body, segment_id=ids[0])["accepted"] is True
        assert membership(body, ids[0])["value"] is None
        body = px.browser().debug(f"add={ids[0]}&other={raw}", member=m)
        assert membership(body, ids[0])["value"] is None


def test_value_range_ends(px: Pixel) -> None:
    m = px.member()
    a, b, c = (px.segment(m["id"], f"S{i}")["id"] for i in range(3))
    px.sync()
    browser = px.browser()
    response = browser.seg(f"add={a}:{VALUE_MAX + 1},{b}:{VALUE_MAX},{c}:1")
    assert_gif(response)
    assert str(VALUE_MAX) in warning_of(response) or "value" in warning_of(response)
    body = browser.debug("", member=m)
    assert membership(body, a) is None  # that item is rejected …
    assert membership(body, b)["value"] == VALUE_MAX  # … the others proceed
    assert membership(body, c)["value"] == 1

    body = px.browser().debug(f"add={a},{b}:2&value={VALUE_MAX + 1}", member=m)
    assert item(body, segment_id=a)["accepted"] is False
    assert item(body, segment_id=b)["accepted"] is True
    assert membership(body, b)["value"] == 2

    body = px.browser().debug(f"add={a}&other=99999999999999999999999", member=m)
    assert item(body, segment_id=a)["accepted"] is False


def test_re_add_replaces_the_value_only_when_a_new_one_is_given(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]
    browser = px.browser()
    browser.seg(f"add={sid}:5")
    assert membership(browser.debug(f"add={sid}", member=acme["member"]), sid)["value"] == 5
    assert membership(browser.debug(f"add={sid}:0", member=acme["member"]), sid)["value"] == 5
    assert membership(browser.debug(f"add={sid}:8", member=acme["member"]), sid)["value"] == 8
    assert (
        membership(browser.debug(f"add={sid}&value=11", member=acme["member"]), sid)["value"] == 11
    )


# -- remove / remove_code -------------------------------------------------------------------------


def test_remove_and_remove_code(px: Pixel) -> None:
    m = px.member()
    a = px.segment(m["id"], "A", code="Alpha")["id"]
    b = px.segment(m["id"], "B", code="beta")["id"]
    c = px.segment(m["id"], "C")["id"]
    px.sync()
    browser = px.browser()
    browser.seg(f"add={a},{b},{c}")

    assert membership(browser.debug(f"remove={c}", member=m), c) is None

    body = browser.debug("remove_code=beta")  # no member: skipped
    assert item(body, code="beta")["accepted"] is False
    assert membership(browser.debug("", member=m), b) is not None

    # case-sensitive: no match
    body = browser.debug(f"remove_code=alpha&member={m['id']}", member=m)
    assert item(body, code="alpha")["accepted"] is False
    assert membership(body, a) is not None

    body = browser.debug(f"remove_code=Alpha,beta&member={m['id']}", member=m)
    assert body["memberships"] == []

    # removing a segment the browser is not in is fine; a later add starts afresh
    assert item(browser.debug(f"remove={c}", member=m), segment_id=c)["accepted"] is True
    assert membership(browser.debug(f"add={a}", member=m), a)["count"] == 1


def test_adds_are_applied_before_removes(px: Pixel, acme) -> None:
    sid, code, mid = acme["segment"]["id"], acme["segment"]["code"], acme["member"]["id"]
    browser = px.browser()
    body = browser.debug(f"add={sid}&remove={sid}")
    assert membership(body, sid) is None

    browser.seg(f"add={sid}")  # a member now …
    body = browser.debug(f"remove={sid}&add={sid}:4")  # … order in the URL does not matter
    assert membership(body, sid) is None

    browser.seg(f"add={sid}")
    body = browser.debug(f"add_code={code}&remove={sid}&member={mid}")
    assert membership(body, sid) is None
    body = browser.debug(f"add={sid}&remove_code={code}&member={mid}")
    assert membership(body, sid) is None


# -- t / debug ------------------------------------------------------------------------------------


def test_t_selects_the_response_type(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]
    browser = px.browser()
    for t in ("", "t=2&", "t=0&", "t=3&", "t=js&", "t=11&"):
        assert_gif(browser.seg(f"{t}add={sid}"))
    response = browser.seg(f"t=1&add={sid}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")


def test_debug_applies_the_call_and_accounts_for_it(px: Pixel) -> None:
    a_member, b_member = px.member("A"), px.member("B")
    a = px.segment(a_member["id"], "A", code="a-code")
    b = px.segment(b_member["id"], "B", expire_minutes=90)
    px.sync()
    browser = px.browser()
    browser.seg(f"add={b['id']}:3")
    body = browser.debug(f"add_code=a-code:6&member={a_member['id']}&remove=424242")
    assert set(body) >= {"user_id", "items", "memberships", "chained", "warnings"}
    assert body["user_id"] == browser.uid
    add, bad_remove = body["items"]
    assert add == {**add, "segment_id": a["id"], "code": "a-code", "action": "add"}
    assert add["accepted"] is True and add["reason"] is None
    assert bad_remove["action"] == "remove" and bad_remove["accepted"] is False
    assert bad_remove["reason"]
    # memberships without a dongle: only what this call stored, as it stored it (SPEC §3.6)
    assert body["memberships_of"] == "this call"
    (mine,) = body["memberships"]
    assert (mine["segment_id"], mine["value"], mine["count"]) == (a["id"], 6, None)
    epoch(mine["last_added"]), epoch(mine["expires_at"])  # ISO-8601 UTC
    # with a member's dongle: that member's stored memberships, no other member's
    shown = browser.debug("", member=b_member)
    assert shown["memberships_of"] == f"member {b_member['id']}"
    assert [x["segment_id"] for x in shown["memberships"]] == [b["id"]]
    for x in shown["memberships"]:
        assert set(x) >= {"segment_id", "value", "first_added", "last_added", "expires_at"}
        for key in ("first_added", "last_added", "expires_at"):
            epoch(x[key])  # ISO-8601 UTC
    mb = membership(shown, b["id"])
    assert mb["value"] == 3 and mb["count"] == 1
    assert epoch(mb["expires_at"]) - epoch(mb["last_added"]) == 90 * 60
    assert [x["segment_id"] for x in browser.debug("", member=a_member)["memberships"]] == [a["id"]]
    assert body["warnings"] and "424242" in body["warnings"][0]
    # the call was applied, as without debug=1
    seen = px.cookie_view(browser, a_member).json()
    assert [s["id"] for s in seen["segments"]] == [a["id"]]


# -- limits and windows ----------------------------------------------------------------------------


def test_at_most_100_segment_items_per_call(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]
    unknown = [str(900_000 + i) for i in range(99)]

    body = px.browser().debug(f"add={','.join([*unknown, str(sid)])}")  # item 100: handled
    assert item(body, segment_id=sid)["accepted"] is True
    assert membership(body, sid) is not None

    body = px.browser().debug(f"add={','.join([*unknown, '900999', str(sid)])}")  # item 101
    rejected = item(body, segment_id=sid)
    assert rejected["accepted"] is False and "100" in rejected["reason"]
    assert membership(body, sid) is None

    # items are counted across add, add_code, remove and remove_code
    body = px.browser().debug(f"add={','.join(unknown)},900999&remove={sid}")
    assert item(body, segment_id=sid, action="remove")["accepted"] is False


def test_re_add_resets_the_window_and_counts(px: Pixel) -> None:
    m = px.member()
    sid = px.segment(m["id"], "Hour", expire_minutes=60)["id"]
    px.sync()
    browser = px.browser()
    first = membership(browser.debug(f"add={sid}", member=m), sid)
    t0 = epoch(first["first_added"])
    assert epoch(first["expires_at"]) == t0 + 3600
    assert first["count"] == 1

    px.clock.advance(30 * 60)
    second = membership(browser.debug(f"add={sid}", member=m), sid)
    t1 = epoch(second["last_added"])
    assert t1 >= t0 + 1800
    assert epoch(second["expires_at"]) == t1 + 3600  # now + expire_minutes
    assert epoch(second["first_added"]) == t0
    assert second["count"] == 2

    # A shorter window later (not retroactive) never shortens the expiry already set.
    px.update_segment(sid, expire_minutes=5)
    px.sync()
    px.clock.advance(60)
    third = membership(browser.debug(f"add={sid}", member=m), sid)
    assert epoch(third["expires_at"]) == epoch(second["expires_at"])
    assert third["count"] == 3

    # Past the expiry the membership is gone; the next add starts afresh (no old value either).
    assert membership(browser.debug(f"add={sid}:9", member=m), sid)["value"] == 9
    px.clock.advance(3600)
    assert membership(browser.debug("", member=m), sid) is None
    fresh = membership(browser.debug(f"add={sid}", member=m), sid)
    assert fresh["count"] == 1
    assert fresh["value"] is None
    assert epoch(fresh["first_added"]) > t0 + 3600
    assert epoch(fresh["expires_at"]) == epoch(fresh["last_added"]) + 5 * 60


def test_expire_minutes_null_means_180_days(px: Pixel, acme) -> None:
    sid = acme["segment"]["id"]  # created without expire_minutes
    x = membership(px.browser().debug(f"add={sid}"), sid)
    assert epoch(x["expires_at"]) - epoch(x["last_added"]) == 259_200 * 60


def test_expire_minutes_0_is_accepted_but_never_stored(px: Pixel) -> None:
    m = px.member()
    now_only = px.segment(m["id"], "Now only", expire_minutes=0)["id"]
    kept = px.segment(m["id"], "Kept")["id"]
    px.sync()
    browser = px.browser()
    body = browser.debug(f"add={now_only}:5,{kept}")
    assert item(body, segment_id=now_only)["accepted"] is True
    assert membership(body, now_only) is None
    assert membership(body, kept) is not None
    assert not body["warnings"]
    seen = px.cookie_view(browser, m).json()
    assert [s["id"] for s in seen["segments"]] == [kept]
    assert_gif(browser.seg(f"add={now_only}"))
    assert membership(browser.debug(""), now_only) is None


def test_a_200_means_the_add_is_stored(px: Pixel, acme) -> None:
    """SPEC §3.3: durable before the response. Read the store itself right after each answer."""
    sid = acme["segment"]["id"]
    browser = px.browser()
    for value in (1, 2, 3):
        assert_gif(browser.seg(f"add={sid}:{value}"))
        profile = px.read_store(browser.uid)
        (stored,) = [x for x in profile.memberships if x.segment_id == sid]
        assert stored.value == value and stored.count == value


def warning_of_debug(body) -> str:
    """The debug body's warnings joined, and the same words as the warning header."""
    text = "; ".join(body["warnings"])
    assert body["_headers"].get("x-segpixel-warning", "") == text[:1024]
    return text


def test_catalog_edits_reach_the_pixel_code_change_and_delete(px: Pixel) -> None:
    m = px.member()
    sid = px.segment(m["id"], "Renamed", code="old-code")["id"]
    px.sync()
    browser = px.browser()
    assert item(browser.debug(f"add_code=old-code&member={m['id']}", member=m), code="old-code")[
        "accepted"
    ]

    px.update_segment(sid, code="new-code")
    px.sync()
    body = browser.debug(f"add_code=old-code,new-code&member={m['id']}", member=m)
    assert item(body, code="old-code")["accepted"] is False
    assert item(body, code="new-code")["accepted"] is True
    assert membership(body, sid)["count"] == 2

    px.api.ok("DELETE", f"/segment?id={sid}")
    px.sync()
    body = browser.debug(f"add={sid}", member=m)
    assert item(body, segment_id=sid)["accepted"] is False
    assert px.cookie_view(browser, m).json()["segments"] == []


def test_concurrent_adds_of_one_user_are_all_counted(px: Pixel, acme) -> None:
    """Group commit puts several writes of one user in one batch: none may be lost or merged."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    sid = acme["segment"]["id"]
    other = px.segment(acme["member"]["id"], "Other")["id"]
    px.sync()
    browser = px.browser()
    browser.seg(f"add={sid}")
    cookie = {"Cookie": f"uuid2={browser.uid}"}

    def fire(i: int) -> int:
        with httpx.Client(base_url=px.base_url, timeout=15) as client:
            query = f"add={sid}:{i + 1}" if i % 2 else f"add={sid},{other}&remove={other}"
            return client.get(f"/seg?{query}", headers=cookie).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(fire, range(40)))
    assert statuses == [200] * 40
    body = browser.debug("", member=acme["member"])
    assert membership(body, sid)["count"] == 41
    assert membership(body, other) is None
    assert membership(body, sid)["value"] in range(2, 41, 2)
