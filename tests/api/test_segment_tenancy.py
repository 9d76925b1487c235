"""`/segment` tenant isolation over HTTP (SPEC §1.1): what member and advertiser users may see
and change. Two members, each with advertisers and segments at both levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import ApiClient, error_of


@dataclass
class World:
    admin: ApiClient
    m1: dict[str, Any]  # member 1 ...
    a1: dict[str, Any]  # ... its advertiser "Cars" (the advertiser user's)
    a2: dict[str, Any]  # ... its advertiser "Boats" (a sibling)
    m2: dict[str, Any]  # member 2 ...
    b1: dict[str, Any]  # ... its advertiser
    s_m1: dict[str, Any]  # member-level segment of member 1
    s_a1: dict[str, Any]  # segment of advertiser a1
    s_a2: dict[str, Any]  # segment of advertiser a2
    s_m2: dict[str, Any]  # member-level segment of member 2
    s_b1: dict[str, Any]  # segment of advertiser b1
    member_user: ApiClient  # role member, member 1
    adv_user: ApiClient  # role advertiser, advertiser a1 of member 1

    def ids(self, *names: str) -> list[int]:
        return sorted(getattr(self, n)["id"] for n in names)


@pytest.fixture
def world(api: ApiClient) -> World:
    admin = api.login()
    m1 = admin.make_member("Acme")
    m2 = admin.make_member("Globex")
    a1 = admin.make_advertiser(m1["id"], "Cars", code="cars")
    a2 = admin.make_advertiser(m1["id"], "Boats", code="boats")
    b1 = admin.make_advertiser(m2["id"], "Cars", code="cars")
    return World(
        admin=admin,
        m1=m1,
        a1=a1,
        a2=a2,
        m2=m2,
        b1=b1,
        s_m1=admin.make_segment(f"member_id={m1['id']}", "Acme all", code="all"),
        s_a1=admin.make_segment(f"advertiser_id={a1['id']}", "Acme cars", code="cars"),
        s_a2=admin.make_segment(f"advertiser_id={a2['id']}", "Acme boats", code="boats"),
        s_m2=admin.make_segment(f"member_id={m2['id']}", "Globex all", code="all"),
        s_b1=admin.make_segment(f"advertiser_id={b1['id']}", "Globex cars", code="cars"),
        member_user=admin.make_user("acme-ops", "member", member_id=m1["id"]),
        adv_user=admin.make_user(
            "acme-cars", "advertiser", member_id=m1["id"], advertiser_id=a1["id"]
        ),
    )


def ids_of(payload: dict[str, Any]) -> list[int]:
    return [s["id"] for s in payload["segments"]]


def unchanged(w: World, *names: str) -> None:
    """The admin still sees those segments exactly as they were made."""
    for name in names:
        segment = getattr(w, name)
        assert w.admin.ok("GET", f"/segment?id={segment['id']}")["segment"] == segment, name


# -- admin ----------------------------------------------------------------------------------------


def test_admin_sees_every_member(world):
    w = world
    everything = w.admin.ok("GET", "/segment")
    assert ids_of(everything) == w.ids("s_m1", "s_a1", "s_a2", "s_m2", "s_b1")
    assert everything["count"] == 5
    assert ids_of(w.admin.ok("GET", f"/segment?member_id={w.m2['id']}")) == w.ids("s_m2", "s_b1")
    got = w.admin.ok("GET", f"/segment?id={w.s_b1['id']}")["segment"]
    assert got == w.s_b1


# -- member user ----------------------------------------------------------------------------------


def test_member_user_lists_only_its_member(world):
    w, u = world, world.member_user
    mine = w.ids("s_m1", "s_a1", "s_a2")
    payload = u.ok("GET", "/segment")
    assert ids_of(payload) == mine and payload["count"] == 3
    assert ids_of(u.ok("GET", f"/segment?member_id={w.m1['id']}")) == mine
    assert ids_of(u.ok("GET", "/segment?search=cars")) == w.ids("s_a1")
    assert ids_of(u.ok("GET", "/segment?search=all")) == w.ids("s_m1")
    assert ids_of(u.ok("GET", f"/segment?search={w.s_m2['id']}")) == []
    assert ids_of(u.ok("GET", f"/segment?advertiser_id={w.a2['id']}")) == w.ids("s_a2")
    # the other member's lists are empty, not an error (the filter finds nothing visible)
    other = u.ok("GET", f"/segment?member_id={w.m2['id']}")
    assert other["segments"] == [] and other["count"] == 0
    assert u.ok("GET", f"/segment?advertiser_id={w.b1['id']}")["segments"] == []
    # a list of ids shows only the visible ones
    listed = u.ok("GET", f"/segment?id={w.s_m1['id']},{w.s_m2['id']},{w.s_b1['id']}")
    assert ids_of(listed) == w.ids("s_m1")


def test_member_user_gets_notfound_for_the_other_members_segments(world):
    w, u = world, world.member_user
    for name in ("s_m2", "s_b1"):
        sentence = error_of(u.get(f"/segment?id={getattr(w, name)['id']}"), 404, "NOTFOUND")
        assert "Globex" not in sentence
    error_of(u.get(f"/segment?code=all&member_id={w.m2['id']}"), 404, "NOTFOUND")
    # ?code= alone means the caller's own member
    assert u.ok("GET", "/segment?code=all")["segment"] == w.s_m1
    assert u.ok("GET", f"/segment?code=cars&member_id={w.m1['id']}")["segment"] == w.s_a1
    # advertiser_code resolves in the caller's member
    assert ids_of(u.ok("GET", "/segment?advertiser_code=cars")) == w.ids("s_a1")
    error_of(u.get(f"/segment?advertiser_code=cars&member_id={w.m2['id']}"), 404, "NOTFOUND")


def test_member_user_cannot_post_into_the_other_member(world):
    w, u = world, world.member_user
    body = {"segment": {"short_name": "Intruder"}}
    sentence = error_of(u.post(f"/segment?member_id={w.m2['id']}", body), 403, "UNAUTH")
    assert str(w.m2["id"]) in sentence
    in_body = {"segment": {"short_name": "Intruder", "member_id": w.m2["id"]}}
    error_of(u.post("/segment", in_body), 403, "UNAUTH")
    # the other member's advertiser does not exist for it
    error_of(u.post(f"/segment?advertiser_id={w.b1['id']}", body), 404, "NOTFOUND")
    error_of(u.post(f"/segment?advertiser_code=cars&member_id={w.m2['id']}", body), 404, "NOTFOUND")
    error_of(
        u.post(f"/segment?member_id={w.m1['id']}&advertiser_id={w.b1['id']}", body),
        404,
        "NOTFOUND",
    )
    assert w.admin.ok("GET", f"/segment?member_id={w.m2['id']}")["count"] == 2


def test_member_user_creates_in_its_member_at_both_levels(world):
    w, u = world, world.member_user
    explicit_null = u.make_segment("", "Explicit null", advertiser_id=None)
    assert explicit_null["advertiser_id"] is None
    implied = u.make_segment("", "Implied member")
    assert implied["member_id"] == w.m1["id"] and implied["advertiser_id"] is None
    explicit = u.make_segment(f"member_id={w.m1['id']}", "Explicit")
    assert explicit["member_id"] == w.m1["id"] and explicit["advertiser_id"] is None
    boats = u.make_segment(f"advertiser_id={w.a2['id']}", "Boats too")
    assert boats["advertiser_id"] == w.a2["id"] and boats["member_id"] == w.m1["id"]
    by_code = u.make_segment("advertiser_code=cars", "By code")
    assert by_code["advertiser_id"] == w.a1["id"]
    # codes are per member: the other member's "all" does not collide, its own does
    other_code = u.make_segment("", "Unique here", code="ALL2")
    assert other_code["code"] == "ALL2"
    clash = u.post("/segment", {"segment": {"short_name": "x", "code": "ALL"}})
    error_of(clash, 409, "INTEGRITY")
    assert w.admin.ok("GET", f"/segment?member_id={w.m2['id']}")["count"] == 2


def test_member_user_cannot_change_or_delete_the_other_members_segments(world):
    w, u = world, world.member_user
    for name in ("s_m2", "s_b1"):
        segment_id = getattr(w, name)["id"]
        put = u.put(f"/segment?id={segment_id}", {"segment": {"short_name": "Mine now"}})
        error_of(put, 404, "NOTFOUND")
        error_of(u.delete(f"/segment?id={segment_id}"), 404, "NOTFOUND")
    by_code = u.put(
        f"/segment?code=all&member_id={w.m2['id']}", {"segment": {"short_name": "Mine now"}}
    )
    error_of(by_code, 404, "NOTFOUND")
    error_of(u.delete(f"/segment?code=all&member_id={w.m2['id']}"), 404, "NOTFOUND")
    unchanged(w, "s_m2", "s_b1")


def test_member_user_changes_its_own_segments_but_not_across_members(world):
    w, u = world, world.member_user
    put = f"/segment?id={w.s_a1['id']}"
    moved = u.ok("PUT", put, {"segment": {"advertiser_id": w.a2["id"]}})["segment"]
    assert moved["advertiser_id"] == w.a2["id"]
    moved = u.ok("PUT", put, {"segment": {"advertiser_id": None}})["segment"]
    assert moved["advertiser_id"] is None
    error_of(u.put(put, {"segment": {"advertiser_id": w.b1["id"]}}), 404, "NOTFOUND")
    member_move = u.put(put, {"segment": {"member_id": w.m2["id"]}})
    assert error_of(member_move, 400, "SYNTAX").startswith("member_id")
    # the code of a segment in the other member is no collision
    renamed = u.ok("PUT", f"/segment?code=all&member_id={w.m1['id']}", {"segment": {"code": "x"}})
    assert renamed["segment"]["id"] == w.s_m1["id"]
    assert u.ok("PUT", put, {"segment": {"code": "all"}})["segment"]["code"] == "all"
    assert u.ok("DELETE", f"/segment?id={w.s_a2['id']}")["id"] == w.s_a2["id"]
    unchanged(w, "s_m2", "s_b1")


# -- advertiser user ------------------------------------------------------------------------------


def test_advertiser_user_sees_its_own_and_member_level_segments(world):
    w, u = world, world.adv_user
    visible = w.ids("s_m1", "s_a1")
    payload = u.ok("GET", "/segment")
    assert ids_of(payload) == visible and payload["count"] == 2
    assert ids_of(u.ok("GET", f"/segment?member_id={w.m1['id']}")) == visible
    assert ids_of(u.ok("GET", "/segment?search=acme")) == visible
    assert u.ok("GET", f"/segment?advertiser_id={w.a2['id']}")["segments"] == []
    assert u.ok("GET", f"/segment?member_id={w.m2['id']}")["segments"] == []
    listed = u.ok("GET", f"/segment?id={w.s_m1['id']},{w.s_a1['id']},{w.s_a2['id']}")
    assert ids_of(listed) == visible
    assert u.ok("GET", f"/segment?id={w.s_m1['id']}")["segment"] == w.s_m1
    assert u.ok("GET", f"/segment?id={w.s_a1['id']}")["segment"] == w.s_a1
    for name in ("s_a2", "s_m2", "s_b1"):
        error_of(u.get(f"/segment?id={getattr(w, name)['id']}"), 404, "NOTFOUND")
    error_of(u.get("/segment?code=boats"), 404, "NOTFOUND")
    assert u.ok("GET", "/segment?code=cars")["segment"] == w.s_a1


def test_advertiser_user_creates_and_changes_its_own_advertiser_level_segments(world):
    w, u = world, world.adv_user
    implied = u.make_segment("", "Implied")
    assert implied["advertiser_id"] == w.a1["id"] and implied["member_id"] == w.m1["id"]
    explicit = u.make_segment(f"advertiser_id={w.a1['id']}", "Explicit")
    assert explicit["advertiser_id"] == w.a1["id"]
    by_code = u.make_segment(f"advertiser_code=cars&member_id={w.m1['id']}", "By code")
    assert by_code["advertiser_id"] == w.a1["id"]
    changed = u.ok("PUT", f"/segment?id={w.s_a1['id']}", {"segment": {"short_name": "Renamed"}})[
        "segment"
    ]
    assert changed["short_name"] == "Renamed" and changed["advertiser_id"] == w.a1["id"]
    by_code_put = u.ok("PUT", "/segment?code=cars", {"segment": {"description": "mine"}})
    assert by_code_put["segment"]["id"] == w.s_a1["id"]
    assert u.ok("DELETE", f"/segment?id={implied['id']}")["id"] == implied["id"]
    error_of(w.admin.get(f"/segment?id={implied['id']}"), 404, "NOTFOUND")


def test_advertiser_user_without_advertiser_param_never_creates_member_level(world):
    """Judgment call: `?member_id=` alone from an advertiser user means its own advertiser,
    the way `member_id` is taken from a caller that has one."""
    w, u = world, world.adv_user
    segment = u.make_segment(f"member_id={w.m1['id']}", "Via member")
    assert segment["advertiser_id"] == w.a1["id"]


def test_advertiser_user_cannot_create_member_level_segments(world):
    w, u = world, world.adv_user
    response = u.post(
        "/segment", {"segment": {"short_name": "Member level", "advertiser_id": None}}
    )
    error_of(response, 403, "UNAUTH")
    response = u.post(
        f"/segment?member_id={w.m1['id']}",
        {"segment": {"short_name": "Member level", "advertiser_id": None}},
    )
    error_of(response, 403, "UNAUTH")
    assert w.admin.ok("GET", f"/segment?member_id={w.m1['id']}")["count"] == 3


def test_advertiser_user_cannot_create_for_a_sibling_or_another_member(world):
    w, u = world, world.adv_user
    body = {"segment": {"short_name": "Intruder"}}
    error_of(u.post(f"/segment?advertiser_id={w.a2['id']}", body), 404, "NOTFOUND")
    error_of(
        u.post("/segment", {"segment": {"short_name": "x", "advertiser_id": w.a2["id"]}}),
        404,
        "NOTFOUND",
    )
    error_of(u.post("/segment?advertiser_code=boats", body), 404, "NOTFOUND")
    error_of(u.post(f"/segment?member_id={w.m2['id']}", body), 403, "UNAUTH")
    error_of(u.post(f"/segment?advertiser_id={w.b1['id']}", body), 404, "NOTFOUND")
    assert w.admin.ok("GET", "/segment")["count"] == 5


def test_advertiser_user_gets_unauth_on_member_level_segments(world):
    w, u = world, world.adv_user
    put = u.put(f"/segment?id={w.s_m1['id']}", {"segment": {"short_name": "Mine now"}})
    assert str(w.s_m1["id"]) in error_of(put, 403, "UNAUTH")
    error_of(u.put("/segment?code=all", {"segment": {"short_name": "x"}}), 403, "UNAUTH")
    error_of(u.delete(f"/segment?id={w.s_m1['id']}"), 403, "UNAUTH")
    # nor may it take a member-level segment for its advertiser
    grab = u.put(f"/segment?id={w.s_m1['id']}", {"segment": {"advertiser_id": w.a1["id"]}})
    error_of(grab, 403, "UNAUTH")
    unchanged(w, "s_m1")


def test_advertiser_user_cannot_touch_a_siblings_or_another_members_segments(world):
    w, u = world, world.adv_user
    for name in ("s_a2", "s_m2", "s_b1"):
        segment_id = getattr(w, name)["id"]
        error_of(u.put(f"/segment?id={segment_id}", {"segment": {"code": "x"}}), 404, "NOTFOUND")
        error_of(u.delete(f"/segment?id={segment_id}"), 404, "NOTFOUND")
    unchanged(w, "s_a2", "s_m2", "s_b1")


def test_advertiser_user_cannot_move_its_segment_away(world):
    w, u = world, world.adv_user
    put = f"/segment?id={w.s_a1['id']}"
    error_of(u.put(put, {"segment": {"advertiser_id": None}}), 403, "UNAUTH")
    error_of(u.put(put, {"segment": {"advertiser_id": w.a2["id"]}}), 404, "NOTFOUND")
    error_of(u.put(put, {"segment": {"advertiser_id": w.b1["id"]}}), 404, "NOTFOUND")
    error_of(u.put(put, {"segment": {"member_id": w.m2["id"]}}), 400, "SYNTAX")
    unchanged(w, "s_a1")
    # sending its own advertiser again is no move
    same = u.ok("PUT", put, {"segment": {"advertiser_id": w.a1["id"], "short_name": "Same"}})
    assert same["segment"]["advertiser_id"] == w.a1["id"]


# -- no token -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_every_segment_verb_needs_a_token(api, method):
    response = api.request(method, "/segment?id=1", {"segment": {"short_name": "x"}})
    error_of(response, 401, "NOAUTH")
