"""`/segment` over HTTP (SPEC §1.2, §1.3, §2): every GET, POST, PUT and DELETE form, the
envelope, code uniqueness, paging and sorting, and each validation rule with its sentence.

Tenant isolation (which caller sees and changes what) is in test_segment_tenancy.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from segpixel.catalog.segments import SegmentRepo
from segpixel.domain.access import Principal
from tests.helpers import ApiClient, error_of

SEGMENT_FIELDS = {
    "id",
    "member_id",
    "advertiser_id",
    "short_name",
    "code",
    "description",
    "state",
    "expire_minutes",
    "max_usersync_pixels",
    "type",
    "piggyback_pixels",
    "querystring_mapping",
    "querystring_mapping_key_value",
    "last_modified",
    "active_users_24h",  # quick stats (api/quick_stats.py)
    "daily_loads",
}
LAST_MODIFIED_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
IMG = {"url": "https://sync.example.com/p.gif", "pixel_type": "img"}
IMG2 = {"url": "https://other.example.com/q.gif", "pixel_type": "img"}
JS = {"url": "https://tags.example.com/t.js", "pixel_type": "js"}
JS2 = {"url": "http://tags.example.net/u.js?x=1", "pixel_type": "js"}
KV = {"qs_key": "music", "qs_value": "rock"}
QS = {"param": "car", "value_type": "text", "values": ["ford", "bmw*"]}


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.login()


@pytest.fixture
def member(admin: ApiClient) -> dict[str, Any]:
    return admin.make_member("Acme")


def errors_of(response: Any) -> dict[str, str]:
    """The `errors` list of a SYNTAX/INTEGRITY answer as {field: message}."""
    return {e["field"]: e["message"] for e in response.json()["response"]["errors"]}


def syntax(response: Any, field: str, *words: str) -> str:
    """A 400 SYNTAX whose sentence and `errors` list name `field` (and contain `words`)."""
    sentence = error_of(response, 400, "SYNTAX")
    assert field in sentence, sentence
    fields = errors_of(response)
    assert field in fields, fields
    for word in words:
        assert word in fields[field], fields[field]
        assert word in sentence, sentence
    return sentence


def ids_of(payload: dict[str, Any]) -> list[int]:
    return [s["id"] for s in payload["segments"]]


# -- GET ------------------------------------------------------------------------------------------


def test_get_without_parameters_lists_everything_in_a_plural_envelope(admin, member):
    made = [admin.make_segment(f"member_id={member['id']}", f"S{i}") for i in range(3)]
    payload = admin.ok("GET", "/segment")
    assert payload["count"] == 3
    assert payload["start_element"] == 0
    assert payload["num_elements"] == 100
    assert "segment" not in payload
    assert payload["segments"] == made  # id order, every field as POST answered it


def test_get_with_no_segments_is_an_empty_list(admin, member):
    payload = admin.ok("GET", "/segment")
    assert payload["segments"] == [] and payload["count"] == 0


def test_get_one_id_answers_singular_segment(admin, member):
    segment = admin.make_segment(f"member_id={member['id']}", code="Auto", description="d")
    admin.make_segment(f"member_id={member['id']}", "Other")
    payload = admin.ok("GET", f"/segment?id={segment['id']}")
    assert payload["segment"] == segment
    assert payload["id"] == segment["id"]
    assert payload["count"] == 1
    assert "segments" not in payload


def test_get_id_list_answers_plural_segments_in_id_order(admin, member):
    made = [admin.make_segment(f"member_id={member['id']}", f"S{i}") for i in range(4)]
    wanted = [made[3]["id"], made[0]["id"], made[2]["id"]]
    payload = admin.ok("GET", "/segment?id=" + ",".join(map(str, wanted)))
    assert payload["count"] == 3
    assert ids_of(payload) == sorted(wanted)
    assert payload["segments"] == [made[0], made[2], made[3]]


def test_get_id_list_leaves_out_unknown_ids(admin, member):
    """Judgment call (SPEC silent): a list is a filter, so an unknown id is simply absent."""
    segment = admin.make_segment(f"member_id={member['id']}")
    payload = admin.ok("GET", f"/segment?id={segment['id']},9999")
    assert ids_of(payload) == [segment["id"]] and payload["count"] == 1


def test_get_unknown_id_is_notfound(admin, member):
    admin.make_segment(f"member_id={member['id']}")
    sentence = error_of(admin.get("/segment?id=9999"), 404, "NOTFOUND")
    assert "9999" in sentence


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "1,x", "2147483648"])
def test_get_malformed_id_is_syntax_naming_id(admin, raw):
    syntax(admin.get(f"/segment?id={raw}"), "id")


def test_get_by_code_and_member_is_case_sensitive(admin, member):
    other = admin.make_member("Other")
    auto = admin.make_segment(f"member_id={member['id']}", "Autos", code="Auto")
    admin.make_segment(f"member_id={other['id']}", "Other autos", code="auto")
    payload = admin.ok("GET", f"/segment?code=Auto&member_id={member['id']}")
    assert payload["segment"] == auto and "segments" not in payload
    sentence = error_of(admin.get(f"/segment?code=auto&member_id={member['id']}"), 404, "NOTFOUND")
    assert "auto" in sentence
    error_of(admin.get(f"/segment?code=AUTO&member_id={member['id']}"), 404, "NOTFOUND")
    error_of(admin.get(f"/segment?code=Auto&member_id={other['id']}"), 404, "NOTFOUND")


def test_get_by_code_without_member_lists_that_code_in_every_member_for_admin(admin, member):
    """Judgment call: an admin has no member of its own, so ?code= alone filters the list."""
    other = admin.make_member("Other")
    first = admin.make_segment(f"member_id={member['id']}", code="Auto")
    second = admin.make_segment(f"member_id={other['id']}", code="Auto")
    third = admin.make_member("Third")
    admin.make_segment(f"member_id={third['id']}", code="auto")
    payload = admin.ok("GET", "/segment?code=Auto")
    assert ids_of(payload) == [first["id"], second["id"]]


def test_get_by_advertiser_id_member_id_and_advertiser_code(admin, member):
    other = admin.make_member("Other")
    cars = admin.make_advertiser(member["id"], "Cars", code="cars")
    boats = admin.make_advertiser(member["id"], "Boats", code="boats")
    elsewhere = admin.make_advertiser(other["id"], "Cars too", code="cars")
    m_level = admin.make_segment(f"member_id={member['id']}", "Member level")
    car1 = admin.make_segment(f"advertiser_id={cars['id']}", "Car 1")
    boat = admin.make_segment(f"advertiser_id={boats['id']}", "Boat")
    car2 = admin.make_segment(f"advertiser_id={cars['id']}", "Car 2")
    far = admin.make_segment(f"advertiser_id={elsewhere['id']}", "Far")
    far_m = admin.make_segment(f"member_id={other['id']}", "Far member level")

    by_adv = admin.ok("GET", f"/segment?advertiser_id={cars['id']}")
    assert ids_of(by_adv) == [car1["id"], car2["id"]] and by_adv["count"] == 2
    by_member = admin.ok("GET", f"/segment?member_id={member['id']}")
    assert ids_of(by_member) == [m_level["id"], car1["id"], boat["id"], car2["id"]]
    assert ids_of(admin.ok("GET", f"/segment?member_id={other['id']}")) == [
        far["id"],
        far_m["id"],
    ]
    by_code = admin.ok("GET", f"/segment?advertiser_code=cars&member_id={member['id']}")
    assert ids_of(by_code) == [car1["id"], car2["id"]]
    by_code_other = admin.ok("GET", f"/segment?advertiser_code=cars&member_id={other['id']}")
    assert ids_of(by_code_other) == [far["id"]]
    assert admin.ok("GET", "/segment?advertiser_id=9999")["segments"] == []


def test_get_by_advertiser_code_needs_a_member_and_a_known_code(admin, member):
    admin.make_advertiser(member["id"], "Cars", code="cars")
    syntax(admin.get("/segment?advertiser_code=cars"), "member_id")
    error_of(admin.get(f"/segment?advertiser_code=nope&member_id={member['id']}"), 404, "NOTFOUND")


def test_search_matches_id_name_or_code(admin, member):
    m = f"member_id={member['id']}"
    s1 = admin.make_segment(m, "Sports fans", code="sport_fans")
    s2 = admin.make_segment(m, "Car intenders", code="AUTO-intent")
    s3 = admin.make_segment(m, "Holiday", code="travel")
    s4 = admin.make_segment(m, "Winter SPORTS", code=None)

    def search(term: str) -> list[int]:
        return ids_of(admin.ok("GET", f"/segment?search={term}"))

    assert search("sport") == [s1["id"], s4["id"]]  # name, ignoring case
    assert search("auto") == [s2["id"]]  # code, ignoring case
    assert search("INTENT") == [s2["id"]]  # name and code both match: listed once
    assert search("travel") == [s3["id"]]
    assert search(str(s3["id"])) == [s3["id"]]  # the id itself
    assert search("nothing-like-it") == []
    assert admin.ok("GET", "/segment?search=sport")["count"] == 2


def test_search_treats_underscore_and_percent_literally(admin, member):
    """A code such as `sport_fans` is searched for as typed: `_`/`%` are not SQL wildcards."""
    m = f"member_id={member['id']}"
    literal = admin.make_segment(m, "One", code="a_b")
    admin.make_segment(m, "Two", code="axb")
    admin.make_segment(m, "Fifty percent")
    assert ids_of(admin.ok("GET", "/segment?search=a_b")) == [literal["id"]], (
        "search=a_b also matched code 'axb': '_' is used as a LIKE wildcard"
    )
    assert ids_of(admin.ok("GET", "/segment?search=%25")) == [], (
        "search=% matched every segment: '%' is used as a LIKE wildcard"
    )


# -- paging and sorting ---------------------------------------------------------------------------


@pytest.fixture
def many(api: ApiClient, catalog, member) -> list[int]:
    """105 segments of one member, made straight in the catalog (through the same repository
    and rules as the API) so that the paging tests stay quick on every backend."""
    admin = Principal(user_id=1, username="admin", role="admin")
    with catalog.session() as session:
        repo = SegmentRepo(session, admin)
        rows = [
            repo.create(member["id"], None, {"short_name": f"Seg {i:03d}", "code": f"c{i:03d}"})
            for i in range(105)
        ]
        return [row.id for row in rows]


def test_paging_defaults_to_100_and_counts_the_total(admin, many):
    payload = admin.ok("GET", "/segment")
    assert payload["count"] == 105
    assert payload["start_element"] == 0 and payload["num_elements"] == 100
    assert ids_of(payload) == many[:100]


def test_paging_walks_every_segment_once(admin, many):
    seen: list[int] = []
    for start in range(0, 105, 30):
        payload = admin.ok("GET", f"/segment?start_element={start}&num_elements=30")
        assert payload["count"] == 105
        assert payload["start_element"] == start and payload["num_elements"] == 30
        assert ids_of(payload) == many[start : start + 30]
        seen += ids_of(payload)
    assert seen == many
    last = admin.ok("GET", "/segment?start_element=100")
    assert ids_of(last) == many[100:] and last["count"] == 105
    beyond = admin.ok("GET", "/segment?start_element=500")
    assert beyond["segments"] == [] and beyond["count"] == 105


def test_paging_applies_to_filtered_lists(admin, many, member):
    payload = admin.ok(
        "GET", f"/segment?member_id={member['id']}&search=seg 1&start_element=2&num_elements=3"
    )
    assert payload["count"] == 5  # Seg 100 .. Seg 104
    assert ids_of(payload) == many[102:105]


def test_paging_page_size_limits(admin, member):
    assert admin.ok("GET", "/segment?num_elements=100")["num_elements"] == 100
    assert admin.ok("GET", "/segment?num_elements=1")["num_elements"] == 1
    # above 100 is silently 100, as the reference does (scripts ask for 1000)
    assert admin.ok("GET", "/segment?num_elements=101")["num_elements"] == 100
    syntax(admin.get("/segment?num_elements=0"), "num_elements")
    syntax(admin.get("/segment?num_elements=ten"), "num_elements")
    syntax(admin.get("/segment?start_element=-1"), "start_element")
    syntax(admin.get("/segment?start_element=x"), "start_element")


def test_sort_by_fields_both_ways(admin, member):
    m = f"member_id={member['id']}"
    b = admin.make_segment(m, "Bravo", code="zz", expire_minutes=30)
    a = admin.make_segment(m, "alpha", code="yy", expire_minutes=10)
    c = admin.make_segment(m, "Charlie", code="xx", expire_minutes=20)

    def order(sort: str) -> list[int]:
        return ids_of(admin.ok("GET", f"/segment?sort={sort}"))

    assert order("id.asc") == [b["id"], a["id"], c["id"]]
    assert order("id.desc") == [c["id"], a["id"], b["id"]]
    assert order("code.asc") == [c["id"], a["id"], b["id"]]
    assert order("code.desc") == [b["id"], a["id"], c["id"]]
    assert order("expire_minutes.asc") == [a["id"], c["id"], b["id"]]
    assert order("expire_minutes.desc") == [b["id"], c["id"], a["id"]]
    # names sort in the database's collation: where "alpha" goes among "Bravo" and "Charlie"
    # differs between SQLite (binary) and PostgreSQL (locale), so only the rest is asserted
    by_name = order("short_name.asc")
    assert sorted(by_name) == sorted([a["id"], b["id"], c["id"]])
    assert by_name.index(b["id"]) < by_name.index(c["id"])
    assert order("short_name.desc") == list(reversed(by_name))
    assert order("short_name") == by_name  # the direction defaults to asc


def test_sort_with_paging_slices_the_sorted_list(admin, many):
    payload = admin.ok("GET", "/segment?sort=short_name.desc&num_elements=10&start_element=5")
    assert ids_of(payload) == list(reversed(many))[5:15]


@pytest.mark.parametrize(
    "sort", ["bogus.asc", "short_name.up", "password.desc", ".desc", "short_name.desc.x"]
)
def test_bad_sort_is_syntax_naming_sort(admin, sort):
    sentence = syntax(admin.get(f"/segment?sort={sort}"), "sort")
    assert "short_name" in sentence  # the sentence lists the fields one may sort by


# -- POST -----------------------------------------------------------------------------------------


def test_post_member_level_answers_the_full_envelope(admin, member):
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    response = admin.post(
        f"/segment?member_id={member['id']}", {"segment": {"short_name": "Visitors"}}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"response"}
    payload = body["response"]
    assert payload["status"] == "OK"
    assert payload["count"] == 1
    assert payload["start_element"] == 0
    assert payload["num_elements"] == 100
    segment = payload["segment"]
    assert payload["id"] == segment["id"] and isinstance(segment["id"], int)
    assert set(segment) == SEGMENT_FIELDS
    assert segment == {
        **segment,
        "member_id": member["id"],
        "advertiser_id": None,
        "short_name": "Visitors",
        "code": None,
        "description": None,
        "state": "active",
        "expire_minutes": None,
        "max_usersync_pixels": 0,
        "type": "pixel",
        "piggyback_pixels": [],
        "querystring_mapping": None,
        "querystring_mapping_key_value": None,
    }
    assert LAST_MODIFIED_RE.fullmatch(segment["last_modified"]), segment["last_modified"]
    stamp = datetime.strptime(segment["last_modified"], "%Y-%m-%d %H:%M:%S")
    assert before - timedelta(seconds=1) <= stamp <= before + timedelta(minutes=2)  # UTC


def test_post_every_field_round_trips(admin, member):
    fields = {
        "short_name": "Everything",
        "code": "All_fields-1",
        "description": "A segment with every field set",
        "state": "inactive",
        "expire_minutes": 1440,
        "max_usersync_pixels": 3,
        "piggyback_pixels": [JS, JS2],
    }
    segment = admin.make_segment(f"member_id={member['id']}", **fields)
    assert {k: segment[k] for k in fields} == fields
    assert segment["type"] == "pixel"
    assert admin.ok("GET", f"/segment?id={segment['id']}")["segment"] == segment


def test_post_type_is_derived_from_the_mappings(admin, member):
    m = f"member_id={member['id']}"
    qs = admin.make_segment(m, "Cars", querystring_mapping=QS)
    assert qs["type"] == "querystring"
    assert qs["querystring_mapping"] == {
        **QS,
        "allow_empty_text": False,
        "publishers": [],
        "sites": [],
        "placements": [],
    }
    assert qs["querystring_mapping_key_value"] is None
    kv = admin.make_segment(m, "Rock", querystring_mapping_key_value=KV)
    assert kv["type"] == "querystring_key_value"
    assert kv["querystring_mapping_key_value"] == KV
    assert kv["querystring_mapping"] is None
    any_value = admin.make_segment(m, "Jazz", querystring_mapping_key_value={"qs_key": "jazz"})
    assert any_value["querystring_mapping_key_value"] == {"qs_key": "jazz", "qs_value": None}
    plain = admin.make_segment(m, "Plain", querystring_mapping=None)
    assert plain["type"] == "pixel"


def test_post_with_advertiser_id_takes_the_member_from_the_advertiser(admin, member):
    cars = admin.make_advertiser(member["id"], "Cars")
    segment = admin.make_segment(f"advertiser_id={cars['id']}")
    assert segment["advertiser_id"] == cars["id"]
    assert segment["member_id"] == member["id"]
    both = admin.make_segment(f"advertiser_id={cars['id']}&member_id={member['id']}", "Both")
    assert both["advertiser_id"] == cars["id"] and both["member_id"] == member["id"]


def test_post_with_advertiser_code_and_member(admin, member):
    cars = admin.make_advertiser(member["id"], "Cars", code="Cars")
    segment = admin.make_segment(f"advertiser_code=Cars&member_id={member['id']}")
    assert segment["advertiser_id"] == cars["id"] and segment["member_id"] == member["id"]
    error_of(
        admin.post(
            f"/segment?advertiser_code=cars&member_id={member['id']}",
            {"segment": {"short_name": "x"}},
        ),
        404,
        "NOTFOUND",
    )
    syntax(
        admin.post("/segment?advertiser_code=Cars", {"segment": {"short_name": "x"}}),
        "member_id",
    )


def test_post_with_member_and_advertiser_in_the_body(admin, member):
    cars = admin.make_advertiser(member["id"], "Cars")
    segment = admin.ok(
        "POST", "/segment", {"segment": {"short_name": "Body", "member_id": member["id"]}}
    )["segment"]
    assert segment["member_id"] == member["id"] and segment["advertiser_id"] is None
    in_body = admin.ok(
        "POST", "/segment", {"segment": {"short_name": "Adv", "advertiser_id": cars["id"]}}
    )["segment"]
    assert in_body["member_id"] == member["id"] and in_body["advertiser_id"] == cars["id"]
    same = admin.ok(
        "POST",
        f"/segment?member_id={member['id']}",
        {"segment": {"short_name": "Same", "member_id": member["id"]}},
    )["segment"]
    assert same["member_id"] == member["id"]


def test_post_query_and_body_disagreeing_is_syntax(admin, member):
    other = admin.make_member("Other")
    cars = admin.make_advertiser(member["id"], "Cars")
    boats = admin.make_advertiser(member["id"], "Boats")
    sentence = syntax(
        admin.post(
            f"/segment?member_id={member['id']}",
            {"segment": {"short_name": "x", "member_id": other["id"]}},
        ),
        "member_id",
    )
    assert str(member["id"]) in sentence and str(other["id"]) in sentence
    syntax(
        admin.post(
            f"/segment?advertiser_id={cars['id']}",
            {"segment": {"short_name": "x", "advertiser_id": boats["id"]}},
        ),
        "advertiser_id",
    )
    assert admin.ok("GET", "/segment")["count"] == 0


def test_post_without_member_is_syntax_for_admin(admin, member):
    sentence = syntax(admin.post("/segment", {"segment": {"short_name": "x"}}), "member_id")
    assert "required" in sentence


def test_post_for_an_advertiser_of_another_member_is_refused(admin, member):
    other = admin.make_member("Other")
    foreign = admin.make_advertiser(other["id"], "Foreign")
    response = admin.post(
        f"/segment?member_id={member['id']}&advertiser_id={foreign['id']}",
        {"segment": {"short_name": "x"}},
    )
    sentence = syntax(response, "advertiser_id")
    assert f"member {member['id']}" in sentence
    response = admin.post(
        f"/segment?member_id={member['id']}",
        {"segment": {"short_name": "x", "advertiser_id": foreign["id"]}},
    )
    syntax(response, "advertiser_id")
    assert admin.ok("GET", "/segment")["count"] == 0


def test_post_for_unknown_member_or_advertiser_is_notfound(admin, member):
    response = admin.post("/segment?member_id=9999", {"segment": {"short_name": "x"}})
    assert "member 9999" in error_of(response, 404, "NOTFOUND")
    response = admin.post("/segment?advertiser_id=9999", {"segment": {"short_name": "x"}})
    assert "9999" in error_of(response, 404, "NOTFOUND")


def test_post_needs_a_segment_object(admin, member):
    syntax(admin.post(f"/segment?member_id={member['id']}", {}), "segment", "required")
    response = admin.post(
        f"/segment?member_id={member['id']}",
        content=b'{"segment": {"short_name": ',
        headers={"Content-Type": "application/json"},
    )
    assert "JSON" in syntax(response, "body")


# -- code uniqueness ------------------------------------------------------------------------------


def test_code_is_unique_per_member_ignoring_case(admin, member):
    other = admin.make_member("Other")
    admin.make_segment(f"member_id={member['id']}", code="Auto")
    response = admin.post(
        f"/segment?member_id={member['id']}", {"segment": {"short_name": "x", "code": "auto"}}
    )
    sentence = error_of(response, 409, "INTEGRITY")
    assert "code" in sentence and "'Auto'" in sentence
    assert "code" in errors_of(response)
    # the same code in another member is another segment
    elsewhere = admin.make_segment(f"member_id={other['id']}", code="auto")
    assert elsewhere["code"] == "auto"
    assert admin.ok("GET", f"/segment?member_id={member['id']}")["count"] == 1


def test_put_to_a_colliding_code_is_integrity(admin, member):
    m = f"member_id={member['id']}"
    admin.make_segment(m, "A", code="Auto")
    moto = admin.make_segment(m, "B", code="moto")
    response = admin.put(f"/segment?id={moto['id']}", {"segment": {"code": "AUTO"}})
    assert "code" in error_of(response, 409, "INTEGRITY")
    assert admin.ok("GET", f"/segment?id={moto['id']}")["segment"]["code"] == "moto"
    # changing the case of its own code is not a collision
    renamed = admin.ok("PUT", f"/segment?id={moto['id']}", {"segment": {"code": "MOTO"}})
    assert renamed["segment"]["code"] == "MOTO"


# -- PUT ------------------------------------------------------------------------------------------


def test_put_by_id_changes_only_the_fields_sent(admin, member):
    cars = admin.make_advertiser(member["id"], "Cars")
    segment = admin.make_segment(
        f"advertiser_id={cars['id']}",
        "Original",
        code="orig",
        description="keep me",
        expire_minutes=60,
        max_usersync_pixels=2,
        piggyback_pixels=[IMG],
    )
    payload = admin.ok(
        "PUT", f"/segment?id={segment['id']}", {"segment": {"short_name": "Renamed"}}
    )
    changed = payload["segment"]
    assert payload["id"] == segment["id"] and payload["count"] == 1
    assert changed == {
        **segment,
        "short_name": "Renamed",
        "last_modified": changed["last_modified"],
    }
    assert admin.ok("GET", f"/segment?id={segment['id']}")["segment"] == changed
    changed = admin.ok(
        "PUT", f"/segment?id={segment['id']}", {"segment": {"state": "inactive", "code": None}}
    )["segment"]
    assert changed["state"] == "inactive" and changed["code"] is None
    assert changed["description"] == "keep me" and changed["advertiser_id"] == cars["id"]
    assert changed["piggyback_pixels"] == [IMG]
    # an empty segment object changes nothing
    same = admin.ok("PUT", f"/segment?id={segment['id']}", {"segment": {}})["segment"]
    assert same == {**changed, "last_modified": same["last_modified"]}


def test_put_by_code_and_member(admin, member):
    other = admin.make_member("Other")
    mine = admin.make_segment(f"member_id={member['id']}", code="Auto")
    theirs = admin.make_segment(f"member_id={other['id']}", code="Auto")
    changed = admin.ok(
        "PUT",
        f"/segment?code=Auto&member_id={other['id']}",
        {"segment": {"description": "other's"}},
    )["segment"]
    assert changed["id"] == theirs["id"] and changed["description"] == "other's"
    assert admin.ok("GET", f"/segment?id={mine['id']}")["segment"]["description"] is None
    response = admin.put(
        f"/segment?code=auto&member_id={member['id']}", {"segment": {"description": "x"}}
    )
    error_of(response, 404, "NOTFOUND")  # case-sensitive lookup
    syntax(admin.put("/segment?code=Auto", {"segment": {"description": "x"}}), "member_id")


def test_put_needs_a_target(admin, member):
    syntax(admin.put("/segment", {"segment": {"short_name": "x"}}), "id", "required")
    error_of(admin.put("/segment?id=9999", {"segment": {"short_name": "x"}}), 404, "NOTFOUND")


def test_put_piggybacks_replace_or_append(admin, member):
    segment = admin.make_segment(f"member_id={member['id']}", piggyback_pixels=[JS])
    put = f"/segment?id={segment['id']}"
    replaced = admin.ok("PUT", put, {"segment": {"piggyback_pixels": [JS2]}})["segment"]
    assert replaced["piggyback_pixels"] == [JS2]
    appended = admin.ok("PUT", put + "&append=true", {"segment": {"piggyback_pixels": [JS]}})
    assert appended["segment"]["piggyback_pixels"] == [JS2, JS]
    # appending with other fields: the other fields are set as usual
    more = admin.ok(
        "PUT",
        put + "&append=true",
        {"segment": {"piggyback_pixels": [JS], "short_name": "More"}},
    )["segment"]
    assert more["piggyback_pixels"] == [JS2, JS, JS] and more["short_name"] == "More"
    # append=false is the default: replace
    assert admin.ok("PUT", put + "&append=false", {"segment": {"piggyback_pixels": [IMG]}})[
        "segment"
    ]["piggyback_pixels"] == [IMG]
    cleared = admin.ok("PUT", put, {"segment": {"piggyback_pixels": []}})["segment"]
    assert cleared["piggyback_pixels"] == []


def test_put_append_obeys_the_piggyback_rules(admin, member):
    segment = admin.make_segment(f"member_id={member['id']}", piggyback_pixels=[IMG])
    put = f"/segment?id={segment['id']}&append=true"
    syntax(admin.put(put, {"segment": {"piggyback_pixels": [IMG2]}}), "piggyback_pixels", "rule 3")
    syntax(admin.put(put, {"segment": {"piggyback_pixels": [JS]}}), "piggyback_pixels", "rule 2")
    unchanged = admin.ok("GET", f"/segment?id={segment['id']}")["segment"]
    assert unchanged["piggyback_pixels"] == [IMG]
    # the same single img replacing (not appending) is fine
    admin.ok("PUT", f"/segment?id={segment['id']}", {"segment": {"piggyback_pixels": [IMG2]}})


def test_put_moves_between_member_level_and_advertisers(admin, member):
    cars = admin.make_advertiser(member["id"], "Cars")
    boats = admin.make_advertiser(member["id"], "Boats")
    segment = admin.make_segment(f"advertiser_id={cars['id']}", code="c")
    put = f"/segment?id={segment['id']}"
    moved = admin.ok("PUT", put, {"segment": {"advertiser_id": None}})["segment"]
    assert moved["advertiser_id"] is None and moved["member_id"] == member["id"]
    assert moved["code"] == "c"
    moved = admin.ok("PUT", put, {"segment": {"advertiser_id": boats["id"]}})["segment"]
    assert moved["advertiser_id"] == boats["id"]
    assert ids_of(admin.ok("GET", f"/segment?advertiser_id={boats['id']}")) == [segment["id"]]


def test_put_to_another_members_advertiser_or_member_is_refused(admin, member):
    other = admin.make_member("Other")
    foreign = admin.make_advertiser(other["id"], "Foreign")
    segment = admin.make_segment(f"member_id={member['id']}")
    put = f"/segment?id={segment['id']}"
    syntax(admin.put(put, {"segment": {"advertiser_id": foreign["id"]}}), "advertiser_id")
    sentence = syntax(admin.put(put, {"segment": {"member_id": other["id"]}}), "member_id")
    assert "cannot be changed" in sentence
    error_of(admin.put(put, {"segment": {"advertiser_id": 9999}}), 404, "NOTFOUND")
    stored = admin.ok("GET", f"/segment?id={segment['id']}")["segment"]
    assert stored == segment
    # sending the member it already has is not a change
    same = admin.ok("PUT", put, {"segment": {"member_id": member["id"], "short_name": "Y"}})
    assert same["segment"]["member_id"] == member["id"]


def test_put_null_expire_minutes_and_usersync(admin, member):
    segment = admin.make_segment(
        f"member_id={member['id']}", expire_minutes=60, max_usersync_pixels=4
    )
    changed = admin.ok(
        "PUT",
        f"/segment?id={segment['id']}",
        {"segment": {"expire_minutes": None, "max_usersync_pixels": None, "description": None}},
    )["segment"]
    assert changed["expire_minutes"] is None
    assert changed["max_usersync_pixels"] == 0  # SPEC §1.2: null = 0
    assert changed["description"] is None
    zero = admin.ok("PUT", f"/segment?id={segment['id']}", {"segment": {"expire_minutes": 0}})
    assert zero["segment"]["expire_minutes"] == 0


def test_put_mapping_switches(admin, member):
    segment = admin.make_segment(f"member_id={member['id']}", querystring_mapping_key_value=KV)
    put = f"/segment?id={segment['id']}"
    syntax(
        admin.put(put, {"segment": {"querystring_mapping": QS}}),
        "querystring_mapping",
        "querystring_mapping_key_value",
    )
    syntax(admin.put(put, {"segment": {"max_usersync_pixels": 1}}), "max_usersync_pixels")
    switched = admin.ok(
        "PUT",
        put,
        {"segment": {"querystring_mapping": QS, "querystring_mapping_key_value": None}},
    )["segment"]
    assert switched["type"] == "querystring" and switched["querystring_mapping_key_value"] is None
    plain = admin.ok("PUT", put, {"segment": {"querystring_mapping": None}})["segment"]
    assert plain["type"] == "pixel" and plain["querystring_mapping"] is None


def test_put_validation_failure_changes_nothing(admin, member):
    segment = admin.make_segment(f"member_id={member['id']}", "Keep", code="keep")
    response = admin.put(
        f"/segment?id={segment['id']}", {"segment": {"short_name": "New", "expire_minutes": -5}}
    )
    syntax(response, "expire_minutes")
    assert admin.ok("GET", f"/segment?id={segment['id']}")["segment"] == segment


# -- DELETE ---------------------------------------------------------------------------------------


def test_delete_then_get_is_notfound(admin, member):
    keep = admin.make_segment(f"member_id={member['id']}", "Keep")
    gone = admin.make_segment(f"member_id={member['id']}", "Gone", code="gone")
    payload = admin.ok("DELETE", f"/segment?id={gone['id']}")
    assert payload["id"] == gone["id"]
    error_of(admin.get(f"/segment?id={gone['id']}"), 404, "NOTFOUND")
    error_of(admin.delete(f"/segment?id={gone['id']}"), 404, "NOTFOUND")
    assert ids_of(admin.ok("GET", "/segment")) == [keep["id"]]
    # its code is free again
    again = admin.make_segment(f"member_id={member['id']}", "Again", code="GONE")
    assert again["code"] == "GONE"


def test_delete_unknown_or_without_id(admin, member):
    assert "9999" in error_of(admin.delete("/segment?id=9999"), 404, "NOTFOUND")
    syntax(admin.delete("/segment"), "id")
    syntax(admin.delete("/segment?id=abc"), "id")


def test_delete_by_code_and_member(admin, member):
    segment = admin.make_segment(f"member_id={member['id']}", code="Auto")
    error_of(admin.delete(f"/segment?code=auto&member_id={member['id']}"), 404, "NOTFOUND")
    assert admin.ok("DELETE", f"/segment?code=Auto&member_id={member['id']}")["id"] == segment["id"]


# -- validation: one rule at a time, each a 400 SYNTAX naming the field ---------------------------

LONG_URL = "https://sync.example.com/p.gif?" + "x" * 8192

INVALID = [
    # (field values, errors-list field, words in its message)
    ({"short_name": ""}, "short_name", ["required"]),
    ({"short_name": "   "}, "short_name", ["required"]),
    ({"short_name": None}, "short_name", ["required"]),
    ({"short_name": "x" * 256}, "short_name", ["255"]),
    ({"code": "a.b"}, "code", ["letter"]),
    ({"code": "a b"}, "code", ["letter"]),
    ({"code": "auto+moto"}, "code", ["letter"]),
    ({"code": "Émile"}, "code", ["letter"]),
    ({"code": ""}, "code", ["1 to 50"]),
    ({"code": "c" * 51}, "code", ["1 to 50"]),
    ({"description": "d" * 501}, "description", ["500"]),
    ({"state": None}, "state", ["active"]),
    ({"expire_minutes": 259201}, "expire_minutes", ["259200", "259201"]),
    ({"expire_minutes": -1}, "expire_minutes", ["259200", "-1"]),
    ({"max_usersync_pixels": -1}, "max_usersync_pixels", ["-1"]),
    (
        {"max_usersync_pixels": 1, "querystring_mapping_key_value": KV},
        "max_usersync_pixels",
        ["querystring_mapping_key_value"],
    ),
    ({"piggyback_pixels": [IMG, JS]}, "piggyback_pixels", ["rule 2"]),
    ({"piggyback_pixels": [JS, IMG, JS2]}, "piggyback_pixels", ["rule 2"]),
    ({"piggyback_pixels": [IMG, IMG2]}, "piggyback_pixels", ["rule 3"]),
    (
        {"piggyback_pixels": [{"url": "/p.gif", "pixel_type": "img"}]},
        "piggyback_pixels[0].url",
        ["rule 4", "http"],
    ),
    (
        {"piggyback_pixels": [JS, {"url": "ftp://x.example.com/t.js", "pixel_type": "js"}]},
        "piggyback_pixels[1].url",
        ["rule 4"],
    ),
    (
        {"piggyback_pixels": [{"url": "javascript:alert(1)", "pixel_type": "js"}]},
        "piggyback_pixels[0].url",
        ["rule 4"],
    ),
    (
        {"piggyback_pixels": [{"url": "https://a b.example.com/x", "pixel_type": "js"}]},
        "piggyback_pixels[0].url",
        ["rule 4"],
    ),
    (
        {"querystring_mapping": QS, "querystring_mapping_key_value": KV},
        "querystring_mapping",
        ["querystring_mapping_key_value"],
    ),
    (
        {"querystring_mapping": {"param": "car", "value_type": "text"}},
        "querystring_mapping.values",
        ["at least one"],
    ),
    (
        {"querystring_mapping_key_value": {"qs_key": " "}},
        "querystring_mapping_key_value.qs_key",
        [],
    ),
    # shape: unknown fields and wrong types (the field is named from the body's root)
    ({"colour": "red"}, "segment.colour", ["not a known field"]),
    ({"segment_id": 3}, "segment.segment_id", ["not a known field"]),
    ({"short_name": 5}, "segment.short_name", ["string"]),
    ({"expire_minutes": "soon"}, "segment.expire_minutes", ["integer", "soon"]),
    ({"expire_minutes": 1.5}, "segment.expire_minutes", ["integer"]),
    ({"expire_minutes": True}, "segment.expire_minutes", ["integer"]),
    ({"expire_minutes": "60"}, "segment.expire_minutes", ["integer"]),
    ({"member_id": True}, "segment.member_id", ["integer"]),
    ({"max_usersync_pixels": "many"}, "segment.max_usersync_pixels", ["integer"]),
    ({"state": "deleted"}, "segment.state", ["active"]),
    ({"piggyback_pixels": "https://x.example.com"}, "segment.piggyback_pixels", ["list"]),
    (
        {"piggyback_pixels": [{"url": "https://x.example.com/p", "pixel_type": "gif"}]},
        "segment.piggyback_pixels[0].pixel_type",
        ["img"],
    ),
    (
        {"piggyback_pixels": [{"url": "https://x.example.com/p"}]},
        "segment.piggyback_pixels[0].pixel_type",
        ["required"],
    ),
    (
        {"piggyback_pixels": [{**JS, "when": "always"}]},
        "segment.piggyback_pixels[0].when",
        ["not a known field"],
    ),
    ({"querystring_mapping": "car"}, "segment.querystring_mapping", []),
    (
        {"querystring_mapping_key_value": {"qs_value": "x"}},
        "segment.querystring_mapping_key_value.qs_key",
        ["required"],
    ),
    ({"member_id": 0}, "segment.member_id", []),
    ({"advertiser_id": "abc"}, "segment.advertiser_id", []),
]


@pytest.mark.parametrize(
    ("fields", "field", "words"), INVALID, ids=[f"{c[1]}-{i}" for i, c in enumerate(INVALID)]
)
def test_post_invalid_field_is_syntax_naming_it(admin, member, fields, field, words):
    body = {"segment": {"short_name": "Valid name", **fields}}
    response = admin.post(f"/segment?member_id={member['id']}", body)
    sentence = syntax(response, field, *words)
    assert sentence.startswith(field) or f"; {field}" in sentence or f" {field}" in sentence
    assert response.json()["response"]["error_code"] == "field_invalid"
    assert admin.ok("GET", "/segment")["count"] == 0


def test_put_invalid_field_is_syntax_naming_it_and_changes_nothing(admin, member):
    """The same rules on PUT (one segment, every case in turn, to stay quick)."""
    segment = admin.make_segment(f"member_id={member['id']}", "Valid name")
    for fields, field, words in INVALID:
        response = admin.put(f"/segment?id={segment['id']}", {"segment": fields})
        syntax(response, field, *words)
    assert admin.ok("GET", f"/segment?id={segment['id']}")["segment"] == segment


VALID_EDGES = [
    {"short_name": "x" * 255},
    {"short_name": "x"},
    {"code": "c" * 50},
    {"code": "A"},
    {"code": "Az09_-"},
    {"description": "d" * 500},
    {"description": ""},
    {"expire_minutes": 0},
    {"expire_minutes": 1},
    {"expire_minutes": 259200},
    {"expire_minutes": None},
    {"max_usersync_pixels": 0},
    {"max_usersync_pixels": None},
    {"max_usersync_pixels": 0, "querystring_mapping_key_value": KV},
    {"piggyback_pixels": [IMG]},
    {"piggyback_pixels": [JS, JS2, JS]},
    {"piggyback_pixels": [{"url": LONG_URL, "pixel_type": "img"}]},
    {"piggyback_pixels": [{"url": "https://s.example.com/x?uid=${UID}", "pixel_type": "img"}]},
]


def test_post_accepts_the_edges_of_each_rule(admin, member):
    for fields in VALID_EDGES:
        segment = admin.make_segment(f"member_id={member['id']}", **{"short_name": "n", **fields})
        expected = {**fields}
        if "max_usersync_pixels" in expected and expected["max_usersync_pixels"] is None:
            expected["max_usersync_pixels"] = 0  # null = 0 (SPEC §1.2)
        assert {k: segment[k] for k in expected} == expected, fields
        admin.ok("DELETE", f"/segment?id={segment['id']}")  # frees the code for the next case


def test_every_broken_field_is_listed(admin, member):
    body = {
        "segment": {
            "short_name": "",
            "code": "no spaces",
            "description": "d" * 501,
            "expire_minutes": 999999,
            "piggyback_pixels": [IMG, IMG2],
        }
    }
    response = admin.post(f"/segment?member_id={member['id']}", body)
    sentence = error_of(response, 400, "SYNTAX")
    fields = errors_of(response)
    assert set(fields) == {
        "short_name",
        "code",
        "description",
        "expire_minutes",
        "piggyback_pixels",
    }
    for field, message in fields.items():
        assert message.startswith(field), message
        assert message in sentence
    shape = admin.post(
        f"/segment?member_id={member['id']}",
        {"segment": {"short_name": 1, "expire_minutes": "x", "bogus": 1}},
    )
    assert set(errors_of(shape)) == {
        "segment.short_name",
        "segment.expire_minutes",
        "segment.bogus",
    }
