"""`/publisher`, `/site`, `/placement` (SPEC §1.5, §2): every verb, owners, deletion, roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.helpers import ApiClient, error_of


def make(admin: ApiClient, path: str, key: str, **fields: Any) -> dict[str, Any]:
    return admin.ok("POST", path, {key: fields})[key]


def chain(admin: ApiClient, member_id: int) -> tuple[dict, dict, dict]:
    publisher = make(admin, f"/publisher?member_id={member_id}", "publisher", name="News")
    site = make(admin, f"/site?publisher_id={publisher['id']}", "site", name="news.example")
    placement = make(admin, f"/placement?site_id={site['id']}", "placement", name="Top")
    return publisher, site, placement


def test_the_chain_publisher_site_placement(api: ApiClient) -> None:
    admin = api.login()
    member = admin.make_member()
    publisher, site, placement = chain(admin, member["id"])
    assert publisher["member_id"] == member["id"] and publisher["state"] == "active"
    datetime.strptime(publisher["last_modified"], "%Y-%m-%d %H:%M:%S")
    assert (site["member_id"], site["publisher_id"]) == (member["id"], publisher["id"])
    assert (placement["member_id"], placement["site_id"]) == (member["id"], site["id"])
    in_body = make(admin, "/placement", "placement", name="Side", site_id=site["id"])
    assert in_body["site_id"] == site["id"]
    sentence = error_of(admin.post("/site", {"site": {"name": "x"}}), 400, "SYNTAX")
    assert sentence == "publisher_id is required (as ?publisher_id= or in the body)"
    sentence = error_of(admin.post("/publisher", {"publisher": {"name": "x"}}), 400, "SYNTAX")
    assert sentence.startswith("member_id is required")
    assert "999" in error_of(
        admin.post("/site?publisher_id=999", {"site": {"name": "x"}}), 404, "NOTFOUND"
    )
    other = admin.make_member("Other")
    response = admin.post(
        f"/site?publisher_id={publisher['id']}&member_id={other['id']}", {"site": {"name": "x"}}
    )
    assert error_of(response, 400, "SYNTAX").startswith("member_id must be the owner's member")
    assert admin.ok("GET", f"/site?publisher_id={publisher['id']}")["count"] == 1  # rolled back


def test_reads_search_paging_and_payload_keys(api: ApiClient) -> None:
    admin = api.login()
    m1, m2 = admin.make_member("One"), admin.make_member("Two")
    p1 = make(admin, f"/publisher?member_id={m1['id']}", "publisher", name="Daily News")
    p2 = make(admin, f"/publisher?member_id={m1['id']}", "publisher", name="Sports")
    p3 = make(admin, f"/publisher?member_id={m2['id']}", "publisher", name="Weekly News")
    listed = admin.ok("GET", "/publisher")
    assert listed["count"] == 3 and [p["id"] for p in listed["publishers"]] == [
        p1["id"],
        p2["id"],
        p3["id"],
    ]
    assert admin.ok("GET", f"/publisher?id={p2['id']}")["publisher"] == p2
    assert [p["id"] for p in admin.ok("GET", f"/publisher?member_id={m1['id']}")["publishers"]] == [
        p1["id"],
        p2["id"],
    ]
    found = admin.ok("GET", "/publisher?search=news&sort=name.desc")["publishers"]
    assert [p["id"] for p in found] == [p3["id"], p1["id"]]
    page = admin.ok("GET", "/publisher?num_elements=1&start_element=1")
    assert page["count"] == 3 and page["num_elements"] == 1 and len(page["publishers"]) == 1
    assert "sort must be" in error_of(admin.get("/publisher?sort=dongle.asc"), 400, "SYNTAX")


def test_put_changes_the_fields_sent_and_owners_never_move(api: ApiClient) -> None:
    admin = api.login()
    member = admin.make_member()
    publisher, site, _ = chain(admin, member["id"])
    changed = admin.ok("PUT", f"/site?id={site['id']}", {"site": {"state": "inactive"}})["site"]
    assert (changed["name"], changed["state"]) == ("news.example", "inactive")
    other = make(admin, f"/publisher?member_id={member['id']}", "publisher", name="Other")
    response = admin.put(f"/site?id={site['id']}", {"site": {"publisher_id": other["id"]}})
    assert error_of(response, 400, "SYNTAX") == (
        "publisher_id cannot be changed: a site stays with its owner"
    )
    response = admin.put(f"/publisher?id={publisher['id']}", {"publisher": {"name": ""}})
    assert error_of(response, 400, "SYNTAX") == "name is required and must not be blank"
    response = admin.put(f"/publisher?id={publisher['id']}", {"publisher": {"dongle": "x"}})
    assert "publisher.dongle: is not a known field" in error_of(response, 400, "SYNTAX")


def test_inventory_in_use_cannot_be_deleted(api: ApiClient) -> None:
    admin = api.login()
    member = admin.make_member()
    publisher, site, placement = chain(admin, member["id"])
    assert error_of(admin.delete(f"/publisher?id={publisher['id']}"), 409, "INTEGRITY") == (
        f"publisher {publisher['id']} is still used by 1 site(s); delete or change them first"
    )
    assert "placement(s)" in error_of(admin.delete(f"/site?id={site['id']}"), 409, "INTEGRITY")
    assert "publishers" in error_of(admin.delete(f"/member?id={member['id']}"), 409, "INTEGRITY")
    for path, row in (("placement", placement), ("site", site), ("publisher", publisher)):
        assert admin.ok("DELETE", f"/{path}?id={row['id']}")["id"] == row["id"]
        error_of(admin.get(f"/{path}?id={row['id']}"), 404, "NOTFOUND")


def test_members_see_their_own_inventory_and_only_managers_change_it(api: ApiClient) -> None:
    admin = api.login()
    mine, theirs = admin.make_member("Mine"), admin.make_member("Theirs")
    _, my_site, _ = chain(admin, mine["id"])
    their_publisher, _, _ = chain(admin, theirs["id"])
    owner = admin.make_user("owner", "member", member_id=mine["id"])
    assert owner.ok("GET", "/site")["count"] == 1
    error_of(owner.get(f"/publisher?id={their_publisher['id']}"), 404, "NOTFOUND")
    made = owner.ok("POST", "/publisher", {"publisher": {"name": "Implied member"}})["publisher"]
    assert made["member_id"] == mine["id"]
    response = owner.post(f"/site?publisher_id={their_publisher['id']}", {"site": {"name": "x"}})
    error_of(response, 404, "NOTFOUND")
    advertiser = admin.make_advertiser(mine["id"])
    buyer = admin.make_user(
        "buyer", "advertiser", member_id=mine["id"], advertiser_id=advertiser["id"]
    )
    assert buyer.ok("GET", f"/site?id={my_site['id']}")["site"]["id"] == my_site["id"]
    response = buyer.put(f"/site?id={my_site['id']}", {"site": {"name": "mine now"}})
    assert (
        error_of(response, 403, "UNAUTH")
        == f"you may not create or change sites of member {mine['id']}"
    )
    error_of(ApiClient(api.client).get("/placement"), 401, "NOAUTH")
