"""Query-string segments on real ad calls, both profile stores (SPEC §5.1, §5.2, §5.3): matching,
numeric values, scope precedence, case, the 40 × 60 limits, and what is skipped."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import error_of
from tests.pixel.ads import Shop, ad_call, open_shop, segments_of
from tests.pixel.conftest import Pixel, warning_of


@pytest.fixture
def shop(px: Pixel) -> Shop:
    return open_shop(px)


def added(px: Pixel, shop: Shop, query: str, placement: int | None = None) -> dict[int, Any]:
    """The segments a fresh browser is in after one ad call carrying `query`."""
    browser = px.browser()
    response = ad_call(browser, placement or shop.placement["id"], query)
    assert response.status_code == 200, response.text
    return segments_of(px, browser, shop)


def test_text_values_match_exactly_or_by_prefix_ignoring_case(px: Pixel, shop: Shop) -> None:
    cars = shop.segment("Cars", querystring_mapping={"param": "Car", "values": ["ford", "BMW*"]})
    px.sync()
    for query, hit in [
        ("car=ford", True),
        ("CAR=Ford", True),
        ("car=bmw-x5", True),
        ("car=bmw", True),
        ("car=fordx", False),
        ("car=", False),
        ("cars=ford", False),
    ]:
        assert (cars["id"] in added(px, shop, query)) is hit, query


def test_allow_empty_text_and_value_types_none_and_numeric(px: Pixel, shop: Shop) -> None:
    empty = shop.segment(
        "Empty", querystring_mapping={"param": "e", "values": ["x"], "allow_empty_text": True}
    )
    anything = shop.segment("Any", querystring_mapping={"param": "any", "value_type": "none"})
    age = shop.segment("Age", querystring_mapping={"param": "age", "value_type": "numeric"})
    px.sync()
    assert empty["id"] in added(px, shop, "e=")
    assert anything["id"] in added(px, shop, "any=whatever")
    assert anything["id"] in added(px, shop, "any=")
    assert added(px, shop, "age=42")[age["id"]]["value"] == 42
    assert added(px, shop, "age=0")[age["id"]]["value"] is None  # a number, but no value
    assert age["id"] not in added(px, shop, "age=forty")
    browser = px.browser()
    too_big = ad_call(browser, shop.placement["id"], "age=2147483648")
    assert "above 2147483647" in warning_of(too_big)
    assert "not a number" in warning_of(ad_call(browser, shop.placement["id"], "age=x"))


def test_key_value_segments_any_value_and_several_per_key(px: Pixel, shop: Shop) -> None:
    rock = shop.segment(
        "Rock", querystring_mapping_key_value={"qs_key": "music", "qs_value": "Rock"}
    )
    music = shop.segment("Music", querystring_mapping_key_value={"qs_key": "MUSIC"})
    px.sync()
    assert set(added(px, shop, "music=ROCK")) == {rock["id"], music["id"]}
    assert set(added(px, shop, "music=jazz")) == {music["id"]}


def test_scope_placements_win_over_sites_over_publishers(px: Pixel, shop: Shop) -> None:
    other_placement = shop.placement_of(shop.site["id"])
    site2 = shop.post(f"/site?publisher_id={shop.publisher['id']}", "site", name="sport")
    on_site2 = shop.placement_of(site2["id"])
    by_placement = shop.segment(
        "P",
        querystring_mapping={
            "param": "p",
            "value_type": "none",
            "placements": [{"id": other_placement["id"]}],
            "sites": [{"id": shop.site["id"]}],  # ignored: placements are given
        },
    )
    by_site = shop.segment(
        "S",
        querystring_mapping={
            "param": "s",
            "value_type": "none",
            "sites": [{"id": site2["id"]}],
            "publishers": [{"id": shop.publisher["id"]}],  # ignored: sites are given
        },
    )
    by_publisher = shop.segment(
        "U",
        querystring_mapping={
            "param": "u",
            "value_type": "none",
            "publishers": [{"id": shop.publisher["id"]}],
        },
    )
    px.sync()
    query = "p=1&s=1&u=1"
    assert set(added(px, shop, query)) == {by_publisher["id"]}
    assert set(added(px, shop, query, other_placement["id"])) == {
        by_placement["id"],
        by_publisher["id"],
    }
    assert set(added(px, shop, query, on_site2["id"])) == {by_site["id"], by_publisher["id"]}


def test_mappings_serve_their_own_members_inventory_only(px: Pixel, shop: Shop) -> None:
    mine = shop.segment("Mine", querystring_mapping={"param": "car", "values": ["ford"]})
    other = open_shop(px, "Other")
    px.sync()
    browser = px.browser()
    ad_call(browser, other.placement["id"], "car=ford")
    assert segments_of(px, browser, shop) == {}
    assert mine["id"] in added(px, shop, "car=ford")


def test_a_scope_must_name_the_members_own_inventory(px: Pixel, shop: Shop) -> None:
    other = open_shop(px, "Other")
    response = px.api.post(
        f"/segment?member_id={shop.member_id}",
        {
            "segment": {
                "short_name": "X",
                "querystring_mapping": {
                    "param": "x",
                    "value_type": "none",
                    "placements": [{"id": other.placement["id"]}],
                },
            }
        },
    )
    sentence = error_of(response, 400, "SYNTAX")
    assert sentence == (
        f"querystring_mapping.placements[0].id must be a placement of member {shop.member_id} "
        f"(placement {other.placement['id']} not found)"
    )


@pytest.mark.parametrize(
    ("field", "mapping", "where"),
    [
        pytest.param(
            "querystring_mapping",
            {"param": "kw_car", "value_type": "none"},
            "querystring_mapping.param",
            id="query-string",
        ),
        pytest.param(
            "querystring_mapping_key_value",
            {"qs_key": "KW_Music", "qs_value": "rock"},
            "querystring_mapping_key_value.qs_key",
            id="key-value-any-case",
        ),
    ],
)
def test_a_mapping_on_a_reserved_kw_key_is_refused(
    px: Pixel, shop: Shop, field: str, mapping: dict[str, Any], where: str
) -> None:
    response = px.api.post(
        f"/segment?member_id={shop.member_id}", {"segment": {"short_name": "K", field: mapping}}
    )
    sentence = error_of(response, 400, "SYNTAX")
    assert sentence.startswith(f"{where} must not start with 'kw_'"), sentence


def test_kw_keys_never_add_anyone_even_through_an_older_mapping(px: Pixel, shop: Shop) -> None:
    """A mapping stored before the rule existed (written into the catalog here) adds no one:
    the reference reserves `kw_` keys, and an ad call's `kw_…` is never a segment signal."""
    from sqlalchemy import update

    from segpixel.catalog.tables import CatalogVersion, Segment

    plain = shop.segment("Plain", querystring_mapping={"param": "kwx", "value_type": "none"})
    old = shop.segment("Old", querystring_mapping={"param": "kwy", "value_type": "none"})
    kv = shop.segment("OldKV", querystring_mapping_key_value={"qs_key": "kwz"})
    with px.catalog.session() as session:
        session.execute(
            update(Segment)
            .where(Segment.id == old["id"])
            .values(querystring_mapping={**old["querystring_mapping"], "param": "kw_y"})
        )
        session.execute(
            update(Segment)
            .where(Segment.id == kv["id"])
            .values(querystring_mapping_key_value={"qs_key": "KW_z", "qs_value": None})
        )  # a bulk UPDATE moves no version by itself: move it, as any catalog write does
        session.execute(update(CatalogVersion).values(version=CatalogVersion.version + 1))
    px.sync()
    assert set(added(px, shop, "kwx=1&kw_y=1&KW_Z=1&kw_x=1")) == {plain["id"]}


