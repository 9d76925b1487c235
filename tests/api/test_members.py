"""`/member` (SPEC §1.1, §2, §3.4, §3.6): every verb, validation, and who may do what."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.helpers import error_of

DONGLE_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")


def envelope(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    body = response.json()["response"]
    assert body["status"] == "OK", body
    return body


def test_admin_creates_and_reads_a_member(api):
    admin = api.login()
    response = admin.post("/member", {"member": {"name": "Acme"}})
    body = envelope(response)
    member = body["member"]
    assert body["id"] == member["id"]
    assert "members" not in body
    assert member["name"] == "Acme"
    assert member["state"] == "active"
    assert member["redirect_domains"] == []
    assert DONGLE_RE.fullmatch(member["dongle"]), member["dongle"]
    datetime.strptime(member["last_modified"], "%Y-%m-%d %H:%M:%S")
    assert set(member) >= {"id", "name", "state", "redirect_domains", "dongle", "last_modified"}

    one = envelope(admin.get(f"/member?id={member['id']}"))
    assert one["member"] == member
    assert "members" not in one


def test_members_list_ids_search_paging_and_sort(api):
    admin = api.login()
    a = admin.make_member("Alpha")
    b = admin.make_member("Beta", state="inactive")
    c = admin.make_member("Gamma")
    dongles = {a["dongle"], b["dongle"], c["dongle"]}
    assert len(dongles) == 3, "every member gets its own dongle"

    listed = envelope(admin.get("/member"))
    assert listed["count"] == 3
    assert listed["start_element"] == 0
    assert [m["id"] for m in listed["members"]] == [a["id"], b["id"], c["id"]]
    assert "member" not in listed

    some = envelope(admin.get(f"/member?id={a['id']},{c['id']}"))
    assert {m["id"] for m in some["members"]} == {a["id"], c["id"]}
    assert some["count"] == 2

    found = envelope(admin.get("/member?search=amm"))
    assert [m["name"] for m in found["members"]] == ["Gamma"]

    page = envelope(admin.get("/member?start_element=1&num_elements=1"))
    assert page["count"] == 3
    assert page["start_element"] == 1 and page["num_elements"] == 1
    assert [m["id"] for m in page["members"]] == [b["id"]]

    desc = envelope(admin.get("/member?sort=name.desc"))
    assert [m["name"] for m in desc["members"]] == ["Gamma", "Beta", "Alpha"]

    assert "sort" in error_of(admin.get("/member?sort=dongle.asc"), 400, "SYNTAX")
    assert envelope(admin.get("/member?num_elements=101"))["num_elements"] == 100  # as the ref.
    assert "start_element" in error_of(admin.get("/member?start_element=-1"), 400, "SYNTAX")
    error_of(admin.get("/member?id=999"), 404, "NOTFOUND")
    # a list of ids answers the ones that exist
    partial = envelope(admin.get(f"/member?id={a['id']},999"))
    assert [m["id"] for m in partial["members"]] == [a["id"]]


def test_put_changes_only_the_fields_sent(api):
    admin = api.login()
    member = admin.make_member("Acme", redirect_domains=["ads.example.com"])
    changed = admin.ok("PUT", f"/member?id={member['id']}", {"member": {"name": "Acme 2"}})
    assert changed["id"] == member["id"]
    got = changed["member"]
    assert got["name"] == "Acme 2"
    assert got["redirect_domains"] == ["ads.example.com"]
    assert got["dongle"] == member["dongle"]
    assert got["state"] == "active"

    got = admin.ok("PUT", f"/member?id={member['id']}", {"member": {"state": "inactive"}})["member"]
    assert got["state"] == "inactive" and got["name"] == "Acme 2"
    got = admin.ok("PUT", f"/member?id={member['id']}", {"member": {"dongle": "New_dongle-123"}})
    assert got["member"]["dongle"] == "New_dongle-123"
    assert admin.ok("GET", f"/member?id={member['id']}")["member"] == got["member"]

    assert "id" in error_of(admin.put("/member", {"member": {"name": "x"}}), 400, "SYNTAX")
    error_of(admin.put("/member?id=999", {"member": {"name": "x"}}), 404, "NOTFOUND")


def test_redirect_domains_are_host_names_normalized_to_lower_case(api):
    admin = api.login()
    member = admin.make_member(
        redirect_domains=["Ads.Example.COM", "ads.example.com", "*.CDN.example.net", "shop.test"]
    )
    assert member["redirect_domains"] == ["ads.example.com", "*.cdn.example.net", "shop.test"]
    got = admin.ok("PUT", f"/member?id={member['id']}", {"member": {"redirect_domains": []}})
    assert got["member"]["redirect_domains"] == []

    for bad in (
        "http://ads.example.com",
        "ads example.com",
        "ads.example.com/path",
        "-a.com",
        "",
        "a..b",
        "a" * 64 + ".com",
        "ads.example.com:8080",
        "*",
    ):
        response = admin.put(
            f"/member?id={member['id']}", {"member": {"redirect_domains": ["ok.com", bad]}}
        )
        sentence = error_of(response, 400, "SYNTAX")
        assert "redirect_domains[1]" in sentence, (bad, sentence)
    # nothing was stored by the refused changes
    assert admin.ok("GET", f"/member?id={member['id']}")["member"]["redirect_domains"] == []
    response = admin.post("/member", {"member": {"name": "x", "redirect_domains": "a.com"}})
    assert "redirect_domains" in error_of(response, 400, "SYNTAX")


@pytest.mark.parametrize(
    "entry, suffix",
    [
        pytest.param("*.com", "com", id="wildcard-over-com"),
        pytest.param("com", "com", id="com"),
        pytest.param("co.uk", "co.uk", id="co-uk"),
        pytest.param("*.CO.UK", "co.uk", id="wildcard-over-co-uk"),
        pytest.param("*.github.io", "github.io", id="private-section-github-io"),
        pytest.param("github.io", "github.io", id="github-io"),
        pytest.param("*.blogspot.com", "blogspot.com", id="blogspot"),
    ],
)
def test_redirect_domains_refuse_public_suffixes(api, entry: str, suffix: str) -> None:
    """ISSUE 14 item 4: an entry that would open every site under a public suffix (the Public
    Suffix List, bundled) is refused, naming the entry and the suffix."""
    admin = api.login()
    member = admin.make_member()
    response = admin.put(
        f"/member?id={member['id']}", {"member": {"redirect_domains": ["ads.example.com", entry]}}
    )
    sentence = error_of(response, 400, "SYNTAX")
    assert "redirect_domains[1]" in sentence and f"public suffix {suffix!r}" in sentence
    assert admin.ok("GET", f"/member?id={member['id']}")["member"]["redirect_domains"] == []


def test_redirect_domains_of_ones_own_under_public_suffixes_are_accepted(api) -> None:
    admin = api.login()
    own = ["*.cdn.example.com", "ads.example.co.uk", "*.me.github.io", "shop.test"]
    assert admin.make_member(redirect_domains=own)["redirect_domains"] == own


def test_member_field_validation_names_the_field(api):
    admin = api.login()
    cases = [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "x", "state": "deleted"}, "state"),
        ({"name": "x", "dongle": "short"}, "dongle"),
        ({"name": "x", "dongle": "has spaces in it"}, "dongle"),
        ({"name": "x", "dongle": "d" * 65}, "dongle"),
        ({"name": "x", "dongle": "dongle.with.dots"}, "dongle"),
        ({"name": "x", "idd": 5}, "idd"),
    ]
    for fields, field in cases:
        sentence = error_of(admin.post("/member", {"member": fields}), 400, "SYNTAX")
        assert field in sentence, (fields, sentence)
    assert admin.make_member("x" * 255)["name"] == "x" * 255
    assert admin.make_member("y", dongle="d" * 64)["dongle"] == "d" * 64
    assert envelope(admin.get("/member"))["count"] == 2


def test_delete_member(api):
    admin = api.login()
    member = admin.make_member()
    body = admin.ok("DELETE", f"/member?id={member['id']}")
    assert body["id"] == member["id"]
    error_of(admin.get(f"/member?id={member['id']}"), 404, "NOTFOUND")
    error_of(admin.delete(f"/member?id={member['id']}"), 404, "NOTFOUND")
    assert "id" in error_of(admin.delete("/member"), 400, "SYNTAX")


def test_member_with_content_cannot_be_deleted(api):
    admin = api.login()
    kinds = {}
    m1 = admin.make_member("With advertiser")
    kinds["advertiser"] = m1
    admin.make_advertiser(m1["id"])
    m2 = admin.make_member("With segment")
    kinds["segment"] = m2
    admin.make_segment(f"member_id={m2['id']}")
    m3 = admin.make_member("With usersync")
    kinds["usersync"] = m3
    admin.ok(
        "POST",
        f"/usersync-pixel?member_id={m3['id']}",
        {"usersync-pixel": {"name": "Partner", "url": "https://sync.example.com/?u=${UID}"}},
    )
    m4 = admin.make_member("With user")
    kinds["user"] = m4
    admin.ok(
        "POST",
        "/user",
        {
            "user": {
                "username": "m4user",
                "password": "password-123",
                "role": "member",
                "member_id": m4["id"],
            }
        },
    )
    for kind, member in kinds.items():
        sentence = error_of(admin.delete(f"/member?id={member['id']}"), 409, "INTEGRITY")
        assert str(member["id"]) in sentence, (kind, sentence)
        assert admin.ok("GET", f"/member?id={member['id']}")["member"]["name"] == member["name"]


def test_only_an_admin_creates_and_deletes_members(api):
    admin = api.login()
    member = admin.make_member()
    advertiser = admin.make_advertiser(member["id"])
    boss = admin.make_user("boss", "member", member_id=member["id"])
    adv = admin.make_user(
        "adv", "advertiser", member_id=member["id"], advertiser_id=advertiser["id"]
    )
    for user in (boss, adv):
        error_of(user.post("/member", {"member": {"name": "Mine"}}), 403, "UNAUTH")
        error_of(user.delete(f"/member?id={member['id']}"), 403, "UNAUTH")
    assert envelope(admin.get("/member"))["count"] == 1


def test_member_user_reads_and_updates_its_own_member_but_not_its_state(api):
    admin = api.login()
    mine = admin.make_member("Mine")
    other = admin.make_member("Other")
    boss = admin.make_user("boss", "member", member_id=mine["id"])

    listed = envelope(boss.get("/member"))
    assert listed["count"] == 1
    assert listed["members"] == [mine], "a member user sees its own member, dongle included"
    assert boss.ok("GET", f"/member?id={mine['id']}")["member"]["dongle"] == mine["dongle"]
    error_of(boss.get(f"/member?id={other['id']}"), 404, "NOTFOUND")
    both = envelope(boss.get(f"/member?id={mine['id']},{other['id']}"))
    assert [m["id"] for m in both["members"]] == [mine["id"]], "another member stays invisible"
    assert envelope(boss.get(f"/member?search={other['name']}"))["count"] == 0

    got = boss.ok(
        "PUT",
        f"/member?id={mine['id']}",
        {
            "member": {
                "name": "Mine renamed",
                "redirect_domains": ["Land.Example.com"],
                "dongle": "my-own-dongle-1",
            }
        },
    )["member"]
    assert got["name"] == "Mine renamed"
    assert got["redirect_domains"] == ["land.example.com"]
    assert got["dongle"] == "my-own-dongle-1"
    # without ?id= the caller's own member is meant
    got = boss.ok("PUT", "/member", {"member": {"name": "Mine again"}})["member"]
    assert got["id"] == mine["id"] and got["name"] == "Mine again"

    sentence = error_of(
        boss.put(f"/member?id={mine['id']}", {"member": {"state": "inactive"}}), 403, "UNAUTH"
    )
    assert "state" in sentence
    assert boss.ok("GET", "/member")["members"][0]["state"] == "active"
    error_of(boss.put(f"/member?id={other['id']}", {"member": {"name": "Hijack"}}), 404, "NOTFOUND")
    assert admin.ok("GET", f"/member?id={other['id']}")["member"]["name"] == "Other"


def test_advertiser_user_sees_its_member_without_the_dongle(api):
    admin = api.login()
    member = admin.make_member()
    admin.make_member("Other")
    advertiser = admin.make_advertiser(member["id"])
    adv = admin.make_user(
        "adv", "advertiser", member_id=member["id"], advertiser_id=advertiser["id"]
    )
    listed = envelope(adv.get("/member"))
    assert listed["count"] == 1
    seen = listed["members"][0]
    assert seen["id"] == member["id"] and seen["name"] == member["name"]
    assert "dongle" not in seen
    assert member["dongle"] not in adv.get(f"/member?id={member['id']}").text
    one = adv.ok("GET", f"/member?id={member['id']}")["member"]
    assert "dongle" not in one
    error_of(adv.put(f"/member?id={member['id']}", {"member": {"name": "x"}}), 403, "UNAUTH")
    error_of(adv.put("/member", {"member": {"dongle": "stolen-dongle-1"}}), 403, "UNAUTH")
    assert admin.ok("GET", f"/member?id={member['id']}")["member"]["dongle"] == member["dongle"]


def test_search_takes_wildcards_literally(api):
    """`%` and `_` in ?search= are characters to find, not SQL wildcards (members, advertisers)."""
    admin = api.login()
    admin.make_member("100% Media")
    admin.make_member("Under_score")
    plain = admin.make_member("Plain")
    for name in ("100% Cars", "Under_score Boats", "Plain"):
        admin.make_advertiser(plain["id"], name)
    for service, percent in (("member", "100% Media"), ("advertiser", "100% Cars")):
        found = envelope(admin.get(f"/{service}?search=%25"))[f"{service}s"]
        assert [x["name"] for x in found] == [percent]
        found = envelope(admin.get(f"/{service}?search=_"))[f"{service}s"]
        assert [x["name"].split()[0] for x in found] == ["Under_score"]
        found = envelope(admin.get(f"/{service}?search=uNDER_"))[f"{service}s"]
        assert len(found) == 1, "search ignores case"
