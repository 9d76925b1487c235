"""`/user` (SPEC §1.1, §2): API and console users, role rules, passwords never shown."""

from __future__ import annotations

from datetime import datetime

from tests.helpers import error_of

PASSWORD = "password-123"


def envelope(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    body = response.json()["response"]
    assert body["status"] == "OK", body
    return body


def user_body(username: str, role: str, **fields) -> dict:
    return {"user": {"username": username, "password": PASSWORD, "role": role, **fields}}


def test_admin_creates_reads_updates_and_deletes_users(api):
    admin = api.login()
    member = admin.make_member()
    advertiser = admin.make_advertiser(member["id"])
    body = envelope(
        admin.post(
            "/user",
            user_body("ann", "advertiser", member_id=member["id"], advertiser_id=advertiser["id"]),
        )
    )
    ann = body["user"]
    assert body["id"] == ann["id"]
    assert "users" not in body
    assert ann["username"] == "ann"
    assert ann["role"] == "advertiser"
    assert ann["member_id"] == member["id"]
    assert ann["advertiser_id"] == advertiser["id"]
    assert "password" not in ann
    datetime.strptime(ann["last_modified"], "%Y-%m-%d %H:%M:%S")

    assert envelope(admin.get(f"/user?id={ann['id']}"))["user"] == ann
    listed = envelope(admin.get("/user"))
    assert listed["count"] == 2
    assert [u["username"] for u in listed["users"]] == ["admin", "ann"]
    assert "user" not in listed
    by_member = envelope(admin.get(f"/user?member_id={member['id']}"))
    assert [u["id"] for u in by_member["users"]] == [ann["id"]]
    admin_id = listed["users"][0]["id"]
    both = envelope(admin.get(f"/user?id={admin_id},{ann['id']}"))
    assert both["count"] == 2
    by_name = envelope(admin.get("/user?sort=username.desc"))
    assert [u["username"] for u in by_name["users"]] == ["ann", "admin"]

    # change the role to member: advertiser_id must go at the same time
    changed = envelope(
        admin.put(f"/user?id={ann['id']}", {"user": {"role": "member", "advertiser_id": None}})
    )
    assert changed["id"] == ann["id"]
    got = changed["user"]
    assert got["role"] == "member" and got["advertiser_id"] is None
    assert got["username"] == "ann" and got["member_id"] == member["id"]
    got = admin.ok("PUT", f"/user?id={ann['id']}", {"user": {"username": "ann.b@x-y_z"}})["user"]
    assert got["username"] == "ann.b@x-y_z" and got["role"] == "member"

    body = admin.ok("DELETE", f"/user?id={ann['id']}")
    assert body["id"] == ann["id"]
    error_of(admin.get(f"/user?id={ann['id']}"), 404, "NOTFOUND")
    error_of(admin.delete(f"/user?id={ann['id']}"), 404, "NOTFOUND")
    error_of(admin.put(f"/user?id={ann['id']}", {"user": {"username": "zed"}}), 404, "NOTFOUND")
    assert "id" in error_of(admin.put("/user", {"user": {"username": "zed"}}), 400, "SYNTAX")
    assert "id" in error_of(admin.delete("/user"), 400, "SYNTAX")


def test_admin_creates_another_admin(api):
    admin = api.login()
    root = admin.make_user("root2", "admin")
    assert root.ok("GET", "/auth")["user"]["role"] == "admin"
    assert envelope(root.get("/user"))["count"] == 2
    # and one admin may delete another, though not itself
    root_id = root.ok("GET", "/auth")["user"]["id"]
    admin.ok("DELETE", f"/user?id={root_id}")
    error_of(root.get("/auth"), 401, "NOAUTH")  # a deleted user's tokens stop working


def test_user_validation_names_the_field(api):
    admin = api.login()
    member = admin.make_member()
    other = admin.make_member("Other")
    advertiser = admin.make_advertiser(member["id"])
    foreign_adv = admin.make_advertiser(other["id"], "Foreign")
    m, a = member["id"], advertiser["id"]
    cases = [
        (
            {"username": "bad name", "password": PASSWORD, "role": "member", "member_id": m},
            "username",
        ),
        ({"username": "", "password": PASSWORD, "role": "member", "member_id": m}, "username"),
        (
            {"username": "u" * 101, "password": PASSWORD, "role": "member", "member_id": m},
            "username",
        ),
        ({"username": "ok", "password": "short", "role": "member", "member_id": m}, "password"),
        ({"username": "ok", "password": "p" * 257, "role": "member", "member_id": m}, "password"),
        ({"username": "ok", "role": "member", "member_id": m}, "password"),
        ({"username": "ok", "password": PASSWORD, "role": "root"}, "role"),
        ({"username": "ok", "password": PASSWORD}, "role"),
        ({"username": "ok", "password": PASSWORD, "role": "admin", "member_id": m}, "role"),
        ({"username": "ok", "password": PASSWORD, "role": "member"}, "member_id"),
        (
            {"username": "ok", "password": PASSWORD, "role": "advertiser", "member_id": m},
            "advertiser_id",
        ),
        (
            {
                "username": "ok",
                "password": PASSWORD,
                "role": "member",
                "member_id": m,
                "advertiser_id": a,
            },
            "advertiser_id",
        ),
        (
            {
                "username": "ok",
                "password": PASSWORD,
                "role": "advertiser",
                "member_id": m,
                "advertiser_id": foreign_adv["id"],
            },
            "advertiser_id",
        ),
        ({"username": "ok", "password": PASSWORD, "role": "member", "member_id": 0}, "member_id"),
        ({"username": "ok", "password": 12345678, "role": "member", "member_id": m}, "password"),
        (
            {
                "username": "ok",
                "password": PASSWORD,
                "role": "member",
                "member_id": m,
                "emial": "x@y",  # a typo; `email` is a reference field: accepted, not stored
            },
            "emial",
        ),
    ]
    for fields, field in cases:
        sentence = error_of(admin.post("/user", {"user": fields}), 400, "SYNTAX")
        assert field in sentence, (fields, sentence)
    response = admin.post("/user", user_body("ok", "member", member_id=999))
    assert "999" in error_of(response, 404, "NOTFOUND")
    assert envelope(admin.get("/user"))["count"] == 1, "no refused user was stored"


def test_usernames_are_unique(api):
    admin = api.login()
    member = admin.make_member()
    admin.ok("POST", "/user", user_body("dup", "member", member_id=member["id"]))
    response = admin.post("/user", user_body("dup", "member", member_id=member["id"]))
    assert "username" in error_of(response, 409, "INTEGRITY")
    error_of(admin.post("/user", user_body("admin", "admin")), 409, "INTEGRITY")
    other_id = admin.ok("POST", "/user", user_body("other", "member", member_id=member["id"]))[
        "user"
    ]["id"]
    response = admin.put(f"/user?id={other_id}", {"user": {"username": "dup"}})
    assert "username" in error_of(response, 409, "INTEGRITY")


def test_member_user_manages_users_of_its_own_member_only(api):
    admin = api.login()
    mine = admin.make_member("Mine")
    other = admin.make_member("Other")
    my_adv = admin.make_advertiser(mine["id"], "My adv")
    their_adv = admin.make_advertiser(other["id"], "Their adv")
    stranger = admin.ok("POST", "/user", user_body("stranger", "member", member_id=other["id"]))[
        "user"
    ]
    boss = admin.make_user("boss", "member", member_id=mine["id"])
    boss_id = boss.ok("GET", "/auth")["user"]["id"]

    # its own member is implied
    deputy = boss.ok("POST", "/user", user_body("deputy", "member"))["user"]
    assert deputy["member_id"] == mine["id"] and deputy["role"] == "member"
    buyer = boss.ok("POST", "/user", user_body("buyer", "advertiser", advertiser_id=my_adv["id"]))[
        "user"
    ]
    assert buyer["member_id"] == mine["id"] and buyer["advertiser_id"] == my_adv["id"]

    # never an admin, never a user of another member
    error_of(boss.post("/user", user_body("evil", "admin")), 403, "UNAUTH")
    error_of(boss.post("/user", user_body("evil", "member", member_id=other["id"])), 403, "UNAUTH")
    response = boss.post(
        "/user",
        user_body("evil", "advertiser", member_id=other["id"], advertiser_id=their_adv["id"]),
    )
    error_of(response, 403, "UNAUTH")
    response = boss.post("/user", user_body("evil", "advertiser", advertiser_id=their_adv["id"]))
    assert response.status_code in (400, 403, 404), response.text
    assert response.json()["response"]["status"] == "error"

    listed = envelope(boss.get("/user"))
    assert {u["username"] for u in listed["users"]} == {"boss", "deputy", "buyer"}
    error_of(boss.get(f"/user?id={stranger['id']}"), 404, "NOTFOUND")
    assert envelope(boss.get(f"/user?member_id={other['id']}"))["count"] == 0

    # changes: not into an admin, not into another member, not of another member's users
    error_of(
        boss.put(f"/user?id={deputy['id']}", {"user": {"role": "admin", "member_id": None}}),
        403,
        "UNAUTH",
    )
    error_of(
        boss.put(f"/user?id={deputy['id']}", {"user": {"member_id": other["id"]}}), 403, "UNAUTH"
    )
    error_of(boss.put(f"/user?id={stranger['id']}", {"user": {"username": "x"}}), 404, "NOTFOUND")
    error_of(boss.delete(f"/user?id={stranger['id']}"), 404, "NOTFOUND")
    got = boss.ok("PUT", f"/user?id={deputy['id']}", {"user": {"username": "deputy2"}})["user"]
    assert got["username"] == "deputy2"

    # it can delete others of its member, but not itself
    boss.ok("DELETE", f"/user?id={deputy['id']}")
    sentence = error_of(boss.delete(f"/user?id={boss_id}"), 409, "INTEGRITY")
    assert "yourself" in sentence or "logged in" in sentence, sentence
    assert boss.get("/auth").status_code == 200
    assert admin.ok("GET", f"/user?id={stranger['id']}")["user"] == stranger


def test_advertiser_user_sees_only_itself_and_creates_nobody(api):
    admin = api.login()
    member = admin.make_member()
    advertiser = admin.make_advertiser(member["id"])
    admin.ok("POST", "/user", user_body("colleague", "member", member_id=member["id"]))
    adv = admin.make_user(
        "adv", "advertiser", member_id=member["id"], advertiser_id=advertiser["id"]
    )
    me = adv.ok("GET", "/auth")["user"]
    listed = envelope(adv.get("/user"))
    assert [u["username"] for u in listed["users"]] == ["adv"]
    assert adv.ok("GET", f"/user?id={me['id']}")["user"]["username"] == "adv"
    response = adv.post(
        "/user",
        user_body("adv2", "advertiser", member_id=member["id"], advertiser_id=advertiser["id"]),
    )
    error_of(response, 403, "UNAUTH")
    error_of(
        adv.put(f"/user?id={me['id']}", {"user": {"role": "member", "advertiser_id": None}}),
        403,
        "UNAUTH",
    )
    response = adv.delete(f"/user?id={me['id']}")
    assert response.status_code in (403, 409), response.text
    assert adv.get("/auth").status_code == 200


def test_admin_cannot_delete_itself(api):
    admin = api.login()
    me = admin.ok("GET", "/auth")["user"]
    error_of(admin.delete(f"/user?id={me['id']}"), 409, "INTEGRITY")
    assert admin.ok("GET", f"/user?id={me['id']}")["user"]["username"] == "admin"
    assert admin.get("/auth").status_code == 200


def test_null_username_or_role_in_a_put_is_syntax(api):
    # Found by the API fuzzer (tests/fuzz): PUT /user with "username": null answered 500.
    admin = api.login()
    for field in ("username", "role"):
        sentence = error_of(admin.put("/user?id=1", {"user": {field: None}}), 400, "SYNTAX")
        assert field in sentence