def test_forty_key_values_of_at_most_sixty_characters_are_read(px: Pixel, shop: Shop) -> None:
    late = shop.segment("Late", querystring_mapping={"param": "late", "value_type": "none"})
    long = shop.segment("Long", querystring_mapping={"param": "long", "value_type": "none"})
    px.sync()
    padding = "&".join(f"k{i}=v" for i in range(40))
    browser = px.browser()
    response = ad_call(browser, shop.placement["id"], f"{padding}&late=1")
    assert "only the first 40 key-values" in warning_of(response)
    assert segments_of(px, browser, shop) == {}
    assert late["id"] in added(px, shop, f"{'&'.join(f'k{i}=v' for i in range(39))}&late=1")
    response = ad_call(browser, shop.placement["id"], "long=" + "x" * 61)
    assert "longer than 60 characters" in warning_of(response)
    assert long["id"] in added(px, shop, "long=" + "x" * 60)


def test_inactive_segments_are_not_added_and_opted_out_users_get_nothing(
    px: Pixel, shop: Shop
) -> None:
    sleepy = shop.segment("Sleepy", state="inactive", querystring_mapping_key_value={"qs_key": "z"})
    px.sync()
    browser = px.browser()
    response = ad_call(browser, shop.placement["id"], "z=1")
    assert f"segment {sleepy['id']} is inactive" in warning_of(response)
    assert segments_of(px, browser, shop) == {}
    awake = shop.segment("Awake", querystring_mapping_key_value={"qs_key": "w"})
    px.sync()
    opted_out = px.browser()
    opted_out.set_cookie("-1")
    ad_call(opted_out, shop.placement["id"], "w=1")
    assert awake["id"] not in segments_of(px, opted_out, shop)


def test_a_re_add_by_query_string_counts_and_keeps_the_longer_expiry(px: Pixel, shop: Shop) -> None:
    cars = shop.segment(
        "Cars", expire_minutes=60, querystring_mapping={"param": "car", "values": ["ford"]}
    )
    px.sync()
    browser = px.browser()
    ad_call(browser, shop.placement["id"], "car=ford")
    ad_call(browser, shop.placement["id"], "car=ford")
    membership = segments_of(px, browser, shop)[cars["id"]]
    assert membership["count"] == 2
