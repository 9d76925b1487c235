"""What a pixel call does (SPEC §3.1, §3.4, §4; piggyback rule 2 of §1.3): domain/pixel_plan.py.

One small fixed catalog; every case names the query, the expected outcome, and the reason.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from segpixel.domain.catalog_view import CatalogView, MemberView, SegmentView, UsersyncView
from segpixel.domain.limits import USERSYNC_RESYNC_SECONDS, VALUE_MAX
from segpixel.domain.pixel import PixelCall, parse_pixel_call, parse_query
from segpixel.domain.pixel_plan import (
    Chained,
    ItemsPlan,
    Macros,
    plan_chain,
    plan_items,
    usersync_candidates,
)
from segpixel.domain.profile import Add
from segpixel.domain.segments import Piggyback

NOW = 1_700_000_000
DAY = 24 * 3600

# member 1 (active): allow-list exact + wildcard; member 2 (active); member 3 (inactive)
MEMBERS = {
    1: MemberView(1, "Acme", True, ("allowed.example", "*.wild.example"), "dongle-1"),
    2: MemberView(2, "Other", True, ("other.example",), "dongle-2"),
    3: MemberView(3, "Dormant", False, ("dormant.example",), "dongle-3"),
}
PB_IMG = Piggyback("https://pb-img.example/p.gif?u=${UID}", "img")
PB_JS1 = Piggyback("https://pb-js.example/a.js", "js")
PB_JS2 = Piggyback("https://pb-js2.example/b.js?c=${GDPR_CONSENT}", "js")
PB_M2 = Piggyback("https://m2-js.example/x.js", "js")
SEGMENTS = {
    s.id: s
    for s in (
        SegmentView(10, 1, None, "shoes", True, 60, 2, (PB_IMG,)),
        SegmentView(11, 1, 5, "Auto", True, 1440, 3, (PB_JS1, PB_JS2)),
        SegmentView(12, 1, None, "off", False, 60, 4),
        SegmentView(13, 1, None, "now", True, 0, 5),
        SegmentView(14, 1, None, "nosync", True, 60, 0),
        SegmentView(15, 1, None, None, True, 259_200, 4),
        SegmentView(20, 2, None, "shoes", True, 30, 1, (PB_M2,)),
        SegmentView(30, 3, None, "dead", True, 60, 1),
    )
}
SYNCS = {
    1: (
        UsersyncView(102, 1, "https://s102.example/js?u=${UID}", "js", 9),
        UsersyncView(103, 1, "https://s103.example/i?u=${UID}&g=${GDPR}", "img", 9),
        UsersyncView(101, 1, "https://s101.example/i?u=${UID}", "img", 5),
        UsersyncView(104, 1, "https://s104.example/i", "img", 1),
    ),
    2: (UsersyncView(201, 2, "https://s201.example/i", "img", 7),),
}
VIEW = CatalogView(
    version=1,
    segments=SEGMENTS,
    segments_by_code={(s.member_id, s.code): s for s in SEGMENTS.values() if s.code},
    members=MEMBERS,
    usersyncs=SYNCS,
)
MACROS = Macros("4242", "1", "CPabc.IGM", "99")


def call(query: str) -> PixelCall:
    return parse_pixel_call(parse_query(query.encode()))


def plan(query: str, only_member: int | None = None) -> ItemsPlan:
    return plan_items(call(query), VIEW, NOW, only_member)


def chain(
    query: str,
    syncs: dict[int, int] | None = None,
    privacy_block: str | None = None,
    macros: Macros = MACROS,
) -> tuple[Chained, ...]:
    c = call(query)
    items = plan_items(c, VIEW, NOW)
    partners = usersync_candidates(items, VIEW, syncs or {}, NOW)
    return plan_chain(c, items, VIEW, partners, macros, privacy_block)


def fired(links: tuple[Chained, ...]) -> list[tuple[str, str]]:
    return [(c.kind, c.url) for c in links if c.fired]


# --- items: accepted and rejected ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "segment_id", "code", "reason_code", "reason_has"),
    [
        pytest.param("add=999", 999, None, "unknown_segment", "unknown", id="unknown-id"),
        pytest.param("add=abc", None, None, "unknown_segment", "unknown", id="not-an-id"),
        pytest.param("add=99999999999", None, None, "unknown_segment", "unknown", id="huge-id"),
        pytest.param(
            "add_code=nope&member=1", None, "nope", "unknown_code", "nope", id="unknown-code"
        ),
        pytest.param(
            "add_code=auto&member=1", None, "auto", "unknown_code", "auto", id="code-case-sensitive"
        ),
        pytest.param(
            "add_code=dead&member=1",
            None,
            "dead",
            "unknown_code",
            "member 1",
            id="code-of-another-member",
        ),
        pytest.param("add_code=shoes", None, "shoes", "no_member", "member", id="code-no-member"),
        pytest.param(
            "remove_code=shoes", None, "shoes", "no_member", "member", id="remove-code-no-member"
        ),
        pytest.param("add=12", 12, None, "inactive_segment", "inactive", id="inactive-segment"),
        pytest.param(
            "add_code=off&member=1",
            12,
            "off",
            "inactive_segment",
            "inactive",
            id="inactive-segment-by-code",
        ),
        pytest.param("add=30", 30, None, "inactive_member", "inactive", id="inactive-member"),
        pytest.param(
            "remove=30", 30, None, "inactive_member", "inactive", id="inactive-member-remove"
        ),
        pytest.param(
            "add=10:2147483648",
            10,
            None,
            "value_too_large",
            f"value above {VALUE_MAX}",
            id="value-above-max",
        ),
        pytest.param(
            "add=10:" + "9" * 30, 10, None, "value_too_large", "value above", id="value-30-digits"
        ),
        pytest.param(
            "add=10&value=2147483648",
            10,
            None,
            "value_too_large",
            "value above",
            id="call-value-above-max",
        ),
    ],
)
def test_rejected_item_while_the_rest_proceed(
    query: str, segment_id: int | None, code: str | None, reason_code: str, reason_has: str
) -> None:
    params = parse_query(query.encode())
    params["add"] = params["add"] + ",11:1" if "add" in params else "11:1"  # a good item
    p = plan_items(parse_pixel_call(params), VIEW, NOW)
    (bad,) = [o for o in p.outcomes if not o.accepted]
    (good,) = [o for o in p.outcomes if o.accepted]
    assert (bad.segment_id, bad.code, bad.reason_code) == (segment_id, code, reason_code)
    assert reason_has in (bad.reason or "")
    assert good.accepted and good.segment_id == 11
    assert p.adds == (Add(11, NOW + 1440 * 60, 1),)
    assert p.rejected == 1


def test_accepted_add() -> None:
    p = plan("add=10:7,11&value=3")
    assert [(o.segment_id, o.action, o.accepted, o.value) for o in p.outcomes] == [
        (10, "add", True, 7),
        (11, "add", True, 3),
    ]
    assert p.adds == (Add(10, NOW + 60 * 60, 7), Add(11, NOW + 1440 * 60, 3))
    assert p.rejected == 0


@pytest.mark.parametrize(
    ("query", "value"),
    [
        pytest.param("add=10", None, id="none"),
        pytest.param("add=10:0", None, id="zero"),
        pytest.param("add=10:-4", None, id="negative"),
        pytest.param("add=10:abc", None, id="word"),
        pytest.param("add=10:", None, id="empty"),
        pytest.param("add=10:1", 1, id="min"),
        pytest.param("add=10:2147483647", VALUE_MAX, id="max"),
        pytest.param("add=10&other=8", 8, id="other"),
    ],
)
def test_value_rules_still_add(query: str, value: int | None) -> None:
    p = plan(query)
    assert p.outcomes[0].accepted
    assert p.adds == (Add(10, NOW + 3600, value),)


def test_add_by_code_names_the_code() -> None:
    p = plan("add_code=shoes:4,Auto&member=1")
    assert [(o.segment_id, o.code, o.value) for o in p.outcomes] == [
        (10, "shoes", 4),
        (11, "Auto", None),
    ]


def test_same_code_in_two_members_resolves_by_member() -> None:
    assert plan("add_code=shoes&member=2").adds == (Add(20, NOW + 30 * 60, None),)


@pytest.mark.parametrize(
    ("query", "accepted", "duplicate_at"),
    [
        pytest.param("add=10,10", [True, False], 1, id="id-twice"),
        pytest.param("add=10:1,10:2", [True, False], 1, id="id-twice-values"),
        pytest.param("add=10&add_code=shoes&member=1", [True, False], 1, id="id-and-code"),
        pytest.param("add=10,0010", [True, False], 1, id="leading-zeros"),
    ],
)
def test_duplicate_item_rejected(query: str, accepted: list[bool], duplicate_at: int) -> None:
    p = plan(query)
    assert [o.accepted for o in p.outcomes] == accepted
    assert p.outcomes[duplicate_at].reason_code == "duplicate"
    assert len(p.adds) == 1
    assert p.adds[0].value in (None, 1)  # the first one wins


def test_adds_before_removes() -> None:
    p = plan("remove=10&add=10,11")
    assert [a.segment_id for a in p.adds] == [11]
    assert p.removes == (10,)
    assert all(o.accepted for o in p.outcomes)


def test_remove_only() -> None:
    p = plan("remove=10,11&remove_code=shoes&member=2")
    assert p.adds == ()
    assert p.removes == (10, 11, 20)
    assert p.added == ()
    assert [o.action for o in p.outcomes] == ["remove"] * 3


def test_remove_of_an_inactive_segment_is_accepted() -> None:
    p = plan("remove=12")
    assert p.outcomes[0].accepted
    assert p.removes == (12,)


@pytest.mark.parametrize(
    ("query", "expires_at"),
    [
        pytest.param("add=10", NOW + 60 * 60, id="60-minutes"),
        pytest.param("add=11", NOW + 1440 * 60, id="one-day"),
        pytest.param("add=15", NOW + 259_200 * 60, id="180-days"),
    ],
)
def test_expiry(query: str, expires_at: int) -> None:
    assert plan(query).adds[0].expires_at == expires_at


def test_expire_minutes_zero_is_accepted_but_never_stored() -> None:
    p = plan("add=13,10")
    assert [o.accepted for o in p.outcomes] == [True, True]
    assert [a.segment_id for a in p.adds] == [10]
    assert [s.id for s in p.added] == [13, 10]


@pytest.mark.parametrize(
    ("query", "only_member", "accepted"),
    [
        pytest.param("add=10,20", 1, [True, False], id="member-1"),
        pytest.param("add=10,20", 2, [False, True], id="member-2"),
        pytest.param("remove=10", 2, [False], id="remove-foreign"),
        pytest.param("add=10,20", None, [True, True], id="no-restriction"),
    ],
)
def test_only_member(query: str, only_member: int | None, accepted: list[bool]) -> None:
    p = plan(query, only_member)
    assert [o.accepted for o in p.outcomes] == accepted
    for o in p.outcomes:
        if not o.accepted:
            assert o.reason_code == "foreign_segment"
            assert "another member" in (o.reason or "")


# --- usersync limit and candidates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        pytest.param("add=10", 2, id="one-segment"),
        pytest.param("add=10,11", 2, id="lowest"),
        pytest.param("add=11,13", 3, id="lowest-other-order"),
        pytest.param("add=10,14", 0, id="any-zero"),
        pytest.param("add=12,11", 3, id="rejected-add-ignored"),
        pytest.param("remove=10", 0, id="removes-only"),
        pytest.param("", 0, id="nothing"),
        pytest.param("add=999", 0, id="all-rejected"),
    ],
)
def test_usersync_limit(query: str, limit: int) -> None:
    assert plan(query).usersync_limit() == limit


@pytest.mark.parametrize(
    ("query", "syncs", "expected"),
    [
        pytest.param("add=10", {}, [102, 103, 101, 104], id="priority-desc-then-id"),
        pytest.param("add=20", {}, [201], id="member-2-only"),
        pytest.param("add=10,20", {}, [102, 103, 201, 101, 104], id="both-members"),
        pytest.param("remove=10", {}, [], id="removes-have-no-partners"),
        pytest.param("add=12", {}, [], id="rejected-add-has-no-partners"),
        pytest.param("add=10", {102: NOW - DAY}, [103, 101, 104], id="synced-a-day-ago"),
        pytest.param(
            "add=10",
            {102: NOW - USERSYNC_RESYNC_SECONDS + 1},
            [103, 101, 104],
            id="synced-just-under-7-days",
        ),
        pytest.param(
            "add=10",
            {102: NOW - USERSYNC_RESYNC_SECONDS},
            [102, 103, 101, 104],
            id="synced-exactly-7-days",
        ),
        pytest.param("add=10", {102: NOW - 30 * DAY}, [102, 103, 101, 104], id="synced-long-ago"),
        pytest.param("add=10", {102: NOW, 103: NOW, 101: NOW, 104: NOW}, [], id="all-synced-now"),
        pytest.param("add=10", {999: NOW}, [102, 103, 101, 104], id="unrelated-sync"),
    ],
)
def test_usersync_candidates(query: str, syncs: dict[int, int], expected: list[int]) -> None:
    assert [p.id for p in usersync_candidates(plan(query), VIEW, syncs, NOW)] == expected


def test_usersync_candidates_sort_even_if_the_view_is_not_sorted() -> None:
    shuffled = CatalogView(
        segments=SEGMENTS,
        members=MEMBERS,
        usersyncs={1: tuple(reversed(SYNCS[1]))},
    )
    p = plan_items(call("add=10"), shuffled, NOW)
    assert [u.id for u in usersync_candidates(p, shuffled, {}, NOW)] == [102, 103, 101, 104]


# --- the chain: image pixels ------------------------------------------------------------------

REDIR_OK = "https%3A%2F%2Fallowed.example%2Fr.gif"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            f"add=10&redir={REDIR_OK}",
            [("redir", "https://allowed.example/r.gif")],
            id="redir-first",
        ),
        pytest.param(
            "add=10",
            [("piggyback", "https://pb-img.example/p.gif?u=4242")],
            id="then-img-piggyback",
        ),
        pytest.param(
            "add=11",
            [("usersync", "https://s103.example/i?u=4242&g=1")],
            id="then-usersync-img-only",
        ),
        pytest.param("add=14", [], id="nothing-due"),
        pytest.param(
            "add=13",
            [("usersync", "https://s103.example/i?u=4242&g=1")],
            id="session-only-segment-still-syncs",
        ),
        pytest.param("remove=10", [], id="removes-chain-nothing"),
        pytest.param(
            f"add=10,11&redir={REDIR_OK}",
            [("redir", "https://allowed.example/r.gif")],
            id="many-due-one-fires",
        ),
    ],
)
def test_image_pixel_fires_at_most_one(query: str, expected: list[tuple[str, str]]) -> None:
    links = chain(query)
    assert fired(links) == expected
    for link in links:
        if not link.fired:
            assert link.reason


def test_image_pixel_skips_the_rest_with_a_reason() -> None:
    links = chain(f"add=10&redir={REDIR_OK}")
    by_kind = {c.kind: c for c in links}
    assert by_kind["redir"].fired
    assert not by_kind["piggyback"].fired
    assert "once" in (by_kind["piggyback"].reason or "")
    usersyncs = [c for c in links if c.kind == "usersync"]
    assert [c.usersync_id for c in usersyncs] == [103, 101]  # img partners only, N = 2
    assert not any(c.fired for c in usersyncs)


def test_image_pixel_never_fires_js_piggybacks() -> None:
    links = chain("add=11")
    piggybacks = [c for c in links if c.kind == "piggyback"]
    assert len(piggybacks) == 2
    for c in piggybacks:
        assert not c.fired
        assert c.reason == "an image pixel fires only img piggybacks"
    assert not any(c.usersync_id == 102 for c in links)  # a js partner cannot be a redirect


# --- the chain: JavaScript pixels -------------------------------------------------------------


def test_js_pixel_fires_everything_due() -> None:
    links = chain(f"add=11,20&t=1&redir={REDIR_OK}")
    assert fired(links) == [
        ("redir", "https://allowed.example/r.gif"),
        ("piggyback", "https://pb-js.example/a.js"),
        ("piggyback", "https://pb-js2.example/b.js?c=CPabc.IGM"),
        ("piggyback", "https://m2-js.example/x.js"),
        ("usersync", "https://s102.example/js?u=4242"),  # N = min(3, 1) = 1
    ]


@pytest.mark.parametrize(
    ("query", "usersync_ids"),
    [
        pytest.param("add=11&t=1", [102, 103, 101], id="n-3-both-kinds"),
        pytest.param("add=10&t=1", [102, 103], id="n-2"),
        pytest.param("add=10,11&t=1", [102, 103], id="lowest-n"),
        pytest.param("add=11,14&t=1", [], id="n-0"),
        pytest.param("add=15&t=1", [102, 103, 101, 104], id="n-4"),
    ],
)
def test_js_pixel_usersync_count(query: str, usersync_ids: list[int]) -> None:
    links = chain(query)
    assert [c.usersync_id for c in links if c.kind == "usersync" and c.fired] == usersync_ids
    kinds = {c.pixel_type for c in links if c.kind == "usersync"}
    assert kinds <= {"img", "js"}


def test_js_pixel_never_fires_img_piggybacks() -> None:
    links = chain("add=10&t=1")
    (piggyback,) = [c for c in links if c.kind == "piggyback"]
    assert not piggyback.fired
    assert piggyback.reason == "a JavaScript pixel fires only js piggybacks"


def test_js_pixel_usersync_skips_recently_synced_partners() -> None:
    links = chain("add=11&t=1", syncs={102: NOW - DAY, 103: NOW - 8 * DAY})
    assert [c.usersync_id for c in links if c.kind == "usersync"] == [103, 101, 104]


# --- redirect safety (SPEC §3.4) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "url", "ok", "reason_has"),
    [
        pytest.param("add=10", "https://allowed.example/x", True, None, id="exact-host"),
        pytest.param("add=10", "http://allowed.example/x", True, None, id="http"),
        pytest.param("add=10", "https://ALLOWED.Example/x", True, None, id="host-case"),
        pytest.param("add=10", "https://allowed.example:8443/x", True, None, id="port"),
        pytest.param("add=10", "https://a.wild.example/x", True, None, id="wildcard"),
        pytest.param("add=10", "https://a.b.wild.example/x", True, None, id="wildcard-deep"),
        pytest.param(
            "add=10", "https://wild.example/x", False, "allow-list", id="wildcard-not-apex"
        ),
        pytest.param(
            "add=10", "https://evilwild.example/x", False, "allow-list", id="wildcard-suffix-trick"
        ),
        pytest.param(
            "add=10",
            "https://allowed.example.evil.example/x",
            False,
            "allow-list",
            id="prefix-trick",
        ),
        pytest.param("add=10", "https://evil.example/x", False, "allow-list", id="other-host"),
        pytest.param(
            "add=10", "https://other.example/x", False, "allow-list", id="other-members-host"
        ),
        pytest.param(
            "add=10&member=2", "https://other.example/x", True, None, id="member-param-allow-list"
        ),
        pytest.param(
            "member=1", "https://allowed.example/x", True, None, id="member-param-without-items"
        ),
        pytest.param("", "https://allowed.example/x", False, "allow-list", id="no-member-known"),
        pytest.param(
            "add=999",
            "https://allowed.example/x",
            False,
            "allow-list",
            id="unknown-segment-names-no-member",
        ),
        pytest.param(
            "remove=10", "https://allowed.example/x", True, None, id="removed-segments-member"
        ),
        pytest.param("add=10", "https://pb-img.example/next", True, None, id="piggyback-host"),
        pytest.param(
            "add=11&t=1", "https://pb-js2.example/n.js", True, None, id="piggyback-host-js"
        ),
        pytest.param(
            "add=14",
            "https://pb-img.example/next",
            False,
            "allow-list",
            id="piggyback-host-of-another-segment",
        ),
        pytest.param(
            "add=30", "https://dormant.example/x", False, "allow-list", id="inactive-member"
        ),
        pytest.param("add=10", "javascript:alert(1)", False, "http(s)", id="javascript"),
        pytest.param(
            "add=10",
            "JavaScript://allowed.example/%0Aalert(1)",
            False,
            None,
            id="javascript-with-host",
        ),
        pytest.param(
            "add=10", "data:text/html,<script>alert(1)</script>", False, "http(s)", id="data"
        ),
        pytest.param("add=10", "ftp://allowed.example/x", False, "http(s)", id="ftp"),
        pytest.param("add=10", "//allowed.example/x", False, "http(s)", id="scheme-relative"),
        pytest.param("add=10", "/local", False, "http(s)", id="path-only"),
        pytest.param("add=10", "https:allowed.example", False, "http(s)", id="no-slashes"),
        pytest.param("add=10", "https://", False, "http(s)", id="no-host"),
        pytest.param("add=10", "https://[::1", False, None, id="bad-ipv6"),
        pytest.param("add=10", "https://allowed.example/a b", False, "spaces", id="space"),
        pytest.param(
            "add=10", "https://allowed.example/a\r\nSet-Cookie: x=1", False, "control", id="crlf"
        ),
        pytest.param("add=10", "https://allowed.example/a\tb", False, None, id="tab"),
        pytest.param("add=10", " https://allowed.example/", False, None, id="leading-space"),
        pytest.param(
            "add=10",
            "https://allowed.example@evil.example/",
            False,
            "allow-list",
            id="userinfo-trick",
        ),
        pytest.param(
            "add=10",
            "https://evil.example\\@allowed.example/x.js",
            False,
            None,
            id="backslash-trick",
        ),
        pytest.param(
            "add=10", "https://evil.example\\.allowed.example/", False, None, id="backslash-in-host"
        ),
    ],
)
def test_redir_safety(query: str, url: str, ok: bool, reason_has: str | None) -> None:
    c = parse_pixel_call({**parse_query(query.encode()), "redir": url})
    items = plan_items(c, VIEW, NOW)
    links = plan_chain(c, items, VIEW, [], MACROS, None)
    (redir,) = [x for x in links if x.kind == "redir"]
    assert redir.url == url
    if ok:
        assert redir.fired, redir.reason
    else:
        assert not redir.fired, (
            f"redir {url!r} must be refused (a browser would not go to an allow-listed host)"
        )
        assert redir.reason
        if reason_has:
            assert reason_has in redir.reason


@pytest.mark.parametrize(
    ("url", "pixel_type"),
    [
        pytest.param("https://allowed.example/x.js", "js", id="js"),
        pytest.param("https://allowed.example/X.JS?v=1", "js", id="js-upper-query"),
        pytest.param("https://allowed.example/x.gif", "img", id="gif"),
        pytest.param("https://allowed.example/x", "img", id="default-img"),
        pytest.param("https://allowed.example/x.json", "img", id="json-is-not-js"),
    ],
)
def test_redir_kind(url: str, pixel_type: str) -> None:
    c = parse_pixel_call({"add": "10", "t": "1", "redir": url})
    links = plan_chain(c, plan_items(c, VIEW, NOW), VIEW, [], MACROS, None)
    assert links[0].kind == "redir" and links[0].pixel_type == pixel_type and links[0].fired


def test_refused_redir_lets_the_next_pixel_redirect() -> None:
    links = chain("add=10&redir=https%3A%2F%2Fevil.example%2F")
    assert fired(links) == [("piggyback", "https://pb-img.example/p.gif?u=4242")]


# --- privacy and macros ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("add=10", id="image"),
        pytest.param("add=11,20&t=1", id="js"),
    ],
)
def test_privacy_block_stops_piggybacks_and_usersyncs(query: str) -> None:
    links = chain(query, privacy_block="opted out")
    synced = [c for c in links if c.kind in ("piggyback", "usersync")]
    assert synced
    for c in synced:
        assert not c.fired
        assert c.reason == "opted out"


def test_privacy_block_leaves_an_allowed_redir() -> None:
    links = chain(f"add=10&redir={REDIR_OK}", privacy_block="no consent")
    assert fired(links) == [("redir", "https://allowed.example/r.gif")]


@pytest.mark.parametrize(
    ("template", "macros", "expected"),
    [
        pytest.param(
            "https://s.example/a",
            Macros("1", "1", "x", "99"),
            "https://s.example/a",
            id="no-macros",
        ),
        pytest.param(
            "https://s.example/?u=${UID}&g=${GDPR}&c=${GDPR_CONSENT}",
            Macros("123", "1", "CPab-_.IG", "99"),
            "https://s.example/?u=123&g=1&c=CPab-_.IG",
            id="all",
        ),
        pytest.param(
            "https://s.example/?c=${GDPR_CONSENT}&c2=${GDPR_CONSENT}",
            Macros("1", "0", "a b&c=d/e+f?#", "99"),
            "https://s.example/?c=a%20b%26c%3Dd%2Fe%2Bf%3F%23&c2=a%20b%26c%3Dd%2Fe%2Bf%3F%23",
            id="url-encoded-twice",
        ),
        pytest.param(
            "https://s.example/?g=${GDPR}",
            Macros("1", "", "", "99"),
            "https://s.example/?g=",
            id="empty",
        ),
        pytest.param(
            "https://s.example/?u=${UID}",
            Macros("${GDPR}", "1", "", "99"),
            "https://s.example/?u=%24%7BGDPR%7D",
            id="value-with-macro-syntax-not-expanded",
        ),
        pytest.param(
            "https://s.example/?c=${GDPR_CONSENT}",
            Macros("1", "1", "\u00e9", "99"),
            "https://s.example/?c=%C3%A9",
            id="utf8",
        ),
        pytest.param(
            "https://s.example/?u=$UID&g=${GDPR_APPLIES}&c=${GDPR_CONSENT_STRING}&cb=${CACHEBUSTER}",
            Macros("123", "1", "CPab", "4711"),
            "https://s.example/?u=123&g=1&c=CPab&cb=4711",
            id="the-reference-spellings",
        ),
        pytest.param(
            "https://s.example/?a=${UID}&b=$UID&c=${GDPR_CONSENT}&d=${GDPR_CONSENT_STRING}",
            Macros("5", "1", "C", "9"),
            "https://s.example/?a=5&b=5&c=C&d=C",
            id="both-spellings-in-one-url",
        ),
        pytest.param(
            "https://s.example/?u=${uid}",
            Macros("1", "1", "", "99"),
            "https://s.example/?u=${uid}",
            id="case-sensitive",
        ),
    ],
)
def test_macros(template: str, macros: Macros, expected: str) -> None:
    assert macros.fill(template) == expected


def test_usersync_urls_are_filled_url_encoded() -> None:
    links = chain("add=11&t=1", macros=Macros("77", "1", "CP a&b", "99"))
    urls = {c.usersync_id: c.url for c in links if c.kind == "usersync"}
    assert urls[103] == "https://s103.example/i?u=77&g=1"
    pb = [c.url for c in links if c.kind == "piggyback"]
    assert parse_qs(urlsplit(pb[1]).query) == {"c": ["CP a&b"]}
