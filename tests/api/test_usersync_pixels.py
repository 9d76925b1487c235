"""`/usersync-pixel` (SPEC §1.4, §2): ID-sync partners, managed by admins only."""

from __future__ import annotations

from datetime import datetime

from tests.helpers import error_of

KEY = "usersync-pixel"
URL = "https://sync.example.com/match?uid=${UID}&gdpr=${GDPR}&c=${GDPR_CONSENT}"


def envelope(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    body = response.json()["response"]
    assert body["status"] == "OK", body
    return body


def make_pixel(admin, member_id: int, name: str = "Partner", **fields) -> dict:
    body = {KEY: {"name": name, "url": URL, **fields}}
    return admin.ok("POST", f"/usersync-pixel?member_id={member_id}", body)[KEY]


def test_admin_creates_reads_updates_and_deletes(api):
    admin = api.login()
    member = admin.make_member()
    body = envelope(
        admin.post(f"/usersync-pixel?member_id={member['id']}", {KEY: {"name": "P", "url": URL}})
    )
    pixel = body[KEY]
    assert body["id"] == pixel["id"]
    assert "usersync-pixels" not in body and "usersync_pixel" not in body
    assert pixel["member_id"] == member["id"]
    assert pixel["name"] == "P"
    assert pixel["url"] == URL, "macros are stored as written"
    assert pixel["pixel_type"] == "img"
    assert pixel["state"] == "active"
    assert 1 <= pixel["priority"] <= 20
    datetime.strptime(pixel["last_modified"], "%Y-%m-%d %H:%M:%S")

    assert envelope(admin.get(f"/usersync-pixel?id={pixel['id']}"))[KEY] == pixel

    changed = envelope(
        admin.put(f"/usersync-pixel?id={pixel['id']}", {KEY: {"priority": 20, "pixel_type": "js"}})
    )
    assert changed["id"] == pixel["id"]
    got = changed[KEY]
    assert got["priority"] == 20 and got["pixel_type"] == "js"
    assert got["name"] == "P" and got["url"] == URL and got["state"] == "active"
    got = admin.ok("PUT", f"/usersync-pixel?id={pixel['id']}", {KEY: {"state": "inactive"}})[KEY]
    assert got["state"] == "inactive" and got["priority"] == 20

    body = admin.ok("DELETE", f"/usersync-pixel?id={pixel['id']}")
    assert body["id"] == pixel["id"]
    error_of(admin.get(f"/usersync-pixel?id={pixel['id']}"), 404, "NOTFOUND")
    error_of(admin.delete(f"/usersync-pixel?id={pixel['id']}"), 404, "NOTFOUND")
    error_of(admin.put(f"/usersync-pixel?id={pixel['id']}", {KEY: {"name": "x"}}), 404, "NOTFOUND")


def test_member_comes_from_query_or_body(api):
    admin = api.login()
    member = admin.make_member()
    other = admin.make_member("Other")
    in_body = admin.ok(
        "POST", "/usersync-pixel", {KEY: {"name": "B", "url": URL, "member_id": member["id"]}}
    )[KEY]
    assert in_body["member_id"] == member["id"]
    response = admin.post(
        f"/usersync-pixel?member_id={member['id']}",
        {KEY: {"name": "C", "url": URL, "member_id": other["id"]}},
    )
    assert "member_id" in error_of(response, 400, "SYNTAX")
    response = admin.post("/usersync-pixel", {KEY: {"name": "D", "url": URL}})
    assert "member_id" in error_of(response, 400, "SYNTAX")
    response = admin.put(f"/usersync-pixel?id={in_body['id']}", {KEY: {"member_id": other["id"]}})
    assert "member_id" in error_of(response, 400, "SYNTAX")
    response = admin.post("/usersync-pixel?member_id=999", {KEY: {"name": "E", "url": URL}})
    assert response.status_code != 500, "an unknown member_id must not be a server error"
    assert "999" in error_of(response, 404, "NOTFOUND")


def test_list_forms(api):
    admin = api.login()
    m1 = admin.make_member("One")
    m2 = admin.make_member("Two")
    a = make_pixel(admin, m1["id"], "A", priority=3)
    b = make_pixel(admin, m1["id"], "B", priority=1)
    c = make_pixel(admin, m2["id"], "C", priority=2)
    listed = envelope(admin.get("/usersync-pixel"))
    assert listed["count"] == 3
    assert [p["id"] for p in listed["usersync-pixels"]] == [a["id"], b["id"], c["id"]]
    assert KEY not in listed
    by_member = envelope(admin.get(f"/usersync-pixel?member_id={m1['id']}"))
    assert [p["id"] for p in by_member["usersync-pixels"]] == [a["id"], b["id"]]
    some = envelope(admin.get(f"/usersync-pixel?id={a['id']},{c['id']}"))
    assert [p["id"] for p in some["usersync-pixels"]] == [a["id"], c["id"]]
    by_priority = envelope(admin.get("/usersync-pixel?sort=priority.asc"))
    assert [p["name"] for p in by_priority["usersync-pixels"]] == ["B", "C", "A"]
    paged = envelope(admin.get("/usersync-pixel?start_element=2&num_elements=5"))
    assert paged["count"] == 3 and [p["id"] for p in paged["usersync-pixels"]] == [c["id"]]


def test_url_must_be_absolute_http_or_https(api):
    admin = api.login()
    member = admin.make_member()
    path = f"/usersync-pixel?member_id={member['id']}"
    for url in (
        "/relative/sync",
        "sync.example.com/x",
        "//sync.example.com/x",
        "ftp://sync.example.com/x",
        "javascript:alert(1)",
        "data:image/gif;base64,R0lGOD",
        "http://",
        "https:///path-only",
        "https://sync.example.com/a b",
        "https://sync.example.com/\nx",
        "",
    ):
        sentence = error_of(admin.post(path, {KEY: {"name": "P", "url": url}}), 400, "SYNTAX")
        assert "url" in sentence, (url, sentence)
    assert "url" in error_of(admin.post(path, {KEY: {"name": "P"}}), 400, "SYNTAX")
    for url in ("http://a.example/x?u=${UID}", "HTTPS://A.EXAMPLE/", "https://a.example:8443/"):
        assert make_pixel(admin, member["id"], url=url)["url"] == url
    pixel = make_pixel(admin, member["id"])
    response = admin.put(f"/usersync-pixel?id={pixel['id']}", {KEY: {"url": "ftp://x.example/"}})
    assert "url" in error_of(response, 400, "SYNTAX")
    assert admin.ok("GET", f"/usersync-pixel?id={pixel['id']}")[KEY]["url"] == URL


def test_priority_pixel_type_name_and_state_rules(api):
    admin = api.login()
    member = admin.make_member()
    path = f"/usersync-pixel?member_id={member['id']}"
    cases = [
        ({"priority": 0}, "priority"),
        ({"priority": 21}, "priority"),
        ({"priority": -1}, "priority"),
        ({"priority": 10**30}, "priority"),
        ({"priority": "5"}, "priority"),
        ({"priority": 2.5}, "priority"),
        ({"pixel_type": "gif"}, "pixel_type"),
        ({"pixel_type": "IMG"}, "pixel_type"),
        ({"state": "on"}, "state"),
        ({"name": ""}, "name"),
        ({"name": "n" * 256}, "name"),
        ({"macros": ["${UID}"]}, "macros"),
    ]
    for extra, field in cases:
        fields = {"name": "P", "url": URL, **extra}
        sentence = error_of(admin.post(path, {KEY: fields}), 400, "SYNTAX")
        assert field in sentence, (extra, sentence)
    assert envelope(admin.get("/usersync-pixel"))["count"] == 0
    assert make_pixel(admin, member["id"], priority=1)["priority"] == 1
    assert make_pixel(admin, member["id"], priority=20, pixel_type="js")["pixel_type"] == "js"
    pixel = make_pixel(admin, member["id"])
    for priority in (0, 21):
        response = admin.put(f"/usersync-pixel?id={pixel['id']}", {KEY: {"priority": priority}})
        assert "priority" in error_of(response, 400, "SYNTAX")


def test_body_key_is_the_service_name(api):
    admin = api.login()
    member = admin.make_member()
    path = f"/usersync-pixel?member_id={member['id']}"
    for key in ("usersync_pixel", "usersync-pixels", "usersyncpixel"):  # (the plural: a list)
        response = admin.post(path, {key: {"name": "P", "url": URL}})
        assert "usersync-pixel" in error_of(response, 400, "SYNTAX")


def test_only_admins_manage_usersync_pixels(api):
    admin = api.login()
    member = admin.make_member()
    other = admin.make_member("Other")
    advertiser = admin.make_advertiser(member["id"])
    pixel = make_pixel(admin, member["id"])
    foreign = make_pixel(admin, other["id"], "Foreign")
    boss = admin.make_user("boss", "member", member_id=member["id"])
    adv = admin.make_user(
        "adv", "advertiser", member_id=member["id"], advertiser_id=advertiser["id"]
    )

    for user in (boss, adv):
        error_of(user.post("/usersync-pixel", {KEY: {"name": "Mine", "url": URL}}), 403, "UNAUTH")
        error_of(
            user.post(
                f"/usersync-pixel?member_id={member['id']}", {KEY: {"name": "Mine", "url": URL}}
            ),
            403,
            "UNAUTH",
        )
    error_of(boss.put(f"/usersync-pixel?id={pixel['id']}", {KEY: {"priority": 1}}), 403, "UNAUTH")
    error_of(boss.delete(f"/usersync-pixel?id={pixel['id']}"), 403, "UNAUTH")

    # a member user may read its own member's partners, and only those
    listed = envelope(boss.get("/usersync-pixel"))
    assert [p["id"] for p in listed["usersync-pixels"]] == [pixel["id"]]
    assert boss.ok("GET", f"/usersync-pixel?id={pixel['id']}")[KEY] == pixel
    error_of(boss.get(f"/usersync-pixel?id={foreign['id']}"), 404, "NOTFOUND")
    error_of(boss.delete(f"/usersync-pixel?id={foreign['id']}"), 404, "NOTFOUND")
    assert envelope(boss.get(f"/usersync-pixel?member_id={other['id']}"))["count"] == 0

    # an advertiser user sees none
    assert envelope(adv.get("/usersync-pixel"))["count"] == 0
    error_of(adv.get(f"/usersync-pixel?id={pixel['id']}"), 404, "NOTFOUND")
    error_of(adv.put(f"/usersync-pixel?id={pixel['id']}", {KEY: {"priority": 1}}), 404, "NOTFOUND")

    assert admin.ok("GET", f"/usersync-pixel?id={pixel['id']}")[KEY] == pixel
    assert envelope(admin.get("/usersync-pixel"))["count"] == 2
