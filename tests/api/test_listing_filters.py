"""Lists as the reference pages and filters them (SPEC §2, §2.1): page size capped at 100, past
the end an empty list, `count` the total; equality, lists, not_/like_/min_/max_, `fields=`,
unknown filters refused; `/SERVICE/meta` for every service."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from segpixel.api.service_fields import SERVICES
from segpixel.catalog.tables import Segment
from tests.helpers import ApiClient, error_of


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.login()


@pytest.fixture
def member(admin: ApiClient) -> dict[str, Any]:
    return admin.make_member()


def bulk(admin: ApiClient, member: dict[str, Any], n: int, **fields: Any) -> list[int]:
    ids: list[int] = []
    for start in range(0, n, 100):
        items = [{"short_name": f"S{i:03}", **fields} for i in range(start, min(n, start + 100))]
        ids += admin.ok("POST", f"/segment?member_id={member['id']}", {"segments": items})["ids"]
    return ids


def test_paging_as_the_reference(admin: ApiClient, member: dict[str, Any]) -> None:
    ids = bulk(admin, member, 150)
    page = admin.ok("GET", f"/segment?member_id={member['id']}&num_elements=500")
    assert (page["count"], page["num_elements"], len(page["segments"])) == (150, 100, 100)
    rest = admin.ok("GET", f"/segment?member_id={member['id']}&start_element=100&num_elements=500")
    assert [s["id"] for s in page["segments"] + rest["segments"]] == ids
    beyond = admin.ok("GET", f"/segment?member_id={member['id']}&start_element=1000")
    assert beyond["segments"] == [] and beyond["count"] == 150


def test_equality_lists_and_null(admin: ApiClient, member: dict[str, Any]) -> None:
    m = member["id"]
    cars = admin.make_advertiser(m, "Cars")
    boats = admin.make_advertiser(m, "Boats")
    shared = admin.make_segment(f"member_id={m}", "Shared")
    a = admin.make_segment(f"advertiser_id={cars['id']}", "A", state="inactive")
    b = admin.make_segment(f"advertiser_id={boats['id']}", "B")

    def ids(query: str) -> list[int]:
        return [s["id"] for s in admin.ok("GET", f"/segment?member_id={m}&{query}")["segments"]]

    assert ids("state=inactive") == [a["id"]]
    assert ids("not_state=inactive") == [shared["id"], b["id"]]
    assert ids(f"advertiser_id={cars['id']},{boats['id']}") == [a["id"], b["id"]]
    assert ids("advertiser_id=null") == [shared["id"]]
    assert ids("not_advertiser_id=null") == [a["id"], b["id"]]
    assert ids(f"not_advertiser_id={cars['id']}") == [shared["id"], b["id"]]  # null is "not"
    assert ids("like_short_name=hAr") == [shared["id"]]
    assert ids("short_name=Shared") == [shared["id"]] and ids("short_name=shared") == []
    # filters on other services, from their own tables
    assert [x["id"] for x in admin.ok("GET", "/advertiser?like_name=oat")["advertisers"]] == [
        boats["id"]
    ]
    assert admin.ok("GET", f"/member?id={m}&state=active")["count"] == 1


def test_min_and_max_on_numbers_and_dates(
    admin: ApiClient, member: dict[str, Any], catalog: Any
) -> None:
    m = member["id"]
    old, new = bulk(admin, member, 2, expire_minutes=60)
    admin.ok("PUT", f"/segment?id={new}", {"segment": {"expire_minutes": 1440}})
    long_ago = datetime(2026, 1, 1, 12, 0, 0)
    with catalog.session() as session:  # as if `old` had not changed since January
        session.execute(update(Segment).where(Segment.id == old).values(last_modified=long_ago))

    def ids(query: str) -> list[int]:
        return [s["id"] for s in admin.ok("GET", f"/segment?member_id={m}&{query}")["segments"]]

    # what incremental syncs ask: only what changed since the last run
    since = (long_ago + timedelta(seconds=1)).strftime("%Y-%m-%d+%H:%M:%S")
    assert ids(f"min_last_modified={since}") == [new]
    assert ids("min_last_modified=2026-01-01 12:00:00") == [old, new]
    assert ids("max_last_modified=2026-01-01") == []
    assert ids("max_last_modified=2026-01-01T12:00:00") == [old]
    assert ids("min_expire_minutes=61") == [new]
    assert ids("max_expire_minutes=60") == [old]
    assert ids(f"min_id={new}") == [new]


def test_fields_projects_every_object(admin: ApiClient, member: dict[str, Any]) -> None:
    seg = admin.make_segment(f"member_id={member['id']}", "Cars", code="cars")
    listed = admin.ok("GET", f"/segment?member_id={member['id']}&fields=id,code")
    assert listed["segments"] == [{"id": seg["id"], "code": "cars"}]
    one = admin.ok("GET", f"/segment?id={seg['id']}&fields=short_name,daily_loads")
    assert set(one["segment"]) == {"short_name", "daily_loads"}
    sentence = error_of(admin.get("/segment?fields=id,colour"), 400, "SYNTAX")
    assert "fields" in sentence and "'colour'" in sentence


def test_unknown_or_misapplied_filters_are_syntax_naming_them(
    admin: ApiClient, member: dict[str, Any]
) -> None:
    cases = {
        "stat=active": "stat",  # a typo never lists everything
        "like_expire_minutes=6": "like_expire_minutes",  # like_ is for text
        "min_state=active": "min_state",  # min_ is for numbers and dates
        "min_last_modified=yesterday": "min_last_modified",
        "expire_minutes=sixty": "expire_minutes",
        "advertiser_id=0": "advertiser_id",
        "type=pixel": "type",  # derived, not a filter
        "dongle=x": "dongle",
        "state=": "state",
    }
    for query, name in cases.items():
        response = admin.get(f"/segment?member_id={member['id']}&{query}")
        sentence = error_of(response, 400, "SYNTAX")
        assert name in sentence, (query, sentence)
        assert response.json()["response"]["errors"][0]["field"] == name, query
    assert "dongle" in error_of(admin.get("/member?dongle=x"), 400, "SYNTAX")


@pytest.mark.parametrize("key", list(SERVICES))
def test_every_service_has_its_meta(admin: ApiClient, key: str) -> None:
    meta = admin.ok("GET", f"/{key}/meta")
    fields = {f["name"]: f for f in meta["fields"]}
    assert meta["count"] == len(fields) and "id" in fields
    for f in fields.values():
        assert set(f) == {"name", "type", "filter_by", "sort_by", "read_only"}, f
        assert f["type"] in ("int", "string", "enum", "date", "array", "object"), f
    assert fields["id"]["read_only"] is True
    assert meta["not_implemented"] == list(SERVICES[key].unimplemented)


def test_meta_says_what_lists_filter_and_sort_on(admin: ApiClient, member: dict[str, Any]) -> None:
    admin.make_segment(f"member_id={member['id']}", "Cars")
    fields = {f["name"]: f for f in admin.ok("GET", "/segment/meta")["fields"]}
    assert fields["last_modified"] == {
        "name": "last_modified",
        "type": "date",
        "filter_by": True,
        "sort_by": True,
        "read_only": True,
    }
    assert fields["type"]["filter_by"] is False and fields["piggyback_pixels"]["sort_by"] is False
    for name, f in fields.items():  # what meta says, the list does
        response = admin.get(f"/segment?sort={name}.desc")
        assert (response.status_code == 200) is f["sort_by"], (name, response.text)
    assert error_of(admin.get("/segment/meta", headers={"Authorization": "nope"}), 401, "NOAUTH")
