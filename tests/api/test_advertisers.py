"""`/advertiser` (SPEC §1.1, §2): every verb, code rules, deletion rules, roles."""

from __future__ import annotations

from datetime import datetime

from tests.helpers import error_of


def envelope(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    body = response.json()["response"]
    assert body["status"] == "OK", body
    return body


def test_create_with_member_in_query_or_body(api):
    admin = api.login()
    member = admin.make_member()
    body = envelope(
        admin.post(
            f"/advertiser?member_id={member['id']}",
            {"advertiser": {"name": "Cars", "code": "Cars-1"}},
        )
    )
    advertiser = body["advertiser"]
    assert body["id"] == advertiser["id"]
    assert "advertisers" not in body
    assert advertiser["member_id"] == member["id"]
    assert advertiser["name"] == "Cars"
    assert advertiser["code"] == "Cars-1"
    assert advertiser["state"] == "active"
    datetime.strptime(advertiser["last_modified"], "%Y-%m-%d %H:%M:%S")

    in_body = admin.ok(
        "POST", "/advertiser", {"advertiser": {"name": "Boats", "member_id": member["id"]}}
    )["advertiser"]
    assert in_body["member_id"] == member["id"]
    assert in_body["code"] is None
    both = admin.ok(
        "POST",
        f"/advertiser?member_id={member['id']}",
        {"advertiser": {"name": "Same", "member_id": member["id"], "state": "inactive"}},
    )["advertiser"]
    assert both["state"] == "inactive"

    other = admin.make_member("Other")
    response = admin.post(
        f"/advertiser?member_id={member['id']}",
        {"advertiser": {"name": "Clash", "member_id": other["id"]}},
    )
    assert "member_id" in error_of(response, 400, "SYNTAX")
    response = admin.post("/advertiser", {"advertiser": {"name": "Nowhere"}})
    assert "member_id" in error_of(response, 400, "SYNTAX")


def test_create_for_a_member_that_does_not_exist_is_notfound(api):
    admin = api.login()
    response = admin.post("/advertiser?member_id=999", {"advertiser": {"name": "Ghost"}})
    assert response.status_code != 500, "an unknown member_id must not be a server error"
    assert "999" in error_of(response, 404, "NOTFOUND")


def test_read_forms(api):
    admin = api.login()
    m1 = admin.make_member("One")
    m2 = admin.make_member("Two")
    a = admin.make_advertiser(m1["id"], "Alpha Cars", code="alpha")
    b = admin.make_advertiser(m1["id"], "Beta Boats", code="Beta")
    c = admin.make_advertiser(m2["id"], "Gamma Cars", code="alpha")

    listed = envelope(admin.get("/advertiser"))
    assert listed["count"] == 3
    assert [x["id"] for x in listed["advertisers"]] == [a["id"], b["id"], c["id"]]
    assert "advertiser" not in listed

    assert envelope(admin.get(f"/advertiser?id={b['id']}"))["advertiser"] == b
    some = envelope(admin.get(f"/advertiser?id={a['id']},{c['id']}"))
    assert [x["id"] for x in some["advertisers"]] == [a["id"], c["id"]]

    by_member = envelope(admin.get(f"/advertiser?member_id={m1['id']}"))
    assert [x["id"] for x in by_member["advertisers"]] == [a["id"], b["id"]]

    by_code = envelope(admin.get(f"/advertiser?code=Beta&member_id={m1['id']}"))
    assert by_code["advertiser"] == b
    error_of(admin.get(f"/advertiser?code=Beta&member_id={m2['id']}"), 404, "NOTFOUND")
    # without a member, an admin gets every advertiser with that code
    by_code_all = envelope(admin.get("/advertiser?code=alpha"))
    assert [x["id"] for x in by_code_all["advertisers"]] == [a["id"], c["id"]]

    found = envelope(admin.get("/advertiser?search=cars"))
    assert [x["id"] for x in found["advertisers"]] == [a["id"], c["id"]]

    page = envelope(admin.get("/advertiser?sort=name.desc&num_elements=2"))
    assert page["count"] == 3 and page["num_elements"] == 2
    assert [x["name"] for x in page["advertisers"]] == ["Gamma Cars", "Beta Boats"]

    error_of(admin.get("/advertiser?id=999"), 404, "NOTFOUND")
    assert "code" in error_of(admin.get("/advertiser?code=" + "c" * 51), 400, "SYNTAX")


def test_code_charset_and_field_validation(api):
    admin = api.login()
    member = admin.make_member()
    path = f"/advertiser?member_id={member['id']}"
    cases = [
        ({"name": "x", "code": "has space"}, "code"),
        ({"name": "x", "code": "dot.ted"}, "code"),
        ({"name": "x", "code": "ümlaut"}, "code"),
        ({"name": "x", "code": "a/b"}, "code"),
        ({"name": "x", "code": ""}, "code"),
        ({"name": "x", "code": "c" * 51}, "code"),
        ({"name": "x", "code": 12}, "code"),
        ({"code": "ok"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 256}, "name"),
        ({"name": "x", "state": "paused"}, "state"),
        ({"name": "x", "segments": []}, "segments"),
    ]
    for fields, field in cases:
        sentence = error_of(admin.post(path, {"advertiser": fields}), 400, "SYNTAX")
        assert field in sentence, (fields, sentence)
    assert envelope(admin.get("/advertiser"))["count"] == 0
    ok = admin.make_advertiser(member["id"], "n" * 255, code="A-z_09" + "x" * 44)
    assert len(ok["code"]) == 50


def test_codes_are_unique_per_member_ignoring_case(api):
    admin = api.login()
    m1 = admin.make_member("One")
    m2 = admin.make_member("Two")
    first = admin.make_advertiser(m1["id"], "First", code="Auto")
    for code in ("Auto", "auto", "AUTO"):
        response = admin.post(
            f"/advertiser?member_id={m1['id']}", {"advertiser": {"name": "Dup", "code": code}}
        )
        sentence = error_of(response, 409, "INTEGRITY")
        assert "code" in sentence and "Auto" in sentence, sentence
    # another member may use it
    assert admin.make_advertiser(m2["id"], "Elsewhere", code="auto")["code"] == "auto"
    # changing another advertiser to a colliding code is refused too
    second = admin.make_advertiser(m1["id"], "Second", code="Moto")
    response = admin.put(f"/advertiser?id={second['id']}", {"advertiser": {"code": "aUTO"}})
    assert "code" in error_of(response, 409, "INTEGRITY")
    # an advertiser may change the case of its own code
    got = admin.ok("PUT", f"/advertiser?id={first['id']}", {"advertiser": {"code": "AUTO"}})
    assert got["advertiser"]["code"] == "AUTO"
    # and may drop its code, which frees it
    admin.ok("PUT", f"/advertiser?id={first['id']}", {"advertiser": {"code": None}})
    assert admin.make_advertiser(m1["id"], "Third", code="auto")["code"] == "auto"


def test_update_forms(api):
    admin = api.login()
    member = admin.make_member()
    other = admin.make_member("Other")
    adv = admin.make_advertiser(member["id"], "Cars", code="cars")

    body = envelope(admin.put(f"/advertiser?id={adv['id']}", {"advertiser": {"name": "Autos"}}))
    assert body["id"] == adv["id"]
    got = body["advertiser"]
    assert got["name"] == "Autos" and got["code"] == "cars" and got["state"] == "active"

    got = admin.ok(
        "PUT",
        f"/advertiser?code=cars&member_id={member['id']}",
        {"advertiser": {"state": "inactive"}},
    )["advertiser"]
    assert got["id"] == adv["id"] and got["state"] == "inactive" and got["name"] == "Autos"
    assert admin.ok("GET", f"/advertiser?id={adv['id']}")["advertiser"] == got

    response = admin.put(f"/advertiser?id={adv['id']}", {"advertiser": {"member_id": other["id"]}})
    assert "member_id" in error_of(response, 400, "SYNTAX")
    # sending its own member_id is harmless
    admin.ok("PUT", f"/advertiser?id={adv['id']}", {"advertiser": {"member_id": member["id"]}})

    assert "name" in error_of(
        admin.put(f"/advertiser?id={adv['id']}", {"advertiser": {"name": ""}}), 400, "SYNTAX"
    )
    assert "id" in error_of(admin.put("/advertiser", {"advertiser": {"name": "x"}}), 400, "SYNTAX")
    error_of(admin.put("/advertiser?id=999", {"advertiser": {"name": "x"}}), 404, "NOTFOUND")
    error_of(
        admin.put(f"/advertiser?code=nope&member_id={member['id']}", {"advertiser": {"name": "x"}}),
        404,
        "NOTFOUND",
    )


def test_delete_forms(api):
    admin = api.login()
    member = admin.make_member()
    a = admin.make_advertiser(member["id"], "A", code="aaa")
    b = admin.make_advertiser(member["id"], "B", code="bbb")
    body = admin.ok("DELETE", f"/advertiser?id={a['id']}")
    assert body["id"] == a["id"]
    error_of(admin.get(f"/advertiser?id={a['id']}"), 404, "NOTFOUND")
    body = admin.ok("DELETE", f"/advertiser?code=bbb&member_id={member['id']}")
    assert body["id"] == b["id"]
    assert envelope(admin.get("/advertiser"))["count"] == 0
    error_of(admin.delete(f"/advertiser?id={a['id']}"), 404, "NOTFOUND")
    assert "id" in error_of(admin.delete("/advertiser"), 400, "SYNTAX")


def test_advertiser_with_segments_or_users_cannot_be_deleted(api):
    admin = api.login()
    member = admin.make_member()
    adv = admin.make_advertiser(member["id"])
    segment = admin.make_segment(f"advertiser_id={adv['id']}")
    sentence = error_of(admin.delete(f"/advertiser?id={adv['id']}"), 409, "INTEGRITY")
    assert "segment" in sentence
    admin.ok("GET", f"/advertiser?id={adv['id']}")
    admin.ok("DELETE", f"/segment?id={segment['id']}")

    admin.ok(
        "POST",
        "/user",
        {
            "user": {
                "username": "advuser",
                "password": "password-123",
                "role": "advertiser",
                "member_id": member["id"],
                "advertiser_id": adv["id"],
            }
        },
    )
    sentence = error_of(admin.delete(f"/advertiser?id={adv['id']}"), 409, "INTEGRITY")
    assert "user" in sentence
    user_id = admin.ok("GET", f"/user?member_id={member['id']}")["users"][0]["id"]
    admin.ok("DELETE", f"/user?id={user_id}")
    admin.ok("DELETE", f"/advertiser?id={adv['id']}")


def test_member_user_manages_its_own_members_advertisers_only(api):
    admin = api.login()
    mine = admin.make_member("Mine")
    other = admin.make_member("Other")
    theirs = admin.make_advertiser(other["id"], "Theirs", code="theirs")
    boss = admin.make_user("boss", "member", member_id=mine["id"])

    created = boss.ok("POST", "/advertiser", {"advertiser": {"name": "Ours", "code": "ours"}})
    ours = created["advertiser"]
    assert ours["member_id"] == mine["id"], "the member comes from the caller"
    listed = envelope(boss.get("/advertiser"))
    assert [x["id"] for x in listed["advertisers"]] == [ours["id"]]
    assert boss.ok("GET", "/advertiser?code=ours")["advertiser"] == ours

    error_of(boss.get(f"/advertiser?id={theirs['id']}"), 404, "NOTFOUND")
    error_of(boss.get("/advertiser?code=theirs"), 404, "NOTFOUND")
    assert envelope(boss.get(f"/advertiser?member_id={other['id']}"))["count"] == 0
    error_of(
        boss.post(f"/advertiser?member_id={other['id']}", {"advertiser": {"name": "Sneaky"}}),
        403,
        "UNAUTH",
    )
    error_of(
        boss.put(f"/advertiser?id={theirs['id']}", {"advertiser": {"name": "Hijack"}}),
        404,
        "NOTFOUND",
    )
    error_of(boss.delete(f"/advertiser?id={theirs['id']}"), 404, "NOTFOUND")
    assert admin.ok("GET", f"/advertiser?id={theirs['id']}")["advertiser"] == theirs

    got = boss.ok("PUT", f"/advertiser?id={ours['id']}", {"advertiser": {"name": "Ours 2"}})
    assert got["advertiser"]["name"] == "Ours 2"
    boss.ok("DELETE", f"/advertiser?id={ours['id']}")


def test_advertiser_user_sees_only_its_own_advertiser(api):
    admin = api.login()
    member = admin.make_member()
    own = admin.make_advertiser(member["id"], "Own", code="own")
    sibling = admin.make_advertiser(member["id"], "Sibling", code="sib")
    adv = admin.make_user("adv", "advertiser", member_id=member["id"], advertiser_id=own["id"])

    listed = envelope(adv.get("/advertiser"))
    assert listed["count"] == 1
    assert listed["advertisers"] == [own]
    assert adv.ok("GET", f"/advertiser?id={own['id']}")["advertiser"] == own
    error_of(adv.get(f"/advertiser?id={sibling['id']}"), 404, "NOTFOUND")
    error_of(adv.get("/advertiser?code=sib"), 404, "NOTFOUND")
    assert envelope(adv.get(f"/advertiser?member_id={member['id']}"))["count"] == 1
    both = envelope(adv.get(f"/advertiser?id={own['id']},{sibling['id']}"))
    assert [x["id"] for x in both["advertisers"]] == [own["id"]]

    error_of(adv.post("/advertiser", {"advertiser": {"name": "New"}}), 403, "UNAUTH")
    error_of(
        adv.put(f"/advertiser?id={sibling['id']}", {"advertiser": {"name": "x"}}), 404, "NOTFOUND"
    )
    error_of(adv.delete(f"/advertiser?id={sibling['id']}"), 404, "NOTFOUND")
    error_of(adv.delete(f"/advertiser?id={own['id']}"), 403, "UNAUTH")
